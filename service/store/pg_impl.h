/*
 * pg_impl.h: what the files of the PostgreSQL store share; not an interface.
 *
 *   pg.c             connections, the translation of SQLSTATEs into ob_err,
 *                    migrations
 *   pg_migrations.c  the schema
 *   pg_store.c       the store: its connection pool, transactions, the
 *                    writer and group commit (batch.h), the store-wide
 *                    calls and the ops table
 *   pg_rows.c        statements: parameters, prepared statements, results
 *   pg_apps.c        applications, the waitlist, contacts and history
 *   pg_records.c     cohorts, counters, webinar seats, advisors,
 *                    idempotency records, the audit trail
 *
 * The rows are the SQLite store's (store/columns.h): the same column lists
 * generate the same statements, whose "?" become "$N" when a connection
 * prepares them (pg_sql_numbered). Parameters go as text, blobs in binary;
 * results come in binary (BIGINT, TEXT and BYTEA only).
 */
#ifndef OB_STORE_PG_IMPL_H
#define OB_STORE_PG_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "base/err.h"
#include "crypto/keystore.h"
#include "crypto/vault.h"
#include "domain/store.h"
#include "store/batch.h"
#include "store/columns.h"
#include "store/seal.h"

/* pg_migrations[i] brings the schema from version i to i + 1: its SQL in
 * parts (a NULL-terminated list), run in order in one transaction. */
extern const char *const *const pg_migrations[];
extern const unsigned pg_n_migrations;

/* The ob_err of a SQLSTATE (five characters; NULL: the connection is gone).
 * Serialization failures and deadlocks (40001, 40P01) are OB_EUNAVAIL: the
 * transaction may be run again. So is every state in which the database will
 * not take writes for now and does again by itself or by an operator's hand
 * (read-only 25006, shutdown and crash 57P0x, insufficient resources 53xxx but
 * the full disk, OB_ENOSPC; a lost connection 08xxx): rpc answers them
 * UNAVAILABLE with a retry-after, as the SQLite store's read-only file. */
ob_err pg_from_sqlstate(const char *state);

/* The beginning of every write transaction: the writers' advisory lock
 * (key "onboardw" in ASCII), held until commit or rollback, which makes one
 * writer at a time across instances (pg_store.c) and keeps them waiting while
 * `onboardd copy` fills the database (copy.c). */
#define PG_BEGIN_WRITE "BEGIN; SELECT pg_advisory_xact_lock(7957688145643188599)"

/* Opens a connection to conninfo with the session settings every connection
 * of the store has (synchronous_commit on, UTF-8, notices to the log).
 * *out is PQfinish'ed by the caller. OB_EUNAVAIL when it cannot connect. */
OB_NODISCARD ob_err pg_connect(const char *conninfo, PGconn **out);

/* Runs sql (no parameters, possibly several statements) and checks that it
 * succeeded; what names it in the log, never the values. */
OB_NODISCARD ob_err pg_exec(PGconn *c, const char *sql, const char *what);

/* ---- statements --------------------------------------------------------- */

/* clang-format off */
/* Every statement, prepared once per connection on first use. GUARD: run
 * inside a savepoint of its own, since a constraint it may break (a unique
 * key) would otherwise abort the whole transaction, and the domain goes on
 * after OB_EEXIST (a duplicate SIREN...). */
