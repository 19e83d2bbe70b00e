/*
 * domain.h: the programme's operations. Validation, seats and waitlist, the
 * review lifecycle, benefits and idempotency live here, on the plain structs
 * of domain/model.h, over the store port of domain/store.h (which an adapter
 * such as store/sqlite.c implements; main.c wires one in).
 *
 * Invariants, held under any concurrency and across restarts because every
 * write runs in one exclusive store transaction that re-reads what it decides on:
 *  - at most `capacity` applications of a cohort hold a seat;
 *  - when a seat frees, the oldest waitlisted application takes it in the
 *    same transaction;
 *  - one live application (not REJECTED nor WITHDRAWN) per SIREN and cohort;
 *  - benefits are granted once, on approval, and each benefit once per
 *    company (SIREN) across the programme's cohorts;
 *  - submissions and approvals happen within their cohort's windows.
 *
 * Every operation fills an ob_outcome: a message for the caller (no personal
 * data in it) and the field violations of a refused request, all of them.
 *
 * Threading: all functions may be called from many threads at once. They
 * block on the store.
 */
#ifndef OB_DOMAIN_DOMAIN_H
#define OB_DOMAIN_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "domain/model.h"
#include "domain/store.h" /* ob_store_stats */

typedef struct ob_store ob_store;       /* domain/store.h: the port */
typedef struct ob_keystore ob_keystore; /* crypto/keystore.h: the master keys */

enum { OB_MAX_OUTCOME_VIOLATIONS = 32, OB_MAX_PAGE_SIZE = 500, OB_DEFAULT_PAGE_SIZE = 50 };

typedef struct ob_violation {
	char field[64];
	char description[160];
} ob_violation;

typedef struct ob_outcome {
	char message[256];
	ob_violation violations[OB_MAX_OUTCOME_VIOLATIONS];
	size_t n_violations;
	/* Set when an idempotency key replayed a stored reply: the reply's
	 * bytes, malloc'd; free with ob_outcome_fini(). */
	uint8_t *replay;
	size_t replay_len;
	/* Set when a write rendered its reply for an idempotency record
	 * (idem->render): those bytes, malloc'd (wiped and freed by
	 * ob_outcome_fini: they show the contact), so that the reply is
	 * rendered once and sent as it was stored. */
	uint8_t *rendered;
	size_t rendered_len;
} ob_outcome;

void ob_outcome_init(ob_outcome *o);
void ob_outcome_fini(ob_outcome *o);

/* Idempotency of a write: the key, the hash of the request (of its bytes as
 * they arrived), and how to render the reply that is stored with the key.
 * render runs inside the write transaction, after the change (the reply
 * shows what the change made: the id, the place in line, so it cannot be
 * rendered before); it returns malloc'd bytes, which the outcome then holds
 * (ob_outcome.rendered) for the caller to send as they were stored. */
typedef struct ob_idempotency {
	const char *key; /* NULL: no key */
	uint8_t request_hash[32];
	/* reply: the ob_application of a change of an application, or what
	 * the method's handler set render for (an ob_advisor). */
	ob_err (*render)(void *ctx, const void *reply, uint8_t **out, size_t *len);
	/* Optional, for a new application, so that the single writer renders
	 * only what it decides: render_new(ctx, a, false, ...) renders a's
	 * reply but for its state, waitlist position, terms version and
	 * history, before the write is queued; render_new(ctx, a, true, ...)
	 * those alone, inside the write. The reply is the first followed by the
	 * second: render_new guarantees that this is an encoding of the whole.
	 * NULL: render renders it whole, inside the write. */
	ob_err (*render_new)(void *ctx, const ob_application *a, bool decided, uint8_t **out,
	                     size_t *len);
	void *ctx;
} ob_idempotency;

/*
 * Who calls: one argument that every operation acting for someone takes, so
 * that each face (nng today, HTTP next) only says who is calling and the
 * domain decides what that caller may see. The roles are numbered like
 * auth/auth.h's ob_role (rpc/ checks it at compile time); the domain does
 * not include auth/.
 *
 * Applicants and partners see and act only on what they submitted: for them
 * another's application does not exist (OB_ENOTFOUND, not OB_EPERM: SIRENs
 * are public, and existence would leak). Reviewers, administrators and
 * OB_CALLER_NONE (no authentication: tests, tools on the store) see every
 * application.
 */
