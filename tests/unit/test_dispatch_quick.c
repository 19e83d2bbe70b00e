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

/* The reads of one row and the health check are quick; writes, lists and
 * logins never are: they may wait for the writer or take long. */
static void test_flagged_methods(void **state)
{
	(void)state;
	assert_true(quick("/onboard.v1.Health/Check"));
	assert_true(quick("/onboard.v1.Onboarding/GetApplication"));
	assert_true(quick("/onboard.v1.Onboarding/GetCohort"));
	assert_false(quick("/onboard.v1.Onboarding/SubmitApplication"));
	assert_false(quick("/onboard.v1.Onboarding/ReviewApplication"));
	assert_false(quick("/onboard.v1.Onboarding/ListApplications"));
	assert_false(quick("/onboard.v1.Auth/Login"));
}

/* Names that are not a registered method are not quick (the workers answer
 * them UNIMPLEMENTED). */
static void test_unknown_names(void **state)
{
	(void)state;
	assert_false(quick("/onboard.v1.Onboarding/GetApplicationX"));
	assert_false(quick("onboard.v1.Onboarding/GetApplication"));
	assert_false(quick("/onboard.v1.Nope/Check"));
	assert_false(quick(""));
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
	        cmocka_unit_test(test_flagged_methods),
	        cmocka_unit_test(test_unknown_names),
	        cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
