/*
 * testdata_pb.h: a company of testdata.h as the SubmitApplicationRequest a client sends.
 *
 *     td_company c;
 *     td_company_make(&c, n);
 *     td_pb_submission s;
 *     td_pb_submission_make(&s, &c, NULL);
 *     ob_client_call_message(cl, SUBMIT, NULL, 0, &s.rq.base, ...);
 *
 * (ob_testsrv_submit in testsrv.h makes that call.)
 * The request's strings borrow from the td_company, and its messages point into the
 * td_pb_submission: both must outlive the call. Header only, so that the domain's tests,
 * which link no protobuf, can share testdata.c with the tests that do.
 */
#ifndef OB_TESTS_TESTDATA_PB_H
#define OB_TESTS_TESTDATA_PB_H

#include "onboard/v1/onboarding.pb-c.h"
#include "testdata.h"

typedef struct td_pb_submission {
	Onboard__V1__Address address;
	Onboard__V1__Company company;
	Onboard__V1__Contact contact;
	Onboard__V1__SubmitApplicationRequest rq;
} td_pb_submission;

/* Fills s with a request for c to cohort (NULL: the server's default), accepting the terms. */
static inline void td_pb_submission_make(td_pb_submission *s, const td_company *c,
                                         const char *cohort)
{
	s->address = (Onboard__V1__Address)ONBOARD__V1__ADDRESS__INIT;
	s->address.street = (char *)c->street;
	s->address.postal_code = (char *)c->postal_code;
	s->address.city = (char *)c->city;
	s->company = (Onboard__V1__Company)ONBOARD__V1__COMPANY__INIT;
	s->company.siren = (char *)c->siren;
	s->company.siret = (char *)c->siret;
	s->company.legal_name = (char *)c->legal_name;
	s->company.naf_code = (char *)c->naf;
	s->company.vat_number = (char *)c->vat;
	s->company.legal_form = (Onboard__V1__LegalForm)c->legal_form;
	/* Each figure is in a oneof of its own: set as given. */
	s->company.employees_given_case = ONBOARD__V1__COMPANY__EMPLOYEES_GIVEN_EMPLOYEES;
	s->company.employees = c->employees;
	s->company.turnover_given_case = ONBOARD__V1__COMPANY__TURNOVER_GIVEN_TURNOVER_EUR;
	s->company.turnover_eur = c->turnover_eur;
	if (c->has_balance) {
		s->company.balance_sheet_given_case =
		        ONBOARD__V1__COMPANY__BALANCE_SHEET_GIVEN_BALANCE_SHEET_EUR;
		s->company.balance_sheet_eur = c->balance_eur;
	}
	s->company.address = &s->address;
	s->contact = (Onboard__V1__Contact)ONBOARD__V1__CONTACT__INIT;
	s->contact.name = (char *)c->contact_name;
	s->contact.email = (char *)c->email;
	s->contact.phone = (char *)c->phone;
	s->rq = (Onboard__V1__SubmitApplicationRequest)
	        ONBOARD__V1__SUBMIT_APPLICATION_REQUEST__INIT;
	s->rq.cohort_id = (char *)(cohort != NULL ? cohort : "");
	s->rq.company = &s->company;
	s->rq.contact = &s->contact;
	s->rq.channel = (Onboard__V1__Channel)c->channel;
	s->rq.intends_to_export = c->exports;
	s->rq.n_product_categories = c->n_categories;
	s->rq.product_categories = (char **)c->categories;
	s->rq.accepts_terms = true;
}

/* Frees an Application a call returned; NULL does nothing. */
static inline void td_pb_app_free(Onboard__V1__Application *a)
{
	if (a != NULL)
		protobuf_c_message_free_unpacked(&a->base, NULL);
}

#endif
