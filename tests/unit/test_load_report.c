/*
 * test_load_report.c: what onboard-load reports (client/load/report.c, histogram.c): the
 * histogram's figures against the exact ones of the values recorded, the errors counted by
 * status and message and made safe to print, and the four formats read back by real
 * readers: Python's json and csv modules, and a reader of HdrHistogram's percentile
 * distribution written after HdrHistogram's own (Java's outputPercentileDistribution) that
 * checks every line against the exact percentiles of the values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "load.h"
#include "onboard/client.h"
#include "report.h"
#include "testutil.h"

enum { N = 20000 };

/* The values of the tests: spread from 50 us to 40 ms, in no order. Python makes the same. */
static int64_t sample(int i)
{
	return 50 + (int64_t)(((uint64_t)i * 7919u) % 40000u);
}
#define PY_SAMPLES "[50 + (i * 7919) % 40000 for i in range(20000)]"

/* ---- the histogram ------------------------------------------------------------------ */

static void test_histogram_figures(void **state)
{
	(void)state;
	ob_hist *h = malloc(sizeof(*h)), *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	assert_true(h != NULL && a != NULL && b != NULL);
	ob_hist_init(h);
	ob_hist_init(a);
	ob_hist_init(b);
	for (int64_t v = 1; v <= 10000; v++) {
		ob_hist_record(h, v);
		ob_hist_record(v % 2 ? a : b, v);
	}
	assert_int_equal(h->total, 10000);
	assert_int_equal(h->min, 1);
	assert_int_equal(h->max, 10000);
	assert_true(ob_hist_mean(h) == 5000.5);
	/* The uniform law's deviation, within the buckets' precision. */
	double sd = ob_hist_stddev(h);
	assert_true(sd > 2886.75 * 0.99 && sd < 2886.75 * 1.01);
	/* A quantile is the highest value of the bucket holding that rank: never below the
	 * exact value, at most 1/128 above it. */
	static const double qs[] = {0.01, 0.1, 0.5, 0.9, 0.99, 0.999};
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		int64_t exact = (int64_t)(qs[i] * 10000 + 0.5), got = ob_hist_quantile(h, qs[i]);
		if (got < exact || (double)got > (double)exact * (1.0 + 1.0 / 128) + 1)
			fail_msg("q %g: %lld, exact %lld", qs[i], (long long)got, (long long)exact);
	}
	assert_int_equal(ob_hist_quantile(h, 1.0), 10000); /* never beyond the max */
	assert_int_equal(ob_hist_count_upto(h, 100), 100); /* below 128 every value is exact */
	assert_int_equal(ob_hist_count_upto(h, 10000), 10000);
	assert_int_equal(ob_hist_count_upto(h, 0), 0);
	/* Merged halves are the whole. */
	ob_hist_merge(a, b);
	assert_memory_equal(a->counts, h->counts, sizeof(h->counts));
	assert_int_equal(a->total, h->total);
	assert_int_equal(a->min, h->min);
	assert_int_equal(a->max, h->max);
	free(h);
	free(a);
	free(b);
}

/* ---- errors ------------------------------------------------------------------------- */

static void clean(const char *in, size_t len, const char *want)
{
	char out[OB_LOAD_MESSAGE_MAX];
	ob_load_clean_text(out, sizeof(out), in, len);
	if (strcmp(out, want) != 0)
		fail_msg("cleaned into '%s', expected '%s'", out, want);
}
#define CLEAN(in, want) clean((in), sizeof(in) - 1, (want))

static void test_messages_made_safe(void **state)
{
	(void)state;
	CLEAN("plain text, \"quotes\" and \\", "plain text, \"quotes\" and \\");
	CLEAN("tab\there\nand\x1b[31mred\x7f", "tab?here?and?[31mred?");
	CLEAN("caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac",
	      "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac");
	CLEAN("\xc2\x9b"
	      "2J",
	      "??2J");                     /* a C1 control: a terminal's CSI */
	CLEAN("\xc0\xaf", "??");           /* overlong '/' */
	CLEAN("\xed\xa0\x80", "???");      /* a surrogate */
	CLEAN("\xf4\x90\x80\x80", "????"); /* beyond U+10FFFF */
	CLEAN("cut \xe2\x82", "cut ??");   /* a character cut short */
	CLEAN("nul\0inside", "nul?inside");
	/* Cut at the size, never in the middle of a character. */
	char longer[600];
	for (int i = 0; i < 300; i++)
		memcpy(longer + 2 * i, "\xc3\xa9", 2);
	char out[OB_LOAD_MESSAGE_MAX];
	ob_load_clean_text(out, sizeof(out), longer, 600);
	size_t want = (OB_LOAD_MESSAGE_MAX - 1) / 2 * 2; /* whole characters of 2 bytes */
	assert_int_equal(strlen(out), want);
	assert_memory_equal(out + want - 2, "\xc3\xa9", 2);
}

