/*
 * import.h: the file of 'onboard import', read and turned into requests
 * without the server (import_file.c); cmd_import.c sends them.
 */
#ifndef OB_CLI_IMPORT_H
#define OB_CLI_IMPORT_H

#include <stddef.h>

#include "columns.h"
#include "onboard/v1/onboarding.pb-c.h"

enum {
	IMPORT_MAX_FIELD = 4096, /* bytes in one cell */
	IMPORT_MAX_COLUMNS = 64, /* cells in one line */
	IMPORT_MAX_ROWS = 1000000,
	IMPORT_MAX_PROBLEMS = 8,    /* found locally in one row */
	IMPORT_MAX_CATEGORIES = 32, /* in one row's categories cell */
};

/* One line of the file: its cells by column. */
typedef struct import_row {
	size_t line;
	char *cells[COL_INPUT]; /* NULL: no such column */
} import_row;

/*
 * Reads the whole import file (path, "-" for stdin) into *out, n_out rows;
 * the caller frees them with import_rows_free(). Returns 0, or -1 with one
 * line in err: the file cannot be read, is not valid CSV, has an unknown or
 * repeated column, or a line with another number of cells than the header.
 * Lines with no text in any cell are skipped; cells lose export's formula
 * protection (ob_csv_unprotect).
 */
int import_read(const char *path, import_row **out, size_t *n_out, char *err, size_t errlen);
/* Frees rows (n of them); accepts NULL. */
void import_rows_free(import_row *rows, size_t n);

/* A SubmitApplicationRequest on caller memory; its strings are borrowed. */
typedef struct import_req {
	Onboard__V1__SubmitApplicationRequest rq;
	Onboard__V1__Company company;
	Onboard__V1__Address address;
	Onboard__V1__Contact contact;
	char *categories[IMPORT_MAX_CATEGORIES];
	char cats[IMPORT_MAX_FIELD + 1]; /* the categories cell, cut at ';' */
} import_req;

/* What is wrong with a cell, found without the server. */
typedef struct import_problem {
	int col;
	char what[96];
} import_problem;

/*
 * The request of one row into *s, borrowing the row's strings: valid while
 * row and s are. cohort, unless NULL, replaces the row's; terms_version,
 * unless NULL, is the version of the terms accepted for a row whose cell
 * does not say. Problems found without the server go into probs, *n_probs
 * of them (the row is then not to be sent).
 */
void import_request(const import_row *row, const char *cohort, const char *terms_version,
                    import_req *s, import_problem probs[IMPORT_MAX_PROBLEMS], size_t *n_probs);

#endif
