/*
 * fuzz_vault.c: libFuzzer target for the parts of crypto/vault.c that read bytes they did not
 * write: the master key file parser (ob_vault_from_text), and ob_vault_unwrap, ob_vault_rewrap
 * and ob_vault_unseal over what a database row may hold.
 *
 * Each input is used three ways:
 *   1. whole, as the text of a master key file;
 *   2. as KID || BLOB, where the first byte (mod 17) is the length of KID: BLOB is unwrapped
 *      and rewrapped under KID by a vault with the fixed master keys "k1" and "k2" below, and
 *      unsealed as field "email" of application "app-1" under the fixed data key below;
 *   3. the same BLOB as a plaintext to seal, and as an e-mail for the blind index.
 * The seeds wrapped-* and sealed-* are real outputs under those fixed keys, so mutations start
 * from ciphertexts that open (any change to them must then fail authentication).
 *
 * Invariants checked, beyond "no crash, no leak, no UB":
 *   - a file that parses has 1 to OB_VAULT_MAX_KEYS keys, a well-formed active kid, and a
 *     vault that wraps and unwraps; a file that does not leaves one line of printable ASCII
 *     in err, starting with the file's name, and *out NULL;
 *   - unwrap returns only OK, ENOTFOUND or ECORRUPT, zeroes dk on failure, and succeeds only
 *     on OB_VAULT_WRAPPED_LEN bytes; rewrap agrees with unwrap and gives the active kid;
 *   - unseal returns only OK or ECORRUPT (ETOOBIG cannot happen with the buffer given), and
 *     on failure releases nothing: plain is "" and *plain_len 0;
 *   - seal then unseal gives the plaintext back, and the blind index ignores ASCII case and
 *     surrounding blanks.
 *
 * With OB_FUZZ_VAULT_SEEDS=DIR in the environment, the first call writes the seed corpus into
 * DIR (it exists) before fuzzing: that is how tests/fuzz/corpus/vault was made, e.g.
 *   OB_FUZZ_VAULT_SEEDS=tests/fuzz/corpus/vault build/tests/fuzz/fuzz_vault_replay /dev/null
 * (/dev/null is just an empty input to replay). The nonces are random, so the wrapped-* and
 * sealed-* bytes change each time the seeds are written; what they decrypt to does not.
 *
 * Build with -Dfuzz=true and clang for libFuzzer; tests/fuzz/replay.c drives the same entry
 * point over the corpus in any build (the fuzz-smoke suite).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "crypto/vault.h"

static ob_vault *vault; /* master keys k1 = 0x11.., k2 = 0x22..; index key 0x33.. */
static uint8_t field_dk[OB_VAULT_KEY_LEN];

static const char app_id[] = "app-1";
static const char field[] = "email";

static void teardown(void)
{
	ob_vault_destroy(vault);
}

static void write_seed(const char *dir, const char *name, const void *a, size_t alen, const void *b,
                       size_t blen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(a, 1, alen, f) != alen ||
	    (blen > 0 && fwrite(b, 1, blen, f) != blen) || fclose(f) != 0)
		fuzz_die("cannot write a seed");
}

/* A first byte giving the kid's length, then the kid: the prefix of the KID || BLOB form. */
static size_t kid_prefix(uint8_t *out, const char *kid)
{
	size_t n = strlen(kid);
	out[0] = (uint8_t)n;
	memcpy(out + 1, kid, n);
	return n + 1;
}