#define PG_STATEMENTS(X)                                                                       \
	/* pg_records.c */                                                                     \
	X(COHORT_GET, 0, COHORT_SELECT "WHERE id = ?1")                                        \
	X(COHORT_LIST, 0, COHORT_SELECT "ORDER BY id COLLATE \"C\" LIMIT ?1")                  \
	X(COHORT_INSERT, 1, COHORT_INSERT_SQL)                                                 \
	X(COHORT_SET_CAPACITY, 0, "UPDATE cohort SET capacity = ?2 WHERE id = ?1")             \
	X(COUNTER_ADD, 0, "INSERT INTO counter VALUES (?1, ?2, ?3) ON CONFLICT (cohort_id, "   \
	                  "key) DO UPDATE SET count = counter.count + excluded.count")         \
	X(COUNTERS_ADD, 0, "INSERT INTO counter SELECT ?1, k, sum(d) FROM "                    \
	                   "unnest(?2::text[], ?3::bigint[]) AS u(k, d) GROUP BY k "           \
	                   "ON CONFLICT (cohort_id, key) "                                     \
	                   "DO UPDATE SET count = counter.count + excluded.count")             \
	X(COUNTER_GET, 0, "SELECT count FROM counter WHERE cohort_id = ?1 AND key = ?2")       \
	X(COUNTER_LIST, 0, "SELECT key, count FROM counter WHERE cohort_id = ?1 AND "          \
	                   "starts_with(key, ?2) AND count != 0 ORDER BY key COLLATE \"C\"")   \
	X(WEBINAR_BOOKED, 0, "SELECT booked FROM webinar_session WHERE cohort_id = ?1 AND "    \
	                     "session_at = ?2 AND topic = ?3")                                 \
	X(WEBINAR_ADD, 0, "INSERT INTO webinar_session VALUES (?1, ?2, ?3, ?4) ON CONFLICT "   \
	                  "(cohort_id, session_at, topic) DO UPDATE SET "                      \
	                  "booked = webinar_session.booked + excluded.booked")                 \
	X(BOOKING_GET, 0, "SELECT session_at, topic, booked_at, attended, attended_at "        \
	                  "FROM webinar_booking WHERE app_seq = ?1")                           \
	X(BOOKING_PUT, 0, "INSERT INTO webinar_booking VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "   \
	                  "ON CONFLICT (app_seq) DO UPDATE SET cohort_id = excluded.cohort_id, " \
	                  "session_at = excluded.session_at, topic = excluded.topic, "         \
	                  "booked_at = excluded.booked_at, attended = excluded.attended, "     \
	                  "attended_at = excluded.attended_at")                                \
	X(BOOKING_DELETE, 0, "DELETE FROM webinar_booking WHERE app_seq = ?1")                 \
	X(ADVISOR_CREATE, 0, "INSERT INTO advisor (" ADVISOR_COLS ") SELECT ?1, g, "           \
	                     "'Advisor ' || g, 'any', 'fr', ?3::bigint, 1, 0 FROM "            \
	                     "generate_series(1, ?2::bigint) AS g ON CONFLICT DO NOTHING")     \
	X(ADVISOR_INSERT, 0, "INSERT INTO advisor (" ADVISOR_COLS ") SELECT ?1::text, "        \
	                     "coalesce(max(advisor), 0) + 1, ?2::text, ?3::text, ?4::text, "   \
	                     "?5::bigint, ?6::bigint, 0 FROM advisor WHERE cohort_id = ?1 "    \
	                     "RETURNING advisor")                                              \
	X(ADVISOR_GET, 0, "SELECT " ADVISOR_COLS " FROM advisor WHERE cohort_id = ?1 AND "     \
	                  "advisor = ?2")                                                      \
	X(ADVISOR_UPDATE, 0, "UPDATE advisor SET capacity = ?3, active = ?4 WHERE "            \
	                     "cohort_id = ?1 AND advisor = ?2")                                \
	X(ADVISOR_LIST, 0, "SELECT " ADVISOR_COLS " FROM advisor WHERE cohort_id = ?1 "        \
	                   "ORDER BY advisor")                                                 \
	X(ADVISOR_PICK, 0, "SELECT advisor FROM advisor WHERE cohort_id = ?1 AND active != 0 " \
	                   "AND load < capacity AND (?2::text IS NULL OR region = ?2) AND "    \
	                   "position(',' || ?3::text || ',' in ',' || languages || ',') > 0 "  \
	                   "AND advisor != ?4 ORDER BY load, advisor LIMIT 1")                 \
	X(ADVISOR_ADD, 0, "UPDATE advisor SET load = load + ?3 WHERE cohort_id = ?1 AND "      \
	                  "advisor = ?2")                                                      \
	X(IDEM_GET, 0, "SELECT i.request_hash, i.reply, i.app_seq, a.id, c.dk_kid, "           \
	               "c.dk_wrapped FROM idempotency i "                                      \
	               "LEFT JOIN application a ON a.seq = i.app_seq "                         \
	               "LEFT JOIN contact c ON c.app_seq = i.app_seq WHERE i.key = ?1")        \
	X(IDEM_PUT, 1, "INSERT INTO idempotency (key, request_hash, app_seq, reply, "          \
	               "created_at) VALUES (?1, ?2, ?3, ?4, ?5)")                              \
	X(IDEM_FORGET_APP, 0, "DELETE FROM idempotency WHERE app_seq = ?1 AND app_seq != 0")   \
	X(IDEM_PURGE, 0, "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency "  \
	                 "WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)")                \
	X(AUDIT_APPEND, 0, AUDIT_APPEND_SQL)                                                   \
	X(AUDIT_LIST, 0, AUDIT_LIST_SQL)                                                       \
	/* pg_apps.c */                                                                        \
	X(APP_INSERT, 1, APP_INSERT_SQL " RETURNING seq")                                      \
	X(APP_UPDATE, 0, APP_UPDATE_SQL)                                                       \
	X(APP_GET, 0, APP_SELECT "WHERE a.id = ?1 AND (?2::text IS NULL OR "                   \
	              "a.submitted_by = ?2)")                                                  \
	X(APP_GET_SIREN, 0, APP_SELECT "WHERE a.cohort_id = ?1 AND a.siren = ?2 AND "          \
	                    "(?3::text IS NULL OR a.submitted_by = ?3) "                       \
	                    "ORDER BY a.state IN (7, 8), a.seq DESC LIMIT 1")                  \
	X(BENEFITS_OF_SIREN, 0, "SELECT seq, cohort_id"                                        \
	                        APP_BENEFITS(SQL_COL_NEXT, SQL_COL_NEXT)                       \
	                        " FROM application WHERE siren = ?1 AND "                      \
	                        "benefits_granted != 0 ORDER BY seq")                          \
	X(APP_FIRST_WAITLISTED, 0, APP_SELECT "WHERE a.cohort_id = ?1 AND a.state = ?2 "       \
	                           "ORDER BY a.seq LIMIT 1")                                   \
	X(WAITLIST_POSITION, 0, WAITLIST_POSITION_SQL)                                         \
	X(WAITLIST_LEAVE, 0, "INSERT INTO waitlist_left VALUES (?1, ?2) ON CONFLICT DO "       \
	                     "NOTHING")                                                        \
	X(CONTACT_INSERT, 0, "INSERT INTO contact (app_seq, dk_kid, dk_wrapped, name, email, " \
	                     "phone, email_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")        \
	X(CONTACT_ERASED_AT, 0, "SELECT erased_at FROM contact WHERE app_seq = ?1")            \
	X(CONTACT_ERASE, 0, "UPDATE contact SET dk_kid = NULL, dk_wrapped = NULL, name = "     \
	                    "NULL, email = NULL, phone = NULL, email_index = NULL, "           \
	                    "erased_at = ?2, erased_by = ?3 WHERE app_seq = ?1 AND "           \
	                    "erased_at = 0")                                                   \
	X(CONTACT_KEY, 0, "SELECT c.dk_kid, c.dk_wrapped, a.id FROM contact c JOIN "           \
	                  "application a ON a.seq = c.app_seq WHERE c.app_seq = ?1")           \
	X(APPS_BY_EMAIL, 0, APP_SELECT "WHERE c.email_index = ?1 ORDER BY a.seq")              \
	X(REWRAP_SCAN, 0, "SELECT app_seq, dk_kid, dk_wrapped FROM contact WHERE app_seq > "   \
	                  "?1 AND dk_kid IS NOT NULL AND dk_kid != ?2 ORDER BY app_seq "       \
	                  "LIMIT ?3")                                                          \
	X(REWRAP_UPDATE, 0, "UPDATE contact SET dk_kid = ?2, dk_wrapped = ?3 WHERE "           \
	                    "app_seq = ?1")                                                    \
	X(HISTORY_APPEND, 0, HISTORY_APPEND_SQL)                                               \
	X(HISTORY_COUNT, 0, "SELECT count(*) FROM history WHERE app_seq = ?1")                 \
	X(HISTORY_LOAD, 0, HISTORY_LOAD_SQL)                                                   \
	X(HISTORY_ERASE_NOTES, 0, "UPDATE history SET note = ''::bytea WHERE app_seq = ?1 "    \
	                          "AND note IS NOT NULL")

