/*
 * The administrator's commands, under one word: onboard admin erase,
 * export-contact, rotate-keys, audit (onboard.v1.Admin).
 *
 * Same habits as cmd_apps.c: getopt_long per subcommand, one call through
 * cli_call() (a refusal prints its message and exits 64 + status), output
 * for people or proto3 JSON with --json. export-contact always prints JSON:
 * it is meant to be handed to the person it is about.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_codec.h"
#include "onboard/v1/admin.pb-c.h"
#include "values.h"
#include "words.h"

#define M_ERASE  "/onboard.v1.Admin/EraseContact"
#define M_EXPORT "/onboard.v1.Admin/ExportContact"
#define M_ROTATE "/onboard.v1.Admin/RotateKeys"
#define M_AUDIT  "/onboard.v1.Admin/ListAuditEvents"

enum { O_REASON = 256, O_EMAIL, O_JSON, O_ALL, O_PAGE_SIZE };

static const char admin_help[] =
        "Usage: onboard admin SUBCOMMAND [ARGS]\n"
        "Personal data and keys (the server allows these to administrators only).\n"
        "  erase ID [--reason TEXT]          erase an application's contact data for good\n"
        "  export-contact (ID | --email E)   everything held about one contact, as JSON\n"
        "  rotate-keys                       new master key; re-wrap every data key\n"
        "  audit [--all]                     the audit trail of security events\n"
        "'onboard admin SUBCOMMAND --help' for one of them.\n";

static const char erase_help[] =
        "Usage: onboard admin erase ID [--reason TEXT] [--json]\n"
        "Erases the contact person's personal data (name, e-mail, phone) of application\n"
        "ID by destroying its encryption key (GDPR art. 17). The application, its\n"
        "history and the cohort's statistics stay; the history records who erased it.\n"
        "Cannot be undone, also not from backups once they age out. Erasing an\n"
        "erased application changes nothing and succeeds.\n"
        "      --reason TEXT  why (a ticket number...); kept in the history, so\n"
        "                     no personal data in it\n"
        "      --json         print the Application as proto3 JSON\n"
        "Exit status: 0 erased; 69 NOT_FOUND.\n";

static const char export_help[] =
        "Usage: onboard admin export-contact (ID | --email EMAIL)\n"
        "Prints, as proto3 JSON, everything the service holds about one contact person\n"
        "(GDPR art. 15): the applications with their contact data and history, found\n"
        "by application ID or by e-mail (whatever its case).\n"
        "Exit status: 0 (also when the e-mail is unknown: no applications); 69\n"
        "NOT_FOUND (ID); 79 DATA_LOSS (stored data failed its integrity check).\n";

static const char rotate_help[] =
        "Usage: onboard admin rotate-keys [--json]\n"
        "Appends a new master key to the server's key file, makes it the active key and\n"
        "re-wraps every application's data key under it, while the server keeps\n"
        "serving. The old key lines stay in the file (back it up again); once this has\n"
        "succeeded, a line believed leaked can be deleted from the file. Waits up to\n"
        "10 minutes (or the global --timeout if longer): a million applications take\n"
        "a few dozen seconds.\n"
        "Exit status: 0 done; 73 FAILED_PRECONDITION (the server has no key file).\n";

static const char audit_help[] =
        "Usage: onboard admin audit [--all] [--page-size N] [--json]\n"
        "The audit trail, oldest first: failed logins, denials, erasures, exports, key\n"
        "rotations. One page (50 events) unless --all.\n"
        "      --json   one AuditEvent per line as proto3 JSON\n";

static int admin_erase(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(erase_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        {"reason", required_argument, NULL, O_REASON},
	        {"json", no_argument, NULL, O_JSON},
	        {NULL, 0, NULL, 0},
	};
	Onboard__V1__EraseContactRequest rq = ONBOARD__V1__ERASE_CONTACT_REQUEST__INIT;
	int ch;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == O_REASON)
			rq.reason = optarg;
		else if (ch == O_JSON)
			c->json = true;
		else
			return cli_bad_option("admin erase", ch, argv);
	}
	if (argc - optind != 1)
		return cli_usage_error("admin erase", "needs one application ID");
	rq.id = argv[optind];
	Onboard__V1__Application *a = NULL;
	int rc = cli_call(c, M_ERASE, &rq.base, &onboard__v1__application__descriptor,
	                  (ProtobufCMessage **)&a);
	if (rc != OB_EXIT_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(&a->base);
	else
		printf("%s: personal data erased (%s); the application stays %s, version %" PRIu64
		       "\n",
		       a->id, a->contact_erased_at[0] != '\0' ? a->contact_erased_at : "",
		       cli_value_name(&onboard__v1__application_state__descriptor, (int)a->state),
		       a->version);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	return rc;
}

static int admin_export(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(export_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        {"email", required_argument, NULL, O_EMAIL},
	        {"json", no_argument, NULL, O_JSON},
	        {NULL, 0, NULL, 0},
	};
	Onboard__V1__ExportContactRequest rq = ONBOARD__V1__EXPORT_CONTACT_REQUEST__INIT;
	int ch;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == O_EMAIL)
			rq.email = optarg;
		else if (ch != O_JSON) /* JSON anyway */
			return cli_bad_option("admin export-contact", ch, argv);
	}
	int rest = argc - optind;
	if (rest > 1 || (rest == 1) == (rq.email[0] != '\0'))
		return cli_usage_error("admin export-contact",
		                       "needs an application ID or --email");
	if (rest == 1)
		rq.id = argv[optind];
	Onboard__V1__ContactExport *e = NULL;
	int rc = cli_call(c, M_EXPORT, &rq.base, &onboard__v1__contact_export__descriptor,
	                  (ProtobufCMessage **)&e);
	if (rc != OB_EXIT_OK)
		return rc;
	rc = cli_print_json(&e->base);
	protobuf_c_message_free_unpacked(&e->base, NULL);
	return rc;
}

