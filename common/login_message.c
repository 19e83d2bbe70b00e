#include "login_message.h"

#include <string.h>

#define CONTEXT     "onboard-login-v2"
#define CONTEXT_LEN 16

bool ob_login_audiences_valid(const char *const *audiences, size_t n)
{
	if (audiences == NULL || n == 0 || n > OB_LOGIN_MAX_AUDIENCES)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (audiences[i] == NULL)
			return false;
		size_t len = strnlen(audiences[i], OB_LOGIN_MAX_AUDIENCE_LEN + 1);
		if (len == 0 || len > OB_LOGIN_MAX_AUDIENCE_LEN)
			return false;
	}
	return true;
}

size_t ob_login_message_build(uint8_t msg[OB_LOGIN_MESSAGE_MAX], const char *key_id, int64_t ts_ms,
                              const uint8_t nonce[OB_LOGIN_NONCE_LEN], const char *const *audiences,
                              size_t n)
{
	if (key_id == NULL || nonce == NULL ||
	    strnlen(key_id, OB_LOGIN_KEY_ID_LEN + 1) != OB_LOGIN_KEY_ID_LEN ||
	    !ob_login_audiences_valid(audiences, n))
		return 0;
	size_t p = 0;
	memcpy(msg + p, CONTEXT, CONTEXT_LEN);
	p += CONTEXT_LEN;
	msg[p++] = 0;
	memcpy(msg + p, key_id, OB_LOGIN_KEY_ID_LEN);
	p += OB_LOGIN_KEY_ID_LEN;
	uint64_t ts = (uint64_t)ts_ms; /* two's complement on every platform we build for */
	for (int i = 7; i >= 0; i--)
		msg[p++] = (uint8_t)(ts >> (8 * i));
	memcpy(msg + p, nonce, OB_LOGIN_NONCE_LEN);
	p += OB_LOGIN_NONCE_LEN;
	msg[p++] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(audiences[i]);
		msg[p++] = (uint8_t)(len >> 8);
		msg[p++] = (uint8_t)len;
		memcpy(msg + p, audiences[i], len);
		p += len;
	}
	return p;
}
