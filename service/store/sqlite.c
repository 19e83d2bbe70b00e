/*
 * The SQLite store, an adapter of the domain's port (domain/store.h): one
 * write connection behind a mutex (SQLite has a single writer anyway, and
 * holding it across the domain's read-check-write makes the seat invariants
 * hold under any concurrency), and a pool of read connections that see WAL
 * snapshots and never wait for the writer. This file holds the connections,
 * the statements, the transactions and the writer; the queries are in the
 * other sqlite_*.c files (sqlite_impl.h lists them).
 *
 * Group commit (batch.h, shared with the PostgreSQL store): write() queues
 * its function for the writer thread, which takes everything queued (up to
 * BATCH_MAX), and run_batch runs the functions inside one transaction
 * (each in its own SAVEPOINT when one fails after changing rows), commits
 * once, and then wakes the callers. One fsync then acknowledges a whole batch: under load the cost
 * of durability is shared, and a lone write still commits at once.
 *
 * Durability: journal_mode=WAL with synchronous=FULL, so COMMIT returns only
 * after the WAL is fsync'd: an acknowledged write survives kill -9 and power
 * loss. Statements are prepared once per connection and cached.
 *
 * Personal data: the contact's fields are sealed with the current vault of
 * the keystore the store borrows (see sqlite_contacts.c). A key rotation
 * replaces that vault while serving (crypto/keystore.h); whoever uses it
 * holds a lease just for the call into the vault, so the store never sees a
 * vault go away under it and never waits for a rotation.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <sodium.h>
#include <sqlite3.h>

#include "base/clock.h"
#include "base/log.h"
#include "crypto/vault.h"
#include "store/migrations.h"
#include "store/sqlite.h"
#include "store/sqlite_impl.h"

static const char *const statement_sql[ST_COUNT] = {
#define X(name, sql) [ST_##name] = sql,
        STATEMENTS(X)
#undef X
};
static const char *const statement_name[ST_COUNT] = {
#define X(name, sql) [ST_##name] = #name,
        STATEMENTS(X)
#undef X
};

static const ob_store_ops sqlite_ops;

/* The store's failures of the file system are UNAVAILABLE (or RESOURCE_EXHAUSTED for a
 * full disk) with a retry-after, not INTERNAL: a disk that fails a write or an fsync, a
 * file made read-only, a directory that cannot be opened pass when an operator mends
 * them, and the store serves again by itself (a failed commit rolls back; SQLite leaves
 * its error state with the next transaction). Such a write may still be applied: a WAL
 * whose fsync failed holds the transaction, which a restart recovers; so the domain tells
 * the caller to retry with the same idempotency-key, which then replays it. */
ob_err sq_from_sqlite(int rc)
{
	if (rc == SQLITE_IOERR_NOMEM)
		return OB_ENOMEM;
	switch (rc & 0xFF) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return OB_OK;
	case SQLITE_CONSTRAINT:
		return OB_EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
		return OB_EUNAVAIL;
	case SQLITE_FULL:
		return OB_ENOSPC;
	case SQLITE_NOMEM:
		return OB_ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return OB_ECORRUPT;
	case SQLITE_TOOBIG:
		return OB_ETOOBIG;
	default:
		return OB_EIO;
	}
}

ob_err sq_fail(sq_conn *c, int rc, const char *what)
{
	/* The message names the statement, never the bound values. */
	ob_log(OB_LOG_ERROR, "sqlite: %s: %s", what, sqlite3_errmsg(c->db));
	return sq_from_sqlite(rc);
}

sqlite3_stmt *sq_stmt(sq_conn *c, int which)
{
	sqlite3_stmt *s = c->st[which];
	if (s == NULL) {
		int rc = sqlite3_prepare_v3(c->db, statement_sql[which], -1,
		                            SQLITE_PREPARE_PERSISTENT, &s, NULL);
		if (rc != SQLITE_OK) {
			ob_log(OB_LOG_ERROR, "sqlite: cannot prepare statement %s: %s",
			       statement_name[which], sqlite3_errmsg(c->db));
			return NULL;
		}
		c->st[which] = s;
	}
	return s;
}

static void conn_close(sq_conn *c)
{
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	for (int i = 0; i <= OB_MAX_COUNTER_BATCH; i++)
		sqlite3_finalize(c->counters[i]);
	sqlite3_close_v2(c->db);
	memset(c, 0, sizeof(*c));
}

