/*
 * The templates of --data (template.h): compiled once into a list of pieces, literal text
 * and placeholders, so that a call only copies and formats.
 */
#include "template.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "luhn.h"

typedef struct piece {
	ob_load_slot slot;
	size_t off, len; /* OB_LOAD_SLOT_TEXT: where the text is in the template's copy */
} piece;

struct ob_load_template {
	char *text; /* a copy of the source */
	piece *pieces;
	size_t n_pieces;
	size_t size;   /* ob_load_template_size() */
	unsigned used; /* bit per ob_load_slot */
};

static const char *const slot_names[OB_LOAD_N_SLOTS] = {
        [OB_LOAD_SLOT_SEQ] = "seq",       [OB_LOAD_SLOT_SIREN] = "siren",
        [OB_LOAD_SLOT_SIRET] = "siret",   [OB_LOAD_SLOT_UUID] = "uuid",
        [OB_LOAD_SLOT_COHORT] = "cohort", [OB_LOAD_SLOT_APP_ID] = "app_id",
};

void ob_load_siren(uint32_t base, uint64_t seq, char out[10])
{
	snprintf(out, 10, "%08" PRIu64, 1 + (base + seq) % OB_LOAD_SIRENS);
	out[8] = (char)('0' + ob_luhn_key(out, 8));
	out[9] = '\0';
}

void ob_load_siret(uint32_t base, uint64_t seq, char out[15])
{
	ob_load_siren(base, seq, out);
	memcpy(out + 9, "0001", 4);
	out[13] = (char)('0' + ob_luhn_key(out, 13));
	out[14] = '\0';
}

/* The placeholder named by s[0..n) with spaces around it trimmed, or OB_LOAD_SLOT_TEXT. */
static ob_load_slot slot_named(const char *s, size_t n)
{
	while (n > 0 && *s == ' ') {
		s++;
		n--;
	}
	while (n > 0 && s[n - 1] == ' ')
		n--;
	for (int i = OB_LOAD_SLOT_TEXT + 1; i < OB_LOAD_N_SLOTS; i++)
		if (strlen(slot_names[i]) == n && memcmp(slot_names[i], s, n) == 0)
			return (ob_load_slot)i;
	return OB_LOAD_SLOT_TEXT;
}

static int add_piece(ob_load_template *t, ob_load_slot slot, size_t off, size_t len)
{
	if (slot == OB_LOAD_SLOT_TEXT && len == 0)
		return 0;
	piece *p = realloc(t->pieces, (t->n_pieces + 1) * sizeof(*p));
	if (p == NULL)
		return -1;
	t->pieces = p;
	p[t->n_pieces++] = (piece){slot, off, len};
	t->size += slot == OB_LOAD_SLOT_TEXT ? len : OB_LOAD_SLOT_MAX;
	t->used |= 1u << slot;
	return 0;
}

int ob_load_template_compile(const char *text, size_t len, ob_load_template **out, char *err,
                             size_t errlen)
{
	*out = NULL;
	ob_load_template *t = calloc(1, sizeof(*t));
	if (t == NULL || (t->text = malloc(len + 1)) == NULL) {
		free(t);
		ob_errbuf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(t->text, text, len);
	t->text[len] = '\0';
	t->size = 1;
	size_t lit = 0; /* where the current literal text started */
	for (size_t i = 0; i < len;) {
		if (!(text[i] == '{' && i + 1 < len && text[i + 1] == '{')) {
			i++;
			continue;
		}
		const char *close = NULL;
		for (size_t j = i + 2; j + 1 < len && close == NULL; j++)
			if (text[j] == '}' && text[j + 1] == '}')
				close = text + j;
		if (close == NULL) {
			ob_errbuf(err, errlen, "offset %zu: \"{{\" without \"}}\"", i);
			goto fail;
		}
		size_t name_len = (size_t)(close - (text + i + 2));
		ob_load_slot s = slot_named(text + i + 2, name_len);
		if (s == OB_LOAD_SLOT_TEXT) {
			ob_errbuf(err, errlen,
			          "offset %zu: unknown placeholder {{%.*s}} (known: seq, siren, "
			          "siret, "
			          "uuid, cohort, app_id)",
			          i, (int)(name_len < 40 ? name_len : 40), text + i + 2);
			goto fail;
		}
		if (add_piece(t, OB_LOAD_SLOT_TEXT, lit, i - lit) != 0 ||
		    add_piece(t, s, 0, 0) != 0)
			goto oom;
		i = (size_t)(close - text) + 2;
		lit = i;
	}
	if (add_piece(t, OB_LOAD_SLOT_TEXT, lit, len - lit) != 0)
		goto oom;
	*out = t;
	return 0;
oom:
	ob_errbuf(err, errlen, "out of memory");
fail:
	ob_load_template_destroy(t);
	return -1;
}

void ob_load_template_destroy(ob_load_template *t)
{
	if (t == NULL)
		return;
	free(t->pieces);
	free(t->text);
	free(t);
}

bool ob_load_template_uses(const ob_load_template *t, ob_load_slot s)
{
	return (t->used & (1u << s)) != 0;
}

bool ob_load_template_constant(const ob_load_template *t)
{
	return (t->used & ~(1u << OB_LOAD_SLOT_TEXT)) == 0;
}

size_t ob_load_template_size(const ob_load_template *t)
{
	return t->size;
}

/* Writes a version-4 UUID of the 128 bits r into out (37 bytes). */
static void uuid(const uint64_t r[2], char out[37])
{
	uint8_t b[16];
	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)(r[i / 8] >> (8 * (i % 8)));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10 */
	static const char hex[] = "0123456789abcdef";
	char *p = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 15];
	}
	*p = '\0';
}

size_t ob_load_template_render(const ob_load_template *t, const ob_load_values *v, char *out)
{
	char *p = out;
	for (size_t i = 0; i < t->n_pieces; i++) {
		const piece *pc = &t->pieces[i];
		char buf[OB_LOAD_SLOT_MAX + 1];
		const char *s = buf;
		switch (pc->slot) {
		case OB_LOAD_SLOT_TEXT:
			memcpy(p, t->text + pc->off, pc->len);
			p += pc->len;
			continue;
		case OB_LOAD_SLOT_SEQ:
			snprintf(buf, sizeof(buf), "%" PRIu64, v->seq);
			break;
		case OB_LOAD_SLOT_SIREN:
			ob_load_siren(v->siren_base, v->seq, buf);
			break;
		case OB_LOAD_SLOT_SIRET:
			ob_load_siret(v->siren_base, v->seq, buf);
			break;
		case OB_LOAD_SLOT_UUID:
			uuid(v->random, buf);
			break;
		case OB_LOAD_SLOT_COHORT:
			s = v->cohort != NULL ? v->cohort : "";
			break;
		case OB_LOAD_SLOT_APP_ID:
			s = v->app_id != NULL ? v->app_id : "";
			break;
		default: /* defensive: compile makes no other piece */
			s = "";
			break;
		}
		size_t n = strnlen(s, OB_LOAD_SLOT_MAX);
		memcpy(p, s, n);
		p += n;
	}
	*p = '\0';
	return (size_t)(p - out);
}
