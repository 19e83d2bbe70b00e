/*
 * Which requests onboardd may serve on the thread that read them
 * (ob_dispatch_is_quick): it reads the method out of raw envelope bytes that
 * nobody has validated yet, so it must say "quick" only for a well-formed
 * method field naming a flagged method, and never read past the bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"
#include "rpc/dispatch.h"
#include "rpc/handlers.h"

static ob_dispatch *d;

static int setup(void **state)
{
	(void)state;
	return ob_dispatch_create(&d) == OB_OK && ob_handlers_register(d) == OB_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ob_dispatch_destroy(d);
	return 0;
}

/* method's envelope, with metadata and a payload around it, through the check. */
static bool quick(const char *method)
{
	static const char payload[] = "\x0a\x03"
	                              "abc";
	size_t len;
	uint8_t *env = ob_test_envelope_pack(
	        &(ob_test_envelope){.method = method,
	                            .md = (const char *const[]){"request-id", "r1", NULL},
	                            .timeout_ms = 5000,
	                            .payload = payload,
	                            .payload_len = sizeof(payload) - 1},
	        &len);
	assert_non_null(env);
	bool q = ob_dispatch_is_quick(d, env, len);
	free(env);
	return q;
}

/* Which names are quick, one row each. */
static void test_names(void **state)
{
	(void)state;
	static const struct {
		const char *method;
		bool quick;
	} rows[] = {
	        /* the reads of one row and the health check */
	        {"/onboard.v1.Health/Check", true},
	        {"/onboard.v1.Onboarding/GetApplication", true},
	        {"/onboard.v1.Onboarding/GetCohort", true},
	        /* writes, lists and logins may wait for the writer or take long */
	        {"/onboard.v1.Onboarding/SubmitApplication", false},
	        {"/onboard.v1.Onboarding/ReviewApplication", false},
	        {"/onboard.v1.Onboarding/ListApplications", false},
	        {"/onboard.v1.Auth/Login", false},
	        /* not a registered method: the workers answer UNIMPLEMENTED */
	        {"/onboard.v1.Onboarding/GetApplicationX", false},
	        {"onboard.v1.Onboarding/GetApplication", false},
	        {"/onboard.v1.Nope/Check", false},
	        {"", false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (quick(rows[i].method) != rows[i].quick)
			fail_msg("%s: expected %s", rows[i].method,
			         rows[i].quick ? "quick" : "not quick");
	}
}

/* Bytes that are not an envelope, cut short at every length, or with the
 * method field broken: false, and nothing read out of bounds (ASan). */
static void test_malformed(void **state)
{
	(void)state;
	size_t len;
	uint8_t *env = ob_test_envelope_pack(
	        &(ob_test_envelope){.method = "/onboard.v1.Onboarding/GetApplication"}, &len);
	assert_non_null(env);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut > 0 ? cut : 1); /* exactly cut bytes, for ASan */
		memcpy(copy, env, cut);
		assert_false(ob_dispatch_is_quick(d, copy, cut));
		free(copy);
	}
	free(env);
	/* field 2 with a length beyond the buffer; a group wire type; a NUL in the name */
	static const uint8_t long_len[] = {0x08, 0x01, 0x12, 0x7f, '/', 'a'};
	static const uint8_t group[] = {0x0b, 0x12, 0x01, '/'};
	static const uint8_t nul[] = {0x12, 0x05, '/', 'a', 0, 'b', 'c'};
	static const uint8_t varint_runaway[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                         0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	assert_false(ob_dispatch_is_quick(d, long_len, sizeof(long_len)));
	assert_false(ob_dispatch_is_quick(d, group, sizeof(group)));
	assert_false(ob_dispatch_is_quick(d, nul, sizeof(nul)));
	assert_false(ob_dispatch_is_quick(d, varint_runaway, sizeof(varint_runaway)));
	assert_false(ob_dispatch_is_quick(d, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
