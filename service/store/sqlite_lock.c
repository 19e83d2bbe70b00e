/*
 * One process per SQLite file. The store's invariants (seats never above
 * capacity, one live application per SIREN...) hold because one writer thread
 * re-reads what it decides on; two onboardd on one file would each hold their
 * own writer, and SQLite's locks would serialise their commits but not their
 * decisions' reads. So the store takes an exclusive flock(2) on PATH.lock
 * beside the database for as long as it is open, and writes its pid there so
 * that a second instance can name the first.
 *
 * Why a file of its own rather than the database: SQLite uses POSIX record
 * locks on the database, which any close() of any descriptor of the file in
 * the process drops; flock(2) locks belong to the open file description and
 * are independent of them. The kernel releases the lock when the process dies
 * (kill -9 included), so a stale PATH.lock never blocks a restart; the file
 * itself is left in place (removing it would race with a starting instance).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/file.h>

#include "base/log.h"
#include "store/sqlite_impl.h"

/* The pid written in an open lock file, or 0 when it holds none. */
static long holder_of(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *end = NULL;
	long pid = strtol(buf, &end, 10);
	return end != buf && pid > 0 ? pid : 0;
}

ob_err sq_lock_take(const char *db_path, int *fd_out)
{
	*fd_out = -1;
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s.lock", db_path) >= sizeof(path))
		return OB_ETOOBIG;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;
		ob_log(OB_LOG_ERROR, "store: cannot open the lock file %s: %s", path, strerror(e));
		return ob_err_from_errno(e);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (e == EWOULDBLOCK) {
			long pid = holder_of(fd);
			if (pid > 0)
				ob_log(OB_LOG_ERROR,
				       "store: the database %s is in use by another onboardd, "
				       "process %ld (it holds %s): one process per SQLite file",
				       db_path, pid, path);
			else
				ob_log(OB_LOG_ERROR,
				       "store: the database %s is in use by another process (it "
				       "holds %s): one process per SQLite file",
				       db_path, path);
		} else {
			ob_log(OB_LOG_ERROR, "store: cannot lock %s: %s", path, strerror(e));
		}
		close(fd);
		return e == EWOULDBLOCK ? OB_EUNAVAIL : ob_err_from_errno(e);
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		int e = errno;
		ob_log(OB_LOG_ERROR, "store: cannot write the lock file %s: %s", path, strerror(e));
		close(fd);
		return ob_err_from_errno(e);
	}
	*fd_out = fd;
	return OB_OK;
}

void sq_lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* the last descriptor of the description: the lock goes with it */
}
