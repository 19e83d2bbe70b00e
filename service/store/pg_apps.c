/*
 * Applications, the waitlist, their sealed contacts and their history, in
 * PostgreSQL: the statements of sqlite_apps.c, sqlite_contacts.c and
 * sqlite_history.c, and the same sealing (seal.h), so that the stores keep
 * the same bytes.
 *
 * Numbers and pages: an application's seq comes from an identity column,
 * and a page token says "after seq N". Numbers taken by transactions that
 * run at once could commit out of order (11 visible before 10), and a page
 * read between the two would skip 10 for good. They cannot here: every
 * write takes the store's write lock first (pg_store.c: one writer at a time
 * across all the instances, as the port promises), so numbers are taken and
 * committed in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/log.h"
#include "store/pg_impl.h"
#include "store/seal.h"
#include "store/shared.h"

#define READ_APP(col, kind, field) READ_##kind(r, APP_COL_##col, a, field);
#define BIND_APP(col, kind, field) BIND_##kind(&p, a, field);

/* An APP_SELECT row into item (an ob_application), its contact opened. */
static void read_app(pg_txn *t, const PGresult *r, int row, void *item, void *ctx)
{
	(void)ctx;
	ob_application *a = item;
	memset(a, 0, sizeof(*a));
	a->seq = pg_get_i64(r, row, APP_COL_seq);
	APP_IDENTITY(READ_APP, READ_APP)
	APP_STATUS(READ_APP, READ_APP)
	APP_BENEFITS(READ_APP, READ_APP)
	a->contact_erased_at_ms = pg_get_i64(r, row, APP_COL_erased_at);
	pg_get_text(r, row, APP_COL_erased_by, a->contact_erased_by, sizeof(a->contact_erased_by));
	if (a->contact_erased_at_ms != 0) {
		a->contact_erased = true;
		return;
	}
	static const int columns[SEAL_FIELDS] = {APP_COL_name, APP_COL_email, APP_COL_phone};
	const void *ct[SEAL_FIELDS];
	size_t ct_len[SEAL_FIELDS], wlen;
	for (int f = 0; f < SEAL_FIELDS; f++)
		ct[f] = pg_get_bytes(r, row, columns[f], &ct_len[f]);
	const void *wrapped = pg_get_bytes(r, row, APP_COL_dk_wrapped, &wlen);
	seal_open_contact(t->store->keys, a, pg_get_cstr(r, row, APP_COL_dk_kid), wrapped, wlen, ct,
	                  ct_len);
}

/* The application a statement returns, or OB_ENOTFOUND. */
static ob_err get_one(pg_txn *t, int which, const pg_params *p, ob_application *out)
{
	return pg_run_one(t, which, p, sizeof(*out), read_app, NULL, out);
}

/* A list of applications from statement which (or sql when which < 0). */
static ob_err get_list(pg_txn *t, int which, const char *sql, const pg_params *p,
                       ob_application **out, size_t *n)
{
	PGresult *r;
	*out = NULL;
	*n = 0;
	ob_err err = which >= 0 ? pg_run(t, which, p, &r) : pg_run_sql(t, sql, p, &r, "app_list");
	void *list = NULL;
	if (err == OB_OK)
		err = pg_collect(t, r, sizeof(**out), read_app, NULL, &list, n);
	*out = list;
	return err;
}

/* ---- contacts --------------------------------------------------------------- */

static ob_err contact_insert(pg_txn *t, const ob_application *a)
{
	seal_contact_t sc;
	uint8_t dk[OB_VAULT_KEY_LEN];
	ob_err err = seal_contact(t->store->keys, a, &sc, dk);
	if (err == OB_OK)
		seal_key_keep(&t->key, a->seq, dk, a->id); /* for its reply and history */
	sodium_memzero(dk, sizeof(dk));
	if (err != OB_OK)
		return err;
	pg_params p = {0};
	pg_i64(&p, a->seq);
	pg_text(&p, sc.kid);
	pg_bytes(&p, sc.wrapped, sc.wrapped_len);
	for (int f = 0; f < SEAL_FIELDS; f++)
		pg_bytes(&p, sc.ct[f], sc.ct_len[f]);
	pg_bytes(&p, sc.index, sizeof(sc.index));
	return pg_run_done(t, PG_ST_CONTACT_INSERT, &p, NULL);
}

