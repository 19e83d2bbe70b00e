/*
 * histogram.h: an HDR-style latency histogram: log-linear buckets (128 per
 * power of two, so every value is kept within 0.8%), from 1 us to ~35 min,
 * constant memory, O(1) record. Not thread-safe: one per thread, merged.
 */
#ifndef OB_LOAD_HISTOGRAM_H
#define OB_LOAD_HISTOGRAM_H

#include <stdint.h>

enum { OB_HIST_SUB = 128, OB_HIST_EXP = 32 };

typedef struct ob_hist {
	uint64_t counts[OB_HIST_EXP][OB_HIST_SUB];
	uint64_t total;
	int64_t min, max;
	double sum;
} ob_hist;

void ob_hist_init(ob_hist *h);
void ob_hist_record(ob_hist *h, int64_t us);
void ob_hist_merge(ob_hist *into, const ob_hist *from);
/* The value at quantile q (0..1), within the bucket's precision. */
int64_t ob_hist_quantile(const ob_hist *h, double q);

#endif
