/*
 * The PostgreSQL store's core: connections, errors, migrations. The adapter
 * of the domain's port is pg_store.c and the files pg_impl.h lists.
 *
 * Errors: libpq reports SQLSTATEs; they become ob_err here, once
 * (pg_from_sqlstate). The log names the statement and the server's primary
 * message, never its detail, which can quote the values of a row (a unique
 * violation's "Key (siren)=(...)").
 *
 * Migrations: every instance runs them at start. PostgreSQL's DDL is
 * transactional, so each migration and the row that records it commit
 * together; a transaction-scoped advisory lock makes instances that start
 * together take turns, and the second finds the work done. The lock is
 * taken before schema_migration is created, since two CREATE TABLE IF NOT
 * EXISTS at once can still collide in the catalog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/pg.h"
#include "store/pg_impl.h"

/* pg_advisory_xact_lock's key for migrations: "onboard1" in ASCII. */
#define MIGRATION_LOCK "7957688145643188529"

bool ob_store_is_pg(const char *db)
{
	return db != NULL &&
	       (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0);
}

ob_err pg_from_sqlstate(const char *state)
{
	if (state == NULL || strlen(state) != 5)
		return OB_EUNAVAIL; /* no result: the connection is gone */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return OB_EUNAVAIL; /* serialization failure, deadlock: run it again */
	/* The database will not take writes now, and passes by itself once an operator
	 * mends it: read-only (default_transaction_read_only, a hot standby), as SQLite's
	 * SQLITE_READONLY; a lock held past an operator's lock_timeout. The rest of
	 * classes 25 and 55 are faults of the statement itself. */
	if (strcmp(state, "25006") == 0 || strcmp(state, "55P03") == 0)
		return OB_EUNAVAIL;
	if (strcmp(state, "53100") == 0)
		return OB_ENOSPC; /* disk full: RESOURCE_EXHAUSTED, as the SQLite store's */
	if (strcmp(state, "XX001") == 0 || strcmp(state, "XX002") == 0)
		return OB_ECORRUPT; /* data or index corrupted */
	switch (state[0] << 8 | state[1]) {
	case '0' << 8 | '0':
		return OB_OK;
	case '2' << 8 | '3': /* integrity constraint violation */
		return OB_EEXIST;
	case '0' << 8 | '8': /* connection exception */
	case '5' << 8 | '3': /* insufficient resources: memory, connections (53300) */
	case '5' << 8 | '7': /* operator intervention: shutdown (57P01-57P03), cancel */
	case '4' << 8 | '0': /* transaction rollback */
		return OB_EUNAVAIL;
	case '5' << 8 | '4': /* program limit exceeded */
		return OB_ETOOBIG;
	default:
		return OB_EIO;
	}
}

/* libpq's notices (a table that already exists...) go to the debug log
 * rather than to stderr. */
static void on_notice(void *arg, const char *message)
{
	(void)arg;
	ob_log(OB_LOG_DEBUG, "postgresql: %.*s", (int)strcspn(message, "\n"), message);
}

ob_err pg_exec(PGconn *c, const char *sql, const char *what)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	ob_err err = OB_OK;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		const char *msg = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		err = pg_from_sqlstate(state);
		if (err == OB_OK)
			err = OB_EIO;
		ob_log(OB_LOG_ERROR, "postgresql: %s: %s (%s)", what,
		       msg != NULL ? msg : PQerrorMessage(c), state != NULL ? state : "no result");
	}
	PQclear(r);
	return err;
}

ob_err pg_connect(const char *conninfo, PGconn **out)
{
	*out = NULL;
	PGconn *c = PQconnectdb(conninfo);
	if (c == NULL)
		return OB_ENOMEM;
	if (PQstatus(c) != CONNECTION_OK) {
		/* libpq's message names the host and the reason, not the password. */
		const char *msg = PQerrorMessage(c);
		ob_log(OB_LOG_ERROR, "postgresql: cannot connect: %.*s", (int)strcspn(msg, "\n"),
		       msg);
		PQfinish(c);
		return OB_EUNAVAIL;
	}
	PQsetNoticeProcessor(c, on_notice, NULL);
	/* Durability is the server's default, but a role or database setting
	 * can turn it off: an acknowledged write must be on disk (issue 13). */
	ob_err err = pg_exec(c,
	                     "SET synchronous_commit TO on;"
	                     "SET client_encoding TO 'UTF8';"
	                     "SET application_name TO 'onboardd'",
	                     "session settings");
	if (err != OB_OK) {
		PQfinish(c);
		return err;
	}
	*out = c;
	return OB_OK;
}

/* The schema's version (0: none yet), read under the migration lock. */
static ob_err schema_version(PGconn *c, unsigned *out)
{
	PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_migration");
	ob_err err = OB_OK;
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		err = pg_from_sqlstate(state);
		if (err == OB_OK)
			err = OB_EIO;
		ob_log(OB_LOG_ERROR, "postgresql: reading the schema version: %s",
		       PQerrorMessage(c));
	} else {
		long v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		*out = v < 0 ? 0 : (unsigned)v;
	}
	PQclear(r);
	return err;
}

/* One step: under the lock, applies the next migration if there is one.
 * *version gets the version after it; *done whether none was left. */
static ob_err migrate_step(PGconn *c, unsigned *version, bool *done)
{
	ob_err err = pg_exec(c,
	                     "BEGIN;"
	                     "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ");"
	                     "CREATE TABLE IF NOT EXISTS schema_migration ("
	                     " version BIGINT PRIMARY KEY,"
	                     " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
	                     "migration lock");
	if (err == OB_OK)
		err = schema_version(c, version);
	if (err == OB_OK && *version > pg_n_migrations) {
		ob_log(OB_LOG_ERROR,
		       "postgresql: the schema is at version %u, newer than this onboardd "
		       "knows (%u): run a newer onboardd",
		       *version, pg_n_migrations);
		err = OB_ECORRUPT;
	}
	*done = err == OB_OK && *version == pg_n_migrations;
	if (err == OB_OK && !*done) {
		char what[64], record[96];
		snprintf(what, sizeof(what), "schema migration %u", *version + 1);
		snprintf(record, sizeof(record),
		         "INSERT INTO schema_migration (version) VALUES (%u)", *version + 1);
		for (const char *const *part = pg_migrations[*version];
		     err == OB_OK && *part != NULL; part++)
			err = pg_exec(c, *part, what);
		if (err == OB_OK)
			err = pg_exec(c, record, what);
		if (err == OB_OK) {
			*version += 1;
			ob_log(OB_LOG_INFO, "applied schema migration %u", *version);
		}
	}
	if (err == OB_OK)
		return pg_exec(c, "COMMIT", "migration commit");
	/* A failed transaction is rolled back; a lost connection takes it along. */
	PGresult *r = PQexec(c, "ROLLBACK");
	PQclear(r);
	return err;
}

ob_err ob_store_pg_migrate(const char *conninfo, unsigned *version)
{
	*version = 0;
	PGconn *c = NULL;
	ob_err err = pg_connect(conninfo, &c);
	bool done = false;
	while (err == OB_OK && !done)
		err = migrate_step(c, version, &done);
	PQfinish(c);
	return err;
}
