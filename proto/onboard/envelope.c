/* envelope.c: see onboard/envelope.h. */
#include "onboard/envelope.h"

#include <stdlib.h>

#include "onboard/v1/rpc.pb-c.h"

/* Fills the generated message over the caller's strings: no copy, nothing to free. */
typedef struct packable {
	Onboard__V1__Request rq;
	Onboard__V1__MetadataEntry entries[OB_ENVELOPE_MAX_MD];
	Onboard__V1__MetadataEntry *ptrs[OB_ENVELOPE_MAX_MD];
} packable;

static bool fill(packable *p, const ob_envelope *e)
{
	if (e->n_md > OB_ENVELOPE_MAX_MD)
		return false;
	onboard__v1__request__init(&p->rq);
	p->rq.version = e->version;
	p->rq.method = (char *)(e->method != NULL ? e->method : "");
	p->rq.timeout_ms = e->timeout_ms;
	p->rq.payload.data = (uint8_t *)e->payload;
	p->rq.payload.len = e->payload != NULL ? e->payload_len : 0;
	for (size_t i = 0; i < e->n_md; i++) {
		onboard__v1__metadata_entry__init(&p->entries[i]);
		p->entries[i].key = (char *)(e->md[i].key != NULL ? e->md[i].key : "");
		p->entries[i].value = (char *)(e->md[i].value != NULL ? e->md[i].value : "");
		p->ptrs[i] = &p->entries[i];
	}
	p->rq.metadata = p->ptrs;
	p->rq.n_metadata = e->n_md;
	return true;
}

bool ob_envelope_size(const ob_envelope *e, size_t *len)
{
	packable p;
	if (!fill(&p, e))
		return false;
	*len = onboard__v1__request__get_packed_size(&p.rq);
	return true;
}

size_t ob_envelope_pack(const ob_envelope *e, uint8_t *out)
{
	packable p;
	if (!fill(&p, e))
		return 0;
	return onboard__v1__request__pack(&p.rq, out);
}

uint8_t *ob_envelope_pack_alloc(const ob_envelope *e, size_t *len)
{
	packable p;
	if (!fill(&p, e))
		return NULL;
	*len = onboard__v1__request__get_packed_size(&p.rq);
	uint8_t *buf = malloc(*len > 0 ? *len : 1);
	if (buf != NULL)
		onboard__v1__request__pack(&p.rq, buf);
	return buf;
}
