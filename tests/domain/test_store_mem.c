/*
 * SQLite's allocator in the store (service/store/sqlite_mem.c): installed
 * when the first store opens, blocks of up to 512 bytes in four classes kept
 * per thread, larger ones from malloc. What SQLite relies on must hold
 * (sizes, realloc keeping the bytes), a block freed is the next one taken on
 * that thread, and nothing is lost when blocks cross threads or a thread
 * exits with blocks kept (the ASan run's leak check sees that).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "domain/store.h"
#include "testdomain.h"

/* The store (SQLite: the unit suite never runs under pgcluster) behind a domain of the
 * test's own, opened first so that SQLite starts with the store's allocator. */
static int setup(void **state)
{
	ob_test_domain *t = calloc(1, sizeof(*t));
	if (t == NULL || ob_test_domain_init(t, "ob-mem") != 0) {
		free(t);
		return -1;
	}
	*state = t;
	return ob_test_domain_is_pg() || ob_test_domain_open(t) != OB_OK ? -1 : 0;
}

static int teardown(void **state)
{
	ob_test_domain_fini(*state);
	free(*state);
	return 0;
}

/* The classes' sizes, not SQLite's own allocator's (which rounds to 8). */
static void test_sizes(void **state)
{
	(void)state;
	static const struct {
		int ask, usable;
	} cases[] = {{1, 64},    {10, 64},   {64, 64},   {65, 128},
	             {200, 256}, {512, 512}, {513, 520}, {5000, 5000}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *p = sqlite3_malloc(cases[i].ask);
		assert_non_null(p);
		assert_int_equal(sqlite3_msize(p), cases[i].usable);
		memset(p, 0xA5, (size_t)cases[i].usable); /* all of it is ours to write */
		sqlite3_free(p);
	}
	sqlite3_free(NULL);
}

/* Growing within the block keeps it; beyond, the bytes move with it. */
static void test_grow(void **state)
{
	(void)state;
	char *p = sqlite3_malloc(10);
	assert_non_null(p);
	memcpy(p, "abcdefghi", 10);
	assert_ptr_equal(sqlite3_realloc(p, 60), p);
	char *q = sqlite3_realloc(p, 300);
	assert_non_null(q);
	assert_int_equal(sqlite3_msize(q), 512);
	assert_string_equal(q, "abcdefghi");
	char *r = sqlite3_realloc(q, 4000);
	assert_non_null(r);
	assert_int_equal(sqlite3_msize(r), 4000);
	assert_string_equal(r, "abcdefghi");
	sqlite3_free(r);
}

/* What makes it cheap: a small block freed is the next one of its class the
 * thread takes, without malloc. */
static void test_kept(void **state)
{
	(void)state;
	void *p = sqlite3_malloc(40);
	assert_non_null(p);
	sqlite3_free(p);
	void *q = sqlite3_malloc(50);
	assert_ptr_equal(q, p);
	sqlite3_free(q);
}

enum { BLOCKS = 300 };

/* Takes and frees more blocks of every class than a thread keeps, and frees
 * blocks another thread took: its lists go when it exits. */
static void *churn(void *arg)
{
	void **theirs = arg;
	void *mine[BLOCKS];
	for (int i = 0; i < BLOCKS; i++)
		mine[i] = sqlite3_malloc(1 + (i * 37) % 700);
	for (int i = 0; i < BLOCKS; i++) {
		sqlite3_free(mine[i]);
		sqlite3_free(theirs[i]);
	}
	return NULL;
}

static void test_threads(void **state)
{
	ob_test_domain *d = *state;
	void *blocks[4][BLOCKS];
	pthread_t th[4];
	for (int t = 0; t < 4; t++) {
		for (int i = 0; i < BLOCKS; i++)
			assert_non_null(blocks[t][i] = sqlite3_malloc(1 + (i * 13) % 600));
		assert_int_equal(pthread_create(&th[t], NULL, churn, blocks[t]), 0);
	}
	for (int t = 0; t < 4; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	/* The store still reads after all that. */
	ob_txn *t;
	assert_int_equal(d->store->ops->begin(d->store, false, &t), OB_OK);
	ob_cohort c;
	assert_int_equal(t->ops->cohort_get(t, "no-such-cohort", &c), OB_ENOTFOUND);
	t->ops->rollback(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sizes),
	        cmocka_unit_test(test_grow),
	        cmocka_unit_test(test_kept),
	        cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
