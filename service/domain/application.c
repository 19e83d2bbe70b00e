/*
 * Applications: submission, reads, review and withdrawal.
 *
 * A submission takes a seat while the cohort has one free, else joins its
 * waitlist; seats are counted in the submission's own transaction, which no
 * other write shares, so that at most `capacity` applications ever hold
 * one. A review or a withdrawal re-reads the application, checks the version
 * the caller saw, moves it through the lifecycle (model.c) and, when it
 * frees a seat, promotes the head of the waitlist in the same transaction.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/utf8.h"
#include "domain/domain.h"
#include "domain/fr.h"
#include "domain/internal.h"
#include "domain/store.h"

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

bool ob_domain_id_ok(const char *s)
{
	if (s == NULL || strlen(s) != OB_ID_LEN)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z')))
			return false;
	return true;
}

ob_err ob_dom_bad_id(ob_outcome *o)
{
	ob_violation_add(o, "id", "an application id has 26 characters [0-9A-Z]");
	ob_dom_say(o, "not an application id");
	return OB_EINVAL;
}

const char *ob_caller_actor(const ob_caller *who)
{
	if (who->actor != NULL && who->actor[0] != '\0')
		return who->actor;
	return who->principal != NULL && who->principal[0] != '\0' ? who->principal : "unknown";
}

/* Whose applications exist for who: NULL, every one; else only those this
 * principal submitted (domain.h, ob_caller). */
const char *ob_dom_owner_of(const ob_caller *who)
{
	if (who->role == OB_CALLER_APPLICANT || who->role == OB_CALLER_PARTNER)
		return who->principal != NULL ? who->principal : "";
	return NULL;
}

/* ---- submit --------------------------------------------------------- */

typedef struct {
	ob_application *a;
	const ob_idempotency *idem;
	const char *actor;
	const char *owner; /* NULL: a caller who sees every application */
	ob_outcome *o;
	int64_t now;
	/* Made before the write is queued (ob_domain_submit): the contact
	 * sealed (NULL: sealed in the write) and the reply but for what the
	 * write decides (NULL: rendered whole in the write). */
	const ob_sealed_contact *sealed;
	const uint8_t *known;
	size_t known_len;
	bool replayed;
} submit_op;

/* OB_EPRECOND, saying what cohort c does when, unless now is in [opens, closes). */
static ob_err within(const ob_cohort *c, const char *what, int64_t opens, int64_t closes,
                     int64_t now, ob_outcome *o)
{
	if (now >= opens && now < closes)
		return OB_OK;
	char window[96];
	ob_cohort_window_text(window, sizeof(window), opens, closes);
	ob_dom_say(o, "cohort %s takes %s %s; not now", c->id, what, window);
	return OB_EPRECOND;
}

/* The NAF division of a validated code ("47.91B": 47). */
static unsigned naf_division(const char *naf)
{
	return (unsigned)(naf[0] - '0') * 10 + (unsigned)(naf[1] - '0');
}

/* Whether cohort c takes a's submission now: its window, a's size and
 * activity, and the version of the terms a accepted, which is c's (a gets
 * it when it did not say). */
static ob_err admit(const ob_cohort *c, ob_application *a, int64_t now, ob_outcome *o)
{
	ob_err err = within(c, "submissions", c->window_opens_ms, c->window_closes_ms, now, o);
	if (err != OB_OK)
		return err;
	unsigned division = naf_division(a->company.naf);
	if (ob_naf_divisions_has(&c->excluded_naf, division)) {
		ob_dom_say(o, "cohort %s does not take companies of NAF division %02u (%s)", c->id,
		           division, a->company.naf);
		return OB_EPRECOND;
	}
	if ((c->eligible_sizes & (1u << a->size)) == 0) {
		ob_dom_say(
		        o,
		        "the company's size category is %s (%u people, turnover %lld EUR, balance "
		        "sheet %lld EUR): not eligible for cohort %s",
		        ob_size_category_name(a->size), a->company.employees,
		        (long long)a->company.turnover_eur, (long long)a->company.balance_eur,
		        c->id);
		return OB_EPRECOND;
	}
	if (a->terms_version[0] == '\0')
		snprintf(a->terms_version, sizeof(a->terms_version), "%s", c->terms_version);
	if (strcmp(a->terms_version, c->terms_version) != 0) {
		ob_violation_add(o, "terms_version", "cohort %s presents version %s of its terms",
		                 c->id, c->terms_version);
		ob_dom_say(o, "the company accepted version %s of the terms, not the cohort's",
		           a->terms_version);
		return OB_EINVAL;
	}
	if (a->terms_accepted_at_ms == 0)
		a->terms_accepted_at_ms = now;
	if (a->terms_accepted_at_ms > now) {
		ob_violation_add(o, "terms_accepted_at", "is in the future");
		ob_dom_say(o, "the terms cannot have been accepted in the future");
		return OB_EINVAL;
	}
	return OB_OK;
}

