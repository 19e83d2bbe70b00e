/*
 * onboard/envelope.h: the one place that packs an onboard.v1.Request, the envelope every call
 * travels in (rpc.proto: version, method, deadline, metadata, payload).
 *
 * The client library, onboard-load and the tests pack their requests here; onboardd only
 * reads envelopes (service/rpc/dispatch.c unpacks them under its own limits) and packs its
 * Response once, in service/rpc/server.c.
 *
 * Pure functions over caller memory, no state: thread-safe. Strings are borrowed for the
 * duration of the call, never kept. Nothing here validates what it packs (a test packs a
 * version-2 envelope or metadata twice on purpose): the server does.
 */
#ifndef OB_PROTO_ENVELOPE_H
#define OB_PROTO_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"

/* The envelope version this tree speaks. */
#define OB_ENVELOPE_VERSION 1
/* The most metadata entries one envelope can carry here (the server accepts fewer: 32). */
#define OB_ENVELOPE_MAX_MD 64

typedef struct ob_envelope_md {
	const char *key;
	const char *value;
} ob_envelope_md;

typedef struct ob_envelope {
	uint32_t version;    /* sent as it is: OB_ENVELOPE_VERSION, or another to test a refusal */
	const char *method;  /* "/onboard.v1.Onboarding/GetApplication"; NULL packs "" */
	uint32_t timeout_ms; /* 0: the server's default deadline */
	const ob_envelope_md *md; /* n_md entries, in order; may be NULL when n_md is 0 */
	size_t n_md;
	const void *payload; /* the request message, packed; may be NULL when payload_len is 0 */
	size_t payload_len;
} ob_envelope;

/* The packed size of e in *len. false when e has more than OB_ENVELOPE_MAX_MD entries. */
OB_NODISCARD bool ob_envelope_size(const ob_envelope *e, size_t *len);

/* Packs e into out, which holds at least the size ob_envelope_size gave; returns the length
 * written. e must have passed ob_envelope_size. */
size_t ob_envelope_pack(const ob_envelope *e, uint8_t *out);

/* Packs e into a buffer of its own (malloc; the caller frees it with free()), its length in
 * *len. NULL when e has too many metadata entries or memory runs out. */
OB_NODISCARD uint8_t *ob_envelope_pack_alloc(const ob_envelope *e, size_t *len);

#endif
