/*
 * test_keystore.c: the contract of crypto/keystore.h. A rotation publishes a new vault for
 * the next lease while a lease on the old one keeps it usable; a failed rotation publishes
 * nothing; a keystore without a file cannot rotate; leases taken while rotations land always
 * get a whole vault. Use after free and leaks are the sanitizer build's to catch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/keystore.h"
#include "crypto/vault.h"
#include "testutil.h"

static char dir[96];
static char key_path[320];

static int setup_dir(void **state)
{
	(void)state;
	if (sodium_init() < 0 || ob_test_mkdtemp(dir, sizeof(dir), "test_keystore") != 0)
		return -1;
	snprintf(key_path, sizeof(key_path), "%s/master.key", dir);
	return 0;
}

static int teardown_dir(void **state)
{
	(void)state;
	rmdir(dir);
	return 0;
}

/* A fresh key file with the one key k1, and a keystore on it. */
static int setup(void **state)
{
	char why[256];
	unlink(key_path);
	if (ob_vault_generate_file(key_path, "k1", why, sizeof(why)) != OB_OK) {
		fprintf(stderr, "%s\n", why);
		return -1;
	}
	ob_keystore *ks = NULL;
	if (ob_keystore_open(key_path, &ks, why, sizeof(why)) != OB_OK) {
		fprintf(stderr, "%s\n", why);
		return -1;
	}
	*state = ks;
	return 0;
}

static int teardown(void **state)
{
	ob_keystore_destroy(*state);
	unlink(key_path);
	return 0;
}

/* A data key wrapped under the active key of the current vault. */
typedef struct wrapped {
	uint8_t dk[OB_VAULT_KEY_LEN];
	uint8_t w[OB_VAULT_WRAPPED_LEN];
	size_t len;
	char kid[OB_VAULT_KID_SIZE];
} wrapped;

static void wrap_one(const ob_vault *v, wrapped *out)
{
	assert_int_equal(ob_vault_new_data_key(v, out->dk, out->w, &out->len, out->kid), OB_OK);
}

static void assert_unwraps(const ob_vault *v, const wrapped *k)
{
	uint8_t dk[OB_VAULT_KEY_LEN];
	assert_int_equal(ob_vault_unwrap(v, k->kid, k->w, k->len, dk), OB_OK);
	assert_memory_equal(dk, k->dk, sizeof(dk));
}

/* The reader holding the old vault keeps it, whole, while the rotation publishes the new
 * one; the new one wraps under the new key and still unwraps what the old one wrapped. */
static void test_rotation_publishes_and_old_lease_keeps(void **state)
{
	ob_keystore *ks = *state;
	assert_true(ob_keystore_can_rotate(ks));
	ob_keystore_lease old_lease;
	const ob_vault *old = ob_keystore_acquire(ks, &old_lease);
	assert_string_equal(ob_vault_active_key_id(old), "k1");
	wrapped before;
	wrap_one(old, &before);

	char kid[OB_VAULT_KID_SIZE], why[256] = "";
	assert_int_equal(ob_keystore_rotate(ks, kid, why, sizeof(why)), OB_OK);
	assert_string_not_equal(kid, "k1");
	assert_string_equal(why, "");

	ob_keystore_lease new_lease;
	const ob_vault *cur = ob_keystore_acquire(ks, &new_lease);
	assert_ptr_not_equal(cur, old);
	assert_string_equal(ob_vault_active_key_id(cur), kid);
	assert_int_equal(ob_vault_key_count(cur), 2);
	assert_unwraps(cur, &before);

	/* The old lease's vault is unchanged and still works. */
	assert_string_equal(ob_vault_active_key_id(old), "k1");
	assert_int_equal(ob_vault_key_count(old), 1);
	assert_unwraps(old, &before);
	wrapped late;
	wrap_one(old, &late); /* a write that began before the rotation */
	assert_string_equal(late.kid, "k1");
	assert_unwraps(cur, &late);

	ob_keystore_release(&old_lease);
	assert_null(old_lease.gen);
	ob_keystore_release(&old_lease); /* a second release does nothing */
	ob_keystore_release(&new_lease);

	/* Released: the next lease still gets the new vault. */
	ob_keystore_lease again;
	assert_ptr_equal(ob_keystore_acquire(ks, &again), cur);
	ob_keystore_release(&again);
}

