/*
 * crash_proc.c: onboardd as the campaign runs it, and what a kill leaves on disk.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"
#include "onboard/v1/health.pb-c.h"
#include "testsrv.h" /* OB_TESTSRV_NOW: the cohort takes submissions then */
#include "testutil.h"

/* ---- the process ------------------------------------------------------------------------ */

/* Serving, as Health/Check says within 1 s. */
static bool serving(cr_server *s)
{
	Onboard__V1__HealthCheckRequest rq = ONBOARD__V1__HEALTH_CHECK_REQUEST__INIT;
	Onboard__V1__HealthCheckResponse *h = NULL;
	ob_result r;
	int code = ob_client_call_message(s->admin, "/onboard.v1.Health/Check", NULL, 0, &rq.base,
	                                  &onboard__v1__health_check_response__descriptor,
	                                  (ProtobufCMessage **)&h, 1000, &r);
	bool ok = code == OB_CODE_OK &&
	          h->status == ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	if (h != NULL)
		protobuf_c_message_free_unpacked(&h->base, NULL);
	ob_result_fini(&r);
	return ok;
}

/* The thread of pid named name, or 0. */
static pid_t thread_named(pid_t pid, const char *name)
{
	char path[320], comm[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	pid_t found = 0;
	for (struct dirent *e; d != NULL && found == 0 && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.32s/comm", (int)pid, e->d_name);
		FILE *f = fopen(path, "re");
		if (f != NULL && fgets(comm, sizeof(comm), f) != NULL &&
		    strncmp(comm, name, strlen(name)) == 0 && comm[strlen(name)] == '\n')
			found = (pid_t)atoi(e->d_name);
		if (f != NULL)
			fclose(f);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

int cr_server_start(cr_server *s)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* The campaign's clients call far above the default rate limits, which are not
		 * what it tests. */
		execl(s->onboardd, s->onboardd, "--listen", s->url, "--db", s->db, "--master-key",
		      s->key, "--no-access-log", "--rate-per-key", "500000", "--rate-per-address",
		      "500000", "--now", OB_TESTSRV_NOW, (char *)NULL);
		_exit(127);
	}
	s->pid = pid;
	int64_t end = ob_test_mono_ms() + 60000, reopen = ob_test_mono_ms() + 5000;
	while (ob_test_mono_ms() < end) {
		/* The admin's connection may be the one a kill left for good (cr_reopen). */
		if (ob_test_mono_ms() > reopen) {
			pthread_mutex_lock(&s->m->mu);
			int rc = cr_reopen(s->m, &s->admin, s->url,
			                   "the campaign's admin connection");
			pthread_mutex_unlock(&s->m->mu);
			if (rc != 0)
				break;
			reopen = ob_test_mono_ms() + 5000;
		}
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "onboardd exited before serving, %s %d (see %s)\n",
			        WIFSIGNALED(status) ? "signal" : "status",
			        WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
			        s->log);
			s->pid = 0;
			return -1;
		}
		if (serving(s)) {
			s->writer = thread_named(pid, "ob-writer");
			return 0;
		}
		ob_test_sleep_ms(10);
	}
	fprintf(stderr, "onboardd did not serve within 60 s (see %s)\n", s->log);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	s->pid = 0;
	return -1;
}

void cr_server_kill(cr_server *s, cr_sample *sample)
{
	memset(sample, 0, sizeof(*sample));
	char path[96], line[256] = "";
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)s->pid, (int)s->writer);
	FILE *f = s->writer != 0 ? fopen(path, "re") : NULL;
	if (f != NULL && fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	kill(s->pid, SIGKILL);
	if (f != NULL)
		fclose(f);
	/* "running", or the number of the call it is blocked in. */
	long nr = line[0] >= '0' && line[0] <= '9' ? strtol(line, NULL, 10) : -1;
	sample->busy = line[0] != '\0' && nr != SYS_futex;
	sample->in_fsync = nr == SYS_fsync || nr == SYS_fdatasync;
	sample->in_pwrite = nr == SYS_pwrite64;
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

int cr_server_stop(cr_server *s)
{
	if (s->pid == 0)
		return -1;
	kill(s->pid, SIGTERM);
	int status = 0;
	waitpid(s->pid, &status, 0);
	s->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- the WAL ------------------------------------------------------------------------------ */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* SQLite's WAL checksum of n bytes (a multiple of 8) from the running sums s: words read
 * big-endian when the magic number says so, little-endian otherwise. */
static void wal_sum(bool big, const uint8_t *p, size_t n, uint32_t s[2])
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint32_t x0, x1;
		if (big) {
			x0 = be32(p + i);
			x1 = be32(p + i + 4);
		} else {
			x0 = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
			     (uint32_t)p[i + 3] << 24;
			x1 = (uint32_t)p[i + 4] | (uint32_t)p[i + 5] << 8 |
			     (uint32_t)p[i + 6] << 16 | (uint32_t)p[i + 7] << 24;
		}
		s[0] += x0 + s[1];
		s[1] += x1 + s[0];
	}
}

