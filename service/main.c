/*
 * onboardd: flags, signals and wiring. Nothing else lives here.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/notify.h"
#include "base/time.h"
#include "crypto/keystore.h"
#include "crypto/vault.h"
#include "defaults.h"
#include "domain/domain.h"
#include "rpc/authz.h"
#include "rpc/dispatch.h"
#include "rpc/handlers.h"
#include "rpc/server.h"
#include "store/sqlite.h"

enum { MAX_LISTEN = 16, MAX_OWNED = 2 * MAX_LISTEN };

typedef struct {
	const char *listen[MAX_LISTEN];
	size_t n_listen;
	const char *audiences[MAX_LISTEN];
	size_t n_audiences;
	ob_server_config server;
	int64_t grace_ms;
	ob_log_format log_format;
	ob_log_level log_level;
	bool access_log;
	unsigned access_sample;
	const char *db;
	const char *master_key;
	const char *now;
	unsigned commit_batch;
	ob_authz_config authz;
	char *owned[MAX_OWNED]; /* the words of list variables, split from the environment */
	size_t n_owned;
} options;

/*
 * The options, one table: getopt_long's long options, the ONBOARDD_*
 * environment variables and `onboardd --help` are all made from it, so that a
 * flag and its variable cannot drift apart. A new option is one row: its
 * name (the variable is ONBOARDD_ and the name in capitals, '-' as '_'), its
 * metavar and help, and how its value is kept: a kind that stores it at an
 * offset of options (text, a number in a range, seconds, yes/no, a switch),
 * or OPT_FN and a function for anything else. The command line wins over
 * the environment: a variable is read only for options the command line
 * does not give.
 */
typedef enum {
	OPT_TEXT,    /* const char * at off */
	OPT_UINT,    /* unsigned at off, from min to max */
	OPT_SECONDS, /* int64_t milliseconds at off, given in seconds from min to max */
	OPT_YESNO,   /* bool at off: yes or no */
	OPT_SWITCH,  /* bool at off: --NAME sets it, --no-NAME clears it; yes or no in the
	                environment */
	OPT_FN,      /* fn(o, value) */
	OPT_INFO,    /* --help, --version: no value, no variable */
} opt_kind;

typedef struct opt_row {
	const char *name;
	char short_name; /* 0: none */
	const char *metavar;
	const char *help; /* '\n' starts another line in the help column */
	opt_kind kind;
	size_t off;
	unsigned long long min, max;
	/* OPT_FN: applies value; returns NULL, or why it is refused. */
	const char *(*fn)(options *o, const char *value);
	bool list; /* repeatable: the variable holds its values separated by spaces */
} opt_row;

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	if (s[0] == '-' || s[0] == '\0')
		return false;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static const char *set_listen(options *o, const char *v)
{
	if (o->n_listen == MAX_LISTEN)
		return "at most 16 --listen URLs";
	o->listen[o->n_listen++] = v;
	return NULL;
}

static const char *set_audience(options *o, const char *v)
{
	if (o->n_audiences == MAX_LISTEN)
		return "at most 16 --audience names";
	o->audiences[o->n_audiences++] = v;
	return NULL;
}

static const char *set_ipc_mode(options *o, const char *v)
{
	char *end;
	unsigned long m = strtoul(v, &end, 8);
	if (*v == '\0' || *end != '\0' || m > 0777)
		return "--ipc-mode takes an octal mode such as 0600";
	o->server.ipc_mode = (unsigned)m;
	return NULL;
}

static const char *set_max_request(options *o, const char *v)
{
	unsigned long long n;
	if (!parse_uint(v, 16u << 20, &n) || n < 1024)
		return "--max-request-bytes takes 1024 to 16777216";
	o->server.max_request_bytes = (size_t)n;
	return NULL;
}

static const char *set_log_format(options *o, const char *v)
{
	if (strcmp(v, "text") == 0)
		o->log_format = OB_LOG_TEXT;
	else if (strcmp(v, "json") == 0)
		o->log_format = OB_LOG_JSON;
	else
		return "--log-format takes text or json";
	return NULL;
}

static const char *set_log_level(options *o, const char *v)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	for (int i = 0; i < 4; i++)
		if (strcmp(v, names[i]) == 0) {
			o->log_level = (ob_log_level)i;
			return NULL;
		}
	return "--log-level takes debug, info, warn or error";
}

