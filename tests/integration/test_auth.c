/*
 * test_auth.c: authentication and roles against a real onboardd, as a remote caller sees them.
 *
 * Every test gets its own onboardd (tests/support/testsrv.h) started with `--trust-local no`
 * (over ipc the test process would otherwise be the trusted local administrator) and a keyring
 * written into a private directory, with keys made by ob_keyfile_generate: admin, reviewer,
 * two applicants, a reviewer key whose NOT_AFTER has passed, one whose NOT_BEFORE is to come,
 * and a stranger's key that the keyring does not hold.
 *
 * Two ways in: libonboard-client with a key_file (the library logs in by itself), and Login
 * requests built here by hand (signed with common/'s code for the URL the test dials, as the
 * library signs them) and sent through the helper's keyless client, so that each refusal
 * (unsigned, forged, replayed, out of the time window, invalid key, for another server,
 * malformed) is exercised on its own. Session tokens obtained that way travel in
 * `authorization` metadata.
 *
 * The server allows 100 logins at once per address (the ipc peers of one uid are one address),
 * then 20 per second: no test logs in more than a dozen times. Waits are bounded by generous
 * deadlines, never by sleeps that assume a fast machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "keyfile.h"
#include "onboard/client.h"
#include "onboard/v1/auth.pb-c.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "onboard/v1/reflection.pb-c.h"
#include "testdata.h"
#include "testsrv.h"
#include "testutil.h"

#define LOGIN      "/onboard.v1.Auth/Login"
#define WHOAMI     "/onboard.v1.Auth/WhoAmI"
#define GET_COHORT "/onboard.v1.Onboarding/GetCohort"
#define SET_CAP    "/onboard.v1.Onboarding/SetCohortCapacity"
#define GET_APP    "/onboard.v1.Onboarding/GetApplication"
#define REVIEW     "/onboard.v1.Onboarding/ReviewApplication"
#define WITHDRAW   "/onboard.v1.Onboarding/WithdrawApplication"
#define COHORT     "2020-11" /* the default cohort of every new database */

enum {
	CALL_TIMEOUT_MS = 10000,
	EVENT_TIMEOUT_MS = 10000, /* for "the server does it within a few seconds" */
	EXIT_TIMEOUT_MS = 30000,  /* for an onboardd expected to refuse to start */
	MAX_AGE_MS = 60000,       /* OB_LOGIN_MAX_AGE_MS of the server: how far behind */
	MAX_AHEAD_MS = 5000,      /* OB_LOGIN_MAX_AHEAD_MS: how far ahead a timestamp may be */
	TOKEN_LEN = 94,           /* OB_TOKEN_LEN of the server */
	PATH_CAP = 320,
	SERVING = ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING,
};

/* ---- keys and keyring --------------------------------------------------- */

typedef struct key {
	const char *name;       /* the file is DIR/NAME.key */
	const char *role;       /* in the keyring line */
	const char *not_before; /* RFC 3339 or "-" */
	const char *not_after;
	bool in_keyring; /* the stranger's key is not */
	char path[PATH_CAP];
	char id[OB_KEYFILE_ID_LEN + 1];
	char pk[64];
	uint8_t seed[32]; /* for signing logins by hand; wiped by the teardown */
} key;

enum { ADMIN, REVIEWER, APPLICANT, APPLICANT2, EXPIRED, FUTURE, STRANGER, N_KEYS };

static const struct {
	const char *name, *role, *not_before, *not_after;
	bool in_keyring;
} key_specs[N_KEYS] = {
        [ADMIN] = {"admin", "admin", "-", "-", true},
        [REVIEWER] = {"reviewer", "reviewer", "-", "-", true},
        [APPLICANT] = {"applicant", "applicant", "-", "-", true},
        [APPLICANT2] = {"applicant2", "applicant", "-", "-", true},
        [EXPIRED] = {"expired", "reviewer", "2019-01-01T00:00:00Z", "2020-01-01T00:00:00Z", true},
        [FUTURE] = {"future", "reviewer", "2099-01-01T00:00:00Z", "-", true},
        [STRANGER] = {"stranger", "admin", "-", "-", false},
};

typedef struct fixture {
	char dir[256]; /* keys, keyring, secrets; removed by the teardown */
	char keyring[PATH_CAP];
	key keys[N_KEYS];
	ob_testsrv srv;
	bool running; /* srv is to be stopped by the teardown */
} fixture;

/* Writes text to DIR/name through a temporary file and a rename, so that a server reading it
 * at any moment sees the old content or the new, never half of either. */