static int admin_rotate(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(rotate_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        {"json", no_argument, NULL, O_JSON},
	        {NULL, 0, NULL, 0},
	};
	int ch;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == O_JSON)
			c->json = true;
		else
			return cli_bad_option("admin rotate-keys", ch, argv);
	}
	if (optind < argc)
		return cli_usage_error("admin rotate-keys", "takes no arguments");
	if (c->timeout_ms < 600000)
		c->timeout_ms = 600000; /* the re-wrapping runs before the reply */
	Onboard__V1__RotateKeysRequest rq = ONBOARD__V1__ROTATE_KEYS_REQUEST__INIT;
	Onboard__V1__RotateKeysResponse *r = NULL;
	int rc = cli_call(c, M_ROTATE, &rq.base, &onboard__v1__rotate_keys_response__descriptor,
	                  (ProtobufCMessage **)&r);
	if (rc != OB_EXIT_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(&r->base);
	else
		printf("active master key %s; %u data key%s re-wrapped\n"
		       "back up the master key file again: it holds the new key\n",
		       r->active_key_id, r->rewrapped, r->rewrapped != 1 ? "s" : "");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return rc;
}

static int admin_audit(cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(audit_help, stdout);
		return OB_EXIT_OK;
	}
	static const struct option opts[] = {
	        {"all", no_argument, NULL, O_ALL},
	        {"page-size", required_argument, NULL, O_PAGE_SIZE},
	        {"json", no_argument, NULL, O_JSON},
	        {NULL, 0, NULL, 0},
	};
	bool all = false;
	uint32_t page_size = 0;
	int ch;
	cli_start_options();
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == O_ALL) {
			all = true;
		} else if (ch == O_JSON) {
			c->json = true;
		} else if (ch == O_PAGE_SIZE) {
			uint64_t v;
			if (!cli_parse_u64(optarg, 1, 500, &v))
				return cli_usage_error("admin audit", "--page-size takes 1 to 500");
			page_size = (uint32_t)v;
		} else {
			return cli_bad_option("admin audit", ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("admin audit", "takes flags only, not '%s'", argv[optind]);
	char *token = NULL;
	int rc = OB_EXIT_OK;
	bool header = !c->json;
	for (;;) {
		Onboard__V1__ListAuditEventsRequest rq =
		        ONBOARD__V1__LIST_AUDIT_EVENTS_REQUEST__INIT;
		rq.page_size = page_size;
		if (token != NULL)
			rq.page_token = token;
		Onboard__V1__ListAuditEventsResponse *r = NULL;
		rc = cli_call(c, M_AUDIT, &rq.base,
		              &onboard__v1__list_audit_events_response__descriptor,
		              (ProtobufCMessage **)&r);
		free(token);
		token = NULL;
		if (rc != OB_EXIT_OK)
			break;
		if (header) {
			printf("%-6s %-24s %-16s %-16s %-22s %s\n", "SEQ", "AT", "EVENT", "KEY",
			       "PEER", "DETAIL");
			header = false;
		}
		for (size_t i = 0; i < r->n_events && rc == OB_EXIT_OK; i++) {
			const Onboard__V1__AuditEvent *e = r->events[i];
			if (c->json) {
				char *s = ob_json_dump_message(&e->base, 0, 0);
				if (s == NULL) {
					fprintf(stderr, "onboard: out of memory\n");
					rc = OB_EXIT_LOCAL;
					break;
				}
				puts(s);
				free(s);
			} else {
				printf("%-6" PRId64 " %-24s %-16s %-16s %-22s %s\n", e->seq, e->at,
				       e->event, e->key_id[0] != '\0' ? e->key_id : "-",
				       e->peer[0] != '\0' ? e->peer : "-", e->detail);
			}
		}
		bool more = r->next_page_token[0] != '\0';
		if (more && all && (token = strdup(r->next_page_token)) == NULL)
			rc = OB_EXIT_LOCAL;
		if (more && !all && !c->json)
			fprintf(stderr, "(more events: --all lists them all)\n");
		protobuf_c_message_free_unpacked(&r->base, NULL);
		if (rc != OB_EXIT_OK || token == NULL)
			break;
	}
	free(token);
	return rc;
}

static int cmd_admin(cli *c, int argc, char **argv)
{
	static const cli_command subs[] = {
	        {"erase", "", admin_erase},
	        {"export-contact", "", admin_export},
	        {"rotate-keys", "", admin_rotate},
	        {"audit", "", admin_audit},
	};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(admin_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? OB_EXIT_USAGE : OB_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(c, argc - 1, argv + 1);
	return cli_usage_error("admin", "unknown subcommand '%s'", argv[1]);
}

const cli_command cli_admin_commands[] = {
        {"admin", "erase or export a contact's data, rotate keys, audit trail", cmd_admin},
        {NULL, NULL, NULL},
};
