/*
 * testsrv.h: a real onboardd for an integration test, started in one line.
 *
 *     ob_testsrv s;
 *     assert_int_equal(ob_testsrv_start(&s, (const char *const[]){"--idle-timeout", "1", NULL}),
 * 0);
 *     ... calls through s.client, raw sockets dialing s.url ...
 *     assert_int_equal(ob_testsrv_stop(&s), 0);
 *
 * ob_testsrv_start() makes a private directory (mkdtemp under $TMPDIR, or
 * /tmp when $TMPDIR is too long for an ipc:// path) and runs the onboardd
 * named by $ONBOARDD (meson sets it) with
 *     --listen ipc://DIR/onboardd.sock --no-access-log --db DIR/onboard.db EXTRA...
 *     [--now OB_TESTSRV_NOW]
 * Under tools/pgcluster.sh ($ONBOARD_TEST_PG set, the suite integration-pg), the database
 * is PostgreSQL instead: unless EXTRA gives --db, a database of the server's own in the
 * private cluster (support/testpg.h), migrated and given a key file by `onboardd migrate`
 * before the start, served with
 *     --db postgresql://onboard@/NAME?host=...&port=... --master-key DIR/master.key
 * and dropped by ob_testsrv_stop(); a restart serves the same database.
 * (the programme's clock in the November 2020 lockdown, as ./demo.sh has it,
 * unless EXTRA gives --now: the default cohort takes submissions during the
 * lockdown only; logins and tokens keep the real clock), and its stdout and
 * stderr appended to DIR/onboardd.log. It returns once
 * Health/Check answers SERVING through libonboard-client (polled every 20 ms
 * for up to 10 s), leaving that client connected in s->client.
 *
 * onboardd dies with the test process (PR_SET_PDEATHSIG), so a test that
 * fails half-way leaves no server behind. When a start fails or a stop does
 * not return 0, the server's log is copied to stderr. ONBOARD_TEST_KEEP=1
 * keeps the directory after ob_testsrv_stop() for a post-mortem.
 *
 * Threading: one ob_testsrv belongs to one thread; call from the thread that
 * runs the test (the parent-death signal follows the thread that forked).
 */
#ifndef OB_TESTS_TESTSRV_H
#define OB_TESTS_TESTSRV_H

#include <stddef.h>
#include <sys/types.h>

#include "onboard/client.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "testpg.h"

struct td_company;

enum { OB_TESTSRV_MAX_ARGS = 32 };

/* A Monday of the November 2020 lockdown, 09:30 in Paris. */
#define OB_TESTSRV_NOW "2020-11-16T08:30:00Z"

typedef struct ob_testsrv {
	char dir[256];                   /* the private directory, removed by ob_testsrv_stop() */
	char url[320];                   /* "ipc://DIR/onboardd.sock" */
	char log[320];                   /* DIR/onboardd.log */
	char db[320];                    /* DIR/onboard.db, or the postgresql:// URL */
	char key[320];                   /* DIR/master.key */
	ob_test_pg pg;                   /* the server's PostgreSQL database, or name "" */
	pid_t pid;                       /* 0 when onboardd is not running */
	ob_client *client;               /* connected while onboardd runs, NULL otherwise */
	char *args[OB_TESTSRV_MAX_ARGS]; /* copies of the extra arguments */
	size_t n_args;
} ob_testsrv;

/* Starts onboardd with extra_args (NULL-terminated; NULL for none) and waits
 * until it serves. Returns 0, or -1 after printing why on stderr (nothing is
 * left running and the directory is removed). */
int ob_testsrv_start(ob_testsrv *s, const char *const *extra_args);

/* ob_testsrv_start() with the arguments of fixed, then those of extra (both NULL-terminated,
 * either NULL): for a fixture that has arguments of its own, and tests that add theirs. */
int ob_testsrv_start_with(ob_testsrv *s, const char *const *fixed, const char *const *extra);

/* Closes s->client, sends SIGTERM, waits (at most 60 s, then SIGKILL) and
 * removes the directory. Returns onboardd's exit status, 128 + the signal
 * number if a signal ended it, or -1 if it was not running or did not stop. */
int ob_testsrv_stop(ob_testsrv *s);

/* The end of a test's server, for a teardown: ob_testsrv_stop() unless it is stopped already
 * (pid 0 and the directory removed: a test that stopped it checked how), saying on stderr
 * when onboardd did not exit 0. Returns 0, or -1 then. */
int ob_testsrv_finish(ob_testsrv *s);

/* A server of its own for a fixture: ob_testsrv_start() into a new ob_testsrv, or NULL after
 * failing (nothing is left). Free it with ob_testsrv_destroy(). */
ob_testsrv *ob_testsrv_create(const char *const *extra_args);

/* ob_testsrv_finish(), then frees s. Accepts NULL. Returns ob_testsrv_finish()'s result. */
int ob_testsrv_destroy(ob_testsrv *s);

/* Closes s->client and kills onboardd with SIGKILL, as a crash or a power
 * cut would; the directory and the database stay for ob_testsrv_restart(). */
void ob_testsrv_kill9(ob_testsrv *s);

/* Starts onboardd again with the same directory, database and arguments
 * (stopping it first with SIGTERM if it still runs) and waits until it
 * serves. Returns 0 or -1 as ob_testsrv_start(). */
int ob_testsrv_restart(ob_testsrv *s);

/* Makes the server's store unreachable while onboardd runs (away 1), or reachable again
 * (away 0): the SQLite file renamed to DB.away and back; the PostgreSQL database closed to
 * new connections and opened again (ob_test_pg_allow_connections). Returns 0, or -1 after
 * saying why. */
int ob_testsrv_store_away(ob_testsrv *s, int away);

/* Asks Health/Check through s->client with a deadline of timeout_ms. Returns
 * the serving status (1 = SERVING, 2 = NOT_SERVING...), or -1 without a
 * reply or with a non-OK one. */
int ob_testsrv_health(ob_testsrv *s, int timeout_ms);

/* The end of a call a test expects to succeed: says on stderr "what: CODE: message" unless
 * code is OB_CODE_OK, and finishes *r either way. Returns code, for the test to assert on:
 *     assert_int_equal(ob_testsrv_ok(call(..., &r), &r, "Backup"), OB_CODE_OK); */
int ob_testsrv_ok(int code, ob_result *r, const char *what);

/* Submits company c (testdata.h) to cohort (NULL: the server's default) through cl, as a
 * client does, with the idempotency-key key unless key is NULL, and a deadline of timeout_ms.
 * On OK *out gets the Application (free it with td_pb_app_free), otherwise NULL; *r is the
 * caller's to finish either way. Returns the call's status code. */
int ob_testsrv_submit(ob_client *cl, const struct td_company *c, const char *cohort,
                      const char *key, int timeout_ms, Onboard__V1__Application **out,
                      ob_result *r);

/* Runs the onboardd of $ONBOARDD with args (NULL-terminated, at most OB_TESTSRV_MAX_ARGS, the
 * program's name left out) until it exits, for a server expected to refuse to start: its
 * stdout and stderr go to the file log (truncated), and it dies with the test process.
 * Returns its exit status, 128 + the signal that ended it, or -1 when it could not run or was
 * still running after timeout_ms (it is then killed). */
int ob_onboardd_run(const char *const *args, const char *log, int timeout_ms);

#endif
