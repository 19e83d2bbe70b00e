/*
 * schema.h: SQL that turns a database of the current schema back into one of an earlier
 * version, as that onboardd left it, for the tests that open such a database and check what
 * the migrations make of it. Each undoes one migration of service/store/migrations.c, and is
 * run on a closed store; the domain's tests run it with sqlite3_exec.
 */
#ifndef OB_TESTS_SCHEMA_H
#define OB_TESTS_SCHEMA_H

/* Schema 7 back to 6: the index on (cohort_id, seq) again. */
#define OB_TEST_SCHEMA_7_TO_6                                                                      \
	"BEGIN; CREATE INDEX application_cohort_seq ON application(cohort_id, seq);"               \
	"PRAGMA user_version = 6; COMMIT;"

/* Schema 6 back to 5: advisors are numbers with a load, nothing more. */
#define OB_TEST_SCHEMA_6_TO_5                                                                      \
	"BEGIN; CREATE TABLE advisor_v5 (cohort_id TEXT NOT NULL, advisor INTEGER NOT NULL,"       \
	" load INTEGER NOT NULL, PRIMARY KEY (cohort_id, advisor)) STRICT, WITHOUT ROWID;"         \
	"INSERT INTO advisor_v5 SELECT cohort_id, advisor, load FROM advisor;"                     \
	"DROP TABLE advisor; ALTER TABLE advisor_v5 RENAME TO advisor;"                            \
	"CREATE INDEX advisor_load ON advisor(cohort_id, load, advisor);"                          \
	"PRAGMA user_version = 5; COMMIT;"

/* Schema 5 back to 4: one topic-less count per session, no bookings (the approvals' sessions
 * stay in application.webinar_at, as schema 4 kept them). */
#define OB_TEST_SCHEMA_5_TO_4                                                                      \
	"BEGIN; CREATE TABLE webinar (cohort_id TEXT NOT NULL, session_at INTEGER NOT NULL,"       \
	" booked INTEGER NOT NULL, PRIMARY KEY (cohort_id, session_at)) STRICT, WITHOUT ROWID;"    \
	"INSERT INTO webinar SELECT cohort_id, session_at, sum(booked) FROM webinar_session"       \
	" GROUP BY cohort_id, session_at;"                                                         \
	"DROP TABLE webinar_session; DROP TABLE webinar_booking;"                                  \
	"PRAGMA user_version = 4; COMMIT;"

/* Schema 4 back to 3: the application without the ad credit's last day, and the counters as
 * schema 3's onboardd kept them (definitions of version 2: no reports, no benefits' totals). */
#define OB_TEST_SCHEMA_4_TO_3                                                                      \
	"BEGIN; ALTER TABLE application DROP COLUMN ad_credit_expires;"                            \
	"DELETE FROM counter WHERE key LIKE 'dept:%' OR key LIKE 'naf:%'"                          \
	" OR key LIKE 'region_state:%' OR key IN ('benefits_granted', 'fee_waived_cents',"         \
	" 'ad_credit_granted_cents', 'ad_credit_used_cents');"                                     \
	"UPDATE counter SET count = 2 WHERE key = 'counters_version';"                             \
	"PRAGMA user_version = 3; COMMIT;"

/* Schema 3 back to 2: the application table with its UNIQUE (cohort_id, siren) and without
 * the columns of issue 10, the cohort table without its new settings. The rows keep what
 * schema 2 had of them; a database holding two applications of a SIREN in a cohort (which
 * schema 2 could not) fails here. The counters stay as they are, but the mark of their
 * definitions, which schema 2's onboardd did not write. */
