/*
 * test_notify.c: systemd's notification protocol (base/notify.h) against a fake systemd, a
 * real AF_UNIX datagram socket of the test's, bound to a path and to an abstract name: what
 * arrives is what was sent, byte for byte; no $NOTIFY_SOCKET means nothing is sent; names that
 * are no AF_UNIX socket are refused; $WATCHDOG_USEC and $WATCHDOG_PID are read as systemd
 * means them; and the watchdog thread pings only once the service proves alive.
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

#include <cmocka.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/notify.h"

static char dir[] = "/tmp/test_notify.XXXXXX";

static int setup_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

/* Where the tests' fake systemd listens: "notify" in the test directory. */
static void notify_path(char *path, size_t n)
{
	snprintf(path, n, "%s/notify", dir);
}

static int teardown_dir(void **state)
{
	(void)state;
	char path[256];
	notify_path(path, sizeof(path));
	unlink(path);
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

/* A datagram socket bound to name ('@' first: abstract), as systemd's; receives wait at most
 * 10 s, so that a message that never comes fails the test instead of hanging it. */
static int fake_systemd(const char *name)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(name);
	assert_true(len < sizeof(sa.sun_path));
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	                              (name[0] == '@' ? 0 : 1));
	unlink(name);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, salen), 0);
	struct timeval tv = {.tv_sec = 10};
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return fd;
}

/* A fake systemd at notify_path(), named in $NOTIFY_SOCKET; its socket. */
static int fake_systemd_here(void)
{
	char path[256];
	notify_path(path, sizeof(path));
	int fd = fake_systemd(path);
	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);
	return fd;
}

/* The next datagram on fd, as a string. */
static void receive(int fd, char *buf, size_t n)
{
	ssize_t r = recv(fd, buf, n - 1, 0);
	if (r < 0)
		fail_msg("no notification arrived");
	buf[r] = '\0';
}

/* Whether a datagram is waiting on fd. */
static bool pending(int fd)
{
	char b[64];
	return recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0;
}

static void test_path_socket(void **state)
{
	(void)state;
	int fd = fake_systemd_here();
	assert_true(ob_notify_enabled());
	assert_int_equal(ob_notify("READY=1\nSTATUS=serving"), OB_OK);
	assert_int_equal(ob_notify("STOPPING=1"), OB_OK);
	char got[256];
	receive(fd, got, sizeof(got));
	assert_string_equal(got, "READY=1\nSTATUS=serving");
	receive(fd, got, sizeof(got));
	assert_string_equal(got, "STOPPING=1");
	assert_false(pending(fd));
	close(fd);
}

static void test_abstract_socket(void **state)
{
	(void)state;
	char name[108];
	snprintf(name, sizeof(name), "@onboard-test-notify-%ld", (long)getpid());
	int fd = fake_systemd(name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	assert_int_equal(ob_notify("RELOADING=1"), OB_OK);
	char got[64];
	receive(fd, got, sizeof(got));
	assert_string_equal(got, "RELOADING=1");
	close(fd);
}

/* Without $NOTIFY_SOCKET, nothing is sent and that is no error. */
static void test_no_socket(void **state)
{
	(void)state;
	int fd = fake_systemd_here();
	unsetenv("NOTIFY_SOCKET");
	assert_false(ob_notify_enabled());
	assert_int_equal(ob_notify("READY=1"), OB_OK);
	assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
	assert_int_equal(ob_notify("READY=1"), OB_OK);
	assert_false(pending(fd));
	close(fd);
}

/* A relative name, a name too long for sun_path, a lone '@' are refused; a path where nobody
 * listens is an error, not a silent success. */
static void test_bad_names(void **state)
{
	(void)state;
	char longname[200];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	const char *const bad[] = {"notify", "vsock:2:1234", "@", longname};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(setenv("NOTIFY_SOCKET", bad[i], 1), 0);
		assert_int_equal(ob_notify("READY=1"), OB_EINVAL);
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/nobody", dir);
	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);
	assert_int_not_equal(ob_notify("READY=1"), OB_OK);
}

static void test_watchdog_usec(void **state)
{
	(void)state;
	char pid[32];
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(ob_notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(ob_notify_watchdog_usec(), 30000000);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(ob_notify_watchdog_usec(), 30000000);
	/* Another process's watchdog (a child that inherited the environment). */
	setenv("WATCHDOG_PID", "1", 1);
	assert_int_equal(ob_notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	const char *const bad[] = {"", "0", "-5", "30s", "1e6", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("WATCHDOG_USEC", bad[i], 1);
		assert_int_equal(ob_notify_watchdog_usec(), 0);
	}
	unsetenv("WATCHDOG_USEC");
}

/* The service "proves alive" from its third check on. */
static atomic_int checks;
static bool alive_from_third(void *ctx)
{
	(void)ctx;
	return atomic_fetch_add(&checks, 1) + 1 >= 3;
}

/* Each check runs before its ping is sent or withheld, one at a time: when the first ping
 * arrives, the two checks that failed have been made and sent nothing. */
static void test_watchdog_pings_only_alive(void **state)
{
	(void)state;
	int fd = fake_systemd_here();
	ob_watchdog *w = NULL;
	assert_int_equal(ob_watchdog_start(&w, 0, alive_from_third, NULL), OB_EINVAL);
	assert_null(w);
	atomic_store(&checks, 0);
	assert_int_equal(ob_watchdog_start(&w, 20000, alive_from_third, NULL), OB_OK);
	char got[64];
	receive(fd, got, sizeof(got));
	assert_string_equal(got, "WATCHDOG=1");
	assert_true(atomic_load(&checks) >= 3);
	receive(fd, got, sizeof(got));
	assert_string_equal(got, "WATCHDOG=1");
	ob_watchdog_stop(w);
	/* Stopped: no check runs any more. */
	int after = atomic_load(&checks);
	while (pending(fd))
		;
	assert_int_equal(atomic_load(&checks), after);
	ob_watchdog_stop(NULL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_path_socket),
	        cmocka_unit_test(test_abstract_socket),
	        cmocka_unit_test(test_no_socket),
	        cmocka_unit_test(test_bad_names),
	        cmocka_unit_test(test_watchdog_usec),
	        cmocka_unit_test(test_watchdog_pings_only_alive),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
