/*
 * test_fr.c: unit tests for domain/fr.c, with real identifiers where they exist (732829320 is
 * the SIREN used in INSEE's and python-stdnum's examples; 356000000 is La Poste).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/fr.h"

/* Asserts that in normalises to want ("" meaning: rejected, and out left empty). */
static void check_phone(const char *in, const char *want)
{
	char out[OB_FR_PHONE_STR_SIZE];
	memset(out, 'x', sizeof out);
	bool ok = ob_fr_phone_e164(in, out);
	if (want[0] == '\0') {
		if (ok)
			print_error("accepted \"%s\" as \"%s\"\n", in, out);
		assert_false(ok);
	} else {
		if (!ok)
			print_error("rejected \"%s\"\n", in);
		assert_true(ok);
	}
	assert_string_equal(out, want);
}

static void check_dep(const char *postal, const char *want)
{
	char out[OB_FR_DEPARTEMENT_STR_SIZE];
	memset(out, 'x', sizeof out);
	bool ok = ob_fr_departement_from_postal(postal, out);
	assert_int_equal(ok, want[0] != '\0');
	assert_string_equal(out, want);
}

/* A real SIREN passes and a one-digit typo is caught by its Luhn key; form is strict. */
static void test_siren(void **state)
{
	(void)state;
	assert_true(ob_fr_siren_valid("732829320"));
	assert_false(ob_fr_siren_valid("732829321"));
	assert_false(ob_fr_siren_valid("000000000")); /* Luhn-valid but never assigned */
	assert_false(ob_fr_siren_valid("73282932"));
	assert_false(ob_fr_siren_valid("7328293200"));
	assert_false(ob_fr_siren_valid("732 829 320"));
	assert_false(ob_fr_siren_valid("73282932O"));
	assert_false(ob_fr_siren_valid(""));
	assert_false(ob_fr_siren_valid(NULL));
}

/* The SIRET key covers all 14 digits, and the SIREN part must carry its own valid key. */
static void test_siret(void **state)
{
	(void)state;
	assert_true(ob_fr_siret_valid("73282932000074"));
	assert_false(ob_fr_siret_valid("73282932000079"));
	assert_false(ob_fr_siret_valid("73282932100007")); /* 14-digit Luhn ok, SIREN part not */
	assert_false(ob_fr_siret_valid("00000000000000"));
	assert_false(ob_fr_siret_valid("7328293200007"));
	assert_false(ob_fr_siret_valid("732829320000740"));
	assert_false(ob_fr_siret_valid("732 829 320 00074"));
	assert_false(ob_fr_siret_valid(NULL));
}

/* La Poste's establishments use a digit-sum-multiple-of-5 key; its head office uses Luhn. */
static void test_siret_la_poste(void **state)
{
	(void)state;
	assert_true(ob_fr_siren_valid("356000000"));
	assert_true(ob_fr_siret_valid("35600000049837"));  /* digit sum 45, fails Luhn */
	assert_true(ob_fr_siret_valid("35600000000048"));  /* head office: digit sum 26, Luhn ok */
	assert_false(ob_fr_siret_valid("35600000049838")); /* digit sum 46 */
	assert_false(ob_fr_siret_valid("35600000000014")); /* Luhn ok, digit sum 19 */
}

/* An establishment belongs to a company when both are valid and the prefixes agree. */
static void test_siret_extends_siren(void **state)
{
	(void)state;
	assert_true(ob_fr_siret_extends_siren("73282932000074", "732829320"));
	assert_true(ob_fr_siret_extends_siren("35600000049837", "356000000"));
	assert_false(ob_fr_siret_extends_siren("73282932000074", "356000000"));
	assert_false(ob_fr_siret_extends_siren("73282932000079", "732829320"));
	assert_false(ob_fr_siret_extends_siren("73282932000074", "7328293"));
	assert_false(ob_fr_siret_extends_siren(NULL, "732829320"));
	assert_false(ob_fr_siret_extends_siren("73282932000074", NULL));
}

