/*
 * test_json_codec.c: unit tests for common/json_codec.c against the real contract, compiled by
 * protoc-c (the onboard/v1 .pb-c.h headers). Run it under AddressSanitizer: LeakSanitizer then
 * checks that every decode that fails half-way frees what it had built.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_codec.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "onboard/v1/rpc.pb-c.h"

#define SUBMIT      (&onboard__v1__submit_application_request__descriptor)
#define APPLICATION (&onboard__v1__application__descriptor)
#define STANDING    (&onboard__v1__cohort_standing__descriptor)
#define LIST        (&onboard__v1__list_applications_request__descriptor)
#define RESPONSE    (&onboard__v1__response__descriptor)

static char err[256];

/* Parses text as a d, failing the test (with the codec's reason) if it is refused. */
static ProtobufCMessage *parse_ok(const char *text, const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = ob_json_parse_message(text, strlen(text), d, err, sizeof err);

	if (m == NULL)
		print_error("refused %s: %s\n", text, err);
	assert_non_null(m);
	return m;
}

/* Asserts that text is refused as a d with an error that starts with want. */
static void assert_refused(const char *text, const ProtobufCMessageDescriptor *d, const char *want)
{
	ProtobufCMessage *m = ob_json_parse_message(text, strlen(text), d, err, sizeof err);

	if (m != NULL)
		print_error("accepted %s\n", text);
	assert_null(m);
	if (strncmp(err, want, strlen(want)) != 0)
		print_error("%s: error \"%s\", want \"%s...\"\n", text, err, want);
	assert_true(strncmp(err, want, strlen(want)) == 0);
}

/* Asserts that m prints as want (compact) and frees m. */
static void assert_dumps(ProtobufCMessage *m, unsigned flags, const char *want)
{
	char *got = ob_json_dump_message(m, flags, 0);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* Asserts that text, a d, decodes and prints back as want. */
static void assert_reads_as(const char *text, const ProtobufCMessageDescriptor *d, const char *want)
{
	assert_dumps(parse_ok(text, d), 0, want);
}

/* A JSON text and what must come of it, read as the message its table is checked against. A
 * message prints as a JSON object, so a want that starts with '{' is the compact JSON the text
 * reads back as; any other want is the start of the error that refuses it. */
typedef struct json_case {
	const char *text;
	const char *want;
} json_case;

static void check_cases(const ProtobufCMessageDescriptor *d, const json_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (cases[i].want[0] == '{')
			assert_reads_as(cases[i].text, d, cases[i].want);
		else
			assert_refused(cases[i].text, d, cases[i].want);
	}
}

#define CHECK_CASES(d, cases) check_cases(d, cases, sizeof(cases) / sizeof((cases)[0]))

/*
 * Decodes canonical JSON, checks it prints back identically, and checks that the message is one
 * protobuf-c packs and unpacks to the same JSON (so the decoder built a well-formed struct).
 */
static void assert_round_trip(const char *text, const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = parse_ok(text, d);
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *wire = malloc(len + 1);
	ProtobufCMessage *back;

	assert_non_null(wire);
	assert_int_equal(protobuf_c_message_pack(m, wire), len);
	back = protobuf_c_message_unpack(d, NULL, len, wire);
	free(wire);
	assert_non_null(back);
	assert_dumps(m, 0, text);
	assert_dumps(back, 0, text);
}

/* The CLI's main use: a full request survives JSON -> message -> wire -> message -> JSON. */
static void test_round_trip_request(void **state)
{
	(void)state;
	assert_round_trip(
	        "{\"cohortId\":\"2020-11\",\"company\":{\"siren\":\"732829320\","
	        "\"siret\":\"73282932000074\",\"legalName\":\"Boulangerie Dupont\","
	        "\"nafCode\":\"10.71C\",\"vatNumber\":\"FR44732829320\",\"employees\":12,"
	        "\"turnoverEur\":\"1850000\",\"balanceSheetEur\":\"-42\",\"address\":{"
	        "\"street\":\"3 rue de la Paix\",\"postalCode\":\"75002\",\"city\":\"Paris\"}},"
	        "\"contact\":{\"name\":\"\xc3\x89milie Dupont\",\"email\":\"e@example.fr\","
	        "\"phone\":\"+33142000000\"},\"channel\":\"CHANNEL_BOTH\","
	        "\"intendsToExport\":true,\"productCategories\":[\"pain\",\"viennoiserie\"],"
	        "\"acceptsTerms\":true}",
	        SUBMIT);
}

