/* struct ucred (SO_PEERCRED) is a GNU extension of glibc. */
#define _GNU_SOURCE
/*
 * libonboard-client: envelope, REQ socket, one nng context per call.
 */
#include "onboard/client.h"

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <sodium.h>

#include "attr.h"
#include "errbuf.h"
#include "keyfile.h"
#include "login_message.h"
#include "onboard/v1/auth.pb-c.h"
#include "onboard/envelope.h"
#include "onboard/v1/rpc.pb-c.h"

enum {
	DEFAULT_TIMEOUT_MS = 10000,
	DEFAULT_MAX_REPLY = 16 << 20,
	RECONNECT_MIN_MS = 50,
	RECONNECT_MAX_MS = 2000,
	/* Redialling (see "Redialling" below): a URL whose dialer has had no
	 * connection and made no attempt that reached the hello for this long
	 * gets a new dialer; the watch looks every WATCH_MS. Above the longest
	 * backoff (RECONNECT_MAX_MS, also the pace of a refused peer's redials),
	 * so that a dialer that is merely waiting is left alone. */
	REDIAL_AFTER_MS = RECONNECT_MAX_MS + 1000,
	WATCH_MS = 250,
};

/* One server URL and the dialer that serves it. */
typedef struct dial_slot {
	char *url;
	bool dialled;        /* false: refused before dialling (precheck_ipc), not watched */
	nng_dialer dialer;   /* none (id -1) while the watch replaces it */
	uint32_t pipe;       /* the connection it holds (nng_pipe_id), 0: none */
	int64_t quiet_since; /* mono ms: since when it has had no connection nor attempt */
} dial_slot;

