/*
 * fr_data.h: the reference tables behind fr.c, generated at build time by
 * tools/refdata/tables.py from the files of data/ (their sources, licences and
 * dates are in each file's header and in the README). Internal to fr.c: other
 * code asks fr.h.
 *
 * Static, read-only data (but ob_fr_postal_key_hash, below), safe from any thread. Each table
 * is sorted bytewise (as strcmp) on its first member, the postal codes then by
 * departement and name, so that fr.c finds a key by binary search. Strings are
 * UTF-8 (NFC), as in the data files.
 */
#ifndef OB_DOMAIN_FR_DATA_H
#define OB_DOMAIN_FR_DATA_H

#include <stddef.h>
#include <stdint.h>

/* A sub-class of NAF rev. 2: "47.91B", its section 'A'..'U', its label. */
typedef struct ob_fr_naf_row {
	char code[7];
	char section;
	const char *label;
} ob_fr_naf_row;

/* A departement (or one of the collectivities 975, 977, 978) of SIRENE's
 * territory and the name of its region, NULL for the collectivities. */
typedef struct ob_fr_dep_row {
	char code[4];
	const char *name;
	const char *region;
} ob_fr_dep_row;

/* One name a postal code is written with: a commune it serves, a former
 * commune or municipal arrondissement, or its delivery office. dep indexes
 * ob_fr_dep_rows. */
typedef struct ob_fr_postal_row {
	char code[6];
	unsigned char dep;
	const char *name;
} ob_fr_postal_row;

extern const ob_fr_naf_row ob_fr_naf_rows[];
extern const size_t ob_fr_naf_count;
extern const ob_fr_dep_row ob_fr_dep_rows[];
extern const size_t ob_fr_dep_count;
extern const ob_fr_postal_row ob_fr_postal_rows[];
extern const size_t ob_fr_postal_count;

/* One word per postal row, zeroed: fr.c writes the hash of each row's folded name there once,
 * at its first postal lookup (the folding is fr.c's alone, so it is not done here in Python). */
extern uint32_t ob_fr_postal_key_hash[];

#endif
