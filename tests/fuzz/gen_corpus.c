/*
 * gen_corpus.c: writes the seed corpus of fuzz_dispatch into a directory.
 *
 *     ninja -C build tests/fuzz/gen_dispatch_corpus
 *     build/tests/fuzz/gen_dispatch_corpus tests/fuzz/corpus/dispatch
 *
 * Seeds: valid envelopes for calls of every service (Health, Reflection, Onboarding, Admin,
 * Auth, one with a session token) with a small valid payload, the same with
 * metadata, envelopes broken in the ways the pipeline refuses (version, metadata, method),
 * truncated ones, bare payloads (the target also wraps each input as every method's payload)
 * and a few pseudo-random buffers from a fixed seed. The output is deterministic, so running
 * it again changes nothing; inputs found by the fuzzer are added next to these by hand.
 * The valid calls are a table of rows, each request written as proto3 JSON and encoded by
 * the codec the CLI and the HTTP face use (common/json_codec.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "json_codec.h"
#include "onboard/v1/admin.pb-c.h"
#include "onboard/v1/auth.pb-c.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "onboard/v1/reflection.pb-c.h"
#include "onboard/v1/rpc.pb-c.h"
#include "testutil.h"

static const char *outdir;

static void put(const char *name, const void *buf, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static size_t pack(const ProtobufCMessage *m, uint8_t *buf, size_t cap)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	if (n > cap) {
		fprintf(stderr, "seed too large\n");
		exit(1);
	}
	return protobuf_c_message_pack(m, buf);
}

typedef ob_test_envelope envelope;

/* Writes NAME, the envelope e. */
static void put_envelope(const char *name, const envelope *e)
{
	size_t n;
	uint8_t *buf = ob_test_envelope_pack(e, &n);
	if (buf == NULL) {
		fprintf(stderr, "%s: cannot pack the envelope\n", name);
		exit(1);
	}
	put(name, buf, n);
	free(buf);
}

/* Writes NAME (the envelope) and, with truncate, NAME-cut (its first half). */
static void put_call(const char *name, const char *method, const ProtobufCMessage *payload,
                     const char *const *md, int truncate)
{
	uint8_t p[1024];
	size_t plen = payload != NULL ? pack(payload, p, sizeof(p)) : 0;
	envelope e = {.version = 1,
	              .method = method,
	              .md = md,
	              .timeout_ms = md != NULL ? 5000 : 0,
	              .payload = p,
	              .payload_len = plen};
	put_envelope(name, &e);
	if (truncate) {
		size_t n;
		uint8_t *buf = ob_test_envelope_pack(&e, &n);
		char cut[256];
		snprintf(cut, sizeof(cut), "%s-cut", name);
		put(cut, buf, n / 2);
		free(buf);
	}
}

static const char *const md_full[] = {
        "request-id", "seed-1", "idempotency-key", "k-0123456789", "x-client", "gen", NULL};
/* A session token in the metadata: refused (the secret is random), but read. */
static const char *const md_token[] = {"authorization",
                                       "ob1.AWFiY2RlZjAxMjM0NTY3ODkBAAABi8_SpgAAAAGLz9KmAA."
                                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                       NULL};

#define HEALTH     "/onboard.v1.Health/"
#define REFLECTION "/onboard.v1.Reflection/"
#define ONBOARDING "/onboard.v1.Onboarding/"
#define ADMIN      "/onboard.v1.Admin/"
#define AUTH       "/onboard.v1.Auth/"
#define D(name)    &onboard__v1__##name##__descriptor

