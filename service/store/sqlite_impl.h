/*
 * sqlite_impl.h: what the files of the SQLite store share; not an interface.
 *
 * The store is one adapter of the domain's port (domain/store.h) split along
 * its seams, each file the functions of one part of the ops table:
 *
 *   sqlite.c           connections, prepared statements, transactions, the
 *                      writer thread and group commit, migrations, the
 *                      store-wide calls (checkpoint, ping, vault swap) and
 *                      the ops table itself
 *   sqlite_rows.c      the helpers every file uses to step statements and
 *                      read rows (one row, one number, a list)
 *   sqlite_apps.c      applications and the waitlist
 *   sqlite_contacts.c  personal data: sealing contacts, data keys, erasure,
 *                      lookup by e-mail, re-wrapping under a new master key
 *   sqlite_history.c   the history of changes and its sealed notes, and the
 *                      migration that sealed the notes of schema 1
 *   sqlite_cohorts.c   cohorts and their counters
 *   sqlite_advisors.c  a cohort's advisors and their load
 *   sqlite_programme.c webinar sessions (seats booked) and bookings
 *   sqlite_idem.c      idempotency records
 *   sqlite_audit.c     the audit trail
 *   sqlite_backup.c    the online backup: a consistent copy while serving
 *   sqlite_mem.c       SQLite's allocator: small blocks kept per thread
 *
 * Rows are read and bound from column lists (X-macros below): each list
 * gives, in one place, the SQL column, how it is read and bound, and the
 * field of the model it maps to; the statements, the column positions and
 * the code that reads and binds them are generated from it, so that no
 * position is numbered by hand and a column added to a list goes everywhere
 * at once.
 */
#ifndef OB_STORE_SQLITE_IMPL_H
#define OB_STORE_SQLITE_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include <sqlite3.h>

#include "base/err.h"
#include "crypto/keystore.h"
#include "crypto/vault.h"
#include "domain/store.h"

#include "store/batch.h"
#include "store/columns.h"
#include "store/seal.h"
#include "store/sqlite_base.h"

/* Reading a column into o->field, and binding o->field to a parameter. */
#define READ_TEXT(s, i, o, f)       sq_col_text((s), (i), (o)->f, sizeof((o)->f))
#define READ_I64(s, i, o, f)        ((o)->f = sqlite3_column_int64((s), (i)))
#define READ_U32(s, i, o, f)        ((o)->f = (uint32_t)sqlite3_column_int64((s), (i)))
#define READ_U64(s, i, o, f)        ((o)->f = (uint64_t)sqlite3_column_int64((s), (i)))
#define READ_BOOL(s, i, o, f)       ((o)->f = sqlite3_column_int((s), (i)) != 0)
#define READ_ENUM(s, i, o, f)       ((o)->f = sqlite3_column_int((s), (i)))
#define READ_CATEGORIES(s, i, o, f) store_categories_split(sq_col_cstr((s), (i)), (o))
#define READ_DIVISIONS(s, i, o, f)  store_divisions_parse(sq_col_cstr((s), (i)), &(o)->f)
#define BIND_TEXT(s, i, o, f)       sq_bind_text((s), (i), (o)->f)
#define BIND_I64(s, i, o, f)        sqlite3_bind_int64((s), (i), (o)->f)
#define BIND_U32(s, i, o, f)        sqlite3_bind_int64((s), (i), (o)->f)
#define BIND_U64(s, i, o, f)        sqlite3_bind_int64((s), (i), (sqlite3_int64)(o)->f)
#define BIND_BOOL(s, i, o, f)       sqlite3_bind_int((s), (i), (o)->f)
#define BIND_ENUM(s, i, o, f)       sqlite3_bind_int((s), (i), (int)(o)->f)
#define BIND_CATEGORIES(s, i, o, f) sq_bind_categories((s), (i), (o))
#define BIND_DIVISIONS(s, i, o, f)  sq_bind_divisions((s), (i), &(o)->f)

/* clang-format off */

/* ---- statements ---------------------------------------------------------- */

/* Every statement, prepared once per connection on first use (sq_stmt), by
 * the file that runs it. The hand-written ones number their parameters,
 * which the code that binds them names. */

