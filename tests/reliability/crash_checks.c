/*
 * crash_checks.c: what must hold after every kill, in a database (the crash image, the
 * live one) and through the service.
 *
 * The database checks read the schema's tables directly (store/migrations.c): application
 * (seq, id, cohort_id, state, version, wl_ticket), history (app_seq, from_state, to_state),
 * counter, contact (app_seq, dk_kid, dk_wrapped), idempotency (key). They are the campaign's
 * second opinion: the service could agree with itself and still be wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "crash.h"

enum { STMT_CACHE = 16, PAGE_SIZE = 500, LIST_MS = 60000 };

/* Prepared statements of one check, by their SQL's address (the kinds' literals). */
typedef struct {
	const char *sql;
	sqlite3_stmt *stmt;
} cached;

typedef struct {
	cr_check x;
	cr_model *m;
	cached cache[STMT_CACHE];
} check;

static sqlite3_stmt *prepare(check *k, const char *sql)
{
	for (size_t i = 0; i < STMT_CACHE; i++) {
		if (k->cache[i].sql == sql) {
			sqlite3_reset(k->cache[i].stmt);
			sqlite3_clear_bindings(k->cache[i].stmt);
			return k->cache[i].stmt;
		}
		if (k->cache[i].sql == NULL) {
			if (sqlite3_prepare_v2(k->x.db, sql, -1, &k->cache[i].stmt, NULL) !=
			    SQLITE_OK)
				return NULL;
			k->cache[i].sql = sql;
			return k->cache[i].stmt;
		}
	}
	return NULL; /* never: the checks have fewer queries than slots */
}

int cr_count(cr_check *x, const char *sql, const char *text, int a, int b)
{
	if (x->pg != NULL)
		return cr_pg_count(x, sql, text, a, b);
	check *k = (check *)x;
	sqlite3_stmt *s = prepare(k, sql);
	if (s != NULL) {
		if (text != NULL)
			sqlite3_bind_text(s, 1, text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(s, 2, a);
		sqlite3_bind_int(s, 3, b);
		if (sqlite3_step(s) == SQLITE_ROW)
			return sqlite3_column_int(s, 0);
	}
	cr_report(k->m, CR_UNEXPECTED, "%s: %s: %s", x->what, sql, sqlite3_errmsg(x->db));
	return -1;
}

/* Calls each with the first column of every row of sql (?1 bound to text), in either
 * database; false when the query fails (reported) or each says to stop. */
static bool strings(check *k, const char *sql, const char *text, cr_string_fn each, void *ctx)
{
	if (k->x.pg != NULL)
		return cr_pg_strings(&k->x, sql, text, each, ctx);
	sqlite3_stmt *s = prepare(k, sql);
	if (s != NULL && text != NULL)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_TRANSIENT);
	int rc = s != NULL ? SQLITE_ROW : SQLITE_ERROR;
	bool go = true;
	while (go && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);
		go = each(ctx, v != NULL ? v : "");
	}
	if (go && rc != SQLITE_DONE) {
		cr_report(k->m, CR_UNEXPECTED, "%s: %s: %s", k->x.what, sql,
		          sqlite3_errmsg(k->x.db));
		return false;
	}
	return go;
}

/* ---- the database ----------------------------------------------------------------------- */

static void integrity(check *k)
{
	if (k->x.pg != NULL) {
		cr_pg_integrity(&k->x);
		return;
	}
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(k->x.db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK) {
		cr_report(k->m, CR_UNEXPECTED, "%s: cannot run integrity_check: %s", k->x.what,
		          sqlite3_errmsg(k->x.db));
		return;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *row = (const char *)sqlite3_column_text(s, 0);
		if (row == NULL || strcmp(row, "ok") != 0)
			cr_report(k->m, CR_UNEXPECTED, "%s: integrity_check: %s", k->x.what,
			          row != NULL ? row : "(null)");
	}
	sqlite3_finalize(s);
}

static int compare_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The idempotency keys read so far (stored_keys). */
typedef struct {
	char **keys;
	size_t n, cap;
} key_list;

static bool add_key(void *ctx, const char *key)
{
	key_list *l = ctx;
	char *copy = strdup(key);
	if (copy == NULL || !cr_grow(&l->keys, &l->cap, l->n, sizeof(*l->keys), 1024)) {
		free(copy);
		return false;
	}
	l->keys[l->n++] = copy;
	return true;
}

