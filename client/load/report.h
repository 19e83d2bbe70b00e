/*
 * report.h: what a run measured, and the report of it in one of four formats:
 *
 *   text  for people, after ghz: a summary, a latency histogram, percentiles, the status codes
 *         and the errors counted by status and message
 *   json  one object (keys in the manual of BENCHMARKS.md: ok_throughput, latency_us.p99...)
 *   csv   a header line and one row, the same columns every run, to append runs to a file
 *   hdr   HdrHistogram's percentile distribution of the OK calls' latency, in milliseconds,
 *         which HdrHistogram's plotter and its ports read (histogram.h)
 *
 * Latency figures are of OK calls only: a refusal that comes back at once would make the
 * service look fast. Everything else is plain data: no thread, no lock (the engine fills a
 * result under its own locks).
 */
#ifndef OB_LOAD_REPORT_H
#define OB_LOAD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "histogram.h"
#include "load.h"

enum { OB_LOAD_MAX_ERRORS = 64 }; /* distinct (code, message) pairs kept */

/* Failed calls with one status code and one message. */
typedef struct ob_load_error {
	int code;   /* 0..16 */
	bool local; /* no reply came (timeout, connection lost): the client's own verdict */
	char message[OB_LOAD_MESSAGE_MAX];
	uint64_t count;
} ob_load_error;

typedef struct ob_load_result {
	const ob_load_config *cfg; /* scenario, servers, concurrency... */
	const char *cohort;        /* the run's cohort; NULL: none; "": the server's default */
	bool cohort_created;       /* a throw-away cohort this run made */
	bool interrupted;          /* stopped by SIGINT before its end */
	double seconds;            /* from the start of measurement to the last reply */
	uint64_t calls;            /* measured calls that ended, answered or not */
	uint64_t codes[OB_LOAD_N_CODES];
	ob_load_error errors[OB_LOAD_MAX_ERRORS];
	size_t n_errors;
	uint64_t unlisted; /* failed calls whose message found no room in errors */
	ob_hist hist;      /* latency of the OK calls, in microseconds */
} ob_load_result;

/* Sets r to no call at all, for cfg. */
void ob_load_result_init(ob_load_result *r, const ob_load_config *cfg);

/*
 * Counts one failed call in r->errors under (code, local, message) (r->calls and r->codes are
 * the caller's to count). message[0..len) is the peer's text: it is kept at most
 * OB_LOAD_MESSAGE_MAX - 1 bytes, cut on a character boundary, with control characters and
 * bytes that are not UTF-8 written '?', so that it can be printed and put in JSON as it is.
 * Once OB_LOAD_MAX_ERRORS pairs are kept, another pair counts in r->unlisted.
 */
void ob_load_errors_add(ob_load_result *r, int code, bool local, const char *message, size_t len);

/* message[0..len) made fit to print into out (n bytes), as ob_load_errors_add() keeps it. */
void ob_load_clean_text(char *out, size_t n, const char *message, size_t len);

/* The report of r in format fmt on f. Returns 0, or -1 on a write error. */
int ob_load_report(FILE *f, const ob_load_result *r, ob_load_format fmt);

/* How to remove the throw-away cohort id, one line for people. */
void ob_load_removal_hint(char *out, size_t n, const char *id);

#endif