static ob_err exec(sq_conn *c, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		ob_log(OB_LOG_ERROR, "sqlite: %s", msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return sq_from_sqlite(rc);
	}
	return OB_OK;
}

/* SQLite's memory statistics take a global mutex on every allocation
 * (callgrind: a tenth of the writer's instructions went to allocations),
 * and nothing here reads them; and its small blocks are kept per thread
 * (sqlite_mem.c). Only possible before SQLite initialises:
 * when something else of the process used SQLite first, they stay on. */
static void memstatus_off(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sq_mem_install();
}

static ob_err conn_open(sq_conn *c, const char *path, bool create)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, memstatus_off);
	memset(c, 0, sizeof(*c));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		ob_log(OB_LOG_ERROR, "sqlite: cannot open %s: %s", path,
		       c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close_v2(c->db);
		c->db = NULL;
		return sq_from_sqlite(rc);
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, 5000);
	ob_err err = exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
	                     "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON; "
	                     "PRAGMA temp_store=MEMORY; PRAGMA trusted_schema=OFF;");
	/* A large cache for the one writer, which touches every index of every
	 * write; readers (one per worker) keep SQLite's 2 MiB default, so that
	 * memory does not grow with the number of workers. */
	if (err == OB_OK && create)
		err = exec(c, "PRAGMA cache_size=-32768;");
	/* SQLite opens a file it may not write read-only, and says nothing: the writer
	 * would then refuse every write for as long as the process lives, even once the file
	 * is writable again. Refuse to start instead, saying why; started again (by its
	 * supervisor) once the file is writable, onboardd serves as before. */
	if (err == OB_OK && create && sqlite3_db_readonly(c->db, "main") == 1) {
		ob_log(OB_LOG_ERROR,
		       "sqlite: cannot write %s (the file or its file system is read-only)", path);
		err = OB_EUNAVAIL;
	}
	if (err != OB_OK)
		conn_close(c);
	return err;
}

/* OB_OK when no row breaks a foreign key (PRAGMA foreign_key_check), else
 * OB_ECORRUPT, logged with the first table at fault. */
static ob_err foreign_keys_hold(sq_conn *c)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(c->db, "PRAGMA foreign_key_check", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(c, rc, "foreign_key_check");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *table = (const char *)sqlite3_column_text(s, 0);
		ob_log(OB_LOG_ERROR, "sqlite: a row of %s breaks a foreign key",
		       table != NULL ? table : "a table");
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE  ? OB_OK
	       : rc == SQLITE_ROW ? OB_ECORRUPT
	                          : sq_fail(c, rc, "foreign_key_check");
}

static ob_err migrate(sq_store *st)
{
	sq_conn *c = &st->writer;
	sqlite3_stmt *s = NULL;
	int version = 0;
	if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version > (int)ob_n_migrations) {
		ob_log(OB_LOG_ERROR,
		       "the database has schema version %d; this onboardd knows only up to %u",
		       version, ob_n_migrations);
		return OB_ECORRUPT;
	}
	size_t moved = 0; /* notes moved out of history.reason */
	for (unsigned v = (unsigned)version; v < ob_n_migrations; v++) {
		const ob_migration *m = &ob_migrations[v];
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %u;", v + 1);
		/* SQLite's procedure for a change ALTER TABLE cannot make: with
		 * foreign keys off (outside the transaction, where the pragma
		 * has an effect), rebuild, check them, commit, turn them on. */
		ob_err err = m->rebuilds ? exec(c, "PRAGMA foreign_keys=OFF") : OB_OK;
		if (err == OB_OK)
			err = exec(c, "BEGIN IMMEDIATE");
		if (err == OB_OK)
			err = exec(c, m->sql);
		if (err == OB_OK && m->then == OB_MIGRATION_SEAL_HISTORY_NOTES)
			err = sq_seal_legacy_notes(st, &moved);
		if (err == OB_OK && m->rebuilds)
			err = foreign_keys_hold(c);
		if (err == OB_OK)
			err = exec(c, pragma);
		if (err == OB_OK)
			err = exec(c, "COMMIT");
		if (err != OB_OK)
			(void)exec(c, "ROLLBACK");
		if (m->rebuilds && exec(c, "PRAGMA foreign_keys=ON") != OB_OK && err == OB_OK)
			err = OB_EIO;
		if (err != OB_OK) {
			ob_log(OB_LOG_ERROR, "migration %u failed", v + 1);
			return err;
		}
		ob_log(OB_LOG_INFO, "applied schema migration %u", v + 1);
	}
	if (moved > 0) {
		/* The rows' old pages, notes in clear, are still in the database
		 * file until a checkpoint copies the new ones over them (and
		 * secure_delete zeroes what is freed). */
		int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
		                                   NULL);
		if (rc != SQLITE_OK)
			ob_log(OB_LOG_WARN, "store: checkpoint after sealing the notes: %s",
			       sqlite3_errmsg(c->db));
		ob_log(OB_LOG_INFO, "store: %zu history notes moved out of the reasons, sealed",
		       moved);
	}
	return OB_OK;
}

