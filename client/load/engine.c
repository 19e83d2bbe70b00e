/*
 * The lanes of a run (engine.h).
 *
 * A lane's life: lane_next() picks its next call (or ends the lane, or parks it with the
 * pacer in an open loop), begin() sends it, lane_cb() runs on nng's thread when the send and
 * then the receive complete, ended() records the outcome, and lane_next() again. Nothing here
 * blocks on the network: a lane holds a lock only to record into its stripe or to park.
 */
#include "engine.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <sodium.h>

#include "cli.h"
#include "errbuf.h"
#include "onboard/client.h"

enum {
	MAX_STRIPES = 64,        /* lanes share a stripe beyond this many */
	MAX_REPLY = 16 << 20,    /* as libonboard-client */
	RECONNECT_MIN_MS = 50,   /* as libonboard-client */
	RECONNECT_MAX_MS = 2000, /* as libonboard-client */
};

typedef struct stripe {
	pthread_mutex_t mu;
	ob_hist hist; /* latency of OK calls */
	uint64_t calls;
	uint64_t codes[OB_LOAD_N_CODES];
	int64_t last_us; /* when the last measured call ended */
} stripe;

typedef enum { L_IDLE, L_SEND, L_RECV } lane_state;

typedef struct lane {
	ob_load_engine *e;
	nng_ctx ctx;
	nng_aio *aio;
	lane_state state;
	/* the call in flight */
	ob_load_op op;
	uint64_t seq;
	int64_t due_us; /* when it was due: sent (closed loop) or scheduled (open loop) */
	bool measured;
	size_t sent;
	uint64_t rng;
	stripe *st;
} lane;

struct ob_load_engine {
	const ob_load_config *cfg;
	ob_load_requests *rq;
	nng_socket socks[OB_LOAD_MAX_SOCKETS];
	unsigned n_socks;
	char *tls_cert, *tls_key; /* PEM, read once for every dialer; the key wiped */
	uint64_t server_uid;
	atomic_uint_fast64_t refused_uid; /* an ipc peer refused, UINT64_MAX: none */
	lane *lanes;
	unsigned n_lanes;
	stripe stripes[MAX_STRIPES];
	unsigned n_stripes;
	unsigned weight_sum;
	/* the schedule */
	int64_t t0_us, measure_us, end_us;
	double interval_us;         /* open loop: between two calls */
	uint64_t warm_calls;        /* open loop: calls before measurement */
	uint64_t last_call;         /* open loop: the first call number not to make */
	atomic_uint_fast64_t next;  /* the next call number */
	atomic_uint_fast64_t begun; /* closed loop: measured calls begun */
	atomic_bool stop, cancelled;
	/* lanes still running, the parked lanes of an open loop, the pacer */
	pthread_mutex_t mu;
	pthread_cond_t done_cv, pacer_cv;
	unsigned active;
	lane **parked;
	unsigned n_parked;
	bool pacer_started, pacer_done, pacer_wants_lane;
	pthread_t pacer;
	/* the messages of failed calls */
	pthread_mutex_t err_mu;
	ob_load_result errs;
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- connections ----------------------------------------------------------------------- */

/*
 * NNG_PIPE_EV_ADD_PRE, on an nng thread, before a connection carries a call: an ipc peer
 * must run as the expected uid or root, as libonboard-client requires of its own
 * connections, or the run's token and requests would go to whoever took the socket's path.
 * tcp and tls+tcp have no peer uid (NNG_ENOTSUP) and pass.
 */
static void check_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)ev;
	ob_load_engine *e = arg;
	nng_sockaddr sa;
	bool ipc = nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0 &&
	           (sa.s_family == NNG_AF_IPC || sa.s_family == NNG_AF_ABSTRACT);
	uint64_t uid = UINT64_MAX;
	int rv = nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid);
	if ((rv == NNG_ENOTSUP && !ipc) || (rv == 0 && (uid == e->server_uid || uid == 0)))
		return;
	atomic_store(&e->refused_uid, uid);
	nng_pipe_close(p);
}

/* The TLS settings of a tls+tcp:// dialer, before it starts: a configuration of its own that
 * requires and verifies the server's certificate against --tls-ca, for --tls-server-name or
 * else the URL's host, and presents the client certificate when there is one. (Setting the
 * dialer's default configuration instead leaves it unfreed at close in nng 1.5.2.) */
