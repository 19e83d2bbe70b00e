/*
 * server_impl.h: what server.c (workers, lifecycle), conn.c (connections,
 * SP framing, caps, reaper) and listen.c (listeners, TLS) share. Private to
 * those three files.
 *
 * Why onboardd speaks nng's SP wire protocol itself: nng 1.5.2's REP
 * protocol (Debian 12's) leaks a pipe, its descriptor and its slot, for good
 * when a peer hangs up while five or more replies are still to be sent to
 * it, and nng_close() then hangs; its ipc transport can stop negotiating new
 * connections after a disconnect during negotiation (nng issue #1518). Both
 * live in nng's SP layer (protocol and transports), not in its byte streams.
 * So onboardd takes connections from nng_stream_listener (tcp, ipc and TLS
 * come from nng as before) and does the rest itself: the 8-byte SP hello,
 * 64-bit length-prefixed frames, the REQ backtrace, one reply per request.
 * REQ clients (libonboard-client, any nng REQ socket) cannot tell the
 * difference; onboardd now owns every connection's lifetime.
 *
 * Lifetime of a connection (ob_conn): it holds one reference for being open,
 * one while a receive is under way, one while a send is under way, and one
 * per request queued or being served. conn_close() drops the first and
 * closes the stream, which ends the pending aios; when the last reference
 * goes the connection becomes a zombie that the reaper thread frees (an aio
 * cannot be freed from inside its own callback).
 *
 * Where a request runs: a quick one (a read of one row, the health check:
 * OB_METHOD_QUICK) on the nng thread whose receive completed, the rest on
 * the workers. A hand-over to a worker costs two context switches, which
 * was most of a Get's time on two cores.
 *
 * Lock order: srv->mu (work queue), then srv->conn_mu (connection list),
 * then a connection's mu. No lock is held while calling into nng except a
 * connection's own mu around nng_stream_recv/send on that connection.
 */
#ifndef OB_RPC_SERVER_IMPL_H
#define OB_RPC_SERVER_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "base/err.h"
#include "rpc/dispatch.h"
#include "rpc/server.h"

enum {
	OB_SP_HELLO_LEN = 8,
	OB_SP_MAX_HOPS = 8,        /* backtrace entries nng's devices may add */
	OB_CONN_MAX_INFLIGHT = 64, /* requests one connection may have queued or served */
	/* Bytes of replies queued on one connection, not yet sent, above which it
	 * stops reading: a reply is no longer "in flight" once queued, so a peer
	 * that pipelines cheap calls with large replies and reads slowly (or not
	 * at all) would otherwise have us read on and queue without end. */
	OB_CONN_TXQ_MAX = 64 * 1024,
	OB_CONN_RBUF = 16 * 1024,
	OB_HANDSHAKE_TIMEOUT_MS = 10 * 1000, /* from accept to the peer's SP hello */
	OB_STALL_TIMEOUT_MS = 30 * 1000,     /* a frame half received, a reply half sent */
};

/* A framed reply (or our SP hello) waiting to be written. On tcp a frame is
 * a 64-bit big-endian length and the message; nng's ipc transport puts a
 * message-type byte (1) before the length. */
typedef struct ob_reply {
	struct ob_reply *next;
	size_t len, off;
	uint8_t data[];
} ob_reply;

struct ob_conn;

/* One request off the wire, queued for a worker. buf holds the backtrace
 * (hdr_len bytes) then the payload; for a frame over the cap (oversize) only
 * the backtrace was kept and the rest was read past. */
typedef struct ob_req {
	struct ob_req *next;
	struct ob_conn *conn; /* holds a reference */
	int64_t arrived_us;
	size_t hdr_len;
	uint64_t frame_len; /* backtrace + payload, as the peer announced */
	bool oversize;
	uint8_t buf[];
} ob_req;

typedef struct ob_listener {
	struct ob_server *srv;
	const char *url;
	nng_stream_listener *l;
	nng_aio *aio;
	bool ipc;
	atomic_bool backing_off; /* the aio is a sleep after a failed accept */
	ob_accept_pace pace;     /* tcp and tls: at most --max-accept-rate a second */
	atomic_long *open;       /* its connections, for /metrics; NULL: not counted */
} ob_listener;