static void run_batch(void *ctx, batch_req *batch);

void ob_store_sqlite_set_max_batch(ob_store *base, unsigned n)
{
	batch_set_max(&((sq_store *)base)->queue, n);
}

/* Opens the store with keys; owned: the store destroys them (also on failure). */
static ob_err open_store(ob_store **out, const char *path, ob_keystore *keys, bool owned)
{
	*out = NULL;
	if (sqlite3_threadsafe() == 0) {
		ob_log(OB_LOG_ERROR, "sqlite was built without thread support");
		if (owned)
			ob_keystore_destroy(keys);
		return OB_EINTERNAL;
	}
	sq_store *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		if (owned)
			ob_keystore_destroy(keys);
		return OB_ENOMEM;
	}
	s->base.ops = &sqlite_ops;
	s->keys = keys;
	/* Reads unwrap data keys through the keystore's cache (keystore.h). Without it
	 * (out of memory) every read unwraps, as it did before. */
	if (ob_keystore_cache_data_keys(keys) != OB_OK)
		ob_log(OB_LOG_WARN, "store: no cache of data keys (out of memory)");
	s->owned_keys = owned ? keys : NULL;
	s->lock_fd = -1;
	s->deltas = calloc(1, sizeof(*s->deltas)); /* NULL: counters as rows at once */
	pthread_mutex_init(&s->write_mu, NULL);
	pthread_mutex_init(&s->pool_mu, NULL);
	/* Before the file is opened: a second instance must not even migrate it. */
	ob_err err = sq_lock_take(path, &s->lock_fd);
	if (err == OB_OK)
		err = conn_open(&s->writer, path, true);
	struct stat st;
	if (err == OB_OK && stat(path, &st) == 0) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	if (err == OB_OK)
		err = migrate(s);
	if (err == OB_OK)
		err = batch_start(&s->queue, run_batch, s);
	if (err != OB_OK) {
		sqlite_ops.destroy(&s->base);
		return err;
	}
	*out = &s->base;
	return OB_OK;
}

ob_err ob_store_open_sqlite_keystore(ob_store **out, const char *path, ob_keystore *keys)
{
	if (keys == NULL) {
		*out = NULL;
		return OB_EINVAL;
	}
	return open_store(out, path, keys, false);
}

ob_err ob_store_open_sqlite(ob_store **out, const char *path)
{
	/* Random keys that die with the store: see store.h. */
	static const char *const kids[] = {"ephemeral"};
	uint8_t keys[1][OB_VAULT_KEY_LEN], index_key[OB_VAULT_KEY_LEN];
	ob_vault *v = NULL;
	ob_keystore *ks = NULL;
	*out = NULL;
	if (sodium_init() < 0)
		return OB_EINTERNAL;
	randombytes_buf(keys, sizeof(keys));
	randombytes_buf(index_key, sizeof(index_key));
	ob_err err = ob_vault_from_keys(kids, (const uint8_t(*)[OB_VAULT_KEY_LEN])keys, 1,
	                                index_key, &v);
	sodium_memzero(keys, sizeof(keys));
	sodium_memzero(index_key, sizeof(index_key));
	if (err == OB_OK)
		err = ob_keystore_create(v, &ks); /* takes v */
	if (err != OB_OK)
		return err;
	return open_store(out, path, ks, true);
}

