/*
 * The programme's operations over the store. Each write is one exclusive
 * store transaction that reads what it decides on, changes it, keeps the
 * cohort's counters in step, and commits durably before anyone is told.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/utf8.h"
#include "domain/calendar.h"
#include "domain/domain.h"
#include "domain/internal.h"
#include "domain/store.h"

/* Idempotency records live at least this long (the contract says 24 h). */
#define IDEM_RETENTION_MS (48LL * 3600 * 1000)

struct ob_domain {
	ob_store *store;
	/* ob_domain_store_health: the last answer, when it was had (monotonic),
	 * and who is asking the store now. */
	_Atomic int health;
	_Atomic int64_t health_at_us;
	pthread_mutex_t health_mu;
};

void ob_standing_fini(ob_standing *s)
{
	if (s == NULL)
		return;
	free(s->counters);
	s->counters = NULL;
	s->n_counters = 0;
}

void ob_new_id(char out[OB_ID_LEN + 1], int64_t now_ms)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */
	uint64_t t = (uint64_t)now_ms;
	for (int i = 9; i >= 0; i--) {
		out[i] = alphabet[t & 31];
		t >>= 5;
	}
	unsigned char r[16];
	randombytes_buf(r, sizeof(r));
	for (int i = 0; i < 16; i++)
		out[10 + i] = alphabet[r[i] & 31];
	out[OB_ID_LEN] = '\0';
}

static void say(ob_outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(ob_outcome *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
	ob_utf8_trim_cut(o->message);
}

static ob_err store_failed(ob_outcome *o, ob_err err)
{
	say(o, "the store failed: %s", ob_strerror(err));
	return err;
}

/* An application whose contact cannot be decrypted is never shown as if its
 * contact were empty. The message names the application, not its data. */
static ob_err unreadable(ob_outcome *o, const ob_application *a)
{
	say(o,
	    "the contact data of application %s failed its integrity check (tampered, copied "
	    "from another record, or its master key is missing); see the server log",
	    a->id);
	return OB_ECORRUPT;
}

/* ---- counters ------------------------------------------------------- */

/* Counter deltas gathered for one change and written in one statement. */
typedef struct {
	ob_counter d[OB_MAX_COUNTER_BATCH];
	size_t n;
} deltas;

static void delta(deltas *ds, int64_t by, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
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

static ob_err count_state(ob_txn *t, const ob_application *a, ob_state from, ob_state to)
{
	deltas ds = {.n = 0};
	state_deltas(&ds, from, to);
	return t->ops->counters_add(t, a->cohort_id, ds.d, ds.n);
}

static ob_err count_new(ob_txn *t, const ob_application *a)
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

/* ---- the write path ------------------------------------------------- */

/* note: what a person typed (NULL: nothing), kept apart from the reason
 * because the store seals it (model.h). */
static ob_err change_state(ob_txn *t, ob_application *a, ob_state to, const char *actor,
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
	if (err == OB_OK)
		err = count_state(t, a, from, to);
	return err;
}

/* Gives free seats to the waitlist, oldest first, until none is free. */
static ob_err promote(ob_txn *t, const ob_cohort *c, int64_t now)
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
			err = change_state(t, &next, OB_STATE_SUBMITTED, "system",
			                   "promoted from the waitlist: a seat freed", NULL, now);
		if (err != OB_OK)
			return err;
	}
}

/* Looks the key up: a repeat of the same request replays the stored reply
 * (OB_OK with o->replay set); the same key on another request is refused. */
static ob_err idem_check(ob_txn *t, const ob_idempotency *idem, ob_outcome *o, bool *replayed)
{
	*replayed = false;
	if (idem == NULL || idem->key == NULL)
		return OB_OK;
	uint8_t hash[32];
	uint8_t *reply = NULL;
	size_t len = 0;
	ob_err err = t->ops->idem_get(t, idem->key, hash, &reply, &len);
	if (err == OB_ENOTFOUND)
		return OB_OK;
	if (err != OB_OK)
		return store_failed(o, err);
	if (sodium_memcmp(hash, idem->request_hash, sizeof(hash)) != 0) {
		free(reply);
		say(o,
		    "the idempotency key was already used for a different request; use a new key");
		ob_violation_add(o, "metadata.idempotency-key", "already used for another request");
		return OB_EINVAL;
	}
	o->replay = reply;
	o->replay_len = len;
	*replayed = true;
	return OB_OK;
}

/* Renders and stores the reply under the key, and forgets old keys. The
 * reply shows a's contact: the store seals it under a's data key. */
