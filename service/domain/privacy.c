/*
 * Personal data (GDPR) and security: erasure by crypto-shredding, export of
 * everything held about a contact, rotation of the master key, and the
 * audit trail. The store does the cryptography (domain/store.h); the domain
 * decides what happens, in what transaction, and what the caller is told.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/utf8.h"
#include "crypto/keystore.h"
#include "crypto/vault.h"
#include "domain/domain.h"
#include "domain/internal.h"
#include "domain/store.h"

/* ---- erasure -------------------------------------------------------- */

static const char erased_reason[] = "personal data erased";

typedef struct {
	const char *id;
	const char *reason;
	const char *actor;
	ob_outcome *o;
	bool already;
	ob_application a;
} erase_op;

/* Erases the contact of a (not erased yet) and records it: a new version,
 * a history entry "personal data erased[: reason]". */
static ob_err erase_contact(ob_txn *t, erase_op *x, int64_t now)
{
	ob_application *a = &x->a;
	ob_err err = t->ops->contact_erase(t, a->seq, x->actor, now);
	if (err != OB_OK)
		return err;
	ob_state_change c = {.from = a->state, .to = a->state, .at_ms = now};
	ob_utf8_copy(c.actor, sizeof(c.actor), x->actor);
	ob_utf8_format(c.reason, sizeof(c.reason), "%s%s%s", erased_reason,
	               x->reason[0] ? ": " : "", x->reason);
	a->version++;
	a->updated_at_ms = now;
	err = t->ops->app_update(t, a);
	if (err == OB_OK)
		err = t->ops->history_append(t, a->seq, &c);
	return err;
}

static ob_err erase_txn(ob_txn *t, void *arg)
{
	erase_op *x = arg;
	ob_application *a = &x->a;
	ob_err err = t->ops->app_get(t, x->id, NULL, a);
	if (err == OB_ENOTFOUND) {
		ob_dom_say(x->o, "no application %s", x->id);
		return err;
	}
	if (err != OB_OK)
		return ob_dom_store_failed(x->o, err);
	x->already = a->contact_erased;
	/* An unreadable contact is erased all the same: that is one way out. */
	int64_t now = ob_clock_now_ms();
	if (!x->already)
		err = erase_contact(t, x, now);
	if (err == OB_OK)
		err = ob_dom_decorate(t, a);
	if (err != OB_OK)
		return ob_dom_store_failed(x->o, err);
	if (!x->already) {
		sodium_memzero(&a->contact, sizeof(a->contact));
		a->contact_unreadable = false;
		a->contact_key_missing[0] = '\0';
		a->contact_erased = true;
		a->contact_erased_at_ms = now;
		ob_utf8_copy(a->contact_erased_by, sizeof(a->contact_erased_by), x->actor);
	}
	return OB_OK;
}

ob_err ob_domain_erase(ob_domain *d, const ob_caller *who, const char *id, const char *reason,
                       ob_application *out, ob_outcome *o)
{
	memset(out, 0, sizeof(*out));
	if (!ob_domain_id_ok(id))
		return ob_dom_bad_id(o);
	if (reason == NULL)
		reason = "";
	size_t max = OB_REASON_MAX - (sizeof(erased_reason) - 1) - 2;
	ob_err err = ob_dom_check_length(o, "reason", "reason", reason, max);
	if (err != OB_OK)
		return err;
	erase_op x = {.id = id, .reason = reason, .actor = ob_caller_actor(who), .o = o};
	err = ob_dom_write(d, erase_txn, &x, o);
	if (err != OB_OK) {
		ob_application_fini(&x.a);
		return err;
	}
	if (!x.already) {
		/* The old page images of the row are in the write-ahead log until a
		 * checkpoint copies the new ones over them; do it now. */
		if (d->store->ops->checkpoint(d->store) != OB_OK)
			ob_log(OB_LOG_WARN,
			       "erased application %s; the checkpoint will finish later", id);
		ob_dom_say(o, "the personal data of application %s is erased", id);
	} else {
		ob_dom_say(o, "the personal data of application %s was already erased", id);
	}
	*out = x.a;
	return OB_OK;
}

/* ---- export --------------------------------------------------------- */

void ob_applications_free(ob_application *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		ob_application_fini(&list[i]);
	sodium_memzero(list, n * sizeof(*list));
	free(list);
}

/* The applications of one contact into *list (*count of them): by id, or by
 * the blind index of email. */
