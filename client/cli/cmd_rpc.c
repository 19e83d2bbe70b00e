/*
 * The generic commands: health, methods, call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_codec.h"
#include <sodium.h>

#include "keyfile.h"
#include "onboard/v1/auth.pb-c.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/reflection.pb-c.h"
#include "words.h"

static int cmd_health(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		puts("Usage: onboard health [SERVICE]\n"
		     "Asks the server whether it serves (SERVING), is draining (NOT_SERVING),\n"
		     "or does not know SERVICE (SERVICE_UNKNOWN). Exits 0 only when SERVING,\n"
		     "78 (64 + UNAVAILABLE) otherwise.");
		return OB_EXIT_OK;
	}
	if (argc > 2)
		return cli_usage_error("health", "takes at most one SERVICE");
	Onboard__V1__HealthCheckRequest rq = ONBOARD__V1__HEALTH_CHECK_REQUEST__INIT;
	if (argc == 2)
		rq.service = argv[1];
	Onboard__V1__HealthCheckResponse *rs = NULL;
	int rc =
	        cli_call(c, "/onboard.v1.Health/Check", &rq.base,
	                 &onboard__v1__health_check_response__descriptor, (ProtobufCMessage **)&rs);
	if (rc != OB_EXIT_OK)
		return rc;
	if (c->json) {
		rc = cli_print_json(&rs->base);
	} else {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		        &onboard__v1__health_check_response__serving_status__descriptor,
		        (int)rs->status);
		puts(v != NULL ? v->name : "UNKNOWN");
	}
	if (rc == OB_EXIT_OK &&
	    rs->status != ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
		rc = OB_EXIT_STATUS + OB_CODE_UNAVAILABLE;
	protobuf_c_message_free_unpacked(&rs->base, NULL);
	return rc;
}

static int cmd_methods(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		puts("Usage: onboard methods\n"
		     "Lists the server's services and methods, from its reflection service,\n"
		     "as full names for 'onboard call'. With --json, with their types.");
		return OB_EXIT_OK;
	}
	if (argc > 1)
		return cli_usage_error("methods", "takes no arguments");
	Onboard__V1__ListServicesRequest rq = ONBOARD__V1__LIST_SERVICES_REQUEST__INIT;
	Onboard__V1__ListServicesResponse *rs = NULL;
	int rc = cli_call(c, "/onboard.v1.Reflection/ListServices", &rq.base,
	                  &onboard__v1__list_services_response__descriptor,
	                  (ProtobufCMessage **)&rs);
	if (rc != OB_EXIT_OK)
		return rc;
	if (c->json) {
		rc = cli_print_json(&rs->base);
	} else {
		for (size_t i = 0; i < rs->n_services; i++)
			for (size_t m = 0; m < rs->services[i]->n_methods; m++) {
				const Onboard__V1__MethodInfo *mi = rs->services[i]->methods[m];
				printf("%s(%s) returns (%s)\n", mi->full_name, mi->input_type,
				       mi->output_type);
			}
	}
	protobuf_c_message_free_unpacked(&rs->base, NULL);
	return rc;
}

static int cmd_call(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		puts("Usage: onboard call METHOD [JSON | @FILE | -]\n"
		     "Calls any method with a request written in the proto3 JSON mapping\n"
		     "(lowerCamelCase or proto field names, enums by name, 64-bit integers as\n"
		     "strings, bytes in base64) and prints the reply as JSON. METHOD is a full\n"
		     "name such as /onboard.v1.Onboarding/GetCohort ('onboard methods' lists\n"
		     "them). The request is read from a file with @FILE, from stdin with -,\n"
		     "and is {} when omitted.\n"
		     "Example: onboard call /onboard.v1.Onboarding/GetCohort "
		     "'{\"id\":\"2020-11\"}'");
		return OB_EXIT_OK;
	}
	if (argc < 2 || argc > 3)
		return cli_usage_error("call", "needs METHOD and at most one request");
	const char *arg = argc == 3 ? argv[2] : "{}";
	char *owned = NULL;
	size_t len = strlen(arg);
	if (arg[0] == '@' || strcmp(arg, "-") == 0) {
		const char *path = arg[0] == '@' ? arg + 1 : "-";
		owned = cli_read_file(path, &len);
		if (owned == NULL) {
			fprintf(stderr, "onboard call: cannot read %s\n",
			        strcmp(path, "-") == 0 ? "stdin" : path);
			return OB_EXIT_LOCAL;
		}
		arg = owned;
	}

	char full[256];
	const ProtobufCMethodDescriptor *md = cli_find_method(argv[1], full, sizeof(full));
	ob_client *client = cli_client(c);
	if (client == NULL) {
		free(owned);
		return OB_EXIT_LOCAL;
	}
	uint8_t *payload = NULL;
	size_t payload_len = 0;
	const char *method = argv[1];
	if (md != NULL) {
		char err[512];
		ProtobufCMessage *in = ob_json_parse_message(arg, len, md->input, err, sizeof(err));
		if (in == NULL) {
			free(owned);
			fprintf(stderr, "onboard call: the request is not a valid %s: %s\n",
			        md->input->name, err);
			return OB_EXIT_USAGE;
		}
		payload_len = protobuf_c_message_get_packed_size(in);
		payload = malloc(payload_len > 0 ? payload_len : 1);
		if (payload != NULL)
			protobuf_c_message_pack(in, payload);
		protobuf_c_message_free_unpacked(in, NULL);
		if (payload == NULL) {
			fprintf(stderr, "onboard call: out of memory\n");
			return OB_EXIT_LOCAL;
		}
		method = full;
	} else {
		/* Not in this CLI's contract: send it anyway with an empty
		 * request, so the server says whether it knows the method. */
		char err[512];
		json_error_t je;
		json_t *j = json_loadb(arg, len, 0, &je);
		bool empty = j != NULL && json_is_object(j) && json_object_size(j) == 0;
		json_decref(j);
		if (!empty) {
			free(owned);
			snprintf(err, sizeof(err),
			         "unknown method '%s'; 'onboard methods' lists them", argv[1]);
			fprintf(stderr, "onboard call: %s\n", err);
			return OB_EXIT_USAGE;
		}
	}
	free(owned);

	ob_result r;
	int code = ob_client_call(client, method, c->md, c->n_md, payload, payload_len,
	                          c->timeout_ms, &r);
	free(payload);
	int rc = OB_EXIT_OK;
	if (code != OB_CODE_OK) {
		if (r.local) {
			fprintf(stderr, "onboard: %s\n", r.message);
			rc = OB_EXIT_LOCAL;
		} else {
			cli_print_status(c, &r);
			rc = cli_status_exit(code);
		}
	} else if (md == NULL) {
		printf("{\"unknownReplyBytes\": %zu}\n", r.payload_len);
	} else {
		ProtobufCMessage *out =
		        protobuf_c_message_unpack(md->output, NULL, r.payload_len, r.payload);
		if (out == NULL) {
			fprintf(stderr, "onboard call: the reply is not a valid %s\n",
			        md->output->name);
			rc = OB_EXIT_LOCAL;
		} else {
			rc = cli_print_json(out);
			protobuf_c_message_free_unpacked(out, NULL);
		}
	}
	ob_result_fini(&r);
	return rc;
}