static int dialer_tls(ob_load_engine *e, nng_dialer d, const char *url, char *err, size_t errlen)
{
	const ob_load_config *c = e->cfg;
	if (c->tls_ca == NULL) {
		ob_errbuf(err, errlen, "%s needs a CA file to verify the server (--tls-ca)", url);
		return -1;
	}
	nng_tls_config *cfg = NULL;
	nng_url *u = NULL;
	int rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
	if (rv == 0)
		rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
	if (rv == 0)
		rv = nng_tls_config_ca_file(cfg, c->tls_ca);
	if (rv == 0 && e->tls_cert != NULL)
		rv = nng_tls_config_own_cert(cfg, e->tls_cert, e->tls_key, NULL);
	if (rv == 0 && c->tls_server_name == NULL)
		rv = nng_url_parse(&u, url);
	if (rv == 0)
		rv = nng_tls_config_server_name(cfg,
		                                u != NULL ? u->u_hostname : c->tls_server_name);
	if (rv == 0)
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
	if (u != NULL)
		nng_url_free(u);
	if (cfg != NULL)
		nng_tls_config_free(cfg); /* the dialer holds a reference of its own */
	if (rv != 0)
		ob_errbuf(err, errlen, "TLS configuration for %s failed: %s", url,
		          nng_strerror(rv));
	return rv == 0 ? 0 : -1;
}

/* The client certificate and key, read once; 0 or -1 with a message. */
static int read_client_cert(ob_load_engine *e, char *err, size_t errlen)
{
	const ob_load_config *c = e->cfg;
	if (c->tls_cert == NULL)
		return 0;
	size_t n;
	e->tls_cert = cli_read_file(c->tls_cert, &n);
	e->tls_key = c->tls_key != NULL ? cli_read_file(c->tls_key, &n) : NULL;
	if (e->tls_cert == NULL || e->tls_key == NULL) {
		ob_errbuf(err, errlen,
		          "cannot read the client certificate or key file (--tls-cert, "
		          "--tls-key)");
		return -1;
	}
	return 0;
}

/* Socket i, connected to every server; 0 or -1 with a message. */
static int open_socket(ob_load_engine *e, nng_socket *s, char *err, size_t errlen)
{
	const ob_load_config *c = e->cfg;
	int rv = nng_req0_open(s);
	if (rv != 0) {
		ob_errbuf(err, errlen, "cannot open a socket: %s", nng_strerror(rv));
		return -1;
	}
	/* Before any dialer: no connection escapes the check. */
	if ((rv = nng_pipe_notify(*s, NNG_PIPE_EV_ADD_PRE, check_pipe, e)) != 0) {
		ob_errbuf(err, errlen, "cannot watch connections: %s", nng_strerror(rv));
		return -1;
	}
	size_t max_reply = c->weights[OB_LOAD_ECHO] > 0 ? c->echo_bytes + 1024 : MAX_REPLY;
	nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, max_reply);
	/* No timed resend: a resent submit would be a second call (and its latency would
	 * hide); the timeout bounds a call instead. */
	nng_socket_set_ms(*s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(*s, NNG_OPT_RECONNMINT, RECONNECT_MIN_MS);
	nng_socket_set_ms(*s, NNG_OPT_RECONNMAXT, RECONNECT_MAX_MS);
	for (size_t i = 0; i < c->n_servers; i++) {
		const char *url = c->servers[i];
		nng_dialer d;
		if ((rv = nng_dialer_create(&d, *s, url)) != 0) {
			ob_errbuf(err, errlen, "bad server URL %s: %s", url, nng_strerror(rv));
			return -1;
		}
		if (strncmp(url, "tls+tcp://", 10) == 0 && dialer_tls(e, d, url, err, errlen) != 0)
			return -1;
		if (strncmp(url, "ipc://", 6) != 0 && strncmp(url, "abstract://", 11) != 0)
			nng_dialer_set_bool(d, NNG_OPT_TCP_NODELAY, true);
		/* A blocking start: a missing server is said now, not as timeouts. It returns
		 * after check_pipe has seen the connection. */
		if ((rv = nng_dialer_start(d, 0)) != 0) {
			ob_errbuf(err, errlen, "cannot connect to %s: %s", url, nng_strerror(rv));
			return -1;
		}
		uint64_t uid = atomic_load(&e->refused_uid);
		if (uid != UINT64_MAX) {
			ob_errbuf(err, errlen,
			          "the server socket at %s is served by uid %" PRIu64
			          ", expected %" PRIu64 "%s",
			          url, uid, e->server_uid, e->server_uid != 0 ? " (or root)" : "");
			return -1;
		}
	}
	return 0;
}