/* The idempotency keys stored, without their caller's prefix, sorted, into *keys (free each
 * and the array), *n of them. False, said and counted, when they cannot be read: the check
 * of the keys is then not made, rather than made against nothing. */
static bool stored_keys(check *k, char ***keys, size_t *n)
{
	key_list l = {0};
	bool ok = strings(k,
	                  k->x.pg != NULL
	                          ? "SELECT substr(key, strpos(key, '/') + 1) FROM idempotency"
	                          : "SELECT substr(key, instr(key, '/') + 1) FROM idempotency",
	                  NULL, add_key, &l);
	if (!ok) {
		cr_report(k->m, CR_UNEXPECTED, "%s: cannot read the idempotency keys", k->x.what);
		for (size_t i = 0; i < l.n; i++)
			free(l.keys[i]);
		free(l.keys);
		l = (key_list){0};
	}
	*keys = l.keys;
	*n = l.n;
	if (*n > 0)
		qsort(*keys, *n, sizeof(**keys), compare_keys);
	return ok;
}

/* How many times key is among keys (sorted, n). */
static int key_count(char **keys, size_t n, const char *key)
{
	char **at = bsearch(&key, keys, n, sizeof(*keys), compare_keys);
	if (at == NULL)
		return 0;
	char **lo = at, **hi = at;
	while (lo > keys && strcmp(lo[-1], key) == 0)
		lo--;
	while (hi + 1 < keys + n && strcmp(hi[1], key) == 0)
		hi++;
	return (int)(hi - lo + 1);
}

/* Every write acknowledged by a server generation below epoch_limit, exactly once, with its
 * idempotency key when keyed. */
static void writes(check *k, int epoch_limit)
{
	cr_model *m = k->m;
	size_t n_keys;
	char **keys;
	bool have_keys = stored_keys(k, &keys, &n_keys);
	for (size_t i = 0; i < m->n_ops; i++) {
		const cr_op *op = m->ops[i];
		if (op->how == CR_NOT_YET || op->ack_epoch >= epoch_limit)
			continue;
		int n = op->kind->count(&k->x, op);
		if (n == 0)
			cr_report(m, CR_LOST, "%s: acknowledged %s %s (app %s) is not there",
			          k->x.what, op->kind->name, op->key, op->app_id);
		else if (n > 1)
			cr_report(m, CR_DUPLICATED,
			          "%s: acknowledged %s %s (app %s) is there %d times", k->x.what,
			          op->kind->name, op->key, op->app_id, n);
		int stored = op->kind->keyed && have_keys ? key_count(keys, n_keys, op->key) : 1;
		if (stored != 1)
			cr_report(m, stored == 0 ? CR_LOST : CR_DUPLICATED,
			          "%s: the key %s of acknowledged %s is stored %d times", k->x.what,
			          op->key, op->kind->name, stored);
	}
	for (size_t i = 0; i < n_keys; i++)
		free(keys[i]);
	free(keys);
}

static const char q_capacity[] = "SELECT capacity FROM cohort WHERE id = ?1";
static const char q_held[] = "SELECT count(*) FROM application WHERE cohort_id = ?1 AND "
                             "state IN (2, 3, 4, 5, 6)";
static const char q_waiting[] =
        "SELECT count(*) FROM application WHERE cohort_id = ?1 AND state = 1";
static const char q_counter[] = "SELECT coalesce((SELECT count FROM counter WHERE cohort_id = ?1 "
                                "AND key = (CASE ?2 WHEN 0 THEN 'seats' ELSE 'waitlist' END)), 0)";
/* Every promotion took someone submitted before all who still wait. */
static const char q_promoted_after[] =
        "SELECT count(*) FROM application w WHERE w.cohort_id = ?1 AND w.state = 1 AND "
        "w.seq < (SELECT coalesce(max(a.seq), 0) FROM application a JOIN history h ON "
        "h.app_seq = a.seq WHERE a.cohort_id = ?1 AND h.from_state = 1 AND h.to_state = 2)";
/* The waitlist's tickets grow with the order of submission. */
static const char q_tickets[] =
        "SELECT count(*) FROM (SELECT wl_ticket, lag(wl_ticket) OVER (ORDER BY seq) AS prev "
        "FROM application WHERE cohort_id = ?1 AND state = 1) AS t WHERE prev >= wl_ticket";
