/*
 * Cohorts and what the domain counts in them (counters, webinar seats,
 * advisors), idempotency records and the audit trail, in PostgreSQL: the
 * statements of sqlite_cohorts.c, sqlite_idem.c and sqlite_audit.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/log.h"
#include "store/pg_impl.h"
#include "store/seal.h"
#include "store/shared.h"

/* ---- cohorts ---------------------------------------------------------- */

#define READ_COHORT(col, kind, field) READ_##kind(r, COHORT_COL_##col, c, field);
#define BIND_COHORT(col, kind, field) BIND_##kind(&p, c, field);

static void read_cohort(pg_txn *t, const PGresult *r, int row, void *item, void *ctx)
{
	(void)t;
	(void)ctx;
	ob_cohort *c = item;
	COHORT_COLUMNS(READ_COHORT, READ_COHORT)
}

ob_err pg_cohort_get(ob_txn *base, const char *id, ob_cohort *out)
{
	pg_params p = {0};
	pg_text(&p, id);
	return pg_run_one(pg_txn_of(base), PG_ST_COHORT_GET, &p, sizeof(*out), read_cohort, NULL,
	                  out);
}

ob_err pg_cohort_list(ob_txn *base, ob_cohort *out, size_t max, size_t *n)
{
	pg_txn *t = pg_txn_of(base);
	*n = 0;
	if (max == 0)
		return OB_OK;
	pg_params p = {0};
	pg_i64(&p, (int64_t)max);
	void *list;
	ob_err err =
	        pg_run_collect(t, PG_ST_COHORT_LIST, &p, sizeof(*out), read_cohort, NULL, &list, n);
	if (err == OB_OK && *n > max)
		*n = max; /* LIMIT says so: defensive */
	if (err == OB_OK && *n > 0)
		memcpy(out, list, *n * sizeof(*out));
	free(list);
	return err;
}

ob_err pg_cohort_insert(ob_txn *base, const ob_cohort *c)
{
	pg_params p = {0};
	COHORT_COLUMNS(BIND_COHORT, BIND_COHORT)
	return pg_run_done(pg_txn_of(base), PG_ST_COHORT_INSERT, &p, NULL);
}

ob_err pg_cohort_set_capacity(ob_txn *base, const char *id, uint32_t capacity)
{
	pg_params p = {0};
	pg_text(&p, id);
	pg_i64(&p, capacity);
	uint64_t changed = 0;
	ob_err err = pg_run_done(pg_txn_of(base), PG_ST_COHORT_SET_CAPACITY, &p, &changed);
	return err == OB_OK && changed == 0 ? OB_ENOTFOUND : err;
}

/* ---- counters --------------------------------------------------------- */

ob_err pg_counter_add(ob_txn *base, const char *cohort, const char *key, int64_t delta)
{
	pg_params p = {0};
	pg_text(&p, cohort);
	pg_text(&p, key);
	pg_i64(&p, delta);
	return pg_run_done(pg_txn_of(base), PG_ST_COUNTER_ADD, &p, NULL);
}

/* Appends v to the array literal at out (cap bytes, *len used), quoted. */
static ob_err array_add(char *out, size_t cap, size_t *len, const char *v)
{
	size_t need = 4 + 2 * strlen(v);
	if (*len + need >= cap)
		return OB_ETOOBIG;
	out[*len] = *len == 0 ? '{' : ',';
	(*len)++;
	out[(*len)++] = '"';
	for (const char *s = v; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			out[(*len)++] = '\\';
		out[(*len)++] = *s;
	}
	out[(*len)++] = '"';
	out[*len] = '\0';
	return OB_OK;
}

/* One statement for n counters, as the SQLite store does: the keys and the
 * deltas as two arrays, summed by key so that a key given twice counts twice. */
ob_err pg_counters_add(ob_txn *base, const char *cohort, const ob_counter *d, size_t n)
{
	if (n == 0)
		return OB_OK;
	if (n > OB_MAX_COUNTER_BATCH)
		return OB_EINVAL;
	char keys[OB_MAX_COUNTER_BATCH * (2 * sizeof(d->key) + 4) + 4];
	char deltas[OB_MAX_COUNTER_BATCH * 22 + 4];
	size_t klen = 0, dlen = 0;
	for (size_t i = 0; i < n; i++) {
		ob_err err = array_add(keys, sizeof(keys), &klen, d[i].key);
		if (err != OB_OK)
			return err;
		dlen += (size_t)snprintf(deltas + dlen, sizeof(deltas) - dlen, "%c%lld",
		                         i == 0 ? '{' : ',', (long long)d[i].count);
	}
	keys[klen++] = '}';
	keys[klen] = '\0';
	snprintf(deltas + dlen, sizeof(deltas) - dlen, "}");
	pg_params p = {0};
	pg_text(&p, cohort);
	pg_text(&p, keys);
	pg_text(&p, deltas);
	return pg_run_done(pg_txn_of(base), PG_ST_COUNTERS_ADD, &p, NULL);
}

