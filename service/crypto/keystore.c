/*
 * keystore.c: the current vault behind a read-write lock and reference counts.
 *
 * Why leases with counts rather than a read lock held while a vault is used (what the store
 * did before): with a lock, a rotation waits for every reader that is decrypting and readers
 * queue behind a waiting rotation. With counts, the lock guards one pointer for the time of a
 * copy and an increment; the old vault dies with its last lease, whenever that is.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/log.h"
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

/* What tells that the key file changed without reading it: a rotation appends (size, mtime),
 * a copy put in place by rename(2) or a secret mount's link swap is another inode, a chmod
 * changes ctime. err: the errno of a failed stat(2) instead (a file removed). */
typedef struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int err;
} file_id;

struct ob_keystore {
	pthread_rwlock_t lock; /* guards cur: read to lease it, write to replace it */
	ob_keystore_gen *cur;
	/* One rotation or reread of the file at a time; guards seen, refused, missing. */
	pthread_mutex_t rotate_mu;
	char *path;      /* the key file; NULL: made in memory, cannot rotate */
	file_id seen;    /* the file as the current vault was read from it */
	file_id refused; /* the last file refused (logged once), so not read again */
	bool has_refused;
	char missing[OB_VAULT_KID_SIZE]; /* the last key id found missing, logged once */
	/* Monotonic times before which no caller checks the file again (the change check of
	 * every acquire) or rereads it for a key id it lacks (unwrap): at most one of each a
	 * second, whatever the number of calls, and a clock read per call, not a syscall. */
	_Atomic int64_t next_check_us;
	_Atomic bool follow; /* ob_keystore_follow: the checks above are on */
	_Atomic int64_t next_reread_us;
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
	atomic_init(&ks->next_check_us, 0);
	atomic_init(&ks->next_reread_us, 0);
	atomic_init(&ks->follow, false);
	pthread_mutex_init(&ks->dk_mu, NULL);
	atomic_init(&ks->dk, NULL);
	pthread_rwlock_init(&ks->lock, NULL);
	pthread_mutex_init(&ks->rotate_mu, NULL);
	*out = ks;
	return OB_OK;
}

/* The file at path as stat(2) sees it (following a link, as ob_vault_open does). */
static file_id file_id_of(const char *path)
{
	file_id id = {0};
	struct stat st;
	if (stat(path, &st) != 0) {
		id.err = errno;
		return id;
	}
	id.dev = st.st_dev;
	id.ino = st.st_ino;
	id.size = st.st_size;
	id.mtime = st.st_mtim;
	id.ctime = st.st_ctim;
	return id;
}

