#include "rpc/authz.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/auth.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/time.h"
#include "onboard/v1/auth.pb-c.h"
#include "rpc/handlers.h"

/* The rate limits, each with its rate and burst in ob_authz_config, their
 * defaults, and how many keys (addresses, key ids) it tracks. */
enum { PER_KEY, PER_ADDR, LOGIN_PER_ADDR, LOGIN_PER_KEY, AUDIT_PER_ADDR, AUDIT_ALL, N_LIMITS };

#define CFG(field) offsetof(ob_authz_config, field)

static const struct {
	size_t rate, burst; /* offsets of doubles in ob_authz_config */
	double default_rate, default_burst;
	size_t keys;
} limits[N_LIMITS] = {
        [PER_KEY] = {CFG(key_rate), CFG(key_burst), 1000, 2000, 4096},
        [PER_ADDR] = {CFG(addr_rate), CFG(addr_burst), 2000, 4000, 4096},
        /* Every CLI run logs in once; each local user (ipc uid) is one address. */
        [LOGIN_PER_ADDR] = {CFG(login_rate), CFG(login_burst), 20, 100, 4096},
        /* Genuine logins only. Below the address's budget, so that one key cannot use up
         * an address (an office behind one NAT address) before its own limit stops it. */
        [LOGIN_PER_KEY] = {CFG(login_key_rate), CFG(login_key_burst), 10, 50, 4096},
        /* Failed calls are recorded within both budgets (authz.h); the rest are counted in
         * dropped and summed up in one event a second at most. */
        [AUDIT_PER_ADDR] = {CFG(audit_addr_rate), CFG(audit_addr_burst), 2, 20, 4096},
        [AUDIT_ALL] = {CFG(audit_rate), CFG(audit_burst), 50, 100, 8}, /* one key, "" */
};

static double *cfg_double(ob_authz_config *cfg, size_t at)
{
	return (double *)(void *)((char *)cfg + at);
}

struct ob_authz {
	ob_authz_config cfg;
	ob_keyring_slot keyring;
	ob_token_minter *minter;
	ob_login_verifier *logins;
	ob_ratelimit *limit[N_LIMITS];
	pthread_mutex_t dropped_mu;
	uint64_t dropped;      /* failures not recorded since summary_at_ms */
	int64_t summary_at_ms; /* the first of them */
};

enum { AUDIT_SUMMARY_INTERVAL_MS = 1000 };

/* ---- the one table of who may call what ------------------------------ */

/* Every role of people and of the programme's own services; not the ads
 * service's, which only records spending (and may ask who it is). */
#define ANY_ROLE                                                                                   \
	(OB_ALLOW(OB_ROLE_APPLICANT) | OB_ALLOW(OB_ROLE_PARTNER) | OB_ALLOW(OB_ROLE_REVIEWER) |    \
	 OB_ALLOW(OB_ROLE_ADMIN))
#define STAFF (OB_ALLOW(OB_ROLE_REVIEWER) | OB_ALLOW(OB_ROLE_ADMIN))
#define SUBMITTERS                                                                                 \
	(OB_ALLOW(OB_ROLE_APPLICANT) | OB_ALLOW(OB_ROLE_PARTNER) | OB_ALLOW(OB_ROLE_ADMIN))
#define ADMIN OB_ALLOW(OB_ROLE_ADMIN)

