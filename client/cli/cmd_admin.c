/*
 * The administrator's commands, under one word: onboard admin erase,
 * export-contact, rotate-keys, audit, backup (onboard.v1.Admin). export-contact
 * always prints JSON: it is meant to be handed to the person it is about.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "json_codec.h"
#include "onboard/v1/admin.pb-c.h"
#include "print.h"

/* ---- erase ----------------------------------------------------------- */

static int erase_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	const Onboard__V1__Application *app = (const Onboard__V1__Application *)reply;
	printf("%s: personal data erased (%s); the application stays %s, version %" PRIu64 "\n",
	       app->id, app->contact_erased_at, cli_state_name((int)app->state), app->version);
	return OB_EXIT_OK;
}

static const cli_option erase_options[] = {
        {"reason", 0, CLI_STRING, .metavar = "TEXT",
         .help = "why (a ticket number...); kept in the history, so\n"
                 "no personal data in it",
         .field = "reason"},
        {NULL},
};

static const cli_command admin_erase = {
        .name = "erase",
        .summary = "erase an application's contact data for good",
        .synopsis = "ID [--reason TEXT]",
        .about = "Erases the contact person's personal data (name, e-mail, phone) of application\n"
                 "ID by destroying its encryption key (GDPR art. 17). The application, its\n"
                 "history and the cohort's statistics stay; the history records who erased it.\n"
                 "Cannot be undone, also not from backups once they age out. Erasing an\n"
                 "erased application changes nothing and succeeds.\n",
        .after = "--json prints the Application. Exit status: 0 erased; 69 NOT_FOUND.\n",
        .options = erase_options,
        .operands = cli_id_operand,
        .method = "/onboard.v1.Admin/EraseContact",
        .print = erase_print,
};

/* ---- export-contact -------------------------------------------------- */

static int export_check(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	(void)req;
	if ((a->n_operands == 1) == (cli_opt(a, "email") != NULL))
		return cli_usage(c, "needs an application ID or --email");
	return OB_EXIT_OK;
}

static const cli_option export_options[] = {
        {"email", 0, CLI_STRING, .metavar = "EMAIL",
         .help = "every application with this contact e-mail", .field = "email"},
        {NULL},
};

static const cli_command admin_export = {
        .name = "export-contact",
        .summary = "everything held about one contact, as JSON",
        .synopsis = "(ID | --email EMAIL)",
        .about = "Prints, as proto3 JSON, everything the service holds about one contact person\n"
                 "(GDPR art. 15): the applications with their contact data and history, found\n"
                 "by application ID or by e-mail (whatever its case).\n",
        .after = "Exit status: 0 (also when the e-mail is unknown: no applications); 69\n"
                 "NOT_FOUND (ID); 79 DATA_LOSS (stored data failed its integrity check).\n",
        .options = export_options,
        .operands = cli_optional_id_operand,
        .method = "/onboard.v1.Admin/ExportContact",
        .check = export_check,
        .print = NULL, /* JSON, always */
};

/* ---- rotate-keys ----------------------------------------------------- */

static int rotate_check(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	(void)a, (void)req;
	if (c->timeout_ms < 600000)
		c->timeout_ms = 600000; /* the re-wrapping runs before the reply */
	return OB_EXIT_OK;
}

static int rotate_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	const Onboard__V1__RotateKeysResponse *r = (const Onboard__V1__RotateKeysResponse *)reply;
	printf("active master key %s; %u data key%s re-wrapped\n"
	       "back up the master key file again: it holds the new key\n",
	       r->active_key_id, r->rewrapped, r->rewrapped != 1 ? "s" : "");
	return OB_EXIT_OK;
}

static const cli_command admin_rotate = {
        .name = "rotate-keys",
        .summary = "new master key; re-wrap every data key",
        .about = "Appends a new master key to the server's key file, makes it the active key and\n"
                 "re-wraps every application's data key under it, while the server keeps\n"
                 "serving. The old key lines stay in the file (back it up again); once this has\n"
                 "succeeded, a line believed leaked can be deleted from the file. Waits up to\n"
                 "10 minutes (or the global --timeout if longer): a million applications take\n"
                 "a few dozen seconds.\n",
        .after = "Exit status: 0 done; 73 FAILED_PRECONDITION (the server has no key file).\n",
        .method = "/onboard.v1.Admin/RotateKeys",
        .check = rotate_check,
        .print = rotate_print,
};

/* ---- audit ----------------------------------------------------------- */

typedef struct audit {
	bool all, header;
} audit;

