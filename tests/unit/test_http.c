/*
 * test_http.c: the HTTP face without sockets: the strict head parser and the chunked decoder
 * (service/http/request.c), the reply writer, Connect's code and status tables, and the routes
 * of service/http/connect.c over a real dispatch (Health and Reflection, no authorizer) and
 * real metrics: encodings, errors in Connect's JSON, GET rules, deadlines, the probes, and the
 * dashboard's embedded files (http/assets.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "http/assets.h"
#include "http/connect.h"
#include "http/request.h"
#include "onboard/v1/health.pb-c.h"
#include "rpc/dispatch.h"
#include "rpc/handlers.h"
#include "rpc/metrics.h"

/* ---- the head parser ------------------------------------------------------ */

/* Parses text as a head; returns the status and leaves the request in *rq (text is copied
 * into buf, which must outlive rq's strings). */
static int parse(const char *text, char *buf, size_t cap, ob_http_request *rq, const char **why)
{
	size_t n = strlen(text);
	assert_true(n < cap);
	memcpy(buf, text, n + 1);
	size_t hl = ob_http_head_length(buf, n, NULL);
	assert_true(hl > 0);
	return ob_http_parse_head(buf, hl, rq, why);
}

static void test_head_ok(void **state)
{
	(void)state;
	char buf[512];
	ob_http_request rq;
	const char *why = NULL;
	assert_int_equal(parse("POST /onboard.v1.Health/Check?x=1&y=2 HTTP/1.1\r\n"
	                       "Host: h\r\ncontent-length:  12 \r\nX-Empty:\r\n\r\n",
	                       buf, sizeof(buf), &rq, &why),
	                 0);
	assert_string_equal(rq.method, "POST");
	assert_string_equal(rq.path, "/onboard.v1.Health/Check");
	assert_string_equal(rq.query, "x=1&y=2");
	assert_int_equal(rq.minor, 1);
	assert_true(rq.has_length);
	assert_int_equal(rq.content_length, 12);
	assert_true(rq.keep_alive);
	assert_false(rq.chunked);
	assert_string_equal(ob_http_header_get(&rq, "CONTENT-LENGTH"), "12");
	assert_string_equal(ob_http_header_get(&rq, "x-empty"), "");
	assert_null(ob_http_header_get(&rq, "Content-Type"));

	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", buf, sizeof(buf), &rq, &why), 0);
	assert_false(rq.keep_alive); /* HTTP/1.0 */
	assert_int_equal(parse("GET / HTTP/1.1\r\nConnection: Keep-Alive, close\r\n\r\n", buf,
	                       sizeof(buf), &rq, &why),
	                 0);
	assert_false(rq.keep_alive);
	assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", buf,
	                       sizeof(buf), &rq, &why),
	                 0);
	assert_true(rq.chunked);
	assert_false(rq.bad_te);
	assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", buf,
	                       sizeof(buf), &rq, &why),
	                 0);
	assert_true(rq.bad_te);
}