static void write_seeds(const char *dir)
{
#define K1 "ERERERERERERERERERERERERERERERERERERERERERE="
#define K2 "IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI="
#define KI "MzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzM="
	static const struct {
		const char *name, *text;
	} files[] = {
	        {"keyfile-good", "# keys\nindex " KI "\nk1 " K1 "\nk2 " K2 "\n"},
	        {"keyfile-layout", "  # c\r\n\r\n\tindex\t" KI "  \r\nk-1 " K1},
	        {"keyfile-dup-kid", "index " KI "\nk1 " K1 "\nk1 " K2 "\n"},
	        {"keyfile-bad-b64",
	         "index " KI "\nk1 ERERERERERERERERERERERERERERERERERERERERERE\n"},
	        {"keyfile-no-index", "k1 " K1 "\n"},
	        {"keyfile-two-index", "index " KI "\nindex " K1 "\nk1 " K2 "\n"},
	        {"empty", ""},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		write_seed(dir, files[i].name, files[i].text, strlen(files[i].text), NULL, 0);

	uint8_t prefix[1 + OB_VAULT_KID_MAX], dk[OB_VAULT_KEY_LEN], w[OB_VAULT_WRAPPED_LEN];
	size_t wl;
	char kid[OB_VAULT_KID_SIZE];
	if (ob_vault_new_data_key(vault, dk, w, &wl, kid) != OB_OK)
		fuzz_die("new_data_key");
	write_seed(dir, "wrapped-k2", prefix, kid_prefix(prefix, "k2"), w, wl);
	write_seed(dir, "wrapped-k2-as-k1", prefix, kid_prefix(prefix, "k1"), w, wl);
	write_seed(dir, "wrapped-unknown-kid", prefix, kid_prefix(prefix, "k9"), w, wl);

	uint8_t sealed[64 + OB_VAULT_SEAL_OVERHEAD];
	size_t sl;
	const char email[] = "Jeanne.Dupont@Example.FR";
	if (ob_vault_seal(field_dk, app_id, field, email, strlen(email), sealed, sizeof(sealed),
	                  &sl) != OB_OK)
		fuzz_die("seal");
	write_seed(dir, "sealed-email", prefix, kid_prefix(prefix, ""), sealed, sl);
	if (ob_vault_seal(field_dk, app_id, field, "", 0, sealed, sizeof(sealed), &sl) != OB_OK)
		fuzz_die("seal");
	write_seed(dir, "sealed-empty", prefix, kid_prefix(prefix, ""), sealed, sl);
	sodium_memzero(dk, sizeof(dk));
#undef K1
#undef K2
#undef KI
}

static void setup(void)
{
	if (sodium_init() < 0)
		fuzz_die("sodium_init");
	const char *const kids[] = {"k1", "k2"};
	uint8_t keys[2][OB_VAULT_KEY_LEN], index_key[OB_VAULT_KEY_LEN];
	memset(keys[0], 0x11, sizeof(keys[0]));
	memset(keys[1], 0x22, sizeof(keys[1]));
	memset(index_key, 0x33, sizeof(index_key));
	memset(field_dk, 0x44, sizeof(field_dk));
	if (ob_vault_from_keys(kids, (const uint8_t(*)[OB_VAULT_KEY_LEN])keys, 2, index_key,
	                       &vault) != OB_OK)
		fuzz_die("cannot build the vault");
	atexit(teardown);
	const char *seeds = getenv("OB_FUZZ_VAULT_SEEDS");
	if (seeds != NULL && seeds[0] != '\0')
		write_seeds(seeds);
}

static bool kid_ok(const char *kid)
{
	size_t n = strlen(kid);
	if (n == 0 || n > OB_VAULT_KID_MAX || strcmp(kid, "index") == 0)
		return false;
	return strspn(kid, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* 1. The master key file parser. */
static void fuzz_parser(const uint8_t *data, size_t size)
{
	ob_vault *v = (ob_vault *)1; /* a failure must reset it to NULL */
	char err[256];
	memset(err, 'X', sizeof(err));
	ob_err rc = ob_vault_from_text((const char *)data, size, "F", &v, err, sizeof(err));
	if (rc != OB_OK) {
		if (v != NULL)
			fuzz_die("failed parse left *out set");
		if (memchr(err, '\0', sizeof(err)) == NULL || strncmp(err, "F", 1) != 0)
			fuzz_die("failed parse left no message");
		for (const char *c = err; *c != '\0'; c++) {
			if (*c < 0x20 || *c > 0x7e)
				fuzz_die("message is not one line of printable ASCII");
		}
		return;
	}
	size_t n = ob_vault_key_count(v);
	if (n < 1 || n > OB_VAULT_MAX_KEYS || !kid_ok(ob_vault_active_key_id(v)))
		fuzz_die("parsed vault is malformed");
	uint8_t dk[OB_VAULT_KEY_LEN], back[OB_VAULT_KEY_LEN], w[OB_VAULT_WRAPPED_LEN];
	size_t wl;
	char kid[OB_VAULT_KID_SIZE];
	if (ob_vault_new_data_key(v, dk, w, &wl, kid) != OB_OK ||
	    strcmp(kid, ob_vault_active_key_id(v)) != 0 ||
	    ob_vault_unwrap(v, kid, w, wl, back) != OB_OK || memcmp(dk, back, sizeof(dk)) != 0)
		fuzz_die("parsed vault does not round-trip a data key");
	ob_vault_destroy(v);
}

/* 2. Stored bytes: a wrapped data key under a kid, and a sealed field. */
static void fuzz_stored(const uint8_t *data, size_t size)
{
	if (size == 0)
		return;
	size_t kid_len = data[0] % (OB_VAULT_KID_MAX + 1);
	if (kid_len > size - 1)
		kid_len = size - 1;
	char kid[OB_VAULT_KID_SIZE];
	memcpy(kid, data + 1, kid_len); /* may hold a NUL: the vault sees a shorter kid */
	kid[kid_len] = '\0';
	const uint8_t *blob = data + 1 + kid_len;
	size_t len = size - 1 - kid_len;

	uint8_t dk[OB_VAULT_KEY_LEN], dk2[OB_VAULT_KEY_LEN], w[OB_VAULT_WRAPPED_LEN];
	size_t wl = 99;
	char new_kid[OB_VAULT_KID_SIZE];
	memset(dk, 0xa5, sizeof(dk));
	ob_err rc = ob_vault_unwrap(vault, kid, blob, len, dk);
	if (rc != OB_OK && rc != OB_ENOTFOUND && rc != OB_ECORRUPT)
		fuzz_die("unwrap: unexpected result");
	if (rc != OB_OK && !sodium_is_zero(dk, sizeof(dk)))
		fuzz_die("unwrap failed but left bytes in dk");
	if (rc == OB_OK && len != OB_VAULT_WRAPPED_LEN)
		fuzz_die("unwrap accepted a blob of the wrong length");
	ob_err rc2 = ob_vault_rewrap(vault, kid, blob, len, w, &wl, new_kid);
	if (rc2 != rc)
		fuzz_die("rewrap and unwrap disagree");
	if (rc2 == OB_OK) {
		if (wl != OB_VAULT_WRAPPED_LEN || strcmp(new_kid, "k2") != 0 ||
		    ob_vault_unwrap(vault, new_kid, w, wl, dk2) != OB_OK ||
		    memcmp(dk, dk2, sizeof(dk)) != 0)
			fuzz_die("rewrap does not give the same data key under the active kid");
	} else if (wl != 0) {
		fuzz_die("rewrap failed but set *out_len");
	}

	/* Room for any plaintext, so that ETOOBIG is not an answer. */
	char *plain = malloc(len + 1);
	if (plain == NULL)
		return;
	size_t pl = 99;
	rc = ob_vault_unseal(field_dk, app_id, field, blob, len, plain, len + 1, &pl);
	if (rc == OB_OK) {
		if (pl + OB_VAULT_SEAL_OVERHEAD != len || plain[pl] != '\0')
			fuzz_die("unseal: wrong length or no NUL");
	} else if (rc == OB_ECORRUPT) {
		/* what decryption may have written must be zero again; a blob too short to
		 * hold a tag is refused before anything but plain[0] is touched */
		size_t touched =
		        len >= OB_VAULT_SEAL_OVERHEAD ? len - OB_VAULT_SEAL_OVERHEAD + 1 : 1;
		if (pl != 0 || !sodium_is_zero((uint8_t *)plain, touched))
			fuzz_die("unseal failed but released bytes");
	} else {
		fuzz_die("unseal: unexpected result");
	}
	free(plain);
}

/* 3. The same bytes as a plaintext to seal and as an e-mail. */
static void fuzz_round_trip(const uint8_t *data, size_t size)
{
	const uint8_t *blob = size > 0 ? data + 1 : data;
	size_t len = size > 0 ? size - 1 : 0;
	uint8_t *sealed = malloc(len + OB_VAULT_SEAL_OVERHEAD);
	char *plain = malloc(len + 1);
	char *email = malloc(len + 3);
	if (sealed == NULL || plain == NULL || email == NULL)
		goto out;
	size_t sl, pl;
	if (ob_vault_seal(field_dk, app_id, field, (const char *)blob, len, sealed,
	                  len + OB_VAULT_SEAL_OVERHEAD, &sl) != OB_OK ||
	    sl != len + OB_VAULT_SEAL_OVERHEAD ||
	    ob_vault_unseal(field_dk, app_id, field, sealed, sl, plain, len + 1, &pl) != OB_OK ||
	    pl != len || memcmp(plain, blob, len) != 0)
		fuzz_die("seal/unseal does not round-trip");

	/* The e-mail stops at its first NUL; its index must ignore case and outer blanks. */
	memcpy(email, blob, len);
	email[len] = '\0';
	uint8_t a[OB_VAULT_INDEX_LEN], b[OB_VAULT_INDEX_LEN];
	ob_vault_blind_index(vault, email, a);
	size_t n = strlen(email);
	memmove(email + 1, email, n + 1);
	email[0] = ' ';
	for (size_t i = 1; i <= n; i++) {
		if (email[i] >= 'a' && email[i] <= 'z')
			email[i] = (char)(email[i] - 32);
	}
	email[n + 1] = '\t';
	email[n + 2] = '\0';
	ob_vault_blind_index(vault, email, b);
	if (memcmp(a, b, sizeof(a)) != 0)
		fuzz_die("blind index depends on case or outer blanks");
out:
	free(sealed);
	free(plain);
	free(email);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup();
		ready = true;
	}
	fuzz_parser(data, size);
	fuzz_stored(data, size);
	fuzz_round_trip(data, size);
	return 0;
}
