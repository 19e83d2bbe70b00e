#include "domain/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ob_application_fini(ob_application *a)
{
	if (a == NULL)
		return;
	free(a->history);
	a->history = NULL;
	a->n_history = 0;
}

void ob_cohort_default(ob_cohort *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", OB_DEFAULT_COHORT);
	snprintf(c->name, sizeof(c->name), "November 2020 lockdown support");
	c->capacity = 800;
	c->window_enforced = false;
	snprintf(c->lockdown_start, sizeof(c->lockdown_start), "2020-10-30");
	snprintf(c->lockdown_end, sizeof(c->lockdown_end), "2020-12-15");
	/* The lockdown and the three following months, as ob_cohort_derive
	 * would make it: written out, as the programme announced it. */
	snprintf(c->fee_waiver_until, sizeof(c->fee_waiver_until), "2021-03-15");
	/* Being live before Black Friday, which the trade moved that year from
	 * 27 November to 4 December, while shops were closed. */
	snprintf(c->milestone_date, sizeof(c->milestone_date), "2020-12-04");
	/* Public administration and defence; compulsory social security: not
	 * sellers. */
	ob_naf_divisions_add(&c->excluded_naf, 84);
	/* The windows, the webinar's lead time and the terms' version are
	 * derived from the lockdown dates (ob_cohort_derive). */
	c->monthly_fee_cents = 3900;
	c->ad_credit_cents = 20000;
	c->webinar_hour = 10;
	c->webinar_minute = 0;
	c->webinar_seats = 100;
	c->advisor_pool = 300;
	c->eligible_sizes = (1u << OB_SIZE_TPE) | (1u << OB_SIZE_PME);
}

bool ob_state_holds_seat(ob_state s)
{
	switch (s) {
	case OB_STATE_SUBMITTED:
	case OB_STATE_UNDER_REVIEW:
	case OB_STATE_NEEDS_INFO:
	case OB_STATE_APPROVED:
	case OB_STATE_ONBOARDED:
		return true;
	default:
		return false;
	}
}

bool ob_state_final(ob_state s)
{
	return s == OB_STATE_REJECTED || s == OB_STATE_WITHDRAWN;
}

bool ob_state_live(ob_state s)
{
	return s > OB_STATE_UNSPECIFIED && s < OB_STATE_COUNT && !ob_state_final(s);
}

/* [from][action] -> to. WAITLISTED -> SUBMITTED happens only by promotion
 * and WITHDRAWN only by withdrawal, so neither is a review action. A
 * waitlisted application can be rejected (ineligible, fraud) without taking
 * a seat first. */
static const ob_state transitions[OB_STATE_COUNT][OB_ACTION_COUNT] = {
        [OB_STATE_WAITLISTED][OB_ACTION_REJECT] = OB_STATE_REJECTED,
        [OB_STATE_SUBMITTED][OB_ACTION_START] = OB_STATE_UNDER_REVIEW,
        [OB_STATE_SUBMITTED][OB_ACTION_REJECT] = OB_STATE_REJECTED,
        [OB_STATE_UNDER_REVIEW][OB_ACTION_REQUEST_INFO] = OB_STATE_NEEDS_INFO,
        [OB_STATE_UNDER_REVIEW][OB_ACTION_APPROVE] = OB_STATE_APPROVED,
        [OB_STATE_UNDER_REVIEW][OB_ACTION_REJECT] = OB_STATE_REJECTED,
        [OB_STATE_NEEDS_INFO][OB_ACTION_START] = OB_STATE_UNDER_REVIEW,
        [OB_STATE_NEEDS_INFO][OB_ACTION_REJECT] = OB_STATE_REJECTED,
        [OB_STATE_APPROVED][OB_ACTION_ONBOARD] = OB_STATE_ONBOARDED,
};

ob_state ob_transition(ob_state from, ob_action action)
{
	if ((unsigned)from >= OB_STATE_COUNT || (unsigned)action >= OB_ACTION_COUNT)
		return OB_STATE_UNSPECIFIED;
	return transitions[from][action];
}

const char *ob_state_name(ob_state s)
{
	static const char *const names[OB_STATE_COUNT] = {
	        "UNSPECIFIED", "WAITLISTED", "SUBMITTED", "UNDER_REVIEW", "NEEDS_INFO",
	        "APPROVED",    "ONBOARDED",  "REJECTED",  "WITHDRAWN",
	};
	return (unsigned)s < OB_STATE_COUNT ? names[s] : "UNSPECIFIED";
}

const char *ob_channel_name(ob_channel c)
{
	static const char *const names[OB_CHANNEL_COUNT] = {"UNSPECIFIED", "MARKETPLACE",
	                                                    "OWN_WEBSHOP", "BOTH"};
	return (unsigned)c < OB_CHANNEL_COUNT ? names[c] : "UNSPECIFIED";
}

const char *ob_topic_name(ob_topic t)
{
	static const char *const names[OB_TOPIC_COUNT] = {"UNSPECIFIED", "MARKETPLACE",
	                                                  "OWN_WEBSHOP"};
	return (unsigned)t < OB_TOPIC_COUNT ? names[t] : "UNSPECIFIED";
}

const char *ob_legal_form_name(ob_legal_form f)
{
	static const char *const names[OB_LEGAL_COUNT] = {
	        "UNSPECIFIED", "EI",    "MICRO_ENTREPRENEUR", "EURL", "SARL", "SASU", "SAS", "SA",
	        "SNC",         "OTHER",
	};
	return (unsigned)f < OB_LEGAL_COUNT ? names[f] : "UNSPECIFIED";
}

const char *ob_action_name(ob_action a)
{
	static const char *const names[OB_ACTION_COUNT] = {
	        "unspecified", "start", "request-info", "approve", "reject", "onboard",
	};
	return (unsigned)a < OB_ACTION_COUNT ? names[a] : "unspecified";
}
