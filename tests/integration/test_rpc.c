/*
 * test_rpc.c: onboardd as a process, through libonboard-client and through raw REQ
 * connections that send what no client library would: oversized frames, random bytes, cut
 * envelopes, idle and surplus connections.
 *
 * Every test gets its own onboardd (tests/support/testsrv.h) in a private directory, started
 * by its fixture with the flags it needs; the teardown stops it with SIGTERM and fails the
 * test unless it exits with status 0. Waits are bounded by generous deadlines ("within a few
 * seconds"), never by sleeps that assume a fast machine.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"
#include "onboard/client.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/reflection.pb-c.h"
#include "onboard/v1/rpc.pb-c.h"
#include "spraw.h"
#include "testsrv.h"
#include "testutil.h"

#define HEALTH "/onboard.v1.Health/Check"

enum {
	CALL_TIMEOUT_MS = 10000,
	EVENT_TIMEOUT_MS = 10000, /* for "the server closes it within a few seconds" */
	SERVING = ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING,
	NOT_SERVING = ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING,
};

typedef struct raw raw;
static void raw_close_all(void);

/* ---- fixtures: one onboardd per test ---------------------------------- */

static int start_with(void **state, const char *const *args)
{
	*state = ob_testsrv_create(args);
	return *state != NULL ? 0 : -1;
}

static int setup_default(void **state)
{
	return start_with(state, NULL);
}

static int setup_max_conn_2(void **state)
{
	return start_with(state, (const char *const[]){"--max-connections", "2", NULL});
}

static int setup_idle_1s(void **state)
{
	return start_with(state, (const char *const[]){"--idle-timeout", "1", NULL});
}

/* Stops onboardd with SIGTERM: a clean drain exits 0, which every test asserts. */
static int teardown_stop(void **state)
{
	raw_close_all();
	return ob_testsrv_destroy(*state);
}

/* ---- raw connections ------------------------------------------------- */

/* A raw REQ peer over a plain socket (tests/support/spraw.h): it sends what no client
 * library would, and has no dialer of nng's that reconnects behind the test's back. */
struct raw {
	ob_spraw sp;
	bool open;
};

/* Raw connections live here rather than on a test's stack: a failed assertion leaves the
 * test function without closing anything. The teardown closes whatever is still open. */
static raw raws[4];

static raw *raw_slot(void)
{
	enum { N = sizeof(raws) / sizeof(raws[0]) };
	size_t i = 0;
	while (i < N && raws[i].open)
		i++;
	assert_true(i < N);
	return &raws[i < N ? i : N - 1];
}

/* Connects and exchanges hellos; returns NULL when the server refuses the connection. */
static raw *raw_try_open(const char *url)
{
	raw *r = raw_slot();
	if (ob_spraw_open(&r->sp, url, NULL, EVENT_TIMEOUT_MS) != 0)
		return NULL;
	r->open = true;
	return r;
}

/* The same, for a connection that must succeed. */
static raw *raw_open(const char *url)
{
	raw *r = raw_try_open(url);
	if (r == NULL) {
		fail_msg("cannot connect to %s", url);
		abort(); /* not reached: cmocka's fail_msg does not return, but says no noreturn */
	}
	return r;
}

static void raw_close(raw *r)
{
	if (r->open)
		ob_spraw_close(&r->sp);
	r->open = false;
}

static void raw_close_all(void)
{
	for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++)
		raw_close(&raws[i]);
}

/* Sends len bytes as one request and waits timeout_ms for the reply. Returns 0 with the
 * decoded Response in *out (caller frees with onboard__v1__response__free_unpacked), or
 * non-zero without a reply (-1: the server closed the connection, -2: timed out). */
static int raw_roundtrip(raw *r, const void *buf, size_t len, int timeout_ms,
                         Onboard__V1__Response **out)
{
	*out = NULL;
	if (ob_spraw_send(&r->sp, buf, len) != 0)
		return -1;
	uint8_t *reply = NULL;
	size_t n = 0;
	int rv = ob_spraw_recv(&r->sp, &reply, &n, timeout_ms);
	if (rv != 0)
		return rv;
	*out = onboard__v1__response__unpack(NULL, n, reply);
	free(reply);
	assert_non_null(*out); /* whatever we sent, the reply is a Response */
	return 0;
}

/* The reply's code to a raw frame, failing the test if no reply comes. */
static int raw_code(raw *r, const void *buf, size_t len)
{
	Onboard__V1__Response *rs;
	int rv = raw_roundtrip(r, buf, len, CALL_TIMEOUT_MS, &rs);
	if (rv != 0 || rs == NULL) {
		fail_msg("no reply to a %zu-byte frame (%d)", len, rv);
		abort(); /* not reached, as above */
	}
	int code = (int)rs->code;
	onboard__v1__response__free_unpacked(rs, NULL);
	return code;
}

