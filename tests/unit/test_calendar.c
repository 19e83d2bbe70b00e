/*
 * test_calendar.c: unit tests for service/base/time.c (civil dates, RFC 3339) and
 * service/domain/calendar.c (Paris time).
 *
 * Expected instants are written as literals where a test pins a documented fact (taken from
 * Python's datetime and the IANA tzdata), and built with ob_days_from_civil only once that
 * function has been pinned by the first tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/calendar.h"

/* Unix seconds of a UTC civil time, for readable expectations. */
static int64_t utc(int32_t y, int32_t mo, int32_t d, int h, int mi, int s)
{
	ob_date date = {y, mo, d};
	return ob_days_from_civil(date) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + s;
}

static void assert_date(ob_date got, int32_t y, int32_t m, int32_t d)
{
	assert_int_equal(got.year, y);
	assert_int_equal(got.month, m);
	assert_int_equal(got.day, d);
}

static ob_date mkdate(int32_t y, int32_t m, int32_t d)
{
	ob_date date = {y, m, d};
	return date;
}

/* ---- days <-> civil ---------------------------------------------------------------------- */

/* The epoch and a few independently known day numbers anchor everything else. */
static void test_days_known_values(void **state)
{
	(void)state;
	assert_int_equal(ob_days_from_civil(mkdate(1970, 1, 1)), 0);
	assert_int_equal(ob_days_from_civil(mkdate(1969, 12, 31)), -1);
	assert_int_equal(ob_days_from_civil(mkdate(2000, 3, 1)), 11017);
	assert_int_equal(ob_days_from_civil(mkdate(0, 1, 1)), -719528);
	assert_int_equal(ob_days_from_civil(mkdate(9999, 12, 31)), 2932896);
	assert_int_equal(utc(2020, 11, 2, 9, 0, 0), 1604307600);
	assert_date(ob_civil_from_days(0), 1970, 1, 1);
	assert_date(ob_civil_from_days(-1), 1969, 12, 31);
	assert_date(ob_civil_from_days(11017), 2000, 3, 1);
}

/* Every day over ~11000 years maps to a valid date, back to itself, and steps by one day. */
static void test_days_round_trip_wide_range(void **state)
{
	(void)state;
	ob_date prev = ob_civil_from_days(-2000000 - 1);
	for (int64_t days = -2000000; days <= 2000000; days++) {
		ob_date d = ob_civil_from_days(days);
		assert_true(ob_date_valid(d));
		assert_int_equal(ob_days_from_civil(d), days);
		assert_true(ob_date_cmp(prev, d) < 0);
		if (d.day != 1) {
			assert_int_equal(d.day, prev.day + 1);
		} else {
			assert_int_equal(prev.day, ob_days_in_month(prev.year, prev.month));
		}
		prev = d;
	}
}

/* 2000 is a leap year (divisible by 400), 2100 and 1900 are not, 2024 is, 2023 is not. */
static void test_leap_years(void **state)
{
	(void)state;
	assert_true(ob_is_leap_year(2000));
	assert_false(ob_is_leap_year(2100));
	assert_false(ob_is_leap_year(1900));
	assert_true(ob_is_leap_year(2024));
	assert_false(ob_is_leap_year(2023));
	assert_true(ob_is_leap_year(0));
	assert_true(ob_is_leap_year(-4));
	assert_true(ob_date_valid(mkdate(2000, 2, 29)));
	assert_false(ob_date_valid(mkdate(2100, 2, 29)));
	assert_int_equal(ob_days_from_civil(mkdate(2000, 3, 1)) -
	                         ob_days_from_civil(mkdate(2000, 2, 28)),
	                 2);
	assert_int_equal(ob_days_from_civil(mkdate(2100, 3, 1)) -
	                         ob_days_from_civil(mkdate(2100, 2, 28)),
	                 1);
	assert_date(ob_civil_from_days(ob_days_from_civil(mkdate(2000, 2, 28)) + 1), 2000, 2, 29);
	assert_date(ob_civil_from_days(ob_days_from_civil(mkdate(2100, 2, 28)) + 1), 2100, 3, 1);
	assert_int_equal(ob_days_in_month(2100, 2), 28);
	assert_int_equal(ob_days_in_month(2000, 2), 29);
	assert_int_equal(ob_days_in_month(2021, 13), 0);
	assert_int_equal(ob_days_in_month(2021, 0), 0);
}

/* Out-of-range fields normalise linearly, which callers use for date arithmetic. */
static void test_days_normalise(void **state)
{
	(void)state;
	const int64_t jan1 = ob_days_from_civil(mkdate(2021, 1, 1));
	assert_int_equal(ob_days_from_civil(mkdate(2020, 13, 1)), jan1);
	assert_int_equal(ob_days_from_civil(mkdate(2021, 0, 1)),
	                 ob_days_from_civil(mkdate(2020, 12, 1)));
	assert_int_equal(ob_days_from_civil(mkdate(2021, -11, 1)),
	                 ob_days_from_civil(mkdate(2020, 1, 1)));
	assert_int_equal(ob_days_from_civil(mkdate(2021, 25, 1)),
	                 ob_days_from_civil(mkdate(2023, 1, 1)));
	assert_int_equal(ob_days_from_civil(mkdate(2021, 1, 0)), jan1 - 1);
	assert_int_equal(ob_days_from_civil(mkdate(2021, 1, 32)),
	                 ob_days_from_civil(mkdate(2021, 2, 1)));
}

