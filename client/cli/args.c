/*
 * The command-line parser (cli.h): one getopt_long loop for every command.
 *
 * A line is read in two steps with the same loop. First the global options
 * alone, up to the first operand, which names the command (or a group, such
 * as admin, and then the next operand names its subcommand). Then the rest
 * of the line with the command's options and the global ones together, so
 * that a global option may come after the command or between its operands.
 * getopt_long runs in its "return in order" mode ('-' in optstring): it
 * hands operands back in their place instead of moving them, whatever
 * POSIXLY_CORRECT says, and leaves argv as it is. A command's own option
 * hides a global one of the same name: review and withdraw take --version N
 * (the application's), so there 'onboard --version' is the way to ask.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "defaults.h"
#include "values.h"

/* The order of cli_global_options, for apply_global(). */
enum {
	G_SERVER,
	G_TIMEOUT,
	G_JSON,
	G_EMIT_DEFAULTS,
	G_HEADER,
	G_KEY,
	G_TLS_CA,
	G_TLS_CERT,
	G_TLS_KEY,
	G_TLS_SERVER_NAME,
	G_SERVER_UID,
	G_HELP,
	G_VERSION,
	G_COUNT,
};

const cli_option cli_global_options[] = {
        [G_SERVER] = {"server", 's', CLI_STRINGS, .metavar = "URL",
                      .help = "server to call (repeatable; default $ONBOARD_SERVER,\n"
                              "else your onboardd's socket when it exists,\n"
                              "ipc://$XDG_RUNTIME_DIR/onboard/onboardd.sock, else\n"
                              "the systemd unit's, ipc://" OB_SYSTEM_SOCKET ")"},
        [G_TIMEOUT] = {"timeout", 't', CLI_DURATION, .metavar = "DURATION",
                       .help = "per call: 500ms, 5s, 1.5m, 1h; a plain number is\n"
                               "seconds; at most 24h (default 10s)"},
        [G_JSON] = {"json", 0, CLI_FLAG,
                    .help = "print results in the proto3 JSON mapping, and errors\n"
                            "as one JSON object on stderr"},
        [G_EMIT_DEFAULTS] = {"emit-defaults", 0, CLI_FLAG,
                             .help = "JSON: print fields at their default value too\n"
                                     "(0, \"\", false, []) instead of leaving them out"},
        [G_HEADER] = {"header", 'H', CLI_STRINGS, .metavar = "KEY=VALUE",
                      .help = "add call metadata (repeatable)"},
        [G_KEY] = {"key", 'k', CLI_STRING, .metavar = "FILE",
                   .help = "log in with this key (from 'onboard keygen'; default\n"
                           "$ONBOARD_KEY); without one, only a trusted local peer"},
        [G_TLS_CA] = {"tls-ca", 0, CLI_STRING, .metavar = "FILE",
                      .help = "CA that signed the server's certificate (tls+tcp://)"},
        [G_TLS_CERT] = {"tls-cert", 0, CLI_STRING, .metavar = "FILE",
                        .help = "client certificate, when the server requires one"},
        [G_TLS_KEY] = {"tls-key", 0, CLI_STRING, .metavar = "FILE", .help = "its private key"},
        [G_TLS_SERVER_NAME] = {"tls-server-name", 0, CLI_STRING, .metavar = "NAME",
                               .help = "the name the server's certificate must carry\n"
                                       "(default: the URL's host; mbedTLS does not match IP\n"
                                       "addresses against certificates)"},
        [G_SERVER_UID] = {"server-uid", 0, CLI_STRING, .metavar = "USER",
                          .help = "the user (name or uid) onboardd runs as, for ipc://\n"
                                  "(default $ONBOARD_SERVER_UID, else yours, or for the\n"
                                  "systemd unit's socket the owner of its directory;\n"
                                  "root is always taken): a socket served by anyone\n"
                                  "else is refused before anything is sent"},
        [G_HELP] = {"help", 'h', CLI_FLAG, .help = "this text; COMMAND --help for a command's"},
        [G_VERSION] = {"version", 0, CLI_FLAG, .help = "the version of onboard"},
        [G_COUNT] = {NULL},
};

void cli_init(cli *c)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = 10000;
}

