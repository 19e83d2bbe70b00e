#include "rpc/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "base/clock.h"
#include "base/log.h"
#include "rpc/status.h"

enum { SLOT_RECV, SLOT_WORK, SLOT_SEND };

/* The request id of the listener watchdog's probes (below), which are not logged. */
static const char watchdog_id[] = "onboardd-watchdog";

typedef struct slot {
	struct ob_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	int state;
	nng_msg *msg;
	int64_t arrived_us;
	struct slot *next; /* work queue link */
} slot;

/* One live connection, for the caps and the idle reaper. */
typedef struct {
	uint32_t id; /* nng pipe id; 0 = empty */
	bool counted_per_peer;
	uint8_t addr[16]; /* remote IP for tcp/tls, zero otherwise */
	int64_t last_active_ms;
	/* Who is at the other end, worked out once when the pipe arrives
	 * rather than on every call (each is a lookup and a getsockopt). */
	char peer[80];
	char host[64];
	int64_t uid;
} conn;

static void describe_peer(nng_pipe p, char *out, size_t n, char *host, size_t hn, int64_t *uid);

struct ob_server {
	ob_server_config cfg;
	const ob_dispatch *dispatch;
	void *env;
	nng_socket sock;
	bool sock_open;
	nng_listener *listeners;
	size_t n_listeners;
	nng_tls_config *tls;

	slot *slots;
	unsigned n_slots;

	pthread_mutex_t mu; /* guards the queue, inflight, stopping */
	pthread_cond_t work_cv;
	pthread_cond_t idle_cv;   /* inflight reached 0 */
	pthread_cond_t reaper_cv; /* the reaper should stop */
	slot *head, *tail;
	unsigned inflight;
	bool stopping;
	atomic_bool draining;
	pthread_t *workers;
	unsigned n_workers;

	pthread_mutex_t conn_mu; /* guards conns */
	conn *conns;             /* open addressing by pipe id, backward-shift deletion */
	size_t conn_mask;
	unsigned n_conns;
	pthread_t reaper;
	bool reaper_started;
	pthread_t watchdog;
	bool watchdog_started;
};

void ob_server_config_defaults(ob_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ipc_mode = 0600;
	cfg->contexts = 64;
	cfg->workers = 32;
	cfg->max_request_bytes = OB_DEFAULT_MAX_REQUEST_BYTES;
	cfg->max_connections = 1024;
	cfg->max_connections_per_peer = 64;
	cfg->idle_timeout_ms = 300 * 1000;
}

static ob_err from_nng(int rv)
{
	switch (rv) {
	case 0:
		return OB_OK;
	case NNG_ENOMEM:
		return OB_ENOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return OB_EINVAL;
	case NNG_ETIMEDOUT:
		return OB_ETIMEDOUT;
	case NNG_ECLOSED:
		return OB_EUNAVAIL;
	case NNG_EPERM:
		return OB_EPERM;
	default:
		return OB_EIO;
	}
}

/* ---- connections ---------------------------------------------------- */

static size_t home(const ob_server *s, uint32_t id)
{
	return (size_t)(id * 2654435761u) & s->conn_mask;
}

static conn *conn_find(ob_server *s, uint32_t id)
{
	for (size_t i = home(s, id);; i = (i + 1) & s->conn_mask) {
		if (s->conns[i].id == id)
			return &s->conns[i];
		if (s->conns[i].id == 0)
			return NULL;
	}
}

static void conn_remove(ob_server *s, uint32_t id)
{
	conn *c = conn_find(s, id);
	if (c == NULL)
		return;
	size_t i = (size_t)(c - s->conns);
	s->conns[i].id = 0;
	s->n_conns--;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	for (size_t j = (i + 1) & s->conn_mask; s->conns[j].id != 0; j = (j + 1) & s->conn_mask) {
		size_t k = home(s, s->conns[j].id);
		bool move = (j > i) ? (k <= i || k > j) : (k <= i && k > j);
		if (move) {
			s->conns[i] = s->conns[j];
			s->conns[j].id = 0;
			i = j;
		}
	}
}

