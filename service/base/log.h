/*
 * log.h: the service's diagnostic and access log, on stderr.
 *
 * One line per event, written with a single write(2) so that lines from
 * several threads never interleave. Two formats: logfmt-like text and one
 * JSON object per line. Callers must never pass payload contents, personal
 * data or secrets: the access log takes only the fields below. Whatever
 * bytes a field holds, a line stays one line of valid UTF-8 with the same
 * fields: in the text format every value a caller chose is quoted, and in
 * both formats it is escaped (quotes, backslashes, control characters,
 * U+2028/2029; \ufffd for bytes that are not UTF-8) and cut at 128 bytes
 * between two characters.
 * Thread-safe; never blocks except on stderr itself.
 */
#ifndef OB_BASE_LOG_H
#define OB_BASE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

typedef enum { OB_LOG_TEXT, OB_LOG_JSON } ob_log_format;
typedef enum { OB_LOG_DEBUG, OB_LOG_INFO, OB_LOG_WARN, OB_LOG_ERROR } ob_log_level;

void ob_log_configure(ob_log_format format, ob_log_level min_level, bool access_log);

/* Logs one call in every `every` (1: all, the default) of those that
 * succeed; a call that fails (any status but "OK") is logged whatever the
 * sample (within the cap of ob_log_limit_failures), so that sampling a busy
 * service's log never hides an error. The calls kept are
 * every every-th by a shared counter, not a random draw: over n successes,
 * n / every lines, whatever the threads. */
void ob_log_sample_access(unsigned every);

/* Failed calls are never sampled, so a flood of refused calls (a scan, a
 * client with a wrong key) would grow the log as fast as it arrives: at most
 * per_second failed calls' lines are logged in a second of the monotonic
 * clock (0: no cap), and the first failed call of a later second logs, before
 * its own line, one warning with the count the cap left out. Successes are
 * not counted. The default is OB_LOG_FAILURES_PER_S. Any thread. */
enum { OB_LOG_FAILURES_PER_S = 1000 };
void ob_log_limit_failures(unsigned per_second);

/* Logs the warning for failed calls' lines the cap left out and no later call has reported
 * yet (a flood that stopped), and clears the count: at shutdown, after the last call. Any
 * thread. */
void ob_log_flush_failures(void);

/* A free-form event: msg is a static, human-readable sentence. */
void ob_log(ob_log_level level, const char *fmt, ...) OB_PRINTF(2, 3);

typedef struct ob_access_entry {
	const char *method; /* as received; quoted, escaped and truncated here */
	const char *status; /* "OK", "INVALID_ARGUMENT"... */
	int64_t latency_us;
	const char *request_id; /* may be NULL; caller-controlled like method */
	const char *peer;       /* "tcp:127.0.0.1:4242", "ipc:pid=42"... */
	/* Who called: the authenticated key id, "local" for the trusted local
	 * peer, NULL before authentication (a login, a refused call). Never a
	 * token or anything else a caller could replay. */
	const char *key_id;
} ob_access_entry;

void ob_log_access(const ob_access_entry *e);

#endif
