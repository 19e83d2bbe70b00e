/*
 * onboard advisor: a cohort's advisors (add, list, update) and the
 * reassignment of an approved company to another one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "print.h"

/* "3  Jeanne Martin  Bretagne  fr,en  1/20  active": one advisor. */
static void advisor_line(const Onboard__V1__Advisor *v)
{
	char langs[64] = "";
	size_t len = 0;
	for (size_t i = 0; i < v->n_languages && len < sizeof(langs); i++)
		len += (size_t)snprintf(langs + len, sizeof(langs) - len, "%s%s", i > 0 ? "," : "",
		                        cli_nz(v->languages[i]));
	printf("%6" PRIu32 "  ", v->number);
	cli_cell(cli_nz(v->name), 28, true);
	fputs("  ", stdout);
	cli_cell(cli_nz(v->region), 28, true);
	printf("  %-12s  %4" PRIu32 "/%-4" PRIu32 "  %s\n", langs, v->load, v->capacity,
	       v->active ? "active" : "inactive");
}

static void advisor_header(void)
{
	printf("%6s  %-28s  %-28s  %-12s  %9s  %s\n", "NUMBER", "NAME", "REGION", "LANGUAGES",
	       "LOAD/CAP", "STATUS");
}

static int advisor_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	advisor_header();
	advisor_line((const Onboard__V1__Advisor *)reply);
	return OB_EXIT_OK;
}

static const cli_option cohort_option = {
        "cohort", 0, CLI_STRING, .metavar = "ID", .help = "default: 2020-11", .field = "cohort_id"};

static const cli_option add_options[] = {
        cohort_option,
        {"name", 0, CLI_STRING, .metavar = "TEXT", .help = "the advisor's name (required)",
         .field = "name"},
        {"region", 0, CLI_STRING, .metavar = "REGION",
         .help = "one of the 18 regions' official names\n(\"Bretagne\", \"Île-de-France\") or "
                 "\"any\"",
         .field = "region", .dflt = "any"},
        {"language", 0, CLI_STRINGS, .metavar = "CODE",
         .help = "an ISO 639-1 code the advisor speaks;\nrepeatable, 8 at most", .max = 8,
         .field = "languages"},
        {"capacity", 0, CLI_UINT, .metavar = "N", .help = "the companies followed at once, 1..1000",
         .field = "capacity", .min = 1, .max = 1000, .dflt = "20"},
        {NULL},
};

static int add_check(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	Onboard__V1__AddAdvisorRequest *rq = (Onboard__V1__AddAdvisorRequest *)*req;
	(void)a;
	if (cli_nz(rq->name)[0] == '\0')
		return cli_usage(c, "advisor add needs --name");
	if (rq->n_languages == 0)
		return cli_usage(c,
		                 "advisor add needs --language (fr for the programme's companies)");
	return OB_EXIT_OK;
}

static const cli_command advisor_add = {
        .name = "add",
        .summary = "add an advisor to a cohort",
        .synopsis = "--name TEXT --language CODE... [OPTIONS]",
        .about = "Adds an advisor (administrators), active, under the cohort's next number.\n"
                 "Approvals assign the least loaded active advisor of the company's region\n"
                 "who speaks French and has capacity left, else one of any region.\n",
        .after = "--json prints the Advisor. Exit status: 0 added; 67 INVALID_ARGUMENT (the\n"
                 "violations name the fields); 69 NOT_FOUND (the cohort).\n",
        .options = add_options,
        .check = add_check,
        .method = "/onboard.v1.Onboarding/AddAdvisor",
        .print = advisor_print,
};

static int list_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	const Onboard__V1__ListAdvisorsResponse *r =
	        (const Onboard__V1__ListAdvisorsResponse *)reply;
	advisor_header();
	for (size_t i = 0; i < r->n_advisors; i++)
		advisor_line(r->advisors[i]);
	return OB_EXIT_OK;
}

static const cli_option list_options[] = {cohort_option, {NULL}};

static const cli_command advisor_list = {
        .name = "list",
        .summary = "a cohort's advisors with their load",
        .synopsis = "[--cohort ID]",
        .about = "Lists the cohort's advisors in number order (reviewers and administrators).\n",
        .after = "--json prints the ListAdvisorsResponse.\n",
        .options = list_options,
        .method = "/onboard.v1.Onboarding/ListAdvisors",
        .print = list_print,
};

