/*
 * The CSV columns of import and export (columns.h).
 */
#include <string.h>

#include "columns.h"

const char *const cli_col_names[COL_COUNT] = {
        "siren",
        "siret",
        "legal_name",
        "trade_name",
        "naf",
        "vat",
        "employees",
        "turnover_eur",
        "balance_eur",
        "address",
        "postal_code",
        "city",
        "contact_name",
        "email",
        "phone",
        "channel",
        "export",
        "categories",
        "cohort",
        "accepts_terms",
        "legal_form",
        "terms_version",
        "terms_accepted_at",
        "id",
        "state",
        "size",
        "departement",
        "region",
        "submitted_at",
        "version",
};

const char *const cli_col_fields[COL_COUNT] = {
        [COL_SIREN] = "company.siren",
        [COL_SIRET] = "company.siret",
        [COL_LEGAL_NAME] = "company.legal_name",
        [COL_TRADE_NAME] = "company.trade_name",
        [COL_NAF] = "company.naf_code",
        [COL_VAT] = "company.vat_number",
        [COL_EMPLOYEES] = "company.employees",
        [COL_TURNOVER] = "company.turnover_eur",
        [COL_BALANCE] = "company.balance_sheet_eur",
        [COL_ADDRESS] = "company.address.street",
        [COL_POSTAL] = "company.address.postal_code",
        [COL_CITY] = "company.address.city",
        [COL_CONTACT] = "contact.name",
        [COL_EMAIL] = "contact.email",
        [COL_PHONE] = "contact.phone",
        [COL_CHANNEL] = "channel",
        [COL_EXPORT] = "intends_to_export",
        [COL_CATEGORIES] = "product_categories",
        [COL_COHORT] = "cohort_id",
        [COL_ACCEPTS_TERMS] = "accepts_terms",
        [COL_LEGAL_FORM] = "company.legal_form",
        [COL_TERMS_VERSION] = "terms_version",
        [COL_TERMS_ACCEPTED_AT] = "terms_accepted_at",
        [COL_ID] = "id",
        [COL_DEPARTEMENT] = "company.address.departement",
        [COL_REGION] = "company.address.region",
        [COL_SUBMITTED_AT] = "submitted_at",
        [COL_VERSION] = "version",
};

int cli_column_of_field(const char *field)
{
	for (int k = 0; k < COL_INPUT; k++) {
		size_t n = strlen(cli_col_fields[k]);
		if (strncmp(field, cli_col_fields[k], n) == 0 &&
		    (field[n] == '\0' || field[n] == '['))
			return k;
	}
	return -1;
}
