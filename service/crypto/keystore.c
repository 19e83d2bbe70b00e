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

#include "crypto/keystore.h"

struct ob_keystore_gen {
	ob_vault *vault;
	/* Leases plus one while it is the current vault (the keystore's own). */
	atomic_size_t refs;
};

struct ob_keystore {
	pthread_rwlock_t lock; /* guards cur: read to lease it, write to replace it */
	ob_keystore_gen *cur;
	pthread_mutex_t rotate_mu; /* one rotation at a time */
	char *path;                /* the key file; NULL: made in memory, cannot rotate */
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