typedef enum ob_caller_role {
	OB_CALLER_NONE = 0,
	OB_CALLER_APPLICANT = 1,
	OB_CALLER_PARTNER = 2,
	OB_CALLER_REVIEWER = 3,
	OB_CALLER_ADMIN = 4,
	/* The marketplace's ads service: records ad-credit spending, on any
	 * application, and nothing else (rpc/authz.c). */
	OB_CALLER_ADS = 5,
} ob_caller_role;

typedef struct ob_caller {
	/* The authenticated key id, "local" for the trusted local peer; NULL
	 * without authentication. Recorded as a submission's submitted_by
	 * (NULL or "": "local"). */
	const char *principal;
	ob_caller_role role;
	/* Who history entries name: the principal, or where an unauthenticated
	 * call came from. NULL or "": the principal, else "unknown". */
	const char *actor;
} ob_caller;

/* A submission as received: borrowed strings, not yet validated. */
typedef struct ob_submission {
	const char *cohort_id; /* "" or NULL: the default cohort */
	const char *siren, *siret, *legal_name, *trade_name, *naf, *vat;
	int legal_form; /* as received (ob_legal_form); checked here */
	/* The figures, and whether each was given: which are required is the
	 * legal form's to say (a 0 given is a figure). */
	bool has_employees, has_turnover, has_balance;
	uint32_t employees;
	int64_t turnover_eur, balance_eur;
	const char *street, *postal_code, *city;
	const char *contact_name, *email, *phone;
	int channel; /* as received; checked here */
	bool exports;
	const char *const *categories;
	size_t n_categories;
	bool accepts_terms;
	const char *terms_version;     /* "" or NULL: the cohort's current one */
	const char *terms_accepted_at; /* RFC 3339; "" or NULL: now */
} ob_submission;

/* A cohort's standing, from its counters (domain/counters.c says what each
 * counts). applications: every one ever submitted; exporters and the
 * "size:", "region:" and "channel:" counters: the live ones. */
typedef struct ob_standing {
	ob_cohort cohort;
	uint32_t seats_held, seats_free, waitlist, applications, exporters;
	uint32_t live, onboarded, onboarded_exporters, live_before_milestone;
	/* The benefits' totals over the applications granted any. */
	uint32_t benefits_granted;
	int64_t fee_waived_cents, ad_credit_granted_cents, ad_credit_used_cents;
	/* "state:X", "size:X", "region:X", "channel:X", "day:YYYY-MM-DD", and the
	 * reports "dept:X", "naf:S", "region_state:R/X" */
	ob_counter *counters;
	size_t n_counters;
} ob_standing;
void ob_standing_fini(ob_standing *s);

typedef struct ob_domain ob_domain;

/* Creates the default cohort on first use of the store. keys is the
 * keystore the store encrypts with (main.c hands both the same one), which
 * the domain rotates (ob_domain_rotate_keys); NULL when there is none to
 * rotate (a store with throwaway keys). Both are borrowed and must outlive
 * the domain. */
OB_NODISCARD ob_err ob_domain_create(ob_domain **out, ob_store *store, ob_keystore *keys);
void ob_domain_destroy(ob_domain *d);

/* Checks a submission, without touching the store or the clock: every
 * violation goes into o; the normalised application (size, departement,
 * region, E.164 phone, the terms' version and time as given) into out.
 * OB_EINVAL when anything is wrong. */
OB_NODISCARD ob_err ob_validate_submission(const ob_submission *in, ob_application *out,
                                           ob_outcome *o);

/* SubmitApplication by who. out gets the application as created (SUBMITTED
 * with a seat, or WAITLISTED with its position), with its history. A SIREN
 * with a live application in the cohort: OB_EEXIST, naming the application
 * only to callers who see every application (a rejected or withdrawn one
 * does not count: the company applies again, and both stay). Outside the
 * cohort's submission window, of a size it does not take or of a NAF
 * division it excludes: OB_EPRECOND saying which. Terms of another version
 * than the cohort's, or accepted in the future: OB_EINVAL. */
OB_NODISCARD ob_err ob_domain_submit(ob_domain *d, const ob_caller *who, const ob_submission *in,
                                     const ob_idempotency *idem, ob_application *out,
                                     ob_outcome *o);
/*
 * Who may see what (ob_caller): for an applicant or a partner another's
 * application is refused exactly as one that does not exist, OB_ENOTFOUND
 * with the same message, byte for byte, before anything about it is looked
 * at (its state, its version, its contact's integrity): an applicant cannot
 * learn that it exists.
 *
 * An application id is checked for its shape (26 characters of [0-9A-Z])
 * before anything else: OB_EINVAL with a violation of "id".
 */

