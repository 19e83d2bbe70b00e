/*
 * keyfile.h: a caller's key, on the client side: the file `onboard keygen`
 * writes (one line of base64 holding a 32-byte Ed25519 seed, mode 0600),
 * its key id, and the signature of a login.
 *
 * The key id and the login message (login_message.h) have their one
 * implementation here, which the server uses too. The rest of the server's
 * code stays apart, so that the client library does not link it.
 *
 * Functions return 0 or -1 with a message in err. sodium_init() first.
 */
#ifndef OB_COMMON_KEYFILE_H
#define OB_COMMON_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "attr.h"

enum { OB_KEYFILE_ID_LEN = 16 };

/* The key id of a public key: the hex of the first 8 bytes of its
 * BLAKE2b-256. The one implementation, which the server's keyring uses too. */
void ob_keyfile_key_id(const uint8_t pk[32], char id[OB_KEYFILE_ID_LEN + 1]);

/* Writes a new key to path (a secret file, secretfile.h: 0600, never
 * overwriting); returns its id and public key (standard base64, 44
 * characters). */
int ob_keyfile_generate(const char *path, char id[OB_KEYFILE_ID_LEN + 1], char pk_b64[64],
                        char *err, size_t errlen);
/* Reads a key file under the rules of secretfile.h (no symbolic link). The
 * caller wipes seed. */
int ob_keyfile_load(const char *path, uint8_t seed[32], char id[OB_KEYFILE_ID_LEN + 1], char *err,
                    size_t errlen);
/* Signs a login: sig = Ed25519(seed, the message of login_message.h for id,
 * ts_ms, nonce and audiences[0..n), the servers it is for). Returns 0, or -1
 * when the audiences cannot be signed (ob_login_audiences_valid) or id is not
 * 16 characters, sig then untouched. The derived secret key is wiped. */
OB_NODISCARD int ob_keyfile_sign_login(const uint8_t seed[32], const char id[OB_KEYFILE_ID_LEN + 1],
                                       int64_t ts_ms, const uint8_t nonce[16],
                                       const char *const *audiences, size_t n, uint8_t sig[64]);

#endif
