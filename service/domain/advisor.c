/*
 * Advisors as people. A cohort's advisors have a name, a region (one of
 * the 18, or "any" for one who follows companies of every region), the
 * languages they speak and how many companies they can follow at once.
 * Administrators add them, change their capacity and set them inactive
 * (an inactive advisor keeps the companies assigned, takes no new one).
 *
 * An approval assigns the least loaded active advisor of the company's
 * region who speaks French (the programme's language with the companies)
 * and has capacity left; failing that, one of any region; failing that,
 * none, and the approval still goes through: the history says which. Staff
 * can reassign, to a named advisor or as an approval would pick.
 *
 * Loads are counts the store keeps, moved in the same write as the
 * assignment: writes are serialised (store.h) and each one re-reads the
 * load when it picks, so no advisor passes its capacity.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/utf8.h"
#include "domain/internal.h"
#include "domain/store.h"

/* The language the programme speaks with the companies. */
#define PROGRAMME_LANGUAGE "fr"

/* The 184 codes of ISO 639-1, two letters each, in order (as Debian's iso-codes
 * package lists them in iso_639-2.json). */
static const char iso639_1[] =
        "aaabaeafakamanarasavayazbabebgbhbibmbnbobrbscacechcocrcscucvcydadedvdzeeeleneoes"
        "eteufafffifjfofrfygagdglgngugvhahehihohrhthuhyhziaidieigiiikioisitiujajvkakgkikj"
        "kkklkmknkokrkskukvkwkylalblglilnloltlulvmgmhmimkmlmnmrmsmtmynanbndnengnlnnnonrnv"
        "nyocojomorospapiplpsptqurmrnrorurwsascsdsesgsiskslsmsnsosqsrssstsusvswtatetgthti"
        "tktltntotrtstttwtyugukuruzvevivowawoxhyiyozazhzu";

/* Whether code (two lower-case letters) is an ISO 639-1 code. */
static bool language_exists(const char code[3])
{
	for (size_t i = 0; i + 1 < sizeof(iso639_1); i += 2)
		if (iso639_1[i] == code[0] && iso639_1[i + 1] == code[1])
			return true;
	return false;
}

