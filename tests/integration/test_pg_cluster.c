/*
 * test_pg_cluster.c: two onboardd on one PostgreSQL database (issue 13 §4), through the client
 * library and the real processes. Runs under tools/pgcluster.sh (suite integration-pg).
 *
 * One database of the test's own, migrated by `onboardd migrate`, which makes the key file both
 * instances read; then, in order, the phases sharing them:
 *   - 1,000 companies submitted at once by 10 threads, each with a connection of its own, half
 *     of them to each instance: exactly 800 seats and 200 in line, none lost, none twice, in
 *     the database and in the cohort's counters that both instances read. The instances never
 *     meet a serialization failure: the write lock decides who writes (store/pg_store.c).
 *   - one instance killed with SIGKILL while 6 threads submit: the threads of the other go on
 *     to the end; every acknowledged submission is in the database; every submission of the
 *     run sent again to the survivor with its idempotency-key is the original reply when it
 *     had been acknowledged, and exactly one application per company afterwards.
 *   - a review started on one instance and finished on the other: the version check holds
 *     across instances (a stale expected_version is ABORTED), and of two reviews of the same
 *     version sent at once to both, exactly one is done.
 *   - a deadlock (40P01) between an instance's write and another session is run again by the
 *     instance: the submission is acknowledged and stored once.
 *   - a key rotation through one instance is seen by the other without a restart (keystore.h),
 *     and an instance whose key file lacks the new key answers UNAVAILABLE naming it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "onboard/client.h"
#include "onboard/v1/admin.pb-c.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "testdata_pb.h"
#include "testpg.h"
#include "testsrv.h"
#include "testutil.h"

enum {
	CAPACITY = 800,
	THREADS = 10,
	PER_THREAD = 100,
	COMPANIES = THREADS * PER_THREAD,
	KILL_THREADS = 6,
	KILL_PER_THREAD = 100,
	KILL_FIRST = 2000,   /* the companies of the kill phase: 2000.. */
	KILL_AFTER = 50,     /* acknowledged by the victim before it is killed */
	CALL_MS = 60000,     /* generous: a small shared machine, maybe a sanitizer build */
	KILL_CALL_MS = 10000 /* a call to the killed instance fails within this */
};

#define GET    "/onboard.v1.Onboarding/GetApplication"
#define REVIEW "/onboard.v1.Onboarding/ReviewApplication"
#define COHORT "/onboard.v1.Onboarding/GetCohort"

/* pg_store.c's write lock, which every write of every instance takes first. */
#define WRITE_LOCK "7957688145643188599"

typedef Onboard__V1__Application pb_app;

typedef struct world {
	ob_test_pg db;
	char dir[256];
	char url[512];
	char key[320];
	ob_testsrv srv[2];
	PGconn *pc; /* the test's own look at the database */
} world;

/* ---- calls ------------------------------------------------------------------------------- */

static ob_client *connect_to(const char *url)
{
	ob_client *cl = NULL;
	char err[256] = "";
	const char *urls[] = {url};
	if (ob_client_open(&cl, urls, 1, NULL, err, sizeof(err)) != 0)
		fail_msg("cannot connect to %s: %s", url, err);
	return cl;
}

/* Submits company n with the idempotency-key "PREFIX-n"; *out gets the application on OK. */
static int submit(ob_client *cl, const char *prefix, uint32_t n, int timeout_ms, pb_app **out,
                  ob_result *r)
{
	td_company c;
	td_company_make(&c, n);
	char key[64];
	snprintf(key, sizeof(key), "%s-%u", prefix, n);
	return ob_testsrv_submit(cl, &c, NULL, key, timeout_ms, out, r);
}

/* Calls method with rq and returns the reply as d; the test fails unless it is OK. */
static void *call_ok(ob_client *cl, const char *method, const ProtobufCMessage *rq,
                     const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *rs = NULL;
	ob_result r;
	int code = ob_client_call_message(cl, method, NULL, 0, rq, d, &rs, CALL_MS, &r);
	if (code != OB_CODE_OK)
		fail_msg("%s: %s: %s", method, ob_code_name(code), r.message);
	ob_result_fini(&r);
	return rs;
}

static pb_app *get_app(ob_client *cl, const char *id)
{
	Onboard__V1__GetApplicationRequest rq = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
	rq.id = (char *)id;
	return call_ok(cl, GET, &rq.base, &onboard__v1__application__descriptor);
}

