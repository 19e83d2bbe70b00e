/*
 * Health on PostgreSQL when writes fail: the cluster made read-only
 * (default_transaction_read_only, set by ALTER SYSTEM and a reload, as an operator does when
 * its disk runs short: it reaches the sessions already open, the store's pool included).
 * A write that fails makes the domain's health NOT_SERVING; it must stay so while the
 * database refuses writes, the domain's own probe (the store's touch) included, and come
 * back to SERVING by itself, with no client writing, once the database takes writes again.
 * Runs under tools/pgcluster.sh (suite pg): a cluster of this program's own, so that a
 * setting of the whole cluster touches no other test.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "base/clock.h"
#include "base/time.h"
#include "domain/domain.h"
#include "store/pg.h"
#include "testdata.h"
#include "testdomain.h"
#include "testpg.h"
#include "testutil.h"

/* How long the probe gets to notice, either way: far above its one-second period. */
enum { DEADLINE_MS = 30 * 1000, STEP_MS = 50 };

typedef struct fixture {
	ob_test_pg db;
	ob_keystore *keys;
	ob_store *store;
	ob_domain *d;
	/* The store's operations with write counted: the test's way to know that the
	 * domain's probe, a write of its own, has run and ended. */
	ob_store_ops ops;
	const ob_store_ops *real;
	uint32_t next_company;
} fixture;

static atomic_uint writes_done;
static const ob_store_ops *real_ops;

static ob_err counted_write(ob_store *s, ob_err (*fn)(ob_txn *, void *), void *arg)
{
	ob_err err = real_ops->write(s, fn, arg);
	atomic_fetch_add(&writes_done, 1);
	return err;
}

/* Runs sql on the cluster's "postgres" database, as its superuser. */
static int admin(const char *sql)
{
	PGconn *c = PQconnectdb(getenv("ONBOARD_TEST_PG"));
	int rc = -1;
	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, sql);
		rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK
		             ? 0
		             : -1;
		if (rc != 0)
			fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
		PQclear(r);
	}
	PQfinish(c);
	return rc;
}

static int read_only(int on)
{
	return admin(on ? "ALTER SYSTEM SET default_transaction_read_only = on"
	                : "ALTER SYSTEM RESET default_transaction_read_only") == 0 &&
	                       admin("SELECT pg_reload_conf()") == 0
	               ? 0
	               : -1;
}

static int setup(void **state)
{
	fixture *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -1;
	*state = t;
	t->next_company = 100;
	if (ob_test_pg_create(&t->db) != 0 || (t->keys = ob_test_keystore_random()) == NULL ||
	    ob_store_open_pg(&t->store, t->db.conninfo, t->keys, 4) != OB_OK)
		return -1;
	t->real = real_ops = t->store->ops;
	t->ops = *t->store->ops;
	t->ops.write = counted_write;
	t->store->ops = &t->ops;
	return ob_domain_create(&t->d, t->store, t->keys) == OB_OK ? 0 : -1;
}

static int teardown(void **state)
{
	fixture *t = *state;
	if (read_only(0) != 0)
		fprintf(stderr, "the cluster may still be read-only\n");
	ob_domain_destroy(t->d); /* joins the probe */
	if (t->store != NULL) {
		t->store->ops = t->real;
		ob_store_destroy(t->store);
	}
	ob_keystore_destroy(t->keys);
	ob_test_pg_drop(&t->db);
	free(t);
	return 0;
}

/* A client's write: a new company submitted to the default cohort. */
static ob_err submit(fixture *t)
{
	return td_submit(t->d, t->next_company++, NULL, NULL, NULL);
}

static void health_follows_a_read_only_database(void **state)
{
	fixture *t = *state;
	assert_int_equal(submit(t), OB_OK);
	assert_int_equal(ob_domain_store_health(t->d), OB_OK);

	/* The reload reaches each session when it next reads a command: until a write
	 * fails, the ones that still go through are ordinary writes. */
	assert_int_equal(read_only(1), 0);
	ob_err err = OB_OK;
	for (int waited = 0; (err = submit(t)) == OB_OK && waited < DEADLINE_MS; waited += STEP_MS)
		ob_test_sleep_ms(STEP_MS);
	/* SQLSTATE 25006, read_only_sql_transaction: a fault of the store that passes, not of
	 * the write: OB_EUNAVAIL, which rpc answers UNAVAILABLE with a retry-after, as
	 * SQLite's read-only file. */
	assert_int_equal(err, OB_EUNAVAIL);
	ob_err failed = err;
	assert_int_equal(ob_domain_write_health(t->d), failed);
	assert_int_not_equal(ob_domain_store_health(t->d), OB_OK);

	/* While the database refuses writes, health stays NOT_SERVING through the probe's
	 * writes: the first two health checks after the write failed start one each (one
	 * a second, OB_STORE_HEALTH_TTL_MS), and each must fail as the client's did. */
	unsigned before = atomic_load(&writes_done);
	for (int waited = 0; atomic_load(&writes_done) < before + 2 && waited < DEADLINE_MS;
	     waited += STEP_MS) {
		assert_int_not_equal(ob_domain_store_health(t->d), OB_OK);
		ob_test_sleep_ms(STEP_MS);
	}
	assert_true(atomic_load(&writes_done) >= before + 2);
	assert_int_equal(ob_domain_write_health(t->d), failed);
	assert_int_not_equal(ob_domain_store_health(t->d), OB_OK);

	/* Cleared: SERVING again by itself, through the probe, with no client writing. */
	assert_int_equal(read_only(0), 0);
	err = ob_domain_store_health(t->d);
	for (int waited = 0; err != OB_OK && waited < DEADLINE_MS; waited += STEP_MS) {
		ob_test_sleep_ms(STEP_MS);
		err = ob_domain_store_health(t->d);
	}
	assert_int_equal(err, OB_OK);
	assert_int_equal(ob_domain_write_health(t->d), OB_OK);
	assert_int_equal(submit(t), OB_OK);
}

int main(void)
{
	/* The default cohort the domain makes is this month's, and open. */
	int64_t now = 0;
	if (!ob_time_parse_rfc3339("2020-11-20T12:00:00Z", &now))
		return 1;
	ob_clock_set_now_ms(now);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(health_follows_a_read_only_database, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
