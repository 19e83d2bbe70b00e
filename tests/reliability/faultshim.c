/*
 * faultshim.c: libobfault.so, the faults the reliability tests inject into onboardd through
 * LD_PRELOAD, for what a test cannot do to a real machine that other people share: fsync
 * failing or slow, and the wall clock stepping.
 *
 *     LD_PRELOAD=build/tests/reliability/libobfault.so OB_FAULT_FILE=DIR/faults onboardd ...
 *
 * The control file holds lines "name value"; the test rewrites it (write a new file and
 * rename it over, so that the shim never reads half a file) and the shim reads it again
 * when its modification time or size changes, looking at most every 10 ms. A missing file,
 * or a name it does not hold, is no fault:
 *
 *     fsync ok|fail|sleep    fsync(2) and fdatasync(2) succeed, fail with EIO, or sleep
 *     fsync_ms N             ... first for N ms (sleep; default 1000)
 *     fsync_match SUFFIX     ... only on files whose path ends with SUFFIX ("-wal")
 *     clock_ms N             CLOCK_REALTIME (and gettimeofday, time) read N ms later
 *                            (negative: earlier), as after a step of the system clock
 *
 * A step of the system clock also moves the deadlines of the waits already armed on it:
 * pthread_cond_timedwait() on a condition variable of the default clock (CLOCK_REALTIME)
 * sleeps until the stepped clock reaches the deadline, as the kernel would make it. The
 * shim does that by waiting in slices of at most 20 ms and reading the stepped clock
 * between them (a condition variable may wake spuriously, so callers cannot tell); waits
 * on a CLOCK_MONOTONIC variable (as nng's) pass through, the shim remembering which
 * variables pthread_cond_init() made so.
 *
 * Every change of a fault is said once on stderr ("obfault: fsync fail"), so that the log
 * of the server shows that the shim was loaded and what it did; "obfault: injected N"
 * counts the failed or slowed calls when the fault is lifted.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Exported on purpose: these replace libc's for the whole process. */
#define SHIM __attribute__((visibility("default")))

enum { FSYNC_OK, FSYNC_FAIL, FSYNC_SLEEP };
enum { CHECK_EVERY_NS = 10 * 1000 * 1000, SLICE_NS = 20 * 1000 * 1000, MATCH_MAX = 64 };
enum { MONO_SLOTS = 4096 }; /* condition variables made with CLOCK_MONOTONIC */

static struct {
	pthread_mutex_t mu; /* one reload at a time; readers use the atomics */
	_Atomic int64_t checked_ns;
	struct timespec mtime;
	off_t size;
	_Atomic int fsync_mode;
	_Atomic int fsync_ms;
	_Atomic int64_t clock_ms;
	char match[MATCH_MAX]; /* written under mu, read after fsync_mode (release/acquire) */
	_Atomic uint64_t injected;
	_Atomic(void *) mono[MONO_SLOTS];
} shim = {.mu = PTHREAD_MUTEX_INITIALIZER, .fsync_ms = 1000};

/* ---- libc's functions ------------------------------------------------------------------ */

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*fsync_fn)(int);
typedef int (*cond_init_fn)(pthread_cond_t *, const pthread_condattr_t *);
typedef int (*cond_destroy_fn)(pthread_cond_t *);
typedef int (*cond_timedwait_fn)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);

/* The next definition of name after this library's: libc's, or a sanitizer's interceptor
 * (ThreadSanitizer must see the waits on condition variables). From libc itself, of the
 * given version when there is one: glibc keeps an old condition variable ABI beside the
 * current one, and dlsym may give the old. */
static void *next(const char *name, const char *version)
{
	void *f = dlsym(RTLD_NEXT, name);
	Dl_info info;
	if (f != NULL && version != NULL && dladdr(f, &info) != 0 && info.dli_fname != NULL &&
	    strstr(info.dli_fname, "/libc.so") != NULL) {
		void *v = dlvsym(RTLD_NEXT, name, version);
		if (v != NULL)
			f = v;
	}
	if (f == NULL) {
		fprintf(stderr, "obfault: no %s in libc\n", name);
		abort();
	}
	return f;
}

