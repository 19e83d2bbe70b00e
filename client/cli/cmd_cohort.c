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

/* The defaults are those of the 2020-11 cohort, for --create. */
static const cli_option cohort_options[] = {
        {"list", 0, CLI_FLAG, .help = "list the cohorts"},
        {"create", 0, CLI_FLAG, .help = "create a cohort (--id, --name and the settings below)"},
        {"capacity", 0, CLI_UINT, .metavar = "N", .help = "seats", .field = "cohort.capacity",
         .max = UINT32_MAX, .dflt = "800"},
        {"id", 0, CLI_STRING, .metavar = "ID", .help = "the new cohort's id, e.g. 2021-01",
         .field = "cohort.id", .section = "Settings of --create:"},
        {"name", 0, CLI_STRING, .metavar = "NAME", .help = "its name", .field = "cohort.name"},
        {"window-opens", 0, CLI_STRING, .metavar = "TIME",
         .help = "when submissions open (RFC 3339; none)", .field = "cohort.window_opens"},
        {"window-closes", 0, CLI_STRING, .metavar = "TIME", .help = "when they close (none)",
         .field = "cohort.window_closes"},
        {"enforce-window", 0, CLI_FLAG, .help = "refuse submissions outside the window",
         .field = "cohort.window_enforced"},
        {"lockdown-start", 0, CLI_STRING, .metavar = "DATE", .help = "YYYY-MM-DD",
         .field = "cohort.lockdown_start", .dflt = "2020-10-30"},
        {"lockdown-end", 0, CLI_STRING, .metavar = "DATE", .help = "YYYY-MM-DD",
         .field = "cohort.lockdown_end", .dflt = "2020-12-15"},
        {"fee-waiver-until", 0, CLI_STRING, .metavar = "DATE", .help = "the end of the fee waiver",
         .field = "cohort.fee_waiver_until", .dflt = "2021-03-15"},
        {"monthly-fee", 0, CLI_EUROS, .metavar = "EUR", .help = "the fee waived per month",
         .field = "cohort.monthly_fee_cents", .dflt = "39.00"},
        {"ad-credit", 0, CLI_EUROS, .metavar = "EUR", .help = "the advertising credit granted",
         .field = "cohort.ad_credit_cents", .dflt = "200.00"},
        {"webinar", 0, CLI_HHMM, .metavar = "HH:MM",
         .help = "the daily welcome webinar, Paris time", .field = "cohort.webinar_hour",
         .field2 = "cohort.webinar_minute", .dflt = "10:00"},
        {"webinar-seats", 0, CLI_UINT, .metavar = "N", .help = "per session",
         .field = "cohort.webinar_seats", .max = UINT32_MAX, .dflt = "100"},
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
                 "and the applications by state, size, region (top 10) and channel, the\n"
                 "share of exporters and the submissions per day (Paris dates).\n"
                 "--capacity N changes the capacity of cohort ID: never below the seats held\n"
                 "(exit 73); raising it gives the new seats to the waitlist, oldest first.\n"
                 "--create makes a cohort with the settings below, whose defaults are those\n"
                 "of the 2020-11 cohort.\n",
        .after = "--json prints the CohortStanding, ListCohortsResponse or Cohort.\n"
                 "Exit status: 0; 69 NOT_FOUND (no such cohort); 70 ALREADY_EXISTS (--create);\n"
                 "67 invalid settings; 73 capacity below the seats held.\n",
        .options = cohort_options,
        .operands = cohort_operands,
        .method = M_COHORT,
        .request = &onboard__v1__create_cohort_request__descriptor,
        .run = cohort_run,
};
