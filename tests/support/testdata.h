/*
 * testdata.h: valid, varied French companies, for the domain's tests and for the tests that
 * submit through onboardd (testdata_pb.h makes a SubmitApplicationRequest of one).
 *
 * td_company_make(c, n) fills c with the n-th company of an endless,
 * deterministic series: every field passes validation, the SIREN is unique
 * per n (n < 100,000,000), and size, region, channel, export intent and legal
 * form vary with n so that the standing's counters have something to count
 * (a SARL gives its VAT number, a micro-entrepreneur no balance sheet). The
 * strings live inside the td_company, so a submission built from one borrows
 * from it and lives as long as it.
 *
 * Pure and thread-free; include from the unit tests (td_submission, which
 * needs the domain's headers) and from process tests (the fields only).
 */
#ifndef OB_TESTS_TESTDATA_H
#define OB_TESTS_TESTDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct td_company {
	char siren[10];
	char siret[15];
	char legal_name[64];
	char naf[8];
	char vat[16];
	int legal_form; /* onboard.v1.LegalForm: 4 SARL, 1 EI, 2 micro-entrepreneur */
	uint32_t employees;
	int64_t turnover_eur, balance_eur;
	bool has_balance; /* false: no balance sheet (balance_eur 0) */
	char street[64];
	char postal_code[6];
	char city[32];
	char contact_name[64];
	char email[64];
	char phone[24];
	int channel; /* 1..3 */
	bool exports;
	const char *categories[2];
	size_t n_categories;
} td_company;

/* The 9-digit SIREN of company n: the 8 digits of n + 1 and a Luhn key. */
void td_siren(uint32_t n, char out[10]);

void td_company_make(td_company *c, uint32_t n);

/* A valid company with the given SIREN (a Luhn-valid one), for a test that names its
 * companies: a TPE without SIRET or VAT number, which would derive from the SIREN. */
void td_company_for_siren(td_company *c, const char *siren);

/* Postal codes the series cycles through, real ones with a commune each serves
 * (td_cities), in regions and one outside any region (97133 Saint-Barthelemy,
 * whose applications count as region "unknown"). */
enum { TD_N_PLACES = 8 };
extern const char *const td_postal_codes[TD_N_PLACES];
extern const char *const td_cities[TD_N_PLACES];

#ifdef OB_DOMAIN_DOMAIN_H
/* Callers (domain.h, ob_caller), for the block they are written in: one who
 * sees every application, recorded in history as actor; TD_ALL, the same
 * named "test"; an applicant, who sees only what principal submitted. */
#define TD_AS(who_)     (&(const ob_caller){.actor = (who_)})
#define TD_ALL          TD_AS("test")
#define TD_APPLICANT(p) (&(const ob_caller){.principal = (p), .role = OB_CALLER_APPLICANT})
#define TD_APPLICANT_AS(p, who_)                                                                   \
	(&(const ob_caller){.principal = (p), .role = OB_CALLER_APPLICANT, .actor = (who_)})

/* A submission to cohort (NULL: the default) that borrows c's strings. */
static inline void td_submission(ob_submission *s, const td_company *c, const char *cohort)
{
	*s = (ob_submission){
	        .cohort_id = cohort,
	        .siren = c->siren,
	        .siret = c->siret,
	        .legal_name = c->legal_name,
	        .naf = c->naf,
	        .vat = c->vat,
	        .legal_form = c->legal_form,
	        .has_employees = true,
	        .has_turnover = true,
	        .has_balance = c->has_balance,
	        .employees = c->employees,
	        .turnover_eur = c->turnover_eur,
	        .balance_eur = c->balance_eur,
	        .street = c->street,
	        .postal_code = c->postal_code,
	        .city = c->city,
	        .contact_name = c->contact_name,
	        .email = c->email,
	        .phone = c->phone,
	        .channel = c->channel,
	        .exports = c->exports,
	        .categories = c->categories,
	        .n_categories = c->n_categories,
	        .accepts_terms = true,
	};
}

/* Submits company n (td_company_make) to cohort (NULL: the default) as TD_ALL and returns
 * ob_domain_submit's error. out (zeroed first, so that it can always be finished) gets the
 * application, or with out NULL it is freed here; msg (256 bytes), when not NULL, the
 * outcome's message. */
static inline ob_err td_submit(ob_domain *d, uint32_t n, const char *cohort, ob_application *out,
                               char *msg)
{
	td_company c;
	td_company_make(&c, n);
	ob_submission s;
	td_submission(&s, &c, cohort);
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application mine;
	ob_application *a = out != NULL ? out : &mine;
	memset(a, 0, sizeof(*a));
	ob_err err = ob_domain_submit(d, TD_ALL, &s, NULL, a, &o);
	if (msg != NULL)
		snprintf(msg, 256, "%s", o.message);
	if (out == NULL)
		ob_application_fini(&mine);
	ob_outcome_fini(&o);
	return err;
}
#endif

#endif