static const struct {
	const char *method;
	unsigned roles;
} table[] = {
        {"/onboard.v1.Health/Check", OB_ALLOW_PUBLIC},
        {"/onboard.v1.Reflection/ListServices", OB_ALLOW_PUBLIC},
        {"/onboard.v1.Reflection/GetFileDescriptorSet", OB_ALLOW_PUBLIC},
        {"/onboard.v1.Auth/Login", OB_ALLOW_PUBLIC},
        {"/onboard.v1.Auth/WhoAmI", ANY_ROLE | OB_ALLOW(OB_ROLE_ADS)},
        /* Applicants and partners see only what they submitted (rpc/onboarding.c). */
        {"/onboard.v1.Onboarding/SubmitApplication", SUBMITTERS},
        {"/onboard.v1.Onboarding/GetApplication", ANY_ROLE},
        {"/onboard.v1.Onboarding/ListApplications", ANY_ROLE},
        {"/onboard.v1.Onboarding/ReviewApplication", STAFF},
        /* Reviewers too, on a company's request (the domain wants a reason). */
        {"/onboard.v1.Onboarding/WithdrawApplication", ANY_ROLE},
        {"/onboard.v1.Onboarding/GetCohort", ANY_ROLE},
        {"/onboard.v1.Onboarding/ListCohorts", ANY_ROLE},
        {"/onboard.v1.Onboarding/CreateCohort", ADMIN},
        {"/onboard.v1.Onboarding/SetCohortCapacity", ADMIN},
        /* The ads service reports what companies spent; administrators may correct. */
        {"/onboard.v1.Onboarding/RecordAdSpend", OB_ALLOW(OB_ROLE_ADS) | ADMIN},
        /* Applicants book for their own (the domain looks ownership up), staff for any. */
        {"/onboard.v1.Onboarding/BookWebinar", ANY_ROLE},
        {"/onboard.v1.Onboarding/CancelWebinar", ANY_ROLE},
        {"/onboard.v1.Onboarding/RecordWebinarAttendance", STAFF},
        {"/onboard.v1.Onboarding/ListWebinarSessions", ANY_ROLE},
        {"/onboard.v1.Onboarding/AddAdvisor", ADMIN},
        {"/onboard.v1.Onboarding/ListAdvisors", STAFF},
        {"/onboard.v1.Onboarding/UpdateAdvisor", ADMIN},
        {"/onboard.v1.Onboarding/ReassignAdvisor", STAFF},
        {"/onboard.v1.Admin/EraseContact", ADMIN},
        {"/onboard.v1.Admin/ExportContact", ADMIN},
        {"/onboard.v1.Admin/RotateKeys", ADMIN},
        {"/onboard.v1.Admin/ListAuditEvents", ADMIN},
        {"/onboard.v1.Admin/Backup", ADMIN},
};

/* ---- lifecycle ------------------------------------------------------ */

void ob_authz_config_defaults(ob_authz_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->trust_local = true;
	cfg->token_ttl_ms = 15 * 60 * 1000;
	for (size_t i = 0; i < N_LIMITS; i++) {
		*cfg_double(cfg, limits[i].rate) = limits[i].default_rate;
		*cfg_double(cfg, limits[i].burst) = limits[i].default_burst;
	}
}

static void audit(const ob_authz *a, const char *event, const char *principal, const char *peer,
                  const char *detail)
{
	ob_log(OB_LOG_WARN, "security: %s principal=%s peer=%s %s", event,
	       principal != NULL ? principal : "-", peer != NULL ? peer : "-", detail);
	if (a->cfg.audit != NULL)
		a->cfg.audit(a->cfg.audit_ctx, event, principal != NULL ? principal : "",
		             peer != NULL ? peer : "", detail);
}

static ob_err load_keyring(ob_authz *a)
{
	ob_keyring *kr = NULL;
	char err[256];
	ob_err e = a->cfg.keyring_path != NULL
	                   ? ob_keyring_load(a->cfg.keyring_path, &kr, err, sizeof(err))
	                   : ob_keyring_parse("", 0, &kr, err, sizeof(err));
	if (e != OB_OK) {
		ob_log(OB_LOG_ERROR, "keyring: %s", err);
		return e;
	}
	ob_log(OB_LOG_INFO, "keyring: %zu key(s)%s%s", ob_keyring_count(kr),
	       a->cfg.keyring_path != NULL ? " from " : "",
	       a->cfg.keyring_path != NULL ? a->cfg.keyring_path : " (no --keyring)");
	ob_keyring_slot_set(&a->keyring, kr); /* takes our reference */
	return OB_OK;
}

/* True when url listens on every address of the machine (tcp://0.0.0.0:7400, tcp://[::]:7400,
 * tcp://:7400, or a star for the host): no caller dials that, so it is no name of the server. */
static bool wildcard_url(const char *url)
{
	const char *h = strstr(url, "://");
	if (h == NULL || strncmp(url, "ipc:", 4) == 0 || strncmp(url, "inproc:", 7) == 0 ||
	    strncmp(url, "abstract:", 9) == 0)
		return false;
	h += 3;
	size_t len = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
	static const char *const any[] = {"", "*", "0.0.0.0", "[::]", "[::0]", "[0:0:0:0:0:0:0:0]"};
	for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
		if (strlen(any[i]) == len && strncmp(h, any[i], len) == 0)
			return true;
	}
	return false;
}

