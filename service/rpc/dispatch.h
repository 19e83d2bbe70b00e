/*
 * dispatch.h: from envelope bytes to a handler and back.
 *
 * The method table is built from protobuf-c's service descriptors: a service
 * is added with ob_dispatch_add_service(), which creates one slot per method
 * in descriptor order, and handlers are registered into slots by method name.
 * A method without a handler answers UNIMPLEMENTED; a name that is not in any
 * descriptor also answers UNIMPLEMENTED. There is no hand-written switch.
 *
 * ob_dispatch_handle() is the whole request pipeline apart from the socket:
 * size cap, strict envelope and payload validation (rpc/pbcheck.h), bounded
 * unpack into the call's arena, metadata, drain and deadline checks, the
 * handler, and packing of the reply. It is a pure function of its inputs and
 * the handlers, which is what the unit tests and the fuzz target drive.
 *
 * Threading: build the table on one thread before serving; after that
 * ob_dispatch_handle() may run on many threads at once, each with its own call.
 */
#ifndef OB_RPC_DISPATCH_H
#define OB_RPC_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "base/err.h"
#include "onboard/envelope.h" /* OB_ENVELOPE_VERSION */
#include "onboard/v1/rpc.pb-c.h"
#include "rpc/arena.h"

enum {
	OB_DEFAULT_MAX_REQUEST_BYTES = 64 * 1024,
	OB_MAX_METADATA = 32,
	OB_MAX_METADATA_KEY = 64,
	OB_MAX_METADATA_VALUE = 4096,
	OB_MAX_VIOLATIONS = 64,
	OB_REQUEST_ID_LEN = 16, /* a request id the server makes: hex digits */
};

/* Method flags. */
enum {
	OB_METHOD_SERVE_WHILE_DRAINING = 1u << 0, /* health must answer NOT_SERVING */
	/* Short, and never waits for the writer, a lock held across I/O or
	 * another call: the server may run it on the thread that read it
	 * (nng's), saving a hand-over to a worker. Reads of one row or one
	 * cohort; never a write, a list or a login. */
	OB_METHOD_QUICK = 1u << 1,
	/* Reads only: the HTTP face also serves it by GET (Connect's rule for
	 * `idempotency_level = NO_SIDE_EFFECTS`, which the .proto declares). */
	OB_METHOD_NO_SIDE_EFFECTS = 1u << 2,
};

/* Who may call a method (ob_dispatch_allow): a set of roles, bit (1 << role)
 * with the role numbers of auth/auth.h, or OB_ALLOW_PUBLIC. A method nobody
 * is allowed to call is refused to everyone once an authorizer is set. */
#define OB_ALLOW(role)  (1u << (role))
#define OB_ALLOW_PUBLIC (1u << 31)

/* One call in flight. The server initialises the inputs, ob_dispatch_handle()
 * fills in the rest; handlers read the inputs and report through
 * ob_call_fail() and ob_call_violation(). Everything hangs off the arena. */
typedef struct ob_call {
	ob_arena arena;
	/* inputs from the server */
	void *env;             /* the service's state, for handlers */
	const char *peer;      /* for the log: "tcp:1.2.3.4:5", "ipc" */
	int64_t arrived_us;    /* ob_clock_mono_us() at receipt */
	int64_t peer_uid;      /* uid of an ipc peer, -1 when unknown or not ipc */
	const char *peer_host; /* for per-address limits: the peer without its port */
	bool draining;         /* the server is shutting down */
	size_t max_request_bytes;
	/* parsed from the envelope */
	const char *method; /* "" until parsed */
	/* metadata "request-id"; when the caller sent none (or the envelope
	 * could not be read), ob_dispatch_handle() makes one, 16 random hex
	 * digits in request_id_buf, so that every reply (Response.request_id)
	 * and access log line can be told apart and matched. */
	const char *request_id;
	const char *idempotency_key; /* metadata "idempotency-key", or NULL */
	const char *authorization;   /* metadata "authorization", or NULL */
	int64_t deadline_us;         /* monotonic; 0 = none */
	/* The request message's bytes as they came off the wire (in the
	 * arena): what an idempotency key's hash covers, never re-packed. */
	const uint8_t *payload;
	size_t payload_len;
	/* The method's number (ob_dispatch_n_methods), -1 until it is found. */
	int slot;
	/* The ctx of the method's row (ob_method), for its handler. */
	const void *handler_ctx;
	/* set by the authorizer */
	const char *principal; /* key id, "local", or NULL when not authenticated */
	int role;              /* an ob_role of auth/auth.h; 0 = none */
	/* the outcome */
	ob_err err;
	char *message;
	Onboard__V1__FieldViolation **violations;
	size_t n_violations;
	uint32_t retry_after_ms;
	/* Set by a handler whose reply is already packed (a stored reply, or
	 * one rendered for an idempotency record): the bytes, in the arena,
	 * go out as they are instead of *resp; replayed sets Response.replayed. */
	const uint8_t *reply;
	size_t reply_len;
	bool replayed;
	char request_id_buf[OB_REQUEST_ID_LEN + 1];
} ob_call;

