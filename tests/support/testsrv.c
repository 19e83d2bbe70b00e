#include "testsrv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "onboard/v1/health.pb-c.h"
#include "testdata_pb.h"
#include "testutil.h"

enum {
	START_TIMEOUT_MS = 10000,
	POLL_MS = 20,
	STOP_TIMEOUT_MS = 60000, /* above onboardd's default --grace of 10 s */
};

/* Copies the server's log to stderr, for a failure's post-mortem. */
static void dump_log(const ob_testsrv *s, const char *why)
{
	fprintf(stderr, "testsrv: %s; onboardd's log (%s):\n", why, s->log);
	FILE *f = fopen(s->log, "r");
	if (f == NULL)
		return;
	char line[1024];
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "  | %s", line);
	fclose(f);
}

static void free_args(ob_testsrv *s)
{
	for (size_t i = 0; i < s->n_args; i++)
		free(s->args[i]);
	s->n_args = 0;
}

/* Reaps onboardd if it has exited; returns true with its status in *status. */
static bool reaped(ob_testsrv *s, int *status)
{
	int ws;
	pid_t r = waitpid(s->pid, &ws, WNOHANG);
	if (r == 0)
		return false;
	if (r < 0)
		*status = -1;
	else if (WIFEXITED(ws))
		*status = WEXITSTATUS(ws);
	else if (WIFSIGNALED(ws))
		*status = 128 + WTERMSIG(ws);
	else
		return false; /* stopped or continued: still there */
	s->pid = 0;
	return true;
}

/* Signals onboardd and waits for it; returns its status as ob_testsrv_stop(). */
static int terminate(ob_testsrv *s, int sig, int timeout_ms)
{
	ob_client_close(s->client);
	s->client = NULL;
	if (s->pid == 0)
		return -1;
	kill(s->pid, sig);
	int status = -1;
	int64_t end = ob_test_mono_ms() + timeout_ms;
	while (!reaped(s, &status)) {
		if (ob_test_mono_ms() > end) {
			fprintf(stderr, "testsrv: onboardd (pid %d) ignored signal %d for %d ms\n",
			        (int)s->pid, sig, timeout_ms);
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
			s->pid = 0;
			return -1;
		}
		ob_test_sleep_ms(5);
	}
	return status;
}

/* fork + exec onboardd with argv (argv[0] is its path), stdin from /dev/null and stdout and
 * stderr to log (opened with O_APPEND or O_TRUNC as log_flags says). Everything the child
 * needs is prepared before the fork, as the test process has threads (nng's). Returns the
 * child's pid, or -1 after saying why. */
