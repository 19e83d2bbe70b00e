/*
 * fr.h: validation of French company data (SIREN, SIRET, VAT number, NAF code, size category,
 * postal code, departement and region, phone number, e-mail address).
 *
 * Pure functions over caller memory: no allocation, no locale (the <ctype.h> classifiers are
 * never used, so "digit" and "letter" always mean ASCII), hence thread-safe and reentrant. The
 * one global mutable state is the hash of each postal row's folded name, written once, under
 * pthread_once, by the first postal lookup (ob_fr_postal_lookup), and a per-thread counter. The
 * reference data (NAF rev. 2, La Poste's postal codes, INSEE's departements and regions) are
 * read-only tables compiled in from data/ (fr_data.h); the strings they hand out are static and
 * never freed.
 *
 * Conventions shared by the whole module:
 *  - Every string argument is a NUL-terminated C string and may be NULL; NULL is never valid
 *    (but for ob_fr_postal_lookup's city, where it means "check the code alone").
 *  - Validators are strict about form: no surrounding spaces, no separators, unless a function
 *    says it normalises (ob_fr_vat_valid_for_siren, ob_fr_naf_lookup, ob_fr_postal_lookup's
 *    city, ob_fr_phone_e164).
 *  - Functions with an output buffer write a NUL-terminated result there on success and the
 *    empty string on failure (when the buffer is not NULL), so a caller that forgets to look at
 *    the return value still never reads stale or unterminated text.
 */
#ifndef OB_DOMAIN_FR_H
#define OB_DOMAIN_FR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h" /* OB_NODISCARD */

/* Output buffer sizes, terminating NUL included. */
#define OB_FR_VAT_STR_SIZE         14 /* "FR" + 2-digit key + 9-digit SIREN */
#define OB_FR_DEPARTEMENT_STR_SIZE 4  /* "75", "2A", "971" */
#define OB_FR_PHONE_STR_SIZE       16 /* E.164: '+' and at most 15 digits */

/* Company size category of decree 2008-1354 (the numbers are stored and sent on the wire: never
 * renumber). TPE is the decree's "microentreprise". */
typedef enum {
	OB_SIZE_UNSPECIFIED = 0,
	OB_SIZE_TPE = 1,
	OB_SIZE_PME = 2,
	OB_SIZE_ETI = 3,
	OB_SIZE_GE = 4
} ob_size_category;

/* "TPE", "PME", "ETI" or "GE"; "UNSPECIFIED" for OB_SIZE_UNSPECIFIED and for any value outside
 * the enum. A static string, never NULL. */
const char *ob_size_category_name(ob_size_category c);

/* SIREN (company identifier): true iff s is exactly 9 ASCII digits, passes the Luhn check and is
 * not 000000000 (which passes Luhn but is never assigned). */
bool ob_fr_siren_valid(const char *s);

/* SIRET (establishment identifier: SIREN + 5-digit NIC): true iff s is exactly 14 ASCII digits,
 * its first 9 form a valid SIREN and the whole passes the Luhn check.
 * La Poste exception: INSEE numbers La Poste's establishments (SIREN 356000000) so that the sum
 * of the 14 digits is a multiple of 5 instead of the Luhn check; its head office,
 * 35600000000048, predates that scheme and is checked by Luhn like any other SIRET. */
bool ob_fr_siret_valid(const char *s);

/* True iff siret is a valid SIRET, siren a valid SIREN, and the SIRET belongs to that company
 * (its first 9 digits are the SIREN). */
bool ob_fr_siret_extends_siren(const char *siret, const char *siren);

/* The 2-digit key (0..96) of the French VAT number of a company: (12 + 3 * (siren mod 97))
 * mod 97. -1 when siren is not exactly 9 ASCII digits; the Luhn check is not applied here. */
int ob_fr_vat_key(const char *siren);

/* Normalises vat (removes spaces, dots and dashes, uppercases ASCII letters) and returns true iff
 * the result is "FR", then the 2-digit key ob_fr_vat_key(siren), then siren itself; out (at least
 * OB_FR_VAT_STR_SIZE bytes) then holds that 13-character form, e.g. "FR44732829320". false when
 * siren is not 9 digits or vat does not match; out is then "". Only SIREN-based numbers are
 * covered: the alphanumeric keys given to companies without a SIREN are rejected. */