struct ob_client {
	nng_socket sock;
	nng_tls_config *tls;
	/* Authentication, when a key file was given. */
	bool has_key;
	uint8_t seed[32]; /* wiped on close */
	char key_id[OB_KEYFILE_ID_LEN + 1];
	char *audiences[OB_LOGIN_MAX_AUDIENCES]; /* what logins are signed for; owned */
	size_t n_audiences;
	pthread_mutex_t mu; /* guards the token */
	char token[128];
	int64_t token_expires_ms; /* by our clock; 0: none */
	/* ipc peers (see check_peer): the uid expected besides root, and the
	 * last refusal, under its own lock: check_peer runs on nng's threads
	 * while a login may hold mu across a call. */
	uint64_t server_uid;
	pthread_mutex_t peer_mu;
	uint32_t refused_dialer; /* nng_dialer_id of the last refusal; 0: none */
	char refusal[320];
	/* Redialling: the URLs and their dialers, the watch that replaces a
	 * dialer nng gave up on. Under dial_mu, which is never held across a
	 * call into nng that waits for a pipe callback (dialer close). */
	pthread_mutex_t dial_mu;
	dial_slot *slots;
	size_t n_slots;
	nng_aio *watch;
	bool watching; /* the watch's sleep is armed */
	bool closing;  /* ob_client_close() began: arm nothing more */
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The path of an ipc or abstract address, for messages. */
static void addr_name(const nng_sockaddr *sa, char *out, size_t n)
{
	if (sa->s_family == NNG_AF_IPC)
		snprintf(out, n, "%s", sa->s_ipc.sa_path);
	else if (sa->s_family == NNG_AF_ABSTRACT)
		snprintf(out, n, "abstract://%.*s", (int)sa->s_abstract.sa_len,
		         (const char *)sa->s_abstract.sa_name);
	else
		snprintf(out, n, "?");
}

/*
 * Redialling. nng 1.5.2's dialer stops for good when a connection fails
 * during the SP hello with EPIPE (the server accepted it and closed it, as
 * one that dies while it starts does): the transport reports NNG_ECLOSED,
 * which dialer_connect_cb (src/core/dialer.c) takes for the dialer's own
 * close, "no further action". nng 1.6.0 reports NNG_ECONNSHUT there instead
 * (9248ed74, "fixes #1518"), which is retried; Debian 12 ships 1.5.2. A
 * long-lived client was then left without a connection, every call timing
 * out while the server served everyone else.
 *
 * So the library watches its connections (track_pipe, from the pipe
 * events) and replaces the dialer of a URL that has held no connection, and
 * got none as far as the hello, for REDIAL_AFTER_MS (watch_cb). nng does not
 * say that a dialer gave up, only what it connects: a dialer that is merely
 * waiting out a long backoff may be replaced too, which costs one early dial.
 * A URL refused before dialling (precheck_ipc) has no dialer and no watch.
 */

/* The slot of dialer id d, or NULL; with c->dial_mu held. */
static dial_slot *slot_of(ob_client *c, int d)
{
	for (size_t i = 0; d > 0 && i < c->n_slots; i++)
		if (nng_dialer_id(c->slots[i].dialer) == d)
			return &c->slots[i];
	return NULL;
}

/* Arms the watch unless it is armed or the client closing; with c->dial_mu held. */
static void arm_watch(ob_client *c)
{
	if (c->watching || c->closing || c->watch == NULL)
		return;
	c->watching = true;
	nng_sleep_aio(WATCH_MS, c->watch);
}

/* A pipe event of c's socket, on an nng thread: which connection each dialer
 * holds, and when it last had one or an attempt (ADD_PRE: the hello went
 * through, so the dialer lives). */
static void track_pipe(ob_client *c, nng_pipe p, nng_pipe_ev ev)
{
	int d = nng_dialer_id(nng_pipe_dialer(p));
	uint32_t id = (uint32_t)nng_pipe_id(p);
	pthread_mutex_lock(&c->dial_mu);
	dial_slot *sl = slot_of(c, d);
	if (sl != NULL) {
		if (ev == NNG_PIPE_EV_ADD_POST) {
			sl->pipe = id;
		} else if (ev == NNG_PIPE_EV_REM_POST && sl->pipe == id) {
			sl->pipe = 0;
			arm_watch(c);
		}
		sl->quiet_since = mono_ms();
	}
	pthread_mutex_unlock(&c->dial_mu);
}

static int new_dialer(ob_client *c, const char *url, nng_dialer *d);

/* The watch, on an nng thread: a new dialer for each URL quiet for
 * REDIAL_AFTER_MS, and again in WATCH_MS while one is still without a
 * connection. The old dialer is closed without dial_mu held (its pipe
 * callbacks may be waiting for it), and the new one registered before it
 * starts, so that none of its connections goes untracked. */
static void watch_cb(void *arg)
{
	ob_client *c = arg;
	if (nng_aio_result(c->watch) != 0)
		return; /* stopped: the client is closing */
	pthread_mutex_lock(&c->dial_mu);
	c->watching = false;
	bool again = false;
	for (size_t i = 0; i < c->n_slots && !c->closing; i++) {
		dial_slot *sl = &c->slots[i];
		if (!sl->dialled || sl->pipe != 0)
			continue;
		again = true;
		if (mono_ms() - sl->quiet_since < REDIAL_AFTER_MS)
			continue;
		nng_dialer old = sl->dialer;
		sl->dialer = (nng_dialer)NNG_DIALER_INITIALIZER;
		sl->quiet_since = mono_ms();
		pthread_mutex_unlock(&c->dial_mu);
		if (nng_dialer_id(old) > 0)
			nng_dialer_close(old);
		nng_dialer d;
		int rv = new_dialer(c, sl->url, &d);
		pthread_mutex_lock(&c->dial_mu);
		if (rv != 0)
			continue; /* out of memory: the next look tries again */
		if (c->closing) {
			pthread_mutex_unlock(&c->dial_mu);
			nng_dialer_close(d);
			pthread_mutex_lock(&c->dial_mu);
			continue;
		}
		sl->dialer = d;
		/* A refusal of the old dialer is the new one's (check_peer). */
		pthread_mutex_lock(&c->peer_mu);
		if (c->refused_dialer == (uint32_t)nng_dialer_id(old))
			c->refused_dialer = (uint32_t)nng_dialer_id(d);
		pthread_mutex_unlock(&c->peer_mu);
		nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	}
	if (again)
		arm_watch(c);
	pthread_mutex_unlock(&c->dial_mu);
}

/*
 * NNG_PIPE_EV_ADD_PRE, on an nng thread, once a connection is negotiated and
 * before it carries a request: an ipc peer must run as the expected uid or as
 * root (see ob_client_options). Closing the pipe here is how nng lets a
 * callback refuse it; the socket never sends on it. A transport without the
 * option (tcp, tls+tcp) answers NNG_ENOTSUP and is let through; an ipc pipe
 * whose peer cannot be learnt is refused.
 */
static void check_peer(ob_client *c, nng_pipe p)
{
	nng_sockaddr sa;
	bool ipc = nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0 &&
	           (sa.s_family == NNG_AF_IPC || sa.s_family == NNG_AF_ABSTRACT);
	uint64_t uid = 0;
	int rv = nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid);
	if (rv == NNG_ENOTSUP && !ipc)
		return;
	nng_dialer d = nng_pipe_dialer(p);
	uint32_t dialer_id = (uint32_t)nng_dialer_id(d);
	if (rv == 0 && (uid == c->server_uid || uid == 0)) {
		pthread_mutex_lock(&c->peer_mu);
		if (c->refused_dialer == dialer_id)
			c->refused_dialer = 0; /* the right server is back */
		pthread_mutex_unlock(&c->peer_mu);
		return;
	}
	char where[NNG_MAXADDRLEN + 16];
	if (ipc)
		addr_name(&sa, where, sizeof(where));
	else
		snprintf(where, sizeof(where), "?");
	pthread_mutex_lock(&c->peer_mu);
	if (rv != 0)
		snprintf(c->refusal, sizeof(c->refusal),
		         "cannot learn which uid serves the server socket at %s: %s", where,
		         nng_strerror(rv));
	else
		snprintf(c->refusal, sizeof(c->refusal),
		         "the server socket at %s is served by uid %llu, expected %llu%s", where,
		         (unsigned long long)uid, (unsigned long long)c->server_uid,
		         c->server_uid != 0 ? " (or root)" : "");
	c->refused_dialer = dialer_id;
	pthread_mutex_unlock(&c->peer_mu);
	/* nng redials within RECONNECT_MIN_MS of a closed pipe (its backoff
	 * starts again with every connection made): not 20 times a second to
	 * a socket we refuse. */
	nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, RECONNECT_MAX_MS);
	nng_pipe_close(p);
}

