/*
 * The generic commands: keygen, whoami, health, methods, call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "json_codec.h"
#include "keyfile.h"
#include "onboard/v1/auth.pb-c.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/reflection.pb-c.h"

/* ---- keygen ---------------------------------------------------------- */

static int keygen_run(cli *c, const cli_args *a)
{
	const char *out = cli_opt(a, "out"), *role = cli_opt(a, "role"),
	           *label = cli_opt(a, "label");
	char canonical[CLI_WORD_MAX];
	int v = 0;
	if (out == NULL)
		return cli_usage(c, "needs --out FILE");
	if (cli_word_value(&cli_roles, role, &v))
		role = cli_word_of(&cli_roles, v, canonical); /* as the keyring spells it */
	if (sodium_init() < 0)
		return cli_fail(c, "libsodium cannot start");
	char id[OB_KEYFILE_ID_LEN + 1], pk[64], err[512];
	if (ob_keyfile_generate(out, id, pk, err, sizeof(err)) != 0)
		return cli_fail(c, "%s", err);
	printf("key id      %s\npublic key  %s\nsecret in   %s (mode 0600; keep it there)\n\n"
	       "keyring line:\n%s %s %s - - %s\n",
	       id, pk, out, id, role, pk, label);
	return OB_EXIT_OK;
}

static const cli_option keygen_options[] = {
        {"out", 0, CLI_STRING, .metavar = "FILE", .help = "where the secret seed goes (required)"},
        {"role", 0, CLI_WORD, .metavar = "ROLE",
         .help = "applicant, partner, reviewer, admin or ads", .words = &cli_roles,
         .dflt = "applicant"},
        {"label", 0, CLI_STRING, .metavar = "TEXT", .help = "who holds the key, for the keyring",
         .dflt = "onboard key"},
        {NULL},
};

const cli_command cli_cmd_keygen = {
        .name = "keygen",
        .summary = "make a key for a caller",
        .synopsis = "--out FILE [--role ROLE] [--label TEXT]",
        .about = "Makes an Ed25519 key for a caller. The secret seed goes to FILE, created\n"
                 "with mode 0600 (an existing file is never overwritten). Prints the key id,\n"
                 "the public key, and the line to add to the server's keyring (--keyring).\n",
        .after = "Then: onboard --key FILE ...\n",
        .options = keygen_options,
        .run = keygen_run,
};

/* ---- whoami ---------------------------------------------------------- */

static int whoami_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	const Onboard__V1__WhoAmIResponse *rs = (const Onboard__V1__WhoAmIResponse *)reply;
	printf("%s (%s)\n", rs->principal, rs->role);
	return OB_EXIT_OK;
}

const cli_command cli_cmd_whoami = {
        .name = "whoami",
        .summary = "who the server takes you for",
        .about = "Who the server takes you for: key id and role.\n",
        .method = "/onboard.v1.Auth/WhoAmI",
        .print = whoami_print,
};

/* ---- health ---------------------------------------------------------- */

static int health_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	const Onboard__V1__HealthCheckResponse *rs =
	        (const Onboard__V1__HealthCheckResponse *)reply;
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	        &onboard__v1__health_check_response__serving_status__descriptor, (int)rs->status);
	puts(v != NULL ? v->name : "UNKNOWN");
	return OB_EXIT_OK;
}

static int health_verdict(const ProtobufCMessage *reply)
{
	const Onboard__V1__HealthCheckResponse *rs =
	        (const Onboard__V1__HealthCheckResponse *)reply;
	return rs->status == ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
	               ? OB_EXIT_OK
	               : OB_EXIT_STATUS + OB_CODE_UNAVAILABLE;
}

static const cli_operand health_operands[] = {
        {"SERVICE", .kind = CLI_STRING, .field = "service", .optional = true},
        {NULL},
};

const cli_command cli_cmd_health = {
        .name = "health",
        .summary = "is the server serving?",
        .synopsis = "[SERVICE]",
        .about = "Asks the server whether it serves (SERVING), is draining (NOT_SERVING),\n"
                 "or does not know SERVICE (SERVICE_UNKNOWN). Exits 0 only when SERVING,\n"
                 "78 (64 + UNAVAILABLE) otherwise, also with --json.\n",
        .operands = health_operands,
        .method = "/onboard.v1.Health/Check",
        .print = health_print,
        .verdict = health_verdict,
};

/* ---- methods --------------------------------------------------------- */

static int methods_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	const Onboard__V1__ListServicesResponse *rs =
	        (const Onboard__V1__ListServicesResponse *)reply;
	for (size_t i = 0; i < rs->n_services; i++)
		for (size_t m = 0; m < rs->services[i]->n_methods; m++) {
			const Onboard__V1__MethodInfo *mi = rs->services[i]->methods[m];
			printf("%s(%s) returns (%s)\n", mi->full_name, mi->input_type,
			       mi->output_type);
		}
	return OB_EXIT_OK;
}