/* The login verifier, with the server's names gathered from cfg (see authz.h). */
static ob_err make_verifier(ob_authz *a, const ob_authz_config *cfg)
{
	const char *names[OB_LOGIN_MAX_SERVER_AUDIENCES];
	size_t n = 0;
	char list[1024] = "";
	for (size_t i = 0; i < cfg->n_audiences + cfg->n_listen; i++) {
		bool given = i < cfg->n_audiences;
		const char *name = given ? cfg->audiences[i] : cfg->listen[i - cfg->n_audiences];
		if (!given && wildcard_url(name)) {
			ob_log(OB_LOG_WARN,
			       "key logins: %s listens on every address and names no server; "
			       "give the URL its callers dial with --audience, or their logins "
			       "are refused",
			       name);
			continue;
		}
		if (!ob_login_audiences_valid(&name, 1) && given) {
			ob_log(OB_LOG_ERROR, "--audience: '%s' must be 1 to %d bytes", name,
			       OB_LOGIN_MAX_AUDIENCE_LEN);
			return OB_EINVAL;
		}
		if (!ob_login_audiences_valid(&name, 1)) {
			ob_log(OB_LOG_WARN,
			       "key logins: %s is longer than a name may be (%d bytes)", name,
			       OB_LOGIN_MAX_AUDIENCE_LEN);
			continue;
		}
		bool seen = false;
		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(names[j], name) == 0;
		if (seen)
			continue;
		if (n == OB_LOGIN_MAX_SERVER_AUDIENCES) {
			ob_log(OB_LOG_ERROR, "--audience and --listen: more than %d names",
			       OB_LOGIN_MAX_SERVER_AUDIENCES);
			return OB_EINVAL;
		}
		names[n++] = name;
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s%s", used > 0 ? " " : "", name);
	}
	if (n == 0)
		ob_log(OB_LOG_WARN, "key logins: this server has no name (--audience): every key "
		                    "login will be refused");
	else
		ob_log(OB_LOG_INFO, "key logins for: %s", list);
	ob_login_config lc = {.audiences = names, .n_audiences = n};
	return ob_login_verifier_create(&lc, &a->logins);
}

ob_err ob_authz_create(ob_authz **out, const ob_authz_config *cfg)
{
	*out = NULL;
	ob_authz *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return OB_ENOMEM;
	a->cfg = *cfg;
	pthread_mutex_init(&a->dropped_mu, NULL);
	ob_err err = ob_keyring_slot_init(&a->keyring, NULL);
	if (err != OB_OK) {
		pthread_mutex_destroy(&a->dropped_mu);
		free(a);
		return err;
	}
	uint8_t secret[32];
	bool have_secret = false;
	if (cfg->token_secret_path != NULL) {
		char msg[256];
		err = ob_secret_file_read(cfg->token_secret_path, secret, sizeof(secret), msg,
		                          sizeof(msg));
		if (err != OB_OK) {
			ob_log(OB_LOG_ERROR, "token secret: %s", msg);
			ob_authz_destroy(a);
			return err;
		}
		have_secret = true;
	}
	err = ob_token_minter_create(have_secret ? secret : NULL, &a->minter);
	sodium_memzero(secret, sizeof(secret));
	if (err == OB_OK)
		err = make_verifier(a, cfg);
	for (size_t i = 0; err == OB_OK && i < N_LIMITS; i++)
		err = ob_ratelimit_create(*cfg_double(&a->cfg, limits[i].rate),
		                          (uint32_t)*cfg_double(&a->cfg, limits[i].burst),
		                          limits[i].keys, &a->limit[i]);
	if (err != OB_OK)
		ob_log(OB_LOG_ERROR, "cannot set up authentication: %s", ob_strerror(err));
	if (err == OB_OK)
		err = load_keyring(a);
	if (err != OB_OK) {
		ob_authz_destroy(a);
		return err;
	}
	*out = a;
	return OB_OK;
}

static void audit_dropped(ob_authz *a, uint64_t n, int64_t since_ms);

