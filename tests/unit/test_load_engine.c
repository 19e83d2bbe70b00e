/*
 * test_load_engine.c: the stop path of onboard-load's engine (client/load/engine.c) against
 * onboard-echo on a real ipc:// socket.
 *
 * The regression: after a ^C, the engine's sockets were closed while a lane's callback was
 * still inside nng_ctx_recv() (its receive already completed on another thread, the lane
 * ended, the run counted as over). nng 1.5.2 then freed the socket under the callback and
 * panicked (SIGABRT), once in many runs on a loaded machine. Here that moment is made to
 * happen every time: nng_ctx_recv, nng_aio_stop and nng_close are wrapped (-Wl,--wrap, see
 * tests/unit/meson.build); the wrapper holds the first lane receive made once the test asks,
 * just after nng took it, as a descheduled thread would, until the engine stops that lane's
 * aio or closes a socket. Closing a socket while a lane is held is the defect.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>

#include "engine.h"
#include "load.h"
#include "report.h"
#include "requests.h"
#include "testutil.h"

/* ---- the wrappers ---------------------------------------------------------------------- */

void __real_nng_ctx_recv(nng_ctx c, nng_aio *aio);
void __real_nng_aio_stop(nng_aio *aio);
int __real_nng_close(nng_socket s);
void __wrap_nng_ctx_recv(nng_ctx c, nng_aio *aio);
void __wrap_nng_aio_stop(nng_aio *aio);
int __wrap_nng_close(nng_socket s);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool armed;         /* the next lane receive is to be held */
static nng_aio *held;      /* the aio of the held receive, while it is held */
static bool released;      /* the engine stopped the held aio or closed a socket */
static int inside;         /* lane receives not returned yet */
static int closed_inside;  /* sockets closed while a lane receive had not returned */
static int held_timed_out; /* holds that nothing released (the test's own guard) */
static int closes;         /* sockets closed */
static bool destroyed;     /* ob_load_engine_destroy returned */

static void wait_until(int64_t deadline_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t left = deadline_ms - ob_test_mono_ms();
	if (left < 0)
		left = 0;
	ts.tv_sec += left / 1000;
	ts.tv_nsec += (left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&cv, &mu, &ts);
}

void __wrap_nng_ctx_recv(nng_ctx c, nng_aio *aio)
{
	pthread_mutex_lock(&mu);
	bool hold = armed;
	if (hold) {
		armed = false;
		held = aio;
		released = false;
	}
	inside++;
	pthread_mutex_unlock(&mu);
	__real_nng_ctx_recv(c, aio);
	pthread_mutex_lock(&mu);
	if (hold) {
		pthread_cond_broadcast(&cv); /* the test: a lane is held */
		int64_t deadline = ob_test_mono_ms() + 20000;
		while (!released && ob_test_mono_ms() < deadline)
			wait_until(deadline);
		if (!released)
			held_timed_out++;
		held = NULL;
	}
	inside--;
	pthread_mutex_unlock(&mu);
}

void __wrap_nng_aio_stop(nng_aio *aio)
{
	pthread_mutex_lock(&mu);
	if (aio != NULL && aio == held) {
		released = true;
		pthread_cond_broadcast(&cv);
	}
	pthread_mutex_unlock(&mu);
	__real_nng_aio_stop(aio);
}

int __wrap_nng_close(nng_socket s)
{
	pthread_mutex_lock(&mu);
	if (inside > 0)
		closed_inside++;
	closes++;
	released = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return __real_nng_close(s);
}

/* ---- onboard-echo ----------------------------------------------------------------------- */

/* onboard-echo ($ONBOARD_ECHO) on url, in a process of its own: with both ends in one
 * process, nng 1.5.2's close hangs more often still. */
static pid_t echo_start(const char *url, const char *path)
{
	const char *echo = getenv("ONBOARD_ECHO");
	if (echo == NULL)
		fail_msg("ONBOARD_ECHO is not set (meson test sets it)");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(echo, echo, url, "8", (char *)NULL);
		_exit(127);
	}
	int64_t deadline = ob_test_mono_ms() + 20000;
	while (access(path, F_OK) != 0 && ob_test_mono_ms() < deadline)
		ob_test_sleep_ms(10);
	assert_int_equal(access(path, F_OK), 0);
	return pid;
}

