/*
 * server.h: onboardd's nng front: listeners, the REP socket and its
 * contexts, the worker threads, connection hygiene and graceful drain.
 *
 * Shape (nng's async server pattern): one REP socket; `contexts` nng
 * contexts, each with its own aio, receive concurrently. An aio callback runs
 * on nng's threads and must not block, so it only queues the request; our
 * `workers` threads run ob_dispatch_handle() (which may block on storage)
 * and start the reply send from there. A context is reused for its next
 * receive once its reply has been handed to nng.
 *
 * Hygiene: at most max_connections pipes in all and max_connections_per_peer
 * per remote IP (tcp and tls); a pipe without a request for idle_timeout_ms
 * is closed by a reaper thread. Transport frames above 4x the application
 * cap drop the connection (nng's NNG_OPT_RECVMAXSZ); frames between the two
 * caps are answered with RESOURCE_EXHAUSTED.
 *
 * Threading: create, start, drain and destroy from one thread (main).
 */
#ifndef OB_RPC_SERVER_H
#define OB_RPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "rpc/dispatch.h"

typedef struct ob_server_config {
	const char *const *listen; /* URLs: ipc://, tcp://, tls+tcp:// */
	size_t n_listen;
	const char *tls_cert; /* PEM files, for tls+tcp:// */
	const char *tls_key;
	const char *tls_ca; /* when set, clients must present a certificate it signed */
	unsigned ipc_mode;  /* permissions of ipc socket files, e.g. 0600 */
	unsigned contexts;  /* concurrent receives */
	unsigned workers;   /* handler threads */
	size_t max_request_bytes;
	unsigned max_connections;
	unsigned max_connections_per_peer;
	int64_t idle_timeout_ms; /* 0: never reap */
} ob_server_config;

/* Defaults: ipc_mode 0600, 64 contexts, 32 workers, 64 KiB, 1024 connections,
 * 64 per peer, 300 s idle. */
void ob_server_config_defaults(ob_server_config *cfg);

typedef struct ob_server ob_server;

/* Creates the socket, contexts and threads and starts every listener. env is
 * handed to handlers as ob_call.env; d and env must outlive the server.
 * On failure logs which listener failed and why. */
OB_NODISCARD ob_err ob_server_start(ob_server **out, const ob_server_config *cfg,
                                    const ob_dispatch *d, void *env);
/* Stops accepting connections, answers new calls UNAVAILABLE (health: NOT_SERVING),
 * and waits up to grace_ms for calls in flight to finish. Returns how many
 * were still in flight at the end (0 on a clean drain). Blocks. */
unsigned ob_server_drain(ob_server *s, int64_t grace_ms);
/* Closes everything; in-flight calls are abandoned. Accepts NULL. Blocks. */
void ob_server_destroy(ob_server *s);

#endif
