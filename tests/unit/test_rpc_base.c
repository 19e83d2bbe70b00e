/*
 * test_rpc_base.c: the small pieces under the request pipeline: the per-call arena
 * (rpc/arena.c), the strict wire check's depth bound and paths (rpc/pbcheck.c), the UTF-8
 * validator (base/utf8.c) with the classic malformed vectors, and the log lines (base/log.c)
 * that values a caller chose must not forge.
 *
 * The contract's messages nest at most three deep (Application.company.address), so the
 * nesting bound of ob_pbcheck is driven here through a hand-written recursive descriptor,
 * which protoc-c would produce for `message Node { Node child = 1; string name = 2; }`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <unistd.h>

#include "base/log.h"
#include "base/utf8.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "rpc/arena.h"
#include "rpc/pbcheck.h"
#include "testutil.h"

/* ---- arena ------------------------------------------------------------ */

/* Allocations stop at the budget (rounded to 16 bytes) and fail instead of growing. */
static void test_arena_budget(void **state)
{
	(void)state;
	ob_arena a;
	ob_arena_init(&a, 1024);
	assert_non_null(ob_arena_alloc(&a, 1000)); /* takes 1008 */
	assert_non_null(ob_arena_alloc(&a, 16));   /* 1024: exactly the budget */
	assert_null(ob_arena_alloc(&a, 1));
	assert_null(ob_arena_strdup(&a, ""));
	assert_null(ob_arena_printf(&a, "%d", 1));
	assert_null(ob_arena_message(&a, &onboard__v1__health_check_request__descriptor));
	ob_arena_fini(&a);
}

/* A size near SIZE_MAX must not wrap around the budget check. */
static void test_arena_huge_size(void **state)
{
	(void)state;
	ob_arena a;
	ob_arena_init(&a, (size_t)-1);
	assert_null(ob_arena_alloc(&a, SIZE_MAX));
	assert_null(ob_arena_alloc(&a, SIZE_MAX - 7));
	assert_non_null(ob_arena_alloc(&a, 8)); /* and the arena still works */
	ob_arena_fini(&a);
}

/* Reset gives the whole budget back and a warm arena reuses its first chunk. */
static void test_arena_reset_reuses(void **state)
{
	(void)state;
	ob_arena a;
	ob_arena_init(&a, 4096);
	void *first = ob_arena_alloc(&a, 4000);
	assert_non_null(first);
	assert_null(ob_arena_alloc(&a, 200));
	for (int i = 0; i < 100; i++) {
		ob_arena_reset(&a);
		assert_int_equal(a.used, 0);
		void *again = ob_arena_alloc(&a, 4000);
		assert_ptr_equal(again, first);
	}
	ob_arena_fini(&a);
	ob_arena_fini(NULL);
}

/* Memory is 16-byte aligned, zalloc zeroes, and a chunk-sized request still works. */
static void test_arena_alignment_and_big(void **state)
{
	(void)state;
	ob_arena a;
	ob_arena_init(&a, 1 << 20);
	for (size_t size = 1; size < 100; size += 7) {
		uint8_t *p = ob_arena_alloc(&a, size);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, 0xAB, size); /* ASan checks that it is all ours */
	}
	uint8_t *big = ob_arena_zalloc(&a, 100000); /* bigger than a chunk */
	assert_non_null(big);
	assert_int_equal((uintptr_t)big % 16, 0);
	for (size_t i = 0; i < 100000; i++)
		assert_int_equal(big[i], 0);
	uint8_t *small = ob_arena_alloc(&a, 32); /* still served after the big one */
	assert_non_null(small);
	assert_true(small + 32 <= big || small >= big + 100000);
	ob_arena_reset(&a);
	assert_non_null(ob_arena_alloc(&a, 100000));
	ob_arena_fini(&a);
}

