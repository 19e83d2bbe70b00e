/*
 * Requests from options (cli.h): a value goes to the field its option names,
 * found through protobuf-c's message descriptors, so that a command's table
 * says where its options go and no command copies them by hand.
 *
 * Every message is built on the heap with malloc, as protobuf-c's default
 * allocator would unpack it: strings copied, sub-messages allocated on the
 * way, repeated fields in malloc'd arrays. One
 * protobuf_c_message_free_unpacked(m, NULL) then frees a request whether it
 * was filled here or parsed from JSON (ob_json_parse_message does the same).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "values.h"

ProtobufCMessage *cli_message_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = malloc(d->sizeof_message);
	if (m != NULL)
		protobuf_c_message_init(d, m);
	return m;
}

/*
 * The field at path ("company.address.city") of a message of type d: its
 * descriptor, and the message of m holding it (m NULL: only looks). A
 * sub-message m lacks is allocated on the way when create, else the holder
 * is NULL. NULL when there is no such field or memory.
 */
static const ProtobufCFieldDescriptor *field_at(const ProtobufCMessageDescriptor *d,
                                                ProtobufCMessage *m, const char *path, bool create,
                                                ProtobufCMessage **holder)
{
	char name[64];
	for (;;) {
		size_t len = strcspn(path, ".");
		if (len >= sizeof(name))
			return NULL;
		memcpy(name, path, len);
		name[len] = '\0';
		const ProtobufCFieldDescriptor *f =
		        protobuf_c_message_descriptor_get_field_by_name(d, name);
		if (f == NULL || path[len] == '\0') {
			if (holder != NULL)
				*holder = m;
			return f;
		}
		if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
			return NULL;
		d = f->descriptor;
		if (m != NULL) {
			ProtobufCMessage **sub = (ProtobufCMessage **)((char *)m + f->offset);
			if (*sub == NULL && create && (*sub = cli_message_new(d)) == NULL)
				return NULL;
			m = *sub;
		}
		path += len + 1;
	}
}

static bool integer_type(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_UINT32 || t == PROTOBUF_C_TYPE_UINT64 ||
	       t == PROTOBUF_C_TYPE_INT64 || t == PROTOBUF_C_TYPE_INT32;
}

bool cli_field_fits(const ProtobufCMessageDescriptor *d, const char *path, cli_kind kind, char *why,
                    size_t n)
{
	const ProtobufCFieldDescriptor *f = field_at(d, NULL, path, false, NULL);
	if (f == NULL) {
		snprintf(why, n, "%s has no field %s", d->name, path);
		return false;
	}
	/* What each kind of option can go into. */
	static const struct {
		cli_kind kind;
		ProtobufCType type; /* INT64 for CLI_UINT: any integer */
		bool repeated;
	} fits[] = {
	        {CLI_STRING, PROTOBUF_C_TYPE_STRING, false},
	        {CLI_STRINGS, PROTOBUF_C_TYPE_STRING, true},
	        {CLI_UINT, PROTOBUF_C_TYPE_INT64, false},
	        {CLI_UINT, PROTOBUF_C_TYPE_INT64, true}, /* repeatable: each one appended */
	        {CLI_HHMM, PROTOBUF_C_TYPE_INT64, false},
	        {CLI_EUROS, PROTOBUF_C_TYPE_INT64, false},
	        {CLI_WORD, PROTOBUF_C_TYPE_ENUM, false},
	        {CLI_WORDS, PROTOBUF_C_TYPE_ENUM, true},
	        {CLI_FLAG, PROTOBUF_C_TYPE_BOOL, false},
	};
	bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED, ok = false;
	for (size_t i = 0; i < sizeof(fits) / sizeof(fits[0]); i++) {
		if (fits[i].kind != kind || fits[i].repeated != repeated)
			continue;
		bool any_integer = kind == CLI_UINT || kind == CLI_HHMM;
		ok = any_integer ? integer_type(f->type) : f->type == fits[i].type;
	}
	if (!ok)
		snprintf(why, n, "%s.%s cannot hold this kind of option", d->name, path);
	return ok;
}

