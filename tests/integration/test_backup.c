/*
 * test_backup.c: Admin/Backup under load, and the restore. Four threads submit applications
 * to a real onboardd without pause while the test takes a backup through the API; then a
 * second onboardd serves the copy (`onboardd --db COPY --master-key KEYFILE`, nothing else to
 * restore) and the test compares: every application acknowledged before the backup was asked
 * for is in the copy, with its contact readable (the same name, e-mail and E.164 phone); the
 * copy is one snapshot (its cohort counters agree with its applications, their number is the
 * one the reply announced); SQLite's integrity check passes on it; it is mode 0600; and the
 * service went on taking writes meanwhile. Also: the master key id and the reminder in the
 * reply, and a backup never overwrites a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "onboard/client.h"
#include "onboard/v1/admin.pb-c.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "testdata.h"
#include "testsrv.h"
#include "testutil.h"

#define GET    "/onboard.v1.Onboarding/GetApplication"
#define COHORT "/onboard.v1.Onboarding/GetCohort"
#define BACKUP "/onboard.v1.Admin/Backup"

enum { CALL_MS = 30000, LOADERS = 4, MAX_ACKS = 20000, BEFORE = 120, AFTER = 40 };

/* An application the server acknowledged: its id and the company it was made of. */
typedef struct ack {
	char id[32];
	uint32_t n;
} ack;

typedef struct fixture {
	ob_testsrv srv;
	pthread_mutex_t mu;
	ack acks[MAX_ACKS];
	size_t n_acks;
	atomic_uint next; /* the next company of the series */
	atomic_bool stop;
	atomic_int failures;
} fixture;

/* Submits companies until told to stop, recording each acknowledged one. */
static void *load(void *arg)
{
	fixture *f = arg;
	while (!atomic_load(&f->stop)) {
		uint32_t n = atomic_fetch_add(&f->next, 1);
		td_company c;
		td_company_make(&c, n);
		Onboard__V1__Application *app;
		ob_result r;
		int code = ob_testsrv_submit(f->srv.client, &c, NULL, NULL, CALL_MS, &app, &r);
		if (code == OB_CODE_OK) {
			pthread_mutex_lock(&f->mu);
			if (f->n_acks < MAX_ACKS) {
				snprintf(f->acks[f->n_acks].id, sizeof(f->acks[0].id), "%s",
				         app->id);
				f->acks[f->n_acks++].n = n;
			}
			pthread_mutex_unlock(&f->mu);
			protobuf_c_message_free_unpacked(&app->base, NULL);
		} else {
			fprintf(stderr, "submit %u: %s: %s\n", n, ob_code_name(code), r.message);
			atomic_fetch_add(&f->failures, 1);
		}
		ob_result_fini(&r);
	}
	return NULL;
}

