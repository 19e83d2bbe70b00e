/* migrations.h: the SQLite schema, as numbered migrations (store/sqlite.c applies them). */
#ifndef OB_STORE_MIGRATIONS_H
#define OB_STORE_MIGRATIONS_H

/* ob_migrations[i] brings the schema from user_version i to i + 1. */
extern const char *const ob_migrations[];
extern const unsigned ob_n_migrations;

#endif