#define REAL(type, name, version)                                                                  \
	static _Atomic(type) real_##name;                                                          \
	static type get_##name(void)                                                               \
	{                                                                                          \
		type f = atomic_load(&real_##name);                                                \
		if (f == NULL) {                                                                   \
			void *p = next(#name, version);                                            \
			memcpy(&f, &p, sizeof(f)); /* POSIX's way from dlsym to a function */      \
			atomic_store(&real_##name, f);                                             \
		}                                                                                  \
		return f;                                                                          \
	}

REAL(clock_gettime_fn, clock_gettime, NULL)
REAL(fsync_fn, fsync, NULL)
REAL(fsync_fn, fdatasync, NULL)
REAL(cond_init_fn, pthread_cond_init, "GLIBC_2.3.2")
REAL(cond_destroy_fn, pthread_cond_destroy, "GLIBC_2.3.2")
REAL(cond_timedwait_fn, pthread_cond_timedwait, "GLIBC_2.3.2")

static int64_t mono_ns(void)
{
	struct timespec ts;
	get_clock_gettime()(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the control file ------------------------------------------------------------------ */

static void say(const char *what, const char *value)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "obfault: %s %s\n", what, value);
	if (n > 0)
		(void)!write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Applies one line "name value" of the control file. */
static void apply(const char *name, const char *value, bool *seen_match)
{
	if (strcmp(name, "fsync") == 0) {
		int mode = strcmp(value, "fail") == 0    ? FSYNC_FAIL
		           : strcmp(value, "sleep") == 0 ? FSYNC_SLEEP
		                                         : FSYNC_OK;
		int was = atomic_exchange(&shim.fsync_mode, mode);
		if (was != mode) {
			if (was != FSYNC_OK) {
				char n[32];
				snprintf(n, sizeof(n), "%llu",
				         (unsigned long long)atomic_exchange(&shim.injected, 0));
				say("injected", n);
			}
			say("fsync", value);
		}
	} else if (strcmp(name, "fsync_ms") == 0) {
		atomic_store(&shim.fsync_ms, atoi(value));
	} else if (strcmp(name, "fsync_match") == 0) {
		snprintf(shim.match, sizeof(shim.match), "%s", value);
		*seen_match = true;
	} else if (strcmp(name, "clock_ms") == 0) {
		int64_t ms = strtoll(value, NULL, 10);
		if (atomic_exchange(&shim.clock_ms, ms) != ms)
			say("clock_ms", value);
	}
}

/* Reads the control file again when it changed; at most every CHECK_EVERY_NS, and never
 * waiting for another thread that is reading it. */
static void refresh(void)
{
	int64_t now = mono_ns();
	if (now - atomic_load(&shim.checked_ns) < CHECK_EVERY_NS ||
	    pthread_mutex_trylock(&shim.mu) != 0)
		return;
	atomic_store(&shim.checked_ns, now);
	const char *path = getenv("OB_FAULT_FILE");
	struct stat st;
	if (path == NULL || stat(path, &st) != 0) {
		memset(&st, 0, sizeof(st));
	} else if (st.st_mtim.tv_sec == shim.mtime.tv_sec &&
	           st.st_mtim.tv_nsec == shim.mtime.tv_nsec && st.st_size == shim.size) {
		pthread_mutex_unlock(&shim.mu);
		return;
	}
	shim.mtime = st.st_mtim;
	shim.size = st.st_size;
	bool seen_match = false, seen_fsync = false, seen_clock = false;
	FILE *f = path != NULL ? fopen(path, "re") : NULL;
	char line[256];
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char name[32], value[MATCH_MAX];
		if (sscanf(line, "%31s %63s", name, value) != 2)
			continue;
		seen_fsync |= strcmp(name, "fsync") == 0;
		seen_clock |= strcmp(name, "clock_ms") == 0;
		apply(name, value, &seen_match);
	}
	if (f != NULL)
		fclose(f);
	/* What the file no longer says is lifted. */
	if (!seen_match)
		shim.match[0] = '\0';
	if (!seen_fsync)
		apply("fsync", "ok", &seen_match);
	if (!seen_clock)
		apply("clock_ms", "0", &seen_match);
	pthread_mutex_unlock(&shim.mu);
}

/* ---- fsync ----------------------------------------------------------------------------- */

static bool matches(int fd)
{
	char link[64], path[4096];
	pthread_mutex_lock(&shim.mu);
	char match[MATCH_MAX];
	memcpy(match, shim.match, sizeof(match));
	pthread_mutex_unlock(&shim.mu);
	if (match[0] == '\0')
		return true;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return false;
	path[n] = '\0';
	size_t m = strlen(match);
	return (size_t)n >= m && strcmp(path + n - m, match) == 0;
}

/* What a faulty sync does to fd before (or instead of) the real one: 1 to go on, 0 after
 * failing it. */
static int fault(int fd)
{
	refresh();
	int mode = atomic_load(&shim.fsync_mode);
	if (mode == FSYNC_OK || !matches(fd))
		return 1;
	atomic_fetch_add(&shim.injected, 1);
	if (mode == FSYNC_FAIL) {
		errno = EIO;
		return 0;
	}
	int ms = atomic_load(&shim.fsync_ms);
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return 1;
}

SHIM int fsync(int fd)
{
	return fault(fd) ? get_fsync()(fd) : -1;
}

SHIM int fdatasync(int fd)
{
	return fault(fd) ? get_fdatasync()(fd) : -1;
}

/* ---- the wall clock -------------------------------------------------------------------- */

static void shift(struct timespec *ts, int64_t ms)
{
	int64_t ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + ms * 1000000;
	ts->tv_sec = (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
	if (ts->tv_nsec < 0) {
		ts->tv_sec--;
		ts->tv_nsec += 1000000000;
	}
}

SHIM int clock_gettime(clockid_t clk, struct timespec *ts)
{
	int rc = get_clock_gettime()(clk, ts);
	if (rc == 0 && (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE)) {
		refresh();
		shift(ts, atomic_load(&shim.clock_ms));
	}
	return rc;
}

SHIM int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	(void)tz;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

SHIM time_t time(time_t *out)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (out != NULL)
		*out = ts.tv_sec;
	return ts.tv_sec;
}

/* ---- waits on the wall clock ------------------------------------------------------------ */

static size_t slot_of(const void *p)
{
	return (size_t)(((uintptr_t)p >> 3) * 0x9E3779B97F4A7C15ull >> 52) % MONO_SLOTS;
}

/* Open addressing over MONO_SLOTS; a full table (never in onboardd) forgets the variable,
 * whose waits then go through the slices: slower, still correct. */
static void mono_add(pthread_cond_t *c)
{
	for (size_t i = 0, s = slot_of(c); i < MONO_SLOTS; i++, s = (s + 1) % MONO_SLOTS) {
		void *expected = NULL;
		if (atomic_compare_exchange_strong(&shim.mono[s], &expected, c) || expected == c)
			return;
	}
}

static bool mono_has(const pthread_cond_t *c)
{
	for (size_t i = 0, s = slot_of(c); i < MONO_SLOTS; i++, s = (s + 1) % MONO_SLOTS) {
		void *p = atomic_load(&shim.mono[s]);
		if (p == c)
			return true;
		if (p == NULL)
			return false;
	}
	return false;
}

/* A tombstone keeps the probe sequences of the others intact. */
static void mono_remove(pthread_cond_t *c)
{
	static char tombstone;
	for (size_t i = 0, s = slot_of(c); i < MONO_SLOTS; i++, s = (s + 1) % MONO_SLOTS) {
		void *p = atomic_load(&shim.mono[s]);
		if (p == NULL)
			return;
		if (p == c) {
			atomic_store(&shim.mono[s], (void *)&tombstone);
			return;
		}
	}
}

SHIM int pthread_cond_init(pthread_cond_t *restrict c, const pthread_condattr_t *restrict a)
{
	clockid_t clk = CLOCK_REALTIME;
	if (a != NULL)
		pthread_condattr_getclock(a, &clk);
	int rc = get_pthread_cond_init()(c, a);
	if (rc == 0 && clk == CLOCK_MONOTONIC)
		mono_add(c);
	return rc;
}

SHIM int pthread_cond_destroy(pthread_cond_t *c)
{
	mono_remove(c);
	return get_pthread_cond_destroy()(c);
}

SHIM int pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
                                const struct timespec *restrict abstime)
{
	cond_timedwait_fn wait = get_pthread_cond_timedwait();
	if (mono_has(c))
		return wait(c, m, abstime);
	int64_t until = (int64_t)abstime->tv_sec * 1000000000 + abstime->tv_nsec;
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now); /* the stepped clock */
		int64_t left = until - ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
		if (left <= 0)
			return ETIMEDOUT;
		get_clock_gettime()(CLOCK_REALTIME, &now); /* the kernel's */
		int64_t slice = left < SLICE_NS ? left : SLICE_NS;
		int64_t end = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + slice;
		struct timespec ts = {.tv_sec = (time_t)(end / 1000000000),
		                      .tv_nsec = (long)(end % 1000000000)};
		int rc = wait(c, m, &ts);
		if (rc != ETIMEDOUT)
			return rc;
	}
}
