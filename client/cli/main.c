/*
 * onboard: the command-line client of onboardd. The commands are a table
 * (commands.c), read by one parser (args.c); this file only runs it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

/* What to type, on stderr, when no command was given; returns 2. */
static int usage_of(const cli_command *group, const char *path)
{
	if (group != NULL)
		cli_print_help(stderr, group, path);
	else
		cli_print_usage(stderr);
	return OB_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	cli c;
	cli_args a;
	cli_init(&c);
	int rc = cli_parse(&c, argc, argv, &a);
	c.path = a.path[0] != '\0' ? a.path : NULL;
	const cli_command *shown = a.cmd != NULL ? a.cmd : a.group;
	if (rc != OB_EXIT_OK)
		rc = cli_usage(&c, "%s", a.err);
	else if (a.version)
		printf("onboard %s\n", OB_VERSION);
	else if (a.help && shown != NULL)
		cli_print_help(stdout, shown, a.path);
	else if (a.help)
		cli_print_usage(stdout);
	else if (a.cmd == NULL) /* a group without its subcommand, or nothing */
		rc = usage_of(a.group, a.path);
	else if ((rc = cli_apply_env(&c)) == OB_EXIT_OK)
		rc = a.cmd->run != NULL ? a.cmd->run(&c, &a) : cli_run_call(&c, &a);
	cli_fini(&c);
	return rc;
}
