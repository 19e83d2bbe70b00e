/*
 * proto3 JSON mapping over protobuf-c descriptors; the contract is in json_codec.h.
 *
 * protobuf-c lays a message out as a C struct the descriptors describe: each field sits at
 * `offset`; a repeated field is a size_t count at `quantifier_offset` plus a pointer to an array
 * at `offset`; a proto2 optional scalar or bytes field has a protobuf_c_boolean has_ flag at
 * `quantifier_offset`; a oneof member has the case (the selected field's number, stored as a
 * uint32-sized enum) at `quantifier_offset`, and its members share a union. Strings are char *
 * pointing at `default_value` (protobuf_c_empty_string in proto3) until set. Everything below
 * reads and writes members through memcpy() so that no enum or protobuf_c_boolean is accessed
 * through a pointer of another type.
 */
#include "json_codec.h"

#include <assert.h>
#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base64.h"

/*
 * Bound on message nesting while decoding, as protobuf's own parsers have: the contract has no
 * recursive message, but a decoder should not trust the schema to bound its stack.
 */
#define MAX_DEPTH 100

/* Longest numeric string converted with strtod(); longer ones are refused rather than copied. */
#define MAX_NUMBER_TEXT 256

/* ---- shared helpers ---- */

/* |v| without libm, which the rest of the codec does not need (no -lm in the link). */
static double magnitude_of(double v)
{
	return v < 0 ? -v : v;
}

/* Size of one value of the type, as protobuf-c stores it in a struct member or array slot. */
static size_t value_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

static const char *type_name(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
		return "int32";
	case PROTOBUF_C_TYPE_SINT32:
		return "sint32";
	case PROTOBUF_C_TYPE_SFIXED32:
		return "sfixed32";
	case PROTOBUF_C_TYPE_UINT32:
		return "uint32";
	case PROTOBUF_C_TYPE_FIXED32:
		return "fixed32";
	case PROTOBUF_C_TYPE_INT64:
		return "int64";
	case PROTOBUF_C_TYPE_SINT64:
		return "sint64";
	case PROTOBUF_C_TYPE_SFIXED64:
		return "sfixed64";
	case PROTOBUF_C_TYPE_UINT64:
		return "uint64";
	case PROTOBUF_C_TYPE_FIXED64:
		return "fixed64";
	case PROTOBUF_C_TYPE_FLOAT:
		return "float";
	case PROTOBUF_C_TYPE_DOUBLE:
		return "double";
	case PROTOBUF_C_TYPE_BOOL:
		return "bool";
	case PROTOBUF_C_TYPE_ENUM:
		return "enum";
	case PROTOBUF_C_TYPE_STRING:
		return "string";
	case PROTOBUF_C_TYPE_BYTES:
		return "bytes";
	case PROTOBUF_C_TYPE_MESSAGE:
		return "message";
	}
	return "?";
}

/* A proto2 optional field whose presence is a has_ flag (strings and messages use NULL). */
static int has_flag(const ProtobufCFieldDescriptor *f)
{
	return f->label == PROTOBUF_C_LABEL_OPTIONAL && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	       f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE;
}

