/*
 * test_domain.c: the programme's rules (domain/domain.h) on a real SQLite
 * file in a private temporary directory.
 *
 * Expectations come from the issue, not from the code: the transition table
 * is written out again here, benefit amounts and webinar times are literals
 * worked out by hand (dates with Python's zoneinfo), and the standing is
 * recounted from the applications themselves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/clock.h"
#include "base/utf8.h"
#include "domain/calendar.h"
#include "domain/domain.h"
#include "testdata.h"
#include "testdomain.h"
#include "testutil.h"

/* ---- fixture: a fresh database per test, its keys kept across reopens (testdomain.h) ------- */

typedef ob_test_domain fx;

static int64_t at(const char *rfc3339)
{
	int64_t ms = 0;
	if (!ob_time_parse_rfc3339(rfc3339, &ms))
		fail_msg("bad time literal %s", rfc3339);
	return ms;
}

static void fx_open(fx *f)
{
	assert_int_equal(ob_test_domain_open(f), OB_OK);
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	if (f == NULL || ob_test_domain_init(f, "ob-domain") != 0) {
		free(f);
		return -1;
	}
	/* Mid-lockdown, a Friday: every test starts here unless it moves the clock. */
	ob_clock_set_now_ms(at("2020-11-20T12:00:00Z"));
	if ((f->keys = ob_test_keystore_random()) == NULL || ob_test_domain_open(f) != OB_OK) {
		ob_test_domain_fini(f);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	ob_test_domain_fini(*state);
	free(*state);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------------- */

/* Submits company n of testdata.h to cohort (NULL: default); msg (256 bytes) gets the outcome's
 * message when not NULL. out is zeroed first, so it can always be finished. */
static ob_err submit(fx *f, uint32_t n, const char *cohort, ob_application *out, char *msg)
{
	return td_submit(f->d, n, cohort, out, msg);
}

static void submit_ok(fx *f, uint32_t n, const char *cohort, ob_application *out)
{
	char msg[256];
	ob_err err = submit(f, n, cohort, out, msg);
	if (err != OB_OK)
		fail_msg("submit %u: %s: %s", n, ob_strerror(err), msg);
}

/* Companies first, first + 1... submitted to cohort, n of them, into a[0..n). */
static void submit_series(fx *f, uint32_t first, uint32_t n, const char *cohort, ob_application *a)
{
	for (uint32_t i = 0; i < n; i++)
		submit_ok(f, first + i, cohort, &a[i]);
}

/* A review action at the given version; rejections give a reason. */
static ob_err review(fx *f, const char *id, ob_action action, uint64_t version, ob_application *out,
                     char *msg)
{
	ob_outcome o;
	ob_outcome_init(&o);
	memset(out, 0, sizeof(*out));
	ob_err err = ob_domain_review(f->d, TD_AS("reviewer"), id, action, version,
	                              action == OB_ACTION_REJECT ? OB_REJECTION_INELIGIBLE
	                                                         : OB_REJECTION_NONE,
	                              "checked", NULL, out, &o);
	if (msg != NULL)
		snprintf(msg, 256, "%s", o.message);
	ob_outcome_fini(&o);
	return err;
}

/* Applies action to *a at its version and replaces *a with the result. */
static void review_ok(fx *f, ob_application *a, ob_action action)
{
	char msg[256];
	ob_application next;
	ob_err err = review(f, a->id, action, a->version, &next, msg);
	if (err != OB_OK)
		fail_msg("%s %s: %s: %s", ob_action_name(action), a->id, ob_strerror(err), msg);
	ob_application_fini(a);
	*a = next;
}

static ob_err withdraw(fx *f, const char *id, uint64_t version, ob_application *out, char *msg)
{
	ob_outcome o;
	ob_outcome_init(&o);
	memset(out, 0, sizeof(*out));
	ob_err err = ob_domain_withdraw(f->d, TD_AS("seller"), id, version, "changed our mind",
	                                NULL, out, &o);
	if (msg != NULL)
		snprintf(msg, 256, "%s", o.message);
	ob_outcome_fini(&o);
	return err;
}

static void withdraw_ok(fx *f, ob_application *a)
{
	char msg[256];
	ob_application next;
	ob_err err = withdraw(f, a->id, a->version, &next, msg);
	if (err != OB_OK)
		fail_msg("withdraw %s: %s: %s", a->id, ob_strerror(err), msg);
	ob_application_fini(a);
	*a = next;
}

static void get_ok(fx *f, const char *id, ob_application *out)
{
	ob_outcome o;
	ob_outcome_init(&o);
	memset(out, 0, sizeof(*out));
	ob_err err = ob_domain_get(f->d, TD_ALL, id, NULL, NULL, out, &o);
	if (err != OB_OK)
		fail_msg("get %s: %s: %s", id, ob_strerror(err), o.message);
	ob_outcome_fini(&o);
}

/* Re-reads *a from the store. */
static void refresh(fx *f, ob_application *a)
{
	char id[OB_ID_LEN + 1];
	memcpy(id, a->id, sizeof(id));
	ob_application_fini(a);
	get_ok(f, id, a);
}

/* Submits company n to cohort and takes it to `to` by the shortest legal path. */
static void make_in_state(fx *f, uint32_t n, const char *cohort, ob_state to, ob_application *a)
{
	submit_ok(f, n, cohort, a);
	switch (to) {
	case OB_STATE_WAITLISTED:
		assert_int_equal(a->state, OB_STATE_WAITLISTED); /* the caller's cohort is full */
		return;
	case OB_STATE_SUBMITTED:
		break;
	case OB_STATE_UNDER_REVIEW:
		review_ok(f, a, OB_ACTION_START);
		break;
	case OB_STATE_NEEDS_INFO:
		review_ok(f, a, OB_ACTION_START);
		review_ok(f, a, OB_ACTION_REQUEST_INFO);
		break;
	case OB_STATE_APPROVED:
		review_ok(f, a, OB_ACTION_START);
		review_ok(f, a, OB_ACTION_APPROVE);
		break;
	case OB_STATE_ONBOARDED:
		review_ok(f, a, OB_ACTION_START);
		review_ok(f, a, OB_ACTION_APPROVE);
		review_ok(f, a, OB_ACTION_ONBOARD);
		break;
	case OB_STATE_REJECTED:
		review_ok(f, a, OB_ACTION_REJECT);
		break;
	case OB_STATE_WITHDRAWN:
		withdraw_ok(f, a);
		break;
	default:
		fail_msg("no path to state %d", (int)to);
	}
	assert_int_equal(a->state, to);
}

/* Submits, starts and approves company n in cohort. */
static void approve_new(fx *f, uint32_t n, const char *cohort, ob_application *a)
{
	make_in_state(f, n, cohort, OB_STATE_APPROVED, a);
}

/* What a test's cohort changes of the default one: a field left 0 or NULL keeps the default. */
typedef struct cohort_tweak {
	uint32_t webinar_seats, advisor_pool;
	bool no_advisors;             /* no placeholder advisors: the list starts empty */
	const char *fee_waiver_until; /* "": derived from the lockdown's end */
	const char *lockdown_start, *lockdown_end;
	bool webinar_weekends, webinar_holidays;
	uint32_t webinar_lead_minutes;
	int64_t ad_credit_cents;
	int64_t window_opens_ms, approval_opens_ms, approval_closes_ms;
	unsigned excluded_naf_only; /* the one division excluded, instead of the default's */
} cohort_tweak;

/* Copies s into the char array field of c when s is not NULL. */
#define TWEAK_TEXT(c, field, s)                                                                    \
	do {                                                                                       \
		if ((s) != NULL)                                                                   \
			snprintf((c).field, sizeof((c).field), "%s", (s));                         \
	} while (0)

/* A cohort like the default one, with its own id and capacity; tweak (or NULL) changes more. */
static void make_cohort(fx *f, const char *id, uint32_t capacity, const cohort_tweak *tweak)
{
	ob_cohort c, out;
	ob_cohort_default(&c);
	snprintf(c.id, sizeof(c.id), "%s", id);
	snprintf(c.name, sizeof(c.name), "test cohort %s", id);
	c.capacity = capacity;
	if (tweak != NULL && tweak->webinar_seats != 0)
		c.webinar_seats = tweak->webinar_seats;
	if (tweak != NULL && tweak->advisor_pool != 0)
		c.advisor_pool = tweak->advisor_pool;
	if (tweak != NULL && tweak->no_advisors)
		c.advisor_pool = 0;
	if (tweak != NULL) {
		TWEAK_TEXT(c, fee_waiver_until, tweak->fee_waiver_until);
		TWEAK_TEXT(c, lockdown_start, tweak->lockdown_start);
		TWEAK_TEXT(c, lockdown_end, tweak->lockdown_end);
		c.webinar_weekends |= tweak->webinar_weekends;
		c.webinar_holidays |= tweak->webinar_holidays;
		if (tweak->webinar_lead_minutes != 0)
			c.webinar_lead_minutes = tweak->webinar_lead_minutes;
		if (tweak->ad_credit_cents != 0)
			c.ad_credit_cents = tweak->ad_credit_cents;
		if (tweak->window_opens_ms != 0)
			c.window_opens_ms = tweak->window_opens_ms;
		if (tweak->approval_opens_ms != 0)
			c.approval_opens_ms = tweak->approval_opens_ms;
		if (tweak->approval_closes_ms != 0)
			c.approval_closes_ms = tweak->approval_closes_ms;
		if (tweak->excluded_naf_only != 0) {
			c.excluded_naf = (ob_naf_divisions){{0}};
			ob_naf_divisions_add(&c.excluded_naf, tweak->excluded_naf_only);
		}
	}
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = ob_domain_cohort_create(f->d, &c, &out, &o);
	if (err != OB_OK)
		fail_msg("cohort %s: %s: %s", id, ob_strerror(err), o.message);
	ob_outcome_fini(&o);
}

static void standing(fx *f, const char *cohort, ob_standing *st)
{
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = ob_domain_standing(f->d, cohort, st, &o);
	if (err != OB_OK)
		fail_msg("standing %s: %s: %s", cohort, ob_strerror(err), o.message);
	ob_outcome_fini(&o);
}

/* The standing of cohort counts applications, of which seats_held hold a seat. */
static void assert_counted(fx *f, const char *cohort, uint32_t applications, uint32_t seats_held)
{
	ob_standing st;
	standing(f, cohort, &st);
	assert_int_equal(st.applications, applications);
	assert_int_equal(st.seats_held, seats_held);
	ob_standing_fini(&st);
}

static ob_err set_capacity(fx *f, const char *cohort, uint32_t capacity, char *msg)
{
	ob_outcome o;
	ob_outcome_init(&o);
	ob_standing st;
	memset(&st, 0, sizeof(st));
	ob_err err = ob_domain_set_capacity(f->d, TD_AS("admin"), cohort, capacity, &st, &o);
	if (msg != NULL)
		snprintf(msg, 256, "%s", o.message);
	if (err == OB_OK) {
		assert_int_equal(st.cohort.capacity, capacity);
		assert_true(st.seats_held <= capacity);
	}
	ob_standing_fini(&st);
	ob_outcome_fini(&o);
	return err;
}

/* Every application matching f, in submission order, read in pages of page_size; *out is
 * malloc'd. Also checks the paging contract: full pages say more, the last one does not. */
static size_t list_all(fx *f, const ob_app_filter *flt, size_t page_size, ob_application **out)
{
	ob_application *all = NULL;
	size_t n_all = 0;
	int64_t after = 0;
	for (;;) {
		ob_application *page = NULL;
		size_t n = 0;
		bool more = false;
		ob_outcome o;
		ob_outcome_init(&o);
		ob_err err =
		        ob_domain_list(f->d, TD_ALL, flt, after, page_size, &page, &n, &more, &o);
		if (err != OB_OK)
			fail_msg("list: %s: %s", ob_strerror(err), o.message);
		ob_outcome_fini(&o);
		if (more)
			assert_int_equal(n, page_size);
		if (n > 0) {
			ob_application *g = realloc(all, (n_all + n) * sizeof(*g));
			assert_non_null(g);
			all = g;
			memcpy(all + n_all, page, n * sizeof(*page));
			for (size_t i = 0; i < n; i++) {
				assert_null(page[i].history);
				if (n_all + i > 0)
					assert_true(all[n_all + i].seq > all[n_all + i - 1].seq);
			}
			n_all += n;
			after = page[n - 1].seq;
		}
		free(page);
		if (!more)
			break;
	}
	*out = all;
	return n_all;
}

static int64_t counter(const ob_standing *st, const char *key)
{
	for (size_t i = 0; i < st->n_counters; i++)
		if (strcmp(st->counters[i].key, key) == 0)
			return st->counters[i].count;
	return 0;
}

static const ob_state_change *last_change(const ob_application *a)
{
	assert_true(a->n_history > 0);
	assert_non_null(a->history);
	return &a->history[a->n_history - 1];
}

static void assert_time(int64_t ms, const char *want)
{
	char got[OB_RFC3339_STR_SIZE];
	ob_time_format_rfc3339(ms, got);
	assert_string_equal(got, want);
}

/* ---- the lifecycle table ------------------------------------------------------------------ */

/* The lifecycle of the issue, written out independently of model.c: every move there is. */
static const struct {
	ob_state from;
	ob_action action;
	ob_state to;
} lifecycle[] = {
        /* Issue 10: an ineligible or fraudulent waitlisted company is rejected in line. */
        {OB_STATE_WAITLISTED, OB_ACTION_REJECT, OB_STATE_REJECTED},
        {OB_STATE_SUBMITTED, OB_ACTION_START, OB_STATE_UNDER_REVIEW},
        {OB_STATE_SUBMITTED, OB_ACTION_REJECT, OB_STATE_REJECTED},
        {OB_STATE_UNDER_REVIEW, OB_ACTION_REQUEST_INFO, OB_STATE_NEEDS_INFO},
        {OB_STATE_UNDER_REVIEW, OB_ACTION_APPROVE, OB_STATE_APPROVED},
        {OB_STATE_UNDER_REVIEW, OB_ACTION_REJECT, OB_STATE_REJECTED},
        {OB_STATE_NEEDS_INFO, OB_ACTION_START, OB_STATE_UNDER_REVIEW},
        {OB_STATE_NEEDS_INFO, OB_ACTION_REJECT, OB_STATE_REJECTED},
        {OB_STATE_APPROVED, OB_ACTION_ONBOARD, OB_STATE_ONBOARDED},
};

static ob_state expected_transition(ob_state from, ob_action a)
{
	for (size_t i = 0; i < sizeof(lifecycle) / sizeof(lifecycle[0]); i++)
		if (lifecycle[i].from == from && lifecycle[i].action == a)
			return lifecycle[i].to;
	return OB_STATE_UNSPECIFIED;
}

/* ob_transition, holds_seat and final agree with the issue for every state and action. */
static void test_transition_table_exhaustive(void **state)
{
	(void)state;
	for (int s = 0; s < OB_STATE_COUNT; s++)
		for (int a = 0; a < OB_ACTION_COUNT; a++)
			if (ob_transition((ob_state)s, (ob_action)a) !=
			    expected_transition((ob_state)s, (ob_action)a))
				fail_msg("%s x %s: got %s", ob_state_name((ob_state)s),
				         ob_action_name((ob_action)a),
				         ob_state_name(ob_transition((ob_state)s, (ob_action)a)));
	assert_int_equal(ob_transition((ob_state)OB_STATE_COUNT, OB_ACTION_START),
	                 OB_STATE_UNSPECIFIED);
	assert_int_equal(ob_transition(OB_STATE_SUBMITTED, (ob_action)OB_ACTION_COUNT),
	                 OB_STATE_UNSPECIFIED);
	assert_int_equal(ob_transition((ob_state)-1, (ob_action)-1), OB_STATE_UNSPECIFIED);

	for (int s = 0; s < OB_STATE_COUNT; s++) {
		bool seat = s == OB_STATE_SUBMITTED || s == OB_STATE_UNDER_REVIEW ||
		            s == OB_STATE_NEEDS_INFO || s == OB_STATE_APPROVED ||
		            s == OB_STATE_ONBOARDED;
		bool final = s == OB_STATE_REJECTED || s == OB_STATE_WITHDRAWN;
		assert_int_equal(ob_state_holds_seat((ob_state)s), seat);
		assert_int_equal(ob_state_final((ob_state)s), final);
	}
}

/* From every state, every review action and withdrawal moves or is refused as the issue says. */
static void test_transition_table_through_domain(void **state)
{
	fx *f = *state;
	make_cohort(f, "open", 1000, NULL);
	make_cohort(f, "full", 0, NULL); /* every submission waits */
	uint32_t n = 1;
	for (int s = OB_STATE_WAITLISTED; s < OB_STATE_COUNT; s++) {
		const char *cohort = s == OB_STATE_WAITLISTED ? "full" : "open";
		for (int act = OB_ACTION_START; act <= OB_ACTION_COUNT; act++) {
			/* act == OB_ACTION_COUNT stands for the withdrawal column. */
			ob_application a, b;
			make_in_state(f, n++, cohort, (ob_state)s, &a);
			char msg[256];
			ob_state want;
			ob_err err;
			if (act == OB_ACTION_COUNT) {
				want = ob_state_final((ob_state)s) ? OB_STATE_UNSPECIFIED
				                                   : OB_STATE_WITHDRAWN;
				err = withdraw(f, a.id, a.version, &b, msg);
			} else {
				want = expected_transition((ob_state)s, (ob_action)act);
				err = review(f, a.id, (ob_action)act, a.version, &b, msg);
			}
			const char *what = act == OB_ACTION_COUNT ? "withdraw"
			                                          : ob_action_name((ob_action)act);
			if (want == OB_STATE_UNSPECIFIED) {
				if (err != OB_EPRECOND)
					fail_msg("%s from %s: %s, want FAILED_PRECONDITION", what,
					         ob_state_name((ob_state)s), ob_strerror(err));
				if (strstr(msg, ob_state_name((ob_state)s)) == NULL)
					fail_msg("%s from %s: message '%s' does not name the state",
					         what, ob_state_name((ob_state)s), msg);
				ob_application_fini(&b);
				get_ok(f, a.id, &b);
				assert_int_equal(b.state, s);
				assert_int_equal(b.version, a.version);
				assert_int_equal(b.n_history, a.n_history);
			} else {
				if (err != OB_OK)
					fail_msg("%s from %s: %s: %s", what,
					         ob_state_name((ob_state)s), ob_strerror(err), msg);
				assert_int_equal(b.state, want);
				assert_int_equal(b.version, a.version + 1);
				assert_int_equal(b.n_history, a.n_history + 1);
				assert_int_equal(last_change(&b)->from, s);
				assert_int_equal(last_change(&b)->to, want);
				assert_non_null(strstr(last_change(&b)->reason, what));
				if (want == OB_STATE_REJECTED)
					assert_int_equal(b.rejection, OB_REJECTION_INELIGIBLE);
			}
			ob_application_fini(&a);
			ob_application_fini(&b);
		}
	}
}

/* A review without action or rejection reason is refused with each field named; without a
 * version it takes the application as it is. */
static void test_review_request_checked(void **state)
{
	fx *f = *state;
	ob_application a, b;
	submit_ok(f, 1, NULL, &a);
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_review(f->d, TD_AS("reviewer"), a.id, OB_ACTION_UNSPECIFIED, 0,
	                                  OB_REJECTION_NONE, NULL, NULL, &b, &o),
	                 OB_EINVAL);
	assert_int_equal(o.n_violations, 1);
	assert_string_equal(o.violations[0].field, "action");
	ob_outcome_fini(&o);
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_review(f->d, TD_AS("reviewer"), a.id, OB_ACTION_START, 0,
	                                  OB_REJECTION_NONE, NULL, NULL, &b, &o),
	                 OB_OK);
	assert_int_equal(b.state, OB_STATE_UNDER_REVIEW);
	assert_int_equal(b.version, a.version + 1);
	a.version = b.version;
	ob_application_fini(&b);
	ob_outcome_fini(&o);
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_review(f->d, TD_AS("reviewer"), a.id, OB_ACTION_REJECT,
	                                  a.version, OB_REJECTION_NONE, NULL, NULL, &b, &o),
	                 OB_EINVAL);
	assert_int_equal(o.n_violations, 1);
	assert_string_equal(o.violations[0].field, "rejection_reason");
	ob_outcome_fini(&o);
	refresh(f, &a);
	assert_int_equal(a.state, OB_STATE_UNDER_REVIEW); /* the refused review changed nothing */
	assert_int_equal(a.version, 2);
	ob_application_fini(&a);
}

