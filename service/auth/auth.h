/*
 * auth.h: who is calling. Keys, the keyring, login signatures, session tokens, rate limits.
 *
 * Callers hold an Ed25519 key pair; the server holds a keyring of their public keys, each with
 * a role and a validity period. A caller logs in once with a signed, timestamped, single-use
 * request (an Ed25519 verification costs ~36 us) and receives a short-lived session token
 * authenticated with a server secret (keyed BLAKE2b, ~1 us to check), which every other call
 * carries in its `authorization` metadata. Revoking a key is removing it from the keyring (or
 * letting its NOT_AFTER pass): tokens are checked against the current keyring on every call
 * (ob_token_check_key), so a revocation takes effect at the next reload, not at token expiry.
 *
 * Pure C on libsodium: no nng, protobuf or SQL. sodium_init() must have succeeded before any
 * function here is called (main does it before starting threads).
 *
 * Conventions of the module:
 *  - Fallible functions return ob_err and write their out-parameters only on success.
 *  - Everything a peer can send (key ids, timestamps, nonces, signatures, token text) is
 *    checked by these functions: no peer-supplied value reaches an assert or undefined
 *    behaviour. Every authentication failure is OB_EAUTH, whatever the reason, so that a caller
 *    cannot learn which check failed; the server logs the reason if it wants (err strings are
 *    for operators' files, never sent to peers).
 *  - Functions taking `char *err, size_t errlen` write a one-line, NUL-terminated English
 *    explanation on failure (truncated to errlen; err may be NULL or errlen 0). Messages never
 *    quote secret material.
 *  - Times are unix milliseconds of the real wall clock (base/clock.h's ob_clock_real_ms, not
 *    the programme's clock that --now shifts), passed in explicitly so tests can move them. They
 * must lie within +/- OB_AUTH_TIME_LIMIT_MS; other values are refused (OB_EINVAL for the server's
 * own clock, OB_EAUTH for a peer's timestamp) so that no arithmetic can overflow.
 *
 * Files: keyring.c (roles, key ids, keyring, secret files, key generation), login.c, token.c,
 * ratelimit.c.
 */
#ifndef OB_AUTH_AUTH_H
#define OB_AUTH_AUTH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "login_message.h" /* common/: the signed login message, shared with the client */

/* |now| and |timestamps| beyond this (about 146 million years) are refused. */
#define OB_AUTH_TIME_LIMIT_MS (INT64_C(1) << 62)

/* ---- roles ---------------------------------------------------------------------------------- */

/* What a key may do; the rpc layer maps methods to the roles allowed to call them. The numeric
 * values are on the wire (token payload byte): never renumber. */
typedef enum {
	OB_ROLE_NONE = 0, /* not a role anyone holds: the zero value of unset fields */
	OB_ROLE_APPLICANT = 1,
	OB_ROLE_PARTNER = 2,
	OB_ROLE_REVIEWER = 3,
	OB_ROLE_ADMIN = 4,
	/* The marketplace's ads service: records the ad credit companies spend
	 * (Onboarding/RecordAdSpend) and nothing else. A role of its own rather
	 * than partner's, which submits and sees only what it submitted: the
	 * ads service reports for every company and must not submit. */
	OB_ROLE_ADS = 5,
	OB_ROLE_LAST = OB_ROLE_ADS,
} ob_role;

/* "applicant", "partner", "reviewer", "admin", "ads", "none" for OB_ROLE_NONE, "invalid" for any
 * other value. Static strings; never NULL. */
const char *ob_role_name(ob_role role);

/* Parses one of the four role names above, exactly (lower case, nothing around it). "none" is
 * refused: no key can be given the absence of a role. Returns false (and leaves *out alone)
 * for anything else, including s == NULL. */
OB_NODISCARD bool ob_role_parse(const char *s, ob_role *out);

/* ---- keys ----------------------------------------------------------------------------------- */

#define OB_KEY_ID_LEN     16 /* hex characters, without the NUL */
#define OB_KEY_LABEL_MAX  64 /* bytes, without the NUL */
#define OB_KEY_PK_B64_LEN 44 /* standard base64 of 32 bytes, padded, without the NUL */

