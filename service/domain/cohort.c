/*
 * Cohorts: their settings (what they derive from their lockdown dates),
 * creation and capacity, their standing, and how their seats and waitlist
 * move. The seats held are a counter of the cohort's, kept in step by every
 * change in the same transaction, as are the other counters of its standing
 * (counters.c): GetCohort reads counters, not applications, so that its cost
 * does not grow with them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/utf8.h"
#include "domain/calendar.h"
#include "domain/domain.h"
#include "domain/internal.h"
#include "domain/store.h"

void ob_standing_fini(ob_standing *s)
{
	if (s == NULL)
		return;
	free(s->counters);
	s->counters = NULL;
	s->n_counters = 0;
}

bool ob_dom_cohort_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > OB_COHORT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* A refusal of something that is not a cohort id, as field. */
static ob_err not_a_cohort_id(ob_outcome *o, const char *field)
{
	ob_violation_add(o, field, "a cohort id is 1-32 characters of [a-z0-9-]");
	ob_dom_say(o, "not a cohort id");
	return OB_EINVAL;
}

/* ---- seats and waitlist ---------------------------------------------- */

ob_err ob_dom_change_state(ob_txn *t, const ob_cohort *co, ob_application *a,
                           const ob_application *was, ob_state to, const char *actor,
                           const char *reason, const char *note, int64_t now)
{
	ob_state_change c = {.from = a->state, .to = to, .at_ms = now};
	ob_utf8_copy(c.actor, sizeof(c.actor), actor);
	ob_utf8_copy(c.reason, sizeof(c.reason), reason != NULL ? reason : "");
	ob_utf8_copy(c.note, sizeof(c.note), note != NULL ? note : "");
	/* For the counters (its history is not read): what a counted for before
	 * the whole change, its benefits included. */
	const ob_application before = was != NULL ? *was : *a;
	a->state = to;
	a->version++;
	a->updated_at_ms = now;
	if (to == OB_STATE_ONBOARDED && before.state != OB_STATE_ONBOARDED)
		a->onboarded_at_ms = now;
	ob_err err = t->ops->app_update(t, a);
	if (err == OB_OK)
		err = t->ops->history_append(t, a->seq, &c);
	if (err == OB_OK)
		err = ob_dom_count_change(t, co, &before, a);
	return err;
}

ob_err ob_dom_promote(ob_txn *t, const ob_cohort *c, int64_t now)
{
	for (;;) {
		int64_t seats;
		ob_err err = t->ops->counter_get(t, c->id, "seats", &seats);
		if (err != OB_OK || seats >= (int64_t)c->capacity)
			return err;
		ob_application next;
		err = t->ops->app_first_waitlisted(t, c->id, &next);
		if (err == OB_ENOTFOUND)
			return OB_OK;
		if (err == OB_OK)
			err = ob_dom_change_state(t, c, &next, NULL, OB_STATE_SUBMITTED, "system",
			                          "promoted from the waitlist: a seat freed", NULL,
			                          now);
		if (err != OB_OK)
			return err;
	}
}

/* ---- settings ------------------------------------------------------- */

/* The instant Paris's day d begins, in unix milliseconds. */
static int64_t paris_day_ms(ob_date d)
{
	return ob_paris_to_unix(d, 0, 0) * 1000;
}

void ob_cohort_derive(ob_cohort *c)
{
	ob_date start, end, until;
	if (!ob_date_parse(c->lockdown_start, &start) || !ob_date_parse(c->lockdown_end, &end))
		return; /* refused on creation; a stored cohort has both */
	/* The lockdown and the three months after it. */
	if (c->fee_waiver_until[0] == '\0')
		ob_date_format(ob_date_add_months(end, 3), c->fee_waiver_until);
	/* Submissions during the lockdown, from its first day to the end of its last. */
	if (c->window_opens_ms == 0)
		c->window_opens_ms = paris_day_ms(start);
	if (c->window_closes_ms == 0)
		c->window_closes_ms = paris_day_ms(ob_date_add_days(end, 1));
	/* Approvals from the lockdown's first day to the end of the waiver's last:
	 * after it there is nothing left to grant. */
	if (c->approval_opens_ms == 0)
		c->approval_opens_ms = paris_day_ms(start);
	if (c->approval_closes_ms == 0 && ob_date_parse(c->fee_waiver_until, &until))
		c->approval_closes_ms = paris_day_ms(ob_date_add_days(until, 1));
	if (c->webinar_lead_minutes == 0)
		c->webinar_lead_minutes = OB_DEFAULT_WEBINAR_LEAD_MINUTES;
	if (c->milestone_date[0] == '\0')
		snprintf(c->milestone_date, sizeof(c->milestone_date), "%s", c->lockdown_end);
	if (c->terms_version[0] == '\0')
		snprintf(c->terms_version, sizeof(c->terms_version), "%s", c->lockdown_start);
	c->window_enforced = true;
}