static void set_integer(void *p, ProtobufCType t, uint64_t v)
{
	switch (t) {
	case PROTOBUF_C_TYPE_UINT32:
		*(uint32_t *)p = (uint32_t)v;
		break;
	case PROTOBUF_C_TYPE_INT32:
		*(int32_t *)p = (int32_t)v;
		break;
	case PROTOBUF_C_TYPE_UINT64:
		*(uint64_t *)p = v;
		break;
	default: /* INT64 */
		*(int64_t *)p = (int64_t)v;
		break;
	}
}

static void *member(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (char *)m + f->offset;
}

/* A field in a oneof is only sent when its case says it is the one set:
 * says so, for field f of m just set. (A oneof of one field is how the
 * contract gives a number presence: Company.employees.) */
static void mark_set(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0)
		*(uint32_t *)((char *)m + f->quantifier_offset) = f->id;
}

/* The size of one value of an integer field. */
static size_t integer_size(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_UINT64 || t == PROTOBUF_C_TYPE_INT64 ? 8 : 4;
}

/* Appends one element of size bytes to the repeated field f of m; returns
 * where it goes (zeroed), or NULL when out of memory. */
static void *append(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t size)
{
	size_t *count = (size_t *)((char *)m + f->quantifier_offset);
	void **array = member(m, f);
	char *grown = realloc(*array, (*count + 1) * size);
	if (grown == NULL)
		return NULL;
	*array = grown;
	memset(grown + *count * size, 0, size);
	return grown + (*count)++ * size;
}

/* Empties the repeated field f of m (enums, numbers). */
static void clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	void **array = member(m, f);
	free(*array);
	*array = NULL;
	*(size_t *)((char *)m + f->quantifier_offset) = 0;
}

static bool set_string(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const char *v)
{
	char *copy = strdup(v);
	if (copy == NULL)
		return false;
	char **p = member(m, f);
	if (*p != NULL && *p != f->default_value)
		free(*p);
	*p = copy;
	return true;
}

bool cli_set_string(ProtobufCMessage *m, const char *path, const char *value)
{
	ProtobufCMessage *holder;
	const ProtobufCFieldDescriptor *f = field_at(m->descriptor, m, path, true, &holder);
	return f != NULL && f->type == PROTOBUF_C_TYPE_STRING &&
	       f->label != PROTOBUF_C_LABEL_REPEATED && set_string(holder, f, value);
}

const char *cli_field_text(const ProtobufCMessage *m, const char *path, char *buf, size_t n)
{
	ProtobufCMessage *h = NULL;
	const ProtobufCFieldDescriptor *f =
	        field_at(m->descriptor, (ProtobufCMessage *)m, path, false, &h);
	if (f == NULL || f->label == PROTOBUF_C_LABEL_REPEATED)
		return NULL;
	/* A field of a sub-message m does not have reads as its default. */
	const char *p = h != NULL ? (const char *)h + f->offset : NULL;
	/* A member of a oneof that is not the one set was not given: no text
	 * (the contract's figures, each in a oneof of its own). */
	if (p != NULL && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
	    *(const uint32_t *)(const void *)((const char *)h + f->quantifier_offset) != f->id)
		return "";
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return p != NULL && *(char *const *)(const void *)p != NULL
		               ? *(char *const *)(const void *)p
		               : "";
	case PROTOBUF_C_TYPE_BOOL:
		return p != NULL && *(const protobuf_c_boolean *)(const void *)p ? "true" : "false";
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_INT64: {
		uint64_t u = 0;
		int64_t v = 0;
		if (p != NULL &&
		    (f->type == PROTOBUF_C_TYPE_UINT64 || f->type == PROTOBUF_C_TYPE_INT64)) {
			memcpy(&u, p, sizeof(u));
			memcpy(&v, p, sizeof(v));
		} else if (p != NULL) {
			uint32_t u32;
			int32_t v32;
			memcpy(&u32, p, sizeof(u32));
			memcpy(&v32, p, sizeof(v32));
			u = u32, v = v32;
		}
		if (f->type == PROTOBUF_C_TYPE_UINT32 || f->type == PROTOBUF_C_TYPE_UINT64)
			snprintf(buf, n, "%" PRIu64, u);
		else
			snprintf(buf, n, "%" PRId64, v);
		return buf;
	}
	default:
		return NULL;
	}
}

bool cli_set_uint(ProtobufCMessage *m, const char *path, uint64_t v)
{
	ProtobufCMessage *holder;
	const ProtobufCFieldDescriptor *f = field_at(m->descriptor, m, path, true, &holder);
	if (f == NULL || f->label == PROTOBUF_C_LABEL_REPEATED || !integer_type(f->type))
		return false;
	set_integer(member(holder, f), f->type, v);
	return true;
}

