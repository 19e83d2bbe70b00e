/*
 * cli.h: the onboard CLI's commands as a table, and what they share.
 *
 * A command is a row of cli_command: its name, its help, its options and
 * operands, the method it calls and the printer of the reply. One parser
 * (args.c) reads every command line against that table with getopt_long;
 * one path (call.c) builds the request from the options (fill.c), calls, and
 * prints the reply, or the refusal, for people or as JSON. A command writes
 * code of its own only for what the table cannot say: a check between two
 * options, several pages, a CSV file.
 *
 * Exit codes (grpcurl's convention): 0 OK, 1 local error (cannot connect,
 * cannot read a file...), 2 usage, 64 + status code for a non-OK answer
 * (76 = UNIMPLEMENTED), 66 (UNKNOWN) for a code outside the contract's.
 *
 * Threads: none; the parser uses getopt_long's global state.
 */
#ifndef OB_CLI_H
#define OB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "onboard/client.h"
#include "words.h"

enum { OB_EXIT_OK = 0, OB_EXIT_LOCAL = 1, OB_EXIT_USAGE = 2, OB_EXIT_STATUS = 64 };
enum {
	CLI_MAX_SERVERS = 16,
	CLI_MAX_METADATA = 16,
	CLI_MAX_ARGS = 128,      /* options and operands of one command line */
	CLI_MAX_OPTIONS = 64,    /* in one command's table, globals included */
	CLI_MAX_PAGE_SIZE = 500, /* the largest page a List method gives */
};

/* The global options and the connection; cli_init() / cli_fini(). */
typedef struct cli {
	const char *servers[CLI_MAX_SERVERS];
	size_t n_servers;
	int64_t timeout_ms;
	bool json;                        /* replies, and errors on stderr, as JSON */
	bool emit_defaults;               /* JSON: fields at their default value too */
	ob_metadata md[CLI_MAX_METADATA]; /* keys are the cli's (-H), values argv's */
	size_t n_md;
	ob_client_options client_opts;
	ob_client *client; /* opened on first use, by cli_client() */
	const char *path;  /* the command, for messages: "get", "admin erase"; NULL */
} cli;

/* What an option or an operand holds, and so how it is checked and where it
 * can go in a request. */
typedef enum cli_kind {
	CLI_STRING,   /* text as it is; a string field */
	CLI_STRINGS,  /* text, repeatable, every one kept; a repeated string field */
	CLI_UINT,     /* a whole number from min to max; an integer field */
	CLI_EUROS,    /* euros with at most two decimals; an int64 field of cents */
	CLI_HHMM,     /* HH:MM; two uint32 fields, field (hours) and field2 */
	CLI_WORD,     /* a word of words; an enum field */
	CLI_WORDS,    /* words separated by commas, repeatable; a repeated enum field */
	CLI_FLAG,     /* no value; a bool field becomes true */
	CLI_DURATION, /* 500ms, 2s, 1m (values.h); global options only */
} cli_kind;

typedef struct cli_option {
	const char *name; /* without "--"; NULL ends a table */
	char short_name;  /* 0: none */
	cli_kind kind;
	const char *metavar; /* "N", "TEXT"; "FILE" or "...FILE": completed as a file */
	const char *help;    /* for --help; '\n' starts a new line in the column */
	/* Where the value goes in the command's request: a field path such as
	 * "company.address.city"; NULL: nowhere, the command reads it with
	 * cli_opt(). */
	const char *field;
	const char *field2;     /* CLI_HHMM: the minutes */
	const cli_words *words; /* CLI_WORD, CLI_WORDS */
	uint64_t min, max;      /* CLI_UINT: the range; CLI_STRINGS, CLI_WORDS: at most max */
	const char *section;    /* a heading printed above this option in --help */
	/* The value when the option is not given: in the request, from
	 * cli_opt(), and in --help. NULL: none (the field stays at its default,
	 * cli_opt() gives NULL). */
	const char *dflt;
} cli_option;

typedef struct cli_operand {
	const char *metavar; /* "ID"; NULL ends a table */
	cli_kind kind;       /* CLI_STRING or CLI_WORD */
	const char *field;   /* NULL: the command reads it with cli_arg() */
	const cli_words *words;
	bool optional; /* it and those after it may be left out */
	bool rest;     /* the last one: any number of them */
} cli_operand;

