/*
 * onboard webinar: book, move and cancel a company's webinar session, record
 * who came, and list the sessions with their seats left.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

static const cli_option book_options[] = {
        {"topic", 0, CLI_WORD, .metavar = "TOPIC", .words = &cli_topics,
         .help = "marketplace (joining it) or own-webshop (webshop);\nrequired", .field = "topic"},
        {"at", 0, CLI_STRING, .metavar = "TIME",
         .help = "the session's start (RFC 3339, from 'webinar\nsessions'); default: the next "
                 "one with a seat left",
         .field = "session_at"},
        {NULL},
};

static int book_check(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	(void)a;
	if (((const Onboard__V1__BookWebinarRequest *)*req)->topic == 0)
		return cli_usage(c, "webinar book needs --topic marketplace or own-webshop");
	return OB_EXIT_OK;
}

static const cli_command webinar_book = {
        .name = "book",
        .summary = "book (or move) an application's webinar session",
        .synopsis = "ID --topic TOPIC [--at TIME]",
        .about = "Books a seat at a webinar session for the company, before or after its\n"
                 "approval, or moves its booking to another session (its old seat is freed).\n"
                 "Each session day has one session per topic at the cohort's webinar hour.\n",
        .after = "--json prints the Application. Exit status: 0 booked; 67 INVALID_ARGUMENT\n"
                 "(not a session of the cohort); 73 FAILED_PRECONDITION (full, too soon, after\n"
                 "the cohort's end, rejected or withdrawn); 69 NOT_FOUND.\n",
        .options = book_options,
        .operands = cli_id_operand,
        .check = book_check,
        .method = "/onboard.v1.Onboarding/BookWebinar",
        .print = cli_print_change,
        .shows = CLI_SHOWS_BOOKING,
};

static const cli_command webinar_cancel = {
        .name = "cancel",
        .summary = "cancel an application's webinar booking",
        .synopsis = "ID",
        .about = "Gives back the company's seat, before its session begins.\n",
        .after = "Exit status: 0 cancelled; 73 FAILED_PRECONDITION (no booking, or it began).\n",
        .operands = cli_id_operand,
        .method = "/onboard.v1.Onboarding/CancelWebinar",
        .print = cli_print_change,
        .shows = CLI_SHOWS_BOOKING,
};

/* attended and missed: one method, the word says which. */
static int attendance_check(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	(void)c;
	((Onboard__V1__RecordWebinarAttendanceRequest *)*req)->attended =
	        strcmp(a->cmd->name, "attended") == 0;
	return OB_EXIT_OK;
}

/* attended and missed differ only in their word and summary. */
#define ATTENDANCE_ROW(word, what)                                                                 \
	{                                                                                          \
		.name = word, .summary = what, .synopsis = "ID",                                   \
		.about = "Reviewers and administrators, once the session has begun.\n",            \
		.operands = cli_id_operand, .check = attendance_check,                             \
		.method = "/onboard.v1.Onboarding/RecordWebinarAttendance",                        \
		.print = cli_print_change, .shows = CLI_SHOWS_BOOKING,                             \
	}
static const cli_command webinar_attended =
        ATTENDANCE_ROW("attended", "record that the company came to its session");
static const cli_command webinar_missed =
        ATTENDANCE_ROW("missed", "record that the company did not come");

static int sessions_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	const Onboard__V1__ListWebinarSessionsResponse *r =
	        (const Onboard__V1__ListWebinarSessionsResponse *)reply;
	char t[48], w[CLI_WORD_MAX];
	printf("%-24s  %-12s  %5s  %6s  %4s\n", "SESSION", "TOPIC", "SEATS", "BOOKED", "LEFT");
	for (size_t i = 0; i < r->n_sessions; i++) {
		const Onboard__V1__WebinarSession *s = r->sessions[i];
		printf("%-24s  %-12s  %5" PRIu32 "  %6" PRIu32 "  %4" PRIu32 "\n",
		       cli_when(s->at, t, sizeof(t)), cli_word_of(&cli_topics, (int)s->topic, w),
		       s->seats, s->booked, s->seats_left);
	}
	return OB_EXIT_OK;
}

static const cli_option sessions_options[] = {
        {"cohort", 0, CLI_STRING, .metavar = "ID", .help = "default: 2020-11",
         .field = "cohort_id"},
        {"from", 0, CLI_STRING, .metavar = "DATE", .help = "the first day (required)",
         .field = "from"},
        {"to", 0, CLI_STRING, .metavar = "DATE", .help = "the last day, 62 days at most",
         .field = "to"},
        {"topic", 0, CLI_WORD, .metavar = "TOPIC", .words = &cli_topics, .help = "one topic only",
         .field = "topic"},
        {NULL},
};

static const cli_command webinar_sessions = {
        .name = "sessions",
        .summary = "a cohort's sessions and the seats left",
        .synopsis = "--from DATE --to DATE [--cohort ID] [--topic TOPIC]",
        .about = "Lists the sessions of the days from --from to --to (Paris dates), one per\n"
                 "topic and session day, with the seats booked and left.\n",
        .after = "--json prints the ListWebinarSessionsResponse.\n",
        .options = sessions_options,
        .method = "/onboard.v1.Onboarding/ListWebinarSessions",
        .print = sessions_print,
};

static const cli_command *const webinar_commands[] = {
        &webinar_book, &webinar_cancel, &webinar_attended, &webinar_missed, &webinar_sessions, NULL,
};

const cli_command cli_cmd_webinar = {
        .name = "webinar",
        .summary = "book, move or cancel webinar seats, attendance, sessions",
        .synopsis = "SUBCOMMAND [ARGS]",
        .about = "The programme's webinars: two topics (joining the marketplace, opening one's\n"
                 "own web shop), a session of each per session day, booked by the company.\n",
        .subcommands = webinar_commands,
};
