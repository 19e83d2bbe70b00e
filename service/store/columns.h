/*
 * columns.h: the column lists of the stores' rows, shared by the SQLite store
 * (sqlite_impl.h) and the PostgreSQL one (pg_impl.h), since both keep the same
 * tables with the same columns. Not an interface: each store defines how a
 * KIND is read and bound (READ_<KIND>, BIND_<KIND>) next to its includes.
 *
 * The generated SQL numbers its parameters with "?" (SQLite's); the PostgreSQL
 * store turns them into $N when it prepares a statement (pg_sql_numbered).
 */
#ifndef OB_STORE_COLUMNS_H
#define OB_STORE_COLUMNS_H

/* ---- column lists ----------------------------------------------------- */

/*
 * Each list is LIST(FIRST, NEXT): FIRST(column, KIND, field) for its first
 * column and NEXT(...) for the others, so that a generator can put a comma
 * between columns (SQL_COL_FIRST/SQL_COL_NEXT) or treat all alike (pass the
 * same macro twice). KIND says how a value is read and bound (READ_<KIND>,
 * BIND_<KIND>): TEXT (char array), I64, U32, U64, BOOL, ENUM (int),
 * CATEGORIES (an application's, joined by newlines, which they cannot hold)
 * and DIVISIONS (a set of NAF divisions, as "84,99").
 */

/* An application's columns that never change once inserted. */
#define APP_IDENTITY(F, X)                                                                         \
	F(id, TEXT, id)                                                                            \
	X(cohort_id, TEXT, cohort_id)                                                              \
	X(siren, TEXT, company.siren)                                                              \
	X(siret, TEXT, company.siret)                                                              \
	X(legal_name, TEXT, company.legal_name)                                                    \
	X(trade_name, TEXT, company.trade_name)                                                    \
	X(naf, TEXT, company.naf)                                                                  \
	X(vat, TEXT, company.vat)                                                                  \
	X(employees, U32, company.employees)                                                       \
	X(turnover_eur, I64, company.turnover_eur)                                                 \
	X(balance_eur, I64, company.balance_eur)                                                   \
	X(street, TEXT, company.address.street)                                                    \
	X(postal_code, TEXT, company.address.postal_code)                                          \
	X(city, TEXT, company.address.city)                                                        \
	X(departement, TEXT, company.address.departement)                                          \
	X(region, TEXT, company.address.region)                                                    \
	X(channel, ENUM, channel)                                                                  \
	X(exports, BOOL, exports)                                                                  \
	X(categories, CATEGORIES, categories)                                                      \
	X(size, ENUM, size)                                                                        \
	X(submitted_at, I64, submitted_at_ms)                                                      \
	X(wl_ticket, I64, waitlist_ticket)                                                         \
	X(submitted_by, TEXT, submitted_by)                                                        \
	X(legal_form, ENUM, company.legal_form)                                                    \
	X(has_balance, BOOL, company.has_balance)                                                  \
	X(terms_version, TEXT, terms_version)                                                      \
	X(terms_accepted_at, I64, terms_accepted_at_ms)

/* Its standing: inserted, and written by every change. */
#define APP_STATUS(F, X)                                                                           \
	F(state, ENUM, state)                                                                      \
	X(version, U64, version)                                                                   \
	X(updated_at, I64, updated_at_ms)                                                          \
	X(rejection, ENUM, rejection)                                                              \
	X(onboarded_at, I64, onboarded_at_ms)