void ob_authz_destroy(ob_authz *a)
{
	if (a == NULL)
		return;
	if (a->dropped > 0) /* nobody calls any more: the last count, before it is lost */
		audit_dropped(a, a->dropped, a->summary_at_ms);
	pthread_mutex_destroy(&a->dropped_mu);
	ob_keyring_slot_fini(&a->keyring);
	ob_token_minter_destroy(a->minter);
	ob_login_verifier_destroy(a->logins);
	for (size_t i = 0; i < N_LIMITS; i++)
		ob_ratelimit_destroy(a->limit[i]);
	free(a);
}

ob_err ob_authz_reload(ob_authz *a)
{
	ob_err err = load_keyring(a);
	audit(a, err == OB_OK ? "keyring-reloaded" : "keyring-reload-failed", "", "",
	      err == OB_OK ? "" : "kept the previous keyring");
	return err;
}

/* ---- per call ------------------------------------------------------- */

/* Authentication runs on the real wall clock (ob_clock_real_ms), never on
 * the programme's clock, which --now shifts for rehearsals: the timestamps
 * callers sign, the keys' validity periods, the tokens' lifetimes, the
 * replay cache and the rate limits are about the real world, and a server
 * rehearsing November 2020 must still take today's logins. */

enum { LIMIT_KEY_SIZE = 32 };

/* The name under which a caller's address is rate-limited: the remote host,
 * or for an ipc peer its uid. The server names every ipc peer's host "ipc",
 * so without the uid every local user would share one bucket and one could
 * spend everyone's budget; the uid comes from the kernel (SO_PEERCRED), a
 * peer cannot choose it. An ipc peer whose uid is unknown stays "ipc". */
static const char *limit_key(const ob_call *call, char buf[LIMIT_KEY_SIZE])
{
	if (call->peer_uid < 0)
		return call->peer_host;
	snprintf(buf, LIMIT_KEY_SIZE, "ipc:uid=%lld", (long long)call->peer_uid);
	return buf;
}

/* The summary of the failures that were not recorded since since_ms. */
static void audit_dropped(ob_authz *a, uint64_t n, int64_t since_ms)
{
	char since[OB_RFC3339_STR_SIZE], detail[160];
	ob_time_format_rfc3339(since_ms, since);
	snprintf(detail, sizeof(detail),
	         "%llu failed-call audit events dropped in the last interval (since %s)",
	         (unsigned long long)n, since);
	audit(a, "audit-dropped", "", "", detail);
}

/* A failure from a peer: recorded (log and audit table) within a small
 * budget per address and a budget in all, so that a flood of bad calls, from
 * one address or from thousands, cannot fill the disk or the log; beyond
 * them the call is refused all the same, and only counted. The count goes
 * into the trail as one event, with the first failure a second or more after
 * the first one dropped (so at most one such event a second). */
static void audit_failure(ob_authz *a, const ob_call *call, const char *event,
                          const char *principal)
{
	int64_t now = ob_clock_real_ms();
	char key[LIMIT_KEY_SIZE];
	bool record =
	        ob_ratelimit_take(a->limit[AUDIT_PER_ADDR], limit_key(call, key), now, NULL) &&
	        ob_ratelimit_take(a->limit[AUDIT_ALL], NULL, now, NULL);
	uint64_t dropped = 0;
	int64_t since = 0;
	pthread_mutex_lock(&a->dropped_mu);
	if (!record && a->dropped++ == 0)
		a->summary_at_ms = now; /* the interval starts with its first drop */
	if (a->dropped > 0 && now - a->summary_at_ms >= AUDIT_SUMMARY_INTERVAL_MS) {
		dropped = a->dropped;
		since = a->summary_at_ms;
		a->dropped = 0;
		a->summary_at_ms = now;
	}
	pthread_mutex_unlock(&a->dropped_mu);
	if (dropped > 0)
		audit_dropped(a, dropped, since);
	if (record)
		audit(a, event, principal, call->peer, call->method);
}

static bool local_peer_trusted(const ob_authz *a, const ob_call *call)
{
	return a->cfg.trust_local && call->peer_uid >= 0 &&
	       (call->peer_uid == (int64_t)geteuid() || call->peer_uid == 0);
}

static ob_err limited(ob_call *call, uint32_t retry_after_ms, const char *what)
{
	call->retry_after_ms = retry_after_ms > 0 ? retry_after_ms : 1;
	return ob_call_fail(call, OB_ELIMIT, "too many calls %s; retry in %u ms", what,
	                    call->retry_after_ms);
}