/* A seal_key_lookup_fn: ctx is the pg_txn. */
static ob_err data_key(void *ctx, int64_t seq, uint8_t dk[OB_VAULT_KEY_LEN], char id[OB_ID_LEN + 1],
                       seal_key_state *state)
{
	pg_txn *t = ctx;
	*state = SEAL_KEY_ERASED;
	pg_params p = {0};
	pg_i64(&p, seq);
	PGresult *r;
	ob_err err = pg_run(t, PG_ST_CONTACT_KEY, &p, &r);
	if (err != OB_OK)
		return err;
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		size_t wlen;
		const void *wrapped = pg_get_bytes(r, 0, 1, &wlen);
		pg_get_text(r, 0, 2, id, OB_ID_LEN + 1);
		err = seal_unwrap(t->store->keys, pg_get_cstr(r, 0, 0), wrapped, wlen, dk);
		*state = seal_key_state_of(err);
	}
	PQclear(r);
	return OB_OK;
}

ob_err pg_app_data_key(ob_txn *base, int64_t seq, uint8_t dk[OB_VAULT_KEY_LEN],
                       char id[OB_ID_LEN + 1])
{
	pg_txn *t = pg_txn_of(base);
	return seal_key_get(&t->key, seq, data_key, t, dk, id);
}

/* ---- applications ---------------------------------------------------------- */

ob_err pg_app_insert(ob_txn *base, ob_application *a)
{
	pg_txn *t = pg_txn_of(base);
	pg_params p = {0};
	APP_IDENTITY(BIND_APP, BIND_APP)
	APP_STATUS(BIND_APP, BIND_APP)
	int64_t seq = 0;
	ob_err err = pg_run_int64(t, PG_ST_APP_INSERT, &p, &seq);
	if (err != OB_OK)
		return err; /* OB_EEXIST: a live one of this SIREN (its unique index) */
	a->seq = seq;
	return contact_insert(t, a);
}

ob_err pg_app_update(ob_txn *base, const ob_application *a)
{
	pg_params p = {0};
	APP_STATUS(BIND_APP, BIND_APP)
	APP_BENEFITS(BIND_APP, BIND_APP)
	pg_i64(&p, a->seq);
	uint64_t changed = 0;
	ob_err err = pg_run_done(pg_txn_of(base), PG_ST_APP_UPDATE, &p, &changed);
	return err == OB_OK && changed != 1 ? OB_ENOTFOUND : err;
}

ob_err pg_app_get(ob_txn *base, const char *id, const char *owner, ob_application *out)
{
	pg_params p = {0};
	pg_text(&p, id);
	pg_text(&p, owner);
	return get_one(pg_txn_of(base), PG_ST_APP_GET, &p, out);
}

ob_err pg_app_get_by_siren(ob_txn *base, const char *cohort, const char *siren, const char *owner,
                           ob_application *out)
{
	pg_params p = {0};
	pg_text(&p, cohort);
	pg_text(&p, siren);
	pg_text(&p, owner);
	return get_one(pg_txn_of(base), PG_ST_APP_GET_SIREN, &p, out);
}

ob_err pg_app_first_waitlisted(ob_txn *base, const char *cohort, ob_application *out)
{
	pg_params p = {0};
	pg_text(&p, cohort);
	pg_i64(&p, OB_STATE_WAITLISTED);
	return get_one(pg_txn_of(base), PG_ST_APP_FIRST_WAITLISTED, &p, out);
}

/* The position counted as sqlite_apps.c explains: ticket - head's ticket + 1
 * - those who left in between; the head and the count in one round trip. */
ob_err pg_app_waitlist_position(ob_txn *base, const ob_application *a, uint32_t *out)
{
	pg_txn *t = pg_txn_of(base);
	*out = 0;
	pg_params p = {0};
	pg_text(&p, a->cohort_id);
	pg_i64(&p, OB_STATE_WAITLISTED);
	pg_i64(&p, a->waitlist_ticket);
	PGresult *r;
	ob_err err = pg_run(t, PG_ST_WAITLIST_POSITION, &p, &r);
	if (err == OB_OK && PQntuples(r) == 0)
		err = OB_ENOTFOUND; /* the line is empty */
	int64_t head = 0, left = 0;
	if (err == OB_OK) {
		head = pg_get_i64(r, 0, 0);
		left = pg_get_i64(r, 0, 1);
	}
	PQclear(r);
	if (err != OB_OK)
		return err;
	if (head > a->waitlist_ticket)
		return OB_ENOTFOUND; /* not in the line */
	*out = (uint32_t)(a->waitlist_ticket - head + 1 - left);
	return OB_OK;
}

ob_err pg_waitlist_leave(ob_txn *base, const char *cohort, int64_t ticket)
{
	pg_params p = {0};
	pg_text(&p, cohort);
	pg_i64(&p, ticket);
	return pg_run_done(pg_txn_of(base), PG_ST_WAITLIST_LEAVE, &p, NULL);
}