static int is_oneof(const ProtobufCFieldDescriptor *f)
{
	return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

static uint32_t read_u32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void *read_ptr(const void *p)
{
	void *v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static size_t read_size(const void *p)
{
	size_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * protoc's json_name: drop each underscore and upper-case the letter after it. Only that letter
 * changes; "foo_bar2_baz" becomes "fooBar2Baz".
 */
static char ascii_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Length of the UTF-8 sequence starting at s (1 to 4), or 0 when it is not a valid one. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
	uint32_t cp, min;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1fu;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0fu;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07u;
		min = 0x10000;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Copies s[0..len) into dst (cap > 0 bytes, the NUL included) as text an error can carry: a
 * control character, or a byte that starts no UTF-8 character, becomes '?' (one line, valid
 * UTF-8 whatever the peer sent); cut between characters when it does not fit. Every byte in
 * is one byte out, so the count returned is both what was written and what was read of s.
 * dst may be s (fixed in place).
 */
static size_t text_copy(char *dst, size_t cap, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_sequence(u + i, len - i);
		bool bad = n == 0 || u[i] < 0x20;
		if (bad)
			n = 1;
		if (i + n >= cap)
			break;
		if (bad)
			dst[i] = '?';
		else
			memmove(dst + i, s + i, n);
		i += n;
	}
	dst[i] = '\0';
	return i;
}

/* ---- message to JSON ---- */

/*
 * A JSON string for a C string. protobuf-c does not check that strings it unpacks are UTF-8 and
 * jansson refuses strings that are not, so bad bytes become U+FFFD here instead of making the
 * whole response unprintable (which the caller would take for out of memory).
 */
json_t *ob_json_string(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len, i, o;
	json_t *j;
	char *fixed;

	if (s == NULL)
		return json_string("");
	len = strlen(s);
	for (i = 0; i < len;) {
		size_t n = utf8_sequence(u + i, len - i);
		if (n == 0)
			break;
		i += n;
	}
	if (i == len)
		return json_stringn_nocheck(s, len);

	/* Each bad byte becomes three; len * 3 cannot overflow for a string that fits in memory. */
	fixed = malloc(len * 3 + 1);
	if (fixed == NULL)
		return NULL;
	for (i = 0, o = 0; i < len;) {
		size_t n = utf8_sequence(u + i, len - i);
		if (n == 0) {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			i += 1;
		} else {
			memcpy(fixed + o, s + i, n);
			o += n;
			i += n;
		}
	}
	j = json_stringn_nocheck(fixed, o);
	free(fixed);
	return j;
}

static json_t *bytes_to_json(const ProtobufCBinaryData *b)
{
	size_t b64len;
	json_t *j;
	char *b64;

	if (b->len == 0 || b->data == NULL)
		return json_string("");
	b64len = sodium_base64_ENCODED_LEN(b->len, sodium_base64_VARIANT_ORIGINAL);
	b64 = malloc(b64len);
	if (b64 == NULL)
		return NULL;
	/* The base64 codecs are pure functions: they need no sodium_init(). */
	sodium_bin2base64(b64, b64len, b->data, b->len, sodium_base64_VARIANT_ORIGINAL);
	j = json_stringn_nocheck(b64, b64len - 1);
	free(b64);
	return j;
}

/*
 * Writes v in the fewest significant digits (at most max_digits) that strtod() reads back as
 * exactly v, or as a float equal to v when as_float; stores the value read back in *parsed.
 * %g switches to an exponent as soon as the integer part has more digits than the precision
 * ("1e+02" for 100); integers below 1e17 are printed in full instead, which is what JSON
 * readers and humans expect. The decimal point is '.' whatever LC_NUMERIC says.
 */
static void format_shortest(double v, int as_float, char *buf, size_t cap, double *parsed)
{
	int max_digits = as_float ? 9 : 17;
	int digits;
	const char *point;
	char *e;

	for (digits = 1; digits <= max_digits; digits++) {
		snprintf(buf, cap, "%.*g", digits, v);
		*parsed = strtod(buf, NULL);
		/* The FLT_MAX test keeps the cast defined when rounding up leaves float range. */
		if (as_float
		            ? magnitude_of(*parsed) <= (double)FLT_MAX && (float)*parsed == (float)v
		            : *parsed == v)
			break;
	}
	if (digits > max_digits)
		digits = max_digits;
	e = strchr(buf, 'e');
	if (e != NULL) {
		long exponent = strtol(e + 1, NULL, 10);
		if (exponent >= digits && exponent < 17)
			snprintf(buf, cap, "%.*g", (int)exponent + 1, *parsed);
	}
	point = localeconv()->decimal_point;
	if (point[0] != '.' && point[0] != '\0') {
		char *p = strchr(buf, point[0]);
		if (p != NULL)
			*p = '.';
	}
}

static json_t *real_to_json(double v, int as_float)
{
	char buf[64];
	double parsed;

	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	if (!as_float)
		return json_real(v);
	/*
	 * Store the double nearest the float's shortest decimal form: 0.1f becomes 0.1, which the
	 * dumper then prints as "0.1" rather than 0.100000001490116.
	 */
	format_shortest(v, 1, buf, sizeof(buf), &parsed);
	return json_real(parsed);
}

/* One value of field f stored at p (a member or an array slot). NULL when out of memory. */
static json_t *value_to_json(const ProtobufCFieldDescriptor *f, const void *p, unsigned flags)
{
	char buf[32];

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: {
		int32_t v;
		memcpy(&v, p, sizeof(v));
		return json_integer(v);
	}
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(read_u32(p));
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		/* proto3 JSON writes 64-bit integers as strings. */
		int64_t s;
		uint64_t u;
		memcpy(&s, p, sizeof(s));
		memcpy(&u, p, sizeof(u));
		if (f->type == PROTOBUF_C_TYPE_UINT64 || f->type == PROTOBUF_C_TYPE_FIXED64)
			snprintf(buf, sizeof(buf), "%" PRIu64, u);
		else
			snprintf(buf, sizeof(buf), "%" PRId64, s);
		return json_string(buf);
	}
	case PROTOBUF_C_TYPE_FLOAT: {
		float v;
		memcpy(&v, p, sizeof(v));
		return real_to_json((double)v, 1);
	}
	case PROTOBUF_C_TYPE_DOUBLE: {
		double v;
		memcpy(&v, p, sizeof(v));
		return real_to_json(v, 0);
	}
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean v;
		memcpy(&v, p, sizeof(v));
		return json_boolean(v);
	}
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev;
		int32_t v;
		memcpy(&v, p, sizeof(v));
		ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		return ev != NULL ? json_string(ev->name) : json_integer(v);
	}
	case PROTOBUF_C_TYPE_STRING:
		return ob_json_string(read_ptr(p));
	case PROTOBUF_C_TYPE_BYTES:
		return bytes_to_json(p);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = read_ptr(p);
		return sub != NULL ? ob_json_from_message(sub, flags) : json_null();
	}
	}
	return json_null(); /* defensive: a type this protobuf-c does not have */
}