/* A version-1 Health/Check envelope, as a client would send it. */
static size_t health_envelope(uint8_t *buf, size_t cap)
{
	size_t n = ob_test_envelope_plain(HEALTH, buf, cap);
	assert_true(n > 0);
	return n;
}

/* The connection still works: a Health/Check on it is answered OK. */
static void raw_expect_serving(raw *r)
{
	uint8_t env[128];
	assert_int_equal(raw_code(r, env, health_envelope(env, sizeof(env))), OB_CODE_OK);
}

/* ---- through libonboard-client ---------------------------------------- */

/* The helper's own check, made explicit: a fresh server is SERVING. */
static void test_health_serving(void **state)
{
	ob_testsrv *s = *state;
	assert_int_equal(ob_testsrv_health(s, CALL_TIMEOUT_MS), SERVING);
}

/* Reflection over the wire lists every service, with the full names `onboard call` takes. */
static void test_methods_listed(void **state)
{
	ob_testsrv *s = *state;
	Onboard__V1__ListServicesRequest rq = ONBOARD__V1__LIST_SERVICES_REQUEST__INIT;
	Onboard__V1__ListServicesResponse *ls = NULL;
	ob_result r;
	int code =
	        ob_client_call_message(s->client, "/onboard.v1.Reflection/ListServices", NULL, 0,
	                               &rq.base, &onboard__v1__list_services_response__descriptor,
	                               (ProtobufCMessage **)&ls, CALL_TIMEOUT_MS, &r);
	assert_int_equal(code, OB_CODE_OK);
	ob_result_fini(&r);
	/* Health, Reflection, Onboarding, Auth, and Admin once it is served. */
	assert_true(ls->n_services >= 4);
	bool submit = false, check = false;
	for (size_t i = 0; i < ls->n_services; i++)
		for (size_t m = 0; m < ls->services[i]->n_methods; m++) {
			const char *name = ls->services[i]->methods[m]->full_name;
			submit |= strcmp(name, "/onboard.v1.Onboarding/SubmitApplication") == 0;
			check |= strcmp(name, HEALTH) == 0;
		}
	assert_true(submit && check);
	protobuf_c_message_free_unpacked(&ls->base, NULL);
}

/* An unknown method is an answer (UNIMPLEMENTED), not a hang or a dropped connection. */
static void test_unknown_method(void **state)
{
	ob_testsrv *s = *state;
	ob_result r;
	int code = ob_client_call(s->client, "/onboard.v1.Onboarding/NoSuchMethod", NULL, 0, NULL,
	                          0, CALL_TIMEOUT_MS, &r);
	assert_int_equal(code, OB_CODE_UNIMPLEMENTED);
	assert_false(r.local);
	assert_non_null(strstr(r.message, "NoSuchMethod"));
	ob_result_fini(&r);
}

/* The request-id metadata comes back, on success and on failure. */
static void test_request_id_echoed(void **state)
{
	ob_testsrv *s = *state;
	const ob_metadata md[] = {{"request-id", "it-7f3a"}};
	ob_result r;
	assert_int_equal(ob_client_call(s->client, HEALTH, md, 1, NULL, 0, CALL_TIMEOUT_MS, &r),
	                 OB_CODE_OK);
	assert_string_equal(r.request_id, "it-7f3a");
	ob_result_fini(&r);
	assert_int_equal(ob_client_call(s->client, "/onboard.v1.Health/Nope", md, 1, NULL, 0,
	                                CALL_TIMEOUT_MS, &r),
	                 OB_CODE_UNIMPLEMENTED);
	assert_string_equal(r.request_id, "it-7f3a");
	ob_result_fini(&r);
}

/* 100 KiB over the default 64 KiB cap gets RESOURCE_EXHAUSTED as a reply, and the same
 * connection keeps working. */
static void test_oversize_request_answered(void **state)
{
	ob_testsrv *s = *state;
	size_t len = 100 * 1024;
	uint8_t *big = calloc(1, len);
	assert_non_null(big);
	ob_result r;
	int code = ob_client_call(s->client, HEALTH, NULL, 0, big, len, CALL_TIMEOUT_MS, &r);
	free(big);
	if (code != OB_CODE_RESOURCE_EXHAUSTED)
		fail_msg("got %s (%s): %s", ob_code_name(code),
		         r.local ? "local" : "from the server", r.message);
	assert_false(r.local);
	ob_result_fini(&r);
	assert_int_equal(ob_testsrv_health(s, CALL_TIMEOUT_MS), SERVING);
}

