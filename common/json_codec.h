/*
 * The proto3 JSON mapping (https://protobuf.dev/programming-guides/proto3/#json) for any message
 * protoc-c compiled, driven only by its descriptors. This is what lets the onboard CLI take a
 * request as JSON on the command line and print any response as JSON, the way grpcurl does.
 *
 * Mapping, both ways:
 *   field names    lowerCamelCase as protoc derives json_name ("turnover_eur" -> "turnoverEur"),
 *                  or the proto names with OB_JSON_PROTO_NAMES; input accepts either spelling.
 *   int32, sint32, sfixed32, uint32, fixed32      JSON numbers.
 *   int64, sint64, sfixed64, uint64, fixed64      decimal strings (numbers beyond 2^53 would lose
 *                                                 precision in most JSON readers).
 *   float, double  numbers, printed in the shortest form that reads back to the same value;
 *                  "NaN", "Infinity" and "-Infinity" for the non-finite ones.
 *   bool           true / false.
 *   enum           the value's name, or its number when the value has no name.
 *   string         a JSON string; invalid UTF-8 is printed as U+FFFD.
 *   bytes          standard base64 with padding.
 *   repeated       an array; message: an object; map fields are not special (see Limits).
 *
 * Presence: a field at its proto3 default (0, "", false, empty bytes, empty repeated, NULL
 * sub-message) is left out unless OB_JSON_EMIT_DEFAULTS, which prints the default value (null
 * for an absent sub-message or an unset proto2 optional field). A oneof member is printed only
 * when it is the selected case, then even at its default value; proto2 optional fields only when
 * present; proto2 required fields always.
 *
 * Limits: the well-known types (Timestamp, Duration, wrappers, Struct, Any, FieldMask) are
 * printed as ordinary messages, map fields as arrays of {"key", "value"} entries (protobuf-c's
 * descriptors do not mark map entries), the json_name option is ignored (protobuf-c does not
 * keep it) and uint64 values above INT64_MAX must be given as strings (jansson refuses larger
 * integers). The contract uses none of these.
 *
 * All functions are reentrant and keep no state; the descriptors are only read.
 */
#ifndef OB_COMMON_JSON_CODEC_H
#define OB_COMMON_JSON_CODEC_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "attr.h"

enum {
	/* Print fields at their default value too (see Presence above). */
	OB_JSON_EMIT_DEFAULTS = 1u << 0,
	/* Print the proto field names ("turnover_eur") instead of lowerCamelCase. */
	OB_JSON_PROTO_NAMES = 1u << 1,
};

/*
 * A JSON string for the C string s (NULL reads as ""), bad UTF-8 bytes as U+FFFD: jansson's own
 * json_string() refuses the whole string then. For text that may hold a peer's bytes (an error
 * message, a field violation). Returns a new reference, or NULL when out of memory.
 */
OB_NODISCARD json_t *ob_json_string(const char *s);

/*
 * Encodes m (not NULL) as a JSON object whose keys follow the field order of the descriptor
 * (which protoc-c sorts by field number). Returns a new reference the caller releases with
 * json_decref(), or NULL when out of memory. m is only read.
 */
OB_NODISCARD json_t *ob_json_from_message(const ProtobufCMessage *m, unsigned flags);

/*
 * Decodes the JSON object j into a new message of type d. Accepts lowerCamelCase and proto field
 * names; enums by name or number; 64-bit integers as strings or integral numbers; 32-bit
 * integers as numbers or numeric strings; integral values written as 1e2 or 100.0; floats and
 * doubles as numbers, numeric strings or "NaN"/"Infinity"/"-Infinity"; bytes as standard or
 * URL-safe base64, with or without padding; null for any field meaning its default.
 *
 * Returns the message, allocated with malloc() like protobuf-c's default allocator, so that the
 * caller frees it with protobuf_c_message_free_unpacked(msg, NULL); j stays the caller's.
 * On error returns NULL and, when err is not NULL and errlen > 0, writes one NUL-terminated
 * line into err (truncated to errlen) that starts with the path of the offending field as the
 * caller spelled it, then ": " and the reason, e.g.
 *     company.employees: expected an integer, got string
 *     history[2].from: unknown value "DONE" for enum onboard.v1.ApplicationState
 * An error about the whole object starts with the message's full name instead
 * ("onboard.v1.Company: expected an object, got array"). Errors: an unknown field, a field
 * given twice (under both spellings), two members of one oneof, a wrong JSON type, a number out
 * of range or not integral for an integer field, invalid base64, an unknown enum name, null
 * inside an array, a missing proto2 required field, nesting deeper than 100 messages, and out
 * of memory.
 */
OB_NODISCARD ProtobufCMessage *
ob_json_to_message(const json_t *j, const ProtobufCMessageDescriptor *d, char *err, size_t errlen);

/*
 * Parses len bytes of JSON text (no NUL needed; rejects duplicate keys and top-level values that
 * are not objects) and decodes them as ob_json_to_message() does. Same return value and
 * ownership; a syntax error is reported as "line L, column C: <jansson's reason>".
 */
OB_NODISCARD ProtobufCMessage *ob_json_parse_message(const char *text, size_t len,
                                                     const ProtobufCMessageDescriptor *d, char *err,
                                                     size_t errlen);

/*
 * Encodes m as ob_json_from_message() does and returns the text as a NUL-terminated string
 * without a trailing newline that the caller releases with free(), or NULL when out of memory.
 * pretty: one member per line, indented by 2 spaces per level; otherwise compact, without
 * spaces. Numbers are written in their shortest exact form (0.1, not 0.10000000000000001).
 */
OB_NODISCARD char *ob_json_dump_message(const ProtobufCMessage *m, unsigned flags, int pretty);

#endif /* OB_COMMON_JSON_CODEC_H */
