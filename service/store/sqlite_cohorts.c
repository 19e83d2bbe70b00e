/*
 * Cohorts and what the domain counts in them: the counters of a cohort's
 * standing (advisors: sqlite_advisors.c; webinar seats: sqlite_programme.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/shared.h"
#include "store/sqlite_impl.h"

/* ---- cohorts ---------------------------------------------------------- */

void sq_bind_divisions(sqlite3_stmt *s, int i, const ob_naf_divisions *in)
{
	char text[STORE_DIVISIONS_SIZE];
	store_divisions_format(in, text);
	sq_bind_text(s, i, text);
}

#define READ_COHORT(col, kind, field) READ_##kind(s, COHORT_COL_##col, c, field);
#define BIND_COHORT(col, kind, field) BIND_##kind(s, COHORT_COL_##col + 1, c, field);

static void read_cohort(sq_txn *t, sqlite3_stmt *s, void *item, void *ctx)
{
	ob_cohort *c = item;
	COHORT_COLUMNS(READ_COHORT, READ_COHORT)
}

ob_err sq_cohort_get(ob_txn *base, const char *id, ob_cohort *out)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_COHORT_GET);
	sq_bind_text(s, 1, id);
	ob_err err = sq_step_row(t->c, s, "cohort_get");
	if (err == OB_OK) {
		memset(out, 0, sizeof(*out));
		read_cohort(t, s, out, NULL);
		sqlite3_reset(s);
	}
	return err;
}

ob_err sq_cohort_list(ob_txn *base, ob_cohort *out, size_t max, size_t *n)
{
	sq_txn *t = sq_txn_of(base);
	*n = 0;
	if (max == 0)
		return OB_OK;
	PREP(t, ST_COHORT_LIST);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
	void *list;
	ob_err err =
	        sq_collect(t, s, max, sizeof(*out), read_cohort, NULL, &list, n, "cohort_list");
	if (err == OB_OK && *n > 0)
		memcpy(out, list, *n * sizeof(*out));
	free(list);
	return err;
}

ob_err sq_cohort_insert(ob_txn *base, const ob_cohort *c)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_COHORT_INSERT);
	COHORT_COLUMNS(BIND_COHORT, BIND_COHORT)
	return sq_step_done(t->c, s, "cohort_insert");
}

ob_err sq_cohort_set_capacity(ob_txn *base, const char *id, uint32_t capacity)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_COHORT_SET_CAPACITY);
	sq_bind_text(s, 1, id);
	sqlite3_bind_int64(s, 2, capacity);
	ob_err err = sq_step_done(t->c, s, "cohort_set_capacity");
	if (err == OB_OK && sqlite3_changes(t->c->db) == 0)
		err = OB_ENOTFOUND;
	return err;
}

/* ---- counters --------------------------------------------------------- */

ob_err sq_counter_add(ob_txn *base, const char *cohort, const char *key, int64_t delta)
{
	sq_txn *t = sq_txn_of(base);
	if (t->deltas != NULL && sq_deltas_add(t->deltas, cohort, key, delta))
		return OB_OK; /* written with the batch (sqlite_deltas.c) */
	PREP(t, ST_COUNTER_ADD);
	sq_bind_text(s, 1, cohort);
	sq_bind_text(s, 2, key);
	sqlite3_bind_int64(s, 3, delta);
	return sq_step_done(t->c, s, "counter_add");
}

/* The upsert of n counters in one statement, prepared once per n. */
static sqlite3_stmt *counters_stmt(sq_conn *c, size_t n)
{
	if (c->counters[n] != NULL)
		return c->counters[n];
	char sql[1024];
	int len = snprintf(sql, sizeof(sql), "INSERT INTO counter VALUES ");
	for (size_t i = 0; i < n; i++)
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, "%s(?1, ?%zu, ?%zu)",
		                i > 0 ? ", " : "", 2 + 2 * i, 3 + 2 * i);
	snprintf(sql + len, sizeof(sql) - (size_t)len,
	         " ON CONFLICT (cohort_id, key) DO UPDATE SET count = count + excluded.count");
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->counters[n],
	                            NULL);
	if (rc != SQLITE_OK)
		(void)sq_fail(c, rc, "counters_add prepare");
	return c->counters[n];
}

