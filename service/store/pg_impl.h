/*
 * pg_impl.h: what the files of the PostgreSQL store share; not an interface.
 *
 *   pg.c             connections, the translation of SQLSTATEs into ob_err,
 *                    migrations
 *   pg_migrations.c  the schema
 */
#ifndef OB_STORE_PG_IMPL_H
#define OB_STORE_PG_IMPL_H

#include <libpq-fe.h>

#include "base/err.h"

/* pg_migrations[i] brings the schema from version i to i + 1: its SQL in
 * parts (a NULL-terminated list), run in order in one transaction. */
extern const char *const *const pg_migrations[];
extern const unsigned pg_n_migrations;

/* The ob_err of a SQLSTATE (five characters; NULL: the connection is gone).
 * Serialization failures and deadlocks (40001, 40P01) are OB_EUNAVAIL: the
 * transaction may be run again. */
ob_err pg_from_sqlstate(const char *state);

/* Opens a connection to conninfo with the session settings every connection
 * of the store has (synchronous_commit on, UTF-8, notices to the log).
 * *out is PQfinish'ed by the caller. OB_EUNAVAIL when it cannot connect. */
OB_NODISCARD ob_err pg_connect(const char *conninfo, PGconn **out);

/* Runs sql (no parameters, possibly several statements) and checks that it
 * succeeded; what names it in the log, never the values. */
OB_NODISCARD ob_err pg_exec(PGconn *c, const char *sql, const char *what);

#endif