ob_err ob_authz_authorize(void *ctx, ob_call *call, unsigned roles)
{
	ob_authz *a = ctx;
	int64_t now = ob_clock_real_ms();
	uint32_t retry = 0;
	bool local = call->authorization == NULL && local_peer_trusted(a, call);
	char key[LIMIT_KEY_SIZE];
	/* Every remote call counts against its address, before anything else
	 * is spent on it. */
	if (!local && !ob_ratelimit_take(a->limit[PER_ADDR], limit_key(call, key), now, &retry))
		return limited(call, retry, "from this address");
	if (call->authorization == NULL) {
		if (!local) {
			audit_failure(a, call, "unauthenticated", "");
			return ob_call_fail(call, OB_EAUTH,
			                    "log in first: pass a key (onboard --key FILE) so that "
			                    "calls carry a session token");
		}
		call->principal = "local";
		call->role = OB_ROLE_ADMIN;
	} else {
		ob_token_claims claims;
		ob_keyring *kr = ob_keyring_slot_get(&a->keyring);
		/* The bare token: metadata values have no spaces (dispatch.c). */
		ob_err err = ob_token_verify(a->minter, call->authorization, now, &claims);
		if (err == OB_OK)
			err = ob_token_check_key(&claims, kr, now);
		ob_keyring_unref(kr);
		if (err != OB_OK) {
			audit_failure(a, call, "bad-token", "");
			return ob_call_fail(
			        call, OB_EAUTH,
			        "the session token is invalid, expired or revoked; log in "
			        "again");
		}
		char *principal = ob_arena_strdup(&call->arena, claims.key_id);
		if (principal == NULL)
			return OB_ENOMEM;
		call->principal = principal;
		call->role = (int)claims.role;
		if (!ob_ratelimit_take(a->limit[PER_KEY], principal, now, &retry))
			return limited(call, retry, "for this key");
	}
	if ((roles & OB_ALLOW(call->role)) == 0) {
		audit_failure(a, call, "permission-denied", call->principal);
		return ob_call_fail(call, OB_EPERM, "the role %s may not call %s",
		                    ob_role_name((ob_role)call->role), call->method);
	}
	return OB_OK;
}

/* ---- the Auth service ----------------------------------------------- */

static ob_authz *authz_of(ob_call *call)
{
	const ob_rpc_env *env = call->env;
	return env->authz;
}

/* The shape of a login request: a violation for each field that is off. */
static bool login_well_formed(ob_call *call, const Onboard__V1__LoginRequest *in)
{
	bool nonce_ok = in->nonce.len == 16, signature_ok = in->signature.len == 64;
	bool audiences_ok =
	        ob_login_audiences_valid((const char *const *)in->audience, in->n_audience);
	if (!nonce_ok)
		ob_call_violation(call, "nonce", "must be 16 bytes");
	if (!signature_ok)
		ob_call_violation(call, "signature", "must be 64 bytes");
	if (!audiences_ok)
		ob_call_violation(call, "audience",
		                  "1 to %d names of the server, each 1 to %d bytes (a client "
		                  "that sends none is older than the server: update it)",
		                  OB_LOGIN_MAX_AUDIENCES, OB_LOGIN_MAX_AUDIENCE_LEN);
	return nonce_ok && signature_ok && audiences_ok;
}

/* The reply to a genuine login by key: a session token, checked back before it is sent. */
static ob_err login_reply(ob_authz *a, ob_call *call, const ob_key *key, int64_t now,
                          ProtobufCMessage **resp)
{
	Onboard__V1__LoginResponse *out =
	        ob_arena_message(&call->arena, &onboard__v1__login_response__descriptor);
	char *token = ob_arena_alloc(&call->arena, OB_TOKEN_STR_SIZE);
	ob_err err = out != NULL && token != NULL ? OB_OK : OB_ENOMEM;
	if (err == OB_OK)
		err = ob_token_mint(a->minter, key, now, a->cfg.token_ttl_ms, token,
		                    OB_TOKEN_STR_SIZE);
	ob_token_claims claims;
	if (err == OB_OK)
		err = ob_token_verify(a->minter, token, now, &claims);
	if (err == OB_OK) {
		out->token = token;
		out->key_id = ob_arena_strdup(&call->arena, key->id);
		out->role = (char *)ob_role_name(key->role);
		char at[OB_RFC3339_STR_SIZE];
		ob_time_format_rfc3339(claims.expires_ms, at);
		out->expires_at = ob_arena_strdup(&call->arena, at);
		if (out->key_id == NULL || out->expires_at == NULL)
			err = OB_ENOMEM;
	}
	if (err != OB_OK) /* defensive: a genuine login the server could not answer */
		return ob_call_fail(call, err, "cannot complete the login: %s", ob_strerror(err));
	*resp = &out->base;
	return OB_OK;
}

