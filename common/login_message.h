/*
 * login_message.h: the bytes a caller signs to log in. One implementation for the server
 * (service/auth/login.c verifies them) and the client (keyfile.c signs them), so that the two
 * cannot drift apart:
 *
 *     "onboard-login-v2" || 0x00 || key_id (16 ASCII hex) || ts_ms (int64 big-endian) ||
 *     nonce (16 bytes) || n (1 byte) || n times: len (uint16 big-endian) || audience (len bytes)
 *
 * The audiences name the server the login is for, as the caller knows it (by default the URLs
 * it dials): the server accepts a login only when one of them is one of its own names, so that
 * a login captured by, or sent to, one server cannot be relayed to another that shares the
 * keyring. The caller, not the server, decides what it signs for: a server that told its
 * callers which name to sign could name another server and relay their logins to it. Several
 * audiences are for a caller that spreads its calls over several servers of one service (the
 * login reaches any one of them). Each is length-prefixed, so no two lists sign the same bytes.
 *
 * Plain C, no dependency; thread-safe (no state).
 */
#ifndef OB_COMMON_LOGIN_MESSAGE_H
#define OB_COMMON_LOGIN_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	OB_LOGIN_KEY_ID_LEN = 16,
	OB_LOGIN_NONCE_LEN = 16,
	OB_LOGIN_MAX_AUDIENCES = 8,
	OB_LOGIN_MAX_AUDIENCE_LEN = 512,
	OB_LOGIN_MESSAGE_MAX = 16 + 1 + OB_LOGIN_KEY_ID_LEN + 8 + OB_LOGIN_NONCE_LEN + 1 +
	                       OB_LOGIN_MAX_AUDIENCES * (2 + OB_LOGIN_MAX_AUDIENCE_LEN),
};

/* True when audiences[0..n) can be signed: 1 to OB_LOGIN_MAX_AUDIENCES of them, none NULL,
 * each 1 to OB_LOGIN_MAX_AUDIENCE_LEN bytes long. */
bool ob_login_audiences_valid(const char *const *audiences, size_t n);

/* Writes the message for key_id (a string of exactly 16 characters), ts_ms, nonce (16 bytes)
 * and audiences[0..n) into msg and returns its length, at most OB_LOGIN_MESSAGE_MAX; returns 0,
 * writing nothing, when key_id is not 16 characters long or the audiences cannot be signed. */
size_t ob_login_message_build(uint8_t msg[OB_LOGIN_MESSAGE_MAX], const char *key_id, int64_t ts_ms,
                              const uint8_t nonce[OB_LOGIN_NONCE_LEN], const char *const *audiences,
                              size_t n);

#endif