/* One caller's public key as the keyring holds it. */
typedef struct ob_key {
	char id[OB_KEY_ID_LEN + 1];       /* ob_keyfile_key_id(pk), NUL-terminated */
	ob_role role;                     /* never OB_ROLE_NONE in a keyring */
	uint8_t pk[32];                   /* Ed25519 public key */
	int64_t not_before_ms;            /* first valid instant, inclusive; 0 = open */
	int64_t not_after_ms;             /* last valid instant, inclusive; 0 = open */
	char label[OB_KEY_LABEL_MAX + 1]; /* printable ASCII, who the key belongs to; for logs */
} ob_key;

/*
 * The key id of a public key is ob_keyfile_key_id() (common/keyfile.h, the one implementation
 * the client shares): the first 8 bytes of BLAKE2b-256(pk) in lowercase hex. Derived rather
 * than chosen, so that a keyring line cannot pair an id with someone else's key. 64 bits is
 * enough to name keys, not to resist collisions an attacker searches for; that is fine because
 * the keyring refuses duplicates and only operators add keys. Key files are written and read by
 * ob_keyfile_generate() and ob_keyfile_load() there too.
 */

/* True when s is exactly OB_KEY_ID_LEN lowercase hex characters followed by NUL. Safe on any
 * string (reads at most OB_KEY_ID_LEN + 1 bytes); false for NULL. */
bool ob_key_id_valid(const char *s);

/* True when now_ms is within [not_before, not_after] (each bound inclusive, 0 = open). */
bool ob_key_valid_at(const ob_key *key, int64_t now_ms);

/* ---- secret files --------------------------------------------------------------------------- */

/*
 * Checks that path is a secret file under the rules of common/secretfile.h, a symbolic link
 * refused: a regular file owned by the effective uid with no group or other permission bit.
 * Returns OB_EPERM for a failed check, OB_ENOTFOUND when there is no such file, OB_EIO for other
 * system errors. Does not block except on disk I/O.
 */
OB_NODISCARD ob_err ob_secret_file_check(const char *path, char *err, size_t errlen);

/*
 * Reads a secret of exactly want bytes (1..1024) from path: the file passes the checks of
 * ob_secret_file_check (made on the opened descriptor, so the file checked is the file read)
 * and holds exactly one line of standard padded base64, with or without a final LF or CRLF.
 * OB_EINVAL when the content is anything else or decodes to another length. out is written
 * only on success; every temporary copy is wiped.
 */
OB_NODISCARD ob_err ob_secret_file_read(const char *path, uint8_t *out, size_t want, char *err,
                                        size_t errlen);

/* ---- keyring -------------------------------------------------------------------------------- */

/*
 * The set of keys allowed to log in, parsed from a text file, one key per line:
 *
 *     # comments and blank lines are ignored
 *     KEY_ID ROLE PUBLIC_KEY_BASE64 NOT_BEFORE NOT_AFTER LABEL...
 *     3f2a9c0d1e4b5a68 reviewer 1fW...= 2024-01-01T00:00:00Z - Jeanne Martin (ops)
 *
 * Fields are separated by spaces or tabs. KEY_ID is ob_keyfile_key_id(PUBLIC_KEY) (checked); ROLE a
 * name ob_role_parse accepts; PUBLIC_KEY standard padded base64 of 32 bytes; NOT_BEFORE and
 * NOT_AFTER an RFC 3339 timestamp as ob_time_parse_rfc3339 accepts it (any offset; a bare date
 * is midnight UTC), after 1970-01-01T00:00:00Z, or `-` for open, with NOT_BEFORE <= NOT_AFTER;
 * LABEL the rest of the line, required, printable ASCII, at most 64 bytes once trailing blanks
 * are removed. Lines end with LF (a CR before it is tolerated) and hold at most 1024 bytes; a
 * comment is a line whose first non-blank byte is '#'. At most 10,000 keys, no duplicate id.
 *
 * A keyring is all or nothing: any error refuses the whole text, naming the line and what is
 * wrong, so that a typo never half-loads a keyring. An empty keyring (no key lines) is valid:
 * nobody can log in.
 *
 * Immutable once built and reference counted: any number of threads may call the functions
 * below on it concurrently. To reload (SIGHUP), parse the new file and swap it into an
 * ob_keyring_slot; calls in flight keep the reference they took on the old one.
 */
typedef struct ob_keyring ob_keyring;

#define OB_KEYRING_MAX_KEYS  10000
#define OB_KEYRING_MAX_LINE  1024
#define OB_KEYRING_MAX_BYTES (16 * 1024 * 1024) /* file size refused by ob_keyring_load */

