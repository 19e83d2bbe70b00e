/*
 * The PostgreSQL store, an adapter of the domain's port (domain/store.h),
 * for several onboardd instances on one database.
 *
 * One writer at a time, across instances. The port promises that writes run
 * one at a time, and the domain's invariants lean on it well beyond seats:
 * waitlist tickets, the advisor picked, webinar seats, every counter it reads
 * and then moves. Within a process the writer thread runs the writes (group
 * commit, batch.h: one transaction, a savepoint per write, one commit);
 * across processes every write transaction first takes one transaction-scoped
 * advisory lock (PG_BEGIN_WRITE), which the database holds until its commit or
 * rollback and releases if the instance dies. So the database decides, under
 * READ COMMITTED with a single writer: seats never above capacity, the
 * waitlist in order, numbers committed in order (page tokens, pg_apps.c).
 * The unique indexes decide the rest whoever writes: one live application
 * per SIREN and cohort, one record per idempotency key. Since the writers
 * take that lock before any other, they never deadlock with each other; a
 * serialization failure or deadlock (40001, 40P01) met all the same (a
 * statement of an administrator's, say) runs the write again, up to
 * RETRIES times.
 *
 * Durable: synchronous_commit is on for every connection (pg.c); a write is
 * acknowledged when its batch's COMMIT has returned.
 *
 * Reads: a pool of connections (at most --db-pool), each read transaction
 * REPEATABLE READ and READ ONLY, so that it sees one snapshot and never waits
 * for a writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/log.h"
#include "store/pg.h"
#include "store/pg_impl.h"
#include "store/seal.h"

enum { RETRIES = 3, DEFAULT_POOL = 8 };

static const ob_store_ops pg_ops;

/* ---- connections ------------------------------------------------------ */

static ob_err conn_open(pg_store *s, pg_conn *c)
{
	memset(c, 0, sizeof(*c));
	return pg_connect(s->conninfo, &c->db);
}

static void conn_close(pg_conn *c)
{
	PQfinish(c->db);
	memset(c, 0, sizeof(*c));
}

/* A connection that broke (the server restarted, a network cut) is opened
 * again before its next use; its statements are prepared again. */
static ob_err conn_reopen(pg_store *s, pg_conn *c)
{
	ob_log(OB_LOG_WARN, "postgresql: a connection was lost; connecting again");
	pg_conn *next = c->next_free;
	conn_close(c);
	ob_err err = conn_open(s, c);
	c->next_free = next;
	return err;
}

static ob_err conn_check(pg_store *s, pg_conn *c)
{
	if (c->db != NULL && PQstatus(c->db) == CONNECTION_OK)
		return OB_OK;
	return conn_reopen(s, c);
}

/* Begins a transaction with sql on c, connecting c again first when it
 * broke; and once more on a new connection when the BEGIN gets no answer:
 * a connection idle while the server restarted reads as fine (PQstatus
 * says CONNECTION_OK even after that BEGIN failed), and nothing was done on
 * it yet, so nothing is done twice. Without this, after a restart of the
 * database every connection of the pool failed its next calls (the crash
 * campaign's finding). */
static ob_err begin_on(pg_store *s, pg_conn *c, const char *sql, const char *what)
{
	ob_err err = conn_check(s, c);
	if (err == OB_OK)
		err = pg_exec(c->db, sql, what);
	if (err == OB_EUNAVAIL) {
		err = conn_reopen(s, c);
		if (err == OB_OK)
			err = pg_exec(c->db, sql, what);
	}
	return err;
}