/* A rotation that fails leaves the current vault in place, with its reason in err. */
static void test_failed_rotation_keeps_old(void **state)
{
	ob_keystore *ks = *state;
	ob_keystore_lease lease;
	const ob_vault *before = ob_keystore_acquire(ks, &lease);
	ob_keystore_release(&lease);

	/* The file is gone. */
	char saved[340], kid[OB_VAULT_KID_SIZE] = "x", why[512] = "";
	snprintf(saved, sizeof(saved), "%s.saved", key_path);
	assert_int_equal(rename(key_path, saved), 0);
	assert_int_equal(ob_keystore_rotate(ks, kid, why, sizeof(why)), OB_ENOTFOUND);
	assert_string_equal(kid, "");
	assert_non_null(strstr(why, key_path));
	assert_ptr_equal(ob_keystore_acquire(ks, &lease), before);
	ob_keystore_release(&lease);
	assert_int_equal(rename(saved, key_path), 0);

	/* The file is there but does not parse: nothing is appended, nothing published. */
	FILE *fp = fopen(key_path, "a");
	assert_non_null(fp);
	fputs("not a key line\n", fp);
	fclose(fp);
	assert_int_equal(ob_keystore_rotate(ks, kid, why, sizeof(why)), OB_EINVAL);
	assert_string_equal(kid, "");
	const ob_vault *v = ob_keystore_acquire(ks, &lease);
	assert_ptr_equal(v, before);
	assert_string_equal(ob_vault_active_key_id(v), "k1");
	ob_keystore_release(&lease);
}

/* Through the cache of data keys (on), unwrapping answers as the vault does, again and
 * again: the key for the bytes as wrapped, refusals for tampered bytes, another key id, a
 * wrong length; across a rotation, the key re-wrapped under the new master key too; and a
 * forgotten key unwraps again from the vault. */
static void test_cached_unwrap_answers_as_the_vault(void **state)
{
	ob_keystore *ks = *state;
	assert_int_equal(ob_keystore_cache_data_keys(ks), OB_OK);
	assert_int_equal(ob_keystore_cache_data_keys(ks), OB_OK); /* once is enough */
	ob_keystore_lease lease;
	wrapped k;
	wrap_one(ob_keystore_acquire(ks, &lease), &k);
	ob_keystore_release(&lease);
	uint8_t dk[OB_VAULT_KEY_LEN];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ob_keystore_unwrap(ks, k.kid, k.w, k.len, dk), OB_OK);
		assert_memory_equal(dk, k.dk, sizeof(dk));
	}
	uint8_t bad[OB_VAULT_WRAPPED_LEN];
	memcpy(bad, k.w, sizeof(bad));
	bad[sizeof(bad) - 1] ^= 1; /* the tag: same nonce, so the same slot */
	assert_int_equal(ob_keystore_unwrap(ks, k.kid, bad, k.len, dk), OB_ECORRUPT);
	assert_int_equal(ob_keystore_unwrap(ks, "k9", k.w, k.len, dk), OB_ENOTFOUND);
	assert_int_equal(ob_keystore_unwrap(ks, k.kid, k.w, k.len - 1, dk), OB_ECORRUPT);
	assert_int_equal(ob_keystore_unwrap(ks, k.kid, k.w, k.len, dk), OB_OK);
	assert_memory_equal(dk, k.dk, sizeof(dk));

	char kid[OB_VAULT_KID_SIZE], why[256] = "";
	assert_int_equal(ob_keystore_rotate(ks, kid, why, sizeof(why)), OB_OK);
	wrapped again;
	const ob_vault *cur = ob_keystore_acquire(ks, &lease);
	assert_int_equal(ob_vault_rewrap(cur, k.kid, k.w, k.len, again.w, &again.len, again.kid),
	                 OB_OK);
	ob_keystore_release(&lease);
	assert_string_equal(again.kid, kid);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ob_keystore_unwrap(ks, again.kid, again.w, again.len, dk), OB_OK);
		assert_memory_equal(dk, k.dk, sizeof(dk));
		assert_int_equal(ob_keystore_unwrap(ks, k.kid, k.w, k.len, dk), OB_OK);
		assert_memory_equal(dk, k.dk, sizeof(dk));
	}
	ob_keystore_forget(ks, k.kid, k.w, k.len);
	ob_keystore_forget(ks, k.kid, k.w, k.len); /* forgetting twice does nothing */
	assert_int_equal(ob_keystore_unwrap(ks, k.kid, k.w, k.len, dk), OB_OK);
	assert_memory_equal(dk, k.dk, sizeof(dk));
	sodium_memzero(dk, sizeof(dk));
}

