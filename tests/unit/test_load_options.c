/*
 * test_load_options.c: onboard-load's command line (client/load/options.c): durations,
 * numbers, flags, metadata, scenarios and --call with its data, as they are read, and every
 * value that must be refused before anything is sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "load.h"
#include "testutil.h"

enum { MAX_ARGS = 48 };

/* Parses "onboard-load" followed by the arguments (first, then ap up to NULL) into *c;
 * returns what ob_load_parse returned, and its message in err. */
static int parse_v(ob_load_config *c, char *err, size_t n, const char *first, va_list ap)
{
	char *argv[MAX_ARGS + 1];
	int argc = 0;
	argv[argc++] = (char *)"onboard-load";
	for (const char *a = first; a != NULL && argc < MAX_ARGS; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	argv[argc] = NULL;
	err[0] = '\0';
	return ob_load_parse(c, argc, argv, err, n);
}

static int parse_err(ob_load_config *c, char *err, size_t n, const char *first, ...)
{
	va_list ap;
	va_start(ap, first);
	int rc = parse_v(c, err, n, first, ap);
	va_end(ap);
	return rc;
}

#define PARSE(c, ...) parse_err((c), err, sizeof(err), __VA_ARGS__, (const char *)NULL)

/* The line is refused (2) with a message that contains what. */
static void refused(const char *what, const char *first, ...)
{
	ob_load_config c;
	char err[512];
	va_list ap;
	va_start(ap, first);
	int rc = parse_v(&c, err, sizeof(err), first, ap);
	va_end(ap);
	if (rc != 2 || strstr(err, what) == NULL)
		fail_msg("%s ...: rc %d, message '%s', expected 2 and '%s'", first, rc, err, what);
	ob_load_config_fini(&c);
}

#define REFUSED(what, ...) refused((what), __VA_ARGS__, (const char *)NULL)

/* A command line that must be refused, and what the refusal says. */
typedef struct refusal {
	const char *says;
	const char *args[8]; /* NULL-ended */
} refusal;

static void refuse_all(const refusal *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *const *a = rows[i].args;
		refused(rows[i].says, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
		        (const char *)NULL);
	}
}

#define REFUSE_ALL(rows) refuse_all((rows), sizeof(rows) / sizeof((rows)[0]))

static void setup_env(void)
{
	unsetenv("ONBOARD_KEY");
	unsetenv("ONBOARD_SERVER_UID");
}

static void test_defaults(void **state)
{
	(void)state;
	setup_env();
	ob_load_config c;
	char err[512];
	assert_int_equal(PARSE(&c, "-s", "ipc:///x"), 0);
	assert_string_equal(c.scenario, "get");
	assert_int_equal(c.weights[OB_LOAD_GET], 1);
	assert_int_equal(c.concurrency, 16);
	assert_int_equal(c.connections, 1);
	assert_int_equal(c.total, 10000); /* neither --total nor --duration */
	assert_int_equal(c.duration_ms, 0);
	assert_int_equal(c.timeout_ms, 10000);
	assert_int_equal(c.rate, 0);
	assert_int_equal(c.format, OB_LOAD_TEXT);
	assert_int_equal(c.progress, -1);
	assert_null(c.cohort);
	assert_false(ob_load_writes(&c));
	assert_string_equal(ob_load_single_method(&c), "/onboard.v1.Onboarding/GetApplication");
	ob_load_config_fini(&c);
}

/* Durations are the CLI's: a bare number is seconds, units ms, s, m, h. The issue's two
 * cases: --timeout 2s was read as 2 ms and -d 1m as one second. */