/* A seat when one is free, else the next ticket of the waitlist. */
static ob_err place(ob_txn *t, const ob_cohort *c, ob_application *a)
{
	int64_t seats;
	ob_err err = t->ops->counter_get(t, c->id, "seats", &seats);
	if (err != OB_OK)
		return err;
	a->state = seats < (int64_t)c->capacity ? OB_STATE_SUBMITTED : OB_STATE_WAITLISTED;
	if (a->state != OB_STATE_WAITLISTED)
		return OB_OK;
	err = t->ops->counter_add(t, c->id, "waitlist_tickets", 1);
	if (err == OB_OK)
		err = t->ops->counter_get(t, c->id, "waitlist_tickets", &a->waitlist_ticket);
	return err;
}

/* The refusal of a SIREN that already applied to cohort c. Not whose, nor
 * its id, to a caller who sees only their own: for them others'
 * applications do not exist. */
static ob_err duplicate(ob_txn *t, const ob_cohort *c, const ob_application *a, const char *owner,
                        ob_outcome *o)
{
	ob_application existing;
	if (owner != NULL)
		ob_dom_say(o, "this SIREN has already applied to this cohort; 'onboard list' shows "
		              "yours");
	else if (t->ops->app_get_by_siren(t, c->id, a->company.siren, NULL, &existing) == OB_OK)
		ob_dom_say(o, "SIREN %s already applied to cohort %s: application %s",
		           a->company.siren, c->id, existing.id);
	else
		ob_dom_say(o, "SIREN %s already applied to cohort %s", a->company.siren, c->id);
	return OB_EEXIST;
}

/* Inserts a with its first history entry ch, counts it in c, and gives it
 * its place in line and its history as a reply shows them. */
static ob_err insert_new(ob_txn *t, const ob_cohort *c, ob_application *a,
                         const ob_state_change *ch)
{
	ob_err err = t->ops->history_append(t, a->seq, ch);
	if (err == OB_OK)
		err = ob_dom_count_new(t, c, a);
	if (err == OB_OK && a->state == OB_STATE_WAITLISTED) {
		/* A newcomer is last in line. */
		int64_t waiting;
		err = t->ops->counter_get(t, a->cohort_id, "waitlist", &waiting);
		a->waitlist_position = (uint32_t)waiting;
	}
	if (err != OB_OK)
		return err;
	/* Its history is the one change just made. */
	a->history = malloc(sizeof(*a->history));
	if (a->history == NULL)
		return OB_ENOMEM;
	a->history[0] = *ch;
	a->n_history = 1;
	return OB_OK;
}

