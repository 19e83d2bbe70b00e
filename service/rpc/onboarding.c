/*
 * onboard.v1.Onboarding: converts messages to domain structs and back, and
 * calls the domain. No rule of the programme is decided here.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "base/time.h"
#include "domain/domain.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "rpc/convert.h"
#include "rpc/handlers.h"

/* The wire enums are numbered like the domain's; the casts below rely on it. */
_Static_assert((int)ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WITHDRAWN ==
                       (int)OB_STATE_WITHDRAWN,
               "ApplicationState numbering");
_Static_assert((int)ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_ONBOARD == (int)OB_ACTION_ONBOARD,
               "ReviewAction numbering");
_Static_assert((int)ONBOARD__V1__REJECTION_REASON__REJECTION_REASON_OTHER ==
                       (int)OB_REJECTION_OTHER,
               "RejectionReason numbering");
_Static_assert((int)ONBOARD__V1__CHANNEL__CHANNEL_BOTH == (int)OB_CHANNEL_BOTH,
               "Channel numbering");
_Static_assert((int)ONBOARD__V1__SIZE_CATEGORY__SIZE_CATEGORY_GE == (int)OB_SIZE_GE,
               "SizeCategory numbering");

typedef ProtobufCMessage msg;

static ob_domain *domain_of(ob_call *call)
{
	const ob_rpc_env *env = call->env;
	return env->domain;
}

static Onboard__V1__Cohort *cohort_to_pb(ob_arena *ar, const ob_cohort *c)
{
	Onboard__V1__Cohort *m = ob_arena_message(ar, &onboard__v1__cohort__descriptor);
	if (m == NULL || (m->eligible_sizes = ob_arena_alloc(ar, 4 * sizeof(int))) == NULL)
		return NULL;
	m->id = ob_pb_str(ar, c->id);
	m->name = ob_pb_str(ar, c->name);
	m->capacity = c->capacity;
	m->window_opens = ob_pb_time(ar, c->window_opens_ms);
	m->window_closes = ob_pb_time(ar, c->window_closes_ms);
	m->window_enforced = c->window_enforced;
	m->lockdown_start = ob_pb_str(ar, c->lockdown_start);
	m->lockdown_end = ob_pb_str(ar, c->lockdown_end);
	m->fee_waiver_until = ob_pb_str(ar, c->fee_waiver_until);
	m->monthly_fee_cents = c->monthly_fee_cents;
	m->ad_credit_cents = c->ad_credit_cents;
	m->webinar_hour = c->webinar_hour;
	m->webinar_minute = c->webinar_minute;
	m->webinar_seats = c->webinar_seats;
	m->advisor_pool = c->advisor_pool;
	for (int s = OB_SIZE_TPE; s <= OB_SIZE_GE; s++)
		if (c->eligible_sizes & (1u << s))
			m->eligible_sizes[m->n_eligible_sizes++] = (Onboard__V1__SizeCategory)s;
	m->created_at = ob_pb_time(ar, c->created_at_ms);
	return m;
}

/* Splits the counters "prefix:key" into one CountByKey list. */
static bool counts(ob_arena *ar, const ob_standing *st, const char *prefix,
                   Onboard__V1__CountByKey ***out, size_t *n)
{
	size_t plen = strlen(prefix);
	*out = ob_arena_alloc(ar, (st->n_counters + 1) * sizeof(**out));
	if (*out == NULL)
		return false;
	*n = 0;
	for (size_t i = 0; i < st->n_counters; i++) {
		if (strncmp(st->counters[i].key, prefix, plen) != 0 || st->counters[i].count <= 0)
			continue;
		Onboard__V1__CountByKey *c =
		        ob_arena_message(ar, &onboard__v1__count_by_key__descriptor);
		if (c == NULL || (c->key = ob_arena_strdup(ar, st->counters[i].key + plen)) == NULL)
			return false;
		c->count = (uint32_t)st->counters[i].count;
		(*out)[(*n)++] = c;
	}
	return true;
}

