#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/utf8.h"

static ob_log_format log_format = OB_LOG_TEXT;
static ob_log_level log_min = OB_LOG_INFO;
static atomic_bool log_access = true;
static atomic_uint access_every = 1;
static atomic_uint access_count;

/* The cap on failed calls' lines (ob_log_limit_failures): the current second
 * of the monotonic clock, the lines it logged and the ones it left out. */
static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned fail_limit = OB_LOG_FAILURES_PER_S;
static int64_t fail_second = -1;
static unsigned fail_logged, fail_dropped;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void ob_log_configure(ob_log_format format, ob_log_level min_level, bool access_log)
{
	log_format = format;
	log_min = min_level;
	atomic_store(&log_access, access_log);
}

void ob_log_sample_access(unsigned every)
{
	atomic_store(&access_every, every > 0 ? every : 1);
	atomic_store(&access_count, 0);
}

void ob_log_limit_failures(unsigned per_second)
{
	pthread_mutex_lock(&fail_mu);
	fail_limit = per_second;
	fail_second = -1;
	fail_logged = fail_dropped = 0;
	pthread_mutex_unlock(&fail_mu);
}

/* The one warning for the failed calls' lines the cap left out. */
static void report_dropped(unsigned dropped, unsigned limit)
{
	if (dropped > 0)
		ob_log(OB_LOG_WARN,
		       "access log: %u failed calls not logged in an earlier second "
		       "(more than %u a second)",
		       dropped, limit);
}

void ob_log_flush_failures(void)
{
	pthread_mutex_lock(&fail_mu);
	unsigned dropped = fail_dropped, limit = fail_limit;
	fail_dropped = 0;
	pthread_mutex_unlock(&fail_mu);
	report_dropped(dropped, limit);
}

/* Whether a failed call's line goes out under the cap; *dropped gets the
 * count of lines an earlier second left out, for its summary line, when this
 * call is the first of a new second. */
static bool failure_admitted(unsigned *dropped, unsigned *limit)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&fail_mu);
	*dropped = 0;
	*limit = fail_limit;
	if ((int64_t)ts.tv_sec != fail_second) {
		*dropped = fail_dropped;
		fail_second = (int64_t)ts.tv_sec;
		fail_logged = fail_dropped = 0;
	}
	bool ok = fail_limit == 0 || fail_logged < fail_limit;
	if (ok)
		fail_logged++;
	else
		fail_dropped++;
	pthread_mutex_unlock(&fail_mu);
	return ok;
}

/* A line buffer that never overflows: appends are truncated at the end. It
 * holds the longest line whole: every value is cut to a bound before it is
 * escaped, and escaping makes a byte at most six. */
enum { LOG_LINE_MAX = 8192, MSG_MAX = 768, FIELD_MAX = 128 };
_Static_assert(6 * MSG_MAX + 256 < LOG_LINE_MAX && 6 * 5 * FIELD_MAX + 256 < LOG_LINE_MAX,
               "a line holds its longest escaped values");

typedef struct {
	char buf[LOG_LINE_MAX];
	size_t len;
} line;

static void put(line *l, const char *s, size_t n)
{
	size_t room = sizeof(l->buf) - 2 - l->len; /* keep room for "\n" */
	if (n > room)
		n = room;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void puts_(line *l, const char *s)
{
	put(l, s, strlen(s));
}

/*
 * Appends at most max bytes of s (cut between two characters), escaped so
 * that no value a caller sends can end its quotes or its line, nor make the
 * line anything but valid UTF-8, in a form that is a JSON string body and
 * reads the same in the text format: \" \\ \n \r \t; \u00XX for the other C0
 * controls, DEL and the C1 controls (U+0080 to U+009F, which some terminals
 * obey); \u2028 and \u2029, line breaks to some readers; and \ufffd for each
 * byte that is not part of well-formed UTF-8.
 */
static void put_escaped(line *l, const char *s, size_t max)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		size_t k = ob_utf8_char_len(s + i, len - i);
		if (i + (k > 0 ? k : 1) > max)
			break;
		const unsigned char *c = (const unsigned char *)s + i;
		char tmp[8];
		if (k == 0) {
			puts_(l, "\\ufffd");
			i++;
			continue;
		}
		if (k == 1 && (c[0] == '"' || c[0] == '\\')) {
			tmp[0] = '\\';
			tmp[1] = (char)c[0];
			put(l, tmp, 2);
		} else if (k == 1 && c[0] == '\n') {
			puts_(l, "\\n");
		} else if (k == 1 && c[0] == '\r') {
			puts_(l, "\\r");
		} else if (k == 1 && c[0] == '\t') {
			puts_(l, "\\t");
		} else if (k == 1 && (c[0] < 0x20 || c[0] == 0x7F)) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c[0]);
			put(l, tmp, 6);
		} else if (k == 2 && c[0] == 0xC2 && c[1] < 0xA0) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c[1]); /* U+0080..U+009F */
			put(l, tmp, 6);
		} else if (k == 3 && c[0] == 0xE2 && c[1] == 0x80 &&
		           (c[2] == 0xA8 || c[2] == 0xA9)) {
			puts_(l, c[2] == 0xA8 ? "\\u2028" : "\\u2029");
		} else {
			put(l, s + i, k);
		}
		i += k;
	}
}

