/*
 * The SQLite store: one write connection behind a mutex (SQLite has a single
 * writer anyway, and holding it across the domain's read-check-write makes
 * the seat invariants hold under any concurrency), and a pool of read
 * connections that see WAL snapshots and never wait for the writer.
 *
 * Group commit: write() queues its function for the writer thread, which
 * takes everything queued (up to MAX_BATCH), runs each function in its own
 * SAVEPOINT inside one transaction, commits once, and then wakes the
 * callers. One fsync then acknowledges a whole batch: under load the cost of
 * durability is shared, and a lone write still commits at once.
 *
 * Durability: journal_mode=WAL with synchronous=FULL, so COMMIT returns only
 * after the WAL is fsync'd: an acknowledged write survives kill -9 and power
 * loss. Statements are prepared once per connection and cached.
 *
 * Personal data: the contact's fields are sealed with the vault (see
 * store.h). The vault pointer can be swapped while serving (a key rotation):
 * whoever uses it holds vault_lock shared just for the call into the vault,
 * and the swap holds the write mutex and vault_lock exclusive, so that once
 * it returns the previous vault is unused and can be destroyed. Data keys
 * only live on the stack of the function that unwrapped them and are wiped
 * before it returns.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <sodium.h>
#include <sqlite3.h>

#include "base/log.h"
#include "crypto/vault.h"
#include "store/migrations.h"
#include "store/sqlite.h"

#define APP_COLUMNS                                                                                \
	"a.seq, a.id, a.cohort_id, a.state, a.version, a.siren, a.siret, a.legal_name, "           \
	"a.trade_name, a.naf, a.vat, a.employees, a.turnover_eur, a.balance_eur, a.street, "       \
	"a.postal_code, a.city, a.departement, a.region, a.channel, a.exports, a.categories, "     \
	"a.size, a.submitted_at, a.updated_at, a.rejection, a.benefits_granted, "                  \
	"a.fee_waiver_from, a.fee_waiver_until, a.fee_waiver_months, a.fee_waived_cents, "         \
	"a.ad_credit_cents, a.ad_credit_used_cents, a.webinar_at, a.advisor, "                     \
	"a.benefits_revoked, a.benefits_revoked_at, c.dk_kid, c.dk_wrapped, c.name, c.email, "     \
	"c.phone, a.wl_ticket, a.submitted_by, c.erased_at, c.erased_by "                          \
	"FROM application a JOIN contact c ON c.app_seq = a.seq "

#define COHORT_COLUMNS                                                                             \
	"id, name, capacity, window_opens, window_closes, window_enforced, lockdown_start, "       \
	"lockdown_end, fee_waiver_until, monthly_fee_cents, ad_credit_cents, webinar_hour, "       \
	"webinar_minute, webinar_seats, advisor_pool, eligible_sizes, created_at FROM cohort "

#define STATEMENTS(X)                                                                              \
	X(BEGIN_READ, "BEGIN")                                                                     \
	X(BEGIN_WRITE, "BEGIN IMMEDIATE")                                                          \
	X(COMMIT, "COMMIT")                                                                        \
	X(ROLLBACK, "ROLLBACK")                                                                    \
	X(SAVEPOINT, "SAVEPOINT w")                                                                \
	X(RELEASE, "RELEASE w")                                                                    \
	X(ROLLBACK_TO, "ROLLBACK TO w")                                                            \
	X(COHORT_GET, "SELECT " COHORT_COLUMNS "WHERE id = ?1")                                    \
	X(COHORT_LIST, "SELECT " COHORT_COLUMNS "ORDER BY id LIMIT ?1")                            \
	X(COHORT_INSERT, "INSERT INTO cohort VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "    \
	                 "?11, ?12, ?13, ?14, ?15, ?16, ?17)")                                     \
	X(COHORT_SET_CAPACITY, "UPDATE cohort SET capacity = ?2 WHERE id = ?1")                    \
	X(COUNTER_ADD, "INSERT INTO counter VALUES (?1, ?2, ?3) ON CONFLICT (cohort_id, key) "     \
	               "DO UPDATE SET count = count + excluded.count")                             \
	X(COUNTER_GET, "SELECT count FROM counter WHERE cohort_id = ?1 AND key = ?2")              \
	X(COUNTER_LIST, "SELECT key, count FROM counter WHERE cohort_id = ?1 AND "                 \
	                "substr(key, 1, length(?2)) = ?2 AND count != 0 ORDER BY key")             \
	X(APP_INSERT,                                                                              \
	  "INSERT INTO application (id, cohort_id, state, version, siren, siret, legal_name, "     \
	  "trade_name, naf, vat, employees, turnover_eur, balance_eur, street, postal_code, "      \
	  "city, departement, region, channel, exports, categories, size, submitted_at, "          \
	  "updated_at, rejection, wl_ticket, submitted_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "   \
	  "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, "    \
	  "?25, ?26, ?27)")                                                                        \
	X(CONTACT_INSERT, "INSERT INTO contact (app_seq, dk_kid, dk_wrapped, name, email, "        \
	                  "phone, email_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")               \
	X(CONTACT_ERASED_AT, "SELECT erased_at FROM contact WHERE app_seq = ?1")                   \
	X(CONTACT_ERASE, "UPDATE contact SET dk_kid = NULL, dk_wrapped = NULL, name = NULL, "      \
	                 "email = NULL, phone = NULL, email_index = NULL, erased_at = ?2, "        \
	                 "erased_by = ?3 WHERE app_seq = ?1 AND erased_at = 0")                    \
	X(HISTORY_ERASE_NOTES, "UPDATE history SET note = X'' WHERE app_seq = ?1 AND "             \
	                       "note IS NOT NULL")                                                 \
	X(CONTACT_KEY, "SELECT c.dk_kid, c.dk_wrapped, a.id FROM contact c JOIN application a "    \
	               "ON a.seq = c.app_seq WHERE c.app_seq = ?1")                                \
	X(APPS_BY_EMAIL, "SELECT " APP_COLUMNS "WHERE c.email_index = ?1 ORDER BY a.seq")          \
	X(REWRAP_SCAN, "SELECT app_seq, dk_kid, dk_wrapped FROM contact WHERE app_seq > ?1 "       \
	               "AND dk_kid IS NOT NULL AND dk_kid != ?2 ORDER BY app_seq LIMIT ?3")        \
	X(REWRAP_UPDATE, "UPDATE contact SET dk_kid = ?2, dk_wrapped = ?3 WHERE app_seq = ?1")     \
	X(AUDIT_APPEND, "INSERT INTO audit (at, event, key_id, peer, detail) "                     \
	                "VALUES (?1, ?2, ?3, ?4, ?5)")                                             \
	X(AUDIT_LIST, "SELECT seq, at, event, key_id, peer, detail FROM audit WHERE seq > ?1 "     \
	              "ORDER BY seq LIMIT ?2")                                                     \
	X(APP_UPDATE, "UPDATE application SET state = ?2, version = ?3, updated_at = ?4, "         \
	              "rejection = ?5, benefits_granted = ?6, fee_waiver_from = ?7, "              \
	              "fee_waiver_until = ?8, fee_waiver_months = ?9, fee_waived_cents = ?10, "    \
	              "ad_credit_cents = ?11, ad_credit_used_cents = ?12, webinar_at = ?13, "      \
	              "advisor = ?14, benefits_revoked = ?15, benefits_revoked_at = ?16 "          \
	              "WHERE seq = ?1")                                                            \
	X(APP_GET,                                                                                 \
	  "SELECT " APP_COLUMNS "WHERE a.id = ?1 AND (?2 IS NULL OR a.submitted_by = ?2)")         \
	X(APP_GET_SIREN, "SELECT " APP_COLUMNS "WHERE a.cohort_id = ?1 AND a.siren = ?2 AND "      \
	                 "(?3 IS NULL OR a.submitted_by = ?3)")                                    \
	X(APP_FIRST_WAITLISTED, "SELECT " APP_COLUMNS "WHERE a.cohort_id = ?1 AND a.state = ?2 "   \
	                        "ORDER BY a.seq LIMIT 1")                                          \
	X(WAITLIST_HEAD, "SELECT wl_ticket FROM application WHERE cohort_id = ?1 AND "             \
	                 "state = ?2 ORDER BY seq LIMIT 1")                                        \
	X(WAITLIST_LEFT_COUNT, "SELECT count(*) FROM waitlist_left WHERE cohort_id = ?1 AND "      \
	                       "ticket > ?2 AND ticket < ?3")                                      \
	X(WAITLIST_LEAVE, "INSERT OR IGNORE INTO waitlist_left VALUES (?1, ?2)")                   \
	X(HISTORY_APPEND, "INSERT INTO history (app_seq, n, from_state, to_state, actor, at, "     \
	                  "reason, note) VALUES (?1, coalesce(?8, (SELECT count(*) FROM history "  \
	                  "WHERE app_seq = ?1)), ?2, ?3, ?4, ?5, ?6, ?7)")                         \
	X(HISTORY_COUNT, "SELECT count(*) FROM history WHERE app_seq = ?1")                        \
	X(HISTORY_LOAD, "SELECT from_state, to_state, actor, at, reason, n, note FROM history "    \
	                "WHERE app_seq = ?1 ORDER BY n")                                           \
	X(LEGACY_NOTES, "SELECT app_seq, n, reason FROM history WHERE (app_seq, n) > (?1, ?2) "    \
	                "AND note IS NULL AND instr(reason, ': ') > 0 ORDER BY app_seq, n "        \
	                "LIMIT ?3")                                                                \
	X(HISTORY_SET_NOTE, "UPDATE history SET reason = ?3, note = ?4 WHERE app_seq = ?1 AND "    \
	                    "n = ?2")                                                              \
	X(WEBINAR_BOOKED, "SELECT booked FROM webinar WHERE cohort_id = ?1 AND session_at = ?2")   \
	X(WEBINAR_ADD, "INSERT INTO webinar VALUES (?1, ?2, ?3) ON CONFLICT (cohort_id, "          \
	               "session_at) DO UPDATE SET booked = booked + excluded.booked")              \
	X(ADVISOR_CREATE, "INSERT OR IGNORE INTO advisor VALUES (?1, ?2, 0)")                      \
	X(ADVISOR_PICK, "SELECT advisor FROM advisor WHERE cohort_id = ?1 "                        \
	                "ORDER BY load, advisor LIMIT 1")                                          \
	X(ADVISOR_ADD, "UPDATE advisor SET load = load + ?3 WHERE cohort_id = ?1 AND "             \
	               "advisor = ?2")                                                             \
	X(IDEM_GET, "SELECT i.request_hash, i.reply, i.app_seq, a.id, c.dk_kid, c.dk_wrapped "     \
	            "FROM idempotency i LEFT JOIN application a ON a.seq = i.app_seq "             \
	            "LEFT JOIN contact c ON c.app_seq = i.app_seq WHERE i.key = ?1")               \
	X(IDEM_PUT, "INSERT INTO idempotency (key, request_hash, app_seq, reply, created_at) "     \
	            "VALUES (?1, ?2, ?3, ?4, ?5)")                                                 \
	X(IDEM_FORGET_APP, "DELETE FROM idempotency WHERE app_seq = ?1 AND app_seq != 0")          \
	X(IDEM_PURGE, "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency "         \
	              "WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)")

enum {
#define X(name, sql) ST_##name,
	STATEMENTS(X)
#undef X
	        ST_COUNT
};

static const char *const statement_sql[ST_COUNT] = {
#define X(name, sql) [ST_##name] = sql,
        STATEMENTS(X)
#undef X
};

typedef struct conn {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	sqlite3_stmt *counters[OB_MAX_COUNTER_BATCH + 1]; /* multi-row upserts by row count */
	struct conn *next_free;
} conn;