static void echo_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ---- the test -------------------------------------------------------------------------- */

static void *destroy_main(void *arg)
{
	ob_load_engine_destroy(arg);
	pthread_mutex_lock(&mu);
	destroyed = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* A ^C while a lane's callback is on its way out of nng_ctx_recv: the engine must not close
 * its sockets before that callback returned, and the run still reports what it measured. */
static void test_stop_waits_for_the_lanes_callbacks(void **state)
{
	(void)state;
	char dir[256], path[300], url[320], err[512];
	assert_int_equal(ob_test_mkdtemp(dir, sizeof(dir), "load-engine"), 0);
	snprintf(path, sizeof(path), "%s/echo.sock", dir);
	snprintf(url, sizeof(url), "ipc://%s", path);
	pid_t echo = echo_start(url, path);

	char *argv[] = {"onboard-load", "-s", url, "--scenario", "echo", "-d",
	                "60",           "-c", "4", "--json",     NULL};
	static ob_load_config c; /* static: see the end */
	assert_int_equal(ob_load_parse(&c, 10, argv, err, sizeof(err)), 0);
	static ob_load_requests rq;
	assert_int_equal(ob_load_requests_init(&rq, &c, err, sizeof(err)), 0);
	ob_load_engine *e;
	if (ob_load_engine_create(&e, &c, &rq, err, sizeof(err)) != 0)
		fail_msg("engine: %s", err);
	ob_load_engine_start(e);

	/* Once calls are counted, hold the next lane receive (the lanes make thousands a
	 * second). */
	int64_t deadline = ob_test_mono_ms() + 20000;
	ob_load_progress p = {0};
	while (p.calls == 0 && ob_test_mono_ms() < deadline) {
		ob_test_sleep_ms(10);
		ob_load_engine_progress(e, &p);
	}
	assert_true(p.calls > 0);
	pthread_mutex_lock(&mu);
	armed = true;
	while (held == NULL && ob_test_mono_ms() < deadline)
		wait_until(deadline);
	bool got = held != NULL;
	pthread_mutex_unlock(&mu);
	assert_true(got);

	/* The ^C: the held lane's call completes on another thread, every lane ends. */
	ob_load_engine_stop(e);
	deadline = ob_test_mono_ms() + 20000;
	bool ended = false;
	while (!ended && ob_test_mono_ms() < deadline)
		ended = ob_load_engine_wait(e, 100);
	assert_true(ended);
	ob_load_result *r = malloc(sizeof(*r));
	assert_non_null(r);
	ob_load_result_init(r, &c);
	ob_load_engine_result(e, r);
	/* The teardown on a thread of its own: nng 1.5.2 can hang for good in nng_close() of a
	 * REQ socket (its reap thread; load.c's teardown guard bounds this in onboard-load).
	 * What is checked here is decided when the first socket closes. */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, destroy_main, e), 0);
	pthread_mutex_lock(&mu);
	deadline = ob_test_mono_ms() + 20000;
	while (closes == 0 && ob_test_mono_ms() < deadline)
		wait_until(deadline);
	int n_closes = closes, bad = closed_inside, timed_out = held_timed_out;
	pthread_mutex_unlock(&mu);
	assert_true(n_closes > 0);
	assert_int_equal(bad, 0);       /* no socket closed under a lane's callback */
	assert_int_equal(timed_out, 0); /* and the engine itself let the held lane go */
	assert_true(r->interrupted);
	assert_true(r->calls > 0);
	assert_int_equal(r->codes[0], r->calls); /* cancelled calls are not failures */

	pthread_mutex_lock(&mu);
	deadline = ob_test_mono_ms() + 20000;
	while (!destroyed && ob_test_mono_ms() < deadline)
		wait_until(deadline);
	bool done = destroyed;
	pthread_mutex_unlock(&mu);
	echo_stop(echo);
	free(r);
	if (!done) { /* the thread still uses c and rq: left to the process's exit */
		fputs("note: nng_close() did not return (nng 1.5.2's close hang)\n", stderr);
		pthread_detach(t);
		return;
	}
	pthread_join(t, NULL);
	ob_load_requests_fini(&rq);
	ob_load_config_fini(&c);
	ob_test_remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_stop_waits_for_the_lanes_callbacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
