/*
 * server.c: the HTTP face's listeners, connections, workers and reaper
 * (http.h says what and why).
 *
 * Lifetime of a connection: it is on the face's list from accept until the
 * reaper frees it. It is closed (its stream closed, which ends its pending
 * aios) by its own callbacks, a worker or the reaper; the reaper frees a
 * closed one once no receive, send or call is under way, after
 * nng_aio_free() has waited for its callbacks to return.
 *
 * Lock order: h->mu (the list, the caps), then a connection's mu, then
 * h->qmu (the work queue). nng's callbacks take only a connection's mu and
 * the queue's.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "base/clock.h"
#include "base/log.h"
#include "rpc/metrics.h"
#include "rpc/server.h"
#include "rpc/status.h"

enum {
	MAX_LISTENERS = 16,
	TX_STALL_MS = 30 * 1000,
	REAPER_PERIOD_MS =
	        250, /* An oversized body up to this many times the cap is read past and
	              * answered 413; a larger one closes the connection after the 413. */
	SKIP_FACTOR = 4,
};

typedef struct hlistener {
	struct ob_http *h;
	char url[256];
	nng_stream_listener *l;
	nng_aio *aio;
	atomic_bool backing_off;
	ob_accept_pace pace;
	atomic_long *open; /* the metrics gauge, or NULL */
} hlistener;

typedef struct hconn {
	struct ob_http *h;
	hlistener *l;
	nng_stream *st;
	nng_aio *rx, *tx;
	pthread_mutex_t mu;
	atomic_bool closed; /* written under mu; read under h->mu for the caps */
	bool rx_busy, tx_busy, serving;
	bool admitted; /* counted in h->n_conns and the listener's gauge */
	bool answered; /* a reply was written: from then on it may idle between requests */
	/* the request being read */
	uint8_t *buf;
	size_t len, cap;
	char *head; /* a copy of the head, parsed in place: rq points into it */
	size_t head_len;
	ob_http_request rq;
	bool have_head;
	size_t head_scanned;       /* of buf, known to hold no head end (ob_http_head_length) */
	ob_http_chunk_state chunk; /* where a chunked body's decoding resumes */
	size_t need;        /* head and body, once the head is in (and a chunked body read) */
	uint8_t *body;      /* a chunked body, decoded */
	uint64_t skip;      /* bytes of an oversized body still to read past */
	char skip_msg[160]; /* the 413's message, sent once they are */
	int64_t started_ms; /* the current request's first byte; 0: none */
	int64_t active_ms;  /* the last reply written, or the accept */
	int64_t arrived_us; /* the request complete */
	/* the reply being written */
	uint8_t *out;
	size_t out_len, out_off;
	bool interim; /* out is a 100 Continue; the reply may wait in pending */
	uint8_t *pending;
	size_t pending_len;
	bool close_after;
	int64_t tx_started_ms;
	/* identity, fixed at accept */
	char peer[80], host[64];
	uint8_t key[16];
	bool is_ip;
	struct hconn *prev, *next; /* h->conns, under h->mu */
	struct hconn *qnext;       /* the work queue, under h->qmu */
} hconn;

struct ob_http {
	ob_http_config cfg;
	nng_tls_config *tls;
	hlistener listeners[MAX_LISTENERS];
	size_t n_listeners;
	pthread_mutex_t mu;
	hconn *conns;
	atomic_uint n_conns; /* admitted and not closed */
	pthread_mutex_t qmu;
	pthread_cond_t qcv;
	hconn *qhead, *qtail;
	bool stopping;
	atomic_bool draining;
	atomic_uint inflight;
	pthread_t *workers;
	unsigned n_workers;
	pthread_t reaper;
	bool reaper_started;
	bool reaper_stop; /* under mu */
	pthread_cond_t reaper_cv;
};

void ob_http_config_defaults(ob_http_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = 8;
	cfg->max_request_bytes = OB_DEFAULT_MAX_REQUEST_BYTES;
	cfg->max_connections = 256;
	cfg->max_connections_per_peer = 32;
	cfg->max_accept_rate = OB_DEFAULT_ACCEPT_RATE;
	cfg->idle_timeout_ms = 300 * 1000;
	cfg->head_timeout_ms = 10 * 1000;
	cfg->body_timeout_ms = 30 * 1000;
}