static int write_file(const fixture *f, const char *name, const char *text, mode_t mode)
{
	char tmp[PATH_CAP], path[PATH_CAP];
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", f->dir, name);
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	bool ok = write(fd, text, len) == (ssize_t)len && fchmod(fd, mode) == 0;
	if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Writes the keyring with every key meant for it except `without` (N_KEYS: none left out). */
static int write_keyring(const fixture *f, int without)
{
	char text[4096] = "# written by test_auth.c\n";
	size_t n = strlen(text);
	for (int i = 0; i < N_KEYS; i++) {
		const key *k = &f->keys[i];
		if (!k->in_keyring || i == without)
			continue;
		int w = snprintf(text + n, sizeof(text) - n, "%s %s %s %s %s test %s key\n", k->id,
		                 k->role, k->pk, k->not_before, k->not_after, k->name);
		if (w < 0 || (size_t)w >= sizeof(text) - n)
			return -1;
		n += (size_t)w;
	}
	return write_file(f, "keyring", text, 0644);
}

/* Makes the directory, the key files (0600) with their seeds, and the keyring. Returns 0, or
 * -1 after saying why. */
static int make_keys(fixture *f)
{
	if (ob_test_mkdtemp(f->dir, sizeof(f->dir), "ob-auth") != 0)
		return -1;
	snprintf(f->keyring, sizeof(f->keyring), "%s/keyring", f->dir);
	for (int i = 0; i < N_KEYS; i++) {
		key *k = &f->keys[i];
		k->name = key_specs[i].name;
		k->role = key_specs[i].role;
		k->not_before = key_specs[i].not_before;
		k->not_after = key_specs[i].not_after;
		k->in_keyring = key_specs[i].in_keyring;
		snprintf(k->path, sizeof(k->path), "%s/%s.key", f->dir, k->name);
		char err[512] = "", id[OB_KEYFILE_ID_LEN + 1] = "";
		if (ob_keyfile_generate(k->path, k->id, k->pk, err, sizeof(err)) != 0 ||
		    ob_keyfile_load(k->path, k->seed, id, err, sizeof(err)) != 0) {
			print_error("key %s: %s\n", k->name, err);
			return -1;
		}
		if (strcmp(id, k->id) != 0) {
			print_error("key %s: loaded as %s, generated as %s\n", k->name, id, k->id);
			return -1;
		}
	}
	if (write_keyring(f, N_KEYS) != 0) {
		print_error("cannot write %s: %s\n", f->keyring, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- fixtures ---------------------------------------------------------- */

/* Starts onboardd --trust-local no --keyring DIR/keyring EXTRA... */
static int start_server(fixture *f, const char *const *extra)
{
	const char *const fixed[] = {"--trust-local", "no", "--keyring", f->keyring, NULL};
	if (ob_testsrv_start_with(&f->srv, fixed, extra) != 0)
		return -1;
	f->running = true;
	return 0;
}

/* Stops onboardd with SIGTERM (a clean drain exits 0, which every test asserts), wipes the
 * seeds and removes the directory. */
static int teardown(void **state)
{
	fixture *f = *state;
	if (f == NULL)
		return 0;
	int rc = f->running ? ob_testsrv_finish(&f->srv) : 0;
	for (int i = 0; i < N_KEYS; i++)
		sodium_memzero(f->keys[i].seed, sizeof(f->keys[i].seed));
	if (f->dir[0] != '\0')
		ob_test_remove_tree(f->dir);
	free(f);
	*state = NULL;
	return rc;
}

/* The keys and the keyring, then onboardd with extra arguments unless extra is NULL. cmocka
 * does not run the teardown after a failed setup: a failure cleans up here. */
static int setup_with(void **state, bool server, const char *const *extra)
{
	*state = NULL;
	if (sodium_init() < 0)
		return -1;
	fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	*state = f;
	if (make_keys(f) != 0 || (server && start_server(f, extra) != 0)) {
		teardown(state);
		return -1;
	}
	return 0;
}

static int setup_default(void **state)
{
	return setup_with(state, true, NULL);
}

static int setup_rate_5(void **state)
{
	return setup_with(state, true, (const char *const[]){"--rate-per-key", "5", NULL});
}

/* A rehearsal, as ./demo.sh runs it: the programme's clock in November 2020. */
static int setup_now_2020(void **state)
{
	return setup_with(state, true,
	                  (const char *const[]){"--now", "2020-11-16T08:30:00Z", NULL});
}

/* A server that callers reach by a name it does not listen on. */
#define GIVEN_NAME "tcp://onboard.test:7400"
static int setup_audience(void **state)
{
	return setup_with(state, true, (const char *const[]){"--audience", GIVEN_NAME, NULL});
}

/* Keys and keyring, no server: for tests that start onboardd themselves. */
static int setup_keys_only(void **state)
{
	return setup_with(state, false, NULL);
}

/* ---- calls -------------------------------------------------------------- */

/* A client of the fixture's server that logs in with k's key file. */
static ob_client *open_as(const fixture *f, const key *k)
{
	const char *urls[] = {f->srv.url};
	ob_client_options opts = {.key_file = k->path};
	ob_client *c = NULL;
	char err[512] = "";
	if (ob_client_open(&c, urls, 1, &opts, err, sizeof(err)) != 0)
		fail_msg("cannot open a client with the %s key: %s", k->name, err);
	return c;
}

/* Fails the test unless code is want, saying what came instead. Finishes r. */
static void expect_code(const char *what, int code, ob_result *r, int want)
{
	if (code != want)
		fail_msg("%s: got %s (%s): %s; expected %s", what, ob_code_name(code),
		         r->local ? "local" : "from the server", r->message, ob_code_name(want));
	ob_result_fini(r);
}

/* Fails the test unless code is INVALID_ARGUMENT with one field violation, of field. Finishes
 * r. */
static void expect_violation(const char *what, int code, ob_result *r, const char *field)
{
	if (code == OB_CODE_INVALID_ARGUMENT) {
		assert_int_equal(r->n_violations, 1);
		assert_string_equal(r->violations[0].field, field);
	}
	expect_code(what, code, r, OB_CODE_INVALID_ARGUMENT);
}

/* An authorization entry carrying token. */
static ob_metadata bearer(const char *token)
{
	return (ob_metadata){"authorization", token};
}

/* WhoAmI with optional metadata; on OK, the role is copied to role[0..n) (role may be NULL).
 * Returns the code; a call that got no answer from the server fails the test. */
static int whoami(ob_client *c, const ob_metadata *md, size_t n_md, char *role, size_t n)
{
	Onboard__V1__WhoAmIRequest rq = ONBOARD__V1__WHO_AM_IREQUEST__INIT;
	Onboard__V1__WhoAmIResponse *rs = NULL;
	ob_result r;
	int code = ob_client_call_message(c, WHOAMI, md, n_md, &rq.base,
	                                  &onboard__v1__who_am_iresponse__descriptor,
	                                  (ProtobufCMessage **)&rs, CALL_TIMEOUT_MS, &r);
	if (code == OB_CODE_OK) {
		if (role != NULL)
			snprintf(role, n, "%s", rs->role);
		protobuf_c_message_free_unpacked(&rs->base, NULL);
	} else if (r.local) {
		fail_msg("WhoAmI: no answer from the server: %s", r.message);
	}
	ob_result_fini(&r);
	return code;
}

/* GetCohort of the default cohort; its capacity in *capacity on OK (may be NULL). */
static int get_cohort(ob_client *c, uint32_t *capacity, ob_result *r)
{
	Onboard__V1__GetCohortRequest rq = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
	rq.id = (char *)COHORT;
	Onboard__V1__CohortStanding *st = NULL;
	int code = ob_client_call_message(c, GET_COHORT, NULL, 0, &rq.base,
	                                  &onboard__v1__cohort_standing__descriptor,
	                                  (ProtobufCMessage **)&st, CALL_TIMEOUT_MS, r);
	if (code == OB_CODE_OK) {
		if (capacity != NULL)
			*capacity = st->cohort != NULL ? st->cohort->capacity : 0;
		protobuf_c_message_free_unpacked(&st->base, NULL);
	}
	return code;
}

static int set_capacity(ob_client *c, uint32_t capacity, ob_result *r)
{
	Onboard__V1__SetCohortCapacityRequest rq = ONBOARD__V1__SET_COHORT_CAPACITY_REQUEST__INIT;
	rq.id = (char *)COHORT;
	rq.capacity = capacity;
	Onboard__V1__CohortStanding *st = NULL;
	int code = ob_client_call_message(c, SET_CAP, NULL, 0, &rq.base,
	                                  &onboard__v1__cohort_standing__descriptor,
	                                  (ProtobufCMessage **)&st, CALL_TIMEOUT_MS, r);
	if (st != NULL)
		protobuf_c_message_free_unpacked(&st->base, NULL);
	return code;
}

/* An application as Application messages carry it: id and version. */
typedef struct app_ref {
	char id[32];
	uint64_t version;
	int state;
} app_ref;

/* Submits a valid application for the company with this SIREN (Luhn-valid) to the default
 * cohort; on OK, its id and version in *out. */
static int submit(ob_client *c, const char *siren, app_ref *out, ob_result *r)
{
	td_company company;
	td_company_for_siren(&company, siren);
	Onboard__V1__Application *a;
	int code = ob_testsrv_submit(c, &company, COHORT, NULL, CALL_TIMEOUT_MS, &a, r);
	if (code == OB_CODE_OK) {
		snprintf(out->id, sizeof(out->id), "%s", a->id);
		out->version = a->version;
		out->state = (int)a->state;
		protobuf_c_message_free_unpacked(&a->base, NULL);
	}
	return code;
}

/* submit, which must succeed. */
static void submit_ok(ob_client *c, const char *siren, app_ref *out)
{
	ob_result r;
	expect_code("an applicant submits", submit(c, siren, out, &r), &r, OB_CODE_OK);
}

/* Calls method with rq through c, for an Application: into *out when out is not NULL (the
 * caller frees it), else freed here. Returns the code; r is the caller's to finish. */
static int app_call(ob_client *c, const char *method, const ProtobufCMessage *rq,
                    Onboard__V1__Application **out, ob_result *r)
{
	Onboard__V1__Application *a = NULL;
	int code = ob_client_call_message(c, method, NULL, 0, rq,
	                                  &onboard__v1__application__descriptor,
	                                  (ProtobufCMessage **)&a, CALL_TIMEOUT_MS, r);
	if (out != NULL)
		*out = a;
	else if (a != NULL)
		protobuf_c_message_free_unpacked(&a->base, NULL);
	return code;
}

/* ReviewApplication START at app's version; on OK, app is updated. */
static int review_start(ob_client *c, app_ref *app, ob_result *r)
{
	Onboard__V1__ReviewApplicationRequest rq = ONBOARD__V1__REVIEW_APPLICATION_REQUEST__INIT;
	rq.id = app->id;
	rq.action = ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_START;
	rq.expected_version = app->version;
	Onboard__V1__Application *a = NULL;
	int code = ob_client_call_message(c, REVIEW, NULL, 0, &rq.base,
	                                  &onboard__v1__application__descriptor,
	                                  (ProtobufCMessage **)&a, CALL_TIMEOUT_MS, r);
	if (code == OB_CODE_OK) {
		app->version = a->version;
		app->state = (int)a->state;
		protobuf_c_message_free_unpacked(&a->base, NULL);
	}
	return code;
}

/* ---- logins built by hand ---------------------------------------------- */

typedef struct login_req {
	char key_id[OB_KEYFILE_ID_LEN + 1];
	int64_t ts_ms;
	uint8_t nonce[16];
	size_t nonce_len;
	uint8_t sig[64];
	size_t sig_len;
	const char *audience; /* the server it is for; NULL: none sent */
} login_req;

/* A login for key_id at ts_ms with a fresh nonce, signed with seed (NULL: an all-zero
 * signature) for the server whose URL is audience, as the client library makes it. */
static login_req make_login_for(const char *audience, const char *key_id, const uint8_t *seed,
                                int64_t ts_ms)
{
	login_req l = {.ts_ms = ts_ms, .nonce_len = 16, .sig_len = 64, .audience = audience};
	snprintf(l.key_id, sizeof(l.key_id), "%s", key_id);
	randombytes_buf(l.nonce, sizeof(l.nonce));
	if (seed != NULL &&
	    ob_keyfile_sign_login(seed, l.key_id, ts_ms, l.nonce, &audience, 1, l.sig) != 0)
		fail_msg("cannot sign a login for %s", audience);
	return l;
}

/* The same for the fixture's server, by the URL the test dials. */
static login_req make_login(const fixture *f, const char *key_id, const uint8_t *seed,
                            int64_t ts_ms)
{
	return make_login_for(f->srv.url, key_id, seed, ts_ms);
}

/* A genuine login for k now, for the fixture's server. */
static login_req genuine_login(const fixture *f, const key *k)
{
	return make_login(f, k->id, k->seed, ob_test_wall_ms());
}

/* Sends l as a packed LoginRequest through the keyless client of srv. On OK, the token is
 * copied to token[0..128) (token may be NULL) after checking the reply. Returns the code, the
 * reply left in *r (finished by the caller). */
static int send_login_to(ob_testsrv *srv, const login_req *l, char *token, ob_result *r)
{
	Onboard__V1__LoginRequest rq = ONBOARD__V1__LOGIN_REQUEST__INIT;
	rq.key_id = (char *)l->key_id;
	rq.timestamp_ms = l->ts_ms;
	rq.nonce.data = (uint8_t *)l->nonce;
	rq.nonce.len = l->nonce_len;
	rq.signature.data = (uint8_t *)l->sig;
	rq.signature.len = l->sig_len;
	char *audience = (char *)l->audience;
	rq.audience = l->audience != NULL ? &audience : NULL;
	rq.n_audience = l->audience != NULL ? 1 : 0;
	uint8_t buf[1024];
	assert_true(onboard__v1__login_request__get_packed_size(&rq) <= sizeof(buf));
	size_t n = onboard__v1__login_request__pack(&rq, buf);
	int code = ob_client_call(srv->client, LOGIN, NULL, 0, buf, n, CALL_TIMEOUT_MS, r);
	if (r->local)
		fail_msg("Login: no answer from the server: %s", r->message);
	if (code == OB_CODE_OK) {
		Onboard__V1__LoginResponse *rs =
		        onboard__v1__login_response__unpack(NULL, r->payload_len, r->payload);
		assert_non_null(rs);
		assert_string_equal(rs->key_id, l->key_id);
		assert_int_equal(strlen(rs->token), TOKEN_LEN);
		assert_memory_equal(rs->token, "ob1.", 4);
		assert_true(rs->expires_at[0] != '\0');
		if (token != NULL)
			snprintf(token, 128, "%s", rs->token);
		onboard__v1__login_response__free_unpacked(rs, NULL);
	}
	return code;
}

/* send_login_to the fixture's server. */
static int send_login(fixture *f, const login_req *l, char *token, ob_result *r)
{
	return send_login_to(&f->srv, l, token, r);
}

/* The token works and says who it is: WhoAmI with it answers role. */
static void expect_token_role(fixture *f, const char *token, const char *role)
{
	ob_metadata md = bearer(token);
	char got[32] = "";
	assert_int_equal(whoami(f->srv.client, &md, 1, got, sizeof(got)), OB_CODE_OK);
	assert_string_equal(got, role);
}

/* A genuine login for k now; the token in token[0..128). */
static void login_ok(fixture *f, const key *k, char *token)
{
	login_req l = genuine_login(f, k);
	ob_result r;
	int code = send_login(f, &l, token, &r);
	expect_code("a genuine login", code, &r, OB_CODE_OK);
}

/* The answer to one login whose only fault is the given one: UNAUTHENTICATED, with a message
 * that says which check failed (it contains why). */
static void expect_login_refused(fixture *f, const char *what, const login_req *l, const char *why)
{
	ob_result r;
	int code = send_login(f, l, NULL, &r);
	if (code == OB_CODE_UNAUTHENTICATED && strstr(r.message, why) == NULL)
		fail_msg("%s: the message \"%s\" does not say \"%s\"", what, r.message, why);
	expect_code(what, code, &r, OB_CODE_UNAUTHENTICATED);
}

/* The message of a refused login with an unknown, expired or revoked key or a bad signature:
 * one answer for them all, so that nobody can probe which keys the keyring holds. */
#define BAD_KEY_OR_SIG "unknown, expired or revoked key, or bad signature"

/* ---- roles through libonboard-client ------------------------------------ */

/* Each key is the role of its keyring line: WhoAmI through the library, which logs in by
 * itself on the first call. */
static void test_whoami_roles(void **state)
{
	fixture *f = *state;
	static const int who[] = {ADMIN, REVIEWER, APPLICANT};
	for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		const key *k = &f->keys[who[i]];
		ob_client *c = open_as(f, k);
		char role[32] = "";
		int code = whoami(c, NULL, 0, role, sizeof(role));
		ob_client_close(c);
		if (code != OB_CODE_OK)
			fail_msg("WhoAmI with the %s key: %s", k->name, ob_code_name(code));
		assert_string_equal(role, k->role);
	}
}

/* The role table, end to end: an applicant submits; a reviewer reads the cohort and reviews;
 * neither may change the capacity, an applicant may not review; the admin changes it. */
static void test_roles_enforced(void **state)
{
	fixture *f = *state;
	ob_client *admin = open_as(f, &f->keys[ADMIN]);
	ob_client *reviewer = open_as(f, &f->keys[REVIEWER]);
	ob_client *applicant = open_as(f, &f->keys[APPLICANT]);
	ob_result r;
	app_ref app = {0};

	submit_ok(applicant, "123456782", &app);
	assert_int_equal(app.state, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_SUBMITTED);

	uint32_t capacity = 0;
	int code = get_cohort(reviewer, &capacity, &r);
	expect_code("a reviewer reads the cohort", code, &r, OB_CODE_OK);
	assert_true(capacity > 0);
	code = get_cohort(applicant, NULL, &r);
	expect_code("an applicant reads the cohort", code, &r, OB_CODE_OK);

	app_ref stale = app;
	code = review_start(applicant, &stale, &r);
	expect_code("an applicant reviews", code, &r, OB_CODE_PERMISSION_DENIED);
	code = review_start(reviewer, &app, &r);
	expect_code("a reviewer reviews", code, &r, OB_CODE_OK);
	assert_int_equal(app.state, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_UNDER_REVIEW);

	code = set_capacity(applicant, capacity + 50, &r);
	if (code == OB_CODE_PERMISSION_DENIED)
		assert_non_null(strstr(r.message, "applicant")); /* the refusal names the role */
	expect_code("an applicant sets the capacity", code, &r, OB_CODE_PERMISSION_DENIED);
	code = set_capacity(reviewer, capacity + 50, &r);
	expect_code("a reviewer sets the capacity", code, &r, OB_CODE_PERMISSION_DENIED);
	uint32_t unchanged = 0;
	code = get_cohort(reviewer, &unchanged, &r);
	expect_code("the cohort after two refusals", code, &r, OB_CODE_OK);
	assert_int_equal(unchanged, capacity);

	code = set_capacity(admin, capacity + 50, &r);
	expect_code("the admin sets the capacity", code, &r, OB_CODE_OK);
	uint32_t raised = 0;
	code = get_cohort(reviewer, &raised, &r);
	expect_code("the cohort after the admin's change", code, &r, OB_CODE_OK);
	assert_int_equal(raised, capacity + 50);

	ob_client_close(admin);
	ob_client_close(reviewer);
	ob_client_close(applicant);
}

/* Without a key there is no local trust here (--trust-local no): programme methods are
 * UNAUTHENTICATED with a hint, the public ones (health, reflection) answer. */
static void test_no_key(void **state)
{
	fixture *f = *state;
	ob_client *c = f->srv.client; /* the helper's client has no key */
	ob_result r;
	int code = get_cohort(c, NULL, &r);
	if (code == OB_CODE_UNAUTHENTICATED)
		assert_non_null(strstr(r.message, "--key"));
	expect_code("GetCohort without a key", code, &r, OB_CODE_UNAUTHENTICATED);
	assert_int_equal(whoami(c, NULL, 0, NULL, 0), OB_CODE_UNAUTHENTICATED);
	code = set_capacity(c, 1000, &r);
	expect_code("SetCohortCapacity without a key", code, &r, OB_CODE_UNAUTHENTICATED);

	assert_int_equal(ob_testsrv_health(&f->srv, CALL_TIMEOUT_MS), SERVING);
	Onboard__V1__ListServicesRequest rq = ONBOARD__V1__LIST_SERVICES_REQUEST__INIT;
	Onboard__V1__ListServicesResponse *ls = NULL;
	code = ob_client_call_message(c, "/onboard.v1.Reflection/ListServices", NULL, 0, &rq.base,
	                              &onboard__v1__list_services_response__descriptor,
	                              (ProtobufCMessage **)&ls, CALL_TIMEOUT_MS, &r);
	expect_code("reflection without a key", code, &r, OB_CODE_OK);
	bool auth = false;
	for (size_t i = 0; i < ls->n_services; i++)
		auth |= strcmp(ls->services[i]->name, "onboard.v1.Auth") == 0;
	protobuf_c_message_free_unpacked(&ls->base, NULL);
	assert_true(auth);
}

/* ---- logins built by hand ---------------------------------------------- */

/* The reference case for the refusals below: a genuine login gets a token that works, and
 * the token says who it is. */
static void test_login_genuine(void **state)
{
	fixture *f = *state;
	char token[128];
	login_ok(f, &f->keys[REVIEWER], token);
	expect_token_role(f, token, "reviewer");
}

static void test_login_unsigned(void **state)
{
	fixture *f = *state;
	login_req l = make_login(f, f->keys[REVIEWER].id, NULL, ob_test_wall_ms());
	expect_login_refused(f, "an all-zero signature", &l, BAD_KEY_OR_SIG);
}

/* --now shifts the programme's clock only: logins signed with today's time, their tokens and
 * the library's own login are taken by a server rehearsing November 2020. */
static void test_login_with_shifted_clock(void **state)
{
	fixture *f = *state;
	char token[128];
	login_ok(f, &f->keys[REVIEWER], token);
	expect_token_role(f, token, "reviewer");
	ob_client *c = open_as(f, &f->keys[ADMIN]);
	char role[32] = "";
	assert_int_equal(whoami(c, NULL, 0, role, sizeof(role)), OB_CODE_OK);
	assert_string_equal(role, "admin");
	ob_client_close(c);
}

/* Signed with the applicant's seed, claiming the reviewer's key id. */
static void test_login_forged(void **state)
{
	fixture *f = *state;
	login_req l =
	        make_login(f, f->keys[REVIEWER].id, f->keys[APPLICANT].seed, ob_test_wall_ms());
	expect_login_refused(f, "a signature by another key", &l, BAD_KEY_OR_SIG);
	/* A genuine signature with one bit of the timestamp changed. */
	l = genuine_login(f, &f->keys[REVIEWER]);
	l.ts_ms ^= 1;
	expect_login_refused(f, "a signed request altered in flight", &l, BAD_KEY_OR_SIG);
}

/* The same signed request twice: the first is accepted, the second is a replay. */
static void test_login_replayed(void **state)
{
	fixture *f = *state;
	login_req l = genuine_login(f, &f->keys[REVIEWER]);
	ob_result r;
	int code = send_login(f, &l, NULL, &r);
	expect_code("the first use of a signed login", code, &r, OB_CODE_OK);
	expect_login_refused(f, "the same signed login again", &l, "replay");
}

/* Sends a genuine login whose timestamp is offset_ms from now and returns the code; a
 * refusal must say that the clock is the reason. The refused offsets are a second beyond the
 * window's edges: a request that takes over a second to reach the server (a loaded machine)
 * could land back inside the window when the offset is ahead, so such a slow exchange is
 * tried again rather than judged. */
static int login_at_offset(fixture *f, const key *k, int64_t offset_ms)
{
	for (int attempt = 0;; attempt++) {
		int64_t start = ob_test_mono_ms();
		login_req l = make_login(f, k->id, k->seed, ob_test_wall_ms() + offset_ms);
		ob_result r;
		int code = send_login(f, &l, NULL, &r);
		if (code == OB_CODE_UNAUTHENTICATED && strstr(r.message, "clock") == NULL)
			fail_msg("a login %+lld ms off: \"%s\" does not name the clock",
			         (long long)offset_ms, r.message);
		ob_result_fini(&r);
		int64_t elapsed = ob_test_mono_ms() - start;
		if (code != OB_CODE_OK || offset_ms < 0 || elapsed < 900 || attempt == 4)
			return code;
	}
}

/* 60 s behind the server's clock and 5 s ahead of it: a timestamp further ahead would keep its
 * nonce in the replay cache longer than needed. */
static void test_login_time_window(void **state)
{
	fixture *f = *state;
	const key *k = &f->keys[REVIEWER];
	assert_int_equal(login_at_offset(f, k, -(MAX_AGE_MS + 1000)), OB_CODE_UNAUTHENTICATED);
	assert_int_equal(login_at_offset(f, k, MAX_AHEAD_MS + 1000), OB_CODE_UNAUTHENTICATED);
	assert_int_equal(login_at_offset(f, k, 30000), OB_CODE_UNAUTHENTICATED);
	/* Inside the window either way: accepted (clocks may differ by a few seconds). */
	assert_int_equal(login_at_offset(f, k, -30000), OB_CODE_OK);
	assert_int_equal(login_at_offset(f, k, 2000), OB_CODE_OK);
}

/* Keys in the keyring but outside their validity period, and a key it does not hold, all
 * correctly signed. */
static void test_login_invalid_keys(void **state)
{
	fixture *f = *state;
	static const struct {
		int key;
		const char *what;
	} cases[] = {
	        {EXPIRED, "a key whose NOT_AFTER has passed"},
	        {FUTURE, "a key whose NOT_BEFORE is to come"},
	        {STRANGER, "a key the keyring does not hold"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const key *k = &f->keys[cases[i].key];
		login_req l = genuine_login(f, k);
		expect_login_refused(f, cases[i].what, &l, BAD_KEY_OR_SIG);
	}
	/* Through the library too: the login fails, and so does the call. */
	ob_client *c = open_as(f, &f->keys[EXPIRED]);
	assert_int_equal(whoami(c, NULL, 0, NULL, 0), OB_CODE_UNAUTHENTICATED);
	ob_client_close(c);
	/* A key id that is not 16 hex characters. */
	login_req l = genuine_login(f, &f->keys[REVIEWER]);
	l.key_id[0] = 'Z';
	expect_login_refused(f, "a malformed key id", &l, BAD_KEY_OR_SIG);
}

/* Wrong field lengths are a malformed request, named field by field. */
static void test_login_malformed(void **state)
{
	fixture *f = *state;
	login_req l = genuine_login(f, &f->keys[REVIEWER]);
	l.nonce_len = 15;
	ob_result r;
	int code = send_login(f, &l, NULL, &r);
	expect_violation("a 15-byte nonce", code, &r, "nonce");

	l = genuine_login(f, &f->keys[REVIEWER]);
	l.sig_len = 63;
	code = send_login(f, &l, NULL, &r);
	expect_violation("a 63-byte signature", code, &r, "signature");
}

/* ---- audience ------------------------------------------------------------ */

/* The message of a login refused because it was signed for another server. */
#define OTHER_SERVER "signed for another server"

/*
 * Two servers share the keyring (staging and production, say). A login signed for one of them
 * (captured there, or sent there by a client) is refused by the other as signed for another
 * server, and still taken by the one it was signed for: the refusal was not a replay.
 */
static void test_login_relayed_to_another_server(void **state)
{
	fixture *f = *state;
	ob_testsrv other;
	memset(&other, 0, sizeof(other));
	const char *args[] = {"--trust-local", "no", "--keyring", f->keyring, NULL};
	assert_int_equal(ob_testsrv_start(&other, args), 0);
	const key *k = &f->keys[REVIEWER];

	login_req l = make_login_for(other.url, k->id, k->seed, ob_test_wall_ms());
	expect_login_refused(f, "a login for the other server, relayed here", &l, OTHER_SERVER);
	ob_result r;
	int code = send_login_to(&other, &l, NULL, &r);
	expect_code("the same login at the server it was signed for", code, &r, OB_CODE_OK);

	l = genuine_login(f, k);
	code = send_login_to(&other, &l, NULL, &r);
	if (code == OB_CODE_UNAUTHENTICATED && strstr(r.message, OTHER_SERVER) == NULL)
		fail_msg("a login for this server, relayed to the other: %s", r.message);
	expect_code("a login for this server, relayed to the other", code, &r,
	            OB_CODE_UNAUTHENTICATED);
	code = send_login(f, &l, NULL, &r);
	expect_code("the same login here", code, &r, OB_CODE_OK);
	assert_int_equal(ob_testsrv_stop(&other), 0);
}

/*
 * A server reached by another name than it listens on (a forwarded port, a wildcard address)
 * is given that name with --audience: logins signed for it are taken, through the library too
 * (ob_client_options.audience), and so are those signed for its --listen URL, which the library
 * signs for by default; a name it was not given is refused.
 */
static void test_login_audience_flag(void **state)
{
	fixture *f = *state;
	const key *k = &f->keys[REVIEWER];
	char token[128];
	login_req l = make_login_for(GIVEN_NAME, k->id, k->seed, ob_test_wall_ms());
	ob_result r;
	int code = send_login(f, &l, token, &r);
	expect_code("a login for the name given with --audience", code, &r, OB_CODE_OK);
	l = genuine_login(f, k);
	code = send_login(f, &l, token, &r);
	expect_code("a login for the --listen URL", code, &r, OB_CODE_OK);
	l = make_login_for("tcp://other.test:7400", k->id, k->seed, ob_test_wall_ms());
	expect_login_refused(f, "a login for a name not given", &l, OTHER_SERVER);

	const char *urls[] = {f->srv.url};
	ob_client_options opts = {.key_file = k->path, .audience = GIVEN_NAME};
	ob_client *c = NULL;
	char err[512] = "", role[32] = "";
	assert_int_equal(ob_client_open(&c, urls, 1, &opts, err, sizeof(err)), 0);
	assert_int_equal(whoami(c, NULL, 0, role, sizeof(role)), OB_CODE_OK);
	assert_string_equal(role, "reviewer");
	ob_client_close(c);
	opts.audience = "tcp://other.test:7400";
	assert_int_equal(ob_client_open(&c, urls, 1, &opts, err, sizeof(err)), 0);
	assert_int_equal(whoami(c, NULL, 0, NULL, 0), OB_CODE_UNAUTHENTICATED);
	ob_client_close(c);
	opts.audience = "";
	assert_int_equal(ob_client_open(&c, urls, 1, &opts, err, sizeof(err)), -1);
	assert_null(c);
	assert_non_null(strstr(err, "audience"));
}

/* A login without an audience (from a client older than the server) is malformed, and says
 * which field is missing. */
static void test_login_without_audience(void **state)
{
	fixture *f = *state;
	login_req l = genuine_login(f, &f->keys[REVIEWER]);
	l.audience = NULL;
	ob_result r;
	int code = send_login(f, &l, NULL, &r);
	expect_violation("a login without an audience", code, &r, "audience");
}

/* ---- tokens --------------------------------------------------------------- */

/* Waits until the server's log shows one more keyring reload than `before`. */
static void wait_reloaded(fixture *f, int before)
{
	int64_t end = ob_test_mono_ms() + EVENT_TIMEOUT_MS;
	while (ob_test_count_lines(f->srv.log, "keyring-reloaded") <= before) {
		if (ob_test_count_lines(f->srv.log, "keyring-reload-failed") > 0)
			fail_msg("the server could not reload the keyring; see %s", f->srv.log);
		if (ob_test_mono_ms() > end)
			fail_msg("no keyring reload within %d ms of SIGHUP", EVENT_TIMEOUT_MS);
		ob_test_sleep_ms(20);
	}
}

/* A key taken out of the keyring stops working at the reload (SIGHUP), token and all; the
 * other keys' tokens go on working. */
static void test_revoked_on_sighup(void **state)
{
	fixture *f = *state;
	char revoked[128], kept[128];
	login_ok(f, &f->keys[APPLICANT], revoked);
	login_ok(f, &f->keys[REVIEWER], kept);
	ob_client *lib = open_as(f, &f->keys[APPLICANT]);
	ob_metadata md = bearer(revoked);
	assert_int_equal(whoami(f->srv.client, &md, 1, NULL, 0), OB_CODE_OK);
	assert_int_equal(whoami(lib, NULL, 0, NULL, 0), OB_CODE_OK);

	assert_int_equal(write_keyring(f, APPLICANT), 0);
	int before = ob_test_count_lines(f->srv.log, "keyring-reloaded");
	assert_int_equal(kill(f->srv.pid, SIGHUP), 0);
	wait_reloaded(f, before);

	assert_int_equal(whoami(f->srv.client, &md, 1, NULL, 0), OB_CODE_UNAUTHENTICATED);
	/* The library's token is refused; its new login is refused too. */
	assert_int_equal(whoami(lib, NULL, 0, NULL, 0), OB_CODE_UNAUTHENTICATED);
	ob_client_close(lib);
	login_req l = genuine_login(f, &f->keys[APPLICANT]);
	expect_login_refused(f, "a login with a revoked key", &l, BAD_KEY_OR_SIG);
	expect_token_role(f, kept, "reviewer");
}

/* A token with one character changed is refused; the original works; the refusal does not
 * write the token to the log. */
static void test_tampered_token(void **state)
{
	fixture *f = *state;
	char token[128];
	login_ok(f, &f->keys[REVIEWER], token);
	/* Positions in the payload and in the tag, each changed to another base64url character. */
	static const size_t positions[] = {4, 10, 20, 37, 50, 70, TOKEN_LEN - 1};
	for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
		char bad[128];
		memcpy(bad, token, sizeof(bad));
		size_t p = positions[i];
		bad[p] = bad[p] == 'A' ? 'B' : 'A';
		ob_metadata md = bearer(bad);
		int code = whoami(f->srv.client, &md, 1, NULL, 0);
		if (code != OB_CODE_UNAUTHENTICATED)
			fail_msg("a token changed at %zu: %s", p, ob_code_name(code));
	}
	char cut[128];
	snprintf(cut, sizeof(cut), "%.*s", TOKEN_LEN - 1, token);
	ob_metadata md = bearer(cut);
	assert_int_equal(whoami(f->srv.client, &md, 1, NULL, 0), OB_CODE_UNAUTHENTICATED);
	md = bearer("ob1.not-a-token");
	assert_int_equal(whoami(f->srv.client, &md, 1, NULL, 0), OB_CODE_UNAUTHENTICATED);

	md = bearer(token);
	assert_int_equal(whoami(f->srv.client, &md, 1, NULL, 0), OB_CODE_OK);

	/* Failures are audited without secrets: no token in the log. */
	char head[48];
	snprintf(head, sizeof(head), "%.40s", token + 4);
	assert_true(ob_test_count_lines(f->srv.log, "bad-token") > 0);
	assert_int_equal(ob_test_count_lines(f->srv.log, head), 0);
}

/* ---- files ---------------------------------------------------------------- */

/* A key file others can read is refused before anything is sent, with the fix in the
 * message. */
static void test_world_readable_key_file(void **state)
{
	fixture *f = *state;
	const key *k = &f->keys[REVIEWER];
	assert_int_equal(chmod(k->path, 0644), 0);
	const char *urls[] = {f->srv.url};
	ob_client_options opts = {.key_file = k->path};
	ob_client *c = NULL;
	char err[512] = "";
	assert_int_equal(ob_client_open(&c, urls, 1, &opts, err, sizeof(err)), -1);
	assert_null(c);
	if (strstr(err, "chmod") == NULL)
		fail_msg("the message does not say chmod: %s", err);
	assert_non_null(strstr(err, k->path));
	assert_int_equal(chmod(k->path, 0600), 0);
	c = open_as(f, k);
	assert_int_equal(whoami(c, NULL, 0, NULL, 0), OB_CODE_OK);
	ob_client_close(c);
}

/* Writes a 32-byte token secret (base64, one line) to DIR/name with mode. */
static void write_secret(const fixture *f, const char *name, mode_t mode)
{
	uint8_t secret[32];
	char line[64];
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2base64(line, sizeof(line) - 1, secret, sizeof(secret),
	                  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(secret, sizeof(secret));
	strcat(line, "\n");
	assert_int_equal(write_file(f, name, line, mode), 0);
	sodium_memzero(line, sizeof(line));
}

/* A token secret others can read: onboardd refuses to start, and says why in its log. */
static void test_token_secret_world_readable(void **state)
{
	fixture *f = *state;
	write_secret(f, "secret", 0644);
	char listen[PATH_CAP], db[PATH_CAP], secret[PATH_CAP], log[PATH_CAP];
	snprintf(listen, sizeof(listen), "ipc://%s/refused.sock", f->dir);
	snprintf(db, sizeof(db), "%s/refused.db", f->dir);
	snprintf(secret, sizeof(secret), "%s/secret", f->dir);
	snprintf(log, sizeof(log), "%s/refused.log", f->dir);
	const char *args[] = {"--listen",  listen,     "--db",          db,   "--no-access-log",
	                      "--keyring", f->keyring, "--trust-local", "no", "--token-secret",
	                      secret,      NULL};
	int status = ob_onboardd_run(args, log, EXIT_TIMEOUT_MS);
	char *text = ob_test_read_file(log, NULL);
	if (status == 0 || status == -1 || strstr(text != NULL ? text : "", "chmod 600") == NULL ||
	    strstr(text != NULL ? text : "", secret) == NULL)
		fail_msg("onboardd with a 0644 token secret: status %d, log:\n%s", status,
		         text != NULL ? text : "(none)");
	free(text);
	struct stat st;
	char sock[PATH_CAP];
	snprintf(sock, sizeof(sock), "%s/refused.sock", f->dir);
	assert_int_not_equal(stat(sock, &st), 0); /* it never listened */
}

/* With --token-secret (0600), tokens survive a restart: replicas and restarts share it. */
static void test_token_secret_shared(void **state)
{
	fixture *f = *state;
	write_secret(f, "secret", 0600);
	char secret[PATH_CAP];
	snprintf(secret, sizeof(secret), "%s/secret", f->dir);
	assert_int_equal(start_server(f, (const char *const[]){"--token-secret", secret, NULL}), 0);
	char token[128];
	login_ok(f, &f->keys[REVIEWER], token);
	assert_int_equal(ob_testsrv_restart(&f->srv), 0);
	ob_metadata md = bearer(token);
	assert_int_equal(whoami(f->srv.client, &md, 1, NULL, 0), OB_CODE_OK);
}

/* ---- limits and restarts ------------------------------------------------ */

/* --rate-per-key 5 (a burst of 10): of 50 quick calls, some are refused with a retry-after;
 * another key is not held back by it. */
static void test_rate_per_key(void **state)
{
	fixture *f = *state;
	ob_client *c = open_as(f, &f->keys[REVIEWER]);
	int ok = 0, exhausted = 0;
	for (int i = 0; i < 50; i++) {
		ob_result r;
		int code = get_cohort(c, NULL, &r);
		if (code == OB_CODE_OK) {
			ok++;
		} else if (code == OB_CODE_RESOURCE_EXHAUSTED) {
			exhausted++;
			assert_false(r.local);
			if (r.retry_after_ms == 0)
				fail_msg("call %d: RESOURCE_EXHAUSTED without retry_after_ms", i);
		} else {
			fail_msg("call %d: %s: %s", i, ob_code_name(code), r.message);
		}
		ob_result_fini(&r);
	}
	ob_client_close(c);
	if (ok == 0 || exhausted == 0)
		fail_msg("%d OK and %d RESOURCE_EXHAUSTED of 50 calls at --rate-per-key 5", ok,
		         exhausted);
	c = open_as(f, &f->keys[ADMIN]);
	ob_result r;
	int code = get_cohort(c, NULL, &r);
	expect_code("another key right after", code, &r, OB_CODE_OK);
	ob_client_close(c);
}

/*
 * One key logging in over and over is stopped by its own limit (RESOURCE_EXHAUSTED with a
 * retry-after, saying it is the key), not by the limit of the address it shares with others:
 * the admin and the reviewer log in from the same address right after. Every login here comes
 * from the test's uid (one address), whose budget is larger than a key's, so the key's runs
 * out first whatever the speed of the machine.
 */
static void test_login_limited_per_key(void **state)
{
	fixture *f = *state;
	const key *k = &f->keys[APPLICANT];
	int refused_at = -1;
	for (int i = 0; i < 100 && refused_at < 0; i++) {
		login_req l = genuine_login(f, k);
		ob_result r;
		int code = send_login(f, &l, NULL, &r);
		if (code == OB_CODE_RESOURCE_EXHAUSTED) {
			refused_at = i;
			if (r.retry_after_ms == 0 || strstr(r.message, "this key") == NULL)
				fail_msg("login %d: RESOURCE_EXHAUSTED (%s), retry after %u ms", i,
				         r.message, r.retry_after_ms);
		} else if (code != OB_CODE_OK) {
			fail_msg("login %d: %s: %s", i, ob_code_name(code), r.message);
		}
		ob_result_fini(&r);
	}
	if (refused_at < 0)
		fail_msg("100 logins with one key, none refused");
	char token[128];
	login_ok(f, &f->keys[ADMIN], token);
	login_ok(f, &f->keys[REVIEWER], token);
}

/* A restart with a new random token secret invalidates every token: the same client object
 * logs in again by itself and its call succeeds. */
static void test_relogin_after_restart(void **state)
{
	fixture *f = *state;
	ob_client *c = open_as(f, &f->keys[REVIEWER]);
	char role[32] = "";
	assert_int_equal(whoami(c, NULL, 0, role, sizeof(role)), OB_CODE_OK);
	char old[128];
	login_ok(f, &f->keys[ADMIN], old);

	assert_int_equal(ob_testsrv_restart(&f->srv), 0);
	ob_metadata md = bearer(old);
	assert_int_equal(whoami(f->srv.client, &md, 1, NULL, 0), OB_CODE_UNAUTHENTICATED);
	role[0] = '\0';
	int code = whoami(c, NULL, 0, role, sizeof(role));
	if (code != OB_CODE_OK)
		fail_msg("the library did not log in again after the restart: %s",
		         ob_code_name(code));
	assert_string_equal(role, "reviewer");
	ob_result r;
	code = get_cohort(c, NULL, &r);
	expect_code("GetCohort after the restart", code, &r, OB_CODE_OK);
	ob_client_close(c);
}

/* ---- ownership ------------------------------------------------------------- */

/* Two applicants with their own keys, and an application the first submitted (SIREN
 * 625308291). */
typedef struct two_applicants {
	ob_client *mine, *other;
	app_ref app;
} two_applicants;

static void two_applicants_open(fixture *f, two_applicants *t)
{
	t->mine = open_as(f, &f->keys[APPLICANT]);
	t->other = open_as(f, &f->keys[APPLICANT2]);
	t->app = (app_ref){0};
	submit_ok(t->mine, "625308291", &t->app);
}

static void two_applicants_close(two_applicants *t)
{
	ob_client_close(t->mine);
	ob_client_close(t->other);
}

/*
 * Applicants and partners see and act only on what they submitted: for another applicant's
 * key the application does not exist (NOT_FOUND by SIREN and for a withdrawal), while its
 * owner still reads it.
 */
static void test_applicant_sees_only_own(void **state)
{
	two_applicants t;
	two_applicants_open(*state, &t);
	ob_result r;

	Onboard__V1__GetApplicationRequest rq = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
	rq.siren = (char *)"625308291";
	int got = app_call(t.other, GET_APP, &rq.base, NULL, &r);
	expect_code("another applicant reads it by SIREN", got, &r, OB_CODE_NOT_FOUND);

	Onboard__V1__WithdrawApplicationRequest wq =
	        ONBOARD__V1__WITHDRAW_APPLICATION_REQUEST__INIT;
	wq.id = t.app.id;
	wq.reason = (char *)"withdrawn by somebody else";
	got = app_call(t.other, WITHDRAW, &wq.base, NULL, &r);
	expect_code("another applicant withdraws it", got, &r, OB_CODE_NOT_FOUND);

	Onboard__V1__Application *a = NULL;
	got = app_call(t.mine, GET_APP, &rq.base, &a, &r);
	expect_code("its owner reads it", got, &r, OB_CODE_OK);
	assert_int_equal(a->state, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_SUBMITTED);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	ob_result_fini(&r);
	two_applicants_close(&t);
}

/* The reply to one call, as far as the caller can compare two: the code, the message, the
 * violations, the retry hint and the payload. */
typedef struct reply {
	int code;
	char message[512];
	size_t n_violations;
	uint32_t retry_after_ms;
	size_t payload_len;
} reply;

/* Calls method with the packed request m through c and keeps the reply in *out. */
static void call_kept(ob_client *c, const char *method, const ProtobufCMessage *m, reply *out)
{
	uint8_t buf[512];
	size_t n = protobuf_c_message_get_packed_size(m);
	assert_true(n <= sizeof(buf));
	protobuf_c_message_pack(m, buf);
	ob_result r;
	memset(out, 0, sizeof(*out));
	out->code = ob_client_call(c, method, NULL, 0, buf, n, CALL_TIMEOUT_MS, &r);
	if (r.local)
		fail_msg("%s: no answer from the server: %s", method, r.message);
	snprintf(out->message, sizeof(out->message), "%s", r.message);
	out->n_violations = r.n_violations;
	out->retry_after_ms = r.retry_after_ms;
	out->payload_len = r.payload_len;
	ob_result_fini(&r);
}

/* Fails unless x and y are the same reply, byte for byte. */
static void expect_same_reply(const char *what, const reply *x, const reply *y)
{
	if (x->code != y->code || strcmp(x->message, y->message) != 0 ||
	    x->n_violations != y->n_violations || x->retry_after_ms != y->retry_after_ms ||
	    x->payload_len != y->payload_len)
		fail_msg("%s: another's application answers %s '%s', one that does not exist %s "
		         "'%s'",
		         what, ob_code_name(x->code), x->message, ob_code_name(y->code),
		         y->message);
	assert_int_equal(x->code, OB_CODE_NOT_FOUND);
}

/*
 * No existence oracle: for an applicant, another applicant's application and one that does not
 * exist give the same reply, byte for byte (code and message), by id, by SIREN and for a
 * withdrawal; and it is left as it was.
 */
static void test_not_found_tells_nothing(void **state)
{
	two_applicants t;
	two_applicants_open(*state, &t);
	ob_result r;
	static const char nobody_id[] = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
	static const char nobody_siren[] = "732829320"; /* valid, never submitted here */

	Onboard__V1__GetApplicationRequest g = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
	reply theirs, none;
	g.id = t.app.id;
	call_kept(t.other, GET_APP, &g.base, &theirs);
	g.id = (char *)nobody_id;
	call_kept(t.other, GET_APP, &g.base, &none);
	expect_same_reply("GetApplication by id", &theirs, &none);

	g.id = (char *)"";
	g.cohort_id = (char *)COHORT;
	g.siren = (char *)"625308291";
	call_kept(t.other, GET_APP, &g.base, &theirs);
	g.siren = (char *)nobody_siren;
	call_kept(t.other, GET_APP, &g.base, &none);
	expect_same_reply("GetApplication by SIREN", &theirs, &none);

	Onboard__V1__WithdrawApplicationRequest w = ONBOARD__V1__WITHDRAW_APPLICATION_REQUEST__INIT;
	w.reason = (char *)"not mine";
	w.id = t.app.id;
	w.expected_version = t.app.version;
	call_kept(t.other, WITHDRAW, &w.base, &theirs);
	w.id = (char *)nobody_id;
	call_kept(t.other, WITHDRAW, &w.base, &none);
	expect_same_reply("WithdrawApplication", &theirs, &none);
	/* A version that does not match would be refused by a lookup that came first. */
	w.id = t.app.id;
	w.expected_version = t.app.version + 7;
	call_kept(t.other, WITHDRAW, &w.base, &theirs);
	expect_same_reply("WithdrawApplication at another version", &theirs, &none);

	/* Its owner still sees it, untouched. */
	g.siren = (char *)"625308291";
	Onboard__V1__Application *a = NULL;
	int got = app_call(t.mine, GET_APP, &g.base, &a, &r);
	expect_code("its owner reads it", got, &r, OB_CODE_OK);
	assert_int_equal(a->state, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_SUBMITTED);
	assert_int_equal(a->version, t.app.version);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	two_applicants_close(&t);
}

int main(void)
{
#define T(f, setup) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_whoami_roles, setup_default),
	        T(test_roles_enforced, setup_default),
	        T(test_no_key, setup_default),
	        T(test_login_genuine, setup_default),
	        T(test_login_unsigned, setup_default),
	        T(test_login_with_shifted_clock, setup_now_2020),
	        T(test_login_forged, setup_default),
	        T(test_login_replayed, setup_default),
	        T(test_login_time_window, setup_default),
	        T(test_login_invalid_keys, setup_default),
	        T(test_login_malformed, setup_default),
	        T(test_login_relayed_to_another_server, setup_default),
	        T(test_login_audience_flag, setup_audience),
	        T(test_login_without_audience, setup_default),
	        T(test_revoked_on_sighup, setup_default),
	        T(test_tampered_token, setup_default),
	        T(test_world_readable_key_file, setup_default),
	        T(test_token_secret_world_readable, setup_keys_only),
	        T(test_token_secret_shared, setup_keys_only),
	        T(test_rate_per_key, setup_rate_5),
	        T(test_login_limited_per_key, setup_default),
	        T(test_relogin_after_restart, setup_default),
	        T(test_applicant_sees_only_own, setup_default),
	        T(test_not_found_tells_nothing, setup_default),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
