#include "testlogin.h"

#include <string.h>

size_t ob_test_login_message(uint8_t *msg, size_t cap, const char *id, int64_t ts,
                             const uint8_t nonce[16], const char *const *auds, size_t n)
{
	if (cap < 58 || n > 255)
		return 0;
	memcpy(msg, "onboard-login-v2", 16);
	msg[16] = 0;
	memcpy(msg + 17, id, 16);
	for (int i = 0; i < 8; i++)
		msg[33 + i] = (uint8_t)((uint64_t)ts >> (56 - 8 * i));
	memcpy(msg + 41, nonce, 16);
	msg[57] = (uint8_t)n;
	size_t len = 58;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(auds[i]);
		if (l > 0xFFFF || l + 2 > cap - len)
			return 0;
		msg[len++] = (uint8_t)(l >> 8);
		msg[len++] = (uint8_t)l;
		memcpy(msg + len, auds[i], l);
		len += l;
	}
	return len;
}