/* strdup and printf copy into the arena. */
static void test_arena_strings(void **state)
{
	(void)state;
	ob_arena a;
	ob_arena_init(&a, 4096);
	const char *src = "company.address";
	char *d = ob_arena_strdup(&a, src);
	assert_ptr_not_equal(d, src);
	assert_string_equal(d, src);
	assert_string_equal(ob_arena_printf(&a, "/%s/%s", "onboard.v1.Health", "Check"),
	                    "/onboard.v1.Health/Check");
	ob_arena_fini(&a);
}

/* As protobuf-c's allocator: an unpack that fits works; one over the budget fails cleanly. */
static void test_arena_as_protobuf_allocator(void **state)
{
	(void)state;
	Onboard__V1__ListApplicationsRequest rq = ONBOARD__V1__LIST_APPLICATIONS_REQUEST__INIT;
	Onboard__V1__ApplicationState states[1000];
	for (size_t i = 0; i < 1000; i++)
		states[i] = ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_SUBMITTED;
	rq.states = states;
	rq.n_states = 1000;
	uint8_t buf[2048];
	size_t n = onboard__v1__list_applications_request__pack(&rq, buf);

	ob_arena a;
	ob_arena_init(&a, 64 * 1024);
	Onboard__V1__ListApplicationsRequest *out =
	        onboard__v1__list_applications_request__unpack(&a.pb, n, buf);
	assert_non_null(out);
	assert_int_equal(out->n_states, 1000);
	ob_arena_fini(&a);

	ob_arena_init(&a, 2048); /* 1000 enums need 4000 bytes */
	assert_null(onboard__v1__list_applications_request__unpack(&a.pb, n, buf));
	ob_arena_fini(&a);
}

/* ---- pbcheck ---------------------------------------------------------- */

typedef struct node {
	ProtobufCMessage base;
	struct node *child;
	char *name;
} node;

static void node_init(node *m);

static const ProtobufCMessageDescriptor node_descriptor;

static const ProtobufCFieldDescriptor node_fields[2] = {
        {"child", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_MESSAGE, 0, offsetof(node, child),
         &node_descriptor, NULL, 0, 0, NULL, NULL},
        {"name", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_STRING, 0, offsetof(node, name), NULL,
         &protobuf_c_empty_string, 0, 0, NULL, NULL},
};
static const unsigned node_by_name[2] = {0, 1};
static const ProtobufCIntRange node_ranges[2] = {{1, 0}, {0, 2}};

static const ProtobufCMessageDescriptor node_descriptor = {
        PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
        "test.Node",
        "Node",
        "Node",
        "test",
        sizeof(node),
        2,
        node_fields,
        node_by_name,
        1,
        node_ranges,
        (ProtobufCMessageInit)node_init,
        NULL,
        NULL,
        NULL,
};

static void node_init(node *m)
{
	static const node init = {PROTOBUF_C_MESSAGE_INIT(&node_descriptor), NULL,
	                          (char *)&protobuf_c_empty_string};
	*m = init;
}

/* Encodes a Node whose child chain is `depth` levels deep, the innermost holding name = leaf.
 * Built from the inside out at the end of buf, then moved to the front; returns the length. */
static size_t nested(uint8_t *buf, size_t cap, unsigned depth, const uint8_t *leaf, size_t leaf_len)
{
	assert_true(leaf_len < 128 && cap >= leaf_len + 2);
	size_t start = cap - leaf_len;
	memcpy(buf + start, leaf, leaf_len);
	buf[--start] = (uint8_t)leaf_len;
	buf[--start] = 0x12; /* name */
	for (unsigned i = 0; i < depth; i++) {
		uint8_t v[10];
		size_t n = 0;
		for (size_t len = cap - start;; len >>= 7) {
			v[n++] = (uint8_t)((len & 0x7F) | (len >= 0x80 ? 0x80 : 0));
			if (len < 0x80)
				break;
		}
		assert_true(start >= n + 1);
		start -= n;
		memcpy(buf + start, v, n);
		buf[--start] = 0x0A; /* child */
	}
	size_t len = cap - start;
	memmove(buf, buf + start, len);
	return len;
}

