/*
 * onboard cohort: a cohort's standing, the list of cohorts, a new cohort, a
 * new capacity. Four methods behind one command, chosen by its options.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "values.h"

#define M_COHORT   "/onboard.v1.Onboarding/GetCohort"
#define M_COHORTS  "/onboard.v1.Onboarding/ListCohorts"
#define M_CREATE   "/onboard.v1.Onboarding/CreateCohort"
#define M_CAPACITY "/onboard.v1.Onboarding/SetCohortCapacity"

static int standing_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	cli_print_standing((const Onboard__V1__CohortStanding *)reply);
	return OB_EXIT_OK;
}

static int cohorts_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	const Onboard__V1__ListCohortsResponse *rs =
	        (const Onboard__V1__ListCohortsResponse *)reply;
	cli_print_cohort_header();
	for (size_t i = 0; i < rs->n_cohorts; i++)
		cli_print_cohort_row(rs->cohorts[i]);
	return OB_EXIT_OK;
}

static int created_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	const Onboard__V1__Cohort *made = (const Onboard__V1__Cohort *)reply;
	printf("created cohort %s\n", cli_nz(made->id));
	cli_print_cohort_header();
	cli_print_cohort_row(made);
	return OB_EXIT_OK;
}

/* The settings only --create takes: the options that fill the Cohort, but
 * --capacity, which also changes an existing cohort's. */
static size_t settings(const cli_args *a)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n_seen; i++)
		n += a->seen[i].opt->field != NULL && strcmp(a->seen[i].opt->name, "capacity") != 0;
	return n;
}

static int create(cli *c, const cli_args *a)
{
	ProtobufCMessage *req;
	int rc = cli_request(c, a, &req);
	const Onboard__V1__Cohort *co =
	        rc == OB_EXIT_OK ? ((Onboard__V1__CreateCohortRequest *)req)->cohort : NULL;
	if (rc == OB_EXIT_OK && (co == NULL || co->id[0] == '\0' || co->name[0] == '\0'))
		rc = cli_usage(c, "--create needs --id and --name");
	if (rc == OB_EXIT_OK)
		rc = cli_invoke(c, a, M_CREATE, req, created_print, NULL);
	protobuf_c_message_free_unpacked(req, NULL);
	return rc;
}

static int cohort_run(cli *c, const cli_args *a)
{
	bool list = cli_opt(a, "list") != NULL, made = cli_opt(a, "create") != NULL;
	bool capacity = cli_opt_count(a, "capacity") > 0;
	const char *id = a->n_operands > 0 ? a->operands[0] : "";
	if (list && (made || capacity || settings(a) > 0 || a->n_operands > 0))
		return cli_usage(c, "--list takes nothing else");
	if (!made && settings(a) > 0)
		return cli_usage(c, "cohort settings go with --create; to change the capacity: "
		                    "onboard cohort ID --capacity N");
	if (made && a->n_operands > 0)
		return cli_usage(c, "--create takes the cohort's id as --id ID");
	if (made)
		return create(c, a);
	if (list) {
		Onboard__V1__ListCohortsRequest rq = ONBOARD__V1__LIST_COHORTS_REQUEST__INIT;
		return cli_invoke(c, a, M_COHORTS, &rq.base, cohorts_print, NULL);
	}
	if (capacity) {
		Onboard__V1__SetCohortCapacityRequest rq =
		        ONBOARD__V1__SET_COHORT_CAPACITY_REQUEST__INIT;
		uint64_t n = 0;
		cli_parse_u64(cli_opt(a, "capacity"), 0, UINT32_MAX, &n); /* checked by cli_parse */
		rq.id = (char *)id;
		rq.capacity = (uint32_t)n;
		return cli_invoke(c, a, M_CAPACITY, &rq.base, standing_print, NULL);
	}
	Onboard__V1__GetCohortRequest rq = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
	rq.id = (char *)id;
	return cli_invoke(c, a, M_COHORT, &rq.base, standing_print, NULL);
}

/* The defaults are those of the 2020-11 cohort, for --create, but those the
 * server derives from the lockdown dates (no default here), and the NAF
 * divisions excluded (none). */
