/*
 * test_auth.c: service/auth: roles, the keyring parser and loader, secret files, key
 * generation, login signatures and the replay cache, session tokens, rate limits, and the
 * rate limits of the authorizer (service/rpc/authz.c) as the dispatch calls it.
 *
 * Keys come from fixed seeds, so every run signs the same bytes. The login message and the
 * token tag are rebuilt here by hand from the format documented in auth.h, rather than through
 * the code under test, so that a change of wire format fails a test instead of passing
 * silently on both sides. Files are created in a fresh directory under /tmp, removed at the end.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth/auth.h"
#include "keyfile.h"
#include "base/clock.h"
#include "onboard/v1/auth.pb-c.h"
#include "rpc/authz.h"
#include "rpc/dispatch.h"
#include "rpc/handlers.h"
#include "testlogin.h"
#include "testutil.h"

/* 2023-11-14T22:13:20Z: any instant inside the validity of the open keys below. */
#define NOW INT64_C(1700000000000)

/* A caller's key pair, from a fixed seed. */
typedef struct {
	uint8_t seed[32];
	uint8_t pk[32];
	uint8_t sk[64];
	char id[17];
	char pk_b64[64];
} tkey;

enum { KA, KB, KC, KD, KE, NKEYS };
static tkey keys[NKEYS];
static char tmpdir[96];

enum { RACERS = 8 };

/* Runs fn on each of the RACERS arguments at args (size bytes each), each in a thread of its
 * own, all at once, and waits for them all. */
static void race(void *(*fn)(void *), void *args, size_t size)
{
	pthread_t th[RACERS];
	for (int i = 0; i < RACERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, fn, (char *)args + (size_t)i * size),
		                 0);
	for (int i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
}

static void make_key(tkey *k, uint8_t fill)
{
	memset(k->seed, fill, sizeof(k->seed));
	crypto_sign_seed_keypair(k->pk, k->sk, k->seed);
	ob_keyfile_key_id(k->pk, k->id);
	sodium_bin2base64(k->pk_b64, sizeof(k->pk_b64), k->pk, 32, sodium_base64_VARIANT_ORIGINAL);
}

static int group_setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	for (int i = 0; i < NKEYS; i++)
		make_key(&keys[i], (uint8_t)(0x11 * (i + 1)));
	return ob_test_mkdtemp(tmpdir, sizeof(tmpdir), "test_auth");
}

static int group_teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