/* Nesting up to OB_PBCHECK_MAX_DEPTH levels below the top passes; one more is refused. */
static void test_pbcheck_depth_limit(void **state)
{
	(void)state;
	uint8_t buf[1024];
	ob_pbcheck_error err;
	size_t n = nested(buf, sizeof(buf), OB_PBCHECK_MAX_DEPTH, (const uint8_t *)"x", 1);
	assert_int_equal(ob_pbcheck(&node_descriptor, buf, n, &err), OB_OK);
	/* protobuf-c agrees that this is a valid Node chain */
	node *m = (node *)protobuf_c_message_unpack(&node_descriptor, NULL, n, buf);
	assert_non_null(m);
	protobuf_c_message_free_unpacked(&m->base, NULL);

	n = nested(buf, sizeof(buf), OB_PBCHECK_MAX_DEPTH + 1, (const uint8_t *)"x", 1);
	assert_int_equal(ob_pbcheck(&node_descriptor, buf, n, &err), OB_EINVAL);
	assert_non_null(strstr(err.description, "deep"));
	/* the path names the chain down to the level that went too far */
	assert_int_equal(strncmp(err.field, "child.child.", 12), 0);
}

/* A very deep chain (far beyond the bound) is refused without deep recursion. */
static void test_pbcheck_very_deep(void **state)
{
	(void)state;
	enum { DEPTH = 5000 };
	size_t cap = DEPTH * 4 + 64;
	uint8_t *buf = malloc(cap);
	assert_non_null(buf);
	size_t n = nested(buf, cap, DEPTH, (const uint8_t *)"x", 1);
	ob_pbcheck_error err;
	assert_int_equal(ob_pbcheck(&node_descriptor, buf, n, &err), OB_EINVAL);
	free(buf);
}

/* The path of an error found deep down lists every level. */
static void test_pbcheck_path(void **state)
{
	(void)state;
	uint8_t buf[256];
	ob_pbcheck_error err;
	size_t n = nested(buf, sizeof(buf), 3, (const uint8_t *)"\xC0\x80", 2);
	assert_int_equal(ob_pbcheck(&node_descriptor, buf, n, &err), OB_EINVAL);
	assert_string_equal(err.field, "child.child.child.name");
	assert_string_equal(err.description, "invalid UTF-8");
	/* The same chain with a valid name passes, and an empty buffer is a default message. */
	n = nested(buf, sizeof(buf), 3, (const uint8_t *)"ok", 2);
	assert_int_equal(ob_pbcheck(&node_descriptor, buf, n, &err), OB_OK);
	assert_int_equal(ob_pbcheck(&node_descriptor, buf, 0, &err), OB_OK);
}

/* Repeated fields may come unpacked, packed, or both mixed, as protobuf allows. */
static void test_pbcheck_repeated_encodings(void **state)
{
	(void)state;
	ob_pbcheck_error err;
	const ProtobufCMessageDescriptor *d = &onboard__v1__list_applications_request__descriptor;
	static const uint8_t mixed[] = {0x10, 0x01, 0x12, 0x02, 0x02, 0x03, 0x10, 0x08};
	assert_int_equal(ob_pbcheck(d, mixed, sizeof(mixed), &err), OB_OK);
	/* A packed run on a field that is not repeated is a wrong wire type. */
	static const uint8_t packed_single[] = {0x18, 0x01, 0x1A, 0x01, 0x01};
	assert_int_equal(ob_pbcheck(d, packed_single, sizeof(packed_single), &err), OB_EINVAL);
	assert_string_equal(err.field, "size_category");
}

