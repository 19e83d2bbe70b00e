/*
 * spraw.h: a REQ peer made of a plain socket, for tests that must do what no
 * nng client does (pipeline and hang up, send garbage, stall, open many
 * connections from chosen addresses) and must not depend on nng's dialer,
 * whose reconnect timers race with nng_close() (LeakSanitizer saw it).
 *
 * It speaks nng's SP wire format: the 8-byte hello, frames with a 64-bit
 * big-endian length (after a type byte 1 on ipc), a 4-byte request id with
 * its high bit set before each request's body.
 *
 * Threading: one ob_spraw per thread. Blocking calls with poll() timeouts.
 */
#ifndef OB_TESTS_SPRAW_H
#define OB_TESTS_SPRAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ob_spraw {
	int fd; /* -1 when closed */
	bool ipc;
	uint32_t next_id;
	uint32_t reply_id; /* the request id of the last reply read (high bit set) */
} ob_spraw;

/* Connects to "ipc://PATH" or "tcp://IPV4:PORT", from bind_ip when it is not
 * NULL (tcp only, e.g. "127.0.0.7"). Returns 0 or -errno. No hello yet. */
int ob_spraw_connect(ob_spraw *c, const char *url, const char *bind_ip);
/* Sends the REQ hello and reads the server's REP hello. Returns 0, or -1
 * when the server closed the connection (refused it) or timed out. */
int ob_spraw_hello(ob_spraw *c, int timeout_ms);
/* connect + hello. */
int ob_spraw_open(ob_spraw *c, const char *url, const char *bind_ip, int timeout_ms);
/* Sends body as one request with a fresh request id; returns 0 or -errno. */
int ob_spraw_send(ob_spraw *c, const void *body, size_t len);
/* Sends a frame whose announced length is `announced` but only the first
 * len bytes of body follow (len <= announced), with a request id. */
int ob_spraw_send_partial(ob_spraw *c, const void *body, size_t len, uint64_t announced);
/* Reads one reply; its body (without the request id, which goes to
 * c->reply_id) goes to *out, which the caller frees. Returns 0, -1 on end of stream, -2 on timeout,
 * -3 on a malformed frame. */
int ob_spraw_recv(ob_spraw *c, uint8_t **out, size_t *len, int timeout_ms);
/* Waits for the server to close the connection: true if it did within
 * timeout_ms (anything received meanwhile is discarded). */
bool ob_spraw_wait_closed(ob_spraw *c, int timeout_ms);
void ob_spraw_close(ob_spraw *c);

/* Open file descriptors of process pid (from /proc), or -1. */
int ob_count_fds(int pid);
/* A free tcp port on 127.0.0.1 (bound, then released: good enough for tests). */
int ob_free_tcp_port(void);

#endif
