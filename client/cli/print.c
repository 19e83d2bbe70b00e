/*
 * Numbers, money, times and columns for people (print.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "print.h"
#include "words.h"

const char *cli_nz(const char *s)
{
	return s != NULL ? s : "";
}

const char *cli_state_name(int state)
{
	return cli_value_name(&onboard__v1__application_state__descriptor, state);
}

const char *cli_size_name(int size)
{
	return cli_value_name(&onboard__v1__size_category__descriptor, size);
}

const char *cli_grouped(int64_t v, char *buf, size_t n)
{
	char digits[32];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int len = snprintf(digits, sizeof(digits), "%" PRIu64, u);
	size_t j = 0;
	if (v < 0 && j + 1 < n)
		buf[j++] = '-';
	for (int i = 0; i < len && j + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[j++] = ' ';
		buf[j++] = digits[i];
	}
	buf[j] = '\0';
	return buf;
}

const char *cli_euros(int64_t cents, char *buf, size_t n)
{
	char g[32];
	int64_t whole = cents / 100, frac = cents % 100;
	if (frac < 0)
		frac = -frac;
	snprintf(buf, n, "%s.%02" PRId64 " EUR", cli_grouped(whole, g, sizeof(g)), frac);
	return buf;
}

const char *cli_when(const char *rfc3339, char *buf, size_t n)
{
	const char *s = cli_nz(rfc3339);
	if (strlen(s) >= 17 && s[10] == 'T' && s[strlen(s) - 1] == 'Z')
		snprintf(buf, n, "%.10s %.5s UTC", s, s + 11);
	else
		snprintf(buf, n, "%s", s[0] != '\0' ? s : "-");
	return buf;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

void cli_cell(const char *s, size_t width, bool pad)
{
	s = cli_nz(s);
	size_t chars = utf8_chars(s);
	if (chars <= width) {
		fputs(s, stdout);
		for (; pad && chars < width; chars++)
			putchar(' ');
		return;
	}
	size_t keep = width > 0 ? width - 1 : 0, seen = 0, i = 0;
	for (; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (seen == keep)
				break;
			seen++;
		}
	}
	fwrite(s, 1, i, stdout);
	if (width > 0)
		fputs("\xe2\x80\xa6", stdout); /* U+2026 */
}
