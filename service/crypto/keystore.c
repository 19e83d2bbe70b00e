/*
 * keystore.c: the current vault behind a read-write lock and reference counts.
 *
 * Why leases with counts rather than a read lock held while a vault is used (what the store
 * did before): with a lock, a rotation waits for every reader that is decrypting and readers
 * queue behind a waiting rotation. With counts, the lock guards one pointer for the time of a
 * copy and an increment; the old vault dies with its last lease, whenever that is.
 */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/clock.h"
#include "crypto/keystore.h"

struct ob_keystore_gen {
	ob_vault *vault;
	/* Leases plus one while it is the current vault (the keystore's own). */
	atomic_size_t refs;
};

/* One cached data key (keystore.h): whose wrapped bytes, until when. */
typedef struct dk_slot {
	int64_t expires_us; /* 0: empty */
	char kid[OB_VAULT_KID_SIZE];
	uint8_t wrapped[OB_VAULT_WRAPPED_LEN];
	uint8_t dk[OB_VAULT_KEY_LEN];
} dk_slot;

struct ob_keystore {
	pthread_rwlock_t lock; /* guards cur: read to lease it, write to replace it */
	ob_keystore_gen *cur;
	pthread_mutex_t rotate_mu; /* one rotation at a time */
	char *path;                /* the key file; NULL: made in memory, cannot rotate */
	/* The data key cache: NULL while off, set once (atomic: it may be turned
	 * on while other threads read); sodium_malloc'd (locked, guarded). Its
	 * slots are guarded by dk_mu. */
	pthread_mutex_t dk_mu;
	_Atomic(dk_slot *) dk;
};

static ob_keystore_gen *gen_new(ob_vault *v)
{
	ob_keystore_gen *g = malloc(sizeof(*g));
	if (g == NULL)
		return NULL;
	g->vault = v;
	atomic_init(&g->refs, 1);
	return g;
}

static void gen_unref(ob_keystore_gen *g)
{
	if (atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) == 1) {
		ob_vault_destroy(g->vault);
		free(g);
	}
}

/* Takes v and path (either may be NULL on the way to a failure). */
static ob_err make(ob_vault *v, char *path, ob_keystore **out)
{
	*out = NULL;
	ob_keystore *ks = calloc(1, sizeof(*ks));
	if (ks == NULL || (ks->cur = gen_new(v)) == NULL) {
		free(ks);
		free(path);
		ob_vault_destroy(v);
		return OB_ENOMEM;
	}
	ks->path = path;
	pthread_mutex_init(&ks->dk_mu, NULL);
	atomic_init(&ks->dk, NULL);
	pthread_rwlock_init(&ks->lock, NULL);
	pthread_mutex_init(&ks->rotate_mu, NULL);
	*out = ks;
	return OB_OK;
}

ob_err ob_keystore_open(const char *path, ob_keystore **out, char *err, size_t errlen)
{
	*out = NULL;
	ob_vault *v = NULL;
	ob_err e = ob_vault_open(path, &v, err, errlen);
	if (e != OB_OK)
		return e;
	char *copy = strdup(path);
	if (copy == NULL) {
		ob_vault_destroy(v);
		return OB_ENOMEM;
	}
	return make(v, copy, out);
}

ob_err ob_keystore_create(ob_vault *v, ob_keystore **out)
{
	*out = NULL;
	if (v == NULL)
		return OB_EINVAL;
	return make(v, NULL, out);
}

void ob_keystore_destroy(ob_keystore *ks)
{
	if (ks == NULL)
		return;
	/* Only the keystore's own reference may be left. */
	assert(atomic_load(&ks->cur->refs) == 1);
	gen_unref(ks->cur);
	dk_slot *slots = atomic_load(&ks->dk);
	if (slots != NULL)
		sodium_free(slots); /* wipes */
	pthread_mutex_destroy(&ks->dk_mu);
	pthread_rwlock_destroy(&ks->lock);
	pthread_mutex_destroy(&ks->rotate_mu);
	free(ks->path);
	free(ks);
}

const ob_vault *ob_keystore_acquire(ob_keystore *ks, ob_keystore_lease *lease)
{
	pthread_rwlock_rdlock(&ks->lock);
	ob_keystore_gen *g = ks->cur;
	/* Relaxed: the lock orders it against the swap, and the vault was
	 * published (written) before the lock was released by the rotation. */
	atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
	pthread_rwlock_unlock(&ks->lock);
	lease->gen = g;
	return g->vault;
}

void ob_keystore_release(ob_keystore_lease *lease)
{
	if (lease->gen == NULL)
		return;
	gen_unref(lease->gen);
	lease->gen = NULL;
}

bool ob_keystore_can_rotate(const ob_keystore *ks)
{
	return ks->path != NULL;
}

