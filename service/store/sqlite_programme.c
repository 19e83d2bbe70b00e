/*
 * The programme's webinars in SQLite: the seats booked in each session
 * (webinar_session, one row per cohort, start and topic) and each
 * application's booking (webinar_booking, one row per application). The
 * domain moves both in the same write (domain/webinar.c), so that the count
 * is the number of bookings.
 */
#include <string.h>

#include "store/sqlite_impl.h"

ob_err sq_webinar_booked(ob_txn *base, const char *cohort, int64_t session_ms, ob_topic topic,
                         uint32_t *booked)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_WEBINAR_BOOKED);
	sq_bind_text(s, 1, cohort);
	sqlite3_bind_int64(s, 2, session_ms);
	sqlite3_bind_int(s, 3, (int)topic);
	int64_t v;
	ob_err err = sq_step_int64(t->c, s, &v, "webinar_booked");
	*booked = v > 0 ? (uint32_t)v : 0;
	return err == OB_ENOTFOUND ? OB_OK : err; /* a session nobody booked */
}

ob_err sq_webinar_add(ob_txn *base, const char *cohort, int64_t session_ms, ob_topic topic,
                      int delta)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_WEBINAR_ADD);
	sq_bind_text(s, 1, cohort);
	sqlite3_bind_int64(s, 2, session_ms);
	sqlite3_bind_int(s, 3, (int)topic);
	sqlite3_bind_int(s, 4, delta);
	return sq_step_done(t->c, s, "webinar_add");
}

ob_err sq_booking_get(ob_txn *base, int64_t app_seq, ob_booking *out)
{
	sq_txn *t = sq_txn_of(base);
	memset(out, 0, sizeof(*out));
	PREP(t, ST_BOOKING_GET);
	sqlite3_bind_int64(s, 1, app_seq);
	ob_err err = sq_step_row(t->c, s, "booking_get");
	if (err != OB_OK)
		return err;
	out->session_ms = sqlite3_column_int64(s, 0);
	int topic = sqlite3_column_int(s, 1);
	out->topic = topic > 0 && topic < OB_TOPIC_COUNT ? (ob_topic)topic : OB_TOPIC_MARKETPLACE;
	out->booked_at_ms = sqlite3_column_int64(s, 2);
	out->attended = sqlite3_column_int(s, 3) != 0;
	out->attended_at_ms = sqlite3_column_int64(s, 4);
	sqlite3_reset(s);
	return OB_OK;
}

ob_err sq_booking_put(ob_txn *base, int64_t app_seq, const char *cohort, const ob_booking *b)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_BOOKING_PUT);
	sqlite3_bind_int64(s, 1, app_seq);
	sq_bind_text(s, 2, cohort);
	sqlite3_bind_int64(s, 3, b->session_ms);
	sqlite3_bind_int(s, 4, (int)b->topic);
	sqlite3_bind_int64(s, 5, b->booked_at_ms);
	sqlite3_bind_int(s, 6, b->attended ? 1 : 0);
	sqlite3_bind_int64(s, 7, b->attended_at_ms);
	return sq_step_done(t->c, s, "booking_put");
}

ob_err sq_booking_delete(ob_txn *base, int64_t app_seq)
{
	sq_txn *t = sq_txn_of(base);
	PREP(t, ST_BOOKING_DELETE);
	sqlite3_bind_int64(s, 1, app_seq);
	return sq_step_done(t->c, s, "booking_delete");
}
