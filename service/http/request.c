/*
 * request.c: the HTTP/1.1 head parser and reply writer of request.h
 * (RFC 9112's grammar, narrowed to what onboard needs).
 */
#include "http/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t ob_http_head_length(const char *buf, size_t len, size_t *scanned)
{
	size_t from = scanned != NULL ? *scanned : 0;
	for (size_t i = from; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		/* A bare LF ends the head here: the parser refuses it at once,
		 * instead of waiting for a CRLF CRLF that will never come. */
		if (i == 0 || buf[i - 1] != '\r')
			return i + 1;
		if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return i + 1;
	}
	if (scanned != NULL)
		*scanned = len; /* no LF ends a head before len: later calls start there */
	return 0;
}

/* RFC 9110's tchar. */
static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!tchar((unsigned char)*s))
			return false;
	return true;
}

/* Cuts the line at *p (ending in CRLF) and advances *p past it. NULL when
 * a CR or LF stands alone. */
static char *line(char **p, char *end)
{
	char *start = *p;
	for (char *q = start; q + 1 < end; q++) {
		if (*q == '\r' && q[1] == '\n') {
			*q = '\0';
			*p = q + 2;
			return start;
		}
		if (*q == '\r' || *q == '\n')
			return NULL;
	}
	return NULL;
}

static int request_line(char *l, ob_http_request *rq, const char **why)
{
	char *sp1 = strchr(l, ' ');
	char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL) {
		*why = "the request line is not METHOD TARGET VERSION";
		return 400;
	}
	*sp1 = *sp2 = '\0';
	rq->method = l;
	char *target = sp1 + 1, *version = sp2 + 1;
	if (!token(rq->method)) {
		*why = "the method is not a token";
		return 400;
	}
	if (strncmp(version, "HTTP/1.", 7) != 0 || version[7] < '0' || version[7] > '9' ||
	    version[8] != '\0') {
		*why = "only HTTP/1.0 and HTTP/1.1 are spoken here";
		return strncmp(version, "HTTP/", 5) == 0 ? 505 : 400;
	}
	rq->minor = version[7] - '0';
	if (target[0] != '/') {
		*why = "the target must be a path starting with /";
		return 400;
	}
	for (const char *c = target; *c != '\0'; c++)
		if (*c <= ' ' || *c > '~') {
			*why = "the target has a byte outside printable ASCII";
			return 400;
		}
	char *q = strchr(target, '?');
	rq->query = "";
	if (q != NULL) {
		*q = '\0';
		rq->query = q + 1;
	}
	rq->path = target;
	return 0;
}

static int header_line(char *l, ob_http_request *rq, const char **why)
{
	if (l[0] == ' ' || l[0] == '\t') {
		*why = "obsolete header line folding";
		return 400;
	}
	char *colon = strchr(l, ':');
	if (colon == NULL) {
		*why = "a header line without a colon";
		return 400;
	}
	*colon = '\0';
	if (!token(l)) {
		*why = "a header name is not a token";
		return 400;
	}
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		v[--n] = '\0';
	for (const char *c = v; *c != '\0'; c++)
		if (((unsigned char)*c < ' ' && *c != '\t') || *c == 0x7f) {
			*why = "a header value has a control character";
			return 400;
		}
	if (rq->n_headers == OB_HTTP_MAX_HEADERS) {
		*why = "more than 64 headers";
		return 431;
	}
	rq->headers[rq->n_headers++] = (ob_http_header){l, v};
	return 0;
}