static void test_durations(void **state)
{
	(void)state;
	setup_env();
	static const struct {
		const char *opt, *value;
		size_t field; /* offsetof in ob_load_config */
		int64_t ms;
	} ok[] = {
	        {"--timeout", "2s", offsetof(ob_load_config, timeout_ms), 2000},
	        {"-t", "500ms", offsetof(ob_load_config, timeout_ms), 500},
	        {"--timeout", "3", offsetof(ob_load_config, timeout_ms), 3000},
	        {"-d", "1m", offsetof(ob_load_config, duration_ms), 60000},
	        {"-d", "3", offsetof(ob_load_config, duration_ms), 3000},
	        {"--duration", "1.5s", offsetof(ob_load_config, duration_ms), 1500},
	        {"--duration", "1h", offsetof(ob_load_config, duration_ms), 3600000},
	        {"--warmup", "0", offsetof(ob_load_config, warmup_ms), 0},
	        {"--warmup", "2s", offsetof(ob_load_config, warmup_ms), 2000},
	        {"--warmup", "0.25", offsetof(ob_load_config, warmup_ms), 250},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ob_load_config c;
		char err[512];
		int rc = PARSE(&c, ok[i].opt, ok[i].value);
		if (rc != 0)
			fail_msg("%s %s: refused: %s", ok[i].opt, ok[i].value, err);
		int64_t got = *(const int64_t *)((const char *)&c + ok[i].field);
		if (got != ok[i].ms)
			fail_msg("%s %s: %lld ms, expected %lld", ok[i].opt, ok[i].value,
			         (long long)got, (long long)ok[i].ms);
		ob_load_config_fini(&c);
	}
	/* A duration alone: no default total, the run lasts that long. */
	ob_load_config c;
	char err[512];
	assert_int_equal(PARSE(&c, "-d", "30s"), 0);
	assert_int_equal(c.total, 0);
	ob_load_config_fini(&c);
	static const refusal bad[] = {
	        {"--duration takes a duration", {"-d", "2x"}},
	        {"--duration takes a duration", {"-d", "-1s"}},
	        {"--duration takes a duration", {"-d", "0"}},
	        {"--duration takes a duration", {"-d", "1e3"}},
	        {"--duration takes a duration", {"-d", "25h"}},
	        {"--duration takes a duration", {"--duration="}},
	        {"--timeout takes a duration", {"--timeout", "0s"}},
	        {"--timeout takes a duration", {"--timeout", "0.5ms"}},
	        {"--warmup takes a duration", {"--warmup", "-1"}},
	        {"--warmup takes a duration", {"--warmup", "1 s"}},
	};
	REFUSE_ALL(bad);
}

static void test_numbers(void **state)
{
	(void)state;
	setup_env();
	ob_load_config c;
	char err[512];
	assert_int_equal(PARSE(&c, "-c", "64", "-n", "007", "--rate=250", "--connections", "4"), 0);
	assert_int_equal(c.concurrency, 64);
	assert_int_equal(c.total, 7);
	assert_int_equal(c.rate, 250);
	assert_int_equal(c.connections, 4);
	ob_load_config_fini(&c);
	assert_int_equal(PARSE(&c, "-c", "4096", "--scenario", "echo", "--echo-bytes", "16777216"),
	                 0);
	assert_int_equal(c.echo_bytes, 16777216);
	ob_load_config_fini(&c);
	static const refusal bad[] = {
	        {"--concurrency takes a whole number from 1 to 4096", {"-c", "0"}},
	        {"--concurrency takes a whole number from 1 to 4096", {"-c", "4097"}},
	        {"--concurrency", {"-c", "2x"}},
	        {"--concurrency", {"-c", "+5"}},
	        {"--concurrency", {"-c", "0x10"}},
	        {"--concurrency", {"-c", " 5"}},
	        {"--total", {"-n", "1.0"}},
	        {"--total", {"-n", "0"}},
	        {"--total", {"-n", "18446744073709551616"}}, /* 2^64: refused, not wrapped */
	        {"--rate", {"--rate", "0"}},
	        {"--connections", {"--connections", "257"}},
	        {"--echo-bytes", {"--scenario", "echo", "--echo-bytes", "0"}},
	        {"--echo-bytes", {"--scenario", "echo", "--echo-bytes", "16777217"}},
	};
	REFUSE_ALL(bad);
}

