/*
 * test_domain_model.c: a model-based random test of seats, waitlist and lifecycle.
 *
 * A seeded generator runs thousands of random operations on a small cohort of a real SQLite
 * store: submissions of new and already-seen companies (a company whose application was
 * rejected or withdrawn applies again), review actions at the right or a stale version
 * (waitlisted applications rejected in line included), withdrawals, capacity changes, clock
 * jumps past the cohort's submission and approval windows. Beside it runs a model of the
 * issue's rules small enough to be obviously right: an array of applications in submission
 * order with their state and version. After every operation the domain must agree with the
 * model on every application's state, version and waitlist position, on the standing (over
 * live applications too), and on who was promoted; at the end the store is reopened and
 * checked once more.
 *
 * A failure prints its seed; OB_MODEL_SEED=N runs that seed alone, OB_MODEL_OPS=N changes the
 * number of operations (3,000 by default).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "domain/calendar.h"
#include "domain/domain.h"
#include "testdata.h"
#include "testdomain.h"
#include "testutil.h"

enum {
	COMPANIES = 1500, /* at most this many applications, and companies */
	MAX_CAPACITY = 8,
	DEFAULT_OPS = 3000,
	PAGE = 40,
	DAY_MS = 86400 * 1000,
};
#define COHORT "model"

/* ---- the model ------------------------------------------------------------------------- */

typedef struct mapp {
	char id[OB_ID_LEN + 1];
	uint32_t company;
	ob_state state;
	uint64_t version;
} mapp;

typedef struct model {
	mapp app[COMPANIES]; /* submission order: the waitlist's order */
	size_t n;
	int of_company[COMPANIES]; /* index in app of its latest application, or -1 */
	uint32_t next_company;     /* the next one never submitted */
	uint32_t capacity;
	/* The cohort's windows: [opens, closes). */
	int64_t submissions_open, submissions_close, approvals_open, approvals_close;
} model;

static bool model_live(ob_state s)
{
	return s != OB_STATE_REJECTED && s != OB_STATE_WITHDRAWN;
}

static uint32_t model_seats(const model *m)
{
	uint32_t n = 0;
	for (size_t i = 0; i < m->n; i++)
		n += ob_state_holds_seat(m->app[i].state);
	return n;
}

/* 1-based place in line of app i, 0 when it is not waiting. */
static uint32_t model_position(const model *m, size_t i)
{
	if (m->app[i].state != OB_STATE_WAITLISTED)
		return 0;
	uint32_t p = 0;
	for (size_t j = 0; j <= i; j++)
		p += m->app[j].state == OB_STATE_WAITLISTED;
	return p;
}

static uint32_t model_waiting(const model *m)
{
	uint32_t n = 0;
	for (size_t i = 0; i < m->n; i++)
		n += m->app[i].state == OB_STATE_WAITLISTED;
	return n;
}

/* Free seats go to the waitlist, oldest first; the promoted indices go to out. */
static size_t model_promote(model *m, size_t *out)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n && model_seats(m) < m->capacity; i++)
		if (m->app[i].state == OB_STATE_WAITLISTED) {
			m->app[i].state = OB_STATE_SUBMITTED;
			m->app[i].version++;
			out[n++] = i;
		}
	return n;
}

/* ---- the run ----------------------------------------------------------------------------- */

typedef struct run {
	uint64_t seed;
	uint64_t rng;
	int op;
	char what[160];   /* the current operation, for failure messages */
	ob_test_domain t; /* its keys made at the first open, kept for the reopen */
	model m;
	/* What the run went through; each must happen for the run to prove something. */
	unsigned promotions, duplicates, stale, illegal, approvals, rejections, withdrawals,
	        refused_capacity, reapplications, waitlist_rejections, closed_submissions,
	        closed_approvals;
} run;