/* Reviews id with action at expected_version; returns the code, *version the new version. */
static int review(ob_client *cl, const char *id, Onboard__V1__ReviewAction action,
                  uint64_t expected_version, uint64_t *version)
{
	Onboard__V1__ReviewApplicationRequest rq = ONBOARD__V1__REVIEW_APPLICATION_REQUEST__INIT;
	rq.id = (char *)id;
	rq.action = action;
	rq.expected_version = expected_version;
	pb_app *a = NULL;
	ob_result r;
	int code = ob_client_call_message(cl, REVIEW, NULL, 0, &rq.base,
	                                  &onboard__v1__application__descriptor,
	                                  (ProtobufCMessage **)&a, CALL_MS, &r);
	if (code == OB_CODE_OK && version != NULL)
		*version = a->version;
	td_pb_app_free(a);
	ob_result_fini(&r);
	return code;
}

/* The standing of the default cohort through cl: seats held, waiting, applications. */
static void assert_standing(ob_client *cl, uint32_t held, uint32_t waiting, uint32_t apps)
{
	Onboard__V1__GetCohortRequest rq = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
	Onboard__V1__CohortStanding *st =
	        call_ok(cl, COHORT, &rq.base, &onboard__v1__cohort_standing__descriptor);
	assert_int_equal(st->cohort->capacity, CAPACITY);
	assert_int_equal(st->seats_held, held);
	assert_int_equal(st->waitlist_length, waiting);
	assert_int_equal(st->applications, apps);
	protobuf_c_message_free_unpacked(&st->base, NULL);
}

static long long pg_int(world *w, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return ob_test_pg_int(w->pc, sql);
}

/* How many lines of the instance's log hold text. */
static int log_count(const ob_testsrv *s, const char *text)
{
	size_t len;
	char *log = ob_test_read_file(s->log, &len);
	int n = 0;
	for (const char *p = log; p != NULL && (p = strstr(p, text)) != NULL; p += strlen(text))
		n++;
	free(log);
	return n;
}

/* ---- the two instances ------------------------------------------------------------------- */

static int start_instance(world *w, int i)
{
	const char *const args[] = {"--db", w->url, "--master-key", w->key, "--db-pool", "4", NULL};
	return ob_testsrv_start(&w->srv[i], args);
}

static int group_setup(void **state)
{
	world *w = calloc(1, sizeof(*w));
	if (w == NULL || ob_test_mkdtemp(w->dir, sizeof(w->dir), "ob-cluster") != 0)
		goto fail;
	snprintf(w->key, sizeof(w->key), "%s/master.key", w->dir);
	char log[320];
	snprintf(log, sizeof(log), "%s/migrate.log", w->dir);
	if (ob_test_pg_create(&w->db) != 0 || ob_test_pg_url(&w->db, w->url, sizeof(w->url)) != 0 ||
	    ob_onboardd_run(
	            (const char *const[]){"migrate", "--db", w->url, "--master-key", w->key, NULL},
	            log, 30000) != 0)
		goto fail;
	if (start_instance(w, 0) != 0 || start_instance(w, 1) != 0 ||
	    (w->pc = ob_test_pg_connect(&w->db)) == NULL)
		goto fail;
	*state = w;
	return 0;
fail:
	if (w != NULL) {
		ob_testsrv_finish(&w->srv[0]);
		ob_testsrv_finish(&w->srv[1]);
		ob_test_pg_drop(&w->db);
		if (w->dir[0] != '\0')
			ob_test_remove_tree(w->dir);
	}
	free(w);
	return -1;
}

static int group_teardown(void **state)
{
	world *w = *state;
	PQfinish(w->pc);
	int rc = ob_testsrv_finish(&w->srv[0]) | ob_testsrv_finish(&w->srv[1]);
	ob_test_pg_drop(&w->db);
	ob_test_remove_tree(w->dir);
	free(w);
	return rc;
}

/* ---- 1,000 submissions over both --------------------------------------------------------- */

/* What the threads of one instance have done, as they go. */
typedef struct tally {
	atomic_int acked;    /* submissions acknowledged */
	atomic_int finished; /* threads that stopped */
} tally;

