#include "rpc/dispatch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/utf8.h"
#include "rpc/pbcheck.h"
#include "rpc/status.h"

/* Each call may allocate at most this much while it is decoded and served:
 * protobuf-c can turn a 64 KiB payload into ~30x as much memory; past the
 * budget the unpack fails instead of growing. */
enum { ARENA_BUDGET = 8 * 1024 * 1024 };

typedef struct {
	ob_handler_fn fn;
	unsigned flags;
	const void *ctx;
	unsigned roles;  /* OB_ALLOW() bits or OB_ALLOW_PUBLIC */
	unsigned number; /* across services: ob_dispatch_n_methods() */
} slot;

typedef struct {
	const ProtobufCServiceDescriptor *sd;
	slot *slots; /* sd->n_methods, in descriptor order */
} service;

struct ob_dispatch {
	service *services;
	size_t n_services;
	size_t n_methods;
	ob_authorize_fn authorize;
	void *authorize_ctx;
};

ob_err ob_dispatch_create(ob_dispatch **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? OB_OK : OB_ENOMEM;
}

void ob_dispatch_destroy(ob_dispatch *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n_services; i++)
		free(d->services[i].slots);
	free(d->services);
	free(d);
}

static service *find_service(const ob_dispatch *d, const char *name, size_t len)
{
	for (size_t i = 0; i < d->n_services; i++) {
		const char *n = d->services[i].sd->name;
		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return &d->services[i];
	}
	return NULL;
}

ob_err ob_dispatch_add_service(ob_dispatch *d, const ProtobufCServiceDescriptor *sd)
{
	if (find_service(d, sd->name, strlen(sd->name)) != NULL)
		return OB_EEXIST;
	service *grown = realloc(d->services, (d->n_services + 1) * sizeof(*grown));
	if (grown == NULL)
		return OB_ENOMEM;
	d->services = grown;
	slot *slots = calloc(sd->n_methods, sizeof(*slots));
	if (slots == NULL && sd->n_methods > 0)
		return OB_ENOMEM;
	for (unsigned i = 0; i < sd->n_methods; i++)
		slots[i].number = (unsigned)(d->n_methods + i);
	d->n_methods += sd->n_methods;
	d->services[d->n_services++] = (service){.sd = sd, .slots = slots};
	return OB_OK;
}

ob_err ob_dispatch_register_method(ob_dispatch *d, const ProtobufCServiceDescriptor *sd,
                                   const ob_method *m)
{
	service *s = find_service(d, sd->name, strlen(sd->name));
	if (s == NULL)
		return OB_ENOTFOUND;
	const ProtobufCMethodDescriptor *md =
	        protobuf_c_service_descriptor_get_method_by_name(sd, m->name);
	if (md == NULL)
		return OB_ENOTFOUND;
	slot *sl = &s->slots[md - sd->methods];
	sl->fn = m->fn;
	sl->flags = m->flags;
	sl->ctx = m->ctx;
	return OB_OK;
}

ob_err ob_dispatch_register(ob_dispatch *d, const ProtobufCServiceDescriptor *sd, const char *name,
                            ob_handler_fn fn, unsigned flags)
{
	const ob_method m = {.name = name, .fn = fn, .flags = flags};
	return ob_dispatch_register_method(d, sd, &m);
}

ob_err ob_dispatch_add_methods(ob_dispatch *d, const ProtobufCServiceDescriptor *sd,
                               const ob_method *methods, size_t n)
{
	ob_err err = ob_dispatch_add_service(d, sd);
	for (size_t i = 0; err == OB_OK && i < n; i++)
		err = ob_dispatch_register_method(d, sd, &methods[i]);
	return err;
}

static const ProtobufCMethodDescriptor *find_method(const ob_dispatch *d, const char *full,
                                                    const slot **sl);

ob_err ob_dispatch_allow(ob_dispatch *d, const char *full_name, unsigned roles)
{
	const slot *sl = NULL;
	if (find_method(d, full_name, &sl) == NULL)
		return OB_ENOTFOUND;
	((slot *)sl)->roles = roles;
	return OB_OK;
}

ob_err ob_dispatch_mark(ob_dispatch *d, const char *full_name, unsigned flags)
{
	const slot *sl = NULL;
	if (find_method(d, full_name, &sl) == NULL)
		return OB_ENOTFOUND;
	((slot *)sl)->flags |= flags;
	return OB_OK;
}

