/*
 * Domain structs to messages, for every service's handlers (convert.h).
 */
#include <string.h>

#include <sodium.h>

#include "base/time.h"
#include "rpc/convert.h"
#include "base64.h"

char *ob_pb_time(ob_arena *a, int64_t ms)
{
	if (ms == 0)
		return (char *)"";
	char *p = ob_arena_alloc(a, OB_RFC3339_STR_SIZE); /* formatted in place, not copied */
	if (p == NULL)
		return (char *)""; /* never NULL: protobuf-c would pack it */
	ob_time_format_rfc3339(ms, p);
	return p;
}

char *ob_pb_str(ob_arena *a, const char *s)
{
	char *p = s[0] == '\0' ? (char *)"" : ob_arena_strdup(a, s);
	/* The arena's budget is spent: it is marked exhausted, so the message
	 * is thrown away (ob_pb_application, the dispatch) rather than sent or
	 * stored with a blank field. */
	return p != NULL ? p : (char *)"";
}

/* ---- domain -> message ---------------------------------------------- */

/* A string of the domain for a message: copied into the arena, or when
 * borrowing the domain's own, which then outlives the message (it is in the
 * same arena: ob_pb_application_borrowing). */
static char *text(ob_arena *ar, const char *s, bool borrow)
{
	return borrow ? (char *)s : ob_pb_str(ar, s);
}

/* The company of a, with its address. */
static Onboard__V1__Company *company_to_pb(ob_arena *ar, const ob_company *co, bool borrow)
{
	Onboard__V1__Company *c = ob_arena_message(ar, &onboard__v1__company__descriptor);
	Onboard__V1__Address *ad = ob_arena_message(ar, &onboard__v1__address__descriptor);
	if (c == NULL || ad == NULL)
		return NULL;
	c->siren = text(ar, co->siren, borrow);
	c->siret = text(ar, co->siret, borrow);
	c->legal_name = text(ar, co->legal_name, borrow);
	c->trade_name = text(ar, co->trade_name, borrow);
	c->naf_code = text(ar, co->naf, borrow);
	c->vat_number = text(ar, co->vat, borrow);
	c->legal_form = (Onboard__V1__LegalForm)co->legal_form;
	/* Each figure in a oneof of its own: given, so shown, 0 included; a
	 * balance sheet only when the company keeps one. */
	c->employees_given_case = ONBOARD__V1__COMPANY__EMPLOYEES_GIVEN_EMPLOYEES;
	c->employees = co->employees;
	c->turnover_given_case = ONBOARD__V1__COMPANY__TURNOVER_GIVEN_TURNOVER_EUR;
	c->turnover_eur = co->turnover_eur;
	if (co->has_balance) {
		c->balance_sheet_given_case =
		        ONBOARD__V1__COMPANY__BALANCE_SHEET_GIVEN_BALANCE_SHEET_EUR;
		c->balance_sheet_eur = co->balance_eur;
	}
	ad->street = text(ar, co->address.street, borrow);
	ad->postal_code = text(ar, co->address.postal_code, borrow);
	ad->city = text(ar, co->address.city, borrow);
	ad->departement = text(ar, co->address.departement, borrow);
	ad->region = text(ar, co->address.region, borrow);
	c->address = ad;
	return c;
}

static Onboard__V1__Benefits *benefits_to_pb(ob_arena *ar, const ob_benefits *b, bool borrow)
{
	Onboard__V1__Benefits *bm = ob_arena_message(ar, &onboard__v1__benefits__descriptor);
	if (bm == NULL)
		return NULL;
	bm->fee_waiver_from = text(ar, b->fee_waiver_from, borrow);
	bm->fee_waiver_until = text(ar, b->fee_waiver_until, borrow);
	bm->fee_waiver_months = b->fee_waiver_months;
	bm->fee_waived_cents = b->fee_waived_cents;
	bm->ad_credit_cents = b->ad_credit_cents;
	bm->ad_credit_used_cents = b->ad_credit_used_cents;
	bm->webinar_at = ob_pb_time(ar, b->webinar_at_ms);
	bm->advisor = b->advisor;
	bm->advisor_name = text(ar, b->advisor_name, borrow);
	bm->revoked = b->revoked;
	bm->revoked_at = ob_pb_time(ar, b->revoked_at_ms);
	bm->note = text(ar, b->note, borrow);
	int64_t left = b->revoked ? 0 : b->ad_credit_cents - b->ad_credit_used_cents;
	bm->ad_credit_left_cents = left > 0 ? left : 0;
	bm->ad_credit_expires = text(ar, b->ad_credit_expires, borrow);
	return bm;
}

