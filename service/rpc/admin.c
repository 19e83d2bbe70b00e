/*
 * onboard.v1.Admin: erasure and export of a contact's personal data, rotation
 * of the master keys, the audit trail, and backups. Converts and calls the domain, as
 * rpc/onboarding.c does; every call of these methods is recorded in the audit
 * trail with who, from where, the application id or a count, and never the
 * personal data itself (an export by e-mail is recorded without the e-mail).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/utf8.h"
#include "domain/domain.h"
#include "onboard/v1/admin.pb-c.h"
#include "rpc/convert.h"
#include "rpc/handlers.h"
#include "rpc/op.h"

typedef ProtobufCMessage msg;

static void record(ob_domain *d, ob_audit_event *e)
{
	ob_err err = ob_domain_audit(d, e);
	if (err != OB_OK)
		ob_log(OB_LOG_WARN, "audit: cannot record %s (%s): %s", e->event, e->detail,
		       ob_strerror(err));
}

void ob_admin_audit_hook(void *ctx, const char *event, const char *principal, const char *peer,
                         const char *detail)
{
	const ob_rpc_env *env = ctx;
	if (env == NULL || env->domain == NULL) {
		ob_log(OB_LOG_WARN, "audit (no store yet): %s by %s from %s: %s",
		       event != NULL ? event : "", principal != NULL ? principal : "-",
		       peer != NULL ? peer : "-", detail != NULL ? detail : "");
		return;
	}
	ob_audit_event e = {0};
	/* detail is often the method a caller sent: any UTF-8, of any length. */
	ob_utf8_copy(e.event, sizeof(e.event), event != NULL ? event : "");
	ob_utf8_copy(e.key_id, sizeof(e.key_id), principal != NULL ? principal : "");
	ob_utf8_copy(e.peer, sizeof(e.peer), peer != NULL ? peer : "");
	ob_utf8_copy(e.detail, sizeof(e.detail), detail != NULL ? detail : "");
	record(env->domain, &e);
}

/* Records a security event for this call; a failure to record is logged but
 * does not undo what was done. */
static void audit(ob_call *call, const char *event, const char *fmt, ...) OB_PRINTF(3, 4);
static void audit(ob_call *call, const char *event, const char *fmt, ...)
{
	const ob_rpc_env *env = call->env;
	ob_audit_event e = {0};
	ob_utf8_copy(e.event, sizeof(e.event), event);
	ob_utf8_copy(e.key_id, sizeof(e.key_id), call->principal != NULL ? call->principal : "");
	ob_utf8_copy(e.peer, sizeof(e.peer), call->peer != NULL ? call->peer : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.detail, sizeof(e.detail), fmt, ap);
	va_end(ap);
	ob_utf8_trim_cut(e.detail);
	record(env->domain, &e);
}

/* ---- EraseContact --------------------------------------------------- */

static ob_err erase(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__EraseContactRequest *in = (const void *)req;
	ob_application a;
	ob_err err = ob_domain_erase(op->domain, &op->who, in->id, in->reason, &a, &op->outcome);
	audit(op->call, "contact.erase", "application %s: %s", in->id,
	      err == OB_OK ? "erased" : ob_strerror(err));
	return ob_op_reply_application(op, err, &a, resp);
}

/* ---- ExportContact -------------------------------------------------- */

static ob_err export_contact(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__ExportContactRequest *in = (const void *)req;
	ob_call *call = op->call;
	ob_application *apps = NULL;
	size_t n = 0;
	int64_t now = ob_clock_now_ms();
	ob_err err =
	        ob_domain_export_contact(op->domain, in->id, in->email, &apps, &n, &op->outcome);
	if (in->id[0] != '\0')
		audit(call, "contact.export", "application %s: %s", in->id,
		      err == OB_OK ? "exported" : ob_strerror(err));
	else
		audit(call, "contact.export", "by e-mail: %zu application%s%s%s", n,
		      n != 1 ? "s" : "", err == OB_OK ? "" : ": ",
		      err == OB_OK ? "" : ob_strerror(err));
	if (err != OB_OK)
		return err;
	Onboard__V1__ContactExport *m =
	        ob_arena_message(&call->arena, &onboard__v1__contact_export__descriptor);
	if (m == NULL ||
	    !ob_pb_applications(&call->arena, apps, n, &m->applications, &m->n_applications)) {
		err = ob_call_fail(call, OB_ENOMEM, "the export is too large for one reply");
	} else {
		m->exported_at = ob_pb_time(&call->arena, now);
		*resp = &m->base;
	}
	ob_applications_free(apps, n);
	return err;
}

/* ---- RotateKeys ----------------------------------------------------- */

/* The reply of a rotation, in ar. */
static Onboard__V1__RotateKeysResponse *rotation_to_pb(ob_arena *ar, const ob_rotation *r)
{
	Onboard__V1__RotateKeysResponse *m =
	        ob_arena_message(ar, &onboard__v1__rotate_keys_response__descriptor);
	if (m == NULL || (m->active_key_id = ob_pb_str(ar, r->kid)) == NULL)
		return NULL;
	m->rewrapped = (uint32_t)r->rewrapped;
	return m;
}

/* Renders the reply stored with a rotation's idempotency key. */
static ob_err render_rotation(void *ctx, const void *reply, uint8_t **out, size_t *len)
{
	Onboard__V1__RotateKeysResponse *m = rotation_to_pb(ctx, reply);
	return ob_op_render(m != NULL ? &m->base : NULL, out, len);
}

/* Idempotent (domain.h): the library's resend after a reconnect, or a caller's retry with
 * its key, gets the first reply and rotates nothing more. */