static Onboard__V1__CohortStanding *standing_to_pb(ob_arena *ar, const ob_standing *st)
{
	Onboard__V1__CohortStanding *m =
	        ob_arena_message(ar, &onboard__v1__cohort_standing__descriptor);
	if (m == NULL || (m->cohort = cohort_to_pb(ar, &st->cohort)) == NULL)
		return NULL;
	m->seats_held = st->seats_held;
	m->seats_free = st->seats_free;
	m->waitlist_length = st->waitlist;
	m->applications = st->applications;
	m->exporters = st->exporters;
	m->export_share = st->applications > 0 ? (double)st->exporters / st->applications : 0.0;
	if (!counts(ar, st, "state:", &m->by_state, &m->n_by_state) ||
	    !counts(ar, st, "size:", &m->by_size, &m->n_by_size) ||
	    !counts(ar, st, "region:", &m->by_region, &m->n_by_region) ||
	    !counts(ar, st, "channel:", &m->by_channel, &m->n_by_channel) ||
	    !counts(ar, st, "day:", &m->submissions_per_day, &m->n_submissions_per_day))
		return NULL;
	return m;
}

/* ---- idempotency ---------------------------------------------------- */

/* Renders the reply stored with an idempotency key: the packed Application. */
static ob_err render(void *ctx, const ob_application *a, uint8_t **out, size_t *len)
{
	ob_arena *ar = ctx;
	Onboard__V1__Application *m = ob_pb_application(ar, a);
	if (m == NULL)
		return OB_ENOMEM;
	*len = onboard__v1__application__get_packed_size(m);
	*out = malloc(*len > 0 ? *len : 1);
	if (*out == NULL)
		return OB_ENOMEM;
	onboard__v1__application__pack(m, *out);
	return OB_OK;
}

/* The key and hash of a write: same key + same method and request = same
 * hash. The request's bytes as they came off the wire are hashed, not a
 * re-packing of what was decoded: a client that resends sends the same
 * bytes. */
static ob_err idempotency(ob_call *call, ob_idempotency *idem)
{
	memset(idem, 0, sizeof(*idem));
	if (call->idempotency_key == NULL)
		return OB_OK;
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(idem->request_hash));
	crypto_generichash_update(&st, (const uint8_t *)call->method, strlen(call->method) + 1);
	if (call->payload_len > 0)
		crypto_generichash_update(&st, call->payload, call->payload_len);
	crypto_generichash_final(&st, idem->request_hash, sizeof(idem->request_hash));
	/* Keys are the caller's own: namespaced by who calls, so that another
	 * caller can neither replay a reply (it shows the contact) nor collide. */
	idem->key = ob_arena_printf(&call->arena, "%s/%s",
	                            call->principal != NULL ? call->principal : "",
	                            call->idempotency_key);
	if (idem->key == NULL)
		return OB_ENOMEM;
	idem->render = render;
	idem->ctx = &call->arena;
	return OB_OK;
}

/* Bytes already packed, as the reply of call: copied into its arena, which
 * outlives the outcome that holds them. */
static ob_err packed_reply(ob_call *call, const uint8_t *bytes, size_t len)
{
	uint8_t *copy = ob_arena_alloc(&call->arena, len > 0 ? len : 1);
	if (copy == NULL)
		return ob_call_fail(call, OB_ENOMEM,
		                    "the reply does not fit the call's memory budget");
	if (len > 0)
		memcpy(copy, bytes, len);
	call->reply = copy;
	call->reply_len = len;
	return OB_OK;
}

/* The reply of an application write, built once: a replay's stored bytes as
 * they are; the bytes rendered for the key's record; or, without a key, the
 * application, converted here and packed by the dispatch. */
static ob_err app_reply(ob_call *call, const ob_outcome *o, ob_application *a, msg **resp)
{
	if (o->replay != NULL) {
		call->replayed = true;
		return packed_reply(call, o->replay, o->replay_len);
	}
	if (o->rendered != NULL) {
		ob_application_fini(a);
		return packed_reply(call, o->rendered, o->rendered_len);
	}
	Onboard__V1__Application *m = ob_pb_application(&call->arena, a);
	ob_application_fini(a);
	if (m == NULL)
		return OB_ENOMEM;
	*resp = &m->base;
	return OB_OK;
}

