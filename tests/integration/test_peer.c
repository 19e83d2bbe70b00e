/*
 * test_peer.c: libonboard-client checks who listens on an ipc socket, and refuses the default
 * socket directory in /tmp when someone else made it.
 *
 * Needs root (CI runs the tests as root): the server that must be refused is an
 * onboard-fakesrv run as nobody (uid 65534), and the directory checks change to other uids.
 * Without root the whole program is skipped (exit 77): a skip about the environment (the
 * account that runs the tests), never about the library, whose missing checks fail it;
 * tests/unit/test_defaults.c checks the directory rules without root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "defaults.h"
#include "fakesrv.h"
#include "onboard/client.h"

#define M_HEALTH "/onboard.v1.Health/Check"

enum { NOBODY = 65534 };

/* /tmp/ob-peer-XXXXXX (0711, so that nobody can reach its own subdirectory), with
 * nobody/ (nobody's, 0700) for nobody's sockets and root/ for root's. Under /tmp rather
 * than $TMPDIR: every directory on the way must be open to nobody.
 *
 * nobody runs two servers: one that clients refuse, one that they are told to take. A server
 * whose connection a client refused (hung up on at once) sometimes answered no later
 * connection (about 1 run in 30 here), which looks like nng 1.5.2's ipc listener bug that
 * onboardd's watchdog works around (nng issue #1518): a server that was refused is not asked
 * again. */