static const char q_no_key[] =
        "SELECT count(*) FROM application a LEFT JOIN contact c ON c.app_seq = a.seq "
        "WHERE c.app_seq IS NULL OR c.dk_kid IS NULL OR c.dk_wrapped IS NULL";
static const char q_kids[] = "SELECT DISTINCT dk_kid FROM contact WHERE dk_kid IS NOT NULL";
static const char q_not_rotated[] =
        "SELECT count(*) FROM contact WHERE dk_kid IS NOT NULL AND dk_kid != ?1";

/* The seats, the counters kept with them, and the waitlist's order. */
static void seats(check *k)
{
	cr_model *m = k->m;
	const char *what = k->x.what, *cohort = m->cohort;
	int capacity = cr_count(&k->x, q_capacity, cohort, 0, 0);
	int held = cr_count(&k->x, q_held, cohort, 0, 0);
	int waiting = cr_count(&k->x, q_waiting, cohort, 0, 0);
	int seats = cr_count(&k->x, q_counter, cohort, 0, 0);
	int line = cr_count(&k->x, q_counter, cohort, 1, 0);
	if (held > capacity)
		cr_report(m, CR_UNEXPECTED, "%s: %d seats held, above the capacity of %d", what,
		          held, capacity);
	if (held < capacity && waiting > 0)
		cr_report(m, CR_UNEXPECTED, "%s: %d waiting while %d seats are free", what, waiting,
		          capacity - held);
	if (seats != held || line != waiting)
		cr_report(m, CR_UNEXPECTED,
		          "%s: the counters say %d held and %d waiting, the "
		          "applications %d and %d",
		          what, seats, line, held, waiting);
	int skipped = cr_count(&k->x, q_promoted_after, cohort, 0, 0);
	if (skipped > 0)
		cr_report(m, CR_UNEXPECTED,
		          "%s: %d still wait who were submitted before one "
		          "promoted: not first in, first out",
		          what, skipped);
	int disorder = cr_count(&k->x, q_tickets, cohort, 0, 0);
	if (disorder > 0)
		cr_report(m, CR_UNEXPECTED, "%s: %d waitlist tickets out of submission order", what,
		          disorder);
}

/* The key file's ids, against which the data keys' are checked (kid_known). */
typedef struct {
	check *k;
	char ids[64][CR_KID_SIZE];
	size_t n;
} key_file_ids;

static bool kid_known(void *ctx, const char *kid)
{
	key_file_ids *f = ctx;
	bool known = false;
	for (size_t i = 0; i < f->n; i++)
		known |= strcmp(f->ids[i], kid) == 0;
	if (!known)
		cr_report(f->k->m, CR_UNEXPECTED,
		          "%s: data keys wrapped under %s, which the key "
		          "file does not hold: their contacts cannot be read",
		          f->k->x.what, kid);
	return true;
}

/* Every contact's data key is wrapped under a key of the key file; once a rotation has been
 * acknowledged and none began after it, under that one. */
static void contact_keys(check *k, bool settled)
{
	cr_model *m = k->m;
	int bare = cr_count(&k->x, q_no_key, NULL, 0, 0);
	if (bare > 0)
		cr_report(m, CR_UNEXPECTED, "%s: %d applications without a wrapped data key",
		          k->x.what, bare);
	key_file_ids known = {.k = k};
	known.n = cr_key_ids(k->x.key_file, known.ids, 64);
	strings(k, q_kids, NULL, kid_known, &known);
	if (settled && m->rotated_kid[0] != '\0' && !m->rotation_since) {
		int old = cr_count(&k->x, q_not_rotated, m->rotated_kid, 0, 0);
		if (old > 0)
			cr_report(m, CR_LOST,
			          "%s: %d data keys not re-wrapped under %s, whose "
			          "rotation was acknowledged",
			          k->x.what, old, m->rotated_kid);
	}
}

/* Opens the database at path (a SQLite file, or a PostgreSQL URL: the database itself, what
 * is committed being what a restart finds) in one read snapshot. -1, reported, if not. */
static int open_database(check *k, const char *path, bool settled)
{
	if (cr_is_pg(path))
		return cr_pg_open(&k->x, path);
	int flags = settled ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (sqlite3_open_v2(path, &k->x.db, flags, NULL) != SQLITE_OK) {
		cr_report(k->m, CR_UNEXPECTED, "%s: cannot open %s: %s", k->x.what, path,
		          sqlite3_errmsg(k->x.db));
		sqlite3_close(k->x.db);
		return -1;
	}
	sqlite3_busy_timeout(k->x.db, 10000);
	/* One read transaction: one snapshot for every query. */
	sqlite3_exec(k->x.db, "BEGIN", NULL, NULL, NULL);
	return 0;
}

