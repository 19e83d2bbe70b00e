/*
 * Cohorts for people (print.h): the standing against the seats, and the
 * rows of 'cohort --list'.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "print.h"
#include "words.h"

/* A count and how it ranks, to sort a copy of a reply's counts. */
typedef struct count_ref {
	const char *key;
	uint32_t count;
	int order;
} count_ref;

static int by_order(const void *x, const void *y)
{
	const count_ref *a = x, *b = y;
	return a->order != b->order ? (a->order < b->order ? -1 : 1) : strcmp(a->key, b->key);
}

static int by_count_desc(const void *x, const void *y)
{
	const count_ref *a = x, *b = y;
	return a->count != b->count ? (a->count > b->count ? -1 : 1) : strcmp(a->key, b->key);
}

/* Copies the counts to sort them; keys that name a value of order (NULL:
 * none) rank by it for by_order, before the others. NULL when out of memory
 * (the caller prints nothing for that list then). */
static count_ref *sorted_counts(Onboard__V1__CountByKey **in, size_t n,
                                const ProtobufCEnumDescriptor *order,
                                int (*cmp)(const void *, const void *))
{
	count_ref *r = malloc((n > 0 ? n : 1) * sizeof(*r));
	if (r == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		r[i].key = cli_nz(in[i]->key);
		r[i].count = in[i]->count;
		int v = order != NULL ? cli_value_of_name(order, r[i].key) : -1;
		r[i].order = v >= 0 ? v : INT_MAX;
	}
	qsort(r, n, sizeof(*r), cmp);
	return r;
}

static void print_inline_counts(const char *label, Onboard__V1__CountByKey **in, size_t n,
                                const ProtobufCEnumDescriptor *order)
{
	count_ref *r = sorted_counts(in, n, order, by_order);
	printf(CLI_LABEL, label);
	if (n == 0 || r == NULL)
		fputs("-", stdout);
	for (size_t i = 0; r != NULL && i < n; i++)
		printf("%s%s %" PRIu32, i > 0 ? ", " : "", r[i].key, r[i].count);
	putchar('\n');
	free(r);
}

static double percent(uint32_t part, uint32_t whole)
{
	return whole > 0 ? 100.0 * part / whole : 0.0;
}

/* The seats as a bar, on a terminal only. */
static void print_bar(uint32_t held, uint32_t capacity)
{
	enum { WIDTH = 40 };
	double share = capacity > 0 ? (double)held / capacity : 1.0;
	if (share > 1.0)
		share = 1.0;
	int full = (int)(share * WIDTH + 0.5);
	printf(CLI_INDENT "[");
	for (int i = 0; i < WIDTH; i++)
		putchar(i < full ? '#' : '-');
	printf("] %3.0f%%\n", share * 100.0);
}

/* The ten keys with the most live applications (regions, départements, NAF
 * sections), then the others together. */
static void print_top(const char *label, Onboard__V1__CountByKey **in, size_t n, uint32_t live)
{
	count_ref *r = sorted_counts(in, n, NULL, by_count_desc);
	for (size_t i = 0; r != NULL && i < n && i < 10; i++) {
		printf(CLI_LABEL, i == 0 ? label : i == 1 && n > 10 ? "(top 10)" : "");
		cli_cell(r[i].key, 28, true);
		printf(" %6" PRIu32 "  %5.1f%%\n", r[i].count, percent(r[i].count, live));
	}
	if (r != NULL && n > 10) {
		uint32_t rest = 0;
		for (size_t i = 10; i < n; i++)
			rest += r[i].count;
		printf(CLI_INDENT "%-28s %6" PRIu32 "  %5.1f%%\n", "(others)", rest,
		       percent(rest, live));
	}
	if (n == 0)
		printf(CLI_LABEL "-\n", label);
	free(r);
}