static void test_errors_counted(void **state)
{
	(void)state;
	ob_load_config c = {.scenario = "get"};
	ob_load_result *r = malloc(sizeof(*r));
	assert_non_null(r);
	ob_load_result_init(r, &c);
	for (int i = 0; i < 3; i++)
		ob_load_errors_add(r, OB_CODE_NOT_FOUND, false, "no application x", 16);
	ob_load_errors_add(r, OB_CODE_NOT_FOUND, true, "no application x", 16); /* local: apart */
	ob_load_errors_add(r, OB_CODE_UNAVAILABLE, false, "no application x", 16);
	ob_load_errors_add(r, 99, false, "odd", 3); /* outside the contract: UNKNOWN */
	assert_int_equal(r->n_errors, 4);
	assert_int_equal(r->errors[0].count, 3);
	assert_int_equal(r->errors[1].count, 1);
	assert_true(r->errors[1].local);
	assert_int_equal(r->errors[3].code, OB_CODE_UNKNOWN);
	/* Past OB_LOAD_MAX_ERRORS pairs, the rest is counted, not kept. */
	for (int i = 0; i < OB_LOAD_MAX_ERRORS + 10; i++) {
		char m[32];
		int n = snprintf(m, sizeof(m), "message %d", i);
		ob_load_errors_add(r, OB_CODE_INTERNAL, false, m, (size_t)n);
	}
	assert_int_equal(r->n_errors, OB_LOAD_MAX_ERRORS);
	assert_int_equal(r->unlisted, 14);
	ob_load_errors_add(r, OB_CODE_NOT_FOUND, false, "no application x", 16);
	assert_int_equal(r->errors[0].count, 4); /* a kept pair still counts */
	free(r);
}

/* ---- the formats -------------------------------------------------------------------- */