#define STATEMENTS(X)                                                                          \
	/* sqlite.c */                                                                         \
	X(BEGIN_READ, "BEGIN")                                                                 \
	X(BEGIN_WRITE, "BEGIN IMMEDIATE")                                                      \
	X(COMMIT, "COMMIT")                                                                    \
	X(ROLLBACK, "ROLLBACK")                                                                \
	X(SAVEPOINT, "SAVEPOINT w")                                                            \
	X(RELEASE, "RELEASE w")                                                                \
	X(ROLLBACK_TO, "ROLLBACK TO w")                                                        \
	/* sqlite_cohorts.c */                                                                 \
	X(COHORT_GET, COHORT_SELECT "WHERE id = ?1")                                           \
	X(COHORT_LIST, COHORT_SELECT "ORDER BY id LIMIT ?1")                                   \
	X(COHORT_INSERT, COHORT_INSERT_SQL)                                                    \
	X(COHORT_SET_CAPACITY, "UPDATE cohort SET capacity = ?2 WHERE id = ?1")                \
	X(COUNTER_ADD, "INSERT INTO counter VALUES (?1, ?2, ?3) ON CONFLICT (cohort_id, key) " \
	               "DO UPDATE SET count = count + excluded.count")                         \
	X(COUNTER_GET, "SELECT count FROM counter WHERE cohort_id = ?1 AND key = ?2")          \
	X(COUNTER_LIST, "SELECT key, count FROM counter WHERE cohort_id = ?1 AND "             \
	                "substr(key, 1, length(?2)) = ?2 AND count != 0 ORDER BY key")         \
	/* sqlite_advisors.c */                                                                \
	X(ADVISOR_CREATE, "INSERT OR IGNORE INTO advisor VALUES (?1, ?2, 'Advisor ' || ?2, "   \
	                  "'any', 'fr', ?3, 1, 0)")                                            \
	X(ADVISOR_INSERT, "INSERT INTO advisor SELECT ?1, coalesce(max(advisor), 0) + 1, ?2, " \
	                  "?3, ?4, ?5, ?6, 0 FROM advisor WHERE cohort_id = ?1 "               \
	                  "RETURNING advisor")                                                 \
	X(ADVISOR_GET, "SELECT " ADVISOR_COLS " FROM advisor WHERE cohort_id = ?1 AND "        \
	               "advisor = ?2")                                                         \
	X(ADVISOR_UPDATE, "UPDATE advisor SET capacity = ?3, active = ?4 WHERE cohort_id = ?1 " \
	                  "AND advisor = ?2")                                                  \
	X(ADVISOR_LIST, "SELECT " ADVISOR_COLS " FROM advisor WHERE cohort_id = ?1 "           \
	                "ORDER BY advisor")                                                    \
	X(ADVISOR_PICK, "SELECT advisor FROM advisor WHERE cohort_id = ?1 AND active != 0 "    \
	                "AND load < capacity AND (?2 IS NULL OR region = ?2) AND "             \
	                "instr(',' || languages || ',', ',' || ?3 || ',') > 0 AND "            \
	                "advisor != ?4 ORDER BY load, advisor LIMIT 1")                        \
	X(ADVISOR_ADD, "UPDATE advisor SET load = load + ?3 WHERE cohort_id = ?1 AND "         \
	               "advisor = ?2")                                                         \
	/* sqlite_programme.c */                                                               \
	X(WEBINAR_BOOKED, "SELECT booked FROM webinar_session WHERE cohort_id = ?1 AND "       \
	                  "session_at = ?2 AND topic = ?3")                                    \
	X(WEBINAR_ADD, "INSERT INTO webinar_session VALUES (?1, ?2, ?3, ?4) ON CONFLICT "      \
	               "(cohort_id, session_at, topic) DO UPDATE SET "                         \
	               "booked = booked + excluded.booked")                                    \
	X(BOOKING_GET, "SELECT session_at, topic, booked_at, attended, attended_at "           \
	               "FROM webinar_booking WHERE app_seq = ?1")                              \
	X(BOOKING_PUT, "INSERT OR REPLACE INTO webinar_booking VALUES (?1, ?2, ?3, ?4, ?5, "   \
	               "?6, ?7)")                                                              \
	X(BOOKING_DELETE, "DELETE FROM webinar_booking WHERE app_seq = ?1")                    \
	/* sqlite_apps.c */                                                                    \
	X(APP_INSERT, APP_INSERT_SQL)                                                          \
	X(APP_UPDATE, APP_UPDATE_SQL)                                                          \
	X(APP_GET, APP_SELECT "WHERE a.id = ?1 AND (?2 IS NULL OR a.submitted_by = ?2)")       \
	X(APP_GET_SIREN, APP_SELECT "WHERE a.cohort_id = ?1 AND a.siren = ?2 AND "             \
	                            "(?3 IS NULL OR a.submitted_by = ?3) "                     \
	                            "ORDER BY a.state IN (7, 8), a.seq DESC LIMIT 1")          \
	X(BENEFITS_OF_SIREN, "SELECT seq, cohort_id"                                           \
	                     APP_BENEFITS(SQL_COL_NEXT, SQL_COL_NEXT)                          \
	                     " FROM application WHERE siren = ?1 AND benefits_granted != 0 "   \
	                     "ORDER BY seq")                                                   \
	X(APP_FIRST_WAITLISTED, APP_SELECT "WHERE a.cohort_id = ?1 AND a.state = ?2 "          \
	                                   "ORDER BY a.seq LIMIT 1")                           \
	X(WAITLIST_POSITION, WAITLIST_POSITION_SQL)                                            \
	X(WAITLIST_LEAVE, "INSERT OR IGNORE INTO waitlist_left VALUES (?1, ?2)")               \
	/* sqlite_contacts.c */                                                                \
	X(CONTACT_INSERT, "INSERT INTO contact (app_seq, dk_kid, dk_wrapped, name, email, "    \
	                  "phone, email_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")           \
	X(CONTACT_ERASED_AT, "SELECT erased_at FROM contact WHERE app_seq = ?1")               \
	X(CONTACT_ERASE, "UPDATE contact SET dk_kid = NULL, dk_wrapped = NULL, name = NULL, "  \
	                 "email = NULL, phone = NULL, email_index = NULL, erased_at = ?2, "    \
	                 "erased_by = ?3 WHERE app_seq = ?1 AND erased_at = 0")                \
	X(CONTACT_KEY, "SELECT c.dk_kid, c.dk_wrapped, a.id FROM contact c JOIN "              \
	               "application a ON a.seq = c.app_seq WHERE c.app_seq = ?1")              \
	X(APPS_BY_EMAIL, APP_SELECT "WHERE c.email_index = ?1 ORDER BY a.seq")                 \
	X(REWRAP_SCAN, "SELECT app_seq, dk_kid, dk_wrapped FROM contact WHERE app_seq > ?1 "   \
	               "AND dk_kid IS NOT NULL AND dk_kid != ?2 ORDER BY app_seq LIMIT ?3")    \
	X(REWRAP_UPDATE, "UPDATE contact SET dk_kid = ?2, dk_wrapped = ?3 WHERE app_seq = ?1") \
	/* sqlite_history.c */                                                                 \
	X(HISTORY_APPEND, HISTORY_APPEND_SQL)                                                  \
	X(HISTORY_COUNT, "SELECT count(*) FROM history WHERE app_seq = ?1")                    \
	X(HISTORY_LOAD, HISTORY_LOAD_SQL)                                                      \
	X(HISTORY_ERASE_NOTES, "UPDATE history SET note = X'' WHERE app_seq = ?1 AND "         \
	                       "note IS NOT NULL")                                             \
	X(LEGACY_NOTES, "SELECT app_seq, n, reason FROM history WHERE (app_seq, n) > "         \
	                "(?1, ?2) AND note IS NULL AND instr(reason, ': ') > 0 "               \
	                "ORDER BY app_seq, n LIMIT ?3")                                        \
	X(HISTORY_SET_NOTE, "UPDATE history SET reason = ?3, note = ?4 WHERE app_seq = ?1 "    \
	                    "AND n = ?2")                                                      \
	/* sqlite_idem.c */                                                                    \
	X(IDEM_GET, "SELECT i.request_hash, i.reply, i.app_seq, a.id, c.dk_kid, "              \
	            "c.dk_wrapped FROM idempotency i "                                         \
	            "LEFT JOIN application a ON a.seq = i.app_seq "                            \
	            "LEFT JOIN contact c ON c.app_seq = i.app_seq WHERE i.key = ?1")           \
	X(IDEM_PUT, "INSERT INTO idempotency (key, request_hash, app_seq, reply, created_at) " \
	            "VALUES (?1, ?2, ?3, ?4, ?5)")                                             \
	X(IDEM_FORGET_APP, "DELETE FROM idempotency WHERE app_seq = ?1 AND app_seq != 0")      \
	X(IDEM_PURGE, "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency "     \
	              "WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)")                   \
	/* sqlite_audit.c */                                                                   \
	X(AUDIT_APPEND, AUDIT_APPEND_SQL)                                                      \
	X(AUDIT_LIST, AUDIT_LIST_SQL)