static ob_err idem_record(ob_txn *t, const ob_idempotency *idem, const ob_application *a,
                          int64_t now)
{
	if (idem == NULL || idem->key == NULL || idem->render == NULL)
		return OB_OK;
	uint8_t *reply = NULL;
	size_t len = 0;
	ob_err err = idem->render(idem->ctx, a, &reply, &len);
	if (err == OB_OK)
		err = t->ops->idem_put(t, idem->key, idem->request_hash, reply, len, now, a);
	if (reply != NULL)
		sodium_memzero(reply, len); /* it held the contact in clear */
	free(reply);
	/* Old keys go in small steps, at most once a minute: a purge on every
	 * write showed as a tenth of Submit's cost. */
	static _Atomic int64_t last_purge_ms;
	int64_t last = atomic_load(&last_purge_ms);
	if (err == OB_OK && now - last > 60000 &&
	    atomic_compare_exchange_strong(&last_purge_ms, &last, now))
		err = t->ops->idem_purge(t, now - IDEM_RETENTION_MS, 1000);
	return err;
}

/* Loads what a reply shows beyond the row: history and waitlist position. */
static ob_err decorate(ob_txn *t, ob_application *a)
{
	ob_err err = t->ops->history_load(t, a);
	a->waitlist_position = 0;
	if (err == OB_OK && a->state == OB_STATE_WAITLISTED)
		err = t->ops->app_waitlist_position(t, a, &a->waitlist_position);
	return err;
}

/* ---- lifecycle ------------------------------------------------------ */

ob_err ob_domain_create(ob_domain **out, ob_store *store)
{
	*out = NULL;
	ob_domain *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return OB_ENOMEM;
	d->store = store;
	atomic_init(&d->health, OB_OK);
	atomic_init(&d->health_at_us, ob_clock_mono_us() - OB_STORE_HEALTH_TTL_MS * 1000);
	pthread_mutex_init(&d->health_mu, NULL);
	ob_txn *t;
	ob_err err = store->ops->begin(store, true, &t);
	if (err != OB_OK) {
		pthread_mutex_destroy(&d->health_mu);
		free(d);
		return err;
	}
	ob_cohort c;
	err = t->ops->cohort_get(t, OB_DEFAULT_COHORT, &c);
	if (err == OB_ENOTFOUND) {
		ob_cohort_default(&c);
		c.created_at_ms = ob_clock_now_ms();
		err = t->ops->cohort_insert(t, &c);
		if (err == OB_OK)
			err = t->ops->advisors_create(t, c.id, c.advisor_pool);
		if (err == OB_OK)
			ob_log(OB_LOG_INFO, "created the default cohort %s (capacity %u)", c.id,
			       c.capacity);
	}
	if (err == OB_OK)
		err = t->ops->commit(t);
	else
		t->ops->rollback(t);
	if (err != OB_OK) {
		pthread_mutex_destroy(&d->health_mu);
		free(d);
		return err;
	}
	*out = d;
	return OB_OK;
}

void ob_domain_destroy(ob_domain *d)
{
	if (d == NULL)
		return;
	pthread_mutex_destroy(&d->health_mu);
	free(d);
}

/* ---- health --------------------------------------------------------- */

ob_err ob_domain_store_health(ob_domain *d)
{
	const int64_t ttl_us = OB_STORE_HEALTH_TTL_MS * 1000;
	if (ob_clock_mono_us() - atomic_load(&d->health_at_us) < ttl_us ||
	    pthread_mutex_trylock(&d->health_mu) != 0)
		return (ob_err)atomic_load(&d->health);
	if (ob_clock_mono_us() - atomic_load(&d->health_at_us) >= ttl_us) {
		ob_err err = d->store->ops->ping(d->store);
		ob_err was = (ob_err)atomic_exchange(&d->health, (int)err);
		atomic_store(&d->health_at_us, ob_clock_mono_us());
		if (err != OB_OK && was == OB_OK)
			ob_log(OB_LOG_ERROR,
			       "the store cannot be reached (%s): health says NOT_SERVING",
			       ob_strerror(err));
		else if (err == OB_OK && was != OB_OK)
			ob_log(OB_LOG_INFO, "the store can be reached again: health says SERVING");
	}
	pthread_mutex_unlock(&d->health_mu);
	return (ob_err)atomic_load(&d->health);
}

/* ---- submit --------------------------------------------------------- */

typedef struct {
	ob_application *a;
	const ob_idempotency *idem;
	const char *actor;
	ob_outcome *o;
	bool replayed;
} submit_op;

