/*
 * The table of the CLI's commands (cli.h), in the order of 'onboard --help'.
 * Each row is defined beside its printer, in the file of its group; the
 * parser, the help, the shell completion and the tests read this list.
 */
#include <stdio.h>

#include "cli.h"

const cli_operand cli_id_operand[] = {{"ID", .kind = CLI_STRING, .field = "id"}, {NULL}};
const cli_operand cli_optional_id_operand[] = {
        {"ID", .kind = CLI_STRING, .field = "id", .optional = true},
        {NULL},
};

/* onboard help [COMMAND [SUBCOMMAND]]: the help of what the words name. */
static int help_run(cli *c, const cli_args *a)
{
	const cli_command *const *level = cli_commands;
	const cli_command *cmd = NULL;
	char path[64] = "";
	for (size_t i = 0; i < a->n_operands; i++) {
		const char *word = a->operands[i];
		if (level == NULL || (cmd = cli_find_command(level, word)) == NULL)
			return cli_usage(c, "no command '%s%s%s'", path, path[0] != '\0' ? " " : "",
			                 word);
		size_t used = 0;
		while (path[used] != '\0')
			used++;
		snprintf(path + used, sizeof(path) - used, "%s%s", used > 0 ? " " : "", cmd->name);
		level = cmd->subcommands;
	}
	if (cmd == NULL)
		cli_print_usage(stdout);
	else
		cli_print_help(stdout, cmd, path);
	return OB_EXIT_OK;
}

static const cli_operand help_operands[] = {
        {"COMMAND", .kind = CLI_STRING, .optional = true, .rest = true},
        {NULL},
};

static const cli_command cli_cmd_help = {
        .name = "help",
        .summary = "this list, or the help of a command",
        .synopsis = "[COMMAND [SUBCOMMAND]]",
        .about = "Prints the help of COMMAND (as 'onboard COMMAND --help' does), or the list\n"
                 "of commands and global options.\n",
        .operands = help_operands,
        .run = help_run,
};

static const cli_word shell_words[] = {{"bash", 0}, {NULL, 0}};
static const cli_words shells = {NULL, shell_words};

static int completion_run(cli *c, const cli_args *a)
{
	(void)c, (void)a; /* bash is the only word the parser lets through */
	cli_print_bash_completion(stdout);
	return OB_EXIT_OK;
}

static const cli_operand completion_operands[] = {
        {"SHELL", .kind = CLI_WORD, .words = &shells},
        {NULL},
};

static const cli_command cli_cmd_completion = {
        .name = "completion",
        .summary = "shell completion for onboard (bash)",
        .synopsis = "bash",
        .about = "Prints a bash completion script for onboard's commands, options and\n"
                 "their words, from the same table the parser reads. Load it with\n"
                 "  source <(onboard completion bash)\n"
                 "or save it as /usr/share/bash-completion/completions/onboard.\n",
        .operands = completion_operands,
        .run = completion_run,
};

const cli_command *const cli_commands[] = {
        &cli_cmd_keygen,     &cli_cmd_login,
        &cli_cmd_whoami,     &cli_cmd_health,
        &cli_cmd_methods,    &cli_cmd_describe,
        &cli_cmd_call,       &cli_cmd_submit,
        &cli_cmd_get,        &cli_cmd_list,
        &cli_cmd_review,     &cli_cmd_withdraw,
        &cli_cmd_adspend,    &cli_cmd_webinar,
        &cli_cmd_advisor,    &cli_cmd_cohort,
        &cli_cmd_import,     &cli_cmd_export,
        &cli_cmd_admin,      &cli_cmd_help,
        &cli_cmd_completion, NULL,
};
