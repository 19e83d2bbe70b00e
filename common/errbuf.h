/*
 * errbuf.h: the one writer behind every "char *err, size_t errlen" out-parameter of
 * onboard's C code (server, client library, CLI): a formatted one-line message, cut to fit,
 * written only when the caller gave a buffer.
 */
#ifndef OB_COMMON_ERRBUF_H
#define OB_COMMON_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "attr.h"

void ob_errbuf(char *err, size_t errlen, const char *fmt, ...) OB_PRINTF(3, 4);
void ob_verrbuf(char *err, size_t errlen, const char *fmt, va_list ap) OB_PRINTF(3, 0);

#endif
