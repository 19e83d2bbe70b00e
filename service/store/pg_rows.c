/*
 * Statements of the PostgreSQL store: parameters, statements prepared once
 * per connection, and results read in binary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/log.h"
#include "store/pg_impl.h"
#include "store/shared.h"

static const char *const statement_sql[PG_ST_COUNT] = {
#define X(name, guard, sql) [PG_ST_##name] = sql,
        PG_STATEMENTS(X)
#undef X
};
static const char *const statement_name[PG_ST_COUNT] = {
#define X(name, guard, sql) [PG_ST_##name] = #name,
        PG_STATEMENTS(X)
#undef X
};
static const bool statement_guarded[PG_ST_COUNT] = {
#define X(name, guard, sql) [PG_ST_##name] = (guard) != 0,
        PG_STATEMENTS(X)
#undef X
};

/* ---- parameters ---------------------------------------------------------- */

static int next_param(pg_params *p)
{
	/* The statements are written here with at most PG_MAX_PARAMS: a
	 * programmer's error otherwise. */
	if (p->n >= PG_MAX_PARAMS) {
		ob_log(OB_LOG_ERROR, "postgresql: too many parameters");
		abort();
	}
	p->fmt[p->n] = 0;
	p->len[p->n] = 0;
	return p->n++;
}

void pg_text(pg_params *p, const char *v)
{
	int i = next_param(p);
	p->v[i] = v;
}

void pg_text_copy(pg_params *p, const char *v)
{
	size_t len = strlen(v) + 1;
	if (len > sizeof(p->scratch) - p->used) {
		ob_log(OB_LOG_ERROR, "postgresql: parameters too long");
		abort(); /* the callers copy bounded model fields only */
	}
	char *copy = p->scratch + p->used;
	memcpy(copy, v, len);
	p->used += len;
	pg_text(p, copy);
}

void pg_i64(pg_params *p, int64_t v)
{
	int i = next_param(p);
	snprintf(p->num[i], sizeof(p->num[i]), "%lld", (long long)v);
	p->v[i] = p->num[i];
}

void pg_bytes(pg_params *p, const void *v, size_t len)
{
	int i = next_param(p);
	p->v[i] = v != NULL ? (const char *)v : NULL;
	p->len[i] = (int)len;
	p->fmt[i] = 1;
	if (v != NULL && len == 0)
		p->v[i] = ""; /* an empty blob, not NULL */
}

void pg_bind_categories(pg_params *p, const ob_application *a)
{
	char cats[STORE_CATEGORIES_SIZE];
	store_categories_join(a, cats);
	pg_text_copy(p, cats);
}

void pg_bind_divisions(pg_params *p, const ob_naf_divisions *d)
{
	char text[STORE_DIVISIONS_SIZE];
	store_divisions_format(d, text);
	pg_text_copy(p, text);
}

ob_err pg_sql_numbered(const char *sql, char *out, size_t cap)
{
	size_t o = 0;
	unsigned max = 0;
	bool quoted = false;
	for (const char *s = sql; *s != '\0'; s++) {
		char piece[16];
		size_t len = 1;
		piece[0] = *s;
		if (*s == '\'') {
			quoted = !quoted;
		} else if (*s == '?' && !quoted) {
			unsigned n = 0;
			while (s[1] >= '0' && s[1] <= '9')
				n = n * 10 + (unsigned)(*++s - '0');
			if (n == 0)
				n = max + 1;
			if (n > max)
				max = n;
			len = (size_t)snprintf(piece, sizeof(piece), "$%u", n);
		}
		if (o + len >= cap)
			return OB_ETOOBIG;
		memcpy(out + o, piece, len);
		o += len;
	}
	out[o] = '\0';
	return OB_OK;
}

/* ---- running ------------------------------------------------------------- */

/* Logs a failed result r of what and translates it; t->retry for 40001 and 40P01. */
static ob_err failed(pg_txn *t, PGresult *r, const char *what)
{
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	ob_err err = pg_from_sqlstate(state);
	if (err == OB_OK)
		err = OB_EIO;
	if (state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		t->retry = true;
	/* A broken unique key is the domain's answer (a duplicate), not a fault. */
	ob_log(err == OB_EEXIST ? OB_LOG_DEBUG : OB_LOG_ERROR, "postgresql: %s: %s (%s)", what,
	       msg != NULL ? msg : PQerrorMessage(t->c->db), state != NULL ? state : "no result");
	return err;
}

static ob_err check(pg_txn *t, PGresult *r, PGresult **out, const char *what)
{
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		*out = r;
		return OB_OK;
	}
	ob_err err = failed(t, r, what);
	PQclear(r);
	return err;
}

static ob_err prepare(pg_txn *t, int which)
{
	if (t->c->prepared[which])
		return OB_OK;
	char sql[8192], name[16];
	if (pg_sql_numbered(statement_sql[which], sql, sizeof(sql)) != OB_OK)
		return OB_EINTERNAL;
	snprintf(name, sizeof(name), "s%d", which);
	PGresult *r = PQprepare(t->c->db, name, sql, 0, NULL);
	PGresult *ok = NULL;
	ob_err err = check(t, r, &ok, statement_name[which]);
	PQclear(ok);
	if (err == OB_OK)
		t->c->prepared[which] = true;
	return err;
}