/* The key formula on the reference SIREN (FR44 732829320), and -1 for malformed input. */
static void test_vat_key(void **state)
{
	(void)state;
	assert_int_equal(ob_fr_vat_key("732829320"), 44);
	assert_int_equal(ob_fr_vat_key("000000000"), 12);
	assert_int_equal(ob_fr_vat_key("73282932"), -1);
	assert_int_equal(ob_fr_vat_key("73282932a"), -1);
	assert_int_equal(ob_fr_vat_key(NULL), -1);
}

/* Users type VAT numbers with spaces, dots, dashes and lowercase: all normalise to one form. */
static void test_vat_valid_for_siren(void **state)
{
	(void)state;
	const char *good[] = {"FR44732829320", "FR 44 732 829 320", "fr44.732.829.320",
	                      "Fr-44-732829320", " FR44732829320 "};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char out[OB_FR_VAT_STR_SIZE] = "x";
		assert_true(ob_fr_vat_valid_for_siren(good[i], "732829320", out));
		assert_string_equal(out, "FR44732829320");
	}
	const char *bad[] = {"FR45732829320",    "FR4473282932", "FR447328293200", "DE44732829320",
	                     "FR44 732 829 321", "44732829320",  "FR44_732829320", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char out[OB_FR_VAT_STR_SIZE] = "x";
		assert_false(ob_fr_vat_valid_for_siren(bad[i], "732829320", out));
		assert_string_equal(out, "");
	}
	char out[OB_FR_VAT_STR_SIZE];
	assert_false(ob_fr_vat_valid_for_siren("FR44732829320", "356000000", out)); /* other one */
	assert_false(ob_fr_vat_valid_for_siren("FR44732829320", "73282932", out));
	assert_false(ob_fr_vat_valid_for_siren(NULL, "732829320", out));
	assert_false(ob_fr_vat_valid_for_siren("FR44732829320", "732829320", NULL));
}

/* NAF codes are exactly NN.NNL with an uppercase letter. */
static void test_naf(void **state)
{
	(void)state;
	assert_true(ob_fr_naf_valid("47.91B"));
	assert_true(ob_fr_naf_valid("62.01Z"));
	assert_false(ob_fr_naf_valid("47.91b"));
	assert_false(ob_fr_naf_valid("4791B"));
	assert_false(ob_fr_naf_valid("47.91"));
	assert_false(ob_fr_naf_valid("47.91BB"));
	assert_false(ob_fr_naf_valid("47,91B"));
	assert_false(ob_fr_naf_valid("A7.91B"));
	assert_false(ob_fr_naf_valid(""));
	assert_false(ob_fr_naf_valid(NULL));
}

#define MEUR INT64_C(1000000)

/* Each decree threshold on both sides: "fewer than" for people, "not exceeding" for amounts. */
static void test_size_category(void **state)
{
	(void)state;
	/* TPE: < 10 people and turnover or balance <= 2 MEUR */
	assert_int_equal(ob_fr_size_category(9, 2 * MEUR, 3 * MEUR), OB_SIZE_TPE);
	assert_int_equal(ob_fr_size_category(10, 2 * MEUR, 3 * MEUR), OB_SIZE_PME);
	assert_int_equal(ob_fr_size_category(9, 2 * MEUR + 1, 3 * MEUR), OB_SIZE_PME);
	assert_int_equal(ob_fr_size_category(9, 5 * MEUR, 2 * MEUR), OB_SIZE_TPE);
	assert_int_equal(ob_fr_size_category(0, 0, 0), OB_SIZE_TPE);
	/* PME: < 250 people and turnover <= 50 MEUR or balance <= 43 MEUR */
	assert_int_equal(ob_fr_size_category(249, 50 * MEUR, 100 * MEUR), OB_SIZE_PME);
	assert_int_equal(ob_fr_size_category(250, 50 * MEUR, 100 * MEUR), OB_SIZE_ETI);
	assert_int_equal(ob_fr_size_category(249, 50 * MEUR + 1, 43 * MEUR), OB_SIZE_PME);
	assert_int_equal(ob_fr_size_category(249, 50 * MEUR + 1, 43 * MEUR + 1), OB_SIZE_ETI);
	/* ETI: < 5000 people and turnover <= 1500 MEUR or balance <= 2000 MEUR */
	assert_int_equal(ob_fr_size_category(4999, 1500 * MEUR, 3000 * MEUR), OB_SIZE_ETI);
	assert_int_equal(ob_fr_size_category(4999, 1500 * MEUR + 1, 2000 * MEUR), OB_SIZE_ETI);
	assert_int_equal(ob_fr_size_category(4999, 1500 * MEUR + 1, 2000 * MEUR + 1), OB_SIZE_GE);
	assert_int_equal(ob_fr_size_category(5000, 1 * MEUR, 1 * MEUR), OB_SIZE_GE);
	assert_int_equal(ob_fr_size_category(UINT32_MAX, INT64_MAX, INT64_MAX), OB_SIZE_GE);
	/* negative amounts are not figures */
	assert_int_equal(ob_fr_size_category(5, -1, 0), OB_SIZE_UNSPECIFIED);
	assert_int_equal(ob_fr_size_category(5, 0, INT64_MIN), OB_SIZE_UNSPECIFIED);
}

