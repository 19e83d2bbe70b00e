/*
 * http.h: onboardd's HTTP face (`--http URL`): HTTP/1.1 over nng's byte
 * streams (tcp, or TLS with the --tls-* options), serving the routes of
 * connect.h with the same dispatch, authorizer and limits as the nng face.
 *
 * Why not nng's own HTTP server (nng/supplemental/http): in nng 1.5.2 it has
 * no read timeout (a client that sends one header byte a second holds its
 * connection for ever), no connection cap, a busy loop when accept fails
 * (out of descriptors: it accepts again at once), answers an oversized body
 * 400 instead of 413, and hands chunked bodies over empty. What onboard
 * needs of HTTP is small (one request at a time per connection, bodies with
 * a Content-Length), so the face reads and writes it itself over
 * nng_stream, as the nng face speaks SP itself (rpc/server_impl.h), and
 * keeps the caps and timeouts in its hands.
 *
 * Connections: at most max_connections, max_connections_per_peer per IPv4
 * address or IPv6 /64; past that a connection gets a 503 and is closed, but
 * at max_connections the one that has waited longest between two requests
 * is closed instead, when there is one and the newcomer's address is under
 * its own cap (idle keep-alive connections cannot keep a newcomer out).
 * A request head must arrive within head_timeout_ms of its first byte, and
 * a connection's first request head within head_timeout_ms of the accept (a
 * connection that says nothing holds no slot for idle_timeout_ms); the head
 * must fit OB_HTTP_MAX_HEAD, else 431; its body within body_timeout_ms (and
 * fit max_request_bytes, else 413); a connection without a request for
 * idle_timeout_ms after a reply is closed; so is one that does not read its
 * reply for 30 s. Bodies come with a Content-Length or chunked (decoded
 * under the same cap: connect-node sends chunked bodies over HTTP/1.1, which
 * nng's server would have handed over empty); any other Transfer-Encoding is
 * 501. One request per connection at a time: the next is read once the
 * reply is written.
 *
 * Threads: nng's callbacks only move bytes and cut requests; `workers`
 * threads of the face run the pipeline (which may wait for the group
 * commit); a reaper thread closes stale connections and frees closed ones.
 *
 * Threading of this API: start, drain and destroy from one thread (main).
 */
#ifndef OB_HTTP_HTTP_H
#define OB_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "http/connect.h"

typedef struct ob_http_config {
	const char *const *urls; /* http://HOST:PORT or https://HOST:PORT */
	size_t n_urls;
	const char *tls_cert, *tls_key, *tls_ca; /* PEM files, for https:// */
	unsigned workers;
	size_t max_request_bytes;
	unsigned max_connections;
	unsigned max_connections_per_peer;
	unsigned max_accept_rate; /* new connections a second, a listener; 0: any */
	int64_t idle_timeout_ms;
	int64_t head_timeout_ms;
	int64_t body_timeout_ms;
	void *env; /* ob_call.env of every call (the rpc env) */
	ob_connect routes;
} ob_http_config;

/* Defaults: 8 workers, 64 KiB, 256 connections, 32 per peer, 300 s idle,
 * 10 s for a head, 30 s for a body. */
void ob_http_config_defaults(ob_http_config *cfg);

typedef struct ob_http ob_http;

/* Starts the threads and every listener; logs which failed and why. */
OB_NODISCARD ob_err ob_http_start(ob_http **out, const ob_http_config *cfg);
/* Stops accepting, answers new calls UNAVAILABLE (/readyz: 503), waits up
 * to grace_ms for requests in flight. Returns how many were left. */
unsigned ob_http_drain(ob_http *h, int64_t grace_ms);
/* Closes everything. Accepts NULL. Blocks. */
void ob_http_destroy(ob_http *h);

/* The nng URL to listen on for an HTTP URL ("http://h:p" -> "tcp://h:p",
 * "https://h:p" -> "tls+tcp://h:p") into buf; false when url is neither. */
bool ob_http_stream_url(const char *url, char *buf, size_t n);

#endif
