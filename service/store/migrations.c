/*
 * The schema, as numbered migrations. PRAGMA user_version holds the number
 * of the last one applied; onboardd applies the rest at start, each in its
 * own transaction. Never edit a migration that has shipped: add one.
 */
#include "store/migrations.h"

/*
 * The application table's columns as schema 1 created them, in their order,
 * with their definitions: F(column, definition) for the first, X(...) for the
 * others. Migration 1 creates the table from this list; migration 3 rebuilds
 * it (migrations.h) from the same list, plus the columns it adds, and copies
 * these columns over. The SQL of both is what it was when they shipped. Not
 * columns.h's lists: those are the rows as the stores read and write them
 * today, in another order and without SQLite's types. clang-format cannot
 * see that the macros expand to strings and would scatter the SQL, so m1 and
 * m3 are laid out by hand.
 */
/* clang-format off */
#define APP_V1_COLUMNS(F, X)                                                                       \
	F(seq, "INTEGER PRIMARY KEY")                                                              \
	X(id, "TEXT NOT NULL UNIQUE")                                                              \
	X(cohort_id, "TEXT NOT NULL REFERENCES cohort(id)")                                        \
	X(state, "INTEGER NOT NULL")                                                               \
	X(version, "INTEGER NOT NULL")                                                             \
	X(siren, "TEXT NOT NULL")                                                                  \
	X(siret, "TEXT NOT NULL")                                                                  \
	X(legal_name, "TEXT NOT NULL")                                                             \
	X(trade_name, "TEXT NOT NULL")                                                             \
	X(naf, "TEXT NOT NULL")                                                                    \
	X(vat, "TEXT NOT NULL")                                                                    \
	X(employees, "INTEGER NOT NULL")                                                           \
	X(turnover_eur, "INTEGER NOT NULL")                                                        \
	X(balance_eur, "INTEGER NOT NULL")                                                         \
	X(street, "TEXT NOT NULL")                                                                 \
	X(postal_code, "TEXT NOT NULL")                                                            \
	X(city, "TEXT NOT NULL")                                                                   \
	X(departement, "TEXT NOT NULL")                                                            \
	X(region, "TEXT NOT NULL")                                                                 \
	X(channel, "INTEGER NOT NULL")                                                             \
	X(exports, "INTEGER NOT NULL")                                                             \
	X(categories, "TEXT NOT NULL")                                                             \
	X(size, "INTEGER NOT NULL")                                                                \
	X(submitted_at, "INTEGER NOT NULL")                                                        \
	X(updated_at, "INTEGER NOT NULL")                                                          \
	X(rejection, "INTEGER NOT NULL")                                                           \
	X(benefits_granted, "INTEGER NOT NULL DEFAULT 0")                                          \
	X(fee_waiver_from, "TEXT NOT NULL DEFAULT ''")                                             \
	X(fee_waiver_until, "TEXT NOT NULL DEFAULT ''")                                            \
	X(fee_waiver_months, "INTEGER NOT NULL DEFAULT 0")                                         \
	X(fee_waived_cents, "INTEGER NOT NULL DEFAULT 0")                                          \
	X(ad_credit_cents, "INTEGER NOT NULL DEFAULT 0")                                           \
	X(ad_credit_used_cents, "INTEGER NOT NULL DEFAULT 0")                                      \
	X(webinar_at, "INTEGER NOT NULL DEFAULT 0")                                                \
	X(advisor, "INTEGER NOT NULL DEFAULT 0")                                                   \
	X(benefits_revoked, "INTEGER NOT NULL DEFAULT 0")                                          \
	X(benefits_revoked_at, "INTEGER NOT NULL DEFAULT 0")                                       \
	X(wl_ticket, "INTEGER NOT NULL DEFAULT 0")                                                 \
	/* Who submitted it: the caller's key id, or "local". */                                   \
	X(submitted_by, "TEXT NOT NULL DEFAULT ''")
