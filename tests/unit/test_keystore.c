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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/keystore.h"
#include "crypto/vault.h"
#include "secretfile.h"
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
	ob_keystore_follow(ks); /* as main.c does on a shared store */
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

/* ---- the key file changed by another instance (keystore.h) -------------------------------- */

/* A second keystore on the same file: another instance sharing the key file. */
static ob_keystore *open_other(void)
{
	char why[256];
	ob_keystore *other = NULL;
	assert_int_equal(ob_keystore_open(key_path, &other, why, sizeof(why)), OB_OK);
	ob_keystore_follow(other);
	return other;
}

static void assert_active(ob_keystore *ks, const char *kid)
{
	ob_keystore_lease lease;
	assert_string_equal(ob_vault_active_key_id(ob_keystore_acquire(ks, &lease)), kid);
	ob_keystore_release(&lease);
}

static void assert_keystore_unwraps(ob_keystore *ks, const wrapped *k)
{
	uint8_t dk[OB_VAULT_KEY_LEN];
	assert_int_equal(ob_keystore_unwrap(ks, k->kid, k->w, k->len, dk), OB_OK);
	assert_memory_equal(dk, k->dk, sizeof(dk));
}

/* A rotates; B, which read the file before, meets a data key under A's new key: it reads
 * the file again at once, unwraps it, and wraps its own new data keys under that key. */
static void test_unknown_key_rereads_the_file(void **state)
{
	ob_keystore *a = *state, *b = open_other();
	char kid[OB_VAULT_KID_SIZE], why[256] = "";
	assert_int_equal(ob_keystore_rotate(a, kid, why, sizeof(why)), OB_OK);
	ob_keystore_lease lease;
	wrapped k;
	wrap_one(ob_keystore_acquire(a, &lease), &k);
	ob_keystore_release(&lease);
	assert_string_equal(k.kid, kid);

	assert_keystore_unwraps(b, &k);
	assert_active(b, kid);
	wrapped mine;
	wrap_one(ob_keystore_acquire(b, &lease), &mine);
	ob_keystore_release(&lease);
	assert_string_equal(mine.kid, kid);
	assert_keystore_unwraps(a, &mine);
	ob_keystore_destroy(b);
}

/* One instance per file (SQLite: ob_keystore_follow never called): the file is not read
 * again behind the keystore's back, so a key only another keystore wrote stays unknown. */
static void test_not_following_keeps_its_keys(void **state)
{
	ob_keystore *a = *state, *b = NULL;
	char kid[OB_VAULT_KID_SIZE], why[256] = "";
	assert_int_equal(ob_keystore_open(key_path, &b, why, sizeof(why)), OB_OK);
	assert_false(ob_keystore_follows(b));
	assert_true(ob_keystore_follows(a));
	assert_int_equal(ob_keystore_rotate(a, kid, why, sizeof(why)), OB_OK);
	ob_keystore_lease lease;
	wrapped k;
	wrap_one(ob_keystore_acquire(a, &lease), &k);
	ob_keystore_release(&lease);
	uint8_t dk[OB_VAULT_KEY_LEN];
	assert_int_equal(ob_keystore_unwrap(b, k.kid, k.w, k.len, dk), OB_ENOTFOUND);
	assert_active(b, "k1");
	ob_keystore_destroy(b);
}

/* Without meeting the new key, B takes it up by the change check: at once when asked
 * (ob_keystore_refresh, what a rotation does first), and by itself on an acquire once the
 * check is due (within about OB_KEYSTORE_RECHECK_MS; waited for, up to 20 times that). */
static void test_change_check_takes_the_new_key(void **state)
{
	ob_keystore *a = *state, *b = open_other();
	char kid[OB_VAULT_KID_SIZE], why[256] = "";
	assert_int_equal(ob_keystore_rotate(a, kid, why, sizeof(why)), OB_OK);
	ob_keystore_refresh(b);
	assert_active(b, kid);

	assert_int_equal(ob_keystore_rotate(a, kid, why, sizeof(why)), OB_OK);
	bool seen = false;
	for (int i = 0; i < 400 && !seen; i++) {
		ob_keystore_lease lease;
		seen = strcmp(ob_vault_active_key_id(ob_keystore_acquire(b, &lease)), kid) == 0;
		ob_keystore_release(&lease);
		if (!seen)
			usleep(OB_KEYSTORE_RECHECK_MS * 50);
	}
	assert_true(seen);
	ob_keystore_destroy(b);
}

/* A key id that the file does not hold either: OB_ENOTFOUND, every time, the file read again
 * at most once an interval however many calls ask; once the key is in the file and the
 * interval is over, the next unwrap finds it. */
