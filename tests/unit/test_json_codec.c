/*
 * test_json_codec.c: unit tests for client/json_codec.c against the real contract, compiled by
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

/* Users type proto names (from the .proto) or JSON names (from our output): both must work. */
static void test_field_names(void **state)
{
	const char *camel = "{\"cohortId\":\"2020-11\",\"company\":{\"legalName\":\"A\","
	                    "\"turnoverEur\":\"5\"},\"acceptsTerms\":true}";

	(void)state;
	assert_reads_as("{\"cohort_id\":\"2020-11\",\"company\":{\"legal_name\":\"A\","
	                "\"turnover_eur\":\"5\"},\"accepts_terms\":true}",
	                SUBMIT, camel);
	assert_reads_as("{\"cohortId\":\"2020-11\",\"company\":{\"legal_name\":\"A\","
	                "\"turnoverEur\":\"5\"},\"accepts_terms\":true}",
	                SUBMIT, camel);
	assert_dumps(parse_ok(camel, SUBMIT), OB_JSON_PROTO_NAMES,
	             "{\"cohort_id\":\"2020-11\",\"company\":{\"legal_name\":\"A\","
	             "\"turnover_eur\":\"5\"},\"accepts_terms\":true}");
	/* Both spellings of one field: which one should win is not ours to guess. */
	assert_refused("{\"cohortId\":\"a\",\"cohort_id\":\"b\"}", SUBMIT,
	               "cohort_id: field \"cohort_id\" given twice");
	/* Names are case-sensitive, as in every proto3 JSON reader. */
	assert_refused("{\"CohortId\":\"a\"}", SUBMIT, "CohortId: unknown field");
}

/* Enums by name or number; an unknown number survives (proto3 enums are open). */
static void test_enums(void **state)
{
	(void)state;
	assert_reads_as("{\"channel\":3}", SUBMIT, "{\"channel\":\"CHANNEL_BOTH\"}");
	assert_reads_as("{\"channel\":\"CHANNEL_OWN_WEBSHOP\"}", SUBMIT,
	                "{\"channel\":\"CHANNEL_OWN_WEBSHOP\"}");
	assert_reads_as("{\"channel\":42}", SUBMIT, "{\"channel\":42}");
	assert_reads_as(
	        "{\"states\":[4,\"APPLICATION_STATE_WITHDRAWN\"]}", LIST,
	        "{\"states\":[\"APPLICATION_STATE_NEEDS_INFO\",\"APPLICATION_STATE_WITHDRAWN\"]}");
	assert_refused("{\"channel\":\"CHANNEL_FAX\"}", SUBMIT,
	               "channel: unknown value \"CHANNEL_FAX\" for enum onboard.v1.Channel");
	assert_refused("{\"channel\":\"channel_both\"}", SUBMIT, "channel: unknown value");
	assert_refused("{\"channel\":2147483648}", SUBMIT, "channel: 2147483648 is out of range");
	assert_refused("{\"channel\":true}", SUBMIT,
	               "channel: expected an enum name or number, got boolean");
	assert_refused("{\"states\":[1,\"NOPE\"]}", LIST, "states[1]: unknown value \"NOPE\"");
}

/* 64-bit integers: strings or numbers in, strings out, the full range exact, no wrap-around. */
static void test_int64(void **state)
{
	(void)state;
	assert_reads_as("{\"company\":{\"turnoverEur\":1850000}}", SUBMIT,
	                "{\"company\":{\"turnoverEur\":\"1850000\"}}");
	assert_reads_as("{\"company\":{\"turnoverEur\":\"-9223372036854775808\","
	                "\"balanceSheetEur\":9223372036854775807}}",
	                SUBMIT,
	                "{\"company\":{\"turnoverEur\":\"-9223372036854775808\","
	                "\"balanceSheetEur\":\"9223372036854775807\"}}");
	assert_reads_as("{\"version\":\"18446744073709551615\"}", APPLICATION,
	                "{\"version\":\"18446744073709551615\"}");
	assert_reads_as("{\"version\":1e3}", APPLICATION, "{\"version\":\"1000\"}");
	assert_reads_as("{\"version\":\"2.5e1\"}", APPLICATION, "{\"version\":\"25\"}");
	assert_refused("{\"company\":{\"turnoverEur\":\"9223372036854775808\"}}", SUBMIT,
	               "company.turnoverEur: \"9223372036854775808\" is out of range for int64");
	assert_refused("{\"version\":\"18446744073709551616\"}", APPLICATION,
	               "version: \"18446744073709551616\" is out of range for uint64");
	assert_refused("{\"version\":-1}", APPLICATION, "version: -1 is out of range for uint64");
	assert_refused("{\"version\":\"-1\"}", APPLICATION,
	               "version: \"-1\" is out of range for uint64");
	assert_refused("{\"version\":\" 1\"}", APPLICATION,
	               "version: expected an integer, got string");
	assert_refused("{\"version\":\"0x10\"}", APPLICATION,
	               "version: expected an integer, got string");
}

