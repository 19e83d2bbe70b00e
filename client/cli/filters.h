/*
 * filters.h: the filters of a ListApplicationsRequest as options, shared by
 * 'onboard list' and 'onboard export' (an initializer list for their option
 * tables: C cannot join two arrays).
 */
#ifndef OB_CLI_FILTERS_H
#define OB_CLI_FILTERS_H

#include "cli.h"

/* The most --state a request may carry. */
enum { CLI_MAX_STATES = 16 };

/* clang-format cannot see that this expands to rows of a table: laid out by hand. */
// clang-format off
#define CLI_FILTER_OPTIONS                                                                   \
	{"cohort", 0, CLI_STRING, .metavar = "ID", .help = "one cohort (default: every cohort)", \
	 .field = "cohort_id", .section = "Filters:"},                                         \
	{"state", 0, CLI_WORDS, .metavar = "S",                                                \
	 .help = "waitlisted, submitted, under-review, needs-info,\n"                          \
	         "approved, onboarded, rejected or withdrawn\n"                                \
	         "(repeatable, or comma-separated: any of them)",                              \
	 .field = "states", .words = &cli_states, .max = CLI_MAX_STATES},                      \
	{"size", 0, CLI_WORD, .metavar = "S", .help = "tpe, pme, eti or ge",                   \
	 .field = "size_category", .words = &cli_sizes},                                       \
	{"departement", 0, CLI_STRING, .metavar = "D", .help = "e.g. 75, 2A, 971",             \
	 .field = "departement"},                                                              \
	{"region", 0, CLI_STRING, .metavar = "NAME",                                           \
	 .help = "e.g. Bretagne (as 'onboard cohort' shows them)", .field = "region"},         \
	{"channel", 0, CLI_WORD, .metavar = "C", .help = "marketplace, webshop or both",       \
	 .field = "channel", .words = &cli_channels},                                          \
	{"after", 0, CLI_STRING, .metavar = "TIME",                                            \
	 .help = "submitted at or after TIME (RFC 3339 or YYYY-MM-DD)",                        \
	 .field = "submitted_after"},                                                          \
	{"before", 0, CLI_STRING, .metavar = "TIME", .help = "submitted before TIME",          \
	 .field = "submitted_before"}
// clang-format on

#endif
