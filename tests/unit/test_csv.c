/*
 * test_csv.c: unit tests for client/cli/csv.c, the RFC 4180 reader and writer behind
 * `onboard import` and `onboard export`.
 *
 * Most reader tests go through parse(), which renders everything a reader returns as one
 * string: each record as "LINE[field|field]", and an error as "!" followed by r.err. A test
 * then reads as the input next to what it must give.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

static char rendered[8192];

/* Reads len bytes of data to the end or the first error; returns the rendering above. */
static const char *parse_n(const char *data, size_t len, size_t max_field, size_t max_fields)
{
	ob_csv_reader r;
	ob_csv_reader_init(&r, data, len, max_field, max_fields);
	size_t used = 0;
	rendered[0] = '\0';
	char **f;
	size_t n, line;
	int got;
	while ((got = ob_csv_read(&r, &f, &n, &line)) > 0) {
		used += (size_t)snprintf(rendered + used, sizeof(rendered) - used, "%zu[", line);
		for (size_t i = 0; i < n; i++)
			used += (size_t)snprintf(rendered + used, sizeof(rendered) - used, "%s%s",
			                         i > 0 ? "|" : "", f[i]);
		used += (size_t)snprintf(rendered + used, sizeof(rendered) - used, "]");
		assert_true(used < sizeof(rendered));
	}
	if (got < 0) {
		snprintf(rendered + used, sizeof(rendered) - used, "!%s", r.err);
		/* an error is sticky */
		assert_int_equal(ob_csv_read(&r, &f, &n, &line), -1);
	} else {
		assert_int_equal(r.err[0], '\0');
		assert_int_equal(ob_csv_read(&r, &f, &n, &line), 0); /* and so is the end */
	}
	ob_csv_reader_fini(&r);
	return rendered;
}

static const char *parse(const char *data)
{
	return parse_n(data, strlen(data), 0, 0);
}

/* Asserts that data, read with the given limits, fails with a message starting "line N: "
 * and containing what, after the records in before (rendered as above). */
static void check_error(const char *data, size_t len, size_t max_field, size_t max_fields,
                        const char *before, size_t line, const char *what)
{
	const char *got = parse_n(data, len, max_field, max_fields);
	char want[256];
	snprintf(want, sizeof(want), "%s!line %zu: ", before, line);
	if (strncmp(got, want, strlen(want)) != 0 || strstr(got, what) == NULL)
		print_error("got \"%s\", want \"%s...%s...\"\n", got, want, what);
	assert_true(strncmp(got, want, strlen(want)) == 0);
	assert_non_null(strstr(got, what));
}

/* Writes the records with ob_csv_write_record into a string the caller frees. */
static char *write_records(const char *const *const *recs, const size_t *counts, size_t n,
                           const char *eol)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		ob_csv_write_record(f, recs[i], counts[i], eol);
	assert_int_equal(fclose(f), 0);
	return out;
}

static char *write_field(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	ob_csv_write_field(f, s);
	assert_int_equal(fclose(f), 0);
	return out;
}

/* A reading and what it must give: with what NULL, the rendering of every record (want);
 * otherwise the error of line `line` containing what, after the records rendered in want.
 * len 0 reads strlen(data) bytes; a case with a NUL in its data, or one read short, says how
 * many. */
typedef struct csv_case {
	const char *data, *want;
	size_t line;
	const char *what;
	size_t len;
} csv_case;

/* The rows of a table: data that reads as want; data that fails on line `line` with what, after
 * the records rendered in before. */
/* clang-format off */
#define READS(data, want)               {data, want, 0, NULL, 0}
#define FAILS(data, before, line, what) {data, before, line, what, 0}
/* clang-format on */

/* Reads each case with the limits max_field and max_fields (0: the defaults). */
static void check_cases(const csv_case *c, size_t n, size_t max_field, size_t max_fields)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = c[i].len != 0 ? c[i].len : strlen(c[i].data);
		if (c[i].what != NULL)
			check_error(c[i].data, len, max_field, max_fields, c[i].want, c[i].line,
			            c[i].what);
		else
			assert_string_equal(parse_n(c[i].data, len, max_field, max_fields),
			                    c[i].want);
	}
}

/* A table of cases and the limits it is read with, run as a test of its own (TABLE_TEST). */
typedef struct csv_table {
	const csv_case *cases;
	size_t n, max_field, max_fields;
} csv_table;

