/*
 * The online backup of the SQLite store (domain/store.h: ops.backup).
 *
 * SQLite's backup API copies the database page by page, in steps. Between
 * steps, a write by another connection would make the next step start over
 * (the backup restarts when the source changes under it), and under a steady
 * load of submissions it might never finish. So the copy reads through a
 * connection of its own that holds one read transaction from the first step
 * to the last: sqlite3_backup_step() uses a read transaction that is already
 * open and leaves it open, so every step reads the same WAL snapshot and the
 * copy is that snapshot, whole. In WAL mode a reader never blocks the writer:
 * the group commit goes on during and between the steps; only checkpoints
 * cannot move past the snapshot until the copy is done (the write-ahead log
 * grows meanwhile, and is checkpointed afterwards as usual).
 *
 * The copy is written to PATH.partial and linked to PATH once synced: link()
 * fails with EEXIST rather than replace anything, and a crash half-way leaves
 * a file whose name says what it is, never a half copy at PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "store/sqlite_impl.h"

enum {
	STEP_PAGES = 256, /* 1 MiB of 4 KiB pages a step */
	BUSY_RETRIES = 500,
	BUSY_SLEEP_MS = 10,
};

/* Opens the directory of path (its last '/' splits it) and checks that it
 * is a directory owned by us or root that nobody else can write to, unless
 * it is sticky (/tmp): in such a directory nobody else can swap the file
 * SQLite writes for one of theirs. Returns the open descriptor, or -1 with
 * *err set (logged). */
static int open_dir(const char *path, ob_err *err)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t len = slash != NULL && slash != path ? (size_t)(slash - path) : 1;
	if (slash == NULL || len >= sizeof(dir)) {
		*err = OB_EINVAL;
		return -1;
	}
	memcpy(dir, path, len);
	dir[len] = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		*err = ob_err_from_errno(errno);
		ob_log(OB_LOG_WARN, "store: backup: cannot open the directory %s: %s", dir,
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && !(st.st_mode & S_ISVTX);
	if ((st.st_uid != geteuid() && st.st_uid != 0) || others_write) {
		ob_log(OB_LOG_WARN,
		       "store: backup: refused the directory %s (owner uid %u, mode %03o): it must "
		       "belong to this user or root and be writable by nobody else, or be sticky",
		       dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		close(fd);
		*err = OB_EPERM;
		return -1;
	}
	return fd;
}

/* Copies the store's database into the new file tmp (which exists, empty)
 * from one snapshot; *applications gets the count in that snapshot. */
static ob_err copy(sq_store *s, const char *tmp, uint64_t *applications)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_stmt *q = NULL;
	sqlite3_backup *b = NULL;
	const char *what = "open the database";
	int rc = sqlite3_open_v2(s->path, &src, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(src, 5000);
		what = "begin the snapshot";
		rc = sqlite3_exec(src, "PRAGMA query_only=ON; BEGIN", NULL, NULL, NULL);
	}
	/* The first read starts the snapshot; it stays until the ROLLBACK. */
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(src, "SELECT count(*) FROM application", -1, &q, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(q) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(src);
		if (rc == SQLITE_OK)
			*applications = (uint64_t)sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_OK) {
		what = "open the copy";
		rc = sqlite3_open_v2(
		        tmp, &dst,
		        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL);
	}
	/* No rollback journal beside the copy: a failed copy is removed whole. */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(dst, "PRAGMA journal_mode=OFF", NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		what = "copy";
		b = sqlite3_backup_init(dst, "main", src, "main");
		rc = b != NULL ? SQLITE_OK : sqlite3_errcode(dst);
	}
	for (int busy = 0; rc == SQLITE_OK;) {
		int step = sqlite3_backup_step(b, STEP_PAGES);
		if (step == SQLITE_DONE)
			break;
		if ((step == SQLITE_BUSY || step == SQLITE_LOCKED) && ++busy < BUSY_RETRIES) {
			sqlite3_sleep(BUSY_SLEEP_MS);
			continue;
		}
		rc = step;
	}
	if (b != NULL) {
		int fin = sqlite3_backup_finish(b);
		if (rc == SQLITE_OK)
			rc = fin;
	}
	if (rc != SQLITE_OK)
		ob_log(OB_LOG_ERROR, "store: backup: cannot %s: %s", what,
		       dst != NULL && sqlite3_errcode(dst) != SQLITE_OK ? sqlite3_errmsg(dst)
		       : src != NULL                                    ? sqlite3_errmsg(src)
		                                                        : sqlite3_errstr(rc));
	sqlite3_close_v2(dst);
	if (src != NULL)
		sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close_v2(src);
	return sq_from_sqlite(rc);
}

ob_err sq_backup(ob_store *base, const char *path, ob_store_backup *out)
{
	sq_store *s = (sq_store *)base;
	memset(out, 0, sizeof(*out));
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.partial", path) >= (int)sizeof(tmp))
		return OB_EINVAL;
	ob_err err = OB_OK;
	int dirfd = open_dir(path, &err);
	if (dirfd < 0)
		return err;
	struct stat st;
	if (lstat(path, &st) == 0) {
		close(dirfd);
		return OB_EEXIST; /* found before spending the time to copy */
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = ob_err_from_errno(errno);
		ob_log(OB_LOG_WARN, "store: backup: cannot create %s: %s", tmp, strerror(errno));
		close(dirfd);
		return err;
	}
	err = copy(s, tmp, &out->applications);
	/* SQLite wrote through its own descriptor; fsync applies to the file. */
	if (err == OB_OK && (fsync(fd) != 0 || fstat(fd, &st) != 0)) {
		err = ob_err_from_errno(errno);
		ob_log(OB_LOG_ERROR, "store: backup: cannot sync %s: %s", tmp, strerror(errno));
	}
	if (err == OB_OK && link(tmp, path) != 0) {
		err = ob_err_from_errno(errno);
		ob_log(OB_LOG_WARN, "store: backup: cannot link %s to %s: %s", tmp, path,
		       strerror(errno));
	}
	unlink(tmp);
	if (err == OB_OK && fsync(dirfd) != 0) {
		err = ob_err_from_errno(errno);
		unlink(path);
	}
	close(fd);
	close(dirfd);
	if (err == OB_OK) {
		out->bytes = (uint64_t)st.st_size;
		ob_log(OB_LOG_INFO, "store: backup of %llu applications written to %s (%llu bytes)",
		       (unsigned long long)out->applications, path, (unsigned long long)out->bytes);
	}
	return err;
}