static void test_head_refused(void **state)
{
	(void)state;
	static const struct {
		const char *head;
		int status;
	} cases[] = {
	        {"GET /\r\n\r\n", 400},                                /* no version */
	        {"GET / HTTP/2.0\r\n\r\n", 505},                       /* another version */
	        {"GET / FTP/1.1\r\n\r\n", 400},                        /* not HTTP */
	        {"G(T / HTTP/1.1\r\n\r\n", 400},                       /* method not a token */
	        {"GET x HTTP/1.1\r\n\r\n", 400},                       /* not origin-form */
	        {"GET /a\x7f HTTP/1.1\r\n\r\n", 400},                  /* DEL in the target */
	        {"GET /  HTTP/1.1\r\n\r\n", 400},                      /* two spaces */
	        {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400},           /* header without ':' */
	        {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},        /* space in a name */
	        {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},    /* obs-fold */
	        {"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", 400},           /* control in a value */
	        {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400}, /* not digits */
	        {"GET / HTTP/1.1\r\nContent-Length: 1234567890123456\r\n\r\n", 400}, /* 16 digits */
	        {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
	        {"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	        {"GET / HTTP/1.1\nA: b\r\n\r\n", 400}, /* a bare LF ends the head, refused */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[512];
		ob_http_request rq;
		const char *why = NULL;
		assert_int_equal(parse(cases[i].head, buf, sizeof(buf), &rq, &why),
		                 cases[i].status);
		assert_non_null(why);
	}
	/* A NUL anywhere in the head. */
	char nul[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
	ob_http_request rq;
	const char *why = NULL;
	assert_int_equal(ob_http_parse_head(nul, sizeof(nul) - 1, &rq, &why), 400);
	/* More than OB_HTTP_MAX_HEADERS headers. */
	char many[4096] = "GET / HTTP/1.1\r\n";
	for (int i = 0; i <= OB_HTTP_MAX_HEADERS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "H%d: v\r\n", i);
	strcat(many, "\r\n");
	assert_int_equal(ob_http_parse_head(many, strlen(many), &rq, &why), 431);
}

static void test_head_length(void **state)
{
	(void)state;
	assert_int_equal(ob_http_head_length("GET / HTTP/1.1\r\n", 16, NULL), 0); /* not yet */
	assert_int_equal(ob_http_head_length("GET / HTTP/1.1\r\n\r\nbody", 22, NULL), 18);
	assert_int_equal(ob_http_head_length("GET / HTTP/1.1\n", 15, NULL),
	                 15); /* bare LF: refuse now */
	assert_int_equal(ob_http_head_length("", 0, NULL), 0);
	/* Resumed: what was scanned is not scanned again, and the end is still found across
	 * the boundary. */
	const char head[] = "GET / HTTP/1.1\r\nA: b\r\n\r\n";
	size_t scanned = 0;
	for (size_t n = 0; n < sizeof(head) - 2; n++) {
		assert_int_equal(ob_http_head_length(head, n, &scanned), 0);
		assert_int_equal(scanned, n);
	}
	assert_int_equal(ob_http_head_length(head, sizeof(head) - 1, &scanned), sizeof(head) - 1);
}

/* ---- the chunked decoder -------------------------------------------------------- */

static int chunked(const char *wire, size_t max, char *out, size_t *used, size_t *len)
{
	const char *why = NULL;
	int r = ob_http_chunked((const uint8_t *)wire, strlen(wire), (uint8_t *)out, max, used, len,
	                        &why, NULL);
	if (r != 0 && r != 1)
		assert_non_null(why);
	return r;
}

static void test_chunked(void **state)
{
	(void)state;
	char out[64] = {0};
	size_t used = 0, len = 0;
	const char *wire = "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
	assert_int_equal(chunked(wire, 64, out, &used, &len), 0);
	assert_int_equal(len, 9);
	assert_memory_equal(out, "Wikipedia", 9);
	assert_int_equal(used, strlen(wire) - 4); /* the next request stays */
	assert_int_equal(chunked("0\r\n\r\n", 64, NULL, &used, &len), 0);
	assert_int_equal(len, 0);
	/* Incomplete at every cut. */
	for (size_t cut = 0; cut < strlen(wire) - 4; cut++) {
		char part[128];
		memcpy(part, wire, cut);
		part[cut] = '\0';
		assert_int_equal(chunked(part, 64, NULL, &used, &len), 1);
	}
	/* Resumed byte by byte, it ends as read whole, without reading complete chunks again. */
	ob_http_chunk_state st = {0, 0};
	const char *why = NULL;
	size_t whole = strlen(wire) - 4;
	for (size_t n = 0; n < whole; n++) {
		assert_int_equal(
		        ob_http_chunked((const uint8_t *)wire, n, NULL, 64, &used, &len, &why, &st),
		        1);
		assert_true(st.at <= n);
	}
	assert_int_equal(st.at, strlen("4\r\nWiki\r\n5;ext=1\r\npedia\r\n")); /* the last chunk */
	assert_int_equal(st.body, 9);
	assert_int_equal(
	        ob_http_chunked((const uint8_t *)wire, whole, NULL, 64, &used, &len, &why, &st), 0);
	assert_int_equal(used, whole);
	assert_int_equal(len, 9);
	assert_int_equal(chunked("A\r\n0123456789\r\n0\r\n\r\n", 9, NULL, &used, &len), 413);
	assert_int_equal(chunked("zz\r\n", 64, NULL, &used, &len), 400);
	assert_int_equal(chunked("\r\n", 64, NULL, &used, &len), 400);
	assert_int_equal(chunked("123456789\r\n", 1u << 30, NULL, &used, &len), 400); /* 9 digits */
	assert_int_equal(chunked("2\r\nabX\r\n", 64, NULL, &used, &len), 400); /* no CRLF after */
	assert_int_equal(chunked("2\nab\r\n", 64, NULL, &used, &len), 400);    /* bare LF */
}

/* ---- the reply writer and the tables ---------------------------------------------- */

static void test_reply(void **state)
{
	(void)state;
	ob_http_reply r = {.close = true};
	ob_http_reply_header(&r, "Retry-After", "2");
	ob_http_reply_text(&r, 503, "busy\n");
	size_t len = 0;
	uint8_t *bytes = ob_http_reply_render(&r, &len);
	assert_non_null(bytes);
	const char want[] =
	        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n"
	        "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
	        "Retry-After: 2\r\n"
	        "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
	        "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
	        "\r\nbusy\n";
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(bytes, want, len);
	free(bytes);
	r.head = true; /* HEAD: the length of the body, not the body */
	bytes = ob_http_reply_render(&r, &len);
	assert_int_equal(len, sizeof(want) - 1 - 5);
	free(bytes);
	ob_http_reply_fini(&r);
	ob_http_reply_fini(NULL);
}

static void test_connect_tables(void **state)
{
	(void)state;
	static const struct {
		int code;
		const char *name;
		int status;
	} want[] = {
	        {0, "ok", 200},
	        {1, "canceled", 499},
	        {2, "unknown", 500},
	        {3, "invalid_argument", 400},
	        {4, "deadline_exceeded", 504},
	        {5, "not_found", 404},
	        {6, "already_exists", 409},
	        {7, "permission_denied", 403},
	        {8, "resource_exhausted", 429},
	        {9, "failed_precondition", 400},
	        {10, "aborted", 409},
	        {11, "out_of_range", 400},
	        {12, "unimplemented", 501},
	        {13, "internal", 500},
	        {14, "unavailable", 503},
	        {15, "data_loss", 500},
	        {16, "unauthenticated", 401},
	        {17, "unknown", 500},
	        {-1, "unknown", 500},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(ob_connect_code_name(want[i].code), want[i].name);
		assert_int_equal(ob_connect_http_status(want[i].code), want[i].status);
	}
}

/* ---- the routes -------------------------------------------------------------------- */

typedef struct {
	ob_dispatch *d;
	ob_metrics *metrics;
	ob_rpc_env env;
	ob_connect cx;
	ob_call call;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(ob_dispatch_create(&f->d), OB_OK);
	assert_int_equal(ob_health_register(f->d), OB_OK);
	assert_int_equal(ob_reflection_register(f->d), OB_OK);
	assert_int_equal(
	        ob_dispatch_mark(f->d, "/onboard.v1.Health/Check", OB_METHOD_NO_SIDE_EFFECTS),
	        OB_OK);
	assert_int_equal(ob_metrics_create(&f->metrics, f->d), OB_OK);
	f->env.dispatch = f->d;
	f->cx = (ob_connect){.dispatch = f->d, .metrics = f->metrics};
	ob_call_init(&f->call, &f->env, 4096);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	ob_call_fini(&f->call);
	ob_metrics_destroy(f->metrics);
	ob_dispatch_destroy(f->d);
	free(f);
	return 0;
}

/* Serves the request of head (and body); the reply in *r (fini'd by the caller), the JSON
 * body, if any, parsed into *j. Returns ob_connect_serve's code. */
static int serve(fixture *f, const char *head, const char *body, size_t body_len, ob_http_reply *r,
                 json_t **j)
{
	static char buf[2048];
	ob_http_request rq;
	const char *why = NULL;
	assert_int_equal(parse(head, buf, sizeof(buf), &rq, &why), 0);
	rq.body = (const uint8_t *)body;
	rq.body_len = body_len;
	ob_call_reset(&f->call);
	memset(r, 0, sizeof(*r));
	int code = ob_connect_serve(&f->cx, &f->call, &rq, r);
	*j = NULL;
	if (r->content_type != NULL && strcmp(r->content_type, "application/json") == 0)
		*j = json_loadb((const char *)r->body, r->body_len, 0, NULL);
	return code;
}

static const char *jstr(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s != NULL ? s : "";
}

/* serve(), checking ob_connect_serve's code and the HTTP status; the reply and its JSON body
 * in *r and *j, as serve() leaves them. */
static void serve_expect(fixture *f, const char *head, const char *body, size_t body_len,
                         int want_code, int want_status, ob_http_reply *r, json_t **j)
{
	int code = serve(f, head, body, body_len, r, j);
	if (code != want_code || r->status != want_status)
		fail_msg("%s: code %d status %d, want %d %d", head, code, r->status, want_code,
		         want_status);
}

/* serve_expect(), and when want_name is not NULL, the Connect code name of the JSON error
 * body. */
static void expect_reply(fixture *f, const char *head, const char *body, size_t body_len,
                         int want_code, int want_status, const char *want_name)
{
	ob_http_reply r;
	json_t *j;
	serve_expect(f, head, body, body_len, want_code, want_status, &r, &j);
	if (want_name != NULL)
		assert_string_equal(jstr(j, "code"), want_name);
	json_decref(j);
	ob_http_reply_fini(&r);
}

static void test_rpc_json_and_proto(void **state)
{
	fixture *f = *state;
	ob_http_reply r;
	json_t *j;
	serve_expect(f,
	             "POST /onboard.v1.Health/Check HTTP/1.1\r\n"
	             "Content-Type: application/json; charset=utf-8\r\n\r\n",
	             "{\"service\": \"\"}", 15, 0, 200, &r, &j);
	assert_string_equal(jstr(j, "status"), "SERVING");
	json_decref(j);
	ob_http_reply_fini(&r); /* An empty JSON body is the empty message. */
	expect_reply(
	        f,
	        "POST /onboard.v1.Health/Check HTTP/1.1\r\nContent-Type: application/json\r\n\r\n",
	        "", 0, 0, 200, NULL);
	/* application/proto both ways; and grpc.health.v1's name for the same method. */
	uint8_t req[] = {0x0a, 0x00}; /* service = "" */
	serve_expect(f,
	             "POST /grpc.health.v1.Health/Check HTTP/1.1\r\n"
	             "Content-Type: application/proto\r\n\r\n",
	             (const char *)req, sizeof(req), 0, 200, &r, &j);
	assert_string_equal(r.content_type, "application/proto");
	Onboard__V1__HealthCheckResponse *h =
	        onboard__v1__health_check_response__unpack(NULL, r.body_len, r.body);
	assert_non_null(h);
	assert_int_equal(h->status, ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
	onboard__v1__health_check_response__free_unpacked(h, NULL);
	ob_http_reply_fini(&r);
}

static void test_rpc_errors(void **state)
{
	fixture *f = *state;
	ob_http_reply r;
	json_t *j;
	/* Malformed JSON, an unknown field, a wrong type: 400 invalid_argument, the field named
	 * in a google.rpc.BadRequest detail when there is one. */
	serve_expect(f,
	             "POST /onboard.v1.Health/Check HTTP/1.1\r\n"
	             "Content-Type: application/json\r\n\r\n",
	             "{\"service\": 5}", 14, 3, 400, &r, &j);
	assert_string_equal(jstr(j, "code"), "invalid_argument");
	json_t *d = json_array_get(json_object_get(j, "details"), 0);
	assert_string_equal(jstr(d, "type"), "google.rpc.BadRequest");
	assert_string_equal(
	        jstr(json_array_get(json_object_get(json_object_get(d, "debug"), "fieldViolations"),
	                            0),
	             "field"),
	        "service");
	assert_true(strlen(jstr(d, "value")) > 0);
	json_decref(j);
	ob_http_reply_fini(&r);
	static const char *const json_post = "POST /onboard.v1.Health/Check HTTP/1.1\r\n"
	                                     "Content-Type: application/json\r\n\r\n";
	const char *bad[] = {"{\"service\":", "{\"nope\": 1}", "[]", "{\"service\": \"\\u0000\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_reply(f, json_post, bad[i], strlen(bad[i]), 3, 400, "invalid_argument");
	/* An unknown method: 404 unimplemented. */
	expect_reply(
	        f,
	        "POST /onboard.v1.Health/Nope HTTP/1.1\r\nContent-Type: application/json\r\n\r\n",
	        "{}", 2, 12, 404, "unimplemented");
	/* A content type the face does not speak: 415, before anything else. */
	expect_reply(
	        f,
	        "POST /onboard.v1.Health/Check HTTP/1.1\r\nContent-Type: application/jsonx\r\n\r\n",
	        "{}", 2, -1, 415, "unimplemented");
	/* Headers: protocol version, timeout, authorization scheme, encoding, metadata rules. */
	static const char *const heads[] = {
	        "Connect-Protocol-Version: 2\r\n", "Connect-Timeout-Ms: 12345678901\r\n",
	        "Connect-Timeout-Ms: -5\r\n",      "Authorization: Basic eA==\r\n",
	        "Content-Encoding: br\r\n",
	};
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		char head[256];
		snprintf(head, sizeof(head),
		         "POST /onboard.v1.Health/Check HTTP/1.1\r\nContent-Type: "
		         "application/json\r\n"
		         "%s\r\n",
		         heads[i]);
		expect_reply(f, head, "{}", 2, -1, 400, "invalid_argument");
	}
	/* A request id that is not printable ASCII is refused by the pipeline's metadata rule. */
	expect_reply(f,
	             "POST /onboard.v1.Health/Check HTTP/1.1\r\n"
	             "Content-Type: application/json\r\nRequest-Id: a b\r\n\r\n",
	             "{}", 2, 3, 400, "invalid_argument");
	/* Connect-Timeout-Ms: 0 has passed when the call starts. */
	expect_reply(f,
	             "POST /onboard.v1.Health/Check HTTP/1.1\r\n"
	             "Content-Type: application/json\r\nConnect-Timeout-Ms: 0\r\n\r\n",
	             "{}", 2, 4, 504, "deadline_exceeded");
}

static void test_get(void **state)
{
	fixture *f = *state;
	ob_http_reply r;
	json_t *j;
	/* A read by GET, percent-encoded or base64 (URL-safe, no padding). */
	serve_expect(f,
	             "GET /onboard.v1.Health/Check?encoding=json&message=%7B%22service"
	             "%22%3A%22%22%7D&connect=v1 HTTP/1.1\r\n\r\n",
	             NULL, 0, 0, 200, &r, &j);
	assert_string_equal(jstr(j, "status"), "SERVING");
	json_decref(j);
	ob_http_reply_fini(&r);
	expect_reply(
	        f,
	        "GET /onboard.v1.Health/Check?encoding=json&base64=1&message=e30 HTTP/1.1\r\n\r\n",
	        NULL, 0, 0, 200, NULL);
	/* A method not marked NO_SIDE_EFFECTS: 405 with Allow: POST. */
	assert_int_equal(
	        serve(f,
	              "GET /onboard.v1.Reflection/ListServices?encoding=json&message=%7B%7D "
	              "HTTP/1.1\r\n\r\n",
	              NULL, 0, &r, &j),
	        -1);
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.headers, "Allow: POST"));
	json_decref(j);
	ob_http_reply_fini(&r);
	/* Without encoding, with a bad escape, with compression, with bad base64. */
	static const char *const queries[] = {"message=%7B%7D", "encoding=json&message=%zz",
	                                      "encoding=json&message=%7B%7D&compression=gzip",
	                                      "encoding=json&base64=1&message=***"};
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		char head[256];
		snprintf(head, sizeof(head), "GET /onboard.v1.Health/Check?%s HTTP/1.1\r\n\r\n",
		         queries[i]);
		expect_reply(f, head, NULL, 0, -1, 400, "invalid_argument");
	}
	/* PUT is no way to call anything. */
	expect_reply(f, "PUT /onboard.v1.Health/Check HTTP/1.1\r\n\r\n", NULL, 0, -1, 405,
	             "unimplemented");
}

static void test_probes_and_metrics(void **state)
{
	fixture *f = *state;
	ob_http_reply r;
	json_t *j;
	expect_reply(f, "GET /healthz HTTP/1.1\r\n\r\n", NULL, 0, -1, 200, NULL);
	/* No domain: no store, not ready. */
	expect_reply(f, "GET /readyz HTTP/1.1\r\n\r\n", NULL, 0, -1, 503, NULL);
	expect_reply(f, "POST /metrics HTTP/1.1\r\n\r\n", NULL, 0, -1, 405, NULL);
	expect_reply(f, "GET /nothing HTTP/1.1\r\n\r\n", NULL, 0, -1, 404, "not_found");

	/* Two calls counted, then the exposition names them with their face and code. */
	ob_call call;
	ob_call_init(&call, &f->env, 4096);
	const ob_call_input in = {.method = "/onboard.v1.Health/Check"};
	(void)ob_dispatch_handle_input(f->d, &call, &in);
	ob_metrics_call(f->metrics, OB_FACE_HTTP, &call, 0, 1500);
	ob_call_reset(&call);
	const ob_call_input nope = {.method = "/x.Y/Z"};
	(void)ob_dispatch_handle_input(f->d, &call, &nope);
	ob_metrics_call(f->metrics, OB_FACE_NNG, &call, 12, 10);
	ob_call_fini(&call);
	ob_metrics_refused(f->metrics, OB_FACE_HTTP, OB_REFUSED_SLOW);
	atomic_long *open = ob_metrics_listener(f->metrics, OB_FACE_HTTP, "http://a\"b");
	atomic_fetch_add(open, 3);
	assert_int_equal(serve(f, "GET /metrics HTTP/1.1\r\n\r\n", NULL, 0, &r, &j), -1);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, ob_metrics_content_type);
	char *text = strndup((const char *)r.body, r.body_len);
	assert_non_null(strstr(text, "onboard_calls_total{method=\"/onboard.v1.Health/"
	                             "Check\",face=\"http\",code=\"OK\"} 1\n"));
	assert_non_null(strstr(
	        text,
	        "onboard_calls_total{method=\"other\",face=\"nng\",code=\"UNIMPLEMENTED\"} 1\n"));
	assert_non_null(strstr(text, "onboard_call_duration_seconds_bucket{method=\"/onboard.v1."
	                             "Health/Check\",face=\"http\",le=\"0.001\"} 0\n"));
	assert_non_null(strstr(text, "onboard_call_duration_seconds_bucket{method=\"/onboard.v1."
	                             "Health/Check\",face=\"http\",le=\"0.0025\"} 1\n"));
	assert_non_null(strstr(text, "onboard_call_duration_seconds_sum{method=\"/onboard.v1."
	                             "Health/Check\",face=\"http\"} 0.0015\n"));
	assert_non_null(strstr(text, "onboard_refusals_total{face=\"http\",reason=\"slow\"} 1\n"));
	/* A label value is escaped. */
	assert_non_null(strstr(
	        text, "onboard_open_connections{face=\"http\",listener=\"http://a\\\"b\"} 3\n"));
	free(text);
	ob_http_reply_fini(&r);
}

