/*
 * test_cli_parse.c: the onboard CLI's one parser (client/cli/args.c) and its command table,
 * without a server: where global options may go, --name=value, numbers, durations and words
 * checked before anything is sent, --version and --help, the errors in words, requests filled
 * from the table (fill.c), and the table itself (every option lands in a field of its
 * request, every method exists).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <unistd.h>

#include "cli.h"
#include "onboard/v1/onboarding.pb-c.h"

/* Parses the words of a command line (after "onboard") into *c and *a; returns the status. */
#define PARSE(c, a, ...) parse_words((c), (a), (const char *[]){"onboard", __VA_ARGS__, NULL})

static int parse_words(cli *c, cli_args *a, const char **words)
{
	static char *argv[64];
	int argc = 0;
	for (; words[argc] != NULL; argc++)
		argv[argc] = (char *)words[argc]; /* getopt_long only reads them */
	argv[argc] = NULL;
	cli_fini(c);
	cli_init(c);
	return cli_parse(c, argc, argv, a);
}

static int setup(void **state)
{
	static cli c;
	cli_init(&c);
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	cli_fini(*state);
	return 0;
}

static void expect_usage(cli *c, cli_args *a, int rc, const char *words)
{
	if (rc != OB_EXIT_USAGE)
		fail_msg("'%s' was accepted", words);
	(void)c;
	assert_true(a->err[0] != '\0');
}

static void test_global_options_anywhere(void **state)
{
	cli *c = *state;
	cli_args a;
	assert_int_equal(PARSE(c, &a, "get", "01HF", "--server", "ipc:///x.sock"), 0);
	assert_ptr_equal(a.cmd, &cli_cmd_get);
	assert_int_equal(a.n_operands, 1);
	assert_string_equal(a.operands[0], "01HF");
	assert_int_equal(c->n_servers, 1);
	assert_string_equal(c->servers[0], "ipc:///x.sock");

	/* Once read as a service name; now the global --json. */
	assert_int_equal(PARSE(c, &a, "health", "--json"), 0);
	assert_ptr_equal(a.cmd, &cli_cmd_health);
	assert_true(c->json);
	assert_int_equal(a.n_operands, 0);

	/* Before, after, between operands; short forms too. */
	assert_int_equal(PARSE(c, &a, "-s", "A", "review", "ID", "--json", "start", "-t", "3s",
	                       "-s", "B", "--emit-defaults"),
	                 0);
	assert_ptr_equal(a.cmd, &cli_cmd_review);
	assert_int_equal(a.n_operands, 2);
	assert_string_equal(a.operands[1], "start");
	assert_int_equal(c->n_servers, 2);
	assert_string_equal(c->servers[1], "B");
	assert_int_equal(c->timeout_ms, 3000);
	assert_true(c->json && c->emit_defaults);

	/* Between a group and its subcommand, and after. */
	assert_int_equal(PARSE(c, &a, "admin", "--json", "erase", "ID", "--reason", "r", "-k", "f"),
	                 0);
	assert_string_equal(a.path, "admin erase");
	assert_string_equal(cli_opt(&a, "reason"), "r");
	assert_string_equal(c->client_opts.key_file, "f");
	assert_true(c->json);

	/* Every global option, after the command. */
	assert_int_equal(PARSE(c, &a, "whoami", "--tls-ca", "ca", "--tls-cert", "cert", "--tls-key",
	                       "key", "--tls-server-name", "n", "--server-uid", "0", "-H", "a=b"),
	                 0);
	assert_string_equal(c->client_opts.tls_ca_file, "ca");
	assert_string_equal(c->client_opts.tls_cert_file, "cert");
	assert_string_equal(c->client_opts.tls_key_file, "key");
	assert_string_equal(c->client_opts.tls_server_name, "n");
	assert_true(c->client_opts.ipc_server_uid_set);
	assert_int_equal(c->n_md, 1);
	assert_string_equal(c->md[0].key, "a");
	assert_string_equal(c->md[0].value, "b");
}

