/*
 * test_cli_values.c: the values of the onboard command line (client/cli/values.c) and the
 * words of the contract's enums (client/cli/words.c): what is accepted, what it means, and
 * that everything else is refused rather than read in part.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "values.h"
#include "words.h"

static int64_t duration(const char *s)
{
	int64_t ms = -12345;
	return cli_parse_duration_ms(s, &ms) ? ms : -1;
}

static void test_durations_accepted(void **state)
{
	(void)state;
	assert_int_equal(duration("2s"), 2000);
	assert_int_equal(duration("500ms"), 500);
	assert_int_equal(duration("1m"), 60000);
	assert_int_equal(duration("1h"), 3600000);
	assert_int_equal(duration("2"), 2000); /* a plain number is seconds */
	assert_int_equal(duration("1.5s"), 1500);
	assert_int_equal(duration("0.25"), 250);
	assert_int_equal(duration("0.001s"), 1);
	assert_int_equal(duration("1ms"), 1);
	assert_int_equal(duration("007s"), 7000);
	assert_int_equal(duration("24h"), 86400000);
	assert_int_equal(duration("1440m"), 86400000);
}

static void test_durations_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "",
	        "s",
	        "2x",
	        "2 s",
	        " 2s",
	        "2s ",
	        "-1s",
	        "+1s",
	        "0",
	        "0s",
	        "0ms",
	        "0.5ms",
	        "1.5ms",
	        "0.0001s",
	        "1e3s",
	        "1e3",
	        "inf",
	        "nan",
	        "NaN",
	        "0x10",
	        "2S",
	        "2sec",
	        "1.",
	        ".5s",
	        "25h",
	        "86400001ms",
	        "1441m",
	        "99999999999999999999s",
	        "18446744073709551616ms",
	        "1.0000000001s",
	        "2ss",
	        "1m30s",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = -7;
		if (cli_parse_duration_ms(bad[i], &ms))
			fail_msg("'%s' was accepted as %lld ms", bad[i], (long long)ms);
		assert_int_equal(ms, -7); /* untouched */
	}
}

static void test_numbers(void **state)
{
	(void)state;
	uint64_t v = 99;
	assert_true(cli_parse_u64("0", 0, 10, &v));
	assert_int_equal(v, 0);
	assert_true(cli_parse_u64("500", 1, 500, &v));
	assert_int_equal(v, 500);
	assert_true(cli_parse_u64("007", 0, 10, &v));
	assert_int_equal(v, 7);
	assert_true(cli_parse_u64("18446744073709551615", 0, UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
	assert_true(cli_parse_u64("4294967295", 0, UINT32_MAX, &v));

	static const char *const bad[] = {"",    "2x",   "x2",  "-1",    "+1", " 1", "1 ",
	                                  "1.0", "0x10", "1e3", "1_000", "１", "501"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		if (cli_parse_u64(bad[i], 1, 500, &v))
			fail_msg("'%s' was accepted as %llu", bad[i], (unsigned long long)v);
		assert_int_equal(v, 42);
	}
	assert_false(cli_parse_u64("0", 1, 500, &v)); /* below min */
	assert_false(cli_parse_u64("4294967296", 0, UINT32_MAX, &v));
	assert_false(cli_parse_u64("18446744073709551616", 0, UINT64_MAX, &v));
	assert_false(cli_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v));
}

static void test_euros(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t cents;
	} ok[] = {{"39", 3900}, {"39.5", 3950}, {"39,05", 3905}, {"0", 0}};
	int64_t c = -1;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_true(cli_parse_euros(ok[i].in, &c));
		assert_int_equal(c, ok[i].cents);
	}
	static const char *const bad[] = {"",    "-1",     "39.",           "39.505",
	                                  ".5",  "39.5x",  "1e3",           "39. 50",
	                                  "€39", "39,5,0", "10000000000001"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cli_parse_euros(bad[i], &c))
			fail_msg("'%s' was accepted as %lld cents", bad[i], (long long)c);
}

static void test_hhmm_and_uid(void **state)
{
	(void)state;
	uint32_t h = 0, m = 0, uid = 7;
	assert_true(cli_parse_hhmm("10:00", &h, &m));
	assert_int_equal(h, 10);
	assert_int_equal(m, 0);
	assert_true(cli_parse_hhmm("23:59", &h, &m));
	assert_false(cli_parse_hhmm("24:00", &h, &m));
	assert_false(cli_parse_hhmm("9:00", &h, &m));
	assert_false(cli_parse_hhmm("09:60", &h, &m));
	assert_false(cli_parse_hhmm("09-00", &h, &m));
	assert_false(cli_parse_hhmm("+9:00", &h, &m));

	static const struct {
		const char *in;
		uint32_t uid;
	} uids[] = {{"0", 0}, {"root", 0}, {"65534", 65534}}; /* a number, or a user's name */
	for (size_t i = 0; i < sizeof(uids) / sizeof(uids[0]); i++) {
		uid = 7;
		assert_true(cli_parse_uid(uids[i].in, &uid));
		assert_int_equal(uid, uids[i].uid);
	}
	assert_false(cli_parse_uid("4294967295", &uid)); /* (uid_t)-1 is no one */
	assert_false(cli_parse_uid("99999999999999999999", &uid));
	assert_false(cli_parse_uid("no-such-user-onboard", &uid));
	assert_false(cli_parse_uid("", &uid));
}