/* Every pipe event of c's socket (arg), on an nng thread. */
static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	ob_client *c = arg;
	track_pipe(c, p, ev);
	if (ev == NNG_PIPE_EV_ADD_PRE)
		check_peer(c, p);
}

/* A refusal made before any dialer existed (precheck_ipc), for refused(). */
#define PRECHECK_REFUSAL UINT32_MAX

/*
 * Before nng dials an ipc:// URL: a plain connection to the socket, the
 * listener's uid from the kernel (SO_PEERCRED), and nothing sent. Returns 1
 * when the socket is served by the wrong uid (c->refusal says so), 0 when it
 * is the expected one or nothing can be learnt yet (no socket: the server is
 * not up; check_peer will look at the connection nng makes later). Why both:
 * a URL refused here never gets an nng dialer, so no connection to a
 * stranger is made and torn down inside nng (nng 1.5.2 can leave such a
 * dialer's objects unfreed when the socket is closed meanwhile); check_peer
 * still guards every later connection, for a socket replaced afterwards.
 */
static int precheck_ipc(ob_client *c, const char *url)
{
	if (strncmp(url, "ipc://", 6) != 0)
		return 0;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(url + 6);
	if (len == 0 || len >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, url + 6, len + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	bool known = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	             getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0;
	if (!known || (uint64_t)cred.uid == c->server_uid || cred.uid == 0) {
		/* Say hello before hanging up: an nng listener that sees a
		 * connection end during its negotiation can stop negotiating for
		 * good (nng 1.5.2, issue #1518). At most a second. */
		static const uint8_t hello[8] = {0, 'S', 'P', 0, 0, 0x30, 0, 0};
		uint8_t back[8];
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (known &&
		    send(fd, hello, sizeof(hello), MSG_NOSIGNAL) == (ssize_t)sizeof(hello) &&
		    poll(&pfd, 1, 1000) == 1)
			(void)!recv(fd, back, sizeof(back), MSG_WAITALL);
		close(fd);
		return 0;
	}
	close(fd);
	pthread_mutex_lock(&c->peer_mu);
	snprintf(c->refusal, sizeof(c->refusal),
	         "the server socket at %s is served by uid %llu, expected %llu%s", url + 6,
	         (unsigned long long)cred.uid, (unsigned long long)c->server_uid,
	         c->server_uid != 0 ? " (or root)" : "");
	c->refused_dialer = PRECHECK_REFUSAL;
	pthread_mutex_unlock(&c->peer_mu);
	return 1;
}

/* Copies the last refusal into out if dialer_id (0: any dialer) made it. */
static bool refused(ob_client *c, uint32_t dialer_id, char *out, size_t n)
{
	pthread_mutex_lock(&c->peer_mu);
	bool yes = c->refused_dialer != 0 && (dialer_id == 0 || c->refused_dialer == dialer_id);
	if (yes)
		snprintf(out, n, "%s", c->refusal);
	pthread_mutex_unlock(&c->peer_mu);
	return yes;
}

const char *ob_code_name(int code)
{
	/* The names are the contract's (rpc.proto's enum Code), as the server's
	 * status.c reads them too. */
	const ProtobufCEnumValue *v =
	        protobuf_c_enum_descriptor_get_value(&onboard__v1__code__descriptor, code);
	return v != NULL ? v->name : "UNKNOWN";
}

/* Wipes the key's seed and frees the audiences. */
static void free_key(ob_client *c)
{
	sodium_memzero(c->seed, sizeof(c->seed));
	for (size_t i = 0; i < c->n_audiences; i++)
		free(c->audiences[i]);
	c->n_audiences = 0;
}

/* The host part of a tls+tcp://host:port URL, for SNI and verification. */
static void url_host(const char *url, char *out, size_t n)
{
	const char *h = strstr(url, "://");
	h = h != NULL ? h + 3 : url;
	size_t len;
	if (h[0] == '[') {
		h++;
		len = strcspn(h, "]");
	} else {
		len = strcspn(h, ":/");
	}
	if (len >= n)
		len = n - 1;
	memcpy(out, h, len);
	out[len] = '\0';
}

static int setup_tls(ob_client *c, const ob_client_options *o, const char *url, char *err,
                     size_t errlen)
{
	if (o == NULL || o->tls_ca_file == NULL) {
		ob_errbuf(err, errlen, "%s needs a CA file to verify the server (--tls-ca)", url);
		return -1;
	}
	int rv = nng_tls_config_alloc(&c->tls, NNG_TLS_MODE_CLIENT);
	if (rv == 0)
		rv = nng_tls_config_ca_file(c->tls, o->tls_ca_file);
	if (rv == 0)
		rv = nng_tls_config_auth_mode(c->tls, NNG_TLS_AUTH_MODE_REQUIRED);
	if (rv == 0 && o->tls_cert_file != NULL) {
		/* nng wants certificate and key in one file or in memory: join them. */
		FILE *fc = fopen(o->tls_cert_file, "rb");
		FILE *fk = o->tls_key_file != NULL ? fopen(o->tls_key_file, "rb") : NULL;
		char cert[16384] = {0}, key[16384] = {0};
		size_t nc = fc != NULL ? fread(cert, 1, sizeof(cert) - 1, fc) : 0;
		size_t nk = fk != NULL ? fread(key, 1, sizeof(key) - 1, fk) : 0;
		if (fc != NULL)
			fclose(fc);
		if (fk != NULL)
			fclose(fk);
		if (nc == 0 || nk == 0) {
			sodium_memzero(key, sizeof(key));
			ob_errbuf(err, errlen, "cannot read the client certificate or key file");
			return -1;
		}
		rv = nng_tls_config_own_cert(c->tls, cert, key, NULL);
		sodium_memzero(key, sizeof(key));
	}
	char host[256];
	if (o->tls_server_name != NULL)
		snprintf(host, sizeof(host), "%s", o->tls_server_name);
	else
		url_host(url, host, sizeof(host));
	if (rv == 0)
		rv = nng_tls_config_server_name(c->tls, host);
	if (rv != 0) {
		ob_errbuf(err, errlen, "TLS configuration failed: %s", nng_strerror(rv));
		return -1;
	}
	return 0;
}

/* The audiences of c's logins: opts->audience, or the URLs it dials (see the header). Returns
 * 0, or -1 with a message when there is none that can be signed. */
static int set_audiences(ob_client *c, const char *const *urls, size_t n_urls,
                         const ob_client_options *o, char *err, size_t errlen)
{
	const char *const *names = urls;
	size_t n = n_urls;
	if (o->audience != NULL) {
		if (!ob_login_audiences_valid(&o->audience, 1)) {
			ob_errbuf(err, errlen, "the audience must be 1 to %d bytes",
			          OB_LOGIN_MAX_AUDIENCE_LEN);
			return -1;
		}
		names = &o->audience;
		n = 1;
	}
	for (size_t i = 0; i < n && c->n_audiences < OB_LOGIN_MAX_AUDIENCES; i++) {
		if (!ob_login_audiences_valid(&names[i], 1))
			continue; /* a URL too long to sign for; the others may do */
		c->audiences[c->n_audiences] = strdup(names[i]);
		if (c->audiences[c->n_audiences] == NULL) {
			ob_errbuf(err, errlen, "out of memory");
			return -1;
		}
		c->n_audiences++;
	}
	if (c->n_audiences == 0) {
		ob_errbuf(err, errlen,
		          "no server URL of at most %d bytes to sign logins for: set the audience",
		          OB_LOGIN_MAX_AUDIENCE_LEN);
		return -1;
	}
	return 0;
}

/* A client with its locks, the server's uid and the caller's key, no
 * socket yet; NULL with err set. */
static ob_client *client_new(const char *const *urls, size_t n_urls, const ob_client_options *opts,
                             char *err, size_t errlen)
{
	ob_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		ob_errbuf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->peer_mu, NULL);
	pthread_mutex_init(&c->dial_mu, NULL);
	c->server_uid = opts != NULL && opts->ipc_server_uid_set ? opts->ipc_server_uid
	                                                         : (uint64_t)geteuid();
	if (opts != NULL && opts->key_file != NULL) {
		if (ob_keyfile_load(opts->key_file, c->seed, c->key_id, err, errlen) != 0 ||
		    set_audiences(c, urls, n_urls, opts, err, errlen) != 0) {
			free_key(c);
			pthread_mutex_destroy(&c->dial_mu);
			pthread_mutex_destroy(&c->peer_mu);
			pthread_mutex_destroy(&c->mu);
			free(c);
			return NULL;
		}
		c->has_key = true;
	}
	return c;
}