/* ---- submission ---------------------------------------------------------------------------- */

/* A valid submission is SUBMITTED v1 with one history entry, readable by id and SIREN. */
static void test_submit_creates_submitted_with_history(void **state)
{
	fx *f = *state;
	int64_t before = ob_clock_now_ms();
	ob_application a, b;
	submit_ok(f, 1, NULL, &a);
	assert_int_equal(strlen(a.id), OB_ID_LEN);
	assert_string_equal(a.cohort_id, OB_DEFAULT_COHORT);
	assert_int_equal(a.state, OB_STATE_SUBMITTED);
	assert_int_equal(a.version, 1);
	assert_int_equal(a.waitlist_position, 0);
	assert_int_equal(a.size, OB_SIZE_TPE);
	assert_string_equal(a.contact.phone, "+33100000001");
	assert_string_equal(a.company.address.departement, "69");
	assert_string_equal(a.company.address.region, "Auvergne-Rhône-Alpes");
	assert_true(a.submitted_at_ms >= before && a.submitted_at_ms < before + 60000);
	assert_int_equal(a.n_history, 1);
	assert_int_equal(a.history[0].from, OB_STATE_UNSPECIFIED);
	assert_int_equal(a.history[0].to, OB_STATE_SUBMITTED);
	assert_string_equal(a.history[0].actor, "test");
	assert_int_equal(a.history[0].at_ms, a.submitted_at_ms);
	assert_false(a.benefits.granted);

	get_ok(f, a.id, &b);
	assert_string_equal(b.id, a.id);
	assert_int_equal(b.seq, a.seq);
	assert_int_equal(b.state, OB_STATE_SUBMITTED);
	assert_int_equal(b.n_history, 1);
	assert_string_equal(b.company.siren, a.company.siren);
	assert_string_equal(b.contact.email, a.contact.email);
	ob_application_fini(&b);

	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(
	        ob_domain_get(f->d, TD_ALL, NULL, OB_DEFAULT_COHORT, a.company.siren, &b, &o),
	        OB_OK);
	assert_string_equal(b.id, a.id);
	ob_application_fini(&b);
	ob_outcome_fini(&o);

	ob_standing st;
	standing(f, OB_DEFAULT_COHORT, &st);
	assert_int_equal(st.cohort.capacity, 800);
	assert_int_equal(st.seats_held, 1);
	assert_int_equal(st.seats_free, 799);
	assert_int_equal(st.waitlist, 0);
	assert_int_equal(st.applications, 1);
	ob_standing_fini(&st);
	ob_application_fini(&a);
}

/* NOT_FOUND leaves the caller's struct alone (the RPC layer passes an uninitialised one). */
static void test_get_unknown_leaves_caller_memory(void **state)
{
	fx *f = *state;
	ob_application a;
	memset(&a, 0xA5, sizeof(a)); /* what an uninitialised stack variable may hold */
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(
	        ob_domain_get(f->d, TD_ALL, "01ARZ3NDEKTSV4RRFFQ69G5FAV", NULL, NULL, &a, &o),
	        OB_ENOTFOUND);
	assert_non_null(strstr(o.message, "01ARZ3NDEKTSV4RRFFQ69G5FAV"));
	ob_outcome_fini(&o);
	memset(&a, 0xA5, sizeof(a));
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_get(f->d, TD_ALL, NULL, OB_DEFAULT_COHORT, "732829320", &a, &o),
	                 OB_ENOTFOUND);
	ob_outcome_fini(&o);
}

/* A second SIREN in a cohort is ALREADY_EXISTS naming the first id; other cohorts take it. */
static void test_duplicate_siren_names_first_id(void **state)
{
	fx *f = *state;
	make_cohort(f, "other", 10, NULL);
	ob_application a, b;
	submit_ok(f, 7, NULL, &a);
	char msg[256];
	assert_int_equal(submit(f, 7, NULL, &b, msg), OB_EEXIST);
	assert_non_null(strstr(msg, a.id));

	td_company c;
	td_company_make(&c, 7);
	char spaced[16];
	snprintf(spaced, sizeof(spaced), "%.3s %.3s %.3s", c.siren, c.siren + 3, c.siren + 6);
	snprintf(c.siren, sizeof(c.siren), "%s", "");
	ob_submission s;
	td_submission(&s, &c, NULL);
	s.siren = spaced;
	s.siret = "";
	s.vat = "";
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_submit(f->d, TD_AS("test"), &s, NULL, &b, &o), OB_EEXIST);
	assert_non_null(strstr(o.message, a.id));
	ob_outcome_fini(&o);

	assert_counted(f, OB_DEFAULT_COHORT, 1, 1);

	submit_ok(f, 7, "other", &b);
	assert_string_not_equal(b.id, a.id);
	ob_application_fini(&a);
	ob_application_fini(&b);
}

/* A submission wrong in ten fields gets ten violations with their paths and stores nothing. */
static void test_all_violations_at_once(void **state)
{
	fx *f = *state;
	const char *cats[] = {"mode", "   "};
	ob_submission s = {
	        .siren = "732829321", /* Luhn fails */
	        .legal_name = "",     /* required */
	        .naf = "99.99Z",      /* not a sub-class of NAF rev. 2 */
	        .legal_form = OB_LEGAL_EI,
	        .has_employees = true,
	        .has_turnover = true,
	        .has_balance = true,
	        .employees = 3,
	        .turnover_eur = -5, /* negative */
	        .street = "1 rue de Rivoli",
	        .postal_code = "7500", /* 4 digits */
	        .city = "Paris",
	        .contact_name = "Camille Martin",
	        .email = "camille@",         /* no domain */
	        .phone = "+44 20 7946 0958", /* not French */
	        .channel = 0,                /* unspecified */
	        .categories = cats,
	        .n_categories = 2, /* the second is blank */
	        .accepts_terms = false,
	};
	const char *want[] = {
	        "company.siren",
	        "company.legal_name",
	        "company.naf_code",
	        "company.turnover_eur",
	        "company.address.postal_code",
	        "contact.email",
	        "contact.phone",
	        "channel",
	        "product_categories[1]",
	        "accepts_terms",
	};
	const size_t n_want = sizeof(want) / sizeof(want[0]);
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(ob_domain_submit(f->d, TD_AS("test"), &s, NULL, &a, &o), OB_EINVAL);
	if (o.n_violations != n_want) {
		for (size_t i = 0; i < o.n_violations; i++)
			print_message("violation %s: %s\n", o.violations[i].field,
			              o.violations[i].description);
		fail_msg("%zu violations, want %zu", o.n_violations, n_want);
	}
	for (size_t i = 0; i < n_want; i++) {
		size_t found = 0;
		for (size_t j = 0; j < o.n_violations; j++)
			found += strcmp(o.violations[j].field, want[i]) == 0;
		if (found != 1)
			fail_msg("violation %s reported %zu times", want[i], found);
	}
	char count[32];
	snprintf(count, sizeof(count), "%zu", n_want);
	assert_non_null(strstr(o.message, count));
	ob_outcome_fini(&o);

	assert_counted(f, OB_DEFAULT_COHORT, 0, 0);
}

/* ETI and GE companies are refused FAILED_PRECONDITION naming the size; nothing is stored. */
static void test_ineligible_sizes_refused(void **state)
{
	fx *f = *state;
	struct {
		uint32_t employees;
		int64_t turnover, balance;
		const char *name;
	} cases[] = {
	        {300, 100000000, 80000000, "ETI"},
	        {6000, 2000000000, 3000000000, "GE"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		td_company c;
		td_company_make(&c, 100 + (uint32_t)i);
		c.employees = cases[i].employees;
		c.turnover_eur = cases[i].turnover;
		c.balance_eur = cases[i].balance;
		ob_submission s;
		td_submission(&s, &c, NULL);
		ob_outcome o;
		ob_outcome_init(&o);
		ob_application a;
		memset(&a, 0, sizeof(a));
		assert_int_equal(ob_domain_submit(f->d, TD_AS("test"), &s, NULL, &a, &o),
		                 OB_EPRECOND);
		assert_non_null(strstr(o.message, cases[i].name));
		ob_outcome_fini(&o);
	}
	assert_counted(f, OB_DEFAULT_COHORT, 0, 0);
}

/* ---- seats and waitlist -------------------------------------------------------------------- */

static uint32_t position_of(fx *f, const char *id)
{
	ob_application a;
	get_ok(f, id, &a);
	uint32_t p = a.state == OB_STATE_WAITLISTED ? a.waitlist_position : 0;
	if (a.state != OB_STATE_WAITLISTED)
		assert_int_equal(a.waitlist_position, 0);
	ob_application_fini(&a);
	return p;
}

static void assert_seats(fx *f, const char *cohort, uint32_t held, uint32_t waiting)
{
	ob_standing st;
	standing(f, cohort, &st);
	assert_int_equal(st.seats_held, held);
	assert_int_equal(st.waitlist, waiting);
	assert_true(st.seats_held <= st.cohort.capacity);
	assert_int_equal(st.seats_free, st.cohort.capacity - st.seats_held);
	ob_standing_fini(&st);
}

/* The last history entry of id is a promotion by the system from the waitlist. */
static void assert_promoted(fx *f, const char *id)
{
	ob_application a;
	get_ok(f, id, &a);
	assert_int_equal(a.state, OB_STATE_SUBMITTED);
	assert_int_equal(a.n_history, 2);
	assert_int_equal(a.history[0].to, OB_STATE_WAITLISTED);
	assert_int_equal(a.history[1].from, OB_STATE_WAITLISTED);
	assert_int_equal(a.history[1].to, OB_STATE_SUBMITTED);
	assert_string_equal(a.history[1].actor, "system");
	assert_non_null(strstr(a.history[1].reason, "promoted"));
	assert_int_equal(a.version, 2);
	ob_application_fini(&a);
}

/* Capacity 3: 5 submits wait at 1 and 2; freed seats go to the first in line at once. */
static void test_waitlist_and_promotion(void **state)
{
	fx *f = *state;
	make_cohort(f, "c3", 3, NULL);
	ob_application a[5];
	submit_series(f, 10, 5, "c3", a);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a[i].state, OB_STATE_SUBMITTED);
		assert_int_equal(a[i].waitlist_position, 0);
	}
	assert_int_equal(a[3].state, OB_STATE_WAITLISTED);
	assert_int_equal(a[3].waitlist_position, 1);
	assert_int_equal(a[4].state, OB_STATE_WAITLISTED);
	assert_int_equal(a[4].waitlist_position, 2);
	assert_int_equal(a[3].history[0].to, OB_STATE_WAITLISTED);
	assert_seats(f, "c3", 3, 2);

	/* A rejection from SUBMITTED frees a seat. */
	ob_application r;
	assert_int_equal(review(f, a[1].id, OB_ACTION_REJECT, a[1].version, &r, NULL), OB_OK);
	assert_int_equal(r.state, OB_STATE_REJECTED);
	ob_application_fini(&r);
	assert_promoted(f, a[3].id);
	assert_int_equal(position_of(f, a[4].id), 1);
	assert_seats(f, "c3", 3, 1);

	/* A withdrawal from UNDER_REVIEW frees one too. */
	review_ok(f, &a[0], OB_ACTION_START);
	withdraw_ok(f, &a[0]);
	assert_int_equal(a[0].state, OB_STATE_WITHDRAWN);
	assert_promoted(f, a[4].id);
	assert_seats(f, "c3", 3, 0);

	/* Two more wait; the second leaves the line: nobody is promoted, the first stays first. */
	ob_application w1, w2;
	submit_ok(f, 20, "c3", &w1);
	submit_ok(f, 21, "c3", &w2);
	assert_int_equal(w1.waitlist_position, 1);
	assert_int_equal(w2.waitlist_position, 2);
	withdraw_ok(f, &w2);
	assert_int_equal(w2.state, OB_STATE_WITHDRAWN);
	assert_int_equal(position_of(f, w1.id), 1);
	assert_seats(f, "c3", 3, 1);

	/* A rejection from NEEDS_INFO frees a seat for w1. */
	ob_application x;
	get_ok(f, a[3].id, &x);
	review_ok(f, &x, OB_ACTION_START);
	review_ok(f, &x, OB_ACTION_REQUEST_INFO);
	review_ok(f, &x, OB_ACTION_REJECT);
	assert_promoted(f, w1.id);
	assert_seats(f, "c3", 3, 0);

	ob_application_fini(&x);
	ob_application_fini(&w1);
	ob_application_fini(&w2);
	ob_test_applications_fini(a, 5);
}