static int cmd_keygen(cli *c, int argc, char **argv)
{
	(void)c;
	if (cli_wants_help(argc, argv)) {
		puts("Usage: onboard keygen --out FILE [--role ROLE] [--label TEXT]\n"
		     "Makes an Ed25519 key for a caller. The secret seed goes to FILE, created\n"
		     "with mode 0600 (an existing file is never overwritten). Prints the key id,\n"
		     "the public key, and the line to add to the server's keyring (--keyring):\n"
		     "ROLE is applicant, partner, reviewer or admin (default applicant).\n"
		     "Then: onboard --key FILE ...");
		return OB_EXIT_OK;
	}
	const char *out = NULL, *role = "applicant", *label = "onboard key";
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--out") == 0 && v != NULL)
			out = v, i++;
		else if (strcmp(argv[i], "--role") == 0 && v != NULL)
			role = v, i++;
		else if (strcmp(argv[i], "--label") == 0 && v != NULL)
			label = v, i++;
		else
			return cli_usage_error("keygen", "unknown argument '%s'", argv[i]);
	}
	if (out == NULL)
		return cli_usage_error("keygen", "needs --out FILE");
	int v;
	char words[CLI_WORD_MAX * 4], canonical[CLI_WORD_MAX];
	if (!cli_word_value(&cli_roles, role, &v))
		return cli_usage_error("keygen", "--role takes %s",
		                       cli_word_list(&cli_roles, words, sizeof(words)));
	role = cli_word_of(&cli_roles, v, canonical); /* as the keyring spells it */
	if (sodium_init() < 0)
		return OB_EXIT_LOCAL;
	char id[OB_KEYFILE_ID_LEN + 1], pk[64], err[512];
	if (ob_keyfile_generate(out, id, pk, err, sizeof(err)) != 0) {
		fprintf(stderr, "onboard keygen: %s\n", err);
		return OB_EXIT_LOCAL;
	}
	printf("key id      %s\npublic key  %s\nsecret in   %s (mode 0600; keep it there)\n\n"
	       "keyring line:\n%s %s %s - - %s\n",
	       id, pk, out, id, role, pk, label);
	return OB_EXIT_OK;
}

static int cmd_whoami(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		puts("Usage: onboard whoami\nWho the server takes you for: key id and role.");
		return OB_EXIT_OK;
	}
	if (argc > 1)
		return cli_usage_error("whoami", "takes no arguments");
	Onboard__V1__WhoAmIRequest rq = ONBOARD__V1__WHO_AM_IREQUEST__INIT;
	Onboard__V1__WhoAmIResponse *rs = NULL;
	int rc = cli_call(c, "/onboard.v1.Auth/WhoAmI", &rq.base,
	                  &onboard__v1__who_am_iresponse__descriptor, (ProtobufCMessage **)&rs);
	if (rc != OB_EXIT_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(&rs->base);
	else
		printf("%s (%s)\n", rs->principal, rs->role);
	protobuf_c_message_free_unpacked(&rs->base, NULL);
	return rc;
}

const cli_command cli_rpc_commands[] = {
        {"keygen", "make a key for a caller", cmd_keygen},
        {"whoami", "who the server takes you for", cmd_whoami},
        {"health", "is the server serving?", cmd_health},
        {"methods", "list the server's methods", cmd_methods},
        {"call", "call any method with JSON, like grpcurl", cmd_call},
        {NULL, NULL, NULL},
};
