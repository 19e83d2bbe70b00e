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

bool ob_utf8_valid(const char *s, size_t len);
bool ob_utf8_valid_text(const char *s, size_t len);
/* Drops an incomplete sequence at the end of s, as left by a truncating
 * snprintf, so that a cut message stays valid UTF-8. */
void ob_utf8_trim_cut(char *s);
/* The length of the longest prefix of s of at most max bytes that ends on a
 * character boundary, for "%.*s". */
int ob_utf8_prefix(const char *s, size_t max);

/* Number of code points in a valid UTF-8 string. */
size_t ob_utf8_length(const char *s, size_t len);

#endif