bool ob_http_stream_url(const char *url, char *buf, size_t n)
{
	int w;
	if (strncmp(url, "http://", 7) == 0)
		w = snprintf(buf, n, "tcp://%s", url + 7);
	else if (strncmp(url, "https://", 8) == 0)
		w = snprintf(buf, n, "tls+tcp://%s", url + 8);
	else
		return false;
	return w > 0 && (size_t)w < n;
}

static int64_t now_ms(void)
{
	return ob_clock_mono_us() / 1000;
}

/* ---- closing ----------------------------------------------------------- */

/* Closes c's stream (its pending aios end) and gives its slot back at
 * once; the reaper frees it later. */
static void close_locked(hconn *c)
{
	if (c->closed)
		return;
	atomic_store(&c->closed, true);
	if (c->admitted) {
		atomic_fetch_sub(&c->h->n_conns, 1);
		if (c->l->open != NULL)
			atomic_fetch_sub(c->l->open, 1);
	}
	nng_stream_close(c->st);
}

static void conn_free(hconn *c)
{
	nng_aio_free(c->rx); /* waits for a callback under way */
	nng_aio_free(c->tx);
	nng_stream_free(c->st);
	free(c->buf);
	free(c->body);
	free(c->head);
	free(c->out);
	free(c->pending);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* ---- sending ----------------------------------------------------------- */

static void tx_start_locked(hconn *c)
{
	nng_iov iov = {.iov_buf = c->out + c->out_off, .iov_len = c->out_len - c->out_off};
	nng_aio_set_iov(c->tx, 1, &iov);
	c->tx_busy = true;
	c->tx_started_ms = now_ms();
	nng_stream_send(c->st, c->tx);
}

/* Queues bytes (taken) to be written; a reply that finds a 100 Continue
 * still going out waits behind it. */
static void send_locked(hconn *c, uint8_t *bytes, size_t len, bool interim)
{
	if (c->closed || bytes == NULL) {
		free(bytes);
		close_locked(c);
		return;
	}
	if (c->tx_busy) {
		c->pending = bytes;
		c->pending_len = len;
		return;
	}
	c->out = bytes;
	c->out_len = len;
	c->out_off = 0;
	c->interim = interim;
	tx_start_locked(c);
}

/* A refusal of the face itself (bad head, too large, chunked): Connect's
 * error JSON, then the connection closes. */
static void refuse_locked(hconn *c, int status, int code, const char *message)
{
	ob_http_reply r = {.close = true};
	ob_connect_error(&r, status, code, message);
	size_t len = 0;
	uint8_t *bytes = ob_http_reply_render(&r, &len);
	ob_http_reply_fini(&r);
	c->close_after = true;
	send_locked(c, bytes, len, false);
}

/* ---- receiving --------------------------------------------------------- */

/* A request's head and body as sent: a chunked body may take twice its
 * size and some in framing. */
static size_t read_limit(const ob_http *h)
{
	return OB_HTTP_MAX_HEAD + 2 * h->cfg.max_request_bytes + 4096;
}

static void rx_start_locked(hconn *c)
{
	if (c->closed || c->rx_busy)
		return;
	if (c->len == c->cap) {
		size_t limit = read_limit(c->h);
		size_t cap = c->cap * 2 < limit ? c->cap * 2 : limit;
		uint8_t *g = cap > c->cap ? realloc(c->buf, cap) : NULL;
		if (g == NULL) {
			close_locked(c); /* cannot happen while need <= limit */
			return;
		}
		c->buf = g;
		c->cap = cap;
	}
	nng_iov iov = {.iov_buf = c->buf + c->len, .iov_len = c->cap - c->len};
	nng_aio_set_iov(c->rx, 1, &iov);
	c->rx_busy = true;
	nng_stream_recv(c->st, c->rx);
}

static void enqueue(ob_http *h, hconn *c)
{
	pthread_mutex_lock(&h->qmu);
	c->qnext = NULL;
	if (h->qtail != NULL)
		h->qtail->qnext = c;
	else
		h->qhead = c;
	h->qtail = c;
	pthread_cond_signal(&h->qcv);
	pthread_mutex_unlock(&h->qmu);
}

/* Reads past what remains of an oversized body; true when done. */
static bool skip_locked(hconn *c)
{
	size_t n = c->len < c->skip ? c->len : (size_t)c->skip;
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	c->skip -= n;
	return c->skip == 0;
}

/* The head is in: decides what to do with the request. Returns false when
 * the connection was refused. */
static bool head_locked(hconn *c, size_t hl)
{
	ob_http *h = c->h;
	free(c->head);
	if ((c->head = malloc(hl + 1)) == NULL) {
		close_locked(c);
		return false;
	}
	memcpy(c->head, c->buf, hl);
	c->head[hl] = '\0';
	c->head_len = hl;
	const char *why = NULL;
	int status = ob_http_parse_head(c->head, hl, &c->rq, &why);
	if (status != 0) {
		refuse_locked(c, status, ONBOARD__V1__CODE__INVALID_ARGUMENT, why);
		return false;
	}
	if (c->rq.bad_te) {
		refuse_locked(c, 501, ONBOARD__V1__CODE__UNIMPLEMENTED,
		              "of the transfer codings only chunked is accepted");
		return false;
	}
	c->have_head = true;
	uint64_t body = c->rq.has_length ? c->rq.content_length : 0;
	const char *expect = ob_http_header_get(&c->rq, "Expect");
	if (body > h->cfg.max_request_bytes) {
		ob_metrics_refused(h->cfg.routes.metrics, OB_FACE_HTTP, OB_REFUSED_TOO_LARGE);
		char *msg = c->skip_msg;
		snprintf(msg, sizeof(c->skip_msg),
		         "request body of %llu bytes is over the limit of %zu bytes",
		         (unsigned long long)body, h->cfg.max_request_bytes);
		/* Read past a body already on its way, so that the peer sees the
		 * 413 instead of a reset; a huge one, or one announced with Expect,
		 * is not read at all. */
		if (expect == NULL && body <= (uint64_t)SKIP_FACTOR * h->cfg.max_request_bytes) {
			c->len -= hl;
			memmove(c->buf, c->buf + hl, c->len);
			c->skip = body;
			if (!skip_locked(c))
				return true; /* the 413 goes once the body has been read past */
		}
		refuse_locked(c, 413, ONBOARD__V1__CODE__RESOURCE_EXHAUSTED, msg);
		return false;
	}
	c->need = c->rq.chunked ? 0 : hl + (size_t)body;
	if (expect != NULL && strcasecmp(expect, "100-continue") == 0 &&
	    (c->rq.chunked || c->len < c->need)) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		uint8_t *b = malloc(sizeof(cont) - 1);
		if (b != NULL)
			memcpy(b, cont, sizeof(cont) - 1);
		send_locked(c, b, sizeof(cont) - 1, true);
	}
	if (c->cap < c->need) {
		uint8_t *g = realloc(c->buf, c->need);
		if (g == NULL) {
			close_locked(c);
			return false;
		}
		c->buf = g;
		c->cap = c->need;
	}
	return true;
}