ob_err pg_counter_get(ob_txn *base, const char *cohort, const char *key, int64_t *out)
{
	pg_params p = {0};
	pg_text(&p, cohort);
	pg_text(&p, key);
	ob_err err = pg_run_int64(pg_txn_of(base), PG_ST_COUNTER_GET, &p, out);
	return err == OB_ENOTFOUND ? OB_OK : err; /* a missing counter reads 0 */
}

static void read_counter(pg_txn *t, const PGresult *r, int row, void *item, void *ctx)
{
	(void)t;
	(void)ctx;
	ob_counter *c = item;
	pg_get_text(r, row, 0, c->key, sizeof(c->key));
	c->count = pg_get_i64(r, row, 1);
}

ob_err pg_counter_list(ob_txn *base, const char *cohort, const char *prefix, ob_counter **out,
                       size_t *n)
{
	pg_params p = {0};
	pg_text(&p, cohort);
	pg_text(&p, prefix);
	void *list;
	ob_err err = pg_run_collect(pg_txn_of(base), PG_ST_COUNTER_LIST, &p, sizeof(**out),
	                            read_counter, NULL, &list, n);
	*out = list;
	return err;
}

/* ---- webinar seats and advisors ----------------------------------------- */

/* Runs which on (cohort, what_of[, delta: or another number]), for the tallies of
 * this part. */
static ob_err tally(ob_txn *base, int which, const char *cohort, int64_t what_of, int64_t *delta,
                    int64_t *out)
{
	pg_params p = {0};
	pg_text(&p, cohort);
	pg_i64(&p, what_of);
	if (delta != NULL)
		pg_i64(&p, *delta);
	if (out != NULL)
		return pg_run_int64(pg_txn_of(base), which, &p, out);
	return pg_run_done(pg_txn_of(base), which, &p, NULL);
}

/* ---- webinar sessions and bookings (as sqlite_programme.c) -------------- */

ob_err pg_webinar_booked(ob_txn *base, const char *cohort, int64_t session_ms, ob_topic topic,
                         uint32_t *booked)
{
	pg_params p = {0};
	pg_text(&p, cohort);
	pg_i64(&p, session_ms);
	pg_i64(&p, (int64_t)topic);
	int64_t v = 0;
	ob_err err = pg_run_int64(pg_txn_of(base), PG_ST_WEBINAR_BOOKED, &p, &v);
	*booked = v > 0 ? (uint32_t)v : 0;
	return err == OB_ENOTFOUND ? OB_OK : err; /* a session nobody booked */
}

ob_err pg_webinar_add(ob_txn *base, const char *cohort, int64_t session_ms, ob_topic topic,
                      int delta)
{
	pg_params p = {0};
	pg_text(&p, cohort);
	pg_i64(&p, session_ms);
	pg_i64(&p, (int64_t)topic);
	pg_i64(&p, delta);
	return pg_run_done(pg_txn_of(base), PG_ST_WEBINAR_ADD, &p, NULL);
}

static void read_booking(pg_txn *t, const PGresult *r, int row, void *item, void *ctx)
{
	(void)t;
	(void)ctx;
	ob_booking *b = item;
	b->session_ms = pg_get_i64(r, row, 0);
	int64_t topic = pg_get_i64(r, row, 1);
	b->topic = topic > 0 && topic < OB_TOPIC_COUNT ? (ob_topic)topic : OB_TOPIC_MARKETPLACE;
	b->booked_at_ms = pg_get_i64(r, row, 2);
	b->attended = pg_get_i64(r, row, 3) != 0;
	b->attended_at_ms = pg_get_i64(r, row, 4);
}

ob_err pg_booking_get(ob_txn *base, int64_t app_seq, ob_booking *out)
{
	memset(out, 0, sizeof(*out));
	pg_params p = {0};
	pg_i64(&p, app_seq);
	return pg_run_one(pg_txn_of(base), PG_ST_BOOKING_GET, &p, sizeof(*out), read_booking, NULL,
	                  out);
}

ob_err pg_booking_put(ob_txn *base, int64_t app_seq, const char *cohort, const ob_booking *b)
{
	pg_params p = {0};
	pg_i64(&p, app_seq);
	pg_text(&p, cohort);
	pg_i64(&p, b->session_ms);
	pg_i64(&p, (int64_t)b->topic);
	pg_i64(&p, b->booked_at_ms);
	pg_i64(&p, b->attended ? 1 : 0);
	pg_i64(&p, b->attended_at_ms);
	return pg_run_done(pg_txn_of(base), PG_ST_BOOKING_PUT, &p, NULL);
}