/* Parses text[0..len) (NUL bytes are an error). On success *out is a new keyring with one
 * reference, owned by the caller (ob_keyring_unref). Errors: OB_EINVAL for a malformed line,
 * OB_ETOOBIG for a line over 1024 bytes or more than 10,000 keys, OB_ENOMEM. */
OB_NODISCARD ob_err ob_keyring_parse(const char *text, size_t len, ob_keyring **out, char *err,
                                     size_t errlen);

/* Reads and parses the file at path (symbolic links are followed: a keyring is public data,
 * often a config-management symlink). Whoever can write the keyring can make themselves admin,
 * so it is refused (OB_EPERM) unless it is a regular file owned by the effective uid or root
 * and not group- or world-writable, in a folder (the one it really is in, and the one of the
 * symbolic link if path is one) owned by the effective uid or root and not group- or
 * world-writable either. OB_ENOTFOUND when there is no such file, OB_ETOOBIG for one over
 * OB_KEYRING_MAX_BYTES; err then starts with the path. Blocks on disk I/O. */
OB_NODISCARD ob_err ob_keyring_load(const char *path, ob_keyring **out, char *err, size_t errlen);

/* Takes one more reference to kr and returns it. Any thread. */
ob_keyring *ob_keyring_ref(ob_keyring *kr);

/* Drops one reference; the last one frees the keyring, after which no ob_key pointer obtained
 * from it may be used. Accepts NULL. Any thread. */
void ob_keyring_unref(ob_keyring *kr);

/* Drops the reference that ob_keyring_parse/load returned: the same as ob_keyring_unref, named
 * for the create/destroy pairing. Accepts NULL. */
void ob_keyring_destroy(ob_keyring *kr);

/* The key whose id is key_id[0..16) (not necessarily NUL-terminated), or NULL. O(log n) binary
 * search, no allocation. The pointer lives as long as the caller's reference to kr. */
const ob_key *ob_keyring_find(const ob_keyring *kr, const char key_id[OB_KEY_ID_LEN]);

/* The number of keys, and the i-th in id order (NULL when i >= count): for listing and logs. */
size_t ob_keyring_count(const ob_keyring *kr);
const ob_key *ob_keyring_at(const ob_keyring *kr, size_t i);

/*
 * Where the current keyring lives, for readers on many threads and a reloader. Loading a
 * pointer and then taking a reference is a race on its own (the reloader may drop the last
 * reference between the two), so both happen under a mutex held for a few instructions.
 * init/fini work on caller memory. The slot owns one reference to its keyring.
 */
typedef struct ob_keyring_slot {
	pthread_mutex_t mu;
	ob_keyring *current; /* guarded by mu; may be NULL */
} ob_keyring_slot;

/* Takes over the caller's reference to kr (which may be NULL). */
OB_NODISCARD ob_err ob_keyring_slot_init(ob_keyring_slot *slot, ob_keyring *kr);
/* Drops the slot's reference; only for a slot whose init succeeded. No other thread may use
 * the slot during or after fini. */
void ob_keyring_slot_fini(ob_keyring_slot *slot);
/* A new reference to the current keyring (NULL if none), which the caller unrefs when the call
 * is over. Any thread; never blocks for long. */
ob_keyring *ob_keyring_slot_get(ob_keyring_slot *slot);
/* Installs kr, taking over the caller's reference, and drops the slot's reference to the old
 * keyring (freed once the calls holding it finish). Any thread. */
void ob_keyring_slot_set(ob_keyring_slot *slot, ob_keyring *kr);

/* ---- login ---------------------------------------------------------------------------------- */

/*
 * A caller proves it holds a key by signing, with Ed25519, the message of common/login_message.h
 *     "onboard-login-v2" || 0x00 || key_id (16 ASCII hex) || ts_ms (int64 big-endian) ||
 *     nonce (16 bytes) || n (1 byte) || n times: len (uint16 big-endian) || audience
 * where ts_ms is its current time, nonce is fresh random bytes (randombytes_buf) and the
 * audiences name the server it means to log in to (by default the URLs it dials). The server
 * accepts a signature once, when one of the audiences is one of its own names, and when ts_ms
 * is at most OB_LOGIN_MAX_AGE_MS behind its own clock and at most OB_LOGIN_MAX_AHEAD_MS ahead.
 * Ahead is kept short: a timestamp in the future keeps its nonce in the replay cache longer (until
 * ts + max age), and clocks synchronised by NTP agree within milliseconds; behind allows for slow
 * networks and for clients whose clock lags.
 */
