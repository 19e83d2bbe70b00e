/*
 * vault.h: encryption of the contact person's personal data (name, e-mail, phone).
 *
 * Three layers of keys:
 *
 *   master keys   32 bytes each, read from a text file (below), each with a key id (kid).
 *                 They never touch a database row; they only wrap data keys.
 *   data keys     32 random bytes per application, stored wrapped (encrypted) under the
 *                 active master key, with the kid of that master key beside them. Destroying
 *                 an application's wrapped data key makes its ciphertexts unreadable for good
 *                 (crypto-shredding), backups included once they age out.
 *   field seals   each personal field encrypted under its application's data key.
 *
 * Both encryptions are XChaCha20-Poly1305 (crypto_aead_xchacha20poly1305_ietf) with a random
 * 24-byte nonce prepended: random nonces of that size never need a counter or any state, so
 * the vault is immutable after it is opened and every function is thread-safe.
 *
 * Associated data (authenticated, not stored):
 *   wrapped data key   "onboard-dk-v1" 0x00 KID
 *   sealed field       "onboard-pii-v1" 0x00 APP_ID 0x00 FIELD
 * so a wrapped key only opens under the kid it names, and a sealed field only opens for the
 * application id and field name it was sealed for: a ciphertext copied to another row or
 * column fails with OB_ECORRUPT. The version tags let a later format coexist with this one.
 *
 * Blind index: lookup by e-mail uses BLAKE2b-256 keyed with a secret of its own (the index
 * key, below) over "onboard-email-v1" 0x00 NORMALISED_EMAIL, where the e-mail is normalised
 * by trimming ASCII white space at both ends and lowercasing ASCII letters (the whole address:
 * no mail provider this service deals with treats the local part case-sensitively). Unicode
 * is left alone. Equal e-mails give equal indexes (that is the point): the index reveals which
 * applications share a contact e-mail, nothing else.
 *
 * The master key file, one entry a line, '#' starts a comment line, blank lines ignored:
 *
 *   # onboard master keys
 *   index 5Y1q...base64 of 32 bytes...=
 *   k20240101 Zm9v...base64 of 32 bytes...=
 *   k20250101 YmFy...base64 of 32 bytes...=
 *
 *   - KID BASE64: a master key. KID is 1 to 16 characters of [a-z0-9-], unique in the file;
 *     BASE64 is the standard alphabet with padding (44 characters). At most
 *     OB_VAULT_MAX_KEYS master keys. The LAST key line is the active key: it wraps new data
 *     keys. Earlier lines stay so that data keys wrapped before a rotation still unwrap; a
 *     line can be deleted once `onboard admin rotate-keys` has re-wrapped every data key
 *     that names it (typically to retire a key believed leaked).
 *   - index BASE64: exactly one, anywhere in the file ("index" is therefore not a valid kid).
 *     The e-mail blind-index key is derived from it with crypto_kdf_derive_from_key (context
 *     "obindex", subkey id 1); other subkey ids are free for other indexes later.
 *
 *   Why a separate index line rather than deriving the index key from the first master key:
 *   the blind index must not change when master keys rotate, and the natural end of a
 *   rotation is deleting the oldest key line. Had the index key come from the first line,
 *   that deletion would silently change every blind index, and lookups by e-mail (erasure
 *   requests among them) would find nothing, with no error anywhere. Changing the index key
 *   is a deliberate, separate operation: recompute every index from the decrypted e-mails.
 *
 *   The file must be a regular file owned by the effective uid with no permission bits for
 *   group or others (0600 or 0400); otherwise it is refused with OB_EPERM and a message
 *   saying `chmod 600 FILE`. It is read whole, at most OB_VAULT_MAX_FILE bytes.
 *
 * Error messages (the err buffers below) name the file, the line number and what is wrong.
 * They never quote a line: a line holds a secret. Nothing here logs.
 *
 * libsodium must be initialised: the constructors (ob_vault_open, ob_vault_from_text,
 * ob_vault_from_keys, ob_vault_generate_file, ob_vault_rotate_file) call sodium_init()
 * themselves; ob_vault_seal and ob_vault_unseal, which take no vault, rely on one of those
 * (or main) having done so.
 */
#ifndef OB_CRYPTO_VAULT_H
#define OB_CRYPTO_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum {
	OB_VAULT_KEY_LEN = 32,        /* master, data, index and blind-index sizes */
	OB_VAULT_KID_MAX = 16,        /* characters of a key id */
	OB_VAULT_KID_SIZE = 17,       /* a key id and its NUL */
	OB_VAULT_MAX_KEYS = 64,       /* master key lines in one file */
	OB_VAULT_MAX_FILE = 64 << 10, /* bytes of a master key file */
	OB_VAULT_NONCE_LEN = 24,
	OB_VAULT_TAG_LEN = 16,
	/* A wrapped data key: nonce || encrypted key || tag. */
	OB_VAULT_WRAPPED_LEN = OB_VAULT_NONCE_LEN + OB_VAULT_KEY_LEN + OB_VAULT_TAG_LEN,
	/* A sealed field is this many bytes longer than its plaintext: nonce || ct || tag. */
	OB_VAULT_SEAL_OVERHEAD = OB_VAULT_NONCE_LEN + OB_VAULT_TAG_LEN,
	/* Longest application id and field name accepted in the associated data. */
	OB_VAULT_AD_PART_MAX = 255,
	OB_VAULT_INDEX_LEN = 32, /* a blind index */
};