ob_err pg_booking_delete(ob_txn *base, int64_t app_seq)
{
	pg_params p = {0};
	pg_i64(&p, app_seq);
	return pg_run_done(pg_txn_of(base), PG_ST_BOOKING_DELETE, &p, NULL);
}

/* ---- advisors (as sqlite_advisors.c) ------------------------------------ */

ob_err pg_advisors_create(ob_txn *base, const char *cohort, uint32_t pool)
{
	int64_t capacity = OB_MAX_ADVISOR_CAPACITY;
	return tally(base, PG_ST_ADVISOR_CREATE, cohort, pool, &capacity, NULL);
}

ob_err pg_advisor_insert(ob_txn *base, ob_advisor *a)
{
	pg_params p = {0};
	pg_text(&p, a->cohort_id);
	pg_text(&p, a->name);
	pg_text(&p, a->region);
	pg_text(&p, a->languages);
	pg_i64(&p, a->capacity);
	pg_i64(&p, a->active ? 1 : 0);
	int64_t v = 0;
	ob_err err = pg_run_int64(pg_txn_of(base), PG_ST_ADVISOR_INSERT, &p, &v);
	a->number = (uint32_t)v;
	a->load = 0;
	return err;
}

/* One row of ADVISOR_COLS into item. */
static void read_advisor(pg_txn *t, const PGresult *r, int row, void *item, void *ctx)
{
	(void)t;
	(void)ctx;
	ob_advisor *a = item;
	pg_get_text(r, row, 0, a->cohort_id, sizeof(a->cohort_id));
	a->number = (uint32_t)pg_get_i64(r, row, 1);
	pg_get_text(r, row, 2, a->name, sizeof(a->name));
	pg_get_text(r, row, 3, a->region, sizeof(a->region));
	pg_get_text(r, row, 4, a->languages, sizeof(a->languages));
	a->capacity = (uint32_t)pg_get_i64(r, row, 5);
	a->active = pg_get_i64(r, row, 6) != 0;
	int64_t load = pg_get_i64(r, row, 7);
	a->load = load > 0 ? (uint32_t)load : 0;
}

ob_err pg_advisor_get(ob_txn *base, const char *cohort, uint32_t number, ob_advisor *out)
{
	pg_params p = {0};
	pg_text_copy(&p, cohort); /* out may be where cohort is */
	pg_i64(&p, number);
	memset(out, 0, sizeof(*out));
	return pg_run_one(pg_txn_of(base), PG_ST_ADVISOR_GET, &p, sizeof(*out), read_advisor, NULL,
	                  out);
}

ob_err pg_advisor_update(ob_txn *base, const ob_advisor *a)
{
	pg_params p = {0};
	pg_text(&p, a->cohort_id);
	pg_i64(&p, a->number);
	pg_i64(&p, a->capacity);
	pg_i64(&p, a->active ? 1 : 0);
	return pg_run_done(pg_txn_of(base), PG_ST_ADVISOR_UPDATE, &p, NULL);
}

ob_err pg_advisor_list(ob_txn *base, const char *cohort, ob_advisor **out, size_t *n)
{
	pg_params p = {0};
	pg_text(&p, cohort);
	void *list;
	ob_err err = pg_run_collect(pg_txn_of(base), PG_ST_ADVISOR_LIST, &p, sizeof(**out),
	                            read_advisor, NULL, &list, n);
	*out = list;
	return err;
}

ob_err pg_advisor_pick(ob_txn *base, const char *cohort, const char *region, const char *language,
                       uint32_t except, uint32_t *advisor)
{
	pg_params p = {0};
	pg_text(&p, cohort);
	pg_text(&p, region);
	pg_text(&p, language);
	pg_i64(&p, except);
	int64_t v = 0;
	ob_err err = pg_run_int64(pg_txn_of(base), PG_ST_ADVISOR_PICK, &p, &v);
	*advisor = (uint32_t)v;
	return err;
}

ob_err pg_advisor_add(ob_txn *base, const char *cohort, uint32_t advisor, int delta)
{
	int64_t d = delta;
	return tally(base, PG_ST_ADVISOR_ADD, cohort, advisor, &d, NULL);
}

/* ---- idempotency records ------------------------------------------------ */

enum { IDEM_HASH, IDEM_REPLY, IDEM_APP_SEQ, IDEM_APP_ID, IDEM_DK_KID, IDEM_DK_WRAPPED };

/* The reply of row 0 of r into *reply (malloc'd): sealed under the data key
 * of application app_seq, or in clear (app_seq 0). */
