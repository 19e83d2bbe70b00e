#include "rpc/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ob_arena_chunk {
	ob_arena_chunk *next;
	size_t size;
	size_t off;
	_Alignas(16) unsigned char data[];
};

enum { CHUNK_SIZE = 16 * 1024 };

static void *pb_alloc(void *data, size_t size)
{
	return ob_arena_alloc(data, size);
}

static void pb_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr; /* released with the arena */
}

void ob_arena_init(ob_arena *a, size_t budget)
{
	a->chunks = NULL;
	a->used = 0;
	a->budget = budget;
	a->exhausted = false;
	a->pb.alloc = pb_alloc;
	a->pb.free = pb_free;
	a->pb.allocator_data = a;
}

/* Frees the chunks: all of them, or all but the oldest standard-size one,
 * kept empty: most calls fit in it, so a warm arena allocates nothing. */
static void release(ob_arena *a, bool keep_one)
{
	ob_arena_chunk *keep = NULL, *c = a->chunks;
	while (c != NULL) {
		ob_arena_chunk *next = c->next;
		if (keep_one && keep == NULL && c->size == CHUNK_SIZE)
			keep = c; /* one standard chunk serves the next call */
		else
			free(c);
		c = next;
	}
	if (keep != NULL) {
		keep->next = NULL;
		keep->off = 0;
	}
	a->chunks = keep;
	a->used = 0;
	a->exhausted = false;
}

void ob_arena_fini(ob_arena *a)
{
	if (a != NULL)
		release(a, false);
}

void ob_arena_reset(ob_arena *a)
{
	release(a, true);
}

void *ob_arena_alloc(ob_arena *a, size_t size)
{
	size_t need = (size + 15) & ~(size_t)15;
	if (need < size || need > a->budget - a->used)
		goto spent;
	ob_arena_chunk *c = a->chunks;
	if (c == NULL || c->size - c->off < need) {
		size_t csize = need > CHUNK_SIZE ? need : CHUNK_SIZE;
		if (csize > SIZE_MAX - sizeof(*c))
			goto spent;
		c = malloc(sizeof(*c) + csize);
		if (c == NULL)
			goto spent;
		c->size = csize;
		c->off = 0;
		/* A big one-off chunk goes behind the current one so that the
		 * current chunk's free space stays usable. */
		if (csize > CHUNK_SIZE && a->chunks != NULL) {
			c->next = a->chunks->next;
			a->chunks->next = c;
		} else {
			c->next = a->chunks;
			a->chunks = c;
		}
	}
	void *p = c->data + c->off;
	c->off += need;
	a->used += need;
	return p;
spent:
	a->exhausted = true;
	return NULL;
}

void *ob_arena_zalloc(ob_arena *a, size_t size)
{
	void *p = ob_arena_alloc(a, size);
	if (p != NULL)
		memset(p, 0, size);
	return p;
}

char *ob_arena_strdup(ob_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ob_arena_alloc(a, n);
	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

char *ob_arena_printf(ob_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = ob_arena_alloc(a, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void *ob_arena_message(ob_arena *a, const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = ob_arena_alloc(a, d->sizeof_message);
	if (m != NULL)
		d->message_init(m);
	return m;
}