/* Its benefits: the schema's defaults on insert, written by every change. */
#define APP_BENEFITS(F, X)                                                                         \
	F(benefits_granted, BOOL, benefits.granted)                                                \
	X(fee_waiver_from, TEXT, benefits.fee_waiver_from)                                         \
	X(fee_waiver_until, TEXT, benefits.fee_waiver_until)                                       \
	X(fee_waiver_months, U32, benefits.fee_waiver_months)                                      \
	X(fee_waived_cents, I64, benefits.fee_waived_cents)                                        \
	X(ad_credit_cents, I64, benefits.ad_credit_cents)                                          \
	X(ad_credit_used_cents, I64, benefits.ad_credit_used_cents)                                \
	X(webinar_at, I64, benefits.webinar_at_ms)                                                 \
	X(advisor, U32, benefits.advisor)                                                          \
	X(benefits_revoked, BOOL, benefits.revoked)                                                \
	X(benefits_revoked_at, I64, benefits.revoked_at_ms)                                        \
	X(benefits_note, TEXT, benefits.note)                                                      \
	X(ad_credit_expires, TEXT, benefits.ad_credit_expires)

/* The contact's columns an application read selects: sealed, so read by
 * sq_read_contact (sqlite_contacts.c), not by a generated reader. */
#define CONTACT_COLUMNS(X)                                                                         \
	X(dk_kid)                                                                                  \
	X(dk_wrapped)                                                                              \
	X(name)                                                                                    \
	X(email)                                                                                   \
	X(phone)                                                                                   \
	X(erased_at)                                                                               \
	X(erased_by)

#define COHORT_COLUMNS(F, X)                                                                       \
	F(id, TEXT, id)                                                                            \
	X(name, TEXT, name)                                                                        \
	X(capacity, U32, capacity)                                                                 \
	X(window_opens, I64, window_opens_ms)                                                      \
	X(window_closes, I64, window_closes_ms)                                                    \
	X(window_enforced, BOOL, window_enforced)                                                  \
	X(lockdown_start, TEXT, lockdown_start)                                                    \
	X(lockdown_end, TEXT, lockdown_end)                                                        \
	X(fee_waiver_until, TEXT, fee_waiver_until)                                                \
	X(monthly_fee_cents, I64, monthly_fee_cents)                                               \
	X(ad_credit_cents, I64, ad_credit_cents)                                                   \
	X(webinar_hour, U32, webinar_hour)                                                         \
	X(webinar_minute, U32, webinar_minute)                                                     \
	X(webinar_seats, U32, webinar_seats)                                                       \
	X(advisor_pool, U32, advisor_pool)                                                         \
	X(eligible_sizes, U32, eligible_sizes)                                                     \
	X(created_at, I64, created_at_ms)                                                          \
	X(approval_opens, I64, approval_opens_ms)                                                  \
	X(approval_closes, I64, approval_closes_ms)                                                \
	X(excluded_naf, DIVISIONS, excluded_naf)                                                   \
	X(webinar_lead_minutes, U32, webinar_lead_minutes)                                         \
	X(webinar_weekends, BOOL, webinar_weekends)                                                \
	X(webinar_holidays, BOOL, webinar_holidays)                                                \
	X(milestone_date, TEXT, milestone_date)                                                    \
	X(terms_version, TEXT, terms_version)

/* A change of the history, but its number n and its sealed note. */
#define HISTORY_COLUMNS(F, X)                                                                      \
	F(from_state, ENUM, from)                                                                  \
	X(to_state, ENUM, to)                                                                      \
	X(actor, TEXT, actor)                                                                      \
	X(at, I64, at_ms)                                                                          \
	X(reason, TEXT, reason)

/* An audit event, but its seq, which the table numbers. */
#define AUDIT_COLUMNS(F, X)                                                                        \
	F(at, I64, at_ms)                                                                          \
	X(event, TEXT, event)                                                                      \
	X(key_id, TEXT, key_id)                                                                    \
	X(peer, TEXT, peer)                                                                        \
	X(detail, TEXT, detail)

/*
 * What is generated from the lists: SQL text, and the positions of columns
 * (0-based, as sqlite3_column_*() counts) and parameters (1-based, as
 * sqlite3_bind_*() counts) as enums named after the SQL columns. The
 * generated statements number their parameters with plain "?", in order.
 * clang-format cannot see that these macros expand to lists, and would
 * scatter the tables: they are laid out by hand.
 */
