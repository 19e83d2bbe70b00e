#include "envelope.h"

#include <stdlib.h>

#include "onboard/v1/rpc.pb-c.h"

enum { MAX_MD = 64 };

uint8_t *ob_test_envelope_pack(const ob_test_envelope *e, size_t *len)
{
	Onboard__V1__Request rq = ONBOARD__V1__REQUEST__INIT;
	Onboard__V1__MetadataEntry entries[MAX_MD];
	Onboard__V1__MetadataEntry *ptrs[MAX_MD];
	rq.version = e->wrong_version || e->version != 0 ? e->version : 1;
	rq.method = (char *)e->method;
	rq.timeout_ms = e->timeout_ms;
	rq.payload.data = (uint8_t *)e->payload;
	rq.payload.len = e->payload_len;
	for (size_t i = 0; e->md != NULL && e->md[2 * i] != NULL; i++) {
		if (i == MAX_MD)
			return NULL;
		onboard__v1__metadata_entry__init(&entries[i]);
		entries[i].key = (char *)e->md[2 * i];
		entries[i].value = (char *)e->md[2 * i + 1];
		ptrs[i] = &entries[i];
		rq.n_metadata = i + 1;
	}
	rq.metadata = ptrs;
	*len = onboard__v1__request__get_packed_size(&rq);
	uint8_t *buf = malloc(*len > 0 ? *len : 1);
	if (buf != NULL)
		onboard__v1__request__pack(&rq, buf);
	return buf;
}

size_t ob_test_envelope_plain(const char *method, uint8_t *buf, size_t cap)
{
	Onboard__V1__Request rq = ONBOARD__V1__REQUEST__INIT;
	rq.version = 1;
	rq.method = (char *)method;
	if (onboard__v1__request__get_packed_size(&rq) > cap)
		return 0;
	return onboard__v1__request__pack(&rq, buf);
}
