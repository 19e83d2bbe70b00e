/*
 * engine.h: what makes the calls of a run, without a thread per call in flight.
 *
 * A lane is an nng REQ context with one aio whose callback runs the call's steps: send,
 * receive, record, and at once the lane's next call (refload's design, and nng's own async
 * pattern). --concurrency lanes share --connections sockets, each socket dialing every
 * server: nng spreads a socket's calls over its connections. The callbacks run on nng's
 * threads, so the process has a handful of threads whatever the concurrency.
 *
 * Closed loop (no --rate): a lane sends its next call as soon as the last one ended; a call's
 * latency is from when it was sent. Open loop (--rate R): call i is due at start + i/R; a
 * lane takes the next call as soon as it is due, and when none is due yet it waits in the
 * pacer thread's list, which hands it the call when its time comes (a timer of the pacer's
 * own: nng's sleeps are in milliseconds). A call's latency counts from when it was due, so
 * that a server that stalls is charged for the calls that waited behind the stall
 * (coordinated omission, which closed-loop figures hide).
 *
 * Measurement starts after --warmup (by time in a closed loop, by call number in an open
 * loop, so that the figures hold the calls due after the warm-up) and ends after --total
 * measured calls or at the end of --duration; calls in flight then finish and count. What the
 * lanes measure goes into stripes (one histogram and counters under a lock per group of
 * lanes), merged at the end.
 *
 * Threads: create, start, wait, result and destroy from one thread (main); stop and progress
 * from any.
 */
#ifndef OB_LOAD_ENGINE_H
#define OB_LOAD_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "attr.h"
#include "load.h"
#include "report.h"
#include "requests.h"

typedef struct ob_load_engine ob_load_engine;

/*
 * Opens cfg->connections sockets, each connected to every server of cfg (a first connection
 * each, made before returning; nng reconnects in the background afterwards), and the lanes.
 * ipc:// servers must run as the expected uid (cfg->server_uid, else ours) or root, as
 * libonboard-client requires; tls+tcp:// uses cfg's CA, certificate and server name. rq makes
 * the requests and stays the caller's. Returns 0, or -1 with a message in err; *out is then
 * NULL.
 */
OB_NODISCARD int ob_load_engine_create(ob_load_engine **out, const ob_load_config *cfg,
                                       ob_load_requests *rq, char *err, size_t errlen);
/* Starts the run: the clock, and every lane's first call. */
void ob_load_engine_start(ob_load_engine *e);
/* Waits at most ms milliseconds for the run to end; true when it has. */
bool ob_load_engine_wait(ob_load_engine *e, int64_t ms);
/* Ends the run now (an interrupt): no call begins, calls in flight are cancelled and not
 * counted. ob_load_engine_wait() still says when the lanes have stopped. */
void ob_load_engine_stop(ob_load_engine *e);

/* The run so far: measured calls ended and those OK, and the seconds since measurement
 * began (negative during the warm-up). */
typedef struct ob_load_progress {
	uint64_t calls, ok;
	double seconds;
} ob_load_progress;
void ob_load_engine_progress(ob_load_engine *e, ob_load_progress *p);

/* The figures of the run, once it has ended, into r (which the caller initialised). */
void ob_load_engine_result(ob_load_engine *e, ob_load_result *r);

/* Closes the sockets and frees the engine, after the run ended (or was never started):
 * first waits for every lane's callback to return, so that none is still inside nng when
 * its socket closes. Accepts NULL. */
void ob_load_engine_destroy(ob_load_engine *e);

#endif