static void sq_destroy(ob_store *base)
{
	sq_store *s = (sq_store *)base;
	batch_stop(&s->queue);
	if (s->careful_batches > 0)
		ob_log(OB_LOG_INFO,
		       "store: %llu batches ran again with a savepoint per write (a write "
		       "failed after changing rows)",
		       (unsigned long long)s->careful_batches);
	while (s->free_readers != NULL) {
		sq_conn *c = s->free_readers;
		s->free_readers = c->next_free;
		conn_close(c);
		free(c);
	}
	if (s->writer.db != NULL)
		conn_close(&s->writer);
	pthread_mutex_destroy(&s->write_mu);
	pthread_mutex_destroy(&s->pool_mu);
	ob_keystore_destroy(s->owned_keys);
	sq_lock_release(s->lock_fd); /* last: the file is closed */
	free(s->deltas);
	free(s->path);
	free(s);
}

static ob_err sq_begin(ob_store *base, bool write, ob_txn **out)
{
	sq_store *s = (sq_store *)base;
	*out = NULL;
	sq_txn *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return OB_ENOMEM;
	t->base.ops = &sqlite_ops;
	t->store = s;
	t->write = write;
	if (write) {
		pthread_mutex_lock(&s->write_mu);
		t->c = &s->writer;
	} else {
		pthread_mutex_lock(&s->pool_mu);
		sq_conn *c = s->free_readers;
		if (c != NULL)
			s->free_readers = c->next_free;
		pthread_mutex_unlock(&s->pool_mu);
		if (c == NULL) {
			c = calloc(1, sizeof(*c));
			ob_err err = c == NULL ? OB_ENOMEM : conn_open(c, s->path, false);
			if (err != OB_OK) {
				free(c);
				free(t);
				return err;
			}
		}
		t->c = c;
	}
	ob_err err = sq_run(t->c, write ? ST_BEGIN_WRITE : ST_BEGIN_READ, "begin");
	if (err != OB_OK) {
		if (write) {
			pthread_mutex_unlock(&s->write_mu);
		} else {
			conn_close(t->c);
			free(t->c);
		}
		free(t);
		return err;
	}
	*out = &t->base;
	return OB_OK;
}

static void release(sq_txn *t)
{
	sq_store *s = t->store;
	seal_key_forget(&t->key);
	if (t->write) {
		pthread_mutex_unlock(&s->write_mu);
	} else {
		pthread_mutex_lock(&s->pool_mu);
		t->c->next_free = s->free_readers;
		s->free_readers = t->c;
		pthread_mutex_unlock(&s->pool_mu);
	}
	free(t);
}

static ob_err sq_commit(ob_txn *base)
{
	sq_txn *t = (sq_txn *)base;
	ob_err err = sq_run(t->c, ST_COMMIT, "commit");
	if (err != OB_OK && !sqlite3_get_autocommit(t->c->db))
		(void)sq_run(t->c, ST_ROLLBACK, "rollback");
	release(t);
	return err;
}

static void sq_rollback(ob_txn *base)
{
	sq_txn *t = (sq_txn *)base;
	if (!sqlite3_get_autocommit(t->c->db))
		(void)sq_run(t->c, ST_ROLLBACK, "rollback");
	release(t);
}

/* ---- group commit --------------------------------------------------- */

static void sq_stats(ob_store *base, ob_store_stats *out)
{
	batch_stats(&((sq_store *)base)->queue, out);
}

/* The write r ended with r->result: its key is forgotten, its counters go
 * with it or stay. */
static void end_write(sq_txn *t, batch_req *r)
{
	seal_key_forget(&t->key); /* a key is kept for one write only */
	if (t->deltas != NULL)    /* its counters go with it */
		sq_deltas_end_write(t->deltas, r->result == OB_OK);
}

/* Runs the writes of batch in t's transaction without savepoints. False
 * when one failed after changing rows (or the transaction is gone): that
 * write cannot be undone alone, and the batch must run again carefully. */
static bool run_fast(sq_txn *t, batch_req *batch)
{
	sqlite3 *db = t->c->db;
	for (batch_req *r = batch; r != NULL; r = r->next) {
		sqlite3_int64 before = sqlite3_total_changes64(db);
		r->result = r->fn(&t->base, r->arg);
		end_write(t, r);
		if (r->result != OB_OK &&
		    (sqlite3_total_changes64(db) != before || sqlite3_get_autocommit(db)))
			return false;
	}
	return true;
}