/* Whether a proto3 singular field holds its default value (protobuf-c then does not pack it). */
static int is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT: {
		float v;
		memcpy(&v, p, sizeof(v));
		return v == 0;
	}
	case PROTOBUF_C_TYPE_DOUBLE: {
		double v;
		memcpy(&v, p, sizeof(v));
		return v == 0;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = read_ptr(p);
		return s == NULL || s[0] == '\0';
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData b;
		memcpy(&b, p, sizeof(b));
		return b.len == 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return read_ptr(p) == NULL;
	default: {
		static const unsigned char zero[8];
		return memcmp(p, zero, value_size(f->type)) == 0;
	}
	}
}

enum emit { EMIT_NOTHING, EMIT_VALUE, EMIT_NULL };

/* Whether and how field f of m is printed, following "Presence" in json_codec.h. */
static enum emit field_emit(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                            unsigned flags)
{
	const char *base = (const char *)m;
	const void *member = base + f->offset;
	int defaults = (flags & OB_JSON_EMIT_DEFAULTS) != 0;
	int pointer = f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return (read_size(base + f->quantifier_offset) > 0 || defaults) ? EMIT_VALUE
		                                                                : EMIT_NOTHING;
	if (is_oneof(f)) {
		if (read_u32(base + f->quantifier_offset) != f->id)
			return EMIT_NOTHING;
		return (pointer && read_ptr(member) == NULL) ? EMIT_NOTHING : EMIT_VALUE;
	}
	switch (f->label) {
	case PROTOBUF_C_LABEL_OPTIONAL: {
		int present;
		if (pointer) {
			const void *v = read_ptr(member);
			present = v != NULL && v != f->default_value;
		} else {
			protobuf_c_boolean has;
			memcpy(&has, base + f->quantifier_offset, sizeof(has));
			present = has != 0;
		}
		return present ? EMIT_VALUE : defaults ? EMIT_NULL : EMIT_NOTHING;
	}
	case PROTOBUF_C_LABEL_REQUIRED:
		if (pointer && read_ptr(member) == NULL)
			return defaults ? EMIT_NULL : EMIT_NOTHING;
		return EMIT_VALUE;
	default:
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && read_ptr(member) == NULL)
			return defaults ? EMIT_NULL : EMIT_NOTHING;
		return (defaults || !is_default(f, member)) ? EMIT_VALUE : EMIT_NOTHING;
	}
}

