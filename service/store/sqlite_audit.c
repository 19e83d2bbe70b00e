/*
 * The audit trail: security events, numbered by the table, never a secret
 * or personal data in a field (model.h).
 */
#include "store/sqlite_impl.h"

#define READ_AUDIT(col, kind, field) READ_##kind(s, AUDIT_COL_##col, e, field);
#define BIND_AUDIT(col, kind, field) BIND_##kind(s, AUDIT_PARAM_##col, e, field);

ob_err sq_audit_append(ob_txn *base, const ob_audit_event *e)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_AUDIT_APPEND);
	AUDIT_COLUMNS(BIND_AUDIT, BIND_AUDIT)
	return sq_step_done(t->c, s, "audit_append");
}

static void read_event(sq_txn *t, sqlite3_stmt *s, void *item, void *ctx)
{
	ob_audit_event *e = item;
	e->seq = sqlite3_column_int64(s, AUDIT_COL_seq);
	AUDIT_COLUMNS(READ_AUDIT, READ_AUDIT)
}

ob_err sq_audit_list(ob_txn *base, int64_t after_seq, size_t limit, ob_audit_event **out, size_t *n)
{
	sq_txn *t = sq_txn_of(base);
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return OB_OK;
	PREP(t, ST_AUDIT_LIST);
	sqlite3_bind_int64(s, 1, after_seq);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	void *list;
	ob_err err =
	        sq_collect(t, s, limit, sizeof(**out), read_event, NULL, &list, n, "audit_list");
	*out = list;
	return err;
}
