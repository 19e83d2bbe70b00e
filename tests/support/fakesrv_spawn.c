#include "fakesrv.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { READY_TIMEOUT_MS = 10000 };

int ob_fakesrv_start(ob_fakesrv *f, const char *url, int code, long uid)
{
	f->pid = 0;
	const char *prog = getenv("ONBOARD_FAKESRV");
	if (prog == NULL || prog[0] == '\0') {
		fprintf(stderr, "fakesrv: $ONBOARD_FAKESRV names no program\n");
		return -1;
	}
	int fds[2];
	if (pipe(fds) != 0) {
		perror("fakesrv: pipe");
		return -1;
	}
	char code_s[16], uid_s[24];
	snprintf(code_s, sizeof(code_s), "%d", code);
	snprintf(uid_s, sizeof(uid_s), "%ld", uid);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fakesrv: fork");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		if (uid >= 0)
			execl(prog, prog, "--uid", uid_s, url, code_s, (char *)NULL);
		else
			execl(prog, prog, url, code_s, (char *)NULL);
		fprintf(stderr, "fakesrv: cannot run %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	/* Wait for "ready", or for the end of the pipe if the server fails. */
	char buf[16];
	size_t got = 0;
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	while (got < 6) {
		int rv = poll(&p, 1, READY_TIMEOUT_MS);
		if (rv < 0 && errno == EINTR)
			continue;
		if (rv <= 0)
			break;
		ssize_t n = read(fds[0], buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	buf[got] = '\0';
	f->pid = pid;
	if (strncmp(buf, "ready\n", 6) != 0) {
		fprintf(stderr, "fakesrv: %s %s %s did not start\n", prog, url, code_s);
		ob_fakesrv_stop(f);
		return -1;
	}
	return 0;
}

void ob_fakesrv_stop(ob_fakesrv *f)
{
	if (f->pid <= 0)
		return;
	kill(f->pid, SIGKILL);
	while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
		;
	f->pid = 0;
}