static void test_formats_and_flags(void **state)
{
	(void)state;
	setup_env();
	static const struct {
		const char *a, *b;
		ob_load_format want;
	} ok[] = {
	        {"--json", NULL, OB_LOAD_JSON},      {"--format", "json", OB_LOAD_JSON},
	        {"--format=csv", NULL, OB_LOAD_CSV}, {"--format", "hdr", OB_LOAD_HDR},
	        {"--format", "text", OB_LOAD_TEXT},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ob_load_config c;
		char err[512];
		assert_int_equal(PARSE(&c, ok[i].a, ok[i].b), 0);
		assert_int_equal(c.format, ok[i].want);
		ob_load_config_fini(&c);
	}
	static const refusal bad[] = {
	        {"--format takes text, json, csv or hdr", {"--format", "xml"}},
	        {"--format takes", {"--format", "JSON"}},
	};
	REFUSE_ALL(bad);
	ob_load_config c;
	char err[512];
	assert_int_equal(PARSE(&c, "--progress"), 0);
	assert_int_equal(c.progress, 1);
	ob_load_config_fini(&c);
	assert_int_equal(PARSE(&c, "--progress", "--no-progress", "-o", "out.csv"), 0);
	assert_int_equal(c.progress, 0);
	assert_string_equal(c.output, "out.csv");
	ob_load_config_fini(&c);
	assert_int_equal(PARSE(&c, "--help"), 0);
	assert_true(c.help);
	ob_load_config_fini(&c);
	assert_int_equal(PARSE(&c, "--version"), 0);
	assert_true(c.version);
	ob_load_config_fini(&c);
	/* Each text option lands in its own field, as given (the table names the field). */
	static const struct {
		const char *opt, *value;
		size_t field; /* offsetof in ob_load_config */
	} texts[] = {
	        {"--tls-ca", "/etc/onboard/ca.pem", offsetof(ob_load_config, tls_ca)},
	        {"--tls-cert", "/etc/onboard/client.pem", offsetof(ob_load_config, tls_cert)},
	        {"--tls-key", "/etc/onboard/client.key", offsetof(ob_load_config, tls_key)},
	        {"--tls-server-name", "onboard.example", offsetof(ob_load_config, tls_server_name)},
	        {"--cohort", "2021-02", offsetof(ob_load_config, cohort)},
	        {"--scenario", "list", offsetof(ob_load_config, scenario)},
	        {"-o", "report.json", offsetof(ob_load_config, output)},
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(PARSE(&c, texts[i].opt, texts[i].value), 0);
		assert_string_equal(*(const char *const *)((const char *)&c + texts[i].field),
		                    texts[i].value);
		ob_load_config_fini(&c);
	}
	static const refusal lines[] = {
	        {"takes options only, not 'get'", {"get"}},
	        {"unknown option '--concurency'", {"--concurency", "4"}},
	        {"unknown option '-x'", {"-x"}},
	        {"-c needs a value", {"-c"}},
	        {"--timeout needs a value", {"--timeout"}},
	};
	REFUSE_ALL(lines);
	REFUSED("at most 16 servers", "-s", "a", "-s", "a", "-s", "a", "-s", "a", "-s", "a", "-s",
	        "a", "-s", "a", "-s", "a", "-s", "a", "-s", "a", "-s", "a", "-s", "a", "-s", "a",
	        "-s", "a", "-s", "a", "-s", "a", "-s", "a");
}

static void test_metadata(void **state)
{
	(void)state;
	setup_env();
	ob_load_config c;
	char err[512];
	assert_int_equal(
	        PARSE(&c, "-H", "request-id=abc", "--header", "x.tenant_id=a=b", "-H", "empty="),
	        0);
	assert_int_equal(c.n_md, 3);
	assert_string_equal(c.md[0].key, "request-id");
	assert_string_equal(c.md[0].value, "abc");
	assert_string_equal(c.md[1].key, "x.tenant_id");
	assert_string_equal(c.md[1].value, "a=b"); /* the first '=' splits */
	assert_string_equal(c.md[2].value, "");
	ob_load_config_fini(&c);
	static const refusal bad[] = {
	        {"-H takes KEY=VALUE", {"-H", "no-equals"}},
	        {"-H takes KEY=VALUE", {"-H", "=value"}},
	        {"-H takes KEY=VALUE", {"-H", "Upper=1"}},
	        {"-H takes KEY=VALUE", {"-H", "sp ace=1"}},
	        {"without control characters", {"-H", "k=line\nbreak"}},
	        {"without control characters", {"-H", "k=\x1b[31m"}},
	};
	REFUSE_ALL(bad);
	char big[OB_LOAD_VALUE_MAX + 8] = "k=";
	memset(big + 2, 'v', OB_LOAD_VALUE_MAX + 1);
	big[OB_LOAD_VALUE_MAX + 3] = '\0';
	REFUSED("at most 1024 bytes", "-H", big);
	REFUSED("at most 16 -H entries", "-H", "a=1", "-H", "a=1", "-H", "a=1", "-H", "a=1", "-H",
	        "a=1", "-H", "a=1", "-H", "a=1", "-H", "a=1", "-H", "a=1", "-H", "a=1", "-H", "a=1",
	        "-H", "a=1", "-H", "a=1", "-H", "a=1", "-H", "a=1", "-H", "a=1", "-H", "a=1");
	REFUSED("no -H authorization with it", "--key", "k.key", "-H", "authorization=t");
	REFUSED("echo sends raw messages", "--scenario", "echo", "-H", "a=1");
}