/* Responses print right: repeated sub-messages, uint64 at its maximum, nested output fields. */
static void test_round_trip_response(void **state)
{
	(void)state;
	assert_round_trip(
	        "{\"id\":\"app-1\",\"cohortId\":\"2020-11\","
	        "\"state\":\"APPLICATION_STATE_APPROVED\","
	        "\"version\":\"18446744073709551615\",\"company\":{\"siren\":\"732829320\"},"
	        "\"channel\":\"CHANNEL_MARKETPLACE\",\"benefits\":{\"feeWaiverMonths\":3,"
	        "\"feeWaivedCents\":\"8997\",\"adCreditCents\":\"50000\"},"
	        "\"history\":[{\"to\":\"APPLICATION_STATE_SUBMITTED\",\"actor\":\"applicant\"},"
	        "{\"from\":\"APPLICATION_STATE_SUBMITTED\","
	        "\"to\":\"APPLICATION_STATE_UNDER_REVIEW\",\"actor\":\"reviewer\","
	        "\"at\":\"2020-11-02T09:00:00.000Z\"}]}",
	        APPLICATION);
	assert_round_trip(
	        "{\"states\":[\"APPLICATION_STATE_SUBMITTED\",\"APPLICATION_STATE_NEEDS_INFO\"],"
	        "\"pageSize\":500}",
	        LIST);
}

