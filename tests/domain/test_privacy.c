/*
 * test_privacy.c: personal data at rest (store/sqlite.h, domain/domain.h) on a
 * real SQLite file and a real master key file in a private temporary directory.
 *
 * What the issue asks, checked from outside the code: the bytes of the
 * database and of its write-ahead log never hold a submitted name, e-mail or
 * phone (as typed or in E.164); a flipped byte or a ciphertext copied to
 * another row is refused, naming the application and not its data; erasure
 * destroys the key, the ciphertexts and the index and keeps the record and
 * the statistics; export by e-mail finds every application of the contact;
 * rotation re-wraps every data key while reads go on, and the data stays
 * readable with the rotated file alone.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "base/clock.h"
#include "base/utf8.h"
#include "crypto/keystore.h"
#include "crypto/vault.h"
#include "domain/calendar.h"
#include "domain/domain.h"
#include "store/sqlite.h"
#include "schema.h"
#include "testdata.h"
#include "testdomain.h"
#include "testutil.h"

/* ---- fixture: a database and a master key file per test (testdomain.h) -------------------- */

typedef ob_test_domain fx;

/* Opens the store and the domain, and first the keystore of the key file unless one is open. */
static void fx_open(fx *f)
{
	char why[256];
	if (f->keys == NULL && ob_keystore_open(f->key, &f->keys, why, sizeof(why)) != OB_OK)
		fail_msg("cannot open the key file: %s", why);
	assert_int_equal(ob_test_domain_open(f), OB_OK);
}

/* Closes the store; with forget_keys, the keystore too (the next open reads the file again). */
static void fx_close(fx *f, bool forget_keys)
{
	ob_test_domain_close(f);
	if (forget_keys) {
		ob_keystore_destroy(f->keys);
		f->keys = NULL;
	}
}

/* The number of master keys of the current vault. */
static size_t key_count(fx *f)
{
	ob_keystore_lease lease;
	size_t n = ob_vault_key_count(ob_keystore_acquire(f->keys, &lease));
	ob_keystore_release(&lease);
	return n;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	if (f == NULL || ob_test_domain_init(f, "ob-privacy") != 0) {
		free(f);
		return -1;
	}
	ob_clock_set_now_ms(1605873600000); /* 2020-11-20T12:00:00Z */
	char why[256];
	if (ob_vault_generate_file(f->key, "k1", why, sizeof(why)) != OB_OK) {
		fprintf(stderr, "cannot make a key file: %s\n", why);
		ob_test_domain_fini(f);
		free(f);
		return -1;
	}
	fx_open(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	ob_test_domain_fini(*state);
	free(*state);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------------- */

/* Company n of testdata.h, with its e-mail replaced when email is not NULL. */
static ob_err submit_as(fx *f, uint32_t n, const char *email, const char *owner,
                        const ob_idempotency *idem, ob_application *out, ob_outcome *o)
{
	td_company c;
	td_company_make(&c, n);
	if (email != NULL)
		snprintf(c.email, sizeof(c.email), "%s", email);
	ob_submission s;
	td_submission(&s, &c, NULL);
	memset(out, 0, sizeof(*out));
	ob_caller who = {.principal = owner, .actor = "test"};
	return ob_domain_submit(f->d, &who, &s, idem, out, o);
}

static void submit_ok(fx *f, uint32_t n, const char *email, ob_application *out)
{
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = submit_as(f, n, email, NULL, NULL, out, &o);
	if (err != OB_OK)
		fail_msg("submit %u: %s: %s", n, ob_strerror(err), o.message);
	ob_outcome_fini(&o);
}

/* Companies first, first + 1... submitted, n of them, into a[0..n). */
static void submit_series(fx *f, uint32_t first, uint32_t n, ob_application *a)
{
	for (uint32_t i = 0; i < n; i++)
		submit_ok(f, first + i, NULL, &a[i]);
}

static ob_err get(fx *f, const char *id, ob_application *out, char msg[256])
{
	ob_outcome o;
	ob_outcome_init(&o);
	memset(out, 0, sizeof(*out));
	ob_err err = ob_domain_get(f->d, TD_ALL, id, NULL, NULL, out, &o);
	if (msg != NULL)
		snprintf(msg, 256, "%s", o.message);
	ob_outcome_fini(&o);
	return err;
}

static ob_err erase(fx *f, const char *id, const char *reason, const char *actor,
                    ob_application *out)
{
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = ob_domain_erase(f->d, TD_AS(actor), id, reason, out, &o);
	ob_outcome_fini(&o);
	return err;
}

/* A second connection to the database, as an attacker or a forensic tool would have. */
static sqlite3 *raw_open(fx *f)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		fail_msg("cannot open %s: %s", f->db, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* The one column of the one row sql selects, its ?1 being an application's seq and its ?2, when
 * it has one, a history row's n; malloc'd, NULL for NULL. */
static uint8_t *raw_get(fx *f, const char *sql, int64_t seq, int64_t n, size_t *len)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_bind_int64(s, 1, seq);
	if (sqlite3_bind_parameter_count(s) > 1)
		sqlite3_bind_int64(s, 2, n);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	uint8_t *out = NULL;
	*len = 0;
	if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*len = (size_t)sqlite3_column_bytes(s, 0);
		out = malloc(*len + 1);
		assert_non_null(out);
		if (*len > 0)
			memcpy(out, sqlite3_column_blob(s, 0), *len);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

/* Runs the UPDATE sql on exactly one row: ?1 is an application's seq, ?2 a history row's n when
 * sql has three parameters, and the last one gets v[0..len). */
static void raw_set(fx *f, const char *sql, int64_t seq, int64_t n, const uint8_t *v, size_t len)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	int last = sqlite3_bind_parameter_count(s);
	sqlite3_bind_int64(s, 1, seq);
	if (last > 2)
		sqlite3_bind_int64(s, 2, n);
	sqlite3_bind_blob(s, last, v, (int)len, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* The bytes of column col of the contact of application seq; malloc'd, NULL for NULL. */
static uint8_t *raw_blob(fx *f, int64_t seq, const char *col, size_t *len)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT %s FROM contact WHERE app_seq = ?1", col);
	return raw_get(f, sql, seq, 0, len);
}

static void raw_set_blob(fx *f, int64_t seq, const char *col, const uint8_t *v, size_t len)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE contact SET %s = ?2 WHERE app_seq = ?1", col);
	raw_set(f, sql, seq, 0, v, len);
}

/* One integer from a query with one optional integer parameter. */
static int64_t raw_int(fx *f, const char *sql, int64_t param)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_bind_parameter_count(s) > 0)
		sqlite3_bind_int64(s, 1, param);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* The whole of a file; an absent file reads as empty. */
static uint8_t *file_bytes(const char *path, size_t *len)
{
	*len = 0;
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return calloc(1, 1);
	size_t cap = 1 << 16;
	uint8_t *buf = malloc(cap);
	assert_non_null(buf);
	size_t n;
	while ((n = fread(buf + *len, 1, cap - *len, fp)) > 0) {
		*len += n;
		if (*len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	fclose(fp);
	return buf;
}

/* The database file and its write-ahead log, as they are on disk now. */
typedef struct files {
	uint8_t *db, *wal;
	size_t db_len, wal_len;
} files;

static void files_read(fx *f, files *out)
{
	char wal[320];
	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	out->db = file_bytes(f->db, &out->db_len);
	out->wal = file_bytes(wal, &out->wal_len);
	assert_true(out->db_len > 0);
}

static void files_free(files *fs)
{
	free(fs->db);
	free(fs->wal);
}

/* Fails naming what when needle (len bytes) is in the database or its log. */
static void assert_absent(const files *fs, const void *needle, size_t len, const char *what)
{
	if (len == 0)
		return;
	if (memmem(fs->db, fs->db_len, needle, len) != NULL)
		fail_msg("%s is in the database file", what);
	if (memmem(fs->wal, fs->wal_len, needle, len) != NULL)
		fail_msg("%s is in the write-ahead log", what);
}

static void assert_str_absent(const files *fs, const char *s, const char *what)
{
	assert_absent(fs, s, strlen(s), what);
}

/* What a contact looks like once stored: the strings a leak would show. */
static void assert_contact_absent(const files *fs, uint32_t n, const char *email)
{
	td_company c;
	td_company_make(&c, n);
	if (email != NULL)
		snprintf(c.email, sizeof(c.email), "%s", email);
	char e164[32], digits[24];
	size_t k = 0;
	for (const char *p = c.phone; *p != '\0'; p++)
		if (*p >= '0' && *p <= '9')
			digits[k++] = *p;
	digits[k] = '\0';
	snprintf(e164, sizeof(e164), "+33%s", digits + 1); /* 01 23... -> +331 23... */
	char what[128];
	snprintf(what, sizeof(what), "the name of company %u", n);
	assert_str_absent(fs, c.contact_name, what);
	snprintf(what, sizeof(what), "the e-mail of company %u", n);
	assert_str_absent(fs, c.email, what);
	snprintf(what, sizeof(what), "the phone of company %u as typed", n);
	assert_str_absent(fs, c.phone, what);
	snprintf(what, sizeof(what), "the phone of company %u in E.164", n);
	assert_str_absent(fs, e164, what);
	snprintf(what, sizeof(what), "the phone digits of company %u", n);
	assert_str_absent(fs, digits, what);
}

/* The stored reply of an idempotent write shows the contact, as the rpc layer's does. */
static ob_err render_contact(void *ctx, const void *reply, uint8_t **out, size_t *len)
{
	const ob_application *a = reply;
	(void)ctx;
	char buf[600];
	int n = snprintf(buf, sizeof(buf), "%s|%s|%s|%s", a->id, a->contact.name, a->contact.email,
	                 a->contact.phone);
	*out = malloc((size_t)n);
	if (*out == NULL)
		return OB_ENOMEM;
	memcpy(*out, buf, (size_t)n);
	*len = (size_t)n;
	return OB_OK;
}

static ob_idempotency idem_for(const char *key)
{
	ob_idempotency idem = {.key = key, .render = render_contact};
	crypto_generichash(idem.request_hash, sizeof(idem.request_hash), (const uint8_t *)key,
	                   strlen(key), NULL, 0);
	return idem;
}

/* A review action on a with a note; *a becomes the result. */
static void review_note(fx *f, ob_application *a, ob_action action, const char *note)
{
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application next;
	ob_err err = ob_domain_review(f->d, TD_AS("reviewer"), a->id, action, a->version,
	                              OB_REJECTION_NONE, note, NULL, &next, &o);
	if (err != OB_OK)
		fail_msg("review %s: %s: %s", a->id, ob_strerror(err), o.message);
	ob_outcome_fini(&o);
	ob_application_fini(a);
	*a = next;
}

/* Withdraws a with reason (what the seller typed); *a becomes the result. */
static void withdraw_reason(fx *f, ob_application *a, const char *reason)
{
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application next;
	ob_err err = ob_domain_withdraw(f->d, TD_AS("seller"), a->id, a->version, reason, NULL,
	                                &next, &o);
	if (err != OB_OK)
		fail_msg("withdraw %s: %s: %s", a->id, ob_strerror(err), o.message);
	ob_outcome_fini(&o);
	ob_application_fini(a);
	*a = next;
}

/* Runs SQL (no results) on a second connection; fails the test on an error. */
static void raw_exec(fx *f, const char *sql)
{
	sqlite3 *db = raw_open(f);
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

/* A note that names company n's contact as people write them: name, e-mail and phone. */
static void note_about(uint32_t n, const char *what, char *out, size_t size)
{
	td_company c;
	td_company_make(&c, n);
	snprintf(out, size, "%s: called %s on %s, wrote to %s", what, c.contact_name, c.phone,
	         c.email);
}

/* stderr into a file for the length of a test, to look for what was logged. */
typedef struct capture {
	int saved;
	char path[320];
} capture;

static void capture_start(fx *f, capture *c)
{
	snprintf(c->path, sizeof(c->path), "%s/stderr.log", f->dir);
	fflush(stderr);
	c->saved = dup(2);
	FILE *fp = fopen(c->path, "w");
	assert_non_null(fp);
	dup2(fileno(fp), 2);
	fclose(fp);
}

/* Restores stderr; returns what was written (malloc'd, NUL-terminated), and echoes it. */
static char *capture_end(capture *c)
{
	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	size_t len;
	uint8_t *b = file_bytes(c->path, &len);
	char *s = realloc(b, len + 1);
	assert_non_null(s);
	s[len] = '\0';
	fputs(s, stderr);
	unlink(c->path);
	return s;
}

/* Opens the store again, as onboardd starting on the file; returns what it logged (free()). */
static char *open_logged(fx *f)
{
	capture cap;
	capture_start(f, &cap);
	fx_open(f);
	return capture_end(&cap);
}

/* Turns the closed store's database of the current schema (6) back into one of schema to
 * (2 to 5), undoing one migration at a time (support/schema.h). */
static void downgrade(fx *f, int to)
{
	static const char *const undo[] = {
	        [6] = OB_TEST_SCHEMA_7_TO_6, [5] = OB_TEST_SCHEMA_6_TO_5,
	        [4] = OB_TEST_SCHEMA_5_TO_4, [3] = OB_TEST_SCHEMA_4_TO_3,
	        [2] = OB_TEST_SCHEMA_3_TO_2,
	};
	assert_true(to >= 2 && to <= 6);
	for (int v = 6; v >= to; v--)
		raw_exec(f, undo[v]);
}

/* Opens the store again on a database of an older schema: the log says that migration first
 * was applied and holds also (unless NULL), and the schema is the latest. */
static void open_migrated(fx *f, unsigned first, const char *also)
{
	char want[48];
	snprintf(want, sizeof(want), "applied schema migration %u", first);
	char *log = open_logged(f);
	assert_non_null(strstr(log, want));
	if (also != NULL)
		assert_non_null(strstr(log, also));
	free(log);
	assert_int_equal(raw_int(f, "PRAGMA user_version", 0), 7);
}

/* ---- tampering ----------------------------------------------------------------------------- */

/* A flipped byte in a ciphertext or a wrapped key: that application is refused with DATA_LOSS
 * naming it (and not its data); the others and the cohort go on; erasure still works on it. */
static void test_tampered_ciphertext_refused(void **state)
{
	fx *f = *state;
	ob_application a[3], got;
	submit_series(f, 10, 3, a);

	capture cap;
	capture_start(f, &cap);
	size_t len;
	uint8_t *email = raw_blob(f, a[1].seq, "email", &len);
	assert_non_null(email);
	email[len - 1] ^= 0x01; /* the last byte of the tag */
	raw_set_blob(f, a[1].seq, "email", email, len);
	free(email);
	uint8_t *dk = raw_blob(f, a[2].seq, "dk_wrapped", &len);
	dk[OB_VAULT_NONCE_LEN] ^= 0x80; /* the first byte of the encrypted key */
	raw_set_blob(f, a[2].seq, "dk_wrapped", dk, len);
	free(dk);

	char msg[256];
	assert_int_equal(get(f, a[1].id, &got, msg), OB_ECORRUPT);
	assert_non_null(strstr(msg, a[1].id));
	assert_non_null(strstr(msg, "integrity"));
	assert_null(strstr(msg, a[1].contact.email));
	assert_string_equal(got.contact.email, "");
	assert_int_equal(get(f, a[2].id, &got, msg), OB_ECORRUPT);
	assert_non_null(strstr(msg, a[2].id));
	assert_int_equal(get(f, a[0].id, &got, msg), OB_OK);
	assert_string_equal(got.contact.email, a[0].contact.email);
	ob_application_fini(&got);

	/* A list that meets it goes on: that row with its contact blank and
	 * marked, so that one damaged row does not stop paging. */
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application *list = NULL;
	size_t n = 0;
	bool more = false;
	ob_app_filter all = {0};
	assert_int_equal(ob_domain_list(f->d, TD_ALL, &all, 0, 10, &list, &n, &more, &o), OB_OK);
	size_t damaged = 0;
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].id, a[1].id) == 0 || strcmp(list[i].id, a[2].id) == 0) {
			assert_true(list[i].contact_unreadable);
			assert_string_equal(list[i].contact.email, "");
			damaged++;
		} else {
			assert_false(list[i].contact_unreadable);
		}
	}
	assert_int_equal(damaged, 2);
	free(list);
	ob_outcome_fini(&o);

	/* No write on it; other writes go on. */
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_review(f->d, TD_AS("reviewer"), a[1].id, OB_ACTION_START, 1,
	                                  OB_REJECTION_NONE, "", NULL, &got, &o),
	                 OB_ECORRUPT);
	ob_outcome_fini(&o);
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_review(f->d, TD_AS("reviewer"), a[0].id, OB_ACTION_START, 1,
	                                  OB_REJECTION_NONE, "", NULL, &got, &o),
	                 OB_OK);
	ob_application_fini(&got);
	ob_outcome_fini(&o);

	/* Erasure is the way out for a damaged contact. */
	assert_int_equal(erase(f, a[1].id, "damaged", "dpo", &got), OB_OK);
	ob_application_fini(&got);
	assert_int_equal(get(f, a[1].id, &got, msg), OB_OK);
	assert_true(got.contact_erased);
	ob_application_fini(&got);

	char *log = capture_end(&cap);
	assert_non_null(strstr(log, "cannot be decrypted"));
	for (int i = 0; i < 3; i++) {
		assert_null(strstr(log, a[i].contact.email));
		assert_null(strstr(log, a[i].contact.name));
		assert_null(strstr(log, a[i].contact.phone));
	}
	free(log);
	ob_test_applications_fini(a, 3);
}