static ob_err contact_applications(ob_domain *d, ob_txn *t, const char *id, const char *email,
                                   ob_application **list, size_t *count, ob_outcome *o)
{
	if (email != NULL) {
		uint8_t index[OB_STORE_INDEX_LEN];
		d->store->ops->email_index(d->store, email, index);
		return t->ops->apps_by_email(t, index, list, count);
	}
	*list = calloc(1, sizeof(**list));
	if (*list == NULL)
		return OB_ENOMEM;
	ob_err err = t->ops->app_get(t, id, NULL, *list);
	if (err == OB_OK)
		*count = 1;
	else if (err == OB_ENOTFOUND)
		ob_dom_say(o, "no application %s", id);
	return err;
}

ob_err ob_domain_export_contact(ob_domain *d, const char *id, const char *email,
                                ob_application **out, size_t *n, ob_outcome *o)
{
	*out = NULL;
	*n = 0;
	bool by_id = id != NULL && id[0] != '\0';
	if (by_id && !ob_domain_id_ok(id))
		return ob_dom_bad_id(o);
	bool by_email = email != NULL && email[0] != '\0';
	if (by_id == by_email) {
		ob_violation_add(o, by_id ? "email" : "id", "give an application id or an e-mail");
		ob_dom_say(o, "give either an application id or an e-mail");
		return OB_EINVAL;
	}
	ob_err err = ob_dom_check_length(o, "email", "e-mail", email, OB_EMAIL_MAX);
	if (err != OB_OK)
		return err;
	ob_txn *t;
	if ((err = ob_dom_read(d, &t, o)) != OB_OK)
		return err;
	ob_application *list = NULL;
	size_t count = 0;
	err = contact_applications(d, t, by_id ? id : NULL, by_email ? email : NULL, &list, &count,
	                           o);
	for (size_t i = 0; err == OB_OK && i < count; i++) {
		if (list[i].contact_unreadable)
			err = ob_dom_unreadable(o, &list[i]);
		else
			err = ob_dom_decorate(t, &list[i]);
	}
	t->ops->rollback(t);
	if (err != OB_OK) {
		if (o->message[0] == '\0')
			ob_dom_store_failed(o, err);
		ob_applications_free(list, count);
		return err;
	}
	*out = list;
	*n = count;
	return OB_OK;
}

/* ---- key rotation --------------------------------------------------- */

typedef struct {
	int64_t after;
	int64_t last;
	size_t rewrapped, failed;
} rewrap_op;

static ob_err rewrap_txn(ob_txn *t, void *arg)
{
	rewrap_op *x = arg;
	return t->ops->rewrap_batch(t, x->after, OB_REWRAP_BATCH, &x->rewrapped, &x->failed,
	                            &x->last);
}

_Static_assert((int)OB_KEY_ID_SIZE == (int)OB_VAULT_KID_SIZE, "a master key id");
_Static_assert(sizeof(((ob_application *)0)->contact_key_missing) == OB_KEY_ID_SIZE,
               "a missing master key id");

/* One short write per batch: other writes queue behind a batch, not behind
 * the whole rotation, and reads never wait. */
static ob_err rewrap_all(ob_domain *d, size_t *rewrapped, size_t *failed, ob_outcome *o)
{
	rewrap_op x = {.after = 0};
	for (;;) {
		ob_err err = ob_dom_write(d, rewrap_txn, &x, o);
		if (err != OB_OK)
			return err;
		*rewrapped += x.rewrapped;
		*failed += x.failed;
		if (x.last == x.after)
			return OB_OK;
		x.after = x.last;
	}
}

/*
 * The other instances of a shared store see the new key within
 * OB_KEYSTORE_RECHECK_MS (keystore.h); until then they may still wrap new data
 * keys under the old one, and commit them after the scan passed their rows. So,
 * once that interval and as much again for a write in flight have gone by since
 * the key was published, one more scan from the start re-wraps what was left.
 */
static ob_err rewrap_late(ob_domain *d, int64_t published_us, size_t *rewrapped, size_t *failed,
                          ob_outcome *o)
{
	if (!d->store->ops->shared)
		return OB_OK;
	size_t late = 0, still = 0;
	int64_t until = published_us + 2 * (int64_t)OB_KEYSTORE_RECHECK_MS * 1000;
	for (int64_t left; (left = until - ob_clock_mono_us()) > 0;) {
		struct timespec ts = {.tv_sec = left / 1000000, .tv_nsec = (left % 1000000) * 1000};
		nanosleep(&ts, NULL);
	}
	ob_err err = rewrap_all(d, &late, &still, o);
	*rewrapped += late;
	*failed = still; /* what the first scans could not re-wrap, found again */
	return err;
}