/* The REQ socket with its peer check and options. */
static int open_socket(ob_client *c, const ob_client_options *opts, char *err, size_t errlen)
{
	int rv = nng_req0_open(&c->sock);
	if (rv != 0) {
		ob_errbuf(err, errlen, "cannot open a socket: %s", nng_strerror(rv));
		return -1;
	}
	/* Before any dialer: no connection escapes the check nor the watch. */
	rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_PRE, pipe_event, c);
	if (rv == 0)
		rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_event, c);
	if (rv == 0)
		rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_event, c);
	if (rv == 0)
		rv = nng_aio_alloc(&c->watch, watch_cb, c);
	if (rv != 0) {
		ob_errbuf(err, errlen, "cannot watch connections: %s", nng_strerror(rv));
		return -1;
	}
	size_t max_reply = opts != NULL && opts->max_reply_bytes > 0 ? opts->max_reply_bytes
	                                                             : DEFAULT_MAX_REPLY;
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, max_reply);
	/* No timed resend: see the header. */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, RECONNECT_MIN_MS);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, RECONNECT_MAX_MS);
	return 0;
}

/* A dialer for url with the client's options, not started; nng's error. */
static int new_dialer(ob_client *c, const char *url, nng_dialer *d)
{
	int rv = nng_dialer_create(d, c->sock, url);
	if (rv == 0 && strncmp(url, "tls+tcp://", 10) == 0)
		rv = nng_dialer_set_ptr(*d, NNG_OPT_TLS_CONFIG, c->tls);
	if (rv == 0 && strncmp(url, "ipc://", 6) != 0)
		nng_dialer_set_bool(*d, NNG_OPT_TCP_NODELAY, true);
	if (rv != 0 && nng_dialer_id(*d) > 0)
		nng_dialer_close(*d);
	return rv;
}

