/*
 * sqlite_base.h: what the SQLite store lends to the rest of store/ (the
 * copy into PostgreSQL, copy.c) without its private header, whose X-macros
 * are the PostgreSQL store's too: the file lock and the translation of
 * result codes. sqlite_impl.h includes it.
 */
#ifndef OB_STORE_SQLITE_BASE_H
#define OB_STORE_SQLITE_BASE_H

#include "base/err.h"

/* The one translation of SQLite result codes into ob_err. */
ob_err sq_from_sqlite(int rc);

/* One process per file (sqlite_lock.c): takes the exclusive lock of the database at db_path (a
 * flock on db_path.lock, which it creates) and writes this process's pid into it; *fd gets the
 * descriptor that holds it. OB_EUNAVAIL, having logged the other holder's pid, when another process
 * (or another store of this one) holds it; another error when the file cannot be made. Does not
 * block. */
OB_NODISCARD ob_err sq_lock_take(const char *db_path, int *fd);
/* Releases a lock of sq_lock_take; fd -1 is ignored. */
void sq_lock_release(int fd);

#endif
