/*
 * notify.h: systemd's service notification protocol (sd_notify(3)), spoken
 * without linking libsystemd: its few lines are a datagram of
 * newline-separated VAR=VALUE assignments sent to the AF_UNIX socket that
 * $NOTIFY_SOCKET names (a name starting with '@' is in the abstract
 * namespace: the '@' becomes a NUL byte). Without $NOTIFY_SOCKET (not
 * started by systemd with Type=notify) every call here does nothing.
 *
 * What onboardd sends (main.c): READY=1 once it listens and the store is
 * open; RELOADING=1 and READY=1 around a SIGHUP's keyring reload;
 * STOPPING=1 when a signal starts the drain; WATCHDOG=1 from the watchdog
 * below, at half of $WATCHDOG_USEC, as long as the service proves alive.
 *
 * Threading: any thread. $NOTIFY_SOCKET and $WATCHDOG_USEC are read at each
 * call: nobody may setenv() meanwhile (tests set them before any thread).
 */
#ifndef OB_BASE_NOTIFY_H
#define OB_BASE_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

/* Sends state ("READY=1", "STOPPING=1\nSTATUS=draining") to $NOTIFY_SOCKET.
 * Returns OB_OK when sent or when there is no $NOTIFY_SOCKET; OB_EINVAL for
 * a $NOTIFY_SOCKET that is no AF_UNIX name; the socket's error otherwise
 * (systemd gone: nothing to do about it but log). Does not block: a
 * datagram to a local socket, MSG_DONTWAIT. */
OB_NODISCARD ob_err ob_notify(const char *state);

/* Whether $NOTIFY_SOCKET is set. */
bool ob_notify_enabled(void);

/* The watchdog interval systemd asks of this process: $WATCHDOG_USEC in
 * microseconds when it is a number from 1 to a day and $WATCHDOG_PID is
 * unset or this process's pid; 0 otherwise (no watchdog). */
int64_t ob_notify_watchdog_usec(void);

/*
 * The watchdog thread: every interval_us / 2 it asks alive(ctx) and sends
 * WATCHDOG=1 only when it answers true, so that systemd restarts a service
 * that is up but no longer works (a stuck store, stuck workers), not just
 * one that died. A change of the answer is logged. alive runs on the
 * watchdog's thread and may block (the next ping waits for it: a call that
 * never returns is a stuck service, which is what the watchdog is for).
 */
typedef bool (*ob_watchdog_alive_fn)(void *ctx);
typedef struct ob_watchdog ob_watchdog;

/* Starts the thread. OB_EINVAL for interval_us <= 0, OB_ENOMEM, or the
 * error of pthread_create. ctx must outlive the watchdog. */
OB_NODISCARD ob_err ob_watchdog_start(ob_watchdog **out, int64_t interval_us,
                                      ob_watchdog_alive_fn alive, void *ctx);
/* Stops and joins the thread (waiting for a call of alive in progress) and
 * frees w. Accepts NULL. */
void ob_watchdog_stop(ob_watchdog *w);

#endif
