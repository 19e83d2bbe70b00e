/*
 * fuzz_auth.c: libFuzzer target for the decoders of service/auth: the keyring parser (an
 * operator's file), the session token verifier and the login verifier (a peer's bytes).
 *
 * Each input is used four ways:
 *  1. as keyring text: accepted keyrings must satisfy every rule auth.h states (id derived from
 *     the key, valid role, printable label, ordered dates, sorted and findable), refused ones
 *     must say which line;
 *  2. as token text, verified with a fixed secret: anything accepted must carry sane claims;
 *  3. its first 34 bytes as a token payload, wrapped here with a correct tag (computed from
 *     the format in auth.h, not by token.c): this reaches the claim checks behind the tag,
 *     which no forged input can, and the verifier's answer is compared with an independent
 *     statement of the rules; an accepted token spelled with a byte outside the alphabet in
 *     place of a digit must then be refused;
 *  4. as a login request (key id, timestamp, nonce, signature, clock offset, audience),
 *     checked against a fixed keyring as sent and again with a genuine signature made here,
 *     which must be accepted exactly when the timestamp is within the window and the audience
 *     is the server's, and only once; the verdict of a refusal must agree with the rules.
 * The verifier is created afresh for each input, so every input gives the same answer on every
 * run and in any order.
 *
 * Build with -Dfuzz=true and clang for libFuzzer; tests/fuzz/replay.c drives the same entry
 * point over tests/fuzz/corpus/auth in any build (the fuzz-smoke suite).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "auth/auth.h"
#include "keyfile.h"
#include "testlogin.h"

/* The instant every check is made at: 2023-11-14T22:13:20Z, as in the seed corpus. */
#define FUZZ_NOW INT64_C(1700000000000)

#define LOGIN_LEN (OB_KEY_ID_LEN + 8 + 16 + 64)

typedef struct {
	uint8_t seed[32], pk[32], sk[64];
	char id[OB_KEY_ID_LEN + 1];
} fuzz_key;

static bool ready;
static fuzz_key key_a; /* applicant, always valid: seed 0x0a... */
static fuzz_key key_b; /* partner, expired on 2020-01-01: seed 0x0b... */
static ob_keyring *keyring;
static ob_token_minter *minter;
static uint8_t secret[32]; /* 0x5e... */

static void make_key(fuzz_key *k, uint8_t fill)
{
	memset(k->seed, fill, sizeof(k->seed));
	crypto_sign_seed_keypair(k->pk, k->sk, k->seed);
	ob_keyfile_key_id(k->pk, k->id);
}

static void teardown(void)
{
	ob_keyring_unref(keyring);
	ob_token_minter_destroy(minter);
}