static void test_table(void **state)
{
	const csv_table *t = *state;
	check_cases(t->cases, t->n, t->max_field, t->max_fields);
}

/* The CMUnitTest, named after the table, that reads table c with those limits, or the defaults. */
/* clang-format off */
#define LIMITED_TEST(c, max_field, max_fields) \
	{#c, test_table, NULL, NULL, \
	 &(csv_table){c, sizeof(c) / sizeof((c)[0]), max_field, max_fields}}
#define TABLE_TEST(c) LIMITED_TEST(c, 0, 0)
/* clang-format on */

/* Plain fields and records, LF-terminated, with their starting lines. */
static const csv_case plain_rows[] = {
        READS("siren,name\n732829320,Acme\n", "1[siren|name]2[732829320|Acme]"),
        READS("a", "1[a]"),               /* one field, no line break */
        READS("a b , c\n", "1[a b | c]"), /* spaces are data */
};

/* CRLF, LF, a mix of both, and no line break after the last record all end records. */
static const csv_case line_endings[] = {
        READS("a,b\r\nc,d\r\n", "1[a|b]2[c|d]"),
        READS("a,b\r\nc,d", "1[a|b]2[c|d]"),    /* CRLF, then none */
        READS("a,b\nc,d", "1[a|b]2[c|d]"),      /* LF, then none */
        READS("a\r\nb\nc\r\n", "1[a]2[b]3[c]"), /* mixed */
        READS("\"a\"\r\n\"b\"", "1[a]2[b]"),    /* after quoted fields */
};

/* Quoted fields hold commas, "" for a quote, CRLF and LF; a record spanning lines reports
 * the line it starts on and the next record the physical line after it. */
static const csv_case quoted[] = {
        READS("\"a,b\",c\n", "1[a,b|c]"),
        READS("\"say \"\"hi\"\"\",x\n", "1[say \"hi\"|x]"),
        READS("\"\"\"\"\n", "1[\"]"),
        READS("\"\"\n", "1[]"),
        READS("\"l1\nl2\r\nl3\",x\ny\n", "1[l1\nl2\r\nl3|x]4[y]"),
        READS("\"\n\n\"\n\"\n\"", "1[\n\n]4[\n]"),
        READS("\"a\r\"\n", "1[a\r]"), /* a CR inside quotes is data */
};

/* A UTF-8 byte order mark is skipped at the very start only, and does not shift lines. */
static const csv_case bom[] = {
        READS("\xEF\xBB\xBF"
              "a,b\nc\n",
              "1[a|b]2[c]"),
        READS("\xEF\xBB\xBF", ""),
        READS("\xEF\xBB\xBF\"q\"\n", "1[q]"),
        READS("a\n\xEF\xBB\xBF"
              "b\n",
              "1[a]2[\xEF\xBB\xBF"
              "b]"),
        READS("\xEF\xBB", "1[\xEF\xBB]"), /* a partial mark is data */
        FAILS("\xEF\xBB\xBF\na\"\n", "1[]", 2, "a quote inside unquoted field 1"),
};

/* Empty cells anywhere, and an empty line as a record of one empty field. */
static const csv_case empty[] = {
        READS("", ""),
        READS("\n", "1[]"),
        READS("\r\n", "1[]"),
        READS(",,\n", "1[||]"),
        READS("a,\n,b\n", "1[a|]2[|b]"),
        READS("a,", "1[a|]"),
        READS("a\n\n\nb\n", "1[a]2[]3[]4[b]"),
        READS("a\n\r\n", "1[a]2[]"),
        READS("\"\",\"\"", "1[|]"),
};

/* The reader takes a length, not a NUL: bytes past len are not read. */
static const csv_case length_bound[] = {
        {"a,b\nc,d", "1[a|b]2[c]", 0, NULL, 5},
        {"\"ab\"x", "1[ab]", 0, NULL, 4},
        {"\"ab\"", "", 1, "never closed", 3},
};