/* A ciphertext moved to another row or another column does not open: the associated data
 * binds it to its application id and its field. */
static void test_ciphertext_copied_to_another_row_refused(void **state)
{
	fx *f = *state;
	ob_application a, b, c, got;
	submit_ok(f, 20, NULL, &a);
	submit_ok(f, 21, NULL, &b);
	submit_ok(f, 22, NULL, &c);

	/* A's name into B's row. */
	size_t len;
	uint8_t *name = raw_blob(f, a.seq, "name", &len);
	raw_set_blob(f, b.seq, "name", name, len);
	free(name);
	assert_int_equal(get(f, b.id, &got, NULL), OB_ECORRUPT);

	/* A's whole contact (its wrapped key included) into C's row. */
	static const char *const cols[] = {"dk_wrapped", "name", "email", "phone"};
	for (size_t i = 0; i < 4; i++) {
		uint8_t *v = raw_blob(f, a.seq, cols[i], &len);
		raw_set_blob(f, c.seq, cols[i], v, len);
		free(v);
	}
	assert_int_equal(get(f, c.id, &got, NULL), OB_ECORRUPT);

	/* A's e-mail into A's phone column. */
	uint8_t *email = raw_blob(f, a.seq, "email", &len);
	raw_set_blob(f, a.seq, "phone", email, len);
	free(email);
	assert_int_equal(get(f, a.id, &got, NULL), OB_ECORRUPT);

	ob_application_fini(&a);
	ob_application_fini(&b);
	ob_application_fini(&c);
}

/* An owner's view (ob_domain_get with an owner) of someone else's application whose contact is
 * damaged: NOT_FOUND with the very message of an id that does not exist, and not DATA_LOSS
 * naming it, which would tell that it exists; its owner gets DATA_LOSS; a withdrawal by
 * another owner is the same NOT_FOUND. */
