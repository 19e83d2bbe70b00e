#include "base/utf8.h"

#include <stdint.h>

/* Returns the length of the sequence at s (1..4), or 0 if it is not valid. */
static size_t sequence(const uint8_t *s, size_t left)
{
	uint8_t c = s[0];
	if (c < 0x80)
		return 1;
	if (c < 0xC2 || c > 0xF4)
		return 0; /* continuation byte, overlong 2-byte lead, or > U+10FFFF */
	size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if (c == 0xE0 && s[1] < 0xA0)
		return 0; /* overlong 3-byte */
	if (c == 0xED && s[1] > 0x9F)
		return 0; /* UTF-16 surrogates */
	if (c == 0xF0 && s[1] < 0x90)
		return 0; /* overlong 4-byte */
	if (c == 0xF4 && s[1] > 0x8F)
		return 0; /* above U+10FFFF */
	return n;
}

bool ob_utf8_valid(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	for (size_t i = 0; i < len;) {
		size_t n = sequence(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

bool ob_utf8_valid_text(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	for (size_t i = 0; i < len;) {
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return false;
		if (p[i] == 0x7F)
			return false;
		size_t n = sequence(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

size_t ob_utf8_length(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((uint8_t)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}