/* Varints: ten bytes is the most, and the tenth may only carry one bit. */
static void test_pbcheck_varint_bounds(void **state)
{
	(void)state;
	ob_pbcheck_error err;
	const ProtobufCMessageDescriptor *d = &onboard__v1__list_applications_request__descriptor;
	/* page_size (9) = 2^64 - 1: ten bytes, accepted by the wire check */
	static const uint8_t max64[] = {0x48, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	                                0xFF, 0xFF, 0xFF, 0xFF, 0x01};
	assert_int_equal(ob_pbcheck(d, max64, sizeof(max64), &err), OB_OK);
	static const uint8_t over64[] = {0x48, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	                                 0xFF, 0xFF, 0xFF, 0xFF, 0x02};
	assert_int_equal(ob_pbcheck(d, over64, sizeof(over64), &err), OB_EINVAL);
	static const uint8_t eleven[] = {0x48, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	                                 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x00};
	assert_int_equal(ob_pbcheck(d, eleven, sizeof(eleven), &err), OB_EINVAL);
	/* field number 2^29 - 1 is legal on the wire (unknown here); 2^29 is not */
	static const uint8_t max_field[] = {0xF8, 0xFF, 0xFF, 0xFF, 0x0F, 0x00};
	assert_int_equal(ob_pbcheck(d, max_field, sizeof(max_field), &err), OB_EINVAL);
	assert_non_null(strstr(err.description, "unknown field"));
	static const uint8_t over_field[] = {0x80, 0x80, 0x80, 0x80, 0x10, 0x00};
	assert_int_equal(ob_pbcheck(d, over_field, sizeof(over_field), &err), OB_EINVAL);
	assert_non_null(strstr(err.description, "invalid field number"));
}

/* ---- UTF-8 ------------------------------------------------------------ */

typedef struct {
	const char *bytes;
	size_t len;
	const char *what;
} vec;

#define V(s, what)                                                                                 \
	{                                                                                          \
		s, sizeof(s) - 1, what                                                             \
	}

/* Every well-formed boundary case is accepted. */
static const vec well_formed[] = {
        V("", "empty"),
        V("plain ASCII", "ASCII"),
        V("\x7F", "U+007F"),
        V("\xC2\x80", "U+0080, the smallest 2-byte"),
        V("\xDF\xBF", "U+07FF"),
        V("\xE0\xA0\x80", "U+0800, the smallest 3-byte"),
        V("\xED\x9F\xBF", "U+D7FF, just below the surrogates"),
        V("\xEE\x80\x80", "U+E000, just above the surrogates"),
        V("\xEF\xBF\xBF", "U+FFFF"),
        V("\xF0\x90\x80\x80", "U+10000, the smallest 4-byte"),
        V("\xF0\x9F\x98\x80", "U+1F600, a valid 4-byte emoji"),
        V("\xF4\x8F\xBF\xBF", "U+10FFFF, the largest"),
        V("Cr\xC3\xA8me br\xC3\xBBl\xC3\xA9\x65, 75001 Paris \xE2\x82\xAC", "French text"),
};

static void test_utf8_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(well_formed) / sizeof(well_formed[0]); i++) {
		if (!ob_utf8_valid(well_formed[i].bytes, well_formed[i].len))
			print_error("refused %s\n", well_formed[i].what);
		assert_true(ob_utf8_valid(well_formed[i].bytes, well_formed[i].len));
	}
	assert_int_equal(ob_utf8_length("\xF0\x9F\x98\x80"
	                                "a\xC3\xA9",
	                                7),
	                 3);
}

/* Overlong forms, surrogates, values above U+10FFFF, stray and missing continuation bytes. */
static const vec ill_formed[] = {
        V("\xC0\xAF", "overlong 2-byte '/'"),
        V("\xC1\xBF", "overlong 2-byte U+007F"),
        V("\xE0\x80\xAF", "overlong 3-byte '/'"),
        V("\xE0\x9F\xBF", "overlong 3-byte U+07FF"),
        V("\xF0\x80\x80\xAF", "overlong 4-byte '/'"),
        V("\xF0\x8F\xBF\xBF", "overlong 4-byte U+FFFF"),
        V("\xED\xA0\x80", "U+D800, first high surrogate"),
        V("\xED\xBF\xBF", "U+DFFF, last low surrogate"),
        V("\xED\xA0\xBD\xED\xB8\x80", "a CESU-8 surrogate pair"),
        V("\xF4\x90\x80\x80", "U+110000"),
        V("\xF5\x80\x80\x80", "lead byte F5"),
        V("\xF7\xBF\xBF\xBF", "U+1FFFFF"),
        V("\xF8\x88\x80\x80\x80", "5-byte form"),
        V("\xFC\x84\x80\x80\x80\x80", "6-byte form"),
        V("\xFE", "FE"),
        V("\xFF", "FF"),
        V("\x80", "lone continuation byte"),
        V("a\xBF", "continuation after ASCII"),
        V("\xC3", "2-byte cut at the end"),
        V("\xE2\x82", "3-byte cut at the end"),
        V("\xF0\x9F\x98", "4-byte cut at the end"),
        V("\xE2\x82"
          "a",
          "3-byte cut by ASCII"),
        V("\xF0\x9F\x98\xC3\xA9", "4-byte cut by a 2-byte"),
};

