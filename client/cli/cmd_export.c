/*
 * onboard export: the applications the filters select, as CSV on stdout,
 * in the columns import reads back (columns.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "columns.h"
#include "csv.h"
#include "filters.h"
#include "import.h"
#include "print.h"

#define M_LIST "/onboard.v1.Onboarding/ListApplications"

/* Writes the n cells of v but accepts_terms, which export does not have. */
static void write_record(const char *const *v, const char *eol)
{
	const char *out[COL_COUNT];
	size_t n = 0;
	for (int k = 0; k < COL_COUNT; k++)
		if (k != COL_ACCEPTS_TERMS)
			out[n++] = v[k];
	ob_csv_write_record(stdout, out, n, eol);
}

static void write_application(const Onboard__V1__Application *a, const char *eol)
{
	cli_parts parts = cli_parts_of(a);
	const Onboard__V1__Company *co = parts.company;
	const Onboard__V1__Address *ad = parts.address;
	const Onboard__V1__Contact *ct = parts.contact;
	char employees[16], turnover[24], balance[24], version[24], chan[CLI_WORD_MAX];
	char form[CLI_WORD_MAX];
	char cats[IMPORT_MAX_FIELD];
	snprintf(employees, sizeof(employees), "%" PRIu32, co->employees);
	snprintf(turnover, sizeof(turnover), "%" PRId64, co->turnover_eur);
	/* A figure not given stays an empty cell, which import reads back as such. */
	balance[0] = '\0';
	if (co->balance_sheet_given_case ==
	    ONBOARD__V1__COMPANY__BALANCE_SHEET_GIVEN_BALANCE_SHEET_EUR)
		snprintf(balance, sizeof(balance), "%" PRId64, co->balance_sheet_eur);
	snprintf(version, sizeof(version), "%" PRIu64, a->version);
	size_t used = 0;
	cats[0] = '\0';
	for (size_t k = 0; k < a->n_product_categories && used < sizeof(cats); k++)
		used += (size_t)snprintf(cats + used, sizeof(cats) - used, "%s%s", k > 0 ? ";" : "",
		                         a->product_categories[k]);
	const char *v[COL_COUNT] = {
	        [COL_SIREN] = co->siren,
	        [COL_SIRET] = co->siret,
	        [COL_LEGAL_NAME] = co->legal_name,
	        [COL_TRADE_NAME] = co->trade_name,
	        [COL_NAF] = co->naf_code,
	        [COL_VAT] = co->vat_number,
	        [COL_EMPLOYEES] = employees,
	        [COL_TURNOVER] = turnover,
	        [COL_BALANCE] = balance,
	        [COL_ADDRESS] = ad->street,
	        [COL_POSTAL] = ad->postal_code,
	        [COL_CITY] = ad->city,
	        [COL_CONTACT] = ct->name,
	        [COL_EMAIL] = ct->email,
	        [COL_PHONE] = ct->phone,
	        [COL_CHANNEL] =
	                a->channel != 0 ? cli_word_of(&cli_channels, (int)a->channel, chan) : "",
	        [COL_EXPORT] = a->intends_to_export ? "true" : "false",
	        [COL_CATEGORIES] = cats,
	        [COL_COHORT] = a->cohort_id,
	        [COL_LEGAL_FORM] = co->legal_form != 0 ? cli_word_of(&cli_legal_forms,
	                                                             (int)co->legal_form, form)
	                                               : "",
	        [COL_TERMS_VERSION] = a->terms_version,
	        [COL_TERMS_ACCEPTED_AT] = a->terms_accepted_at,
	        [COL_ID] = a->id,
	        [COL_STATE] = cli_state_name((int)a->state),
	        [COL_SIZE] = cli_size_name((int)a->size_category),
	        [COL_DEPARTEMENT] = ad->departement,
	        [COL_REGION] = ad->region,
	        [COL_SUBMITTED_AT] = a->submitted_at,
	        [COL_VERSION] = version,
	};
	write_record(v, eol);
}

static int export_page(cli *c, void *ctx, ProtobufCMessage **page)
{
	(void)c;
	const Onboard__V1__ListApplicationsResponse *rs =
	        (const Onboard__V1__ListApplicationsResponse *)*page;
	for (size_t i = 0; i < rs->n_applications; i++)
		write_application(rs->applications[i], ctx);
	return OB_EXIT_OK;
}

static int export_run(cli *c, const cli_args *a)
{
	const char *eol = cli_opt(a, "crlf") != NULL ? "\r\n" : "\n";
	ProtobufCMessage *req;
	int rc = cli_request(c, a, &req);
	if (rc == OB_EXIT_OK) {
		((Onboard__V1__ListApplicationsRequest *)req)->page_size = CLI_MAX_PAGE_SIZE;
		write_record(cli_col_names, eol);
		rc = cli_pages(c, M_LIST, req, true, export_page, (void *)eol);
	}
	protobuf_c_message_free_unpacked(req, NULL);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int err = errno;
		cli_fail(c, "cannot write the CSV: %s", strerror(err));
		if (rc == OB_EXIT_OK)
			rc = OB_EXIT_LOCAL;
	}
	return rc;
}

static const cli_option export_options[] = {
        CLI_FILTER_OPTIONS,
        {"crlf", 0, CLI_FLAG, .help = "end lines with CRLF, as RFC 4180 says (default LF)",
         .section = "Output:"},
        {NULL},
};

const cli_command cli_cmd_export = {
        .name = "export",
        .summary = "write applications as CSV",
        .synopsis = "[FILTERS] [--crlf]",
        .about = "Writes every application that the filters select as CSV (RFC 4180) on\n"
                 "stdout, following the pages to the end: a header line, then one line per\n"
                 "application with the columns of 'onboard import' (but accepts_terms)\n"
                 "  siren, siret, legal_name, trade_name, naf, vat, employees, turnover_eur,\n"
                 "  balance_eur, address, postal_code, city, contact_name, email, phone,\n"
                 "  channel, export, categories, cohort\n"
                 "and those the server computes\n"
                 "  id, state, size, departement, region, submitted_at, version\n"
                 "Cells holding a comma, a quote or a line break are quoted. Phones are\n"
                 "written in E.164. A cell starting with =, +, -, @, a tab or a carriage\n"
                 "return is written with a ' in front, and quoted, so that a spreadsheet\n"
                 "shows it as text instead of running it as a formula (OWASP's rule for CSV\n"
                 "injection); a phone number in E.164 (+ and 8 to 15 digits) is left as it\n"
                 "is. 'onboard import' takes that ' off again. The output holds personal\n"
                 "data (contact columns).\n",
        .after = "Exit status: 0; on an error after some pages, the CSV written so far\n"
                 "stays on stdout and the exit status says what happened.\n",
        .options = export_options,
        .method = M_LIST,
        .run = export_run,
};
