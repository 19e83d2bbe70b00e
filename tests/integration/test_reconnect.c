/*
 * test_reconnect.c: a long-lived libonboard-client through an onboardd restart that goes
 * wrong before it goes right.
 *
 * nng 1.5.2's dialer stops for good when a connection fails during the SP hello with
 * EPIPE (the server accepted it and died, or closed it, before the client's hello went
 * out): the ipc transport reports NNG_ECLOSED, which the dialer takes for its own close
 * (dialer_connect_cb: "no further action"). A client that met such a restart never dialled
 * again, and every later call timed out while onboardd served everyone else (the crash
 * campaign found it; RELIABILITY.md). The library now watches its connections and makes a
 * new dialer for a URL left without one (client/client.c, "Redialling").
 *
 * The restart is made to fail the hello every time rather than by chance: between the
 * kill -9 and the next onboardd, a stand-in accepts every connection on onboardd's socket
 * and closes it at once, as a server dying during its start does. The client's hello then
 * meets a closed peer. The proof is the next call after onboardd is back: it succeeds within
 * its deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "onboard/client.h"
#include "testsrv.h"
#include "testutil.h"

#define HEALTH "/onboard.v1.Health/Check"

enum {
	CALL_MS = 5000,         /* the deadline of the call that must succeed */
	REFUSING_MAX_MS = 8000, /* how long the stand-in refuses at most */
	SILENT_MS = 2500,       /* no attempt for longer than the longest backoff: given up */
};

/* The stand-in of a server that dies in its start: accepts and closes, until stopped. */
typedef struct {
	int fd;
	pthread_t thread;
	atomic_bool stop;
	atomic_int accepted;
} refuser;

static void *refuse_loop(void *arg)
{
	refuser *r = arg;
	/* A blocking accept, so that the close follows the connect as closely as it can:
	 * the client's hello, sent after a hop through nng's threads, then meets a closed
	 * peer. refuser_stop() wakes it with a connection of its own. */
	while (!atomic_load(&r->stop)) {
		int c = accept(r->fd, NULL, NULL);
		if (c >= 0) {
			close(c);
			atomic_fetch_add(&r->accepted, 1);
		} else if (errno != EINTR && errno != ECONNABORTED) {
			break;
		}
	}
	return NULL;
}

/* Listens on the socket file of url (ipc://PATH, replacing what is there). */
static void refuser_start(refuser *r, const char *url)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = url + strlen("ipc://");
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	unlink(path);
	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(r->fd >= 0);
	assert_int_equal(bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(r->fd, 64), 0);
	atomic_store(&r->stop, false);
	atomic_store(&r->accepted, 0);
	assert_int_equal(pthread_create(&r->thread, NULL, refuse_loop, r), 0);
}

static void refuser_stop(refuser *r, const char *url)
{
	atomic_store(&r->stop, true);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, url + strlen("ipc://"));
	int wake = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(wake >= 0);
	(void)!connect(wake, (struct sockaddr *)&sa, sizeof(sa));
	pthread_join(r->thread, NULL);
	close(wake);
	close(r->fd);
	unlink(url + strlen("ipc://"));
}

/* Lets the stand-in refuse until the client has come a few times and then fallen silent for
 * longer than its longest backoff (2 s): its dialer gave up, which is what the test is
 * about; at most REFUSING_MAX_MS when it never does (each attempt has its chance). */
static void refuse_a_while(refuser *r)
{
	int64_t start = ob_test_mono_ms(), last = start;
	int seen = 0;
	while (ob_test_mono_ms() - start < REFUSING_MAX_MS) {
		ob_test_sleep_ms(50);
		int now = atomic_load(&r->accepted);
		if (now != seen) {
			seen = now;
			last = ob_test_mono_ms();
		} else if (seen >= 3 && ob_test_mono_ms() - last > SILENT_MS) {
			print_message("the client fell silent after %d connections\n", seen);
			return;
		}
	}
}

static int health(ob_client *c, int timeout_ms)
{
	ob_result r;
	int code = ob_client_call(c, HEALTH, NULL, 0, NULL, 0, timeout_ms, &r);
	if (code != OB_CODE_OK)
		print_message("Health: %s: %s\n", ob_code_name(code), r.message);
	ob_result_fini(&r);
	return code;
}

/* Kill -9, a restart that closes every connection during its hello, onboardd again: the
 * client's next call succeeds within its deadline. Three times, since each round must find
 * its way back. */
static void test_reconnect_after_failed_hello(void **state)
{
	(void)state;
	ob_testsrv s;
	assert_int_equal(ob_testsrv_start(&s, NULL), 0);
	ob_client *c;
	char err[256];
	const char *urls[] = {s.url};
	assert_int_equal(ob_client_open(&c, urls, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(health(c, CALL_MS), OB_CODE_OK);
	for (int round = 0; round < 3; round++) {
		ob_testsrv_kill9(&s);
		refuser r;
		refuser_start(&r, s.url);
		refuse_a_while(&r);
		refuser_stop(&r, s.url);
		assert_int_equal(ob_testsrv_restart(&s), 0);
		int64_t t0 = ob_test_mono_ms();
		int code = health(c, CALL_MS);
		print_message("round %d: %d connections refused, then %s after %lld ms\n", round,
		              atomic_load(&r.accepted), ob_code_name(code),
		              (long long)(ob_test_mono_ms() - t0));
		assert_int_equal(code, OB_CODE_OK);
	}
	ob_client_close(c);
	assert_int_equal(ob_testsrv_stop(&s), 0);
}

/* A client opened while nothing listens (lazy): its first dialer meets the same failing
 * start, and a call made once onboardd serves still succeeds. */
static void test_lazy_open_through_failed_hello(void **state)
{
	(void)state;
	ob_testsrv s;
	assert_int_equal(ob_testsrv_start(&s, NULL), 0);
	ob_testsrv_kill9(&s);
	refuser r;
	refuser_start(&r, s.url);
	ob_client *c;
	char err[256];
	const char *urls[] = {s.url};
	ob_client_options o = {.lazy_connect = true};
	assert_int_equal(ob_client_open(&c, urls, 1, &o, err, sizeof(err)), 0);
	refuse_a_while(&r);
	refuser_stop(&r, s.url);
	assert_int_equal(ob_testsrv_restart(&s), 0);
	assert_int_equal(health(c, CALL_MS), OB_CODE_OK);
	ob_client_close(c);
	assert_int_equal(ob_testsrv_stop(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_reconnect_after_failed_hello),
	        cmocka_unit_test(test_lazy_open_through_failed_hello),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