static ob_err login(ob_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Onboard__V1__LoginRequest *in = (const void *)req;
	ob_authz *a = authz_of(call);
	if (a == NULL)
		return ob_call_fail(call, OB_ENOTSUP, "this server does not take logins");
	int64_t now = ob_clock_real_ms();
	uint32_t retry = 0;
	char addr[LIMIT_KEY_SIZE];
	/* Before the 36 us signature check, so that a flood costs us little. */
	if (!ob_ratelimit_take(a->limit[LOGIN_PER_ADDR], limit_key(call, addr), now, &retry))
		return limited(call, retry, "to log in from this address");
	if (!login_well_formed(call, in))
		return ob_call_fail(call, OB_EINVAL, "malformed login");
	ob_keyring *kr = ob_keyring_slot_get(&a->keyring);
	ob_login_request rq = {
	        .key_id = in->key_id,
	        .ts_ms = in->timestamp_ms,
	        .nonce = in->nonce.data,
	        .sig = in->signature.data,
	        .audiences = (const char *const *)in->audience,
	        .n_audiences = in->n_audience,
	};
	ob_login_result res;
	ob_err err = ob_login_verify(a->logins, kr, &rq, now, &res);
	if (err == OB_OK && !ob_ratelimit_take(a->limit[LOGIN_PER_KEY], res.key->id, now, &retry)) {
		/* Only genuine, first uses of a signed request reach this bucket, so that nobody
		 * but the key's holder can spend it (a replay or a forgery was refused above).
		 * The nonce is recorded already: the refused request cannot be replayed later. */
		err = limited(call, retry, "to log in with this key");
	} else if (err == OB_ELIMIT) {
		call->retry_after_ms = res.retry_after_ms > 0 ? res.retry_after_ms : 1;
		err = ob_call_fail(call, err, "login refused for now: %s; retry in %u ms",
		                   ob_login_verdict_text(res.verdict), call->retry_after_ms);
	} else if (err == OB_EAUTH) {
		/* Which check failed, and no more: see ob_login_verdict in auth/auth.h. */
		audit_failure(a, call, "login-failed", "");
		err = ob_call_fail(call, OB_EAUTH, "login refused: %s",
		                   ob_login_verdict_text(res.verdict));
	} else if (err == OB_OK) {
		err = login_reply(a, call, res.key, now, resp);
	} else { /* defensive: the request was checked above */
		err = ob_call_fail(call, err, "cannot complete the login: %s", ob_strerror(err));
	}
	ob_keyring_unref(kr); /* res.key is the keyring's: released after the reply */
	return err;
}

static ob_err whoami(ob_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	(void)req;
	Onboard__V1__WhoAmIResponse *out =
	        ob_arena_message(&call->arena, &onboard__v1__who_am_iresponse__descriptor);
	if (out == NULL)
		return OB_ENOMEM;
	out->principal = (char *)(call->principal != NULL ? call->principal : "");
	out->role = (char *)ob_role_name((ob_role)call->role);
	*resp = &out->base;
	return OB_OK;
}

ob_err ob_authz_install(ob_authz *a, ob_dispatch *d)
{
	static const ob_method methods[] = {
	        {"Login", login, 0, NULL},
	        {"WhoAmI", whoami, 0, NULL},
	};
	ob_err err = ob_dispatch_add_methods(d, &onboard__v1__auth__descriptor, methods,
	                                     sizeof(methods) / sizeof(methods[0]));
	for (size_t i = 0; err == OB_OK && i < sizeof(table) / sizeof(table[0]); i++) {
		err = ob_dispatch_allow(d, table[i].method, table[i].roles);
		if (err == OB_ENOTFOUND)
			err = OB_OK; /* a service this build does not serve */
	}
	if (err == OB_OK)
		ob_dispatch_set_authorizer(d, ob_authz_authorize, a);
	return err;
}