/* Names are the usual French acronyms and never NULL, even for values outside the enum. */
static void test_size_category_name(void **state)
{
	(void)state;
	assert_string_equal(ob_size_category_name(OB_SIZE_TPE), "TPE");
	assert_string_equal(ob_size_category_name(OB_SIZE_PME), "PME");
	assert_string_equal(ob_size_category_name(OB_SIZE_ETI), "ETI");
	assert_string_equal(ob_size_category_name(OB_SIZE_GE), "GE");
	assert_string_equal(ob_size_category_name(OB_SIZE_UNSPECIFIED), "UNSPECIFIED");
	assert_string_equal(ob_size_category_name((ob_size_category)42), "UNSPECIFIED");
}

/* Five digits, and no French postal code starts with 00. */
static void test_postal_code_valid(void **state)
{
	(void)state;
	assert_true(ob_fr_postal_code_valid("75001"));
	assert_true(ob_fr_postal_code_valid("01000"));
	assert_true(ob_fr_postal_code_valid("98000"));
	assert_false(ob_fr_postal_code_valid("00100"));
	assert_false(ob_fr_postal_code_valid("7500"));
	assert_false(ob_fr_postal_code_valid("750011"));
	assert_false(ob_fr_postal_code_valid("75 001"));
	assert_false(ob_fr_postal_code_valid("2A000"));
	assert_false(ob_fr_postal_code_valid(NULL));
}

/* Metropolitan prefixes, Corsica's split of 20xxx, and the overseas three-digit codes. */
static void test_departement_from_postal(void **state)
{
	(void)state;
	check_dep("75001", "75");
	check_dep("01000", "01");
	check_dep("95000", "95");
	check_dep("20000", "2A"); /* Ajaccio */
	check_dep("20100", "2A");
	check_dep("20200", "2B"); /* Bastia */
	check_dep("20600", "2B");
	check_dep("20700", "");
	check_dep("97100", "971");
	check_dep("97200", "972");
	check_dep("97300", "973");
	check_dep("97400", "974");
	check_dep("97600", "976");
	check_dep("97133", "977"); /* Saint-Barthelemy */
	check_dep("97150", "978"); /* Saint-Martin */
	check_dep("97000", "");
	check_dep("97800", "");
	check_dep("96000", "");
	check_dep("98000", ""); /* Monaco */
	check_dep("99000", "");
	check_dep("00100", "");
	check_dep("7500", "");
	assert_false(ob_fr_departement_from_postal(NULL, (char[OB_FR_DEPARTEMENT_STR_SIZE]){0}));
	assert_false(ob_fr_departement_from_postal("75001", NULL));
}

/* Spot checks with accents, then the whole table: 96 metropolitan departements spread over the
 * 13 metropolitan regions with the right counts, and the 5 overseas ones. */
