/*
 * internal.h: what the domain's files share; not part of its interface.
 *
 * The domain is split by subject, each file a set of the operations of
 * domain.h:
 *
 *   domain.c       the domain itself (create, destroy, store health) and the
 *                  helpers below: messages, transactions, what a reply shows
 *   application.c  submit, get, list, review, withdraw
 *   cohort.c       cohorts, their standing, seats and waitlist, counters
 *   benefits.c     what an approval grants and a withdrawal takes back
 *   privacy.c      erasure, export, key rotation, the audit trail
 *   idempotency.c  the keys that make a retried write answer as the first
 *   validate.c     what a submission must be (pure: no store, no clock)
 *
 * Names shared between the files are ob_dom_*; the store is reached through
 * its port, domain/store.h, only.
 */
#ifndef OB_DOMAIN_INTERNAL_H
#define OB_DOMAIN_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/err.h"
#include "domain/domain.h"
#include "domain/store.h"

struct ob_domain {
	ob_store *store;
	ob_keystore *keys;         /* borrowed; NULL: no key rotation */
	pthread_mutex_t rotate_mu; /* one ob_domain_rotate_keys at a time */
	/* ob_domain_store_health: the last answer, when it was had (monotonic),
	 * and who is asking the store now. */
	_Atomic int health;
	_Atomic int64_t health_at_us;
	pthread_mutex_t health_mu;
};

/* ---- outcomes (validate.c, domain.c) ------------------------------------ */

void ob_violation_add(ob_outcome *o, const char *field, const char *fmt, ...) OB_PRINTF(3, 4);

/* The message of o, cut between characters if it is too long. */
void ob_dom_say(ob_outcome *o, const char *fmt, ...) OB_PRINTF(2, 3);
/* Says that the store failed (o may be NULL), and for a failure that passes by itself
 * (OB_EUNAVAIL, OB_ENOSPC) to try again; returns err. */
ob_err ob_dom_store_failed(ob_outcome *o, ob_err err);
/* An application whose contact cannot be decrypted is never shown as if its
 * contact were empty: OB_ECORRUPT, and a message naming the application, not
 * its data. */
ob_err ob_dom_unreadable(ob_outcome *o, const ob_application *a);
/* OB_EINVAL with "the WHAT has N invalid field(s)" when o holds violations,
 * else OB_OK. */
ob_err ob_dom_refuse(ob_outcome *o, const char *what);
/* OB_EINVAL with a violation of field and "the NOUN is too long" when value
 * is longer than max bytes, else OB_OK (value NULL: OB_OK). */
ob_err ob_dom_check_length(ob_outcome *o, const char *field, const char *noun, const char *value,
                           size_t max);

/* ---- transactions (domain.c) ------------------------------------------------ */

/* Runs fn(t, arg) as a write on the store, which may commit it with others
 * (group commit), and returns once it is durable; a failure fn did not
 * explain is said in o. */
ob_err ob_dom_write(ob_domain *d, ob_err (*fn)(ob_txn *t, void *arg), void *arg, ob_outcome *o);
/* Begins a read transaction (a snapshot) into *t; a failure is said in o
 * (which may be NULL). End it with t->ops->rollback(t): nothing to commit. */
ob_err ob_dom_read(ob_domain *d, ob_txn **t, ob_outcome *o);
/* A page size as asked (0: OB_DEFAULT_PAGE_SIZE), at most OB_MAX_PAGE_SIZE. */
size_t ob_dom_page_size(size_t asked);
/* Loads what a reply shows beyond the row: history and waitlist position. */
ob_err ob_dom_decorate(ob_txn *t, ob_application *a);

/* ---- cohorts, seats and counters (cohort.c) --------------------------------- */

/* Whether s is a cohort id: 1-32 characters of [a-z0-9-]. */
bool ob_dom_cohort_id_ok(const char *s);
/* Moves a to state to: its row, a history entry (reason in clear, note,
 * what a person typed, sealed by the store; either may be NULL) and the
 * cohort's counters. */
ob_err ob_dom_change_state(ob_txn *t, ob_application *a, ob_state to, const char *actor,
                           const char *reason, const char *note, int64_t now);
/* Gives the cohort's free seats to its waitlist, oldest first, until none is free. */
ob_err ob_dom_promote(ob_txn *t, const ob_cohort *c, int64_t now);
/* Counts a new application in its cohort's counters. */
ob_err ob_dom_count_new(ob_txn *t, const ob_application *a);

/* ---- benefits (benefits.c) -------------------------------------------------- */

/* Grants a's benefits from cohort c, once, on approval. */
ob_err ob_dom_grant(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t now);
/* Takes back what is not used yet of a's benefits, on withdrawal. */
ob_err ob_dom_revoke(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t now);

/* ---- idempotency (idempotency.c) -------------------------------------------- */

/* Looks idem's key up: a repeat of the same request replays the stored reply
 * (OB_OK, *replayed, o->replay set); the same key on another request is
 * refused (OB_EINVAL). No key: OB_OK. */
ob_err ob_dom_idem_check(ob_txn *t, const ob_idempotency *idem, ob_outcome *o, bool *replayed);
/* Renders and stores the reply of a change to a under idem's key, hands the
 * rendered bytes to o (o->rendered), and now and then forgets old keys. */
ob_err ob_dom_idem_record(ob_txn *t, const ob_idempotency *idem, const ob_application *a,
                          int64_t now, ob_outcome *o);
/* Wipes and frees o->rendered. */
void ob_dom_forget_rendered(ob_outcome *o);

/* ---- applications (application.c) ------------------------------------------- */

/* The refusal of an application id of the wrong shape (OB_EINVAL, a
 * violation of "id"): before anything is looked up. */
ob_err ob_dom_bad_id(ob_outcome *o);

/* A new application id: a ULID (time-ordered, 80 random bits). */
void ob_new_id(char out[OB_ID_LEN + 1], int64_t now_ms);

#endif
