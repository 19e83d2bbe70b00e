/*
 * Validation of what callers send: every rule, every violation reported, the
 * normalised result written out. Pure: no store, no clock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/utf8.h"
#include "domain/domain.h"
#include "domain/internal.h"

void ob_outcome_init(ob_outcome *o)
{
	memset(o, 0, sizeof(*o));
}

void ob_outcome_fini(ob_outcome *o)
{
	if (o == NULL)
		return;
	/* Both show the contact in clear. */
	if (o->replay != NULL)
		sodium_memzero(o->replay, o->replay_len);
	free(o->replay);
	o->replay = NULL;
	o->replay_len = 0;
	if (o->rendered != NULL)
		sodium_memzero(o->rendered, o->rendered_len);
	free(o->rendered);
	o->rendered = NULL;
	o->rendered_len = 0;
}

void ob_violation_add(ob_outcome *o, const char *field, const char *fmt, ...)
{
	if (o->n_violations == OB_MAX_OUTCOME_VIOLATIONS)
		return;
	ob_violation *v = &o->violations[o->n_violations++];
	snprintf(v->field, sizeof(v->field), "%s", field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->description, sizeof(v->description), fmt, ap);
	va_end(ap);
	ob_utf8_trim_cut(v->description);
	ob_utf8_trim_cut(v->field);
}

static const char *nz(const char *s)
{
	return s != NULL ? s : "";
}

/* Copies trimmed text into out after checking it: printable UTF-8, within
 * max bytes, present when required. */
static void text(ob_outcome *o, const char *field, const char *in, char *out, size_t max,
                 bool required)
{
	in = nz(in);
	while (*in == ' ' || *in == '\t')
		in++;
	size_t n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	out[0] = '\0';
	if (n == 0) {
		if (required)
			ob_violation_add(o, field, "is required");
		return;
	}
	if (n > max) {
		ob_violation_add(o, field, "is longer than %zu bytes", max);
		return;
	}
	if (!ob_utf8_valid_text(in, n) || memchr(in, '\n', n) != NULL ||
	    memchr(in, '\r', n) != NULL || memchr(in, '\t', n) != NULL) {
		ob_violation_add(o, field, "must be printable text on one line");
		return;
	}
	memcpy(out, in, n);
	out[n] = '\0';
}

/* Copies a string already checked to fit. */
static void set(char *out, size_t n, const char *in)
{
	size_t len = strlen(in);
	if (len >= n)
		len = n - 1;
	memcpy(out, in, len);
	out[len] = '\0';
}

/* Strips spaces, dots and dashes that people put in identifiers. */
static void compact(const char *in, char *out, size_t n)
{
	size_t j = 0;
	for (in = nz(in); *in != '\0' && j + 1 < n; in++)
		if (*in != ' ' && *in != '.' && *in != '-')
			out[j++] = *in;
	out[j] = '\0';
	if (*in != '\0' && j + 1 >= n)
		out[0] = 'X', out[1] = '\0'; /* too long: keep it invalid */
}

/* The NAF code as typed, for a message: printable ASCII only, or "the code". */
static const char *naf_shown(const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		if (*p < ' ' || *p > '~')
			return "the code";
	return s;
}

/* Checks the postal code against La Poste's base and the city (already in ad->city, "" when
 * it had its own violation) against the communes it serves; the departement and region are the
 * data's, never guessed. */
