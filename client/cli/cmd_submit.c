/*
 * onboard submit: one application, from flags or from a JSON file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_codec.h"
#include "print.h"

/* At most this many --category (the server allows fewer). */
enum { CATEGORIES_MAX = 32 };

static const cli_option submit_options[] = {
        {"siren", 0, CLI_STRING, .metavar = "N",
         .help = "9 digits with their check digit (required)", .field = "company.siren",
         .section = "Company:"},
        {"siret", 0, CLI_STRING, .metavar = "N", .help = "14 digits starting with the SIREN",
         .field = "company.siret"},
        {"legal-name", 0, CLI_STRING, .metavar = "TEXT", .help = "(required)",
         .field = "company.legal_name"},
        {"trade-name", 0, CLI_STRING, .metavar = "TEXT", .field = "company.trade_name"},
        {"naf", 0, CLI_STRING, .metavar = "CODE", .help = "activity code such as 47.91B (required)",
         .field = "company.naf_code"},
        {"legal-form", 0, CLI_WORD, .metavar = "FORM",
         .help = "ei, micro, eurl, sarl, sasu, sas, sa, snc or other\n"
                 "(required: it says which of the below are)",
         .field = "company.legal_form", .words = &cli_legal_forms},
        {"vat", 0, CLI_STRING, .metavar = "NUMBER",
         .help = "intra-EU VAT number: FR, its key, the SIREN\n"
                 "(required of companies; an EI or a micro-entrepreneur\n"
                 "under the VAT franchise has none)",
         .field = "company.vat_number"},
        {"employees", 0, CLI_UINT, .metavar = "N", .help = "headcount (required; 0 is one)",
         .field = "company.employees", .max = UINT32_MAX},
        {"turnover-eur", 0, CLI_UINT, .metavar = "N",
         .help = "annual turnover, whole euros (required)", .field = "company.turnover_eur",
         .max = INT64_MAX},
        {"balance-eur", 0, CLI_UINT, .metavar = "N",
         .help = "balance-sheet total, whole euros (required but of a\n"
                 "micro-entrepreneur, who keeps none); these three decide\n"
                 "the size: TPE and PME are eligible",
         .field = "company.balance_sheet_eur", .max = INT64_MAX},
        {"address", 0, CLI_STRING, .metavar = "TEXT", .help = "street (required)",
         .field = "company.address.street"},
        {"postal-code", 0, CLI_STRING, .metavar = "N", .help = "5 digits (required)",
         .field = "company.address.postal_code"},
        {"city", 0, CLI_STRING, .metavar = "TEXT", .help = "(required)",
         .field = "company.address.city"},
        {"contact-name", 0, CLI_STRING, .metavar = "TEXT", .help = "(required)",
         .field = "contact.name", .section = "Contact person (personal data):"},
        {"email", 0, CLI_STRING, .metavar = "ADDRESS", .help = "(required)",
         .field = "contact.email"},
        {"phone", 0, CLI_STRING, .metavar = "NUMBER",
         .help = "any French format, e.g. 01 23 45 67 89 (required)", .field = "contact.phone"},
        {"channel", 0, CLI_WORD, .metavar = "C", .help = "marketplace, webshop or both (required)",
         .field = "channel", .words = &cli_channels, .section = "Programme:"},
        {"export", 0, CLI_FLAG, .help = "the company intends to sell abroad",
         .field = "intends_to_export"},
        {"category", 0, CLI_STRINGS, .metavar = "C",
         .help = "a product category (repeatable, at most 10)", .field = "product_categories",
         .max = CATEGORIES_MAX},
        {"cohort", 0, CLI_STRING, .metavar = "ID",
         .help = "the cohort (default: the server's default, 2020-11)", .field = "cohort_id"},
        {"accept-terms", 0, CLI_FLAG,
         .help = "the company accepts the programme's terms: the server\n"
                 "refuses an application without this acceptance",
         .field = "accepts_terms"},
        {"terms-version", 0, CLI_STRING, .metavar = "V",
         .help = "the version of the terms accepted (default: the\n"
                 "cohort's, which is the only one it takes)",
         .field = "terms_version"},
        {"terms-accepted-at", 0, CLI_STRING, .metavar = "TIME",
         .help = "when they were accepted, RFC 3339 or a date (default: now)",
         .field = "terms_accepted_at"},
        {"file", 0, CLI_STRING, .metavar = "APP.json",
         .help = "the whole request instead, a SubmitApplicationRequest\n"
                 "in the proto3 JSON mapping ('-': stdin); only --cohort\n"
                 "and --accept-terms may be added to it"},
        {NULL},
};