static ob_err submit_txn(ob_txn *t, void *arg)
{
	submit_op *x = arg;
	ob_application *a = x->a;
	ob_outcome *o = x->o;
	ob_err err = ob_dom_idem_check(t, x->idem, o, &x->replayed);
	if (err != OB_OK || x->replayed)
		return err; /* a replay changes nothing */
	int64_t now = x->now;
	ob_cohort c;
	err = ob_dom_cohort_get(t, a->cohort_id, &c);
	if (err == OB_ENOTFOUND) {
		ob_dom_say(o, "no cohort '%s'; 'onboard cohort --list' lists them", a->cohort_id);
		ob_violation_add(o, "cohort_id", "no such cohort");
		return err;
	}
	if (err != OB_OK)
		return ob_dom_store_failed(o, err);
	if ((err = admit(&c, a, now, o)) != OB_OK)
		return err;
	if ((err = place(t, &c, a)) != OB_OK)
		return ob_dom_store_failed(o, err);
	ob_state_change ch = {.from = OB_STATE_UNSPECIFIED, .to = a->state, .at_ms = now};
	ob_utf8_copy(ch.actor, sizeof(ch.actor), x->actor);
	ob_utf8_copy(ch.reason, sizeof(ch.reason),
	             a->state == OB_STATE_SUBMITTED ? "submitted"
	                                            : "submitted; no seat free: waitlisted");
	/* The store's uniqueness of (cohort, SIREN) among live applications is
	 * the check: one lookup fewer on the path every submission takes. */
	err = x->sealed != NULL ? t->ops->app_insert_sealed(t, a, x->sealed)
	                        : t->ops->app_insert(t, a);
	if (err == OB_EEXIST)
		return duplicate(t, &c, a, x->owner, o);
	if (err == OB_OK)
		err = insert_new(t, &c, a, &ch);
	if (err == OB_OK)
		err = ob_dom_idem_record_new(t, x->idem, a, x->known, x->known_len, now, o);
	return err == OB_OK ? OB_OK : ob_dom_store_failed(o, err);
}

ob_err ob_domain_submit(ob_domain *d, const ob_caller *who, const ob_submission *in,
                        const ob_idempotency *idem, ob_application *out, ob_outcome *o)
{
	ob_application a;
	ob_err err = ob_validate_submission(in, &a, o);
	if (err != OB_OK)
		return err;
	/* Who submits comes from authentication, not from the request. */
	ob_utf8_copy(a.submitted_by, sizeof(a.submitted_by),
	             who->principal != NULL && who->principal[0] != '\0' ? who->principal
	                                                                 : "local");
	submit_op x = {.a = &a,
	               .idem = idem,
	               .actor = ob_caller_actor(who),
	               .owner = ob_dom_owner_of(who),
	               .o = o,
	               .now = ob_clock_now_ms()};
	/* What does not depend on the seat is done here, on the caller's
	 * thread, not on the single writer's: the id, the times, the sealed
	 * contact and most of the reply. Only the write decides the state and
	 * the place in line (and the terms' version, the cohort's). */
	ob_new_id(a.id, x.now);
	a.version = 1;
	a.submitted_at_ms = a.updated_at_ms = x.now;
	if (a.terms_accepted_at_ms == 0)
		a.terms_accepted_at_ms = x.now;
	ob_sealed_contact *sealed = NULL;
	uint8_t *known = NULL;
	size_t known_len = 0;
	const ob_store_ops *ops = d->store->ops;
	if (ops->contact_seal != NULL && ops->app_insert_sealed != NULL) {
		err = ops->contact_seal(d->store, &a, &sealed);
		if (err != OB_OK) {
			ob_application_fini(&a);
			return ob_dom_store_failed(o, err);
		}
	}
	if (idem != NULL && idem->key != NULL && idem->render_new != NULL &&
	    idem->render_new(idem->ctx, &a, false, &known, &known_len) != OB_OK)
		known = NULL; /* rendered whole in the write, then */
	x.sealed = sealed;
	x.known = known;
	x.known_len = known_len;
	err = ob_dom_write(d, submit_txn, &x, o);
	if (sealed != NULL)
		ops->contact_sealed_free(sealed);
	if (known != NULL)
		sodium_memzero(known, known_len); /* it shows the contact */
	free(known);
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
		ob_dom_say(o, "no such application among yours");
	else if (id != NULL)
		ob_dom_say(o, "no application %s", id);
	else
		ob_dom_say(o, "no application for SIREN %s in cohort %s", siren, cohort);
	return OB_ENOTFOUND;
}

