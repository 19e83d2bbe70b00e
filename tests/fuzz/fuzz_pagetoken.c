/*
 * fuzz_pagetoken.c: libFuzzer target for the page tokens of the list methods (rpc/convert.c:
 * ob_rpc_read_page_token, which reads a peer's page_token, and ob_pb_page_token, which makes
 * them). ListApplications binds its tokens to a 16-byte hash of its filters,
 * ListAuditEvents to nothing.
 *
 * An input is BIND_LEN (first byte, modulo 17) | BIND | TOKEN: the token is read against
 * the bind bytes as a handler does, then against none and against other bind bytes.
 * Invariants checked, beyond "no crash, no leak, no UB":
 *   - a token is accepted exactly when it is the one ob_pb_page_token makes for the seq read
 *     and the bind given (one spelling per token: no two tokens open the same page), and the
 *     seq read is never negative;
 *   - a refusal leaves *after_seq 0 and one violation, of the field "page_token";
 *   - bound to other bytes than the token was made for, a token is refused;
 *   - the first 8 bytes of TOKEN taken as a seq: a token made for it reads back to it when the
 *     seq is not negative, and is refused when it is.
 *
 * Seeds: tests/fuzz/corpus/pagetoken, hand-written.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rpc/convert.h"
#include "rpc/dispatch.h"

enum { MAX_BIND = 16, MAX_TOKEN = 4096 };

static ob_call call;
static bool ready;

static void teardown(void)
{
	ob_call_fini(&call);
}

/* Reads token against bind; returns whether it was accepted, the seq in *seq. */
static bool read_token(const char *token, const uint8_t *bind, size_t bind_len, int64_t *seq)
{
	ob_call_reset(&call);
	*seq = -7;
	ob_rpc_read_page_token(&call, token, bind, bind_len, seq);
	if (call.n_violations == 0) {
		if (*seq < 0)
			fuzz_die("a negative seq was accepted");
		if (token[0] == '\0' && *seq != 0)
			fuzz_die("an empty token does not mean the first page");
		return true;
	}
	if (call.n_violations != 1 || strcmp(call.violations[0]->field, "page_token") != 0)
		fuzz_die("a refusal that is not one violation of page_token");
	if (*seq != 0)
		fuzz_die("a refused token left a seq");
	if (token[0] == '\0')
		fuzz_die("an empty token was refused");
	return false;
}

/* A token accepted against bind must be the one made for its seq and bind. */
static void check_spelling(const char *token, int64_t seq, const uint8_t *bind, size_t bind_len)
{
	if (token[0] == '\0')
		return;
	char *made = ob_pb_page_token(&call.arena, seq, bind, bind_len);
	if (made == NULL)
		fuzz_die("cannot make a token");
	if (strcmp(made, token) != 0) {
		fprintf(stderr, "fuzz_pagetoken: \"%s\" was accepted for \"%s\"\n", token, made);
		fuzz_die("a token accepted in another spelling than the one made");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		ob_call_init(&call, NULL, 1u << 20);
		atexit(teardown);
		ready = true;
	}
	if (size == 0)
		return 0;
	size_t bind_len = data[0] % (MAX_BIND + 1);
	if (bind_len > size - 1)
		bind_len = size - 1;
	uint8_t bind[MAX_BIND], other[MAX_BIND];
	memcpy(bind, data + 1, bind_len);
	for (size_t i = 0; i < bind_len; i++)
		other[i] = (uint8_t)(bind[i] ^ 0x5a);
	const uint8_t *rest = data + 1 + bind_len;
	size_t rest_len = size - 1 - bind_len;

	char token[MAX_TOKEN + 1];
	size_t n = rest_len < MAX_TOKEN ? rest_len : MAX_TOKEN;
	memcpy(token, rest, n);
	token[n] = '\0';

	int64_t seq;
	if (read_token(token, bind, bind_len, &seq)) {
		check_spelling(token, seq, bind, bind_len);
		int64_t s2;
		if (bind_len > 0 && token[0] != '\0' && read_token(token, other, bind_len, &s2))
			fuzz_die("a token was accepted with other filters");
	}
	if (read_token(token, NULL, 0, &seq))
		check_spelling(token, seq, NULL, 0);

	/* Made here for the seq of the input's bytes. */
	if (rest_len >= sizeof(int64_t)) {
		int64_t want;
		memcpy(&want, rest, sizeof(want));
		ob_call_reset(&call);
		char *made = ob_pb_page_token(&call.arena, want, bind, bind_len);
		if (made == NULL)
			fuzz_die("cannot make a token");
		size_t len = strlen(made);
		char copy[64];
		if (len >= sizeof(copy))
			fuzz_die("a token longer than expected");
		memcpy(copy, made, len + 1);
		bool ok = read_token(copy, bind, bind_len, &seq);
		if (ok != (want >= 0) || (ok && seq != want))
			fuzz_die("a token made here does not read back to its seq");
	}
	return 0;
}