/* The master keys and the index key, in guarded read-only memory (sodium_malloc). */
typedef struct ob_vault ob_vault;

/*
 * Reads the master key file at path into *out, under a shared flock(2) so that it never
 * sees half of a rotation's append. Blocks on the file system and while a rotation runs.
 * Returns OB_OK; OB_ENOTFOUND if there is no such file; OB_EPERM if it is not a regular file
 * owned by the effective uid with mode 0600 or stricter; OB_EINVAL if a line is malformed,
 * a kid repeats, or the index line or every key line is missing; OB_ETOOBIG over
 * OB_VAULT_MAX_KEYS keys or OB_VAULT_MAX_FILE bytes; OB_EIO if reading fails; OB_ENOMEM.
 * On failure *out is NULL and, if errlen > 0, err holds a one-line reason naming the file
 * (and the line); on success err is untouched. The caller frees *out with ob_vault_destroy.
 */
OB_NODISCARD ob_err ob_vault_open(const char *path, ob_vault **out, char *err, size_t errlen);

/*
 * Parses the contents of a master key file (len bytes at text, need not be NUL-terminated;
 * not retained, the caller wipes it) into *out. name stands for the file in messages (may be
 * NULL). Same results and ownership as ob_vault_open short of the file checks. Does not block.
 */
OB_NODISCARD ob_err ob_vault_from_text(const char *text, size_t len, const char *name,
                                       ob_vault **out, char *err, size_t errlen);

/*
 * Builds a vault from keys in memory, for tests and tools: n master keys (1 to
 * OB_VAULT_MAX_KEYS) with ids kids[i] (valid kids, distinct), the last one active, and the
 * index key. The bytes are copied; the caller keeps and wipes its own. Returns OB_OK,
 * OB_EINVAL for a bad kid, a repeated kid or n out of range, OB_ENOMEM. The caller frees
 * *out with ob_vault_destroy.
 */
OB_NODISCARD ob_err ob_vault_from_keys(const char *const *kids,
                                       const uint8_t (*keys)[OB_VAULT_KEY_LEN], size_t n,
                                       const uint8_t index_key[OB_VAULT_KEY_LEN], ob_vault **out);

/* Wipes and frees every key of v. Accepts NULL. No thread may still be using v. */
void ob_vault_destroy(ob_vault *v);

/* The kid of the active master key, owned by v and valid until ob_vault_destroy. */
const char *ob_vault_active_key_id(const ob_vault *v);

/* The number of master keys of v (1 to OB_VAULT_MAX_KEYS). */
size_t ob_vault_key_count(const ob_vault *v);

/* Whether kid is a key id a key file may hold: 1 to OB_VAULT_KID_MAX characters of [a-z0-9-],
 * not "index". Any string (it may come from a database row). */
bool ob_vault_kid_valid(const char *kid);

/* Whether v has a master key with id kid (any string: it may come from a database row). */
bool ob_vault_has_key(const ob_vault *v, const char *kid);

/*
 * Whether next keeps everything of old: each master key of old in next under the same id
 * with the same bytes, and the same index key. That is all a key file may become while
 * onboardd runs (keys added; none dropped or changed): a file that fails it would leave data
 * keys, or e-mail lookups, that no longer open. If not, the first id missing or changed
 * ("index" for the index key) goes to lost. Compares in constant time. Does not block.
 */
bool ob_vault_extends(const ob_vault *next, const ob_vault *old, char lost[OB_VAULT_KID_SIZE]);

/*
 * Creates a new master key file at path with mode 0600 (whatever the umask), holding a
 * fresh random index key and one fresh random master key whose id is kid, or if kid is NULL
 * "kYYYYMMDD" (today, UTC). Never overwrites: OB_EEXIST if path exists (even as a dangling
 * symlink). The file and its directory entry are fsync'ed before returning OB_OK. Other
 * results: OB_EINVAL (bad kid), OB_EPERM (cannot create there), OB_EIO. On failure nothing
 * is left at path. Blocks on the file system.
 */
OB_NODISCARD ob_err ob_vault_generate_file(const char *path, const char *kid, char *err,
                                           size_t errlen);