void cr_check_database(cr_model *m, const char *path, const char *what, const char *key_file,
                       int epoch_limit, bool settled)
{
	check k = {.x = {.what = what, .key_file = key_file, .m = m, .settled = settled}, .m = m};
	if (open_database(&k, path, settled) != 0)
		return;
	integrity(&k);
	writes(&k, epoch_limit);
	seats(&k);
	contact_keys(&k, settled);
	if (k.x.pg != NULL) {
		cr_pg_close(&k.x);
		return;
	}
	for (size_t i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(k.cache[i].stmt);
	sqlite3_exec(k.x.db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(k.x.db);
}

/* ---- the service ------------------------------------------------------------------------ */

/* The model's applications by id: open addressing over twice as many slots. */
typedef struct {
	size_t *slot; /* index + 1, 0 empty */
	size_t n;
} id_index;

static size_t id_hash(const char *id)
{
	size_t h = 1469598103934665603u;
	for (; *id != '\0'; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211u;
	return h;
}

static bool index_build(id_index *ix, const cr_model *m)
{
	ix->n = 2 * m->n_apps + 1;
	ix->slot = calloc(ix->n, sizeof(*ix->slot));
	if (ix->slot == NULL)
		return false;
	for (size_t i = 0; i < m->n_apps; i++) {
		if (m->apps[i].id[0] == '\0')
			continue;
		size_t h = id_hash(m->apps[i].id) % ix->n;
		while (ix->slot[h] != 0)
			h = (h + 1) % ix->n;
		ix->slot[h] = i + 1;
	}
	return true;
}

static size_t index_find(const id_index *ix, const cr_model *m, const char *id)
{
	for (size_t h = id_hash(id) % ix->n; ix->slot[h] != 0; h = (h + 1) % ix->n)
		if (strcmp(m->apps[ix->slot[h] - 1].id, id) == 0)
			return ix->slot[h] - 1;
	return SIZE_MAX;
}

/* What the listing found, to compare with the standing. */
typedef struct {
	unsigned *seen; /* per model application */
	unsigned unknown, held, waiting;
} tally;

static bool holds_seat(int state)
{
	return state >= CR_SUBMITTED &&
	       state <= ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_ONBOARDED;
}

/* One listed application against the model. */
static void compare(cr_model *m, const id_index *ix, tally *t, const Onboard__V1__Application *a)
{
	if ((int)a->state == CR_WAITLISTED && a->waitlist_position != ++t->waiting)
		cr_report(m, CR_UNEXPECTED,
		          "service: %s is number %u in line, after %u before it: "
		          "not first in, first out",
		          a->id, a->waitlist_position, t->waiting - 1);
	if (holds_seat((int)a->state))
		t->held++;
	size_t i = index_find(ix, m, a->id);
	if (i == SIZE_MAX) {
		t->unknown++;
		cr_report(m, CR_DUPLICATED,
		          "service: %s (SIREN %s) was never acknowledged to anyone", a->id,
		          a->company != NULL ? a->company->siren : "?");
		return;
	}
	t->seen[i]++;
	cr_app *app = &m->apps[i];
	if ((int)a->state == CR_SUBMITTED && app->state == CR_WAITLISTED &&
	    a->version == app->version + 1) {
		app->state = CR_SUBMITTED; /* promoted by a withdrawal: now its owner knows */
		app->version = a->version;
	} else if ((int)a->state != app->state || a->version != app->version) {
		cr_report(
		        m, a->version < app->version ? CR_LOST : CR_UNEXPECTED,
		        "service: %s is in state %d at version %llu, its owner was told %d at %llu",
		        a->id, (int)a->state, (unsigned long long)a->version, app->state,
		        (unsigned long long)app->version);
	}
	if (a->benefits != NULL && a->benefits->ad_credit_used_cents != app->spent)
		cr_report(
		        m, a->benefits->ad_credit_used_cents < app->spent ? CR_LOST : CR_DUPLICATED,
		        "service: %s has spent %lld cents of ad credit, its owner recorded %lld",
		        a->id, (long long)a->benefits->ad_credit_used_cents, (long long)app->spent);
	char name[64];
	cr_contact_name(app->n, name, sizeof(name));
	if (a->contact == NULL || strcmp(a->contact->name, name) != 0)
		cr_report(m, CR_UNEXPECTED,
		          "service: the contact of %s does not read back "
		          "(unreadable, or another's)",
		          a->id);
}

/* Lists the cohort, page after page, comparing each application. False if a call failed. */
static bool list_all(cr_model *m, ob_client *admin, const id_index *ix, tally *t)
{
	char token[512] = "";
	do {
		Onboard__V1__ListApplicationsRequest rq =
		        ONBOARD__V1__LIST_APPLICATIONS_REQUEST__INIT;
		rq.cohort_id = (char *)m->cohort;
		rq.page_size = PAGE_SIZE;
		rq.page_token = token;
		Onboard__V1__ListApplicationsResponse *page = NULL;
		ob_result r;
		int code = ob_client_call_message(
		        admin, "/onboard.v1.Onboarding/ListApplications", NULL, 0, &rq.base,
		        &onboard__v1__list_applications_response__descriptor,
		        (ProtobufCMessage **)&page, LIST_MS, &r);
		if (code != OB_CODE_OK) {
			cr_report(m, CR_UNEXPECTED, "service: ListApplications: %s: %s",
			          ob_code_name(code), r.message);
			ob_result_fini(&r);
			return false;
		}
		for (size_t i = 0; i < page->n_applications; i++)
			compare(m, ix, t, page->applications[i]);
		snprintf(token, sizeof(token), "%s", page->next_page_token);
		protobuf_c_message_free_unpacked(&page->base, NULL);
		ob_result_fini(&r);
	} while (token[0] != '\0');
	return true;
}

/* The standing against what the listing counted. */
static void standing(cr_model *m, ob_client *admin, const tally *t)
{
	Onboard__V1__GetCohortRequest rq = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
	rq.id = (char *)m->cohort;
	Onboard__V1__CohortStanding *st = NULL;
	ob_result r;
	int code = ob_client_call_message(admin, "/onboard.v1.Onboarding/GetCohort", NULL, 0,
	                                  &rq.base, &onboard__v1__cohort_standing__descriptor,
	                                  (ProtobufCMessage **)&st, LIST_MS, &r);
	if (code != OB_CODE_OK) {
		cr_report(m, CR_UNEXPECTED, "service: GetCohort: %s: %s", ob_code_name(code),
		          r.message);
	} else {
		unsigned cap = st->cohort != NULL ? st->cohort->capacity : 0;
		if (st->seats_held > cap)
			cr_report(m, CR_UNEXPECTED,
			          "service: %u seats held, above the capacity of %u",
			          st->seats_held, cap);
		if (st->seats_held < cap && st->waitlist_length > 0)
			cr_report(m, CR_UNEXPECTED, "service: %u waiting while %u seats are free",
			          st->waitlist_length, cap - st->seats_held);
		if (st->seats_held != t->held || st->waitlist_length != t->waiting)
			cr_report(m, CR_UNEXPECTED,
			          "service: the standing says %u held and %u "
			          "waiting, the applications %u and %u",
			          st->seats_held, st->waitlist_length, t->held, t->waiting);
		protobuf_c_message_free_unpacked(&st->base, NULL);
	}
	ob_result_fini(&r);
}

void cr_check_service(cr_model *m, ob_client *admin)
{
	pthread_mutex_lock(&m->mu);
	id_index ix;
	tally t = {.seen = calloc(m->n_apps + 1, sizeof(unsigned))};
	if (t.seen == NULL || !index_build(&ix, m)) {
		free(t.seen);
		cr_report(m, CR_UNEXPECTED, "out of memory");
		pthread_mutex_unlock(&m->mu);
		return;
	}
	if (list_all(m, admin, &ix, &t)) {
		for (size_t i = 0; i < m->n_apps; i++) {
			const cr_app *a = &m->apps[i];
			if (a->id[0] != '\0' && t.seen[i] == 0)
				cr_report(m, CR_LOST,
				          "service: acknowledged %s (company %u) is not listed",
				          a->id, a->n);
			else if (t.seen[i] > 1)
				cr_report(m, CR_DUPLICATED, "service: %s is listed %u times", a->id,
				          t.seen[i]);
		}
		standing(m, admin, &t);
	}
	free(ix.slot);
	free(t.seen);
	pthread_mutex_unlock(&m->mu);
}
