/*
 * histogram.h: an HDR-style latency histogram: log-linear buckets (128 per
 * power of two, so every value is kept within 0.8%), from 1 us to ~35 min,
 * constant memory (32 KiB), O(1) record. Not thread-safe: one per thread or
 * under a lock, merged.
 */
#ifndef OB_LOAD_HISTOGRAM_H
#define OB_LOAD_HISTOGRAM_H

#include <stdint.h>
#include <stdio.h>

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
/* The mean of the values recorded (exact), 0 when there are none. */
double ob_hist_mean(const ob_hist *h);
/* Their standard deviation, from the buckets (each value taken as its bucket's). */
double ob_hist_stddev(const ob_hist *h);
/* How many values recorded are at most v (within the buckets' precision: a bucket counts
 * when its highest value is at most v). */
uint64_t ob_hist_count_upto(const ob_hist *h, int64_t v);

/*
 * The percentile distribution in HdrHistogram's text format (outputPercentileDistribution,
 * the ".hgrm" files that HdrHistogram's plotter and its ports read): a header, one line per
 * reporting step "Value Percentile TotalCount 1/(1-Percentile)", the steps halving towards
 * 100% with ticks_per_half steps per half-distance (HdrHistogram's usual 5), the 100% line
 * without its last column, and the #[Mean ...], #[Max ...] and #[Buckets ...] footer. Values
 * are divided by scale (1000: microseconds shown as milliseconds) and printed with 3 decimals.
 * An empty histogram prints the header and the footer only. Returns 0, or -1 on a write
 * error.
 */
int ob_hist_print_percentiles(FILE *f, const ob_hist *h, int ticks_per_half, double scale);

#endif
