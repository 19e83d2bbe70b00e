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
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "fakesrv.h"
#include "onboard/client.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/rpc.pb-c.h"

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

/* ---- a connection closed under a call ------------------------------------------------------ */

/* Reads exactly n bytes; false at end of stream. */
static bool read_n(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* Accepts ipc connections until one carries a request: exchanges SP hellos, reads one request
 * frame into *body (the caller frees it). A connection that ends before its request (the
 * client library's look at who serves the socket) is passed over. Returns the connection,
 * or -1. */
static int accept_request(int ls, uint8_t **body, size_t *len)
{
	static const uint8_t rep[8] = {0, 'S', 'P', 0, 0, 0x31, 0, 0};
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			return -1;
		uint8_t hello[8], head[9];
		if (write(fd, rep, sizeof(rep)) != (ssize_t)sizeof(rep) ||
		    !read_n(fd, hello, sizeof(hello)) || !read_n(fd, head, sizeof(head)) ||
		    head[0] != 1) {
			close(fd);
			continue;
		}
		uint64_t n = 0;
		for (int i = 1; i < 9; i++)
			n = (n << 8) | head[i];
		if (n < 4 || n > 65536 || (*body = malloc((size_t)n)) == NULL) {
			close(fd);
			return -1;
		}
		*len = (size_t)n;
		if (read_n(fd, *body, (size_t)n))
			return fd;
		free(*body);
		*body = NULL;
		close(fd);
	}
}

typedef struct {
	int ls;
	uint8_t *first, *second;
	size_t first_len, second_len;
	bool ok;
} closer;

/* The first connection's request is read and the connection closed without a reply, as
 * onboardd's idle reaper may do the moment a request arrives; the second one is answered OK. */
static void *closer_main(void *arg)
{
	closer *k = arg;
	int fd = accept_request(k->ls, &k->first, &k->first_len);
	if (fd < 0)
		return NULL;
	close(fd);
	fd = accept_request(k->ls, &k->second, &k->second_len);
	if (fd < 0)
		return NULL;
	Onboard__V1__Response rs = ONBOARD__V1__RESPONSE__INIT;
	uint8_t out[64];
	size_t n = onboard__v1__response__pack(&rs, out + 9 + 4);
	out[0] = 1;
	uint64_t flen = 4 + n;
	for (int i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(flen >> (56 - 8 * i));
	memcpy(out + 9, k->second, 4); /* the request id, as received */
	k->ok = write(fd, out, 9 + 4 + n) == (ssize_t)(9 + 4 + n);
	/* Open until the client goes: closed right after the reply, the connection's end
	 * could reach the client before the reply does. */
	uint8_t sink[64];
	while (read(fd, sink, sizeof(sink)) > 0)
		;
	close(fd);
	return NULL;
}

/* nng's REQ fails a call with ECONNRESET when its connection closes before the reply (we turn
 * its timed resends off); the library sends the request again, the same bytes with the same
 * idempotency key, so that a write the server did make is not made twice. */
static void test_request_sent_again_after_connection_closed(void **state)
{
	(void)state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	assert_true(strlen(dir) + sizeof("/closer.sock") <= sizeof(sa.sun_path));
	memcpy(sa.sun_path, dir, strlen(dir));
	memcpy(sa.sun_path + strlen(dir), "/closer.sock", sizeof("/closer.sock"));
	const char *path = sa.sun_path;
	closer k = {.ls = socket(AF_UNIX, SOCK_STREAM, 0)};
	assert_true(k.ls >= 0);
	assert_int_equal(bind(k.ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(k.ls, 4), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, closer_main, &k), 0);

	char url[256];
	snprintf(url, sizeof(url), "ipc://%s", path);
	const char *urls[] = {url};
	ob_client *c = NULL;
	char err[256];
	assert_int_equal(ob_client_open(&c, urls, 1, NULL, err, sizeof(err)), 0);
	ob_result r;
	int code = ob_client_call(c, M_HEALTH, NULL, 0, NULL, 0, 10000, &r);
	if (code != OB_CODE_OK)
		fail_msg("got %s: %s", ob_code_name(code), r.message);
	ob_result_fini(&r);
	ob_client_close(c);
	pthread_join(t, NULL);
	close(k.ls);
	assert_true(k.ok);
	/* The same request both times, request id aside (nng numbers each send). */
	assert_int_equal(k.first_len, k.second_len);
	assert_memory_equal(k.first + 4, k.second + 4, k.first_len - 4);
	free(k.first);
	free(k.second);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_code_out_of_range),
	        cmocka_unit_test(test_code_in_range),
	        cmocka_unit_test(test_call_message_out_of_range),
	        cmocka_unit_test(test_request_sent_again_after_connection_closed),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
