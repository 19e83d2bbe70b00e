/*
 * listen.c: the listeners. Each is an nng_stream_listener (ipc, tcp or
 * tls+tcp) with one accept aio; accepted streams go to conn.c. Also the
 * TLS configuration and the rules for an ipc socket's directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/log.h"
#include "rpc/metrics.h"
#include "defaults.h"
#include "files.h"
#include "secretfile.h"
#include "rpc/server_impl.h"

/* Wait after a failed accept (out of descriptors, say) before the next. */
enum { ACCEPT_BACKOFF_MS = 100, LISTEN_LOG_EVERY_MS = 10 * 1000 };

/* Whether a line that floods may be logged now: at most once every
 * LISTEN_LOG_EVERY_MS per *said_ms, whatever the threads. */
static bool log_due(_Atomic int64_t *said_ms)
{
	int64_t now = ob_clock_mono_us() / 1000, was = atomic_load(said_ms);
	return now - was >= LISTEN_LOG_EVERY_MS &&
	       atomic_compare_exchange_strong(said_ms, &was, now);
}

/*
 * Whether descriptors run short: fewer than an eighth of RLIMIT_NOFILE (32 to
 * 256) are left above the lowest free one, which the kernel hands out first,
 * so that every one below it is taken.
 *
 * Why: a connection's descriptor outlives it. nng 1.5.2 closes a stream's
 * socket on its reaper thread, after a round trip through its poller, well
 * after onboardd let the connection go; peers that connect and hang up at
 * once (the hostile campaign's pipelining clients) open them faster than
 * that thread closes them, and the descriptors grew to the process's limit
 * within seconds, far past --max-connections. At the limit it is not only
 * the attacker who fails but the store (a health check's connection to the
 * database, a new reader) and every new client. Pausing the accepts while
 * descriptors are short keeps the store's share free and lets the reaper
 * catch up; the kernel queues new connections meanwhile, and a client the
 * pause turned away dials again.
 */
static bool fds_short(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return false;
	rlim_t room = rl.rlim_cur / 8;
	room = room < 32 ? 32 : room > 256 ? 256 : room;
	int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return errno == EMFILE;
	close(fd);
	return (rlim_t)fd + room >= rl.rlim_cur;
}

nng_stream *ob_accept_step(nng_stream_listener *l, nng_aio *aio, atomic_bool *backing_off)
{
	int rv = nng_aio_result(aio);
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return NULL;
	if (atomic_exchange(backing_off, false)) {
		nng_stream_listener_accept(l, aio); /* the pause is over */
		return NULL;
	}
	if (rv == 0 && !fds_short())
		return nng_aio_get_output(aio, 0);
	if (rv == 0) { /* refused, as over a connection cap: the pause is for the reaper */
		static _Atomic int64_t said_ms;
		if (log_due(&said_ms))
			ob_log(OB_LOG_WARN,
			       "descriptors run short (RLIMIT_NOFILE): new connections "
			       "wait while the closed ones are released");
		nng_stream *st = nng_aio_get_output(aio, 0);
		nng_stream_close(st);
		nng_stream_free(st);
	}
	/* EMFILE and the like: accepting again at once would spin. */
	atomic_store(backing_off, true);
	nng_sleep_aio(ACCEPT_BACKOFF_MS, aio);
	return NULL;
}

/*
 * The shortest pause of a paced listener. nng 1.5.2's timer thread spins
 * through the last millisecond of every sleep (it compares the expiry with
 * `<` against a clock in milliseconds): at one pause a token, 2 ms apart, it
 * burnt five times the CPU the pacing saved (measured: 990 us of onboardd's
 * CPU a connection against 187 us unpaced). A pause of at least 50 ms lets
 * 25 tokens gather at the default rate and bounds that spin to 1 ms in 50
 * while a flood lasts; a new connection then waits up to 50 ms in the backlog.
 */
enum { PACE_MIN_PAUSE_MS = 50 };

/* Takes a token; returns 0, or the milliseconds to pause. */
static unsigned pace_take(ob_accept_pace *p, int64_t now_us)
{
	if (p->rate == 0)
		return 0;
	double cap = p->rate;
	if (p->last_us == 0)
		p->tokens = cap;
	else
		p->tokens += (double)(now_us - p->last_us) * cap / 1e6;
	if (p->tokens > cap)
		p->tokens = cap;
	p->last_us = now_us;
	p->tokens -= 1;
	if (p->tokens >= 1)
		return 0;
	unsigned ms = (unsigned)((1 - p->tokens) * 1000 / cap) + 1;
	return ms < PACE_MIN_PAUSE_MS ? PACE_MIN_PAUSE_MS : ms;
}

