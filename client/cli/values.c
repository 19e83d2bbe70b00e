/*
 * The values of the command line (values.h). Digits are read by hand rather
 * than with strtoull or strtod, which accept signs, spaces, hexadecimal,
 * exponents, "inf" and "nan".
 */
#include <pwd.h>
#include <string.h>

#include "values.h"

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Reads the digits at *s (at least one) into *v, refusing a value over max;
 * moves *s past them. */
static bool read_digits(const char **s, uint64_t max, uint64_t *v)
{
	const char *p = *s;
	uint64_t n = 0;
	if (!is_digit(*p))
		return false;
	for (; is_digit(*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (n > (max - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*s = p;
	*v = n;
	return true;
}

bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	if (!read_digits(&s, max, &v) || *s != '\0' || v < min)
		return false;
	*out = v;
	return true;
}

bool cli_parse_duration_ms(const char *s, int64_t *ms)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
	const uint64_t max = (uint64_t)CLI_DURATION_MAX_MS;
	uint64_t whole, frac = 0, scale = 1;
	if (!read_digits(&s, UINT64_MAX, &whole))
		return false;
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return false;
		for (; is_digit(*s); s++) {
			if (scale == 1000000000) /* finer than a nanosecond of an hour */
				return false;
			frac = frac * 10 + (uint64_t)(*s - '0');
			scale *= 10;
		}
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].name) != 0)
			continue;
		uint64_t unit = units[i].ms;
		if (whole > max / unit)
			return false;
		/* frac < 10^9 and unit <= 3.6e6: the product fits. */
		if (frac * unit % scale != 0)
			return false; /* not a whole number of milliseconds */
		uint64_t total = whole * unit + frac * unit / scale;
		if (total < 1 || total > max)
			return false;
		*ms = (int64_t)total;
		return true;
	}
	return false;
}

bool cli_parse_euros(const char *s, int64_t *cents)
{
	uint64_t whole, frac = 0;
	if (!read_digits(&s, UINT64_C(10000000000000), &whole))
		return false;
	if (*s == '.' || *s == ',') {
		const char *f = ++s;
		if (!read_digits(&s, 99, &frac) || *s != '\0' || s - f > 2)
			return false;
		if (s - f == 1)
			frac *= 10;
	}
	if (*s != '\0')
		return false;
	*cents = (int64_t)(whole * 100 + frac);
	return true;
}

bool cli_parse_hhmm(const char *s, uint32_t *hour, uint32_t *minute)
{
	if (strlen(s) != 5 || s[2] != ':')
		return false;
	char hh[3] = {s[0], s[1], '\0'};
	uint64_t h, m;
	if (!cli_parse_u64(hh, 0, 23, &h) || !cli_parse_u64(s + 3, 0, 59, &m))
		return false;
	*hour = (uint32_t)h;
	*minute = (uint32_t)m;
	return true;
}

bool cli_parse_uid(const char *s, uint32_t *uid)
{
	uint64_t v;
	if (cli_parse_u64(s, 0, UINT64_MAX, &v)) { /* digits only: a uid, never a name */
		if (v >= UINT32_MAX)
			return false;
		*uid = (uint32_t)v;
		return true;
	}
	const struct passwd *pw = getpwnam(s);
	if (pw == NULL)
		return false;
	*uid = (uint32_t)pw->pw_uid;
	return true;
}