static bool remote_ip(nng_pipe p, uint8_t out[16])
{
	nng_sockaddr sa;
	memset(out, 0, 16);
	if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0)
		return false;
	if (sa.s_family == NNG_AF_INET) {
		memcpy(out + 12, &sa.s_in.sa_addr, 4);
		out[10] = out[11] = 0xFF; /* v4-mapped */
		return true;
	}
	if (sa.s_family == NNG_AF_INET6) {
		memcpy(out, sa.s_in6.sa_addr, 16);
		return true;
	}
	return false;
}

static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	ob_server *s = arg;
	uint32_t id = (uint32_t)nng_pipe_id(p);
	if (ev == NNG_PIPE_EV_REM_POST) {
		pthread_mutex_lock(&s->conn_mu);
		conn_remove(s, id);
		pthread_mutex_unlock(&s->conn_mu);
		return;
	}
	if (ev != NNG_PIPE_EV_ADD_PRE)
		return;
	uint8_t ip[16];
	bool is_ip = remote_ip(p, ip);
	char peer[80], host[64];
	int64_t uid;
	describe_peer(p, peer, sizeof(peer), host, sizeof(host), &uid);
	const char *refuse = NULL;
	pthread_mutex_lock(&s->conn_mu);
	if (atomic_load(&s->draining)) {
		refuse = "draining";
	} else if (s->n_conns >= s->cfg.max_connections) {
		refuse = "connection limit reached";
	} else if (is_ip) {
		unsigned same = 0;
		for (size_t i = 0; i <= s->conn_mask; i++)
			if (s->conns[i].id != 0 && s->conns[i].counted_per_peer &&
			    memcmp(s->conns[i].addr, ip, 16) == 0)
				same++;
		if (same >= s->cfg.max_connections_per_peer)
			refuse = "per-peer connection limit reached";
	}
	if (refuse == NULL) {
		size_t i = home(s, id);
		while (s->conns[i].id != 0)
			i = (i + 1) & s->conn_mask;
		s->conns[i] = (conn){.id = id, .counted_per_peer = is_ip, .last_active_ms = 0};
		memcpy(s->conns[i].addr, ip, 16);
		memcpy(s->conns[i].peer, peer, sizeof(peer));
		memcpy(s->conns[i].host, host, sizeof(host));
		s->conns[i].uid = uid;
		s->conns[i].last_active_ms = ob_clock_mono_us() / 1000;
		s->n_conns++;
	}
	pthread_mutex_unlock(&s->conn_mu);
	if (refuse != NULL) {
		if (!atomic_load(&s->draining))
			ob_log(OB_LOG_WARN, "refused a connection: %s", refuse);
		nng_pipe_close(p); /* at ADD_PRE the socket never sees the pipe */
	}
}

static void touch(ob_server *s, nng_pipe p)
{
	uint32_t id = (uint32_t)nng_pipe_id(p);
	pthread_mutex_lock(&s->conn_mu);
	conn *c = conn_find(s, id);
	if (c != NULL)
		c->last_active_ms = ob_clock_mono_us() / 1000;
	pthread_mutex_unlock(&s->conn_mu);
}

static void *reaper_main(void *arg)
{
	ob_server *s = arg;
	int64_t period = s->cfg.idle_timeout_ms / 4;
	if (period < 50)
		period = 50;
	if (period > 1000)
		period = 1000;
	uint32_t *victims = malloc(sizeof(*victims) * (s->conn_mask + 1));
	pthread_mutex_lock(&s->mu);
	while (!s->stopping && victims != NULL) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += period / 1000;
		ts.tv_nsec += (long)(period % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->reaper_cv, &s->mu, &ts);
		if (s->stopping)
			break;
		pthread_mutex_unlock(&s->mu);

		size_t n = 0;
		int64_t now = ob_clock_mono_us() / 1000;
		pthread_mutex_lock(&s->conn_mu);
		for (size_t i = 0; i <= s->conn_mask; i++)
			if (s->conns[i].id != 0 &&
			    now - s->conns[i].last_active_ms > s->cfg.idle_timeout_ms)
				victims[n++] = s->conns[i].id;
		pthread_mutex_unlock(&s->conn_mu);
		for (size_t i = 0; i < n; i++) {
			nng_pipe p;
			if (nng_pipe_id(p = (nng_pipe){.id = victims[i]}) > 0)
				nng_pipe_close(p);
		}
		if (n > 0)
			ob_log(OB_LOG_INFO, "closed %zu idle connection(s)", n);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	free(victims);
	return NULL;
}

