/*
 * token.c: session tokens. See auth.h for the format and the contracts.
 *
 * The token has one fixed length, so verification starts by refusing any other length and
 * never parses a variable structure. libsodium's base64 decoder is strict (an alphabet byte
 * outside base64url, padding, or non-zero bits after the last full byte all fail), so each
 * payload has exactly one encoding and a token cannot be altered without changing the bytes
 * the tag covers. The tag is checked before any claim is looked at.
 *
 * The secret lives in sodium_malloc'd memory: guard pages around it, excluded from swap and
 * core dumps where the system allows, and made read-only once written, so that a stray write
 * elsewhere in the process faults instead of silently changing it.
 */
#include "auth/auth.h"
#include "base64.h"

#include <string.h>

#include <sodium.h>

#define TOKEN_PREFIX      "ob1."
#define TOKEN_PREFIX_LEN  4
#define TOKEN_CONTEXT     "onboard-token-v1"
#define TOKEN_CONTEXT_LEN 16
#define TOKEN_VERSION     1

#define PAYLOAD_LEN     (1 + OB_KEY_ID_LEN + 1 + 8 + 8)
#define PAYLOAD_B64_LEN 46 /* ceil(34 * 4 / 3) */
#define TAG_LEN         crypto_generichash_BYTES
#define TAG_B64_LEN     43 /* ceil(32 * 4 / 3) */
#define DOT_AT          (TOKEN_PREFIX_LEN + PAYLOAD_B64_LEN)

_Static_assert(TOKEN_PREFIX_LEN + PAYLOAD_B64_LEN + 1 + TAG_B64_LEN == OB_TOKEN_LEN,
               "token length");
_Static_assert(TAG_LEN == crypto_generichash_KEYBYTES, "the secret is a BLAKE2b-256 key");

struct ob_token_minter {
	uint8_t secret[crypto_generichash_KEYBYTES];
};

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static int64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v; /* two's complement on every platform we build for */
}

static bool time_in_range(int64_t t)
{
	return t >= -OB_AUTH_TIME_LIMIT_MS && t <= OB_AUTH_TIME_LIMIT_MS;
}

static bool role_valid(ob_role r)
{
	return r >= OB_ROLE_APPLICANT && r <= OB_ROLE_LAST;
}

/* tag = BLAKE2b-256(key = secret, "onboard-token-v1" || payload). */
static void token_tag(const ob_token_minter *m, const uint8_t payload[PAYLOAD_LEN],
                      uint8_t tag[TAG_LEN])
{
	uint8_t in[TOKEN_CONTEXT_LEN + PAYLOAD_LEN];
	memcpy(in, TOKEN_CONTEXT, TOKEN_CONTEXT_LEN);
	memcpy(in + TOKEN_CONTEXT_LEN, payload, PAYLOAD_LEN);
	crypto_generichash(tag, TAG_LEN, in, sizeof(in), m->secret, sizeof(m->secret));
}

ob_err ob_token_minter_create(const uint8_t *secret, ob_token_minter **out)
{
	ob_token_minter *m = sodium_malloc(sizeof(*m));
	if (m == NULL)
		return OB_ENOMEM;
	if (secret != NULL)
		memcpy(m->secret, secret, sizeof(m->secret));
	else
		randombytes_buf(m->secret, sizeof(m->secret));
	if (sodium_mprotect_readonly(m) != 0) {
		sodium_free(m); /* wipes */
		return OB_EINTERNAL;
	}
	*out = m;
	return OB_OK;
}

void ob_token_minter_destroy(ob_token_minter *m)
{
	if (m == NULL)
		return;
	/* sodium_free wipes too; the explicit wipe does not depend on how it was built. */
	sodium_mprotect_readwrite(m);
	sodium_memzero(m, sizeof(*m));
	sodium_free(m);
}

