/*
 * test_replay.c: idempotency keys through onboardd and libonboard-client. A repeated key
 * gets the first reply byte for byte, marked replayed (Response.replayed, ob_result.replayed);
 * the first call is not; a review without expected_version takes the application as it is;
 * a submission's reply, rendered in two parts (what is known before the write, and what the
 * write decides), reads as the whole application that a Get returns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "onboard/client.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "testdata_pb.h"
#include "testsrv.h"

#define SUBMIT "/onboard.v1.Onboarding/SubmitApplication"
#define REVIEW "/onboard.v1.Onboarding/ReviewApplication"
#define GET    "/onboard.v1.Onboarding/GetApplication"

enum { CALL_MS = 10000 };

static int setup(void **state)
{
	*state = ob_testsrv_create(NULL);
	return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	return ob_testsrv_destroy(*state);
}

/* m packed, malloc'd, its length in *len. */
static uint8_t *packed(const ProtobufCMessage *m, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(*len > 0 ? *len : 1);
	assert_non_null(buf);
	protobuf_c_message_pack(m, buf);
	return buf;
}

/* The packed SubmitApplicationRequest of company n, malloc'd. */
static uint8_t *submit_request(uint32_t n, size_t *len)
{
	td_company c;
	td_company_make(&c, n);
	td_pb_submission sub;
	td_pb_submission_make(&sub, &c, NULL);
	return packed(&sub.rq.base, len);
}

/* Submits company n with md (an idempotency-key) for the first time: OK, and not a replay.
 * Returns the packed request (*len bytes, free() it) for sending again; *first is the
 * caller's to finish. */
static uint8_t *submit_first(ob_testsrv *s, uint32_t n, const ob_metadata *md, size_t *len,
                             ob_result *first)
{
	uint8_t *rq = submit_request(n, len);
	assert_int_equal(ob_client_call(s->client, SUBMIT, md, 1, rq, *len, CALL_MS, first),
	                 OB_CODE_OK);
	assert_false(first->replayed);
	assert_non_null(first->payload);
	return rq;
}

/* Sends rq[0..len) again with md: the reply is replayed, first's payload byte for byte. */
static void assert_replayed(ob_testsrv *s, const ob_metadata *md, const uint8_t *rq, size_t len,
                            const ob_result *first)
{
	ob_result again;
	assert_int_equal(ob_client_call(s->client, SUBMIT, md, 1, rq, len, CALL_MS, &again),
	                 OB_CODE_OK);
	assert_true(again.replayed);
	assert_int_equal(again.payload_len, first->payload_len);
	assert_memory_equal(again.payload, first->payload, first->payload_len);
	ob_result_fini(&again);
}

/* The same key twice: the second reply is the first one's bytes, replayed. */
static void test_replay_is_byte_identical(void **state)
{
	ob_testsrv *s = *state;
	const ob_metadata md[] = {{"idempotency-key", "replay-test-1"}};
	size_t len;
	ob_result first, again;
	uint8_t *rq = submit_first(s, 1, md, &len, &first);
	assert_replayed(s, md, rq, len, &first);

	/* Another key is a new request: refused as a duplicate, not replayed. */
	const ob_metadata other[] = {{"idempotency-key", "replay-test-2"}};
	assert_int_equal(ob_client_call(s->client, SUBMIT, other, 1, rq, len, CALL_MS, &again),
	                 OB_CODE_ALREADY_EXISTS);
	assert_false(again.replayed);
	ob_result_fini(&again);
	ob_result_fini(&first);
	free(rq);
}

/* expected_version 0 means any version, as for a withdrawal. */
static void test_review_any_version(void **state)
{
	ob_testsrv *s = *state;
	size_t len;
	uint8_t *rq = submit_request(2, &len);
	Onboard__V1__Application *a = NULL;
	ob_result r;
	assert_int_equal(ob_client_call(s->client, SUBMIT, NULL, 0, rq, len, CALL_MS, &r),
	                 OB_CODE_OK);
	a = onboard__v1__application__unpack(NULL, r.payload_len, r.payload);
	assert_non_null(a);
	ob_result_fini(&r);
	free(rq);

	Onboard__V1__ReviewApplicationRequest rv = ONBOARD__V1__REVIEW_APPLICATION_REQUEST__INIT;
	rv.id = a->id;
	rv.action = ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_START;
	rv.expected_version = 0;
	Onboard__V1__Application *b = NULL;
	assert_int_equal(ob_client_call_message(s->client, REVIEW, NULL, 0, &rv.base,
	                                        &onboard__v1__application__descriptor,
	                                        (ProtobufCMessage **)&b, CALL_MS, &r),
	                 OB_CODE_OK);
	assert_false(r.replayed);
	assert_non_null(b);
	assert_int_equal(b->state, ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_UNDER_REVIEW);
	assert_int_equal(b->version, a->version + 1);
	protobuf_c_message_free_unpacked(&b->base, NULL);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	ob_result_fini(&r);
}

/* The stored reply of a submission is its two parts one after the other: decoded, it is
 * the application a Get reads, field for field, state, history and terms included. */
static void test_submit_reply_in_two_parts_is_whole(void **state)
{
	ob_testsrv *s = *state;
	const ob_metadata md[] = {{"idempotency-key", "replay-test-parts"}};
	size_t len;
	ob_result first, got;
	uint8_t *rq = submit_first(s, 3, md, &len, &first);
	Onboard__V1__Application *a =
	        onboard__v1__application__unpack(NULL, first.payload_len, first.payload);
	assert_non_null(a);
	assert_int_not_equal(a->state, 0);
	assert_string_not_equal(a->terms_version, "");
	assert_int_equal(a->n_history, 1);
	assert_non_null(a->company);
	assert_non_null(a->contact);
	assert_string_not_equal(a->contact->email, "");

	Onboard__V1__GetApplicationRequest g = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
	g.id = a->id;
	Onboard__V1__Application *b = NULL;
	assert_int_equal(ob_client_call_message(s->client, GET, NULL, 0, &g.base,
	                                        &onboard__v1__application__descriptor,
	                                        (ProtobufCMessage **)&b, CALL_MS, &got),
	                 OB_CODE_OK);
	assert_non_null(b);
	size_t la, lb;
	/* Packed again in protobuf-c's order. */
	uint8_t *ca = packed(&a->base, &la), *cb = packed(&b->base, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(ca, cb, la);

	/* Replayed, the same two parts, byte for byte. */
	assert_replayed(s, md, rq, len, &first);
	free(ca);
	free(cb);
	protobuf_c_message_free_unpacked(&b->base, NULL);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	ob_result_fini(&got);
	ob_result_fini(&first);
	free(rq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_replay_is_byte_identical, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_review_any_version, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_submit_reply_in_two_parts_is_whole, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
