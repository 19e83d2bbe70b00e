/*
 * batch.h: the group commit both stores share. write() queues its function
 * for a thread of the store's, which takes everything queued (up to a
 * maximum), hands the batch to the store's run function (one transaction, a
 * savepoint per write, one commit) and then wakes the callers: one sync
 * acknowledges a whole batch. Not an interface.
 */
#ifndef OB_STORE_BATCH_H
#define OB_STORE_BATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "domain/store.h"

enum {
	BATCH_MAX = OB_STORE_BATCH_MAX,
	/* A write that has not started after this long is refused (OB_EUNAVAIL, and the
	 * caller tries again later): a disk whose sync takes seconds would otherwise hold
	 * every worker, reads and health checks included, behind the writer, and callers
	 * would time out not knowing whether their write happened. One that started runs to
	 * its end. Hundreds of times what a batch takes on a sound disk. */
	BATCH_WAIT_MS = 5000,
};

/* A queued write: the caller waits on done. */
typedef struct batch_req {
	ob_err (*fn)(ob_txn *t, void *arg);
	void *arg;
	ob_err result; /* set by run */
	bool done;
	pthread_cond_t cv; /* its own, so that a batch wakes only its callers */
	struct batch_req *next;
} batch_req;

typedef struct batch_queue {
	pthread_mutex_t mu; /* guards the queue and stopping */
	pthread_cond_t cv;  /* work for the thread */
	batch_req *head, *tail;
	bool stopping, started;
	ob_store_stats stats;      /* for /metrics and the log at close: the batching achieved */
	uint64_t refused;          /* writes refused after BATCH_WAIT_MS, since the last log line */
	int64_t refused_logged_us; /* when that line was written (monotonic), 0: never */
	unsigned max_batch;
	pthread_t thread;
	/* Runs the linked list batch and sets each one's result. */
	void (*run)(void *ctx, batch_req *batch);
	void *ctx;
} batch_queue;

/* Initialises q and starts its thread. OB_ENOMEM when it cannot. */
OB_NODISCARD ob_err batch_start(batch_queue *q, void (*run)(void *ctx, batch_req *batch),
                                void *ctx);
/* Queues fn and waits until its batch is run: its result. OB_EUNAVAIL once stopping, or
 * when the thread has not taken it within BATCH_WAIT_MS (fn not run). */
ob_err batch_write(batch_queue *q, ob_err (*fn)(ob_txn *t, void *arg), void *arg);
/* At most n writes a batch (1..BATCH_MAX). */
void batch_set_max(batch_queue *q, unsigned n);
/* A copy of the figures of group commit so far (domain/store.h). Any thread. */
void batch_stats(batch_queue *q, ob_store_stats *out);
/* Runs what is queued, stops the thread and logs the batching achieved.
 * Accepts a q that was never started (zeroed). */
void batch_stop(batch_queue *q);

#endif