/* By id, or by SIREN in a cohort (id NULL or "": then the SIREN must be
 * valid; cohort NULL or "": the default one). With history and position. */
OB_NODISCARD ob_err ob_domain_get(ob_domain *d, const ob_caller *who, const char *id,
                                  const char *cohort, const char *siren, ob_application *out,
                                  ob_outcome *o);
/* One page in submission order after after_seq; *more tells if another follows.
 * f->submitted_by is replaced by who's own principal for callers who see
 * only their own. *out is malloc'd (free()). */
OB_NODISCARD ob_err ob_domain_list(ob_domain *d, const ob_caller *who, const ob_app_filter *f,
                                   int64_t after_seq, size_t page_size, ob_application **out,
                                   size_t *n, bool *more, ob_outcome *o);
/* expected_version 0: any, as for a withdrawal. A waitlisted application
 * may be rejected: it leaves the line. An approval outside the cohort's
 * approval window: OB_EPRECOND naming it; within it, the benefits are
 * granted (benefits.c says what, and what is left when the company had some
 * from another application of the programme). */
OB_NODISCARD ob_err ob_domain_review(ob_domain *d, const ob_caller *who, const char *id,
                                     ob_action action, uint64_t expected_version,
                                     ob_rejection reason, const char *note,
                                     const ob_idempotency *idem, ob_application *out,
                                     ob_outcome *o);
/* expected_version 0: any. By the applicant (or partner) who submitted it,
 * reason optional; or by a reviewer or an administrator on the company's
 * request, reason required (OB_EINVAL otherwise), recorded as such. A
 * waitlisted application leaves the line. */
OB_NODISCARD ob_err ob_domain_withdraw(ob_domain *d, const ob_caller *who, const char *id,
                                       uint64_t expected_version, const char *reason,
                                       const ob_idempotency *idem, ob_application *out,
                                       ob_outcome *o);

/*
 * Records ad credit spent by the company of application id (the ads
 * service's report): amount_cents (1..OB_MAX_AD_SPEND_CENTS) more of
 * Benefits.ad_credit_used_cents, a history entry "ad credit spent: 12.34 EUR"
 * with the reference as its note (at most OB_AD_REFERENCE_MAX characters of
 * [A-Za-z0-9._:/-], optional), the version bumped and the cohort's totals
 * moved. Idempotent through idem: a resent record replays the first reply
 * and spends nothing more. OB_EINVAL with violations for a bad id, amount or
 * reference; OB_ENOTFOUND; OB_EPRECOND when the application has no ad credit,
 * its benefits were revoked (withdrawn: what was spent stays), the credit
 * expired (after the day of Benefits.ad_credit_expires, Paris time) or the
 * amount is more than what is left, each said in the message.
 */
enum { OB_MAX_AD_SPEND_CENTS = 100000000, OB_AD_REFERENCE_MAX = 64 };
OB_NODISCARD ob_err ob_domain_spend_ad_credit(ob_domain *d, const ob_caller *who, const char *id,
                                              int64_t amount_cents, const char *reference,
                                              const ob_idempotency *idem, ob_application *out,
                                              ob_outcome *o);

/*
 * Webinar bookings (webinar.c). Every session day of a cohort has one
 * session per topic at the cohort's webinar hour, Paris time, holding
 * webinar_seats people; an application holds at most one booking
 * (ob_application.webinar), which changes its version and history like a
 * review. All honour idem.
 *
 * ob_domain_book_webinar: books session_ms (0: the next session of topic
 * with a seat left) for application id, or moves its booking there (the old
 * seat is freed). The applicant for its own, before or after approval, or
 * staff. OB_EINVAL with violations (id, topic, session_at: not a session of
 * the cohort); OB_ENOTFOUND; OB_EPRECOND when the application is rejected or
 * withdrawn, or the session is full, starts within the cohort's lead time or
 * after its end (the message says which). After approval,
 * Benefits.webinar_at follows the booking.
 */
OB_NODISCARD ob_err ob_domain_book_webinar(ob_domain *d, const ob_caller *who, const char *id,
                                           ob_topic topic, int64_t session_ms,
                                           const ob_idempotency *idem, ob_application *out,
                                           ob_outcome *o);
/* Cancels id's booking: OB_EPRECOND when it has none or its session began. */
OB_NODISCARD ob_err ob_domain_cancel_webinar(ob_domain *d, const ob_caller *who, const char *id,
                                             const ob_idempotency *idem, ob_application *out,
                                             ob_outcome *o);