/* Runs the writes of batch in t's transaction, each in its own savepoint,
 * which undoes a failed write alone. err: how the transaction began.
 * Returns what undoes the whole batch, or OB_OK. */
static ob_err run_careful(sq_txn *t, batch_req *batch, ob_err err)
{
	sq_conn *c = t->c;
	for (batch_req *r = batch; r != NULL; r = r->next) {
		if (err != OB_OK) {
			r->result = err;
			continue;
		}
		if ((r->result = sq_run(c, ST_SAVEPOINT, "savepoint")) != OB_OK)
			continue;
		r->result = r->fn(&t->base, r->arg);
		end_write(t, r);
		if (r->result != OB_OK && sq_run(c, ST_ROLLBACK_TO, "rollback to") != OB_OK)
			err = OB_EIO; /* cannot undo: give up the whole batch */
		if (sq_run(c, ST_RELEASE, "release") != OB_OK)
			err = OB_EIO;
	}
	return err;
}

/* Runs a batch of writes in one transaction. A savepoint per write is what
 * lets a failed write undo only itself, but it costs: SQLite copies every
 * page a write touches into the savepoint's journal (callgrind: a fifth of
 * the writer's instructions a Submit). Most failed writes fail before they
 * change anything (a duplicate SIREN, a closed window, a stale version), so
 * the batch first runs without savepoints; only when a write fails after
 * changing rows is the batch rolled back and run again with a savepoint per
 * write. Nobody has been answered before the commit, so running a write
 * again tells nobody anything twice. */
static void run_batch(void *ctx, batch_req *batch)
{
	sq_store *s = ctx;
	pthread_mutex_lock(&s->write_mu);
	sq_conn *c = &s->writer;
	sq_txn t = {
	        .base.ops = &sqlite_ops, .store = s, .c = c, .write = true, .deltas = s->deltas};
	ob_err err = sq_run(c, ST_BEGIN_WRITE, "begin");
	if (err == OB_OK && !run_fast(&t, batch)) {
		s->careful_batches++;
		if (!sqlite3_get_autocommit(c->db))
			(void)sq_run(c, ST_ROLLBACK, "rollback");
		if (t.deltas != NULL)
			sq_deltas_clear(t.deltas);
		err = run_careful(&t, batch, sq_run(c, ST_BEGIN_WRITE, "begin"));
	} else if (err != OB_OK) {
		err = run_careful(&t, batch, err);
	}
	/* The batch's counters, as rows, in its transaction: durable with it. */
	if (t.deltas != NULL) {
		if (err == OB_OK)
			err = sq_deltas_flush(&t, t.deltas);
		else
			sq_deltas_clear(t.deltas);
	}
	if (err == OB_OK)
		err = sq_run(c, ST_COMMIT, "commit");
	if (err != OB_OK) {
		if (!sqlite3_get_autocommit(c->db))
			(void)sq_run(c, ST_ROLLBACK, "rollback");
		for (batch_req *r = batch; r != NULL; r = r->next)
			if (r->result == OB_OK)
				r->result = err; /* nothing of the batch is durable */
	}
	pthread_mutex_unlock(&s->write_mu);
}

static ob_err sq_write(ob_store *base, ob_err (*fn)(ob_txn *t, void *arg), void *arg)
{
	return batch_write(&((sq_store *)base)->queue, fn, arg);
}

/* ---- store-wide ----------------------------------------------------- */

static ob_err sq_checkpoint(ob_store *base)
{
	sq_store *s = (sq_store *)base;
	pthread_mutex_lock(&s->write_mu);
	int log_frames = 0, done_frames = 0;
	int rc = sqlite3_wal_checkpoint_v2(s->writer.db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	                                   &log_frames, &done_frames);
	ob_err err = OB_OK;
	if (rc != SQLITE_OK) {
		ob_log(OB_LOG_WARN,
		       "store: checkpoint incomplete (%s): erased bytes may stay in the "
		       "write-ahead "
		       "log until the next checkpoint",
		       sqlite3_errmsg(s->writer.db));
		err = sq_from_sqlite(rc);
	}
	pthread_mutex_unlock(&s->write_mu);
	return err;
}

