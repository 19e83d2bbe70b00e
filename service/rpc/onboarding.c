/*
 * onboard.v1.Onboarding: converts messages to domain structs and back, and
 * calls the domain. No rule of the programme is decided here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "base/time.h"
#include "domain/domain.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "rpc/convert.h"
#include "rpc/handlers.h"
#include "rpc/op.h"

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
_Static_assert((int)ONBOARD__V1__WEBINAR_TOPIC__WEBINAR_TOPIC_OWN_WEBSHOP ==
                       (int)OB_TOPIC_OWN_WEBSHOP,
               "WebinarTopic numbering");
_Static_assert((int)ONBOARD__V1__SIZE_CATEGORY__SIZE_CATEGORY_GE == (int)OB_SIZE_GE,
               "SizeCategory numbering");
_Static_assert((int)ONBOARD__V1__LEGAL_FORM__LEGAL_FORM_OTHER == (int)OB_LEGAL_OTHER &&
                       (int)ONBOARD__V1__LEGAL_FORM__LEGAL_FORM_MICRO_ENTREPRENEUR ==
                               (int)OB_LEGAL_MICRO,
               "LegalForm numbering");

typedef ProtobufCMessage msg;

/* A cohort's fields on the wire, each named once for both directions: text
 * (copied into the domain's fixed buffers, refused when longer), times
 * (RFC 3339 on the wire, milliseconds in the domain: FIELD_ms) and numbers.
 * clang-format cannot see that these expand to statements: laid out by hand. */
// clang-format off
#define COHORT_FIELDS(TEXT, TIME, NUMBER)                                       \
	TEXT(id) TEXT(name) TEXT(lockdown_start) TEXT(lockdown_end)              \
	TEXT(fee_waiver_until) TEXT(milestone_date) TEXT(terms_version)          \
	TIME(window_opens) TIME(window_closes)                                   \
	TIME(approval_opens) TIME(approval_closes)                               \
	NUMBER(capacity) NUMBER(window_enforced) NUMBER(monthly_fee_cents)       \
	NUMBER(ad_credit_cents) NUMBER(webinar_hour) NUMBER(webinar_minute)      \
	NUMBER(webinar_seats) NUMBER(advisor_pool) NUMBER(webinar_lead_minutes)  \
	NUMBER(webinar_weekends) NUMBER(webinar_holidays)
