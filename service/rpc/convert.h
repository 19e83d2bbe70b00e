/*
 * convert.h: domain structs to protobuf messages, shared by the handlers of
 * every service (rpc/onboarding.c, rpc/admin.c), and the helpers that report
 * a domain outcome onto a call.
 *
 * Every message and string returned lives in the arena given (freed with the
 * call); NULL means the arena's budget is spent (OB_ENOMEM).
 */
#ifndef OB_RPC_CONVERT_H
#define OB_RPC_CONVERT_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/domain.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "rpc/arena.h"
#include "rpc/dispatch.h"

/* An application with its contact (empty and contact_erased when erased),
 * benefits and history. */
Onboard__V1__Application *ob_pb_application(ob_arena *ar, const ob_application *a);
/* RFC 3339 UTC with milliseconds; "" for 0 (not set). */
char *ob_pb_time(ob_arena *ar, int64_t ms);
/* s in the arena ("" shared, not copied). */
char *ob_pb_str(ob_arena *ar, const char *s);

/* The outcome of a domain call, onto the call: its field violations, and on
 * failure its message (or the error's description). Returns err. */
ob_err ob_rpc_report(ob_call *call, ob_err err, const ob_outcome *o);
/* Who calls, as the domain takes it: the principal and role the authorizer
 * set, and for history entries the authenticated key id, "local" for a
 * trusted local peer, else where the call came from. Borrows from call. */
ob_caller ob_rpc_caller(const ob_call *call);

#endif
