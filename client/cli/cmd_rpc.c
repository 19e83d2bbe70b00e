/*
 * The generic commands: keygen, login, whoami, health, methods, call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "json_codec.h"
#include "keyfile.h"
#include "login_message.h"
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

/* ---- login ----------------------------------------------------------- */

static int login_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c;
	const Onboard__V1__LoginResponse *rs = (const Onboard__V1__LoginResponse *)reply;
	if (cli_opt(a, "print-token") != NULL)
		printf("%s\n", rs->token);
	else
		printf("token       %s\nexpires at  %s\nrole        %s\nkey id      %s\n",
		       rs->token, rs->expires_at, rs->role, rs->key_id);
	return OB_EXIT_OK;
}

/* Signs one login with the --key file, as the client library does before its first call, but
 * hands the session token to the caller instead of keeping it: for the dashboard's sign-in,
 * curl, or a program of another language. The library must not log in by itself first (that
 * would spend a second login on the way), so the call goes out without the key. */
static int login_run(cli *c, const cli_args *a)
{
	const char *key = c->client_opts.key_file;
	if (key == NULL || key[0] == '\0')
		return cli_usage(c, "needs a key: onboard --key FILE login (or $ONBOARD_KEY)");
	c->client_opts.key_file = NULL;
	if (sodium_init() < 0)
		return cli_fail(c, "libsodium cannot start");
	uint8_t seed[32], nonce[OB_LOGIN_NONCE_LEN], sig[64];
	char id[OB_KEYFILE_ID_LEN + 1], err[512];
	if (ob_keyfile_load(key, seed, id, err, sizeof(err)) != 0)
		return cli_fail(c, "%s", err);
	if (cli_client(c) == NULL) { /* fills the default server in c->servers */
		sodium_memzero(seed, sizeof(seed));
		return OB_EXIT_LOCAL;
	}
	const char *audience = cli_opt(a, "audience");
	const char *const *aud = audience != NULL ? &audience : c->servers;
	size_t n_aud = audience != NULL ? 1 : c->n_servers;
	if (n_aud > OB_LOGIN_MAX_AUDIENCES)
		n_aud = OB_LOGIN_MAX_AUDIENCES;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t ts = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	randombytes_buf(nonce, sizeof(nonce));
	int signed_ok = ob_keyfile_sign_login(seed, id, ts, nonce, aud, n_aud, sig);
	sodium_memzero(seed, sizeof(seed));
	if (signed_ok != 0)
		return cli_usage(
		        c,
		        "cannot sign a login for those names: 1 to %d audiences of 1 to %d "
		        "bytes (--audience NAME)",
		        OB_LOGIN_MAX_AUDIENCES, OB_LOGIN_MAX_AUDIENCE_LEN);
	Onboard__V1__LoginRequest req = ONBOARD__V1__LOGIN_REQUEST__INIT;
	req.key_id = id;
	req.timestamp_ms = ts;
	req.nonce = (ProtobufCBinaryData){sizeof(nonce), nonce};
	req.signature = (ProtobufCBinaryData){sizeof(sig), sig};
	req.n_audience = n_aud;
	req.audience = (char **)aud;
	return cli_invoke(c, a, "/onboard.v1.Auth/Login", &req.base, login_print, NULL);
}

static const cli_option login_options[] = {
        {"print-token", 0, CLI_FLAG, .help = "print the session token alone (for a script)"},
        {"audience", 0, CLI_STRING, .metavar = "NAME",
         .help = "the server the login is for (default: the --server URLs);\n"
                 "one of its --listen, --http or --audience names"},
        {NULL},
};

const cli_command cli_cmd_login = {
        .name = "login",
        .summary = "log in with --key and print the session token",
        .synopsis = "[--print-token] [--audience NAME]",
        .about = "Logs in with the key of --key (one Ed25519 signature, as every call with a\n"
                 "key does) and prints the session token the server gives, with its expiry\n"
                 "and role. The token stands for the key until it expires: paste it into the\n"
                 "dashboard's sign-in, or send it as 'Authorization: Bearer TOKEN' over HTTP.\n"
                 "Keep it as you keep the key.\n",
        .after = "Example: onboard --key reviewer.key login --print-token\n",
        .options = login_options,
        .request = &onboard__v1__login_request__descriptor,
        .run = login_run,
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
