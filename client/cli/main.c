/*
 * onboard: the command-line client of onboardd.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "defaults.h"
#include "json_codec.h"
#include "onboard/v1/admin.pb-c.h"
#include "onboard/v1/auth.pb-c.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "onboard/v1/reflection.pb-c.h"
#include "values.h"

static const char usage_head[] =
        "Usage: onboard [GLOBAL OPTIONS] COMMAND [ARGS]\n"
        "The command-line client of onboardd, the seller-onboarding service.\n"
        "\n"
        "Global options:\n"
        "  -s, --server URL       server to call (repeatable; default $ONBOARD_SERVER or\n"
        "                         ipc://$XDG_RUNTIME_DIR/onboard/onboardd.sock)\n"
        "  -t, --timeout DURATION per call, e.g. 500ms, 5s, 1m (default 10s)\n"
        "      --json             print results in the proto3 JSON mapping\n"
        "  -H key=value           add call metadata (repeatable)\n"
        "  -k, --key FILE         log in with this key (from 'onboard keygen'; default\n"
        "                         $ONBOARD_KEY); without one, only a trusted local peer\n"
        "      --tls-ca FILE      CA that signed the server's certificate (tls+tcp://)\n"
        "      --tls-cert FILE    client certificate, when the server requires one\n"
        "      --tls-key FILE     its private key\n"
        "      --tls-server-name NAME  the name the server's certificate must carry\n"
        "                         (default: the URL's host; mbedTLS does not match IP\n"
        "                         addresses against certificates)\n"
        "      --server-uid USER  the user (name or uid) onboardd runs as, for ipc://\n"
        "                         (default $ONBOARD_SERVER_UID, else yours; root is\n"
        "                         always taken): a socket served by anyone else is\n"
        "                         refused before anything is sent\n"
        "  -h, --help             this text; COMMAND --help for a command's\n"
        "\n"
        "Commands:\n";

static const char usage_tail[] =
        "\n"
        "Exit status: 0 OK, 1 local error, 2 usage error, 64 + status code otherwise\n"
        "(e.g. 69 NOT_FOUND, 67 INVALID_ARGUMENT, 76 UNIMPLEMENTED); a code outside\n"
        "the contract's is UNKNOWN (66).\n";

static void print_usage(FILE *f)
{
	fputs(usage_head, f);
	const cli_command *tables[] = {cli_rpc_commands, cli_app_commands, cli_admin_commands};
	for (size_t t = 0; t < 3; t++)
		for (const cli_command *cmd = tables[t]; cmd->name != NULL; cmd++)
			fprintf(f, "  %-10s %s\n", cmd->name, cmd->summary);
	fputs(usage_tail, f);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "onboard%s%s: ", cmd != NULL ? " " : "", cmd != NULL ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'onboard %s%s--help'.\n", cmd != NULL ? cmd : "",
	        cmd != NULL ? " " : "");
	return OB_EXIT_USAGE;
}

void cli_start_options(void)
{
	optind = 0; /* glibc: a full re-initialisation, argv starts at index 1 */
	opterr = 0;
}