/*
 * Idempotency of a rotation. The new key goes to the key file, outside any
 * transaction, and the re-wrap takes many: a record written with the reply
 * at the end, as other writes do it, would leave a rotation cut by a crash
 * (or a reply lost) without one, and its retry would add a second key. So a
 * rotation with a key first records, durably and before the key file
 * changes, that it begins, under "KEY rotating" (a space, which no client's
 * key holds), with the active key id it starts from. Its retry then finds
 * either the reply (replayed) or that mark: if the active key is no longer
 * the one the mark names, the cut rotation had published its key, and the
 * retry finishes its re-wrap under it instead of rotating again; otherwise
 * it had not, and the retry rotates. The mark stays, and goes with the old
 * records (48 h).
 */
typedef struct {
	const ob_idempotency *idem;
	const char *key;     /* the mark's */
	const char *from;    /* the active key id the rotation starts from */
	const void *subject; /* the reply's: an ob_rotation */
} rotation_rec;

static ob_err mark_txn(ob_txn *t, void *arg)
{
	const rotation_rec *r = arg;
	return t->ops->idem_put(t, r->key, r->idem->request_hash, (const uint8_t *)r->from,
	                        strlen(r->from), ob_clock_now_ms(), NULL);
}

typedef struct {
	const ob_idempotency *idem;
	const ob_rotation *rot;
	ob_outcome *o;
} reply_rec;

static ob_err reply_txn(ob_txn *t, void *arg)
{
	reply_rec *r = arg;
	return ob_dom_idem_record_reply(t, r->idem, r->rot, NULL, ob_clock_now_ms(), r->o);
}

/* What a retry finds: the reply (o->replay set, *replayed), or the mark of a cut rotation
 * (*cut, and the key id it started from in from), or neither. */
static ob_err rotation_begun(ob_domain *d, const ob_idempotency *idem, const char *mark,
                             bool *replayed, bool *cut, char from[OB_KEY_ID_SIZE], ob_outcome *o)
{
	*replayed = *cut = false;
	ob_txn *t;
	ob_err err = ob_dom_read(d, &t, o);
	if (err != OB_OK)
		return err;
	err = ob_dom_idem_check(t, idem, o, replayed);
	uint8_t hash[32], *was = NULL;
	size_t len = 0;
	if (err == OB_OK && !*replayed) {
		err = t->ops->idem_get(t, mark, hash, &was, &len);
		if (err == OB_OK && len < OB_KEY_ID_SIZE) {
			*cut = true;
			memcpy(from, was, len);
			from[len] = '\0';
		} else if (err == OB_OK || err == OB_ENOTFOUND) {
			err = OB_OK; /* none, or not a mark of ours: a fresh rotation */
		}
	}
	free(was);
	t->ops->rollback(t);
	return err != OB_OK && o->message[0] == '\0' ? ob_dom_store_failed(o, err) : err;
}

/* The active master key id now, into kid. */
static void active_kid(ob_domain *d, char kid[OB_KEY_ID_SIZE])
{
	ob_keystore_lease lease;
	const ob_vault *v = ob_keystore_acquire(d->keys, &lease);
	snprintf(kid, OB_KEY_ID_SIZE, "%s", ob_vault_active_key_id(v));
	ob_keystore_release(&lease);
}

/* Publishes a new key into kid, unless a cut rotation of the same idempotency key did
 * (cut, from: rotation_begun), after marking that it begins. */
static ob_err rotate_once(ob_domain *d, const ob_idempotency *idem, const char *mark, bool cut,
                          const char *from, char kid[OB_KEY_ID_SIZE], ob_outcome *o)
{
	char now[OB_KEY_ID_SIZE];
	/* The newest key the key file holds, not the one this instance saw last: a
	 * retry through another instance than the one cut short must find its key,
	 * and not add a second one (keystore.h: several instances). */
	ob_keystore_refresh(d->keys);
	active_kid(d, now);
	if (cut && strcmp(now, from) != 0) {
		ob_log(OB_LOG_INFO,
		       "key rotation: the retry of a rotation cut short; its key %s "
		       "stands, the re-wrap goes on",
		       now);
		snprintf(kid, OB_KEY_ID_SIZE, "%s", now);
		return OB_OK;
	}
	if (idem != NULL && idem->key != NULL && !cut) {
		rotation_rec r = {.idem = idem, .key = mark, .from = now};
		ob_err err = ob_dom_write(d, mark_txn, &r, o);
		if (err != OB_OK)
			return err;
	}
	char why[512] = "";
	ob_err err = ob_keystore_rotate(d->keys, kid, why, sizeof(why));
	if (err != OB_OK) {
		ob_log(OB_LOG_ERROR, "key rotation: %s", why);
		ob_dom_say(o, "key rotation failed: %s", why);
	}
	return err;
}