ob_err ob_domain_get(ob_domain *d, const ob_caller *who, const char *id, const char *cohort,
                     const char *siren, ob_application *out, ob_outcome *o)
{
	const char *owner = ob_dom_owner_of(who);
	if (id != NULL && id[0] == '\0')
		id = NULL;
	if (cohort == NULL || cohort[0] == '\0')
		cohort = OB_DEFAULT_COHORT;
	if (siren == NULL)
		siren = "";
	if (id == NULL && siren[0] == '\0') {
		ob_violation_add(o, "id", "give an id or a siren");
		ob_dom_say(o, "give an application id or a SIREN");
		return OB_EINVAL;
	}
	if (id != NULL && !ob_domain_id_ok(id))
		return ob_dom_bad_id(o);
	if (id == NULL && !ob_fr_siren_valid(siren)) {
		ob_violation_add(o, "siren", "must be 9 digits with a valid check digit");
		ob_dom_say(o, "not a SIREN");
		return OB_EINVAL;
	}
	ob_txn *t;
	ob_err err = ob_dom_read(d, &t, o);
	if (err != OB_OK)
		return err;
	/* The owner is part of the lookup: another's application is not read,
	 * so neither its state nor its integrity can show through. */
	if (id != NULL)
		err = t->ops->app_get(t, id, owner, out);
	else
		err = t->ops->app_get_by_siren(t, cohort, siren, owner, out);
	if (err == OB_ENOTFOUND) {
		not_found(o, owner, id, cohort, siren);
	} else if (err == OB_OK && out->contact_unreadable) {
		err = ob_dom_unreadable(o, out);
		memset(out, 0, sizeof(*out));
	} else if (err == OB_OK) {
		err = ob_dom_decorate(t, out);
		if (err != OB_OK) {
			ob_dom_store_failed(o, err);
			ob_application_fini(out); /* only now does out hold a history */
		}
	} else {
		ob_dom_store_failed(o, err);
	}
	t->ops->rollback(t);
	return err;
}

ob_err ob_domain_list(ob_domain *d, const ob_caller *who, const ob_app_filter *asked,
                      int64_t after_seq, size_t page_size, ob_application **out, size_t *n,
                      bool *more, ob_outcome *o)
{
	ob_app_filter own = *asked;
	const ob_app_filter *f = &own;
	if (ob_dom_owner_of(who) != NULL)
		own.submitted_by = ob_dom_owner_of(who);
	*out = NULL;
	*n = 0;
	*more = false;
	page_size = ob_dom_page_size(page_size);
	ob_txn *t;
	ob_err err = ob_dom_read(d, &t, o);
	if (err != OB_OK)
		return err;
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
		ob_application *a = &(*out)[i];
		if (a->state == OB_STATE_WAITLISTED)
			err = t->ops->app_waitlist_position(t, a, &a->waitlist_position);
	}
	t->ops->rollback(t);
	if (err != OB_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
		*more = false;
		return ob_dom_store_failed(o, err);
	}
	return OB_OK;
}

/* ---- review and withdrawal ------------------------------------------ */

