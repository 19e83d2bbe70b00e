/*
 * The programme's commands: submit, get, list, review, withdraw, cohort,
 * import, export.
 *
 * Each command parses its flags with getopt_long, builds one request, calls
 * through cli_call() (which prints a refusal and its field violations and
 * turns it into the exit code 64 + status), and prints the reply for people,
 * or as proto3 JSON with --json. Enum values are typed as lowercase words
 * ("under-review", "webshop") and printed as the contract's names
 * ("UNDER_REVIEW") so that what people read matches the server's messages.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "csv.h"
#include "json_codec.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "values.h"
#include "words.h"

#define M_SUBMIT   "/onboard.v1.Onboarding/SubmitApplication"
#define M_GET      "/onboard.v1.Onboarding/GetApplication"
#define M_LIST     "/onboard.v1.Onboarding/ListApplications"
#define M_REVIEW   "/onboard.v1.Onboarding/ReviewApplication"
#define M_WITHDRAW "/onboard.v1.Onboarding/WithdrawApplication"
#define M_COHORT   "/onboard.v1.Onboarding/GetCohort"
#define M_COHORTS  "/onboard.v1.Onboarding/ListCohorts"
#define M_CREATE   "/onboard.v1.Onboarding/CreateCohort"
#define M_CAPACITY "/onboard.v1.Onboarding/SetCohortCapacity"

typedef Onboard__V1__Application app_t;

/* Long options of all commands; values above any character. */
enum {
	O_SIREN = 256,
	O_SIRET,
	O_LEGAL_NAME,
	O_TRADE_NAME,
	O_NAF,
	O_VAT,
	O_EMPLOYEES,
	O_TURNOVER,
	O_BALANCE,
	O_ADDRESS,
	O_POSTAL,
	O_CITY,
	O_CONTACT,
	O_EMAIL,
	O_PHONE,
	O_CHANNEL,
	O_EXPORT,
	O_CATEGORY,
	O_COHORT,
	O_ACCEPT,
	O_FILE,
	O_JSON,
	O_STATE,
	O_SIZE,
	O_DEPARTEMENT,
	O_REGION,
	O_AFTER,
	O_BEFORE,
	O_PAGE_SIZE,
	O_PAGE_TOKEN,
	O_ALL,
	O_REASON,
	O_NOTE,
	O_VERSION,
	O_LIST,
	O_CREATE,
	O_ID,
	O_NAME,
	O_CAPACITY,
	O_WINDOW_OPENS,
	O_WINDOW_CLOSES,
	O_ENFORCE_WINDOW,
	O_LOCKDOWN_START,
	O_LOCKDOWN_END,
	O_FEE_WAIVER_UNTIL,
	O_MONTHLY_FEE,
	O_AD_CREDIT,
	O_WEBINAR,
	O_WEBINAR_SEATS,
	O_ADVISORS,
	O_ELIGIBLE,
	O_QUIET,
	O_CRLF,
};

static const char *nz(const char *s)
{
	return s != NULL ? s : "";
}

static const char *state_name(int s)
{
	return cli_value_name(&onboard__v1__application_state__descriptor, s);
}

static const char *size_name(int s)
{
	return cli_value_name(&onboard__v1__size_category__descriptor, s);
}

static bool holds_seat(int state)
{
	return state >= ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_SUBMITTED &&
	       state <= ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_ONBOARDED;
}

/* A whole number of at most max, digits only. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	return cli_parse_u64(s, 0, max, out);
}

/* Yes/no words of a CSV cell. */
static bool parse_bool(const char *s, bool *out)
{
	int v;
	if (!cli_word_value(&cli_bools, s, &v))
		return false;
	*out = v != 0;
	return true;
}

/* ---- formatting ----------------------------------------------------- */

/* 1234567 -> "1 234 567". */
static const char *grouped(int64_t v, char *buf, size_t n)
{
	char digits[32];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int len = snprintf(digits, sizeof(digits), "%" PRIu64, u);
	size_t j = 0;
	if (v < 0 && j + 1 < n)
		buf[j++] = '-';
	for (int i = 0; i < len && j + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[j++] = ' ';
		buf[j++] = digits[i];
	}
	buf[j] = '\0';
	return buf;
}

/* Cents -> "1 234.56 EUR". */
static const char *euros(int64_t cents, char *buf, size_t n)
{
	char g[32];
	int64_t whole = cents / 100, frac = cents % 100;
	if (frac < 0)
		frac = -frac;
	snprintf(buf, n, "%s.%02" PRId64 " EUR", grouped(whole, g, sizeof(g)), frac);
	return buf;
}

/* "2020-11-02T09:00:00.000Z" -> "2020-11-02 09:00 UTC"; other text as it is. */
static const char *when(const char *rfc3339, char *buf, size_t n)
{
	const char *s = nz(rfc3339);
	if (strlen(s) >= 17 && s[10] == 'T' && s[strlen(s) - 1] == 'Z')
		snprintf(buf, n, "%.10s %.5s UTC", s, s + 11);
	else
		snprintf(buf, n, "%s", s[0] != '\0' ? s : "-");
	return buf;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Prints s in a column of width characters: cut with an ellipsis when
 * longer, padded with spaces (pad false: not padded, for the last column). */
static void cell(const char *s, size_t width, bool pad)
{
	s = nz(s);
	size_t chars = utf8_chars(s);
	if (chars <= width) {
		fputs(s, stdout);
		for (; pad && chars < width; chars++)
			putchar(' ');
		return;
	}
	size_t keep = width > 0 ? width - 1 : 0, seen = 0, i = 0;
	for (; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (seen == keep)
				break;
			seen++;
		}
	}
	fwrite(s, 1, i, stdout);
	if (width > 0)
		fputs("\xe2\x80\xa6", stdout); /* U+2026 */
}

static void print_seat(const app_t *a)
{
	if (a->state == ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED)
		printf("waitlist position %" PRIu32, a->waitlist_position);
	else if (holds_seat((int)a->state))
		fputs("seat held", stdout);
	else
		fputs("no seat", stdout);
}

static void print_benefits(const Onboard__V1__Benefits *b, const char *indent)
{
	char e1[48], e2[48], t[48];
	printf("fee waiver %s to %s: %" PRIu32 " month%s, %s waived\n", nz(b->fee_waiver_from),
	       nz(b->fee_waiver_until), b->fee_waiver_months, b->fee_waiver_months == 1 ? "" : "s",
	       euros(b->fee_waived_cents, e1, sizeof(e1)));
	printf("%sad credit %s (%s used)\n", indent, euros(b->ad_credit_cents, e1, sizeof(e1)),
	       euros(b->ad_credit_used_cents, e2, sizeof(e2)));
	printf("%swebinar %s", indent,
	       nz(b->webinar_at)[0] != '\0' ? when(b->webinar_at, t, sizeof(t)) : "none");
	if (b->advisor != 0)
		printf(", advisor #%" PRIu32, b->advisor);
	putchar('\n');
	if (b->revoked)
		printf("%srevoked %s (what was not used yet)\n", indent,
		       when(b->revoked_at, t, sizeof(t)));
}

#define LABEL  "%-13s"
#define INDENT "             "

/* The readable summary of an application, for 'get'. */
static void print_application(const app_t *a)
{
	static const Onboard__V1__Company no_company = ONBOARD__V1__COMPANY__INIT;
	static const Onboard__V1__Address no_address = ONBOARD__V1__ADDRESS__INIT;
	static const Onboard__V1__Contact no_contact = ONBOARD__V1__CONTACT__INIT;
	const Onboard__V1__Company *c = a->company != NULL ? a->company : &no_company;
	const Onboard__V1__Address *ad = c->address != NULL ? c->address : &no_address;
	const Onboard__V1__Contact *ct = a->contact != NULL ? a->contact : &no_contact;
	char g1[32], g2[32], g3[32], t1[48], t2[48], w[CLI_WORD_MAX];

	printf(LABEL "%s\n", "Application", nz(a->id));
	printf(LABEL "%s, version %" PRIu64 "\n", "Cohort", nz(a->cohort_id), a->version);
	printf(LABEL "%s (", "State", state_name((int)a->state));
	print_seat(a);
	if (a->state == ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_REJECTED)
		printf("; reason: %s", cli_word_of(&cli_reasons, (int)a->rejection_reason, w));
	printf(")\n");
	printf(LABEL "%s", "Company", nz(c->legal_name));
	if (nz(c->trade_name)[0] != '\0')
		printf(" (trading as %s)", c->trade_name);
	printf("\n" INDENT "SIREN %s", nz(c->siren));
	if (nz(c->siret)[0] != '\0')
		printf(", SIRET %s", c->siret);
	if (nz(c->vat_number)[0] != '\0')
		printf(", VAT %s", c->vat_number);
	printf(", NAF %s\n", nz(c->naf_code));
	printf(LABEL "%s: %s employee%s, turnover %s EUR, balance sheet %s EUR\n", "Size",
	       size_name((int)a->size_category), grouped(c->employees, g1, sizeof(g1)),
	       c->employees == 1 ? "" : "s", grouped(c->turnover_eur, g2, sizeof(g2)),
	       grouped(c->balance_sheet_eur, g3, sizeof(g3)));
	printf(LABEL "%s, %s %s\n", "Address", nz(ad->street), nz(ad->postal_code), nz(ad->city));
	if (nz(ad->departement)[0] != '\0')
		printf(LABEL "%s (departement %s)\n", "Region",
		       nz(ad->region)[0] != '\0' ? ad->region : "no region", ad->departement);
	else
		printf(LABEL "unknown (postal code not mapped)\n", "Region");
	if (a->contact_erased)
		printf(LABEL "(erased %s)\n", "Contact", nz(a->contact_erased_at));
	else
		printf(LABEL "%s <%s>, %s\n", "Contact", nz(ct->name), nz(ct->email),
		       nz(ct->phone));
	printf(LABEL "%s; %s\n", "Channel", cli_word_of(&cli_channels, (int)a->channel, w),
	       a->intends_to_export ? "intends to export" : "no export");
	if (a->n_product_categories > 0) {
		printf(LABEL, "Categories");
		for (size_t i = 0; i < a->n_product_categories; i++)
			printf("%s%s", i > 0 ? ", " : "", a->product_categories[i]);
		putchar('\n');
	}
	printf(LABEL "%s, updated %s\n", "Submitted", when(a->submitted_at, t1, sizeof(t1)),
	       when(a->updated_at, t2, sizeof(t2)));
	if (a->benefits != NULL) {
		printf(LABEL, "Benefits");
		print_benefits(a->benefits, INDENT);
	}
	for (size_t i = 0; i < a->n_history; i++) {
		const Onboard__V1__StateChange *h = a->history[i];
		printf(LABEL "%s  %s -> %s  by %s", i == 0 ? "History" : "",
		       when(h->at, t1, sizeof(t1)),
		       h->from == 0 ? "(new)" : state_name((int)h->from), state_name((int)h->to),
		       nz(h->actor));
		if (nz(h->reason)[0] != '\0')
			printf(": %s", h->reason);
		putchar('\n');
	}
}

/* The one line of a write's result: "application ID: STATE, seat held". */
static void print_outcome(const app_t *a)
{
	printf("application %s: %s, ", nz(a->id), state_name((int)a->state));
	print_seat(a);
	printf(" (version %" PRIu64 ")\n", a->version);
}

/* ---- submit --------------------------------------------------------- */

