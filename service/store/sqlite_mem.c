/*
 * SQLite's memory: small blocks kept per thread.
 *
 * SQLite copies every text and blob column of a row it steps into its
 * register's own buffer (OP_Column), allocated on first use, and frees all
 * of them when the statement is reset. A GetApplication's row has 28 such
 * columns, so each Get cost 35 mallocs and as many frees through SQLite's
 * wrappers, ~9k instructions of its ~63k (callgrind, BENCHMARKS.md). The
 * lookaside allocator meant for this is compiled out of Debian's SQLite
 * (OMIT_LOOKASIDE), so the store gives SQLite an allocator of its own: the
 * blocks of up to 512 bytes are taken from and given back to a short list
 * per thread and size class, the others go to malloc as before. Besides the
 * cost of each call, glibc's fast bins no longer fill with SQLite's blocks,
 * which the next large malloc (a history list) had to consolidate.
 *
 * A thread keeps at most 16 KiB this way; what it frees beyond that goes back
 * to malloc, and its lists go back when it exits. A block freed by another
 * thread than the one that took it joins the freeing thread's list. Nothing
 * is wiped on the way, as malloc wipes nothing: SQLite's memory holds rows
 * as stored (contacts and notes sealed).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/sqlite_impl.h"

enum { CLASSES = 4, HEADER = 8 };

/* The usable size of each class, and how many of its blocks a thread keeps. */
static const size_t class_size[CLASSES] = {64, 128, 256, 512};
static const unsigned class_keep[CLASSES] = {64, 32, 16, 8};

typedef struct block {
	struct block *next;
} block;

typedef struct cache {
	block *head[CLASSES];
	unsigned n[CLASSES];
	bool registered; /* with the key, so that its lists go when the thread exits */
	bool gone;       /* the thread is exiting: no more keeping */
} cache;

static __thread cache tc;
static pthread_key_t cache_key;

/* The class of a block of usable size n, or -1 when it is larger than any. */
static int class_of(size_t n)
{
	for (int c = 0; c < CLASSES; c++)
		if (n <= class_size[c])
			return c;
	return -1;
}

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* The usable size stored in front of a block. */
static uint64_t *header_of(void *p)
{
	return (uint64_t *)((char *)p - HEADER);
}

static void *mem_malloc(int n)
{
	size_t want = n > 0 ? (size_t)n : 1;
	int c = class_of(want);
	if (c >= 0 && tc.head[c] != NULL) {
		block *b = tc.head[c];
		tc.head[c] = b->next;
		tc.n[c]--;
		return b;
	}
	size_t size = c >= 0 ? class_size[c] : round8(want);
	uint64_t *h = malloc(HEADER + size);
	if (h == NULL)
		return NULL;
	*h = size;
	return (char *)h + HEADER;
}

static void mem_free(void *p)
{
	if (p == NULL)
		return;
	uint64_t *h = header_of(p);
	int c = class_of((size_t)*h);
	/* Only a class's own size is one of its blocks: a larger block's usable
	 * size is over the largest class. */
	if (c >= 0 && *h == class_size[c] && !tc.gone && tc.n[c] < class_keep[c]) {
		if (!tc.registered) {
			tc.registered = true;
			(void)pthread_setspecific(cache_key, &tc);
		}
		block *b = p;
		b->next = tc.head[c];
		tc.head[c] = b;
		tc.n[c]++;
		return;
	}
	free(h);
}

static int mem_size(void *p)
{
	return p != NULL ? (int)*header_of(p) : 0;
}

static void *mem_realloc(void *p, int n)
{
	size_t have = (size_t)*header_of(p);
	if (n > 0 && (size_t)n <= have)
		return p;
	if (class_of(have) < 0) {
		/* A large block grows as malloc's own do, in place where it can. */
		size_t size = round8((size_t)n);
		uint64_t *h = realloc(header_of(p), HEADER + size);
		if (h == NULL)
			return NULL;
		*h = size;
		return (char *)h + HEADER;
	}
	void *q = mem_malloc(n);
	if (q == NULL)
		return NULL; /* p stays, as realloc() leaves it */
	memcpy(q, p, have);
	mem_free(p);
	return q;
}

static int mem_roundup(int n)
{
	size_t want = n > 0 ? (size_t)n : 1;
	int c = class_of(want);
	return (int)(c >= 0 ? class_size[c] : round8(want));
}

/* A thread exits: its blocks go back to malloc. */
static void cache_drain(void *arg)
{
	cache *k = arg;
	k->gone = true;
	for (int c = 0; c < CLASSES; c++) {
		while (k->head[c] != NULL) {
			block *b = k->head[c];
			k->head[c] = b->next;
			free(header_of(b));
		}
		k->n[c] = 0;
	}
}

static int mem_init(void *unused)
{
	(void)unused;
	return pthread_key_create(&cache_key, cache_drain) == 0 ? SQLITE_OK : SQLITE_NOMEM;
}

static void mem_shutdown(void *unused)
{
	(void)unused;
}

void sq_mem_install(void)
{
	static const sqlite3_mem_methods methods = {
	        .xMalloc = mem_malloc,
	        .xFree = mem_free,
	        .xRealloc = mem_realloc,
	        .xSize = mem_size,
	        .xRoundup = mem_roundup,
	        .xInit = mem_init,
	        .xShutdown = mem_shutdown,
	};
	(void)sqlite3_config(SQLITE_CONFIG_MALLOC, &methods);
}
