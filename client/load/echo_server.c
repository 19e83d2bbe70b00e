/*
 * onboard-echo: a raw nng REP server that returns every message as it came,
 * with the same async context pattern as onboardd but no envelope, no
 * decoding and no store: the transport's own limit, for benchmarks.
 * Usage: onboard-echo URL [CONTEXTS]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

typedef struct {
	nng_aio *aio;
	nng_ctx ctx;
	int sending;
} slot;

static void done(void *arg)
{
	slot *s = arg;
	int rv = nng_aio_result(s->aio);
	if (rv == NNG_ECLOSED)
		return;
	if (s->sending) {
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(s->aio));
		s->sending = 0;
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	if (rv != 0) {
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	s->sending = 1;
	nng_ctx_send(s->ctx, s->aio); /* the received message goes back as it is */
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: onboard-echo URL [CONTEXTS]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 64;
	nng_socket sock;
	if (nng_rep0_open(&sock) != 0 || nng_listen(sock, argv[1], NULL, 0) != 0) {
		fprintf(stderr, "onboard-echo: cannot listen on %s\n", argv[1]);
		return 1;
	}
	slot *slots = calloc((size_t)n, sizeof(*slots));
	for (int i = 0; i < n; i++) {
		if (nng_ctx_open(&slots[i].ctx, sock) != 0 ||
		    nng_aio_alloc(&slots[i].aio, done, &slots[i]) != 0)
			return 1;
		nng_ctx_recv(slots[i].ctx, slots[i].aio);
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	int sig;
	sigwait(&set, &sig);
	nng_close(sock);
	for (int i = 0; i < n; i++)
		nng_aio_free(slots[i].aio);
	free(slots);
	return 0;
}
