/*
 * The counters of a cohort's standing: what each application counts for,
 * and how the counts move when it does.
 *
 * An application counts for a set of counters that depends only on itself
 * (its state, size, region, channel, export intent, when it went live) and
 * on its cohort's milestone: contribution() lists them. Every change moves
 * the counters by what the application counts for after it minus what it
 * counted for before, in the change's own transaction, so that the counters
 * are the sum of the contributions at all times and no transition can be
 * forgotten (the first version counted sizes, regions and exporters on
 * submission only, so they never went down). The same function recounts a
 * cohort from its applications when the definitions change
 * (OB_COUNTERS_VERSION).
 *
 * The keys: "state:X", "seats", "waitlist", "apps" and "day:YYYY-MM-DD"
 * (every application ever submitted, by Paris day), "region_state:R/X"
 * (every application by region and state), over the applications granted
 * benefits "benefits_granted", "fee_waived_cents", "ad_credit_granted_cents"
 * and "ad_credit_used_cents" (in cents: what a withdrawal left them), over
 * live applications (not REJECTED nor WITHDRAWN) "live", "size:X",
 * "region:X", "dept:X", "naf:S" (NAF section), "channel:X", "exporters";
 * over ONBOARDED ones "onboarded",
 * "onboarded_exporters" and "live_before_milestone". "waitlist_tickets" is a
 * sequence (application.c), not a count, and recounts leave it alone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/calendar.h"
#include "domain/internal.h"
#include "domain/store.h"

/* The definitions below; a cohort whose "counters_version" is lower is
 * recounted when the domain starts. 2: counts over live applications, the
 * onboarded sellers and the milestone; 3: the reports (département, NAF
 * section, region and state) and the benefits' totals. */
enum { OB_COUNTERS_VERSION = 3 };
#define VERSION_KEY "counters_version"
#define TICKETS_KEY "waitlist_tickets"

/* At most this many keys in one application's contribution. A submission
 * counts for at most 12, so that it still moves its counters in one
 * statement (OB_MAX_COUNTER_BATCH): the reports cost the submit path three
 * rows of that statement and no query. */
enum { CONTRIBUTION_MAX = 24 };

typedef struct {
	ob_counter c[CONTRIBUTION_MAX];
	size_t n;
} keys;

static void count(keys *k, int64_t by, const char *fmt, ...) OB_PRINTF(3, 4);
static void count(keys *k, int64_t by, const char *fmt, ...)
{
	if (by == 0 || k->n == CONTRIBUTION_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->c[k->n].key, sizeof(k->c[k->n].key), fmt, ap);
	va_end(ap);
	k->c[k->n++].count = by;
}

/* The instant the cohort's milestone day begins in Paris; 0 without one. */
static int64_t milestone_ms(const ob_cohort *c)
{
	ob_date d;
	if (c == NULL || !ob_date_parse(c->milestone_date, &d))
		return 0;
	return ob_paris_to_unix(d, 0, 0) * 1000;
}

/* What a counts for, in its cohort c; a state of OB_STATE_UNSPECIFIED (not
 * yet submitted) counts for nothing. all: with the counts of every
 * application ever submitted ("apps", "day:"), which only a submission
 * moves. */