/* A chunked body: true once it is whole and decoded into c->body (c->need
 * then covers what it took on the wire), false when more is to be read or
 * it was refused. */
static bool chunked_locked(hconn *c)
{
	ob_http *h = c->h;
	const char *why = "";
	size_t used = 0, len = 0;
	const uint8_t *src = c->buf + c->head_len;
	size_t n = c->len - c->head_len;
	int r = ob_http_chunked(src, n, NULL, h->cfg.max_request_bytes, &used, &len, &why,
	                        &c->chunk);
	if (r == 1 && c->len == c->cap && c->cap >= read_limit(h))
		r = 413, why = "the chunked body is over the limit";
	if (r == 1) {
		rx_start_locked(c);
		return false;
	}
	if (r != 0) {
		if (r == 413)
			ob_metrics_refused(h->cfg.routes.metrics, OB_FACE_HTTP,
			                   OB_REFUSED_TOO_LARGE);
		refuse_locked(c, r,
		              r == 413 ? ONBOARD__V1__CODE__RESOURCE_EXHAUSTED
		                       : ONBOARD__V1__CODE__INVALID_ARGUMENT,
		              why);
		return false;
	}
	free(c->body);
	if ((c->body = malloc(len > 0 ? len : 1)) == NULL) {
		close_locked(c);
		return false;
	}
	(void)ob_http_chunked(src, n, c->body, h->cfg.max_request_bytes, &used, &len, &why, NULL);
	c->rq.content_length = len;
	c->need = c->head_len + used;
	return true;
}

