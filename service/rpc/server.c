/*
 * server.c: the server's lifecycle and its workers. Connections are in
 * conn.c, listeners in listen.c; server_impl.h says how they fit.
 */
#include "rpc/server.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "domain/store.h"
#include "rpc/metrics.h"
#include "rpc/server_impl.h"
#include "rpc/status.h"

void ob_server_config_defaults(ob_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ipc_mode = 0600;
	cfg->contexts = 256;
	/* A durable write holds its worker until its commit, so a commit can carry
	 * no more writes than there are workers waiting in it: with 32, batches
	 * stayed near 15.5 at 64 calls in flight (half the workers waiting in the
	 * commit under way, half in the next). Twice the store's batch lets one
	 * full batch commit while the next fills. Idle workers cost a stack and
	 * a call's arena; reads open a connection only when they run at once. */
	cfg->workers = 2 * OB_STORE_BATCH_MAX;
	cfg->max_request_bytes = OB_DEFAULT_MAX_REQUEST_BYTES;
	cfg->max_connections = 1024;
	cfg->max_connections_per_peer = 64;
	cfg->reserved_local_connections = OB_RESERVED_LOCAL_AUTO;
	cfg->max_accept_rate = OB_DEFAULT_ACCEPT_RATE;
	cfg->idle_timeout_ms = 300 * 1000;
}

ob_err ob_server_from_nng(int rv)
{
	switch (rv) {
	case 0:
		return OB_OK;
	case NNG_ENOMEM:
		return OB_ENOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return OB_EINVAL;
	case NNG_ETIMEDOUT:
		return OB_ETIMEDOUT;
	case NNG_ECLOSED:
		return OB_EUNAVAIL;
	case NNG_EPERM:
		return OB_EPERM;
	default:
		return OB_EIO;
	}
}

/* ---- the work queue -------------------------------------------------- */

void ob_server_enqueue(ob_server *s, ob_req *list, unsigned n)
{
	ob_req *last = list;
	while (last->next != NULL)
		last = last->next;
	pthread_mutex_lock(&s->mu);
	if (s->tail != NULL)
		s->tail->next = list;
	else
		s->head = list;
	s->tail = last;
	if (n == 1)
		pthread_cond_signal(&s->work_cv);
	else
		pthread_cond_broadcast(&s->work_cv);
	pthread_mutex_unlock(&s->mu);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Runs one request and hands the framed reply to its connection. */
static void serve(ob_server *s, ob_call *call, ob_req *rq)
{
	const ob_conn *c = rq->conn; /* its identity is fixed once accepted */
	ob_call_reset(call);
	call->peer = c->peer;
	call->peer_host = c->host;
	call->peer_uid = c->uid;
	call->arrived_us = rq->arrived_us;
	call->draining = atomic_load(&s->draining);
	/* An oversized request was read past: the pipeline refuses it on its
	 * length alone and never looks at the (absent) bytes. */
	uint64_t plen = rq->frame_len - rq->hdr_len;
	Onboard__V1__Response *rs =
	        ob_dispatch_handle(s->dispatch, call, rq->oversize ? NULL : rq->buf + rq->hdr_len,
	                           plen > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)plen);
	size_t n = protobuf_c_message_get_packed_size(&rs->base);
	size_t len = c->flen + rq->hdr_len + n;
	ob_reply *r = malloc(sizeof(*r) + len);
	if (r != NULL) { /* else no memory: the caller times out and retries */
		r->len = len;
		r->off = 0;
		r->data[0] = 1; /* ipc's message type; tcp's length overwrites it */
		put_be64(r->data + c->flen - 8, rq->hdr_len + n);
		memcpy(r->data + c->flen, rq->buf, rq->hdr_len);
		protobuf_c_message_pack(&rs->base, r->data + c->flen + rq->hdr_len);
	}
	int64_t latency_us = ob_clock_mono_us() - rq->arrived_us;
	ob_metrics_call(s->cfg.metrics, OB_FACE_NNG, call, (int)rs->code, latency_us);
	ob_log_access(&(ob_access_entry){
	        .method = call->method,
	        .status = ob_status_name(rs->code),
	        .latency_us = latency_us,
	        .request_id = call->request_id,
	        .peer = c->peer,
	        .key_id = call->principal,
	});
	ob_conn_reply(s, rq, r);
}