static void test_damaged_contact_of_another_owner_not_found(void **state)
{
	fx *f = *state;
	ob_application a, got;
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(submit_as(f, 15, NULL, "applicant-a", NULL, &a, &o), OB_OK);
	ob_outcome_fini(&o);
	size_t len;
	uint8_t *name = raw_blob(f, a.seq, "name", &len);
	name[len - 1] ^= 0x01;
	raw_set_blob(f, a.seq, "name", name, len);
	free(name);

	char theirs[256], none[256];
	ob_outcome_init(&o);
	memset(&got, 0, sizeof(got));
	assert_int_equal(
	        ob_domain_get(f->d, TD_APPLICANT("applicant-b"), a.id, NULL, NULL, &got, &o),
	        OB_ENOTFOUND);
	snprintf(theirs, sizeof(theirs), "%s", o.message);
	ob_outcome_fini(&o);
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_get(f->d, TD_APPLICANT("applicant-b"),
	                               "01ARZ3NDEKTSV4RRFFQ69G5FAV", NULL, NULL, &got, &o),
	                 OB_ENOTFOUND);
	snprintf(none, sizeof(none), "%s", o.message);
	ob_outcome_fini(&o);
	assert_string_equal(theirs, none);
	assert_null(strstr(theirs, a.id));

	ob_outcome_init(&o);
	assert_int_equal(ob_domain_get(f->d, TD_APPLICANT("applicant-b"), NULL, OB_DEFAULT_COHORT,
	                               a.company.siren, &got, &o),
	                 OB_ENOTFOUND);
	assert_string_equal(o.message, none);
	ob_outcome_fini(&o);
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_withdraw(f->d, TD_APPLICANT_AS("applicant-b", "applicant-b"),
	                                    a.id, 0, "", NULL, &got, &o),
	                 OB_ENOTFOUND);
	assert_string_equal(o.message, none);
	ob_outcome_fini(&o);

	ob_outcome_init(&o);
	assert_int_equal(
	        ob_domain_get(f->d, TD_APPLICANT("applicant-a"), a.id, NULL, NULL, &got, &o),
	        OB_ECORRUPT);
	assert_non_null(strstr(o.message, a.id));
	ob_outcome_fini(&o);
	ob_application_fini(&a);
}

/* ---- erasure ------------------------------------------------------------------------------- */

static void standing(fx *f, ob_standing *out)
{
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_standing(f->d, OB_DEFAULT_COHORT, out, &o), OB_OK);
	ob_outcome_fini(&o);
}

static void assert_same_standing(const ob_standing *x, const ob_standing *y)
{
	assert_int_equal(x->seats_held, y->seats_held);
	assert_int_equal(x->waitlist, y->waitlist);
	assert_int_equal(x->applications, y->applications);
	assert_int_equal(x->exporters, y->exporters);
	assert_int_equal(x->n_counters, y->n_counters);
	for (size_t i = 0; i < x->n_counters; i++) {
		assert_string_equal(x->counters[i].key, y->counters[i].key);
		assert_int_equal(x->counters[i].count, y->counters[i].count);
	}
}

/* Erasure destroys the key, the ciphertexts and the index, keeps the application, its history
 * and the counters, records who and when; again: nothing changes; unknown: NOT_FOUND. */
static void test_erasure(void **state)
{
	fx *f = *state;
	ob_application a[4], got;
	ob_outcome o;
	for (uint32_t i = 0; i < 4; i++) {
		char key[32];
		snprintf(key, sizeof(key), "submit-%u", i);
		ob_idempotency idem = idem_for(key);
		ob_outcome_init(&o);
		assert_int_equal(submit_as(f, 30 + i, NULL, NULL, &idem, &a[i], &o), OB_OK);
		ob_outcome_fini(&o);
	}
	ob_standing before, after;
	standing(f, &before);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM idempotency WHERE app_seq = ?1", a[2].seq), 1);

	int64_t t0 = ob_clock_now_ms();
	ob_application e;
	assert_int_equal(erase(f, a[2].id, "ticket 7", "dpo", &e), OB_OK);
	int64_t t1 = ob_clock_now_ms();
	assert_true(e.contact_erased);
	assert_false(e.contact_unreadable);
	assert_string_equal(e.contact.name, "");
	assert_string_equal(e.contact.email, "");
	assert_string_equal(e.contact.phone, "");
	assert_string_equal(e.contact_erased_by, "dpo");
	assert_true(e.contact_erased_at_ms >= t0 && e.contact_erased_at_ms <= t1);
	assert_int_equal(e.state, a[2].state);
	assert_int_equal(e.version, a[2].version + 1);
	assert_string_equal(e.company.siren, a[2].company.siren);
	assert_int_equal(e.n_history, 2);
	assert_int_equal(e.history[1].from, a[2].state);
	assert_int_equal(e.history[1].to, a[2].state);
	assert_string_equal(e.history[1].actor, "dpo");
	assert_string_equal(e.history[1].reason, "personal data erased: ticket 7");

	/* As read back. */
	assert_int_equal(get(f, a[2].id, &got, NULL), OB_OK);
	assert_true(got.contact_erased);
	assert_string_equal(got.contact.email, "");
	assert_int_equal(got.contact_erased_at_ms, e.contact_erased_at_ms);
	assert_int_equal(got.n_history, 2);
	ob_application_fini(&got);

	/* In the file: nothing left to decrypt, no index; the stored reply is gone too. */
	assert_int_equal(
	        raw_int(f,
	                "SELECT count(*) FROM contact WHERE app_seq = ?1 AND dk_kid IS NULL "
	                "AND dk_wrapped IS NULL AND name IS NULL AND email IS NULL AND "
	                "phone IS NULL AND email_index IS NULL AND erased_at > 0 AND "
	                "erased_by = 'dpo'",
	                a[2].seq),
	        1);
	assert_int_equal(
	        raw_int(f, "SELECT count(*) FROM idempotency WHERE app_seq = ?1", a[2].seq), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM application", 0), 4);
	/* Its stored reply went with it: a repeat is a new request (and a duplicate SIREN). */
	ob_idempotency idem = idem_for("submit-2");
	ob_outcome_init(&o);
	assert_int_equal(submit_as(f, 32, NULL, NULL, &idem, &got, &o), OB_EEXIST);
	assert_null(o.replay);
	ob_outcome_fini(&o);
	/* The others keep theirs. */
	idem = idem_for("submit-1");
	ob_outcome_init(&o);
	assert_int_equal(submit_as(f, 31, NULL, NULL, &idem, &got, &o), OB_OK);
	assert_non_null(o.replay);
	assert_non_null(
	        memmem(o.replay, o.replay_len, a[1].contact.email, strlen(a[1].contact.email)));
	ob_outcome_fini(&o);

	standing(f, &after);
	assert_same_standing(&before, &after);
	ob_standing_fini(&after);

	/* By e-mail it is not found any more; by id it is, erased. */
	ob_application *list = NULL;
	size_t n = 99;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_export_contact(f->d, NULL, a[2].contact.email, &list, &n, &o),
	                 OB_OK);
	assert_int_equal(n, 0);
	ob_applications_free(list, n);
	ob_outcome_fini(&o);
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_export_contact(f->d, a[2].id, NULL, &list, &n, &o), OB_OK);
	assert_int_equal(n, 1);
	assert_true(list[0].contact_erased);
	assert_int_equal(list[0].n_history, 2);
	ob_applications_free(list, n);
	ob_outcome_fini(&o);

	/* Again: the same application, nothing new. */
	ob_application again;
	assert_int_equal(erase(f, a[2].id, "again", "someone-else", &again), OB_OK);
	assert_true(again.contact_erased);
	assert_int_equal(again.version, e.version);
	assert_int_equal(again.n_history, 2);
	assert_string_equal(again.contact_erased_by, "dpo");
	assert_int_equal(again.contact_erased_at_ms, e.contact_erased_at_ms);
	ob_application_fini(&again);

	/* Unknown, too long a reason. */
	assert_int_equal(erase(f, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "", "dpo", &got), OB_ENOTFOUND);
	char longer[OB_REASON_MAX + 1];
	memset(longer, 'x', OB_REASON_MAX);
	longer[OB_REASON_MAX] = '\0';
	assert_int_equal(erase(f, a[0].id, longer, "dpo", &got), OB_EINVAL);

	/* The record still moves through its lifecycle. */
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_review(f->d, TD_AS("reviewer"), a[2].id, OB_ACTION_START,
	                                  e.version, OB_REJECTION_NONE, "", NULL, &got, &o),
	                 OB_OK);
	assert_true(got.contact_erased);
	ob_application_fini(&got);
	ob_outcome_fini(&o);

	ob_standing_fini(&before);
	ob_application_fini(&e);
	ob_test_applications_fini(a, 4);
}

/* ---- export -------------------------------------------------------------------------------- */

/* By e-mail: every application of the contact, whatever the case and surrounding spaces, in
 * submission order, decrypted, with history; by id: that one; neither or both: EINVAL. */
static void test_export_by_email(void **state)
{
	fx *f = *state;
	ob_application a[6];
	for (uint32_t i = 0; i < 6; i++)
		submit_ok(f, 40 + i,
		          i == 1   ? "Jeanne.Dupont@Exemple.fr"
		          : i == 4 ? "jeanne.dupont@EXEMPLE.FR"
		                   : NULL,
		          &a[i]);
	ob_outcome o;
	ob_application *list = NULL;
	size_t n = 0;
	ob_outcome_init(&o);
	assert_int_equal(
	        ob_domain_export_contact(f->d, NULL, "  JEANNE.DUPONT@exemple.fr ", &list, &n, &o),
	        OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, a[1].id);
	assert_string_equal(list[1].id, a[4].id);
	assert_string_equal(list[0].contact.email, "Jeanne.Dupont@Exemple.fr");
	assert_string_equal(list[1].contact.email, "jeanne.dupont@EXEMPLE.FR");
	assert_string_equal(list[0].contact.name, a[1].contact.name);
	assert_string_equal(list[1].contact.phone, a[4].contact.phone);
	assert_int_equal(list[0].n_history, 1);
	assert_int_equal(list[1].n_history, 1);
	ob_applications_free(list, n);

	ob_outcome_init(&o);
	assert_int_equal(ob_domain_export_contact(f->d, a[3].id, "", &list, &n, &o), OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].contact.email, a[3].contact.email);
	ob_applications_free(list, n);

	ob_outcome_init(&o);
	assert_int_equal(ob_domain_export_contact(f->d, NULL, "nobody@exemple.fr", &list, &n, &o),
	                 OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(n, 0);
	ob_applications_free(list, n);

	ob_outcome_init(&o);
	assert_int_equal(ob_domain_export_contact(f->d, NULL, NULL, &list, &n, &o), OB_EINVAL);
	ob_outcome_fini(&o);
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_export_contact(f->d, a[3].id, "x@y.fr", &list, &n, &o),
	                 OB_EINVAL);
	ob_outcome_fini(&o);
	ob_outcome_init(&o);
	assert_int_equal(
	        ob_domain_export_contact(f->d, "01ARZ3NDEKTSV4RRFFQ69G5FAV", NULL, &list, &n, &o),
	        OB_ENOTFOUND);
	ob_outcome_fini(&o);
	ob_test_applications_fini(a, 6);
}