#define CHECK(r, cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "model test: seed %llu, operation %d (%s): ",              \
			        (unsigned long long)(r)->seed, (r)->op, (r)->what);                \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n  rerun with OB_MODEL_SEED=%llu\n",                     \
			        (unsigned long long)(r)->seed);                                    \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t next(run *r)
{
	uint64_t z = (r->rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t below(run *r, uint32_t n)
{
	return (uint32_t)(next(r) % n);
}

static void open_store(run *r)
{
	/* Random keys, the same for every open: the contacts stay readable. */
	if (r->t.keys == NULL)
		CHECK(r, (r->t.keys = ob_test_keystore_random()) != NULL, "cannot make a vault");
	ob_err err = ob_test_domain_open(&r->t);
	CHECK(r, err == OB_OK, "cannot open %s: %s", r->t.db, ob_strerror(err));
}

static int setup(void **state)
{
	run *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	r->seed = *(const uint64_t *)*state;
	r->rng = r->seed;
	if (ob_test_domain_init(&r->t, "ob-model") != 0) {
		free(r);
		return -1;
	}
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	run *r = *state;
	ob_test_domain_fini(&r->t);
	free(r);
	return 0;
}

/* ---- checks -------------------------------------------------------------------------------- */

/* The domain agrees with the model on every application and on the standing. */
static void verify(run *r)
{
	const model *m = &r->m;
	ob_app_filter flt = {.cohort_id = COHORT};
	size_t seen = 0;
	int64_t after = 0;
	bool more = true;
	while (more) {
		ob_application *page = NULL;
		size_t n = 0;
		ob_outcome o;
		ob_outcome_init(&o);
		ob_err err =
		        ob_domain_list(r->t.d, TD_ALL, &flt, after, PAGE, &page, &n, &more, &o);
		CHECK(r, err == OB_OK, "list: %s: %s", ob_strerror(err), o.message);
		ob_outcome_fini(&o);
		for (size_t i = 0; i < n; i++, seen++) {
			CHECK(r, seen < m->n,
			      "the store has more than the model's %zu applications", m->n);
			const mapp *want = &m->app[seen];
			const ob_application *got = &page[i];
			CHECK(r, strcmp(got->id, want->id) == 0, "application %zu is %s, want %s",
			      seen, got->id, want->id);
			CHECK(r, got->state == want->state, "%s is %s, want %s", want->id,
			      ob_state_name(got->state), ob_state_name(want->state));
			CHECK(r, got->version == want->version, "%s is at version %llu, want %llu",
			      want->id, (unsigned long long)got->version,
			      (unsigned long long)want->version);
			uint32_t pos = model_position(m, seen);
			CHECK(r, got->waitlist_position == pos, "%s is at position %u, want %u",
			      want->id, got->waitlist_position, pos);
		}
		if (n > 0)
			after = page[n - 1].seq;
		free(page);
	}
	CHECK(r, seen == m->n, "the store has %zu applications, the model %zu", seen, m->n);

	ob_standing st;
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = ob_domain_standing(r->t.d, COHORT, &st, &o);
	CHECK(r, err == OB_OK, "standing: %s", ob_strerror(err));
	ob_outcome_fini(&o);
	uint32_t seats = model_seats(m), waiting = model_waiting(m);
	CHECK(r, st.cohort.capacity == m->capacity, "capacity %u, want %u", st.cohort.capacity,
	      m->capacity);
	CHECK(r, st.seats_held == seats, "%u seats held, want %u", st.seats_held, seats);
	CHECK(r, st.seats_held <= st.cohort.capacity, "%u seats held over capacity %u",
	      st.seats_held, st.cohort.capacity);
	CHECK(r, st.waitlist == waiting, "waitlist %u, want %u", st.waitlist, waiting);
	CHECK(r, waiting == 0 || seats == m->capacity, "%u waiting beside a free seat", waiting);
	CHECK(r, st.applications == m->n, "%u applications, want %zu", st.applications, m->n);
	/* Over live applications: td_company n exports when odd, is a PME when n % 4 == 0. */
	uint32_t live = 0, exporters = 0, pme = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (!model_live(m->app[i].state))
			continue;
		live++;
		exporters += m->app[i].company % 2 == 1;
		pme += m->app[i].company % 4 == 0;
	}
	int64_t pme_counted = 0;
	for (size_t i = 0; i < st.n_counters; i++)
		if (strcmp(st.counters[i].key, "size:PME") == 0)
			pme_counted = st.counters[i].count;
	CHECK(r, st.live == live, "%u live, want %u", st.live, live);
	CHECK(r, st.exporters == exporters, "%u exporters, want %u", st.exporters, exporters);
	CHECK(r, pme_counted == pme, "%lld PME, want %u", (long long)pme_counted, pme);
	ob_standing_fini(&st);
}

/* Each promoted application's last change is WAITLISTED -> SUBMITTED by the system; counts them. */
static void verify_promoted(run *r, const size_t *promoted, size_t n)
{
	r->promotions += (unsigned)n;
	for (size_t k = 0; k < n; k++) {
		const mapp *want = &r->m.app[promoted[k]];
		ob_application a;
		memset(&a, 0, sizeof(a));
		ob_outcome o;
		ob_outcome_init(&o);
		ob_err err = ob_domain_get(r->t.d, TD_ALL, want->id, NULL, NULL, &a, &o);
		CHECK(r, err == OB_OK, "get %s: %s", want->id, ob_strerror(err));
		ob_outcome_fini(&o);
		CHECK(r, a.n_history >= 2, "%s has %zu history entries", want->id, a.n_history);
		const ob_state_change *c = &a.history[a.n_history - 1];
		CHECK(r,
		      c->from == OB_STATE_WAITLISTED && c->to == OB_STATE_SUBMITTED &&
		              strcmp(c->actor, "system") == 0,
		      "%s's last change is %s -> %s by %s, not a promotion", want->id,
		      ob_state_name(c->from), ob_state_name(c->to), c->actor);
		ob_application_fini(&a);
	}
}

/* ---- operations ---------------------------------------------------------------------------- */

/* One time in n, moves the clock just outside the window [opens, closes), a minute to a day
 * before it opens (the clock runs on meanwhile) or from the moment it closes to a day later,
 * and returns the time to go back to; else returns 0 and leaves the clock alone. */
static int64_t outside_window(run *r, uint32_t n, int64_t opens, int64_t closes)
{
	if (below(r, n) != 0)
		return 0;
	int64_t back = ob_clock_now_ms(), off = below(r, DAY_MS);
	ob_clock_set_now_ms(below(r, 2) == 0 ? opens - 60000 - off : closes + off);
	return back;
}

static void op_submit(run *r)
{
	model *m = &r->m;
	if (m->n == COMPANIES)
		return;
	/* Three in ten try again a company already in; the rest are new. */
	uint32_t k = m->n > 0 && (below(r, 10) < 3 || m->next_company == COMPANIES)
	                     ? m->app[below(r, (uint32_t)m->n)].company
	                     : m->next_company++;
	snprintf(r->what, sizeof(r->what), "submit company %u", k);
	td_company c;
	td_company_make(&c, k);
	ob_submission s;
	td_submission(&s, &c, COHORT);
	ob_application a;
	memset(&a, 0, sizeof(a));
	ob_outcome o;
	ob_outcome_init(&o);
	int64_t back = outside_window(r, 20, m->submissions_open, m->submissions_close);
	int64_t now = ob_clock_now_ms();
	ob_err err = ob_domain_submit(r->t.d, TD_AS("model"), &s, NULL, &a, &o);
	if (back != 0)
		ob_clock_set_now_ms(back);
	int last = m->of_company[k];
	if (now < m->submissions_open || now >= m->submissions_close) {
		CHECK(r, err == OB_EPRECOND, "a submission outside the window got %s",
		      ob_strerror(err));
		r->closed_submissions++;
	} else if (last >= 0 && model_live(m->app[last].state)) {
		const char *live = m->app[last].id;
		CHECK(r, err == OB_EEXIST, "a duplicate got %s", ob_strerror(err));
		r->duplicates++;
		CHECK(r, strstr(o.message, live) != NULL, "'%s' does not name %s", o.message, live);
	} else {
		CHECK(r, err == OB_OK, "got %s: %s", ob_strerror(err), o.message);
		ob_state want =
		        model_seats(m) < m->capacity ? OB_STATE_SUBMITTED : OB_STATE_WAITLISTED;
		mapp *n = &m->app[m->n];
		memcpy(n->id, a.id, sizeof(n->id));
		n->company = k;
		n->state = want;
		n->version = 1;
		m->of_company[k] = (int)m->n++;
		r->reapplications += last >= 0;
		CHECK(r, a.state == want, "submitted as %s, want %s", ob_state_name(a.state),
		      ob_state_name(want));
		CHECK(r, a.version == 1, "version %llu", (unsigned long long)a.version);
		CHECK(r, a.waitlist_position == model_position(m, m->n - 1),
		      "submitted at position %u, want %u", a.waitlist_position,
		      model_position(m, m->n - 1));
	}
	ob_application_fini(&a);
	ob_outcome_fini(&o);
}

/* An application to act on: more often one holding a seat, where the lifecycle happens. */
static size_t pick(run *r)
{
	const model *m = &r->m;
	if (below(r, 10) < 6) {
		size_t seated[COMPANIES], n = 0;
		for (size_t i = 0; i < m->n; i++)
			if (ob_state_holds_seat(m->app[i].state))
				seated[n++] = i;
		if (n > 0)
			return seated[below(r, (uint32_t)n)];
	}
	return below(r, (uint32_t)m->n);
}

/* A version that is not the current one. */
static uint64_t stale(run *r, uint64_t v)
{
	return v > 1 && below(r, 2) == 0 ? 1 + below(r, (uint32_t)(v - 1)) : v + 1 + below(r, 3);
}

static void op_review(run *r)
{
	model *m = &r->m;
	size_t i = pick(r);
	mapp *a = &m->app[i];
	ob_action legal[OB_ACTION_COUNT];
	size_t n_legal = 0;
	for (int act = OB_ACTION_START; act < OB_ACTION_COUNT; act++)
		if (ob_transition(a->state, (ob_action)act) != OB_STATE_UNSPECIFIED)
			legal[n_legal++] = (ob_action)act;
	ob_action act = n_legal > 0 && below(r, 10) < 7
	                        ? legal[below(r, (uint32_t)n_legal)]
	                        : (ob_action)(OB_ACTION_START + below(r, OB_ACTION_COUNT - 1));
	bool is_stale = below(r, 100) < 15;
	uint64_t version = is_stale ? stale(r, a->version) : a->version;
	snprintf(r->what, sizeof(r->what), "%s %s (%s) at version %llu of %llu",
	         ob_action_name(act), a->id, ob_state_name(a->state), (unsigned long long)version,
	         (unsigned long long)a->version);

	/* The model first: the rules of the issue, in the order the issue gives them. */
	ob_state from = a->state, to = ob_transition(a->state, act);
	int64_t back = act == OB_ACTION_APPROVE
	                       ? outside_window(r, 5, m->approvals_open, m->approvals_close)
	                       : 0;
	int64_t now = ob_clock_now_ms();
	bool closed =
	        act == OB_ACTION_APPROVE && (now < m->approvals_open || now >= m->approvals_close);
	ob_err want = is_stale                     ? OB_ESTALE
	              : to == OB_STATE_UNSPECIFIED ? OB_EPRECOND
	              : closed                     ? OB_EPRECOND
	                                           : OB_OK;
	size_t promoted[COMPANIES], n_promoted = 0;
	if (want == OB_OK) {
		a->state = to;
		a->version++;
		if (!ob_state_holds_seat(to))
			n_promoted = model_promote(m, promoted);
	}

	ob_application got;
	memset(&got, 0, sizeof(got));
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = ob_domain_review(r->t.d, TD_AS("model"), a->id, act, version,
	                              OB_REJECTION_OTHER, NULL, NULL, &got, &o);
	if (back != 0)
		ob_clock_set_now_ms(back);
	CHECK(r, err == want, "got %s, want %s: %s", ob_strerror(err), ob_strerror(want),
	      o.message);
	if (err == OB_OK)
		CHECK(r, got.state == a->state && got.version == a->version, "returned %s v%llu",
		      ob_state_name(got.state), (unsigned long long)got.version);
	ob_application_fini(&got);
	ob_outcome_fini(&o);
	verify_promoted(r, promoted, n_promoted);
	r->stale += want == OB_ESTALE;
	r->illegal += want == OB_EPRECOND;
	r->approvals += want == OB_OK && to == OB_STATE_APPROVED;
	r->rejections += want == OB_OK && to == OB_STATE_REJECTED;
	r->waitlist_rejections +=
	        want == OB_OK && to == OB_STATE_REJECTED && from == OB_STATE_WAITLISTED;
	r->closed_approvals += !is_stale && to != OB_STATE_UNSPECIFIED && closed;
}

static void op_withdraw(run *r)
{
	model *m = &r->m;
	size_t i = pick(r);
	mapp *a = &m->app[i];
	uint32_t mode = below(r, 100);
	bool is_stale = mode < 15;
	uint64_t version = is_stale ? stale(r, a->version) : mode < 45 ? 0 : a->version;
	snprintf(r->what, sizeof(r->what), "withdraw %s (%s) at version %llu of %llu", a->id,
	         ob_state_name(a->state), (unsigned long long)version,
	         (unsigned long long)a->version);

	ob_err want = is_stale ? OB_ESTALE : ob_state_final(a->state) ? OB_EPRECOND : OB_OK;
	size_t promoted[COMPANIES], n_promoted = 0;
	if (want == OB_OK) {
		a->state = OB_STATE_WITHDRAWN;
		a->version++;
		n_promoted = model_promote(m, promoted);
	}

	ob_application got;
	memset(&got, 0, sizeof(got));
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err =
	        ob_domain_withdraw(r->t.d, TD_AS("model"), a->id, version, NULL, NULL, &got, &o);
	CHECK(r, err == want, "got %s, want %s: %s", ob_strerror(err), ob_strerror(want),
	      o.message);
	if (err == OB_OK)
		CHECK(r, got.state == OB_STATE_WITHDRAWN && got.version == a->version,
		      "returned %s v%llu", ob_state_name(got.state),
		      (unsigned long long)got.version);
	ob_application_fini(&got);
	ob_outcome_fini(&o);
	verify_promoted(r, promoted, n_promoted);
	r->withdrawals += want == OB_OK;
}

static void op_capacity(run *r)
{
	model *m = &r->m;
	uint32_t cap = below(r, MAX_CAPACITY + 1);
	snprintf(r->what, sizeof(r->what), "capacity %u -> %u with %u seats held", m->capacity, cap,
	         model_seats(m));
	ob_err want = cap < model_seats(m) ? OB_EPRECOND : OB_OK;
	size_t promoted[COMPANIES], n_promoted = 0;
	if (want == OB_OK) {
		m->capacity = cap;
		n_promoted = model_promote(m, promoted);
	}
	ob_standing st;
	memset(&st, 0, sizeof(st));
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = ob_domain_set_capacity(r->t.d, TD_AS("model"), COHORT, cap, &st, &o);
	CHECK(r, err == want, "got %s, want %s: %s", ob_strerror(err), ob_strerror(want),
	      o.message);
	if (err == OB_OK)
		CHECK(r, st.cohort.capacity == cap && st.seats_held == model_seats(m),
		      "returned capacity %u with %u seats", st.cohort.capacity, st.seats_held);
	ob_standing_fini(&st);
	ob_outcome_fini(&o);
	verify_promoted(r, promoted, n_promoted);
	r->refused_capacity += want == OB_EPRECOND;
}

static void op_lookup(run *r)
{
	uint32_t k = below(r, r->m.next_company + 10); /* a few never submitted */
	snprintf(r->what, sizeof(r->what), "look up company %u by SIREN", k);
	td_company c;
	td_company_make(&c, k);
	ob_application a;
	memset(&a, 0, sizeof(a));
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = ob_domain_get(r->t.d, TD_ALL, NULL, COHORT, c.siren, &a, &o);
	int i = k < COMPANIES ? r->m.of_company[k] : -1; /* the live one, else the latest */
	CHECK(r, err == (i >= 0 ? OB_OK : OB_ENOTFOUND), "got %s", ob_strerror(err));
	if (i >= 0)
		CHECK(r, strcmp(a.id, r->m.app[i].id) == 0 && a.state == r->m.app[i].state,
		      "found %s in %s", a.id, ob_state_name(a.state));
	if (err == OB_OK)
		ob_application_fini(&a);
	ob_outcome_fini(&o);
}

/* Time passes: approvals land on other webinar days and waiver months, and the windows
 * close. */
static void op_clock(run *r)
{
	uint32_t hours = 1 + below(r, 48);
	snprintf(r->what, sizeof(r->what), "%u hours pass", hours);
	ob_clock_set_now_ms(ob_clock_now_ms() + (int64_t)hours * 3600 * 1000);
}

static int ops_to_run(void)
{
	const char *env = getenv("OB_MODEL_OPS");
	int n = env != NULL ? atoi(env) : 0;
	return n > 0 ? n : DEFAULT_OPS;
}

/* The domain agrees with the model after each of 3,000 random operations and a reopen. */
static void test_model(void **state)
{
	run *r = *state;
	fprintf(stderr, "model test: seed %llu\n", (unsigned long long)r->seed);
	int64_t start = 0;
	CHECK(r, ob_time_parse_rfc3339("2020-11-02T08:00:00Z", &start), "bad start time");
	ob_clock_set_now_ms(start);
	open_store(r);
	for (size_t k = 0; k < COMPANIES; k++)
		r->m.of_company[k] = -1;
	r->m.capacity = 1 + below(r, 4);
	ob_cohort c, out;
	ob_cohort_default(&c);
	snprintf(c.id, sizeof(c.id), "%s", COHORT);
	snprintf(c.name, sizeof(c.name), "model cohort");
	c.capacity = r->m.capacity;
	c.webinar_seats = 3; /* sessions fill up, so approvals move to later days */
	c.advisor_pool = 4;
	/* Windows that close during the run, which lasts 100 to 130 days (4 in 100 operations
	 * move the clock by 1 to 48 hours): submissions after 90 days, approvals after 105.
	 * Operations also try them just outside (outside_window). */
	r->m.submissions_open = r->m.approvals_open = start - DAY_MS;
	r->m.submissions_close = start + 90 * (int64_t)DAY_MS;
	r->m.approvals_close = start + 105 * (int64_t)DAY_MS;
	c.window_opens_ms = r->m.submissions_open;
	c.window_closes_ms = r->m.submissions_close;
	c.approval_opens_ms = r->m.approvals_open;
	c.approval_closes_ms = r->m.approvals_close;
	ob_outcome o;
	ob_outcome_init(&o);
	CHECK(r, ob_domain_cohort_create(r->t.d, &c, &out, &o) == OB_OK, "cohort: %s", o.message);
	ob_outcome_fini(&o);

	int n_ops = ops_to_run();
	int counts[6] = {0};
	for (r->op = 0; r->op < n_ops; r->op++) {
		uint32_t dice = below(r, 100);
		int kind = r->m.n == 0 || dice < 25 ? 0
		           : dice < 67              ? 1
		           : dice < 80              ? 2
		           : dice < 89              ? 3
		           : dice < 96              ? 4
		                                    : 5;
		counts[kind]++;
		switch (kind) {
		case 0:
			op_submit(r);
			break;
		case 1:
			op_review(r);
			break;
		case 2:
			op_withdraw(r);
			break;
		case 3:
			op_capacity(r);
			break;
		case 4:
			op_lookup(r);
			break;
		default:
			op_clock(r);
			break;
		}
		verify(r);
	}
	snprintf(r->what, sizeof(r->what), "reopen the store");
	ob_test_domain_close(&r->t);
	open_store(r);
	verify(r);

	/* The run must have reached the interesting corners, or it proved little. */
	fprintf(stderr,
	        "model test: seed %llu: %d submits, %d reviews, %d withdrawal attempts, %d "
	        "capacity changes, %d lookups, %d clock jumps; %zu applications; %u promotions, "
	        "%u duplicates, %u stale, %u illegal, %u approvals, %u rejections (%u in line), "
	        "%u withdrawals, %u capacity refusals, %u re-applications, %u submissions and %u "
	        "approvals outside their window\n",
	        (unsigned long long)r->seed, counts[0], counts[1], counts[2], counts[3], counts[4],
	        counts[5], r->m.n, r->promotions, r->duplicates, r->stale, r->illegal, r->approvals,
	        r->rejections, r->waitlist_rejections, r->withdrawals, r->refused_capacity,
	        r->reapplications, r->closed_submissions, r->closed_approvals);
	CHECK(r,
	      r->promotions > 0 && r->duplicates > 0 && r->stale > 0 && r->illegal > 0 &&
	              r->approvals > 0 && r->rejections > 0 && r->withdrawals > 0 &&
	              r->refused_capacity > 0 && r->reapplications > 0 &&
	              r->waitlist_rejections > 0 && r->closed_submissions > 0 &&
	              r->closed_approvals > 0,
	      "the run missed a kind of event");
}

/* With no argument, runs the three seeds; "1", "2" or "3" runs one of them (meson runs them as
 * three tests, in parallel). OB_MODEL_SEED=N runs seed N instead. */
int main(int argc, char **argv)
{
	static uint64_t seeds[3] = {20201030, 20201215, 20210315};
	size_t first = 0, n_seeds = 3;
	if (argc > 1) {
		int i = atoi(argv[1]);
		if (i < 1 || i > 3) {
			fprintf(stderr, "usage: %s [1|2|3]\n", argv[0]);
			return 2;
		}
		first = (size_t)i - 1;
		n_seeds = 1;
	}
	const char *env = getenv("OB_MODEL_SEED");
	if (env != NULL && env[0] != '\0') {
		seeds[first] = strtoull(env, NULL, 10);
		n_seeds = 1;
	}
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_prestate_setup_teardown(test_model, setup, teardown, &seeds[0]),
	        cmocka_unit_test_prestate_setup_teardown(test_model, setup, teardown, &seeds[1]),
	        cmocka_unit_test_prestate_setup_teardown(test_model, setup, teardown, &seeds[2]),
	};
	return _cmocka_run_group_tests("domain_model", tests + first, n_seeds, NULL, NULL);
}