static void test_region_of_departement(void **state)
{
	(void)state;
	assert_string_equal(ob_fr_region_of_departement("75"), "\xc3\x8ele-de-France");
	assert_string_equal(ob_fr_region_of_departement("13"), "Provence-Alpes-C\xc3\xb4te d'Azur");
	assert_string_equal(ob_fr_region_of_departement("69"), "Auvergne-Rh\xc3\xb4ne-Alpes");
	assert_string_equal(ob_fr_region_of_departement("2A"), "Corse");
	assert_string_equal(ob_fr_region_of_departement("2B"), "Corse");
	assert_string_equal(ob_fr_region_of_departement("971"), "Guadeloupe");
	assert_string_equal(ob_fr_region_of_departement("972"), "Martinique");
	assert_string_equal(ob_fr_region_of_departement("973"), "Guyane");
	assert_string_equal(ob_fr_region_of_departement("974"), "La R\xc3\xa9union");
	assert_string_equal(ob_fr_region_of_departement("976"), "Mayotte");
	assert_string_equal(ob_fr_region_of_departement("44"), "Pays de la Loire");
	assert_string_equal(ob_fr_region_of_departement("90"), "Bourgogne-Franche-Comt\xc3\xa9");
	const char *none[] = {"20",  "00", "96", "99", "975", "977", "978",
	                      "970", "2a", "2C", "7",  "750", "",    NULL};
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
		assert_null(ob_fr_region_of_departement(none[i]));

	static const struct {
		const char *name;
		int count;
	} want[] = {
	        {"Auvergne-Rh\xc3\xb4ne-Alpes", 12},
	        {"Bourgogne-Franche-Comt\xc3\xa9", 8},
	        {"Bretagne", 4},
	        {"Centre-Val de Loire", 6},
	        {"Corse", 2},
	        {"Grand Est", 10},
	        {"Hauts-de-France", 5},
	        {"\xc3\x8ele-de-France", 8},
	        {"Normandie", 5},
	        {"Nouvelle-Aquitaine", 12},
	        {"Occitanie", 13},
	        {"Pays de la Loire", 5},
	        {"Provence-Alpes-C\xc3\xb4te d'Azur", 6},
	};
	int got[sizeof want / sizeof want[0]] = {0};
	int total = 0;
	for (int n = 1; n <= 95; n++) {
		char dep[3] = {(char)('0' + n / 10), (char)('0' + n % 10), '\0'};
		const char *r = ob_fr_region_of_departement(dep);
		if (n == 20) {
			assert_null(r);
			continue;
		}
		if (r == NULL)
			print_error("departement %s has no region\n", dep);
		assert_non_null(r);
		for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
			if (strcmp(r, want[i].name) == 0)
				got[i]++;
		total++;
	}
	got[4] += 2; /* 2A and 2B, checked above */
	total += 2;
	assert_int_equal(total, 96);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (got[i] != want[i].count)
			print_error("%s: %d departements\n", want[i].name, got[i]);
		assert_int_equal(got[i], want[i].count);
	}
	/* Spot checks on departements that are easy to misfile. */
	assert_string_equal(ob_fr_region_of_departement("03"), "Auvergne-Rh\xc3\xb4ne-Alpes");
	assert_string_equal(ob_fr_region_of_departement("48"), "Occitanie");
	assert_string_equal(ob_fr_region_of_departement("52"), "Grand Est");
	assert_string_equal(ob_fr_region_of_departement("02"), "Hauts-de-France");
	assert_string_equal(ob_fr_region_of_departement("23"), "Nouvelle-Aquitaine");
	assert_string_equal(ob_fr_region_of_departement("89"), "Bourgogne-Franche-Comt\xc3\xa9");
	assert_string_equal(ob_fr_region_of_departement("28"), "Centre-Val de Loire");
	assert_string_equal(ob_fr_region_of_departement("53"), "Pays de la Loire");
	assert_string_equal(ob_fr_region_of_departement("61"), "Normandie");
}

/* Metropolitan numbers in every written form users send reach the same E.164 string. */
static void test_phone_metropolitan(void **state)
{
	(void)state;
	check_phone("0123456789", "+33123456789");
	check_phone("01 23 45 67 89", "+33123456789");
	check_phone("01.23.45.67.89", "+33123456789");
	check_phone("01-23-45-67-89", "+33123456789");
	check_phone("(01) 23 45 67 89", "+33123456789");
	check_phone("06 12 34 56 78", "+33612345678");
	check_phone("09 70 12 34 56", "+33970123456");
	check_phone("+33123456789", "+33123456789");
	check_phone("+33 1 23 45 67 89", "+33123456789");
	check_phone("+33 (0)1 23 45 67 89", "+33123456789");
	check_phone("+33(0)123456789", "+33123456789");
	check_phone("0033 1 23 45 67 89", "+33123456789");
	check_phone("0033 (0)1 23 45 67 89", "+33123456789");
	check_phone(" 01 23 45 67 89 ", "+33123456789");
}