static void test_scenarios(void **state)
{
	(void)state;
	setup_env();
	ob_load_config c;
	char err[512];
	assert_int_equal(PARSE(&c, "--scenario", "mixed", "--mix", "1,2,0,4"), 0);
	assert_int_equal(c.weights[OB_LOAD_SUBMIT], 1);
	assert_int_equal(c.weights[OB_LOAD_GET], 2);
	assert_int_equal(c.weights[OB_LOAD_LIST], 0);
	assert_int_equal(c.weights[OB_LOAD_COHORT], 4);
	assert_true(ob_load_writes(&c));
	assert_null(ob_load_single_method(&c)); /* several methods */
	ob_load_config_fini(&c);
	assert_int_equal(PARSE(&c, "--scenario", "submit"), 0);
	assert_true(ob_load_writes(&c));
	ob_load_config_fini(&c);
	assert_int_equal(PARSE(&c, "--scenario", "cohort"), 0);
	assert_false(ob_load_writes(&c));
	ob_load_config_fini(&c);
	/* The burst: --total submits at once, as many lanes as calls up to 512. */
	assert_int_equal(PARSE(&c, "--scenario", "webinar-burst"), 0);
	assert_int_equal(c.total, 500);
	assert_int_equal(c.concurrency, 500);
	ob_load_config_fini(&c);
	assert_int_equal(PARSE(&c, "--scenario", "webinar-burst", "-n", "2000"), 0);
	assert_int_equal(c.concurrency, 512);
	ob_load_config_fini(&c);
	assert_int_equal(PARSE(&c, "--scenario", "webinar-burst", "-n", "2000", "-c", "8"), 0);
	assert_int_equal(c.concurrency, 8);
	ob_load_config_fini(&c);
	static const refusal bad[] = {
	        {"unknown scenario 'gets'", {"--scenario", "gets"}},
	        {"--mix goes with --scenario mixed", {"--mix", "1,1,1,1"}},
	        {"--mix takes four whole weights", {"--scenario", "mixed", "--mix", "1,2,3"}},
	        {"--mix takes four whole weights", {"--scenario", "mixed", "--mix", "1,2,3,4,5"}},
	        {"--mix takes four whole weights", {"--scenario", "mixed", "--mix", "1,2,3,4,"}},
	        {"--mix takes four whole weights", {"--scenario", "mixed", "--mix", "1,,3,4"}},
	        {"--mix takes four whole weights", {"--scenario", "mixed", "--mix", "0,0,0,0"}},
	        {"--mix takes four whole weights", {"--scenario", "mixed", "--mix", "1,-2,3,4"}},
	        {"--echo-bytes goes with --scenario echo", {"--echo-bytes", "10"}},
	        {"webinar-burst releases", {"--scenario", "webinar-burst", "--rate", "10"}},
	        {"webinar-burst releases", {"--scenario", "webinar-burst", "-d", "10"}},
	};
	REFUSE_ALL(bad);
}