/* One dialer for sl's URL. 1 when it connected (or, lazy, started), 0 when it
 * did not (why in first_err if that is still empty; it goes on trying in
 * the background), -1 with err set for a URL or TLS setup that is wrong. */
static int dial(ob_client *c, dial_slot *sl, const ob_client_options *opts, bool lazy,
                char *first_err, size_t first_len, char *err, size_t errlen)
{
	const char *url = sl->url;
	nng_dialer d;
	if (strncmp(url, "tls+tcp://", 10) == 0 && c->tls == NULL &&
	    setup_tls(c, opts, url, err, errlen) != 0)
		return -1;
	if (precheck_ipc(c, url) == 1) {
		if (first_err[0] == '\0')
			refused(c, PRECHECK_REFUSAL, first_err, first_len);
		return 0;
	}
	int rv = new_dialer(c, url, &d);
	if (rv != 0) {
		ob_errbuf(err, errlen, "bad server URL %s: %s", url, nng_strerror(rv));
		return -1;
	}
	/* Known to the watch before it connects (track_pipe). */
	pthread_mutex_lock(&c->dial_mu);
	sl->dialled = true;
	sl->dialer = d;
	sl->quiet_since = mono_ms();
	arm_watch(c);
	pthread_mutex_unlock(&c->dial_mu);
	/* A blocking first dial reports a missing server at once; a failed one
	 * is retried in the background. */
	rv = nng_dialer_start(d, lazy ? NNG_FLAG_NONBLOCK : 0);
	/* A blocking start returns after check_peer has run on the connection
	 * it made: a refusal is known by now. */
	char why[320];
	if (rv == 0 && !lazy && refused(c, (uint32_t)nng_dialer_id(d), why, sizeof(why))) {
		if (first_err[0] == '\0')
			snprintf(first_err, first_len, "%s", why);
		return 0;
	}
	if (rv == 0)
		return 1;
	if (first_err[0] == '\0')
		snprintf(first_err, first_len,
		         "cannot connect to %s: %s; is onboardd running there?", url,
		         nng_strerror(rv));
	nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	return 0;
}