static char dir[64];
static char default_dir[64]; /* /tmp/onboard-UID of test_default_dir, removed by teardown */
static char refused_path[96], refused_url[128], taken_url[128], root_url[128];
static ob_fakesrv refused_srv, taken_srv, root_srv;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ob-peer-XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0711) != 0)
		return -1;
	char sub[96];
	snprintf(sub, sizeof(sub), "%s/nobody", dir);
	if (mkdir(sub, 0700) != 0 || chown(sub, NOBODY, NOBODY) != 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s/root", dir);
	if (mkdir(sub, 0700) != 0)
		return -1;
	snprintf(refused_path, sizeof(refused_path), "%s/nobody/refused.sock", dir);
	snprintf(refused_url, sizeof(refused_url), "ipc://%s", refused_path);
	snprintf(taken_url, sizeof(taken_url), "ipc://%s/nobody/taken.sock", dir);
	snprintf(root_url, sizeof(root_url), "ipc://%s/root/s.sock", dir);
	/* nobody's servers answer NOT_FOUND, root's OK: a reply says who sent it. */
	if (ob_fakesrv_start(&refused_srv, refused_url, OB_CODE_NOT_FOUND, NOBODY) != 0 ||
	    ob_fakesrv_start(&taken_srv, taken_url, OB_CODE_NOT_FOUND, NOBODY) != 0)
		return -1;
	if (ob_fakesrv_start(&root_srv, root_url, OB_CODE_OK, -1) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_fakesrv_stop(&refused_srv);
	ob_fakesrv_stop(&taken_srv);
	ob_fakesrv_stop(&root_srv);
	if (default_dir[0] != '\0') { /* a failed test_default_dir leaves it behind */
		unlink(default_dir);
		rmdir(default_dir);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A server run by nobody is refused when the client opens, before anything is sent, with a
 * message that names the socket, its uid and the one expected. */
static void test_refused_at_open(void **state)
{
	(void)state;
	ob_client *c = NULL;
	char err[512], want[512];
	const char *urls[] = {refused_url};
	assert_int_equal(ob_client_open(&c, urls, 1, NULL, err, sizeof(err)), -1);
	assert_null(c);
	snprintf(want, sizeof(want), "the server socket at %s is served by uid %d, expected 0",
	         refused_path, NOBODY);
	assert_string_equal(err, want);
}

/* A lazy client gets no connection to nobody's server: its call times out and says why. */
static void test_refused_call(void **state)
{
	(void)state;
	ob_client *c;
	char err[512];
	const char *urls[] = {refused_url};
	ob_client_options opts = {.lazy_connect = true};
	assert_int_equal(ob_client_open(&c, urls, 1, &opts, err, sizeof(err)), 0);
	ob_result r;
	assert_int_equal(ob_client_call(c, M_HEALTH, NULL, 0, NULL, 0, 1500, &r),
	                 OB_CODE_DEADLINE_EXCEEDED);
	assert_true(r.local);
	assert_non_null(strstr(r.message, "is served by uid 65534, expected 0"));
	ob_result_fini(&r);
	ob_client_close(c);
}

/* With several servers, nobody's is left out and every call goes to root's (nng's REQ would
 * spread them over both). */
static void test_refused_among_others(void **state)
{
	(void)state;
	ob_client *c;
	char err[512];
	const char *urls[] = {refused_url, root_url};
	assert_int_equal(ob_client_open(&c, urls, 2, NULL, err, sizeof(err)), 0);
	for (int i = 0; i < 8; i++) {
		ob_result r;
		assert_int_equal(ob_client_call(c, M_HEALTH, NULL, 0, NULL, 0, 5000, &r),
		                 OB_CODE_OK);
		ob_result_fini(&r);
	}
	ob_client_close(c);
}

/* Naming nobody as the server's user lets its socket through; root stays accepted. */
static void test_named_uid(void **state)
{
	(void)state;
	const char *const all[] = {taken_url, root_url};
	const int want[] = {OB_CODE_NOT_FOUND, OB_CODE_OK};
	for (size_t i = 0; i < 2; i++) {
		ob_client *c;
		char err[512];
		ob_client_options opts = {.ipc_server_uid_set = true, .ipc_server_uid = NOBODY};
		if (ob_client_open(&c, &all[i], 1, &opts, err, sizeof(err)) != 0)
			print_error("%s: %s\n", all[i], err);
		assert_non_null(c);
		ob_result r;
		assert_int_equal(ob_client_call(c, M_HEALTH, NULL, 0, NULL, 0, 5000, &r), want[i]);
		assert_false(r.local);
		ob_result_fini(&r);
		ob_client_close(c);
	}
}

/* By default, the caller's own uid (root here) is accepted. */
static void test_default_accepts_own_uid(void **state)
{
	(void)state;
	ob_client *c;
	char err[512];
	const char *urls[] = {root_url};
	assert_int_equal(ob_client_open(&c, urls, 1, NULL, err, sizeof(err)), 0);
	ob_client_close(c);
}

/* An unused uid for the default directory's checks: /tmp/onboard-UID must not exist. */
static uid_t unused_uid(void)
{
	for (uid_t uid = 2000000000u + (uid_t)(getpid() % 100000);; uid++) {
		char path[64];
		struct stat st;
		snprintf(path, sizeof(path), "/tmp/onboard-%u", (unsigned)uid);
		if (getpwuid(uid) == NULL && lstat(path, &st) != 0)
			return uid;
	}
}

/* Runs ob_default_server_check() as uid, without $ONBOARD_SERVER and $XDG_RUNTIME_DIR, in a
 * child (which uses no nng); returns its result and message. */
static int check_as(uid_t uid, char *msg, size_t n)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (setgid(uid) != 0 || setuid(uid) != 0)
			_exit(3);
		unsetenv("ONBOARD_SERVER");
		unsetenv("XDG_RUNTIME_DIR");
		char err[512] = "";
		int rc = ob_default_server_check(err, sizeof(err));
		if (write(fds[1], err, strlen(err)) < 0)
			_exit(4);
		_exit(rc == 0 ? 0 : 1);
	}
	close(fds[1]);
	size_t got = 0;
	ssize_t r;
	while (got + 1 < n && (r = read(fds[0], msg + got, n - 1 - got)) > 0)
		got += (size_t)r;
	msg[got] = '\0';
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_true(WEXITSTATUS(status) <= 1);
	return WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* /tmp/onboard-$UID, the default socket directory without $XDG_RUNTIME_DIR: refused when
 * someone else made it, when others may write to it, when it is a symbolic link; accepted
 * when it is the user's own, or missing. */
static void test_default_dir(void **state)
{
	(void)state;
	uid_t uid = unused_uid();
	char msg[512], want[256];
	snprintf(default_dir, sizeof(default_dir), "/tmp/onboard-%u", (unsigned)uid);
	const char *path = default_dir;

	assert_int_equal(check_as(uid, msg, sizeof(msg)), 0); /* missing */

	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chown(path, NOBODY, NOBODY), 0); /* made by nobody */
	int rc = check_as(uid, msg, sizeof(msg));
	snprintf(want, sizeof(want),
	         "the socket directory %s belongs to uid %d, not to you (uid %u)", path, NOBODY,
	         (unsigned)uid);
	if (strstr(msg, want) == NULL)
		print_error("got \"%s\", want \"%s...\"\n", msg, want);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(msg, want));

	assert_int_equal(chown(path, uid, uid), 0); /* the user's own */
	assert_int_equal(check_as(uid, msg, sizeof(msg)), 0);

	assert_int_equal(chmod(path, 0733), 0); /* but others may write */
	assert_int_equal(check_as(uid, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "can be written by others (mode 733)"));

	assert_int_equal(rmdir(path), 0);
	char target[96];
	snprintf(target, sizeof(target), "%s/root", dir);
	assert_int_equal(symlink(target, path), 0); /* a link to a directory */
	assert_int_equal(lchown(path, uid, uid), 0);
	assert_int_equal(check_as(uid, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "is a symbolic link"));
	assert_int_equal(unlink(path), 0);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_peer: skipped: the environment is not root, which a server "
		                "run by another user needs\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_refused_at_open),         cmocka_unit_test(test_refused_call),
	        cmocka_unit_test(test_refused_among_others),    cmocka_unit_test(test_named_uid),
	        cmocka_unit_test(test_default_accepts_own_uid), cmocka_unit_test(test_default_dir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
