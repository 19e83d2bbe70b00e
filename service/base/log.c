#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"

static ob_log_format log_format = OB_LOG_TEXT;
static ob_log_level log_min = OB_LOG_INFO;
static atomic_bool log_access = true;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void ob_log_configure(ob_log_format format, ob_log_level min_level, bool access_log)
{
	log_format = format;
	log_min = min_level;
	atomic_store(&log_access, access_log);
}

/* A line buffer that never overflows: appends are truncated at the end. */
typedef struct {
	char buf[1024];
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

/* Appends s with JSON string escaping (also safe in the text format), at most max bytes of input.
 */
static void put_escaped(line *l, const char *s, size_t max)
{
	for (size_t i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			put(l, tmp, 2);
		} else if (c < 0x20 || c == 0x7F) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			put(l, tmp, 6);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
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
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

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
	char latency[24];
	snprintf(latency, sizeof(latency), "%lld", (long long)e->latency_us);
	const char *rid = e->request_id != NULL ? e->request_id : "";
	line l = {.len = 0};
	if (log_format == OB_LOG_JSON) {
		puts_(&l, "{\"time\":\"");
		put_time(&l);
		puts_(&l, "\",\"method\":\"");
		put_escaped(&l, e->method, 128);
		puts_(&l, "\",\"status\":\"");
		puts_(&l, e->status);
		puts_(&l, "\",\"latency_us\":");
		puts_(&l, latency);
		puts_(&l, ",\"request_id\":\"");
		put_escaped(&l, rid, 128);
		puts_(&l, "\",\"peer\":\"");
		put_escaped(&l, e->peer, 128);
		puts_(&l, "\"}");
	} else {
		put_time(&l);
		puts_(&l, " method=");
		put_escaped(&l, e->method, 128);
		puts_(&l, " status=");
		puts_(&l, e->status);
		puts_(&l, " latency_us=");
		puts_(&l, latency);
		puts_(&l, " request_id=\"");
		put_escaped(&l, rid, 128);
		puts_(&l, "\" peer=");
		put_escaped(&l, e->peer, 128);
	}
	emit(&l);
}