/* The int32 extremes stay exact and anything beyond saturates instead of overflowing. */
static void test_days_extremes(void **state)
{
	(void)state;
	assert_int_equal(ob_days_from_civil(mkdate(INT32_MIN, 1, 1)), OB_DAYS_MIN);
	assert_int_equal(ob_days_from_civil(mkdate(INT32_MAX, 12, 31)), OB_DAYS_MAX);
	assert_date(ob_civil_from_days(OB_DAYS_MIN), INT32_MIN, 1, 1);
	assert_date(ob_civil_from_days(OB_DAYS_MAX), INT32_MAX, 12, 31);
	assert_date(ob_civil_from_days(INT64_MIN), INT32_MIN, 1, 1);
	assert_date(ob_civil_from_days(INT64_MAX), INT32_MAX, 12, 31);
	/* Defined for any field values, even absurd ones (checked by UBSan in the sanitizer run).
	 */
	(void)ob_days_from_civil(mkdate(INT32_MIN, INT32_MIN, INT32_MIN));
	(void)ob_days_from_civil(mkdate(INT32_MAX, INT32_MAX, INT32_MAX));
}

/* Comparison is chronological for valid dates, field by field. */
static void test_date_cmp(void **state)
{
	(void)state;
	assert_true(ob_date_cmp(mkdate(2020, 12, 31), mkdate(2021, 1, 1)) < 0);
	assert_true(ob_date_cmp(mkdate(2021, 2, 1), mkdate(2021, 1, 31)) > 0);
	assert_true(ob_date_cmp(mkdate(2021, 1, 2), mkdate(2021, 1, 1)) > 0);
	assert_int_equal(ob_date_cmp(mkdate(2021, 1, 1), mkdate(2021, 1, 1)), 0);
}

/* ---- YYYY-MM-DD ---------------------------------------------------------------------------- */

/* Real dates parse, including leap days of leap years and the four-digit extremes. */
static void test_date_parse_accepts(void **state)
{
	(void)state;
	ob_date d;
	assert_true(ob_date_parse("2020-11-20", &d));
	assert_date(d, 2020, 11, 20);
	assert_true(ob_date_parse("2020-02-29", &d));
	assert_date(d, 2020, 2, 29);
	assert_true(ob_date_parse("2000-02-29", &d));
	assert_true(ob_date_parse("0000-01-01", &d));
	assert_date(d, 0, 1, 1);
	assert_true(ob_date_parse("9999-12-31", &d));
	assert_date(d, 9999, 12, 31);
}

/* Impossible dates and anything but exactly YYYY-MM-DD are refused, leaving *out untouched. */
static void test_date_parse_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "2020-02-30",  "2021-02-29", "2100-02-29",           "2020-04-31",
	        "2020-13-01",  "2020-00-10", "2020-01-00",           "2020-1-01",
	        "2020-01-1",   "20-01-01",   "2020-01-01x",          " 2020-01-01",
	        "+2020-01-01", "2020/01/01", "2020-01-01T00:00:00Z", "",
	        "2020-0a-01",  "-020-01-01",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ob_date d = {7, 7, 7};
		assert_false(ob_date_parse(bad[i], &d));
		assert_date(d, 7, 7, 7);
	}
	ob_date d;
	assert_false(ob_date_parse(NULL, &d));
}

/* Formatting zero-pads, round-trips through the parser, and never overflows on junk. */
static void test_date_format(void **state)
{
	(void)state;
	char buf[OB_DATE_STR_SIZE];
	ob_date_format(mkdate(2020, 11, 2), buf);
	assert_string_equal(buf, "2020-11-02");
	ob_date_format(mkdate(5, 3, 7), buf);
	assert_string_equal(buf, "0005-03-07");
	ob_date_format(mkdate(-5, 300, -1), buf);
	assert_string_equal(buf, "0000-99-00");
	ob_date_format(mkdate(123456, 1, 1), buf);
	assert_string_equal(buf, "9999-01-01");

	for (int64_t days = -719528; days <= 2932896; days += 97) {
		ob_date in = ob_civil_from_days(days), out;
		ob_date_format(in, buf);
		assert_true(ob_date_parse(buf, &out));
		assert_int_equal(ob_date_cmp(in, out), 0);
	}
}

/* ---- RFC 3339 ------------------------------------------------------------------------------ */