#define V1_COLUMN_DEF(col, def)   " " #col " " def ","
#define V1_COLUMN_FIRST(col, def) #col
#define V1_COLUMN_NEXT(col, def)  ", " #col

static const char m1[] =
        /* Cohorts: the programme's parameters. Dates as YYYY-MM-DD, times
         * as unix milliseconds, money in cents. */
        "CREATE TABLE cohort ("
        " id TEXT PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " capacity INTEGER NOT NULL CHECK (capacity >= 0),"
        " window_opens INTEGER NOT NULL,"
        " window_closes INTEGER NOT NULL,"
        " window_enforced INTEGER NOT NULL,"
        " lockdown_start TEXT NOT NULL,"
        " lockdown_end TEXT NOT NULL,"
        " fee_waiver_until TEXT NOT NULL,"
        " monthly_fee_cents INTEGER NOT NULL,"
        " ad_credit_cents INTEGER NOT NULL,"
        " webinar_hour INTEGER NOT NULL,"
        " webinar_minute INTEGER NOT NULL,"
        " webinar_seats INTEGER NOT NULL,"
        " advisor_pool INTEGER NOT NULL,"
        " eligible_sizes INTEGER NOT NULL,"
        " created_at INTEGER NOT NULL"
        ") STRICT;"
        /* Applications, without personal data. seq is the order of
         * submission: the waitlist's order and the page tokens' key. */
        "CREATE TABLE application ("
        APP_V1_COLUMNS(V1_COLUMN_DEF, V1_COLUMN_DEF)
        " UNIQUE (cohort_id, siren)"
        ") STRICT;"
        "CREATE INDEX application_cohort_state ON application(cohort_id, state, seq);"
        "CREATE INDEX application_cohort_seq ON application(cohort_id, seq);"
        "CREATE INDEX application_cohort_owner ON application(cohort_id, submitted_by, seq);"
        /* The contact person: all the personal data, in one place, so that
         * it can be encrypted and erased on its own (crypto/vault.h). Each
         * application has its own data key, stored wrapped under the master
         * key dk_kid; name, email and phone are sealed under it, bound to the
         * application id and the field. email_index is the keyed blind index
         * of the e-mail, for lookups. Erasure sets every one of these to NULL
         * and records when and by whom (erased_at in unix ms, 0: never). */
        "CREATE TABLE contact ("
        " app_seq INTEGER PRIMARY KEY REFERENCES application(seq),"
        " dk_kid TEXT,"
        " dk_wrapped BLOB,"
        " name BLOB,"
        " email BLOB,"
        " phone BLOB,"
        " email_index BLOB,"
        " erased_at INTEGER NOT NULL DEFAULT 0,"
        " erased_by TEXT NOT NULL DEFAULT ''"
        ") STRICT;"
        "CREATE INDEX contact_email_index ON contact(email_index);"
        /* Waitlist positions in O(log n): position = my ticket - the
         * head's ticket + 1 - the tickets between that left by withdrawal
         * (promotion always takes the head). */
        "CREATE TABLE waitlist_left ("
        " cohort_id TEXT NOT NULL,"
        " ticket INTEGER NOT NULL,"
        " PRIMARY KEY (cohort_id, ticket)"
        ") STRICT, WITHOUT ROWID;"
        "CREATE TABLE history ("
        " app_seq INTEGER NOT NULL REFERENCES application(seq),"
        " n INTEGER NOT NULL,"
        " from_state INTEGER NOT NULL,"
        " to_state INTEGER NOT NULL,"
        " actor TEXT NOT NULL,"
        " at INTEGER NOT NULL,"
        " reason TEXT NOT NULL,"
        " PRIMARY KEY (app_seq, n)"
        ") STRICT, WITHOUT ROWID;"
        /* The cohort's standing, maintained with every change. */
        "CREATE TABLE counter ("
        " cohort_id TEXT NOT NULL,"
        " key TEXT NOT NULL,"
        " count INTEGER NOT NULL,"
        " PRIMARY KEY (cohort_id, key)"
        ") STRICT, WITHOUT ROWID;"
        "CREATE TABLE webinar ("
        " cohort_id TEXT NOT NULL,"
        " session_at INTEGER NOT NULL,"
        " booked INTEGER NOT NULL,"
        " PRIMARY KEY (cohort_id, session_at)"
        ") STRICT, WITHOUT ROWID;"
        "CREATE TABLE advisor ("
        " cohort_id TEXT NOT NULL,"
        " advisor INTEGER NOT NULL,"
        " load INTEGER NOT NULL,"
        " PRIMARY KEY (cohort_id, advisor)"
        ") STRICT, WITHOUT ROWID;"
        "CREATE INDEX advisor_load ON advisor(cohort_id, load, advisor);"
        /* A stored reply shows the application with its contact, so it is
         * sealed under that application's data key (field "idempotency")
         * and deleted when the contact is erased: app_seq says whose it is
         * (0: a reply that holds no personal data, stored as is). */
        "CREATE TABLE idempotency ("
        " key TEXT PRIMARY KEY,"
        " request_hash BLOB NOT NULL,"
        " app_seq INTEGER NOT NULL DEFAULT 0,"
        " reply BLOB NOT NULL,"
        " created_at INTEGER NOT NULL"
        ") STRICT;"
        "CREATE INDEX idempotency_created ON idempotency(created_at);"
        "CREATE INDEX idempotency_app ON idempotency(app_seq) WHERE app_seq != 0;"
        /* Security events: failed logins, denials, erasures, key changes.
         * Never a secret or personal data: key ids, the peer's address, and
         * a detail such as an application id. */
        "CREATE TABLE audit ("
        " seq INTEGER PRIMARY KEY,"
        " at INTEGER NOT NULL,"
        " event TEXT NOT NULL,"
        " key_id TEXT NOT NULL,"
        " peer TEXT NOT NULL,"
        " detail TEXT NOT NULL"
        ") STRICT;";

