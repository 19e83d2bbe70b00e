/*
 * What an approval grants and a withdrawal takes back: the fee waiver (the
 * monthly fees of the months started until the cohort's end), the ad
 * credit, a seat at the next daily webinar with one free (webinar.c), unless
 * the company booked one already, and an advisor (advisor.c). Dates are Paris dates (calendar.h).
 *
 * Each benefit once per company across the programme: an approval looks at
 * what the company's other applications (any cohort, by SIREN) were granted
 * and kept, and grants only what is left: the waiver from the day after the
 * last month already waived, the ad credit less what was granted, no second
 * webinar seat nor second advisor. Benefits.note says what was held back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/calendar.h"
#include "domain/internal.h"
#include "domain/store.h"

/* What a company kept of the benefits of its other applications. */
typedef struct {
	ob_date waived_until; /* valid when a month was waived */
	bool waived;
	int64_t credit;
	bool webinar, advisor;
	char cohorts[48]; /* "2020-11, 2021-01": what fits in the note */
} held;

/* What the applications of a's SIREN other than a were granted and kept:
 * the revoked part of a withdrawal is not kept (ob_dom_revoke trims it),
 * nor the advisor of a revoked grant, who was freed. */
static ob_err what_was_held(ob_txn *t, const ob_application *a, held *h)
{
	memset(h, 0, sizeof(*h));
	ob_granted *g = NULL;
	size_t n = 0;
	ob_err err = t->ops->benefits_of_siren(t, a->company.siren, &g, &n);
	for (size_t i = 0; err == OB_OK && i < n; i++) {
		const ob_benefits *p = &g[i].benefits;
		ob_date until;
		if (g[i].seq == a->seq || !p->granted)
			continue;
		bool had = false;
		if (p->fee_waiver_months > 0 && ob_date_parse(p->fee_waiver_until, &until)) {
			if (!h->waived || ob_date_cmp(until, h->waived_until) > 0)
				h->waived_until = until;
			h->waived = had = true;
		}
		h->credit += p->ad_credit_cents;
		had |= p->ad_credit_cents > 0;
		if (p->webinar_at_ms != 0)
			h->webinar = had = true;
		if (p->advisor != 0 && !p->revoked)
			h->advisor = had = true;
		size_t len = strlen(h->cohorts);
		if (had && strstr(h->cohorts, g[i].cohort_id) == NULL)
			snprintf(h->cohorts + len, sizeof(h->cohorts) - len, "%s%s",
			         len > 0 ? ", " : "", g[i].cohort_id);
	}
	free(g);
	return err;
}

/* Benefits.note: what h held back of what c grants. */
static void say_held(ob_benefits *b, const ob_cohort *c, const held *h)
{
	char what[128] = ""; /* ", the fee waiver until 2021-03-15, 200.00 EUR of ad credit..." */
	size_t len = 0;
	if (h->waived)
		len += (size_t)snprintf(
		        what + len, sizeof(what) - len, ", the fee waiver until %04d-%02d-%02d",
		        h->waived_until.year, h->waived_until.month, h->waived_until.day);
	if (h->credit > 0 && len < sizeof(what))
		len += (size_t)snprintf(what + len, sizeof(what) - len,
		                        ", %lld.%02lld EUR of ad credit",
		                        (long long)(h->credit / 100), (long long)(h->credit % 100));
	if (h->webinar && len < sizeof(what))
		len += (size_t)snprintf(what + len, sizeof(what) - len, ", a webinar seat");
	if (h->advisor && len < sizeof(what))
		snprintf(what + len, sizeof(what) - len, ", an advisor");
	if (what[0] == '\0')
		return;
	snprintf(b->note, sizeof(b->note),
	         "each benefit once per company: it already had%s (cohort %s); cohort %s grants "
	         "what is left",
	         what + 1, h->cohorts, c->id);
}

/* Granted once: the state machine allows APPROVE only from UNDER_REVIEW,
 * and approval is not reversible. Nothing is granted once the waiver period
 * is over (the approval window ends with it unless it was set later). */