ob_err ob_token_mint(const ob_token_minter *m, const ob_key *key, int64_t now_ms, int64_t ttl_ms,
                     char *out, size_t outlen)
{
	if (m == NULL || key == NULL || out == NULL || outlen < OB_TOKEN_STR_SIZE ||
	    !time_in_range(now_ms) || ttl_ms <= 0 || ttl_ms > OB_TOKEN_MAX_TTL_MS ||
	    !ob_key_id_valid(key->id) || !role_valid(key->role))
		return OB_EINVAL;
	if (!ob_key_valid_at(key, now_ms))
		return OB_EAUTH;
	int64_t expires = now_ms + ttl_ms;
	/* The key's last valid instant is its NOT_AFTER; ob_token_check_key would refuse the
	 * token afterwards anyway, but the client learns the real lifetime from the token. */
	if (key->not_after_ms != 0 && key->not_after_ms < expires - 1)
		expires = key->not_after_ms + 1;

	uint8_t payload[PAYLOAD_LEN], tag[TAG_LEN];
	payload[0] = TOKEN_VERSION;
	memcpy(payload + 1, key->id, OB_KEY_ID_LEN);
	payload[1 + OB_KEY_ID_LEN] = (uint8_t)key->role;
	put_be64(payload + 2 + OB_KEY_ID_LEN, (uint64_t)now_ms);
	put_be64(payload + 10 + OB_KEY_ID_LEN, (uint64_t)expires);
	token_tag(m, payload, tag);

	memcpy(out, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
	sodium_bin2base64(out + TOKEN_PREFIX_LEN, PAYLOAD_B64_LEN + 1, payload, sizeof(payload),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	out[DOT_AT] = '.';
	sodium_bin2base64(out + DOT_AT + 1, TAG_B64_LEN + 1, tag, sizeof(tag),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return OB_OK;
}

ob_err ob_token_verify(const ob_token_minter *m, const char *token, int64_t now_ms,
                       ob_token_claims *out)
{
	if (m == NULL || out == NULL || !time_in_range(now_ms))
		return OB_EINVAL;
	if (token == NULL)
		return OB_EAUTH;
	/* strnlen bounds the read: a peer's megabyte is never walked. */
	if (strnlen(token, OB_TOKEN_MAX_INPUT + 1) != OB_TOKEN_LEN)
		return OB_EAUTH;
	if (memcmp(token, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0 || token[DOT_AT] != '.')
		return OB_EAUTH;

	uint8_t payload[PAYLOAD_LEN], tag[TAG_LEN], want[TAG_LEN];
	size_t n = 0;
	if (ob_base642bin(payload, sizeof(payload), token + TOKEN_PREFIX_LEN, PAYLOAD_B64_LEN, NULL,
	                  &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(payload))
		return OB_EAUTH;
	if (ob_base642bin(tag, sizeof(tag), token + DOT_AT + 1, TAG_B64_LEN, NULL, &n, NULL,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(tag))
		return OB_EAUTH;
	token_tag(m, payload, want);
	int bad_tag = crypto_verify_32(want, tag);
	/* The expected tag is as good as a token for this payload: do not leave it around. */
	sodium_memzero(want, sizeof(want));
	if (bad_tag != 0)
		return OB_EAUTH;

	/* Authentic from here on; these checks catch a minter bug or a future format, not
	 * forgery. */
	ob_token_claims c;
	memcpy(c.key_id, payload + 1, OB_KEY_ID_LEN);
	c.key_id[OB_KEY_ID_LEN] = '\0';
	c.role = (ob_role)payload[1 + OB_KEY_ID_LEN];
	c.issued_ms = get_be64(payload + 2 + OB_KEY_ID_LEN);
	c.expires_ms = get_be64(payload + 10 + OB_KEY_ID_LEN);
	if (payload[0] != TOKEN_VERSION || !ob_key_id_valid(c.key_id) || !role_valid(c.role) ||
	    !time_in_range(c.issued_ms) || !time_in_range(c.expires_ms) ||
	    c.issued_ms >= c.expires_ms)
		return OB_EAUTH;
	/* Issued in the future beyond clock skew between replicas sharing the secret: refused
	 * rather than trusted for longer than it should be. */
	if (c.issued_ms > now_ms + OB_TOKEN_SKEW_MS || now_ms >= c.expires_ms)
		return OB_EAUTH;
	*out = c;
	return OB_OK;
}

ob_err ob_token_check_key(const ob_token_claims *claims, const ob_keyring *kr, int64_t now_ms)
{
	if (claims == NULL)
		return OB_EINVAL;
	if (kr == NULL || !ob_key_id_valid(claims->key_id))
		return OB_EAUTH;
	const ob_key *key = ob_keyring_find(kr, claims->key_id);
	if (key == NULL || !ob_key_valid_at(key, now_ms) || key->role != claims->role)
		return OB_EAUTH;
	return OB_OK;
}