/* What people type with a change (review notes, withdrawal reasons: "called
 * her on 06...") is personal data: it leaves history.reason for a column of
 * its own, sealed under the application's data key with the field name
 * "history.N.note" (N the row's n), so that a note moved to another row or
 * application does not open. NULL: no note; an empty blob: a note erased
 * with the contact (or one there was no key left to seal); otherwise nonce ||
 * ciphertext || tag as crypto/vault.h seals it. The rows written before are
 * sealed by the step that follows this SQL (OB_MIGRATION_SEAL_HISTORY_NOTES). */
static const char m2[] = "ALTER TABLE history ADD COLUMN note BLOB;";

/* Issue 10, the programme's rules:
 *  - one live application per SIREN and cohort instead of one for good, so
 *    that a company whose application was rejected or withdrawn applies
 *    again: the table-level UNIQUE (cohort_id, siren), which ALTER TABLE
 *    cannot drop, goes with a rebuild of the table (SQLite's procedure,
 *    foreign keys off: migrations.h), and a partial unique index over the
 *    live states takes its place (7 REJECTED, 8 WITHDRAWN: ob_state);
 *  - the company's legal form and whether it gave a balance sheet (rows of
 *    before did: 1), the terms accepted and when, when it went live (from
 *    its history), and the benefits' note;
 *  - the cohort's approval window, excluded NAF divisions, the webinar's
 *    lead time and days, its milestone and terms version: 0 and '' here,
 *    which the domain reads as "derived from the lockdown dates"
 *    (ob_cohort_derive), as a new cohort gets them. The default cohort
 *    2020-11, if it is the one created on first start, gets what that
 *    cohort gets now: the milestone of 4 December 2020 (Black Friday, moved
 *    that year) and division 84 excluded.
 * The cohorts' counters, counted otherwise before, are recounted by the
 * domain when it starts (domain/counters.c). */