ob_err pg_app_list(ob_txn *base, const ob_app_filter *f, int64_t after_seq, size_t limit,
                   ob_application **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return OB_OK;
	char sql[4096];
	store_app_list_sql(APP_SELECT, f, sql, sizeof(sql));
	/* Every parameter is sent, as SQLite binds them all; those the text
	 * does not use need a type, which the casts below of the text give. */
	pg_params p = {0};
	pg_i64(&p, after_seq);
	pg_text(&p, f->cohort_id);
	pg_i64(&p, (int64_t)f->size);
	pg_text(&p, f->departement);
	pg_text(&p, f->region);
	pg_i64(&p, (int64_t)f->channel);
	pg_i64(&p, f->submitted_from_ms);
	pg_i64(&p, f->submitted_to_ms);
	pg_i64(&p, (int64_t)limit);
	pg_text(&p, f->submitted_by);
	/* PostgreSQL wants a type for every parameter, used or not. */
	char typed[4096 + 160];
	snprintf(typed, sizeof(typed),
	         "WITH params AS (SELECT ?1::bigint, ?2::text, ?3::bigint, ?4::text, ?5::text, "
	         "?6::bigint, ?7::bigint, ?8::bigint, ?9::bigint, ?10::text) %s",
	         sql);
	return get_list(pg_txn_of(base), -1, typed, &p, out, n);
}

#define READ_BEN(col, kind, field) READ_##kind(r, BEN_COL_##col, g, field);

static void read_granted(pg_txn *t, const PGresult *r, int row, void *item, void *ctx)
{
	(void)t;
	(void)ctx;
	ob_granted *g = item;
	g->seq = pg_get_i64(r, row, BEN_COL_seq);
	pg_get_text(r, row, BEN_COL_cohort_id, g->cohort_id, sizeof(g->cohort_id));
	APP_BENEFITS(READ_BEN, READ_BEN)
}

ob_err pg_benefits_of_siren(ob_txn *base, const char *siren, ob_granted **out, size_t *n)
{
	pg_params p = {0};
	pg_text(&p, siren);
	void *list;
	ob_err err = pg_run_collect(pg_txn_of(base), PG_ST_BENEFITS_OF_SIREN, &p, sizeof(**out),
	                            read_granted, NULL, &list, n);
	*out = list;
	return err;
}

/* ---- erasure and lookup ------------------------------------------------------ */

ob_err pg_contact_erase(ob_txn *base, int64_t app_seq, const char *actor, int64_t now_ms)
{
	pg_txn *t = pg_txn_of(base);
	seal_key_forget(&t->key); /* nothing of this write may be sealed under it any more */
	pg_params p = {0};
	pg_i64(&p, app_seq);
	int64_t erased_at;
	ob_err err = pg_run_int64(t, PG_ST_CONTACT_ERASED_AT, &p, &erased_at);
	if (err != OB_OK)
		return err;
	if (erased_at != 0)
		return OB_EPRECOND;
	pg_params e = {0};
	pg_i64(&e, app_seq);
	pg_i64(&e, now_ms != 0 ? now_ms : 1); /* 0 means "never" */
	pg_text(&e, actor);
	err = pg_run_done(t, PG_ST_CONTACT_ERASE, &e, NULL);
	/* The notes and the stored replies go with the key (sqlite_contacts.c). */
	if (err == OB_OK)
		err = pg_run_done(t, PG_ST_HISTORY_ERASE_NOTES, &p, NULL);
	if (err == OB_OK)
		err = pg_run_done(t, PG_ST_IDEM_FORGET_APP, &p, NULL);
	return err;
}

ob_err pg_apps_by_email(ob_txn *base, const uint8_t index[OB_STORE_INDEX_LEN], ob_application **out,
                        size_t *n)
{
	pg_params p = {0};
	pg_bytes(&p, index, OB_STORE_INDEX_LEN);
	return get_list(pg_txn_of(base), PG_ST_APPS_BY_EMAIL, NULL, &p, out, n);
}

/* ---- rotation ------------------------------------------------------------------ */

