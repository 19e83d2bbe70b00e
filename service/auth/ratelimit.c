/*
 * ratelimit.c: token buckets in a fixed, set-associative table. See auth.h for the contract.
 *
 * Levels are integers in micro-requests (1 request = 1,000,000) and the refill is an integer
 * number of micro-requests per millisecond, so that no rounding accumulates between calls and
 * the answer does not depend on floating-point behaviour; the configured rate is converted
 * once, at creation.
 *
 * Keys are identified by a 128-bit keyed SipHash of the string rather than by a copy of it:
 * buckets keep a fixed size whatever the key length, and two keys share a bucket only if
 * their digests collide, which a peer cannot arrange without the random hash key.
 */
#include "auth/auth.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define WAYS    8  /* buckets per set */
#define STRIPES 64 /* mutexes; a set always maps to the same one */
#define MICRO   UINT64_C(1000000)

typedef struct {
	uint8_t digest[crypto_shorthash_siphashx24_BYTES];
	bool used;
	uint64_t level; /* micro-requests available at last_ms */
	int64_t last_ms;
} bucket;

struct ob_ratelimit {
	uint8_t hash_key[crypto_shorthash_siphashx24_KEYBYTES];
	uint64_t refill_per_ms; /* micro-requests per millisecond, >= 1 */
	uint64_t capacity;      /* burst in micro-requests */
	size_t nsets;           /* a power of two */
	bucket *buckets;        /* nsets * WAYS; set s is [s * WAYS, (s + 1) * WAYS) */
	pthread_mutex_t stripes[STRIPES];
};

ob_err ob_ratelimit_create(double rate_per_s, uint32_t burst, size_t buckets, ob_ratelimit **out)
{
	/* Written so that NaN fails too. */
	if (!(rate_per_s >= 0.001 && rate_per_s <= 1e6) || burst < 1 || burst > 1000000)
		return OB_EINVAL;
	if (buckets == 0)
		buckets = 4096;
	if (buckets < WAYS || buckets > ((size_t)1 << 24) || (buckets & (buckets - 1)) != 0)
		return OB_EINVAL;

	ob_ratelimit *rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return OB_ENOMEM;
	rl->buckets = calloc(buckets, sizeof(*rl->buckets));
	if (rl->buckets == NULL) {
		free(rl);
		return OB_ENOMEM;
	}
	for (int i = 0; i < STRIPES; i++) {
		if (pthread_mutex_init(&rl->stripes[i], NULL) != 0) {
			while (i-- > 0)
				pthread_mutex_destroy(&rl->stripes[i]);
			free(rl->buckets);
			free(rl);
			return OB_ENOMEM;
		}
	}
	randombytes_buf(rl->hash_key, sizeof(rl->hash_key));
	/* 1 request/s is 1,000,000 micro-requests per 1000 ms; the range check makes this >= 1. */
	rl->refill_per_ms = (uint64_t)(rate_per_s * 1000.0 + 0.5);
	rl->capacity = (uint64_t)burst * MICRO;
	rl->nsets = buckets / WAYS;
	*out = rl;
	return OB_OK;
}

void ob_ratelimit_destroy(ob_ratelimit *rl)
{
	if (rl == NULL)
		return;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&rl->stripes[i]);
	free(rl->buckets);
	free(rl);
}

/* b's level at now_ms, not stored. A clock that went backwards refills nothing. */
static uint64_t level_at(const ob_ratelimit *rl, const bucket *b, int64_t now_ms)
{
	if (now_ms <= b->last_ms)
		return b->level;
	uint64_t elapsed = (uint64_t)now_ms - (uint64_t)b->last_ms;
	/* Compare before multiplying: elapsed * refill may overflow after a long idle. */
	if (elapsed >= (rl->capacity - b->level) / rl->refill_per_ms + 1)
		return rl->capacity;
	return b->level + elapsed * rl->refill_per_ms;
}

bool ob_ratelimit_take(ob_ratelimit *rl, const char *key, int64_t now_ms, uint32_t *retry_after_ms)
{
	uint8_t digest[crypto_shorthash_siphashx24_BYTES];
	if (key == NULL)
		key = "";
	crypto_shorthash_siphashx24(digest, (const uint8_t *)key, strlen(key), rl->hash_key);
	uint64_t h;
	memcpy(&h, digest, sizeof(h));
	size_t set = (size_t)(h & (rl->nsets - 1));
	pthread_mutex_t *mu = &rl->stripes[set % STRIPES];
	bucket *ways = &rl->buckets[set * WAYS];

	pthread_mutex_lock(mu);
	bucket *b = NULL;
	for (int i = 0; i < WAYS && b == NULL; i++) {
		if (ways[i].used && memcmp(ways[i].digest, digest, sizeof(digest)) == 0)
			b = &ways[i];
	}
	if (b == NULL) {
		/* A free bucket; else one that has refilled completely, which is exactly like a
		 * fresh bucket so that reusing it loses nothing; else the one idle the longest. */
		for (int i = 0; i < WAYS && b == NULL; i++) {
			if (!ways[i].used || level_at(rl, &ways[i], now_ms) == rl->capacity)
				b = &ways[i];
		}
		if (b == NULL) {
			b = &ways[0];
			for (int i = 1; i < WAYS; i++) {
				if (ways[i].last_ms < b->last_ms)
					b = &ways[i];
			}
		}
		memcpy(b->digest, digest, sizeof(digest));
		b->used = true;
		b->level = rl->capacity;
		b->last_ms = now_ms;
	}

	b->level = level_at(rl, b, now_ms);
	if (now_ms > b->last_ms)
		b->last_ms = now_ms;
	bool ok = b->level >= MICRO;
	uint64_t wait = 0;
	if (ok) {
		b->level -= MICRO;
	} else {
		wait = (MICRO - b->level + rl->refill_per_ms - 1) / rl->refill_per_ms;
		/* Defensive: at the slowest rate, 0.001/s, the wait is at most 1,000,000 ms. */
		if (wait > UINT32_MAX)
			wait = UINT32_MAX;
	}
	pthread_mutex_unlock(mu);
	if (retry_after_ms != NULL)
		*retry_after_ms = (uint32_t)wait;
	return ok;
}