/* A path in the test directory; the returned buffer is static (one at a time per slot). */
static const char *tpath(const char *name)
{
	static char buf[4][128];
	static int next;
	char *p = buf[next++ % 4];
	snprintf(p, 128, "%s/%s", tmpdir, name);
	return p;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (strstr(haystack, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* A keyring line for k. */
static char *key_line(char *buf, size_t size, const tkey *k, const char *role, const char *nb,
                      const char *na, const char *label)
{
	snprintf(buf, size, "%s %s %s %s %s %s\n", k->id, role, k->pk_b64, nb, na, label);
	return buf;
}

/* The keyring used by the login and token tests: A applicant and B reviewer (always valid),
 * C not valid before 2030, D expired in 2020. E is not in it. */
static ob_keyring *standard_keyring(void)
{
	char text[2048], l[256];
	text[0] = '\0';
	strcat(text, key_line(l, sizeof(l), &keys[KA], "applicant", "-", "-", "Alice"));
	strcat(text, key_line(l, sizeof(l), &keys[KB], "reviewer", "-", "-", "Bob"));
	strcat(text, key_line(l, sizeof(l), &keys[KC], "partner", "2030-01-01T00:00:00Z", "-",
	                      "Carol (future)"));
	strcat(text, key_line(l, sizeof(l), &keys[KD], "admin", "2019-01-01",
	                      "2020-01-01T00:00:00Z", "Dave (expired)"));
	ob_keyring *kr = NULL;
	char err[256];
	if (ob_keyring_parse(text, strlen(text), &kr, err, sizeof(err)) != OB_OK)
		fail_msg("standard keyring: %s", err);
	return kr;
}

/* ---- roles ---------------------------------------------------------------------------------- */

/* Role names are configuration and the role byte is on the wire: both must stay put. */
static void test_roles(void **state)
{
	(void)state;
	const char *names[] = {"none", "applicant", "partner", "reviewer", "admin", "ads"};
	for (int r = 0; r <= OB_ROLE_LAST; r++)
		assert_string_equal(ob_role_name((ob_role)r), names[r]);
	assert_string_equal(ob_role_name((ob_role)99), "invalid");
	ob_role role = OB_ROLE_NONE;
	assert_true(ob_role_parse("reviewer", &role));
	assert_int_equal(role, OB_ROLE_REVIEWER);
	assert_int_equal(OB_ROLE_APPLICANT, 1);
	assert_int_equal(OB_ROLE_ADMIN, 4);
	assert_int_equal(OB_ROLE_ADS, 5);
	assert_true(ob_role_parse("ads", &role));
	assert_int_equal(role, OB_ROLE_ADS);
	role = OB_ROLE_PARTNER;
	assert_false(ob_role_parse("none", &role));
	assert_false(ob_role_parse("Admin", &role));
	assert_false(ob_role_parse("admin ", &role));
	assert_false(ob_role_parse("", &role));
	assert_false(ob_role_parse(NULL, &role));
	assert_int_equal(role, OB_ROLE_PARTNER);
}

/* ---- keyring -------------------------------------------------------------------------------- */

/* Comments, blank lines, tabs, CRLF, open and bounded dates and labels with spaces all parse,
 * and lookups find exactly the keys listed. */
static void test_keyring_parse_ok(void **state)
{
	(void)state;
	char text[2048], l[256];
	snprintf(text, sizeof(text), "# onboard keyring\n\n   \n\t# indented comment\n");
	strcat(text, key_line(l, sizeof(l), &keys[KB], "admin", "2024-01-01T00:00:00Z",
	                      "2025-01-01T12:00:00+01:00", "Bob  the   admin  \t "));
	snprintf(l, sizeof(l), "\t%s\treviewer\t%s\t-\t-\tAlice\r\n", keys[KA].id, keys[KA].pk_b64);
	strcat(text, l);
	/* Last line without a newline. */
	snprintf(l, sizeof(l), "%s partner %s - 2030-06-30 #not a comment", keys[KC].id,
	         keys[KC].pk_b64);
	strcat(text, l);

	ob_keyring *kr = NULL;
	char err[256] = "";
	assert_int_equal(ob_keyring_parse(text, strlen(text), &kr, err, sizeof(err)), OB_OK);
	assert_int_equal(ob_keyring_count(kr), 3);
	for (size_t i = 1; i < 3; i++)
		assert_true(strcmp(ob_keyring_at(kr, i - 1)->id, ob_keyring_at(kr, i)->id) < 0);
	assert_null(ob_keyring_at(kr, 3));

	const ob_key *b = ob_keyring_find(kr, keys[KB].id);
	assert_non_null(b);
	assert_string_equal(b->id, keys[KB].id);
	assert_int_equal(b->role, OB_ROLE_ADMIN);
	assert_memory_equal(b->pk, keys[KB].pk, 32);
	assert_int_equal(b->not_before_ms, INT64_C(1704067200000));
	assert_int_equal(b->not_after_ms, INT64_C(1735729200000)); /* 11:00Z */
	assert_string_equal(b->label, "Bob  the   admin");
	assert_true(ob_key_valid_at(b, INT64_C(1704067200000)));
	assert_false(ob_key_valid_at(b, INT64_C(1704067200000) - 1));
	assert_true(ob_key_valid_at(b, INT64_C(1735729200000)));
	assert_false(ob_key_valid_at(b, INT64_C(1735729200000) + 1));

	const ob_key *a = ob_keyring_find(kr, keys[KA].id);
	assert_non_null(a);
	assert_int_equal(a->role, OB_ROLE_REVIEWER);
	assert_int_equal(a->not_before_ms, 0);
	assert_int_equal(a->not_after_ms, 0);
	assert_string_equal(a->label, "Alice");
	assert_true(ob_key_valid_at(a, INT64_MIN));
	assert_true(ob_key_valid_at(a, INT64_MAX));

	const ob_key *c = ob_keyring_find(kr, keys[KC].id);
	assert_non_null(c);
	assert_string_equal(c->label, "#not a comment");
	assert_null(ob_keyring_find(kr, keys[KD].id));
	assert_null(ob_keyring_find(kr, "0000000000000000"));
	ob_keyring_destroy(kr);

	/* Nothing but comments: a valid, empty keyring. */
	assert_int_equal(ob_keyring_parse("# none yet\n", 11, &kr, err, sizeof(err)), OB_OK);
	assert_int_equal(ob_keyring_count(kr), 0);
	assert_null(ob_keyring_find(kr, keys[KA].id));
	ob_keyring_destroy(kr);
	assert_int_equal(ob_keyring_parse("", 0, &kr, err, sizeof(err)), OB_OK);
	ob_keyring_destroy(kr);
}

/* Every way a line can be wrong is refused with the line number and the field named, the
 * whole text is refused and *out is left alone. */
static void test_keyring_malformed_lines(void **state)
{
	(void)state;
	const tkey *k = &keys[KA];
	char label65[66];
	memset(label65, 'x', 65);
	label65[65] = '\0';
	char longline[1100];
	snprintf(longline, sizeof(longline), "%s admin %s - - %01000d", k->id, k->pk_b64, 7);
	char zero_pk[64];
	uint8_t zeros[32] = {0};
	sodium_bin2base64(zero_pk, sizeof(zero_pk), zeros, 32, sodium_base64_VARIANT_ORIGINAL);
	/* The same key with a non-zero bit in the padding: decodes to the same bytes if the
	 * decoder were lenient. */
	char noncanon[64];
	strcpy(noncanon, k->pk_b64);
	noncanon[42] = noncanon[42] == 'A' ? 'B' : (char)(noncanon[42] ^ 1);

	struct {
		char line[1200];
		const char *want;
		ob_err rc;
	} cases[] = {
	        {"zzzz applicant", "KEY_ID must be 16 lowercase hex", OB_EINVAL},
	        {"", "KEY_ID must be", OB_EINVAL}, /* uppercase id, filled in below */
	        {"", "missing ROLE", OB_EINVAL},
	        {"", "unknown ROLE", OB_EINVAL},
	        {"", "unknown ROLE", OB_EINVAL},
	        {"", "unknown ROLE", OB_EINVAL},
	        {"", "missing PUBLIC_KEY", OB_EINVAL},
	        {"", "PUBLIC_KEY must be standard base64", OB_EINVAL},
	        {"", "PUBLIC_KEY must be standard base64", OB_EINVAL},
	        {"", "PUBLIC_KEY must be standard base64", OB_EINVAL},
	        {"", "not a valid Ed25519 public key", OB_EINVAL},
	        {"", "missing NOT_BEFORE", OB_EINVAL},
	        {"", "NOT_BEFORE must be an RFC 3339", OB_EINVAL},
	        {"", "NOT_BEFORE must be an RFC 3339", OB_EINVAL},
	        {"", "NOT_BEFORE must be an RFC 3339", OB_EINVAL},
	        {"", "missing NOT_AFTER", OB_EINVAL},
	        {"", "NOT_AFTER must be an RFC 3339", OB_EINVAL},
	        {"", "NOT_BEFORE is after NOT_AFTER", OB_EINVAL},
	        {"", "missing LABEL", OB_EINVAL},
	        {"", "missing LABEL", OB_EINVAL},
	        {"", "LABEL is longer than 64", OB_EINVAL},
	        {"", "LABEL must be printable ASCII", OB_EINVAL},
	        {"", "LABEL must be printable ASCII", OB_EINVAL},
	        {"", "longer than 1024 bytes", OB_ETOOBIG},
	};
	int i = 1;
	char upper[17];
	for (int j = 0; j < 16; j++)
		upper[j] = (char)(k->id[j] >= 'a' ? k->id[j] - 32 : k->id[j]);
	upper[16] = '\0';
#define CASE(...) snprintf(cases[i++].line, sizeof(cases[0].line), __VA_ARGS__)
	CASE("%s applicant %s - - x", upper, k->pk_b64);
	CASE("%s", k->id);
	CASE("%s root %s - - x", k->id, k->pk_b64);
	CASE("%s none %s - - x", k->id, k->pk_b64);
	CASE("%s %s %s - - x", k->id, label65 + 1, k->pk_b64); /* 64 bytes: the copy's edge */
	CASE("%s admin", k->id);
	CASE("%s admin %.43s - - x", k->id, k->pk_b64);
	CASE("%s admin %s= - - x", k->id, k->pk_b64);
	CASE("%s admin %s - - x", k->id, noncanon);
	CASE("%s admin %s - - x", k->id, zero_pk);
	CASE("%s admin %s", k->id, k->pk_b64);
	CASE("%s admin %s yesterday - x", k->id, k->pk_b64);
	CASE("%s admin %s 1970-01-01T00:00:00Z - x", k->id, k->pk_b64);
	CASE("%s admin %s %s - x", k->id, k->pk_b64, label65 + 1);
	CASE("%s admin %s -", k->id, k->pk_b64);
	CASE("%s admin %s - 2024-02-30 x", k->id, k->pk_b64);
	CASE("%s admin %s 2024-01-02 2024-01-01 x", k->id, k->pk_b64);
	CASE("%s admin %s - -", k->id, k->pk_b64);
	CASE("%s admin %s - - \t  ", k->id, k->pk_b64);
	CASE("%s admin %s - - %s", k->id, k->pk_b64, label65);
	CASE("%s admin %s - - bell\a", k->id, k->pk_b64);
	CASE("%s admin %s - - Ren\xc3\xa9", k->id, k->pk_b64);
	CASE("%s", longline);
#undef CASE
	assert_int_equal(i, (int)(sizeof(cases) / sizeof(cases[0])));

	char good[256];
	key_line(good, sizeof(good), &keys[KB], "admin", "-", "-", "ok");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char text[2 * sizeof(good) + sizeof(cases[0].line) + 16], err[256] = "";
		strcpy(text, "# keys\n");
		strcat(text, good);
		strcat(text, cases[c].line);
		strcat(text, "\n");
		strcat(text, good);
		ob_keyring *kr = (ob_keyring *)&kr; /* a sentinel: must not be written */
		ob_err rc = ob_keyring_parse(text, strlen(text), &kr, err, sizeof(err));
		if (rc != cases[c].rc)
			fail_msg("case %zu: got %s (%s)", c, ob_strerror(rc), err);
		assert_ptr_equal(kr, (ob_keyring *)&kr);
		assert_contains(err, "line 3: ");
		assert_contains(err, cases[c].want);
	}

	/* A NUL byte inside a line. */
	char text[512], err[256] = "";
	int n = snprintf(text, sizeof(text), "# keys\n\n%s", good);
	text[n - 5] = '\0';
	ob_keyring *kr = NULL;
	assert_int_equal(ob_keyring_parse(text, (size_t)n, &kr, err, sizeof(err)), OB_EINVAL);
	assert_string_equal(err, "line 3: NUL byte");
	assert_null(kr);
	/* A NULL or zero-sized err buffer is allowed. */
	assert_int_equal(ob_keyring_parse("x", 1, &kr, NULL, 0), OB_EINVAL);
	assert_int_equal(ob_keyring_parse("x", 1, &kr, err, 0), OB_EINVAL);
}

/* An id is derived from the key it names: pairing B's id with A's key is refused, and the
 * message tells the operator the right id. */
static void test_keyring_id_mismatch(void **state)
{
	(void)state;
	char text[512], err[256] = "";
	snprintf(text, sizeof(text), "%s admin %s - - Mallory\n", keys[KB].id, keys[KA].pk_b64);
	ob_keyring *kr = NULL;
	assert_int_equal(ob_keyring_parse(text, strlen(text), &kr, err, sizeof(err)), OB_EINVAL);
	assert_contains(err, "line 1: KEY_ID does not match PUBLIC_KEY");
	assert_contains(err, keys[KA].id);
	assert_null(kr);
}

/* A key listed twice (even with another role) is refused, naming both lines. */
static void test_keyring_duplicate(void **state)
{
	(void)state;
	char text[1024], l[256], err[256] = "";
	snprintf(text, sizeof(text), "# dup\n");
	strcat(text, key_line(l, sizeof(l), &keys[KA], "applicant", "-", "-", "A"));
	strcat(text, key_line(l, sizeof(l), &keys[KB], "reviewer", "-", "-", "B"));
	strcat(text, key_line(l, sizeof(l), &keys[KA], "admin", "-", "-", "A again"));
	ob_keyring *kr = NULL;
	assert_int_equal(ob_keyring_parse(text, strlen(text), &kr, err, sizeof(err)), OB_EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "line 4: duplicate KEY_ID %s (first on line 2)", keys[KA].id);
	assert_string_equal(err, want);
	assert_null(kr);
}

/* The key count is capped, so a runaway file cannot take the memory. */
static void test_keyring_too_many_keys(void **state)
{
	(void)state;
	size_t n = OB_KEYRING_MAX_KEYS + 1, cap = n * 120;
	char *text = malloc(cap), *p = text;
	assert_non_null(text);
	for (size_t i = 0; i < n; i++) {
		tkey k;
		uint8_t sk[64];
		randombytes_buf(k.seed, sizeof(k.seed));
		crypto_sign_seed_keypair(k.pk, sk, k.seed);
		ob_keyfile_key_id(k.pk, k.id);
		sodium_bin2base64(k.pk_b64, sizeof(k.pk_b64), k.pk, 32,
		                  sodium_base64_VARIANT_ORIGINAL);
		p += sprintf(p, "%s applicant %s - - k\n", k.id, k.pk_b64);
	}
	ob_keyring *kr = NULL;
	char err[256] = "";
	assert_int_equal(ob_keyring_parse(text, (size_t)(p - text), &kr, err, sizeof(err)),
	                 OB_ETOOBIG);
	assert_string_equal(err, "line 10001: more than 10000 keys");
	/* Exactly at the cap is fine: the same text without its last line. */
	*strrchr(text, '\n') = '\0';
	size_t len = (size_t)(strrchr(text, '\n') - text) + 1;
	assert_int_equal(ob_keyring_parse(text, len, &kr, err, sizeof(err)), OB_OK);
	assert_int_equal(ob_keyring_count(kr), OB_KEYRING_MAX_KEYS);
	ob_keyring_destroy(kr);
	free(text);
}

/* Anyone who can write the keyring can make themselves admin: a group- or world-writable
 * file is refused, as is anything but a regular file; the path and line are in the message. */
static void test_keyring_load_files(void **state)
{
	(void)state;
	char l[256], err[512] = "";
	const char *path = tpath("keyring");
	key_line(l, sizeof(l), &keys[KA], "applicant", "-", "-", "Alice");
	write_file(path, l, 0666);
	ob_keyring *kr = NULL;
	assert_int_equal(ob_keyring_load(path, &kr, err, sizeof(err)), OB_EPERM);
	assert_contains(err, path);
	assert_contains(err, "world-writable");
	assert_null(kr);

	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(ob_keyring_load(path, &kr, err, sizeof(err)), OB_EPERM);
	assert_null(kr);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ob_keyring_load(path, &kr, err, sizeof(err)), OB_OK);
	assert_int_equal(ob_keyring_count(kr), 1);
	ob_keyring_destroy(kr);

	/* Errors in a file carry its name and the line. */
	write_file(path, "# one\nbogus\n", 0644);
	kr = NULL;
	assert_int_equal(ob_keyring_load(path, &kr, err, sizeof(err)), OB_EINVAL);
	char want[256];
	snprintf(want, sizeof(want), "%s: line 2: KEY_ID", path);
	assert_contains(err, want);
	assert_null(kr);
	assert_int_equal(unlink(path), 0);

	assert_int_equal(ob_keyring_load(tmpdir, &kr, err, sizeof(err)), OB_EPERM);
	assert_contains(err, "not a regular file");
	assert_int_equal(ob_keyring_load(path, &kr, err, sizeof(err)), OB_ENOTFOUND);
	assert_null(kr);
}

/* Owners count as much as modes: another user (uid 65534 here) who owns the keyring, or the
 * folder it is in, can rewrite it whatever its mode, and so make themselves admin. So can
 * whoever can write a folder on the way: the keyring's, or the one of a symbolic link to it.
 * Giving a file away needs root, which the test suites run as. */
static void test_keyring_load_owner(void **state)
{
	(void)state;
	if (!ob_test_is_root(__func__))
		skip();
	char l[256], err[512] = "", dir[128], path[160], pub[128], link[160];
	snprintf(dir, sizeof(dir), "%s", tpath("owned"));
	snprintf(path, sizeof(path), "%s/keyring", dir);
	snprintf(pub, sizeof(pub), "%s", tpath("public"));
	snprintf(link, sizeof(link), "%s/keyring", pub);
	assert_int_equal(mkdir(dir, 0700), 0);
	key_line(l, sizeof(l), &keys[KA], "applicant", "-", "-", "Alice");
	write_file(path, l, 0644);
	ob_keyring *kr = NULL;
	assert_int_equal(ob_keyring_load(path, &kr, err, sizeof(err)), OB_OK);
	ob_keyring_destroy(kr);
	kr = NULL;

	/* Another user's file, writable by its owner only. */
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(ob_keyring_load(path, &kr, err, sizeof(err)), OB_EPERM);
	assert_null(kr);
	assert_contains(err, path);
	assert_contains(err, "owned by uid 65534");
	assert_int_equal(chown(path, 0, 0), 0);

	/* Another user's folder. */
	assert_int_equal(chown(dir, 65534, 65534), 0);
	assert_int_equal(ob_keyring_load(path, &kr, err, sizeof(err)), OB_EPERM);
	assert_null(kr);
	assert_contains(err, "folder");
	assert_contains(err, "uid 65534");
	assert_int_equal(chown(dir, 0, 0), 0);

	/* A folder the group may write in. */
	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_equal(ob_keyring_load(path, &kr, err, sizeof(err)), OB_EPERM);
	assert_null(kr);
	assert_contains(err, "group- or world-writable");
	assert_int_equal(chmod(dir, 0700), 0);

	/* A symbolic link to the good keyring, from a folder anyone may write in: refused; the
	 * same link from a good folder: followed. */
	assert_int_equal(mkdir(pub, 0700), 0);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ob_keyring_load(link, &kr, err, sizeof(err)), OB_OK);
	ob_keyring_destroy(kr);
	kr = NULL;
	assert_int_equal(chmod(pub, 0777), 0);
	assert_int_equal(ob_keyring_load(link, &kr, err, sizeof(err)), OB_EPERM);
	assert_null(kr);
	assert_contains(err, pub);

	assert_int_equal(unlink(link), 0);
	assert_int_equal(rmdir(pub), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Reload: readers that took a reference keep using the old keyring after a swap, and the
 * last reference frees it (ASan reports a use after free or a leak otherwise). */
static void test_keyring_slot_swap(void **state)
{
	(void)state;
	ob_keyring_slot slot;
	assert_int_equal(ob_keyring_slot_init(&slot, standard_keyring()), OB_OK);
	ob_keyring *held = ob_keyring_slot_get(&slot);
	assert_non_null(held);
	const ob_key *a = ob_keyring_find(held, keys[KA].id);
	assert_non_null(a);

	char l[256], err[256];
	key_line(l, sizeof(l), &keys[KE], "admin", "-", "-", "Eve");
	ob_keyring *next = NULL;
	assert_int_equal(ob_keyring_parse(l, strlen(l), &next, err, sizeof(err)), OB_OK);
	ob_keyring_slot_set(&slot, next);

	assert_string_equal(a->label, "Alice"); /* still readable through the old reference */
	ob_keyring *now = ob_keyring_slot_get(&slot);
	assert_ptr_equal(now, next);
	assert_null(ob_keyring_find(now, keys[KA].id));
	assert_non_null(ob_keyring_find(now, keys[KE].id));
	ob_keyring_unref(now);
	ob_keyring_unref(held);
	ob_keyring_slot_fini(&slot);
	ob_keyring_unref(NULL);
	ob_keyring_destroy(NULL);
}

/* ---- secret files --------------------------------------------------------------------------- */

/* Only 0600/0400 files of the running user pass; group or world access, links and
 * directories are refused with OB_EPERM. */
static void test_secret_file_modes(void **state)
{
	(void)state;
	const char *path = tpath("secret");
	char err[512] = "";
	uint8_t secret[32], got[32];
	memset(secret, 0xA5, sizeof(secret));
	char b64[64];
	sodium_bin2base64(b64, sizeof(b64), secret, 32, sodium_base64_VARIANT_ORIGINAL);
	strcat(b64, "\n");

	write_file(path, b64, 0644);
	assert_int_equal(ob_secret_file_check(path, err, sizeof(err)), OB_EPERM);
	assert_contains(err, "mode 0644");
	write_file(path, b64, 0640);
	assert_int_equal(ob_secret_file_check(path, err, sizeof(err)), OB_EPERM);
	write_file(path, b64, 0620);
	assert_int_equal(ob_secret_file_check(path, err, sizeof(err)), OB_EPERM);
	write_file(path, b64, 0602);
	assert_int_equal(ob_secret_file_check(path, err, sizeof(err)), OB_EPERM);
	memset(got, 0, sizeof(got));
	assert_int_equal(ob_secret_file_read(path, got, 32, err, sizeof(err)), OB_EPERM);
	assert_memory_not_equal(got, secret, 32);

	write_file(path, b64, 0600);
	assert_int_equal(ob_secret_file_check(path, err, sizeof(err)), OB_OK);
	assert_int_equal(ob_secret_file_read(path, got, 32, err, sizeof(err)), OB_OK);
	assert_memory_equal(got, secret, 32);
	write_file(path, b64, 0400);
	assert_int_equal(ob_secret_file_check(path, err, sizeof(err)), OB_OK);

	/* A symbolic link to a good file is refused, not followed. */
	const char *link = tpath("secret-link");
	unlink(link);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ob_secret_file_check(link, err, sizeof(err)), OB_EPERM);
	assert_contains(err, "symbolic link");
	assert_int_equal(unlink(link), 0);

	assert_int_equal(ob_secret_file_check(tmpdir, err, sizeof(err)), OB_EPERM);
	assert_int_equal(ob_secret_file_check(tpath("absent"), err, sizeof(err)), OB_ENOTFOUND);

	/* Someone else's file, even 0600 (only root can make one to test with). */
	if (geteuid() == 0) {
		write_file(path, b64, 0600);
		assert_int_equal(chown(path, 4242, 4242), 0);
		assert_int_equal(ob_secret_file_check(path, err, sizeof(err)), OB_EPERM);
		assert_contains(err, "owned by uid 4242");
	}
	assert_int_equal(unlink(path), 0);
}

/* The content must be exactly one line of base64 of the expected size; nothing is written
 * to out otherwise. */
static void test_secret_file_content(void **state)
{
	(void)state;
	const char *path = tpath("secret");
	char err[512] = "";
	uint8_t got[32];
	const char *bad[] = {
	        "",
	        "\n",
	        "AAAA\n",                                           /* 3 bytes */
	        "pQ==\n",                                           /* 1 byte */
	        "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=\n\n", /* a second line */
	        " paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=\n",  /* a leading blank */
	        "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU\n",    /* padding missing */
	        "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaV=\n",   /* non-canonical bits */
	        "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=x",    /* trailing garbage */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i], 0600);
		memset(got, 0x5A, sizeof(got));
		if (ob_secret_file_read(path, got, 32, err, sizeof(err)) != OB_EINVAL)
			fail_msg("case %zu accepted", i);
		assert_contains(err, "not one line of base64 of exactly 32 bytes");
		for (size_t j = 0; j < sizeof(got); j++)
			assert_int_equal(got[j], 0x5A);
	}
	/* CRLF and a missing final newline are fine. */
	write_file(path, "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=\r\n", 0600);
	assert_int_equal(ob_secret_file_read(path, got, 32, err, sizeof(err)), OB_OK);
	write_file(path, "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=", 0600);
	assert_int_equal(ob_secret_file_read(path, got, 32, err, sizeof(err)), OB_OK);
	assert_int_equal(got[0], 0xA5);
	assert_int_equal(ob_secret_file_read(path, got, 0, err, sizeof(err)), OB_EINVAL);
	assert_int_equal(ob_secret_file_read(path, got, 4096, err, sizeof(err)), OB_EINVAL);
	/* Oversized files are refused without being read whole. */
	char *big = malloc(4096);
	assert_non_null(big);
	memset(big, 'A', 4095);
	big[4095] = '\0';
	write_file(path, big, 0600);
	free(big);
	assert_int_equal(ob_secret_file_read(path, got, 32, err, sizeof(err)), OB_EINVAL);
	assert_contains(err, "too long");
	assert_int_equal(unlink(path), 0);
}