static void test_call(void **state)
{
	(void)state;
	setup_env();
	ob_load_config c;
	char err[512];
	/* Any spelling of the method; the canonical name is what is called. */
	assert_int_equal(PARSE(&c, "--call", "onboard.v1.Onboarding.GetCohort", "--data",
	                       "{\"id\":\"2020-11\"}"),
	                 0);
	assert_string_equal(c.call_name, "/onboard.v1.Onboarding/GetCohort");
	assert_string_equal(c.scenario, "call");
	assert_int_equal(c.weights[OB_LOAD_CALL], 1);
	assert_false(ob_load_writes(&c));
	assert_true(ob_load_template_constant(c.data));
	assert_string_equal(ob_load_single_method(&c), "/onboard.v1.Onboarding/GetCohort");
	ob_load_config_fini(&c);
	/* A write into {{cohort}}: the run needs a cohort of its own. */
	assert_int_equal(
	        PARSE(&c, "--call", "/onboard.v1.Onboarding/SubmitApplication", "--data",
	              "{\"cohortId\":\"{{cohort}}\",\"company\":{\"siren\":\"{{siren}}\"}}"),
	        0);
	assert_true(ob_load_writes(&c));
	assert_false(ob_load_template_constant(c.data));
	ob_load_config_fini(&c);
	/* No --data: the request is {}. */
	assert_int_equal(PARSE(&c, "--call", "/onboard.v1.Health/Check"), 0);
	assert_false(ob_load_writes(&c));
	ob_load_config_fini(&c);
	static const refusal bad[] = {
	        {"no method '/onboard.v1.Onboarding/Nothing'",
	         {"--call", "/onboard.v1.Onboarding/Nothing"}},
	        {"--data goes with --call", {"--data", "{}"}},
	        {"--call or --scenario, not both",
	         {"--call", "/onboard.v1.Health/Check", "--scenario", "get"}},
	        {"--data is not a valid onboard.v1.GetCohortRequest",
	         {"--call", "/onboard.v1.Onboarding/GetCohort", "--data", "{\"idd\":\"x\"}"}},
	        {"--data is not a valid",
	         {"--call", "/onboard.v1.Onboarding/GetCohort", "--data", "{\"id\":"}},
	        {"--data is not a valid",
	         {"--call", "/onboard.v1.Onboarding/GetCohort", "--data", "[]"}},
	        {"unknown placeholder {{sirne}}",
	         {"--call", "/onboard.v1.Onboarding/GetCohort", "--data",
	          "{\"id\":\"{{sirne}}\"}"}},
	        /* The safety rule: a write without a cohort would go to the server's default
	         * one. */
	        {"without a cohortId writes into the server's default cohort",
	         {"--call", "/onboard.v1.Onboarding/SubmitApplication", "--data",
	          "{\"company\":{\"siren\":\"{{siren}}\"}}"}},
	        {"--data @",
	         {"--call", "/onboard.v1.Onboarding/GetCohort", "--data",
	          "@/nonexistent/request.json"}},
	};
	REFUSE_ALL(bad);
}

static void test_call_data_from_file(void **state)
{
	(void)state;
	setup_env();
	char dir[256], path[300], at[310];
	assert_int_equal(ob_test_mkdtemp(dir, sizeof(dir), "load-options"), 0);
	snprintf(path, sizeof(path), "%s/request.json", dir);
	snprintf(at, sizeof(at), "@%s", path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"id\": \"{{cohort}}\"}\n", f);
	fclose(f);
	ob_load_config c;
	char err[512];
	assert_int_equal(PARSE(&c, "--call", "/onboard.v1.Onboarding/GetCohort", "--data", at), 0);
	assert_true(ob_load_template_uses(c.data, OB_LOAD_SLOT_COHORT));
	/* Get* reads: {{cohort}} there still asks for the run's cohort (a throw-away one
	 * when none is named), which the run then has to make. */
	assert_true(ob_load_writes(&c));
	ob_load_config_fini(&c);
	ob_test_remove_tree(dir);
}

static void test_environment(void **state)
{
	(void)state;
	setup_env();
	ob_load_config c;
	char err[512];
	setenv("ONBOARD_KEY", "/keys/reviewer.key", 1);
	assert_int_equal(PARSE(&c, "--scenario", "get"), 0);
	assert_string_equal(c.key_file, "/keys/reviewer.key");
	ob_load_config_fini(&c);
	assert_int_equal(PARSE(&c, "--key", "/keys/admin.key"), 0);
	assert_string_equal(c.key_file, "/keys/admin.key"); /* the option wins */
	ob_load_config_fini(&c);
	assert_int_equal(PARSE(&c, "-H", "authorization=tok"), 0);
	assert_null(c.key_file); /* a token of one's own: no login */
	ob_load_config_fini(&c);
	assert_int_equal(PARSE(&c, "--scenario", "echo"), 0);
	assert_null(c.key_file); /* raw messages carry nothing */
	ob_load_config_fini(&c);
	unsetenv("ONBOARD_KEY");
	setenv("ONBOARD_SERVER_UID", "0", 1);
	assert_int_equal(PARSE(&c, "-c", "1"), 0);
	assert_true(c.server_uid_set);
	assert_int_equal(c.server_uid, 0);
	ob_load_config_fini(&c);
	setenv("ONBOARD_SERVER_UID", "no-such-user-here", 1);
	REFUSED("$ONBOARD_SERVER_UID: no user", "-c", "1");
	unsetenv("ONBOARD_SERVER_UID");
	REFUSED("--server-uid: no user", "--server-uid", "no-such-user-here");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_defaults),    cmocka_unit_test(test_durations),
	        cmocka_unit_test(test_numbers),     cmocka_unit_test(test_formats_and_flags),
	        cmocka_unit_test(test_metadata),    cmocka_unit_test(test_scenarios),
	        cmocka_unit_test(test_call),        cmocka_unit_test(test_call_data_from_file),
	        cmocka_unit_test(test_environment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