/* Every application by region, then state within it: "Bretagne  SUBMITTED 3, APPROVED 1". */
static void print_region_states(const Onboard__V1__CohortStanding *st)
{
	size_t n = st->n_by_region_state;
	count_ref *r = sorted_counts(st->by_region_state, n, NULL, by_order);
	if (n == 0 || r == NULL)
		printf(CLI_LABEL "-\n", "Region/state");
	for (size_t i = 0; r != NULL && i < n; i++) {
		const char *slash = strrchr(r[i].key, '/');
		int len = slash != NULL ? (int)(slash - r[i].key) : (int)strlen(r[i].key);
		bool same = i > 0 && strncmp(r[i - 1].key, r[i].key, (size_t)len + 1) == 0;
		if (!same)
			printf("%s" CLI_LABEL "%.*s:", i > 0 ? "\n" : "",
			       i == 0 ? "Region/state" : "", len, r[i].key);
		printf("%s %s %" PRIu32, same ? "," : "", slash != NULL ? slash + 1 : "?",
		       r[i].count);
	}
	if (n > 0 && r != NULL)
		putchar('\n');
	free(r);
}

/* What the programme gave: benefits granted, fees waived, ad credit granted and spent. */
static void print_benefit_totals(const Onboard__V1__BenefitTotals *b)
{
	if (b == NULL)
		return;
	char e1[48], e2[48], e3[48];
	printf(CLI_LABEL "%" PRIu32 " granted: %s of fees waived, %s of ad credit, %s spent\n",
	       "Benefits", b->granted, cli_euros(b->fee_waived_cents, e1, sizeof(e1)),
	       cli_euros(b->ad_credit_granted_cents, e2, sizeof(e2)),
	       cli_euros(b->ad_credit_used_cents, e3, sizeof(e3)));
}

/* The channels in the contract's order, with the words people type. */
static void print_channels(const Onboard__V1__CohortStanding *st)
{
	char w[CLI_WORD_MAX];
	count_ref *r = sorted_counts(st->by_channel, st->n_by_channel,
	                             &onboard__v1__channel__descriptor, by_order);
	printf(CLI_LABEL, "Channels");
	if (st->n_by_channel == 0 || r == NULL)
		fputs("-", stdout);
	for (size_t i = 0; r != NULL && i < st->n_by_channel; i++) {
		int v = 0;
		printf("%s%s %" PRIu32 " (%.0f%%)", i > 0 ? ", " : "",
		       cli_word_value(&cli_channels, r[i].key, &v)
		               ? cli_word_of(&cli_channels, v, w)
		               : r[i].key,
		       r[i].count, percent(r[i].count, st->live_applications));
	}
	putchar('\n');
	free(r);
}

/* The submissions per (Paris) day, each with a bar scaled to the busiest. */
static void print_per_day(const Onboard__V1__CohortStanding *st)
{
	count_ref *r =
	        sorted_counts(st->submissions_per_day, st->n_submissions_per_day, NULL, by_order);
	uint32_t peak = 0;
	for (size_t i = 0; r != NULL && i < st->n_submissions_per_day; i++)
		peak = r[i].count > peak ? r[i].count : peak;
	for (size_t i = 0; r != NULL && i < st->n_submissions_per_day; i++) {
		printf(CLI_LABEL "%s %6" PRIu32 "  ", i == 0 ? "Per day" : "", r[i].key,
		       r[i].count);
		int bar = peak > 0 ? (int)((30.0 * r[i].count + peak - 1) / peak) : 0;
		for (int k = 0; k < bar; k++)
			putchar('#');
		putchar('\n');
	}
	if (st->n_submissions_per_day == 0)
		printf(CLI_LABEL "-\n", "Per day");
	free(r);
}

/* The export share the programme reports against: of onboarded sellers. */
#define EXPORT_TARGET 70.0

/* A cohort's settings: its dates, windows, webinar, milestone, terms and
 * exclusions, as it has them (what it derived from its lockdown included). */
