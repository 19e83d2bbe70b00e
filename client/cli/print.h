/*
 * print.h: how the CLI shows the contract's messages to people (--json
 * aside): numbers, money, times and columns, then applications and cohorts.
 *
 * Everything prints on stdout. The formatting helpers write into the
 * caller's buffer and return it, so that several fit in one printf.
 * Messages may have NULL sub-messages and strings: they print as empty.
 */
#ifndef OB_CLI_PRINT_H
#define OB_CLI_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onboard/v1/onboarding.pb-c.h"

/* The label column of 'get' and 'cohort', and the indent under it. */
#define CLI_LABEL  "%-13s"
#define CLI_INDENT "             "

/* s, or "" for NULL. */
const char *cli_nz(const char *s);
/* 1234567 -> "1 234 567". */
const char *cli_grouped(int64_t v, char *buf, size_t n);
/* Cents -> "1 234.56 EUR". */
const char *cli_euros(int64_t cents, char *buf, size_t n);
/* "2020-11-02T09:00:00.000Z" -> "2020-11-02 09:00 UTC"; other text as it
 * is, "-" for none. */
const char *cli_when(const char *rfc3339, char *buf, size_t n);
/* Prints s in a column of width characters (UTF-8): cut with an ellipsis
 * when longer, padded with spaces unless pad is false (the last column). */
void cli_cell(const char *s, size_t width, bool pad);
/* The contract's short names: "UNDER_REVIEW", "TPE". */
const char *cli_state_name(int state);
const char *cli_size_name(int size);

/* The parts of an application, never NULL: empty ones where a has none. */
typedef struct cli_parts {
	const Onboard__V1__Company *company;
	const Onboard__V1__Address *address;
	const Onboard__V1__Contact *contact;
} cli_parts;
cli_parts cli_parts_of(const Onboard__V1__Application *a);

/* "seat held", "waitlist position N" or "no seat". */
void cli_print_seat(const Onboard__V1__Application *a);
/* "LABEL2020-11-23 10:00 Paris, marketplace (booked ...)": b, or "none" when NULL. */
void cli_print_booking(const Onboard__V1__WebinarBooking *b, const char *label);
/* The benefits on three or four lines, the first without indent (it
 * follows a label), the others after indent. */
void cli_print_benefits(const Onboard__V1__Benefits *b, const char *indent);
/* The readable summary of an application, for 'get'. */
void cli_print_application(const Onboard__V1__Application *a);
/* The one line of a write's result: "application ID: STATE, seat held
 * (version N)". */
void cli_print_outcome(const Onboard__V1__Application *a);
/* The columns of 'list': the header, and one application a line. */
void cli_print_list_header(void);
void cli_print_list_row(const Onboard__V1__Application *a);

/* The standing of a cohort: seats, waitlist, counts by state, size, region,
 * channel and day. */
void cli_print_standing(const Onboard__V1__CohortStanding *st);
/* The columns of 'cohort --list': the header, and one cohort a line. */
void cli_print_cohort_header(void);
void cli_print_cohort_row(const Onboard__V1__Cohort *co);

#endif
