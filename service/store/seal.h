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

/* What became of an application's data key when a store looked it up. */
typedef enum seal_key_state {
	SEAL_KEY_UNKNOWN,   /* not looked up yet */
	SEAL_KEY_OPEN,      /* unwrapped: in dk, to be wiped */
	SEAL_KEY_ERASED,    /* the contact is erased (or there is none) */
	SEAL_KEY_NO_MASTER, /* the vault lacks the master key it is wrapped under */
	SEAL_KEY_DAMAGED,   /* it fails its check */
} seal_key_state;

/* The state of a data key that seal_unwrap() returned err for. */
seal_key_state seal_key_state_of(ob_err unwrap_err);

/* The data key of the application a write sealed or opened last (seq 0:
 * none), kept in the store's transaction for the rest of the write, so that
 * its history note and its idempotent reply are sealed with the key in hand
 * rather than read and unwrapped again. Both stores keep one; it is wiped
 * when the write ends or the contact is erased (seal_key_forget). */
typedef struct seal_key_cache {
	int64_t seq;
	char id[OB_ID_LEN + 1];
	uint8_t dk[OB_VAULT_KEY_LEN];
} seal_key_cache;

/* Keeps dk as application seq's (id its application id). */
void seal_key_keep(seal_key_cache *k, int64_t seq, const uint8_t dk[OB_VAULT_KEY_LEN],
                   const char *id);
/* Wipes the key k holds, if any. */
void seal_key_forget(seal_key_cache *k);
/* How a store looks the data key of application seq up in its rows, ctx
 * its transaction: *state, and when that is SEAL_KEY_OPEN dk and id (the
 * application's id). Returns OB_OK whatever the state, or the store's error. */
typedef ob_err (*seal_key_lookup_fn)(void *ctx, int64_t seq, uint8_t dk[OB_VAULT_KEY_LEN],
                                     char id[OB_ID_LEN + 1], seal_key_state *state);

/* The body of a store's seal_key_fn: the key k holds when it is application
 * seq's (not 0), else the one lookup finds, then kept in k. OB_OK with dk and
 * id filled, OB_ENOTFOUND when the contact is erased, OB_ECORRUPT when the
 * key cannot be unwrapped, or lookup's error. */
ob_err seal_key_get(seal_key_cache *k, int64_t seq, seal_key_lookup_fn lookup, void *ctx,
                    uint8_t dk[OB_VAULT_KEY_LEN], char id[OB_ID_LEN + 1]);

/* How a store gives the data key of application seq within its transaction
 * t (sq_app_data_key, pg_app_data_key): OB_OK with the key in dk and the
 * application's id in id, OB_ENOTFOUND when the contact is erased (or
 * missing), OB_ECORRUPT when the key cannot be unwrapped. */
typedef ob_err (*seal_key_fn)(ob_txn *t, int64_t seq, uint8_t dk[OB_VAULT_KEY_LEN],
                              char id[OB_ID_LEN + 1]);

/* Seals note (len bytes), the note of history row n of application app_seq,
 * under its data key (key in t) into sealed (cap bytes), *sealed_len its
 * length: 0 when the contact is erased, since no key is left to seal it with
 * and nothing personal about it is to be kept. */
ob_err seal_app_note(seal_key_fn key, ob_txn *t, int64_t app_seq, int64_t n, const char *note,
                     size_t len, uint8_t *sealed, size_t cap, size_t *sealed_len);

/* History row n's note of application seq (id), sealed as ct (len bytes;
 * 0: erased), opened into out (cap bytes, OB_REASON_MAX + 1 at least) under
 * the application's data key dk, looked up as state says: "[erased]" when
 * the contact is erased, "[unreadable]" when the note fails its check or
 * the key cannot be had (logged by seq and row, never by value). */
void seal_open_note(seal_key_state state, const uint8_t dk[OB_VAULT_KEY_LEN], const char *id,
                    int64_t seq, int64_t n, const void *ct, size_t len, char *out, size_t cap);

/* What an idempotency record keeps of a reply. */
typedef struct seal_stored_reply {
	const uint8_t *bytes; /* the reply, or sealed */
	size_t len;
	int64_t app_seq; /* whose data key sealed it; 0: stored as it is */
	uint8_t *sealed; /* malloc'd; free() it */
} seal_stored_reply;

/* The record's reply for a call that changed application a (NULL: none):
 * sealed under a's data key (key in t) when a has a contact, since the
 * reply shows it; as it is when a has none, also when it was erased in this
 * very transaction (then the reply shows no contact). */
ob_err seal_app_reply(seal_key_fn key, ob_txn *t, const ob_application *a, const uint8_t *reply,
                      size_t len, seal_stored_reply *out);

/* What an idempotency record holds, opened into *reply (malloc'd, free()):
 * the n bytes at stored as they are when app_seq is 0, else sealed under
 * the data key of application app_seq (id), wrapped (wlen bytes) under
 * master key kid. OB_ECORRUPT, logged, when it cannot be opened: a damaged
 * key or reply, or a master key missing. */
ob_err seal_open_stored_reply(ob_keystore *keys, int64_t app_seq, const char *id, const char *kid,
                              const void *wrapped, size_t wlen, const void *stored, size_t n,
                              uint8_t **reply, size_t *len);

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
