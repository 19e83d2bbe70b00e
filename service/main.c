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
#include "http/http.h"
#include "rpc/authz.h"
#include "rpc/dispatch.h"
#include "rpc/handlers.h"
#include "rpc/metrics.h"
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
        "      --http URL              also serve HTTP: Connect's protocol for every method,\n"
        "                              /healthz, /readyz, /metrics; http://HOST:PORT or\n"
        "                              https://HOST:PORT with the --tls-* files (repeatable;\n"
        "                              off by default)\n"
        "  -h, --help                  this text\n"
        "      --version\n";

typedef struct {
	const char *listen[MAX_LISTEN];
	size_t n_listen;
	const char *audiences[MAX_LISTEN];
	size_t n_audiences;
	ob_server_config server;
	int64_t grace_ms;
	ob_log_format log_format;
	bool access_log;
	const char *db;
	const char *master_key;
	const char *now;
	unsigned commit_batch;
	ob_authz_config authz;
	const char *http[MAX_LISTEN]; /* --http URLs */
	size_t n_http;
} options;

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

/* Returns 0 to run, 1 on bad usage (after printing why), -1 for --help/--version.
 * Longer than our usual 80 lines on purpose: one short case per flag, in the order of
 * --help, each with its range check; split up, a reader would hunt for a flag's rule. */
