/*
 * Sealing personal data, for both stores (seal.h). Moved out of the SQLite
 * store when the PostgreSQL one came, so that the two cannot seal apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/log.h"
#include "store/seal.h"

static const char *const contact_fields[SEAL_FIELDS] = {"name", "email", "phone"};
static const char idem_field[] = "idempotency";

_Static_assert((int)OB_EMAIL_MAX >= (int)OB_NAME_MAX &&
                       (int)OB_EMAIL_MAX >= (int)OB_FR_PHONE_STR_SIZE,
               "seal_contact_t.ct holds the longest field");
_Static_assert((int)OB_STORE_INDEX_LEN == (int)OB_VAULT_INDEX_LEN, "blind index length");

static char *contact_field(ob_contact *c, int f, size_t *cap)
{
	switch (f) {
	case SEAL_NAME:
		*cap = sizeof(c->name);
		return c->name;
	case SEAL_EMAIL:
		*cap = sizeof(c->email);
		return c->email;
	default:
		*cap = sizeof(c->phone);
		return c->phone;
	}
}

const char *seal_loggable_kid(const char *kid)
{
	return ob_vault_kid_valid(kid) ? kid : "(not a key id)";
}

ob_err seal_unwrap(ob_keystore *keys, const char *kid, const void *wrapped, size_t len,
                   uint8_t dk[OB_VAULT_KEY_LEN])
{
	if (kid == NULL || wrapped == NULL || len == 0) {
		sodium_memzero(dk, OB_VAULT_KEY_LEN);
		return OB_ECORRUPT;
	}
	return ob_keystore_unwrap(keys, kid, wrapped, len, dk);
}

/* Marks a's contact unreadable: empty fields, and the flag the domain checks. */
static void contact_unreadable(ob_application *a)
{
	sodium_memzero(&a->contact, sizeof(a->contact));
	a->contact_unreadable = true;
}

void seal_open_contact(ob_keystore *keys, ob_application *a, const char *kid, const void *wrapped,
                       size_t wrapped_len, const void *const ct[SEAL_FIELDS],
                       const size_t ct_len[SEAL_FIELDS])
{
	uint8_t dk[OB_VAULT_KEY_LEN];
	const char *failed = "data key";
	ob_err err = seal_unwrap(keys, kid, wrapped, wrapped_len, dk);
	if (err == OB_ENOTFOUND) {
		contact_unreadable(a);
		/* Following a shared key file, a valid key id the file lacks is another instance's
		 * rotation not seen here yet: the domain answers UNAVAILABLE naming it, and the
		 * keystore logs it. One instance per file: the key is gone, damage. */
		if (ob_keystore_follows(keys) && ob_vault_kid_valid(kid))
			snprintf(a->contact_key_missing, sizeof(a->contact_key_missing), "%s", kid);
		else
			ob_log(OB_LOG_ERROR,
			       "store: the contact of application seq %lld cannot be decrypted: "
			       "its "
			       "master key id is %s",
			       (long long)a->seq, seal_loggable_kid(kid));
		return;
	}
	for (int f = 0; err == OB_OK && f < SEAL_FIELDS; f++) {
		size_t cap, len;
		char *out = contact_field(&a->contact, f, &cap);
		err = ob_vault_unseal(dk, a->id, contact_fields[f], ct[f], ct_len[f], out, cap,
		                      &len);
		if ((err == OB_OK && strlen(out) != len) || err == OB_ETOOBIG)
			err = OB_ECORRUPT; /* a NUL inside, or too long: never written so */
		if (err != OB_OK)
			failed = contact_fields[f];
	}
	sodium_memzero(dk, sizeof(dk));
	if (err != OB_OK) {
		contact_unreadable(a);
		ob_log(OB_LOG_ERROR,
		       "store: the contact of application seq %lld cannot be decrypted (%s: %s)",
		       (long long)a->seq, failed, ob_strerror(err));
	}
}

ob_err seal_contact(ob_keystore *keys, const ob_application *a, seal_contact_t *out,
                    uint8_t dk[OB_VAULT_KEY_LEN])
{
	ob_keystore_lease lease;
	const ob_vault *v = ob_keystore_acquire(keys, &lease);
	ob_err err = ob_vault_new_data_key(v, dk, out->wrapped, &out->wrapped_len, out->kid);
	if (err == OB_OK)
		ob_vault_blind_index(v, a->contact.email, out->index);
	ob_keystore_release(&lease);
	ob_contact c = a->contact; /* a copy, to reach the fields by number */
	for (int f = 0; err == OB_OK && f < SEAL_FIELDS; f++) {
		size_t cap;
		const char *plain = contact_field(&c, f, &cap);
		err = ob_vault_seal(dk, a->id, contact_fields[f], plain, strnlen(plain, cap),
		                    out->ct[f], sizeof(out->ct[f]), &out->ct_len[f]);
	}
	sodium_memzero(&c, sizeof(c));
	if (err != OB_OK)
		ob_log(OB_LOG_ERROR, "store: cannot seal a contact: %s", ob_strerror(err));
	return err;
}