/* What the buffer holds: a request to serve, more to read, or a refusal. */
static void process_locked(hconn *c)
{
	if (c->closed || c->serving)
		return;
	if (c->skip > 0) {
		if (!skip_locked(c))
			rx_start_locked(c);
		else
			refuse_locked(c, 413, ONBOARD__V1__CODE__RESOURCE_EXHAUSTED, c->skip_msg);
		return;
	}
	if (!c->have_head) {
		size_t hl = ob_http_head_length((const char *)c->buf, c->len, &c->head_scanned);
		if (hl == 0 || hl > OB_HTTP_MAX_HEAD) {
			if (c->len >= OB_HTTP_MAX_HEAD) {
				ob_metrics_refused(c->h->cfg.routes.metrics, OB_FACE_HTTP,
				                   OB_REFUSED_TOO_LARGE);
				refuse_locked(c, 431, ONBOARD__V1__CODE__RESOURCE_EXHAUSTED,
				              "the request head is over 16 KiB");
			} else {
				rx_start_locked(c);
			}
			return;
		}
		if (!head_locked(c, hl) || c->skip > 0) {
			if (c->skip > 0)
				rx_start_locked(c);
			return;
		}
	}
	if (c->rq.chunked && c->need == 0 && !chunked_locked(c))
		return;
	if (c->len < c->need) {
		rx_start_locked(c);
		return;
	}
	c->rq.body = c->rq.chunked ? c->body : c->buf + c->head_len;
	c->rq.body_len = c->rq.chunked ? c->rq.content_length : c->need - c->head_len;
	c->serving = true;
	c->arrived_us = ob_clock_mono_us();
	atomic_fetch_add(&c->h->inflight, 1);
	enqueue(c->h, c);
}

static void rx_cb(void *arg)
{
	hconn *c = arg;
	pthread_mutex_lock(&c->mu);
	c->rx_busy = false;
	if (nng_aio_result(c->rx) != 0) {
		close_locked(c);
	} else {
		size_t n = nng_aio_count(c->rx);
		if (c->started_ms == 0 && n > 0)
			c->started_ms = now_ms();
		c->len += n;
		process_locked(c);
	}
	pthread_mutex_unlock(&c->mu);
}

/* The reply is out: the next request, or the end. */
static void next_request_locked(hconn *c)
{
	if (c->close_after) {
		close_locked(c);
		return;
	}
	c->answered = true;
	size_t rest = c->len > c->need ? c->len - c->need : 0;
	memmove(c->buf, c->buf + c->need, rest);
	c->len = rest;
	c->need = 0;
	c->have_head = false;
	c->head_scanned = 0;
	c->chunk = (ob_http_chunk_state){0, 0};
	c->active_ms = now_ms();
	c->started_ms = rest > 0 ? c->active_ms : 0;
	process_locked(c);
}

static void tx_cb(void *arg)
{
	hconn *c = arg;
	pthread_mutex_lock(&c->mu);
	c->tx_busy = false;
	if (nng_aio_result(c->tx) != 0) {
		close_locked(c);
		pthread_mutex_unlock(&c->mu);
		return;
	}
	c->out_off += nng_aio_count(c->tx);
	if (c->out_off < c->out_len) {
		tx_start_locked(c);
		pthread_mutex_unlock(&c->mu);
		return;
	}
	free(c->out);
	c->out = NULL;
	bool interim = c->interim;
	c->interim = false;
	if (c->pending != NULL) {
		uint8_t *p = c->pending;
		c->pending = NULL;
		send_locked(c, p, c->pending_len, false);
	} else if (!interim) {
		next_request_locked(c);
	}
	pthread_mutex_unlock(&c->mu);
}

/* ---- the workers ------------------------------------------------------- */

