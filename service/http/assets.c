/*
 * assets.c: serving the embedded files of assets.h.
 */
#include "http/assets.h"

#include <string.h>
#include <strings.h>

/* 'self' only. connect-src: the page's Connect calls go to the origin that served it.
 * img-src data: is for nothing today but keeps the favicon request (data: URL in the page)
 * from being a violation report. */
const char ob_assets_csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                             "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                             "form-action 'none'; frame-ancestors 'none'";

const ob_asset *ob_assets_find(const ob_assets *assets, const char *path)
{
	if (assets == NULL)
		return NULL;
	for (size_t i = 0; i < assets->n; i++)
		if (strcmp(assets->files[i].path, path) == 0)
			return &assets->files[i];
	return NULL;
}

/* Whether an If-None-Match value (a list of entity tags, or *) names etag. Weak tags
 * (W/"...") match too: If-None-Match compares weakly (RFC 9110, 13.1.2). */
static bool etag_matches(const char *list, const char *etag)
{
	size_t n = strlen(etag);
	const char *p = list;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
			return true;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return false;
}

void ob_assets_serve(const ob_asset *a, const ob_http_request *rq, ob_http_reply *out)
{
	bool head = strcmp(rq->method, "HEAD") == 0;
	if (!head && strcmp(rq->method, "GET") != 0) {
		ob_http_reply_header(out, "Allow", "GET, HEAD");
		ob_http_reply_text(out, 405, "use GET\n");
		return;
	}
	out->head = head;
	ob_http_reply_header(out, "Content-Security-Policy", ob_assets_csp);
	ob_http_reply_header(out, "X-Content-Type-Options", "nosniff");
	ob_http_reply_header(out, "Referrer-Policy", "no-referrer");
	ob_http_reply_header(out, "Cache-Control", "no-cache");
	ob_http_reply_header(out, "ETag", a->etag);
	/* The field may be sent as several lines, which make one list (RFC 9110, 5.3). */
	for (size_t i = 0; i < rq->n_headers; i++)
		if (strcasecmp(rq->headers[i].name, "If-None-Match") == 0 &&
		    etag_matches(rq->headers[i].value, a->etag)) {
			out->status = 304;
			return;
		}
	out->status = 200;
	out->content_type = a->content_type;
	out->borrowed = a->bytes;
	out->body_len = a->len;
}
