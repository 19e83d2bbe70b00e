/*
 * testlogin.h: the login message as service/auth/auth.h documents it, written again here,
 * apart from common/login_message.c, so that the tests (test_auth, fuzz_auth) check that code
 * against the document and not against itself. Plain C; thread-safe (no state).
 */
#ifndef OB_TESTS_TESTLOGIN_H
#define OB_TESTS_TESTLOGIN_H

#include <stddef.h>
#include <stdint.h>

/* Writes into msg[0..cap) "onboard-login-v2", 0x00, the 16 bytes at id, ts as a big-endian
 * int64, the 16 bytes of nonce, n as one byte, then for each of auds[0..n) its length as a
 * big-endian uint16 and its bytes. Returns the message's length, or 0 (msg then undefined)
 * when it does not fit in cap bytes or n is over 255. */
size_t ob_test_login_message(uint8_t *msg, size_t cap, const char *id, int64_t ts,
                             const uint8_t nonce[16], const char *const *auds, size_t n);

#endif