/* What a person reads on the terminal: two-space indent, key order = field numbers, 0.1 as 0.1. */
static void test_pretty(void **state)
{
	ProtobufCMessage *m =
	        parse_ok("{\"exportShare\":0.1,\"byState\":[{\"count\":3,\"key\":\"A\"}],"
	                 "\"seatsHeld\":3,\"cohort\":{\"capacity\":100,\"id\":\"2020-11\"},"
	                 "\"bySize\":[]}",
	                 STANDING);
	char *got = ob_json_dump_message(m, 0, 1);

	(void)state;
	assert_non_null(got);
	assert_string_equal(got, "{\n"
	                         "  \"cohort\": {\n"
	                         "    \"id\": \"2020-11\",\n"
	                         "    \"capacity\": 100\n"
	                         "  },\n"
	                         "  \"seatsHeld\": 3,\n"
	                         "  \"byState\": [\n"
	                         "    {\n"
	                         "      \"key\": \"A\",\n"
	                         "      \"count\": 3\n"
	                         "    }\n"
	                         "  ],\n"
	                         "  \"exportShare\": 0.1\n"
	                         "}");
	free(got);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* Users type proto names (from the .proto) or JSON names (from our output): both must work; both
 * read as the JSON names (CAMEL), and print as the proto names when asked. */
#define CAMEL                                                                                      \
	"{\"cohortId\":\"2020-11\",\"company\":{\"legalName\":\"A\",\"turnoverEur\":\"5\"},"       \
	"\"acceptsTerms\":true}"
static const json_case field_names[] = {
        {"{\"cohort_id\":\"2020-11\",\"company\":{\"legal_name\":\"A\","
         "\"turnover_eur\":\"5\"},\"accepts_terms\":true}",
         CAMEL},
        {"{\"cohortId\":\"2020-11\",\"company\":{\"legal_name\":\"A\","
         "\"turnoverEur\":\"5\"},\"accepts_terms\":true}",
         CAMEL},
        /* Both spellings of one field: which one should win is not ours to guess. */
        {"{\"cohortId\":\"a\",\"cohort_id\":\"b\"}", "cohort_id: field \"cohort_id\" given twice"},
        /* Names are case-sensitive, as in every proto3 JSON reader. */
        {"{\"CohortId\":\"a\"}", "CohortId: unknown field"},
};

static void test_field_names(void **state)
{
	(void)state;
	CHECK_CASES(SUBMIT, field_names);
	assert_dumps(parse_ok(CAMEL, SUBMIT), OB_JSON_PROTO_NAMES,
	             "{\"cohort_id\":\"2020-11\",\"company\":{\"legal_name\":\"A\","
	             "\"turnover_eur\":\"5\"},\"accepts_terms\":true}");
}
#undef CAMEL

/* Enums by name or number; an unknown number survives (proto3 enums are open). */
static const json_case enums[] = {
        {"{\"channel\":3}", "{\"channel\":\"CHANNEL_BOTH\"}"},
        {"{\"channel\":\"CHANNEL_OWN_WEBSHOP\"}", "{\"channel\":\"CHANNEL_OWN_WEBSHOP\"}"},
        {"{\"channel\":42}", "{\"channel\":42}"},
        {"{\"channel\":\"CHANNEL_FAX\"}",
         "channel: unknown value \"CHANNEL_FAX\" for enum onboard.v1.Channel"},
        {"{\"channel\":\"channel_both\"}", "channel: unknown value"},
        {"{\"channel\":2147483648}", "channel: 2147483648 is out of range"},
        {"{\"channel\":true}", "channel: expected an enum name or number, got boolean"},
};

static void test_enums(void **state)
{
	(void)state;
	CHECK_CASES(SUBMIT, enums);
	/* In a repeated field, each element on its own. */
	assert_reads_as(
	        "{\"states\":[4,\"APPLICATION_STATE_WITHDRAWN\"]}", LIST,
	        "{\"states\":[\"APPLICATION_STATE_NEEDS_INFO\",\"APPLICATION_STATE_WITHDRAWN\"]}");
	assert_refused("{\"states\":[1,\"NOPE\"]}", LIST, "states[1]: unknown value \"NOPE\"");
}

/* 64-bit integers: strings or numbers in, strings out, the full range exact, no wrap-around.
 * The company's turnover and balance sheet are int64s, an application's version a uint64. */
static const json_case int64[] = {
        {"{\"company\":{\"turnoverEur\":1850000}}", "{\"company\":{\"turnoverEur\":\"1850000\"}}"},
        {"{\"company\":{\"turnoverEur\":\"-9223372036854775808\","
         "\"balanceSheetEur\":9223372036854775807}}",
         "{\"company\":{\"turnoverEur\":\"-9223372036854775808\","
         "\"balanceSheetEur\":\"9223372036854775807\"}}"},
        {"{\"company\":{\"turnoverEur\":\"9223372036854775808\"}}",
         "company.turnoverEur: \"9223372036854775808\" is out of range for int64"},
};
static const json_case uint64[] = {
        {"{\"version\":\"18446744073709551615\"}", "{\"version\":\"18446744073709551615\"}"},
        {"{\"version\":1e3}", "{\"version\":\"1000\"}"},
        {"{\"version\":\"2.5e1\"}", "{\"version\":\"25\"}"},
        {"{\"version\":\"18446744073709551616\"}",
         "version: \"18446744073709551616\" is out of range for uint64"},
        {"{\"version\":-1}", "version: -1 is out of range for uint64"},
        {"{\"version\":\"-1\"}", "version: \"-1\" is out of range for uint64"},
        {"{\"version\":\" 1\"}", "version: expected an integer, got string"},
        {"{\"version\":\"0x10\"}", "version: expected an integer, got string"},
};

static void test_int64(void **state)
{
	(void)state;
	CHECK_CASES(SUBMIT, int64);
	CHECK_CASES(APPLICATION, uint64);
}

/* 32-bit integers: range-checked, numeric strings accepted, a negative never wraps to uint.
 * The company's employees are a uint32. */
static const json_case int32[] = {
        {"{\"company\":{\"employees\":4294967295}}", "{\"company\":{\"employees\":4294967295}}"},
        {"{\"company\":{\"employees\":\"42\"}}", "{\"company\":{\"employees\":42}}"},
        {"{\"company\":{\"employees\":4294967296}}",
         "company.employees: 4294967296 is out of range for uint32"},
        {"{\"company\":{\"employees\":-1}}", "company.employees: -1 is out of range for uint32"},
        {"{\"company\":{\"employees\":\"-1\"}}",
         "company.employees: \"-1\" is out of range for uint32"},
};

static void test_int32(void **state)
{
	(void)state;
	CHECK_CASES(SUBMIT, int32);
	/* An exponent does not slip a large number past the range check. */
	assert_refused("{\"retryAfterMs\":1e10}", RESPONSE,
	               "retryAfterMs: 10000000000 is out of range for uint32");
}

/* An integer field given a fraction is a mistake to report, not to truncate silently. */
static const json_case fractional[] = {
        {"{\"company\":{\"employees\":12.0}}", "{\"company\":{\"employees\":12}}"},
        {"{\"company\":{\"employees\":1e2}}", "{\"company\":{\"employees\":100}}"},
        {"{\"company\":{\"employees\":1.5}}", "company.employees: expected an integer, got 1.5"},
        {"{\"company\":{\"employees\":\"1.5\"}}",
         "company.employees: expected an integer, got \"1.5\""},
};

static void test_fractional(void **state)
{
	(void)state;
	CHECK_CASES(SUBMIT, fractional);
	assert_refused("{\"version\":0.000001}", APPLICATION, "version: expected an integer");
}

/* Bytes: standard base64 out; standard or URL-safe, padded or not, in; garbage refused. */
static const json_case bytes[] = {
        {"{\"payload\":\"AQIDBA\"}", "{\"payload\":\"AQIDBA==\"}"},
        {"{\"payload\":\"\"}", "{}"},
        {"{\"payload\":\"A\"}", "payload: invalid base64"},
        {"{\"payload\":\"+_8=\"}", "payload: invalid base64"},
        {"{\"payload\":\"AQ=D\"}", "payload: invalid base64"},
        {"{\"payload\":\"AQID\\n\"}", "payload: invalid base64"},
        /* Non-ASCII (here U+00E9, 2 bytes) where digits go: libsodium 1.0.18 took each
         * byte for '/' or '_', reading "AA//" and "-A__" (common/base64.h). */
        {"{\"payload\":\"AA\\u00e9\"}", "payload: invalid base64"},
        {"{\"payload\":\"-A\\u00e9\"}", "payload: invalid base64"},
        {"{\"payload\":[1,2]}", "payload: expected a base64 string, got array"},
};

static void test_bytes(void **state)
{
	static const char *same[] = {"+/8=", "+/8", "-_8", "-_8="};
	Onboard__V1__Response *r;

	(void)state;
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		char text[64];
		snprintf(text, sizeof text, "{\"payload\":\"%s\"}", same[i]);
		r = (Onboard__V1__Response *)parse_ok(text, RESPONSE);
		assert_int_equal(r->payload.len, 2);
		assert_int_equal(r->payload.data[0], 0xfb);
		assert_int_equal(r->payload.data[1], 0xff);
		assert_dumps(&r->base, 0, "{\"payload\":\"+/8=\"}");
	}
	CHECK_CASES(RESPONSE, bytes);
}