static json_t *repeated_to_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                                unsigned flags)
{
	const char *base = (const char *)m;
	size_t n = read_size(base + f->quantifier_offset);
	const char *arr = read_ptr(base + f->offset);
	size_t size = value_size(f->type);
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		/* json_array_append_new() takes the value, or drops it on failure (NULL included).
		 */
		if (json_array_append_new(a, value_to_json(f, arr + i * size, flags)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *ob_json_from_message(const ProtobufCMessage *m, unsigned flags)
{
	const ProtobufCMessageDescriptor *d;
	json_t *obj;
	char small[64];

	assert(m != NULL && m->descriptor != NULL);
	d = m->descriptor;
	obj = json_object();
	if (obj == NULL)
		return NULL;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		enum emit how = field_emit(m, f, flags);
		const char *key = f->name;
		char *heap = NULL;
		json_t *v;
		int rc;

		if (how == EMIT_NOTHING)
			continue;
		if (!(flags & OB_JSON_PROTO_NAMES)) {
			size_t len = strlen(f->name), o = 0;
			char *name = len < sizeof(small) ? small : (heap = malloc(len + 1));
			int up = 0;
			if (name == NULL)
				goto oom;
			for (const char *c = f->name; *c != '\0'; c++) {
				if (*c == '_') {
					up = 1;
					continue;
				}
				name[o++] = up ? ascii_upper(*c) : *c;
				up = 0;
			}
			name[o] = '\0';
			key = name;
		}
		if (how == EMIT_NULL)
			v = json_null();
		else if (f->label == PROTOBUF_C_LABEL_REPEATED)
			v = repeated_to_json(m, f, flags);
		else
			v = value_to_json(f, (const char *)m + f->offset, flags);
		rc = json_object_set_new(obj, key, v);
		free(heap);
		if (rc != 0)
			goto oom;
	}
	return obj;
oom:
	json_decref(obj);
	return NULL;
}

/* ---- JSON to message ---- */

struct dec {
	char *err;
	size_t errlen;
	const char *root; /* full name of the top message, for errors about it as a whole */
	char path[512];   /* where the decoder is, as the caller spelled it: a.b[3].c */
	size_t plen;
	unsigned depth;
};

static int fail(struct dec *d, const char *fmt, ...) OB_PRINTF(2, 3);

/* Records the error (the first only: the callers return at once) and returns -1. */
static int fail(struct dec *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->err == NULL || d->errlen == 0)
		return -1;
	n = snprintf(d->err, d->errlen, "%s: ", d->plen > 0 ? d->path : d->root);
	if (n >= 0 && (size_t)n < d->errlen) {
		va_start(ap, fmt);
		vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* snprintf may have cut the path inside a character: the error stays UTF-8. */
	(void)text_copy(d->err, d->errlen, d->err, strlen(d->err));
	return -1;
}

/* Appends s[0..len) to the path as text_copy() writes it (one line, valid UTF-8). */
static void path_append(struct dec *d, const char *s, size_t len)
{
	d->plen += text_copy(d->path + d->plen, sizeof(d->path) - d->plen, s, len);
}

static size_t path_push_key(struct dec *d, const char *key, size_t len)
{
	size_t old = d->plen;

	if (old > 0)
		path_append(d, ".", 1);
	path_append(d, key, len);
	return old;
}

static size_t path_push_index(struct dec *d, size_t i)
{
	size_t old = d->plen;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "[%zu]", i);

	path_append(d, buf, (size_t)n);
	return old;
}

static void path_pop(struct dec *d, size_t old)
{
	d->plen = old;
	d->path[old] = '\0';
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

/* The value as the caller wrote it, short and on one line, for range errors. */
static void describe(const json_t *v, char *buf, size_t cap)
{
	if (json_is_integer(v)) {
		snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		double parsed;
		format_shortest(json_real_value(v), 0, buf, cap, &parsed);
	} else if (json_is_string(v)) {
		/* At most 40 bytes of it, whole characters, so that the error stays a short line.
		 */
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		char shown[41];
		size_t i = text_copy(shown, sizeof(shown), s, len);
		snprintf(buf, cap, "\"%s%s\"", shown, i < len ? "..." : "");
	} else {
		snprintf(buf, cap, "%s", json_type_name(v));
	}
}

/*
 * Checks s[0..len) against the JSON number grammar (RFC 8259), the form proto3 JSON allows for
 * numbers in strings: no spaces, no '+', no hex, no leading zeros, no "inf".
 */
static int is_json_number(const char *s, size_t len, int *integral)
{
	size_t i = 0;

	*integral = 1;
	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0') {
		i++;
	} else if (i < len && s[i] >= '1' && s[i] <= '9') {
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return 0;
	}
	if (i < len && s[i] == '.') {
		*integral = 0;
		if (++i >= len || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		*integral = 0;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == len;
}

/*
 * strtod() of a string already checked by is_json_number(). strtod() reads the locale's decimal
 * point, so '.' is swapped for it in a copy. Returns -1 when the text is too long to copy.
 */
static int number_text_to_double(const char *s, size_t len, double *out)
{
	char buf[MAX_NUMBER_TEXT + 1];
	const char *point = localeconv()->decimal_point;
	char *dot;

	if (len > MAX_NUMBER_TEXT)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	dot = strchr(buf, '.');
	if (dot != NULL && point[0] != '\0')
		*dot = point[0];
	*out = strtod(buf, NULL);
	return 0;
}

/*
 * Reads an integral value for an integer field of type t (a number, or a numeric string) as a
 * sign and magnitude, so that the whole int64 and uint64 ranges are exact.
 */
static int json_to_magnitude(struct dec *d, const json_t *v, ProtobufCType t, int *neg,
                             uint64_t *mag)
{
	char what[64];
	double r;

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		*neg = i < 0;
		*mag = i < 0 ? (uint64_t)(-(i + 1)) + 1 : (uint64_t)i;
		return 0;
	}
	if (json_is_real(v)) {
		r = json_real_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		int integral;

		if (!is_json_number(s, len, &integral))
			return fail(d, "expected an integer, got string");
		if (integral) {
			size_t i = s[0] == '-';
			*neg = s[0] == '-';
			*mag = 0;
			for (; i < len; i++) {
				unsigned digit = (unsigned)(s[i] - '0');
				if (*mag > (UINT64_MAX - digit) / 10) {
					describe(v, what, sizeof(what));
					return fail(d, "%s is out of range for %s", what,
					            type_name(t));
				}
				*mag = *mag * 10 + digit;
			}
			return 0;
		}
		if (number_text_to_double(s, len, &r) != 0)
			return fail(d, "numeric string too long");
	} else {
		return fail(d, "expected an integer, got %s", json_type_name(v));
	}

	describe(v, what, sizeof(what));
	if (!isfinite(r) || magnitude_of(r) >= 18446744073709551616.0)
		return fail(d, "%s is out of range for %s", what, type_name(t));
	/* Every double from 2^63 up is an integer; below, the round trip through int64 tells. */
	if (magnitude_of(r) < 9223372036854775808.0 && r != (double)(int64_t)r)
		return fail(d, "expected an integer, got %s", what);
	*neg = r < 0;
	r = magnitude_of(r);
	*mag = (uint64_t)r;
	return 0;
}

/* Decodes an integer of type t into dst (4 or 8 bytes), checking its range. */
/* The low 4 or 8 bytes of bits (two's complement for a negative value), as a field of type t
 * holds them. */
static void store_integer(void *dst, ProtobufCType t, uint64_t bits)
{
	if (value_size(t) == 4) {
		uint32_t low = (uint32_t)bits;
		memcpy(dst, &low, sizeof(low));
	} else {
		memcpy(dst, &bits, sizeof(bits));
	}
}

static int json_to_integer(struct dec *d, const json_t *v, ProtobufCType t, void *dst)
{
	char what[64];
	int neg = 0;
	uint64_t mag = 0, limit;

	if (json_to_magnitude(d, v, t, &neg, &mag) != 0)
		return -1;
	switch (t) {
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		limit = value_size(t) == 4 ? UINT32_MAX : UINT64_MAX;
		if ((neg && mag != 0) || mag > limit)
			goto range;
		store_integer(dst, t, mag);
		return 0;
	default: {
		int64_t s;
		limit = value_size(t) == 4 ? (uint64_t)INT32_MAX : (uint64_t)INT64_MAX;
		if (mag > limit + (neg ? 1 : 0))
			goto range;
		/* Negating mag - 1 keeps INT64_MIN representable all the way. */
		s = neg && mag > 0 ? -(int64_t)(mag - 1) - 1 : (int64_t)mag;
		store_integer(dst, t, (uint64_t)s);
		return 0;
	}
	}
range:
	describe(v, what, sizeof(what));
	return fail(d, "%s is out of range for %s", what, type_name(t));
}

static int json_to_real(struct dec *d, const json_t *v, ProtobufCType t, void *dst)
{
	char what[64];
	double r;

	if (json_is_integer(v)) {
		r = (double)json_integer_value(v);
	} else if (json_is_real(v)) {
		r = json_real_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		int integral;

		if (strcmp(s, "NaN") == 0 && len == 3) {
			r = (double)NAN;
		} else if (strcmp(s, "Infinity") == 0 && len == 8) {
			r = (double)INFINITY;
		} else if (strcmp(s, "-Infinity") == 0 && len == 9) {
			r = -(double)INFINITY;
		} else if (!is_json_number(s, len, &integral)) {
			return fail(d, "expected a number, got string");
		} else if (number_text_to_double(s, len, &r) != 0) {
			return fail(d, "numeric string too long");
		} else if (isinf(r)) {
			describe(v, what, sizeof(what));
			return fail(d, "%s is out of range for %s", what, type_name(t));
		}
	} else {
		return fail(d, "expected a number, got %s", json_type_name(v));
	}
	if (t == PROTOBUF_C_TYPE_FLOAT) {
		float f;
		/* Checked first: converting a double beyond FLT_MAX to float is undefined in C. */
		if (isfinite(r) && magnitude_of(r) > (double)FLT_MAX) {
			describe(v, what, sizeof(what));
			return fail(d, "%s is out of range for float", what);
		}
		f = (float)r;
		memcpy(dst, &f, sizeof(f));
	} else {
		memcpy(dst, &r, sizeof(r));
	}
	return 0;
}

static int json_to_enum(struct dec *d, const json_t *v, const ProtobufCEnumDescriptor *ed,
                        void *dst)
{
	const ProtobufCEnumValue *ev;
	char what[64];

	if (json_is_number(v))
		return json_to_integer(d, v, PROTOBUF_C_TYPE_INT32, dst);
	if (!json_is_string(v))
		return fail(d, "expected an enum name or number, got %s", json_type_name(v));
	ev = NULL;
	if (strlen(json_string_value(v)) == json_string_length(v))
		ev = protobuf_c_enum_descriptor_get_value_by_name(ed, json_string_value(v));
	if (ev == NULL) {
		describe(v, what, sizeof(what));
		return fail(d, "unknown value %s for enum %s", what, ed->name);
	}
	memcpy(dst, &ev->value, sizeof(int32_t));
	return 0;
}

static int json_to_string(struct dec *d, const json_t *v, void *dst)
{
	size_t len;
	char *s;

	if (!json_is_string(v))
		return fail(d, "expected a string, got %s", json_type_name(v));
	len = json_string_length(v);
	if (strlen(json_string_value(v)) != len)
		return fail(d, "string contains a NUL character");
	/*
	 * Always a copy, even of "": a string pointing at its default value counts as unset for
	 * proto2 optional fields and oneof members.
	 */
	s = malloc(len + 1);
	if (s == NULL)
		return fail(d, "out of memory");
	memcpy(s, json_string_value(v), len + 1);
	memcpy(dst, &s, sizeof(s));
	return 0;
}

/*
 * Standard or URL-safe base64, padded or not, as proto3 JSON readers must accept. The alphabet
 * is told by its two distinct characters and the padding by a trailing '='; libsodium then
 * insists on the whole input being consumed and on canonical trailing bits.
 */
static int json_to_bytes(struct dec *d, const json_t *v, void *dst)
{
	ProtobufCBinaryData b = {0, NULL};
	const char *s;
	size_t len, max;
	int urlsafe = 0, padded, variant;

	if (!json_is_string(v))
		return fail(d, "expected a base64 string, got %s", json_type_name(v));
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > 0) {
		if (strpbrk(s, "-_") != NULL)
			urlsafe = 1;
		padded = s[len - 1] == '=';
		if (urlsafe)
			variant = padded ? sodium_base64_VARIANT_URLSAFE
			                 : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
		else
			variant = padded ? sodium_base64_VARIANT_ORIGINAL
			                 : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
		max = len / 4 * 3 + 3;
		b.data = malloc(max);
		if (b.data == NULL)
			return fail(d, "out of memory");
		if (ob_base642bin(b.data, max, s, len, NULL, &b.len, NULL, variant) != 0) {
			free(b.data);
			return fail(d, "invalid base64");
		}
		if (b.len == 0) {
			free(b.data);
			b.data = NULL;
		}
	}
	memcpy(dst, &b, sizeof(b));
	return 0;
}

static int decode_object(struct dec *d, ProtobufCMessage *m, const json_t *obj);

/*
 * Decodes one value of field f into dst (a member or an array slot). On failure dst holds either
 * what it held before or a sub-message that protobuf_c_message_free_unpacked() can free.
 */
static int decode_value(struct dec *d, const ProtobufCFieldDescriptor *f, const json_t *v,
                        void *dst)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return json_to_integer(d, v, f->type, dst);
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_to_real(d, v, f->type, dst);
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean b;
		if (!json_is_boolean(v))
			return fail(d, "expected a boolean, got %s", json_type_name(v));
		b = json_is_true(v);
		memcpy(dst, &b, sizeof(b));
		return 0;
	}
	case PROTOBUF_C_TYPE_ENUM:
		return json_to_enum(d, v, f->descriptor, dst);
	case PROTOBUF_C_TYPE_STRING:
		return json_to_string(d, v, dst);
	case PROTOBUF_C_TYPE_BYTES:
		return json_to_bytes(d, v, dst);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *sd = f->descriptor;
		ProtobufCMessage *sub;
		if (!json_is_object(v))
			return fail(d, "expected an object, got %s", json_type_name(v));
		sub = malloc(sd->sizeof_message);
		if (sub == NULL)
			return fail(d, "out of memory");
		protobuf_c_message_init(sd, sub);
		memcpy(dst, &sub, sizeof(sub));
		return decode_object(d, sub, v);
	}
	}
	return fail(d, "unsupported field type %d", (int)f->type); /* defensive */
}

