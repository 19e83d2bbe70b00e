/*
 * The one path from a command line to the server and back (cli.h): the
 * client, the call, the reply printed or the refusal reported, the exit
 * status; and the pages of a listing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "defaults.h"
#include "files.h"
#include "json_codec.h"
#include "onboard/v1/admin.pb-c.h"
#include "onboard/v1/auth.pb-c.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "onboard/v1/reflection.pb-c.h"

ob_client *cli_client(cli *c)
{
	if (c->client != NULL)
		return c->client;
	static ob_default_server dflt;
	char err[512];
	if (c->n_servers == 0) {
		/* The user's own onboardd, or the systemd unit's; a directory
		 * someone else may have made first is refused (defaults.h). */
		if (ob_default_server_pick(OB_SYSTEM_SOCKET, &dflt, err, sizeof(err)) != 0) {
			cli_unreachable(c, err);
			return NULL;
		}
		c->servers[c->n_servers++] = dflt.url;
		/* The unit's socket is served by the unit's User=, the owner
		 * of its directory, unless --server-uid says otherwise. */
		if (dflt.system && !c->client_opts.ipc_server_uid_set) {
			c->client_opts.ipc_server_uid = (uint32_t)dflt.server_uid;
			c->client_opts.ipc_server_uid_set = true;
		}
	}
	if (ob_client_open(&c->client, c->servers, c->n_servers, &c->client_opts, err,
	                   sizeof(err)) != 0) {
		cli_unreachable(c, err);
		return NULL;
	}
	return c->client;
}

const ProtobufCServiceDescriptor *const cli_services[] = {
        &onboard__v1__auth__descriptor,       &onboard__v1__health__descriptor,
        &onboard__v1__reflection__descriptor, &onboard__v1__onboarding__descriptor,
        &onboard__v1__admin__descriptor,      NULL,
};

const ProtobufCMethodDescriptor *cli_find_method(const char *name, char *full, size_t n)
{
	const char *p = name[0] == '/' ? name + 1 : name;
	/* The split between service and method: the last '/' or, failing that, the last '.'. */
	const char *sep = strrchr(p, '/');
	if (sep == NULL)
		sep = strrchr(p, '.');
	if (sep == NULL)
		return NULL;
	size_t slen = (size_t)(sep - p);
	for (const ProtobufCServiceDescriptor *const *s = cli_services; *s != NULL; s++) {
		const ProtobufCServiceDescriptor *sd = *s;
		if (strlen(sd->name) != slen || memcmp(sd->name, p, slen) != 0)
			continue;
		const ProtobufCMethodDescriptor *md =
		        protobuf_c_service_descriptor_get_method_by_name(sd, sep + 1);
		if (md != NULL && full != NULL)
			snprintf(full, n, "/%s/%s", sd->name, md->name);
		return md;
	}
	return NULL;
}

int cli_status_exit(int code)
{
	if (code <= OB_CODE_OK || code > OB_CODE_UNAUTHENTICATED)
		code = OB_CODE_UNKNOWN;
	return OB_EXIT_STATUS + code;
}

unsigned cli_json_flags(const cli *c)
{
	return c->emit_defaults ? OB_JSON_EMIT_DEFAULTS : 0;
}

int cli_print_json(const cli *c, const ProtobufCMessage *m)
{
	char *s = ob_json_dump_message(m, cli_json_flags(c), 1);
	if (s == NULL)
		return cli_fail(c, "out of memory");
	puts(s);
	free(s);
	return OB_EXIT_OK;
}

int cli_call(cli *c, const char *method, const ob_metadata *extra, size_t n_extra,
             const ProtobufCMessage *req, ProtobufCMessage **reply)
{
	*reply = NULL;
	const ProtobufCMethodDescriptor *md = cli_find_method(method, NULL, 0);
	if (md == NULL) /* defensive: the table names the contract's methods */
		return cli_fail(c, "%s is not a method of the contract", method);
	ob_client *client = cli_client(c);
	if (client == NULL)
		return OB_EXIT_LOCAL;
	ob_metadata md_all[CLI_MAX_METADATA * 2];
	size_t n = 0;
	for (size_t i = 0; i < c->n_md; i++)
		md_all[n++] = c->md[i];
	for (size_t i = 0; i < n_extra && n < CLI_MAX_METADATA * 2; i++)
		md_all[n++] = extra[i];
	ob_result r;
	int code = ob_client_call_message(client, method, md_all, n, req, md->output, reply,
	                                  c->timeout_ms, &r);
	int rc = OB_EXIT_OK;
	if (code != OB_CODE_OK) {
		cli_print_status(c, &r);
		rc = r.local ? OB_EXIT_LOCAL : cli_status_exit(code);
	} else if (*reply == NULL) { /* defensive: an OK call unpacks its reply */
		rc = cli_fail(c, "%s: OK but no reply", method);
	}
	ob_result_fini(&r);
	return rc;
}