int ob_client_open(ob_client **out, const char *const *urls, size_t n_urls,
                   const ob_client_options *opts, char *err, size_t errlen)
{
	*out = NULL;
	if (sodium_init() < 0) {
		ob_errbuf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	if (n_urls == 0) {
		ob_errbuf(err, errlen, "no server URL");
		return -1;
	}
	ob_client *c = client_new(urls, n_urls, opts, err, errlen);
	if (c == NULL)
		return -1;
	if (open_socket(c, opts, err, errlen) != 0) {
		ob_client_close(c);
		return -1;
	}
	if ((c->slots = calloc(n_urls, sizeof(*c->slots))) == NULL) {
		ob_errbuf(err, errlen, "out of memory");
		ob_client_close(c);
		return -1;
	}
	for (size_t i = 0; i < n_urls; i++, c->n_slots++)
		if ((c->slots[i].url = strdup(urls[i])) == NULL) {
			ob_errbuf(err, errlen, "out of memory");
			ob_client_close(c);
			return -1;
		}
	size_t connected = 0;
	bool lazy = opts != NULL && opts->lazy_connect;
	char first_err[400] = "";
	for (size_t i = 0; i < n_urls; i++) {
		int got = dial(c, &c->slots[i], opts, lazy, first_err, sizeof(first_err), err,
		               errlen);
		if (got < 0) {
			ob_client_close(c);
			return -1;
		}
		connected += (size_t)got;
	}
	if (!lazy && connected == 0) {
		ob_errbuf(err, errlen, "%s", first_err);
		ob_client_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

void ob_client_close(ob_client *c)
{
	if (c == NULL)
		return;
	/* The watch first: nothing may replace a dialer once the socket closes. */
	pthread_mutex_lock(&c->dial_mu);
	c->closing = true;
	pthread_mutex_unlock(&c->dial_mu);
	if (c->watch != NULL)
		nng_aio_stop(c->watch);
	nng_close(c->sock);
	nng_aio_free(c->watch);
	for (size_t i = 0; i < c->n_slots; i++)
		free(c->slots[i].url);
	free(c->slots);
	if (c->tls != NULL)
		nng_tls_config_free(c->tls);
	free_key(c);
	sodium_memzero(c->token, sizeof(c->token));
	pthread_mutex_destroy(&c->dial_mu);
	pthread_mutex_destroy(&c->peer_mu);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static char *dup_str(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static int local_failure(ob_result *res, int code, const char *fmt, ...) OB_PRINTF(3, 4);
static int local_failure(ob_result *res, int code, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(res->message);
	res->message = strdup(buf);
	res->code = code;
	res->local = true;
	return code;
}

/* The envelope of a call: the caller's metadata, plus an idempotency key
 * when it has none, packed into *wire (malloc'd). OB_CODE_OK, or the local
 * failure in res. */
static int pack_call(const char *method, const ob_metadata *md, size_t n_md, const void *req,
                     size_t req_len, int64_t timeout_ms, uint8_t **wire, size_t *n, ob_result *res)
{
	ob_envelope_md md_all[33];
	bool has_key = false;
	for (size_t i = 0; i < n_md; i++)
		has_key |= strcmp(md[i].key, "idempotency-key") == 0;
	if (n_md > (has_key ? 32u : 31u))
		return local_failure(res, OB_CODE_INVALID_ARGUMENT,
		                     "at most 31 metadata entries (32 with an idempotency-key)");
	for (size_t i = 0; i < n_md; i++)
		md_all[i] = (ob_envelope_md){md[i].key, md[i].value};
	char key[40];
	if (!has_key) {
		unsigned char raw[18];
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2base64(key, sizeof(key), raw, sizeof(raw),
		                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		md_all[n_md++] = (ob_envelope_md){"idempotency-key", key};
	}
	*wire = ob_envelope_pack_alloc(&(ob_envelope){.version = OB_ENVELOPE_VERSION,
	                                              .method = method,
	                                              .timeout_ms = (uint32_t)timeout_ms,
	                                              .md = md_all,
	                                              .n_md = n_md,
	                                              .payload = req,
	                                              .payload_len = req_len},
	                               n);
	if (*wire == NULL)
		return local_failure(res, OB_CODE_RESOURCE_EXHAUSTED, "out of memory");
	return OB_CODE_OK;
}

/*
 * Sends wire[0..n) on a context of its own and waits for the reply (*reply)
 * until timeout_ms; returns nng's result.
 *
 * Without timed resends, nng's REQ fails a call with NNG_ECONNRESET when
 * the connection it went out on closes before the reply: the server
 * closed it as idle the moment the request arrived, or restarted. The
 * request is sent again, with the same idempotency key (so that a write
 * the server did make is answered from its record, not made twice), while
 * the deadline allows, a few times.
 */
static int round_trip(ob_client *c, const uint8_t *wire, size_t n, int64_t timeout_ms,
                      nng_msg **reply)
{
	nng_ctx ctx;
	nng_aio *aio = NULL;
	*reply = NULL;
	int rv = nng_ctx_open(&ctx, c->sock);
	if (rv != 0)
		return rv;
	nng_ctx_set_ms(ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	/* No callback: nng_aio_wait() is woken by the completing thread itself,
	 * where a callback would add a hop through nng's task threads to every
	 * call (measured: ~15% of Get throughput). nng applies the timeout to
	 * each operation. */
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		nng_ctx_close(ctx);
		return rv;
	}
	int64_t end = mono_ms() + timeout_ms;
	for (int attempt = 0;; attempt++) {
		nng_msg *msg = NULL;
		if (nng_msg_alloc(&msg, n) != 0) {
			rv = NNG_ENOMEM;
			break;
		}
		memcpy(nng_msg_body(msg), wire, n);
		int64_t left = end - mono_ms();
		nng_aio_set_timeout(aio, (nng_duration)(left > 0 ? left : 1));
		nng_aio_set_msg(aio, msg);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) != 0) {
			nng_msg_free(nng_aio_get_msg(aio));
		} else {
			nng_ctx_recv(ctx, aio);
			nng_aio_wait(aio);
			rv = nng_aio_result(aio);
		}
		if (rv == 0)
			*reply = nng_aio_get_msg(aio);
		if (rv != NNG_ECONNRESET || attempt >= 3 || mono_ms() >= end)
			break;
	}
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	return rv;
}

/* What a failed round trip (rv, nng's) tells the caller, in res. */
static int transport_failure(ob_client *c, int rv, int64_t timeout_ms, ob_result *res)
{
	if (rv == NNG_ENOMEM)
		return local_failure(res, OB_CODE_RESOURCE_EXHAUSTED, "out of memory");
	if (rv == NNG_ECLOSED)
		return local_failure(res, OB_CODE_UNAVAILABLE, "client closed: %s",
		                     nng_strerror(rv));
	if (rv == NNG_EPEERAUTH || rv == NNG_ECRYPTO)
		return local_failure(res, OB_CODE_UNAVAILABLE,
		                     "the TLS handshake failed: the server's certificate is not "
		                     "signed by the CA given, does not name the host (mbedTLS "
		                     "matches names, not IP addresses: use --tls-server-name), or "
		                     "the server wants a client certificate");
	char why[320];
	if (rv == NNG_ETIMEDOUT && refused(c, 0, why, sizeof(why)))
		return local_failure(res, OB_CODE_DEADLINE_EXCEEDED, "no reply within %lld ms: %s",
		                     (long long)timeout_ms, why);
	if (rv == NNG_ETIMEDOUT)
		return local_failure(res, OB_CODE_DEADLINE_EXCEEDED,
		                     "no reply within %lld ms (is the server reachable?)",
		                     (long long)timeout_ms);
	return local_failure(res, OB_CODE_UNAVAILABLE, "call failed: %s", nng_strerror(rv));
}

/* The server's Response into res: its code (UNKNOWN for one outside the
 * contract), message, request id, retry-after, replayed flag, field
 * violations and payload. Returns res->code. */
static int read_response(const nng_msg *reply, ob_result *res)
{
	Onboard__V1__Response *rs = onboard__v1__response__unpack(
	        NULL, nng_msg_len((nng_msg *)reply), nng_msg_body((nng_msg *)reply));
	if (rs == NULL)
		return local_failure(res, OB_CODE_INTERNAL, "the server's reply is not a Response");
	/* The code is the peer's word, any int32 (protobuf-c keeps unknown enum
	 * values as they are). Callers index tables with it and the CLI exits
	 * with 64 + code: -64 would be a success with no reply, 192 an exit
	 * status of 256, i.e. 0. A code outside the contract is UNKNOWN, as
	 * gRPC's own libraries do; the message keeps the number. */
	int code = (int)rs->code;
	bool known = code >= OB_CODE_OK && code <= OB_CODE_UNAUTHENTICATED;
	res->code = known ? code : OB_CODE_UNKNOWN;
	if (known) {
		res->message = dup_str(rs->message);
	} else {
		const char *said = rs->message != NULL ? rs->message : "";
		size_t len = strlen(said) + 80;
		if ((res->message = malloc(len)) != NULL)
			snprintf(res->message, len,
			         "the server answered status code %d, which is not one of the "
			         "contract's: %s",
			         code, said);
	}
	res->request_id = dup_str(rs->request_id);
	res->retry_after_ms = rs->retry_after_ms;
	res->replayed = rs->replayed;
	if (rs->n_field_violations > 0) {
		res->violations = calloc(rs->n_field_violations, sizeof(*res->violations));
		for (size_t i = 0; res->violations != NULL && i < rs->n_field_violations; i++) {
			res->violations[i].field = dup_str(rs->field_violations[i]->field);
			res->violations[i].description =
			        dup_str(rs->field_violations[i]->description);
			res->n_violations++;
		}
	}
	if (known && rs->payload.len > 0 && (res->payload = malloc(rs->payload.len)) != NULL) {
		memcpy(res->payload, rs->payload.data, rs->payload.len);
		res->payload_len = rs->payload.len;
	}
	onboard__v1__response__free_unpacked(rs, NULL);
	if (res->message == NULL || res->request_id == NULL)
		return local_failure(res, OB_CODE_RESOURCE_EXHAUSTED, "out of memory");
	return res->code;
}

/* One call as given: envelope, send, receive, decode. */
static int call_once(ob_client *c, const char *method, const ob_metadata *md, size_t n_md,
                     const void *req, size_t req_len, int64_t timeout_ms, ob_result *res)
{
	memset(res, 0, sizeof(*res));
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_TIMEOUT_MS;
	if (timeout_ms > UINT32_MAX)
		timeout_ms = UINT32_MAX;
	uint8_t *wire;
	size_t n;
	int code = pack_call(method, md, n_md, req, req_len, timeout_ms, &wire, &n, res);
	if (code != OB_CODE_OK)
		return code;
	nng_msg *reply;
	int rv = round_trip(c, wire, n, timeout_ms, &reply);
	free(wire);
	if (rv != 0)
		return transport_failure(c, rv, timeout_ms, res);
	code = read_response(reply, res);
	nng_msg_free(reply);
	return code;
}

/* Logs in: one signed request, a session token back. Called with c->mu held. */
static int login(ob_client *c, int64_t timeout_ms, ob_result *res)
{
	Onboard__V1__LoginRequest rq = ONBOARD__V1__LOGIN_REQUEST__INIT;
	uint8_t nonce[16], sig[64];
	randombytes_buf(nonce, sizeof(nonce));
	int64_t now = wall_ms();
	/* The audiences were checked when the client was opened. */
	if (ob_keyfile_sign_login(c->seed, c->key_id, now, nonce, (const char *const *)c->audiences,
	                          c->n_audiences, sig) != 0) {
		memset(res, 0, sizeof(*res));
		return local_failure(res, OB_CODE_INTERNAL, "cannot sign the login");
	}
	rq.key_id = c->key_id;
	rq.timestamp_ms = now;
	rq.nonce.data = nonce;
	rq.nonce.len = sizeof(nonce);
	rq.signature.data = sig;
	rq.signature.len = sizeof(sig);
	rq.audience = c->audiences;
	rq.n_audience = c->n_audiences;
	uint8_t *buf = malloc(onboard__v1__login_request__get_packed_size(&rq));
	if (buf == NULL) {
		memset(res, 0, sizeof(*res));
		return local_failure(res, OB_CODE_RESOURCE_EXHAUSTED, "out of memory");
	}
	size_t n = onboard__v1__login_request__pack(&rq, buf);
	int code = call_once(c, "/onboard.v1.Auth/Login", NULL, 0, buf, n, timeout_ms, res);
	free(buf);
	if (code != OB_CODE_OK)
		return code;
	Onboard__V1__LoginResponse *rs =
	        onboard__v1__login_response__unpack(NULL, res->payload_len, res->payload);
	if (rs == NULL || strlen(rs->token) >= sizeof(c->token)) {
		if (rs != NULL)
			onboard__v1__login_response__free_unpacked(rs, NULL);
		return local_failure(res, OB_CODE_INTERNAL,
		                     "the server's login reply is not valid");
	}
	snprintf(c->token, sizeof(c->token), "%s", rs->token);
	/* The server's TTL is 15 minutes by default; renew well before. We do
	 * not trust our clock to agree with the server's to the second. */
	c->token_expires_ms = now + 10 * 60 * 1000;
	onboard__v1__login_response__free_unpacked(rs, NULL);
	ob_result_fini(res);
	return OB_CODE_OK;
}

/* Copies a valid token into out (logging in if needed); 0 or a status code. */
static int current_token(ob_client *c, bool renew, int64_t timeout_ms, char *out, size_t n,
                         ob_result *res)
{
	pthread_mutex_lock(&c->mu);
	int code = OB_CODE_OK;
	if (renew || c->token_expires_ms == 0 || wall_ms() >= c->token_expires_ms) {
		c->token_expires_ms = 0;
		code = login(c, timeout_ms, res);
	}
	if (code == OB_CODE_OK)
		snprintf(out, n, "%s", c->token);
	pthread_mutex_unlock(&c->mu);
	return code;
}

int ob_client_call(ob_client *c, const char *method, const ob_metadata *md, size_t n_md,
                   const void *req, size_t req_len, int64_t timeout_ms, ob_result *res)
{
	if (!c->has_key)
		return call_once(c, method, md, n_md, req, req_len, timeout_ms, res);
	ob_metadata with[33];
	if (n_md > 31) {
		memset(res, 0, sizeof(*res));
		return local_failure(res, OB_CODE_INVALID_ARGUMENT, "at most 31 metadata entries");
	}
	if (n_md > 0)
		memcpy(with, md, n_md * sizeof(*md));
	char token[128];
	for (int attempt = 0; attempt < 2; attempt++) {
		memset(res, 0, sizeof(*res));
		int code = current_token(c, attempt > 0, timeout_ms, token, sizeof(token), res);
		if (code != OB_CODE_OK)
			return code; /* res says why the login failed */
		with[n_md] = (ob_metadata){"authorization", token};
		code = call_once(c, method, with, n_md + 1, req, req_len, timeout_ms, res);
		/* A token the server no longer takes (restart, reload): log in
		 * again once, then give the answer as it is. */
		if (code != OB_CODE_UNAUTHENTICATED || res->local || attempt > 0)
			break;
		ob_result_fini(res);
	}
	sodium_memzero(token, sizeof(token));
	return res->code;
}

int ob_client_call_message(ob_client *c, const char *method, const ob_metadata *md, size_t n_md,
                           const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
                           ProtobufCMessage **resp, int64_t timeout_ms, ob_result *res)
{
	*resp = NULL;
	size_t n = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(n > 0 ? n : 1);
	if (buf == NULL) {
		memset(res, 0, sizeof(*res));
		return local_failure(res, OB_CODE_RESOURCE_EXHAUSTED, "out of memory");
	}
	protobuf_c_message_pack(req, buf);
	int code = ob_client_call(c, method, md, n_md, buf, n, timeout_ms, res);
	free(buf);
	if (code != OB_CODE_OK)
		return code;
	*resp = protobuf_c_message_unpack(resp_desc, NULL, res->payload_len, res->payload);
	if (*resp == NULL)
		return local_failure(res, OB_CODE_INTERNAL, "the reply is not a valid %s",
		                     resp_desc->name);
	return OB_CODE_OK;
}

void ob_result_fini(ob_result *res)
{
	if (res == NULL)
		return;
	free(res->message);
	free(res->request_id);
	for (size_t i = 0; i < res->n_violations; i++) {
		free(res->violations[i].field);
		free(res->violations[i].description);
	}
	free(res->violations);
	free(res->payload);
	memset(res, 0, sizeof(*res));
}
