/*
 * Cohorts: their creation and capacity, their standing, and how their seats
 * and waitlist move. The seats held are a counter of the cohort's, kept in
 * step by every change in the same transaction, as are the other counters
 * of its standing (by state, size, region, channel, day): GetCohort reads
 * counters, not applications, so that its cost does not grow with them.
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

/* ---- counters ------------------------------------------------------- */

/* Counter deltas gathered for one change and written in one statement. */
typedef struct {
	ob_counter d[OB_MAX_COUNTER_BATCH];
	size_t n;
} deltas;

static void delta(deltas *ds, int64_t by, const char *fmt, ...) OB_PRINTF(3, 4);
static void delta(deltas *ds, int64_t by, const char *fmt, ...)
{
	if (by == 0 || ds->n == OB_MAX_COUNTER_BATCH)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ds->d[ds->n].key, sizeof(ds->d[ds->n].key), fmt, ap);
	va_end(ap);
	ds->d[ds->n++].count = by;
}

static void state_deltas(deltas *ds, ob_state from, ob_state to)
{
	if (from != OB_STATE_UNSPECIFIED)
		delta(ds, -1, "state:%s", ob_state_name(from));
	delta(ds, 1, "state:%s", ob_state_name(to));
	delta(ds, (int64_t)ob_state_holds_seat(to) - (int64_t)ob_state_holds_seat(from), "seats");
	delta(ds, (int64_t)(to == OB_STATE_WAITLISTED) - (int64_t)(from == OB_STATE_WAITLISTED),
	      "waitlist");
}

ob_err ob_dom_count_new(ob_txn *t, const ob_application *a)
{
	deltas ds = {.n = 0};
	char day[OB_DATE_STR_SIZE];
	ob_date_format(ob_paris_date(a->submitted_at_ms / 1000), day);
	delta(&ds, 1, "apps");
	delta(&ds, a->exports ? 1 : 0, "exporters");
	delta(&ds, 1, "size:%s", ob_size_category_name(a->size));
	delta(&ds, 1, "region:%s",
	      a->company.address.region[0] != '\0' ? a->company.address.region : "unknown");
	delta(&ds, 1, "channel:%s", ob_channel_name(a->channel));
	delta(&ds, 1, "day:%s", day);
	state_deltas(&ds, OB_STATE_UNSPECIFIED, a->state);
	return t->ops->counters_add(t, a->cohort_id, ds.d, ds.n);
}

/* ---- seats and waitlist ---------------------------------------------- */

ob_err ob_dom_change_state(ob_txn *t, ob_application *a, ob_state to, const char *actor,
                           const char *reason, const char *note, int64_t now)
{
	ob_state_change c = {.from = a->state, .to = to, .at_ms = now};
	ob_utf8_copy(c.actor, sizeof(c.actor), actor);
	ob_utf8_copy(c.reason, sizeof(c.reason), reason != NULL ? reason : "");
	ob_utf8_copy(c.note, sizeof(c.note), note != NULL ? note : "");
	ob_state from = a->state;
	a->state = to;
	a->version++;
	a->updated_at_ms = now;
	ob_err err = t->ops->app_update(t, a);
	if (err == OB_OK)
		err = t->ops->history_append(t, a->seq, &c);
	if (err == OB_OK) {
		deltas ds = {.n = 0};
		state_deltas(&ds, from, to);
		err = t->ops->counters_add(t, a->cohort_id, ds.d, ds.n);
	}
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
			err = ob_dom_change_state(t, &next, OB_STATE_SUBMITTED, "system",
			                          "promoted from the waitlist: a seat freed", NULL,
			                          now);
		if (err != OB_OK)
			return err;
	}
}

/* ---- creation and capacity ------------------------------------------- */

static void check_date(ob_outcome *o, const char *field, const char *s, bool required)
{
	ob_date d;
	if (s[0] == '\0') {
		if (required)
			ob_violation_add(o, field, "is required (YYYY-MM-DD)");
	} else if (!ob_date_parse(s, &d)) {
		ob_violation_add(o, field, "must be a date YYYY-MM-DD");
	}
}