#define OB_LOGIN_MAX_AGE_MS   INT64_C(60000)
#define OB_LOGIN_MAX_AHEAD_MS INT64_C(5000)
#define OB_LOGIN_MAX_ENTRIES  100000 /* default capacity of the replay cache */

/* Client side: signs a login for key_id and audiences[0..n) with the key whose seed is given.
 * OB_EINVAL when key_id is malformed or is not the id of this seed's public key (a
 * misconfigured client finds out here rather than as OB_EAUTH from the server), or when the
 * audiences cannot be signed (ob_login_audiences_valid). The derived secret key is wiped. */
OB_NODISCARD ob_err ob_login_sign(const uint8_t seed[32], const char key_id[OB_KEY_ID_LEN + 1],
                                  int64_t ts_ms, const uint8_t nonce[16],
                                  const char *const *audiences, size_t n, uint8_t sig[64]);

/*
 * Server side: checks logins and remembers the nonces of the ones it accepted, so that each
 * signed request is accepted at most once.
 *
 * The replay cache holds (key id, nonce) pairs until no clock reading could accept their
 * timestamp again, i.e. at most OB_LOGIN_MAX_AGE_MS + OB_LOGIN_MAX_AHEAD_MS (+ 1 s), in memory
 * allocated once at creation: when it is full, logins are refused with OB_ELIMIT rather than
 * forgetting a nonce early (forgetting would reopen replays). Only correctly signed requests
 * are recorded, so a forger cannot fill it. A key holder could, by logging in from many
 * addresses, and so refuse everyone else's logins: each key may therefore hold at most
 * max_per_key entries (its share), past which its own logins are refused (OB_ELIMIT, with the
 * wait until its oldest entry is dropped) while other keys still get in. The rpc layer limits
 * the rate of logins per key and per peer as well (ob_ratelimit).
 *
 * The verifier keeps the latest now_ms it has seen (its high-water mark) and refuses timestamps
 * older than high-water - max age even if now_ms later goes backwards (an NTP step): otherwise
 * a nonce evicted under the later clock could be replayed under the earlier one. The price is
 * that after the clock steps back by more than max age + max ahead, logins fail until it
 * catches up.
 *
 * Thread-safe: any number of threads may call ob_login_verify concurrently; the signature is
 * checked outside the lock, which is held only for the cache lookup and insertion.
 */
typedef struct ob_login_verifier ob_login_verifier;

typedef struct ob_login_config {
	/* Capacity of the replay cache: 0 for OB_LOGIN_MAX_ENTRIES, at most 10,000,000. */
	size_t max_entries;
	/* The most entries one key may hold: 0 for max_entries / 100 (at least 1); at most
	 * max_entries. */
	size_t max_per_key;
	/* This server's names: a login is accepted only when one of its audiences is one of
	 * these (compared byte for byte). At most OB_LOGIN_MAX_SERVER_AUDIENCES, each of 1 to
	 * OB_LOGIN_MAX_AUDIENCE_LEN bytes; copied. None: no login is accepted. */
	const char *const *audiences;
	size_t n_audiences;
} ob_login_config;

#define OB_LOGIN_MAX_SERVER_AUDIENCES 64

/* Creates a verifier as cfg says (NULL: every default, and no audience). OB_EINVAL for a value
 * out of range. Allocates about 100 bytes per entry up front. *out is owned by the caller
 * (ob_login_verifier_destroy). */
OB_NODISCARD ob_err ob_login_verifier_create(const ob_login_config *cfg, ob_login_verifier **out);

/* Frees v; no call may be in progress. Accepts NULL. */
void ob_login_verifier_destroy(ob_login_verifier *v);

/* The number of nonces currently remembered (for metrics and tests). */
size_t ob_login_verifier_size(ob_login_verifier *v);

/* A login as the peer sent it. Every field is the peer's; key_id is any NUL-terminated string
 * or NULL. */
typedef struct ob_login_request {
	const char *key_id;
	int64_t ts_ms;
	const uint8_t *nonce;         /* 16 bytes */
	const uint8_t *sig;           /* 64 bytes */
	const char *const *audiences; /* the servers the login was signed for */
	size_t n_audiences;
} ob_login_request;