/* ---- key generation ------------------------------------------------------------------------- */

/* keygen (common/keyfile.c, the one implementation the CLI and the tests use) writes a 0600
 * seed file that loads back into the key it announced, that the server's secret-file check
 * accepts, and never overwrites an existing file nor writes through a link. */
static void test_keygen(void **state)
{
	(void)state;
	const char *path = tpath("caller.key");
	char id[17], pk_b64[64], err[512] = "";
	mode_t old = umask(0);
	int rc = ob_keyfile_generate(path, id, pk_b64, err, sizeof(err));
	umask(old);
	assert_int_equal(rc, 0);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(ob_secret_file_check(path, err, sizeof(err)), OB_OK);
	assert_true(ob_key_id_valid(id));
	assert_int_equal(strlen(pk_b64), OB_KEY_PK_B64_LEN);

	uint8_t seed[32], pk[32], sk[64];
	char id_loaded[17];
	assert_int_equal(ob_keyfile_load(path, seed, id_loaded, err, sizeof(err)), 0);
	assert_string_equal(id_loaded, id);
	crypto_sign_seed_keypair(pk, sk, seed);
	char pk2[64], id2[17];
	sodium_bin2base64(pk2, sizeof(pk2), pk, 32, sodium_base64_VARIANT_ORIGINAL);
	ob_keyfile_key_id(pk, id2);
	assert_string_equal(pk2, pk_b64);
	assert_string_equal(id2, id);

	/* The announced id and key make a valid keyring line. */
	char line[256];
	snprintf(line, sizeof(line), "%s applicant %s - - new caller\n", id, pk_b64);
	ob_keyring *kr = NULL;
	assert_int_equal(ob_keyring_parse(line, strlen(line), &kr, err, sizeof(err)), OB_OK);
	ob_keyring_destroy(kr);

	/* A second run must not replace the key: the file is byte-for-byte unchanged. */
	char id3[17] = "", pk3[64] = "";
	assert_int_equal(ob_keyfile_generate(path, id3, pk3, err, sizeof(err)), -1);
	assert_contains(err, "already exists");
	uint8_t again[32];
	assert_int_equal(ob_keyfile_load(path, again, id3, err, sizeof(err)), 0);
	assert_memory_equal(again, seed, 32);

	/* Nor write through a symbolic link. */
	const char *link = tpath("link.key");
	const char *target = tpath("target.key");
	unlink(link);
	unlink(target);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(ob_keyfile_generate(link, id3, pk3, err, sizeof(err)), -1);
	assert_int_equal(access(target, F_OK), -1);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(unlink(path), 0);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
}

/* ---- login ---------------------------------------------------------------------------------- */

/* The names of the server of the login tests (its audiences), and another server's. */
#define SERVER_AUD "ipc:///run/onboard/onboardd.sock"
#define OTHER_AUD  "tcp://staging.example:7400"
static const char *const server_auds[] = {SERVER_AUD, "tls+tcp://onboard.example:7443"};
static const char *const default_aud[] = {SERVER_AUD};