/* The dashboard's files (http/assets.h), as built into onboardd: each served with its type and
 * the page's security headers, revalidated by ETag; every file the page loads (the index's
 * references, the modules' imports) is in the table. */
static void test_assets(void **state)
{
	fixture *f = *state;
	f->cx.assets = &ob_dashboard_assets;
	ob_http_reply r;
	json_t *j;
	assert_int_equal(serve(f, "GET / HTTP/1.1\r\n\r\n", NULL, 0, &r, &j), -1);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "text/html; charset=utf-8");
	assert_null(r.body); /* the embedded bytes, not a copy */
	assert_non_null(r.borrowed);
	assert_non_null(strstr(r.headers, "Content-Security-Policy: default-src 'none'; script-src "
	                                  "'self'; style-src 'self';"));
	assert_null(strstr(r.headers, "unsafe"));
	assert_non_null(strstr(r.headers, "X-Content-Type-Options: nosniff\r\n"));
	assert_non_null(strstr(r.headers, "Cache-Control: no-cache\r\n"));
	assert_memory_equal(r.borrowed, "<!doctype html>", 15);
	const ob_asset *index = ob_assets_find(&ob_dashboard_assets, "/");
	assert_non_null(index);
	size_t len = 0;
	uint8_t *bytes = ob_http_reply_render(&r, &len);
	assert_non_null(bytes);
	assert_true(len > index->len);
	assert_memory_equal(bytes + len - index->len, index->bytes, index->len);
	free(bytes);
	char etag[64];
	snprintf(etag, sizeof(etag), "%s", strstr(r.headers, "ETag: ") + 6);
	*strchr(etag, '\r') = '\0';
	assert_string_equal(etag, index->etag);
	ob_http_reply_fini(&r);

	/* Every /assets/NAME the index names, and every './NAME' a module imports, is served. */
	for (size_t i = 0; i < ob_dashboard_assets.n; i++) {
		const ob_asset *a = &ob_dashboard_assets.files[i];
		char *text = strndup((const char *)a->bytes, a->len);
		assert_non_null(text);
		for (const char *p = text; (p = strstr(p, "/assets/")) != NULL; p++) {
			char path[64];
			assert_int_equal(sscanf(p, "%63[a-z/.]", path), 1);
			assert_non_null(ob_assets_find(&ob_dashboard_assets, path));
		}
		for (const char *p = text; (p = strstr(p, "from './")) != NULL; p++) {
			char path[64] = "/assets/";
			assert_int_equal(sscanf(p + 8, "%50[a-z.]", path + 8), 1);
			assert_non_null(ob_assets_find(&ob_dashboard_assets, path));
		}
		free(text);
	}
	const ob_asset *js = ob_assets_find(&ob_dashboard_assets, "/assets/app.js");
	assert_non_null(js);
	assert_string_equal(js->content_type, "text/javascript; charset=utf-8");
	assert_null(ob_assets_find(&ob_dashboard_assets, "/assets/"));
	assert_null(ob_assets_find(NULL, "/"));

	/* Revalidation: the ETag (strong or weak, in a list) is a 304 without a body. */
	char head[256];
	const char *before[] = {"", "W/", "\"x\", ", NULL}; /* NULL: "*" */
	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		char v[96];
		snprintf(v, sizeof(v), "%s%s", before[i] != NULL ? before[i] : "*",
		         before[i] != NULL ? js->etag : "");
		snprintf(head, sizeof(head),
		         "GET /assets/app.js HTTP/1.1\r\nIf-None-Match: %s\r\n\r\n", v);
		assert_int_equal(serve(f, head, NULL, 0, &r, &j), -1);
		assert_int_equal(r.status, 304);
		assert_int_equal(r.body_len, 0);
		ob_http_reply_fini(&r);
	}
	snprintf(head, sizeof(head),
	         "GET /assets/app.js HTTP/1.1\r\nIf-None-Match: \"%.8s\"\r\n\r\n", js->etag + 1);
	assert_int_equal(serve(f, head, NULL, 0, &r, &j), -1);
	assert_int_equal(r.status, 200); /* a prefix of the tag is another tag */
	assert_int_equal(r.body_len, js->len);
	ob_http_reply_fini(&r);

	/* HEAD: the headers alone; another method: 405; another path: not a file. */
	assert_int_equal(serve(f, "HEAD /assets/style.css HTTP/1.1\r\n\r\n", NULL, 0, &r, &j), -1);
	assert_int_equal(r.status, 200);
	assert_true(r.head);
	assert_string_equal(r.content_type, "text/css; charset=utf-8");
	ob_http_reply_fini(&r);
	expect_reply(f, "POST / HTTP/1.1\r\n\r\n", NULL, 0, -1, 405, NULL);
	(void)serve(f, "GET /assets/nothing.js HTTP/1.1\r\n\r\n", NULL, 0, &r, &j);
	assert_int_not_equal(r.status, 200);
	json_decref(j);
	ob_http_reply_fini(&r);
}

