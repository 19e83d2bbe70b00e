/*
 * store.h: the port through which the domain keeps its data.
 *
 * The domain owns this interface and calls nothing else to persist: a table of
 * functions (ob_store_ops) that an adapter implements, as nng's transports
 * implement its nni_tran ops. store/sqlite.c is the adapter today (its
 * constructors are in store/sqlite.h); a PostgreSQL one can be added beside
 * it without touching the domain. main.c creates the adapter and hands it to
 * ob_domain_create(). Dependencies point one way: store/ includes this
 * header, the domain never includes anything of store/.
 *
 * A store hands out transactions; every operation runs inside one. Writes
 * run one at a time per store (the domain's invariants on seats rely on it)
 * and are acknowledged only once durable; write() batches concurrent ones
 * into one commit. Read transactions see a consistent snapshot and never wait
 * for a writer.
 *
 * Errors: OB_ENOTFOUND when a looked-up row does not exist, OB_EEXIST on a
 * uniqueness conflict, OB_EIO/OB_ECORRUPT/OB_EUNAVAIL from the database.
 *
 * Personal data: the store encrypts the contact's name, e-mail and phone
 * with the current vault of the keystore it borrows (crypto/keystore.h,
 * given to its constructor by main.c; a key rotation replaces that vault
 * while the store serves, and the store never holds one beyond a call
 * into it): a data key per application,
 * wrapped under the active master key, each field sealed under it and bound
 * to the application id and the field name, and a keyed blind index of the
 * e-mail for lookups. The notes of the history (ob_state_change.note) are
 * sealed under the same data key, bound to the row. Reads decrypt. A contact
 * whose data fails its integrity check reads as empty fields with
 * contact_unreadable set, so that one bad row neither stops a list nor the
 * cohort's waitlist; the domain refuses to show it. Plaintext never reaches
 * the database, and the store logs statement names and sequence numbers,
 * never values.
 *
 * Threading: a store may be used from many threads; a transaction belongs to
 * the thread that began it until commit or rollback. Calls block on disk.
 */
#ifndef OB_DOMAIN_STORE_H
#define OB_DOMAIN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "domain/model.h"

typedef struct ob_store ob_store;

/* At most this many writes share one commit (write() below; --commit-batch
 * lowers it). A caller of write() waits, holding its thread, until its commit:
 * a batch can only be as large as the number of threads that wait in it, so
 * whoever sizes a pool of threads that write (rpc's workers) sizes it from
 * this. */
enum { OB_STORE_BATCH_MAX = 64 };

/* How group commit is doing, for /metrics: cumulative since the store
 * opened. A batch is the writes that one COMMIT made durable; its latency
 * runs from BEGIN to the end of COMMIT (the fsync included). Histograms
 * count each observation in the first bucket whose bound it does not
 * exceed (bucket i: <= the i-th bound; the last bucket: above them all). */
#define OB_STORE_BATCH_BOUNDS 1, 2, 4, 8, 16, 32, 64
#define OB_STORE_COMMIT_BOUNDS_US                                                                  \
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000
enum { OB_STORE_BATCH_BUCKETS = 7 + 1, OB_STORE_COMMIT_BUCKETS = 11 + 1 };
typedef struct ob_store_stats {
	uint64_t batches, writes;
	uint64_t batch_size[OB_STORE_BATCH_BUCKETS];
	uint64_t commit_us[OB_STORE_COMMIT_BUCKETS];
	uint64_t commit_us_sum;
} ob_store_stats;
/* The bucket of v among n bounds (n for above them all). */
static inline unsigned ob_store_bucket(const uint64_t *bounds, unsigned n, uint64_t v)
{
	unsigned i = 0;
	while (i < n && v > bounds[i])
		i++;
	return i;
}
typedef struct ob_txn ob_txn;
/* A new application's contact sealed ahead of its write (contact_seal):
 * opaque to the domain, and holding a data key. */
