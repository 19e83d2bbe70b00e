/*
 * test_seats.c: the 800 seats of cohort 2020-11 through a real onboardd.
 *
 * One server on a fresh database (tests/support/testsrv.h); 1,000 distinct companies submit
 * at once from 20 client processes (this program run again as "worker", each with its own
 * libonboard-client connection, released together by a pipe). Then, through the RPC API only:
 * exactly 800 hold seats and 200 wait, the waiting ones in submission order at positions
 * 1..200, and every client was told what is stored; a withdrawal promotes the first in line;
 * a second application for a SIREN is refused ALREADY_EXISTS naming the first; a SIGTERM
 * restart keeps everything; a kill -9 right after an acknowledged submission keeps it.
 *
 * The phases are cmocka tests of one group sharing the server, run in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "onboard/client.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "testdata_pb.h"
#include "testsrv.h"

enum {
	WORKERS = 20,
	PER_WORKER = 50,
	COMPANIES = WORKERS * PER_WORKER,
	CAPACITY = 800,
	CALL_MS = 60000, /* generous: a small shared machine, maybe a sanitizer build */
};

#define GET      "/onboard.v1.Onboarding/GetApplication"
#define LIST     "/onboard.v1.Onboarding/ListApplications"
#define WITHDRAW "/onboard.v1.Onboarding/WithdrawApplication"
#define COHORT   "/onboard.v1.Onboarding/GetCohort"

typedef Onboard__V1__Application pb_app;

/* ---- requests ------------------------------------------------------------------------------ */

/* Submits company n; *out gets the application on OK (free with td_pb_app_free). r is
 * finished by the caller. */
static int submit(ob_client *cl, uint32_t n, pb_app **out, ob_result *r)
{
	td_company c;
	td_company_make(&c, n);
	return ob_testsrv_submit(cl, &c, NULL, NULL, CALL_MS, out, r);
}

/* ---- the worker processes ----------------------------------------------------------------- */

/* argv: worker URL FIRST COUNT OUTFILE BARRIER_FD. Connects, waits for the barrier to close,
 * submits companies FIRST..FIRST+COUNT-1 one after the other and writes one line per reply:
 * "n id state position". Exits 0 when every submission was accepted. */
static int worker_main(char **argv)
{
	const char *url = argv[2];
	uint32_t first = (uint32_t)strtoul(argv[3], NULL, 10);
	uint32_t count = (uint32_t)strtoul(argv[4], NULL, 10);
	FILE *out = fopen(argv[5], "w");
	int barrier = atoi(argv[6]);
	if (out == NULL)
		return 2;
	ob_client *cl = NULL;
	char err[256] = "";
	const char *urls[] = {url};
	if (ob_client_open(&cl, urls, 1, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "worker %u: cannot connect: %s\n", first, err);
		return 2;
	}
	char b;
	while (read(barrier, &b, 1) < 0 && errno == EINTR)
		; /* EOF: every worker is ready */
	close(barrier);
	int status = 0;
	for (uint32_t n = first; n < first + count; n++) {
		pb_app *a = NULL;
		ob_result r;
		int code = submit(cl, n, &a, &r);
		if (code == OB_CODE_OK) {
			fprintf(out, "%u %s %d %u\n", n, a->id, (int)a->state,
			        a->waitlist_position);
		} else {
			fprintf(stderr, "worker: company %u: %s: %s\n", n, ob_code_name(code),
			        r.message);
			status = 1;
		}
		td_pb_app_free(a);
		ob_result_fini(&r);
	}
	ob_client_close(cl);
	if (fclose(out) != 0)
		status = 2;
	return status;
}

/* ---- reading the server's state ------------------------------------------------------------ */

typedef struct row {
	char id[32];
	char siren[10];
	int state;
	uint32_t position;
	uint64_t version;
} row;

/* Every application of the default cohort in the state set (0: any), in the server's order
 * (submission order), following next_page_token; *out is malloc'd. */
