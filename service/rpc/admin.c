/*
 * onboard.v1.Admin: erasure and export of a contact's personal data, rotation
 * of the master keys, and the audit trail. Converts and calls the domain, as
 * rpc/onboarding.c does; every call of these methods is recorded in the audit
 * trail with who, from where, the application id or a count, and never the
 * personal data itself (an export by e-mail is recorded without the e-mail).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/utf8.h"
#include "domain/domain.h"
#include "onboard/v1/admin.pb-c.h"
#include "rpc/convert.h"
#include "rpc/handlers.h"

typedef ProtobufCMessage msg;

static ob_err no_domain(ob_call *call)
{
	call->retry_after_ms = 1000;
	return ob_call_fail(call, OB_EUNAVAIL, "the store is not open");
}

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

static ob_err erase(ob_call *call, const msg *req, msg **resp)
{
	const Onboard__V1__EraseContactRequest *in = (const void *)req;
	const ob_rpc_env *env = call->env;
	if (env->domain == NULL)
		return no_domain(call);
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application a;
	ob_caller who = ob_rpc_caller(call);
	ob_err err = ob_domain_erase(env->domain, &who, in->id, in->reason, &a, &o);
	audit(call, "contact.erase", "application %s: %s", in->id,
	      err == OB_OK ? "erased" : ob_strerror(err));
	if (err != OB_OK) {
		err = ob_rpc_report(call, err, &o);
		ob_outcome_fini(&o);
		return err;
	}
	ob_outcome_fini(&o);
	Onboard__V1__Application *m = ob_pb_application(&call->arena, &a);
	ob_application_fini(&a);
	if (m == NULL)
		return OB_ENOMEM;
	*resp = &m->base;
	return OB_OK;
}

/* ---- ExportContact -------------------------------------------------- */

static ob_err export_contact(ob_call *call, const msg *req, msg **resp)
{
	const Onboard__V1__ExportContactRequest *in = (const void *)req;
	const ob_rpc_env *env = call->env;
	if (env->domain == NULL)
		return no_domain(call);
	bool by_id = in->id[0] != '\0';
	ob_outcome o;
	ob_outcome_init(&o);
	ob_application *apps = NULL;
	size_t n = 0;
	int64_t now = ob_clock_now_ms();
	ob_err err = ob_domain_export_contact(env->domain, in->id, in->email, &apps, &n, &o);
	if (by_id)
		audit(call, "contact.export", "application %s: %s", in->id,
		      err == OB_OK ? "exported" : ob_strerror(err));
	else
		audit(call, "contact.export", "by e-mail: %zu application%s%s%s", n,
		      n != 1 ? "s" : "", err == OB_OK ? "" : ": ",
		      err == OB_OK ? "" : ob_strerror(err));
	if (err != OB_OK) {
		err = ob_rpc_report(call, err, &o);
		ob_outcome_fini(&o);
		return err;
	}
	ob_outcome_fini(&o);
	Onboard__V1__ContactExport *m =
	        ob_arena_message(&call->arena, &onboard__v1__contact_export__descriptor);
	if (m == NULL || (n > 0 && (m->applications = ob_arena_alloc(
	                                    &call->arena, n * sizeof(*m->applications))) == NULL)) {
		ob_applications_free(apps, n);
		return OB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		Onboard__V1__Application *am = ob_pb_application(&call->arena, &apps[i]);
		if (am == NULL) {
			ob_applications_free(apps, n);
			return ob_call_fail(call, OB_ENOMEM,
			                    "the export is too large for one reply");
		}
		m->applications[m->n_applications++] = am;
	}
	ob_applications_free(apps, n);
	m->exported_at = ob_pb_time(&call->arena, now);
	*resp = &m->base;
	return OB_OK;
}

/* ---- RotateKeys ----------------------------------------------------- */