int cli_bad_option(const char *cmd, int ch, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (ch == ':') {
		if (optopt != 0 && optopt < 256)
			return cli_usage_error(cmd, "-%c needs a value", optopt);
		return cli_usage_error(cmd, "%s needs a value", arg);
	}
	if (optopt != 0 && optopt < 256)
		return cli_usage_error(cmd, "unknown option '-%c'", optopt);
	return cli_usage_error(cmd, "unknown option '%s'", arg);
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

ob_client *cli_client(cli *c)
{
	if (c->client != NULL)
		return c->client;
	static char default_url[512];
	char err[512];
	if (c->n_servers == 0) {
		/* /tmp/onboard-$UID when there is no $XDG_RUNTIME_DIR: someone
		 * else may have made it first (defaults.h). */
		if (ob_default_server_check(err, sizeof(err)) != 0) {
			fprintf(stderr, "onboard: %s\n", err);
			return NULL;
		}
		c->servers[c->n_servers++] =
		        ob_default_server_url(default_url, sizeof(default_url));
	}
	if (ob_client_open(&c->client, c->servers, c->n_servers, &c->client_opts, err,
	                   sizeof(err)) != 0) {
		fprintf(stderr, "onboard: %s\n", err);
		return NULL;
	}
	return c->client;
}

int cli_status_exit(int code)
{
	if (code <= OB_CODE_OK || code > OB_CODE_UNAUTHENTICATED)
		code = OB_CODE_UNKNOWN;
	return OB_EXIT_STATUS + code;
}

void cli_print_status(const cli *c, const ob_result *r)
{
	(void)c;
	fprintf(stderr, "onboard: %s: %s\n", ob_code_name(r->code), r->message);
	for (size_t i = 0; i < r->n_violations; i++)
		fprintf(stderr, "  %s: %s\n", r->violations[i].field, r->violations[i].description);
	if (r->retry_after_ms > 0)
		fprintf(stderr, "  retry after %u ms\n", r->retry_after_ms);
}

int cli_call_md(cli *c, const char *method, const ob_metadata *extra, size_t n_extra,
                const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
                ProtobufCMessage **resp)
{
	ob_client *client = cli_client(c);
	if (client == NULL)
		return OB_EXIT_LOCAL;
	ob_metadata md[CLI_MAX_METADATA * 2];
	size_t n = 0;
	for (size_t i = 0; i < c->n_md; i++)
		md[n++] = c->md[i];
	for (size_t i = 0; i < n_extra && n < CLI_MAX_METADATA * 2; i++)
		md[n++] = extra[i];
	ob_result r;
	int code = ob_client_call_message(client, method, md, n, req, resp_desc, resp,
	                                  c->timeout_ms, &r);
	int rc = OB_EXIT_OK;
	if (code != OB_CODE_OK) {
		if (r.local) {
			fprintf(stderr, "onboard: %s\n", r.message);
			rc = OB_EXIT_LOCAL;
		} else {
			cli_print_status(c, &r);
			rc = cli_status_exit(code);
		}
	} else if (*resp == NULL) { /* defensive: an OK call unpacks its reply */
		fprintf(stderr, "onboard: %s: OK but no reply\n", method);
		rc = OB_EXIT_LOCAL;
	}
	ob_result_fini(&r);
	return rc;
}

int cli_call(cli *c, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
	return cli_call_md(c, method, NULL, 0, req, resp_desc, resp);
}

int cli_print_json(const ProtobufCMessage *m)
{
	char *s = ob_json_dump_message(m, 0, 1);
	if (s == NULL) {
		fprintf(stderr, "onboard: out of memory\n");
		return OB_EXIT_LOCAL;
	}
	puts(s);
	free(s);
	return OB_EXIT_OK;
}

char *cli_read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = cap * 2 + 65536 + 1;
			char *g = realloc(buf, cap);
			if (g == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = g;
		}
		size_t r = fread(buf + n, 1, 65536, f);
		n += r;
		if (r == 0)
			break;
	}
	bool failed = ferror(f) != 0;
	if (f != stdin)
		fclose(f);
	if (failed || buf == NULL) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

const ProtobufCMethodDescriptor *cli_find_method(const char *name, char *full, size_t n)
{
	static const ProtobufCServiceDescriptor *const services[] = {
	        &onboard__v1__auth__descriptor,       &onboard__v1__health__descriptor,
	        &onboard__v1__reflection__descriptor, &onboard__v1__onboarding__descriptor,
	        &onboard__v1__admin__descriptor,
	};
	const char *p = name[0] == '/' ? name + 1 : name;
	/* The split between service and method: the last '/' or, failing that, the last '.'. */
	const char *sep = strrchr(p, '/');
	if (sep == NULL)
		sep = strrchr(p, '.');
	if (sep == NULL)
		return NULL;
	size_t slen = (size_t)(sep - p);
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		const ProtobufCServiceDescriptor *sd = services[i];
		if (strlen(sd->name) != slen || memcmp(sd->name, p, slen) != 0)
			continue;
		const ProtobufCMethodDescriptor *md =
		        protobuf_c_service_descriptor_get_method_by_name(sd, sep + 1);
		if (md != NULL)
			snprintf(full, n, "/%s/%s", sd->name, md->name);
		return md;
	}
	return NULL;
}