static void test_words_from_descriptors(void **state)
{
	(void)state;
	int v = -1;
	char buf[CLI_WORD_MAX], list[256];
	assert_true(cli_word_value(&cli_states, "under-review", &v));
	assert_int_equal(v, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_UNDER_REVIEW);
	assert_true(cli_word_value(&cli_states, "UNDER_REVIEW", &v)); /* the contract's name */
	assert_true(cli_word_value(&cli_states, "Needs-Info", &v));
	assert_int_equal(v, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_NEEDS_INFO);
	assert_false(cli_word_value(&cli_states, "unspecified", &v));
	assert_false(cli_word_value(&cli_states, "APPLICATION_STATE_SUBMITTED", &v));
	assert_false(cli_word_value(&cli_states, "sleeping", &v));
	assert_false(cli_word_value(&cli_states, "", &v));

	/* Shorter words of our own, shown instead of the derived ones, which stay accepted. */
	assert_true(cli_word_value(&cli_channels, "webshop", &v));
	assert_int_equal(v, ONBOARD__V1__CHANNEL__CHANNEL_OWN_WEBSHOP);
	assert_true(cli_word_value(&cli_channels, "own-webshop", &v));
	assert_int_equal(v, ONBOARD__V1__CHANNEL__CHANNEL_OWN_WEBSHOP);
	assert_string_equal(cli_word_of(&cli_channels, v, buf), "webshop");
	assert_string_equal(cli_word_list(&cli_channels, list, sizeof(list)),
	                    "marketplace, webshop or both");
	assert_true(cli_word_value(&cli_reasons, "fraud-suspected", &v));
	assert_string_equal(cli_word_of(&cli_reasons, v, buf), "fraud");
	assert_string_equal(cli_word_list(&cli_reasons, list, sizeof(list)),
	                    "ineligible, incomplete, duplicate, out-of-scope, fraud or other");
	assert_string_equal(cli_word_list(&cli_states, list, sizeof(list)),
	                    "waitlisted, submitted, under-review, needs-info, approved, onboarded, "
	                    "rejected or withdrawn");
	assert_string_equal(cli_word_list(&cli_actions, list, sizeof(list)),
	                    "start, request-info, approve, reject or onboard");
	assert_string_equal(cli_word_list(&cli_sizes, list, sizeof(list)), "tpe, pme, eti or ge");
	assert_string_equal(cli_word_of(&cli_states, 0, buf), "unspecified");
	assert_string_equal(cli_word_of(&cli_states, 99, buf), "unspecified");

	/* Plain vocabularies. */
	assert_string_equal(cli_word_list(&cli_roles, list, sizeof(list)),
	                    "applicant, partner, reviewer, admin or ads");
	assert_true(cli_word_value(&cli_bools, "Oui", &v));
	assert_int_equal(v, 1);
	assert_true(cli_word_value(&cli_bools, "0", &v));
	assert_int_equal(v, 0);
	assert_false(cli_word_value(&cli_bools, "maybe", &v));

	/* A cut list stays a string. */
	assert_string_equal(cli_word_list(&cli_sizes, list, 6), "tpe, ");
}

static void test_value_names(void **state)
{
	(void)state;
	assert_string_equal(cli_value_name(&onboard__v1__application_state__descriptor, 3),
	                    "UNDER_REVIEW");
	assert_string_equal(cli_value_name(&onboard__v1__channel__descriptor, 2), "OWN_WEBSHOP");
	assert_string_equal(cli_value_name(&onboard__v1__size_category__descriptor, 1), "TPE");
	assert_string_equal(cli_value_name(&onboard__v1__size_category__descriptor, 77),
	                    "UNSPECIFIED");
	/* A nested enum whose values have no common prefix keeps its names. */
	assert_string_equal(
	        cli_value_name(&onboard__v1__health_check_response__serving_status__descriptor, 1),
	        "SERVING");
	assert_int_equal(cli_value_of_name(&onboard__v1__application_state__descriptor, "APPROVED"),
	                 5);
	assert_int_equal(cli_value_of_name(&onboard__v1__application_state__descriptor, "approved"),
	                 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_durations_accepted),
	        cmocka_unit_test(test_durations_refused),
	        cmocka_unit_test(test_numbers),
	        cmocka_unit_test(test_euros),
	        cmocka_unit_test(test_hhmm_and_uid),
	        cmocka_unit_test(test_words_from_descriptors),
	        cmocka_unit_test(test_value_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
