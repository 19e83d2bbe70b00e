/*
 * crash.h: the crash campaign of issue 15 (onboard-crash), what its files share.
 *
 * Several clients (threads, each with its own libonboard-client connection) write to one
 * onboardd: submissions, reviews, withdrawals that promote the waitlist, and key rotations,
 * every keyed write with an idempotency-key of its own. The campaign kills onboardd with
 * SIGKILL at a random moment, checks the database as the kill left it, starts onboardd
 * again, retries what was not acknowledged with the same keys, asks some acknowledged
 * writes again, and checks the service and the database (crash_checks.c). Then again.
 *
 *   crash.c         options, the cycles, the kill, the counts and the verdict
 *   crash_proc.c    onboardd's process, the WAL as the kill left it, the crash image
 *   crash_writes.c  the kinds of write (a table: a new kind is one more row), the clients
 *   crash_checks.c  what must hold after every kill: in the database and through the service
 *
 * The model (cr_model) is what the campaign was told: every write with its key, request
 * and reply, every application with the state its owner last learnt. Each application has
 * one owner, the client that submitted it, and only it reviews or withdraws it, so that the
 * owner knows its state but for promotions from the waitlist, which others' withdrawals
 * cause (a WAITLISTED application may be SUBMITTED since). Everything in the model is
 * guarded by its mutex.
 */
#ifndef OB_TESTS_CRASH_H
#define OB_TESTS_CRASH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "onboard/client.h"
#include "onboard/v1/onboarding.pb-c.h"

/* The states, as the contract numbers them. */
enum {
	CR_WAITLISTED = ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WAITLISTED,
	CR_SUBMITTED = ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_SUBMITTED,
	CR_UNDER_REVIEW = ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_UNDER_REVIEW,
	CR_APPROVED = ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_APPROVED,
	CR_REJECTED = ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_REJECTED,
	CR_WITHDRAWN = ONBOARD__V1__APPLICATION_STATE__APPLICATION_STATE_WITHDRAWN,
};

enum {
	CR_MAX_CLIENTS = 16,
	CR_CALL_MS = 5000,      /* a call in a cycle; the library resends after a restart */
	CR_KEY_SIZE = 64,       /* an idempotency key */
	CR_ID_SIZE = 32,        /* an application id (26 characters) */
	CR_KID_SIZE = 20,       /* a master key id */
	CR_COMPANIES = 1000000, /* company numbers per client: client c has c * this + 1... */
	CR_MAX_KEY_LINES = 60,  /* no rotation past this many master keys (the file holds 64) */
};

/* How an acknowledged write was acknowledged. */
typedef enum cr_how {
	CR_NOT_YET, /* not acknowledged (yet) */
	CR_AT_ONCE, /* its call's reply, in its cycle */
	CR_RESENT,  /* the reply came after the kill: the library sent it again on reconnecting */
	CR_RETRIED, /* the campaign's retry with the same key, after the restart */
	CR_HOW_COUNT,
} cr_how;

struct cr_kind;
struct cr_check;

/* One write: what was sent, and what came of it. */
typedef struct cr_op {
	const struct cr_kind *kind;
	int client;
	size_t app;              /* its application in the model (submit: the new one) */
	char app_id[CR_ID_SIZE]; /* its id, once known: the database checks look for it */
	unsigned cycle;          /* sent in this cycle */
	char key[CR_KEY_SIZE];
	uint8_t *req; /* the packed request, sent again as it is */
	size_t req_len;
	uint8_t *reply; /* the first OK reply's bytes */
	size_t reply_len;
	int from, to;          /* the change it makes (review, withdrawal) */
	uint64_t version;      /* the application's version in the reply */
	char kid[CR_KID_SIZE]; /* rotation: the new master key */
	unsigned ordinal;      /* ad spend: the how-manieth record of its application */
	cr_how how;
	int ack_epoch; /* the server generation that answered (crash.c: epoch), -1 if none */
	bool replayed; /* its first OK reply was a stored one: done before, reply lost */
	bool refused;  /* answered with an error: done nowhere, not retried */
} cr_op;

