/*
 * Idempotency records: a key, the hash of the request it came with, and the
 * reply that was sent. The reply of a change to an application shows its
 * contact: it is sealed under the application's data key with the field
 * name "idempotency", and goes with its erasure (sqlite_contacts.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/log.h"
#include "store/seal.h"
#include "store/sqlite_impl.h"

enum { IDEM_HASH, IDEM_REPLY, IDEM_APP_SEQ, IDEM_APP_ID, IDEM_DK_KID, IDEM_DK_WRAPPED };

/* The reply of the current IDEM_GET row into *reply (malloc'd): sealed
 * under the data key of application app_seq, or in clear (app_seq 0). */
static ob_err stored_reply(sq_txn *t, sqlite3_stmt *s, int64_t app_seq, uint8_t **reply,
                           size_t *len)
{
	int n = sqlite3_column_bytes(s, IDEM_REPLY), wlen = 0;
	const void *stored = sqlite3_column_blob(s, IDEM_REPLY), *wrapped = NULL;
	char id[OB_ID_LEN + 1] = "";
	if (app_seq != 0) {
		wrapped = sqlite3_column_blob(s, IDEM_DK_WRAPPED);
		wlen = sqlite3_column_bytes(s, IDEM_DK_WRAPPED);
		sq_col_text(s, IDEM_APP_ID, id, sizeof(id));
	}
	return seal_open_stored_reply(
	        t->store->keys, app_seq, id, (const char *)sqlite3_column_text(s, IDEM_DK_KID),
	        wrapped, wlen > 0 ? (size_t)wlen : 0, stored, n > 0 ? (size_t)n : 0, reply, len);
}

ob_err sq_idem_get(ob_txn *base, const char *key, uint8_t hash[32], uint8_t **reply,
                   size_t *reply_len)
{
	sq_txn *t = sq_txn_of(base);
	*reply = NULL;
	*reply_len = 0;
	PREP(t, ST_IDEM_GET);
	sq_bind_text(s, 1, key);
	ob_err err = sq_step_row(t->c, s, "idem_get");
	if (err != OB_OK)
		return err;
	int64_t app_seq = sqlite3_column_int64(s, IDEM_APP_SEQ);
	if (sqlite3_column_bytes(s, IDEM_HASH) != 32)
		err = OB_ECORRUPT;
	else if (app_seq != 0 && sqlite3_column_type(s, IDEM_DK_KID) == SQLITE_NULL)
		err = OB_ENOTFOUND; /* erased since: defensive, erasure deletes the record */
	else
		err = stored_reply(t, s, app_seq, reply, reply_len);
	if (err == OB_OK)
		memcpy(hash, sqlite3_column_blob(s, IDEM_HASH), 32);
	sqlite3_reset(s);
	if (err != OB_OK) {
		free(*reply);
		*reply = NULL;
		*reply_len = 0;
	}
	return err;
}

ob_err sq_idem_put(ob_txn *base, const char *key, const uint8_t hash[32], const uint8_t *reply,
                   size_t reply_len, int64_t now_ms, const ob_application *a)
{
	sq_txn *t = sq_txn_of(base);
	seal_stored_reply stored;
	ob_err err = seal_app_reply(sq_app_data_key, base, a, reply, reply_len, &stored);
	if (err != OB_OK)
		return err;
	err = OB_EIO;
	sqlite3_stmt *s = sq_stmt(t->c, ST_IDEM_PUT);
	if (s != NULL) {
		sq_bind_text(s, 1, key);
		sqlite3_bind_blob(s, 2, hash, 32, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 3, stored.app_seq);
		sqlite3_bind_blob(s, 4, stored.bytes != NULL ? (const void *)stored.bytes : "",
		                  (int)stored.len, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 5, now_ms);
		err = sq_step_done(t->c, s, "idem_put");
	}
	free(stored.sealed);
	return err;
}

ob_err sq_idem_purge(ob_txn *base, int64_t before_ms, unsigned limit)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_IDEM_PURGE);
	sqlite3_bind_int64(s, 1, before_ms);
	sqlite3_bind_int64(s, 2, limit);
	return sq_step_done(t->c, s, "idem_purge");
}