void ob_accept_next(nng_stream_listener *l, nng_aio *aio, atomic_bool *backing_off,
                    ob_accept_pace *pace, const char *url)
{
	int64_t now_us = ob_clock_mono_us();
	unsigned wait_ms = pace_take(pace, now_us);
	if (wait_ms == 0) {
		nng_stream_listener_accept(l, aio);
		return;
	}
	ob_metrics_refused(pace->metrics, pace->face, OB_REFUSED_ACCEPT_PAUSED);
	if (log_due(&pace->said_ms)) {
		ob_log(OB_LOG_WARN,
		       "%s: more than %u new connections a second; the next wait in the "
		       "kernel's backlog (--max-accept-rate)",
		       url, pace->rate);
	}
	atomic_store(backing_off, true);
	nng_sleep_aio((nng_duration)wait_ms, aio);
}

static void accept_cb(void *arg)
{
	ob_listener *l = arg;
	nng_stream *st = ob_accept_step(l->l, l->aio, &l->backing_off);
	if (st != NULL) {
		ob_conn_accept(l->srv, l, st);
		ob_accept_next(l->l, l->aio, &l->backing_off, &l->pace, l->url);
	}
}

/* Reads a whole PEM file (a certificate or a CA bundle: public). */
static char *read_pem(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = ob_read_stream(f, NULL);
	fclose(f);
	return buf;
}

/* A PEM private key is at most a few kilobytes; a megabyte bounds a mistake. */
enum { TLS_KEY_MAX = 1 << 20 };

ob_err ob_tls_server_config(const char *cert_path, const char *key_path, const char *ca_path,
                            nng_tls_config **out)
{
	*out = NULL;
	if (cert_path == NULL || key_path == NULL) {
		ob_log(OB_LOG_ERROR, "TLS needs --tls-cert and --tls-key");
		return OB_EINVAL;
	}
	/* The private key is a secret file (common/secretfile.h, a link followed: certbot's
	 * live/ folder is links), read into guarded memory that is wiped when freed. */
	char why[512];
	char *key = NULL, *ca = NULL;
	size_t key_len = 0;
	int krc = ob_secret_read(key_path, true, TLS_KEY_MAX, &key, &key_len, why, sizeof(why));
	char *cert = read_pem(cert_path);
	ob_err err = OB_OK;
	if (krc != 0) {
		ob_log(OB_LOG_ERROR, "refusing the TLS key: %s", why);
		err = ob_err_from_errno(krc);
		goto out;
	}
	if (cert == NULL) {
		ob_log(OB_LOG_ERROR, "cannot read the TLS certificate %s", cert_path);
		err = OB_EIO;
		goto out;
	}
	int rv = nng_tls_config_alloc(out, NNG_TLS_MODE_SERVER);
	if (rv == 0)
		rv = nng_tls_config_own_cert(*out, cert, key, NULL);
	if (rv == 0 && ca_path != NULL) {
		if ((ca = read_pem(ca_path)) == NULL) {
			ob_log(OB_LOG_ERROR, "cannot read the TLS CA file %s", ca_path);
			err = OB_EIO;
			goto out;
		}
		rv = nng_tls_config_ca_chain(*out, ca, NULL);
		if (rv == 0)
			rv = nng_tls_config_auth_mode(*out, NNG_TLS_AUTH_MODE_REQUIRED);
	} else if (rv == 0) {
		rv = nng_tls_config_auth_mode(*out, NNG_TLS_AUTH_MODE_NONE);
	}
	if (rv != 0) {
		ob_log(OB_LOG_ERROR, "TLS configuration failed: %s", nng_strerror(rv));
		err = ob_server_from_nng(rv);
	}
out:
	if (err != OB_OK && *out != NULL) {
		nng_tls_config_free(*out);
		*out = NULL;
	}
	if (key != NULL)
		sodium_free(key); /* wiped: the private key does not linger */
	free(cert);
	free(ca);
	return err;
}

static ob_err setup_tls(ob_server *s)
{
	return ob_tls_server_config(s->cfg.tls_cert, s->cfg.tls_key, s->cfg.tls_ca, &s->tls);
}

/*
 * The directory of an ipc socket. Missing directories are made (the last
 * one 0700). An existing one must pass the clients' own rule
 * (ob_socket_dir_check in common/defaults.h): a real directory owned by our
 * user and writable by nobody else; otherwise another local user could have
 * made it first (under /tmp, say) and put their own socket where clients
 * expect ours, or swap ours for theirs later.
 */
