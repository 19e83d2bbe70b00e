/*
 * internal.h: what the domain's files share; not part of its interface.
 *
 * The domain is split by subject, each file a set of the operations of
 * domain.h:
 *
 *   domain.c       the domain itself (create, destroy, store health) and the
 *                  helpers below: messages, transactions, what a reply shows
 *   application.c  submit, get, list, review, withdraw
 *   cohort.c       cohorts, their settings, standing, seats and waitlist
 *   counters.c     what each application counts for in its cohort's standing
 *   benefits.c     what an approval grants and a withdrawal takes back
 *   privacy.c      erasure, export, key rotation, the audit trail
 *   backup.c       backups: where one may be written, one at a time
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
	/* Whether writes work: the store's error of the last write that failed for
	 * the store (a full disk, a sync failing...), OB_OK once one goes through. */
	_Atomic int write_health;
	/* The write that probes whether writes work again, on a thread of its own so that
	 * no health check waits for a slow disk: running, and joinable (under health_mu). */
	atomic_bool probing;
	bool probe_joinable;
	pthread_t probe;
	/* Told of every change of ob_domain_store_health's answer (domain.h). */
	ob_domain_health_fn health_hook;
	void *health_ctx;
	atomic_bool backup_running; /* ob_domain_backup: one at a time */
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
/* Loads what a reply shows beyond the row: history, webinar booking, the
 * advisor's name and waitlist position. */
ob_err ob_dom_decorate(ob_txn *t, ob_application *a);

/* ---- cohorts, seats and counters (cohort.c, counters.c) --------------------- */

/* Whether s is a cohort id: 1-32 characters of [a-z0-9-]. */
bool ob_dom_cohort_id_ok(const char *s);
/* Whether v is a terms version: 1-OB_TERMS_VERSION_MAX of [A-Za-z0-9._-]. */
bool ob_dom_terms_version_ok(const char *v);
/* The store's cohort_get, with what the cohort derives filled in
 * (ob_cohort_derive): every read of a cohort in the domain goes through it. */
ob_err ob_dom_cohort_get(ob_txn *t, const char *id, ob_cohort *out);
/* Inserts a new cohort c (derived and checked), its advisors, and marks its
 * counters as of the current definitions. */
ob_err ob_dom_cohort_insert(ob_txn *t, const ob_cohort *c);
/* Moves a of cohort co to state to: its row, a history entry (reason in
 * clear, note, what a person typed, sealed by the store; either may be
 * NULL) and the cohort's counters, from what was counted for (a as it was
 * read, before its benefits changed in the same write; NULL: a as it is).
 * Going live sets a->onboarded_at_ms. */
ob_err ob_dom_change_state(ob_txn *t, const ob_cohort *co, ob_application *a,
                           const ob_application *was, ob_state to, const char *actor,
                           const char *reason, const char *note, int64_t now);
/* Gives the cohort's free seats to its waitlist, oldest first, until none is free. */
ob_err ob_dom_promote(ob_txn *t, const ob_cohort *c, int64_t now);

/* Counts a new application in its cohort c's counters (counters.c). */
ob_err ob_dom_count_new(ob_txn *t, const ob_cohort *c, const ob_application *a);
/* Moves c's counters from what before counted for to what after does. */
ob_err ob_dom_count_change(ob_txn *t, const ob_cohort *c, const ob_application *before,
                           const ob_application *after);
/* Marks a new cohort's counters as of the current definitions. */
ob_err ob_dom_counters_mark(ob_txn *t, const char *cohort);
/* Recounts, from their applications, the cohorts whose counters are of
 * older definitions (a database of an earlier version); *recounted gets
 * how many. Run once, in a write, before the domain serves. */
ob_err ob_dom_recount_stale(ob_txn *t, size_t *recounted);

/* ---- benefits (benefits.c) -------------------------------------------------- */

/* Grants a's benefits from cohort c, once, on approval: what is left of
 * them once what the company's other applications kept is counted. said
 * (size bytes) gets what the approval's history says of the advisor (""
 * when the company kept one from another application). */
ob_err ob_dom_grant(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t now, char *said,
                    size_t size);
/* Takes back what is not used yet of a's benefits, on withdrawal. */
ob_err ob_dom_revoke(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t now);
/* Spends amount of a's ad credit, as of now, after checking that it has
 * that much left and unexpired (OB_EPRECOND, said in o, otherwise); only
 * a's benefits change (the caller records the change). */
ob_err ob_dom_spend(const ob_cohort *c, ob_application *a, int64_t amount, int64_t now,
                    ob_outcome *o);

/* ---- webinars (webinar.c) ----------------------------------------------------- */

/* The topic of the session an approval books for a channel: one's own web
 * shop for OWN_WEBSHOP, the marketplace otherwise. */
