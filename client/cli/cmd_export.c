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

/* One application in the columns of columns.h: the scalar fields as they are (cli_col_fields),
 * the words and the list of categories written here. */
static void write_application(const Onboard__V1__Application *a, const char *eol)
{
	char text[COL_COUNT][24], chan[CLI_WORD_MAX], form[CLI_WORD_MAX], cats[IMPORT_MAX_FIELD];
	const char *v[COL_COUNT];
	for (int k = 0; k < COL_COUNT; k++)
		v[k] = cli_col_fields[k] != NULL ? cli_field_text(&a->base, cli_col_fields[k],
		                                                  text[k], sizeof(text[k]))
		                                 : NULL;
	size_t used = 0;
	cats[0] = '\0';
	for (size_t k = 0; k < a->n_product_categories && used < sizeof(cats); k++)
		used += (size_t)snprintf(cats + used, sizeof(cats) - used, "%s%s", k > 0 ? ";" : "",
		                         a->product_categories[k]);
	v[COL_CHANNEL] = a->channel != 0 ? cli_word_of(&cli_channels, (int)a->channel, chan) : "";
	const Onboard__V1__Company *co = a->company;
	v[COL_LEGAL_FORM] = co != NULL && co->legal_form != 0
	                            ? cli_word_of(&cli_legal_forms, (int)co->legal_form, form)
	                            : "";
	v[COL_CATEGORIES] = cats;
	v[COL_STATE] = cli_state_name((int)a->state);
	v[COL_SIZE] = cli_size_name((int)a->size_category);
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
	write_record(cli_col_names, eol);
	int rc = cli_run_pages(c, a, true, export_page, (void *)eol);
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
