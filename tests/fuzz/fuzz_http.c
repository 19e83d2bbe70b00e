/*
 * fuzz_http.c: libFuzzer target for service/http/request.c, the HTTP face's head parser and
 * chunked-body decoder, which read whatever a network peer sends.
 *
 * Each input is taken as a head (up to the first byte 0xff, or all of it) and what follows as
 * a chunked body. Invariants checked, beyond "no crash, no leak, no UB, no read past the
 * input":
 *   - ob_http_head_length is 0 or at most the input's length, and what it measured ends in LF;
 *     resumed (scanned) over every prefix, it finds the same end;
 *   - ob_http_parse_head returns 0, 400, 431 or 505 with a reason on refusal; on success the
 *     method, path, query and every header name and value are NUL-terminated strings inside the
 *     head's copy, the method and the names are non-empty, the path starts with '/', at most
 *     OB_HTTP_MAX_HEADERS headers, chunked and Content-Length never both;
 *   - ob_http_chunked returns 0, 1, 400 or 413; on 0 the bytes it used are at most the input's
 *     and the body at most the cap, and decoding again into a buffer gives the same lengths;
 *     resumed (ob_http_chunk_state) over every prefix, it reaches the same verdict;
 *     a cut of a complete body is never complete with a longer length.
 * tests/fuzz/corpus/http holds hand-written seeds. tests/fuzz/replay.c replays them in every
 * build (suite fuzz-smoke).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/request.h"

enum { BODY_MAX = 4096 };

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool inside(const char *s, const char *buf, size_t n)
{
	return s >= buf && s < buf + n && memchr(s, '\0', (size_t)(buf + n - s)) != NULL;
}

static void head(const uint8_t *data, size_t size)
{
	size_t hl = ob_http_head_length((const char *)data, size, NULL);
	check(hl <= size);
	/* Resumed at every length, it finds the same end. */
	size_t scanned = 0, at = 0;
	for (size_t n = 0; n <= size && at == 0; n++)
		at = ob_http_head_length((const char *)data, n, &scanned);
	check(at == hl);
	if (hl == 0)
		return;
	check(data[hl - 1] == '\n');
	char *buf = malloc(hl + 1);
	check(buf != NULL);
	memcpy(buf, data, hl);
	buf[hl] = '\0';
	ob_http_request rq;
	const char *why = NULL;
	int status = ob_http_parse_head(buf, hl, &rq, &why);
	if (status != 0) {
		check((status == 400 || status == 431 || status == 505) && why != NULL);
	} else {
		check(inside(rq.method, buf, hl + 1) && rq.method[0] != '\0');
		check(inside(rq.path, buf, hl + 1) && rq.path[0] == '/');
		check(rq.query[0] == '\0' || inside(rq.query, buf, hl + 1));
		check(rq.n_headers <= OB_HTTP_MAX_HEADERS);
		for (size_t i = 0; i < rq.n_headers; i++)
			check(inside(rq.headers[i].name, buf, hl + 1) &&
			      rq.headers[i].name[0] != '\0' &&
			      inside(rq.headers[i].value, buf, hl + 1));
		check(!(rq.chunked && rq.has_length));
	}
	free(buf);
}

static void chunked(const uint8_t *data, size_t size)
{
	size_t used = 0, len = 0, used2 = 0, len2 = 0;
	const char *why = NULL;
	int r = ob_http_chunked(data, size, NULL, BODY_MAX, &used, &len, &why, NULL);
	check(r == 0 || r == 1 || r == 400 || r == 413);
	/* Resumed from the state left by every shorter length, the verdict is the same. */
	ob_http_chunk_state st = {0, 0};
	int rr = 1;
	for (size_t n = 0; n <= size && rr == 1; n++)
		rr = ob_http_chunked(data, n, NULL, BODY_MAX, &used2, &len2, &why, &st);
	check(rr == r || (r >= 400 && rr >= 400)); /* 400 and 413: which comes first */
	if (r != 0)
		return;
	check(used2 == used && len2 == len);
	check(used <= size && len <= BODY_MAX);
	uint8_t *out = malloc(len + 1);
	check(out != NULL);
	check(ob_http_chunked(data, size, out, BODY_MAX, &used2, &len2, &why, NULL) == 0);
	check(used2 == used && len2 == len);
	free(out);
	if (used > 0) {
		r = ob_http_chunked(data, used - 1, NULL, BODY_MAX, &used2, &len2, &why, NULL);
		check(r != 0 || len2 <= len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *split = memchr(data, 0xff, size);
	size_t hsize = split != NULL ? (size_t)(split - data) : size;
	head(data, hsize);
	if (split != NULL)
		chunked(split + 1, size - hsize - 1);
	else
		chunked(data, size);
	return 0;
}
