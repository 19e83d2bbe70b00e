/*
 * The report of a run (report.h): one function per format, reading the same result.
 */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "csv.h"
#include "onboard/client.h"

void ob_load_result_init(ob_load_result *r, const ob_load_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	ob_hist_init(&r->hist);
}

/* The length of the UTF-8 character at s[0..n) (1 to 4), or 0 when it is not one: an
 * overlong form, a surrogate, beyond U+10FFFF, cut short, or a C1 control (U+0080-U+009F,
 * which terminals read as escapes). */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
	unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */
	if (c < 0xC2 || c > 0xF4 || len > n)
		return 0;
	if (c == 0xC2)
		lo = 0xA0; /* C1 controls */
	else if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

void ob_load_clean_text(char *out, size_t n, const char *message, size_t len)
{
	const unsigned char *s = (const unsigned char *)message;
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < n;) {
		size_t k = s[i] < 0x80 ? 1 : utf8_char(s + i, len - i);
		if (k <= 1) {
			out[o++] = k == 1 && s[i] >= 0x20 && s[i] != 0x7f ? (char)s[i] : '?';
			i++;
			continue;
		}
		if (o + k >= n)
			break; /* no half character */
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	out[n > 0 ? o : 0] = '\0';
}

void ob_load_errors_add(ob_load_result *r, int code, bool local, const char *message, size_t len)
{
	char text[OB_LOAD_MESSAGE_MAX];
	ob_load_clean_text(text, sizeof(text), message, len);
	if (code < 0 || code >= OB_LOAD_N_CODES)
		code = OB_CODE_UNKNOWN;
	for (size_t i = 0; i < r->n_errors; i++) {
		ob_load_error *e = &r->errors[i];
		if (e->code == code && e->local == local && strcmp(e->message, text) == 0) {
			e->count++;
			return;
		}
	}
	if (r->n_errors == OB_LOAD_MAX_ERRORS) {
		r->unlisted++;
		return;
	}
	ob_load_error *e = &r->errors[r->n_errors++];
	e->code = code;
	e->local = local;
	memcpy(e->message, text, sizeof(text));
	e->count = 1;
}

void ob_load_removal_hint(char *out, size_t n, const char *id)
{
	snprintf(out, n,
	         "deploy/loadtest/drop-cohort.sh DB %s (on the server's host, DB being onboardd's "
	         "--db)",
	         id);
}

/* ---- the figures every format shows ------------------------------------------------ */

static const double quantiles[] = {0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99, 0.999};
enum { N_QUANTILES = sizeof(quantiles) / sizeof(quantiles[0]) };

typedef struct figures {
	uint64_t ok, failed;
	double seconds, throughput, ok_throughput;
	int64_t min, max, q[N_QUANTILES];
	double mean, stddev;
	const char *method, *loop;
} figures;

static figures figures_of(const ob_load_result *r)
{
	figures f = {.ok = r->codes[OB_CODE_OK], .seconds = r->seconds > 0 ? r->seconds : 1e-9};
	f.failed = r->calls - f.ok;
	f.throughput = (double)r->calls / f.seconds;
	f.ok_throughput = (double)f.ok / f.seconds;
	f.min = r->hist.total > 0 ? r->hist.min : 0;
	f.max = r->hist.total > 0 ? r->hist.max : 0;
	for (int i = 0; i < N_QUANTILES; i++)
		f.q[i] = ob_hist_quantile(&r->hist, quantiles[i]);
	f.mean = ob_hist_mean(&r->hist);
	f.stddev = ob_hist_stddev(&r->hist);
	f.method = ob_load_single_method(r->cfg);
	f.loop = r->cfg->rate > 0 ? "open" : "closed";
	return f;
}

/* q as people write it: "99.9", "50". */
static void quantile_name(double q, char *out, size_t n)
{
	snprintf(out, n, "%g", q * 100.0);
}

/* ---- text --------------------------------------------------------------------------- */

static void text_histogram(FILE *f, const ob_hist *h)
{
	enum { LINES = 10, WIDTH = 40 };
	uint64_t counts[LINES + 1], most = 1, below = 0;
	int64_t marks[LINES + 1];
	for (int i = 0; i <= LINES; i++) {
		marks[i] = h->min + (int64_t)((double)(h->max - h->min) * i / LINES);
		uint64_t upto = ob_hist_count_upto(h, marks[i]);
		counts[i] = upto - below;
		below = upto;
		if (counts[i] > most)
			most = counts[i];
	}
	counts[LINES] += h->total - below; /* what the buckets' precision left above max */
	for (int i = 0; i <= LINES; i++) {
		fprintf(f, "  %10.3f [%" PRIu64 "]\t|", (double)marks[i] / 1000.0, counts[i]);
		for (uint64_t k = 0; k < counts[i] * WIDTH / most; k++)
			fputs("\u220e", f);
		fputc('\n', f);
	}
}