/* The format is fixed: UTC, milliseconds, 'Z'; times before 1970 are floored, not truncated. */
static void test_rfc3339_format(void **state)
{
	(void)state;
	char buf[OB_RFC3339_STR_SIZE];
	ob_time_format_rfc3339(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	ob_time_format_rfc3339(INT64_C(1604307600000), buf);
	assert_string_equal(buf, "2020-11-02T09:00:00.000Z");
	ob_time_format_rfc3339(INT64_C(1604307600042), buf);
	assert_string_equal(buf, "2020-11-02T09:00:00.042Z");
	ob_time_format_rfc3339(-1, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	ob_time_format_rfc3339(INT64_C(951868799999), buf);
	assert_string_equal(buf, "2000-02-29T23:59:59.999Z");
}

/* Instants outside years 0000..9999 clamp so the output keeps its shape and still parses. */
static void test_rfc3339_format_clamps(void **state)
{
	(void)state;
	char buf[OB_RFC3339_STR_SIZE];
	ob_time_format_rfc3339(INT64_MAX, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
	ob_time_format_rfc3339(OB_TIME_MS_MAX, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
	ob_time_format_rfc3339(INT64_MIN, buf);
	assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
	ob_time_format_rfc3339(OB_TIME_MS_MIN, buf);
	assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
}

/* format then parse is the identity over the whole four-digit-year range. */
static void test_rfc3339_round_trip(void **state)
{
	(void)state;
	char buf[OB_RFC3339_STR_SIZE];
	const int64_t step = INT64_C(3155760000007) / 100000; /* odd step: varied ms and seconds */
	for (int64_t ms = OB_TIME_MS_MIN; ms <= OB_TIME_MS_MAX - step; ms += step) {
		int64_t back = -1;
		ob_time_format_rfc3339(ms, buf);
		assert_int_equal(strlen(buf), 24);
		assert_true(ob_time_parse_rfc3339(buf, &back));
		assert_int_equal(back, ms);
	}
	int64_t back = 0;
	ob_time_format_rfc3339(OB_TIME_MS_MAX, buf);
	assert_true(ob_time_parse_rfc3339(buf, &back));
	assert_int_equal(back, OB_TIME_MS_MAX);
}

/* Numeric offsets are local minus UTC; case of T/Z does not matter; -00:00 means UTC. */
static void test_rfc3339_offsets(void **state)
{
	(void)state;
	static const char *const same[] = {
	        "2020-11-02T09:00:00Z",      "2020-11-02t09:00:00z",
	        "2020-11-02T10:00:00+01:00", "2020-11-02T04:00:00-05:00",
	        "2020-11-02T09:00:00-00:00", "2020-11-02T09:00:00+00:00",
	        "2020-11-03T08:59:00+23:59", "2020-11-01T09:01:00-23:59",
	        "2020-11-02T14:30:00+05:30",
	};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		int64_t ms = 0;
		assert_true(ob_time_parse_rfc3339(same[i], &ms));
		assert_int_equal(ms, INT64_C(1604307600000));
	}
}

/* Fractions of any length keep milliseconds; extra digits truncate, short ones scale. */
static void test_rfc3339_fractions(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t ms;
	} cases[] = {
	        {"2020-11-02T09:00:00.5Z", 500},
	        {"2020-11-02T09:00:00.05Z", 50},
	        {"2020-11-02T09:00:00.123Z", 123},
	        {"2020-11-02T09:00:00.123456789Z", 123},
	        {"2020-11-02T09:00:00.999999999999999999999Z", 999},
	        {"2020-11-02T09:00:00.000+00:00", 0},
	        {"2020-11-02T10:00:00.250+01:00", 250},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t ms = 0;
		assert_true(ob_time_parse_rfc3339(cases[i].s, &ms));
		assert_int_equal(ms, INT64_C(1604307600000) + cases[i].ms);
	}
	/* Before the epoch the fraction still moves forward in time. */
	int64_t ms = 0;
	assert_true(ob_time_parse_rfc3339("1969-12-31T23:59:59.5Z", &ms));
	assert_int_equal(ms, -500);
}

/* A bare date is midnight UTC of that day. */
static void test_rfc3339_bare_date(void **state)
{
	(void)state;
	int64_t ms = 0;
	assert_true(ob_time_parse_rfc3339("2020-11-02", &ms));
	assert_int_equal(ms, INT64_C(1604275200000));
	assert_true(ob_time_parse_rfc3339("1969-12-31", &ms));
	assert_int_equal(ms, -86400000);
}

/* Strictness: bad ranges, missing parts, extra characters; *unix_ms stays untouched. */
static void test_rfc3339_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "2020-02-30T00:00:00Z",       /* no such day */
	        "2020-11-02T25:00:00Z",       /* hour out of range */
	        "2020-11-02T24:00:00Z",       /* 24:00 is not accepted either */
	        "2020-11-02T09:60:00Z",       /* minute out of range */
	        "2020-11-02T09:00:60Z",       /* leap second: unix time cannot hold it */
	        "2020-11-02T09:00:00Zx",      /* trailing junk */
	        "2020-11-02T09:00:00Z ",      /* trailing space */
	        "2020-11-02x",                /* junk after a bare date */
	        "2020-11-02T09:00:00",        /* missing Z */
	        "2020-11-02T09:00:00.5",      /* missing Z after a fraction */
	        "2020-11-02 09:00:00Z",       /* space separator */
	        "2020-11-02T09:00Z",          /* no seconds */
	        "2020-11-02T9:00:00Z",        /* one-digit hour */
	        "2020-11-02T09:00:00.Z",      /* empty fraction */
	        "2020-11-02T09:00:00,5Z",     /* comma fraction */
	        "2020-11-02T09:00:00+24:00",  /* offset hour out of range */
	        "2020-11-02T09:00:00+01:60",  /* offset minute out of range */
	        "2020-11-02T09:00:00+0100",   /* offset without colon */
	        "2020-11-02T09:00:00+01",     /* truncated offset */
	        "2020-11-02T09:00:00+01:00Z", /* two zones */
	        "2020-11-02T",                /* nothing after T */
	        "2020-11-02T09:00:00UTC",     /* named zone */
	        "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms = 42;
		assert_false(ob_time_parse_rfc3339(bad[i], &ms));
		assert_int_equal(ms, 42);
	}
	int64_t ms = 42;
	assert_false(ob_time_parse_rfc3339(NULL, &ms));
	assert_int_equal(ms, 42);
}

