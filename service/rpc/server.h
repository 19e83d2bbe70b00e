/*
 * server.h: onboardd's network front: listeners, connections, the worker
 * threads, connection hygiene and graceful drain.
 *
 * Shape: onboardd speaks nng's SP REQ/REP wire protocol itself over nng's
 * byte streams (ipc, tcp, tls+tcp), because nng 1.5.2's REP protocol leaks
 * connections (server_impl.h says how and why). Connections are read by nng's
 * aio callbacks, which only cut frames and queue requests: callbacks run on
 * nng's threads and must not block. Our `workers` threads run
 * ob_dispatch_handle() (which may block on storage) and queue the reply on
 * its connection, which writes replies in order.
 *
 * Back-pressure: a connection stops reading while it has 64 requests in
 * flight, and every connection stops while `contexts` requests are in
 * flight in all; they resume as replies go out (oldest waiter first).
 *
 * Hygiene: at most max_connections in all, of which the last
 * reserved_local_connections only for the local administrator (an ipc peer
 * running as our user or root); max_connections_per_peer per remote IPv4
 * address or IPv6 /64. A connection without a request for idle_timeout_ms is
 * closed, and so is one that sends no SP hello within 10 s, leaves a frame
 * half sent or a reply unread for 30 s. Requests over max_request_bytes are
 * read past and answered RESOURCE_EXHAUSTED; frames over four times that
 * close the connection.
 *
 * Threading: create, start, drain and destroy from one thread (main).
 */
#ifndef OB_RPC_SERVER_H
#define OB_RPC_SERVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include "base/err.h"
#include "rpc/dispatch.h"
#include "rpc/metrics.h"

typedef struct ob_server_config {
	const char *const *listen; /* URLs: ipc://, tcp://, tls+tcp:// */
	size_t n_listen;
	const char *tls_cert; /* PEM files, for tls+tcp:// */
	const char *tls_key;
	const char *tls_ca; /* when set, clients must present a certificate it signed */
	unsigned ipc_mode;  /* permissions of ipc socket files, e.g. 0600 */
	unsigned contexts;  /* requests in flight, all connections */
	unsigned workers;   /* handler threads */
	size_t max_request_bytes;
	unsigned max_connections;
	unsigned max_connections_per_peer;
	unsigned reserved_local_connections; /* of max_connections; or OB_RESERVED_LOCAL_AUTO */
	unsigned max_accept_rate;   /* new connections a second, a network listener; 0: any */
	int64_t idle_timeout_ms;    /* 0: never reap */
	struct ob_metrics *metrics; /* calls, connections, refusals; NULL: none */
} ob_server_config;

/* The default max_accept_rate, both faces: a burst of every slot of the
 * default connection cap refills in two seconds. */
enum { OB_DEFAULT_ACCEPT_RATE = 500 };

/* min(16, max_connections / 8) */
#define OB_RESERVED_LOCAL_AUTO 0xFFFFFFFFu

/* Defaults: ipc_mode 0600, 256 requests in flight, 128 workers (twice the
 * store's OB_STORE_BATCH_MAX: server.c says why), 64 KiB, 1024 connections
 * of which 16 reserved for the local administrator, 64 per peer, 300 s
 * idle. */
void ob_server_config_defaults(ob_server_config *cfg);

typedef struct ob_server ob_server;

/* Starts the threads and every listener. env is
 * handed to handlers as ob_call.env; d and env must outlive the server.
 * On failure logs which listener failed and why. */
OB_NODISCARD ob_err ob_server_start(ob_server **out, const ob_server_config *cfg,
                                    const ob_dispatch *d, void *env);
/* Stops accepting connections, answers new calls UNAVAILABLE (health: NOT_SERVING),
 * and waits up to grace_ms for calls in flight to finish. Returns how many
 * were still in flight at the end (0 on a clean drain). Blocks. */
unsigned ob_server_drain(ob_server *s, int64_t grace_ms);
/* How long requests have waited for a worker without any worker taking
 * one: 0 when none waits, else the time since the later of the oldest
 * request's arrival and the last take (microseconds). A service whose
 * workers are all stuck shows it growing; a busy one keeps it near 0 since
 * its workers keep taking requests. For the watchdog (main.c). Any thread;
 * takes the queue's lock for a moment. */
int64_t ob_server_stalled_us(ob_server *s);
/* Closes everything; in-flight calls are abandoned. Accepts NULL. Blocks. */
void ob_server_destroy(ob_server *s);

/* An nng error as ob_err: the one place nng's codes are translated (both
 * faces stand on nng). */
ob_err ob_server_from_nng(int rv);

/* What a listener's accept callback does, for both faces: returns the
 * stream accepted, which the caller takes (and then accepts again with
 * nng_stream_listener_accept), or NULL when there is none: the listener
 * closed, or a failed accept (out of descriptors, say) started a pause of
 * 100 ms instead of a busy loop, or that pause ended and the accept was
 * started again. A connection accepted while descriptors run short (an
 * eighth of RLIMIT_NOFILE left) is closed and starts the pause too (see
 * listen.c, fds_short). backing_off is the listener's own flag, false at
 * first. */
nng_stream *ob_accept_step(nng_stream_listener *l, nng_aio *aio, atomic_bool *backing_off);

/*
 * A network listener's accept rate: a token bucket of `rate` connections a
 * second, as many in a burst; rate 0: no limit (ipc listeners: the local
 * administrator is never paced). Why: a peer that connects, pipelines and
 * hangs up costs onboardd ~150 us of CPU a connection, nearly all of it in
 * the kernel and nng's threads, whatever it asks; connections from many
 * addresses pass every per-peer cap. Pacing the accepts leaves the flood in
 * the kernel's backlog (a full backlog drops SYNs, and the flooder's connects
 * wait), so that the clients already connected keep their share of the CPU.
 * One listener's accept callback at a time: no lock.
 */
typedef struct ob_accept_pace {
	unsigned rate;
	ob_metrics *metrics; /* each pause counted (accept_paused); NULL: not */
	ob_face face;
	double tokens;
	int64_t last_us;
	_Atomic int64_t said_ms; /* the last log line: at most one every 10 s */
} ob_accept_pace;

/* After an accept: starts the next one at once, or, when the bucket is empty,
 * after the wait for the next token (through backing_off, as
 * ob_accept_step's pause). url names the listener in the log. */
void ob_accept_next(nng_stream_listener *l, nng_aio *aio, atomic_bool *backing_off,
                    ob_accept_pace *pace, const char *url);

/* Opens a listening stream on url (ipc://, tcp://, tls+tcp://): with tls
 * (NULL: none), ipc_mode as the socket file's permissions (-1: not ipc; TCP
 * gets no Nagle delay), and an accept aio calling cb(arg). Returns 0 or
 * nng's error, with nothing left open. For both faces. */
int ob_stream_listen(const char *url, nng_tls_config *tls, int ipc_mode, void (*cb)(void *),
                     void *arg, nng_stream_listener **l, nng_aio **aio);

/* A server-side TLS configuration from PEM files (the key a secret file,
 * common/secretfile.h; with ca_path, client certificates it signed are
 * required), for both faces. *out is freed with nng_tls_config_free(). Logs
 * what failed. */
OB_NODISCARD ob_err ob_tls_server_config(const char *cert_path, const char *key_path,
                                         const char *ca_path, nng_tls_config **out);

#endif
