/*
 * sqlite.h: the SQLite store, an adapter of the domain's store port
 * (domain/store.h). main.c opens it and hands it to ob_domain_create(); the
 * rest of the service sees only the port.
 *
 * One write connection, driven by a writer thread that commits concurrent
 * writes together (group commit), and one read connection per thread that
 * reads, on WAL snapshots. The why is in sqlite.c; the split of the code in
 * sqlite_impl.h.
 */
#ifndef OB_STORE_SQLITE_H
#define OB_STORE_SQLITE_H

#include "base/err.h"
#include "domain/store.h"

typedef struct ob_keystore ob_keystore; /* crypto/keystore.h */

/* Opens (creating if needed) the SQLite store at path, applying migrations.
 * WAL mode, synchronous=FULL: a committed write survives power loss;
 * secure_delete: freed space is zeroed. The keystore's current vault
 * encrypts the contacts (see domain/store.h); keys is borrowed and must
 * outlive the store. Destroy the store with ob_store_destroy(). */
OB_NODISCARD ob_err ob_store_open_sqlite_keystore(ob_store **out, const char *path,
                                                  ob_keystore *keys);

/* The same with a throwaway vault of random keys that the store makes and
 * destroys: for tests and tools that never reopen the file. Contacts written
 * through such a store cannot be read once it is closed (their data keys are
 * wrapped under a key that no longer exists: they read as unreadable), so a
 * test that reopens a database must use ob_store_open_sqlite_keystore with the
 * same keystore both times. */
OB_NODISCARD ob_err ob_store_open_sqlite(ob_store **out, const char *path);

/* The most writes one commit may carry (default 64); 1 turns group commit
 * off, for comparison. Call before the store is used. */
void ob_store_sqlite_set_max_batch(ob_store *s, unsigned n);

#endif
