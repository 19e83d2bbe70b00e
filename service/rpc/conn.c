/*
 * conn.c: one connection from accept to free: admission (caps, the reserve
 * for the local administrator), the SP hello, frames in and replies out,
 * back-pressure, and the reaper that closes idle or stalled connections and
 * frees dead ones. server_impl.h says why onboardd speaks SP itself and how
 * a connection's references work.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "rpc/metrics.h"
#include "rpc/server_impl.h"

/* nng's SP hello: "\0SP\0", the sender's protocol (REQ0 = 0x30, REP0 =
 * 0x31), two reserved bytes. */
static const uint8_t hello_req[OB_SP_HELLO_LEN] = {0, 'S', 'P', 0, 0x00, 0x30, 0, 0};
static const uint8_t hello_rep[OB_SP_HELLO_LEN] = {0, 'S', 'P', 0, 0x00, 0x31, 0, 0};

typedef struct {
	ob_req *head, *tail;
	unsigned n;
} req_list;

static int64_t now_ms(void)
{
	return ob_clock_mono_us() / 1000;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* ---- references ------------------------------------------------------ */

/* The last reference is gone: hand c to the reaper, which frees it. */
static void bury(ob_conn *c)
{
	ob_server *s = c->srv;
	pthread_mutex_lock(&s->conn_mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = s->zombies;
	s->zombies = c;
	pthread_cond_signal(&s->reaper_cv);
	pthread_mutex_unlock(&s->conn_mu);
}

/* Drops one reference and c->mu (held on entry). */
static void unlock_release(ob_conn *c)
{
	bool dead = --c->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (dead)
		bury(c);
}

/* Closes c once: pending aios end with NNG_ECLOSED, queued replies are
 * dropped, and the open reference goes. c->mu held. */
static void close_locked(ob_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	atomic_store(&c->gone, true);
	c->refs--; /* the open reference; the caller holds another */
	nng_stream_close(c->st);
	while (c->txq != NULL) {
		ob_reply *r = c->txq;
		c->txq = r->next;
		free(r);
	}
	c->txq_tail = NULL;
	c->txq_bytes = 0;
	free(c->skipping);
	c->skipping = NULL;
}

/* ---- back-pressure ---------------------------------------------------- */

/* Puts c in the server's park until requests in flight drop below the cap.
 * Returns false when they already have (then c is not parked). c->mu held. */
static bool park(ob_conn *c)
{
	ob_server *s = c->srv;
	if (c->parked)
		return true;
	pthread_mutex_lock(&s->park_mu);
	c->park_next = NULL;
	if (s->park_tail != NULL)
		s->park_tail->park_next = c;
	else
		s->park_head = c;
	s->park_tail = c;
	atomic_fetch_add(&s->n_parked, 1);
	c->parked = true;
	c->refs++;
	/* A reply that finished between our look at inflight and the line above
	 * saw no one parked: look again, or c could wait for good. */
	bool still_full = atomic_load(&s->inflight) >= s->cfg.contexts;
	pthread_mutex_unlock(&s->park_mu);
	return still_full;
}

/* Whether c may take one more request now; when not, it stops reading until
 * a reply (its own, or anyone's for the global cap) makes room. c->mu held. */
static bool may_take(ob_conn *c)
{
	if (c->outstanding >= OB_CONN_MAX_INFLIGHT || c->txq_bytes >= OB_CONN_TXQ_MAX) {
		c->rx_parked = true;
		return false;
	}
	if (atomic_load(&c->srv->inflight) >= c->srv->cfg.contexts && park(c)) {
		c->rx_parked = true;
		return false;
	}
	return true;
}

/* ---- receiving ------------------------------------------------------- */

static void emit(ob_conn *c, ob_req *rq, req_list *out)
{
	rq->conn = c;
	rq->next = NULL;
	rq->arrived_us = ob_clock_mono_us();
	c->refs++;
	c->outstanding++;
	atomic_fetch_add(&c->srv->inflight, 1);
	if (out->tail != NULL)
		out->tail->next = rq;
	else
		out->head = rq;
	out->tail = rq;
	out->n++;
}

/* The length of the REQ backtrace at the start of a frame's body: 4-byte
 * hops up to the first with its high bit set (the request id). 0 when more
 * bytes are needed, -1 when the frame cannot hold one. */
static long backtrace_len(const uint8_t *p, size_t avail, uint64_t frame_len)
{
	for (size_t hops = 1; hops <= OB_SP_MAX_HOPS; hops++) {
		size_t end = hops * 4;
		if (end > frame_len)
			return -1;
		if (end > avail)
			return 0;
		if (p[end - 4] & 0x80)
			return (long)end;
	}
	return -1;
}

static ob_req *req_new(const uint8_t *buf, size_t hdr_len, uint64_t frame_len, size_t copy)
{
	ob_req *rq = malloc(sizeof(*rq) + copy);
	if (rq == NULL)
		return NULL;
	memset(rq, 0, sizeof(*rq));
	rq->hdr_len = hdr_len;
	rq->frame_len = frame_len;
	memcpy(rq->buf, buf, copy);
	return rq;
}

/* Cuts every complete frame out of the receive buffer from *pos on, as far as the caps
 * allow, moving *pos past them; a frame over the size cap is read past (c->skip) and
 * answered. Returns NULL, or why c must be closed. c->mu held. */
static const char *cut_frames(ob_conn *c, size_t *pos, bool *progress, req_list *out)
{
	ob_server *s = c->srv;
	for (;;) {
		if (c->skip > 0) {
			size_t k = c->rlen - *pos;
			if (k > c->skip)
				k = (size_t)c->skip;
			*pos += k;
			c->skip -= k;
			if (c->skip > 0)
				return NULL;
			emit(c, c->skipping, out);
			c->skipping = NULL;
			*progress = true;
			continue;
		}
		size_t avail = c->rlen - *pos;
		if (avail < c->flen || !may_take(c))
			return NULL;
		if (c->flen == 9 && c->rbuf[*pos] != 1)
			return "an ipc frame of an unknown type";
		uint64_t len = get_be64(c->rbuf + *pos + c->flen - 8);
		const uint8_t *body = c->rbuf + *pos + c->flen;
		long h = backtrace_len(body, avail - c->flen, len);
		if (h < 0)
			return "a frame without a request id";
		if (h == 0)
			return NULL;
		uint64_t payload = len - (uint64_t)h;
		if (payload > s->cfg.max_request_bytes) {
			/* Over the cap: answered RESOURCE_EXHAUSTED after the rest is read
			 * past, up to a transport cap beyond which the connection goes. */
			if (payload > 4 * (uint64_t)s->cfg.max_request_bytes + 4096)
				return "a frame far over the size limit";
			if ((c->skipping = req_new(body, (size_t)h, len, (size_t)h)) == NULL)
				return "no memory";
			c->skipping->oversize = true;
			c->skip = payload;
			*pos += c->flen + (size_t)h;
			continue;
		}
		if (avail - c->flen < len)
			return NULL;
		ob_req *rq = req_new(body, (size_t)h, len, (size_t)len);
		if (rq == NULL)
			return "no memory";
		emit(c, rq, out);
		*pos += c->flen + (size_t)len;
		*progress = true;
	}
}

/* Drops the pos bytes consumed from the receive buffer, runs the stall clock, and sizes the
 * buffer for the frame at its head. Returns NULL, or why c must be closed. c->mu held. */
static const char *keep_rest(ob_conn *c, size_t pos, bool progress)
{
	ob_server *s = c->srv;
	if (pos > 0) {
		memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
		c->rlen -= pos;
	}
	/* The stall clock runs while a frame is incomplete and nothing completes. */
	if (c->rlen == 0 && c->skip == 0)
		c->frame_started_ms = 0;
	else if (progress || c->frame_started_ms == 0)
		c->frame_started_ms = now_ms();
	/* Room for the frame at the head of the buffer; back to the small
	 * buffer once empty, so that idle connections stay cheap. */
	size_t need = OB_CONN_RBUF;
	if (c->negotiated && c->skip == 0 && c->rlen >= c->flen) {
		uint64_t len = get_be64(c->rbuf + c->flen - 8);
		if (len <= s->cfg.max_request_bytes + 4 * OB_SP_MAX_HOPS && c->flen + len > need)
			need = c->flen + (size_t)len;
	}
	if (need > c->rcap || (need < c->rcap && c->rlen <= need)) {
		uint8_t *nb = realloc(c->rbuf, need);
		if (nb == NULL)
			return "no memory";
		c->rbuf = nb;
		c->rcap = need;
	}
	return NULL;
}

/* Takes the SP hello, then every complete frame, out of the receive buffer and keeps the
 * rest. Returns false when c was closed (a protocol error, a frame too large to read past,
 * no memory). c->mu held. */
static bool parse_locked(ob_conn *c, req_list *out)
{
	size_t pos = 0;
	bool progress = false;
	const char *why = NULL;
	if (!c->negotiated && c->rlen >= OB_SP_HELLO_LEN) {
		if (memcmp(c->rbuf, hello_req, OB_SP_HELLO_LEN) != 0) {
			why = "not an SP REQ peer";
		} else {
			c->negotiated = true;
			pos = OB_SP_HELLO_LEN;
			progress = true;
		}
	}
	if (why == NULL && c->negotiated)
		why = cut_frames(c, &pos, &progress, out);
	if (why == NULL)
		why = keep_rest(c, pos, progress);
	if (why == NULL)
		return true;
	ob_log(OB_LOG_INFO, "closed a connection from %s: %s", c->peer, why);
	close_locked(c);
	return false;
}

static void rx_start_locked(ob_conn *c)
{
	if (c->closing || c->rx_pending || c->rx_parked)
		return;
	if (c->negotiated && c->skip == 0 && !may_take(c))
		return;
	if (c->rlen == c->rcap) {
		/* parse_locked() sized the buffer for the frame at its head, so a full
		 * buffer means a frame we will not read: defensive. */
		close_locked(c);
		return;
	}
	nng_iov iov = {.iov_buf = c->rbuf + c->rlen, .iov_len = c->rcap - c->rlen};
	nng_aio_set_iov(c->rx_aio, 1, &iov);
	c->rx_pending = true;
	c->refs++;
	nng_stream_recv(c->st, c->rx_aio);
}

/* Parses what is buffered and reads on: after the caps made room. */
static void resume_locked(ob_conn *c, req_list *out)
{
	if (c->closing || !c->rx_parked)
		return;
	c->rx_parked = false;
	if (parse_locked(c, out))
		rx_start_locked(c);
}

static void rx_cb(void *arg)
{
	ob_conn *c = arg;
	int rv = nng_aio_result(c->rx_aio);
	size_t n = nng_aio_count(c->rx_aio);
	req_list out = {0};
	pthread_mutex_lock(&c->mu);
	c->rx_pending = false;
	if (rv != 0 || n == 0) {
		close_locked(c); /* the peer hung up, or the stream was closed */
	} else {
		c->rlen += n;
		atomic_store(&c->last_active_ms, now_ms());
		if (parse_locked(c, &out))
			rx_start_locked(c);
	}
	unlock_release(c); /* the receive's reference; the requests hold theirs */
	if (out.n > 0)
		ob_server_take(c->srv, out.head, out.n);
}

/* ---- sending --------------------------------------------------------- */

/* Replies queued behind the one to send go out with it, copied into one
 * buffer of at most this many bytes: a client that pipelines, or a load
 * generator with many calls in flight on one connection, then costs one send
 * and one completion for a run of replies instead of one for each. */
enum { TX_GATHER_MAX = 64 * 1024 };

/* The bytes to send next: the rest of a gathered buffer a send left
 * unfinished; else the head reply's rest, or the rests of the replies from
 * the head on, gathered into c->txbuf while they fit. c->mu held. */
static nng_iov tx_next(ob_conn *c)
{
	if (c->txbuf != NULL)
		return (nng_iov){.iov_buf = c->txbuf + c->txbuf_off,
		                 .iov_len = c->txbuf_len - c->txbuf_off};
	ob_reply *r = c->txq;
	nng_iov iov = {.iov_buf = r->data + r->off, .iov_len = r->len - r->off};
	if (r->next == NULL || iov.iov_len >= TX_GATHER_MAX)
		return iov;
	size_t total = 0;
	for (const ob_reply *q = r; q != NULL && total + (q->len - q->off) <= TX_GATHER_MAX;
	     q = q->next)
		total += q->len - q->off;
	if (total == iov.iov_len || (c->txbuf = malloc(total)) == NULL)
		return iov; /* nothing to gather, or no memory: one reply at a time */
	size_t at = 0;
	for (const ob_reply *q = r; at < total; q = q->next) {
		memcpy(c->txbuf + at, q->data + q->off, q->len - q->off);
		at += q->len - q->off;
	}
	c->txbuf_len = total;
	c->txbuf_off = 0;
	return (nng_iov){.iov_buf = c->txbuf, .iov_len = total};
}

static void tx_start_locked(ob_conn *c)
{
	if (c->closing || c->tx_pending || c->corked > 0 || c->txq == NULL)
		return;
	nng_iov iov = tx_next(c);
	nng_aio_set_iov(c->tx_aio, 1, &iov);
	c->tx_pending = true;
	c->tx_started_ms = now_ms();
	c->refs++;
	nng_stream_send(c->st, c->tx_aio);
}

/* Takes n sent bytes off the head of the queue, freeing the replies they
 * finish. c->mu held. */
static void tx_consume(ob_conn *c, size_t n)
{
	while (c->txq != NULL) {
		ob_reply *r = c->txq;
		size_t k = r->len - r->off < n ? r->len - r->off : n;
		r->off += k;
		n -= k;
		c->txq_bytes -= k;
		if (r->off < r->len)
			return;
		if ((c->txq = r->next) == NULL)
			c->txq_tail = NULL;
		free(r);
		atomic_store(&c->last_active_ms, now_ms());
	}
}

static void tx_cb(void *arg)
{
	ob_conn *c = arg;
	int rv = nng_aio_result(c->tx_aio);
	size_t n = nng_aio_count(c->tx_aio);
	ob_server *s = c->srv;
	req_list out = {0};
	pthread_mutex_lock(&c->mu);
	c->tx_pending = false;
	if (rv != 0) {
		close_locked(c);
	} else {
		tx_consume(c, n);
		/* A gathered buffer holds the rests of the replies it was made of,
		 * which tx_consume() advanced alike: send on from where it stopped. */
		if (c->txbuf != NULL && (c->txbuf_off += n) >= c->txbuf_len) {
			free(c->txbuf);
			c->txbuf = NULL;
		}
		tx_start_locked(c);
		/* Reading stopped at OB_CONN_TXQ_MAX may go on now (may_take looks
		 * at every cap again). */
		if (c->txq_bytes < OB_CONN_TXQ_MAX && !c->parked)
			resume_locked(c, &out);
	}
	unlock_release(c); /* the requests in out hold references of their own */
	if (out.n > 0)
		ob_server_enqueue(s, out.head, out.n);
}

void ob_conn_cork(ob_conn *c)
{
	pthread_mutex_lock(&c->mu);
	c->corked++;
	c->refs++;
	pthread_mutex_unlock(&c->mu);
}

void ob_conn_uncork(ob_conn *c)
{
	pthread_mutex_lock(&c->mu);
	c->corked--;
	tx_start_locked(c);
	unlock_release(c);
}

static void txq_append(ob_conn *c, ob_reply *r)
{
	c->txq_bytes += r->len - r->off;
	r->next = NULL;
	if (c->txq_tail != NULL)
		c->txq_tail->next = r;
	else
		c->txq = r;
	c->txq_tail = r;
}

/* ---- admission ------------------------------------------------------- */

bool ob_peer_key(const nng_sockaddr *sa, uint8_t key[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
	memset(key, 0, 16);
	if (sa->s_family == NNG_AF_INET) {
		memcpy(key, mapped, 12);
		memcpy(key + 12, &sa->s_in.sa_addr, 4);
		return true;
	}
	if (sa->s_family != NNG_AF_INET6)
		return false;
	memcpy(key, sa->s_in6.sa_addr, 16);
	/* One host is given a whole /64 and can use every address in it: count
	 * it as one peer. A v4-mapped address is one IPv4 host. */
	if (memcmp(key, mapped, 12) != 0)
		memset(key + 8, 0, 8);
	return true;
}

/* The peer for the log ("127.0.0.1:5123", "ipc:pid=42"), its host for
 * per-address limits ("ipc:uid=N" on the ipc socket), its uid, and its
 * address as the per-peer key. */
static void describe_peer(ob_conn *c)
{
	nng_sockaddr sa;
	c->uid = -1;
	snprintf(c->peer, sizeof(c->peer), "-");
	snprintf(c->host, sizeof(c->host), "-");
	if (nng_stream_get_addr(c->st, NNG_OPT_REMADDR, &sa) != 0)
		return;
	char ip[INET6_ADDRSTRLEN];
	switch (sa.s_family) {
	case NNG_AF_INET:
		inet_ntop(AF_INET, &sa.s_in.sa_addr, ip, sizeof(ip));
		snprintf(c->peer, sizeof(c->peer), "%s:%u", ip, ntohs(sa.s_in.sa_port));
		snprintf(c->host, sizeof(c->host), "%s", ip);
		c->is_ip = ob_peer_key(&sa, c->addr);
		break;
	case NNG_AF_INET6:
		inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof(ip));
		snprintf(c->peer, sizeof(c->peer), "[%s]:%u", ip, ntohs(sa.s_in6.sa_port));
		snprintf(c->host, sizeof(c->host), "%s", ip);
		c->is_ip = ob_peer_key(&sa, c->addr);
		break;
	case NNG_AF_IPC: {
		uint64_t u = 0, pid = 0;
		if (nng_stream_get_uint64(c->st, NNG_OPT_IPC_PEER_UID, &u) == 0)
			c->uid = (int64_t)u;
		if (nng_stream_get_uint64(c->st, NNG_OPT_IPC_PEER_PID, &pid) == 0)
			snprintf(c->peer, sizeof(c->peer), "ipc:pid=%llu", (unsigned long long)pid);
		else
			snprintf(c->peer, sizeof(c->peer), "ipc");
		if (c->uid >= 0)
			snprintf(c->host, sizeof(c->host), "ipc:uid=%lld", (long long)c->uid);
		else
			snprintf(c->host, sizeof(c->host), "ipc");
		c->local = c->uid == 0 || c->uid == (int64_t)geteuid();
		break;
	}
	default:
		break;
	}
}

/* Why c may not come in, or NULL. s->conn_mu held. */
static const char *refusal(ob_server *s, const ob_conn *c)
{
	if (atomic_load(&s->draining) || s->stopping)
		return "draining";
	unsigned max = s->cfg.max_connections;
	unsigned reserve = s->cfg.reserved_local_connections;
	if (reserve >= max)
		reserve = max - 1;
	/* The last `reserve` slots are for the local administrator (ipc, our
	 * user or root), so that a flood from the network never locks them out. */
	if (s->n_conns >= max || (!c->local && s->n_conns >= max - reserve))
		return "connection limit reached";
	if (c->is_ip) {
		unsigned same = 0;
		for (const ob_conn *o = s->conns; o != NULL; o = o->next)
			if (o->is_ip && memcmp(o->addr, c->addr, 16) == 0)
				same++;
		if (same >= s->cfg.max_connections_per_peer)
			return "per-peer connection limit reached";
	}
	return NULL;
}

/* At most one line a second, however hard a flood knocks. conn_mu held. */
static void log_refusal(ob_server *s, const char *why)
{
	int64_t now = now_ms();
	s->refused_since++;
	if (s->refused_log_ms != 0 && now - s->refused_log_ms < 1000)
		return;
	if (!atomic_load(&s->draining))
		ob_log(OB_LOG_WARN, "refused %u connection(s): %s", s->refused_since, why);
	s->refused_log_ms = now;
	s->refused_since = 0;
}

static void conn_free(ob_conn *c)
{
	if (c->open != NULL)
		atomic_fetch_sub(c->open, 1);
	nng_aio_free(c->rx_aio);
	nng_aio_free(c->tx_aio);
	nng_stream_free(c->st);
	while (c->txq != NULL) {
		ob_reply *r = c->txq;
		c->txq = r->next;
		free(r);
	}
	free(c->skipping);
	free(c->txbuf);
	free(c->rbuf);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void ob_conn_accept(ob_server *s, ob_listener *l, nng_stream *st)
{
	ob_conn *c = calloc(1, sizeof(*c));
	ob_reply *hello = malloc(sizeof(*hello) + OB_SP_HELLO_LEN);
	if (c == NULL || hello == NULL || (c->rbuf = malloc(OB_CONN_RBUF)) == NULL ||
	    nng_aio_alloc(&c->rx_aio, rx_cb, c) != 0 || nng_aio_alloc(&c->tx_aio, tx_cb, c) != 0) {
		if (c != NULL) {
			nng_aio_free(c->rx_aio);
			free(c->rbuf);
		}
		free(c);
		free(hello);
		nng_stream_close(st);
		nng_stream_free(st);
		return;
	}
	c->srv = s;
	c->st = st;
	c->flen = l->ipc ? 9 : 8;
	c->rcap = OB_CONN_RBUF;
	c->refs = 1; /* open */
	pthread_mutex_init(&c->mu, NULL);
	describe_peer(c);
	c->accepted_ms = now_ms();
	atomic_init(&c->last_active_ms, c->accepted_ms);
	atomic_init(&c->gone, false);

	pthread_mutex_lock(&s->conn_mu);
	const char *why = refusal(s, c);
	if (why != NULL) {
		if (strcmp(why, "draining") != 0)
			ob_metrics_refused(s->cfg.metrics, OB_FACE_NNG,
			                   strncmp(why, "per-peer", 8) == 0
			                           ? OB_REFUSED_PEER_CONNECTIONS
			                           : OB_REFUSED_CONNECTIONS);
		log_refusal(s, why);
		pthread_mutex_unlock(&s->conn_mu);
		nng_stream_close(st);
		free(hello);
		conn_free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	pthread_mutex_unlock(&s->conn_mu);
	if ((c->open = l->open) != NULL)
		atomic_fetch_add(c->open, 1);

	hello->len = OB_SP_HELLO_LEN;
	hello->off = 0;
	memcpy(hello->data, hello_rep, OB_SP_HELLO_LEN);
	pthread_mutex_lock(&c->mu);
	txq_append(c, hello);
	tx_start_locked(c);
	rx_start_locked(c);
	pthread_mutex_unlock(&c->mu);
}

/* ---- replies --------------------------------------------------------- */

/* Wakes parked connections while there is room under the global cap. */
static void unpark(ob_server *s)
{
	while (atomic_load(&s->n_parked) > 0 && atomic_load(&s->inflight) < s->cfg.contexts) {
		pthread_mutex_lock(&s->park_mu);
		ob_conn *c = s->park_head;
		if (c != NULL) {
			if ((s->park_head = c->park_next) == NULL)
				s->park_tail = NULL;
			atomic_fetch_sub(&s->n_parked, 1);
		}
		pthread_mutex_unlock(&s->park_mu);
		if (c == NULL)
			break;
		req_list out = {0};
		pthread_mutex_lock(&c->mu);
		c->parked = false;
		resume_locked(c, &out);
		unlock_release(c); /* the park's reference */
		if (out.n > 0)
			ob_server_enqueue(s, out.head, out.n);
	}
}

void ob_conn_reply(ob_server *s, ob_req *rq, ob_reply *reply)
{
	ob_conn *c = rq->conn;
	free(rq);
	req_list out = {0};
	pthread_mutex_lock(&c->mu);
	c->outstanding--;
	if (reply != NULL && c->closing) {
		free(reply); /* the peer is gone: nobody to answer */
	} else if (reply != NULL) {
		txq_append(c, reply);
		tx_start_locked(c);
	}
	if (!c->parked)
		resume_locked(c, &out);
	unlock_release(c);
	if (atomic_fetch_sub(&s->inflight, 1) == 1) {
		pthread_mutex_lock(&s->mu);
		pthread_cond_broadcast(&s->idle_cv);
		pthread_mutex_unlock(&s->mu);
	}
	if (out.n > 0)
		ob_server_enqueue(s, out.head, out.n);
	unpark(s);
}

/* ---- closing and the reaper ------------------------------------------ */

/* Takes a reference on every live connection that pick() chooses, then
 * closes them outside the list's lock. *why: the reason of the last one. */
static size_t close_where(ob_server *s, bool (*pick)(ob_conn *, int64_t, const char **),
                          ob_conn **victims, size_t cap, const char **why)
{
	size_t n = 0;
	int64_t now = now_ms();
	pthread_mutex_lock(&s->conn_mu);
	for (ob_conn *c = s->conns; c != NULL && n < cap; c = c->next) {
		pthread_mutex_lock(&c->mu);
		if (!c->closing && pick(c, now, why)) {
			c->refs++;
			victims[n++] = c;
		}
		pthread_mutex_unlock(&c->mu);
	}
	pthread_mutex_unlock(&s->conn_mu);
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&victims[i]->mu);
		close_locked(victims[i]);
		unlock_release(victims[i]);
	}
	return n;
}

static bool pick_all(ob_conn *c, int64_t now, const char **why)
{
	(void)c;
	(void)now;
	(void)why;
	return true;
}

/* Idle with nothing in flight, or stuck: a hello that never came, a frame
 * half sent, a reply the peer does not read. c->mu held. */
static bool pick_stale(ob_conn *c, int64_t now, const char **why)
{
	int64_t idle = c->srv->cfg.idle_timeout_ms;
	if (!c->negotiated && now - c->accepted_ms > OB_HANDSHAKE_TIMEOUT_MS)
		*why = "no SP hello";
	else if (c->frame_started_ms != 0 && now - c->frame_started_ms > OB_STALL_TIMEOUT_MS)
		*why = "a request stalled half-way";
	else if (c->tx_pending && now - c->tx_started_ms > OB_STALL_TIMEOUT_MS)
		*why = "the peer does not read its replies";
	else if (idle > 0 && c->outstanding == 0 && c->frame_started_ms == 0 &&
	         now - atomic_load(&c->last_active_ms) > idle)
		*why = "idle";
	else
		return false;
	ob_metrics_refused(c->srv->cfg.metrics, OB_FACE_NNG,
	                   strcmp(*why, "idle") == 0 ? OB_REFUSED_IDLE : OB_REFUSED_SLOW);
	return true;
}

void ob_conn_close_all(ob_server *s)
{
	size_t cap = (size_t)s->cfg.max_connections + 1;
	ob_conn **v = malloc(cap * sizeof(*v));
	if (v == NULL)
		return;
	const char *why = NULL;
	while (close_where(s, pick_all, v, cap, &why) == cap)
		;
	free(v);
}

static void free_zombies(ob_server *s)
{
	pthread_mutex_lock(&s->conn_mu);
	ob_conn *z = s->zombies;
	s->zombies = NULL;
	pthread_mutex_unlock(&s->conn_mu);
	unsigned n = 0;
	while (z != NULL) {
		ob_conn *next = z->next;
		conn_free(z); /* waits for the aio callbacks to return */
		z = next;
		n++;
	}
	if (n > 0) {
		pthread_mutex_lock(&s->conn_mu);
		s->n_conns -= n;
		pthread_mutex_unlock(&s->conn_mu);
	}
}

void *ob_conn_reaper_main(void *arg)
{
	ob_server *s = arg;
	prctl(PR_SET_NAME, "ob-reaper"); /* for top -H and debuggers */
	int64_t period = s->cfg.idle_timeout_ms / 4;
	if (period <= 0 || period > 1000)
		period = 1000;
	else if (period < 50)
		period = 50;
	size_t cap = (size_t)s->cfg.max_connections + 1;
	ob_conn **v = malloc(cap * sizeof(*v));
	int64_t next_check = now_ms() + period;
	pthread_mutex_lock(&s->conn_mu);
	while (!s->reaper_stop) {
		if (s->zombies == NULL) {
			struct timespec ts = ob_clock_mono_after(period * 1000);
			pthread_cond_timedwait(&s->reaper_cv, &s->conn_mu, &ts);
		}
		if (s->reaper_stop)
			break;
		pthread_mutex_unlock(&s->conn_mu);
		free_zombies(s);
		if (now_ms() >= next_check && v != NULL) {
			/* One line a pass however many go: a slow-peer flood does not
			 * flood the log. */
			size_t n, all = 0;
			const char *why = NULL;
			while ((n = close_where(s, pick_stale, v, cap, &why)) > 0) {
				all += n;
				if (n < cap)
					break;
			}
			if (all > 0)
				ob_log(OB_LOG_INFO, "closed %zu connection(s) (the last: %s)", all,
				       why);
			next_check = now_ms() + period;
		}
		pthread_mutex_lock(&s->conn_mu);
	}
	pthread_mutex_unlock(&s->conn_mu);
	free(v);
	return NULL;
}

void ob_conn_free_all(ob_server *s)
{
	/* Everything is closed and nothing accepts: stop every aio, then free
	 * whatever is left, whatever it still counts. */
	pthread_mutex_lock(&s->park_mu);
	s->park_head = s->park_tail = NULL;
	atomic_store(&s->n_parked, 0);
	pthread_mutex_unlock(&s->park_mu);
	ob_conn *lists[2] = {s->conns, s->zombies};
	for (int i = 0; i < 2; i++)
		for (ob_conn *c = lists[i]; c != NULL; c = c->next) {
			nng_aio_stop(c->rx_aio);
			nng_aio_stop(c->tx_aio);
		}
	lists[0] = s->conns;
	lists[1] = s->zombies;
	s->conns = s->zombies = NULL;
	for (int i = 0; i < 2; i++)
		for (ob_conn *c = lists[i], *next; c != NULL; c = next) {
			next = c->next;
			conn_free(c);
		}
	s->n_conns = 0;
}