/* A typo in a nested field name is reported where it is, so the user can find it. */
static const json_case unknown_field[] = {
        {"{\"company\":{\"siren\":\"732829320\",\"sirenNumber\":\"1\"}}",
         "company.sirenNumber: unknown field for onboard.v1.Company"},
        {"{\"company\":{\"address\":{\"zip\":\"75002\"}}}",
         "company.address.zip: unknown field for onboard.v1.Address"},
        {"{\"foo\":1}", "foo: unknown field for onboard.v1.SubmitApplicationRequest"},
};

static void test_unknown_field(void **state)
{
	(void)state;
	CHECK_CASES(SUBMIT, unknown_field);
}

/* Type errors name the full path, array indexes included. */
static const json_case wrong_type[] = {
        {"{\"company\":{\"employees\":\"abc\"}}",
         "company.employees: expected an integer, got string"},
        {"{\"company\":{\"address\":{\"city\":75}}}",
         "company.address.city: expected a string, got number"},
        {"{\"productCategories\":[\"a\",1]}",
         "productCategories[1]: expected a string, got number"},
        {"{\"productCategories\":\"a\"}", "productCategories: expected an array, got string"},
        {"{\"productCategories\":[null]}", "productCategories[0]: null is not allowed in an array"},
        {"{\"intendsToExport\":\"yes\"}", "intendsToExport: expected a boolean, got string"},
        {"{\"acceptsTerms\":1}", "acceptsTerms: expected a boolean, got number"},
};