static ob_err submit_txn(ob_txn *t, void *arg)
{
	submit_op *x = arg;
	ob_application *a = x->a;
	ob_outcome *o = x->o;
	ob_err err = idem_check(t, x->idem, o, &x->replayed);
	if (err != OB_OK || x->replayed)
		return err; /* a replay changes nothing */

	int64_t now = ob_clock_now_ms();
	ob_cohort c;
	err = t->ops->cohort_get(t, a->cohort_id, &c);
	if (err == OB_ENOTFOUND) {
		say(o, "no cohort '%s'; 'onboard cohort --list' lists them", a->cohort_id);
		ob_violation_add(o, "cohort_id", "no such cohort");
		return err;
	}
	if (err != OB_OK)
		return store_failed(o, err);
	if (c.window_enforced && ((c.window_opens_ms != 0 && now < c.window_opens_ms) ||
	                          (c.window_closes_ms != 0 && now >= c.window_closes_ms))) {
		say(o, "cohort %s does not take submissions now (outside its window)", c.id);
		return OB_EPRECOND;
	}
	if ((c.eligible_sizes & (1u << a->size)) == 0) {
		say(o,
		    "the company's size category is %s (%u people, turnover %lld EUR, balance "
		    "sheet %lld EUR): not eligible for cohort %s",
		    ob_size_category_name(a->size), a->company.employees,
		    (long long)a->company.turnover_eur, (long long)a->company.balance_eur, c.id);
		return OB_EPRECOND;
	}
	/* Seats are counted in this transaction, which no other write shares:
	 * at most `capacity` applications ever hold one. */
	int64_t seats;
	if ((err = t->ops->counter_get(t, c.id, "seats", &seats)) != OB_OK)
		return store_failed(o, err);
	ob_new_id(a->id, now);
	a->state = seats < (int64_t)c.capacity ? OB_STATE_SUBMITTED : OB_STATE_WAITLISTED;
	if (a->state == OB_STATE_WAITLISTED) {
		err = t->ops->counter_add(t, c.id, "waitlist_tickets", 1);
		if (err == OB_OK)
			err = t->ops->counter_get(t, c.id, "waitlist_tickets", &a->waitlist_ticket);
		if (err != OB_OK)
			return store_failed(o, err);
	}
	a->version = 1;
	a->submitted_at_ms = a->updated_at_ms = now;
	ob_state_change ch = {.from = OB_STATE_UNSPECIFIED, .to = a->state, .at_ms = now};
	ob_utf8_copy(ch.actor, sizeof(ch.actor), x->actor);
	ob_utf8_copy(ch.reason, sizeof(ch.reason),
	             a->state == OB_STATE_SUBMITTED ? "submitted"
	                                            : "submitted; no seat free: waitlisted");
	/* The store's uniqueness of (cohort, SIREN) is the check: one lookup
	 * fewer on the path every submission takes. */
	err = t->ops->app_insert(t, a);
	if (err == OB_EEXIST) {
		ob_application existing;
		if (t->ops->app_get_by_siren(t, c.id, a->company.siren, NULL, &existing) == OB_OK)
			say(o, "SIREN %s already applied to cohort %s: application %s",
			    a->company.siren, c.id, existing.id);
		else
			say(o, "SIREN %s already applied to cohort %s", a->company.siren, c.id);
		return err;
	}
	if (err == OB_OK)
		err = t->ops->history_append(t, a->seq, &ch);
	if (err == OB_OK)
		err = count_new(t, a);
	if (err == OB_OK && a->state == OB_STATE_WAITLISTED) {
		/* A newcomer is last in line. */
		int64_t waiting;
		err = t->ops->counter_get(t, c.id, "waitlist", &waiting);
		a->waitlist_position = (uint32_t)waiting;
	}
	if (err == OB_OK) {
		/* Its history is the one change just made. */
		a->history = malloc(sizeof(*a->history));
		if (a->history == NULL)
			return OB_ENOMEM;
		a->history[0] = ch;
		a->n_history = 1;
		err = idem_record(t, x->idem, a, now);
	}
	return err == OB_OK ? OB_OK : store_failed(o, err);
}

/* Runs a write on the store; the store may commit it with others (group
 * commit), and returns once it is durable. */
static ob_err write(ob_domain *d, ob_err (*fn)(ob_txn *, void *), void *arg, ob_outcome *o)
{
	ob_err err = d->store->ops->write(d->store, fn, arg);
	if (err != OB_OK && o->message[0] == '\0')
		store_failed(o, err);
	return err;
}

ob_err ob_domain_submit(ob_domain *d, const ob_submission *in, const char *actor,
                        const ob_idempotency *idem, ob_application *out, ob_outcome *o)
{
	ob_application a;
	ob_err err = ob_validate_submission(in, &a, o);
	if (err != OB_OK)
		return err;
	ob_utf8_copy(a.submitted_by, sizeof(a.submitted_by),
	             in->owner != NULL && in->owner[0] != '\0' ? in->owner : "local");
	submit_op x = {.a = &a, .idem = idem, .actor = actor, .o = o};
	err = write(d, submit_txn, &x, o);
	if (err != OB_OK || x.replayed) {
		ob_application_fini(&a);
		return err;
	}
	*out = a;
	return OB_OK;
}

/* ---- reads ---------------------------------------------------------- */

/* The one answer for an application the caller may not see, whether it does
 * not exist or belongs to someone else: the same words, byte for byte, so
 * that they tell nothing apart. Callers who see everything get the id. */
static ob_err not_found(ob_outcome *o, const char *owner, const char *id, const char *cohort,
                        const char *siren)
{
	if (owner != NULL)
		say(o, "no such application among yours");
	else if (id != NULL)
		say(o, "no application %s", id);
	else
		say(o, "no application for SIREN %s in cohort %s", siren, cohort);
	return OB_ENOTFOUND;
}