/* Whether the comma-separated list v holds word (case-insensitive). */
static bool has_word(const char *v, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = v; *p != '\0';) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t len = strcspn(p, ", \t");
		if (len == n && strncasecmp(p, word, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* Content-Length, Transfer-Encoding and Connection. */
static int derive(ob_http_request *rq, const char **why)
{
	rq->keep_alive = rq->minor >= 1;
	for (size_t i = 0; i < rq->n_headers; i++) {
		const char *n = rq->headers[i].name, *v = rq->headers[i].value;
		if (strcasecmp(n, "Content-Length") == 0) {
			uint64_t len = 0;
			size_t digits = strspn(v, "0123456789");
			if (digits == 0 || v[digits] != '\0' || digits > 15) {
				*why = "Content-Length is not a number of at most 15 digits";
				return 400;
			}
			for (size_t k = 0; k < digits; k++)
				len = len * 10 + (uint64_t)(v[k] - '0');
			if (rq->has_length && len != rq->content_length) {
				*why = "two different Content-Length headers";
				return 400;
			}
			rq->has_length = true;
			rq->content_length = len;
		} else if (strcasecmp(n, "Transfer-Encoding") == 0) {
			rq->bad_te = rq->bad_te || rq->chunked || strcasecmp(v, "chunked") != 0;
			rq->chunked = true;
		} else if (strcasecmp(n, "Connection") == 0) {
			if (has_word(v, "close"))
				rq->keep_alive = false;
			else if (has_word(v, "keep-alive"))
				rq->keep_alive = true;
		}
	}
	return 0;
}

int ob_http_parse_head(char *buf, size_t len, ob_http_request *rq, const char **why)
{
	memset(rq, 0, sizeof(*rq));
	char *p = buf, *end = buf + len;
	if (memchr(buf, '\0', len) != NULL) {
		*why = "a NUL byte in the head";
		return 400;
	}
	char *l = line(&p, end);
	if (l == NULL) {
		*why = "the request line does not end in CRLF";
		return 400;
	}
	int status = request_line(l, rq, why);
	while (status == 0) {
		if ((l = line(&p, end)) == NULL) {
			*why = "a header line does not end in CRLF";
			return 400;
		}
		if (l[0] == '\0')
			break; /* the empty line */
		status = header_line(l, rq, why);
	}
	if (status == 0 && (status = derive(rq, why)) == 0 && rq->chunked && rq->has_length) {
		*why = "Transfer-Encoding and Content-Length together";
		status = 400;
	}
	return status;
}

enum { CHUNK_LINE_MAX = 1024 };

/* "Need more": the chunk at start, with body bytes before it, is where the next call resumes
 * (the complete chunks before it are not read again). */
static int more(ob_http_chunk_state *st, size_t start, size_t body)
{
	if (st != NULL) {
		st->at = start;
		st->body = body;
	}
	return 1;
}

/* The line at src[*at..n) without its CRLF: its length, or -1 when it is
 * not complete, -2 when it is too long or has a bare CR or LF. */
static long chunk_line(const uint8_t *src, size_t n, size_t *at)
{
	for (size_t i = *at; i < n; i++) {
		if (i - *at > CHUNK_LINE_MAX)
			return -2;
		if (src[i] == '\n')
			return -2;
		if (src[i] == '\r') {
			if (i + 1 == n)
				return -1;
			if (src[i + 1] != '\n')
				return -2;
			long len = (long)(i - *at);
			*at = i + 2;
			return len;
		}
	}
	return n - *at > CHUNK_LINE_MAX ? -2 : -1;
}

int ob_http_chunked(const uint8_t *src, size_t n, uint8_t *dst, size_t max, size_t *used,
                    size_t *len, const char **why, ob_http_chunk_state *st)
{
	size_t at = st != NULL ? st->at : 0, body = st != NULL ? st->body : 0;
	for (;;) {
		size_t start = at;
		long l = chunk_line(src, n, &at);
		if (l == -1)
			return more(st, start, body);
		if (l < 0 || l == 0) {
			*why = "a malformed chunk-size line";
			return 400;
		}
		uint64_t size = 0;
		size_t digits = 0;
		for (;
		     digits < (size_t)l && strchr("0123456789abcdefABCDEF", src[start + digits]) &&
		     src[start + digits] != '\0';
		     digits++) {
			if (digits == 8) {
				*why = "a chunk size of more than 8 hex digits";
				return 400;
			}
			char c = (char)src[start + digits];
			size = size * 16 + (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
		}
		if (digits == 0 || (digits < (size_t)l && src[start + digits] != ';' &&
		                    src[start + digits] != ' ' && src[start + digits] != '\t')) {
			*why = "a malformed chunk size";
			return 400;
		}
		if (size == 0) {
			at = start; /* the last chunk's line: the trailers start after it */
			break;
		}
		if (body + size > max) {
			*why = "the chunked body is over the limit";
			return 413;
		}
		if (n - at < size + 2)
			return more(st, start, body);
		if (src[at + size] != '\r' || src[at + size + 1] != '\n') {
			*why = "a chunk does not end in CRLF";
			return 400;
		}
		if (dst != NULL)
			memcpy(dst + body, src + at, size);
		body += size;
		at += size + 2;
	}
	/* Trailers, read past, up to the empty line. More to read resumes at the last chunk's
	 * line: a few bytes, and the trailers are bounded. */
	size_t last = at;
	(void)chunk_line(src, n, &at); /* complete: it was read above */
	for (size_t lines = 0;; lines++) {
		long l = chunk_line(src, n, &at);
		if (l == -1)
			return more(st, last, body);
		if (l == -2 || lines > 16) {
			*why = "malformed or too many trailers";
			return 400;
		}
		if (l == 0)
			break;
	}
	*used = at;
	*len = body;
	return 0;
}

const char *ob_http_header_get(const ob_http_request *rq, const char *name)
{
	for (size_t i = 0; i < rq->n_headers; i++)
		if (strcasecmp(rq->headers[i].name, name) == 0)
			return rq->headers[i].value;
	return NULL;
}

const char *ob_http_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
	        {200, "OK"},
	        {304, "Not Modified"},
	        {400, "Bad Request"},
	        {401, "Unauthorized"},
	        {403, "Forbidden"},
	        {404, "Not Found"},
	        {405, "Method Not Allowed"},
	        {408, "Request Timeout"},
	        {409, "Conflict"},
	        {411, "Length Required"},
	        {413, "Content Too Large"},
	        {415, "Unsupported Media Type"},
	        {429, "Too Many Requests"},
	        {431, "Request Header Fields Too Large"},
	        {499, "Client Closed Request"},
	        {500, "Internal Server Error"},
	        {501, "Not Implemented"},
	        {503, "Service Unavailable"},
	        {504, "Gateway Timeout"},
	        {505, "HTTP Version Not Supported"},
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

void ob_http_reply_fini(ob_http_reply *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->borrowed = NULL;
	r->body_len = 0;
}

void ob_http_reply_header(ob_http_reply *r, const char *name, const char *value)
{
	size_t used = strlen(r->headers);
	int n = snprintf(r->headers + used, sizeof(r->headers) - used, "%s: %s\r\n", name, value);
	if (n < 0 || (size_t)n >= sizeof(r->headers) - used)
		r->headers[used] = '\0'; /* does not fit: left out whole */
}

void ob_http_reply_text(ob_http_reply *r, int status, const char *text)
{
	free(r->body);
	r->status = status;
	r->content_type = "text/plain; charset=utf-8";
	r->body = (uint8_t *)strdup(text);
	r->body_len = r->body != NULL ? strlen(text) : 0;
}

/* Whether the header lines of a reply hold one called name (ASCII case-insensitive). */
static bool reply_has(const char *headers, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = headers; p != NULL && *p != '\0';) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return true;
		if ((p = strstr(p, "\r\n")) != NULL)
			p += 2;
	}
	return false;
}

uint8_t *ob_http_reply_render(const ob_http_reply *r, size_t *len)
{
	/* What every reply carries unless it says otherwise (the page's files set their own policy
	 * and cache): an error or an RPC's JSON is never sniffed into HTML, framed, or kept. */
	bool csp = !reply_has(r->headers, "Content-Security-Policy");
	bool cache = !reply_has(r->headers, "Cache-Control");
	bool sniff = !reply_has(r->headers, "X-Content-Type-Options");
	/* 1xx, 204 and 304 have no body; a 304's Content-Length would have to be the 200's
	 * (RFC 9110, 8.6), so none is sent. */
	bool bodiless = r->status < 200 || r->status == 204 || r->status == 304;
	char length[48] = "";
	if (!bodiless)
		snprintf(length, sizeof(length), "Content-Length: %zu\r\n", r->body_len);
	char head[2048];
	int n = snprintf(
	        head, sizeof(head), "HTTP/1.1 %d %s\r\n%s%s%s%s%s%s%s%s%s\r\n", r->status,
	        ob_http_reason(r->status), length, r->content_type != NULL ? "Content-Type: " : "",
	        r->content_type != NULL ? r->content_type : "",
	        r->content_type != NULL ? "\r\n" : "", r->close ? "Connection: close\r\n" : "",
	        r->headers,
	        csp ? "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
	            : "",
	        cache ? "Cache-Control: no-store\r\n" : "",
	        sniff ? "X-Content-Type-Options: nosniff\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return NULL;
	size_t body = r->head || bodiless ? 0 : r->body_len;
	uint8_t *out = malloc((size_t)n + body + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, head, (size_t)n);
	if (body > 0)
		memcpy(out + n, r->body != NULL ? r->body : r->borrowed, body);
	*len = (size_t)n + body;
	return out;
}
