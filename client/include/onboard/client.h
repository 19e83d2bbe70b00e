/*
 * onboard/client.h: libonboard-client, the C client of onboardd.
 *
 * For other services as much as for the onboard CLI. A program links it with
 * `pkg-config --cflags --libs onboard-client`, and reads a cohort's standing so
 * (tests/install/install.sh compiles this example from here, links it against the
 * installed library and runs it against onboardd: keep it exact):
 *
 *     #include <stdio.h>
 *
 *     #include <onboard/client.h>
 *     #include <onboard/v1/onboarding.pb-c.h>
 *
 *     int print_seats(const char *url)
 *     {
 *         const char *urls[] = {url};
 *         char err[256];
 *         ob_client *c;
 *         if (ob_client_open(&c, urls, 1, NULL, err, sizeof(err)) != 0) {
 *             fprintf(stderr, "%s\n", err);
 *             return -1;
 *         }
 *         Onboard__V1__GetCohortRequest rq = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
 *         Onboard__V1__CohortStanding *st = NULL;
 *         ob_result r;
 *         int code = ob_client_call_message(c, "/onboard.v1.Onboarding/GetCohort", NULL, 0,
 *                                           &rq.base, &onboard__v1__cohort_standing__descriptor,
 *                                           (ProtobufCMessage **)&st, 5000, &r);
 *         if (code == OB_CODE_OK) {
 *             printf("%u of %u seats held\n", st->seats_held, st->cohort->capacity);
 *             protobuf_c_message_free_unpacked(&st->base, NULL);
 *         } else {
 *             fprintf(stderr, "GetCohort: %s: %s\n", ob_code_name(code), r.message);
 *         }
 *         ob_result_fini(&r);
 *         ob_client_close(c);
 *         return code;
 *     }
 *
 * Several URLs: nng's REQ socket spreads calls over the connected servers.
 *
 * Resends. nng REQ resends a request that got no reply after
 * NNG_OPT_REQ_RESENDTIME, and again after a reconnect, so one call can reach
 * the server twice. The library turns the timer off (the call's deadline
 * bounds it instead) and, since a resend after a reconnect cannot be turned
 * off, gives every call an idempotency-key (a random one unless the caller
 * passes its own in the metadata): the server answers a repeat with the
 * original reply and no second effect. Read-only methods ignore the key.
 *
 * Reconnecting. nng redials a server that went away, with a backoff of 50 ms
 * to 2 s. nng 1.5.2's dialer gives up for good when a connection fails during
 * its hello (a server that accepts and dies while it restarts), so the library
 * also watches its connections: a URL with no connection and no attempt for
 * 3 s gets a new dialer, until one connects. A call made while no server is
 * up waits for one until its deadline.
 *
 * Threading: an ob_client is safe to use from many threads at once; each call
 * uses its own nng context (and the session token is shared under a lock).
 * Calls block until the reply or the deadline.
 *
 * Ownership: results are owned by the ob_result and freed by ob_result_fini();
 * an unpacked response message from ob_client_call_message() belongs to the
 * caller (protobuf_c_message_free_unpacked(msg, NULL)).
 */
#ifndef ONBOARD_CLIENT_H
#define ONBOARD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the library exports: it is built with -fvisibility=hidden, so that only the
 * functions marked so (and the generated contract of onboard/v1/) are its ABI;
 * tests/install/exports.sh checks the list with nm -D. */
#if defined(__GNUC__)
#define OB_CLIENT_API __attribute__((visibility("default")))
#else
#define OB_CLIENT_API
#endif

/* Status codes: gRPC's, as onboard.v1.Code. */
enum {
	OB_CODE_OK = 0,
	OB_CODE_CANCELLED = 1,
	OB_CODE_UNKNOWN = 2,
	OB_CODE_INVALID_ARGUMENT = 3,
	OB_CODE_DEADLINE_EXCEEDED = 4,
	OB_CODE_NOT_FOUND = 5,
	OB_CODE_ALREADY_EXISTS = 6,
	OB_CODE_PERMISSION_DENIED = 7,
	OB_CODE_RESOURCE_EXHAUSTED = 8,
	OB_CODE_FAILED_PRECONDITION = 9,
	OB_CODE_ABORTED = 10,
	OB_CODE_OUT_OF_RANGE = 11,
	OB_CODE_UNIMPLEMENTED = 12,
	OB_CODE_INTERNAL = 13,
	OB_CODE_UNAVAILABLE = 14,
	OB_CODE_DATA_LOSS = 15,
	OB_CODE_UNAUTHENTICATED = 16,
};

typedef struct ob_client ob_client;