typedef struct fixture {
	char dir[256];
	ob_load_config cfg;
	ob_load_result *r;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || ob_test_mkdtemp(f->dir, sizeof(f->dir), "load-report") != 0)
		return -1;
	char *argv[] = {"onboard-load",
	                "--call",
	                "/onboard.v1.Onboarding/GetCohort",
	                "-c",
	                "8",
	                "-s",
	                "ipc:///run/a.sock",
	                "-s",
	                "tcp://127.0.0.1:7400",
	                NULL};
	char err[256];
	unsetenv("ONBOARD_KEY");
	if (ob_load_parse(&f->cfg, 9, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	f->r = malloc(sizeof(*f->r));
	if (f->r == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	ob_load_config_fini(&f->cfg);
	free(f->r);
	ob_test_remove_tree(f->dir);
	free(f);
	return 0;
}

/* The result every format test reads: N OK calls of the sample values in 2.5 s, and eight
 * failures of three kinds, one with a message that needed cleaning. */
static void fill(fixture *f, bool empty)
{
	ob_load_result *r = f->r;
	ob_load_result_init(r, &f->cfg);
	r->cohort = "load-20201102-100000-ab12";
	r->cohort_created = true;
	if (empty)
		return;
	r->seconds = 2.5;
	for (int i = 0; i < N; i++)
		ob_hist_record(&r->hist, sample(i));
	r->codes[OB_CODE_OK] = N;
	for (int i = 0; i < 4; i++)
		ob_load_errors_add(r, OB_CODE_NOT_FOUND, false,
		                   "no application \"01AR\"\\ with, commas", 35);
	for (int i = 0; i < 3; i++)
		ob_load_errors_add(r, OB_CODE_DEADLINE_EXCEEDED, true, "no reply within 10000 ms",
		                   24);
	ob_load_errors_add(r, OB_CODE_INTERNAL, false, "bad\x1b[31m\xff \xc3\xa9", 12);
	r->codes[OB_CODE_NOT_FOUND] = 4;
	r->codes[OB_CODE_DEADLINE_EXCEEDED] = 3;
	r->codes[OB_CODE_INTERNAL] = 1;
	r->calls = N + 8;
}

/* Writes the report of f->r in fmt to DIR/NAME; returns the path (static). */
static const char *write_report(fixture *f, ob_load_format fmt, const char *name)
{
	static char path[320];
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	assert_int_equal(ob_load_report(out, f->r, fmt), 0);
	assert_int_equal(fclose(out), 0);
	return path;
}

/* Runs /usr/bin/python3 with script (written to a file) and args; its exit status. */
static int python(fixture *f, const char *script, const char *const *args)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/check.py", f->dir);
	FILE *s = fopen(path, "w");
	assert_non_null(s);
	fputs(script, s);
	assert_int_equal(fclose(s), 0);
	char *argv[16] = {"/usr/bin/python3", path};
	int n = 2;
	for (; args[n - 2] != NULL && n < 15; n++)
		argv[n] = (char *)args[n - 2];
	argv[n] = NULL;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* What the Python checks share: the samples, their exact quantile by the rule of
 * ob_hist_quantile (the value of rank round(q * n), at least 1), and a failing check. */
static const char py_common[] = "import sys, math\n"
                                "S = sorted(" PY_SAMPLES ")\n"
                                "def exact(q):\n"
                                "    return S[max(1, int(q * len(S) + 0.5)) - 1]\n"
                                "def close(got, q):\n"
                                "    e = exact(q)\n"
                                "    return e <= got <= e * (1 + 1 / 128.0) + 1\n"
                                "def within(got, p):\n"
                                "    lo = S[max(0, math.ceil(p * len(S) - 1e-6) - 1)]\n"
                                "    hi = S[min(len(S) - 1, math.ceil(p * len(S) + 1e-6) - 1)]\n"
                                "    return lo <= got <= hi * (1 + 1 / 128.0) + 1\n"
                                "def check(cond, what):\n"
                                "    if not cond:\n"
                                "        print('FAIL:', what, file=sys.stderr)\n"
                                "        sys.exit(1)\n";

/* The report of the fixture's result (full, or empty) in fmt, written to DIR/name and read by
 * the Python check py (after py_common) with the extra argument arg (or none); returns the
 * report's path. */
static const char *read_back(fixture *f, bool empty, ob_load_format fmt, const char *name,
                             const char *py, const char *arg)
{
	fill(f, empty);
	const char *path = write_report(f, fmt, name);
	char script[8192];
	snprintf(script, sizeof(script), "%s%s", py_common, py);
	assert_int_equal(python(f, script, (const char *[]){path, arg, NULL}), 0);
	return path;
}

static const char py_json[] =
        "import json\n"
        "d = json.load(open(sys.argv[1]))\n"
        "check(d['scenario'] == 'call', 'scenario')\n"
        "check(d['method'] == '/onboard.v1.Onboarding/GetCohort', 'method')\n"
        "check(d['servers'] == ['ipc:///run/a.sock', 'tcp://127.0.0.1:7400'], 'servers')\n"
        "check(d['concurrency'] == 8 and d['connections'] == 1, 'lanes')\n"
        "check(d['loop'] == 'closed' and d['rate'] == 0, 'loop')\n"
        "check(d['calls'] == 20008 and d['ok'] == 20000 and d['failed'] == 8, 'counts')\n"
        "check(d['seconds'] == 2.5, 'seconds')\n"
        "check(abs(d['ok_throughput'] - 20000 / 2.5) <= 0.05, 'ok_throughput')\n"
        "check(abs(d['throughput'] - 20008 / 2.5) <= 0.05, 'throughput')\n"
        "l = d['latency_us']\n"
        "check(l['min'] == S[0] and l['max'] == S[-1], 'min, max')\n"
        "check(abs(l['mean'] - sum(S) / len(S)) <= 0.05, 'mean')\n"
        "for k, q in (('p50', .5), ('p75', .75), ('p90', .9), ('p95', .95), ('p99', .99),\n"
        "             ('p999', .999)):\n"
        "    check(close(l[k], q), k)\n"
        "check(d['codes'] == {'OK': 20000, 'NOT_FOUND': 4, 'DEADLINE_EXCEEDED': 3,\n"
        "                     'INTERNAL': 1}, 'codes')\n"
        "e = {(x['code'], x['local']): x for x in d['errors']}\n"
        "check(len(d['errors']) == 3 and d['errors_unlisted'] == 0, 'errors')\n"
        "check(e[('NOT_FOUND', False)]['message'] == 'no application \"01AR\"\\\\ with, commas'\n"
        "      and e[('NOT_FOUND', False)]['count'] == 4, 'NOT_FOUND')\n"
        "check(e[('DEADLINE_EXCEEDED', True)]['count'] == 3, 'local failures')\n"
        "check(e[('INTERNAL', False)]['message'] == 'bad?[31m? \\u00e9', 'cleaned message')\n"
        "c = d['cohort']\n"
        "check(c['id'] == 'load-20201102-100000-ab12' and c['created'] is True, 'cohort')\n"
        "check('drop-cohort.sh DB load-20201102-100000-ab12' in c['remove'], 'removal')\n"
        "check(d['interrupted'] is False, 'interrupted')\n";

static void test_json(void **state)
{
	const char *path = read_back(*state, false, OB_LOAD_JSON, "report.json", py_json, NULL);
	/* One line: a script reads it with one json.loads of the line. */
	assert_int_equal(ob_test_count_lines(path, "{"), 1);
}

static const char py_csv[] =
        "import csv\n"
        "rows = list(csv.reader(open(sys.argv[1], newline='')))\n"
        "check(len(rows) == 2, 'a header and one row')\n"
        "head, row = rows\n"
        "check(head == ['scenario', 'method', 'loop', 'concurrency', 'connections', 'rate',\n"
        "    'seconds', 'calls', 'ok', 'failed', 'throughput', 'ok_throughput', 'min_us',\n"
        "    'mean_us', 'p50_us', 'p75_us', 'p90_us', 'p95_us', 'p99_us', 'p999_us', 'max_us',\n"
        "    'cohort'], 'header')\n"
        "r = dict(zip(head, row))\n"
        "check(len(row) == len(head), 'columns')\n"
        "check(r['scenario'] == 'call' and r['method'] == '/onboard.v1.Onboarding/GetCohort',\n"
        "      'what ran')\n"
        "check(int(r['calls']) == 20008 and int(r['ok']) == 20000 and int(r['failed']) == 8,\n"
        "      'counts')\n"
        "check(float(r['ok_throughput']) == 8000.0, 'ok_throughput')\n"
        "check(int(r['min_us']) == S[0] and int(r['max_us']) == S[-1], 'min, max')\n"
        "for k, q in (('p50_us', .5), ('p90_us', .9), ('p99_us', .99), ('p999_us', .999)):\n"
        "    check(close(int(r[k]), q), k)\n"
        "check(r['cohort'] == 'load-20201102-100000-ab12', 'cohort')\n";

static void test_csv(void **state)
{
	read_back(*state, false, OB_LOAD_CSV, "report.csv", py_csv, NULL);
}

/*
 * The reader of HdrHistogram's percentile distribution: the header, then lines "value
 * percentile total-count 1/(1-percentile)" whose percentiles follow HdrHistogram's steps
 * (5 ticks per half-distance to 100%), the 100% line with three columns, and the footer.
 * Each value, in milliseconds with three decimals, is the highest of the bucket where that
 * percentile is reached: never below the exact percentile of the values, at most 1/128
 * above it; its count is the number of values up to that bucket.
 */
static const char py_hdr[] =
        "lines = open(sys.argv[1]).read().split('\\n')\n"
        "check(lines[0] == '%12s %14s %10s %14s' % ('Value', 'Percentile', 'TotalCount',\n"
        "      '1/(1-Percentile)'), 'header')\n"
        "check(lines[1] == '', 'blank line after the header')\n"
        "body = [l for l in lines[2:] if l and not l.startswith('#')]\n"
        "foot = [l for l in lines if l.startswith('#[')]\n"
        "n = int(sys.argv[2])\n"
        "if n == 0:\n"
        "    check(body == [], 'no line for no value')\n"
        "else:\n"
        "    level, prev = 0.0, None\n"
        "    for l in body[:-1]:\n"
        "        v, p, c, inv = l.split()\n"
        "        v, p, c, inv = float(v), float(p), int(c), float(inv)\n"
        "        check(abs(p * 100 - level) < 1e-9, 'step %r, expected %r' % (p, level))\n"
        "        us = round(v * 1000)\n"
        "        check(within(us, p) if p > 0 else us == S[0], 'value at %r: %r' % (p, us))\n"
        "        check(c == sum(1 for s in S if s <= us), 'count at %r' % p)\n"
        "        check(abs(inv - 1 / (1 - p)) < 0.006, '1/(1-p) at %r' % p)\n"
        "        check(prev is None or prev <= (v, c), 'ascending')\n"
        "        prev = (v, c)\n"
        "        level += 100.0 / (5 * 2 ** (int(math.log2(100 / (100 - level))) + 1))\n"
        "    last = body[-1].split()\n"
        "    check(len(last) == 3 and float(last[1]) == 1.0 and int(last[2]) == n, 'last line')\n"
        "    check(round(float(last[0]) * 1000) == S[-1], 'last value')\n"
        "    check(len(body) > 30, 'reporting steps: %d' % len(body))\n"
        "check(len(foot) == 3, 'footer')\n"
        "check(foot[0].startswith('#[Mean    = ') and ', StdDeviation   = ' in foot[0], 'mean')\n"
        "check(foot[1].startswith('#[Max     = ') and int(foot[1].split('=')[2].strip(' ]'))\n"
        "      == n, 'total count')\n"
        "check(foot[2] == '#[Buckets =           32, SubBuckets     =          128]', 'sizes')\n";

static void test_hdr(void **state)
{
	read_back(*state, false, OB_LOAD_HDR, "report.hgrm", py_hdr, "20000");
	read_back(*state, true, OB_LOAD_HDR, "empty.hgrm", py_hdr, "0");
}

static void test_text(void **state)
{
	fixture *f = *state;
	fill(f, false);
	const char *path = write_report(f, OB_LOAD_TEXT, "report.txt");
	char *text = ob_test_read_file(path, NULL);
	assert_non_null(text);
	static const char *const parts[] = {
	        "Summary:\n  Scenario:\tcall (/onboard.v1.Onboarding/GetCohort)\n",
	        "  Servers:\tipc:///run/a.sock\n          \ttcp://127.0.0.1:7400\n",
	        "  Count:\t20008 calls (20000 OK, 8 failed)\n",
	        "  Throughput:\t8003.2 calls/s (8000.0 OK/s)\n",
	        "\nLatency of OK calls (ms):\n",
	        "\nLatency distribution:\n  10 % in ",
	        "  99.9 % in ",
	        "\nStatus code distribution:\n  [OK]\t20000 calls\n",
	        "  [NOT_FOUND]\t4 calls\n",
	        "\nError distribution:\n  [4]\tNOT_FOUND: no application \"01AR\"\\ with, commas\n",
	        "  [3]\tDEADLINE_EXCEEDED (no reply): no reply within 10000 ms\n",
	        "  [1]\tINTERNAL: bad?[31m? \xc3\xa9\n",
	        "drop-cohort.sh DB load-20201102-100000-ab12",
	};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strstr(text, parts[i]) == NULL)
			fail_msg("the text report lacks '%s':\n%s", parts[i], text);
	/* The histogram: eleven marks from the fastest to the slowest, every call in one. */
	const char *p = strstr(text, "(ms):\n");
	assert_non_null(p);
	int marks = 0;
	uint64_t total = 0;
	for (p += 6; *p != '\n' && *p != '\0'; marks++) {
		double ms;
		unsigned long long n;
		assert_int_equal(sscanf(p, " %lf [%llu]\t|", &ms, &n), 2);
		total += n;
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	assert_int_equal(marks, 11);
	assert_int_equal(total, N);
	free(text);
}

/* No call at all (a run stopped at once): every format still says so, and parses. */
static void test_empty(void **state)
{
	fixture *f = *state;
	fill(f, true);
	const char *path = write_report(f, OB_LOAD_JSON, "empty.json");
	assert_int_equal(python(f,
	                        "import json, sys\n"
	                        "d = json.load(open(sys.argv[1]))\n"
	                        "assert d['calls'] == 0 and d['ok'] == 0, d\n"
	                        "assert d['latency_us']['p99'] == 0 and d['codes'] == {}, d\n",
	                        (const char *[]){path, NULL}),
	                 0);
	path = write_report(f, OB_LOAD_CSV, "empty.csv");
	assert_int_equal(ob_test_count_lines(path, ","), 2);
	path = write_report(f, OB_LOAD_TEXT, "empty.txt");
	assert_int_equal(ob_test_count_lines(path, "Count:\t0 calls (0 OK, 0 failed)"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_histogram_figures),
	        cmocka_unit_test(test_messages_made_safe),
	        cmocka_unit_test(test_errors_counted),
	        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hdr, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_text, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