typedef struct cli_command cli_command;

/* One command line as cli_parse() read it. Strings point into argv. */
typedef struct cli_args {
	const cli_command *cmd;   /* NULL: none given, or a group without one */
	const cli_command *group; /* admin, for onboard admin erase */
	char path[64];            /* "admin erase", for messages */
	struct cli_seen {
		const cli_option *opt;
		const char *value; /* NULL for a flag */
	} seen[CLI_MAX_ARGS];      /* the command's options, in order */
	size_t n_seen;
	const char *operands[CLI_MAX_ARGS];
	size_t n_operands;
	bool help, version;
	char err[512]; /* the first usage error, "" if none */
} cli_args;

/* Prints a successful reply for people (not under --json); returns an exit
 * status, 0 unless printing failed. */
typedef int (*cli_printer)(cli *c, const cli_args *a, const ProtobufCMessage *reply);
/* The exit status a successful reply deserves (health: 78 unless SERVING). */
typedef int (*cli_verdict)(const ProtobufCMessage *reply);

struct cli_command {
	const char *name;
	const char *summary;         /* one line in 'onboard --help' */
	const char *synopsis;        /* after "Usage: onboard NAME "; '\n' starts another */
	const char *about;           /* what it does, before the options */
	const char *after;           /* after the options: what it prints, exit status */
	const cli_option *options;   /* NULL: none */
	const cli_operand *operands; /* NULL: none */
	/* The method called, "/onboard.v1.Health/Check"; NULL for local
	 * commands. */
	const char *method;
	/* What the options and operands fill; NULL: the method's input. */
	const ProtobufCMessageDescriptor *request;
	/* After the request is filled, before the call: checks that involve
	 * several options (a usage error returns 2), or a request of another
	 * source (*req may be replaced). Returns an exit status, 0 to call. */
	int (*check)(cli *c, const cli_args *a, ProtobufCMessage **req);
	cli_printer print; /* NULL: the reply as JSON, even without --json */
	/* With print = cli_print_change: what it shows of the Application
	 * under its outcome line, CLI_SHOWS_* bits. */
	unsigned shows;
	cli_verdict verdict; /* NULL: 0 */
	/* Instead of the path above (which it may call: cli_run_call()). */
	int (*run)(cli *c, const cli_args *a);
	/* A group: its subcommands, NULL-ended (onboard admin erase). */
	const cli_command *const *subcommands;
};

/* ---- the table (commands.c) ------------------------------------------ */

/* Every top-level command, in the order of 'onboard --help'; NULL-ended. */
extern const cli_command *const cli_commands[];
/* The global options, accepted before and after the command. */
extern const cli_option cli_global_options[];

/* The parts of an Application that cli_print_change shows under its outcome
 * line, as the command's row asks (cli_command.shows). */
enum {
	CLI_SHOWS_COMPANY = 1u << 0,  /* "NAME, SIREN N, SIZE, cohort ID" */
	CLI_SHOWS_BENEFITS = 1u << 1, /* "benefits: ...", when it has any */
	CLI_SHOWS_BOOKING = 1u << 2,  /* "webinar: ...", "none" when it has none */
	CLI_SHOWS_ADVISOR = 1u << 3,  /* "advisor: #N NAME", when it has one */
};
/* The printer of the commands whose reply is the Application they changed:
 * its outcome line, then what a->cmd->shows names (print_app.c). */
int cli_print_change(cli *c, const cli_args *a, const ProtobufCMessage *reply);

/* The rows, each defined in the file of its group. */
extern const cli_command cli_cmd_keygen, cli_cmd_login, cli_cmd_whoami, cli_cmd_health,
        cli_cmd_methods, cli_cmd_describe, cli_cmd_call, cli_cmd_submit, cli_cmd_get, cli_cmd_list,
        cli_cmd_review, cli_cmd_withdraw, cli_cmd_adspend, cli_cmd_webinar, cli_cmd_advisor,
        cli_cmd_cohort, cli_cmd_import, cli_cmd_export, cli_cmd_admin;

/* Operands several commands take: an application ID into the field "id",
 * required or not. */