/* Malformed input is refused, naming the line and what is wrong, after the records before it. */
static const csv_case errors[] = {
        /* A quote in an unquoted field and text after a closing quote, named by field and
         * line. */
        FAILS("a,b\nc,d\"e\n", "1[a|b]", 2, "a quote inside unquoted field 2"),
        FAILS("a\n\"x\"y,z\n", "1[a]", 2, "text after the closing quote of field 1"),
        FAILS("\"a\" ,b\n", "", 1, "text after the closing quote of field 1"),
        /* the line is the physical one, after a quoted line break in the same record */
        FAILS("h\n\"l2\nl3\",x\"\n", "1[h]", 3, "a quote inside unquoted field 2"),
        /* An unterminated quote is reported on the line where it opened, not where data
         * ends. */
        FAILS("a\nb,\"open\n\n\nstill open", "1[a]", 2, "never closed"),
        FAILS("\"", "", 1, "never closed"),
        FAILS("\"ab\"\"", "", 1, "never closed"),
        /* A CR not followed by LF is refused outside quotes: in a field, at the end, at the
         * very end. */
        FAILS("a\nb\rc\n", "1[a]", 2, "carriage return"),
        FAILS("a\n\n\r", "1[a]2[]", 3, "carriage return"),
        FAILS("a,\r\r\n", "", 1, "carriage return"),
        /* after a closing quote it is "text after the closing quote": still refused */
        FAILS("\"a\"\rb", "", 1, "closing quote"),
        /* A NUL byte is refused in unquoted and quoted fields alike. */
        {"a\nb\0c\n", "1[a]", 2, "NUL", 6},
        {"\"x\n\0\"", "", 2, "NUL", 5},
};

/* max_field (4 here) bytes pass and one more fails, counting unescaped bytes ("" is one). */
static const csv_case field_size[] = {
        READS("abcd,\"ef\"\"g\"", "1[abcd|ef\"g]"),
        FAILS("abcd\nabcde\n", "1[abcd]", 2, "field 1 is longer than 4 bytes"),
        FAILS("x,\"ab\"\"cd\"\n", "", 1, "field 2 is longer than 4 bytes"),
        /* the line of the byte that went over, inside a multi-line quoted field */
        FAILS("\"a\nb\nc\"", "", 3, "field 1 is longer than 4 bytes"),
};

/* A record of more than max_fields (2 here) cells fails, empty trailing ones counted, on the
 * physical line where it goes over; test_limits reads as many as are allowed. */
static const csv_case field_count[] = {
        FAILS("a,b\na,b,c\n", "1[a|b]", 2, "more than 2 fields in a record"),
        FAILS("a,b,\n", "", 1, "more than 2 fields"),
        FAILS("\"\n\",b,c", "", 2, "more than 2 fields"),
};

/* The default limits: 4096 bytes a field, 256 fields a record; and three fields where three
 * may be, including empty trailing ones. */
static void test_limits(void **state)
{
	(void)state;
	assert_string_equal(parse_n("a,b,c\n,,\n", 9, 0, 3), "1[a|b|c]2[||]");

	char *big = malloc(4098);
	assert_non_null(big);
	memset(big, 'x', 4097);
	big[4097] = '\0';
	check_error(big, 4097, 0, 0, "", 1, "longer than 4096 bytes");
	assert_int_equal(strlen(parse_n(big, 4096, 0, 0)), 4096 + 3);
	free(big);

	char row[2 * 257 + 1];
	for (size_t i = 0; i < 257; i++) {
		row[2 * i] = 'x';
		row[2 * i + 1] = ',';
	}
	check_error(row, 2 * 257 - 1, 0, 0, "", 1, "more than 256 fields");
	parse_n(row, 2 * 256 - 1, 0, 0);
	assert_int_equal(rendered[0], '1');
}

/* Fields stay valid while the record buffer grows past its first allocation. */
static void test_buffer_growth(void **state)
{
	(void)state;
	enum { CELLS = 200, CELL = 40 };
	char data[CELLS * (CELL + 1)];
	for (size_t i = 0; i < CELLS; i++) {
		memset(data + i * (CELL + 1), (int)('A' + i % 26), CELL);
		data[i * (CELL + 1) + CELL] = i + 1 < CELLS ? ',' : '\n';
	}
	ob_csv_reader r;
	ob_csv_reader_init(&r, data, sizeof(data), 0, 0);
	char **f;
	size_t n, line;
	assert_int_equal(ob_csv_read(&r, &f, &n, &line), 1);
	assert_int_equal(n, CELLS);
	for (size_t i = 0; i < CELLS; i++) {
		assert_int_equal(strlen(f[i]), CELL);
		assert_int_equal(f[i][0], 'A' + i % 26);
		assert_int_equal(f[i][CELL - 1], 'A' + i % 26);
	}
	assert_int_equal(ob_csv_read(&r, &f, &n, &line), 0);
	ob_csv_reader_fini(&r);
}