/* ---- the request path ----------------------------------------------- */

static void recv_next(slot *sl)
{
	sl->state = SLOT_RECV;
	nng_ctx_recv(sl->ctx, sl->aio);
}

static void aio_done(void *arg)
{
	slot *sl = arg;
	ob_server *s = sl->srv;
	int rv = nng_aio_result(sl->aio);
	if (sl->state == SLOT_SEND) {
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(sl->aio));
		pthread_mutex_lock(&s->mu);
		bool stop = s->stopping;
		if (--s->inflight == 0)
			pthread_cond_broadcast(&s->idle_cv);
		pthread_mutex_unlock(&s->mu);
		if (!stop && rv != NNG_ECLOSED)
			recv_next(sl);
		return;
	}
	/* SLOT_RECV */
	if (rv == NNG_ECLOSED)
		return;
	if (rv != 0) {
		/* e.g. a connection dropped under us: keep receiving */
		recv_next(sl);
		return;
	}
	sl->msg = nng_aio_get_msg(sl->aio);
	sl->arrived_us = ob_clock_mono_us();
	touch(s, nng_msg_get_pipe(sl->msg));
	sl->state = SLOT_WORK;
	sl->next = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->stopping) {
		/* Closing: take no more work, so that the workers can finish. */
		pthread_mutex_unlock(&s->mu);
		nng_msg_free(sl->msg);
		sl->msg = NULL;
		return;
	}
	s->inflight++;
	if (s->tail != NULL)
		s->tail->next = sl;
	else
		s->head = sl;
	s->tail = sl;
	pthread_cond_signal(&s->work_cv);
	pthread_mutex_unlock(&s->mu);
}

/* The peer for the log ("127.0.0.1:5123", "ipc:pid=42"), its host for
 * per-address limits, and its uid when it is on the ipc socket. */
static void describe_peer(nng_pipe p, char *out, size_t n, char *host, size_t hn, int64_t *uid)
{
	nng_sockaddr sa;
	*uid = -1;
	if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0) {
		snprintf(out, n, "-");
		snprintf(host, hn, "-");
		return;
	}
	char ip[INET6_ADDRSTRLEN];
	switch (sa.s_family) {
	case NNG_AF_INET:
		inet_ntop(AF_INET, &sa.s_in.sa_addr, ip, sizeof(ip));
		snprintf(out, n, "%s:%u", ip, ntohs(sa.s_in.sa_port));
		snprintf(host, hn, "%s", ip);
		break;
	case NNG_AF_INET6:
		inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof(ip));
		snprintf(out, n, "[%s]:%u", ip, ntohs(sa.s_in6.sa_port));
		snprintf(host, hn, "%s", ip);
		break;
	case NNG_AF_IPC: {
		uint64_t u = 0, pid = 0;
		if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &u) == 0)
			*uid = (int64_t)u;
		if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &pid) == 0)
			snprintf(out, n, "ipc:pid=%llu", (unsigned long long)pid);
		else
			snprintf(out, n, "ipc");
		snprintf(host, hn, "ipc");
		break;
	}
	default:
		snprintf(out, n, "pipe:%d", nng_pipe_id(p));
		snprintf(host, hn, "pipe");
	}
}

