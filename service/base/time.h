/*
 * time.h: civil dates and RFC 3339 timestamps, in UTC.
 *
 * Pure arithmetic: no allocation, no global state, no libc time zone machinery (TZ, localtime,
 * mktime, setenv). Every function is therefore thread-safe and reentrant. Time zones are not
 * here: the programme's Europe/Paris rule is in domain/calendar.h, which builds on this.
 *
 * Conventions shared by the whole module:
 *  - Dates are proleptic Gregorian; year 0 exists (it is 1 BC) and negative years are allowed.
 *  - "Days" count from 1970-01-01 (day 0); "unix seconds/milliseconds" ignore leap seconds, as
 *    POSIX time does.
 *  - No function has undefined behaviour for any argument value. Arguments outside the
 *    documented domain give a documented, if meaningless, result rather than an abort: a value a
 *    peer sent must never crash the service.
 *  - Parsers write their out-parameter only on success.
 */
#ifndef OB_BASE_TIME_H
#define OB_BASE_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* A civil (proleptic Gregorian) date. Valid when month is 1..12 and day is 1..length of month;
 * ob_date_valid() checks exactly that. */
typedef struct {
	int32_t year;
	int32_t month; /* 1..12 */
	int32_t day;   /* 1..31 */
} ob_date;

/* Buffer sizes, terminating NUL included, for ob_date_format and ob_time_format_rfc3339. */
#define OB_DATE_STR_SIZE    11
#define OB_RFC3339_STR_SIZE 32

/* Day numbers of {INT32_MIN, 1, 1} and {INT32_MAX, 12, 31}: every day an ob_date can name.
 * ob_civil_from_days saturates to this range. */
#define OB_DAYS_MIN INT64_C(-784353015833)
#define OB_DAYS_MAX INT64_C(784351576776)

/* The instants that ob_time_format_rfc3339 can write with a four-digit year:
 * 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, in unix milliseconds. */
#define OB_TIME_MS_MIN INT64_C(-62167219200000)
#define OB_TIME_MS_MAX INT64_C(253402300799999)

/* True for Gregorian leap years: divisible by 4, except centuries not divisible by 400. */
bool ob_is_leap_year(int32_t year);

/* Number of days in the month (28..31), or 0 when month is not 1..12. */
int32_t ob_days_in_month(int32_t year, int32_t month);

/* True when d names a real calendar day (month 1..12, day within that month). */
bool ob_date_valid(ob_date d);

/* Orders two dates field by field (year, then month, then day): negative, 0 or positive like
 * strcmp. For valid dates that is chronological order. */
int ob_date_cmp(ob_date a, ob_date b);

/*
 * Days since 1970-01-01 (Howard Hinnant's days_from_civil; O(1), no loops or tables).
 * Out-of-range fields are normalised linearly instead of rejected, which makes the function
 * usable for date arithmetic: month 13 is January of the next year, month 0 December of the
 * previous one, day 0 the last day of the previous month, {2021, 1, 32} is 2021-02-01.
 * Defined for every int32_t field value.
 */
int64_t ob_days_from_civil(ob_date d);

/* Inverse of ob_days_from_civil: the date `days` days after 1970-01-01, always valid.
 * days is saturated to [OB_DAYS_MIN, OB_DAYS_MAX] so that the year fits in int32_t. */
ob_date ob_civil_from_days(int64_t days);

/* The date n days after d (before it for a negative n); d is normalised first as in
 * ob_days_from_civil. Saturates as ob_civil_from_days. */
ob_date ob_date_add_days(ob_date d, int64_t n);

/* The same day of the month n months after d (before it for a negative n), clamped to the
 * length of the month it lands in: 2020-12-15 + 3 = 2021-03-15, 2020-11-30 + 3 = 2021-02-28,
 * 2020-01-31 + 1 = 2020-02-29. d should be valid; a day beyond 31 is clamped the same way.
 * n is clamped to +/- 12 * 10^6 (a million years) so that the year cannot overflow. */
ob_date ob_date_add_months(ob_date d, int32_t n);

/* The ISO 8601 day of the week of d: 1 Monday .. 7 Sunday (d normalised as in
 * ob_days_from_civil). */
int ob_weekday(ob_date d);

/*
 * Parses exactly "YYYY-MM-DD" (four-digit year 0000..9999, ASCII digits, nothing before or
 * after) naming a real calendar day: "2020-02-29" passes, "2021-02-29" and "2020-02-30" do not.
 * Returns false for s == NULL. On failure *out is left untouched.
 */
OB_NODISCARD bool ob_date_parse(const char *s, ob_date *out);

/*
 * Writes d as "YYYY-MM-DD" plus NUL (always exactly 10 characters). d should be valid with a
 * year in 0..9999; otherwise each field is clamped to what its digits can hold (year 0..9999,
 * month and day 0..99) so the buffer can never overflow.
 */
void ob_date_format(ob_date d, char out[OB_DATE_STR_SIZE]);

/*
 * Writes an instant as RFC 3339 in UTC with millisecond precision, e.g.
 * "2020-11-02T09:00:00.000Z" (always 24 characters plus NUL; the buffer leaves room to spare).
 * unix_ms is clamped to [OB_TIME_MS_MIN, OB_TIME_MS_MAX] so the year keeps four digits and the
 * output always parses back with ob_time_parse_rfc3339.
 */
void ob_time_format_rfc3339(int64_t unix_ms, char out[OB_RFC3339_STR_SIZE]);

/*
 * Parses an RFC 3339 timestamp into unix milliseconds. Accepted, and nothing else:
 *   YYYY-MM-DD                                   midnight UTC of that date
 *   YYYY-MM-DD(T|t)HH:MM:SS[.F+](Z|z|+HH:MM|-HH:MM)
 * The date must be real, hours 00..23, minutes and seconds 00..59 (leap second 60 is refused:
 * unix time cannot represent it), offset hours 00..23 and minutes 00..59 ("-00:00" is UTC).
 * The fraction has one or more digits; digits past the millisecond are truncated, i.e. rounded
 * toward the past. No spaces, no trailing characters, no missing zone.
 * Returns false for s == NULL. On failure *unix_ms is left untouched.
 */
OB_NODISCARD bool ob_time_parse_rfc3339(const char *s, int64_t *unix_ms);

/* Division rounding toward negative infinity, and the matching remainder in [0, b); b > 0.
 * C's / and % truncate toward zero, which would put 1969-12-31T23:59:59 on day 0 instead of
 * day -1. */
int64_t ob_floor_div(int64_t a, int64_t b);
int64_t ob_floor_mod(int64_t a, int64_t b);

#endif /* OB_BASE_TIME_H */