/* A keystore made in memory leases its vault and has nothing to rotate. */
static void test_memory_keystore_cannot_rotate(void **state)
{
	(void)state;
	static const char *const kids[] = {"mem"};
	uint8_t keys[1][OB_VAULT_KEY_LEN], index_key[OB_VAULT_KEY_LEN];
	randombytes_buf(keys, sizeof(keys));
	randombytes_buf(index_key, sizeof(index_key));
	ob_vault *v = NULL;
	assert_int_equal(ob_vault_from_keys(kids, (const uint8_t(*)[OB_VAULT_KEY_LEN])keys, 1,
	                                    index_key, &v),
	                 OB_OK);
	ob_keystore *ks = NULL;
	assert_int_equal(ob_keystore_create(v, &ks), OB_OK);
	assert_false(ob_keystore_can_rotate(ks));
	ob_keystore_lease lease;
	assert_ptr_equal(ob_keystore_acquire(ks, &lease), v);
	ob_keystore_release(&lease);
	char kid[OB_VAULT_KID_SIZE], why[128];
	assert_int_equal(ob_keystore_rotate(ks, kid, why, sizeof(why)), OB_EPRECOND);
	assert_string_equal(kid, "");
	ob_keystore_destroy(ks);

	ob_keystore *none = (ob_keystore *)&none;
	assert_int_equal(ob_keystore_create(NULL, &none), OB_EINVAL);
	assert_null(none);
	ob_keystore_destroy(NULL);
	char missing[340];
	snprintf(missing, sizeof(missing), "%s/absent.key", dir);
	assert_int_equal(ob_keystore_open(missing, &none, why, sizeof(why)), OB_ENOTFOUND);
	assert_null(none);
}

typedef struct readers {
	ob_keystore *ks;
	wrapped first; /* wrapped under k1 before any rotation */
	atomic_bool stop;
	atomic_int leases, failures;
} readers;

static void *read_loop(void *arg)
{
	readers *r = arg;
	while (!atomic_load(&r->stop)) {
		ob_keystore_lease lease;
		const ob_vault *v = ob_keystore_acquire(r->ks, &lease);
		uint8_t dk[OB_VAULT_KEY_LEN];
		if (ob_vault_unwrap(v, r->first.kid, r->first.w, r->first.len, dk) != OB_OK ||
		    memcmp(dk, r->first.dk, sizeof(dk)) != 0)
			atomic_fetch_add(&r->failures, 1);
		ob_keystore_release(&lease);
		atomic_fetch_add(&r->leases, 1);
	}
	return NULL;
}

/* Leases taken while rotations land always get a whole vault that opens the old keys. */
static void test_leases_during_rotations(void **state)
{
	readers r = {.ks = *state};
	ob_keystore_lease lease;
	wrap_one(ob_keystore_acquire(r.ks, &lease), &r.first);
	ob_keystore_release(&lease);
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, read_loop, &r), 0);
	for (int i = 0; i < 8; i++) {
		char kid[OB_VAULT_KID_SIZE], why[256];
		assert_int_equal(ob_keystore_rotate(r.ks, kid, why, sizeof(why)), OB_OK);
	}
	while (atomic_load(&r.leases) < 100)
		usleep(1000);
	atomic_store(&r.stop, true);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&r.failures), 0);
	const ob_vault *v = ob_keystore_acquire(r.ks, &lease);
	assert_int_equal(ob_vault_key_count(v), 9);
	ob_keystore_release(&lease);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_rotation_publishes_and_old_lease_keeps, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_failed_rotation_keeps_old, setup, teardown),
	        cmocka_unit_test(test_memory_keystore_cannot_rotate),
	        cmocka_unit_test_setup_teardown(test_cached_unwrap_answers_as_the_vault, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_leases_during_rotations, setup, teardown),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