static void print_settings(const Onboard__V1__Cohort *co)
{
	char w1[48], w2[48];
	printf(CLI_LABEL "%s to %s; fee waiver until %s\n", "Lockdown", cli_nz(co->lockdown_start),
	       cli_nz(co->lockdown_end), cli_nz(co->fee_waiver_until));
	printf(CLI_LABEL "submissions %s to %s\n", "Windows",
	       cli_when(co->window_opens, w1, sizeof(w1)),
	       cli_when(co->window_closes, w2, sizeof(w2)));
	printf(CLI_INDENT "approvals   %s to %s\n", cli_when(co->approval_opens, w1, sizeof(w1)),
	       cli_when(co->approval_closes, w2, sizeof(w2)));
	printf(CLI_LABEL "%02" PRIu32 ":%02" PRIu32 " Paris, %" PRIu32 " seats, at least %" PRIu32
	                 " min after approval, %s\n",
	       "Webinar", co->webinar_hour, co->webinar_minute, co->webinar_seats,
	       co->webinar_lead_minutes,
	       co->webinar_weekends && co->webinar_holidays ? "every day"
	       : co->webinar_weekends                       ? "weekends too, not public holidays"
	       : co->webinar_holidays                       ? "public holidays too, not weekends"
	                                                    : "business days");
	printf(CLI_LABEL "live before %s; terms version %s\n", "Milestone",
	       cli_nz(co->milestone_date), cli_nz(co->terms_version));
	printf(CLI_LABEL, "Excluded NAF");
	if (co->n_excluded_naf_divisions == 0)
		fputs("-", stdout);
	for (size_t i = 0; i < co->n_excluded_naf_divisions; i++)
		printf("%s%02" PRIu32, i > 0 ? ", " : "", co->excluded_naf_divisions[i]);
	fputs(co->n_excluded_naf_divisions > 0 ? " (divisions)\n" : "\n", stdout);
}

void cli_print_standing(const Onboard__V1__CohortStanding *st)
{
	static const Onboard__V1__Cohort no_cohort = ONBOARD__V1__COHORT__INIT;
	const Onboard__V1__Cohort *co = st->cohort != NULL ? st->cohort : &no_cohort;
	printf("Cohort %s: %s\n", cli_nz(co->id), cli_nz(co->name));
	printf(CLI_LABEL "%" PRIu32 " / %" PRIu32 " held, %" PRIu32 " free\n", "Seats",
	       st->seats_held, co->capacity, st->seats_free);
	if (isatty(STDOUT_FILENO))
		print_bar(st->seats_held, co->capacity);
	printf(CLI_LABEL "%" PRIu32 "\n", "Waitlist", st->waitlist_length);
	printf(CLI_LABEL "%" PRIu32 " submitted, %" PRIu32 " live, of which %" PRIu32
	                 " intend to export\n",
	       "Applications", st->applications, st->live_applications, st->exporters);
	printf(CLI_LABEL "%" PRIu32 " sellers live, of which %" PRIu32
	                 " export: %.1f%% (target %.0f%%)\n",
	       "Onboarded", st->onboarded, st->onboarded_exporters, st->export_share * 100.0,
	       EXPORT_TARGET);
	printf(CLI_INDENT "%" PRIu32 " of them live before %s\n", st->live_before_milestone,
	       cli_nz(co->milestone_date));
	print_inline_counts("By state", st->by_state, st->n_by_state,
	                    &onboard__v1__application_state__descriptor);
	print_inline_counts("By size", st->by_size, st->n_by_size,
	                    &onboard__v1__size_category__descriptor);
	print_benefit_totals(st->benefits);
	print_top("By region", st->by_region, st->n_by_region, st->live_applications);
	print_top("Departements", st->by_departement, st->n_by_departement, st->live_applications);
	print_top("NAF sections", st->by_naf_section, st->n_by_naf_section, st->live_applications);
	print_region_states(st);
	print_channels(st);
	print_per_day(st);
	print_settings(co);
}

void cli_print_cohort_header(void)
{
	printf("%-12s  %-34s  %8s  %-10s  %-11s  %s\n", "ID", "NAME", "CAPACITY", "FEE WAIVER",
	       "SIZES", "WINDOW");
}

void cli_print_cohort_row(const Onboard__V1__Cohort *co)
{
	char sizes[32] = "";
	for (size_t i = 0; i < co->n_eligible_sizes; i++) {
		size_t len = strlen(sizes);
		snprintf(sizes + len, sizeof(sizes) - len, "%s%s", i > 0 ? "," : "",
		         cli_size_name((int)co->eligible_sizes[i]));
	}
	char w1[48], w2[48];
	printf("%-12s  ", cli_nz(co->id));
	cli_cell(co->name, 34, true);
	printf("  %8" PRIu32 "  %-10s  %-11s  ", co->capacity, cli_nz(co->fee_waiver_until), sizes);
	if (cli_nz(co->window_opens)[0] == '\0' && cli_nz(co->window_closes)[0] == '\0')
		printf("none\n");
	else
		printf("%s to %s%s\n", cli_when(co->window_opens, w1, sizeof(w1)),
		       cli_when(co->window_closes, w2, sizeof(w2)),
		       co->window_enforced ? " (enforced)" : "");
}