/* Which check a login failed, for the caller's error message and the server's log. */
typedef enum {
	OB_LOGIN_ACCEPTED = 0,
	/* OB_EAUTH. A malformed or unknown key id, a key outside its validity period, or a
	 * signature that does not verify. One reason, not three: telling an unknown key from a
	 * bad signature would let anyone probe which key ids the keyring holds (which stolen key
	 * is still worth using, who is staff); the holder of a genuine key knows it is. An
	 * unknown key costs the same signature check as a known one, so that the time taken
	 * does not tell them apart either. */
	OB_LOGIN_BAD_KEY_OR_SIGNATURE,
	/* OB_EAUTH. ts_ms more than max age behind or max ahead ahead of now_ms, or older than
	 * the cache remembers after the server's clock went back. Says nothing about the key. */
	OB_LOGIN_CLOCK_SKEW,
	/* OB_EAUTH. None of the audiences is a name of this server (or they cannot be signed):
	 * the login is for another server, or relayed from one. Says nothing about the key. */
	OB_LOGIN_WRONG_AUDIENCE,
	/* OB_EAUTH. This key id and nonce were accepted already: a replay (or a client that
	 * reused a nonce). Only reported for a valid signature, which only the key holder or
	 * whoever saw the request can produce. */
	OB_LOGIN_REPLAY,
	/* OB_ELIMIT. The key holds its share of the cache (max_per_key). */
	OB_LOGIN_KEY_SHARE_FULL,
	/* OB_ELIMIT. The cache is full. */
	OB_LOGIN_CACHE_FULL,
} ob_login_verdict;

typedef struct ob_login_result {
	const ob_key *key;        /* on OB_OK: the key in kr, valid while kr is */
	ob_login_verdict verdict; /* OB_LOGIN_ACCEPTED on OB_OK, else why */
	uint32_t retry_after_ms;  /* on OB_ELIMIT: the wait until a retry may succeed (>= 1) */
} ob_login_result;

/*
 * Checks one login against keyring kr at the server's time now_ms and fills *out. Returns:
 *   OB_OK       the login is genuine, fresh and first, and was recorded;
 *   OB_EAUTH    refused; out->verdict says which check failed;
 *   OB_ELIMIT   a genuine login that could not be recorded: the key's share or the whole
 *               cache is full (out->verdict, out->retry_after_ms);
 *   OB_EINVAL   now_ms out of range, or v, kr, rq, its nonce or sig, or out NULL (server bugs:
 *               with no keyring loaded, refuse the call before coming here); *out untouched.
 * The signature is verified before the nonce is recorded, so forged requests leave no trace.
 * Does not allocate.
 */
OB_NODISCARD ob_err ob_login_verify(ob_login_verifier *v, const ob_keyring *kr,
                                    const ob_login_request *rq, int64_t now_ms,
                                    ob_login_result *out);

/* A short English phrase for a verdict ("unknown, expired or revoked key, or bad signature").
 * Static; never NULL. */
const char *ob_login_verdict_text(ob_login_verdict verdict);

/* ---- session tokens ------------------------------------------------------------------------- */

/*
 * A session token is the text
 *     "ob1." base64url(payload) "." base64url(tag)          (no padding; 94 characters)
 *     payload = 0x01 || key_id (16 ASCII) || role (1 byte) || issued_ms || expires_ms
 *               (int64 big-endian each; 34 bytes)
 *     tag     = BLAKE2b-256 keyed with the server secret over "onboard-token-v1" || payload
 * A token is a bearer credential for its lifetime: anyone holding it is the key it names.
 * Tokens do not survive a change of secret (a restart with a random secret): callers log in
 * again.
 */
#define OB_TOKEN_LEN        94
#define OB_TOKEN_STR_SIZE   (OB_TOKEN_LEN + 1)
#define OB_TOKEN_MAX_INPUT  256                     /* longer input is refused unread */
#define OB_TOKEN_MAX_TTL_MS (INT64_C(24) * 3600000) /* mint refuses longer lifetimes */
#define OB_TOKEN_SKEW_MS    INT64_C(60000)          /* replicas' clocks may differ this much */

typedef struct ob_token_claims {
	char key_id[OB_KEY_ID_LEN + 1];
	ob_role role; /* the role when the token was minted; ob_token_check_key compares it */
	int64_t issued_ms;
	int64_t expires_ms; /* first instant at which the token is refused */
} ob_token_claims;

/* Holds the server secret, in sodium_malloc'd memory (guard pages, not swapped where mlock is
 * allowed) made read-only after creation. Immutable: any number of threads may mint and verify
 * concurrently. */
typedef struct ob_token_minter ob_token_minter;