static void test_name_equals_value(void **state)
{
	cli *c = *state;
	cli_args a;
	assert_int_equal(PARSE(c, &a, "--timeout=2s", "health", "--server=ipc:///y"), 0);
	assert_int_equal(c->timeout_ms, 2000);
	assert_string_equal(c->servers[0], "ipc:///y");
	assert_int_equal(PARSE(c, &a, "list", "--page-size=2", "--state=submitted,approved",
	                       "--header=k=v=w", "-t500ms"),
	                 0);
	assert_string_equal(cli_opt(&a, "page-size"), "2");
	assert_string_equal(c->md[0].key, "k");
	assert_string_equal(c->md[0].value, "v=w");
	assert_int_equal(c->timeout_ms, 500);

	assert_int_equal(PARSE(c, &a, "health", "--json=yes"), 2);
	assert_string_equal(a.err, "--json takes no value");
}

static void test_durations(void **state)
{
	cli *c = *state;
	cli_args a;
	static const struct {
		const char *arg;
		int64_t ms;
	} good[] = {{"500ms", 500}, {"2s", 2000}, {"1m", 60000}, {"1.5s", 1500}, {"3", 3000}};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(PARSE(c, &a, "health", "--timeout", good[i].arg), 0);
		assert_int_equal(c->timeout_ms, good[i].ms);
	}
	static const char *const bad[] = {"2x", "-1s", "0", "0s", "1e3", "nan", "25h", "", "2 s"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = PARSE(c, &a, "health", "--timeout", bad[i]);
		expect_usage(c, &a, rc, bad[i]);
		assert_non_null(strstr(a.err, "--timeout takes a duration"));
	}
}

static void test_numbers(void **state)
{
	cli *c = *state;
	cli_args a;
	static const char *const page_sizes[] = {"2x", "0", "501", "-1", "+1", " 1", "1.0", "0x10"};
	for (size_t i = 0; i < sizeof(page_sizes) / sizeof(page_sizes[0]); i++) {
		int rc = PARSE(c, &a, "list", "--page-size", page_sizes[i]);
		expect_usage(c, &a, rc, page_sizes[i]);
		assert_non_null(strstr(a.err, "--page-size takes a whole number from 1 to 500"));
	}
	assert_int_equal(PARSE(c, &a, "submit", "--employees", "4294967296"), 2);
	assert_int_equal(PARSE(c, &a, "submit", "--employees", "4294967295"), 0);
	assert_int_equal(PARSE(c, &a, "submit", "--turnover-eur", "9223372036854775808"), 2);
	assert_int_equal(PARSE(c, &a, "review", "ID", "start", "--version", "0"), 2);
	assert_int_equal(PARSE(c, &a, "review", "ID", "start", "--version", "3x"), 2);
	assert_int_equal(PARSE(c, &a, "admin", "audit", "--page-size", "501"), 2);
	assert_int_equal(PARSE(c, &a, "cohort", "--create", "--monthly-fee", "39.505"), 2);
	assert_int_equal(PARSE(c, &a, "cohort", "--create", "--webinar", "24:00"), 2);
	assert_int_equal(PARSE(c, &a, "cohort", "x", "--capacity", "-1"), 2);
	assert_int_equal(PARSE(c, &a, "--server-uid", "4294967295", "health"), 2);
}

static void test_words(void **state)
{
	cli *c = *state;
	cli_args a;
	assert_int_equal(PARSE(c, &a, "list", "--state", "under-review,SUBMITTED", "--state",
	                       "approved", "--channel", "webshop", "--size", "tpe"),
	                 0);
	assert_int_equal(PARSE(c, &a, "list", "--state", "sleeping"), 2);
	assert_string_equal(a.err, "--state takes waitlisted, submitted, under-review, needs-info, "
	                           "approved, onboarded, rejected or withdrawn, not 'sleeping'");
	assert_int_equal(PARSE(c, &a, "list", "--channel", "shop"), 2);
	assert_string_equal(a.err, "--channel is marketplace, webshop or both, not 'shop'");
	assert_int_equal(PARSE(c, &a, "review", "ID", "sleep"), 2);
	assert_string_equal(
	        a.err, "ACTION is start, request-info, approve, reject or onboard, not 'sleep'");
	assert_int_equal(PARSE(c, &a, "keygen", "--out", "f", "--role", "king"), 2);
	assert_int_equal(PARSE(c, &a, "cohort", "--create", "--eligible", "tpe,pme,eti,ge,tpe"), 2);
	assert_string_equal(a.err, "at most 4 --eligible");
}

