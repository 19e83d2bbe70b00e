/*
 * metrics.c: the counters of metrics.h and their exposition. Names and
 * units follow Prometheus's conventions: a `_total` suffix on counters,
 * seconds for durations, base units, lower-case snake case, one `onboard_`
 * prefix.
 */
#include "rpc/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/domain.h"
#include "onboard/v1/rpc.pb-c.h"
#include "rpc/status.h"

enum {
	N_CODES = 17,      /* gRPC's codes 0..16 */
	N_LISTENERS = 40,  /* --listen's 16 and --http's, with room */
	STANDING_MAX = 64, /* cohorts reported; onboard has a handful */
};

/* Latency buckets in microseconds: 100 us to 10 s. */
static const int64_t latency_bounds_us[] = {100,    250,    500,     1000,    2500,
                                            5000,   10000,  25000,   50000,   100000,
                                            250000, 500000, 1000000, 2500000, 10000000};
enum { N_BOUNDS = sizeof(latency_bounds_us) / sizeof(latency_bounds_us[0]) };

typedef struct {
	atomic_ullong calls[N_CODES];
	atomic_ullong buckets[N_BOUNDS + 1];
	atomic_ullong sum_us;
} method_row;

typedef struct {
	ob_face face;
	char *url;
	atomic_long open;
} listener_row;

struct ob_metrics {
	const ob_dispatch *d;
	size_t n_methods;
	method_row *rows; /* [(n_methods + 1) * OB_N_FACES]; the last method is "other" */
	atomic_ullong refused[OB_N_FACES][OB_N_REFUSALS];
	listener_row listeners[N_LISTENERS];
	size_t n_listeners;
};

const char ob_metrics_content_type[] = "text/plain; version=0.0.4; charset=utf-8";

static const char *const face_names[OB_N_FACES] = {"nng", "http"};
static const char *const refusal_names[OB_N_REFUSALS] = {
        "rate_limit", "connection_cap", "peer_connection_cap", "too_large",
        "slow",       "idle",           "accept_paused",
};

ob_err ob_metrics_create(ob_metrics **out, const ob_dispatch *d)
{
	ob_metrics *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return OB_ENOMEM;
	m->d = d;
	m->n_methods = ob_dispatch_n_methods(d);
	/* calloc's zeros are valid atomics on every platform we build for. */
	m->rows = calloc((m->n_methods + 1) * OB_N_FACES, sizeof(*m->rows));
	if (m->rows == NULL) {
		free(m);
		return OB_ENOMEM;
	}
	*out = m;
	return OB_OK;
}

void ob_metrics_destroy(ob_metrics *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_listeners; i++)
		free(m->listeners[i].url);
	free(m->rows);
	free(m);
}

static method_row *row(ob_metrics *m, size_t method, ob_face face)
{
	return &m->rows[method * OB_N_FACES + (size_t)face];
}

void ob_metrics_call(ob_metrics *m, ob_face face, const ob_call *call, int code, int64_t latency_us)
{
	if (m == NULL)
		return;
	size_t method = call->slot >= 0 && (size_t)call->slot < m->n_methods ? (size_t)call->slot
	                                                                     : m->n_methods;
	method_row *r = row(m, method, face);
	if (code < 0 || code >= N_CODES)
		code = ONBOARD__V1__CODE__UNKNOWN;
	if (latency_us < 0)
		latency_us = 0;
	size_t b = 0;
	while (b < N_BOUNDS && latency_us > latency_bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&r->calls[code], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, (unsigned long long)latency_us, memory_order_relaxed);
	if (call->err == OB_ELIMIT)
		ob_metrics_refused(m, face, OB_REFUSED_RATE_LIMIT);
}

void ob_metrics_refused(ob_metrics *m, ob_face face, ob_refusal why)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->refused[face][why], 1, memory_order_relaxed);
}

atomic_long *ob_metrics_listener(ob_metrics *m, ob_face face, const char *url)
{
	if (m == NULL || m->n_listeners == N_LISTENERS)
		return NULL;
	listener_row *l = &m->listeners[m->n_listeners];
	if ((l->url = strdup(url)) == NULL)
		return NULL;
	l->face = face;
	atomic_init(&l->open, 0);
	m->n_listeners++;
	return &l->open;
}

/* ---- the exposition ---------------------------------------------------- */

typedef struct {
	char *buf;
	size_t len, cap;
	bool failed;
} text;

static void put(text *t, const char *fmt, ...) OB_PRINTF(2, 3);
static void put(text *t, const char *fmt, ...)
{
	for (int tries = 0; tries < 2 && !t->failed; tries++) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap * 2 + (size_t)n + 1;
		char *g = realloc(t->buf, cap);
		if (g == NULL) {
			t->failed = true;
			return;
		}
		t->buf = g;
		t->cap = cap;
	}
}

