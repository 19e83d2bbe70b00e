/*
 * store.h: the persistence interface the domain calls.
 *
 * A store hands out transactions; every operation runs inside one. Writes
 * run one at a time per store (the domain's invariants on seats rely on it)
 * and are acknowledged only once durable; write() batches concurrent ones
 * into one commit. Read transactions see a consistent snapshot and never wait for a
 * writer. The interface is a table of functions so that a PostgreSQL backend
 * can be added beside store/sqlite.c without touching the domain.
 *
 * Errors: OB_ENOTFOUND when a looked-up row does not exist, OB_EEXIST on a
 * uniqueness conflict, OB_EIO/OB_ECORRUPT/OB_EUNAVAIL from the database.
 *
 * Threading: a store may be used from many threads; a transaction belongs to
 * the thread that began it until commit or rollback. Calls block on disk.
 */
#ifndef OB_STORE_STORE_H
#define OB_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "domain/model.h"

typedef struct ob_store ob_store;
typedef struct ob_txn ob_txn;

/* Filters of ListApplications; zero values mean "any". */
typedef struct ob_app_filter {
	const char *cohort_id;
	uint32_t states; /* bit (1 << ob_state) */
	ob_size_category size;
	const char *departement;
	const char *region;
	ob_channel channel;
	int64_t submitted_from_ms; /* inclusive */
	int64_t submitted_to_ms;   /* exclusive; 0 = none */
} ob_app_filter;

enum { OB_MAX_COUNTER_BATCH = 16 };

typedef struct ob_counter {
	char key[96];
	int64_t count;
} ob_counter;

typedef struct ob_store_ops {
	const char *name;
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

	/* Inserts a (with its contact) and sets a->seq. OB_EEXIST when the
	 * cohort already has this SIREN. */
	ob_err (*app_insert)(ob_txn *t, ob_application *a);
	/* Writes state, version, timestamps, rejection and benefits. */
	ob_err (*app_update)(ob_txn *t, const ob_application *a);
	/* Reads one application (without history). */
	ob_err (*app_get)(ob_txn *t, const char *id, ob_application *out);
	ob_err (*app_get_by_siren)(ob_txn *t, const char *cohort, const char *siren,
	                           ob_application *out);
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

	ob_err (*history_append)(ob_txn *t, int64_t app_seq, const ob_state_change *c);
	/* All changes, oldest first, into a->history (malloc'd). */
	ob_err (*history_load)(ob_txn *t, ob_application *a);

	ob_err (*webinar_booked)(ob_txn *t, const char *cohort, int64_t session_ms,
	                         uint32_t *booked);
	ob_err (*webinar_add)(ob_txn *t, const char *cohort, int64_t session_ms, int delta);
	/* Creates advisors 1..pool for a cohort, with no load. */
	ob_err (*advisors_create)(ob_txn *t, const char *cohort, uint32_t pool);
	/* The least loaded advisor, the lowest number among equals. */
	ob_err (*advisor_pick)(ob_txn *t, const char *cohort, uint32_t *advisor);
	ob_err (*advisor_add)(ob_txn *t, const char *cohort, uint32_t advisor, int delta);

	/* Idempotency records: the hash of the request and the reply bytes.
	 * idem_get: OB_ENOTFOUND when the key is unknown; *reply malloc'd. */
	ob_err (*idem_get)(ob_txn *t, const char *key, uint8_t hash[32], uint8_t **reply,
	                   size_t *reply_len);
	ob_err (*idem_put)(ob_txn *t, const char *key, const uint8_t hash[32],
	                   const uint8_t *reply, size_t reply_len, int64_t now_ms);
	/* Forgets records older than before_ms, at most limit of them. */
	ob_err (*idem_purge)(ob_txn *t, int64_t before_ms, unsigned limit);
} ob_store_ops;

/* Every store and transaction starts with its ops, so that the generic
 * wrappers below can reach them. */
struct ob_store {
	const ob_store_ops *ops;
};
struct ob_txn {
	const ob_store_ops *ops;
};

/* Opens (creating if needed) the SQLite store at path, applying migrations.
 * WAL mode, synchronous=FULL: a committed write survives power loss. */
OB_NODISCARD ob_err ob_store_open_sqlite(ob_store **out, const char *path);

/* The most writes one commit may carry (default 64); 1 turns group commit
 * off, for comparison. Call before the store is used. */
void ob_store_sqlite_set_max_batch(ob_store *s, unsigned n);

static inline void ob_store_destroy(ob_store *s)
{
	if (s != NULL)
		s->ops->destroy(s);
}

#endif
