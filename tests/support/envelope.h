/*
 * envelope.h: an onboard.v1.Request (the envelope of rpc.proto) packed the way a test wants
 * it, well-formed or not (version 0 or 2, metadata twice, any method), for the tests that
 * feed the pipeline bytes: the dispatcher's unit tests, raw connections to onboardd, the
 * fuzz corpus and its driver.
 *
 * A thin adapter over the one envelope packer (proto/onboard/envelope.h) that takes a test's
 * shorthand: metadata as a NULL-terminated list, version 0 for the current one. No cmocka, no
 * state.
 */
#ifndef OB_TESTS_ENVELOPE_H
#define OB_TESTS_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ob_test_envelope {
	uint32_t version;   /* 0 means the current one, 1, unless wrong_version */
	bool wrong_version; /* send version as it is, 0 included */
	const char *method;
	const char *const *md; /* key, value, key, value..., NULL; at most 64 entries */
	uint32_t timeout_ms;
	const void *payload;
	size_t payload_len;
} ob_test_envelope;

/* Packs e into a buffer the caller frees with free(), its length in *len. Returns NULL when
 * memory runs out or e has more than 64 metadata entries. */
uint8_t *ob_test_envelope_pack(const ob_test_envelope *e, size_t *len);

/* A version-1 envelope for method without metadata or payload, packed into buf[0..cap);
 * returns its length, 0 when it does not fit. */
size_t ob_test_envelope_plain(const char *method, uint8_t *buf, size_t cap);

#endif