static void contribution(keys *k, const ob_application *a, int64_t milestone, bool all)
{
	k->n = 0;
	if (a->state == OB_STATE_UNSPECIFIED)
		return;
	if (all) {
		char day[OB_DATE_STR_SIZE];
		ob_date_format(ob_paris_date(a->submitted_at_ms / 1000), day);
		count(k, 1, "apps");
		count(k, 1, "day:%s", day);
	}
	const char *region =
	        a->company.address.region[0] != '\0' ? a->company.address.region : "unknown";
	count(k, 1, "state:%s", ob_state_name(a->state));
	count(k, 1, "region_state:%s/%s", region, ob_state_name(a->state));
	count(k, ob_state_holds_seat(a->state), "seats");
	count(k, a->state == OB_STATE_WAITLISTED, "waitlist");
	const ob_benefits *b = &a->benefits;
	if (b->granted) {
		count(k, 1, "benefits_granted");
		count(k, b->fee_waived_cents, "fee_waived_cents");
		count(k, b->ad_credit_cents, "ad_credit_granted_cents");
		count(k, b->ad_credit_used_cents, "ad_credit_used_cents");
	}
	if (!ob_state_live(a->state))
		return;
	ob_fr_naf naf;
	char section = ob_fr_naf_lookup(a->company.naf, &naf) == OB_FR_NAF_OK ? naf.section : '?';
	count(k, 1, "live");
	count(k, 1, "size:%s", ob_size_category_name(a->size));
	count(k, 1, "region:%s", region);
	count(k, 1, "dept:%s",
	      a->company.address.departement[0] != '\0' ? a->company.address.departement
	                                                : "unknown");
	count(k, 1, "naf:%c", section);
	count(k, 1, "channel:%s", ob_channel_name(a->channel));
	count(k, a->exports, "exporters");
	if (a->state != OB_STATE_ONBOARDED)
		return;
	count(k, 1, "onboarded");
	count(k, a->exports, "onboarded_exporters");
	count(k, milestone != 0 && a->onboarded_at_ms < milestone, "live_before_milestone");
}

/* after - before (keys in both cancel out), in batches of
 * OB_MAX_COUNTER_BATCH: one for a submission or a state change. */
static ob_err move(ob_txn *t, const char *cohort, const keys *before, const keys *after)
{
	ob_counter d[2 * CONTRIBUTION_MAX];
	size_t n = 0;
	for (int sign = 1; sign >= -1; sign -= 2) {
		const keys *k = sign > 0 ? after : before;
		for (size_t i = 0; i < k->n; i++) {
			size_t j = 0;
			while (j < n && strcmp(d[j].key, k->c[i].key) != 0)
				j++;
			if (j == n) {
				if (n == 2 * CONTRIBUTION_MAX)
					return OB_EINVAL; /* defensive: the keys are bounded */
				d[n] = k->c[i];
				d[n++].count = 0;
			}
			d[j].count += sign * k->c[i].count;
		}
	}
	size_t kept = 0;
	for (size_t j = 0; j < n; j++)
		if (d[j].count != 0)
			d[kept++] = d[j];
	ob_err err = OB_OK;
	for (size_t at = 0; err == OB_OK && at < kept; at += OB_MAX_COUNTER_BATCH)
		err = t->ops->counters_add(t, cohort, d + at,
		                           kept - at < OB_MAX_COUNTER_BATCH ? kept - at
		                                                            : OB_MAX_COUNTER_BATCH);
	return err;
}

ob_err ob_dom_count_new(ob_txn *t, const ob_cohort *c, const ob_application *a)
{
	keys before = {.n = 0}, after;
	contribution(&after, a, milestone_ms(c), true);
	return move(t, a->cohort_id, &before, &after);
}

ob_err ob_dom_count_change(ob_txn *t, const ob_cohort *c, const ob_application *before,
                           const ob_application *after)
{
	keys b, a;
	int64_t m = milestone_ms(c);
	contribution(&b, before, m, false);
	contribution(&a, after, m, false);
	return move(t, after->cohort_id, &b, &a);
}

ob_err ob_dom_counters_mark(ob_txn *t, const char *cohort)
{
	return t->ops->counter_add(t, cohort, VERSION_KEY, OB_COUNTERS_VERSION);
}

/* ---- recount ---------------------------------------------------------------- */

/* Counts by key, sorted by key. */
typedef struct {
	ob_counter *c;
	size_t n, cap;
} tally;

