/*
 * connect.h: the HTTP face's routes. Connect's unary protocol
 * (connectrpc.com/docs/protocol) for every method the dispatch serves, over
 * the same pipeline as the nng face (rpc/dispatch.h): the method from the
 * path, the metadata from headers, the deadline from Connect-Timeout-Ms, the
 * payload as application/proto or, through the proto3 JSON codec
 * (common/json_codec.h), application/json. Besides: /healthz, /readyz,
 * /metrics, /grpc.health.v1.Health/Check as a name for Health/Check, and the
 * files of a web page (assets.h: the dashboard at /).
 *
 *   POST /onboard.v1.Onboarding/GetCohort        Content-Type: application/json
 *   GET  /onboard.v1.Onboarding/GetCohort?encoding=json&message=%7B%7D
 *        (methods flagged OB_METHOD_NO_SIDE_EFFECTS only)
 *
 * Headers read: Content-Type, Connect-Protocol-Version (1 when present),
 * Connect-Timeout-Ms, Authorization (Bearer TOKEN), Idempotency-Key,
 * Request-Id (or X-Request-Id), Content-Encoding (identity only). Errors are
 * Connect's JSON: {"code": "invalid_argument", "message": ..., "details":
 * [{"type": "google.rpc.BadRequest", "value": base64, "debug": {...}}]},
 * with Connect's HTTP status for each code and Retry-After when the pipeline
 * asks for one.
 *
 * Threading: ob_connect_serve from any worker, each with its own call.
 */
#ifndef OB_HTTP_CONNECT_H
#define OB_HTTP_CONNECT_H

#include "http/assets.h"
#include "http/request.h"
#include "rpc/dispatch.h"

typedef struct ob_domain ob_domain;
typedef struct ob_metrics ob_metrics;

typedef struct ob_connect {
	const ob_dispatch *dispatch;
	ob_metrics *metrics;     /* for /metrics; NULL: 404 there */
	ob_domain *domain;       /* per-cohort figures for /metrics; may be NULL */
	const ob_assets *assets; /* files served at their paths (the dashboard); may be NULL */
} ob_connect;

/* Serves rq into *out (which the caller zeroed). call is reset, with the
 * peer, arrival time, draining flag and request size cap set by the face.
 * Returns the gRPC status code of an RPC (for the metrics and the access
 * log: call->method names it), or -1 for the other routes. */
int ob_connect_serve(const ob_connect *cx, ob_call *call, const ob_http_request *rq,
                     ob_http_reply *out);

/* Connect's name of a gRPC status code ("invalid_argument", "canceled"),
 * and the HTTP status it travels with. */
const char *ob_connect_code_name(int code);
int ob_connect_http_status(int code);

/* A Connect error reply: status from code, JSON body with code and message
 * (and no details). For the face's own refusals (413, 431, timeouts). */
void ob_connect_error(ob_http_reply *out, int http_status, int code, const char *message);

#endif