/* The number of times needle occurs in the first len bytes of hay. */
static size_t count(const uint8_t *hay, size_t len, const char *needle)
{
	size_t n = 0, nl = strlen(needle);
	for (size_t i = 0; i + nl <= len; i++)
		n += memcmp(hay + i, needle, nl) == 0;
	return n;
}

/* What a hostile peer tries on the page's paths: each reply, once rendered as it goes out,
 * carries nosniff, a policy and a cache rule exactly once, errors included; a path that only
 * looks like a file's is no method (404, whatever its query); a 304 has no Content-Length
 * (it would have to be the 200's) and no body; If-None-Match sent as two lines is one list. */
static void test_asset_attacks(void **state)
{
	fixture *f = *state;
	f->cx.assets = &ob_dashboard_assets;
	const ob_asset *js = ob_assets_find(&ob_dashboard_assets, "/assets/app.js");
	assert_non_null(js);
	char inm[256];
	snprintf(inm, sizeof(inm),
	         "GET /assets/app.js HTTP/1.1\r\nIf-None-Match: \"nope\"\r\nIf-None-Match: "
	         "%s\r\n\r\n",
	         js->etag);
	const struct {
		const char *head;
		int status;
	} cases[] = {
	        {"GET / HTTP/1.1\r\n\r\n", 200},
	        {"HEAD /assets/app.js?v=1 HTTP/1.1\r\n\r\n", 200},
	        {inm, 304},
	        {"POST / HTTP/1.1\r\n\r\n", 405},
	        {"OPTIONS /assets/app.js HTTP/1.1\r\n\r\n", 405},
	        {"GET /index.html HTTP/1.1\r\n\r\n", 404},
	        {"GET /assets/../index.html HTTP/1.1\r\n\r\n", 404},
	        {"GET /assets/%2e%2e/app.js HTTP/1.1\r\n\r\n", 404},
	        {"GET /assets/app.js%00 HTTP/1.1\r\n\r\n", 404},
	        {"GET /assets//app.js HTTP/1.1\r\n\r\n", 404},
	        {"GET // HTTP/1.1\r\n\r\n", 404},
	        {"GET /assets/ HTTP/1.1\r\n\r\n", 404},
	        {"GET /<script>/x?encoding=json&message=%7B%7D HTTP/1.1\r\n\r\n", 404},
	        {"POST /assets/app.js/x HTTP/1.1\r\n\r\n", 404},
	        {"GET /healthz HTTP/1.1\r\n\r\n", 200},
	        {"PUT /metrics HTTP/1.1\r\n\r\n", 405},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ob_http_reply r;
		json_t *j;
		(void)serve(f, cases[i].head, NULL, 0, &r, &j);
		json_decref(j);
		size_t len = 0;
		uint8_t *bytes = ob_http_reply_render(&r, &len);
		assert_non_null(bytes);
		if (r.status != cases[i].status)
			fail_msg("%s: status %d, want %d", cases[i].head, r.status,
			         cases[i].status);
		assert_int_equal(count(bytes, len, "\r\nX-Content-Type-Options: nosniff\r\n"), 1);
		assert_int_equal(
		        count(bytes, len, "\r\nContent-Security-Policy: default-src 'none';"), 1);
		assert_int_equal(count(bytes, len, "\r\nCache-Control: "), 1);
		if (r.status == 304) {
			assert_int_equal(count(bytes, len, "Content-Length"), 0);
			assert_memory_equal(bytes + len - 4, "\r\n\r\n", 4);
		}
		free(bytes);
		ob_http_reply_fini(&r);
	}
	/* The face's own refusals (a bad head, too many connections) go through the same writer. */
	ob_http_reply r = {.close = true};
	ob_connect_error(&r, 431, 8, "the request head is over 16 KiB");
	size_t len = 0;
	uint8_t *bytes = ob_http_reply_render(&r, &len);
	assert_non_null(bytes);
	assert_int_equal(count(bytes, len, "\r\nX-Content-Type-Options: nosniff\r\n"), 1);
	assert_int_equal(count(bytes, len, "\r\nCache-Control: no-store\r\n"), 1);
	free(bytes);
	ob_http_reply_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_head_ok),
	        cmocka_unit_test(test_head_refused),
	        cmocka_unit_test(test_head_length),
	        cmocka_unit_test(test_chunked),
	        cmocka_unit_test(test_reply),
	        cmocka_unit_test(test_connect_tables),
	        cmocka_unit_test_setup_teardown(test_rpc_json_and_proto, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rpc_errors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_probes_and_metrics, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_assets, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_asset_attacks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
