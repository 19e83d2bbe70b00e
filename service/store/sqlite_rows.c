/*
 * Stepping statements and reading rows: the few shapes every query of the
 * store takes (no row, one row, one number, a list of rows), written once so
 * that each query is its SQL, its bindings and what it makes of a row.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/sqlite_impl.h"

ob_err sq_step_done(sq_conn *c, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sq_fail(c, rc, what);
	return OB_OK;
}

ob_err sq_run(sq_conn *c, int which, const char *what)
{
	sqlite3_stmt *s = sq_stmt(c, which);
	return s == NULL ? OB_EIO : sq_step_done(c, s, what);
}

ob_err sq_step_row(sq_conn *c, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return OB_OK;
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? OB_ENOTFOUND : sq_fail(c, rc, what);
}

ob_err sq_step_int64(sq_conn *c, sqlite3_stmt *s, int64_t *out, const char *what)
{
	*out = 0;
	ob_err err = sq_step_row(c, s, what);
	if (err == OB_OK) {
		*out = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	return err;
}

/* A larger copy of list (count items in it), the old one wiped and freed:
 * rows can hold personal data in clear (contacts, notes), which realloc()
 * would leave behind in freed memory. NULL when out of memory (list stays). */
static unsigned char *grow(unsigned char *list, size_t count, size_t item_size, size_t cap)
{
	unsigned char *grown = malloc(cap * item_size);
	if (grown != NULL && list != NULL) {
		memcpy(grown, list, count * item_size);
		sodium_memzero(list, count * item_size);
		free(list);
	}
	return grown;
}

ob_err sq_collect(sq_txn *t, sqlite3_stmt *s, size_t limit, size_t item_size, sq_row_fn read,
                  void *ctx, void **out, size_t *n, const char *what)
{
	*out = NULL;
	*n = 0;
	unsigned char *list = NULL;
	size_t count = 0, cap = 0;
	ob_err err = OB_OK;
	int rc = SQLITE_DONE;
	while ((limit == 0 || count < limit) && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (count == cap) {
			size_t want = cap * 2 + 8;
			if (limit != 0 && want > limit)
				want = limit;
			unsigned char *grown = grow(list, count, item_size, want);
			if (grown == NULL) {
				err = OB_ENOMEM;
				break;
			}
			list = grown;
			cap = want;
		}
		void *item = list + count++ * item_size;
		memset(item, 0, item_size);
		read(t, s, item, ctx);
	}
	if (err == OB_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		err = sq_fail(t->c, rc, what);
	sqlite3_reset(s);
	if (err != OB_OK) {
		if (list != NULL)
			sodium_memzero(list, count * item_size);
		free(list);
		return err;
	}
	*out = list;
	*n = count;
	return OB_OK;
}

void sq_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

void sq_bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL)
		sq_bind_text(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

void sq_col_text(sqlite3_stmt *s, int i, char *out, size_t n)
{
	/* The column's value once, then its text and length from it: each
	 * sqlite3_column_*() call looks the column up again (callgrind: a fifth
	 * of the copy of a row's ~20 text columns). */
	sqlite3_value *col = sqlite3_column_value(s, i);
	const unsigned char *v = sqlite3_value_text(col);
	size_t len = v != NULL ? (size_t)sqlite3_value_bytes(col) : 0;
	if (len >= n) {
		/* Not with values this service wrote; but a row changed by hand
		 * must not put half a character into a reply. */
		len = n - 1;
		while (len > 0 && (v[len] & 0xC0) == 0x80)
			len--;
	}
	if (len > 0)
		memcpy(out, v, len);
	out[len] = '\0';
}