static void serve(ob_server *s, ob_call *call, slot *sl)
{
	nng_msg *msg = sl->msg;
	char peer[80], host[64];
	int64_t uid = -1;
	nng_pipe p = nng_msg_get_pipe(msg);
	bool known = false;
	pthread_mutex_lock(&s->conn_mu);
	const conn *c = conn_find(s, (uint32_t)nng_pipe_id(p));
	if (c != NULL) {
		memcpy(peer, c->peer, sizeof(peer));
		memcpy(host, c->host, sizeof(host));
		uid = c->uid;
		known = true;
	}
	pthread_mutex_unlock(&s->conn_mu);
	if (!known) /* the pipe is gone already, or was never counted */
		describe_peer(p, peer, sizeof(peer), host, sizeof(host), &uid);
	ob_call_reset(call);
	call->peer = peer;
	call->peer_host = host;
	call->peer_uid = uid;
	call->arrived_us = sl->arrived_us;
	call->draining = atomic_load(&s->draining);

	Onboard__V1__Response *rs =
	        ob_dispatch_handle(s->dispatch, call, nng_msg_body(msg), nng_msg_len(msg));
	size_t n = protobuf_c_message_get_packed_size(&rs->base);
	nng_msg_clear(msg);
	if (nng_msg_realloc(msg, n) != 0) {
		/* No memory for the reply: the caller will time out and retry. */
		nng_msg_free(msg);
		sl->msg = NULL;
		pthread_mutex_lock(&s->mu);
		if (--s->inflight == 0)
			pthread_cond_broadcast(&s->idle_cv);
		pthread_mutex_unlock(&s->mu);
		recv_next(sl); /* fails with NNG_ECLOSED once the socket is closed */
		return;
	}
	protobuf_c_message_pack(&rs->base, nng_msg_body(msg));

	bool probe = call->request_id != NULL && strcmp(call->request_id, watchdog_id) == 0 &&
	             call->peer_uid == (int64_t)geteuid();
	if (!probe)
		ob_log_access(&(ob_access_entry){
		        .method = call->method,
		        .status = ob_status_name(rs->code),
		        .latency_us = ob_clock_mono_us() - sl->arrived_us,
		        .request_id = call->request_id,
		        .peer = peer,
		});
	sl->msg = NULL;
	sl->state = SLOT_SEND;
	nng_aio_set_msg(sl->aio, msg);
	nng_ctx_send(sl->ctx, sl->aio);
}

static void *worker_main(void *arg)
{
	ob_server *s = arg;
	ob_call call;
	ob_call_init(&call, s->env, s->cfg.max_request_bytes);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->head == NULL && !s->stopping)
			pthread_cond_wait(&s->work_cv, &s->mu);
		if (s->head == NULL)
			break; /* stopping, and nothing left */
		slot *sl = s->head;
		s->head = sl->next;
		if (s->head == NULL)
			s->tail = NULL;
		pthread_mutex_unlock(&s->mu);
		serve(s, &call, sl);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	ob_call_fini(&call);
	return NULL;
}

/* ---- listeners ------------------------------------------------------ */

/* Reads a whole PEM file. Unbuffered, and every buffer given up is wiped
 * first: a private key leaves no copy behind in freed memory. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	setvbuf(f, NULL, _IONBF, 0);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			size_t ncap = cap * 2 + 8192;
			char *g = malloc(ncap);
			if (g == NULL)
				break;
			if (buf != NULL) {
				memcpy(g, buf, len);
				memset(buf, 0, cap);
				free(buf);
			}
			buf = g;
			cap = ncap;
		}
		size_t r = fread(buf + len, 1, 4096, f);
		len += r;
		if (r == 0)
			break;
	}
	fclose(f);
	if (buf != NULL)
		buf[len] = '\0';
	return buf;
}

static ob_err setup_tls(ob_server *s)
{
	const ob_server_config *c = &s->cfg;
	if (c->tls_cert == NULL || c->tls_key == NULL) {
		ob_log(OB_LOG_ERROR, "tls+tcp:// needs --tls-cert and --tls-key");
		return OB_EINVAL;
	}
	char *cert = read_file(c->tls_cert), *key = read_file(c->tls_key), *ca = NULL;
	ob_err err = OB_OK;
	if (cert == NULL || key == NULL) {
		ob_log(OB_LOG_ERROR, "cannot read the TLS certificate or key file");
		err = OB_EIO;
		goto out;
	}
	int rv = nng_tls_config_alloc(&s->tls, NNG_TLS_MODE_SERVER);
	if (rv == 0)
		rv = nng_tls_config_own_cert(s->tls, cert, key, NULL);
	if (rv == 0 && c->tls_ca != NULL) {
		if ((ca = read_file(c->tls_ca)) == NULL) {
			ob_log(OB_LOG_ERROR, "cannot read the TLS CA file %s", c->tls_ca);
			err = OB_EIO;
			goto out;
		}
		rv = nng_tls_config_ca_chain(s->tls, ca, NULL);
		if (rv == 0)
			rv = nng_tls_config_auth_mode(s->tls, NNG_TLS_AUTH_MODE_REQUIRED);
	} else if (rv == 0) {
		rv = nng_tls_config_auth_mode(s->tls, NNG_TLS_AUTH_MODE_NONE);
	}
	if (rv != 0) {
		ob_log(OB_LOG_ERROR, "TLS configuration failed: %s", nng_strerror(rv));
		err = from_nng(rv);
	}
out:
	if (key != NULL) {
		memset(key, 0, strlen(key)); /* the private key does not linger */
		free(key);
	}
	free(cert);
	free(ca);
	return err;
}