static void test_version_and_help(void **state)
{
	cli *c = *state;
	cli_args a;
	assert_int_equal(PARSE(c, &a, "--version"), 0);
	assert_true(a.version);
	assert_null(a.cmd);
	assert_int_equal(PARSE(c, &a, "get", "--version"), 0);
	assert_true(a.version);
	/* review's --version is the application's. */
	assert_int_equal(PARSE(c, &a, "review", "ID", "start", "--version", "3"), 0);
	assert_false(a.version);
	assert_string_equal(cli_opt(&a, "version"), "3");

	assert_int_equal(PARSE(c, &a, "get", "--help"), 0);
	assert_true(a.help);
	assert_ptr_equal(a.cmd, &cli_cmd_get);
	assert_int_equal(PARSE(c, &a, "review", "-h"), 0); /* no operands needed for help */
	assert_true(a.help);
	assert_int_equal(PARSE(c, &a, "--help", "withdraw"), 0);
	assert_true(a.help);
	assert_ptr_equal(a.cmd, &cli_cmd_withdraw);
	assert_int_equal(PARSE(c, &a, "admin", "--help"), 0);
	assert_true(a.help);
	assert_null(a.cmd);
	assert_ptr_equal(a.group, &cli_cmd_admin);
	assert_int_equal(PARSE(c, &a, "help", "admin", "erase"), 0);
	assert_string_equal(a.cmd->name, "help");
	assert_int_equal(a.n_operands, 2);
}

static void test_errors_in_words(void **state)
{
	cli *c = *state;
	cli_args a;
	assert_int_equal(PARSE(c, &a, "nosuch"), 2);
	assert_string_equal(a.err, "unknown command 'nosuch'");
	assert_int_equal(PARSE(c, &a, "admin", "nosuch"), 2);
	assert_string_equal(a.err, "unknown subcommand 'nosuch'");
	assert_string_equal(a.path, "admin");
	assert_int_equal(PARSE(c, &a, "list", "--bogus"), 2);
	assert_string_equal(a.err, "unknown option '--bogus'");
	assert_int_equal(PARSE(c, &a, "import", "-x", "f"), 2);
	assert_string_equal(a.err, "unknown option '-x'");
	assert_int_equal(PARSE(c, &a, "--no-such-option", "health"), 2);
	assert_int_equal(PARSE(c, &a, "health", "--t", "1s"), 2);
	assert_non_null(strstr(a.err, "ambiguous"));
	assert_int_equal(PARSE(c, &a, "health", "--server"), 2);
	assert_string_equal(a.err, "--server needs a value (URL)");
	assert_int_equal(PARSE(c, &a, "health", "-s"), 2);
	assert_string_equal(a.err, "-s needs a value (URL)");
	assert_int_equal(PARSE(c, &a, "get", "A", "B"), 2);
	assert_string_equal(a.err, "takes at most 1 operand, not also 'B'");
	assert_int_equal(PARSE(c, &a, "withdraw"), 2);
	assert_string_equal(a.err, "needs ID");
	assert_int_equal(PARSE(c, &a, "review", "ID"), 2);
	assert_string_equal(a.err, "needs ID and ACTION");
	assert_int_equal(PARSE(c, &a, "methods", "x"), 2);
	assert_string_equal(a.err, "takes no operands, not 'x'");
	assert_int_equal(PARSE(c, &a, "health", "-H", "novalue"), 2);
	assert_int_equal(PARSE(c, &a, "health", "-H", "=v"), 2);
}