ob_topic ob_dom_channel_topic(ob_channel ch);
/* Books for a (its booking, the session's seat) the next session of topic
 * with a seat left, at least the cohort's lead time after now; nothing when
 * c has no seats or no session is free within ten years (*booked false). */
ob_err ob_dom_book_next(ob_txn *t, const ob_cohort *c, ob_application *a, ob_topic topic,
                        int64_t now, bool *booked);
/* Cancels a's booking if its session has not begun (frees the seat); one
 * that has begun stays, as what happened. */
ob_err ob_dom_unbook_future(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t now);

/* ---- advisors (advisor.c) ---------------------------------------------------- */

/* Assigns a (approved, of cohort c) the least loaded active advisor of its
 * region who speaks French and has capacity left, else one of any region,
 * other than except (0: none), whose load grows by one: a->benefits.advisor
 * and advisor_name. None at all: advisor 0 and OB_OK. said (size bytes)
 * gets the history's words, starting with verb ("advisor assigned"): which advisor, whether from
 * another region, or that none was free. The old advisor's load is the caller's. */
ob_err ob_dom_assign_advisor(ob_txn *t, const ob_cohort *c, ob_application *a, uint32_t except,
                             const char *verb, char *said, size_t size);
/* Fills a->benefits.advisor_name from the store (on read). */
ob_err ob_dom_advisor_name(ob_txn *t, ob_application *a);

/* ---- idempotency (idempotency.c) -------------------------------------------- */

/* Looks idem's key up: a repeat of the same request replays the stored reply
 * (OB_OK, *replayed, o->replay set); the same key on another request is
 * refused (OB_EINVAL). No key: OB_OK. */
ob_err ob_dom_idem_check(ob_txn *t, const ob_idempotency *idem, ob_outcome *o, bool *replayed);
/* Renders and stores the reply of a change to a under idem's key, hands the
 * rendered bytes to o (o->rendered), and now and then forgets old keys. */
ob_err ob_dom_idem_record(ob_txn *t, const ob_idempotency *idem, const ob_application *a,
                          int64_t now, ob_outcome *o);
/* The same for any reply: subject is what idem->render renders; a the
 * application whose key seals it (NULL: a reply without personal data,
 * such as an advisor's). */
ob_err ob_dom_idem_record_reply(ob_txn *t, const ob_idempotency *idem, const void *subject,
                                const ob_application *a, int64_t now, ob_outcome *o);
/* The same for a new application whose reply is rendered in two parts
 * (ob_idempotency.render_new): known, what was rendered before the write,
 * is followed by what the write decided, rendered now. */
ob_err ob_dom_idem_record_new(ob_txn *t, const ob_idempotency *idem, const ob_application *a,
                              const uint8_t *known, size_t known_len, int64_t now, ob_outcome *o);
/* Wipes and frees o->rendered. */
void ob_dom_forget_rendered(ob_outcome *o);

/* ---- applications (application.c) ------------------------------------------- */

/* A change of one application (a review, a withdrawal, an ad spend, a
 * webinar booking...), checked against the version the caller saw, made by
 * change() in one write. */
typedef struct app_op app_op;
struct app_op {
	const char *id;
	const char *owner; /* NULL: any application; else only the owner's exist */
	uint64_t expected_version;
	const ob_idempotency *idem;
	const char *actor;
	ob_outcome *o;
	ob_err (*change)(ob_txn *t, app_op *x, const ob_cohort *c, int64_t now);
	ob_action action;    /* review */
	ob_rejection reason; /* review */
	const char *note;    /* review: note; withdrawal: reason */
	bool for_company;    /* withdrawal by staff, on the company's request */
	int64_t amount;      /* ad spend, cents */
	ob_topic topic;      /* webinar booking */
	int64_t session_ms;  /* webinar booking: the session asked for; 0: the next */
	bool attended;       /* webinar attendance */
	uint32_t advisor;    /* advisor reassignment: the advisor asked for; 0: any */
	bool replayed;
	ob_application a;
	ob_application was; /* a as read, for the counters; no history */
};

/* Runs x as one write (idempotency key checked and recorded, the
 * application read as the caller may see it, at expected_version unless 0,
 * change() applied, the reply decorated); on OB_OK *out gets the changed
 * application (ob_application_fini()). */
ob_err ob_dom_run_app_op(ob_domain *d, app_op *x, const char *id, uint64_t expected_version,
                         const ob_idempotency *idem, const ob_caller *who, ob_application *out,
                         ob_outcome *o);
/* Whose applications exist for who: NULL, every one; else only those this
 * principal submitted (domain.h, ob_caller). */
const char *ob_dom_owner_of(const ob_caller *who);

/* The refusal of an application id of the wrong shape (OB_EINVAL, a
 * violation of "id"): before anything is looked up. */
ob_err ob_dom_bad_id(ob_outcome *o);

/* A new application id: a ULID (time-ordered, 80 random bits). */
void ob_new_id(char out[OB_ID_LEN + 1], int64_t now_ms);

#endif