static int mkdir_parents(const char *path)
{
	char buf[512];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return ENAMETOOLONG;
	char *slash = strrchr(buf, '/');
	if (slash == NULL || slash == buf)
		return 0;
	*slash = '\0';
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return errno;
	return 0;
}

static bool is_loopback_tcp(const char *url)
{
	const char *host = strstr(url, "://");
	host = host != NULL ? host + 3 : url;
	return strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost:", 10) == 0 ||
	       strncmp(host, "[::1]:", 6) == 0;
}

static ob_err start_listener(ob_server *s, const char *url, nng_listener *l)
{
	bool ipc = strncmp(url, "ipc://", 6) == 0;
	bool tls = strncmp(url, "tls+tcp://", 10) == 0;
	bool tcp = strncmp(url, "tcp://", 6) == 0 || strncmp(url, "tcp4://", 7) == 0 ||
	           strncmp(url, "tcp6://", 7) == 0;
	if (!ipc && !tls && !tcp) {
		ob_log(OB_LOG_ERROR, "cannot listen on %s: use ipc://, tcp:// or tls+tcp://", url);
		return OB_EINVAL;
	}
	if (ipc) {
		int e = mkdir_parents(url + 6);
		if (e != 0) {
			ob_log(OB_LOG_ERROR, "cannot create the directory of %s: %s", url,
			       strerror(e));
			return OB_EIO;
		}
	}
	if (tls && s->tls == NULL) {
		ob_err err = setup_tls(s);
		if (err != OB_OK)
			return err;
	}
	int rv = nng_listener_create(l, s->sock, url);
	if (rv == 0 && ipc)
		rv = nng_listener_set_int(*l, NNG_OPT_IPC_PERMISSIONS, (int)s->cfg.ipc_mode);
	if (rv == 0 && tls)
		rv = nng_listener_set_ptr(*l, NNG_OPT_TLS_CONFIG, s->tls);
	if (rv == 0 && (tcp || tls))
		rv = nng_listener_set_bool(*l, NNG_OPT_TCP_NODELAY, true);
	if (rv == 0)
		rv = nng_listener_start(*l, 0);
	if (rv != 0) {
		ob_log(OB_LOG_ERROR, "cannot listen on %s: %s", url, nng_strerror(rv));
		return from_nng(rv);
	}
	if (tcp && !is_loopback_tcp(url))
		ob_log(OB_LOG_WARN,
		       "listening on %s without TLS: traffic, including personal data, is in clear "
		       "text; use tls+tcp:// off this host",
		       url);
	ob_log(OB_LOG_INFO, "listening on %s", url);
	return OB_OK;
}

/* ---- the ipc listener watchdog --------------------------------------- */

/*
 * nng 1.5.2 (Debian 12's) can leave an ipc listener accepting connections
 * that it never negotiates, for good: nng issue #1518 ("disconnect during
 * negotiation breaks listener"), fixed in later nng. We saw it when clients
 * connect while the listener starts: the service then looks up but answers
 * nobody on that socket. So every WATCHDOG_PERIOD_MS a probe calls
 * Health/Check through each ipc listener, and a listener that does not
 * answer is closed and made again.
 */