/* A varint at *p (before end), or false. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

bool ob_dispatch_is_quick(const ob_dispatch *d, const uint8_t *req, size_t len)
{
	const uint8_t *p = req, *end = req + len;
	while (p < end) {
		uint64_t tag, n;
		if (!read_varint(&p, end, &tag))
			return false;
		switch (tag & 7) {
		case 0:
			if (!read_varint(&p, end, &n))
				return false;
			break;
		case 2:
			if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p))
				return false;
			if (tag >> 3 == 2) { /* Request.method */
				char name[256];
				if (n >= sizeof(name) || memchr(p, '\0', (size_t)n) != NULL)
					return false;
				memcpy(name, p, (size_t)n);
				name[n] = '\0';
				const slot *sl = NULL;
				return find_method(d, name, &sl) != NULL && sl->fn != NULL &&
				       (sl->flags & OB_METHOD_QUICK);
			}
			p += n;
			break;
		case 1:
			if (end - p < 8)
				return false;
			p += 8;
			break;
		case 5:
			if (end - p < 4)
				return false;
			p += 4;
			break;
		default:
			return false;
		}
	}
	return false;
}

void ob_dispatch_set_authorizer(ob_dispatch *d, ob_authorize_fn fn, void *ctx)
{
	d->authorize = fn;
	d->authorize_ctx = ctx;
}

size_t ob_dispatch_n_services(const ob_dispatch *d)
{
	return d->n_services;
}

const ProtobufCServiceDescriptor *ob_dispatch_service(const ob_dispatch *d, size_t i)
{
	return i < d->n_services ? d->services[i].sd : NULL;
}

size_t ob_dispatch_n_methods(const ob_dispatch *d)
{
	return d->n_methods;
}

void ob_dispatch_method_name(const ob_dispatch *d, size_t i, char *buf, size_t n)
{
	if (n > 0)
		buf[0] = '\0';
	for (size_t k = 0; k < d->n_services; k++) {
		const ProtobufCServiceDescriptor *sd = d->services[k].sd;
		if (i < sd->n_methods) {
			snprintf(buf, n, "/%s/%s", sd->name, sd->methods[i].name);
			return;
		}
		i -= sd->n_methods;
	}
}
/* Everything but the arena to its starting value. */
static void clear(ob_call *call, void *env, size_t max_request_bytes)
{
	ob_arena arena = call->arena;
	memset(call, 0, sizeof(*call));
	call->arena = arena;
	call->arena.pb.allocator_data = &call->arena;
	call->env = env;
	call->max_request_bytes = max_request_bytes;
	call->method = "";
	call->peer = "";
	call->peer_host = "";
	call->peer_uid = -1;
	call->slot = -1;
}

void ob_call_init(ob_call *call, void *env, size_t max_request_bytes)
{
	ob_arena_init(&call->arena, ARENA_BUDGET);
	clear(call, env, max_request_bytes);
}

void ob_call_reset(ob_call *call)
{
	ob_arena_reset(&call->arena);
	clear(call, call->env, call->max_request_bytes);
}

void ob_call_fini(ob_call *call)
{
	if (call != NULL)
		ob_arena_fini(&call->arena);
}

ob_err ob_call_fail(ob_call *call, ob_err err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ob_utf8_trim_cut(buf);
	call->message = ob_arena_strdup(&call->arena, buf);
	call->err = err;
	return err;
}

void ob_call_violation(ob_call *call, const char *field, const char *fmt, ...)
{
	if (call->n_violations >= OB_MAX_VIOLATIONS) {
		call->n_violations++;
		return;
	}
	if (call->violations == NULL) {
		call->violations =
		        ob_arena_alloc(&call->arena, OB_MAX_VIOLATIONS * sizeof(*call->violations));
		if (call->violations == NULL)
			return;
	}
	Onboard__V1__FieldViolation *v =
	        ob_arena_message(&call->arena, &onboard__v1__field_violation__descriptor);
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ob_utf8_trim_cut(buf);
	if (v == NULL || (v->field = ob_arena_strdup(&call->arena, field)) == NULL ||
	    (v->description = ob_arena_strdup(&call->arena, buf)) == NULL)
		return;
	call->violations[call->n_violations++] = v;
}

bool ob_call_expired(const ob_call *call)
{
	return call->deadline_us != 0 && ob_clock_mono_us() >= call->deadline_us;
}

static bool metadata_key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > OB_MAX_METADATA_KEY)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return false;
	}
	return true;
}

/* Printable ASCII, as ids are copied into logs and replies. */
static bool token_ok(const char *v, size_t max)
{
	size_t n = strlen(v);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] <= ' ' || v[i] > '~')
			return false;
	return true;
}

/* Keeps the value of a metadata key the pipeline reads (others are ignored),
 * once, if it is printable ASCII of a sane length. */
