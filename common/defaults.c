#include "defaults.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The /tmp fallback's directory for uid, without the trailing slash. */
static void tmp_dir(char *out, size_t n, uid_t uid)
{
	snprintf(out, n, "/tmp/onboard-%u", (unsigned)uid);
}

char *ob_default_server_url(char *out, size_t n)
{
	const char *env = getenv("ONBOARD_SERVER");
	const char *run = getenv("XDG_RUNTIME_DIR");
	if (env != NULL && env[0] != '\0') {
		snprintf(out, n, "%s", env);
	} else if (run != NULL && run[0] == '/') {
		snprintf(out, n, "ipc://%s/onboard/onboardd.sock", run);
	} else {
		char dir[64];
		tmp_dir(dir, sizeof(dir), getuid());
		snprintf(out, n, "ipc://%s/onboardd.sock", dir);
	}
	return out;
}

int ob_default_server_check(char *err, size_t n)
{
	const char *env = getenv("ONBOARD_SERVER");
	const char *run = getenv("XDG_RUNTIME_DIR");
	if ((env != NULL && env[0] != '\0') || (run != NULL && run[0] == '/'))
		return 0;
	char dir[64];
	tmp_dir(dir, sizeof(dir), getuid());
	return ob_socket_dir_check(dir, getuid(), err, n);
}

int ob_socket_dir_check(const char *dir, uid_t uid, char *err, size_t n)
{
	struct stat st;
	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, n, "cannot check the socket directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		snprintf(err, n,
		         "the socket directory %s is %s, not a directory: someone may have put it "
		         "there to serve you a socket of theirs; remove it",
		         dir, S_ISLNK(st.st_mode) ? "a symbolic link" : "a file");
		return -1;
	}
	if (st.st_uid != uid) {
		snprintf(err, n,
		         "the socket directory %s belongs to uid %u, not to you (uid %u): someone "
		         "else may have made it to serve you a socket of theirs; remove it, or "
		         "name the server with --server or $ONBOARD_SERVER",
		         dir, (unsigned)st.st_uid, (unsigned)uid);
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(err, n,
		         "the socket directory %s can be written by others (mode %03o): they "
		         "could replace the socket; chmod 700 %s",
		         dir, (unsigned)(st.st_mode & 0777), dir);
		return -1;
	}
	return 0;
}