/* A handler: req is the unpacked, validated request (in the call's arena);
 * on OB_OK it sets *resp to a response message allocated in the arena
 * (ob_arena_message), or call->reply to the packed bytes of one. On failure it returns the error,
 * usually through ob_call_fail(). Handlers may block (they run on the server's workers),
 * except those flagged OB_METHOD_QUICK. */
typedef ob_err (*ob_handler_fn)(ob_call *call, const ProtobufCMessage *req,
                                ProtobufCMessage **resp);

typedef struct ob_dispatch ob_dispatch;

/* One row of a service's method table: what a new method adds. */
typedef struct ob_method {
	const char *name; /* the short name, "Check" */
	ob_handler_fn fn;
	unsigned flags;  /* OB_METHOD_* */
	const void *ctx; /* call->handler_ctx while fn runs (NULL for most); must outlive d */
} ob_method;

OB_NODISCARD ob_err ob_dispatch_create(ob_dispatch **out);
void ob_dispatch_destroy(ob_dispatch *d);
OB_NODISCARD ob_err ob_dispatch_add_service(ob_dispatch *d, const ProtobufCServiceDescriptor *sd);
/* Registers the row m for sd's method m->name. The service must have been
 * added; OB_ENOTFOUND if it or the method does not exist. */
OB_NODISCARD ob_err ob_dispatch_register_method(ob_dispatch *d,
                                                const ProtobufCServiceDescriptor *sd,
                                                const ob_method *m);
/* The row {name, fn, flags, NULL}. */
OB_NODISCARD ob_err ob_dispatch_register(ob_dispatch *d, const ProtobufCServiceDescriptor *sd,
                                         const char *name, ob_handler_fn fn, unsigned flags);
/* Adds sd and registers the n rows of methods: a service in one call. */
OB_NODISCARD ob_err ob_dispatch_add_methods(ob_dispatch *d, const ProtobufCServiceDescriptor *sd,
                                            const ob_method *methods, size_t n);
/* Sets who may call the method with the full name "/pkg.Service/Method". */
OB_NODISCARD ob_err ob_dispatch_allow(ob_dispatch *d, const char *full_name, unsigned roles);
/* Adds flags to the method full_name ("/pkg.Service/Method") already
 * registered. OB_ENOTFOUND when it is not. Before serving, like the rest. */
OB_NODISCARD ob_err ob_dispatch_mark(ob_dispatch *d, const char *full_name, unsigned flags);

/* Whether the envelope req[0..len) names a method flagged OB_METHOD_QUICK.
 * Reads only the envelope's method field, without unpacking or validating
 * anything (the pipeline does that when it serves it): false for anything
 * it cannot read. Any thread, no allocation. */
bool ob_dispatch_is_quick(const ob_dispatch *d, const uint8_t *req, size_t len);

/* Checks a caller before its request is decoded: sets call->principal and
 * call->role, or fails with OB_EAUTH / OB_EPERM / OB_ELIMIT. Called for
 * every method not OB_ALLOW_PUBLIC, with the method's allowed roles. */