void cli_fini(cli *c)
{
	if (c == NULL)
		return;
	ob_client_close(c->client);
	c->client = NULL;
	for (size_t k = 0; k < c->n_md; k++)
		free((char *)c->md[k].key);
	c->n_md = 0;
}

/* Records the first usage error; later ones are consequences or noise. */
static void problem(cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(cli_args *a, const char *fmt, ...)
{
	if (a->err[0] != '\0')
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
}

static bool takes_value(cli_kind k)
{
	return k != CLI_FLAG;
}

const char *cli_opt(const cli_args *a, const char *name)
{
	const char *v = NULL;
	for (size_t i = 0; i < a->n_seen; i++)
		if (strcmp(a->seen[i].opt->name, name) == 0)
			v = a->seen[i].value != NULL ? a->seen[i].value : "";
	const cli_option *o = a->cmd != NULL ? a->cmd->options : NULL;
	for (; v == NULL && o != NULL && o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			v = o->dflt;
	return v;
}

size_t cli_opt_count(const cli_args *a, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n_seen; i++)
		n += strcmp(a->seen[i].opt->name, name) == 0;
	return n;
}

const char *cli_arg(const cli_args *a, size_t i)
{
	return i < a->n_operands ? a->operands[i] : NULL;
}

/* Checks the words of a CLI_WORDS value ("a,b c"); counts them into *n. */
static bool check_words(cli_args *a, const cli_option *o, const char *v, size_t *n)
{
	char word[CLI_WORD_MAX], list[256];
	int x;
	for (const char *p = v; *p != '\0';) {
		size_t len = strcspn(p, ", ");
		if (len > 0) {
			snprintf(word, sizeof(word), "%.*s", (int)len, p);
			if (len >= sizeof(word) || !cli_word_value(o->words, word, &x)) {
				problem(a, "--%s takes %s, not '%.*s'", o->name,
				        cli_word_list(o->words, list, sizeof(list)), (int)len, p);
				return false;
			}
			(*n)++;
		}
		p += len + (p[len] != '\0');
	}
	return true;
}

/* How many values o has so far: words for CLI_WORDS, else occurrences. */
static size_t values_of(const cli_args *a, const cli_option *o)
{
	size_t n = 0;
	for (size_t i = 0; i < a->n_seen; i++) {
		if (a->seen[i].opt != o)
			continue;
		if (o->kind != CLI_WORDS) {
			n++;
			continue;
		}
		for (const char *p = a->seen[i].value; *p != '\0'; p += strspn(p, ", "))
			if (strcspn(p, ", ") > 0) {
				n++;
				p += strcspn(p, ", ");
			}
	}
	return n;
}

/* Whether v is a value of kind k (words, min and max as in cli_option). */
static bool valid(cli_kind k, const cli_words *words, uint64_t min, uint64_t max, const char *v)
{
	uint64_t u;
	int64_t i64;
	uint32_t h, m;
	int x;
	return k == CLI_UINT       ? cli_parse_u64(v, min, max != 0 ? max : UINT64_MAX, &u)
	       : k == CLI_EUROS    ? cli_parse_euros(v, &i64)
	       : k == CLI_HHMM     ? cli_parse_hhmm(v, &h, &m)
	       : k == CLI_WORD     ? cli_word_value(words, v, &x)
	       : k == CLI_DURATION ? cli_parse_duration_ms(v, &i64)
	                           : true;
}

/* Whether v is a good value of kind k for o; a usage error in a if not.
 * what: "--name" or the operand's metavar. */
static bool check_value(cli_args *a, const char *what, cli_kind k, const cli_words *words,
                        uint64_t min, uint64_t max, const char *v)
{
	static const char *const takes[] = {
	        [CLI_EUROS] = "takes euros, e.g. 39 or 39.50",
	        [CLI_HHMM] = "takes HH:MM, e.g. 10:00",
	        [CLI_DURATION] = "takes a duration such as 500ms, 5s or 1m",
	};
	char list[256];
	bool type_max = max == 0 || max == UINT32_MAX || max == INT64_MAX || max == UINT64_MAX;
	if (valid(k, words, min, max, v))
		return true;
	if (k == CLI_WORD)
		problem(a, "%s is %s, not '%s'", what, cli_word_list(words, list, sizeof(list)), v);
	else if (k == CLI_UINT && type_max)
		problem(a, "%s takes a whole number%s, not '%s'", what, min > 0 ? " above 0" : "",
		        v);
	else if (k == CLI_UINT)
		problem(a, "%s takes a whole number from %llu to %llu, not '%s'", what,
		        (unsigned long long)min, (unsigned long long)max, v);
	else
		problem(a, "%s %s, not '%s'", what, takes[k], v);
	return false;
}

/* One of the command's options, with its value, into a->seen. */
static void take_option(cli_args *a, const cli_option *o, const char *v)
{
	char what[80];
	snprintf(what, sizeof(what), "--%s", o->name);
	if (v != NULL && !check_value(a, what, o->kind, o->words, o->min, o->max, v))
		return;
	size_t n = 0;
	if (o->kind == CLI_WORDS && !check_words(a, o, v, &n))
		return;
	if ((o->kind == CLI_WORDS || o->kind == CLI_STRINGS) && o->max > 0 &&
	    values_of(a, o) + (o->kind == CLI_WORDS ? n : 1) > o->max) {
		problem(a, "at most %llu --%s", (unsigned long long)o->max, o->name);
		return;
	}
	if (a->n_seen == CLI_MAX_ARGS) {
		problem(a, "more than %d options", CLI_MAX_ARGS);
		return;
	}
	a->seen[a->n_seen++] = (struct cli_seen){o, v};
}

/* Where a global option naming a file or a name goes in the client's
 * options. */
static const char **client_string(cli *c, const cli_option *o)
{
	static const struct {
		int g;
		size_t offset;
	} at[] = {
	        {G_KEY, offsetof(ob_client_options, key_file)},
	        {G_TLS_CA, offsetof(ob_client_options, tls_ca_file)},
	        {G_TLS_CERT, offsetof(ob_client_options, tls_cert_file)},
	        {G_TLS_KEY, offsetof(ob_client_options, tls_key_file)},
	        {G_TLS_SERVER_NAME, offsetof(ob_client_options, tls_server_name)},
	};
	size_t i = 0;
	while (i + 1 < sizeof(at) / sizeof(at[0]) && at[i].g != o - cli_global_options)
		i++;
	return (const char **)((char *)&c->client_opts + at[i].offset);
}

/* The boolean a global option without a value sets. */
static bool *switch_of(cli *c, cli_args *a, const cli_option *o)
{
	ptrdiff_t g = o - cli_global_options;
	return g == G_JSON            ? &c->json
	       : g == G_EMIT_DEFAULTS ? &c->emit_defaults
	       : g == G_HELP          ? &a->help
	                              : &a->version;
}

/* A global option into c. */
static void apply_global(cli *c, cli_args *a, const cli_option *o, const char *v)
{
	switch (o - cli_global_options) {
	case G_JSON:
	case G_EMIT_DEFAULTS:
	case G_HELP:
	case G_VERSION:
		*switch_of(c, a, o) = true;
		break;
	case G_SERVER:
		if (c->n_servers == CLI_MAX_SERVERS)
			problem(a, "at most %d servers", CLI_MAX_SERVERS);
		else
			c->servers[c->n_servers++] = v;
		break;
	case G_TIMEOUT:
		if (check_value(a, "--timeout", CLI_DURATION, NULL, 0, 0, v))
			cli_parse_duration_ms(v, &c->timeout_ms);
		break;
	case G_HEADER: {
		const char *eq = strchr(v, '=');
		if (eq == NULL || eq == v) {
			problem(a, "-H takes KEY=VALUE, not '%s'", v);
		} else if (c->n_md == CLI_MAX_METADATA) {
			problem(a, "at most %d -H entries", CLI_MAX_METADATA);
		} else {
			char *key = strndup(v, (size_t)(eq - v));
			if (key == NULL)
				problem(a, "out of memory");
			else
				c->md[c->n_md++] = (ob_metadata){key, eq + 1};
		}
		break;
	}
	case G_KEY:
	case G_TLS_CA:
	case G_TLS_CERT:
	case G_TLS_KEY:
	case G_TLS_SERVER_NAME:
		*client_string(c, o) = v;
		break;
	case G_SERVER_UID:
		if (cli_parse_uid(v, &c->client_opts.ipc_server_uid))
			c->client_opts.ipc_server_uid_set = true;
		else
			problem(a, "--server-uid needs a user name or a uid, not '%s'", v);
		break;
	default: /* defensive: the table and the enum are one */
		break;
	}
}

/* The options of one getopt_long loop: the command's, then the globals it
 * does not hide. */
typedef struct optset {
	struct option longs[CLI_MAX_OPTIONS + 1];
	const cli_option *opts[CLI_MAX_OPTIONS];
	size_t n;
	char shorts[2 * CLI_MAX_OPTIONS + 3];
} optset;

static bool optset_has(const optset *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->opts[i]->name, name) == 0)
			return true;
	return false;
}