#define TO_PB_TEXT(f)   m->f = ob_pb_str(ar, c->f);
#define TO_PB_TIME(f)   m->f = ob_pb_time(ar, c->f##_ms);
#define TO_PB_NUMBER(f) m->f = c->f;
#define FROM_PB_TEXT(f) copy_field(call, "cohort." #f, m->f, c->f, sizeof(c->f));
#define FROM_PB_TIME(f)                                                         \
	if (m->f[0] != '\0' && !ob_time_parse_rfc3339(m->f, &c->f##_ms))       \
		ob_call_violation(call, "cohort." #f, "must be an RFC 3339 time");
#define FROM_PB_NUMBER(f) c->f = m->f;
// clang-format on

static Onboard__V1__Cohort *cohort_to_pb(ob_arena *ar, const ob_cohort *c)
{
	Onboard__V1__Cohort *m = ob_arena_message(ar, &onboard__v1__cohort__descriptor);
	if (m == NULL || (m->eligible_sizes = ob_arena_alloc(ar, 4 * sizeof(int))) == NULL ||
	    (m->excluded_naf_divisions = ob_arena_alloc(ar, OB_NAF_DIVISIONS * sizeof(uint32_t))) ==
	            NULL)
		return NULL;
	COHORT_FIELDS(TO_PB_TEXT, TO_PB_TIME, TO_PB_NUMBER)
	for (int s = OB_SIZE_TPE; s <= OB_SIZE_GE; s++)
		if (c->eligible_sizes & (1u << s))
			m->eligible_sizes[m->n_eligible_sizes++] = (Onboard__V1__SizeCategory)s;
	for (unsigned d = 0; d < OB_NAF_DIVISIONS; d++)
		if (ob_naf_divisions_has(&c->excluded_naf, d))
			m->excluded_naf_divisions[m->n_excluded_naf_divisions++] = d;
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
	m->live_applications = st->live;
	m->onboarded = st->onboarded;
	m->onboarded_exporters = st->onboarded_exporters;
	m->live_before_milestone = st->live_before_milestone;
	/* The programme's figure: the onboarded sellers' (domain.h, ob_standing). */
	m->export_share = st->onboarded > 0 ? (double)st->onboarded_exporters / st->onboarded : 0.0;
	Onboard__V1__BenefitTotals *b =
	        ob_arena_message(ar, &onboard__v1__benefit_totals__descriptor);
	if (b == NULL)
		return NULL;
	b->granted = st->benefits_granted;
	b->fee_waived_cents = st->fee_waived_cents;
	b->ad_credit_granted_cents = st->ad_credit_granted_cents;
	b->ad_credit_used_cents = st->ad_credit_used_cents;
	m->benefits = b;
	if (!counts(ar, st, "state:", &m->by_state, &m->n_by_state) ||
	    !counts(ar, st, "dept:", &m->by_departement, &m->n_by_departement) ||
	    !counts(ar, st, "naf:", &m->by_naf_section, &m->n_by_naf_section) ||
	    !counts(ar, st, "region_state:", &m->by_region_state, &m->n_by_region_state) ||
	    !counts(ar, st, "size:", &m->by_size, &m->n_by_size) ||
	    !counts(ar, st, "region:", &m->by_region, &m->n_by_region) ||
	    !counts(ar, st, "channel:", &m->by_channel, &m->n_by_channel) ||
	    !counts(ar, st, "day:", &m->submissions_per_day, &m->n_submissions_per_day))
		return NULL;
	return m;
}

/* ---- handlers (op.h: the frame around each) ------------------------ */

static ob_err submit(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__SubmitApplicationRequest *in = (const void *)req;
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
	        .legal_form = (int)c->legal_form,
	        .has_employees =
	                c->employees_given_case == ONBOARD__V1__COMPANY__EMPLOYEES_GIVEN_EMPLOYEES,
	        .has_turnover =
	                c->turnover_given_case == ONBOARD__V1__COMPANY__TURNOVER_GIVEN_TURNOVER_EUR,
	        .has_balance = c->balance_sheet_given_case ==
	                       ONBOARD__V1__COMPANY__BALANCE_SHEET_GIVEN_BALANCE_SHEET_EUR,
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
	        .terms_version = in->terms_version,
	        .terms_accepted_at = in->terms_accepted_at,
	};
	ob_application a;
	ob_err err = ob_domain_submit(op->domain, &op->who, &s, &op->idem, &a, &op->outcome);
	return ob_op_reply_application(op, err, &a, resp);
}

static ob_err get(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__GetApplicationRequest *in = (const void *)req;
	/* In the call's arena, which lives until the reply is packed, so that the
	 * reply borrows its strings rather than copying each (a read is never
	 * replayed: ob_op_reply_application's other cases do not arise). Not
	 * zeroed: the store fills all of it on OB_OK, and nothing reads it else. */
	ob_application *a = ob_arena_alloc(&op->call->arena, sizeof(*a));
	if (a == NULL)
		return OB_ENOMEM;
	ob_err err = ob_domain_get(op->domain, &op->who, in->id, in->cohort_id, in->siren, a,
	                           &op->outcome);
	if (err != OB_OK)
		return err;
	Onboard__V1__Application *m = ob_pb_application_borrowing(&op->call->arena, a);
	ob_application_fini(a); /* the history, which was copied */
	return ob_op_reply(m != NULL ? &m->base : NULL, resp);
}

/* A list request's page token is bound to a hash of its filters (AIP-158: a
 * token is valid only with the same request). */
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

/* An optional RFC 3339 time (or date) of a request into *ms; a violation of
 * field when it is not one. */
static void read_time(ob_call *call, const char *field, const char *s, int64_t *ms)
{
	if (s[0] != '\0' && !ob_time_parse_rfc3339(s, ms))
		ob_call_violation(call, field, "must be an RFC 3339 time or a date");
}

/* The filter of a list request, checked: its violations go onto call. */
static void list_filter(ob_call *call, const Onboard__V1__ListApplicationsRequest *in,
                        ob_app_filter *f)
{
	if (in->cohort_id[0] != '\0')
		f->cohort_id = in->cohort_id;
	for (size_t i = 0; i < in->n_states; i++) {
		if (in->states[i] <= 0 || (int)in->states[i] >= OB_STATE_COUNT)
			ob_call_violation(call, "states", "UNSPECIFIED is not a state");
		else
			f->states |= 1u << in->states[i];
	}
	f->size = (ob_size_category)in->size_category;
	if (in->departement[0] != '\0')
		f->departement = in->departement;
	if (in->region[0] != '\0')
		f->region = in->region;
	f->channel = (ob_channel)in->channel;
	read_time(call, "submitted_after", in->submitted_after, &f->submitted_from_ms);
	read_time(call, "submitted_before", in->submitted_before, &f->submitted_to_ms);
}

static ob_err list(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__ListApplicationsRequest *in = (const void *)req;
	ob_call *call = op->call;
	ob_app_filter f = {0};
	list_filter(call, in, &f);
	/* A larger page_size is brought down to OB_MAX_PAGE_SIZE (AIP-158), by the domain. */
	uint8_t filters[8];
	int64_t after = 0;
	filters_hash(&call->arena, in, filters);
	ob_rpc_read_page_token(call, in->page_token, filters, sizeof(filters), &after);
	if (call->n_violations > 0)
		return ob_call_fail(call, OB_EINVAL, "invalid list request");

	ob_application *apps = NULL;
	size_t n = 0;
	bool more = false;
	ob_err err = ob_domain_list(op->domain, &op->who, &f, after, in->page_size, &apps, &n,
	                            &more, &op->outcome);
	if (err != OB_OK)
		return err;
	Onboard__V1__ListApplicationsResponse *m = ob_arena_message(
	        &call->arena, &onboard__v1__list_applications_response__descriptor);
	if (m == NULL ||
	    !ob_pb_applications(&call->arena, apps, n, &m->applications, &m->n_applications))
		err = ob_call_fail(call, OB_ENOMEM, "the page is too large; ask for fewer");
	else if (more && (m->next_page_token = ob_pb_page_token(&call->arena, apps[n - 1].seq,
	                                                        filters, sizeof(filters))) == NULL)
		err = OB_ENOMEM;
	else
		*resp = &m->base;
	free(apps);
	return err;
}

static ob_err review(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__ReviewApplicationRequest *in = (const void *)req;
	ob_application a;
	ob_err err = ob_domain_review(op->domain, &op->who, in->id, (ob_action)in->action,
	                              in->expected_version, (ob_rejection)in->rejection_reason,
	                              in->note, &op->idem, &a, &op->outcome);
	return ob_op_reply_application(op, err, &a, resp);
}

static ob_err withdraw(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__WithdrawApplicationRequest *in = (const void *)req;
	ob_application a;
	ob_err err = ob_domain_withdraw(op->domain, &op->who, in->id, in->expected_version,
	                                in->reason, &op->idem, &a, &op->outcome);
	return ob_op_reply_application(op, err, &a, resp);
}

static ob_err record_ad_spend(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__RecordAdSpendRequest *in = (const void *)req;
	ob_application a;
	ob_err err = ob_domain_spend_ad_credit(op->domain, &op->who, in->id, in->amount_cents,
	                                       in->reference, &op->idem, &a, &op->outcome);
	return ob_op_reply_application(op, err, &a, resp);
}

/* ---- webinars ---- */

static ob_err book_webinar(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__BookWebinarRequest *in = (const void *)req;
	int64_t at = 0; /* none given: the next session; -1: not a time (the domain says so) */
	if (in->session_at[0] != '\0' && !ob_time_parse_rfc3339(in->session_at, &at))
		at = -1;
	ob_application a;
	ob_err err = ob_domain_book_webinar(op->domain, &op->who, in->id, (ob_topic)in->topic, at,
	                                    &op->idem, &a, &op->outcome);
	return ob_op_reply_application(op, err, &a, resp);
}

static ob_err cancel_webinar(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__CancelWebinarRequest *in = (const void *)req;
	ob_application a;
	ob_err err =
	        ob_domain_cancel_webinar(op->domain, &op->who, in->id, &op->idem, &a, &op->outcome);
	return ob_op_reply_application(op, err, &a, resp);
}

static ob_err record_attendance(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__RecordWebinarAttendanceRequest *in = (const void *)req;
	ob_application a;
	ob_err err = ob_domain_record_attendance(op->domain, &op->who, in->id, in->attended,
	                                         &op->idem, &a, &op->outcome);
	return ob_op_reply_application(op, err, &a, resp);
}

static ob_err list_sessions(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__ListWebinarSessionsRequest *in = (const void *)req;
	ob_arena *ar = &op->call->arena;
	ob_session *ss = NULL;
	size_t n = 0;
	ob_err err = ob_domain_webinar_sessions(op->domain, in->cohort_id, in->from, in->to,
	                                        (ob_topic)in->topic, &ss, &n, &op->outcome);
	if (err != OB_OK)
		return err;
	Onboard__V1__ListWebinarSessionsResponse *m =
	        ob_arena_message(ar, &onboard__v1__list_webinar_sessions_response__descriptor);
	if (m != NULL && n > 0 &&
	    (m->sessions = ob_arena_alloc(ar, n * sizeof(*m->sessions))) == NULL)
		m = NULL;
	for (size_t i = 0; m != NULL && i < n; i++) {
		Onboard__V1__WebinarSession *s =
		        ob_arena_message(ar, &onboard__v1__webinar_session__descriptor);
		if (s == NULL) {
			m = NULL;
			break;
		}
		s->at = ob_pb_time(ar, ss[i].at_ms);
		s->topic = (Onboard__V1__WebinarTopic)ss[i].topic;
		s->seats = ss[i].seats;
		s->booked = ss[i].booked;
		s->seats_left = ss[i].booked < ss[i].seats ? ss[i].seats - ss[i].booked : 0;
		m->sessions[m->n_sessions++] = s;
	}
	free(ss);
	return ob_op_reply(m != NULL ? &m->base : NULL, resp);
}

/* ---- advisors ---- */

static Onboard__V1__Advisor *advisor_to_pb(ob_arena *ar, const ob_advisor *a)
{
	Onboard__V1__Advisor *m = ob_arena_message(ar, &onboard__v1__advisor__descriptor);
	if (m == NULL)
		return NULL;
	m->cohort_id = ob_pb_str(ar, a->cohort_id);
	m->number = a->number;
	m->name = ob_pb_str(ar, a->name);
	m->region = ob_pb_str(ar, a->region);
	m->capacity = a->capacity;
	m->load = a->load;
	m->active = a->active;
	/* "fr,en": at most OB_MAX_ADVISOR_LANGUAGES codes of two letters. */
	size_t len = strlen(a->languages);
	if (len > 0 && (m->languages = ob_arena_alloc(ar, (len / 3 + 1) * sizeof(char *))) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		char *code = ob_arena_alloc(ar, 3);
		if (code == NULL)
			return NULL;
		memcpy(code, a->languages + i, 2);
		code[2] = '\0';
		m->languages[m->n_languages++] = code;
	}
	return m;
}

/* Renders the reply stored with an advisor write's idempotency key. */
static ob_err render_advisor(void *ctx, const void *reply, uint8_t **out, size_t *len)
{
	Onboard__V1__Advisor *m = advisor_to_pb(ctx, reply);
	return ob_op_render(m != NULL ? &m->base : NULL, out, len);
}

/* The reply of a write that returns an advisor: as stored under its key, or built. */
static ob_err advisor_reply(ob_op *op, ob_err err, const ob_advisor *a, msg **resp)
{
	if (err != OB_OK || ob_op_reply_packed(op, &err))
		return err;
	Onboard__V1__Advisor *m = advisor_to_pb(&op->call->arena, a);
	return ob_op_reply(m != NULL ? &m->base : NULL, resp);
}

/* An advisor write's key renders an Advisor, not an Application. */
static void advisor_write(ob_op *op)
{
	if (op->idem.key != NULL)
		op->idem.render = render_advisor;
}

static ob_err add_advisor(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__AddAdvisorRequest *in = (const void *)req;
	advisor_write(op);
	ob_advisor a;
	ob_err err = ob_domain_advisor_add(op->domain, in->cohort_id, in->name, in->region,
	                                   (const char *const *)in->languages, in->n_languages,
	                                   in->capacity, &op->idem, &a, &op->outcome);
	return advisor_reply(op, err, &a, resp);
}

static ob_err update_advisor(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__UpdateAdvisorRequest *in = (const void *)req;
	int active = -1;
	if (in->activity == ONBOARD__V1__ADVISOR_ACTIVITY__ADVISOR_ACTIVITY_ACTIVE)
		active = 1;
	else if (in->activity == ONBOARD__V1__ADVISOR_ACTIVITY__ADVISOR_ACTIVITY_INACTIVE)
		active = 0;
	else if (in->activity != ONBOARD__V1__ADVISOR_ACTIVITY__ADVISOR_ACTIVITY_UNCHANGED) {
		ob_call_violation(op->call, "activity", "must be UNCHANGED, ACTIVE or INACTIVE");
		return ob_call_fail(op->call, OB_EINVAL, "invalid advisor update");
	}
	advisor_write(op);
	ob_advisor a;
	ob_err err = ob_domain_advisor_update(op->domain, in->cohort_id, in->number, in->capacity,
	                                      active, &op->idem, &a, &op->outcome);
	return advisor_reply(op, err, &a, resp);
}

static ob_err list_advisors(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__ListAdvisorsRequest *in = (const void *)req;
	ob_arena *ar = &op->call->arena;
	ob_advisor *list = NULL;
	size_t n = 0;
	ob_err err = ob_domain_advisors(op->domain, in->cohort_id, &list, &n, &op->outcome);
	if (err != OB_OK)
		return err;
	Onboard__V1__ListAdvisorsResponse *m =
	        ob_arena_message(ar, &onboard__v1__list_advisors_response__descriptor);
	if (m != NULL && n > 0 &&
	    (m->advisors = ob_arena_alloc(ar, n * sizeof(*m->advisors))) == NULL)
		m = NULL;
	for (size_t i = 0; m != NULL && i < n; i++)
		if ((m->advisors[m->n_advisors++] = advisor_to_pb(ar, &list[i])) == NULL)
			m = NULL;
	free(list);
	return ob_op_reply(m != NULL ? &m->base : NULL, resp);
}

static ob_err reassign_advisor(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__ReassignAdvisorRequest *in = (const void *)req;
	ob_application a;
	ob_err err = ob_domain_reassign_advisor(op->domain, &op->who, in->id, in->advisor, in->note,
	                                        &op->idem, &a, &op->outcome);
	return ob_op_reply_application(op, err, &a, resp);
}

/* The reply of a call that returns a cohort's standing. */
static ob_err standing_reply(ob_op *op, ob_err err, ob_standing *st, msg **resp)
{
	if (err != OB_OK)
		return err;
	Onboard__V1__CohortStanding *m = standing_to_pb(&op->call->arena, st);
	ob_standing_fini(st);
	return ob_op_reply(m != NULL ? &m->base : NULL, resp);
}

static ob_err get_cohort(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__GetCohortRequest *in = (const void *)req;
	ob_standing st;
	ob_err err = ob_domain_standing(op->domain, in->id, &st, &op->outcome);
	return standing_reply(op, err, &st, resp);
}

static ob_err set_capacity(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__SetCohortCapacityRequest *in = (const void *)req;
	ob_standing st;
	ob_err err = ob_domain_set_capacity(op->domain, &op->who, in->id, in->capacity, &st,
	                                    &op->outcome);
	return standing_reply(op, err, &st, resp);
}

static ob_err list_cohorts(ob_op *op, const msg *req, msg **resp)
{
	(void)req;
	ob_call *call = op->call;
	enum { MAX = 256 };
	ob_cohort *cs = ob_arena_alloc(&call->arena, MAX * sizeof(*cs));
	size_t n = 0;
	Onboard__V1__ListCohortsResponse *m =
	        ob_arena_message(&call->arena, &onboard__v1__list_cohorts_response__descriptor);
	if (cs == NULL || m == NULL)
		return OB_ENOMEM;
	ob_err err = ob_domain_cohorts(op->domain, cs, MAX, &n);
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

/* A CreateCohort request's cohort, checked: its violations go onto call. */
static void cohort_from_pb(ob_call *call, const Onboard__V1__Cohort *m, ob_cohort *c)
{
	COHORT_FIELDS(FROM_PB_TEXT, FROM_PB_TIME, FROM_PB_NUMBER)
	for (size_t i = 0; i < m->n_eligible_sizes; i++)
		c->eligible_sizes |= 1u << m->eligible_sizes[i];
	/* The set holds 0..99: what is not a division number at all is refused
	 * here; which numbers NAF has is the domain's to say. */
	for (size_t i = 0; i < m->n_excluded_naf_divisions; i++) {
		uint32_t d = m->excluded_naf_divisions[i];
		if (d < 1 || d >= OB_NAF_DIVISIONS)
			ob_call_violation(call, "cohort.excluded_naf_divisions",
			                  "%u is not a NAF division (01 to 99)", d);
		else
			ob_naf_divisions_add(&c->excluded_naf, d);
	}
}

static ob_err create_cohort(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__CreateCohortRequest *in = (const void *)req;
	ob_call *call = op->call;
	if (in->cohort == NULL) {
		ob_call_violation(call, "cohort", "is required");
		return ob_call_fail(call, OB_EINVAL, "no cohort given");
	}
	ob_cohort c = {0};
	cohort_from_pb(call, in->cohort, &c);
	if (call->n_violations > 0)
		return ob_call_fail(call, OB_EINVAL, "invalid cohort");
	ob_cohort out;
	ob_err err = ob_domain_cohort_create(op->domain, &c, &out, &op->outcome);
	if (err != OB_OK)
		return err;
	Onboard__V1__Cohort *r = cohort_to_pb(&call->arena, &out);
	if (r == NULL)
		return OB_ENOMEM;
	*resp = &r->base;
	return OB_OK;
}

/* The service: a method is a row here and one in rpc/authz.c's table. */
static const ob_op_method methods[] = {
        {"SubmitApplication", submit, OB_OP_WRITE},
        {"GetApplication", get, 0},
        {"ListApplications", list, 0},
        {"ReviewApplication", review, OB_OP_WRITE},
        {"WithdrawApplication", withdraw, OB_OP_WRITE},
        {"GetCohort", get_cohort, 0},
        {"ListCohorts", list_cohorts, 0},
        {"CreateCohort", create_cohort, 0},
        {"SetCohortCapacity", set_capacity, 0},
        {"RecordAdSpend", record_ad_spend, OB_OP_WRITE},
        {"BookWebinar", book_webinar, OB_OP_WRITE},
        {"CancelWebinar", cancel_webinar, OB_OP_WRITE},
        {"RecordWebinarAttendance", record_attendance, OB_OP_WRITE},
        {"ListWebinarSessions", list_sessions, 0},
        {"AddAdvisor", add_advisor, OB_OP_WRITE},
        {"ListAdvisors", list_advisors, 0},
        {"UpdateAdvisor", update_advisor, OB_OP_WRITE},
        {"ReassignAdvisor", reassign_advisor, OB_OP_WRITE},
};

ob_err ob_onboarding_register(ob_dispatch *d)
{
	return ob_op_add_service(d, &onboard__v1__onboarding__descriptor, methods,
	                         sizeof(methods) / sizeof(methods[0]));
}
