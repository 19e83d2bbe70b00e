/*
 * The messages of a run and their replies (requests.h).
 */
#include "requests.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "errbuf.h"
#include "json_codec.h"
#include "onboard/client.h"
#include "onboard/envelope.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "onboard/v1/rpc.pb-c.h"
#include "template.h"

static int pack_call(ob_load_requests *r, uint64_t seq, uint64_t *rng, uint8_t **out, size_t *len,
                     char *err, size_t errlen);

uint64_t ob_load_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

int ob_load_requests_init(ob_load_requests *r, const ob_load_config *cfg, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	pthread_mutex_init(&r->ids_mu, NULL);
	pthread_mutex_init(&r->token_mu, NULL);
	atomic_init(&r->n_ids, 0);
	/* A random range of SIRENs per run, so that runs rarely collide; and a run id that
	 * makes every idempotency key of the run its own. */
	r->siren_base = randombytes_uniform(90000000u) + 1000000u;
	static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
	for (size_t i = 0; i < 12; i++)
		r->run_id[i] = alphabet[randombytes_uniform(32)];
	r->keep_ids = cfg->weights[OB_LOAD_SUBMIT] > 0 && cfg->weights[OB_LOAD_GET] > 0;
	if (cfg->weights[OB_LOAD_ECHO] > 0) {
		if ((r->echo = malloc(cfg->echo_bytes)) == NULL)
			goto oom;
		memset(r->echo, 'x', cfg->echo_bytes);
	}
	bool ids = cfg->weights[OB_LOAD_GET] > 0 ||
	           (cfg->data != NULL && ob_load_template_uses(cfg->data, OB_LOAD_SLOT_APP_ID));
	if (ids && (r->ids = calloc(OB_LOAD_MAX_IDS, sizeof(*r->ids))) == NULL)
		goto oom;
	if (cfg->call != NULL && ob_load_template_constant(cfg->data)) {
		uint64_t rng = 1;
		return pack_call(r, 0, &rng, &r->fixed, &r->fixed_len, err, errlen);
	}
	return 0;
oom:
	ob_errbuf(err, errlen, "out of memory");
	return -1;
}

void ob_load_requests_fini(ob_load_requests *r)
{
	if (r == NULL)
		return;
	free(r->echo);
	free(r->fixed);
	free(r->ids);
	sodium_memzero(r->token, sizeof(r->token));
	pthread_mutex_destroy(&r->ids_mu);
	pthread_mutex_destroy(&r->token_mu);
	memset(r, 0, sizeof(*r));
}

void ob_load_requests_set_token(ob_load_requests *r, const char *token)
{
	pthread_mutex_lock(&r->token_mu);
	snprintf(r->token, sizeof(r->token), "%s", token);
	pthread_mutex_unlock(&r->token_mu);
}

