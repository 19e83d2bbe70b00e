/*
 * Personal data: the contact of each application, sealed (domain/store.h).
 *
 * Each application gets a data key of its own, stored wrapped under the
 * vault's active master key; its name, e-mail and phone are sealed under it,
 * each bound to the application id and the field's name, so that a
 * ciphertext moved to another row or column does not open. A keyed blind
 * index of the e-mail serves lookups. Erasure is crypto-shredding: the
 * wrapped key goes, and with it everything sealed under it. A rotation
 * re-wraps the data keys under the new active master key.
 *
 * The vault is the keystore's, which a rotation replaces while serving
 * (crypto/keystore.h): whoever uses it holds a lease just for the call into
 * the vault.
 * Data keys live on the stack of the function that unwrapped them and are
 * wiped before it returns; besides, a new application's key waits in its
 * sealed contact (ob_sealed_contact) between the caller's thread and the
 * writer, and the keystore keeps recently unwrapped keys a few seconds
 * (crypto/keystore.h: the trade), which an erasure wipes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/log.h"
#include "store/sqlite_impl.h"

#include "store/seal.h"

const char *sq_loggable_kid(const char *kid)
{
	return seal_loggable_kid(kid);
}

ob_err sq_unwrap(sq_store *st, const char *kid, const void *wrapped, int len,
                 uint8_t dk[OB_VAULT_KEY_LEN])
{
	return seal_unwrap(st->keys, kid, wrapped, len > 0 ? (size_t)len : 0, dk);
}

void sq_read_contact(sq_store *st, sqlite3_stmt *s, ob_application *a)
{
	static const int columns[SEAL_FIELDS] = {APP_COL_name, APP_COL_email, APP_COL_phone};
	a->contact_erased_at_ms = sqlite3_column_int64(s, APP_COL_erased_at);
	sq_col_text(s, APP_COL_erased_by, a->contact_erased_by, sizeof(a->contact_erased_by));
	if (a->contact_erased_at_ms != 0) {
		a->contact_erased = true;
		return;
	}
	const void *ct[SEAL_FIELDS];
	size_t ct_len[SEAL_FIELDS];
	for (int f = 0; f < SEAL_FIELDS; f++) {
		ct[f] = sqlite3_column_blob(s, columns[f]);
		int n = sqlite3_column_bytes(s, columns[f]);
		ct_len[f] = n > 0 ? (size_t)n : 0;
	}
	int wlen = sqlite3_column_bytes(s, APP_COL_dk_wrapped);
	seal_open_contact(st->keys, a, (const char *)sqlite3_column_text(s, APP_COL_dk_kid),
	                  sqlite3_column_blob(s, APP_COL_dk_wrapped), wlen > 0 ? (size_t)wlen : 0,
	                  ct, ct_len);
}

ob_err sq_contact_seal(ob_store *base, const ob_application *a, ob_sealed_contact **out)
{
	return seal_ahead(((sq_store *)base)->keys, a, out);
}

void sq_contact_sealed_free(ob_sealed_contact *sc)
{
	seal_ahead_free(sc);
}

ob_err sq_contact_insert(sq_txn *t, const ob_application *a, const ob_sealed_contact *ahead)
{
	ob_sealed_contact now;
	const ob_sealed_contact *sealed = ahead;
	if (ahead == NULL || !seal_ahead_current(t->store->keys, ahead, a->id)) {
		ob_err err = seal_contact(t->store->keys, a, &now.sc, now.dk);
		if (err != OB_OK) {
			sodium_memzero(now.dk, sizeof(now.dk));
			return err;
		}
		sealed = &now;
	}
	const seal_contact_t *sc = &sealed->sc;
	seal_key_keep(&t->key, a->seq, sealed->dk, a->id); /* for its reply and history */
	if (sealed == &now)
		sodium_memzero(now.dk, sizeof(now.dk));
	PREP(t, ST_CONTACT_INSERT);
	sqlite3_bind_int64(s, 1, a->seq);
	sq_bind_text(s, 2, sc->kid);
	sqlite3_bind_blob(s, 3, sc->wrapped, (int)sc->wrapped_len, SQLITE_STATIC);
	for (int f = 0; f < SEAL_FIELDS; f++)
		sqlite3_bind_blob(s, 4 + f, sc->ct[f], (int)sc->ct_len[f], SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, sc->index, sizeof(sc->index), SQLITE_STATIC);
	ob_err err = sq_step_done(t->c, s, "contact_insert");
	sqlite3_clear_bindings(s); /* the buffers were bound static: drop them now */
	return err;
}

