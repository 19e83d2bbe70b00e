/*
 * The frame of the methods that call the domain (op.h).
 */
#include "rpc/op.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "rpc/convert.h"
#include "rpc/handlers.h"

ob_err ob_rpc_report(ob_call *call, ob_err err, const ob_outcome *o)
{
	for (size_t i = 0; i < o->n_violations; i++)
		ob_call_violation(call, o->violations[i].field, "%s", o->violations[i].description);
	if (err == OB_OK)
		return OB_OK;
	return ob_call_fail(call, err, "%s", o->message[0] != '\0' ? o->message : ob_strerror(err));
}

/* The domain numbers its callers' roles like auth/ does (domain.h). */
_Static_assert((int)OB_CALLER_APPLICANT == (int)OB_ROLE_APPLICANT &&
                       (int)OB_CALLER_PARTNER == (int)OB_ROLE_PARTNER &&
                       (int)OB_CALLER_REVIEWER == (int)OB_ROLE_REVIEWER &&
                       (int)OB_CALLER_ADMIN == (int)OB_ROLE_ADMIN &&
                       (int)OB_CALLER_ADS == (int)OB_ROLE_ADS,
               "caller roles numbering");

ob_caller ob_rpc_caller(const ob_call *call)
{
	ob_caller who = {.principal = call->principal, .role = (ob_caller_role)call->role};
	if (call->principal == NULL || call->principal[0] == '\0')
		/* Without authentication (tests), where the call came from. */
		who.actor = call->peer != NULL && call->peer[0] != '\0' ? call->peer : "unknown";
	return who;
}

/* ---- idempotency ---------------------------------------------------- */

ob_err ob_op_render(const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
	if (m == NULL)
		return OB_ENOMEM;
	*len = protobuf_c_message_get_packed_size(m);
	*out = malloc(*len > 0 ? *len : 1);
	if (*out == NULL)
		return OB_ENOMEM;
	protobuf_c_message_pack(m, *out);
	return OB_OK;
}

/* Renders the reply stored with an idempotency key: the packed Application. */
static ob_err render(void *ctx, const void *a, uint8_t **out, size_t *len)
{
	Onboard__V1__Application *m = ob_pb_application(ctx, a);
	return ob_op_render(m != NULL ? &m->base : NULL, out, len);
}

/* A new application's, in two parts (domain.h, render_new). */
static ob_err render_new(void *ctx, const ob_application *a, bool decided, uint8_t **out,
                         size_t *len)
{
	Onboard__V1__Application *m = ob_pb_application_part(ctx, a, decided);
	return ob_op_render(m != NULL ? &m->base : NULL, out, len);
}

/* The key and hash of a write: same key + same method and request = same
 * hash. The request's bytes as they came off the wire are hashed, not a
 * re-packing of what was decoded: a client that resends sends the same
 * bytes. */
static ob_err idempotency(ob_call *call, ob_idempotency *idem)
{
	memset(idem, 0, sizeof(*idem));
	if (call->idempotency_key == NULL)
		return OB_OK;
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(idem->request_hash));
	crypto_generichash_update(&st, (const uint8_t *)call->method, strlen(call->method) + 1);
	if (call->payload_len > 0)
		crypto_generichash_update(&st, call->payload, call->payload_len);
	crypto_generichash_final(&st, idem->request_hash, sizeof(idem->request_hash));
	/* Keys are the caller's own: namespaced by who calls, so that another
	 * caller can neither replay a reply (it shows the contact) nor collide. */
	idem->key = ob_arena_printf(&call->arena, "%s/%s",
	                            call->principal != NULL ? call->principal : "",
	                            call->idempotency_key);
	if (idem->key == NULL)
		return OB_ENOMEM;
	idem->render = render;
	idem->render_new = render_new;
	idem->ctx = &call->arena;
	return OB_OK;
}

/* ---- the frame ------------------------------------------------------ */

/* The handler of every row of ob_op_add_service: call->handler_ctx is the row. */
static ob_err handle(ob_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	const ob_op_method *m = call->handler_ctx;
	const ob_rpc_env *env = call->env;
	if (env->domain == NULL) {
		call->retry_after_ms = 1000;
		return ob_call_fail(call, OB_EUNAVAIL, "the store is not open");
	}
	ob_op op = {.call = call, .domain = env->domain, .who = ob_rpc_caller(call)};
	ob_err err = OB_OK;
	if (m->flags & OB_OP_WRITE)
		err = idempotency(call, &op.idem);
	if (err != OB_OK)
		return err;
	ob_outcome_init(&op.outcome);
	err = m->fn(&op, req, resp);
	/* An error the handler recorded itself stands as it is. */
	if (err != OB_OK && call->err != err)
		err = ob_rpc_report(call, err, &op.outcome);
	ob_outcome_fini(&op.outcome);
	return err;
}

ob_err ob_op_add_service(ob_dispatch *d, const ProtobufCServiceDescriptor *sd,
                         const ob_op_method *methods, size_t n)
{
	ob_err err = ob_dispatch_add_service(d, sd);
	for (size_t i = 0; err == OB_OK && i < n; i++) {
		const ob_method row = {.name = methods[i].name, .fn = handle, .ctx = &methods[i]};
		err = ob_dispatch_register_method(d, sd, &row);
	}
	return err;
}

/* ---- replies -------------------------------------------------------- */

ob_err ob_op_reply(ProtobufCMessage *m, ProtobufCMessage **resp)
{
	if (m == NULL)
		return OB_ENOMEM;
	*resp = m;
	return OB_OK;
}

/* Bytes already packed, as the reply of call: copied into its arena, which
 * outlives the outcome that holds them. */
static ob_err packed_reply(ob_call *call, const uint8_t *bytes, size_t len)
{
	uint8_t *copy = ob_arena_alloc(&call->arena, len > 0 ? len : 1);
	if (copy == NULL)
		return ob_call_fail(call, OB_ENOMEM,
		                    "the reply does not fit the call's memory budget");
	if (len > 0)
		memcpy(copy, bytes, len);
	call->reply = copy;
	call->reply_len = len;
	return OB_OK;
}

bool ob_op_reply_packed(ob_op *op, ob_err *err)
{
	const ob_outcome *o = &op->outcome;
	if (o->replay != NULL) {
		op->call->replayed = true;
		*err = packed_reply(op->call, o->replay, o->replay_len);
		return true;
	}
	if (o->rendered != NULL) {
		*err = packed_reply(op->call, o->rendered, o->rendered_len);
		return true;
	}
	return false;
}

ob_err ob_op_reply_application(ob_op *op, ob_err err, ob_application *a, ProtobufCMessage **resp)
{
	if (err != OB_OK)
		return err;
	bool replayed = op->outcome.replay != NULL; /* then a was not filled */
	if (ob_op_reply_packed(op, &err)) {
		if (!replayed)
			ob_application_fini(a);
		return err;
	}
	Onboard__V1__Application *m = ob_pb_application(&op->call->arena, a);
	ob_application_fini(a);
	return ob_op_reply(m != NULL ? &m->base : NULL, resp);
}