/* ---- raw frames ------------------------------------------------------- */

/* A 2 MB frame is over the transport cap: the server drops that connection without reading
 * it, sends nothing back, and goes on serving everyone else. */
static void test_huge_frame_drops_connection(void **state)
{
	ob_testsrv *s = *state;
	raw *r = raw_open(s->url);
	size_t len = 2 * 1024 * 1024;
	uint8_t *huge = malloc(len);
	assert_non_null(huge);
	memset(huge, 0x5A, len);
	Onboard__V1__Response *rs = NULL;
	int rv = raw_roundtrip(r, huge, len, 3000, &rs);
	free(huge);
	assert_null(rs);
	assert_int_not_equal(rv, 0); /* the reset seen in the send, or the close */
	assert_true(ob_spraw_wait_closed(&r->sp, EVENT_TIMEOUT_MS));
	raw_close(r);
	assert_int_equal(ob_testsrv_health(s, CALL_TIMEOUT_MS), SERVING);
}

/* 100 KiB is over the 64 KiB cap but under the transport's: the server reads past it,
 * answers RESOURCE_EXHAUSTED, and the same connection goes on being served. */
static void test_oversize_read_past_on_the_same_connection(void **state)
{
	ob_testsrv *s = *state;
	raw *r = raw_open(s->url);
	size_t len = 100 * 1024;
	uint8_t *big = calloc(1, len);
	assert_non_null(big);
	int code = raw_code(r, big, len);
	free(big);
	assert_int_equal(code, OB_CODE_RESOURCE_EXHAUSTED);
	raw_expect_serving(r);
	raw_close(r);
}

/* Random bytes get an INVALID_ARGUMENT reply on a connection that stays usable. */
static void test_random_frames_answered(void **state)
{
	ob_testsrv *s = *state;
	raw *r = raw_open(s->url);
	uint32_t x = 0x9E3779B9u; /* the same frames on every run */
	for (int i = 0; i < 20; i++) {
		uint8_t frame[256];
		size_t len = 1 + (size_t)i * 12;
		ob_test_random_bytes(&x, frame, len);
		frame[0] = 0xFF; /* a tag that cannot start a valid Request, whatever follows */
		assert_int_equal(raw_code(r, frame, len), OB_CODE_INVALID_ARGUMENT);
	}
	raw_expect_serving(r);
	raw_close(r);
}

/* An envelope cut inside a field gets INVALID_ARGUMENT; the whole one then gets OK. */
static void test_truncated_frames_answered(void **state)
{
	ob_testsrv *s = *state;
	raw *r = raw_open(s->url);
	uint8_t env[128];
	size_t len = health_envelope(env, sizeof(env));
	/* 08 01 | 12 <len> "/onboard.v1.Health/Check": cut after the tag, in the length's
	 * place, and all along the method name. */
	static const size_t cuts[] = {1, 3, 4, 10, 20};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		assert_int_equal(raw_code(r, env, cuts[i]), OB_CODE_INVALID_ARGUMENT);
	assert_int_equal(raw_code(r, env, len - 1), OB_CODE_INVALID_ARGUMENT);
	assert_int_equal(raw_code(r, env, len), OB_CODE_OK);
	raw_close(r);
}

/* ---- connection hygiene ----------------------------------------------- */

/* --max-connections 2: the helper's client and one raw connection fit; a third connection is
 * closed before the SP hello, while the admitted ones keep being served. */
static void test_connection_cap(void **state)
{
	ob_testsrv *s = *state;
	uint8_t env[128];
	size_t len = health_envelope(env, sizeof(env));
	raw *second = raw_open(s->url);
	/* A reply proves the server admitted it before the third one knocks. */
	assert_int_equal(raw_code(second, env, len), OB_CODE_OK);
	assert_null(raw_try_open(s->url));
	assert_int_equal(raw_code(second, env, len), OB_CODE_OK);
	assert_int_equal(ob_testsrv_health(s, CALL_TIMEOUT_MS), SERVING);
	raw_close(second);
}

/* --idle-timeout 1: a connection that sends nothing is closed within a few seconds; a new
 * one is served. */
static void test_idle_connection_reaped(void **state)
{
	ob_testsrv *s = *state;
	raw *r = raw_open(s->url);
	/* Reaped after 1 s idle plus at most a reaper period (250 ms): 5 s is ample. */
	assert_true(ob_spraw_wait_closed(&r->sp, 5000));
	raw_close(r);
	r = raw_open(s->url);
	raw_expect_serving(r);
	raw_close(r);
	/* The helper's client was idle too; it reconnects and is served. */
	assert_int_equal(ob_testsrv_health(s, CALL_TIMEOUT_MS), SERVING);
}