extern const cli_operand cli_id_operand[], cli_optional_id_operand[];

/* The command named name among table (NULL-ended), or NULL. */
const cli_command *cli_find_command(const cli_command *const *table, const char *name);

/* ---- parsing (args.c) ------------------------------------------------- */

/* Sets the defaults: a 10 s timeout, no servers. */
void cli_init(cli *c);
/* Closes the client and frees what the options allocated; accepts NULL. */
void cli_fini(cli *c);

/*
 * Reads argv into c (global options) and *a (the command, its options and
 * operands) with getopt_long: global options before and after the command,
 * "--name value" and "--name=value" alike, "--" ends the options. Every
 * value is checked here (numbers, durations, words, counts), so that a bad
 * one is a usage error before anything is sent. Prints nothing: returns 0,
 * or 2 with the first problem in a->err. argv is not changed.
 * -H keys are copied: cli_fini() frees them.
 */
int cli_parse(cli *c, int argc, char **argv, cli_args *a);

/* $ONBOARD_SERVER_UID and $ONBOARD_KEY where no option said otherwise;
 * returns 0, or 2 after a usage error. */
int cli_apply_env(cli *c);

/* The value of the last --name: "" for a flag; its default (cli_option)
 * or NULL when it was not given. */
const char *cli_opt(const cli_args *a, const char *name);
/* How many times --name was given. */
size_t cli_opt_count(const cli_args *a, const char *name);
/* Operand i, or NULL. */
const char *cli_arg(const cli_args *a, size_t i);

/* ---- help (help.c) ----------------------------------------------------- */

/* 'onboard --help': the global options and the commands. */
void cli_print_usage(FILE *f);
/* A command's or a group's help; path is how it is called ("admin erase"). */
void cli_print_help(FILE *f, const cli_command *cmd, const char *path);
/* The bash completion script, from the table. */
void cli_print_bash_completion(FILE *f);

/* ---- requests (fill.c) ------------------------------------------------- */

/* A new message of type d, all defaults; NULL when out of memory. Freed
 * with protobuf_c_message_free_unpacked(m, NULL), like every message here. */
ProtobufCMessage *cli_message_new(const ProtobufCMessageDescriptor *d);
/* Puts the options and operands of a that have a field into m (which must be
 * of the type the command fills), and the defaults of the options not given;
 * values were checked by cli_parse().
 * Returns 0, or 1 after printing why (out of memory). */
int cli_fill(cli *c, const cli_args *a, ProtobufCMessage *m);
/* Sets the string field at path to a copy of value; false when out of
 * memory or when m has no such string field. */
bool cli_set_string(ProtobufCMessage *m, const char *path, const char *value);
/* Sets the integer field at path to v (cut to its width); false when out of
 * memory or when m has no such integer field. */
bool cli_set_uint(ProtobufCMessage *m, const char *path, uint64_t v);
/* The scalar field at path of m as text, for columns: a string as it is,
 * an integer in decimal (written into buf, n bytes), a bool "true" or
 * "false"; a field of a sub-message m lacks reads as its default, a member
 * of a oneof that is not the one set as "" (not given). NULL for an enum, a
 * repeated field, or no such field. The text is m's or buf's. */
const char *cli_field_text(const ProtobufCMessage *m, const char *path, char *buf, size_t n);
/* Whether option o (or operand field/kind) fits a field of d: for the
 * table's test. false with the reason in why. */
bool cli_field_fits(const ProtobufCMessageDescriptor *d, const char *path, cli_kind kind, char *why,
                    size_t n);

/* ---- calls and output (call.c) ----------------------------------------- */

/* Opens the client if needed; on failure prints why and returns NULL. */
ob_client *cli_client(cli *c);
/* The contract's services, NULL-ended. */
extern const ProtobufCServiceDescriptor *const cli_services[];
/* Finds a method by "/pkg.Service/Method", "pkg.Service/Method" or
 * "pkg.Service.Method" among the contract's services; writes the canonical
 * full name into full (n bytes) unless full is NULL. */
const ProtobufCMethodDescriptor *cli_find_method(const char *name, char *full, size_t n);
/*
 * Calls method with req and the global metadata plus extra (n_extra). On a
 * non-OK answer prints it (cli_print_status) and returns its exit status;
 * on OK unpacks the reply, of the method's output type, into *reply (the
 * caller frees) and returns 0.
 */
