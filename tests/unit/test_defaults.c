/*
 * test_defaults.c: common/defaults.c, the rules for a socket directory (the default one in
 * /tmp is checked with them). Runs as any user; tests/integration/test_peer.c checks the
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

static void test_socket_dir(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR");
	char dir[256], path[300], link[300], file[300];
	snprintf(dir, sizeof(dir), "%s/ob-defaults-XXXXXX",
	         base != NULL && base[0] != '\0' ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_socket_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