ob_err ob_domain_get(ob_domain *d, const char *id, const char *cohort, const char *siren,
                     const char *owner, ob_application *out, ob_outcome *o)
{
	ob_txn *t;
	ob_err err = d->store->ops->begin(d->store, false, &t);
	if (err != OB_OK)
		return store_failed(o, err);
	/* The owner is part of the lookup: another's application is not read,
	 * so neither its state nor its integrity can show through. */
	if (id != NULL)
		err = t->ops->app_get(t, id, owner, out);
	else
		err = t->ops->app_get_by_siren(t, cohort, siren, owner, out);
	if (err == OB_ENOTFOUND) {
		not_found(o, owner, id, cohort, siren);
	} else if (err == OB_OK && out->contact_unreadable) {
		err = unreadable(o, out);
		memset(out, 0, sizeof(*out));
	} else if (err == OB_OK) {
		err = decorate(t, out);
		if (err != OB_OK) {
			store_failed(o, err);
			ob_application_fini(out); /* only now does out hold a history */
		}
	} else {
		store_failed(o, err);
	}
	t->ops->rollback(t); /* a read: nothing to commit */
	return err;
}

ob_err ob_domain_list(ob_domain *d, const ob_app_filter *f, int64_t after_seq, size_t page_size,
                      ob_application **out, size_t *n, bool *more, ob_outcome *o)
{
	*out = NULL;
	*n = 0;
	*more = false;
	if (page_size == 0)
		page_size = OB_DEFAULT_PAGE_SIZE;
	if (page_size > OB_MAX_PAGE_SIZE)
		page_size = OB_MAX_PAGE_SIZE;
	ob_txn *t;
	ob_err err = d->store->ops->begin(d->store, false, &t);
	if (err != OB_OK)
		return store_failed(o, err);
	/* One more than asked tells whether another page follows. */
	err = t->ops->app_list(t, f, after_seq, page_size + 1, out, n);
	if (err == OB_OK && *n > page_size) {
		*more = true;
		*n = page_size;
	}
	for (size_t i = 0; err == OB_OK && i < *n; i++) {
		/* An application whose contact fails its check comes back with the
		 * contact blank (the store cleared it), so that one damaged row does
		 * not stop a reviewer from paging past it; GetApplication on it says
		 * DATA_LOSS. */
		if ((*out)[i].state == OB_STATE_WAITLISTED)
			err = t->ops->app_waitlist_position(t, &(*out)[i],
			                                    &(*out)[i].waitlist_position);
	}
	t->ops->rollback(t);
	if (err != OB_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
		*more = false;
		return store_failed(o, err);
	}
	return OB_OK;
}

static bool id_ok(const char *s);

ob_err ob_domain_standing(ob_domain *d, const char *cohort, ob_standing *out, ob_outcome *o)
{
	memset(out, 0, sizeof(*out));
	if (!id_ok(cohort)) {
		ob_violation_add(o, "id", "a cohort id is 1-32 characters of [a-z0-9-]");
		say(o, "not a cohort id");
		return OB_EINVAL;
	}
	ob_txn *t;
	ob_err err = d->store->ops->begin(d->store, false, &t);
	if (err != OB_OK)
		return store_failed(o, err);
	err = t->ops->cohort_get(t, cohort, &out->cohort);
	if (err == OB_ENOTFOUND) {
		say(o, "no cohort '%s'", cohort);
		t->ops->rollback(t);
		return err;
	}
	int64_t v[4] = {0};
	const char *keys[4] = {"seats", "waitlist", "apps", "exporters"};
	for (int i = 0; err == OB_OK && i < 4; i++)
		err = t->ops->counter_get(t, cohort, keys[i], &v[i]);
	if (err == OB_OK)
		err = t->ops->counter_list(t, cohort, "", &out->counters, &out->n_counters);
	t->ops->rollback(t);
	if (err != OB_OK) {
		ob_standing_fini(out);
		return store_failed(o, err);
	}
	out->seats_held = (uint32_t)v[0];
	out->waitlist = (uint32_t)v[1];
	out->applications = (uint32_t)v[2];
	out->exporters = (uint32_t)v[3];
	out->seats_free =
	        out->cohort.capacity > out->seats_held ? out->cohort.capacity - out->seats_held : 0;
	return OB_OK;
}

ob_err ob_domain_cohorts(ob_domain *d, ob_cohort *out, size_t max, size_t *n)
{
	ob_txn *t;
	ob_err err = d->store->ops->begin(d->store, false, &t);
	if (err != OB_OK)
		return err;
	err = t->ops->cohort_list(t, out, max, n);
	t->ops->rollback(t);
	return err;
}

/* ---- review and withdrawal ------------------------------------------ */

/* The benefits of an approval, granted once (the state machine allows
 * APPROVE only from UNDER_REVIEW, and approval is not reversible). */
