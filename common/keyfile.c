#include "keyfile.h"

#include "base64.h"
#include "errbuf.h"
#include "login_message.h"
#include "secretfile.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

void ob_keyfile_key_id(const uint8_t pk[32], char id[OB_KEYFILE_ID_LEN + 1])
{
	uint8_t h[32];
	crypto_generichash(h, sizeof(h), pk, 32, NULL, 0);
	sodium_bin2hex(id, OB_KEYFILE_ID_LEN + 1, h, 8);
}

int ob_keyfile_generate(const char *path, char id[OB_KEYFILE_ID_LEN + 1], char pk_b64[64],
                        char *err, size_t errlen)
{
	uint8_t seed[32], pk[32], sk[64];
	char line[64];
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_bin2base64(line, sizeof(line), seed, sizeof(seed), sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	size_t n = strlen(line);
	line[n++] = '\n';
	int rc = ob_secret_create(path, line, n, err, errlen);
	sodium_memzero(line, sizeof(line));
	if (rc != 0)
		return -1;
	ob_keyfile_key_id(pk, id);
	sodium_bin2base64(pk_b64, 64, pk, sizeof(pk), sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

int ob_keyfile_load(const char *path, uint8_t seed[32], char id[OB_KEYFILE_ID_LEN + 1], char *err,
                    size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	if (ob_secret_read(path, false, 128, &text, &len, err, errlen) != 0)
		return -1;
	size_t line = strcspn(text, "\r\n");
	size_t bin_len = 0;
	int rc = ob_base642bin(seed, 32, text, line, NULL, &bin_len, NULL,
	                       sodium_base64_VARIANT_ORIGINAL);
	sodium_free(text);
	if (rc != 0 || bin_len != 32) {
		sodium_memzero(seed, 32);
		ob_errbuf(err, errlen, "%s is not a key file made by 'onboard keygen'", path);
		return -1;
	}
	uint8_t pk[32], sk[64];
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(sk, sizeof(sk));
	ob_keyfile_key_id(pk, id);
	return 0;
}

int ob_keyfile_sign_login(const uint8_t seed[32], const char id[OB_KEYFILE_ID_LEN + 1],
                          int64_t ts_ms, const uint8_t nonce[16], const char *const *audiences,
                          size_t n, uint8_t sig[64])
{
	uint8_t msg[OB_LOGIN_MESSAGE_MAX];
	size_t len = ob_login_message_build(msg, id, ts_ms, nonce, audiences, n);
	if (len == 0)
		return -1;
	uint8_t pk[32], sk[64];
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_sign_detached(sig, NULL, msg, len, sk);
	sodium_memzero(sk, sizeof(sk));
	return 0;
}