static void test_missing_key_rereads_once_an_interval(void **state)
{
	ob_keystore *b = *state;
	/* A key k9 that only another copy of the file has, for now. */
	char copy[340], why[256] = "";
	snprintf(copy, sizeof(copy), "%s.copy", key_path);
	FILE *in = fopen(key_path, "r");
	assert_non_null(in);
	char text[4096];
	size_t n = fread(text, 1, sizeof(text), in);
	fclose(in);
	unlink(copy);
	assert_int_equal(ob_secret_create(copy, text, n, why, sizeof(why)), 0);
	assert_int_equal(ob_vault_rotate_file(copy, "k9", NULL, why, sizeof(why)), OB_OK);
	ob_vault *v9 = NULL;
	assert_int_equal(ob_vault_open(copy, &v9, why, sizeof(why)), OB_OK);
	wrapped k;
	wrap_one(v9, &k);
	assert_string_equal(k.kid, "k9");

	uint8_t dk[OB_VAULT_KEY_LEN];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(ob_keystore_unwrap(b, "k9", k.w, k.len, dk), OB_ENOTFOUND);
	/* The copy, with k9, put in place as an operator would: by rename. */
	assert_int_equal(rename(copy, key_path), 0);
	/* Within the interval of the first reread, no call reads the file again. The machine
	 * may be slow enough for the interval to be over: then nothing can be told. */
	int rc = ob_keystore_unwrap(b, "k9", k.w, k.len, dk);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int64_t ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (ms < OB_KEYSTORE_RECHECK_MS)
		assert_int_equal(rc, OB_ENOTFOUND);
	bool found = false;
	for (int i = 0; i < 400 && !found; i++) {
		found = ob_keystore_unwrap(b, "k9", k.w, k.len, dk) == OB_OK;
		if (!found)
			usleep(OB_KEYSTORE_RECHECK_MS * 50);
	}
	assert_true(found);
	assert_memory_equal(dk, k.dk, sizeof(dk));
	assert_active(b, "k9");
	ob_vault_destroy(v9);
}

/* Replaces the key file by one whose text is body (mode 0600), by rename. */
static void replace_file(const char *body)
{
	char tmp[340], why[256];
	snprintf(tmp, sizeof(tmp), "%s.new", key_path);
	unlink(tmp);
	assert_int_equal(ob_secret_create(tmp, body, strlen(body), why, sizeof(why)), 0);
	assert_int_equal(rename(tmp, key_path), 0);
}

/* A file that lost a key, changed one, changed the index key, does not parse, or is not a
 * secret file any more, is refused: the keystore keeps its vault (the same one) and what it
 * unwraps. A file that only adds keys is taken. */
static void test_broken_or_shrunk_file_is_refused(void **state)
{
	ob_keystore *ks = *state;
	ob_keystore_lease lease;
	const ob_vault *before = ob_keystore_acquire(ks, &lease);
	wrapped k;
	wrap_one(before, &k);
	ob_keystore_release(&lease);

	FILE *in = fopen(key_path, "r");
	assert_non_null(in);
	char text[4096] = "";
	size_t n = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	text[n] = '\0';
	char *k1 = strstr(text, "\nk1 "), *index = strstr(text, "\nindex ");
	assert_non_null(k1);
	assert_non_null(index);

	char body[4096];
	const char *other = "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
	/* k1 gone (another key instead), k1 with other bytes, the index key changed. */
	snprintf(body, sizeof(body), "%.*s\nk2 %s", (int)(k1 - text), text, other + 3);
	const char *bodies[4];
	char changed[4096], reindexed[4096];
	snprintf(changed, sizeof(changed), "%.*s\n%s", (int)(k1 - text), text, other);
	snprintf(reindexed, sizeof(reindexed), "index %s%s", other + 3, k1 + 1);
	bodies[0] = body;
	bodies[1] = changed;
	bodies[2] = reindexed;
	bodies[3] = "index only\n"; /* does not parse */
	for (size_t i = 0; i < 4; i++) {
		replace_file(bodies[i]);
		ob_keystore_refresh(ks);
		assert_ptr_equal(ob_keystore_acquire(ks, &lease), before);
		ob_keystore_release(&lease);
		assert_keystore_unwraps(ks, &k);
	}
	/* Group-readable. */
	replace_file(text);
	assert_int_equal(chmod(key_path, 0640), 0);
	ob_keystore_refresh(ks);
	assert_ptr_equal(ob_keystore_acquire(ks, &lease), before);
	ob_keystore_release(&lease);
	/* Mended, and a key added: taken. */
	assert_int_equal(chmod(key_path, 0600), 0);
	char kid[OB_VAULT_KID_SIZE], why[256];
	assert_int_equal(ob_vault_rotate_file(key_path, "k2", kid, why, sizeof(why)), OB_OK);
	ob_keystore_refresh(ks);
	assert_active(ks, "k2");
	assert_keystore_unwraps(ks, &k);
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
	        cmocka_unit_test_setup_teardown(test_unknown_key_rereads_the_file, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_not_following_keeps_its_keys, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_change_check_takes_the_new_key, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_missing_key_rereads_once_an_interval, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_broken_or_shrunk_file_is_refused, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