static pid_t exec_onboardd(const char *const *argv, const char *log, int log_flags)
{
	int out = open(log, O_WRONLY | O_CREAT | O_CLOEXEC | log_flags, 0600);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (out < 0 || null < 0) {
		fprintf(stderr, "testsrv: cannot open %s: %s\n", log, strerror(errno));
		if (out >= 0)
			close(out);
		if (null >= 0)
			close(null);
		return -1;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls from here on. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(127);
		if (dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int fork_errno = errno;
	close(out);
	close(null);
	if (pid < 0)
		fprintf(stderr, "testsrv: fork: %s\n", strerror(fork_errno));
	return pid;
}

static const char *onboardd_path(void)
{
	const char *onboardd = getenv("ONBOARDD");
	if (onboardd == NULL || onboardd[0] == '\0') {
		fprintf(stderr, "testsrv: $ONBOARDD is not set (meson test sets it)\n");
		return NULL;
	}
	return onboardd;
}

/* exec_onboardd of $ONBOARDD with head[0..n_head), then args[0..n_args), as its arguments. */
static pid_t run_onboardd(const char *const *head, size_t n_head, const char *const *args,
                          size_t n_args, const char *log, int log_flags)
{
	const char *onboardd = onboardd_path();
	if (onboardd == NULL)
		return -1;
	const char *argv[OB_TESTSRV_MAX_ARGS + 10];
	if (n_head + n_args + 2 > sizeof(argv) / sizeof(argv[0])) {
		fprintf(stderr, "testsrv: more than %d arguments\n", OB_TESTSRV_MAX_ARGS);
		return -1;
	}
	size_t n = 0;
	argv[n++] = onboardd;
	for (size_t i = 0; i < n_head; i++)
		argv[n++] = head[i];
	for (size_t i = 0; i < n_args; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return exec_onboardd(argv, log, log_flags);
}

/* Whether the test gave onboardd the option flag ("--now") of its own. */
static bool gives(const ob_testsrv *s, const char *flag)
{
	size_t n = strlen(flag);
	for (size_t i = 0; i < s->n_args; i++)
		if (strncmp(s->args[i], flag, n) == 0 &&
		    (s->args[i][n] == '\0' || s->args[i][n] == '='))
			return true;
	return false;
}

static int spawn(ob_testsrv *s)
{
	/* The programme's clock in the lockdown, unless the test sets it (testsrv.h); the
	 * database the start chose, unless the test names one. */
	const char *head[9] = {"--listen", s->url, "--no-access-log"};
	size_t n_head = 3;
	if (!gives(s, "--db")) {
		head[n_head++] = "--db";
		head[n_head++] = s->db;
		if (s->pg.name[0] != '\0') {
			head[n_head++] = "--master-key";
			head[n_head++] = s->key;
		}
	}
	if (!gives(s, "--now")) {
		head[n_head++] = "--now";
		head[n_head++] = OB_TESTSRV_NOW;
	}
	pid_t pid = run_onboardd(head, n_head, (const char *const *)s->args, s->n_args, s->log,
	                         O_APPEND);
	if (pid < 0)
		return -1;
	s->pid = pid;
	return 0;
}

int ob_onboardd_run(const char *const *args, const char *log, int timeout_ms)
{
	size_t n = 0;
	while (args[n] != NULL) {
		if (++n > OB_TESTSRV_MAX_ARGS) {
			fprintf(stderr, "testsrv: more than %d arguments\n", OB_TESTSRV_MAX_ARGS);
			return -1;
		}
	}
	pid_t pid = run_onboardd(NULL, 0, args, n, log, O_TRUNC);
	if (pid < 0)
		return -1;
	int64_t end = ob_test_mono_ms() + timeout_ms;
	for (;;) {
		int ws;
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid)
			return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
		if (r < 0 && errno != EINTR)
			return -1;
		if (ob_test_mono_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		ob_test_sleep_ms(POLL_MS);
	}
}

int ob_testsrv_store_away(ob_testsrv *s, int away)
{
	if (s->pg.name[0] != '\0')
		return ob_test_pg_allow_connections(&s->pg, !away);
	char moved[sizeof(s->db) + 8];
	snprintf(moved, sizeof(moved), "%s.away", s->db);
	if (rename(away ? s->db : moved, away ? moved : s->db) != 0) {
		fprintf(stderr, "testsrv: cannot move %s: %s\n", away ? s->db : moved,
		        strerror(errno));
		return -1;
	}
	return 0;
}

int ob_testsrv_health(ob_testsrv *s, int timeout_ms)
{
	if (s->client == NULL)
		return -1;
	Onboard__V1__HealthCheckRequest rq = ONBOARD__V1__HEALTH_CHECK_REQUEST__INIT;
	Onboard__V1__HealthCheckResponse *rs = NULL;
	ob_result r;
	int code = ob_client_call_message(s->client, "/onboard.v1.Health/Check", NULL, 0, &rq.base,
	                                  &onboard__v1__health_check_response__descriptor,
	                                  (ProtobufCMessage **)&rs, timeout_ms, &r);
	ob_result_fini(&r);
	if (code != OB_CODE_OK)
		return -1;
	int status = (int)rs->status;
	protobuf_c_message_free_unpacked(&rs->base, NULL);
	return status;
}

int ob_testsrv_ok(int code, ob_result *r, const char *what)
{
	if (code != OB_CODE_OK)
		fprintf(stderr, "%s: %s: %s\n", what, ob_code_name(code), r->message);
	ob_result_fini(r);
	return code;
}

int ob_testsrv_submit(ob_client *cl, const td_company *c, const char *cohort, const char *key,
                      int timeout_ms, Onboard__V1__Application **out, ob_result *r)
{
	td_pb_submission s;
	td_pb_submission_make(&s, c, cohort);
	const ob_metadata md[] = {{"idempotency-key", key}};
	*out = NULL;
	return ob_client_call_message(
	        cl, "/onboard.v1.Onboarding/SubmitApplication", md, key != NULL ? 1 : 0, &s.rq.base,
	        &onboard__v1__application__descriptor, (ProtobufCMessage **)out, timeout_ms, r);
}

/* Connects s->client and polls health until SERVING, onboardd's death or
 * the start timeout. */
static int wait_serving(ob_testsrv *s)
{
	char err[256] = "";
	const char *urls[] = {s->url};
	ob_client_options opts = {.lazy_connect = true};
	if (ob_client_open(&s->client, urls, 1, &opts, err, sizeof(err)) != 0) {
		fprintf(stderr, "testsrv: cannot open a client for %s: %s\n", s->url, err);
		return -1;
	}
	int64_t end = ob_test_mono_ms() + START_TIMEOUT_MS;
	for (;;) {
		int status;
		if (reaped(s, &status)) {
			char why[96];
			snprintf(why, sizeof(why), "onboardd exited with status %d before serving",
			         status);
			dump_log(s, why);
			return -1;
		}
		if (ob_testsrv_health(s, 250) ==
		    ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
			return 0;
		if (ob_test_mono_ms() > end) {
			dump_log(s, "onboardd did not answer SERVING within 10 s");
			terminate(s, SIGKILL, STOP_TIMEOUT_MS);
			return -1;
		}
		ob_test_sleep_ms(POLL_MS);
	}
}

/* Appends copies of list (NULL-terminated; NULL for none) to s->args. Returns 0, or -1 (the
 * copies made so far stay for free_args). */
static int add_args(ob_testsrv *s, const char *const *list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		if (s->n_args == OB_TESTSRV_MAX_ARGS) {
			fprintf(stderr, "testsrv: more than %d extra arguments\n",
			        OB_TESTSRV_MAX_ARGS);
			return -1;
		}
		if ((s->args[s->n_args] = strdup(list[i])) == NULL)
			return -1;
		s->n_args++;
	}
	return 0;
}

/* The server's own PostgreSQL database (testsrv.h): made, its URL in s->db, and migrated by
 * `onboardd migrate`, which also makes the key file s->key that every start then reads. */
static int make_pg(ob_testsrv *s)
{
	if (ob_test_pg_create(&s->pg) != 0 || ob_test_pg_url(&s->pg, s->db, sizeof(s->db)) != 0)
		return -1;
	char log[320];
	snprintf(log, sizeof(log), "%s/migrate.log", s->dir);
	int status = ob_onboardd_run(
	        (const char *const[]){"migrate", "--db", s->db, "--master-key", s->key, NULL}, log,
	        START_TIMEOUT_MS);
	if (status != 0) {
		fprintf(stderr, "testsrv: onboardd migrate exited with status %d (%s)\n", status,
		        log);
		return -1;
	}
	return 0;
}

int ob_testsrv_start(ob_testsrv *s, const char *const *extra_args)
{
	return ob_testsrv_start_with(s, extra_args, NULL);
}

int ob_testsrv_start_with(ob_testsrv *s, const char *const *fixed, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	if (add_args(s, fixed) != 0 || add_args(s, extra) != 0) {
		free_args(s);
		return -1;
	}
	if (ob_test_mkdtemp(s->dir, sizeof(s->dir), "ob-test") != 0) {
		free_args(s);
		return -1;
	}
	snprintf(s->url, sizeof(s->url), "ipc://%s/onboardd.sock", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/onboardd.log", s->dir);
	snprintf(s->db, sizeof(s->db), "%s/onboard.db", s->dir);
	snprintf(s->key, sizeof(s->key), "%s/master.key", s->dir);
	if ((ob_test_pg_enabled() && !gives(s, "--db") && make_pg(s) != 0) || spawn(s) != 0 ||
	    wait_serving(s) != 0) {
		terminate(s, SIGKILL, STOP_TIMEOUT_MS);
		ob_test_pg_drop(&s->pg);
		ob_test_remove_tree(s->dir);
		free_args(s);
		s->dir[0] = '\0';
		return -1;
	}
	return 0;
}

int ob_testsrv_stop(ob_testsrv *s)
{
	int status = terminate(s, SIGTERM, STOP_TIMEOUT_MS);
	if (status != 0 && s->dir[0] != '\0') {
		char why[64];
		snprintf(why, sizeof(why), "onboardd stopped with status %d", status);
		dump_log(s, why);
	}
	const char *keep = getenv("ONBOARD_TEST_KEEP");
	if (s->dir[0] != '\0' && (keep == NULL || strcmp(keep, "1") != 0)) {
		ob_test_remove_tree(s->dir);
		ob_test_pg_drop(&s->pg);
	}
	free_args(s);
	s->dir[0] = '\0';
	return status;
}

void ob_testsrv_kill9(ob_testsrv *s)
{
	terminate(s, SIGKILL, STOP_TIMEOUT_MS);
}

int ob_testsrv_restart(ob_testsrv *s)
{
	if (s->pid != 0) {
		int status = terminate(s, SIGTERM, STOP_TIMEOUT_MS);
		if (status != 0) {
			char why[64];
			snprintf(why, sizeof(why), "onboardd stopped with status %d", status);
			dump_log(s, why);
			return -1;
		}
	}
	ob_client_close(s->client);
	s->client = NULL;
	if (spawn(s) != 0 || wait_serving(s) != 0) {
		terminate(s, SIGKILL, STOP_TIMEOUT_MS);
		return -1;
	}
	return 0;
}

int ob_testsrv_finish(ob_testsrv *s)
{
	if (s->pid == 0 && s->dir[0] == '\0')
		return 0; /* stopped already, by a test that said why if it had to */
	int status = ob_testsrv_stop(s);
	if (status != 0) {
		fprintf(stderr, "testsrv: onboardd exited with status %d after SIGTERM\n", status);
		return -1;
	}
	return 0;
}

ob_testsrv *ob_testsrv_create(const char *const *extra_args)
{
	ob_testsrv *s = malloc(sizeof(*s));
	if (s == NULL || ob_testsrv_start(s, extra_args) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

int ob_testsrv_destroy(ob_testsrv *s)
{
	if (s == NULL)
		return 0;
	int rc = ob_testsrv_finish(s);
	free(s);
	return rc;
}
