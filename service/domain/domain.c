/*
 * The domain: its lifecycle, the health of its store, and what every
 * operation shares (messages, transactions, what a reply shows). The
 * operations themselves are in the files internal.h lists. Each write is one
 * exclusive store transaction that reads what it decides on, changes it,
 * keeps the cohort's counters in step, and commits durably before anyone is
 * told.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/utf8.h"
#include "domain/domain.h"
#include "domain/internal.h"
#include "domain/store.h"

/* ---- outcomes -------------------------------------------------------- */

void ob_dom_say(ob_outcome *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
	ob_utf8_trim_cut(o->message);
}

ob_err ob_dom_store_failed(ob_outcome *o, ob_err err)
{
	if (o == NULL)
		return err;
	/* What passes by itself says what to do: a write refused so may have been applied
	 * all the same (store/sqlite.c), and the same key replays it then. */
	static const char again[] = "try again later, a write with the same idempotency-key";
	if (err == OB_EUNAVAIL)
		ob_dom_say(o, "the store cannot be used now (the server's log says why); %s",
		           again);
	else if (err == OB_ENOSPC)
		ob_dom_say(o, "the store's disk is full; %s", again);
	else
		ob_dom_say(o, "the store failed: %s", ob_strerror(err));
	return err;
}

ob_err ob_dom_unreadable(ob_outcome *o, const ob_application *a)
{
	if (a->contact_key_missing[0] != '\0') {
		/* Not damage: another instance rotated, and this one's key file lacks the key
		 * (keystore.h). Retrying is right once the file has it. */
		ob_dom_say(
		        o,
		        "the contact data of application %s is sealed under the master key %s, "
		        "which this instance's key file does not hold (yet): give every instance "
		        "the key file of the one that rotated, then retry",
		        a->id, a->contact_key_missing);
		return OB_EUNAVAIL;
	}
	ob_dom_say(o,
	           "the contact data of application %s failed its integrity check (tampered, "
	           "copied from another record, or its master key is missing); see the server log",
	           a->id);
	return OB_ECORRUPT;
}

ob_err ob_dom_refuse(ob_outcome *o, const char *what)
{
	if (o->n_violations == 0)
		return OB_OK;
	ob_dom_say(o, "the %s has %zu invalid field%s", what, o->n_violations,
	           o->n_violations > 1 ? "s" : "");
	return OB_EINVAL;
}

ob_err ob_dom_check_length(ob_outcome *o, const char *field, const char *noun, const char *value,
                           size_t max)
{
	if (value == NULL || strlen(value) <= max)
		return OB_OK;
	ob_violation_add(o, field, "is longer than %zu bytes", max);
	ob_dom_say(o, "the %s is too long", noun);
	return OB_EINVAL;
}

/* ---- transactions -------------------------------------------------- */

static void note_write(ob_domain *d, ob_err err);

ob_err ob_dom_write(ob_domain *d, ob_err (*fn)(ob_txn *, void *), void *arg, ob_outcome *o)
{
	ob_err err = d->store->ops->write(d->store, fn, arg);
	note_write(d, err);
	if (err != OB_OK && o->message[0] == '\0')
		ob_dom_store_failed(o, err);
	return err;
}

ob_err ob_dom_read(ob_domain *d, ob_txn **t, ob_outcome *o)
{
	ob_err err = d->store->ops->begin(d->store, false, t);
	return err == OB_OK ? OB_OK : ob_dom_store_failed(o, err);
}

size_t ob_dom_page_size(size_t asked)
{
	if (asked == 0)
		return OB_DEFAULT_PAGE_SIZE;
	return asked > OB_MAX_PAGE_SIZE ? OB_MAX_PAGE_SIZE : asked;
}

ob_err ob_dom_decorate(ob_txn *t, ob_application *a)
{
	ob_err err = t->ops->history_load(t, a);
	if (err == OB_OK && (err = t->ops->booking_get(t, a->seq, &a->webinar)) == OB_ENOTFOUND)
		err = OB_OK;
	if (err == OB_OK)
		err = ob_dom_advisor_name(t, a);
	a->waitlist_position = 0;
	if (err == OB_OK && a->state == OB_STATE_WAITLISTED)
		err = t->ops->app_waitlist_position(t, a, &a->waitlist_position);
	return err;
}

/* ---- lifecycle ------------------------------------------------------ */

/* Creates the default cohort, with its advisors, unless it exists, and
 * recounts the cohorts a database of an earlier version counted otherwise
 * (counters.c): once, before anyone is served. */
static ob_err prepare_store(ob_store *store)
{
	ob_txn *t;
	ob_err err = store->ops->begin(store, true, &t);
	if (err != OB_OK)
		return err;
	ob_cohort c;
	err = t->ops->cohort_get(t, OB_DEFAULT_COHORT, &c);
	if (err == OB_ENOTFOUND) {
		ob_cohort_default(&c);
		ob_cohort_derive(&c);
		c.created_at_ms = ob_clock_now_ms();
		err = ob_dom_cohort_insert(t, &c);
		if (err == OB_OK)
			ob_log(OB_LOG_INFO, "created the default cohort %s (capacity %u)", c.id,
			       c.capacity);
	}
	size_t recounted = 0;
	if (err == OB_OK)
		err = ob_dom_recount_stale(t, &recounted);
	if (err != OB_OK) {
		t->ops->rollback(t);
		return err;
	}
	if (recounted > 0)
		ob_log(OB_LOG_INFO,
		       "recounted the standing of %zu cohort%s from their applications", recounted,
		       recounted > 1 ? "s" : "");
	return t->ops->commit(t);
}

