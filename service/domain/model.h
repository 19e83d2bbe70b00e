/*
 * model.h: the programme's plain data. No protobuf, no SQL: rpc/ converts
 * messages into these structs and store/ persists them.
 *
 * Strings are fixed-size, NUL-terminated arrays sized to the limits the
 * validation enforces, so the structs can be copied and need no freeing,
 * except an application's history (ob_application_fini).
 */
#ifndef OB_DOMAIN_MODEL_H
#define OB_DOMAIN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/fr.h"

enum {
	OB_ID_LEN = 26, /* ULID: 10 time characters, 16 random */
	OB_COHORT_ID_MAX = 32,
	OB_NAME_MAX = 200, /* bytes of UTF-8 */
	OB_STREET_MAX = 200,
	OB_CITY_MAX = 100,
	OB_EMAIL_MAX = 254,
	OB_REASON_MAX = 500,
	OB_ACTOR_MAX = 64,
	OB_CATEGORY_MAX = 64,
	OB_MAX_CATEGORIES = 10,
	OB_REGION_MAX = 64,
	OB_MAX_CAPACITY = 1000000,
	OB_TERMS_VERSION_MAX = 32, /* [A-Za-z0-9._-] */
	OB_BENEFITS_NOTE_MAX = 300,
	OB_ADVISOR_NAME_MAX = 100,    /* bytes of UTF-8 */
	OB_MAX_ADVISOR_LANGUAGES = 8, /* ISO 639-1 codes an advisor speaks */
	OB_MAX_ADVISOR_CAPACITY = 1000,
	OB_MAX_ADVISORS = 10000, /* per cohort */
	OB_NAF_DIVISIONS = 100,  /* a NAF code's first two digits: 01..99 */
	OB_MAX_WEBINAR_LEAD_MINUTES = 7 * 24 * 60,
	OB_DEFAULT_WEBINAR_LEAD_MINUTES = 120,
};

/* Numbered as onboard.v1.ApplicationState; rpc/ still converts explicitly. */
typedef enum {
	OB_STATE_UNSPECIFIED = 0,
	OB_STATE_WAITLISTED = 1,
	OB_STATE_SUBMITTED = 2,
	OB_STATE_UNDER_REVIEW = 3,
	OB_STATE_NEEDS_INFO = 4,
	OB_STATE_APPROVED = 5,
	OB_STATE_ONBOARDED = 6,
	OB_STATE_REJECTED = 7,
	OB_STATE_WITHDRAWN = 8,
	OB_STATE_COUNT,
} ob_state;

typedef enum {
	OB_CHANNEL_UNSPECIFIED = 0,
	OB_CHANNEL_MARKETPLACE = 1,
	OB_CHANNEL_OWN_WEBSHOP = 2,
	OB_CHANNEL_BOTH = 3,
	OB_CHANNEL_COUNT,
} ob_channel;

typedef enum {
	OB_ACTION_UNSPECIFIED = 0,
	OB_ACTION_START = 1,
	OB_ACTION_REQUEST_INFO = 2,
	OB_ACTION_APPROVE = 3,
	OB_ACTION_REJECT = 4,
	OB_ACTION_ONBOARD = 5,
	OB_ACTION_COUNT,
} ob_action;

typedef enum {
	OB_REJECTION_NONE = 0,
	OB_REJECTION_INELIGIBLE = 1,
	OB_REJECTION_INCOMPLETE = 2,
	OB_REJECTION_DUPLICATE = 3,
	OB_REJECTION_OUT_OF_SCOPE = 4,
	OB_REJECTION_FRAUD_SUSPECTED = 5,
	OB_REJECTION_OTHER = 6,
	OB_REJECTION_COUNT,
} ob_rejection;

/* Numbered as onboard.v1.LegalForm (stored and sent: never renumber). Which
 * figures and identifiers each requires: ob_legal_form_rules (validate.c). */
typedef enum {
	OB_LEGAL_UNSPECIFIED = 0,
	OB_LEGAL_EI = 1,
	OB_LEGAL_MICRO = 2, /* micro-entrepreneur */
	OB_LEGAL_EURL = 3,
	OB_LEGAL_SARL = 4,
	OB_LEGAL_SASU = 5,
	OB_LEGAL_SAS = 6,
	OB_LEGAL_SA = 7,
	OB_LEGAL_SNC = 8,
	OB_LEGAL_OTHER = 9,
	OB_LEGAL_COUNT,
} ob_legal_form;

