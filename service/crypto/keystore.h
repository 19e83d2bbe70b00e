/*
 * keystore.h: the one owner of the master keys while onboardd runs.
 *
 * A keystore holds the current vault (crypto/vault.h) and the master key file it came from,
 * and is the only code that opens, replaces or destroys a vault while serving. main.c creates
 * it from the key file and destroys it last; the store borrows it to seal and open personal
 * data, the domain borrows it to rotate (domain/domain.h: ob_domain_rotate_keys). Nobody else
 * holds a vault pointer beyond one lease.
 *
 * Leases. A user of the vault takes a lease (ob_keystore_acquire), calls into the vault and
 * gives the lease back (ob_keystore_release). A lease pins the vault it was given: a rotation
 * meanwhile publishes a new vault for the next acquire, and the leased one stays valid (and
 * unchanged: a vault is immutable) until its last lease is released, which wipes and frees it.
 * So rotation never waits for readers, and readers never wait for a rotation: acquire and
 * release take a read lock held for a pointer copy and an atomic increment, and a rotation
 * holds the write side of that lock only to swap one pointer, never while it touches the file.
 * A lease blocks nobody; held long, it only keeps a replaced vault's keys in memory longer.
 * So hold one while the vault is in use (a call, a batch of re-wraps), not for good.
 *
 * Rotation (ob_keystore_rotate) appends a fresh master key to the file (ob_vault_rotate_file),
 * opens the file again and publishes that vault: new data keys are wrapped under the new key
 * at once, and every data key wrapped before still unwraps, since the rotated file keeps the
 * old lines. Re-wrapping the stored data keys is the domain's job, through the store's port,
 * after the rotation returns. A failed rotation publishes nothing: the current vault stays.
 *
 * Several instances on one database (PostgreSQL) share the key file, and a rotation through
 * one of them changes the file under the others. So a keystore made from a file, once told to
 * (ob_keystore_follow: main.c does for a shared store), follows it:
 *   - the change check: at most once every OB_KEYSTORE_RECHECK_MS, one acquire (whichever
 *     comes first after the interval; the others only read a clock and an atomic) stats the
 *     file, and if its inode, size, mtime or ctime changed, reads it again and publishes it:
 *     new data keys are wrapped under another instance's new key within about a second;
 *   - the unknown key: an unwrap that names a key id the vault lacks reads the file again at
 *     once (at most once every OB_KEYSTORE_RECHECK_MS whatever the number of calls) and, if it
 *     now has the key, unwraps with it; if not, the key id is logged once and the unwrap
 *     answers OB_ENOTFOUND (the domain answers UNAVAILABLE naming it). Neither waits for a
 *     rotation or a reread under way (that one publishes what it finds).
 * The file read again passes the checks of ob_keystore_open (ob_vault_open: mode, owner,
 * syntax) and must keep every key the current vault holds, with the same bytes, and the same
 * index key (ob_vault_extends): keys may be added, never dropped nor changed while serving
 * (dropping an old key line takes a restart, once a rotation has re-wrapped its data keys).
 * A file that fails is refused with one log line, and the current vault stays in use.
 *
 * Instances on separate machines do not share a file by themselves: README "Several
 * instances" says how to rotate then (the file on a shared volume, or copied to every machine
 * after the rotation; until an instance has it, the contacts re-wrapped under the new key
 * answer UNAVAILABLE there, never a wrong answer).
 *
 * Threading: every function may be called from any thread, concurrently, except
 * ob_keystore_destroy. Rotations and rereads are serialised by the keystore itself.
 */
#ifndef OB_CRYPTO_KEYSTORE_H
#define OB_CRYPTO_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "crypto/vault.h"

typedef struct ob_keystore ob_keystore;

/* One published vault and its count of leases; private to keystore.c. */
typedef struct ob_keystore_gen ob_keystore_gen;

/* A lease on a vault, in the caller's memory (usually on its stack). */
typedef struct ob_keystore_lease {
	ob_keystore_gen *gen; /* NULL once released */
} ob_keystore_lease;

/*
 * Opens the master key file at path (ob_vault_open: same checks, results and messages in err)
 * into a new keystore *out that can rotate it. path is copied. Blocks on the file system.
 * The caller frees *out with ob_keystore_destroy; on failure *out is NULL.
 */
OB_NODISCARD ob_err ob_keystore_open(const char *path, ob_keystore **out, char *err, size_t errlen);

/*
 * A keystore around a vault made in memory (tests, tools, a store's throwaway keys): it takes
 * v, also on failure (v is destroyed then), and has no file, so ob_keystore_rotate answers
 * OB_EPRECOND. Returns OB_OK, OB_EINVAL for a NULL v, OB_ENOMEM. Does not block.
 */
