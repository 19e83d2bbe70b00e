#include "domain/fr.h"

#include <string.h>

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

bool ob_fr_naf_valid(const char *s)
{
	if (s == NULL)
		return false;
	return is_digit(s[0]) && is_digit(s[1]) && s[2] == '.' && is_digit(s[3]) &&
	       is_digit(s[4]) && is_upper(s[5]) && s[6] == '\0';
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

bool ob_fr_departement_from_postal(const char *postal_code, char out[OB_FR_DEPARTEMENT_STR_SIZE])
{
	if (out != NULL)
		out[0] = '\0';
	if (out == NULL || !ob_fr_postal_code_valid(postal_code))
		return false;
	const char *p = postal_code;
	unsigned two = digit_value(p[0]) * 10 + digit_value(p[1]);

	if (two == 20) {
		/* Corsica kept the 20 prefix of its postal codes when it was split in 1976. */
		if (p[2] == '0' || p[2] == '1')
			memcpy(out, "2A", 3);
		else if (p[2] >= '2' && p[2] <= '6')
			memcpy(out, "2B", 3);
		else
			return false;
		return true;
	}
	if (two <= 95) {
		out[0] = p[0];
		out[1] = p[1];
		out[2] = '\0';
		return true;
	}
	if (two == 97) {
		/* The two Caribbean collectivities kept Guadeloupe's postal prefix when they left
		 * it in 2007, but have their own codes. */
		if (strcmp(p, "97133") == 0) {
			memcpy(out, "977", 4);
			return true;
		}
		if (strcmp(p, "97150") == 0) {
			memcpy(out, "978", 4);
			return true;
		}
		if (p[2] >= '1' && p[2] <= '6') {
			memcpy(out, p, 3);
			out[3] = '\0';
			return true;
		}
	}
	return false;
}

enum region {
	R_NONE = 0,
	R_ARA,
	R_BFC,
	R_BRE,
	R_CVL,
	R_COR,
	R_GES,
	R_HDF,
	R_IDF,
	R_NOR,
	R_NAQ,
	R_OCC,
	R_PDL,
	R_PAC,
	R_GUA,
	R_MTQ,
	R_GUY,
	R_REU,
	R_MAY,
	R_COUNT_
};

/* Official names as in INSEE's Code officiel geographique. */
static const char *const region_names[R_COUNT_] = {
        [R_NONE] = NULL,
        [R_ARA] = "Auvergne-Rh\xc3\xb4ne-Alpes",
        [R_BFC] = "Bourgogne-Franche-Comt\xc3\xa9",
        [R_BRE] = "Bretagne",
        [R_CVL] = "Centre-Val de Loire",
        [R_COR] = "Corse",
        [R_GES] = "Grand Est",
        [R_HDF] = "Hauts-de-France",
        [R_IDF] = "\xc3\x8ele-de-France",
        [R_NOR] = "Normandie",
        [R_NAQ] = "Nouvelle-Aquitaine",
        [R_OCC] = "Occitanie",
        [R_PDL] = "Pays de la Loire",
        [R_PAC] = "Provence-Alpes-C\xc3\xb4te d'Azur",
        [R_GUA] = "Guadeloupe",
        [R_MTQ] = "Martinique",
        [R_GUY] = "Guyane",
        [R_REU] = "La R\xc3\xa9union",
        [R_MAY] = "Mayotte",
};

/* Metropolitan departements by number; 20 (Corsica before 1976) has no entry, 2A and 2B are
 * handled by name. */
static const unsigned char metro_region[96] = {
        [1] = R_ARA,  [2] = R_HDF,  [3] = R_ARA,  [4] = R_PAC,  [5] = R_PAC,  [6] = R_PAC,
        [7] = R_ARA,  [8] = R_GES,  [9] = R_OCC,  [10] = R_GES, [11] = R_OCC, [12] = R_OCC,
        [13] = R_PAC, [14] = R_NOR, [15] = R_ARA, [16] = R_NAQ, [17] = R_NAQ, [18] = R_CVL,
        [19] = R_NAQ, [21] = R_BFC, [22] = R_BRE, [23] = R_NAQ, [24] = R_NAQ, [25] = R_BFC,
        [26] = R_ARA, [27] = R_NOR, [28] = R_CVL, [29] = R_BRE, [30] = R_OCC, [31] = R_OCC,
        [32] = R_OCC, [33] = R_NAQ, [34] = R_OCC, [35] = R_BRE, [36] = R_CVL, [37] = R_CVL,
        [38] = R_ARA, [39] = R_BFC, [40] = R_NAQ, [41] = R_CVL, [42] = R_ARA, [43] = R_ARA,
        [44] = R_PDL, [45] = R_CVL, [46] = R_OCC, [47] = R_NAQ, [48] = R_OCC, [49] = R_PDL,
        [50] = R_NOR, [51] = R_GES, [52] = R_GES, [53] = R_PDL, [54] = R_GES, [55] = R_GES,
        [56] = R_BRE, [57] = R_GES, [58] = R_BFC, [59] = R_HDF, [60] = R_HDF, [61] = R_NOR,
        [62] = R_HDF, [63] = R_ARA, [64] = R_NAQ, [65] = R_OCC, [66] = R_OCC, [67] = R_GES,
        [68] = R_GES, [69] = R_ARA, [70] = R_BFC, [71] = R_BFC, [72] = R_PDL, [73] = R_ARA,
        [74] = R_ARA, [75] = R_IDF, [76] = R_NOR, [77] = R_IDF, [78] = R_IDF, [79] = R_NAQ,
        [80] = R_HDF, [81] = R_OCC, [82] = R_OCC, [83] = R_PAC, [84] = R_PAC, [85] = R_PDL,
        [86] = R_NAQ, [87] = R_NAQ, [88] = R_GES, [89] = R_BFC, [90] = R_BFC, [91] = R_IDF,
        [92] = R_IDF, [93] = R_IDF, [94] = R_IDF, [95] = R_IDF,
};

/* 971..976; 975 (Saint-Pierre-et-Miquelon) is a collectivity outside any region. */
static const unsigned char overseas_region[6] = {R_GUA, R_MTQ, R_GUY, R_REU, R_NONE, R_MAY};

const char *ob_fr_region_of_departement(const char *dep)
{
	if (dep == NULL)
		return NULL;
	if (dep[0] == '2' && (dep[1] == 'A' || dep[1] == 'B') && dep[2] == '\0')
		return region_names[R_COR];
	if (is_n_digits(dep, 2)) {
		unsigned n = digit_value(dep[0]) * 10 + digit_value(dep[1]);
		return n < 96 ? region_names[metro_region[n]] : NULL;
	}
	if (is_n_digits(dep, 3) && dep[0] == '9' && dep[1] == '7' && dep[2] >= '1' && dep[2] <= '6')
		return region_names[overseas_region[digit_value(dep[2]) - 1]];
	return NULL;
}

/* Phone numbers. */

/* Overseas prefixes of the national plan (the 3 digits after the trunk 0) and the country code
 * that reaches them from abroad. */
static const struct {
	char prefix[4];
	char cc[4];
} overseas_prefixes[] = {
        {"590", "590"}, {"690", "590"}, {"691", "590"}, /* Guadeloupe, St-Barth, St-Martin */
        {"594", "594"}, {"694", "594"},                 /* Guyane */
        {"596", "596"}, {"696", "596"}, {"697", "596"}, /* Martinique */
        {"262", "262"}, {"263", "262"}, {"692", "262"}, {"693", "262"}, /* La Reunion */
        {"269", "262"}, {"639", "262"},                                 /* Mayotte */
        {"508", "508"}, /* Saint-Pierre-et-Miquelon */
};

static const char *const accepted_country_codes[] = {"33", "590", "594", "596", "262", "508"};

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

/* nsn: the 9 digits of a number of the French plan after the trunk 0 (first one not 0). */
static bool phone_emit_national(const char *nsn, char out[OB_FR_PHONE_STR_SIZE])
{
	for (size_t i = 0; i < sizeof overseas_prefixes / sizeof overseas_prefixes[0]; i++) {
		if (memcmp(nsn, overseas_prefixes[i].prefix, 3) != 0)
			continue;
		/* Saint-Pierre-et-Miquelon's own plan has 6 digits; "508" only routes to it from
		 * the French plan, so it is not part of the international number. */
		if (strcmp(overseas_prefixes[i].cc, "508") == 0)
			return phone_emit("508", nsn + 3, 6, out);
		return phone_emit(overseas_prefixes[i].cc, nsn, 9, out);
	}
	return phone_emit("33", nsn, 9, out);
}

bool ob_fr_phone_e164(const char *in, char out[OB_FR_PHONE_STR_SIZE])
{
	if (out != NULL)
		out[0] = '\0';
	if (in == NULL || out == NULL)
		return false;
	struct phone_digits pd;
	if (!phone_scan(in, &pd))
		return false;

	const char *d = pd.d;
	size_t n = pd.n;
	if (!pd.plus) {
		if (n >= 2 && d[0] == '0' && d[1] == '0') {
			if (pd.trunk_paren && pd.trunk_at < 2)
				return false;
			d += 2; /* international prefix 00, same as '+' */
			n -= 2;
			pd.trunk_at -= pd.trunk_paren ? 2 : 0;
		} else {
			if (pd.trunk_paren || n != 10 || d[0] != '0' || d[1] == '0')
				return false;
			if (!phone_emit_national(d + 1, out)) {
				out[0] = '\0';
				return false;
			}
			return true;
		}
	}

	const char *cc = NULL;
	size_t cc_len = 0;
	for (size_t i = 0; i < sizeof accepted_country_codes / sizeof accepted_country_codes[0];
	     i++) {
		size_t len = strlen(accepted_country_codes[i]);
		if (n >= len && memcmp(d, accepted_country_codes[i], len) == 0) {
			cc = accepted_country_codes[i];
			cc_len = len;
			break;
		}
	}
	if (cc == NULL)
		return false;
	if (pd.trunk_paren && pd.trunk_at != cc_len)
		return false;
	const char *nsn = d + cc_len;
	size_t nsn_len = n - cc_len;
	if (nsn_len == 0 || nsn[0] == '0')
		return false;

	bool ok;
	if (strcmp(cc, "33") == 0)
		ok = nsn_len == 9 && phone_emit_national(nsn, out);
	else if (strcmp(cc, "508") == 0)
		ok = nsn_len == 6 && phone_emit(cc, nsn, 6, out);
	else
		ok = nsn_len == 9 && phone_emit(cc, nsn, 9, out);
	if (!ok)
		out[0] = '\0';
	return ok;
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