/* ---- rotation ------------------------------------------------------------------------------ */

enum { N_ROTATE = 1100 }; /* three batches of re-wrapping: 500, 500, 99 (one is erased) */

typedef struct reader {
	fx *f;
	char (*ids)[OB_ID_LEN + 1];
	size_t n;
	atomic_bool stop;
	atomic_int reads, failures;
} reader;

/* Reads applications while the rotation runs: none may fail. */
static void *read_loop(void *arg)
{
	reader *r = arg;
	uint32_t i = 0;
	while (!atomic_load(&r->stop)) {
		ob_application a;
		const char *id = r->ids[(i++ * 7919u) % r->n];
		ob_err err = get(r->f, id, &a, NULL);
		if (err != OB_OK || (!a.contact_erased && a.contact.email[0] == '\0'))
			atomic_fetch_add(&r->failures, 1);
		ob_application_fini(&a);
		atomic_fetch_add(&r->reads, 1);
	}
	return NULL;
}

/* Every application is readable and shows the contact it was submitted with. */
static void assert_all_readable(fx *f, char (*ids)[OB_ID_LEN + 1], size_t n, size_t erased)
{
	for (size_t i = 0; i < n; i++) {
		ob_application a;
		char msg[256];
		ob_err err = get(f, ids[i], &a, msg);
		if (err != OB_OK)
			fail_msg("application %zu: %s: %s", i, ob_strerror(err), msg);
		if (i == erased) {
			assert_true(a.contact_erased);
		} else {
			td_company c;
			td_company_make(&c, 1000 + (uint32_t)i);
			assert_string_equal(a.contact.email, c.email);
			assert_string_equal(a.contact.name, c.contact_name);
		}
		ob_application_fini(&a);
	}
}

/* Removes the line of kid from the key file: what an operator does with a retired key. */
static void drop_key_line(fx *f, const char *kid)
{
	size_t len;
	uint8_t *text = file_bytes(f->key, &len);
	FILE *fp = fopen(f->key, "w"); /* keeps the inode, so its mode 0600 */
	assert_non_null(fp);
	size_t klen = strlen(kid);
	for (size_t i = 0; i < len;) {
		const uint8_t *nl = memchr(text + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - text) + 1 : len;
		bool drop =
		        end - i > klen && memcmp(text + i, kid, klen) == 0 && text[i + klen] == ' ';
		if (!drop)
			fwrite(text + i, 1, end - i, fp);
		i = end;
	}
	fclose(fp);
	sodium_memzero(text, len);
	free(text);
}

/* Counts the contacts whose data key is wrapped under kid (or, with other, under another). */
static int64_t wrapped_under(fx *f, const char *kid, bool other)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM contact WHERE dk_kid %s '%s'",
	         other ? "!=" : "=", kid);
	return raw_int(f, sql, 0);
}

typedef struct {
	ob_application *a;
	const ob_sealed_contact *sc;
} insert_sealed_op;

static ob_err insert_sealed(ob_txn *t, void *arg)
{
	insert_sealed_op *x = arg;
	return t->ops->app_insert_sealed(t, x->a, x->sc);
}

/* A contact sealed ahead of its write (the store's contact_seal, on the caller's thread) under
 * a master key that a rotation replaced in between is sealed again in the write: no new data
 * key stays wrapped under the old master key, and the contact reads. */
static void test_sealed_ahead_across_rotation(void **state)
{
	fx *f = *state;
	td_company c;
	td_company_make(&c, 7100);
	ob_submission sub;
	td_submission(&sub, &c, NULL);
	ob_application a;
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(ob_validate_submission(&sub, &a, &o), OB_OK);
	snprintf(a.id, sizeof(a.id), "%s", "01EQG7Z3YB8ZKXW3K9H2V6T5RM");
	a.version = 1;
	a.state = OB_STATE_SUBMITTED;
	a.submitted_at_ms = a.updated_at_ms = ob_clock_now_ms();
	const ob_store_ops *ops = f->store->ops;
	ob_sealed_contact *sc = NULL;
	assert_int_equal(ops->contact_seal(f->store, &a, &sc), OB_OK);
	ob_rotation rot;
	assert_int_equal(ob_domain_rotate_keys(f->d, NULL, &rot, &o), OB_OK);
	const char *kid = rot.kid;
	insert_sealed_op x = {.a = &a, .sc = sc};
	assert_int_equal(ops->write(f->store, insert_sealed, &x), OB_OK);
	ops->contact_sealed_free(sc);
	assert_int_equal(wrapped_under(f, kid, true), 0);
	assert_int_equal(wrapped_under(f, kid, false), 1);
	ob_application got;
	assert_int_equal(get(f, a.id, &got, NULL), OB_OK);
	assert_string_equal(got.contact.email, c.email);
	ob_application_fini(&got);
	ob_application_fini(&a);
	ob_outcome_fini(&o);
}

/* Rotation re-wraps every data key (not the erased one) to the new kid in batches while reads
 * go on; everything stays readable, also after reopening with the rotated file, and still
 * once the old key lines are deleted. */
static void test_rotation(void **state)
{
	fx *f = *state;
	char(*ids)[OB_ID_LEN + 1] = calloc(N_ROTATE, sizeof(*ids));
	assert_non_null(ids);
	for (uint32_t i = 0; i < N_ROTATE; i++) {
		ob_application a;
		submit_ok(f, 1000 + i, NULL, &a);
		memcpy(ids[i], a.id, sizeof(ids[i]));
		ob_application_fini(&a);
	}
	size_t erased = 17;
	ob_application e;
	assert_int_equal(erase(f, ids[erased], "", "dpo", &e), OB_OK);
	ob_application_fini(&e);
	assert_int_equal(wrapped_under(f, "k1", false), N_ROTATE - 1);

	reader r = {.f = f, .ids = ids, .n = N_ROTATE};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, read_loop, &r), 0);
	while (atomic_load(&r.reads) < 4) /* the readers are under way */
		usleep(1000);
	ob_outcome o;
	ob_outcome_init(&o);
	ob_rotation rot;
	ob_err err = ob_domain_rotate_keys(f->d, NULL, &rot, &o);
	const char *kid = rot.kid;
	size_t rewrapped = rot.rewrapped, failed = rot.failed;
	/* Writes go on too, under the new key. */
	ob_application late;
	submit_ok(f, 5000, NULL, &late);
	atomic_store(&r.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(err, OB_OK);
	ob_outcome_fini(&o);
	assert_string_not_equal(kid, "k1");
	assert_int_equal(key_count(f), 2);
	assert_int_equal(rewrapped, N_ROTATE - 1);
	assert_int_equal(failed, 0);
	assert_int_equal(atomic_load(&r.failures), 0);
	assert_true(atomic_load(&r.reads) > 0);
	assert_int_equal(wrapped_under(f, kid, true), 0);
	assert_int_equal(wrapped_under(f, kid, false), N_ROTATE);
	assert_all_readable(f, ids, N_ROTATE, erased);
	fprintf(stderr, "rotation: %zu data keys re-wrapped while %d reads ran\n", rewrapped,
	        atomic_load(&r.reads));

	/* A second rotation re-wraps every live key again (the erased one has none). */
	ob_rotation rot2;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_rotate_keys(f->d, NULL, &rot2, &o), OB_OK);
	ob_outcome_fini(&o);
	const char *kid2 = rot2.kid;
	assert_string_not_equal(kid2, kid);
	assert_int_equal(rot2.rewrapped, N_ROTATE);
	assert_int_equal(wrapped_under(f, kid2, false), N_ROTATE);

	/* Reopened from the rotated file, and with the old lines gone. */
	fx_close(f, true);
	fx_open(f);
	assert_all_readable(f, ids, N_ROTATE, erased);
	fx_close(f, true);
	drop_key_line(f, "k1");
	drop_key_line(f, kid);
	fx_open(f);
	assert_int_equal(key_count(f), 1);
	assert_all_readable(f, ids, N_ROTATE, erased);
	ob_application got;
	assert_int_equal(get(f, late.id, &got, NULL), OB_OK);
	assert_string_equal(got.contact.email, late.contact.email);
	ob_application_fini(&got);
	ob_application_fini(&late);
	free(ids);
}

/* A key file that lacks the key the data keys are wrapped under (here: replaced by another
 * one): the rotation publishes it, nothing is re-wrapped (each is counted as failed), the
 * contacts read as unreadable, not as lost (DATA_LOSS: one instance per file, so no other
 * instance will bring the key; test_pg_cluster has the shared store's UNAVAILABLE); a
 * rotation of the right file, and they read again. */
static void test_rotation_with_missing_key(void **state)
{
	fx *f = *state;
	ob_application a[3];
	submit_series(f, 60, 3, a);
	char saved[320], why[256];
	snprintf(saved, sizeof(saved), "%s.saved", f->key);
	assert_int_equal(rename(f->key, saved), 0);
	assert_int_equal(ob_vault_generate_file(f->key, "other", why, sizeof(why)), OB_OK);

	ob_outcome o;
	ob_outcome_init(&o);
	ob_rotation rot;
	assert_int_equal(ob_domain_rotate_keys(f->d, NULL, &rot, &o), OB_OK);
	assert_int_equal(rot.rewrapped, 0);
	assert_int_equal(rot.failed, 3);
	assert_non_null(strstr(o.message, "could not be re-wrapped"));
	ob_outcome_fini(&o);
	ob_application got;
	char msg[256];
	assert_int_equal(get(f, a[0].id, &got, msg), OB_ECORRUPT);
	assert_non_null(strstr(msg, "master key"));
	assert_int_equal(wrapped_under(f, "k1", false), 3);

	assert_int_equal(rename(saved, f->key), 0);
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_rotate_keys(f->d, NULL, &rot, &o), OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(rot.rewrapped, 3);
	assert_int_equal(rot.failed, 0);
	assert_int_equal(get(f, a[0].id, &got, NULL), OB_OK);
	assert_string_equal(got.contact.email, a[0].contact.email);
	ob_application_fini(&got);
	ob_test_applications_fini(a, 3);
}

