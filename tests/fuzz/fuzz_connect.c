/*
 * fuzz_connect.c: libFuzzer target for the HTTP face short of the socket: a whole request,
 * head and body, through http/request.c's parser and http/connect.c's routes (Connect's
 * unary protocol): the path to a method, the headers to the call's metadata and deadline,
 * an application/json body through the proto3 JSON codec, an application/proto body through
 * the strict wire check, GET's percent-encoded (and base64) message, then the pipeline and
 * the handlers, and the reply written back as JSON.
 *
 * An input is the request as a peer writes it: its head (up to the empty line) and, after
 * it, the body (whatever follows, whatever Content-Length says: the face has read exactly
 * Content-Length bytes by the time it serves, which ob_http_parse_head bounds; the chunked
 * decoder is fuzz_http's). The dispatch has the real handlers and no store, as fuzz_dispatch
 * has by default, and no authorizer (every method open), so each input gets the same answer
 * on every run; the metrics are real, for /metrics.
 *
 * Invariants checked on every reply, beyond "no crash, no leak, no UB":
 *   - ob_connect_serve returns -1 or a gRPC code (0 to 16), and a status of 200 to 599;
 *   - an RPC answered 200 carries the call's reply in the request's encoding; any other
 *     answer to an RPC is Connect's JSON error: an object with a string "code" that names
 *     the status (ob_connect_code_name) and travels with that HTTP status (or one of the
 *     face's own refusals);
 *   - every application/json body is valid JSON (UTF-8, no control character unescaped);
 *   - the reply renders, and what it renders starts with its status line.
 *
 * Seeds: tests/fuzz/corpus/connect, hand-written requests; connect.dict has the paths,
 * headers, media types and JSON field names.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "base/clock.h"
#include "http/connect.h"
#include "http/request.h"
#include "rpc/dispatch.h"
#include "rpc/handlers.h"
#include "rpc/metrics.h"

static ob_dispatch *dispatch;
static ob_metrics *metrics;
static ob_rpc_env env;
static ob_call call;
static ob_connect routes;

static void teardown(void)
{
	ob_call_fini(&call);
	ob_metrics_destroy(metrics);
	ob_dispatch_destroy(dispatch);
}

static void setup(void)
{
	if (ob_dispatch_create(&dispatch) != OB_OK || ob_handlers_register(dispatch) != OB_OK ||
	    ob_metrics_create(&metrics, dispatch) != OB_OK)
		fuzz_die("cannot build the dispatch");
	env.dispatch = dispatch;
	routes = (ob_connect){.dispatch = dispatch, .metrics = metrics};
	ob_call_init(&call, &env, OB_DEFAULT_MAX_REQUEST_BYTES);
	atexit(teardown);
}

static bool is_rpc(const char *path)
{
	return strcmp(path, "/healthz") != 0 && strcmp(path, "/readyz") != 0 &&
	       strcmp(path, "/metrics") != 0 && strchr(path + 1, '/') != NULL;
}

/* A Connect error body: {"code": NAME, ...} with NAME the status's name and the HTTP status
 * Connect gives it, or one of the face's own refusals (400, 404 for a method it does not
 * serve, 405, 415, 500). */
static void check_error(const ob_http_reply *r, const json_t *j)
{
	const char *name = json_string_value(json_object_get(j, "code"));
	if (name == NULL)
		fuzz_die("an RPC error without a code");
	if (!json_is_string(json_object_get(j, "message")))
		fuzz_die("an RPC error without a message");
	for (int code = 1; code <= 16; code++) {
		if (strcmp(name, ob_connect_code_name(code)) == 0) {
			int want = ob_connect_http_status(code);
			if (r->status != want && r->status != 400 && r->status != 404 &&
			    r->status != 405 && r->status != 415 && r->status != 500) {
				fprintf(stderr, "fuzz_connect: %s with HTTP status %d\n", name,
				        r->status);
				fuzz_die("an RPC error's code and HTTP status disagree");
			}
			return;
		}
	}
	fprintf(stderr, "fuzz_connect: code \"%s\"\n", name);
	fuzz_die("an RPC error with a code Connect does not have");
}

static void check_reply(const ob_http_request *rq, int code, const ob_http_reply *r)
{
	if (code < -1 || code > 16)
		fuzz_die("ob_connect_serve returned no gRPC code");
	if (r->status < 200 || r->status > 599)
		fuzz_die("a reply without a status");
	bool json = r->content_type != NULL && strcmp(r->content_type, "application/json") == 0;
	json_t *j = NULL;
	if (json) {
		json_error_t e;
		j = json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &e);
		if (j == NULL) {
			fprintf(stderr, "fuzz_connect: %.*s\n%s\n", (int)r->body_len,
			        (const char *)r->body, e.text);
			fuzz_die("an application/json reply that is not JSON");
		}
	}
	if (is_rpc(rq->path) && r->status != 200) {
		if (j == NULL)
			fuzz_die("an RPC refused without Connect's JSON error");
		check_error(r, j);
	}
	if (code > 0 && r->status == 200)
		fuzz_die("a failed RPC answered 200");
	json_decref(j);

	size_t len = 0;
	uint8_t *bytes = ob_http_reply_render(r, &len);
	if (bytes == NULL)
		return; /* out of memory */
	char line[32];
	int n = snprintf(line, sizeof(line), "HTTP/1.1 %d ", r->status);
	if (len < (size_t)n || memcmp(bytes, line, (size_t)n) != 0)
		fuzz_die("the rendered reply does not start with its status line");
	free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dispatch == NULL)
		setup();
	size_t hl = ob_http_head_length((const char *)data, size, NULL);
	if (hl == 0)
		return 0;
	char *head = malloc(hl + 1);
	if (head == NULL)
		return 0;
	memcpy(head, data, hl);
	head[hl] = '\0';
	ob_http_request rq;
	const char *why = NULL;
	if (ob_http_parse_head(head, hl, &rq, &why) == 0 && !rq.bad_te) {
		/* The body as the face hands it over: a copy of exactly its size. */
		size_t blen = size - hl;
		uint8_t *body = malloc(blen > 0 ? blen : 1);
		if (body != NULL) {
			memcpy(body, data + hl, blen);
			rq.body = body;
			rq.body_len = blen;
			ob_call_reset(&call);
			call.peer = "fuzz";
			call.peer_host = "fuzz";
			call.arrived_us = ob_clock_mono_us();
			ob_http_reply r = {0};
			int code = ob_connect_serve(&routes, &call, &rq, &r);
			check_reply(&rq, code, &r);
			ob_http_reply_fini(&r);
			free(body);
		}
	}
	free(head);
	return 0;
}