static void optset_add(optset *s, const cli_option *table)
{
	for (const cli_option *o = table; o != NULL && o->name != NULL; o++) {
		if (s->n == CLI_MAX_OPTIONS || optset_has(s, o->name))
			continue; /* a command's option hides the global one */
		int has = takes_value(o->kind) ? required_argument : no_argument;
		s->longs[s->n] = (struct option){o->name, has, NULL, 256 + (int)s->n};
		s->opts[s->n++] = o;
		if (o->short_name != 0 && strchr(s->shorts, o->short_name) == NULL) {
			size_t len = strlen(s->shorts);
			s->shorts[len++] = o->short_name;
			if (has == required_argument)
				s->shorts[len++] = ':';
			s->shorts[len] = '\0';
		}
	}
	s->longs[s->n] = (struct option){NULL, 0, NULL, 0};
}

static const cli_option *optset_find(const optset *s, int ch)
{
	if (ch >= 256 && (size_t)(ch - 256) < s->n)
		return s->opts[ch - 256];
	for (size_t i = 0; i < s->n; i++)
		if (s->opts[i]->short_name == ch)
			return s->opts[i];
	return NULL;
}

/* What getopt_long refused in arg (the element it stopped at), in words. */
static void refused(cli_args *a, const optset *s, int ch, const char *arg)
{
	if (ch == ':') {
		const cli_option *o = optset_find(s, optopt);
		if (o != NULL && strncmp(arg, "--", 2) == 0)
			problem(a, "--%s needs a value (%s)", o->name, o->metavar);
		else if (o != NULL)
			problem(a, "-%c needs a value (%s)", o->short_name, o->metavar);
		else
			problem(a, "%s needs a value", arg);
		return;
	}
	if (strncmp(arg, "--", 2) != 0) {
		problem(a, "unknown option '-%c'", optopt > 0 && optopt < 256 ? optopt : '?');
		return;
	}
	const char *name = arg + 2;
	size_t len = strcspn(name, "=");
	char matches[256] = "";
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (strncmp(s->opts[i]->name, name, len) != 0)
			continue;
		if (strlen(s->opts[i]->name) == len && name[len] == '=') {
			problem(a, "--%s takes no value", s->opts[i]->name);
			return;
		}
		size_t used = strlen(matches);
		snprintf(matches + used, sizeof(matches) - used, "%s--%s", n > 0 ? ", " : "",
		         s->opts[i]->name);
		n++;
	}
	if (n > 1)
		problem(a, "option '--%.*s' is ambiguous: %s", (int)len, name, matches);
	else
		problem(a, "unknown option '%s'", arg);
}