/* Signs the login message as auth.h documents it (testlogin.h), with signer's key, for claimed_id
 * and auds[0..n). */
static void sign_raw_for(const tkey *signer, const char *claimed_id, int64_t ts,
                         const uint8_t nonce[16], const char *const *auds, size_t n,
                         uint8_t sig[64])
{
	uint8_t msg[2048];
	size_t len = ob_test_login_message(msg, sizeof(msg), claimed_id, ts, nonce, auds, n);
	assert_true(len > 0);
	crypto_sign_detached(sig, NULL, msg, len, signer->sk);
}

/* The same, for the test server's first name. */
static void sign_raw(const tkey *signer, const char *claimed_id, int64_t ts,
                     const uint8_t nonce[16], uint8_t sig[64])
{
	sign_raw_for(signer, claimed_id, ts, nonce, default_aud, 1, sig);
}

static void nonce_of(uint8_t nonce[16], uint8_t n)
{
	memset(nonce, n, 16);
}

/* The verdict and retry-after of the last verify() call of this thread: the concurrent
 * tests verify from several threads at once (ThreadSanitizer saw them share one). */
static _Thread_local ob_login_result last;

/* ob_login_verify with the request's fields as arguments, for the audiences auds[0..n); *key
 * is written on OB_OK only. */
static ob_err verify_for(ob_login_verifier *v, const ob_keyring *kr, const char *id, int64_t ts,
                         const uint8_t nonce[16], const uint8_t sig[64], const char *const *auds,
                         size_t n, int64_t now, const ob_key **key)
{
	ob_login_request rq = {.key_id = id,
	                       .ts_ms = ts,
	                       .nonce = nonce,
	                       .sig = sig,
	                       .audiences = auds,
	                       .n_audiences = n};
	memset(&last, 0xA5, sizeof(last));
	ob_err rc = ob_login_verify(v, kr, &rq, now, &last);
	if (rc == OB_OK)
		*key = last.key;
	return rc;
}

/* The same, for the test server's first name. */
static ob_err verify(ob_login_verifier *v, const ob_keyring *kr, const char *id, int64_t ts,
                     const uint8_t nonce[16], const uint8_t sig[64], int64_t now,
                     const ob_key **key)
{
	return verify_for(v, kr, id, ts, nonce, sig, default_aud, 1, now, key);
}

/* Key k's genuine login at ts, with the nonce nonce_of(n), verified by v at now; key as verify's.
 */
static ob_err login_as(ob_login_verifier *v, const ob_keyring *kr, int k, int64_t ts, uint8_t n,
                       int64_t now, const ob_key **key)
{
	uint8_t nonce[16], sig[64];
	nonce_of(nonce, n);
	sign_raw(&keys[k], keys[k].id, ts, nonce, sig);
	return verify(v, kr, keys[k].id, ts, nonce, sig, now, key);
}

/* A verifier of the test server with room for max entries, at most per_key of them for one
 * key. */
static ob_login_verifier *verifier(size_t max, size_t per_key)
{
	ob_login_verifier *v = NULL;
	ob_login_config cfg = {.max_entries = max,
	                       .max_per_key = per_key,
	                       .audiences = server_auds,
	                       .n_audiences = 2};
	assert_int_equal(ob_login_verifier_create(&cfg, &v), OB_OK);
	return v;
}

/* What the login and token tests share: the standard keyring, a login verifier of the test
 * server and a token minter of a fixed secret. */
typedef struct {
	ob_keyring *kr;
	ob_login_verifier *v;
	ob_token_minter *m;
	uint8_t secret[32];
} fixture;

static int teardown(void **state)
{
	fixture *f = *state;
	ob_token_minter_destroy(f->m);
	ob_login_verifier_destroy(f->v);
	ob_keyring_unref(f->kr);
	free(f);
	return 0;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	*state = f;
	f->kr = standard_keyring();
	memset(f->secret, 0x3C, sizeof(f->secret));
	ob_login_config cfg = {.audiences = server_auds, .n_audiences = 2};
	if (ob_login_verifier_create(&cfg, &f->v) != OB_OK ||
	    ob_token_minter_create(f->secret, &f->m) != OB_OK) {
		teardown(state);
		return -1;
	}
	return 0;
}

/* A genuine login is accepted, returns the key, and ob_login_sign signs the documented
 * bytes (Ed25519 is deterministic, so both signatures are equal). */
static void test_login_ok(void **state)
{
	fixture *f = *state;
	uint8_t nonce[16], sig[64], sig2[64];
	nonce_of(nonce, 1);
	assert_int_equal(ob_login_sign(keys[KA].seed, keys[KA].id, NOW, nonce, default_aud, 1, sig),
	                 OB_OK);
	sign_raw(&keys[KA], keys[KA].id, NOW, nonce, sig2);
	assert_memory_equal(sig, sig2, 64);

	const ob_key *key = NULL;
	assert_int_equal(verify(f->v, f->kr, keys[KA].id, NOW, nonce, sig, NOW, &key), OB_OK);
	assert_non_null(key);
	if (key == NULL)
		return; /* for the compiler, which does not know that assert_non_null stops here */
	assert_string_equal(key->id, keys[KA].id);
	assert_int_equal(key->role, OB_ROLE_APPLICANT);
	assert_int_equal(ob_login_verifier_size(f->v), 1);

	assert_int_equal(last.verdict, OB_LOGIN_ACCEPTED);
}

/* The window is 60 s behind the server's clock and only 5 s ahead of it, edges included: a
 * timestamp far in the future would keep its nonce in the cache longer (a key holder filling
 * the cache got twice the lifetime per entry from +60 s). Outside, the verdict is the clock. */
static void test_login_window(void **state)
{
	fixture *f = *state;
	uint8_t nonce[16], sig[64];
	const ob_key *key = NULL;
	const struct {
		int64_t offset;
		ob_err want;
	} cases[] = {
	        {-OB_LOGIN_MAX_AGE_MS, OB_OK},
	        {OB_LOGIN_MAX_AHEAD_MS, OB_OK},
	        {-OB_LOGIN_MAX_AGE_MS - 1, OB_EAUTH},
	        {OB_LOGIN_MAX_AHEAD_MS + 1, OB_EAUTH},
	        {30000, OB_EAUTH},
	        {60000, OB_EAUTH},
	};
	assert_int_equal(OB_LOGIN_MAX_AGE_MS, 60000);
	assert_int_equal(OB_LOGIN_MAX_AHEAD_MS, 5000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ts = NOW + cases[i].offset;
		nonce_of(nonce, (uint8_t)(60 + i));
		sign_raw(&keys[KB], keys[KB].id, ts, nonce, sig);
		ob_err rc = verify(f->v, f->kr, keys[KB].id, ts, nonce, sig, NOW, &key);
		if (rc != cases[i].want)
			fail_msg("a timestamp %+lld ms from the server's clock: %s, expected %s",
			         (long long)cases[i].offset, ob_strerror(rc),
			         ob_strerror(cases[i].want));
		assert_int_equal(last.verdict,
		                 rc == OB_OK ? OB_LOGIN_ACCEPTED : OB_LOGIN_CLOCK_SKEW);
	}
	assert_int_equal(ob_login_verifier_size(f->v), 2);
}

/* A client configured with the wrong id finds out when signing. */
static void test_login_sign_checks_id(void **state)
{
	(void)state;
	uint8_t nonce[16] = {0}, sig[64];
	assert_int_equal(ob_login_sign(keys[KA].seed, keys[KB].id, NOW, nonce, default_aud, 1, sig),
	                 OB_EINVAL);
	assert_int_equal(ob_login_sign(keys[KA].seed, keys[KA].id, NOW, nonce, default_aud, 0, sig),
	                 OB_EINVAL);
	assert_int_equal(
	        ob_login_sign(keys[KA].seed, "0123456789abcdeZ", NOW, nonce, default_aud, 1, sig),
	        OB_EINVAL);
}

/* A login is bound to the servers it was signed for: signed for another server (a login
 * captured there and relayed here), it is refused, with a verdict that says so; one of
 * several audiences naming this server is enough; the audiences cannot be changed without
 * breaking the signature; a server without a name takes no login. */