static const char m3[] =
        "CREATE TABLE application_new ("
        APP_V1_COLUMNS(V1_COLUMN_DEF, V1_COLUMN_DEF)
        " legal_form INTEGER NOT NULL DEFAULT 0,"
        " has_balance INTEGER NOT NULL DEFAULT 1,"
        " terms_version TEXT NOT NULL DEFAULT '',"
        " terms_accepted_at INTEGER NOT NULL DEFAULT 0,"
        " onboarded_at INTEGER NOT NULL DEFAULT 0,"
        " benefits_note TEXT NOT NULL DEFAULT ''"
        ") STRICT;"
        "INSERT INTO application_new ("
        APP_V1_COLUMNS(V1_COLUMN_FIRST, V1_COLUMN_NEXT)
        ") SELECT "
        APP_V1_COLUMNS(V1_COLUMN_FIRST, V1_COLUMN_NEXT)
        " FROM application;"
        "DROP TABLE application;"
        "ALTER TABLE application_new RENAME TO application;"
        "CREATE INDEX application_cohort_state ON application(cohort_id, state, seq);"
        "CREATE INDEX application_cohort_seq ON application(cohort_id, seq);"
        "CREATE INDEX application_cohort_owner ON application(cohort_id, submitted_by, seq);"
        "CREATE UNIQUE INDEX application_live_siren ON application(cohort_id, siren)"
        " WHERE state NOT IN (7, 8);"
        "CREATE INDEX application_siren ON application(siren);"
        "UPDATE application SET onboarded_at = coalesce((SELECT max(h.at) FROM history h"
        " WHERE h.app_seq = application.seq AND h.to_state = 6), updated_at)"
        " WHERE state = 6;"
        "ALTER TABLE cohort ADD COLUMN approval_opens INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE cohort ADD COLUMN approval_closes INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE cohort ADD COLUMN excluded_naf TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE cohort ADD COLUMN webinar_lead_minutes INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE cohort ADD COLUMN webinar_weekends INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE cohort ADD COLUMN webinar_holidays INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE cohort ADD COLUMN milestone_date TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE cohort ADD COLUMN terms_version TEXT NOT NULL DEFAULT '';"
        "UPDATE cohort SET milestone_date = '2020-12-04', excluded_naf = '84'"
        " WHERE id = '2020-11' AND lockdown_start = '2020-10-30'"
        " AND lockdown_end = '2020-12-15';";

/* clang-format on */

/* Issue 10, second pass: the ad credit's last day, recorded on grant. An
 * application granted before has its cohort's waiver end (the credit
 * expires with the waiver), when the cohort row holds one; the domain takes
 * the cohort's on the next spending otherwise. Counters of the reports and
 * the benefits' totals are recounted by the domain when it starts
 * (OB_COUNTERS_VERSION 3). */
static const char m4[] =
        "ALTER TABLE application ADD COLUMN ad_credit_expires TEXT NOT NULL DEFAULT '';"
        "UPDATE application SET ad_credit_expires = (SELECT c.fee_waiver_until FROM cohort c"
        " WHERE c.id = application.cohort_id) WHERE benefits_granted != 0 AND ad_credit_cents > 0"
        " AND benefits_revoked = 0;";

/* Issue 10, webinars as bookings: a session is a cohort's start and a topic
 * (1 joining the marketplace, 2 one's own web shop: ob_topic), and every
 * application holds at most one booking, which attendance is recorded on.
 * Before, an approval booked the one daily session, which was about joining
 * the marketplace: those seats and the approvals' bookings become topic 1
 * (booked when the application was last updated, the best time known). */