OB_NODISCARD bool ob_fr_vat_valid_for_siren(const char *vat, const char *siren,
                                            char out[OB_FR_VAT_STR_SIZE]);

/* NAF rev. 2, INSEE's activity nomenclature: its 732 sub-classes ("47.91B") with their labels,
 * from data/naf-rev2.tsv (INSEE's list as published in the npm package @socialgouv/codes-naf; see
 * the file's header for its version and date). */
#define OB_FR_NAF_STR_SIZE 7 /* "47.91B" */

typedef enum {
	OB_FR_NAF_OK = 0,
	OB_FR_NAF_MALFORMED, /* not NN.NNL nor NNNNL */
	OB_FR_NAF_UNKNOWN    /* well formed, but not one of the 732 sub-classes */
} ob_fr_naf_status;

typedef struct ob_fr_naf {
	char code[OB_FR_NAF_STR_SIZE]; /* the written form, "47.91B" */
	char section;                  /* 'A'..'U': G, trade */
	unsigned division;             /* 1..99: the two first digits, 47 */
	const char *label; /* static UTF-8: "Vente a distance sur catalogue specialise" */
} ob_fr_naf;

/* Looks s up among the sub-classes. s is normalised first: the compact form "4791B" and a lower
 * case letter ("47.91b") are read as "47.91B"; nothing else (no spaces, no other separator).
 * On OB_FR_NAF_OK, *out describes the sub-class; otherwise out->code is "" and out->label
 * NULL. out may not be NULL. A binary search on a static table: no allocation. */
OB_NODISCARD ob_fr_naf_status ob_fr_naf_lookup(const char *s, ob_fr_naf *out);

/* The label of a sub-class given in any form ob_fr_naf_lookup reads; NULL for anything else.
 * A static string. */
const char *ob_fr_naf_label(const char *s);

/* True iff s is a sub-class of NAF rev. 2 in its written form "NN.NNL" exactly (upper case,
 * with the dot). Use ob_fr_naf_lookup to read what people type. */
bool ob_fr_naf_valid(const char *s);

/* Size category per decree 2008-1354 art. 3, checked in this order:
 *   TPE: headcount < 10   and (turnover <= 2 MEUR    or balance sheet <= 2 MEUR);
 *   PME: headcount < 250  and (turnover <= 50 MEUR   or balance sheet <= 43 MEUR);
 *   ETI: headcount < 5000 and (turnover <= 1500 MEUR or balance sheet <= 2000 MEUR);
 *   GE otherwise.
 * Amounts are whole euros (turnover excluding VAT). A negative amount is not a figure the decree
 * knows: the result is then OB_SIZE_UNSPECIFIED. */
ob_size_category ob_fr_size_category(uint32_t headcount, int64_t turnover_eur, int64_t balance_eur);

/* True iff s is exactly 5 ASCII digits not starting with "00": the form of a French postal code,
 * whether attributed or not. */
bool ob_fr_postal_code_valid(const char *s);

/*
 * Postal codes and cities, from data/fr-postal-codes.tsv and data/fr-departements.tsv: La Poste's
 * base of postal codes (as carried by the npm package @etalab/decoupage-administratif, with the
 * delivery offices' names of the package codes-postaux) and INSEE's departements and regions.
 *
 * Only SIRENE's territory is known, since a company outside it has no SIREN: metropolitan France
 * with Corsica (2A, 2B), the overseas departements 971 Guadeloupe, 972 Martinique, 973 Guyane,
 * 974 La Reunion, 976 Mayotte, and the three collectivities whose companies SIRENE registers
 * too: 975 Saint-Pierre-et-Miquelon (97500), 977 Saint-Barthelemy (97133) and 978 Saint-Martin
 * (97150). Those three are in no region: their region is NULL, which the cohort counts as
 * "unknown". Monaco (98000) and the Pacific collectivities (986 Wallis-et-Futuna, 987 French
 * Polynesia, 988 New Caledonia, all 98xxx), whose companies are registered elsewhere (RCI,
 * TAHITI, RIDET), are refused.
 *
 * CEDEX: La Poste's list of CEDEX codes (75700, 13344...) is not part of its open base, nor of
 * the packages above (the data carries a few, such as 83998 CANJUERS CEDEX). La Poste numbers a
 * CEDEX code in the range of its departement (the first two digits; three overseas: 971..976)
 * and names it after the commune of its delivery office. So a code the data does not carry is
 * accepted when the city is written with the word CEDEX ("PARIS CEDEX 07", "Marseille Cedex 20")
 * and, CEDEX and its number dropped, names a place of the departement the code's prefix names:
 * 75700 PARIS CEDEX 07 is in Paris, 13344 MARSEILLE CEDEX 20 in the Bouches-du-Rhone, 20700
 * AJACCIO CEDEX 9 in Corse-du-Sud. What this cannot tell: whether La Poste has given that very
 * number (75799 PARIS CEDEX passes too). Without the word CEDEX an unknown code is refused, and so
 * is a CEDEX city of another departement (75700 LYON CEDEX) or a prefix that is no departement
 * (96xxx, 970xx, 98xxx). A city written "PARIS CEDEX 07" with the ordinary code 75007 matches
 * that code: see below.
 */
