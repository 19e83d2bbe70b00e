/*
 * connect.c: the routes of connect.h. One pipeline, two faces: an RPC here
 * becomes an ob_call_input for ob_dispatch_handle_input(), which runs the
 * same checks, authorizer, limits, idempotency and handlers as an envelope
 * from nng; only the decoding of the request and the encoding of the reply
 * are this face's.
 */
#include "http/connect.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "base/clock.h"
#include "base64.h"
#include "domain/domain.h"
#include "json_codec.h"
#include "onboard/v1/health.pb-c.h"
#include "rpc/metrics.h"
#include "rpc/status.h"

/* Connect's HTTP status per gRPC code (0..16). */
static const int http_status[17] = {200, 499, 500, 400, 504, 404, 409, 403, 429,
                                    400, 409, 400, 501, 500, 503, 500, 401};

const char *ob_connect_code_name(int code)
{
	static const char *const names[17] = {
	        "ok",
	        "canceled",
	        "unknown",
	        "invalid_argument",
	        "deadline_exceeded",
	        "not_found",
	        "already_exists",
	        "permission_denied",
	        "resource_exhausted",
	        "failed_precondition",
	        "aborted",
	        "out_of_range",
	        "unimplemented",
	        "internal",
	        "unavailable",
	        "data_loss",
	        "unauthenticated",
	};
	return code >= 0 && code < 17 ? names[code] : "unknown";
}

int ob_connect_http_status(int code)
{
	return code >= 0 && code < 17 ? http_status[code] : 500;
}

/* Takes the JSON text j (a new reference) as the reply's body. */
static void json_body(ob_http_reply *out, int status, json_t *j)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	free(out->body);
	out->status = status;
	out->content_type = "application/json";
	out->body = (uint8_t *)text;
	out->body_len = text != NULL ? strlen(text) : 0;
	if (text == NULL)
		ob_http_reply_text(out, 500, "out of memory\n");
}

void ob_connect_error(ob_http_reply *out, int http_status_code, int code, const char *message)
{
	/* ob_json_string: a message may quote a peer's bytes, and json_pack's "s" refuses the
	 * whole reply for one byte of bad UTF-8 (found by fuzz_connect). */
	json_body(out, http_status_code,
	          json_pack("{s:s, s:o}", "code", ob_connect_code_name(code), "message",
	                    ob_json_string(message)));
}

/* google.rpc.BadRequest { repeated FieldViolation field_violations = 1; } as
 * bytes: our FieldViolation has google's numbers (field 1, description 2),
 * so each packed violation is a length-delimited field 1. */
