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
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
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

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];

	/* Health and Reflection. */
	Onboard__V1__HealthCheckRequest hc = ONBOARD__V1__HEALTH_CHECK_REQUEST__INIT;
	put_call("health-empty", "/onboard.v1.Health/Check", NULL, NULL, 0);
	hc.service = (char *)"onboard.v1.Onboarding";
	put_call("health-service", "/onboard.v1.Health/Check", &hc.base, md_full, 1);
	put_call("reflection-list", "/onboard.v1.Reflection/ListServices", NULL, NULL, 0);
	put_call("reflection-fds", "/onboard.v1.Reflection/GetFileDescriptorSet", NULL, md_full, 0);

	/* Onboarding, one call each with a plausible request. */
	Onboard__V1__Address addr = ONBOARD__V1__ADDRESS__INIT;
	addr.street = (char *)"8 rue de l'\xC3\x89glise";
	addr.postal_code = (char *)"75015";
	addr.city = (char *)"Paris";
	Onboard__V1__Company co = ONBOARD__V1__COMPANY__INIT;
	co.siren = (char *)"732829320";
	co.legal_name = (char *)"Bo\xC3\xAEtes & Cie";
	co.naf_code = (char *)"47.91B";
	co.employees = 12;
	co.turnover_eur = 1500000;
	co.address = &addr;
	Onboard__V1__Contact ct = ONBOARD__V1__CONTACT__INIT;
	ct.name = (char *)"Ana";
	ct.email = (char *)"ana@example.fr";
	ct.phone = (char *)"06 12 34 56 78";
	char *cats[] = {(char *)"home", (char *)"toys"};
	Onboard__V1__SubmitApplicationRequest sub = ONBOARD__V1__SUBMIT_APPLICATION_REQUEST__INIT;
	sub.cohort_id = (char *)"2020-11";
	sub.company = &co;
	sub.contact = &ct;
	sub.channel = ONBOARD__V1__CHANNEL__CHANNEL_BOTH;
	sub.intends_to_export = 1;
	sub.product_categories = cats;
	sub.n_product_categories = 2;
	sub.accepts_terms = 1;
	put_call("submit", "/onboard.v1.Onboarding/SubmitApplication", &sub.base, md_full, 1);

	Onboard__V1__GetApplicationRequest ga = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
	ga.siren = (char *)"732829320";
	ga.cohort_id = (char *)"2020-11";
	put_call("get-application", "/onboard.v1.Onboarding/GetApplication", &ga.base, NULL, 0);

	Onboard__V1__ApplicationState states[] = {
	        ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_SUBMITTED,
	        ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED};
	Onboard__V1__ListApplicationsRequest la = ONBOARD__V1__LIST_APPLICATIONS_REQUEST__INIT;
	la.states = states;
	la.n_states = 2;
	la.size_category = ONBOARD__V1__SIZE_CATEGORY__SIZE_CATEGORY_PME;
	la.region = (char *)"\xC3\x8Ele-de-France";
	la.submitted_after = (char *)"2020-11-02T09:00:00.000Z";
	la.page_size = 50;
	put_call("list-applications", "/onboard.v1.Onboarding/ListApplications", &la.base, md_full,
	         1);

	Onboard__V1__ReviewApplicationRequest rv = ONBOARD__V1__REVIEW_APPLICATION_REQUEST__INIT;
	rv.id = (char *)"app-1";
	rv.action = ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_REJECT;
	rv.expected_version = 3;
	rv.rejection_reason = ONBOARD__V1__REJECTION_REASON__REJECTION_REASON_INCOMPLETE;
	rv.note = (char *)"missing Kbis";
	put_call("review", "/onboard.v1.Onboarding/ReviewApplication", &rv.base, md_full, 0);

	Onboard__V1__WithdrawApplicationRequest wd =
	        ONBOARD__V1__WITHDRAW_APPLICATION_REQUEST__INIT;
	wd.id = (char *)"app-1";
	wd.reason = (char *)"changed plans";
	put_call("withdraw", "/onboard.v1.Onboarding/WithdrawApplication", &wd.base, NULL, 0);

	Onboard__V1__GetCohortRequest gc = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
	gc.id = (char *)"2020-11";
	put_call("get-cohort", "/onboard.v1.Onboarding/GetCohort", &gc.base, NULL, 0);
	put_call("list-cohorts", "/onboard.v1.Onboarding/ListCohorts", NULL, NULL, 0);

	Onboard__V1__SizeCategory sizes[] = {ONBOARD__V1__SIZE_CATEGORY__SIZE_CATEGORY_TPE,
	                                     ONBOARD__V1__SIZE_CATEGORY__SIZE_CATEGORY_PME};
	Onboard__V1__Cohort cohort = ONBOARD__V1__COHORT__INIT;
	cohort.id = (char *)"2021-01";
	cohort.name = (char *)"January";
	cohort.capacity = 300;
	cohort.lockdown_start = (char *)"2020-10-30";
	cohort.monthly_fee_cents = 3900;
	cohort.webinar_hour = 10;
	cohort.eligible_sizes = sizes;
	cohort.n_eligible_sizes = 2;
	Onboard__V1__CreateCohortRequest cc = ONBOARD__V1__CREATE_COHORT_REQUEST__INIT;
	cc.cohort = &cohort;
	put_call("create-cohort", "/onboard.v1.Onboarding/CreateCohort", &cc.base, md_full, 1);

	Onboard__V1__SetCohortCapacityRequest sc = ONBOARD__V1__SET_COHORT_CAPACITY_REQUEST__INIT;
	sc.id = (char *)"2020-11";
	sc.capacity = 500;
	put_call("set-capacity", "/onboard.v1.Onboarding/SetCohortCapacity", &sc.base, NULL, 0);

	/* Admin and Auth (fuzz_dispatch serves them behind the real authorizer). */
	Onboard__V1__EraseContactRequest er = ONBOARD__V1__ERASE_CONTACT_REQUEST__INIT;
	er.id = (char *)"app-1";
	er.reason = (char *)"GDPR art. 17 request";
	put_call("admin-erase", "/onboard.v1.Admin/EraseContact", &er.base, md_full, 0);
	Onboard__V1__ExportContactRequest ex = ONBOARD__V1__EXPORT_CONTACT_REQUEST__INIT;
	ex.email = (char *)"ana@example.fr";
	put_call("admin-export", "/onboard.v1.Admin/ExportContact", &ex.base, NULL, 0);
	Onboard__V1__ListAuditEventsRequest ae = ONBOARD__V1__LIST_AUDIT_EVENTS_REQUEST__INIT;
	ae.page_size = 500;
	ae.page_token = (char *)"AQAAAAAAAAA";
	put_call("admin-audit", "/onboard.v1.Admin/ListAuditEvents", &ae.base, NULL, 1);
	uint8_t nonce[16] = {0}, sig[64] = {0};
	char *aud[] = {(char *)"ipc:///run/onboard/onboardd.sock"};
	Onboard__V1__LoginRequest lg = ONBOARD__V1__LOGIN_REQUEST__INIT;
	lg.key_id = (char *)"0123456789abcdef";
	lg.timestamp_ms = 1700000000000;
	lg.nonce = (ProtobufCBinaryData){sizeof(nonce), nonce};
	lg.signature = (ProtobufCBinaryData){sizeof(sig), sig};
	lg.audience = aud;
	lg.n_audience = 1;
	put_call("auth-login", "/onboard.v1.Auth/Login", &lg.base, md_full, 1);
	put_call("auth-whoami", "/onboard.v1.Auth/WhoAmI", NULL, NULL, 0);
	/* A session token in the metadata: refused (the secret is random), but read. */
	put_call("whoami-token", "/onboard.v1.Auth/WhoAmI", NULL,
	         (const char *const[]){"authorization",
	                               "ob1.AWFiY2RlZjAxMjM0NTY3ODkBAAABi8_SpgAAAAGLz9KmAA."
	                               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	                               NULL},
	         0);

	/* Envelopes the pipeline refuses. */
	uint8_t buf[2048];
	size_t n;
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
	n = pack(&sub.base, buf, sizeof(buf));
	put("payload-submit", buf, n);
	n = pack(&cc.base, buf, sizeof(buf));
	put("payload-create-cohort", buf, n);

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