/* Raising capacity promotes oldest first; lowering it below the seats held is refused. */
static void test_capacity_changes(void **state)
{
	fx *f = *state;
	make_cohort(f, "c2", 2, NULL);
	ob_application a[6];
	submit_series(f, 30, 6, "c2", a);
	assert_seats(f, "c2", 2, 4);

	char msg[256];
	assert_int_equal(set_capacity(f, "c2", 4, msg), OB_OK);
	assert_promoted(f, a[2].id);
	assert_promoted(f, a[3].id);
	assert_int_equal(position_of(f, a[4].id), 1);
	assert_int_equal(position_of(f, a[5].id), 2);
	assert_seats(f, "c2", 4, 2);

	assert_int_equal(set_capacity(f, "c2", 3, msg), OB_EPRECOND);
	assert_non_null(strstr(msg, "4"));
	ob_standing st;
	standing(f, "c2", &st);
	assert_int_equal(st.cohort.capacity, 4);
	ob_standing_fini(&st);

	assert_int_equal(set_capacity(f, "c2", 4, msg), OB_OK);
	assert_seats(f, "c2", 4, 2);
	assert_int_equal(set_capacity(f, "c2", 100, msg), OB_OK);
	assert_promoted(f, a[4].id);
	assert_promoted(f, a[5].id);
	assert_seats(f, "c2", 6, 0);
	assert_int_equal(set_capacity(f, "nope", 5, msg), OB_ENOTFOUND);
	assert_int_equal(set_capacity(f, "c2", OB_MAX_CAPACITY + 1, msg), OB_EINVAL);
	ob_test_applications_fini(a, 6);
}

/* A stale expected_version is ABORTED (OB_ESTALE) and changes nothing; withdraw at 0 is any. */
static void test_stale_version(void **state)
{
	fx *f = *state;
	ob_application a, b;
	submit_ok(f, 40, NULL, &a);
	review_ok(f, &a, OB_ACTION_START);
	assert_int_equal(a.version, 2);
	char msg[256];
	assert_int_equal(review(f, a.id, OB_ACTION_REQUEST_INFO, 1, &b, msg), OB_ESTALE);
	assert_non_null(strstr(msg, "version 2"));
	assert_int_equal(review(f, a.id, OB_ACTION_APPROVE, 3, &b, msg), OB_ESTALE);
	assert_int_equal(review(f, a.id, OB_ACTION_ONBOARD, 1, &b, msg), OB_ESTALE);
	assert_int_equal(withdraw(f, a.id, 1, &b, msg), OB_ESTALE);
	refresh(f, &a);
	assert_int_equal(a.state, OB_STATE_UNDER_REVIEW);
	assert_int_equal(a.version, 2);
	assert_int_equal(a.n_history, 2);
	assert_int_equal(withdraw(f, a.id, 0, &b, msg), OB_OK);
	assert_int_equal(b.state, OB_STATE_WITHDRAWN);
	assert_int_equal(b.version, 3);
	ob_application_fini(&b);
	assert_int_equal(review(f, "01ARZ3NDEKTSV4RRFFQ69G5FAV", OB_ACTION_START, 1, &b, msg),
	                 OB_ENOTFOUND);
	ob_application_fini(&a);
}

/* ---- benefits ------------------------------------------------------------------------------ */

/* Winter approval on Friday 20 November: 4 months (15600 cents), 20000 ad cents, and the
 * webinar on the next business day, Monday 23, 10:00 in Paris (09:00 UTC). */
static void test_benefits_winter(void **state)
{
	fx *f = *state;
	ob_application a;
	approve_new(f, 50, NULL, &a);
	const ob_benefits *b = &a.benefits;
	assert_true(b->granted);
	assert_false(b->revoked);
	assert_string_equal(b->fee_waiver_from, "2020-11-20");
	assert_string_equal(b->fee_waiver_until, "2021-03-15");
	assert_int_equal(b->fee_waiver_months, 4); /* Nov 20, Dec 20, Jan 20, Feb 20 */
	assert_int_equal(b->fee_waived_cents, 15600);
	assert_int_equal(b->ad_credit_cents, 20000);
	assert_int_equal(b->ad_credit_used_cents, 0);
	assert_time(b->webinar_at_ms, "2020-11-23T09:00:00.000Z");
	assert_int_equal(b->advisor, 1);
	assert_int_equal(last_change(&a)->to, OB_STATE_APPROVED);
	/* Stored, not only returned. */
	refresh(f, &a);
	assert_int_equal(a.benefits.fee_waived_cents, 15600);
	assert_time(a.benefits.webinar_at_ms, "2020-11-23T09:00:00.000Z");
	assert_int_equal(a.benefits.advisor, 1);
	/* Onboarding keeps them as they are. */
	review_ok(f, &a, OB_ACTION_ONBOARD);
	assert_int_equal(a.state, OB_STATE_ONBOARDED);
	assert_int_equal(a.benefits.fee_waived_cents, 15600);
	assert_int_equal(a.benefits.advisor, 1);
	ob_application_fini(&a);
}

/* Summer approval: the 10:00 Paris webinar is 08:00 UTC; months run to the cohort's end. */
static void test_benefits_summer(void **state)
{
	fx *f = *state;
	/* A cohort of the spring 2021 lockdown, whose waiver runs to the end of 2021. */
	make_cohort(f, "2021-06", 800,
	            &(const cohort_tweak){.lockdown_start = "2021-04-03",
	                                  .lockdown_end = "2021-06-30",
	                                  .fee_waiver_until = "2021-12-31"});
	ob_clock_set_now_ms(at("2021-06-10T12:00:00Z"));
	ob_application a;
	approve_new(f, 60, "2021-06", &a);
	assert_string_equal(a.benefits.fee_waiver_from, "2021-06-10");
	assert_string_equal(a.benefits.fee_waiver_until, "2021-12-31");
	assert_int_equal(a.benefits.fee_waiver_months, 7); /* Jun 10 .. Dec 10 */
	assert_int_equal(a.benefits.fee_waived_cents, 7 * 3900);
	assert_time(a.benefits.webinar_at_ms, "2021-06-11T08:00:00.000Z");
	ob_application_fini(&a);

	/* 07:30 in Paris: today's session is more than the lead time (2 hours) away. */
	ob_clock_set_now_ms(at("2021-06-10T05:30:00Z"));
	approve_new(f, 61, "2021-06", &a);
	assert_time(a.benefits.webinar_at_ms, "2021-06-10T08:00:00.000Z");
	ob_application_fini(&a);
}

/* Around both clock changes the webinar stays at 10:00 Paris. */
static void test_benefits_across_dst(void **state)
{
	fx *f = *state;
	/* Submissions from October 2020 to April 2021, sessions every day and a lead time of a
	 * minute: the clock changes fall on Sundays. */
	make_cohort(f, "late", 800,
	            &(const cohort_tweak){.lockdown_start = "2020-10-01",
	                                  .lockdown_end = "2021-04-30",
	                                  .fee_waiver_until = "2021-12-31",
	                                  .webinar_weekends = true,
	                                  .webinar_holidays = true,
	                                  .webinar_lead_minutes = 1});
	ob_application a;

	ob_clock_set_now_ms(at("2021-03-27T12:00:00Z")); /* Saturday, still CET */
	approve_new(f, 70, "late", &a);
	assert_time(a.benefits.webinar_at_ms, "2021-03-28T08:00:00.000Z");
	assert_int_equal(a.benefits.fee_waiver_months, 10); /* Mar 27 .. Dec 27 */
	ob_application_fini(&a);

	ob_clock_set_now_ms(at("2021-03-28T09:00:00Z")); /* 11:00 CEST: today's has passed */
	approve_new(f, 71, "late", &a);
	assert_time(a.benefits.webinar_at_ms, "2021-03-29T08:00:00.000Z");
	ob_application_fini(&a);

	ob_clock_set_now_ms(at("2020-10-24T07:00:00Z")); /* 09:00 CEST */
	approve_new(f, 73, "late", &a);
	assert_time(a.benefits.webinar_at_ms, "2020-10-24T08:00:00.000Z");
	assert_int_equal(a.benefits.fee_waiver_months, 15); /* Oct 24 2020 .. Dec 24 2021 */
	assert_int_equal(a.benefits.fee_waived_cents, 15 * 3900);
	ob_application_fini(&a);

	ob_clock_set_now_ms(at("2020-10-24T12:00:00Z"));
	approve_new(f, 74, "late", &a);
	assert_time(a.benefits.webinar_at_ms, "2020-10-25T09:00:00.000Z");
	ob_application_fini(&a);

	ob_clock_set_now_ms(at("2020-10-25T08:30:00Z")); /* 09:30 CET, after the change */
	approve_new(f, 75, "late", &a);
	assert_time(a.benefits.webinar_at_ms, "2020-10-25T09:00:00.000Z");
	ob_application_fini(&a);
}

/* 100 seats per session and topic: the 101st approval of a day whose channel is the own web
 * shop goes a business day later (Monday 23, then Tuesday 24), while the marketplace's session
 * of Monday still has its own 100 seats; advisors 1, 2, 3... */
static void test_webinar_session_fills(void **state)
{
	fx *f = *state;
	ob_application a;
	for (uint32_t i = 0; i < 101; i++) {
		approve_new(f, 1000 + 3 * i, NULL, &a); /* seeds n % 3 == 1: OWN_WEBSHOP */
		assert_int_equal(a.channel, OB_CHANNEL_OWN_WEBSHOP);
		assert_int_equal(a.webinar.topic, OB_TOPIC_OWN_WEBSHOP);
		assert_time(a.benefits.webinar_at_ms,
		            i < 100 ? "2020-11-23T09:00:00.000Z" : "2020-11-24T09:00:00.000Z");
		assert_int_equal(a.webinar.session_ms, a.benefits.webinar_at_ms);
		assert_int_equal(a.benefits.advisor, i + 1);
		ob_application_fini(&a);
	}
	approve_new(f, 2000, NULL, &a); /* BOTH: the marketplace's topic */
	assert_int_equal(a.webinar.topic, OB_TOPIC_MARKETPLACE);
	assert_time(a.benefits.webinar_at_ms, "2020-11-23T09:00:00.000Z");
	ob_application_fini(&a);
}

/* Adds an advisor to cohort as an administrator would; langs "fr,en". */
static ob_err advisor_add(fx *f, const char *cohort, const char *name, const char *region,
                          const char *langs, uint32_t capacity, ob_advisor *out, ob_outcome *o)
{
	char buf[64], *l[8];
	size_t n = 0;
	snprintf(buf, sizeof(buf), "%s", langs);
	for (char *save = NULL, *w = strtok_r(buf, ",", &save); w != NULL && n < 8;
	     w = strtok_r(NULL, ",", &save))
		l[n++] = w;
	return ob_domain_advisor_add(f->d, cohort, name, region, (const char *const *)l, n,
	                             capacity, NULL, out, o);
}

static uint32_t advisor_add_ok(fx *f, const char *cohort, const char *name, const char *region,
                               const char *langs, uint32_t capacity)
{
	ob_outcome o;
	ob_outcome_init(&o);
	ob_advisor a;
	ob_err err = advisor_add(f, cohort, name, region, langs, capacity, &a, &o);
	if (err != OB_OK)
		fail_msg("add advisor %s: %s: %s", name, ob_strerror(err), o.message);
	ob_outcome_fini(&o);
	assert_string_equal(a.name, name);
	assert_true(a.active);
	return a.number;
}

static ob_err advisor_update(fx *f, const char *cohort, uint32_t number, uint32_t capacity,
                             int active, char *msg)
{
	ob_outcome o;
	ob_outcome_init(&o);
	ob_advisor a;
	ob_err err = ob_domain_advisor_update(f->d, cohort, number, capacity, active, NULL, &a, &o);
	snprintf(msg, 256, "%s", o.message);
	ob_outcome_fini(&o);
	return err;
}

static ob_err reassign(fx *f, ob_application *a, uint32_t advisor, char *msg)
{
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application next;
	ob_err err = ob_domain_reassign_advisor(f->d, TD_AS("reviewer"), a->id, advisor,
	                                        "the company asked", NULL, &next, &o);
	snprintf(msg, 256, "%s", o.n_violations > 0 ? o.violations[0].field : o.message);
	ob_outcome_fini(&o);
	if (err == OB_OK) {
		ob_application_fini(a);
		*a = next;
	}
	return err;
}

/* The loads of cohort's advisors 1..n into load[]. */
static void advisor_loads(fx *f, const char *cohort, uint32_t *load, size_t n)
{
	ob_outcome o;
	ob_outcome_init(&o);
	ob_advisor *list = NULL;
	size_t got = 0;
	assert_int_equal(ob_domain_advisors(f->d, cohort, &list, &got, &o), OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(list[i].number, i + 1);
		load[i] = list[i].load;
	}
	free(list);
}

#define ASSERT_LOADS(f, cohort, ...)                                                               \
	do {                                                                                       \
		const uint32_t want_[] = {__VA_ARGS__};                                            \
		uint32_t got_[sizeof(want_) / sizeof(want_[0])];                                   \
		advisor_loads(f, cohort, got_, sizeof(want_) / sizeof(want_[0]));                  \
		assert_memory_equal(got_, want_, sizeof(want_));                                   \
	} while (0)

/* An approval assigns the least loaded active advisor of the company's region who speaks
 * French and has capacity left; else one of any region (the history says so); else none, and
 * the approval still goes through. Companies 800, 808... are in Ile-de-France. */
static void test_advisors_by_region_language_capacity(void **state)
{
	fx *f = *state;
	const char *idf = "\xc3\x8ele-de-France";
	make_cohort(f, "ppl", 100, &(const cohort_tweak){.no_advisors = true});
	assert_int_equal(advisor_add_ok(f, "ppl", "Corinne", "Corse", "fr", 5), 1);
	assert_int_equal(advisor_add_ok(f, "ppl", "Ann", idf, "en", 5), 2);
	assert_int_equal(advisor_add_ok(f, "ppl", "Jeanne", idf, "fr,EN", 1), 3);
	assert_int_equal(advisor_add_ok(f, "ppl", "Paul", idf, "fr", 2), 4);
	assert_int_equal(advisor_add_ok(f, "ppl", "Zo\xc3\xa9", "any", "fr", 1), 5);

	ob_application a[5];
	approve_new(f, 800, "ppl", &a[0]);
	assert_string_equal(a[0].company.address.region, idf);
	assert_int_equal(a[0].benefits.advisor, 3); /* 3 and 4 at 0: the lowest number */
	assert_string_equal(a[0].benefits.advisor_name, "Jeanne");
	assert_non_null(strstr(last_change(&a[0])->reason, "approve; advisor assigned: #3 Jeanne"));
	approve_new(f, 808, "ppl", &a[1]); /* Jeanne is full */
	assert_int_equal(a[1].benefits.advisor, 4);
	approve_new(f, 816, "ppl", &a[2]);
	assert_int_equal(a[2].benefits.advisor, 4);
	approve_new(f, 824, "ppl", &a[3]); /* none left in the region who speaks French */
	assert_int_equal(a[3].benefits.advisor, 1);
	assert_non_null(strstr(last_change(&a[3])->reason, "from another region"));
	ASSERT_LOADS(f, "ppl", 1, 0, 1, 2, 0);

	char msg[256];
	assert_int_equal(advisor_update(f, "ppl", 5, 0, 0, msg), OB_OK);  /* Zoe inactive */
	assert_int_equal(advisor_update(f, "ppl", 1, 1, -1, msg), OB_OK); /* Corinne full */
	assert_int_equal(advisor_update(f, "ppl", 4, 1, -1, msg), OB_EPRECOND);
	assert_non_null(strstr(msg, "follows 2 companies"));
	approve_new(f, 832, "ppl", &a[4]);
	assert_int_equal(a[4].state, OB_STATE_APPROVED);
	assert_int_equal(a[4].benefits.advisor, 0);
	assert_non_null(strstr(last_change(&a[4])->reason, "no advisor assigned"));

	withdraw_ok(f, &a[0]); /* Jeanne's load goes */
	ASSERT_LOADS(f, "ppl", 1, 0, 0, 2, 0);
	assert_int_equal(reassign(f, &a[4], 3, msg), OB_OK);
	assert_int_equal(a[4].benefits.advisor, 3);
	assert_string_equal(a[4].benefits.advisor_name, "Jeanne");
	assert_non_null(strstr(last_change(&a[4])->reason, "advisor reassigned: #3 Jeanne"));
	assert_string_equal(last_change(&a[4])->note, "the company asked");
	assert_int_equal(reassign(f, &a[1], 0, msg), OB_EPRECOND); /* all others full or inactive */
	assert_int_equal(reassign(f, &a[1], 5, msg), OB_EPRECOND);
	assert_non_null(strstr(msg, "inactive"));
	assert_int_equal(reassign(f, &a[1], 1, msg), OB_EPRECOND);
	assert_non_null(strstr(msg, "at capacity"));
	assert_int_equal(reassign(f, &a[1], 99, msg), OB_EINVAL);
	assert_non_null(strstr(msg, "advisor"));
	assert_int_equal(reassign(f, &a[0], 0, msg), OB_EPRECOND); /* withdrawn */
	assert_int_equal(advisor_update(f, "ppl", 5, 0, 1, msg), OB_OK);
	assert_int_equal(reassign(f, &a[1], 0, msg), OB_OK);
	assert_int_equal(a[1].benefits.advisor, 5);
	assert_non_null(strstr(last_change(&a[1])->reason, "was #4"));
	ASSERT_LOADS(f, "ppl", 1, 0, 1, 1, 1);
	ob_application got;
	get_ok(f, a[1].id, &got);
	assert_string_equal(got.benefits.advisor_name, "Zo\xc3\xa9");
	ob_application_fini(&got);
	ob_test_applications_fini(a, 5);
}