/* A reader connection from the pool, waiting while --db-pool are in use. */
static ob_err reader_take(pg_store *s, pg_conn **out)
{
	pthread_mutex_lock(&s->pool_mu);
	while (s->free_readers == NULL && s->n_readers >= s->max_readers)
		pthread_cond_wait(&s->pool_cv, &s->pool_mu);
	pg_conn *c = s->free_readers;
	if (c != NULL)
		s->free_readers = c->next_free;
	else
		s->n_readers++;
	pthread_mutex_unlock(&s->pool_mu);
	ob_err err = OB_OK;
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		err = c == NULL ? OB_ENOMEM : conn_open(s, c);
	} else {
		err = conn_check(s, c);
	}
	if (err != OB_OK) {
		if (c != NULL)
			conn_close(c);
		free(c);
		pthread_mutex_lock(&s->pool_mu);
		s->n_readers--;
		pthread_cond_signal(&s->pool_cv);
		pthread_mutex_unlock(&s->pool_mu);
		return err;
	}
	*out = c;
	return OB_OK;
}

static void reader_give(pg_store *s, pg_conn *c)
{
	pthread_mutex_lock(&s->pool_mu);
	c->next_free = s->free_readers;
	s->free_readers = c;
	pthread_cond_signal(&s->pool_cv);
	pthread_mutex_unlock(&s->pool_mu);
}

/* ---- transactions ------------------------------------------------------ */

static ob_err pg_begin(ob_store *base, bool write, ob_txn **out)
{
	pg_store *s = (pg_store *)base;
	*out = NULL;
	pg_txn *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return OB_ENOMEM;
	t->base.ops = &pg_ops;
	t->store = s;
	t->write = write;
	ob_err err;
	if (write) {
		pthread_mutex_lock(&s->write_mu);
		t->c = &s->writer;
		err = begin_on(s, t->c, PG_BEGIN_WRITE, "begin write");
	} else {
		err = reader_take(s, &t->c);
		if (err == OB_OK)
			err = begin_on(s, t->c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
			               "begin read");
	}
	if (err != OB_OK) {
		if (write) {
			pthread_mutex_unlock(&s->write_mu);
		} else if (t->c != NULL) {
			reader_give(s, t->c);
		}
		free(t);
		return err;
	}
	*out = &t->base;
	return OB_OK;
}

static void release(pg_txn *t)
{
	seal_key_forget(&t->key);
	if (t->write)
		pthread_mutex_unlock(&t->store->write_mu);
	else
		reader_give(t->store, t->c);
	free(t);
}

static void rollback_quietly(pg_conn *c)
{
	if (PQtransactionStatus(c->db) != PQTRANS_IDLE)
		PQclear(PQexec(c->db, "ROLLBACK"));
}

static ob_err pg_commit(ob_txn *base)
{
	pg_txn *t = pg_txn_of(base);
	ob_err err = pg_exec(t->c->db, "COMMIT", "commit");
	if (err != OB_OK)
		rollback_quietly(t->c);
	release(t);
	return err;
}

static void pg_rollback(ob_txn *base)
{
	pg_txn *t = pg_txn_of(base);
	rollback_quietly(t->c);
	release(t);
}

/* ---- group commit ------------------------------------------------------- */

/* Runs one write of a batch in its savepoint, again while it fails for a
 * serialization failure or a deadlock. An error it cannot undo ends the batch. */
static ob_err run_one(pg_txn *t, batch_req *r)
{
	PGconn *c = t->c->db;
	for (int attempt = 0;; attempt++) {
		t->retry = false;
		if ((r->result = pg_exec(c, "SAVEPOINT w", "savepoint")) != OB_OK)
			return r->result;
		r->result = r->fn(&t->base, r->arg);
		seal_key_forget(&t->key); /* a key is kept for one write only */
		/* Cannot undo: the whole batch is given up, with the reason (a lost
		 * connection is UNAVAILABLE, to retry, not a failure of the store). */
		ob_err undo = OB_OK;
		if (r->result != OB_OK)
			undo = pg_exec(c, "ROLLBACK TO w", "rollback to");
		if (undo == OB_OK)
			undo = pg_exec(c, "RELEASE w", "release");
		if (undo != OB_OK)
			return undo;
		if (r->result == OB_OK || !t->retry || attempt + 1 >= RETRIES)
			return OB_OK;
		ob_log(OB_LOG_INFO, "postgresql: a write met a serialization failure; again");
	}
}