/* 32-bit integers: range-checked, numeric strings accepted, a negative never wraps to uint. */
static void test_int32(void **state)
{
	(void)state;
	assert_reads_as("{\"company\":{\"employees\":4294967295}}", SUBMIT,
	                "{\"company\":{\"employees\":4294967295}}");
	assert_reads_as("{\"company\":{\"employees\":\"42\"}}", SUBMIT,
	                "{\"company\":{\"employees\":42}}");
	assert_refused("{\"company\":{\"employees\":4294967296}}", SUBMIT,
	               "company.employees: 4294967296 is out of range for uint32");
	assert_refused("{\"company\":{\"employees\":-1}}", SUBMIT,
	               "company.employees: -1 is out of range for uint32");
	assert_refused("{\"company\":{\"employees\":\"-1\"}}", SUBMIT,
	               "company.employees: \"-1\" is out of range for uint32");
	assert_refused("{\"retryAfterMs\":1e10}", RESPONSE,
	               "retryAfterMs: 10000000000 is out of range for uint32");
}

/* An integer field given a fraction is a mistake to report, not to truncate silently. */
static void test_fractional(void **state)
{
	(void)state;
	assert_reads_as("{\"company\":{\"employees\":12.0}}", SUBMIT,
	                "{\"company\":{\"employees\":12}}");
	assert_reads_as("{\"company\":{\"employees\":1e2}}", SUBMIT,
	                "{\"company\":{\"employees\":100}}");
	assert_refused("{\"company\":{\"employees\":1.5}}", SUBMIT,
	               "company.employees: expected an integer, got 1.5");
	assert_refused("{\"company\":{\"employees\":\"1.5\"}}", SUBMIT,
	               "company.employees: expected an integer, got \"1.5\"");
	assert_refused("{\"version\":0.000001}", APPLICATION, "version: expected an integer");
}

/* Bytes: standard base64 out; standard or URL-safe, padded or not, in; garbage refused. */
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
	assert_reads_as("{\"payload\":\"AQIDBA\"}", RESPONSE, "{\"payload\":\"AQIDBA==\"}");
	assert_reads_as("{\"payload\":\"\"}", RESPONSE, "{}");
	assert_refused("{\"payload\":\"A\"}", RESPONSE, "payload: invalid base64");
	assert_refused("{\"payload\":\"+_8=\"}", RESPONSE, "payload: invalid base64");
	assert_refused("{\"payload\":\"AQ=D\"}", RESPONSE, "payload: invalid base64");
	assert_refused("{\"payload\":\"AQID\\n\"}", RESPONSE, "payload: invalid base64");
	assert_refused("{\"payload\":[1,2]}", RESPONSE,
	               "payload: expected a base64 string, got array");
}

/* A typo in a nested field name is reported where it is, so the user can find it. */
static void test_unknown_field(void **state)
{
	(void)state;
	assert_refused("{\"company\":{\"siren\":\"732829320\",\"sirenNumber\":\"1\"}}", SUBMIT,
	               "company.sirenNumber: unknown field for onboard.v1.Company");
	assert_refused("{\"company\":{\"address\":{\"zip\":\"75002\"}}}", SUBMIT,
	               "company.address.zip: unknown field for onboard.v1.Address");
	assert_refused("{\"foo\":1}", SUBMIT,
	               "foo: unknown field for onboard.v1.SubmitApplicationRequest");
}

