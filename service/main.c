/*
 * onboardd: flags, signals and wiring. Nothing else lives here.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/notify.h"
#include "base/time.h"
#include "copy_cmd.h"
#include "crypto/keystore.h"
#include "crypto/vault.h"
#include "defaults.h"
#include "domain/domain.h"
#include "http/http.h"
#include "rpc/authz.h"
#include "rpc/dispatch.h"
#include "rpc/handlers.h"
#include "rpc/metrics.h"
#include "rpc/server.h"
#include "store/pg.h"
#include "store/sqlite.h"

enum { MAX_LISTEN = 16, MAX_OWNED = 3 * MAX_LISTEN }; /* --listen, --audience, --http */

typedef struct {
	const char *listen[MAX_LISTEN];
	size_t n_listen;
	const char *audiences[MAX_LISTEN];
	size_t n_audiences;
	ob_server_config server;
	int64_t grace_ms;
	int log_format; /* ob_log_format */
	int log_level;  /* ob_log_level */
	bool access_log;
	unsigned access_sample;
	const char *db;
	const char *master_key;
	const char *now;
	unsigned commit_batch;
	unsigned db_pool;
	ob_authz_config authz;
	char *owned[MAX_OWNED]; /* the words of list variables, split from the environment */
	size_t n_owned;
	const char *http[MAX_LISTEN]; /* --http URLs */
	size_t n_http;
	ob_http_config http_cfg; /* the HTTP face's own caps; the rest comes from server */
} options;

/*
 * The flags, one table: getopt_long's options, the ONBOARDD_* environment variables and
 * `onboardd --help` are all made from it, so that a flag and its variable cannot drift apart.
 * A flag is a row: its name (its variable is ONBOARDD_ and the name in capitals, '-' as '_'),
 * its metavar and help, what it takes (a kind, its place in options, a range or its words, the
 * message for a bad value). The command line wins over the environment: a variable is read only
 * for the flags the command line does not give. A new flag is one row, and a kind here when
 * none of these stores its value.
 */
typedef enum {
	F_TEXT,    /* const char *: the argument as it is */
	F_LIST,    /* const char *[MAX_LISTEN], its count (size_t) at at2: repeatable; the
	              variable holds the values separated by spaces */
	F_UINT,    /* unsigned, a whole number from min to max */
	F_SIZE,    /* size_t, likewise */
	F_SECONDS, /* int64_t milliseconds, from whole seconds min to max */
	F_RATE,    /* double a second, min to max, and twice that as the burst at at2 */
	F_MODE,    /* unsigned, an octal file mode */
	F_CHOICE,  /* bool: false for words[0], true for words[1] */
	F_WORD,    /* int: the index of the argument among words (at most 4) */
	F_SWITCH,  /* bool, no argument: --NAME sets it, --no-NAME clears it; yes or no in the
	              environment */
	F_HELP,
	F_VERSION,
} flag_kind;

typedef struct {
	const char *name; /* --name */
	char short_name;  /* 0: none */
	flag_kind kind;
	size_t at, at2; /* offsetof(options, ...); at2: F_LIST's count, F_RATE's burst */
	unsigned long long min, max;
	const char *words[4];
	const char *bad;     /* the message for a bad value; numbers: "--NAME takes MIN to MAX" */
	const char *metavar; /* for --help; NULL: no argument */
	const char *help;    /* '\n' starts another line in --help's column */
} flag;

#define AT(field) offsetof(options, field)