static void test_double_dash(void **state)
{
	cli *c = *state;
	cli_args a;
	assert_int_equal(PARSE(c, &a, "call", "--json", "--", "/x.Y/Z", "-"), 0);
	assert_true(c->json);
	assert_int_equal(a.n_operands, 2);
	assert_string_equal(a.operands[1], "-");
	assert_int_equal(PARSE(c, &a, "withdraw", "--", "--reason"), 0); /* an odd ID, but an ID */
	assert_string_equal(a.operands[0], "--reason");
	assert_int_equal(PARSE(c, &a, "--json", "--", "health"), 0);
	assert_ptr_equal(a.cmd, &cli_cmd_health);
	assert_int_equal(parse_words(c, &a, (const char *[]){"onboard", NULL}), 0);
	assert_null(a.cmd); /* nothing: main prints the usage */
}

static void test_requests_from_options(void **state)
{
	cli *c = *state;
	cli_args a;
	assert_int_equal(PARSE(c, &a, "submit", "--siren", "732829320", "--legal-name", "B M",
	                       "--employees", "4", "--turnover-eur=350000", "--channel", "webshop",
	                       "--category", "food", "--category", "bakery", "--accept-terms",
	                       "--city", "Paris", "--phone", "01 23 45 67 89", "--export"),
	                 0);
	ProtobufCMessage *m;
	assert_int_equal(cli_request(c, &a, &m), 0);
	const Onboard__V1__SubmitApplicationRequest *rq =
	        (Onboard__V1__SubmitApplicationRequest *)m;
	assert_string_equal(rq->company->siren, "732829320");
	assert_string_equal(rq->company->legal_name, "B M");
	assert_int_equal(rq->company->employees, 4);
	assert_int_equal(rq->company->turnover_eur, 350000);
	assert_string_equal(rq->company->address->city, "Paris");
	assert_string_equal(rq->contact->phone, "01 23 45 67 89");
	assert_int_equal(rq->channel, ONBOARD__V1__CHANNEL__CHANNEL_OWN_WEBSHOP);
	assert_int_equal(rq->n_product_categories, 2);
	assert_string_equal(rq->product_categories[1], "bakery");
	assert_true(rq->accepts_terms && rq->intends_to_export);
	assert_string_equal(rq->cohort_id, "");
	protobuf_c_message_free_unpacked(m, NULL);

	/* Defaults of the table, replaced by what is given. */
	assert_int_equal(PARSE(c, &a, "cohort", "--create", "--id", "x", "--name", "X",
	                       "--eligible", "eti", "--eligible", "ge", "--webinar", "09:30",
	                       "--ad-credit", "150,5"),
	                 0);
	assert_int_equal(cli_request(c, &a, &m), 0);
	const Onboard__V1__Cohort *co = ((Onboard__V1__CreateCohortRequest *)m)->cohort;
	assert_int_equal(co->capacity, 800);
	assert_int_equal(co->monthly_fee_cents, 3900);
	assert_int_equal(co->ad_credit_cents, 15050);
	assert_int_equal(co->webinar_hour, 9);
	assert_int_equal(co->webinar_minute, 30);
	assert_int_equal(co->advisor_pool, 300);
	assert_string_equal(co->lockdown_start, "2020-10-30");
	assert_int_equal(co->n_eligible_sizes, 2);
	assert_int_equal(co->eligible_sizes[0], ONBOARD__V1__SIZE_CATEGORY__SIZE_CATEGORY_ETI);
	assert_int_equal(co->eligible_sizes[1], ONBOARD__V1__SIZE_CATEGORY__SIZE_CATEGORY_GE);
	protobuf_c_message_free_unpacked(m, NULL);

	/* Operands into their fields, words included. */
	assert_int_equal(PARSE(c, &a, "review", "01HF", "REJECT", "--reason", "fraud"), 0);
	assert_int_equal(cli_request(c, &a, &m), 0);
	const Onboard__V1__ReviewApplicationRequest *rv =
	        (Onboard__V1__ReviewApplicationRequest *)m;
	assert_string_equal(rv->id, "01HF");
	assert_int_equal(rv->action, ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_REJECT);
	assert_int_equal(rv->rejection_reason,
	                 ONBOARD__V1__REJECTION_REASON__REJECTION_REASON_FRAUD_SUSPECTED);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* The table's invariants, for cmd called path. */
static void check_command(const cli_command *cmd, const char *path)
{
	char why[256];
	assert_non_null(cmd->summary);
	if (cmd->subcommands != NULL) {
		for (const cli_command *const *sub = cmd->subcommands; *sub != NULL; sub++)
			check_command(*sub, (*sub)->name);
		return;
	}
	const ProtobufCMessageDescriptor *req = cmd->request;
	if (cmd->method != NULL) {
		const ProtobufCMethodDescriptor *md = cli_find_method(cmd->method, NULL, 0);
		if (md == NULL)
			fail_msg("%s: no method %s", path, cmd->method);
		if (req == NULL)
			req = md->input;
		/* The printer of a change reads an Application, as the row says what of it. */
		if (cmd->print == cli_print_change &&
		    md->output != &onboard__v1__application__descriptor)
			fail_msg("%s: cli_print_change for a %s", path, md->output->name);
	}
	if (cmd->shows != 0 && cmd->print != cli_print_change)
		fail_msg("%s: shows, but the printer is not cli_print_change", path);
	assert_true(cmd->run != NULL || cmd->method != NULL);
	for (const cli_option *o = cmd->options; o != NULL && o->name != NULL; o++) {
		for (const cli_option *g = cli_global_options; g->name != NULL; g++)
			if (strcmp(g->name, o->name) == 0 && strcmp(o->name, "version") != 0)
				fail_msg("%s: --%s hides the global option", path, o->name);
		for (const cli_option *p = cmd->options; p != o; p++)
			if (strcmp(p->name, o->name) == 0)
				fail_msg("%s: --%s twice", path, o->name);
		if (o->field == NULL)
			continue;
		if (req == NULL)
			fail_msg("%s: --%s has a field but the command no request", path, o->name);
		if (!cli_field_fits(req, o->field, o->kind, why, sizeof(why)))
			fail_msg("%s --%s: %s", path, o->name, why);
		if (o->kind == CLI_HHMM &&
		    !cli_field_fits(req, o->field2, CLI_UINT, why, sizeof(why)))
			fail_msg("%s --%s: %s", path, o->name, why);
		if ((o->kind == CLI_WORD || o->kind == CLI_WORDS) && o->words == NULL)
			fail_msg("%s --%s: no words", path, o->name);
	}
	for (const cli_operand *op = cmd->operands; op != NULL && op->metavar != NULL; op++)
		if (op->field != NULL &&
		    !cli_field_fits(req, op->field, op->kind, why, sizeof(why)))
			fail_msg("%s %s: %s", path, op->metavar, why);
}

static void test_the_table(void **state)
{
	(void)state;
	size_t n = 0;
	for (const cli_command *const *cmd = cli_commands; *cmd != NULL; cmd++, n++)
		check_command(*cmd, (*cmd)->name);
	assert_true(n >= 15);
	char why[256];
	assert_false(cli_field_fits(&onboard__v1__submit_application_request__descriptor,
	                            "company.nope", CLI_STRING, why, sizeof(why)));
	assert_false(cli_field_fits(&onboard__v1__submit_application_request__descriptor,
	                            "company.employees", CLI_STRING, why, sizeof(why)));
}

/* Every command's help starts with its usage and names every one of its options. */
static void test_help_from_the_table(void **state)
{
	(void)state;
	for (const cli_command *const *cmd = cli_commands; *cmd != NULL; cmd++) {
		char *text = NULL, head[64];
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		assert_non_null(f);
		cli_print_help(f, *cmd, (*cmd)->name);
		fclose(f);
		snprintf(head, sizeof(head), "Usage: onboard %s", (*cmd)->name);
		if (strncmp(text, head, strlen(head)) != 0)
			fail_msg("the help of %s starts with: %.40s", (*cmd)->name, text);
		for (const cli_option *o = (*cmd)->options; o != NULL && o->name != NULL; o++) {
			char name[64];
			snprintf(name, sizeof(name), "--%s", o->name);
			if (strstr(text, name) == NULL)
				fail_msg("the help of %s does not name %s", (*cmd)->name, name);
		}
		free(text);
	}
}

/* What fd (1 or 2) received while run(c) ran, NUL-terminated; the caller frees. */
static char *capture(int fd, void (*run)(cli *c), cli *c)
{
	char path[] = "/tmp/test_cli_parse.XXXXXX";
	int tmp = mkstemp(path);
	assert_true(tmp >= 0);
	unlink(path);
	fflush(stdout);
	fflush(stderr);
	int saved = dup(fd);
	assert_true(saved >= 0);
	assert_true(dup2(tmp, fd) >= 0);
	run(c);
	fflush(stdout);
	fflush(stderr);
	assert_true(dup2(saved, fd) >= 0);
	close(saved);
	off_t len = lseek(tmp, 0, SEEK_END);
	char *buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(pread(tmp, buf, (size_t)len, 0), len);
	close(tmp);
	return buf;
}

static void refusal(cli *c)
{
	ob_field_violation v[2] = {{"company.siren", "must be 9 digits"},
	                           {"contact.email", "is \"x\""}};
	ob_result r = {.code = OB_CODE_INVALID_ARGUMENT,
	               .message = "the application has 2 invalid fields",
	               .violations = v,
	               .n_violations = 2,
	               .retry_after_ms = 250};
	cli_print_status(c, &r);
}

static void local_failure(cli *c)
{
	ob_result r = {.code = OB_CODE_UNAVAILABLE, .local = true, .message = "cannot connect"};
	cli_print_status(c, &r);
}

static void usage_error(cli *c)
{
	cli_usage(c, "--page-size takes a whole number from 1 to %d, not '%s'", 500, "0");
}

static void bad_utf8(cli *c)
{
	cli_fail(c, "cannot read %s", "caf\xe9.csv");
}

/* Under --json, every error is one JSON object on one line of stderr. */
static void test_json_errors(void **state)
{
	cli *c = *state;
	cli_init(c);
	c->path = "submit";
	char *text = capture(2, refusal, c);
	assert_non_null(strstr(text, "onboard: INVALID_ARGUMENT: the application has 2 invalid"));
	assert_non_null(strstr(text, "\n  company.siren: must be 9 digits\n"));
	free(text);

	c->json = true;
	text = capture(2, refusal, c);
	assert_non_null(strchr(text, '\n'));
	assert_true(strchr(text, '\n')[1] == '\0'); /* one line */
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (j == NULL)
		fail_msg("not JSON: %s", text);
	assert_string_equal(json_string_value(json_object_get(j, "code")), "INVALID_ARGUMENT");
	assert_string_equal(json_string_value(json_object_get(j, "message")),
	                    "the application has 2 invalid fields");
	json_t *fv = json_object_get(j, "field_violations");
	assert_int_equal(json_array_size(fv), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fv, 0), "field")),
	                    "company.siren");
	assert_string_equal(
	        json_string_value(json_object_get(json_array_get(fv, 1), "description")),
	        "is \"x\"");
	assert_int_equal(json_integer_value(json_object_get(j, "retry_after_ms")), 250);
	assert_null(json_object_get(j, "local"));
	json_decref(j);
	free(text);

	static const struct {
		void (*run)(cli *c);
		const char *code, *flag, *message;
	} others[] = {
	        {local_failure, "UNAVAILABLE", "local", "cannot connect"},
	        {usage_error, "INVALID_ARGUMENT", "usage",
	         "--page-size takes a whole number from 1 to 500, not '0'"},
	        {bad_utf8, "UNKNOWN", "local", "cannot read caf?.csv"},
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		text = capture(2, others[i].run, c);
		j = json_loads(text, 0, &je);
		if (j == NULL)
			fail_msg("not JSON: %s", text);
		assert_string_equal(json_string_value(json_object_get(j, "code")), others[i].code);
		assert_string_equal(json_string_value(json_object_get(j, "message")),
		                    others[i].message);
		assert_true(json_is_true(json_object_get(j, others[i].flag)));
		assert_int_equal(json_array_size(json_object_get(j, "field_violations")), 0);
		json_decref(j);
		free(text);
	}
	c->path = NULL;
}