int cli_call(cli *c, const char *method, const ob_metadata *extra, size_t n_extra,
             const ProtobufCMessage *req, ProtobufCMessage **reply);
/* cli_call(), then the reply printed: as JSON under --json or without a
 * printer, else by print; then verdict's exit status. */
int cli_invoke(cli *c, const cli_args *a, const char *method, const ProtobufCMessage *req,
               cli_printer print, cli_verdict verdict);
/* A new request of the type the command fills, with its options and
 * operands in it; 0, or an exit status after saying why. */
int cli_request(cli *c, const cli_args *a, ProtobufCMessage **req);
/* The path of a command without run: request, check, invoke. */
int cli_run_call(cli *c, const cli_args *a);

/* One page of a listing, given to a cli_pages() callback: it may keep the
 * reply (setting *page to NULL) or leave it to be freed. */
typedef int (*cli_page_fn)(cli *c, void *ctx, ProtobufCMessage **page);
/*
 * Calls method (a List method: its request has page_token, its reply
 * next_page_token) with req, passes each reply to each, and while all and
 * the reply names a next page, asks for that one. Stops at the first exit
 * status other than 0, from the call or from each. req's page_token is
 * changed on the way.
 */
int cli_pages(cli *c, const char *method, ProtobufCMessage *req, bool all, cli_page_fn each,
              void *ctx);
/* The path of a listing command: its request from the command line
 * (cli_request), then cli_pages() with the command's method. With all and
 * no --page-size, the pages are the largest (CLI_MAX_PAGE_SIZE): following
 * them to the end takes the fewest calls. */
int cli_run_pages(cli *c, const cli_args *a, bool all, cli_page_fn each, void *ctx);

/* The exit status of a non-OK code: 64 + code for the contract's codes
 * (1..16), 64 + UNKNOWN for any other, so that no code ends as exit status 0.
 * The library already turns unknown codes into UNKNOWN; this holds even with
 * another build of libonboard-client.so, which the CLI links dynamically. */
int cli_status_exit(int code);
/* ---- errors on stderr (report.c) --------------------------------------- */

/*
 * A non-OK result on stderr: a remote refusal (code, message, field
 * violations, retry-after), or a local failure ("onboard: message"). Under
 * --json one JSON object on one line instead, with the proto field names:
 * {"code":"NOT_FOUND","message":"...","field_violations":[{"field":"...",
 * "description":"..."}]}, plus "retry_after_ms" and "request_id" when the
 * server gave them, and "local":true for a local failure (its code is the
 * library's: UNAVAILABLE, DEADLINE_EXCEEDED...).
 */
void cli_print_status(const cli *c, const ob_result *r);
/*
 * An error of the command c->path that is not the server's: "onboard CMD:
 * message" on stderr, followed for a usage error (rc 2) by where the help
 * is. Under --json one JSON object on one line instead:
 * {"code":"UNKNOWN","message":"...","local":true}, or for a usage error
 * {"code":"INVALID_ARGUMENT","message":"...","usage":true}. Returns rc.
 */
int cli_report(const cli *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A local error (exit status 1) and a usage error (2), as cli_report(). */
#define cli_fail(c, ...)  cli_report((c), OB_EXIT_LOCAL, __VA_ARGS__)
#define cli_usage(c, ...) cli_report((c), OB_EXIT_USAGE, __VA_ARGS__)
/* No server to call (the client cannot open): "onboard: message", or as
 * JSON with the code UNAVAILABLE and "local":true. */
void cli_unreachable(const cli *c, const char *message);

/* ---- output ------------------------------------------------------------ */
/* m as proto3 JSON on stdout, pretty, with --emit-defaults' zero values. */
int cli_print_json(const cli *c, const ProtobufCMessage *m);
/* The flags of ob_json_*() that the global options ask for. */
unsigned cli_json_flags(const cli *c);
/* Reads the whole of a file, or stdin for "-"; NUL-terminated; caller frees;
 * NULL with errno set on failure. */
char *cli_read_file(const char *path, size_t *len);

#endif