/* A label value: backslash, double quote and newline escaped, as the format
 * wants. Cohort ids are checked by the domain; this keeps the exposition
 * parseable whatever they hold. */
static const char *label(const char *v, char *buf, size_t n)
{
	size_t o = 0;
	for (; *v != '\0' && o + 3 < n; v++) {
		if (*v == '\\' || *v == '"')
			buf[o++] = '\\', buf[o++] = *v;
		else if (*v == '\n')
			buf[o++] = '\\', buf[o++] = 'n';
		else
			buf[o++] = *v;
	}
	buf[o] = '\0';
	return buf;
}

static void header(text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A histogram's buckets (non-cumulative counts in, cumulative out), _sum
 * and _count; bounds and sum in the metric's unit. */
static void histogram(text *t, const char *name, const char *labels, const uint64_t *counts,
                      const double *bounds, size_t n_bounds, double sum)
{
	uint64_t cum = 0;
	const char *sep = labels[0] != '\0' ? "," : "";
	for (size_t i = 0; i < n_bounds; i++) {
		cum += counts[i];
		put(t, "%s_bucket{%s%sle=\"%.9g\"} %llu\n", name, labels, sep, bounds[i],
		    (unsigned long long)cum);
	}
	cum += counts[n_bounds];
	put(t, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
	const char *open = labels[0] != '\0' ? "{" : "", *close = labels[0] != '\0' ? "}" : "";
	put(t, "%s_sum%s%s%s %.9g\n", name, open, labels, close, sum);
	put(t, "%s_count%s%s%s %llu\n", name, open, labels, close, (unsigned long long)cum);
}

/* The method label of row i: its full name, or "other" past the last. */
static const char *method_label(const ob_metrics *m, size_t i, char *buf, size_t n)
{
	if (i < m->n_methods)
		ob_dispatch_method_name(m->d, i, buf, n);
	else
		snprintf(buf, n, "other");
	return buf;
}

static void render_calls(text *t, ob_metrics *m)
{
	char name[256];
	header(t, "onboard_calls_total", "counter",
	       "Calls answered, by method, face and status code.");
	for (size_t i = 0; i <= m->n_methods; i++) {
		method_label(m, i, name, sizeof(name));
		for (int f = 0; f < OB_N_FACES; f++) {
			method_row *r = row(m, i, (ob_face)f);
			for (int c = 0; c < N_CODES; c++) {
				unsigned long long v =
				        atomic_load_explicit(&r->calls[c], memory_order_relaxed);
				if (v > 0 || (c == 0 && i < m->n_methods))
					put(t,
					    "onboard_calls_total{method=\"%s\",face=\"%s\",code=\"%"
					    "s\"} "
					    "%llu\n",
					    name, face_names[f],
					    ob_status_name((Onboard__V1__Code)c), v);
			}
		}
	}
	header(t, "onboard_call_duration_seconds", "histogram",
	       "Time from a request's arrival to its reply, by method and face.");
	double bounds[N_BOUNDS];
	for (size_t b = 0; b < N_BOUNDS; b++)
		bounds[b] = (double)latency_bounds_us[b] / 1e6;
	for (size_t i = 0; i <= m->n_methods; i++) {
		method_label(m, i, name, sizeof(name));
		for (int f = 0; f < OB_N_FACES; f++) {
			method_row *r = row(m, i, (ob_face)f);
			uint64_t counts[N_BOUNDS + 1], total = 0;
			for (size_t b = 0; b <= N_BOUNDS; b++)
				total += counts[b] =
				        atomic_load_explicit(&r->buckets[b], memory_order_relaxed);
			if (total == 0 && i == m->n_methods)
				continue;
			char labels[320];
			snprintf(labels, sizeof(labels), "method=\"%s\",face=\"%s\"", name,
			         face_names[f]);
			histogram(t, "onboard_call_duration_seconds", labels, counts, bounds,
			          N_BOUNDS,
			          (double)atomic_load_explicit(&r->sum_us, memory_order_relaxed) /
			                  1e6);
		}
	}
}

static void render_connections(text *t, ob_metrics *m)
{
	char url[512];
	header(t, "onboard_open_connections", "gauge", "Connections open, by face and listener.");
	for (size_t i = 0; i < m->n_listeners; i++)
		put(t, "onboard_open_connections{face=\"%s\",listener=\"%s\"} %ld\n",
		    face_names[m->listeners[i].face], label(m->listeners[i].url, url, sizeof(url)),
		    atomic_load(&m->listeners[i].open));
	header(t, "onboard_refusals_total", "counter",
	       "Calls and connections refused or closed by a limit, by face and reason.");
	for (int f = 0; f < OB_N_FACES; f++)
		for (int r = 0; r < OB_N_REFUSALS; r++)
			put(t, "onboard_refusals_total{face=\"%s\",reason=\"%s\"} %llu\n",
			    face_names[f], refusal_names[r],
			    atomic_load_explicit(&m->refused[f][r], memory_order_relaxed));
}

static void render_store(text *t, ob_domain *dom)
{
	ob_store_stats st;
	ob_domain_store_stats(dom, &st);
	static const uint64_t size_bounds[] = {OB_STORE_BATCH_BOUNDS};
	static const uint64_t us_bounds[] = {OB_STORE_COMMIT_BOUNDS_US};
	double b[OB_STORE_COMMIT_BUCKETS];
	header(t, "onboard_store_commit_batch_size", "histogram",
	       "Writes made durable by one group commit.");
	for (size_t i = 0; i + 1 < OB_STORE_BATCH_BUCKETS; i++)
		b[i] = (double)size_bounds[i];
	histogram(t, "onboard_store_commit_batch_size", "", st.batch_size, b,
	          OB_STORE_BATCH_BUCKETS - 1, (double)st.writes);
	header(t, "onboard_store_commit_duration_seconds", "histogram",
	       "Time of one group commit, from BEGIN to the end of COMMIT's fsync.");
	for (size_t i = 0; i + 1 < OB_STORE_COMMIT_BUCKETS; i++)
		b[i] = (double)us_bounds[i] / 1e6;
	histogram(t, "onboard_store_commit_duration_seconds", "", st.commit_us, b,
	          OB_STORE_COMMIT_BUCKETS - 1, (double)st.commit_us_sum / 1e6);
}

static void render_cohorts(text *t, ob_domain *dom)
{
	ob_cohort *cohorts = calloc(STANDING_MAX, sizeof(*cohorts));
	size_t n = 0;
	if (cohorts == NULL || ob_domain_cohorts(dom, cohorts, STANDING_MAX, &n) != OB_OK)
		n = 0;
	ob_standing *st = calloc(n > 0 ? n : 1, sizeof(*st));
	if (st == NULL)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		ob_outcome o;
		ob_outcome_init(&o);
		if (ob_domain_standing(dom, cohorts[i].id, &st[i], &o) != OB_OK)
			st[i].cohort.id[0] = '\0'; /* gone since the list: left out */
		ob_outcome_fini(&o);
	}
	char id[2 * OB_COHORT_ID_MAX + 4], state[256];
	header(t, "onboard_cohort_seats", "gauge", "Seats of a cohort, held and free.");
	for (size_t i = 0; i < n; i++)
		if (st[i].cohort.id[0] != '\0')
			put(t,
			    "onboard_cohort_seats{cohort=\"%s\",state=\"held\"} %u\n"
			    "onboard_cohort_seats{cohort=\"%s\",state=\"free\"} %u\n",
			    label(st[i].cohort.id, id, sizeof(id)), st[i].seats_held, id,
			    st[i].seats_free);
	header(t, "onboard_cohort_waitlist_length", "gauge",
	       "Applications waiting for a seat of a cohort.");
	for (size_t i = 0; i < n; i++)
		if (st[i].cohort.id[0] != '\0')
			put(t, "onboard_cohort_waitlist_length{cohort=\"%s\"} %u\n",
			    label(st[i].cohort.id, id, sizeof(id)), st[i].waitlist);
	header(t, "onboard_cohort_applications", "gauge", "Applications of a cohort, by state.");
	for (size_t i = 0; i < n; i++) {
		if (st[i].cohort.id[0] == '\0')
			continue;
		label(st[i].cohort.id, id, sizeof(id));
		for (size_t c = 0; c < st[i].n_counters; c++)
			if (strncmp(st[i].counters[c].key, "state:", 6) == 0)
				put(t,
				    "onboard_cohort_applications{cohort=\"%s\",state=\"%s\"} "
				    "%lld\n",
				    id, label(st[i].counters[c].key + 6, state, sizeof(state)),
				    (long long)st[i].counters[c].count);
	}
	for (size_t i = 0; i < n; i++)
		ob_standing_fini(&st[i]);
	free(st);
	free(cohorts);
}

char *ob_metrics_render(ob_metrics *m, ob_domain *dom, size_t *len)
{
	text t = {.cap = 16384};
	if ((t.buf = malloc(t.cap)) == NULL)
		return NULL;
	t.buf[0] = '\0';
	render_calls(&t, m);
	render_connections(&t, m);
	if (dom != NULL) {
		render_store(&t, dom);
		render_cohorts(&t, dom);
	}
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}
