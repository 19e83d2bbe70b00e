/*
 * login.c: signed login requests and the replay cache. See auth.h for the contracts.
 *
 * The replay cache is a chained hash table over a pool of entries allocated once, plus a timing
 * wheel of one-second slots that lists the entries by expiry, so that expired nonces are
 * dropped in O(1) each as time advances, without scanning the table or allocating.
 *
 * An entry (key id, nonce, ts) can be dropped once no future call could accept ts again. A
 * call accepts ts only when ts >= high_water - A (A = OB_LOGIN_MAX_AGE_MS, high_water the
 * largest now_ms seen), and high_water never decreases, so the entry's expiry is ts + A and it
 * is dropped once high_water passes it. Since an accepted ts also satisfies ts <= now + F <=
 * high_water + F (F = OB_LOGIN_MAX_AHEAD_MS), live expiries span at most A + F + 1 s: a wheel
 * of 128 one-second slots covers them without two live seconds sharing a slot.
 *
 * Each key's entries are counted in a second table (the key's share, auth.h), which also keeps
 * a lower bound of the key's earliest expiry for the retry-after of a key over its share. Its
 * pool has as many counters as the cache has entries: every counter in use counts at least one
 * entry, so one is always free when an entry is.
 */
#include "auth/auth.h"
#include "keyfile.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define MAX_ENTRIES_LIMIT 10000000
#define WHEEL_SLOTS       128 /* a power of two, see below */
#define NIL               UINT32_MAX

_Static_assert(WHEEL_SLOTS > (OB_LOGIN_MAX_AGE_MS + OB_LOGIN_MAX_AHEAD_MS) / 1000 + 2,
               "the wheel covers every live expiry second");

typedef struct {
	char key_id[OB_KEY_ID_LEN];
	uint8_t nonce[16];
	int64_t expiry_ms;   /* ts + max age */
	uint32_t hash_next;  /* next in the bucket chain, or next free entry */
	uint32_t wheel_next; /* next in the wheel slot */
	uint32_t counter;    /* the key's counter */
} entry;

/* How many entries one key holds. */
typedef struct {
	char key_id[OB_KEY_ID_LEN];
	uint32_t count;        /* > 0 while in use */
	uint32_t next;         /* next in the bucket chain, or next free counter */
	int64_t min_expiry_ms; /* <= the earliest expiry among the key's entries */
} counter;

struct ob_login_verifier {
	pthread_mutex_t mu;
	/* Everything below is guarded by mu, except hash_key, decoy_pk, audiences, max,
	 * max_per_key, mask and the array pointers, which are fixed at creation. */
	uint8_t hash_key[crypto_shorthash_KEYBYTES];  /* keyed: peers cannot aim at one chain */
	uint8_t decoy_pk[crypto_sign_PUBLICKEYBYTES]; /* checked against for unknown keys */
	char **audiences;                             /* this server's names, copies */
	size_t n_audiences;
	size_t max;
	size_t max_per_key;
	size_t count;
	uint32_t mask; /* buckets - 1, for both tables */
	uint32_t *buckets;
	entry *pool;
	uint32_t free_head;
	uint32_t *key_buckets;
	counter *counters;
	uint32_t free_counter;
	uint32_t wheel[WHEEL_SLOTS];
	bool started;       /* high_water and swept_sec are meaningful */
	int64_t high_water; /* the largest now_ms seen */
	int64_t swept_sec;  /* wheel seconds <= swept_sec are empty */
};

static bool time_in_range(int64_t t)
{
	return t >= -OB_AUTH_TIME_LIMIT_MS && t <= OB_AUTH_TIME_LIMIT_MS;
}

/* |a - b| without overflow, for any two int64_t. */
static uint64_t distance(int64_t a, int64_t b)
{
	return a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

ob_err ob_login_sign(const uint8_t seed[32], const char key_id[OB_KEY_ID_LEN + 1], int64_t ts_ms,
                     const uint8_t nonce[16], const char *const *audiences, size_t n,
                     uint8_t sig[64])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t msg[OB_LOGIN_MESSAGE_MAX];
	char id[OB_KEY_ID_LEN + 1];
	ob_err rc = OB_OK;

	if (seed == NULL || nonce == NULL || sig == NULL || !ob_key_id_valid(key_id) ||
	    !time_in_range(ts_ms) || !ob_login_audiences_valid(audiences, n))
		return OB_EINVAL;
	if (crypto_sign_seed_keypair(pk, sk, seed) != 0) {
		rc = OB_EINTERNAL;
		goto out;
	}
	ob_keyfile_key_id(pk, id);
	if (memcmp(id, key_id, OB_KEY_ID_LEN) != 0) {
		rc = OB_EINVAL;
		goto out;
	}
	size_t len = ob_login_message_build(msg, key_id, ts_ms, nonce, audiences, n);
	if (len == 0 || crypto_sign_detached(sig, NULL, msg, len, sk) != 0)
		rc = OB_EINTERNAL; /* defensive: the arguments were checked above */
out:
	sodium_memzero(sk, sizeof(sk));
	return rc;
}