ob_err ob_dom_grant(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t now, char *said,
                    size_t size)
{
	said[0] = '\0';
	ob_benefits *b = &a->benefits;
	memset(b, 0, sizeof(*b));
	b->granted = true;
	ob_date today = ob_paris_date(now / 1000), start, until;
	if (!ob_date_parse(c->lockdown_start, &start) ||
	    !ob_date_parse(c->fee_waiver_until, &until))
		return OB_ECORRUPT;
	if (ob_date_cmp(today, until) > 0) {
		snprintf(b->note, sizeof(b->note),
		         "nothing granted: cohort %s's waiver period ended on %s", c->id,
		         c->fee_waiver_until);
		return OB_OK;
	}
	held h;
	ob_err err = what_was_held(t, a, &h);
	if (err != OB_OK)
		return err;
	/* The waiver runs from today, never from before the lockdown began nor
	 * over a month the company already had waived, to the cohort's end. */
	ob_date from = ob_date_cmp(today, start) < 0 ? start : today;
	if (h.waived && ob_date_cmp(from, h.waived_until) <= 0)
		from = ob_date_add_days(h.waived_until, 1);
	if (ob_date_cmp(from, until) <= 0) {
		ob_date_format(from, b->fee_waiver_from);
		snprintf(b->fee_waiver_until, sizeof(b->fee_waiver_until), "%s",
		         c->fee_waiver_until);
		b->fee_waiver_months = ob_months_started(from, until);
		b->fee_waived_cents = (int64_t)b->fee_waiver_months * c->monthly_fee_cents;
	}
	b->ad_credit_cents = c->ad_credit_cents > h.credit ? c->ad_credit_cents - h.credit : 0;
	if (b->ad_credit_cents > 0)
		snprintf(b->ad_credit_expires, sizeof(b->ad_credit_expires), "%s",
		         c->fee_waiver_until);
	say_held(b, c, &h);
	/* A session the company booked before approval is its seat (webinar.c);
	 * else the next one of its channel's topic. */
	bool booked;
	if (a->webinar.session_ms != 0)
		b->webinar_at_ms = a->webinar.session_ms;
	else if (!h.webinar)
		err = ob_dom_book_next(t, c, a, ob_dom_channel_topic(a->channel), now, &booked);
	if (err == OB_OK && !h.advisor)
		err = ob_dom_assign_advisor(t, c, a, 0, "advisor assigned", said, size);
	return err;
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
	ob_err err = ob_dom_unbook_future(t, c, a, now);
	if (err == OB_OK && b->advisor != 0)
		err = t->ops->advisor_add(t, c->id, b->advisor, -1);
	return err;
}

/* "12.34": cents as euros, for messages. */
static void euros(char out[32], int64_t cents)
{
	snprintf(out, 32, "%s%lld.%02lld", cents < 0 ? "-" : "", (long long)(llabs(cents) / 100),
	         (long long)(llabs(cents) % 100));
}

/* The credit expires with the waiver: it may be spent until the end of its
 * last day, Paris time. An application granted before the expiry was
 * recorded (schema 3) has the cohort's. */
ob_err ob_dom_spend(const ob_cohort *c, ob_application *a, int64_t amount, int64_t now,
                    ob_outcome *o)
{
	ob_benefits *b = &a->benefits;
	if (b->ad_credit_expires[0] == '\0' && b->ad_credit_cents > 0)
		snprintf(b->ad_credit_expires, sizeof(b->ad_credit_expires), "%s",
		         c->fee_waiver_until);
	char left[32], asked[32];
	int64_t rest = b->ad_credit_cents - b->ad_credit_used_cents;
	euros(left, rest > 0 ? rest : 0);
	euros(asked, amount);
	ob_date last;
	if (!b->granted || b->ad_credit_cents == 0) {
		ob_dom_say(o, "application %s has no ad credit to spend", a->id);
		return OB_EPRECOND;
	}
	if (b->revoked) {
		char used[32];
		euros(used, b->ad_credit_used_cents);
		ob_dom_say(o,
		           "application %s's benefits were revoked (withdrawn); %s EUR was spent",
		           a->id, used);
		return OB_EPRECOND;
	}
	if (!ob_date_parse(b->ad_credit_expires, &last))
		return OB_ECORRUPT; /* defensive: written from a cohort's date */
	if (now / 1000 >= ob_paris_to_unix(ob_date_add_days(last, 1), 0, 0)) {
		ob_dom_say(o, "application %s's ad credit expired at the end of %s (Paris time)",
		           a->id, b->ad_credit_expires);
		return OB_EPRECOND;
	}
	if (amount > rest) {
		ob_dom_say(o,
		           "spending %s EUR is more than the %s EUR of ad credit application %s "
		           "has left",
		           asked, left, a->id);
		return OB_EPRECOND;
	}
	b->ad_credit_used_cents += amount;
	return OB_OK;
}
