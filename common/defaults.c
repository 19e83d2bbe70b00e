#include "defaults.h"

#include <errno.h>
#include <stdbool.h>
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

char *ob_default_listen_url(char *out, size_t n)
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

/* Whether the socket of the ipc:// URL url exists. */
static bool socket_exists(const char *url)
{
	struct stat st;
	return strncmp(url, "ipc://", 6) == 0 && lstat(url + 6, &st) == 0;
}

/* The directory of path, without the trailing slash, into out. */
static void dir_of(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');
	int len = slash == NULL ? 1 : slash == path ? 1 : (int)(slash - path);
	snprintf(out, n, "%.*s", len, slash == NULL ? "." : path);
}

/* The systemd unit's socket directory: made by root (its parent is root's
 * and nobody else writes there), written by nobody but its owner. */
static int system_dir_check(const char *socket, uid_t *owner, char *err, size_t n)
{
	char dir[512], parent[512];
	dir_of(socket, dir, sizeof(dir));
	dir_of(dir, parent, sizeof(parent));
	struct stat d, p;
	if (lstat(dir, &d) != 0 || lstat(parent, &p) != 0) {
		snprintf(err, n, "cannot check the socket directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(d.st_mode) || (d.st_mode & (S_IWGRP | S_IWOTH)) != 0 || !S_ISDIR(p.st_mode) ||
	    p.st_uid != 0 || (p.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(err, n,
		         "the socket directory %s is not one only root could have made (a "
		         "directory writable by its owner alone, in a directory of root's that no "
		         "one else can write to): name the server with --server or $ONBOARD_SERVER",
		         dir);
		return -1;
	}
	*owner = d.st_uid;
	return 0;
}

int ob_default_server_pick(const char *system_socket, ob_default_server *out, char *err, size_t n)
{
	memset(out, 0, sizeof(*out));
	out->server_uid = (uid_t)-1;
	ob_default_listen_url(out->url, sizeof(out->url));
	const char *env = getenv("ONBOARD_SERVER");
	if (env != NULL && env[0] != '\0')
		return 0;
	char system_url[sizeof(out->url)];
	snprintf(system_url, sizeof(system_url), "ipc://%s", system_socket);
	if (!socket_exists(out->url) && socket_exists(system_url)) {
		snprintf(out->url, sizeof(out->url), "%s", system_url);
		out->system = true;
		return system_dir_check(system_socket, &out->server_uid, err, n);
	}
	const char *run = getenv("XDG_RUNTIME_DIR");
	if (run != NULL && run[0] == '/')
		return 0;
	char dir[64];
	tmp_dir(dir, sizeof(dir), getuid());
	return ob_socket_dir_check(dir, getuid(), err, n);
}

char *ob_default_server_url(char *out, size_t n)
{
	ob_default_server d;
	char err[8];
	ob_default_server_pick(OB_SYSTEM_SOCKET, &d, err, sizeof(err));
	snprintf(out, n, "%s", d.url);
	return out;
}

int ob_default_server_check(char *err, size_t n)
{
	ob_default_server d;
	return ob_default_server_pick(OB_SYSTEM_SOCKET, &d, err, n);
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