#define OB_TEST_SCHEMA_3_TO_2                                                                      \
	"PRAGMA foreign_keys=OFF; BEGIN;"                                                          \
	"CREATE TABLE application_old ("                                                           \
	" seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"                                       \
	" cohort_id TEXT NOT NULL REFERENCES cohort(id), state INTEGER NOT NULL,"                  \
	" version INTEGER NOT NULL, siren TEXT NOT NULL, siret TEXT NOT NULL,"                     \
	" legal_name TEXT NOT NULL, trade_name TEXT NOT NULL, naf TEXT NOT NULL,"                  \
	" vat TEXT NOT NULL, employees INTEGER NOT NULL, turnover_eur INTEGER NOT NULL,"           \
	" balance_eur INTEGER NOT NULL, street TEXT NOT NULL, postal_code TEXT NOT NULL,"          \
	" city TEXT NOT NULL, departement TEXT NOT NULL, region TEXT NOT NULL,"                    \
	" channel INTEGER NOT NULL, exports INTEGER NOT NULL, categories TEXT NOT NULL,"           \
	" size INTEGER NOT NULL, submitted_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"      \
	" rejection INTEGER NOT NULL, benefits_granted INTEGER NOT NULL DEFAULT 0,"                \
	" fee_waiver_from TEXT NOT NULL DEFAULT '', fee_waiver_until TEXT NOT NULL DEFAULT '',"    \
	" fee_waiver_months INTEGER NOT NULL DEFAULT 0,"                                           \
	" fee_waived_cents INTEGER NOT NULL DEFAULT 0,"                                            \
	" ad_credit_cents INTEGER NOT NULL DEFAULT 0,"                                             \
	" ad_credit_used_cents INTEGER NOT NULL DEFAULT 0, webinar_at INTEGER NOT NULL DEFAULT 0," \
	" advisor INTEGER NOT NULL DEFAULT 0, benefits_revoked INTEGER NOT NULL DEFAULT 0,"        \
	" benefits_revoked_at INTEGER NOT NULL DEFAULT 0, wl_ticket INTEGER NOT NULL DEFAULT 0,"   \
	" submitted_by TEXT NOT NULL DEFAULT '', UNIQUE (cohort_id, siren)) STRICT;"               \
	"INSERT INTO application_old SELECT seq, id, cohort_id, state, version, siren, siret,"     \
	" legal_name, trade_name, naf, vat, employees, turnover_eur, balance_eur, street,"         \
	" postal_code, city, departement, region, channel, exports, categories, size,"             \
	" submitted_at, updated_at, rejection, benefits_granted, fee_waiver_from,"                 \
	" fee_waiver_until, fee_waiver_months, fee_waived_cents, ad_credit_cents,"                 \
	" ad_credit_used_cents, webinar_at, advisor, benefits_revoked, benefits_revoked_at,"       \
	" wl_ticket, submitted_by FROM application;"                                               \
	"DROP TABLE application;"                                                                  \
	"ALTER TABLE application_old RENAME TO application;"                                       \
	"CREATE INDEX application_cohort_state ON application(cohort_id, state, seq);"             \
	"CREATE INDEX application_cohort_seq ON application(cohort_id, seq);"                      \
	"CREATE INDEX application_cohort_owner ON application(cohort_id, submitted_by, seq);"      \
	"ALTER TABLE cohort DROP COLUMN approval_opens;"                                           \
	"ALTER TABLE cohort DROP COLUMN approval_closes;"                                          \
	"ALTER TABLE cohort DROP COLUMN excluded_naf;"                                             \
	"ALTER TABLE cohort DROP COLUMN webinar_lead_minutes;"                                     \
	"ALTER TABLE cohort DROP COLUMN webinar_weekends;"                                         \
	"ALTER TABLE cohort DROP COLUMN webinar_holidays;"                                         \
	"ALTER TABLE cohort DROP COLUMN milestone_date;"                                           \
	"ALTER TABLE cohort DROP COLUMN terms_version;"                                            \
	"DELETE FROM counter WHERE key = 'counters_version';"                                      \
	"PRAGMA user_version = 2; COMMIT; PRAGMA foreign_keys=ON;"

#endif