/* Frees v and what it holds, all but the mutex; accepts a verifier half made. */
static void free_verifier(ob_login_verifier *v)
{
	sodium_memzero(v->hash_key, sizeof(v->hash_key));
	free(v->buckets);
	free(v->pool);
	free(v->key_buckets);
	free(v->counters);
	for (size_t i = 0; i < v->n_audiences; i++)
		free(v->audiences[i]);
	free(v->audiences);
	free(v);
}

ob_err ob_login_verifier_create(const ob_login_config *cfg, ob_login_verifier **out)
{
	size_t max_entries = cfg != NULL ? cfg->max_entries : 0;
	size_t max_per_key = cfg != NULL ? cfg->max_per_key : 0;
	if (max_entries == 0)
		max_entries = OB_LOGIN_MAX_ENTRIES;
	if (max_entries > MAX_ENTRIES_LIMIT)
		return OB_EINVAL;
	if (max_per_key == 0)
		max_per_key = max_entries / 100 > 0 ? max_entries / 100 : 1;
	if (max_per_key > max_entries)
		return OB_EINVAL;
	size_t n_audiences = cfg != NULL ? cfg->n_audiences : 0;
	if (n_audiences > OB_LOGIN_MAX_SERVER_AUDIENCES)
		return OB_EINVAL;
	for (size_t i = 0; i < n_audiences; i++) {
		const char *aud = cfg->audiences[i];
		if (aud == NULL || !ob_login_audiences_valid(&aud, 1))
			return OB_EINVAL;
	}
	/* At least as many buckets as entries: chains average at most one entry. */
	size_t nbuckets = 16;
	while (nbuckets < max_entries)
		nbuckets *= 2;

	ob_login_verifier *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return OB_ENOMEM;
	v->buckets = malloc(nbuckets * sizeof(*v->buckets));
	v->pool = malloc(max_entries * sizeof(*v->pool));
	v->key_buckets = malloc(nbuckets * sizeof(*v->key_buckets));
	v->counters = malloc(max_entries * sizeof(*v->counters));
	v->audiences = calloc(n_audiences > 0 ? n_audiences : 1, sizeof(*v->audiences));
	bool copied = v->audiences != NULL;
	for (size_t i = 0; copied && i < n_audiences; i++) {
		v->audiences[i] = strdup(cfg->audiences[i]);
		copied = v->audiences[i] != NULL;
		v->n_audiences += copied;
	}
	if (v->buckets == NULL || v->pool == NULL || v->key_buckets == NULL ||
	    v->counters == NULL || !copied || pthread_mutex_init(&v->mu, NULL) != 0) {
		free_verifier(v); /* the mutex is not initialised */
		return OB_ENOMEM;
	}
	randombytes_buf(v->hash_key, sizeof(v->hash_key));
	/* A valid public key nobody holds the secret of (it is thrown away). */
	uint8_t decoy_sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_keypair(v->decoy_pk, decoy_sk);
	sodium_memzero(decoy_sk, sizeof(decoy_sk));
	v->max = max_entries;
	v->max_per_key = max_per_key;
	v->mask = (uint32_t)(nbuckets - 1);
	for (size_t i = 0; i < nbuckets; i++)
		v->buckets[i] = v->key_buckets[i] = NIL;
	for (size_t i = 0; i < max_entries; i++) {
		uint32_t next = i + 1 < max_entries ? (uint32_t)(i + 1) : NIL;
		v->pool[i].hash_next = next;
		v->counters[i].next = next;
	}
	v->free_head = 0;
	v->free_counter = 0;
	for (size_t i = 0; i < WHEEL_SLOTS; i++)
		v->wheel[i] = NIL;
	*out = v;
	return OB_OK;
}

