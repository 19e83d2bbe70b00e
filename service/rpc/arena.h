/*
 * arena.h: per-call memory, freed in one go (h2o's per-request pool).
 *
 * Everything a call allocates (the unpacked envelope and payload, the
 * response message, strings for the reply) comes from its arena and is
 * released by ob_arena_reset() when the reply has been packed. The arena has
 * a budget: once it is spent, allocations fail, which is how a hostile
 * payload is kept from amplifying into unbounded memory in protobuf-c's
 * unpack (see ob_arena_allocator).
 *
 * Not thread-safe: an arena belongs to one call at a time.
 */
#ifndef OB_RPC_ARENA_H
#define OB_RPC_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "base/err.h"

typedef struct ob_arena_chunk ob_arena_chunk;

typedef struct ob_arena {
	ob_arena_chunk *chunks; /* newest first; the first one is kept on reset */
	size_t used;            /* bytes handed out since the last reset */
	size_t budget;          /* the most that may be handed out */
	bool exhausted;         /* an allocation failed since the last reset */
	ProtobufCAllocator pb;  /* allocates from this arena; free is a no-op */
} ob_arena;

void ob_arena_init(ob_arena *a, size_t budget);
void ob_arena_fini(ob_arena *a);
/* Frees everything allocated since init or the last reset. */
void ob_arena_reset(ob_arena *a);
/* 16-byte aligned memory owned by the arena, or NULL when the budget is spent
 * (the arena is then marked exhausted until the next reset: a reply built from
 * it may lack what could not be allocated, and the pipeline fails the call). */
void *ob_arena_alloc(ob_arena *a, size_t size);
void *ob_arena_zalloc(ob_arena *a, size_t size);
char *ob_arena_strdup(ob_arena *a, const char *s);
char *ob_arena_printf(ob_arena *a, const char *fmt, ...) OB_PRINTF(2, 3);
/* A zeroed, initialised protobuf-c message of type d, or NULL. */
void *ob_arena_message(ob_arena *a, const ProtobufCMessageDescriptor *d);

#endif
