/*
 * The SQLite store keeps a batch's counters in memory and writes them as rows
 * before the batch commits (service/store/sqlite_deltas.c). What a write sees
 * and what survives must not change: a write reads its own and the batch's
 * deltas (get and list), a failed write's deltas go with its savepoint, and
 * what is durable is exactly what succeeded, also when many concurrent writes
 * share batches and when one write moves more counters than memory takes.
 * A batch runs without savepoints until a write fails after changing rows;
 * then it runs again with a savepoint per write (service/store/sqlite.c):
 * either way, a failed write undoes only itself.
 */
#include <pthread.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/store.h"
#include "store/sqlite.h"
#include "testutil.h"

typedef struct fx {
	char dir[256];
	char db[300];
	ob_store *st;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	if (f == NULL || ob_test_mkdtemp(f->dir, sizeof(f->dir), "counters") != 0)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/c.db", f->dir);
	if (ob_store_open_sqlite(&f->st, f->db) != OB_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	f->st->ops->destroy(f->st);
	ob_test_remove_tree(f->dir);
	free(f);
	return 0;
}

static int64_t read_counter(ob_store *st, const char *key)
{
	ob_txn *t;
	assert_int_equal(st->ops->begin(st, false, &t), OB_OK);
	int64_t v = -1;
	assert_int_equal(t->ops->counter_get(t, "c1", key, &v), OB_OK);
	t->ops->rollback(t);
	return v;
}

/* A write that adds, reads back through get and list, then succeeds or fails. */
typedef struct step {
	int64_t add;
	ob_err result;
	int64_t seen_get;
	int64_t seen_list;
} step;

static ob_err add_and_read(ob_txn *t, void *arg)
{
	step *s = arg;
	ob_counter d[2] = {{"k:a", s->add}, {"k:b", 1}};
	ob_err err = t->ops->counters_add(t, "c1", d, 2);
	if (err == OB_OK)
		err = t->ops->counter_get(t, "c1", "k:a", &s->seen_get);
	ob_counter *list = NULL;
	size_t n = 0;
	if (err == OB_OK)
		err = t->ops->counter_list(t, "c1", "k:", &list, &n);
	s->seen_list = 0;
	for (size_t i = 0; err == OB_OK && i < n; i++)
		if (strcmp(list[i].key, "k:a") == 0)
			s->seen_list = list[i].count;
	free(list);
	return err != OB_OK ? err : s->result;
}

/* A write sees its own deltas; a failed one leaves nothing; the next write
 * sees what succeeded before it. */
static void test_write_sees_and_fails_clean(void **state)
{
	fx *f = *state;
	step ok = {.add = 5, .result = OB_OK};
	assert_int_equal(f->st->ops->write(f->st, add_and_read, &ok), OB_OK);
	assert_int_equal(ok.seen_get, 5);
	assert_int_equal(ok.seen_list, 5);
	step bad = {.add = 100, .result = OB_EINVAL};
	assert_int_equal(f->st->ops->write(f->st, add_and_read, &bad), OB_EINVAL);
	assert_int_equal(bad.seen_get, 105); /* inside the failed write: its own delta */
	assert_int_equal(read_counter(f->st, "k:a"), 5);
	assert_int_equal(read_counter(f->st, "k:b"), 1);
	step again = {.add = -5, .result = OB_OK};
	assert_int_equal(f->st->ops->write(f->st, add_and_read, &again), OB_OK);
	assert_int_equal(again.seen_get, 0);
	assert_int_equal(again.seen_list, 0); /* a counter that comes to 0 is not listed */
	assert_int_equal(read_counter(f->st, "k:a"), 0);
	assert_int_equal(read_counter(f->st, "k:b"), 2);
}

/* Many writers at once (they share batches): every success counted once,
 * every failure not at all, and it all survives a reopen. */
enum { THREADS = 8, WRITES = 60 };

static void *writer(void *arg)
{
	fx *f = arg;
	for (int i = 0; i < WRITES; i++) {
		step s = {.add = 1, .result = i % 3 == 0 ? OB_EINVAL : OB_OK};
		ob_err err = f->st->ops->write(f->st, add_and_read, &s);
		if (err != s.result)
			return (void *)1;
	}
	return NULL;
}

static void test_concurrent_batches(void **state)
{
	fx *f = *state;
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer, f), 0);
	for (int i = 0; i < THREADS; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		assert_null(rv);
	}
	int64_t want = THREADS * (WRITES - (WRITES + 2) / 3);
	assert_int_equal(read_counter(f->st, "k:a"), want);
	f->st->ops->destroy(f->st);
	assert_int_equal(ob_store_open_sqlite(&f->st, f->db), OB_OK);
	assert_int_equal(read_counter(f->st, "k:a"), want);
	assert_int_equal(read_counter(f->st, "k:b"), want);
}