void ob_login_verifier_destroy(ob_login_verifier *v)
{
	if (v == NULL)
		return;
	pthread_mutex_destroy(&v->mu);
	free_verifier(v);
}

size_t ob_login_verifier_size(ob_login_verifier *v)
{
	pthread_mutex_lock(&v->mu);
	size_t n = v->count;
	pthread_mutex_unlock(&v->mu);
	return n;
}

/* Floor division by a positive constant, for instants before 1970 too. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return a % b < 0 ? q - 1 : q;
}

static uint32_t wheel_slot(int64_t sec)
{
	return (uint32_t)((uint64_t)sec & (WHEEL_SLOTS - 1)); /* two's complement: floor mod */
}

static uint32_t bucket_of(const ob_login_verifier *v, const char *key_id, const uint8_t *nonce)
{
	uint8_t in[OB_KEY_ID_LEN + 16], h[crypto_shorthash_BYTES];
	memcpy(in, key_id, OB_KEY_ID_LEN);
	memcpy(in + OB_KEY_ID_LEN, nonce, 16);
	crypto_shorthash(h, in, sizeof(in), v->hash_key);
	uint32_t x;
	memcpy(&x, h, sizeof(x));
	return x & v->mask;
}

static uint32_t key_bucket_of(const ob_login_verifier *v, const char *key_id)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, (const uint8_t *)key_id, OB_KEY_ID_LEN, v->hash_key);
	uint32_t x;
	memcpy(&x, h, sizeof(x));
	return x & v->mask;
}

/* The counter of key_id, or NIL. Caller holds mu. */
static uint32_t counter_find(const ob_login_verifier *v, const char *key_id)
{
	uint32_t c = v->key_buckets[key_bucket_of(v, key_id)];
	while (c != NIL && memcmp(v->counters[c].key_id, key_id, OB_KEY_ID_LEN) != 0)
		c = v->counters[c].next;
	return c;
}

/* Unlinks entry i from its bucket chain and returns it to the free list, and counts it off its
 * key, whose later entries expire in a later wheel second than this one's: the key's lower
 * bound moves past it. Caller holds mu. */
static void drop(ob_login_verifier *v, uint32_t i)
{
	entry *e = &v->pool[i];
	uint32_t *link = &v->buckets[bucket_of(v, e->key_id, e->nonce)];
	while (*link != i) {
		assert(*link != NIL); /* every live entry is on its chain */
		link = &v->pool[*link].hash_next;
	}
	*link = e->hash_next;
	e->hash_next = v->free_head;
	v->free_head = i;
	v->count--;

	counter *c = &v->counters[e->counter];
	assert(c->count > 0 && memcmp(c->key_id, e->key_id, OB_KEY_ID_LEN) == 0);
	if (--c->count > 0) {
		int64_t next_sec_ms = (floor_div(e->expiry_ms, 1000) + 1) * 1000;
		if (c->min_expiry_ms < next_sec_ms)
			c->min_expiry_ms = next_sec_ms;
		return;
	}
	uint32_t *clink = &v->key_buckets[key_bucket_of(v, c->key_id)];
	while (*clink != e->counter) {
		assert(*clink != NIL);
		clink = &v->counters[*clink].next;
	}
	*clink = c->next;
	c->next = v->free_counter;
	v->free_counter = e->counter;
}

/* Moves the high-water mark to now_ms if later and drops every entry whose wheel second is
 * over. Caller holds mu. */
static void advance(ob_login_verifier *v, int64_t now_ms)
{
	if (!v->started || now_ms > v->high_water)
		v->high_water = now_ms;
	int64_t target = floor_div(v->high_water, 1000) - 1;
	if (v->count == 0) {
		/* Nothing to drop: every slot is empty (always the case before the first call). */
		v->started = true;
		v->swept_sec = target;
		return;
	}
	/* After WHEEL_SLOTS steps every slot has been emptied once; the rest are empty. */
	for (int steps = 0; v->swept_sec < target && steps < WHEEL_SLOTS; steps++) {
		v->swept_sec++;
		uint32_t s = wheel_slot(v->swept_sec);
		for (uint32_t i = v->wheel[s]; i != NIL;) {
			uint32_t next = v->pool[i].wheel_next;
			assert(floor_div(v->pool[i].expiry_ms, 1000) == v->swept_sec);
			drop(v, i);
			i = next;
		}
		v->wheel[s] = NIL;
	}
	if (v->swept_sec < target)
		v->swept_sec = target;
}