/* Records whether the company attended its booked session (staff), once
 * the session began: OB_EPRECOND otherwise. */
OB_NODISCARD ob_err ob_domain_record_attendance(ob_domain *d, const ob_caller *who, const char *id,
                                                bool attended, const ob_idempotency *idem,
                                                ob_application *out, ob_outcome *o);

/* One session of ob_domain_webinar_sessions. */
typedef struct ob_session {
	int64_t at_ms;
	ob_topic topic;
	uint32_t seats, booked;
} ob_session;
enum { OB_MAX_SESSION_DAYS = 62 };
/* The sessions of cohort (NULL or "": the default) from one Paris date to
 * another (YYYY-MM-DD, inclusive, at most OB_MAX_SESSION_DAYS days), of
 * topic (OB_TOPIC_UNSPECIFIED: both), in time order, with the seats booked.
 * *out malloc'd (free()). OB_EINVAL with violations (cohort_id, from, to,
 * topic); OB_ENOTFOUND for the cohort. */
OB_NODISCARD ob_err ob_domain_webinar_sessions(ob_domain *d, const char *cohort, const char *from,
                                               const char *to, ob_topic topic, ob_session **out,
                                               size_t *n, ob_outcome *o);

/*
 * Advisors (advisor.c): the people of a cohort who follow approved
 * companies, each at most its capacity at once. An approval assigns the
 * least loaded active advisor of the company's region who speaks French and
 * has capacity left, else one of any region, else none (the approval's
 * history says which). Administrators manage the list; the writes honour
 * idem (the reply an advisor: the caller's render renders an ob_advisor).
 *
 * ob_domain_advisor_add: adds in's name (1-OB_ADVISOR_NAME_MAX bytes of
 * UTF-8 text), region (one of the 18 regions' official names, or "any"),
 * languages (1-OB_MAX_ADVISOR_LANGUAGES ISO 639-1 codes, any case, no
 * repeat) and capacity (1..OB_MAX_ADVISOR_CAPACITY) to cohort in->cohort_id
 * ("": the default), active, under the next number; *out the advisor as
 * stored. OB_EINVAL with violations (cohort_id, name, region, languages,
 * capacity); OB_ENOTFOUND for the cohort; OB_EPRECOND when the cohort has
 * OB_MAX_ADVISORS already.
 */
OB_NODISCARD ob_err ob_domain_advisor_add(ob_domain *d, const char *cohort, const char *name,
                                          const char *region, const char *const *languages,
                                          size_t n_languages, uint32_t capacity,
                                          const ob_idempotency *idem, ob_advisor *out,
                                          ob_outcome *o);
/* Changes advisor number's capacity (0: unchanged; else 1..1000, and not
 * below its load) and whether it is active (active < 0: unchanged). An
 * inactive advisor keeps the companies assigned and takes no new one. */
OB_NODISCARD ob_err ob_domain_advisor_update(ob_domain *d, const char *cohort, uint32_t number,
                                             uint32_t capacity, int active,
                                             const ob_idempotency *idem, ob_advisor *out,
                                             ob_outcome *o);
/* The cohort's advisors with their load, in number order; *out malloc'd
 * (free()). OB_EINVAL (cohort_id), OB_ENOTFOUND. */
OB_NODISCARD ob_err ob_domain_advisors(ob_domain *d, const char *cohort, ob_advisor **out,
                                       size_t *n, ob_outcome *o);
/* Gives approved application id another advisor (staff): advisor (active,
 * with capacity left), or, 0, the least loaded other one as an approval
 * would pick. The loads move; the history records it with note. OB_EINVAL
 * (id, advisor: not one of the cohort's), OB_ENOTFOUND, OB_EPRECOND (not
 * approved, benefits revoked, the advisor inactive or full, no other one
 * free). */
OB_NODISCARD ob_err ob_domain_reassign_advisor(ob_domain *d, const ob_caller *who, const char *id,
                                               uint32_t advisor, const char *note,
                                               const ob_idempotency *idem, ob_application *out,
                                               ob_outcome *o);

/* 26 characters of [0-9A-Z]: the shape of an application id. */
bool ob_domain_id_ok(const char *id);
/* The actor history entries name for who (ob_caller.actor). */
const char *ob_caller_actor(const ob_caller *who);

/* cohort NULL or "": the default cohort. */
OB_NODISCARD ob_err ob_domain_standing(ob_domain *d, const char *cohort, ob_standing *out,
                                       ob_outcome *o);
