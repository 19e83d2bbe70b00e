/*
 * clock.h: time, injectable so that tests can move it.
 *
 * ob_clock_now_ms() is wall-clock time (unix milliseconds) used for every
 * recorded timestamp and every date decision of the programme. Tests and the
 * --now flag may shift it by a fixed offset; it is read atomically and safe
 * from any thread. ob_clock_real_ms() is the same wall clock never shifted:
 * for what must agree with the rest of the world whatever date the programme
 * rehearses (callers' signed timestamps, session tokens, key validity, rate
 * limits). ob_clock_mono_us() is monotonic time for deadlines and latencies
 * and is never shifted.
 *
 * A thread that sleeps until a deadline waits on a condition variable made by
 * ob_clock_cond_init(), timed on the monotonic clock: pthread's default is the
 * wall clock, and a wait armed on it lasts as much longer as the system clock
 * is stepped back meanwhile (an hour back: the reaper's next round an hour
 * late).
 */
#ifndef OB_BASE_CLOCK_H
#define OB_BASE_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

int64_t ob_clock_now_ms(void);
int64_t ob_clock_real_ms(void);
int64_t ob_clock_mono_us(void);

/* pthread_cond_init() of a condition variable whose timed waits read the
 * monotonic clock; returns its result. */
int ob_clock_cond_init(pthread_cond_t *cv);
/* The absolute time us microseconds from now on the monotonic clock: the
 * deadline of pthread_cond_timedwait() on a variable of ob_clock_cond_init(). */
struct timespec ob_clock_mono_after(int64_t us);

/* Shift ob_clock_now_ms() so that it reads unix_ms now, then keeps running. */
void ob_clock_set_now_ms(int64_t unix_ms);

#endif