/* ---- quick requests, served where they were read ----------------------- */

typedef struct ob_spare_call {
	struct ob_spare_call *next;
	ob_call call;
} ob_spare_call;

static void serve_here(ob_server *s, ob_req *rq)
{
	if (atomic_load(&rq->conn->gone)) {
		ob_conn_reply(s, rq, NULL); /* as the workers do: nobody to answer */
		return;
	}
	pthread_mutex_lock(&s->calls_mu);
	ob_spare_call *sc = s->spare_calls;
	if (sc != NULL)
		s->spare_calls = sc->next;
	pthread_mutex_unlock(&s->calls_mu);
	if (sc == NULL) {
		if ((sc = malloc(sizeof(*sc))) == NULL) {
			ob_server_enqueue(s, rq, 1); /* a worker has a call of its own */
			return;
		}
		ob_call_init(&sc->call, s->env, s->cfg.max_request_bytes);
	}
	serve(s, &sc->call, rq);
	pthread_mutex_lock(&s->calls_mu);
	sc->next = s->spare_calls;
	s->spare_calls = sc;
	pthread_mutex_unlock(&s->calls_mu);
}

void ob_server_take(ob_server *s, ob_req *list, unsigned n)
{
	ob_req *slow = NULL, **slow_end = &slow, *quick = NULL, **quick_end = &quick;
	unsigned n_slow = 0;
	for (ob_req *rq = list, *next; rq != NULL && n > 0; rq = next, n--) {
		next = rq->next;
		rq->next = NULL;
		if (!rq->oversize && ob_dispatch_is_quick(s->dispatch, rq->buf + rq->hdr_len,
		                                          (size_t)(rq->frame_len - rq->hdr_len))) {
			*quick_end = rq;
			quick_end = &rq->next;
		} else {
			*slow_end = rq;
			slow_end = &rq->next;
			n_slow++;
		}
	}
	if (slow != NULL)
		ob_server_enqueue(s, slow, n_slow);
	if (quick == NULL)
		return;
	/* A run of quick requests pipelined in one read: their replies leave in
	 * one send, not one each. */
	ob_conn *c = quick->conn;
	ob_conn_cork(c);
	for (ob_req *rq = quick, *next; rq != NULL; rq = next) {
		next = rq->next;
		serve_here(s, rq);
	}
	ob_conn_uncork(c);
}

static void *worker_main(void *arg)
{
	ob_server *s = arg;
	prctl(PR_SET_NAME, "ob-worker"); /* for top -H and debuggers */
	ob_call call;
	ob_call_init(&call, s->env, s->cfg.max_request_bytes);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->head == NULL && !s->stopping)
			pthread_cond_wait(&s->work_cv, &s->mu);
		if (s->head == NULL)
			break; /* stopping, and nothing left */
		ob_req *rq = s->head;
		if ((s->head = rq->next) == NULL)
			s->tail = NULL;
		s->last_take_us = ob_clock_mono_us();
		bool stopping = s->stopping;
		pthread_mutex_unlock(&s->mu);
		/* Nobody to answer: the server is closing, or the peer hung up
		 * before its request was begun. Not begun, not acknowledged: a
		 * client that still wants it sends it again, with its
		 * idempotency key. This also gives the connection's slot back at
		 * once to whoever pipelined and hung up. */
		if (stopping || atomic_load(&rq->conn->gone))
			ob_conn_reply(s, rq, NULL);
		else
			serve(s, &call, rq);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	ob_call_fini(&call);
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------- */

