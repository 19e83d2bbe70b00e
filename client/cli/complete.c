/*
 * Shell completion from the command table (cli.h): 'onboard completion bash'
 * prints a script whose data (commands, options, which take a value, the
 * words of each value and operand) is written from the same table the parser
 * reads, so that completion offers exactly what the parser takes.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The logic, after the data. Bash 4 (associative arrays). */
static const char bash_logic[] =
        "_onboard_reply() {\n"
        "\tcase $1 in\n"
        "\t@file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
        "\t@user) COMPREPLY=($(compgen -u -- \"$cur\")) ;;\n"
        "\t*) COMPREPLY=($(compgen -W \"$1\" -- \"$cur\")) ;;\n"
        "\tesac\n"
        "}\n"
        "\n"
        "_onboard() {\n"
        "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
        "\tlocal cmd= word i n=0 valued=\" ${_onboard_valued[-]} \"\n"
        "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
        "\t\tword=${COMP_WORDS[i]}\n"
        "\t\tif [[ $word == -?* ]]; then\n"
        "\t\t\t[[ $word != *=* && $valued == *\" $word \"* ]] && ((i++))\n"
        "\t\telif [[ -z $cmd ]]; then\n"
        "\t\t\tcmd=$word\n"
        "\t\telif [[ -n ${_onboard_subcommands[$cmd]+set} ]]; then\n"
        "\t\t\tcmd=\"$cmd $word\"\n"
        "\t\telse\n"
        "\t\t\t((n++))\n"
        "\t\tfi\n"
        "\t\t[[ -n $cmd ]] && valued=\" ${_onboard_valued[-]} ${_onboard_valued[$cmd]} \"\n"
        "\tdone\n"
        "\tif [[ $prev == -?* && $prev != *=* && $valued == *\" $prev \"* ]]; then\n"
        "\t\t_onboard_reply \"${_onboard_values[$cmd|$prev]-${_onboard_values[|$prev]}}\"\n"
        "\telif [[ $cur == -* ]]; then\n"
        "\t\t_onboard_reply \"${_onboard_options[-]} ${_onboard_options[$cmd]}\"\n"
        "\telif [[ -z $cmd ]]; then\n"
        "\t\t_onboard_reply \"$_onboard_commands\"\n"
        "\telif [[ -n ${_onboard_subcommands[$cmd]+set} ]]; then\n"
        "\t\t_onboard_reply \"${_onboard_subcommands[$cmd]}\"\n"
        "\telse\n"
        "\t\t_onboard_reply \"${_onboard_operands[$cmd $n]-${_onboard_operands[$cmd *]}}\"\n"
        "\tfi\n"
        "}\n"
        "complete -F _onboard onboard\n";

typedef struct word_out {
	FILE *f;
	int n;
} word_out;

static void print_word(const char *word, void *ctx)
{
	word_out *w = ctx;
	fprintf(w->f, "%s%s", w->n++ > 0 ? " " : "", word);
}

/* A file name is asked for: FILE, APP.json, FILE.csv. */
static bool names_a_file(const char *metavar)
{
	return metavar != NULL && (strstr(metavar, "FILE") != NULL || strchr(metavar, '.') != NULL);
}

/* Whether a value or an operand has something to complete. */
static bool completes(const cli_words *words, const char *metavar)
{
	return words != NULL || names_a_file(metavar) ||
	       (metavar != NULL &&
	        (strcmp(metavar, "USER") == 0 || strcmp(metavar, "METHOD") == 0));
}

/* What completes a value or an operand: its words, files, users or the
 * contract's methods (completes() says whether there is anything). */
static void print_values(FILE *f, const cli_words *words, const char *metavar)
{
	word_out w = {f, 0};
	if (words != NULL) {
		cli_words_each(words, print_word, &w);
	} else if (names_a_file(metavar)) {
		fputs("@file", f);
	} else if (strcmp(metavar, "USER") == 0) {
		fputs("@user", f);
	} else {
		for (const ProtobufCServiceDescriptor *const *s = cli_services; *s != NULL; s++)
			for (unsigned m = 0; m < (*s)->n_methods; m++)
				fprintf(f, "%s/%s/%s", w.n++ > 0 ? " " : "", (*s)->name,
				        (*s)->methods[m].name);
	}
}