/* One statement for n counters: one VM run and one statement journal
 * instead of n (the difference shows in a profile of Submit). */
ob_err sq_counters_write(sq_txn *t, const char *cohort, const ob_counter *d, size_t n)
{
	if (n == 0)
		return OB_OK;
	if (n > OB_MAX_COUNTER_BATCH)
		return OB_EINVAL;
	sqlite3_stmt *s = counters_stmt(t->c, n);
	if (s == NULL)
		return OB_EIO;
	sq_bind_text(s, 1, cohort);
	for (size_t i = 0; i < n; i++) {
		sq_bind_text(s, (int)(2 + 2 * i), d[i].key);
		sqlite3_bind_int64(s, (int)(3 + 2 * i), d[i].count);
	}
	return sq_step_done(t->c, s, "counters_add");
}

ob_err sq_counters_add(ob_txn *base, const char *cohort, const ob_counter *d, size_t n)
{
	sq_txn *t = sq_txn_of(base);
	if (n > OB_MAX_COUNTER_BATCH)
		return OB_EINVAL;
	if (t->deltas == NULL)
		return sq_counters_write(t, cohort, d, n);
	/* In a batch: to memory, but for what the table cannot take. */
	ob_counter rest[OB_MAX_COUNTER_BATCH];
	size_t n_rest = 0;
	for (size_t i = 0; i < n; i++)
		if (!sq_deltas_add(t->deltas, cohort, d[i].key, d[i].count))
			rest[n_rest++] = d[i];
	return sq_counters_write(t, cohort, rest, n_rest);
}

ob_err sq_counter_get(ob_txn *base, const char *cohort, const char *key, int64_t *out)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_COUNTER_GET);
	sq_bind_text(s, 1, cohort);
	sq_bind_text(s, 2, key);
	ob_err err = sq_step_int64(t->c, s, out, "counter_get");
	if (err == OB_ENOTFOUND) { /* a missing counter reads 0 */
		*out = 0;
		err = OB_OK;
	}
	if (err == OB_OK && t->deltas != NULL)
		*out += sq_deltas_get(t->deltas, cohort, key);
	return err;
}

static void read_counter(sq_txn *t, sqlite3_stmt *s, void *item, void *ctx)
{
	ob_counter *c = item;
	sq_col_text(s, 0, c->key, sizeof(c->key));
	c->count = sqlite3_column_int64(s, 1);
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const ob_counter *)a)->key, ((const ob_counter *)b)->key);
}

/* The rows of a counter listing plus the batch's deltas: counters the rows
 * lack appended, those that come to 0 dropped, in key order as the rows. */
static ob_err with_deltas(const sq_deltas *d, const char *cohort, const char *prefix,
                          ob_counter **list, size_t *n)
{
	size_t rows = *n;
	ob_err err = sq_deltas_merge(d, cohort, prefix, list, n);
	if (err != OB_OK)
		return err;
	if (*n > rows)
		qsort(*list, *n, sizeof(**list), by_key);
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++)
		if ((*list)[i].count != 0)
			(*list)[kept++] = (*list)[i];
	*n = kept;
	return OB_OK;
}

ob_err sq_counter_list(ob_txn *base, const char *cohort, const char *prefix, ob_counter **out,
                       size_t *n)
{
	sq_txn *t = sq_txn_of(base);
	*out = NULL;
	*n = 0;
	PREP(t, ST_COUNTER_LIST);
	sq_bind_text(s, 1, cohort);
	sq_bind_text(s, 2, prefix);
	void *list;
	ob_err err =
	        sq_collect(t, s, 0, sizeof(**out), read_counter, NULL, &list, n, "counter_list");
	*out = list;
	if (err == OB_OK && t->deltas != NULL)
		err = with_deltas(t->deltas, cohort, prefix, out, n);
	return err;
}