typedef ob_err (*ob_authorize_fn)(void *ctx, ob_call *call, unsigned roles);
/* Without an authorizer (unit tests, fuzzing) every method is open. */
void ob_dispatch_set_authorizer(ob_dispatch *d, ob_authorize_fn fn, void *ctx);
size_t ob_dispatch_n_services(const ob_dispatch *d);
const ProtobufCServiceDescriptor *ob_dispatch_service(const ob_dispatch *d, size_t i);

/* Prepares call for one request; ob_call_fini releases its memory. */
void ob_call_init(ob_call *call, void *env, size_t max_request_bytes);
void ob_call_reset(ob_call *call);
void ob_call_fini(ob_call *call);

/* Runs one request. Returns the response envelope, allocated in the call's
 * arena, valid until ob_call_reset(); never NULL. */
Onboard__V1__Response *ob_dispatch_handle(const ob_dispatch *d, ob_call *call, const uint8_t *req,
                                          size_t len);

/* Turns a request body in another encoding (the HTTP face's JSON) into the
 * protobuf bytes of the method's input type, allocated in the call's arena.
 * Runs after the caller is authorized, before the payload is validated; on
 * failure it reports through ob_call_fail()/ob_call_violation(). */
typedef ob_err (*ob_payload_decode_fn)(ob_call *call, const ProtobufCMessageDescriptor *input,
                                       const uint8_t *body, size_t len, const uint8_t **payload,
                                       size_t *payload_len);

/* What an envelope carries, for a face that brings the parts separately
 * (the HTTP face: the method from the path, the metadata from headers, the
 * timeout from Connect-Timeout-Ms). Strings are borrowed for the call and
 * need not be NUL-free or valid: they are checked as the envelope's
 * metadata is (printable ASCII, lengths). */
typedef struct ob_call_input {
	const char *method;          /* "/pkg.Service/Method" */
	const char *request_id;      /* NULL when absent */
	const char *idempotency_key; /* NULL when absent */
	const char *authorization;   /* a session token, NULL when absent */
	uint32_t timeout_ms;         /* 0: no deadline but call->deadline_us, if the face set one */
	const uint8_t *payload;      /* the method's input, protobuf unless decode is set */
	size_t payload_len;
	ob_payload_decode_fn decode; /* NULL: payload is protobuf already */
} ob_call_input;

/* The pipeline of ob_dispatch_handle() from the metadata on: the same
 * checks, authorizer, handler and packing, one pipeline for every face.
 * Returns the response envelope as ob_dispatch_handle() does; its payload
 * is the reply message packed as protobuf. */
Onboard__V1__Response *ob_dispatch_handle_input(const ob_dispatch *d, ob_call *call,
                                                const ob_call_input *in);

/* The method "/pkg.Service/Method" if d serves it (it has a handler), else
 * NULL; *flags gets its OB_METHOD_* flags. Any thread, no allocation. */
const ProtobufCMethodDescriptor *ob_dispatch_find(const ob_dispatch *d, const char *full_name,
                                                  unsigned *flags);

/* Methods are numbered 0 .. ob_dispatch_n_methods()-1 across services, in
 * the order services were added, for per-method tables (metrics): call->slot
 * is the called method's number once the pipeline found it, else -1. */
size_t ob_dispatch_n_methods(const ob_dispatch *d);
/* The full name of method i into buf ("/pkg.Service/Method"); "" beyond. */
void ob_dispatch_method_name(const ob_dispatch *d, size_t i, char *buf, size_t n);

/* Records err with a message for the caller (printf format; never put
 * personal data in it) and returns err, for `return ob_call_fail(...)`. */
ob_err ob_call_fail(ob_call *call, ob_err err, const char *fmt, ...) OB_PRINTF(3, 4);
/* Adds a field violation (path like "company.siren"). Beyond
 * OB_MAX_VIOLATIONS they are dropped (the message still says what failed). */
void ob_call_violation(ob_call *call, const char *field, const char *fmt, ...) OB_PRINTF(3, 4);
/* True when the call's deadline has passed. */
bool ob_call_expired(const ob_call *call);

#endif
