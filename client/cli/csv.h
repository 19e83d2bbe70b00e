/*
 * csv.h: a small RFC 4180 CSV reader and writer for the CLI's import and
 * export.
 *
 * Reading: fields are separated by commas, records end with CRLF or LF (the
 * last one may have no line break); a field may be quoted with '"', and then
 * holds commas, line breaks and '""' for one quote. A UTF-8 byte order mark
 * at the very start is skipped. An empty line is a record of one empty
 * field: callers that want to skip blank lines test for that.
 * Refused, with a message naming the line: a quote inside an unquoted field,
 * text after a closing quote, an unterminated quoted field, a bare CR outside
 * quotes, a NUL byte, a field longer than max_field bytes, a record of more
 * than max_fields fields.
 *
 * The reader works on a buffer the caller keeps alive and unchanged while it
 * reads; it copies the unescaped fields into memory of its own.
 */
#ifndef OB_CLI_CSV_H
#define OB_CLI_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct ob_csv_reader {
	const char *p, *end;
	size_t line;       /* the line the next record starts on, from 1 */
	size_t max_field;  /* bytes, without the NUL */
	size_t max_fields; /* per record */
	char *buf;         /* the current record's fields, NUL-separated */
	size_t buf_cap;
	char **fields;   /* into buf, filled once the record is complete */
	size_t *offsets; /* of the fields in buf while buf may still move */
	char err[160];
} ob_csv_reader;

/* Prepares r to read len bytes of data (no NUL needed). Limits of 0 take
 * defaults: 4096 bytes per field, 256 fields per record. Nothing to free
 * before the first ob_csv_read(); ob_csv_reader_fini() afterwards. */
void ob_csv_reader_init(ob_csv_reader *r, const char *data, size_t len, size_t max_field,
                        size_t max_fields);
/* Frees what the reader allocated; accepts NULL and a reader never read. */
void ob_csv_reader_fini(ob_csv_reader *r);

/*
 * Reads the next record. Returns 1 with *fields (n of them, NUL-terminated
 * strings) and *line (where the record starts), valid until the next call
 * or ob_csv_reader_fini(); 0 at the end of the data; -1 on an error (or out
 * of memory), with a one-line message in r->err that starts with
 * "line N: ". After an error, further calls return -1.
 */
int ob_csv_read(ob_csv_reader *r, char ***fields, size_t *n, size_t *line);

/*
 * Writes one field, quoted when it holds a comma, a quote, CR or LF, or starts
 * or ends with a space; NULL is written as an empty field.
 *
 * Formula injection: what we write is opened in spreadsheets, which run a cell
 * that starts with =, +, -, @, a tab or a carriage return as a formula
 * (=HYPERLINK(...), DDE). Following OWASP's rule, such a cell is written with
 * a ' in front and quoted ("'=SUM(A1)"): spreadsheets show it as text. One
 * exception keeps phone numbers usable: a cell that is exactly an E.164
 * number, '+' and 8 to 15 digits, is written as it is (at worst a spreadsheet
 * reads it as a number). So that the change can be undone exactly, a cell
 * that starts with quotes and then one of those characters ("'=1") gets one
 * more quote too; ob_csv_unprotect() takes one off.
 */
void ob_csv_write_field(FILE *f, const char *s);
/* Writes a record: the fields separated by commas, then eol ("\n" or "\r\n"). */
void ob_csv_write_record(FILE *f, const char *const *fields, size_t n, const char *eol);

/*
 * Undoes the formula protection of ob_csv_write_field() on a field read back,
 * in place: a field that starts with one or more ' and then =, +, -, @, a tab
 * or a carriage return loses its first '; any other field is left alone. For
 * every string s, ob_csv_unprotect(what the reader returns for what
 * ob_csv_write_field(s) wrote) is s. The reader does not call it: a file
 * is read as it is, and `onboard import` unprotects the cells it submits.
 */
void ob_csv_unprotect(char *s);

#endif