static void setup(void)
{
	if (sodium_init() < 0)
		fuzz_die("sodium_init failed");
	make_key(&key_a, 0x0a);
	make_key(&key_b, 0x0b);
	char text[512], pa[64], pb[64], err[256];
	sodium_bin2base64(pa, sizeof(pa), key_a.pk, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(pb, sizeof(pb), key_b.pk, 32, sodium_base64_VARIANT_ORIGINAL);
	snprintf(text, sizeof(text),
	         "%s applicant %s - - fuzz A\n%s partner %s 2019-01-01 2020-01-01 fuzz B\n",
	         key_a.id, pa, key_b.id, pb);
	if (ob_keyring_parse(text, strlen(text), &keyring, err, sizeof(err)) != OB_OK)
		fuzz_die(err);
	memset(secret, 0x5e, sizeof(secret));
	if (ob_token_minter_create(secret, &minter) != OB_OK)
		fuzz_die("cannot create the minter");
	ready = true;
	atexit(teardown);
}

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static int64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

/* A token minted for a key of a parsed keyring verifies with that key's id, role and
 * lifetime (cut at NOT_AFTER) and passes ob_token_check_key; a key not valid now gets none. */
static void mint_round_trip(const ob_keyring *kr, const ob_key *k)
{
	char tok[OB_TOKEN_STR_SIZE];
	ob_err rc = ob_token_mint(minter, k, FUZZ_NOW, 3600000, tok, sizeof(tok));
	if (!ob_key_valid_at(k, FUZZ_NOW)) {
		if (rc != OB_EAUTH)
			fuzz_die("a token was minted for a key not valid now");
		return;
	}
	if (rc != OB_OK)
		fuzz_die("cannot mint for a valid key");
	ob_token_claims c;
	int64_t expires = FUZZ_NOW + 3600000;
	if (k->not_after_ms != 0 && k->not_after_ms + 1 < expires)
		expires = k->not_after_ms + 1;
	if (ob_token_verify(minter, tok, FUZZ_NOW, &c) != OB_OK || strcmp(c.key_id, k->id) != 0 ||
	    c.role != k->role || c.issued_ms != FUZZ_NOW || c.expires_ms != expires ||
	    ob_token_check_key(&c, kr, FUZZ_NOW) != OB_OK)
		fuzz_die("a minted token does not verify as minted");
}

/* 1. The keyring parser. */
static void fuzz_keyring(const uint8_t *data, size_t size)
{
	ob_keyring *kr = NULL;
	char err[256] = "";
	ob_err rc = ob_keyring_parse((const char *)data, size, &kr, err, sizeof(err));
	if (rc != OB_OK) {
		if (kr != NULL)
			fuzz_die("a refused keyring was returned");
		if (strncmp(err, "line ", 5) != 0 && rc != OB_ENOMEM)
			fuzz_die("a keyring error does not name its line");
		return;
	}
	size_t n = ob_keyring_count(kr);
	if (n > OB_KEYRING_MAX_KEYS)
		fuzz_die("too many keys accepted");
	for (size_t i = 0; i < n; i++) {
		const ob_key *k = ob_keyring_at(kr, i);
		char id[OB_KEY_ID_LEN + 1];
		ob_keyfile_key_id(k->pk, id);
		if (strcmp(id, k->id) != 0 || !ob_key_id_valid(k->id))
			fuzz_die("a key id does not match its key");
		if (k->role < OB_ROLE_APPLICANT || k->role > OB_ROLE_LAST)
			fuzz_die("a key without a role");
		if (k->not_before_ms < 0 || k->not_after_ms < 0 ||
		    (k->not_before_ms != 0 && k->not_after_ms != 0 &&
		     k->not_before_ms > k->not_after_ms))
			fuzz_die("bad validity dates accepted");
		size_t len = strlen(k->label);
		if (len == 0 || len > OB_KEY_LABEL_MAX)
			fuzz_die("bad label length");
		for (size_t j = 0; j < len; j++) {
			if (k->label[j] < 0x20 || k->label[j] > 0x7e)
				fuzz_die("non-printable label");
		}
		if (ob_keyring_find(kr, k->id) != k)
			fuzz_die("a key is not found under its id");
		if (i > 0 && strcmp(ob_keyring_at(kr, i - 1)->id, k->id) >= 0)
			fuzz_die("keys out of order or duplicated");
		if (i < 4)
			mint_round_trip(kr, k);
	}
	ob_keyring_unref(kr);
}

/* Claims accepted by ob_token_verify at now must satisfy what auth.h promises. */
static void check_claims(const ob_token_claims *c, int64_t now)
{
	if (!ob_key_id_valid(c->key_id) || c->role < OB_ROLE_APPLICANT || c->role > OB_ROLE_LAST ||
	    c->issued_ms >= c->expires_ms || now >= c->expires_ms ||
	    c->issued_ms > now + OB_TOKEN_SKEW_MS)
		fuzz_die("a token with bad claims was accepted");
	const ob_key *k = ob_keyring_find(keyring, c->key_id);
	bool live = k != NULL && ob_key_valid_at(k, now) && k->role == c->role;
	if ((ob_token_check_key(c, keyring, now) == OB_OK) != live)
		fuzz_die("ob_token_check_key disagrees with the keyring");
}

/* 2. Token text as a peer sends it. */
static void fuzz_token_text(const uint8_t *data, size_t size)
{
	char buf[2 * OB_TOKEN_MAX_INPUT];
	size_t n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;
	memcpy(buf, data, n);
	buf[n] = '\0';
	ob_token_claims c;
	if (ob_token_verify(minter, buf, FUZZ_NOW, &c) == OB_OK) {
		if (strlen(buf) != OB_TOKEN_LEN)
			fuzz_die("a token of the wrong length was accepted");
		check_claims(&c, FUZZ_NOW);
	}
}

/* 3. A payload under a genuine tag: the verifier must accept it exactly when the rules say. */
static void fuzz_token_payload(const uint8_t *data, size_t size)
{
	enum { PAYLOAD = 34 };
	if (size < PAYLOAD)
		return;
	uint8_t in[16 + PAYLOAD], tag[32];
	memcpy(in, "onboard-token-v1", 16);
	memcpy(in + 16, data, PAYLOAD);
	crypto_generichash(tag, sizeof(tag), in, sizeof(in), secret, sizeof(secret));
	char tok[OB_TOKEN_STR_SIZE + 8];
	memcpy(tok, "ob1.", 4);
	sodium_bin2base64(tok + 4, 47, data, PAYLOAD, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	tok[50] = '.';
	sodium_bin2base64(tok + 51, 44, tag, sizeof(tag), sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	/* The clock, moved by the bytes after the payload, so the expiry edges are reached. */
	int64_t now = FUZZ_NOW;
	if (size >= PAYLOAD + 4)
		now += (int32_t)((uint32_t)data[PAYLOAD] << 24 | (uint32_t)data[PAYLOAD + 1] << 16 |
		                 (uint32_t)data[PAYLOAD + 2] << 8 | data[PAYLOAD + 3]);
	int64_t issued = be64(data + 18), expires = be64(data + 26);
	int role = data[17];
	bool in_range = issued >= -OB_AUTH_TIME_LIMIT_MS && issued <= OB_AUTH_TIME_LIMIT_MS &&
	                expires >= -OB_AUTH_TIME_LIMIT_MS && expires <= OB_AUTH_TIME_LIMIT_MS;
	bool want = data[0] == 1 && lower_hex((const char *)data + 1, OB_KEY_ID_LEN) &&
	            role >= OB_ROLE_APPLICANT && role <= OB_ROLE_LAST && in_range &&
	            issued < expires && issued <= now + OB_TOKEN_SKEW_MS && now < expires;

	ob_token_claims c;
	ob_err rc = ob_token_verify(minter, tok, now, &c);
	if ((rc == OB_OK) != want) {
		fprintf(stderr, "fuzz_auth: token %s at %lld: got %s, rules say %s\n", tok,
		        (long long)now, ob_strerror(rc), want ? "accept" : "refuse");
		abort();
	}
	if (rc == OB_OK) {
		if (memcmp(c.key_id, data + 1, OB_KEY_ID_LEN) != 0 || (int)c.role != role ||
		    c.issued_ms != issued || c.expires_ms != expires)
			fuzz_die("claims differ from the payload");
		check_claims(&c, now);
		/* One spelling per token: the same digit as a byte from 0x80 up is no digit (the
		 * base64 decoder of libsodium 1.0.18 took every such byte for '_'). */
		char *digit = strchr(tok + 4, '_');
		if (digit != NULL) {
			*digit = (char)0xdf;
			if (ob_token_verify(minter, tok, now, &c) != OB_EAUTH)
				fuzz_die("a token with a byte outside the alphabet was accepted");
		}
	} else if (rc != OB_EAUTH) {
		fuzz_die("a token was refused with another code than OB_EAUTH");
	}
}

/* The server's name, and another server's: what logins are signed for. */
#define OUR_AUD   "ipc:///run/onboard/onboardd.sock"
#define OTHER_AUD "tcp://elsewhere.example:7400"

/* Whether ts is in the window the server accepts at now. */
static bool in_window(int64_t ts, int64_t now)
{
	if (ts <= now)
		return (uint64_t)now - (uint64_t)ts <= (uint64_t)OB_LOGIN_MAX_AGE_MS;
	return (uint64_t)ts - (uint64_t)now <= (uint64_t)OB_LOGIN_MAX_AHEAD_MS;
}

/* ob_login_verify with the fields as arguments, signed for aud; the result in *res. */
static ob_err verify(ob_login_verifier *v, const char *id, int64_t ts, const uint8_t *nonce,
                     const uint8_t *sig, const char *aud, int64_t now, ob_login_result *res)
{
	ob_login_request rq = {.key_id = id,
	                       .ts_ms = ts,
	                       .nonce = nonce,
	                       .sig = sig,
	                       .audiences = &aud,
	                       .n_audiences = 1};
	ob_err rc = ob_login_verify(v, keyring, &rq, now, res);
	if ((rc == OB_OK) != (res->verdict == OB_LOGIN_ACCEPTED))
		fuzz_die("the verdict disagrees with the return code");
	if (rc == OB_OK && res->key == NULL)
		fuzz_die("an accepted login without its key");
	return rc;
}

/* 4. A login request: id (16) | ts (8, BE) | nonce (16) | signature (64) | clock offset (4) |
 * audience (1: even for this server's name, odd for another's). */
static void fuzz_login(const uint8_t *data, size_t size)
{
	if (size < LOGIN_LEN)
		return;
	char id[OB_KEY_ID_LEN + 1];
	memcpy(id, data, OB_KEY_ID_LEN);
	id[OB_KEY_ID_LEN] = '\0';
	int64_t ts = be64(data + 16);
	const uint8_t *nonce = data + 24, *sig = data + 40;
	int64_t now = FUZZ_NOW;
	if (size >= LOGIN_LEN + 4) {
		const uint8_t *o = data + LOGIN_LEN;
		now += (int32_t)((uint32_t)o[0] << 24 | (uint32_t)o[1] << 16 | (uint32_t)o[2] << 8 |
		                 o[3]);
	}
	bool ours = size < LOGIN_LEN + 5 || data[LOGIN_LEN + 4] % 2 == 0;
	const char *aud = ours ? OUR_AUD : OTHER_AUD;
	ob_login_verifier *v = NULL;
	const char *const names[] = {OUR_AUD};
	ob_login_config cfg = {
	        .max_entries = 8, .max_per_key = 8, .audiences = names, .n_audiences = 1};
	if (ob_login_verifier_create(&cfg, &v) != OB_OK)
		fuzz_die("cannot create a verifier");

	/* As sent: only a genuine signature by a valid key, in the window, may pass. */
	ob_login_result res;
	ob_err rc = verify(v, id, ts, nonce, sig, aud, now, &res);
	if (rc == OB_OK) {
		const ob_key *key = res.key;
		uint8_t msg[128];
		size_t len = ob_test_login_message(msg, sizeof(msg), id, ts, nonce, &aud, 1);
		if (strcmp(key->id, id) != 0 || !ob_key_valid_at(key, now) || !in_window(ts, now) ||
		    !ours || crypto_sign_verify_detached(sig, msg, len, key->pk) != 0)
			fuzz_die("a login was accepted against the rules");
		if (verify(v, id, ts, nonce, sig, aud, now, &res) != OB_EAUTH ||
		    res.verdict != OB_LOGIN_REPLAY)
			fuzz_die("a login was accepted twice");
	} else if (rc != OB_EAUTH) {
		fuzz_die("a login was refused with another code than OB_EAUTH");
	} else if (ob_key_id_valid(id) && !in_window(ts, now) &&
	           res.verdict != OB_LOGIN_CLOCK_SKEW) {
		fuzz_die("a login out of the window was refused for another reason than the clock");
	} else if (ob_key_id_valid(id) && in_window(ts, now) &&
	           (res.verdict == OB_LOGIN_WRONG_AUDIENCE) == ours) {
		fuzz_die("a login was refused for its audience, or not, against the rules");
	}

	/* Signed here by A (valid) and B (expired), with the input's timestamp and nonce. */
	uint8_t good[64];
	if (ob_login_sign(key_a.seed, key_a.id, ts, nonce, &aud, 1, good) == OB_OK) {
		bool fresh = in_window(ts, now);
		bool already = rc == OB_OK && strcmp(id, key_a.id) == 0;
		rc = verify(v, key_a.id, ts, nonce, good, aud, now, &res);
		if ((rc == OB_OK) != (fresh && ours && !already))
			fuzz_die("a genuine login got the wrong answer");
		if (verify(v, key_a.id, ts, nonce, good, aud, now, &res) != OB_EAUTH)
			fuzz_die("a genuine login was accepted twice");
	}
	if (ob_login_sign(key_b.seed, key_b.id, ts, nonce, &aud, 1, good) == OB_OK &&
	    verify(v, key_b.id, ts, nonce, good, aud, now, &res) != OB_EAUTH)
		fuzz_die("an expired key logged in");
	ob_login_verifier_destroy(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	fuzz_keyring(data, size);
	fuzz_token_text(data, size);
	fuzz_token_payload(data, size);
	fuzz_login(data, size);
	return 0;
}
