/*
 * values.h: what a value on the onboard command line may be, checked in one
 * place: whole numbers, durations, euros, times of day and users.
 *
 * Every parser takes the whole string or nothing: no sign, no spaces, no
 * base prefix, no exponent, no trailing text ("2x", " 2", "+2", "0x10" and
 * "1e3" are all refused), and a value out of its range is refused rather
 * than clamped or wrapped. They write their result only on success and keep
 * no state.
 */
#ifndef OB_CLI_VALUES_H
#define OB_CLI_VALUES_H

#include <stdbool.h>
#include <stdint.h>

/* The longest --timeout: a day. */
#define CLI_DURATION_MAX_MS INT64_C(86400000)

/*
 * A whole number in decimal digits only, min <= value <= max, into *out.
 * "007" is 7; "", "-1", "+1", " 1", "1 ", "1.0" and anything beyond max are
 * refused.
 */
bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * A duration into milliseconds: a number, optionally with a decimal fraction,
 * then a unit: "ms", "s", "m" or "h"; a number without a unit is seconds (as
 * sleep(1) reads it). "500ms", "2s", "1.5s", "1m", "2" (2 s). The result must
 * be a whole number of milliseconds from 1 to CLI_DURATION_MAX_MS: "0s",
 * "0.5ms", "25h", "2x", "-1s", "1e3s", "inf" and "nan" are refused.
 */
bool cli_parse_duration_ms(const char *s, int64_t *ms);

/*
 * Euros with at most two decimals, the separator a point or a comma ("39",
 * "39.5", "39,50") into cents; at most 10^13 euros.
 */
bool cli_parse_euros(const char *s, int64_t *cents);

/* "HH:MM", 00:00 to 23:59, exactly five characters. */
bool cli_parse_hhmm(const char *s, uint32_t *hour, uint32_t *minute);

/* A user: a numeric uid (below 2^32 - 1) or a name from the user database. */
bool cli_parse_uid(const char *s, uint32_t *uid);

#endif