/* What a rotation's idempotency record keeps: the key id and the counts, as text. */
static ob_err render_rotation(void *ctx, const void *reply, uint8_t **out, size_t *len)
{
	(void)ctx;
	const ob_rotation *r = reply;
	char text[64];
	*len = (size_t)snprintf(text, sizeof(text), "%s %zu %zu", r->kid, r->rewrapped, r->failed);
	*out = (uint8_t *)strdup(text);
	return *out != NULL ? OB_OK : OB_ENOMEM;
}

/* One application (company n) to re-wrap, and the idempotency of a rotation with key. */
static ob_idempotency rotation_key(fx *f, uint32_t n, const char *key)
{
	ob_application a;
	submit_ok(f, n, NULL, &a);
	ob_application_fini(&a);
	ob_idempotency idem = idem_for(key);
	idem.render = render_rotation;
	return idem;
}

/* A rotation with an idempotency key, replayed: the same reply, one key more in the file,
 * not two; another key rotates again. */
static void test_rotation_idempotent(void **state)
{
	fx *f = *state;
	ob_idempotency idem = rotation_key(f, 80, "rotate-1");
	ob_outcome o;
	ob_outcome_init(&o);
	ob_rotation first, again;
	assert_int_equal(ob_domain_rotate_keys(f->d, &idem, &first, &o), OB_OK);
	assert_false(first.replayed);
	assert_int_equal(first.rewrapped, 1);
	assert_non_null(o.rendered);
	char stored[64];
	snprintf(stored, sizeof(stored), "%.*s", (int)o.rendered_len, (const char *)o.rendered);
	ob_outcome_fini(&o);
	assert_int_equal(key_count(f), 2);

	ob_outcome_init(&o);
	assert_int_equal(ob_domain_rotate_keys(f->d, &idem, &again, &o), OB_OK);
	assert_true(again.replayed);
	assert_non_null(o.replay);
	assert_int_equal(o.replay_len, strlen(stored));
	assert_memory_equal(o.replay, stored, o.replay_len);
	ob_outcome_fini(&o);
	assert_int_equal(key_count(f), 2);

	ob_idempotency other = idem_for("rotate-2");
	other.render = render_rotation;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_rotate_keys(f->d, &other, &again, &o), OB_OK);
	ob_outcome_fini(&o);
	assert_false(again.replayed);
	assert_string_not_equal(again.kid, first.kid);
	assert_int_equal(key_count(f), 3);
}

/* The mark a keyed rotation writes before it publishes its key (domain/privacy.c): under
 * "KEY rotating", the active key id it starts from. */
static ob_err write_mark(ob_txn *t, void *arg)
{
	const ob_idempotency *idem = arg;
	char mark[64];
	snprintf(mark, sizeof(mark), "%s rotating", idem->key);
	return t->ops->idem_put(t, mark, idem->request_hash, (const uint8_t *)"k1", 2, 1, NULL);
}

/* A keyed rotation cut short after its key was published (a kill -9 in its re-wrap: what
 * it had done by then, its mark and the key file's new key, made here by hand): its retry
 * publishes no other key, re-wraps under the one published, and keeps its reply for the
 * next repeat. tests/reliability/rotate.sh does the same with a real kill. */
static void test_rotation_retry_after_cut(void **state)
{
	fx *f = *state;
	ob_idempotency idem = rotation_key(f, 81, "rotate-cut");
	assert_int_equal(f->store->ops->write(f->store, write_mark, &idem), OB_OK);
	ob_rotation cut;
	char why[256];
	assert_int_equal(ob_keystore_rotate(f->keys, cut.kid, why, sizeof(why)), OB_OK);
	assert_int_equal(key_count(f), 2);
	assert_int_equal(wrapped_under(f, cut.kid, false), 0);
	ob_outcome o;

	ob_rotation retry;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_rotate_keys(f->d, &idem, &retry, &o), OB_OK);
	ob_outcome_fini(&o);
	assert_false(retry.replayed);
	assert_string_equal(retry.kid, cut.kid);
	assert_int_equal(retry.rewrapped, 1);
	assert_int_equal(key_count(f), 2);
	assert_int_equal(wrapped_under(f, cut.kid, false), 1);

	ob_outcome_init(&o);
	assert_int_equal(ob_domain_rotate_keys(f->d, &idem, &retry, &o), OB_OK);
	assert_true(retry.replayed);
	ob_outcome_fini(&o);
	assert_int_equal(key_count(f), 2);
}

/* A failed rotation (the key file is gone) publishes nothing and says why; a domain without
 * a key file has nothing to rotate. */
static void test_rotation_failure(void **state)
{
	fx *f = *state;
	ob_application a;
	submit_ok(f, 70, NULL, &a);
	char saved[320];
	snprintf(saved, sizeof(saved), "%s.saved", f->key);
	assert_int_equal(rename(f->key, saved), 0);
	ob_outcome o;
	ob_outcome_init(&o);
	ob_rotation rot;
	assert_int_equal(ob_domain_rotate_keys(f->d, NULL, &rot, &o), OB_ENOTFOUND);
	assert_string_equal(rot.kid, "");
	assert_int_equal(rot.rewrapped, 0);
	assert_non_null(strstr(o.message, "key rotation failed"));
	ob_outcome_fini(&o);
	assert_int_equal(rename(saved, f->key), 0);
	assert_int_equal(key_count(f), 1);
	ob_application got;
	assert_int_equal(get(f, a.id, &got, NULL), OB_OK);
	ob_application_fini(&got);
	ob_application_fini(&a);

	ob_domain *bare = NULL;
	assert_int_equal(ob_domain_create(&bare, f->store, NULL), OB_OK);
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_rotate_keys(bare, NULL, &rot, &o), OB_EPRECOND);
	assert_non_null(strstr(o.message, "no master key file"));
	ob_outcome_fini(&o);
	ob_domain_destroy(bare);
}

/* ---- the bytes on disk --------------------------------------------------------------------- */

enum { N_FILES = 60 };

/* Company n submitted with the idempotency key "k-N", which a second call replays; a and o are
 * the caller's to finish. */
static void submit_keyed(fx *f, uint32_t n, ob_application *a, ob_outcome *o)
{
	char key[32];
	snprintf(key, sizeof(key), "k-%u", n);
	ob_idempotency idem = idem_for(key);
	ob_outcome_init(o);
	assert_int_equal(submit_as(f, n, NULL, NULL, &idem, a, o), OB_OK);
}

/* After N submissions (each with an idempotency key whose stored reply shows the contact),
 * neither the database file nor the write-ahead log holds a name, an e-mail or a phone, as
 * typed or normalised; the stored replies still replay in clear. Also after closing. */
static void test_no_plaintext_in_files(void **state)
{
	fx *f = *state;
	for (uint32_t i = 0; i < N_FILES; i++) {
		ob_application a;
		ob_outcome o;
		submit_keyed(f, 100000 + i * 7919, &a, &o);
		ob_application_fini(&a);
		ob_outcome_fini(&o);
	}
	/* Review notes and withdrawal reasons naming the contacts, as people type them. */
	for (uint32_t i = 0; i < N_FILES; i += 3) {
		uint32_t n = 100000 + i * 7919;
		char note[OB_REASON_MAX + 1];
		ob_application a;
		ob_outcome o;
		td_company c;
		td_company_make(&c, n);
		ob_outcome_init(&o);
		assert_int_equal(
		        ob_domain_get(f->d, TD_ALL, NULL, OB_DEFAULT_COHORT, c.siren, &a, &o),
		        OB_OK);
		ob_outcome_fini(&o);
		note_about(n, "review", note, sizeof(note));
		review_note(f, &a, OB_ACTION_START, note);
		note_about(n, "withdrawal", note, sizeof(note));
		withdraw_reason(f, &a, note);
		/* Read back in clear. */
		ob_application got;
		assert_int_equal(get(f, a.id, &got, NULL), OB_OK);
		assert_int_equal(got.n_history, 3);
		assert_string_equal(got.history[2].reason, "withdrawn");
		assert_string_equal(got.history[2].note, note);
		note_about(n, "review", note, sizeof(note));
		assert_string_equal(got.history[1].note, note);
		ob_application_fini(&got);
		ob_application_fini(&a);
	}
	/* A replay decrypts the stored reply. */
	{
		uint32_t n = 100000 + 5 * 7919;
		ob_application a;
		ob_outcome o;
		submit_keyed(f, n, &a, &o);
		assert_non_null(o.replay);
		td_company c;
		td_company_make(&c, n);
		assert_non_null(memmem(o.replay, o.replay_len, c.email, strlen(c.email)));
		ob_outcome_fini(&o);
	}
	files fs;
	files_read(f, &fs);
	assert_true(fs.wal_len > 0); /* the log is where recent writes are */
	for (uint32_t i = 0; i < N_FILES; i++)
		assert_contact_absent(&fs, 100000 + i * 7919, NULL);
	files_free(&fs);

	fx_close(f, false);
	files_read(f, &fs);
	for (uint32_t i = 0; i < N_FILES; i++)
		assert_contact_absent(&fs, 100000 + i * 7919, NULL);
	files_free(&fs);
	fx_open(f);
}

/* After erasure (and the checkpoint it makes), the erased contact's wrapped key, ciphertexts
 * and index are nowhere in the files: secure_delete zeroed them in the database and the log
 * was emptied. */
