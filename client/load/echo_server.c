/*
 * onboard-echo: a raw nng REP server that returns every message as it came,
 * with the same async context pattern as onboardd but no envelope, no
 * decoding and no store: the transport's own limit, for benchmarks.
 * Usage: onboard-echo URL [CONTEXTS]; --help, --version.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "values.h"

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

static const char usage[] = "Usage: onboard-echo URL [CONTEXTS]\n"
                            "A raw nng REP server that sends every message back, with CONTEXTS\n"
                            "(1 to 4096, default 64) receives in flight; for onboard-load\n"
                            "--scenario echo. Stops on SIGTERM or SIGINT.\n";

int main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		puts("onboard-echo " OB_VERSION);
		return 0;
	}
	uint64_t contexts = 64;
	if (argc < 2 || argc > 3 || argv[1][0] == '-' ||
	    (argc == 3 && !cli_parse_u64(argv[2], 1, 4096, &contexts))) {
		fputs(usage, stderr);
		return 2;
	}
	int n = (int)contexts;
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
	/* The callbacks before the socket: one still inside nng_ctx_recv() or nng_ctx_send()
	 * when nng 1.5.2 closes the socket can find it freed (see ob_load_engine_destroy). */
	for (int i = 0; i < n; i++)
		nng_aio_stop(slots[i].aio);
	nng_close(sock);
	for (int i = 0; i < n; i++)
		nng_aio_free(slots[i].aio);
	free(slots);
	return 0;
}