/* ---- Europe/Paris -------------------------------------------------------------------------- */

/* The offset on either side of the two switches of the 2020-2021 winter, to the second. */
static void test_paris_offset_switches(void **state)
{
	(void)state;
	const int64_t autumn = 1603587600, spring = 1616893200;
	assert_int_equal(utc(2020, 10, 25, 1, 0, 0), autumn);
	assert_int_equal(utc(2021, 3, 28, 1, 0, 0), spring);
	const struct {
		int64_t t;
		int32_t offset;
	} cases[] = {
	        /* 2020-10-25 01:00 UTC: clocks go back from CEST to CET at that exact second. */
	        {autumn - 3600, 7200},
	        {autumn - 1, 7200},
	        {autumn, 3600},
	        {autumn + 3600, 3600},
	        {utc(2020, 7, 14, 12, 0, 0), 7200},
	        {utc(2020, 12, 31, 23, 59, 59), 3600},
	        /* 2021-03-28 01:00 UTC: clocks go forward from CET to CEST at that exact second. */
	        {spring - 3600, 3600},
	        {spring - 1, 3600},
	        {spring, 7200},
	        {spring + 3600, 7200},
	        {utc(2021, 1, 1, 0, 0, 0), 3600},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(ob_paris_utc_offset(cases[i].t), cases[i].offset);
}

/* The rule matches the IANA tzdata transitions for every year 1996..2037, including years whose
 * last Sunday is the 31st (2024-03-31) or the 25th (2020-10-25). Table from Python zoneinfo. */
static void test_paris_offset_matches_tzdata(void **state)
{
	(void)state;
	static const int64_t tr[][2] = {
	        {828234000, 846378000},   {859683600, 877827600},   {891133200, 909277200},
	        {922582800, 941331600},   {954032400, 972781200},   {985482000, 1004230800},
	        {1017536400, 1035680400}, {1048986000, 1067130000}, {1080435600, 1099184400},
	        {1111885200, 1130634000}, {1143334800, 1162083600}, {1174784400, 1193533200},
	        {1206838800, 1224982800}, {1238288400, 1256432400}, {1269738000, 1288486800},
	        {1301187600, 1319936400}, {1332637200, 1351386000}, {1364691600, 1382835600},
	        {1396141200, 1414285200}, {1427590800, 1445734800}, {1459040400, 1477789200},
	        {1490490000, 1509238800}, {1521939600, 1540688400}, {1553994000, 1572138000},
	        {1585443600, 1603587600}, {1616893200, 1635642000}, {1648342800, 1667091600},
	        {1679792400, 1698541200}, {1711846800, 1729990800}, {1743296400, 1761440400},
	        {1774746000, 1792890000}, {1806195600, 1824944400}, {1837645200, 1856394000},
	        {1869094800, 1887843600}, {1901149200, 1919293200}, {1932598800, 1950742800},
	        {1964048400, 1982797200}, {1995498000, 2014246800}, {2026947600, 2045696400},
	        {2058397200, 2077146000}, {2090451600, 2108595600}, {2121901200, 2140045200},
	};
	for (size_t i = 0; i < sizeof tr / sizeof tr[0]; i++) {
		assert_int_equal(ob_paris_utc_offset(tr[i][0] - 1), 3600);
		assert_int_equal(ob_paris_utc_offset(tr[i][0]), 7200);
		assert_int_equal(ob_paris_utc_offset(tr[i][1] - 1), 7200);
		assert_int_equal(ob_paris_utc_offset(tr[i][1]), 3600);
		/* Spring switch is on a Sunday: day + 4 (Thursday epoch) is a multiple of 7. */
		assert_int_equal((tr[i][0] / 86400 + 4) % 7, 0);
	}
	assert_int_equal(tr[28][0], 1711846800); /* 2024-03-31T01:00:00Z */
	/* Extreme instants do not overflow (UBSan checks this in the sanitizer run). */
	assert_int_equal(ob_paris_utc_offset(INT64_MAX), 3600);
	assert_int_equal(ob_paris_utc_offset(INT64_MIN), 3600);
}

/* Paris wall time to UTC: 10:00 is 09:00 UTC in winter and 08:00 UTC in summer. */
static void test_paris_to_unix(void **state)
{
	(void)state;
	assert_int_equal(ob_paris_to_unix(mkdate(2020, 11, 2), 10, 0), 1604307600);
	assert_int_equal(ob_paris_to_unix(mkdate(2021, 6, 1), 10, 0), utc(2021, 6, 1, 8, 0, 0));
	assert_int_equal(ob_paris_to_unix(mkdate(2021, 3, 28), 10, 0), utc(2021, 3, 28, 8, 0, 0));
	assert_int_equal(ob_paris_to_unix(mkdate(2020, 10, 25), 10, 0), utc(2020, 10, 25, 9, 0, 0));
	assert_int_equal(ob_paris_to_unix(mkdate(2020, 11, 2), 0, 0), utc(2020, 11, 1, 23, 0, 0));
	/* hour 24 normalises to the next midnight. */
	assert_int_equal(ob_paris_to_unix(mkdate(2020, 11, 2), 24, 0),
	                 ob_paris_to_unix(mkdate(2020, 11, 3), 0, 0));
}

/* Skipped March hour moves forward by the gap; repeated October hour takes its first pass. */
static void test_paris_to_unix_transitions(void **state)
{
	(void)state;
	/* 2021-03-28: 01:59 CET is followed by 03:00 CEST. */
	assert_int_equal(ob_paris_to_unix(mkdate(2021, 3, 28), 1, 59), utc(2021, 3, 28, 0, 59, 0));
	assert_int_equal(ob_paris_to_unix(mkdate(2021, 3, 28), 2, 0), utc(2021, 3, 28, 1, 0, 0));
	assert_int_equal(ob_paris_to_unix(mkdate(2021, 3, 28), 2, 30), utc(2021, 3, 28, 1, 30, 0));
	assert_int_equal(ob_paris_to_unix(mkdate(2021, 3, 28), 3, 0), utc(2021, 3, 28, 1, 0, 0));
	/* 2020-10-25: 02:00..02:59 happens in CEST (00:xx UTC) then in CET (01:xx UTC). */
	assert_int_equal(ob_paris_to_unix(mkdate(2020, 10, 25), 1, 59),
	                 utc(2020, 10, 24, 23, 59, 0));
	assert_int_equal(ob_paris_to_unix(mkdate(2020, 10, 25), 2, 30),
	                 utc(2020, 10, 25, 0, 30, 0));
	assert_int_equal(ob_paris_to_unix(mkdate(2020, 10, 25), 3, 0), utc(2020, 10, 25, 2, 0, 0));
}

/* The Paris date changes at Paris midnight, 23:00 or 22:00 UTC. */
static void test_paris_date(void **state)
{
	(void)state;
	assert_date(ob_paris_date(utc(2020, 11, 2, 22, 59, 59)), 2020, 11, 2);
	assert_date(ob_paris_date(utc(2020, 11, 2, 23, 0, 0)), 2020, 11, 3);
	assert_date(ob_paris_date(utc(2020, 6, 30, 21, 59, 59)), 2020, 6, 30);
	assert_date(ob_paris_date(utc(2020, 6, 30, 22, 0, 0)), 2020, 7, 1);
	assert_date(ob_paris_date(utc(2020, 12, 31, 23, 0, 0)), 2021, 1, 1);
	assert_date(ob_paris_date(-3600), 1970, 1, 1);
	assert_date(ob_paris_date(-3601), 1969, 12, 31);
	/* Near INT64_MAX the offset must not overflow the addition. */
	assert_date(ob_paris_date(INT64_MAX), INT32_MAX, 12, 31);
	assert_date(ob_paris_date(INT64_MIN), INT32_MIN, 1, 1);
}

/* ---- webinar sessions ---------------------------------------------------------------------- */

/* The session that ob_webinar_session(after, hour, minute, n) names, in three groups. */
static void test_webinar_sessions(void **state)
{
	(void)state;
	const int64_t s = utc(2020, 11, 2, 9, 0, 0);
	const int64_t spring = utc(2021, 3, 26, 10, 0, 0), autumn = utc(2020, 10, 23, 12, 0, 0);
	const struct {
		int64_t after;
		int hour, minute;
		uint32_t n;
		int64_t want;
	} cases[] = {
	        /* In winter the 10:00 session is 09:00 UTC; it is strictly after t, so 09:00
	         * itself rolls over. */
	        {utc(2020, 11, 2, 8, 0, 0), 10, 0, 0, s},
	        {s - 1, 10, 0, 0, s},
	        {s, 10, 0, 0, utc(2020, 11, 3, 9, 0, 0)},
	        {utc(2020, 11, 2, 22, 30, 0), 10, 0, 0, utc(2020, 11, 3, 9, 0, 0)},
	        {utc(2020, 11, 1, 23, 30, 0), 10, 0, 0, s},
	        /* On the DST days themselves the session follows the offset in force at 10:00
	         * Paris. */
	        {utc(2021, 3, 28, 0, 0, 0), 10, 0, 0, utc(2021, 3, 28, 8, 0, 0)},
	        {utc(2021, 3, 27, 0, 0, 0), 10, 0, 0, utc(2021, 3, 27, 9, 0, 0)},
	        {utc(2020, 10, 25, 0, 0, 0), 10, 0, 0, utc(2020, 10, 25, 9, 0, 0)},
	        {utc(2020, 10, 24, 0, 0, 0), 10, 0, 0, utc(2020, 10, 24, 8, 0, 0)},
	        /* A session inside the March gap (02:30) happens at 03:30 CEST. */
	        {utc(2021, 3, 27, 12, 0, 0), 2, 30, 0, utc(2021, 3, 28, 1, 30, 0)},
	        /* The n-th following session steps Paris days, so the UTC gap is 23 h or 25 h
	         * across DST. */
	        {spring, 10, 0, 0, utc(2021, 3, 27, 9, 0, 0)},
	        {spring, 10, 0, 1, utc(2021, 3, 28, 8, 0, 0)},
	        {spring, 10, 0, 2, utc(2021, 3, 29, 8, 0, 0)},
	        {autumn, 10, 0, 0, utc(2020, 10, 24, 8, 0, 0)},
	        {autumn, 10, 0, 1, utc(2020, 10, 25, 9, 0, 0)},
	        {autumn, 10, 0, 2, utc(2020, 10, 26, 9, 0, 0)},
	        /* A year of sessions from winter to winter crosses both changes. */
	        {utc(2020, 11, 2, 8, 0, 0), 10, 0, 365, utc(2021, 11, 2, 9, 0, 0)},
	        {utc(2020, 11, 2, 8, 0, 0), 10, 0, 180, utc(2021, 5, 1, 8, 0, 0)},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(ob_webinar_session(cases[i].after, cases[i].hour, cases[i].minute,
		                                    cases[i].n),
		                 cases[i].want);
}

/* Sweep two years: the session is the first 10:00 Paris strictly after t, and the next one
 * follows 23, 24 or 25 hours later. */
static void test_webinar_sweep(void **state)
{
	(void)state;
	for (int64_t t = utc(2020, 1, 1, 0, 0, 0); t < utc(2022, 1, 1, 0, 0, 0); t += 1013) {
		const int64_t s = ob_webinar_session(t, 10, 0, 0);
		assert_true(s > t);
		assert_int_equal((s + ob_paris_utc_offset(s)) % 86400, 36000);
		const ob_date day = ob_paris_date(s);
		const ob_date before = ob_civil_from_days(ob_days_from_civil(day) - 1);
		assert_true(ob_paris_to_unix(before, 10, 0) <= t);
		const int64_t gap = ob_webinar_session(t, 10, 0, 1) - s;
		assert_true(gap == 82800 || gap == 86400 || gap == 90000);
	}
}

/* Absurd inputs terminate quickly and do not overflow (UBSan checks the arithmetic). */
static void test_webinar_extremes(void **state)
{
	(void)state;
	(void)ob_webinar_session(INT64_MAX, 10, 0, UINT32_MAX);
	(void)ob_webinar_session(INT64_MIN, 10, 0, UINT32_MAX);
	(void)ob_webinar_session(0, INT32_MIN, INT32_MIN, 0);
	(void)ob_webinar_session(0, INT32_MAX, INT32_MAX, UINT32_MAX);
	/* hour 34 is 10:00 the next Paris day: the first such instant after t is still a 10:00. */
	assert_int_equal(ob_webinar_session(utc(2020, 11, 2, 8, 0, 0), 34, 0, 0),
	                 utc(2020, 11, 2, 9, 0, 0));
}

/* ---- monthly periods ----------------------------------------------------------------------- */

/* Periods started between two dates, as ob_months_started counts them. */
static void test_months_started(void **state)
{
	(void)state;
	static const struct {
		const char *from, *until;
		uint32_t months;
	} cases[] = {
	        /* The brief's example and its neighbours: a period counts from its first day on. */
	        {"2020-11-20", "2021-03-15", 4},
	        {"2020-11-20", "2021-03-19", 4},
	        {"2020-11-20", "2021-03-20", 5},
	        {"2020-11-20", "2020-11-20", 1},
	        {"2020-11-20", "2020-12-19", 1},
	        {"2020-11-20", "2020-12-20", 2},
	        {"2020-11-20", "2021-11-20", 13},
	        /* until before from means nothing has started. */
	        {"2021-03-16", "2021-03-15", 0},
	        {"2022-01-01", "2021-12-31", 0},
	        /* Day 31 clamps to short months but the anchor stays 31; Feb 29 anchors clamp to
	         * Feb 28. */
	        {"2021-01-31", "2021-02-27", 1},
	        {"2021-01-31", "2021-02-28", 2},
	        {"2021-01-31", "2021-03-30", 2},
	        {"2021-01-31", "2021-03-31", 3},
	        {"2021-01-31", "2021-04-30", 4},
	        {"2020-01-31", "2020-02-28", 1},
	        {"2020-01-31", "2020-02-29", 2},
	        {"2020-02-29", "2021-02-27", 12},
	        {"2020-02-29", "2021-02-28", 13},
	        {"2020-02-29", "2021-03-28", 13},
	        {"2020-02-29", "2021-03-29", 14},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ob_date f, u;
		assert_true(ob_date_parse(cases[i].from, &f));
		assert_true(ob_date_parse(cases[i].until, &u));
		assert_int_equal(ob_months_started(f, u), cases[i].months);
	}
}

/* Invalid dates count nothing and the span of all int32 years saturates. */
static void test_months_started_limits(void **state)
{
	(void)state;
	assert_int_equal(ob_months_started(mkdate(2021, 2, 30), mkdate(2022, 1, 1)), 0);
	assert_int_equal(ob_months_started(mkdate(2021, 1, 1), mkdate(2022, 13, 1)), 0);
	assert_int_equal(ob_months_started(mkdate(INT32_MIN, 1, 1), mkdate(INT32_MAX, 12, 31)),
	                 UINT32_MAX);
}

/* Cross-check against the definition, walking period starts one month at a time. */
static void test_months_started_brute_force(void **state)
{
	(void)state;
	for (int64_t f = ob_days_from_civil(mkdate(2019, 12, 1));
	     f < ob_days_from_civil(mkdate(2020, 4, 1)); f++) {
		const ob_date from = ob_civil_from_days(f);
		for (int64_t u = f - 3; u < f + 800; u += 7) {
			const ob_date until = ob_civil_from_days(u);
			uint32_t expect = 0;
			for (int32_t k = 0;; k++) {
				const int32_t y = from.year + (from.month - 1 + k) / 12;
				const int32_t m = (from.month - 1 + k) % 12 + 1;
				const int32_t len = ob_days_in_month(y, m);
				const ob_date start = {y, m, from.day < len ? from.day : len};
				if (ob_date_cmp(start, until) > 0)
					break;
				expect++;
			}
			assert_int_equal(ob_months_started(from, until), expect);
		}
	}
}

/* ---- weekdays, months, Easter and public holidays (issue 10) ------------------------------ */

/* Weekdays of days looked up on a calendar. */
static void test_weekday(void **state)
{
	(void)state;
	assert_int_equal(ob_weekday(mkdate(1970, 1, 1)), 4);   /* Thursday */
	assert_int_equal(ob_weekday(mkdate(2000, 2, 29)), 2);  /* Tuesday */
	assert_int_equal(ob_weekday(mkdate(2020, 11, 20)), 5); /* Friday */
	assert_int_equal(ob_weekday(mkdate(2020, 11, 21)), 6); /* Saturday */
	assert_int_equal(ob_weekday(mkdate(2020, 11, 22)), 7); /* Sunday */
	assert_int_equal(ob_weekday(mkdate(2020, 11, 23)), 1); /* Monday */
	assert_int_equal(ob_weekday(mkdate(1969, 12, 29)), 1); /* Monday, before day 0 */
	/* Seven days apart, the same weekday; one apart, the next. */
	for (int64_t d = -800; d < 800; d++) {
		int w = ob_weekday(ob_civil_from_days(d));
		assert_true(w >= 1 && w <= 7);
		assert_int_equal(ob_weekday(ob_civil_from_days(d + 7)), w);
		assert_int_equal(ob_weekday(ob_civil_from_days(d + 1)), w % 7 + 1);
	}
}

/* Months added keep the day, clamped to the month they land in; days carry over years. */
static void test_date_add_months_and_days(void **state)
{
	(void)state;
	assert_date(ob_date_add_months(mkdate(2020, 12, 15), 3), 2021, 3, 15); /* the waiver */
	assert_date(ob_date_add_months(mkdate(2020, 11, 30), 3), 2021, 2, 28);
	assert_date(ob_date_add_months(mkdate(2020, 1, 31), 1), 2020, 2, 29);
	assert_date(ob_date_add_months(mkdate(2021, 1, 31), 1), 2021, 2, 28);
	assert_date(ob_date_add_months(mkdate(2020, 3, 31), -1), 2020, 2, 29);
	assert_date(ob_date_add_months(mkdate(2020, 1, 15), -13), 2018, 12, 15);
	assert_date(ob_date_add_months(mkdate(2020, 5, 10), 0), 2020, 5, 10);
	assert_true(ob_date_valid(ob_date_add_months(mkdate(2020, 1, 31), INT32_MAX)));
	assert_true(ob_date_valid(ob_date_add_months(mkdate(2020, 1, 31), INT32_MIN)));
	assert_true(ob_date_valid(ob_date_add_months((ob_date){INT32_MAX, 12, 31}, 12)));
	assert_true(ob_date_valid(ob_date_add_months((ob_date){2020, INT32_MIN, 1}, 1)));

	assert_date(ob_date_add_days(mkdate(2020, 12, 15), 1), 2020, 12, 16);
	assert_date(ob_date_add_days(mkdate(2020, 12, 31), 1), 2021, 1, 1);
	assert_date(ob_date_add_days(mkdate(2021, 3, 1), -1), 2021, 2, 28);
	assert_date(ob_date_add_days(mkdate(2020, 2, 28), 366), 2021, 2, 28);
	assert_true(ob_date_valid(ob_date_add_days(mkdate(2020, 1, 1), INT64_MAX)));
	assert_true(ob_date_valid(ob_date_add_days(mkdate(2020, 1, 1), INT64_MIN)));
}

/* Easter Sundays as the calendars give them, the earliest and latest possible included. */
static void test_easter_sunday(void **state)
{
	(void)state;
	static const int32_t known[][3] = {
	        {2019, 4, 21}, {2020, 4, 12}, {2021, 4, 4},  {2024, 3, 31},
	        {2000, 4, 23}, {1818, 3, 22}, {2285, 3, 22}, {2038, 4, 25},
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_date(ob_easter_sunday(known[i][0]), known[i][0], known[i][1], known[i][2]);
	/* Always a Sunday between 22 March and 25 April. */
	for (int32_t y = 1583; y <= 3000; y++) {
		ob_date e = ob_easter_sunday(y);
		assert_int_equal(ob_weekday(e), 7);
		assert_true(ob_date_cmp(e, mkdate(y, 3, 22)) >= 0);
		assert_true(ob_date_cmp(e, mkdate(y, 4, 25)) <= 0);
	}
	assert_true(ob_date_valid(ob_easter_sunday(INT32_MIN)));
	assert_true(ob_date_valid(ob_easter_sunday(INT32_MAX)));
}

/* The eleven public holidays of 2020 and of 2021, as service-public.fr lists them, and no
 * other day of those years. */
static void test_public_holidays(void **state)
{
	(void)state;
	static const int32_t holidays[][3] = {
	        {2020, 1, 1},   {2020, 4, 13},  {2020, 5, 1},  {2020, 5, 8},  {2020, 5, 21},
	        {2020, 6, 1},   {2020, 7, 14},  {2020, 8, 15}, {2020, 11, 1}, {2020, 11, 11},
	        {2020, 12, 25}, {2021, 1, 1},   {2021, 4, 5},  {2021, 5, 1},  {2021, 5, 8},
	        {2021, 5, 13},  {2021, 5, 24},  {2021, 7, 14}, {2021, 8, 15}, {2021, 11, 1},
	        {2021, 11, 11}, {2021, 12, 25},
	};
	const size_t n = sizeof(holidays) / sizeof(holidays[0]);
	size_t found = 0;
	for (int64_t d = ob_days_from_civil(mkdate(2020, 1, 1));
	     d <= ob_days_from_civil(mkdate(2021, 12, 31)); d++) {
		ob_date day = ob_civil_from_days(d);
		bool listed = false;
		for (size_t i = 0; i < n; i++)
			listed |= day.year == holidays[i][0] && day.month == holidays[i][1] &&
			          day.day == holidays[i][2];
		if (ob_public_holiday(day) != listed)
			fail_msg("%d-%02d-%02d: holiday %d, want %d", day.year, day.month, day.day,
			         ob_public_holiday(day), listed);
		found += listed;
	}
	assert_int_equal(found, n);
	/* Alsace-Moselle's are not metropolitan France's. */
	assert_false(ob_public_holiday(mkdate(2021, 4, 2))); /* Good Friday */
	assert_false(ob_public_holiday(mkdate(2020, 12, 26)));
	assert_false(ob_public_holiday((ob_date){2020, 2, 30}));
}

/* Sessions on business days; weekends and holidays when the cohort says so. */
static void test_session_days(void **state)
{
	(void)state;
	const ob_date friday = mkdate(2020, 11, 20), saturday = mkdate(2020, 11, 21);
	const ob_date armistice = mkdate(2020, 11, 11); /* a Wednesday */
	const ob_date all_saints = mkdate(2020, 11, 1); /* a Sunday */
	assert_true(ob_session_day(friday, false, false));
	assert_false(ob_session_day(saturday, false, false));
	assert_true(ob_session_day(saturday, true, false));
	assert_false(ob_session_day(armistice, true, false));
	assert_true(ob_session_day(armistice, false, true));
	assert_false(ob_session_day(all_saints, true, false));
	assert_false(ob_session_day(all_saints, false, true));
	assert_true(ob_session_day(all_saints, true, true));
	assert_false(ob_session_day((ob_date){2020, 13, 1}, true, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_days_known_values),
	        cmocka_unit_test(test_days_round_trip_wide_range),
	        cmocka_unit_test(test_leap_years),
	        cmocka_unit_test(test_days_normalise),
	        cmocka_unit_test(test_days_extremes),
	        cmocka_unit_test(test_date_cmp),
	        cmocka_unit_test(test_date_parse_accepts),
	        cmocka_unit_test(test_date_parse_rejects),
	        cmocka_unit_test(test_date_format),
	        cmocka_unit_test(test_rfc3339_format),
	        cmocka_unit_test(test_rfc3339_format_clamps),
	        cmocka_unit_test(test_rfc3339_round_trip),
	        cmocka_unit_test(test_rfc3339_offsets),
	        cmocka_unit_test(test_rfc3339_fractions),
	        cmocka_unit_test(test_rfc3339_bare_date),
	        cmocka_unit_test(test_rfc3339_rejects),
	        cmocka_unit_test(test_paris_offset_switches),
	        cmocka_unit_test(test_paris_offset_matches_tzdata),
	        cmocka_unit_test(test_paris_to_unix),
	        cmocka_unit_test(test_paris_to_unix_transitions),
	        cmocka_unit_test(test_paris_date),
	        cmocka_unit_test(test_webinar_sessions),
	        cmocka_unit_test(test_webinar_sweep),
	        cmocka_unit_test(test_webinar_extremes),
	        cmocka_unit_test(test_months_started),
	        cmocka_unit_test(test_months_started_limits),
	        cmocka_unit_test(test_months_started_brute_force),
	        cmocka_unit_test(test_weekday),
	        cmocka_unit_test(test_date_add_months_and_days),
	        cmocka_unit_test(test_easter_sunday),
	        cmocka_unit_test(test_public_holidays),
	        cmocka_unit_test(test_session_days),
	};
	return cmocka_run_group_tests_name("calendar", tests, NULL, NULL);
}
