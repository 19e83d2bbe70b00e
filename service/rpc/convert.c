/*
 * Domain structs to messages, for every service's handlers (convert.h).
 */
#include <string.h>

#include "auth/auth.h"
#include "base/time.h"
#include "rpc/convert.h"

ob_err ob_rpc_report(ob_call *call, ob_err err, const ob_outcome *o)
{
	for (size_t i = 0; i < o->n_violations; i++)
		ob_call_violation(call, o->violations[i].field, "%s", o->violations[i].description);
	if (err == OB_OK)
		return OB_OK;
	return ob_call_fail(call, err, "%s", o->message[0] != '\0' ? o->message : ob_strerror(err));
}

char *ob_pb_time(ob_arena *a, int64_t ms)
{
	if (ms == 0)
		return (char *)"";
	char buf[OB_RFC3339_STR_SIZE];
	ob_time_format_rfc3339(ms, buf);
	char *p = ob_arena_strdup(a, buf);
	return p != NULL ? p : (char *)""; /* never NULL: protobuf-c would pack it */
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

Onboard__V1__Application *ob_pb_application(ob_arena *ar, const ob_application *a)
{
	Onboard__V1__Application *m = ob_arena_message(ar, &onboard__v1__application__descriptor);
	Onboard__V1__Company *c = ob_arena_message(ar, &onboard__v1__company__descriptor);
	Onboard__V1__Address *ad = ob_arena_message(ar, &onboard__v1__address__descriptor);
	Onboard__V1__Contact *ct = ob_arena_message(ar, &onboard__v1__contact__descriptor);
	if (m == NULL || c == NULL || ad == NULL || ct == NULL)
		return NULL;
	m->id = ob_pb_str(ar, a->id);
	m->cohort_id = ob_pb_str(ar, a->cohort_id);
	m->state = (Onboard__V1__ApplicationState)a->state;
	m->version = a->version;
	c->siren = ob_pb_str(ar, a->company.siren);
	c->siret = ob_pb_str(ar, a->company.siret);
	c->legal_name = ob_pb_str(ar, a->company.legal_name);
	c->trade_name = ob_pb_str(ar, a->company.trade_name);
	c->naf_code = ob_pb_str(ar, a->company.naf);
	const char *naf_label = ob_fr_naf_label(a->company.naf); /* NULL for a code it lacks */
	m->naf_label = ob_pb_str(ar, naf_label != NULL ? naf_label : "");
	c->vat_number = ob_pb_str(ar, a->company.vat);
	c->employees = a->company.employees;
	c->turnover_eur = a->company.turnover_eur;
	c->balance_sheet_eur = a->company.balance_eur;
	ad->street = ob_pb_str(ar, a->company.address.street);
	ad->postal_code = ob_pb_str(ar, a->company.address.postal_code);
	ad->city = ob_pb_str(ar, a->company.address.city);
	ad->departement = ob_pb_str(ar, a->company.address.departement);
	ad->region = ob_pb_str(ar, a->company.address.region);
	c->address = ad;
	m->company = c;
	ct->name = ob_pb_str(ar, a->contact.name);
	ct->email = ob_pb_str(ar, a->contact.email);
	ct->phone = ob_pb_str(ar, a->contact.phone);
	m->contact = ct;
	m->channel = (Onboard__V1__Channel)a->channel;
	m->intends_to_export = a->exports;
	if (a->n_categories > 0) {
		m->product_categories = ob_arena_alloc(ar, a->n_categories * sizeof(char *));
		if (m->product_categories == NULL)
			return NULL;
		for (size_t i = 0; i < a->n_categories; i++)
			m->product_categories[m->n_product_categories++] =
			        ob_pb_str(ar, a->categories[i]);
	}
	m->size_category = (Onboard__V1__SizeCategory)a->size;
	m->waitlist_position = a->waitlist_position;
	m->submitted_at = ob_pb_time(ar, a->submitted_at_ms);
	m->updated_at = ob_pb_time(ar, a->updated_at_ms);
	m->rejection_reason = (Onboard__V1__RejectionReason)a->rejection;
	if (a->benefits.granted) {
		const ob_benefits *b = &a->benefits;
		Onboard__V1__Benefits *bm =
		        ob_arena_message(ar, &onboard__v1__benefits__descriptor);
		if (bm == NULL)
			return NULL;
		bm->fee_waiver_from = ob_pb_str(ar, b->fee_waiver_from);
		bm->fee_waiver_until = ob_pb_str(ar, b->fee_waiver_until);
		bm->fee_waiver_months = b->fee_waiver_months;
		bm->fee_waived_cents = b->fee_waived_cents;
		bm->ad_credit_cents = b->ad_credit_cents;
		bm->ad_credit_used_cents = b->ad_credit_used_cents;
		bm->webinar_at = ob_pb_time(ar, b->webinar_at_ms);
		bm->advisor = b->advisor;
		bm->revoked = b->revoked;
		bm->revoked_at = ob_pb_time(ar, b->revoked_at_ms);
		m->benefits = bm;
	}
	if (a->n_history > 0) {
		m->history = ob_arena_alloc(ar, a->n_history * sizeof(*m->history));
		if (m->history == NULL)
			return NULL;
		for (size_t i = 0; i < a->n_history; i++) {
			const ob_state_change *h = &a->history[i];
			Onboard__V1__StateChange *sc =
			        ob_arena_message(ar, &onboard__v1__state_change__descriptor);
			if (sc == NULL)
				return NULL;
			sc->from = (Onboard__V1__ApplicationState)h->from;
			sc->to = (Onboard__V1__ApplicationState)h->to;
			sc->actor = ob_pb_str(ar, h->actor);
			sc->at = ob_pb_time(ar, h->at_ms);
			/* One string on the wire: "withdrawn: what the seller wrote". */
			sc->reason = h->note[0] == '\0'
			                     ? ob_pb_str(ar, h->reason)
			                     : ob_arena_printf(ar, "%s: %s", h->reason, h->note);
			if (sc->reason == NULL)
				return NULL;
			m->history[m->n_history++] = sc;
		}
	}
	m->contact_erased = a->contact_erased;
	m->contact_erased_at = ob_pb_time(ar, a->contact_erased_at_ms);
	/* Not whole (a string could not be copied): never rendered, nor stored for replay. */
	return ar->exhausted ? NULL : m;
}

/* The domain numbers its callers' roles like auth/ does (domain.h). */
_Static_assert((int)OB_CALLER_APPLICANT == (int)OB_ROLE_APPLICANT &&
                       (int)OB_CALLER_PARTNER == (int)OB_ROLE_PARTNER &&
                       (int)OB_CALLER_REVIEWER == (int)OB_ROLE_REVIEWER &&
                       (int)OB_CALLER_ADMIN == (int)OB_ROLE_ADMIN,
               "caller roles numbering");

ob_caller ob_rpc_caller(const ob_call *call)
{
	ob_caller who = {.principal = call->principal, .role = (ob_caller_role)call->role};
	if (call->principal == NULL || call->principal[0] == '\0')
		/* Without authentication (tests), where the call came from. */
		who.actor = call->peer != NULL && call->peer[0] != '\0' ? call->peer : "unknown";
	return who;
}