enum { MAX_BATCH = 64 };

/* A queued write: the caller waits on done. */
typedef struct write_req {
	ob_err (*fn)(ob_txn *t, void *arg);
	void *arg;
	ob_err result;
	bool done;
	pthread_cond_t cv; /* its own, so that a batch wakes only its callers */
	struct write_req *next;
} write_req;

typedef struct sq_store {
	ob_store base;
	char *path;
	dev_t dev; /* the file opened at path, for ping: a file put in its place is not it */
	ino_t ino;
	pthread_mutex_t write_mu; /* held from begin(write) to commit/rollback */
	conn writer;
	pthread_mutex_t pool_mu;
	conn *free_readers; /* at most one per thread that ever read */

	pthread_mutex_t queue_mu; /* guards the queue and stopping */
	pthread_cond_t queue_cv;  /* work for the writer */
	write_req *head, *tail;
	bool stopping;
	bool writer_started;
	uint64_t n_writes, n_batches; /* for the log at close: the batching achieved */
	unsigned max_batch;
	pthread_t writer_thread;

	/* The vault: borrowed (open_sqlite_vault, set_vault) or owned_vault. */
	pthread_rwlock_t vault_lock; /* shared while calling into vault; exclusive to swap it */
	ob_vault *vault;
	ob_vault *owned_vault; /* the throwaway of ob_store_open_sqlite, destroyed with the store */
} sq_store;

typedef struct sq_txn {
	ob_txn base;
	sq_store *store;
	conn *c;
	bool write;
} sq_txn;

static const ob_store_ops sqlite_ops;

/* The one translation of SQLite result codes. */
static ob_err from_sqlite(int rc)
{
	switch (rc & 0xFF) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return OB_OK;
	case SQLITE_CONSTRAINT:
		return OB_EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return OB_EUNAVAIL;
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

static ob_err fail(conn *c, int rc, const char *what)
{
	/* The message names the statement, never the bound values. */
	ob_log(OB_LOG_ERROR, "sqlite: %s: %s", what, sqlite3_errmsg(c->db));
	return from_sqlite(rc);
}

static sqlite3_stmt *stmt(conn *c, int which)
{
	sqlite3_stmt *s = c->st[which];
	if (s == NULL) {
		int rc = sqlite3_prepare_v3(c->db, statement_sql[which], -1,
		                            SQLITE_PREPARE_PERSISTENT, &s, NULL);
		if (rc != SQLITE_OK) {
			ob_log(OB_LOG_ERROR, "sqlite: cannot prepare statement %d: %s", which,
			       sqlite3_errmsg(c->db));
			return NULL;
		}
		c->st[which] = s;
	}
	return s;
}

static void conn_close(conn *c)
{
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	for (int i = 0; i <= OB_MAX_COUNTER_BATCH; i++)
		sqlite3_finalize(c->counters[i]);
	sqlite3_close_v2(c->db);
	memset(c, 0, sizeof(*c));
}

static ob_err exec(conn *c, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		ob_log(OB_LOG_ERROR, "sqlite: %s", msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return from_sqlite(rc);
	}
	return OB_OK;
}

static ob_err conn_open(conn *c, const char *path, bool create)
{
	memset(c, 0, sizeof(*c));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		ob_log(OB_LOG_ERROR, "sqlite: cannot open %s: %s", path,
		       c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close_v2(c->db);
		c->db = NULL;
		return from_sqlite(rc);
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
	if (err != OB_OK)
		conn_close(c);
	return err;
}

static ob_err seal_legacy_notes(sq_store *st, size_t *moved);

static ob_err migrate(sq_store *st)
{
	conn *c = &st->writer;
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
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %u;", v + 1);
		ob_err err = exec(c, "BEGIN IMMEDIATE");
		if (err == OB_OK)
			err = exec(c, ob_migrations[v].sql);
		if (err == OB_OK && ob_migrations[v].then == OB_MIGRATION_SEAL_HISTORY_NOTES)
			err = seal_legacy_notes(st, &moved);
		if (err == OB_OK)
			err = exec(c, pragma);
		if (err == OB_OK)
			err = exec(c, "COMMIT");
		if (err != OB_OK) {
			(void)exec(c, "ROLLBACK");
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

static void *writer_main(void *arg);

void ob_store_sqlite_set_max_batch(ob_store *base, unsigned n)
{
	sq_store *s = (sq_store *)base;
	pthread_mutex_lock(&s->queue_mu);
	s->max_batch = n == 0 ? 1 : n > MAX_BATCH ? MAX_BATCH : n;
	pthread_mutex_unlock(&s->queue_mu);
}

/* Opens the store with vault; owned: the store destroys it (also on failure). */
static ob_err open_store(ob_store **out, const char *path, ob_vault *vault, bool owned)
{
	*out = NULL;
	if (sqlite3_threadsafe() == 0) {
		ob_log(OB_LOG_ERROR, "sqlite was built without thread support");
		if (owned)
			ob_vault_destroy(vault);
		return OB_EINTERNAL;
	}
	sq_store *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		if (owned)
			ob_vault_destroy(vault);
		return OB_ENOMEM;
	}
	s->base.ops = &sqlite_ops;
	s->max_batch = MAX_BATCH;
	s->vault = vault;
	s->owned_vault = owned ? vault : NULL;
	pthread_rwlock_init(&s->vault_lock, NULL);
	pthread_mutex_init(&s->write_mu, NULL);
	pthread_mutex_init(&s->pool_mu, NULL);
	pthread_mutex_init(&s->queue_mu, NULL);
	pthread_cond_init(&s->queue_cv, NULL);
	ob_err err = conn_open(&s->writer, path, true);
	struct stat st;
	if (err == OB_OK && stat(path, &st) == 0) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	if (err == OB_OK)
		err = migrate(s);
	if (err == OB_OK) {
		if (pthread_create(&s->writer_thread, NULL, writer_main, s) == 0)
			s->writer_started = true;
		else
			err = OB_ENOMEM;
	}
	if (err != OB_OK) {
		sqlite_ops.destroy(&s->base);
		return err;
	}
	*out = &s->base;
	return OB_OK;
}

ob_err ob_store_open_sqlite_vault(ob_store **out, const char *path, ob_vault *vault)
{
	if (vault == NULL) {
		*out = NULL;
		return OB_EINVAL;
	}
	return open_store(out, path, vault, false);
}

ob_err ob_store_open_sqlite(ob_store **out, const char *path)
{
	/* Random keys that die with the store: see store.h. */
	static const char *const kids[] = {"ephemeral"};
	uint8_t keys[1][OB_VAULT_KEY_LEN], index_key[OB_VAULT_KEY_LEN];
	ob_vault *v = NULL;
	*out = NULL;
	if (sodium_init() < 0)
		return OB_EINTERNAL;
	randombytes_buf(keys, sizeof(keys));
	randombytes_buf(index_key, sizeof(index_key));
	ob_err err = ob_vault_from_keys(kids, (const uint8_t(*)[OB_VAULT_KEY_LEN])keys, 1,
	                                index_key, &v);
	sodium_memzero(keys, sizeof(keys));
	sodium_memzero(index_key, sizeof(index_key));
	if (err != OB_OK)
		return err;
	return open_store(out, path, v, true);
}

static void sq_destroy(ob_store *base)
{
	sq_store *s = (sq_store *)base;
	pthread_mutex_lock(&s->queue_mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->queue_cv);
	pthread_mutex_unlock(&s->queue_mu);
	if (s->writer_started) {
		pthread_join(s->writer_thread, NULL);
		if (s->n_batches > 0)
			ob_log(OB_LOG_INFO, "store: %llu writes in %llu commits (%.1f per commit)",
			       (unsigned long long)s->n_writes, (unsigned long long)s->n_batches,
			       (double)s->n_writes / (double)s->n_batches);
	}
	pthread_mutex_destroy(&s->queue_mu);
	pthread_cond_destroy(&s->queue_cv);
	while (s->free_readers != NULL) {
		conn *c = s->free_readers;
		s->free_readers = c->next_free;
		conn_close(c);
		free(c);
	}
	if (s->writer.db != NULL)
		conn_close(&s->writer);
	pthread_mutex_destroy(&s->write_mu);
	pthread_mutex_destroy(&s->pool_mu);
	pthread_rwlock_destroy(&s->vault_lock);
	ob_vault_destroy(s->owned_vault);
	free(s->path);
	free(s);
}

static ob_err step_done(conn *c, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return fail(c, rc, what);
	return OB_OK;
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
		conn *c = s->free_readers;
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
	sqlite3_stmt *st = stmt(t->c, write ? ST_BEGIN_WRITE : ST_BEGIN_READ);
	ob_err err = st == NULL ? OB_EIO : step_done(t->c, st, "begin");
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
	sqlite3_stmt *st = stmt(t->c, ST_COMMIT);
	ob_err err = st == NULL ? OB_EIO : step_done(t->c, st, "commit");
	if (err != OB_OK && !sqlite3_get_autocommit(t->c->db)) {
		sqlite3_stmt *rb = stmt(t->c, ST_ROLLBACK);
		if (rb != NULL)
			(void)step_done(t->c, rb, "rollback");
	}
	release(t);
	return err;
}

static void sq_rollback(ob_txn *base)
{
	sq_txn *t = (sq_txn *)base;
	if (!sqlite3_get_autocommit(t->c->db)) {
		sqlite3_stmt *st = stmt(t->c, ST_ROLLBACK);
		if (st != NULL)
			(void)step_done(t->c, st, "rollback");
	}
	release(t);
}

/* ---- group commit --------------------------------------------------- */

static ob_err run_stmt(conn *c, int which, const char *what)
{
	sqlite3_stmt *st = stmt(c, which);
	return st == NULL ? OB_EIO : step_done(c, st, what);
}

/* Runs a batch of writes in one transaction, each in its own savepoint. */
static void run_batch(sq_store *s, write_req *batch)
{
	pthread_mutex_lock(&s->write_mu);
	conn *c = &s->writer;
	sq_txn t = {.base.ops = &sqlite_ops, .store = s, .c = c, .write = true};
	ob_err err = run_stmt(c, ST_BEGIN_WRITE, "begin");
	for (write_req *r = batch; r != NULL; r = r->next) {
		if (err != OB_OK) {
			r->result = err;
			continue;
		}
		if ((r->result = run_stmt(c, ST_SAVEPOINT, "savepoint")) != OB_OK)
			continue;
		r->result = r->fn(&t.base, r->arg);
		if (r->result != OB_OK && run_stmt(c, ST_ROLLBACK_TO, "rollback to") != OB_OK)
			err = OB_EIO; /* cannot undo: give up the whole batch */
		if (run_stmt(c, ST_RELEASE, "release") != OB_OK)
			err = OB_EIO;
	}
	if (err == OB_OK)
		err = run_stmt(c, ST_COMMIT, "commit");
	if (err != OB_OK) {
		if (!sqlite3_get_autocommit(c->db))
			(void)run_stmt(c, ST_ROLLBACK, "rollback");
		for (write_req *r = batch; r != NULL; r = r->next)
			if (r->result == OB_OK)
				r->result = err; /* nothing of the batch is durable */
	}
	pthread_mutex_unlock(&s->write_mu);
}

static void *writer_main(void *arg)
{
	sq_store *s = arg;
	pthread_mutex_lock(&s->queue_mu);
	for (;;) {
		while (s->head == NULL && !s->stopping)
			pthread_cond_wait(&s->queue_cv, &s->queue_mu);
		if (s->head == NULL)
			break;
		write_req *batch = s->head, *last = batch;
		for (unsigned n = 1; last->next != NULL && n < s->max_batch; n++)
			last = last->next;
		s->head = last->next;
		if (s->head == NULL)
			s->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->queue_mu);

		run_batch(s, batch);

		pthread_mutex_lock(&s->queue_mu);
		s->n_batches++;
		for (write_req *r = batch, *next; r != NULL; r = next) {
			next = r->next; /* r belongs to its waiter once done is set */
			r->done = true;
			s->n_writes++;
			pthread_cond_signal(&r->cv);
		}
	}
	pthread_mutex_unlock(&s->queue_mu);
	return NULL;
}

static ob_err sq_write(ob_store *base, ob_err (*fn)(ob_txn *t, void *arg), void *arg)
{
	sq_store *s = (sq_store *)base;
	write_req r = {.fn = fn, .arg = arg};
	pthread_cond_init(&r.cv, NULL);
	pthread_mutex_lock(&s->queue_mu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->queue_mu);
		pthread_cond_destroy(&r.cv);
		return OB_EUNAVAIL;
	}
	if (s->tail != NULL)
		s->tail->next = &r;
	else
		s->head = &r;
	s->tail = &r;
	pthread_cond_signal(&s->queue_cv);
	while (!r.done)
		pthread_cond_wait(&r.cv, &s->queue_mu);
	pthread_mutex_unlock(&s->queue_mu);
	pthread_cond_destroy(&r.cv);
	return r.result;
}

/* ---- helpers -------------------------------------------------------- */

#define PREP(t, which)                                                                             \
	sqlite3_stmt *s = stmt((t)->c, (which));                                                   \
	if (s == NULL)                                                                             \
		return OB_EIO;

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static void col_text(sqlite3_stmt *s, int i, char *out, size_t n)
{
	const unsigned char *v = sqlite3_column_text(s, i);
	size_t len = v != NULL ? (size_t)sqlite3_column_bytes(s, i) : 0;
	if (len >= n) {
		/* Not with values this service wrote; but a row changed by hand
		 * must not put half a character into a reply. */
		len = n - 1;
		while (len > 0 && (v[len] & 0xC0) == 0x80)
			len--;
	}
	if (len > 0)
		memcpy(out, v, len);
	out[len] = '\0';
}

/* ---- cohorts -------------------------------------------------------- */

static void read_cohort(sqlite3_stmt *s, ob_cohort *c)
{
	memset(c, 0, sizeof(*c));
	col_text(s, 0, c->id, sizeof(c->id));
	col_text(s, 1, c->name, sizeof(c->name));
	c->capacity = (uint32_t)sqlite3_column_int64(s, 2);
	c->window_opens_ms = sqlite3_column_int64(s, 3);
	c->window_closes_ms = sqlite3_column_int64(s, 4);
	c->window_enforced = sqlite3_column_int(s, 5) != 0;
	col_text(s, 6, c->lockdown_start, sizeof(c->lockdown_start));
	col_text(s, 7, c->lockdown_end, sizeof(c->lockdown_end));
	col_text(s, 8, c->fee_waiver_until, sizeof(c->fee_waiver_until));
	c->monthly_fee_cents = sqlite3_column_int64(s, 9);
	c->ad_credit_cents = sqlite3_column_int64(s, 10);
	c->webinar_hour = (uint32_t)sqlite3_column_int(s, 11);
	c->webinar_minute = (uint32_t)sqlite3_column_int(s, 12);
	c->webinar_seats = (uint32_t)sqlite3_column_int(s, 13);
	c->advisor_pool = (uint32_t)sqlite3_column_int(s, 14);
	c->eligible_sizes = (uint32_t)sqlite3_column_int(s, 15);
	c->created_at_ms = sqlite3_column_int64(s, 16);
}

static ob_err sq_cohort_get(ob_txn *base, const char *id, ob_cohort *out)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_COHORT_GET);
	bind_text(s, 1, id);
	int rc = sqlite3_step(s);
	ob_err err = OB_OK;
	if (rc == SQLITE_ROW)
		read_cohort(s, out);
	else if (rc == SQLITE_DONE)
		err = OB_ENOTFOUND;
	else
		err = fail(t->c, rc, "cohort_get");
	sqlite3_reset(s);
	return err;
}