ob_err pg_rewrap_batch(ob_txn *base, int64_t after_seq, size_t limit, size_t *rewrapped,
                       size_t *failed, int64_t *last_seq)
{
	pg_txn *t = pg_txn_of(base);
	*rewrapped = 0;
	*failed = 0;
	*last_seq = after_seq;
	if (limit == 0)
		return OB_OK;
	/* One vault for the whole batch, so that the scan and the re-wraps
	 * agree on the active key. */
	ob_keystore_lease lease;
	const ob_vault *v = ob_keystore_acquire(t->store->keys, &lease);
	char active[OB_VAULT_KID_SIZE];
	snprintf(active, sizeof(active), "%s", ob_vault_active_key_id(v));
	pg_params p = {0};
	pg_i64(&p, after_seq);
	pg_text(&p, active);
	pg_i64(&p, (int64_t)limit);
	PGresult *r;
	ob_err err = pg_run(t, PG_ST_REWRAP_SCAN, &p, &r);
	for (int i = 0; err == OB_OK && i < PQntuples(r); i++) {
		int64_t seq = pg_get_i64(r, i, 0);
		const char *kid = pg_get_cstr(r, i, 1);
		size_t len;
		const void *wrapped = pg_get_bytes(r, i, 2, &len);
		uint8_t out[OB_VAULT_WRAPPED_LEN];
		size_t out_len;
		char new_kid[OB_VAULT_KID_SIZE];
		*last_seq = seq;
		ob_err rw = ob_vault_rewrap(v, kid != NULL ? kid : "", wrapped, len, out, &out_len,
		                            new_kid);
		if (rw != OB_OK) {
			ob_log(OB_LOG_ERROR,
			       "store: the data key of application seq %lld (master key %s) cannot "
			       "be re-wrapped: %s",
			       (long long)seq, seal_loggable_kid(kid), ob_strerror(rw));
			(*failed)++;
			continue;
		}
		pg_params u = {0};
		pg_i64(&u, seq);
		pg_text(&u, new_kid);
		pg_bytes(&u, out, out_len);
		err = pg_run_done(t, PG_ST_REWRAP_UPDATE, &u, NULL);
		if (err == OB_OK)
			(*rewrapped)++;
	}
	PQclear(r);
	ob_keystore_release(&lease);
	return err;
}

/* ---- history ------------------------------------------------------------------- */

ob_err pg_history_append(ob_txn *base, int64_t app_seq, const ob_state_change *c)
{
	pg_txn *t = pg_txn_of(base);
	uint8_t sealed[OB_REASON_MAX + OB_VAULT_SEAL_OVERHEAD];
	size_t sealed_len = 0;
	int64_t n = -1;
	bool has_note = c->note[0] != '\0';
	if (has_note) {
		/* The row's number goes into the associated data: count first. */
		pg_params q = {0};
		pg_i64(&q, app_seq);
		ob_err err = pg_run_int64(t, PG_ST_HISTORY_COUNT, &q, &n);
		if (err == OB_OK) /* erased: sealed_len 0, the mark of an erased note */
			err = seal_app_note(pg_app_data_key, base, app_seq, n, c->note,
			                    strnlen(c->note, sizeof(c->note)), sealed,
			                    sizeof(sealed), &sealed_len);
		if (err != OB_OK)
			return err;
	}
	pg_params p = {0};
#define BIND_HISTORY(col, kind, field) BIND_##kind(&p, c, field);
	pg_i64(&p, app_seq);
	HISTORY_COLUMNS(BIND_HISTORY, BIND_HISTORY)
#undef BIND_HISTORY
	pg_bytes(&p, has_note ? sealed : NULL, sealed_len);
	if (n >= 0)
		pg_i64(&p, n);
	else
		pg_text(&p, NULL);
	return pg_run_done(t, PG_ST_HISTORY_APPEND, &p, NULL);
}

/* What history_load reads under: the application, and its data key once
 * looked up (at the first sealed note). */
typedef struct note_key {
	const ob_application *a;
	seal_key_state state;
	uint8_t dk[OB_VAULT_KEY_LEN];
	char id[OB_ID_LEN + 1];
} note_key;

#define READ_HISTORY(col, kind, field) READ_##kind(r, HISTORY_COL_##col, c, field);

static void read_change(pg_txn *t, const PGresult *r, int row, void *item, void *ctx)
{
	ob_state_change *c = item;
	note_key *k = ctx;
	HISTORY_COLUMNS(READ_HISTORY, READ_HISTORY)
	int64_t n = pg_get_i64(r, row, HISTORY_COL_n);
	c->note[0] = '\0';
	if (PQgetisnull(r, row, HISTORY_COL_note))
		return;
	size_t len;
	const void *ct = pg_get_bytes(r, row, HISTORY_COL_note, &len);
	if (len > 0 && k->state == SEAL_KEY_UNKNOWN &&
	    data_key(t, k->a->seq, k->dk, k->id, &k->state) != OB_OK)
		k->state = SEAL_KEY_DAMAGED;
	seal_open_note(k->state, k->dk, k->id, k->a->seq, n, ct, len, c->note, sizeof(c->note));
}

ob_err pg_history_load(ob_txn *base, ob_application *a)
{
	pg_txn *t = pg_txn_of(base);
	free(a->history);
	a->history = NULL;
	a->n_history = 0;
	pg_params p = {0};
	pg_i64(&p, a->seq);
	note_key k = {.a = a, .state = SEAL_KEY_UNKNOWN};
	void *list;
	ob_err err = pg_run_collect(t, PG_ST_HISTORY_LOAD, &p, sizeof(*a->history), read_change, &k,
	                            &list, &a->n_history);
	a->history = list;
	sodium_memzero(k.dk, sizeof(k.dk));
	return err;
}
