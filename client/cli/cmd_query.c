/*
 * Reading applications: onboard get, onboard list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "filters.h"
#include "print.h"

#define M_LIST "/onboard.v1.Onboarding/ListApplications"

/* ---- get ------------------------------------------------------------- */

static int get_check(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	(void)req;
	bool by_siren = cli_opt(a, "siren") != NULL;
	if (by_siren == (a->n_operands == 1))
		return cli_usage(c, "give an application ID or --siren SIREN");
	if (!by_siren && cli_opt(a, "cohort") != NULL)
		return cli_usage(c, "--cohort goes with --siren (an ID is unique)");
	return OB_EXIT_OK;
}

static int get_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	cli_print_application((const Onboard__V1__Application *)reply);
	return OB_EXIT_OK;
}

static const cli_option get_options[] = {
        {"siren", 0, CLI_STRING, .metavar = "SIREN",
         .help = "the company's application instead of ID", .field = "siren"},
        {"cohort", 0, CLI_STRING, .metavar = "ID",
         .help = "with --siren: in this cohort (default: the default one)", .field = "cohort_id"},
        {NULL},
};

const cli_command cli_cmd_get = {
        .name = "get",
        .summary = "show an application, by id or SIREN",
        .synopsis = "ID\n--siren SIREN [--cohort ID]",
        .about = "Shows an application: company, size, region, state, version, benefits once\n"
                 "approved, and the history of its states. By SIREN, in the default cohort\n"
                 "unless --cohort. --json prints the Application as proto3 JSON.\n",
        .after = "Exit status: 0 found, 69 NOT_FOUND, 67 not an id or not a SIREN.\n",
        .options = get_options,
        .operands = cli_optional_id_operand,
        .method = "/onboard.v1.Onboarding/GetApplication",
        .check = get_check,
        .print = get_print,
};

/* ---- list ------------------------------------------------------------ */

typedef struct listing {
	bool all;
	size_t total;
	Onboard__V1__ListApplicationsResponse **kept; /* --json --all: every page */
	size_t n_kept;
} listing;

static int list_page(cli *c, void *ctx, ProtobufCMessage **page)
{
	listing *l = ctx;
	Onboard__V1__ListApplicationsResponse *rs = (Onboard__V1__ListApplicationsResponse *)*page;
	size_t before = l->total;
	l->total += rs->n_applications;
	if (c->json && l->all) {
		Onboard__V1__ListApplicationsResponse **g =
		        realloc(l->kept, (l->n_kept + 1) * sizeof(*l->kept));
		if (g == NULL)
			return cli_fail(c, "out of memory");
		l->kept = g;
		l->kept[l->n_kept++] = rs;
		*page = NULL;
		return OB_EXIT_OK;
	}
	if (c->json)
		return cli_print_json(c, *page);
	if (before == 0 && rs->n_applications > 0)
		cli_print_list_header();
	for (size_t i = 0; i < rs->n_applications; i++)
		cli_print_list_row(rs->applications[i]);
	if (!l->all && cli_nz(rs->next_page_token)[0] != '\0')
		printf("next page: --page-token %s\n", rs->next_page_token);
	return OB_EXIT_OK;
}

/* --json --all: one response holding every page's applications, borrowed. */
static int print_merged(cli *c, const listing *l)
{
	Onboard__V1__ListApplicationsResponse merged =
	        ONBOARD__V1__LIST_APPLICATIONS_RESPONSE__INIT;
	merged.applications = malloc((l->total > 0 ? l->total : 1) * sizeof(*merged.applications));
	if (merged.applications == NULL)
		return cli_fail(c, "out of memory");
	for (size_t p = 0; p < l->n_kept; p++)
		for (size_t i = 0; i < l->kept[p]->n_applications; i++)
			merged.applications[merged.n_applications++] = l->kept[p]->applications[i];
	int rc = cli_print_json(c, &merged.base);
	free(merged.applications);
	return rc;
}

static int list_run(cli *c, const cli_args *a)
{
	listing l = {.all = cli_opt(a, "all") != NULL};
	int rc = cli_run_pages(c, a, l.all, list_page, &l);
	if (rc == OB_EXIT_OK && c->json && l.all)
		rc = print_merged(c, &l);
	else if (rc == OB_EXIT_OK && !c->json && l.total == 0)
		printf("no applications\n");
	else if (rc == OB_EXIT_OK && !c->json && l.all)
		printf("%zu application%s\n", l.total, l.total == 1 ? "" : "s");
	for (size_t p = 0; p < l.n_kept; p++)
		protobuf_c_message_free_unpacked(&l.kept[p]->base, NULL);
	free(l.kept);
	return rc;
}

static const cli_option list_options[] = {
        CLI_FILTER_OPTIONS,
        {"page-size", 0, CLI_UINT, .metavar = "N",
         .help = "1 to 500 (default: the server's, 50; 500 with --all)", .field = "page_size",
         .min = 1, .max = CLI_MAX_PAGE_SIZE, .section = "Pages:"},
        {"page-token", 0, CLI_STRING, .metavar = "T",
         .help = "the page after the one that gave T (same filters)", .field = "page_token"},
        {"all", 0, CLI_FLAG, .help = "follow the pages to the end"},
        {NULL},
};

const cli_command cli_cmd_list = {
        .name = "list",
        .summary = "list applications, with filters",
        .synopsis = "[FILTERS] [--page-size N] [--page-token T | --all]",
        .about = "Lists applications in the order they were submitted, one page at a time:\n"
                 "id, SIREN, legal name, state, size, departement, submission time (UTC).\n"
                 "When more follow, the last line gives the token of the next page.\n",
        .after = "--json prints the ListApplicationsResponse; with --all, one response\n"
                 "holding the applications of every page and no next_page_token.\n",
        .options = list_options,
        .method = M_LIST,
        .run = list_run,
};
