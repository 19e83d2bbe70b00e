/*
 * assets.h: the files of a web page that the HTTP face serves as they are,
 * from memory: the dashboard (dashboard/), embedded into onboardd at build
 * time by tools/embed.py --assets, so that nothing is read from disk or the
 * network at run time and no node runs anywhere.
 *
 * Every file is answered with its content type, X-Content-Type-Options:
 * nosniff, a strict Content-Security-Policy (scripts, styles, images and
 * fetches from this origin only: no inline script or style, no frame, no
 * form, no base), Referrer-Policy: no-referrer and a strong ETag (a hash
 * of the bytes). Cache-Control: no-cache (the browser keeps a copy and asks
 * whether it changed: a matching If-None-Match is a 304 without a body), so
 * that a new onboardd's page is seen at once; nothing personal is in these
 * files, the page fetches that over Connect (no-store there).
 *
 * Threading: the tables are constant; ob_assets_serve from any worker.
 */
#ifndef OB_HTTP_ASSETS_H
#define OB_HTTP_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

typedef struct ob_asset {
	const char *path;         /* "/" or "/assets/NAME" */
	const char *content_type; /* "text/javascript; charset=utf-8" */
	const unsigned char *bytes;
	size_t len;
	const char *etag; /* quoted: "\"0123abcd...\"" */
} ob_asset;

typedef struct ob_assets {
	const ob_asset *files;
	size_t n;
} ob_assets;

/* The dashboard, generated from dashboard/ (tools/embed.py --assets). */
extern const ob_assets ob_dashboard_assets;

/* The Content-Security-Policy every asset is served with. */
extern const char ob_assets_csp[];

/* The asset at rq->path, or NULL (assets may be NULL). */
const ob_asset *ob_assets_find(const ob_assets *assets, const char *path);

/* Serves asset a for rq into *out (which the caller zeroed): 200 with the
 * bytes (borrowed, not copied), 304 when an If-None-Match names its ETag, 405
 * for a method other than GET and HEAD. */
void ob_assets_serve(const ob_asset *a, const ob_http_request *rq, ob_http_reply *out);

#endif