OB_NODISCARD ob_err ob_domain_cohorts(ob_domain *d, ob_cohort *out, size_t max, size_t *n);
OB_NODISCARD ob_err ob_domain_cohort_create(ob_domain *d, const ob_cohort *c, ob_cohort *out,
                                            ob_outcome *o);
/* Never below the seats held; raising it promotes from the waitlist.
 * cohort NULL or "": the default cohort. */
OB_NODISCARD ob_err ob_domain_set_capacity(ob_domain *d, const ob_caller *who, const char *cohort,
                                           uint32_t capacity, ob_standing *out, ob_outcome *o);

/*
 * Personal data (GDPR).
 *
 * Reads refuse an application whose contact failed its integrity check
 * (tampered, copied from another record, or its master key is missing):
 * ob_domain_get, ob_domain_list, ob_domain_export_contact and the writes on
 * it return OB_ECORRUPT naming the application, never its fields.
 */

/* Erasure (right to be forgotten) by crypto-shredding: the application's data
 * key is destroyed with the ciphertexts and the blind index, in one write
 * that also adds a history entry "personal data erased[: reason]" by actor
 * and bumps the version; the state, the company record, the history and the
 * cohort's counters stay. Then the store is checkpointed so that the erased
 * bytes leave the write-ahead log (a checkpoint that cannot finish is logged;
 * the erasure stands). reason must hold no personal data (it is kept).
 *
 * Idempotent: erasing an erased application changes nothing (no new history
 * entry, the first erased_at/erased_by stay) and returns OB_OK with it, so
 * that a retried call succeeds. out gets the application with its history.
 * OB_ENOTFOUND for an unknown id, OB_EINVAL for a reason too long. */
OB_NODISCARD ob_err ob_domain_erase(ob_domain *d, const ob_caller *who, const char *id,
                                    const char *reason, ob_application *out, ob_outcome *o);

/* Everything held about one contact: by application id, or by e-mail (exactly
 * one of id and email non-empty) through the blind index, so the e-mail
 * matches whatever its case and surrounding white space. *out gets the
 * applications (decrypted, with history and position), in submission order;
 * free with ob_applications_free. An e-mail nobody used gives OB_OK and none
 * (erased contacts have no index any more); an unknown id OB_ENOTFOUND. */
OB_NODISCARD ob_err ob_domain_export_contact(ob_domain *d, const char *id, const char *email,
                                             ob_application **out, size_t *n, ob_outcome *o);
/* Finishes and frees a list from ob_domain_export_contact; accepts NULL. */
void ob_applications_free(ob_application *list, size_t n);

enum { OB_REWRAP_BATCH = 500 };

enum { OB_KEY_ID_SIZE = 17 }; /* a master key id and its NUL: OB_VAULT_KID_SIZE */

/* Key rotation without downtime. The domain's keystore appends a master key
 * to its file and publishes the vault it opens from it (crypto/keystore.h),
 * so new data keys are wrapped under the new key at once; then the stored
 * data keys are re-wrapped under it in write transactions of
 * OB_REWRAP_BATCH, until none is left. Reads and writes go on between the
 * batches, and reads never wait for the rotation. Logged.
 *
 * out->kid gets the new active key id once it is published, and stays empty
 * if the rotation failed before (then nothing changed). out->rewrapped gets
 * the number of data keys re-wrapped, out->failed the number that could not
 * be (missing master key or damaged: logged by seq, left as they were); o
 * says how many. Returns OB_OK, also with failures counted; OB_EPRECOND when
 * the domain has no keystore with a key file (nothing to rotate); the
 * keystore's error when nothing was published (o says why); the store's
 * error when a batch fails half-way: the new key stands, and a new call
 * carries on.
 *
 * Idempotent through idem (its render renders an ob_rotation): a repeat of
 * the key gets the first call's reply (out->replayed, o->replay) and rotates
 * nothing; the retry of a call cut short (a crash, a failed batch) after its
 * key was published finishes the re-wrap under that key instead of adding
 * another, and its reply is then the one kept. A call without a key rotates
 * every time. Rotations run one at a time per domain (a second call waits).
 * Blocks on the key file and the store. */
typedef struct ob_rotation {
	char kid[OB_KEY_ID_SIZE]; /* the active key id the rotation published */
	size_t rewrapped, failed;
	bool replayed; /* the reply of an earlier call with the key: in o->replay */
} ob_rotation;
OB_NODISCARD ob_err ob_domain_rotate_keys(ob_domain *d, const ob_idempotency *idem,
                                          ob_rotation *out, ob_outcome *o);

