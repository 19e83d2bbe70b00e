#include "secretfile.h"

#include "errbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

static int fail(char *err, size_t n, int rc, const char *fmt, ...) OB_PRINTF(4, 5);

static int fail(char *err, size_t n, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ob_verrbuf(err, n, fmt, ap);
	va_end(ap);
	return rc;
}

/* The rules, on an open descriptor. */
static int check(int fd, const char *path, char *err, size_t n)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return fail(err, n, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(err, n, -EPERM, "%s: not a regular file", path);
	if (st.st_uid != geteuid())
		return fail(err, n, -EPERM,
		            "%s: owned by uid %lu, but we run as uid %lu; chown it to this user",
		            path, (unsigned long)st.st_uid, (unsigned long)geteuid());
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		return fail(err, n, -EPERM,
		            "%s: mode %04o gives its group or others access to a secret; run "
		            "`chmod 600 %s`",
		            path, (unsigned)(st.st_mode & 07777), path);
	return 0;
}

int ob_secret_open(const char *path, int flags, bool follow, int *fd_out, char *err, size_t n)
{
	*fd_out = -1;
	if (path == NULL || path[0] == '\0')
		return fail(err, n, -EINVAL, "no secret file named");
	flags |= O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW);
	int fd = open(path, flags);
	if (fd < 0) {
		int e = errno;
		/* Linux says ELOOP for a final symlink under O_NOFOLLOW, FreeBSD EMLINK. */
		if (!follow && (e == ELOOP || e == EMLINK))
			return fail(err, n, -EPERM, "%s: a symbolic link, refused for a secret",
			            path);
		return fail(err, n, -e, "%s: %s", path, strerror(e));
	}
	int rc = check(fd, path, err, n);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

int ob_secret_read(const char *path, bool follow, size_t max, char **out, size_t *len, char *err,
                   size_t n)
{
	*out = NULL;
	*len = 0;
	int fd;
	int rc = ob_secret_open(path, O_RDONLY, follow, &fd, err, n);
	if (rc != 0)
		return rc;
	/* One more than max, to tell a file of max bytes from a larger one. */
	char *buf = sodium_malloc(max + 2);
	if (buf == NULL) {
		close(fd);
		return fail(err, n, -ENOMEM, "%s: out of memory", path);
	}
	size_t got = 0;
	rc = ob_read_fd(fd, buf, max + 1, &got);
	close(fd);
	if (rc != 0)
		rc = fail(err, n, rc, "%s: %s", path, strerror(-rc));
	else if (got > max)
		rc = fail(err, n, -EFBIG, "%s: larger than %zu bytes", path, max);
	if (rc != 0) {
		sodium_free(buf);
		return rc;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Makes a new directory entry durable. Some file systems cannot sync a
 * directory (EINVAL); nothing more can be done there. */
static int sync_parent(const char *path)
{
	char dir[4096];
	if (!ob_path_dir(path, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fsync(fd);
	int e = errno;
	close(fd);
	return r == 0 || e == EINVAL ? 0 : -e;
}

int ob_secret_create(const char *path, const void *data, size_t len, char *err, size_t n)
{
	if (path == NULL || path[0] == '\0')
		return fail(err, n, -EINVAL, "no file named");
	/* O_EXCL also refuses a symbolic link at path, even a dangling one. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		int e = errno;
		if (e == EEXIST)
			return fail(err, n, -EEXIST,
			            "%s: already exists; a secret file is never "
			            "overwritten",
			            path);
		return fail(err, n, -e, "%s: %s", path, strerror(e));
	}
	/* The umask may have removed bits from 0600 (never added any): set it exactly. */
	int rc = 0;
	if (fchmod(fd, 0600) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0)
		rc = sync_parent(path);
	if (rc != 0) {
		unlink(path);
		return fail(err, n, rc, "%s: %s", path, strerror(-rc));
	}
	return 0;
}