ob_err sq_data_key(sq_txn *t, int64_t seq, uint8_t dk[OB_VAULT_KEY_LEN], char id[OB_ID_LEN + 1],
                   seal_key_state *state, char kid[OB_VAULT_KID_SIZE])
{
	*state = SEAL_KEY_ERASED;
	kid[0] = '\0';
	PREP(t, ST_CONTACT_KEY);
	sqlite3_bind_int64(s, 1, seq);
	ob_err err = sq_step_row(t->c, s, "contact_key");
	if (err != OB_OK)
		return err == OB_ENOTFOUND ? OB_OK : err; /* no contact at all: as erased */
	const char *stored = (const char *)sqlite3_column_text(s, 0);
	if (stored != NULL) {
		snprintf(kid, OB_VAULT_KID_SIZE, "%s", sq_loggable_kid(stored));
		sq_col_text(s, 2, id, OB_ID_LEN + 1);
		err = sq_unwrap(t->store, stored, sqlite3_column_blob(s, 1),
		                sqlite3_column_bytes(s, 1), dk);
		*state = seal_key_state_of(err);
	}
	sqlite3_reset(s);
	return OB_OK;
}

/* sq_data_key as a seal_key_lookup_fn (ctx the sq_txn): without the key's id. */
static ob_err lookup_key(void *ctx, int64_t seq, uint8_t dk[OB_VAULT_KEY_LEN],
                         char id[OB_ID_LEN + 1], seal_key_state *state)
{
	char kid[OB_VAULT_KID_SIZE];
	return sq_data_key(ctx, seq, dk, id, state, kid);
}

ob_err sq_app_data_key(ob_txn *base, int64_t seq, uint8_t dk[OB_VAULT_KEY_LEN],
                       char id[OB_ID_LEN + 1])
{
	sq_txn *t = sq_txn_of(base);
	return seal_key_get(&t->key, seq, lookup_key, t, dk, id);
}

/* ---- erasure and lookup ------------------------------------------------- */

/* Runs statement which, bound to app_seq alone. */
static ob_err run_for_app(sq_txn *t, int which, int64_t app_seq, const char *what)
{
	PREP(t, which);
	sqlite3_bind_int64(s, 1, app_seq);
	return sq_step_done(t->c, s, what);
}

ob_err sq_contact_erase(ob_txn *base, int64_t app_seq, const char *actor, int64_t now_ms)
{
	sq_txn *t = sq_txn_of(base);
	seal_key_forget(&t->key); /* nothing of this write may be sealed under it any more */
	{
		PREP(t, ST_CONTACT_ERASED_AT);
		sqlite3_bind_int64(s, 1, app_seq);
		int64_t erased_at;
		ob_err err = sq_step_int64(t->c, s, &erased_at, "contact_erased_at");
		if (err != OB_OK)
			return err;
		if (erased_at != 0)
			return OB_EPRECOND;
	}
	{
		/* Its data key goes from the keystore's cache of unwrapped keys too. */
		PREP(t, ST_CONTACT_KEY);
		sqlite3_bind_int64(s, 1, app_seq);
		ob_err err = sq_step_row(t->c, s, "contact_key");
		if (err == OB_OK) {
			int n = sqlite3_column_bytes(s, 1);
			ob_keystore_forget(t->store->keys, (const char *)sqlite3_column_text(s, 0),
			                   sqlite3_column_blob(s, 1), n > 0 ? (size_t)n : 0);
			sqlite3_reset(s);
		} else if (err != OB_ENOTFOUND) {
			return err;
		}
	}
	{
		PREP(t, ST_CONTACT_ERASE);
		sqlite3_bind_int64(s, 1, app_seq);
		/* 0 means "never": an erasure at the epoch would not read as one. */
		sqlite3_bind_int64(s, 2, now_ms != 0 ? now_ms : 1);
		sq_bind_text(s, 3, actor);
		ob_err err = sq_step_done(t->c, s, "contact_erase");
		if (err != OB_OK)
			return err;
	}
	/* The notes people typed (review notes, withdrawal reasons) are sealed
	 * under the key just destroyed; their ciphertexts go too, leaving the
	 * mark of an erased note. The actions stay. The stored replies of the
	 * application's changes show the contact: they go as well. */
	ob_err err = run_for_app(t, ST_HISTORY_ERASE_NOTES, app_seq, "history_erase_notes");
	if (err == OB_OK)
		err = run_for_app(t, ST_IDEM_FORGET_APP, app_seq, "idem_forget_app");
	return err;
}