/* A rate limit and its burst, twice the rate. */
static const char *set_rate(double *rate, double *burst, const char *v, const char *why)
{
	unsigned long long n;
	if (!parse_uint(v, 500000, &n) || n == 0)
		return why;
	*rate = (double)n;
	*burst = 2.0 * (double)n;
	return NULL;
}

static const char *set_rate_key(options *o, const char *v)
{
	return set_rate(&o->authz.key_rate, &o->authz.key_burst, v,
	                "--rate-per-key takes 1 to 500000");
}

static const char *set_rate_addr(options *o, const char *v)
{
	return set_rate(&o->authz.addr_rate, &o->authz.addr_burst, v,
	                "--rate-per-address takes 1 to 500000");
}

/* How a row keeps its value (opt_kind), for the table below. */
#define TEXT(f)         .kind = OPT_TEXT, .off = offsetof(options, f)
#define UINT(f, lo, hi) .kind = OPT_UINT, .off = offsetof(options, f), .min = (lo), .max = (hi)
#define SECONDS(f, lo, hi)                                                                         \
	.kind = OPT_SECONDS, .off = offsetof(options, f), .min = (lo), .max = (hi)
#define YESNO(f)  .kind = OPT_YESNO, .off = offsetof(options, f)
#define SWITCH(f) .kind = OPT_SWITCH, .off = offsetof(options, f)
#define FN(f)     .kind = OPT_FN, .fn = (f)
/* clang-format off */
static const opt_row opt_rows[] = {
	{"listen", 'l', "URL",
	 "ipc://PATH, tcp://HOST:PORT or tls+tcp://HOST:PORT\n"
	 "(repeatable; default $ONBOARD_SERVER or\n"
	 "ipc://$XDG_RUNTIME_DIR/onboard/onboardd.sock)", FN(set_listen), .list = true},
	{"db", 0, "PATH",
	 "the SQLite database (default var/onboard.db, created\n"
	 "with its directory)", TEXT(db)},
	{"master-key", 0, "FILE",
	 "the master keys of the contacts' personal data (default\n"
	 "master.key beside --db, created mode 0600 with a new\n"
	 "database: back it up, apart from the database)", TEXT(master_key)},
	{"tls-cert", 0, "FILE", "PEM certificate for tls+tcp://", TEXT(server.tls_cert)},
	{"tls-key", 0, "FILE", "PEM private key for tls+tcp:// (mode 0600)", TEXT(server.tls_key)},
	{"tls-ca", 0, "FILE", "require client certificates signed by this CA", TEXT(server.tls_ca)},
	{"ipc-mode", 0, "MODE", "permissions of ipc socket files (default 0600)", FN(set_ipc_mode)},
	{"contexts", 0, "N", "requests in flight, all connections (default 256)",
	 UINT(server.contexts, 1, 4096)},
	{"workers", 0, "N", "handler threads (default 32)", UINT(server.workers, 1, 256)},
	{"max-request-bytes", 0, "N", "larger requests get RESOURCE_EXHAUSTED (default 65536)",
	 FN(set_max_request)},
	{"max-connections", 0, "N", "in all (default 1024)",
	 UINT(server.max_connections, 1, 1u << 20)},
	{"max-connections-per-peer", 0, "N", "per remote IPv4 address or IPv6 /64 (default 64)",
	 UINT(server.max_connections_per_peer, 1, 1u << 20)},
	{"reserved-local-connections", 0, "N",
	 "of --max-connections, kept for the local\n"
	 "administrator on ipc (default: an eighth, at most 16)",
	 UINT(server.reserved_local_connections, 0, 1u << 20)},
	{"idle-timeout", 0, "SECONDS", "close connections idle this long, 0 = never (default 300)",
	 SECONDS(server.idle_timeout_ms, 0, 86400 * 365)},
	{"grace", 0, "SECONDS", "on SIGTERM, let calls in flight finish (default 10)",
	 SECONDS(grace_ms, 0, 3600)},
	{"log-format", 0, "text|json", "(default text)", FN(set_log_format)},
	{"log-level", 0, "LEVEL",
	 "debug, info, warn or error: the least severe event\n"
	 "logged (default info; the access log is apart)", FN(set_log_level)},
	{"access-log", 0, NULL, "one line per call (the default), or none", SWITCH(access_log)},
	{"access-log-sample", 0, "N",
	 "log one successful call in N; every failed call is\n"
	 "logged all the same (default 1: every call)", UINT(access_sample, 1, 1000000)},
	{"commit-batch", 0, "N",
	 "most writes per durable commit (default 64; 1 turns\n"
	 "group commit off, for comparison)", UINT(commit_batch, 1, 64)},
	{"keyring", 0, "FILE", "callers' public keys and roles (reloaded on SIGHUP)",
	 TEXT(authz.keyring_path)},
	{"token-secret", 0, "FILE",
	 "32-byte secret for session tokens, base64, mode 0600\n"
	 "(default: random, tokens end with the process)", TEXT(authz.token_secret_path)},
	{"trust-local", 0, "yes|no",
	 "trust ipc peers running as this user or root as the\n"
	 "local administrator, without a key (default yes)", YESNO(authz.trust_local)},
	{"rate-per-key", 0, "N", "calls per second per key (default 1000)", FN(set_rate_key)},
	{"rate-per-address", 0, "N", "calls per second per remote address (default 2000)",
	 FN(set_rate_addr)},
	{"audience", 0, "NAME",
	 "a name of this server that key logins may be signed\n"
	 "for, besides its --listen URLs: the URL callers dial\n"
	 "when it is not one of those (repeatable)", FN(set_audience), .list = true},
	{"now", 0, "TIME",
	 "start the service clock at this RFC 3339 time (tests,\n"
	 "rehearsals); it then runs at normal speed", TEXT(now)},
	{"help", 'h', NULL, "this text", .kind = OPT_INFO},
	{"version", 0, NULL, "the version", .kind = OPT_INFO},
};
/* clang-format on */
#undef TEXT
#undef UINT
#undef SECONDS
#undef YESNO
#undef SWITCH
#undef FN
enum { N_OPTS = sizeof(opt_rows) / sizeof(opt_rows[0]) };