void seal_note_field(int64_t n, char out[SEAL_NOTE_FIELD_SIZE])
{
	snprintf(out, SEAL_NOTE_FIELD_SIZE, "history.%lld.note", (long long)n);
}

ob_err seal_reply(const uint8_t dk[OB_VAULT_KEY_LEN], const char *id, const uint8_t *reply,
                  size_t len, uint8_t **sealed, size_t *sealed_len)
{
	*sealed = NULL;
	if (len > SIZE_MAX - OB_VAULT_SEAL_OVERHEAD)
		return OB_ETOOBIG;
	if ((*sealed = malloc(len + OB_VAULT_SEAL_OVERHEAD)) == NULL)
		return OB_ENOMEM;
	ob_err err = ob_vault_seal(dk, id, idem_field, (const char *)reply, len, *sealed,
	                           len + OB_VAULT_SEAL_OVERHEAD, sealed_len);
	if (err != OB_OK) {
		free(*sealed);
		*sealed = NULL;
	}
	return err;
}

ob_err seal_open_reply(const uint8_t dk[OB_VAULT_KEY_LEN], const char *id, const void *sealed,
                       size_t n, uint8_t **reply, size_t *len)
{
	size_t cap = n > OB_VAULT_SEAL_OVERHEAD ? n : 1;
	if ((*reply = malloc(cap)) == NULL)
		return OB_ENOMEM;
	ob_err err = ob_vault_unseal(dk, id, idem_field, sealed, n, (char *)*reply, cap, len);
	if (err != OB_OK) {
		free(*reply);
		*reply = NULL;
		*len = 0;
	}
	return err;
}

void seal_key_keep(seal_key_cache *k, int64_t seq, const uint8_t dk[OB_VAULT_KEY_LEN],
                   const char *id)
{
	k->seq = seq;
	memcpy(k->dk, dk, OB_VAULT_KEY_LEN);
	snprintf(k->id, sizeof(k->id), "%s", id);
}

void seal_key_forget(seal_key_cache *k)
{
	if (k->seq != 0)
		sodium_memzero(k, sizeof(*k));
}

seal_key_state seal_key_state_of(ob_err unwrap_err)
{
	return unwrap_err == OB_OK          ? SEAL_KEY_OPEN
	       : unwrap_err == OB_ENOTFOUND ? SEAL_KEY_NO_MASTER
	                                    : SEAL_KEY_DAMAGED;
}

ob_err seal_key_get(seal_key_cache *k, int64_t seq, seal_key_lookup_fn lookup, void *ctx,
                    uint8_t dk[OB_VAULT_KEY_LEN], char id[OB_ID_LEN + 1])
{
	if (seq != 0 && k->seq == seq) {
		memcpy(dk, k->dk, OB_VAULT_KEY_LEN);
		memcpy(id, k->id, OB_ID_LEN + 1);
		return OB_OK;
	}
	seal_key_state state;
	ob_err err = lookup(ctx, seq, dk, id, &state);
	if (err != OB_OK)
		return err;
	if (state == SEAL_KEY_OPEN) {
		seal_key_keep(k, seq, dk, id);
		return OB_OK;
	}
	return state == SEAL_KEY_ERASED ? OB_ENOTFOUND : OB_ECORRUPT;
}

void seal_open_note(seal_key_state state, const uint8_t dk[OB_VAULT_KEY_LEN], const char *id,
                    int64_t seq, int64_t n, const void *ct, size_t len, char *out, size_t cap)
{
	static const char erased[] = "[erased]", unreadable[] = "[unreadable]";
	if (len == 0 || state == SEAL_KEY_ERASED) {
		/* Erased, or erased in this very transaction: the mark is not
		 * written yet. */
		memcpy(out, erased, sizeof(erased));
		return;
	}
	ob_err err = OB_ECORRUPT;
	size_t got = 0;
	if (state == SEAL_KEY_OPEN) {
		char field[SEAL_NOTE_FIELD_SIZE];
		seal_note_field(n, field);
		err = ob_vault_unseal(dk, id, field, ct, len, out, cap, &got);
		if (err == OB_OK && strlen(out) != got)
			err = OB_ECORRUPT; /* a NUL inside: never written so */
	}
	if (err != OB_OK) {
		memcpy(out, unreadable, sizeof(unreadable));
		ob_log(OB_LOG_ERROR,
		       "store: the note of history row %lld of application seq %lld cannot be "
		       "decrypted: %s",
		       (long long)n, (long long)seq, ob_strerror(err));
	}
}