void cr_wal_scan(const char *path, cr_wal *out)
{
	memset(out, 0, sizeof(*out));
	size_t len = 0;
	uint8_t *w = (uint8_t *)ob_test_read_file(path, &len);
	if (w == NULL || len < 32) {
		free(w);
		return;
	}
	uint32_t magic = be32(w);
	uint32_t page = be32(w + 8);
	uint32_t sum[2] = {0, 0};
	bool big = magic == 0x377f0683;
	if ((magic & ~1u) != 0x377f0682 || page < 512 || page > 65536) {
		free(w);
		return;
	}
	wal_sum(big, w, 24, sum);
	if (sum[0] != be32(w + 24) || sum[1] != be32(w + 28)) {
		free(w);
		return;
	}
	/* As SQLite's recovery: frames in order while their salts are the header's and their
	 * checksums follow on; the last frame with a commit size ends what is committed. */
	unsigned since_commit = 0;
	for (size_t off = 32; off + 24 + page <= len; off += 24 + page) {
		const uint8_t *f = w + off;
		if (memcmp(f + 8, w + 16, 8) != 0)
			break;
		wal_sum(big, f, 8, sum);
		wal_sum(big, f + 24, page, sum);
		if (sum[0] != be32(f + 16) || sum[1] != be32(f + 20))
			break;
		out->frames++;
		since_commit = be32(f + 4) != 0 ? 0 : since_commit + 1;
	}
	out->uncommitted = since_commit;
	free(w);
}

bool cr_wal_changed(const char *path, struct timespec *mtime, off_t *size)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	bool changed = st.st_size != *size || st.st_mtim.tv_sec != mtime->tv_sec ||
	               st.st_mtim.tv_nsec != mtime->tv_nsec;
	*size = st.st_size;
	*mtime = st.st_mtim;
	return changed;
}

/* ---- files -------------------------------------------------------------------------------- */

/* Copies from to to; a missing from leaves no to. Returns 0 or -1. */
static int copy(const char *from, const char *to)
{
	size_t len;
	unlink(to);
	char *data = ob_test_read_file(from, &len);
	if (data == NULL)
		return errno == ENOENT ? 0 : -1;
	FILE *f = fopen(to, "we");
	int rc = f != NULL && fwrite(data, 1, len, f) == len ? 0 : -1;
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	free(data);
	return rc;
}

int cr_crash_image(const cr_server *s, char *out, size_t size)
{
	char dir[320], wal[352], to_wal[352];
	snprintf(dir, sizeof(dir), "%s/image", s->dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	snprintf(out, size, "%s/onboard.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", s->db);
	snprintf(to_wal, sizeof(to_wal), "%s-wal", out);
	char shm[352];
	snprintf(shm, sizeof(shm), "%s-shm", out);
	unlink(shm);
	return copy(s->db, out) == 0 && copy(wal, to_wal) == 0 ? 0 : -1;
}

size_t cr_key_ids(const char *path, char (*ids)[CR_KID_SIZE], size_t max)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0;
	size_t n = 0;
	char line[512];
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		char kid[CR_KID_SIZE];
		if (line[0] == '#' || sscanf(line, "%19s", kid) != 1 || strcmp(kid, "index") == 0)
			continue;
		memcpy(ids[n++], kid, sizeof(kid));
	}
	fclose(f);
	return n;
}