typedef struct submitter {
	const char *url;
	const char *prefix;
	uint32_t first, count;
	int timeout_ms;
	tally *tally; /* the acknowledgements of the threads of one instance, or NULL */
	/* results */
	int ok, waitlisted, failed;
	bool *acknowledged; /* [count]: company first+i was acknowledged */
	char (*ids)[32];    /* [count]: its application id */
} submitter;

/* Submits companies first..first+count-1 one after the other; stops at the first failure
 * (the instance is gone) when the caller counts acknowledgements. */
static void *submit_many(void *arg)
{
	submitter *t = arg;
	ob_client *cl = NULL;
	char err[256] = "";
	const char *urls[] = {t->url};
	if (ob_client_open(&cl, urls, 1, NULL, err, sizeof(err)) != 0) {
		t->failed = (int)t->count;
		if (t->tally != NULL)
			atomic_fetch_add(&t->tally->finished, 1);
		return NULL;
	}
	for (uint32_t i = 0; i < t->count; i++) {
		pb_app *a = NULL;
		ob_result r;
		int code = submit(cl, t->prefix, t->first + i, t->timeout_ms, &a, &r);
		if (code == OB_CODE_OK) {
			if (a->state ==
			    ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED)
				t->waitlisted++;
			else
				t->ok++;
			t->acknowledged[i] = true;
			snprintf(t->ids[i], sizeof(t->ids[i]), "%s", a->id);
			if (t->tally != NULL)
				atomic_fetch_add(&t->tally->acked, 1);
		} else {
			t->failed++;
		}
		td_pb_app_free(a);
		ob_result_fini(&r);
		if (code != OB_CODE_OK && t->tally != NULL)
			break;
	}
	ob_client_close(cl);
	if (t->tally != NULL)
		atomic_fetch_add(&t->tally->finished, 1);
	return NULL;
}

static void submitter_init(submitter *t, const char *url, const char *prefix, uint32_t first,
                           uint32_t count, int timeout_ms, tally *counts)
{
	*t = (submitter){.url = url,
	                 .prefix = prefix,
	                 .first = first,
	                 .count = count,
	                 .timeout_ms = timeout_ms,
	                 .tally = counts};
	t->acknowledged = calloc(count, sizeof(*t->acknowledged));
	t->ids = calloc(count, sizeof(*t->ids));
	assert_non_null(t->acknowledged);
	assert_non_null(t->ids);
}

static void submitter_fini(submitter *t)
{
	free(t->acknowledged);
	free(t->ids);
}

static void test_1000_over_two_instances(void **state)
{
	world *w = *state;
	submitter t[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		submitter_init(&t[i], w->srv[i % 2].url, "seat", (uint32_t)i * PER_THREAD,
		               PER_THREAD, CALL_MS, NULL);
		assert_int_equal(pthread_create(&th[i], NULL, submit_many, &t[i]), 0);
	}
	int ok = 0, waitlisted = 0, failed = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		ok += t[i].ok;
		waitlisted += t[i].waitlisted;
		failed += t[i].failed;
		submitter_fini(&t[i]);
	}
	assert_int_equal(failed, 0);
	assert_int_equal(ok, CAPACITY);
	assert_int_equal(waitlisted, COMPANIES - CAPACITY);

	/* Both instances read the same counters, from the database. */
	assert_standing(w->srv[0].client, CAPACITY, COMPANIES - CAPACITY, COMPANIES);
	assert_standing(w->srv[1].client, CAPACITY, COMPANIES - CAPACITY, COMPANIES);
	/* The database: each company once; 800 seats (state 2), 200 in line (state 1) holding
	 * the tickets 1..200 in submission order; one idempotency record per submission. */
	assert_int_equal(pg_int(w, "SELECT count(*) FROM application"), COMPANIES);
	assert_int_equal(pg_int(w, "SELECT count(DISTINCT siren) FROM application"), COMPANIES);
	assert_int_equal(pg_int(w, "SELECT count(*) FROM application WHERE state = 2"), CAPACITY);
	assert_int_equal(pg_int(w, "SELECT count(*) FROM application WHERE state = 1"),
	                 COMPANIES - CAPACITY);
	assert_int_equal(pg_int(w, "SELECT count(*) FROM (SELECT wl_ticket, row_number() OVER "
	                           "(ORDER BY seq) AS r FROM application WHERE state = 1) x "
	                           "WHERE wl_ticket != r"),
	                 0);
	assert_int_equal(pg_int(w, "SELECT count(*) FROM idempotency"), COMPANIES);
	/* The counters as stored (domain/counters.c) agree with the rows they count. */
	assert_int_equal(pg_int(w, "SELECT count FROM counter WHERE cohort_id = '2020-11' AND "
	                           "key = 'seats'"),
	                 CAPACITY);
	assert_int_equal(pg_int(w, "SELECT count FROM counter WHERE cohort_id = '2020-11' AND "
	                           "key = 'waitlist'"),
	                 COMPANIES - CAPACITY);
	assert_int_equal(pg_int(w, "SELECT count FROM counter WHERE cohort_id = '2020-11' AND "
	                           "key = 'apps'"),
	                 COMPANIES);
	/* Each instance wrote its share, and the write lock kept them from ever meeting a
	 * serialization failure or a deadlock. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(log_count(&w->srv[i], "serialization failure"), 0);
}

/* ---- SIGKILL in the middle of a run ------------------------------------------------------ */

