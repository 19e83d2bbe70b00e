/*
 * RFC 4180 CSV, reading and writing. See csv.h for what is accepted.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

enum { DEFAULT_MAX_FIELD = 4096, DEFAULT_MAX_FIELDS = 256 };

void ob_csv_reader_init(ob_csv_reader *r, const char *data, size_t len, size_t max_field,
                        size_t max_fields)
{
	memset(r, 0, sizeof(*r));
	r->p = data;
	r->end = data != NULL ? data + len : data;
	r->line = 1;
	r->max_field = max_field > 0 ? max_field : DEFAULT_MAX_FIELD;
	r->max_fields = max_fields > 0 ? max_fields : DEFAULT_MAX_FIELDS;
	/* Spreadsheets write a byte order mark in front of UTF-8. */
	if (data != NULL && len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		r->p += 3;
}

void ob_csv_reader_fini(ob_csv_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r->fields);
	free(r->offsets);
	r->buf = NULL;
	r->fields = NULL;
	r->offsets = NULL;
	r->buf_cap = 0;
}

static int fail(ob_csv_reader *r, size_t line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(ob_csv_reader *r, size_t line, const char *fmt, ...)
{
	int n = snprintf(r->err, sizeof(r->err), "line %zu: ", line);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(r->err))
		vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends one byte to the record buffer. */
static bool put(ob_csv_reader *r, size_t *used, char ch)
{
	if (*used == r->buf_cap) {
		size_t cap = r->buf_cap > 0 ? r->buf_cap * 2 : 1024;
		char *g = realloc(r->buf, cap);
		if (g == NULL)
			return false;
		r->buf = g;
		r->buf_cap = cap;
	}
	r->buf[(*used)++] = ch;
	return true;
}

/* Longer than 80 lines on purpose: one pass over the bytes of a record whose
 * cases (start of a field, inside quotes, after a closing quote, a line
 * break) read best side by side, as RFC 4180's grammar does. */
int ob_csv_read(ob_csv_reader *r, char ***fields, size_t *n, size_t *line)
{
	if (r->err[0] != '\0')
		return -1;
	if (r->p >= r->end)
		return 0;
	if (r->fields == NULL) {
		r->fields = calloc(r->max_fields, sizeof(*r->fields));
		r->offsets = calloc(r->max_fields, sizeof(*r->offsets));
		if (r->fields == NULL || r->offsets == NULL)
			return fail(r, r->line, "out of memory");
	}
	size_t start = r->line, used = 0, nf = 0;
	const char *p = r->p, *end = r->end;
	for (;;) {
		if (nf == r->max_fields)
			return fail(r, r->line, "more than %zu fields in a record", r->max_fields);
		r->offsets[nf] = used;
		size_t flen = 0;
		if (p < end && *p == '"') {
			size_t opened = r->line;
			for (p++;; p++) {
				if (p >= end)
					return fail(r, opened,
					            "a quoted field opened on this line is never "
					            "closed");
				char ch = *p;
				if (ch == '"') {
					if (p + 1 < end && p[1] == '"')
						p++; /* "" is one quote */
					else
						break;
				} else if (ch == '\0') {
					return fail(r, r->line, "a NUL byte");
				} else if (ch == '\n') {
					r->line++;
				}
				if (flen++ == r->max_field)
					return fail(r, r->line,
					            "field %zu is longer than %zu bytes", nf + 1,
					            r->max_field);
				if (!put(r, &used, ch))
					return fail(r, r->line, "out of memory");
			}
			p++; /* the closing quote */
			if (p < end && *p != ',' && *p != '\n' &&
			    !(*p == '\r' && p + 1 < end && p[1] == '\n'))
				return fail(r, r->line,
				            "text after the closing quote of field %zu (a quote "
				            "inside a "
				            "quoted field is written \"\")",
				            nf + 1);
		} else {
			for (; p < end && *p != ',' && *p != '\n' && *p != '\r'; p++) {
				if (*p == '"')
					return fail(r, r->line,
					            "a quote inside unquoted field %zu (quote the "
					            "whole "
					            "field and write \"\" for the quote)",
					            nf + 1);
				if (*p == '\0')
					return fail(r, r->line, "a NUL byte");
				if (flen++ == r->max_field)
					return fail(r, r->line,
					            "field %zu is longer than %zu bytes", nf + 1,
					            r->max_field);
				if (!put(r, &used, *p))
					return fail(r, r->line, "out of memory");
			}
			if (p < end && *p == '\r' && !(p + 1 < end && p[1] == '\n'))
				return fail(
				        r, r->line,
				        "a carriage return not followed by a line feed (lines end "
				        "with CRLF or LF)");
		}
		if (!put(r, &used, '\0'))
			return fail(r, r->line, "out of memory");
		nf++;
		if (p >= end)
			break;
		if (*p == ',') {
			p++;
			continue;
		}
		p += *p == '\r' ? 2 : 1; /* CRLF or LF */
		r->line++;
		break;
	}
	r->p = p;
	for (size_t i = 0; i < nf; i++)
		r->fields[i] = r->buf + r->offsets[i];
	*fields = r->fields;
	*n = nf;
	*line = start;
	return 1;
}

/* The first bytes of a cell that a spreadsheet takes for a formula (OWASP's
 * CSV injection list). */
static bool starts_formula(char ch)
{
	return ch != '\0' && strchr("=+-@\t\r", ch) != NULL;
}

/* True for exactly '+' followed by 8 to 15 digits (E.164 allows 15 at most;
 * fewer than 8 is no real number). */
static bool is_e164(const char *s)
{
	if (s[0] != '+')
		return false;
	size_t digits = strspn(s + 1, "0123456789");
	return digits >= 8 && digits <= 15 && s[1 + digits] == '\0';
}

/* True when the writer puts a ' in front of s: see csv.h. */
static bool needs_protection(const char *s)
{
	size_t quotes = strspn(s, "'");
	return starts_formula(s[quotes]) && !(quotes == 0 && is_e164(s));
}

void ob_csv_unprotect(char *s)
{
	if (s[0] == '\'' && starts_formula(s[strspn(s, "'")]))
		memmove(s, s + 1, strlen(s)); /* the NUL moves too */
}

void ob_csv_write_field(FILE *f, const char *s)
{
	if (s == NULL)
		s = "";
	size_t len = strlen(s);
	bool protect = needs_protection(s);
	/* A leading byte order mark is quoted too: unquoted, a reader would
	 * take it for the file's own and drop it. */
	bool quote = protect || strpbrk(s, ",\"\r\n") != NULL ||
	             (len > 0 && (s[0] == ' ' || s[len - 1] == ' ')) ||
	             (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0);
	if (!quote) {
		fputs(s, f);
		return;
	}
	putc('"', f);
	if (protect)
		putc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putc('"', f);
		putc(*s, f);
	}
	putc('"', f);
}

void ob_csv_write_record(FILE *f, const char *const *fields, size_t n, const char *eol)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			putc(',', f);
		ob_csv_write_field(f, fields[i]);
	}
	fputs(eol, f);
}
