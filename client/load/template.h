/*
 * template.h: the request of --call, written in the proto3 JSON mapping with placeholders
 * that change from call to call, as ghz's templated data:
 *
 *     --data '{"cohortId":"{{cohort}}","company":{"siren":"{{siren}}","legalName":"Shop {{seq}}"}}'
 *
 * Placeholders (spaces inside the braces are allowed: "{{ seq }}"):
 *   {{seq}}     the call's number in the run, from 0 (warm-up calls included)
 *   {{siren}}   a valid SIREN (8 digits and the Luhn key), a different one for every call of a
 *               run (up to 99,999,999 calls) and, from a random start, rarely one of
 *               another run
 *   {{siret}}   the head office SIRET of that same SIREN (+ NIC 0001 and its key)
 *   {{uuid}}    a random version-4 UUID
 *   {{cohort}}  the run's cohort: the one named with --cohort, or the throw-away load-test
 *               cohort the run creates when none is named
 *   {{app_id}}  an application id of the run's cohort (of any cohort when none is
 *               named), picked at random, as the get scenario reads
 * "{{" always opens a placeholder: an unknown name, or "{{" without "}}", is refused when the
 * template is compiled. What a placeholder writes is digits, hexadecimal, [a-z0-9-] or a ULID:
 * nothing that needs escaping inside a JSON string.
 *
 * A compiled template is read-only: any number of threads may render it at once.
 */
#ifndef OB_LOAD_TEMPLATE_H
#define OB_LOAD_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"

typedef enum ob_load_slot {
	OB_LOAD_SLOT_TEXT, /* literal text, not a placeholder */
	OB_LOAD_SLOT_SEQ,
	OB_LOAD_SLOT_SIREN,
	OB_LOAD_SLOT_SIRET,
	OB_LOAD_SLOT_UUID,
	OB_LOAD_SLOT_COHORT,
	OB_LOAD_SLOT_APP_ID,
	OB_LOAD_N_SLOTS,
} ob_load_slot;

typedef struct ob_load_template ob_load_template;

/* What the placeholders of one call stand for. */
typedef struct ob_load_values {
	uint64_t seq;
	uint32_t siren_base; /* where the run's SIRENs start: see ob_load_siren() */
	const char *cohort;  /* "" when the run has none */
	const char *app_id;  /* "" when there is none */
	uint64_t random[2];  /* 128 random bits, for {{uuid}} */
} ob_load_values;

/* The longest text one placeholder writes (a UUID, a cohort id is at most 32). */
enum { OB_LOAD_SLOT_MAX = 36 };

/*
 * Compiles len bytes of text (no NUL needed) into *out, which the caller frees with
 * ob_load_template_destroy(). Returns 0, or -1 with a one-line message in err (errlen bytes)
 * naming the offset of the fault: "offset 12: unknown placeholder {{sirne}} (known: seq, ...)".
 */
OB_NODISCARD int ob_load_template_compile(const char *text, size_t len, ob_load_template **out,
                                          char *err, size_t errlen);
/* Accepts NULL. */
void ob_load_template_destroy(ob_load_template *t);

/* Whether t holds the placeholder s. */
bool ob_load_template_uses(const ob_load_template *t, ob_load_slot s);
/* Whether t holds no placeholder at all: every call sends the same request. */
bool ob_load_template_constant(const ob_load_template *t);
/* The size a buffer for ob_load_template_render() needs, its NUL included. */
size_t ob_load_template_size(const ob_load_template *t);
/* Writes t with the values v into out (at least ob_load_template_size(t) bytes), NUL-ended,
 * and returns its length. A value longer than OB_LOAD_SLOT_MAX is cut there. */
size_t ob_load_template_render(const ob_load_template *t, const ob_load_values *v, char *out);

/* How many SIRENs ob_load_siren() makes before it comes round again: every 8-digit number but
 * 00000000 (SIREN 000000000 passes Luhn's check, but no company has it: onboardd refuses it). */
#define OB_LOAD_SIRENS 99999999u

/*
 * The SIREN of call seq of a run whose SIRENs start after base (below OB_LOAD_SIRENS): the 8
 * digits of 1 + (base + seq) mod OB_LOAD_SIRENS, then the Luhn key. The built-in submit
 * scenario uses it too, so that {{siren}} and the scenario make the same companies.
 */
void ob_load_siren(uint32_t base, uint64_t seq, char out[10]);
/* The head office SIRET of that SIREN: the SIREN, NIC 0001 and the Luhn key of the 13. */
void ob_load_siret(uint32_t base, uint64_t seq, char out[15]);

#endif