/* ---- lifecycle -------------------------------------------------------- */

/* SIGTERM with clients still connected drains and exits 0 (asserted by the teardown); the
 * clients then see the server gone. */
static void test_sigterm_with_connected_clients(void **state)
{
	ob_testsrv *s = *state;
	raw *r = raw_open(s->url);
	uint8_t env[128];
	size_t len = health_envelope(env, sizeof(env));
	assert_int_equal(raw_code(r, env, len), OB_CODE_OK);
	assert_int_equal(ob_testsrv_stop(s), 0);
	assert_true(ob_spraw_wait_closed(&r->sp, EVENT_TIMEOUT_MS));
	raw_close(r);
	/* Leave a running server for the teardown to stop. */
	assert_int_equal(ob_testsrv_start(s, NULL), 0);
}

/* SIGTERM the moment a reply is out, many times over: the drain must not close the socket
 * under a worker that is still returning from sending that reply (a race that makes onboardd
 * abort in nng instead of exiting 0). */
static void test_sigterm_right_after_reply(void **state)
{
	ob_testsrv *s = *state;
	uint8_t env[128];
	size_t len = health_envelope(env, sizeof(env));
	for (int i = 0; i < 30; i++) {
		raw *r = raw_open(s->url);
		assert_int_equal(raw_code(r, env, len), OB_CODE_OK);
		kill(s->pid, SIGTERM);
		raw_close(r);
		int status = ob_testsrv_stop(s);
		if (status != 0)
			fail_msg("round %d: onboardd exited with status %d", i, status);
		assert_int_equal(ob_testsrv_start(s, NULL), 0);
	}
}

/* kill -9 and a restart in the same directory: the server comes back on the same URL. */
static void test_kill9_and_restart(void **state)
{
	ob_testsrv *s = *state;
	ob_testsrv_kill9(s);
	assert_int_equal(s->pid, 0);
	assert_null(s->client);
	assert_int_equal(ob_testsrv_restart(s), 0);
	assert_int_equal(ob_testsrv_health(s, CALL_TIMEOUT_MS), SERVING);
}

/* Polls Health/Check until it answers want, for up to EVENT_TIMEOUT_MS; returns the last answer. */
static int health_becomes(ob_testsrv *s, int want)
{
	int64_t end = ob_test_mono_ms() + EVENT_TIMEOUT_MS;
	int got;
	while ((got = ob_testsrv_health(s, CALL_TIMEOUT_MS)) != want && ob_test_mono_ms() < end)
		ob_test_sleep_ms(50);
	return got;
}

/* health.proto: NOT_SERVING when the store cannot be reached. The database file moved away
 * while onboardd runs (deleted or replaced would look the same to it), or the PostgreSQL
 * database refusing new connections: Health/Check says NOT_SERVING within a few seconds; the
 * store back, SERVING again. */
static void test_health_follows_the_store(void **state)
{
	ob_testsrv *s = *state;
	assert_int_equal(ob_testsrv_health(s, CALL_TIMEOUT_MS), SERVING);
	assert_int_equal(ob_testsrv_store_away(s, 1), 0);
	int got = health_becomes(s, NOT_SERVING);
	int back = ob_testsrv_store_away(s, 0);
	if (got != NOT_SERVING)
		fail_msg("with the database moved away, health says %d, not NOT_SERVING", got);
	assert_int_equal(back, 0);
	got = health_becomes(s, SERVING);
	if (got != SERVING)
		fail_msg("with the database back, health says %d, not SERVING", got);
}

int main(void)
{
#define T(f, setup) cmocka_unit_test_setup_teardown(f, setup, teardown_stop)
	const struct CMUnitTest tests[] = {
	        T(test_health_serving, setup_default),
	        T(test_methods_listed, setup_default),
	        T(test_unknown_method, setup_default),
	        T(test_request_id_echoed, setup_default),
	        T(test_oversize_request_answered, setup_default),
	        T(test_huge_frame_drops_connection, setup_default),
	        T(test_oversize_read_past_on_the_same_connection, setup_default),
	        T(test_random_frames_answered, setup_default),
	        T(test_truncated_frames_answered, setup_default),
	        T(test_connection_cap, setup_max_conn_2),
	        T(test_idle_connection_reaped, setup_idle_1s),
	        T(test_sigterm_with_connected_clients, setup_default),
	        T(test_sigterm_right_after_reply, setup_default),
	        T(test_kill9_and_restart, setup_default),
	        T(test_health_follows_the_store, setup_default),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