static ob_err take_metadata(ob_call *call, const char *key, const char *value)
{
	const char **dst = NULL;
	size_t max = 128;
	if (strcmp(key, "request-id") == 0)
		dst = &call->request_id;
	else if (strcmp(key, "idempotency-key") == 0)
		dst = &call->idempotency_key;
	else if (strcmp(key, "authorization") == 0)
		dst = &call->authorization, max = OB_MAX_METADATA_VALUE;
	if (dst == NULL)
		return OB_OK;
	if (*dst != NULL)
		return ob_call_fail(call, OB_EINVAL, "metadata '%s' given twice", key);
	if (!token_ok(value, max))
		return ob_call_fail(call, OB_EINVAL,
		                    "metadata '%s' must be 1-%zu printable ASCII characters", key,
		                    max);
	*dst = value;
	return OB_OK;
}

static ob_err read_metadata(ob_call *call, const Onboard__V1__Request *rq)
{
	if (rq->n_metadata > OB_MAX_METADATA)
		return ob_call_fail(call, OB_EINVAL, "too many metadata entries (%zu, at most %d)",
		                    rq->n_metadata, OB_MAX_METADATA);
	for (size_t i = 0; i < rq->n_metadata; i++) {
		const Onboard__V1__MetadataEntry *e = rq->metadata[i];
		if (!metadata_key_ok(e->key))
			return ob_call_fail(
			        call, OB_EINVAL,
			        "metadata key %zu must be 1-%d characters of [a-z0-9-_.]", i,
			        OB_MAX_METADATA_KEY);
		if (strlen(e->value) > OB_MAX_METADATA_VALUE)
			return ob_call_fail(call, OB_EINVAL,
			                    "metadata value of '%s' is longer than %d bytes",
			                    e->key, OB_MAX_METADATA_VALUE);
		ob_err err = take_metadata(call, e->key, e->value);
		if (err != OB_OK)
			return err;
	}
	return OB_OK;
}

static const ProtobufCMethodDescriptor *find_method(const ob_dispatch *d, const char *full,
                                                    const slot **sl)
{
	/* "/package.Service/Method" */
	if (full[0] != '/')
		return NULL;
	const char *svc = full + 1;
	const char *slash = strchr(svc, '/');
	if (slash == NULL)
		return NULL;
	service *s = find_service(d, svc, (size_t)(slash - svc));
	if (s == NULL)
		return NULL;
	const ProtobufCMethodDescriptor *md =
	        protobuf_c_service_descriptor_get_method_by_name(s->sd, slash + 1);
	if (md != NULL)
		*sl = &s->slots[md - s->sd->methods];
	return md;
}

/* The envelope of a request: size cap, strict validation of its wire format, unpack into
 * the call's arena, metadata, version, deadline. NULL after failing the call. */
static Onboard__V1__Request *open_envelope(ob_call *call, const uint8_t *req, size_t len)
{
	ob_pbcheck_error pe;
	if (len > call->max_request_bytes) {
		ob_call_fail(call, OB_ETOOBIG,
		             "request of %zu bytes is over the limit of %zu bytes", len,
		             call->max_request_bytes);
		return NULL;
	}
	if (ob_pbcheck(&onboard__v1__request__descriptor, req, len, &pe) != OB_OK) {
		ob_call_fail(call, OB_EINVAL, "malformed envelope: %s%s%s", pe.field,
		             pe.field[0] != '\0' ? ": " : "", pe.description);
		return NULL;
	}
	Onboard__V1__Request *rq = (Onboard__V1__Request *)protobuf_c_message_unpack(
	        &onboard__v1__request__descriptor, &call->arena.pb, len, req);
	if (rq == NULL) {
		ob_call_fail(call, OB_EINVAL, "malformed envelope: not a valid Request");
		return NULL;
	}
	call->method = rq->method;
	if (read_metadata(call, rq) != OB_OK)
		return NULL;
	if (rq->version != OB_ENVELOPE_VERSION) {
		ob_call_fail(call, OB_EINVAL,
		             "envelope version %u is not supported; this server speaks %d",
		             rq->version, OB_ENVELOPE_VERSION);
		return NULL;
	}
	if (rq->timeout_ms != 0)
		call->deadline_us = call->arrived_us + (int64_t)rq->timeout_ms * 1000;
	return rq;
}

/* The method of rq, if it may run now (not draining, deadline not passed, implemented),
 * and for whom (the authorizer, before anything of the request is decoded). */