ob_err ob_server_start(ob_server **out, const ob_server_config *cfg, const ob_dispatch *d,
                       void *env)
{
	*out = NULL;
	ob_server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return OB_ENOMEM;
	s->cfg = *cfg;
	if (s->cfg.contexts == 0)
		s->cfg.contexts = 1;
	if (s->cfg.max_connections == 0)
		s->cfg.max_connections = 1;
	if (s->cfg.reserved_local_connections == OB_RESERVED_LOCAL_AUTO)
		s->cfg.reserved_local_connections =
		        s->cfg.max_connections / 8 < 16 ? s->cfg.max_connections / 8 : 16;
	s->dispatch = d;
	s->env = env;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->conn_mu, NULL);
	pthread_mutex_init(&s->park_mu, NULL);
	pthread_mutex_init(&s->calls_mu, NULL);
	pthread_cond_init(&s->work_cv, NULL);
	ob_clock_cond_init(&s->idle_cv); /* timed waits: on the monotonic clock */
	ob_clock_cond_init(&s->reaper_cv);
	atomic_init(&s->draining, false);
	atomic_init(&s->inflight, 0);
	atomic_init(&s->n_parked, 0);
	ob_err err = OB_ENOMEM;

	s->workers = calloc(cfg->workers, sizeof(*s->workers));
	s->listeners = calloc(cfg->n_listen > 0 ? cfg->n_listen : 1, sizeof(*s->listeners));
	if (s->workers == NULL || s->listeners == NULL)
		goto fail;
	for (unsigned i = 0; i < cfg->workers; i++) {
		if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0)
			goto fail;
		s->n_workers++;
	}
	if (pthread_create(&s->reaper, NULL, ob_conn_reaper_main, s) != 0)
		goto fail;
	s->reaper_started = true;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		if ((err = ob_listener_start(s, &s->listeners[i], cfg->listen[i])) != OB_OK)
			goto fail;
		s->n_listeners++;
	}
	*out = s;
	return OB_OK;
fail:
	ob_server_destroy(s);
	return err;
}

unsigned ob_server_drain(ob_server *s, int64_t grace_ms)
{
	atomic_store(&s->draining, true);
	for (size_t i = 0; i < s->n_listeners; i++)
		ob_listener_close(&s->listeners[i]);
	int64_t end = ob_clock_mono_us() + grace_ms * 1000;
	pthread_mutex_lock(&s->mu);
	while (atomic_load(&s->inflight) > 0) {
		int64_t left = end - ob_clock_mono_us();
		if (left <= 0)
			break;
		struct timespec ts = ob_clock_mono_after(left < 100000 ? left : 100000);
		pthread_cond_timedwait(&s->idle_cv, &s->mu, &ts);
	}
	unsigned left = atomic_load(&s->inflight);
	pthread_mutex_unlock(&s->mu);
	return left;
}

int64_t ob_server_stalled_us(ob_server *s)
{
	int64_t now = ob_clock_mono_us();
	pthread_mutex_lock(&s->mu);
	int64_t since = 0;
	if (s->head != NULL)
		since = s->head->arrived_us > s->last_take_us ? s->head->arrived_us
		                                              : s->last_take_us;
	pthread_mutex_unlock(&s->mu);
	return since > 0 && now > since ? now - since : 0;
}

void ob_server_destroy(ob_server *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->work_cv);
	pthread_mutex_unlock(&s->mu);
	atomic_store(&s->draining, true);
	/* No new connections, then none left open, then no thread of ours
	 * touching them, then no nng callback either. */
	for (size_t i = 0; i < s->n_listeners; i++)
		ob_listener_fini(&s->listeners[i]);
	ob_conn_close_all(s);
	for (unsigned i = 0; i < s->n_workers; i++)
		pthread_join(s->workers[i], NULL);
	if (s->reaper_started) {
		pthread_mutex_lock(&s->conn_mu);
		s->reaper_stop = true;
		pthread_cond_broadcast(&s->reaper_cv);
		pthread_mutex_unlock(&s->conn_mu);
		pthread_join(s->reaper, NULL);
	}
	ob_conn_free_all(s);
	for (ob_req *rq = s->head, *next; rq != NULL; rq = next) {
		next = rq->next;
		free(rq);
	}
	for (ob_spare_call *sc = s->spare_calls, *next; sc != NULL; sc = next) {
		next = sc->next;
		ob_call_fini(&sc->call);
		free(sc);
	}
	if (s->tls != NULL)
		nng_tls_config_free(s->tls);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->conn_mu);
	pthread_mutex_destroy(&s->park_mu);
	pthread_mutex_destroy(&s->calls_mu);
	pthread_cond_destroy(&s->work_cv);
	pthread_cond_destroy(&s->idle_cv);
	pthread_cond_destroy(&s->reaper_cv);
	free(s->workers);
	free(s->listeners);
	free(s);
}