typedef struct ob_client_options {
	/* For tls+tcp:// URLs (PEM files). ca_file verifies the server; cert and
	 * key are sent when the server requires client certificates. */
	const char *tls_ca_file;
	const char *tls_cert_file;
	const char *tls_key_file;
	const char *tls_server_name; /* default: the URL's host */
	/* A key file made by `onboard keygen` (mode 0600). With it, the client
	 * logs in on its first call (one Ed25519 signature), sends the session
	 * token with every call, and logs in again before the token expires or
	 * when the server refuses it. Without it, calls carry no credential
	 * (the server may trust a local ipc peer). */
	const char *key_file;
	/* Do not wait for a first connection in ob_client_open(). */
	bool lazy_connect;
	/* Replies larger than this are refused; default 16 MiB. */
	size_t max_reply_bytes;
	/* Who may serve ipc:// (and abstract://) URLs. A socket file is only a
	 * name: whoever made it first, or can replace it, listens there. Before a
	 * connection carries anything, the library asks the kernel which uid the
	 * listening process runs as (SO_PEERCRED) and closes the connection
	 * unless it is the expected uid or root: by default the caller's
	 * effective uid, or ipc_server_uid when ipc_server_uid_set (a service
	 * running as a user of its own). A refused connection fails
	 * ob_client_open() with "the server socket at PATH is served by uid N,
	 * expected M", and later calls that find no other server with the same
	 * words; nng tries it again every 2 s or so. tcp:// and tls+tcp:// are
	 * not concerned. */
	bool ipc_server_uid_set;
	uint32_t ipc_server_uid;
	/* The server a login with key_file is signed for (its audience), so that
	 * the server that receives it, and no other sharing its keyring, takes
	 * it. Default: the URLs given to ob_client_open (the first 8 of at most
	 * 512 bytes), since the login reaches one of them, which a server takes
	 * as its own when it listens on that URL. Set it (1 to 512 bytes) to a
	 * name the server was given with --audience when it is reached by
	 * another name than it listens on (a wildcard address, a forwarded
	 * port). Never learned from the server: a server could then name
	 * another one and relay the login to it. */
	const char *audience;
} ob_client_options;

typedef struct ob_metadata {
	const char *key;
	const char *value;
} ob_metadata;

typedef struct ob_field_violation {
	char *field;
	char *description;
} ob_field_violation;

typedef struct ob_result {
	/* OB_CODE_*, always 0..16: a server's code outside them is UNKNOWN
	 * (the message then says which code it sent); also set for local
	 * failures. */
	int code;
	bool local;    /* no reply came: could not connect, timed out, bad reply */
	char *message; /* never NULL after a call */
	ob_field_violation *violations;
	size_t n_violations;
	uint32_t retry_after_ms;
	char *request_id;
	uint8_t *payload; /* the response message, packed; NULL if none */
	size_t payload_len;
	/* The server sent the stored reply of an earlier call with the same
	 * idempotency-key (Response.replayed): nothing was done this time. */
	bool replayed;
} ob_result;

/* Opens a client connected to urls (ipc://, tcp://, tls+tcp://). Unless
 * opts->lazy_connect, waits for at least one connection and fails with a
 * message in err (if not NULL, errlen bytes) when none can be made.
 * Returns 0 or -1. */
OB_CLIENT_API int ob_client_open(ob_client **out, const char *const *urls, size_t n_urls,
                                 const ob_client_options *opts, char *err, size_t errlen);
/* Closes the client; calls in flight fail. Accepts NULL. */
OB_CLIENT_API void ob_client_close(ob_client *c);

/* Calls method ("/onboard.v1.Health/Check") with the packed request and the
 * given metadata, waiting at most timeout_ms (<= 0: 10 s). Fills *res, which
 * must be finished with ob_result_fini() whatever the outcome. Returns
 * res->code. */
OB_CLIENT_API int ob_client_call(ob_client *c, const char *method, const ob_metadata *md,
                                 size_t n_md, const void *req, size_t req_len, int64_t timeout_ms,
                                 ob_result *res);
/* Packs req, calls, and on OK unpacks the reply as resp_desc into *resp. */
OB_CLIENT_API int ob_client_call_message(ob_client *c, const char *method, const ob_metadata *md,
                                         size_t n_md, const ProtobufCMessage *req,
                                         const ProtobufCMessageDescriptor *resp_desc,
                                         ProtobufCMessage **resp, int64_t timeout_ms,
                                         ob_result *res);
OB_CLIENT_API void ob_result_fini(ob_result *res);

/* "OK", "INVALID_ARGUMENT"...; "UNKNOWN" for codes outside 0..16. */
OB_CLIENT_API const char *ob_code_name(int code);

#ifdef __cplusplus
}
#endif

#endif