#define PG_ST_ENUM(name, guard, sql) PG_ST_##name,
enum {
	PG_STATEMENTS(PG_ST_ENUM)
	PG_ST_COUNT
};
/* clang-format on */

/* ---- connections, the store, transactions -------------------------------- */

typedef struct pg_conn {
	PGconn *db;
	bool prepared[PG_ST_COUNT];
	struct pg_conn *next_free;
} pg_conn;

typedef struct pg_store {
	ob_store base;
	char *conninfo;           /* never logged: it may hold a password */
	pthread_mutex_t write_mu; /* held from begin(write) to commit/rollback */
	pg_conn writer;
	pthread_mutex_t pool_mu;
	pthread_cond_t pool_cv; /* a reader connection came back */
	pg_conn *free_readers;
	unsigned n_readers, max_readers; /* open, and the --db-pool cap */
	batch_queue queue;
	ob_keystore *keys; /* borrowed */
} pg_store;

typedef struct pg_txn {
	ob_txn base;
	pg_store *store;
	pg_conn *c;
	bool write;
	bool retry; /* a statement failed with 40001 or 40P01: run the write again */
	/* The data key of the application this write sealed or opened last
	 * (seal.h). */
	seal_key_cache key;
} pg_txn;

static inline pg_txn *pg_txn_of(ob_txn *t)
{
	return (pg_txn *)t;
}