ob_err ob_dom_cohort_get(ob_txn *t, const char *id, ob_cohort *out)
{
	ob_err err = t->ops->cohort_get(t, id, out);
	if (err == OB_OK)
		ob_cohort_derive(out);
	return err;
}

bool ob_dom_terms_version_ok(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > OB_TERMS_VERSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || v[i] == '.' || v[i] == '_' || v[i] == '-'))
			return false;
	return true;
}

/* The divisions of NAF rev. 2 (INSEE, 2008): 88 of the numbers 01..99. */
static bool naf_division_exists(unsigned d)
{
	static const struct {
		unsigned char from, to;
	} ranges[] = {{1, 3},   {5, 33},  {35, 39}, {41, 43}, {45, 47}, {49, 53},
	              {55, 56}, {58, 66}, {68, 75}, {77, 82}, {84, 88}, {90, 99}};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (d >= ranges[i].from && d <= ranges[i].to)
			return true;
	return false;
}

enum { HHMM_SIZE = 16 }; /* "HH:MM" and room for what the compiler cannot bound */

/* "HH:MM" of Paris's wall clock at unix_s. */
static void paris_hhmm(int64_t unix_s, char out[HHMM_SIZE])
{
	int64_t secs = ob_floor_mod(unix_s + ob_paris_utc_offset(unix_s), 86400);
	snprintf(out, HHMM_SIZE, "%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60));
}

void ob_cohort_window_text(char *out, size_t n, int64_t opens_ms, int64_t closes_ms)
{
	char from[OB_DATE_STR_SIZE], to[OB_DATE_STR_SIZE], from_hm[HHMM_SIZE], to_hm[HHMM_SIZE];
	int64_t a = ob_floor_div(opens_ms, 1000), b = ob_floor_div(closes_ms, 1000);
	ob_date_format(ob_paris_date(a), from);
	ob_date_format(ob_paris_date(b), to);
	paris_hhmm(a, from_hm);
	paris_hhmm(b, to_hm);
	snprintf(out, n, "from %s %s to %s %s, Paris time", from, from_hm, to, to_hm);
}

/* A date field, required or not; true with *d when it is one. */
static bool check_date(ob_outcome *o, const char *field, const char *s, bool required, ob_date *d)
{
	if (s[0] == '\0') {
		if (required)
			ob_violation_add(o, field, "is required (YYYY-MM-DD)");
		return false;
	}
	if (!ob_date_parse(s, d)) {
		ob_violation_add(o, field, "must be a date YYYY-MM-DD");
		return false;
	}
	return true;
}

/* The dates of c: every violation into o. What c derived is checked too,
 * since it follows from what it was given. */
static void check_dates(const ob_cohort *c, ob_outcome *o)
{
	ob_date start, end, until, milestone;
	bool have_start = check_date(o, "cohort.lockdown_start", c->lockdown_start, true, &start);
	bool have_end = check_date(o, "cohort.lockdown_end", c->lockdown_end, true, &end);
	bool both = have_start && have_end;
	if (both && ob_date_cmp(end, start) < 0)
		ob_violation_add(o, "cohort.lockdown_end", "must not be before lockdown_start (%s)",
		                 c->lockdown_start);
	bool have_until =
	        check_date(o, "cohort.fee_waiver_until", c->fee_waiver_until, both, &until);
	if (both && have_until && (ob_date_cmp(until, end) < 0 || ob_date_cmp(until, start) < 0))
		ob_violation_add(o, "cohort.fee_waiver_until",
		                 "must not be before the lockdown (%s to %s)", c->lockdown_start,
		                 c->lockdown_end);
	check_date(o, "cohort.milestone_date", c->milestone_date, both, &milestone);
	if (!both || !have_until || ob_date_cmp(end, start) < 0 || ob_date_cmp(until, end) < 0)
		return; /* the windows derive from them: their violations would say it again */
	if (c->window_opens_ms >= c->window_closes_ms)
		ob_violation_add(o, "cohort.window_closes", "must be after window_opens");
	if (c->approval_opens_ms >= c->approval_closes_ms)
		ob_violation_add(o, "cohort.approval_closes", "must be after approval_opens");
}

/* Every violation of a new cohort, its settings derived, into o. */
static void check_cohort(const ob_cohort *c, ob_outcome *o)
{
	if (!ob_dom_cohort_id_ok(c->id))
		ob_violation_add(o, "cohort.id", "must be 1-32 characters of [a-z0-9-]");
	if (c->name[0] == '\0')
		ob_violation_add(o, "cohort.name", "is required");
	if (c->capacity > OB_MAX_CAPACITY)
		ob_violation_add(o, "cohort.capacity", "at most %d", OB_MAX_CAPACITY);
	check_dates(c, o);
	if (c->monthly_fee_cents < 0 || c->monthly_fee_cents > 100000000)
		ob_violation_add(o, "cohort.monthly_fee_cents", "must be 0 to 1,000,000 euros");
	if (c->ad_credit_cents < 0 || c->ad_credit_cents > 100000000)
		ob_violation_add(o, "cohort.ad_credit_cents", "must be 0 to 1,000,000 euros");
	if (c->webinar_hour > 23 || c->webinar_minute > 59)
		ob_violation_add(o, "cohort.webinar_hour", "must be a time of day (0-23:0-59)");
	if (c->webinar_seats > 100000)
		ob_violation_add(o, "cohort.webinar_seats", "at most 100000");
	if (c->webinar_lead_minutes > OB_MAX_WEBINAR_LEAD_MINUTES)
		ob_violation_add(o, "cohort.webinar_lead_minutes", "at most %d (a week)",
		                 OB_MAX_WEBINAR_LEAD_MINUTES);
	if (c->advisor_pool > 10000)
		ob_violation_add(o, "cohort.advisor_pool", "at most 10000");
	if ((c->eligible_sizes & ~(uint32_t)0x1E) != 0 || c->eligible_sizes == 0)
		ob_violation_add(o, "cohort.eligible_sizes", "at least one of TPE, PME, ETI, GE");
	for (unsigned d = 0; d < OB_NAF_DIVISIONS; d++)
		if (ob_naf_divisions_has(&c->excluded_naf, d) && !naf_division_exists(d))
			ob_violation_add(o, "cohort.excluded_naf_divisions",
			                 "%02u is not a division of NAF rev. 2", d);
	if (!ob_dom_terms_version_ok(c->terms_version))
		ob_violation_add(o, "cohort.terms_version",
		                 "must be 1-%d characters of [A-Za-z0-9._-]", OB_TERMS_VERSION_MAX);
}

/* ---- creation and capacity ------------------------------------------- */

typedef struct {
	ob_cohort *c;
	ob_outcome *o;
} cohort_op;

ob_err ob_dom_cohort_insert(ob_txn *t, const ob_cohort *c)
{
	ob_err err = t->ops->cohort_insert(t, c);
	if (err == OB_OK)
		err = t->ops->advisors_create(t, c->id, c->advisor_pool);
	if (err == OB_OK)
		err = ob_dom_counters_mark(t, c->id);
	return err;
}

static ob_err cohort_create_txn(ob_txn *t, void *arg)
{
	cohort_op *x = arg;
	ob_cohort existing;
	ob_err err = t->ops->cohort_get(t, x->c->id, &existing);
	if (err == OB_OK) {
		ob_dom_say(x->o, "cohort %s already exists", x->c->id);
		return OB_EEXIST;
	}
	err = ob_dom_cohort_insert(t, x->c);
	return err == OB_OK ? OB_OK : ob_dom_store_failed(x->o, err);
}

ob_err ob_domain_cohort_create(ob_domain *d, const ob_cohort *in, ob_cohort *out, ob_outcome *o)
{
	ob_cohort c = *in;
	ob_cohort_derive(&c);
	check_cohort(&c, o);
	ob_err err = ob_dom_refuse(o, "cohort");
	if (err != OB_OK)
		return err;
	c.created_at_ms = ob_clock_now_ms();
	cohort_op x = {.c = &c, .o = o};
	err = ob_dom_write(d, cohort_create_txn, &x, o);
	if (err == OB_OK)
		*out = c;
	return err;
}

static ob_err capacity_txn(ob_txn *t, void *arg)
{
	cohort_op *x = arg;
	ob_cohort c;
	int64_t seats = 0;
	ob_err err = ob_dom_cohort_get(t, x->c->id, &c);
	if (err == OB_ENOTFOUND) {
		ob_dom_say(x->o, "no cohort '%s'", x->c->id);
		return err;
	}
	if (err == OB_OK)
		err = t->ops->counter_get(t, c.id, "seats", &seats);
	if (err != OB_OK)
		return ob_dom_store_failed(x->o, err);
	if ((int64_t)x->c->capacity < seats) {
		ob_dom_say(x->o, "cohort %s has %lld seats held: its capacity cannot go below that",
		           c.id, (long long)seats);
		return OB_EPRECOND;
	}
	c.capacity = x->c->capacity;
	err = t->ops->cohort_set_capacity(t, c.id, c.capacity);
	if (err == OB_OK)
		err = ob_dom_promote(t, &c, ob_clock_now_ms());
	return err == OB_OK ? OB_OK : ob_dom_store_failed(x->o, err);
}

ob_err ob_domain_set_capacity(ob_domain *d, const ob_caller *who, const char *cohort,
                              uint32_t capacity, ob_standing *out, ob_outcome *o)
{
	(void)who; /* the authorizer's table says who may; nothing is recorded */
	if (cohort == NULL || cohort[0] == '\0')
		cohort = OB_DEFAULT_COHORT;
	if (!ob_dom_cohort_id_ok(cohort))
		return not_a_cohort_id(o, "id");
	if (capacity > OB_MAX_CAPACITY) {
		ob_violation_add(o, "capacity", "at most %d", OB_MAX_CAPACITY);
		ob_dom_say(o, "capacity too large");
		return OB_EINVAL;
	}
	ob_cohort c = {0};
	snprintf(c.id, sizeof(c.id), "%s", cohort);
	c.capacity = capacity;
	cohort_op x = {.c = &c, .o = o};
	ob_err err = ob_dom_write(d, capacity_txn, &x, o);
	if (err != OB_OK)
		return err;
	return ob_domain_standing(d, cohort, out, o);
}

/* ---- standing -------------------------------------------------------- */

/* The counters of out->cohort's standing, read in t. */
static ob_err read_standing(ob_txn *t, ob_standing *out)
{
	static const char *const keys[] = {"seats",
	                                   "waitlist",
	                                   "apps",
	                                   "exporters",
	                                   "live",
	                                   "onboarded",
	                                   "onboarded_exporters",
	                                   "live_before_milestone",
	                                   "benefits_granted",
	                                   "fee_waived_cents",
	                                   "ad_credit_granted_cents",
	                                   "ad_credit_used_cents"};
	enum { N = sizeof(keys) / sizeof(keys[0]) };
	int64_t v[N] = {0};
	const char *id = out->cohort.id;
	ob_err err = OB_OK;
	for (size_t i = 0; err == OB_OK && i < N; i++)
		err = t->ops->counter_get(t, id, keys[i], &v[i]);
	if (err == OB_OK)
		err = t->ops->counter_list(t, id, "", &out->counters, &out->n_counters);
	out->seats_held = (uint32_t)v[0];
	out->waitlist = (uint32_t)v[1];
	out->applications = (uint32_t)v[2];
	out->exporters = (uint32_t)v[3];
	out->live = (uint32_t)v[4];
	out->onboarded = (uint32_t)v[5];
	out->onboarded_exporters = (uint32_t)v[6];
	out->live_before_milestone = (uint32_t)v[7];
	out->benefits_granted = (uint32_t)v[8];
	out->fee_waived_cents = v[9];
	out->ad_credit_granted_cents = v[10];
	out->ad_credit_used_cents = v[11];
	out->seats_free =
	        out->cohort.capacity > out->seats_held ? out->cohort.capacity - out->seats_held : 0;
	return err;
}

ob_err ob_domain_standing(ob_domain *d, const char *cohort, ob_standing *out, ob_outcome *o)
{
	memset(out, 0, sizeof(*out));
	if (cohort == NULL || cohort[0] == '\0')
		cohort = OB_DEFAULT_COHORT;
	if (!ob_dom_cohort_id_ok(cohort))
		return not_a_cohort_id(o, "id");
	ob_txn *t;
	ob_err err = ob_dom_read(d, &t, o);
	if (err != OB_OK)
		return err;
	err = ob_dom_cohort_get(t, cohort, &out->cohort);
	if (err == OB_OK)
		err = read_standing(t, out);
	t->ops->rollback(t);
	if (err == OB_ENOTFOUND) {
		memset(out, 0, sizeof(*out));
		ob_dom_say(o, "no cohort '%s'", cohort);
		return err;
	}
	if (err != OB_OK) {
		ob_standing_fini(out);
		memset(out, 0, sizeof(*out));
		return ob_dom_store_failed(o, err);
	}
	return OB_OK;
}

ob_err ob_domain_cohorts(ob_domain *d, ob_cohort *out, size_t max, size_t *n)
{
	ob_txn *t;
	ob_err err = ob_dom_read(d, &t, NULL);
	if (err != OB_OK)
		return err;
	err = t->ops->cohort_list(t, out, max, n);
	t->ops->rollback(t);
	for (size_t i = 0; err == OB_OK && i < *n; i++)
		ob_cohort_derive(&out[i]);
	return err;
}