/* Every violation of a new cohort into o. */
static void check_cohort(const ob_cohort *c, ob_outcome *o)
{
	if (!ob_dom_cohort_id_ok(c->id))
		ob_violation_add(o, "cohort.id", "must be 1-32 characters of [a-z0-9-]");
	if (c->name[0] == '\0')
		ob_violation_add(o, "cohort.name", "is required");
	if (c->capacity > OB_MAX_CAPACITY)
		ob_violation_add(o, "cohort.capacity", "at most %d", OB_MAX_CAPACITY);
	if (c->window_opens_ms != 0 && c->window_closes_ms != 0 &&
	    c->window_opens_ms >= c->window_closes_ms)
		ob_violation_add(o, "cohort.window_closes", "must be after window_opens");
	check_date(o, "cohort.lockdown_start", c->lockdown_start, false);
	check_date(o, "cohort.lockdown_end", c->lockdown_end, false);
	check_date(o, "cohort.fee_waiver_until", c->fee_waiver_until, true);
	if (c->monthly_fee_cents < 0 || c->monthly_fee_cents > 100000000)
		ob_violation_add(o, "cohort.monthly_fee_cents", "must be 0 to 1,000,000 euros");
	if (c->ad_credit_cents < 0 || c->ad_credit_cents > 100000000)
		ob_violation_add(o, "cohort.ad_credit_cents", "must be 0 to 1,000,000 euros");
	if (c->webinar_hour > 23 || c->webinar_minute > 59)
		ob_violation_add(o, "cohort.webinar_hour", "must be a time of day (0-23:0-59)");
	if (c->webinar_seats > 100000)
		ob_violation_add(o, "cohort.webinar_seats", "at most 100000");
	if (c->advisor_pool > 10000)
		ob_violation_add(o, "cohort.advisor_pool", "at most 10000");
	if ((c->eligible_sizes & ~(uint32_t)0x1E) != 0 || c->eligible_sizes == 0)
		ob_violation_add(o, "cohort.eligible_sizes", "at least one of TPE, PME, ETI, GE");
}

typedef struct {
	ob_cohort *c;
	ob_outcome *o;
} cohort_op;

static ob_err cohort_create_txn(ob_txn *t, void *arg)
{
	cohort_op *x = arg;
	ob_cohort existing;
	ob_err err = t->ops->cohort_get(t, x->c->id, &existing);
	if (err == OB_OK) {
		ob_dom_say(x->o, "cohort %s already exists", x->c->id);
		return OB_EEXIST;
	}
	err = t->ops->cohort_insert(t, x->c);
	if (err == OB_OK)
		err = t->ops->advisors_create(t, x->c->id, x->c->advisor_pool);
	return err == OB_OK ? OB_OK : ob_dom_store_failed(x->o, err);
}

ob_err ob_domain_cohort_create(ob_domain *d, const ob_cohort *in, ob_cohort *out, ob_outcome *o)
{
	ob_cohort c = *in;
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
	ob_err err = t->ops->cohort_get(t, x->c->id, &c);
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
	static const char *const keys[4] = {"seats", "waitlist", "apps", "exporters"};
	int64_t v[4] = {0};
	const char *id = out->cohort.id;
	ob_err err = OB_OK;
	for (int i = 0; err == OB_OK && i < 4; i++)
		err = t->ops->counter_get(t, id, keys[i], &v[i]);
	if (err == OB_OK)
		err = t->ops->counter_list(t, id, "", &out->counters, &out->n_counters);
	out->seats_held = (uint32_t)v[0];
	out->waitlist = (uint32_t)v[1];
	out->applications = (uint32_t)v[2];
	out->exporters = (uint32_t)v[3];
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
	err = t->ops->cohort_get(t, cohort, &out->cohort);
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
	return err;
}