/* ---- recording ------------------------------------------------------------------------- */

/* How a call that got no reply ended, from nng's error. */
static void failure(ob_load_verdict *v, int rv, int64_t timeout_ms)
{
	v->local = true;
	v->code = OB_CODE_UNAVAILABLE;
	if (rv == NNG_ETIMEDOUT) {
		v->code = OB_CODE_DEADLINE_EXCEEDED;
		snprintf(v->message, sizeof(v->message), "no reply within %lld ms",
		         (long long)timeout_ms);
	} else if (rv == NNG_EPEERAUTH || rv == NNG_ECRYPTO) {
		snprintf(v->message, sizeof(v->message),
		         "the TLS handshake failed: check --tls-ca and --tls-server-name");
	} else if (rv == NNG_ENOMEM) {
		v->code = OB_CODE_RESOURCE_EXHAUSTED;
		snprintf(v->message, sizeof(v->message), "out of memory");
	} else {
		snprintf(v->message, sizeof(v->message), "the call failed: %s", nng_strerror(rv));
	}
}

static void record(lane *l, const ob_load_verdict *v, int64_t end)
{
	ob_load_engine *e = l->e;
	if (!l->measured)
		return;
	stripe *s = l->st;
	pthread_mutex_lock(&s->mu);
	s->calls++;
	s->codes[v->code]++;
	if (v->code == OB_CODE_OK)
		ob_hist_record(&s->hist, end - l->due_us);
	if (end > s->last_us)
		s->last_us = end;
	pthread_mutex_unlock(&s->mu);
	if (v->code != OB_CODE_OK) {
		pthread_mutex_lock(&e->err_mu);
		ob_load_errors_add(&e->errs, v->code, v->local, v->message, strlen(v->message));
		pthread_mutex_unlock(&e->err_mu);
	}
}

/* ---- a lane's calls -------------------------------------------------------------------- */

static void lane_next(lane *l);

static void lane_finish(lane *l)
{
	ob_load_engine *e = l->e;
	l->state = L_IDLE;
	pthread_mutex_lock(&e->mu);
	if (--e->active == 0) {
		pthread_cond_broadcast(&e->done_cv);
		pthread_cond_broadcast(
		        &e->pacer_cv); /* a pacer waiting for a lane: none will come */
	}
	pthread_mutex_unlock(&e->mu);
}

static ob_load_op pick(lane *l)
{
	const ob_load_config *c = l->e->cfg;
	unsigned r = (unsigned)(ob_load_rand(&l->rng) % l->e->weight_sum);
	for (int op = 0; op < OB_LOAD_N_OPS; op++) {
		if (r < c->weights[op])
			return (ob_load_op)op;
		r -= c->weights[op];
	}
	return OB_LOAD_GET; /* defensive: the weights sum to weight_sum */
}

/* Sends call seq, due at due; false when its request could not be made (which counts as a
 * failed call), and the lane should go on to the next. */
static bool begin(lane *l, uint64_t seq, int64_t due, bool measured)
{
	ob_load_engine *e = l->e;
	l->op = pick(l);
	l->seq = seq;
	l->due_us = due;
	l->measured = measured;
	nng_msg *m;
	ob_load_verdict v = {.code = OB_CODE_INTERNAL, .local = true};
	if (ob_load_request_make(e->rq, l->op, seq, &l->rng, &m, v.message, sizeof(v.message)) !=
	    0) {
		record(l, &v, now_us());
		return false;
	}
	l->sent = nng_msg_len(m);
	l->state = L_SEND;
	nng_aio_set_msg(l->aio, m);
	nng_aio_set_timeout(l->aio, (nng_duration)e->cfg->timeout_ms);
	nng_ctx_send(l->ctx, l->aio);
	return true;
}

/* Parks l with the pacer until a call is due; false when the pacer has ended. */
static bool park(lane *l)
{
	ob_load_engine *e = l->e;
	pthread_mutex_lock(&e->mu);
	bool ok = !e->pacer_done;
	if (ok) {
		e->parked[e->n_parked++] = l;
		if (e->pacer_wants_lane)
			pthread_cond_signal(&e->pacer_cv);
	}
	pthread_mutex_unlock(&e->mu);
	return ok;
}

static int64_t due_of(const ob_load_engine *e, uint64_t i)
{
	return e->t0_us + (int64_t)llround((double)i * e->interval_us);
}