/* The words of v ("a,b c") appended to the repeated enum field f. */
static bool append_words(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                         const cli_words *words, const char *v)
{
	char word[CLI_WORD_MAX];
	for (const char *p = v; *p != '\0'; p += strspn(p, ", ")) {
		size_t len = strcspn(p, ", ");
		if (len == 0)
			continue;
		snprintf(word, sizeof(word), "%.*s", (int)len, p);
		int x = 0, *slot;
		if (!cli_word_value(words, word, &x)) /* defensive: checked by cli_parse */
			return false;
		if ((slot = append(m, f, sizeof(int))) == NULL)
			return false;
		*slot = x;
		p += len;
	}
	return true;
}

/* One value of kind into the field at path of m; first: the first time this
 * option is given (a list of words replaces what the field held). */
static bool put(ProtobufCMessage *m, const char *path, const char *path2, cli_kind kind,
                const cli_words *words, const char *v, bool first)
{
	ProtobufCMessage *h;
	const ProtobufCFieldDescriptor *f = field_at(m->descriptor, m, path, true, &h);
	if (f == NULL)
		return false;
	uint64_t u;
	int64_t cents;
	uint32_t hh, mm;
	int x;
	char **s;
	switch (kind) {
	case CLI_STRING:
		return set_string(h, f, v);
	case CLI_STRINGS:
		if ((s = append(h, f, sizeof(char *))) == NULL)
			return false;
		return (*s = strdup(v)) != NULL;
	case CLI_UINT: {
		if (!cli_parse_u64(v, 0, UINT64_MAX, &u))
			return false;
		void *slot = member(h, f);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (first)
				clear(h, f); /* the option's values replace a default */
			if ((slot = append(h, f, integer_size(f->type))) == NULL)
				return false;
		}
		set_integer(slot, f->type, u);
		mark_set(h, f);
		return true;
	}
	case CLI_EUROS:
		if (!cli_parse_euros(v, &cents))
			return false;
		*(int64_t *)member(h, f) = cents;
		mark_set(h, f);
		return true;
	case CLI_HHMM: {
		ProtobufCMessage *h2;
		const ProtobufCFieldDescriptor *f2 = field_at(m->descriptor, m, path2, true, &h2);
		if (f2 == NULL || !cli_parse_hhmm(v, &hh, &mm))
			return false;
		set_integer(member(h, f), f->type, hh);
		set_integer(member(h2, f2), f2->type, mm);
		return true;
	}
	case CLI_WORD:
		if (!cli_word_value(words, v, &x))
			return false;
		*(int *)member(h, f) = x;
		return true;
	case CLI_WORDS:
		if (first)
			clear(h, f);
		return append_words(h, f, words, v);
	case CLI_FLAG:
		*(protobuf_c_boolean *)member(h, f) = 1;
		return true;
	default:
		return false;
	}
}

int cli_fill(cli *c, const cli_args *a, ProtobufCMessage *m)
{
	for (const cli_option *o = a->cmd->options; o != NULL && o->name != NULL; o++)
		if (o->dflt != NULL && o->field != NULL && cli_opt_count(a, o->name) == 0 &&
		    !put(m, o->field, o->field2, o->kind, o->words, o->dflt, true))
			return cli_fail(c, "cannot put the default of --%s into the request",
			                o->name);
	for (size_t i = 0; i < a->n_seen; i++) {
		const cli_option *o = a->seen[i].opt;
		if (o->field == NULL)
			continue;
		bool first = true;
		for (size_t k = 0; k < i && first; k++)
			first = a->seen[k].opt != o;
		if (!put(m, o->field, o->field2, o->kind, o->words, a->seen[i].value, first))
			return cli_fail(c, "cannot put --%s into the request: out of memory",
			                o->name);
	}
	size_t i = 0;
	const cli_operand *op = a->cmd->operands;
	for (; op != NULL && op->metavar != NULL && i < a->n_operands; op++, i++)
		if (op->field != NULL &&
		    !put(m, op->field, NULL, op->kind, op->words, a->operands[i], true))
			return cli_fail(c, "cannot put %s into the request: out of memory",
			                op->metavar);
	return OB_EXIT_OK;
}