static ob_err rotate_keys(ob_call *call, const msg *req, msg **resp)
{
	(void)req;
	const ob_rpc_env *env = call->env;
	if (env->domain == NULL)
		return no_domain(call);
	Onboard__V1__RotateKeysResponse *m =
	        ob_arena_message(&call->arena, &onboard__v1__rotate_keys_response__descriptor);
	if (m == NULL)
		return OB_ENOMEM;
	char kid[OB_KEY_ID_SIZE];
	size_t rewrapped = 0, failed = 0;
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = ob_domain_rotate_keys(env->domain, kid, &rewrapped, &failed, &o);
	/* Every rotation tried is audited; a server without a key file
	 * (OB_EPRECOND) has nothing to try. */
	if (kid[0] != '\0')
		audit(call, "keys.rotate", "active key %s; %zu re-wrapped, %zu failed%s%s", kid,
		      rewrapped, failed,
		      err == OB_OK ? "" : "; stopped: ", err == OB_OK ? "" : ob_strerror(err));
	else if (err != OB_EPRECOND)
		audit(call, "keys.rotate", "failed: %s", ob_strerror(err));
	if (err != OB_OK) {
		err = ob_rpc_report(call, err, &o);
		ob_outcome_fini(&o);
		return err;
	}
	ob_outcome_fini(&o);
	m->active_key_id = ob_pb_str(&call->arena, kid);
	m->rewrapped = (uint32_t)rewrapped;
	*resp = &m->base;
	return OB_OK;
}

/* ---- ListAuditEvents ------------------------------------------------ */

static ob_err list_audit(ob_call *call, const msg *req, msg **resp)
{
	const Onboard__V1__ListAuditEventsRequest *in = (const void *)req;
	const ob_rpc_env *env = call->env;
	if (env->domain == NULL)
		return no_domain(call);
	if (in->page_size > OB_MAX_PAGE_SIZE)
		ob_call_violation(call, "page_size", "at most %d", OB_MAX_PAGE_SIZE);
	/* The token is the last seq returned; events are only ever appended,
	 * so it stays valid. */
	int64_t after = 0;
	if (in->page_token[0] != '\0') {
		size_t n = 0;
		if (sodium_base642bin((unsigned char *)&after, sizeof(after), in->page_token,
		                      strlen(in->page_token), NULL, &n, NULL,
		                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
		    n != sizeof(after) || after < 0)
			ob_call_violation(call, "page_token", "is not a token this server made");
	}
	if (call->n_violations > 0)
		return ob_call_fail(call, OB_EINVAL, "invalid audit list request");
	ob_outcome o;
	ob_outcome_init(&o);
	ob_audit_event *ev = NULL;
	size_t n = 0;
	bool more = false;
	ob_err err = ob_domain_audit_list(env->domain, after, in->page_size, &ev, &n, &more, &o);
	if (err != OB_OK) {
		err = ob_rpc_report(call, err, &o);
		ob_outcome_fini(&o);
		return err;
	}
	ob_outcome_fini(&o);
	ob_arena *ar = &call->arena;
	Onboard__V1__ListAuditEventsResponse *m =
	        ob_arena_message(ar, &onboard__v1__list_audit_events_response__descriptor);
	if (m == NULL ||
	    (n > 0 && (m->events = ob_arena_alloc(ar, n * sizeof(*m->events))) == NULL)) {
		free(ev);
		return OB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		Onboard__V1__AuditEvent *e =
		        ob_arena_message(ar, &onboard__v1__audit_event__descriptor);
		if (e == NULL) {
			free(ev);
			return OB_ENOMEM;
		}
		e->seq = ev[i].seq;
		e->at = ob_pb_time(ar, ev[i].at_ms);
		e->event = ob_pb_str(ar, ev[i].event);
		e->key_id = ob_pb_str(ar, ev[i].key_id);
		e->peer = ob_pb_str(ar, ev[i].peer);
		e->detail = ob_pb_str(ar, ev[i].detail);
		m->events[m->n_events++] = e;
	}
	if (more) {
		int64_t last = ev[n - 1].seq;
		char *t = ob_arena_alloc(ar, 32);
		if (t == NULL) {
			free(ev);
			return OB_ENOMEM;
		}
		sodium_bin2base64(t, 32, (const unsigned char *)&last, sizeof(last),
		                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		m->next_page_token = t;
	}
	free(ev);
	*resp = &m->base;
	return OB_OK;
}

ob_err ob_admin_register(ob_dispatch *d)
{
	const ProtobufCServiceDescriptor *sd = &onboard__v1__admin__descriptor;
	static const struct {
		const char *name;
		ob_handler_fn fn;
	} methods[] = {
	        {"EraseContact", erase},
	        {"ExportContact", export_contact},
	        {"RotateKeys", rotate_keys},
	        {"ListAuditEvents", list_audit},
	};
	ob_err err = ob_dispatch_add_service(d, sd);
	for (size_t i = 0; err == OB_OK && i < sizeof(methods) / sizeof(methods[0]); i++)
		err = ob_dispatch_register(d, sd, methods[i].name, methods[i].fn, 0);
	return err;
}