/* getopt_long's val of row i, and of the --no- form of a switch. */
#define OPT_VAL(i)    (256 + 2 * (int)(i))
#define OPT_VAL_NO(i) (257 + 2 * (int)(i))

/* ONBOARDD_NAME for row r, into out (n bytes). */
static void opt_env_name(const opt_row *r, char *out, size_t n)
{
	size_t k = (size_t)snprintf(out, n, "ONBOARDD_");
	for (const char *p = r->name; *p != '\0' && k + 1 < n; p++)
		out[k++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	out[k < n ? k : n - 1] = '\0';
}

static void print_usage(void)
{
	fputs("Usage: onboardd [OPTIONS]\n"
	      "Serves the onboard seller-onboarding programme over nng.\n"
	      "\n"
	      "Every option can also be set in the environment (a systemd EnvironmentFile):\n"
	      "ONBOARDD_ and its name in capitals, '_' for '-', shown under each one; a\n"
	      "repeatable option takes its values separated by spaces there, a switch yes or\n"
	      "no. The command line wins over the environment.\n"
	      "\n",
	      stdout);
	for (size_t i = 0; i < N_OPTS; i++) {
		const opt_row *r = &opt_rows[i];
		char head[80];
		int n = snprintf(head, sizeof(head), "  %c%c%c --%s%s%s%s",
		                 r->short_name ? '-' : ' ', r->short_name ? r->short_name : ' ',
		                 r->short_name ? ',' : ' ', r->kind == OPT_SWITCH ? "[no-]" : "",
		                 r->name, r->metavar != NULL ? " " : "",
		                 r->metavar != NULL ? r->metavar : "");
		/* The help column starts at 30; a longer head gets a line of its own
		 * when its help would not fit after it. */
		const char *h = r->help;
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
		if (r->kind != OPT_INFO) {
			char env[64];
			opt_env_name(r, env, sizeof(env));
			printf("%30s$%s\n", "", env);
		}
	}
}

/* Applies value (NULL: a switch given as a flag, set to on) to row r's option.
 * Returns NULL or why the value is refused. */
static const char *opt_apply(options *o, const opt_row *r, const char *value, bool on)
{
	static char why[160];
	unsigned long long v;
	char *at = (char *)o + r->off;
	switch (r->kind) {
	case OPT_TEXT:
		*(const char **)(void *)at = value;
		return NULL;
	case OPT_UINT:
	case OPT_SECONDS:
		if (!parse_uint(value, r->max, &v) || v < r->min) {
			snprintf(why, sizeof(why), "--%s takes %llu to %llu%s", r->name, r->min,
			         r->max, r->kind == OPT_SECONDS ? " seconds" : "");
			return why;
		}
		if (r->kind == OPT_UINT)
			*(unsigned *)(void *)at = (unsigned)v;
		else
			*(int64_t *)(void *)at = (int64_t)v * 1000;
		return NULL;
	case OPT_YESNO:
	case OPT_SWITCH:
		if (value == NULL) {
			*(bool *)(void *)at = on;
		} else if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) {
			*(bool *)(void *)at = value[0] == 'y';
		} else {
			snprintf(why, sizeof(why), "--%s takes yes or no", r->name);
			return why;
		}
		return NULL;
	case OPT_FN:
		return r->fn(o, value);
	case OPT_INFO:
		break;
	}
	return NULL;
}

