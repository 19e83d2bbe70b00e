/*
 * fuzz_csv.c: libFuzzer target for client/cli/csv.c, the CSV reader behind `onboard import`
 * (which reads a file the user hands it) and the writer behind `onboard export`.
 *
 * Each input is read twice as CSV: with the default limits (4096 bytes a field, 256 fields a
 * record) and with small ones (SMALL_FIELD, SMALL_FIELDS) so that the bounds are reached.
 *
 * Invariants checked, beyond "no crash, no leak, no UB, no read past the input":
 *   - a record has 1 to max_fields fields, each at most max_field bytes with no NUL inside,
 *     and starts on a line after the previous record's and no later than the input has lines;
 *   - an error leaves one line of printable text in err, "line N: ..." with N between the line
 *     the failing record starts on and the input's last line, and every later call fails too;
 *     the end of the data is 0 again on every later call;
 *   - round trip: the records read (up to an error, if any) written back with
 *     ob_csv_write_record, with LF and with CRLF, read back without error (with one byte more
 *     a field: the quote of the formula protection) as the same records once each field has
 *     been through ob_csv_unprotect, as `onboard import` does;
 *   - formula injection: no field read back from what the writer wrote starts with =, +, -, @,
 *     a tab or a carriage return, unless it is exactly an E.164 number ('+' and 8 to 15
 *     digits). Checked here with code of its own, not csv.c's.
 *
 * tests/fuzz/corpus/csv holds small hand-written seeds, one per feature or error. Build with
 * -Dfuzz=true and clang for libFuzzer; tests/fuzz/replay.c drives the same entry point over
 * the corpus in any build (the fuzz-smoke suite).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "csv.h"

enum { SMALL_FIELD = 8, SMALL_FIELDS = 4 };

typedef struct {
	char **fields;
	size_t n;
} record;

typedef struct {
	record *recs;
	size_t n, cap;
} table;

static void table_free(table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t k = 0; k < t->recs[i].n; k++)
			free(t->recs[i].fields[k]);
		free(t->recs[i].fields);
	}
	free(t->recs);
	memset(t, 0, sizeof(*t));
}

/* Copies a record into t; false if out of memory. */
static bool table_add(table *t, char **fields, size_t n)
{
	if (t->n == t->cap) {
		size_t cap = t->cap > 0 ? t->cap * 2 : 16;
		record *g = realloc(t->recs, cap * sizeof(*g));
		if (g == NULL)
			return false;
		t->recs = g;
		t->cap = cap;
	}
	record *r = &t->recs[t->n];
	r->n = 0;
	r->fields = calloc(n, sizeof(*r->fields));
	if (r->fields == NULL)
		return false;
	t->n++;
	for (size_t k = 0; k < n; k++) {
		if ((r->fields[k] = strdup(fields[k])) == NULL)
			return false;
		r->n++;
	}
	return true;
}

static size_t count_lines(const uint8_t *data, size_t size)
{
	size_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	return lines;
}

static void check_err(const ob_csv_reader *r, size_t from, size_t lines)
{
	if (memchr(r->err, '\0', sizeof(r->err)) == NULL)
		fuzz_die("err is not NUL-terminated");
	for (const char *c = r->err; *c != '\0'; c++) {
		if (*c < 0x20 || *c > 0x7e)
			fuzz_die("err is not one line of printable ASCII");
	}
	size_t at;
	int used = 0;
	if (sscanf(r->err, "line %zu: %n", &at, &used) != 1 || used == 0)
		fuzz_die("err does not start with \"line N: \"");
	if (at < from || at > lines)
		fuzz_die("err names a line outside the failing record");
}

/* Reads data to its end or first error, into t (when non-NULL), checking the invariants
 * above; returns the result of the last ob_csv_read (0 or -1). */