static void test_kill9_mid_run(void **state)
{
	world *w = *state;
	long long before = pg_int(w, "SELECT count(*) FROM application");
	submitter t[KILL_THREADS];
	pthread_t th[KILL_THREADS];
	tally tallies[2];
	for (int i = 0; i < 2; i++) {
		atomic_init(&tallies[i].acked, 0);
		atomic_init(&tallies[i].finished, 0);
	}
	for (int i = 0; i < KILL_THREADS; i++) {
		submitter_init(&t[i], w->srv[i % 2].url, "kill",
		               KILL_FIRST + (uint32_t)i * KILL_PER_THREAD, KILL_PER_THREAD,
		               KILL_CALL_MS, &tallies[i % 2]);
		assert_int_equal(pthread_create(&th[i], NULL, submit_many, &t[i]), 0);
	}
	/* Instance 0 dies once it has acknowledged KILL_AFTER of its 300: in the middle. */
	while (atomic_load(&tallies[0].acked) < KILL_AFTER &&
	       atomic_load(&tallies[0].finished) < KILL_THREADS / 2)
		ob_test_sleep_ms(1);
	assert_true(atomic_load(&tallies[0].acked) >= KILL_AFTER);
	ob_testsrv_kill9(&w->srv[0]);
	for (int i = 0; i < KILL_THREADS; i++)
		pthread_join(th[i], NULL);

	/* The survivor served its threads to the end. */
	for (int i = 1; i < KILL_THREADS; i += 2) {
		assert_int_equal(t[i].failed, 0);
		assert_int_equal(t[i].ok + t[i].waitlisted, KILL_PER_THREAD);
	}
	int victim_acked = 0;
	for (int i = 0; i < KILL_THREADS; i += 2)
		victim_acked += t[i].ok + t[i].waitlisted;
	assert_true(victim_acked >= KILL_AFTER);
	assert_true(victim_acked < KILL_THREADS / 2 * KILL_PER_THREAD);

	/* Every acknowledged submission is there, under the id its client was told. */
	for (int i = 0; i < KILL_THREADS; i++)
		for (uint32_t k = 0; k < KILL_PER_THREAD; k++)
			if (t[i].acknowledged[k])
				assert_int_equal(
				        pg_int(w,
				               "SELECT count(*) FROM application WHERE id = "
				               "'%s'",
				               t[i].ids[k]),
				        1);

	/* Every submission of the run again, to the survivor, with its key: an acknowledged one
	 * is its original reply; one that was not is done now or was done once already. */
	ob_client *cl = connect_to(w->srv[1].url);
	for (int i = 0; i < KILL_THREADS; i++) {
		for (uint32_t k = 0; k < KILL_PER_THREAD; k++) {
			pb_app *a = NULL;
			ob_result r;
			int code = submit(cl, "kill", t[i].first + k, CALL_MS, &a, &r);
			if (code != OB_CODE_OK)
				fail_msg("company %u again: %s: %s", t[i].first + k,
				         ob_code_name(code), r.message);
			if (t[i].acknowledged[k]) {
				assert_true(r.replayed);
				assert_string_equal(a->id, t[i].ids[k]);
			}
			td_pb_app_free(a);
			ob_result_fini(&r);
		}
	}
	ob_client_close(cl);
	for (int i = 0; i < KILL_THREADS; i++)
		submitter_fini(&t[i]);

	/* None lost, none twice. */
	int run = KILL_THREADS * KILL_PER_THREAD;
	assert_int_equal(pg_int(w, "SELECT count(*) FROM application"), before + run);
	assert_int_equal(pg_int(w, "SELECT count(DISTINCT siren) FROM application"), before + run);
	assert_standing(w->srv[1].client, CAPACITY, (uint32_t)(before + run - CAPACITY),
	                (uint32_t)(before + run));
	/* The killed instance serves again, and sees the same. */
	assert_int_equal(ob_testsrv_restart(&w->srv[0]), 0);
	assert_standing(w->srv[0].client, CAPACITY, (uint32_t)(before + run - CAPACITY),
	                (uint32_t)(before + run));
}