static ob_err sq_cohort_list(ob_txn *base, ob_cohort *out, size_t max, size_t *n)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_COHORT_LIST);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
	*n = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max)
		read_cohort(s, &out[(*n)++]);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? OB_OK : fail(t->c, rc, "cohort_list");
}

static ob_err sq_cohort_insert(ob_txn *base, const ob_cohort *c)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_COHORT_INSERT);
	bind_text(s, 1, c->id);
	bind_text(s, 2, c->name);
	sqlite3_bind_int64(s, 3, c->capacity);
	sqlite3_bind_int64(s, 4, c->window_opens_ms);
	sqlite3_bind_int64(s, 5, c->window_closes_ms);
	sqlite3_bind_int(s, 6, c->window_enforced);
	bind_text(s, 7, c->lockdown_start);
	bind_text(s, 8, c->lockdown_end);
	bind_text(s, 9, c->fee_waiver_until);
	sqlite3_bind_int64(s, 10, c->monthly_fee_cents);
	sqlite3_bind_int64(s, 11, c->ad_credit_cents);
	sqlite3_bind_int64(s, 12, c->webinar_hour);
	sqlite3_bind_int64(s, 13, c->webinar_minute);
	sqlite3_bind_int64(s, 14, c->webinar_seats);
	sqlite3_bind_int64(s, 15, c->advisor_pool);
	sqlite3_bind_int64(s, 16, c->eligible_sizes);
	sqlite3_bind_int64(s, 17, c->created_at_ms);
	return step_done(t->c, s, "cohort_insert");
}

static ob_err sq_cohort_set_capacity(ob_txn *base, const char *id, uint32_t capacity)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_COHORT_SET_CAPACITY);
	bind_text(s, 1, id);
	sqlite3_bind_int64(s, 2, capacity);
	ob_err err = step_done(t->c, s, "cohort_set_capacity");
	if (err == OB_OK && sqlite3_changes(t->c->db) == 0)
		err = OB_ENOTFOUND;
	return err;
}

/* ---- counters ------------------------------------------------------- */

static ob_err sq_counter_add(ob_txn *base, const char *cohort, const char *key, int64_t delta)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_COUNTER_ADD);
	bind_text(s, 1, cohort);
	bind_text(s, 2, key);
	sqlite3_bind_int64(s, 3, delta);
	return step_done(t->c, s, "counter_add");
}

/* One statement for n counters: one VM run and one statement journal
 * instead of n (the difference shows in a profile of Submit). */
static ob_err sq_counters_add(ob_txn *base, const char *cohort, const ob_counter *d, size_t n)
{
	sq_txn *t = (sq_txn *)base;
	if (n == 0)
		return OB_OK;
	if (n > OB_MAX_COUNTER_BATCH)
		return OB_EINVAL;
	sqlite3_stmt *s = t->c->counters[n];
	if (s == NULL) {
		char sql[1024];
		int len = snprintf(sql, sizeof(sql), "INSERT INTO counter VALUES ");
		for (size_t i = 0; i < n; i++)
			len += snprintf(sql + len, sizeof(sql) - (size_t)len, "%s(?1, ?%zu, ?%zu)",
			                i > 0 ? ", " : "", 2 + 2 * i, 3 + 2 * i);
		snprintf(sql + len, sizeof(sql) - (size_t)len,
		         " ON CONFLICT (cohort_id, key) DO UPDATE SET count = count + "
		         "excluded.count");
		int rc = sqlite3_prepare_v3(t->c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
		if (rc != SQLITE_OK)
			return fail(t->c, rc, "counters_add prepare");
		t->c->counters[n] = s;
	}
	bind_text(s, 1, cohort);
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(s, (int)(2 + 2 * i), d[i].key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, (int)(3 + 2 * i), d[i].count);
	}
	return step_done(t->c, s, "counters_add");
}