/* True when one of the request's audiences is one of v's (which are fixed: no lock). At most
 * 8 x 64 comparisons of short strings. */
static bool audience_ours(const ob_login_verifier *v, const ob_login_request *rq)
{
	for (size_t i = 0; i < rq->n_audiences; i++) {
		for (size_t j = 0; j < v->n_audiences; j++) {
			if (strcmp(rq->audiences[i], v->audiences[j]) == 0)
				return true;
		}
	}
	return false;
}

/* The wait until the wheel drops the entries of the second holding expiry_ms, from the
 * high-water mark: a slot s is emptied once high_water reaches (s + 1) s. Caller holds mu. */
static uint32_t wait_for_drop(const ob_login_verifier *v, int64_t expiry_ms)
{
	int64_t wait = (floor_div(expiry_ms, 1000) + 1) * 1000 - v->high_water;
	if (wait < 1)
		return 1;
	return wait > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)wait;
}

/* Everything about a login request that needs no shared state, cheap checks first (none of
 * them depends on anything secret), the signature last. On OB_OK *key is the valid key that
 * signed it; on OB_EAUTH out->verdict says which check failed. */
static ob_err check_signed(const ob_login_verifier *v, const ob_keyring *kr,
                           const ob_login_request *rq, int64_t now_ms, ob_login_result *out,
                           const ob_key **key)
{
	const char *key_id = rq->key_id;
	int64_t ts_ms = rq->ts_ms;
	if (!ob_key_id_valid(key_id))
		return OB_EAUTH;
	if ((ts_ms < now_ms && distance(now_ms, ts_ms) > (uint64_t)OB_LOGIN_MAX_AGE_MS) ||
	    (ts_ms > now_ms && distance(ts_ms, now_ms) > (uint64_t)OB_LOGIN_MAX_AHEAD_MS)) {
		out->verdict = OB_LOGIN_CLOCK_SKEW;
		return OB_EAUTH;
	}
	uint8_t msg[OB_LOGIN_MESSAGE_MAX];
	size_t msg_len = ob_login_message_build(msg, key_id, ts_ms, rq->nonce, rq->audiences,
	                                        rq->n_audiences);
	if (msg_len == 0 || !audience_ours(v, rq)) {
		out->verdict = OB_LOGIN_WRONG_AUDIENCE;
		return OB_EAUTH;
	}
	*key = ob_keyring_find(kr, key_id);
	if (*key != NULL && !ob_key_valid_at(*key, now_ms))
		*key = NULL;
	/* The signature, outside the lock: it is the expensive part and needs no shared state.
	 * Checked against a decoy key when the key is unknown, so that an unknown key takes as
	 * long to refuse as a bad signature. */
	bool sig_ok = crypto_sign_verify_detached(rq->sig, msg, msg_len,
	                                          *key != NULL ? (*key)->pk : v->decoy_pk) == 0;
	return *key != NULL && sig_ok ? OB_OK : OB_EAUTH;
}

/* Records the nonce of a signed request in bucket b, expiring at expiry_ms, under its key's
 * counter c (NIL: the key has none yet). Caller holds mu; there is room (v->count < v->max). */
static void remember(ob_login_verifier *v, uint32_t b, uint32_t c, const char *key_id,
                     const uint8_t *nonce, int64_t expiry_ms)
{
	if (c == NIL) {
		/* One is free: each counter in use holds an entry, and an entry is free. */
		c = v->free_counter;
		assert(c != NIL);
		counter *k = &v->counters[c];
		v->free_counter = k->next;
		memcpy(k->key_id, key_id, OB_KEY_ID_LEN);
		k->count = 0;
		k->min_expiry_ms = expiry_ms;
		uint32_t kb = key_bucket_of(v, key_id);
		k->next = v->key_buckets[kb];
		v->key_buckets[kb] = c;
	}
	counter *k = &v->counters[c];
	k->count++;
	if (expiry_ms < k->min_expiry_ms)
		k->min_expiry_ms = expiry_ms;

	uint32_t i = v->free_head;
	entry *e = &v->pool[i];
	v->free_head = e->hash_next;
	memcpy(e->key_id, key_id, OB_KEY_ID_LEN);
	memcpy(e->nonce, nonce, 16);
	e->expiry_ms = expiry_ms;
	e->counter = c;
	int64_t sec = floor_div(e->expiry_ms, 1000);
	assert(sec > v->swept_sec && sec <= v->swept_sec + WHEEL_SLOTS);
	e->hash_next = v->buckets[b];
	v->buckets[b] = i;
	uint32_t s = wheel_slot(sec);
	e->wheel_next = v->wheel[s];
	v->wheel[s] = i;
	v->count++;
}