/* fini accepts NULL, a reader never read, and a reader finished twice. */
static void test_fini(void **state)
{
	(void)state;
	ob_csv_reader_fini(NULL);
	ob_csv_reader r;
	ob_csv_reader_init(&r, "a", 1, 0, 0);
	ob_csv_reader_fini(&r);
	ob_csv_reader_fini(&r);
}

/* A field and what it must become. */
typedef struct csv_pair {
	const char *in, *out;
} csv_pair;

/* Each cases[i].in, written by ob_csv_write_field, is exactly cases[i].out. */
static void check_written(const csv_pair *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *got = write_field(cases[i].in);
		if (strcmp(got, cases[i].out) != 0)
			print_error("case %zu: wrote \"%s\", want \"%s\"\n", i, got, cases[i].out);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

#define CHECK_WRITTEN(cases) check_written(cases, sizeof(cases) / sizeof((cases)[0]))

/* The writer quotes exactly what needs it, doubles quotes, and writes NULL as empty. */
static const csv_pair plain_fields[] = {
        {"plain", "plain"},
        {"", ""},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"\"", "\"\"\"\""},
        {"l1\nl2", "\"l1\nl2\""},
        {"a\rb", "\"a\rb\""},
        {" lead", "\" lead\""},
        {"trail ", "\"trail \""},
        {"in side", "in side"},
        {"Société Générale", "Société Générale"},
};

static void test_write_field(void **state)
{
	(void)state;
	CHECK_WRITTEN(plain_fields);
	char *got = write_field(NULL);
	assert_string_equal(got, "");
	free(got);
}

/*
 * Formula injection (OWASP's CSV injection rule): a cell that starts with =, +, -, @, a tab or
 * a carriage return is written with a leading ' and quoted, so that a spreadsheet opening the
 * export shows it as text instead of running it. A cell that is exactly an E.164 phone number
 * ('+' and 8 to 15 digits) is left as it is. A cell that already starts with quotes followed
 * by one of those characters gets one more quote, so that import can take exactly one off.
 */
static const csv_pair formulas[] = {
        {"=SUM(A1)", "\"'=SUM(A1)\""},
        {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
        {"+1+1", "\"'+1+1\""},
        {"-2+3", "\"'-2+3\""},
        {"-", "\"'-\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"\tcmd", "\"'\tcmd\""},
        {"\rcmd", "\"'\rcmd\""},
        {"=1,2", "\"'=1,2\""},
        {"'=1", "\"''=1\""},
        {"''-1", "\"'''-1\""},
        /* E.164: '+' and 8 to 15 digits, nothing else */
        {"+33123456789", "+33123456789"},
        {"+12345678", "+12345678"},
        {"+123456789012345", "+123456789012345"},
        {"+1234567", "\"'+1234567\""},
        {"+1234567890123456", "\"'+1234567890123456\""},
        {"+33 1 23 45 67 89", "\"'+33 1 23 45 67 89\""},
        {"+33123456789+1", "\"'+33123456789+1\""},
        {"+", "\"'+\""},
        {"'+33123456789", "\"''+33123456789\""},
        /* not at the start, or a quote not followed by one of them: as they are */
        {"a=1", "a=1"},
        {"1-2", "1-2"},
        {"x@example.fr", "x@example.fr"},
        {"'quoted", "'quoted"},
        {"'", "'"},
        {"", ""},
};

static void test_write_formula(void **state)
{
	(void)state;
	CHECK_WRITTEN(formulas);
}

/* ob_csv_unprotect takes off the one quote the writer adds, and nothing else. */
static const csv_pair protected[] = {
        {"'=SUM(A1)", "=SUM(A1)"},
        {"'+1", "+1"},
        {"'-", "-"},
        {"'@x", "@x"},
        {"'\tx", "\tx"},
        {"'\rx", "\rx"},
        {"''=1", "'=1"},
        {"'''-1", "''-1"},
        {"'+33123456789", "+33123456789"},
        {"'quoted", "'quoted"},
        {"''", "''"},
        {"'", "'"},
        {"=1", "=1"},
        {"+33123456789", "+33123456789"},
        {"", ""},
};

static void test_unprotect(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(protected) / sizeof(protected[0]); i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", protected[i].in);
		ob_csv_unprotect(buf);
		assert_string_equal(buf, protected[i].out);
	}
}