static void place(ob_outcome *o, const char *postal, ob_address *ad)
{
	ob_fr_place pl;
	const char *city = ad->city[0] != '\0' ? ad->city : NULL;
	switch (ob_fr_postal_lookup(postal, city, &pl)) {
	case OB_FR_POSTAL_OK:
		set(ad->postal_code, sizeof(ad->postal_code), postal);
		set(ad->departement, sizeof(ad->departement), pl.departement);
		set(ad->region, sizeof(ad->region), pl.region != NULL ? pl.region : "");
		return;
	case OB_FR_POSTAL_MALFORMED:
		ob_violation_add(o, "company.address.postal_code",
		                 "must be a French postal code (5 digits)");
		return;
	case OB_FR_POSTAL_UNKNOWN:
		ob_violation_add(o, "company.address.postal_code",
		                 "%s is not a postal code of La Poste's base", postal);
		return;
	case OB_FR_POSTAL_OUTSIDE:
		ob_violation_add(o, "company.address.postal_code",
		                 "%s is outside SIRENE's territory (Monaco and the Pacific "
		                 "collectivities register their companies elsewhere)",
		                 postal);
		return;
	case OB_FR_POSTAL_CITY:
		ob_violation_add(o, "company.address.city",
		                 "is not a commune of postal code %s (La Poste's base)", postal);
		return;
	}
}

static void validate_company(const ob_submission *in, ob_application *a, ob_outcome *o)
{
	ob_company *c = &a->company;
	char buf[64];
	compact(in->siren, buf, sizeof(buf));
	if (buf[0] == '\0')
		ob_violation_add(o, "company.siren", "is required");
	else if (!ob_fr_siren_valid(buf))
		ob_violation_add(o, "company.siren",
		                 "must be 9 digits with a valid check digit (Luhn)");
	else
		set(c->siren, sizeof(c->siren), buf);

	compact(in->siret, buf, sizeof(buf));
	if (buf[0] != '\0') {
		if (!ob_fr_siret_valid(buf))
			ob_violation_add(o, "company.siret",
			                 "must be 14 digits with a valid check digit");
		else if (c->siren[0] != '\0' && !ob_fr_siret_extends_siren(buf, c->siren))
			ob_violation_add(o, "company.siret", "must start with the company's SIREN");
		else
			set(c->siret, sizeof(c->siret), buf);
	}

	text(o, "company.legal_name", in->legal_name, c->legal_name, OB_NAME_MAX, true);
	text(o, "company.trade_name", in->trade_name, c->trade_name, OB_NAME_MAX, false);

	snprintf(buf, sizeof(buf), "%.63s", nz(in->naf));
	ob_fr_naf naf;
	if (buf[0] == '\0')
		ob_violation_add(o, "company.naf_code", "is required");
	else
		switch (ob_fr_naf_lookup(buf, &naf)) {
		case OB_FR_NAF_OK:
			set(c->naf, sizeof(c->naf), naf.code);
			break;
		case OB_FR_NAF_MALFORMED:
			ob_violation_add(o, "company.naf_code", "must look like 47.91B (NN.NNL)");
			break;
		case OB_FR_NAF_UNKNOWN:
			ob_violation_add(o, "company.naf_code",
			                 "%s is not one of the 732 sub-classes of NAF rev. 2",
			                 naf_shown(buf));
			break;
		}

	if (nz(in->vat)[0] != '\0') {
		if (strlen(in->vat) > 32)
			ob_violation_add(o, "company.vat_number", "is too long");
		else if (c->siren[0] == '\0')
			; /* the SIREN's own violation says it all */
		else if (!ob_fr_vat_valid_for_siren(in->vat, c->siren, c->vat))
			ob_violation_add(o, "company.vat_number",
			                 "must be FR, the key %02d and the SIREN (FR%02d%s)",
			                 ob_fr_vat_key(c->siren), ob_fr_vat_key(c->siren),
			                 c->siren);
	}

	c->employees = in->employees;
	if (in->employees > 10000000)
		ob_violation_add(o, "company.employees", "is not plausible");
	if (in->turnover_eur < 0 || in->turnover_eur > 1000000000000000LL)
		ob_violation_add(o, "company.turnover_eur", "must be between 0 and 10^15 euros");
	if (in->balance_eur < 0 || in->balance_eur > 1000000000000000LL)
		ob_violation_add(o, "company.balance_sheet_eur",
		                 "must be between 0 and 10^15 euros");
	c->turnover_eur = in->turnover_eur;
	c->balance_eur = in->balance_eur;

	ob_address *ad = &c->address;
	text(o, "company.address.street", in->street, ad->street, OB_STREET_MAX, true);
	text(o, "company.address.city", in->city, ad->city, OB_CITY_MAX, true);
	snprintf(buf, sizeof(buf), "%.63s", nz(in->postal_code));
	if (buf[0] == '\0')
		ob_violation_add(o, "company.address.postal_code", "is required");
	else
		place(o, buf, ad);
}

