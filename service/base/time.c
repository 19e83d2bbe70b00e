/*
 * time.c: see time.h for the contracts.
 *
 * All arithmetic is done in int64_t on values that are bounded first (int32_t fields, saturated
 * day numbers, clamped instants), which is why no function can overflow whatever it is given.
 * Digits are tested by hand rather than with isdigit(), whose answer depends on the locale.
 */
#include "base/time.h"

#include <assert.h>

enum {
	SECS_PER_MIN = 60,
	SECS_PER_HOUR = 3600,
	SECS_PER_DAY = 86400,
};

#define MS_PER_SEC INT64_C(1000)
#define MS_PER_DAY INT64_C(86400000)

int64_t ob_floor_div(int64_t a, int64_t b)
{
	assert(b > 0);
	int64_t q = a / b;
	if (a % b < 0)
		q--;
	return q;
}

/* Computed from %, not as a - q * b, because q * b overflows when a is near INT64_MIN. */
int64_t ob_floor_mod(int64_t a, int64_t b)
{
	assert(b > 0);
	const int64_t r = a % b;
	return r < 0 ? r + b : r;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * Hinnant's days_from_civil on int64_t fields. The month is first folded into 1..12 (carrying
 * into the year) so that any month number normalises linearly; the algorithm itself already
 * treats any day number linearly. Eras are 400-year cycles of 146097 days starting on March 1st,
 * so the leap day is the last day of the computational year.
 */