static int read_all(const char *data, size_t size, size_t max_field, size_t max_fields, table *t)
{
	size_t lines = count_lines((const uint8_t *)data, size);
	size_t eff_field = max_field > 0 ? max_field : 4096;
	size_t eff_fields = max_fields > 0 ? max_fields : 256;
	ob_csv_reader r;
	ob_csv_reader_init(&r, data, size, max_field, max_fields);
	char **f;
	size_t n, line, prev = 0;
	int got;
	while ((got = ob_csv_read(&r, &f, &n, &line)) > 0) {
		if (n < 1 || n > eff_fields)
			fuzz_die("a record with a bad number of fields");
		if (line <= prev || line > lines)
			fuzz_die("a record starts on a bad line");
		for (size_t k = 0; k < n; k++) {
			if (f[k] == NULL || strlen(f[k]) > eff_field)
				fuzz_die("a field is too long or NULL");
		}
		prev = line;
		if (t != NULL && !table_add(t, f, n))
			goto out; /* out of memory: nothing to check */
	}
	if (got < 0) {
		check_err(&r, prev + 1, lines);
		if (ob_csv_read(&r, &f, &n, &line) != -1)
			fuzz_die("a read after an error did not fail");
	} else {
		if (r.err[0] != '\0')
			fuzz_die("the end of the data left a message");
		if (ob_csv_read(&r, &f, &n, &line) != 0)
			fuzz_die("a read after the end did not return 0");
	}
out:
	ob_csv_reader_fini(&r);
	return got;
}

/* True if a spreadsheet would take s for a formula: see the invariants above. */
static bool formula(const char *s)
{
	if (s[0] == '\0' || strchr("=+-@\t\r", s[0]) == NULL)
		return false;
	size_t digits = strspn(s + 1, "0123456789");
	return !(s[0] == '+' && digits >= 8 && digits <= 15 && s[1 + digits] == '\0');
}

/* Writes t with eol, reads it back with the same limits (one byte more a field, for the
 * protection's quote) and compares. */
static void round_trip(const table *t, const char *eol, size_t max_field, size_t max_fields)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (f == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		ob_csv_write_record(f, (const char *const *)t->recs[i].fields, t->recs[i].n, eol);
	if (fclose(f) != 0) {
		free(out);
		return;
	}
	table back = {0};
	size_t eff_field = max_field > 0 ? max_field : 4096;
	if (read_all(out, len, eff_field + 1, max_fields, &back) < 0) {
		fprintf(stderr, "written: \"%.*s\"\n", (int)len, out);
		fuzz_die("what the writer wrote does not read back");
	}
	if (back.n != t->n)
		fuzz_die("round trip: another number of records");
	for (size_t i = 0; i < t->n; i++) {
		if (back.recs[i].n != t->recs[i].n)
			fuzz_die("round trip: another number of fields");
		for (size_t k = 0; k < t->recs[i].n; k++) {
			if (formula(back.recs[i].fields[k])) {
				fprintf(stderr,
				        "record %zu field %zu: \"%s\" written as a formula\n",
				        i + 1, k + 1, back.recs[i].fields[k]);
				fuzz_die("formula injection: a cell starts a formula");
			}
			ob_csv_unprotect(back.recs[i].fields[k]);
			if (strcmp(back.recs[i].fields[k], t->recs[i].fields[k]) != 0) {
				fprintf(stderr,
				        "record %zu field %zu: \"%s\" came back as \"%s\"\n", i + 1,
				        k + 1, t->recs[i].fields[k], back.recs[i].fields[k]);
				fuzz_die("round trip: a field changed");
			}
		}
	}
	table_free(&back);
	free(out);
}

static void fuzz_limits(const uint8_t *data, size_t size, size_t max_field, size_t max_fields)
{
	table t = {0};
	read_all((const char *)data, size, max_field, max_fields, &t);
	round_trip(&t, "\n", max_field, max_fields);
	round_trip(&t, "\r\n", max_field, max_fields);
	table_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_limits(data, size, 0, 0);
	fuzz_limits(data, size, SMALL_FIELD, SMALL_FIELDS);
	return 0;
}
