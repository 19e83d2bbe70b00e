/*
 * Two stores on one PostgreSQL database, each with a domain of its own, as two onboardd
 * would be: what the database must decide across them. Submissions from threads of both at
 * once fill a cohort's seats exactly and waitlist the rest in one line; the same SIREN
 * submitted through both at once is taken once. Runs under tools/pgcluster.sh (suite pg).
 */
#include <pthread.h>
#include <stdarg.h>
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

enum { THREADS = 4, PER_THREAD = 15, CAPACITY = 20 };

typedef struct two {
	ob_test_pg db;
	ob_keystore *keys; /* the one key file both instances read */
	ob_store *store[2];
	ob_domain *d[2];
} two;

static int setup(void **state)
{
	two *t = calloc(1, sizeof(*t));
	int64_t now = 0;
	if (t == NULL || !ob_time_parse_rfc3339("2020-11-20T12:00:00Z", &now))
		return -1;
	ob_clock_set_now_ms(now);
	*state = t;
	if (ob_test_pg_create(&t->db) != 0 || (t->keys = ob_test_keystore_random()) == NULL)
		return -1;
	for (int i = 0; i < 2; i++)
		if (ob_store_open_pg(&t->store[i], t->db.conninfo, t->keys, 4) != OB_OK ||
		    ob_domain_create(&t->d[i], t->store[i], t->keys) != OB_OK)
			return -1;
	return 0;
}

static int teardown(void **state)
{
	two *t = *state;
	for (int i = 0; i < 2; i++) {
		ob_domain_destroy(t->d[i]);
		ob_store_destroy(t->store[i]);
	}
	ob_keystore_destroy(t->keys);
	ob_test_pg_drop(&t->db);
	free(t);
	return 0;
}

typedef struct worker {
	ob_domain *d;
	uint32_t first; /* the companies first..first+PER_THREAD-1 of testdata.h */
	const char *cohort;
	int ok, waitlisted, failed;
} worker;

static void *submit_many(void *arg)
{
	worker *w = arg;
	for (uint32_t n = w->first; n < w->first + PER_THREAD; n++) {
		ob_application a;
		if (td_submit(w->d, n, w->cohort, &a, NULL) != OB_OK)
			w->failed++;
		else if (a.state == OB_STATE_WAITLISTED)
			w->waitlisted++;
		else
			w->ok++;
		ob_application_fini(&a);
	}
	return NULL;
}

static void seats_decided_by_the_database(void **state)
{
	two *t = *state;
	ob_cohort c, out;
	ob_cohort_default(&c);
	snprintf(c.id, sizeof(c.id), "%s", "2020-12");
	snprintf(c.name, sizeof(c.name), "%s", "two instances");
	c.capacity = CAPACITY;
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_cohort_create(t->d[0], &c, &out, &o), OB_OK);
	ob_outcome_fini(&o);

	worker w[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (worker){.d = t->d[i % 2],
		                .first = 100 + (uint32_t)i * PER_THREAD,
		                .cohort = "2020-12"};
		assert_int_equal(pthread_create(&th[i], NULL, submit_many, &w[i]), 0);
	}
	int ok = 0, waitlisted = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failed, 0);
		ok += w[i].ok;
		waitlisted += w[i].waitlisted;
	}
	assert_int_equal(ok, CAPACITY);
	assert_int_equal(waitlisted, THREADS * PER_THREAD - CAPACITY);

	/* Both instances read the same standing, from the database. */
	for (int i = 0; i < 2; i++) {
		ob_standing st;
		ob_outcome_init(&o);
		assert_int_equal(ob_domain_standing(t->d[i], "2020-12", &st, &o), OB_OK);
		assert_int_equal(st.applications, THREADS * PER_THREAD);
		assert_int_equal(st.seats_held, CAPACITY);
		assert_int_equal(st.waitlist, THREADS * PER_THREAD - CAPACITY);
		ob_standing_fini(&st);
		ob_outcome_fini(&o);
	}
	/* Each instance committed its own share of the writes, in batches (/metrics). */
	uint64_t writes = 0;
	for (int i = 0; i < 2; i++) {
		ob_store_stats stats;
		ob_domain_store_stats(t->d[i], &stats);
		assert_true(stats.batches > 0 && stats.batches <= stats.writes);
		writes += stats.writes;
	}
	assert_true(writes >= THREADS * PER_THREAD + 1); /* the submissions and the cohort */
	/* The line is one: tickets are 1..N in seq order, none twice. */
	PGconn *pc = ob_test_pg_connect(&t->db);
	assert_non_null(pc);
	assert_int_equal(ob_test_pg_int(pc, "SELECT count(*) FROM application WHERE "
	                                    "cohort_id = '2020-12' AND state = 2"),
	                 CAPACITY);
	assert_int_equal(ob_test_pg_int(pc, "SELECT count(DISTINCT wl_ticket) FROM application "
	                                    "WHERE cohort_id = '2020-12' AND state = 1"),
	                 THREADS * PER_THREAD - CAPACITY);
	assert_int_equal(ob_test_pg_int(pc, "SELECT count(*) FROM (SELECT wl_ticket, row_number() "
	                                    "OVER (ORDER BY seq) AS r FROM application WHERE "
	                                    "cohort_id = '2020-12' AND state = 1) x WHERE "
	                                    "wl_ticket != r"),
	                 0);
	PQfinish(pc);
}

typedef struct same {
	ob_domain *d;
	ob_err err;
} same;

static void *submit_company_7(void *arg)
{
	same *x = arg;
	x->err = td_submit(x->d, 7, NULL, NULL, NULL);
	return NULL;
}

static void one_live_application_per_siren(void **state)
{
	two *t = *state;
	same x[2] = {{.d = t->d[0]}, {.d = t->d[1]}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, submit_company_7, &x[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_true((x[0].err == OB_OK && x[1].err == OB_EEXIST) ||
	            (x[0].err == OB_EEXIST && x[1].err == OB_OK));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(seats_decided_by_the_database, setup, teardown),
	        cmocka_unit_test_setup_teardown(one_live_application_per_siren, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