static int decode_repeated(struct dec *d, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                           const json_t *v)
{
	char *base = (char *)m;
	size_t size = value_size(f->type);
	size_t n;
	char *arr;

	if (!json_is_array(v))
		return fail(d, "expected an array, got %s", json_type_name(v));
	n = json_array_size(v);
	if (n == 0)
		return 0;
	/* Zeroed slots are safe for protobuf_c_message_free_unpacked() to free (NULL). */
	arr = calloc(n, size);
	if (arr == NULL)
		return fail(d, "out of memory");
	memcpy(base + f->offset, &arr, sizeof(arr));
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		size_t old = path_push_index(d, i);

		/* Counted before decoding so that a half-built sub-message is freed with m. */
		memcpy(base + f->quantifier_offset, &(size_t){i + 1}, sizeof(size_t));
		if (json_is_null(e))
			return fail(d, "null is not allowed in an array");
		if (decode_value(d, f, e, arr + i * size) != 0)
			return -1;
		path_pop(d, old);
	}
	return 0;
}

static int decode_field(struct dec *d, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                        const json_t *v)
{
	char *base = (char *)m;
	void *member = base + f->offset;

	if (json_is_null(v))
		return 0; /* the field keeps the default protobuf_c_message_init() gave it */
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return decode_repeated(d, m, f, v);
	if (is_oneof(f)) {
		uint32_t selected = read_u32(base + f->quantifier_offset);
		if (selected != 0) {
			const ProtobufCFieldDescriptor *other =
			        protobuf_c_message_descriptor_get_field(m->descriptor, selected);
			return fail(d, "field \"%s\" of the same oneof is already set",
			            other != NULL ? other->name : "?");
		}
		/* Select first so that freeing m frees whatever is stored below. */
		memset(member, 0, value_size(f->type));
		memcpy(base + f->quantifier_offset, &f->id, sizeof(uint32_t));
	}
	if (decode_value(d, f, v, member) != 0)
		return -1;
	if (has_flag(f)) {
		protobuf_c_boolean has = 1;
		memcpy(base + f->quantifier_offset, &has, sizeof(has));
	}
	return 0;
}

