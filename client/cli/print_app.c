/*
 * Applications for people (print.h): the summary of 'get', the one line of a
 * write, the rows of 'list'.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"
#include "words.h"

static bool holds_seat(int state)
{
	return state >= ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_SUBMITTED &&
	       state <= ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_ONBOARDED;
}

cli_parts cli_parts_of(const Onboard__V1__Application *a)
{
	static const Onboard__V1__Company no_company = ONBOARD__V1__COMPANY__INIT;
	static const Onboard__V1__Address no_address = ONBOARD__V1__ADDRESS__INIT;
	static const Onboard__V1__Contact no_contact = ONBOARD__V1__CONTACT__INIT;
	cli_parts p = {a->company != NULL ? a->company : &no_company, NULL,
	               a->contact != NULL ? a->contact : &no_contact};
	p.address = p.company->address != NULL ? p.company->address : &no_address;
	return p;
}

void cli_print_seat(const Onboard__V1__Application *a)
{
	if (a->state == ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED)
		printf("waitlist position %" PRIu32, a->waitlist_position);
	else if (holds_seat((int)a->state))
		fputs("seat held", stdout);
	else
		fputs("no seat", stdout);
}

void cli_print_benefits(const Onboard__V1__Benefits *b, const char *indent)
{
	char e1[48], e2[48], t[48];
	printf("fee waiver %s to %s: %" PRIu32 " month%s, %s waived\n", cli_nz(b->fee_waiver_from),
	       cli_nz(b->fee_waiver_until), b->fee_waiver_months,
	       b->fee_waiver_months == 1 ? "" : "s",
	       cli_euros(b->fee_waived_cents, e1, sizeof(e1)));
	printf("%sad credit %s (%s used", indent, cli_euros(b->ad_credit_cents, e1, sizeof(e1)),
	       cli_euros(b->ad_credit_used_cents, e2, sizeof(e2)));
	if (cli_nz(b->ad_credit_expires)[0] != '\0')
		printf(", %s left until %s", cli_euros(b->ad_credit_left_cents, e1, sizeof(e1)),
		       b->ad_credit_expires);
	puts(")");
	printf("%swebinar %s", indent,
	       cli_nz(b->webinar_at)[0] != '\0' ? cli_when(b->webinar_at, t, sizeof(t)) : "none");
	if (b->advisor != 0)
		printf(", advisor #%" PRIu32 "%s%s", b->advisor,
		       cli_nz(b->advisor_name)[0] != '\0' ? " " : "", cli_nz(b->advisor_name));
	putchar('\n');
	if (b->revoked)
		printf("%srevoked %s (what was not used yet)\n", indent,
		       cli_when(b->revoked_at, t, sizeof(t)));
	if (cli_nz(b->note)[0] != '\0')
		printf("%s(%s)\n", indent, b->note);
}

void cli_print_application(const Onboard__V1__Application *a)
{
	cli_parts parts = cli_parts_of(a);
	const Onboard__V1__Company *c = parts.company;
	const Onboard__V1__Address *ad = parts.address;
	const Onboard__V1__Contact *ct = parts.contact;
	char g1[32], g2[32], g3[32], t1[48], t2[48], w[CLI_WORD_MAX];

	printf(CLI_LABEL "%s\n", "Application", cli_nz(a->id));
	printf(CLI_LABEL "%s, version %" PRIu64 "\n", "Cohort", cli_nz(a->cohort_id), a->version);
	printf(CLI_LABEL "%s (", "State", cli_state_name((int)a->state));
	cli_print_seat(a);
	if (a->state == ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_REJECTED)
		printf("; reason: %s", cli_word_of(&cli_reasons, (int)a->rejection_reason, w));
	printf(")\n");
	printf(CLI_LABEL "%s", "Company", cli_nz(c->legal_name));
	if (c->legal_form != ONBOARD__V1__LEGAL_FORM__LEGAL_FORM_UNSPECIFIED)
		printf(", %s",
		       cli_value_name(&onboard__v1__legal_form__descriptor, (int)c->legal_form));
	if (cli_nz(c->trade_name)[0] != '\0')
		printf(" (trading as %s)", c->trade_name);
	printf("\n" CLI_INDENT "SIREN %s", cli_nz(c->siren));
	if (cli_nz(c->siret)[0] != '\0')
		printf(", SIRET %s", c->siret);
	if (cli_nz(c->vat_number)[0] != '\0')
		printf(", VAT %s", c->vat_number);
	printf(", NAF %s", cli_nz(c->naf_code));
	if (cli_nz(a->naf_label)[0] != '\0')
		printf(" (%s)", a->naf_label);
	putchar('\n');
	printf(CLI_LABEL "%s: %s employee%s, turnover %s EUR, ", "Size",
	       cli_size_name((int)a->size_category), cli_grouped(c->employees, g1, sizeof(g1)),
	       c->employees == 1 ? "" : "s", cli_grouped(c->turnover_eur, g2, sizeof(g2)));
	if (c->balance_sheet_given_case ==
	    ONBOARD__V1__COMPANY__BALANCE_SHEET_GIVEN_BALANCE_SHEET_EUR)
		printf("balance sheet %s EUR\n", cli_grouped(c->balance_sheet_eur, g3, sizeof(g3)));
	else
		printf("no balance sheet\n");
	printf(CLI_LABEL "%s, %s %s\n", "Address", cli_nz(ad->street), cli_nz(ad->postal_code),
	       cli_nz(ad->city));
	if (cli_nz(ad->departement)[0] != '\0')
		printf(CLI_LABEL "%s (departement %s)\n", "Region",
		       cli_nz(ad->region)[0] != '\0' ? ad->region : "no region", ad->departement);
	else
		printf(CLI_LABEL "unknown (postal code not mapped)\n", "Region");
	if (a->contact_erased)
		printf(CLI_LABEL "(erased %s)\n", "Contact", cli_nz(a->contact_erased_at));
	else
		printf(CLI_LABEL "%s <%s>, %s\n", "Contact", cli_nz(ct->name), cli_nz(ct->email),
		       cli_nz(ct->phone));
	printf(CLI_LABEL "%s; %s\n", "Channel", cli_word_of(&cli_channels, (int)a->channel, w),
	       a->intends_to_export ? "intends to export" : "no export");
	if (a->n_product_categories > 0) {
		printf(CLI_LABEL, "Categories");
		for (size_t i = 0; i < a->n_product_categories; i++)
			printf("%s%s", i > 0 ? ", " : "", a->product_categories[i]);
		putchar('\n');
	}
	printf(CLI_LABEL "%s, updated %s\n", "Submitted", cli_when(a->submitted_at, t1, sizeof(t1)),
	       cli_when(a->updated_at, t2, sizeof(t2)));
	if (cli_nz(a->terms_version)[0] != '\0')
		printf(CLI_LABEL "version %s, accepted %s\n", "Terms", a->terms_version,
		       cli_when(a->terms_accepted_at, t1, sizeof(t1)));
	if (cli_nz(a->onboarded_at)[0] != '\0')
		printf(CLI_LABEL "%s\n", "Live since", cli_when(a->onboarded_at, t1, sizeof(t1)));
	if (a->webinar != NULL) {
		char label[32];
		snprintf(label, sizeof(label), CLI_LABEL, "Webinar");
		cli_print_booking(a->webinar, label);
	}
	if (a->benefits != NULL) {
		printf(CLI_LABEL, "Benefits");
		cli_print_benefits(a->benefits, CLI_INDENT);
	}
	for (size_t i = 0; i < a->n_history; i++) {
		const Onboard__V1__StateChange *h = a->history[i];
		printf(CLI_LABEL "%s  %s -> %s  by %s", i == 0 ? "History" : "",
		       cli_when(h->at, t1, sizeof(t1)),
		       h->from == 0 ? "(new)" : cli_state_name((int)h->from),
		       cli_state_name((int)h->to), cli_nz(h->actor));
		if (cli_nz(h->reason)[0] != '\0')
			printf(": %s", h->reason);
		putchar('\n');
	}
}

void cli_print_booking(const Onboard__V1__WebinarBooking *b, const char *label)
{
	char t1[48], t2[48], w[CLI_WORD_MAX];
	if (b == NULL) {
		printf("%snone\n", label);
		return;
	}
	printf("%s%s, %s (booked %s", label, cli_when(b->session_at, t1, sizeof(t1)),
	       cli_word_of(&cli_topics, (int)b->topic, w), cli_when(b->booked_at, t2, sizeof(t2)));
	if (cli_nz(b->attended_recorded_at)[0] != '\0')
		printf("; %s", b->attended ? "attended" : "missed");
	puts(")");
}

void cli_print_outcome(const Onboard__V1__Application *a)
{
	printf("application %s: %s, ", cli_nz(a->id), cli_state_name((int)a->state));
	cli_print_seat(a);
	printf(" (version %" PRIu64 ")\n", a->version);
}

int cli_print_change(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c;
	const Onboard__V1__Application *app = (const Onboard__V1__Application *)reply;
	unsigned shows = a->cmd->shows;
	cli_print_outcome(app);
	if (shows & CLI_SHOWS_COMPANY) {
		const Onboard__V1__Company *co = app->company;
		printf("%s, SIREN %s, %s, cohort %s\n", co != NULL ? cli_nz(co->legal_name) : "",
		       co != NULL ? cli_nz(co->siren) : "", cli_size_name((int)app->size_category),
		       cli_nz(app->cohort_id));
	}
	if ((shows & CLI_SHOWS_BENEFITS) && app->benefits != NULL) {
		fputs("benefits: ", stdout);
		cli_print_benefits(app->benefits, "          ");
	}
	if (shows & CLI_SHOWS_BOOKING)
		cli_print_booking(app->webinar, "webinar: ");
	const Onboard__V1__Benefits *b = app->benefits;
	if ((shows & CLI_SHOWS_ADVISOR) && b != NULL && b->advisor != 0)
		printf("advisor: #%" PRIu32 " %s\n", b->advisor, cli_nz(b->advisor_name));
	return OB_EXIT_OK;
}

void cli_print_list_header(void)
{
	printf("%-26s  %-9s  %-30s  %-12s  %-4s  %-3s  %-16s  %s\n", "ID", "SIREN", "LEGAL NAME",
	       "STATE", "SIZE", "DEP", "SUBMITTED (UTC)", "NAF");
}

void cli_print_list_row(const Onboard__V1__Application *a)
{
	const Onboard__V1__Company *co = a->company;
	const Onboard__V1__Address *ad = co != NULL ? co->address : NULL;
	const char *s = cli_nz(a->submitted_at);
	char t[32];
	if (strlen(s) >= 16 && s[10] == 'T')
		snprintf(t, sizeof(t), "%.10s %.5s", s, s + 11);
	else
		snprintf(t, sizeof(t), "%s", s);
	printf("%-26s  %-9s  ", cli_nz(a->id), co != NULL ? cli_nz(co->siren) : "");
	cli_cell(co != NULL ? co->legal_name : "", 30, true);
	printf("  %-12s  %-4s  ", cli_state_name((int)a->state),
	       cli_size_name((int)a->size_category));
	cli_cell(ad != NULL ? ad->departement : "", 3, true);
	printf("  %-16s  %s ", t, co != NULL ? cli_nz(co->naf_code) : "");
	cli_cell(a->naf_label, 40, false);
	putchar('\n');
}