enum { CATEGORIES_MAX = 32 };

/* A SubmitApplicationRequest on caller memory; its strings are borrowed. */
typedef struct submit_req {
	Onboard__V1__SubmitApplicationRequest rq;
	Onboard__V1__Company company;
	Onboard__V1__Address address;
	Onboard__V1__Contact contact;
	char *categories[CATEGORIES_MAX];
} submit_req;

static void submit_req_init(submit_req *s)
{
	onboard__v1__submit_application_request__init(&s->rq);
	onboard__v1__company__init(&s->company);
	onboard__v1__address__init(&s->address);
	onboard__v1__contact__init(&s->contact);
	s->company.address = &s->address;
	s->rq.company = &s->company;
	s->rq.contact = &s->contact;
	s->rq.product_categories = s->categories;
}

static const char submit_help[] =
        "Usage: onboard submit FLAGS...\n"
        "       onboard submit --file APP.json [--cohort ID] [--accept-terms]\n"
        "Applies for a seat in a cohort on behalf of a company: it gets a seat\n"
        "(SUBMITTED) while the cohort has free ones, else joins the waitlist\n"
        "(WAITLISTED). One application per SIREN and cohort.\n"
        "\n"
        "Company:\n"
        "      --siren N           9 digits with their check digit (required)\n"
        "      --siret N           14 digits starting with the SIREN\n"
        "      --legal-name TEXT   (required)\n"
        "      --trade-name TEXT\n"
        "      --naf CODE          activity code such as 47.91B (required)\n"
        "      --vat NUMBER        intra-EU VAT number: FR, its key, the SIREN\n"
        "      --employees N       headcount\n"
        "      --turnover-eur N    annual turnover, whole euros\n"
        "      --balance-eur N     balance-sheet total, whole euros\n"
        "                          (these three decide the size: TPE and PME are eligible)\n"
        "      --address TEXT      street (required)\n"
        "      --postal-code N     5 digits (required)\n"
        "      --city TEXT         (required)\n"
        "Contact person (personal data):\n"
        "      --contact-name TEXT (required)\n"
        "      --email ADDRESS     (required)\n"
        "      --phone NUMBER      any French format, e.g. 01 23 45 67 89 (required)\n"
        "Programme:\n"
        "      --channel C         marketplace, webshop or both (required)\n"
        "      --export            the company intends to sell abroad\n"
        "      --category C        a product category (repeatable, at most 10)\n"
        "      --cohort ID         the cohort (default: the server's default, 2020-11)\n"
        "      --accept-terms      the company accepts the programme's terms: the server\n"
        "                          refuses an application without this acceptance\n"
        "      --file APP.json     the whole request instead, a SubmitApplicationRequest\n"
        "                          in the proto3 JSON mapping ('-': stdin); only --cohort\n"
        "                          and --accept-terms may be added to it\n"
        "      --json              print the Application as proto3 JSON\n"
        "\n"
        "Prints the application's id, its state and 'seat held' or 'waitlist\n"
        "position N'. Exit status: 0 submitted or waitlisted; 67 INVALID_ARGUMENT\n"
        "(each invalid field is printed on its own line, terms not accepted\n"
        "included); 69 NOT_FOUND (no such cohort); 70 ALREADY_EXISTS (the SIREN\n"
        "already applied to the cohort); 73 FAILED_PRECONDITION (size not\n"
        "eligible, submission window closed).\n";