/* The flags, in the order of --help. */
static const flag flags[] = {
        {"listen", 'l', F_LIST, .at = AT(listen), .at2 = AT(n_listen),
         .bad = "at most 16 --listen URLs", .metavar = "URL",
         .help = "ipc://PATH, tcp://HOST:PORT or tls+tcp://HOST:PORT\n"
                 "(repeatable; default $ONBOARD_SERVER or\n"
                 "ipc://$XDG_RUNTIME_DIR/onboard/onboardd.sock)"},
        {"db", 0, F_TEXT, .at = AT(db), .metavar = "PATH",
         .help = "the database: a SQLite file (default var/onboard.db,\ncreated with its "
                 "directory), or a postgresql:// URL (several\ninstances may share one; "
                 "--master-key is then required)"},
        {"db-pool", 0, F_UINT, .at = AT(db_pool), .min = 1, .max = 256, .metavar = "N",
         .help = "PostgreSQL: most read connections (default 8), besides\n"
                 "the writer's"},
        {"master-key", 0, F_TEXT, .at = AT(master_key), .metavar = "FILE",
         .help = "the master keys of the contacts' personal data (default\n"
                 "master.key beside --db, created mode 0600 with a new\n"
                 "database: back it up, apart from the database)"},
        {"tls-cert", 0, F_TEXT, .at = AT(server.tls_cert), .metavar = "FILE",
         .help = "PEM certificate for tls+tcp://"},
        {"tls-key", 0, F_TEXT, .at = AT(server.tls_key), .metavar = "FILE",
         .help = "PEM private key for tls+tcp:// (mode 0600)"},
        {"tls-ca", 0, F_TEXT, .at = AT(server.tls_ca), .metavar = "FILE",
         .help = "require client certificates signed by this CA"},
        {"ipc-mode", 0, F_MODE, .at = AT(server.ipc_mode),
         .bad = "--ipc-mode takes an octal mode such as 0600", .metavar = "MODE",
         .help = "permissions of ipc socket files (default 0600)"},
        {"contexts", 0, F_UINT, .at = AT(server.contexts), .min = 1, .max = 4096, .metavar = "N",
         .help = "requests in flight, all connections (default 256)"},
        {"workers", 0, F_UINT, .at = AT(server.workers), .min = 1, .max = 256, .metavar = "N",
         .help = "handler threads (default 128)"},
        {"max-request-bytes", 0, F_SIZE, .at = AT(server.max_request_bytes), .min = 1024,
         .max = 16u << 20, .metavar = "N",
         .help = "larger requests get RESOURCE_EXHAUSTED (default 65536)"},
        {"max-connections", 0, F_UINT, .at = AT(server.max_connections), .min = 1, .max = 1u << 20,
         .metavar = "N", .help = "in all (default 1024)"},
        {"max-connections-per-peer", 0, F_UINT, .at = AT(server.max_connections_per_peer), .min = 1,
         .max = 1u << 20, .metavar = "N",
         .help = "per remote IPv4 address or IPv6 /64 (default 64)"},
        {"max-accept-rate", 0, F_UINT, .at = AT(server.max_accept_rate), .max = 1u << 20,
         .metavar = "N",
         .help = "new tcp and tls connections a second, a listener\n"
                 "(both faces); more wait in the kernel's backlog;\n"
                 "0: no limit (default 500)"},
        {"reserved-local-connections", 0, F_UINT, .at = AT(server.reserved_local_connections),
         .max = 1u << 20, .metavar = "N",
         .help = "of --max-connections, kept for the local\n"
                 "administrator on ipc (default: an eighth, at most 16)"},
        {"idle-timeout", 0, F_SECONDS, .at = AT(server.idle_timeout_ms), .max = 86400 * 365,
         .bad = "--idle-timeout takes seconds, 0 for never", .metavar = "SECONDS",
         .help = "close connections idle this long, 0 = never (default 300)"},
        {"grace", 0, F_SECONDS, .at = AT(grace_ms), .max = 3600,
         .bad = "--grace takes 0 to 3600 seconds", .metavar = "SECONDS",
         .help = "on SIGTERM, let calls in flight finish (default 10)"},
        {"log-format", 0, F_WORD, .at = AT(log_format), .words = {"text", "json"},
         .bad = "--log-format takes text or json", .metavar = "text|json",
         .help = "(default text)"},
        {"log-level", 0, F_WORD, .at = AT(log_level), .words = {"debug", "info", "warn", "error"},
         .bad = "--log-level takes debug, info, warn or error", .metavar = "LEVEL",
         .help = "debug, info, warn or error: the least severe event\n"
                 "logged (default info; the access log is apart)"},
        {"access-log", 0, F_SWITCH, .at = AT(access_log), .bad = "--access-log takes yes or no",
         .help = "one line per call (the default), or none"},
        {"access-log-sample", 0, F_UINT, .at = AT(access_sample), .min = 1, .max = 1000000,
         .metavar = "N",
         .help = "log one successful call in N; every failed call is\n"
                 "logged all the same (default 1: every call)"},
        {"commit-batch", 0, F_UINT, .at = AT(commit_batch), .min = 1, .max = 64, .metavar = "N",
         .help = "most writes per durable commit (default 64; 1 turns\n"
                 "group commit off, for comparison)"},
        {"keyring", 0, F_TEXT, .at = AT(authz.keyring_path), .metavar = "FILE",
         .help = "callers' public keys and roles (reloaded on SIGHUP)"},
        {"token-secret", 0, F_TEXT, .at = AT(authz.token_secret_path), .metavar = "FILE",
         .help = "32-byte secret for session tokens, base64, mode 0600\n"
                 "(default: random, tokens end with the process)"},
        {"trust-local", 0, F_CHOICE, .at = AT(authz.trust_local), .words = {"no", "yes"},
         .bad = "--trust-local takes yes or no", .metavar = "yes|no",
         .help = "trust ipc peers running as this user or root as the\n"
                 "local administrator, without a key (default yes)"},
        {"rate-per-key", 0, F_RATE, .at = AT(authz.key_rate), .at2 = AT(authz.key_burst), .min = 1,
         .max = 500000, .metavar = "N", .help = "calls per second per key (default 1000)"},
        {"rate-per-address", 0, F_RATE, .at = AT(authz.addr_rate), .at2 = AT(authz.addr_burst),
         .min = 1, .max = 500000, .metavar = "N",
         .help = "calls per second per remote address (default 2000)"},
        {"audience", 0, F_LIST, .at = AT(audiences), .at2 = AT(n_audiences),
         .bad = "at most 16 --audience names", .metavar = "NAME",
         .help = "a name of this server that key logins may be signed\n"
                 "for, besides its --listen URLs: the URL callers dial\n"
                 "when it is not one of those (repeatable)"},
        {"http", 0, F_LIST, .at = AT(http), .at2 = AT(n_http), .bad = "at most 16 --http URLs",
         .metavar = "URL",
         .help = "also serve HTTP: Connect's protocol for every method,\n"
                 "/healthz, /readyz, /metrics; http://HOST:PORT or\n"
                 "https://HOST:PORT with the --tls-* files (repeatable;\n"
                 "off by default)"},
        {"http-max-connections", 0, F_UINT, .at = AT(http_cfg.max_connections), .min = 1,
         .max = 1u << 20, .metavar = "N", .help = "HTTP connections in all (default 256)"},
        {"http-max-connections-per-peer", 0, F_UINT, .at = AT(http_cfg.max_connections_per_peer),
         .min = 1, .max = 1u << 20, .metavar = "N",
         .help = "HTTP connections per IPv4 address or IPv6 /64\n(default 32)"},
        {"now", 0, F_TEXT, .at = AT(now), .metavar = "TIME",
         .help = "start the service clock at this RFC 3339 time (tests,\n"
                 "rehearsals); it then runs at normal speed"},
        {"help", 'h', F_HELP, .help = "this text"},
        {"version", 0, F_VERSION, .help = "the version"},
};