static const cli_operand number_operand[] = {{.metavar = "NUMBER", .kind = CLI_STRING}, {NULL}};

static const cli_option update_options[] = {
        cohort_option,
        {"capacity", 0, CLI_UINT, .metavar = "N", .help = "the new capacity, 1..1000",
         .field = "capacity", .min = 1, .max = 1000},
        {"active", 0, CLI_FLAG, .help = "takes new companies again"},
        {"inactive", 0, CLI_FLAG, .help = "keeps its companies, takes no new one"},
        {NULL},
};

static int update_check(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	Onboard__V1__UpdateAdvisorRequest *rq = (Onboard__V1__UpdateAdvisorRequest *)*req;
	const char *s = cli_arg(a, 0);
	char *end = NULL;
	unsigned long n = s != NULL ? strtoul(s, &end, 10) : 0;
	if (s == NULL || end == s || *end != '\0' || n < 1 || n > 10000)
		return cli_usage(c, "advisor update: NUMBER must be an advisor's number, 1..10000");
	rq->number = (uint32_t)n;
	bool on = cli_opt(a, "active") != NULL, off = cli_opt(a, "inactive") != NULL;
	if (on && off)
		return cli_usage(c, "advisor update: --active or --inactive, not both");
	if (on)
		rq->activity = ONBOARD__V1__ADVISOR_ACTIVITY__ADVISOR_ACTIVITY_ACTIVE;
	if (off)
		rq->activity = ONBOARD__V1__ADVISOR_ACTIVITY__ADVISOR_ACTIVITY_INACTIVE;
	if (!on && !off && rq->capacity == 0)
		return cli_usage(c, "advisor update needs --capacity, --active or --inactive");
	return OB_EXIT_OK;
}

static const cli_command advisor_update = {
        .name = "update",
        .summary = "change an advisor's capacity, or set it active or inactive",
        .synopsis = "NUMBER [--capacity N] [--active | --inactive]",
        .about = "Administrators. The capacity cannot go below the companies the advisor\n"
                 "follows; an inactive advisor keeps them and takes no new one.\n",
        .after = "--json prints the Advisor. Exit status: 0 changed; 67 INVALID_ARGUMENT;\n"
                 "73 FAILED_PRECONDITION (capacity below the load).\n",
        .options = update_options,
        .operands = number_operand,
        .check = update_check,
        .method = "/onboard.v1.Onboarding/UpdateAdvisor",
        .print = advisor_print,
};

static const cli_option reassign_options[] = {
        {"to", 0, CLI_UINT, .metavar = "NUMBER",
         .help = "the advisor to assign; default: the least\nloaded other one, as an approval "
                 "picks",
         .field = "advisor", .min = 1, .max = 10000},
        {"note", 0, CLI_STRING, .metavar = "TEXT", .help = "why, kept in the history",
         .field = "note"},
        {NULL},
};

static const cli_command advisor_reassign = {
        .name = "reassign",
        .summary = "give an approved company another advisor",
        .synopsis = "ID [--to NUMBER] [--note TEXT]",
        .about = "Reviewers and administrators. The loads move and the history records it.\n",
        .after = "--json prints the Application. Exit status: 0 reassigned; 67\n"
                 "INVALID_ARGUMENT (no such advisor); 73 FAILED_PRECONDITION (not approved,\n"
                 "the advisor inactive or full, no other one free); 69 NOT_FOUND.\n",
        .options = reassign_options,
        .operands = cli_id_operand,
        .method = "/onboard.v1.Onboarding/ReassignAdvisor",
        .print = cli_print_change,
        .shows = CLI_SHOWS_ADVISOR,
};

static const cli_command *const advisor_commands[] = {
        &advisor_add, &advisor_list, &advisor_update, &advisor_reassign, NULL,
};

const cli_command cli_cmd_advisor = {
        .name = "advisor",
        .summary = "a cohort's advisors: add, list, update, reassign",
        .synopsis = "SUBCOMMAND [ARGS]",
        .about = "The programme's advisors: people with a region, languages and a capacity,\n"
                 "assigned to companies at approval by region and load.\n",
        .subcommands = advisor_commands,
};
