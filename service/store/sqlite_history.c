/*
 * The history of an application's changes. What happened (the reason, in
 * the service's words) is kept in clear; what a person typed with it (the
 * note) is sealed under the data key of its application, bound to the
 * application id and the row ("history.N.note", see migrations.c): the same
 * protection as the contact, and the same erasure, after which it reads
 * "[erased]".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/log.h"
#include "store/migrations.h"
#include "store/seal.h"
#include "store/sqlite_impl.h"

ob_err sq_history_append(ob_txn *base, int64_t app_seq, const ob_state_change *c)
{
	sq_txn *t = sq_txn_of(base);
	uint8_t sealed[OB_REASON_MAX + OB_VAULT_SEAL_OVERHEAD];
	size_t sealed_len = 0;
	int64_t n = -1;
	bool has_note = c->note[0] != '\0';
	if (has_note) {
		/* The row's number goes into the associated data: count first. */
		PREP(t, ST_HISTORY_COUNT);
		sqlite3_bind_int64(s, 1, app_seq);
		ob_err err = sq_step_int64(t->c, s, &n, "history_count");
		if (err == OB_OK)
			err = seal_app_note(sq_app_data_key, base, app_seq, n, c->note,
			                    strnlen(c->note, sizeof(c->note)), sealed,
			                    sizeof(sealed), &sealed_len);
		if (err != OB_OK)
			return err == OB_ENOTFOUND ? OB_EIO : err;
	}
	PREP(t, ST_HISTORY_APPEND);
#define BIND_HISTORY(col, kind, field) BIND_##kind(s, HISTORY_PARAM_##col, c, field);
	sqlite3_bind_int64(s, HISTORY_PARAM_app_seq, app_seq);
	HISTORY_COLUMNS(BIND_HISTORY, BIND_HISTORY)
#undef BIND_HISTORY
	if (!has_note)
		sqlite3_bind_null(s, HISTORY_PARAM_note);
	else if (sealed_len == 0)
		sqlite3_bind_zeroblob(s, HISTORY_PARAM_note, 0);
	else
		sqlite3_bind_blob(s, HISTORY_PARAM_note, sealed, (int)sealed_len, SQLITE_TRANSIENT);
	if (n >= 0)
		sqlite3_bind_int64(s, HISTORY_PARAM_n, n);
	else
		sqlite3_bind_null(s, HISTORY_PARAM_n);
	return sq_step_done(t->c, s, "history_append");
}

/* What history_load reads under: the application, and its data key once
 * looked up (at the first sealed note). */
typedef struct note_key {
	const ob_application *a;
	seal_key_state state;
	uint8_t dk[OB_VAULT_KEY_LEN];
	char id[OB_ID_LEN + 1];
	char kid[OB_VAULT_KID_SIZE];
} note_key;

/* The note of the current row (history row n of k->a) into out
 * (OB_REASON_MAX + 1 bytes): "" for none, "[erased]" for one erased,
 * "[unreadable]" for one that fails its check (logged by seq and row, never
 * by value). */
static void read_note(sq_txn *t, sqlite3_stmt *s, int64_t n, note_key *k, char *out)
{
	out[0] = '\0';
	if (sqlite3_column_type(s, HISTORY_COL_note) == SQLITE_NULL)
		return;
	int len = sqlite3_column_bytes(s, HISTORY_COL_note);
	if (len > 0 && k->state == SEAL_KEY_UNKNOWN &&
	    sq_data_key(t, k->a->seq, k->dk, k->id, &k->state, k->kid) != OB_OK)
		k->state = SEAL_KEY_DAMAGED;
	seal_open_note(k->state, k->dk, k->id, k->a->seq, n,
	               sqlite3_column_blob(s, HISTORY_COL_note), (size_t)len, out,
	               OB_REASON_MAX + 1);
}

#define READ_HISTORY(col, kind, field) READ_##kind(s, HISTORY_COL_##col, c, field);

static void read_change(sq_txn *t, sqlite3_stmt *s, void *item, void *ctx)
{
	ob_state_change *c = item;
	HISTORY_COLUMNS(READ_HISTORY, READ_HISTORY)
	read_note(t, s, sqlite3_column_int64(s, HISTORY_COL_n), ctx, c->note);
}

ob_err sq_history_load(ob_txn *base, ob_application *a)
{
	sq_txn *t = sq_txn_of(base);
	/* The history this store allocated into a before (model.h: malloc'd). */
	free(a->history);
	a->history = NULL;
	a->n_history = 0;
	PREP(t, ST_HISTORY_LOAD);
	sqlite3_bind_int64(s, 1, a->seq);
	note_key k = {.a = a, .state = SEAL_KEY_UNKNOWN};
	void *list;
	ob_err err = sq_collect(t, s, 0, sizeof(*a->history), read_change, &k, &list, &a->n_history,
	                        "history_load");
	a->history = list;
	sodium_memzero(k.dk, sizeof(k.dk));
	return err;
}

/* ---- migration 2 ------------------------------------------------------------ */

/*
 * Migration 2's step: the notes that schema 1 kept in clear at the end of
 * history.reason ("withdrawn: NOTE") move into history.note, sealed, and the
 * reason keeps its prefix. Runs inside the migration's transaction on the
 * writer, before the writer thread starts, in pages of rows so that memory
 * stays flat. A note whose contact is erased was already redacted
 * ("[erased]"): it becomes the erased mark. One whose data key fails its
 * check is dropped the same way, logged by seq. One whose master key is
 * missing from the key file stops the migration: the key line belongs back
 * in the file (onboardd then starts), and no note is lost meanwhile.
 */