static size_t acks_now(fixture *f)
{
	pthread_mutex_lock(&f->mu);
	size_t n = f->n_acks;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* Waits until at least n applications are acknowledged (at most 2 minutes). */
static void wait_acks(fixture *f, size_t n)
{
	int64_t end = ob_test_mono_ms() + 120000;
	while (acks_now(f) < n && ob_test_mono_ms() < end && atomic_load(&f->failures) == 0)
		ob_test_sleep_ms(10);
	assert_int_equal(atomic_load(&f->failures), 0);
	assert_true(acks_now(f) >= n);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || ob_testsrv_start(&f->srv, NULL) != 0) {
		free(f);
		return -1;
	}
	pthread_mutex_init(&f->mu, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	int rc = ob_testsrv_stop(&f->srv);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return rc;
}

/* Calls Backup for path through client; returns the code, *out the reply on OK. */
static int backup(ob_client *client, const char *path, Onboard__V1__BackupResponse **out,
                  ob_result *r)
{
	Onboard__V1__BackupRequest rq = ONBOARD__V1__BACKUP_REQUEST__INIT;
	rq.path = (char *)path;
	*out = NULL;
	return ob_client_call_message(client, BACKUP, NULL, 0, &rq.base,
	                              &onboard__v1__backup_response__descriptor,
	                              (ProtobufCMessage **)out, CALL_MS, r);
}

/* PRAGMA integrity_check of the file at path: "ok" or what it found. */
static void assert_integrity(const char *path)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* Application a of the copy's server, with its contact: that of company a->n. */
static void assert_restored(ob_client *client, const ack *a)
{
	Onboard__V1__GetApplicationRequest rq = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
	rq.id = (char *)a->id;
	Onboard__V1__Application *app = NULL;
	ob_result r;
	int code = ob_client_call_message(client, GET, NULL, 0, &rq.base,
	                                  &onboard__v1__application__descriptor,
	                                  (ProtobufCMessage **)&app, CALL_MS, &r);
	if (code != OB_CODE_OK)
		fail_msg("application %s acknowledged before the backup: %s: %s", a->id,
		         ob_code_name(code), r.message);
	ob_result_fini(&r);
	td_company c;
	td_company_make(&c, a->n);
	assert_string_equal(app->company->siren, c.siren);
	assert_non_null(app->contact);
	assert_false(app->contact_erased);
	assert_string_equal(app->contact->name, c.contact_name);
	assert_string_equal(app->contact->email, c.email);
	assert_true(strlen(app->contact->phone) > 0 && app->contact->phone[0] == '+');
	protobuf_c_message_free_unpacked(&app->base, NULL);
}

/* The copy's cohort: its counters of applications, as one snapshot must have them. */
static uint32_t cohort_applications(ob_client *client)
{
	Onboard__V1__GetCohortRequest rq = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
	Onboard__V1__CohortStanding *st = NULL;
	ob_result r;
	assert_int_equal(ob_client_call_message(client, COHORT, NULL, 0, &rq.base,
	                                        &onboard__v1__cohort_standing__descriptor,
	                                        (ProtobufCMessage **)&st, CALL_MS, &r),
	                 OB_CODE_OK);
	ob_result_fini(&r);
	uint32_t n = st->applications;
	assert_int_equal(st->seats_held + st->waitlist_length, n);
	protobuf_c_message_free_unpacked(&st->base, NULL);
	return n;
}

static void test_backup_under_load_and_restore(void **state)
{
	fixture *f = *state;
	char dir[320], path[400], key[320];
	snprintf(dir, sizeof(dir), "%s/backups", f->srv.dir);
	snprintf(path, sizeof(path), "%s/onboard-copy.db", dir);
	snprintf(key, sizeof(key), "%s/master.key", f->srv.dir);
	assert_int_equal(mkdir(dir, 0700), 0);

	pthread_t loaders[LOADERS];
	for (int i = 0; i < LOADERS; i++)
		assert_int_equal(pthread_create(&loaders[i], NULL, load, f), 0);
	wait_acks(f, BEFORE);
	/* What was acknowledged before the call: all of it must be in the copy. */
	size_t before = acks_now(f);
	Onboard__V1__BackupResponse *rs = NULL;
	ob_result r;
	assert_int_equal(ob_testsrv_ok(backup(f->srv.client, path, &rs, &r), &r, "Backup"),
	                 OB_CODE_OK);
	size_t at_reply = acks_now(f);
	/* The service goes on taking writes after the backup as before. */
	wait_acks(f, at_reply + AFTER);
	atomic_store(&f->stop, true);
	for (int i = 0; i < LOADERS; i++)
		pthread_join(loaders[i], NULL);
	assert_int_equal(atomic_load(&f->failures), 0);

	assert_string_equal(rs->path, path);
	assert_true(rs->applications >= before);
	assert_true(rs->bytes > 0);
	assert_int_equal(strlen(rs->master_key_id), 9); /* kYYYYMMDD */
	assert_non_null(strstr(rs->reminder, "master key file is NOT in the backup"));
	assert_non_null(strstr(rs->reminder, rs->master_key_id));
	assert_int_equal(strlen(rs->taken_at), 24);
	uint64_t in_copy = rs->applications;
	printf("backup: %zu acknowledged before the call, %llu in the copy, %zu at the reply, "
	       "%zu when the load stopped\n",
	       before, (unsigned long long)in_copy, at_reply, acks_now(f));

	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal((uint64_t)st.st_size, rs->bytes);
	char partial[420];
	snprintf(partial, sizeof(partial), "%s.partial", path);
	assert_int_not_equal(stat(partial, &st), 0);
	protobuf_c_message_free_unpacked(&rs->base, NULL);

	/* A second backup to the same path is refused and changes nothing. */
	assert_int_equal(backup(f->srv.client, path, &rs, &r), OB_CODE_ALREADY_EXISTS);
	assert_int_equal(r.n_violations, 1);
	assert_string_equal(r.violations[0].field, "path");
	ob_result_fini(&r);

	assert_integrity(path);

	/* The restore: a second onboardd on the copy, with the same master key file. */
	ob_testsrv copy;
	assert_int_equal(ob_testsrv_start(&copy, (const char *const[]){"--db", path, "--master-key",
	                                                               key, NULL}),
	                 0);
	for (size_t i = 0; i < before; i++)
		assert_restored(copy.client, &f->acks[i]);
	assert_int_equal(cohort_applications(copy.client), in_copy);
	assert_int_equal(ob_testsrv_stop(&copy), 0);
	assert_integrity(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_backup_under_load_and_restore, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