static const cli_option cohort_options[] = {
        {"list", 0, CLI_FLAG, .help = "list the cohorts"},
        {"create", 0, CLI_FLAG, .help = "create a cohort (--id, --name and the settings below)"},
        {"capacity", 0, CLI_UINT, .metavar = "N", .help = "seats", .field = "cohort.capacity",
         .max = UINT32_MAX, .dflt = "800"},
        {"id", 0, CLI_STRING, .metavar = "ID", .help = "the new cohort's id, e.g. 2021-01",
         .field = "cohort.id", .section = "Settings of --create:"},
        {"name", 0, CLI_STRING, .metavar = "NAME", .help = "its name", .field = "cohort.name"},
        {"lockdown-start", 0, CLI_STRING, .metavar = "DATE",
         .help = "YYYY-MM-DD; what follows derives from the lockdown",
         .field = "cohort.lockdown_start", .dflt = "2020-10-30"},
        {"lockdown-end", 0, CLI_STRING, .metavar = "DATE", .help = "YYYY-MM-DD",
         .field = "cohort.lockdown_end", .dflt = "2020-12-15"},
        {"fee-waiver-until", 0, CLI_STRING, .metavar = "DATE",
         .help = "the waiver's last day, the cohort's end\n(default: the lockdown's end + 3 "
                 "months)",
         .field = "cohort.fee_waiver_until"},
        {"window-opens", 0, CLI_STRING, .metavar = "TIME",
         .help = "when submissions open, RFC 3339 (default: the\nlockdown's first day, "
                 "Paris)",
         .field = "cohort.window_opens"},
        {"window-closes", 0, CLI_STRING, .metavar = "TIME",
         .help = "when they close (default: after its last day)", .field = "cohort.window_closes"},
        {"approval-opens", 0, CLI_STRING, .metavar = "TIME",
         .help = "when approvals open (default: the lockdown's first day)",
         .field = "cohort.approval_opens"},
        {"approval-closes", 0, CLI_STRING, .metavar = "TIME",
         .help = "when they close (default: after the waiver's last day)",
         .field = "cohort.approval_closes"},
        {"milestone", 0, CLI_STRING, .metavar = "DATE",
         .help = "being live before it counts (default: the lockdown's end)",
         .field = "cohort.milestone_date"},
        {"terms-version", 0, CLI_STRING, .metavar = "V",
         .help = "the version of the terms the cohort presents\n(default: the lockdown's "
                 "first day)",
         .field = "cohort.terms_version"},
        {"exclude-naf", 0, CLI_UINT, .metavar = "NN",
         .help = "a NAF division the cohort does not take, 84 say\n(repeatable; default none)",
         .field = "cohort.excluded_naf_divisions", .min = 1, .max = 99},
        {"monthly-fee", 0, CLI_EUROS, .metavar = "EUR", .help = "the fee waived per month",
         .field = "cohort.monthly_fee_cents", .dflt = "39.00"},
        {"ad-credit", 0, CLI_EUROS, .metavar = "EUR", .help = "the advertising credit granted",
         .field = "cohort.ad_credit_cents", .dflt = "200.00"},
        {"webinar", 0, CLI_HHMM, .metavar = "HH:MM",
         .help = "the daily welcome webinar, Paris time", .field = "cohort.webinar_hour",
         .field2 = "cohort.webinar_minute", .dflt = "10:00"},
        {"webinar-seats", 0, CLI_UINT, .metavar = "N", .help = "per session",
         .field = "cohort.webinar_seats", .max = UINT32_MAX, .dflt = "100"},
        {"webinar-lead", 0, CLI_UINT, .metavar = "MINUTES",
         .help = "the least time from an approval to its session\n(default 120)",
         .field = "cohort.webinar_lead_minutes", .min = 1, .max = 10080},
        {"webinar-weekends", 0, CLI_FLAG, .help = "sessions on Saturdays and Sundays too",
         .field = "cohort.webinar_weekends"},
        {"webinar-holidays", 0, CLI_FLAG, .help = "sessions on French public holidays too",
         .field = "cohort.webinar_holidays"},
        {"advisors", 0, CLI_UINT, .metavar = "N", .help = "the pool of advisors",
         .field = "cohort.advisor_pool", .max = UINT32_MAX, .dflt = "300"},
        {"eligible", 0, CLI_WORDS, .metavar = "SIZES",
         .help = "comma-separated among tpe, pme, eti, ge", .field = "cohort.eligible_sizes",
         .words = &cli_sizes, .max = 4, .dflt = "tpe,pme"},
        {NULL},
};

static const cli_operand cohort_operands[] = {
        {"ID", .kind = CLI_STRING, .optional = true},
        {NULL},
};

const cli_command cli_cmd_cohort = {
        .name = "cohort",
        .summary = "a cohort's standing; list, create, resize",
        .synopsis = "[ID]\n[ID] --capacity N\n--list\n--create --id ID --name NAME [SETTINGS]",
        .about = "The standing of a cohort (the default cohort without ID): seats held\n"
                 "against the capacity (with a bar on a terminal), free seats, the waitlist,\n"
                 "the applications submitted and live (neither rejected nor withdrawn), the\n"
                 "onboarded sellers, their share of exporters against the programme's 70%\n"
                 "target and how many went live before the cohort's milestone; the live\n"
                 "applications by state, size, region (top 10) and channel, the submissions\n"
                 "per day (Paris dates); then the cohort's settings: its windows, webinar,\n"
                 "milestone, terms and excluded NAF divisions.\n"
                 "--capacity N changes the capacity of cohort ID: never below the seats held\n"
                 "(exit 73); raising it gives the new seats to the waitlist, oldest first.\n"
                 "--create makes a cohort with the settings below, whose defaults are those\n"
                 "of the 2020-11 cohort or, where none is shown, what the server derives\n"
                 "from the lockdown dates.\n",
        .after = "--json prints the CohortStanding, ListCohortsResponse or Cohort.\n"
                 "Exit status: 0; 69 NOT_FOUND (no such cohort); 70 ALREADY_EXISTS (--create);\n"
                 "67 invalid settings; 73 capacity below the seats held.\n",
        .options = cohort_options,
        .operands = cohort_operands,
        .method = M_COHORT,
        .request = &onboard__v1__create_cohort_request__descriptor,
        .run = cohort_run,
};
