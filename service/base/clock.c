#include "base/clock.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t offset_ms;

static int64_t real_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ob_clock_now_ms(void)
{
	return real_now_ms() + atomic_load_explicit(&offset_ms, memory_order_relaxed);
}

int64_t ob_clock_real_ms(void)
{
	return real_now_ms();
}

int64_t ob_clock_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int ob_clock_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	int rc = pthread_condattr_init(&a);
	if (rc == 0)
		rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

struct timespec ob_clock_mono_after(int64_t us)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns = (int64_t)ts.tv_nsec + us % 1000000 * 1000;
	ts.tv_sec += (time_t)(us / 1000000 + ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	return ts;
}

void ob_clock_set_now_ms(int64_t unix_ms)
{
	atomic_store(&offset_ms, unix_ms - real_now_ms());
}