/* One write moving more counters than memory takes: the rest go to rows at
 * once, and reads add both up. */
static ob_err many(ob_txn *t, void *arg)
{
	(void)arg;
	for (int i = 0; i < 700; i++) {
		char key[32];
		snprintf(key, sizeof(key), "m:%04d", i);
		ob_err err = t->ops->counter_add(t, "c1", key, i + 1);
		if (err != OB_OK)
			return err;
	}
	int64_t v;
	ob_err err = t->ops->counter_get(t, "c1", "m:0699", &v);
	return err == OB_OK && v != 700 ? OB_EINTERNAL : err;
}

static void test_more_than_memory(void **state)
{
	fx *f = *state;
	assert_int_equal(f->st->ops->write(f->st, many, NULL), OB_OK);
	assert_int_equal(read_counter(f->st, "m:0000"), 1);
	assert_int_equal(read_counter(f->st, "m:0699"), 700);
	ob_txn *t;
	assert_int_equal(f->st->ops->begin(f->st, false, &t), OB_OK);
	ob_counter *list = NULL;
	size_t n = 0;
	assert_int_equal(t->ops->counter_list(t, "c1", "m:", &list, &n), OB_OK);
	t->ops->rollback(t);
	assert_int_equal(n, 700);
	free(list);
}

/* A write that adds to the counters, inserts a cohort (a row) unless it fails
 * first, and then fails or not. */
typedef struct row_step {
	char id[32];
	bool insert;
	ob_err result;
} row_step;

static ob_err add_row(ob_txn *t, void *arg)
{
	row_step *s = arg;
	ob_counter d[1] = {{"k:a", 1}};
	ob_err err = t->ops->counters_add(t, "c1", d, 1);
	if (err == OB_OK && s->insert) {
		ob_cohort c = {.capacity = 10};
		snprintf(c.id, sizeof(c.id), "%s", s->id);
		err = t->ops->cohort_insert(t, &c);
	}
	return err != OB_OK ? err : s->result;
}

static bool cohort_exists(ob_store *st, const char *id)
{
	ob_txn *t;
	assert_int_equal(st->ops->begin(st, false, &t), OB_OK);
	ob_cohort c;
	ob_err err = t->ops->cohort_get(t, id, &c);
	t->ops->rollback(t);
	assert_true(err == OB_OK || err == OB_ENOTFOUND);
	return err == OB_OK;
}

/* Writes: i % 4 == 0 inserts and then fails (it changed a row), 1 fails
 * before changing anything, 2 and 3 insert and succeed. */
static void row_step_make(row_step *s, int thread, int i)
{
	snprintf(s->id, sizeof(s->id), "w-%d-%d", thread, i);
	s->insert = i % 4 != 1;
	s->result = i % 4 <= 1 ? OB_EINVAL : OB_OK;
}

typedef struct {
	fx *f;
	int thread;
} row_writer_arg;

static void *row_writer(void *arg)
{
	row_writer_arg *a = arg;
	for (int i = 0; i < WRITES; i++) {
		row_step s;
		row_step_make(&s, a->thread, i);
		if (a->f->st->ops->write(a->f->st, add_row, &s) != s.result)
			return (void *)1;
	}
	return NULL;
}

/* Failed writes that changed rows leave nothing, alone and among others in
 * shared batches; what succeeded is there, rows and counters. */
static void test_failed_after_change_undone(void **state)
{
	fx *f = *state;
	row_step alone = {.id = "alone", .insert = true, .result = OB_EINVAL};
	assert_int_equal(f->st->ops->write(f->st, add_row, &alone), OB_EINVAL);
	assert_false(cohort_exists(f->st, "alone"));
	assert_int_equal(read_counter(f->st, "k:a"), 0);

	pthread_t th[THREADS];
	row_writer_arg args[THREADS];
	for (int i = 0; i < THREADS; i++) {
		args[i] = (row_writer_arg){.f = f, .thread = i};
		assert_int_equal(pthread_create(&th[i], NULL, row_writer, &args[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		assert_null(rv);
	}
	int64_t ok = 0;
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < WRITES; i++) {
			row_step s;
			row_step_make(&s, t, i);
			bool want = s.result == OB_OK;
			ok += want;
			if (cohort_exists(f->st, s.id) != want)
				fail_msg("cohort %s: %s", s.id,
				         want ? "missing" : "left by a failed write");
		}
	assert_int_equal(read_counter(f->st, "k:a"), ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_write_sees_and_fails_clean, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_concurrent_batches, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_more_than_memory, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_failed_after_change_undone, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