/* The valid calls, one a row: a plausible request of every service, as proto3 JSON. */
static const struct seed {
	const char *name, *method;
	const ProtobufCMessageDescriptor *input; /* NULL: no payload */
	const char *json;
	const char *const *md;
	int truncate;             /* also NAME-cut, the envelope's first half */
	const char *payload_name; /* also the payload alone, under this name */
} seeds[] = {
        /* Health and Reflection. */
        {.name = "health-empty", .method = HEALTH "Check"},
        {.name = "health-service",
         .method = HEALTH "Check",
         .input = D(health_check_request),
         .json = "{\"service\": \"onboard.v1.Onboarding\"}",
         .md = md_full,
         .truncate = 1},
        {.name = "reflection-list", .method = REFLECTION "ListServices"},
        {.name = "reflection-fds", .method = REFLECTION "GetFileDescriptorSet", .md = md_full},
        /* Onboarding, one call each. */
        {.name = "submit",
         .method = ONBOARDING "SubmitApplication",
         .input = D(submit_application_request),
         .json = "{\"cohortId\": \"2020-11\","
                 " \"company\": {\"siren\": \"732829320\","
                 "  \"legalName\": \"Bo\xC3\xAEtes & Cie\", \"nafCode\": \"47.91B\","
                 "  \"employees\": 12, \"turnoverEur\": 1500000,"
                 "  \"address\": {\"street\": \"8 rue de l'\xC3\x89glise\","
                 "   \"postalCode\": \"75015\", \"city\": \"Paris\"}},"
                 " \"contact\": {\"name\": \"Ana\", \"email\": \"ana@example.fr\","
                 "  \"phone\": \"06 12 34 56 78\"},"
                 " \"channel\": \"CHANNEL_BOTH\", \"intendsToExport\": true,"
                 " \"productCategories\": [\"home\", \"toys\"], \"acceptsTerms\": true}",
         .md = md_full,
         .truncate = 1,
         .payload_name = "payload-submit"},
        {.name = "get-application",
         .method = ONBOARDING "GetApplication",
         .input = D(get_application_request),
         .json = "{\"siren\": \"732829320\", \"cohortId\": \"2020-11\"}"},
        {.name = "list-applications",
         .method = ONBOARDING "ListApplications",
         .input = D(list_applications_request),
         .json = "{\"states\": [\"APPLICATION_STATE_SUBMITTED\","
                 "  \"APPLICATION_STATE_WAITLISTED\"],"
                 " \"sizeCategory\": \"SIZE_CATEGORY_PME\", \"region\": \"\xC3\x8Ele-de-France\","
                 " \"submittedAfter\": \"2020-11-02T09:00:00.000Z\", \"pageSize\": 50}",
         .md = md_full,
         .truncate = 1},
        {.name = "review",
         .method = ONBOARDING "ReviewApplication",
         .input = D(review_application_request),
         .json = "{\"id\": \"app-1\", \"action\": \"REVIEW_ACTION_REJECT\","
                 " \"expectedVersion\": 3, \"rejectionReason\": \"REJECTION_REASON_INCOMPLETE\","
                 " \"note\": \"missing Kbis\"}",
         .md = md_full},
        {.name = "withdraw",
         .method = ONBOARDING "WithdrawApplication",
         .input = D(withdraw_application_request),
         .json = "{\"id\": \"app-1\", \"reason\": \"changed plans\"}"},
        {.name = "get-cohort",
         .method = ONBOARDING "GetCohort",
         .input = D(get_cohort_request),
         .json = "{\"id\": \"2020-11\"}"},
        {.name = "list-cohorts", .method = ONBOARDING "ListCohorts"},
        {.name = "create-cohort",
         .method = ONBOARDING "CreateCohort",
         .input = D(create_cohort_request),
         .json = "{\"cohort\": {\"id\": \"2021-01\", \"name\": \"January\", \"capacity\": 300,"
                 " \"lockdownStart\": \"2020-10-30\", \"monthlyFeeCents\": 3900,"
                 " \"webinarHour\": 10,"
                 " \"eligibleSizes\": [\"SIZE_CATEGORY_TPE\", \"SIZE_CATEGORY_PME\"]}}",
         .md = md_full,
         .truncate = 1,
         .payload_name = "payload-create-cohort"},
        {.name = "set-capacity",
         .method = ONBOARDING "SetCohortCapacity",
         .input = D(set_cohort_capacity_request),
         .json = "{\"id\": \"2020-11\", \"capacity\": 500}"},
        /* Admin and Auth (fuzz_dispatch serves them behind the real authorizer). */
        {.name = "admin-erase",
         .method = ADMIN "EraseContact",
         .input = D(erase_contact_request),
         .json = "{\"id\": \"app-1\", \"reason\": \"GDPR art. 17 request\"}",
         .md = md_full},
        {.name = "admin-export",
         .method = ADMIN "ExportContact",
         .input = D(export_contact_request),
         .json = "{\"email\": \"ana@example.fr\"}"},
        {.name = "admin-audit",
         .method = ADMIN "ListAuditEvents",
         .input = D(list_audit_events_request),
         .json = "{\"pageSize\": 500, \"pageToken\": \"AQAAAAAAAAA\"}",
         .truncate = 1},
        {.name = "auth-login",
         .method = AUTH "Login",
         .input = D(login_request),
         .json = "{\"keyId\": \"0123456789abcdef\", \"timestampMs\": \"1700000000000\","
                 " \"nonce\": \"AAAAAAAAAAAAAAAAAAAAAA==\","
                 " \"signature\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\","
                 " \"audience\": [\"ipc:///run/onboard/onboardd.sock\"]}",
         .md = md_full,
         .truncate = 1},
        {.name = "auth-whoami", .method = AUTH "WhoAmI"},
        {.name = "whoami-token", .method = AUTH "WhoAmI", .md = md_token},
};