static int audit_page(cli *c, void *ctx, ProtobufCMessage **page)
{
	audit *au = ctx;
	const Onboard__V1__ListAuditEventsResponse *r =
	        (const Onboard__V1__ListAuditEventsResponse *)*page;
	if (au->header && !c->json)
		printf("%-6s %-24s %-16s %-16s %-22s %s\n", "SEQ", "AT", "EVENT", "KEY", "PEER",
		       "DETAIL");
	au->header = false;
	for (size_t i = 0; i < r->n_events; i++) {
		const Onboard__V1__AuditEvent *e = r->events[i];
		if (!c->json) {
			printf("%-6" PRId64 " %-24s %-16s %-16s %-22s %s\n", e->seq, e->at,
			       e->event, e->key_id[0] != '\0' ? e->key_id : "-",
			       e->peer[0] != '\0' ? e->peer : "-", e->detail);
			continue;
		}
		char *s = ob_json_dump_message(&e->base, cli_json_flags(c), 0);
		if (s == NULL)
			return cli_fail(c, "out of memory");
		puts(s);
		free(s);
	}
	if (r->next_page_token[0] != '\0' && !au->all && !c->json)
		fprintf(stderr, "(more events: --all lists them all)\n");
	return OB_EXIT_OK;
}

static int audit_run(cli *c, const cli_args *a)
{
	audit au = {.all = cli_opt(a, "all") != NULL, .header = true};
	return cli_run_pages(c, a, au.all, audit_page, &au);
}

static const cli_option audit_options[] = {
        {"all", 0, CLI_FLAG, .help = "every event, not only the first page"},
        {"page-size", 0, CLI_UINT, .metavar = "N",
         .help = "events a page, 1 to 500 (default: the server's, 50)", .field = "page_size",
         .min = 1, .max = 500},
        {NULL},
};

static const cli_command admin_audit = {
        .name = "audit",
        .summary = "the audit trail of security events",
        .synopsis = "[--all] [--page-size N]",
        .about = "The audit trail, oldest first: failed logins, denials, erasures, exports, key\n"
                 "rotations. One page (50 events) unless --all.\n",
        .after = "--json prints one AuditEvent per line as proto3 JSON.\n",
        .options = audit_options,
        .method = "/onboard.v1.Admin/ListAuditEvents",
        .run = audit_run,
};

/* ---- backup ---------------------------------------------------------- */

static int backup_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	(void)c, (void)a;
	const Onboard__V1__BackupResponse *r = (const Onboard__V1__BackupResponse *)reply;
	printf("backup written on the server: %s\n"
	       "%" PRIu64 " application%s, %" PRIu64 " bytes, every change acknowledged before %s\n"
	       "REMINDER: %s\n",
	       r->path, r->applications, r->applications != 1 ? "s" : "", r->bytes, r->taken_at,
	       r->reminder);
	return OB_EXIT_OK;
}

static int backup_check(cli *c, const cli_args *a, ProtobufCMessage **req)
{
	(void)a, (void)req;
	if (c->timeout_ms < 3600000)
		c->timeout_ms = 3600000; /* the copy is made before the reply */
	return OB_EXIT_OK;
}

static const cli_operand backup_operands[] = {
        {"FILE", .kind = CLI_STRING, .field = "path"},
        {NULL},
};

static const cli_command admin_backup = {
        .name = "backup",
        .summary = "a consistent copy of the database, while serving",
        .synopsis = "FILE",
        .about = "Has the server write a consistent copy of its whole database to FILE, an\n"
                 "absolute path on the server's host, while it goes on serving (SQLite's online\n"
                 "backup from one snapshot: every change acknowledged before the call is in it).\n"
                 "FILE's directory must exist, belong to the server's user or root and be\n"
                 "writable by no one else (or be sticky, as /tmp); a file at FILE is never\n"
                 "overwritten. The copy is created mode 0600.\n"
                 "\n"
                 "The master key file is NOT in the backup: without it, the contacts' personal\n"
                 "data in the copy cannot be read. Keep a copy of the key file (it holds the key\n"
                 "printed) apart from the backup. To restore: onboardd --db FILE --master-key\n"
                 "KEYFILE. Waits up to an hour (or the global --timeout if longer).\n",
        .after = "Exit status: 0 written; 67 INVALID_ARGUMENT (FILE: not absolute, no such\n"
                 "directory...); 70 ALREADY_EXISTS (a file at FILE); 78 UNAVAILABLE (another\n"
                 "backup is running).\n",
        .operands = backup_operands,
        .method = "/onboard.v1.Admin/Backup",
        .check = backup_check,
        .print = backup_print,
};

/* ---- the group ------------------------------------------------------- */

static const cli_command *const admin_commands[] = {
        &admin_erase, &admin_export, &admin_rotate, &admin_audit, &admin_backup, NULL,
};

const cli_command cli_cmd_admin = {
        .name = "admin",
        .summary = "erase or export a contact's data, rotate keys, audit trail, backup",
        .synopsis = "SUBCOMMAND [ARGS]",
        .about = "Personal data, keys and backups (the server allows these to administrators\n"
                 "only).\n",
        .subcommands = admin_commands,
};
