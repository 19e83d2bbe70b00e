/*
 * op.h: the one path of a method that calls the domain.
 *
 * The dispatch has decoded the request and authorized the caller; what is left
 * of such a method is the same every time: find the domain (UNAVAILABLE while
 * the store is not open), say who calls, give the domain an outcome to report
 * into, for a write hash the request for its idempotency key, call the domain
 * once, convert its answer, and on failure put the outcome's message and field
 * violations on the call. ob_op_add_service() registers a service whose
 * handlers are ob_op_fn: they hold only the conversions and the domain call,
 * and the frame (ob_op) does the rest.
 *
 * A new method of such a service is its ob_op_fn, a row in the service's
 * ob_op_method table, and a row in the table of who may call what
 * (rpc/authz.c); until that last row exists, nobody may call it.
 *
 * Threading: the frame and its handler run on the worker serving the call
 * and block where the domain does; the method tables are read-only.
 */
#ifndef OB_RPC_OP_H
#define OB_RPC_OP_H

#include <protobuf-c/protobuf-c.h>

#include "domain/domain.h"
#include "rpc/dispatch.h"

/* The frame of one call to the domain, set up before its ob_op_fn runs. */
typedef struct ob_op {
	ob_call *call;
	ob_domain *domain; /* never NULL */
	ob_caller who;     /* borrows from call: ob_rpc_caller() */
	ob_outcome outcome;
	ob_idempotency idem; /* OB_OP_WRITE: the call's key; else no key */
} ob_op;

/* A handler on the frame: converts req, calls the domain with op->outcome,
 * converts the answer into *resp (arena memory, as for ob_handler_fn). It
 * returns the domain's error as it is, which the frame reports onto the call
 * with the outcome, or fails the call itself with ob_call_fail(). */
typedef ob_err (*ob_op_fn)(ob_op *op, const ProtobufCMessage *req, ProtobufCMessage **resp);

enum {
	/* A write that takes an idempotency key: op->idem is set from the
	 * call's key (namespaced by the caller) and the hash of the request's
	 * bytes, and renders the reply, an Application, for the key's record. */
	OB_OP_WRITE = 1u << 0,
};

/* One row of a service's table. */
typedef struct ob_op_method {
	const char *name; /* the short name, "SubmitApplication" */
	ob_op_fn fn;
	unsigned flags; /* OB_OP_* */
} ob_op_method;

/* Adds sd to d with the n rows of methods, each served through the frame.
 * methods must outlive d (a static table). */
OB_NODISCARD ob_err ob_op_add_service(ob_dispatch *d, const ProtobufCServiceDescriptor *sd,
                                      const ob_op_method *methods, size_t n);

/* The reply of a call that returns an Application, built once: a replayed
 * reply's stored bytes as they are (Response.replayed), the bytes rendered
 * for the key's record, or else a, converted. Releases a; returns err as it
 * is when err is not OB_OK (a was not filled). */
ob_err ob_op_reply_application(ob_op *op, ob_err err, ob_application *a, ProtobufCMessage **resp);
/* m, a reply converted into the call's arena, as *resp: OB_ENOMEM when m is
 * NULL (its conversion ran out of the arena's budget), as for ob_op_render. */
ob_err ob_op_reply(ProtobufCMessage *m, ProtobufCMessage **resp);

/* m packed into *out (malloc'd, free()) and *len, as an idempotency key's
 * record keeps a reply (ob_idem's render): OB_ENOMEM when m is NULL (its
 * conversion failed) or memory runs out. */
ob_err ob_op_render(const ProtobufCMessage *m, uint8_t **out, size_t *len);
/* When op's outcome holds the reply's bytes already (replayed under an
 * idempotency key, or rendered for its record), makes them the call's reply:
 * true, and *err the result. false: the handler builds its reply. */
bool ob_op_reply_packed(ob_op *op, ob_err *err);

/* The outcome of a domain call, onto the call: its field violations, and on
 * failure its message (or the error's description). Returns err. */
ob_err ob_rpc_report(ob_call *call, ob_err err, const ob_outcome *o);
/* Who calls, as the domain takes it: the principal and role the authorizer
 * set, and for history entries the authenticated key id, "local" for a
 * trusted local peer, else where the call came from. Borrows from call. */
ob_caller ob_rpc_caller(const ob_call *call);

#endif
