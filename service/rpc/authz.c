#include "rpc/authz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/auth.h"
#include "base/clock.h"
#include "base/log.h"
#include "domain/calendar.h"
#include "onboard/v1/auth.pb-c.h"
#include "rpc/handlers.h"

struct ob_authz {
	ob_authz_config cfg;
	ob_keyring_slot keyring;
	ob_token_minter *minter;
	ob_login_verifier *logins;
	ob_ratelimit *per_key;
	ob_ratelimit *per_addr;
	ob_ratelimit *login_per_addr;
	/* Failed calls are recorded within both budgets (authz.h); the rest
	 * are counted in dropped and summed up in one event a second at most. */
	ob_ratelimit *audit_per_addr;
	ob_ratelimit *audit_all; /* one bucket, the empty key */
	pthread_mutex_t dropped_mu;
	uint64_t dropped;      /* failures not recorded since summary_at_ms */
	int64_t summary_at_ms; /* the first of them */
};

enum { AUDIT_SUMMARY_INTERVAL_MS = 1000 };

/* ---- the one table of who may call what ------------------------------ */

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
        {"/onboard.v1.Auth/WhoAmI", ANY_ROLE},
        /* Applicants and partners see only what they submitted (rpc/onboarding.c). */
        {"/onboard.v1.Onboarding/SubmitApplication", SUBMITTERS},
        {"/onboard.v1.Onboarding/GetApplication", ANY_ROLE},
        {"/onboard.v1.Onboarding/ListApplications", ANY_ROLE},
        {"/onboard.v1.Onboarding/ReviewApplication", STAFF},
        {"/onboard.v1.Onboarding/WithdrawApplication", SUBMITTERS},
        {"/onboard.v1.Onboarding/GetCohort", ANY_ROLE},
        {"/onboard.v1.Onboarding/ListCohorts", ANY_ROLE},
        {"/onboard.v1.Onboarding/CreateCohort", ADMIN},
        {"/onboard.v1.Onboarding/SetCohortCapacity", ADMIN},
        {"/onboard.v1.Admin/EraseContact", ADMIN},
        {"/onboard.v1.Admin/ExportContact", ADMIN},
        {"/onboard.v1.Admin/RotateKeys", ADMIN},
        {"/onboard.v1.Admin/ListAuditEvents", ADMIN},
};

/* ---- lifecycle ------------------------------------------------------ */

