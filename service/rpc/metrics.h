/*
 * metrics.h: what onboardd counts for /metrics (the HTTP face serves it), in
 * Prometheus's text format.
 *
 * Both faces (the nng server and the HTTP face) report every call here:
 * calls by method, face and status code, and a latency histogram per method
 * and face. Those counters are relaxed atomics in fixed tables indexed by the
 * dispatch's method numbers (ob_call.slot): no lock and no allocation on a
 * call's path. Connections open per listener are gauges the faces move; the
 * refusals (rate limits, connection caps, oversized or slow requests) are
 * counters. Everything that lives in the domain (per cohort: seats held and
 * free, waitlist, applications by state; group commit's batch sizes and
 * commit latency from the store port) is read at scrape time, so that it
 * costs nothing between scrapes.
 *
 * Threading: create and destroy from main, before and after the faces;
 * ob_metrics_call, ob_metrics_refused and the gauges from any thread;
 * ob_metrics_render from any thread (it reads the domain, which may block
 * briefly on the store).
 */
#ifndef OB_RPC_METRICS_H
#define OB_RPC_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "rpc/dispatch.h"

typedef struct ob_domain ob_domain;

typedef enum ob_face {
	OB_FACE_NNG,
	OB_FACE_HTTP,
	OB_N_FACES,
} ob_face;

typedef enum ob_refusal {
	OB_REFUSED_RATE_LIMIT,       /* a call over its key's or address's rate */
	OB_REFUSED_CONNECTIONS,      /* a connection over the global cap */
	OB_REFUSED_PEER_CONNECTIONS, /* a connection over the per-peer cap */
	OB_REFUSED_TOO_LARGE,        /* a request (body or head) over its cap */
	OB_REFUSED_SLOW,             /* a connection closed for sending too slowly */
	OB_REFUSED_IDLE,             /* a connection closed after its idle timeout */
	OB_REFUSED_ACCEPT_PAUSED,    /* a listener paused: new connections over --max-accept-rate */
	OB_N_REFUSALS,
} ob_refusal;

typedef struct ob_metrics ob_metrics;

/* One table row per method of d (which must be complete, and outlive m). */
OB_NODISCARD ob_err ob_metrics_create(ob_metrics **out, const ob_dispatch *d);
void ob_metrics_destroy(ob_metrics *m);

/* One finished call: its method (call->slot; -1 counts as "other"), its
 * status and its latency. Counts a rate-limit refusal when call->err is
 * OB_ELIMIT. m may be NULL (nothing counted). */
void ob_metrics_call(ob_metrics *m, ob_face face, const ob_call *call, int code,
                     int64_t latency_us);
/* One refusal. m may be NULL. */
void ob_metrics_refused(ob_metrics *m, ob_face face, ob_refusal why);

/* The gauge of open connections of one listener, named by its URL (copied).
 * The face adds 1 when it admits a connection and subtracts 1 when it frees
 * it. NULL when m is NULL or out of memory (the face then keeps no count).
 * Before serving, from one thread. */
atomic_long *ob_metrics_listener(ob_metrics *m, ob_face face, const char *url);

/* The whole exposition, text format 0.0.4, NUL-terminated, malloc'd (the
 * caller frees it); NULL when out of memory. dom may be NULL (no cohort or
 * store figures). */
char *ob_metrics_render(ob_metrics *m, ob_domain *dom, size_t *len);

/* The "text/plain; version=0.0.4; charset=utf-8" of the format above. */
extern const char ob_metrics_content_type[];

#endif