enum { WATCHDOG_PERIOD_MS = 2000, WATCHDOG_TIMEOUT_MS = 2000, WATCHDOG_MISSES = 2 };

static bool probe_answers(const char *url)
{
	nng_socket sock;
	if (nng_req0_open(&sock) != 0)
		return true; /* cannot tell; leave the listener alone */
	nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, WATCHDOG_TIMEOUT_MS);
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, WATCHDOG_TIMEOUT_MS);
	bool ok = false;
	if (nng_dial(sock, url, NULL, 0) == 0) {
		Onboard__V1__MetadataEntry id = ONBOARD__V1__METADATA_ENTRY__INIT;
		id.key = (char *)"request-id";
		id.value = (char *)watchdog_id;
		Onboard__V1__MetadataEntry *md[] = {&id};
		Onboard__V1__Request rq = ONBOARD__V1__REQUEST__INIT;
		rq.version = OB_ENVELOPE_VERSION;
		rq.method = (char *)"/onboard.v1.Health/Check";
		rq.metadata = md;
		rq.n_metadata = 1;
		rq.timeout_ms = WATCHDOG_TIMEOUT_MS;
		uint8_t buf[256];
		size_t n = onboard__v1__request__pack(&rq, buf);
		void *reply = NULL;
		size_t len = 0;
		ok = nng_send(sock, buf, n, 0) == 0 &&
		     nng_recv(sock, &reply, &len, NNG_FLAG_ALLOC) == 0;
		if (reply != NULL)
			nng_free(reply, len);
	}
	nng_close(sock);
	return ok;
}

static void *watchdog_main(void *arg)
{
	ob_server *s = arg;
	/* Two probes in a row must go unanswered: one slow answer under a burst
	 * is no reason to drop every connection of a listener. */
	unsigned misses[16] = {0};
	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += WATCHDOG_PERIOD_MS / 1000;
		pthread_cond_timedwait(&s->reaper_cv, &s->mu, &ts);
		if (s->stopping)
			break;
		pthread_mutex_unlock(&s->mu);
		for (size_t i = 0; i < s->n_listeners && i < 16 && !atomic_load(&s->draining);
		     i++) {
			const char *url = s->cfg.listen[i];
			if (strncmp(url, "ipc://", 6) != 0)
				continue;
			if (probe_answers(url) || atomic_load(&s->draining)) {
				misses[i] = 0;
				continue;
			}
			if (++misses[i] < WATCHDOG_MISSES)
				continue;
			misses[i] = 0;
			ob_log(OB_LOG_WARN,
			       "the listener on %s stopped answering (nng 1.5.2 issue #1518); "
			       "making it again",
			       url);
			nng_listener_close(s->listeners[i]);
			nng_listener l;
			if (start_listener(s, url, &l) == OB_OK)
				s->listeners[i] = l;
		}
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------ */

ob_err ob_server_start(ob_server **out, const ob_server_config *cfg, const ob_dispatch *d,
                       void *env)
{
	*out = NULL;
	ob_server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return OB_ENOMEM;
	s->cfg = *cfg;
	s->dispatch = d;
	s->env = env;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->conn_mu, NULL);
	pthread_cond_init(&s->work_cv, NULL);
	pthread_cond_init(&s->idle_cv, NULL);
	pthread_cond_init(&s->reaper_cv, NULL);
	atomic_init(&s->draining, false);
	ob_err err = OB_ENOMEM;

	size_t cap = 16;
	while (cap < 2 * (size_t)cfg->max_connections + 1)
		cap *= 2;
	s->conn_mask = cap - 1;
	s->conns = calloc(cap, sizeof(*s->conns));
	s->slots = calloc(cfg->contexts, sizeof(*s->slots));
	s->workers = calloc(cfg->workers, sizeof(*s->workers));
	s->listeners = calloc(cfg->n_listen, sizeof(*s->listeners));
	if (s->conns == NULL || s->slots == NULL || s->workers == NULL ||
	    (s->listeners == NULL && cfg->n_listen > 0))
		goto fail;

	int rv = nng_rep0_open(&s->sock);
	if (rv != 0) {
		err = from_nng(rv);
		goto fail;
	}
	s->sock_open = true;
	/* Above the application cap, so that a request somewhat over it gets a
	 * RESOURCE_EXHAUSTED reply instead of a silently dropped connection. */
	size_t transport_cap = 4 * cfg->max_request_bytes + 4096;
	if ((rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, transport_cap)) != 0 ||
	    (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_PRE, pipe_event, s)) != 0 ||
	    (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, pipe_event, s)) != 0) {
		err = from_nng(rv);
		goto fail;
	}

	for (unsigned i = 0; i < cfg->workers; i++) {
		if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0)
			goto fail;
		s->n_workers++;
	}
	if (cfg->idle_timeout_ms > 0) {
		if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0)
			goto fail;
		s->reaper_started = true;
	}
	for (unsigned i = 0; i < cfg->contexts; i++) {
		slot *sl = &s->slots[i];
		sl->srv = s;
		if ((rv = nng_ctx_open(&sl->ctx, s->sock)) != 0 ||
		    (rv = nng_aio_alloc(&sl->aio, aio_done, sl)) != 0) {
			err = from_nng(rv);
			goto fail;
		}
		s->n_slots++;
	}
	/* Every context receives before the first connection can arrive. */
	for (unsigned i = 0; i < s->n_slots; i++)
		recv_next(&s->slots[i]);
	bool any_ipc = false;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		if ((err = start_listener(s, cfg->listen[i], &s->listeners[i])) != OB_OK)
			goto fail;
		s->n_listeners++;
		any_ipc |= strncmp(cfg->listen[i], "ipc://", 6) == 0;
	}
	if (any_ipc && pthread_create(&s->watchdog, NULL, watchdog_main, s) == 0)
		s->watchdog_started = true;
	*out = s;
	return OB_OK;
