#include "histogram.h"

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
			if (seen >= want) {
				int64_t v = bucket_value(e, s);
				return v > h->max ? h->max : v;
			}
		}
	return h->max;
}