static Onboard__V1__WebinarBooking *booking_to_pb(ob_arena *ar, const ob_booking *b)
{
	Onboard__V1__WebinarBooking *m =
	        ob_arena_message(ar, &onboard__v1__webinar_booking__descriptor);
	if (m == NULL)
		return NULL;
	m->session_at = ob_pb_time(ar, b->session_ms);
	m->topic = (Onboard__V1__WebinarTopic)b->topic;
	m->booked_at = ob_pb_time(ar, b->booked_at_ms);
	m->attended = b->attended;
	m->attended_recorded_at = ob_pb_time(ar, b->attended_at_ms);
	return m;
}

/* The history of a into m. */
static bool history_to_pb(ob_arena *ar, const ob_application *a, Onboard__V1__Application *m)
{
	if (a->n_history == 0)
		return true;
	if ((m->history = ob_arena_alloc(ar, a->n_history * sizeof(*m->history))) == NULL)
		return false;
	for (size_t i = 0; i < a->n_history; i++) {
		const ob_state_change *h = &a->history[i];
		Onboard__V1__StateChange *sc =
		        ob_arena_message(ar, &onboard__v1__state_change__descriptor);
		if (sc == NULL)
			return false;
		sc->from = (Onboard__V1__ApplicationState)h->from;
		sc->to = (Onboard__V1__ApplicationState)h->to;
		sc->actor = ob_pb_str(ar, h->actor);
		sc->at = ob_pb_time(ar, h->at_ms);
		/* One string on the wire: "withdrawn: what the seller wrote". */
		sc->reason = h->note[0] == '\0' ? ob_pb_str(ar, h->reason)
		                                : ob_arena_printf(ar, "%s: %s", h->reason, h->note);
		if (sc->reason == NULL)
			return false;
		m->history[m->n_history++] = sc;
	}
	return true;
}

static Onboard__V1__Application *application_to_pb(ob_arena *ar, const ob_application *a,
                                                   bool borrow)
{
	Onboard__V1__Application *m = ob_arena_message(ar, &onboard__v1__application__descriptor);
	Onboard__V1__Contact *ct = ob_arena_message(ar, &onboard__v1__contact__descriptor);
	if (m == NULL || ct == NULL ||
	    (m->company = company_to_pb(ar, &a->company, borrow)) == NULL)
		return NULL;
	m->id = text(ar, a->id, borrow);
	m->cohort_id = text(ar, a->cohort_id, borrow);
	m->state = (Onboard__V1__ApplicationState)a->state;
	m->version = a->version;
	const char *naf_label = ob_fr_naf_label(a->company.naf); /* NULL for a code it lacks */
	m->naf_label = text(ar, naf_label != NULL ? naf_label : "", true); /* a static table's */
	ct->name = text(ar, a->contact.name, borrow);
	ct->email = text(ar, a->contact.email, borrow);
	ct->phone = text(ar, a->contact.phone, borrow);
	m->contact = ct;
	m->channel = (Onboard__V1__Channel)a->channel;
	m->intends_to_export = a->exports;
	if (a->n_categories > 0) {
		m->product_categories = ob_arena_alloc(ar, a->n_categories * sizeof(char *));
		if (m->product_categories == NULL)
			return NULL;
		for (size_t i = 0; i < a->n_categories; i++)
			m->product_categories[m->n_product_categories++] =
			        text(ar, a->categories[i], borrow);
	}
	m->size_category = (Onboard__V1__SizeCategory)a->size;
	m->waitlist_position = a->waitlist_position;
	m->submitted_at = ob_pb_time(ar, a->submitted_at_ms);
	m->updated_at = ob_pb_time(ar, a->updated_at_ms);
	m->rejection_reason = (Onboard__V1__RejectionReason)a->rejection;
	if (a->benefits.granted && (m->benefits = benefits_to_pb(ar, &a->benefits, borrow)) == NULL)
		return NULL;
	if (a->webinar.session_ms != 0 && (m->webinar = booking_to_pb(ar, &a->webinar)) == NULL)
		return NULL;
	if (!history_to_pb(ar, a, m))
		return NULL;
	m->contact_erased = a->contact_erased;
	m->contact_erased_at = ob_pb_time(ar, a->contact_erased_at_ms);
	m->terms_version = text(ar, a->terms_version, borrow);
	m->terms_accepted_at = ob_pb_time(ar, a->terms_accepted_at_ms);
	m->onboarded_at = ob_pb_time(ar, a->onboarded_at_ms);
	/* Not whole (a string could not be copied): never rendered, nor stored for replay. */
	return ar->exhausted ? NULL : m;
}