ob_err sq_apps_by_email(ob_txn *base, const uint8_t index[OB_STORE_INDEX_LEN], ob_application **out,
                        size_t *n)
{
	sq_txn *t = sq_txn_of(base);
	*out = NULL;
	*n = 0;
	PREP(t, ST_APPS_BY_EMAIL);
	sqlite3_bind_blob(s, 1, index, OB_STORE_INDEX_LEN, SQLITE_TRANSIENT);
	void *list;
	ob_err err =
	        sq_collect(t, s, 0, sizeof(**out), sq_read_app, NULL, &list, n, "apps_by_email");
	*out = list;
	return err;
}

void sq_email_index(ob_store *base, const char *email, uint8_t out[OB_STORE_INDEX_LEN])
{
	seal_email_index(((sq_store *)base)->keys, email, out);
}

/* ---- rotation ------------------------------------------------------------- */

typedef struct wrapped_key {
	int64_t seq;
	char kid[OB_VAULT_KID_SIZE];
	uint8_t wrapped[OB_VAULT_WRAPPED_LEN];
	size_t len; /* as stored; sizeof(wrapped) + 1 when longer: damaged */
} wrapped_key;

static void read_wrapped_key(sq_txn *t, sqlite3_stmt *s, void *item, void *ctx)
{
	wrapped_key *k = item;
	k->seq = sqlite3_column_int64(s, 0);
	sq_col_text(s, 1, k->kid, sizeof(k->kid));
	int len = sqlite3_column_bytes(s, 2);
	k->len = len > 0 ? (size_t)len : 0;
	if (k->len > sizeof(k->wrapped))
		k->len = sizeof(k->wrapped) + 1; /* damaged: fails to unwrap */
	else if (k->len > 0)
		memcpy(k->wrapped, sqlite3_column_blob(s, 2), k->len);
}

/* Re-wraps k under the active master key of v: OB_OK, or OB_EPRECOND when
 * k cannot be unwrapped (logged, left as it is), or the store's error. */
static ob_err rewrap_one(sq_txn *t, const ob_vault *v, const wrapped_key *k)
{
	uint8_t out[OB_VAULT_WRAPPED_LEN];
	size_t out_len;
	char kid[OB_VAULT_KID_SIZE];
	ob_err rw = ob_vault_rewrap(v, k->kid, k->wrapped, k->len > sizeof(k->wrapped) ? 0 : k->len,
	                            out, &out_len, kid);
	if (rw != OB_OK) {
		ob_log(OB_LOG_ERROR,
		       "store: the data key of application seq %lld (master key %s) cannot be "
		       "re-wrapped: %s",
		       (long long)k->seq, sq_loggable_kid(k->kid), ob_strerror(rw));
		return OB_EPRECOND;
	}
	PREP(t, ST_REWRAP_UPDATE);
	sqlite3_bind_int64(s, 1, k->seq);
	sq_bind_text(s, 2, kid);
	sqlite3_bind_blob(s, 3, out, (int)out_len, SQLITE_TRANSIENT);
	return sq_step_done(t->c, s, "rewrap_update");
}

ob_err sq_rewrap_batch(ob_txn *base, int64_t after_seq, size_t limit, size_t *rewrapped,
                       size_t *failed, int64_t *last_seq)
{
	sq_txn *t = sq_txn_of(base);
	*rewrapped = 0;
	*failed = 0;
	*last_seq = after_seq;
	if (limit == 0)
		return OB_OK;
	/* Read the batch first, then update: no update under a running scan. */
	void *list;
	size_t n;
	PREP(t, ST_REWRAP_SCAN);
	/* One vault for the whole batch, so that the scan and the re-wraps
	 * agree on the active key. */
	ob_keystore_lease lease;
	const ob_vault *v = ob_keystore_acquire(t->store->keys, &lease);
	char active[OB_VAULT_KID_SIZE];
	snprintf(active, sizeof(active), "%s", ob_vault_active_key_id(v));
	sqlite3_bind_int64(s, 1, after_seq);
	sq_bind_text(s, 2, active);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
	ob_err err = sq_collect(t, s, limit, sizeof(wrapped_key), read_wrapped_key, NULL, &list, &n,
	                        "rewrap_scan");
	wrapped_key *keys = list;
	for (size_t i = 0; err == OB_OK && i < n; i++) {
		*last_seq = keys[i].seq;
		err = rewrap_one(t, v, &keys[i]);
		if (err == OB_OK) {
			(*rewrapped)++;
		} else if (err == OB_EPRECOND) {
			(*failed)++;
			err = OB_OK;
		}
	}
	ob_keystore_release(&lease);
	free(keys);
	return err;
}
