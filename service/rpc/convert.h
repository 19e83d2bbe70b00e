/*
 * convert.h: domain structs to protobuf messages, and the page tokens, shared
 * by the handlers of every service (rpc/onboarding.c, rpc/admin.c).
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
/* The same, its strings a's own but the history's, not copies: for an a in
 * the same arena (or one that otherwise outlives the message until it is
 * packed). */
Onboard__V1__Application *ob_pb_application_borrowing(ob_arena *ar, const ob_application *a);
/* A new application's reply in two parts (ob_idempotency.render_new): all
 * but its state, waitlist position, terms version and history, or (decided)
 * those alone. Each field is in one part only, so that the two packed one
 * after the other decode as the whole. NULL when out of memory. */
Onboard__V1__Application *ob_pb_application_part(ob_arena *ar, const ob_application *a,
                                                 bool decided);
/* RFC 3339 UTC with milliseconds; "" for 0 (not set). */
char *ob_pb_time(ob_arena *ar, int64_t ms);
/* s in the arena ("" shared, not copied). */
char *ob_pb_str(ob_arena *ar, const char *s);

/* apps[0..n) into a repeated field: *out gets n messages, *n_out n. False
 * when the arena's budget is spent. */
bool ob_pb_applications(ob_arena *ar, const ob_application *apps, size_t n,
                        Onboard__V1__Application ***out, size_t *n_out);

/* Page tokens (AIP-158), opaque to callers: the seq of the last item
 * returned, then bind_len bytes that tie the token to its request (a hash of
 * the filters; none when any request may go on with it), URL-safe base64. */
char *ob_pb_page_token(ob_arena *ar, int64_t after_seq, const uint8_t *bind, size_t bind_len);
/* Reads a request's page_token into *after_seq (0 for ""). One that is not a
 * token of this server, or is bound to other bytes than bind, is a violation
 * of "page_token" on call. */
void ob_rpc_read_page_token(ob_call *call, const char *token, const uint8_t *bind, size_t bind_len,
                            int64_t *after_seq);

#endif