static ob_err admit(const ob_dispatch *d, ob_call *call, const ob_call_input *rq,
                    const ProtobufCMethodDescriptor **md, const slot **sl)
{
	*md = find_method(d, rq->method, sl);
	if (*md == NULL)
		return ob_call_fail(call, OB_ENOTSUP,
		                    "unknown method '%.*s'; 'onboard methods' lists them",
		                    ob_utf8_prefix(rq->method, 128), rq->method);
	call->slot = (int)(*sl)->number;
	if (call->draining && !((*sl)->flags & OB_METHOD_SERVE_WHILE_DRAINING)) {
		call->retry_after_ms = 1000;
		return ob_call_fail(call, OB_EUNAVAIL, "the server is shutting down; retry");
	}
	if (ob_call_expired(call))
		return ob_call_fail(call, OB_ETIMEDOUT,
		                    "the deadline of %u ms passed before the call could run",
		                    rq->timeout_ms);
	if ((*sl)->fn == NULL)
		return ob_call_fail(call, OB_ENOTSUP, "%s is not implemented yet", rq->method);
	ob_err err;
	if (d->authorize != NULL && !((*sl)->roles & OB_ALLOW_PUBLIC) &&
	    (err = d->authorize(d->authorize_ctx, call, (*sl)->roles)) != OB_OK)
		return call->err == err ? err : ob_call_fail(call, err, "%s", ob_strerror(err));
	return OB_OK;
}

/* The method's message, checked as strictly as the envelope, into the call's arena; its
 * bytes as they came stay in call->payload. */
static ob_err decode_payload(ob_call *call, const ProtobufCMethodDescriptor *md,
                             const ProtobufCBinaryData *payload, ProtobufCMessage **in)
{
	ob_pbcheck_error pe;
	if (ob_pbcheck(md->input, payload->data, payload->len, &pe) != OB_OK) {
		ob_call_violation(call, pe.field, "%s", pe.description);
		return ob_call_fail(call, OB_EINVAL, "malformed %s: %s%s%s", md->input->name,
		                    pe.field, pe.field[0] != '\0' ? ": " : "", pe.description);
	}
	*in = protobuf_c_message_unpack(md->input, &call->arena.pb, payload->len, payload->data);
	if (*in == NULL)
		return ob_call_fail(call, OB_EINVAL, "malformed %s", md->input->name);
	call->payload = payload->data;
	call->payload_len = payload->len;
	return OB_OK;
}

/* The reply's bytes: packed already by the handler (a replay, or rendered once for the
 * key's record), or out, of the method's output type, packed into the arena. */
static ob_err pack_reply(ob_call *call, const ProtobufCMethodDescriptor *md,
                         const ProtobufCMessage *out, ProtobufCBinaryData *payload)
{
	if (call->reply != NULL) {
		payload->data = (uint8_t *)call->reply;
		payload->len = call->reply_len;
		return OB_OK;
	}
	if (out == NULL || out->descriptor != md->output)
		return ob_call_fail(call, OB_EINTERNAL, "handler returned no %s", md->output->name);
	/* A string the handler could not copy reads "": the reply is not whole. */
	if (call->arena.exhausted)
		return ob_call_fail(call, OB_ENOMEM,
		                    "the reply does not fit the call's memory budget");
	size_t n = protobuf_c_message_get_packed_size(out);
	uint8_t *buf = ob_arena_alloc(&call->arena, n > 0 ? n : 1);
	if (buf == NULL)
		return ob_call_fail(call, OB_ENOMEM, "reply too large");
	protobuf_c_message_pack(out, buf);
	payload->data = buf;
	payload->len = n;
	return OB_OK;
}

/* The pipeline from the method on, for a call whose metadata and deadline are set: what
 * every face shares. The payload of a successful reply is left in *payload. */
static ob_err run_call(const ob_dispatch *d, ob_call *call, const ob_call_input *rq,
                       ProtobufCBinaryData *payload)
{
	const ProtobufCMethodDescriptor *md = NULL;
	const slot *sl = NULL;
	ProtobufCMessage *in = NULL, *out = NULL;
	const uint8_t *bytes = rq->payload;
	size_t n = rq->payload_len;
	ob_err err = admit(d, call, rq, &md, &sl);
	/* Another encoding (the HTTP face's JSON) becomes protobuf only now, for a caller the
	 * authorizer let in. */
	if (err == OB_OK && rq->decode != NULL &&
	    (err = rq->decode(call, md->input, rq->payload, rq->payload_len, &bytes, &n)) !=
	            OB_OK &&
	    call->err != err)
		err = ob_call_fail(call, err, "%s", ob_strerror(err));
	ProtobufCBinaryData body = {n, (uint8_t *)bytes};
	if (err == OB_OK)
		err = decode_payload(call, md, &body, &in);
	if (err != OB_OK)
		return err;
	call->handler_ctx = sl->ctx;
	err = sl->fn(call, in, &out);
	if (err != OB_OK)
		return call->err == err ? err : ob_call_fail(call, err, "%s", ob_strerror(err));
	return pack_reply(call, md, out, payload);
}

