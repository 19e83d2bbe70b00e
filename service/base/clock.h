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
 */
#ifndef OB_BASE_CLOCK_H
#define OB_BASE_CLOCK_H

#include <stdint.h>

int64_t ob_clock_now_ms(void);
int64_t ob_clock_real_ms(void);
int64_t ob_clock_mono_us(void);

/* Shift ob_clock_now_ms() so that it reads unix_ms now, then keeps running. */
void ob_clock_set_now_ms(int64_t unix_ms);

#endif