/* Open loop: whether call i is past the run's end. */
static bool past_end(const ob_load_engine *e, uint64_t i)
{
	return i >= e->last_call || due_of(e, i) >= e->end_us;
}

static void lane_next_open(lane *l)
{
	ob_load_engine *e = l->e;
	for (;;) {
		if (atomic_load_explicit(&e->stop, memory_order_relaxed))
			break;
		uint_fast64_t i = atomic_load(&e->next);
		if (past_end(e, i))
			break;
		int64_t due = due_of(e, i);
		if (due > now_us()) {
			if (park(l))
				return;
			break;
		}
		if (!atomic_compare_exchange_weak(&e->next, &i, i + 1))
			continue;
		if (begin(l, i, due, i >= e->warm_calls))
			return;
	}
	lane_finish(l);
}

static void lane_next(lane *l)
{
	ob_load_engine *e = l->e;
	const ob_load_config *c = e->cfg;
	if (c->rate > 0) {
		lane_next_open(l);
		return;
	}
	for (;;) {
		if (atomic_load_explicit(&e->stop, memory_order_relaxed))
			break;
		int64_t now = now_us();
		if (now >= e->end_us)
			break;
		bool measured = now >= e->measure_us;
		if (measured && c->total > 0 && atomic_fetch_add(&e->begun, 1) >= c->total)
			break;
		if (begin(l, atomic_fetch_add(&e->next, 1), now, measured))
			return;
	}
	lane_finish(l);
}

/* The aio's callback, on an nng thread: the send or the receive of l's call completed. */
static void lane_cb(void *arg)
{
	lane *l = arg;
	ob_load_engine *e = l->e;
	int rv = nng_aio_result(l->aio);
	if (l->state == L_SEND && rv == 0) {
		l->state = L_RECV;
		nng_ctx_recv(l->ctx, l->aio);
		return;
	}
	if (l->state == L_SEND) /* a failed send leaves the message with us */
		nng_msg_free(nng_aio_get_msg(l->aio));
	int64_t end = now_us();
	nng_msg *reply = rv == 0 ? nng_aio_get_msg(l->aio) : NULL;
	l->state = L_IDLE;
	/* A call cancelled by an interrupt is not the server's doing: not counted. */
	if (!(rv == NNG_ECANCELED && atomic_load(&e->cancelled))) {
		ob_load_verdict v;
		if (reply != NULL)
			ob_load_reply_read(e->rq, l->op, reply, l->sent, &v);
		else
			failure(&v, rv, e->cfg->timeout_ms);
		record(l, &v, end);
	}
	if (reply != NULL)
		nng_msg_free(reply);
	lane_next(l);
}

/* ---- the pacer (open loop) ------------------------------------------------------------- */

static void deadline(struct timespec *ts, int64_t us)
{
	ts->tv_sec = us / 1000000;
	ts->tv_nsec = (long)(us % 1000000) * 1000;
}

/* Hands each call, when it is due, to a parked lane; lanes that are free when a call is due
 * take it themselves (lane_next_open), so the pacer only wakes while the lanes wait. */
static void *pacer_main(void *arg)
{
	ob_load_engine *e = arg;
	/* Wake on time, not up to 50 us late: latency counts from the due time. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	pthread_mutex_lock(&e->mu);
	while (!atomic_load(&e->stop) && e->active > 0) {
		uint_fast64_t i = atomic_load(&e->next);
		if (past_end(e, i))
			break;
		if (e->n_parked == 0) {
			e->pacer_wants_lane = true;
			pthread_cond_wait(&e->pacer_cv, &e->mu);
			e->pacer_wants_lane = false;
			continue;
		}
		int64_t due = due_of(e, i);
		if (due > now_us()) {
			struct timespec ts;
			deadline(&ts, due);
			pthread_cond_timedwait(&e->pacer_cv, &e->mu, &ts);
			continue;
		}
		lane *l = e->parked[--e->n_parked];
		pthread_mutex_unlock(&e->mu);
		if (!atomic_compare_exchange_strong(&e->next, &i, i + 1) ||
		    !begin(l, i, due, i >= e->warm_calls))
			lane_next(l); /* taken by a lane meanwhile, or not made: the next one */
		pthread_mutex_lock(&e->mu);
	}
	e->pacer_done = true;
	unsigned n = e->n_parked;
	e->n_parked = 0;
	pthread_mutex_unlock(&e->mu);
	for (unsigned k = 0; k < n; k++)
		lane_finish(e->parked[k]);
	return NULL;
}

