/*
 * authz.h: who may call what. Authentication (session tokens from
 * auth/auth.h, or a trusted local peer), the one table of allowed roles per
 * method, rate limits per key and per address (a remote host, or the uid of
 * an ipc peer), and the Auth service (Login, WhoAmI).
 *
 * Every call that is not public goes through ob_authz_authorize (set on the
 * dispatch as its authorizer) before its payload is decoded:
 *   1. with an `authorization` token: checked (~1 us: keyed BLAKE2b and a
 *      keyring lookup, so a revoked key stops working at the next reload);
 *   2. without one, from the ipc socket, with the peer's uid equal to the
 *      server's (or root) and local trust on: the local administrator, as
 *      PostgreSQL's peer authentication; the socket file's mode (0600 by
 *      default) decides who can connect at all;
 *   3. otherwise UNAUTHENTICATED; a role not in the method's set is
 *      PERMISSION_DENIED; a spent bucket is RESOURCE_EXHAUSTED with retry-after.
 * Failures are recorded through the audit callback, without secrets, within
 * a budget per address and one in all (audit_rate below).
 *
 * Threading: create, reload and destroy from main; authorize and the
 * handlers from any worker. Reload swaps the keyring atomically; calls in
 * flight keep the one they started with.
 */
#ifndef OB_RPC_AUTHZ_H
#define OB_RPC_AUTHZ_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "rpc/dispatch.h"

typedef struct ob_authz ob_authz;

typedef struct ob_authz_config {
	const char *keyring_path;       /* NULL: no keys; only trusted local peers get in */
	const char *token_secret_path;  /* NULL: a random secret (tokens die with the process) */
	bool trust_local;               /* rule 2 above; default true */
	int64_t token_ttl_ms;           /* default 15 min */
	double key_rate, key_burst;     /* calls per second per key; default 1000, 2000 */
	double addr_rate, addr_burst;   /* per remote host or ipc uid; default 2000, 4000 */
	double login_rate, login_burst; /* logins per host or ipc uid; default 20, 100 */
	double login_key_rate, login_key_burst; /* genuine logins per key; default 10, 50 */
	/* The server's names, one of which a login must be signed for (its audience, see
	 * auth/auth.h): every URL of listen that names a host (one on a wildcard address, such
	 * as tcp://0.0.0.0:7400, names none: callers dial it by another name), and every one of
	 * audiences (--audience). Not copied: they must outlive create. */
	const char *const *listen;
	size_t n_listen;
	const char *const *audiences;
	size_t n_audiences;
	/* Failed calls recorded in the audit trail (and the log), per second:
	 * per address, default 2 with a burst of 20, and in all, default 50
	 * with a burst of 100, so that a flood from many addresses cannot
	 * fill the disk. What is not recorded is counted, and the count is
	 * recorded as one "audit-dropped" event at most once a second (with
	 * the next failure, and when the authorizer is destroyed). */
	double audit_addr_rate, audit_addr_burst;
	double audit_rate, audit_burst;
	/* Security events: event, principal (may be ""), peer, detail. No secrets. */
	void (*audit)(void *ctx, const char *event, const char *principal, const char *peer,
	              const char *detail);
	void *audit_ctx;
} ob_authz_config;

void ob_authz_config_defaults(ob_authz_config *cfg);

/* Loads the keyring and the secret. Errors are logged. */
OB_NODISCARD ob_err ob_authz_create(ob_authz **out, const ob_authz_config *cfg);
void ob_authz_destroy(ob_authz *a);
/* Reads the keyring file again (SIGHUP); keeps the old one on error. */
OB_NODISCARD ob_err ob_authz_reload(ob_authz *a);

/* The dispatch's authorizer; ctx is the ob_authz. */
ob_err ob_authz_authorize(void *ctx, ob_call *call, unsigned roles);

/* Registers the Auth service, sets the roles of every method of d from the
 * one table in authz.c, and installs the authorizer. After all services are
 * registered. */
OB_NODISCARD ob_err ob_authz_install(ob_authz *a, ob_dispatch *d);

#endif
