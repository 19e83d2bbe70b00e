/*
 * The file of 'onboard import' (import.h): the CSV read into rows, a row
 * turned into a SubmitApplicationRequest.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csv.h"
#include "import.h"
#include "values.h"

void import_rows_free(import_row *rows, size_t n)
{
	for (size_t i = 0; rows != NULL && i < n; i++)
		for (int k = 0; k < COL_INPUT; k++)
			free(rows[i].cells[k]);
	free(rows);
}

/* Lowercase, '-' read as '_', spaces around dropped: "Legal-Name " -> "legal_name". */
static void column_name(const char *in, char *out, size_t n)
{
	while (*in == ' ')
		in++;
	size_t j = 0;
	for (; *in != '\0' && j + 1 < n; in++) {
		char ch = *in;
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		out[j++] = ch == '-' ? '_' : ch;
	}
	while (j > 0 && out[j - 1] == ' ')
		j--;
	out[j] = '\0';
}

/* The header's n cells into map (cell index -> column, -1 for export's own
 * columns); 0, or -1 with the problem in err. */
static int read_header(const char *path, char **f, size_t n, int *map, char *err, size_t errlen)
{
	bool seen[COL_COUNT] = {false};
	for (size_t i = 0; i < n; i++) {
		char name[64];
		column_name(f[i], name, sizeof(name));
		int col = -1;
		for (int k = 0; k < COL_COUNT; k++)
			if (strcmp(cli_col_names[k], name) == 0)
				col = k;
		if (col < 0) {
			size_t used = (size_t)snprintf(
			        err, errlen, "%s: line 1: unknown column '%s'; the columns are",
			        path, f[i]);
			for (int k = 0; k < COL_INPUT && used < errlen; k++)
				used += (size_t)snprintf(err + used, errlen - used, "%s%s",
				                         k > 0 ? "," : " ", cli_col_names[k]);
			return -1;
		}
		if (seen[col]) {
			snprintf(err, errlen, "%s: line 1: column '%s' appears twice", path, name);
			return -1;
		}
		seen[col] = true;
		map[i] = col < COL_INPUT ? col : -1; /* an export read back: its own columns */
	}
	return 0;
}

/* A new row at the end of *rows (n, cap); NULL when out of memory. */
static import_row *add_row(import_row **rows, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		size_t ncap = *cap > 0 ? *cap * 2 : 256;
		import_row *g = realloc(*rows, ncap * sizeof(**rows));
		if (g == NULL)
			return NULL;
		*rows = g;
		*cap = ncap;
	}
	import_row *row = &(*rows)[(*n)++];
	memset(row, 0, sizeof(*row));
	return row;
}

/* The records after the header into *rows; 0, or -1 with err. */
static int read_rows(const char *path, ob_csv_reader *r, const int *map, size_t n_header,
                     import_row **rows, size_t *n_rows, char *err, size_t errlen)
{
	size_t cap = 0, n, line;
	char **f;
	int got;
	while ((got = ob_csv_read(r, &f, &n, &line)) > 0) {
		bool blank = true;
		for (size_t i = 0; i < n && blank; i++)
			blank = f[i][0] == '\0';
		if (blank)
			continue;
		if (n != n_header) {
			snprintf(err, errlen, "%s: line %zu: %zu cells, but the header names %zu",
			         path, line, n, n_header);
			return -1;
		}
		if (*n_rows == IMPORT_MAX_ROWS) {
			snprintf(err, errlen, "%s: more than %d rows; split the file", path,
			         IMPORT_MAX_ROWS);
			return -1;
		}
		import_row *row = add_row(rows, n_rows, &cap);
		if (row == NULL)
			goto oom;
		row->line = line;
		for (size_t i = 0; i < n; i++) {
			if (map[i] < 0)
				continue;
			ob_csv_unprotect(f[i]); /* export's formula protection (csv.h) */
			if ((row->cells[map[i]] = strdup(f[i])) == NULL)
				goto oom;
		}
	}
	if (got < 0)
		snprintf(err, errlen, "%s: %s", path, r->err);
	return got < 0 ? -1 : 0;
oom:
	snprintf(err, errlen, "out of memory reading %s", path);
	return -1;
}