static void test_erased_bytes_do_not_linger(void **state)
{
	fx *f = *state;
	ob_application a[20];
	submit_series(f, 200, 20, a);
	static const char *const cols[] = {"dk_wrapped", "name", "email", "phone", "email_index"};
	uint8_t *before[5];
	size_t len[5];
	for (int c = 0; c < 5; c++) {
		before[c] = raw_blob(f, a[7].seq, cols[c], &len[c]);
		assert_non_null(before[c]);
		assert_true(len[c] >= 32);
	}
	files fs;
	files_read(f, &fs);
	bool seen = false;
	for (int c = 0; c < 5; c++)
		seen |= memmem(fs.db, fs.db_len, before[c], len[c]) != NULL ||
		        memmem(fs.wal, fs.wal_len, before[c], len[c]) != NULL;
	assert_true(seen); /* or the check below would prove nothing */
	files_free(&fs);

	ob_application e;
	assert_int_equal(erase(f, a[7].id, "", "dpo", &e), OB_OK);
	ob_application_fini(&e);
	files_read(f, &fs);
	assert_int_equal(fs.wal_len, 0); /* the checkpoint truncated it */
	char what[64];
	for (int c = 0; c < 5; c++) {
		snprintf(what, sizeof(what), "the erased contact's %s", cols[c]);
		assert_absent(&fs, before[c], len[c], what);
		free(before[c]);
	}
	for (uint32_t i = 0; i < 20; i++)
		assert_contact_absent(&fs, 200 + i, NULL);
	files_free(&fs);
	/* The others are intact. */
	ob_application got;
	assert_int_equal(get(f, a[8].id, &got, NULL), OB_OK);
	assert_string_equal(got.contact.email, a[8].contact.email);
	ob_application_fini(&got);
	ob_test_applications_fini(a, 20);
}

/* ---- notes and reasons people typed ---------------------------------------------------------- */

/* The note column of history row n of application seq; malloc'd, NULL for NULL. */
static uint8_t *raw_note(fx *f, int64_t seq, int64_t n, size_t *len)
{
	return raw_get(f, "SELECT note FROM history WHERE app_seq = ?1 AND n = ?2", seq, n, len);
}

static void raw_set_note(fx *f, int64_t seq, int64_t n, const uint8_t *v, size_t len)
{
	raw_set(f, "UPDATE history SET note = ?3 WHERE app_seq = ?1 AND n = ?2", seq, n, v, len);
}

/* A review note and a withdrawal reason are stored sealed, not as typed, and read back in
 * clear; a reason of the service's own (no note) stores no note at all. */
static void test_notes_sealed(void **state)
{
	fx *f = *state;
	ob_application a;
	submit_ok(f, 80, NULL, &a);
	char note[OB_REASON_MAX + 1], reason[OB_REASON_MAX + 1];
	note_about(80, "review", note, sizeof(note));
	note_about(80, "withdrawal", reason, sizeof(reason));
	review_note(f, &a, OB_ACTION_START, note);
	withdraw_reason(f, &a, reason);
	assert_string_equal(a.history[1].reason, "start");
	assert_string_equal(a.history[1].note, note);
	assert_string_equal(a.history[2].reason, "withdrawn");
	assert_string_equal(a.history[2].note, reason);

	size_t len;
	uint8_t *blob = raw_note(f, a.seq, 0, &len);
	assert_null(blob); /* "submitted": no note */
	blob = raw_note(f, a.seq, 1, &len);
	assert_non_null(blob);
	assert_int_equal(len, strlen(note) + OB_VAULT_SEAL_OVERHEAD);
	assert_null(memmem(blob, len, "called", 6));
	free(blob);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM history WHERE app_seq = ?1 AND "
	                         "instr(reason, 'called') > 0",
	                         a.seq),
	                 0);

	fx_close(f, true);
	fx_open(f);
	ob_application got;
	assert_int_equal(get(f, a.id, &got, NULL), OB_OK);
	assert_string_equal(got.history[1].note, note);
	assert_string_equal(got.history[2].note, reason);
	ob_application_fini(&got);
	ob_application_fini(&a);
}

/* A note copied to another row or application, or with a flipped byte, does not open: it reads
 * "[unreadable]", logged by seq and row without its text, and the application still reads. */
static void test_note_bound_to_its_row(void **state)
{
	fx *f = *state;
	ob_application a, b;
	submit_ok(f, 81, NULL, &a);
	submit_ok(f, 82, NULL, &b);
	review_note(f, &a, OB_ACTION_START, "note one of a");
	review_note(f, &a, OB_ACTION_REQUEST_INFO, "note two of a");
	review_note(f, &b, OB_ACTION_START, "note one of b");

	capture cap;
	capture_start(f, &cap);
	size_t len;
	uint8_t *one = raw_note(f, a.seq, 1, &len);
	raw_set_note(f, b.seq, 1, one, len); /* to another application */
	raw_set_note(f, a.seq, 2, one, len); /* to another row */
	one[len / 2] ^= 0x20;
	raw_set_note(f, a.seq, 1, one, len); /* damaged */
	free(one);

	ob_application got;
	char msg[256];
	assert_int_equal(get(f, b.id, &got, msg), OB_OK);
	assert_string_equal(got.history[1].note, "[unreadable]");
	ob_application_fini(&got);
	assert_int_equal(get(f, a.id, &got, msg), OB_OK);
	assert_string_equal(got.history[1].note, "[unreadable]");
	assert_string_equal(got.history[2].note, "[unreadable]");
	assert_string_equal(got.contact.email, a.contact.email);
	ob_application_fini(&got);
	char *log = capture_end(&cap);
	assert_non_null(strstr(log, "cannot be decrypted"));
	assert_null(strstr(log, "note one"));
	free(log);
	ob_application_fini(&a);
	ob_application_fini(&b);
}

/* Erasure takes the notes with the contact: their ciphertexts leave the files, they read
 * "[erased]" after the action's name; a note written after the erasure is not kept; the erasure's
 * own reason stays in clear; another application's notes are untouched. */
static void test_erasure_takes_the_notes(void **state)
{
	fx *f = *state;
	ob_application a, b;
	submit_ok(f, 83, NULL, &a);
	submit_ok(f, 84, NULL, &b);
	char note[OB_REASON_MAX + 1], other[OB_REASON_MAX + 1];
	note_about(83, "review", note, sizeof(note));
	note_about(84, "review", other, sizeof(other));
	review_note(f, &a, OB_ACTION_START, note);
	review_note(f, &b, OB_ACTION_START, other);
	size_t len;
	uint8_t *sealed = raw_note(f, a.seq, 1, &len);
	assert_non_null(sealed);

	ob_application e;
	assert_int_equal(erase(f, a.id, "ticket 9", "dpo", &e), OB_OK);
	assert_int_equal(e.n_history, 3);
	assert_string_equal(e.history[1].reason, "start");
	assert_string_equal(e.history[1].note, "[erased]");
	assert_string_equal(e.history[2].reason, "personal data erased: ticket 9");
	assert_string_equal(e.history[2].note, "");
	ob_application_fini(&a);
	a = e; /* at its new version */
	review_note(f, &a, OB_ACTION_REQUEST_INFO, "typed after the erasure");
	assert_string_equal(a.history[3].note, "[erased]");

	ob_application got;
	assert_int_equal(get(f, b.id, &got, NULL), OB_OK);
	assert_string_equal(got.history[1].note, other);
	ob_application_fini(&got);
	assert_int_equal(get(f, a.id, &got, NULL), OB_OK);
	assert_string_equal(got.history[1].note, "[erased]");
	assert_string_equal(got.history[3].note, "[erased]");
	ob_application_fini(&got);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM history WHERE app_seq = ?1 AND "
	                         "length(note) > 0",
	                         a.seq),
	                 0);

	/* Nothing of them is left in the files: erase() checkpointed. */
	files fs;
	files_read(f, &fs);
	assert_absent(&fs, sealed, len, "the erased note's ciphertext");
	assert_str_absent(&fs, note, "the erased note");
	assert_str_absent(&fs, "typed after the erasure", "a note typed after the erasure");
	assert_contact_absent(&fs, 83, NULL);
	assert_contact_absent(&fs, 84, NULL);
	files_free(&fs);
	free(sealed);
	ob_application_fini(&a);
	ob_application_fini(&b);
}

/* A database of schema 1 kept notes in clear at the end of history.reason ("withdrawn: NOTE",
 * "start: [erased]" once erased): opening it seals them, keeps the prefix as the reason, turns
 * redacted ones into erased notes, leaves the service's own reasons alone, and leaves no note
 * in clear in the files. */
