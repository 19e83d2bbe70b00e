/*
 * test_defaults.c: common/defaults.c, the rules for a socket directory (the default one in
 * /tmp is checked with them), and how a client picks its default server (the systemd unit's
 * socket among them). Runs as any user; tests/integration/test_peer.c checks the
 * default directory itself as other users, with root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "defaults.h"

/* Asserts what ob_socket_dir_check says of path for uid: 0, or -1 with what in the message. */
static void check(const char *path, uid_t uid, const char *what)
{
	char err[512] = "";
	int rc = ob_socket_dir_check(path, uid, err, sizeof(err));
	if (what == NULL) {
		if (rc != 0)
			print_error("%s: %s\n", path, err);
		assert_int_equal(rc, 0);
		return;
	}
	if (rc != -1 || strstr(err, what) == NULL)
		print_error("%s: rc %d, \"%s\", want \"%s\"\n", path, rc, err, what);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, what));
	assert_non_null(strstr(err, path)); /* the message names the directory */
}

/* A new directory $TMPDIR/NAME-XXXXXX (or under /tmp) into dir (n bytes). */
static void make_tmp_dir(char *dir, size_t n, const char *name)
{
	const char *base = getenv("TMPDIR");
	snprintf(dir, n, "%s/%s-XXXXXX", base != NULL && base[0] != '\0' ? base : "/tmp", name);
	assert_non_null(mkdtemp(dir));
}

static void test_socket_dir(void **state)
{
	(void)state;
	char dir[256], path[300], link[300], file[300];
	make_tmp_dir(dir, sizeof(dir), "ob-defaults");
	snprintf(path, sizeof(path), "%s/onboard", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(file, sizeof(file), "%s/file", dir);
	uid_t me = geteuid();

	check(path, me, NULL); /* missing: nothing listens there */
	assert_int_equal(mkdir(path, 0700), 0);
	check(path, me, NULL);
	check(path, me + 1, "belongs to uid"); /* someone else's */
	assert_int_equal(chmod(path, 0770), 0);
	check(path, me, "can be written by others (mode 770)");
	assert_int_equal(chmod(path, 0702), 0);
	check(path, me, "can be written by others (mode 702)");
	assert_int_equal(chmod(path, 0755), 0); /* readable is fine */
	check(path, me, NULL);
	assert_int_equal(symlink(path, link), 0);
	check(link, me, "is a symbolic link");
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	check(file, me, "is a file");

	assert_int_equal(unlink(file), 0);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Makes an empty file at path (a socket stands in for lstat). */
static void touch(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

/*
 * The client's default server: the user's own socket when it exists, else the systemd unit's
 * when it exists (served by the owner of its directory, which only root can have made), else
 * the user's; $ONBOARD_SERVER before all. The unit's socket is a temporary stand-in for
 * /run/onboard/onboardd.sock: as root, in a directory of root's, with its directory given to
 * another uid as systemd gives it to the unit's User=; as anyone else, the same tree is not
 * root's, and is refused.
 */
static void test_default_server(void **state)
{
	(void)state;
	char top[200], mine[256], mine_sock[300], run[256], sysdir[280], sys_sock[320];
	make_tmp_dir(top, sizeof(top), "ob-pick");
	snprintf(mine, sizeof(mine), "%s/user", top);
	snprintf(mine_sock, sizeof(mine_sock), "%s/onboard/onboardd.sock", mine);
	snprintf(run, sizeof(run), "%s/run", top);
	snprintf(sysdir, sizeof(sysdir), "%s/onboard", run);
	snprintf(sys_sock, sizeof(sys_sock), "%s/onboardd.sock", sysdir);
	assert_int_equal(mkdir(mine, 0700), 0);
	assert_int_equal(mkdir(run, 0755), 0);
	assert_int_equal(mkdir(sysdir, 0750), 0);
	unsetenv("ONBOARD_SERVER");
	assert_int_equal(setenv("XDG_RUNTIME_DIR", mine, 1), 0);
	char want_mine[340], want_sys[340], err[512];
	snprintf(want_mine, sizeof(want_mine), "ipc://%s", mine_sock);
	snprintf(want_sys, sizeof(want_sys), "ipc://%s", sys_sock);
	ob_default_server d;

	/* Nothing listens anywhere: the user's own, where their onboardd would. */
	assert_int_equal(ob_default_server_pick(sys_sock, &d, err, sizeof(err)), 0);
	assert_string_equal(d.url, want_mine);
	assert_false(d.system);

	/* The unit's socket exists: it is the default. */
	touch(sys_sock);
	uid_t owner = 65534;
	int rc = ob_default_server_pick(sys_sock, &d, err, sizeof(err));
	assert_string_equal(d.url, want_sys);
	assert_true(d.system);
	if (geteuid() == 0) {
		assert_int_equal(chown(sysdir, owner, owner), 0);
		assert_int_equal(ob_default_server_pick(sys_sock, &d, err, sizeof(err)), 0);
		assert_true(d.system);
		assert_int_equal(d.server_uid, owner);
		/* Others may write to the socket's directory, or to the one it is in. */
		assert_int_equal(chmod(sysdir, 0770), 0);
		assert_int_equal(ob_default_server_pick(sys_sock, &d, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "only root could have made"));
		assert_int_equal(chmod(sysdir, 0750), 0);
		assert_int_equal(chmod(run, 0775), 0);
		assert_int_equal(ob_default_server_pick(sys_sock, &d, err, sizeof(err)), -1);
		assert_int_equal(chmod(run, 0755), 0);
		/* Not root's: anyone could have made the directory. */
		assert_int_equal(chown(run, owner, owner), 0);
		assert_int_equal(ob_default_server_pick(sys_sock, &d, err, sizeof(err)), -1);
		assert_int_equal(chown(run, 0, 0), 0);
		assert_int_equal(chown(sysdir, 0, 0), 0);
	} else {
		/* The tree is the user's, not root's: refused. */
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err, "only root could have made"));
		assert_non_null(strstr(err, sysdir));
	}

	/* The user's own onboardd comes first, and $ONBOARD_SERVER before all. */
	char mine_dir[280];
	snprintf(mine_dir, sizeof(mine_dir), "%s/onboard", mine);
	assert_int_equal(mkdir(mine_dir, 0700), 0);
	touch(mine_sock);
	assert_int_equal(ob_default_server_pick(sys_sock, &d, err, sizeof(err)), 0);
	assert_string_equal(d.url, want_mine);
	assert_false(d.system);
	assert_int_equal(setenv("ONBOARD_SERVER", "tcp://127.0.0.1:7400", 1), 0);
	unlink(mine_sock);
	assert_int_equal(ob_default_server_pick(sys_sock, &d, err, sizeof(err)), 0);
	assert_string_equal(d.url, "tcp://127.0.0.1:7400");
	assert_false(d.system);
	unsetenv("ONBOARD_SERVER");
	unsetenv("XDG_RUNTIME_DIR");

	unlink(sys_sock);
	rmdir(sysdir);
	rmdir(run);
	rmdir(mine_dir);
	rmdir(mine);
	rmdir(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_socket_dir),
	        cmocka_unit_test(test_default_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