/* Bad advisors are refused field by field; nothing is added. */
static void test_advisor_violations(void **state)
{
	fx *f = *state;
	char long_name[OB_ADVISOR_NAME_MAX + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	const struct {
		const char *name, *region, *langs;
		uint32_t capacity;
		const char *field;
	} bad[] = {
	        {"", "Bretagne", "fr", 5, "name"},
	        {"   ", "Bretagne", "fr", 5, "name"},
	        {long_name, "Bretagne", "fr", 5, "name"},
	        {"Jo\xff", "Bretagne", "fr", 5, "name"},
	        {"Jo", "Bretagn", "fr", 5, "region"},
	        {"Jo", "bretagne", "fr", 5, "region"},
	        {"Jo", "Bretagne", "", 5, "languages"},
	        {"Jo", "Bretagne", "fr,xx", 5, "languages"},
	        {"Jo", "Bretagne", "fr,FR", 5, "languages"},
	        {"Jo", "Bretagne", "fra", 5, "languages"},
	        {"Jo", "Bretagne", "fr", 0, "capacity"},
	        {"Jo", "Bretagne", "fr", 1001, "capacity"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ob_outcome o;
		ob_outcome_init(&o);
		ob_advisor a;
		assert_int_equal(advisor_add(f, NULL, bad[i].name, bad[i].region, bad[i].langs,
		                             bad[i].capacity, &a, &o),
		                 OB_EINVAL);
		assert_int_equal(o.n_violations, 1);
		assert_string_equal(o.violations[0].field, bad[i].field);
		ob_outcome_fini(&o);
	}
	ob_outcome o;
	ob_outcome_init(&o);
	ob_advisor a;
	assert_int_equal(advisor_add(f, "nope", "Jo", "any", "fr", 5, &a, &o), OB_ENOTFOUND);
	assert_int_equal(advisor_add(f, "Not A Cohort", "Jo", "any", "fr", 5, &a, &o), OB_EINVAL);
	ob_outcome_fini(&o);
	char msg[256];
	assert_int_equal(advisor_update(f, NULL, 0, 0, -1, msg), OB_EINVAL);
	assert_int_equal(advisor_update(f, NULL, 301, 0, -1, msg),
	                 OB_EINVAL); /* 300 placeholders */
	assert_int_equal(advisor_update(f, NULL, 1, 1001, -1, msg), OB_EINVAL);
	/* The default cohort's 300 placeholders: the next one is 301. */
	assert_int_equal(advisor_add_ok(f, NULL, "Jo", "Bretagne", "br,fr", 3), 301);
}

/* The least loaded advisor is picked, lowest number on ties; withdrawal lightens the load. */
static void test_advisors_least_loaded(void **state)
{
	fx *f = *state;
	make_cohort(f, "adv", 100, &(const cohort_tweak){.advisor_pool = 3});
	ob_application a[8];
	const uint32_t want[6] = {1, 2, 3, 1, 2, 3};
	for (uint32_t i = 0; i < 6; i++) {
		approve_new(f, 200 + i, "adv", &a[i]);
		assert_int_equal(a[i].benefits.advisor, want[i]);
	}
	withdraw_ok(f, &a[1]); /* loads 2, 1, 2 */
	approve_new(f, 206, "adv", &a[6]);
	assert_int_equal(a[6].benefits.advisor, 2);
	approve_new(f, 207, "adv", &a[7]); /* loads 2, 2, 2 */
	assert_int_equal(a[7].benefits.advisor, 1);
	ob_test_applications_fini(a, 8);
}

/* Withdrawal before the webinar revokes credit, future months, webinar seat and advisor. */
static void test_withdraw_after_approval_revokes_unused(void **state)
{
	fx *f = *state;
	make_cohort(f, "rev", 100, &(const cohort_tweak){.webinar_seats = 1, .advisor_pool = 2});
	ob_application a, b, c;
	approve_new(f, 300, "rev", &a);
	assert_time(a.benefits.webinar_at_ms, "2020-11-23T09:00:00.000Z");
	assert_int_equal(a.benefits.advisor, 1);

	ob_clock_set_now_ms(at("2020-11-20T15:00:00Z"));
	int64_t before = ob_clock_now_ms();
	withdraw_ok(f, &a);
	assert_int_equal(a.state, OB_STATE_WITHDRAWN);
	const ob_benefits *bn = &a.benefits;
	assert_true(bn->granted);
	assert_true(bn->revoked);
	assert_true(bn->revoked_at_ms >= before && bn->revoked_at_ms < before + 60000);
	assert_int_equal(bn->ad_credit_cents, bn->ad_credit_used_cents);
	assert_int_equal(bn->ad_credit_cents, 0);
	assert_string_equal(bn->fee_waiver_until, "2020-11-20");
	assert_int_equal(bn->fee_waiver_months, 1); /* the waiver now ends today */
	assert_int_equal(bn->fee_waived_cents, 3900);
	assert_int_equal(bn->webinar_at_ms, 0);
	refresh(f, &a); /* stored */
	assert_true(a.benefits.revoked);
	assert_int_equal(a.benefits.webinar_at_ms, 0);
	assert_int_equal(a.benefits.ad_credit_cents, 0);

	/* The one seat of Monday's session and advisor 1 are free again. */
	approve_new(f, 303, "rev", &b); /* the same topic as a's: MARKETPLACE */
	assert_time(b.benefits.webinar_at_ms, "2020-11-23T09:00:00.000Z");
	assert_int_equal(b.benefits.advisor, 1);
	approve_new(f, 305, "rev", &c);
	assert_time(c.benefits.webinar_at_ms, "2020-11-24T09:00:00.000Z");
	assert_int_equal(c.benefits.advisor, 2);
	ob_application_fini(&a);
	ob_application_fini(&b);
	ob_application_fini(&c);
}

/* Withdrawal after the webinar keeps it and the months started, and frees the advisor. */
static void test_withdraw_after_webinar_keeps_it(void **state)
{
	fx *f = *state;
	make_cohort(f, "rev", 100, &(const cohort_tweak){.webinar_seats = 1, .advisor_pool = 2});
	ob_application a, b;
	make_in_state(f, 310, "rev", OB_STATE_ONBOARDED, &a);
	make_in_state(f, 311, "rev", OB_STATE_UNDER_REVIEW, &b); /* while submissions are open */
	ob_clock_set_now_ms(at("2020-12-23T12:00:00Z"));
	withdraw_ok(f, &a);
	assert_true(a.benefits.revoked);
	assert_time(a.benefits.webinar_at_ms, "2020-11-23T09:00:00.000Z");
	assert_string_equal(a.benefits.fee_waiver_until, "2020-12-23");
	assert_int_equal(a.benefits.fee_waiver_months, 2); /* Nov 20, Dec 20 */
	assert_int_equal(a.benefits.fee_waived_cents, 7800);
	assert_int_equal(a.benefits.ad_credit_cents, a.benefits.ad_credit_used_cents);
	review_ok(f, &b, OB_ACTION_APPROVE);
	assert_int_equal(b.benefits.advisor, 1);
	ob_application_fini(&a);
	ob_application_fini(&b);
}

/* ---- idempotency --------------------------------------------------------------------------- */

typedef struct renderer {
	int calls;
} renderer;

/* The stored reply: "ID STATE vVERSION"; counts its calls. */
static ob_err render_app(void *ctx, const void *reply, uint8_t **out, size_t *len)
{
	const ob_application *a = reply;
	renderer *r = ctx;
	r->calls++;
	char buf[96];
	int n = snprintf(buf, sizeof(buf), "%s %s v%llu", a->id, ob_state_name(a->state),
	                 (unsigned long long)a->version);
	*out = malloc((size_t)n);
	if (*out == NULL)
		return OB_ENOMEM;
	memcpy(*out, buf, (size_t)n);
	*len = (size_t)n;
	return OB_OK;
}

static ob_idempotency idem_for(const char *key, const char *request, renderer *r)
{
	ob_idempotency idem = {.key = key, .render = render_app, .ctx = r};
	crypto_generichash(idem.request_hash, sizeof(idem.request_hash),
	                   (const unsigned char *)request, strlen(request), NULL, 0);
	return idem;
}

static ob_err submit_idem(fx *f, uint32_t n, const ob_idempotency *idem, ob_application *out,
                          ob_outcome *o)
{
	td_company c;
	td_company_make(&c, n);
	ob_submission s;
	td_submission(&s, &c, NULL);
	memset(out, 0, sizeof(*out));
	return ob_domain_submit(f->d, TD_AS("test"), &s, idem, out, o);
}

/* Company n submitted again with idem is answered with the stored reply, want, as it is. */
static void assert_submit_replayed(fx *f, uint32_t n, const ob_idempotency *idem, const char *want)
{
	ob_application b;
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(submit_idem(f, n, idem, &b, &o), OB_OK);
	assert_non_null(o.replay);
	assert_int_equal(o.replay_len, strlen(want));
	assert_memory_equal(o.replay, want, strlen(want));
	ob_application_fini(&b);
	ob_outcome_fini(&o);
}

/* Same key + request replays with no effect, also after reopening; another request: EINVAL. */
static void test_idempotent_submit(void **state)
{
	fx *f = *state;
	renderer r = {0};
	ob_idempotency idem = idem_for("key-submit-1", "submit 80", &r);
	ob_application a, b;
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(submit_idem(f, 80, &idem, &a, &o), OB_OK);
	assert_null(o.replay);
	assert_int_equal(r.calls, 1);
	ob_outcome_fini(&o);
	char want[96];
	snprintf(want, sizeof(want), "%s SUBMITTED v1", a.id);

	assert_submit_replayed(f, 80, &idem, want);
	assert_int_equal(r.calls, 1);

	ob_idempotency other = idem_for("key-submit-1", "submit 81", &r);
	ob_outcome_init(&o);
	assert_int_equal(submit_idem(f, 81, &other, &b, &o), OB_EINVAL);
	assert_null(o.replay);
	assert_int_equal(o.n_violations, 1);
	assert_string_equal(o.violations[0].field, "metadata.idempotency-key");
	ob_outcome_fini(&o);

	assert_counted(f, OB_DEFAULT_COHORT, 1, 1);

	ob_test_domain_close(f);
	fx_open(f);
	assert_submit_replayed(f, 80, &idem, want);
	assert_int_equal(r.calls, 1);
	assert_counted(f, OB_DEFAULT_COHORT, 1, 1);
	ob_application_fini(&a);
}

/* A replayed approval grants nothing twice: same version, and the webinar seat stays free. */
static void test_idempotent_review(void **state)
{
	fx *f = *state;
	make_cohort(f, "idem", 100, &(const cohort_tweak){.webinar_seats = 2});
	renderer r = {0};
	ob_application a, b, c;
	make_in_state(f, 90, "idem", OB_STATE_UNDER_REVIEW, &a);
	ob_idempotency idem = idem_for("key-approve-90", "approve 90", &r);
	for (int round = 0; round < 3; round++) {
		if (round == 2) {
			ob_test_domain_close(f);
			fx_open(f);
		}
		ob_outcome o;
		ob_outcome_init(&o);
		memset(&b, 0, sizeof(b));
		/* version 2 was current the first time only: a replay answers before checking */
		assert_int_equal(ob_domain_review(f->d, TD_AS("reviewer"), a.id, OB_ACTION_APPROVE,
		                                  2, OB_REJECTION_NONE, NULL, &idem, &b, &o),
		                 OB_OK);
		if (round == 0) {
			assert_null(o.replay);
			assert_int_equal(b.state, OB_STATE_APPROVED);
			ob_application_fini(&b);
		} else {
			char want[96];
			int n = snprintf(want, sizeof(want), "%s APPROVED v3", a.id);
			assert_int_equal(o.replay_len, (size_t)n);
			assert_memory_equal(o.replay, want, (size_t)n);
		}
		ob_outcome_fini(&o);
	}
	assert_int_equal(r.calls, 1);
	refresh(f, &a);
	assert_int_equal(a.version, 3);
	assert_int_equal(a.n_history, 3);
	assert_time(a.benefits.webinar_at_ms, "2020-11-23T09:00:00.000Z");
	approve_new(f, 93, "idem", &b); /* the session's second seat (a's topic) */
	assert_time(b.benefits.webinar_at_ms, "2020-11-23T09:00:00.000Z");
	assert_int_equal(b.benefits.advisor, 2);
	approve_new(f, 95, "idem", &c);
	assert_time(c.benefits.webinar_at_ms, "2020-11-24T09:00:00.000Z");
	ob_application_fini(&a);
	ob_application_fini(&b);
	ob_application_fini(&c);
}

/* ---- webinar bookings (domain/webinar.c) ---------------------------------------------------- */

/* Books (or moves) a's booking as who: topic and session (NULL: the next one with a seat).
 * msg (256 bytes, or NULL) gets the outcome's message, field (64, or NULL) its first
 * violation's field; *a becomes the reply on success. */
static ob_err book_as(fx *f, const ob_caller *who, ob_application *a, ob_topic topic,
                      const char *session, char *msg, char *field)
{
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application got;
	ob_err err = ob_domain_book_webinar(f->d, who, a->id, topic, session ? at(session) : 0,
	                                    NULL, &got, &o);
	if (msg != NULL)
		snprintf(msg, 256, "%s", o.message);
	if (field != NULL)
		snprintf(field, 64, "%s", o.n_violations > 0 ? o.violations[0].field : "");
	ob_outcome_fini(&o);
	if (err == OB_OK) {
		ob_application_fini(a);
		*a = got;
	}
	return err;
}

static void book_ok(fx *f, ob_application *a, ob_topic topic, const char *session)
{
	char msg[256];
	ob_err err = book_as(f, TD_ALL, a, topic, session, msg, NULL);
	if (err != OB_OK)
		fail_msg("book %s: %s: %s", a->id, ob_strerror(err), msg);
}

/* The seats booked in cohort's session at `when` of topic. */
static uint32_t booked_at(fx *f, const char *cohort, const char *when, ob_topic topic)
{
	char day[OB_DATE_STR_SIZE];
	ob_date_format(ob_paris_date(at(when) / 1000), day);
	ob_outcome o;
	ob_outcome_init(&o);
	ob_session *ss = NULL;
	size_t n = 0;
	assert_int_equal(ob_domain_webinar_sessions(f->d, cohort, day, day, topic, &ss, &n, &o),
	                 OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(n, 1);
	assert_int_equal(ss[0].at_ms, at(when));
	uint32_t booked = ss[0].booked;
	free(ss);
	return booked;
}

/* An applicant books before approval; the approval keeps that seat instead of taking another,
 * and Benefits.webinar_at shows it. */
static void test_webinar_booked_before_approval(void **state)
{
	fx *f = *state;
	ob_application a;
	make_in_state(f, 400, NULL, OB_STATE_SUBMITTED, &a);
	book_ok(f, &a, OB_TOPIC_OWN_WEBSHOP, NULL); /* Friday noon: Monday's, after the lead time */
	assert_time(a.webinar.session_ms, "2020-11-23T09:00:00.000Z");
	assert_int_equal(a.webinar.topic, OB_TOPIC_OWN_WEBSHOP);
	assert_true(a.webinar.booked_at_ms >= at("2020-11-20T12:00:00Z") &&
	            a.webinar.booked_at_ms < at("2020-11-20T12:01:00Z"));
	assert_int_equal(a.version, 2);
	assert_string_equal(last_change(&a)->reason,
	                    "webinar booked: OWN_WEBSHOP 2020-11-23T09:00:00.000Z");
	review_ok(f, &a, OB_ACTION_START);
	review_ok(f, &a, OB_ACTION_APPROVE);
	assert_time(a.benefits.webinar_at_ms, "2020-11-23T09:00:00.000Z");
	assert_int_equal(booked_at(f, NULL, "2020-11-23T09:00:00Z", OB_TOPIC_OWN_WEBSHOP), 1);
	assert_int_equal(booked_at(f, NULL, "2020-11-23T09:00:00Z", OB_TOPIC_MARKETPLACE), 0);
	ob_application_fini(&a);
}

/* Moving a booking frees the old seat; cancelling frees it too; a withdrawal gives back the
 * seat of an application that was never approved. */
static void test_webinar_rebook_cancel_withdraw(void **state)
{
	fx *f = *state;
	ob_application a, b;
	make_in_state(f, 410, NULL, OB_STATE_UNDER_REVIEW, &a);
	book_ok(f, &a, OB_TOPIC_MARKETPLACE, "2020-11-24T09:00:00Z");
	assert_int_equal(booked_at(f, NULL, "2020-11-24T09:00:00Z", OB_TOPIC_MARKETPLACE), 1);
	book_ok(f, &a, OB_TOPIC_OWN_WEBSHOP, "2020-11-25T09:00:00Z");
	assert_string_equal(last_change(&a)->reason,
	                    "webinar moved: OWN_WEBSHOP 2020-11-25T09:00:00.000Z");
	assert_int_equal(booked_at(f, NULL, "2020-11-24T09:00:00Z", OB_TOPIC_MARKETPLACE), 0);
	assert_int_equal(booked_at(f, NULL, "2020-11-25T09:00:00Z", OB_TOPIC_OWN_WEBSHOP), 1);
	uint64_t v = a.version;
	book_ok(f, &a, OB_TOPIC_OWN_WEBSHOP, "2020-11-25T09:00:00Z"); /* where it is: no change */
	assert_int_equal(a.version, v);
	assert_int_equal(booked_at(f, NULL, "2020-11-25T09:00:00Z", OB_TOPIC_OWN_WEBSHOP), 1);

	ob_outcome o;
	ob_outcome_init(&o);
	ob_application got;
	assert_int_equal(ob_domain_cancel_webinar(f->d, TD_ALL, a.id, NULL, &got, &o), OB_OK);
	assert_int_equal(got.webinar.session_ms, 0);
	assert_string_equal(last_change(&got)->reason,
	                    "webinar cancelled: OWN_WEBSHOP 2020-11-25T09:00:00.000Z");
	ob_application_fini(&got);
	assert_int_equal(booked_at(f, NULL, "2020-11-25T09:00:00Z", OB_TOPIC_OWN_WEBSHOP), 0);
	assert_int_equal(ob_domain_cancel_webinar(f->d, TD_ALL, a.id, NULL, &got, &o), OB_EPRECOND);
	assert_non_null(strstr(o.message, "has no webinar booked"));
	ob_outcome_fini(&o);

	make_in_state(f, 411, NULL, OB_STATE_SUBMITTED, &b);
	book_ok(f, &b, OB_TOPIC_MARKETPLACE, "2020-11-26T09:00:00Z");
	withdraw_ok(f, &b);
	assert_int_equal(b.webinar.session_ms, 0);
	assert_int_equal(booked_at(f, NULL, "2020-11-26T09:00:00Z", OB_TOPIC_MARKETPLACE), 0);
	ob_application_fini(&a);
	ob_application_fini(&b);
}

/* What a booking refuses: a full session, a time that is no session, a weekend, a session
 * within the lead time or after the cohort's end, no topic, a rejected application, and
 * another applicant's application (which does not exist for them). */
static void test_webinar_refusals(void **state)
{
	fx *f = *state;
	make_cohort(f, "web", 100, &(const cohort_tweak){.webinar_seats = 1});
	ob_application a, b, r;
	make_in_state(f, 420, "web", OB_STATE_SUBMITTED, &a);
	make_in_state(f, 421, "web", OB_STATE_SUBMITTED, &b);
	book_ok(f, &a, OB_TOPIC_MARKETPLACE, "2020-11-23T09:00:00Z");
	char msg[256], field[64];
	assert_int_equal(
	        book_as(f, TD_ALL, &b, OB_TOPIC_MARKETPLACE, "2020-11-23T09:00:00Z", msg, NULL),
	        OB_EPRECOND);
	assert_string_equal(msg, "the session is full (1 seats)");
	/* The other topic's session at the same hour has its own seat. */
	book_ok(f, &b, OB_TOPIC_OWN_WEBSHOP, "2020-11-23T09:00:00Z");
	const struct {
		ob_topic topic;
		const char *session;
		ob_err err;
		const char *field, *message;
	} bad[] = {
	        {OB_TOPIC_MARKETPLACE, "2020-11-24T10:00:00Z", OB_EINVAL, "session_at", NULL},
	        {OB_TOPIC_MARKETPLACE, "2020-11-21T09:00:00Z", OB_EINVAL, "session_at", NULL},
	        {OB_TOPIC_UNSPECIFIED, NULL, OB_EINVAL, "topic", NULL},
	        {OB_TOPIC_COUNT, NULL, OB_EINVAL, "topic", NULL},
	        {OB_TOPIC_MARKETPLACE, "2020-11-20T09:00:00Z", OB_EPRECOND, "",
	         "the session starts in less than cohort web's lead time (120 minutes)"},
	        {OB_TOPIC_MARKETPLACE, "2021-03-16T09:00:00Z", OB_EPRECOND, "",
	         "the session is after cohort web's end (2021-03-15)"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(book_as(f, TD_ALL, &b, bad[i].topic, bad[i].session, msg, field),
		                 bad[i].err);
		assert_string_equal(field, bad[i].field);
		if (bad[i].message != NULL)
			assert_string_equal(msg, bad[i].message);
	}
	make_in_state(f, 422, "web", OB_STATE_REJECTED, &r);
	assert_int_equal(book_as(f, TD_ALL, &r, OB_TOPIC_MARKETPLACE, NULL, msg, NULL),
	                 OB_EPRECOND);
	assert_non_null(strstr(msg, "it is REJECTED"));
	const ob_caller other = {.principal = "someone-else", .role = OB_CALLER_APPLICANT};
	assert_int_equal(book_as(f, &other, &a, OB_TOPIC_MARKETPLACE, NULL, msg, NULL),
	                 OB_ENOTFOUND);
	ob_application_fini(&a);
	ob_application_fini(&b);
	ob_application_fini(&r);
}

/* Attendance is recorded once the session has begun, not before; the booking keeps it. */
static void test_webinar_attendance(void **state)
{
	fx *f = *state;
	ob_application a, got;
	make_in_state(f, 430, NULL, OB_STATE_SUBMITTED, &a);
	book_ok(f, &a, OB_TOPIC_MARKETPLACE, "2020-11-23T09:00:00Z");
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(
	        ob_domain_record_attendance(f->d, TD_AS("reviewer"), a.id, true, NULL, &got, &o),
	        OB_EPRECOND);
	ob_clock_set_now_ms(at("2020-11-23T10:30:00Z"));
	assert_int_equal(
	        ob_domain_record_attendance(f->d, TD_AS("reviewer"), a.id, true, NULL, &got, &o),
	        OB_OK);
	ob_outcome_fini(&o);
	assert_true(got.webinar.attended);
	/* the test clock runs from where it was set: within a few seconds of it */
	assert_in_range(got.webinar.attended_at_ms, at("2020-11-23T10:30:00Z"),
	                at("2020-11-23T10:30:05Z"));
	assert_string_equal(last_change(&got)->reason,
	                    "webinar attended: MARKETPLACE 2020-11-23T09:00:00.000Z");
	ob_application_fini(&got);
	refresh(f, &a);
	assert_true(a.webinar.attended);
	ob_application_fini(&a);
}

/* Many applications asking at once for the last seats of one session: exactly as many as
 * there are seats get one, and the count says so. */
enum { WEB_RACERS = 8, WEB_SEATS = 3 };
typedef struct web_racer {
	fx *f;
	ob_application a;
	pthread_barrier_t *go;
	ob_err err;
} web_racer;

static void *web_race(void *arg)
{
	web_racer *r = arg;
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application got;
	pthread_barrier_wait(r->go);
	r->err = ob_domain_book_webinar(r->f->d, TD_ALL, r->a.id, OB_TOPIC_MARKETPLACE,
	                                at("2020-11-24T09:00:00Z"), NULL, &got, &o);
	if (r->err == OB_OK)
		ob_application_fini(&got);
	ob_outcome_fini(&o);
	return NULL;
}

static void test_webinar_seats_under_concurrency(void **state)
{
	fx *f = *state;
	make_cohort(f, "race", 100, &(const cohort_tweak){.webinar_seats = WEB_SEATS});
	web_racer r[WEB_RACERS];
	pthread_t th[WEB_RACERS];
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, WEB_RACERS);
	for (uint32_t i = 0; i < WEB_RACERS; i++) {
		r[i] = (web_racer){.f = f, .go = &go};
		make_in_state(f, 440 + i, "race", OB_STATE_SUBMITTED, &r[i].a);
	}
	for (int i = 0; i < WEB_RACERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, web_race, &r[i]), 0);
	int won = 0;
	for (int i = 0; i < WEB_RACERS; i++) {
		pthread_join(th[i], NULL);
		assert_true(r[i].err == OB_OK || r[i].err == OB_EPRECOND);
		won += r[i].err == OB_OK;
		ob_application_fini(&r[i].a);
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(won, WEB_SEATS);
	assert_int_equal(booked_at(f, "race", "2020-11-24T09:00:00Z", OB_TOPIC_MARKETPLACE),
	                 WEB_SEATS);
}

/* The listing: business days only by default, one session per topic, seats left; ranges and
 * topics checked. */
static void test_webinar_sessions_listed(void **state)
{
	fx *f = *state;
	ob_outcome o;
	ob_outcome_init(&o);
	ob_session *ss = NULL;
	size_t n = 0;
	/* Friday 20 to Monday 23 November 2020: two business days, two topics. */
	assert_int_equal(ob_domain_webinar_sessions(f->d, NULL, "2020-11-20", "2020-11-23",
	                                            OB_TOPIC_UNSPECIFIED, &ss, &n, &o),
	                 OB_OK);
	assert_int_equal(n, 4);
	assert_time(ss[0].at_ms, "2020-11-20T09:00:00.000Z");
	assert_int_equal(ss[0].topic, OB_TOPIC_MARKETPLACE);
	assert_int_equal(ss[1].topic, OB_TOPIC_OWN_WEBSHOP);
	assert_time(ss[2].at_ms, "2020-11-23T09:00:00.000Z");
	assert_int_equal(ss[3].seats, 100);
	free(ss);
	const struct {
		const char *cohort, *from, *to;
		ob_topic topic;
		ob_err err;
		const char *field;
	} bad[] = {
	        {"Bad!", "2020-11-20", "2020-11-23", OB_TOPIC_UNSPECIFIED, OB_EINVAL, "cohort_id"},
	        {NULL, "2020-11-31", "2020-12-01", OB_TOPIC_UNSPECIFIED, OB_EINVAL, "from"},
	        {NULL, "2020-11-20", "", OB_TOPIC_UNSPECIFIED, OB_EINVAL, "to"},
	        {NULL, "2020-11-20", "2020-11-19", OB_TOPIC_UNSPECIFIED, OB_EINVAL, "to"},
	        {NULL, "2020-11-01", "2021-01-02", OB_TOPIC_UNSPECIFIED, OB_EINVAL, "to"},
	        {NULL, "2020-11-20", "2020-11-23", OB_TOPIC_COUNT, OB_EINVAL, "topic"},
	        {"nope", "2020-11-20", "2020-11-23", OB_TOPIC_UNSPECIFIED, OB_ENOTFOUND, NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ob_outcome_fini(&o);
		ob_outcome_init(&o);
		assert_int_equal(ob_domain_webinar_sessions(f->d, bad[i].cohort, bad[i].from,
		                                            bad[i].to, bad[i].topic, &ss, &n, &o),
		                 bad[i].err);
		assert_null(ss);
		if (bad[i].field != NULL)
			assert_string_equal(o.violations[0].field, bad[i].field);
	}
	ob_outcome_fini(&o);
}

/* ---- standing ------------------------------------------------------------------------------ */

typedef struct tally {
	char key[96];
	int64_t count;
} tally;

static void tally_add(tally *t, size_t *n, size_t max, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(t[i].key, key) == 0) {
			t[i].count++;
			return;
		}
	assert_true(*n < max);
	snprintf(t[*n].key, sizeof(t[*n].key), "%s", key);
	t[*n].count = 1;
	(*n)++;
}

/* The standing's counters equal a recount of the cohort's applications via ob_domain_list:
 * every application ever submitted by state and by day; the live ones (not rejected nor
 * withdrawn) by size, region and channel, and their exporters; the onboarded ones, their
 * exporters, and those live before the milestone (4 December 2020, Paris). */
static void test_standing_matches_recount(void **state)
{
	fx *f = *state;
	make_cohort(f, "mix", 10, NULL);
	const char *days[] = {"2020-11-18T09:00:00Z", "2020-11-19T16:00:00Z",
	                      "2020-11-20T23:30:00Z"};
	ob_application apps[24];
	for (uint32_t i = 0; i < 24; i++) {
		ob_clock_set_now_ms(at(days[i % 3]));
		submit_ok(f, 400 + i, "mix", &apps[i]);
	}
	for (uint32_t i = 0; i < 3; i++) {
		ob_application other;
		submit_ok(f, 400 + i, NULL, &other); /* same companies, default cohort */
		ob_application_fini(&other);
	}
	ob_clock_set_now_ms(at("2020-11-21T10:00:00Z"));
	review_ok(f, &apps[0], OB_ACTION_START);
	review_ok(f, &apps[0], OB_ACTION_APPROVE);
	review_ok(f, &apps[0], OB_ACTION_ONBOARD);
	review_ok(f, &apps[1], OB_ACTION_START);
	review_ok(f, &apps[1], OB_ACTION_REQUEST_INFO);
	review_ok(f, &apps[2], OB_ACTION_REJECT); /* promotes apps[10] */
	withdraw_ok(f, &apps[3]);                 /* promotes apps[11] */
	withdraw_ok(f, &apps[15]);                /* from the line */
	review_ok(f, &apps[4], OB_ACTION_START);
	review_ok(f, &apps[4], OB_ACTION_APPROVE);
	withdraw_ok(f, &apps[4]);                                  /* promotes apps[12] */
	assert_int_equal(set_capacity(f, "mix", 12, NULL), OB_OK); /* promotes 13, 14 */

	ob_standing st;
	standing(f, "mix", &st);
	assert_int_equal(st.seats_held, 12);
	assert_int_equal(st.waitlist, 24 - 12 - 4);
	assert_int_equal(st.applications, 24);
	assert_int_equal(counter(&st, "day:2020-11-21"), 8); /* 23:30 UTC is 00:30 in Paris */
	assert_int_equal(counter(&st, "day:2020-11-20"), 0);
	/* 97133 Saint-Barthelemy: 407, 415 and 423, but 415 was withdrawn. */
	assert_int_equal(counter(&st, "region:unknown"), 2);

	ob_app_filter flt = {.cohort_id = "mix"};
	ob_application *list = NULL;
	size_t n = list_all(f, &flt, 5, &list);
	assert_int_equal(n, 24);
	tally t[64];
	size_t nt = 0;
	uint32_t waiting = 0;
	for (size_t i = 0; i < n; i++) {
		const ob_application *a = &list[i];
		char key[96];
		assert_string_equal(a->id, apps[i].id);
		assert_string_equal(a->cohort_id, "mix");
		tally_add(t, &nt, 64, "apps");
		char day[OB_DATE_STR_SIZE];
		ob_date_format(ob_paris_date(a->submitted_at_ms / 1000), day);
		snprintf(key, sizeof(key), "day:%s", day);
		tally_add(t, &nt, 64, key);
		if (ob_state_holds_seat(a->state))
			tally_add(t, &nt, 64, "seats");
		if (a->state == OB_STATE_WAITLISTED) {
			tally_add(t, &nt, 64, "waitlist");
			assert_int_equal(a->waitlist_position, ++waiting);
		}
		snprintf(key, sizeof(key), "state:%s", ob_state_name(a->state));
		tally_add(t, &nt, 64, key);
		if (a->state == OB_STATE_REJECTED || a->state == OB_STATE_WITHDRAWN)
			continue;
		tally_add(t, &nt, 64, "live");
		if (a->exports)
			tally_add(t, &nt, 64, "exporters");
		snprintf(key, sizeof(key), "size:%s", ob_size_category_name(a->size));
		tally_add(t, &nt, 64, key);
		snprintf(key, sizeof(key), "region:%s",
		         a->company.address.region[0] != '\0' ? a->company.address.region
		                                              : "unknown");
		tally_add(t, &nt, 64, key);
		snprintf(key, sizeof(key), "channel:%s", ob_channel_name(a->channel));
		tally_add(t, &nt, 64, key);
		if (a->state != OB_STATE_ONBOARDED)
			continue;
		tally_add(t, &nt, 64, "onboarded");
		if (a->exports)
			tally_add(t, &nt, 64, "onboarded_exporters");
		if (a->onboarded_at_ms < at("2020-12-03T23:00:00Z"))
			tally_add(t, &nt, 64, "live_before_milestone");
	}
	free(list);
	for (size_t i = 0; i < nt; i++)
		if (counter(&st, t[i].key) != t[i].count)
			fail_msg("counter %s: standing %lld, recount %lld", t[i].key,
			         (long long)counter(&st, t[i].key), (long long)t[i].count);
	/* and the standing has no breakdown the recount does not (other keys are the
	 * store's own bookkeeping) */
	for (size_t i = 0; i < st.n_counters; i++) {
		const char *key = st.counters[i].key;
		if (strncmp(key, "state:", 6) != 0 && strncmp(key, "size:", 5) != 0 &&
		    strncmp(key, "region:", 7) != 0 && strncmp(key, "channel:", 8) != 0 &&
		    strncmp(key, "day:", 4) != 0)
			continue;
		bool found = false;
		for (size_t j = 0; j < nt && !found; j++)
			found = strcmp(st.counters[i].key, t[j].key) == 0;
		if (!found)
			fail_msg("standing counter %s = %lld has no application",
			         st.counters[i].key, (long long)st.counters[i].count);
	}
	assert_int_equal(st.exporters, (uint32_t)counter(&st, "exporters"));
	assert_int_equal(st.live, 24 - 4); /* one rejected, three withdrawn */
	assert_int_equal(st.onboarded, 1);
	assert_int_equal(st.live_before_milestone, 1);
	ob_standing_fini(&st);

	/* A filter by state agrees with the state counter. */
	standing(f, "mix", &st);
	flt.states = 1u << OB_STATE_WAITLISTED;
	n = list_all(f, &flt, 3, &list);
	assert_int_equal(n, st.waitlist);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(list[i].waitlist_position, i + 1);
	free(list);
	ob_standing_fini(&st);
	ob_test_applications_fini(apps, 24);
}

/* ---- concurrency --------------------------------------------------------------------------- */

enum { RACERS = 8, RACE_EACH = 40, RACE_STRIDE = 20, RACE_CAPACITY = 50 };

typedef struct racer {
	fx *f;
	uint32_t first;
	const ob_idempotency *idem; /* the same-key race: every racer sends this */
	pthread_barrier_t *go;
	/* results, read by the main thread after join (cmocka asserts are not thread-safe) */
	unsigned ok, exists, other;
	bool bad_message;
	struct {
		char id[OB_ID_LEN + 1];
		ob_state state;
		uint32_t position;
	} got[RACE_EACH];
	size_t n_got;
	uint8_t *replay;
	size_t replay_len;
} racer;

static void *race_submits(void *arg)
{
	racer *r = arg;
	pthread_barrier_wait(r->go);
	for (uint32_t j = 0; j < (r->idem != NULL ? 1u : (uint32_t)RACE_EACH); j++) {
		td_company c;
		td_company_make(&c, r->first + j);
		ob_submission s;
		td_submission(&s, &c, r->idem != NULL ? NULL : "race");
		ob_application a;
		memset(&a, 0, sizeof(a));
		ob_outcome o;
		ob_outcome_init(&o);
		ob_err err = ob_domain_submit(r->f->d, TD_AS("racer"), &s, r->idem, &a, &o);
		if (err == OB_OK) {
			r->ok++;
			if (o.replay != NULL) {
				r->replay = o.replay; /* taken over */
				r->replay_len = o.replay_len;
				o.replay = NULL;
			} else {
				memcpy(r->got[r->n_got].id, a.id, sizeof(a.id));
				r->got[r->n_got].state = a.state;
				r->got[r->n_got].position = a.waitlist_position;
				r->n_got++;
			}
		} else if (err == OB_EEXIST) {
			r->exists++;
			r->bad_message |= strstr(o.message, "application ") == NULL;
		} else {
			r->other++;
		}
		ob_application_fini(&a);
		ob_outcome_fini(&o);
	}
	return NULL;
}

/* Runs RACERS threads of race_submits together (a barrier lets them go at once), racer i from
 * company first + i * stride and with idem, and waits for them all. */
static void race(fx *f, racer rs[RACERS], uint32_t first, uint32_t stride,
                 const ob_idempotency *idem)
{
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, RACERS);
	pthread_t th[RACERS];
	for (int i = 0; i < RACERS; i++) {
		rs[i] = (racer){
		        .f = f, .first = first + (uint32_t)i * stride, .idem = idem, .go = &go};
		assert_int_equal(pthread_create(&th[i], NULL, race_submits, &rs[i]), 0);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
}

/* 8 threads, each SIREN sent twice: one application each, 50 seats, the line in order. */
static void test_concurrent_submits_share_seats(void **state)
{
	fx *f = *state;
	make_cohort(f, "race", RACE_CAPACITY, NULL);
	static racer rs[RACERS];
	race(f, rs, 0, RACE_STRIDE, NULL);
	unsigned ok = 0, exists = 0;
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(rs[i].other, 0);
		assert_false(rs[i].bad_message);
		ok += rs[i].ok;
		exists += rs[i].exists;
	}
	const unsigned distinct = (RACERS - 1) * RACE_STRIDE + RACE_EACH;
	assert_int_equal(ok, distinct);
	assert_int_equal(exists, RACERS * RACE_EACH - distinct);

	ob_app_filter flt = {.cohort_id = "race"};
	ob_application *list = NULL;
	size_t n = list_all(f, &flt, 64, &list);
	assert_int_equal(n, distinct);
	uint32_t waiting = 0;
	for (size_t i = 0; i < n; i++) {
		if (i < RACE_CAPACITY) {
			assert_int_equal(list[i].state, OB_STATE_SUBMITTED);
		} else {
			assert_int_equal(list[i].state, OB_STATE_WAITLISTED);
			assert_int_equal(list[i].waitlist_position, ++waiting);
		}
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(list[j].company.siren, list[i].company.siren);
		/* what its submitter was told */
		bool found = false;
		for (int t = 0; t < RACERS && !found; t++)
			for (size_t k = 0; k < rs[t].n_got && !found; k++)
				if (strcmp(rs[t].got[k].id, list[i].id) == 0) {
					found = true;
					assert_int_equal(rs[t].got[k].state, list[i].state);
					assert_int_equal(rs[t].got[k].position,
					                 list[i].waitlist_position);
				}
		assert_true(found);
	}
	free(list);
	assert_seats(f, "race", RACE_CAPACITY, distinct - RACE_CAPACITY);
}

/* One key sent by 8 threads at once creates one application; the others get its reply. */
static void test_concurrent_same_key_creates_one(void **state)
{
	fx *f = *state;
	renderer rd = {0};
	ob_idempotency idem = idem_for("key-race", "submit 900", &rd);
	static racer rs[RACERS];
	race(f, rs, 900, 0, &idem);
	int created = -1;
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(rs[i].ok, 1);
		if (rs[i].n_got == 1) {
			assert_int_equal(created, -1);
			created = i;
		}
	}
	assert_true(created >= 0);
	assert_int_equal(rd.calls, 1);
	char want[96];
	int len = snprintf(want, sizeof(want), "%s SUBMITTED v1", rs[created].got[0].id);
	for (int i = 0; i < RACERS; i++) {
		if (i == created)
			continue;
		assert_int_equal(rs[i].replay_len, (size_t)len);
		assert_memory_equal(rs[i].replay, want, (size_t)len);
		free(rs[i].replay);
	}
	assert_seats(f, OB_DEFAULT_COHORT, 1, 0);
}

/* ---- text at the limits ----------------------------------------------------------------- */

/* Asserts that every reason and note of a's history is valid UTF-8. */
static void assert_history_utf8(const ob_application *a, const char *what)
{
	for (size_t i = 0; i < a->n_history; i++) {
		const ob_state_change *c = &a->history[i];
		if (!ob_utf8_valid(c->reason, strlen(c->reason)) ||
		    !ob_utf8_valid(c->note, strlen(c->note)))
			fail_msg("%s: history entry %zu is not valid UTF-8", what, i);
	}
}

/* The call that answered err and o made a, whose history is valid UTF-8 and ends in a change
 * with reason and note; o is ready for the next call. */
static void assert_changed(ob_err err, ob_outcome *o, const ob_application *a, const char *reason,
                           const char *note)
{
	if (err != OB_OK)
		fail_msg("%s: %s: %s", reason, ob_strerror(err), o->message);
	ob_outcome_fini(o);
	ob_outcome_init(o);
	assert_history_utf8(a, reason);
	assert_string_equal(last_change(a)->reason, reason);
	assert_string_equal(last_change(a)->note, note);
}

/* A review note and a withdrawal reason of OB_REASON_MAX bytes of two-byte characters: the
 * history keeps them whole beside the action's name, valid UTF-8, as returned and as read back
 * (strict protobuf runtimes refuse a string with half a character). */
static void test_long_multibyte_text_stays_utf8(void **state)
{
	fx *f = *state;
	char text[OB_REASON_MAX + 1];
	ob_test_fill_e_acute(text, sizeof(text), "");

	ob_application a, b, c;
	submit_ok(f, 31, NULL, &a);
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = ob_domain_review(f->d, TD_AS("reviewer"), a.id, OB_ACTION_START, a.version,
	                              OB_REJECTION_NONE, text, NULL, &b, &o);
	assert_changed(err, &o, &b, "start", text);
	err = ob_domain_withdraw(f->d, TD_AS("seller"), b.id, b.version, text, NULL, &c, &o);
	assert_changed(err, &o, &c, "withdrawn", text);
	ob_outcome_fini(&o);

	refresh(f, &c);
	assert_int_equal(c.n_history, 3);
	assert_history_utf8(&c, "read back");
	assert_string_equal(c.history[1].note, text);
	assert_string_equal(c.history[2].note, text);
	assert_string_equal(c.history[0].note, "");
	ob_application_fini(&a);
	ob_application_fini(&b);
	ob_application_fini(&c);
}

/* ---- who calls (ob_caller) ------------------------------------------------------------------- */

/* The outcome of a refused call: its error, its message and its one violation's field. */
static void expect_refusal(ob_err err, ob_outcome *o, ob_err want, const char *message,
                           const char *field)
{
	assert_int_equal(err, want);
	assert_string_equal(o->message, message);
	if (field != NULL) {
		assert_int_equal(o->n_violations, 1);
		assert_string_equal(o->violations[0].field, field);
	}
	ob_outcome_fini(o);
	ob_outcome_init(o);
}

/* Shapes are the domain's: every operation on an id refuses one that is not a ULID before
 * anything is looked up, with the words every face sends. */
static void test_caller_shapes_checked(void **state)
{
	fx *f = *state;
	ob_application a;
	ob_application *list = NULL;
	size_t n = 0;
	ob_outcome o;
	ob_outcome_init(&o);
	const char *bad = "01arz3ndektsv4rrffq69g5fav";
	expect_refusal(ob_domain_get(f->d, TD_ALL, bad, NULL, NULL, &a, &o), &o, OB_EINVAL,
	               "not an application id", "id");
	expect_refusal(ob_domain_get(f->d, TD_ALL, "", "", "", &a, &o), &o, OB_EINVAL,
	               "give an application id or a SIREN", "id");
	expect_refusal(ob_domain_get(f->d, TD_ALL, NULL, NULL, "732829321", &a, &o), &o, OB_EINVAL,
	               "not a SIREN", "siren");
	expect_refusal(ob_domain_review(f->d, TD_ALL, "short", OB_ACTION_START, 1,
	                                OB_REJECTION_NONE, NULL, NULL, &a, &o),
	               &o, OB_EINVAL, "not an application id", "id");
	expect_refusal(ob_domain_withdraw(f->d, TD_ALL, "short", 0, NULL, NULL, &a, &o), &o,
	               OB_EINVAL, "not an application id", "id");
	expect_refusal(ob_domain_erase(f->d, TD_ALL, bad, NULL, &a, &o), &o, OB_EINVAL,
	               "not an application id", "id");
	expect_refusal(ob_domain_export_contact(f->d, bad, NULL, &list, &n, &o), &o, OB_EINVAL,
	               "not an application id", "id");
	ob_outcome_fini(&o);
}

/* Applicants see and act only on what they submitted; for them another's application does not
 * exist, in the same words as one that does not; reviewers see everything. */
static void test_caller_sees_only_own(void **state)
{
	fx *f = *state;
	const ob_caller *alice = TD_APPLICANT("key-alice"), *bob = TD_APPLICANT("key-bob");
	const ob_caller reviewer = {.principal = "key-rev", .role = OB_CALLER_REVIEWER};
	td_company c;
	td_company_make(&c, 7);
	ob_submission s;
	td_submission(&s, &c, NULL);
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application a, b;
	assert_int_equal(ob_domain_submit(f->d, alice, &s, NULL, &a, &o), OB_OK);
	assert_string_equal(a.submitted_by, "key-alice");
	ob_outcome_fini(&o);
	ob_outcome_init(&o);

	/* Bob: not found, by id or by SIREN, the same words as an id nobody has. */
	expect_refusal(ob_domain_get(f->d, bob, a.id, NULL, NULL, &b, &o), &o, OB_ENOTFOUND,
	               "no such application among yours", NULL);
	expect_refusal(ob_domain_get(f->d, bob, NULL, NULL, c.siren, &b, &o), &o, OB_ENOTFOUND,
	               "no such application among yours", NULL);
	expect_refusal(ob_domain_get(f->d, bob, "01ARZ3NDEKTSV4RRFFQ69G5FAV", NULL, NULL, &b, &o),
	               &o, OB_ENOTFOUND, "no such application among yours", NULL);
	expect_refusal(ob_domain_withdraw(f->d, bob, a.id, 0, NULL, NULL, &b, &o), &o, OB_ENOTFOUND,
	               "no such application among yours", NULL);
	/* A duplicate does not say whose, nor its id, to an applicant; a reviewer is told. */
	expect_refusal(ob_domain_submit(f->d, bob, &s, NULL, &b, &o), &o, OB_EEXIST,
	               "this SIREN has already applied to this cohort; 'onboard list' shows yours",
	               NULL);
	assert_int_equal(ob_domain_submit(f->d, &reviewer, &s, NULL, &b, &o), OB_EEXIST);
	assert_non_null(strstr(o.message, a.id));
	ob_outcome_fini(&o);
	ob_outcome_init(&o);

	/* Lists: bob's is empty whatever filter he asks for; alice and the reviewer see it. */
	ob_app_filter asked = {.submitted_by = "key-alice"};
	ob_application *list = NULL;
	size_t n = 0;
	bool more = false;
	const ob_caller *const callers[] = {bob, alice, &reviewer};
	const size_t want[] = {0, 1, 1};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(
		        ob_domain_list(f->d, callers[i], &asked, 0, 10, &list, &n, &more, &o),
		        OB_OK);
		assert_int_equal(n, want[i]);
		free(list);
	}

	/* Alice and the reviewer read it; alice withdraws it, named in its history. */
	assert_int_equal(ob_domain_get(f->d, alice, a.id, NULL, NULL, &b, &o), OB_OK);
	ob_application_fini(&b);
	assert_int_equal(ob_domain_get(f->d, &reviewer, NULL, "", c.siren, &b, &o), OB_OK);
	assert_string_equal(b.id, a.id);
	ob_application_fini(&b);
	assert_int_equal(ob_domain_withdraw(f->d, alice, a.id, 0, NULL, NULL, &b, &o), OB_OK);
	assert_int_equal(b.state, OB_STATE_WITHDRAWN);
	assert_string_equal(b.history[b.n_history - 1].actor, "key-alice");
	ob_application_fini(&b);
	ob_application_fini(&a);
	ob_outcome_fini(&o);
}