static ob_err grant(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t now)
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

	/* The next daily session with a free seat; a bounded search (ten years). */
	ob_err err = OB_OK;
	for (uint32_t n = 0; n < 3660 && c->webinar_seats > 0; n++) {
		int64_t session = ob_webinar_session(now / 1000, (int)c->webinar_hour,
		                                     (int)c->webinar_minute, n) *
		                  1000;
		uint32_t booked;
		if ((err = t->ops->webinar_booked(t, c->id, session, &booked)) != OB_OK)
			return err;
		if (booked < c->webinar_seats) {
			b->webinar_at_ms = session;
			err = t->ops->webinar_add(t, c->id, session, 1);
			break;
		}
	}
	if (err == OB_OK) {
		err = t->ops->advisor_pick(t, c->id, &b->advisor);
		if (err == OB_ENOTFOUND) {
			b->advisor = 0; /* a cohort without advisors */
			err = OB_OK;
		} else if (err == OB_OK) {
			err = t->ops->advisor_add(t, c->id, b->advisor, 1);
		}
	}
	return err;
}

/* A withdrawal after approval takes back what is not used yet: the waiver's
 * months not yet started, the unused ad credit, a future webinar seat, and
 * the advisor's time. */
static ob_err revoke(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t now)
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

/* A review or a withdrawal: one application, checked against the version
 * the caller saw. */
typedef struct {
	const char *id;
	const char *owner; /* NULL: any application; else only the owner's exist */
	uint64_t expected_version;
	const ob_idempotency *idem;
	const char *actor;
	ob_outcome *o;
	bool withdraw;
	ob_action action;    /* review */
	ob_rejection reason; /* review */
	const char *note;    /* review: note; withdrawal: reason */
	bool replayed;
	ob_application a;
} app_op;

static ob_err review_change(ob_txn *t, app_op *x, const ob_cohort *c, int64_t now)
{
	ob_application *a = &x->a;
	ob_state to = ob_transition(a->state, x->action);
	if (to == OB_STATE_UNSPECIFIED) {
		say(x->o, "cannot %s application %s: it is %s", ob_action_name(x->action), x->id,
		    ob_state_name(a->state));
		return OB_EPRECOND;
	}
	if (x->action == OB_ACTION_REJECT)
		a->rejection = x->reason;
	ob_err err = OB_OK;
	if (x->action == OB_ACTION_APPROVE)
		err = grant(t, c, a, now);
	if (err == OB_OK)
		err = change_state(t, a, to, x->actor, ob_action_name(x->action), x->note, now);
	if (err == OB_OK && !ob_state_holds_seat(to))
		err = promote(t, c, now);
	return err;
}

static ob_err withdraw_change(ob_txn *t, app_op *x, const ob_cohort *c, int64_t now)
{
	ob_application *a = &x->a;
	if (ob_state_final(a->state)) {
		say(x->o, "cannot withdraw application %s: it is %s", x->id,
		    ob_state_name(a->state));
		return OB_EPRECOND;
	}
	ob_err err = revoke(t, c, a, now);
	if (err == OB_OK && a->state == OB_STATE_WAITLISTED)
		err = t->ops->waitlist_leave(t, c->id, a->waitlist_ticket);
	if (err == OB_OK)
		err = change_state(t, a, OB_STATE_WITHDRAWN, x->actor, "withdrawn", x->note, now);
	if (err == OB_OK)
		err = promote(t, c, now);
	return err;
}

static ob_err app_txn(ob_txn *t, void *arg)
{
	app_op *x = arg;
	ob_outcome *o = x->o;
	ob_err err = idem_check(t, x->idem, o, &x->replayed);
	if (err != OB_OK || x->replayed)
		return err;
	err = t->ops->app_get(t, x->id, x->owner, &x->a);
	if (err == OB_ENOTFOUND)
		return not_found(o, x->owner, x->id, "", "");
	if (err == OB_OK && x->a.contact_unreadable)
		return unreadable(o, &x->a);
	ob_cohort c;
	if (err == OB_OK)
		err = t->ops->cohort_get(t, x->a.cohort_id, &c);
	if (err != OB_OK)
		return store_failed(o, err);
	if (x->expected_version != 0 && x->expected_version != x->a.version) {
		say(o,
		    "application %s is at version %llu, not %llu: someone changed it; read it "
		    "again",
		    x->id, (unsigned long long)x->a.version,
		    (unsigned long long)x->expected_version);
		return OB_ESTALE;
	}
	int64_t now = ob_clock_now_ms();
	err = x->withdraw ? withdraw_change(t, x, &c, now) : review_change(t, x, &c, now);
	if (err == OB_OK)
		err = decorate(t, &x->a);
	if (err == OB_OK)
		err = idem_record(t, x->idem, &x->a, now);
	if (err != OB_OK && o->message[0] == '\0')
		store_failed(o, err);
	return err;
}

static ob_err run_app_op(ob_domain *d, app_op *x, ob_application *out)
{
	ob_err err = write(d, app_txn, x, x->o);
	if (err != OB_OK || x->replayed) {
		ob_application_fini(&x->a);
		return err;
	}
	*out = x->a;
	return OB_OK;
}