/* Adds by to key in t, keeping it sorted. */
static ob_err tally_add(tally *t, const char *key, int64_t by)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(t->c[mid].key, key);
		if (cmp == 0) {
			t->c[mid].count += by;
			return OB_OK;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap > 0 ? 2 * t->cap : 64;
		ob_counter *grown = realloc(t->c, cap * sizeof(*grown));
		if (grown == NULL)
			return OB_ENOMEM;
		t->c = grown;
		t->cap = cap;
	}
	memmove(&t->c[lo + 1], &t->c[lo], (t->n - lo) * sizeof(*t->c));
	snprintf(t->c[lo].key, sizeof(t->c[lo].key), "%s", key);
	t->c[lo].count = by;
	t->n++;
	return OB_OK;
}

/* The contributions of every application of cohort c, into want. */
static ob_err count_all(ob_txn *t, const ob_cohort *c, tally *want)
{
	ob_app_filter f = {.cohort_id = c->id};
	int64_t after = 0, m = milestone_ms(c);
	for (;;) {
		ob_application *page = NULL;
		size_t n = 0;
		ob_err err = t->ops->app_list(t, &f, after, OB_MAX_PAGE_SIZE, &page, &n);
		for (size_t i = 0; err == OB_OK && i < n; i++) {
			keys k;
			contribution(&k, &page[i], m, true);
			for (size_t j = 0; err == OB_OK && j < k.n; j++)
				err = tally_add(want, k.c[j].key, k.c[j].count);
		}
		if (n > 0)
			after = page[n - 1].seq;
		free(page);
		if (err != OB_OK || n < OB_MAX_PAGE_SIZE)
			return err;
	}
}

/* Sets c's counters to what its applications count for: the difference to
 * what they hold, key by key. */
static ob_err recount(ob_txn *t, const ob_cohort *c)
{
	tally want = {0};
	ob_counter *have = NULL;
	size_t n_have = 0;
	ob_err err = count_all(t, c, &want);
	if (err == OB_OK)
		err = t->ops->counter_list(t, c->id, "", &have, &n_have);
	/* What is held and not wanted goes to 0: the tally gets it at 0. */
	for (size_t i = 0; err == OB_OK && i < n_have; i++)
		err = tally_add(&want, have[i].key, 0);
	for (size_t i = 0; err == OB_OK && i < want.n; i++) {
		const char *key = want.c[i].key;
		if (strcmp(key, TICKETS_KEY) == 0 || strcmp(key, VERSION_KEY) == 0)
			continue;
		int64_t held = 0;
		for (size_t j = 0; j < n_have; j++)
			if (strcmp(have[j].key, key) == 0)
				held = have[j].count;
		if (want.c[i].count != held)
			err = t->ops->counter_add(t, c->id, key, want.c[i].count - held);
	}
	int64_t version = 0;
	if (err == OB_OK)
		err = t->ops->counter_get(t, c->id, VERSION_KEY, &version);
	if (err == OB_OK)
		err = t->ops->counter_add(t, c->id, VERSION_KEY, OB_COUNTERS_VERSION - version);
	free(have);
	free(want.c);
	return err;
}

ob_err ob_dom_recount_stale(ob_txn *t, size_t *recounted)
{
	/* As many cohorts as ListCohorts shows; a programme has a handful. */
	enum { MAX = 256 };
	*recounted = 0;
	ob_cohort *cs = malloc(MAX * sizeof(*cs));
	if (cs == NULL)
		return OB_ENOMEM;
	size_t n = 0;
	ob_err err = t->ops->cohort_list(t, cs, MAX, &n);
	for (size_t i = 0; err == OB_OK && i < n; i++) {
		int64_t version = 0;
		ob_cohort_derive(&cs[i]);
		err = t->ops->counter_get(t, cs[i].id, VERSION_KEY, &version);
		if (err == OB_OK && version < OB_COUNTERS_VERSION) {
			err = recount(t, &cs[i]);
			*recounted += err == OB_OK;
		}
	}
	free(cs);
	return err;
}