Onboard__V1__Application *ob_pb_application(ob_arena *ar, const ob_application *a)
{
	return application_to_pb(ar, a, false);
}

Onboard__V1__Application *ob_pb_application_borrowing(ob_arena *ar, const ob_application *a)
{
	return application_to_pb(ar, a, true);
}

Onboard__V1__Application *ob_pb_application_part(ob_arena *ar, const ob_application *a,
                                                 bool decided)
{
	if (!decided) {
		Onboard__V1__Application *m = ob_pb_application(ar, a);
		if (m != NULL) { /* proto3 leaves out what is zero or empty */
			m->state = ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_UNSPECIFIED;
			m->waitlist_position = 0;
			m->terms_version = (char *)"";
			m->history = NULL;
			m->n_history = 0;
		}
		return m;
	}
	Onboard__V1__Application *m = ob_arena_message(ar, &onboard__v1__application__descriptor);
	if (m == NULL)
		return NULL;
	m->state = (Onboard__V1__ApplicationState)a->state;
	m->waitlist_position = a->waitlist_position;
	m->terms_version = ob_pb_str(ar, a->terms_version);
	if (!history_to_pb(ar, a, m))
		return NULL;
	return ar->exhausted ? NULL : m;
}

bool ob_pb_applications(ob_arena *ar, const ob_application *apps, size_t n,
                        Onboard__V1__Application ***out, size_t *n_out)
{
	*n_out = 0;
	if (n > 0 && (*out = ob_arena_alloc(ar, n * sizeof(**out))) == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		Onboard__V1__Application *m = ob_pb_application(ar, &apps[i]);
		if (m == NULL)
			return false;
		(*out)[(*n_out)++] = m;
	}
	return true;
}

/* ---- page tokens ---------------------------------------------------- */

enum { TOKEN_MAX_BIND = 16 };

char *ob_pb_page_token(ob_arena *ar, int64_t after_seq, const uint8_t *bind, size_t bind_len)
{
	uint8_t raw[sizeof(after_seq) + TOKEN_MAX_BIND];
	if (bind_len > TOKEN_MAX_BIND)
		return NULL;
	memcpy(raw, &after_seq, sizeof(after_seq));
	if (bind_len > 0)
		memcpy(raw + sizeof(after_seq), bind, bind_len);
	size_t len = sizeof(after_seq) + bind_len;
	size_t size = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *t = ob_arena_alloc(ar, size);
	if (t != NULL)
		sodium_bin2base64(t, size, raw, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return t;
}

void ob_rpc_read_page_token(ob_call *call, const char *token, const uint8_t *bind, size_t bind_len,
                            int64_t *after_seq)
{
	*after_seq = 0;
	if (token[0] == '\0')
		return;
	uint8_t raw[sizeof(*after_seq) + TOKEN_MAX_BIND];
	size_t want = sizeof(*after_seq) + bind_len, n = 0;
	int64_t seq = -1;
	if (bind_len <= TOKEN_MAX_BIND &&
	    ob_base642bin(raw, want, token, strlen(token), NULL, &n, NULL,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	    n == want)
		memcpy(&seq, raw, sizeof(seq));
	if (seq < 0)
		ob_call_violation(call, "page_token", "is not a token this server made");
	else if (bind_len > 0 && sodium_memcmp(raw + sizeof(seq), bind, bind_len) != 0)
		ob_call_violation(call, "page_token", "belongs to a request with other filters");
	else
		*after_seq = seq;
}
