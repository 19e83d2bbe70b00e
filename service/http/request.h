/*
 * request.h: an HTTP/1.1 request head, parsed strictly, and the reply the
 * HTTP face writes. Pure functions on buffers: no sockets, no threads, so
 * that the unit tests and the fuzz target drive them directly.
 *
 * Strict on purpose (every request comes from the network): CRLF line ends
 * only, a method of token characters, an origin-form target of printable
 * ASCII, HTTP/1.0 or HTTP/1.1, header names of token characters, values
 * without control characters, no obsolete line folding, at most
 * OB_HTTP_MAX_HEADERS headers, one Content-Length of digits. Anything else
 * is a 400 (505 for another version) with a reason for the caller.
 */
#ifndef OB_HTTP_REQUEST_H
#define OB_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	OB_HTTP_MAX_HEAD = 16 * 1024, /* request line and headers; more is 431 */
	OB_HTTP_MAX_HEADERS = 64,
};

typedef struct ob_http_header {
	const char *name; /* as sent; compare with ob_http_header_get */
	const char *value;
} ob_http_header;

typedef struct ob_http_request {
	const char *method;
	const char *path;  /* the target up to '?' */
	const char *query; /* after '?', or "" */
	int minor;         /* HTTP/1.<minor> */
	ob_http_header headers[OB_HTTP_MAX_HEADERS];
	size_t n_headers;
	/* derived from the headers */
	bool has_length;
	uint64_t content_length;
	bool chunked;    /* Transfer-Encoding: chunked (anything else is refused) */
	bool bad_te;     /* another Transfer-Encoding, or one beside Content-Length */
	bool keep_alive; /* HTTP/1.1 without Connection: close */
	/* the body, once read: borrowed from the connection's buffer */
	const uint8_t *body;
	size_t body_len;
} ob_http_request;

/* The length of the head at buf[0..len): up to and including the empty
 * line (or a bare LF, which the parser then refuses), or 0 when it is not
 * complete yet. scanned (may be NULL) makes a dribbled head cost its length
 * once, not once per read: start it at 0; a call that returns 0 sets it to
 * len, and the next call scans only what came since. */
size_t ob_http_head_length(const char *buf, size_t len, size_t *scanned);

/* Parses the head buf[0..len) (as ob_http_head_length measured it),
 * writing NULs into buf: the strings of *rq point into it. Returns 0, or the
 * HTTP status to refuse it with (400, 505) and *why. */
int ob_http_parse_head(char *buf, size_t len, ob_http_request *rq, const char **why);

/* Where ob_http_chunked resumes: the first chunk not yet complete, and the
 * body's length before it. Zero it for a new body. */
typedef struct ob_http_chunk_state {
	size_t at, body;
} ob_http_chunk_state;

/* Decodes a chunked body (RFC 9112, 7.1) at src[0..n): returns 0 when it is
 * complete (*used: the bytes it took, trailers included; *len: the body's
 * length, written to dst when dst is not NULL), 1 when more bytes are
 * needed, 413 when the body is over max, 400 when it is malformed (*why).
 * Chunk extensions are skipped, trailers read past; each line is bounded.
 * With st (NULL: from the start) a call that returns 1 records where the
 * next, with more bytes of the same src, resumes, so that a body sent a
 * byte at a time is not read again from its start at every byte; pass NULL
 * with dst (the decoding pass). */
int ob_http_chunked(const uint8_t *src, size_t n, uint8_t *dst, size_t max, size_t *used,
                    size_t *len, const char **why, ob_http_chunk_state *st);

/* The value of the header name (ASCII case-insensitive), the first one when
 * it is repeated, or NULL. */
const char *ob_http_header_get(const ob_http_request *rq, const char *name);

/* The reason phrase of a status ("Not Found"); "Unknown" for others. */
const char *ob_http_reason(int status);

/* A reply: status, headers and body, serialized by ob_http_reply_render. */
typedef struct ob_http_reply {
	int status;
	const char *content_type;
	char headers[1024]; /* more header lines, each ending in CRLF */
	uint8_t *body;      /* malloc'd, freed by ob_http_reply_fini */
	/* Or, when body is NULL, bytes that outlive the reply (an embedded file, assets.h): sent as
	 * they are, never freed. */
	const uint8_t *borrowed;
	size_t body_len;
	bool close; /* Connection: close, and the face closes after writing */
	bool head;  /* a HEAD request: the headers only */
} ob_http_reply;

void ob_http_reply_fini(ob_http_reply *r);
/* Appends a header line "Name: value" to r->headers (dropped when full). */
void ob_http_reply_header(ob_http_reply *r, const char *name, const char *value);
/* Sets the body to a copy of text (a plain-text reply). */
void ob_http_reply_text(ob_http_reply *r, int status, const char *text);
/* The reply as bytes to write: malloc'd, *len set; NULL when out of memory. Every reply gets
 * X-Content-Type-Options: nosniff, Cache-Control: no-store and Content-Security-Policy:
 * default-src 'none'; frame-ancestors 'none', each unless r->headers has its own (the page's
 * files, assets.h), so that no error path goes without them. A 1xx, 204 or 304 is written
 * without Content-Length and without a body. */
uint8_t *ob_http_reply_render(const ob_http_reply *r, size_t *len);

#endif
