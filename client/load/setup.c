/*
 * The preparation of a run (setup.h).
 */
#include "setup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "defaults.h"
#include "errbuf.h"
#include "keyfile.h"
#include "login_message.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "report.h"

enum {
	IDS_WANTED = 5000, /* listed for get */
	SEEDS = 200,       /* applications made first when there are none */
	PAGE = 500,
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A refused or failed control call, as one line: "what: CODE: message". */
static int call_failed(const char *what, int code, const ob_result *r, char *err, size_t errlen)
{
	ob_errbuf(err, errlen, "%s: %s: %s", what, ob_code_name(code),
	          r->message != NULL ? r->message : "out of memory");
	return -1;
}

/*
 * A control call: the packed request req[0..len) to method, with the -H metadata (but an
 * idempotency-key, which would make the setup's calls replays of one another) and the
 * token. Returns the code; *r is the caller's to finish.
 */
static int control_raw(ob_load_setup *s, const char *method, const uint8_t *req, size_t len,
                       ob_result *r)
{
	const ob_load_config *c = s->cfg;
	ob_metadata md[OB_LOAD_MAX_METADATA + 1];
	size_t n = 0;
	for (size_t i = 0; i < c->n_md; i++)
		if (strcmp(c->md[i].key, "idempotency-key") != 0)
			md[n++] = (ob_metadata){c->md[i].key, c->md[i].value};
	if (s->token[0] != '\0')
		md[n++] = (ob_metadata){"authorization", s->token};
	return ob_client_call(s->client, method, md, n, req, len, c->timeout_ms, r);
}

/* control_raw() with req packed, and on OK the reply unpacked as resp_desc into *resp (the
 * caller frees it); with resp NULL, the reply is not read. */
static int control_call(ob_load_setup *s, const char *method, const ProtobufCMessage *req,
                        const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
                        ob_result *r)
{
	if (resp != NULL)
		*resp = NULL;
	size_t n = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(n > 0 ? n : 1);
	if (buf == NULL) {
		*r = (ob_result){.code = OB_CODE_RESOURCE_EXHAUSTED, .local = true};
		return r->code;
	}
	protobuf_c_message_pack(req, buf);
	int code = control_raw(s, method, buf, n, r);
	free(buf);
	if (code == OB_CODE_OK && resp != NULL &&
	    (*resp = protobuf_c_message_unpack(resp_desc, NULL, r->payload_len, r->payload)) ==
	            NULL)
		code = OB_CODE_INTERNAL;
	return code;
}

/* ---- login ----------------------------------------------------------------------------- */

int ob_load_setup_login(ob_load_setup *s, char *err, size_t errlen)
{
	Onboard__V1__LoginRequest rq = ONBOARD__V1__LOGIN_REQUEST__INIT;
	uint8_t nonce[OB_LOGIN_NONCE_LEN], sig[64];
	randombytes_buf(nonce, sizeof(nonce));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t ts = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (ob_keyfile_sign_login(s->seed, s->key_id, ts, nonce, s->audiences, s->n_audiences,
	                          sig) != 0) {
		ob_errbuf(err, errlen, "cannot sign the login");
		return -1;
	}
	rq.key_id = s->key_id;
	rq.timestamp_ms = ts;
	rq.nonce = (ProtobufCBinaryData){sizeof(nonce), nonce};
	rq.signature = (ProtobufCBinaryData){sizeof(sig), sig};
	rq.audience = (char **)s->audiences;
	rq.n_audience = s->n_audiences;
	Onboard__V1__LoginResponse *rs = NULL;
	ob_result r;
	s->token[0] = '\0'; /* the login carries none */
	int code = control_call(s, "/onboard.v1.Auth/Login", &rq.base,
	                        &onboard__v1__login_response__descriptor, (ProtobufCMessage **)&rs,
	                        &r);
	int rc = 0;
	if (code != OB_CODE_OK) {
		rc = call_failed("cannot log in", code, &r, err, errlen);
	} else if (strlen(rs->token) >= sizeof(s->token)) {
		ob_errbuf(err, errlen, "cannot log in: the server's token is too long");
		rc = -1;
	} else {
		memcpy(s->token, rs->token, strlen(rs->token) + 1);
	}
	if (rs != NULL)
		protobuf_c_message_free_unpacked(&rs->base, NULL);
	ob_result_fini(&r);
	s->token_ms = rc == 0 ? mono_ms() : 0;
	return rc;
}

int ob_load_setup_open(ob_load_setup *s, const ob_load_config *cfg, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	ob_client_options o = {.tls_ca_file = cfg->tls_ca,
	                       .tls_cert_file = cfg->tls_cert,
	                       .tls_key_file = cfg->tls_key,
	                       .tls_server_name = cfg->tls_server_name,
	                       .ipc_server_uid_set = cfg->server_uid_set,
	                       .ipc_server_uid = cfg->server_uid};
	if (ob_client_open(&s->client, cfg->servers, cfg->n_servers, &o, err, errlen) != 0)
		return -1;
	if (cfg->key_file == NULL)
		return 0;
	if (ob_keyfile_load(cfg->key_file, s->seed, s->key_id, err, errlen) != 0)
		return -1;
	s->has_key = true;
	/* A login is signed for the servers it may reach, as libonboard-client signs its own:
	 * the URLs dialled, those short enough to sign. */
	for (size_t i = 0; i < cfg->n_servers && s->n_audiences < OB_LOGIN_MAX_AUDIENCES; i++)
		if (ob_login_audiences_valid(&cfg->servers[i], 1))
			s->audiences[s->n_audiences++] = cfg->servers[i];
	if (s->n_audiences == 0) {
		ob_errbuf(err, errlen, "no server URL of at most %d bytes to sign the login for",
		          OB_LOGIN_MAX_AUDIENCE_LEN);
		return -1;
	}
	return ob_load_setup_login(s, err, errlen);
}

void ob_load_setup_close(ob_load_setup *s)
{
	ob_client_close(s->client);
	s->client = NULL;
	sodium_memzero(s->seed, sizeof(s->seed));
	sodium_memzero(s->token, sizeof(s->token));
}

/* ---- the cohort ------------------------------------------------------------------------ */

void ob_load_cohort_id(char out[32], int64_t t, unsigned r)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	char when[16];
	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, 32, "load-%s-%04x", when, r & 0xffff);
}