#define ST_ENUM(name, sql) ST_##name,
enum {
	STATEMENTS(ST_ENUM)
	ST_COUNT
};
/* clang-format on */

/* ---- connections, the store, transactions ------------------------------ */

typedef struct sq_conn {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	sqlite3_stmt *counters[OB_MAX_COUNTER_BATCH + 1]; /* multi-row upserts by row count */
	struct sq_conn *next_free;
} sq_conn;

/* ---- counters in memory for a batch (sqlite_deltas.c) ------------------- */

struct sq_txn;

enum {
	SQ_DELTAS_CAP = 1024,    /* slots; at most half are used before writes go to rows */
	SQ_DELTAS_TOUCHED = 256, /* counters one write may move in memory */
};

typedef struct sq_delta {
	bool used, touched;
	uint64_t hash;
	int64_t batch; /* the writes of the batch that succeeded */
	int64_t write; /* the write under way */
	char cohort[OB_COHORT_ID_MAX + 1];
	char key[96];
} sq_delta;

typedef struct sq_deltas {
	sq_delta slots[SQ_DELTAS_CAP];
	uint16_t used[SQ_DELTAS_CAP / 2]; /* slot numbers, in order of first use */
	size_t n_used;
	uint16_t touched[SQ_DELTAS_TOUCHED]; /* slots the write under way moved */
	size_t n_touched;
} sq_deltas;