/* ---- a review across instances ----------------------------------------------------------- */

/* The id of the first seat holder still SUBMITTED, from the database. */
static void first_submitted(world *w, char id[32])
{
	PGresult *r = PQexec(w->pc, "SELECT id FROM application WHERE state = 2 ORDER BY seq "
	                            "LIMIT 1");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(r), 1);
	snprintf(id, 32, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

typedef struct reviewer {
	ob_client *cl;
	const char *id;
	uint64_t version;
	int code;
} reviewer;

static void *review_start(void *arg)
{
	reviewer *r = arg;
	r->code = review(r->cl, r->id, ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_START, r->version,
	                 NULL);
	return NULL;
}

static void test_review_across_instances(void **state)
{
	world *w = *state;
	char id[32];
	first_submitted(w, id);
	pb_app *a = get_app(w->srv[0].client, id);
	uint64_t seen = a->version;
	td_pb_app_free(a);

	/* Started on one, finished on the other, each at the version it saw. */
	uint64_t started;
	assert_int_equal(review(w->srv[0].client, id,
	                        ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_START, seen, &started),
	                 OB_CODE_OK);
	assert_true(started > seen);
	/* The other instance refuses the version the application had before. */
	assert_int_equal(review(w->srv[1].client, id,
	                        ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_APPROVE, seen, NULL),
	                 OB_CODE_ABORTED);
	uint64_t approved;
	assert_int_equal(review(w->srv[1].client, id,
	                        ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_APPROVE, started,
	                        &approved),
	                 OB_CODE_OK);
	a = get_app(w->srv[0].client, id);
	assert_int_equal(a->state, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_APPROVED);
	assert_int_equal(a->version, approved);
	td_pb_app_free(a);

	/* Two reviewers, one on each instance, start the same application at the same version at
	 * once: one does, the other is told it changed. */
	first_submitted(w, id);
	a = get_app(w->srv[1].client, id);
	seen = a->version;
	td_pb_app_free(a);
	reviewer rv[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		rv[i] = (reviewer){.cl = w->srv[i].client, .id = id, .version = seen};
		assert_int_equal(pthread_create(&th[i], NULL, review_start, &rv[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	int done = (rv[0].code == OB_CODE_OK) + (rv[1].code == OB_CODE_OK);
	int aborted = (rv[0].code == OB_CODE_ABORTED) + (rv[1].code == OB_CODE_ABORTED);
	assert_int_equal(done, 1);
	assert_int_equal(aborted, 1);
	assert_int_equal(pg_int(w,
	                        "SELECT count(*) FROM history h JOIN application a ON a.seq = "
	                        "h.app_seq WHERE a.id = '%s'",
	                        id),
	                 2); /* submitted, started: once */
}

/* ---- a deadlock, run again --------------------------------------------------------------- */

typedef struct one_submit {
	ob_client *cl;
	uint32_t n;
	int code;
	bool replayed;
	atomic_bool done; /* the call has returned */
} one_submit;

static void *submit_one(void *arg)
{
	one_submit *o = arg;
	pb_app *a = NULL;
	ob_result r;
	o->code = submit(o->cl, "deadlock", o->n, CALL_MS, &a, &r);
	o->replayed = r.replayed;
	td_pb_app_free(a);
	ob_result_fini(&r);
	atomic_store(&o->done, true);
	return NULL;
}

/* Another session holds the cohort's counters and then asks for the write lock that an
 * instance's write holds while it waits for those counters: a deadlock. This session waits
 * for the lock 5 s before it looks for deadlocks, so PostgreSQL finds it from the
 * instance's side after its deadlock_timeout (1 s) and fails the instance's statement with
 * 40P01. The instance runs the write again (it logs so); the session then gives up its wait
 * (cancelled) and its locks, and the write goes through. */
static void test_deadlock_is_run_again(void **state)
{
	world *w = *state;
	ob_testsrv *s = &w->srv[0];
	int retried = log_count(s, "serialization failure");
	long long before = pg_int(w, "SELECT count(*) FROM application");
	long long keys = pg_int(w, "SELECT count(*) FROM idempotency");
	PGconn *other = ob_test_pg_connect(&w->db);
	assert_non_null(other);
	PGresult *r = PQexec(other, "SET deadlock_timeout = '5s'; BEGIN; SELECT count(*) FROM "
	                            "(SELECT * FROM counter WHERE cohort_id = '2020-11' FOR "
	                            "UPDATE) x");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);

	one_submit o = {.cl = s->client, .n = 5000};
	atomic_init(&o.done, false);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, submit_one, &o), 0);
	/* The instance's writer waits for a counter. */
	while (!atomic_load(&o.done) &&
	       pg_int(w, "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
	                 "'onboardd' AND wait_event_type = 'Lock'") < 1)
		ob_test_sleep_ms(20);
	assert_false(atomic_load(&o.done)); /* it waits, and cannot finish without this session */
	assert_int_equal(PQsendQuery(other, "SELECT pg_advisory_xact_lock(" WRITE_LOCK ")"), 1);
	/* The deadlock is found on the instance's side, which runs its write again (had this
	 * session asked after the instance's one look for deadlocks, its own look, 5 s on,
	 * would fail it instead: then the test fails below). */
	while (log_count(s, "serialization failure") == retried && PQconsumeInput(other) == 1 &&
	       PQisBusy(other))
		ob_test_sleep_ms(20);
	assert_int_equal(log_count(s, "serialization failure"), retried + 1);
	PGcancel *cancel = PQgetCancel(other);
	char err[256];
	assert_int_equal(PQcancel(cancel, err, sizeof(err)), 1);
	PQfreeCancel(cancel);
	while ((r = PQgetResult(other)) != NULL) {
		assert_int_not_equal(PQresultStatus(r), PGRES_TUPLES_OK); /* cancelled */
		PQclear(r);
	}
	r = PQexec(other, "ROLLBACK");
	PQclear(r);
	PQfinish(other);

	pthread_join(th, NULL);
	assert_int_equal(o.code, OB_CODE_OK);
	assert_false(o.replayed);
	assert_int_equal(pg_int(w, "SELECT count(*) FROM application"), before + 1);
	td_company c;
	td_company_make(&c, 5000);
	assert_int_equal(pg_int(w, "SELECT count(*) FROM application WHERE siren = '%s'", c.siren),
	                 1);
	assert_int_equal(pg_int(w, "SELECT count(*) FROM idempotency"), keys + 1);
}

/* ---- key rotation seen by both ----------------------------------------------------------- */

#define ROTATE "/onboard.v1.Admin/RotateKeys"

/* Rotates the master key through cl; returns the new active key id (malloc'd). */
static char *rotate(ob_client *cl)
{
	Onboard__V1__RotateKeysRequest rq = ONBOARD__V1__ROTATE_KEYS_REQUEST__INIT;
	Onboard__V1__RotateKeysResponse *rs =
	        call_ok(cl, ROTATE, &rq.base, &onboard__v1__rotate_keys_response__descriptor);
	char *kid = strdup(rs->active_key_id);
	protobuf_c_message_free_unpacked(&rs->base, NULL);
	assert_non_null(kid);
	return kid;
}

/* Submits company n through cl (idempotency-key "rot-n") and returns its id (malloc'd). */
static char *submit_id(ob_client *cl, uint32_t n)
{
	pb_app *a = NULL;
	ob_result r;
	char what[32];
	snprintf(what, sizeof(what), "company %u", n);
	assert_int_equal(ob_testsrv_ok(submit(cl, "rot", n, CALL_MS, &a, &r), &r, what),
	                 OB_CODE_OK);
	char *id = strdup(a->id);
	td_pb_app_free(a);
	assert_non_null(id);
	return id;
}

/* Company n's application id, read through cl with its contact whole. */
static void assert_contact(ob_client *cl, const char *id, uint32_t n)
{
	td_company c;
	td_company_make(&c, n);
	pb_app *a = get_app(cl, id);
	assert_non_null(a->contact);
	assert_string_equal(a->contact->email, c.email);
	td_pb_app_free(a);
}

/* The master key id application id's data key is stored under. */
static void assert_stored_kid(world *w, const char *id, const char *kid)
{
	assert_int_equal(pg_int(w,
	                        "SELECT count(*) FROM contact c JOIN application a ON a.seq = "
	                        "c.app_seq WHERE a.id = '%s' AND c.dk_kid = '%s'",
	                        id, kid),
	                 1);
}

/* A copy of the key file as it is now, for an instance that will not see the rotation. */
static void copy_key_file(const world *w, const char *to)
{
	size_t len;
	char *text = ob_test_read_file(w->key, &len);
	assert_non_null(text);
	int fd = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	free(text);
}

/*
 * A rotation through instance 0 is seen by instance 1 without a restart: 1 reads the contacts
 * written before it by both (re-wrapped under the new key by 0) at once, and its new data keys
 * are wrapped under the new key, as the database shows; after a second rotation, with no read
 * in between, by the change check alone. An instance whose key file lacks the key answers
 * UNAVAILABLE naming it, and logs it once.
 */
static void test_rotation_seen_by_both(void **state)
{
	world *w = *state;
	ob_client *a = w->srv[0].client, *b = w->srv[1].client;
	char old_key[340];
	snprintf(old_key, sizeof(old_key), "%s/old.key", w->dir);
	copy_key_file(w, old_key);

	char *by_a = submit_id(a, 6000), *by_b = submit_id(b, 6001);
	char *k1 = rotate(a);
	/* Before 1 looked at the file (the rotation took under its interval) or after: the same. */
	assert_contact(b, by_a, 6000);
	assert_contact(b, by_b, 6001);
	assert_stored_kid(w, by_a, k1);
	assert_stored_kid(w, by_b, k1);
	char *after_b = submit_id(b, 6002), *after_a = submit_id(a, 6003);
	assert_stored_kid(w, after_b, k1);
	assert_stored_kid(w, after_a, k1);
	assert_contact(b, after_a, 6003);
	assert_contact(a, after_b, 6002);

	/* On a shared store a rotation lasts over two change intervals (domain/privacy.c), so
	 * 1's next write finds the new key by its change check, unasked. */
	char *k2 = rotate(a);
	assert_string_not_equal(k1, k2);
	char *late_b = submit_id(b, 6004);
	assert_stored_kid(w, late_b, k2);
	assert_stored_kid(w, after_b, k2); /* re-wrapped */
	assert_contact(b, by_a, 6000);
	assert_contact(a, late_b, 6004);
	assert_int_equal(pg_int(w,
	                        "SELECT count(*) FROM contact WHERE dk_kid IS NOT NULL AND "
	                        "dk_kid != '%s'",
	                        k2),
	                 0);

	/* A third instance with the key file of before: UNAVAILABLE, naming the key, twice, and
	 * one log line. */
	ob_testsrv c = {0};
	const char *const args[] = {"--db", w->url, "--master-key", old_key, NULL};
	assert_int_equal(ob_testsrv_start(&c, args), 0);
	for (int i = 0; i < 2; i++) {
		Onboard__V1__GetApplicationRequest rq = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
		rq.id = by_a;
		ProtobufCMessage *rs = NULL;
		ob_result r;
		int code = ob_client_call_message(c.client, GET, NULL, 0, &rq.base,
		                                  &onboard__v1__application__descriptor, &rs,
		                                  CALL_MS, &r);
		assert_int_equal(code, OB_CODE_UNAVAILABLE);
		assert_null(rs);
		assert_non_null(strstr(r.message, k2));
		ob_result_fini(&r);
	}
	char line[64];
	snprintf(line, sizeof(line), "wrapped under the key %s,", k2);
	assert_int_equal(log_count(&c, line), 1);
	assert_int_equal(ob_testsrv_finish(&c), 0);
	free(by_a);
	free(by_b);
	free(after_a);
	free(after_b);
	free(late_b);
	free(k1);
	free(k2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_1000_over_two_instances),
	        cmocka_unit_test(test_kill9_mid_run),
	        cmocka_unit_test(test_review_across_instances),
	        cmocka_unit_test(test_deadlock_is_run_again),
	        cmocka_unit_test(test_rotation_seen_by_both),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
