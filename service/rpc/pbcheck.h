/*
 * pbcheck.h: strict validation of protobuf bytes from the network.
 *
 * protobuf-c 1.4.1 accepts unknown fields, invalid UTF-8, strings with an
 * embedded NUL (silently truncated) and enum values outside the enum. Before
 * a buffer is unpacked, ob_pbcheck walks the wire format against the message
 * descriptor and refuses all of these, naming the field by its path
 * ("company.address.postal_code"). It also bounds nesting, so that no input
 * can drive a recursion deeper than OB_PBCHECK_MAX_DEPTH.
 *
 * Pure function of its inputs; thread-safe; allocates nothing.
 */
#ifndef OB_RPC_PBCHECK_H
#define OB_RPC_PBCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "base/err.h"

enum { OB_PBCHECK_MAX_DEPTH = 16 };

typedef struct ob_pbcheck_error {
	char field[128];       /* path of the offending field, "" for the message itself */
	char description[128]; /* what is wrong with it */
} ob_pbcheck_error;

/* OB_OK, or OB_EINVAL with *err filled in. */
OB_NODISCARD ob_err ob_pbcheck(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                               ob_pbcheck_error *err);

#endif