static ob_err savepoint(pg_txn *t, const char *sql)
{
	return pg_exec(t->c->db, sql, sql);
}

ob_err pg_run(pg_txn *t, int which, const pg_params *p, PGresult **out)
{
	*out = NULL;
	ob_err err = prepare(t, which);
	bool guard = statement_guarded[which] && t->write;
	if (err == OB_OK && guard)
		err = savepoint(t, "SAVEPOINT g");
	if (err != OB_OK)
		return err;
	char name[16];
	snprintf(name, sizeof(name), "s%d", which);
	PGresult *r = PQexecPrepared(t->c->db, name, p->n, p->v, p->len, p->fmt, 1);
	err = check(t, r, out, statement_name[which]);
	if (guard) {
		ob_err end = savepoint(t, err == OB_OK ? "RELEASE g" : "ROLLBACK TO g");
		if (end != OB_OK) {
			PQclear(*out);
			*out = NULL;
			err = end;
		}
	}
	return err;
}

ob_err pg_run_sql(pg_txn *t, const char *sql, const pg_params *p, PGresult **out, const char *what)
{
	char numbered[8192];
	*out = NULL;
	if (pg_sql_numbered(sql, numbered, sizeof(numbered)) != OB_OK)
		return OB_EINTERNAL;
	PGresult *r = PQexecParams(t->c->db, numbered, p->n, NULL, p->v, p->len, p->fmt, 1);
	return check(t, r, out, what);
}

ob_err pg_run_done(pg_txn *t, int which, const pg_params *p, uint64_t *changed)
{
	PGresult *r;
	ob_err err = pg_run(t, which, p, &r);
	if (err == OB_OK && changed != NULL)
		*changed = strtoull(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return err;
}

ob_err pg_run_int64(pg_txn *t, int which, const pg_params *p, int64_t *out)
{
	*out = 0;
	PGresult *r;
	ob_err err = pg_run(t, which, p, &r);
	if (err == OB_OK && PQntuples(r) == 0)
		err = OB_ENOTFOUND;
	if (err == OB_OK)
		*out = pg_get_i64(r, 0, 0);
	PQclear(r);
	return err;
}

/* ---- results ------------------------------------------------------------- */

int64_t pg_get_i64(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
	int len = PQgetlength(r, row, col);
	uint64_t x = 0;
	if (len != 8 && len != 4)
		return 0; /* not a BIGINT or INT: no column of ours */
	for (int i = 0; i < len; i++)
		x = x << 8 | v[i];
	if (len == 4)
		return (int32_t)(uint32_t)x;
	return (int64_t)x;
}

const char *pg_get_cstr(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

void pg_get_text(const PGresult *r, int row, int col, char *out, size_t n)
{
	const char *v = pg_get_cstr(r, row, col);
	size_t len = v != NULL ? (size_t)PQgetlength(r, row, col) : 0;
	if (len >= n) {
		/* A row changed by hand must not put half a character into a reply. */
		len = n - 1;
		while (len > 0 && ((unsigned char)v[len] & 0xC0) == 0x80)
			len--;
	}
	if (len > 0)
		memcpy(out, v, len);
	out[len] = '\0';
}

const void *pg_get_bytes(const PGresult *r, int row, int col, size_t *len)
{
	if (PQgetisnull(r, row, col)) {
		*len = 0;
		return NULL;
	}
	*len = (size_t)PQgetlength(r, row, col);
	return PQgetvalue(r, row, col);
}

ob_err pg_collect(pg_txn *t, PGresult *r, size_t item_size, pg_row_fn read, void *ctx, void **out,
                  size_t *n)
{
	*out = NULL;
	*n = 0;
	int rows = PQntuples(r);
	if (rows > 0) {
		unsigned char *list = calloc((size_t)rows, item_size);
		if (list == NULL) {
			PQclear(r);
			return OB_ENOMEM;
		}
		for (int i = 0; i < rows; i++)
			read(t, r, i, list + (size_t)i * item_size, ctx);
		*out = list;
		*n = (size_t)rows;
	}
	PQclear(r);
	return OB_OK;
}

ob_err pg_run_one(pg_txn *t, int which, const pg_params *p, size_t item_size, pg_row_fn read,
                  void *ctx, void *item)
{
	PGresult *r;
	ob_err err = pg_run(t, which, p, &r);
	if (err == OB_OK && PQntuples(r) == 0)
		err = OB_ENOTFOUND;
	if (err == OB_OK) {
		memset(item, 0, item_size);
		read(t, r, 0, item, ctx);
	}
	PQclear(r);
	return err;
}

ob_err pg_run_collect(pg_txn *t, int which, const pg_params *p, size_t item_size, pg_row_fn read,
                      void *ctx, void **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	PGresult *r;
	ob_err err = pg_run(t, which, p, &r);
	return err != OB_OK ? err : pg_collect(t, r, item_size, read, ctx, out, n);
}