ob_err ob_domain_rotate_keys(ob_domain *d, const ob_idempotency *idem, ob_rotation *out,
                             ob_outcome *o)
{
	memset(out, 0, sizeof(*out));
	char *kid = out->kid;
	size_t *rewrapped = &out->rewrapped, *failed = &out->failed;
	if (d->keys == NULL || !ob_keystore_can_rotate(d->keys)) {
		ob_dom_say(o, "this server has no master key file (--master-key): nothing to "
		              "rotate");
		return OB_EPRECOND;
	}
	/* Serialised: a second rotation waits for the first one's batches, so
	 * that the two do not re-wrap the same keys twice over and each reports
	 * its own counts; and a repeat of the same key finds the first one's
	 * reply. */
	pthread_mutex_lock(&d->rotate_mu);
	bool keyed = idem != NULL && idem->key != NULL, replayed = false, cut = false;
	char *mark = keyed ? malloc(strlen(idem->key) + sizeof(" rotating")) : NULL;
	char from[OB_KEY_ID_SIZE] = "";
	ob_err err = keyed && mark == NULL ? OB_ENOMEM : OB_OK;
	if (mark != NULL) {
		sprintf(mark, "%s rotating", idem->key);
		err = rotation_begun(d, idem, mark, &replayed, &cut, from, o);
	}
	if (err == OB_OK && !replayed)
		err = rotate_once(d, idem, mark, cut, from, kid, o);
	int64_t published_us = ob_clock_mono_us();
	if (err != OB_OK || replayed) {
		free(mark);
		pthread_mutex_unlock(&d->rotate_mu);
		if (replayed)
			out->replayed = true;
		return err;
	}
	err = rewrap_all(d, rewrapped, failed, o);
	if (err == OB_OK)
		err = rewrap_late(d, published_us, rewrapped, failed, o);
	if (err == OB_OK && keyed) {
		reply_rec r = {.idem = idem, .rot = out, .o = o};
		err = ob_dom_write(d, reply_txn, &r, o);
	}
	free(mark);
	pthread_mutex_unlock(&d->rotate_mu);
	ob_log(OB_LOG_INFO,
	       "key rotation: active master key %s; %zu data keys re-wrapped, %zu failed%s", kid,
	       *rewrapped, *failed,
	       d->store->ops->shared ? "; instances that share the key file took it up: put the "
	                               "file in place on every other machine now (README, "
	                               "\"Several instances\")"
	                             : "");
	if (err != OB_OK)
		return err;
	if (*failed > 0)
		ob_dom_say(o, "%zu data key%s could not be re-wrapped (see the server log)",
		           *failed, *failed > 1 ? "s" : "");
	else
		ob_dom_say(o, "%zu data key%s re-wrapped", *rewrapped, *rewrapped != 1 ? "s" : "");
	return OB_OK;
}

/* ---- audit ---------------------------------------------------------- */

static ob_err audit_txn(ob_txn *t, void *arg)
{
	return t->ops->audit_append(t, arg);
}

ob_err ob_domain_audit(ob_domain *d, const ob_audit_event *e)
{
	ob_audit_event copy = *e;
	if (copy.at_ms == 0)
		copy.at_ms = ob_clock_now_ms();
	ob_outcome o;
	ob_outcome_init(&o);
	ob_err err = ob_dom_write(d, audit_txn, &copy, &o);
	ob_outcome_fini(&o);
	return err;
}

ob_err ob_domain_audit_list(ob_domain *d, int64_t after_seq, size_t page_size, ob_audit_event **out,
                            size_t *n, bool *more, ob_outcome *o)
{
	*out = NULL;
	*n = 0;
	*more = false;
	page_size = ob_dom_page_size(page_size);
	ob_txn *t;
	ob_err err = ob_dom_read(d, &t, o);
	if (err != OB_OK)
		return err;
	err = t->ops->audit_list(t, after_seq, page_size + 1, out, n);
	t->ops->rollback(t);
	if (err != OB_OK)
		return ob_dom_store_failed(o, err);
	if (*n > page_size) {
		*more = true;
		*n = page_size;
	}
	return OB_OK;
}