/* getopt_long's val of flag i, and of the --no- form of a switch. */
enum { N_FLAGS = sizeof(flags) / sizeof(flags[0]), FLAG_VAL = 256 };
#define FLAG_ON(i)  (FLAG_VAL + 2 * (int)(i))
#define FLAG_OFF(i) (FLAG_VAL + 2 * (int)(i) + 1)

/* A whole number in [min, max]. */
static bool parse_uint(const char *s, unsigned long long min, unsigned long long max,
                       unsigned long long *out)
{
	char *end;
	errno = 0;
	if (s[0] == '-' || s[0] == '\0')
		return false;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* ONBOARDD_NAME, the variable of f, into out (n bytes). */
static void env_name(const flag *f, char *out, size_t n)
{
	size_t k = (size_t)snprintf(out, n, "ONBOARDD_");
	for (const char *p = f->name; *p != '\0' && k + 1 < n; p++)
		out[k++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	out[k < n ? k : n - 1] = '\0';
}

static void print_usage(void)
{
	fputs("Usage: onboardd [OPTIONS]\n"
	      "       onboardd migrate [OPTIONS]\n"
	      "       onboardd copy --from FILE --to postgresql://... [--replace]\n"
	      "Serves the onboard seller-onboarding programme over nng. With migrate, applies\n"
	      "the schema's migrations to --db and exits without serving. With copy, copies a\n"
	      "SQLite programme into PostgreSQL (onboardd copy --help).\n"
	      "\n"
	      "Every option can also be set in the environment (a systemd EnvironmentFile):\n"
	      "ONBOARDD_ and its name in capitals, '_' for '-', shown under each one; a\n"
	      "repeatable option takes its values separated by spaces there, a switch yes or\n"
	      "no. The command line wins over the environment.\n"
	      "\n",
	      stdout);
	for (size_t i = 0; i < N_FLAGS; i++) {
		const flag *f = &flags[i];
		char head[80];
		int n = snprintf(head, sizeof(head), "  %c%c%c --%s%s%s%s",
		                 f->short_name ? '-' : ' ', f->short_name ? f->short_name : ' ',
		                 f->short_name ? ',' : ' ', f->kind == F_SWITCH ? "[no-]" : "",
		                 f->name, f->metavar != NULL ? " " : "",
		                 f->metavar != NULL ? f->metavar : "");
		/* The help column starts at 30; a longer head goes on a line of its
		 * own when its help would not fit after it. */
		const char *h = f->help;
		size_t first = strcspn(h, "\n");
		if (n < 29)
			printf("%-29s %.*s\n", head, (int)first, h);
		else if ((size_t)n + 2 + first <= 100)
			printf("%s  %.*s\n", head, (int)first, h);
		else
			printf("%s\n%30s%.*s\n", head, "", (int)first, h);
		for (h += first; *h == '\n'; h += first) {
			h++;
			first = strcspn(h, "\n");
			printf("%30s%.*s\n", "", (int)first, h);
		}
		if (f->kind != F_HELP && f->kind != F_VERSION) {
			char env[64];
			env_name(f, env, sizeof(env));
			printf("%30s$%s\n", "", env);
		}
	}
}

/* Checks v, the value of f (NULL for a switch given as --NAME or --no-NAME: on), and stores
 * it in o. Returns NULL, or why the value is refused. */
static const char *apply(const flag *f, const char *v, bool on, options *o)
{
	static char why[160];
	char *at = (char *)o + f->at, *end;
	unsigned long long n = 0;
	bool number =
	        f->kind == F_UINT || f->kind == F_SIZE || f->kind == F_SECONDS || f->kind == F_RATE;
	if (number && !parse_uint(v, f->min, f->max, &n)) {
		if (f->bad != NULL)
			return f->bad;
		snprintf(why, sizeof(why), "--%s takes %llu to %llu", f->name, f->min, f->max);
		return why;
	}
	switch (f->kind) {
	case F_TEXT:
		*(const char **)(void *)at = v;
		break;
	case F_LIST: {
		size_t *count = (size_t *)(void *)((char *)o + f->at2);
		if (*count == MAX_LISTEN)
			return f->bad;
		((const char **)(void *)at)[(*count)++] = v;
	} break;
	case F_UINT:
		*(unsigned *)(void *)at = (unsigned)n;
		break;
	case F_SIZE:
		*(size_t *)(void *)at = (size_t)n;
		break;
	case F_SECONDS:
		*(int64_t *)(void *)at = (int64_t)n * 1000;
		break;
	case F_RATE:
		*(double *)(void *)at = (double)n;
		*(double *)(void *)((char *)o + f->at2) = 2.0 * (double)n;
		break;
	case F_MODE:
		n = strtoul(v, &end, 8);
		if (*v == '\0' || *end != '\0' || n > 0777)
			return f->bad;
		*(unsigned *)(void *)at = (unsigned)n;
		break;
	case F_CHOICE:
		if (strcmp(v, f->words[0]) != 0 && strcmp(v, f->words[1]) != 0)
			return f->bad;
		*(bool *)at = strcmp(v, f->words[1]) == 0;
		break;
	case F_WORD:
		for (int i = 0; i < 4 && f->words[i] != NULL; i++)
			if (strcmp(v, f->words[i]) == 0) {
				*(int *)(void *)at = i;
				return NULL;
			}
		return f->bad;
	case F_SWITCH:
		if (v != NULL && strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
			return f->bad;
		*(bool *)at = v != NULL ? v[0] == 'y' : on;
		break;
	case F_HELP:
	case F_VERSION:
		break;
	}
	return NULL;
}

/* The value of f from the environment, in the variable name: each word of a list (copied
 * into o->owned), or the value as it is. Returns 0, or 1 after saying what is wrong, naming
 * the variable. */
static int apply_env(const flag *f, const char *name, const char *value, options *o)
{
	const char *bad = NULL;
	if (f->kind != F_LIST)
		bad = apply(f, value, true, o);
	for (const char *p = value; f->kind == F_LIST && bad == NULL && *p != '\0';) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		if (len == 0)
			break;
		if (o->n_owned == MAX_OWNED || (o->owned[o->n_owned] = strndup(p, len)) == NULL)
			bad = f->bad;
		else
			bad = apply(f, o->owned[o->n_owned++], true, o);
		p += len;
	}
	if (bad == NULL)
		return 0;
	fprintf(stderr, "onboardd: %s='%s': %s\nTry 'onboardd --help'.\n", name, value, bad);
	return 1;
}

extern char **environ;

/* The ONBOARDD_* variables of the environment: each must name a flag (a typo is an error,
 * not a setting silently ignored), and is applied unless the command line gave that flag
 * (given[i]). Returns 0, or 1 after saying what is wrong. */
static int read_environment(options *o, const bool *given)
{
	for (char **e = environ; *e != NULL; e++) {
		if (strncmp(*e, "ONBOARDD_", 9) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		size_t len = eq != NULL ? (size_t)(eq - *e) : strlen(*e);
		char name[64];
		size_t i;
		for (i = 0; i < N_FLAGS; i++) {
			env_name(&flags[i], name, sizeof(name));
			if (flags[i].kind != F_HELP && flags[i].kind != F_VERSION &&
			    strlen(name) == len && strncmp(name, *e, len) == 0)
				break;
		}
		if (i == N_FLAGS) {
			fprintf(stderr,
			        "onboardd: %.*s in the environment is no option of onboardd\n"
			        "Try 'onboardd --help'.\n",
			        (int)(len < 64 ? len : 64), *e);
			return 1;
		}
		if (!given[i] && eq != NULL && apply_env(&flags[i], name, eq + 1, o) != 0)
			return 1;
	}
	return 0;
}

/* Returns 0 to run, 1 on bad usage (after printing why), -1 for --help/--version. The
 * command line is read first (to know which flags it gives), then the environment for the
 * others, then the command line's values are applied. */
static int parse_args(int argc, char **argv, options *o)
{
	struct option longopts[2 * N_FLAGS + 1];
	char shorts[2 * N_FLAGS + 1];
	size_t n_long = 0, n_shorts = 0;
	for (size_t i = 0; i < N_FLAGS; i++) {
		static char no_names[N_FLAGS][64];
		bool arg = flags[i].kind != F_SWITCH && flags[i].kind != F_HELP &&
		           flags[i].kind != F_VERSION;
		longopts[n_long++] = (struct option){
		        flags[i].name, arg ? required_argument : no_argument, NULL, FLAG_ON(i)};
		if (flags[i].kind == F_SWITCH) {
			snprintf(no_names[i], sizeof(no_names[i]), "no-%s", flags[i].name);
			longopts[n_long++] =
			        (struct option){no_names[i], no_argument, NULL, FLAG_OFF(i)};
		}
		if (flags[i].short_name != 0) {
			shorts[n_shorts++] = flags[i].short_name;
			if (arg)
				shorts[n_shorts++] = ':';
		}
	}
	longopts[n_long] = (struct option){NULL, 0, NULL, 0};
	shorts[n_shorts] = '\0';

	ob_server_config_defaults(&o->server);
	ob_http_config_defaults(&o->http_cfg);
	o->grace_ms = 10000;
	o->log_format = OB_LOG_TEXT;
	o->log_level = OB_LOG_INFO;
	o->access_log = true;
	o->access_sample = 1;
	o->db = "var/onboard.db";
	ob_authz_config_defaults(&o->authz);

	/* The command line's flags and values, applied after the environment. */
	int *vals = calloc((size_t)argc + 1, sizeof(*vals));
	const char **args = calloc((size_t)argc + 1, sizeof(*args));
	bool given[N_FLAGS] = {false};
	size_t n = 0;
	int rc = vals == NULL || args == NULL ? 1 : 0, c;
	while (rc == 0 && (c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		for (size_t i = 0; c > 0 && c < FLAG_VAL && i < N_FLAGS; i++)
			if (flags[i].short_name == c)
				c = FLAG_ON(i);
		size_t i = (size_t)(c - FLAG_VAL) / 2;
		if (c < FLAG_VAL) {
			fputs("Try 'onboardd --help'.\n", stderr);
			rc = 1;
		} else if (flags[i].kind == F_HELP || flags[i].kind == F_VERSION) {
			if (flags[i].kind == F_HELP)
				print_usage();
			else
				puts("onboardd " OB_VERSION);
			rc = -1;
		} else {
			given[i] = true;
			vals[n] = c;
			args[n++] = optarg;
		}
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "onboardd: unexpected argument '%s'\nTry 'onboardd --help'.\n",
		        argv[optind]);
		rc = 1;
	}
	if (rc == 0)
		rc = read_environment(o, given);
	for (size_t k = 0; rc == 0 && k < n; k++) {
		const char *bad = apply(&flags[(vals[k] - FLAG_VAL) / 2], args[k],
		                        (vals[k] - FLAG_VAL) % 2 == 0, o);
		if (bad != NULL) {
			fprintf(stderr, "onboardd: %s\nTry 'onboardd --help'.\n", bad);
			rc = 1;
		}
	}
	free(vals);
	free(args);
	return rc;
}

static void options_fini(options *o)
{
	for (size_t i = 0; i < o->n_owned; i++)
		free(o->owned[i]);
}

/* The master key file: --master-key, or master.key in the directory of the
 * database. Created (0600, with a warning to back it up) only together with a
 * new database: a missing key file beside an existing database is an error,
 * never a reason to make new keys that could not read a single contact.
 * Returns the keystore that owns the keys from then on, or NULL after
 * logging why. */
static ob_keystore *open_master_key(const options *o, char *path, size_t n)
{
	if (o->master_key != NULL) {
		snprintf(path, n, "%s", o->master_key);
	} else {
		const char *slash = strrchr(o->db, '/');
		int dir = slash != NULL ? (int)(slash - o->db) : 0;
		snprintf(path, n, "%.*s%smaster.key", dir, o->db, slash != NULL ? "/" : "");
	}
	char why[512];
	ob_keystore *ks = NULL;
	ob_err err = ob_keystore_open(path, &ks, why, sizeof(why));
	if (err == OB_ENOTFOUND && access(o->db, F_OK) == 0) {
		ob_log(OB_LOG_ERROR,
		       "the database %s exists but its master key file %s does not: restore the "
		       "key file from its backup, or give its place with --master-key",
		       o->db, path);
		return NULL;
	}
	if (err == OB_ENOTFOUND) {
		err = ob_vault_generate_file(path, NULL, why, sizeof(why));
		if (err == OB_OK) {
			ob_log(OB_LOG_WARN,
			       "created the master key file %s: back it up now, apart from the "
			       "database; without it the contacts' personal data cannot be read",
			       path);
			err = ob_keystore_open(path, &ks, why, sizeof(why));
		}
	}
	if (err != OB_OK) {
		ob_log(OB_LOG_ERROR, "%s", why);
		return NULL;
	}
	ob_keystore_lease lease;
	const ob_vault *v = ob_keystore_acquire(ks, &lease);
	ob_log(OB_LOG_INFO, "master key file %s: %zu key(s), active %s", path,
	       ob_vault_key_count(v), ob_vault_active_key_id(v));
	ob_keystore_release(&lease);
	return ks;
}

/* mkdir -p of the directory holding path. Returns 0 or -1 with errno. */
static int make_parent_dir(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* Tells systemd (when it listens: Type=notify) about a change of state. */
static void notify(const char *state)
{
	ob_err err = ob_notify(state);
	if (err != OB_OK)
		ob_log(OB_LOG_WARN, "cannot notify systemd ($NOTIFY_SOCKET): %s", ob_strerror(err));
}

/* The HTTP face on o's --http URLs, with the nng face's dispatch, limits and TLS files, and
 * the metrics both faces report to. *out stays NULL without --http. */
static ob_err start_http(const options *o, ob_dispatch *d, ob_domain *domain, ob_metrics *metrics,
                         ob_rpc_env *env, ob_http **out)
{
	*out = NULL;
	if (o->n_http == 0)
		return OB_OK;
	ob_http_config hc = o->http_cfg;
	hc.urls = o->http;
	hc.n_urls = o->n_http;
	hc.tls_cert = o->server.tls_cert;
	hc.tls_key = o->server.tls_key;
	hc.tls_ca = o->server.tls_ca;
	hc.max_request_bytes = o->server.max_request_bytes;
	hc.idle_timeout_ms = o->server.idle_timeout_ms;
	hc.max_accept_rate = o->server.max_accept_rate;
	hc.env = env;
	hc.routes = (ob_connect){.dispatch = d,
	                         .metrics = metrics,
	                         .domain = domain,
	                         .assets = &ob_dashboard_assets};
	return ob_http_start(out, &hc);
}

/* What the flags leave to be worked out: the default address, the server's names for the
 * authorizer, the service clock of --now. Returns 0, or 2 after saying what is wrong. */
static int settle_options(options *o, char *default_url, size_t n)
{
	if (o->n_listen == 0)
		o->listen[o->n_listen++] = ob_default_listen_url(default_url, n);
	o->server.listen = o->listen;
	o->server.n_listen = o->n_listen;
	o->authz.listen = o->listen;
	o->authz.n_listen = o->n_listen;
	/* A login over HTTP is signed for the URL callers dial: each --http URL is a name of this
	 * server, as each --listen URL is. */
	for (size_t i = 0; i < o->n_http; i++) {
		if (strncmp(o->http[i], "http://", 7) != 0 &&
		    strncmp(o->http[i], "https://", 8) != 0) {
			fprintf(stderr,
			        "onboardd: --http takes http://HOST:PORT or https://HOST:PORT\n");
			return 2;
		}
		if (o->n_audiences == MAX_LISTEN) {
			fprintf(stderr, "onboardd: at most 16 --audience names and --http URLs\n");
			return 2;
		}
		o->audiences[o->n_audiences++] = o->http[i];
	}
	o->authz.audiences = o->audiences;
	o->authz.n_audiences = o->n_audiences;
	if (o->now != NULL) {
		int64_t ms;
		if (!ob_time_parse_rfc3339(o->now, &ms)) {
			fprintf(stderr, "onboardd: --now takes an RFC 3339 time such as "
			                "2020-11-02T08:30:00Z\n");
			return 2;
		}
		ob_clock_set_now_ms(ms);
	}
	return 0;
}

/*
 * What systemd shows after "Status:" (systemctl status): "serving", or why not. Health
 * (rpc/health.c, /readyz) says NOT_SERVING while writes fail, and this line says why; the
 * watchdog goes on pinging then (service_alive), since a restart cures no full disk and
 * reads still work. Kept for the READY=1 that ends a reload; any thread.
 */
static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
static char status_line[160] = "STATUS=serving";

static void health_changed(void *ctx, ob_err reach, ob_err writes)
{
	(void)ctx;
	char line[sizeof(status_line)];
	if (reach != OB_OK)
		snprintf(line, sizeof(line), "STATUS=not serving: the store cannot be reached (%s)",
		         ob_strerror(reach));
	else if (writes != OB_OK)
		snprintf(line, sizeof(line),
		         "STATUS=not serving: writes fail (%s); reads go on; the log says why",
		         ob_strerror(writes));
	else
		snprintf(line, sizeof(line), "STATUS=serving");
	pthread_mutex_lock(&status_mu);
	snprintf(status_line, sizeof(status_line), "%s", line);
	notify(line);
	pthread_mutex_unlock(&status_mu);
}

/* READY=1 and the status as it stands. */
static void notify_ready(void)
{
	char msg[sizeof(status_line) + 16];
	pthread_mutex_lock(&status_mu);
	snprintf(msg, sizeof(msg), "READY=1\n%s", status_line);
	notify(msg);
	pthread_mutex_unlock(&status_mu);
}

/* Waits in sigwait for SIGTERM or SIGINT (sigs, blocked in every thread); a SIGHUP meanwhile
 * reloads the keyring. Tells systemd (base/notify.h) about the reload and the stop. */
static void wait_for_stop(const sigset_t *sigs, ob_authz *authz, int64_t grace_ms)
{
	for (;;) {
		int sig = 0;
		if (sigwait(sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			/* RELOADING=1 with the monotonic time, as systemd 253's
			 * notify-reload wants it; 252 takes it as well. */
			char reloading[64];
			snprintf(reloading, sizeof(reloading), "RELOADING=1\nMONOTONIC_USEC=%lld",
			         (long long)ob_clock_mono_us());
			notify(reloading);
			ob_log(OB_LOG_INFO, "SIGHUP: reloading the keyring");
			if (ob_authz_reload(authz) != OB_OK)
				ob_log(OB_LOG_WARN, "the previous keyring stays in force");
			notify_ready();
			continue;
		}
		notify("STOPPING=1\nSTATUS=draining");
		ob_log(OB_LOG_INFO, "signal %d: draining for up to %lld ms", sig,
		       (long long)grace_ms);
		return;
	}
}

/* What the watchdog asks before each ping (base/notify.h): the store answers a read, and no
 * request has waited a whole watchdog interval for a worker while none was taken (all of
 * them stuck). */
typedef struct liveness {
	ob_domain *domain;
	ob_server *srv;
	int64_t max_stall_us;
} liveness;

static bool service_alive(void *ctx)
{
	const liveness *l = ctx;
	ob_err err = ob_domain_store_health(l->domain);
	/* Writes failing alone: alive, not serving (health_changed says so). */
	if (err != OB_OK && err == ob_domain_write_health(l->domain))
		err = OB_OK;
	if (err != OB_OK) {
		ob_log(OB_LOG_WARN, "watchdog: the store does not answer: %s", ob_strerror(err));
		return false;
	}
	int64_t stalled = ob_server_stalled_us(l->srv);
	if (stalled >= l->max_stall_us) {
		ob_log(OB_LOG_WARN, "watchdog: no worker has taken a request for %lld ms",
		       (long long)(stalled / 1000));
		return false;
	}
	return true;
}

/* Listening, with the store open: ready, for systemd too; and with $WATCHDOG_USEC, the
 * watchdog thread into *watchdog (NULL without one, or when it cannot start). */
static void ready(liveness *live, ob_watchdog **watchdog)
{
	ob_log(OB_LOG_INFO, "onboardd %s serving", OB_VERSION);
	notify_ready();
	*watchdog = NULL;
	if ((live->max_stall_us = ob_notify_watchdog_usec()) == 0)
		return;
	if (ob_watchdog_start(watchdog, live->max_stall_us, service_alive, live) != OB_OK)
		ob_log(OB_LOG_WARN, "cannot start the watchdog thread: systemd will restart "
		                    "onboardd when WatchdogSec= passes");
	else
		ob_log(OB_LOG_INFO, "watchdog: pinging systemd every %lld ms",
		       (long long)(live->max_stall_us / 2000));
}

/* onboardd migrate --db postgresql://...: applies the schema's migrations
 * and, with --master-key naming a file that does not exist yet, creates it:
 * the one deliberate step that makes keys for a shared database, since every
 * instance must read the same file (a serving instance never makes one).
 * The URL is never logged: it may hold a password. Returns the exit status. */
static int pg_migrate(const options *o)
{
	unsigned version = 0;
	ob_err err = ob_store_pg_migrate(o->db, &version);
	if (err != OB_OK) {
		ob_log(OB_LOG_ERROR, "cannot migrate the PostgreSQL database: %s",
		       ob_strerror(err));
		return 1;
	}
	if (o->master_key != NULL && access(o->master_key, F_OK) != 0) {
		char why[512];
		if (ob_vault_generate_file(o->master_key, NULL, why, sizeof(why)) != OB_OK) {
			ob_log(OB_LOG_ERROR, "%s", why);
			return 1;
		}
		ob_log(OB_LOG_WARN,
		       "created the master key file %s: give it to every instance, and back it "
		       "up apart from the database",
		       o->master_key);
	}
	ob_log(OB_LOG_INFO, "the PostgreSQL schema is at version %u; not serving (migrate)",
	       version);
	return 0;
}

/* The store --db names: PostgreSQL (its keys from --master-key, which must
 * exist) or a SQLite file (its directory made, its key file beside it by
 * default). NULL after logging why. */
static ob_store *open_store(const options *o, ob_keystore **keys, char *key_path, size_t n)
{
	ob_store *store = NULL;
	bool pg = ob_store_is_pg(o->db);
	if (pg && o->master_key == NULL) {
		ob_log(OB_LOG_ERROR, "--db postgresql://... needs --master-key FILE, the key file "
		                     "every instance shares (`onboardd migrate` creates it)");
		return NULL;
	}
	if (pg && access(o->master_key, F_OK) != 0) {
		ob_log(OB_LOG_ERROR,
		       "the master key file %s does not exist: copy the one the other instances "
		       "use, or create it with `onboardd migrate --db URL --master-key FILE`",
		       o->master_key);
		return NULL;
	}
	if (!pg && make_parent_dir(o->db) != 0) {
		ob_log(OB_LOG_ERROR, "cannot create the directory of %s: %s", o->db,
		       strerror(errno));
		return NULL;
	}
	if ((*keys = open_master_key(o, key_path, n)) == NULL)
		return NULL;
	ob_err err = pg ? ob_store_open_pg(&store, o->db, *keys, o->db_pool)
	                : ob_store_open_sqlite_keystore(&store, o->db, *keys);
	if (err != OB_OK) {
		ob_log(OB_LOG_ERROR, "cannot open the database %s", pg ? "(PostgreSQL)" : o->db);
		return NULL;
	}
	/* Instances sharing the store share the key file, and a rotation through one of them
	 * changes it under the others (crypto/keystore.h). */
	if (store->ops->shared)
		ob_keystore_follow(*keys);
	if (o->commit_batch > 0 && pg)
		ob_store_pg_set_max_batch(store, o->commit_batch);
	else if (o->commit_batch > 0)
		ob_store_sqlite_set_max_batch(store, o->commit_batch);
	return store;
}

/* The whole life of the process in reading order: flags, logs, keys, store, domain,
 * authorizer, dispatch, server, the wait for a signal, drain, and teardown in reverse; kept
 * in one function (a little over 80 lines) so that the order of start and stop, and of the
 * teardown against it, can be checked at a glance. */
int main(int argc, char **argv)
{
	options o = {0};
	/* onboardd copy: options of its own (copy_cmd.c), and no serving. */
	if (argc > 1 && strcmp(argv[1], "copy") == 0)
		return ob_copy_command(argc - 1, argv + 1);
	/* onboardd migrate: the same options, and no serving. */
	bool migrate_only = argc > 1 && strcmp(argv[1], "migrate") == 0;
	if (migrate_only) {
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	int rc = parse_args(argc, argv, &o);
	if (rc != 0) {
		options_fini(&o);
		return rc < 0 ? 0 : 2;
	}
	ob_log_configure((ob_log_format)o.log_format, (ob_log_level)o.log_level, o.access_log);
	ob_log_sample_access(o.access_sample);

	/* Files onboardd creates (the database, its WAL, the master key) hold
	 * company and, sealed, personal data: nobody else reads them. */
	umask(077);

	/* Before any thread exists: libsodium's init, and the signals that
	 * main waits for, blocked so that every thread inherits the mask. */
	if (sodium_init() < 0) {
		ob_log(OB_LOG_ERROR, "libsodium failed to initialise");
		options_fini(&o);
		return 1;
	}
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	char default_url[512];
	if (settle_options(&o, default_url, sizeof(default_url)) != 0) {
		options_fini(&o);
		return 2;
	}

	if (ob_store_is_pg(o.db) && migrate_only) {
		int pg_status = pg_migrate(&o);
		options_fini(&o);
		return pg_status;
	}

	int status = 1;
	ob_dispatch *d = NULL;
	ob_server *srv = NULL;
	ob_store *store = NULL;
	ob_domain *domain = NULL;
	ob_keystore *keys = NULL; /* the master keys: the store and the domain borrow them */
	ob_authz *authz = NULL;
	ob_metrics *metrics = NULL;
	ob_http *http = NULL;
	ob_watchdog *watchdog = NULL;
	liveness live = {0};
	ob_rpc_env env = {0};
	char key_path[4096];
	/* Keys and secrets first: a misconfigured start changes nothing on disk. */
	o.authz.audit = ob_admin_audit_hook; /* failed logins and denials, once env.domain is set */
	o.authz.audit_ctx = &env;
	if (ob_authz_create(&authz, &o.authz) != OB_OK)
		goto out;
	if ((store = open_store(&o, &keys, key_path, sizeof(key_path))) == NULL)
		goto out;
	if (ob_domain_create(&domain, store, keys) != OB_OK) {
		ob_log(OB_LOG_ERROR, "cannot prepare the programme in %s",
		       ob_store_is_pg(o.db) ? "the PostgreSQL database" : o.db);
		goto out;
	}
	if (migrate_only) { /* the store migrated, the domain recounted: done */
		ob_log(OB_LOG_INFO, "%s is up to date; not serving (migrate)", o.db);
		status = 0;
		goto out;
	}
	if (ob_dispatch_create(&d) != OB_OK || ob_handlers_register(d) != OB_OK ||
	    ob_authz_install(authz, d) != OB_OK) {
		ob_log(OB_LOG_ERROR, "cannot build the method table");
		goto out;
	}
	ob_domain_set_health_hook(domain, health_changed, NULL); /* before any worker */
	env.dispatch = d;
	env.domain = domain;
	env.authz = authz;
	if (ob_metrics_create(&metrics, d) != OB_OK)
		goto out;
	o.server.metrics = metrics;
	if (ob_server_start(&srv, &o.server, d, &env) != OB_OK ||
	    start_http(&o, d, domain, metrics, &env, &http) != OB_OK)
		goto out;
	live = (liveness){.domain = domain, .srv = srv};
	ready(&live, &watchdog);

	wait_for_stop(&sigs, authz, o.grace_ms);
	ob_watchdog_stop(watchdog); /* stopping is TimeoutStopSec='s business */
	watchdog = NULL;
	unsigned left = ob_server_drain(srv, o.grace_ms) + ob_http_drain(http, o.grace_ms);
	if (left > 0)
		ob_log(OB_LOG_WARN, "%u call(s) still in flight after the grace period", left);
	status = 0;
out:
	ob_watchdog_stop(watchdog);
	ob_http_destroy(http);
	ob_server_destroy(srv);
	ob_log_flush_failures(); /* no call comes any more to report what the cap left out */
	ob_metrics_destroy(metrics);
	ob_dispatch_destroy(d);
	ob_authz_destroy(authz);
	ob_domain_destroy(domain);
	ob_store_destroy(store);
	ob_keystore_destroy(keys); /* last: the store and the domain borrowed it */
	options_fini(&o);
	if (status == 0)
		ob_log(OB_LOG_INFO, "stopped cleanly");
	return status;
}