/* The value of row r from the environment, when it is set: each word of a
 * list (copied into o->owned), or the value as it is. Returns 0, or 1 after
 * printing why the value is refused, naming the variable. */
static int opt_from_env(options *o, const opt_row *r, const char *name, const char *value)
{
	const char *bad = NULL;
	if (!r->list) {
		bad = opt_apply(o, r, value, true);
	} else {
		for (const char *p = value; bad == NULL && *p != '\0';) {
			p += strspn(p, " \t\n");
			size_t len = strcspn(p, " \t\n");
			if (len == 0)
				break;
			if (o->n_owned == MAX_OWNED ||
			    (o->owned[o->n_owned] = strndup(p, len)) == NULL)
				bad = "too many values";
			else
				bad = opt_apply(o, r, o->owned[o->n_owned++], true);
			p += len;
		}
	}
	if (bad == NULL)
		return 0;
	fprintf(stderr, "onboardd: %s='%s': %s\nTry 'onboardd --help'.\n", name, value, bad);
	return 1;
}

extern char **environ;

/* The ONBOARDD_* variables of the environment: each must name an option
 * (a typo is an error, not a setting silently ignored), and is applied
 * unless the command line gave that option (given[row]). Returns 0 or 1
 * after printing why. */
static int read_environment(options *o, const bool *given)
{
	for (char **e = environ; *e != NULL; e++) {
		if (strncmp(*e, "ONBOARDD_", 9) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		size_t nlen = eq != NULL ? (size_t)(eq - *e) : strlen(*e);
		size_t i;
		char name[64];
		for (i = 0; i < N_OPTS; i++) {
			if (opt_rows[i].kind == OPT_INFO)
				continue;
			opt_env_name(&opt_rows[i], name, sizeof(name));
			if (strlen(name) == nlen && strncmp(name, *e, nlen) == 0)
				break;
		}
		if (i == N_OPTS) {
			fprintf(stderr,
			        "onboardd: %.*s in the environment is no option of onboardd\n"
			        "Try 'onboardd --help'.\n",
			        (int)(nlen < 64 ? nlen : 64), *e);
			return 1;
		}
		if (!given[i] && eq != NULL && opt_from_env(o, &opt_rows[i], name, eq + 1) != 0)
			return 1;
	}
	return 0;
}

/* Returns 0 to run, 1 on bad usage (after printing why), -1 for --help/--version.
 * The command line is read first (to know what it gives), then the
 * environment for the rest, then the command line's values are applied. */
static int parse_args(int argc, char **argv, options *o)
{
	struct option longopts[2 * N_OPTS + 1];
	char shorts[2 * N_OPTS + 1];
	size_t n_long = 0, n_shorts = 0;
	for (size_t i = 0; i < N_OPTS; i++) {
		const opt_row *r = &opt_rows[i];
		bool arg = r->kind != OPT_SWITCH && r->kind != OPT_INFO;
		if (r->short_name != 0) {
			shorts[n_shorts++] = r->short_name;
			if (arg)
				shorts[n_shorts++] = ':';
		}
		longopts[n_long++] = (struct option){r->name, arg ? required_argument : no_argument,
		                                     NULL, OPT_VAL(i)};
		if (r->kind == OPT_SWITCH) {
			static char no_names[N_OPTS][64];
			snprintf(no_names[i], sizeof(no_names[i]), "no-%s", r->name);
			longopts[n_long++] =
			        (struct option){no_names[i], no_argument, NULL, OPT_VAL_NO(i)};
		}
	}
	longopts[n_long] = (struct option){NULL, 0, NULL, 0};
	shorts[n_shorts] = '\0';

	ob_server_config_defaults(&o->server);
	o->grace_ms = 10000;
	o->log_format = OB_LOG_TEXT;
	o->log_level = OB_LOG_INFO;
	o->access_log = true;
	o->access_sample = 1;
	o->db = "var/onboard.db";
	ob_authz_config_defaults(&o->authz);

	/* What the command line says, kept to be applied after the environment. */
	int *vals = calloc((size_t)argc + 1, sizeof(*vals));
	const char **args = calloc((size_t)argc + 1, sizeof(*args));
	bool given[N_OPTS] = {false};
	size_t n = 0;
	int rc = 0, c;
	if (vals == NULL || args == NULL) {
		fputs("onboardd: out of memory\n", stderr);
		rc = 1;
	}
	while (rc == 0 && (c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		for (size_t i = 0; c < 256 && c != '?' && i < N_OPTS; i++)
			if (opt_rows[i].short_name == c)
				c = OPT_VAL(i);
		if (c < 256) {
			fputs("Try 'onboardd --help'.\n", stderr);
			rc = 1;
			break;
		}
		size_t row = (size_t)(c - 256) / 2;
		if (opt_rows[row].kind == OPT_INFO) {
			if (strcmp(opt_rows[row].name, "help") == 0)
				print_usage();
			else
				puts("onboardd " OB_VERSION);
			rc = -1;
			break;
		}
		given[row] = true;
		vals[n] = c;
		args[n++] = optarg;
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "onboardd: unexpected argument '%s'\nTry 'onboardd --help'.\n",
		        argv[optind]);
		rc = 1;
	}
	if (rc == 0)
		rc = read_environment(o, given);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const opt_row *r = &opt_rows[(vals[i] - 256) / 2];
		const char *bad = opt_apply(o, r, args[i], vals[i] % 2 == 0);
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

/* What the watchdog asks before each ping (base/notify.h): the store answers
 * a read, and no request has waited a whole watchdog interval for a worker
 * while none was taken (all of them stuck). */
typedef struct liveness {
	ob_domain *domain;
	ob_server *srv;
	int64_t max_stall_us;
} liveness;

static bool service_alive(void *ctx)
{
	const liveness *l = ctx;
	ob_err err = ob_domain_store_health(l->domain);
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

/* Tells systemd (when it listens: Type=notify) about a change of state. */
static void notify(const char *state)
{
	ob_err err = ob_notify(state);
	if (err != OB_OK)
		ob_log(OB_LOG_WARN, "cannot notify systemd ($NOTIFY_SOCKET): %s", ob_strerror(err));
}

/* The whole life of the process in reading order: flags, logs, keys, store, domain,
 * authorizer, dispatch, server, the wait for a signal, drain, and teardown in reverse; kept
 * in one function so that the order of start and stop can be checked at a glance. */
int main(int argc, char **argv)
{
	options o = {0};
	int rc = parse_args(argc, argv, &o);
	if (rc != 0) {
		options_fini(&o);
		return rc < 0 ? 0 : 2;
	}
	ob_log_configure(o.log_format, o.log_level, o.access_log);
	ob_log_sample_access(o.access_sample);

	/* Files onboardd creates (the database, its WAL, the master key) hold
	 * company and, sealed, personal data: nobody else reads them. */
	umask(077);

	int status = 1;
	ob_dispatch *d = NULL;
	ob_server *srv = NULL;
	ob_store *store = NULL;
	ob_domain *domain = NULL;
	ob_keystore *keys = NULL; /* the master keys: the store and the domain borrow them */
	ob_authz *authz = NULL;
	ob_watchdog *watchdog = NULL;
	ob_rpc_env env = {0};
	char key_path[4096];

	if (o.now != NULL) {
		int64_t ms;
		if (!ob_time_parse_rfc3339(o.now, &ms)) {
			fprintf(stderr, "onboardd: --now takes an RFC 3339 time such as "
			                "2020-11-02T08:30:00Z\n");
			status = 2;
			goto out;
		}
		ob_clock_set_now_ms(ms);
	}

	/* Before any thread exists: libsodium's init, and the signals that
	 * main waits for, blocked so that every thread inherits the mask. */
	if (sodium_init() < 0) {
		ob_log(OB_LOG_ERROR, "libsodium failed to initialise");
		goto out;
	}
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	char default_url[512];
	if (o.n_listen == 0)
		o.listen[o.n_listen++] = ob_default_listen_url(default_url, sizeof(default_url));
	o.server.listen = o.listen;
	o.server.n_listen = o.n_listen;
	o.authz.listen = o.listen;
	o.authz.n_listen = o.n_listen;
	o.authz.audiences = o.audiences;
	o.authz.n_audiences = o.n_audiences;

	/* Keys and secrets first: a misconfigured start changes nothing on disk. */
	o.authz.audit = ob_admin_audit_hook; /* failed logins and denials, once env.domain is set */
	o.authz.audit_ctx = &env;
	if (ob_authz_create(&authz, &o.authz) != OB_OK)
		goto out;
	if (make_parent_dir(o.db) != 0) {
		ob_log(OB_LOG_ERROR, "cannot create the directory of %s: %s", o.db,
		       strerror(errno));
		goto out;
	}
	if ((keys = open_master_key(&o, key_path, sizeof(key_path))) == NULL)
		goto out;
	if (ob_store_open_sqlite_keystore(&store, o.db, keys) != OB_OK) {
		ob_log(OB_LOG_ERROR, "cannot open the database %s", o.db);
		goto out;
	}
	if (o.commit_batch > 0)
		ob_store_sqlite_set_max_batch(store, o.commit_batch);
	if (ob_domain_create(&domain, store, keys) != OB_OK) {
		ob_log(OB_LOG_ERROR, "cannot prepare the programme in %s", o.db);
		goto out;
	}
	if (ob_dispatch_create(&d) != OB_OK || ob_handlers_register(d) != OB_OK ||
	    ob_authz_install(authz, d) != OB_OK) {
		ob_log(OB_LOG_ERROR, "cannot build the method table");
		goto out;
	}
	env.dispatch = d;
	env.domain = domain;
	env.authz = authz;
	if (ob_server_start(&srv, &o.server, d, &env) != OB_OK)
		goto out;
	/* Listening, with the store open: ready, for systemd too. */
	ob_log(OB_LOG_INFO, "onboardd %s serving", OB_VERSION);
	notify("READY=1\nSTATUS=serving");
	liveness live = {.domain = domain, .srv = srv, .max_stall_us = ob_notify_watchdog_usec()};
	if (live.max_stall_us > 0) {
		if (ob_watchdog_start(&watchdog, live.max_stall_us, service_alive, &live) != OB_OK)
			ob_log(OB_LOG_WARN, "cannot start the watchdog thread: systemd will "
			                    "restart onboardd when WatchdogSec= passes");
		else
			ob_log(OB_LOG_INFO, "watchdog: pinging systemd every %lld ms",
			       (long long)(live.max_stall_us / 2000));
	}

	for (;;) {
		int sig = 0;
		if (sigwait(&sigs, &sig) != 0)
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
			notify("READY=1\nSTATUS=serving");
			continue;
		}
		notify("STOPPING=1\nSTATUS=draining");
		ob_log(OB_LOG_INFO, "signal %d: draining for up to %lld ms", sig,
		       (long long)o.grace_ms);
		break;
	}
	/* Stopping is no longer the watchdog's business (TimeoutStopSec= is). */
	ob_watchdog_stop(watchdog);
	watchdog = NULL;
	unsigned left = ob_server_drain(srv, o.grace_ms);
	if (left > 0)
		ob_log(OB_LOG_WARN, "%u call(s) still in flight after the grace period", left);
	status = 0;
out:
	ob_watchdog_stop(watchdog);
	ob_server_destroy(srv);
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
