#include "histogram.h"

#include <math.h>
#include <string.h>

void ob_hist_init(ob_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = INT64_MAX;
}

static void locate(int64_t v, unsigned *e, unsigned *s)
{
	uint64_t u = v < 1 ? 1 : (uint64_t)v;
	unsigned bits = 64 - (unsigned)__builtin_clzll(u); /* 1..64 */
	if (bits <= 7) {
		*e = 0;
		*s = (unsigned)u;
		return;
	}
	*e = bits - 7;
	if (*e >= OB_HIST_EXP) {
		*e = OB_HIST_EXP - 1;
		*s = OB_HIST_SUB - 1;
		return;
	}
	/* The 8 top bits of u, less the leading one. */
	*s = (unsigned)(u >> (*e - 1)) & (OB_HIST_SUB - 1);
}

/* The highest value of a bucket: what a quantile reports. */
static int64_t bucket_value(unsigned e, unsigned s)
{
	if (e == 0)
		return (int64_t)s;
	return (int64_t)(((uint64_t)OB_HIST_SUB + s + 1) << (e - 1)) - 1;
}

/* The value a bucket stands for in the figures: its highest value, but never above the
 * largest value recorded. */
static int64_t shown(const ob_hist *h, unsigned e, unsigned s)
{
	int64_t v = bucket_value(e, s);
	return v > h->max ? h->max : v;
}

void ob_hist_record(ob_hist *h, int64_t us)
{
	unsigned e, s;
	locate(us, &e, &s);
	h->counts[e][s]++;
	h->total++;
	if (us < h->min)
		h->min = us;
	if (us > h->max)
		h->max = us;
	h->sum += (double)us;
}

void ob_hist_merge(ob_hist *into, const ob_hist *from)
{
	for (unsigned e = 0; e < OB_HIST_EXP; e++)
		for (unsigned s = 0; s < OB_HIST_SUB; s++)
			into->counts[e][s] += from->counts[e][s];
	into->total += from->total;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
	into->sum += from->sum;
}

int64_t ob_hist_quantile(const ob_hist *h, double q)
{
	if (h->total == 0)
		return 0;
	uint64_t want = (uint64_t)(q * (double)h->total + 0.5);
	if (want < 1)
		want = 1;
	uint64_t seen = 0;
	for (unsigned e = 0; e < OB_HIST_EXP; e++)
		for (unsigned s = 0; s < OB_HIST_SUB; s++) {
			seen += h->counts[e][s];
			if (seen >= want)
				return shown(h, e, s);
		}
	return h->max;
}

double ob_hist_mean(const ob_hist *h)
{
	return h->total > 0 ? h->sum / (double)h->total : 0.0;
}

double ob_hist_stddev(const ob_hist *h)
{
	if (h->total == 0)
		return 0.0;
	double mean = ob_hist_mean(h), sq = 0.0;
	for (unsigned e = 0; e < OB_HIST_EXP; e++)
		for (unsigned s = 0; s < OB_HIST_SUB; s++)
			if (h->counts[e][s] > 0) {
				double d = (double)shown(h, e, s) - mean;
				sq += d * d * (double)h->counts[e][s];
			}
	return sqrt(sq / (double)h->total);
}

uint64_t ob_hist_count_upto(const ob_hist *h, int64_t v)
{
	uint64_t n = 0;
	for (unsigned e = 0; e < OB_HIST_EXP; e++)
		for (unsigned s = 0; s < OB_HIST_SUB; s++)
			if (h->counts[e][s] > 0 && shown(h, e, s) <= v)
				n += h->counts[e][s];
	return n;
}

/*
 * HdrHistogram's percentile iteration: the next level to report after p is p + 100 / (ticks
 * * 2^(floor(log2(100 / (100 - p))) + 1)), so that each half of the remaining distance to
 * 100% gets ticks steps. A bucket reports every level its cumulative count reaches, except
 * the last bucket, which reports one; then comes the 100% line.
 */
int ob_hist_print_percentiles(FILE *f, const ob_hist *h, int ticks_per_half, double scale)
{
	int rc = fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
	                 "1/(1-Percentile)");
	double level = 0.0;
	uint64_t cum = 0;
	int64_t last = 0;
	for (unsigned e = 0; e < OB_HIST_EXP && rc >= 0 && cum < h->total; e++)
		for (unsigned s = 0; s < OB_HIST_SUB && rc >= 0 && cum < h->total; s++) {
			if (h->counts[e][s] == 0)
				continue;
			cum += h->counts[e][s];
			last = shown(h, e, s);
			double reached = 100.0 * (double)cum / (double)h->total;
			while (level <= reached && rc >= 0) {
				rc = fprintf(f, "%12.3f %2.12f %10llu %14.2f\n",
				             (double)last / scale, level / 100.0,
				             (unsigned long long)cum, 1.0 / (1.0 - level / 100.0));
				/* As HdrHistogram computes it: (long)(log(x) / log(2)). */
				double half = trunc(log(100.0 / (100.0 - level)) / log(2.0)) + 1.0;
				level += 100.0 / ((double)ticks_per_half * pow(2.0, half));
				if (cum == h->total)
					break;
			}
		}
	if (h->total > 0 && rc >= 0)
		rc = fprintf(f, "%12.3f %2.12f %10llu\n", (double)last / scale, 1.0,
		             (unsigned long long)h->total);
	if (rc >= 0)
		rc = fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n",
		             ob_hist_mean(h) / scale, ob_hist_stddev(h) / scale);
	if (rc >= 0)
		rc = fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n",
		             (double)(h->total > 0 ? h->max : 0) / scale,
		             (unsigned long long)h->total);
	if (rc >= 0)
		rc = fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n", OB_HIST_EXP,
		             OB_HIST_SUB);
	return rc < 0 ? -1 : 0;
}