typedef struct ob_address {
	char street[OB_STREET_MAX + 1];
	char postal_code[6];
	char city[OB_CITY_MAX + 1];
	char departement[OB_FR_DEPARTEMENT_STR_SIZE]; /* derived; may be "" */
	char region[OB_REGION_MAX + 1];               /* derived; may be "" */
} ob_address;

typedef struct ob_company {
	char siren[10];
	char siret[15]; /* "" when not given */
	char legal_name[OB_NAME_MAX + 1];
	char trade_name[OB_NAME_MAX + 1];
	char naf[7];
	char vat[OB_FR_VAT_STR_SIZE]; /* normalised, "" when not given */
	ob_legal_form legal_form;     /* OB_LEGAL_UNSPECIFIED: submitted before it was asked */
	uint32_t employees;
	int64_t turnover_eur;
	/* Absent for a micro-entrepreneur, who keeps no balance sheet: then
	 * has_balance is false and balance_eur 0. */
	int64_t balance_eur;
	bool has_balance;
	ob_address address;
} ob_company;

/* Personal data: kept together, here and in the store. */
typedef struct ob_contact {
	char name[OB_NAME_MAX + 1];
	char email[OB_EMAIL_MAX + 1];
	char phone[OB_FR_PHONE_STR_SIZE]; /* E.164 */
} ob_contact;

typedef struct ob_benefits {
	bool granted;
	char fee_waiver_from[11]; /* YYYY-MM-DD */
	char fee_waiver_until[11];
	uint32_t fee_waiver_months;
	int64_t fee_waived_cents;
	int64_t ad_credit_cents;
	int64_t ad_credit_used_cents; /* recorded by the ads service (ob_domain_spend_ad_credit) */
	/* The credit's last day (Paris time): the cohort's fee_waiver_until,
	 * since the credit expires with the waiver; "" when none was granted. */
	char ad_credit_expires[11];
	int64_t webinar_at_ms; /* 0: none */
	uint32_t advisor;      /* 0: none; the advisor's number in the cohort */
	/* The advisor's name, filled on read with the history (ob_dom_decorate);
	 * not stored with the application. */
	char advisor_name[OB_ADVISOR_NAME_MAX + 1];
	bool revoked;
	int64_t revoked_at_ms;
	/* What was not granted and why (the company had it from another
	 * application, the waiver was over); "" when everything was. */
	char note[OB_BENEFITS_NOTE_MAX + 1];
} ob_benefits;

/* A programme advisor of a cohort (domain/advisor.c): a person who follows
 * the companies assigned to them, at most capacity at once. */
typedef struct ob_advisor {
	uint32_t number; /* 1.. within the cohort, given by the store, never reused */
	char cohort_id[OB_COHORT_ID_MAX + 1];
	char name[OB_ADVISOR_NAME_MAX + 1];
	char region[OB_REGION_MAX + 1]; /* one of the 18 regions' official names, or "any" */
	/* ISO 639-1 codes joined by commas, "fr,en": what the store keeps and
	 * matches on. */
	char languages[OB_MAX_ADVISOR_LANGUAGES * 3];
	uint32_t capacity; /* 1..OB_MAX_ADVISOR_CAPACITY */
	uint32_t load;     /* the approved companies assigned, not revoked */
	bool active;       /* inactive: keeps those assigned, takes no new one */
} ob_advisor;

/* What a webinar session is about (WebinarTopic). */
typedef enum ob_topic {
	OB_TOPIC_UNSPECIFIED = 0,
	OB_TOPIC_MARKETPLACE = 1, /* joining the marketplace */
	OB_TOPIC_OWN_WEBSHOP = 2, /* opening one's own web shop */
	OB_TOPIC_COUNT
} ob_topic;

/* An application's seat at a webinar session (domain/webinar.c). */
typedef struct ob_booking {
	int64_t session_ms; /* the session's start; 0: no booking */
	ob_topic topic;
	int64_t booked_at_ms;
	bool attended;
	int64_t attended_at_ms; /* when attendance was recorded; 0: not yet */
} ob_booking;

/* The benefits an application of a company was granted, with where: what
 * the company already had when another of its applications is approved. */
typedef struct ob_granted {
	int64_t seq; /* the application's */
	char cohort_id[OB_COHORT_ID_MAX + 1];
	ob_benefits benefits;
} ob_granted;

