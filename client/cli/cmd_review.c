/*
 * Changing an application: onboard review, onboard withdraw, onboard adspend.
 */
#include <stdio.h>

#include "cli.h"
#include "print.h"

/* ---- review ---------------------------------------------------------- */

/* reject needs a reason, the others none; without --version, the current
 * version is read first and sent (the stale-version check is given up). */
static int review_check(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	Onboard__V1__ReviewApplicationRequest *rq = (Onboard__V1__ReviewApplicationRequest *)*req;
	char words[160];
	bool reject = rq->action == ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_REJECT;
	if (reject && rq->rejection_reason == 0)
		return cli_usage(c, "reject needs --reason: %s",
		                 cli_word_list(&cli_reasons, words, sizeof(words)));
	if (!reject && rq->rejection_reason != 0)
		return cli_usage(c, "--reason goes with reject only");
	if (rq->expected_version != 0)
		return OB_EXIT_OK;
	Onboard__V1__GetApplicationRequest get = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
	get.id = rq->id;
	ProtobufCMessage *cur;
	int rc = cli_call(c, "/onboard.v1.Onboarding/GetApplication", NULL, 0, &get.base, &cur);
	if (rc == OB_EXIT_OK) {
		rq->expected_version = ((Onboard__V1__Application *)cur)->version;
		protobuf_c_message_free_unpacked(cur, NULL);
	}
	return rc;
}

static int review_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c;
	const Onboard__V1__Application *app = (const Onboard__V1__Application *)reply;
	char w[CLI_WORD_MAX];
	int action = 0;
	cli_word_value(&cli_actions, cli_arg(a, 1), &action);
	cli_print_outcome(app);
	if (action == ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_REJECT)
		printf("reason: %s\n", cli_word_of(&cli_reasons, (int)app->rejection_reason, w));
	if (app->benefits != NULL && action == ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_APPROVE) {
		fputs("benefits: ", stdout);
		cli_print_benefits(app->benefits, "          ");
	}
	return OB_EXIT_OK;
}

static const cli_option review_options[] = {
        {"reason", 0, CLI_WORD, .metavar = "CODE",
         .help = "for reject: ineligible, incomplete, duplicate,\n"
                 "out-of-scope, fraud or other",
         .field = "rejection_reason", .words = &cli_reasons},
        {"note", 0, CLI_STRING, .metavar = "TEXT", .help = "kept in the application's history",
         .field = "note"},
        {"version", 0, CLI_UINT, .metavar = "N",
         .help = "the version you reviewed ('onboard get' shows it): if\n"
                 "someone changed the application since, the server\n"
                 "refuses (exit 74) and you read it again. Without\n"
                 "--version the CLI first reads the current version and\n"
                 "sends that: the stale-version check is then given up.",
         .field = "expected_version", .min = 1, .max = UINT64_MAX},
        {NULL},
};

static const cli_operand review_operands[] = {
        {"ID", .kind = CLI_STRING, .field = "id"},
        {"ACTION", .kind = CLI_WORD, .field = "action", .words = &cli_actions},
        {NULL},
};

const cli_command cli_cmd_review = {
        .name = "review",
        .summary = "start, approve, reject... an application",
        .synopsis = "ID ACTION [--reason CODE] [--note TEXT] [--version N]",
        .about = "Moves an application through review. ACTION:\n"
                 "  start         SUBMITTED or NEEDS_INFO -> UNDER_REVIEW\n"
                 "  request-info  UNDER_REVIEW -> NEEDS_INFO\n"
                 "  approve       UNDER_REVIEW -> APPROVED, and grants the benefits (what the\n"
                 "                company did not have from another of its applications)\n"
                 "  reject        WAITLISTED, SUBMITTED, UNDER_REVIEW or NEEDS_INFO -> REJECTED;\n"
                 "                needs --reason; a waitlisted one leaves the line\n"
                 "  onboard       APPROVED -> ONBOARDED (the company is live)\n",
        .after = "Prints the new state, and the benefits after approve; --json prints the\n"
                 "Application. Exit status: 0 done; 73 FAILED_PRECONDITION (the action is\n"
                 "not allowed from the current state, or an approval outside the cohort's\n"
                 "approval window); 74 ABORTED (stale --version); 69\n"
                 "NOT_FOUND. --version here is the application's: 'onboard --version' is\n"
                 "the CLI's.\n",
        .options = review_options,
        .operands = review_operands,
        .method = "/onboard.v1.Onboarding/ReviewApplication",
        .check = review_check,
        .print = review_print,
};

