#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

void ob_verrbuf(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err != NULL && errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
}

void ob_errbuf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ob_verrbuf(err, errlen, fmt, ap);
	va_end(ap);
}