/* Adds delta to (cohort, key) for the write under way. false when the table
 * cannot take it (full, or the key too long): the caller writes the row. */
bool sq_deltas_add(sq_deltas *d, const char *cohort, const char *key, int64_t delta);
/* What the batch and the write under way add to (cohort, key). */
int64_t sq_deltas_get(const sq_deltas *d, const char *cohort, const char *key);
/* The write under way ended: its deltas join the batch's (keep) or go. */
void sq_deltas_end_write(sq_deltas *d, bool keep);
/* Adds the deltas of cohort's counters under prefix to the *n rows of
 * *list (malloc'd) that have them, and appends those it lacks after them
 * (*list grown with realloc, *n counting them), in one walk of the table.
 * OB_ENOMEM leaves *list and *n consistent, for the caller to free. */
ob_err sq_deltas_merge(const sq_deltas *d, const char *cohort, const char *prefix,
                       ob_counter **list, size_t *n);
/* Writes the batch's deltas as rows (in t's transaction) and empties d. */
ob_err sq_deltas_flush(struct sq_txn *t, sq_deltas *d);
/* Empties d without writing (the batch failed). */
void sq_deltas_clear(sq_deltas *d);

typedef struct sq_store {
	ob_store base;
	char *path;
	dev_t dev; /* the file opened at path, for ping: a file put in its place is not it */
	ino_t ino;
	pthread_mutex_t write_mu; /* held from begin(write) to commit/rollback */
	sq_conn writer;
	pthread_mutex_t pool_mu;
	sq_conn *free_readers; /* at most one per thread that ever read */

	batch_queue queue; /* group commit: the writer thread and its figures (batch.h) */

	/* The master keys: borrowed (ob_store_open_sqlite_keystore), or owned
	 * (the throwaway of ob_store_open_sqlite, destroyed with the store).
	 * Every call into a vault holds a lease on it (crypto/keystore.h). */
	ob_keystore *keys;
	ob_keystore *owned_keys;

	int lock_fd;       /* the flock on PATH.lock held while open (sqlite_lock.c); -1: none */
	sq_deltas *deltas; /* the writer's, for its batches */
	/* Batches run again with a savepoint per write (run_batch), under
	 * write_mu; logged when the store closes. */
	uint64_t careful_batches;
} sq_store;

