/*
 * onboard-load: a load generator for onboardd in the spirit of ghz (load.h says how a run
 * goes). main() only wires: the command line, the preparation, the engine, the progress
 * line, the report and the exit status.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "defaults.h"
#include "engine.h"
#include "load.h"
#include "report.h"
#include "requests.h"
#include "setup.h"

enum {
	EXIT_FAILED_CALLS = 1,
	EXIT_USAGE = 2,
	EXIT_NOT_STARTED = 3,
	RELOGIN_MS = 10 * 60 * 1000, /* session tokens last 15 minutes */
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
	signal(SIGINT, SIG_DFL); /* a second ^C ends the program at once */
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The progress line: how far, how fast over the last second, how many OK. On a terminal it
 * is rewritten in place; elsewhere (--progress into a file) it is one line a second. */
typedef struct progress {
	bool on, tty;
	int64_t last_ms;
	uint64_t last_calls;
} progress;

static void progress_show(progress *p, ob_load_engine *e, const ob_load_config *c)
{
	int64_t now = mono_ms();
	if (!p->on || now - p->last_ms < 1000)
		return;
	ob_load_progress pr;
	ob_load_engine_progress(e, &pr);
	double rate = (double)(pr.calls - p->last_calls) * 1000.0 / (double)(now - p->last_ms);
	p->last_ms = now;
	p->last_calls = pr.calls;
	char goal[64] = "";
	if (c->duration_ms > 0)
		snprintf(goal, sizeof(goal), " of %.0fs", (double)c->duration_ms / 1000.0);
	else if (c->total > 0)
		snprintf(goal, sizeof(goal), " of %" PRIu64, c->total);
	if (pr.seconds < 0)
		fprintf(stderr, "%swarming up, %.1fs to go%s", p->tty ? "\r" : "", -pr.seconds,
		        p->tty ? "\033[K" : "\n");
	else
		fprintf(stderr, "%s%6.1fs %" PRIu64 " calls%s  %.0f calls/s  OK %.1f%%%s",
		        p->tty ? "\r" : "", pr.seconds, pr.calls, goal, rate,
		        pr.calls > 0 ? 100.0 * (double)pr.ok / (double)pr.calls : 100.0,
		        p->tty ? "\033[K" : "\n");
}

/* Waits for the end of the run, showing progress, passing on ^C, logging in again when the
 * session token gets old. */
static void wait_run(ob_load_engine *e, ob_load_setup *s, ob_load_requests *rq,
                     const ob_load_config *c)
{
	progress p = {.on = c->progress == 1 || (c->progress == -1 && isatty(2)),
	              .tty = isatty(2),
	              .last_ms = mono_ms()};
	bool stopped = false;
	while (!ob_load_engine_wait(e, 100)) {
		if (interrupted && !stopped) {
			ob_load_engine_stop(e);
			stopped = true;
		}
		progress_show(&p, e, c);
		if (s->has_key && mono_ms() - s->token_ms > RELOGIN_MS) {
			char err[512];
			if (ob_load_setup_login(s, err, sizeof(err)) == 0)
				ob_load_requests_set_token(rq, s->token);
			else
				fprintf(stderr, "\nonboard-load: %s (the old token is kept)\n",
				        err);
			s->token_ms = mono_ms(); /* not again before another 10 minutes */
		}
	}
	if (p.on && p.tty)
		fputs("\r\033[K", stderr);
}

/*
 * A bound on the teardown. nng 1.5.2 (Debian 12's) can hang for good in nng_close() of a REQ
 * socket whose connections were closing at the same moment (its reap thread waits for a task
 * that never runs; nng issues #1543 and #1813, fixed in later releases): seen here when onboardd
 * was stopped with calls in flight and onboard-load was then interrupted, the main thread in
 * nng_close from ob_load_engine_destroy. The report is written and flushed by then, so once
 * the teardown has taken TEARDOWN_S seconds the process says so and exits with the run's
 * status instead of hanging.
 */
enum { TEARDOWN_S = 10 };
static int teardown_status;

static void *teardown_guard(void *arg)
{
	(void)arg;
	struct timespec left = {.tv_sec = TEARDOWN_S};
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
	static const char msg[] = "onboard-load: closing the connections did not end (nng 1.5.2); "
	                          "exiting without waiting\n";
	ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
	_exit(teardown_status);
}

