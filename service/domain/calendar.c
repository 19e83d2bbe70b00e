/*
 * calendar.c: see calendar.h for the contracts.
 *
 * The civil arithmetic is base/time.c's; what is here adds the Paris rule on top of it, with the
 * same care: values are bounded first (clamped instants), so that no function can overflow
 * whatever it is given.
 */
#include "domain/calendar.h"

enum {
	SECS_PER_MIN = 60,
	SECS_PER_HOUR = 3600,
	SECS_PER_DAY = 86400,
	CET_OFFSET = 3600,
	CEST_OFFSET = 7200,
	/* EU clocks change at 01:00 UTC on the transition Sundays. */
	EU_SWITCH_UTC_SECS = 3600,
};

/* Far beyond any real instant, and far enough from INT64_MIN/MAX that adding a day count of
 * uint32_t days and int-sized hours stays representable. */
#define INSTANT_LIMIT (INT64_C(1) << 53)

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Day number of the last Sunday of a month. Day 0 (1970-01-01) was a Thursday, so
 * (day + 4) mod 7 is the weekday counted from Sunday = 0. */
static int64_t last_sunday(int32_t year, int32_t month)
{
	const ob_date d = {year, month, ob_days_in_month(year, month)};
	const int64_t last = ob_days_from_civil(d);
	const int64_t weekday = ob_floor_mod(last + 4, 7);
	return last - weekday;
}

int32_t ob_paris_utc_offset(int64_t unix_s)
{
	/* Both switches are far from New Year, so the UTC year is also the Paris year here. */
	const int32_t year = ob_civil_from_days(ob_floor_div(unix_s, SECS_PER_DAY)).year;
	const int64_t summer = last_sunday(year, 3) * SECS_PER_DAY + EU_SWITCH_UTC_SECS;
	const int64_t winter = last_sunday(year, 10) * SECS_PER_DAY + EU_SWITCH_UTC_SECS;
	return unix_s >= summer && unix_s < winter ? CEST_OFFSET : CET_OFFSET;
}

/*
 * The unix time of Paris wall-clock second `secs` of day `days`. Trying the summer reading first
 * picks the earlier instant when the wall time happens twice (October). When it is not
 * consistent, the winter reading is the answer: either it is simply winter, or the wall time
 * falls in the March gap and the winter reading lands one hour later on the summer clock, which
 * is the "move forward by the gap" convention.
 */
static int64_t paris_local_to_unix(int64_t days, int64_t secs)
{
	const int64_t local = days * SECS_PER_DAY + secs;
	if (ob_paris_utc_offset(local - CEST_OFFSET) == CEST_OFFSET)
		return local - CEST_OFFSET;
	return local - CET_OFFSET;
}

int64_t ob_paris_to_unix(ob_date d, int hour, int minute)
{
	return paris_local_to_unix(ob_days_from_civil(d),
	                           (int64_t)hour * SECS_PER_HOUR + (int64_t)minute * SECS_PER_MIN);
}

ob_date ob_paris_date(int64_t unix_s)
{
	/* Split before adding the offset so that unix_s near INT64_MAX cannot overflow. */
	int64_t days = ob_floor_div(unix_s, SECS_PER_DAY);
	if (ob_floor_mod(unix_s, SECS_PER_DAY) + ob_paris_utc_offset(unix_s) >= SECS_PER_DAY)
		days++;
	return ob_civil_from_days(days);
}

int64_t ob_webinar_session(int64_t after_unix_s, int hour, int minute, uint32_t n)
{
	const int64_t t = clamp64(after_unix_s, -INSTANT_LIMIT, INSTANT_LIMIT);
	const int64_t secs = (int64_t)hour * SECS_PER_HOUR + (int64_t)minute * SECS_PER_MIN;
	/*
	 * Session times increase with the day, so we want the first day whose session is > t.
	 * Starting one day before the naive estimate guarantees a session <= t whatever the offset
	 * (1 or 2 hours), and two days later the session is > t, so the loop runs at most 3 times.
	 */
	int64_t day = ob_floor_div(t - secs, SECS_PER_DAY) - 1;
	while (paris_local_to_unix(day, secs) <= t)
		day++;
	return paris_local_to_unix(day + n, secs);
}

uint32_t ob_months_started(ob_date from, ob_date until)
{
	if (!ob_date_valid(from) || !ob_date_valid(until) || ob_date_cmp(from, until) > 0)
		return 0;
	/* Period k starts in month from.month + k; the last one that can have started is in
	 * until's month, k = months. It has started if its clamped anchor day is <= until.day. */
	const int64_t months =
	        ((int64_t)until.year - from.year) * 12 + ((int64_t)until.month - from.month);
	int32_t anchor = from.day;
	const int32_t len = ob_days_in_month(until.year, until.month);
	if (anchor > len)
		anchor = len;
	const int64_t count = months + (anchor <= until.day ? 1 : 0);
	return count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
}

ob_date ob_easter_sunday(int32_t year)
{
	const int32_t y = year < 1583 ? 1583 : year > 9999 ? 9999 : year;
	const int32_t a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
	const int32_t f = (b + 8) / 25, g = (b - f + 1) / 3;
	const int32_t h = (19 * a + b - d - g + 15) % 30;
	const int32_t i = c / 4, k = c % 4;
	const int32_t l = (32 + 2 * e + 2 * i - h - k) % 7;
	const int32_t m = (a + 11 * h + 22 * l) / 451;
	const int32_t month = (h + l - 7 * m + 114) / 31;
	const int32_t day = (h + l - 7 * m + 114) % 31 + 1;
	return (ob_date){y, month, day};
}

bool ob_public_holiday(ob_date d)
{
	if (!ob_date_valid(d))
		return false;
	/* Fixed dates, as month * 100 + day. */
	static const int32_t fixed[] = {101, 501, 508, 714, 815, 1101, 1111, 1225};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (d.month * 100 + d.day == fixed[i])
			return true;
	if (d.month < 3 || d.month > 6)
		return false; /* the moveable feasts fall from 23 March to 14 June */
	const int64_t easter = ob_days_from_civil(ob_easter_sunday(d.year));
	const int64_t after = ob_days_from_civil(d) - easter;
	return after == 1 || after == 39 || after == 50; /* Monday, Ascension, Whit Monday */
}

bool ob_session_day(ob_date d, bool weekends, bool holidays)
{
	if (!ob_date_valid(d))
		return false;
	if (!weekends && ob_weekday(d) >= 6)
		return false;
	return holidays || !ob_public_holiday(d);
}