/* Overseas departements' national numbers map to their own country code, keeping 9 digits. */
static void test_phone_overseas(void **state)
{
	(void)state;
	check_phone("05 90 12 34 56", "+590590123456"); /* Guadeloupe fixed */
	check_phone("06 90 12 34 56", "+590690123456"); /* Guadeloupe mobile */
	check_phone("06 91 12 34 56", "+590691123456");
	check_phone("05 94 12 34 56", "+594594123456"); /* Guyane */
	check_phone("06 94 12 34 56", "+594694123456");
	check_phone("05 96 12 34 56", "+596596123456"); /* Martinique */
	check_phone("06 96 12 34 56", "+596696123456");
	check_phone("06 97 12 34 56", "+596697123456");
	check_phone("02 62 12 34 56", "+262262123456"); /* La Reunion */
	check_phone("02 63 12 34 56", "+262263123456");
	check_phone("06 92 12 34 56", "+262692123456");
	check_phone("06 93 12 34 56", "+262693123456");
	check_phone("02 69 12 34 56", "+262269123456"); /* Mayotte */
	check_phone("06 39 12 34 56", "+262639123456");
	check_phone("05 08 41 23 45", "+508412345");   /* Saint-Pierre-et-Miquelon: 6 digits */
	check_phone("0590 12 34 56", "+590590123456"); /* the local grouping: same 10 digits */
	check_phone("0262.12.34.56", "+262262123456");
	/* international forms */
	check_phone("+590 590 12 34 56", "+590590123456");
	check_phone("00590 690 12 34 56", "+590690123456");
	check_phone("+594 594 12 34 56", "+594594123456");
	check_phone("+596 (0)696 12 34 56", "+596696123456");
	check_phone("+262 692 12 34 56", "+262692123456");
	check_phone("+262 269 12 34 56", "+262269123456");
	check_phone("+508 41 23 45", "+508412345");
	check_phone("00508 55 12 34", "+508551234");
	/* +33 followed by an overseas prefix is the national number converted naively */
	check_phone("+33 5 90 12 34 56", "+590590123456");
	check_phone("+33 5 08 41 23 45", "+508412345");
}

/* Wrong lengths, stray characters, unknown or misplaced prefixes are rejected, output emptied. */
static void test_phone_rejects(void **state)
{
	(void)state;
	check_phone("0590 12 34 5", "");    /* 9 digits */
	check_phone("01 23 45 67 8", "");   /* too short */
	check_phone("01 23 45 67 890", ""); /* too long */
	check_phone("00 23 45 67 89", "");  /* 00 then no supported country code */
	check_phone("0012345678", "");
	check_phone("1 23 45 67 89", "");  /* no trunk 0 */
	check_phone("01 23 45 67 8a", ""); /* letter */
	check_phone("01 23 45 67 89 ext 12", "");
	check_phone("01/23/45/67/89", "");      /* unsupported separator */
	check_phone("+33 0 1 23 45 67 89", ""); /* trunk 0 kept after the country code */
	check_phone("+33 01 23 45 67 89", "");
	check_phone("+33 023456789", ""); /* 0 right after the country code */
	check_phone("+33 1 23 45 67 8", "");
	check_phone("+33 1 23 45 67 890", "");
	check_phone("+33 (0)1 23 (0)45 67 89", "");
	check_phone("+33 1 (0)23 45 67 89", ""); /* (0) not right after the country code */
	check_phone("(0)1 23 45 67 89", "");
	check_phone("+(0)33 1 23 45 67 89", "");
	check_phone("++33 1 23 45 67 89", "");
	check_phone("33+ 1 23 45 67 89", "");
	check_phone("+44 20 7946 0958", ""); /* not a French country code */
	check_phone("0044 20 7946 0958", "");
	check_phone("+590 590 12 34 5", "");
	check_phone("+508 508 41 23 45", ""); /* SPM has 6 digits after +508 */
	check_phone("+508 41 23 4", "");
	check_phone("+508 04 12 34", "");
	check_phone("+", "");
	check_phone("", "");
	check_phone("0033", "");
	check_phone("00 00 00 00 00 00 00 00 00 00 00 00", ""); /* over the digit cap */
	check_phone(NULL, "");
	assert_false(ob_fr_phone_e164("0123456789", NULL));
}

