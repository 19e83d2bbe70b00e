/*
 * seal.h: how both stores seal and open personal data (domain/store.h), so
 * that a row sealed by the SQLite store opens in the PostgreSQL one and the
 * reverse: the same data key per application wrapped under the keystore's
 * active master key, the same fields bound to the same associated data. Not
 * an interface: the stores read and bind the bytes, this file does the
 * cryptography. Every call into a vault holds a lease on it just for the
 * call (crypto/keystore.h). Data keys live on the callers' stacks and are
 * wiped by them.
 */
#ifndef OB_STORE_SEAL_H
#define OB_STORE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/keystore.h"
#include "crypto/vault.h"
#include "domain/model.h"
#include "domain/store.h"

/* The three sealed fields of a contact, in the order of their columns
 * (name, email, phone). */
enum { SEAL_NAME, SEAL_EMAIL, SEAL_PHONE, SEAL_FIELDS };

/* The sealed contact of a new application, ready to bind. */
typedef struct seal_contact_t {
	char kid[OB_VAULT_KID_SIZE];
	uint8_t wrapped[OB_VAULT_WRAPPED_LEN];
	size_t wrapped_len;
	uint8_t ct[SEAL_FIELDS][OB_EMAIL_MAX + 1 + OB_VAULT_SEAL_OVERHEAD];
	size_t ct_len[SEAL_FIELDS];
	uint8_t index[OB_VAULT_INDEX_LEN];
} seal_contact_t;

/* A key id read from a row, fit for the log: a damaged row could hold anything. */
const char *seal_loggable_kid(const char *kid);

/* Unwraps a stored data key with the keystore's vault. OB_ENOTFOUND: the
 * vault has no master key kid; OB_ECORRUPT for a missing or damaged key. */
ob_err seal_unwrap(ob_keystore *keys, const char *kid, const void *wrapped, size_t len,
                   uint8_t dk[OB_VAULT_KEY_LEN]);

/* Seals a's contact under a new data key, left in dk for the caller to keep
 * or wipe. */
ob_err seal_contact(ob_keystore *keys, const ob_application *a, seal_contact_t *out,
                    uint8_t dk[OB_VAULT_KEY_LEN]);

/* Opens a's contact (a->id and a->seq set) from its wrapped key and the three
 * ciphertexts, or marks it unreadable (empty fields, contact_unreadable, logged
 * by seq, never a value). */
void seal_open_contact(ob_keystore *keys, ob_application *a, const char *kid, const void *wrapped,
                       size_t wrapped_len, const void *const ct[SEAL_FIELDS],
                       const size_t ct_len[SEAL_FIELDS]);

enum { SEAL_NOTE_FIELD_SIZE = 40 };
/* The associated data's field of history row n's note: "history.N.note". */
void seal_note_field(int64_t n, char out[SEAL_NOTE_FIELD_SIZE]);

/* A stored idempotent reply sealed under dk (application id) into *sealed
 * (malloc'd, free()), and the reverse into *reply (malloc'd). */
ob_err seal_reply(const uint8_t dk[OB_VAULT_KEY_LEN], const char *id, const uint8_t *reply,
                  size_t len, uint8_t **sealed, size_t *sealed_len);
ob_err seal_open_reply(const uint8_t dk[OB_VAULT_KEY_LEN], const char *id, const void *sealed,
                       size_t n, uint8_t **reply, size_t *len);

/* The blind index of an e-mail under the keystore's current vault. */
void seal_email_index(ob_keystore *keys, const char *email, uint8_t out[OB_STORE_INDEX_LEN]);

/* A new application's contact sealed ahead of its write (domain/store.h,
 * contact_seal), for both stores: the bytes to bind, and the data key and
 * id that the write's stored reply is sealed with. */
struct ob_sealed_contact {
	seal_contact_t sc;
	uint8_t dk[OB_VAULT_KEY_LEN];
	char id[OB_ID_LEN + 1];
};

/* Seals a's contact into *out (malloc'd; seal_ahead_free wipes and frees). */
ob_err seal_ahead(ob_keystore *keys, const ob_application *a, ob_sealed_contact **out);
void seal_ahead_free(ob_sealed_contact *sc);
/* Whether sc's data key is wrapped under the keystore's active master key,
 * and sealed for application id: else the write seals again. */
bool seal_ahead_current(ob_keystore *keys, const ob_sealed_contact *sc, const char *id);

#endif