/*
 * One getopt_long loop over argv[from..argc-1] with the global options and
 * cmd's (NULL: the globals alone). Without cmd it stops at the first operand
 * and returns its index (argc when there is none); with cmd it collects the
 * operands and returns argc.
 */
static int scan(cli *c, cli_args *a, int argc, char **argv, int from, const cli_command *cmd)
{
	optset s = {.shorts = "-:"};
	if (cmd != NULL)
		optset_add(&s, cmd->options);
	optset_add(&s, cli_global_options);
	/* getopt_long starts at index 1: the element before from stands in for
	 * argv[0]. optind = 0 asks glibc for a full re-initialisation. */
	char **sub = argv + from - 1;
	int n = argc - from + 1, ch;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(n, sub, s.shorts, s.longs, NULL)) != -1) {
		if (ch == 1 && cmd == NULL)
			return from - 1 + optind - 1;
		if (ch == 1) {
			if (a->n_operands < CLI_MAX_ARGS)
				a->operands[a->n_operands++] = optarg;
			else
				problem(a, "more than %d operands", CLI_MAX_ARGS);
			continue;
		}
		const cli_option *o = ch == '?' || ch == ':' ? NULL : optset_find(&s, ch);
		if (o == NULL)
			refused(a, &s, ch, sub[optind - 1 < n ? optind - 1 : n - 1]);
		else if (o >= cli_global_options && o < cli_global_options + G_COUNT)
			apply_global(c, a, o, optarg);
		else
			take_option(a, o, takes_value(o->kind) ? optarg : NULL);
	}
	/* After "--", everything is an operand. */
	if (cmd == NULL)
		return optind < n ? from - 1 + optind : argc;
	for (int i = optind; i < n; i++) {
		if (a->n_operands < CLI_MAX_ARGS)
			a->operands[a->n_operands++] = sub[i];
		else
			problem(a, "more than %d operands", CLI_MAX_ARGS);
	}
	return argc;
}

