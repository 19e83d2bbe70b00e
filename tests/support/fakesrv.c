/*
 * onboard-fakesrv: a server that is not onboardd, for the client's tests.
 *
 * Usage: onboard-fakesrv URL CODE
 *
 * Listens on URL with an nng REP socket and answers every request, whatever
 * it holds, with a Response envelope whose status code is CODE, any int32,
 * the contract's codes or not (-64, 17, 192...), the message "fake server:
 * status code CODE" and no payload. What a well-behaved onboardd never sends
 * and a client must survive. Prints "ready" on stdout once it listens, so
 * that a test waits for that line instead of sleeping. Runs until a signal
 * ends it or its parent dies (PR_SET_PDEATHSIG, set after any change of user
 * made before exec, which clears it).
 *
 * /work/shared/repro/codesrv.py does the same over tcp by hand; this one is
 * built with the tests so that CI needs nothing outside the tree.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "onboard/v1/rpc.pb-c.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: onboard-fakesrv URL CODE\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 1; /* the parent died before prctl */
	char *end;
	errno = 0;
	long code = strtol(argv[2], &end, 10);
	if (errno != 0 || *end != '\0' || end == argv[2] || code < INT32_MIN || code > INT32_MAX) {
		fprintf(stderr, "onboard-fakesrv: CODE must be an int32, not '%s'\n", argv[2]);
		return 2;
	}
	char message[64];
	snprintf(message, sizeof(message), "fake server: status code %ld", code);
	Onboard__V1__Response rs = ONBOARD__V1__RESPONSE__INIT;
	/* protobuf-c packs the enum as the int it holds, in or out of range. */
	rs.code = (Onboard__V1__Code)code;
	rs.message = message;
	size_t len = onboard__v1__response__get_packed_size(&rs);

	nng_socket sock;
	int rv = nng_rep0_open(&sock);
	if (rv == 0)
		rv = nng_listen(sock, argv[1], NULL, 0);
	if (rv != 0) {
		fprintf(stderr, "onboard-fakesrv: cannot listen on %s: %s\n", argv[1],
		        nng_strerror(rv));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		nng_msg *msg;
		if ((rv = nng_recvmsg(sock, &msg, 0)) != 0) {
			fprintf(stderr, "onboard-fakesrv: receive: %s\n", nng_strerror(rv));
			break;
		}
		/* The same message goes back: nng keeps the REQ's routing header
		 * apart from the body, which becomes the reply. */
		if (nng_msg_realloc(msg, len) != 0) {
			nng_msg_free(msg);
			continue;
		}
		onboard__v1__response__pack(&rs, nng_msg_body(msg));
		if (nng_sendmsg(sock, msg, 0) != 0)
			nng_msg_free(msg);
	}
	nng_close(sock);
	return 1;
}
