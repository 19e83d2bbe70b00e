#include "base/utf8.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

size_t ob_utf8_char_len(const char *s, size_t left)
{
	return sequence((const uint8_t *)s, left);
}

/* Well-formed, and for text without control characters but tab, LF and CR. */
static bool valid(const char *s, size_t len, bool text)
{
	const uint8_t *p = (const uint8_t *)s;
	for (size_t i = 0; i < len;) {
		if (text &&
		    ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] == 0x7F))
			return false;
		size_t n = sequence(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

bool ob_utf8_valid(const char *s, size_t len)
{
	return valid(s, len, false);
}

bool ob_utf8_valid_text(const char *s, size_t len)
{
	return valid(s, len, true);
}

size_t ob_utf8_length(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((uint8_t)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

void ob_utf8_trim_cut(char *s)
{
	size_t n = strlen(s);
	/* Walk back over at most 3 continuation bytes to the last lead byte. */
	size_t i = n;
	while (i > 0 && n - i < 4 && ((uint8_t)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	uint8_t lead = (uint8_t)s[i - 1];
	size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

int ob_utf8_prefix(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	if (n == max && s[n] != '\0')
		while (n > 0 && ((uint8_t)s[n] & 0xC0) == 0x80)
			n--; /* s[n] continues a character: cut before its lead byte */
	return (int)n;
}

size_t ob_utf8_copy(char *dst, size_t size, const char *src)
{
	size_t n = (size_t)ob_utf8_prefix(src, size - 1);
	memmove(dst, src, n);
	dst[n] = '\0';
	return n;
}

void ob_utf8_format(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		dst[0] = '\0';
	else if ((size_t)n >= size)
		ob_utf8_trim_cut(dst);
}

bool ob_text_next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
	if (*pos >= len)
		return false;
	*line = text + *pos;
	const char *nl = memchr(*line, '\n', len - *pos);
	*n = nl != NULL ? (size_t)(nl - *line) : len - *pos;
	*pos += *n + (nl != NULL);
	return true;
}