/* An application as its owner knows it. */
typedef struct cr_app {
	uint32_t n; /* its company (support/testdata.h) */
	int owner;
	char id[CR_ID_SIZE]; /* "" until a reply names it */
	int state;
	uint64_t version;
	int64_t credit, spent; /* ad credit granted and spent, as the last reply showed */
	unsigned spends;       /* ad spend records acknowledged */
} cr_app;

/* The counts the campaign prints (crash.c), written under the model's mutex. */
typedef struct cr_counts {
	uint64_t sent, acked, how[CR_HOW_COUNT];
	uint64_t replayed_retries; /* retries answered from the store: done before the kill */
	uint64_t applied_retries;  /* retries that did it: not done before the kill */
	uint64_t asked_again, identical;
	uint64_t lost, duplicated, unexpected;
	uint64_t rotations, rotations_acked;
	/* Connections that never came back after a kill while onboardd served (crash_writes.c:
	 * cr_reopen), reopened; the admin's too (crash_proc.c). */
	uint64_t reopened;
} cr_counts;

/* What the campaign was told, and its counts. */
typedef struct cr_model {
	pthread_mutex_t mu;
	cr_app *apps;
	size_t n_apps, cap_apps;
	cr_op **ops; /* pointers, which stay put while the array grows */
	size_t n_ops, cap_ops;
	cr_counts counts;
	unsigned capacity; /* the cohort's seats */
	const char *cohort;
	/* Rotations: the last acknowledged one, and whether one started after it. */
	char rotated_kid[CR_KID_SIZE];
	bool rotation_since;
	/* The server generation: 0 for the first onboardd, +1 just before each kill. */
	atomic_int epoch;
	FILE *journal; /* one line per write's outcome, for a post-mortem */
} cr_model;

/* A client of the campaign: a thread with a connection of its own. */
typedef struct cr_client {
	int index;
	cr_model *m;
	const char *url;
	ob_client *cl;
	uint64_t rng;
	uint32_t next_company;
	size_t *mine; /* its applications that may still change (not REJECTED or WITHDRAWN) */
	size_t n_mine, cap_mine;
	cr_op *pending; /* sent, not acknowledged: retried before anything else */
	atomic_bool *stop;
	atomic_int *in_flight;
	pthread_t thread;
} cr_client;

/* ---- crash_writes.c --------------------------------------------------------------------- */

/* A kind of write. */
typedef struct cr_kind {
	const char *name;
	const char *method;
	unsigned weight; /* its share of the clients' writes; 0: the campaign schedules it */
	bool keyed;      /* honours idempotency-key: a retry sends the same key, a repeat replays */
	/* Chooses what client c writes and packs op->req (model locked); false when nothing of
	 * this kind fits now. */
	bool (*plan)(cr_client *c, cr_op *op);
	/* The first OK reply of op into the model (locked). False when the reply is not what
	 * the kind answers (the caller counts it unexpected). */
	bool (*settle)(cr_model *m, cr_op *op, const uint8_t *reply, size_t len);
	/* How many times op's effect is in the database checked (crash_checks.c): 1 is right, 0
	 * lost, more duplicated; -1 if the check could not run. */
	int (*count)(struct cr_check *x, const cr_op *op);
} cr_kind;

extern const cr_kind cr_kinds[];
extern const size_t cr_n_kinds;
/* The kind named name (the rotation: "rotate"), or NULL. */
const cr_kind *cr_kind_named(const char *name);

/* The state-changing kinds need a company's contact name: "Camille Martin N". */
void cr_contact_name(uint32_t n, char *out, size_t size);

/* Sends op (its key when keyed) with a deadline of timeout_ms; fills r (finish it). */
int cr_send(ob_client *cl, const cr_op *op, int64_t timeout_ms, ob_result *r);

