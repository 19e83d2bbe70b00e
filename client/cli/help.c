/*
 * Help texts from the command table (cli.h): the usage lines, the prose a
 * command gives, and its options in a column, so that the help lists exactly
 * the options the parser takes.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

enum { COLUMN = 26 }; /* where an option's help starts */

/* Prints s with every line after the first indented by indent spaces. */
static void indented(FILE *f, const char *s, int indent)
{
	if (*s == '\0')
		fputc('\n', f);
	for (const char *p = s; *p != '\0';) {
		size_t len = strcspn(p, "\n");
		fprintf(f, "%.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
		if (*p != '\0')
			fprintf(f, "%*s", indent, "");
	}
}

static void print_option(FILE *f, const cli_option *o)
{
	char head[80];
	int n = snprintf(head, sizeof(head), "  %c%c%s--%s%s%s", o->short_name != 0 ? '-' : ' ',
	                 o->short_name != 0 ? o->short_name : ' ', o->short_name != 0 ? ", " : "  ",
	                 o->name, o->metavar != NULL ? " " : "",
	                 o->metavar != NULL ? o->metavar : "");
	if (n < COLUMN)
		fprintf(f, "%-*s", COLUMN, head);
	else
		fprintf(f, "%s\n%*s", head, COLUMN, "");
	char help[512];
	snprintf(help, sizeof(help), "%s%s%s%s", o->help != NULL ? o->help : "",
	         o->dflt != NULL ? " (" : "", o->dflt != NULL ? o->dflt : "",
	         o->dflt != NULL ? ")" : "");
	indented(f, help, COLUMN);
}

static void print_options(FILE *f, const cli_option *opts)
{
	for (const cli_option *o = opts; o != NULL && o->name != NULL; o++) {
		if (o->section != NULL)
			fprintf(f, "%s\n", o->section);
		print_option(f, o);
	}
}

/* "Usage: onboard PATH LINE" for each line of the synopsis. */
static void print_synopsis(FILE *f, const char *path, const char *synopsis)
{
	const char *p = synopsis != NULL ? synopsis : "";
	const char *lead = "Usage: ";
	do {
		size_t len = strcspn(p, "\n");
		fprintf(f, "%sonboard %s%s%.*s\n", lead, path, len > 0 ? " " : "", (int)len, p);
		p += len + (p[len] == '\n');
		lead = "       ";
	} while (*p != '\0');
}

void cli_print_usage(FILE *f)
{
	fputs("Usage: onboard [GLOBAL OPTIONS] COMMAND [ARGS]\n"
	      "The command-line client of onboardd, the seller-onboarding service.\n"
	      "Global options may come before or after the command, as --name VALUE\n"
	      "or --name=VALUE: onboard get ID --json.\n"
	      "\n"
	      "Global options:\n",
	      f);
	print_options(f, cli_global_options);
	fputs("\nCommands:\n", f);
	for (const cli_command *const *cmd = cli_commands; *cmd != NULL; cmd++)
		fprintf(f, "  %-10s %s\n", (*cmd)->name, (*cmd)->summary);
	fputs("\n"
	      "'onboard help COMMAND' or 'onboard COMMAND --help' for a command's options.\n"
	      "Exit status: 0 OK, 1 local error, 2 usage error, 64 + status code otherwise\n"
	      "(e.g. 69 NOT_FOUND, 67 INVALID_ARGUMENT, 76 UNIMPLEMENTED); a code outside\n"
	      "the contract's is UNKNOWN (66).\n",
	      f);
}

static void print_group(FILE *f, const cli_command *group, const char *path)
{
	print_synopsis(f, path, group->synopsis);
	fputs(group->about != NULL ? group->about : "", f);
	for (const cli_command *const *sub = group->subcommands; *sub != NULL; sub++) {
		char head[80];
		const char *syn = (*sub)->synopsis != NULL ? (*sub)->synopsis : "";
		snprintf(head, sizeof(head), "%s%s%.*s", (*sub)->name, syn[0] != '\0' ? " " : "",
		         (int)strcspn(syn, "\n"), syn);
		fprintf(f, "  %-36s %s\n", head, (*sub)->summary);
	}
	fprintf(f, "'onboard %s SUBCOMMAND --help' for one of them.\n", path);
}

void cli_print_help(FILE *f, const cli_command *cmd, const char *path)
{
	if (cmd->subcommands != NULL) {
		print_group(f, cmd, path);
		return;
	}
	print_synopsis(f, path, cmd->synopsis);
	fputs(cmd->about != NULL ? cmd->about : "", f);
	if (cmd->options != NULL && cmd->options[0].name != NULL) {
		fputs(cmd->options[0].section == NULL ? "\nOptions:\n" : "\n", f);
		print_options(f, cmd->options);
	}
	if (cmd->after != NULL)
		fprintf(f, "\n%s", cmd->after);
	fputs("\nGlobal options (--json, --server, --timeout...) go before or after the\n"
	      "command: 'onboard --help' lists them.\n",
	      f);
}