/* ---- withdraw -------------------------------------------------------- */

static const cli_option withdraw_options[] = {
        {"reason", 0, CLI_STRING, .metavar = "TEXT",
         .help = "kept in the application's history; required of a\n"
                 "reviewer or an administrator, who withdraws on the\n"
                 "company's request",
         .field = "reason"},
        {"version", 0, CLI_UINT, .metavar = "N",
         .help = "refuse (exit 74) if the application changed since\n"
                 "version N; without it, whatever the version",
         .field = "expected_version", .min = 1, .max = UINT64_MAX},
        {NULL},
};

const cli_command cli_cmd_withdraw = {
        .name = "withdraw",
        .summary = "withdraw an application, freeing its seat",
        .synopsis = "ID [--reason TEXT] [--version N]",
        .about = "The company leaves the programme, or the waitlist: its seat goes to the\n"
                 "next in the waitlist, and the benefits it has not used yet are revoked.\n"
                 "The applicant withdraws its own; a reviewer or an administrator any, on\n"
                 "the company's request, with a --reason.\n",
        .after = "--json prints the Application. Exit status: 0 withdrawn; 67\n"
                 "INVALID_ARGUMENT (staff without --reason); 73 FAILED_PRECONDITION (already\n"
                 "rejected or withdrawn); 74 ABORTED (stale --version); 69 NOT_FOUND.\n",
        .options = withdraw_options,
        .operands = cli_id_operand,
        .method = "/onboard.v1.Onboarding/WithdrawApplication",
        .print = cli_print_change,
        .shows = CLI_SHOWS_BENEFITS,
};

/* ---- adspend --------------------------------------------------------- */

static int adspend_check(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	(void)a;
	const Onboard__V1__RecordAdSpendRequest *rq =
	        (const Onboard__V1__RecordAdSpendRequest *)*req;
	if (rq->amount_cents <= 0)
		return cli_usage(c, "adspend needs --amount EUR, more than 0");
	return OB_EXIT_OK;
}

static const cli_option adspend_options[] = {
        {"amount", 0, CLI_EUROS, .metavar = "EUR", .help = "what the company spent (required)",
         .field = "amount_cents"},
        {"reference", 0, CLI_STRING, .metavar = "REF",
         .help = "the ads service's reference of the spending\n"
                 "(campaign or invoice id; kept in the history)",
         .field = "reference"},
        {NULL},
};

const cli_command cli_cmd_adspend = {
        .name = "adspend",
        .summary = "record ad credit a company spent",
        .synopsis = "ID --amount EUR [--reference REF]",
        .about = "Records that the company spent EUR of its sponsored-ads credit: the\n"
                 "marketplace's ads service does (a key of role ads), or an administrator.\n"
                 "Refused when the company has no credit left for it, its benefits were\n"
                 "revoked, or the credit expired (with the cohort's fee waiver). The call\n"
                 "carries an idempotency key, so that a resent record spends nothing more.\n",
        .after = "--json prints the Application. Exit status: 0 recorded; 67\n"
                 "INVALID_ARGUMENT; 73 FAILED_PRECONDITION (not enough credit left, expired,\n"
                 "revoked, none granted); 69 NOT_FOUND.\n",
        .options = adspend_options,
        .operands = cli_id_operand,
        .check = adspend_check,
        .method = "/onboard.v1.Onboarding/RecordAdSpend",
        .print = cli_print_change,
        .shows = CLI_SHOWS_BENEFITS,
};