/* Whether key[0..len) names field f, by its proto name or by its lowerCamelCase JSON name. */
static int key_names_field(const char *key, size_t len, const ProtobufCFieldDescriptor *f)
{
	size_t k = 0;
	int up = 0;

	if (strlen(f->name) == len && memcmp(f->name, key, len) == 0)
		return 1;
	for (const char *c = f->name; *c != '\0'; c++) {
		if (*c == '_') {
			up = 1;
			continue;
		}
		if (k >= len || key[k] != (up ? ascii_upper(*c) : *c))
			return 0;
		k++;
		up = 0;
	}
	return k == len;
}

static int decode_object(struct dec *d, ProtobufCMessage *m, const json_t *obj)
{
	const ProtobufCMessageDescriptor *md = m->descriptor;
	unsigned char *seen;
	void *it;
	int rc = -1;

	if (!json_is_object(obj))
		return fail(d, "expected an object, got %s", json_type_name(obj));
	if (d->depth >= MAX_DEPTH)
		return fail(d, "messages nested deeper than %d levels", MAX_DEPTH);
	/*
	 * Per field: 0 not given, 1 given as null, 2 given a value. Catches a field given under
	 * both of its names, and a missing required one.
	 */
	seen = calloc(md->n_fields + 1u, 1);
	if (seen == NULL)
		return fail(d, "out of memory");
	d->depth++;
	/* jansson's iterators take a non-const object but do not modify it. */
	for (it = json_object_iter((json_t *)obj); it != NULL;
	     it = json_object_iter_next((json_t *)obj, it)) {
		const char *key = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);
		size_t old = path_push_key(d, key, klen);
		unsigned i;

		for (i = 0; i < md->n_fields; i++) {
			if (key_names_field(key, klen, &md->fields[i]))
				break;
		}
		if (i == md->n_fields) {
			fail(d, "unknown field for %s", md->name);
			goto out;
		}
		if (seen[i] != 0) {
			fail(d, "field \"%s\" given twice", md->fields[i].name);
			goto out;
		}
		seen[i] = json_is_null(json_object_iter_value(it)) ? 1 : 2;
		if (decode_field(d, m, &md->fields[i], json_object_iter_value(it)) != 0)
			goto out;
		path_pop(d, old);
	}
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		if (f->label != PROTOBUF_C_LABEL_REQUIRED || seen[i] == 2)
			continue;
		path_push_key(d, f->name, strlen(f->name));
		fail(d, "missing required field");
		goto out;
	}
	rc = 0;
