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

int cli_column_of_field(const char *field)
{
	static const struct {
		const char *field;
		int col;
	} map[] = {
	        {"company.siren", COL_SIREN},
	        {"company.siret", COL_SIRET},
	        {"company.legal_name", COL_LEGAL_NAME},
	        {"company.trade_name", COL_TRADE_NAME},
	        {"company.naf_code", COL_NAF},
	        {"company.vat_number", COL_VAT},
	        {"company.employees", COL_EMPLOYEES},
	        {"company.turnover_eur", COL_TURNOVER},
	        {"company.balance_sheet_eur", COL_BALANCE},
	        {"company.address.street", COL_ADDRESS},
	        {"company.address.postal_code", COL_POSTAL},
	        {"company.address.city", COL_CITY},
	        {"contact.name", COL_CONTACT},
	        {"contact.email", COL_EMAIL},
	        {"contact.phone", COL_PHONE},
	        {"channel", COL_CHANNEL},
	        {"intends_to_export", COL_EXPORT},
	        {"product_categories", COL_CATEGORIES},
	        {"cohort_id", COL_COHORT},
	        {"accepts_terms", COL_ACCEPTS_TERMS},
	        {"company.legal_form", COL_LEGAL_FORM},
	        {"terms_version", COL_TERMS_VERSION},
	        {"terms_accepted_at", COL_TERMS_ACCEPTED_AT},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t n = strlen(map[i].field);
		if (strncmp(field, map[i].field, n) == 0 && (field[n] == '\0' || field[n] == '['))
			return map[i].col;
	}
	return -1;
}