enum { LEGACY_PAGE = 256 };

typedef struct legacy_row {
	int64_t seq, n;
	char reason[OB_REASON_MAX + 1];
} legacy_row;

static void read_legacy_row(sq_txn *t, sqlite3_stmt *s, void *item, void *ctx)
{
	legacy_row *r = item;
	r->seq = sqlite3_column_int64(s, 0);
	r->n = sqlite3_column_int64(s, 1);
	sq_col_text(s, 2, r->reason, sizeof(r->reason));
}

/* The length of the prefix of schema 1 that reason starts with, followed by
 * ": "; 0 for a reason of the service's own, such as "promoted...". */
static size_t legacy_prefix(const char *reason)
{
	for (unsigned p = 0; p < ob_n_legacy_note_prefixes; p++) {
		size_t l = strlen(ob_legacy_note_prefixes[p]);
		if (strncmp(reason, ob_legacy_note_prefixes[p], l) == 0 && reason[l] == ':' &&
		    reason[l + 1] == ' ')
			return l;
	}
	return 0;
}

/* Looks up the data key of application seq for its notes, unless k holds it
 * already. OB_ECORRUPT (logged) when its master key is missing: the
 * migration stops. */
static ob_err legacy_key(sq_txn *t, int64_t seq, int64_t *key_seq, note_key *k)
{
	if (seq == *key_seq)
		return OB_OK;
	sodium_memzero(k->dk, sizeof(k->dk));
	*key_seq = seq;
	ob_err err = sq_data_key(t, seq, k->dk, k->id, &k->state, k->kid);
	if (err != OB_OK)
		return err;
	if (k->state == SEAL_KEY_NO_MASTER) {
		ob_log(OB_LOG_ERROR,
		       "migration 2: the data key of application seq %lld is wrapped under master "
		       "key %s, which is not in the key file: put its line back and start again",
		       (long long)seq, k->kid);
		return OB_ECORRUPT;
	}
	if (k->state == SEAL_KEY_DAMAGED)
		ob_log(OB_LOG_ERROR,
		       "migration 2: the data key of application seq %lld fails its check: its "
		       "notes are dropped",
		       (long long)seq);
	return OB_OK;
}

/* Moves the note of r (after a prefix of plen bytes) into its own column,
 * sealed under k when its key is open, as the erased mark otherwise. */
static ob_err legacy_move(sq_txn *t, legacy_row *r, size_t plen, const note_key *k)
{
	const char *note = r->reason + plen + 2;
	uint8_t ct[OB_REASON_MAX + OB_VAULT_SEAL_OVERHEAD];
	size_t ct_len = 0;
	ob_err err = OB_OK;
	if (k->state == SEAL_KEY_OPEN) {
		char field[SEAL_NOTE_FIELD_SIZE];
		seal_note_field(r->n, field);
		err = ob_vault_seal(k->dk, k->id, field, note, strlen(note), ct, sizeof(ct),
		                    &ct_len);
		if (err != OB_OK)
			return err;
	}
	r->reason[plen] = '\0';
	PREP(t, ST_HISTORY_SET_NOTE);
	sqlite3_bind_int64(s, 1, r->seq);
	sqlite3_bind_int64(s, 2, r->n);
	sq_bind_text(s, 3, r->reason);
	if (ct_len > 0)
		sqlite3_bind_blob(s, 4, ct, (int)ct_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_zeroblob(s, 4, 0);
	return sq_step_done(t->c, s, "history_set_note");
}

/* One page of rows after (*after_seq, *after_n); *got gets their number. */
static ob_err legacy_page(sq_txn *t, int64_t *after_seq, int64_t *after_n, int64_t *key_seq,
                          note_key *k, size_t *moved, size_t *got)
{
	void *list;
	PREP(t, ST_LEGACY_NOTES);
	sqlite3_bind_int64(s, 1, *after_seq);
	sqlite3_bind_int64(s, 2, *after_n);
	sqlite3_bind_int64(s, 3, LEGACY_PAGE);
	ob_err err = sq_collect(t, s, LEGACY_PAGE, sizeof(legacy_row), read_legacy_row, NULL, &list,
	                        got, "legacy_notes");
	legacy_row *rows = list;
	for (size_t i = 0; err == OB_OK && i < *got; i++) {
		legacy_row *r = &rows[i];
		*after_seq = r->seq;
		*after_n = r->n;
		size_t plen = legacy_prefix(r->reason);
		if (plen == 0)
			continue;
		err = legacy_key(t, r->seq, key_seq, k);
		if (err == OB_OK)
			err = legacy_move(t, r, plen, k);
		if (err == OB_OK)
			(*moved)++;
	}
	if (rows != NULL)
		sodium_memzero(rows, *got * sizeof(*rows)); /* the notes, in clear */
	free(rows);
	return err;
}

ob_err sq_seal_legacy_notes(sq_store *st, size_t *moved)
{
	sq_txn t = {.base.ops = st->base.ops, .store = st, .c = &st->writer, .write = true};
	int64_t after_seq = -1, after_n = -1, key_seq = -1;
	note_key k = {.state = SEAL_KEY_UNKNOWN};
	ob_err err = OB_OK;
	for (size_t got = LEGACY_PAGE; err == OB_OK && got == LEGACY_PAGE;)
		err = legacy_page(&t, &after_seq, &after_n, &key_seq, &k, moved, &got);
	sodium_memzero(k.dk, sizeof(k.dk));
	seal_key_forget(&t.key);
	return err;
}