static void run_batch(void *ctx, batch_req *batch)
{
	pg_store *s = ctx;
	pthread_mutex_lock(&s->write_mu);
	pg_txn t = {.base.ops = &pg_ops, .store = s, .c = &s->writer, .write = true};
	ob_err err = begin_on(s, t.c, PG_BEGIN_WRITE, "begin write");
	for (batch_req *r = batch; r != NULL; r = r->next) {
		if (err != OB_OK)
			r->result = err;
		else
			err = run_one(&t, r);
	}
	if (err == OB_OK)
		err = pg_exec(t.c->db, "COMMIT", "commit");
	if (err != OB_OK) {
		rollback_quietly(t.c);
		for (batch_req *r = batch; r != NULL; r = r->next)
			if (r->result == OB_OK)
				r->result = err; /* nothing of the batch is durable */
	}
	pthread_mutex_unlock(&s->write_mu);
}

static ob_err pg_write(ob_store *base, ob_err (*fn)(ob_txn *t, void *arg), void *arg)
{
	return batch_write(&((pg_store *)base)->queue, fn, arg);
}

/* ---- the store ------------------------------------------------------------ */

ob_err ob_store_open_pg(ob_store **out, const char *conninfo, ob_keystore *keys, unsigned pool)
{
	*out = NULL;
	if (keys == NULL)
		return OB_EINVAL;
	unsigned version;
	ob_err err = ob_store_pg_migrate(conninfo, &version);
	if (err != OB_OK)
		return err;
	pg_store *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->conninfo = strdup(conninfo)) == NULL) {
		free(s);
		return OB_ENOMEM;
	}
	s->base.ops = &pg_ops;
	s->keys = keys;
	s->max_readers = pool > 0 ? pool : DEFAULT_POOL;
	pthread_mutex_init(&s->write_mu, NULL);
	pthread_mutex_init(&s->pool_mu, NULL);
	pthread_cond_init(&s->pool_cv, NULL);
	err = conn_open(s, &s->writer);
	if (err == OB_OK)
		err = batch_start(&s->queue, run_batch, s);
	if (err != OB_OK) {
		pg_ops.destroy(&s->base);
		return err;
	}
	*out = &s->base;
	return OB_OK;
}

void ob_store_pg_set_max_batch(ob_store *base, unsigned n)
{
	batch_set_max(&((pg_store *)base)->queue, n);
}

static void pg_destroy(ob_store *base)
{
	pg_store *s = (pg_store *)base;
	batch_stop(&s->queue);
	while (s->free_readers != NULL) {
		pg_conn *c = s->free_readers;
		s->free_readers = c->next_free;
		conn_close(c);
		free(c);
	}
	conn_close(&s->writer);
	pthread_mutex_destroy(&s->write_mu);
	pthread_mutex_destroy(&s->pool_mu);
	pthread_cond_destroy(&s->pool_cv);
	free(s->conninfo);
	free(s);
}

/* ---- store-wide ----------------------------------------------------------- */

/* What an erasure leaves behind in PostgreSQL are the old versions of the
 * rows (MVCC): VACUUM of the tables that held personal data makes their
 * space free for reuse. It cannot promise the bytes are overwritten at once,
 * nor reach the WAL already written or the backups: README says what to do. */
static ob_err pg_checkpoint(ob_store *base)
{
	pg_store *s = (pg_store *)base;
	pg_conn *c;
	ob_err err = reader_take(s, &c);
	if (err != OB_OK)
		return err;
	err = pg_exec(c->db, "VACUUM contact, history, idempotency", "vacuum after erasure");
	reader_give(s, c);
	return err;
}

/* The newest row of schema_migration written again as it is: a real write of a table of
 * the store's, so that what refuses the writes refuses it too, a database or a session
 * read-only (default_transaction_read_only, a standby) or the table's privileges; its
 * commit writes the WAL and flushes it, as any write's does (store.h, touch). It was
 * SELECT pg_current_xact_id(), which a read-only transaction allows: health came back
 * while every write failed (tests/store/test_pg_health.c). */
