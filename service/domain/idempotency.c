/*
 * Idempotency keys. nng's REQ resends a request after a reconnect, so the
 * same write can arrive twice: a key sent with a write is stored with the
 * hash of the request and the rendered reply, in the write's transaction; a
 * repeat gets that reply and changes nothing, another request with the same
 * key is refused.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "domain/internal.h"
#include "domain/store.h"

/* Records live at least this long (the contract says 24 h). */
#define IDEM_RETENTION_MS (48LL * 3600 * 1000)

ob_err ob_dom_idem_check(ob_txn *t, const ob_idempotency *idem, ob_outcome *o, bool *replayed)
{
	*replayed = false;
	if (idem == NULL || idem->key == NULL)
		return OB_OK;
	uint8_t hash[32];
	uint8_t *reply = NULL;
	size_t len = 0;
	ob_err err = t->ops->idem_get(t, idem->key, hash, &reply, &len);
	if (err == OB_ENOTFOUND)
		return OB_OK;
	if (err != OB_OK)
		return ob_dom_store_failed(o, err);
	if (sodium_memcmp(hash, idem->request_hash, sizeof(hash)) != 0) {
		free(reply);
		ob_dom_say(o, "the idempotency key was already used for a different request; use a "
		              "new key");
		ob_violation_add(o, "metadata.idempotency-key", "already used for another request");
		return OB_EINVAL;
	}
	o->replay = reply;
	o->replay_len = len;
	*replayed = true;
	return OB_OK;
}

/* The reply shows a's contact: the store seals it under a's data key. */
void ob_dom_forget_rendered(ob_outcome *o)
{
	if (o->rendered != NULL)
		sodium_memzero(o->rendered, o->rendered_len);
	free(o->rendered);
	o->rendered = NULL;
	o->rendered_len = 0;
}

ob_err ob_dom_idem_record(ob_txn *t, const ob_idempotency *idem, const ob_application *a,
                          int64_t now, ob_outcome *o)
{
	return ob_dom_idem_record_reply(t, idem, a, a, now, o);
}

/* Stores reply (malloc'd; owned from here) under idem's key, sealed under
 * a's data key when a is given, and hands it to o (o->rendered). */
static ob_err keep_reply(ob_txn *t, const ob_idempotency *idem, const ob_application *a,
                         uint8_t *reply, size_t len, ob_err err, int64_t now, ob_outcome *o)
{
	if (err == OB_OK)
		err = t->ops->idem_put(t, idem->key, idem->request_hash, reply, len, now, a);
	/* The caller's reply too: rendered once. A write that is run again (its
	 * batch failed) renders again; the outcome keeps the last. */
	ob_dom_forget_rendered(o);
	if (err == OB_OK) {
		o->rendered = reply;
		o->rendered_len = len;
	} else if (reply != NULL) {
		sodium_memzero(reply, len); /* it held the contact in clear */
		free(reply);
	}
	/* Old keys go in small steps, at most once a minute: a purge on every
	 * write showed as a tenth of Submit's cost. */
	static _Atomic int64_t last_purge_ms;
	int64_t last = atomic_load(&last_purge_ms);
	if (err == OB_OK && now - last > 60000 &&
	    atomic_compare_exchange_strong(&last_purge_ms, &last, now))
		err = t->ops->idem_purge(t, now - IDEM_RETENTION_MS, 1000);
	return err;
}

ob_err ob_dom_idem_record_reply(ob_txn *t, const ob_idempotency *idem, const void *subject,
                                const ob_application *a, int64_t now, ob_outcome *o)
{
	if (idem == NULL || idem->key == NULL || idem->render == NULL)
		return OB_OK;
	uint8_t *reply = NULL;
	size_t len = 0;
	ob_err err = idem->render(idem->ctx, subject, &reply, &len);
	return keep_reply(t, idem, a, reply, len, err, now, o);
}

ob_err ob_dom_idem_record_new(ob_txn *t, const ob_idempotency *idem, const ob_application *a,
                              const uint8_t *known, size_t known_len, int64_t now, ob_outcome *o)
{
	if (idem == NULL || idem->key == NULL)
		return OB_OK;
	if (idem->render_new == NULL || known == NULL)
		return ob_dom_idem_record(t, idem, a, now, o);
	uint8_t *decided = NULL, *reply = NULL;
	size_t decided_len = 0, len = 0;
	ob_err err = idem->render_new(idem->ctx, a, true, &decided, &decided_len);
	if (err == OB_OK && (reply = malloc(known_len + decided_len + 1)) == NULL)
		err = OB_ENOMEM;
	if (err == OB_OK) {
		memcpy(reply, known, known_len);
		if (decided_len > 0)
			memcpy(reply + known_len, decided, decided_len);
		len = known_len + decided_len;
	}
	if (decided != NULL)
		sodium_memzero(decided, decided_len);
	free(decided);
	return keep_reply(t, idem, a, reply, len, err, now, o);
}
