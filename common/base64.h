/*
 * base64.h: the one base64 decoder of onboard, libsodium's with one more rule: ASCII only.
 *
 * libsodium 1.0.18 (Debian 12's libsodium23) decodes every byte from 0x80 up as the last
 * digit of the alphabet ('_' in the URL-safe variants, '/' in the standard ones) instead of
 * refusing it. Every string onboard decodes came from outside (session tokens, page tokens,
 * Connect's GET messages, keyrings, key files, JSON bytes fields), so each had many spellings
 * that decoded alike: "ob1.\xbe..." opened as "ob1._..." did. fuzz_pagetoken found it.
 *
 * Same contract as sodium_base642bin() (same arguments, 0 or -1 with errno EINVAL), except
 * that a byte >= 0x80 is never a digit: with b64_end NULL it is an error; with b64_end, the
 * decode stops before it as at any other byte outside the alphabet. Reentrant, no state.
 */
#ifndef OB_COMMON_BASE64_H
#define OB_COMMON_BASE64_H

#include <errno.h>
#include <stddef.h>

#include <sodium.h>

#include "attr.h"

OB_NODISCARD static inline int ob_base642bin(unsigned char *bin, size_t bin_maxlen, const char *b64,
                                             size_t b64_len, const char *ignore, size_t *bin_len,
                                             const char **b64_end, int variant)
{
	size_t ascii = 0;
	while (ascii < b64_len && (unsigned char)b64[ascii] < 0x80)
		ascii++;
	if (ascii < b64_len && b64_end == NULL) {
		if (bin_len != NULL)
			*bin_len = 0;
		errno = EINVAL;
		return -1;
	}
	return sodium_base642bin(bin, bin_maxlen, b64, ascii, ignore, bin_len, b64_end, variant);
}

#endif /* OB_COMMON_BASE64_H */