static ob_err idem_reply(pg_txn *t, const PGresult *r, int64_t app_seq, uint8_t **reply,
                         size_t *len)
{
	size_t n, wlen = 0;
	const void *stored = pg_get_bytes(r, 0, IDEM_REPLY, &n), *wrapped = NULL;
	char id[OB_ID_LEN + 1] = "";
	if (app_seq != 0) {
		wrapped = pg_get_bytes(r, 0, IDEM_DK_WRAPPED, &wlen);
		pg_get_text(r, 0, IDEM_APP_ID, id, sizeof(id));
	}
	return seal_open_stored_reply(t->store->keys, app_seq, id, pg_get_cstr(r, 0, IDEM_DK_KID),
	                              wrapped, wlen, stored, n, reply, len);
}

ob_err pg_idem_get(ob_txn *base, const char *key, uint8_t hash[32], uint8_t **reply,
                   size_t *reply_len)
{
	pg_txn *t = pg_txn_of(base);
	*reply = NULL;
	*reply_len = 0;
	pg_params p = {0};
	pg_text(&p, key);
	PGresult *r;
	ob_err err = pg_run(t, PG_ST_IDEM_GET, &p, &r);
	if (err != OB_OK)
		return err;
	size_t hlen = 0;
	const void *h = PQntuples(r) == 1 ? pg_get_bytes(r, 0, IDEM_HASH, &hlen) : NULL;
	int64_t app_seq = PQntuples(r) == 1 ? pg_get_i64(r, 0, IDEM_APP_SEQ) : 0;
	if (PQntuples(r) != 1)
		err = OB_ENOTFOUND;
	else if (hlen != 32)
		err = OB_ECORRUPT;
	else if (app_seq != 0 && PQgetisnull(r, 0, IDEM_DK_KID))
		err = OB_ENOTFOUND; /* erased since: defensive, erasure deletes the record */
	else
		err = idem_reply(t, r, app_seq, reply, reply_len);
	if (err == OB_OK)
		memcpy(hash, h, 32);
	PQclear(r);
	return err;
}

ob_err pg_idem_put(ob_txn *base, const char *key, const uint8_t hash[32], const uint8_t *reply,
                   size_t reply_len, int64_t now_ms, const ob_application *a)
{
	seal_stored_reply stored;
	ob_err err = seal_app_reply(pg_app_data_key, base, a, reply, reply_len, &stored);
	if (err != OB_OK)
		return err;
	pg_params p = {0};
	pg_text(&p, key);
	pg_bytes(&p, hash, 32);
	pg_i64(&p, stored.app_seq);
	pg_bytes(&p, stored.bytes != NULL ? (const void *)stored.bytes : "", stored.len);
	pg_i64(&p, now_ms);
	err = pg_run_done(pg_txn_of(base), PG_ST_IDEM_PUT, &p, NULL);
	free(stored.sealed);
	return err;
}

ob_err pg_idem_purge(ob_txn *base, int64_t before_ms, unsigned limit)
{
	pg_params p = {0};
	pg_i64(&p, before_ms);
	pg_i64(&p, limit);
	return pg_run_done(pg_txn_of(base), PG_ST_IDEM_PURGE, &p, NULL);
}

/* ---- the audit trail ------------------------------------------------------- */

#define READ_AUDIT(col, kind, field) READ_##kind(r, AUDIT_COL_##col, e, field);
#define BIND_AUDIT(col, kind, field) BIND_##kind(&p, e, field);

ob_err pg_audit_append(ob_txn *base, const ob_audit_event *e)
{
	pg_params p = {0};
	AUDIT_COLUMNS(BIND_AUDIT, BIND_AUDIT)
	return pg_run_done(pg_txn_of(base), PG_ST_AUDIT_APPEND, &p, NULL);
}

static void read_event(pg_txn *t, const PGresult *r, int row, void *item, void *ctx)
{
	(void)t;
	(void)ctx;
	ob_audit_event *e = item;
	e->seq = pg_get_i64(r, row, AUDIT_COL_seq);
	AUDIT_COLUMNS(READ_AUDIT, READ_AUDIT)
}

ob_err pg_audit_list(ob_txn *base, int64_t after_seq, size_t limit, ob_audit_event **out, size_t *n)
{
	pg_txn *t = pg_txn_of(base);
	*out = NULL;
	*n = 0;
	if (limit == 0)
		return OB_OK;
	pg_params p = {0};
	pg_i64(&p, after_seq);
	pg_i64(&p, (int64_t)limit);
	void *list;
	ob_err err =
	        pg_run_collect(t, PG_ST_AUDIT_LIST, &p, sizeof(**out), read_event, NULL, &list, n);
	*out = list;
	return err;
}
