/*
 * Webinars as bookings. Every session day of a cohort (business days unless
 * the cohort holds sessions on weekends or public holidays: calendar.h) has
 * one session per topic at the cohort's webinar hour, Paris time, each
 * holding the cohort's webinar_seats people. An application holds at most
 * one booking: the applicant books before approval (the webinar is about
 * how to join), moves it or cancels it; an approval without one books the
 * next session of its channel's topic (benefits.c); staff record who came.
 *
 * The seats booked per session are a count the store keeps, moved in the
 * same write as the booking: writes are serialised (store.h), and each
 * re-reads the count before it takes a seat, so that no session is ever
 * booked past its capacity, however many ask at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "domain/calendar.h"
#include "domain/internal.h"
#include "domain/store.h"

enum { SEARCH_DAYS = 3660 }; /* ob_dom_book_next looks ten years ahead */

ob_topic ob_dom_channel_topic(ob_channel ch)
{
	return ch == OB_CHANNEL_OWN_WEBSHOP ? OB_TOPIC_OWN_WEBSHOP : OB_TOPIC_MARKETPLACE;
}

/* The start of c's session on day, in unix ms (whether or not day has one). */
static int64_t session_on(const ob_cohort *c, ob_date day)
{
	return ob_paris_to_unix(day, (int)c->webinar_hour, (int)c->webinar_minute) * 1000;
}

/* Whether at_ms is the start of one of c's sessions. */
static bool is_session(const ob_cohort *c, int64_t at_ms)
{
	ob_date day = ob_paris_date(ob_floor_div(at_ms, 1000));
	return session_on(c, day) == at_ms &&
	       ob_session_day(day, c->webinar_weekends, c->webinar_holidays);
}

/* Takes a seat at (at, topic) if one is left: *taken says whether. */
static ob_err take_seat(ob_txn *t, const ob_cohort *c, int64_t at, ob_topic topic, bool *taken)
{
	uint32_t booked = 0;
	*taken = false;
	ob_err err = t->ops->webinar_booked(t, c->id, at, topic, &booked);
	if (err != OB_OK || booked >= c->webinar_seats)
		return err;
	*taken = true;
	return t->ops->webinar_add(t, c->id, at, topic, 1);
}

/* Gives a the seat it took at (at, topic): frees the seat of the session it
 * held if that has not begun, records the booking, and after approval makes
 * Benefits.webinar_at follow it. */
static ob_err hold(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t at, ob_topic topic,
                   int64_t now)
{
	ob_err err = OB_OK;
	if (a->webinar.session_ms > now)
		err = t->ops->webinar_add(t, c->id, a->webinar.session_ms, a->webinar.topic, -1);
	a->webinar = (ob_booking){.session_ms = at, .topic = topic, .booked_at_ms = now};
	if (a->benefits.granted && !a->benefits.revoked)
		a->benefits.webinar_at_ms = at;
	return err == OB_OK ? t->ops->booking_put(t, a->seq, c->id, &a->webinar) : err;
}

ob_err ob_dom_book_next(ob_txn *t, const ob_cohort *c, ob_application *a, ob_topic topic,
                        int64_t now, bool *booked)
{
	*booked = false;
	int64_t after = now / 1000 + (int64_t)c->webinar_lead_minutes * 60;
	for (uint32_t n = 0; n < SEARCH_DAYS && c->webinar_seats > 0; n++) {
		int64_t at =
		        ob_webinar_session(after, (int)c->webinar_hour, (int)c->webinar_minute, n);
		if (!ob_session_day(ob_paris_date(at), c->webinar_weekends, c->webinar_holidays))
			continue;
		ob_err err = take_seat(t, c, at * 1000, topic, booked);
		if (err != OB_OK || *booked)
			return err == OB_OK ? hold(t, c, a, at * 1000, topic, now) : err;
	}
	return OB_OK;
}

ob_err ob_dom_unbook_future(ob_txn *t, const ob_cohort *c, ob_application *a, int64_t now)
{
	if (a->webinar.session_ms <= now)
		return OB_OK;
	ob_err err = t->ops->webinar_add(t, c->id, a->webinar.session_ms, a->webinar.topic, -1);
	if (err == OB_OK)
		err = t->ops->booking_delete(t, a->seq);
	if (a->benefits.webinar_at_ms == a->webinar.session_ms)
		a->benefits.webinar_at_ms = 0;
	memset(&a->webinar, 0, sizeof(a->webinar));
	return err;
}

/* "webinar booked: MARKETPLACE 2020-11-10T09:00:00.000Z" and the like:
 * the history entry of a change of a's booking, in the same write. */