static ob_err sq_counter_get(ob_txn *base, const char *cohort, const char *key, int64_t *out)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_COUNTER_GET);
	bind_text(s, 1, cohort);
	bind_text(s, 2, key);
	int rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? OB_OK : fail(t->c, rc, "counter_get");
}

static ob_err sq_counter_list(ob_txn *base, const char *cohort, const char *prefix,
                              ob_counter **out, size_t *n)
{
	sq_txn *t = (sq_txn *)base;
	*out = NULL;
	*n = 0;
	PREP(t, ST_COUNTER_LIST);
	bind_text(s, 1, cohort);
	bind_text(s, 2, prefix);
	size_t cap = 0;
	int rc;
	ob_err err = OB_OK;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap * 2 + 16;
			ob_counter *g = realloc(*out, cap * sizeof(**out));
			if (g == NULL) {
				err = OB_ENOMEM;
				break;
			}
			*out = g;
		}
		col_text(s, 0, (*out)[*n].key, sizeof((*out)[*n].key));
		(*out)[*n].count = sqlite3_column_int64(s, 1);
		(*n)++;
	}
	if (err == OB_OK && rc != SQLITE_DONE)
		err = fail(t->c, rc, "counter_list");
	sqlite3_reset(s);
	if (err != OB_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return err;
}

/* ---- personal data -------------------------------------------------- */

/* The three sealed fields: the name each is bound to (the associated data)
 * and where it goes in ob_contact. */
static const char *const contact_fields[3] = {"name", "email", "phone"};
enum { F_NAME, F_EMAIL, F_PHONE };

static char *contact_field(ob_contact *c, int f, size_t *cap)
{
	switch (f) {
	case F_NAME:
		*cap = sizeof(c->name);
		return c->name;
	case F_EMAIL:
		*cap = sizeof(c->email);
		return c->email;
	default:
		*cap = sizeof(c->phone);
		return c->phone;
	}
}

/* A key id read from a row, fit for the log: a damaged row could hold anything. */
static const char *loggable_kid(const char *kid)
{
	size_t n = kid != NULL ? strspn(kid, "abcdefghijklmnopqrstuvwxyz0123456789-") : 0;
	return n > 0 && n <= OB_VAULT_KID_MAX && kid[n] == '\0' ? kid : "(not a key id)";
}

/* Unwraps a stored data key. OB_ENOTFOUND: the vault has no master key kid
 * (callers report it as OB_ECORRUPT: for this row, as bad as damage). */
static ob_err vault_unwrap(sq_store *s, const char *kid, const void *wrapped, int len,
                           uint8_t dk[OB_VAULT_KEY_LEN])
{
	if (kid == NULL || wrapped == NULL || len <= 0) {
		sodium_memzero(dk, OB_VAULT_KEY_LEN);
		return OB_ECORRUPT;
	}
	pthread_rwlock_rdlock(&s->vault_lock);
	ob_err err = ob_vault_unwrap(s->vault, kid, wrapped, (size_t)len, dk);
	pthread_rwlock_unlock(&s->vault_lock);
	return err;
}

/* Columns 37-45 of APP_COLUMNS into a's contact: decrypted, erased, or
 * marked unreadable (logged with the seq, never with a value). */
static void read_contact(sq_store *st, sqlite3_stmt *s, ob_application *a)
{
	a->contact_erased_at_ms = sqlite3_column_int64(s, 44);
	col_text(s, 45, a->contact_erased_by, sizeof(a->contact_erased_by));
	if (a->contact_erased_at_ms != 0) {
		a->contact_erased = true;
		return;
	}
	uint8_t dk[OB_VAULT_KEY_LEN];
	const char *failed = "data key";
	const char *kid = (const char *)sqlite3_column_text(s, 37);
	ob_err err =
	        vault_unwrap(st, kid, sqlite3_column_blob(s, 38), sqlite3_column_bytes(s, 38), dk);
	if (err == OB_ENOTFOUND) {
		sodium_memzero(&a->contact, sizeof(a->contact));
		a->contact_unreadable = true;
		ob_log(OB_LOG_ERROR,
		       "store: the contact of application seq %lld cannot be decrypted: its master "
		       "key %s is not in the key file",
		       (long long)a->seq, loggable_kid(kid));
		return;
	}
	for (int f = 0; err == OB_OK && f < 3; f++) {
		size_t cap, len;
		char *out = contact_field(&a->contact, f, &cap);
		const void *ct = sqlite3_column_blob(s, 39 + f);
		int n = sqlite3_column_bytes(s, 39 + f);
		err = ob_vault_unseal(dk, a->id, contact_fields[f], ct, n > 0 ? (size_t)n : 0, out,
		                      cap, &len);
		if ((err == OB_OK && strlen(out) != len) || err == OB_ETOOBIG)
			err = OB_ECORRUPT; /* a NUL inside, or too long: never written so */
		if (err != OB_OK)
			failed = contact_fields[f];
	}
	sodium_memzero(dk, sizeof(dk));
	if (err != OB_OK) {
		sodium_memzero(&a->contact, sizeof(a->contact));
		a->contact_unreadable = true;
		ob_log(OB_LOG_ERROR,
		       "store: the contact of application seq %lld cannot be decrypted (%s: %s)",
		       (long long)a->seq, failed, ob_strerror(err));
	}
}

/* The sealed contact of a new application, ready to bind. */
typedef struct sealed_contact {
	char kid[OB_VAULT_KID_SIZE];
	uint8_t wrapped[OB_VAULT_WRAPPED_LEN];
	size_t wrapped_len;
	uint8_t ct[3][OB_EMAIL_MAX + 1 + OB_VAULT_SEAL_OVERHEAD];
	size_t ct_len[3];
	uint8_t index[OB_VAULT_INDEX_LEN];
} sealed_contact;

_Static_assert((int)OB_EMAIL_MAX >= (int)OB_NAME_MAX &&
                       (int)OB_EMAIL_MAX >= (int)OB_FR_PHONE_STR_SIZE,
               "sealed_contact.ct holds the longest field");
_Static_assert((int)OB_STORE_INDEX_LEN == (int)OB_VAULT_INDEX_LEN, "blind index length");

static ob_err seal_contact(sq_store *st, const ob_application *a, sealed_contact *out)
{
	uint8_t dk[OB_VAULT_KEY_LEN];
	pthread_rwlock_rdlock(&st->vault_lock);
	ob_err err =
	        ob_vault_new_data_key(st->vault, dk, out->wrapped, &out->wrapped_len, out->kid);
	if (err == OB_OK)
		ob_vault_blind_index(st->vault, a->contact.email, out->index);
	pthread_rwlock_unlock(&st->vault_lock);
	ob_contact c = a->contact; /* a copy, to reach the fields by number */
	for (int f = 0; err == OB_OK && f < 3; f++) {
		size_t cap;
		const char *plain = contact_field(&c, f, &cap);
		err = ob_vault_seal(dk, a->id, contact_fields[f], plain, strnlen(plain, cap),
		                    out->ct[f], sizeof(out->ct[f]), &out->ct_len[f]);
	}
	sodium_memzero(dk, sizeof(dk));
	sodium_memzero(&c, sizeof(c));
	return err;
}

/* The data key and id of application seq, for sealing what else shows its
 * contact. OB_ENOTFOUND when the contact is erased (or missing). */
static ob_err app_data_key(sq_txn *t, int64_t seq, uint8_t dk[OB_VAULT_KEY_LEN],
                           char id[OB_ID_LEN + 1])
{
	PREP(t, ST_CONTACT_KEY);
	sqlite3_bind_int64(s, 1, seq);
	int rc = sqlite3_step(s);
	ob_err err = OB_OK;
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_NULL) {
		err = OB_ENOTFOUND;
	} else if (rc == SQLITE_ROW) {
		col_text(s, 2, id, OB_ID_LEN + 1);
		err = vault_unwrap(t->store, (const char *)sqlite3_column_text(s, 0),
		                   sqlite3_column_blob(s, 1), sqlite3_column_bytes(s, 1), dk);
		if (err == OB_ENOTFOUND)
			err = OB_ECORRUPT; /* the master key is missing, not the contact */
	} else if (rc == SQLITE_DONE) {
		err = OB_ENOTFOUND;
	} else {
		err = fail(t->c, rc, "contact_key");
	}
	sqlite3_reset(s);
	return err;
}

/* ---- applications --------------------------------------------------- */

