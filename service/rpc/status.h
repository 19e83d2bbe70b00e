/*
 * status.h: the one table from ob_err to the wire's status code.
 */
#ifndef OB_RPC_STATUS_H
#define OB_RPC_STATUS_H

#include "base/err.h"
#include "onboard/v1/rpc.pb-c.h"

Onboard__V1__Code ob_status_from_err(ob_err err);
/* The retry-after a reply failing with err carries when the call set none: a wait in
 * milliseconds for the errors that pass by themselves (OB_EUNAVAIL, OB_ENOSPC), else 0. */
uint32_t ob_status_retry_after_ms(ob_err err);
/* "OK", "INVALID_ARGUMENT"...: the gRPC name of a code; "UNKNOWN" for others. */
const char *ob_status_name(Onboard__V1__Code code);

#endif
