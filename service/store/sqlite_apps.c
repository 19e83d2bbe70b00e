/*
 * Applications and the waitlist. An application's row holds no personal
 * data: its contact is in the contact table, sealed (sqlite_contacts.c),
 * and every read joins the two (APP_SELECT).
 *
 * The waitlist is the order of seq among a cohort's WAITLISTED rows. A
 * position is counted without a scan: each application that enters the line
 * takes a ticket (the cohort's counter waitlist_tickets), those that leave it
 * other than by promotion are recorded in waitlist_left, and promotion always
 * takes the head; so position = ticket - head's ticket + 1 - those who left
 * in between.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/shared.h"
#include "store/sqlite_impl.h"

#define READ_APP(col, kind, field) READ_##kind(s, APP_COL_##col, a, field);
/* The insert binds a's text where it is: a outlives the step, and the
 * bindings are cleared right after it (callgrind: copying the strings cost
 * the single writer ~11k instructions a Submit). */
#define BIND_INS(col, kind, field) BIND_INS_##kind(s, APP_INS_##col, a, field);
#define BIND_INS_TEXT(s, i, o, f)  sqlite3_bind_text((s), (i), (o)->f, -1, SQLITE_STATIC)
#define BIND_INS_I64               BIND_I64
#define BIND_INS_U32               BIND_U32
#define BIND_INS_U64               BIND_U64
#define BIND_INS_BOOL              BIND_BOOL
#define BIND_INS_ENUM              BIND_ENUM
#define BIND_INS_CATEGORIES        BIND_CATEGORIES
#define BIND_INS_DIVISIONS         BIND_DIVISIONS
#define BIND_UPD(col, kind, field) BIND_##kind(s, APP_UPD_##col, a, field);

void sq_read_app(sq_txn *t, sqlite3_stmt *s, void *item, void *ctx)
{
	ob_application *a = item;
	memset(a, 0, sizeof(*a));
	a->seq = sqlite3_column_int64(s, APP_COL_seq);
	APP_IDENTITY(READ_APP, READ_APP)
	APP_STATUS(READ_APP, READ_APP)
	APP_BENEFITS(READ_APP, READ_APP)
	sq_read_contact(t->store, s, a);
}

void sq_bind_categories(sqlite3_stmt *s, int i, const ob_application *a)
{
	char cats[STORE_CATEGORIES_SIZE];
	store_categories_join(a, cats);
	sq_bind_text(s, i, cats);
}

ob_err sq_app_insert(ob_txn *base, ob_application *a)
{
	return sq_app_insert_sealed(base, a, NULL);
}

ob_err sq_app_insert_sealed(ob_txn *base, ob_application *a, const ob_sealed_contact *sc)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_APP_INSERT);
	APP_IDENTITY(BIND_INS, BIND_INS)
	APP_STATUS(BIND_INS, BIND_INS)
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s); /* a's text was bound static: drop it now */
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return OB_EEXIST;
	if (rc != SQLITE_DONE)
		return sq_fail(t->c, rc, "app_insert");
	a->seq = sqlite3_last_insert_rowid(t->c->db);
	return sq_contact_insert(t, a, sc);
}

ob_err sq_app_update(ob_txn *base, const ob_application *a)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_APP_UPDATE);
	APP_STATUS(BIND_UPD, BIND_UPD)
	APP_BENEFITS(BIND_UPD, BIND_UPD)
	sqlite3_bind_int64(s, APP_UPD_seq, a->seq);
	ob_err err = sq_step_done(t->c, s, "app_update");
	if (err == OB_OK && sqlite3_changes(t->c->db) != 1)
		err = OB_ENOTFOUND;
	return err;
}

static ob_err get_one(sq_txn *t, sqlite3_stmt *s, ob_application *out, const char *what)
{
	ob_err err = sq_step_row(t->c, s, what);
	if (err == OB_OK) {
		sq_read_app(t, s, out, NULL);
		sqlite3_reset(s);
	}
	return err;
}

ob_err sq_app_get(ob_txn *base, const char *id, const char *owner, ob_application *out)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_APP_GET);
	sq_bind_text(s, 1, id);
	sq_bind_text_or_null(s, 2, owner);
	return get_one(t, s, out, "app_get");
}