static void serve(ob_http *h, ob_call *call, hconn *c)
{
	ob_call_reset(call);
	call->peer = c->peer;
	call->peer_host = c->host;
	call->arrived_us = c->arrived_us;
	call->draining = atomic_load(&h->draining);
	ob_http_reply r = {0};
	int code = ob_connect_serve(&h->cfg.routes, call, &c->rq, &r);
	r.close = r.close || !c->rq.keep_alive || atomic_load(&h->draining);
	int64_t latency_us = ob_clock_mono_us() - c->arrived_us;
	if (code >= 0) {
		ob_metrics_call(h->cfg.routes.metrics, OB_FACE_HTTP, call, code, latency_us);
		ob_log_access(&(ob_access_entry){
		        .method = call->method,
		        .status = ob_status_name((Onboard__V1__Code)code),
		        .latency_us = latency_us,
		        .request_id = call->request_id,
		        .peer = c->peer,
		});
	}
	size_t len = 0;
	uint8_t *bytes = ob_http_reply_render(&r, &len);
	ob_http_reply_fini(&r);
	pthread_mutex_lock(&c->mu);
	c->serving = false;
	c->close_after = r.close;
	send_locked(c, bytes, len, false);
	pthread_mutex_unlock(&c->mu);
	atomic_fetch_sub(&h->inflight, 1);
}

static void *worker_main(void *arg)
{
	ob_http *h = arg;
	ob_call call;
	ob_call_init(&call, h->cfg.env, h->cfg.max_request_bytes);
	pthread_mutex_lock(&h->qmu);
	for (;;) {
		while (h->qhead == NULL && !h->stopping)
			pthread_cond_wait(&h->qcv, &h->qmu);
		hconn *c = h->qhead;
		if (c == NULL)
			break;
		if ((h->qhead = c->qnext) == NULL)
			h->qtail = NULL;
		bool stopping = h->stopping;
		pthread_mutex_unlock(&h->qmu);
		if (stopping) {
			pthread_mutex_lock(&c->mu);
			c->serving = false;
			close_locked(c);
			pthread_mutex_unlock(&c->mu);
			atomic_fetch_sub(&h->inflight, 1);
		} else {
			serve(h, &call, c);
		}
		pthread_mutex_lock(&h->qmu);
	}
	pthread_mutex_unlock(&h->qmu);
	ob_call_fini(&call);
	return NULL;
}

/* ---- accepting --------------------------------------------------------- */

static void describe_peer(hconn *c)
{
	nng_sockaddr sa;
	snprintf(c->peer, sizeof(c->peer), "http");
	snprintf(c->host, sizeof(c->host), "http");
	if (nng_stream_get_addr(c->st, NNG_OPT_REMADDR, &sa) != 0)
		return;
	char ip[INET6_ADDRSTRLEN] = "";
	unsigned port = 0;
	if (sa.s_family == NNG_AF_INET) {
		inet_ntop(AF_INET, &sa.s_in.sa_addr, ip, sizeof(ip));
		port = ntohs(sa.s_in.sa_port);
		c->key[10] = c->key[11] = 0xff; /* v4-mapped */
		memcpy(c->key + 12, &sa.s_in.sa_addr, 4);
		c->is_ip = true;
	} else if (sa.s_family == NNG_AF_INET6) {
		inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof(ip));
		port = ntohs(sa.s_in6.sa_port);
		memcpy(c->key, sa.s_in6.sa_addr, 8); /* the /64 */
		c->is_ip = true;
	} else {
		return;
	}
	snprintf(c->host, sizeof(c->host), "%s", ip);
	snprintf(c->peer, sizeof(c->peer), "http:%s:%u", ip, port);
}

/* Whether c waits, between two requests, for a next one (closing it loses nothing). Both locks
 * held. */
static bool idle_locked(const hconn *c)
{
	return c->admitted && !c->closed && c->answered && c->started_ms == 0 && !c->serving &&
	       !c->tx_busy && c->len == 0;
}

/* At the cap, the connection that has waited longest for a next request makes room: idle
 * keep-alive connections, which a browser keeps by the handful, cannot keep others out; a
 * connection that never sent a request is cut by the head timeout. h->mu held. Returns whether
 * one was closed. */