static int parse_args(int argc, char **argv, options *o)
{
	enum {
		O_TLS_CERT = 256,
		O_TLS_KEY,
		O_TLS_CA,
		O_IPC_MODE,
		O_CONTEXTS,
		O_WORKERS,
		O_MAX_REQ,
		O_MAX_CONN,
		O_MAX_PEER,
		O_RESERVED_LOCAL,
		O_IDLE,
		O_GRACE,
		O_LOG_FORMAT,
		O_NO_ACCESS,
		O_ACCESS,
		O_VERSION,
		O_DB,
		O_NOW,
		O_BATCH,
		O_MASTER_KEY,
		O_KEYRING,
		O_TOKEN_SECRET,
		O_TRUST_LOCAL,
		O_RATE_KEY,
		O_RATE_ADDR,
		O_AUDIENCE,
		O_HTTP,
	};
	static const struct option longopts[] = {
	        {"listen", required_argument, NULL, 'l'},
	        {"tls-cert", required_argument, NULL, O_TLS_CERT},
	        {"tls-key", required_argument, NULL, O_TLS_KEY},
	        {"tls-ca", required_argument, NULL, O_TLS_CA},
	        {"ipc-mode", required_argument, NULL, O_IPC_MODE},
	        {"contexts", required_argument, NULL, O_CONTEXTS},
	        {"workers", required_argument, NULL, O_WORKERS},
	        {"max-request-bytes", required_argument, NULL, O_MAX_REQ},
	        {"max-connections", required_argument, NULL, O_MAX_CONN},
	        {"max-connections-per-peer", required_argument, NULL, O_MAX_PEER},
	        {"reserved-local-connections", required_argument, NULL, O_RESERVED_LOCAL},
	        {"idle-timeout", required_argument, NULL, O_IDLE},
	        {"grace", required_argument, NULL, O_GRACE},
	        {"log-format", required_argument, NULL, O_LOG_FORMAT},
	        {"no-access-log", no_argument, NULL, O_NO_ACCESS},
	        {"access-log", no_argument, NULL, O_ACCESS},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, O_VERSION},
	        {"db", required_argument, NULL, O_DB},
	        {"now", required_argument, NULL, O_NOW},
	        {"commit-batch", required_argument, NULL, O_BATCH},
	        {"master-key", required_argument, NULL, O_MASTER_KEY},
	        {"keyring", required_argument, NULL, O_KEYRING},
	        {"token-secret", required_argument, NULL, O_TOKEN_SECRET},
	        {"trust-local", required_argument, NULL, O_TRUST_LOCAL},
	        {"rate-per-key", required_argument, NULL, O_RATE_KEY},
	        {"rate-per-address", required_argument, NULL, O_RATE_ADDR},
	        {"audience", required_argument, NULL, O_AUDIENCE},
	        {"http", required_argument, NULL, O_HTTP},
	        {NULL, 0, NULL, 0},
	};
	ob_server_config_defaults(&o->server);
	o->grace_ms = 10000;
	o->log_format = OB_LOG_TEXT;
	o->access_log = true;
	o->db = "var/onboard.db";
	ob_authz_config_defaults(&o->authz);
	int c;
	unsigned long long v;
	while ((c = getopt_long(argc, argv, "l:h", longopts, NULL)) != -1) {
		const char *bad = NULL;
		switch (c) {
		case 'l':
			if (o->n_listen == MAX_LISTEN)
				bad = "at most 16 --listen URLs";
			else
				o->listen[o->n_listen++] = optarg;
			break;
		case O_TLS_CERT:
			o->server.tls_cert = optarg;
			break;
		case O_TLS_KEY:
			o->server.tls_key = optarg;
			break;
		case O_TLS_CA:
			o->server.tls_ca = optarg;
			break;
		case O_IPC_MODE: {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);
			if (*optarg == '\0' || *end != '\0' || m > 0777)
				bad = "--ipc-mode takes an octal mode such as 0600";
			o->server.ipc_mode = (unsigned)m;
		} break;
		case O_CONTEXTS:
			if (!parse_uint(optarg, 4096, &v) || v == 0)
				bad = "--contexts takes 1 to 4096";
			o->server.contexts = (unsigned)v;
			break;
		case O_WORKERS:
			if (!parse_uint(optarg, 256, &v) || v == 0)
				bad = "--workers takes 1 to 256";
			o->server.workers = (unsigned)v;
			break;
		case O_MAX_REQ:
			if (!parse_uint(optarg, 16u << 20, &v) || v < 1024)
				bad = "--max-request-bytes takes 1024 to 16777216";
			o->server.max_request_bytes = (size_t)v;
			break;
		case O_MAX_CONN:
			if (!parse_uint(optarg, 1u << 20, &v) || v == 0)
				bad = "--max-connections takes 1 to 1048576";
			o->server.max_connections = (unsigned)v;
			break;
		case O_MAX_PEER:
			if (!parse_uint(optarg, 1u << 20, &v) || v == 0)
				bad = "--max-connections-per-peer takes 1 to 1048576";
			o->server.max_connections_per_peer = (unsigned)v;
			break;
		case O_RESERVED_LOCAL:
			if (!parse_uint(optarg, 1u << 20, &v))
				bad = "--reserved-local-connections takes 0 to 1048576";
			o->server.reserved_local_connections = (unsigned)v;
			break;
		case O_IDLE:
			if (!parse_uint(optarg, 86400 * 365, &v))
				bad = "--idle-timeout takes seconds, 0 for never";
			o->server.idle_timeout_ms = (int64_t)v * 1000;
			break;
		case O_GRACE:
			if (!parse_uint(optarg, 3600, &v))
				bad = "--grace takes 0 to 3600 seconds";
			o->grace_ms = (int64_t)v * 1000;
			break;
		case O_LOG_FORMAT:
			if (strcmp(optarg, "text") == 0)
				o->log_format = OB_LOG_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->log_format = OB_LOG_JSON;
			else
				bad = "--log-format takes text or json";
			break;
		case O_DB:
			o->db = optarg;
			break;
		case O_NOW:
			o->now = optarg;
			break;
		case O_MASTER_KEY:
			o->master_key = optarg;
			break;
		case O_KEYRING:
			o->authz.keyring_path = optarg;
			break;
		case O_TOKEN_SECRET:
			o->authz.token_secret_path = optarg;
			break;
		case O_TRUST_LOCAL:
			if (strcmp(optarg, "yes") == 0)
				o->authz.trust_local = true;
			else if (strcmp(optarg, "no") == 0)
				o->authz.trust_local = false;
			else
				bad = "--trust-local takes yes or no";
			break;
		case O_RATE_KEY:
			if (!parse_uint(optarg, 500000, &v) || v == 0)
				bad = "--rate-per-key takes 1 to 500000";
			o->authz.key_rate = (double)v;
			o->authz.key_burst = 2.0 * (double)v;
			break;
		case O_RATE_ADDR:
			if (!parse_uint(optarg, 500000, &v) || v == 0)
				bad = "--rate-per-address takes 1 to 500000";
			o->authz.addr_rate = (double)v;
			o->authz.addr_burst = 2.0 * (double)v;
			break;
		case O_AUDIENCE:
			if (o->n_audiences == MAX_LISTEN)
				bad = "at most 16 --audience names";
			else
				o->audiences[o->n_audiences++] = optarg;
			break;
		case O_HTTP:
			if (o->n_http == MAX_LISTEN || o->n_audiences == MAX_LISTEN)
				bad = "at most 16 --http URLs (and --audience names)";
			else if (strncmp(optarg, "http://", 7) != 0 &&
			         strncmp(optarg, "https://", 8) != 0)
				bad = "--http takes http://HOST:PORT or https://HOST:PORT";
			else /* a login over HTTP is signed for the URL callers dial */
				o->http[o->n_http++] = o->audiences[o->n_audiences++] = optarg;
			break;
		case O_BATCH:
			if (!parse_uint(optarg, 64, &v) || v == 0)
				bad = "--commit-batch takes 1 to 64";
			o->commit_batch = (unsigned)v;
			break;
		case O_NO_ACCESS:
		case O_ACCESS:
			o->access_log = c == O_ACCESS;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		case O_VERSION:
			puts("onboardd " OB_VERSION);
			return -1;
		default:
			fputs("Try 'onboardd --help'.\n", stderr);
			return 1;
		}
		if (bad != NULL) {
			fprintf(stderr, "onboardd: %s\nTry 'onboardd --help'.\n", bad);
			return 1;
		}
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