/* Whether s is NULL, empty or only white space. */
static bool blank(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

static const char *cohort_or_default(const char *cohort)
{
	return cohort == NULL || cohort[0] == '\0' ? OB_DEFAULT_COHORT : cohort;
}

/* ---- assignment ------------------------------------------------------ */

ob_err ob_dom_assign_advisor(ob_txn *t, const ob_cohort *c, ob_application *a, uint32_t except,
                             const char *verb, char *said, size_t size)
{
	const char *region = a->company.address.region;
	ob_benefits *b = &a->benefits;
	uint32_t n = 0;
	ob_err err = OB_ENOTFOUND;
	if (region[0] != '\0')
		err = t->ops->advisor_pick(t, c->id, region, PROGRAMME_LANGUAGE, except, &n);
	bool elsewhere = err == OB_ENOTFOUND;
	if (elsewhere)
		err = t->ops->advisor_pick(t, c->id, NULL, PROGRAMME_LANGUAGE, except, &n);
	if (err == OB_ENOTFOUND) {
		b->advisor = 0;
		b->advisor_name[0] = '\0';
		snprintf(said, size,
		         "no advisor assigned: no active advisor speaking %s has capacity left",
		         PROGRAMME_LANGUAGE);
		return OB_OK;
	}
	ob_advisor adv;
	if (err == OB_OK)
		err = t->ops->advisor_get(t, c->id, n, &adv);
	if (err == OB_OK)
		err = t->ops->advisor_add(t, c->id, n, 1);
	if (err != OB_OK)
		return err;
	b->advisor = n;
	snprintf(b->advisor_name, sizeof(b->advisor_name), "%s", adv.name);
	if (!elsewhere)
		ob_utf8_format(said, size, "%s: #%u %s (%s)", verb, n, adv.name, adv.region);
	else
		ob_utf8_format(said, size,
		               "%s from another region (no advisor of %s had capacity left): "
		               "#%u %s (%s)",
		               verb, region[0] != '\0' ? region : "the company's region, unknown,",
		               n, adv.name, adv.region);
	return OB_OK;
}

ob_err ob_dom_advisor_name(ob_txn *t, ob_application *a)
{
	a->benefits.advisor_name[0] = '\0';
	if (a->benefits.advisor == 0)
		return OB_OK;
	ob_advisor adv;
	ob_err err = t->ops->advisor_get(t, a->cohort_id, a->benefits.advisor, &adv);
	if (err == OB_OK)
		snprintf(a->benefits.advisor_name, sizeof(a->benefits.advisor_name), "%s",
		         adv.name);
	return err == OB_ENOTFOUND ? OB_OK : err; /* defensive: a number without its row */
}

/* ---- reassignment ------------------------------------------------------ */

static ob_err reassign_change(ob_txn *t, app_op *x, const ob_cohort *c, int64_t now)
{
	ob_application *a = &x->a;
	ob_benefits *b = &a->benefits;
	if (!b->granted || b->revoked ||
	    (a->state != OB_STATE_APPROVED && a->state != OB_STATE_ONBOARDED)) {
		ob_dom_say(x->o, "application %s has no advisor to reassign: it is %s%s", x->id,
		           ob_state_name(a->state), b->revoked ? ", its benefits revoked" : "");
		return OB_EPRECOND;
	}
	uint32_t was = b->advisor;
	char said[OB_REASON_MAX + 1];
	ob_err err;
	if (x->advisor == 0) {
		err = ob_dom_assign_advisor(t, c, a, was, "advisor reassigned", said, sizeof(said));
		if (err != OB_OK)
			return err;
		if (b->advisor == 0) {
			b->advisor = was; /* nothing moved */
			ob_dom_say(x->o,
			           "no other active advisor of cohort %s speaking %s has "
			           "capacity left",
			           c->id, PROGRAMME_LANGUAGE);
			return OB_EPRECOND;
		}
	} else {
		ob_advisor adv;
		err = t->ops->advisor_get(t, c->id, x->advisor, &adv);
		if (err == OB_ENOTFOUND) {
			ob_violation_add(x->o, "advisor", "cohort %s has no advisor %u", c->id,
			                 x->advisor);
			return ob_dom_refuse(x->o, "reassignment");
		}
		if (err != OB_OK)
			return err;
		if (x->advisor == was)
			return OB_OK; /* already there: nothing changes */
		if (!adv.active || adv.load >= adv.capacity) {
			ob_dom_say(x->o, "advisor %u of cohort %s is %s", x->advisor, c->id,
			           !adv.active ? "inactive" : "at capacity");
			return OB_EPRECOND;
		}
		if ((err = t->ops->advisor_add(t, c->id, x->advisor, 1)) != OB_OK)
			return err;
		b->advisor = x->advisor;
		snprintf(b->advisor_name, sizeof(b->advisor_name), "%s", adv.name);
		ob_utf8_format(said, sizeof(said), "advisor reassigned: #%u %s (%s)", adv.number,
		               adv.name, adv.region);
	}
	if (was != 0 && (err = t->ops->advisor_add(t, c->id, was, -1)) != OB_OK)
		return err;
	char reason[OB_REASON_MAX + 1];
	ob_utf8_format(reason, sizeof(reason), "%s, was #%u", said, was);
	return ob_dom_change_state(t, c, a, &x->was, a->state, x->actor, reason, x->note, now);
}

ob_err ob_domain_reassign_advisor(ob_domain *d, const ob_caller *who, const char *id,
                                  uint32_t advisor, const char *note, const ob_idempotency *idem,
                                  ob_application *out, ob_outcome *o)
{
	if (!ob_domain_id_ok(id))
		return ob_dom_bad_id(o);
	ob_err err = ob_dom_check_length(o, "note", "note", note, OB_REASON_MAX);
	if (err != OB_OK)
		return err;
	if (note != NULL && !ob_utf8_valid_text(note, strlen(note))) {
		ob_violation_add(o, "note", "must be UTF-8 text");
		return ob_dom_refuse(o, "reassignment");
	}
	if (advisor > OB_MAX_ADVISORS) {
		ob_violation_add(o, "advisor", "must be 0 (any) or 1..%d", OB_MAX_ADVISORS);
		return ob_dom_refuse(o, "reassignment");
	}
	app_op x = {.change = reassign_change, .advisor = advisor, .note = note}; /* staff */
	return ob_dom_run_app_op(d, &x, id, 0, idem, who, out, o);
}

/* ---- the list --------------------------------------------------------- */

typedef struct advisor_op advisor_op;
struct advisor_op {
	/* What the write does once its key and cohort are checked. */
	ob_err (*change)(ob_txn *t, advisor_op *x);
	ob_advisor *adv; /* in: what to add or change; out: as stored */
	uint32_t capacity;
	int active;
	const ob_idempotency *idem;
	ob_outcome *o;
};

/* Every advisor write: a key already used replays its reply, the cohort must
 * exist, then x->change, whose result (x->adv) is recorded under the key. */
static ob_err advisor_txn(ob_txn *t, void *arg)
{
	advisor_op *x = arg;
	bool replayed;
	ob_err err = ob_dom_idem_check(t, x->idem, x->o, &replayed);
	if (err != OB_OK || replayed)
		return err;
	ob_cohort c;
	err = ob_dom_cohort_get(t, x->adv->cohort_id, &c);
	if (err == OB_ENOTFOUND)
		ob_dom_say(x->o, "no cohort '%s'", x->adv->cohort_id);
	if (err == OB_OK)
		err = x->change(t, x);
	if (err != OB_OK)
		return err;
	return ob_dom_idem_record_reply(t, x->idem, x->adv, NULL, ob_clock_now_ms(), x->o);
}

static ob_err add_change(ob_txn *t, advisor_op *x)
{
	ob_advisor last;
	ob_err err = t->ops->advisor_get(t, x->adv->cohort_id, OB_MAX_ADVISORS, &last);
	if (err == OB_OK) { /* numbers are never reused: the last one is the count */
		ob_dom_say(x->o, "cohort %s has %d advisors, the most it may have",
		           x->adv->cohort_id, OB_MAX_ADVISORS);
		return OB_EPRECOND;
	}
	if (err != OB_ENOTFOUND)
		return err;
	return t->ops->advisor_insert(t, x->adv);
}

/* Checks languages and joins them, lower case, into out ("fr,en"). */
static void check_languages(const char *const *languages, size_t n, ob_outcome *o,
                            char out[OB_MAX_ADVISOR_LANGUAGES * 3])
{
	out[0] = '\0';
	if (n == 0 || n > OB_MAX_ADVISOR_LANGUAGES) {
		ob_violation_add(o, "languages", "must be 1 to %d ISO 639-1 codes",
		                 OB_MAX_ADVISOR_LANGUAGES);
		return;
	}
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		const char *l = languages[i] != NULL ? languages[i] : "";
		char code[3] = {(char)tolower((unsigned char)l[0]), 0, 0};
		if (code[0] != '\0')
			code[1] = (char)tolower((unsigned char)l[1]);
		if (strlen(l) != 2 || !language_exists(code)) {
			ob_violation_add(o, "languages",
			                 "entry %zu is not an ISO 639-1 code (\"fr\")", i + 1);
			continue;
		}
		char padded[OB_MAX_ADVISOR_LANGUAGES * 3 + 2];
		snprintf(padded, sizeof(padded), ",%s,", out);
		char want[5] = {',', code[0], code[1], ',', '\0'};
		if (strstr(padded, want) != NULL) {
			ob_violation_add(o, "languages", "\"%s\" is given twice", code);
			continue;
		}
		len += (size_t)snprintf(out + len, OB_MAX_ADVISOR_LANGUAGES * 3 - len, "%s%s",
		                        len > 0 ? "," : "", code);
	}
}