/* clang-format off */
#define SQL_COL_FIRST(col, kind, field)   #col
#define SQL_COL_NEXT(col, kind, field)    ", " #col
#define SQL_PARAM_FIRST(col, kind, field) "?"
#define SQL_PARAM_NEXT(col, kind, field)  ", ?"
#define SQL_SET_FIRST(col, kind, field)   #col " = ?"
#define SQL_SET_NEXT(col, kind, field)    ", " #col " = ?"
#define SQL_APP_COL(col, kind, field)     ", a." #col
#define SQL_CONTACT_COL(col)              ", c." #col

/* An application read: seq first, by hand, since a select list cannot
 * start with a comma; then the lists. */
#define APP_SELECT                                                             \
	"SELECT a.seq"                                                         \
	APP_IDENTITY(SQL_APP_COL, SQL_APP_COL)                                 \
	APP_STATUS(SQL_APP_COL, SQL_APP_COL)                                   \
	APP_BENEFITS(SQL_APP_COL, SQL_APP_COL)                                 \
	CONTACT_COLUMNS(SQL_CONTACT_COL)                                       \
	" FROM application a JOIN contact c ON c.app_seq = a.seq "
#define APP_INSERT_SQL                                                         \
	"INSERT INTO application ("                                            \
	APP_IDENTITY(SQL_COL_FIRST, SQL_COL_NEXT)                              \
	APP_STATUS(SQL_COL_NEXT, SQL_COL_NEXT)                                 \
	") VALUES ("                                                           \
	APP_IDENTITY(SQL_PARAM_FIRST, SQL_PARAM_NEXT)                          \
	APP_STATUS(SQL_PARAM_NEXT, SQL_PARAM_NEXT)                             \
	")"
#define APP_UPDATE_SQL                                                         \
	"UPDATE application SET "                                              \
	APP_STATUS(SQL_SET_FIRST, SQL_SET_NEXT)                                \
	APP_BENEFITS(SQL_SET_NEXT, SQL_SET_NEXT)                               \
	" WHERE seq = ?"
#define COHORT_SELECT                                                          \
	"SELECT " COHORT_COLUMNS(SQL_COL_FIRST, SQL_COL_NEXT) " FROM cohort "
#define COHORT_INSERT_SQL                                                      \
	"INSERT INTO cohort (" COHORT_COLUMNS(SQL_COL_FIRST, SQL_COL_NEXT)     \
	") VALUES (" COHORT_COLUMNS(SQL_PARAM_FIRST, SQL_PARAM_NEXT) ")"
/* n is given for a sealed note (its number is in the note's associated
 * data), else it is the next one; ?1 is the first "?", app_seq. */
#define HISTORY_APPEND_SQL                                                     \
	"INSERT INTO history (app_seq, "                                       \
	HISTORY_COLUMNS(SQL_COL_FIRST, SQL_COL_NEXT)                           \
	", note, n) VALUES (?, "                                               \
	HISTORY_COLUMNS(SQL_PARAM_FIRST, SQL_PARAM_NEXT)                       \
	", ?, coalesce(?, (SELECT count(*) FROM history WHERE app_seq = ?1)))"
#define HISTORY_LOAD_SQL                                                       \
	"SELECT " HISTORY_COLUMNS(SQL_COL_FIRST, SQL_COL_NEXT)                 \
	", n, note FROM history WHERE app_seq = ?1 ORDER BY n"
/* A waitlisted application's place, in one statement (sqlite_apps.c says how
 * it is counted): the ticket of the head of cohort ?1's line (state ?2) and
 * how many left the line between the head and ticket ?3; no row when the
 * line is empty. */
