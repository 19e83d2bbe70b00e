/*
 * test_client.c: libonboard-client against servers that are not a well-behaved onboardd
 * (tests/support/fakesrv.h): status codes outside the contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakesrv.h"
#include "onboard/client.h"
#include "onboard/v1/health.pb-c.h"

#define M_HEALTH "/onboard.v1.Health/Check"

/* A private directory for the tests' sockets (removed at the end), short enough for
 * sun_path. */
static char dir[128];

static int make_dir(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	if (base == NULL || base[0] == '\0' || strlen(base) > 64)
		base = "/tmp";
	snprintf(dir, sizeof(dir), "%s/ob-client-XXXXXX", base);
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* One call of Health/Check to a fake server answering code; returns what the library says,
 * in *r (finished by the caller). */
static int call_fake(int code, ob_result *r, const char *name)
{
	char url[256];
	snprintf(url, sizeof(url), "ipc://%s/%s.sock", dir, name);
	ob_fakesrv f;
	assert_int_equal(ob_fakesrv_start(&f, url, code, -1), 0);
	ob_client *c;
	char err[256];
	const char *urls[] = {url};
	assert_int_equal(ob_client_open(&c, urls, 1, NULL, err, sizeof(err)), 0);
	int got = ob_client_call(c, M_HEALTH, NULL, 0, NULL, 0, 5000, r);
	ob_client_close(c);
	ob_fakesrv_stop(&f);
	return got;
}

/* A status code outside 0..16 from the server is UNKNOWN, never OK, never anything else, and
 * the message keeps the code the server sent. */
static void test_code_out_of_range(void **state)
{
	(void)state;
	static const int codes[] = {-64, -1, 17, 192, 256, 1000, INT32_MIN, INT32_MAX};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		ob_result r;
		char name[32], want[32];
		snprintf(name, sizeof(name), "code%zu", i);
		int got = call_fake(codes[i], &r, name);
		if (got != OB_CODE_UNKNOWN)
			print_error("code %d came back as %d\n", codes[i], got);
		assert_int_equal(got, OB_CODE_UNKNOWN);
		assert_int_equal(r.code, OB_CODE_UNKNOWN);
		assert_false(r.local);
		snprintf(want, sizeof(want), "code %d", codes[i]);
		assert_non_null(strstr(r.message, want));
		assert_non_null(strstr(r.message, "fake server")); /* the server's own message */
		ob_result_fini(&r);
	}
}

/* The contract's codes come through as they are. */
static void test_code_in_range(void **state)
{
	(void)state;
	static const int codes[] = {OB_CODE_OK, OB_CODE_CANCELLED, OB_CODE_NOT_FOUND,
	                            OB_CODE_UNAUTHENTICATED};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		ob_result r;
		char name[32];
		snprintf(name, sizeof(name), "in%zu", i);
		assert_int_equal(call_fake(codes[i], &r, name), codes[i]);
		assert_int_equal(r.code, codes[i]);
		assert_false(r.local);
		ob_result_fini(&r);
	}
}

/* ob_client_call_message: an out-of-range code is a failure with no message unpacked. */
static void test_call_message_out_of_range(void **state)
{
	(void)state;
	char url[256];
	snprintf(url, sizeof(url), "ipc://%s/msg.sock", dir);
	ob_fakesrv f;
	assert_int_equal(ob_fakesrv_start(&f, url, -64, -1), 0);
	ob_client *c;
	const char *urls[] = {url};
	assert_int_equal(ob_client_open(&c, urls, 1, NULL, NULL, 0), 0);
	Onboard__V1__HealthCheckRequest rq = ONBOARD__V1__HEALTH_CHECK_REQUEST__INIT;
	ProtobufCMessage *resp = (ProtobufCMessage *)&rq; /* must be reset to NULL */
	ob_result r;
	assert_int_equal(ob_client_call_message(c, M_HEALTH, NULL, 0, &rq.base,
	                                        &onboard__v1__health_check_response__descriptor,
	                                        &resp, 5000, &r),
	                 OB_CODE_UNKNOWN);
	assert_null(resp);
	ob_result_fini(&r);
	ob_client_close(c);
	ob_fakesrv_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_code_out_of_range),
	        cmocka_unit_test(test_code_in_range),
	        cmocka_unit_test(test_call_message_out_of_range),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