static void test_schema_1_notes_sealed_on_open(void **state)
{
	fx *f = *state;
	ob_application a, b, c;
	submit_ok(f, 90, NULL, &a);
	submit_ok(f, 91, NULL, &b);
	submit_ok(f, 92, NULL, &c);
	char na[OB_REASON_MAX + 1], nb[OB_REASON_MAX + 1], nc[OB_REASON_MAX + 1];
	note_about(90, "review", na, sizeof(na));
	note_about(91, "says: closing down", nb, sizeof(nb)); /* ": " inside the note too */
	note_about(92, "review", nc, sizeof(nc));
	review_note(f, &a, OB_ACTION_START, na);
	withdraw_reason(f, &b, nb);
	review_note(f, &c, OB_ACTION_START, nc);
	ob_application e;
	assert_int_equal(erase(f, c.id, "ticket 10", "dpo", &e), OB_OK);
	ob_application_fini(&e);
	fx_close(f, false);

	/* Back to schema 1, as that onboardd wrote it. */
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "UPDATE history SET reason = reason || ': ' || ?3 "
	                                    "WHERE app_seq = ?1 AND n = ?2",
	                                    -1, &s, NULL),
	                 SQLITE_OK);
	const struct {
		int64_t seq;
		const char *note;
	} typed[] = {{a.seq, na}, {b.seq, nb}};
	for (size_t i = 0; i < 2; i++) {
		sqlite3_bind_int64(s, 1, typed[i].seq);
		sqlite3_bind_int64(s, 2, 1);
		sqlite3_bind_text(s, 3, typed[i].note, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(s), SQLITE_DONE);
		assert_int_equal(sqlite3_changes(db), 1);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	downgrade(f, 2);
	raw_exec(f, "UPDATE history SET reason = reason || ': [erased]' WHERE typeof(note) = "
	            "'blob' AND length(note) = 0;"
	            "ALTER TABLE history DROP COLUMN note; PRAGMA user_version = 1; VACUUM;");
	assert_int_equal(raw_int(f, "PRAGMA user_version", 0), 1);
	files fs;
	files_read(f, &fs);
	bool in_clear = memmem(fs.db, fs.db_len, na, strlen(na)) != NULL ||
	                memmem(fs.wal, fs.wal_len, na, strlen(na)) != NULL;
	assert_true(in_clear); /* or the check below would prove nothing */
	files_free(&fs);

	char *log = open_logged(f);
	assert_non_null(strstr(log, "applied schema migration 2"));
	assert_null(strstr(log, "called"));
	free(log);
	assert_int_equal(raw_int(f, "PRAGMA user_version", 0), 7);

	ob_application got;
	assert_int_equal(get(f, a.id, &got, NULL), OB_OK);
	assert_string_equal(got.history[0].reason, "submitted");
	assert_string_equal(got.history[0].note, "");
	assert_string_equal(got.history[1].reason, "start");
	assert_string_equal(got.history[1].note, na);
	ob_application_fini(&got);
	assert_int_equal(get(f, b.id, &got, NULL), OB_OK);
	assert_string_equal(got.history[1].reason, "withdrawn");
	assert_string_equal(got.history[1].note, nb);
	ob_application_fini(&got);
	assert_int_equal(get(f, c.id, &got, NULL), OB_OK);
	assert_string_equal(got.history[1].reason, "start");
	assert_string_equal(got.history[1].note, "[erased]");
	assert_string_equal(got.history[2].reason, "personal data erased: ticket 10");
	ob_application_fini(&got);

	files_read(f, &fs);
	assert_str_absent(&fs, na, "a schema-1 review note");
	assert_str_absent(&fs, nb, "a schema-1 withdrawal reason");
	for (uint32_t n = 90; n <= 92; n++)
		assert_contact_absent(&fs, n, NULL);
	files_free(&fs);

	/* Opening again changes nothing. */
	fx_close(f, false);
	fx_open(f);
	assert_int_equal(get(f, a.id, &got, NULL), OB_OK);
	assert_string_equal(got.history[1].note, na);
	ob_application_fini(&got);
	ob_application_fini(&a);
	ob_application_fini(&b);
	ob_application_fini(&c);
}

/* Submits n applications of SIRENs from base into app, and approves the first. */
static void submit_approve_first(fx *f, uint32_t base, uint32_t n, ob_application *app)
{
	for (uint32_t i = 0; i < n; i++)
		submit_ok(f, base + i, NULL, &app[i]);
	review_note(f, &app[0], OB_ACTION_START, NULL);
	review_note(f, &app[0], OB_ACTION_APPROVE, NULL);
}

/* The sum of st's counters whose key starts with prefix. */
static uint32_t counted(const ob_standing *st, const char *prefix)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < st->n_counters; i++)
		if (strncmp(st->counters[i].key, prefix, strlen(prefix)) == 0)
			sum += (uint32_t)st->counters[i].count;
	return sum;
}

/* A database of schema 2 (one application per SIREN and cohort for good; counters that never
 * went down): opening it keeps every application, its history and its contact, lets a rejected
 * company apply again, gives the default cohort its new settings, and recounts the standing
 * over live applications, once. */
static void test_schema_2_migrates(void **state)
{
	fx *f = *state;
	ob_application app[5];
	submit_approve_first(f, 130, 5, app);
	review_note(f, &app[0], OB_ACTION_ONBOARD, NULL); /* 20 November: before the milestone */
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application rejected;
	assert_int_equal(ob_domain_review(f->d, TD_AS("reviewer"), app[1].id, OB_ACTION_REJECT, 0,
	                                  OB_REJECTION_INELIGIBLE, NULL, NULL, &rejected, &o),
	                 OB_OK);
	ob_outcome_fini(&o);
	ob_application_fini(&app[1]);
	app[1] = rejected;
	withdraw_reason(f, &app[2], "closing down");
	review_note(f, &app[3], OB_ACTION_START, NULL);
	fx_close(f, false);

	/* Back to schema 2, with its counters: by size, region, channel and exporters over every
	 * application ever submitted, and nothing of the live or onboarded ones. */
	downgrade(f, 2);
	raw_exec(f, "DELETE FROM counter WHERE key IN ('live', 'onboarded', 'onboarded_exporters',"
	            " 'live_before_milestone', 'exporters') OR key LIKE 'size:%'"
	            " OR key LIKE 'region:%' OR key LIKE 'channel:%';"
	            "INSERT INTO counter SELECT cohort_id, 'exporters', sum(exports)"
	            " FROM application GROUP BY cohort_id;"
	            "INSERT INTO counter SELECT cohort_id, 'size:' || CASE size WHEN 1 THEN 'TPE'"
	            " ELSE 'PME' END, count(*) FROM application GROUP BY 1, 2;"
	            "INSERT INTO counter SELECT cohort_id, 'region:' || CASE region WHEN '' THEN"
	            " 'unknown' ELSE region END, count(*) FROM application GROUP BY 1, 2;"
	            "INSERT INTO counter SELECT cohort_id, 'channel:' || CASE channel WHEN 1 THEN"
	            " 'MARKETPLACE' WHEN 2 THEN 'OWN_WEBSHOP' ELSE 'BOTH' END, count(*)"
	            " FROM application GROUP BY 1, 2;");
	assert_int_equal(raw_int(f, "PRAGMA user_version", 0), 2);
	/* 131 and 133: the odd ones intend to export. */
	assert_int_equal(raw_int(f, "SELECT count FROM counter WHERE key = 'exporters'", 0), 2);

	open_migrated(f, 3, "recounted the standing of 1 cohort");

	/* Every application as it was, contact and history included. */
	for (uint32_t i = 0; i < 5; i++) {
		ob_application got;
		assert_int_equal(get(f, app[i].id, &got, NULL), OB_OK);
		assert_int_equal(got.state, app[i].state);
		assert_int_equal(got.version, app[i].version);
		assert_int_equal(got.n_history, app[i].n_history);
		assert_string_equal(got.contact.email, app[i].contact.email);
		assert_string_equal(got.company.siren, app[i].company.siren);
		assert_int_equal(got.company.legal_form, OB_LEGAL_UNSPECIFIED); /* not asked then */
		assert_true(got.company.has_balance);
		assert_string_equal(got.terms_version, "");
		if (i == 0)
			assert_int_equal(got.onboarded_at_ms, got.history[3].at_ms);
		ob_application_fini(&got);
	}

	/* The standing over live applications: 130 onboarded, 133 under review, 134. */
	ob_standing st;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_standing(f->d, NULL, &st, &o), OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(st.applications, 5);
	assert_int_equal(st.live, 3);
	assert_int_equal(st.exporters, 1); /* 133: 131 was rejected */
	assert_int_equal(st.onboarded, 1);
	assert_int_equal(st.onboarded_exporters, 0);
	assert_int_equal(st.live_before_milestone, 1);
	assert_int_equal(counted(&st, "size:"), 3);
	/* The default cohort gets what it gets on a first start now. */
	assert_string_equal(st.cohort.milestone_date, "2020-12-04");
	assert_true(ob_naf_divisions_has(&st.cohort.excluded_naf, 84));
	assert_true(st.cohort.window_enforced);
	char closes[OB_RFC3339_STR_SIZE];
	ob_time_format_rfc3339(st.cohort.window_closes_ms, closes);
	assert_string_equal(closes, "2020-12-15T23:00:00.000Z");
	ob_standing_fini(&st);

	/* The rejected company applies again; the live one still cannot. */
	ob_application again;
	submit_ok(f, 131, NULL, &again);
	assert_string_not_equal(again.id, app[1].id);
	ob_application_fini(&again);
	ob_outcome_init(&o);
	assert_int_equal(submit_as(f, 134, NULL, NULL, NULL, &again, &o), OB_EEXIST);
	ob_outcome_fini(&o);

	/* Opening again migrates and recounts nothing. */
	fx_close(f, false);
	char *log = open_logged(f);
	assert_null(strstr(log, "applied schema migration"));
	assert_null(strstr(log, "recounted"));
	free(log);
	for (uint32_t i = 0; i < 5; i++)
		ob_application_fini(&app[i]);
}

/* A reason longer than the service writes (a row changed by hand, in two-byte characters) is
 * read back cut between two characters, so that the reply that shows it stays valid UTF-8. */
static void test_overlong_reason_read_cut_on_boundary(void **state)
{
	fx *f = *state;
	ob_application a;
	submit_ok(f, 85, NULL, &a);
	char text[OB_REASON_MAX + 200];
	size_t len = ob_test_fill_e_acute(text, sizeof(text), "x");
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE history SET reason = ?2 WHERE app_seq = ?1",
	                                    -1, &s, NULL),
	                 SQLITE_OK);
	sqlite3_bind_int64(s, 1, a.seq);
	sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	sqlite3_close(db);

	ob_application got;
	assert_int_equal(get(f, a.id, &got, NULL), OB_OK);
	size_t n = strlen(got.history[0].reason);
	assert_true(n > 0 && n <= OB_REASON_MAX);
	assert_memory_equal(got.history[0].reason, text, n);
	if (!ob_utf8_valid(got.history[0].reason, n))
		fail_msg("a reason of %zu bytes read back as %zu bytes that are not UTF-8", len, n);
	ob_application_fini(&got);
	ob_application_fini(&a);
}

/* ---- submitted_by, audit --------------------------------------------------------------------- */

/* The submitter's key id is kept ("local" without one) and filters a list. */
static void test_submitted_by(void **state)
{
	fx *f = *state;
	ob_application a, b, got;
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(submit_as(f, 70, NULL, "partner-7", NULL, &a, &o), OB_OK);
	assert_int_equal(submit_as(f, 71, NULL, NULL, NULL, &b, &o), OB_OK);
	ob_outcome_fini(&o);
	assert_string_equal(a.submitted_by, "partner-7");
	assert_string_equal(b.submitted_by, "local");
	assert_int_equal(get(f, a.id, &got, NULL), OB_OK);
	assert_string_equal(got.submitted_by, "partner-7");
	ob_application_fini(&got);

	ob_app_filter flt = {.submitted_by = "partner-7"};
	ob_application *list = NULL;
	size_t n = 0;
	bool more = true;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_list(f->d, TD_ALL, &flt, 0, 10, &list, &n, &more, &o), OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(n, 1);
	assert_false(more);
	assert_string_equal(list[0].id, a.id);
	free(list);
	ob_application_fini(&a);
	ob_application_fini(&b);
}

