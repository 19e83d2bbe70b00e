/*
 * requests.h: the messages of a run and how their replies read.
 *
 * For onboardd a call is an onboard.v1.Request envelope (rpc.proto) packed into an nng
 * message: the method, the -H metadata, the session token when the run logged in, an
 * idempotency-key of its own (the run's id and the call's number, as libonboard-client gives
 * every call one) and the method's request, made here for the built-in scenarios or from
 * --call's template. The echo scenario sends --echo-bytes raw bytes instead.
 *
 * Threads: after setup, ob_load_request_make() and ob_load_reply_read() are called from
 * nng's callback threads, any number at once; the token may be replaced meanwhile
 * (ob_load_requests_set_token(), under its own lock); the known application ids grow under
 * another. Nothing here blocks but on those two locks.
 */
#ifndef OB_LOAD_REQUESTS_H
#define OB_LOAD_REQUESTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "attr.h"
#include "load.h"

enum {
	OB_LOAD_ID_SIZE = 32,     /* an application id (a ULID, 26) with room to spare */
	OB_LOAD_MAX_IDS = 20000,  /* kept for get */
	OB_LOAD_TOKEN_SIZE = 256, /* a session token */
};

typedef struct ob_load_requests {
	const ob_load_config *cfg;
	char cohort[64];     /* the run's cohort; "": the server's default */
	uint32_t siren_base; /* ob_load_siren(): where this run's SIRENs start */
	char run_id[16];     /* the idempotency keys' prefix */
	uint8_t *echo;       /* echo: the bytes sent */
	/* --call with a template without placeholders: the request, packed once. */
	uint8_t *fixed;
	size_t fixed_len;
	/* Application ids for get and {{app_id}}: written under ids_mu, read without it up to
	 * n_ids (published with release order once written). */
	pthread_mutex_t ids_mu;
	char (*ids)[OB_LOAD_ID_SIZE];
	atomic_size_t n_ids;
	bool keep_ids; /* new applications' ids join them (mixed) */
	pthread_mutex_t token_mu;
	char token[OB_LOAD_TOKEN_SIZE]; /* "": none */
} ob_load_requests;

/* How a call ended. */
typedef struct ob_load_verdict {
	int code;   /* 0..16 */
	bool local; /* the client's verdict (no reply, or a reply that is not one) */
	char message[OB_LOAD_MESSAGE_MAX];
} ob_load_verdict;

/* Prepares r for cfg: a random run id and SIREN range, the echo bytes, --call's constant
 * request. Returns 0, or -1 with a message in err. ob_load_requests_fini() in both cases. */
OB_NODISCARD int ob_load_requests_init(ob_load_requests *r, const ob_load_config *cfg, char *err,
                                       size_t errlen);
void ob_load_requests_fini(ob_load_requests *r);

void ob_load_requests_set_token(ob_load_requests *r, const char *token);
/* Adds an id to those get reads (ignored once OB_LOAD_MAX_IDS are known). */
void ob_load_requests_add_id(ob_load_requests *r, const char *id);
size_t ob_load_requests_ids(ob_load_requests *r);

/*
 * The message of call seq, of kind op, into *out (the caller's: nng_msg_free() unless nng
 * takes it). rng is the calling lane's random state (which id to get, {{uuid}}). Returns 0,
 * or -1 with why in err (a template that does not decode, no id to get).
 */
OB_NODISCARD int ob_load_request_make(ob_load_requests *r, ob_load_op op, uint64_t seq,
                                      uint64_t *rng, nng_msg **out, char *err, size_t errlen);

/* The SubmitApplication request of call seq, a new valid company (its SIREN from
 * ob_load_siren()) for r's cohort, packed into buf (cap bytes): its length, or 0 when it does
 * not fit. */
size_t ob_load_submit_request(const ob_load_requests *r, uint64_t seq, uint8_t *buf, size_t cap);

/* Reads reply, the answer to a call of kind op that sent sent bytes: its status code and
 * message into *v. reply stays the caller's. */
void ob_load_reply_read(ob_load_requests *r, ob_load_op op, nng_msg *reply, size_t sent,
                        ob_load_verdict *v);

/* xorshift64*: cheap and good enough to pick calls and ids. */
uint64_t ob_load_rand(uint64_t *state);

#endif
