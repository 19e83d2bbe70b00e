/*
 * utf8.h: strict UTF-8 validation for text that arrives from the network.
 *
 * Valid means: well-formed per RFC 3629 (no overlong forms, no surrogates,
 * nothing above U+10FFFF) and, for ob_utf8_valid_text, no NUL, no DEL and no
 * C0 control characters other than tab, LF and CR.
 */
#ifndef OB_BASE_UTF8_H
#define OB_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

bool ob_utf8_valid(const char *s, size_t len);
/* The length (1 to 4) of the well-formed character at s, of at most left
 * bytes, or 0 when the bytes there are not one (left > 0). */
size_t ob_utf8_char_len(const char *s, size_t left);
bool ob_utf8_valid_text(const char *s, size_t len);
/* Drops an incomplete sequence at the end of s, as left by a truncating
 * snprintf, so that a cut message stays valid UTF-8. */
void ob_utf8_trim_cut(char *s);
/* The length of the longest prefix of s of at most max bytes that ends on a
 * character boundary, for "%.*s". */
int ob_utf8_prefix(const char *s, size_t max);
/* Copies src into dst (size > 0 bytes, the NUL included), cut on a character
 * boundary when it does not fit, so that valid UTF-8 stays valid. Returns
 * the number of bytes copied. For every fixed-size copy of text a person
 * typed or a caller sent: snprintf would cut inside a character, and strict
 * protobuf runtimes refuse a reply that carries the result. */
size_t ob_utf8_copy(char *dst, size_t size, const char *src);
/* vsnprintf into dst (size > 0) with the same guarantee at the cut. */
void ob_utf8_format(char *dst, size_t size, const char *fmt, ...) OB_PRINTF(3, 4);

/* Number of code points in a valid UTF-8 string. */
size_t ob_utf8_length(const char *s, size_t len);

/* Cuts the next line off text[*pos..len), for the parsers of line-based files
 * (the keyring, the master key file): *line and *n its bytes without the
 * '\n', *pos past it. False when no line is left. */
bool ob_text_next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n);

#endif