typedef enum {
	OB_FR_POSTAL_OK = 0,
	OB_FR_POSTAL_MALFORMED, /* not 5 digits, or starts with 00 */
	OB_FR_POSTAL_UNKNOWN,   /* well formed, but not a code of La Poste's base (20700, 96000),
	                         * nor a CEDEX code as above */
	OB_FR_POSTAL_OUTSIDE,   /* 98xxx: Monaco or a Pacific collectivity, outside SIRENE */
	OB_FR_POSTAL_CITY       /* a known code, but the city is none of its communes; or a CEDEX
	                         * city of another departement than the code's */
} ob_fr_postal_status;

typedef struct ob_fr_place {
	char departement[OB_FR_DEPARTEMENT_STR_SIZE]; /* "75", "2A", "971", "977" */
	const char *departement_name;                 /* static UTF-8: "Paris" */
	const char *region; /* static UTF-8 official name of one of the 18 regions; NULL for 975,
	                     * 977 and 978 */
	const char *name;   /* static UTF-8: the name of the data that city matched */
} ob_fr_place;

/* Checks that postal_code is a code of SIRENE's territory and that city names one of the places
 * it serves, and writes that place (its departement, from the data: the few codes that serve
 * communes of two departements get the departement of the commune named) to *out.
 *
 * The city matches a commune of the code, a former commune (commune deleguee or associee) or a
 * municipal arrondissement it serves, or its delivery office (La Poste's "libelle
 * d'acheminement"), after both are folded: case and accents ignored, hyphens, apostrophes
 * (' and U+2019), dots, commas, slashes and runs of spaces are one space, the words ST and STE
 * read SAINT and SAINTE, and trailing words CEDEX, ARRONDISSEMENT and numbers ("07", "7E",
 * "1ER") are dropped. So "Paris Cedex 07", "PARIS 7E" and "Paris 7e Arrondissement" match 75007,
 * "ST DENIS" matches "Saint-Denis". A city longer than 200 bytes or with characters other than
 * ASCII, Latin-1 letters, the oe ligature and the apostrophe U+2019 matches nothing.
 *
 * city may be NULL: then only the code is checked, and *out describes the first place the code
 * serves. On any other result than OB_FR_POSTAL_OK, *out is zeroed (departement ""). out may not
 * be NULL. Binary search on static tables, folding in stack buffers: no allocation. The first
 * lookup of the process hashes the folded names of the data once (a few milliseconds), into a
 * static table. */
OB_NODISCARD ob_fr_postal_status ob_fr_postal_lookup(const char *postal_code, const char *city,
                                                     ob_fr_place *out);

/* How many names of the data the calling thread has folded to compare them with a city, since
 * it started (the one pass that hashes them all, below, not counted): what ob_fr_postal_lookup
 * costs, counted instead of timed, for the tests. A lookup folds only the names whose key hashes
 * as the city's does, so that a CEDEX city looked for among a whole departement's places costs a
 * walk over hashes, not a fold of each name. */
size_t ob_fr_names_folded(void);

/* The official name (UTF-8, accents included) of the region, among the 18 in place since 2016,
 * of a departement code: "01".."95" (not "20"), "2A", "2B", "971".."974", "976". A static string
 * from data/fr-departements.tsv; NULL for any other code, including "975", "977" and "978"
 * (collectivities outside any region) and lowercase "2a". */
const char *ob_fr_region_of_departement(const char *dep);
/* Whether name is exactly (accents and case included) the official name of one of the 18
 * regions, as ob_fr_region_of_departement gives them. */
