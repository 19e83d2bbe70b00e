/*
 * calendar.h: the programme's Europe/Paris wall-clock time: offsets, local dates, the daily
 * webinar sessions and the monthly periods of the fee waiver. Civil dates and RFC 3339 are in
 * base/time.h, whose conventions hold here too.
 *
 * Pure arithmetic, as base/time.h: thread-safe, reentrant, and the service needs no tzdata on the
 * host. The price is that the Paris rule is hard-coded (see ob_paris_utc_offset); if the EU ever
 * abolishes clock changes, that one function changes.
 */
#ifndef OB_DOMAIN_CALENDAR_H
#define OB_DOMAIN_CALENDAR_H

#include <stdint.h>

#include "base/time.h"

/*
 * Europe/Paris offset from UTC, in seconds, at unix time unix_s: 3600 (CET) or 7200 (CEST).
 * The EU rule in force since 1996: summer time from the last Sunday of March 01:00 UTC
 * (inclusive) to the last Sunday of October 01:00 UTC (exclusive). The rule is applied to every
 * year, so instants before 1996 (when France used other dates) get the modern rule; the
 * programme has no such dates.
 */
int32_t ob_paris_utc_offset(int64_t unix_s);

/*
 * The unix time at which Paris clocks show hour:minute on date d. hour and minute are normally
 * 0..23 and 0..59; other values (and an invalid d) are normalised linearly as in
 * ob_days_from_civil, e.g. hour 24 is midnight of the next day.
 * The two yearly edge cases follow the usual convention (java.time, RFC 5545):
 *  - a time skipped in March (02:00..02:59) is moved forward by the gap: 02:30 -> 03:30 CEST;
 *  - a time repeated in October (02:00..02:59) resolves to its first occurrence, in CEST.
 */
int64_t ob_paris_to_unix(ob_date d, int hour, int minute);

/* The date shown by Paris calendars at unix time unix_s. */
ob_date ob_paris_date(int64_t unix_s);

/*
 * Daily sessions at hour:minute Paris time: returns the first session strictly after
 * after_unix_s when n == 0, and the n-th session after that one otherwise. A session is
 * ob_paris_to_unix(day, hour, minute) for consecutive days, so 10:00 is 09:00 UTC in winter and
 * 08:00 UTC in summer, and consecutive sessions are 23, 24 or 25 hours apart.
 * hour/minute outside 0..23/0..59 are normalised as in ob_paris_to_unix. after_unix_s is clamped
 * to +/- 2^53 s (about 285 million years) so the arithmetic cannot overflow.
 */
int64_t ob_webinar_session(int64_t after_unix_s, int hour, int minute, uint32_t n);

/* Easter Sunday of year in the Gregorian calendar (the anonymous Gregorian algorithm, Meeus /
 * Jones / Butcher). year is clamped to 1583..9999, the years it is meant for. */
ob_date ob_easter_sunday(int32_t year);

/*
 * Whether d is a public holiday (jour férié) in metropolitan France, as the Code du travail
 * lists them (art. L3133-1): 1 January, Easter Monday, 1 May, 8 May, Ascension Thursday (Easter
 * + 39 days), Whit Monday (Easter + 50), 14 July, 15 August, 1 November, 11 November and 25
 * December. Whit Monday stays a holiday although many employers work it as the "journée de
 * solidarité". Alsace-Moselle's Good Friday and 26 December, and the overseas departements'
 * abolition days, are not metropolitan holidays and are not here. false for an invalid d.
 */
bool ob_public_holiday(ob_date d);

/* Whether a daily session is held on d: always on a business day (Monday to Friday and not a
 * public holiday); on Saturdays and Sundays when weekends; on public holidays when holidays.
 * false for an invalid d. */
bool ob_session_day(ob_date d, bool weekends, bool holidays);

/*
 * Number of monthly subscription periods that have started between from and until, both
 * inclusive. Periods begin on from, from + 1 month, from + 2 months, ..., each on from's day of
 * month clamped to the length of its month (anchor 31: Jan 31, Feb 28/29, Mar 31, Apr 30...;
 * the anchor never drifts). A period counts when its first day is <= until.
 * Example: from 2020-11-20 until 2021-03-15 -> 4 (Nov 20, Dec 20, Jan 20, Feb 20).
 * Returns 0 when from > until or when either date is invalid; saturates at UINT32_MAX.
 */
uint32_t ob_months_started(ob_date from, ob_date until);

#endif /* OB_DOMAIN_CALENDAR_H */
