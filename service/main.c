/*
 * onboardd: flags, signals and wiring. Nothing else lives here.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
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

enum { MAX_LISTEN = 16 };

static const char usage[] =
        "Usage: onboardd [OPTIONS]\n"
        "Serves the onboard seller-onboarding programme over nng.\n"
        "\n"
        "  -l, --listen URL            ipc://PATH, tcp://HOST:PORT or tls+tcp://HOST:PORT\n"
        "                              (repeatable; default $ONBOARD_SERVER or\n"
        "                              ipc://$XDG_RUNTIME_DIR/onboard/onboardd.sock)\n"
        "      --db PATH               the SQLite database (default var/onboard.db, created\n"
        "                              with its directory)\n"
        "      --master-key FILE       the master keys of the contacts' personal data (default\n"
        "                              master.key beside --db, created mode 0600 with a new\n"
        "                              database: back it up, apart from the database)\n"
        "      --tls-cert FILE         PEM certificate for tls+tcp://\n"
        "      --tls-key FILE          PEM private key for tls+tcp:// (mode 0600)\n"
        "      --tls-ca FILE           require client certificates signed by this CA\n"
        "      --ipc-mode MODE         permissions of ipc socket files (default 0600)\n"
        "      --contexts N            requests in flight, all connections (default 256)\n"
        "      --workers N             handler threads (default 32)\n"
        "      --max-request-bytes N   larger requests get RESOURCE_EXHAUSTED (default 65536)\n"
        "      --max-connections N     in all (default 1024)\n"
        "      --max-connections-per-peer N  per remote IPv4 address or IPv6 /64 (default 64)\n"
        "      --reserved-local-connections N  of --max-connections, kept for the local\n"
        "                              administrator on ipc (default: an eighth, at most 16)\n"
        "      --idle-timeout SECONDS  close connections idle this long, 0 = never (default 300)\n"
        "      --grace SECONDS         on SIGTERM, let calls in flight finish (default 10)\n"
        "      --log-format text|json  (default text)\n"
        "      --no-access-log         no line per call (--access-log: one, the default)\n"
        "      --commit-batch N        most writes per durable commit (default 64; 1 turns\n"
        "                              group commit off, for comparison)\n"
        "      --keyring FILE          callers' public keys and roles (reloaded on SIGHUP)\n"
        "      --token-secret FILE     32-byte secret for session tokens, base64, mode 0600\n"
        "                              (default: random, tokens end with the process)\n"
        "      --trust-local yes|no    trust ipc peers running as this user or root as the\n"
        "                              local administrator, without a key (default yes)\n"
        "      --rate-per-key N        calls per second per key (default 1000)\n"
        "      --rate-per-address N    calls per second per remote address (default 2000)\n"
        "      --audience NAME         a name of this server that key logins may be signed\n"
        "                              for, besides its --listen URLs: the URL callers dial\n"
        "                              when it is not one of those (repeatable)\n"
        "      --now TIME              start the service clock at this RFC 3339 time (tests,\n"
        "                              rehearsals); it then runs at normal speed\n"
        "  -h, --help                  this text\n"
        "      --version\n";

typedef struct {
	const char *listen[MAX_LISTEN];
	size_t n_listen;
	const char *audiences[MAX_LISTEN];
	size_t n_audiences;
	ob_server_config server;
	int64_t grace_ms;
	bool log_json; /* --log-format json */
	bool access_log;
	const char *db;
	const char *master_key;
	const char *now;
	unsigned commit_batch;
	ob_authz_config authz;
} options;

/* What a flag takes, and so how its value is checked and stored at its place in options. */
typedef enum {
	F_TEXT,    /* const char *: the argument as it is */
	F_LIST,    /* const char *[MAX_LISTEN], its count (size_t) at at2: repeatable */
	F_UINT,    /* unsigned, a whole number from min to max */
	F_SIZE,    /* size_t, likewise */
	F_SECONDS, /* int64_t milliseconds, from whole seconds min to max */
	F_RATE,    /* double a second, min to max, and twice that as the burst at at2 */
	F_MODE,    /* unsigned, an octal file mode */
	F_CHOICE,  /* bool: false for words[0], true for words[1] */
	F_SET,     /* bool, no argument: true when min is 1, false when 0 */
	F_HELP,
	F_VERSION,
} flag_kind;

typedef struct {
	const char *name; /* --name */
	char short_name;  /* 0: none */
	flag_kind kind;
	size_t at, at2; /* offsetof(options, ...); at2: F_LIST's count, F_RATE's burst */
	unsigned long long min, max;
	const char *words[2];
	const char *bad; /* the message for a bad value; numbers: "--NAME takes MIN to MAX" */
} flag;

#define AT(field) offsetof(options, field)