ob_err ob_keystore_rotate(ob_keystore *ks, char kid_out[OB_VAULT_KID_SIZE], char *err,
                          size_t errlen)
{
	kid_out[0] = '\0';
	if (ks->path == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "no master key file to rotate");
		return OB_EPRECOND;
	}
	pthread_mutex_lock(&ks->rotate_mu);
	char kid[OB_VAULT_KID_SIZE];
	ob_vault *v = NULL;
	ob_keystore_gen *g = NULL;
	/* The file first: a key that is in the file before any data key is
	 * wrapped under it can never be lost by a crash. */
	ob_err e = ob_vault_rotate_file(ks->path, NULL, kid, err, errlen);
	if (e == OB_OK)
		e = ob_vault_open(ks->path, &v, err, errlen);
	if (e == OB_OK && (g = gen_new(v)) == NULL) {
		ob_vault_destroy(v);
		if (errlen > 0)
			snprintf(err, errlen, "%s: out of memory", ks->path);
		e = OB_ENOMEM;
	}
	if (e != OB_OK) {
		pthread_mutex_unlock(&ks->rotate_mu);
		return e;
	}
	pthread_rwlock_wrlock(&ks->lock);
	ob_keystore_gen *old = ks->cur;
	ks->cur = g;
	pthread_rwlock_unlock(&ks->lock);
	snprintf(kid_out, OB_VAULT_KID_SIZE, "%s", ob_vault_active_key_id(v));
	pthread_mutex_unlock(&ks->rotate_mu);
	/* The keystore's reference; leases still out keep the old vault. */
	gen_unref(old);
	return OB_OK;
}

/* ---- the data key cache (keystore.h) ------------------------------------------------------ */

ob_err ob_keystore_cache_data_keys(ob_keystore *ks)
{
	pthread_mutex_lock(&ks->dk_mu);
	ob_err err = OB_OK;
	if (atomic_load(&ks->dk) == NULL) {
		dk_slot *slots = sodium_malloc(OB_KEYSTORE_DK_SLOTS * sizeof(*slots));
		if (slots != NULL) {
			sodium_memzero(slots, OB_KEYSTORE_DK_SLOTS * sizeof(*slots));
			atomic_store(&ks->dk, slots);
		} else {
			err = OB_ENOMEM;
		}
	}
	pthread_mutex_unlock(&ks->dk_mu);
	return err;
}

/* The slot of these wrapped bytes: their nonce is random, so its first bytes spread. */
static dk_slot *dk_slot_of(dk_slot *slots, const uint8_t *wrapped)
{
	uint32_t h;
	memcpy(&h, wrapped, sizeof(h));
	return &slots[h % OB_KEYSTORE_DK_SLOTS];
}

static bool dk_match(const dk_slot *e, const char *kid, const uint8_t *wrapped)
{
	return e->expires_us != 0 && strcmp(e->kid, kid) == 0 &&
	       memcmp(e->wrapped, wrapped, OB_VAULT_WRAPPED_LEN) == 0;
}

/* Wipes e if it expired (ks->dk_mu held). */
static void dk_expire(dk_slot *e, int64_t now_us)
{
	if (e->expires_us != 0 && e->expires_us <= now_us)
		sodium_memzero(e, sizeof(*e));
}

ob_err ob_keystore_unwrap(ob_keystore *ks, const char *kid, const uint8_t *wrapped, size_t len,
                          uint8_t dk[OB_VAULT_KEY_LEN])
{
	dk_slot *slots = atomic_load(&ks->dk);
	bool cached = slots != NULL && kid != NULL && wrapped != NULL &&
	              len == OB_VAULT_WRAPPED_LEN && strlen(kid) < OB_VAULT_KID_SIZE;
	if (cached) {
		int64_t now = ob_clock_mono_us();
		pthread_mutex_lock(&ks->dk_mu);
		dk_slot *e = dk_slot_of(slots, wrapped);
		/* Keys expire as the cache is used, not only when their own slot is. */
		dk_expire(&slots[(size_t)(e - slots + 1) % OB_KEYSTORE_DK_SLOTS], now);
		dk_expire(e, now);
		bool hit = dk_match(e, kid, wrapped);
		if (hit)
			memcpy(dk, e->dk, OB_VAULT_KEY_LEN);
		pthread_mutex_unlock(&ks->dk_mu);
		if (hit)
			return OB_OK;
	}
	ob_keystore_lease lease;
	ob_err err = ob_vault_unwrap(ob_keystore_acquire(ks, &lease), kid, wrapped, len, dk);
	ob_keystore_release(&lease);
	if (err != OB_OK || !cached)
		return err;
	pthread_mutex_lock(&ks->dk_mu);
	dk_slot *e = dk_slot_of(slots, wrapped);
	snprintf(e->kid, sizeof(e->kid), "%s", kid);
	memcpy(e->wrapped, wrapped, OB_VAULT_WRAPPED_LEN);
	memcpy(e->dk, dk, OB_VAULT_KEY_LEN);
	e->expires_us = ob_clock_mono_us() + (int64_t)OB_KEYSTORE_DK_TTL_MS * 1000;
	pthread_mutex_unlock(&ks->dk_mu);
	return OB_OK;
}

void ob_keystore_forget(ob_keystore *ks, const char *kid, const uint8_t *wrapped, size_t len)
{
	dk_slot *slots = atomic_load(&ks->dk);
	if (slots == NULL || kid == NULL || wrapped == NULL || len != OB_VAULT_WRAPPED_LEN)
		return;
	pthread_mutex_lock(&ks->dk_mu);
	dk_slot *e = dk_slot_of(slots, wrapped);
	if (dk_match(e, kid, wrapped))
		sodium_memzero(e, sizeof(*e));
	pthread_mutex_unlock(&ks->dk_mu);
}