/* ---- the engine ------------------------------------------------------------------------ */

int ob_load_engine_create(ob_load_engine **out, const ob_load_config *cfg, ob_load_requests *rq,
                          char *err, size_t errlen)
{
	*out = NULL;
	ob_load_engine *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		ob_errbuf(err, errlen, "out of memory");
		return -1;
	}
	e->cfg = cfg;
	e->rq = rq;
	e->server_uid = cfg->server_uid_set ? cfg->server_uid : (uint64_t)geteuid();
	atomic_init(&e->refused_uid, UINT64_MAX);
	atomic_init(&e->next, 0);
	atomic_init(&e->begun, 0);
	atomic_init(&e->stop, false);
	atomic_init(&e->cancelled, false);
	pthread_mutex_init(&e->mu, NULL);
	pthread_mutex_init(&e->err_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->done_cv, &ca);
	pthread_cond_init(&e->pacer_cv, &ca);
	pthread_condattr_destroy(&ca);
	ob_load_result_init(&e->errs, cfg);
	for (int op = 0; op < OB_LOAD_N_OPS; op++)
		e->weight_sum += cfg->weights[op];
	e->n_stripes = cfg->concurrency < MAX_STRIPES ? cfg->concurrency : MAX_STRIPES;
	for (unsigned i = 0; i < e->n_stripes; i++) {
		pthread_mutex_init(&e->stripes[i].mu, NULL);
		ob_hist_init(&e->stripes[i].hist);
	}
	*out = e; /* from here, destroy undoes what was made */
	e->lanes = calloc(cfg->concurrency, sizeof(*e->lanes));
	e->parked = calloc(cfg->concurrency, sizeof(*e->parked));
	if (e->lanes == NULL || e->parked == NULL) {
		ob_errbuf(err, errlen, "out of memory");
		goto fail;
	}
	if (read_client_cert(e, err, errlen) != 0)
		goto fail;
	for (; e->n_socks < cfg->connections; e->n_socks++)
		if (open_socket(e, &e->socks[e->n_socks], err, errlen) != 0) {
			e->n_socks++; /* opened, or not: nng_close of a socket never opened is
			                 harmless */
			goto fail;
		}
	for (; e->n_lanes < cfg->concurrency; e->n_lanes++) {
		lane *l = &e->lanes[e->n_lanes];
		l->e = e;
		l->st = &e->stripes[e->n_lanes % e->n_stripes];
		randombytes_buf(&l->rng, sizeof(l->rng));
		l->rng |= 1; /* xorshift never leaves 0 */
		int rv = nng_ctx_open(&l->ctx, e->socks[e->n_lanes % e->n_socks]);
		if (rv == 0 && (rv = nng_aio_alloc(&l->aio, lane_cb, l)) != 0)
			nng_ctx_close(l->ctx);
		if (rv != 0) {
			ob_errbuf(err, errlen, "cannot make %u lanes: %s", cfg->concurrency,
			          nng_strerror(rv));
			goto fail;
		}
		nng_ctx_set_ms(l->ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	}
	return 0;
fail:
	ob_load_engine_destroy(e);
	*out = NULL;
	return -1;
}

void ob_load_engine_start(ob_load_engine *e)
{
	const ob_load_config *c = e->cfg;
	e->t0_us = now_us();
	e->measure_us = e->t0_us + c->warmup_ms * 1000;
	e->end_us = c->duration_ms > 0 ? e->measure_us + c->duration_ms * 1000 : INT64_MAX;
	e->last_call = UINT64_MAX;
	if (c->rate > 0) {
		e->interval_us = 1e6 / (double)c->rate;
		e->warm_calls = (uint64_t)ceil((double)c->warmup_ms * 1000.0 / e->interval_us);
		if (c->total > 0)
			e->last_call = e->warm_calls + c->total;
	}
	e->active = e->n_lanes;
	if (c->rate > 0 && pthread_create(&e->pacer, NULL, pacer_main, e) == 0)
		e->pacer_started = true;
	else if (c->rate > 0)
		e->pacer_done = true; /* no pacer: lanes take due calls themselves, and end */
	for (unsigned i = 0; i < e->n_lanes; i++)
		lane_next(&e->lanes[i]);
}