/* Whether the store serves now, as a health check asks: it can be reached
 * (store.h, ping), and writes work. The answer is kept for
 * OB_STORE_HEALTH_TTL_MS, so that probes cost nothing under load, and while
 * one caller asks the store the others get the last answer instead of
 * waiting on a stalled disk. Changes are logged.
 *
 * Writes: every write tells the domain how it went; one that failed for the
 * store (OB_ENOSPC: the disk is full; OB_EUNAVAIL: the store refused it, a
 * sync failed or the disk is too slow; OB_EIO) makes the writes unhealthy
 * until one goes through. Reads may work meanwhile, but a service that
 * refuses every write must not say it serves: a load balancer or an
 * operator would not look further. So that health comes back by itself
 * when the fault clears, even with no client writing (a balancer that took
 * the instance out sends none), the caller that asks the store also starts a
 * write that changes nothing (store.h, touch) on a thread of the domain's, one
 * at a time, whose result a later check reads: no check waits for a stuck
 * disk.
 *
 * Returns OB_OK, the ping's error, or the writes' (ob_domain_write_health).
 * Any thread. */
enum { OB_STORE_HEALTH_TTL_MS = 1000 };
OB_NODISCARD ob_err ob_domain_store_health(ob_domain *d);

/* Why writes fail now: OB_OK when the last write went through (or none
 * failed for the store yet), else that failure's error, as above. Does not
 * ask the store: cheap, any thread. */
OB_NODISCARD ob_err ob_domain_write_health(ob_domain *d);

/* Told of every change of ob_domain_store_health's answer, with its parts:
 * reach, the ping's last answer, and writes, ob_domain_write_health's (both
 * OB_OK: serving again), e.g. to tell systemd (main.c). Runs on the thread
 * that saw the change, a worker or a health check: it must not block nor
 * call back into the domain. */
typedef void (*ob_domain_health_fn)(void *ctx, ob_err reach, ob_err writes);
/* Sets the hook (NULL: none), before the domain serves: not thread-safe. */
void ob_domain_set_health_hook(ob_domain *d, ob_domain_health_fn fn, void *ctx);

/* Group commit's figures (store.h), zeros from a store without them.
 * Any thread. */
void ob_domain_store_stats(ob_domain *d, ob_store_stats *out);

/*
 * Backup: a consistent copy of the whole store, written while the service
 * goes on (the store's backup, store.h), to path on the server's host.
 * path must be absolute, at most OB_BACKUP_PATH_MAX bytes, without control
 * characters, empty, "." or ".." components, and name a file (OB_EINVAL
 * with a violation of "path" otherwise), in an existing directory the server
 * may write to and nobody else can (OB_EINVAL with a violation too); a file
 * at path is never overwritten (OB_EEXIST). One backup at a time: another
 * call meanwhile gets OB_EUNAVAIL. On a store that writes no backup file
 * (PostgreSQL), OB_EPRECOND with a message naming the database's own tools.
 * out gets the size and the number of
 * applications of the copy, the time just before its snapshot (every write
 * acknowledged before it is in the copy), the active master key id, and the
 * reminder to show whoever made the backup: the master key file, without
 * which the contacts in the copy cannot be read, is NOT in it. Blocks for
 * the length of the copy; reads and writes go on meanwhile.
 */
enum { OB_BACKUP_PATH_MAX = 1024 };
typedef struct ob_backup {
	uint64_t bytes;
	uint64_t applications;
	int64_t taken_at_ms;
	char master_key_id[OB_KEY_ID_SIZE]; /* "" with throwaway keys */
	char reminder[256];
} ob_backup;
OB_NODISCARD ob_err ob_domain_backup(ob_domain *d, const char *path, ob_backup *out, ob_outcome *o);

/* Appends e to the audit trail (a durable write; e->at_ms 0: now). */
OB_NODISCARD ob_err ob_domain_audit(ob_domain *d, const ob_audit_event *e);
/* One page of the audit trail after after_seq, oldest first (page_size 0:
 * OB_DEFAULT_PAGE_SIZE, at most OB_MAX_PAGE_SIZE); *more tells if another
 * follows. *out malloc'd (free()). */
OB_NODISCARD ob_err ob_domain_audit_list(ob_domain *d, int64_t after_seq, size_t page_size,
                                         ob_audit_event **out, size_t *n, bool *more,
                                         ob_outcome *o);

#endif