static ob_err no_domain(ob_call *call)
{
	call->retry_after_ms = 1000;
	return ob_call_fail(call, OB_EUNAVAIL, "the store is not open");
}

/* ---- handlers ------------------------------------------------------- */

static ob_err submit(ob_call *call, const msg *req, msg **resp)
{
	const Onboard__V1__SubmitApplicationRequest *in = (const void *)req;
	ob_domain *d = domain_of(call);
	if (d == NULL)
		return no_domain(call);
	static const Onboard__V1__Company no_company = ONBOARD__V1__COMPANY__INIT;
	static const Onboard__V1__Address no_address = ONBOARD__V1__ADDRESS__INIT;
	static const Onboard__V1__Contact no_contact = ONBOARD__V1__CONTACT__INIT;
	const Onboard__V1__Company *c = in->company != NULL ? in->company : &no_company;
	const Onboard__V1__Address *ad = c->address != NULL ? c->address : &no_address;
	const Onboard__V1__Contact *ct = in->contact != NULL ? in->contact : &no_contact;
	ob_submission s = {
	        .cohort_id = in->cohort_id,
	        .siren = c->siren,
	        .siret = c->siret,
	        .legal_name = c->legal_name,
	        .trade_name = c->trade_name,
	        .naf = c->naf_code,
	        .vat = c->vat_number,
	        .employees = c->employees,
	        .turnover_eur = c->turnover_eur,
	        .balance_eur = c->balance_sheet_eur,
	        .street = ad->street,
	        .postal_code = ad->postal_code,
	        .city = ad->city,
	        .contact_name = ct->name,
	        .email = ct->email,
	        .phone = ct->phone,
	        .channel = (int)in->channel,
	        .exports = in->intends_to_export,
	        .categories = (const char *const *)in->product_categories,
	        .n_categories = in->n_product_categories,
	        .accepts_terms = in->accepts_terms,
	};
	ob_idempotency idem;
	ob_err err = idempotency(call, &idem);
	if (err != OB_OK)
		return err;
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application a;
	ob_caller who = ob_rpc_caller(call);
	err = ob_domain_submit(d, &who, &s, &idem, &a, &o);
	if (err == OB_OK)
		err = app_reply(call, &o, &a, resp);
	else
		err = ob_rpc_report(call, err, &o);
	ob_outcome_fini(&o);
	return err;
}

static ob_err get(ob_call *call, const msg *req, msg **resp)
{
	const Onboard__V1__GetApplicationRequest *in = (const void *)req;
	ob_domain *d = domain_of(call);
	if (d == NULL)
		return no_domain(call);
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application a = {0};
	ob_caller who = ob_rpc_caller(call);
	ob_err err = ob_domain_get(d, &who, in->id, in->cohort_id, in->siren, &a, &o);
	if (err == OB_OK)
		err = app_reply(call, &o, &a, resp);
	else
		err = ob_rpc_report(call, err, &o);
	ob_outcome_fini(&o);
	return err;
}

/* A page token: the last seq returned and a hash of the filters it belongs
 * to (AIP-158: a token is valid only with the same request). Opaque to callers. */
typedef struct {
	int64_t after_seq;
	uint8_t filters[8];
} page_token;

static void filters_hash(ob_arena *ar, const Onboard__V1__ListApplicationsRequest *in,
                         uint8_t out[8])
{
	Onboard__V1__ListApplicationsRequest copy = *in;
	copy.page_token = (char *)"";
	copy.page_size = 0;
	size_t n = onboard__v1__list_applications_request__get_packed_size(&copy);
	uint8_t *buf = ob_arena_alloc(ar, n > 0 ? n : 1);
	if (buf == NULL) {
		memset(out, 0xFF, 8); /* no memory: a hash no token carries */
		return;
	}
	onboard__v1__list_applications_request__pack(&copy, buf);
	crypto_generichash(out, 8, buf, n, NULL, 0);
}