static void read_app(sq_store *st, sqlite3_stmt *s, ob_application *a)
{
	memset(a, 0, sizeof(*a));
	a->seq = sqlite3_column_int64(s, 0);
	col_text(s, 1, a->id, sizeof(a->id));
	col_text(s, 2, a->cohort_id, sizeof(a->cohort_id));
	a->state = (ob_state)sqlite3_column_int(s, 3);
	a->version = (uint64_t)sqlite3_column_int64(s, 4);
	ob_company *c = &a->company;
	col_text(s, 5, c->siren, sizeof(c->siren));
	col_text(s, 6, c->siret, sizeof(c->siret));
	col_text(s, 7, c->legal_name, sizeof(c->legal_name));
	col_text(s, 8, c->trade_name, sizeof(c->trade_name));
	col_text(s, 9, c->naf, sizeof(c->naf));
	col_text(s, 10, c->vat, sizeof(c->vat));
	c->employees = (uint32_t)sqlite3_column_int64(s, 11);
	c->turnover_eur = sqlite3_column_int64(s, 12);
	c->balance_eur = sqlite3_column_int64(s, 13);
	col_text(s, 14, c->address.street, sizeof(c->address.street));
	col_text(s, 15, c->address.postal_code, sizeof(c->address.postal_code));
	col_text(s, 16, c->address.city, sizeof(c->address.city));
	col_text(s, 17, c->address.departement, sizeof(c->address.departement));
	col_text(s, 18, c->address.region, sizeof(c->address.region));
	a->channel = (ob_channel)sqlite3_column_int(s, 19);
	a->exports = sqlite3_column_int(s, 20) != 0;
	/* Categories are stored joined by newlines (they cannot hold one). */
	const char *cats = (const char *)sqlite3_column_text(s, 21);
	while (cats != NULL && *cats != '\0' && a->n_categories < OB_MAX_CATEGORIES) {
		size_t len = strcspn(cats, "\n");
		snprintf(a->categories[a->n_categories++], OB_CATEGORY_MAX + 1, "%.*s", (int)len,
		         cats);
		cats += len + (cats[len] == '\n');
	}
	a->size = (ob_size_category)sqlite3_column_int(s, 22);
	a->submitted_at_ms = sqlite3_column_int64(s, 23);
	a->updated_at_ms = sqlite3_column_int64(s, 24);
	a->rejection = (ob_rejection)sqlite3_column_int(s, 25);
	ob_benefits *b = &a->benefits;
	b->granted = sqlite3_column_int(s, 26) != 0;
	col_text(s, 27, b->fee_waiver_from, sizeof(b->fee_waiver_from));
	col_text(s, 28, b->fee_waiver_until, sizeof(b->fee_waiver_until));
	b->fee_waiver_months = (uint32_t)sqlite3_column_int64(s, 29);
	b->fee_waived_cents = sqlite3_column_int64(s, 30);
	b->ad_credit_cents = sqlite3_column_int64(s, 31);
	b->ad_credit_used_cents = sqlite3_column_int64(s, 32);
	b->webinar_at_ms = sqlite3_column_int64(s, 33);
	b->advisor = (uint32_t)sqlite3_column_int64(s, 34);
	b->revoked = sqlite3_column_int(s, 35) != 0;
	b->revoked_at_ms = sqlite3_column_int64(s, 36);
	a->waitlist_ticket = sqlite3_column_int64(s, 42);
	col_text(s, 43, a->submitted_by, sizeof(a->submitted_by));
	read_contact(st, s, a);
}

static ob_err sq_app_insert(ob_txn *base, ob_application *a)
{
	sq_txn *t = (sq_txn *)base;
	char cats[OB_MAX_CATEGORIES * (OB_CATEGORY_MAX + 1) + 1] = "";
	size_t off = 0;
	for (size_t i = 0; i < a->n_categories; i++)
		off += (size_t)snprintf(cats + off, sizeof(cats) - off, "%s%s", i > 0 ? "\n" : "",
		                        a->categories[i]);
	const ob_company *c = &a->company;
	{
		PREP(t, ST_APP_INSERT);
		bind_text(s, 1, a->id);
		bind_text(s, 2, a->cohort_id);
		sqlite3_bind_int(s, 3, (int)a->state);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)a->version);
		bind_text(s, 5, c->siren);
		bind_text(s, 6, c->siret);
		bind_text(s, 7, c->legal_name);
		bind_text(s, 8, c->trade_name);
		bind_text(s, 9, c->naf);
		bind_text(s, 10, c->vat);
		sqlite3_bind_int64(s, 11, c->employees);
		sqlite3_bind_int64(s, 12, c->turnover_eur);
		sqlite3_bind_int64(s, 13, c->balance_eur);
		bind_text(s, 14, c->address.street);
		bind_text(s, 15, c->address.postal_code);
		bind_text(s, 16, c->address.city);
		bind_text(s, 17, c->address.departement);
		bind_text(s, 18, c->address.region);
		sqlite3_bind_int(s, 19, (int)a->channel);
		sqlite3_bind_int(s, 20, a->exports);
		bind_text(s, 21, cats);
		sqlite3_bind_int(s, 22, (int)a->size);
		sqlite3_bind_int64(s, 23, a->submitted_at_ms);
		sqlite3_bind_int64(s, 24, a->updated_at_ms);
		sqlite3_bind_int(s, 25, (int)a->rejection);
		sqlite3_bind_int64(s, 26, a->waitlist_ticket);
		bind_text(s, 27, a->submitted_by);
		int rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc == SQLITE_CONSTRAINT_UNIQUE)
			return OB_EEXIST;
		if (rc != SQLITE_DONE)
			return fail(t->c, rc, "app_insert");
		a->seq = sqlite3_last_insert_rowid(t->c->db);
	}
	sealed_contact sc;
	ob_err err = seal_contact(t->store, a, &sc);
	if (err != OB_OK) {
		ob_log(OB_LOG_ERROR, "store: cannot seal a contact: %s", ob_strerror(err));
		return err;
	}
	PREP(t, ST_CONTACT_INSERT);
	sqlite3_bind_int64(s, 1, a->seq);
	bind_text(s, 2, sc.kid);
	sqlite3_bind_blob(s, 3, sc.wrapped, (int)sc.wrapped_len, SQLITE_STATIC);
	for (int f = 0; f < 3; f++)
		sqlite3_bind_blob(s, 4 + f, sc.ct[f], (int)sc.ct_len[f], SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, sc.index, sizeof(sc.index), SQLITE_STATIC);
	err = step_done(t->c, s, "contact_insert");
	sqlite3_clear_bindings(s); /* the buffers were bound static: drop them now */
	return err;
}

static ob_err sq_app_update(ob_txn *base, const ob_application *a)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_APP_UPDATE);
	const ob_benefits *b = &a->benefits;
	sqlite3_bind_int64(s, 1, a->seq);
	sqlite3_bind_int(s, 2, (int)a->state);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)a->version);
	sqlite3_bind_int64(s, 4, a->updated_at_ms);
	sqlite3_bind_int(s, 5, (int)a->rejection);
	sqlite3_bind_int(s, 6, b->granted);
	bind_text(s, 7, b->fee_waiver_from);
	bind_text(s, 8, b->fee_waiver_until);
	sqlite3_bind_int64(s, 9, b->fee_waiver_months);
	sqlite3_bind_int64(s, 10, b->fee_waived_cents);
	sqlite3_bind_int64(s, 11, b->ad_credit_cents);
	sqlite3_bind_int64(s, 12, b->ad_credit_used_cents);
	sqlite3_bind_int64(s, 13, b->webinar_at_ms);
	sqlite3_bind_int64(s, 14, b->advisor);
	sqlite3_bind_int(s, 15, b->revoked);
	sqlite3_bind_int64(s, 16, b->revoked_at_ms);
	ob_err err = step_done(t->c, s, "app_update");
	if (err == OB_OK && sqlite3_changes(t->c->db) != 1)
		err = OB_ENOTFOUND;
	return err;
}

static ob_err get_one(sq_txn *t, sqlite3_stmt *s, ob_application *out, const char *what)
{
	int rc = sqlite3_step(s);
	ob_err err = OB_OK;
	if (rc == SQLITE_ROW)
		read_app(t->store, s, out);
	else if (rc == SQLITE_DONE)
		err = OB_ENOTFOUND;
	else
		err = fail(t->c, rc, what);
	sqlite3_reset(s);
	return err;
}

/* Binds text, or NULL for a NULL pointer. */
static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL)
		bind_text(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static ob_err sq_app_get(ob_txn *base, const char *id, const char *owner, ob_application *out)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_APP_GET);
	bind_text(s, 1, id);
	bind_text_or_null(s, 2, owner);
	return get_one(t, s, out, "app_get");
}

static ob_err sq_app_get_by_siren(ob_txn *base, const char *cohort, const char *siren,
                                  const char *owner, ob_application *out)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_APP_GET_SIREN);
	bind_text(s, 1, cohort);
	bind_text(s, 2, siren);
	bind_text_or_null(s, 3, owner);
	return get_one(t, s, out, "app_get_by_siren");
}

static ob_err sq_app_first_waitlisted(ob_txn *base, const char *cohort, ob_application *out)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_APP_FIRST_WAITLISTED);
	bind_text(s, 1, cohort);
	sqlite3_bind_int(s, 2, OB_STATE_WAITLISTED);
	return get_one(t, s, out, "app_first_waitlisted");
}

static ob_err sq_app_waitlist_position(ob_txn *base, const ob_application *a, uint32_t *out)
{
	sq_txn *t = (sq_txn *)base;
	*out = 0;
	int64_t head = 0, left = 0;
	{
		PREP(t, ST_WAITLIST_HEAD);
		bind_text(s, 1, a->cohort_id);
		sqlite3_bind_int(s, 2, OB_STATE_WAITLISTED);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			head = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return fail(t->c, rc, "waitlist_head");
		if (rc == SQLITE_DONE || head > a->waitlist_ticket)
			return OB_ENOTFOUND; /* not in the line */
	}
	PREP(t, ST_WAITLIST_LEFT_COUNT);
	bind_text(s, 1, a->cohort_id);
	sqlite3_bind_int64(s, 2, head);
	sqlite3_bind_int64(s, 3, a->waitlist_ticket);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		left = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return fail(t->c, rc, "waitlist_left_count");
	*out = (uint32_t)(a->waitlist_ticket - head + 1 - left);
	return OB_OK;
}

static ob_err sq_waitlist_leave(ob_txn *base, const char *cohort, int64_t ticket)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_WAITLIST_LEAVE);
	bind_text(s, 1, cohort);
	sqlite3_bind_int64(s, 2, ticket);
	return step_done(t->c, s, "waitlist_leave");
}

