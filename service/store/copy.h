/*
 * copy.h: a SQLite programme copied into a PostgreSQL database (issue 13,
 * section 5), for `onboardd copy`. Only main.c's copy command and tests call
 * it: it is no part of the domain's port, since it moves rows, not decisions.
 *
 * What is copied: every table of the schema, row for row and byte for byte
 * (the application's and the audit trail's seq included, so that waitlist
 * order, page tokens and history rows stay what they were). Personal data
 * stays sealed: the ciphertexts, the blind index and the wrapped data keys
 * are copied as they are, so the PostgreSQL copy opens them with the same
 * master key file and the copy itself never holds a key. Counters are
 * copied, not recounted; the domain recounts a cohort whose counters are of
 * an older version when an onboardd opens the copy, as on SQLite.
 *
 * The two schemas must match: the same tables with the same columns, of
 * the types the stores use (BIGINT, TEXT, BYTEA); a table or a column one
 * store has and the other lacks refuses the copy, naming it, rather than
 * leave something behind.
 */
#ifndef OB_STORE_COPY_H
#define OB_STORE_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum { OB_COPY_MAX_TABLES = 32, OB_COPY_MAX_KEYS = 16, OB_COPY_NAME = 64 };

/* What one run copied: each table and its rows (in the order copied, which
 * puts a table after the tables it references), and how many sealed
 * contacts each master key id wraps (the key file the copy needs). */
typedef struct ob_copy_report {
	struct {
		char name[OB_COPY_NAME];
		int64_t rows;
	} tables[OB_COPY_MAX_TABLES];
	size_t n_tables;
	struct {
		char kid[OB_COPY_NAME];
		int64_t contacts;
	} keys[OB_COPY_MAX_KEYS];
	size_t n_keys;
	unsigned sqlite_version; /* the source's PRAGMA user_version */
	unsigned pg_version;     /* the target's schema_migration version */
	bool replaced;           /* the target held rows, deleted by the copy */
} ob_copy_report;

/* Copies the SQLite database at sqlite_path into the PostgreSQL database at
 * conninfo, in one PostgreSQL transaction: the target is first migrated to
 * the current schema; the copy holds the SQLite file's lock (no onboardd
 * may serve it meanwhile) and the PostgreSQL writers' advisory lock, reads
 * the source in one snapshot, and commits only after the row count of every
 * table in the target equals the source's. A failure leaves the target as it
 * was (migrations aside). Blocks for as long as the copy takes; call it from
 * one thread, with no onboardd serving either database.
 *
 * A target holding any row is refused (OB_EEXIST) unless replace is set;
 * then its rows are deleted in the same transaction. Other errors:
 * OB_EUNAVAIL (the SQLite file is in use, PostgreSQL unreachable),
 * OB_ENOTFOUND (no such SQLite file), OB_EPRECOND (the SQLite schema is not
 * the current one: `onboardd migrate` it first; or the schemas differ),
 * OB_ECORRUPT (a value of the wrong type), OB_EIO. Every refusal is logged
 * with its reason; the URL is never logged. *out is filled on success. */
OB_NODISCARD ob_err ob_store_copy_sqlite_to_pg(const char *sqlite_path, const char *conninfo,
                                               bool replace, ob_copy_report *out);

#endif
