/*
 * handlers.h: the services onboardd serves, and the state their handlers share.
 *
 * Handlers convert between protobuf messages and domain structs and call the
 * domain; they hold no logic of the programme themselves.
 */
#ifndef OB_RPC_HANDLERS_H
#define OB_RPC_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "rpc/dispatch.h"

typedef struct ob_domain ob_domain;
typedef struct ob_authz ob_authz;

/* Shared by every call; ob_call.env points here. Read-only while serving.
 * The master keys are not here: the domain rotates them (its keystore,
 * crypto/keystore.h). */
typedef struct ob_rpc_env {
	const ob_dispatch *dispatch;
	ob_domain *domain; /* NULL in tests that serve only health and reflection */
	ob_authz *authz;   /* NULL: no authentication (tests) */
} ob_rpc_env;

/* Adds Health, Reflection, Onboarding and Admin to d with their handlers. */
OB_NODISCARD ob_err ob_handlers_register(ob_dispatch *d);

/* The contract's FileDescriptorSet, embedded at build time. */
extern const unsigned char ob_descriptor_set[];
extern const size_t ob_descriptor_set_len;

/* Per-service registration, each in its own file. */
OB_NODISCARD ob_err ob_health_register(ob_dispatch *d);
OB_NODISCARD ob_err ob_reflection_register(ob_dispatch *d);
OB_NODISCARD ob_err ob_onboarding_register(ob_dispatch *d);
OB_NODISCARD ob_err ob_admin_register(ob_dispatch *d);

/* Records a security event in the audit trail of env->domain, ctx being the
 * ob_rpc_env: the shape of ob_authz_config.audit, so that main can point
 * the authorizer's failed logins and denials at the same trail as the Admin
 * service's events (the authorizer exists before the domain does: an event
 * while env->domain is NULL is only logged). principal and peer may be
 * NULL. A failure to record is logged. Any thread. */
void ob_admin_audit_hook(void *ctx, const char *event, const char *principal, const char *peer,
                         const char *detail);

#endif