/* ---- statements and rows (pg_rows.c) ------------------------------------- */

enum { PG_MAX_PARAMS = 64, PG_SCRATCH = 4096 };

/* The parameters of a statement, in order ($1, $2...). Text and numbers are
 * sent as text, blobs in binary; the pointers given must outlive the run. */
typedef struct pg_params {
	int n;
	const char *v[PG_MAX_PARAMS];
	int len[PG_MAX_PARAMS];
	int fmt[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][24];
	char scratch[PG_SCRATCH]; /* copies of text made for the call (pg_text_copy) */
	size_t used;
} pg_params;

void pg_text(pg_params *p, const char *v); /* NULL: SQL NULL */
void pg_text_copy(pg_params *p, const char *v);
void pg_i64(pg_params *p, int64_t v);
void pg_bytes(pg_params *p, const void *v, size_t len); /* NULL: SQL NULL */

/* "?" as SQLite numbers them ("?" the next, "?N" the Nth) into PostgreSQL's
 * "$N", outside quoted text; out has cap bytes. OB_ETOOBIG when it does not fit. */
ob_err pg_sql_numbered(const char *sql, char *out, size_t cap);

/* Runs statement which with p on t's connection (GUARD ones in a savepoint).
 * *out gets the result (PQclear by the caller) when it succeeded; otherwise
 * the error is logged with the statement's name and returned (t->retry set
 * for 40001 and 40P01). */
OB_NODISCARD ob_err pg_run(pg_txn *t, int which, const pg_params *p, PGresult **out);
/* The same for a statement of the moment (not prepared): app_list's. */
OB_NODISCARD ob_err pg_run_sql(pg_txn *t, const char *sql, const pg_params *p, PGresult **out,
                               const char *what);
/* Runs which and discards its result; *changed (may be NULL) the rows it changed. */
OB_NODISCARD ob_err pg_run_done(pg_txn *t, int which, const pg_params *p, uint64_t *changed);
/* The first column of its first row: OB_ENOTFOUND with *out 0 when none. */
OB_NODISCARD ob_err pg_run_int64(pg_txn *t, int which, const pg_params *p, int64_t *out);

