/*
 * fuzz_json.c: libFuzzer target for the proto3 JSON codec (common/json_codec.c), which the
 * HTTP face runs on every application/json body a peer sends (and the CLI on what it reads).
 *
 * The first byte of an input picks the message type: the input type of one of the methods of
 * the contract's services (every request message), in service and method order, modulo their
 * number. The rest is used twice:
 *   1. as JSON text, decoded into that type as the HTTP face does (ob_json_parse_message);
 *   2. as protobuf bytes of that type (protobuf-c's unpack), to drive the encoder with every
 *      value the wire can carry: strings that are not UTF-8, enum numbers without a name,
 *      64-bit extremes.
 *
 * Invariants checked, beyond "no crash, no leak, no UB":
 *   - a refusal leaves one non-empty line in err, of printable characters (the face turns its
 *     path into a field violation and puts it in a reply);
 *   - a decoded message passes protobuf_c_message_check and packs to its announced size;
 *   - any message encodes (compact, and pretty with defaults and proto names), and what it
 *     encodes to decodes again; encoding that gives the same text again (the codec's own
 *     round trip is exact); in direction 1 it also packs to the same bytes as the first decode.
 *
 * Seeds: tests/fuzz/corpus/json, hand-written (the first byte is the type); json.dict holds
 * the field names of the contract in both spellings and the enum names.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json_codec.h"
#include "onboard/v1/admin.pb-c.h"
#include "onboard/v1/auth.pb-c.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "onboard/v1/reflection.pb-c.h"

static const ProtobufCServiceDescriptor *const services[] = {
        &onboard__v1__health__descriptor,     &onboard__v1__reflection__descriptor,
        &onboard__v1__onboarding__descriptor, &onboard__v1__admin__descriptor,
        &onboard__v1__auth__descriptor,
};

static void die(const ProtobufCMessageDescriptor *d, const char *why)
{
	fprintf(stderr, "fuzz_json: %s: %s\n", d->name, why);
	abort();
}

/* The input type of method number i, counting across services; NULL beyond the last. */
static const ProtobufCMessageDescriptor *input_type(size_t i)
{
	for (size_t s = 0; s < sizeof(services) / sizeof(services[0]); s++) {
		if (i < services[s]->n_methods)
			return services[s]->methods[i].input;
		i -= services[s]->n_methods;
	}
	return NULL;
}

static size_t n_input_types(void)
{
	size_t n = 0;
	for (size_t s = 0; s < sizeof(services) / sizeof(services[0]); s++)
		n += services[s]->n_methods;
	return n;
}

/* m packed, malloc'd, in *len. */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n > 0 ? n : 1);
	if (buf == NULL)
		return NULL;
	if (protobuf_c_message_pack(m, buf) != n)
		die(m->descriptor, "packed to another size than announced");
	*len = n;
	return buf;
}

static void check_refusal(const ProtobufCMessageDescriptor *d, const char *err, size_t cap)
{
	if (memchr(err, '\0', cap) == NULL || err[0] == '\0')
		die(d, "a refusal without a message");
	for (const char *c = err; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20) {
			fprintf(stderr, "fuzz_json: refusal \"%s\"\n", err);
			die(d, "a refusal's message is not one printable line");
		}
	}
}

/* Encodes m with flags and pretty, decodes the text again and encodes that: the same text.
 * Returns the decoded message (the caller frees it), or NULL when out of memory. */
static ProtobufCMessage *round_trip(const ProtobufCMessage *m, unsigned flags, int pretty)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char *text = ob_json_dump_message(m, flags, pretty);
	if (text == NULL)
		return NULL;
	char err[256] = "";
	ProtobufCMessage *back = ob_json_parse_message(text, strlen(text), d, err, sizeof(err));
	if (back == NULL) {
		fprintf(stderr, "fuzz_json: %s\ndoes not decode: %s\n", text, err);
		die(d, "what the codec wrote, it does not read");
	}
	if (!protobuf_c_message_check(back))
		die(d, "a decoded message fails protobuf_c_message_check");
	char *again = ob_json_dump_message(back, flags, pretty);
	if (again != NULL && strcmp(text, again) != 0) {
		fprintf(stderr, "fuzz_json: first  %s\nfuzz_json: second %s\n", text, again);
		die(d, "encoding, decoding and encoding again changed the text");
	}
	free(again);
	free(text);
	return back;
}

/* 1. JSON text, as a peer's request body. */
static void fuzz_text(const ProtobufCMessageDescriptor *d, const uint8_t *text, size_t len)
{
	char err[256];
	memset(err, 'X', sizeof(err));
	ProtobufCMessage *m = ob_json_parse_message((const char *)text, len, d, err, sizeof(err));
	if (m == NULL) {
		check_refusal(d, err, sizeof(err));
		return;
	}
	if (!protobuf_c_message_check(m))
		die(d, "a decoded message fails protobuf_c_message_check");
	size_t n1 = 0, n2 = 0;
	uint8_t *b1 = pack(m, &n1);
	ProtobufCMessage *back = round_trip(m, 0, 0);
	uint8_t *b2 = back != NULL ? pack(back, &n2) : NULL;
	if (b1 != NULL && b2 != NULL && (n1 != n2 || memcmp(b1, b2, n1) != 0))
		die(d, "the message decoded from its own JSON packs to other bytes");
	free(b1);
	free(b2);
	if (back != NULL)
		protobuf_c_message_free_unpacked(back, NULL);
	back = round_trip(m, OB_JSON_EMIT_DEFAULTS | OB_JSON_PROTO_NAMES, 1);
	if (back != NULL)
		protobuf_c_message_free_unpacked(back, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* 2. Protobuf bytes, as they come off the nng face, encoded as JSON. */
static void fuzz_wire(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, buf);
	if (m == NULL)
		return;
	ProtobufCMessage *back = round_trip(m, 0, 0);
	if (back != NULL)
		protobuf_c_message_free_unpacked(back, NULL);
	back = round_trip(m, OB_JSON_EMIT_DEFAULTS, 1);
	if (back != NULL)
		protobuf_c_message_free_unpacked(back, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const ProtobufCMessageDescriptor *d = input_type(data[0] % n_input_types());
	fuzz_text(d, data + 1, size - 1);
	fuzz_wire(d, data + 1, size - 1);
	return 0;
}
