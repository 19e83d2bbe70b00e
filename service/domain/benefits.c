/*
 * What an approval grants and a withdrawal takes back: the fee waiver (the
 * monthly fees of the months started until the cohort's date), the ad
 * credit, a seat at the next daily webinar with one free, and the least
 * loaded advisor. Dates are Paris dates (calendar.h).
 */
#include <stdio.h>
#include <string.h>

#include "domain/calendar.h"
#include "domain/internal.h"
#include "domain/store.h"

enum { WEBINAR_SEARCH_DAYS = 3660 }; /* ten years */

/* The next daily session of c with a free seat, booked; none when c has no
 * webinar seats or none is free within WEBINAR_SEARCH_DAYS. */
static ob_err book_webinar(ob_txn *t, const ob_cohort *c, ob_benefits *b, int64_t now)
{
	for (uint32_t n = 0; n < WEBINAR_SEARCH_DAYS && c->webinar_seats > 0; n++) {
		int64_t session = ob_webinar_session(now / 1000, (int)c->webinar_hour,
		                                     (int)c->webinar_minute, n) *
		                  1000;
		uint32_t booked;
		ob_err err = t->ops->webinar_booked(t, c->id, session, &booked);
		if (err != OB_OK)
			return err;
		if (booked < c->webinar_seats) {
			b->webinar_at_ms = session;
			return t->ops->webinar_add(t, c->id, session, 1);
		}
	}
	return OB_OK;
}

/* The least loaded advisor of c, whose load grows by one; none (0) when c
 * has no advisors. */
static ob_err assign_advisor(ob_txn *t, const ob_cohort *c, ob_benefits *b)
{
	ob_err err = t->ops->advisor_pick(t, c->id, &b->advisor);
	if (err == OB_ENOTFOUND) {
		b->advisor = 0;
		return OB_OK;
	}
	return err == OB_OK ? t->ops->advisor_add(t, c->id, b->advisor, 1) : err;
}

/* Granted once: the state machine allows APPROVE only from UNDER_REVIEW,
 * and approval is not reversible. */
ob_err ob_dom_grant(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t now)
{
	ob_benefits *b = &a->benefits;
	memset(b, 0, sizeof(*b));
	b->granted = true;
	ob_date today = ob_paris_date(now / 1000), until;
	if (!ob_date_parse(c->fee_waiver_until, &until))
		return OB_ECORRUPT;
	ob_date_format(today, b->fee_waiver_from);
	snprintf(b->fee_waiver_until, sizeof(b->fee_waiver_until), "%s", c->fee_waiver_until);
	b->fee_waiver_months = ob_months_started(today, until);
	b->fee_waived_cents = (int64_t)b->fee_waiver_months * c->monthly_fee_cents;
	b->ad_credit_cents = c->ad_credit_cents;
	ob_err err = book_webinar(t, c, b, now);
	return err == OB_OK ? assign_advisor(t, c, b) : err;
}

/* Takes back what is not used yet: the waiver's months not yet started, the
 * unused ad credit, a future webinar seat, and the advisor's time. */
ob_err ob_dom_revoke(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t now)
{
	ob_benefits *b = &a->benefits;
	if (!b->granted || b->revoked)
		return OB_OK;
	b->revoked = true;
	b->revoked_at_ms = now;
	ob_date from, until, today = ob_paris_date(now / 1000);
	if (ob_date_parse(b->fee_waiver_from, &from) &&
	    ob_date_parse(b->fee_waiver_until, &until)) {
		if (ob_date_cmp(today, until) < 0) {
			until = today;
			ob_date_format(until, b->fee_waiver_until);
		}
		b->fee_waiver_months = ob_months_started(from, until);
		b->fee_waived_cents = (int64_t)b->fee_waiver_months * c->monthly_fee_cents;
	}
	b->ad_credit_cents = b->ad_credit_used_cents;
	ob_err err = OB_OK;
	if (b->webinar_at_ms > now) {
		err = t->ops->webinar_add(t, c->id, b->webinar_at_ms, -1);
		b->webinar_at_ms = 0;
	}
	if (err == OB_OK && b->advisor != 0)
		err = t->ops->advisor_add(t, c->id, b->advisor, -1);
	return err;
}