/* secret: 32 bytes (e.g. from ob_secret_file_read, so that replicas and restarts accept each
 * other's tokens), copied; or NULL for a random secret (randombytes_buf). The caller wipes its
 * copy. *out is owned by the caller (ob_token_minter_destroy). */
OB_NODISCARD ob_err ob_token_minter_create(const uint8_t *secret, ob_token_minter **out);

/* Wipes the secret and frees m. Accepts NULL. No mint or verify may be in progress. */
void ob_token_minter_destroy(ob_token_minter *m);

/*
 * Mints a token for key at now_ms into out (outlen >= OB_TOKEN_STR_SIZE, NUL-terminated).
 * Expires at now_ms + ttl_ms, or just after the key's NOT_AFTER if that comes first.
 * OB_EINVAL when ttl_ms is not in (0, OB_TOKEN_MAX_TTL_MS], now_ms is out of range, the key is
 * malformed (id, role) or outlen too small; OB_EAUTH when the key is not valid at now_ms.
 */
OB_NODISCARD ob_err ob_token_mint(const ob_token_minter *m, const ob_key *key, int64_t now_ms,
                                  int64_t ttl_ms, char *out, size_t outlen);

/*
 * Checks token (a NUL-terminated peer string; NULL is refused) at now_ms. OB_EAUTH for anything
 * but a well-formed token with a valid tag, issued no later than now_ms + OB_TOKEN_SKEW_MS
 * (clock skew between replicas) and not expired (now_ms < expires_ms): wrong length or prefix,
 * a character outside base64url, non-canonical encoding, unknown version, bad tag (compared in
 * constant time), malformed claims. On OB_OK, *out holds the claims. Reads at most
 * OB_TOKEN_MAX_INPUT + 1 bytes of token; does not allocate.
 *
 * A valid tag only proves the server minted the token: call ob_token_check_key next.
 */
OB_NODISCARD ob_err ob_token_verify(const ob_token_minter *m, const char *token, int64_t now_ms,
                                    ob_token_claims *out);

/* Revocation: OB_OK when the key the claims name is still in kr, valid at now_ms and still has
 * the role of the claims (a role changed in the keyring invalidates its tokens); otherwise
 * OB_EAUTH, also when kr is NULL (no keyring loaded). OB_EINVAL when claims is NULL. Call it on
 * every request, with the keyring reference the request holds. Does not allocate. */
OB_NODISCARD ob_err ob_token_check_key(const ob_token_claims *claims, const ob_keyring *kr,
                                       int64_t now_ms);

/* ---- rate limits ---------------------------------------------------------------------------- */

/*
 * Token buckets keyed by a string (a key id, or a peer address: use the host alone, since a
 * key including the port gives every connection a fresh bucket). Each key may take `burst`
 * requests at once, then `rate_per_s` per second.
 *
 * The table has a fixed number of buckets, set-associative: a key hashes (keyed SipHash, so
 * peers cannot aim at one set) to a set of 8 buckets. When its set is full, a new key takes
 * the bucket that has refilled completely (it is then exactly like a fresh one, so nothing is
 * lost) or else the one idle the longest. Eviction can therefore only ever give a key back its
 * full burst: under heavy churn the limit is approximate, never stricter than configured.
 * Memory is fixed at creation (about 48 bytes per bucket); take never allocates.
 *
 * Thread-safe: each set is guarded by one of 64 striped mutexes.
 */
typedef struct ob_ratelimit ob_ratelimit;

/* rate_per_s in [0.001, 1e6], burst in [1, 1e6], buckets 0 for 4096 or a power of two in
 * [8, 2^24]; OB_EINVAL otherwise. *out is owned by the caller (ob_ratelimit_destroy). */
OB_NODISCARD ob_err ob_ratelimit_create(double rate_per_s, uint32_t burst, size_t buckets,
                                        ob_ratelimit **out);

/* Frees rl; no take may be in progress. Accepts NULL. */
void ob_ratelimit_destroy(ob_ratelimit *rl);

/*
 * Takes one request from key's bucket at now_ms (NULL is the empty key). True when allowed
 * (*retry_after_ms = 0); false when the bucket is empty, with *retry_after_ms the wait until
 * one request will be allowed (>= 1). retry_after_ms may be NULL. A clock going backwards
 * refills nothing.
 */
bool ob_ratelimit_take(ob_ratelimit *rl, const char *key, int64_t now_ms, uint32_t *retry_after_ms);

#endif /* OB_AUTH_AUTH_H */