/* The single use of a signed request: refused when its nonce was seen (a replay), when it
 * is older than what the cache forgot, or when the key's share or the cache is full. */
static ob_err admit(ob_login_verifier *v, const ob_login_request *rq, int64_t now_ms,
                    ob_login_result *out)
{
	const char *key_id = rq->key_id;
	pthread_mutex_lock(&v->mu);
	advance(v, now_ms);
	ob_err rc = OB_EAUTH;
	uint32_t b = bucket_of(v, key_id, rq->nonce);
	uint32_t c = counter_find(v, key_id);
	bool seen = false;
	for (uint32_t i = v->buckets[b]; i != NIL && !seen; i = v->pool[i].hash_next)
		seen = memcmp(v->pool[i].key_id, key_id, OB_KEY_ID_LEN) == 0 &&
		       memcmp(v->pool[i].nonce, rq->nonce, 16) == 0;
	if (rq->ts_ms < v->high_water - OB_LOGIN_MAX_AGE_MS) {
		/* Older than what was dropped: could be a replay. */
		out->verdict = OB_LOGIN_CLOCK_SKEW;
	} else if (seen) {
		out->verdict = OB_LOGIN_REPLAY;
	} else if (c != NIL && v->counters[c].count >= v->max_per_key) {
		/* The key's share before the whole: a key over its share learns that it is
		 * the one to slow down, whatever the others do. */
		out->verdict = OB_LOGIN_KEY_SHARE_FULL;
		out->retry_after_ms = wait_for_drop(v, v->counters[c].min_expiry_ms);
		rc = OB_ELIMIT;
	} else if (v->count == v->max) {
		out->verdict = OB_LOGIN_CACHE_FULL;
		out->retry_after_ms = 1000; /* the next wheel second, give or take */
		rc = OB_ELIMIT;
	} else {
		remember(v, b, c, key_id, rq->nonce, rq->ts_ms + OB_LOGIN_MAX_AGE_MS);
		out->verdict = OB_LOGIN_ACCEPTED;
		rc = OB_OK;
	}
	pthread_mutex_unlock(&v->mu);
	return rc;
}

ob_err ob_login_verify(ob_login_verifier *v, const ob_keyring *kr, const ob_login_request *rq,
                       int64_t now_ms, ob_login_result *out)
{
	if (v == NULL || kr == NULL || rq == NULL || rq->nonce == NULL || rq->sig == NULL ||
	    out == NULL || !time_in_range(now_ms))
		return OB_EINVAL;
	*out = (ob_login_result){.verdict = OB_LOGIN_BAD_KEY_OR_SIGNATURE};
	const ob_key *key = NULL;
	ob_err rc = check_signed(v, kr, rq, now_ms, out, &key);
	if (rc == OB_OK)
		rc = admit(v, rq, now_ms, out);
	if (rc == OB_OK)
		out->key = key;
	return rc;
}

_Static_assert(OB_LOGIN_MAX_AGE_MS == 60000 && OB_LOGIN_MAX_AHEAD_MS == 5000,
               "the text of OB_LOGIN_CLOCK_SKEW below names both");

const char *ob_login_verdict_text(ob_login_verdict verdict)
{
	static const char *const texts[] = {
	        [OB_LOGIN_ACCEPTED] = "accepted",
	        [OB_LOGIN_BAD_KEY_OR_SIGNATURE] =
	                "unknown, expired or revoked key, or bad signature",
	        [OB_LOGIN_CLOCK_SKEW] =
	                "timestamp more than 60 s behind or 5 s ahead of the server's clock",
	        [OB_LOGIN_WRONG_AUDIENCE] =
	                "signed for another server (none of its audiences names this server)",
	        [OB_LOGIN_REPLAY] = "this signed request was used already (a replay)",
	        [OB_LOGIN_KEY_SHARE_FULL] = "too many recent logins with this key",
	        [OB_LOGIN_CACHE_FULL] = "too many recent logins on this server",
	};
	if ((unsigned)verdict >= sizeof(texts) / sizeof(texts[0]) || texts[verdict] == NULL)
		return "refused";
	return texts[verdict];
}