/* Events come back in order, page by page, as recorded. */
static void test_audit_trail(void **state)
{
	fx *f = *state;
	for (int i = 0; i < 3; i++) {
		ob_audit_event e = {.at_ms = i == 0 ? 0 : 1605873600000 + i};
		snprintf(e.event, sizeof(e.event), "test.event%d", i);
		snprintf(e.key_id, sizeof(e.key_id), "key-%d", i);
		snprintf(e.peer, sizeof(e.peer), "tcp:192.0.2.%d:4000", i);
		snprintf(e.detail, sizeof(e.detail), "detail %d", i);
		assert_int_equal(ob_domain_audit(f->d, &e), OB_OK);
	}
	ob_outcome o;
	ob_outcome_init(&o);
	ob_audit_event *ev = NULL;
	size_t n = 0;
	bool more = false;
	assert_int_equal(ob_domain_audit_list(f->d, 0, 2, &ev, &n, &more, &o), OB_OK);
	assert_int_equal(n, 2);
	assert_true(more);
	assert_string_equal(ev[0].event, "test.event0");
	assert_true(ev[0].at_ms >= 1605873600000);
	assert_string_equal(ev[1].key_id, "key-1");
	assert_string_equal(ev[1].peer, "tcp:192.0.2.1:4000");
	assert_int_equal(ev[1].at_ms, 1605873600001);
	int64_t last = ev[1].seq;
	free(ev);
	assert_int_equal(ob_domain_audit_list(f->d, last, 2, &ev, &n, &more, &o), OB_OK);
	assert_int_equal(n, 1);
	assert_false(more);
	assert_string_equal(ev[0].detail, "detail 2");
	free(ev);
	ob_outcome_fini(&o);
}

/* A database of schema 3 (no ad credit's last day; counters without the reports nor the
 * benefits' totals): opening it gives a granted application its cohort's last day, recounts
 * the standing with the new reports once, and spending then works on it. */
static void test_schema_3_migrates(void **state)
{
	fx *f = *state;
	ob_application app[2];
	submit_approve_first(f, 140, 2, app);
	fx_close(f, false);
	downgrade(f, 3);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM counter WHERE key LIKE 'dept:%'", 0), 0);

	open_migrated(f, 4, "recounted the standing of 1 cohort");

	ob_application got;
	assert_int_equal(get(f, app[0].id, &got, NULL), OB_OK);
	assert_string_equal(got.benefits.ad_credit_expires, "2021-03-15");
	ob_application_fini(&got);
	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_spend_ad_credit(f->d, TD_AS("ads"), app[0].id, 1234, "inv-1",
	                                           NULL, &got, &o),
	                 OB_OK);
	assert_int_equal(got.benefits.ad_credit_used_cents, 1234);
	ob_application_fini(&got);
	ob_standing st;
	assert_int_equal(ob_domain_standing(f->d, NULL, &st, &o), OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(st.benefits_granted, 1);
	assert_int_equal(st.ad_credit_granted_cents, 20000);
	assert_int_equal(st.ad_credit_used_cents, 1234);
	assert_int_equal(st.fee_waived_cents, app[0].benefits.fee_waived_cents);
	assert_int_equal(counted(&st, "dept:"), 2);
	assert_int_equal(counted(&st, "naf:"), 2);
	assert_int_equal(counted(&st, "region_state:"), 2);
	ob_standing_fini(&st);
	for (uint32_t i = 0; i < 2; i++)
		ob_application_fini(&app[i]);
}

/* A database of schema 4 (one topic-less count per session, the approval's session only in
 * application.webinar_at): opening it makes the approved application's session a booking of
 * the marketplace's topic, keeps the seat counted, and the booking can then be cancelled. */
static void test_schema_4_migrates(void **state)
{
	fx *f = *state;
	ob_application app[2];
	submit_approve_first(f, 150, 2, app);
	int64_t session = app[0].benefits.webinar_at_ms;
	assert_true(session != 0);
	fx_close(f, false);
	downgrade(f, 4);
	assert_int_equal(raw_int(f, "SELECT sum(booked) FROM webinar", 0), 1);

	open_migrated(f, 5, NULL);

	ob_application got;
	assert_int_equal(get(f, app[0].id, &got, NULL), OB_OK);
	assert_int_equal(got.webinar.session_ms, session);
	assert_int_equal(got.webinar.topic, OB_TOPIC_MARKETPLACE);
	assert_int_equal(got.benefits.webinar_at_ms, session);
	ob_application_fini(&got);
	assert_int_equal(get(f, app[1].id, &got, NULL), OB_OK);
	assert_int_equal(got.webinar.session_ms, 0); /* not approved: no booking */
	ob_application_fini(&got);
	assert_int_equal(raw_int(f, "SELECT booked FROM webinar_session WHERE topic = 1", 0), 1);

	ob_outcome o;
	ob_outcome_init(&o);
	assert_int_equal(ob_domain_cancel_webinar(f->d, TD_ALL, app[0].id, NULL, &got, &o), OB_OK);
	ob_outcome_fini(&o);
	assert_int_equal(got.benefits.webinar_at_ms, 0);
	ob_application_fini(&got);
	assert_int_equal(raw_int(f, "SELECT booked FROM webinar_session WHERE topic = 1", 0), 0);
	for (uint32_t i = 0; i < 2; i++)
		ob_application_fini(&app[i]);
}

/* A database of schema 5 (advisors as numbers with a load): opening it makes each advisor a
 * placeholder person who keeps their number and load ("Advisor N", region "any", French), the
 * approved application shows its advisor's name, the next approval sees the load, and a
 * withdrawal gives the load back. */
static void test_schema_5_migrates(void **state)
{
	fx *f = *state;
	ob_application app[2];
	submit_approve_first(f, 160, 2, app);
	uint32_t adv = app[0].benefits.advisor;
	assert_true(adv != 0);
	fx_close(f, false);
	downgrade(f, 5);
	assert_int_equal(raw_int(f, "SELECT load FROM advisor WHERE advisor = ?1", adv), 1);

	open_migrated(f, 6, NULL);
	assert_int_equal(raw_int(f,
	                         "SELECT count(*) FROM advisor WHERE name = 'Advisor ' || advisor"
	                         " AND region = 'any' AND languages = 'fr' AND active = 1"
	                         " AND capacity = 1000",
	                         0),
	                 raw_int(f, "SELECT count(*) FROM advisor", 0));
	assert_int_equal(raw_int(f, "SELECT load FROM advisor WHERE advisor = ?1", adv), 1);

	ob_application got;
	assert_int_equal(get(f, app[0].id, &got, NULL), OB_OK);
	assert_int_equal(got.benefits.advisor, adv);
	char want[32];
	snprintf(want, sizeof(want), "Advisor %u", adv);
	assert_string_equal(got.benefits.advisor_name, want);
	ob_application_fini(&got);
	/* The next approval goes to a placeholder without load, not to adv again. */
	review_note(f, &app[1], OB_ACTION_START, NULL);
	review_note(f, &app[1], OB_ACTION_APPROVE, NULL);
	assert_true(app[1].benefits.advisor != 0 && app[1].benefits.advisor != adv);
	withdraw_reason(f, &app[0], "no longer interested");
	assert_int_equal(raw_int(f, "SELECT load FROM advisor WHERE advisor = ?1", adv), 0);
	assert_int_equal(raw_int(f, "SELECT sum(load) FROM advisor", 0), 1);
	for (uint32_t i = 0; i < 2; i++)
		ob_application_fini(&app[i]);
}

/* Schema 7 drops the index on (cohort_id, seq): a database of schema 6 loses it when opened,
 * and what was in it reads as before. */
static void test_schema_7_drops_cohort_seq_index(void **state)
{
	fx *f = *state;
	static const char index_sql[] =
	        "SELECT count(*) FROM sqlite_master WHERE name = 'application_cohort_seq'";
	assert_int_equal(raw_int(f, index_sql, 0), 0);
	ob_application a;
	submit_ok(f, 7300, NULL, &a);
	fx_close(f, false);
	raw_exec(f, OB_TEST_SCHEMA_7_TO_6);
	assert_int_equal(raw_int(f, "PRAGMA user_version", 0), 6);
	assert_int_equal(raw_int(f, index_sql, 0), 1);
	fx_open(f);
	assert_int_equal(raw_int(f, "PRAGMA user_version", 0), 7);
	assert_int_equal(raw_int(f, index_sql, 0), 0);
	ob_application got;
	assert_int_equal(get(f, a.id, &got, NULL), OB_OK);
	assert_string_equal(got.contact.email, a.contact.email);
	ob_application_fini(&got);
	ob_application_fini(&a);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_tampered_ciphertext_refused),
	        T(test_ciphertext_copied_to_another_row_refused),
	        T(test_damaged_contact_of_another_owner_not_found),
	        T(test_erasure),
	        T(test_export_by_email),
	        T(test_sealed_ahead_across_rotation),
	        T(test_schema_7_drops_cohort_seq_index),
	        T(test_rotation),
	        T(test_rotation_with_missing_key),
	        T(test_rotation_failure),
	        T(test_rotation_idempotent),
	        T(test_rotation_retry_after_cut),
	        T(test_no_plaintext_in_files),
	        T(test_erased_bytes_do_not_linger),
	        T(test_notes_sealed),
	        T(test_note_bound_to_its_row),
	        T(test_erasure_takes_the_notes),
	        T(test_schema_1_notes_sealed_on_open),
	        T(test_schema_2_migrates),
	        T(test_schema_3_migrates),
	        T(test_schema_4_migrates),
	        T(test_schema_5_migrates),
	        T(test_overlong_reason_read_cut_on_boundary),
	        T(test_submitted_by),
	        T(test_audit_trail),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