/* ---- issue 10: programme rules, second pass ------------------------------------------------ */

/* A submission s as it is (not a td_company's defaults); out zeroed first. */
static ob_err submit_as_is(fx *f, const ob_submission *s, ob_application *out, char *msg)
{
	ob_outcome o;
	ob_outcome_init(&o);
	memset(out, 0, sizeof(*out));
	ob_err err = ob_domain_submit(f->d, TD_AS("test"), s, NULL, out, &o);
	if (msg != NULL)
		snprintf(msg, 256, "%s", o.message);
	ob_outcome_fini(&o);
	return err;
}

static void submit_ok_as_is(fx *f, const ob_submission *s, ob_application *out)
{
	char msg[256];
	ob_err err = submit_as_is(f, s, out, msg);
	if (err != OB_OK)
		fail_msg("submit %s: %s: %s", s->siren, ob_strerror(err), msg);
}

/* A reviewer, seen by the domain as the authorizer sets it. */
#define TD_REVIEWER (&(const ob_caller){.principal = "k-rev", .role = OB_CALLER_REVIEWER})

/* A company rejected, then withdrawn, applies again: each time a new application while none
 * is live, ALREADY_EXISTS naming the live one otherwise; every application and its history
 * stays, and a lookup by SIREN finds the live one, else the latest. */
