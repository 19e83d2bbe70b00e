/*
 * fakesrv.h: onboard-fakesrv (fakesrv.c), a server that answers every request
 * with a status code of the test's choosing, started from a test in one line:
 *
 *     ob_fakesrv f;
 *     assert_int_equal(ob_fakesrv_start(&f, "ipc:///tmp/x/s.sock", 192, -1), 0);
 *     ... ob_client_open() on the URL, calls ...
 *     ob_fakesrv_stop(&f);
 *
 * The program is the one named by $ONBOARD_FAKESRV (meson sets it). With
 * uid >= 0, it runs with --uid and becomes that user (and group) before it
 * listens, which needs root: a listener run by someone else.
 * ob_fakesrv_start() returns once the server has printed "ready", that is
 * once it listens (at most 10 s), so a test never sleeps to wait for it.
 *
 * The server dies with the test process (PR_SET_PDEATHSIG). One ob_fakesrv
 * belongs to one thread.
 */
#ifndef OB_TESTS_FAKESRV_H
#define OB_TESTS_FAKESRV_H

#include <sys/types.h>

typedef struct ob_fakesrv {
	pid_t pid; /* 0 when not running */
} ob_fakesrv;

/* Starts onboard-fakesrv URL CODE, as uid when uid >= 0. Returns 0, or -1
 * after printing why on stderr (nothing is left running). */
int ob_fakesrv_start(ob_fakesrv *f, const char *url, int code, long uid);

/* Kills the server and waits for it. Accepts one never started. */
void ob_fakesrv_stop(ob_fakesrv *f);

#endif
