#include "envelope.h"

#include "onboard/envelope.h"

/* The test's form (metadata as a NULL-terminated key, value list; version 0 meaning the
 * current one) in the shared packer's. false when there are too many entries. */
static bool adapt(const ob_test_envelope *e, ob_envelope *out,
                  ob_envelope_md md[OB_ENVELOPE_MAX_MD])
{
	size_t n = 0;
	for (; e->md != NULL && e->md[2 * n] != NULL; n++) {
		if (n == OB_ENVELOPE_MAX_MD)
			return false;
		md[n] = (ob_envelope_md){e->md[2 * n], e->md[2 * n + 1]};
	}
	*out = (ob_envelope){
	        .version = e->wrong_version || e->version != 0 ? e->version : OB_ENVELOPE_VERSION,
	        .method = e->method,
	        .timeout_ms = e->timeout_ms,
	        .md = md,
	        .n_md = n,
	        .payload = e->payload,
	        .payload_len = e->payload_len,
	};
	return true;
}

uint8_t *ob_test_envelope_pack(const ob_test_envelope *e, size_t *len)
{
	ob_envelope env;
	ob_envelope_md md[OB_ENVELOPE_MAX_MD];
	return adapt(e, &env, md) ? ob_envelope_pack_alloc(&env, len) : NULL;
}

size_t ob_test_envelope_plain(const char *method, uint8_t *buf, size_t cap)
{
	ob_envelope env = {.version = OB_ENVELOPE_VERSION, .method = method};
	size_t n;
	if (!ob_envelope_size(&env, &n) || n > cap)
		return 0;
	return ob_envelope_pack(&env, buf);
}