static void test_reapply_after_reject_or_withdraw(void **state)
{
	fx *f = *state;
	ob_application first, second, third, dup;
	char msg[256];
	submit_ok(f, 500, NULL, &first);
	review_ok(f, &first, OB_ACTION_REJECT);
	submit_ok(f, 500, NULL, &second);
	assert_string_not_equal(second.id, first.id);
	assert_int_equal(second.state, OB_STATE_SUBMITTED);
	assert_int_equal(submit(f, 500, NULL, &dup, msg), OB_EEXIST);
	assert_non_null(strstr(msg, second.id)); /* the live one */
	ob_application_fini(&dup);

	ob_application by_siren;
	td_company c;
	td_company_make(&c, 500);
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_get(f->d, TD_ALL, NULL, NULL, c.siren, &by_siren, &o), OB_OK);
	assert_string_equal(by_siren.id, second.id);
	ob_application_fini(&by_siren);

	withdraw_ok(f, &second);
	assert_int_equal(ob_domain_get(f->d, TD_ALL, NULL, NULL, c.siren, &by_siren, &o), OB_OK);
	assert_string_equal(by_siren.id, second.id); /* none live: the latest */
	ob_application_fini(&by_siren);
	ob_outcome_fini(&o);
	submit_ok(f, 500, NULL, &third);

	/* The history of each stays, as it was. */
	refresh(f, &first);
	assert_int_equal(first.state, OB_STATE_REJECTED);
	assert_int_equal(first.n_history, 2);
	refresh(f, &second);
	assert_int_equal(second.state, OB_STATE_WITHDRAWN);
	assert_int_equal(second.n_history, 2);
	assert_int_equal(third.n_history, 1);

	ob_standing st;
	standing(f, OB_DEFAULT_COHORT, &st);
	assert_int_equal(st.applications, 3);
	assert_int_equal(st.live, 1);
	assert_int_equal(st.seats_held, 1);
	ob_standing_fini(&st);
	ob_application_fini(&first);
	ob_application_fini(&second);
	ob_application_fini(&third);
}

