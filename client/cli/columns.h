/*
 * columns.h: the CSV columns of onboard import and onboard export.
 *
 * Import reads the columns of a submission, in any order; export writes
 * those (but accepts_terms) and then the ones the server computes, so that
 * an export can be imported back (import ignores export's own columns).
 */
#ifndef OB_CLI_COLUMNS_H
#define OB_CLI_COLUMNS_H

enum {
	COL_SIREN,
	COL_SIRET,
	COL_LEGAL_NAME,
	COL_TRADE_NAME,
	COL_NAF,
	COL_VAT,
	COL_EMPLOYEES,
	COL_TURNOVER,
	COL_BALANCE,
	COL_ADDRESS,
	COL_POSTAL,
	COL_CITY,
	COL_CONTACT,
	COL_EMAIL,
	COL_PHONE,
	COL_CHANNEL,
	COL_EXPORT,
	COL_CATEGORIES,
	COL_COHORT,
	COL_ACCEPTS_TERMS,
	COL_LEGAL_FORM,
	COL_TERMS_VERSION,
	COL_TERMS_ACCEPTED_AT,
	COL_INPUT, /* the columns import reads; export's own ones follow */
	COL_ID = COL_INPUT,
	COL_STATE,
	COL_SIZE,
	COL_DEPARTEMENT,
	COL_REGION,
	COL_SUBMITTED_AT,
	COL_VERSION,
	COL_COUNT,
};

/* The header names: "siren", "legal_name"... */
extern const char *const cli_col_names[COL_COUNT];
/* The field each column holds, as a path in an Application and, for the
 * columns import reads, in a SubmitApplicationRequest ("company.siren"); the
 * two messages name their shared fields alike. NULL: computed (state, size). */
extern const char *const cli_col_fields[COL_COUNT];

/* The column a field violation of a SubmitApplicationRequest is about
 * ("company.address.city", "product_categories[2]"), or -1. */
int cli_column_of_field(const char *field);

#endif