/* The whole life of the process in reading order: flags, logs, keys, store, domain,
 * authorizer, dispatch, server, the wait for a signal, drain, and teardown in reverse; kept
 * in one function so that the order of start and stop can be checked at a glance. */
int main(int argc, char **argv)
{
	options o = {0};
	int rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : 2;
	ob_log_configure(o.log_format, OB_LOG_INFO, o.access_log);

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
	if (o.n_listen == 0)
		o.listen[o.n_listen++] = ob_default_server_url(default_url, sizeof(default_url));
	o.server.listen = o.listen;
	o.server.n_listen = o.n_listen;
	o.authz.listen = o.listen;
	o.authz.n_listen = o.n_listen;
	o.authz.audiences = o.audiences;
	o.authz.n_audiences = o.n_audiences;

	if (o.now != NULL) {
		int64_t ms;
		if (!ob_time_parse_rfc3339(o.now, &ms)) {
			fprintf(stderr, "onboardd: --now takes an RFC 3339 time such as "
			                "2020-11-02T08:30:00Z\n");
			return 2;
		}
		ob_clock_set_now_ms(ms);
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
	if (ob_metrics_create(&metrics, d) != OB_OK)
		goto out;
	o.server.metrics = metrics;
	if (ob_server_start(&srv, &o.server, d, &env) != OB_OK)
		goto out;
	if (o.n_http > 0) { /* the HTTP face: the same dispatch, limits and TLS files */
		ob_http_config hc;
		ob_http_config_defaults(&hc);
		hc.urls = o.http;
		hc.n_urls = o.n_http;
		hc.tls_cert = o.server.tls_cert;
		hc.tls_key = o.server.tls_key;
		hc.tls_ca = o.server.tls_ca;
		hc.max_request_bytes = o.server.max_request_bytes;
		hc.idle_timeout_ms = o.server.idle_timeout_ms;
		hc.env = &env;
		hc.routes = (ob_connect){.dispatch = d, .metrics = metrics, .domain = domain};
		if (ob_http_start(&http, &hc) != OB_OK)
			goto out;
	}
	ob_log(OB_LOG_INFO, "onboardd %s serving", OB_VERSION);

	for (;;) {
		int sig = 0;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			ob_log(OB_LOG_INFO, "SIGHUP: reloading the keyring");
			if (ob_authz_reload(authz) != OB_OK)
				ob_log(OB_LOG_WARN, "the previous keyring stays in force");
			continue;
		}
		ob_log(OB_LOG_INFO, "signal %d: draining for up to %lld ms", sig,
		       (long long)o.grace_ms);
		break;
	}
	unsigned left = ob_server_drain(srv, o.grace_ms) + ob_http_drain(http, o.grace_ms);
	if (left > 0)
		ob_log(OB_LOG_WARN, "%u call(s) still in flight after the grace period", left);
	status = 0;
out:
	ob_http_destroy(http);
	ob_server_destroy(srv);
	ob_metrics_destroy(metrics);
	ob_dispatch_destroy(d);
	ob_authz_destroy(authz);
	ob_domain_destroy(domain);
	ob_store_destroy(store);
	ob_keystore_destroy(keys); /* last: the store and the domain borrowed it */
	if (status == 0)
		ob_log(OB_LOG_INFO, "stopped cleanly");
	return status;
}