static json_t *bad_request(const Onboard__V1__Response *rs)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->n_field_violations; i++)
		n += 11 + protobuf_c_message_get_packed_size(&rs->field_violations[i]->base);
	uint8_t *bytes = malloc(n + 1);
	json_t *debug = json_array();
	if (bytes == NULL || debug == NULL) {
		free(bytes);
		json_decref(debug);
		return NULL;
	}
	size_t off = 0;
	for (size_t i = 0; i < rs->n_field_violations; i++) {
		const Onboard__V1__FieldViolation *v = rs->field_violations[i];
		size_t len = protobuf_c_message_get_packed_size(&v->base);
		bytes[off++] = 0x0a; /* field 1, length-delimited */
		for (size_t l = len;; l >>= 7) {
			bytes[off++] = (uint8_t)((l & 0x7f) | (l >= 0x80 ? 0x80 : 0));
			if (l < 0x80)
				break;
		}
		off += protobuf_c_message_pack(&v->base, bytes + off);
		json_array_append_new(debug,
		                      json_pack("{s:o, s:o}", "field", ob_json_string(v->field),
		                                "description", ob_json_string(v->description)));
	}
	size_t b64len = sodium_base64_encoded_len(off, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	char *b64 = malloc(b64len);
	json_t *detail = NULL;
	if (b64 != NULL) {
		sodium_bin2base64(b64, b64len, bytes, off,
		                  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
		detail = json_pack("{s:s, s:s, s:{s:o}}", "type", "google.rpc.BadRequest", "value",
		                   b64, "debug", "fieldViolations", debug);
		debug = NULL;
	}
	json_decref(debug);
	free(b64);
	free(bytes);
	return detail;
}

/* A refused call: Connect's error JSON from the response envelope. */
static void rpc_error(ob_http_reply *out, const Onboard__V1__Response *rs)
{
	json_t *j = json_pack("{s:s, s:o}", "code", ob_connect_code_name((int)rs->code), "message",
	                      ob_json_string(rs->message));
	if (j != NULL && rs->n_field_violations > 0) {
		json_t *detail = bad_request(rs);
		if (detail != NULL)
			json_object_set_new(j, "details", json_pack("[o]", detail));
	}
	if (rs->retry_after_ms > 0) {
		char secs[24];
		snprintf(secs, sizeof(secs), "%u", (rs->retry_after_ms + 999) / 1000);
		ob_http_reply_header(out, "Retry-After", secs);
	}
	json_body(out, ob_connect_http_status((int)rs->code), j);
}

/* ob_payload_decode_fn for application/json: the proto3 JSON mapping into
 * the method's input type, packed into the call's arena. An empty body is
 * the empty message, as Connect's clients send none for it. */
static ob_err decode_json(ob_call *call, const ProtobufCMessageDescriptor *input,
                          const uint8_t *body, size_t len, const uint8_t **payload,
                          size_t *payload_len)
{
	char why[256];
	ProtobufCMessage *m = ob_json_parse_message(len > 0 ? (const char *)body : "{}",
	                                            len > 0 ? len : 2, input, why, sizeof(why));
	if (m == NULL) {
		/* "company.siren: expected a string": the path, then the reason. */
		const char *colon = strstr(why, ": ");
		if (colon != NULL && strncmp(why, "line ", 5) != 0 &&
		    strncmp(why, input->name, strlen(input->name)) != 0) {
			char field[128];
			snprintf(field, sizeof(field), "%.*s", (int)(colon - why), why);
			ob_call_violation(call, field, "%s", colon + 2);
		}
		return ob_call_fail(call, OB_EINVAL, "malformed JSON for %s: %s", input->name, why);
	}
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = ob_arena_alloc(&call->arena, n > 0 ? n : 1);
	if (buf != NULL)
		protobuf_c_message_pack(m, buf);
	protobuf_c_message_free_unpacked(m, NULL);
	if (buf == NULL)
		return ob_call_fail(call, OB_ETOOBIG, "the request does not fit the call's budget");
	*payload = buf;
	*payload_len = n;
	return OB_OK;
}

/* The reply of a successful call, in the request's encoding. */
static void rpc_reply(ob_http_reply *out, ob_call *call, const ProtobufCMethodDescriptor *md,
                      const Onboard__V1__Response *rs, bool json)
{
	if (rs->replayed)
		ob_http_reply_header(out, "Idempotency-Replayed", "true");
	if (!json) {
		out->status = 200;
		out->content_type = "application/proto";
		out->body = malloc(rs->payload.len > 0 ? rs->payload.len : 1);
		if (out->body == NULL) {
			ob_connect_error(out, 500, ONBOARD__V1__CODE__RESOURCE_EXHAUSTED,
			                 "out of memory");
			return;
		}
		memcpy(out->body, rs->payload.data, rs->payload.len);
		out->body_len = rs->payload.len;
		return;
	}
	ProtobufCMessage *m = protobuf_c_message_unpack(md->output, &call->arena.pb,
	                                                rs->payload.len, rs->payload.data);
	char *text = m != NULL ? ob_json_dump_message(m, 0, 0) : NULL;
	if (text == NULL) {
		ob_connect_error(out, 500, ONBOARD__V1__CODE__INTERNAL,
		                 "the reply could not be written as JSON");
		return;
	}
	out->status = 200;
	out->content_type = "application/json";
	out->body = (uint8_t *)text;
	out->body_len = strlen(text);
}

static bool media_type(const char *ct, const char *want)
{
	size_t n = strlen(want);
	if (ct == NULL || strncasecmp(ct, want, n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* A query parameter's value, percent-decoded into buf; NULL when absent or
 * malformed. */
static const char *query_param(const char *query, const char *name, char *buf, size_t cap,
                               size_t *len)
{
	size_t nl = strlen(name);
	for (const char *p = query; *p != '\0';) {
		const char *amp = strchr(p, '&');
		size_t plen = amp != NULL ? (size_t)(amp - p) : strlen(p);
		if (plen > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t o = 0;
			for (size_t i = nl + 1; i < plen; i++) {
				if (o + 1 >= cap)
					return NULL;
				if (p[i] == '%') {
					if (i + 2 >= plen || !isxdigit((unsigned char)p[i + 1]) ||
					    !isxdigit((unsigned char)p[i + 2]))
						return NULL;
					char hex[3] = {p[i + 1], p[i + 2], '\0'};
					buf[o++] = (char)strtol(hex, NULL, 16);
					i += 2;
				} else {
					buf[o++] = p[i] == '+' ? ' ' : p[i];
				}
			}
			buf[o] = '\0';
			*len = o;
			return buf;
		}
		p += plen + (amp != NULL ? 1 : 0);
	}
	return NULL;
}

/* Decodes the URL-safe base64 (padded or not) of msg[0..*n) in place. */
static bool unbase64(char *msg, size_t *n)
{
	uint8_t *bin = malloc(*n + 1);
	size_t len = 0;
	bool ok = bin != NULL && (ob_base642bin(bin, *n + 1, msg, *n, NULL, &len, NULL,
	                                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 ||
	                          ob_base642bin(bin, *n + 1, msg, *n, NULL, &len, NULL,
	                                        sodium_base64_VARIANT_URLSAFE) == 0);
	if (ok) {
		memcpy(msg, bin, len);
		*n = len;
	}
	free(bin);
	return ok;
}

/* The request headers every RPC shares, into in. Returns NULL or why the
 * request is refused (400 invalid_argument). */
static const char *rpc_headers(const ob_http_request *rq, ob_call_input *in, bool *expired)
{
	const char *v = ob_http_header_get(rq, "Connect-Protocol-Version");
	if (v != NULL && strcmp(v, "1") != 0)
		return "Connect-Protocol-Version must be 1";
	if ((v = ob_http_header_get(rq, "Connect-Timeout-Ms")) != NULL) {
		size_t digits = strspn(v, "0123456789");
		if (digits == 0 || digits > 10 || v[digits] != '\0')
			return "Connect-Timeout-Ms must be a positive integer of at most 10 digits";
		unsigned long long ms = strtoull(v, NULL, 10);
		in->timeout_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
		*expired = ms == 0; /* a deadline of now: passed when the call starts */
	}
	if ((v = ob_http_header_get(rq, "Authorization")) != NULL) {
		if (strncasecmp(v, "Bearer ", 7) != 0 || v[7] == '\0')
			return "Authorization must be 'Bearer TOKEN' (a token from Auth/Login)";
		in->authorization = v + 7;
	}
	in->idempotency_key = ob_http_header_get(rq, "Idempotency-Key");
	in->request_id = ob_http_header_get(rq, "Request-Id");
	if (in->request_id == NULL)
		in->request_id = ob_http_header_get(rq, "X-Request-Id");
	v = ob_http_header_get(rq, "Content-Encoding");
	if (v != NULL && strcasecmp(v, "identity") != 0)
		return "Content-Encoding: only identity is supported";
	return NULL;
}

static int serve_rpc(const ob_connect *cx, ob_call *call, const ob_http_request *rq,
                     ob_http_reply *out)
{
	/* Replies carry applications and contacts: no cache, the browser's or a proxy's, keeps
	 * them (a GET call would otherwise be a cacheable response). */
	ob_http_reply_header(out, "Cache-Control", "no-store");
	const char *path = rq->path;
	if (strcmp(path, "/grpc.health.v1.Health/Check") == 0)
		path = "/onboard.v1.Health/Check"; /* the same messages, field for field */
	unsigned flags = 0;
	const ProtobufCMethodDescriptor *md = ob_dispatch_find(cx->dispatch, path, &flags);
	bool get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	if (md != NULL && !get && strcmp(rq->method, "POST") != 0) {
		ob_http_reply_header(out, "Allow",
		                     flags & OB_METHOD_NO_SIDE_EFFECTS ? "GET, POST" : "POST");
		ob_connect_error(out, 405, ONBOARD__V1__CODE__UNIMPLEMENTED,
		                 "an RPC is called with POST (or GET for reads)");
		return -1;
	}
	if (md != NULL && get && !(flags & OB_METHOD_NO_SIDE_EFFECTS)) {
		ob_http_reply_header(out, "Allow", "POST");
		ob_connect_error(out, 405, ONBOARD__V1__CODE__UNIMPLEMENTED,
		                 "this method changes state: call it with POST");
		return -1;
	}
	ob_call_input in = {.method = path};
	bool expired = false;
	const char *why = rpc_headers(rq, &in, &expired);
	if (expired) /* now: the pipeline sets a deadline only for a timeout > 0 */
		call->deadline_us = ob_clock_mono_us();
	bool json = false;
	char *msg = NULL;
	if (md == NULL) {
		/* No such method: the pipeline says so (a 404, counted as on nng), whatever the
		 * query or the body, which are not read. */
	} else if (why == NULL && get) {
		/* Connect's GET: ?encoding=json|proto&message=...[&base64=1] */
		char enc[16], b64[8], comp[16];
		size_t n;
		const char *e = query_param(rq->query, "encoding", enc, sizeof(enc), &n);
		const char *c = query_param(rq->query, "compression", comp, sizeof(comp), &n);
		bool base64 = query_param(rq->query, "base64", b64, sizeof(b64), &n) != NULL &&
		              strcmp(b64, "1") == 0;
		json = e != NULL && strcmp(e, "json") == 0;
		size_t cap = strlen(rq->query) + 1;
		if ((msg = malloc(cap)) == NULL) {
			ob_connect_error(out, 500, ONBOARD__V1__CODE__RESOURCE_EXHAUSTED,
			                 "out of memory");
			return -1;
		}
		if (e == NULL || (!json && strcmp(e, "proto") != 0))
			why = "GET needs encoding=json or encoding=proto";
		else if (c != NULL && strcmp(c, "identity") != 0)
			why = "compression: only identity is supported";
		else if (query_param(rq->query, "message", msg, cap, &n) == NULL)
			why = "GET needs a message parameter (the request, percent-encoded)";
		else if (base64 && !unbase64(msg, &n))
			why = "message is not URL-safe base64";
		in.payload = (const uint8_t *)msg;
		in.payload_len = n;
	} else {
		const char *ct = ob_http_header_get(rq, "Content-Type");
		json = media_type(ct, "application/json");
		if (why == NULL && !json && !media_type(ct, "application/proto")) {
			ob_http_reply_header(out, "Accept-Post",
			                     "application/json, application/proto");
			ob_connect_error(
			        out, 415, ONBOARD__V1__CODE__UNIMPLEMENTED,
			        "Content-Type must be application/json or application/proto");
			return -1;
		}
		in.payload = rq->body;
		in.payload_len = rq->body_len;
	}
	if (why != NULL) {
		free(msg);
		ob_connect_error(out, 400, ONBOARD__V1__CODE__INVALID_ARGUMENT, why);
		return -1;
	}
	if (json)
		in.decode = decode_json;
	const Onboard__V1__Response *rs = ob_dispatch_handle_input(cx->dispatch, call, &in);
	if (rs->code == ONBOARD__V1__CODE__OK && md != NULL)
		rpc_reply(out, call, md, rs, json);
	else if (md == NULL)
		ob_connect_error(out, 404, ONBOARD__V1__CODE__UNIMPLEMENTED,
		                 rs->message != NULL ? rs->message : "no such method");
	else
		rpc_error(out, rs);
	free(msg);
	return (int)rs->code;
}

/* /readyz: Health/Check through the pipeline (draining, the store, its writes), and a
 * domain, which exists only once the master keys were loaded. Says why not. */
/* 503 with why: the store out of reach, or its writes failing (domain.h). */
static void writes_fail(ob_http_reply *out, ob_err writes)
{
	char text[160];
	if (writes == OB_OK)
		snprintf(text, sizeof(text), "not ready: the store cannot be reached\n");
	else
		snprintf(text, sizeof(text), "not ready: writes fail (%s); reads go on\n",
		         ob_strerror(writes));
	ob_http_reply_text(out, 503, text);
}

static void readyz(const ob_connect *cx, ob_call *call, ob_http_reply *out)
{
	const ob_call_input in = {.method = "/onboard.v1.Health/Check"};
	const Onboard__V1__Response *rs = ob_dispatch_handle_input(cx->dispatch, call, &in);
	Onboard__V1__HealthCheckResponse *h =
	        rs->code == ONBOARD__V1__CODE__OK
	                ? onboard__v1__health_check_response__unpack(
	                          &call->arena.pb, rs->payload.len, rs->payload.data)
	                : NULL;
	if (cx->domain == NULL)
		ob_http_reply_text(out, 503, "not ready: no store\n");
	else if (h == NULL)
		ob_http_reply_text(out, 503, "not ready: the health check failed\n");
	else if (call->draining)
		ob_http_reply_text(out, 503, "not ready: draining\n");
	else if (h->status != ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
		writes_fail(out, ob_domain_write_health(cx->domain));
	else
		ob_http_reply_text(out, 200, "ready\n");
}

int ob_connect_serve(const ob_connect *cx, ob_call *call, const ob_http_request *rq,
                     ob_http_reply *out)
{
	bool get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	const ob_asset *asset = NULL;
	out->head = strcmp(rq->method, "HEAD") == 0;
	bool probe = strcmp(rq->path, "/healthz") == 0 || strcmp(rq->path, "/readyz") == 0 ||
	             strcmp(rq->path, "/metrics") == 0;
	if (probe && !get) {
		ob_http_reply_header(out, "Allow", "GET, HEAD");
		ob_http_reply_text(out, 405, "use GET\n");
	} else if (strcmp(rq->path, "/healthz") == 0) {
		ob_http_reply_text(out, 200, "ok\n");
	} else if (strcmp(rq->path, "/readyz") == 0) {
		readyz(cx, call, out);
	} else if (strcmp(rq->path, "/metrics") == 0) {
		size_t len = 0;
		char *text = cx->metrics != NULL ? ob_metrics_render(cx->metrics, cx->domain, &len)
		                                 : NULL;
		if (text == NULL) {
			ob_http_reply_text(out, 500, "metrics unavailable\n");
		} else {
			out->status = 200;
			out->content_type = ob_metrics_content_type;
			out->body = (uint8_t *)text;
			out->body_len = len;
		}
	} else if ((asset = ob_assets_find(cx->assets, rq->path)) != NULL) {
		ob_assets_serve(asset, rq, out);
	} else if (strchr(rq->path + 1, '/') != NULL) {
		return serve_rpc(cx, call, rq, out);
	} else {
		ob_connect_error(out, 404, ONBOARD__V1__CODE__NOT_FOUND,
		                 "no such path: RPCs are at /PACKAGE.SERVICE/METHOD");
	}
	return -1;
}