static void test_wrong_type(void **state)
{
	(void)state;
	CHECK_CASES(SUBMIT, wrong_type);
	/* In a repeated sub-message, with its index. */
	assert_refused("{\"history\":[{},{\"from\":true}]}", APPLICATION,
	               "history[1].from: expected an enum name or number, got boolean");
}

/* A company's figures are each in a oneof of their own: a 0 given is printed and read back,
 * a figure not given is not printed, with or without --emit-defaults. */
static void test_figure_presence(void **state)
{
	(void)state;
	assert_round_trip("{\"company\":{\"employees\":0,\"turnoverEur\":\"0\","
	                  "\"legalForm\":\"LEGAL_FORM_MICRO_ENTREPRENEUR\"}}",
	                  SUBMIT);
	ProtobufCMessage *m = parse_ok("{\"company\":{\"employees\":0}}", SUBMIT);
	const Onboard__V1__Company *c = ((Onboard__V1__SubmitApplicationRequest *)m)->company;
	assert_int_equal(c->employees_given_case, ONBOARD__V1__COMPANY__EMPLOYEES_GIVEN_EMPLOYEES);
	assert_int_equal(c->balance_sheet_given_case,
	                 ONBOARD__V1__COMPANY__BALANCE_SHEET_GIVEN__NOT_SET);
	protobuf_c_message_free_unpacked(m, NULL);
	assert_reads_as("{\"company\":{}}", SUBMIT, "{\"company\":{}}");
}

/* --emit-defaults shows every field a message has, which is how users discover them. */
static void test_emit_defaults(void **state)
{
	(void)state;
	assert_reads_as("{}", SUBMIT, "{}");
	assert_dumps(parse_ok("{}", SUBMIT), OB_JSON_EMIT_DEFAULTS,
	             "{\"cohortId\":\"\",\"company\":null,\"contact\":null,"
	             "\"channel\":\"CHANNEL_UNSPECIFIED\",\"intendsToExport\":false,"
	             "\"productCategories\":[],\"acceptsTerms\":false,\"termsVersion\":\"\","
	             "\"termsAcceptedAt\":\"\"}");
	assert_dumps(
	        parse_ok("{}", RESPONSE), OB_JSON_EMIT_DEFAULTS | OB_JSON_PROTO_NAMES,
	        "{\"code\":\"OK\",\"message\":\"\",\"field_violations\":[],"
	        "\"retry_after_ms\":0,\"request_id\":\"\",\"payload\":\"\",\"replayed\":false}");
	assert_dumps(parse_ok("{\"company\":{}}", SUBMIT), 0, "{\"company\":{}}");
	/* Explicit defaults and null read as absent. */
	assert_reads_as("{\"cohortId\":\"\",\"company\":null,\"channel\":null,"
	                "\"productCategories\":null,\"intendsToExport\":false}",
	                SUBMIT, "{}");
}

/* Non-finite doubles travel as the strings proto3 JSON defines; finite ones print shortest. */
static const json_case doubles[] = {
        {"{\"exportShare\":\"Infinity\"}", "{\"exportShare\":\"Infinity\"}"},
        {"{\"exportShare\":\"-Infinity\"}", "{\"exportShare\":\"-Infinity\"}"},
        {"{\"exportShare\":\"0.25\"}", "{\"exportShare\":0.25}"},
        {"{\"exportShare\":0.3333333333333333}", "{\"exportShare\":0.3333333333333333}"},
        {"{\"exportShare\":100}", "{\"exportShare\":100}"},
        {"{\"exportShare\":1e300}", "{\"exportShare\":1e+300}"},
        {"{\"exportShare\":-2.5e-7}", "{\"exportShare\":-2.5e-07}"},
        {"{\"exportShare\":\"nan\"}", "exportShare: expected a number, got string"},
        {"{\"exportShare\":\"1e999\"}", "exportShare: \"1e999\" is out of range for double"},
        {"{\"exportShare\":false}", "exportShare: expected a number, got boolean"},
};