static void print_empty_standing(cli *c)
{
	Onboard__V1__Cohort co = ONBOARD__V1__COHORT__INIT;
	Onboard__V1__CohortStanding st = ONBOARD__V1__COHORT_STANDING__INIT;
	co.id = (char *)"empty";
	st.cohort = &co;
	assert_int_equal(cli_print_json(c, &st.base), 0);
}

/* --emit-defaults: an empty cohort's counts are 0 and [], not absent (null for jq). */
static void test_emit_defaults(void **state)
{
	cli *c = *state;
	cli_args a;
	assert_int_equal(PARSE(c, &a, "cohort", "--json"), 0);
	char *text = capture(1, print_empty_standing, c);
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	assert_non_null(j);
	assert_null(json_object_get(j, "applications"));
	json_decref(j);
	free(text);

	assert_int_equal(PARSE(c, &a, "cohort", "--json", "--emit-defaults"), 0);
	text = capture(1, print_empty_standing, c);
	j = json_loads(text, 0, &je);
	assert_non_null(j);
	assert_true(json_is_integer(json_object_get(j, "applications")));
	assert_int_equal(json_integer_value(json_object_get(j, "seatsHeld")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "byState")), 0);
	assert_true(json_is_array(json_object_get(j, "byState")));
	assert_true(json_is_number(json_object_get(j, "exportShare")));
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(j, "cohort"), "name")), "");
	json_decref(j);
	free(text);
}