void ob_load_requests_add_id(ob_load_requests *r, const char *id)
{
	if (r->ids == NULL || strlen(id) >= OB_LOAD_ID_SIZE)
		return;
	pthread_mutex_lock(&r->ids_mu);
	size_t n = atomic_load_explicit(&r->n_ids, memory_order_relaxed);
	if (n < OB_LOAD_MAX_IDS) {
		memcpy(r->ids[n], id, strlen(id) + 1);
		atomic_store_explicit(&r->n_ids, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&r->ids_mu);
}

size_t ob_load_requests_ids(ob_load_requests *r)
{
	return atomic_load_explicit(&r->n_ids, memory_order_acquire);
}

/* A known id picked at random, or NULL. */
static const char *some_id(ob_load_requests *r, uint64_t *rng)
{
	size_t n = ob_load_requests_ids(r);
	return n > 0 ? r->ids[ob_load_rand(rng) % n] : NULL;
}

/* ---- the methods' requests --------------------------------------------------------- */

/* A place and its city, as La Poste writes them: the companies are spread over regions. */
static const struct {
	const char *postal_code, *city;
} places[] = {
        {"75011", "Paris"},       {"69003", "Lyon"},   {"13001", "Marseille"},
        {"33000", "Bordeaux"},    {"59000", "Lille"},  {"20000", "Ajaccio"},
        {"97400", "Saint-Denis"}, {"35000", "Rennes"}, {"67000", "Strasbourg"},
        {"31000", "Toulouse"},
};

size_t ob_load_submit_request(const ob_load_requests *r, uint64_t seq, uint8_t *buf, size_t cap)
{
	char siren[10], name[64];
	ob_load_siren(r->siren_base, seq, siren);
	snprintf(name, sizeof(name), "Load test company %" PRIu64, seq);
	size_t place = (size_t)(seq % (sizeof(places) / sizeof(places[0])));
	Onboard__V1__Address ad = ONBOARD__V1__ADDRESS__INIT;
	ad.street = (char *)"1 place de la République";
	ad.postal_code = (char *)places[place].postal_code;
	ad.city = (char *)places[place].city;
	Onboard__V1__Company c = ONBOARD__V1__COMPANY__INIT;
	c.siren = siren;
	c.legal_name = name;
	c.naf_code = (char *)"47.91B";
	c.employees_given_case = ONBOARD__V1__COMPANY__EMPLOYEES_GIVEN_EMPLOYEES;
	c.employees = (uint32_t)(1 + seq % 40);
	c.turnover_given_case = ONBOARD__V1__COMPANY__TURNOVER_GIVEN_TURNOVER_EUR;
	c.turnover_eur = 150000 + (int64_t)(seq % 1000) * 1000;
	c.address = &ad;
	/* The legal forms' rules (onboarding.proto, LegalForm): an EI gives its balance sheet, a
	 * micro-entrepreneur has none, an SAS gives both and its VAT number. */
	char vat[16];
	switch (seq % 3) {
	case 0:
		c.legal_form = ONBOARD__V1__LEGAL_FORM__LEGAL_FORM_EI;
		break;
	case 1:
		c.legal_form = ONBOARD__V1__LEGAL_FORM__LEGAL_FORM_MICRO_ENTREPRENEUR;
		break;
	default:
		c.legal_form = ONBOARD__V1__LEGAL_FORM__LEGAL_FORM_SAS;
		snprintf(vat, sizeof(vat), "FR%02lu%s",
		         (12 + 3 * (strtoul(siren, NULL, 10) % 97)) % 97, siren);
		c.vat_number = vat;
		break;
	}
	if (c.legal_form != ONBOARD__V1__LEGAL_FORM__LEGAL_FORM_MICRO_ENTREPRENEUR) {
		c.balance_sheet_given_case =
		        ONBOARD__V1__COMPANY__BALANCE_SHEET_GIVEN_BALANCE_SHEET_EUR;
		c.balance_sheet_eur = 80000;
	}
	Onboard__V1__Contact ct = ONBOARD__V1__CONTACT__INIT;
	ct.name = (char *)"Camille Durand";
	ct.email = (char *)"camille@example.fr";
	ct.phone = (char *)"06 12 34 56 78";
	Onboard__V1__SubmitApplicationRequest rq = ONBOARD__V1__SUBMIT_APPLICATION_REQUEST__INIT;
	rq.cohort_id = (char *)r->cohort;
	rq.company = &c;
	rq.contact = &ct;
	rq.channel = (Onboard__V1__Channel)(1 + seq % 3);
	rq.intends_to_export = seq % 4 == 0;
	rq.accepts_terms = true;
	if (onboard__v1__submit_application_request__get_packed_size(&rq) > cap)
		return 0;
	return onboard__v1__submit_application_request__pack(&rq, buf);
}

/* --call's request for call seq: the template rendered and decoded, packed into *out
 * (malloc'd). Returns 0, or -1 with why in err. */
static int pack_call(ob_load_requests *r, uint64_t seq, uint64_t *rng, uint8_t **out, size_t *len,
                     char *err, size_t errlen)
{
	const ob_load_config *c = r->cfg;
	if (r->fixed != NULL) {
		*out = r->fixed;
		*len = r->fixed_len;
		return 0;
	}
	ob_load_values v = {.seq = seq, .siren_base = r->siren_base, .cohort = r->cohort};
	v.random[0] = ob_load_rand(rng);
	v.random[1] = ob_load_rand(rng);
	if (ob_load_template_uses(c->data, OB_LOAD_SLOT_APP_ID) &&
	    (v.app_id = some_id(r, rng)) == NULL) {
		ob_errbuf(err, errlen, "no application id for {{app_id}}");
		return -1;
	}
	char *text = malloc(ob_load_template_size(c->data));
	if (text == NULL) {
		ob_errbuf(err, errlen, "out of memory");
		return -1;
	}
	size_t n = ob_load_template_render(c->data, &v, text);
	char why[256];
	ProtobufCMessage *m = ob_json_parse_message(text, n, c->call->input, why, sizeof(why));
	free(text);
	if (m == NULL) {
		ob_errbuf(err, errlen, "the request of call %" PRIu64 " is not a valid %s: %s", seq,
		          c->call->input->name, why);
		return -1;
	}
	*len = protobuf_c_message_get_packed_size(m);
	*out = malloc(*len > 0 ? *len : 1);
	if (*out != NULL)
		protobuf_c_message_pack(m, *out);
	protobuf_c_message_free_unpacked(m, NULL);
	if (*out == NULL) {
		ob_errbuf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* The request of a built-in op into buf (cap bytes): its length, or 0 with why in err. */
static size_t pack_builtin(ob_load_requests *r, ob_load_op op, uint64_t seq, uint64_t *rng,
                           uint8_t *buf, size_t cap, char *err, size_t errlen)
{
	switch (op) {
	case OB_LOAD_SUBMIT: {
		size_t n = ob_load_submit_request(r, seq, buf, cap);
		if (n == 0)
			ob_errbuf(err, errlen, "the cohort id is too long");
		return n;
	}
	case OB_LOAD_GET: {
		Onboard__V1__GetApplicationRequest rq = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
		if ((rq.id = (char *)some_id(r, rng)) == NULL) {
			ob_errbuf(err, errlen, "no application id to get");
			return 0;
		}
		return onboard__v1__get_application_request__pack(&rq, buf);
	}
	case OB_LOAD_LIST: {
		Onboard__V1__ListApplicationsRequest rq =
		        ONBOARD__V1__LIST_APPLICATIONS_REQUEST__INIT;
		rq.cohort_id = r->cohort;
		rq.page_size = 20;
		return onboard__v1__list_applications_request__pack(&rq, buf);
	}
	case OB_LOAD_COHORT: {
		Onboard__V1__GetCohortRequest rq = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
		rq.id = r->cohort;
		return onboard__v1__get_cohort_request__pack(&rq, buf);
	}
	default: /* defensive: the caller handles echo and call */
		ob_errbuf(err, errlen, "no request of that kind");
		return 0;
	}
}

/* The envelope of method with payload[0..len) into a new nng message (onboard/envelope.h
 * packs it, as it does for libonboard-client). */
static int envelope(ob_load_requests *r, const char *method, uint64_t seq, const uint8_t *payload,
                    size_t len, nng_msg **out, char *err, size_t errlen)
{
	const ob_load_config *c = r->cfg;
	ob_envelope_md md[OB_LOAD_MAX_METADATA + 2];
	size_t n = 0;
	bool has_key = false;
	for (size_t i = 0; i < c->n_md; i++) {
		md[n++] = (ob_envelope_md){c->md[i].key, c->md[i].value};
		has_key |= strcmp(c->md[i].key, "idempotency-key") == 0;
	}
	char key[48], token[OB_LOAD_TOKEN_SIZE];
	if (!has_key) {
		snprintf(key, sizeof(key), "%s-%" PRIu64, r->run_id, seq);
		md[n++] = (ob_envelope_md){"idempotency-key", key};
	}
	pthread_mutex_lock(&r->token_mu);
	memcpy(token, r->token, sizeof(token));
	pthread_mutex_unlock(&r->token_mu);
	if (token[0] != '\0')
		md[n++] = (ob_envelope_md){"authorization", token};
	ob_envelope e = {.version = OB_ENVELOPE_VERSION,
	                 .method = method,
	                 .timeout_ms = (uint32_t)c->timeout_ms,
	                 .md = md,
	                 .n_md = n,
	                 .payload = payload,
	                 .payload_len = len};
	size_t size = 0;
	int rv = ob_envelope_size(&e, &size) ? nng_msg_alloc(out, size) : NNG_EINVAL;
	if (rv == 0)
		ob_envelope_pack(&e, nng_msg_body(*out));
	else
		ob_errbuf(err, errlen, "cannot make the envelope: %s", nng_strerror(rv));
	sodium_memzero(token, sizeof(token));
	return rv == 0 ? 0 : -1;
}

int ob_load_request_make(ob_load_requests *r, ob_load_op op, uint64_t seq, uint64_t *rng,
                         nng_msg **out, char *err, size_t errlen)
{
	*out = NULL;
	if (op == OB_LOAD_ECHO) {
		int rv = nng_msg_alloc(out, 0);
		if (rv == 0 && (rv = nng_msg_append(*out, r->echo, r->cfg->echo_bytes)) != 0)
			nng_msg_free(*out);
		if (rv != 0)
			ob_errbuf(err, errlen, "cannot allocate a message: %s", nng_strerror(rv));
		return rv == 0 ? 0 : -1;
	}
	if (op == OB_LOAD_CALL) {
		uint8_t *payload;
		size_t len;
		if (pack_call(r, seq, rng, &payload, &len, err, errlen) != 0)
			return -1;
		int rc = envelope(r, r->cfg->call_name, seq, payload, len, out, err, errlen);
		if (payload != r->fixed)
			free(payload);
		return rc;
	}
	uint8_t buf[2048];
	size_t len = pack_builtin(r, op, seq, rng, buf, sizeof(buf), err, errlen);
	if (len == 0 && op != OB_LOAD_COHORT && op != OB_LOAD_LIST)
		return -1; /* an empty GetCohort or List request is a valid one */
	return envelope(r, ob_load_op_method(op), seq, buf, len, out, err, errlen);
}

/* ---- replies --------------------------------------------------------------------------- */

static void verdict(ob_load_verdict *v, int code, bool local, const char *message)
{
	v->code = code;
	v->local = local;
	snprintf(v->message, sizeof(v->message), "%s", message != NULL ? message : "");
}

void ob_load_reply_read(ob_load_requests *r, ob_load_op op, nng_msg *reply, size_t sent,
                        ob_load_verdict *v)
{
	size_t len = nng_msg_len(reply);
	if (op == OB_LOAD_ECHO) {
		if (len == sent) {
			verdict(v, OB_CODE_OK, false, "");
		} else {
			char why[96];
			snprintf(why, sizeof(why), "an echo of %zu bytes came back with %zu", sent,
			         len);
			verdict(v, OB_CODE_INTERNAL, true, why);
		}
		return;
	}
	Onboard__V1__Response *rs = onboard__v1__response__unpack(NULL, len, nng_msg_body(reply));
	if (rs == NULL) {
		verdict(v, OB_CODE_INTERNAL, true, "the reply is not an onboard.v1.Response");
		return;
	}
	/* The code is the peer's word, any int32: outside the contract it is UNKNOWN, as
	 * libonboard-client reads it, with the number in the message. */
	int code = (int)rs->code;
	if (code >= 0 && code < OB_LOAD_N_CODES) {
		verdict(v, code, false, rs->message);
	} else {
		char why[OB_LOAD_MESSAGE_MAX];
		snprintf(why, sizeof(why), "status code %d, not one of the contract's: %s", code,
		         rs->message != NULL ? rs->message : "");
		verdict(v, OB_CODE_UNKNOWN, false, why);
	}
	/* The field violations say what the message only counts ("the application has 4
	 * invalid fields"): they are part of what the errors are told apart by. */
	for (size_t i = 0; i < rs->n_field_violations; i++) {
		size_t n = strlen(v->message);
		snprintf(v->message + n, sizeof(v->message) - n, "%s%s: %s", i == 0 ? " (" : "; ",
		         rs->field_violations[i]->field, rs->field_violations[i]->description);
		if (i + 1 == rs->n_field_violations && strlen(v->message) + 1 < sizeof(v->message))
			strcat(v->message, ")");
	}
	if (code == OB_CODE_OK && op == OB_LOAD_SUBMIT && r->keep_ids &&
	    ob_load_requests_ids(r) < OB_LOAD_MAX_IDS) {
		Onboard__V1__Application *a =
		        onboard__v1__application__unpack(NULL, rs->payload.len, rs->payload.data);
		if (a != NULL) {
			ob_load_requests_add_id(r, a->id);
			onboard__v1__application__free_unpacked(a, NULL);
		}
	}
	onboard__v1__response__free_unpacked(rs, NULL);
}