static ob_err list(ob_call *call, const msg *req, msg **resp)
{
	const Onboard__V1__ListApplicationsRequest *in = (const void *)req;
	ob_domain *d = domain_of(call);
	if (d == NULL)
		return no_domain(call);
	ob_app_filter f = {0};
	if (in->cohort_id[0] != '\0')
		f.cohort_id = in->cohort_id;
	for (size_t i = 0; i < in->n_states; i++) {
		if (in->states[i] <= 0 || (int)in->states[i] >= OB_STATE_COUNT)
			ob_call_violation(call, "states", "UNSPECIFIED is not a state");
		else
			f.states |= 1u << in->states[i];
	}
	f.size = (ob_size_category)in->size_category;
	if (in->departement[0] != '\0')
		f.departement = in->departement;
	if (in->region[0] != '\0')
		f.region = in->region;
	f.channel = (ob_channel)in->channel;
	if (in->submitted_after[0] != '\0' &&
	    !ob_time_parse_rfc3339(in->submitted_after, &f.submitted_from_ms))
		ob_call_violation(call, "submitted_after", "must be an RFC 3339 time or a date");
	if (in->submitted_before[0] != '\0' &&
	    !ob_time_parse_rfc3339(in->submitted_before, &f.submitted_to_ms))
		ob_call_violation(call, "submitted_before", "must be an RFC 3339 time or a date");
	/* A larger page_size is brought down to OB_MAX_PAGE_SIZE (AIP-158), by the domain. */
	page_token tok = {0};
	uint8_t want[8];
	filters_hash(&call->arena, in, want);
	if (in->page_token[0] != '\0') {
		size_t n = 0;
		if (sodium_base642bin((unsigned char *)&tok, sizeof(tok), in->page_token,
		                      strlen(in->page_token), NULL, &n, NULL,
		                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
		    n != sizeof(tok) || tok.after_seq < 0)
			ob_call_violation(call, "page_token", "is not a token this server made");
		else if (sodium_memcmp(tok.filters, want, sizeof(want)) != 0)
			ob_call_violation(call, "page_token",
			                  "belongs to a request with other filters");
	}
	if (call->n_violations > 0)
		return ob_call_fail(call, OB_EINVAL, "invalid list request");

	ob_outcome o;
	ob_outcome_init(&o);
	ob_application *apps = NULL;
	size_t n = 0;
	bool more = false;
	ob_caller who = ob_rpc_caller(call);
	ob_err err =
	        ob_domain_list(d, &who, &f, tok.after_seq, in->page_size, &apps, &n, &more, &o);
	if (err != OB_OK) {
		err = ob_rpc_report(call, err, &o);
		ob_outcome_fini(&o);
		return err;
	}
	Onboard__V1__ListApplicationsResponse *m = ob_arena_message(
	        &call->arena, &onboard__v1__list_applications_response__descriptor);
	if (m == NULL || (n > 0 && (m->applications = ob_arena_alloc(
	                                    &call->arena, n * sizeof(*m->applications))) == NULL)) {
		free(apps);
		return OB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		Onboard__V1__Application *am = ob_pb_application(&call->arena, &apps[i]);
		if (am == NULL) {
			free(apps);
			return ob_call_fail(call, OB_ENOMEM,
			                    "the page is too large; ask for fewer");
		}
		m->applications[m->n_applications++] = am;
	}
	if (more) {
		page_token next = {.after_seq = apps[n - 1].seq};
		memcpy(next.filters, want, sizeof(want));
		char *t = ob_arena_alloc(&call->arena, 64);
		if (t == NULL) {
			free(apps);
			return OB_ENOMEM;
		}
		sodium_bin2base64(t, 64, (const unsigned char *)&next, sizeof(next),
		                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		m->next_page_token = t;
	}
	free(apps);
	*resp = &m->base;
	return OB_OK;
}

/* What review and withdrawal do before the domain call: the store, the
 * idempotency key. */
static ob_err app_write_begin(ob_call *call, ob_domain **d, ob_idempotency *idem)
{
	if ((*d = domain_of(call)) == NULL)
		return no_domain(call);
	return idempotency(call, idem);
}

/* ...and after it: the application (or the stored reply), or the error. */
static ob_err app_write_end(ob_call *call, ob_err err, ob_outcome *o, ob_application *a, msg **resp)
{
	if (err == OB_OK)
		err = app_reply(call, o, a, resp);
	else
		err = ob_rpc_report(call, err, o);
	ob_outcome_fini(o);
	return err;
}

static ob_err review(ob_call *call, const msg *req, msg **resp)
{
	const Onboard__V1__ReviewApplicationRequest *in = (const void *)req;
	ob_domain *d;
	ob_idempotency idem;
	ob_err err = app_write_begin(call, &d, &idem);
	if (err != OB_OK)
		return err;
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application a;
	ob_caller who = ob_rpc_caller(call);
	err = ob_domain_review(d, &who, in->id, (ob_action)in->action, in->expected_version,
	                       (ob_rejection)in->rejection_reason, in->note, &idem, &a, &o);
	return app_write_end(call, err, &o, &a, resp);
}

static ob_err withdraw(ob_call *call, const msg *req, msg **resp)
{
	const Onboard__V1__WithdrawApplicationRequest *in = (const void *)req;
	ob_domain *d;
	ob_idempotency idem;
	ob_err err = app_write_begin(call, &d, &idem);
	if (err != OB_OK)
		return err;
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application a;
	ob_caller who = ob_rpc_caller(call);
	err = ob_domain_withdraw(d, &who, in->id, in->expected_version, in->reason, &idem, &a, &o);
	return app_write_end(call, err, &o, &a, resp);
}

static ob_err standing_reply(ob_call *call, ob_err err, ob_standing *st, ob_outcome *o, msg **resp)
{
	if (err != OB_OK)
		return ob_rpc_report(call, err, o);
	Onboard__V1__CohortStanding *m = standing_to_pb(&call->arena, st);
	ob_standing_fini(st);
	if (m == NULL)
		return OB_ENOMEM;
	*resp = &m->base;
	return OB_OK;
}

static ob_err get_cohort(ob_call *call, const msg *req, msg **resp)
{
	const Onboard__V1__GetCohortRequest *in = (const void *)req;
	ob_domain *d = domain_of(call);
	if (d == NULL)
		return no_domain(call);
	ob_outcome o;
	ob_outcome_init(&o);
	ob_standing st;
	ob_err err = ob_domain_standing(d, in->id, &st, &o);
	return standing_reply(call, err, &st, &o, resp);
}

static ob_err list_cohorts(ob_call *call, const msg *req, msg **resp)
{
	(void)req;
	ob_domain *d = domain_of(call);
	if (d == NULL)
		return no_domain(call);
	enum { MAX = 256 };
	ob_cohort *cs = ob_arena_alloc(&call->arena, MAX * sizeof(*cs));
	size_t n = 0;
	Onboard__V1__ListCohortsResponse *m =
	        ob_arena_message(&call->arena, &onboard__v1__list_cohorts_response__descriptor);
	if (cs == NULL || m == NULL)
		return OB_ENOMEM;
	ob_err err = ob_domain_cohorts(d, cs, MAX, &n);
	if (err != OB_OK)
		return ob_call_fail(call, err, "cannot list the cohorts: %s", ob_strerror(err));
	if ((m->cohorts = ob_arena_alloc(&call->arena, (n + 1) * sizeof(*m->cohorts))) == NULL)
		return OB_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((m->cohorts[m->n_cohorts++] = cohort_to_pb(&call->arena, &cs[i])) == NULL)
			return OB_ENOMEM;
	*resp = &m->base;
	return OB_OK;
}

static bool copy_field(ob_call *call, const char *field, const char *in, char *out, size_t n)
{
	if (strlen(in) >= n) {
		ob_call_violation(call, field, "is longer than %zu bytes", n - 1);
		return false;
	}
	memcpy(out, in, strlen(in) + 1);
	return true;
}

static ob_err create_cohort(ob_call *call, const msg *req, msg **resp)
{
	const Onboard__V1__CreateCohortRequest *in = (const void *)req;
	ob_domain *d = domain_of(call);
	if (d == NULL)
		return no_domain(call);
	if (in->cohort == NULL) {
		ob_call_violation(call, "cohort", "is required");
		return ob_call_fail(call, OB_EINVAL, "no cohort given");
	}
	const Onboard__V1__Cohort *m = in->cohort;
	ob_cohort c = {0};
	copy_field(call, "cohort.id", m->id, c.id, sizeof(c.id));
	copy_field(call, "cohort.name", m->name, c.name, sizeof(c.name));
	copy_field(call, "cohort.lockdown_start", m->lockdown_start, c.lockdown_start,
	           sizeof(c.lockdown_start));
	copy_field(call, "cohort.lockdown_end", m->lockdown_end, c.lockdown_end,
	           sizeof(c.lockdown_end));
	copy_field(call, "cohort.fee_waiver_until", m->fee_waiver_until, c.fee_waiver_until,
	           sizeof(c.fee_waiver_until));
	if (m->window_opens[0] != '\0' &&
	    !ob_time_parse_rfc3339(m->window_opens, &c.window_opens_ms))
		ob_call_violation(call, "cohort.window_opens", "must be an RFC 3339 time");
	if (m->window_closes[0] != '\0' &&
	    !ob_time_parse_rfc3339(m->window_closes, &c.window_closes_ms))
		ob_call_violation(call, "cohort.window_closes", "must be an RFC 3339 time");
	c.capacity = m->capacity;
	c.window_enforced = m->window_enforced;
	c.monthly_fee_cents = m->monthly_fee_cents;
	c.ad_credit_cents = m->ad_credit_cents;
	c.webinar_hour = m->webinar_hour;
	c.webinar_minute = m->webinar_minute;
	c.webinar_seats = m->webinar_seats;
	c.advisor_pool = m->advisor_pool;
	for (size_t i = 0; i < m->n_eligible_sizes; i++)
		c.eligible_sizes |= 1u << m->eligible_sizes[i];
	if (call->n_violations > 0)
		return ob_call_fail(call, OB_EINVAL, "invalid cohort");
	ob_outcome o;
	ob_outcome_init(&o);
	ob_cohort out;
	ob_err err = ob_domain_cohort_create(d, &c, &out, &o);
	if (err != OB_OK)
		return ob_rpc_report(call, err, &o);
	Onboard__V1__Cohort *r = cohort_to_pb(&call->arena, &out);
	if (r == NULL)
		return OB_ENOMEM;
	*resp = &r->base;
	return OB_OK;
}

static ob_err set_capacity(ob_call *call, const msg *req, msg **resp)
{
	const Onboard__V1__SetCohortCapacityRequest *in = (const void *)req;
	ob_domain *d = domain_of(call);
	if (d == NULL)
		return no_domain(call);
	ob_outcome o;
	ob_outcome_init(&o);
	ob_standing st;
	ob_caller who = ob_rpc_caller(call);
	ob_err err = ob_domain_set_capacity(d, &who, in->id, in->capacity, &st, &o);
	return standing_reply(call, err, &st, &o, resp);
}

ob_err ob_onboarding_register(ob_dispatch *d)
{
	const ProtobufCServiceDescriptor *sd = &onboard__v1__onboarding__descriptor;
	static const struct {
		const char *name;
		ob_handler_fn fn;
	} methods[] = {
	        {"SubmitApplication", submit},       {"GetApplication", get},
	        {"ListApplications", list},          {"ReviewApplication", review},
	        {"WithdrawApplication", withdraw},   {"GetCohort", get_cohort},
	        {"ListCohorts", list_cohorts},       {"CreateCohort", create_cohort},
	        {"SetCohortCapacity", set_capacity},
	};
	ob_err err = ob_dispatch_add_service(d, sd);
	for (size_t i = 0; err == OB_OK && i < sizeof(methods) / sizeof(methods[0]); i++)
		err = ob_dispatch_register(d, sd, methods[i].name, methods[i].fn, 0);
	return err;
}