typedef struct ob_state_change {
	ob_state from;
	ob_state to;
	char actor[OB_ACTOR_MAX + 1];
	int64_t at_ms;
	/* What happened, in the service's words ("withdrawn", "approve",
	 * "personal data erased: REASON"): kept in clear. */
	char reason[OB_REASON_MAX + 1];
	/* What a person typed with the change (a review note, a withdrawal
	 * reason), "" when nothing: personal data, such as "called her on
	 * 06...". The store seals it under the application's data key and it
	 * goes with the contact's erasure, after which it reads "[erased]".
	 * Callers show it after the reason: "withdrawn: NOTE". */
	char note[OB_REASON_MAX + 1];
} ob_state_change;

typedef struct ob_application {
	char id[OB_ID_LEN + 1];
	int64_t seq; /* the store's order of submission; the waitlist's order */
	char cohort_id[OB_COHORT_ID_MAX + 1];
	ob_state state;
	uint64_t version;
	ob_company company;
	ob_contact contact;
	ob_channel channel;
	bool exports;
	char categories[OB_MAX_CATEGORIES][OB_CATEGORY_MAX + 1];
	size_t n_categories;
	ob_size_category size;
	uint32_t waitlist_position; /* filled on read when WAITLISTED */
	int64_t waitlist_ticket;    /* n-th entry into the cohort's waitlist; 0: never waitlisted */
	int64_t submitted_at_ms;
	int64_t updated_at_ms;
	int64_t onboarded_at_ms; /* when it went live; 0: not onboarded */
	/* The programme's terms the company accepted, and when ("" and 0 for
	 * applications submitted before they were recorded). */
	char terms_version[OB_TERMS_VERSION_MAX + 1];
	int64_t terms_accepted_at_ms;
	ob_rejection rejection;
	ob_benefits benefits;
	ob_booking webinar;       /* filled with the history (ob_dom_decorate) */
	ob_state_change *history; /* heap; NULL unless asked for */
	size_t n_history;
	char submitted_by[OB_ACTOR_MAX + 1]; /* the submitter's key id, or "local" */
	/* Erasure (GDPR art. 17): the contact's fields are then empty for good. */
	bool contact_erased;
	int64_t contact_erased_at_ms;
	char contact_erased_by[OB_ACTOR_MAX + 1];
	/* Set by the store when the contact's data failed its integrity check
	 * (tampered, copied from another row, or its master key is missing):
	 * the fields are then empty. The domain refuses to show such an
	 * application (OB_ECORRUPT) but lets the rest of the cohort move. */
	bool contact_unreadable;
	/* With contact_unreadable: the id of the master key that is missing, when that
	 * is why (a rotation through another instance whose key file this one lacks):
	 * the domain then answers OB_EUNAVAIL naming it. "" otherwise. */
	char contact_key_missing[17]; /* OB_KEY_ID_SIZE (domain.h) */
} ob_application;

/* Frees the history; accepts NULL. The struct may be reused afterwards. */
void ob_application_fini(ob_application *a);

/* A set of NAF divisions (the first two digits of a code, 1..99): bit d. */
typedef struct ob_naf_divisions {
	uint64_t bits[2];
} ob_naf_divisions;

static inline bool ob_naf_divisions_has(const ob_naf_divisions *s, unsigned d)
{
	return d < OB_NAF_DIVISIONS && (s->bits[d / 64] >> (d % 64) & 1) != 0;
}

static inline void ob_naf_divisions_add(ob_naf_divisions *s, unsigned d)
{
	if (d < OB_NAF_DIVISIONS)
		s->bits[d / 64] |= (uint64_t)1 << (d % 64);
}

/*
 * A cohort's settings. The ones a cohort derives from its lockdown dates
 * when they are not set (0, "") are filled by ob_cohort_derive (cohort.c):
 * on creation, and on every read of a cohort stored before they existed.
 */
typedef struct ob_cohort {
	char id[OB_COHORT_ID_MAX + 1];
	char name[OB_NAME_MAX + 1];
	uint32_t capacity;
	/* The submission window, [opens, closes). */
	int64_t window_opens_ms;
	int64_t window_closes_ms;
	bool window_enforced; /* always true once derived: kept for the wire and the column */
	char lockdown_start[11];
	char lockdown_end[11];
	char fee_waiver_until[11]; /* the waiver's last day: the cohort's end */
	int64_t monthly_fee_cents;
	int64_t ad_credit_cents;
	uint32_t webinar_hour;
	uint32_t webinar_minute;
	uint32_t webinar_seats;
	uint32_t advisor_pool;
	uint32_t eligible_sizes; /* bit (1 << ob_size_category) */
	int64_t created_at_ms;
	/* The approval window, [opens, closes). */
	int64_t approval_opens_ms;
	int64_t approval_closes_ms;
	ob_naf_divisions excluded_naf;
	uint32_t webinar_lead_minutes; /* approval to session, at least */
	bool webinar_weekends;         /* sessions on Saturdays and Sundays */
	bool webinar_holidays;         /* sessions on French public holidays */
	char milestone_date[11];       /* being live before it counts */
	char terms_version[OB_TERMS_VERSION_MAX + 1];
} ob_cohort;