bool ob_load_engine_wait(ob_load_engine *e, int64_t ms)
{
	struct timespec ts;
	deadline(&ts, now_us() + ms * 1000);
	pthread_mutex_lock(&e->mu);
	while (e->active > 0 && pthread_cond_timedwait(&e->done_cv, &e->mu, &ts) == 0)
		;
	bool done = e->active == 0;
	pthread_mutex_unlock(&e->mu);
	if (!done && atomic_load(&e->cancelled)) /* a call begun as the stop came */
		for (unsigned i = 0; i < e->n_lanes; i++)
			nng_aio_cancel(e->lanes[i].aio);
	return done;
}

void ob_load_engine_stop(ob_load_engine *e)
{
	atomic_store(&e->cancelled, true);
	atomic_store(&e->stop, true);
	pthread_mutex_lock(&e->mu);
	pthread_cond_broadcast(&e->pacer_cv);
	pthread_mutex_unlock(&e->mu);
	for (unsigned i = 0; i < e->n_lanes; i++)
		nng_aio_cancel(e->lanes[i].aio);
}

void ob_load_engine_progress(ob_load_engine *e, ob_load_progress *p)
{
	*p = (ob_load_progress){.seconds = (double)(now_us() - e->measure_us) / 1e6};
	for (unsigned i = 0; i < e->n_stripes; i++) {
		stripe *s = &e->stripes[i];
		pthread_mutex_lock(&s->mu);
		p->calls += s->calls;
		p->ok += s->codes[OB_CODE_OK];
		pthread_mutex_unlock(&s->mu);
	}
}

void ob_load_engine_result(ob_load_engine *e, ob_load_result *r)
{
	int64_t last = e->measure_us;
	for (unsigned i = 0; i < e->n_stripes; i++) {
		stripe *s = &e->stripes[i];
		pthread_mutex_lock(&s->mu);
		ob_hist_merge(&r->hist, &s->hist);
		r->calls += s->calls;
		for (int k = 0; k < OB_LOAD_N_CODES; k++)
			r->codes[k] += s->codes[k];
		if (s->last_us > last)
			last = s->last_us;
		pthread_mutex_unlock(&s->mu);
	}
	r->seconds = (double)(last - e->measure_us) / 1e6;
	r->interrupted = atomic_load(&e->cancelled);
	pthread_mutex_lock(&e->err_mu);
	memcpy(r->errors, e->errs.errors, sizeof(r->errors));
	r->n_errors = e->errs.n_errors;
	r->unlisted = e->errs.unlisted;
	pthread_mutex_unlock(&e->err_mu);
}

void ob_load_engine_destroy(ob_load_engine *e)
{
	if (e == NULL)
		return;
	if (e->pacer_started) {
		/* Ended, or never begun: either way the pacer has nothing left to hand out. */
		atomic_store(&e->stop, true);
		pthread_mutex_lock(&e->mu);
		pthread_cond_broadcast(&e->pacer_cv);
		pthread_mutex_unlock(&e->mu);
		pthread_join(e->pacer, NULL);
	}
	/*
	 * The lanes' callbacks before the sockets. A run that has ended has no call in flight,
	 * but a lane's callback may still be on its way out of nng: a lane ends (lane_finish)
	 * on one thread while the callback that started its last receive is still inside
	 * nng_ctx_recv() on another, holding a reference on the lane's context. nng 1.5.2 lets
	 * nng_close() go on as soon as that reference is dropped, before the context is torn
	 * down (nni_ctx_rele wakes the closer, then nni_ctx_destroy locks the socket's mutex):
	 * the socket was freed under it and nng panicked ("pthread_mutex_lock: Invalid
	 * argument", SIGABRT), seldom, after a ^C on a loaded machine. nng_aio_stop() waits
	 * for the aio's callback to return, and no operation starts on the aio afterwards.
	 */
	for (unsigned i = 0; i < e->n_lanes; i++)
		nng_aio_stop(e->lanes[i].aio);
	for (unsigned i = 0; i < e->n_socks; i++)
		nng_close(e->socks[i]);
	for (unsigned i = 0; i < e->n_lanes; i++)
		nng_aio_free(e->lanes[i].aio);
	for (unsigned i = 0; i < e->n_stripes; i++)
		pthread_mutex_destroy(&e->stripes[i].mu);
	free(e->lanes);
	free(e->parked);
	free(e->tls_cert);
	if (e->tls_key != NULL) {
		sodium_memzero(e->tls_key, strlen(e->tls_key));
		free(e->tls_key);
	}
	pthread_cond_destroy(&e->done_cv);
	pthread_cond_destroy(&e->pacer_cv);
	pthread_mutex_destroy(&e->mu);
	pthread_mutex_destroy(&e->err_mu);
	free(e);
}