/* Whether s is NULL, empty or only white space. */
static bool blank(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

static ob_err review_change(ob_txn *t, app_op *x, const ob_cohort *c, int64_t now)
{
	ob_application *a = &x->a;
	ob_state to = ob_transition(a->state, x->action);
	if (to == OB_STATE_UNSPECIFIED) {
		ob_dom_say(x->o, "cannot %s application %s: it is %s", ob_action_name(x->action),
		           x->id, ob_state_name(a->state));
		return OB_EPRECOND;
	}
	ob_err err = OB_OK;
	if (x->action == OB_ACTION_APPROVE &&
	    (err = within(c, "approvals", c->approval_opens_ms, c->approval_closes_ms, now,
	                  x->o)) != OB_OK)
		return err;
	if (x->action == OB_ACTION_REJECT) {
		a->rejection = x->reason;
		err = ob_dom_unbook_future(t, c, a, now); /* its seat goes to others */
	}
	char advisor[OB_REASON_MAX + 1] = "";
	if (err == OB_OK && x->action == OB_ACTION_APPROVE)
		err = ob_dom_grant(t, c, a, now, advisor, sizeof(advisor));
	/* A waitlisted application rejected leaves the line without a seat. */
	if (err == OB_OK && a->state == OB_STATE_WAITLISTED)
		err = t->ops->waitlist_leave(t, c->id, a->waitlist_ticket);
	/* The approval's entry says which advisor it assigned, or that none
	 * was free: "approve; advisor assigned: #12 ...". */
	char reason[OB_REASON_MAX + 1];
	ob_utf8_format(reason, sizeof(reason), "%s%s%s", ob_action_name(x->action),
	               advisor[0] != '\0' ? "; " : "", advisor);
	if (err == OB_OK)
		err = ob_dom_change_state(t, c, a, &x->was, to, x->actor, reason, x->note, now);
	if (err == OB_OK && !ob_state_holds_seat(to))
		err = ob_dom_promote(t, c, now);
	return err;
}

static ob_err withdraw_change(ob_txn *t, app_op *x, const ob_cohort *c, int64_t now)
{
	ob_application *a = &x->a;
	if (ob_state_final(a->state)) {
		ob_dom_say(x->o, "cannot withdraw application %s: it is %s", x->id,
		           ob_state_name(a->state));
		return OB_EPRECOND;
	}
	ob_err err = ob_dom_revoke(t, c, a, now);
	if (err == OB_OK) /* not approved: nothing to revoke, but its seat goes to others */
		err = ob_dom_unbook_future(t, c, a, now);
	if (err == OB_OK && a->state == OB_STATE_WAITLISTED)
		err = t->ops->waitlist_leave(t, c->id, a->waitlist_ticket);
	if (err == OB_OK)
		err = ob_dom_change_state(t, c, a, &x->was, OB_STATE_WITHDRAWN, x->actor,
		                          x->for_company ? "withdrawn on the company's request"
		                                         : "withdrawn",
		                          x->note, now);
	if (err == OB_OK)
		err = ob_dom_promote(t, c, now);
	return err;
}

/* The application of x and its cohort, as the caller may see them and at
 * the version the caller saw. */
static ob_err load_for_change(ob_txn *t, app_op *x, ob_cohort *c)
{
	ob_outcome *o = x->o;
	ob_err err = t->ops->app_get(t, x->id, x->owner, &x->a);
	if (err == OB_ENOTFOUND)
		return not_found(o, x->owner, x->id, "", "");
	if (err == OB_OK && x->a.contact_unreadable)
		return ob_dom_unreadable(o, &x->a);
	if (err == OB_OK)
		err = ob_dom_cohort_get(t, x->a.cohort_id, c);
	if (err == OB_OK && (err = t->ops->booking_get(t, x->a.seq, &x->a.webinar)) == OB_ENOTFOUND)
		err = OB_OK;
	if (err != OB_OK)
		return ob_dom_store_failed(o, err);
	if (x->expected_version != 0 && x->expected_version != x->a.version) {
		ob_dom_say(o,
		           "application %s is at version %llu, not %llu: someone changed it; read "
		           "it again",
		           x->id, (unsigned long long)x->a.version,
		           (unsigned long long)x->expected_version);
		return OB_ESTALE;
	}
	return OB_OK;
}

static ob_err app_txn(ob_txn *t, void *arg)
{
	app_op *x = arg;
	ob_outcome *o = x->o;
	ob_err err = ob_dom_idem_check(t, x->idem, o, &x->replayed);
	if (err != OB_OK || x->replayed)
		return err;
	ob_cohort c;
	if ((err = load_for_change(t, x, &c)) != OB_OK)
		return err;
	int64_t now = ob_clock_now_ms();
	x->was = x->a;
	x->was.history = NULL;
	err = x->change(t, x, &c, now);
	if (err == OB_OK)
		err = ob_dom_decorate(t, &x->a);
	if (err == OB_OK)
		err = ob_dom_idem_record(t, x->idem, &x->a, now, o);
	if (err != OB_OK && o->message[0] == '\0')
		ob_dom_store_failed(o, err);
	return err;
}

/* Spending changes the benefits only: the state stays, the version, the
 * history and the cohort's totals move (ob_dom_change_state to the same
 * state). */
static ob_err spend_change(ob_txn *t, app_op *x, const ob_cohort *c, int64_t now)
{
	ob_err err = ob_dom_spend(c, &x->a, x->amount, now, x->o);
	if (err != OB_OK)
		return err;
	char reason[64];
	snprintf(reason, sizeof(reason), "ad credit spent: %lld.%02lld EUR",
	         (long long)(x->amount / 100), (long long)(x->amount % 100));
	return ob_dom_change_state(t, c, &x->a, &x->was, x->a.state, x->actor, reason, x->note,
	                           now);
}

ob_err ob_dom_run_app_op(ob_domain *d, app_op *x, const char *id, uint64_t expected_version,
                         const ob_idempotency *idem, const ob_caller *who, ob_application *out,
                         ob_outcome *o)
{
	x->id = id;
	x->expected_version = expected_version;
	x->idem = idem;
	x->actor = ob_caller_actor(who);
	x->o = o;
	ob_err err = ob_dom_write(d, app_txn, x, o);
	if (err != OB_OK || x->replayed) {
		ob_application_fini(&x->a);
		return err;
	}
	*out = x->a;
	return OB_OK;
}

ob_err ob_domain_review(ob_domain *d, const ob_caller *who, const char *id, ob_action action,
                        uint64_t expected_version, ob_rejection reason, const char *note,
                        const ob_idempotency *idem, ob_application *out, ob_outcome *o)
{
	if (!ob_domain_id_ok(id))
		return ob_dom_bad_id(o);
	if (action <= OB_ACTION_UNSPECIFIED || action >= OB_ACTION_COUNT)
		ob_violation_add(o, "action",
		                 "must be START, REQUEST_INFO, APPROVE, REJECT or ONBOARD");
	if (action == OB_ACTION_REJECT &&
	    (reason <= OB_REJECTION_NONE || reason >= OB_REJECTION_COUNT))
		ob_violation_add(o, "rejection_reason", "is required to reject");
	if (note != NULL && strlen(note) > OB_REASON_MAX)
		ob_violation_add(o, "note", "is longer than %d bytes", OB_REASON_MAX);
	ob_err err = ob_dom_refuse(o, "review request");
	if (err != OB_OK)
		return err;
	/* A reviewer sees every application: no owner. */
	app_op x = {.change = review_change, .action = action, .reason = reason, .note = note};
	return ob_dom_run_app_op(d, &x, id, expected_version, idem, who, out, o);
}

ob_err ob_domain_withdraw(ob_domain *d, const ob_caller *who, const char *id,
                          uint64_t expected_version, const char *reason, const ob_idempotency *idem,
                          ob_application *out, ob_outcome *o)
{
	if (!ob_domain_id_ok(id))
		return ob_dom_bad_id(o);
	ob_err err = ob_dom_check_length(o, "reason", "reason", reason, OB_REASON_MAX);
	if (err != OB_OK)
		return err;
	/* Staff withdraw for a company that asked them to: why goes on record. */
	bool staff = who->role == OB_CALLER_REVIEWER || who->role == OB_CALLER_ADMIN;
	if (staff && blank(reason)) {
		ob_violation_add(o, "reason",
		                 "is required when staff withdraw an application on "
		                 "the company's request");
		return ob_dom_refuse(o, "withdrawal");
	}
	app_op x = {.change = withdraw_change,
	            .owner = ob_dom_owner_of(who),
	            .note = reason,
	            .for_company = staff};
	return ob_dom_run_app_op(d, &x, id, expected_version, idem, who, out, o);
}

/* A reference of the ads service: [A-Za-z0-9._:/-], at most OB_AD_REFERENCE_MAX. */
static bool reference_ok(const char *s)
{
	size_t n = strlen(s);
	if (n > OB_AD_REFERENCE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._:/-", s[i]) == NULL)
			return false;
	return true;
}

ob_err ob_domain_spend_ad_credit(ob_domain *d, const ob_caller *who, const char *id,
                                 int64_t amount_cents, const char *reference,
                                 const ob_idempotency *idem, ob_application *out, ob_outcome *o)
{
	if (!ob_domain_id_ok(id))
		return ob_dom_bad_id(o);
	if (amount_cents < 1 || amount_cents > OB_MAX_AD_SPEND_CENTS)
		ob_violation_add(o, "amount_cents", "must be 1 to %d cents", OB_MAX_AD_SPEND_CENTS);
	if (reference != NULL && !reference_ok(reference))
		ob_violation_add(o, "reference",
		                 "must be at most %d characters of A-Z, a-z, 0-9, '.', '_', ':', "
		                 "'/' and '-'",
		                 OB_AD_REFERENCE_MAX);
	ob_err err = ob_dom_refuse(o, "ad spend record");
	if (err != OB_OK)
		return err;
	/* The ads service and administrators record spending for any company. */
	app_op x = {.change = spend_change,
	            .owner = ob_dom_owner_of(who),
	            .amount = amount_cents,
	            .note = reference};
	return ob_dom_run_app_op(d, &x, id, 0, idem, who, out, o);
}