static int report_text(FILE *f, const ob_load_result *r)
{
	const ob_load_config *c = r->cfg;
	figures g = figures_of(r);
	fprintf(f, "Summary:\n  Scenario:\t%s%s%s%s\n", c->scenario, g.method ? " (" : "",
	        g.method ? g.method : "", g.method ? ")" : "");
	for (size_t i = 0; i < c->n_servers; i++)
		fprintf(f, "  %s\t%s\n", i == 0 ? "Servers:" : "        ", c->servers[i]);
	if (r->cohort != NULL && r->cohort[0] != '\0')
		fprintf(f, "  Cohort:\t%s%s\n", r->cohort,
		        r->cohort_created ? " (a load-test cohort this run created)" : "");
	fprintf(f, "  Load:\t\t%s loop, %u calls in flight on %u connection%s", g.loop,
	        c->concurrency, c->connections, c->connections > 1 ? "s" : "");
	if (c->rate > 0)
		fprintf(f, ", %" PRIu64 " calls/s", c->rate);
	fprintf(f, "%s\n", r->interrupted ? " (interrupted)" : "");
	fprintf(f, "  Count:\t%" PRIu64 " calls (%" PRIu64 " OK, %" PRIu64 " failed)\n", r->calls,
	        g.ok, g.failed);
	fprintf(f, "  Total:\t%.2f s\n", r->seconds);
	fprintf(f, "  Throughput:\t%.1f calls/s (%.1f OK/s)\n", g.throughput, g.ok_throughput);
	if (r->hist.total > 0) {
		fprintf(f, "  Fastest:\t%.3f ms\n  Average:\t%.3f ms\n  Slowest:\t%.3f ms\n",
		        (double)g.min / 1000.0, g.mean / 1000.0, (double)g.max / 1000.0);
		fputs("\nLatency of OK calls (ms):\n", f);
		text_histogram(f, &r->hist);
		fputs("\nLatency distribution:\n", f);
		for (int i = 0; i < N_QUANTILES; i++) {
			char q[32];
			quantile_name(quantiles[i], q, sizeof(q));
			fprintf(f, "  %s %% in %.3f ms\n", q, (double)g.q[i] / 1000.0);
		}
	}
	fputs("\nStatus code distribution:\n", f);
	for (int i = 0; i < OB_LOAD_N_CODES; i++)
		if (r->codes[i] > 0)
			fprintf(f, "  [%s]\t%" PRIu64 " calls\n", ob_code_name(i), r->codes[i]);
	if (r->n_errors > 0 || r->unlisted > 0) {
		fputs("\nError distribution:\n", f);
		for (size_t i = 0; i < r->n_errors; i++) {
			const ob_load_error *e = &r->errors[i];
			fprintf(f, "  [%" PRIu64 "]\t%s%s: %s\n", e->count, ob_code_name(e->code),
			        e->local ? " (no reply)" : "", e->message);
		}
		if (r->unlisted > 0)
			fprintf(f, "  [%" PRIu64 "]\twith other messages\n", r->unlisted);
	}
	if (r->cohort_created) {
		char hint[256];
		ob_load_removal_hint(hint, sizeof(hint), r->cohort);
		fprintf(f, "\nThe load-test cohort %s stays; remove it with:\n  %s\n", r->cohort,
		        hint);
	}
	return ferror(f) ? -1 : 0;
}

/* ---- json --------------------------------------------------------------------------- */

/* x to a tenth, as a JSON number. */
static json_t *tenths(double x)
{
	return json_real(round(x * 10.0) / 10.0);
}

static json_t *json_latency(const figures *g)
{
	json_t *l = json_pack("{s:I,s:o,s:o}", "min", (json_int_t)g->min, "mean", tenths(g->mean),
	                      "stddev", tenths(g->stddev));
	for (int i = 2; l != NULL && i < N_QUANTILES; i++) { /* from p50 */
		char key[40] = "p", q[32];
		quantile_name(quantiles[i], q, sizeof(q));
		/* "p99.9" is written "p999", as the keys always were. */
		size_t k = 1;
		for (const char *s = q; *s != '\0' && k + 1 < sizeof(key); s++)
			if (*s != '.')
				key[k++] = *s;
		key[k] = '\0';
		json_object_set_new(l, key, json_integer(g->q[i]));
	}
	if (l != NULL)
		json_object_set_new(l, "max", json_integer(g->max));
	return l;
}