static int cmd_submit(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(submit_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        {"siren", required_argument, NULL, O_SIREN},
	        {"siret", required_argument, NULL, O_SIRET},
	        {"legal-name", required_argument, NULL, O_LEGAL_NAME},
	        {"trade-name", required_argument, NULL, O_TRADE_NAME},
	        {"naf", required_argument, NULL, O_NAF},
	        {"vat", required_argument, NULL, O_VAT},
	        {"employees", required_argument, NULL, O_EMPLOYEES},
	        {"turnover-eur", required_argument, NULL, O_TURNOVER},
	        {"balance-eur", required_argument, NULL, O_BALANCE},
	        {"address", required_argument, NULL, O_ADDRESS},
	        {"postal-code", required_argument, NULL, O_POSTAL},
	        {"city", required_argument, NULL, O_CITY},
	        {"contact-name", required_argument, NULL, O_CONTACT},
	        {"email", required_argument, NULL, O_EMAIL},
	        {"phone", required_argument, NULL, O_PHONE},
	        {"channel", required_argument, NULL, O_CHANNEL},
	        {"export", no_argument, NULL, O_EXPORT},
	        {"category", required_argument, NULL, O_CATEGORY},
	        {"cohort", required_argument, NULL, O_COHORT},
	        {"accept-terms", no_argument, NULL, O_ACCEPT},
	        {"file", required_argument, NULL, O_FILE},
	        {"json", no_argument, NULL, O_JSON},
	        {NULL, 0, NULL, 0},
	};
	submit_req s;
	submit_req_init(&s);
	const char *file = NULL, *cohort = NULL;
	bool accept = false;
	size_t fields = 0; /* flags that fill the request, which --file excludes */
	uint64_t u;
	char words[128];
	int ch, v;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		fields++;
		switch (ch) {
		case O_SIREN:
			s.company.siren = optarg;
			break;
		case O_SIRET:
			s.company.siret = optarg;
			break;
		case O_LEGAL_NAME:
			s.company.legal_name = optarg;
			break;
		case O_TRADE_NAME:
			s.company.trade_name = optarg;
			break;
		case O_NAF:
			s.company.naf_code = optarg;
			break;
		case O_VAT:
			s.company.vat_number = optarg;
			break;
		case O_EMPLOYEES:
			if (!parse_u64(optarg, UINT32_MAX, &u))
				return cli_usage_error("submit",
				                       "--employees needs a whole number");
			s.company.employees = (uint32_t)u;
			break;
		case O_TURNOVER:
		case O_BALANCE:
			if (!parse_u64(optarg, INT64_MAX, &u))
				return cli_usage_error("submit", "%s needs a whole number of euros",
				                       ch == O_TURNOVER ? "--turnover-eur"
				                                        : "--balance-eur");
			*(ch == O_TURNOVER ? &s.company.turnover_eur
			                   : &s.company.balance_sheet_eur) = (int64_t)u;
			break;
		case O_ADDRESS:
			s.address.street = optarg;
			break;
		case O_POSTAL:
			s.address.postal_code = optarg;
			break;
		case O_CITY:
			s.address.city = optarg;
			break;
		case O_CONTACT:
			s.contact.name = optarg;
			break;
		case O_EMAIL:
			s.contact.email = optarg;
			break;
		case O_PHONE:
			s.contact.phone = optarg;
			break;
		case O_CHANNEL:
			if (!cli_word_value(&cli_channels, optarg, &v))
				return cli_usage_error(
				        "submit", "--channel is %s, not '%s'",
				        cli_word_list(&cli_channels, words, sizeof(words)), optarg);
			s.rq.channel = (Onboard__V1__Channel)v;
			break;
		case O_EXPORT:
			s.rq.intends_to_export = true;
			break;
		case O_CATEGORY:
			if (s.rq.n_product_categories == CATEGORIES_MAX)
				return cli_usage_error("submit", "at most %d --category",
				                       CATEGORIES_MAX);
			s.categories[s.rq.n_product_categories++] = optarg;
			break;
		case O_COHORT:
			fields--;
			cohort = optarg;
			break;
		case O_ACCEPT:
			fields--;
			accept = true;
			break;
		case O_FILE:
			fields--;
			file = optarg;
			break;
		case O_JSON:
			fields--;
			c->json = true;
			break;
		default:
			return cli_bad_option("submit", ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("submit", "takes flags only, not '%s'", argv[optind]);
	if (file != NULL && fields > 0)
		return cli_usage_error("submit",
		                       "--file takes the whole request: add only --cohort "
		                       "or --accept-terms to it");
	if (file == NULL && fields == 0)
		return cli_usage_error("submit", "give the application with flags or --file");

	Onboard__V1__SubmitApplicationRequest *rq = &s.rq, *parsed = NULL;
	char *saved_cohort = NULL;
	if (file != NULL) {
		size_t len;
		char *text = cli_read_file(file, &len);
		if (text == NULL) {
			fprintf(stderr, "onboard submit: cannot read %s: %s\n", file,
			        strerror(errno));
			return OB_EXIT_LOCAL;
		}
		char err[512];
		parsed = (Onboard__V1__SubmitApplicationRequest *)ob_json_parse_message(
		        text, len, &onboard__v1__submit_application_request__descriptor, err,
		        sizeof(err));
		free(text);
		if (parsed == NULL) {
			fprintf(stderr,
			        "onboard submit: %s is not a SubmitApplicationRequest in JSON: "
			        "%s\n",
			        file, err);
			return OB_EXIT_USAGE;
		}
		rq = parsed;
		saved_cohort = rq->cohort_id; /* put back before freeing */
	}
	if (cohort != NULL)
		rq->cohort_id = (char *)cohort;
	if (accept)
		rq->accepts_terms = true;

	app_t *a = NULL;
	int rc = cli_call(c, M_SUBMIT, &rq->base, &onboard__v1__application__descriptor,
	                  (ProtobufCMessage **)&a);
	if (parsed != NULL) {
		parsed->cohort_id = saved_cohort;
		protobuf_c_message_free_unpacked(&parsed->base, NULL);
	}
	if (rc == OB_EXIT_OK) {
		if (c->json) {
			rc = cli_print_json(&a->base);
		} else {
			print_outcome(a);
			printf("%s, SIREN %s, %s, cohort %s\n",
			       a->company != NULL ? nz(a->company->legal_name) : "",
			       a->company != NULL ? nz(a->company->siren) : "",
			       size_name((int)a->size_category), nz(a->cohort_id));
		}
		protobuf_c_message_free_unpacked(&a->base, NULL);
	} else if (rc == OB_EXIT_STATUS + OB_CODE_INVALID_ARGUMENT && !accept && file == NULL) {
		fprintf(stderr, "onboard submit: (without --accept-terms: add it once the company "
		                "has accepted the programme's terms)\n");
	}
	return rc;
}

/* ---- get ------------------------------------------------------------ */

static const char get_help[] =
        "Usage: onboard get ID\n"
        "       onboard get --siren SIREN [--cohort ID]\n"
        "Shows an application: company, size, region, state, version, benefits once\n"
        "approved, and the history of its states. By SIREN, in the default cohort\n"
        "unless --cohort. --json prints the Application as proto3 JSON.\n"
        "Exit status: 0 found, 69 NOT_FOUND, 67 not an id or not a SIREN.\n";

/* Reads application id into *out (caller frees); returns an exit status. */
static int get_app(cli *c, const char *id, app_t **out)
{
	Onboard__V1__GetApplicationRequest rq = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
	rq.id = (char *)id;
	return cli_call(c, M_GET, &rq.base, &onboard__v1__application__descriptor,
	                (ProtobufCMessage **)out);
}

static int cmd_get(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(get_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        {"siren", required_argument, NULL, O_SIREN},
	        {"cohort", required_argument, NULL, O_COHORT},
	        {"json", no_argument, NULL, O_JSON},
	        {NULL, 0, NULL, 0},
	};
	Onboard__V1__GetApplicationRequest rq = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
	int ch;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == O_SIREN)
			rq.siren = optarg;
		else if (ch == O_COHORT)
			rq.cohort_id = optarg;
		else if (ch == O_JSON)
			c->json = true;
		else
			return cli_bad_option("get", ch, argv);
	}
	int rest = argc - optind;
	if (rq.siren[0] != '\0' ? rest != 0 : rest != 1)
		return cli_usage_error("get", "give an application ID or --siren SIREN");
	if (rest == 1 && rq.cohort_id[0] != '\0')
		return cli_usage_error("get", "--cohort goes with --siren (an ID is unique)");
	if (rest == 1)
		rq.id = argv[optind];
	app_t *a = NULL;
	int rc = cli_call(c, M_GET, &rq.base, &onboard__v1__application__descriptor,
	                  (ProtobufCMessage **)&a);
	if (rc != OB_EXIT_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(&a->base);
	else
		print_application(a);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	return rc;
}

/* ---- list ----------------------------------------------------------- */

enum { MAX_STATES = 16, MAX_PAGE_SIZE = 500 };

typedef struct list_req {
	Onboard__V1__ListApplicationsRequest rq;
	Onboard__V1__ApplicationState states[MAX_STATES];
} list_req;

static void list_req_init(list_req *l)
{
	onboard__v1__list_applications_request__init(&l->rq);
	l->rq.states = l->states;
}

#define FILTER_OPTIONS                                                                             \
	{"cohort", required_argument, NULL, O_COHORT},                                             \
	        {"state", required_argument, NULL, O_STATE},                                       \
	        {"size", required_argument, NULL, O_SIZE},                                         \
	        {"departement", required_argument, NULL, O_DEPARTEMENT},                           \
	        {"region", required_argument, NULL, O_REGION},                                     \
	        {"channel", required_argument, NULL, O_CHANNEL},                                   \
	        {"after", required_argument, NULL, O_AFTER},                                       \
	{                                                                                          \
		"before", required_argument, NULL, O_BEFORE                                        \
	}

#define FILTER_HELP                                                                                \
	"      --cohort ID         one cohort (default: every cohort)\n"                           \
	"      --state S           waitlisted, submitted, under-review, needs-info,\n"             \
	"                          approved, onboarded, rejected or withdrawn\n"                   \
	"                          (repeatable, or comma-separated: any of them)\n"                \
	"      --size S            tpe, pme, eti or ge\n"                                          \
	"      --departement D     e.g. 75, 2A, 971\n"                                             \
	"      --region NAME       e.g. Bretagne (as 'onboard cohort' shows them)\n"               \
	"      --channel C         marketplace, webshop or both\n"                                 \
	"      --after TIME        submitted at or after TIME (RFC 3339 or YYYY-MM-DD)\n"          \
	"      --before TIME       submitted before TIME\n"

/* Takes one filter flag into l. Returns 0, a usage exit status, or -1 when
 * ch is not a filter flag. */
static int filter_option(const char *cmd, int ch, const char *arg, list_req *l)
{
	char words[160];
	int v;
	switch (ch) {
	case O_COHORT:
		l->rq.cohort_id = (char *)arg;
		return 0;
	case O_STATE: {
		char buf[256];
		snprintf(buf, sizeof(buf), "%s", arg);
		char *save = NULL;
		for (char *t = strtok_r(buf, ", ", &save); t != NULL;
		     t = strtok_r(NULL, ", ", &save)) {
			if (!cli_word_value(&cli_states, t, &v))
				return cli_usage_error(
				        cmd, "--state is %s, not '%s'",
				        cli_word_list(&cli_states, words, sizeof(words)), t);
			if (l->rq.n_states == MAX_STATES)
				return cli_usage_error(cmd, "too many --state");
			l->states[l->rq.n_states++] = (Onboard__V1__ApplicationState)v;
		}
		return 0;
	}
	case O_SIZE:
		if (!cli_word_value(&cli_sizes, arg, &v))
			return cli_usage_error(cmd, "--size is %s, not '%s'",
			                       cli_word_list(&cli_sizes, words, sizeof(words)),
			                       arg);
		l->rq.size_category = (Onboard__V1__SizeCategory)v;
		return 0;
	case O_DEPARTEMENT:
		l->rq.departement = (char *)arg;
		return 0;
	case O_REGION:
		l->rq.region = (char *)arg;
		return 0;
	case O_CHANNEL:
		if (!cli_word_value(&cli_channels, arg, &v))
			return cli_usage_error(cmd, "--channel is %s, not '%s'",
			                       cli_word_list(&cli_channels, words, sizeof(words)),
			                       arg);
		l->rq.channel = (Onboard__V1__Channel)v;
		return 0;
	case O_AFTER:
		l->rq.submitted_after = (char *)arg;
		return 0;
	case O_BEFORE:
		l->rq.submitted_before = (char *)arg;
		return 0;
	default:
		return -1;
	}
}

static const char list_help[] =
        "Usage: onboard list [FILTERS] [--page-size N] [--page-token T | --all]\n"
        "Lists applications in the order they were submitted, one page at a time:\n"
        "id, SIREN, legal name, state, size, departement, submission time (UTC).\n"
        "When more follow, the last line gives the token of the next page.\n"
        "\n" FILTER_HELP
        "      --page-size N       1 to 500 (default: the server's, 50; 500 with --all)\n"
        "      --page-token T      the page after the one that gave T (same filters)\n"
        "      --all               follow the pages to the end\n"
        "      --json              the ListApplicationsResponse as proto3 JSON; with\n"
        "                          --all, one response holding the applications of\n"
        "                          every page and no next_page_token\n";

static void list_header(void)
{
	printf("%-26s  %-9s  %-30s  %-12s  %-4s  %-3s  %s\n", "ID", "SIREN", "LEGAL NAME", "STATE",
	       "SIZE", "DEP", "SUBMITTED (UTC)");
}

static void list_row(const app_t *a)
{
	const Onboard__V1__Company *co = a->company;
	const Onboard__V1__Address *ad = co != NULL ? co->address : NULL;
	const char *s = nz(a->submitted_at);
	char t[32];
	if (strlen(s) >= 16 && s[10] == 'T')
		snprintf(t, sizeof(t), "%.10s %.5s", s, s + 11);
	else
		snprintf(t, sizeof(t), "%s", s);
	printf("%-26s  %-9s  ", nz(a->id), co != NULL ? nz(co->siren) : "");
	cell(co != NULL ? co->legal_name : "", 30, true);
	printf("  %-12s  %-4s  ", state_name((int)a->state), size_name((int)a->size_category));
	cell(ad != NULL ? ad->departement : "", 3, true);
	printf("  %s\n", t);
}

static int cmd_list(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(list_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        FILTER_OPTIONS,
	        {"page-size", required_argument, NULL, O_PAGE_SIZE},
	        {"page-token", required_argument, NULL, O_PAGE_TOKEN},
	        {"all", no_argument, NULL, O_ALL},
	        {"json", no_argument, NULL, O_JSON},
	        {NULL, 0, NULL, 0},
	};
	list_req l;
	list_req_init(&l);
	bool all = false;
	uint64_t u;
	int ch, rc;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if ((rc = filter_option("list", ch, optarg, &l)) >= 0) {
			if (rc != 0)
				return rc;
		} else if (ch == O_PAGE_SIZE) {
			if (!parse_u64(optarg, MAX_PAGE_SIZE, &u) || u == 0)
				return cli_usage_error("list", "--page-size is 1 to %d",
				                       MAX_PAGE_SIZE);
			l.rq.page_size = (uint32_t)u;
		} else if (ch == O_PAGE_TOKEN) {
			l.rq.page_token = optarg;
		} else if (ch == O_ALL) {
			all = true;
		} else if (ch == O_JSON) {
			c->json = true;
		} else {
			return cli_bad_option("list", ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("list", "takes flags only, not '%s'", argv[optind]);
	if (all && l.rq.page_size == 0)
		l.rq.page_size = MAX_PAGE_SIZE;

	Onboard__V1__ListApplicationsResponse **kept = NULL; /* --json --all */
	size_t n_kept = 0, total = 0;
	char *token = NULL;
	for (;;) {
		Onboard__V1__ListApplicationsResponse *rs = NULL;
		rc = cli_call(c, M_LIST, &l.rq.base,
		              &onboard__v1__list_applications_response__descriptor,
		              (ProtobufCMessage **)&rs);
		if (rc != OB_EXIT_OK)
			break;
		const char *next = nz(rs->next_page_token);
		bool last = !all || next[0] == '\0';
		if (c->json && all) {
			Onboard__V1__ListApplicationsResponse **g =
			        realloc(kept, (n_kept + 1) * sizeof(*kept));
			if (g == NULL) {
				protobuf_c_message_free_unpacked(&rs->base, NULL);
				fprintf(stderr, "onboard list: out of memory\n");
				rc = OB_EXIT_LOCAL;
				break;
			}
			kept = g;
			kept[n_kept++] = rs;
		} else if (c->json) {
			rc = cli_print_json(&rs->base);
		} else {
			if (total == 0 && rs->n_applications > 0)
				list_header();
			for (size_t i = 0; i < rs->n_applications; i++)
				list_row(rs->applications[i]);
			if (last && next[0] != '\0')
				printf("next page: --page-token %s\n", next);
		}
		total += rs->n_applications;
		if (!last) {
			free(token);
			if ((token = strdup(next)) == NULL) {
				fprintf(stderr, "onboard list: out of memory\n");
				rc = OB_EXIT_LOCAL;
			}
			l.rq.page_token = token;
		}
		if (!(c->json && all))
			protobuf_c_message_free_unpacked(&rs->base, NULL);
		if (last || rc != OB_EXIT_OK)
			break;
	}
	free(token);
	if (rc == OB_EXIT_OK && c->json && all) {
		/* One response holding every page's applications, borrowed. */
		Onboard__V1__ListApplicationsResponse merged =
		        ONBOARD__V1__LIST_APPLICATIONS_RESPONSE__INIT;
		merged.applications = malloc((total > 0 ? total : 1) * sizeof(app_t *));
		if (merged.applications == NULL) {
			fprintf(stderr, "onboard list: out of memory\n");
			rc = OB_EXIT_LOCAL;
		} else {
			for (size_t p = 0; p < n_kept; p++)
				for (size_t i = 0; i < kept[p]->n_applications; i++)
					merged.applications[merged.n_applications++] =
					        kept[p]->applications[i];
			rc = cli_print_json(&merged.base);
			free(merged.applications);
		}
	} else if (rc == OB_EXIT_OK && !c->json && total == 0) {
		printf("no applications\n");
	} else if (rc == OB_EXIT_OK && !c->json && all) {
		printf("%zu application%s\n", total, total == 1 ? "" : "s");
	}
	for (size_t p = 0; p < n_kept; p++)
		protobuf_c_message_free_unpacked(&kept[p]->base, NULL);
	free(kept);
	return rc;
}

/* ---- review and withdraw -------------------------------------------- */

static const char review_help[] =
        "Usage: onboard review ID ACTION [--reason CODE] [--note TEXT] [--version N]\n"
        "Moves an application through review. ACTION:\n"
        "  start         SUBMITTED or NEEDS_INFO -> UNDER_REVIEW\n"
        "  request-info  UNDER_REVIEW -> NEEDS_INFO\n"
        "  approve       UNDER_REVIEW -> APPROVED, and grants the benefits\n"
        "  reject        SUBMITTED, UNDER_REVIEW or NEEDS_INFO -> REJECTED; needs --reason\n"
        "  onboard       APPROVED -> ONBOARDED (the company is live)\n"
        "\n"
        "      --reason CODE  for reject: ineligible, incomplete, duplicate,\n"
        "                     out-of-scope, fraud or other\n"
        "      --note TEXT    kept in the application's history\n"
        "      --version N    the version you reviewed ('onboard get' shows it): if\n"
        "                     someone changed the application since, the server\n"
        "                     refuses (exit 74) and you read it again. Without\n"
        "                     --version the CLI first reads the current version and\n"
        "                     sends that: the stale-version check is then given up.\n"
        "      --json         print the Application as proto3 JSON\n"
        "\n"
        "Prints the new state, and the benefits after approve. Exit status: 0 done;\n"
        "73 FAILED_PRECONDITION (the action is not allowed from the current state);\n"
        "74 ABORTED (stale --version); 69 NOT_FOUND.\n";

static int cmd_review(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(review_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        {"reason", required_argument, NULL, O_REASON},
	        {"note", required_argument, NULL, O_NOTE},
	        {"version", required_argument, NULL, O_VERSION},
	        {"json", no_argument, NULL, O_JSON},
	        {NULL, 0, NULL, 0},
	};
	Onboard__V1__ReviewApplicationRequest rq = ONBOARD__V1__REVIEW_APPLICATION_REQUEST__INIT;
	char words[160];
	uint64_t u;
	int ch, v;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case O_REASON:
			if (!cli_word_value(&cli_reasons, optarg, &v))
				return cli_usage_error(
				        "review", "--reason is %s, not '%s'",
				        cli_word_list(&cli_reasons, words, sizeof(words)), optarg);
			rq.rejection_reason = (Onboard__V1__RejectionReason)v;
			break;
		case O_NOTE:
			rq.note = optarg;
			break;
		case O_VERSION:
			if (!parse_u64(optarg, UINT64_MAX, &u) || u == 0)
				return cli_usage_error("review", "--version needs a version number "
				                                 "('onboard get ID' shows it)");
			rq.expected_version = u;
			break;
		case O_JSON:
			c->json = true;
			break;
		default:
			return cli_bad_option("review", ch, argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("review", "needs an application ID and an ACTION");
	rq.id = argv[optind];
	if (!cli_word_value(&cli_actions, argv[optind + 1], &v))
		return cli_usage_error("review", "ACTION is %s, not '%s'",
		                       cli_word_list(&cli_actions, words, sizeof(words)),
		                       argv[optind + 1]);
	rq.action = (Onboard__V1__ReviewAction)v;
	bool reject = rq.action == ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_REJECT;
	if (reject && rq.rejection_reason == 0)
		return cli_usage_error("review", "reject needs --reason: %s",
		                       cli_word_list(&cli_reasons, words, sizeof(words)));
	if (!reject && rq.rejection_reason != 0)
		return cli_usage_error("review", "--reason goes with reject only");

	int rc;
	if (rq.expected_version == 0) {
		app_t *cur = NULL;
		if ((rc = get_app(c, rq.id, &cur)) != OB_EXIT_OK)
			return rc;
		rq.expected_version = cur->version;
		protobuf_c_message_free_unpacked(&cur->base, NULL);
	}
	app_t *a = NULL;
	rc = cli_call(c, M_REVIEW, &rq.base, &onboard__v1__application__descriptor,
	              (ProtobufCMessage **)&a);
	if (rc != OB_EXIT_OK)
		return rc;
	if (c->json) {
		rc = cli_print_json(&a->base);
	} else {
		print_outcome(a);
		if (reject)
			printf("reason: %s\n",
			       cli_word_of(&cli_reasons, (int)a->rejection_reason, words));
		if (a->benefits != NULL &&
		    rq.action == ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_APPROVE) {
			fputs("benefits: ", stdout);
			print_benefits(a->benefits, "          ");
		}
	}
	protobuf_c_message_free_unpacked(&a->base, NULL);
	return rc;
}

static const char withdraw_help[] =
        "Usage: onboard withdraw ID [--reason TEXT] [--version N]\n"
        "The company leaves the programme: its seat goes to the next in the\n"
        "waitlist, and the benefits it has not used yet are revoked.\n"
        "      --reason TEXT  kept in the application's history\n"
        "      --version N    refuse (exit 74) if the application changed since\n"
        "                     version N; without it, whatever the version\n"
        "      --json         print the Application as proto3 JSON\n"
        "Exit status: 0 withdrawn; 73 FAILED_PRECONDITION (already rejected or\n"
        "withdrawn); 74 ABORTED (stale --version); 69 NOT_FOUND.\n";

static int cmd_withdraw(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(withdraw_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        {"reason", required_argument, NULL, O_REASON},
	        {"version", required_argument, NULL, O_VERSION},
	        {"json", no_argument, NULL, O_JSON},
	        {NULL, 0, NULL, 0},
	};
	Onboard__V1__WithdrawApplicationRequest rq =
	        ONBOARD__V1__WITHDRAW_APPLICATION_REQUEST__INIT;
	uint64_t u;
	int ch;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == O_REASON) {
			rq.reason = optarg;
		} else if (ch == O_VERSION) {
			if (!parse_u64(optarg, UINT64_MAX, &u) || u == 0)
				return cli_usage_error("withdraw",
				                       "--version needs a version number "
				                       "('onboard get ID' shows it)");
			rq.expected_version = u;
		} else if (ch == O_JSON) {
			c->json = true;
		} else {
			return cli_bad_option("withdraw", ch, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("withdraw", "needs one application ID");
	rq.id = argv[optind];
	app_t *a = NULL;
	int rc = cli_call(c, M_WITHDRAW, &rq.base, &onboard__v1__application__descriptor,
	                  (ProtobufCMessage **)&a);
	if (rc != OB_EXIT_OK)
		return rc;
	if (c->json) {
		rc = cli_print_json(&a->base);
	} else {
		print_outcome(a);
		if (a->benefits != NULL) {
			fputs("benefits: ", stdout);
			print_benefits(a->benefits, "          ");
		}
	}
	protobuf_c_message_free_unpacked(&a->base, NULL);
	return rc;
}

/* ---- cohort --------------------------------------------------------- */

static const char cohort_help[] =
        "Usage: onboard cohort [ID]                 the standing of a cohort\n"
        "       onboard cohort [ID] --capacity N    change its capacity\n"
        "       onboard cohort --list               list the cohorts\n"
        "       onboard cohort --create --id ID --name NAME [SETTINGS]\n"
        "\n"
        "The standing (of the default cohort without ID): seats held against the\n"
        "capacity (with a bar on a terminal), free seats, the waitlist, and the\n"
        "applications by state, size, region (top 10) and channel, the share of\n"
        "exporters and the submissions per day (Paris dates).\n"
        "--capacity never goes below the seats held (exit 73); raising it gives\n"
        "the new seats to the waitlist, oldest first.\n"
        "\n"
        "Settings of --create; the defaults are those of the 2020-11 cohort:\n"
        "      --capacity N           seats (800)\n"
        "      --window-opens TIME    when submissions open (RFC 3339; none)\n"
        "      --window-closes TIME   when they close (none)\n"
        "      --enforce-window       refuse submissions outside the window\n"
        "      --lockdown-start DATE  YYYY-MM-DD (2020-10-30)\n"
        "      --lockdown-end DATE    (2020-12-15)\n"
        "      --fee-waiver-until DATE  the end of the fee waiver (2021-03-15)\n"
        "      --monthly-fee EUR      the fee waived per month (39.00)\n"
        "      --ad-credit EUR        the advertising credit granted (200.00)\n"
        "      --webinar HH:MM        the daily welcome webinar, Paris time (10:00)\n"
        "      --webinar-seats N      per session (100)\n"
        "      --advisors N           the pool of advisors (300)\n"
        "      --eligible SIZES       comma-separated among tpe, pme, eti, ge (tpe,pme)\n"
        "\n"
        "--json prints the CohortStanding, ListCohortsResponse or Cohort.\n"
        "Exit status: 0; 69 NOT_FOUND (no such cohort); 70 ALREADY_EXISTS (--create);\n"
        "67 invalid settings; 73 capacity below the seats held.\n";

typedef struct count_ref {
	const char *key;
	uint32_t count;
	int order;
} count_ref;

static int by_order(const void *x, const void *y)
{
	const count_ref *a = x, *b = y;
	return a->order != b->order ? (a->order < b->order ? -1 : 1) : strcmp(a->key, b->key);
}

static int by_count_desc(const void *x, const void *y)
{
	const count_ref *a = x, *b = y;
	return a->count != b->count ? (a->count > b->count ? -1 : 1) : strcmp(a->key, b->key);
}

/* Copies the counts to sort them; keys that name a value of order (NULL:
 * none) rank by it for by_order, before the others. NULL when out of memory
 * (the caller prints nothing for that list then). */
static count_ref *sorted_counts(Onboard__V1__CountByKey **in, size_t n,
                                const ProtobufCEnumDescriptor *order,
                                int (*cmp)(const void *, const void *))
{
	count_ref *r = malloc((n > 0 ? n : 1) * sizeof(*r));
	if (r == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		r[i].key = nz(in[i]->key);
		r[i].count = in[i]->count;
		int v = order != NULL ? cli_value_of_name(order, r[i].key) : -1;
		r[i].order = v >= 0 ? v : INT_MAX;
	}
	qsort(r, n, sizeof(*r), cmp);
	return r;
}

static void print_inline_counts(const char *label, Onboard__V1__CountByKey **in, size_t n,
                                const ProtobufCEnumDescriptor *order)
{
	count_ref *r = sorted_counts(in, n, order, by_order);
	printf(LABEL, label);
	if (n == 0 || r == NULL)
		fputs("-", stdout);
	for (size_t i = 0; r != NULL && i < n; i++)
		printf("%s%s %" PRIu32, i > 0 ? ", " : "", r[i].key, r[i].count);
	putchar('\n');
	free(r);
}

static double percent(uint32_t part, uint32_t whole)
{
	return whole > 0 ? 100.0 * part / whole : 0.0;
}

static void print_standing(const Onboard__V1__CohortStanding *st)
{
	static const Onboard__V1__Cohort no_cohort = ONBOARD__V1__COHORT__INIT;
	const Onboard__V1__Cohort *co = st->cohort != NULL ? st->cohort : &no_cohort;
	printf("Cohort %s: %s\n", nz(co->id), nz(co->name));
	printf(LABEL "%" PRIu32 " / %" PRIu32 " held, %" PRIu32 " free\n", "Seats", st->seats_held,
	       co->capacity, st->seats_free);
	if (isatty(STDOUT_FILENO)) {
		enum { WIDTH = 40 };
		double share = co->capacity > 0 ? (double)st->seats_held / co->capacity : 1.0;
		if (share > 1.0)
			share = 1.0;
		int full = (int)(share * WIDTH + 0.5);
		printf(INDENT "[");
		for (int i = 0; i < WIDTH; i++)
			putchar(i < full ? '#' : '-');
		printf("] %3.0f%%\n", share * 100.0);
	}
	printf(LABEL "%" PRIu32 "\n", "Waitlist", st->waitlist_length);
	printf(LABEL "%" PRIu32 ", of which %" PRIu32 " intend to export (%.1f%%)\n",
	       "Applications", st->applications, st->exporters, st->export_share * 100.0);
	print_inline_counts("By state", st->by_state, st->n_by_state,
	                    &onboard__v1__application_state__descriptor);
	print_inline_counts("By size", st->by_size, st->n_by_size,
	                    &onboard__v1__size_category__descriptor);

	count_ref *r = sorted_counts(st->by_region, st->n_by_region, NULL, by_count_desc);
	for (size_t i = 0; r != NULL && i < st->n_by_region && i < 10; i++) {
		printf(LABEL, i == 0 ? "By region" : i == 1 ? "(top 10)" : "");
		cell(r[i].key, 28, true);
		printf(" %6" PRIu32 "  %5.1f%%\n", r[i].count,
		       percent(r[i].count, st->applications));
	}
	if (r != NULL && st->n_by_region > 10) {
		uint32_t rest = 0;
		for (size_t i = 10; i < st->n_by_region; i++)
			rest += r[i].count;
		printf(INDENT "%-28s %6" PRIu32 "  %5.1f%%\n", "(others)", rest,
		       percent(rest, st->applications));
	}
	if (st->n_by_region == 0)
		printf(LABEL "-\n", "By region");
	free(r);

	char w[CLI_WORD_MAX];
	r = sorted_counts(st->by_channel, st->n_by_channel, &onboard__v1__channel__descriptor,
	                  by_order);
	printf(LABEL, "Channels");
	if (st->n_by_channel == 0 || r == NULL)
		fputs("-", stdout);
	for (size_t i = 0; r != NULL && i < st->n_by_channel; i++) {
		int v = 0;
		printf("%s%s %" PRIu32 " (%.0f%%)", i > 0 ? ", " : "",
		       cli_word_value(&cli_channels, r[i].key, &v)
		               ? cli_word_of(&cli_channels, v, w)
		               : r[i].key,
		       r[i].count, percent(r[i].count, st->applications));
	}
	putchar('\n');
	free(r);

	r = sorted_counts(st->submissions_per_day, st->n_submissions_per_day, NULL, by_order);
	uint32_t peak = 0;
	for (size_t i = 0; r != NULL && i < st->n_submissions_per_day; i++)
		peak = r[i].count > peak ? r[i].count : peak;
	for (size_t i = 0; r != NULL && i < st->n_submissions_per_day; i++) {
		printf(LABEL "%s %6" PRIu32 "  ", i == 0 ? "Per day" : "", r[i].key, r[i].count);
		int bar = peak > 0 ? (int)((30.0 * r[i].count + peak - 1) / peak) : 0;
		for (int k = 0; k < bar; k++)
			putchar('#');
		putchar('\n');
	}
	if (st->n_submissions_per_day == 0)
		printf(LABEL "-\n", "Per day");
	free(r);
}

static void print_cohort_row(const Onboard__V1__Cohort *co)
{
	char sizes[32] = "";
	for (size_t i = 0; i < co->n_eligible_sizes; i++) {
		size_t len = strlen(sizes);
		snprintf(sizes + len, sizeof(sizes) - len, "%s%s", i > 0 ? "," : "",
		         size_name((int)co->eligible_sizes[i]));
	}
	char w1[48], w2[48];
	printf("%-12s  ", nz(co->id));
	cell(co->name, 34, true);
	printf("  %8" PRIu32 "  %-10s  %-11s  ", co->capacity, nz(co->fee_waiver_until), sizes);
	if (nz(co->window_opens)[0] == '\0' && nz(co->window_closes)[0] == '\0')
		printf("none\n");
	else
		printf("%s to %s%s\n", when(co->window_opens, w1, sizeof(w1)),
		       when(co->window_closes, w2, sizeof(w2)),
		       co->window_enforced ? " (enforced)" : "");
}

static int cmd_cohort(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(cohort_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        {"list", no_argument, NULL, O_LIST},
	        {"create", no_argument, NULL, O_CREATE},
	        {"id", required_argument, NULL, O_ID},
	        {"name", required_argument, NULL, O_NAME},
	        {"capacity", required_argument, NULL, O_CAPACITY},
	        {"window-opens", required_argument, NULL, O_WINDOW_OPENS},
	        {"window-closes", required_argument, NULL, O_WINDOW_CLOSES},
	        {"enforce-window", no_argument, NULL, O_ENFORCE_WINDOW},
	        {"lockdown-start", required_argument, NULL, O_LOCKDOWN_START},
	        {"lockdown-end", required_argument, NULL, O_LOCKDOWN_END},
	        {"fee-waiver-until", required_argument, NULL, O_FEE_WAIVER_UNTIL},
	        {"monthly-fee", required_argument, NULL, O_MONTHLY_FEE},
	        {"ad-credit", required_argument, NULL, O_AD_CREDIT},
	        {"webinar", required_argument, NULL, O_WEBINAR},
	        {"webinar-seats", required_argument, NULL, O_WEBINAR_SEATS},
	        {"advisors", required_argument, NULL, O_ADVISORS},
	        {"eligible", required_argument, NULL, O_ELIGIBLE},
	        {"json", no_argument, NULL, O_JSON},
	        {NULL, 0, NULL, 0},
	};
	/* The 2020-11 cohort's settings, for what --create is not told. */
	Onboard__V1__Cohort co = ONBOARD__V1__COHORT__INIT;
	Onboard__V1__SizeCategory sizes[4] = {ONBOARD__V1__SIZE_CATEGORY__SIZE_CATEGORY_TPE,
	                                      ONBOARD__V1__SIZE_CATEGORY__SIZE_CATEGORY_PME};
	co.capacity = 800;
	co.lockdown_start = (char *)"2020-10-30";
	co.lockdown_end = (char *)"2020-12-15";
	co.fee_waiver_until = (char *)"2021-03-15";
	co.monthly_fee_cents = 3900;
	co.ad_credit_cents = 20000;
	co.webinar_hour = 10;
	co.webinar_minute = 0;
	co.webinar_seats = 100;
	co.advisor_pool = 300;
	co.eligible_sizes = sizes;
	co.n_eligible_sizes = 2;

	bool list = false, create = false, capacity_given = false;
	size_t settings = 0; /* flags that only --create takes */
	uint64_t u;
	int ch, v;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		settings++;
		switch (ch) {
		case O_LIST:
			settings--;
			list = true;
			break;
		case O_CREATE:
			settings--;
			create = true;
			break;
		case O_JSON:
			settings--;
			c->json = true;
			break;
		case O_CAPACITY:
			settings--;
			if (!parse_u64(optarg, UINT32_MAX, &u))
				return cli_usage_error("cohort",
				                       "--capacity needs a number of seats");
			co.capacity = (uint32_t)u;
			capacity_given = true;
			break;
		case O_ID:
			co.id = optarg;
			break;
		case O_NAME:
			co.name = optarg;
			break;
		case O_WINDOW_OPENS:
			co.window_opens = optarg;
			break;
		case O_WINDOW_CLOSES:
			co.window_closes = optarg;
			break;
		case O_ENFORCE_WINDOW:
			co.window_enforced = true;
			break;
		case O_LOCKDOWN_START:
			co.lockdown_start = optarg;
			break;
		case O_LOCKDOWN_END:
			co.lockdown_end = optarg;
			break;
		case O_FEE_WAIVER_UNTIL:
			co.fee_waiver_until = optarg;
			break;
		case O_MONTHLY_FEE:
		case O_AD_CREDIT:
			if (!cli_parse_euros(optarg, ch == O_MONTHLY_FEE ? &co.monthly_fee_cents
			                                                 : &co.ad_credit_cents))
				return cli_usage_error("cohort", "%s needs euros, e.g. 39 or 39.50",
				                       ch == O_MONTHLY_FEE ? "--monthly-fee"
				                                           : "--ad-credit");
			break;
		case O_WEBINAR:
			if (!cli_parse_hhmm(optarg, &co.webinar_hour, &co.webinar_minute))
				return cli_usage_error("cohort",
				                       "--webinar needs HH:MM, e.g. 10:00");
			break;
		case O_WEBINAR_SEATS:
		case O_ADVISORS:
			if (!parse_u64(optarg, UINT32_MAX, &u))
				return cli_usage_error("cohort", "%s needs a number",
				                       ch == O_ADVISORS ? "--advisors"
				                                        : "--webinar-seats");
			*(ch == O_ADVISORS ? &co.advisor_pool : &co.webinar_seats) = (uint32_t)u;
			break;
		case O_ELIGIBLE: {
			char buf[64], words[64];
			snprintf(buf, sizeof(buf), "%s", optarg);
			co.n_eligible_sizes = 0;
			char *save = NULL;
			for (char *t = strtok_r(buf, ", ", &save); t != NULL;
			     t = strtok_r(NULL, ", ", &save)) {
				if (!cli_word_value(&cli_sizes, t, &v) || co.n_eligible_sizes == 4)
					return cli_usage_error(
					        "cohort",
					        "--eligible takes sizes among %s, not '%s'",
					        cli_word_list(&cli_sizes, words, sizeof(words)), t);
				sizes[co.n_eligible_sizes++] = (Onboard__V1__SizeCategory)v;
			}
			break;
		}
		default:
			return cli_bad_option("cohort", ch, argv);
		}
	}
	int rest = argc - optind;
	const char *id = rest == 1 ? argv[optind] : "";
	if (rest > 1)
		return cli_usage_error("cohort", "takes at most one cohort ID");
	if (list && (create || capacity_given || settings > 0 || rest > 0))
		return cli_usage_error("cohort", "--list takes nothing else");
	if (!create && settings > 0)
		return cli_usage_error("cohort", "cohort settings go with --create; to change the "
		                                 "capacity: onboard cohort ID --capacity N");
	if (create && rest > 0)
		return cli_usage_error("cohort", "--create takes the cohort's id as --id ID");
	if (create && (nz(co.id)[0] == '\0' || nz(co.name)[0] == '\0'))
		return cli_usage_error("cohort", "--create needs --id and --name");

	int rc;
	if (list) {
		Onboard__V1__ListCohortsRequest rq = ONBOARD__V1__LIST_COHORTS_REQUEST__INIT;
		Onboard__V1__ListCohortsResponse *rs = NULL;
		rc = cli_call(c, M_COHORTS, &rq.base,
		              &onboard__v1__list_cohorts_response__descriptor,
		              (ProtobufCMessage **)&rs);
		if (rc != OB_EXIT_OK)
			return rc;
		if (c->json) {
			rc = cli_print_json(&rs->base);
		} else {
			printf("%-12s  %-34s  %8s  %-10s  %-11s  %s\n", "ID", "NAME", "CAPACITY",
			       "FEE WAIVER", "SIZES", "WINDOW");
			for (size_t i = 0; i < rs->n_cohorts; i++)
				print_cohort_row(rs->cohorts[i]);
		}
		protobuf_c_message_free_unpacked(&rs->base, NULL);
		return rc;
	}
	if (create) {
		Onboard__V1__CreateCohortRequest rq = ONBOARD__V1__CREATE_COHORT_REQUEST__INIT;
		rq.cohort = &co;
		Onboard__V1__Cohort *made = NULL;
		rc = cli_call(c, M_CREATE, &rq.base, &onboard__v1__cohort__descriptor,
		              (ProtobufCMessage **)&made);
		if (rc != OB_EXIT_OK)
			return rc;
		if (c->json) {
			rc = cli_print_json(&made->base);
		} else {
			printf("created cohort %s\n", nz(made->id));
			printf("%-12s  %-34s  %8s  %-10s  %-11s  %s\n", "ID", "NAME", "CAPACITY",
			       "FEE WAIVER", "SIZES", "WINDOW");
			print_cohort_row(made);
		}
		protobuf_c_message_free_unpacked(&made->base, NULL);
		return rc;
	}
	Onboard__V1__CohortStanding *st = NULL;
	if (capacity_given) {
		Onboard__V1__SetCohortCapacityRequest rq =
		        ONBOARD__V1__SET_COHORT_CAPACITY_REQUEST__INIT;
		rq.id = (char *)id;
		rq.capacity = co.capacity;
		rc = cli_call(c, M_CAPACITY, &rq.base, &onboard__v1__cohort_standing__descriptor,
		              (ProtobufCMessage **)&st);
	} else {
		Onboard__V1__GetCohortRequest rq = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
		rq.id = (char *)id;
		rc = cli_call(c, M_COHORT, &rq.base, &onboard__v1__cohort_standing__descriptor,
		              (ProtobufCMessage **)&st);
	}
	if (rc != OB_EXIT_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(&st->base);
	else
		print_standing(st);
	protobuf_c_message_free_unpacked(&st->base, NULL);
	return rc;
}

/* ---- the columns of import and export ------------------------------- */

enum {
	COL_SIREN,
	COL_SIRET,
	COL_LEGAL_NAME,
	COL_TRADE_NAME,
	COL_NAF,
	COL_VAT,
	COL_EMPLOYEES,
	COL_TURNOVER,
	COL_BALANCE,
	COL_ADDRESS,
	COL_POSTAL,
	COL_CITY,
	COL_CONTACT,
	COL_EMAIL,
	COL_PHONE,
	COL_CHANNEL,
	COL_EXPORT,
	COL_CATEGORIES,
	COL_COHORT,
	COL_ACCEPTS_TERMS,
	COL_INPUT, /* the columns import reads; export's own ones follow */
	COL_ID = COL_INPUT,
	COL_STATE,
	COL_SIZE,
	COL_DEPARTEMENT,
	COL_REGION,
	COL_SUBMITTED_AT,
	COL_VERSION,
	COL_COUNT,
};

static const char *const col_names[COL_COUNT] = {
        "siren",        "siret",         "legal_name",  "trade_name", "naf",         "vat",
        "employees",    "turnover_eur",  "balance_eur", "address",    "postal_code", "city",
        "contact_name", "email",         "phone",       "channel",    "export",      "categories",
        "cohort",       "accepts_terms", "id",          "state",      "size",        "departement",
        "region",       "submitted_at",  "version",
};

/* The column a violation of the request is about, or -1. */
static int column_of_field(const char *field)
{
	static const struct {
		const char *field;
		int col;
	} map[] = {
	        {"company.siren", COL_SIREN},
	        {"company.siret", COL_SIRET},
	        {"company.legal_name", COL_LEGAL_NAME},
	        {"company.trade_name", COL_TRADE_NAME},
	        {"company.naf_code", COL_NAF},
	        {"company.vat_number", COL_VAT},
	        {"company.employees", COL_EMPLOYEES},
	        {"company.turnover_eur", COL_TURNOVER},
	        {"company.balance_sheet_eur", COL_BALANCE},
	        {"company.address.street", COL_ADDRESS},
	        {"company.address.postal_code", COL_POSTAL},
	        {"company.address.city", COL_CITY},
	        {"contact.name", COL_CONTACT},
	        {"contact.email", COL_EMAIL},
	        {"contact.phone", COL_PHONE},
	        {"channel", COL_CHANNEL},
	        {"intends_to_export", COL_EXPORT},
	        {"product_categories", COL_CATEGORIES},
	        {"cohort_id", COL_COHORT},
	        {"accepts_terms", COL_ACCEPTS_TERMS},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t n = strlen(map[i].field);
		if (strncmp(field, map[i].field, n) == 0 && (field[n] == '\0' || field[n] == '['))
			return map[i].col;
	}
	return -1;
}

/* ---- import --------------------------------------------------------- */

enum {
	IMPORT_MAX_FIELD = 4096, /* bytes in one cell */
	IMPORT_MAX_COLUMNS = 64, /* cells in one line */
	IMPORT_MAX_ROWS = 1000000,
	IMPORT_MAX_PROBLEMS = 8, /* found locally in one row */
	IMPORT_RETRIES = 5,      /* of a row the server asks to retry later */
};

typedef struct import_row {
	size_t line;
	char *cells[COL_INPUT]; /* NULL: no such column */
} import_row;

static void import_rows_free(import_row *rows, size_t n)
{
	for (size_t i = 0; rows != NULL && i < n; i++)
		for (int k = 0; k < COL_INPUT; k++)
			free(rows[i].cells[k]);
	free(rows);
}

/* Lowercase, '-' read as '_', spaces around dropped: "Legal-Name " -> "legal_name". */
static void column_name(const char *in, char *out, size_t n)
{
	while (*in == ' ')
		in++;
	size_t j = 0;
	for (; *in != '\0' && j + 1 < n; in++) {
		char ch = *in;
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		out[j++] = ch == '-' ? '_' : ch;
	}
	while (j > 0 && out[j - 1] == ' ')
		j--;
	out[j] = '\0';
}

/*
 * Reads the whole import file into rows (caller frees with
 * import_rows_free()). Returns 0, or -1 with one line in err: the file
 * cannot be read, is not valid CSV, has an unknown or repeated column, or a
 * line with another number of cells than the header. Lines with no text in
 * any cell are skipped.
 */
static int read_import(const char *path, import_row **out, size_t *n_out, char *err, size_t errlen)
{
	*out = NULL;
	*n_out = 0;
	size_t len;
	char *text = cli_read_file(path, &len);
	if (text == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	ob_csv_reader r;
	ob_csv_reader_init(&r, text, len, IMPORT_MAX_FIELD, IMPORT_MAX_COLUMNS);
	int map[IMPORT_MAX_COLUMNS]; /* cell index -> column, -1 for export's own */
	size_t n_header = 0, n_rows = 0, cap = 0, n, line;
	import_row *rows = NULL;
	char **f;
	int rc = -1, got = ob_csv_read(&r, &f, &n, &line);
	if (got == 0) {
		snprintf(err, errlen, "%s is empty: it needs a header line naming the columns",
		         path);
		goto out;
	}
	if (got < 0) {
		snprintf(err, errlen, "%s: %s", path, r.err);
		goto out;
	}
	bool seen[COL_COUNT] = {false};
	for (size_t i = 0; i < n; i++) {
		char name[64];
		column_name(f[i], name, sizeof(name));
		int col = -1;
		for (int k = 0; k < COL_COUNT; k++)
			if (strcmp(col_names[k], name) == 0)
				col = k;
		if (col < 0) {
			size_t used = (size_t)snprintf(
			        err, errlen, "%s: line 1: unknown column '%s'; the columns are",
			        path, f[i]);
			for (int k = 0; k < COL_INPUT && used < errlen; k++)
				used += (size_t)snprintf(err + used, errlen - used, "%s%s",
				                         k > 0 ? "," : " ", col_names[k]);
			goto out;
		}
		if (seen[col]) {
			snprintf(err, errlen, "%s: line 1: column '%s' appears twice", path, name);
			goto out;
		}
		seen[col] = true;
		map[i] = col < COL_INPUT ? col : -1; /* an export read back: its own columns */
	}
	n_header = n;
	while ((got = ob_csv_read(&r, &f, &n, &line)) > 0) {
		bool blank = true;
		for (size_t i = 0; i < n && blank; i++)
			blank = f[i][0] == '\0';
		if (blank)
			continue;
		if (n != n_header) {
			snprintf(err, errlen, "%s: line %zu: %zu cells, but the header names %zu",
			         path, line, n, n_header);
			goto out;
		}
		if (n_rows == IMPORT_MAX_ROWS) {
			snprintf(err, errlen, "%s: more than %d rows; split the file", path,
			         IMPORT_MAX_ROWS);
			goto out;
		}
		if (n_rows == cap) {
			size_t ncap = cap > 0 ? cap * 2 : 256;
			import_row *g = realloc(rows, ncap * sizeof(*rows));
			if (g == NULL)
				goto oom;
			rows = g;
			cap = ncap;
		}
		import_row *row = &rows[n_rows++];
		memset(row, 0, sizeof(*row));
		row->line = line;
		for (size_t i = 0; i < n; i++) {
			if (map[i] < 0)
				continue;
			/* export's formula protection: "'=x" was "=x" (csv.h) */
			ob_csv_unprotect(f[i]);
			if ((row->cells[map[i]] = strdup(f[i])) == NULL)
				goto oom;
		}
	}
	if (got < 0) {
		snprintf(err, errlen, "%s: %s", path, r.err);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory reading %s", path);
out:
	ob_csv_reader_fini(&r);
	free(text);
	if (rc == 0) {
		*out = rows;
		*n_out = n_rows;
	} else {
		import_rows_free(rows, n_rows);
	}
	return rc;
}

typedef struct problem {
	int col;
	char what[96];
} problem;

/* The request of one row, on caller memory that borrows from the row; cats
 * holds the split categories; cohort, unless NULL, replaces the row's.
 * Problems found without the server go into probs (the row is then not
 * sent). */
static void row_request(const import_row *row, const char *cohort, submit_req *s, char *cats,
                        size_t cats_len, problem *probs, size_t *n_probs)
{
	*n_probs = 0;
	submit_req_init(s);
#define CELL(k) nz(row->cells[k])
#define PROBLEM(k, ...)                                                                            \
	do {                                                                                       \
		if (*n_probs < IMPORT_MAX_PROBLEMS) {                                              \
			probs[*n_probs].col = (k);                                                 \
			snprintf(probs[*n_probs].what, sizeof(probs[*n_probs].what), __VA_ARGS__); \
			(*n_probs)++;                                                              \
		}                                                                                  \
	} while (0)
	s->company.siren = (char *)CELL(COL_SIREN);
	s->company.siret = (char *)CELL(COL_SIRET);
	s->company.legal_name = (char *)CELL(COL_LEGAL_NAME);
	s->company.trade_name = (char *)CELL(COL_TRADE_NAME);
	s->company.naf_code = (char *)CELL(COL_NAF);
	s->company.vat_number = (char *)CELL(COL_VAT);
	s->address.street = (char *)CELL(COL_ADDRESS);
	s->address.postal_code = (char *)CELL(COL_POSTAL);
	s->address.city = (char *)CELL(COL_CITY);
	s->contact.name = (char *)CELL(COL_CONTACT);
	s->contact.email = (char *)CELL(COL_EMAIL);
	s->contact.phone = (char *)CELL(COL_PHONE);
	s->rq.cohort_id = (char *)(cohort != NULL ? cohort : CELL(COL_COHORT));

	uint64_t u;
	if (CELL(COL_EMPLOYEES)[0] != '\0') {
		if (parse_u64(CELL(COL_EMPLOYEES), UINT32_MAX, &u))
			s->company.employees = (uint32_t)u;
		else
			PROBLEM(COL_EMPLOYEES, "must be a whole number, not '%.40s'",
			        CELL(COL_EMPLOYEES));
	}
	int money[2] = {COL_TURNOVER, COL_BALANCE};
	int64_t *dst[2] = {&s->company.turnover_eur, &s->company.balance_sheet_eur};
	for (int i = 0; i < 2; i++) {
		if (CELL(money[i])[0] == '\0')
			continue;
		if (parse_u64(CELL(money[i]), INT64_MAX, &u))
			*dst[i] = (int64_t)u;
		else
			PROBLEM(money[i], "must be a whole number of euros, not '%.40s'",
			        CELL(money[i]));
	}
	int v;
	char words[64];
	if (CELL(COL_CHANNEL)[0] != '\0') {
		if (cli_word_value(&cli_channels, CELL(COL_CHANNEL), &v))
			s->rq.channel = (Onboard__V1__Channel)v;
		else
			PROBLEM(COL_CHANNEL, "must be %s, not '%.40s'",
			        cli_word_list(&cli_channels, words, sizeof(words)),
			        CELL(COL_CHANNEL));
	}
	bool b;
	if (CELL(COL_EXPORT)[0] != '\0') {
		if (parse_bool(CELL(COL_EXPORT), &b))
			s->rq.intends_to_export = b;
		else
			PROBLEM(COL_EXPORT, "must be true or false, not '%.40s'", CELL(COL_EXPORT));
	}
	/* The partner who sends the file collected the acceptance of the terms. */
	s->rq.accepts_terms = true;
	if (CELL(COL_ACCEPTS_TERMS)[0] != '\0') {
		if (parse_bool(CELL(COL_ACCEPTS_TERMS), &b))
			s->rq.accepts_terms = b;
		else
			PROBLEM(COL_ACCEPTS_TERMS, "must be true or false, not '%.40s'",
			        CELL(COL_ACCEPTS_TERMS));
	}
	snprintf(cats, cats_len, "%s", CELL(COL_CATEGORIES));
	char *save = NULL;
	for (char *t = strtok_r(cats, ";", &save); t != NULL; t = strtok_r(NULL, ";", &save)) {
		while (*t == ' ')
			t++;
		size_t tl = strlen(t);
		while (tl > 0 && t[tl - 1] == ' ')
			t[--tl] = '\0';
		if (tl == 0)
			continue;
		if (s->rq.n_product_categories == CATEGORIES_MAX) {
			PROBLEM(COL_CATEGORIES, "at most %d categories", CATEGORIES_MAX);
			break;
		}
		s->categories[s->rq.n_product_categories++] = t;
	}
#undef PROBLEM
#undef CELL
}

/* The idempotency key of a request: the same request always gets the same
 * key, so that the server replays its first reply to a second import of
 * the row instead of creating anything, and another request never does. */
static bool request_key(const ProtobufCMessage *rq, char key[48])
{
	size_t n = protobuf_c_message_get_packed_size(rq);
	uint8_t *buf = malloc(n > 0 ? n : 1);
	if (buf == NULL)
		return false;
	protobuf_c_message_pack(rq, buf);
	uint8_t h[16];
	crypto_generichash(h, sizeof(h), buf, n, (const uint8_t *)"onboard-import-1", 16);
	free(buf);
	memcpy(key, "import-", 7);
	sodium_bin2hex(key + 7, 48 - 7, h, sizeof(h));
	return true;
}

/* The ids of applications: those there before the import (line 0) and those
 * the import created (their line), to tell a replay from a creation. */
typedef struct id_set {
	struct id_slot {
		char id[32];
		size_t line;
	} * slots;
	size_t cap, n;
} id_set;

static uint64_t id_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct id_slot *id_find(const id_set *set, const char *id)
{
	if (set->cap == 0)
		return NULL;
	for (size_t i = id_hash(id) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
		if (set->slots[i].id[0] == '\0')
			return NULL;
		if (strcmp(set->slots[i].id, id) == 0)
			return &set->slots[i];
	}
}

static bool id_add(id_set *set, const char *id, size_t line)
{
	if (strlen(id) >= sizeof(set->slots->id) || id[0] == '\0' || id_find(set, id) != NULL)
		return true;
	if ((set->n + 1) * 2 > set->cap) {
		id_set bigger = {calloc(set->cap > 0 ? set->cap * 2 : 1024, sizeof(*set->slots)),
		                 set->cap > 0 ? set->cap * 2 : 1024, 0};
		if (bigger.slots == NULL)
			return false;
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i].id[0] != '\0')
				id_add(&bigger, set->slots[i].id, set->slots[i].line);
		free(set->slots);
		*set = bigger;
	}
	size_t i = id_hash(id) & (set->cap - 1);
	while (set->slots[i].id[0] != '\0')
		i = (i + 1) & (set->cap - 1);
	snprintf(set->slots[i].id, sizeof(set->slots[i].id), "%s", id);
	set->slots[i].line = line;
	set->n++;
	return true;
}

/* Collects the ids of the applications of a cohort ("": of every cohort). */
static int existing_ids(cli *c, const char *cohort, id_set *set)
{
	list_req l;
	list_req_init(&l);
	l.rq.cohort_id = (char *)cohort;
	l.rq.page_size = MAX_PAGE_SIZE;
	char *token = NULL;
	int rc;
	for (;;) {
		Onboard__V1__ListApplicationsResponse *rs = NULL;
		rc = cli_call(c, M_LIST, &l.rq.base,
		              &onboard__v1__list_applications_response__descriptor,
		              (ProtobufCMessage **)&rs);
		if (rc != OB_EXIT_OK)
			break;
		bool more = nz(rs->next_page_token)[0] != '\0', oom = false;
		for (size_t i = 0; i < rs->n_applications && !oom; i++)
			oom = !id_add(set, nz(rs->applications[i]->id), 0);
		free(token);
		token = more ? strdup(rs->next_page_token) : NULL;
		protobuf_c_message_free_unpacked(&rs->base, NULL);
		if (oom || (more && token == NULL)) {
			fprintf(stderr, "onboard import: out of memory\n");
			rc = OB_EXIT_LOCAL;
			break;
		}
		if (!more)
			break;
		l.rq.page_token = token;
	}
	free(token);
	return rc;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static const char import_help[] =
        "Usage: onboard import FILE.csv [--cohort ID] [--quiet]\n"
        "Submits one application per line of a CSV file (RFC 4180: quoted fields,\n"
        "\"\" for a quote, CRLF or LF, UTF-8 with or without a byte order mark), in\n"
        "file order, so that seats go in file order too. '-' reads stdin.\n"
        "\n"
        "The first line names the columns, in any order, ignoring case:\n"
        "  siren, siret, legal_name, trade_name, naf, vat, employees, turnover_eur,\n"
        "  balance_eur, address, postal_code, city, contact_name, email, phone,\n"
        "  channel (marketplace, webshop, both), export (true/false),\n"
        "  categories (separated by ';'), cohort, accepts_terms (true/false)\n"
        "as the flags of 'onboard submit'. Missing columns and empty cells are\n"
        "empty fields (the server says which ones it needs). An unknown column is an\n"
        "error; the columns export adds (id, state, size, departement, region,\n"
        "submitted_at, version) are ignored, so that an export can be imported.\n"
        "accepts_terms defaults to true: importing a file states that the partner\n"
        "who sent it collected each company's acceptance of the programme's terms.\n"
        "A cell that starts with one or more ' and then =, +, -, @, a tab or a\n"
        "carriage return loses its first ': export adds it so that spreadsheets do\n"
        "not run the cell as a formula, and import takes it off (\"'=x\" is read as\n"
        "\"=x\", \"''=x\" as \"'=x\"; \"'abc\" stays as it is).\n"
        "Lines whose cells are all empty are skipped. Limits: 4096 bytes a cell, 64\n"
        "cells a line, 1000000 lines; beyond them, or for a line with another\n"
        "number of cells than the header, nothing is submitted.\n"
        "\n"
        "      --cohort ID   put every line into cohort ID, whatever its cohort cell\n"
        "                    says (without it: the cell, and when it is empty or\n"
        "                    missing, the server's default cohort)\n"
        "  -q, --quiet       print only the refused lines and the summary\n"
        "\n"
        "Re-running an import is safe: each line is sent with an idempotency key\n"
        "derived from its request, and the server answers a line it has already\n"
        "imported with its first reply (within 48 hours; after that, such a line\n"
        "gets ALREADY_EXISTS), without creating anything twice.\n"
        "\n"
        "Prints per line: its line number, the SIREN, and 'created STATE',\n"
        "'already imported', or 'refused CODE: message' with the invalid columns;\n"
        "then a summary: created (by state), already imported, refused (by code).\n"
        "Exit status: 0 when every line was created or already imported; else\n"
        "64 + the code of the first refused line (e.g. 73 FAILED_PRECONDITION for a\n"
        "company too large to be eligible, 70 ALREADY_EXISTS for a SIREN that\n"
        "applied otherwise); 1 when the file is not valid (nothing is submitted) or\n"
        "the server cannot be reached (the import stops; run it again to resume).\n";

static int cmd_import(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(import_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        {"cohort", required_argument, NULL, O_COHORT},
	        {"quiet", no_argument, NULL, O_QUIET},
	        {NULL, 0, NULL, 0},
	};
	const char *cohort = NULL;
	bool quiet = false;
	int ch;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
		if (ch == O_COHORT)
			cohort = optarg;
		else if (ch == O_QUIET || ch == 'q')
			quiet = true;
		else
			return cli_bad_option("import", ch, argv);
	}
	if (argc - optind != 1)
		return cli_usage_error("import", "needs one CSV file");
	const char *path = argv[optind];
	if (sodium_init() < 0) {
		fprintf(stderr, "onboard import: libsodium cannot start\n");
		return OB_EXIT_LOCAL;
	}
	char err[1024];
	import_row *rows = NULL;
	size_t n_rows = 0;
	if (read_import(path, &rows, &n_rows, err, sizeof(err)) != 0) {
		fprintf(stderr, "onboard import: %s\nNothing was submitted.\n", err);
		return OB_EXIT_LOCAL;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* What was there before tells a replayed reply from a new application:
	 * the ids of the cohort the lines go to, or of all cohorts when they go
	 * to several. */
	const char *scope = NULL;
	for (size_t i = 0; i < n_rows; i++) {
		const char *to = cohort != NULL ? cohort : nz(rows[i].cells[COL_COHORT]);
		if (scope == NULL)
			scope = to;
		else if (strcmp(scope, to) != 0)
			scope = "";
	}
	id_set seen = {0};
	int rc = n_rows > 0 ? existing_ids(c, scope != NULL ? scope : "", &seen) : OB_EXIT_OK;
	if (rc != OB_EXIT_OK) {
		import_rows_free(rows, n_rows);
		free(seen.slots);
		return rc;
	}

	ob_client *client = cli_client(c);
	if (client == NULL) {
		import_rows_free(rows, n_rows);
		free(seen.slots);
		return OB_EXIT_LOCAL;
	}
	/* The global metadata, but each line brings its own idempotency key. */
	ob_metadata md[CLI_MAX_METADATA + 1];
	size_t n_md = 0;
	for (size_t i = 0; i < c->n_md; i++)
		if (strcmp(c->md[i].key, "idempotency-key") != 0)
			md[n_md++] = c->md[i];
	char key[48];
	md[n_md++] = (ob_metadata){"idempotency-key", key};

	size_t created = 0, already = 0, refused = 0, by_state[9] = {0}, by_code[17] = {0};
	int first_refusal = 0;
	bool stopped = false;
	char cats[IMPORT_MAX_FIELD + 1];
	for (size_t i = 0; i < n_rows && !stopped; i++) {
		const import_row *row = &rows[i];
		const char *siren =
		        nz(row->cells[COL_SIREN])[0] != '\0' ? row->cells[COL_SIREN] : "(no SIREN)";
		submit_req s;
		problem probs[IMPORT_MAX_PROBLEMS];
		size_t n_probs;
		row_request(row, cohort, &s, cats, sizeof(cats), probs, &n_probs);
		if (n_probs > 0) {
			printf("line %zu: %s refused INVALID_ARGUMENT: checked before sending\n",
			       row->line, siren);
			for (size_t k = 0; k < n_probs; k++)
				printf("    %s: %s\n", col_names[probs[k].col], probs[k].what);
			refused++;
			by_code[OB_CODE_INVALID_ARGUMENT]++;
			if (first_refusal == 0)
				first_refusal = OB_CODE_INVALID_ARGUMENT;
			continue;
		}
		if (!request_key(&s.rq.base, key)) {
			fprintf(stderr, "onboard import: out of memory\n");
			stopped = true;
			break;
		}
		ob_result r;
		app_t *a = NULL;
		int code;
		for (int attempt = 0;; attempt++) {
			code = ob_client_call_message(client, M_SUBMIT, md, n_md, &s.rq.base,
			                              &onboard__v1__application__descriptor,
			                              (ProtobufCMessage **)&a, c->timeout_ms, &r);
			bool later =
			        !r.local && r.retry_after_ms > 0 &&
			        (code == OB_CODE_UNAVAILABLE || code == OB_CODE_RESOURCE_EXHAUSTED);
			if (!later || attempt + 1 == IMPORT_RETRIES)
				break;
			uint32_t wait = r.retry_after_ms < 10000 ? r.retry_after_ms : 10000;
			ob_result_fini(&r);
			sleep_ms(wait); /* the same key: safe to send again */
		}
		if (code == OB_CODE_OK) {
			struct id_slot *known = id_find(&seen, nz(a->id));
			if (known != NULL) {
				already++;
				if (!quiet) {
					printf("line %zu: %s already imported (%s", row->line,
					       siren, nz(a->id));
					if (known->line != 0)
						printf(", as line %zu", known->line);
					printf(")\n");
				}
			} else {
				created++;
				if ((size_t)a->state < 9)
					by_state[a->state]++;
				if (!quiet) {
					printf("line %zu: %s created %s, ", row->line, siren,
					       state_name((int)a->state));
					print_seat(a);
					printf(" (%s)\n", nz(a->id));
				}
				if (!id_add(&seen, nz(a->id), row->line)) {
					fprintf(stderr, "onboard import: out of memory\n");
					stopped = true;
				}
			}
			protobuf_c_message_free_unpacked(&a->base, NULL);
		} else if (r.local) {
			printf("line %zu: %s not sent: %s\n", row->line, siren, r.message);
			stopped = true;
		} else {
			refused++;
			by_code[code >= 0 && code <= 16 ? code : OB_CODE_UNKNOWN]++;
			if (first_refusal == 0)
				first_refusal = code;
			printf("line %zu: %s refused %s: %s\n", row->line, siren,
			       ob_code_name(code), r.message);
			for (size_t k = 0; k < r.n_violations; k++) {
				int col = column_of_field(r.violations[k].field);
				printf("    %s: %s\n",
				       col >= 0 ? col_names[col] : r.violations[k].field,
				       r.violations[k].description);
			}
		}
		ob_result_fini(&r);
	}

	size_t done = created + already + refused;
	printf("summary: %zu line%s, %zu created (", done, done == 1 ? "" : "s", created);
	bool any = false;
	for (int st = 1; st < 9; st++)
		if (by_state[st] > 0) {
			printf("%s%zu %s", any ? ", " : "", by_state[st], state_name(st));
			any = true;
		}
	printf("%s), %zu already imported, %zu refused", any ? "" : "none", already, refused);
	if (refused > 0) {
		printf(" (");
		any = false;
		for (int k = 0; k <= 16; k++)
			if (by_code[k] > 0) {
				printf("%s%zu %s", any ? ", " : "", by_code[k], ob_code_name(k));
				any = true;
			}
		printf(")");
	}
	printf(" in %.2f s\n", seconds_since(&t0));
	if (stopped) {
		printf("stopped after %zu of %zu lines: run the same import again to resume; lines "
		       "already imported are not created twice\n",
		       done, n_rows);
		rc = OB_EXIT_LOCAL;
	} else {
		rc = first_refusal != 0 ? cli_status_exit(first_refusal) : OB_EXIT_OK;
	}
	import_rows_free(rows, n_rows);
	free(seen.slots);
	return rc;
}

/* ---- export --------------------------------------------------------- */

static const char export_help[] =
        "Usage: onboard export [FILTERS] [--crlf]\n"
        "Writes every application that the filters select as CSV (RFC 4180) on\n"
        "stdout, following the pages to the end: a header line, then one line per\n"
        "application with the columns of 'onboard import' (but accepts_terms)\n"
        "  siren, siret, legal_name, trade_name, naf, vat, employees, turnover_eur,\n"
        "  balance_eur, address, postal_code, city, contact_name, email, phone,\n"
        "  channel, export, categories, cohort\n"
        "and those the server computes\n"
        "  id, state, size, departement, region, submitted_at, version\n"
        "Cells holding a comma, a quote or a line break are quoted. Phones are\n"
        "written in E.164. A cell starting with =, +, -, @, a tab or a carriage\n"
        "return is written with a ' in front, and quoted, so that a spreadsheet\n"
        "shows it as text instead of running it as a formula (OWASP's rule for CSV\n"
        "injection); a phone number in E.164 (+ and 8 to 15 digits) is left as it\n"
        "is. 'onboard import' takes that ' off again. The output holds personal\n"
        "data (contact columns).\n"
        "\n" FILTER_HELP
        "      --crlf              end lines with CRLF, as RFC 4180 says (default LF)\n"
        "Exit status: 0; on an error after some pages, the CSV written so far\n"
        "stays on stdout and the exit status says what happened.\n";

static int cmd_export(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(export_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        FILTER_OPTIONS,
	        {"crlf", no_argument, NULL, O_CRLF},
	        {NULL, 0, NULL, 0},
	};
	list_req l;
	list_req_init(&l);
	const char *eol = "\n";
	int ch, rc;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if ((rc = filter_option("export", ch, optarg, &l)) >= 0) {
			if (rc != 0)
				return rc;
		} else if (ch == O_CRLF) {
			eol = "\r\n";
		} else {
			return cli_bad_option("export", ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("export", "takes flags only, not '%s'", argv[optind]);
	l.rq.page_size = MAX_PAGE_SIZE;

	const char *head[COL_COUNT];
	size_t nh = 0;
	for (int k = 0; k < COL_COUNT; k++)
		if (k != COL_ACCEPTS_TERMS)
			head[nh++] = col_names[k];
	ob_csv_write_record(stdout, head, nh, eol);

	char *token = NULL;
	char cats[IMPORT_MAX_FIELD];
	for (;;) {
		Onboard__V1__ListApplicationsResponse *rs = NULL;
		rc = cli_call(c, M_LIST, &l.rq.base,
		              &onboard__v1__list_applications_response__descriptor,
		              (ProtobufCMessage **)&rs);
		if (rc != OB_EXIT_OK)
			break;
		for (size_t i = 0; i < rs->n_applications; i++) {
			static const Onboard__V1__Company no_company = ONBOARD__V1__COMPANY__INIT;
			static const Onboard__V1__Address no_address = ONBOARD__V1__ADDRESS__INIT;
			static const Onboard__V1__Contact no_contact = ONBOARD__V1__CONTACT__INIT;
			const app_t *a = rs->applications[i];
			const Onboard__V1__Company *co =
			        a->company != NULL ? a->company : &no_company;
			const Onboard__V1__Address *ad =
			        co->address != NULL ? co->address : &no_address;
			const Onboard__V1__Contact *ct =
			        a->contact != NULL ? a->contact : &no_contact;
			char employees[16], turnover[24], balance[24], version[24],
			        chan[CLI_WORD_MAX];
			snprintf(employees, sizeof(employees), "%" PRIu32, co->employees);
			snprintf(turnover, sizeof(turnover), "%" PRId64, co->turnover_eur);
			snprintf(balance, sizeof(balance), "%" PRId64, co->balance_sheet_eur);
			snprintf(version, sizeof(version), "%" PRIu64, a->version);
			size_t used = 0;
			cats[0] = '\0';
			for (size_t k = 0; k < a->n_product_categories && used < sizeof(cats); k++)
				used += (size_t)snprintf(cats + used, sizeof(cats) - used, "%s%s",
				                         k > 0 ? ";" : "",
				                         a->product_categories[k]);
			const char *v[COL_COUNT] = {
			        [COL_SIREN] = co->siren,
			        [COL_SIRET] = co->siret,
			        [COL_LEGAL_NAME] = co->legal_name,
			        [COL_TRADE_NAME] = co->trade_name,
			        [COL_NAF] = co->naf_code,
			        [COL_VAT] = co->vat_number,
			        [COL_EMPLOYEES] = employees,
			        [COL_TURNOVER] = turnover,
			        [COL_BALANCE] = balance,
			        [COL_ADDRESS] = ad->street,
			        [COL_POSTAL] = ad->postal_code,
			        [COL_CITY] = ad->city,
			        [COL_CONTACT] = ct->name,
			        [COL_EMAIL] = ct->email,
			        [COL_PHONE] = ct->phone,
			        [COL_CHANNEL] = a->channel != 0 ? cli_word_of(&cli_channels,
			                                                      (int)a->channel, chan)
			                                        : "",
			        [COL_EXPORT] = a->intends_to_export ? "true" : "false",
			        [COL_CATEGORIES] = cats,
			        [COL_COHORT] = a->cohort_id,
			        [COL_ID] = a->id,
			        [COL_STATE] = state_name((int)a->state),
			        [COL_SIZE] = size_name((int)a->size_category),
			        [COL_DEPARTEMENT] = ad->departement,
			        [COL_REGION] = ad->region,
			        [COL_SUBMITTED_AT] = a->submitted_at,
			        [COL_VERSION] = version,
			};
			const char *out[COL_COUNT];
			size_t no = 0;
			for (int k = 0; k < COL_COUNT; k++)
				if (k != COL_ACCEPTS_TERMS)
					out[no++] = v[k];
			ob_csv_write_record(stdout, out, no, eol);
		}
		bool more = nz(rs->next_page_token)[0] != '\0';
		free(token);
		token = more ? strdup(rs->next_page_token) : NULL;
		protobuf_c_message_free_unpacked(&rs->base, NULL);
		if (!more)
			break;
		if (token == NULL) {
			fprintf(stderr, "onboard export: out of memory\n");
			rc = OB_EXIT_LOCAL;
			break;
		}
		l.rq.page_token = token;
	}
	free(token);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "onboard export: cannot write the CSV: %s\n", strerror(errno));
		if (rc == OB_EXIT_OK)
			rc = OB_EXIT_LOCAL;
	}
	return rc;
}

const cli_command cli_app_commands[] = {
        {"submit", "apply for a seat for a company", cmd_submit},
        {"get", "show an application, by id or SIREN", cmd_get},
        {"list", "list applications, with filters", cmd_list},
        {"review", "start, approve, reject... an application", cmd_review},
        {"withdraw", "withdraw an application, freeing its seat", cmd_withdraw},
        {"cohort", "a cohort's standing; list, create, resize", cmd_cohort},
        {"import", "submit the applications of a CSV file", cmd_import},
        {"export", "write applications as CSV", cmd_export},
        {NULL, NULL, NULL},
};