out:
	d->depth--;
	free(seen);
	return rc;
}

ProtobufCMessage *ob_json_to_message(const json_t *j, const ProtobufCMessageDescriptor *d,
                                     char *err, size_t errlen)
{
	struct dec dec = {.err = err, .errlen = errlen};
	ProtobufCMessage *m;

	assert(d != NULL && d->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
	dec.root = d->name;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (j == NULL || !json_is_object(j)) {
		fail(&dec, "expected an object, got %s", j != NULL ? json_type_name(j) : "nothing");
		return NULL;
	}
	/*
	 * protobuf-c's default allocator is malloc()/free(), which is what lets the caller release
	 * this with protobuf_c_message_free_unpacked(m, NULL) like any unpacked message.
	 */
	m = malloc(d->sizeof_message);
	if (m == NULL) {
		fail(&dec, "out of memory");
		return NULL;
	}
	protobuf_c_message_init(d, m);
	if (decode_object(&dec, m, j) != 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}

ProtobufCMessage *ob_json_parse_message(const char *text, size_t len,
                                        const ProtobufCMessageDescriptor *d, char *err,
                                        size_t errlen)
{
	ProtobufCMessage *m;
	json_error_t jerr;
	json_t *j;

	/* JSON_DECODE_ANY: a stray "42" gets the same "expected an object" as from a json_t. */
	j = json_loadb(text != NULL ? text : "", text != NULL ? len : 0,
	               JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (j == NULL) {
		if (err != NULL && errlen > 0) {
			snprintf(err, errlen, "line %d, column %d: %s", jerr.line, jerr.column,
			         jerr.text);
			/* jansson quotes the token it stopped at ("invalid token near '\x02'"):
			 * bytes of the peer's, which must neither break the error's line nor make
			 * it invalid UTF-8 (a Response's message, a Connect error's JSON): a
			 * control character or a byte that starts no character becomes '?'. */
			(void)text_copy(err, errlen, err, strlen(err));
		}
		return NULL;
	}
	m = ob_json_to_message(j, d, err, errlen);
	json_decref(j);
	return m;
}

/* ---- text output ---- */

/*
 * Text is written here rather than by json_dumps() because jansson prints every real with 17
 * significant digits (0.1 comes out as 0.10000000000000001); a CLI should print what a person
 * would write, and still read back to the same double.
 */
struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len < n + 1) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap - b->len < n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void put_str(struct sbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_newline(struct sbuf *b, int pretty, unsigned depth)
{
	static const char spaces[] = "                                ";

	if (!pretty)
		return;
	put(b, "\n", 1);
	for (size_t n = (size_t)depth * 2; n > 0;) {
		size_t chunk = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		put(b, spaces, chunk);
		n -= chunk;
	}
}

/* A JSON string literal; s is UTF-8 (jansson checked it), so only escapes are needed. */
static void put_quoted(struct sbuf *b, const char *s, size_t len)
{
	/* JSON's two-character escapes; other control characters are \u00XX. */
	static const char *const short_escapes[] = {
	        ['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\r'] = "\\r",
	        ['\t'] = "\\t", ['\b'] = "\\b",  ['\f'] = "\\f",
	};
	size_t run = 0;

	put(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(b, s + run, i - run);
		run = i + 1;
		if (c < sizeof(short_escapes) / sizeof(short_escapes[0]) &&
		    short_escapes[c] != NULL) {
			put_str(b, short_escapes[c]);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put_str(b, esc);
		}
	}
	put(b, s + run, len - run);
	put(b, "\"", 1);
}

static void put_json(struct sbuf *b, json_t *v, int pretty, unsigned depth)
{
	char buf[64];
	size_t i = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		if (json_object_size(v) == 0) {
			put_str(b, "{}");
			break;
		}
		put(b, "{", 1);
		for (void *it = json_object_iter(v); it != NULL;
		     it = json_object_iter_next(v, it)) {
			if (i++ > 0)
				put(b, ",", 1);
			put_newline(b, pretty, depth + 1);
			put_quoted(b, json_object_iter_key(it), json_object_iter_key_len(it));
			put_str(b, pretty ? ": " : ":");
			put_json(b, json_object_iter_value(it), pretty, depth + 1);
		}
		put_newline(b, pretty, depth);
		put(b, "}", 1);
		break;
	}
	case JSON_ARRAY:
		if (json_array_size(v) == 0) {
			put_str(b, "[]");
			break;
		}
		put(b, "[", 1);
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				put(b, ",", 1);
			put_newline(b, pretty, depth + 1);
			put_json(b, json_array_get(v, i), pretty, depth + 1);
		}
		put_newline(b, pretty, depth);
		put(b, "]", 1);
		break;
	case JSON_STRING:
		put_quoted(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		put_str(b, buf);
		break;
	case JSON_REAL: {
		double parsed;
		format_shortest(json_real_value(v), 0, buf, sizeof(buf), &parsed);
		put_str(b, buf);
		break;
	}
	case JSON_TRUE:
		put_str(b, "true");
		break;
	case JSON_FALSE:
		put_str(b, "false");
		break;
	case JSON_NULL:
		put_str(b, "null");
		break;
	}
}

char *ob_json_dump_message(const ProtobufCMessage *m, unsigned flags, int pretty)
{
	struct sbuf b = {0};
	json_t *j = ob_json_from_message(m, flags);

	if (j == NULL)
		return NULL;
	put_json(&b, j, pretty, 0);
	json_decref(j);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