static ob_err record(ob_txn *t, app_op *x, const ob_cohort *c, const char *what,
                     const ob_booking *b, int64_t now)
{
	char at[OB_RFC3339_STR_SIZE], reason[96];
	ob_time_format_rfc3339(b->session_ms, at);
	snprintf(reason, sizeof(reason), "webinar %s: %s %s", what, ob_topic_name(b->topic), at);
	return ob_dom_change_state(t, c, &x->a, &x->was, x->a.state, x->actor, reason, NULL, now);
}

static ob_err book_change(ob_txn *t, app_op *x, const ob_cohort *c, int64_t now)
{
	ob_application *a = &x->a;
	char day[OB_DATE_STR_SIZE];
	if (ob_state_final(a->state)) {
		ob_dom_say(x->o, "cannot book a webinar for application %s: it is %s", x->id,
		           ob_state_name(a->state));
		return OB_EPRECOND;
	}
	if (x->session_ms == 0) {
		bool booked;
		ob_booking was = a->webinar;
		ob_err err = ob_dom_book_next(t, c, a, x->topic, now, &booked);
		if (err != OB_OK)
			return err;
		if (!booked) {
			ob_dom_say(x->o, "cohort %s has no %s webinar session with a seat left",
			           c->id, ob_topic_name(x->topic));
			return OB_EPRECOND;
		}
		return record(t, x, c, was.session_ms != 0 ? "moved" : "booked", &a->webinar, now);
	}
	if (!is_session(c, x->session_ms)) {
		ob_violation_add(x->o, "session_at",
		                 "is not a session of cohort %s: sessions start at %02u:%02u Paris "
		                 "time on %s",
		                 c->id, c->webinar_hour, c->webinar_minute,
		                 c->webinar_weekends ? "every day" : "business days");
		return ob_dom_refuse(x->o, "webinar booking");
	}
	ob_date last;
	if (!ob_date_parse(c->fee_waiver_until, &last))
		return OB_ECORRUPT; /* defensive: a cohort's date */
	ob_date_format(last, day);
	if (ob_date_cmp(ob_paris_date(x->session_ms / 1000), last) > 0) {
		ob_dom_say(x->o, "the session is after cohort %s's end (%s)", c->id, day);
		return OB_EPRECOND;
	}
	if (x->session_ms / 1000 < now / 1000 + (int64_t)c->webinar_lead_minutes * 60) {
		ob_dom_say(x->o,
		           "the session starts in less than cohort %s's lead time (%u minutes)",
		           c->id, c->webinar_lead_minutes);
		return OB_EPRECOND;
	}
	if (a->webinar.session_ms == x->session_ms && a->webinar.topic == x->topic)
		return OB_OK; /* already there: nothing changes */
	bool taken;
	bool moved = a->webinar.session_ms != 0;
	ob_err err = take_seat(t, c, x->session_ms, x->topic, &taken);
	if (err != OB_OK)
		return err;
	if (!taken) {
		ob_dom_say(x->o, "the session is full (%u seats)", c->webinar_seats);
		return OB_EPRECOND;
	}
	err = hold(t, c, a, x->session_ms, x->topic, now);
	return err == OB_OK ? record(t, x, c, moved ? "moved" : "booked", &a->webinar, now) : err;
}

static ob_err cancel_change(ob_txn *t, app_op *x, const ob_cohort *c, int64_t now)
{
	ob_booking b = x->a.webinar;
	if (b.session_ms == 0) {
		ob_dom_say(x->o, "application %s has no webinar booked", x->id);
		return OB_EPRECOND;
	}
	if (b.session_ms <= now) {
		ob_dom_say(x->o, "application %s's webinar session has begun", x->id);
		return OB_EPRECOND;
	}
	ob_err err = ob_dom_unbook_future(t, c, &x->a, now);
	return err == OB_OK ? record(t, x, c, "cancelled", &b, now) : err;
}

static ob_err attend_change(ob_txn *t, app_op *x, const ob_cohort *c, int64_t now)
{
	ob_booking *b = &x->a.webinar;
	if (b->session_ms == 0 || b->session_ms > now) {
		ob_dom_say(x->o, "application %s has no webinar session that has begun", x->id);
		return OB_EPRECOND;
	}
	b->attended = x->attended;
	b->attended_at_ms = now;
	ob_err err = t->ops->booking_put(t, x->a.seq, c->id, b);
	return err == OB_OK ? record(t, x, c, x->attended ? "attended" : "missed", b, now) : err;
}

ob_err ob_domain_book_webinar(ob_domain *d, const ob_caller *who, const char *id, ob_topic topic,
                              int64_t session_ms, const ob_idempotency *idem, ob_application *out,
                              ob_outcome *o)
{
	if (!ob_domain_id_ok(id))
		return ob_dom_bad_id(o);
	if (topic <= OB_TOPIC_UNSPECIFIED || topic >= OB_TOPIC_COUNT)
		ob_violation_add(o, "topic", "must be MARKETPLACE or OWN_WEBSHOP");
	if (session_ms < 0)
		ob_violation_add(o, "session_at", "must be an RFC 3339 time");
	ob_err err = ob_dom_refuse(o, "webinar booking");
	if (err != OB_OK)
		return err;
	app_op x = {.change = book_change,
	            .owner = ob_dom_owner_of(who),
	            .topic = topic,
	            .session_ms = session_ms};
	return ob_dom_run_app_op(d, &x, id, 0, idem, who, out, o);
}