static void test_doubles(void **state)
{
	Onboard__V1__CohortStanding s = ONBOARD__V1__COHORT_STANDING__INIT;
	Onboard__V1__CohortStanding *p;
	char *got;

	(void)state;
	s.export_share = (double)NAN;
	got = ob_json_dump_message(&s.base, 0, 0);
	assert_non_null(got);
	assert_string_equal(got, "{\"exportShare\":\"NaN\"}");
	free(got);

	p = (Onboard__V1__CohortStanding *)parse_ok("{\"exportShare\":\"NaN\"}", STANDING);
	assert_true(isnan(p->export_share));
	protobuf_c_message_free_unpacked(&p->base, NULL);
	CHECK_CASES(STANDING, doubles);
}

/* jansson would keep the last of two equal keys; a request that says two things is refused. */
static void test_duplicate_key(void **state)
{
	(void)state;
	assert_refused("{\"cohortId\":\"a\",\"cohortId\":\"b\"}", SUBMIT, "line 1, column ");
	assert_non_null(strstr(err, "duplicate"));
	assert_refused("{\"company\":{\"siren\":\"1\",\"siren\":\"1\"}}", SUBMIT,
	               "line 1, column ");
}

/* Whatever arrives on the command line is refused cleanly: no crash, no leak, a clear reason. */
static const json_case garbage[] = {
        {"[]", "onboard.v1.SubmitApplicationRequest: expected an object, got array"},
        {"\"x\"", "onboard.v1.SubmitApplicationRequest: expected an object"},
        {"42", "onboard.v1.SubmitApplicationRequest: expected an object"},
        {"null", "onboard.v1.SubmitApplicationRequest: expected an object"},
        {"", "line "},
        {"{\"company\":", "line 1, column "},
        {"{\"company\":{}} x", "line 1, column "},
        {"{\"company\":[[[[[[[[{}]]]]]]]]}", "company: expected an object, got array"},
        {"{\"company\":{\"address\":\"rue\"}}", "company.address: expected an object, got string"},
        {"{\"company\":{\"address\":{\"x\":{\"y\":{\"z\":[{}]}}}}}",
         "company.address.x: unknown field"},
};

static void test_garbage(void **state)
{
	enum { DEEP = 100000 };
	char *deep = malloc(2 * DEEP + 1);

	(void)state;
	CHECK_CASES(SUBMIT, garbage);

	assert_non_null(deep);
	memset(deep, '[', DEEP);
	memset(deep + DEEP, ']', DEEP);
	deep[2 * DEEP] = '\0';
	assert_refused(deep, SUBMIT, "line 1, column ");
	deep[0] = '{';
	memcpy(deep, "{\"a\":", 5);
	assert_refused(deep, SUBMIT, "line 1, column ");
	free(deep);

	assert_null(ob_json_to_message(NULL, SUBMIT, err, sizeof err));
	assert_string_equal(err,
	                    "onboard.v1.SubmitApplicationRequest: expected an object, got nothing");
	/* Error text is optional, and truncated rather than overflowed. */
	assert_null(ob_json_parse_message("[]", 2, SUBMIT, NULL, 0));
	err[3] = 'x';
	assert_null(ob_json_parse_message("[]", 2, SUBMIT, err, 4));
	assert_string_equal(err, "onb");
}

/* An error may quote the peer's bytes (jansson's token, a field's name), and it goes into a
 * Response's message and a Connect error's JSON: it must be UTF-8 whatever the input, or
 * jansson refuses to pack it (fuzz_connect found an escape before a lone 0xC9). */
static void assert_error_is_text(const char *text, size_t len)
{
	assert_null(ob_json_parse_message(text, len, SUBMIT, err, sizeof err));
	json_t *j = json_string(err);
	assert_non_null(j); /* jansson's own check: valid UTF-8 */
	json_decref(j);
	for (const char *c = err; *c != '\0'; c++)
		assert_true((unsigned char)*c >= 0x20);
}

static void test_errors_are_utf8(void **state)
{
	(void)state;
	static const char escape[] = "{\"cohortId\":\"a\\\xc9\x9c\"}";
	assert_error_is_text(escape, sizeof(escape) - 1);
	assert_string_equal(err + strlen(err) - 2, "?'");
	static const char raw[] = "{\"a\xff\xfe\x01\":1}";
	assert_error_is_text(raw, sizeof(raw) - 1);
	/* A name longer than the error's path, in two-byte characters: cut between them. */
	char key[1200] = "{\"company\":{\"";
	size_t o = strlen(key);
	for (int i = 0; i < 300; i++, o += 2)
		memcpy(key + o, "\xc3\xa9", 2);
	memcpy(key + o, "\":1}}", 6);
	assert_error_is_text(key, strlen(key));
	assert_non_null(strstr(err, "company.\xc3\xa9"));
}