typedef struct sq_txn {
	ob_txn base;
	sq_store *store;
	sq_conn *c;
	bool write;
	/* The batch's counters in memory (sqlite_deltas.c) while the writer
	 * runs a batch; NULL otherwise: counters are then rows at once. */
	struct sq_deltas *deltas;
	/* The data key of the application this write sealed or opened last
	 * (seal.h). */
	seal_key_cache key;
} sq_txn;

/* The ob_txn of the store's ops as an sq_txn. */
static inline sq_txn *sq_txn_of(ob_txn *t)
{
	return (sq_txn *)t;
}

/* ---- statements and rows (sqlite.c, sqlite_rows.c) ---------------------- */

/* Logs the failure of what (a statement's name: never a bound value) and
 * translates rc. */
ob_err sq_fail(sq_conn *c, int rc, const char *what);
/* The prepared statement which of c, prepared on first use; NULL (logged)
 * when it cannot be. */
sqlite3_stmt *sq_stmt(sq_conn *c, int which);

/* Declares s, the prepared statement `which` of t's connection, or returns
 * OB_EIO from the calling function. */
#define PREP(t, which)                                                                             \
	sqlite3_stmt *s = sq_stmt((t)->c, (which));                                                \
	if (s == NULL)                                                                             \
		return OB_EIO;

/* Steps s, which returns no row, and resets it. */
ob_err sq_step_done(sq_conn *c, sqlite3_stmt *s, const char *what);
/* Runs statement which of c, which returns no row. */
ob_err sq_run(sq_conn *c, int which, const char *what);
/* Steps s once: OB_OK with a row to read, after which the caller resets s;
 * otherwise s is reset and the result is OB_ENOTFOUND (no row) or the
 * error. */
ob_err sq_step_row(sq_conn *c, sqlite3_stmt *s, const char *what);
/* The first column of the first row of s into *out, and resets s: OB_OK,
 * OB_ENOTFOUND with *out 0 when there is no row, or the error. */
ob_err sq_step_int64(sq_conn *c, sqlite3_stmt *s, int64_t *out, const char *what);

/* Reads the current row of s into item (zeroed first); ctx as given. */
typedef void (*sq_row_fn)(sq_txn *t, sqlite3_stmt *s, void *item, void *ctx);
/* Steps s to its end and reads each row into a new item_size-byte item of
 * *out, at most limit of them (0: no limit). *out is malloc'd (free()), NULL
 * when no row came; *n the number of items. On an error *out is NULL and *n
 * 0. Resets s. Rows may hold personal data in clear: what it frees on the
 * way (when the list grows, or on an error) it wipes first. */
ob_err sq_collect(sq_txn *t, sqlite3_stmt *s, size_t limit, size_t item_size, sq_row_fn read,
                  void *ctx, void **out, size_t *n, const char *what);

/* Binds text, transient (copied): SQLite's copy outlives the buffer. */
void sq_bind_text(sqlite3_stmt *s, int i, const char *v);
/* The same, or NULL for a NULL pointer. */
void sq_bind_text_or_null(sqlite3_stmt *s, int i, const char *v);
/* Column i as text into out (n bytes, NUL-terminated), cut between UTF-8
 * characters if it is too long (a row changed by hand). */
void sq_col_text(sqlite3_stmt *s, int i, char *out, size_t n);
/* Column i as SQLite holds it, NULL for NULL (valid until the next step or
 * reset), as pg_get_cstr is for the PostgreSQL store. */
