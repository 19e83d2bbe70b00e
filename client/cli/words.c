/*
 * The words of the contract's enums (words.h), derived from protobuf-c's
 * descriptors so that a value added to the contract is a word of the CLI
 * without anyone writing a table.
 */
#include <stdio.h>
#include <string.h>

#include "onboard/v1/onboarding.pb-c.h"
#include "words.h"

static const cli_word channel_words[] = {{"webshop", ONBOARD__V1__CHANNEL__CHANNEL_OWN_WEBSHOP},
                                         {NULL, 0}};
static const cli_word reason_words[] = {
        {"fraud", ONBOARD__V1__REJECTION_REASON__REJECTION_REASON_FRAUD_SUSPECTED},
        {NULL, 0},
};
static const cli_word legal_form_words[] = {
        {"micro", ONBOARD__V1__LEGAL_FORM__LEGAL_FORM_MICRO_ENTREPRENEUR},
        {NULL, 0},
};
static const cli_word role_words[] = {
        {"applicant", 0}, {"partner", 1}, {"reviewer", 2}, {"admin", 3}, {"ads", 4}, {NULL, 0},
};
static const cli_word bool_words[] = {
        {"true", 1},  {"yes", 1}, {"y", 1}, {"1", 1}, {"oui", 1}, {"x", 1},
        {"false", 0}, {"no", 0},  {"n", 0}, {"0", 0}, {"non", 0}, {NULL, 0},
};

const cli_words cli_states = {&onboard__v1__application_state__descriptor, NULL};
const cli_words cli_sizes = {&onboard__v1__size_category__descriptor, NULL};
const cli_words cli_channels = {&onboard__v1__channel__descriptor, channel_words};
const cli_words cli_actions = {&onboard__v1__review_action__descriptor, NULL};
const cli_words cli_reasons = {&onboard__v1__rejection_reason__descriptor, reason_words};
const cli_words cli_legal_forms = {&onboard__v1__legal_form__descriptor, legal_form_words};
static const cli_word topic_words[] = {
        {"webshop", ONBOARD__V1__WEBINAR_TOPIC__WEBINAR_TOPIC_OWN_WEBSHOP},
        {NULL, 0},
};
const cli_words cli_topics = {&onboard__v1__webinar_topic__descriptor, topic_words};
const cli_words cli_roles = {NULL, role_words};
const cli_words cli_bools = {NULL, bool_words};

/* The length of the prefix of d's value names: the enum's name in
 * UPPER_SNAKE_CASE and '_' (ApplicationState: "APPLICATION_STATE_"), when
 * every value has it; else 0 (nested enums such as ServingStatus). */
static size_t prefix_len(const ProtobufCEnumDescriptor *d)
{
	char prefix[CLI_WORD_MAX];
	size_t n = 0;
	for (const char *p = d->short_name; *p != '\0' && n + 2 < sizeof(prefix); p++) {
		bool upper = *p >= 'A' && *p <= 'Z';
		if (upper && p != d->short_name && !(p[-1] >= 'A' && p[-1] <= 'Z'))
			prefix[n++] = '_';
		prefix[n++] = upper || *p < 'a' || *p > 'z' ? *p : (char)(*p - 'a' + 'A');
	}
	prefix[n++] = '_';
	for (unsigned i = 0; i < d->n_values; i++)
		if (strncmp(d->values[i].name, prefix, n) != 0)
			return 0;
	return n;
}

const char *cli_value_name(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
	return ev != NULL ? ev->name + prefix_len(d) : "UNSPECIFIED";
}

int cli_value_of_name(const ProtobufCEnumDescriptor *d, const char *name)
{
	size_t skip = prefix_len(d);
	for (unsigned i = 0; i < d->n_values; i++)
		if (strcmp(d->values[i].name + skip, name) == 0)
			return d->values[i].value;
	return -1;
}

/* s lower-cased with '-' for '_' into out; false when too long. */
static bool normalise(const char *s, char out[CLI_WORD_MAX])
{
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		if (n + 1 == CLI_WORD_MAX)
			return false;
		char ch = s[n];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		out[n] = ch == '_' ? '-' : ch;
	}
	out[n] = '\0';
	return true;
}

static const char *own_word(const cli_words *w, int v)
{
	for (const cli_word *o = w->own; o != NULL && o->word != NULL; o++)
		if (o->value == v)
			return o->word;
	return NULL;
}

/* True for the values people may type: not 0 when the enum calls it
 * UNSPECIFIED. */
static bool typable(const ProtobufCEnumValue *ev)
{
	size_t len = strlen(ev->name);
	return !(ev->value == 0 && len >= 11 && strcmp(ev->name + len - 11, "UNSPECIFIED") == 0);
}

bool cli_word_value(const cli_words *w, const char *s, int *out)
{
	char norm[CLI_WORD_MAX], word[CLI_WORD_MAX];
	if (!normalise(s, norm))
		return false;
	for (const cli_word *o = w->own; o != NULL && o->word != NULL; o++)
		if (strcmp(o->word, norm) == 0) {
			*out = o->value;
			return true;
		}
	if (w->desc == NULL)
		return false;
	size_t skip = prefix_len(w->desc);
	for (unsigned i = 0; i < w->desc->n_values; i++) {
		const ProtobufCEnumValue *ev = &w->desc->values[i];
		if (typable(ev) && normalise(ev->name + skip, word) && strcmp(word, norm) == 0) {
			*out = ev->value;
			return true;
		}
	}
	return false;
}

const char *cli_word_of(const cli_words *w, int v, char buf[CLI_WORD_MAX])
{
	const char *own = own_word(w, v);
	const ProtobufCEnumValue *ev =
	        w->desc != NULL ? protobuf_c_enum_descriptor_get_value(w->desc, v) : NULL;
	if (own != NULL)
		snprintf(buf, CLI_WORD_MAX, "%s", own);
	else if (ev == NULL || !typable(ev) || !normalise(ev->name + prefix_len(w->desc), buf))
		snprintf(buf, CLI_WORD_MAX, "unspecified");
	return buf;
}

void cli_words_each(const cli_words *w, void (*each)(const char *word, void *ctx), void *ctx)
{
	char buf[CLI_WORD_MAX];
	if (w->desc == NULL) {
		for (const cli_word *o = w->own; o != NULL && o->word != NULL; o++)
			if (strcmp(own_word(w, o->value), o->word) == 0)
				each(o->word, ctx);
		return;
	}
	/* values_by_name is sorted by name; values holds them by number. */
	for (unsigned i = 0; i < w->desc->n_values; i++)
		if (typable(&w->desc->values[i]))
			each(cli_word_of(w, w->desc->values[i].value, buf), ctx);
}

typedef struct list_ctx {
	char *buf;
	size_t n, len, count, total;
} list_ctx;

static void count_word(const char *word, void *ctx)
{
	(void)word;
	((list_ctx *)ctx)->total++;
}

static void add_word(const char *word, void *ctx)
{
	list_ctx *l = ctx;
	const char *sep = l->count == 0 ? "" : l->count + 1 == l->total ? " or " : ", ";
	if (l->len < l->n) {
		int k = snprintf(l->buf + l->len, l->n - l->len, "%s%s", sep, word);
		if (k > 0)
			l->len += (size_t)k;
	}
	l->count++;
}

const char *cli_word_list(const cli_words *w, char *buf, size_t n)
{
	list_ctx l = {buf, n, 0, 0, 0};
	buf[0] = '\0';
	cli_words_each(w, count_word, &l);
	cli_words_each(w, add_word, &l);
	return buf;
}