static json_t *json_errors(const ob_load_result *r)
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < r->n_errors; i++) {
		const ob_load_error *e = &r->errors[i];
		json_array_append_new(a,
		                      json_pack("{s:s,s:b,s:s,s:I}", "code", ob_code_name(e->code),
		                                "local", e->local, "message", e->message, "count",
		                                (json_int_t)e->count));
	}
	return a;
}

static json_t *json_cohort(const ob_load_result *r)
{
	if (r->cohort == NULL)
		return json_null();
	json_t *o = json_pack("{s:s,s:b}", "id", r->cohort, "created", r->cohort_created);
	if (o != NULL && r->cohort_created) {
		char hint[256];
		ob_load_removal_hint(hint, sizeof(hint), r->cohort);
		json_object_set_new(o, "remove", json_string(hint));
	}
	return o;
}

static int report_json(FILE *f, const ob_load_result *r)
{
	const ob_load_config *c = r->cfg;
	figures g = figures_of(r);
	json_t *servers = json_array(), *codes = json_object();
	for (size_t i = 0; servers != NULL && i < c->n_servers; i++)
		json_array_append_new(servers, json_string(c->servers[i]));
	for (int i = 0; codes != NULL && i < OB_LOAD_N_CODES; i++)
		if (r->codes[i] > 0)
			json_object_set_new(codes, ob_code_name(i),
			                    json_integer((json_int_t)r->codes[i]));
	json_t *o = json_pack(
	        "{s:s,s:o,s:o,s:i,s:i,s:s,s:I,s:f,s:o,s:b,s:f,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:I}",
	        "scenario", c->scenario, "method", g.method ? json_string(g.method) : json_null(),
	        "servers", servers, "concurrency", (int)c->concurrency, "connections",
	        (int)c->connections, "loop", g.loop, "rate", (json_int_t)c->rate, "warmup_seconds",
	        (double)c->warmup_ms / 1000.0, "cohort", json_cohort(r), "interrupted",
	        r->interrupted, "seconds", round(r->seconds * 1000.0) / 1000.0, "calls",
	        (json_int_t)r->calls, "ok", (json_int_t)g.ok, "failed", (json_int_t)g.failed,
	        "throughput", tenths(g.throughput), "ok_throughput", tenths(g.ok_throughput),
	        "latency_us", json_latency(&g), "codes", codes, "errors", json_errors(r),
	        "errors_unlisted", (json_int_t)r->unlisted);
	if (o == NULL)
		return -1;
	int rc = json_dumpf(o, f, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(o);
	fputc('\n', f);
	return rc != 0 || ferror(f) ? -1 : 0;
}

/* ---- csv ---------------------------------------------------------------------------- */

static int report_csv(FILE *f, const ob_load_result *r)
{
	static const char *const head[] = {
	        "scenario", "method",  "loop",   "concurrency", "connections", "rate",
	        "seconds",  "calls",   "ok",     "failed",      "throughput",  "ok_throughput",
	        "min_us",   "mean_us", "p50_us", "p75_us",      "p90_us",      "p95_us",
	        "p99_us",   "p999_us", "max_us", "cohort",
	};
	enum { N = sizeof(head) / sizeof(head[0]) };
	const ob_load_config *c = r->cfg;
	figures g = figures_of(r);
	char num[N][32];
	const char *row[N];
	size_t k = 0;
	row[k++] = c->scenario;
	row[k++] = g.method ? g.method : "";
	row[k++] = g.loop;
#define NUM(fmt, v) (snprintf(num[k], sizeof(num[k]), fmt, v), row[k] = num[k], k++)
	NUM("%u", c->concurrency);
	NUM("%u", c->connections);
	NUM("%" PRIu64, c->rate);
	NUM("%.3f", r->seconds);
	NUM("%" PRIu64, r->calls);
	NUM("%" PRIu64, g.ok);
	NUM("%" PRIu64, g.failed);
	NUM("%.1f", g.throughput);
	NUM("%.1f", g.ok_throughput);
	NUM("%" PRId64, g.min);
	NUM("%.1f", g.mean);
	for (int i = 2; i < N_QUANTILES; i++)
		NUM("%" PRId64, g.q[i]);
	NUM("%" PRId64, g.max);
#undef NUM
	row[k++] = r->cohort != NULL ? r->cohort : "";
	ob_csv_write_record(f, head, N, "\n");
	ob_csv_write_record(f, row, k, "\n");
	return ferror(f) ? -1 : 0;
}

int ob_load_report(FILE *f, const ob_load_result *r, ob_load_format fmt)
{
	switch (fmt) {
	case OB_LOAD_JSON:
		return report_json(f, r);
	case OB_LOAD_CSV:
		return report_csv(f, r);
	case OB_LOAD_HDR:
		return ob_hist_print_percentiles(f, &r->hist, 5, 1000.0);
	case OB_LOAD_TEXT:
		break;
	}
	return report_text(f, r);
}
