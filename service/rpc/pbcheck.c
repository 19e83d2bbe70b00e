#include "rpc/pbcheck.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/utf8.h"

typedef struct {
	const uint8_t *p;
	const uint8_t *end;
} cursor;

static bool read_varint(cursor *c, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (c->p == c->end)
			return false;
		uint8_t b = *c->p++;
		if (shift == 63 && b > 1)
			return false; /* more than 64 bits */
		v |= (uint64_t)(b & 0x7F) << shift;
		if ((b & 0x80) == 0) {
			*out = v;
			return true;
		}
	}
	return false;
}

static ob_err fail(ob_pbcheck_error *err, const char *path, const char *what)
{
	snprintf(err->field, sizeof(err->field), "%s", path);
	snprintf(err->description, sizeof(err->description), "%s", what);
	return OB_EINVAL;
}

static bool is_varint_type(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_BOOL:
	case PROTOBUF_C_TYPE_ENUM:
		return true;
	default:
		return false;
	}
}

static bool is_fixed64_type(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_FIXED64 || t == PROTOBUF_C_TYPE_SFIXED64 ||
	       t == PROTOBUF_C_TYPE_DOUBLE;
}

static bool is_fixed32_type(ProtobufCType t)
{
	return t == PROTOBUF_C_TYPE_FIXED32 || t == PROTOBUF_C_TYPE_SFIXED32 ||
	       t == PROTOBUF_C_TYPE_FLOAT;
}

static bool enum_value_known(const ProtobufCFieldDescriptor *f, uint64_t v)
{
	/* Enums are int32 on the wire, sign-extended to 64 bits when negative. */
	int64_t sv = (int64_t)v;
	if (sv < INT32_MIN || sv > INT32_MAX)
		return false;
	return protobuf_c_enum_descriptor_get_value(f->descriptor, (int)sv) != NULL;
}

/* One value of field f read off c in wire type 0 (varint), 1 (8 bytes) or 5 (4 bytes).
 * Returns NULL, or what is wrong. */
static const char *fixed_or_varint(const ProtobufCFieldDescriptor *f, unsigned wire, cursor *c)
{
	uint64_t v;
	if (wire == 0) {
		if (!is_varint_type(f->type))
			return "wrong wire type";
		if (!read_varint(c, &v))
			return "truncated varint";
		if (f->type == PROTOBUF_C_TYPE_ENUM && !enum_value_known(f, v))
			return "value is not in the enum";
		return NULL;
	}
	size_t width = wire == 1 ? 8 : 4;
	if (!(wire == 1 ? is_fixed64_type(f->type) : is_fixed32_type(f->type)))
		return "wrong wire type";
	if ((size_t)(c->end - c->p) < width)
		return "truncated";
	c->p += width;
	return NULL;
}

/* The values of a packed repeated scalar field f. Returns NULL, or what is wrong. */
static const char *packed(const ProtobufCFieldDescriptor *f, cursor sub)
{
	while (sub.p < sub.end) {
		uint64_t v;
		if (is_varint_type(f->type)) {
			if (!read_varint(&sub, &v))
				return "malformed packed field";
			if (f->type == PROTOBUF_C_TYPE_ENUM && !enum_value_known(f, v))
				return "value is not in the enum";
		} else {
			size_t w = is_fixed64_type(f->type) ? 8 : 4;
			if ((size_t)(sub.end - sub.p) < w)
				return "malformed packed field";
			sub.p += w;
		}
	}
	return NULL;
}

/* Appends ".name" (or "name" at the top) to path, of path_len bytes; false when the path
 * would not fit size bytes. */
static bool path_push(char *path, size_t size, size_t path_len, const char *name, size_t *sub_len)
{
	size_t n = strlen(name);
	size_t sep = path_len > 0 ? 1 : 0;
	if (path_len + sep + n + 1 > size)
		return false;
	if (sep)
		path[path_len] = '.';
	memcpy(path + path_len + sep, name, n + 1);
	*sub_len = path_len + sep + n;
	return true;
}

static ob_err scan(const ProtobufCMessageDescriptor *d, cursor c, unsigned depth, char *path,
                   size_t path_len, ob_pbcheck_error *err);

/* A length-delimited value of field f (wire type 2), cut off c: a string (valid UTF-8
 * without NUL), bytes, a message (scanned, one level deeper) or a packed repeated scalar. */
static ob_err length_delimited(const ProtobufCFieldDescriptor *f, cursor *c, unsigned depth,
                               char *path, size_t sub_len, ob_pbcheck_error *err)
{
	uint64_t v;
	if (!read_varint(c, &v) || v > (uint64_t)(c->end - c->p))
		return fail(err, path, "truncated length-delimited field");
	cursor sub = {c->p, c->p + v};
	c->p += v;
	const char *what = NULL;
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		if (!ob_utf8_valid((const char *)sub.p, (size_t)v))
			what = "invalid UTF-8";
		else if (memchr(sub.p, 0, (size_t)v) != NULL)
			what = "contains a NUL character";
	} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		return scan(f->descriptor, sub, depth + 1, path, sub_len, err);
	} else if (f->type == PROTOBUF_C_TYPE_BYTES) {
		/* any bytes */
	} else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		what = packed(f, sub);
	} else {
		what = "wrong wire type";
	}
	return what != NULL ? fail(err, path, what) : OB_OK;
}

static ob_err scan(const ProtobufCMessageDescriptor *d, cursor c, unsigned depth, char *path,
                   size_t path_len, ob_pbcheck_error *err)
{
	if (depth > OB_PBCHECK_MAX_DEPTH)
		return fail(err, path, "nested too deeply");
	while (c.p < c.end) {
		uint64_t tag;
		if (!read_varint(&c, &tag))
			return fail(err, path, "truncated or malformed field tag");
		uint64_t number = tag >> 3;
		unsigned wire = (unsigned)(tag & 7);
		if (number == 0 || number > 536870911u)
			return fail(err, path, "invalid field number");
		const ProtobufCFieldDescriptor *f =
		        protobuf_c_message_descriptor_get_field(d, (unsigned)number);
		if (f == NULL) {
			char what[64];
			snprintf(what, sizeof(what), "unknown field number %llu",
			         (unsigned long long)number);
			return fail(err, path, what);
		}
		/* Extend the path with this field's name for any error below. */
		size_t sub_len;
		if (!path_push(path, sizeof(err->field), path_len, f->name, &sub_len))
			return fail(err, path, "field path too long");
		const char *what = NULL;
		if (wire == 0 || wire == 1 || wire == 5)
			what = fixed_or_varint(f, wire, &c);
		else if (wire == 2) {
			ob_err e = length_delimited(f, &c, depth, path, sub_len, err);
			if (e != OB_OK)
				return e;
		} else
			what = "unsupported wire type";
		if (what != NULL)
			return fail(err, path, what);
		path[path_len] = '\0';
	}
	return OB_OK;
}

ob_err ob_pbcheck(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                  ob_pbcheck_error *err)
{
	if (len == 0)
		return OB_OK; /* every field at its default */
	char path[sizeof(err->field)] = "";
	cursor c = {buf, buf + len};
	return scan(d, c, 0, path, 0, err);
}