static size_t list_all(ob_client *cl, Onboard__V1__ApplicationState only, row **out)
{
	row *rows = NULL;
	size_t n = 0;
	char *token = strdup("");
	assert_non_null(token);
	for (int pages = 0;; pages++) {
		assert_true(pages < 100);
		Onboard__V1__ListApplicationsRequest rq =
		        ONBOARD__V1__LIST_APPLICATIONS_REQUEST__INIT;
		Onboard__V1__ApplicationState states[1] = {only};
		rq.cohort_id = "2020-11";
		rq.page_size = 500;
		rq.page_token = token;
		if (only != 0) {
			rq.states = states;
			rq.n_states = 1;
		}
		Onboard__V1__ListApplicationsResponse *rs = NULL;
		ob_result r;
		int code =
		        ob_client_call_message(cl, LIST, NULL, 0, &rq.base,
		                               &onboard__v1__list_applications_response__descriptor,
		                               (ProtobufCMessage **)&rs, CALL_MS, &r);
		assert_int_equal(ob_testsrv_ok(code, &r, "ListApplications"), OB_CODE_OK);
		row *g = realloc(rows, (n + rs->n_applications + 1) * sizeof(*g));
		assert_non_null(g);
		rows = g;
		for (size_t i = 0; i < rs->n_applications; i++) {
			const pb_app *a = rs->applications[i];
			row *x = &rows[n++];
			snprintf(x->id, sizeof(x->id), "%s", a->id);
			snprintf(x->siren, sizeof(x->siren), "%s",
			         a->company != NULL ? a->company->siren : "");
			x->state = (int)a->state;
			x->position = a->waitlist_position;
			x->version = a->version;
		}
		free(token);
		token = strdup(rs->next_page_token);
		assert_non_null(token);
		protobuf_c_message_free_unpacked(&rs->base, NULL);
		if (token[0] == '\0')
			break;
	}
	free(token);
	*out = rows;
	return n;
}

/* The reply, a d, to method called with rq (about what: for the failure's message) through
 * cl; the test fails unless it is OK. The caller frees the reply. */
static void *call_ok(ob_client *cl, const char *method, const ProtobufCMessage *rq,
                     const ProtobufCMessageDescriptor *d, const char *what)
{
	ProtobufCMessage *rs = NULL;
	ob_result r;
	int code = ob_client_call_message(cl, method, NULL, 0, rq, d, &rs, CALL_MS, &r);
	if (code != OB_CODE_OK)
		fail_msg("%s (%s): %s: %s", method, what, ob_code_name(code), r.message);
	ob_result_fini(&r);
	return rs;
}

static Onboard__V1__CohortStanding *standing(ob_client *cl)
{
	Onboard__V1__GetCohortRequest rq = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
	return call_ok(cl, COHORT, &rq.base, &onboard__v1__cohort_standing__descriptor,
	               "the standing");
}

static uint32_t count_of(Onboard__V1__CountByKey **c, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i]->key, key) == 0)
			return c[i]->count;
	return 0;
}

/* The standing says held seats, waiting and applications, consistently. */
static void assert_standing(ob_client *cl, uint32_t held, uint32_t waiting, uint32_t apps)
{
	Onboard__V1__CohortStanding *st = standing(cl);
	assert_non_null(st->cohort);
	assert_string_equal(st->cohort->id, "2020-11");
	assert_int_equal(st->cohort->capacity, CAPACITY);
	assert_int_equal(st->seats_held, held);
	assert_int_equal(st->seats_free, CAPACITY - held);
	assert_int_equal(st->waitlist_length, waiting);
	assert_int_equal(st->applications, apps);
	assert_int_equal(count_of(st->by_state, st->n_by_state, "WAITLISTED"), waiting);
	protobuf_c_message_free_unpacked(&st->base, NULL);
}

static pb_app *get_app(ob_client *cl, const char *id)
{
	Onboard__V1__GetApplicationRequest rq = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
	rq.id = (char *)id;
	return call_ok(cl, GET, &rq.base, &onboard__v1__application__descriptor, id);
}

/* The seat holders, then the line: every seat holder was submitted before everyone waiting,
 * and the waiting have positions 1..n in submission order. Returns how many wait. */
static uint32_t assert_line(const row *rows, size_t n)
{
	uint32_t waiting = 0;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].state == ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED) {
			if (rows[i].position != ++waiting)
				fail_msg("%s is at position %u, want %u", rows[i].id,
				         rows[i].position, waiting);
		} else {
			assert_int_equal(rows[i].position, 0);
		}
	}
	return waiting;
}

/* ---- the shared server -------------------------------------------------------------------- */

typedef struct world {
	ob_testsrv srv;
	bool up; /* false once a restart failed */
} world;

static int group_setup(void **state)
{
	world *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -1;
	if (ob_testsrv_start(&w->srv, NULL) != 0) {
		free(w);
		return -1;
	}
	w->up = true;
	*state = w;
	return 0;
}

static int group_teardown(void **state)
{
	world *w = *state;
	/* Also when a restart failed: that removes the directory (its log was shown). */
	int status = ob_testsrv_stop(&w->srv);
	bool ok = !w->up || status == 0;
	free(w);
	return ok ? 0 : -1;
}

/* A phase needs the server a previous phase may have lost. */
static world *need_server(void **state)
{
	world *w = *state;
	if (!w->up || w->srv.client == NULL)
		fail_msg("onboardd is not running: an earlier phase failed");
	return w;
}