/*
 * Appends a fresh random master key line to the master key file at path, which becomes the
 * active key the next time the file is opened; a running server only uses it after it
 * reopens the file. The id is new_kid, or if new_kid is NULL "kYYYYMMDD" (today, UTC) with
 * "-2", "-3"... added if that id is taken; it is copied to kid_out if not NULL.
 *
 * The file passes the same checks as in ob_vault_open and must parse before anything is
 * written. The append is one write(2) on the same inode (mode, owner, bind mounts and
 * hard links unaffected) under an exclusive flock(2), so concurrent rotations are
 * serialised, then fsync'ed; a failed write is truncated away. A crash in the middle of the
 * write can at worst leave a partial last line, which ob_vault_open then refuses by line
 * number; since no data key can have been wrapped under a key that was never fully written,
 * deleting that line by hand loses nothing.
 *
 * Returns OB_OK; OB_ENOTFOUND, OB_EPERM, OB_EINVAL, OB_ETOOBIG as ob_vault_open (and
 * OB_ETOOBIG when the file already holds OB_VAULT_MAX_KEYS keys); OB_EEXIST if new_kid is
 * already in the file; OB_EIO. Blocks on the file system and on another rotation's lock.
 */
OB_NODISCARD ob_err ob_vault_rotate_file(const char *path, const char *new_kid,
                                         char kid_out[OB_VAULT_KID_SIZE], char *err, size_t errlen);

/*
 * Makes a new data key: dk receives 32 random bytes, wrapped receives dk wrapped under the
 * active master key (*wrapped_len = OB_VAULT_WRAPPED_LEN), kid_out that key's id. The caller
 * stores wrapped and kid_out with the application, and wipes dk (sodium_memzero) after use.
 * Returns OB_OK, or OB_EINTERNAL if the cipher fails (it does not).
 */
OB_NODISCARD ob_err ob_vault_new_data_key(const ob_vault *v, uint8_t dk[OB_VAULT_KEY_LEN],
                                          uint8_t wrapped[OB_VAULT_WRAPPED_LEN],
                                          size_t *wrapped_len, char kid_out[OB_VAULT_KID_SIZE]);

/*
 * Unwraps a data key wrapped under the master key kid (len bytes at wrapped, as stored).
 * Returns OB_OK with the key in dk (the caller wipes it); OB_ENOTFOUND if v has no master key
 * kid (the key line was deleted, or kid is garbage); OB_ECORRUPT if wrapped is not exactly
 * OB_VAULT_WRAPPED_LEN bytes or fails authentication (tampered, or stored beside another
 * kid). On failure dk is zeroed.
 */
OB_NODISCARD ob_err ob_vault_unwrap(const ob_vault *v, const char *kid, const uint8_t *wrapped,
                                    size_t len, uint8_t dk[OB_VAULT_KEY_LEN]);

/*
 * For rotation: unwraps wrapped (under kid) and wraps the same data key again under the
 * active master key into out (*out_len = OB_VAULT_WRAPPED_LEN), with its id in new_kid. The
 * data key only exists on this function's stack, wiped before it returns. out may not
 * overlap wrapped. Results as ob_vault_unwrap; on failure out is zeroed.
 */
OB_NODISCARD ob_err ob_vault_rewrap(const ob_vault *v, const char *kid, const uint8_t *wrapped,
                                    size_t len, uint8_t out[OB_VAULT_WRAPPED_LEN], size_t *out_len,
                                    char new_kid[OB_VAULT_KID_SIZE]);

/*
 * Seals plain_len bytes of plain (any bytes, NUL included) for the field named field of the
 * application app_id, under its data key dk, into out (out_cap bytes; it needs plain_len +
 * OB_VAULT_SEAL_OVERHEAD). Sets *out_len. app_id and field are NUL-terminated, at most
 * OB_VAULT_AD_PART_MAX bytes each; they are not stored, the caller passes them again to
 * ob_vault_unseal. out may not overlap plain.
 * Returns OB_OK; OB_ETOOBIG if out_cap is too small (out untouched); OB_EINVAL if app_id or
 * field is too long.
 */
OB_NODISCARD ob_err ob_vault_seal(const uint8_t dk[OB_VAULT_KEY_LEN], const char *app_id,
                                  const char *field, const char *plain, size_t plain_len,
                                  uint8_t *out, size_t out_cap, size_t *out_len);

/*
 * Opens len bytes sealed by ob_vault_seal for the same dk, app_id and field into plain
 * (plain_cap bytes; it needs len - OB_VAULT_SEAL_OVERHEAD + 1), NUL-terminated, with the
 * length without the NUL in *plain_len (authoritative: the plaintext may hold a NUL).
 * Returns OB_OK; OB_ECORRUPT if in is shorter than OB_VAULT_SEAL_OVERHEAD or fails
 * authentication (tampered, truncated, another key, or sealed for another application or
 * field); OB_ETOOBIG if plain_cap is too small; OB_EINVAL if app_id or field is too long.
 * On failure plain holds an empty string (if plain_cap > 0) and *plain_len is 0: no
 * unauthenticated byte is ever released.
 */
OB_NODISCARD ob_err ob_vault_unseal(const uint8_t dk[OB_VAULT_KEY_LEN], const char *app_id,
                                    const char *field, const uint8_t *in, size_t len, char *plain,
                                    size_t plain_cap, size_t *plain_len);

/*
 * The blind index of email (NUL-terminated, any length) under v's index key, into out.
 * " A@Example.FR" and "a@example.fr" give the same index; another index key gives another.
 */
void ob_vault_blind_index(const ob_vault *v, const char *email, uint8_t out[OB_VAULT_INDEX_LEN]);

#endif