static void check_capacity(uint32_t capacity, ob_outcome *o)
{
	if (capacity < 1 || capacity > OB_MAX_ADVISOR_CAPACITY)
		ob_violation_add(o, "capacity", "must be 1..%d companies", OB_MAX_ADVISOR_CAPACITY);
}

ob_err ob_domain_advisor_add(ob_domain *d, const char *cohort, const char *name, const char *region,
                             const char *const *languages, size_t n_languages, uint32_t capacity,
                             const ob_idempotency *idem, ob_advisor *out, ob_outcome *o)
{
	memset(out, 0, sizeof(*out));
	cohort = cohort_or_default(cohort);
	if (!ob_dom_cohort_id_ok(cohort))
		ob_violation_add(o, "cohort_id", "must be 1-32 characters of a-z, 0-9 and '-'");
	if (name == NULL || blank(name))
		ob_violation_add(o, "name", "is required");
	else if (strlen(name) > OB_ADVISOR_NAME_MAX)
		ob_violation_add(o, "name", "is longer than %d bytes", OB_ADVISOR_NAME_MAX);
	else if (!ob_utf8_valid_text(name, strlen(name)))
		ob_violation_add(o, "name", "must be UTF-8 text");
	if (region == NULL || (strcmp(region, "any") != 0 && !ob_fr_region_exists(region)))
		ob_violation_add(o, "region",
		                 "must be one of the 18 regions' official names "
		                 "(\"Bretagne\", \"Île-de-France\") or \"any\"");
	check_languages(languages, n_languages, o, out->languages);
	check_capacity(capacity, o);
	ob_err err = ob_dom_refuse(o, "advisor");
	if (err != OB_OK)
		return err;
	snprintf(out->cohort_id, sizeof(out->cohort_id), "%s", cohort);
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->region, sizeof(out->region), "%s", region);
	out->capacity = capacity;
	out->active = true;
	advisor_op x = {.change = add_change, .adv = out, .idem = idem, .o = o};
	return ob_dom_write(d, advisor_txn, &x, o);
}