/* Starts WORKERS copies of this program as workers, releases them together, and waits. */
static void run_workers(world *w)
{
	int barrier[2];
	assert_int_equal(pipe(barrier), 0);
	pid_t pids[WORKERS];
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(len > 0);
	self[len] = '\0';
	for (int i = 0; i < WORKERS; i++) {
		char first[16], count[16], file[400], fd[16];
		snprintf(first, sizeof(first), "%d", i * PER_WORKER);
		snprintf(count, sizeof(count), "%d", PER_WORKER);
		snprintf(file, sizeof(file), "%s/worker-%02d.txt", w->srv.dir, i);
		snprintf(fd, sizeof(fd), "%d", barrier[0]);
		char *argv[] = {self, "worker", w->srv.url, first, count, file, fd, NULL};
		pid_t parent = getpid();
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			/* Async-signal-safe calls only until exec: the test has threads. */
			close(barrier[1]);
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
				_exit(127);
			execv(self, argv);
			_exit(127);
		}
	}
	close(barrier[0]);
	close(barrier[1]); /* go */
	for (int i = 0; i < WORKERS; i++) {
		int ws = 0;
		while (waitpid(pids[i], &ws, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			fail_msg("worker %d ended with status 0x%x", i, ws);
	}
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const row *)a)->id, ((const row *)b)->id);
}

/* 1,000 concurrent submits: exactly 800 seats, 200 in line 1..200 in order, as told. */
static void test_concurrent_submits_fill_exactly_800(void **state)
{
	world *w = need_server(state);
	run_workers(w);

	/* What the clients were told. */
	row told[COMPANIES];
	size_t n_told = 0;
	for (int i = 0; i < WORKERS; i++) {
		char file[400];
		snprintf(file, sizeof(file), "%s/worker-%02d.txt", w->srv.dir, i);
		FILE *f = fopen(file, "r");
		assert_non_null(f);
		unsigned n, pos;
		char id[32];
		int st;
		while (fscanf(f, "%u %31s %d %u", &n, id, &st, &pos) == 4) {
			assert_true(n_told < COMPANIES);
			row *x = &told[n_told++];
			snprintf(x->id, sizeof(x->id), "%s", id);
			x->state = st;
			x->position = pos;
		}
		fclose(f);
	}
	assert_int_equal(n_told, COMPANIES);

	assert_standing(w->srv.client, CAPACITY, COMPANIES - CAPACITY, COMPANIES);
	row *rows = NULL;
	size_t n = list_all(w->srv.client, 0, &rows);
	assert_int_equal(n, COMPANIES);
	size_t seated = 0;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].state == ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_SUBMITTED) {
			seated++;
			assert_int_equal(seated, i + 1); /* no seat holder after someone waiting */
		} else {
			assert_int_equal(
			        rows[i].state,
			        ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED);
		}
	}
	assert_int_equal(seated, CAPACITY);
	assert_int_equal(assert_line(rows, n), COMPANIES - CAPACITY);

	/* The waiting only, through the state filter: the same line. */
	row *line = NULL;
	size_t n_line = list_all(
	        w->srv.client, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED, &line);
	assert_int_equal(n_line, COMPANIES - CAPACITY);
	for (size_t i = 0; i < n_line; i++) {
		assert_string_equal(line[i].id, rows[CAPACITY + i].id);
		assert_int_equal(line[i].position, i + 1);
	}
	free(line);

	/* Every reply matches the stored application, and no two replies share an id. */
	qsort(told, n_told, sizeof(told[0]), by_id);
	qsort(rows, n, sizeof(rows[0]), by_id);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(told[i].id, rows[i].id);
		assert_int_equal(told[i].state, rows[i].state);
		assert_int_equal(told[i].position, rows[i].position);
	}
	free(rows);
}

/* A seat holder's withdrawal promotes the first in line; the rest move up one place. */
static void test_withdrawal_promotes_first_in_line(void **state)
{
	world *w = need_server(state);
	row *rows = NULL;
	size_t n = list_all(w->srv.client, 0, &rows);
	assert_int_equal(n, COMPANIES);
	const row *leaving = &rows[0];
	const row *first = &rows[CAPACITY];
	assert_int_equal(first->position, 1);

	Onboard__V1__WithdrawApplicationRequest rq =
	        ONBOARD__V1__WITHDRAW_APPLICATION_REQUEST__INIT;
	rq.id = (char *)leaving->id;
	rq.reason = "no longer selling online";
	rq.expected_version = leaving->version;
	pb_app *a = call_ok(w->srv.client, WITHDRAW, &rq.base,
	                    &onboard__v1__application__descriptor, leaving->id);
	assert_int_equal(a->state, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WITHDRAWN);
	td_pb_app_free(a);

	a = get_app(w->srv.client, first->id);
	assert_int_equal(a->state, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_SUBMITTED);
	assert_int_equal(a->waitlist_position, 0);
	assert_true(a->n_history >= 2);
	const Onboard__V1__StateChange *c = a->history[a->n_history - 1];
	assert_int_equal(c->from, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED);
	assert_int_equal(c->to, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_SUBMITTED);
	td_pb_app_free(a);

	assert_standing(w->srv.client, CAPACITY, COMPANIES - CAPACITY - 1, COMPANIES);
	row *line = NULL;
	size_t n_line = list_all(
	        w->srv.client, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED, &line);
	assert_int_equal(n_line, COMPANIES - CAPACITY - 1);
	for (size_t i = 0; i < n_line; i++) {
		assert_string_equal(line[i].id, rows[CAPACITY + 1 + i].id);
		assert_int_equal(line[i].position, i + 1);
	}
	free(line);
	free(rows);
}