static ob_err sq_app_list(ob_txn *base, const ob_app_filter *f, int64_t after_seq, size_t limit,
                          ob_application **out, size_t *n)
{
	sq_txn *t = (sq_txn *)base;
	*out = NULL;
	*n = 0;
	/* Built per call from fixed fragments; values are always bound. */
	char sql[2048];
	int len = snprintf(sql, sizeof(sql), "SELECT " APP_COLUMNS "WHERE a.seq > ?1");
	if (f->cohort_id != NULL)
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND a.cohort_id = ?2");
	if (f->states != 0) {
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND a.state IN (");
		bool first = true;
		for (int st = 0; st < OB_STATE_COUNT; st++)
			if (f->states & (1u << st)) {
				len += snprintf(sql + len, sizeof(sql) - (size_t)len, "%s%d",
				                first ? "" : ",", st);
				first = false;
			}
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, ")");
	}
	if (f->size != OB_SIZE_UNSPECIFIED)
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND a.size = ?3");
	if (f->departement != NULL)
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND a.departement = ?4");
	if (f->region != NULL)
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND a.region = ?5");
	if (f->channel != OB_CHANNEL_UNSPECIFIED)
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND a.channel = ?6");
	if (f->submitted_from_ms != 0)
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND a.submitted_at >= ?7");
	if (f->submitted_to_ms != 0)
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND a.submitted_at < ?8");
	if (f->submitted_by != NULL)
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, " AND a.submitted_by = ?10");
	snprintf(sql + len, sizeof(sql) - (size_t)len, " ORDER BY a.seq LIMIT ?9");

	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(t->c->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(t->c, rc, "app_list prepare");
	sqlite3_bind_int64(s, 1, after_seq);
	if (f->cohort_id != NULL)
		bind_text(s, 2, f->cohort_id);
	sqlite3_bind_int(s, 3, (int)f->size);
	if (f->departement != NULL)
		bind_text(s, 4, f->departement);
	if (f->region != NULL)
		bind_text(s, 5, f->region);
	sqlite3_bind_int(s, 6, (int)f->channel);
	sqlite3_bind_int64(s, 7, f->submitted_from_ms);
	sqlite3_bind_int64(s, 8, f->submitted_to_ms);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)limit);
	if (f->submitted_by != NULL)
		bind_text(s, 10, f->submitted_by);
	ob_application *list = limit > 0 ? calloc(limit, sizeof(*list)) : NULL;
	ob_err err = OB_OK;
	if (list == NULL && limit > 0)
		err = OB_ENOMEM;
	while (err == OB_OK && (rc = sqlite3_step(s)) == SQLITE_ROW && *n < limit)
		read_app(t->store, s, &list[(*n)++]);
	if (err == OB_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		err = fail(t->c, rc, "app_list");
	sqlite3_finalize(s);
	if (err != OB_OK) {
		free(list);
		*n = 0;
		return err;
	}
	*out = list;
	return OB_OK;
}

/* ---- history -------------------------------------------------------- */

/* The history this store allocated into a (model.h: malloc'd). */
static void history_free(ob_application *a)
{
	free(a->history);
	a->history = NULL;
	a->n_history = 0;
}

/* A note (what a person typed with a change) is sealed under the data key of
 * its application, bound to the application id and the row (see
 * migrations.c): the same protection as the contact, and the same erasure. */
static const char erased_note[] = "[erased]";
static const char unreadable_note[] = "[unreadable]";

static void note_field(int64_t n, char out[40])
{
	snprintf(out, 40, "history.%lld.note", (long long)n);
}

static ob_err sq_history_append(ob_txn *base, int64_t app_seq, const ob_state_change *c)
{
	sq_txn *t = (sq_txn *)base;
	uint8_t sealed[OB_REASON_MAX + OB_VAULT_SEAL_OVERHEAD];
	size_t sealed_len = 0;
	int64_t n = -1;
	bool has_note = c->note[0] != '\0';
	if (has_note) {
		/* The row's number goes into the associated data: count first. */
		PREP(t, ST_HISTORY_COUNT);
		sqlite3_bind_int64(s, 1, app_seq);
		int rc = sqlite3_step(s);
		n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
		sqlite3_reset(s);
		if (rc != SQLITE_ROW)
			return fail(t->c, rc, "history_count");
		uint8_t dk[OB_VAULT_KEY_LEN];
		char id[OB_ID_LEN + 1], field[40];
		note_field(n, field);
		ob_err err = app_data_key(t, app_seq, dk, id);
		if (err == OB_OK)
			err = ob_vault_seal(dk, id, field, c->note,
			                    strnlen(c->note, sizeof(c->note)), sealed,
			                    sizeof(sealed), &sealed_len);
		sodium_memzero(dk, sizeof(dk));
		if (err == OB_ENOTFOUND) {
			/* The contact is erased: no key is left to seal it, and
			 * nothing personal about it is to be kept. */
			sealed_len = 0;
		} else if (err != OB_OK) {
			return err;
		}
	}
	PREP(t, ST_HISTORY_APPEND);
	sqlite3_bind_int64(s, 1, app_seq);
	sqlite3_bind_int(s, 2, (int)c->from);
	sqlite3_bind_int(s, 3, (int)c->to);
	bind_text(s, 4, c->actor);
	sqlite3_bind_int64(s, 5, c->at_ms);
	bind_text(s, 6, c->reason);
	if (!has_note)
		sqlite3_bind_null(s, 7);
	else if (sealed_len == 0)
		sqlite3_bind_zeroblob(s, 7, 0);
	else
		sqlite3_bind_blob(s, 7, sealed, (int)sealed_len, SQLITE_TRANSIENT);
	if (n >= 0)
		sqlite3_bind_int64(s, 8, n);
	else
		sqlite3_bind_null(s, 8);
	return step_done(t->c, s, "history_append");
}

/* The note of history row n of application a into out (OB_REASON_MAX + 1
 * bytes): "" for none, "[erased]" for one erased, "[unreadable]" for one
 * that fails its check (logged by seq and row, never by value). *key says
 * whether a's data key is already in dk: 0 not yet, 1 yes, -1 the contact is
 * erased, -2 the key cannot be unwrapped. */
static void read_note(sq_txn *t, const ob_application *a, sqlite3_stmt *s, int64_t n, char *out,
                      uint8_t dk[OB_VAULT_KEY_LEN], char id[OB_ID_LEN + 1], int *key)
{
	out[0] = '\0';
	if (sqlite3_column_type(s, 6) == SQLITE_NULL)
		return;
	int len = sqlite3_column_bytes(s, 6);
	if (len == 0) {
		memcpy(out, erased_note, sizeof(erased_note));
		return;
	}
	if (*key == 0) {
		ob_err err = app_data_key(t, a->seq, dk, id);
		*key = err == OB_OK ? 1 : err == OB_ENOTFOUND ? -1 : -2;
	}
	if (*key == -1) {
		memcpy(out, erased_note, sizeof(erased_note));
		return; /* erased in this very transaction: the mark is not written yet */
	}
	ob_err err = OB_ECORRUPT;
	size_t got = 0;
	if (*key == 1) {
		char field[40];
		note_field(n, field);
		err = ob_vault_unseal(dk, id, field, sqlite3_column_blob(s, 6), (size_t)len, out,
		                      OB_REASON_MAX + 1, &got);
		if (err == OB_OK && strlen(out) != got)
			err = OB_ECORRUPT; /* a NUL inside: never written so */
	}
	if (err != OB_OK) {
		memcpy(out, unreadable_note, sizeof(unreadable_note));
		ob_log(OB_LOG_ERROR,
		       "store: the note of history row %lld of application seq %lld cannot be "
		       "decrypted: %s",
		       (long long)n, (long long)a->seq, ob_strerror(err));
	}
}

static ob_err sq_history_load(ob_txn *base, ob_application *a)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_HISTORY_LOAD);
	sqlite3_bind_int64(s, 1, a->seq);
	size_t cap = 0;
	int rc;
	ob_err err = OB_OK;
	uint8_t dk[OB_VAULT_KEY_LEN];
	char id[OB_ID_LEN + 1] = "";
	int key = 0;
	history_free(a);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (a->n_history == cap) {
			cap = cap * 2 + 4;
			ob_state_change *g = realloc(a->history, cap * sizeof(*g));
			if (g == NULL) {
				err = OB_ENOMEM;
				break;
			}
			a->history = g;
		}
		ob_state_change *c = &a->history[a->n_history++];
		c->from = (ob_state)sqlite3_column_int(s, 0);
		c->to = (ob_state)sqlite3_column_int(s, 1);
		col_text(s, 2, c->actor, sizeof(c->actor));
		c->at_ms = sqlite3_column_int64(s, 3);
		col_text(s, 4, c->reason, sizeof(c->reason));
		read_note(t, a, s, sqlite3_column_int64(s, 5), c->note, dk, id, &key);
	}
	if (key == 1)
		sodium_memzero(dk, sizeof(dk));
	if (err == OB_OK && rc != SQLITE_DONE)
		err = fail(t->c, rc, "history_load");
	sqlite3_reset(s);
	if (err != OB_OK)
		history_free(a);
	return err;
}

/* Migration 2's step: the notes that schema 1 kept in clear at the end of
 * history.reason ("withdrawn: NOTE") move into history.note, sealed, and the
 * reason keeps its prefix. Runs inside the migration's transaction on the
 * writer, before the writer thread starts, in pages of rows so that memory
 * stays flat. A note whose contact is erased was already redacted
 * ("[erased]"): it becomes the erased mark. One whose data key fails its
 * check is dropped the same way, logged by seq. One whose master key is
 * missing from the key file stops the migration: the key line belongs back
 * in the file (onboardd then starts), and no note is lost meanwhile. */
