/*
 * test_fr.c: unit tests for domain/fr.c, with real identifiers where they exist (732829320 is
 * the SIREN used in INSEE's and python-stdnum's examples; 356000000 is La Poste), and the real
 * reference data of data/ (NAF rev. 2, La Poste's postal codes, INSEE's departements) compiled
 * in as the service has it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/fr.h"
#include "domain/fr_data.h"

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

/* Asserts what ob_fr_postal_lookup answers for a postal code and a city: want is the
 * departement, or "" for a refusal with status st. */
static void check_place(const char *postal, const char *city, ob_fr_postal_status st,
                        const char *want)
{
	ob_fr_place pl;
	memset(&pl, 'x', sizeof pl);
	ob_fr_postal_status got = ob_fr_postal_lookup(postal, city, &pl);
	if (got != st)
		print_error("%s \"%s\": status %d, expected %d\n", postal ? postal : "(null)",
		            city ? city : "(null)", (int)got, (int)st);
	assert_int_equal(got, st);
	assert_string_equal(pl.departement, want);
	if (st != OB_FR_POSTAL_OK) {
		assert_null(pl.name);
		assert_null(pl.region);
	} else {
		assert_non_null(pl.name);
		assert_non_null(pl.departement_name);
	}
}

/* Asserts the status of a phone number's refusal (the output is emptied). */
static void check_phone_refused(const char *in, ob_fr_phone_status want)
{
	char out[OB_FR_PHONE_STR_SIZE];
	memset(out, 'x', sizeof out);
	ob_fr_phone_status got = ob_fr_phone_parse(in, out);
	if (got != want)
		print_error("\"%s\": status %d, expected %d (out \"%s\")\n", in ? in : "(null)",
		            (int)got, (int)want, got == OB_FR_PHONE_OK ? out : "");
	assert_int_equal(got, want);
	assert_string_equal(out, "");
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

static void check_naf(const char *in, const char *code, char section, unsigned division)
{
	ob_fr_naf n;
	ob_fr_naf_status st = ob_fr_naf_lookup(in, &n);
	if (st != OB_FR_NAF_OK)
		print_error("\"%s\": status %d\n", in, (int)st);
	assert_int_equal(st, OB_FR_NAF_OK);
	assert_string_equal(n.code, code);
	assert_int_equal(n.section, section);
	assert_int_equal(n.division, division);
	assert_non_null(n.label);
	assert_ptr_equal(ob_fr_naf_label(in), n.label);
}

static void check_naf_refused(const char *in, ob_fr_naf_status want)
{
	ob_fr_naf n;
	memset(&n, 'x', sizeof n);
	assert_int_equal(ob_fr_naf_lookup(in, &n), want);
	assert_string_equal(n.code, "");
	assert_null(n.label);
	assert_null(ob_fr_naf_label(in));
	assert_false(ob_fr_naf_valid(in));
}

/* Sub-classes of NAF rev. 2 in the written and the compact form, either case, with their
 * section, division and label; well-formed codes that are not sub-classes are unknown. */
static void test_naf(void **state)
{
	(void)state;
	check_naf("47.91B", "47.91B", 'G', 47);
	check_naf("4791B", "47.91B", 'G', 47);
	check_naf("47.91b", "47.91B", 'G', 47);
	check_naf("4791b", "47.91B", 'G', 47);
	assert_string_equal(ob_fr_naf_label("47.91B"),
	                    "Vente \xc3\xa0 distance sur catalogue sp\xc3\xa9"
	                    "cialis\xc3\xa9");
	check_naf("10.71C", "10.71C", 'C', 10);
	assert_string_equal(ob_fr_naf_label("10.71C"),
	                    "Boulangerie et boulangerie-p\xc3\xa2tisserie");
	check_naf("01.11Z", "01.11Z", 'A', 1);
	check_naf("62.01Z", "62.01Z", 'J', 62);
	check_naf("99.00Z", "99.00Z", 'U', 99);
	assert_true(ob_fr_naf_valid("47.91B"));
	assert_false(ob_fr_naf_valid("4791B")); /* valid means the written form exactly */
	assert_false(ob_fr_naf_valid("47.91b"));

	/* The issue's rows: right form, not in the nomenclature. */
	check_naf_refused("99.99Z", OB_FR_NAF_UNKNOWN);
	check_naf_refused("10.71Z", OB_FR_NAF_UNKNOWN);
	check_naf_refused("47.91C", OB_FR_NAF_UNKNOWN);
	check_naf_refused("00.00A", OB_FR_NAF_UNKNOWN);
	check_naf_refused("0000A", OB_FR_NAF_UNKNOWN);

	const char *malformed[] = {"47.91",         "47.91BB", "47,91B",  "A7.91B", "4.791B",
	                           "47.9B",         " 47.91B", "47.91B ", "47 91B", "4791",
	                           "47.91\xc3\xa9", "",        NULL};
	for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
		check_naf_refused(malformed[i], OB_FR_NAF_MALFORMED);
}

/* The whole table as built from data/naf-rev2.tsv: 732 sub-classes, each found by its code, the
 * sections A..U in the order of the divisions and every one of them used. */
static void test_naf_table(void **state)
{
	(void)state;
	assert_int_equal(ob_fr_naf_count, 732);
	char last_section = 'A';
	unsigned seen = 0;
	for (size_t i = 0; i < ob_fr_naf_count; i++) {
		const ob_fr_naf_row *r = &ob_fr_naf_rows[i];
		ob_fr_naf n;
		assert_int_equal(ob_fr_naf_lookup(r->code, &n), OB_FR_NAF_OK);
		assert_string_equal(n.code, r->code);
		assert_ptr_equal(n.label, r->label);
		assert_true(r->section >= last_section && r->section <= 'U');
		last_section = r->section;
		seen |= 1u << (r->section - 'A');
		assert_true(r->label[0] != '\0');
	}
	assert_int_equal(seen, (1u << 21) - 1);
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

/* Five digits, and no French postal code starts with 00: the form only. */
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

/* Codes of La Poste's base with the communes they serve, in SIRENE's territory: Paris and its
 * arrondissements, Corsica's two departements, the overseas departements, the collectivities. */
static void test_postal_places(void **state)
{
	(void)state;
	check_place("75007", "Paris", OB_FR_POSTAL_OK, "75");
	check_place("75007", "Paris 7e Arrondissement", OB_FR_POSTAL_OK, "75");
	check_place("75007", "PARIS 7E", OB_FR_POSTAL_OK, "75");
	check_place("75001", "Paris 1er", OB_FR_POSTAL_OK, "75");
	check_place("75116", "PARIS 16", OB_FR_POSTAL_OK, "75"); /* the delivery office */
	check_place("69002", "Lyon", OB_FR_POSTAL_OK, "69");
	check_place("13001", "Marseille 1er Arrondissement", OB_FR_POSTAL_OK, "13");
	check_place("20000", "Ajaccio", OB_FR_POSTAL_OK, "2A");
	check_place("20200", "Bastia", OB_FR_POSTAL_OK, "2B");
	check_place("20200", "Ville-di-Pietrabugno", OB_FR_POSTAL_OK, "2B");
	check_place("97100", "Basse-Terre", OB_FR_POSTAL_OK, "971");
	check_place("97400", "Saint-Denis", OB_FR_POSTAL_OK, "974");
	check_place("97600", "Mamoudzou", OB_FR_POSTAL_OK, "976");
	check_place("97133", "Saint-Barth\xc3\xa9lemy", OB_FR_POSTAL_OK, "977");
	check_place("97150", "Saint-Martin", OB_FR_POSTAL_OK, "978");
	check_place("97500", "Saint-Pierre", OB_FR_POSTAL_OK, "975");
	/* One code, two departements: the commune named decides. */
	check_place("01200", "Valserh\xc3\xb4ne", OB_FR_POSTAL_OK, "01");
	check_place("01200", "\xc3\x89loise", OB_FR_POSTAL_OK, "74");

	ob_fr_place pl;
	assert_int_equal(ob_fr_postal_lookup("75007", "paris", &pl), OB_FR_POSTAL_OK);
	assert_string_equal(pl.region, "\xc3\x8ele-de-France");
	assert_string_equal(pl.departement_name, "Paris");
	assert_int_equal(ob_fr_postal_lookup("20000", "AJACCIO", &pl), OB_FR_POSTAL_OK);
	assert_string_equal(pl.region, "Corse");
	assert_string_equal(pl.departement_name, "Corse-du-Sud");
	assert_int_equal(ob_fr_postal_lookup("97400", "ST DENIS", &pl), OB_FR_POSTAL_OK);
	assert_string_equal(pl.region, "La R\xc3\xa9union");
	/* The collectivities are in no region: their applications count as region unknown. */
	assert_int_equal(ob_fr_postal_lookup("97133", "St Barthelemy", &pl), OB_FR_POSTAL_OK);
	assert_null(pl.region);
	assert_string_equal(pl.departement, "977");
	/* Without a city, the code alone. */
	assert_int_equal(ob_fr_postal_lookup("20200", NULL, &pl), OB_FR_POSTAL_OK);
	assert_string_equal(pl.departement, "2B");
}

/* The city is folded before it is compared: case, accents, hyphens, apostrophes, ST/STE, and a
 * trailing CEDEX with or without its number. */
static void test_postal_city_folding(void **state)
{
	(void)state;
	check_place("42000", "Saint-\xc3\x89tienne", OB_FR_POSTAL_OK, "42");
	check_place("42000", "SAINT ETIENNE", OB_FR_POSTAL_OK, "42");
	check_place("42000", "st-etienne", OB_FR_POSTAL_OK, "42");
	check_place("42000", "  St.  \xc3\xa9tienne ", OB_FR_POSTAL_OK, "42");
	check_place("42000", "Saint Etienne Cedex 1", OB_FR_POSTAL_OK, "42");
	check_place("75007", "Paris Cedex 07", OB_FR_POSTAL_OK, "75");
	check_place("75007", "PARIS CEDEX", OB_FR_POSTAL_OK, "75");
	check_place("06000", "Nice", OB_FR_POSTAL_OK, "06");
	check_place("20220", "L'\xc3\x8ele-Rousse", OB_FR_POSTAL_OK, "2B");
	check_place("20220", "L\xe2\x80\x99Ile Rousse", OB_FR_POSTAL_OK, "2B"); /* U+2019 */
	check_place("20220", "l ile rousse", OB_FR_POSTAL_OK, "2B");
	check_place("71100", "Chalon-sur-Sa\xc3\xb4ne", OB_FR_POSTAL_OK, "71");
	check_place("97420", "Le Port", OB_FR_POSTAL_OK, "974");
	check_place("85000", "La Roche-sur-Yon", OB_FR_POSTAL_OK, "85");
	check_place("97200", "Fort-de-France", OB_FR_POSTAL_OK, "972");
	/* A CEDEX office the data carries: the military camp of Canjuers. */
	check_place("83998", "Canjuers Cedex", OB_FR_POSTAL_OK, "83");
	check_place("83998", "CANJUERS", OB_FR_POSTAL_OK, "83");
	check_place("83998", "Montferrat", OB_FR_POSTAL_OK, "83");
}

/* The issue's refusals: codes outside La Poste's base or SIRENE's territory, and cities that are
 * not served by the code. */
static void test_postal_refused(void **state)
{
	(void)state;
	check_place("98000", "Monaco", OB_FR_POSTAL_OUTSIDE, "");
	check_place("98800",
	            "Noum\xc3\xa9"
	            "a",
	            OB_FR_POSTAL_OUTSIDE, "");
	check_place("98714", "Papeete", OB_FR_POSTAL_OUTSIDE, "");
	check_place("96000", "Ajaccio", OB_FR_POSTAL_UNKNOWN, "");
	check_place("20700", "Ajaccio", OB_FR_POSTAL_UNKNOWN, "");
	check_place("97000", "Basse-Terre", OB_FR_POSTAL_UNKNOWN, "");
	check_place("99000", "Paris", OB_FR_POSTAL_UNKNOWN, "");
	/* A CEDEX code the data does not carry (fr.h): the city, written CEDEX, must be a place of
	 * the departement the code's prefix names; without the word CEDEX the code is unknown. */
	check_place("75700", "Paris Cedex 07", OB_FR_POSTAL_OK, "75");
	check_place("13344", "MARSEILLE CEDEX 20", OB_FR_POSTAL_OK, "13");
	check_place("20700", "Ajaccio Cedex 9", OB_FR_POSTAL_OK, "2A");
	check_place("20709", "Bastia Cedex", OB_FR_POSTAL_OK, "2B");
	check_place("97109", "Basse-Terre Cedex", OB_FR_POSTAL_OK, "971");
	check_place("75700", "Paris", OB_FR_POSTAL_UNKNOWN, "");
	check_place("75700", "Lyon Cedex", OB_FR_POSTAL_CITY, "");
	check_place("13344", "Paris Cedex 07", OB_FR_POSTAL_CITY, "");
	check_place("75700", "Cedex", OB_FR_POSTAL_UNKNOWN, "");
	check_place("96000", "Ajaccio Cedex", OB_FR_POSTAL_UNKNOWN, "");
	check_place("97000", "Basse-Terre Cedex", OB_FR_POSTAL_UNKNOWN, "");
	check_place("98000", "Monaco Cedex", OB_FR_POSTAL_OUTSIDE, "");
	check_place("00100", "Paris", OB_FR_POSTAL_MALFORMED, "");
	check_place("7500", "Paris", OB_FR_POSTAL_MALFORMED, "");
	check_place("2A000", "Ajaccio", OB_FR_POSTAL_MALFORMED, "");
	check_place(NULL, "Paris", OB_FR_POSTAL_MALFORMED, "");
	/* The city must be one the code serves. */
	check_place("75007", "Lyon", OB_FR_POSTAL_CITY, "");
	check_place("20000", "Bastia", OB_FR_POSTAL_CITY, "");
	check_place("75007", "Ville 3", OB_FR_POSTAL_CITY, "");
	check_place("75007", "", OB_FR_POSTAL_CITY, "");
	check_place("75007", " - ", OB_FR_POSTAL_CITY, "");
	check_place("75007", "Cedex", OB_FR_POSTAL_CITY, "");
	check_place("75007", "Paris\xff", OB_FR_POSTAL_CITY, "");        /* not UTF-8 */
	check_place("75007", "Paris \xc3", OB_FR_POSTAL_CITY, "");       /* cut UTF-8 */
	check_place("75007", "\xd0\x9f\xd0\xb0", OB_FR_POSTAL_CITY, ""); /* Cyrillic */
	check_place("75007", "Paris\t", OB_FR_POSTAL_CITY, "");
	char longcity[400];
	memset(longcity, 'A', sizeof longcity - 1);
	longcity[sizeof longcity - 1] = '\0';
	check_place("75007", longcity, OB_FR_POSTAL_CITY, "");
	/* ST is spelled out as a whole word only. */
	check_place("42000", "Stetienne", OB_FR_POSTAL_CITY, "");
}

/* Every line of data/fr-postal-codes.tsv as compiled in: sorted by code, in a departement of the
 * table, and found by its own code and name. */
static void test_postal_table(void **state)
{
	(void)state;
	assert_true(ob_fr_postal_count > 30000);
	assert_int_equal(ob_fr_dep_count, 104); /* 96 + 5 overseas + 3 collectivities */
	size_t unmatched = 0;
	for (size_t i = 0; i < ob_fr_postal_count; i++) {
		const ob_fr_postal_row *r = &ob_fr_postal_rows[i];
		if (i > 0)
			assert_true(strcmp(ob_fr_postal_rows[i - 1].code, r->code) <= 0);
		assert_true(r->dep < ob_fr_dep_count);
		ob_fr_place pl;
		ob_fr_postal_status st = ob_fr_postal_lookup(r->code, r->name, &pl);
		if (st != OB_FR_POSTAL_OK) {
			print_error("%s %s: status %d\n", r->code, r->name, (int)st);
			unmatched++;
		}
	}
	assert_int_equal(unmatched, 0);
}

/* What a lookup costs, counted in names of the data folded (no timing): a CEDEX code the data
 * does not carry has its city looked for among all the rows of its departement (905 in the
 * Pas-de-Calais, 62), and a flood of such submissions must not fold each of them every time. */
static void test_postal_cedex_cost(void **state)
{
	(void)state;
	char longest[201];
	memset(longest, 'A', 200);
	memcpy(longest + 194, " CEDEX", 7);
	const struct {
		const char *code, *city;
		ob_fr_postal_status st;
	} cases[] = {
	        {"62999", "Zzzz Cedex", OB_FR_POSTAL_CITY},
	        {"62999", longest, OB_FR_POSTAL_CITY},
	        {"59999", "Nulle Part Cedex 9", OB_FR_POSTAL_CITY},
	        {"62999", "Arras Cedex 9", OB_FR_POSTAL_OK},
	        {"62000", "Nulle Part", OB_FR_POSTAL_CITY},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ob_fr_place pl;
		size_t before = ob_fr_names_folded();
		assert_int_equal(ob_fr_postal_lookup(cases[i].code, cases[i].city, &pl),
		                 cases[i].st);
		size_t folded = ob_fr_names_folded() - before;
		if (folded > 2)
			print_error("%s %.20s: %zu names folded\n", cases[i].code, cases[i].city,
			            folded);
		assert_true(folded <= 2);
	}
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

/* ARCEP's blocks of each overseas territory: accepted with its own code, refused with another
 * territory's code, and metropolitan numbers are refused with any overseas code. */
static void test_phone_plan(void **state)
{
	(void)state;
	/* The issue's accepted rows and their neighbours. */
	check_phone("+590 590 12 34 56", "+590590123456");
	check_phone("+590 690 12 34 56", "+590690123456");
	check_phone("+590 691 22 34 56", "+590691223456");
	check_phone("+590 598 71 23 45", "+590598712345");
	check_phone("+262 262 12 34 56", "+262262123456");
	check_phone("+262 263 12 34 56", "+262263123456");
	check_phone("+262 693 12 34 56", "+262693123456");
	check_phone("+262 639 12 34 56", "+262639123456"); /* Mayotte */
	check_phone("+262 269 60 12 34", "+262269601234");
	check_phone("+594 694 12 34 56", "+594694123456");
	check_phone("+596 697 12 34 56", "+596697123456");
	check_phone("+508 708 41 23 45", "+508708412345"); /* SPM's 9-digit mobiles */
	/* The new 07 09 mobile blocks, split between Guyane and Mayotte at the fifth digit. */
	check_phone("07 09 01 23 45", "+590709012345");
	check_phone("07 09 11 23 45", "+596709112345");
	check_phone("07 09 21 23 45", "+262709212345");
	check_phone("07 09 30 12 34", "+594709301234");
	check_phone("07 09 35 12 34", "+262709351234");
	check_phone("05 98 81 23 45", "+594598812345");
	check_phone("+33 6 39 12 34 56", "+262639123456");

	/* The issue's refused rows: metropolitan numbers behind an overseas code. */
	check_phone_refused("+590 1 23 45 67 89", OB_FR_PHONE_OUTSIDE_PLAN);
	check_phone_refused("+262 590 12 34 56", OB_FR_PHONE_OUTSIDE_PLAN);
	check_phone_refused("+262 6 12 34 56 78", OB_FR_PHONE_OUTSIDE_PLAN);
	check_phone_refused("+590 262 12 34 56", OB_FR_PHONE_OUTSIDE_PLAN);
	check_phone_refused("+594 590 12 34 56", OB_FR_PHONE_OUTSIDE_PLAN);
	check_phone_refused("+596 694 12 34 56", OB_FR_PHONE_OUTSIDE_PLAN);
	check_phone_refused("+594 709 35 12 34", OB_FR_PHONE_OUTSIDE_PLAN); /* Mayotte's block */
	check_phone_refused("00596 9 70 12 34 56", OB_FR_PHONE_OUTSIDE_PLAN);
	check_phone_refused("+590 939 51 23 45", OB_FR_PHONE_OUTSIDE_PLAN); /* 09: +33 only */
	check_phone_refused("+590 800 12 34 56", OB_FR_PHONE_OUTSIDE_PLAN); /* 08: +33 only */
	check_phone_refused("+508 508 41 23 45", OB_FR_PHONE_OUTSIDE_PLAN);
	check_phone_refused("+508 12 34 56", OB_FR_PHONE_OUTSIDE_PLAN);
	check_phone_refused("+508 1 23 45 67 89", OB_FR_PHONE_OUTSIDE_PLAN);
	check_phone_refused("05 08 12 34 56", OB_FR_PHONE_OUTSIDE_PLAN); /* the same, national */
	check_phone_refused("+33 5 08 12 34 56", OB_FR_PHONE_OUTSIDE_PLAN);
	/* Other codes, the Comoros' +269 (Mayotte's until 2007) among them. */
	check_phone_refused("+269 639 12 34 56", OB_FR_PHONE_COUNTRY);
	check_phone_refused("+44 20 7946 0958", OB_FR_PHONE_COUNTRY);
	check_phone_refused("0044 20 7946 0958", OB_FR_PHONE_COUNTRY);
	check_phone_refused("+590 590 12 34 5", OB_FR_PHONE_MALFORMED);
	check_phone_refused("+", OB_FR_PHONE_MALFORMED);
	check_phone_refused(NULL, OB_FR_PHONE_MALFORMED);

	assert_string_equal(ob_fr_phone_territory("590"),
	                    "Guadeloupe, Saint-Barthelemy and Saint-Martin");
	assert_string_equal(ob_fr_phone_territory("262"), "La Reunion and Mayotte");
	assert_null(ob_fr_phone_territory("269"));
	assert_null(ob_fr_phone_territory(NULL));
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
	        cmocka_unit_test(test_naf_table),
	        cmocka_unit_test(test_size_category),
	        cmocka_unit_test(test_size_category_name),
	        cmocka_unit_test(test_postal_code_valid),
	        cmocka_unit_test(test_postal_places),
	        cmocka_unit_test(test_postal_city_folding),
	        cmocka_unit_test(test_postal_refused),
	        cmocka_unit_test(test_postal_table),
	        cmocka_unit_test(test_postal_cedex_cost),
	        cmocka_unit_test(test_region_of_departement),
	        cmocka_unit_test(test_phone_metropolitan),
	        cmocka_unit_test(test_phone_overseas),
	        cmocka_unit_test(test_phone_rejects),
	        cmocka_unit_test(test_phone_plan),
	        cmocka_unit_test(test_email),
	        cmocka_unit_test(test_email_lengths),
	};
	return cmocka_run_group_tests_name("fr", tests, NULL, NULL);
}