ob_err sq_app_get_by_siren(ob_txn *base, const char *cohort, const char *siren, const char *owner,
                           ob_application *out)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_APP_GET_SIREN);
	sq_bind_text(s, 1, cohort);
	sq_bind_text(s, 2, siren);
	sq_bind_text_or_null(s, 3, owner);
	return get_one(t, s, out, "app_get_by_siren");
}

ob_err sq_app_first_waitlisted(ob_txn *base, const char *cohort, ob_application *out)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_APP_FIRST_WAITLISTED);
	sq_bind_text(s, 1, cohort);
	sqlite3_bind_int(s, 2, OB_STATE_WAITLISTED);
	return get_one(t, s, out, "app_first_waitlisted");
}

ob_err sq_app_waitlist_position(ob_txn *base, const ob_application *a, uint32_t *out)
{
	sq_txn *t = sq_txn_of(base);
	*out = 0;
	PREP(t, ST_WAITLIST_POSITION);
	sq_bind_text(s, 1, a->cohort_id);
	sqlite3_bind_int(s, 2, OB_STATE_WAITLISTED);
	sqlite3_bind_int64(s, 3, a->waitlist_ticket);
	ob_err err = sq_step_row(t->c, s, "waitlist_position");
	if (err != OB_OK)
		return err; /* OB_ENOTFOUND: the line is empty */
	int64_t head = sqlite3_column_int64(s, 0), left = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	if (head > a->waitlist_ticket)
		return OB_ENOTFOUND; /* not in the line */
	*out = (uint32_t)(a->waitlist_ticket - head + 1 - left);
	return OB_OK;
}

ob_err sq_waitlist_leave(ob_txn *base, const char *cohort, int64_t ticket)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_WAITLIST_LEAVE);
	sq_bind_text(s, 1, cohort);
	sqlite3_bind_int64(s, 2, ticket);
	return sq_step_done(t->c, s, "waitlist_leave");
}

/* ---- lists ---------------------------------------------------------------- */

ob_err sq_app_list(ob_txn *base, const ob_app_filter *f, int64_t after_seq, size_t limit,
                   ob_application **out, size_t *n)
{
	sq_txn *t = sq_txn_of(base);
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return OB_OK;
	/* Built per call from fixed fragments; values are always bound. */
	char sql[4096];
	store_app_list_sql_rows(APP_SELECT, f, true, sql, sizeof(sql));
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(t->c->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(t->c, rc, "app_list prepare");
	sqlite3_bind_int64(s, 1, after_seq);
	sq_bind_text_or_null(s, 2, f->cohort_id);
	sqlite3_bind_int(s, 3, (int)f->size);
	sq_bind_text_or_null(s, 4, f->departement);
	sq_bind_text_or_null(s, 5, f->region);
	sqlite3_bind_int(s, 6, (int)f->channel);
	sqlite3_bind_int64(s, 7, f->submitted_from_ms);
	sqlite3_bind_int64(s, 8, f->submitted_to_ms);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)limit);
	sq_bind_text_or_null(s, 10, f->submitted_by);
	void *list;
	ob_err err =
	        sq_collect(t, s, limit, sizeof(**out), sq_read_app, NULL, &list, n, "app_list");
	sqlite3_finalize(s);
	*out = list;
	return err;
}

/* ---- benefits by company --------------------------------------------------- */

#define READ_BEN(col, kind, field) READ_##kind(s, BEN_COL_##col, g, field);

static void read_granted(sq_txn *t, sqlite3_stmt *s, void *item, void *ctx)
{
	ob_granted *g = item;
	memset(g, 0, sizeof(*g));
	g->seq = sqlite3_column_int64(s, BEN_COL_seq);
	sq_col_text(s, BEN_COL_cohort_id, g->cohort_id, sizeof(g->cohort_id));
	APP_BENEFITS(READ_BEN, READ_BEN)
}

ob_err sq_benefits_of_siren(ob_txn *base, const char *siren, ob_granted **out, size_t *n)
{
	sq_txn *t = sq_txn_of(base);
	*out = NULL;
	*n = 0;
	PREP(t, ST_BENEFITS_OF_SIREN);
	sq_bind_text(s, 1, siren);
	void *list;
	ob_err err = sq_collect(t, s, 0, sizeof(**out), read_granted, NULL, &list, n,
	                        "benefits_of_siren");
	*out = list;
	return err;
}