/* A waitlisted application is rejected in line: it takes no seat, leaves the line, and the
 * next in line moves up; the seat holder is untouched, and the next free seat goes to the
 * next one still waiting. */
static void test_reject_waitlisted(void **state)
{
	fx *f = *state;
	make_cohort(f, "one", 1, NULL);
	ob_application holder, b, c, d;
	submit_ok(f, 510, "one", &holder);
	submit_ok(f, 511, "one", &b);
	submit_ok(f, 512, "one", &c);
	submit_ok(f, 513, "one", &d);
	assert_int_equal(b.waitlist_position, 1);
	assert_int_equal(c.waitlist_position, 2);

	ob_application got;
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_review(f->d, TD_REVIEWER, b.id, OB_ACTION_REJECT, b.version,
	                                  OB_REJECTION_FRAUD_SUSPECTED, "forged extract", NULL,
	                                  &got, &o),
	                 OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(got.state, OB_STATE_REJECTED);
	assert_int_equal(got.rejection, OB_REJECTION_FRAUD_SUSPECTED);
	assert_int_equal(got.waitlist_position, 0);
	assert_int_equal(last_change(&got)->from, OB_STATE_WAITLISTED);
	assert_string_equal(last_change(&got)->note, "forged extract");
	ob_application_fini(&got);

	refresh(f, &c);
	refresh(f, &d);
	assert_int_equal(c.waitlist_position, 1);
	assert_int_equal(d.waitlist_position, 2);
	refresh(f, &holder);
	assert_int_equal(holder.state, OB_STATE_SUBMITTED);
	ob_standing st;
	standing(f, "one", &st);
	assert_int_equal(st.seats_held, 1);
	assert_int_equal(st.waitlist, 2);
	ob_standing_fini(&st);

	/* A reviewer removes d from the line on the company's request. */
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_withdraw(f->d, TD_REVIEWER, d.id, 0, "called us: closing down",
	                                    NULL, &got, &o),
	                 OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(got.state, OB_STATE_WITHDRAWN);
	assert_string_equal(last_change(&got)->reason, "withdrawn on the company's request");
	assert_string_equal(last_change(&got)->actor, "k-rev");
	ob_application_fini(&got);

	withdraw_ok(f, &holder); /* the seat goes to c, the one left waiting */
	refresh(f, &c);
	assert_int_equal(c.state, OB_STATE_SUBMITTED);
	ob_application_fini(&holder);
	ob_application_fini(&b);
	ob_application_fini(&c);
	ob_application_fini(&d);
}

/* Staff withdraw only with a reason; the applicant may give none. */
static void test_staff_withdrawal_needs_reason(void **state)
{
	fx *f = *state;
	ob_application a, got;
	submit_ok(f, 520, NULL, &a);
	const char *blanks[] = {NULL, "", "  \t"};
	const ob_caller admin = {.principal = "k-adm", .role = OB_CALLER_ADMIN};
	const ob_caller *staff[] = {TD_REVIEWER, &admin};
	for (size_t w = 0; w < 2; w++)
		for (size_t i = 0; i < 3; i++) {
			ob_outcome o;
			ob_outcome_init(&o);
			memset(&got, 0, sizeof(got));
			assert_int_equal(ob_domain_withdraw(f->d, staff[w], a.id, 0, blanks[i],
			                                    NULL, &got, &o),
			                 OB_EINVAL);
			assert_int_equal(o.n_violations, 1);
			assert_string_equal(o.violations[0].field, "reason");
			ob_outcome_fini(&o);
		}
	refresh(f, &a);
	assert_int_equal(a.state, OB_STATE_SUBMITTED);
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(
	        ob_domain_withdraw(f->d, TD_APPLICANT("k-other"), a.id, 0, NULL, NULL, &got, &o),
	        OB_ENOTFOUND); /* not this applicant's */
	assert_int_equal(ob_domain_withdraw(f->d, TD_ALL, a.id, 0, NULL, NULL, &got, &o), OB_OK);
	assert_string_equal(last_change(&got)->reason, "withdrawn");
	ob_outcome_fini(&o);
	ob_application_fini(&got);
	ob_application_fini(&a);
}

/* The figures must be given (0 is a figure), as the legal form says; the size derives from
 * them. */
static void test_figures_and_legal_form(void **state)
{
	fx *f = *state;
	td_company c;
	ob_submission s;
	ob_application a;
	ob_outcome o;

	/* Nothing but the figures' values: none given, no legal form. */
	td_company_make(&c, 530);
	td_submission(&s, &c, NULL);
	s.legal_form = 0;
	s.has_employees = s.has_turnover = s.has_balance = false;
	s.employees = 0, s.turnover_eur = 0, s.balance_eur = 0;
	ob_outcome_init(&o);
	memset(&a, 0, sizeof(a));
	assert_int_equal(ob_domain_submit(f->d, TD_ALL, &s, NULL, &a, &o), OB_EINVAL);
	const char *want[] = {"company.legal_form", "company.employees", "company.turnover_eur",
	                      "company.balance_sheet_eur"};
	assert_int_equal(o.n_violations, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(o.violations[i].field, want[i]);
	ob_outcome_fini(&o);

	/* An EI without a balance sheet; a SARL without a VAT number. */
	char msg[256];
	s.legal_form = OB_LEGAL_EI;
	s.has_employees = s.has_turnover = true;
	assert_int_equal(submit_as_is(f, &s, &a, msg), OB_EINVAL);
	s.has_balance = true;
	s.legal_form = OB_LEGAL_SARL;
	s.vat = "";
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_submit(f->d, TD_ALL, &s, NULL, &a, &o), OB_EINVAL);
	assert_int_equal(o.n_violations, 1);
	assert_string_equal(o.violations[0].field, "company.vat_number");
	ob_outcome_fini(&o);

	/* 0, 0 and 0 given by an EI is a TPE, as the decree says. */
	s.legal_form = OB_LEGAL_EI;
	submit_ok_as_is(f, &s, &a);
	assert_int_equal(a.size, OB_SIZE_TPE);
	assert_int_equal(a.company.legal_form, OB_LEGAL_EI);
	assert_true(a.company.has_balance);
	ob_application_fini(&a);

	/* A micro-entrepreneur without a balance sheet: the turnover alone decides. */
	td_company_make(&c, 531);
	td_submission(&s, &c, NULL);
	s.legal_form = OB_LEGAL_MICRO;
	s.vat = "";
	s.has_balance = false;
	s.balance_eur = 0;
	s.employees = 2, s.turnover_eur = 2000000; /* <= 2 MEUR: TPE */
	submit_ok_as_is(f, &s, &a);
	assert_int_equal(a.size, OB_SIZE_TPE);
	assert_false(a.company.has_balance);
	refresh(f, &a);
	assert_false(a.company.has_balance); /* stored */
	assert_int_equal(a.company.legal_form, OB_LEGAL_MICRO);
	ob_application_fini(&a);
	td_company_make(&c, 532);
	td_submission(&s, &c, NULL);
	s.legal_form = OB_LEGAL_MICRO;
	s.has_balance = false;
	s.employees = 2, s.turnover_eur = 2000001; /* over 2 MEUR, no balance sheet to save it */
	submit_ok_as_is(f, &s, &a);
	assert_int_equal(a.size, OB_SIZE_PME);
	ob_application_fini(&a);
}

/* Submissions and approvals within their cohort's windows, derived from the lockdown: outside
 * them FAILED_PRECONDITION naming the window, from its first millisecond to its end. */
static void test_windows_enforced(void **state)
{
	fx *f = *state;
	ob_application a;
	char msg[256];
	static const struct {
		const char *at;
		ob_err want;
	} submissions[] = {
	        /* The clock runs on from where a case puts it: a case inside a bound is a
	         * minute from it, one at a bound on the side time moves to. */
	        {"2019-06-01T12:00:00Z", OB_EPRECOND}, /* a year early */
	        {"2020-10-29T22:59:00Z", OB_EPRECOND}, /* 23:59 in Paris, the day before */
	        {"2020-10-29T23:00:00Z", OB_OK},       /* midnight, 30 October, Paris */
	        {"2020-12-15T22:59:00Z", OB_OK},       /* the lockdown's last minute */
	        {"2020-12-15T23:00:00Z", OB_EPRECOND}, /* its end */
	        {"2021-04-10T12:00:00Z", OB_EPRECOND}, /* April 2021 */
	};
	for (uint32_t i = 0; i < sizeof(submissions) / sizeof(submissions[0]); i++) {
		ob_clock_set_now_ms(at(submissions[i].at));
		ob_err err = submit(f, 540 + i, NULL, &a, msg);
		if (err != submissions[i].want)
			fail_msg("submit at %s: %s: %s", submissions[i].at, ob_strerror(err), msg);
		if (err != OB_OK)
			assert_non_null(strstr(msg, "from 2020-10-30 00:00 to 2020-12-16 00:00, "
			                            "Paris time"));
		ob_application_fini(&a);
	}

	/* Approvals close with the waiver, at the end of 15 March 2021 in Paris. */
	ob_clock_set_now_ms(at("2020-12-01T12:00:00Z"));
	ob_application late, last;
	make_in_state(f, 550, NULL, OB_STATE_UNDER_REVIEW, &late);
	make_in_state(f, 551, NULL, OB_STATE_UNDER_REVIEW, &last);
	ob_clock_set_now_ms(at("2021-04-10T12:00:00Z"));
	ob_application got;
	assert_int_equal(review(f, late.id, OB_ACTION_APPROVE, late.version, &got, msg),
	                 OB_EPRECOND);
	assert_non_null(strstr(msg, "approvals from 2020-10-30 00:00 to 2021-03-16 00:00"));
	ob_application_fini(&got);
	refresh(f, &late);
	assert_int_equal(late.state, OB_STATE_UNDER_REVIEW);
	assert_false(late.benefits.granted);

	ob_clock_set_now_ms(at("2021-03-15T22:00:00Z")); /* 23:00 on the last day */
	review_ok(f, &last, OB_ACTION_APPROVE);
	assert_int_equal(last.benefits.fee_waiver_months, 1);
	assert_int_equal(last.benefits.ad_credit_cents, 20000);
	ob_application_fini(&late);
	ob_application_fini(&last);
}

/* Approval windows set wider than the waiver: the waiver never starts before the lockdown,
 * and nothing is granted once it is over. */
static void test_waiver_bounded_by_the_lockdown(void **state)
{
	fx *f = *state;
	make_cohort(f, "wide", 100,
	            &(const cohort_tweak){.window_opens_ms = at("2019-01-01T00:00:00Z"),
	                                  .approval_opens_ms = at("2019-01-01T00:00:00Z"),
	                                  .approval_closes_ms = at("2022-01-01T00:00:00Z")});
	ob_application early, late;
	ob_clock_set_now_ms(at("2019-05-15T12:00:00Z"));
	approve_new(f, 560, "wide", &early);
	/* From the lockdown's start, not 22 months from May 2019. */
	assert_string_equal(early.benefits.fee_waiver_from, "2020-10-30");
	assert_int_equal(early.benefits.fee_waiver_months, 5); /* Oct 30 .. Feb 28 */
	assert_int_equal(early.benefits.fee_waived_cents, 5 * 3900);

	ob_clock_set_now_ms(at("2020-12-01T12:00:00Z"));
	make_in_state(f, 561, "wide", OB_STATE_UNDER_REVIEW, &late);
	ob_clock_set_now_ms(at("2021-04-10T12:00:00Z"));
	review_ok(f, &late, OB_ACTION_APPROVE);
	assert_int_equal(late.state, OB_STATE_APPROVED);
	assert_true(late.benefits.granted);
	assert_int_equal(late.benefits.fee_waiver_months, 0);
	assert_int_equal(late.benefits.fee_waived_cents, 0);
	assert_int_equal(late.benefits.ad_credit_cents, 0);
	assert_int_equal(late.benefits.webinar_at_ms, 0);
	assert_int_equal(late.benefits.advisor, 0);
	assert_non_null(strstr(late.benefits.note, "waiver period ended on 2021-03-15"));
	ob_application_fini(&early);
	ob_application_fini(&late);
}

/* A cohort's dates: refused with a violation each when they contradict one another, derived
 * from the lockdown when not set. */