int import_read(const char *path, import_row **out, size_t *n_out, char *err, size_t errlen)
{
	*out = NULL;
	*n_out = 0;
	size_t len;
	char *text = cli_read_file(path, &len);
	if (text == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	ob_csv_reader r;
	ob_csv_reader_init(&r, text, len, IMPORT_MAX_FIELD, IMPORT_MAX_COLUMNS);
	int map[IMPORT_MAX_COLUMNS];
	size_t n, line, n_rows = 0;
	import_row *rows = NULL;
	char **f;
	int rc = -1, got = ob_csv_read(&r, &f, &n, &line);
	if (got == 0)
		snprintf(err, errlen, "%s is empty: it needs a header line naming the columns",
		         path);
	else if (got < 0)
		snprintf(err, errlen, "%s: %s", path, r.err);
	else if (read_header(path, f, n, map, err, errlen) == 0)
		rc = read_rows(path, &r, map, n, &rows, &n_rows, err, errlen);
	ob_csv_reader_fini(&r);
	free(text);
	if (rc == 0) {
		*out = rows;
		*n_out = n_rows;
	} else {
		import_rows_free(rows, n_rows);
	}
	return rc;
}

/* ---- a row's request ------------------------------------------------- */

typedef struct problems {
	import_problem *list;
	size_t *n;
} problems;

static void problem(problems *p, int col, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void problem(problems *p, int col, const char *fmt, ...)
{
	if (*p->n == IMPORT_MAX_PROBLEMS)
		return;
	import_problem *pr = &p->list[(*p->n)++];
	pr->col = col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pr->what, sizeof(pr->what), fmt, ap);
	va_end(ap);
}

static const char *cell(const import_row *row, int col)
{
	return row->cells[col] != NULL ? row->cells[col] : "";
}

/* A whole number of at most max from column col into *out, unless empty. */
static void number(const import_row *row, int col, uint64_t max, const char *what, problems *p,
                   uint64_t *out)
{
	const char *s = cell(row, col);
	if (s[0] != '\0' && !cli_parse_u64(s, 0, max, out))
		problem(p, col, "must be %s, not '%.40s'", what, s);
}

/* A yes or no from column col into *out, unless empty. */
static void yes_no(const import_row *row, int col, problems *p, protobuf_c_boolean *out)
{
	const char *s = cell(row, col);
	int v;
	if (s[0] == '\0')
		return;
	if (cli_word_value(&cli_bools, s, &v))
		*out = v != 0;
	else
		problem(p, col, "must be true or false, not '%.40s'", s);
}

/* The categories cell, cut at ';' and trimmed, into s->categories. */
static void categories(const import_row *row, import_req *s, problems *p)
{
	snprintf(s->cats, sizeof(s->cats), "%s", cell(row, COL_CATEGORIES));
	char *save = NULL;
	for (char *t = strtok_r(s->cats, ";", &save); t != NULL; t = strtok_r(NULL, ";", &save)) {
		while (*t == ' ')
			t++;
		size_t tl = strlen(t);
		while (tl > 0 && t[tl - 1] == ' ')
			t[--tl] = '\0';
		if (tl == 0)
			continue;
		if (s->rq.n_product_categories == IMPORT_MAX_CATEGORIES) {
			problem(p, COL_CATEGORIES, "at most %d categories", IMPORT_MAX_CATEGORIES);
			break;
		}
		s->categories[s->rq.n_product_categories++] = t;
	}
}

static void init_req(import_req *s)
{
	onboard__v1__submit_application_request__init(&s->rq);
	onboard__v1__company__init(&s->company);
	onboard__v1__address__init(&s->address);
	onboard__v1__contact__init(&s->contact);
	s->company.address = &s->address;
	s->rq.company = &s->company;
	s->rq.contact = &s->contact;
	s->rq.product_categories = s->categories;
}

/* The figures: an empty cell is a figure not given (the contract tells it
 * from a 0), which the server refuses when the legal form needs it. */
static void figures(const import_row *row, import_req *s, problems *p)
{
	Onboard__V1__Company *co = &s->company;
	uint64_t v = 0;
	if (cell(row, COL_EMPLOYEES)[0] != '\0') {
		number(row, COL_EMPLOYEES, UINT32_MAX, "a whole number", p, &v);
		co->employees_given_case = ONBOARD__V1__COMPANY__EMPLOYEES_GIVEN_EMPLOYEES;
		co->employees = (uint32_t)v;
	}
	if (cell(row, COL_TURNOVER)[0] != '\0') {
		v = 0;
		number(row, COL_TURNOVER, INT64_MAX, "a whole number of euros", p, &v);
		co->turnover_given_case = ONBOARD__V1__COMPANY__TURNOVER_GIVEN_TURNOVER_EUR;
		co->turnover_eur = (int64_t)v;
	}
	if (cell(row, COL_BALANCE)[0] != '\0') {
		v = 0;
		number(row, COL_BALANCE, INT64_MAX, "a whole number of euros", p, &v);
		co->balance_sheet_given_case =
		        ONBOARD__V1__COMPANY__BALANCE_SHEET_GIVEN_BALANCE_SHEET_EUR;
		co->balance_sheet_eur = (int64_t)v;
	}
}

/* A word of words from column col into *out, unless empty. */
static void word(const import_row *row, int col, const cli_words *words, problems *p, int *out)
{
	const char *s = cell(row, col);
	char list[160];
	if (s[0] != '\0' && !cli_word_value(words, s, out))
		problem(p, col, "must be %s, not '%.40s'", cli_word_list(words, list, sizeof(list)),
		        s);
}

void import_request(const import_row *row, const char *cohort, const char *terms_version,
                    import_req *s, import_problem probs[IMPORT_MAX_PROBLEMS], size_t *n_probs)
{
	problems p = {probs, n_probs};
	*n_probs = 0;
	init_req(s);
	static const struct {
		int col;
		size_t offset; /* of the char * in import_req */
	} text[] = {
	        {COL_SIREN, offsetof(import_req, company.siren)},
	        {COL_SIRET, offsetof(import_req, company.siret)},
	        {COL_LEGAL_NAME, offsetof(import_req, company.legal_name)},
	        {COL_TRADE_NAME, offsetof(import_req, company.trade_name)},
	        {COL_NAF, offsetof(import_req, company.naf_code)},
	        {COL_VAT, offsetof(import_req, company.vat_number)},
	        {COL_ADDRESS, offsetof(import_req, address.street)},
	        {COL_POSTAL, offsetof(import_req, address.postal_code)},
	        {COL_CITY, offsetof(import_req, address.city)},
	        {COL_CONTACT, offsetof(import_req, contact.name)},
	        {COL_EMAIL, offsetof(import_req, contact.email)},
	        {COL_PHONE, offsetof(import_req, contact.phone)},
	        {COL_COHORT, offsetof(import_req, rq.cohort_id)},
	        {COL_TERMS_VERSION, offsetof(import_req, rq.terms_version)},
	        {COL_TERMS_ACCEPTED_AT, offsetof(import_req, rq.terms_accepted_at)},
	};
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		*(const char **)((char *)s + text[i].offset) = cell(row, text[i].col);
	if (cohort != NULL)
		s->rq.cohort_id = (char *)cohort;
	if (terms_version != NULL && s->rq.terms_version[0] == '\0')
		s->rq.terms_version = (char *)terms_version;
	figures(row, s, &p);
	int v = 0;
	word(row, COL_LEGAL_FORM, &cli_legal_forms, &p, &v);
	s->company.legal_form = (Onboard__V1__LegalForm)v;
	v = 0;
	word(row, COL_CHANNEL, &cli_channels, &p, &v);
	s->rq.channel = (Onboard__V1__Channel)v;
	yes_no(row, COL_EXPORT, &p, &s->rq.intends_to_export);
	/* The partner who sends the file collected the acceptance of the terms. */
	s->rq.accepts_terms = true;
	yes_no(row, COL_ACCEPTS_TERMS, &p, &s->rq.accepts_terms);
	categories(row, s, &p);
}
