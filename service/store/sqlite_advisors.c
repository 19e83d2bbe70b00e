/*
 * A cohort's advisors in SQLite (table advisor, one row per cohort and
 * number). The domain moves an advisor's load in the same write as the
 * assignment (domain/advisor.c), so that it is the number of companies
 * assigned; pick reads it back there, so a load is never passed.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_impl.h"

ob_err sq_advisors_create(ob_txn *base, const char *cohort, uint32_t pool)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_ADVISOR_CREATE);
	for (uint32_t i = 1; i <= pool; i++) {
		sq_bind_text(s, 1, cohort);
		sqlite3_bind_int64(s, 2, i);
		sqlite3_bind_int(s, 3, OB_MAX_ADVISOR_CAPACITY);
		ob_err err = sq_step_done(t->c, s, "advisors_create");
		if (err != OB_OK)
			return err;
	}
	return OB_OK;
}

ob_err sq_advisor_insert(ob_txn *base, ob_advisor *a)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_ADVISOR_INSERT);
	sq_bind_text(s, 1, a->cohort_id);
	sq_bind_text(s, 2, a->name);
	sq_bind_text(s, 3, a->region);
	sq_bind_text(s, 4, a->languages);
	sqlite3_bind_int64(s, 5, a->capacity);
	sqlite3_bind_int(s, 6, a->active ? 1 : 0);
	int64_t v;
	ob_err err = sq_step_int64(t->c, s, &v, "advisor_insert");
	a->number = (uint32_t)v;
	a->load = 0;
	return err;
}

/* One row of ADVISOR_COLS into item. */
static void read_advisor(sq_txn *t, sqlite3_stmt *s, void *item, void *ctx)
{
	(void)t;
	(void)ctx;
	ob_advisor *a = item;
	sq_col_text(s, 0, a->cohort_id, sizeof(a->cohort_id));
	a->number = (uint32_t)sqlite3_column_int64(s, 1);
	sq_col_text(s, 2, a->name, sizeof(a->name));
	sq_col_text(s, 3, a->region, sizeof(a->region));
	sq_col_text(s, 4, a->languages, sizeof(a->languages));
	a->capacity = (uint32_t)sqlite3_column_int64(s, 5);
	a->active = sqlite3_column_int(s, 6) != 0;
	int64_t load = sqlite3_column_int64(s, 7);
	a->load = load > 0 ? (uint32_t)load : 0;
}

ob_err sq_advisor_get(ob_txn *base, const char *cohort, uint32_t number, ob_advisor *out)
{
	sq_txn *t = sq_txn_of(base);
	memset(out, 0, sizeof(*out));
	PREP(t, ST_ADVISOR_GET);
	sq_bind_text(s, 1, cohort);
	sqlite3_bind_int64(s, 2, number);
	ob_err err = sq_step_row(t->c, s, "advisor_get");
	if (err != OB_OK)
		return err;
	read_advisor(t, s, out, NULL);
	sqlite3_reset(s);
	return OB_OK;
}

ob_err sq_advisor_update(ob_txn *base, const ob_advisor *a)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_ADVISOR_UPDATE);
	sq_bind_text(s, 1, a->cohort_id);
	sqlite3_bind_int64(s, 2, a->number);
	sqlite3_bind_int64(s, 3, a->capacity);
	sqlite3_bind_int(s, 4, a->active ? 1 : 0);
	return sq_step_done(t->c, s, "advisor_update");
}

ob_err sq_advisor_list(ob_txn *base, const char *cohort, ob_advisor **out, size_t *n)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_ADVISOR_LIST);
	sq_bind_text(s, 1, cohort);
	void *list;
	ob_err err =
	        sq_collect(t, s, 0, sizeof(**out), read_advisor, NULL, &list, n, "advisor_list");
	*out = list;
	return err;
}

ob_err sq_advisor_pick(ob_txn *base, const char *cohort, const char *region, const char *language,
                       uint32_t except, uint32_t *advisor)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_ADVISOR_PICK);
	sq_bind_text(s, 1, cohort);
	sq_bind_text_or_null(s, 2, region);
	sq_bind_text(s, 3, language);
	sqlite3_bind_int64(s, 4, except);
	int64_t v = 0;
	ob_err err = sq_step_int64(t->c, s, &v, "advisor_pick");
	*advisor = (uint32_t)v;
	return err;
}

ob_err sq_advisor_add(ob_txn *base, const char *cohort, uint32_t advisor, int delta)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_ADVISOR_ADD);
	sq_bind_text(s, 1, cohort);
	sqlite3_bind_int64(s, 2, advisor);
	sqlite3_bind_int(s, 3, delta);
	return sq_step_done(t->c, s, "advisor_add");
}