OB_NODISCARD ob_err ob_keystore_create(ob_vault *v, ob_keystore **out);

/* Destroys the current vault and the keystore. Accepts NULL. Every lease must have been
 * released and no thread may still use ks (destroy the store and the domain first). */
void ob_keystore_destroy(ob_keystore *ks);

/* How often a keystore made from a file looks at it again (above), in milliseconds. */
enum { OB_KEYSTORE_RECHECK_MS = 1000 };

/*
 * Leases the current vault: returns it (never NULL) and fills lease, which the caller hands
 * to ob_keystore_release once it is done with the vault. The vault stays valid until then,
 * whatever rotations happen meanwhile. Does not block beyond a pointer swap of a rotation,
 * except for the one call a second that does the change check (a stat(2), and a reread of
 * the key file when it changed: tens of microseconds, more while a rotation holds the file).
 */
const ob_vault *ob_keystore_acquire(ob_keystore *ks, ob_keystore_lease *lease);

/* Ends a lease; the last lease on a vault that is no longer current wipes and frees it.
 * Accepts a lease already released (lease->gen NULL). Does not block. */
void ob_keystore_release(ob_keystore_lease *lease);

/* Turns on the following of the key file described above (off by default: with one instance
 * per file, as on SQLite, the file changes only by this keystore's own rotations, and an
 * acquire then costs no clock read). Does nothing for a keystore without a file. Any thread. */
void ob_keystore_follow(ob_keystore *ks);

/* Whether ks follows its key file (ob_keystore_follow). */
bool ob_keystore_follows(const ob_keystore *ks);

/* The change check now, whatever the interval: for a rotation, which must start from the
 * newest key any instance published, and for tests. Blocks on the file system and on a
 * rotation. Does nothing for a keystore without a file. */
void ob_keystore_refresh(ob_keystore *ks);

/* Whether ks has a key file to rotate (made by ob_keystore_open). */
bool ob_keystore_can_rotate(const ob_keystore *ks);

/*
 * Data keys recently unwrapped, for reads (ob_keystore_unwrap). A Get unwraps its application's
 * data key (one XChaCha20-Poly1305 opening, a twentieth of its instructions); the same
 * application read again within OB_KEYSTORE_DK_TTL_MS finds the key here. The trade, written
 * down in ARCHITECTURE.md: what is kept is data keys, never personal data in clear, at most
 * OB_KEYSTORE_DK_SLOTS of them, in memory locked against swapping and wiped when they expire
 * (when their slot or a neighbour is next used) and when the keystore is destroyed. A data
 * key adds nothing to what the master keys, which are in memory for as long as onboardd runs,
 * already open, with one exception: after an erasure its wrapped copy is gone from the
 * database, so the erasing write forgets it here too (ob_keystore_forget).
 */
enum { OB_KEYSTORE_DK_SLOTS = 1024, OB_KEYSTORE_DK_TTL_MS = 5000 };

/* Turns the cache on (off when a keystore is made); for the store that reads through it.
 * Returns OB_OK, or OB_ENOMEM (it stays off). Call before the keystore is shared. */
OB_NODISCARD ob_err ob_keystore_cache_data_keys(ob_keystore *ks);

/* ob_vault_unwrap with the current vault, through the cache when it is on: same results.
 * Keyed by the key id and the wrapped bytes (which begin with a random nonce), so that a
 * key re-wrapped by a rotation is another entry. A key id the vault lacks makes it read the
 * key file again (above; then it blocks on the file system). Any thread. */
OB_NODISCARD ob_err ob_keystore_unwrap(ob_keystore *ks, const char *kid, const uint8_t *wrapped,
                                       size_t len, uint8_t dk[OB_VAULT_KEY_LEN]);

/* Wipes the cached data key of these wrapped bytes, if any. Any thread. */
void ob_keystore_forget(ob_keystore *ks, const char *kid, const uint8_t *wrapped, size_t len);

/*
 * Rotates the master key: appends a fresh key to the file (id "kYYYYMMDD", see
 * ob_vault_rotate_file), opens the file again and publishes that vault, whose active key id
 * goes to kid_out. The file is written before anything is published, so a data key is never
 * wrapped under a key that is not on disk. Returns OB_OK; OB_EPRECOND when ks has no file;
 * otherwise the error of ob_vault_rotate_file or ob_vault_open, with a one-line reason in err
 * (naming the file, never quoting a key), and the current vault stays in place (the appended
 * line, if any, stays in the file: a key that wraps nothing yet costs nothing). kid_out is
 * empty on failure. Blocks on the file system and on another rotation, never on readers.
 */
OB_NODISCARD ob_err ob_keystore_rotate(ob_keystore *ks, char kid_out[OB_VAULT_KID_SIZE], char *err,
                                       size_t errlen);

#endif