static const char m5[] =
        "CREATE TABLE webinar_session ("
        " cohort_id TEXT NOT NULL,"
        " session_at INTEGER NOT NULL,"
        " topic INTEGER NOT NULL,"
        " booked INTEGER NOT NULL,"
        " PRIMARY KEY (cohort_id, session_at, topic)"
        ") STRICT, WITHOUT ROWID;"
        "INSERT INTO webinar_session SELECT cohort_id, session_at, 1, booked FROM webinar;"
        "DROP TABLE webinar;"
        "CREATE TABLE webinar_booking ("
        " app_seq INTEGER PRIMARY KEY REFERENCES application(seq),"
        " cohort_id TEXT NOT NULL,"
        " session_at INTEGER NOT NULL,"
        " topic INTEGER NOT NULL,"
        " booked_at INTEGER NOT NULL,"
        " attended INTEGER NOT NULL DEFAULT 0,"
        " attended_at INTEGER NOT NULL DEFAULT 0"
        ") STRICT;"
        "INSERT INTO webinar_booking (app_seq, cohort_id, session_at, topic, booked_at)"
        " SELECT seq, cohort_id, webinar_at, 1, updated_at FROM application"
        " WHERE webinar_at != 0;";

/* Issue 10, advisors as people: an advisor has a name, a region (one of the
 * 18, or "any"), the languages spoken (ISO 639-1 codes joined by commas),
 * a capacity and an active flag, besides the load. The numbered advisors of
 * before become placeholders who keep their number and load, so that the
 * companies assigned to them stay assigned and loads stay right: "Advisor
 * N" of any region, speaking French, with the largest capacity (or their
 * load, were it larger). */
static const char m6[] =
        "CREATE TABLE advisor_v6 ("
        " cohort_id TEXT NOT NULL,"
        " advisor INTEGER NOT NULL,"
        " name TEXT NOT NULL,"
        " region TEXT NOT NULL,"
        " languages TEXT NOT NULL,"
        " capacity INTEGER NOT NULL,"
        " active INTEGER NOT NULL,"
        " load INTEGER NOT NULL,"
        " PRIMARY KEY (cohort_id, advisor)"
        ") STRICT, WITHOUT ROWID;"
        "INSERT INTO advisor_v6 SELECT cohort_id, advisor, 'Advisor ' || advisor, 'any', 'fr',"
        " max(1000, load), 1, load FROM advisor;"
        "DROP TABLE advisor;"
        "ALTER TABLE advisor_v6 RENAME TO advisor;"
        "CREATE INDEX advisor_load ON advisor(cohort_id, load, advisor);";

/* Issue 11: one index fewer for every insert of an application, on the one
 * writer. (cohort_id, seq) served only the lists filtered by cohort and
 * nothing that has an index of its own (states, owner): those read the table
 * in seq order and test the cohort in the row (store_app_list_sql_rows), as
 * fast while the cohort holds the rows after the page's start. The write
 * path needs the unique live-SIREN index; reads by id, by SIREN, by state and
 * by owner keep theirs. The PostgreSQL store keeps this index (ARCHITECTURE.md). */
static const char m7[] = "DROP INDEX IF EXISTS application_cohort_seq;";

const ob_migration ob_migrations[] = {
        {m1, OB_MIGRATION_SQL_ONLY, false}, {m2, OB_MIGRATION_SEAL_HISTORY_NOTES, false},
        {m3, OB_MIGRATION_SQL_ONLY, true},  {m4, OB_MIGRATION_SQL_ONLY, false},
        {m5, OB_MIGRATION_SQL_ONLY, false}, {m6, OB_MIGRATION_SQL_ONLY, false},
        {m7, OB_MIGRATION_SQL_ONLY, false},
};
const unsigned ob_n_migrations = sizeof(ob_migrations) / sizeof(ob_migrations[0]);

/* ob_action_name() of each review action, and the withdrawal, as schema 1
 * wrote them. Not "personal data erased": that reason is kept in clear. */
const char *const ob_legacy_note_prefixes[] = {
        "start", "request-info", "approve", "reject", "onboard", "withdrawn",
};
const unsigned ob_n_legacy_note_prefixes =
        sizeof(ob_legacy_note_prefixes) / sizeof(ob_legacy_note_prefixes[0]);