static bool evict_idle(ob_http *h)
{
	hconn *oldest = NULL;
	int64_t since = 0;
	/* Newest first: on a tie (the same millisecond), the later in the list is the older. */
	for (hconn *o = h->conns; o != NULL; o = o->next) {
		pthread_mutex_lock(&o->mu);
		if (idle_locked(o) && (oldest == NULL || o->active_ms <= since)) {
			oldest = o;
			since = o->active_ms;
		}
		pthread_mutex_unlock(&o->mu);
	}
	if (oldest == NULL)
		return false;
	pthread_mutex_lock(&oldest->mu);
	bool still = idle_locked(oldest);
	if (still) {
		ob_metrics_refused(h->cfg.routes.metrics, OB_FACE_HTTP, OB_REFUSED_IDLE);
		close_locked(oldest);
	}
	pthread_mutex_unlock(&oldest->mu);
	return still;
}

/* Whether c's address (IPv4, or IPv6 /64) has all its connections already. h->mu held. */
static bool peer_full(const ob_http *h, const hconn *c)
{
	unsigned same = 0;
	for (const hconn *o = h->conns; c->is_ip && o != NULL; o = o->next)
		if (o->admitted && !atomic_load(&o->closed) && o->is_ip &&
		    memcmp(o->key, c->key, 16) == 0)
			same++;
	return same >= h->cfg.max_connections_per_peer;
}

/* Why c may not come in, or OB_N_REFUSALS; at the cap, an idle connection makes room for a
 * newcomer that would come in (evict_idle), and only for one: else an address at its own cap
 * could close everyone's idle connections, one attempt each. h->mu held. */
static ob_refusal admit(ob_http *h, const hconn *c)
{
	bool mine_full = peer_full(h, c); /* one pass over the connections, not one a question */
	if (atomic_load(&h->n_conns) >= h->cfg.max_connections && (mine_full || !evict_idle(h)))
		return OB_REFUSED_CONNECTIONS;
	return mine_full ? OB_REFUSED_PEER_CONNECTIONS : OB_N_REFUSALS;
}

static void accept_conn(hlistener *l, nng_stream *st)
{
	ob_http *h = l->h;
	hconn *c = calloc(1, sizeof(*c));
	if (c == NULL || nng_aio_alloc(&c->rx, rx_cb, c) != 0 ||
	    nng_aio_alloc(&c->tx, tx_cb, c) != 0 || (c->buf = malloc(4096)) == NULL) {
		if (c != NULL) {
			nng_aio_free(c->rx);
			nng_aio_free(c->tx);
		}
		free(c);
		nng_stream_close(st);
		nng_stream_free(st);
		return;
	}
	c->h = h;
	c->l = l;
	c->st = st;
	c->cap = 4096;
	atomic_init(&c->closed, false);
	pthread_mutex_init(&c->mu, NULL);
	describe_peer(c);
	c->active_ms = now_ms();

	pthread_mutex_lock(&h->mu);
	ob_refusal why = admit(h, c);
	c->admitted = why == OB_N_REFUSALS;
	if (c->admitted)
		atomic_fetch_add(&h->n_conns, 1);
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	pthread_mutex_lock(&c->mu);
	if (c->admitted) {
		if (l->open != NULL)
			atomic_fetch_add(l->open, 1);
		rx_start_locked(c);
	} else {
		ob_metrics_refused(h->cfg.routes.metrics, OB_FACE_HTTP, why);
		ob_http_reply r = {.close = true};
		ob_http_reply_header(&r, "Retry-After", "1");
		ob_connect_error(&r, 503, ONBOARD__V1__CODE__UNAVAILABLE,
		                 why == OB_REFUSED_CONNECTIONS
		                         ? "too many connections; retry"
		                         : "too many connections from your address; retry");
		size_t len = 0;
		uint8_t *bytes = ob_http_reply_render(&r, &len);
		ob_http_reply_fini(&r);
		c->close_after = true;
		send_locked(c, bytes, len, false);
	}
	pthread_mutex_unlock(&c->mu);
	pthread_mutex_unlock(&h->mu);
}

static void accept_cb(void *arg)
{
	hlistener *l = arg;
	nng_stream *st = ob_accept_step(l->l, l->aio, &l->backing_off);
	if (st != NULL) {
		accept_conn(l, st);
		ob_accept_next(l->l, l->aio, &l->backing_off, &l->pace, l->url);
	}
}