/* Records end with the eol asked for; NULL fields are empty cells. */
static void test_write_record(void **state)
{
	(void)state;
	const char *const r1[] = {"a", NULL, "b,c"};
	const char *const r2[] = {""};
	const char *const *recs[] = {r1, r2};
	const size_t counts[] = {3, 1};
	char *lf = write_records(recs, counts, 2, "\n");
	assert_string_equal(lf, "a,,\"b,c\"\n\n");
	char *crlf = write_records(recs, counts, 2, "\r\n");
	assert_string_equal(crlf, "a,,\"b,c\"\r\n\r\n");
	assert_string_equal(parse(lf), "1[a||b,c]2[]");
	assert_string_equal(parse(crlf), "1[a||b,c]2[]");
	free(lf);
	free(crlf);
}

/* True if s would start a formula in a spreadsheet: its first byte is in OWASP's list and it is
 * not an E.164 number. Written apart from csv.c's own test, on purpose. */
static bool formula(const char *s)
{
	if (s[0] == '\0' || strchr("=+-@\t\r", s[0]) == NULL)
		return false;
	size_t digits = strspn(s + 1, "0123456789");
	return !(s[0] == '+' && digits >= 8 && digits <= 15 && s[1 + digits] == '\0');
}

/* Awkward values come back unchanged from writer to reader and ob_csv_unprotect, with LF and
 * CRLF, and no cell the reader gets from the writer starts a formula. */
static void test_round_trip(void **state)
{
	(void)state;
	const char *const values[] = {
	        "",
	        "plain",
	        "a,b",
	        "\"",
	        "\"\"",
	        "say \"hi\", then go",
	        "l1\nl2",
	        "l1\r\nl2",
	        "cr\ronly",
	        "\n",
	        "=HYPERLINK(\"http://x\",\"y\")",
	        "+33 1 23 45 67 89",
	        "+33123456789",
	        "'+33123456789",
	        "-2+3",
	        "@SUM(A1)",
	        "\tx",
	        "\r\n=1",
	        "'=1",
	        "''@",
	        "'plain",
	        " padded ",
	        "Zoë Ærø, «Ünïcødé» 日本語 🙂",
	        "\xEF\xBB\xBF", /* a BOM that is a value, not the first bytes of the file */
	        ",",
	        "a\"b\nc,d\re",
	};
	const size_t nv = sizeof(values) / sizeof(values[0]);
	const char *const *recs[2] = {values, values};
	const size_t counts[2] = {nv, nv};
	const char *const eols[] = {"\n", "\r\n"};
	for (size_t e = 0; e < 2; e++) {
		/* a plain first record, so that the BOM value is not at the start */
		const char *const head[] = {"h"};
		const char *const *all[3] = {head, recs[0], recs[1]};
		const size_t all_counts[3] = {1, counts[0], counts[1]};
		char *text = write_records(all, all_counts, 3, eols[e]);
		ob_csv_reader r;
		ob_csv_reader_init(&r, text, strlen(text), 0, 0);
		char **f;
		size_t n, line;
		assert_int_equal(ob_csv_read(&r, &f, &n, &line), 1);
		assert_int_equal(n, 1);
		for (size_t k = 0; k < 2; k++) {
			assert_int_equal(ob_csv_read(&r, &f, &n, &line), 1);
			assert_int_equal(n, nv);
			for (size_t i = 0; i < nv; i++) {
				assert_false(formula(f[i]));
				ob_csv_unprotect(f[i]);
				assert_string_equal(f[i], values[i]);
			}
		}
		assert_int_equal(ob_csv_read(&r, &f, &n, &line), 0);
		ob_csv_reader_fini(&r);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        TABLE_TEST(plain_rows),
	        TABLE_TEST(line_endings),
	        TABLE_TEST(quoted),
	        TABLE_TEST(bom),
	        TABLE_TEST(empty),
	        TABLE_TEST(length_bound),
	        TABLE_TEST(errors),
	        LIMITED_TEST(field_size, 4, 0),
	        LIMITED_TEST(field_count, 0, 2),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_buffer_growth),
	        cmocka_unit_test(test_fini),
	        cmocka_unit_test(test_write_field),
	        cmocka_unit_test(test_write_formula),
	        cmocka_unit_test(test_unprotect),
	        cmocka_unit_test(test_write_record),
	        cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