static ob_err update_change(ob_txn *t, advisor_op *x)
{
	ob_advisor *a = x->adv;
	ob_advisor asked = *a; /* advisor_get clears what it reads into */
	ob_err err = t->ops->advisor_get(t, asked.cohort_id, asked.number, a);
	if (err == OB_ENOTFOUND) {
		ob_violation_add(x->o, "number", "cohort %s has no advisor %u", asked.cohort_id,
		                 asked.number);
		return ob_dom_refuse(x->o, "advisor update");
	}
	if (err != OB_OK)
		return err;
	if (x->capacity != 0 && x->capacity < a->load) {
		ob_dom_say(x->o,
		           "advisor %u follows %u companies: the capacity cannot go below that",
		           a->number, a->load);
		return OB_EPRECOND;
	}
	if (x->capacity != 0)
		a->capacity = x->capacity;
	if (x->active >= 0)
		a->active = x->active != 0;
	return t->ops->advisor_update(t, a);
}

ob_err ob_domain_advisor_update(ob_domain *d, const char *cohort, uint32_t number,
                                uint32_t capacity, int active, const ob_idempotency *idem,
                                ob_advisor *out, ob_outcome *o)
{
	memset(out, 0, sizeof(*out));
	cohort = cohort_or_default(cohort);
	if (!ob_dom_cohort_id_ok(cohort))
		ob_violation_add(o, "cohort_id", "must be 1-32 characters of a-z, 0-9 and '-'");
	if (number < 1 || number > OB_MAX_ADVISORS)
		ob_violation_add(o, "number", "must be 1..%d", OB_MAX_ADVISORS);
	if (capacity != 0)
		check_capacity(capacity, o);
	ob_err err = ob_dom_refuse(o, "advisor update");
	if (err != OB_OK)
		return err;
	snprintf(out->cohort_id, sizeof(out->cohort_id), "%s", cohort);
	out->number = number;
	advisor_op x = {.change = update_change,
	                .adv = out,
	                .capacity = capacity,
	                .active = active,
	                .idem = idem,
	                .o = o};
	return ob_dom_write(d, advisor_txn, &x, o);
}

ob_err ob_domain_advisors(ob_domain *d, const char *cohort, ob_advisor **out, size_t *n,
                          ob_outcome *o)
{
	*out = NULL;
	*n = 0;
	cohort = cohort_or_default(cohort);
	if (!ob_dom_cohort_id_ok(cohort)) {
		ob_violation_add(o, "cohort_id", "must be 1-32 characters of a-z, 0-9 and '-'");
		return ob_dom_refuse(o, "advisor listing");
	}
	ob_txn *t;
	ob_err err = ob_dom_read(d, &t, o);
	if (err != OB_OK)
		return err;
	ob_cohort c;
	err = ob_dom_cohort_get(t, cohort, &c);
	if (err == OB_OK)
		err = t->ops->advisor_list(t, cohort, out, n);
	t->ops->rollback(t);
	if (err == OB_ENOTFOUND) {
		ob_dom_say(o, "no cohort '%s'", cohort);
		return err;
	}
	return err == OB_OK ? OB_OK : ob_dom_store_failed(o, err);
}