const cli_command cli_cmd_methods = {
        .name = "methods",
        .summary = "list the server's methods",
        .about = "Lists the server's services and methods, from its reflection service,\n"
                 "as full names for 'onboard call'. With --json, with their types.\n",
        .method = "/onboard.v1.Reflection/ListServices",
        .print = methods_print,
};

/* ---- call ------------------------------------------------------------ */

/*
 * The request of 'call' packed: text in the JSON mapping of md's input, or,
 * for a method this CLI does not know (md NULL), nothing at all, which only
 * "{}" may ask for. Returns 0 with *out (caller frees), or an exit status
 * after saying why.
 */
static int pack_request(cli *c, const ProtobufCMethodDescriptor *md, const char *method,
                        const char *text, size_t len, uint8_t **out, size_t *out_len)
{
	char err[512];
	*out = NULL;
	*out_len = 0;
	if (md == NULL) {
		json_error_t je;
		json_t *j = json_loadb(text, len, 0, &je);
		bool empty = j != NULL && json_is_object(j) && json_object_size(j) == 0;
		json_decref(j);
		/* Not in this CLI's contract: sent anyway with an empty request,
		 * so that the server says whether it knows the method. */
		return empty ? OB_EXIT_OK
		             : cli_usage(c, "unknown method '%s'; 'onboard methods' lists them",
		                         method);
	}
	ProtobufCMessage *in = ob_json_parse_message(text, len, md->input, err, sizeof(err));
	if (in == NULL)
		return cli_usage(c, "the request is not a valid %s: %s", md->input->name, err);
	*out_len = protobuf_c_message_get_packed_size(in);
	*out = malloc(*out_len > 0 ? *out_len : 1);
	if (*out != NULL)
		protobuf_c_message_pack(in, *out);
	protobuf_c_message_free_unpacked(in, NULL);
	return *out != NULL ? OB_EXIT_OK : cli_fail(c, "out of memory");
}

/* The reply of 'call' as JSON: of md's output, or its size alone. */
static int print_reply(cli *c, const ProtobufCMethodDescriptor *md, const ob_result *r)
{
	if (md == NULL) {
		printf("{\"unknownReplyBytes\": %zu}\n", r->payload_len);
		return OB_EXIT_OK;
	}
	ProtobufCMessage *out =
	        protobuf_c_message_unpack(md->output, NULL, r->payload_len, r->payload);
	if (out == NULL)
		return cli_fail(c, "the reply is not a valid %s", md->output->name);
	int rc = cli_print_json(c, out);
	protobuf_c_message_free_unpacked(out, NULL);
	return rc;
}

static int call_run(cli *c, const cli_args *a)
{
	const char *method = cli_arg(a, 0), *arg = cli_arg(a, 1);
	char *owned = NULL, full[256];
	if (arg == NULL)
		arg = "{}";
	size_t len = strlen(arg);
	if (arg[0] == '@' || strcmp(arg, "-") == 0) {
		const char *path = arg[0] == '@' ? arg + 1 : "-";
		if ((owned = cli_read_file(path, &len)) == NULL)
			return cli_fail(c, "cannot read %s: %s",
			                strcmp(path, "-") == 0 ? "stdin" : path, strerror(errno));
		arg = owned;
	}
	const ProtobufCMethodDescriptor *md = cli_find_method(method, full, sizeof(full));
	uint8_t *payload;
	size_t payload_len;
	int rc = pack_request(c, md, method, arg, len, &payload, &payload_len);
	free(owned);
	ob_client *client = rc == OB_EXIT_OK ? cli_client(c) : NULL;
	if (client == NULL) {
		free(payload);
		return rc != OB_EXIT_OK ? rc : OB_EXIT_LOCAL;
	}
	ob_result r;
	int code = ob_client_call(client, md != NULL ? full : method, c->md, c->n_md, payload,
	                          payload_len, c->timeout_ms, &r);
	free(payload);
	if (code != OB_CODE_OK) {
		cli_print_status(c, &r);
		rc = r.local ? OB_EXIT_LOCAL : cli_status_exit(code);
	} else {
		rc = print_reply(c, md, &r);
	}
	ob_result_fini(&r);
	return rc;
}

static const cli_operand call_operands[] = {
        {"METHOD", .kind = CLI_STRING},
        {"REQUEST", .kind = CLI_STRING, .optional = true},
        {NULL},
};

const cli_command cli_cmd_call = {
        .name = "call",
        .summary = "call any method with JSON, like grpcurl",
        .synopsis = "METHOD [JSON | @FILE | -]",
        .about = "Calls any method with a request written in the proto3 JSON mapping\n"
                 "(lowerCamelCase or proto field names, enums by name, 64-bit integers as\n"
                 "strings, bytes in base64) and prints the reply as JSON. METHOD is a full\n"
                 "name such as /onboard.v1.Onboarding/GetCohort ('onboard methods' lists\n"
                 "them). The request is read from a file with @FILE, from stdin with -,\n"
                 "and is {} when omitted.\n"
                 "Example: onboard call /onboard.v1.Onboarding/GetCohort '{\"id\":\"2020-11\"}'\n",
        .operands = call_operands,
        .run = call_run,
};
