/*
 * cli.h: what the onboard CLI's commands share.
 *
 * Exit codes (grpcurl's convention): 0 OK, 1 local error (cannot connect,
 * cannot read a file...), 2 usage, 64 + status code for a non-OK answer
 * (76 = UNIMPLEMENTED).
 */
#ifndef OB_CLI_H
#define OB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "onboard/client.h"

enum { OB_EXIT_OK = 0, OB_EXIT_LOCAL = 1, OB_EXIT_USAGE = 2, OB_EXIT_STATUS = 64 };
enum { CLI_MAX_SERVERS = 16, CLI_MAX_METADATA = 16 };

typedef struct cli {
	const char *servers[CLI_MAX_SERVERS];
	size_t n_servers;
	int64_t timeout_ms;
	bool json;
	ob_metadata md[CLI_MAX_METADATA];
	size_t n_md;
	ob_client_options client_opts;
	ob_client *client; /* opened on first use */
	const char *prog;
} cli;

typedef struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(cli *c, int argc, char **argv); /* argv[0] is the command name */
} cli_command;

/* Opens the client if needed; on failure prints why and returns NULL. */
ob_client *cli_client(cli *c);
/* Calls method; on a non-OK answer prints it to stderr and returns the exit
 * code; on OK unpacks the reply into *resp (caller frees) and returns 0. */
int cli_call(cli *c, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp);
/* Same, with extra metadata for this call only (e.g. an idempotency key). */
int cli_call_md(cli *c, const char *method, const ob_metadata *extra, size_t n_extra,
                const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
                ProtobufCMessage **resp);
/* The exit status of a non-OK code: 64 + code for the contract's codes
 * (1..16), 64 + UNKNOWN for any other, so that no code ends as exit status 0.
 * The library already turns unknown codes into UNKNOWN; this holds even with
 * another build of libonboard-client.so, which the CLI links dynamically. */
int cli_status_exit(int code);
/* Prints a non-OK result to stderr: code, message, field violations. */
void cli_print_status(const cli *c, const ob_result *r);
/* Prints m as proto3 JSON on stdout (pretty). */
int cli_print_json(const ProtobufCMessage *m);
/* Reads the whole of a file, or stdin for "-"; NUL-terminated; caller frees. */
char *cli_read_file(const char *path, size_t *len);
/* Usage error: prints "onboard CMD: msg" and a pointer to --help; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Before a command's getopt_long loop: a full re-initialisation, no message
 * from getopt itself (commands say what is wrong in their own words). */
void cli_start_options(void);
/* getopt_long's complaint about argv (ch is what it returned), as a usage
 * error of cmd; returns 2. */
int cli_bad_option(const char *cmd, int ch, char **argv);
/* True if argv has --help or -h (commands print their help and exit 0). */
bool cli_wants_help(int argc, char **argv);
/* Finds a method by "/pkg.Service/Method", "pkg.Service/Method" or
 * "pkg.Service.Method" among the contract's services; writes the canonical
 * full name into full (n bytes). */
const ProtobufCMethodDescriptor *cli_find_method(const char *name, char *full, size_t n);

extern const cli_command cli_rpc_commands[];
extern const cli_command cli_app_commands[];
extern const cli_command cli_admin_commands[];

#endif