static ob_err seal_legacy_notes(sq_store *st, size_t *moved)
{
	enum { PAGE = 256 };
	typedef struct {
		int64_t seq, n;
		char reason[OB_REASON_MAX + 1];
	} row;
	sq_txn t = {.base.ops = &sqlite_ops, .store = st, .c = &st->writer, .write = true};
	row *rows = malloc(PAGE * sizeof(*rows));
	if (rows == NULL)
		return OB_ENOMEM;
	int64_t after_seq = -1, after_n = -1, key_seq = -1;
	int key = 0; /* for key_seq: 1 in dk, -1 erased, -2 damaged */
	uint8_t dk[OB_VAULT_KEY_LEN];
	char id[OB_ID_LEN + 1] = "";
	ob_err err = OB_OK;
	for (size_t got = PAGE; err == OB_OK && got == PAGE;) {
		got = 0;
		sqlite3_stmt *s = stmt(t.c, ST_LEGACY_NOTES);
		if (s == NULL) {
			err = OB_EIO;
			break;
		}
		sqlite3_bind_int64(s, 1, after_seq);
		sqlite3_bind_int64(s, 2, after_n);
		sqlite3_bind_int64(s, 3, PAGE);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW && got < PAGE) {
			row *r = &rows[got++];
			r->seq = sqlite3_column_int64(s, 0);
			r->n = sqlite3_column_int64(s, 1);
			col_text(s, 2, r->reason, sizeof(r->reason));
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			err = fail(t.c, rc, "legacy_notes");
		sqlite3_reset(s);
		for (size_t i = 0; err == OB_OK && i < got; i++) {
			row *r = &rows[i];
			after_seq = r->seq;
			after_n = r->n;
			size_t plen = 0;
			for (unsigned p = 0; p < ob_n_legacy_note_prefixes && plen == 0; p++) {
				size_t l = strlen(ob_legacy_note_prefixes[p]);
				if (strncmp(r->reason, ob_legacy_note_prefixes[p], l) == 0 &&
				    r->reason[l] == ':' && r->reason[l + 1] == ' ')
					plen = l;
			}
			if (plen == 0)
				continue; /* a reason of the service's own, such as "promoted..." */
			if (r->seq != key_seq) {
				if (key == 1)
					sodium_memzero(dk, sizeof(dk));
				key_seq = r->seq;
				sqlite3_stmt *k = stmt(t.c, ST_CONTACT_KEY);
				if (k == NULL) {
					err = OB_EIO;
					break;
				}
				sqlite3_bind_int64(k, 1, r->seq);
				rc = sqlite3_step(k);
				if (rc == SQLITE_ROW && sqlite3_column_type(k, 0) != SQLITE_NULL) {
					const char *kid = (const char *)sqlite3_column_text(k, 0);
					col_text(k, 2, id, sizeof(id));
					ob_err u = vault_unwrap(st, kid, sqlite3_column_blob(k, 1),
					                        sqlite3_column_bytes(k, 1), dk);
					key = u == OB_OK ? 1 : -2;
					if (u == OB_ENOTFOUND) {
						ob_log(OB_LOG_ERROR,
						       "migration 2: the data key of application "
						       "seq "
						       "%lld is wrapped under master key %s, which "
						       "is "
						       "not in the key file: put its line back and "
						       "start again",
						       (long long)r->seq, loggable_kid(kid));
						err = OB_ECORRUPT;
					} else if (u != OB_OK) {
						ob_log(OB_LOG_ERROR,
						       "migration 2: the data key of application "
						       "seq "
						       "%lld fails its check: its notes are "
						       "dropped",
						       (long long)r->seq);
					}
				} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
					key = -1; /* erased (or no contact at all) */
				} else {
					err = fail(t.c, rc, "contact_key");
				}
				sqlite3_reset(k);
				if (err != OB_OK)
					break;
			}
			const char *note = r->reason + plen + 2;
			uint8_t ct[OB_REASON_MAX + OB_VAULT_SEAL_OVERHEAD];
			size_t ct_len = 0;
			if (key == 1) {
				char field[40];
				note_field(r->n, field);
				err = ob_vault_seal(dk, id, field, note, strlen(note), ct,
				                    sizeof(ct), &ct_len);
			}
			r->reason[plen] = '\0';
			sqlite3_stmt *u = err == OB_OK ? stmt(t.c, ST_HISTORY_SET_NOTE) : NULL;
			if (u == NULL) {
				err = err != OB_OK ? err : OB_EIO;
				break;
			}
			sqlite3_bind_int64(u, 1, r->seq);
			sqlite3_bind_int64(u, 2, r->n);
			bind_text(u, 3, r->reason);
			if (ct_len > 0)
				sqlite3_bind_blob(u, 4, ct, (int)ct_len, SQLITE_TRANSIENT);
			else
				sqlite3_bind_zeroblob(u, 4, 0);
			err = step_done(t.c, u, "history_set_note");
			if (err == OB_OK)
				(*moved)++;
		}
		sodium_memzero(rows, PAGE * sizeof(*rows));
	}
	if (key == 1)
		sodium_memzero(dk, sizeof(dk));
	free(rows);
	return err;
}

/* ---- benefits ------------------------------------------------------- */

static ob_err sq_webinar_booked(ob_txn *base, const char *cohort, int64_t session_ms,
                                uint32_t *booked)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_WEBINAR_BOOKED);
	bind_text(s, 1, cohort);
	sqlite3_bind_int64(s, 2, session_ms);
	int rc = sqlite3_step(s);
	*booked = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? OB_OK : fail(t->c, rc, "webinar_booked");
}

static ob_err sq_webinar_add(ob_txn *base, const char *cohort, int64_t session_ms, int delta)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_WEBINAR_ADD);
	bind_text(s, 1, cohort);
	sqlite3_bind_int64(s, 2, session_ms);
	sqlite3_bind_int(s, 3, delta);
	return step_done(t->c, s, "webinar_add");
}

static ob_err sq_advisors_create(ob_txn *base, const char *cohort, uint32_t pool)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_ADVISOR_CREATE);
	for (uint32_t i = 1; i <= pool; i++) {
		bind_text(s, 1, cohort);
		sqlite3_bind_int64(s, 2, i);
		ob_err err = step_done(t->c, s, "advisors_create");
		if (err != OB_OK)
			return err;
	}
	return OB_OK;
}

static ob_err sq_advisor_pick(ob_txn *base, const char *cohort, uint32_t *advisor)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_ADVISOR_PICK);
	bind_text(s, 1, cohort);
	int rc = sqlite3_step(s);
	*advisor = rc == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return OB_ENOTFOUND;
	return rc == SQLITE_ROW ? OB_OK : fail(t->c, rc, "advisor_pick");
}

static ob_err sq_advisor_add(ob_txn *base, const char *cohort, uint32_t advisor, int delta)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_ADVISOR_ADD);
	bind_text(s, 1, cohort);
	sqlite3_bind_int64(s, 2, advisor);
	sqlite3_bind_int(s, 3, delta);
	return step_done(t->c, s, "advisor_add");
}

/* ---- idempotency ---------------------------------------------------- */

/* Stored replies of changes to an application show its contact: they are
 * sealed under its data key with this field name, and go with its erasure. */
static const char idem_field[] = "idempotency";

static ob_err sq_idem_get(ob_txn *base, const char *key, uint8_t hash[32], uint8_t **reply,
                          size_t *reply_len)
{
	sq_txn *t = (sq_txn *)base;
	*reply = NULL;
	*reply_len = 0;
	PREP(t, ST_IDEM_GET);
	bind_text(s, 1, key);
	int rc = sqlite3_step(s);
	ob_err err = OB_OK;
	if (rc == SQLITE_ROW) {
		const void *h = sqlite3_column_blob(s, 0);
		int hn = sqlite3_column_bytes(s, 0);
		const void *r = sqlite3_column_blob(s, 1);
		int rn = sqlite3_column_bytes(s, 1);
		int64_t app_seq = sqlite3_column_int64(s, 2);
		if (hn != 32) {
			err = OB_ECORRUPT;
		} else if (app_seq == 0) {
			memcpy(hash, h, 32);
			*reply = malloc(rn > 0 ? (size_t)rn : 1);
			if (*reply == NULL)
				err = OB_ENOMEM;
			else if (rn > 0)
				memcpy(*reply, r, (size_t)rn);
			*reply_len = (size_t)rn;
		} else if (sqlite3_column_type(s, 4) == SQLITE_NULL) {
			err = OB_ENOTFOUND; /* erased since: defensive, erasure deletes the record
			                     */
		} else {
			char id[OB_ID_LEN + 1];
			uint8_t dk[OB_VAULT_KEY_LEN];
			col_text(s, 3, id, sizeof(id));
			memcpy(hash, h, 32);
			err = vault_unwrap(t->store, (const char *)sqlite3_column_text(s, 4),
			                   sqlite3_column_blob(s, 5), sqlite3_column_bytes(s, 5),
			                   dk);
			if (err == OB_ENOTFOUND)
				err = OB_ECORRUPT; /* the master key is missing */
			size_t cap = rn > OB_VAULT_SEAL_OVERHEAD ? (size_t)rn : 1;
			if (err == OB_OK && (*reply = malloc(cap)) == NULL)
				err = OB_ENOMEM;
			if (err == OB_OK)
				err = ob_vault_unseal(dk, id, idem_field, r,
				                      rn > 0 ? (size_t)rn : 0, (char *)*reply, cap,
				                      reply_len);
			sodium_memzero(dk, sizeof(dk));
			if (err != OB_OK) {
				free(*reply);
				*reply = NULL;
				*reply_len = 0;
				if (err == OB_ECORRUPT)
					ob_log(OB_LOG_ERROR,
					       "store: the stored reply of an idempotency key of "
					       "application seq %lld cannot be decrypted",
					       (long long)app_seq);
			}
		}
	} else if (rc == SQLITE_DONE) {
		err = OB_ENOTFOUND;
	} else {
		err = fail(t->c, rc, "idem_get");
	}
	sqlite3_reset(s);
	return err;
}

static ob_err sq_idem_put(ob_txn *base, const char *key, const uint8_t hash[32],
                          const uint8_t *reply, size_t reply_len, int64_t now_ms,
                          const ob_application *a)
{
	sq_txn *t = (sq_txn *)base;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int64_t app_seq = 0;
	if (a != NULL && a->seq > 0 && !a->contact_erased) {
		uint8_t dk[OB_VAULT_KEY_LEN];
		char id[OB_ID_LEN + 1];
		ob_err err = app_data_key(t, a->seq, dk, id);
		if (err == OB_OK && reply_len > SIZE_MAX - OB_VAULT_SEAL_OVERHEAD)
			err = OB_ETOOBIG;
		if (err == OB_OK && (sealed = malloc(reply_len + OB_VAULT_SEAL_OVERHEAD)) == NULL)
			err = OB_ENOMEM;
		if (err == OB_OK)
			err = ob_vault_seal(dk, id, idem_field, (const char *)reply, reply_len,
			                    sealed, reply_len + OB_VAULT_SEAL_OVERHEAD,
			                    &sealed_len);
		sodium_memzero(dk, sizeof(dk));
		if (err == OB_ENOTFOUND) {
			/* Erased in this very transaction: the reply shows no contact. */
			err = OB_OK;
		} else if (err == OB_OK) {
			app_seq = a->seq;
			reply = sealed;
			reply_len = sealed_len;
		}
		if (err != OB_OK) {
			free(sealed);
			return err;
		}
	}
	ob_err err = OB_EIO;
	sqlite3_stmt *s = stmt(t->c, ST_IDEM_PUT);
	if (s != NULL) {
		bind_text(s, 1, key);
		sqlite3_bind_blob(s, 2, hash, 32, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 3, app_seq);
		sqlite3_bind_blob(s, 4, reply != NULL ? (const void *)reply : "", (int)reply_len,
		                  SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 5, now_ms);
		err = step_done(t->c, s, "idem_put");
	}
	free(sealed);
	return err;
}