static void phone(ob_outcome *o, const char *in, char out[OB_FR_PHONE_STR_SIZE])
{
	ob_fr_phone_status st =
	        strlen(in) > 40 ? OB_FR_PHONE_MALFORMED : ob_fr_phone_parse(in, out);
	if (st == OB_FR_PHONE_OK)
		return;
	if (st != OB_FR_PHONE_OUTSIDE_PLAN) {
		ob_violation_add(
		        o, "contact.phone",
		        "must be a French number, e.g. 01 23 45 67 89 or +33 1 23 45 67 89");
		return;
	}
	/* The code is one of the plan's, written after '+' or 00: say which territory. */
	const char *p = in;
	while (*p != '\0' && (*p < '1' || *p > '9'))
		p++;
	char cc[4] = {0};
	for (size_t i = 0; i < 3 && p[i] >= '0' && p[i] <= '9'; i++)
		cc[i] = p[i];
	const char *where = ob_fr_phone_territory(cc);
	ob_violation_add(o, "contact.phone", "does not belong to the numbering plan of +%s (%s)",
	                 cc, where != NULL ? where : "an overseas territory");
}

ob_err ob_validate_submission(const ob_submission *in, ob_application *a, ob_outcome *o)
{
	memset(a, 0, sizeof(*a));
	const char *cohort = nz(in->cohort_id)[0] != '\0' ? in->cohort_id : OB_DEFAULT_COHORT;
	if (strlen(cohort) > OB_COHORT_ID_MAX || !ob_utf8_valid_text(cohort, strlen(cohort)))
		ob_violation_add(o, "cohort_id", "a cohort id is 1-32 characters of [a-z0-9-]");
	else
		set(a->cohort_id, sizeof(a->cohort_id), cohort);

	validate_company(in, a, o);

	ob_contact *ct = &a->contact;
	text(o, "contact.name", in->contact_name, ct->name, OB_NAME_MAX, true);
	char email[OB_EMAIL_MAX + 1];
	text(o, "contact.email", in->email, email, OB_EMAIL_MAX, true);
	if (email[0] != '\0') {
		if (!ob_email_valid(email))
			ob_violation_add(o, "contact.email", "is not a valid e-mail address");
		else
			set(ct->email, sizeof(ct->email), email);
	}
	if (nz(in->phone)[0] == '\0')
		ob_violation_add(o, "contact.phone", "is required");
	else
		phone(o, in->phone, ct->phone);

	if (in->channel <= OB_CHANNEL_UNSPECIFIED || in->channel >= OB_CHANNEL_COUNT)
		ob_violation_add(o, "channel", "must be MARKETPLACE, OWN_WEBSHOP or BOTH");
	else
		a->channel = (ob_channel)in->channel;
	a->exports = in->exports;

	if (in->n_categories > OB_MAX_CATEGORIES)
		ob_violation_add(o, "product_categories", "at most %d categories",
		                 OB_MAX_CATEGORIES);
	for (size_t i = 0; i < in->n_categories && i < OB_MAX_CATEGORIES; i++) {
		char field[32];
		snprintf(field, sizeof(field), "product_categories[%zu]", i);
		text(o, field, in->categories[i], a->categories[a->n_categories], OB_CATEGORY_MAX,
		     true);
		if (a->categories[a->n_categories][0] != '\0')
			a->n_categories++;
	}
	if (!in->accepts_terms)
		ob_violation_add(o, "accepts_terms", "the programme's terms must be accepted");

	a->size = ob_fr_size_category(a->company.employees, a->company.turnover_eur,
	                              a->company.balance_eur);
	return ob_dom_refuse(o, "application");
}
