#include "domain/fr.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/fr_data.h"

/* ASCII-only classifiers: <ctype.h> depends on the locale, and a validator whose answer changes
 * with setlocale() would accept different data on different hosts. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alnum(char c)
{
	return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z');
}

static unsigned digit_value(char c)
{
	return (unsigned)(c - '0');
}

/* True iff s is exactly n digits followed by the NUL. Stops at the first non-digit, so it never
 * reads past the terminator of a shorter string. */
static bool is_n_digits(const char *s, size_t n)
{
	if (s == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return s[n] == '\0';
}

/* Luhn over n digits: from the rightmost, every second digit is doubled (minus 9 above 9). */
static bool luhn_valid(const char *s, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = digit_value(s[n - 1 - i]);
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

const char *ob_size_category_name(ob_size_category c)
{
	switch (c) {
	case OB_SIZE_TPE:
		return "TPE";
	case OB_SIZE_PME:
		return "PME";
	case OB_SIZE_ETI:
		return "ETI";
	case OB_SIZE_GE:
		return "GE";
	case OB_SIZE_UNSPECIFIED:
		break;
	}
	return "UNSPECIFIED";
}

bool ob_fr_siren_valid(const char *s)
{
	if (!is_n_digits(s, 9))
		return false;
	if (strcmp(s, "000000000") == 0)
		return false;
	return luhn_valid(s, 9);
}

#define LA_POSTE_SIREN       "356000000"
#define LA_POSTE_HEAD_OFFICE "35600000000048"

bool ob_fr_siret_valid(const char *s)
{
	if (!is_n_digits(s, 14))
		return false;
	/* The first 9 digits carry their own Luhn key: a SIRET whose SIREN part is wrong is a typo
	 * even if the 14-digit check happens to pass. */
	char siren[10];
	memcpy(siren, s, 9);
	siren[9] = '\0';
	if (!ob_fr_siren_valid(siren))
		return false;
	if (strcmp(siren, LA_POSTE_SIREN) == 0 && strcmp(s, LA_POSTE_HEAD_OFFICE) != 0) {
		/* La Poste has more establishments than the 5-digit NIC with a Luhn key allows, so
		 * INSEE numbers them with a weaker key: the digit sum is a multiple of 5. */
		unsigned sum = 0;
		for (size_t i = 0; i < 14; i++)
			sum += digit_value(s[i]);
		return sum % 5 == 0;
	}
	return luhn_valid(s, 14);
}

bool ob_fr_siret_extends_siren(const char *siret, const char *siren)
{
	return ob_fr_siret_valid(siret) && ob_fr_siren_valid(siren) && memcmp(siret, siren, 9) == 0;
}

int ob_fr_vat_key(const char *siren)
{
	if (!is_n_digits(siren, 9))
		return -1;
	uint32_t v = 0; /* at most 999999999: fits */
	for (size_t i = 0; i < 9; i++)
		v = v * 10 + digit_value(siren[i]);
	return (int)((12 + 3 * (v % 97)) % 97);
}

bool ob_fr_vat_valid_for_siren(const char *vat, const char *siren, char out[OB_FR_VAT_STR_SIZE])
{
	if (out != NULL)
		out[0] = '\0';
	if (vat == NULL || out == NULL)
		return false;
	int key = ob_fr_vat_key(siren);
	if (key < 0)
		return false;

	char norm[OB_FR_VAT_STR_SIZE];
	size_t n = 0;
	for (const char *p = vat; *p != '\0'; p++) {
		char c = *p;
		if (c == ' ' || c == '.' || c == '-')
			continue;
		if (n == OB_FR_VAT_STR_SIZE - 1)
			return false; /* longer than any valid number */
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		norm[n++] = c;
	}
	norm[n] = '\0';

	char want[OB_FR_VAT_STR_SIZE];
	want[0] = 'F';
	want[1] = 'R';
	want[2] = (char)('0' + key / 10);
	want[3] = (char)('0' + key % 10);
	memcpy(want + 4, siren, 9);
	want[13] = '\0';
	if (strcmp(norm, want) != 0)
		return false;
	memcpy(out, want, sizeof want);
	return true;
}

/* NAF. */

/* Writes the written form of a sub-class code read as "NN.NNL" or "NNNNL", letter in either case,
 * to out; false for anything else. */
static bool naf_normalise(const char *s, char out[OB_FR_NAF_STR_SIZE])
{
	if (s == NULL)
		return false;
	size_t dot = s[0] != '\0' && s[1] != '\0' && s[2] == '.' ? 1 : 0;
	const char *d = s;
	if (!is_digit(d[0]) || !is_digit(d[1]) || !is_digit(d[2 + dot]) || !is_digit(d[3 + dot]))
		return false;
	char letter = d[4 + dot];
	if (letter >= 'a' && letter <= 'z')
		letter = (char)(letter - 'a' + 'A');
	if (!is_upper(letter) || d[5 + dot] != '\0')
		return false;
	out[0] = d[0];
	out[1] = d[1];
	out[2] = '.';
	out[3] = d[2 + dot];
	out[4] = d[3 + dot];
	out[5] = letter;
	out[6] = '\0';
	return true;
}

/* bsearch's comparison for the tables of fr_data.h, whose rows start with their key, a
 * NUL-terminated code: the same function finds a NAF code and a departement. */
static int code_cmp(const void *key, const void *row)
{
	return strcmp((const char *)key, (const char *)row);
}
_Static_assert(offsetof(ob_fr_naf_row, code) == 0, "code_cmp reads the code at the row's start");
_Static_assert(offsetof(ob_fr_dep_row, code) == 0, "code_cmp reads the code at the row's start");

/* The row of a code in its written form, or NULL. */
static const ob_fr_naf_row *naf_find(const char code[OB_FR_NAF_STR_SIZE])
{
	return bsearch(code, ob_fr_naf_rows, ob_fr_naf_count, sizeof(ob_fr_naf_rows[0]), code_cmp);
}

ob_fr_naf_status ob_fr_naf_lookup(const char *s, ob_fr_naf *out)
{
	memset(out, 0, sizeof(*out));
	char code[OB_FR_NAF_STR_SIZE];
	if (!naf_normalise(s, code))
		return OB_FR_NAF_MALFORMED;
	const ob_fr_naf_row *r = naf_find(code);
	if (r == NULL)
		return OB_FR_NAF_UNKNOWN;
	memcpy(out->code, r->code, sizeof(out->code));
	out->section = r->section;
	out->division = digit_value(r->code[0]) * 10 + digit_value(r->code[1]);
	out->label = r->label;
	return OB_FR_NAF_OK;
}

const char *ob_fr_naf_label(const char *s)
{
	ob_fr_naf n;
	return ob_fr_naf_lookup(s, &n) == OB_FR_NAF_OK ? n.label : NULL;
}

bool ob_fr_naf_valid(const char *s)
{
	ob_fr_naf n;
	return ob_fr_naf_lookup(s, &n) == OB_FR_NAF_OK && strcmp(n.code, s) == 0;
}

#define MEUR INT64_C(1000000)

ob_size_category ob_fr_size_category(uint32_t headcount, int64_t turnover_eur, int64_t balance_eur)
{
	if (turnover_eur < 0 || balance_eur < 0)
		return OB_SIZE_UNSPECIFIED;
	/* The decree's thresholds are "n'excédant pas": equal to the threshold is still inside. */
	if (headcount < 10 && (turnover_eur <= 2 * MEUR || balance_eur <= 2 * MEUR))
		return OB_SIZE_TPE;
	if (headcount < 250 && (turnover_eur <= 50 * MEUR || balance_eur <= 43 * MEUR))
		return OB_SIZE_PME;
	if (headcount < 5000 && (turnover_eur <= 1500 * MEUR || balance_eur <= 2000 * MEUR))
		return OB_SIZE_ETI;
	return OB_SIZE_GE;
}

bool ob_fr_postal_code_valid(const char *s)
{
	return is_n_digits(s, 5) && !(s[0] == '0' && s[1] == '0');
}

/* Departements and regions. */

static const ob_fr_dep_row *dep_find(const char *code)
{
	return bsearch(code, ob_fr_dep_rows, ob_fr_dep_count, sizeof(ob_fr_dep_rows[0]), code_cmp);
}

const char *ob_fr_region_of_departement(const char *dep)
{
	if (dep == NULL || strlen(dep) >= OB_FR_DEPARTEMENT_STR_SIZE)
		return NULL;
	const ob_fr_dep_row *d = dep_find(dep);
	return d != NULL ? d->region : NULL;
}

bool ob_fr_region_exists(const char *name)
{
	for (size_t i = 0; name != NULL && i < ob_fr_dep_count; i++)
		if (ob_fr_dep_rows[i].region != NULL && strcmp(ob_fr_dep_rows[i].region, name) == 0)
			return true;
	return false;
}

/* Cities. Both what the caller wrote and the names of the data are folded to a comparison key
 * (fr.h says how) in buffers of this size: a folded name only grows by ST -> SAINT, and no name of
 * the data comes near it. */
#define CITY_IN_MAX  200
#define CITY_KEY_MAX 256

/* The ASCII letters of U+00C0..U+00FF, upper case, '\0' for the two signs of the block (U+00D7,
 * U+00F7); the ligatures and sharp s are spelled out in fold_codepoint. */
static const char latin1_letters[] =
        "AAAAAAACEEEEIIIIDNOOOOO\0OUUUUYTSAAAAAAACEEEEIIIIDNOOOOO\0OUUUUYTY";

/* Appends the folding of one code point to key: letters without their accents in upper case,
 * digits, a space for every separator. false for a code point a French place name does not
 * have, or when key is full. */
static bool fold_codepoint(unsigned cp, char *key, size_t *n)
{
	char one[2] = {0, 0};
	const char *add = one;
	if (cp >= 'a' && cp <= 'z')
		one[0] = (char)(cp - 'a' + 'A');
	else if ((cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
		one[0] = (char)cp;
	else if (cp == ' ' || cp == '-' || cp == '\'' || cp == '.' || cp == ',' || cp == '/' ||
	         cp == '(' || cp == ')' || cp == 0x2019 || cp == 0x2010 || cp == 0x2011)
		one[0] = ' ';
	else if (cp == 0xC6 || cp == 0xE6)
		add = "AE";
	else if (cp == 0x152 || cp == 0x153)
		add = "OE";
	else if (cp == 0xDF)
		add = "SS";
	else if (cp == 0xDE || cp == 0xFE)
		add = "TH";
	else if (cp == 0x178)
		one[0] = 'Y';
	else if (cp >= 0xC0 && cp <= 0xFF && latin1_letters[cp - 0xC0] != '\0')
		one[0] = latin1_letters[cp - 0xC0];
	else
		return false;
	for (; *add != '\0'; add++) {
		if (*add == ' ' && (*n == 0 || key[*n - 1] == ' '))
			continue; /* no leading space, one space for a run */
		if (*n + 1 >= CITY_KEY_MAX)
			return false;
		key[(*n)++] = *add;
	}
	return true;
}

/* Decodes the UTF-8 of s (len bytes) into code points for fold_codepoint. Only the encodings of
 * up to 3 bytes occur in what it accepts; anything else, or broken UTF-8, is false. */
static bool fold_text(const char *s, size_t len, char *key, size_t *n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		unsigned cp;
		if (p[i] < 0x80) {
			cp = p[i];
			i += 1;
		} else if ((p[i] & 0xE0) == 0xC0 && i + 1 < len && (p[i + 1] & 0xC0) == 0x80) {
			cp = ((p[i] & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
			i += 2;
		} else if ((p[i] & 0xF0) == 0xE0 && i + 2 < len && (p[i + 1] & 0xC0) == 0x80 &&
		           (p[i + 2] & 0xC0) == 0x80) {
			cp = ((p[i] & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) |
			     (p[i + 2] & 0x3Fu);
			i += 3;
		} else {
			return false;
		}
		if (!fold_codepoint(cp, key, n))
			return false;
	}
	return true;
}

static bool word_is(const char *w, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(w, s, len) == 0;
}

/* A number as people write an arrondissement or a CEDEX: digits, then nothing, E, ER or EME. */
static bool word_is_number(const char *w, size_t len)
{
	size_t i = 0;
	while (i < len && is_digit(w[i]))
		i++;
	return i > 0 && (i == len || word_is(w + i, len - i, "E") ||
	                 word_is(w + i, len - i, "ER") || word_is(w + i, len - i, "EME"));
}

/* Folds s into key (CITY_KEY_MAX bytes): see fr.h. false when s cannot be folded or folds to
 * nothing. *cedex, when not NULL, tells whether a trailing word CEDEX was dropped. */
static bool city_key(const char *s, char key[CITY_KEY_MAX], bool *cedex)
{
	if (cedex != NULL)
		*cedex = false;
	size_t len = strlen(s);
	char raw[CITY_KEY_MAX];
	size_t n = 0;
	if (len > CITY_IN_MAX || !fold_text(s, len, raw, &n))
		return false;
	while (n > 0 && raw[n - 1] == ' ')
		n--;
	/* Trailing CEDEX, ARRONDISSEMENT and numbers go, in any order: "PARIS CEDEX 07",
	 * "PARIS 7E ARRONDISSEMENT". */
	for (;;) {
		size_t start = n;
		while (start > 0 && raw[start - 1] != ' ')
			start--;
		const char *w = raw + start;
		size_t wl = n - start;
		if (start == 0 || !(word_is(w, wl, "CEDEX") || word_is(w, wl, "ARRONDISSEMENT") ||
		                    word_is_number(w, wl)))
			break;
		if (cedex != NULL && word_is(w, wl, "CEDEX"))
			*cedex = true;
		n = start - 1; /* and the space before it */
	}
	/* ST and STE are written out; every other word is copied. */
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		size_t end = i;
		while (end < n && raw[end] != ' ')
			end++;
		const char *w = raw + i;
		size_t wl = end - i;
		const char *word = word_is(w, wl, "ST")    ? "SAINT"
		                   : word_is(w, wl, "STE") ? "SAINTE"
		                                           : NULL;
		size_t add = word != NULL ? strlen(word) : wl;
		if (k + add + 2 > CITY_KEY_MAX)
			return false;
		if (k > 0)
			key[k++] = ' ';
		memcpy(key + k, word != NULL ? word : w, add);
		k += add;
		i = end + 1;
	}
	key[k] = '\0';
	return k > 0;
}

/* The first row whose code starts with the len digits of prefix (ob_fr_postal_count when
 * none does). */
static size_t postal_first(const char *prefix, size_t len)
{
	size_t lo = 0, hi = ob_fr_postal_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(ob_fr_postal_rows[mid].code, prefix, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ob_fr_postal_count && memcmp(ob_fr_postal_rows[lo].code, prefix, len) == 0
	               ? lo
	               : ob_fr_postal_count;
}

/* Folding a name costs about 100 ns, and a CEDEX code the data does not carry has its city
 * looked for among all the names of a departement (905 in the Pas-de-Calais): 100 us a lookup,
 * which anyone who may submit could repeat. So each row's folded name is hashed once, at the
 * first lookup, and a lookup folds only the rows whose hash is the city's (FNV-1a: the hash
 * only skips; equal keys are still compared). Hashing at build time would need the folding
 * twice, once in tables.py. */
static _Thread_local size_t names_folded;
static pthread_once_t key_hash_once = PTHREAD_ONCE_INIT;

static uint32_t key_hash(const char *key)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static void key_hash_init(void)
{
	char key[CITY_KEY_MAX];
	for (size_t i = 0; i < ob_fr_postal_count; i++)
		/* A name that does not fold matches nothing: "" is no city's key. */
		ob_fr_postal_key_hash[i] =
		        key_hash(city_key(ob_fr_postal_rows[i].name, key, NULL) ? key : "");
}

size_t ob_fr_names_folded(void)
{
	return names_folded;
}

/* The row from first on, among those whose code starts with the len digits of prefix, whose
 * name folds to want; ob_fr_postal_count when none. */
static size_t postal_match(size_t first, const char *prefix, size_t len,
                           const char want[CITY_KEY_MAX])
{
	pthread_once(&key_hash_once, key_hash_init);
	uint32_t h = key_hash(want);
	char have[CITY_KEY_MAX];
	for (size_t i = first;
	     i < ob_fr_postal_count && memcmp(ob_fr_postal_rows[i].code, prefix, len) == 0; i++) {
		if (ob_fr_postal_key_hash[i] != h)
			continue;
		names_folded++;
		if (city_key(ob_fr_postal_rows[i].name, have, NULL) && strcmp(have, want) == 0)
			return i;
	}
	return ob_fr_postal_count;
}

static void place_of(const ob_fr_postal_row *r, ob_fr_place *out)
{
	const ob_fr_dep_row *d = &ob_fr_dep_rows[r->dep];
	memcpy(out->departement, d->code, sizeof(out->departement));
	out->departement_name = d->name;
	out->region = d->region;
	out->name = r->name;
}

/* A code the data does not carry, with a city written "... CEDEX": La Poste gives a CEDEX code
 * from its departement's range (the first two digits, three overseas) to a delivery office of
 * that departement, so the city must be a place of the departement the code's prefix names
 * (fr.h says what this can and cannot tell). */
static ob_fr_postal_status cedex_lookup(const char *postal_code, const char want[CITY_KEY_MAX],
                                        ob_fr_place *out)
{
	size_t len = postal_code[0] == '9' && postal_code[1] == '7' ? 3 : 2;
	size_t first = postal_first(postal_code, len);
	if (first == ob_fr_postal_count)
		return OB_FR_POSTAL_UNKNOWN;
	size_t row = postal_match(first, postal_code, len, want);
	if (row == ob_fr_postal_count)
		return OB_FR_POSTAL_CITY;
	place_of(&ob_fr_postal_rows[row], out);
	return OB_FR_POSTAL_OK;
}

ob_fr_postal_status ob_fr_postal_lookup(const char *postal_code, const char *city, ob_fr_place *out)
{
	memset(out, 0, sizeof(*out));
	if (!ob_fr_postal_code_valid(postal_code))
		return OB_FR_POSTAL_MALFORMED;
	/* La Poste gives 98 to Monaco (980xx) and the Pacific collectivities (986xx to 988xx),
	 * none of them in SIRENE. */
	if (postal_code[0] == '9' && postal_code[1] == '8')
		return OB_FR_POSTAL_OUTSIDE;
	size_t first = postal_first(postal_code, 5);
	char want[CITY_KEY_MAX];
	bool cedex = false;
	bool city_ok = city != NULL && city_key(city, want, &cedex);
	if (first == ob_fr_postal_count)
		/* Any other unknown code is not a postal code, unless it is a CEDEX one. */
		return city_ok && cedex ? cedex_lookup(postal_code, want, out)
		                        : OB_FR_POSTAL_UNKNOWN;
	if (city == NULL) {
		place_of(&ob_fr_postal_rows[first], out);
		return OB_FR_POSTAL_OK;
	}
	if (!city_ok)
		return OB_FR_POSTAL_CITY;
	size_t row = postal_match(first, postal_code, 5, want);
	if (row == ob_fr_postal_count)
		return OB_FR_POSTAL_CITY;
	place_of(&ob_fr_postal_rows[row], out);
	return OB_FR_POSTAL_OK;
}

/* Phone numbers. */

/* The blocks of the national plan (the first digits after the trunk 0) that ARCEP gives to the
 * overseas territories, and the country code that reaches each from abroad: fr.h lists them and
 * says where they come from. The longest prefix that matches wins (7093 is split between Guyane
 * and Mayotte at its fifth digit). */
static const struct {
	char prefix[6];
	char cc[4];
} overseas_blocks[] = {
        /* Guadeloupe, Saint-Barthelemy, Saint-Martin */
        {"590", "590"},
        {"5987", "590"},
        {"690", "590"},
        {"691", "590"},
        {"7090", "590"},
        /* Guyane */
        {"594", "594"},
        {"5988", "594"},
        {"694", "594"},
        {"70930", "594"},
        {"70931", "594"},
        {"70932", "594"},
        {"70933", "594"},
        /* Martinique */
        {"596", "596"},
        {"5989", "596"},
        {"696", "596"},
        {"697", "596"},
        {"7091", "596"},
        /* La Reunion */
        {"262", "262"},
        {"263", "262"},
        {"2688", "262"},
        {"692", "262"},
        {"693", "262"},
        {"7092", "262"},
        /* Mayotte */
        {"2689", "262"},
        {"269", "262"},
        {"639", "262"},
        {"70935", "262"},
        {"70936", "262"},
        {"70937", "262"},
        /* Saint-Pierre-et-Miquelon: 05 08 then its 6-digit numbers, and 9-digit mobiles */
        {"508", "508"},
        {"7084", "508"},
        {"7085", "508"},
};

static const struct {
	char cc[4];
	const char *territory;
} country_codes[] = {
        {"33", "France"},
        {"590", "Guadeloupe, Saint-Barthelemy and Saint-Martin"},
        {"594", "Guyane"},
        {"596", "Martinique"},
        {"262", "La Reunion and Mayotte"},
        {"508", "Saint-Pierre-et-Miquelon"},
};

/* The overseas block of the 9 digits nsn (after the trunk 0 or the country code), or -1. */
static int overseas_block(const char *nsn)
{
	int best = -1;
	size_t best_len = 0;
	for (size_t i = 0; i < sizeof overseas_blocks / sizeof overseas_blocks[0]; i++) {
		size_t len = strlen(overseas_blocks[i].prefix);
		if (len > best_len && memcmp(nsn, overseas_blocks[i].prefix, len) == 0) {
			best = (int)i;
			best_len = len;
		}
	}
	return best;
}

/* "05 08" + 6 digits: the national form of a Saint-Pierre-et-Miquelon number, whose own plan
 * has 6 digits; "508" only routes to it from the French plan. */
static bool is_spm_trunk(int block)
{
	return block >= 0 && strcmp(overseas_blocks[block].prefix, "508") == 0;
}

const char *ob_fr_phone_territory(const char *cc)
{
	if (cc == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof country_codes / sizeof country_codes[0]; i++)
		if (strcmp(country_codes[i].cc, cc) == 0)
			return country_codes[i].territory;
	return NULL;
}

/* Enough for "0033 (0)" + 9 digits with room to spare; longer input is rejected early. */
#define PHONE_MAX_DIGITS 20

struct phone_digits {
	char d[PHONE_MAX_DIGITS];
	size_t n;
	bool plus;        /* started with '+' */
	bool trunk_paren; /* contained "(0)" */
	size_t trunk_at;  /* number of digits before "(0)" */
};

/* Collects the digits of in, dropping separators. A "(0)" is recorded rather than kept: it is
 * the trunk prefix some people write after the country code, and only valid there. */
static bool phone_scan(const char *in, struct phone_digits *pd)
{
	bool started = false;
	pd->n = 0;
	pd->plus = false;
	pd->trunk_paren = false;
	pd->trunk_at = 0;
	for (size_t i = 0; in[i] != '\0'; i++) {
		char c = in[i];
		if (is_digit(c)) {
			if (pd->n == PHONE_MAX_DIGITS)
				return false;
			pd->d[pd->n++] = c;
			started = true;
		} else if (c == '+') {
			if (started)
				return false;
			pd->plus = true;
			started = true;
		} else if (c == '(' && in[i + 1] == '0' && in[i + 2] == ')') {
			if (pd->trunk_paren)
				return false;
			pd->trunk_paren = true;
			pd->trunk_at = pd->n;
			started = true;
			i += 2;
		} else if (c != ' ' && c != '.' && c != '-' && c != '(' && c != ')') {
			return false;
		}
	}
	return true;
}

/* Writes '+', cc and the n digits at nsn to out. The callers' lengths keep it within
 * OB_FR_PHONE_STR_SIZE: at most 3 + 9 digits. */
static bool phone_emit(const char *cc, const char *nsn, size_t n, char out[OB_FR_PHONE_STR_SIZE])
{
	size_t cc_len = strlen(cc);
	if (1 + cc_len + n >= OB_FR_PHONE_STR_SIZE)
		return false; /* defensive: unreachable with the lengths checked by the callers */
	out[0] = '+';
	memcpy(out + 1, cc, cc_len);
	memcpy(out + 1 + cc_len, nsn, n);
	out[1 + cc_len + n] = '\0';
	return true;
}

/* phone_emit as a status. */
static ob_fr_phone_status phone_put(const char *cc, const char *nsn, size_t n,
                                    char out[OB_FR_PHONE_STR_SIZE])
{
	return phone_emit(cc, nsn, n, out) ? OB_FR_PHONE_OK : OB_FR_PHONE_MALFORMED;
}

/* Saint-Pierre-et-Miquelon's own 6-digit numbers: ARCEP and the territory start none with 0 or
 * 1, whether written +508 or 05 08. */
static ob_fr_phone_status phone_spm6(const char *six, char out[OB_FR_PHONE_STR_SIZE])
{
	return six[0] >= '2' ? phone_put("508", six, 6, out) : OB_FR_PHONE_OUTSIDE_PLAN;
}

/* nsn: the 9 digits of a number of the French plan after the trunk 0 (first one not 0). */
static ob_fr_phone_status phone_national(const char *nsn, char out[OB_FR_PHONE_STR_SIZE])
{
	int block = overseas_block(nsn);
	if (is_spm_trunk(block))
		return phone_spm6(nsn + 3, out);
	return phone_put(block >= 0 ? overseas_blocks[block].cc : "33", nsn, 9, out);
}

/* The number nsn (n digits, the first not 0) written after the country code cc. */
static ob_fr_phone_status phone_after_cc(const char *cc, const char *nsn, size_t n,
                                         char out[OB_FR_PHONE_STR_SIZE])
{
	if (strcmp(cc, "33") == 0)
		return n == 9 ? phone_national(nsn, out) : OB_FR_PHONE_MALFORMED;
	if (strcmp(cc, "508") == 0 && n == 6)
		return phone_spm6(nsn, out);
	if (n != 9)
		return OB_FR_PHONE_MALFORMED;
	int block = overseas_block(nsn);
	if (block < 0 || is_spm_trunk(block) || strcmp(overseas_blocks[block].cc, cc) != 0)
		return OB_FR_PHONE_OUTSIDE_PLAN;
	return phone_put(cc, nsn, 9, out);
}

static ob_fr_phone_status phone_parse(const char *in, char out[OB_FR_PHONE_STR_SIZE])
{
	struct phone_digits pd;
	if (!phone_scan(in, &pd))
		return OB_FR_PHONE_MALFORMED;

	const char *d = pd.d;
	size_t n = pd.n;
	if (!pd.plus) {
		if (n >= 2 && d[0] == '0' && d[1] == '0') {
			if (pd.trunk_paren && pd.trunk_at < 2)
				return OB_FR_PHONE_MALFORMED;
			d += 2; /* international prefix 00, same as '+' */
			n -= 2;
			pd.trunk_at -= pd.trunk_paren ? 2 : 0;
		} else {
			if (pd.trunk_paren || n != 10 || d[0] != '0' || d[1] == '0')
				return OB_FR_PHONE_MALFORMED;
			return phone_national(d + 1, out);
		}
	}

	const char *cc = NULL;
	size_t cc_len = 0;
	for (size_t i = 0; i < sizeof country_codes / sizeof country_codes[0]; i++) {
		size_t len = strlen(country_codes[i].cc);
		if (n >= len && memcmp(d, country_codes[i].cc, len) == 0) {
			cc = country_codes[i].cc;
			cc_len = len;
			break;
		}
	}
	if (cc == NULL)
		return n > 0 ? OB_FR_PHONE_COUNTRY : OB_FR_PHONE_MALFORMED;
	if (pd.trunk_paren && pd.trunk_at != cc_len)
		return OB_FR_PHONE_MALFORMED;
	const char *nsn = d + cc_len;
	size_t nsn_len = n - cc_len;
	if (nsn_len == 0 || nsn[0] == '0')
		return OB_FR_PHONE_MALFORMED;
	return phone_after_cc(cc, nsn, nsn_len, out);
}

ob_fr_phone_status ob_fr_phone_parse(const char *in, char out[OB_FR_PHONE_STR_SIZE])
{
	if (out != NULL)
		out[0] = '\0';
	if (in == NULL || out == NULL)
		return OB_FR_PHONE_MALFORMED;
	ob_fr_phone_status st = phone_parse(in, out);
	if (st != OB_FR_PHONE_OK)
		out[0] = '\0';
	return st;
}

bool ob_fr_phone_e164(const char *in, char out[OB_FR_PHONE_STR_SIZE])
{
	return ob_fr_phone_parse(in, out) == OB_FR_PHONE_OK;
}

/* E-mail. */

#define EMAIL_MAX       254
#define EMAIL_LOCAL_MAX 64
#define EMAIL_LABEL_MAX 63

static bool domain_valid(const char *d, size_t len)
{
	size_t labels = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && d[i] != '.') {
			if (!is_alnum(d[i]) && d[i] != '-')
				return false;
			continue;
		}
		size_t label_len = i - start;
		if (label_len == 0 || label_len > EMAIL_LABEL_MAX)
			return false;
		if (d[start] == '-' || d[i - 1] == '-')
			return false;
		labels++;
		start = i + 1;
	}
	return labels >= 2;
}

bool ob_email_valid(const char *s)
{
	if (s == NULL)
		return false;
	size_t len = 0;
	size_t at = 0;
	size_t ats = 0;
	for (; s[len] != '\0'; len++) {
		if (len == EMAIL_MAX)
			return false; /* stop early on huge input */
		if (s[len] == '@') {
			at = len;
			ats++;
		}
	}
	if (ats != 1 || at == 0 || at > EMAIL_LOCAL_MAX)
		return false;
	for (size_t i = 0; i < at; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c > '~')
			return false; /* controls, space, DEL and non-ASCII */
	}
	return domain_valid(s + at + 1, len - at - 1);
}
