/*
 * sd_notify's protocol in a few lines (notify.h), and the watchdog thread.
 */
#include "base/notify.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

bool ob_notify_enabled(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	return path != NULL && path[0] != '\0';
}

ob_err ob_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (path == NULL || path[0] == '\0')
		return OB_OK;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	/* An absolute path, or '@' for the abstract namespace: anything else
	 * (a relative path, vsock:...) is not a socket of ours to write to. */
	if ((path[0] != '/' && path[0] != '@') || len < 2 || len > sizeof(sa.sun_path) - 1)
		return OB_EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	/* An abstract name is exactly len bytes long; a path ends at its NUL. */
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	                              (path[0] == '@' ? 0 : 1));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ob_err_from_errno(errno);
	ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT,
	                   (const struct sockaddr *)&sa, salen);
	ob_err err = n == (ssize_t)strlen(state) ? OB_OK : ob_err_from_errno(n < 0 ? errno : EIO);
	close(fd);
	return err;
}

int64_t ob_notify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	if (usec == NULL || usec[0] < '0' || usec[0] > '9')
		return 0;
	/* The watchdog is meant for the process systemd started; a child that
	 * inherited the environment must not ping for it. */
	if (pid != NULL && pid[0] != '\0' && strtoll(pid, NULL, 10) != (long long)getpid())
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(usec, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || v > 86400LL * 1000000)
		return 0;
	return (int64_t)v;
}

/* ---- the watchdog thread ---------------------------------------------- */

struct ob_watchdog {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC: stop, or the next ping */
	bool stop;
	int64_t period_us;
	ob_watchdog_alive_fn alive;
	void *ctx;
};

static void *watchdog_main(void *arg)
{
	ob_watchdog *w = arg;
	bool was_alive = true;
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		pthread_mutex_unlock(&w->mu);
		bool alive = w->alive(w->ctx);
		if (alive) {
			ob_err err = ob_notify("WATCHDOG=1");
			if (err != OB_OK)
				ob_log(OB_LOG_WARN, "watchdog: cannot notify systemd: %s",
				       ob_strerror(err));
		}
		if (alive != was_alive)
			ob_log(alive ? OB_LOG_INFO : OB_LOG_ERROR,
			       alive ? "watchdog: the service works again; pinging systemd"
			             : "watchdog: the service does not work (store or workers "
			               "stuck): no ping, systemd restarts it unless it recovers");
		was_alive = alive;

		struct timespec ts = ob_clock_mono_after(w->period_us);
		pthread_mutex_lock(&w->mu);
		while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

ob_err ob_watchdog_start(ob_watchdog **out, int64_t interval_us, ob_watchdog_alive_fn alive,
                         void *ctx)
{
	*out = NULL;
	if (interval_us <= 0 || alive == NULL)
		return OB_EINVAL;
	ob_watchdog *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return OB_ENOMEM;
	/* systemd's advice: ping at half the interval, so that one late ping
	 * is not a restart. */
	w->period_us = interval_us / 2 > 0 ? interval_us / 2 : 1;
	w->alive = alive;
	w->ctx = ctx;
	ob_clock_cond_init(&w->cv);
	pthread_mutex_init(&w->mu, NULL);
	int rc = pthread_create(&w->thread, NULL, watchdog_main, w);
	if (rc != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return ob_err_from_errno(rc);
	}
	*out = w;
	return OB_OK;
}

void ob_watchdog_stop(ob_watchdog *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