/* The flags, in the order of --help; a flag is a row. */
static const flag flags[] = {
        {"listen", 'l', F_LIST, .at = AT(listen), .at2 = AT(n_listen),
         .bad = "at most 16 --listen URLs"},
        {"tls-cert", 0, F_TEXT, .at = AT(server.tls_cert)},
        {"tls-key", 0, F_TEXT, .at = AT(server.tls_key)},
        {"tls-ca", 0, F_TEXT, .at = AT(server.tls_ca)},
        {"ipc-mode", 0, F_MODE, .at = AT(server.ipc_mode),
         .bad = "--ipc-mode takes an octal mode such as 0600"},
        {"contexts", 0, F_UINT, .at = AT(server.contexts), .min = 1, .max = 4096},
        {"workers", 0, F_UINT, .at = AT(server.workers), .min = 1, .max = 256},
        {"max-request-bytes", 0, F_SIZE, .at = AT(server.max_request_bytes), .min = 1024,
         .max = 16u << 20},
        {"max-connections", 0, F_UINT, .at = AT(server.max_connections), .min = 1, .max = 1u << 20},
        {"max-connections-per-peer", 0, F_UINT, .at = AT(server.max_connections_per_peer), .min = 1,
         .max = 1u << 20},
        {"reserved-local-connections", 0, F_UINT, .at = AT(server.reserved_local_connections),
         .max = 1u << 20},
        {"idle-timeout", 0, F_SECONDS, .at = AT(server.idle_timeout_ms), .max = 86400 * 365,
         .bad = "--idle-timeout takes seconds, 0 for never"},
        {"grace", 0, F_SECONDS, .at = AT(grace_ms), .max = 3600,
         .bad = "--grace takes 0 to 3600 seconds"},
        {"log-format", 0, F_CHOICE, .at = AT(log_json), .words = {"text", "json"},
         .bad = "--log-format takes text or json"},
        {"no-access-log", 0, F_SET, .at = AT(access_log), .min = 0},
        {"access-log", 0, F_SET, .at = AT(access_log), .min = 1},
        {"commit-batch", 0, F_UINT, .at = AT(commit_batch), .min = 1, .max = 64},
        {"keyring", 0, F_TEXT, .at = AT(authz.keyring_path)},
        {"token-secret", 0, F_TEXT, .at = AT(authz.token_secret_path)},
        {"trust-local", 0, F_CHOICE, .at = AT(authz.trust_local), .words = {"no", "yes"},
         .bad = "--trust-local takes yes or no"},
        {"rate-per-key", 0, F_RATE, .at = AT(authz.key_rate), .at2 = AT(authz.key_burst), .min = 1,
         .max = 500000},
        {"rate-per-address", 0, F_RATE, .at = AT(authz.addr_rate), .at2 = AT(authz.addr_burst),
         .min = 1, .max = 500000},
        {"audience", 0, F_LIST, .at = AT(audiences), .at2 = AT(n_audiences),
         .bad = "at most 16 --audience names"},
        {"db", 0, F_TEXT, .at = AT(db)},
        {"master-key", 0, F_TEXT, .at = AT(master_key)},
        {"now", 0, F_TEXT, .at = AT(now)},
        {"help", 'h', F_HELP, .at = 0},
        {"version", 0, F_VERSION, .at = 0},
};

enum { N_FLAGS = sizeof(flags) / sizeof(flags[0]), FLAG_VAL = 256 };

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

/* Says why the value of f is refused; returns 1, parse_args' bad usage. */
static int refuse(const flag *f)
{
	if (f->bad != NULL)
		fprintf(stderr, "onboardd: %s\n", f->bad);
	else
		fprintf(stderr, "onboardd: --%s takes %llu to %llu\n", f->name, f->min, f->max);
	fputs("Try 'onboardd --help'.\n", stderr);
	return 1;
}

/* Checks v, the argument of f, and stores it in o. Returns 0, 1 after saying what is wrong,
 * or -1 after --help or --version. */