/* user_version written back as it is: page 1 changes in nothing but is written, so the
 * commit appends a WAL frame and syncs, as any write's does (store.h, touch). */
static ob_err sq_touch(ob_txn *base)
{
	sq_txn *t = (sq_txn *)base;
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(t->c->db, "PRAGMA user_version", -1, &q, NULL);
	int version = 0;
	if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		version = sqlite3_column_int(q, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_OK)
		return sq_fail(t->c, rc, "touch");
	char pragma[64];
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
	rc = sqlite3_exec(t->c->db, pragma, NULL, NULL, NULL);
	return rc == SQLITE_OK ? OB_OK : sq_fail(t->c, rc, "touch");
}

static ob_err sq_ping(ob_store *base)
{
	sq_store *s = (sq_store *)base;
	struct stat st;
	if (stat(s->path, &st) != 0) {
		ob_log(OB_LOG_DEBUG, "store: ping: %s: %s", s->path, strerror(errno));
		return errno == ENOENT || errno == EACCES ? OB_EUNAVAIL : OB_EIO;
	}
	if (st.st_dev != s->dev || st.st_ino != s->ino) {
		ob_log(OB_LOG_DEBUG, "store: ping: %s is not the file the store opened", s->path);
		return OB_EUNAVAIL;
	}
	/* A connection of its own: the pooled ones belong to their threads,
	 * and one that is already open would not notice a lost permission. */
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	sqlite3_stmt *q = NULL;
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 1000);
		rc = sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &q, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(db);
	if (rc != SQLITE_OK)
		ob_log(OB_LOG_DEBUG, "store: ping: %s",
		       db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	sqlite3_finalize(q);
	sqlite3_close_v2(db);
	if ((rc & 0xFF) == SQLITE_CANTOPEN || (rc & 0xFF) == SQLITE_PERM)
		return OB_EUNAVAIL;
	return sq_from_sqlite(rc);
}

static const ob_store_ops sqlite_ops = {
        .name = "sqlite",
        .destroy = sq_destroy,
        .begin = sq_begin,
        .write = sq_write,
        .commit = sq_commit,
        .rollback = sq_rollback,
        .cohort_get = sq_cohort_get,
        .cohort_list = sq_cohort_list,
        .cohort_insert = sq_cohort_insert,
        .cohort_set_capacity = sq_cohort_set_capacity,
        .counter_add = sq_counter_add,
        .counters_add = sq_counters_add,
        .counter_get = sq_counter_get,
        .counter_list = sq_counter_list,
        .app_insert = sq_app_insert,
        .contact_seal = sq_contact_seal,
        .contact_sealed_free = sq_contact_sealed_free,
        .app_insert_sealed = sq_app_insert_sealed,
        .app_update = sq_app_update,
        .app_get = sq_app_get,
        .app_get_by_siren = sq_app_get_by_siren,
        .app_first_waitlisted = sq_app_first_waitlisted,
        .app_waitlist_position = sq_app_waitlist_position,
        .waitlist_leave = sq_waitlist_leave,
        .app_list = sq_app_list,
        .benefits_of_siren = sq_benefits_of_siren,
        .history_append = sq_history_append,
        .history_load = sq_history_load,
        .webinar_booked = sq_webinar_booked,
        .webinar_add = sq_webinar_add,
        .booking_get = sq_booking_get,
        .booking_put = sq_booking_put,
        .booking_delete = sq_booking_delete,
        .advisors_create = sq_advisors_create,
        .advisor_insert = sq_advisor_insert,
        .advisor_get = sq_advisor_get,
        .advisor_update = sq_advisor_update,
        .advisor_list = sq_advisor_list,
        .advisor_pick = sq_advisor_pick,
        .advisor_add = sq_advisor_add,
        .idem_get = sq_idem_get,
        .idem_put = sq_idem_put,
        .idem_purge = sq_idem_purge,
        .contact_erase = sq_contact_erase,
        .apps_by_email = sq_apps_by_email,
        .rewrap_batch = sq_rewrap_batch,
        .audit_append = sq_audit_append,
        .audit_list = sq_audit_list,
        .checkpoint = sq_checkpoint,
        .touch = sq_touch,
        .ping = sq_ping,
        .stats = sq_stats,
        .email_index = sq_email_index,
        .backup = sq_backup,
};