/* The options of a table, for the command key ("-" for the global ones). */
static void print_options(FILE *f, const char *key, const cli_option *opts)
{
	if (opts == NULL || opts->name == NULL)
		return;
	fprintf(f, "_onboard_options['%s']='", key);
	for (const cli_option *o = opts; o != NULL && o->name != NULL; o++)
		fprintf(f, "%s--%s", o == opts ? "" : " ", o->name);
	fprintf(f, "'\n_onboard_valued['%s']='", key);
	for (const cli_option *o = opts; o != NULL && o->name != NULL; o++) {
		if (o->kind == CLI_FLAG)
			continue;
		fprintf(f, " --%s", o->name);
		if (o->short_name != 0)
			fprintf(f, " -%c", o->short_name);
	}
	fputs("'\n", f);
	for (const cli_option *o = opts; o != NULL && o->name != NULL; o++) {
		if (o->kind == CLI_FLAG || !completes(o->words, o->metavar))
			continue;
		fprintf(f, "_onboard_values['%s|--%s']='", strcmp(key, "-") == 0 ? "" : key,
		        o->name);
		print_values(f, o->words, o->metavar);
		fputs("'\n", f);
	}
}

static void print_operands(FILE *f, const char *key, const cli_command *cmd)
{
	int i = 0;
	bool help = strcmp(cmd->name, "help") == 0;
	for (const cli_operand *op = cmd->operands; op != NULL && op->metavar != NULL; op++, i++) {
		if (!help && !completes(op->words, op->metavar))
			continue;
		if (op->rest)
			fprintf(f, "_onboard_operands['%s *']='", key);
		else
			fprintf(f, "_onboard_operands['%s %d']='", key, i);
		if (help)
			for (const cli_command *const *c = cli_commands; *c != NULL; c++)
				fprintf(f, "%s%s", c == cli_commands ? "" : " ", (*c)->name);
		else
			print_values(f, op->words, op->metavar);
		fputs("'\n", f);
	}
}

static void print_command(FILE *f, const cli_command *cmd, const char *key)
{
	if (cmd->subcommands == NULL) {
		print_options(f, key, cmd->options);
		print_operands(f, key, cmd);
		return;
	}
	fprintf(f, "_onboard_subcommands['%s']='", key);
	for (const cli_command *const *sub = cmd->subcommands; *sub != NULL; sub++)
		fprintf(f, "%s%s", sub == cmd->subcommands ? "" : " ", (*sub)->name);
	fputs("'\n", f);
	for (const cli_command *const *sub = cmd->subcommands; *sub != NULL; sub++) {
		char path[64];
		snprintf(path, sizeof(path), "%s %s", key, (*sub)->name);
		print_command(f, *sub, path);
	}
}

void cli_print_bash_completion(FILE *f)
{
	fprintf(f,
	        "# bash completion for onboard %s, written by 'onboard completion bash' from\n"
	        "# the CLI's command table. Load it with: source <(onboard completion bash)\n"
	        "# or save it as /usr/share/bash-completion/completions/onboard.\n"
	        "declare -gA _onboard_options=() _onboard_valued=() _onboard_values=()\n"
	        "declare -gA _onboard_operands=() _onboard_subcommands=()\n"
	        "_onboard_commands='",
	        OB_VERSION);
	for (const cli_command *const *cmd = cli_commands; *cmd != NULL; cmd++)
		fprintf(f, "%s%s", cmd == cli_commands ? "" : " ", (*cmd)->name);
	fputs("'\n", f);
	print_options(f, "-", cli_global_options);
	for (const cli_command *const *cmd = cli_commands; *cmd != NULL; cmd++)
		print_command(f, *cmd, (*cmd)->name);
	fputs(bash_logic, f);
}