static const cli_command *find_command(const char *name)
{
	const cli_command *tables[] = {cli_rpc_commands, cli_app_commands, cli_admin_commands};
	for (size_t t = 0; t < 3; t++)
		for (const cli_command *cmd = tables[t]; cmd->name != NULL; cmd++)
			if (strcmp(cmd->name, name) == 0)
				return cmd;
	return NULL;
}

int main(int argc, char **argv)
{
	cli c = {.timeout_ms = 10000, .prog = "onboard"};
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_usage(stdout);
			return OB_EXIT_OK;
		} else if (strcmp(a, "--json") == 0) {
			c.json = true;
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "--server") == 0) {
			if (val == NULL)
				return cli_usage_error(NULL, "%s needs a URL", a);
			if (c.n_servers == CLI_MAX_SERVERS)
				return cli_usage_error(NULL, "at most %d servers", CLI_MAX_SERVERS);
			c.servers[c.n_servers++] = val;
			i++;
		} else if (strcmp(a, "-t") == 0 || strcmp(a, "--timeout") == 0) {
			if (val == NULL || !cli_parse_duration_ms(val, &c.timeout_ms))
				return cli_usage_error(
				        NULL, "%s needs a duration such as 500ms, 5s or 1m", a);
			i++;
		} else if (strcmp(a, "-H") == 0) {
			const char *eq = val != NULL ? strchr(val, '=') : NULL;
			if (eq == NULL || eq == val)
				return cli_usage_error(NULL, "-H needs key=value");
			if (c.n_md == CLI_MAX_METADATA)
				return cli_usage_error(NULL, "at most %d -H entries",
				                       CLI_MAX_METADATA);
			char *key = strndup(val, (size_t)(eq - val));
			c.md[c.n_md++] = (ob_metadata){key, eq + 1};
			i++;
		} else if (strcmp(a, "-k") == 0 || strcmp(a, "--key") == 0) {
			if (val == NULL)
				return cli_usage_error(NULL, "%s needs a key file", a);
			c.client_opts.key_file = val;
			i++;
		} else if (strcmp(a, "--server-uid") == 0) {
			if (val == NULL || !cli_parse_uid(val, &c.client_opts.ipc_server_uid))
				return cli_usage_error(NULL, "%s needs a user name or a uid", a);
			c.client_opts.ipc_server_uid_set = true;
			i++;
		} else if (strcmp(a, "--tls-server-name") == 0) {
			if (val == NULL)
				return cli_usage_error(NULL, "%s needs a name", a);
			c.client_opts.tls_server_name = val;
			i++;
		} else if (strcmp(a, "--tls-ca") == 0 || strcmp(a, "--tls-cert") == 0 ||
		           strcmp(a, "--tls-key") == 0) {
			if (val == NULL)
				return cli_usage_error(NULL, "%s needs a file", a);
			if (strcmp(a, "--tls-ca") == 0)
				c.client_opts.tls_ca_file = val;
			else if (strcmp(a, "--tls-cert") == 0)
				c.client_opts.tls_cert_file = val;
			else
				c.client_opts.tls_key_file = val;
			i++;
		} else {
			return cli_usage_error(NULL, "unknown option '%s'", a);
		}
	}
	const char *su = getenv("ONBOARD_SERVER_UID");
	if (!c.client_opts.ipc_server_uid_set && su != NULL && su[0] != '\0') {
		if (!cli_parse_uid(su, &c.client_opts.ipc_server_uid))
			return cli_usage_error(NULL, "$ONBOARD_SERVER_UID is not a user: '%s'", su);
		c.client_opts.ipc_server_uid_set = true;
	}
	if (c.client_opts.key_file == NULL) {
		const char *k = getenv("ONBOARD_KEY");
		if (k != NULL && k[0] != '\0')
			c.client_opts.key_file = k;
	}
	if (i >= argc) {
		print_usage(stderr);
		return OB_EXIT_USAGE;
	}
	const cli_command *cmd = find_command(argv[i]);
	if (cmd == NULL)
		return cli_usage_error(NULL, "unknown command '%s'", argv[i]);
	int rc = cmd->run(&c, argc - i, argv + i);
	ob_client_close(c.client);
	for (size_t k = 0; k < c.n_md; k++)
		free((char *)c.md[k].key);
	return rc;
}