/* Writes the seed's envelope (and its cut, and its payload alone, as the row asks). */
static void put_seed(const struct seed *sd)
{
	ProtobufCMessage *m = NULL;
	if (sd->input != NULL) {
		char why[256];
		m = ob_json_parse_message(sd->json, strlen(sd->json), sd->input, why, sizeof(why));
		if (m == NULL) {
			fprintf(stderr, "%s: %s\n", sd->name, why);
			exit(1);
		}
	}
	put_call(sd->name, sd->method, m, sd->md, sd->truncate);
	if (sd->payload_name != NULL) {
		uint8_t buf[2048];
		put(sd->payload_name, buf, pack(m, buf, sizeof(buf)));
	}
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		put_seed(&seeds[i]);

	/* Envelopes the pipeline refuses. */
	put_envelope("bad-version",
	             &(envelope){.version = 2, .method = "/onboard.v1.Health/Check"});
	put_envelope("bad-method", &(envelope){.version = 1, .method = "/onboard.v1.Health/Nope"});
	put_envelope("bad-dup-request-id",
	             &(envelope){.version = 1,
	                         .method = "/onboard.v1.Health/Check",
	                         .md = (const char *const[]){"request-id", "a", "request-id", "b",
	                                                     NULL}});
	put_envelope("bad-md-key",
	             &(envelope){.version = 1,
	                         .method = "/onboard.v1.Health/Check",
	                         .md = (const char *const[]){"Request-Id", "a", NULL}});
	put("empty", "", 0);

	/* Bare payloads, hand-encoded: the target wraps them as every method's payload. */
	static const uint8_t enum99[] = {0x12, 0x01, 99};
	put("payload-states-99", enum99, sizeof(enum99));
	static const uint8_t postal_ff[] = {0x12, 0x05, 0x52, 0x03, 0x12, 0x01, 0xFF};
	put("payload-postal-ff", postal_ff, sizeof(postal_ff));
	static const uint8_t nul[] = {0x0A, 0x03, 'a', 0x00, 'b'};
	put("payload-nul", nul, sizeof(nul));
	static const uint8_t unknown[] = {0x12, 0x03, 0x98, 0x06, 0x01};
	put("payload-unknown-field", unknown, sizeof(unknown));
	static const uint8_t neg[] = {0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	                              0xFF, 0xFF, 0xFF, 0xFF, 0x01};
	put("payload-negative-enum", neg, sizeof(neg));
	static const uint8_t fixed[] = {0x4D, 0x01, 0x00, 0x00, 0x00, 0x19, 0, 0, 0, 0, 0, 0, 0, 0};
	put("payload-fixed", fixed, sizeof(fixed));

	/* Pseudo-random buffers (xorshift32, fixed seed). */
	uint32_t x = 2463534242u;
	for (int i = 0; i < 6; i++) {
		uint8_t r[64];
		size_t len = 8 + (size_t)i * 10;
		ob_test_random_bytes(&x, r, len);
		char name[32];
		snprintf(name, sizeof(name), "random-%d", i);
		put(name, r, len);
	}
	return 0;
}