int cli_invoke(cli *c, const cli_args *a, const char *method, const ProtobufCMessage *req,
               cli_printer print, cli_verdict verdict)
{
	ProtobufCMessage *reply;
	int rc = cli_call(c, method, NULL, 0, req, &reply);
	if (rc != OB_EXIT_OK)
		return rc;
	rc = c->json || print == NULL ? cli_print_json(c, reply) : print(c, a, reply);
	if (rc == OB_EXIT_OK && verdict != NULL)
		rc = verdict(reply);
	protobuf_c_message_free_unpacked(reply, NULL);
	return rc;
}

int cli_request(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	const cli_command *cmd = a->cmd;
	const ProtobufCMessageDescriptor *d = cmd->request;
	*req = NULL;
	if (d == NULL) {
		const ProtobufCMethodDescriptor *md = cli_find_method(cmd->method, NULL, 0);
		if (md == NULL) /* defensive: the table's test checks every method */
			return cli_fail(c, "%s is not a method of the contract", cmd->method);
		d = md->input;
	}
	if ((*req = cli_message_new(d)) == NULL)
		return cli_fail(c, "out of memory");
	return cli_fill(c, a, *req);
}

int cli_run_call(cli *c, const cli_args *a)
{
	ProtobufCMessage *req;
	int rc = cli_request(c, a, &req);
	if (rc == OB_EXIT_OK && a->cmd->check != NULL)
		rc = a->cmd->check(c, a, &req);
	if (rc == OB_EXIT_OK)
		rc = cli_invoke(c, a, a->cmd->method, req, a->cmd->print, a->cmd->verdict);
	if (req != NULL)
		protobuf_c_message_free_unpacked(req, NULL);
	return rc;
}

/* The next_page_token of a List reply, "" when there is none. */
static const char *next_token(const ProtobufCMessage *page)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
	        page->descriptor, "next_page_token");
	if (f == NULL || f->type != PROTOBUF_C_TYPE_STRING)
		return "";
	const char *t = *(char *const *)((const char *)page + f->offset);
	return t != NULL ? t : "";
}

int cli_pages(cli *c, const char *method, ProtobufCMessage *req, bool all, cli_page_fn each,
              void *ctx)
{
	for (;;) {
		ProtobufCMessage *page;
		int rc = cli_call(c, method, NULL, 0, req, &page);
		if (rc != OB_EXIT_OK)
			return rc;
		bool more = all && next_token(page)[0] != '\0';
		if (more && !cli_set_string(req, "page_token", next_token(page)))
			rc = cli_fail(c, "out of memory");
		if (rc == OB_EXIT_OK)
			rc = each(c, ctx, &page);
		if (page != NULL)
			protobuf_c_message_free_unpacked(page, NULL);
		if (rc != OB_EXIT_OK || !more)
			return rc;
	}
}

int cli_run_pages(cli *c, const cli_args *a, bool all, cli_page_fn each, void *ctx)
{
	ProtobufCMessage *req;
	int rc = cli_request(c, a, &req);
	if (rc == OB_EXIT_OK && all && cli_opt(a, "page-size") == NULL &&
	    !cli_set_uint(req, "page_size", CLI_MAX_PAGE_SIZE))
		rc = cli_fail(c, "%s has no page size", a->cmd->method); /* defensive */
	if (rc == OB_EXIT_OK)
		rc = cli_pages(c, a->cmd->method, req, all, each, ctx);
	if (req != NULL)
		protobuf_c_message_free_unpacked(req, NULL);
	return rc;
}

char *cli_read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = ob_read_stream(f, len);
	int saved = errno;
	if (f != stdin)
		fclose(f);
	errno = saved;
	return buf;
}
