/*
 * onboard-fakesrv: a server that is not onboardd, for the client's tests.
 *
 * Usage: onboard-fakesrv [--uid UID] URL CODE
 *
 * Listens on URL with an nng REP socket and answers every request, whatever
 * it holds, with a Response envelope whose status code is CODE, any int32,
 * the contract's codes or not (-64, 17, 192...), the message "fake server:
 * status code CODE" and no payload. What a well-behaved onboardd never sends
 * and a client must survive. Prints "ready" on stdout once it listens, so
 * that a test waits for that line instead of sleeping. Runs until a signal
 * ends it or its parent dies (PR_SET_PDEATHSIG).
 *
 * With --uid (run as root), it becomes that user and group, with no
 * supplementary groups, before it listens: a server run by someone else,
 * for the client's check of who listens on an ipc socket. It changes user
 * itself, after exec, so that only root needs to reach the program.
 *
 * /work/shared/repro/codesrv.py does the same over tcp by hand; this one is
 * built with the tests so that CI needs nothing outside the tree.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "onboard/v1/rpc.pb-c.h"

/* strtol of a whole string into [min, max]. */
static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	long uid = -1;
	if (argc == 5 && strcmp(argv[1], "--uid") == 0) {
		if (!parse_long(argv[2], 0, INT32_MAX, &uid)) {
			fprintf(stderr, "onboard-fakesrv: --uid needs a uid, not '%s'\n", argv[2]);
			return 2;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: onboard-fakesrv [--uid UID] URL CODE\n");
		return 2;
	}
	if (uid >= 0 && (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 ||
	                 setuid((uid_t)uid) != 0 || getuid() != (uid_t)uid)) {
		fprintf(stderr, "onboard-fakesrv: cannot become uid %ld: %s\n", uid,
		        strerror(errno));
		return 1;
	}
	/* After the change of user, which clears the parent-death signal. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 1; /* the parent died before prctl */
	long code;
	if (!parse_long(argv[2], INT32_MIN, INT32_MAX, &code)) {
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