/* The envelope's path: the parts of the request from the envelope, then run_call. */
static ob_err run(const ob_dispatch *d, ob_call *call, const uint8_t *req, size_t len,
                  ProtobufCBinaryData *payload)
{
	Onboard__V1__Request *rq = open_envelope(call, req, len);
	if (rq == NULL)
		return call->err;
	const ob_call_input in = {
	        .method = rq->method,
	        .timeout_ms = rq->timeout_ms,
	        .payload = rq->payload.data,
	        .payload_len = rq->payload.len,
	};
	return run_call(d, call, &in, payload);
}

/* The parts' path (ob_dispatch_handle_input): their metadata checked as the envelope's. */
static ob_err run_input(const ob_dispatch *d, ob_call *call, const ob_call_input *in,
                        ProtobufCBinaryData *payload)
{
	call->method = in->method != NULL ? in->method : "";
	static const char *const keys[] = {"request-id", "idempotency-key", "authorization"};
	const char *const values[] = {in->request_id, in->idempotency_key, in->authorization};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ob_err err = values[i] != NULL ? take_metadata(call, keys[i], values[i]) : OB_OK;
		if (err != OB_OK)
			return err;
	}
	if (in->payload_len > call->max_request_bytes)
		return ob_call_fail(call, OB_ETOOBIG,
		                    "request of %zu bytes is over the limit of %zu bytes",
		                    in->payload_len, call->max_request_bytes);
	if (in->timeout_ms != 0)
		call->deadline_us = call->arrived_us + (int64_t)in->timeout_ms * 1000;
	return run_call(d, call, in, payload);
}

/* The response envelope of a call that ended with err. */
static Onboard__V1__Response *respond(ob_call *call, ob_err err, ProtobufCBinaryData payload)
{
	static Onboard__V1__Response oom = {
	        PROTOBUF_C_MESSAGE_INIT(&onboard__v1__response__descriptor),
	        .code = ONBOARD__V1__CODE__RESOURCE_EXHAUSTED,
	        .message = (char *)"out of memory",
	        .request_id = (char *)"",
	};
	call->err = err;
	if (call->request_id == NULL) {
		uint8_t rnd[OB_REQUEST_ID_LEN / 2];
		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(call->request_id_buf, sizeof(call->request_id_buf), rnd,
		               sizeof(rnd));
		call->request_id = call->request_id_buf;
	}
	Onboard__V1__Response *rs =
	        ob_arena_message(&call->arena, &onboard__v1__response__descriptor);
	if (rs == NULL)
		return &oom;
	rs->code = ob_status_from_err(err);
	if (err != OB_OK)
		rs->message = call->message != NULL ? call->message : (char *)ob_strerror(err);
	if (call->n_violations > 0 && call->violations != NULL) {
		rs->field_violations = call->violations;
		rs->n_field_violations = call->n_violations < OB_MAX_VIOLATIONS ? call->n_violations
		                                                                : OB_MAX_VIOLATIONS;
	}
	rs->retry_after_ms = call->retry_after_ms != 0 || err == OB_OK
	                             ? call->retry_after_ms
	                             : ob_status_retry_after_ms(err);
	if (call->request_id != NULL)
		rs->request_id = (char *)call->request_id;
	rs->payload = payload;
	rs->replayed = err == OB_OK && call->replayed;
	return rs;
}

Onboard__V1__Response *ob_dispatch_handle(const ob_dispatch *d, ob_call *call, const uint8_t *req,
                                          size_t len)
{
	ProtobufCBinaryData payload = {0, NULL};
	ob_err err = run(d, call, req, len, &payload);
	return respond(call, err, payload);
}

Onboard__V1__Response *ob_dispatch_handle_input(const ob_dispatch *d, ob_call *call,
                                                const ob_call_input *in)
{
	ProtobufCBinaryData payload = {0, NULL};
	ob_err err = run_input(d, call, in, &payload);
	return respond(call, err, payload);
}

const ProtobufCMethodDescriptor *ob_dispatch_find(const ob_dispatch *d, const char *full_name,
                                                  unsigned *flags)
{
	const slot *sl = NULL;
	const ProtobufCMethodDescriptor *md = find_method(d, full_name, &sl);
	if (md == NULL || sl->fn == NULL)
		return NULL;
	if (flags != NULL)
		*flags = sl->flags;
	return md;
}