/* Failures deep inside arrays and sub-messages free what was built (LeakSanitizer checks). */
static void test_partial_failure(void **state)
{
	(void)state;
	assert_refused(
	        "{\"id\":\"a\",\"company\":{\"siren\":\"1\",\"address\":{\"city\":\"Paris\"}},"
	        "\"productCategories\":[\"x\",\"y\"],\"history\":[{\"actor\":\"a\"},"
	        "{\"actor\":\"b\",\"reason\":\"c\"},{\"actor\":\"d\",\"at\":7}]}",
	        APPLICATION, "history[2].at: expected a string");
	assert_refused(
	        "{\"payload\":\"AQID\",\"fieldViolations\":[{\"field\":\"a\"},{\"field\":1}]}",
	        RESPONSE, "fieldViolations[1].field: expected a string");
	assert_refused("{\"company\":{\"address\":{\"city\":\"Paris\",\"street\":false}}}", SUBMIT,
	               "company.address.street: expected a string");
}

/* Output stays valid JSON whatever a peer put in a string: escapes, and U+FFFD for bad UTF-8. */
static void test_output_strings(void **state)
{
	Onboard__V1__Contact c = ONBOARD__V1__CONTACT__INIT;
	Onboard__V1__Response r = ONBOARD__V1__RESPONSE__INIT;
	char name[] = "caf\xe9 \xc3\xa9";
	char email[] = "a\"b\\c\n\x01/";
	char *got;

	(void)state;
	c.name = name;
	c.email = email;
	got = ob_json_dump_message(&c.base, 0, 0);
	assert_non_null(got);
	assert_string_equal(got, "{\"name\":\"caf\xef\xbf\xbd \xc3\xa9\","
	                         "\"email\":\"a\\\"b\\\\c\\n\\u0001/\"}");
	free(got);

	/* A code this client does not know yet prints as its number. */
	r.code = (Onboard__V1__Code)99;
	got = ob_json_dump_message(&r.base, 0, 0);
	assert_non_null(got);
	assert_string_equal(got, "{\"code\":99}");
	free(got);
}

/* The json_t API is usable on its own: object in, object out, caller keeps its references. */
static void test_json_t_api(void **state)
{
	json_t *in = json_pack("{s:s, s:{s:i}}", "cohort_id", "2020-11", "company", "employees", 3);
	ProtobufCMessage *m;
	json_t *out;

	(void)state;
	assert_non_null(in);
	m = ob_json_to_message(in, SUBMIT, err, sizeof err);
	assert_non_null(m);
	json_decref(in);
	out = ob_json_from_message(m, 0);
	assert_non_null(out);
	assert_string_equal(json_string_value(json_object_get(out, "cohortId")), "2020-11");
	assert_int_equal(
	        json_integer_value(json_object_get(json_object_get(out, "company"), "employees")),
	        3);
	json_decref(out);
	protobuf_c_message_free_unpacked(m, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip_request),
	        cmocka_unit_test(test_round_trip_response),
	        cmocka_unit_test(test_pretty),
	        cmocka_unit_test(test_field_names),
	        cmocka_unit_test(test_enums),
	        cmocka_unit_test(test_int64),
	        cmocka_unit_test(test_int32),
	        cmocka_unit_test(test_fractional),
	        cmocka_unit_test(test_bytes),
	        cmocka_unit_test(test_unknown_field),
	        cmocka_unit_test(test_wrong_type),
	        cmocka_unit_test(test_emit_defaults),
	        cmocka_unit_test(test_figure_presence),
	        cmocka_unit_test(test_doubles),
	        cmocka_unit_test(test_duplicate_key),
	        cmocka_unit_test(test_garbage),
	        cmocka_unit_test(test_errors_are_utf8),
	        cmocka_unit_test(test_partial_failure),
	        cmocka_unit_test(test_output_strings),
	        cmocka_unit_test(test_json_t_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