static inline const char *sq_col_cstr(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* ---- the parts of the ops table ------------------------------------------ */

/* The operations on a transaction, as sq_NAME: sqlite_cohorts.c (cohorts,
 * counters), sqlite_advisors.c, sqlite_programme.c (webinar sessions and
 * bookings), sqlite_apps.c, sqlite_history.c, sqlite_contacts.c (erasure,
 * lookup by e-mail, re-wrapping), sqlite_idem.c, sqlite_audit.c. */
#define STORE_FN(name) sq_##name
#include "store/txn_ops.h"
#undef STORE_FN

/* sqlite_cohorts.c */
/* The rows of n counters, now, in one statement (n <= OB_MAX_COUNTER_BATCH). */
ob_err sq_counters_write(sq_txn *t, const char *cohort, const ob_counter *d, size_t n);

/* sqlite_apps.c */
/* The same as sq_app_insert, with the contact sealed ahead (the port's
 * app_insert_sealed). */
ob_err sq_app_insert_sealed(ob_txn *t, ob_application *a, const ob_sealed_contact *sc);
/* An application row of APP_SELECT into a, its contact decrypted (or marked
 * erased or unreadable). A sq_row_fn; ctx unused. */
void sq_read_app(sq_txn *t, sqlite3_stmt *s, void *a, void *ctx);
/* The categories of a, joined by newlines (store_categories_join), as
 * parameter i; READ_CATEGORIES reads them back. */
void sq_bind_categories(sqlite3_stmt *s, int i, const ob_application *a);
/* A set of NAF divisions as parameter i ("84,99"); READ_DIVISIONS reads it. */
void sq_bind_divisions(sqlite3_stmt *s, int i, const ob_naf_divisions *in);

/* sqlite_contacts.c */
/* a's contact, sealed ahead (NULL, or sealed under a master key no longer
 * active: sealed now). Keeps its data key for the write. */
ob_err sq_contact_insert(sq_txn *t, const ob_application *a, const ob_sealed_contact *ahead);
ob_err sq_contact_seal(ob_store *s, const ob_application *a, ob_sealed_contact **out);
void sq_contact_sealed_free(ob_sealed_contact *sc);
void sq_email_index(ob_store *s, const char *email, uint8_t out[OB_STORE_INDEX_LEN]);
/* The contact columns of an APP_SELECT row into a->contact: decrypted,
 * erased, or marked unreadable (logged with the seq, never a value). */
void sq_read_contact(sq_store *st, sqlite3_stmt *s, ob_application *a);
/* Unwraps a stored data key with the store's vault. OB_ENOTFOUND: the vault
 * has no master key kid (callers report it as OB_ECORRUPT: for this row, as
 * bad as damage); OB_ECORRUPT for a missing or damaged key. */
ob_err sq_unwrap(sq_store *st, const char *kid, const void *wrapped, int len,
                 uint8_t dk[OB_VAULT_KEY_LEN]);
/* Looks up and unwraps the data key of application seq into dk, its id into
 * id, the id of its master key (fit for the log) into kid; *state says what
 * came of it. Returns the database's error, if any; the caller wipes dk. */
ob_err sq_data_key(sq_txn *t, int64_t seq, uint8_t dk[OB_VAULT_KEY_LEN], char id[OB_ID_LEN + 1],
                   seal_key_state *state, char kid[OB_VAULT_KID_SIZE]);
/* The same, for sealing what else shows a contact: OB_OK with the key in dk,
 * OB_ENOTFOUND when the contact is erased (or missing), OB_ECORRUPT when the
 * key cannot be unwrapped (damaged, or its master key is missing). The key in
 * hand (t->key) when it is seq's, else read, unwrapped and kept there. */
ob_err sq_app_data_key(ob_txn *t, int64_t seq, uint8_t dk[OB_VAULT_KEY_LEN],
                       char id[OB_ID_LEN + 1]);
/* A key id read from a row, fit for the log: a damaged row could hold anything. */
const char *sq_loggable_kid(const char *kid);

/* sqlite_history.c */
/* Migration 2's step (see sqlite_history.c): *moved gets the number of
 * notes sealed. Runs on the writer inside the migration's transaction. */
ob_err sq_seal_legacy_notes(sq_store *st, size_t *moved);

/* sqlite_mem.c */
/* Gives SQLite the store's allocator (small blocks kept per thread). Before
 * SQLite initialises only; afterwards it changes nothing. */
void sq_mem_install(void);

/* sqlite_backup.c */
ob_err sq_backup(ob_store *s, const char *path, ob_store_backup *out);

#endif
