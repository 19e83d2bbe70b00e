/*
 * The company series of testdata.h. Check digits come from common/luhn.c, not
 * from the domain's fr.c, so that a bug there cannot make the series agree with it.
 */
#include "testdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "luhn.h"

/* Real postal codes with a commune each serves (La Poste's base, data/fr-postal-codes.tsv). */
const char *const td_postal_codes[TD_N_PLACES] = {
        "75011", /* Paris: Ile-de-France */
        "69002", /* Lyon: Auvergne-Rhone-Alpes */
        "13001", /* Marseille: Provence-Alpes-Cote d'Azur */
        "33000", /* Bordeaux: Nouvelle-Aquitaine */
        "59000", /* Lille: Hauts-de-France */
        "97400", /* Saint-Denis: La Reunion */
        "20000", /* Ajaccio: Corse (2A) */
        "97133", /* Saint-Barthelemy: a collectivity in no region */
};
const char *const td_cities[TD_N_PLACES] = {
        "Paris", "Lyon",        "Marseille", "Bordeaux",
        "Lille", "Saint-Denis", "Ajaccio",   "Saint-Barth\xc3\xa9lemy",
};

void td_siren(uint32_t n, char out[10])
{
	snprintf(out, 10, "%08u", (n + 1) % 100000000u);
	out[8] = (char)('0' + ob_luhn_key(out, 8));
	out[9] = '\0';
}

void td_company_make(td_company *c, uint32_t n)
{
	memset(c, 0, sizeof(*c));
	td_siren(n, c->siren);
	/* Every third company gives its head office's SIRET: SIREN + NIC 0001x. */
	if (n % 3 == 0) {
		snprintf(c->siret, sizeof(c->siret), "%s0001", c->siren);
		c->siret[13] = (char)('0' + ob_luhn_key(c->siret, 13));
		c->siret[14] = '\0';
	}
	/* Every fifth, its VAT number: FR + (12 + 3 * (SIREN mod 97)) mod 97 + SIREN. */
	if (n % 5 == 0) {
		unsigned long siren = strtoul(c->siren, NULL, 10);
		snprintf(c->vat, sizeof(c->vat), "FR%02lu%s", (12 + 3 * (siren % 97)) % 97,
		         c->siren);
	}
	/* Those with a VAT number are SARLs; of the others, the small ones one in
	 * three a micro-entrepreneur (no balance sheet), the rest EIs. */
	c->legal_form = n % 5 == 0 ? 4 : n % 4 != 0 && n % 3 == 1 ? 2 : 1;
	snprintf(c->legal_name, sizeof(c->legal_name), "Boutique %u%s", n,
	         c->legal_form == 4 ? " SARL" : "");
	snprintf(c->naf, sizeof(c->naf), "47.91B");
	/* One in four is a PME (50 people), the rest TPE (3 people). */
	c->employees = n % 4 == 0 ? 50 : 3;
	c->turnover_eur = n % 4 == 0 ? 8000000 : 150000 + (int64_t)n;
	c->has_balance = c->legal_form != 2;
	c->balance_eur = !c->has_balance ? 0 : n % 4 == 0 ? 4000000 : 60000;
	snprintf(c->street, sizeof(c->street), "%u rue de la Roquette", n % 200 + 1);
	snprintf(c->postal_code, sizeof(c->postal_code), "%s", td_postal_codes[n % TD_N_PLACES]);
	snprintf(c->city, sizeof(c->city), "%s", td_cities[n % TD_N_PLACES]);
	snprintf(c->contact_name, sizeof(c->contact_name), "Camille Martin %u", n);
	snprintf(c->email, sizeof(c->email), "contact%u@boutique-%u.fr", n, n);
	snprintf(c->phone, sizeof(c->phone), "01 %02u %02u %02u %02u", n / 1000000 % 100,
	         n / 10000 % 100, n / 100 % 100, n % 100);
	c->channel = 1 + (int)(n % 3);
	c->exports = n % 2 == 1;
	c->categories[0] = "mode";
	c->categories[1] = "maison";
	c->n_categories = 1 + n % 2;
}

void td_company_for_siren(td_company *c, const char *siren)
{
	td_company_make(c, 1); /* a TPE; n = 1 gives neither SIRET nor VAT number */
	snprintf(c->siren, sizeof(c->siren), "%s", siren);
}