#define WAITLIST_POSITION_SQL                                                  \
	"SELECT h.wl_ticket, (SELECT count(*) FROM waitlist_left w "           \
	"WHERE w.cohort_id = ?1 AND w.ticket > h.wl_ticket AND "               \
	"w.ticket < ?3) "                                                      \
	"FROM (SELECT wl_ticket FROM application WHERE cohort_id = ?1 AND "    \
	"state = ?2 ORDER BY seq LIMIT 1) h"
#define AUDIT_APPEND_SQL                                                       \
	"INSERT INTO audit (" AUDIT_COLUMNS(SQL_COL_FIRST, SQL_COL_NEXT)       \
	") VALUES (" AUDIT_COLUMNS(SQL_PARAM_FIRST, SQL_PARAM_NEXT) ")"
#define AUDIT_LIST_SQL                                                         \
	"SELECT seq" AUDIT_COLUMNS(SQL_COL_NEXT, SQL_COL_NEXT)                 \
	" FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2"

#define APP_COL(col, kind, field)     APP_COL_##col,
#define CONTACT_COL(col)              APP_COL_##col,
#define APP_INS(col, kind, field)     APP_INS_##col,
#define APP_UPD(col, kind, field)     APP_UPD_##col,
#define COHORT_COL(col, kind, field)  COHORT_COL_##col,
#define HISTORY_COL(col, kind, field) HISTORY_COL_##col,
#define HISTORY_PAR(col, kind, field) HISTORY_PARAM_##col,
#define AUDIT_COL(col, kind, field)   AUDIT_COL_##col,
#define AUDIT_PAR(col, kind, field)   AUDIT_PARAM_##col,

/* APP_SELECT's columns. */
enum {
	APP_COL_seq,
	APP_IDENTITY(APP_COL, APP_COL)
	APP_STATUS(APP_COL, APP_COL)
	APP_BENEFITS(APP_COL, APP_COL)
	CONTACT_COLUMNS(CONTACT_COL)
};
/* APP_INSERT's parameters, and APP_UPDATE's (the seq of the row last). */
enum {
	APP_INS_NONE_,
	APP_IDENTITY(APP_INS, APP_INS)
	APP_STATUS(APP_INS, APP_INS)
};
enum {
	APP_UPD_NONE_,
	APP_STATUS(APP_UPD, APP_UPD)
	APP_BENEFITS(APP_UPD, APP_UPD)
	APP_UPD_seq
};
/* BENEFITS_OF_SIREN's columns. */
#define BEN_COL(col, kind, field) BEN_COL_##col,
enum {
	BEN_COL_seq,
	BEN_COL_cohort_id,
	APP_BENEFITS(BEN_COL, BEN_COL)
};
/* COHORT_SELECT's columns; COHORT_INSERT's parameter is the column + 1. */
enum {
	COHORT_COLUMNS(COHORT_COL, COHORT_COL)
};
/* HISTORY_LOAD's columns, and HISTORY_APPEND's parameters. */
enum {
	HISTORY_COLUMNS(HISTORY_COL, HISTORY_COL)
	HISTORY_COL_n,
	HISTORY_COL_note
};
enum {
	HISTORY_PARAM_app_seq = 1,
	HISTORY_COLUMNS(HISTORY_PAR, HISTORY_PAR)
	HISTORY_PARAM_note,
	HISTORY_PARAM_n
};
/* AUDIT_LIST's columns, and AUDIT_APPEND's parameters. */
enum {
	AUDIT_COL_seq,
	AUDIT_COLUMNS(AUDIT_COL, AUDIT_COL)
};
enum {
	AUDIT_PARAM_NONE_,
	AUDIT_COLUMNS(AUDIT_PAR, AUDIT_PAR)
};
/* clang-format on */

/* The columns an advisor is read from (sqlite_advisors.c, pg_records.c), in this order:
 * cohort_id, number, name, region, languages, capacity, active, load. */
#define ADVISOR_COLS "cohort_id, advisor, name, region, languages, capacity, active, load"

#endif