static ob_err ipc_directory(const char *path)
{
	char buf[512];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		ob_log(OB_LOG_ERROR, "the ipc path %s is too long", path);
		return OB_EINVAL;
	}
	char *slash = strrchr(buf, '/');
	if (slash == NULL)
		return OB_OK; /* relative to the working directory, which is ours */
	*slash = '\0';
	if (buf[0] == '\0')
		snprintf(buf, sizeof(buf), "/");
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		goto fail;
	char why[512];
	if (ob_socket_dir_check(buf, geteuid(), why, sizeof(why)) != 0) {
		ob_log(OB_LOG_ERROR, "refusing to listen on %s: %s", path, why);
		return OB_EPERM;
	}
	return OB_OK;
fail:
	ob_log(OB_LOG_ERROR, "cannot create the directory %s: %s", buf, strerror(errno));
	return OB_EIO;
}

int ob_stream_listen(const char *url, nng_tls_config *tls, int ipc_mode, void (*cb)(void *),
                     void *arg, nng_stream_listener **l, nng_aio **aio)
{
	*l = NULL;
	*aio = NULL;
	int rv = nng_stream_listener_alloc(l, url);
	if (rv == 0 && ipc_mode >= 0)
		rv = nng_stream_listener_set_int(*l, NNG_OPT_IPC_PERMISSIONS, ipc_mode);
	if (rv == 0 && tls != NULL)
		rv = nng_stream_listener_set_ptr(*l, NNG_OPT_TLS_CONFIG, tls);
	/* Replies are small and written whole: no Nagle delay (on TLS, passed down to the TCP
	 * listener where nng does so). */
	if (rv == 0 && ipc_mode < 0)
		(void)nng_stream_listener_set_bool(*l, NNG_OPT_TCP_NODELAY, true);
	if (rv == 0)
		rv = nng_stream_listener_listen(*l);
	if (rv == 0)
		rv = nng_aio_alloc(aio, cb, arg);
	if (rv != 0) {
		nng_stream_listener_free(*l); /* accepts NULL */
		*l = NULL;
	}
	return rv;
}

static bool is_loopback_tcp(const char *url)
{
	const char *host = strstr(url, "://");
	host = host != NULL ? host + 3 : url;
	return strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost:", 10) == 0 ||
	       strncmp(host, "[::1]:", 6) == 0;
}

ob_err ob_listener_start(ob_server *s, ob_listener *l, const char *url)
{
	memset(l, 0, sizeof(*l));
	l->srv = s;
	l->url = url;
	atomic_init(&l->backing_off, false);
	bool ipc = strncmp(url, "ipc://", 6) == 0;
	bool tls = strncmp(url, "tls+tcp://", 10) == 0;
	bool tcp = strncmp(url, "tcp://", 6) == 0 || strncmp(url, "tcp4://", 7) == 0 ||
	           strncmp(url, "tcp6://", 7) == 0;
	if (!ipc && !tls && !tcp) {
		ob_log(OB_LOG_ERROR, "cannot listen on %s: use ipc://, tcp:// or tls+tcp://", url);
		return OB_EINVAL;
	}
	l->ipc = ipc;
	l->pace.rate = ipc ? 0 : s->cfg.max_accept_rate;
	l->pace.metrics = s->cfg.metrics;
	l->pace.face = OB_FACE_NNG;
	ob_err err;
	if (ipc && (err = ipc_directory(url + 6)) != OB_OK)
		return err;
	if (tls && s->tls == NULL && (err = setup_tls(s)) != OB_OK)
		return err;
	int rv = ob_stream_listen(url, tls ? s->tls : NULL, ipc ? (int)s->cfg.ipc_mode : -1,
	                          accept_cb, l, &l->l, &l->aio);
	if (rv != 0) {
		ob_log(OB_LOG_ERROR, "cannot listen on %s: %s", url, nng_strerror(rv));
		ob_listener_fini(l);
		return ob_server_from_nng(rv);
	}
	l->open = ob_metrics_listener(s->cfg.metrics, OB_FACE_NNG, url);
	nng_stream_listener_accept(l->l, l->aio);
	if (tcp && !is_loopback_tcp(url))
		ob_log(OB_LOG_WARN,
		       "listening on %s without TLS: traffic, including personal data, is in clear "
		       "text; use tls+tcp:// off this host",
		       url);
	ob_log(OB_LOG_INFO, "listening on %s", url);
	return OB_OK;
}

void ob_listener_close(ob_listener *l)
{
	if (l->l != NULL)
		nng_stream_listener_close(l->l);
}

void ob_listener_fini(ob_listener *l)
{
	ob_listener_close(l);
	nng_aio_free(l->aio); /* waits for accept_cb */
	nng_stream_listener_free(l->l);
	l->aio = NULL;
	l->l = NULL;
}