static int apply(const flag *f, const char *v, options *o)
{
	char *at = (char *)o + f->at, *end;
	unsigned long long n = 0;
	bool number =
	        f->kind == F_UINT || f->kind == F_SIZE || f->kind == F_SECONDS || f->kind == F_RATE;
	if (number && !parse_uint(v, f->min, f->max, &n))
		return refuse(f);
	switch (f->kind) {
	case F_TEXT:
		*(const char **)(void *)at = v;
		break;
	case F_LIST: {
		size_t *count = (size_t *)(void *)((char *)o + f->at2);
		if (*count == MAX_LISTEN)
			return refuse(f);
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
			return refuse(f);
		*(unsigned *)(void *)at = (unsigned)n;
		break;
	case F_CHOICE:
		if (strcmp(v, f->words[0]) != 0 && strcmp(v, f->words[1]) != 0)
			return refuse(f);
		*(bool *)at = strcmp(v, f->words[1]) == 0;
		break;
	case F_SET:
		*(bool *)at = f->min != 0;
		break;
	case F_HELP:
		fputs(usage, stdout);
		return -1;
	case F_VERSION:
		puts("onboardd " OB_VERSION);
		return -1;
	}
	return 0;
}

/* Returns 0 to run, 1 on bad usage (after printing why), -1 for --help/--version. */
static int parse_args(int argc, char **argv, options *o)
{
	struct option longopts[N_FLAGS + 1];
	for (size_t i = 0; i < N_FLAGS; i++) {
		bool arg = flags[i].kind != F_SET && flags[i].kind != F_HELP &&
		           flags[i].kind != F_VERSION;
		longopts[i] = (struct option){flags[i].name, arg ? required_argument : no_argument,
		                              NULL, FLAG_VAL + (int)i};
	}
	longopts[N_FLAGS] = (struct option){NULL, 0, NULL, 0};
	ob_server_config_defaults(&o->server);
	o->grace_ms = 10000;
	o->access_log = true;
	o->db = "var/onboard.db";
	ob_authz_config_defaults(&o->authz);
	int c;
	while ((c = getopt_long(argc, argv, "l:h", longopts, NULL)) != -1) {
		const flag *f =
		        c >= FLAG_VAL && c < FLAG_VAL + N_FLAGS ? &flags[c - FLAG_VAL] : NULL;
		for (size_t i = 0; f == NULL && c > 0 && c < FLAG_VAL && i < N_FLAGS; i++)
			if (flags[i].short_name == c)
				f = &flags[i];
		if (f == NULL) {
			fputs("Try 'onboardd --help'.\n", stderr);
			return 1;
		}
		int rc = apply(f, optarg, o);
		if (rc != 0)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "onboardd: unexpected argument '%s'\nTry 'onboardd --help'.\n",
		        argv[optind]);
		return 1;
	}
	return 0;
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

/* What the flags leave to be worked out: the default address, the server's names for the
 * authorizer, the service clock of --now. Returns 0, or 2 after saying what is wrong. */
static int settle_options(options *o, char *default_url, size_t n)
{
	if (o->n_listen == 0)
		o->listen[o->n_listen++] = ob_default_server_url(default_url, n);
	o->server.listen = o->listen;
	o->server.n_listen = o->n_listen;
	o->authz.listen = o->listen;
	o->authz.n_listen = o->n_listen;
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

/* Waits in sigwait for SIGTERM or SIGINT (sigs, blocked in every thread); a SIGHUP meanwhile
 * reloads the keyring. */
static void wait_for_stop(const sigset_t *sigs, ob_authz *authz, int64_t grace_ms)
{
	for (;;) {
		int sig = 0;
		if (sigwait(sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			ob_log(OB_LOG_INFO, "SIGHUP: reloading the keyring");
			if (ob_authz_reload(authz) != OB_OK)
				ob_log(OB_LOG_WARN, "the previous keyring stays in force");
			continue;
		}
		ob_log(OB_LOG_INFO, "signal %d: draining for up to %lld ms", sig,
		       (long long)grace_ms);
		return;
	}
}

/* The whole life of the process in reading order: flags, logs, keys, store, domain,
 * authorizer, dispatch, server, the wait for a signal, drain, and teardown in reverse; kept
 * in one function (a little over 80 lines) so that the order of start and stop, and of the
 * teardown against it, can be checked at a glance. */
int main(int argc, char **argv)
{
	options o = {0};
	int rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : 2;
	ob_log_configure(o.log_json ? OB_LOG_JSON : OB_LOG_TEXT, OB_LOG_INFO, o.access_log);

	/* Files onboardd creates (the database, its WAL, the master key) hold
	 * company and, sealed, personal data: nobody else reads them. */
	umask(077);

	/* Before any thread exists: libsodium's init, and the signals that
	 * main waits for, blocked so that every thread inherits the mask. */
	if (sodium_init() < 0) {
		ob_log(OB_LOG_ERROR, "libsodium failed to initialise");
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
	if (settle_options(&o, default_url, sizeof(default_url)) != 0)
		return 2;

	int status = 1;
	ob_dispatch *d = NULL;
	ob_server *srv = NULL;
	ob_store *store = NULL;
	ob_domain *domain = NULL;
	ob_keystore *keys = NULL; /* the master keys: the store and the domain borrow them */
	ob_authz *authz = NULL;
	ob_rpc_env env = {0};
	char key_path[4096];
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
	ob_log(OB_LOG_INFO, "onboardd %s serving", OB_VERSION);

	wait_for_stop(&sigs, authz, o.grace_ms);
	unsigned left = ob_server_drain(srv, o.grace_ms);
	if (left > 0)
		ob_log(OB_LOG_WARN, "%u call(s) still in flight after the grace period", left);
	status = 0;
out:
	ob_server_destroy(srv);
	ob_dispatch_destroy(d);
	ob_authz_destroy(authz);
	ob_domain_destroy(domain);
	ob_store_destroy(store);
	ob_keystore_destroy(keys); /* last: the store and the domain borrowed it */
	if (status == 0)
		ob_log(OB_LOG_INFO, "stopped cleanly");
	return status;
}