static int64_t days_from_ymd(int64_t y, int64_t m, int64_t d)
{
	y += ob_floor_div(m - 1, 12);
	m = ob_floor_mod(m - 1, 12) + 1;
	y -= m <= 2;
	const int64_t era = ob_floor_div(y, 400);
	const int64_t yoe = y - era * 400; /* [0, 399] */
	/* Day of the March-based year: [0, 365] when d is valid, linear in d otherwise. */
	const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

bool ob_is_leap_year(int32_t year)
{
	return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

int32_t ob_days_in_month(int32_t year, int32_t month)
{
	static const int32_t len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (month < 1 || month > 12)
		return 0;
	if (month == 2 && ob_is_leap_year(year))
		return 29;
	return len[month - 1];
}

bool ob_date_valid(ob_date d)
{
	return d.day >= 1 && d.day <= ob_days_in_month(d.year, d.month);
}

int ob_date_cmp(ob_date a, ob_date b)
{
	if (a.year != b.year)
		return a.year < b.year ? -1 : 1;
	if (a.month != b.month)
		return a.month < b.month ? -1 : 1;
	if (a.day != b.day)
		return a.day < b.day ? -1 : 1;
	return 0;
}

int64_t ob_days_from_civil(ob_date d)
{
	return days_from_ymd(d.year, d.month, d.day);
}

/* Hinnant's civil_from_days; the saturation keeps the year within int32_t. */
ob_date ob_civil_from_days(int64_t days)
{
	const int64_t z = clamp64(days, OB_DAYS_MIN, OB_DAYS_MAX) + 719468;
	const int64_t era = ob_floor_div(z, 146097);
	const int64_t doe = z - era * 146097;                                      /* [0, 146096] */
	const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	const int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
	const int64_t m = mp < 10 ? mp + 3 : mp - 9;
	const int64_t y = yoe + era * 400 + (m <= 2);
	ob_date d = {
	        .year = (int32_t)y,
	        .month = (int32_t)m,
	        .day = (int32_t)(doy - (153 * mp + 2) / 5 + 1),
	};
	return d;
}

/* Reads exactly n ASCII digits. Stops at the first non-digit, so it never reads past a NUL. */
ob_date ob_date_add_days(ob_date d, int64_t n)
{
	/* Both terms are bounded (a day number of int32_t fields, OB_DAYS_MAX), so the sum
	 * is too once n is. */
	return ob_civil_from_days(ob_days_from_civil(d) +
	                          clamp64(n, -2 * OB_DAYS_MAX, 2 * OB_DAYS_MAX));
}

ob_date ob_date_add_months(ob_date d, int32_t n)
{
	enum { LIMIT = 12 * 1000 * 1000 };
	const int64_t months =
	        (int64_t)d.year * 12 + ((int64_t)d.month - 1) + clamp64(n, -LIMIT, LIMIT);
	const int64_t year = clamp64(ob_floor_div(months, 12), INT32_MIN, INT32_MAX);
	ob_date out = {(int32_t)year, (int32_t)(ob_floor_mod(months, 12) + 1), d.day};
	const int32_t len = ob_days_in_month(out.year, out.month);
	if (out.day > len)
		out.day = len;
	if (out.day < 1)
		out.day = 1;
	return out;
}

int ob_weekday(ob_date d)
{
	/* 1970-01-01 was a Thursday (4). */
	return (int)ob_floor_mod(ob_days_from_civil(d) + 3, 7) + 1;
}

static bool read_digits(const char *s, int n, int32_t *out)
{
	int32_t v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Parses the 10-character "YYYY-MM-DD" at the start of s; the caller checks what follows. */
static bool parse_date_prefix(const char *s, ob_date *out)
{
	ob_date d;
	if (!read_digits(s, 4, &d.year) || s[4] != '-' || !read_digits(s + 5, 2, &d.month) ||
	    s[7] != '-' || !read_digits(s + 8, 2, &d.day) || !ob_date_valid(d))
		return false;
	*out = d;
	return true;
}

bool ob_date_parse(const char *s, ob_date *out)
{
	assert(out != NULL);
	ob_date d;
	if (s == NULL || !parse_date_prefix(s, &d) || s[10] != '\0')
		return false;
	*out = d;
	return true;
}

/* Writes v, already within 0..10^n - 1, as exactly n digits. */
static char *put_digits(char *p, int32_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Writes "YYYY-MM-DD" without the NUL and returns the position after it. */
static char *put_date(char *p, ob_date d)
{
	p = put_digits(p, clamp32(d.year, 0, 9999), 4);
	*p++ = '-';
	p = put_digits(p, clamp32(d.month, 0, 99), 2);
	*p++ = '-';
	return put_digits(p, clamp32(d.day, 0, 99), 2);
}

void ob_date_format(ob_date d, char out[OB_DATE_STR_SIZE])
{
	*put_date(out, d) = '\0';
}

void ob_time_format_rfc3339(int64_t unix_ms, char out[OB_RFC3339_STR_SIZE])
{
	const int64_t ms = clamp64(unix_ms, OB_TIME_MS_MIN, OB_TIME_MS_MAX);
	const int64_t days = ob_floor_div(ms, MS_PER_DAY);
	/* After the clamp, ms_of_day lies in [0, 86399999] and every field below fits int32_t. */
	const int32_t ms_of_day = (int32_t)(ms - days * MS_PER_DAY);
	const int32_t secs = ms_of_day / 1000;

	char *p = put_date(out, ob_civil_from_days(days));
	*p++ = 'T';
	p = put_digits(p, secs / SECS_PER_HOUR, 2);
	*p++ = ':';
	p = put_digits(p, secs % SECS_PER_HOUR / SECS_PER_MIN, 2);
	*p++ = ':';
	p = put_digits(p, secs % SECS_PER_MIN, 2);
	*p++ = '.';
	p = put_digits(p, ms_of_day % 1000, 3);
	*p++ = 'Z';
	*p = '\0';
}

/* Parses "HH:MM" with HH 00..23 and MM 00..59 into seconds; used for times and offsets alike. */
static bool parse_hh_mm(const char *s, int32_t *secs)
{
	int32_t h, m;
	if (!read_digits(s, 2, &h) || s[2] != ':' || !read_digits(s + 3, 2, &m) || h > 23 || m > 59)
		return false;
	*secs = h * SECS_PER_HOUR + m * SECS_PER_MIN;
	return true;
}

bool ob_time_parse_rfc3339(const char *s, int64_t *unix_ms)
{
	assert(unix_ms != NULL);
	ob_date d;
	if (s == NULL || !parse_date_prefix(s, &d))
		return false;
	const int64_t day_ms = ob_days_from_civil(d) * MS_PER_DAY;
	const char *p = s + 10;
	if (*p == '\0') {
		*unix_ms = day_ms;
		return true;
	}

	int32_t hm, sec;
	if ((*p != 'T' && *p != 't') || !parse_hh_mm(p + 1, &hm) || p[6] != ':' ||
	    !read_digits(p + 7, 2, &sec) || sec > 59)
		return false;
	p += 9;

	/* Digits past the third get weight 0: truncation, as the header promises. */
	int32_t frac_ms = 0;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		for (int32_t weight = 100; *p >= '0' && *p <= '9'; p++, weight /= 10)
			frac_ms += weight * (*p - '0');
	}

	int32_t offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (!parse_hh_mm(p + 1, &offset))
			return false;
		if (*p == '-')
			offset = -offset;
		p += 6;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;

	/* The offset is local minus UTC, hence subtracted. */
	*unix_ms = day_ms + (int64_t)(hm + sec - offset) * MS_PER_SEC + frac_ms;
	return true;
}