static void test_login_audience(void **state)
{
	fixture *f = *state;
	uint8_t nonce[16], sig[64];
	const ob_key *key = NULL;
	const char *const other[] = {OTHER_AUD};
	const char *const both[] = {OTHER_AUD, "tls+tcp://onboard.example:7443"};

	nonce_of(nonce, 100);
	sign_raw_for(&keys[KA], keys[KA].id, NOW, nonce, other, 1, sig);
	assert_int_equal(verify_for(f->v, f->kr, keys[KA].id, NOW, nonce, sig, other, 1, NOW, &key),
	                 OB_EAUTH);
	assert_int_equal(last.verdict, OB_LOGIN_WRONG_AUDIENCE);
	/* Presented as if signed for this server: the signature covers the audiences. */
	assert_int_equal(verify(f->v, f->kr, keys[KA].id, NOW, nonce, sig, NOW, &key), OB_EAUTH);
	assert_int_equal(last.verdict, OB_LOGIN_BAD_KEY_OR_SIGNATURE);
	assert_int_equal(ob_login_verifier_size(f->v), 0);

	/* A client of two servers of one service: the second name is this server's. */
	sign_raw_for(&keys[KA], keys[KA].id, NOW, nonce, both, 2, sig);
	assert_int_equal(verify_for(f->v, f->kr, keys[KA].id, NOW, nonce, sig, both, 2, NOW, &key),
	                 OB_OK);
	/* No audience, or an empty one: nothing to bind to. */
	nonce_of(nonce, 101);
	const char *const empty[] = {""};
	assert_int_equal(verify_for(f->v, f->kr, keys[KA].id, NOW, nonce, sig, both, 0, NOW, &key),
	                 OB_EAUTH);
	assert_int_equal(last.verdict, OB_LOGIN_WRONG_AUDIENCE);
	assert_int_equal(verify_for(f->v, f->kr, keys[KA].id, NOW, nonce, sig, empty, 1, NOW, &key),
	                 OB_EAUTH);
	assert_int_equal(last.verdict, OB_LOGIN_WRONG_AUDIENCE);

	/* A verifier without a name takes nothing; names out of range are refused. */
	ob_login_verifier *v = NULL;
	assert_int_equal(ob_login_verifier_create(NULL, &v), OB_OK);
	sign_raw(&keys[KA], keys[KA].id, NOW, nonce, sig);
	assert_int_equal(verify(v, f->kr, keys[KA].id, NOW, nonce, sig, NOW, &key), OB_EAUTH);
	assert_int_equal(last.verdict, OB_LOGIN_WRONG_AUDIENCE);
	ob_login_verifier_destroy(v);
	v = NULL;
	ob_login_config cfg = {.audiences = empty, .n_audiences = 1};
	assert_int_equal(ob_login_verifier_create(&cfg, &v), OB_EINVAL);
	char long_name[OB_LOGIN_MAX_AUDIENCE_LEN + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	const char *const too_long[] = {long_name};
	cfg = (ob_login_config){.audiences = too_long, .n_audiences = 1};
	assert_int_equal(ob_login_verifier_create(&cfg, &v), OB_EINVAL);
	assert_null(v);
}

/* The message of common/login_message.h: each audience is length-prefixed, so that two lists
 * never sign the same bytes; out-of-range lists and key ids make no message. */
static void test_login_message_format(void **state)
{
	(void)state;
	uint8_t a[OB_LOGIN_MESSAGE_MAX], b[OB_LOGIN_MESSAGE_MAX], nonce[16];
	nonce_of(nonce, 7);
	const char *const ab_c[] = {"ab", "c"}, *const a_bc[] = {"a", "bc"};
	size_t na = ob_login_message_build(a, keys[KA].id, NOW, nonce, ab_c, 2);
	size_t nb = ob_login_message_build(b, keys[KA].id, NOW, nonce, a_bc, 2);
	assert_int_equal(na, 58 + 2 + 2 + 2 + 1);
	assert_int_equal(na, nb);
	assert_memory_not_equal(a, b, na);
	assert_memory_equal(a, "onboard-login-v2\0", 17);

	char long_name[OB_LOGIN_MAX_AUDIENCE_LEN + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	const char *const too_long[] = {long_name}, *const none[] = {NULL}, *const empty[] = {""};
	const char *const nine[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9"};
	assert_int_equal(ob_login_message_build(a, keys[KA].id, NOW, nonce, too_long, 1), 0);
	assert_int_equal(ob_login_message_build(a, keys[KA].id, NOW, nonce, none, 1), 0);
	assert_int_equal(ob_login_message_build(a, keys[KA].id, NOW, nonce, empty, 1), 0);
	assert_int_equal(ob_login_message_build(a, keys[KA].id, NOW, nonce, nine, 9), 0);
	assert_int_equal(ob_login_message_build(a, keys[KA].id, NOW, nonce, nine, 0), 0);
	assert_int_equal(ob_login_message_build(a, "0123", NOW, nonce, nine, 1), 0);
	/* The longest list fits the buffer. */
	const char *const eight_long[] = {long_name + 1, long_name + 1, long_name + 1,
	                                  long_name + 1, long_name + 1, long_name + 1,
	                                  long_name + 1, long_name + 1};
	assert_int_equal(ob_login_message_build(a, keys[KA].id, NOW, nonce, eight_long, 8),
	                 OB_LOGIN_MESSAGE_MAX);
}

/* Fails unless rc is OB_EAUTH with the verdict want. */
static void expect_refused(ob_err rc, ob_login_verdict want)
{
	assert_int_equal(rc, OB_EAUTH);
	assert_int_equal(last.verdict, want);
}

/* Every way a login can be bad is OB_EAUTH, with the check that failed (an unknown key and a
 * bad signature being one answer), and none leaves a nonce in the cache. */
static void test_login_refusals(void **state)
{
	fixture *f = *state;
	uint8_t nonce[16], sig[64];
	const ob_key *key = (const ob_key *)&key; /* sentinel: must not be written */
	const ob_login_verdict bad = OB_LOGIN_BAD_KEY_OR_SIGNATURE, skew = OB_LOGIN_CLOCK_SKEW;
	nonce_of(nonce, 9);

	/* Unsigned. */
	memset(sig, 0, sizeof(sig));
	expect_refused(verify(f->v, f->kr, keys[KA].id, NOW, nonce, sig, NOW, &key), bad);
	/* Forged: B signs a login that claims to be A. */
	sign_raw(&keys[KB], keys[KA].id, NOW, nonce, sig);
	expect_refused(verify(f->v, f->kr, keys[KA].id, NOW, nonce, sig, NOW, &key), bad);
	/* A's genuine signature presented with another timestamp or nonce. */
	sign_raw(&keys[KA], keys[KA].id, NOW, nonce, sig);
	expect_refused(verify(f->v, f->kr, keys[KA].id, NOW + 1, nonce, sig, NOW, &key), bad);
	uint8_t other[16];
	nonce_of(other, 10);
	expect_refused(verify(f->v, f->kr, keys[KA].id, NOW, other, sig, NOW, &key), bad);
	/* Presented under B's id. */
	expect_refused(verify(f->v, f->kr, keys[KB].id, NOW, nonce, sig, NOW, &key), bad);
	/* Too old (61 s) and too far in the future (6 s), correctly signed. */
	int64_t old = NOW - 61000, future = NOW + 6000;
	sign_raw(&keys[KA], keys[KA].id, old, nonce, sig);
	expect_refused(verify(f->v, f->kr, keys[KA].id, old, nonce, sig, NOW, &key), skew);
	sign_raw(&keys[KA], keys[KA].id, future, nonce, sig);
	expect_refused(verify(f->v, f->kr, keys[KA].id, future, nonce, sig, NOW, &key), skew);
	/* Extreme timestamps cannot overflow the window arithmetic. */
	expect_refused(verify(f->v, f->kr, keys[KA].id, INT64_MIN, nonce, sig, NOW, &key), skew);
	expect_refused(verify(f->v, f->kr, keys[KA].id, INT64_MAX, nonce, sig, NOW, &key), skew);
	/* Key not yet valid (C, from 2030), expired (D, until 2020), unknown (E): the same
	 * answer as a bad signature. */
	const int who[] = {KC, KD, KE};
	for (size_t i = 0; i < 3; i++) {
		const tkey *k = &keys[who[i]];
		sign_raw(k, k->id, NOW, nonce, sig);
		expect_refused(verify(f->v, f->kr, k->id, NOW, nonce, sig, NOW, &key), bad);
	}
	/* Malformed key ids. */
	const char *ids[] = {"", "0123", "0123456789ABCDEF", "0123456789abcdef0", NULL};
	sign_raw(&keys[KA], keys[KA].id, NOW, nonce, sig);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		expect_refused(verify(f->v, f->kr, ids[i], NOW, nonce, sig, NOW, &key), bad);
	/* The server's own clock out of range is its bug, not the peer's. */
	assert_int_equal(verify(f->v, f->kr, keys[KA].id, NOW, nonce, sig, INT64_MAX, &key),
	                 OB_EINVAL);

	assert_ptr_equal(key, (const ob_key *)&key);
	assert_int_equal(ob_login_verifier_size(f->v), 0);
	assert_string_equal(ob_login_verdict_text(bad),
	                    "unknown, expired or revoked key, or bad signature");
}

/* A signed request is accepted once; the same nonce under another key is not a replay. */
static void test_login_replay(void **state)
{
	fixture *f = *state;
	uint8_t nonce[16], sig[64];
	const ob_key *key = NULL;
	nonce_of(nonce, 4);
	sign_raw(&keys[KA], keys[KA].id, NOW, nonce, sig);
	assert_int_equal(verify(f->v, f->kr, keys[KA].id, NOW, nonce, sig, NOW, &key), OB_OK);
	assert_int_equal(verify(f->v, f->kr, keys[KA].id, NOW, nonce, sig, NOW + 1000, &key),
	                 OB_EAUTH);
	/* Still refused at the very end of the window, when the timestamp is still fresh. */
	assert_int_equal(
	        verify(f->v, f->kr, keys[KA].id, NOW, nonce, sig, NOW + OB_LOGIN_MAX_AGE_MS, &key),
	        OB_EAUTH);
	assert_int_equal(last.verdict, OB_LOGIN_REPLAY);
	sign_raw(&keys[KB], keys[KB].id, NOW, nonce, sig);
	assert_int_equal(verify(f->v, f->kr, keys[KB].id, NOW, nonce, sig, NOW, &key), OB_OK);
	assert_int_equal(ob_login_verifier_size(f->v), 2);
}

/* Forged requests are checked before the cache is touched: a forgery with nonce N neither
 * takes a slot nor blocks the genuine login with N. */
static void test_login_forgery_not_recorded(void **state)
{
	fixture *f = *state;
	uint8_t nonce[16], sig[64];
	const ob_key *key = NULL;
	nonce_of(nonce, 5);
	for (int i = 0; i < 100; i++) {
		nonce[0] = (uint8_t)i;
		sign_raw(&keys[KE], keys[KA].id, NOW, nonce, sig);
		assert_int_equal(verify(f->v, f->kr, keys[KA].id, NOW, nonce, sig, NOW, &key),
		                 OB_EAUTH);
	}
	assert_int_equal(ob_login_verifier_size(f->v), 0);
	nonce[0] = 0;
	sign_raw(&keys[KA], keys[KA].id, NOW, nonce, sig);
	assert_int_equal(verify(f->v, f->kr, keys[KA].id, NOW, nonce, sig, NOW, &key), OB_OK);
}

/* The cache is bounded: full, it refuses genuine logins (OB_ELIMIT) rather than forgetting a
 * nonce; entries expire once their timestamp can no longer be accepted, freeing the room. */
static void test_login_cache_full_and_expiry(void **state)
{
	fixture *f = *state;
	ob_login_verifier *v = verifier(3, 3);
	const ob_key *key = NULL;
	for (uint8_t i = 0; i < 3; i++) {
		int64_t ts = NOW - (2 - i) * 10000;
		assert_int_equal(login_as(v, f->kr, KA, ts, (uint8_t)(20 + i), NOW, &key), OB_OK);
	}
	assert_int_equal(login_as(v, f->kr, KB, NOW, 30, NOW, &key), OB_ELIMIT);
	assert_int_equal(last.verdict, OB_LOGIN_CACHE_FULL);
	assert_true(last.retry_after_ms > 0);
	assert_int_equal(ob_login_verifier_size(v), 3);

	/* The oldest entry (ts = NOW - 20 s) is dropped once its ts + 60 s has passed, plus up
	 * to one second of wheel granularity; the others stay. */
	int64_t later = NOW - 20000 + OB_LOGIN_MAX_AGE_MS + 1000 + 1;
	assert_int_equal(login_as(v, f->kr, KA, later, 31, later, &key), OB_OK);
	assert_int_equal(ob_login_verifier_size(v), 3);
	/* Long after, everything has expired. */
	int64_t much_later = NOW + 10 * OB_LOGIN_MAX_AGE_MS;
	assert_int_equal(login_as(v, f->kr, KA, much_later, 32, much_later, &key), OB_OK);
	assert_int_equal(ob_login_verifier_size(v), 1);
	ob_login_verifier_destroy(v);
	v = NULL;
	ob_login_config cfg = {.max_entries = 10000001};
	assert_int_equal(ob_login_verifier_create(&cfg, &v), OB_EINVAL);
	cfg = (ob_login_config){.max_entries = 10, .max_per_key = 11};
	assert_int_equal(ob_login_verifier_create(&cfg, &v), OB_EINVAL);
	assert_null(v);
}

/* One key cannot fill the cache (and so refuse everyone's logins): past its share it is
 * refused with the wait until its oldest entry is dropped, while other keys still get in,
 * and it gets in again once that entry is dropped. Refusals take no room. */
static void test_login_key_share(void **state)
{
	fixture *f = *state;
	ob_login_verifier *v = verifier(10, 3);
	uint8_t nonce[16], sig[64];
	const ob_key *key = NULL;
	for (uint8_t i = 0; i < 3; i++) {
		assert_int_equal(login_as(v, f->kr, KA, NOW + i * 1000, (uint8_t)(70 + i),
		                          NOW + i * 1000, &key),
		                 OB_OK);
	}
	int64_t now = NOW + 2500;
	for (uint8_t i = 0; i < 5; i++) {
		assert_int_equal(login_as(v, f->kr, KA, now, (uint8_t)(80 + i), now, &key),
		                 OB_ELIMIT);
		assert_int_equal(last.verdict, OB_LOGIN_KEY_SHARE_FULL);
		/* The oldest (ts = NOW) expires at NOW + 60 s, in the wheel second dropped when
		 * the clock reaches NOW + 61 s. */
		assert_int_equal(last.retry_after_ms, NOW + 61000 - now);
	}
	assert_int_equal(ob_login_verifier_size(v), 3);
	for (uint8_t i = 0; i < 3; i++) {
		assert_int_equal(login_as(v, f->kr, KB, now, (uint8_t)(90 + i), now, &key), OB_OK);
		assert_string_equal(key->id, keys[KB].id);
	}
	/* A replay of A's first request is still a replay, not a question of share. */
	assert_int_equal(login_as(v, f->kr, KA, NOW, 70, now, &key), OB_EAUTH);
	assert_int_equal(last.verdict, OB_LOGIN_REPLAY);

	/* Once the oldest is dropped, A has room for one more, and the next wait is for the
	 * second oldest (ts = NOW + 1 s). */
	now = NOW + 61000;
	assert_int_equal(login_as(v, f->kr, KA, now, 85, now, &key), OB_OK);
	assert_int_equal(login_as(v, f->kr, KA, now, 86, now, &key), OB_ELIMIT);
	assert_int_equal(last.retry_after_ms, 1000);
	ob_login_verifier_destroy(v);

	/* The default share is 1% of the cache. */
	v = verifier(500, 0);
	for (int i = 0; i < 6; i++) {
		memset(nonce, 0, sizeof(nonce));
		nonce[0] = (uint8_t)i;
		sign_raw(&keys[KA], keys[KA].id, NOW, nonce, sig);
		assert_int_equal(verify(v, f->kr, keys[KA].id, NOW, nonce, sig, NOW, &key),
		                 i < 5 ? OB_OK : OB_ELIMIT);
	}
	ob_login_verifier_destroy(v);
}

/* After the clock steps back, timestamps older than the latest clock reading minus the window
 * are refused: their nonces may have been dropped already. */
static void test_login_clock_step_back(void **state)
{
	fixture *f = *state;
	const ob_key *key = NULL;
	assert_int_equal(login_as(f->v, f->kr, KA, NOW, 40, NOW, &key), OB_OK);
	/* The clock jumps 3 minutes ahead (the entry is dropped), then back. */
	int64_t ahead = NOW + 180000;
	assert_int_equal(login_as(f->v, f->kr, KA, ahead, 41, ahead, &key), OB_OK);
	assert_int_equal(login_as(f->v, f->kr, KA, NOW, 40, NOW, &key), OB_EAUTH);
}

typedef struct {
	fixture *f;
	const uint8_t *nonce, *sig;
	int ok;
} race_arg;

static void *race_login(void *p)
{
	race_arg *a = p;
	const ob_key *key;
	for (int i = 0; i < 50; i++) {
		if (verify(a->f->v, a->f->kr, keys[KA].id, NOW, a->nonce, a->sig, NOW, &key) ==
		    OB_OK)
			a->ok++;
	}
	return NULL;
}

/* The same signed request sent concurrently from many threads is accepted exactly once. */
static void test_login_concurrent_replay(void **state)
{
	fixture *f = *state;
	uint8_t nonce[16], sig[64];
	nonce_of(nonce, 50);
	sign_raw(&keys[KA], keys[KA].id, NOW, nonce, sig);
	race_arg args[RACERS];
	for (int i = 0; i < RACERS; i++)
		args[i] = (race_arg){f, nonce, sig, 0};
	race(race_login, args, sizeof(args[0]));
	int total = 0;
	for (int i = 0; i < RACERS; i++)
		total += args[i].ok;
	assert_int_equal(total, 1);
}

/* ---- tokens --------------------------------------------------------------------------------- */

static const ob_key *key_of(const ob_keyring *kr, int k)
{
	const ob_key *key = ob_keyring_find(kr, keys[k].id);
	assert_non_null(key);
	return key;
}

/* A minted token verifies, carries the key, role and times, and has the documented layout
 * (the tag is recomputed here from the secret). */
static void test_token_round_trip(void **state)
{
	fixture *f = *state;
	char tok[OB_TOKEN_STR_SIZE];
	const ob_key *b = key_of(f->kr, KB);
	assert_int_equal(ob_token_mint(f->m, b, NOW, 900000, tok, sizeof(tok)), OB_OK);
	assert_int_equal(strlen(tok), OB_TOKEN_LEN);
	assert_memory_equal(tok, "ob1.", 4);
	assert_int_equal(tok[50], '.');

	ob_token_claims c;
	assert_int_equal(ob_token_verify(f->m, tok, NOW, &c), OB_OK);
	assert_string_equal(c.key_id, keys[KB].id);
	assert_int_equal(c.role, OB_ROLE_REVIEWER);
	assert_int_equal(c.issued_ms, NOW);
	assert_int_equal(c.expires_ms, NOW + 900000);
	assert_int_equal(ob_token_check_key(&c, f->kr, NOW), OB_OK);
	assert_int_equal(ob_token_verify(f->m, tok, NOW + 899999, &c), OB_OK);

	uint8_t payload[34], tag[32], want[32];
	size_t n;
	assert_int_equal(sodium_base642bin(payload, 34, tok + 4, 46, NULL, &n, NULL,
	                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	                 0);
	assert_int_equal(sodium_base642bin(tag, 32, tok + 51, 43, NULL, &n, NULL,
	                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	                 0);
	assert_int_equal(payload[0], 1);
	assert_memory_equal(payload + 1, keys[KB].id, 16);
	assert_int_equal(payload[17], OB_ROLE_REVIEWER);
	uint8_t in[16 + 34];
	memcpy(in, "onboard-token-v1", 16);
	memcpy(in + 16, payload, 34);
	crypto_generichash(want, 32, in, sizeof(in), f->secret, 32);
	assert_memory_equal(tag, want, 32);

	/* A replica with the same secret accepts it; a random secret does not. */
	ob_token_minter *same = NULL, *other = NULL;
	assert_int_equal(ob_token_minter_create(f->secret, &same), OB_OK);
	assert_int_equal(ob_token_minter_create(NULL, &other), OB_OK);
	assert_int_equal(ob_token_verify(same, tok, NOW, &c), OB_OK);
	assert_int_equal(ob_token_verify(other, tok, NOW, &c), OB_EAUTH);
	ob_token_minter_destroy(same);
	ob_token_minter_destroy(other);
	ob_token_minter_destroy(NULL);
}

/* Changing any character of the token, including the low bits of the last character of each
 * base64 part (which a lenient decoder ignores), makes it invalid. */
static void test_token_tampered(void **state)
{
	fixture *f = *state;
	static const char alphabet[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char tok[OB_TOKEN_STR_SIZE], bad[OB_TOKEN_STR_SIZE];
	ob_token_claims c;
	assert_int_equal(ob_token_mint(f->m, key_of(f->kr, KA), NOW, 60000, tok, sizeof(tok)),
	                 OB_OK);
	for (size_t i = 0; i < OB_TOKEN_LEN; i++) {
		const char *at = strchr(alphabet, tok[i]);
		const unsigned flips[] = {1, 2, 32};
		for (size_t j = 0; j < 3; j++) {
			strcpy(bad, tok);
			if (at != NULL)
				bad[i] = alphabet[(unsigned)(at - alphabet) ^ flips[j]];
			else
				bad[i] = (char)(tok[i] ^ (int)flips[j]); /* prefix and dot */
			if (ob_token_verify(f->m, bad, NOW, &c) != OB_EAUTH)
				fail_msg("position %zu flip %u accepted: %s", i, flips[j], bad);
		}
	}
}

/* Wrong shapes are refused before any decoding: truncated, extended, oversized, wrong
 * prefix, padding, characters outside base64url, NULL. */
static void test_token_malformed(void **state)
{
	fixture *f = *state;
	char tok[OB_TOKEN_STR_SIZE], bad[600];
	ob_token_claims c;
	assert_int_equal(ob_token_mint(f->m, key_of(f->kr, KA), NOW, 60000, tok, sizeof(tok)),
	                 OB_OK);
	strcpy(bad, tok);
	bad[OB_TOKEN_LEN - 1] = '\0';
	assert_int_equal(ob_token_verify(f->m, bad, NOW, &c), OB_EAUTH);
	snprintf(bad, sizeof(bad), "%sA", tok);
	assert_int_equal(ob_token_verify(f->m, bad, NOW, &c), OB_EAUTH);
	snprintf(bad, sizeof(bad), "%s=", tok);
	assert_int_equal(ob_token_verify(f->m, bad, NOW, &c), OB_EAUTH);
	snprintf(bad, sizeof(bad), "Bearer %s", tok);
	assert_int_equal(ob_token_verify(f->m, bad, NOW, &c), OB_EAUTH);
	memset(bad, 'A', 599);
	bad[599] = '\0';
	assert_int_equal(ob_token_verify(f->m, bad, NOW, &c), OB_EAUTH);
	const char *prefixes[] = {"ob2.", "OB1.", "ob1:", "xxxx"};
	for (size_t i = 0; i < 4; i++) {
		strcpy(bad, tok);
		memcpy(bad, prefixes[i], 4);
		assert_int_equal(ob_token_verify(f->m, bad, NOW, &c), OB_EAUTH);
	}
	const char odd[] = {'+', '/', '=', ' ', '\n', '\x80', '.'};
	for (size_t i = 0; i < sizeof(odd); i++) {
		strcpy(bad, tok);
		bad[20] = odd[i];
		assert_int_equal(ob_token_verify(f->m, bad, NOW, &c), OB_EAUTH);
		strcpy(bad, tok);
		bad[OB_TOKEN_LEN - 1] = odd[i];
		assert_int_equal(ob_token_verify(f->m, bad, NOW, &c), OB_EAUTH);
	}
	assert_int_equal(ob_token_verify(f->m, "", NOW, &c), OB_EAUTH);
	assert_int_equal(ob_token_verify(f->m, NULL, NOW, &c), OB_EAUTH);
}

/* A token is refused from its expiry on, and one issued beyond clock skew in the future is
 * refused too. */
static void test_token_expired(void **state)
{
	fixture *f = *state;
	char tok[OB_TOKEN_STR_SIZE];
	ob_token_claims c;
	assert_int_equal(ob_token_mint(f->m, key_of(f->kr, KA), NOW, 60000, tok, sizeof(tok)),
	                 OB_OK);
	assert_int_equal(ob_token_verify(f->m, tok, NOW + 59999, &c), OB_OK);
	assert_int_equal(ob_token_verify(f->m, tok, NOW + 60000, &c), OB_EAUTH);
	assert_int_equal(ob_token_verify(f->m, tok, NOW + 86400000, &c), OB_EAUTH);
	assert_int_equal(ob_token_verify(f->m, tok, NOW - OB_TOKEN_SKEW_MS, &c), OB_OK);
	assert_int_equal(ob_token_verify(f->m, tok, NOW - OB_TOKEN_SKEW_MS - 1, &c), OB_EAUTH);
}

/* Revocation: removing the key, changing its role, or its NOT_AFTER passing invalidates
 * tokens already issued, through ob_token_check_key. */
static void test_token_revoked(void **state)
{
	fixture *f = *state;
	char tok[OB_TOKEN_STR_SIZE], text[1024], err[256];
	ob_token_claims c;
	assert_int_equal(ob_token_mint(f->m, key_of(f->kr, KA), NOW, 600000, tok, sizeof(tok)),
	                 OB_OK);
	assert_int_equal(ob_token_verify(f->m, tok, NOW, &c), OB_OK);
	assert_int_equal(ob_token_check_key(&c, f->kr, NOW), OB_OK);

	ob_keyring *without = NULL, *promoted = NULL, *ending = NULL;
	key_line(text, sizeof(text), &keys[KB], "reviewer", "-", "-", "Bob");
	assert_int_equal(ob_keyring_parse(text, strlen(text), &without, err, sizeof(err)), OB_OK);
	assert_int_equal(ob_token_check_key(&c, without, NOW), OB_EAUTH);

	key_line(text, sizeof(text), &keys[KA], "admin", "-", "-", "Alice");
	assert_int_equal(ob_keyring_parse(text, strlen(text), &promoted, err, sizeof(err)), OB_OK);
	assert_int_equal(ob_token_check_key(&c, promoted, NOW), OB_EAUTH);

	/* NOT_AFTER = NOW + 1 s: fine now, refused two seconds later although the token lives. */
	key_line(text, sizeof(text), &keys[KA], "applicant", "-", "2023-11-14T22:13:21Z", "Alice");
	assert_int_equal(ob_keyring_parse(text, strlen(text), &ending, err, sizeof(err)), OB_OK);
	assert_int_equal(ob_token_check_key(&c, ending, NOW), OB_OK);
	assert_int_equal(ob_token_verify(f->m, tok, NOW + 2000, &c), OB_OK);
	assert_int_equal(ob_token_check_key(&c, ending, NOW + 2000), OB_EAUTH);
	assert_int_equal(ob_token_check_key(&c, NULL, NOW), OB_EAUTH);

	/* Minted for that key, the token's own expiry stops at NOT_AFTER. */
	assert_int_equal(ob_token_mint(f->m, key_of(ending, KA), NOW, 600000, tok, sizeof(tok)),
	                 OB_OK);
	assert_int_equal(ob_token_verify(f->m, tok, NOW, &c), OB_OK);
	assert_int_equal(c.expires_ms, NOW + 1001);
	ob_keyring_unref(without);
	ob_keyring_unref(promoted);
	ob_keyring_unref(ending);
}

/* Minting refuses what would make a bad token: lifetimes outside (0, 24 h], keys not valid
 * now, small buffers; a token minted ahead of the verifier's clock is refused. */
static void test_token_mint_refusals(void **state)
{
	fixture *f = *state;
	char tok[OB_TOKEN_STR_SIZE];
	ob_token_claims c;
	const ob_key *a = key_of(f->kr, KA);
	assert_int_equal(ob_token_mint(f->m, a, NOW, 0, tok, sizeof(tok)), OB_EINVAL);
	assert_int_equal(ob_token_mint(f->m, a, NOW, -5, tok, sizeof(tok)), OB_EINVAL);
	assert_int_equal(ob_token_mint(f->m, a, NOW, OB_TOKEN_MAX_TTL_MS + 1, tok, sizeof(tok)),
	                 OB_EINVAL);
	assert_int_equal(ob_token_mint(f->m, a, NOW, 1000, tok, OB_TOKEN_LEN), OB_EINVAL);
	assert_int_equal(ob_token_mint(f->m, key_of(f->kr, KC), NOW, 1000, tok, sizeof(tok)),
	                 OB_EAUTH);
	assert_int_equal(ob_token_mint(f->m, key_of(f->kr, KD), NOW, 1000, tok, sizeof(tok)),
	                 OB_EAUTH);
	ob_key fake = *a;
	fake.role = OB_ROLE_NONE;
	assert_int_equal(ob_token_mint(f->m, &fake, NOW, 1000, tok, sizeof(tok)), OB_EINVAL);

	assert_int_equal(ob_token_mint(f->m, a, NOW + 120000, 600000, tok, sizeof(tok)), OB_OK);
	assert_int_equal(ob_token_verify(f->m, tok, NOW, &c), OB_EAUTH);
}

/* ---- rate limits ---------------------------------------------------------------------------- */

/* A key takes its burst at once, is then refused with the wait until the next request, and
 * refills at the rate, never beyond the burst. */
static void test_ratelimit_burst_refill(void **state)
{
	(void)state;
	ob_ratelimit *rl = NULL;
	uint32_t retry = 12345;
	assert_int_equal(ob_ratelimit_create(2.0, 5, 0, &rl), OB_OK);
	for (int i = 0; i < 5; i++) {
		assert_true(ob_ratelimit_take(rl, "k1", NOW, &retry));
		assert_int_equal(retry, 0);
	}
	assert_false(ob_ratelimit_take(rl, "k1", NOW, &retry));
	assert_int_equal(retry, 500); /* 2 per second */
	assert_false(ob_ratelimit_take(rl, "k1", NOW + 499, &retry));
	assert_int_equal(retry, 1);
	assert_true(ob_ratelimit_take(rl, "k1", NOW + 500, &retry));
	assert_false(ob_ratelimit_take(rl, "k1", NOW + 500, NULL));

	/* Other keys are independent. */
	assert_true(ob_ratelimit_take(rl, "k2", NOW, &retry));
	assert_true(ob_ratelimit_take(rl, NULL, NOW, &retry));

	/* After a long idle, the burst again, not more. */
	int64_t t = NOW + 3600000;
	for (int i = 0; i < 5; i++)
		assert_true(ob_ratelimit_take(rl, "k1", t, &retry));
	assert_false(ob_ratelimit_take(rl, "k1", t, &retry));

	/* A clock going back refills nothing. */
	assert_false(ob_ratelimit_take(rl, "k1", t - 10000, &retry));
	assert_int_equal(retry, 500);
	ob_ratelimit_destroy(rl);

	/* Slow rates: one request every 10 s. */
	assert_int_equal(ob_ratelimit_create(0.1, 1, 8, &rl), OB_OK);
	assert_true(ob_ratelimit_take(rl, "slow", NOW, &retry));
	assert_false(ob_ratelimit_take(rl, "slow", NOW + 1, &retry));
	assert_int_equal(retry, 9999);
	assert_true(ob_ratelimit_take(rl, "slow", NOW + 10000, &retry));
	ob_ratelimit_destroy(rl);

	/* A wait that is not a whole number of milliseconds is rounded up, so that retrying
	 * after exactly retry_after succeeds: 3 per second is one every 333.3 ms. */
	assert_int_equal(ob_ratelimit_create(3.0, 1, 0, &rl), OB_OK);
	assert_true(ob_ratelimit_take(rl, "third", NOW, &retry));
	assert_false(ob_ratelimit_take(rl, "third", NOW, &retry));
	assert_int_equal(retry, 334);
	assert_false(ob_ratelimit_take(rl, "third", NOW + 333, &retry));
	assert_int_equal(retry, 1);
	assert_true(ob_ratelimit_take(rl, "third", NOW + 334, &retry));
	ob_ratelimit_destroy(rl);
	ob_ratelimit_destroy(NULL);
}

/* Parameters outside their documented ranges are refused. */
static void test_ratelimit_create_refusals(void **state)
{
	(void)state;
	ob_ratelimit *rl = NULL;
	assert_int_equal(ob_ratelimit_create(0.0, 1, 0, &rl), OB_EINVAL);
	assert_int_equal(ob_ratelimit_create(-1.0, 1, 0, &rl), OB_EINVAL);
	assert_int_equal(ob_ratelimit_create((double)NAN, 1, 0, &rl), OB_EINVAL);
	assert_int_equal(ob_ratelimit_create(2e6, 1, 0, &rl), OB_EINVAL);
	assert_int_equal(ob_ratelimit_create(1.0, 0, 0, &rl), OB_EINVAL);
	assert_int_equal(ob_ratelimit_create(1.0, 1, 100, &rl), OB_EINVAL);
	assert_int_equal(ob_ratelimit_create(1.0, 1, 4, &rl), OB_EINVAL);
	assert_null(rl);
}

/* The table is fixed: with more keys than buckets, the one idle the longest is evicted and
 * its key starts again with a full burst; a refilled bucket is reused first, losing nothing. */
static void test_ratelimit_eviction(void **state)
{
	(void)state;
	ob_ratelimit *rl = NULL;
	uint32_t retry;
	char key[32];
	assert_int_equal(ob_ratelimit_create(1.0, 1, 8, &rl), OB_OK); /* one set of 8 */
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "peer-%d", i);
		assert_true(ob_ratelimit_take(rl, key, NOW + i, &retry));
	}
	assert_false(ob_ratelimit_take(rl, "peer-7", NOW + 8, &retry));
	/* A ninth key evicts peer-0, the least recently used. */
	assert_true(ob_ratelimit_take(rl, "peer-8", NOW + 9, &retry));
	assert_false(ob_ratelimit_take(rl, "peer-8", NOW + 9, &retry));
	assert_false(ob_ratelimit_take(rl, "peer-1", NOW + 9, &retry));
	assert_true(ob_ratelimit_take(rl, "peer-0", NOW + 10, &retry));
	ob_ratelimit_destroy(rl);

	/* A bucket that has refilled completely is taken before the least recently used one:
	 * peer-0 (used first, half empty) keeps its state, peer-5 (full again) makes room. */
	assert_int_equal(ob_ratelimit_create(1.0, 2, 8, &rl), OB_OK);
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "peer-%d", i);
		assert_true(ob_ratelimit_take(rl, key, NOW, &retry));
		if (i != 5)
			assert_true(ob_ratelimit_take(rl, key, NOW, &retry));
	}
	assert_true(ob_ratelimit_take(rl, "peer-8", NOW + 1000, &retry));
	assert_true(ob_ratelimit_take(rl, "peer-0", NOW + 1000, &retry));
	assert_false(ob_ratelimit_take(rl, "peer-0", NOW + 1000, &retry));
	ob_ratelimit_destroy(rl);
}

typedef struct {
	ob_ratelimit *rl;
	int ok;
} rl_arg;

static void *race_take(void *p)
{
	rl_arg *a = p;
	for (int i = 0; i < 1000; i++)
		a->ok += ob_ratelimit_take(a->rl, "shared", NOW, NULL);
	return NULL;
}

/* Concurrent takes on one key never hand out more than the burst. */
static void test_ratelimit_threads(void **state)
{
	(void)state;
	ob_ratelimit *rl = NULL;
	assert_int_equal(ob_ratelimit_create(0.001, 100, 0, &rl), OB_OK);
	rl_arg args[RACERS];
	for (int i = 0; i < RACERS; i++)
		args[i] = (rl_arg){rl, 0};
	race(race_take, args, sizeof(args[0]));
	int total = 0;
	for (int i = 0; i < RACERS; i++)
		total += args[i].ok;
	assert_int_equal(total, 100);
	ob_ratelimit_destroy(rl);
}

/* ---- the authorizer ------------------------------------------------------------------------- */

/* Makes call a keyless call of WhoAmI from an ipc peer running as uid (or, for uid -1, from
 * the tcp host 192.0.2.7), as the server fills it in. */
static void call_from(ob_call *call, int64_t uid)
{
	ob_call_reset(call);
	call->method = "/onboard.v1.Auth/WhoAmI";
	call->peer_uid = uid;
	call->peer = uid >= 0 ? "ipc:pid=1" : "192.0.2.7:4000";
	call->peer_host = uid >= 0 ? "ipc" : "192.0.2.7";
}

/* Every ipc peer's host is "ipc": the per-address budget is kept per uid, so that one local
 * user spending its budget does not refuse another's calls. A budget of 2 calls that does
 * not refill during the test (one call per 1,000 s). */
static void test_authz_ipc_peers_limited_by_uid(void **state)
{
	(void)state;
	ob_authz_config cfg;
	ob_authz_config_defaults(&cfg);
	cfg.trust_local = false;
	cfg.addr_rate = 0.001;
	cfg.addr_burst = 2;
	ob_authz *a = NULL;
	assert_int_equal(ob_authz_create(&a, &cfg), OB_OK);
	ob_call call;
	ob_call_init(&call, NULL, 4096);
	const unsigned roles = OB_ALLOW(OB_ROLE_ADMIN);

	/* uid 1000's two calls pass the limit (and, keyless, are UNAUTHENTICATED); the third
	 * is refused by the limit, with a retry-after. */
	for (int i = 0; i < 2; i++) {
		call_from(&call, 1000);
		assert_int_equal(ob_authz_authorize(a, &call, roles), OB_EAUTH);
	}
	call_from(&call, 1000);
	assert_int_equal(ob_authz_authorize(a, &call, roles), OB_ELIMIT);
	assert_true(call.retry_after_ms > 0);

	/* Another local user, and a tcp peer, have budgets of their own. */
	call_from(&call, 1001);
	assert_int_equal(ob_authz_authorize(a, &call, roles), OB_EAUTH);
	call_from(&call, -1);
	assert_int_equal(ob_authz_authorize(a, &call, roles), OB_EAUTH);
	call_from(&call, 1000);
	assert_int_equal(ob_authz_authorize(a, &call, roles), OB_ELIMIT);

	ob_call_fini(&call);
	ob_authz_destroy(a);
}

/* Logs in with A's key signed for aud, through the dispatch and the authorizer's Login handler
 * as onboardd runs them, from an ipc peer. Returns the status code; the message in msg. */
static int login_through(const ob_dispatch *d, ob_rpc_env *env, const char *aud, char *msg,
                         size_t n)
{
	uint8_t nonce[16], sig[64], inner[1024], outer[2048];
	randombytes_buf(nonce, sizeof(nonce));
	int64_t ts = ob_clock_real_ms();
	const char *const auds[] = {aud};
	sign_raw_for(&keys[KA], keys[KA].id, ts, nonce, auds, 1, sig);
	Onboard__V1__LoginRequest lr = ONBOARD__V1__LOGIN_REQUEST__INIT;
	lr.key_id = keys[KA].id;
	lr.timestamp_ms = ts;
	lr.nonce = (ProtobufCBinaryData){sizeof(nonce), nonce};
	lr.signature = (ProtobufCBinaryData){sizeof(sig), sig};
	char *aud_copy = (char *)aud;
	lr.audience = &aud_copy;
	lr.n_audience = 1;
	assert_true(onboard__v1__login_request__get_packed_size(&lr) <= sizeof(inner));
	Onboard__V1__Request rq = ONBOARD__V1__REQUEST__INIT;
	rq.version = 1;
	rq.method = (char *)"/onboard.v1.Auth/Login";
	rq.payload = (ProtobufCBinaryData){onboard__v1__login_request__pack(&lr, inner), inner};
	assert_true(onboard__v1__request__get_packed_size(&rq) <= sizeof(outer));
	size_t len = onboard__v1__request__pack(&rq, outer);

	ob_call call;
	ob_call_init(&call, env, 65536);
	call.peer = "ipc:pid=1";
	call.peer_host = "ipc";
	call.peer_uid = 1000;
	call.arrived_us = ob_clock_mono_us();
	const Onboard__V1__Response *rs = ob_dispatch_handle(d, &call, outer, len);
	int code = (int)rs->code;
	snprintf(msg, n, "%s", rs->message != NULL ? rs->message : "");
	ob_call_fini(&call);
	return code;
}

/* The server's names, as the authorizer gathers them: its --listen URLs, except one on a
 * wildcard address (no caller dials 0.0.0.0), and its --audience names. A login signed for
 * any other name is refused as signed for another server. */
static void test_authz_login_names(void **state)
{
	(void)state;
	char l[256], msg[256];
	const char *path = tpath("names.keyring");
	key_line(l, sizeof(l), &keys[KA], "applicant", "-", "-", "Alice");
	write_file(path, l, 0644);
	ob_authz_config cfg;
	ob_authz_config_defaults(&cfg);
	const char *const listen[] = {"tcp://0.0.0.0:7400", SERVER_AUD};
	const char *const given[] = {"tcp://onboard.example:7400"};
	cfg.keyring_path = path;
	cfg.listen = listen;
	cfg.n_listen = 2;
	cfg.audiences = given;
	cfg.n_audiences = 1;
	ob_authz *a = NULL;
	ob_dispatch *d = NULL;
	assert_int_equal(ob_authz_create(&a, &cfg), OB_OK);
	assert_int_equal(ob_dispatch_create(&d), OB_OK);
	assert_int_equal(ob_authz_install(a, d), OB_OK);
	ob_rpc_env env = {.dispatch = d, .authz = a};

	assert_int_equal(login_through(d, &env, SERVER_AUD, msg, sizeof(msg)),
	                 ONBOARD__V1__CODE__OK);
	assert_int_equal(login_through(d, &env, "tcp://onboard.example:7400", msg, sizeof(msg)),
	                 ONBOARD__V1__CODE__OK);
	const char *refused[] = {"tcp://0.0.0.0:7400", "tcp://staging.example:7400"};
	for (size_t i = 0; i < 2; i++) {
		int code = login_through(d, &env, refused[i], msg, sizeof(msg));
		if (code != ONBOARD__V1__CODE__UNAUTHENTICATED ||
		    strstr(msg, "signed for another server") == NULL)
			fail_msg("a login for %s: code %d, %s", refused[i], code, msg);
	}
	ob_dispatch_destroy(d);
	ob_authz_destroy(a);
	assert_int_equal(unlink(path), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_roles),
	        cmocka_unit_test(test_keyring_parse_ok),
	        cmocka_unit_test(test_keyring_malformed_lines),
	        cmocka_unit_test(test_keyring_id_mismatch),
	        cmocka_unit_test(test_keyring_duplicate),
	        cmocka_unit_test(test_keyring_too_many_keys),
	        cmocka_unit_test(test_keyring_load_files),
	        cmocka_unit_test(test_keyring_load_owner),
	        cmocka_unit_test(test_keyring_slot_swap),
	        cmocka_unit_test(test_secret_file_modes),
	        cmocka_unit_test(test_secret_file_content),
	        cmocka_unit_test(test_keygen),
	        T(test_login_ok),
	        T(test_login_window),
	        T(test_login_audience),
	        cmocka_unit_test(test_login_message_format),
	        cmocka_unit_test(test_login_sign_checks_id),
	        T(test_login_refusals),
	        T(test_login_replay),
	        T(test_login_forgery_not_recorded),
	        T(test_login_cache_full_and_expiry),
	        T(test_login_key_share),
	        T(test_login_clock_step_back),
	        T(test_login_concurrent_replay),
	        T(test_token_round_trip),
	        T(test_token_tampered),
	        T(test_token_malformed),
	        T(test_token_expired),
	        T(test_token_revoked),
	        T(test_token_mint_refusals),
	        cmocka_unit_test(test_ratelimit_burst_refill),
	        cmocka_unit_test(test_ratelimit_create_refusals),
	        cmocka_unit_test(test_ratelimit_eviction),
	        cmocka_unit_test(test_ratelimit_threads),
	        cmocka_unit_test(test_authz_ipc_peers_limited_by_uid),
	        cmocka_unit_test(test_authz_login_names),
	};
#undef T
	return cmocka_run_group_tests_name("auth", tests, group_setup, group_teardown);
}