/* The bash completion script lists every command and, for each, its options. */
static void test_completion_from_the_table(void **state)
{
	(void)state;
	char *text = NULL, want[2048];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	cli_print_bash_completion(f);
	fclose(f);
	size_t used = (size_t)snprintf(want, sizeof(want), "_onboard_commands='");
	for (const cli_command *const *cmd = cli_commands; *cmd != NULL; cmd++)
		used += (size_t)snprintf(want + used, sizeof(want) - used, "%s%s",
		                         cmd == cli_commands ? "" : " ", (*cmd)->name);
	snprintf(want + used, sizeof(want) - used, "'\n");
	if (strstr(text, want) == NULL)
		fail_msg("no line %s", want);
	assert_non_null(strstr(text, "admin erase"));
	assert_non_null(strstr(text, "_onboard_subcommands['admin']='erase export-contact "
	                             "rotate-keys audit backup'"));
	assert_non_null(strstr(text, "_onboard_values['list|--state']='waitlisted submitted "
	                             "under-review needs-info approved onboarded rejected "
	                             "withdrawn'"));
	assert_non_null(strstr(text, "_onboard_operands['review 1']='start request-info approve "
	                             "reject onboard'"));
	assert_non_null(strstr(text, "complete -F _onboard onboard\n"));
	for (const cli_command *const *cmd = cli_commands; *cmd != NULL; cmd++) {
		if ((*cmd)->options == NULL)
			continue;
		char key[96];
		snprintf(key, sizeof(key), "_onboard_options['%s']='", (*cmd)->name);
		const char *line = strstr(text, key);
		if (line == NULL)
			fail_msg("no options of %s", (*cmd)->name);
		size_t line_len = strcspn(line, "\n");
		for (const cli_option *o = (*cmd)->options; o->name != NULL; o++) {
			char name[64];
			snprintf(name, sizeof(name), "--%s", o->name);
			const char *at = strstr(line, name);
			if (at == NULL || (size_t)(at - line) > line_len)
				fail_msg("%s: %s is not completed", (*cmd)->name, name);
		}
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_global_options_anywhere),
	        cmocka_unit_test(test_name_equals_value),
	        cmocka_unit_test(test_durations),
	        cmocka_unit_test(test_numbers),
	        cmocka_unit_test(test_words),
	        cmocka_unit_test(test_version_and_help),
	        cmocka_unit_test(test_errors_in_words),
	        cmocka_unit_test(test_double_dash),
	        cmocka_unit_test(test_requests_from_options),
	        cmocka_unit_test(test_the_table),
	        cmocka_unit_test(test_help_from_the_table),
	        cmocka_unit_test(test_json_errors),
	        cmocka_unit_test(test_emit_defaults),
	        cmocka_unit_test(test_completion_from_the_table),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