/* A second application for a SIREN is ALREADY_EXISTS naming the first; nothing is added. */
static void test_duplicate_siren_refused(void **state)
{
	world *w = need_server(state);
	row *rows = NULL;
	size_t n = list_all(w->srv.client, 0, &rows);
	td_company c;
	td_company_make(&c, 123);
	const char *first = NULL;
	for (size_t i = 0; i < n && first == NULL; i++)
		if (strcmp(rows[i].siren, c.siren) == 0)
			first = rows[i].id;
	assert_non_null(first);

	pb_app *a = NULL;
	ob_result r;
	int code = submit(w->srv.client, 123, &a, &r);
	assert_int_equal(code, OB_CODE_ALREADY_EXISTS);
	assert_false(r.local);
	if (strstr(r.message, first) == NULL)
		fail_msg("'%s' does not name %s", r.message, first);
	ob_result_fini(&r);
	td_pb_app_free(a);
	assert_standing(w->srv.client, CAPACITY, COMPANIES - CAPACITY - 1, COMPANIES);
	free(rows);
}

static void assert_same_rows(const row *a, size_t na, const row *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(a[i].id, b[i].id);
		assert_int_equal(a[i].state, b[i].state);
		assert_int_equal(a[i].position, b[i].position);
		assert_int_equal(a[i].version, b[i].version);
	}
}

/* A SIGTERM restart on the same database keeps every application, version and position. */
static void test_restart_keeps_everything(void **state)
{
	world *w = need_server(state);
	row *before = NULL;
	size_t n_before = list_all(w->srv.client, 0, &before);
	if (ob_testsrv_restart(&w->srv) != 0) {
		w->up = false;
		fail_msg("onboardd did not restart");
	}
	row *after = NULL;
	size_t n_after = list_all(w->srv.client, 0, &after);
	assert_same_rows(before, n_before, after, n_after);
	assert_standing(w->srv.client, CAPACITY, COMPANIES - CAPACITY - 1, COMPANIES);
	free(before);
	free(after);
}

/* A submit acknowledged right before kill -9 is there after restart, where it was told. */
static void test_kill9_keeps_acknowledged_submit(void **state)
{
	world *w = need_server(state);
	pb_app *a = NULL;
	ob_result r;
	assert_int_equal(ob_testsrv_ok(submit(w->srv.client, COMPANIES, &a, &r), &r, "submit"),
	                 OB_CODE_OK);
	assert_int_equal(a->state, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED);
	assert_int_equal(a->waitlist_position, COMPANIES - CAPACITY);
	char id[32];
	snprintf(id, sizeof(id), "%s", a->id);
	td_pb_app_free(a);

	ob_testsrv_kill9(&w->srv);
	if (ob_testsrv_restart(&w->srv) != 0) {
		w->up = false;
		fail_msg("onboardd did not restart after kill -9");
	}
	a = get_app(w->srv.client, id);
	assert_int_equal(a->state, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED);
	assert_int_equal(a->waitlist_position, COMPANIES - CAPACITY);
	td_pb_app_free(a);
	assert_standing(w->srv.client, CAPACITY, COMPANIES - CAPACITY, COMPANIES + 1);
	row *rows = NULL;
	size_t n = list_all(w->srv.client, 0, &rows);
	assert_int_equal(n, COMPANIES + 1);
	assert_int_equal(assert_line(rows, n), COMPANIES - CAPACITY);
	free(rows);
}

int main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "worker") == 0)
		return worker_main(argv);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_concurrent_submits_fill_exactly_800),
	        cmocka_unit_test(test_withdrawal_promotes_first_in_line),
	        cmocka_unit_test(test_duplicate_siren_refused),
	        cmocka_unit_test(test_restart_keeps_everything),
	        cmocka_unit_test(test_kill9_keeps_acknowledged_submit),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
