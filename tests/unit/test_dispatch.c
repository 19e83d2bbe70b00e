/*
 * test_dispatch.c: the request pipeline of rpc/dispatch.c, driven through ob_dispatch_handle()
 * without a socket: size cap, envelope and payload validation with field paths, metadata,
 * deadline, drain, the handler contract and the ob_err -> status table.
 *
 * The dispatch is the real one (ob_handlers_register, domain NULL). Some Onboarding methods are
 * then given stub handlers: payload validation runs only for a method that has a handler, and
 * these tests are about the pipeline, not the programme. Payloads that must be invalid are
 * encoded by hand, byte by byte, as no encoder would produce them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "envelope.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "onboard/v1/reflection.pb-c.h"
#include "onboard/v1/rpc.pb-c.h"
#include "rpc/dispatch.h"
#include "rpc/handlers.h"
#include "rpc/convert.h"
#include "rpc/status.h"

#define HEALTH        "/onboard.v1.Health/Check"
#define LIST_SERVICES "/onboard.v1.Reflection/ListServices"
#define GET_FDS       "/onboard.v1.Reflection/GetFileDescriptorSet"
#define LIST_APPS     "/onboard.v1.Onboarding/ListApplications"
#define SUBMIT        "/onboard.v1.Onboarding/SubmitApplication"
#define GET_COHORT    "/onboard.v1.Onboarding/GetCohort"
#define GET_APP       "/onboard.v1.Onboarding/GetApplication"
#define LIST_COHORTS  "/onboard.v1.Onboarding/ListCohorts"

static ob_dispatch *dispatch;
static ob_rpc_env env;
static ob_call call;

/* What the next request looks like to the pipeline; reset before each test. */
static struct {
	bool draining;
	int64_t age_us; /* how long ago the request arrived */
} next;

/* What the stub handlers saw. */
static int stub_calls;
static size_t stub_n_states;

/* ---- stub handlers ---------------------------------------------------- */

/* Answers an empty message of the method's output type. */
static ob_err stub_ok(ob_call *c, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	stub_calls++;
	if (req->descriptor == &onboard__v1__list_applications_request__descriptor)
		stub_n_states = ((const Onboard__V1__ListApplicationsRequest *)req)->n_states;
	const ProtobufCMethodDescriptor *md = protobuf_c_service_descriptor_get_method_by_name(
	        &onboard__v1__onboarding__descriptor, strrchr(c->method, '/') + 1);
	*resp = ob_arena_message(&c->arena, md->output);
	return *resp != NULL ? OB_OK : OB_ENOMEM;
}

/* Fails without ob_call_fail(): the pipeline must supply a message. */
static ob_err stub_stale(ob_call *c, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)c, (void)req, (void)resp;
	stub_calls++;
	return OB_ESTALE;
}

/* Claims success but returns the wrong message type. */
static ob_err stub_wrong_type(ob_call *c, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	stub_calls++;
	*resp = ob_arena_message(&c->arena, &onboard__v1__cohort__descriptor);
	return OB_OK;
}

/* Reports more violations than the reply may list. */
static ob_err stub_violations(ob_call *c, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req, (void)resp;
	stub_calls++;
	for (int i = 0; i < OB_MAX_VIOLATIONS + 6; i++)
		ob_call_violation(c, "cohorts", "violation %d", i);
	return ob_call_fail(c, OB_EINVAL, "%d problems", OB_MAX_VIOLATIONS + 6);
}

/* Builds its reply after spending the call's arena: a string it copies then reads "". */
static ob_err stub_exhausts(ob_call *c, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	stub_calls++;
	Onboard__V1__Cohort *m = ob_arena_message(&c->arena, &onboard__v1__cohort__descriptor);
	if (m == NULL)
		return OB_ENOMEM;
	while (ob_arena_alloc(&c->arena, 4096) != NULL)
		;
	m->id = ob_pb_str(&c->arena, "2020-11");
	*resp = &m->base;
	return OB_OK;
}

static int group_setup(void **state)
{
	(void)state;
	const ProtobufCServiceDescriptor *ob = &onboard__v1__onboarding__descriptor;
	if (ob_dispatch_create(&dispatch) != OB_OK || ob_handlers_register(dispatch) != OB_OK ||
	    ob_dispatch_register(dispatch, ob, "ListApplications", stub_ok, 0) != OB_OK ||
	    ob_dispatch_register(dispatch, ob, "SubmitApplication", stub_ok, 0) != OB_OK ||
	    ob_dispatch_register(dispatch, ob, "GetCohort", stub_stale, 0) != OB_OK ||
	    ob_dispatch_register(dispatch, ob, "GetApplication", stub_wrong_type, 0) != OB_OK ||
	    ob_dispatch_register(dispatch, ob, "ListCohorts", stub_violations, 0) != OB_OK ||
	    ob_dispatch_register(dispatch, ob, "CreateCohort", stub_exhausts, 0) != OB_OK)
		return -1;
	env.dispatch = dispatch;
	env.domain = NULL;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ob_dispatch_destroy(dispatch);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	ob_call_init(&call, &env, OB_DEFAULT_MAX_REQUEST_BYTES);
	memset(&next, 0, sizeof(next));
	stub_calls = 0;
	stub_n_states = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ob_call_fini(&call);
	return 0;
}

/* ---- building requests ------------------------------------------------ */