static void test_cohort_dates_checked_and_derived(void **state)
{
	fx *f = *state;
	ob_cohort c, out;
	ob_outcome o;
	ob_cohort_default(&c);
	snprintf(c.id, sizeof(c.id), "bad");
	snprintf(c.lockdown_start, sizeof(c.lockdown_start), "2021-04-03");
	snprintf(c.lockdown_end, sizeof(c.lockdown_end), "2021-03-01");
	snprintf(c.fee_waiver_until, sizeof(c.fee_waiver_until), "2021-02-01");
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_cohort_create(f->d, &c, &out, &o), OB_EINVAL);
	assert_int_equal(o.n_violations, 2);
	assert_string_equal(o.violations[0].field, "cohort.lockdown_end");
	assert_string_equal(o.violations[1].field, "cohort.fee_waiver_until");
	ob_outcome_fini(&o);

	c.lockdown_start[0] = c.lockdown_end[0] = '\0';
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_cohort_create(f->d, &c, &out, &o), OB_EINVAL);
	assert_string_equal(o.violations[0].field, "cohort.lockdown_start");
	assert_string_equal(o.violations[1].field, "cohort.lockdown_end");
	ob_outcome_fini(&o);

	/* Only the lockdown given: the rest derived from it. */
	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "2021-04");
	snprintf(c.name, sizeof(c.name), "April 2021");
	snprintf(c.lockdown_start, sizeof(c.lockdown_start), "2021-04-03");
	snprintf(c.lockdown_end, sizeof(c.lockdown_end), "2021-05-31");
	c.eligible_sizes = 1u << OB_SIZE_TPE;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_cohort_create(f->d, &c, &out, &o), OB_OK);
	ob_outcome_fini(&o);
	assert_string_equal(out.fee_waiver_until, "2021-08-31");
	assert_time(out.window_opens_ms, "2021-04-02T22:00:00.000Z"); /* midnight CEST */
	assert_time(out.window_closes_ms, "2021-05-31T22:00:00.000Z");
	assert_time(out.approval_opens_ms, "2021-04-02T22:00:00.000Z");
	assert_time(out.approval_closes_ms, "2021-08-31T22:00:00.000Z");
	assert_int_equal(out.webinar_lead_minutes, 120);
	assert_string_equal(out.milestone_date, "2021-05-31");
	assert_string_equal(out.terms_version, "2021-04-03");
	assert_true(out.window_enforced);
	/* And the standing shows what was stored. */
	ob_standing st;
	standing(f, "2021-04", &st);
	assert_int_equal(st.cohort.approval_closes_ms, out.approval_closes_ms);
	assert_string_equal(st.cohort.milestone_date, "2021-05-31");
	ob_standing_fini(&st);
	/* The default cohort's own milestone and exclusions. */
	standing(f, OB_DEFAULT_COHORT, &st);
	assert_string_equal(st.cohort.milestone_date, "2020-12-04");
	assert_true(ob_naf_divisions_has(&st.cohort.excluded_naf, 84));
	assert_string_equal(st.cohort.fee_waiver_until, "2021-03-15");
	ob_standing_fini(&st);
}

/* The same SIREN in two cohorts: the second grants only what is left, and says so. */
static void test_one_benefit_per_company(void **state)
{
	fx *f = *state;
	make_cohort(f, "2021-01", 100,
	            &(const cohort_tweak){.lockdown_start = "2020-11-01",
	                                  .lockdown_end = "2021-01-20",
	                                  .fee_waiver_until = "", /* derived: 2021-04-20 */
	                                  .ad_credit_cents = 30000});
	ob_application a, b, other;
	approve_new(f, 570, NULL, &a); /* 2020-11-20: 4 months to 2021-03-15, 200 EUR */
	assert_int_equal(a.benefits.fee_waiver_months, 4);
	assert_int_equal(a.benefits.ad_credit_cents, 20000);
	assert_string_equal(a.benefits.note, "");

	ob_clock_set_now_ms(at("2020-12-02T12:00:00Z"));
	approve_new(f, 570, "2021-01", &b);
	/* The waiver after the last month waived: 16 March to 20 April, two months started. */
	assert_string_equal(b.benefits.fee_waiver_from, "2021-03-16");
	assert_string_equal(b.benefits.fee_waiver_until, "2021-04-20");
	assert_int_equal(b.benefits.fee_waiver_months, 2);
	assert_int_equal(b.benefits.fee_waived_cents, 7800);
	assert_int_equal(b.benefits.ad_credit_cents, 10000); /* 300 EUR less the 200 had */
	assert_int_equal(b.benefits.webinar_at_ms, 0);
	assert_int_equal(b.benefits.advisor, 0);
	assert_non_null(strstr(b.benefits.note, "each benefit once per company"));
	assert_non_null(strstr(b.benefits.note, "cohort 2020-11"));
	assert_non_null(strstr(b.benefits.note, "200.00 EUR of ad credit"));
	refresh(f, &b);
	assert_non_null(strstr(b.benefits.note, "cohort 2020-11")); /* stored */

	/* Another company in the second cohort gets everything. */
	approve_new(f, 571, "2021-01", &other);
	assert_int_equal(other.benefits.ad_credit_cents, 30000);
	assert_true(other.benefits.webinar_at_ms != 0);
	assert_true(other.benefits.advisor != 0);
	assert_string_equal(other.benefits.note, "");
	ob_application_fini(&a);
	ob_application_fini(&b);
	ob_application_fini(&other);
}

/* A company that withdrew keeps what it used; applying again, it gets what is left. */
static void test_reapplication_gets_what_is_left(void **state)
{
	fx *f = *state;
	ob_application a, b;
	approve_new(f, 575, NULL, &a);
	ob_clock_set_now_ms(at("2020-12-10T12:00:00Z"));
	withdraw_ok(f, &a); /* the waiver trimmed to today; the unused credit taken back */
	assert_string_equal(a.benefits.fee_waiver_until, "2020-12-10");
	assert_int_equal(a.benefits.ad_credit_cents, 0);
	approve_new(f, 575, NULL, &b);
	assert_string_equal(b.benefits.fee_waiver_from, "2020-12-11");
	assert_int_equal(b.benefits.fee_waiver_months, 4); /* Dec 11 .. Mar 11 */
	assert_int_equal(b.benefits.ad_credit_cents, 20000);
	assert_int_equal(b.benefits.advisor, 1); /* the first one's was freed */
	/* The first one's webinar was on 23 November, before the withdrawal: it had it. */
	assert_time(a.benefits.webinar_at_ms, "2020-11-23T09:00:00.000Z");
	assert_int_equal(b.benefits.webinar_at_ms, 0);
	assert_non_null(strstr(b.benefits.note, "the fee waiver until 2020-12-10"));
	assert_non_null(strstr(b.benefits.note, "a webinar seat"));
	ob_application_fini(&a);
	ob_application_fini(&b);
}

/* A cohort does not take the NAF divisions it excludes; it cannot exclude what NAF lacks. */
static void test_excluded_naf_divisions(void **state)
{
	fx *f = *state;
	td_company c;
	ob_submission s;
	ob_application a;
	char msg[256];
	td_company_make(&c, 580);
	snprintf(c.naf, sizeof(c.naf), "84.11Z"); /* public administration */
	td_submission(&s, &c, NULL);
	assert_int_equal(submit_as_is(f, &s, &a, msg), OB_EPRECOND);
	assert_non_null(strstr(msg, "division 84"));

	make_cohort(f, "no-retail", 10, &(const cohort_tweak){.excluded_naf_only = 47});
	td_company_make(&c, 581); /* 47.91B */
	td_submission(&s, &c, "no-retail");
	assert_int_equal(submit_as_is(f, &s, &a, msg), OB_EPRECOND);
	assert_non_null(strstr(msg, "division 47"));
	snprintf(c.naf, sizeof(c.naf), "84.11Z");
	td_submission(&s, &c, "no-retail");
	submit_ok_as_is(f, &s, &a); /* this one takes 84 */
	ob_application_fini(&a);

	ob_cohort co, out;
	ob_cohort_default(&co);
	snprintf(co.id, sizeof(co.id), "bad-naf");
	ob_naf_divisions_add(&co.excluded_naf, 4); /* no division 04 */
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_cohort_create(f->d, &co, &out, &o), OB_EINVAL);
	assert_int_equal(o.n_violations, 1);
	assert_string_equal(o.violations[0].field, "cohort.excluded_naf_divisions");
	ob_outcome_fini(&o);
}

/* The webinar is booked at least the lead time after the approval, on a day with sessions. */
static void test_webinar_lead_time_and_days(void **state)
{
	fx *f = *state;
	make_cohort(f, "daily", 100,
	            &(const cohort_tweak){.webinar_weekends = true,
	                                  .webinar_holidays = true,
	                                  .webinar_lead_minutes = 30});
	static const struct {
		const char *cohort, *approved_at, *session;
	} cases[] = {
	        /* Monday 09:59:57 in Paris: not three seconds later, but Tuesday's. */
	        {NULL, "2020-11-23T08:59:57Z", "2020-11-24T09:00:00.000Z"},
	        /* 07:59 in Paris: today's, just over the two hours ahead. */
	        {NULL, "2020-11-23T06:59:00Z", "2020-11-23T09:00:00.000Z"},
	        /* 08:00: exactly two hours is not more than the lead time. */
	        {NULL, "2020-11-23T07:00:00Z", "2020-11-24T09:00:00.000Z"},
	        /* Friday afternoon: Monday. */
	        {NULL, "2020-11-20T13:00:00Z", "2020-11-23T09:00:00.000Z"},
	        /* Tuesday 10 November: not the 11th (Armistice Day), the 12th. */
	        {NULL, "2020-11-10T13:00:00Z", "2020-11-12T09:00:00.000Z"},
	        /* Thursday 24 December: not Christmas, not the weekend: Monday 28. */
	        {NULL, "2020-12-24T13:00:00Z", "2020-12-28T09:00:00.000Z"},
	        /* A cohort with sessions every day and a lead of 30 minutes. */
	        {"daily", "2020-11-20T13:00:00Z", "2020-11-21T09:00:00.000Z"},
	        {"daily", "2020-11-10T13:00:00Z", "2020-11-11T09:00:00.000Z"},
	        {"daily", "2020-11-23T08:29:00Z", "2020-11-23T09:00:00.000Z"},
	};
	for (uint32_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ob_application a;
		ob_clock_set_now_ms(at("2020-11-02T12:00:00Z"));
		make_in_state(f, 590 + i, cases[i].cohort, OB_STATE_UNDER_REVIEW, &a);
		ob_clock_set_now_ms(at(cases[i].approved_at));
		review_ok(f, &a, OB_ACTION_APPROVE);
		char got[OB_RFC3339_STR_SIZE];
		ob_time_format_rfc3339(a.benefits.webinar_at_ms, got);
		if (strcmp(got, cases[i].session) != 0)
			fail_msg("approved at %s in %s: session %s, want %s", cases[i].approved_at,
			         cases[i].cohort != NULL ? cases[i].cohort : "2020-11", got,
			         cases[i].session);
		ob_application_fini(&a);
	}
}

/* The standing over live applications and onboarded sellers, in step with every transition:
 * the export share is the onboarded sellers'. */
static void test_live_statistics(void **state)
{
	fx *f = *state;
	make_cohort(f, "stats", 100, NULL);
	/* td_company: odd n export; n % 4 == 0 is a PME. */
	ob_application ex1, ex2, local, rejected;
	approve_new(f, 601, "stats", &ex1);
	approve_new(f, 603, "stats", &ex2);
	approve_new(f, 602, "stats", &local);
	make_in_state(f, 605, "stats", OB_STATE_SUBMITTED, &rejected);

	ob_standing st;
	standing(f, "stats", &st);
	assert_int_equal(st.live, 4);
	assert_int_equal(st.exporters, 3);
	assert_int_equal(counter(&st, "size:TPE"), 4);
	assert_int_equal(st.onboarded, 0);
	ob_standing_fini(&st);

	review_ok(f, &rejected, OB_ACTION_REJECT);
	review_ok(f, &ex1, OB_ACTION_ONBOARD); /* 20 November: before the milestone */
	review_ok(f, &local, OB_ACTION_ONBOARD);
	ob_clock_set_now_ms(at("2020-12-04T10:00:00Z")); /* Black Friday itself: too late */
	review_ok(f, &ex2, OB_ACTION_ONBOARD);
	standing(f, "stats", &st);
	assert_int_equal(st.applications, 4);
	assert_int_equal(st.live, 3);
	assert_int_equal(st.exporters, 2);
	assert_int_equal(counter(&st, "size:TPE"), 3);
	assert_int_equal(st.onboarded, 3);
	assert_int_equal(st.onboarded_exporters, 2);
	assert_int_equal(st.live_before_milestone, 2);
	ob_standing_fini(&st);

	withdraw_ok(f, &ex1); /* a seller that leaves counts no more */
	standing(f, "stats", &st);
	assert_int_equal(st.live, 2);
	assert_int_equal(st.exporters, 1);
	assert_int_equal(st.onboarded, 2);
	assert_int_equal(st.onboarded_exporters, 1);
	assert_int_equal(st.live_before_milestone, 1);
	assert_int_equal(counter(&st, "state:WITHDRAWN"), 1);
	assert_int_equal(counter(&st, "state:REJECTED"), 1);
	ob_standing_fini(&st);
	ob_application_fini(&ex1);
	ob_application_fini(&ex2);
	ob_application_fini(&local);
	ob_application_fini(&rejected);
}

/* The terms' version and when they were accepted, on the application. */
static void test_terms_recorded(void **state)
{
	fx *f = *state;
	td_company c;
	ob_submission s;
	ob_application a;
	submit_ok(f, 610, NULL, &a);
	assert_string_equal(a.terms_version, "2020-10-30");
	assert_int_equal(a.terms_accepted_at_ms, a.submitted_at_ms);
	ob_application_fini(&a);

	td_company_make(&c, 611);
	td_submission(&s, &c, NULL);
	s.terms_version = "2020-10-30";
	s.terms_accepted_at = "2020-11-15T08:30:00Z";
	submit_ok_as_is(f, &s, &a);
	assert_time(a.terms_accepted_at_ms, "2020-11-15T08:30:00.000Z");
	refresh(f, &a);
	assert_string_equal(a.terms_version, "2020-10-30");
	assert_time(a.terms_accepted_at_ms, "2020-11-15T08:30:00.000Z");
	ob_application_fini(&a);

	static const struct {
		const char *version, *when, *field;
	} bad[] = {
	        {"2019-01-01", "", "terms_version"},               /* not the cohort's */
	        {"v 1", "", "terms_version"},                      /* not a version */
	        {"", "2020-11-21T12:00:00Z", "terms_accepted_at"}, /* tomorrow */
	        {"", "yesterday", "terms_accepted_at"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		td_company_make(&c, 612);
		td_submission(&s, &c, NULL);
		s.terms_version = bad[i].version;
		s.terms_accepted_at = bad[i].when;
		ob_outcome o;
		ob_outcome_init(&o);
		assert_int_equal(ob_domain_submit(f->d, TD_ALL, &s, NULL, &a, &o), OB_EINVAL);
		assert_int_equal(o.n_violations, 1);
		assert_string_equal(o.violations[0].field, bad[i].field);
		ob_outcome_fini(&o);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_transition_table_exhaustive),
	        T(test_transition_table_through_domain),
	        T(test_review_request_checked),
	        T(test_submit_creates_submitted_with_history),
	        T(test_get_unknown_leaves_caller_memory),
	        T(test_duplicate_siren_names_first_id),
	        T(test_all_violations_at_once),
	        T(test_ineligible_sizes_refused),
	        T(test_waitlist_and_promotion),
	        T(test_capacity_changes),
	        T(test_stale_version),
	        T(test_benefits_winter),
	        T(test_benefits_summer),
	        T(test_benefits_across_dst),
	        T(test_webinar_session_fills),
	        T(test_webinar_booked_before_approval),
	        T(test_webinar_rebook_cancel_withdraw),
	        T(test_webinar_refusals),
	        T(test_webinar_attendance),
	        T(test_webinar_seats_under_concurrency),
	        T(test_webinar_sessions_listed),
	        T(test_advisors_least_loaded),
	        T(test_advisors_by_region_language_capacity),
	        T(test_advisor_violations),
	        T(test_withdraw_after_approval_revokes_unused),
	        T(test_withdraw_after_webinar_keeps_it),
	        T(test_idempotent_submit),
	        T(test_idempotent_review),
	        T(test_standing_matches_recount),
	        T(test_concurrent_submits_share_seats),
	        T(test_concurrent_same_key_creates_one),
	        T(test_long_multibyte_text_stays_utf8),
	        T(test_caller_shapes_checked),
	        T(test_caller_sees_only_own),
	        T(test_reapply_after_reject_or_withdraw),
	        T(test_reject_waitlisted),
	        T(test_staff_withdrawal_needs_reason),
	        T(test_figures_and_legal_form),
	        T(test_windows_enforced),
	        T(test_waiver_bounded_by_the_lockdown),
	        T(test_cohort_dates_checked_and_derived),
	        T(test_one_benefit_per_company),
	        T(test_reapplication_gets_what_is_left),
	        T(test_excluded_naf_divisions),
	        T(test_webinar_lead_time_and_days),
	        T(test_live_statistics),
	        T(test_terms_recorded),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