/* A security event for the audit trail: failed logins, denials, erasures,
 * exports, key changes. Never a secret or personal data in any field. */
enum { OB_AUDIT_EVENT_MAX = 32, OB_AUDIT_PEER_MAX = 64, OB_AUDIT_DETAIL_MAX = 256 };
typedef struct ob_audit_event {
	int64_t seq;                        /* set by the store */
	int64_t at_ms;                      /* 0 on append: now */
	char event[OB_AUDIT_EVENT_MAX + 1]; /* "contact.erase", "keys.rotate", "auth.denied"... */
	char key_id[OB_ACTOR_MAX + 1];      /* who: a key id, "local", or "" when unknown */
	char peer[OB_AUDIT_PEER_MAX + 1];   /* from where: "ipc", "tcp:1.2.3.4:5" */
	char detail[OB_AUDIT_DETAIL_MAX + 1];
} ob_audit_event;

/* Filters of ListApplications; zero values mean "any". */
typedef struct ob_app_filter {
	const char *cohort_id;
	uint32_t states; /* bit (1 << ob_state) */
	ob_size_category size;
	const char *departement;
	const char *region;
	ob_channel channel;
	int64_t submitted_from_ms; /* inclusive */
	int64_t submitted_to_ms;   /* exclusive; 0 = none */
	const char *submitted_by;  /* a submitter's key id, or "local" */
} ob_app_filter;

/* One of a cohort's counters ("state:SUBMITTED", "region:Bretagne", "seats"...)
 * and its count; as a change, count is the delta. */
typedef struct ob_counter {
	char key[96];
	int64_t count;
} ob_counter;

/* The cohort of November 2020, created on first start; what it derives
 * from its lockdown dates is left to ob_cohort_derive. */
void ob_cohort_default(ob_cohort *c);
/*
 * Fills the settings of c left unset (0 or "") from its lockdown dates
 * (nothing when they are not both valid dates), and sets window_enforced:
 *  - fee_waiver_until: lockdown_end + 3 months (the lockdown and the three
 *    months after it);
 *  - the submission window: from lockdown_start 00:00 to the end of
 *    lockdown_end, Paris time;
 *  - the approval window: from lockdown_start 00:00 to the end of
 *    fee_waiver_until, Paris time;
 *  - webinar_lead_minutes: OB_DEFAULT_WEBINAR_LEAD_MINUTES;
 *  - milestone_date: lockdown_end;
 *  - terms_version: lockdown_start ("2020-10-30").
 */
void ob_cohort_derive(ob_cohort *c);
/* "from 2020-10-30 00:00 to 2020-12-16 00:00, Paris time": a window
 * [opens_ms, closes_ms) for a message, into out (n bytes). */
void ob_cohort_window_text(char *out, size_t n, int64_t opens_ms, int64_t closes_ms);
#define OB_DEFAULT_COHORT "2020-11"

/* "EI", "MICRO_ENTREPRENEUR", "SARL"...: onboard.v1.LegalForm without its prefix. */
const char *ob_legal_form_name(ob_legal_form f);

/* Seat-holding states: SUBMITTED, UNDER_REVIEW, NEEDS_INFO, APPROVED, ONBOARDED. */
bool ob_state_holds_seat(ob_state s);
/* REJECTED and WITHDRAWN: nothing moves out of them. */
bool ob_state_final(ob_state s);
/* Live: any state but the final ones. One live application per SIREN and
 * cohort; a company whose application was rejected or withdrawn may apply
 * again. The standing's statistics count the live ones. */
bool ob_state_live(ob_state s);
/* The state an action leads to from `from`, or OB_STATE_UNSPECIFIED when the
 * transition is illegal. The one table of the lifecycle. */
ob_state ob_transition(ob_state from, ob_action action);

const char *ob_state_name(ob_state s);     /* "SUBMITTED"... */
const char *ob_channel_name(ob_channel c); /* "MARKETPLACE"... */
const char *ob_topic_name(ob_topic t);     /* "MARKETPLACE", "OWN_WEBSHOP" */
const char *ob_action_name(ob_action a);   /* "approve"... */

#endif