ob_err ob_domain_create(ob_domain **out, ob_store *store, ob_keystore *keys)
{
	*out = NULL;
	ob_err err = prepare_store(store);
	if (err != OB_OK)
		return err;
	ob_domain *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return OB_ENOMEM;
	d->store = store;
	d->keys = keys;
	pthread_mutex_init(&d->rotate_mu, NULL);
	atomic_init(&d->health, OB_OK);
	atomic_init(&d->health_at_us, ob_clock_mono_us() - OB_STORE_HEALTH_TTL_MS * 1000);
	atomic_init(&d->write_health, OB_OK);
	pthread_mutex_init(&d->health_mu, NULL);
	*out = d;
	return OB_OK;
}

void ob_domain_destroy(ob_domain *d)
{
	if (d == NULL)
		return;
	if (d->probe_joinable)
		pthread_join(d->probe, NULL);
	pthread_mutex_destroy(&d->health_mu);
	pthread_mutex_destroy(&d->rotate_mu);
	free(d);
}

/* ---- health --------------------------------------------------------- */

void ob_domain_store_stats(ob_domain *d, ob_store_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (d->store->ops->stats != NULL)
		d->store->ops->stats(d->store, out);
}

void ob_domain_set_health_hook(ob_domain *d, ob_domain_health_fn fn, void *ctx)
{
	d->health_hook = fn;
	d->health_ctx = ctx;
}

/* The answer of ob_domain_store_health from what is known, asking nothing. */
static ob_err health_now(ob_domain *d)
{
	ob_err err = (ob_err)atomic_load(&d->health);
	return err != OB_OK ? err : (ob_err)atomic_load(&d->write_health);
}

static void tell_hook(ob_domain *d)
{
	if (d->health_hook != NULL)
		d->health_hook(d->health_ctx, (ob_err)atomic_load(&d->health),
		               (ob_err)atomic_load(&d->write_health));
}

/* A failure of the store itself, as opposed to a refusal of the write's own (a state, a
 * version, a field): only these say something about the disk. */
static bool store_fault(ob_err err)
{
	return err == OB_ENOSPC || err == OB_EUNAVAIL || err == OB_EIO;
}

/* How a write went: a store fault makes the writes unhealthy, a write that went through
 * healthy again; a refusal of the write's own changes nothing. */
static void note_write(ob_domain *d, ob_err err)
{
	if (err != OB_OK && !store_fault(err))
		return;
	if (atomic_load(&d->write_health) == (int)err)
		return; /* the common case, without a write to the shared line */
	ob_err was = (ob_err)atomic_exchange(&d->write_health, (int)err);
	if (was == err)
		return;
	if (err != OB_OK && was == OB_OK)
		ob_log(OB_LOG_ERROR,
		       "writes fail (%s): health says NOT_SERVING until one goes "
		       "through",
		       ob_strerror(err));
	else if (err == OB_OK)
		ob_log(OB_LOG_INFO, "writes go through again: health follows the store");
	else
		return; /* still failing, for another reason: the answer stays NOT_SERVING */
	tell_hook(d);
}

static ob_err touch(ob_txn *t, void *arg)
{
	(void)arg;
	return t->ops->touch != NULL ? t->ops->touch(t) : OB_OK;
}

static void *probe_main(void *arg)
{
	ob_domain *d = arg;
	note_write(d, d->store->ops->write(d->store, touch, NULL));
	atomic_store(&d->probing, false);
	return NULL;
}

/* Starts the probe unless one runs (d->health_mu held). */
static void start_probe(ob_domain *d)
{
	if (atomic_load(&d->probing))
		return;
	if (d->probe_joinable)
		pthread_join(d->probe, NULL); /* it has ended: probing is false */
	atomic_store(&d->probing, true);
	d->probe_joinable = pthread_create(&d->probe, NULL, probe_main, d) == 0;
	if (!d->probe_joinable)
		atomic_store(&d->probing, false); /* the next check tries again */
}

ob_err ob_domain_write_health(ob_domain *d)
{
	return (ob_err)atomic_load(&d->write_health);
}

ob_err ob_domain_store_health(ob_domain *d)
{
	const int64_t ttl_us = OB_STORE_HEALTH_TTL_MS * 1000;
	if (ob_clock_mono_us() - atomic_load(&d->health_at_us) < ttl_us ||
	    pthread_mutex_trylock(&d->health_mu) != 0)
		return health_now(d);
	if (ob_clock_mono_us() - atomic_load(&d->health_at_us) >= ttl_us) {
		ob_err err = d->store->ops->ping(d->store);
		ob_err was = (ob_err)atomic_exchange(&d->health, (int)err);
		if (err != OB_OK && was == OB_OK)
			ob_log(OB_LOG_ERROR,
			       "the store cannot be reached (%s): health says NOT_SERVING",
			       ob_strerror(err));
		else if (err == OB_OK && was != OB_OK)
			ob_log(OB_LOG_INFO, "the store can be reached again: health follows the "
			                    "writes");
		if ((err == OB_OK) != (was == OB_OK))
			tell_hook(d);
		/* Writes failed: whether they work again, with one of the probe's own. */
		if (err == OB_OK && atomic_load(&d->write_health) != OB_OK)
			start_probe(d);
		atomic_store(&d->health_at_us, ob_clock_mono_us());
	}
	pthread_mutex_unlock(&d->health_mu);
	return health_now(d);
}
