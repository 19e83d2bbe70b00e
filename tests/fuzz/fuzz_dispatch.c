/*
 * fuzz_dispatch.c: libFuzzer target for the request pipeline short of the socket,
 * ob_dispatch_handle() (rpc/dispatch.c, rpc/pbcheck.c, protobuf-c's unpack, the handlers).
 *
 * Each input is used twice over: as envelope bytes straight from the network (serving and
 * draining), and as the payload of every method in an otherwise valid envelope, so that the
 * strict wire check and the bounded unpack see every request type of the contract. The
 * handlers are the real ones (ob_handlers_register), behind the real authorizer (rpc/authz.c,
 * which adds the Auth service): the envelope's "authorization" metadata is read as a session
 * token, and a call without one comes as the local administrator does (the peer's uid is the
 * server's), so that every method's request reaches its handler. Its rate limits are at their
 * maximum (a million a second): an answer must not depend on how fast the inputs come. By
 * default the domain is NULL, so the Onboarding handlers stop at "the store is not open" once
 * their request has passed the pipeline: each input gives the same answer on every run. With
 * OB_FUZZ_DB=PATH (a fresh file, best on a tmpfs such as /dev/shm) they run against a real
 * SQLite store and domain instead, reaching validation and conversion too; state then
 * accumulates from one input to the next.
 *
 * Invariants checked on every reply, beyond "no crash, no leak, no UB": it packs to exactly
 * its packed size, decodes back as a Response with the same code, carries no payload unless
 * OK, and every string in it is valid UTF-8 (a proto3 decoder in another language refuses the
 * whole reply otherwise).
 *
 * Build with -Dfuzz=true and clang for libFuzzer; tests/fuzz/replay.c drives the same entry
 * point over the corpus in any build (the fuzz-smoke suite).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fuzz.h"
#include "envelope.h"
#include "base/clock.h"
#include "base/utf8.h"
#include "domain/domain.h"
#include "rpc/authz.h"
#include "rpc/dispatch.h"
#include "rpc/handlers.h"
#include "store/sqlite.h"

static ob_dispatch *dispatch;
static ob_store *store;
static ob_authz *authz;
static ob_rpc_env env;
static ob_call call;

static void teardown(void)
{
	ob_call_fini(&call);
	ob_dispatch_destroy(dispatch);
	ob_authz_destroy(authz);
	ob_domain_destroy(env.domain);
	ob_store_destroy(store);
}

static void setup(void)
{
	if (sodium_init() < 0)
		fuzz_die("sodium_init failed");
	ob_authz_config cfg;
	ob_authz_config_defaults(&cfg);
	cfg.key_rate = cfg.key_burst = cfg.addr_rate = cfg.addr_burst = 1e6;
	cfg.login_rate = cfg.login_burst = cfg.login_key_rate = cfg.login_key_burst = 1e6;
	cfg.audit_addr_rate = cfg.audit_addr_burst = cfg.audit_rate = cfg.audit_burst = 1e6;
	if (ob_dispatch_create(&dispatch) != OB_OK || ob_handlers_register(dispatch) != OB_OK ||
	    ob_authz_create(&authz, &cfg) != OB_OK || ob_authz_install(authz, dispatch) != OB_OK)
		fuzz_die("cannot build the dispatch");
	env.authz = authz;
	env.dispatch = dispatch;
	const char *db = getenv("OB_FUZZ_DB");
	if (db != NULL && db[0] != '\0') {
		if (ob_store_open_sqlite(&store, db) != OB_OK ||
		    ob_domain_create(&env.domain, store, NULL) != OB_OK)
			fuzz_die("cannot open the store at $OB_FUZZ_DB");
	}
	ob_call_init(&call, &env, OB_DEFAULT_MAX_REQUEST_BYTES);
	call.peer = "fuzz";
	atexit(teardown);
}

static void check_text(const char *s, const char *what)
{
	if (s == NULL)
		fuzz_die(what);
	if (!ob_utf8_valid(s, strlen(s))) {
		fprintf(stderr, "fuzz_dispatch: %s of a call of %s is not valid UTF-8: \"%s\"\n",
		        what, call.method, s);
		abort();
	}
}

static void handle(const uint8_t *buf, size_t len, bool draining)
{
	ob_call_reset(&call);
	call.peer = "fuzz";
	call.peer_uid = (int64_t)geteuid();
	call.arrived_us = ob_clock_mono_us();
	call.draining = draining;
	Onboard__V1__Response *rs = ob_dispatch_handle(dispatch, &call, buf, len);
	if (rs == NULL)
		fuzz_die("ob_dispatch_handle returned NULL");
	check_text(rs->message, "Response.message");
	check_text(rs->request_id, "Response.request_id");
	for (size_t i = 0; i < rs->n_field_violations; i++) {
		check_text(rs->field_violations[i]->field, "FieldViolation.field");
		check_text(rs->field_violations[i]->description, "FieldViolation.description");
	}
	if (rs->code != ONBOARD__V1__CODE__OK && rs->payload.len != 0)
		fuzz_die("a payload on a failed call");

	size_t n = protobuf_c_message_get_packed_size(&rs->base);
	uint8_t *out = malloc(n > 0 ? n : 1);
	if (out == NULL)
		fuzz_die("out of memory");
	if (protobuf_c_message_pack(&rs->base, out) != n)
		fuzz_die("the reply packed to another size than announced");
	Onboard__V1__Response *back = onboard__v1__response__unpack(NULL, n, out);
	if (back == NULL)
		fuzz_die("the reply does not decode as a Response");
	if (back->code != rs->code)
		fuzz_die("the reply's code did not survive the round trip");
	onboard__v1__response__free_unpacked(back, NULL);
	free(out);
}

/* Packs a version-1 envelope for method around payload into a malloc'd buffer. */
static uint8_t *wrap(const char *method, const uint8_t *payload, size_t len, size_t *out_len)
{
	uint8_t *buf = ob_test_envelope_pack(
	        &(ob_test_envelope){.method = method,
	                            .md = (const char *const[]){"request-id", "fuzz", NULL},
	                            .timeout_ms = 60000,
	                            .payload = payload,
	                            .payload_len = len},
	        out_len);
	if (buf == NULL)
		fuzz_die("out of memory");
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dispatch == NULL)
		setup();
	handle(data, size, false);
	handle(data, size, true);
	for (size_t s = 0; s < ob_dispatch_n_services(dispatch); s++) {
		const ProtobufCServiceDescriptor *sd = ob_dispatch_service(dispatch, s);
		for (unsigned m = 0; m < sd->n_methods; m++) {
			char method[128];
			snprintf(method, sizeof(method), "/%s/%s", sd->name, sd->methods[m].name);
			size_t len;
			uint8_t *buf = wrap(method, data, size, &len);
			handle(buf, len, false);
			free(buf);
		}
	}
	return 0;
}