/* A caller's value in the text format: quoted and escaped, so that whatever
 * it holds it stays one value (a method "/x status=OK" cannot add a field). */
static void put_quoted(line *l, const char *s)
{
	puts_(l, "\"");
	put_escaped(l, s != NULL ? s : "", FIELD_MAX);
	puts_(l, "\"");
}

static void put_time(line *l)
{
	int64_t ms = ob_clock_now_ms();
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char tmp[96];
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	puts_(l, tmp);
}

static void emit(line *l)
{
	l->buf[l->len++] = '\n';
	ssize_t r = write(STDERR_FILENO, l->buf, l->len);
	(void)r; /* nowhere left to report a failing stderr */
}

void ob_log(ob_log_level level, const char *fmt, ...)
{
	if (level < log_min)
		return;
	char msg[MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ob_utf8_trim_cut(msg);

	line l = {.len = 0};
	if (log_format == OB_LOG_JSON) {
		puts_(&l, "{\"time\":\"");
		put_time(&l);
		puts_(&l, "\",\"level\":\"");
		puts_(&l, level_names[level]);
		puts_(&l, "\",\"msg\":\"");
		put_escaped(&l, msg, sizeof(msg));
		puts_(&l, "\"}");
	} else {
		put_time(&l);
		puts_(&l, " ");
		puts_(&l, level_names[level]);
		puts_(&l, " ");
		put_escaped(&l, msg, sizeof(msg));
	}
	emit(&l);
}

void ob_log_access(const ob_access_entry *e)
{
	if (!atomic_load_explicit(&log_access, memory_order_relaxed))
		return;
	const char *status = e->status != NULL ? e->status : "";
	unsigned every = atomic_load_explicit(&access_every, memory_order_relaxed);
	bool ok = strcmp(status, "OK") == 0;
	if (every > 1 && ok &&
	    atomic_fetch_add_explicit(&access_count, 1, memory_order_relaxed) % every != 0)
		return;
	if (!ok) {
		unsigned dropped, limit;
		bool admitted = failure_admitted(&dropped, &limit);
		report_dropped(dropped, limit);
		if (!admitted)
			return;
	}
	char latency[24];
	snprintf(latency, sizeof(latency), "%lld", (long long)e->latency_us);
	const char *method = e->method != NULL ? e->method : "";
	const char *key_id = e->key_id != NULL ? e->key_id : "";
	const char *rid = e->request_id != NULL ? e->request_id : "";
	const char *peer = e->peer != NULL ? e->peer : "";
	line l = {.len = 0};
	if (log_format == OB_LOG_JSON) {
		puts_(&l, "{\"time\":\"");
		put_time(&l);
		puts_(&l, "\",\"method\":\"");
		put_escaped(&l, method, FIELD_MAX);
		puts_(&l, "\",\"status\":\"");
		put_escaped(&l, status, FIELD_MAX);
		puts_(&l, "\",\"latency_us\":");
		puts_(&l, latency);
		puts_(&l, ",\"request_id\":\"");
		put_escaped(&l, rid, FIELD_MAX);
		puts_(&l, "\",\"peer\":\"");
		put_escaped(&l, peer, FIELD_MAX);
		puts_(&l, "\",\"key_id\":\"");
		put_escaped(&l, key_id, FIELD_MAX);
		puts_(&l, "\"}");
	} else {
		/* logfmt: every value a caller chose is quoted; status is one of
		 * ours, a bare word. */
		put_time(&l);
		puts_(&l, " method=");
		put_quoted(&l, method);
		puts_(&l, " status=");
		put_escaped(&l, status, FIELD_MAX);
		puts_(&l, " latency_us=");
		puts_(&l, latency);
		puts_(&l, " request_id=");
		put_quoted(&l, rid);
		puts_(&l, " peer=");
		put_quoted(&l, peer);
		puts_(&l, " key_id=");
		put_quoted(&l, key_id);
	}
	emit(&l);
}