/* The pragmatic e-mail rule: one '@', sane local part, dotted hostname, length caps. */
static void test_email(void **state)
{
	(void)state;
	assert_true(ob_email_valid("contact@example.fr"));
	assert_true(ob_email_valid("jean.dupont+onboard@sous-domaine.example.com"));
	assert_true(ob_email_valid("a!#$%&'*/=?^_`{|}~b@x1.io"));
	assert_true(ob_email_valid("x@a.b"));

	assert_false(ob_email_valid("contact.example.fr"));
	assert_false(ob_email_valid("a@b@example.fr"));
	assert_false(ob_email_valid("@example.fr"));
	assert_false(ob_email_valid("contact@"));
	assert_false(ob_email_valid("contact@localhost"));
	assert_false(ob_email_valid("jean dupont@example.fr"));
	assert_false(ob_email_valid("jean\tdupont@example.fr"));
	assert_false(ob_email_valid("j\xc3\xa9r\xc3\xb4me@example.fr"));
	assert_false(ob_email_valid("contact@exa_mple.fr"));
	assert_false(ob_email_valid("contact@-example.fr"));
	assert_false(ob_email_valid("contact@example-.fr"));
	assert_false(ob_email_valid("contact@example..fr"));
	assert_false(ob_email_valid("contact@.example.fr"));
	assert_false(ob_email_valid("contact@example.fr."));
	assert_false(ob_email_valid("contact@exemple.fr "));
	assert_false(ob_email_valid(""));
	assert_false(ob_email_valid(NULL));
}

/* Length limits exactly at and one past each cap: local 64, label 63, total 254. */
static void test_email_lengths(void **state)
{
	(void)state;
	char buf[400];

	memset(buf, 'a', 64);
	strcpy(buf + 64, "@example.fr");
	assert_true(ob_email_valid(buf));
	memset(buf, 'a', 65);
	strcpy(buf + 65, "@example.fr");
	assert_false(ob_email_valid(buf));

	strcpy(buf, "a@");
	memset(buf + 2, 'b', 63);
	strcpy(buf + 65, ".fr");
	assert_true(ob_email_valid(buf));
	strcpy(buf, "a@");
	memset(buf + 2, 'b', 64);
	strcpy(buf + 66, ".fr");
	assert_false(ob_email_valid(buf));

	/* "a@" (2) + 4 times 60 bytes and a dot (244) + "abcdefgh" (8) = 254 bytes */
	size_t n = 0;
	buf[n++] = 'a';
	buf[n++] = '@';
	for (int l = 0; l < 4; l++) {
		memset(buf + n, 'c', 60);
		n += 60;
		buf[n++] = '.';
	}
	memcpy(buf + n, "abcdefgh", 8);
	n += 8;
	buf[n] = '\0';
	assert_int_equal(n, 254);
	assert_true(ob_email_valid(buf));
	memcpy(buf + n, "i", 2);
	assert_false(ob_email_valid(buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_siren),
	        cmocka_unit_test(test_siret),
	        cmocka_unit_test(test_siret_la_poste),
	        cmocka_unit_test(test_siret_extends_siren),
	        cmocka_unit_test(test_vat_key),
	        cmocka_unit_test(test_vat_valid_for_siren),
	        cmocka_unit_test(test_naf),
	        cmocka_unit_test(test_size_category),
	        cmocka_unit_test(test_size_category_name),
	        cmocka_unit_test(test_postal_code_valid),
	        cmocka_unit_test(test_departement_from_postal),
	        cmocka_unit_test(test_region_of_departement),
	        cmocka_unit_test(test_phone_metropolitan),
	        cmocka_unit_test(test_phone_overseas),
	        cmocka_unit_test(test_phone_rejects),
	        cmocka_unit_test(test_email),
	        cmocka_unit_test(test_email_lengths),
	};
	return cmocka_run_group_tests_name("fr", tests, NULL, NULL);
}