void ob_authz_config_defaults(ob_authz_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->trust_local = true;
	cfg->token_ttl_ms = 15 * 60 * 1000;
	cfg->key_rate = 1000;
	cfg->key_burst = 2000;
	cfg->addr_rate = 2000;
	cfg->addr_burst = 4000;
	/* Every CLI run logs in once, and all ipc peers share one address. */
	cfg->login_rate = 20;
	cfg->login_burst = 100;
	cfg->audit_addr_rate = 2;
	cfg->audit_addr_burst = 20;
	cfg->audit_rate = 50;
	cfg->audit_burst = 100;
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
		err = ob_login_verifier_create(0, &a->logins);
	if (err == OB_OK)
		err = ob_ratelimit_create(cfg->key_rate, (uint32_t)cfg->key_burst, 4096,
		                          &a->per_key);
	if (err == OB_OK)
		err = ob_ratelimit_create(cfg->addr_rate, (uint32_t)cfg->addr_burst, 4096,
		                          &a->per_addr);
	if (err == OB_OK)
		err = ob_ratelimit_create(cfg->login_rate, (uint32_t)cfg->login_burst, 4096,
		                          &a->login_per_addr);
	if (err == OB_OK)
		err = ob_ratelimit_create(cfg->audit_addr_rate, (uint32_t)cfg->audit_addr_burst,
		                          4096, &a->audit_per_addr);
	if (err == OB_OK)
		err = ob_ratelimit_create(cfg->audit_rate, (uint32_t)cfg->audit_burst, 8,
		                          &a->audit_all);
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
	ob_ratelimit_destroy(a->per_key);
	ob_ratelimit_destroy(a->per_addr);
	ob_ratelimit_destroy(a->login_per_addr);
	ob_ratelimit_destroy(a->audit_per_addr);
	ob_ratelimit_destroy(a->audit_all);
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
	int64_t now = ob_clock_now_ms();
	bool record = ob_ratelimit_take(a->audit_per_addr, call->peer_host, now, NULL) &&
	              ob_ratelimit_take(a->audit_all, NULL, now, NULL);
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
	int64_t now = ob_clock_now_ms();
	uint32_t retry = 0;
	bool local = call->authorization == NULL && local_peer_trusted(a, call);
	/* Every remote call counts against its address, before anything else
	 * is spent on it. */
	if (!local && !ob_ratelimit_take(a->per_addr, call->peer_host, now, &retry))
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
		if (!ob_ratelimit_take(a->per_key, principal, now, &retry))
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

static ob_err login(ob_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const Onboard__V1__LoginRequest *in = (const void *)req;
	ob_authz *a = authz_of(call);
	if (a == NULL)
		return ob_call_fail(call, OB_ENOTSUP, "this server does not take logins");
	int64_t now = ob_clock_now_ms();
	uint32_t retry = 0;
	/* Before the 36 us signature check, so that a flood costs us little. */
	if (!ob_ratelimit_take(a->login_per_addr, call->peer_host, now, &retry))
		return limited(call, retry, "to log in from this address");
	if (in->nonce.len != 16 || in->signature.len != 64) {
		if (in->nonce.len != 16)
			ob_call_violation(call, "nonce", "must be 16 bytes");
		if (in->signature.len != 64)
			ob_call_violation(call, "signature", "must be 64 bytes");
		return ob_call_fail(call, OB_EINVAL, "malformed login");
	}
	ob_keyring *kr = ob_keyring_slot_get(&a->keyring);
	const ob_key *key = NULL;
	ob_err err = ob_login_verify(a->logins, kr, in->key_id, in->timestamp_ms, in->nonce.data,
	                             in->signature.data, now, &key);
	Onboard__V1__LoginResponse *out =
	        ob_arena_message(&call->arena, &onboard__v1__login_response__descriptor);
	char *token = ob_arena_alloc(&call->arena, OB_TOKEN_STR_SIZE);
	if (err == OB_OK && (out == NULL || token == NULL))
		err = OB_ENOMEM;
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
	char id[OB_KEY_ID_LEN + 1] = "";
	if (err == OB_OK)
		memcpy(id, key->id, sizeof(id));
	ob_keyring_unref(kr);
	if (err == OB_ELIMIT) {
		call->retry_after_ms = 1000;
		return ob_call_fail(call, err, "too many logins; retry");
	}
	if (err != OB_OK) {
		/* One answer for every reason, so that a prober learns nothing. */
		audit_failure(a, call, "login-failed", "");
		return ob_call_fail(
		        call, OB_EAUTH,
		        "login refused: unknown, expired or revoked key, bad signature, "
		        "clock more than 60 s off, or a replayed request");
	}
	*resp = &out->base;
	return OB_OK;
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
	const ProtobufCServiceDescriptor *sd = &onboard__v1__auth__descriptor;
	ob_err err = ob_dispatch_add_service(d, sd);
	if (err == OB_OK)
		err = ob_dispatch_register(d, sd, "Login", login, 0);
	if (err == OB_OK)
		err = ob_dispatch_register(d, sd, "WhoAmI", whoami, 0);
	for (size_t i = 0; err == OB_OK && i < sizeof(table) / sizeof(table[0]); i++) {
		err = ob_dispatch_allow(d, table[i].method, table[i].roles);
		if (err == OB_ENOTFOUND)
			err = OB_OK; /* a service this build does not serve */
	}
	if (err == OB_OK)
		ob_dispatch_set_authorizer(d, ob_authz_authorize, a);
	return err;
}