/* Type errors name the full path, array indexes included. */
static void test_wrong_type(void **state)
{
	(void)state;
	assert_refused("{\"company\":{\"employees\":\"abc\"}}", SUBMIT,
	               "company.employees: expected an integer, got string");
	assert_refused("{\"company\":{\"address\":{\"city\":75}}}", SUBMIT,
	               "company.address.city: expected a string, got number");
	assert_refused("{\"history\":[{},{\"from\":true}]}", APPLICATION,
	               "history[1].from: expected an enum name or number, got boolean");
	assert_refused("{\"productCategories\":[\"a\",1]}", SUBMIT,
	               "productCategories[1]: expected a string, got number");
	assert_refused("{\"productCategories\":\"a\"}", SUBMIT,
	               "productCategories: expected an array, got string");
	assert_refused("{\"productCategories\":[null]}", SUBMIT,
	               "productCategories[0]: null is not allowed in an array");
	assert_refused("{\"intendsToExport\":\"yes\"}", SUBMIT,
	               "intendsToExport: expected a boolean, got string");
	assert_refused("{\"acceptsTerms\":1}", SUBMIT,
	               "acceptsTerms: expected a boolean, got number");
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
	assert_reads_as("{\"exportShare\":\"Infinity\"}", STANDING,
	                "{\"exportShare\":\"Infinity\"}");
	assert_reads_as("{\"exportShare\":\"-Infinity\"}", STANDING,
	                "{\"exportShare\":\"-Infinity\"}");
	assert_reads_as("{\"exportShare\":\"0.25\"}", STANDING, "{\"exportShare\":0.25}");
	assert_reads_as("{\"exportShare\":0.3333333333333333}", STANDING,
	                "{\"exportShare\":0.3333333333333333}");
	assert_reads_as("{\"exportShare\":100}", STANDING, "{\"exportShare\":100}");
	assert_reads_as("{\"exportShare\":1e300}", STANDING, "{\"exportShare\":1e+300}");
	assert_reads_as("{\"exportShare\":-2.5e-7}", STANDING, "{\"exportShare\":-2.5e-07}");
	assert_refused("{\"exportShare\":\"nan\"}", STANDING,
	               "exportShare: expected a number, got string");
	assert_refused("{\"exportShare\":\"1e999\"}", STANDING,
	               "exportShare: \"1e999\" is out of range for double");
	assert_refused("{\"exportShare\":false}", STANDING,
	               "exportShare: expected a number, got boolean");
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
static void test_garbage(void **state)
{
	enum { DEEP = 100000 };
	char *deep = malloc(2 * DEEP + 1);

	(void)state;
	assert_refused("[]", SUBMIT,
	               "onboard.v1.SubmitApplicationRequest: expected an object, got array");
	assert_refused("\"x\"", SUBMIT, "onboard.v1.SubmitApplicationRequest: expected an object");
	assert_refused("42", SUBMIT, "onboard.v1.SubmitApplicationRequest: expected an object");
	assert_refused("null", SUBMIT, "onboard.v1.SubmitApplicationRequest: expected an object");
	assert_refused("", SUBMIT, "line ");
	assert_refused("{\"company\":", SUBMIT, "line 1, column ");
	assert_refused("{\"company\":{}} x", SUBMIT, "line 1, column ");
	assert_refused("{\"company\":[[[[[[[[{}]]]]]]]]}", SUBMIT,
	               "company: expected an object, got array");
	assert_refused("{\"company\":{\"address\":\"rue\"}}", SUBMIT,
	               "company.address: expected an object, got string");
	assert_refused("{\"company\":{\"address\":{\"x\":{\"y\":{\"z\":[{}]}}}}}", SUBMIT,
	               "company.address.x: unknown field");

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
	        cmocka_unit_test(test_partial_failure),
	        cmocka_unit_test(test_output_strings),
	        cmocka_unit_test(test_json_t_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