/* Starts the guard for a teardown that ends the run with status rc; a guard that cannot start
 * leaves the teardown unbounded, as before. */
static void guard_teardown(int rc)
{
	teardown_status = rc;
	pthread_attr_t a;
	pthread_t t;
	if (pthread_attr_init(&a) != 0)
		return;
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, teardown_guard, NULL) != 0)
		fputs("onboard-load: no guard on the teardown\n", stderr);
	pthread_attr_destroy(&a);
}

/* The run itself, once the command line is read; returns the exit status. */
static int run(const ob_load_config *c, FILE *out)
{
	char err[1024] = "";
	ob_load_requests rq;
	ob_load_setup s = {0};
	ob_load_engine *e = NULL;
	ob_load_result *res = NULL;
	int rc = EXIT_NOT_STARTED;
	/* From the start, not once the run begins: a ^C while connecting or preparing (which can
	 * take seconds on a loaded machine) then ends the run as soon as it starts, with its
	 * report. Set later, a ^C before it would be lost where SIGINT is ignored (a command
	 * started with & by a script) and the run would go on for its whole --duration. */
	struct sigaction sa = {.sa_handler = on_interrupt};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	if (ob_load_requests_init(&rq, c, err, sizeof(err)) != 0 ||
	    ob_load_setup_open(&s, c, err, sizeof(err)) != 0)
		goto done;
	ob_load_requests_set_token(&rq, s.token);
	if (ob_load_setup_prepare(&s, &rq, err, sizeof(err)) != 0 ||
	    ob_load_engine_create(&e, c, &rq, err, sizeof(err)) != 0)
		goto done;
	if ((res = malloc(sizeof(*res))) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto done;
	}
	ob_load_engine_start(e);
	wait_run(e, &s, &rq, c);
	ob_load_result_init(res, c);
	res->cohort = c->weights[OB_LOAD_ECHO] > 0 ? NULL : s.cohort;
	res->cohort_created = s.cohort_created;
	ob_load_engine_result(e, res);
	if (ob_load_report(out, res, c->format) != 0 || fflush(out) != 0) {
		snprintf(err, sizeof(err), "cannot write the report: %s", strerror(errno));
		goto done;
	}
	rc = res->codes[0] == res->calls ? 0 : EXIT_FAILED_CALLS;
	err[0] = '\0';
done:
	if (err[0] != '\0')
		fprintf(stderr, "onboard-load: %s\n", err);
	free(res);
	if (e != NULL) {
		fflush(stdout);
		fflush(stderr);
		guard_teardown(rc);
	}
	ob_load_engine_destroy(e);
	ob_load_setup_close(&s);
	ob_load_requests_fini(&rq);
	return rc;
}

int main(int argc, char **argv)
{
	ob_load_config c;
	char err[1024];
	if (sodium_init() < 0) {
		fputs("onboard-load: libsodium cannot start\n", stderr);
		return EXIT_NOT_STARTED;
	}
	int rc = ob_load_parse(&c, argc, argv, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "onboard-load: %s\nTry 'onboard-load --help'.\n", err);
		ob_load_config_fini(&c);
		return EXIT_USAGE;
	}
	if (c.help || c.version) {
		if (c.help)
			ob_load_print_usage(stdout);
		else
			puts("onboard-load " OB_VERSION);
		ob_load_config_fini(&c);
		return 0;
	}
	static char default_url[512];
	if (c.n_servers == 0) {
		if (ob_default_server_check(err, sizeof(err)) != 0) {
			fprintf(stderr, "onboard-load: %s\n", err);
			ob_load_config_fini(&c);
			return EXIT_NOT_STARTED;
		}
		c.servers[c.n_servers++] = ob_default_server_url(default_url, sizeof(default_url));
	}
	FILE *out = stdout;
	if (c.output != NULL && (out = fopen(c.output, "w")) == NULL) {
		fprintf(stderr, "onboard-load: cannot write %s: %s\n", c.output, strerror(errno));
		ob_load_config_fini(&c);
		return EXIT_NOT_STARTED;
	}
	rc = run(&c, out);
	if (out != stdout && fclose(out) != 0 && rc == 0) {
		fprintf(stderr, "onboard-load: cannot write %s: %s\n", c.output, strerror(errno));
		rc = EXIT_NOT_STARTED;
	}
	ob_load_config_fini(&c);
	return rc;
}