static void test_utf8_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ill_formed) / sizeof(ill_formed[0]); i++) {
		if (ob_utf8_valid(ill_formed[i].bytes, ill_formed[i].len))
			print_error("accepted %s\n", ill_formed[i].what);
		assert_false(ob_utf8_valid(ill_formed[i].bytes, ill_formed[i].len));
		assert_false(ob_utf8_valid_text(ill_formed[i].bytes, ill_formed[i].len));
	}
	/* The length bounds the read: a valid prefix of a longer buffer is valid. */
	assert_true(ob_utf8_valid("ab\xFF", 2));
	assert_false(ob_utf8_valid("\xF0\x9F\x98\x80", 3));
}

/* Text additionally refuses NUL and control characters other than tab, LF and CR. */
static void test_utf8_text(void **state)
{
	(void)state;
	assert_true(ob_utf8_valid("a\0b", 3));       /* well-formed UTF-8 ... */
	assert_false(ob_utf8_valid_text("a\0b", 3)); /* ... but not text */
	assert_true(ob_utf8_valid_text("line 1\r\n\tline 2", 15));
	assert_false(ob_utf8_valid_text("bell\a", 5));
	assert_false(ob_utf8_valid_text("esc\x1B[0m", 7));
	assert_true(ob_utf8_valid_text("\xC2\xA0", 2)); /* NBSP is text */
}

/* A copy or a format that does not fit is cut between two characters, never inside one: at
 * every limit, for 2-, 3- and 4-byte characters, the result is valid UTF-8, as long as it can
 * be, and a prefix of the input. */
static void test_utf8_cut_on_boundary(void **state)
{
	(void)state;
	static const char *const texts[] = {
	        "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9",          /* ééééé */
	        "a\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC",             /* a€€€ */
	        "\xF0\x9F\x98\x80\xF0\x9F\x98\x80z\xF0\x9F\x98\x80", /* 😀😀z😀 */
	};
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		const char *in = texts[t];
		size_t len = strlen(in);
		for (size_t size = 1; size <= len + 2; size++) {
			char out[32];
			memset(out, 'X', sizeof(out));
			size_t n = ob_utf8_copy(out, size, in);
			assert_int_equal(n, strlen(out));
			assert_true(n < size);
			assert_memory_equal(out, in, n);
			if (!ob_utf8_valid(out, n))
				fail_msg("copy of text %zu into %zu bytes is not UTF-8", t, size);
			/* As long as it can be: the next character would not have fit. */
			if (n < len) {
				unsigned char c = (unsigned char)in[n];
				size_t next = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
				assert_true(n + next > size - 1);
			}
			char fmt[32];
			ob_utf8_format(fmt, size, "%s", in);
			assert_string_equal(fmt, out);
		}
	}
	/* What a withdrawal reason of 250 e-acute becomes behind "withdrawn: " in 501 bytes. */
	char reason[501], why[501];
	ob_test_fill_e_acute(reason, sizeof(reason), "");
	ob_utf8_format(why, sizeof(why), "withdrawn: %s", reason);
	assert_int_equal(strlen(why), 499); /* 11 + 244 characters; half of the 245th dropped */
	assert_true(ob_utf8_valid(why, strlen(why)));
}

/* ---- the log ---------------------------------------------------------- */