ob_err ob_domain_cancel_webinar(ob_domain *d, const ob_caller *who, const char *id,
                                const ob_idempotency *idem, ob_application *out, ob_outcome *o)
{
	if (!ob_domain_id_ok(id))
		return ob_dom_bad_id(o);
	app_op x = {.change = cancel_change, .owner = ob_dom_owner_of(who)};
	return ob_dom_run_app_op(d, &x, id, 0, idem, who, out, o);
}

ob_err ob_domain_record_attendance(ob_domain *d, const ob_caller *who, const char *id,
                                   bool attended, const ob_idempotency *idem, ob_application *out,
                                   ob_outcome *o)
{
	if (!ob_domain_id_ok(id))
		return ob_dom_bad_id(o);
	app_op x = {.change = attend_change, .attended = attended}; /* staff: any application */
	return ob_dom_run_app_op(d, &x, id, 0, idem, who, out, o);
}

/* The sessions of c from one day to another into a new list. */
static ob_err sessions_of(ob_txn *t, const ob_cohort *c, ob_date from, ob_date to, ob_topic topic,
                          ob_session **out, size_t *n)
{
	size_t max = (size_t)(ob_days_from_civil(to) - ob_days_from_civil(from) + 1) * 2;
	ob_session *list = calloc(max, sizeof(*list));
	if (list == NULL)
		return OB_ENOMEM;
	ob_err err = OB_OK;
	for (ob_date day = from; err == OB_OK && ob_date_cmp(day, to) <= 0;
	     day = ob_date_add_days(day, 1)) {
		if (!ob_session_day(day, c->webinar_weekends, c->webinar_holidays))
			continue;
		for (int tp = OB_TOPIC_MARKETPLACE; err == OB_OK && tp < OB_TOPIC_COUNT; tp++) {
			if (topic != OB_TOPIC_UNSPECIFIED && topic != (ob_topic)tp)
				continue;
			ob_session *s = &list[(*n)++];
			*s = (ob_session){.at_ms = session_on(c, day),
			                  .topic = (ob_topic)tp,
			                  .seats = c->webinar_seats};
			err = t->ops->webinar_booked(t, c->id, s->at_ms, s->topic, &s->booked);
		}
	}
	if (err != OB_OK) {
		free(list);
		*n = 0;
		return err;
	}
	*out = list;
	return OB_OK;
}

ob_err ob_domain_webinar_sessions(ob_domain *d, const char *cohort, const char *from,
                                  const char *to, ob_topic topic, ob_session **out, size_t *n,
                                  ob_outcome *o)
{
	*out = NULL;
	*n = 0;
	if (cohort == NULL || cohort[0] == '\0')
		cohort = OB_DEFAULT_COHORT;
	ob_date f, l;
	if (!ob_dom_cohort_id_ok(cohort))
		ob_violation_add(o, "cohort_id", "must be 1-32 characters of a-z, 0-9 and '-'");
	bool dates = ob_date_parse(from != NULL ? from : "", &f);
	if (!dates)
		ob_violation_add(o, "from", "must be a date, YYYY-MM-DD");
	if (!ob_date_parse(to != NULL ? to : "", &l)) {
		ob_violation_add(o, "to", "must be a date, YYYY-MM-DD");
		dates = false;
	}
	if (dates && (ob_date_cmp(l, f) < 0 ||
	              ob_days_from_civil(l) - ob_days_from_civil(f) >= OB_MAX_SESSION_DAYS))
		ob_violation_add(o, "to", "must be from 'from' to %d days after it",
		                 OB_MAX_SESSION_DAYS - 1);
	if (topic < OB_TOPIC_UNSPECIFIED || topic >= OB_TOPIC_COUNT)
		ob_violation_add(o, "topic", "must be MARKETPLACE, OWN_WEBSHOP or unspecified");
	ob_err err = ob_dom_refuse(o, "session listing");
	if (err != OB_OK)
		return err;
	ob_txn *t;
	if ((err = ob_dom_read(d, &t, o)) != OB_OK)
		return err;
	ob_cohort c;
	err = ob_dom_cohort_get(t, cohort, &c);
	if (err == OB_OK)
		err = sessions_of(t, &c, f, l, topic, out, n);
	t->ops->rollback(t);
	if (err == OB_ENOTFOUND) {
		ob_dom_say(o, "no cohort '%s'", cohort);
		return err;
	}
	return err == OB_OK ? OB_OK : ob_dom_store_failed(o, err);
}