static ob_err rotate_keys(ob_op *op, const msg *req, msg **resp)
{
	(void)req;
	ob_call *call = op->call;
	if (op->idem.key != NULL)
		op->idem.render = render_rotation;
	ob_rotation r;
	ob_err err = ob_domain_rotate_keys(op->domain, &op->idem, &r, &op->outcome);
	/* Every rotation tried is audited, a replay is not (it did nothing); a server
	 * without a key file (OB_EPRECOND) has nothing to try. */
	if (!r.replayed && r.kid[0] != '\0')
		audit(call, "keys.rotate", "active key %s; %zu re-wrapped, %zu failed%s%s", r.kid,
		      r.rewrapped, r.failed,
		      err == OB_OK ? "" : "; stopped: ", err == OB_OK ? "" : ob_strerror(err));
	else if (!r.replayed && err != OB_EPRECOND)
		audit(call, "keys.rotate", "failed: %s", ob_strerror(err));
	if (err != OB_OK || ob_op_reply_packed(op, &err))
		return err;
	Onboard__V1__RotateKeysResponse *m = rotation_to_pb(&call->arena, &r);
	return ob_op_reply(m != NULL ? &m->base : NULL, resp);
}

/* ---- ListAuditEvents ------------------------------------------------ */

static Onboard__V1__AuditEvent *audit_event_to_pb(ob_arena *ar, const ob_audit_event *ev)
{
	Onboard__V1__AuditEvent *e = ob_arena_message(ar, &onboard__v1__audit_event__descriptor);
	if (e == NULL)
		return NULL;
	e->seq = ev->seq;
	e->at = ob_pb_time(ar, ev->at_ms);
	e->event = ob_pb_str(ar, ev->event);
	e->key_id = ob_pb_str(ar, ev->key_id);
	e->peer = ob_pb_str(ar, ev->peer);
	e->detail = ob_pb_str(ar, ev->detail);
	return e;
}

static ob_err list_audit(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__ListAuditEventsRequest *in = (const void *)req;
	ob_call *call = op->call;
	if (in->page_size > OB_MAX_PAGE_SIZE)
		ob_call_violation(call, "page_size", "at most %d", OB_MAX_PAGE_SIZE);
	/* The token is the last seq returned, bound to nothing: events are only
	 * ever appended, so it stays valid. */
	int64_t after = 0;
	ob_rpc_read_page_token(call, in->page_token, NULL, 0, &after);
	if (call->n_violations > 0)
		return ob_call_fail(call, OB_EINVAL, "invalid audit list request");
	ob_audit_event *ev = NULL;
	size_t n = 0;
	bool more = false;
	ob_err err = ob_domain_audit_list(op->domain, after, in->page_size, &ev, &n, &more,
	                                  &op->outcome);
	if (err != OB_OK)
		return err;
	ob_arena *ar = &call->arena;
	Onboard__V1__ListAuditEventsResponse *m =
	        ob_arena_message(ar, &onboard__v1__list_audit_events_response__descriptor);
	if (m == NULL ||
	    (n > 0 && (m->events = ob_arena_alloc(ar, n * sizeof(*m->events))) == NULL))
		err = OB_ENOMEM;
	for (size_t i = 0; err == OB_OK && i < n; i++)
		if ((m->events[m->n_events++] = audit_event_to_pb(ar, &ev[i])) == NULL)
			err = OB_ENOMEM;
	if (err == OB_OK && more &&
	    (m->next_page_token = ob_pb_page_token(ar, ev[n - 1].seq, NULL, 0)) == NULL)
		err = OB_ENOMEM;
	if (err == OB_OK)
		*resp = &m->base;
	free(ev);
	return err;
}

/* ---- Backup --------------------------------------------------------- */

static ob_err backup(ob_op *op, const msg *req, msg **resp)
{
	const Onboard__V1__BackupRequest *in = (const void *)req;
	ob_call *call = op->call;
	ob_backup b;
	ob_err err = ob_domain_backup(op->domain, in->path, &b, &op->outcome);
	/* Every backup tried is audited: a copy of everything left the store. */
	if (err == OB_OK)
		audit(call, "store.backup", "%llu applications, %llu bytes, key %s: %s",
		      (unsigned long long)b.applications, (unsigned long long)b.bytes,
		      b.master_key_id[0] != '\0' ? b.master_key_id : "(throwaway)", in->path);
	else
		audit(call, "store.backup", "failed (%s): %s", ob_strerror(err), in->path);
	if (err != OB_OK)
		return err;
	Onboard__V1__BackupResponse *m =
	        ob_arena_message(&call->arena, &onboard__v1__backup_response__descriptor);
	if (m == NULL)
		return OB_ENOMEM;
	m->path = ob_pb_str(&call->arena, in->path);
	m->bytes = b.bytes;
	m->applications = b.applications;
	m->taken_at = ob_pb_time(&call->arena, b.taken_at_ms);
	m->master_key_id = ob_pb_str(&call->arena, b.master_key_id);
	m->reminder = ob_pb_str(&call->arena, b.reminder);
	*resp = &m->base;
	return OB_OK;
}

/* The service: a method is a row here and one in rpc/authz.c's table. */
static const ob_op_method methods[] = {
        {"EraseContact", erase, 0},
        {"ExportContact", export_contact, 0},
        {"RotateKeys", rotate_keys, OB_OP_WRITE},
        {"ListAuditEvents", list_audit, 0},
        {"Backup", backup, 0},
};

ob_err ob_admin_register(ob_dispatch *d)
{
	return ob_op_add_service(d, &onboard__v1__admin__descriptor, methods,
	                         sizeof(methods) / sizeof(methods[0]));
}