static ob_err listen_on(ob_http *h, hlistener *l, const char *url)
{
	memset(l, 0, sizeof(*l));
	l->h = h;
	atomic_init(&l->backing_off, false);
	l->pace.rate = h->cfg.max_accept_rate;
	l->pace.metrics = h->cfg.routes.metrics;
	l->pace.face = OB_FACE_HTTP;
	snprintf(l->url, sizeof(l->url), "%s", url);
	char nurl[300];
	if (!ob_http_stream_url(url, nurl, sizeof(nurl))) {
		ob_log(OB_LOG_ERROR,
		       "cannot serve HTTP on %s: use http://HOST:PORT or "
		       "https://HOST:PORT",
		       url);
		return OB_EINVAL;
	}
	bool tls = strncmp(url, "https://", 8) == 0;
	ob_err err;
	if (tls && h->tls == NULL &&
	    (err = ob_tls_server_config(h->cfg.tls_cert, h->cfg.tls_key, h->cfg.tls_ca, &h->tls)) !=
	            OB_OK)
		return err;
	int rv = ob_stream_listen(nurl, tls ? h->tls : NULL, -1, accept_cb, l, &l->l, &l->aio);
	if (rv != 0) {
		ob_log(OB_LOG_ERROR, "cannot serve HTTP on %s: %s", url, nng_strerror(rv));
		return ob_server_from_nng(rv);
	}
	l->open = ob_metrics_listener(h->cfg.routes.metrics, OB_FACE_HTTP, url);
	nng_stream_listener_accept(l->l, l->aio);
	ob_log(OB_LOG_INFO, "serving HTTP on %s", url);
	return OB_OK;
}

static void listener_fini(hlistener *l)
{
	if (l->l != NULL)
		nng_stream_listener_close(l->l);
	nng_aio_free(l->aio); /* waits for accept_cb */
	nng_stream_listener_free(l->l);
	l->aio = NULL;
	l->l = NULL;
}

/* ---- the reaper -------------------------------------------------------- */

/* Whether c has outstayed a timeout; closes it. Both locks held. */
static void check_stale(ob_http *h, hconn *c, int64_t now)
{
	ob_refusal why = OB_N_REFUSALS;
	bool reading = !c->serving && c->started_ms != 0;
	if (reading && !c->have_head && now - c->started_ms > h->cfg.head_timeout_ms)
		why = OB_REFUSED_SLOW; /* a head dribbled in: slowloris */
	else if (reading && now - c->started_ms > h->cfg.head_timeout_ms + h->cfg.body_timeout_ms)
		why = OB_REFUSED_SLOW;
	else if (c->tx_busy && now - c->tx_started_ms > TX_STALL_MS)
		why = OB_REFUSED_SLOW; /* the peer does not read */
	else if (!reading && !c->serving && !c->tx_busy && !c->answered &&
	         now - c->active_ms > h->cfg.head_timeout_ms)
		why = OB_REFUSED_SLOW; /* connected and silent: its first head is late */
	else if (!reading && !c->serving && !c->tx_busy && h->cfg.idle_timeout_ms > 0 &&
	         now - c->active_ms > h->cfg.idle_timeout_ms)
		why = OB_REFUSED_IDLE;
	if (why == OB_N_REFUSALS)
		return;
	ob_metrics_refused(h->cfg.routes.metrics, OB_FACE_HTTP, why);
	close_locked(c);
}

/* One pass: stale connections closed, closed ones that nothing uses any
 * more taken off the list (into *dead). h->mu held. */
static void reap_locked(ob_http *h, hconn **dead, bool all)
{
	int64_t now = now_ms();
	for (hconn *c = h->conns, *next; c != NULL; c = next) {
		next = c->next;
		pthread_mutex_lock(&c->mu);
		if (all)
			close_locked(c);
		else if (!c->closed)
			check_stale(h, c, now);
		bool done = c->closed && !c->rx_busy && !c->tx_busy && !c->serving;
		pthread_mutex_unlock(&c->mu);
		if (!done)
			continue;
		if (c->prev != NULL)
			c->prev->next = c->next;
		else
			h->conns = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
		c->next = *dead;
		*dead = c;
	}
}