typedef struct ob_conn {
	struct ob_server *srv;
	nng_stream *st;
	nng_aio *rx_aio, *tx_aio;
	pthread_mutex_t mu; /* guards everything below up to the identity */
	unsigned refs;
	bool closing;
	atomic_bool gone; /* closing, readable without mu: workers skip its requests */
	/* receive side */
	uint8_t *rbuf;
	size_t rcap, rlen;
	bool negotiated;
	bool rx_pending;
	bool rx_parked; /* not reading: too many requests in flight, here or in all */
	uint64_t skip;  /* bytes of an oversized frame still to read past */
	ob_req *skipping;
	unsigned outstanding;
	int64_t frame_started_ms; /* an incomplete frame's first bytes came then; 0: none */
	/* send side */
	ob_reply *txq, *txq_tail;
	size_t txq_bytes; /* of the replies in txq, not yet sent */
	uint8_t *txbuf;   /* replies gathered by a send not yet finished, or NULL */
	size_t txbuf_len, txbuf_off;
	unsigned corked; /* > 0: replies queue but are not sent yet (ob_conn_cork) */
	bool tx_pending;
	int64_t tx_started_ms;
	/* identity, fixed at accept */
	char peer[80];
	char host[64];
	int64_t uid;
	uint8_t addr[16]; /* per-peer key: IPv4 as v4-mapped, IPv6 by its /64 */
	bool is_ip;
	bool local;   /* ipc peer running as our user or root: may use the reserved slots */
	uint8_t flen; /* frame header: 8-byte length, after a 0x01 type byte on ipc */
	int64_t accepted_ms;
	_Atomic int64_t last_active_ms;
	/* the server's list, under srv->conn_mu */
	struct ob_conn *prev, *next;
	struct ob_conn *park_next; /* under srv->park_mu */
	bool parked;               /* under srv->park_mu; holds a reference */
	atomic_long *open;         /* its listener's gauge, once admitted; may be NULL */
} ob_conn;

struct ob_server {
	ob_server_config cfg;
	const ob_dispatch *dispatch;
	void *env;
	nng_tls_config *tls;
	ob_listener *listeners;
	size_t n_listeners;

	pthread_mutex_t mu; /* the work queue, stopping */
	pthread_cond_t work_cv;
	pthread_cond_t idle_cv; /* inflight reached 0 */
	ob_req *head, *tail;
	bool stopping;
	int64_t last_take_us; /* when a worker last took a request (ob_server_stalled_us) */
	/* Requests queued or being served, all connections: at most cfg.contexts
	 * (then connections stop reading and wait in the park, FIFO). */
	atomic_uint inflight;
	atomic_uint n_parked;
	pthread_mutex_t park_mu; /* innermost lock */
	ob_conn *park_head, *park_tail;
	atomic_bool draining;
	pthread_t *workers;
	unsigned n_workers;
	/* Calls for requests served on the thread that read them (quick
	 * methods, server.c): one per such thread at most, kept for reuse. */
	pthread_mutex_t calls_mu; /* innermost, like park_mu */
	struct ob_spare_call *spare_calls;

	pthread_mutex_t conn_mu; /* the connection lists and counts */
	pthread_cond_t reaper_cv;
	ob_conn *conns;   /* live and closing */
	ob_conn *zombies; /* no references left; the reaper frees them */
	unsigned n_conns;
	bool reaper_stop;
	pthread_t reaper;
	bool reaper_started;
	/* "refused a connection" is logged at most once a second */
	int64_t refused_log_ms;
	unsigned refused_since;
};

/* conn.c */
/* The per-peer key of a remote address: an IPv4 address as v4-mapped, an
 * IPv6 address by its /64. False (key zeroed) for anything else. */
bool ob_peer_key(const nng_sockaddr *sa, uint8_t key[16]);
void ob_conn_accept(ob_server *s, ob_listener *l, nng_stream *st);
/* A worker's reply to req (which it frees); reply may be NULL (no memory:
 * the caller will time out). Takes the reply. */
void ob_conn_reply(ob_server *s, ob_req *req, ob_reply *reply);
/* Between ob_conn_cork and ob_conn_uncork, c's replies queue without being
 * sent; uncork sends them, gathered. For the requests of one read served on
 * its thread: a pipelined run's replies leave in one send. Holds a reference
 * on c in between. Nest freely; never block while corked. */
void ob_conn_cork(ob_conn *c);
void ob_conn_uncork(ob_conn *c);
void ob_conn_close_all(ob_server *s);
void *ob_conn_reaper_main(void *arg);
void ob_conn_free_all(ob_server *s);
/* Queues reqs (a list) for the workers; server.c. */
void ob_server_enqueue(ob_server *s, ob_req *list, unsigned n);
/* What a connection read: requests for quick methods (OB_METHOD_QUICK) are
 * served here, on the calling thread, the rest queued for the workers. list:
 * what one connection read.
 * Called with no lock held; server.c. */
void ob_server_take(ob_server *s, ob_req *list, unsigned n);

/* listen.c */
OB_NODISCARD ob_err ob_listener_start(ob_server *s, ob_listener *l, const char *url);
void ob_listener_close(ob_listener *l);
void ob_listener_fini(ob_listener *l);

#endif