fail:
	ob_server_destroy(s);
	return err;
}

unsigned ob_server_drain(ob_server *s, int64_t grace_ms)
{
	atomic_store(&s->draining, true);
	int64_t end = ob_clock_mono_us() + grace_ms * 1000;
	pthread_mutex_lock(&s->mu);
	while (s->inflight > 0) {
		int64_t left = end - ob_clock_mono_us();
		if (left <= 0)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t wait_us = left < 100000 ? left : 100000;
		ts.tv_nsec += (long)(wait_us * 1000);
		while (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->idle_cv, &s->mu, &ts);
	}
	unsigned left = s->inflight;
	pthread_mutex_unlock(&s->mu);
	return left;
}

void ob_server_destroy(ob_server *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->work_cv);
	pthread_cond_broadcast(&s->idle_cv);
	pthread_cond_broadcast(&s->reaper_cv);
	pthread_mutex_unlock(&s->mu);
	/* Workers first: one may still be inside nng_ctx_send() for a call
	 * whose completion already counted it out of inflight; closing the
	 * socket under it would crash nng. */
	for (unsigned i = 0; i < s->n_workers; i++)
		pthread_join(s->workers[i], NULL);
	if (s->sock_open)
		nng_close(s->sock); /* aborts every aio with NNG_ECLOSED */
	if (s->reaper_started)
		pthread_join(s->reaper, NULL);
	if (s->watchdog_started)
		pthread_join(s->watchdog, NULL);
	for (unsigned i = 0; i < s->n_slots; i++) {
		nng_aio_free(s->slots[i].aio);
		if (s->slots[i].msg != NULL)
			nng_msg_free(s->slots[i].msg);
	}
	if (s->tls != NULL)
		nng_tls_config_free(s->tls);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->conn_mu);
	pthread_cond_destroy(&s->work_cv);
	pthread_cond_destroy(&s->idle_cv);
	pthread_cond_destroy(&s->reaper_cv);
	free(s->conns);
	free(s->slots);
	free(s->workers);
	free(s->listeners);
	free(s);
}