/* What one call of fn(arg) writes to stderr, with the log in format; malloc'd. */
static char *capture_stderr(ob_log_format format, void (*fn)(const void *), const void *arg)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fds[1], 2) >= 0);
	ob_log_configure(format, OB_LOG_INFO, true);
	fn(arg);
	ob_log_configure(OB_LOG_TEXT, OB_LOG_INFO, true);
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	size_t cap = 65536, len = 0;
	char *out = malloc(cap);
	assert_non_null(out);
	ssize_t r;
	while ((r = read(fds[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	close(fds[0]);
	out[len] = '\0';
	return out;
}

static void log_access(const void *arg)
{
	ob_log_access(arg);
}

/* Asserts that out is exactly one line, of valid UTF-8 without a control character. */
static void assert_one_clean_line(const char *out)
{
	size_t len = strlen(out);
	assert_true(len > 1);
	assert_int_equal(out[len - 1], '\n');
	if (!ob_utf8_valid(out, len))
		fail_msg("the line is not valid UTF-8: %s", out);
	for (size_t i = 0; i + 1 < len; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7F)
			fail_msg("control byte 0x%02x at %zu of the line: %s",
			         (unsigned char)out[i], i, out);
}

/* What one call of fn(arg) logs in the JSON format: one clean line (assert_one_clean_line) that
 * parses as JSON. The caller drops the reference. */
static json_t *capture_json(void (*fn)(const void *), const void *arg)
{
	char *out = capture_stderr(OB_LOG_JSON, fn, arg);
	assert_one_clean_line(out);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	if (j == NULL)
		fail_msg("not JSON (%s): %s", jerr.text, out);
	free(out);
	return j;
}

/* A method, request id and peer that try to forge fields and lines, with quotes, a newline, a
 * carriage return, a tab, C0 and C1 controls, an escape sequence, DEL, U+2028 and bytes that
 * are not UTF-8. */
static const char forged_method[] =
        "/m\" status=OK latency_us=1\n2020-01-01T00:00:00.000Z method=\"/forged\"\r\t"
        "\x01\x1b[31m\x7f\xc2\x85\xe2\x80\xa8\xff\xc3(caf\xc3\xa9";
static const ob_access_entry forged = {
        .method = forged_method,
        .status = "PERMISSION_DENIED",
        .latency_us = 42,
        .request_id = "rid\" peer=\"x",
        .peer = "tcp:192.0.2.1:5 status=OK",
        .key_id = "k-ops\" status=OK",
};

/* The text format quotes and escapes every value a caller chose: one line, the same seven fields,
 * each value read back as sent (invalid bytes as U+FFFD). */
static void test_access_log_text_quoted(void **state)
{
	(void)state;
	char *out = capture_stderr(OB_LOG_TEXT, log_access, &forged);
	assert_one_clean_line(out);
	static const char want[] =
	        " method=\"/m\\\" status=OK latency_us=1\\n2020-01-01T00:00:00.000Z "
	        "method=\\\"/forged\\\"\\r\\t\\u0001\\u001b[31m\\u007f\\u0085\\u2028\\ufffd\\ufffd("
	        "caf\xc3\xa9\" status=PERMISSION_DENIED latency_us=42 request_id=\"rid\\\" "
	        "peer=\\\"x\" peer=\"tcp:192.0.2.1:5 status=OK\" key_id=\"k-ops\\\" status=OK\"\n";
	assert_true(strlen(out) > 24); /* 2020-11-20T12:00:00.000Z */
	assert_string_equal(out + 24, want);
	free(out);
}

/* The JSON format is valid JSON (and UTF-8) whatever the values hold, with exactly the seven
 * fields, the values as sent but for the bytes that are not UTF-8. */
static void test_access_log_json_escaped(void **state)
{
	(void)state;
	json_t *j = capture_json(log_access, &forged);
	assert_int_equal(json_object_size(j), 7);
	assert_string_equal(json_string_value(json_object_get(j, "method")),
	                    "/m\" status=OK latency_us=1\n2020-01-01T00:00:00.000Z "
	                    "method=\"/forged\"\r\t\x01\x1b[31m\x7f\xc2\x85\xe2\x80\xa8"
	                    "\xef\xbf\xbd\xef\xbf\xbd(caf\xc3\xa9");
	assert_string_equal(json_string_value(json_object_get(j, "status")), "PERMISSION_DENIED");
	assert_int_equal(json_integer_value(json_object_get(j, "latency_us")), 42);
	assert_string_equal(json_string_value(json_object_get(j, "request_id")), "rid\" peer=\"x");
	assert_string_equal(json_string_value(json_object_get(j, "peer")),
	                    "tcp:192.0.2.1:5 status=OK");
	assert_string_equal(json_string_value(json_object_get(j, "key_id")), "k-ops\" status=OK");
	json_decref(j);
}

/* A long value is cut between two characters in both formats. */
static void test_access_log_long_value_cut(void **state)
{
	(void)state;
	char method[401];
	ob_test_fill_e_acute(method, sizeof(method), "/");
	ob_access_entry e = {.method = method, .status = "OK", .peer = "ipc"};
	char *out = capture_stderr(OB_LOG_TEXT, log_access, &e);
	assert_one_clean_line(out);
	assert_non_null(strstr(out, "\" status=OK "));
	free(out);
	json_t *j = capture_json(log_access, &e);
	const char *m = json_string_value(json_object_get(j, "method"));
	assert_true(strlen(m) > 100 && strlen(m) <= 128);
	assert_memory_equal(m, method, strlen(m));
	json_decref(j);
}

/* 20 successful calls and 3 failed ones, under a sample of *every. */
static void log_sampled(const void *arg)
{
	ob_log_sample_access(*(const unsigned *)arg);
	for (int i = 0; i < 23; i++) {
		ob_access_entry e = {.method = "/onboard.v1.Health/Check",
		                     .status = i % 6 == 5 ? "UNAVAILABLE" : "OK",
		                     .peer = "ipc",
		                     .key_id = "local"};
		ob_log_access(&e);
	}
	ob_log_sample_access(1);
}

static size_t count_lines(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* --access-log-sample N keeps one success in N and every failure. */
static void test_access_log_sampled(void **state)
{
	(void)state;
	const unsigned every[] = {1, 4, 25};
	const size_t ok_lines[] = {20, 5, 1};
	for (size_t i = 0; i < 3; i++) {
		char *out = capture_stderr(OB_LOG_TEXT, log_sampled, &every[i]);
		assert_int_equal(count_lines(out, "status=OK "), ok_lines[i]);
		assert_int_equal(count_lines(out, "status=UNAVAILABLE "), 3);
		assert_int_equal(count_lines(out, "\n"), ok_lines[i] + 3);
		free(out);
	}
}

/* 60 failed calls and 6 successes under a cap of 10 failed lines a second, then, a second
 * later, one more failed call: it reports what the cap left out. */
static void log_flooded(const void *arg)
{
	(void)arg;
	ob_log_limit_failures(10);
	for (int i = 0; i < 66; i++) {
		ob_access_entry e = {.method = "/onboard.v1.Onboarding/GetCohort",
		                     .status = i % 11 == 10 ? "OK" : "UNAUTHENTICATED",
		                     .peer = "127.0.0.2:4242"};
		ob_log_access(&e);
	}
	ob_test_sleep_ms(1100);
	ob_access_entry last = {.method = "/x", .status = "UNAUTHENTICATED", .peer = "p"};
	ob_log_access(&last);
	ob_log_limit_failures(OB_LOG_FAILURES_PER_S);
}

/* The sum of the counts in the summary lines "N failed calls not logged". */
static unsigned dropped_in(const char *s)
{
	unsigned sum = 0;
	for (const char *p = s; (p = strstr(p, "access log: ")) != NULL; p += 12)
		sum += (unsigned)strtoul(p + 12, NULL, 10);
	return sum;
}

/* 30 failed calls under a cap of 10 a second, then the flush that onboardd makes at exit,
 * twice: what the cap left out is reported once, without waiting for a later call. */
static void log_flooded_then_flushed(const void *arg)
{
	(void)arg;
	ob_log_limit_failures(10);
	for (int i = 0; i < 30; i++) {
		ob_access_entry e = {.method = "/x", .status = "UNAUTHENTICATED", .peer = "p"};
		ob_log_access(&e);
	}
	ob_log_flush_failures();
	ob_log_flush_failures();
	ob_log_limit_failures(OB_LOG_FAILURES_PER_S);
}

static void test_access_log_flushed_at_exit(void **state)
{
	(void)state;
	char *out = capture_stderr(OB_LOG_TEXT, log_flooded_then_flushed, NULL);
	size_t lines = count_lines(out, "status=UNAUTHENTICATED ");
	assert_true(lines >= 10 && lines < 30);
	assert_int_equal(lines + dropped_in(out), 30);
	free(out);
}

/* A flood of refused calls grows the log by a bounded amount: past the cap a second the
 * failed calls' lines are counted, not written, and the count is logged; successes are not
 * capped. Whatever second boundaries the loop crossed, every failed call is either a line or
 * in a count. */
static void test_access_log_failures_capped(void **state)
{
	(void)state;
	char *out = capture_stderr(OB_LOG_TEXT, log_flooded, NULL);
	size_t failed_lines = count_lines(out, "status=UNAUTHENTICATED ");
	assert_int_equal(count_lines(out, "status=OK "), 6);
	assert_true(failed_lines >= 11 && failed_lines < 61);
	assert_int_equal(failed_lines + dropped_in(out), 61);
	assert_non_null(strstr(out, "(more than 10 a second)"));
	free(out);
}

static void log_free_form(const void *arg)
{
	ob_log(OB_LOG_WARN, "security: unauthenticated peer=ipc %s", (const char *)arg);
}

/* A free-form message that carries a caller's bytes stays one line of valid UTF-8 too. */
static void test_log_message_escaped(void **state)
{
	(void)state;
	char *out = capture_stderr(OB_LOG_TEXT, log_free_form, forged_method);
	assert_one_clean_line(out);
	free(out);
	json_decref(capture_json(log_free_form, forged_method));
}

/* A message longer than the log takes is cut between two characters: no half character shows
 * up as U+FFFD at its end. */
static void test_log_message_cut_on_boundary(void **state)
{
	(void)state;
	char text[1001];
	/* x, then 499.5 e-acute: any cut of an odd prefix is mid-character */
	ob_test_fill_e_acute(text, sizeof(text), "x");
	char *out = capture_stderr(OB_LOG_TEXT, log_free_form, text);
	assert_one_clean_line(out);
	assert_null(strstr(out, "\\ufffd"));
	assert_non_null(strstr(out, "\xc3\xa9\n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_arena_budget),
	        cmocka_unit_test(test_arena_huge_size),
	        cmocka_unit_test(test_arena_reset_reuses),
	        cmocka_unit_test(test_arena_alignment_and_big),
	        cmocka_unit_test(test_arena_strings),
	        cmocka_unit_test(test_arena_as_protobuf_allocator),
	        cmocka_unit_test(test_pbcheck_depth_limit),
	        cmocka_unit_test(test_pbcheck_very_deep),
	        cmocka_unit_test(test_pbcheck_path),
	        cmocka_unit_test(test_pbcheck_repeated_encodings),
	        cmocka_unit_test(test_pbcheck_varint_bounds),
	        cmocka_unit_test(test_utf8_valid),
	        cmocka_unit_test(test_utf8_invalid),
	        cmocka_unit_test(test_utf8_text),
	        cmocka_unit_test(test_utf8_cut_on_boundary),
	        cmocka_unit_test(test_access_log_text_quoted),
	        cmocka_unit_test(test_access_log_json_escaped),
	        cmocka_unit_test(test_access_log_long_value_cut),
	        cmocka_unit_test(test_access_log_sampled),
	        cmocka_unit_test(test_access_log_failures_capped),
	        cmocka_unit_test(test_access_log_flushed_at_exit),
	        cmocka_unit_test(test_log_message_escaped),
	        cmocka_unit_test(test_log_message_cut_on_boundary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