ob_err ob_domain_review(ob_domain *d, const char *id, ob_action action, uint64_t expected_version,
                        ob_rejection reason, const char *note, const char *actor,
                        const ob_idempotency *idem, ob_application *out, ob_outcome *o)
{
	if (action <= OB_ACTION_UNSPECIFIED || action >= OB_ACTION_COUNT)
		ob_violation_add(o, "action",
		                 "must be START, REQUEST_INFO, APPROVE, REJECT or ONBOARD");
	if (expected_version == 0)
		ob_violation_add(o, "expected_version", "is required: the version you reviewed");
	if (action == OB_ACTION_REJECT &&
	    (reason <= OB_REJECTION_NONE || reason >= OB_REJECTION_COUNT))
		ob_violation_add(o, "rejection_reason", "is required to reject");
	if (note != NULL && strlen(note) > OB_REASON_MAX)
		ob_violation_add(o, "note", "is longer than %d bytes", OB_REASON_MAX);
	if (o->n_violations > 0) {
		say(o, "the review request has %zu invalid field%s", o->n_violations,
		    o->n_violations > 1 ? "s" : "");
		return OB_EINVAL;
	}
	app_op x = {.id = id,
	            .expected_version = expected_version,
	            .idem = idem,
	            .actor = actor,
	            .o = o,
	            .action = action,
	            .reason = reason,
	            .note = note};
	return run_app_op(d, &x, out);
}

ob_err ob_domain_withdraw(ob_domain *d, const char *id, const char *owner,
                          uint64_t expected_version, const char *reason, const char *actor,
                          const ob_idempotency *idem, ob_application *out, ob_outcome *o)
{
	if (reason != NULL && strlen(reason) > OB_REASON_MAX) {
		ob_violation_add(o, "reason", "is longer than %d bytes", OB_REASON_MAX);
		say(o, "the reason is too long");
		return OB_EINVAL;
	}
	app_op x = {.id = id,
	            .owner = owner,
	            .expected_version = expected_version,
	            .idem = idem,
	            .actor = actor,
	            .o = o,
	            .withdraw = true,
	            .note = reason};
	return run_app_op(d, &x, out);
}

/* ---- cohorts -------------------------------------------------------- */

static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > OB_COHORT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

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
		say(x->o, "cohort %s already exists", x->c->id);
		return OB_EEXIST;
	}
	err = t->ops->cohort_insert(t, x->c);
	if (err == OB_OK)
		err = t->ops->advisors_create(t, x->c->id, x->c->advisor_pool);
	return err == OB_OK ? OB_OK : store_failed(x->o, err);
}

static ob_err capacity_txn(ob_txn *t, void *arg)
{
	cohort_op *x = arg;
	ob_cohort c;
	int64_t seats = 0;
	ob_err err = t->ops->cohort_get(t, x->c->id, &c);
	if (err == OB_ENOTFOUND) {
		say(x->o, "no cohort '%s'", x->c->id);
		return err;
	}
	if (err == OB_OK)
		err = t->ops->counter_get(t, c.id, "seats", &seats);
	if (err != OB_OK)
		return store_failed(x->o, err);
	if ((int64_t)x->c->capacity < seats) {
		say(x->o, "cohort %s has %lld seats held: its capacity cannot go below that", c.id,
		    (long long)seats);
		return OB_EPRECOND;
	}
	c.capacity = x->c->capacity;
	err = t->ops->cohort_set_capacity(t, c.id, c.capacity);
	if (err == OB_OK)
		err = promote(t, &c, ob_clock_now_ms());
	return err == OB_OK ? OB_OK : store_failed(x->o, err);
}

ob_err ob_domain_cohort_create(ob_domain *d, const ob_cohort *in, ob_cohort *out, ob_outcome *o)
{
	ob_cohort c = *in;
	if (!id_ok(c.id))
		ob_violation_add(o, "cohort.id", "must be 1-32 characters of [a-z0-9-]");
	if (c.name[0] == '\0')
		ob_violation_add(o, "cohort.name", "is required");
	if (c.capacity > OB_MAX_CAPACITY)
		ob_violation_add(o, "cohort.capacity", "at most %d", OB_MAX_CAPACITY);
	if (c.window_opens_ms != 0 && c.window_closes_ms != 0 &&
	    c.window_opens_ms >= c.window_closes_ms)
		ob_violation_add(o, "cohort.window_closes", "must be after window_opens");
	check_date(o, "cohort.lockdown_start", c.lockdown_start, false);
	check_date(o, "cohort.lockdown_end", c.lockdown_end, false);
	check_date(o, "cohort.fee_waiver_until", c.fee_waiver_until, true);
	if (c.monthly_fee_cents < 0 || c.monthly_fee_cents > 100000000)
		ob_violation_add(o, "cohort.monthly_fee_cents", "must be 0 to 1,000,000 euros");
	if (c.ad_credit_cents < 0 || c.ad_credit_cents > 100000000)
		ob_violation_add(o, "cohort.ad_credit_cents", "must be 0 to 1,000,000 euros");
	if (c.webinar_hour > 23 || c.webinar_minute > 59)
		ob_violation_add(o, "cohort.webinar_hour", "must be a time of day (0-23:0-59)");
	if (c.webinar_seats > 100000)
		ob_violation_add(o, "cohort.webinar_seats", "at most 100000");
	if (c.advisor_pool > 10000)
		ob_violation_add(o, "cohort.advisor_pool", "at most 10000");
	if ((c.eligible_sizes & ~(uint32_t)0x1E) != 0 || c.eligible_sizes == 0)
		ob_violation_add(o, "cohort.eligible_sizes", "at least one of TPE, PME, ETI, GE");
	if (o->n_violations > 0) {
		say(o, "the cohort has %zu invalid field%s", o->n_violations,
		    o->n_violations > 1 ? "s" : "");
		return OB_EINVAL;
	}
	c.created_at_ms = ob_clock_now_ms();
	cohort_op x = {.c = &c, .o = o};
	ob_err err = write(d, cohort_create_txn, &x, o);
	if (err == OB_OK)
		*out = c;
	return err;
}

