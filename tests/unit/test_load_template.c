/*
 * test_load_template.c: the placeholders of onboard-load's --data (client/load/template.c):
 * what each writes, that SIRENs and SIRETs are valid and new for every call (checked by the
 * domain's own checks, which onboardd applies, not by common/luhn.c that made them), that a
 * rendered template is the JSON it should be, and that a bad template is refused with where
 * the fault is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/fr.h"
#include "json_codec.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "template.h"

/* t compiled from text, or a failed test. */
static ob_load_template *compile(const char *text)
{
	ob_load_template *t = NULL;
	char err[256];
	if (ob_load_template_compile(text, strlen(text), &t, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", text, err);
	return t;
}

/* text rendered with v, into a new string. */
static char *render(const char *text, const ob_load_values *v)
{
	ob_load_template *t = compile(text);
	char *out = malloc(ob_load_template_size(t));
	assert_non_null(out);
	size_t n = ob_load_template_render(t, v, out);
	assert_int_equal(n, strlen(out));
	assert_true(n < ob_load_template_size(t));
	ob_load_template_destroy(t);
	return out;
}

static void test_constant(void **state)
{
	(void)state;
	static const char *const texts[] = {"", "{}", "{\"id\":\"2020-11\"}", "a { b } c {x}}",
	                                    "{ {seq} }"};
	ob_load_values v = {.seq = 7};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ob_load_template *t = compile(texts[i]);
		assert_true(ob_load_template_constant(t));
		ob_load_template_destroy(t);
		char *out = render(texts[i], &v);
		assert_string_equal(out, texts[i]);
		free(out);
	}
}

static void test_placeholders(void **state)
{
	(void)state;
	ob_load_values v = {.seq = 41,
	                    .siren_base = 12345678,
	                    .cohort = "load-20201102-100000-ab12",
	                    .app_id = "01ARZ3NDEKTSV4RRFFQ69G5FAV",
	                    .random = {UINT64_C(0x0123456789abcdef), UINT64_C(0xfedcba9876543210)}};
	char *out = render("{{seq}}|{{ seq }}|{{cohort}}|{{app_id}}", &v);
	assert_string_equal(out, "41|41|load-20201102-100000-ab12|01ARZ3NDEKTSV4RRFFQ69G5FAV");
	free(out);
	ob_load_template *t = compile("{{siren}} {{siret}} {{uuid}}");
	assert_true(ob_load_template_uses(t, OB_LOAD_SLOT_SIREN));
	assert_true(ob_load_template_uses(t, OB_LOAD_SLOT_SIRET));
	assert_true(ob_load_template_uses(t, OB_LOAD_SLOT_UUID));
	assert_false(ob_load_template_uses(t, OB_LOAD_SLOT_COHORT));
	assert_false(ob_load_template_constant(t));
	ob_load_template_destroy(t);
	/* SIREN: the 8 digits of 1 + base + seq, then its key. */
	out = render("{{siren}}", &v);
	assert_int_equal(strlen(out), 9);
	assert_memory_equal(out, "12345720", 8);
	assert_true(ob_fr_siren_valid(out));
	char siren[10];
	memcpy(siren, out, 10);
	free(out);
	/* SIRET: that SIREN, NIC 0001 and the key of the 14 digits. */
	out = render("{{siret}}", &v);
	assert_int_equal(strlen(out), 14);
	assert_memory_equal(out, siren, 9);
	assert_memory_equal(out + 9, "0001", 4);
	assert_true(ob_fr_siret_valid(out));
	assert_true(ob_fr_siret_extends_siren(out, siren));
	free(out);
	/* UUID: 8-4-4-4-12 lower-case hex, version 4, variant 10xx. */
	out = render("{{uuid}}", &v);
	assert_int_equal(strlen(out), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(out[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", out[i]));
	}
	assert_int_equal(out[14], '4');
	assert_non_null(strchr("89ab", out[19]));
	free(out);
	/* Empty values write nothing. */
	ob_load_values none = {.seq = 0};
	out = render("[{{cohort}}][{{app_id}}]", &none);
	assert_string_equal(out, "[][]");
	free(out);
}

static int by_text(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Every call of a run gets a SIREN of its own, valid (never 000000000), across the wrap too. */
static void test_sirens_new_every_call(void **state)
{
	(void)state;
	enum { N = 20000 };
	char(*seen)[10] = calloc(N, sizeof(*seen));
	assert_non_null(seen);
	uint32_t base = OB_LOAD_SIRENS - N / 2; /* half the calls after the wrap */
	for (uint64_t seq = 0; seq < N; seq++) {
		ob_load_siren(base, seq, seen[seq]);
		assert_true(ob_fr_siren_valid(seen[seq]));
		char siret[15];
		ob_load_siret(base, seq, siret);
		assert_true(ob_fr_siret_extends_siren(siret, seen[seq]));
	}
	qsort(seen, N, sizeof(*seen), by_text);
	for (size_t i = 1; i < N; i++)
		if (strcmp(seen[i - 1], seen[i]) == 0)
			fail_msg("SIREN %s twice", seen[i]);
	free(seen);
}

/* A rendered request is what the JSON codec reads: the values land in their fields. */
static void test_rendered_json_decodes(void **state)
{
	(void)state;
	ob_load_values v = {.seq = 3, .siren_base = 55000000, .cohort = "load-x"};
	char *text = render("{\"cohortId\":\"{{cohort}}\",\"company\":{\"siren\":\"{{siren}}\","
	                    "\"legalName\":\"Shop {{seq}}\",\"employees\":{{seq}}}}",
	                    &v);
	char err[256];
	Onboard__V1__SubmitApplicationRequest *rq =
	        (Onboard__V1__SubmitApplicationRequest *)ob_json_parse_message(
	                text, strlen(text), &onboard__v1__submit_application_request__descriptor,
	                err, sizeof(err));
	if (rq == NULL)
		fail_msg("%s: %s", text, err);
	assert_string_equal(rq->cohort_id, "load-x");
	assert_memory_equal(rq->company->siren, "55000004", 8);
	assert_string_equal(rq->company->legal_name, "Shop 3");
	assert_int_equal(rq->company->employees, 3);
	protobuf_c_message_free_unpacked(&rq->base, NULL);
	free(text);
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *text, *says;
	} bad[] = {
	        {"{\"id\":\"{{sirne}}\"}", "offset 7: unknown placeholder {{sirne}}"},
	        {"{{}}", "offset 0: unknown placeholder {{}}"},
	        {"{{ }}", "unknown placeholder"},
	        {"{{SEQ}}", "unknown placeholder {{SEQ}}"}, /* names are lower-case */
	        {"{{seq}", "offset 0: \"{{\" without \"}}\""},
	        {"ok {{seq}} then {{seq", "offset 16: \"{{\" without \"}}\""},
	        {"{{seq}}{{", "offset 7"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ob_load_template *t = (ob_load_template *)&t; /* not NULL: set by the call */
		char err[256] = "";
		assert_int_equal(ob_load_template_compile(bad[i].text, strlen(bad[i].text), &t, err,
		                                          sizeof(err)),
		                 -1);
		assert_null(t);
		if (strstr(err, bad[i].says) == NULL)
			fail_msg("'%s': said '%s', expected '%s'", bad[i].text, err, bad[i].says);
	}
}

/* The size bound holds for the longest values. */
static void test_size_bound(void **state)
{
	(void)state;
	char cohort[40];
	memset(cohort, 'c', 32);
	cohort[32] = '\0';
	ob_load_values v = {.seq = UINT64_MAX,
	                    .siren_base = 99999999,
	                    .cohort = cohort,
	                    .app_id = "01ARZ3NDEKTSV4RRFFQ69G5FAV"};
	const char *text = "{{seq}}{{siren}}{{siret}}{{uuid}}{{cohort}}{{app_id}}x";
	char *out = render(text, &v);
	assert_int_equal(strlen(out), 20 + 9 + 14 + 36 + 32 + 26 + 1);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_constant),
	        cmocka_unit_test(test_placeholders),
	        cmocka_unit_test(test_sirens_new_every_call),
	        cmocka_unit_test(test_rendered_json_decodes),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_size_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
