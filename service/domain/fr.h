/*
 * fr.h: validation of French company data (SIREN, SIRET, VAT number, NAF code, size category,
 * postal code, departement and region, phone number, e-mail address).
 *
 * Pure functions over caller memory: no allocation, no global mutable state, no locale (the
 * <ctype.h> classifiers are never used, so "digit" and "letter" always mean ASCII), hence
 * thread-safe and reentrant.
 *
 * Conventions shared by the whole module:
 *  - Every string argument is a NUL-terminated C string and may be NULL; NULL is never valid.
 *  - Validators are strict about form: no surrounding spaces, no separators, unless a function
 *    says it normalises (ob_fr_vat_valid_for_siren, ob_fr_phone_e164).
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

/* NAF rev. 2 activity code (subclass) in its usual written form "NN.NNL": two digits, a dot, two
 * digits and one uppercase letter, e.g. "47.91B". The form only: whether the code exists in the
 * nomenclature is not checked. */
bool ob_fr_naf_valid(const char *s);

/* Size category per decree 2008-1354 art. 3, checked in this order:
 *   TPE: headcount < 10   and (turnover <= 2 MEUR    or balance sheet <= 2 MEUR);
 *   PME: headcount < 250  and (turnover <= 50 MEUR   or balance sheet <= 43 MEUR);
 *   ETI: headcount < 5000 and (turnover <= 1500 MEUR or balance sheet <= 2000 MEUR);
 *   GE otherwise.
 * Amounts are whole euros (turnover excluding VAT). A negative amount is not a figure the decree
 * knows: the result is then OB_SIZE_UNSPECIFIED. */
ob_size_category ob_fr_size_category(uint32_t headcount, int64_t turnover_eur, int64_t balance_eur);

/* True iff s is exactly 5 ASCII digits not starting with "00". Says nothing about whether the
 * code is attributed (98000 Monaco passes: it is in the French postal system). */
bool ob_fr_postal_code_valid(const char *s);

/* The departement a postal code most likely belongs to, written to out (at least
 * OB_FR_DEPARTEMENT_STR_SIZE bytes):
 *   01xxx..95xxx except 20xxx -> the first two digits;
 *   200xx, 201xx -> "2A"; 202xx..206xx -> "2B" (Corsica);
 *   97133 -> "977" (Saint-Barthelemy), 97150 -> "978" (Saint-Martin);
 *   971xx..976xx otherwise -> the first three digits (975 is Saint-Pierre-et-Miquelon, a
 *   collectivity rather than a departement, but it has that code).
 * false (out "") for an invalid postal code, 207xx..209xx, 96xxx, 970xx, 977xx..979xx, 98xxx
 * (Monaco, Pacific collectivities) and 99xxx.
 * It is a hint, not a fact: a few communes use a neighbouring departement's postal code, so never
 * reject data because this disagrees with an address. */
OB_NODISCARD bool ob_fr_departement_from_postal(const char *postal_code,
                                                char out[OB_FR_DEPARTEMENT_STR_SIZE]);

/* The official name (UTF-8, accents included) of the region, among the 18 in place since 2016,
 * of a departement code: "01".."95" (not "20"), "2A", "2B", "971".."974", "976". A static string;
 * NULL for any other code, including "975", "977" and "978" (collectivities outside any region)
 * and lowercase "2a". */
const char *ob_fr_region_of_departement(const char *dep);

/* Normalises a French phone number to E.164 in out (at least OB_FR_PHONE_STR_SIZE bytes).
 * Accepted, with any of the separators space . - ( ) between digits:
 *   national:      0XYYYYYYYY (10 digits, X not 0)               -> +33XYYYYYYYY
 *   international: +33 / 0033 followed by 9 digits, the first not 0, optionally written after a
 *                  "(0)" trunk prefix: "+33 (0)1 23 45 67 89"
 *                  +590 +594 +596 +262 (or 00590...) followed by 9 digits, the first not 0
 *                  +508 (or 00508) followed by 6 digits, the first not 0
 * Overseas numbers are part of the French numbering plan but are reached from abroad through
 * their own country code. National (and +33) numbers whose first digits after the trunk 0 are
 *   590 690 691 -> +590 (Guadeloupe, Saint-Barthelemy, Saint-Martin)
 *   594 694     -> +594 (Guyane)
 *   596 696 697 -> +596 (Martinique)
 *   262 263 692 693 269 639 -> +262 (La Reunion, Mayotte)
 * keep all 9 digits after the code: "05 90 12 34 56" -> "+590590123456". Saint-Pierre-et-
 * Miquelon numbers have 6 digits and are dialled 05 08 + those 6 digits from France:
 * "05 08 41 23 45" -> "+508412345". "+33 5 90 12 34 56" normalises like its national form, so
 * one line always has one E.164 spelling.
 * Rejected: letters or other characters, a '+' not in first position, a "(0)" anywhere but right
 * after the country code, other country codes, "00" not followed by one of the codes above, a 0
 * right after the trunk 0 or the country code, and any other digit count. */
OB_NODISCARD bool ob_fr_phone_e164(const char *in, char out[OB_FR_PHONE_STR_SIZE]);

/* Pragmatic e-mail address check, not RFC 5322: exactly one '@'; a local part of 1..64 bytes of
 * printable ASCII other than space; a domain of at least two dot-separated labels, each 1..63
 * bytes of [A-Za-z0-9-] not starting or ending with '-'; at most 254 bytes in all. Quoted local
 * parts, IP literals and internationalised (non-ASCII) addresses are rejected. */
bool ob_email_valid(const char *s);

#endif