/* Records an OK reply to op (model locked): settles a first one, compares a later one with
 * the first (counting an asked-again write), and journals it. Returns false, after
 * counting and saying why, when the reply is not right. */
bool cr_record_ok(cr_model *m, cr_op *op, const ob_result *r, cr_how how);

/* A new write of kind k by client c (model locked), planned; NULL when none fits. */
cr_op *cr_op_plan(cr_client *c, const cr_kind *k);

/* Sends op (planned) for c with a deadline of timeout_ms and records the outcome: acknowledged,
 * pending (c->pending: no answer, or "try again"), or refused (counted unexpected). */
void cr_write(cr_client *c, cr_op *op, int64_t timeout_ms);

/* The clients' thread: writes until *c->stop, or until a write is not acknowledged (then
 * c->pending). */
void *cr_client_main(void *arg);

/* Retries c's pending write with its key until an answer that is not "try again" (at most
 * some 30 tries), and records it. Onboardd serves by then: a connection that gets no reply
 * to a health check within 3 s is reopened first (cr_reopen). */
void cr_retry(cr_client *c);

/* Opens *cl on url, lazily: the first call connects. Returns 0, or -1 after saying why. */
int cr_open(ob_client **cl, const char *url);

/* Replaces *cl, a connection that gets no reply while onboardd serves, by a new one, and
 * counts it (model locked by the caller or not used by others). nng 1.5.2's dialer never
 * dials again after a connection that fails during the SP hello with NNG_ECLOSED (nng
 * #1518, fixed in 1.6.0): a kill of onboardd at that moment leaves the client without a
 * connection for good. Returns 0 or -1. */
int cr_reopen(cr_model *m, ob_client **cl, const char *url, const char *who);

/* Something that must not happen: counted (kind: lost, duplicated or unexpected) and said on
 * stderr with the cycle. */