static bool file_id_same(const file_id *a, const file_id *b)
{
	return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

ob_err ob_keystore_open(const char *path, ob_keystore **out, char *err, size_t errlen)
{
	*out = NULL;
	ob_vault *v = NULL;
	/* Before the read: a change in between is then seen by the next check. */
	file_id id = file_id_of(path);
	ob_err e = ob_vault_open(path, &v, err, errlen);
	if (e != OB_OK)
		return e;
	char *copy = strdup(path);
	if (copy == NULL) {
		ob_vault_destroy(v);
		return OB_ENOMEM;
	}
	e = make(v, copy, out);
	if (e == OB_OK)
		(*out)->seen = id;
	return e;
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

static void check_file(ob_keystore *ks);

const ob_vault *ob_keystore_acquire(ob_keystore *ks, ob_keystore_lease *lease)
{
	if (atomic_load_explicit(&ks->follow, memory_order_relaxed))
		check_file(ks);
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

/* Makes v the current vault (taking it); the old one lives on with its leases. rotate_mu
 * held, so that two publications cannot cross. Returns OB_ENOMEM (v destroyed) or OB_OK. */
static ob_err publish(ob_keystore *ks, ob_vault *v)
{
	ob_keystore_gen *g = gen_new(v);
	if (g == NULL) {
		ob_vault_destroy(v);
		return OB_ENOMEM;
	}
	pthread_rwlock_wrlock(&ks->lock);
	ob_keystore_gen *old = ks->cur;
	ks->cur = g;
	pthread_rwlock_unlock(&ks->lock);
	/* The keystore's reference; leases still out keep the old vault. */
	gen_unref(old);
	return OB_OK;
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
	/* The file first: a key that is in the file before any data key is
	 * wrapped under it can never be lost by a crash. */
	ob_err e = ob_vault_rotate_file(ks->path, NULL, kid, err, errlen);
	file_id id = file_id_of(ks->path);
	if (e == OB_OK)
		e = ob_vault_open(ks->path, &v, err, errlen);
	if (e == OB_OK) {
		snprintf(kid_out, OB_VAULT_KID_SIZE, "%s", ob_vault_active_key_id(v));
		if ((e = publish(ks, v)) != OB_OK) {
			kid_out[0] = '\0';
			if (errlen > 0)
				snprintf(err, errlen, "%s: out of memory", ks->path);
		} else {
			ks->seen = id;
		}
	}
	pthread_mutex_unlock(&ks->rotate_mu);
	return e;
}

/* ---- the key file changed under us (keystore.h: several instances) ------------------------ */

/*
 * Reads the file again if it changed since the current vault was read, and publishes it if it
 * keeps every key of the current vault (ob_vault_extends). A file that cannot be read, or
 * that dropped or changed a key, is refused with one log line (not one per check: its
 * identity is kept and not read again until it changes again); the current vault stays.
 * rotate_mu held. Returns whether a new vault was published.
 */
static bool reread_locked(ob_keystore *ks)
{
	file_id id = file_id_of(ks->path);
	if (file_id_same(&id, &ks->seen) || (ks->has_refused && file_id_same(&id, &ks->refused)))
		return false;
	char why[256] = "";
	ob_vault *v = NULL;
	ob_err e = id.err != 0 ? OB_ENOTFOUND : ob_vault_open(ks->path, &v, why, sizeof(why));
	if (id.err != 0)
		snprintf(why, sizeof(why), "%s: %s", ks->path, strerror(id.err));
	const ob_vault *cur = NULL;
	char lost[OB_VAULT_KID_SIZE] = "";
	if (e == OB_OK) {
		/* Under the lock no publication can happen: a plain read of cur. */
		cur = ks->cur->vault;
		if (!ob_vault_extends(v, cur, lost)) {
			snprintf(why, sizeof(why), "%s: lost or changed the key %s held here",
			         ks->path, lost);
			e = OB_EINVAL;
		}
	}
	if (e != OB_OK) {
		ob_vault_destroy(v);
		ks->refused = id;
		ks->has_refused = true;
		ob_log(OB_LOG_ERROR,
		       "master keys: the key file changed and is refused (%s); this instance keeps "
		       "the keys it holds (%zu, active %s)",
		       why, ob_vault_key_count(ks->cur->vault),
		       ob_vault_active_key_id(ks->cur->vault));
		return false;
	}
	size_t n = ob_vault_key_count(v);
	if (n == ob_vault_key_count(cur) &&
	    strcmp(ob_vault_active_key_id(v), ob_vault_active_key_id(cur)) == 0) {
		ks->seen = id; /* touched, not changed: nothing to publish */
		ob_vault_destroy(v);
		return false;
	}
	char active[OB_VAULT_KID_SIZE];
	snprintf(active, sizeof(active), "%s", ob_vault_active_key_id(v));
	if (publish(ks, v) != OB_OK)
		return false; /* out of memory: the next check tries again */
	ks->seen = id;
	ob_log(OB_LOG_INFO, "master keys: %s changed: %zu keys now, new data keys wrapped under %s",
	       ks->path, n, active);
	return true;
}

/* The change check of every acquire: one caller a second does it, others go on. */
static void check_file(ob_keystore *ks)
{
	int64_t now = ob_clock_mono_us();
	int64_t due = atomic_load_explicit(&ks->next_check_us, memory_order_relaxed);
	if (now < due ||
	    !atomic_compare_exchange_strong(&ks->next_check_us, &due,
	                                    now + (int64_t)OB_KEYSTORE_RECHECK_MS * 1000))
		return;
	/* Busy: a rotation or a reread is at it, and publishes what it finds. */
	if (pthread_mutex_trylock(&ks->rotate_mu) != 0)
		return;
	(void)reread_locked(ks);
	pthread_mutex_unlock(&ks->rotate_mu);
}

void ob_keystore_follow(ob_keystore *ks)
{
	if (ks->path != NULL)
		atomic_store(&ks->follow, true);
}

bool ob_keystore_follows(const ob_keystore *ks)
{
	return atomic_load_explicit(&ks->follow, memory_order_relaxed);
}

void ob_keystore_refresh(ob_keystore *ks)
{
	if (ks->path == NULL)
		return;
	pthread_mutex_lock(&ks->rotate_mu);
	(void)reread_locked(ks);
	pthread_mutex_unlock(&ks->rotate_mu);
}

/* A data key names kid, which the current vault lacks: reads the file again (at most once
 * a second) and says whether the vault now has it; logs a key id still missing once. */
static bool reread_for(ob_keystore *ks, const char *kid)
{
	if (!ob_keystore_follows(ks) || !ob_vault_kid_valid(kid))
		return false;
	int64_t now = ob_clock_mono_us();
	int64_t due = atomic_load_explicit(&ks->next_reread_us, memory_order_relaxed);
	if (now < due ||
	    !atomic_compare_exchange_strong(&ks->next_reread_us, &due,
	                                    now + (int64_t)OB_KEYSTORE_RECHECK_MS * 1000))
		return false;
	/* Busy: a rotation or a reread is at it, and publishes what it finds. A read never
	 * waits behind a rotation's append and fsync. */
	if (pthread_mutex_trylock(&ks->rotate_mu) != 0)
		return false;
	(void)reread_locked(ks);
	bool has = ob_vault_has_key(ks->cur->vault, kid);
	if (!has && strcmp(ks->missing, kid) != 0) {
		snprintf(ks->missing, sizeof(ks->missing), "%s", kid);
		ob_log(OB_LOG_ERROR,
		       "master keys: a data key is wrapped under the key %s, which %s does not "
		       "hold: "
		       "its contacts answer UNAVAILABLE until it does (a rotation through another "
		       "instance? give this one the same key file)",
		       kid, ks->path);
	}
	pthread_mutex_unlock(&ks->rotate_mu);
	return has;
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
	if (err == OB_ENOTFOUND && kid != NULL && reread_for(ks, kid)) {
		err = ob_vault_unwrap(ob_keystore_acquire(ks, &lease), kid, wrapped, len, dk);
		ob_keystore_release(&lease);
	}
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
