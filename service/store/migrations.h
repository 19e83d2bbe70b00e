/* migrations.h: the SQLite schema, as numbered migrations (store/sqlite.c applies them). */
#ifndef OB_STORE_MIGRATIONS_H
#define OB_STORE_MIGRATIONS_H

#include <stdbool.h>

/* What a migration needs done after its SQL, in the same transaction, by
 * code that has the vault (store/sqlite_history.c). */
typedef enum {
	OB_MIGRATION_SQL_ONLY,
	/* Moves the notes that earlier rows kept in clear at the end of
	 * history.reason ("PREFIX: NOTE", PREFIX one of
	 * ob_legacy_note_prefixes) into history.note, sealed. */
	OB_MIGRATION_SEAL_HISTORY_NOTES,
} ob_migration_step;

typedef struct ob_migration {
	const char *sql;
	ob_migration_step then;
	/* The SQL rebuilds a table that others reference (what ALTER TABLE
	 * cannot change, such as a UNIQUE constraint): it runs with foreign
	 * keys off, and they are checked before the commit. */
	bool rebuilds;
} ob_migration;

/* ob_migrations[i] brings the schema from user_version i to i + 1. */
extern const ob_migration ob_migrations[];
extern const unsigned ob_n_migrations;

/* The reasons under which schema 1 stored a person's note after ": ": the
 * review actions and the withdrawal. */
extern const char *const ob_legacy_note_prefixes[];
extern const unsigned ob_n_legacy_note_prefixes;

#endif