typedef struct ob_sealed_contact ob_sealed_contact;

enum { OB_STORE_INDEX_LEN = 32 }; /* a blind index: OB_VAULT_INDEX_LEN */

enum { OB_MAX_COUNTER_BATCH = 16 }; /* counters_add: deltas in one statement */

/* What a backup (ops.backup) wrote. */
typedef struct ob_store_backup {
	uint64_t bytes;        /* the size of the copy */
	uint64_t applications; /* in the copy's snapshot */
} ob_store_backup;

typedef struct ob_store_ops {
	const char *name;
	/* Whether several onboardd may serve this store at once (PostgreSQL; a SQLite
	 * file has one instance): then what one instance holds in memory, the master
	 * keys among it, may lag another's (domain/privacy.c: key rotation). */
	bool shared;
	void (*destroy)(ob_store *s);
	ob_err (*begin)(ob_store *s, bool write, ob_txn **out);
	/* Runs fn(t, arg) in a write transaction and returns once its effect
	 * is durable. fn returning OB_OK keeps its changes; any other value
	 * undoes them (and only them) and is returned. Concurrent calls may
	 * share one transaction and one sync (group commit): each fn runs
	 * alone, in arrival order, and sees the changes of those before it.
	 * fn runs on a thread of the store's, so it must not rely on
	 * thread-local state. Returns fn's error, or the commit's. */
	ob_err (*write)(ob_store *s, ob_err (*fn)(ob_txn *t, void *arg), void *arg);
	/* Both end the transaction and free it, whatever they return. */
	ob_err (*commit)(ob_txn *t);
	void (*rollback)(ob_txn *t);

	ob_err (*cohort_get)(ob_txn *t, const char *id, ob_cohort *out);
	/* Up to max cohorts in id order into out; *n gets the count. */
	ob_err (*cohort_list)(ob_txn *t, ob_cohort *out, size_t max, size_t *n);
	ob_err (*cohort_insert)(ob_txn *t, const ob_cohort *c);
	ob_err (*cohort_set_capacity)(ob_txn *t, const char *id, uint32_t capacity);

	/* Counters of a cohort's standing, kept in step with every change so
	 * that reading the standing costs the same at 1,000 or 1,000,000
	 * applications. A missing counter reads 0. */
	ob_err (*counter_add)(ob_txn *t, const char *cohort, const char *key, int64_t delta);
	/* Several at once (count is the delta), in one statement; n <= OB_MAX_COUNTER_BATCH. */
	ob_err (*counters_add)(ob_txn *t, const char *cohort, const ob_counter *deltas, size_t n);
	ob_err (*counter_get)(ob_txn *t, const char *cohort, const char *key, int64_t *out);
	/* Every non-zero counter whose key starts with prefix; *out is
	 * malloc'd (free()). */
	ob_err (*counter_list)(ob_txn *t, const char *cohort, const char *prefix, ob_counter **out,
	                       size_t *n);

	/* Inserts a (with its contact, encrypted under a new data key, and
	 * a->submitted_by) and sets a->seq. OB_EEXIST when the cohort already
	 * has a live application (ob_state_live) of this SIREN. */
	ob_err (*app_insert)(ob_txn *t, ob_application *a);
	/* The same, with a's contact sealed ahead by contact_seal. The single
	 * writer is what limits durable writes, so a submission's cryptography
	 * runs on the caller's thread before the write is queued: contact_seal
	 * seals a's contact (a->id set) under a new data key into *out (any
	 * thread, blocks on nothing), app_insert_sealed inserts those bytes and
	 * seals a's stored reply with the key in hand. When the keystore's
	 * active master key changed in between (a rotation), the write seals
	 * again, so that no new key stays wrapped under the old master key.
	 * contact_sealed_free wipes and frees *out (NULL accepted). A store may
	 * leave all three NULL: the domain then calls app_insert. */
	ob_err (*contact_seal)(ob_store *s, const ob_application *a, ob_sealed_contact **out);
	void (*contact_sealed_free)(ob_sealed_contact *sc);
	ob_err (*app_insert_sealed)(ob_txn *t, ob_application *a, const ob_sealed_contact *sc);
	/* Writes state, version, timestamps, rejection and benefits. */
	ob_err (*app_update)(ob_txn *t, const ob_application *a);
	/* Reads one application (without history). owner NULL: whoever
	 * submitted it; otherwise an application submitted by someone else is
	 * OB_ENOTFOUND, as one that does not exist, and is not read (nor its
	 * contact decrypted): ownership is part of the lookup. */
	ob_err (*app_get)(ob_txn *t, const char *id, const char *owner, ob_application *out);
	/* The cohort's live application of this SIREN, else its latest one. */
	ob_err (*app_get_by_siren)(ob_txn *t, const char *cohort, const char *siren,
	                           const char *owner, ob_application *out);
	/* The benefits granted to every application of this SIREN, in any
	 * cohort and any state, in seq order; *out malloc'd (free()), NULL and
	 * *n 0 when none was granted any. Reads no personal data. */
	ob_err (*benefits_of_siren)(ob_txn *t, const char *siren, ob_granted **out, size_t *n);
	/* The waitlisted application of the cohort submitted first. */
	ob_err (*app_first_waitlisted)(ob_txn *t, const char *cohort, ob_application *out);
	/* 1-based position of a WAITLISTED application in its cohort's line,
	 * in O(log n) whatever the length of the line. */
	ob_err (*app_waitlist_position)(ob_txn *t, const ob_application *a, uint32_t *out);
	/* Records that the holder of ticket left the waitlist other than by
	 * promotion (promotion always takes the head). */
	ob_err (*waitlist_leave)(ob_txn *t, const char *cohort, int64_t ticket);
	/* Up to limit applications matching f with seq > after_seq, in seq
	 * order; *out is malloc'd (free(); no history). */
	ob_err (*app_list)(ob_txn *t, const ob_app_filter *f, int64_t after_seq, size_t limit,
	                   ob_application **out, size_t *n);

	/* c->note is sealed under the application's data key. */
	ob_err (*history_append)(ob_txn *t, int64_t app_seq, const ob_state_change *c);
	/* All changes, oldest first, into a->history (malloc'd), notes
	 * decrypted; a note that fails its check reads "[unreadable]" (logged by
	 * seq and row), so that the application still reads. */
	ob_err (*history_load)(ob_txn *t, ob_application *a);

	/* ---- advisors (issue 10; domain/advisor.c) ----
	 *
	 * A cohort's advisors are people (ob_advisor), numbered from 1 in the
	 * cohort; the number is what Benefits.advisor keeps, so it is never
	 * reused. Each advisor's load is a count the domain moves in the same
	 * write as the assignment, so that, writes being serialised, it is the
	 * number of companies assigned and never passes the capacity. */

	/* Creates placeholder advisors 1..pool ("Advisor N", region "any",
	 * languages "fr", capacity OB_MAX_ADVISOR_CAPACITY, active) for a new
	 * cohort, with no load. */
	ob_err (*advisors_create)(ob_txn *t, const char *cohort, uint32_t pool);
	/* Inserts a (its cohort_id, name, region, languages, capacity, active;
	 * load 0) under the cohort's next number, which it sets in a->number. */
	ob_err (*advisor_insert)(ob_txn *t, ob_advisor *a);
	/* One advisor; OB_ENOTFOUND when the cohort has no such number. */
	ob_err (*advisor_get)(ob_txn *t, const char *cohort, uint32_t number, ob_advisor *out);
	/* Writes a's capacity and active flag (name, region, languages and load
	 * stay). */
	ob_err (*advisor_update)(ob_txn *t, const ob_advisor *a);
	/* The cohort's advisors in number order; *out malloc'd (free()), NULL
	 * and *n 0 when none. */
	ob_err (*advisor_list)(ob_txn *t, const char *cohort, ob_advisor **out, size_t *n);
	/* The active advisor with load below capacity who speaks language, of
	 * region (NULL: of any region, "any" included), with the lowest load,
	 * the lowest number among equals, other than except (0: none);
	 * OB_ENOTFOUND when there is none. */
	ob_err (*advisor_pick)(ob_txn *t, const char *cohort, const char *region,
	                       const char *language, uint32_t except, uint32_t *advisor);
	ob_err (*advisor_add)(ob_txn *t, const char *cohort, uint32_t advisor, int delta);

	/* ---- webinar sessions and bookings (issue 10; domain/webinar.c) ----
	 *
	 * A session is (cohort, start, topic); the store keeps how many seats
	 * each has booked, which the domain moves in the same write as the
	 * booking itself, so that the count is the number of bookings and,
	 * writes being serialised, never passes the cohort's webinar_seats. */

	/* The seats booked in a session; 0 for a session nobody booked. */
	ob_err (*webinar_booked)(ob_txn *t, const char *cohort, int64_t session_ms, ob_topic topic,
	                         uint32_t *booked);
	ob_err (*webinar_add)(ob_txn *t, const char *cohort, int64_t session_ms, ob_topic topic,
	                      int delta);
	/* The booking of application app_seq; OB_ENOTFOUND when it holds none. */
	ob_err (*booking_get)(ob_txn *t, int64_t app_seq, ob_booking *out);
	/* Inserts or replaces the booking of application app_seq (of cohort). */
	ob_err (*booking_put)(ob_txn *t, int64_t app_seq, const char *cohort, const ob_booking *b);
	/* Deletes the booking of app_seq; OB_OK when there was none. */
	ob_err (*booking_delete)(ob_txn *t, int64_t app_seq);

	/* Idempotency records: the hash of the request and the reply bytes.
	 * idem_get: OB_ENOTFOUND when the key is unknown (or the application
	 * it was about has been erased since); OB_ECORRUPT when a sealed reply
	 * fails its check; *reply malloc'd. */
	ob_err (*idem_get)(ob_txn *t, const char *key, uint8_t hash[32], uint8_t **reply,
	                   size_t *reply_len);
	/* The reply of a change to application a (already inserted: a->seq set)
	 * is sealed under a's data key, since it shows a's contact, and goes
	 * with a's erasure; a NULL: the reply holds no personal data. */
	ob_err (*idem_put)(ob_txn *t, const char *key, const uint8_t hash[32], const uint8_t *reply,
	                   size_t reply_len, int64_t now_ms, const ob_application *a);
	/* Forgets records older than before_ms, at most limit of them. */
	ob_err (*idem_purge)(ob_txn *t, int64_t before_ms, unsigned limit);

	/* ---- personal data ---- */

	/* Crypto-shredding of an application's contact: the wrapped data key,
	 * the three ciphertexts and the blind index become NULL, erased_at and
	 * erased_by are set, the history's notes are deleted (they then read
	 * "[erased]", as does a note appended later), and the idempotency
	 * replies of the application (which show the contact) are deleted. The application row, its
	 * history and the counters stay. OB_ENOTFOUND when there is no such
	 * contact, OB_EPRECOND when it is already erased (nothing changes). */
	ob_err (*contact_erase)(ob_txn *t, int64_t app_seq, const char *actor, int64_t now_ms);
	/* Every application whose contact e-mail has this blind index (see
	 * email_index), in seq order; *out malloc'd (free(); no history). */
	ob_err (*apps_by_email)(ob_txn *t, const uint8_t index[OB_STORE_INDEX_LEN],
	                        ob_application **out, size_t *n);
	/* Re-wraps under the store's active master key, in seq order after
	 * after_seq, up to limit data keys wrapped under any other key.
	 * *rewrapped gets how many were, *failed how many could not be
	 * unwrapped (their master key is missing or the row is damaged: logged
	 * with their seq, left as they are), *last_seq the seq of the last one
	 * looked at (after_seq when none is left). Run it in a write
	 * transaction, again from *last_seq until *last_seq == after_seq. */
	ob_err (*rewrap_batch)(ob_txn *t, int64_t after_seq, size_t limit, size_t *rewrapped,
	                       size_t *failed, int64_t *last_seq);
	/* Appends e to the audit trail (e->seq ignored: the store numbers events). */
	ob_err (*audit_append)(ob_txn *t, const ob_audit_event *e);
	/* Up to limit events with seq > after_seq, oldest first; *out malloc'd (free()). */
	ob_err (*audit_list)(ob_txn *t, int64_t after_seq, size_t limit, ob_audit_event **out,
	                     size_t *n);

	/* Store-wide, outside any transaction. */

	/* Copies everything written so far into the database file and empties
	 * the write-ahead log, so that erased bytes do not linger in it (with
	 * secure_delete, freed space in the file is zeroed). Waits for the
	 * writes in progress and for readers, up to a few seconds; OB_EUNAVAIL
	 * if readers kept it from finishing (the erasure itself stands). Must
	 * not be called from inside a write. */
	ob_err (*checkpoint)(ob_store *s);
	/* Writes something that changes nothing, so that its transaction's
	 * commit goes to the disk as a real write does (a page of the WAL and
	 * its sync): how the domain learns that writes work again after a
	 * fault (ob_domain_store_health). NULL in a store without it, whose
	 * probe is then an empty transaction. In a write transaction. */
	ob_err (*touch)(ob_txn *t);
	/* Whether the database can be reached now: the file at the store's
	 * path is still the one it opened (not deleted, moved away or
	 * replaced), and a new connection opens it and reads its header
	 * through the write-ahead log. OB_OK, or OB_EUNAVAIL / OB_EIO /
	 * OB_ECORRUPT. For health checks: about a hundred microseconds, waits
	 * for no write and at most a second for a lock; any thread. */
	ob_err (*ping)(ob_store *s);
	/* Group commit's figures so far (ob_store_stats); NULL in a store
	 * without them, which then reports zeros. Cheap, any thread. */
	void (*stats)(ob_store *s, ob_store_stats *out);
	/* The blind index of an e-mail under the current vault. */
	void (*email_index)(ob_store *s, const char *email, uint8_t out[OB_STORE_INDEX_LEN]);
	/* Writes a consistent copy of the whole store into a new file at path
	 * (absolute; the domain checks its shape), from one read snapshot
	 * while writes go on: every write committed before the call is in it.
	 * Sealed data is copied sealed, as it is. The copy is built as
	 * path.partial and linked to path once complete and synced, so that
	 * path never holds half a copy and is never overwritten. Returns
	 * OB_OK; OB_EEXIST when path (or path.partial) exists; OB_ENOTFOUND
	 * when its directory does not; OB_EPERM when the directory cannot be
	 * written, or could be by someone other than this process's user or
	 * root (it must not be group- or world-writable unless sticky);
	 * OB_EIO and the like when copying fails (nothing is left behind);
	 * OB_ENOTSUP from a store that writes no backup file (PostgreSQL's:
	 * its own tools back it up), which the domain answers
	 * FAILED_PRECONDITION. Blocks for as long as the copy takes; any
	 * thread, outside any transaction. */
	ob_err (*backup)(ob_store *s, const char *path, ob_store_backup *out);
} ob_store_ops;

/* Every store and transaction starts with its ops, so that the generic
 * wrappers below can reach them. */
struct ob_store {
	const ob_store_ops *ops;
};
struct ob_txn {
	const ob_store_ops *ops;
};

static inline void ob_store_destroy(ob_store *s)
{
	if (s != NULL)
		s->ops->destroy(s);
}

#endif