static ob_err sq_idem_purge(ob_txn *base, int64_t before_ms, unsigned limit)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_IDEM_PURGE);
	sqlite3_bind_int64(s, 1, before_ms);
	sqlite3_bind_int64(s, 2, limit);
	return step_done(t->c, s, "idem_purge");
}

/* ---- personal data: erasure, lookup, rotation ----------------------- */

static ob_err sq_contact_erase(ob_txn *base, int64_t app_seq, const char *actor, int64_t now_ms)
{
	sq_txn *t = (sq_txn *)base;
	{
		PREP(t, ST_CONTACT_ERASED_AT);
		sqlite3_bind_int64(s, 1, app_seq);
		int rc = sqlite3_step(s);
		int64_t erased_at = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return OB_ENOTFOUND;
		if (rc != SQLITE_ROW)
			return fail(t->c, rc, "contact_erased_at");
		if (erased_at != 0)
			return OB_EPRECOND;
	}
	{
		PREP(t, ST_CONTACT_ERASE);
		sqlite3_bind_int64(s, 1, app_seq);
		/* 0 means "never": an erasure at the epoch would not read as one. */
		sqlite3_bind_int64(s, 2, now_ms != 0 ? now_ms : 1);
		bind_text(s, 3, actor);
		ob_err err = step_done(t->c, s, "contact_erase");
		if (err != OB_OK)
			return err;
	}
	{
		/* The notes people typed (review notes, withdrawal reasons) are
		 * sealed under the key just destroyed; their ciphertexts go too,
		 * leaving the mark of an erased note. The actions stay. */
		PREP(t, ST_HISTORY_ERASE_NOTES);
		sqlite3_bind_int64(s, 1, app_seq);
		ob_err err = step_done(t->c, s, "history_erase_notes");
		if (err != OB_OK)
			return err;
	}
	PREP(t, ST_IDEM_FORGET_APP);
	sqlite3_bind_int64(s, 1, app_seq);
	return step_done(t->c, s, "idem_forget_app");
}

static ob_err sq_apps_by_email(ob_txn *base, const uint8_t index[OB_STORE_INDEX_LEN],
                               ob_application **out, size_t *n)
{
	sq_txn *t = (sq_txn *)base;
	*out = NULL;
	*n = 0;
	PREP(t, ST_APPS_BY_EMAIL);
	sqlite3_bind_blob(s, 1, index, OB_STORE_INDEX_LEN, SQLITE_TRANSIENT);
	size_t cap = 0;
	int rc;
	ob_err err = OB_OK;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap * 2 + 4;
			ob_application *g = realloc(*out, cap * sizeof(**out));
			if (g == NULL) {
				err = OB_ENOMEM;
				break;
			}
			*out = g;
		}
		read_app(t->store, s, &(*out)[(*n)++]);
	}
	if (err == OB_OK && rc != SQLITE_DONE)
		err = fail(t->c, rc, "apps_by_email");
	sqlite3_reset(s);
	if (err != OB_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return err;
}

typedef struct wrapped_key {
	int64_t seq;
	char kid[OB_VAULT_KID_SIZE];
	uint8_t wrapped[OB_VAULT_WRAPPED_LEN];
	size_t len; /* as stored; not OB_VAULT_WRAPPED_LEN when damaged */
} wrapped_key;

static ob_err sq_rewrap_batch(ob_txn *base, int64_t after_seq, size_t limit, size_t *rewrapped,
                              size_t *failed, int64_t *last_seq)
{
	sq_txn *t = (sq_txn *)base;
	sq_store *st = t->store;
	*rewrapped = 0;
	*failed = 0;
	*last_seq = after_seq;
	if (limit == 0)
		return OB_OK;
	char active[OB_VAULT_KID_SIZE];
	pthread_rwlock_rdlock(&st->vault_lock);
	snprintf(active, sizeof(active), "%s", ob_vault_active_key_id(st->vault));
	pthread_rwlock_unlock(&st->vault_lock);

	/* Read the batch first, then update: no update under a running scan. */
	wrapped_key *keys = calloc(limit, sizeof(*keys));
	if (keys == NULL)
		return OB_ENOMEM;
	size_t n = 0;
	ob_err err = OB_OK;
	{
		sqlite3_stmt *s = stmt(t->c, ST_REWRAP_SCAN);
		if (s == NULL) {
			free(keys);
			return OB_EIO;
		}
		sqlite3_bind_int64(s, 1, after_seq);
		bind_text(s, 2, active);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < limit) {
			wrapped_key *k = &keys[n++];
			k->seq = sqlite3_column_int64(s, 0);
			col_text(s, 1, k->kid, sizeof(k->kid));
			int len = sqlite3_column_bytes(s, 2);
			k->len = len > 0 ? (size_t)len : 0;
			if (k->len > sizeof(k->wrapped))
				k->len = sizeof(k->wrapped) + 1; /* damaged: fails to unwrap */
			else if (k->len > 0)
				memcpy(k->wrapped, sqlite3_column_blob(s, 2), k->len);
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			err = fail(t->c, rc, "rewrap_scan");
		sqlite3_reset(s);
	}
	for (size_t i = 0; err == OB_OK && i < n; i++) {
		wrapped_key *k = &keys[i];
		uint8_t out[OB_VAULT_WRAPPED_LEN];
		size_t out_len;
		char kid[OB_VAULT_KID_SIZE];
		pthread_rwlock_rdlock(&st->vault_lock);
		ob_err rw = ob_vault_rewrap(st->vault, k->kid, k->wrapped,
		                            k->len > sizeof(k->wrapped) ? 0 : k->len, out, &out_len,
		                            kid);
		pthread_rwlock_unlock(&st->vault_lock);
		*last_seq = k->seq;
		if (rw != OB_OK) {
			ob_log(OB_LOG_ERROR,
			       "store: the data key of application seq %lld (master key %s) cannot "
			       "be "
			       "re-wrapped: %s",
			       (long long)k->seq, loggable_kid(k->kid), ob_strerror(rw));
			(*failed)++;
			continue;
		}
		sqlite3_stmt *s = stmt(t->c, ST_REWRAP_UPDATE);
		if (s == NULL) {
			err = OB_EIO;
			break;
		}
		sqlite3_bind_int64(s, 1, k->seq);
		bind_text(s, 2, kid);
		sqlite3_bind_blob(s, 3, out, (int)out_len, SQLITE_TRANSIENT);
		if ((err = step_done(t->c, s, "rewrap_update")) == OB_OK)
			(*rewrapped)++;
	}
	free(keys);
	return err;
}

/* ---- audit ---------------------------------------------------------- */

static ob_err sq_audit_append(ob_txn *base, const ob_audit_event *e)
{
	sq_txn *t = (sq_txn *)base;
	PREP(t, ST_AUDIT_APPEND);
	sqlite3_bind_int64(s, 1, e->at_ms);
	bind_text(s, 2, e->event);
	bind_text(s, 3, e->key_id);
	bind_text(s, 4, e->peer);
	bind_text(s, 5, e->detail);
	return step_done(t->c, s, "audit_append");
}

static ob_err sq_audit_list(ob_txn *base, int64_t after_seq, size_t limit, ob_audit_event **out,
                            size_t *n)
{
	sq_txn *t = (sq_txn *)base;
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return OB_OK;
	PREP(t, ST_AUDIT_LIST);
	ob_audit_event *list = calloc(limit, sizeof(*list));
	if (list == NULL)
		return OB_ENOMEM;
	sqlite3_bind_int64(s, 1, after_seq);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < limit) {
		ob_audit_event *e = &list[(*n)++];
		e->seq = sqlite3_column_int64(s, 0);
		e->at_ms = sqlite3_column_int64(s, 1);
		col_text(s, 2, e->event, sizeof(e->event));
		col_text(s, 3, e->key_id, sizeof(e->key_id));
		col_text(s, 4, e->peer, sizeof(e->peer));
		col_text(s, 5, e->detail, sizeof(e->detail));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(list);
		*n = 0;
		return fail(t->c, rc, "audit_list");
	}
	*out = list;
	return OB_OK;
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
		err = from_sqlite(rc);
	}
	pthread_mutex_unlock(&s->write_mu);
	return err;
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
	return from_sqlite(rc);
}

static void sq_email_index(ob_store *base, const char *email, uint8_t out[OB_STORE_INDEX_LEN])
{
	sq_store *s = (sq_store *)base;
	pthread_rwlock_rdlock(&s->vault_lock);
	ob_vault_blind_index(s->vault, email, out);
	pthread_rwlock_unlock(&s->vault_lock);
}

static ob_err sq_set_vault(ob_store *base, ob_vault *v, ob_vault **old)
{
	sq_store *s = (sq_store *)base;
	*old = NULL;
	if (v == NULL)
		return OB_EINVAL;
	/* The write mutex first, as every writer takes them: no write is half
	 * done under the previous vault when the swap happens. */
	pthread_mutex_lock(&s->write_mu);
	pthread_rwlock_wrlock(&s->vault_lock);
	ob_vault *prev = s->vault;
	s->vault = v;
	pthread_rwlock_unlock(&s->vault_lock);
	pthread_mutex_unlock(&s->write_mu);
	*old = prev != s->owned_vault ? prev : NULL;
	return OB_OK;
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
        .app_update = sq_app_update,
        .app_get = sq_app_get,
        .app_get_by_siren = sq_app_get_by_siren,
        .app_first_waitlisted = sq_app_first_waitlisted,
        .app_waitlist_position = sq_app_waitlist_position,
        .waitlist_leave = sq_waitlist_leave,
        .app_list = sq_app_list,
        .history_append = sq_history_append,
        .history_load = sq_history_load,
        .webinar_booked = sq_webinar_booked,
        .webinar_add = sq_webinar_add,
        .advisors_create = sq_advisors_create,
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
        .ping = sq_ping,
        .email_index = sq_email_index,
        .set_vault = sq_set_vault,
};