static ob_err pg_touch(ob_txn *base)
{
	return pg_exec(((pg_txn *)base)->c->db,
	               "UPDATE schema_migration SET version = version"
	               " WHERE version = (SELECT max(version) FROM schema_migration)",
	               "touch");
}

/* A fresh connection that runs a query: the pooled ones would not notice a
 * revoked permission. */

static ob_err pg_ping(ob_store *base)
{
	pg_store *s = (pg_store *)base;
	PGconn *c = NULL;
	ob_err err = pg_connect(s->conninfo, &c);
	if (err == OB_OK)
		err = pg_exec(c, "SELECT 1 FROM schema_migration LIMIT 1", "ping");
	PQfinish(c);
	return err;
}

static void pg_stats(ob_store *base, ob_store_stats *out)
{
	batch_stats(&((pg_store *)base)->queue, out);
}

static void pg_email_index(ob_store *base, const char *email, uint8_t out[OB_STORE_INDEX_LEN])
{
	seal_email_index(((pg_store *)base)->keys, email, out);
}

/* A backup of a PostgreSQL programme is the database's own (pg_dump or
 * pg_basebackup with its WAL archive: README), not a file this process
 * writes. */
static ob_err pg_backup(ob_store *base, const char *path, ob_store_backup *out)
{
	(void)base;
	(void)path;
	memset(out, 0, sizeof(*out));
	ob_log(OB_LOG_WARN, "backup: the PostgreSQL store is backed up with pg_dump or "
	                    "pg_basebackup, not by onboardd");
	return OB_ENOTSUP;
}

static const ob_store_ops pg_ops = {
        .name = "postgresql",
        .shared = true,
        .destroy = pg_destroy,
        .begin = pg_begin,
        .write = pg_write,
        .commit = pg_commit,
        .rollback = pg_rollback,
        .cohort_get = pg_cohort_get,
        .cohort_list = pg_cohort_list,
        .cohort_insert = pg_cohort_insert,
        .cohort_set_capacity = pg_cohort_set_capacity,
        .counter_add = pg_counter_add,
        .counters_add = pg_counters_add,
        .counter_get = pg_counter_get,
        .counter_list = pg_counter_list,
        .app_insert = pg_app_insert,
        .app_update = pg_app_update,
        .app_get = pg_app_get,
        .app_get_by_siren = pg_app_get_by_siren,
        .app_first_waitlisted = pg_app_first_waitlisted,
        .app_waitlist_position = pg_app_waitlist_position,
        .waitlist_leave = pg_waitlist_leave,
        .app_list = pg_app_list,
        .benefits_of_siren = pg_benefits_of_siren,
        .history_append = pg_history_append,
        .history_load = pg_history_load,
        .webinar_booked = pg_webinar_booked,
        .webinar_add = pg_webinar_add,
        .booking_get = pg_booking_get,
        .booking_put = pg_booking_put,
        .booking_delete = pg_booking_delete,
        .advisors_create = pg_advisors_create,
        .advisor_insert = pg_advisor_insert,
        .advisor_get = pg_advisor_get,
        .advisor_update = pg_advisor_update,
        .advisor_list = pg_advisor_list,
        .advisor_pick = pg_advisor_pick,
        .advisor_add = pg_advisor_add,
        .idem_get = pg_idem_get,
        .idem_put = pg_idem_put,
        .idem_purge = pg_idem_purge,
        .contact_erase = pg_contact_erase,
        .apps_by_email = pg_apps_by_email,
        .rewrap_batch = pg_rewrap_batch,
        .audit_append = pg_audit_append,
        .audit_list = pg_audit_list,
        .checkpoint = pg_checkpoint,
        .touch = pg_touch,
        .ping = pg_ping,
        .stats = pg_stats,
        .email_index = pg_email_index,
        .backup = pg_backup,
};