/* True for the options that fill the request field by field, which --file
 * excludes: all but --cohort and the terms'. */
static bool field_option(const cli_option *o)
{
	return o->field != NULL && strcmp(o->name, "cohort") != 0 &&
	       strncmp(o->name, "accept-terms", 12) != 0 && strncmp(o->name, "terms-", 6) != 0;
}

/* --file: the request is the file's, with --cohort and --accept-terms put
 * into it; else the flags' request as it is. */
static int submit_check(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	const char *file = cli_opt(a, "file");
	size_t fields = 0;
	for (size_t i = 0; i < a->n_seen; i++)
		fields += field_option(a->seen[i].opt);
	if (file != NULL && fields > 0)
		return cli_usage(c, "--file takes the whole request: add only --cohort, "
		                    "--accept-terms, --terms-version or --terms-accepted-at to it");
	if (file == NULL && fields == 0)
		return cli_usage(c, "give the application with flags or --file");
	if (file == NULL)
		return OB_EXIT_OK;
	size_t len;
	char *text = cli_read_file(file, &len), err[512];
	if (text == NULL)
		return cli_fail(c, "cannot read %s: %s", file, strerror(errno));
	ProtobufCMessage *parsed = ob_json_parse_message(
	        text, len, &onboard__v1__submit_application_request__descriptor, err, sizeof(err));
	free(text);
	if (parsed == NULL)
		return cli_usage(c, "%s is not a SubmitApplicationRequest in JSON: %s", file, err);
	protobuf_c_message_free_unpacked(*req, NULL);
	*req = parsed;
	return cli_fill(c, a, parsed); /* only --cohort and the terms' are left */
}

static int submit_run(cli *c, const cli_args *a)
{
	int rc = cli_run_call(c, a);
	if (rc == OB_EXIT_STATUS + OB_CODE_INVALID_ARGUMENT && cli_opt(a, "accept-terms") == NULL &&
	    cli_opt(a, "file") == NULL && !c->json)
		fprintf(stderr, "onboard submit: (without --accept-terms: add it once the company "
		                "has accepted the programme's terms)\n");
	return rc;
}

const cli_command cli_cmd_submit = {
        .name = "submit",
        .summary = "apply for a seat for a company",
        .synopsis = "FLAGS...\n--file APP.json [--cohort ID] [--accept-terms] [TERMS...]",
        .about = "Applies for a seat in a cohort on behalf of a company: it gets a seat\n"
                 "(SUBMITTED) while the cohort has free ones, else joins the waitlist\n"
                 "(WAITLISTED). One live application per SIREN and cohort: a company\n"
                 "whose application was rejected or withdrawn may apply again.\n",
        .after = "Prints the application's id, its state and 'seat held' or 'waitlist\n"
                 "position N'; --json prints the Application. Exit status: 0 submitted or\n"
                 "waitlisted; 67 INVALID_ARGUMENT (each invalid field is printed on its own\n"
                 "line, terms not accepted included); 69 NOT_FOUND (no such cohort); 70\n"
                 "ALREADY_EXISTS (the SIREN has a live application in the cohort); 73\n"
                 "FAILED_PRECONDITION (size not eligible, NAF division excluded, outside\n"
                 "the cohort's submission window, which the message names).\n",
        .options = submit_options,
        .method = "/onboard.v1.Onboarding/SubmitApplication",
        .check = submit_check,
        .print = cli_print_change,
        .shows = CLI_SHOWS_COMPANY,
        .run = submit_run,
};