/* Runs raw envelope bytes through the pipeline as the server would. */
static Onboard__V1__Response *handle(const void *buf, size_t len)
{
	ob_call_reset(&call);
	call.arrived_us = ob_clock_mono_us() - next.age_us;
	call.draining = next.draining;
	Onboard__V1__Response *rs = ob_dispatch_handle(dispatch, &call, buf, len);
	assert_non_null(rs);
	/* Whatever happened, the reply must pack (the server sends it). */
	size_t n = protobuf_c_message_get_packed_size(&rs->base);
	uint8_t *packed = malloc(n > 0 ? n : 1);
	assert_non_null(packed);
	assert_int_equal(protobuf_c_message_pack(&rs->base, packed), n);
	free(packed);
	return rs;
}

typedef ob_test_envelope envelope;

/* ob_test_envelope_pack, which must succeed. */
static uint8_t *pack_envelope(const envelope *e, size_t *len)
{
	uint8_t *buf = ob_test_envelope_pack(e, len);
	assert_non_null(buf);
	return buf;
}

static Onboard__V1__Response *handle_envelope(const envelope *e)
{
	size_t len;
	uint8_t *buf = pack_envelope(e, &len);
	Onboard__V1__Response *rs = handle(buf, len);
	free(buf);
	return rs;
}

/* A version-1 call of method with payload bytes and no metadata. */
static Onboard__V1__Response *handle_call(const char *method, const void *payload, size_t len)
{
	return handle_envelope(
	        &(envelope){.method = method, .payload = payload, .payload_len = len});
}

static Onboard__V1__Response *handle_message(const char *method, const ProtobufCMessage *m)
{
	uint8_t buf[4096];
	size_t n = protobuf_c_message_get_packed_size(m);
	assert_true(n <= sizeof(buf));
	protobuf_c_message_pack(m, buf);
	return handle_call(method, buf, n);
}

/* Asserts the reply's code, showing its message when it is not the expected one. */
static void expect_code(const Onboard__V1__Response *rs, Onboard__V1__Code want)
{
	if (rs->code != want)
		print_error("expected %s, got %s: %s\n", ob_status_name(want),
		            ob_status_name(rs->code), rs->message);
	assert_int_equal(rs->code, want);
	if (want != ONBOARD__V1__CODE__OK)
		assert_true(rs->message[0] != '\0');
}

/* Asserts INVALID_ARGUMENT with exactly one violation at path. */
static void expect_violation(const Onboard__V1__Response *rs, const char *path)
{
	expect_code(rs, ONBOARD__V1__CODE__INVALID_ARGUMENT);
	assert_int_equal(rs->n_field_violations, 1);
	assert_string_equal(rs->field_violations[0]->field, path);
	assert_true(rs->field_violations[0]->description[0] != '\0');
	assert_int_equal(stub_calls, 0); /* the handler never saw it */
}

/* ---- the happy paths -------------------------------------------------- */