static void free_list(hconn *dead)
{
	while (dead != NULL) {
		hconn *next = dead->next;
		conn_free(dead);
		dead = next;
	}
}

static void *reaper_main(void *arg)
{
	ob_http *h = arg;
	pthread_mutex_lock(&h->mu);
	while (!h->reaper_stop) {
		struct timespec ts = ob_clock_mono_after((int64_t)REAPER_PERIOD_MS * 1000);
		pthread_cond_timedwait(&h->reaper_cv, &h->mu, &ts);
		hconn *dead = NULL;
		reap_locked(h, &dead, false);
		pthread_mutex_unlock(&h->mu);
		free_list(dead); /* nng_aio_free may wait for a callback */
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* ---- lifecycle --------------------------------------------------------- */

ob_err ob_http_start(ob_http **out, const ob_http_config *cfg)
{
	*out = NULL;
	if (cfg->n_urls > MAX_LISTENERS) {
		ob_log(OB_LOG_ERROR, "at most %d --http URLs", MAX_LISTENERS);
		return OB_EINVAL;
	}
	ob_http *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return OB_ENOMEM;
	h->cfg = *cfg;
	if (h->cfg.workers == 0)
		h->cfg.workers = 1;
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->qmu, NULL);
	pthread_cond_init(&h->qcv, NULL);
	ob_clock_cond_init(&h->reaper_cv); /* timed waits: on the monotonic clock */
	atomic_init(&h->draining, false);
	atomic_init(&h->inflight, 0);
	atomic_init(&h->n_conns, 0);
	ob_err err = OB_ENOMEM;
	if ((h->workers = calloc(h->cfg.workers, sizeof(*h->workers))) == NULL)
		goto fail;
	for (unsigned i = 0; i < h->cfg.workers; i++) {
		if (pthread_create(&h->workers[i], NULL, worker_main, h) != 0)
			goto fail;
		h->n_workers++;
	}
	if (pthread_create(&h->reaper, NULL, reaper_main, h) != 0)
		goto fail;
	h->reaper_started = true;
	for (size_t i = 0; i < cfg->n_urls; i++) {
		if ((err = listen_on(h, &h->listeners[i], cfg->urls[i])) != OB_OK)
			goto fail;
		h->n_listeners++;
	}
	*out = h;
	return OB_OK;
fail:
	ob_http_destroy(h);
	return err;
}

unsigned ob_http_drain(ob_http *h, int64_t grace_ms)
{
	if (h == NULL)
		return 0;
	atomic_store(&h->draining, true);
	for (size_t i = 0; i < h->n_listeners; i++)
		nng_stream_listener_close(h->listeners[i].l);
	int64_t end = now_ms() + grace_ms;
	while (atomic_load(&h->inflight) > 0 && now_ms() < end)
		nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
	return atomic_load(&h->inflight);
}

void ob_http_destroy(ob_http *h)
{
	if (h == NULL)
		return;
	atomic_store(&h->draining, true);
	for (size_t i = 0; i < h->n_listeners; i++)
		listener_fini(&h->listeners[i]);
	pthread_mutex_lock(&h->qmu);
	h->stopping = true;
	pthread_cond_broadcast(&h->qcv);
	pthread_mutex_unlock(&h->qmu);
	for (unsigned i = 0; i < h->n_workers; i++)
		pthread_join(h->workers[i], NULL);
	if (h->reaper_started) {
		pthread_mutex_lock(&h->mu);
		h->reaper_stop = true;
		pthread_cond_broadcast(&h->reaper_cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->reaper, NULL);
	}
	/* No worker and no reaper left: close everything, and free each
	 * connection once its callbacks have let go of it. */
	for (;;) {
		hconn *dead = NULL;
		pthread_mutex_lock(&h->mu);
		reap_locked(h, &dead, true);
		bool left = h->conns != NULL;
		pthread_mutex_unlock(&h->mu);
		free_list(dead);
		if (!left)
			break;
		nanosleep(&(struct timespec){0, 1000000L}, NULL);
	}
	if (h->tls != NULL)
		nng_tls_config_free(h->tls);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->qmu);
	pthread_cond_destroy(&h->qcv);
	pthread_cond_destroy(&h->reaper_cv);
	free(h->workers);
	free(h);
}
