/*
 * luhn.h: the Luhn check digit of French company identifiers (SIREN: 8 digits and the key;
 * SIRET: 13 digits and the key), for the programs that make valid synthetic companies: the
 * load generator and the tests' fixtures. The domain checks identifiers in its own fr.c, with
 * La Poste's exception; this is only the plain key.
 */
#ifndef OB_COMMON_LUHN_H
#define OB_COMMON_LUHN_H

#include <stddef.h>

/* The digit (0-9) that makes digits[0..n-1] followed by it pass the Luhn check. digits holds
 * n ASCII digits. */
int ob_luhn_key(const char *digits, size_t n);

#endif