ob_err ob_domain_set_capacity(ob_domain *d, const char *cohort, uint32_t capacity,
                              const char *actor, ob_standing *out, ob_outcome *o)
{
	(void)actor;
	if (!id_ok(cohort)) {
		ob_violation_add(o, "id", "a cohort id is 1-32 characters of [a-z0-9-]");
		say(o, "not a cohort id");
		return OB_EINVAL;
	}
	if (capacity > OB_MAX_CAPACITY) {
		ob_violation_add(o, "capacity", "at most %d", OB_MAX_CAPACITY);
		say(o, "capacity too large");
		return OB_EINVAL;
	}
	ob_cohort c = {0};
	snprintf(c.id, sizeof(c.id), "%s", cohort);
	c.capacity = capacity;
	cohort_op x = {.c = &c, .o = o};
	ob_err err = write(d, capacity_txn, &x, o);
	if (err != OB_OK)
		return err;
	return ob_domain_standing(d, cohort, out, o);
}

/* ---- personal data -------------------------------------------------- */

static const char erased_reason[] = "personal data erased";

typedef struct {
	const char *id;
	const char *reason;
	const char *actor;
	ob_outcome *o;
	bool already;
	ob_application a;
} erase_op;

static ob_err erase_txn(ob_txn *t, void *arg)
{
	erase_op *x = arg;
	ob_application *a = &x->a;
	ob_err err = t->ops->app_get(t, x->id, NULL, a);
	if (err == OB_ENOTFOUND) {
		say(x->o, "no application %s", x->id);
		return err;
	}
	if (err != OB_OK)
		return store_failed(x->o, err);
	if (a->contact_erased) {
		x->already = true;
		err = decorate(t, a);
		return err == OB_OK ? OB_OK : store_failed(x->o, err);
	}
	/* An unreadable contact is erased all the same: that is one way out. */
	int64_t now = ob_clock_now_ms();
	err = t->ops->contact_erase(t, a->seq, x->actor, now);
	if (err != OB_OK)
		return store_failed(x->o, err);
	ob_state_change c = {.from = a->state, .to = a->state, .at_ms = now};
	ob_utf8_copy(c.actor, sizeof(c.actor), x->actor);
	ob_utf8_format(c.reason, sizeof(c.reason), "%s%s%s", erased_reason,
	               x->reason[0] ? ": " : "", x->reason);
	a->version++;
	a->updated_at_ms = now;
	err = t->ops->app_update(t, a);
	if (err == OB_OK)
		err = t->ops->history_append(t, a->seq, &c);
	if (err == OB_OK)
		err = decorate(t, a);
	if (err != OB_OK)
		return store_failed(x->o, err);
	sodium_memzero(&a->contact, sizeof(a->contact));
	a->contact_unreadable = false;
	a->contact_erased = true;
	a->contact_erased_at_ms = now;
	ob_utf8_copy(a->contact_erased_by, sizeof(a->contact_erased_by), x->actor);
	return OB_OK;
}

ob_err ob_domain_erase(ob_domain *d, const char *id, const char *reason, const char *actor,
                       ob_application *out, ob_outcome *o)
{
	memset(out, 0, sizeof(*out));
	if (reason == NULL)
		reason = "";
	size_t max = OB_REASON_MAX - (sizeof(erased_reason) - 1) - 2;
	if (strlen(reason) > max) {
		ob_violation_add(o, "reason", "is longer than %zu bytes", max);
		say(o, "the reason is too long");
		return OB_EINVAL;
	}
	erase_op x = {.id = id, .reason = reason, .actor = actor, .o = o};
	ob_err err = write(d, erase_txn, &x, o);
	if (err != OB_OK) {
		ob_application_fini(&x.a);
		return err;
	}
	if (!x.already) {
		/* The old page images of the row are in the write-ahead log until a
		 * checkpoint copies the new ones over them; do it now. */
		if (d->store->ops->checkpoint(d->store) != OB_OK)
			ob_log(OB_LOG_WARN,
			       "erased application %s; the checkpoint will finish later", id);
		say(o, "the personal data of application %s is erased", id);
	} else {
		say(o, "the personal data of application %s was already erased", id);
	}
	*out = x.a;
	return OB_OK;
}