typedef enum { CR_LOST, CR_DUPLICATED, CR_UNEXPECTED } cr_anomaly;
void cr_report(cr_model *m, cr_anomaly kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Room for one more element of elem bytes in *array (a pointer to the array's pointer), of
 * which n are used and *cap allocated: doubles it (first elements at first) when full.
 * False when out of memory (the array is as it was). */
bool cr_grow(void *array, size_t *cap, size_t n, size_t elem, size_t first);

/* xorshift64*: the campaign's randomness, from the seed. */
uint64_t cr_rand(uint64_t *s);
/* Uniform in [lo, hi]. */
uint64_t cr_between(uint64_t *s, uint64_t lo, uint64_t hi);

/* ---- crash_proc.c ----------------------------------------------------------------------- */

/* onboardd, run by the campaign in dir. */
typedef struct cr_server {
	const char *onboardd;
	char dir[256];
	char url[320], db[320], key[320], log[320];
	pid_t pid;
	pid_t writer;     /* the thread of the store's writer ("ob-writer"), 0 if not found */
	ob_client *admin; /* the campaign's own connection: checks, health */
	cr_model *m;      /* for its counts */
} cr_server;

/* Starts onboardd (again) and waits up to 60 s until it serves. Returns 0 or -1. */
int cr_server_start(cr_server *s);
/* What the writer was doing when the kill was sent: the system call its thread was in,
 * read from /proc a few microseconds before. Waiting for work is a futex wait; anything
 * else (running, pwrite, fdatasync) is inside a batch, between its BEGIN and the return of
 * its COMMIT. */
typedef struct cr_sample {
	bool busy, in_fsync, in_pwrite;
} cr_sample;
/* Samples the writer, sends SIGKILL at once and reaps onboardd. */
void cr_server_kill(cr_server *s, cr_sample *sample);
/* Stops onboardd with SIGTERM; returns its exit status (0 after a clean drain). */
int cr_server_stop(cr_server *s);

/* The WAL as the kill left it: valid frames, of which how many after the last commit. */
typedef struct cr_wal {
	unsigned frames, uncommitted;
} cr_wal;
/* Walks the WAL at path (salts and checksums as SQLite's recovery does). */
void cr_wal_scan(const char *path, cr_wal *out);
/* The WAL's size and modification time, to see a commit start. */
bool cr_wal_changed(const char *path, struct timespec *mtime, off_t *size);

/* Copies the database and its WAL to dir/image (no -shm: the copy recovers from the WAL as
 * a restart would), for checks that must not change what onboardd will recover. Returns the
 * copy's path in out, or -1. */
int cr_crash_image(const cr_server *s, char *out, size_t size);

/* The master key ids of the key file, in order (the last is the active one); at most max. */
size_t cr_key_ids(const char *path, char (*ids)[CR_KID_SIZE], size_t max);

/* ---- crash_checks.c --------------------------------------------------------------------- */

enum { CR_PG_STATEMENTS = 16 };

/* A check of one database: the crash image, or the live one (read-only); SQLite's, or
 * PostgreSQL's (pg, with the statements it prepared). */
typedef struct cr_check {
	struct sqlite3 *db;
	struct pg_conn *pg;
	const char *pg_sql[CR_PG_STATEMENTS];
	char pg_names[CR_PG_STATEMENTS][8];
	const char *what; /* "crash image", "live database" */
	const char *key_file;
	cr_model *m;
	bool settled; /* every write resolved: the live database (cr_check_database) */
} cr_check;

/* The integer that query sql gives, its ?1 bound to text (may be NULL), ?2 and ?3 to a and
 * b; -1 (and counted unexpected) when it fails. */
int cr_count(cr_check *x, const char *sql, const char *text, int a, int b);

/* Checks the database at path for the model: PRAGMA integrity_check, every write acknowledged
 * by a server generation below epoch_limit present exactly once, the seats, counters and
 * waitlist order, every contact's data key under a key of the key file. Counts and reports
 * what fails. settled: the live database once every write is resolved, read-only (a crash
 * image is opened to write: it recovers its WAL); then also every data key under the last
 * acknowledged rotation's key, unless a rotation began since. Model locked. */
void cr_check_database(cr_model *m, const char *path, const char *what, const char *key_file,
                       int epoch_limit, bool settled);

/* Checks through the service: every application known, once, in the state known (promotions
 * learnt), its contact readable; the standing against the seats; the waitlist's positions in
 * submission order. Locks the model. */
void cr_check_service(cr_model *m, ob_client *admin);

/* ---- crash_pg.c: against PostgreSQL (--pg) ---------------------------------------------- */

/* Whether db is a PostgreSQL URL rather than a SQLite file. */
bool cr_is_pg(const char *db);
/* Makes a database of its own in the cluster of tools/pgcluster.sh ($ONBOARD_TEST_PG,
 * $PGHOST...), with amcheck, and writes its postgresql:// URL into url. Returns 0 or -1. */
int cr_pg_database(char *url, size_t size);
/* Crashes and restarts the cluster ($PGCLUSTER_RESTART: pg_ctl stop -m immediate, start),
 * back when it returns. Returns 0 or -1. */
int cr_pg_restart(void);
/* Opens x->pg on url in one read-only snapshot; -1, reported, when it cannot. */
int cr_pg_open(cr_check *x, const char *url);
void cr_pg_close(cr_check *x);
/* cr_count on PostgreSQL. */
int cr_pg_count(cr_check *x, const char *sql, const char *text, int a, int b);
/* Calls each with the first column of every row of sql (?1 bound to text); false when the
 * query fails (reported) or each says to stop. */
typedef bool (*cr_string_fn)(void *ctx, const char *s);
bool cr_pg_strings(cr_check *x, const char *sql, const char *text, cr_string_fn each, void *ctx);
/* The indexes checked against their tables (amcheck); what fails is reported. */
void cr_pg_integrity(cr_check *x);

#endif