ob_err seal_app_note(seal_key_fn key, ob_txn *t, int64_t app_seq, int64_t n, const char *note,
                     size_t len, uint8_t *sealed, size_t cap, size_t *sealed_len)
{
	uint8_t dk[OB_VAULT_KEY_LEN];
	char id[OB_ID_LEN + 1], field[SEAL_NOTE_FIELD_SIZE];
	seal_note_field(n, field);
	*sealed_len = 0;
	ob_err err = key(t, app_seq, dk, id);
	if (err == OB_OK)
		err = ob_vault_seal(dk, id, field, note, len, sealed, cap, sealed_len);
	sodium_memzero(dk, sizeof(dk));
	return err == OB_ENOTFOUND ? OB_OK : err;
}

ob_err seal_app_reply(seal_key_fn key, ob_txn *t, const ob_application *a, const uint8_t *reply,
                      size_t len, seal_stored_reply *out)
{
	*out = (seal_stored_reply){.bytes = reply, .len = len};
	if (a == NULL || a->seq <= 0 || a->contact_erased)
		return OB_OK;
	uint8_t dk[OB_VAULT_KEY_LEN];
	char id[OB_ID_LEN + 1];
	size_t sealed_len = 0;
	ob_err err = key(t, a->seq, dk, id);
	if (err == OB_OK)
		err = seal_reply(dk, id, reply, len, &out->sealed, &sealed_len);
	sodium_memzero(dk, sizeof(dk));
	if (err == OB_ENOTFOUND)
		return OB_OK; /* erased in this transaction: the reply shows no contact */
	if (err == OB_OK)
		*out = (seal_stored_reply){.bytes = out->sealed,
		                           .len = sealed_len,
		                           .app_seq = a->seq,
		                           .sealed = out->sealed};
	return err;
}

ob_err seal_open_stored_reply(ob_keystore *keys, int64_t app_seq, const char *id, const char *kid,
                              const void *wrapped, size_t wlen, const void *stored, size_t n,
                              uint8_t **reply, size_t *len)
{
	if (app_seq == 0) {
		if ((*reply = malloc(n > 0 ? n : 1)) == NULL)
			return OB_ENOMEM;
		if (n > 0)
			memcpy(*reply, stored, n);
		*len = n;
		return OB_OK;
	}
	uint8_t dk[OB_VAULT_KEY_LEN];
	ob_err err = seal_unwrap(keys, kid, wrapped, wlen, dk);
	if (err == OB_ENOTFOUND)
		err = OB_ECORRUPT; /* the master key is missing */
	if (err == OB_OK)
		err = seal_open_reply(dk, id, stored, n, reply, len);
	sodium_memzero(dk, sizeof(dk));
	if (err == OB_ECORRUPT)
		ob_log(OB_LOG_ERROR,
		       "store: the stored reply of an idempotency key of application seq %lld "
		       "cannot be decrypted",
		       (long long)app_seq);
	return err;
}

void seal_email_index(ob_keystore *keys, const char *email, uint8_t out[OB_STORE_INDEX_LEN])
{
	ob_keystore_lease lease;
	ob_vault_blind_index(ob_keystore_acquire(keys, &lease), email, out);
	ob_keystore_release(&lease);
}

ob_err seal_ahead(ob_keystore *keys, const ob_application *a, ob_sealed_contact **out)
{
	ob_sealed_contact *sc = malloc(sizeof(*sc));
	*out = NULL;
	if (sc == NULL)
		return OB_ENOMEM;
	ob_err err = seal_contact(keys, a, &sc->sc, sc->dk);
	if (err != OB_OK) {
		seal_ahead_free(sc);
		return err;
	}
	snprintf(sc->id, sizeof(sc->id), "%s", a->id);
	*out = sc;
	return OB_OK;
}

void seal_ahead_free(ob_sealed_contact *sc)
{
	if (sc == NULL)
		return;
	sodium_memzero(sc, sizeof(*sc));
	free(sc);
}

bool seal_ahead_current(ob_keystore *keys, const ob_sealed_contact *sc, const char *id)
{
	ob_keystore_lease lease;
	const char *active = ob_vault_active_key_id(ob_keystore_acquire(keys, &lease));
	bool current = active != NULL && strcmp(active, sc->sc.kid) == 0 && strcmp(sc->id, id) == 0;
	ob_keystore_release(&lease);
	return current;
}