/* Reading a result in binary: a NULL reads 0, "" or no bytes. */
int64_t pg_get_i64(const PGresult *r, int row, int col);
void pg_get_text(const PGresult *r, int row, int col, char *out, size_t n);
const char *pg_get_cstr(const PGresult *r, int row, int col); /* NULL for NULL */
const void *pg_get_bytes(const PGresult *r, int row, int col, size_t *len);

/* Reads row of r into item (zeroed first); ctx as given. */
typedef void (*pg_row_fn)(pg_txn *t, const PGresult *r, int row, void *item, void *ctx);
/* Every row of r into *out (malloc'd, free(); NULL when none), *n of them.
 * Clears r. What it frees on an error it wipes first. */
ob_err pg_collect(pg_txn *t, PGresult *r, size_t item_size, pg_row_fn read, void *ctx, void **out,
                  size_t *n);
/* Runs which and reads its first row into item (item_size bytes, zeroed
 * first): OB_ENOTFOUND when it returns none, and item untouched, so that a
 * parameter may point into it. The body of each get by key. */
OB_NODISCARD ob_err pg_run_one(pg_txn *t, int which, const pg_params *p, size_t item_size,
                               pg_row_fn read, void *ctx, void *item);
/* Runs which and collects every row of its result as pg_collect does: the
 * body of each list the store returns. */
OB_NODISCARD ob_err pg_run_collect(pg_txn *t, int which, const pg_params *p, size_t item_size,
                                   pg_row_fn read, void *ctx, void **out, size_t *n);

/* Reading a column into o->field, and binding o->field, by KIND (columns.h). */
#define READ_TEXT(r, i, o, f)       pg_get_text((r), row, (i), (o)->f, sizeof((o)->f))
#define READ_I64(r, i, o, f)        ((o)->f = pg_get_i64((r), row, (i)))
#define READ_U32(r, i, o, f)        ((o)->f = (uint32_t)pg_get_i64((r), row, (i)))
#define READ_U64(r, i, o, f)        ((o)->f = (uint64_t)pg_get_i64((r), row, (i)))
#define READ_BOOL(r, i, o, f)       ((o)->f = pg_get_i64((r), row, (i)) != 0)
#define READ_ENUM(r, i, o, f)       ((o)->f = (int)pg_get_i64((r), row, (i)))
#define READ_CATEGORIES(r, i, o, f) store_categories_split(pg_get_cstr((r), row, (i)), (o))
#define READ_DIVISIONS(r, i, o, f)  store_divisions_parse(pg_get_cstr((r), row, (i)), &(o)->f)
#define BIND_TEXT(p, o, f)          pg_text((p), (o)->f)
#define BIND_I64(p, o, f)           pg_i64((p), (o)->f)
#define BIND_U32(p, o, f)           pg_i64((p), (o)->f)
#define BIND_U64(p, o, f)           pg_i64((p), (int64_t)(o)->f)
#define BIND_BOOL(p, o, f)          pg_i64((p), (o)->f ? 1 : 0)
#define BIND_ENUM(p, o, f)          pg_i64((p), (int64_t)(o)->f)
#define BIND_CATEGORIES(p, o, f)    pg_bind_categories((p), (o))
#define BIND_DIVISIONS(p, o, f)     pg_bind_divisions((p), &(o)->f)

void pg_bind_categories(pg_params *p, const ob_application *a);
void pg_bind_divisions(pg_params *p, const ob_naf_divisions *d);

/* ---- the parts of the ops table ------------------------------------------ */

/* The operations on a transaction, as pg_NAME: pg_records.c (cohorts,
 * counters, advisors, webinars, idempotency, audit) and pg_apps.c
 * (applications, history, contacts). */
#define STORE_FN(name) pg_##name
#include "store/txn_ops.h"
#undef STORE_FN

/* pg_apps.c */
/* The data key of application seq for sealing what else shows its contact:
 * OB_OK with it in dk and its id in id, OB_ENOTFOUND when the contact is
 * erased, OB_ECORRUPT when it cannot be unwrapped (sq_app_data_key). */
ob_err pg_app_data_key(ob_txn *t, int64_t seq, uint8_t dk[OB_VAULT_KEY_LEN],
                       char id[OB_ID_LEN + 1]);

#endif
