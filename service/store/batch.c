/*
 * Group commit, for both stores (batch.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

#include "store/batch.h"

#include "base/clock.h"
#include "base/log.h"

static void record_batch(ob_store_stats *st, uint64_t n, uint64_t took_us)
{
	static const uint64_t size_bounds[] = {OB_STORE_BATCH_BOUNDS};
	static const uint64_t us_bounds[] = {OB_STORE_COMMIT_BOUNDS_US};
	st->batches++;
	st->writes += n;
	st->batch_size[ob_store_bucket(size_bounds, OB_STORE_BATCH_BUCKETS - 1, n)]++;
	st->commit_us[ob_store_bucket(us_bounds, OB_STORE_COMMIT_BUCKETS - 1, took_us)]++;
	st->commit_us_sum += took_us;
}

static void *batch_main(void *arg)
{
	batch_queue *q = arg;
	/* Named, for top -H, debuggers and the crash campaign, which looks at what the
	 * writer is doing when it kills onboardd. */
	prctl(PR_SET_NAME, "ob-writer");
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->head == NULL && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->head == NULL)
			break;
		batch_req *batch = q->head, *last = batch;
		for (unsigned n = 1; last->next != NULL && n < q->max_batch; n++)
			last = last->next;
		q->head = last->next;
		if (q->head == NULL)
			q->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&q->mu);

		int64_t began_us = ob_clock_mono_us();
		q->run(q->ctx, batch);
		uint64_t took_us = (uint64_t)(ob_clock_mono_us() - began_us);

		pthread_mutex_lock(&q->mu);
		uint64_t n = 0;
		for (batch_req *r = batch, *next; r != NULL; r = next) {
			next = r->next; /* r belongs to its waiter once done is set */
			r->done = true;
			n++;
			pthread_cond_signal(&r->cv);
		}
		record_batch(&q->stats, n, took_us);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

ob_err batch_start(batch_queue *q, void (*run)(void *ctx, batch_req *batch), void *ctx)
{
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->run = run;
	q->ctx = ctx;
	if (q->max_batch == 0)
		q->max_batch = BATCH_MAX;
	if (pthread_create(&q->thread, NULL, batch_main, q) != 0)
		return OB_ENOMEM;
	q->started = true;
	return OB_OK;
}

void batch_set_max(batch_queue *q, unsigned n)
{
	pthread_mutex_lock(&q->mu);
	q->max_batch = n == 0 ? 1 : n > BATCH_MAX ? BATCH_MAX : n;
	pthread_mutex_unlock(&q->mu);
}

/* Takes r out of the queue (q->mu held). False when the thread took it first. */
static bool unqueue(batch_queue *q, batch_req *r)
{
	batch_req *prev = NULL;
	for (batch_req *x = q->head; x != NULL; prev = x, x = x->next) {
		if (x != r)
			continue;
		if (prev != NULL)
			prev->next = r->next;
		else
			q->head = r->next;
		if (q->tail == r)
			q->tail = prev;
		return true;
	}
	return false;
}

/* A write refused after BATCH_WAIT_MS (q->mu held): one log line every 10 s at most, with
 * how many. */
static void refused(batch_queue *q)
{
	q->refused++;
	int64_t now = ob_clock_mono_us();
	if (q->refused_logged_us != 0 && now - q->refused_logged_us < 10 * 1000 * 1000)
		return;
	ob_log(OB_LOG_ERROR,
	       "store: %llu write(s) refused (UNAVAILABLE) after waiting %d ms for the writer: "
	       "the disk is slow or stuck",
	       (unsigned long long)q->refused, BATCH_WAIT_MS);
	q->refused = 0;
	q->refused_logged_us = now;
}

ob_err batch_write(batch_queue *q, ob_err (*fn)(ob_txn *t, void *arg), void *arg)
{
	batch_req r = {.fn = fn, .arg = arg};
	ob_clock_cond_init(&r.cv);
	pthread_mutex_lock(&q->mu);
	if (q->stopping || !q->started) {
		pthread_mutex_unlock(&q->mu);
		pthread_cond_destroy(&r.cv);
		return OB_EUNAVAIL;
	}
	if (q->tail != NULL)
		q->tail->next = &r;
	else
		q->head = &r;
	q->tail = &r;
	pthread_cond_signal(&q->cv);
	struct timespec until = ob_clock_mono_after((int64_t)BATCH_WAIT_MS * 1000);
	bool queued = true; /* as far as this thread knows: the writer may have taken it */
	while (!r.done) {
		if (!queued) {
			pthread_cond_wait(&r.cv, &q->mu);
		} else if (pthread_cond_timedwait(&r.cv, &q->mu, &until) == ETIMEDOUT && !r.done) {
			queued = unqueue(q, &r);
			if (queued) {
				refused(q);
				r.result = OB_EUNAVAIL;
				break;
			}
		}
	}
	pthread_mutex_unlock(&q->mu);
	pthread_cond_destroy(&r.cv);
	return r.result;
}

void batch_stats(batch_queue *q, ob_store_stats *out)
{
	if (!q->started) {
		memset(out, 0, sizeof(*out));
		return;
	}
	pthread_mutex_lock(&q->mu);
	*out = q->stats;
	pthread_mutex_unlock(&q->mu);
}

void batch_stop(batch_queue *q)
{
	if (!q->started)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	q->started = false;
	if (q->stats.batches > 0)
		ob_log(OB_LOG_INFO, "store: %llu writes in %llu commits (%.1f per commit)",
		       (unsigned long long)q->stats.writes, (unsigned long long)q->stats.batches,
		       (double)q->stats.writes / (double)q->stats.batches);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}