bool ob_fr_region_exists(const char *name);

/* Normalises a French phone number to E.164 in out (at least OB_FR_PHONE_STR_SIZE bytes).
 * Accepted, with any of the separators space . - ( ) between digits:
 *   national:      0XYYYYYYYY (10 digits, X not 0)               -> +33XYYYYYYYY
 *   international: +33 / 0033 followed by 9 digits, the first not 0, optionally written after a
 *                  "(0)" trunk prefix: "+33 (0)1 23 45 67 89"
 *                  +590 +594 +596 +262 (or 00590...) followed by 9 digits of that territory's
 *                  ranges (below)
 *                  +508 (or 00508) followed by 6 digits, the first 2..9, or by 9 digits of
 *                  its 708 ranges
 * Overseas numbers are part of the French numbering plan but are reached from abroad through
 * their own country code. ARCEP's national numbering plan gives each territory these blocks
 * (source: ARCEP's plan as the metadata of Google's libphonenumber carries it, npm package
 * google-libphonenumber 3.2.47), written as the digits after the trunk 0 (fixed; mobile):
 *   +590 Guadeloupe, Saint-Barthelemy, Saint-Martin: 590, 5987; 690, 691, 7090
 *   +594 Guyane:                                   594, 5988; 694, 70930..70933
 *   +596 Martinique:                               596, 5989; 696, 697, 7091
 *   +262 La Reunion:                               262, 263, 2688; 692, 693, 7092
 *   +262 Mayotte:                                  2689, 269; 639, 70935..70937
 *   +508 Saint-Pierre-et-Miquelon:                 508 (then 6 digits, dialled 05 08 from
 *                                                  France); 7084, 7085 (9 digits)
 * A national or +33 number in one of those blocks is written with the territory's code, keeping
 * all 9 digits: "05 90 12 34 56" -> "+590590123456", "+33 6 39 12 34 56" -> "+262639123456";
 * "05 08 41 23 45" -> "+508412345". So one line always has one E.164 spelling.
 * A number written with an overseas code must lie in that code's blocks: "+590 1 23 45 67 89"
 * (a Paris number) and "+262 590 12 34 56" (a Guadeloupe one) are refused. Left out on purpose:
 * the overseas VoIP blocks of 09 (ARCEP shares some between territories), and the nationwide
 * special numbers (08): both only as +33 or national numbers. +269 is the Comoros' code since
 * Mayotte moved to +262 in 2007: refused.
 * Rejected: letters or other characters, a '+' not in first position, a "(0)" anywhere but right
 * after the country code, other country codes, "00" not followed by one of the codes above, a 0
 * right after the trunk 0 or the country code, and any other digit count. */
typedef enum {
	OB_FR_PHONE_OK = 0,
	OB_FR_PHONE_MALFORMED,   /* characters, layout or digit count */
	OB_FR_PHONE_COUNTRY,     /* a country code that is not France's (+44, +269) */
	OB_FR_PHONE_OUTSIDE_PLAN /* +590/+594/+596/+262/+508 with a number outside its ranges */
} ob_fr_phone_status;

/* As described above; out is "" unless OB_FR_PHONE_OK. NULL in or out: OB_FR_PHONE_MALFORMED. */
OB_NODISCARD ob_fr_phone_status ob_fr_phone_parse(const char *in, char out[OB_FR_PHONE_STR_SIZE]);

/* ob_fr_phone_parse(in, out) == OB_FR_PHONE_OK. */
OB_NODISCARD bool ob_fr_phone_e164(const char *in, char out[OB_FR_PHONE_STR_SIZE]);

/* The territories a country code of the French plan reaches, for messages: "Guadeloupe,
 * Saint-Barthelemy and Saint-Martin" for "590", "France" for "33"; NULL for other codes. A
 * static ASCII string. */
const char *ob_fr_phone_territory(const char *cc);

/* Pragmatic e-mail address check, not RFC 5322: exactly one '@'; a local part of 1..64 bytes of
 * printable ASCII other than space; a domain of at least two dot-separated labels, each 1..63
 * bytes of [A-Za-z0-9-] not starting or ending with '-'; at most 254 bytes in all. Quoted local
 * parts, IP literals and internationalised (non-ASCII) addresses are rejected. */
bool ob_email_valid(const char *s);

#endif