/* "YYYY-MM-DD" of unix time t. */
static void date(char out[11], time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/*
 * A throw-away cohort for this run. Its settings are the programme's (800 seats, so that the
 * waitlist fills as in November 2020; the same benefits), its lockdown moved to today. It
 * takes submissions from 2000 to 2100: whatever the server's clock says (a test server may
 * run on another date with --now), the run's submissions are inside the window; a cohort of
 * the lockdown's dates would refuse them once the lockdown is over.
 */
static int create_cohort(ob_load_setup *s, char *err, size_t errlen)
{
	time_t now = time(NULL);
	char id[32], name[80], start[11], end[11], waiver[11];
	ob_load_cohort_id(id, (int64_t)now, randombytes_uniform(0x10000));
	snprintf(name, sizeof(name), "Load test of %.15s (onboard-load)", id + 5);
	date(start, now);
	date(end, now + 45 * 86400);
	date(waiver, now + (45 + 92) * 86400);
	Onboard__V1__SizeCategory sizes[] = {ONBOARD__V1__SIZE_CATEGORY__SIZE_CATEGORY_TPE,
	                                     ONBOARD__V1__SIZE_CATEGORY__SIZE_CATEGORY_PME};
	Onboard__V1__Cohort co = ONBOARD__V1__COHORT__INIT;
	co.id = id;
	co.name = name;
	co.capacity = 800;
	co.window_opens = (char *)"2000-01-01T00:00:00.000Z";
	co.window_closes = (char *)"2100-01-01T00:00:00.000Z";
	co.lockdown_start = start;
	co.lockdown_end = end;
	co.fee_waiver_until = waiver;
	co.monthly_fee_cents = 3900;
	co.ad_credit_cents = 20000;
	co.webinar_hour = 10;
	co.webinar_seats = 100;
	co.advisor_pool = 300;
	co.eligible_sizes = sizes;
	co.n_eligible_sizes = 2;
	Onboard__V1__CreateCohortRequest rq = ONBOARD__V1__CREATE_COHORT_REQUEST__INIT;
	rq.cohort = &co;
	ob_result r;
	int code = control_call(s, "/onboard.v1.Onboarding/CreateCohort", &rq.base, NULL, NULL, &r);
	int rc = 0;
	if (code != OB_CODE_OK) {
		ob_errbuf(
		        err, errlen,
		        "cannot create a throw-away load-test cohort: %s: %s. The run writes, and "
		        "writes go to a cohort of their own, which takes an admin (the local "
		        "administrator on the ipc socket, or --key with an admin's key); or name "
		        "an existing cohort to write into with --cohort ID",
		        ob_code_name(code), r.message);
		rc = -1;
	} else {
		snprintf(s->cohort, sizeof(s->cohort), "%s", id);
		s->cohort_created = true;
		char hint[256];
		ob_load_removal_hint(hint, sizeof(hint), id);
		fprintf(stderr,
		        "onboard-load: writing into %s, a load-test cohort created for this run; "
		        "remove it afterwards with %s\n",
		        id, hint);
	}
	ob_result_fini(&r);
	return rc;
}

/* --cohort must name a cohort the server has. */
static int check_cohort(ob_load_setup *s, const char *id, char *err, size_t errlen)
{
	Onboard__V1__GetCohortRequest rq = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
	rq.id = (char *)id;
	ob_result r;
	int code = control_call(s, "/onboard.v1.Onboarding/GetCohort", &rq.base, NULL, NULL, &r);
	int rc = 0;
	if (code == OB_CODE_NOT_FOUND)
		rc = call_failed(
		        "--cohort names no cohort of the server ('onboard cohort --list' "
		        "lists them; without --cohort, writes go to a new load-test cohort)",
		        code, &r, err, errlen);
	else if (code != OB_CODE_OK)
		rc = call_failed("cannot read the cohort", code, &r, err, errlen);
	ob_result_fini(&r);
	return rc;
}

/* ---- application ids ------------------------------------------------------------------- */

/* Up to IDS_WANTED ids of the cohort ("": of every cohort) into rq. */
static int list_ids(ob_load_setup *s, ob_load_requests *rq, const char *cohort, char *err,
                    size_t errlen)
{
	Onboard__V1__ListApplicationsRequest rq_list = ONBOARD__V1__LIST_APPLICATIONS_REQUEST__INIT;
	rq_list.cohort_id = (char *)cohort;
	rq_list.page_size = PAGE;
	char token[256] = "";
	while (ob_load_requests_ids(rq) < IDS_WANTED) {
		rq_list.page_token = token;
		Onboard__V1__ListApplicationsResponse *rs = NULL;
		ob_result r;
		int code = control_call(s, "/onboard.v1.Onboarding/ListApplications", &rq_list.base,
		                        &onboard__v1__list_applications_response__descriptor,
		                        (ProtobufCMessage **)&rs, &r);
		if (code != OB_CODE_OK) {
			call_failed("cannot list the applications to get", code, &r, err, errlen);
			ob_result_fini(&r);
			return -1;
		}
		ob_result_fini(&r);
		for (size_t i = 0; i < rs->n_applications; i++)
			ob_load_requests_add_id(rq, rs->applications[i]->id);
		bool more = rs->next_page_token[0] != '\0' &&
		            strlen(rs->next_page_token) < sizeof(token);
		if (more)
			memcpy(token, rs->next_page_token, strlen(rs->next_page_token) + 1);
		protobuf_c_message_free_unpacked(&rs->base, NULL);
		if (!more)
			break;
	}
	return 0;
}

/* SEEDS new applications into rq's cohort, their ids into rq. Their SIRENs are the SEEDS
 * just below the run's range, so that the run's own submits do not meet them. */
static int seed(ob_load_setup *s, ob_load_requests *rq, char *err, size_t errlen)
{
	fprintf(stderr, "onboard-load: no application to get: submitting %d into %s first\n", SEEDS,
	        rq->cohort);
	for (uint64_t k = 0; k < SEEDS; k++) {
		uint8_t buf[2048];
		size_t n = ob_load_submit_request(rq, OB_LOAD_SIRENS - SEEDS + k, buf, sizeof(buf));
		ob_result r;
		int code = control_raw(s, "/onboard.v1.Onboarding/SubmitApplication", buf, n, &r);
		if (code == OB_CODE_OK) {
			Onboard__V1__Application *a =
			        onboard__v1__application__unpack(NULL, r.payload_len, r.payload);
			if (a != NULL) {
				ob_load_requests_add_id(rq, a->id);
				onboard__v1__application__free_unpacked(a, NULL);
			}
		} else if (code != OB_CODE_ALREADY_EXISTS) {
			call_failed("cannot submit the applications to get", code, &r, err, errlen);
			ob_result_fini(&r);
			return -1;
		}
		ob_result_fini(&r);
	}
	return 0;
}

int ob_load_setup_prepare(ob_load_setup *s, ob_load_requests *rq, char *err, size_t errlen)
{
	const ob_load_config *c = s->cfg;
	if (c->cohort != NULL) {
		if (check_cohort(s, c->cohort, err, errlen) != 0)
			return -1;
		snprintf(s->cohort, sizeof(s->cohort), "%s", c->cohort);
	} else if (ob_load_writes(c) && create_cohort(s, err, errlen) != 0) {
		return -1;
	}
	snprintf(rq->cohort, sizeof(rq->cohort), "%s", s->cohort);
	bool ids = c->weights[OB_LOAD_GET] > 0 ||
	           (c->data != NULL && ob_load_template_uses(c->data, OB_LOAD_SLOT_APP_ID));
	if (!ids)
		return 0;
	if (list_ids(s, rq, s->cohort, err, errlen) != 0)
		return -1;
	if (ob_load_requests_ids(rq) > 0)
		return 0;
	/* Nothing to read: a read-only run that named no cohort writes its seeds into a
	 * throw-away one too. */
	if (s->cohort[0] == '\0') {
		if (create_cohort(s, err, errlen) != 0)
			return -1;
		snprintf(rq->cohort, sizeof(rq->cohort), "%s", s->cohort);
	}
	return seed(s, rq, err, errlen);
}