/* Health answers SERVING with an empty request (all fields default). */
static void test_health_serving(void **state)
{
	(void)state;
	Onboard__V1__Response *rs = handle_call(HEALTH, NULL, 0);
	expect_code(rs, ONBOARD__V1__CODE__OK);
	Onboard__V1__HealthCheckResponse *h =
	        onboard__v1__health_check_response__unpack(NULL, rs->payload.len, rs->payload.data);
	assert_non_null(h);
	assert_int_equal(h->status, ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
	onboard__v1__health_check_response__free_unpacked(h, NULL);
}

/* Health knows the services by full name and says SERVICE_UNKNOWN for others. */
static void test_health_per_service(void **state)
{
	(void)state;
	static const struct {
		const char *service;
		int status;
	} cases[] = {
	        {"onboard.v1.Onboarding",
	         ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING},
	        {"onboard.v1.Reflection",
	         ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING},
	        {"onboard.v1.Nope",
	         ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN},
	        {"Onboarding", ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Onboard__V1__HealthCheckRequest rq = ONBOARD__V1__HEALTH_CHECK_REQUEST__INIT;
		rq.service = (char *)cases[i].service;
		Onboard__V1__Response *rs = handle_message(HEALTH, &rq.base);
		expect_code(rs, ONBOARD__V1__CODE__OK);
		Onboard__V1__HealthCheckResponse *h = onboard__v1__health_check_response__unpack(
		        NULL, rs->payload.len, rs->payload.data);
		assert_non_null(h);
		assert_int_equal(h->status, cases[i].status);
		onboard__v1__health_check_response__free_unpacked(h, NULL);
	}
}

/* Reflection lists the four services with every method, named as callers spell them. */
static void test_reflection_lists_services(void **state)
{
	(void)state;
	Onboard__V1__Response *rs = handle_call(LIST_SERVICES, NULL, 0);
	expect_code(rs, ONBOARD__V1__CODE__OK);
	Onboard__V1__ListServicesResponse *ls = onboard__v1__list_services_response__unpack(
	        NULL, rs->payload.len, rs->payload.data);
	assert_non_null(ls);
	assert_int_equal(ls->n_services, 4);
	assert_string_equal(ls->services[0]->name, "onboard.v1.Health");
	assert_string_equal(ls->services[1]->name, "onboard.v1.Reflection");
	assert_string_equal(ls->services[2]->name, "onboard.v1.Onboarding");
	assert_string_equal(ls->services[3]->name, "onboard.v1.Admin");
	const Onboard__V1__ServiceInfo *onb = ls->services[2];
	assert_int_equal(onb->n_methods, onboard__v1__onboarding__descriptor.n_methods);
	bool found = false;
	for (size_t i = 0; i < onb->n_methods; i++) {
		const Onboard__V1__MethodInfo *mi = onb->methods[i];
		if (strcmp(mi->name, "SubmitApplication") != 0)
			continue;
		found = true;
		assert_string_equal(mi->full_name, SUBMIT);
		assert_string_equal(mi->input_type, "onboard.v1.SubmitApplicationRequest");
		assert_string_equal(mi->output_type, "onboard.v1.Application");
	}
	assert_true(found);
	onboard__v1__list_services_response__free_unpacked(ls, NULL);
}

/* The embedded descriptor set comes back whole: it is what generic clients decode with. */
static void test_reflection_descriptor_set(void **state)
{
	(void)state;
	Onboard__V1__Response *rs = handle_call(GET_FDS, NULL, 0);
	expect_code(rs, ONBOARD__V1__CODE__OK);
	Onboard__V1__GetFileDescriptorSetResponse *r =
	        onboard__v1__get_file_descriptor_set_response__unpack(NULL, rs->payload.len,
	                                                              rs->payload.data);
	assert_non_null(r);
	assert_true(ob_descriptor_set_len > 0);
	assert_int_equal(r->file_descriptor_set.len, ob_descriptor_set_len);
	assert_memory_equal(r->file_descriptor_set.data, ob_descriptor_set, ob_descriptor_set_len);
	onboard__v1__get_file_descriptor_set_response__free_unpacked(r, NULL);
}

/* A valid payload reaches the handler unpacked (packed repeated enum included). */
static void test_valid_payload_reaches_handler(void **state)
{
	(void)state;
	static const uint8_t states_2_3[] = {0x12, 0x02, 0x02, 0x03};
	expect_code(handle_call(LIST_APPS, states_2_3, sizeof(states_2_3)), ONBOARD__V1__CODE__OK);
	assert_int_equal(stub_calls, 1);
	assert_int_equal(stub_n_states, 2);
}

/* ---- routing ---------------------------------------------------------- */

/* Names that match no method, however close, answer UNIMPLEMENTED. */
static void test_unknown_method(void **state)
{
	(void)state;
	static const char *const names[] = {
	        "/onboard.v1.Health/Nope",
	        "/onboard.v1.Nope/Check",
	        "/onboard.v1.Health/check",
	        "onboard.v1.Health/Check",
	        "/onboard.v1.Health",
	        "/onboard.v1.Health/Check/",
	        "/",
	        "",
	        "//Check",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		Onboard__V1__Response *rs = handle_call(names[i], NULL, 0);
		if (rs->code != ONBOARD__V1__CODE__UNIMPLEMENTED)
			print_error("method \"%s\"\n", names[i]);
		expect_code(rs, ONBOARD__V1__CODE__UNIMPLEMENTED);
	}
}

/* The table refuses what does not exist and a service added twice. */
static void test_register_errors(void **state)
{
	(void)state;
	ob_dispatch *d;
	assert_int_equal(ob_dispatch_create(&d), OB_OK);
	const ProtobufCServiceDescriptor *h = &onboard__v1__health__descriptor;
	assert_int_equal(ob_dispatch_register(d, h, "Check", stub_ok, 0), OB_ENOTFOUND);
	assert_int_equal(ob_dispatch_add_service(d, h), OB_OK);
	assert_int_equal(ob_dispatch_add_service(d, h), OB_EEXIST);
	assert_int_equal(ob_dispatch_register(d, h, "Nope", stub_ok, 0), OB_ENOTFOUND);
	assert_int_equal(ob_dispatch_register(d, h, "Check", stub_ok, 0), OB_OK);
	assert_int_equal(ob_dispatch_n_services(d), 1);
	assert_ptr_equal(ob_dispatch_service(d, 0), h);
	assert_null(ob_dispatch_service(d, 1));
	ob_dispatch_destroy(d);
	ob_dispatch_destroy(NULL);
}

/* ---- size cap --------------------------------------------------------- */

/* The cap counts the whole envelope: at the cap is served, one byte over is refused. */
static void test_request_size_cap(void **state)
{
	(void)state;
	enum { CAP = 1024 };
	ob_call_fini(&call);
	ob_call_init(&call, &env, CAP);
	char service[CAP];
	bool at_cap = false, over_cap = false;
	for (size_t k = CAP - 64; k < CAP - 1 && !(at_cap && over_cap); k++) {
		memset(service, 'x', k);
		service[k] = '\0';
		Onboard__V1__HealthCheckRequest rq = ONBOARD__V1__HEALTH_CHECK_REQUEST__INIT;
		rq.service = service;
		uint8_t payload[CAP + 16];
		size_t plen = onboard__v1__health_check_request__pack(&rq, payload);
		size_t len;
		uint8_t *buf = pack_envelope(
		        &(envelope){.method = HEALTH, .payload = payload, .payload_len = plen},
		        &len);
		if (len == CAP) {
			at_cap = true;
			expect_code(handle(buf, len), ONBOARD__V1__CODE__OK);
		} else if (len == CAP + 1) {
			over_cap = true;
			expect_code(handle(buf, len), ONBOARD__V1__CODE__RESOURCE_EXHAUSTED);
		}
		free(buf);
	}
	assert_true(at_cap && over_cap);
}

/* 100 KiB with the default 64 KiB cap: refused before any parsing, even as garbage. */
static void test_request_over_default_cap(void **state)
{
	(void)state;
	size_t len = 100 * 1024;
	uint8_t *junk = malloc(len);
	assert_non_null(junk);
	memset(junk, 0xFF, len);
	Onboard__V1__Response *rs = handle(junk, len);
	expect_code(rs, ONBOARD__V1__CODE__RESOURCE_EXHAUSTED);
	free(junk);
}

/* A payload within the cap whose unpacked form is over the arena's budget (1 byte per
 * packed enum becomes 4) is refused cleanly: no crash, no handler, no unbounded memory. */
static void test_unpack_bounded_by_arena(void **state)
{
	(void)state;
	enum { N = 3 * 1024 * 1024 };
	ob_call_fini(&call);
	ob_call_init(&call, &env, 16u << 20);
	uint8_t *payload = malloc(N + 8);
	assert_non_null(payload);
	size_t n = 0;
	payload[n++] = 0x12; /* states, packed */
	for (uint32_t v = N; v != 0; v >>= 7)
		payload[n++] = (uint8_t)((v & 0x7F) | (v >= 0x80 ? 0x80 : 0));
	memset(payload + n, 0x01, N);
	Onboard__V1__Response *rs = handle_call(LIST_APPS, payload, n + N);
	free(payload);
	assert_true(rs->code == ONBOARD__V1__CODE__INVALID_ARGUMENT ||
	            rs->code == ONBOARD__V1__CODE__RESOURCE_EXHAUSTED);
	assert_int_equal(stub_calls, 0);
}

/* ---- envelope --------------------------------------------------------- */

/* Bytes that are not a protobuf message at all. */
static void test_garbage_envelope(void **state)
{
	(void)state;
	static const uint8_t cases[][6] = {
	        {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, /* a varint tag that never ends */
	        {0x0F, 0x00, 0x00, 0x00, 0x00, 0x00}, /* wire type 7 */
	        {0x00, 0x01, 0x02, 0x03, 0x04, 0x05}, /* field number 0 */
	        {0x0B, 0x0C, 0x00, 0x00, 0x00, 0x00}, /* a group (wire type 3) */
	        {0xF8, 0x07, 0x01, 0x00, 0x00, 0x00}, /* unknown field 127 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_code(handle(cases[i], sizeof(cases[i])),
		            ONBOARD__V1__CODE__INVALID_ARGUMENT);
}

/* Protobuf has no end marker, so a cut at a field boundary is a shorter valid request; a cut
 * anywhere else is refused, and no cut ever crashes. */
static void test_truncated_envelope(void **state)
{
	(void)state;
	static const uint8_t list[] = {0x12, 0x02, 0x02, 0x03};
	size_t len;
	uint8_t *buf =
	        pack_envelope(&(envelope){.method = LIST_APPS,
	                                  .md = (const char *const[]){"request-id", "t-1", NULL},
	                                  .payload = list,
	                                  .payload_len = sizeof(list)},
	                      &len);
	/* 08 01 | 12 <len> method | 1a <len> metadata | 2a 04 payload */
	size_t after_version = 2;
	size_t after_method = 4 + strlen(LIST_APPS);
	size_t after_metadata = len - 2 - sizeof(list);
	assert_int_equal(buf[after_method], 0x1A);
	assert_int_equal(buf[after_metadata], 0x2A);
	for (size_t cut = 0; cut < len; cut++) {
		Onboard__V1__Response *rs = handle(buf, cut);
		if (cut == after_version)
			expect_code(rs, ONBOARD__V1__CODE__UNIMPLEMENTED); /* method "" */
		else if (cut == after_method || cut == after_metadata)
			expect_code(rs, ONBOARD__V1__CODE__OK);
		else
			expect_code(rs, ONBOARD__V1__CODE__INVALID_ARGUMENT);
	}
	assert_int_equal(stub_calls, 2);
	assert_int_equal(stub_n_states, 0); /* the payload never arrived half-read */
	free(buf);
}

/* A field of the envelope with the wrong wire type names the field. */
static void test_envelope_wrong_wire_type(void **state)
{
	(void)state;
	static const uint8_t version_as_string[] = {0x0A, 0x01, '1'};
	Onboard__V1__Response *rs = handle(version_as_string, sizeof(version_as_string));
	expect_code(rs, ONBOARD__V1__CODE__INVALID_ARGUMENT);
	assert_non_null(strstr(rs->message, "version"));
}

/* Only version 1 is spoken; 0 (absent) and 2 are refused. */
static void test_wrong_version(void **state)
{
	(void)state;
	static const uint32_t versions[] = {0, 2, 0xFFFFFFFFu};
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		Onboard__V1__Response *rs = handle_envelope(&(envelope){
		        .version = versions[i], .wrong_version = true, .method = HEALTH});
		expect_code(rs, ONBOARD__V1__CODE__INVALID_ARGUMENT);
		assert_non_null(strstr(rs->message, "version"));
	}
	/* An empty buffer is a Request with every field default: version 0. */
	expect_code(handle("", 0), ONBOARD__V1__CODE__INVALID_ARGUMENT);
}

/* A method name with invalid UTF-8 is refused as a malformed envelope, not looked up. */
static void test_method_invalid_utf8(void **state)
{
	(void)state;
	expect_code(handle_call("/onboard.v1.Health/Ch\xC3\x28"
	                        "ck",
	                        NULL, 0),
	            ONBOARD__V1__CODE__INVALID_ARGUMENT);
}

/* ---- metadata --------------------------------------------------------- */

/* Keys are lowercase [a-z0-9-_.], 1-64 characters; values at most 4096 bytes. */
static void test_metadata_key_rules(void **state)
{
	(void)state;
	char long_key[OB_MAX_METADATA_KEY + 2];
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	char long_value[OB_MAX_METADATA_VALUE + 2];
	memset(long_value, 'v', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	const char *const bad[][3] = {
	        {"Request-Id", "r1", NULL}, {"", "x", NULL},       {"a b", "x", NULL},
	        {"x/y", "x", NULL},         {long_key, "x", NULL}, {"x-custom", long_value, NULL},
	        {"é", "x", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		Onboard__V1__Response *rs =
		        handle_envelope(&(envelope){.method = HEALTH, .md = bad[i]});
		if (rs->code != ONBOARD__V1__CODE__INVALID_ARGUMENT)
			print_error("metadata case %zu\n", i);
		expect_code(rs, ONBOARD__V1__CODE__INVALID_ARGUMENT);
	}
	/* At the limits, and unknown keys, are fine. */
	long_key[OB_MAX_METADATA_KEY] = '\0';
	long_value[OB_MAX_METADATA_VALUE] = '\0';
	expect_code(
	        handle_envelope(&(envelope){.method = HEALTH,
	                                    .md = (const char *const[]){long_key, long_value,
	                                                                "x-trace.id_2", "", NULL}}),
	        ONBOARD__V1__CODE__OK);
}

/* request-id and idempotency-key may be given once; a second one is ambiguous. */
static void test_metadata_duplicated(void **state)
{
	(void)state;
	static const char *const dup_rid[] = {"request-id", "a", "request-id", "b", NULL};
	static const char *const dup_key[] = {"idempotency-key", "k", "idempotency-key", "k", NULL};
	expect_code(handle_envelope(&(envelope){.method = HEALTH, .md = dup_rid}),
	            ONBOARD__V1__CODE__INVALID_ARGUMENT);
	expect_code(handle_envelope(&(envelope){.method = HEALTH, .md = dup_key}),
	            ONBOARD__V1__CODE__INVALID_ARGUMENT);
}

/* Ids are copied into logs and replies: 1-128 printable ASCII characters only. */
static void test_metadata_request_id_rules(void **state)
{
	(void)state;
	char id128[129], id129[130];
	memset(id128, 'a', 128);
	id128[128] = '\0';
	memset(id129, 'a', 129);
	id129[129] = '\0';
	static const char *const bad[] = {"", "a b", "caf\xC3\xA9", "tab\there", "nl\n", "\x7F"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_code(handle_envelope(&(envelope){
		                    .method = HEALTH,
		                    .md = (const char *const[]){"request-id", bad[i], NULL}}),
		            ONBOARD__V1__CODE__INVALID_ARGUMENT);
	expect_code(
	        handle_envelope(&(envelope){
	                .method = HEALTH, .md = (const char *const[]){"request-id", id129, NULL}}),
	        ONBOARD__V1__CODE__INVALID_ARGUMENT);
	Onboard__V1__Response *rs = handle_envelope(&(envelope){
	        .method = HEALTH, .md = (const char *const[]){"request-id", id128, NULL}});
	expect_code(rs, ONBOARD__V1__CODE__OK);
	assert_string_equal(rs->request_id, id128);
}

/* At most 32 metadata entries. */
static void test_metadata_count(void **state)
{
	(void)state;
	const char *md[2 * (OB_MAX_METADATA + 1) + 1];
	char keys[OB_MAX_METADATA + 1][8];
	for (int i = 0; i <= OB_MAX_METADATA; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		md[2 * i] = keys[i];
		md[2 * i + 1] = "v";
	}
	md[2 * (OB_MAX_METADATA + 1)] = NULL;
	expect_code(handle_envelope(&(envelope){.method = HEALTH, .md = md}),
	            ONBOARD__V1__CODE__INVALID_ARGUMENT);
	md[2 * OB_MAX_METADATA] = NULL;
	expect_code(handle_envelope(&(envelope){.method = HEALTH, .md = md}),
	            ONBOARD__V1__CODE__OK);
}

/* A metadata value with invalid UTF-8 is refused by the envelope check, path and all. */
static void test_metadata_value_invalid_utf8(void **state)
{
	(void)state;
	Onboard__V1__Response *rs = handle_envelope(
	        &(envelope){.method = HEALTH, .md = (const char *const[]){"x-note", "\xFF", NULL}});
	expect_code(rs, ONBOARD__V1__CODE__INVALID_ARGUMENT);
	assert_non_null(strstr(rs->message, "metadata.value"));
}

/* A request id the server made: OB_REQUEST_ID_LEN lower-case hex digits. */
static void assert_made_request_id(const char *id)
{
	assert_int_equal(strlen(id), OB_REQUEST_ID_LEN);
	assert_int_equal(strspn(id, "0123456789abcdef"), OB_REQUEST_ID_LEN);
}

/* The request-id comes back on success and on failure alike; without one, the server makes one
 * (a new one each call), also for an envelope it cannot read. */
static void test_request_id_echoed(void **state)
{
	(void)state;
	static const char *const md[] = {"request-id", "req-42.x_Y", NULL};
	Onboard__V1__Response *rs = handle_envelope(&(envelope){.method = HEALTH, .md = md});
	expect_code(rs, ONBOARD__V1__CODE__OK);
	assert_string_equal(rs->request_id, "req-42.x_Y");
	rs = handle_envelope(&(envelope){.method = "/onboard.v1.Health/Nope", .md = md});
	expect_code(rs, ONBOARD__V1__CODE__UNIMPLEMENTED);
	assert_string_equal(rs->request_id, "req-42.x_Y");
	rs = handle_envelope(&(envelope){.method = HEALTH});
	assert_made_request_id(rs->request_id);
	char first[OB_REQUEST_ID_LEN + 1];
	strcpy(first, rs->request_id);
	rs = handle_envelope(&(envelope){.method = HEALTH});
	assert_made_request_id(rs->request_id);
	assert_string_not_equal(rs->request_id, first);
	rs = handle("\xff\xff", 2);
	expect_code(rs, ONBOARD__V1__CODE__INVALID_ARGUMENT);
	assert_made_request_id(rs->request_id);
}

/* ---- payload validation ----------------------------------------------- */

/* Invalid UTF-8 in a string: overlong, lone continuation, surrogate, truncated. */
static void test_payload_invalid_utf8(void **state)
{
	(void)state;
	static const struct {
		uint8_t bytes[6];
		size_t len;
	} cases[] = {
	        {{0x0A, 0x02, 0xC0, 0xAF}, 4},             /* overlong '/' */
	        {{0x0A, 0x02, 'a', 0x80}, 4},              /* lone continuation byte */
	        {{0x0A, 0x03, 0xED, 0xA0, 0x80}, 5},       /* U+D800, a surrogate */
	        {{0x0A, 0x04, 0xF4, 0x90, 0x80, 0x80}, 6}, /* U+110000 */
	        {{0x0A, 0x02, 0xE2, 0x82}, 4},             /* truncated euro sign */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_violation(handle_call(HEALTH, cases[i].bytes, cases[i].len), "service");
}

/* The postal code three messages down is named by its full path. */
static void test_payload_nested_path(void **state)
{
	(void)state;
	/* SubmitApplicationRequest{company(2){address(10){postal_code(2): "\xFF"}}} */
	static const uint8_t bad_utf8[] = {0x12, 0x05, 0x52, 0x03, 0x12, 0x01, 0xFF};
	expect_violation(handle_call(SUBMIT, bad_utf8, sizeof(bad_utf8)),
	                 "company.address.postal_code");
	/* The same with a valid value passes: the path is not an artefact. */
	static const uint8_t good[] = {0x12, 0x07, 0x52, 0x05, 0x12, 0x03, '7', '5', '0'};
	expect_code(handle_call(SUBMIT, good, sizeof(good)), ONBOARD__V1__CODE__OK);
	assert_int_equal(stub_calls, 1);
}

/* protobuf-c would silently cut a string at an embedded NUL: refuse it instead. */
static void test_payload_embedded_nul(void **state)
{
	(void)state;
	static const uint8_t health[] = {0x0A, 0x03, 'a', 0x00, 'b'};
	expect_violation(handle_call(HEALTH, health, sizeof(health)), "service");
	/* SubmitApplicationRequest{contact(3){email(2): "a\0"}} */
	static const uint8_t submit[] = {0x1A, 0x04, 0x12, 0x02, 'a', 0x00};
	expect_violation(handle_call(SUBMIT, submit, sizeof(submit)), "contact.email");
}

/* Unknown fields are refused, at the top (path "") and inside a sub-message. */
static void test_payload_unknown_field(void **state)
{
	(void)state;
	static const uint8_t top[] = {0x38, 0x01}; /* field 7, varint */
	expect_violation(handle_call(HEALTH, top, sizeof(top)), "");
	/* SubmitApplicationRequest{company(2){field 99: 1}} */
	static const uint8_t nested[] = {0x12, 0x03, 0x98, 0x06, 0x01};
	expect_violation(handle_call(SUBMIT, nested, sizeof(nested)), "company");
}

/* Enum values outside the enum, packed or not, positive or negative. */
static void test_payload_enum_out_of_range(void **state)
{
	(void)state;
	static const uint8_t packed[] = {0x12, 0x01, 99};
	expect_violation(handle_call(LIST_APPS, packed, sizeof(packed)), "states");
	static const uint8_t packed_late[] = {0x12, 0x03, 0x01, 0x02, 99};
	expect_violation(handle_call(LIST_APPS, packed_late, sizeof(packed_late)), "states");
	static const uint8_t unpacked[] = {0x10, 99};
	expect_violation(handle_call(LIST_APPS, unpacked, sizeof(unpacked)), "states");
	static const uint8_t size9[] = {0x18, 0x09};
	expect_violation(handle_call(LIST_APPS, size9, sizeof(size9)), "size_category");
	static const uint8_t minus1[] = {0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	                                 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
	expect_violation(handle_call(LIST_APPS, minus1, sizeof(minus1)), "size_category");
	/* SubmitApplicationRequest{channel(4): 4} */
	static const uint8_t channel[] = {0x20, 0x04};
	expect_violation(handle_call(SUBMIT, channel, sizeof(channel)), "channel");
}

/* Wire-level damage inside the payload: wrong wire type, truncated length, bad packing. */
static void test_payload_malformed(void **state)
{
	(void)state;
	static const uint8_t service_as_varint[] = {0x08, 0x01};
	expect_violation(handle_call(HEALTH, service_as_varint, sizeof(service_as_varint)),
	                 "service");
	static const uint8_t too_long[] = {0x0A, 0x05, 'a'};
	expect_violation(handle_call(HEALTH, too_long, sizeof(too_long)), "service");
	static const uint8_t packed_cut[] = {0x12, 0x01, 0x81}; /* varint cut in a packed run */
	expect_violation(handle_call(LIST_APPS, packed_cut, sizeof(packed_cut)), "states");
	/* page_size (uint32) as a fixed32 */
	static const uint8_t fixed[] = {0x4D, 0x01, 0x00, 0x00, 0x00};
	expect_violation(handle_call(LIST_APPS, fixed, sizeof(fixed)), "page_size");
}

/* ---- deadline and drain ----------------------------------------------- */

/* A deadline that passed while the request queued is not worth running. */
static void test_deadline_already_past(void **state)
{
	(void)state;
	next.age_us = 10 * 1000 * 1000;
	Onboard__V1__Response *rs =
	        handle_envelope(&(envelope){.method = LIST_APPS, .timeout_ms = 1});
	expect_code(rs, ONBOARD__V1__CODE__DEADLINE_EXCEEDED);
	assert_int_equal(stub_calls, 0);
	/* Without a deadline (0), age does not matter; a generous one has not passed. */
	expect_code(handle_envelope(&(envelope){.method = LIST_APPS}), ONBOARD__V1__CODE__OK);
	next.age_us = 0;
	expect_code(handle_envelope(&(envelope){.method = LIST_APPS, .timeout_ms = 600000}),
	            ONBOARD__V1__CODE__OK);
	assert_int_equal(stub_calls, 2);
}

/* Draining: calls get UNAVAILABLE with a retry hint, while health answers NOT_SERVING. */
static void test_draining(void **state)
{
	(void)state;
	next.draining = true;
	static const char *const calls[] = {LIST_SERVICES, LIST_APPS, GET_FDS};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		Onboard__V1__Response *rs = handle_call(calls[i], NULL, 0);
		expect_code(rs, ONBOARD__V1__CODE__UNAVAILABLE);
		assert_true(rs->retry_after_ms > 0);
	}
	assert_int_equal(stub_calls, 0);
	Onboard__V1__Response *rs = handle_call(HEALTH, NULL, 0);
	expect_code(rs, ONBOARD__V1__CODE__OK);
	assert_int_equal(rs->retry_after_ms, 0);
	Onboard__V1__HealthCheckResponse *h =
	        onboard__v1__health_check_response__unpack(NULL, rs->payload.len, rs->payload.data);
	assert_non_null(h);
	assert_int_equal(h->status,
	                 ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
	onboard__v1__health_check_response__free_unpacked(h, NULL);
}

/* ---- the handler contract --------------------------------------------- */

/* A handler's bare error still reaches the caller with its code and a message. */
static void test_handler_error_without_message(void **state)
{
	(void)state;
	Onboard__V1__Response *rs = handle_call(GET_COHORT, NULL, 0);
	expect_code(rs, ONBOARD__V1__CODE__ABORTED);
	assert_string_equal(rs->message, ob_strerror(OB_ESTALE));
	assert_int_equal(rs->payload.len, 0);
}

/* A reply built after the arena ran out would go out (and be stored for replay) with blank
 * fields: the call fails RESOURCE_EXHAUSTED instead, nothing sent. */
static void test_reply_from_an_exhausted_arena_refused(void **state)
{
	(void)state;
	Onboard__V1__Response *rs = handle_call("/onboard.v1.Onboarding/CreateCohort", NULL, 0);
	assert_int_equal(stub_calls, 1);
	expect_code(rs, ONBOARD__V1__CODE__RESOURCE_EXHAUSTED);
	assert_int_equal(rs->payload.len, 0);
}

/* A handler that returns the wrong message type is a bug: INTERNAL, nothing sent. */
static void test_handler_wrong_type(void **state)
{
	(void)state;
	Onboard__V1__Response *rs = handle_call(GET_APP, NULL, 0);
	expect_code(rs, ONBOARD__V1__CODE__INTERNAL);
	assert_int_equal(rs->payload.len, 0);
}

/* Violations beyond OB_MAX_VIOLATIONS are not listed; the reply stays bounded. */
static void test_handler_violation_cap(void **state)
{
	(void)state;
	Onboard__V1__Response *rs = handle_call(LIST_COHORTS, NULL, 0);
	expect_code(rs, ONBOARD__V1__CODE__INVALID_ARGUMENT);
	assert_int_equal(rs->n_field_violations, OB_MAX_VIOLATIONS);
	assert_string_equal(rs->field_violations[0]->field, "cohorts");
	assert_string_equal(rs->field_violations[0]->description, "violation 0");
}

/* One ob_call serves many requests in turn; nothing leaks from one to the next. */
static void test_call_reuse(void **state)
{
	(void)state;
	static const char *const md[] = {"request-id", "first", NULL};
	for (int i = 0; i < 200; i++) {
		Onboard__V1__Response *rs = handle_envelope(&(envelope){
		        .method = i % 2 ? LIST_SERVICES : HEALTH, .md = i == 0 ? md : NULL});
		expect_code(rs, ONBOARD__V1__CODE__OK);
		if (i == 0)
			assert_string_equal(rs->request_id, "first");
		else
			assert_made_request_id(rs->request_id);
	}
	expect_violation(handle_call(HEALTH, "\x38\x01", 2), "");
	Onboard__V1__Response *rs = handle_call(HEALTH, NULL, 0);
	expect_code(rs, ONBOARD__V1__CODE__OK);
	assert_int_equal(rs->n_field_violations, 0);
}

/* ---- the status table ------------------------------------------------- */

/* Every ob_err maps to the code the contract promises for it, and the failures that pass by
 * themselves (the store that cannot write now, a full disk) tell when to try again. */
static void test_status_mapping(void **state)
{
	(void)state;
	static const struct {
		ob_err err;
		Onboard__V1__Code code;
		bool retry_after;
	} table[] = {
	        {OB_OK, ONBOARD__V1__CODE__OK, false},
	        {OB_EINVAL, ONBOARD__V1__CODE__INVALID_ARGUMENT, false},
	        {OB_ENOTFOUND, ONBOARD__V1__CODE__NOT_FOUND, false},
	        {OB_EEXIST, ONBOARD__V1__CODE__ALREADY_EXISTS, false},
	        {OB_EPRECOND, ONBOARD__V1__CODE__FAILED_PRECONDITION, false},
	        {OB_ESTALE, ONBOARD__V1__CODE__ABORTED, false},
	        {OB_ETOOBIG, ONBOARD__V1__CODE__RESOURCE_EXHAUSTED, false},
	        {OB_ELIMIT, ONBOARD__V1__CODE__RESOURCE_EXHAUSTED, false},
	        {OB_ENOMEM, ONBOARD__V1__CODE__RESOURCE_EXHAUSTED, false},
	        {OB_ETIMEDOUT, ONBOARD__V1__CODE__DEADLINE_EXCEEDED, false},
	        {OB_EUNAVAIL, ONBOARD__V1__CODE__UNAVAILABLE, true},
	        {OB_ENOTSUP, ONBOARD__V1__CODE__UNIMPLEMENTED, false},
	        {OB_EAUTH, ONBOARD__V1__CODE__UNAUTHENTICATED, false},
	        {OB_EPERM, ONBOARD__V1__CODE__PERMISSION_DENIED, false},
	        {OB_ECORRUPT, ONBOARD__V1__CODE__DATA_LOSS, false},
	        {OB_EIO, ONBOARD__V1__CODE__INTERNAL, false},
	        {OB_EINTERNAL, ONBOARD__V1__CODE__INTERNAL, false},
	        {OB_ENOSPC, ONBOARD__V1__CODE__RESOURCE_EXHAUSTED, true},
	};
	/* A new ob_err must be added here, with the code it means. */
	assert_int_equal(sizeof(table) / sizeof(table[0]), OB_ERR_COUNT_);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_int_equal(table[i].err, (ob_err)i);
		assert_int_equal(ob_status_from_err(table[i].err), table[i].code);
		assert_string_not_equal(ob_strerror(table[i].err), "unknown error");
		assert_int_equal(ob_status_retry_after_ms(table[i].err) > 0, table[i].retry_after);
	}
	assert_int_equal(ob_status_from_err(OB_ERR_COUNT_), ONBOARD__V1__CODE__UNKNOWN);
	assert_int_equal(ob_status_from_err((ob_err)-1), ONBOARD__V1__CODE__UNKNOWN);
	assert_int_equal(ob_status_retry_after_ms(OB_ERR_COUNT_), 0);
	assert_string_equal(ob_strerror(OB_ERR_COUNT_), "unknown error");
}

/* Status names are gRPC's, used in the access log and by clients. */
static void test_status_names(void **state)
{
	(void)state;
	static const char *const names[] = {
	        "OK",
	        "CANCELLED",
	        "UNKNOWN",
	        "INVALID_ARGUMENT",
	        "DEADLINE_EXCEEDED",
	        "NOT_FOUND",
	        "ALREADY_EXISTS",
	        "PERMISSION_DENIED",
	        "RESOURCE_EXHAUSTED",
	        "FAILED_PRECONDITION",
	        "ABORTED",
	        "OUT_OF_RANGE",
	        "UNIMPLEMENTED",
	        "INTERNAL",
	        "UNAVAILABLE",
	        "DATA_LOSS",
	        "UNAUTHENTICATED",
	};
	for (int c = 0; c < (int)(sizeof(names) / sizeof(names[0])); c++)
		assert_string_equal(ob_status_name((Onboard__V1__Code)c), names[c]);
	assert_string_equal(ob_status_name((Onboard__V1__Code)17), "UNKNOWN");
	assert_string_equal(ob_status_name((Onboard__V1__Code)-1), "UNKNOWN");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_health_serving),
	        T(test_health_per_service),
	        T(test_reflection_lists_services),
	        T(test_reflection_descriptor_set),
	        T(test_valid_payload_reaches_handler),
	        T(test_unknown_method),
	        T(test_register_errors),
	        T(test_request_size_cap),
	        T(test_request_over_default_cap),
	        T(test_unpack_bounded_by_arena),
	        T(test_garbage_envelope),
	        T(test_truncated_envelope),
	        T(test_envelope_wrong_wire_type),
	        T(test_wrong_version),
	        T(test_method_invalid_utf8),
	        T(test_metadata_key_rules),
	        T(test_metadata_duplicated),
	        T(test_metadata_request_id_rules),
	        T(test_metadata_count),
	        T(test_metadata_value_invalid_utf8),
	        T(test_request_id_echoed),
	        T(test_payload_invalid_utf8),
	        T(test_payload_nested_path),
	        T(test_payload_embedded_nul),
	        T(test_payload_unknown_field),
	        T(test_payload_enum_out_of_range),
	        T(test_payload_malformed),
	        T(test_deadline_already_past),
	        T(test_draining),
	        T(test_handler_error_without_message),
	        T(test_handler_wrong_type),
	        T(test_reply_from_an_exhausted_arena_refused),
	        T(test_handler_violation_cap),
	        T(test_call_reuse),
	        T(test_status_mapping),
	        T(test_status_names),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