/* The operands against the command's table: how many, and their words. */
static void check_operands(cli_args *a, const cli_command *cmd)
{
	size_t need = 0, most = 0;
	bool rest = false;
	char names[128] = "";
	for (const cli_operand *o = cmd->operands; o != NULL && o->metavar != NULL; o++) {
		most++;
		rest = rest || o->rest;
		if (!o->optional) {
			need++;
			size_t used = strlen(names);
			snprintf(names + used, sizeof(names) - used, "%s%s",
			         used > 0 ? " and " : "", o->metavar);
		}
	}
	if (a->n_operands < need) {
		problem(a, "needs %s", names);
		return;
	}
	if (a->n_operands > most && !rest) {
		if (most == 0)
			problem(a, "takes no operands, not '%s'", a->operands[most]);
		else
			problem(a, "takes at most %zu operand%s, not also '%s'", most,
			        most == 1 ? "" : "s", a->operands[most]);
		return;
	}
	size_t i = 0;
	for (const cli_operand *o = cmd->operands;
	     o != NULL && o->metavar != NULL && i < a->n_operands; o++) {
		do {
			if (!check_value(a, o->metavar, o->kind, o->words, 0, 0, a->operands[i]))
				return;
			i++;
		} while (o->rest && i < a->n_operands);
	}
}

const cli_command *cli_find_command(const cli_command *const *table, const char *name)
{
	for (; *table != NULL; table++)
		if (strcmp((*table)->name, name) == 0)
			return *table;
	return NULL;
}

static void path_add(cli_args *a, const char *word)
{
	size_t used = strlen(a->path);
	snprintf(a->path + used, sizeof(a->path) - used, "%s%s", used > 0 ? " " : "", word);
}

int cli_parse(cli *c, int argc, char **argv, cli_args *a)
{
	memset(a, 0, sizeof(*a));
	const cli_command *const *level = cli_commands;
	int at = 1;
	while (at < argc) {
		int word = scan(c, a, argc, argv, at, NULL);
		if (word >= argc)
			break;
		const cli_command *cmd = cli_find_command(level, argv[word]);
		if (cmd == NULL) {
			problem(a, "unknown %s '%s'", a->group != NULL ? "subcommand" : "command",
			        argv[word]);
			break;
		}
		path_add(a, cmd->name);
		if (cmd->subcommands != NULL) {
			a->group = cmd;
			level = cmd->subcommands;
			at = word + 1;
			continue;
		}
		a->cmd = cmd;
		scan(c, a, argc, argv, word + 1, cmd);
		if (!a->help && !a->version)
			check_operands(a, cmd);
		break;
	}
	return a->err[0] != '\0' ? OB_EXIT_USAGE : OB_EXIT_OK;
}

int cli_apply_env(cli *c)
{
	const char *su = getenv("ONBOARD_SERVER_UID");
	if (!c->client_opts.ipc_server_uid_set && su != NULL && su[0] != '\0') {
		if (!cli_parse_uid(su, &c->client_opts.ipc_server_uid))
			return cli_usage(c, "$ONBOARD_SERVER_UID is not a user: '%s'", su);
		c->client_opts.ipc_server_uid_set = true;
	}
	const char *k = getenv("ONBOARD_KEY");
	if (c->client_opts.key_file == NULL && k != NULL && k[0] != '\0')
		c->client_opts.key_file = k;
	return OB_EXIT_OK;
}