void ob_applications_free(ob_application *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		ob_application_fini(&list[i]);
	sodium_memzero(list, n * sizeof(*list));
	free(list);
}

ob_err ob_domain_export_contact(ob_domain *d, const char *id, const char *email,
                                ob_application **out, size_t *n, ob_outcome *o)
{
	*out = NULL;
	*n = 0;
	bool by_id = id != NULL && id[0] != '\0';
	bool by_email = email != NULL && email[0] != '\0';
	if (by_id == by_email) {
		ob_violation_add(o, by_id ? "email" : "id", "give an application id or an e-mail");
		say(o, "give either an application id or an e-mail");
		return OB_EINVAL;
	}
	if (by_email && strlen(email) > OB_EMAIL_MAX) {
		ob_violation_add(o, "email", "is longer than %d bytes", OB_EMAIL_MAX);
		say(o, "the e-mail is too long");
		return OB_EINVAL;
	}
	ob_txn *t;
	ob_err err = d->store->ops->begin(d->store, false, &t);
	if (err != OB_OK)
		return store_failed(o, err);
	ob_application *list = NULL;
	size_t count = 0;
	if (by_id) {
		list = calloc(1, sizeof(*list));
		err = list == NULL ? OB_ENOMEM : t->ops->app_get(t, id, NULL, list);
		if (err == OB_OK)
			count = 1;
		else if (err == OB_ENOTFOUND)
			say(o, "no application %s", id);
	} else {
		uint8_t index[OB_STORE_INDEX_LEN];
		d->store->ops->email_index(d->store, email, index);
		err = t->ops->apps_by_email(t, index, &list, &count);
	}
	for (size_t i = 0; err == OB_OK && i < count; i++) {
		if (list[i].contact_unreadable)
			err = unreadable(o, &list[i]);
		else
			err = decorate(t, &list[i]);
	}
	t->ops->rollback(t);
	if (err != OB_OK) {
		if (o->message[0] == '\0')
			store_failed(o, err);
		ob_applications_free(list, count);
		return err;
	}
	*out = list;
	*n = count;
	return OB_OK;
}

typedef struct {
	int64_t after;
	int64_t last;
	size_t rewrapped, failed;
} rewrap_op;

static ob_err rewrap_txn(ob_txn *t, void *arg)
{
	rewrap_op *x = arg;
	return t->ops->rewrap_batch(t, x->after, OB_REWRAP_BATCH, &x->rewrapped, &x->failed,
	                            &x->last);
}

ob_err ob_domain_rotate_keys(ob_domain *d, ob_vault *vault_new, ob_vault **old, size_t *rewrapped,
                             size_t *failed, ob_outcome *o)
{
	*rewrapped = 0;
	*failed = 0;
	ob_err err = d->store->ops->set_vault(d->store, vault_new, old);
	if (err != OB_OK)
		return store_failed(o, err);
	/* One short write per batch: other writes queue behind a batch, not
	 * behind the whole rotation, and reads never wait. */
	rewrap_op x = {.after = 0};
	for (;;) {
		err = write(d, rewrap_txn, &x, o);
		if (err != OB_OK)
			return err;
		*rewrapped += x.rewrapped;
		*failed += x.failed;
		if (x.last == x.after)
			break;
		x.after = x.last;
	}
	if (*failed > 0)
		say(o, "%zu data key%s could not be re-wrapped (see the server log)", *failed,
		    *failed > 1 ? "s" : "");
	else
		say(o, "%zu data key%s re-wrapped", *rewrapped, *rewrapped != 1 ? "s" : "");
	return OB_OK;
}

static ob_err audit_txn(ob_txn *t, void *arg)
{
	return t->ops->audit_append(t, arg);
}

ob_err ob_domain_audit(ob_domain *d, const ob_audit_event *e)
{
	ob_audit_event copy = *e;
	if (copy.at_ms == 0)
		copy.at_ms = ob_clock_now_ms();
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = write(d, audit_txn, &copy, &o);
	ob_outcome_fini(&o);
	return err;
}

ob_err ob_domain_audit_list(ob_domain *d, int64_t after_seq, size_t page_size, ob_audit_event **out,
                            size_t *n, bool *more, ob_outcome *o)
{
	*out = NULL;
	*n = 0;
	*more = false;
	if (page_size == 0)
		page_size = OB_DEFAULT_PAGE_SIZE;
	if (page_size > OB_MAX_PAGE_SIZE)
		page_size = OB_MAX_PAGE_SIZE;
	ob_txn *t;
	ob_err err = d->store->ops->begin(d->store, false, &t);
	if (err != OB_OK)
		return store_failed(o, err);
	err = t->ops->audit_list(t, after_seq, page_size + 1, out, n);
	t->ops->rollback(t);
	if (err != OB_OK)
		return store_failed(o, err);
	if (*n > page_size) {
		*more = true;
		*n = page_size;
	}
	return OB_OK;
}
