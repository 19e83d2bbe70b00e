/* internal.h: helpers shared by the domain's files; not part of its interface. */
#ifndef OB_DOMAIN_INTERNAL_H
#define OB_DOMAIN_INTERNAL_H

#include "domain/domain.h"

void ob_violation_add(ob_outcome *o, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* A new application id: a ULID (time-ordered, 80 random bits). */
void ob_new_id(char out[OB_ID_LEN + 1], int64_t now_ms);

#endif
