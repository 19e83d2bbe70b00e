/*
 * pg.h: the PostgreSQL store (issue 13), beside the SQLite one (sqlite.h).
 *
 * The schema and its versioned migrations, applied by several instances at
 * once without harm, and the adapter of the domain's port (domain/store.h) on
 * top of it (pg_store.c says how several instances share it).
 *
 * A database is named by a libpq connection string: a URI
 * (postgresql://user@host/db?host=/run/postgresql) or key=value pairs.
 * Nothing of it is logged: it may hold a password.
 */
#ifndef OB_STORE_PG_H
#define OB_STORE_PG_H

#include <stdbool.h>

#include "base/err.h"
#include "crypto/keystore.h"
#include "domain/store.h"

/* Whether db names a PostgreSQL database (a postgresql:// or postgres:// URI)
 * rather than a SQLite file. Pure. */
bool ob_store_is_pg(const char *db);

/* Applies to the database at conninfo the migrations it lacks, each in its
 * own transaction under a transaction-scoped advisory lock, so that
 * instances started together apply each one exactly once and none reads a
 * half-made schema. *version gets the schema's version afterwards. OB_OK;
 * OB_EUNAVAIL when the database cannot be reached; OB_ECORRUPT when its
 * schema is newer than this program knows; another error when a migration
 * fails (that one is rolled back). Blocks on the network; any thread. */
OB_NODISCARD ob_err ob_store_pg_migrate(const char *conninfo, unsigned *version);

/* Opens the PostgreSQL store at conninfo (migrating its schema first) with
 * keys (borrowed: they outlive the store), at most pool read connections
 * (0: 8) besides the writer's. OB_EUNAVAIL when the database cannot be
 * reached. Blocks on the network. Destroy with ob_store_destroy(). */
OB_NODISCARD ob_err ob_store_open_pg(ob_store **out, const char *conninfo, ob_keystore *keys,
                                     unsigned pool);
/* At most n writes in one commit (1..64), as --commit-batch sets. */
void ob_store_pg_set_max_batch(ob_store *s, unsigned n);

#endif
