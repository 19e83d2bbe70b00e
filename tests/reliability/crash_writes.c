/*
 * crash_writes.c: the kinds of write the campaign makes, and its clients.
 *
 * The kinds are one table: a name, the method, a weight among the clients' writes, whether
 * the method honours idempotency-key, and three functions: plan (what to write next, packed),
 * settle (the reply into the model) and count (how many times the write is in a database).
 * The ad spend of issue 15, once the contract has it, is one more row: its plan picks an
 * approved application of the client's and an amount, its count looks for the record.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crash.h"
#include "onboard/v1/admin.pb-c.h"
#include "testdata_pb.h"

uint64_t cr_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

bool cr_grow(void *array, size_t *cap, size_t n, size_t elem, size_t first)
{
	if (n < *cap)
		return true;
	void *old, *grown;
	memcpy(&old, array, sizeof(old)); /* any pointer to an object, as void * */
	size_t more = *cap > 0 ? 2 * *cap : first;
	if ((grown = realloc(old, more * elem)) == NULL)
		return false;
	memcpy(array, &grown, sizeof(grown));
	*cap = more;
	return true;
}

uint64_t cr_between(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + cr_rand(s) % (hi - lo + 1);
}

void cr_contact_name(uint32_t n, char *out, size_t size)
{
	td_company c;
	td_company_make(&c, n);
	snprintf(out, size, "%s", c.contact_name);
}

static const char *state_name(int s)
{
	static const char *const names[] = {
	        "UNSPECIFIED", "WAITLISTED", "SUBMITTED", "UNDER_REVIEW", "NEEDS_INFO",
	        "APPROVED",    "ONBOARDED",  "REJECTED",  "WITHDRAWN",
	};
	return s >= 0 && s < (int)(sizeof(names) / sizeof(names[0])) ? names[s] : "?";
}

void cr_report(cr_model *m, cr_anomaly kind, const char *fmt, ...)
{
	static const char *const words[] = {"LOST", "DUPLICATED", "UNEXPECTED"};
	uint64_t *count = kind == CR_LOST         ? &m->counts.lost
	                  : kind == CR_DUPLICATED ? &m->counts.duplicated
	                                          : &m->counts.unexpected;
	(*count)++;
	char what[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s (epoch %d): %s\n", words[kind], atomic_load(&m->epoch), what);
	if (m->journal != NULL)
		fprintf(m->journal, "%s: %s\n", words[kind], what);
}

/* ---- packing ---------------------------------------------------------------------------- */

/* Packs msg into op->req. False when out of memory. */
static bool pack(cr_op *op, const ProtobufCMessage *msg)
{
	op->req_len = protobuf_c_message_get_packed_size(msg);
	op->req = malloc(op->req_len > 0 ? op->req_len : 1);
	if (op->req == NULL)
		return false;
	protobuf_c_message_pack(msg, op->req);
	return true;
}

/* Onboard__V1__Application of a reply, or NULL. Free with free_app. */
static Onboard__V1__Application *app_of(const uint8_t *reply, size_t len)
{
	return onboard__v1__application__unpack(NULL, len, reply);
}

static void free_app(Onboard__V1__Application *a)
{
	if (a != NULL)
		protobuf_c_message_free_unpacked(&a->base, NULL);
}

/* A random application of c's (model locked) in one of the states of mask (1 << state), or
 * SIZE_MAX. */
static size_t pick(cr_client *c, unsigned mask)
{
	size_t chosen = SIZE_MAX, seen = 0;
	for (size_t i = 0; i < c->n_mine; i++) {
		const cr_app *a = &c->m->apps[c->mine[i]];
		if ((mask & (1u << a->state)) && cr_rand(&c->rng) % ++seen == 0)
			chosen = c->mine[i];
	}
	return chosen;
}

/* ---- submit --------------------------------------------------------------------------- */

static bool submit_plan(cr_client *c, cr_op *op)
{
	cr_model *m = c->m;
	if (!cr_grow(&m->apps, &m->cap_apps, m->n_apps, sizeof(*m->apps), 1024))
		return false;
	uint32_t n = (uint32_t)c->index * CR_COMPANIES + 1 + c->next_company++;
	td_company co;
	td_company_make(&co, n);
	td_pb_submission s;
	td_pb_submission_make(&s, &co, m->cohort);
	if (!pack(op, &s.rq.base))
		return false;
	op->app = m->n_apps++;
	m->apps[op->app] = (cr_app){.n = n, .owner = c->index};
	return true;
}

/* The Application of a reply into op's application: it must be in state want (or, when want
 * is 0, waiting or holding a seat). */
static bool settle_application(cr_model *m, cr_op *op, const uint8_t *reply, size_t len, int want)
{
	Onboard__V1__Application *a = app_of(reply, len);
	cr_app *app = &m->apps[op->app];
	bool ok = a != NULL && strlen(a->id) == 26 &&
	          (want != 0 ? (int)a->state == want
	                     : (int)a->state == CR_SUBMITTED || (int)a->state == CR_WAITLISTED) &&
	          (app->id[0] == '\0' || strcmp(app->id, a->id) == 0);
	if (ok) {
		snprintf(app->id, sizeof(app->id), "%s", a->id);
		snprintf(op->app_id, sizeof(op->app_id), "%s", a->id);
		app->state = (int)a->state;
		app->version = a->version;
		if (a->benefits != NULL) {
			app->credit = a->benefits->ad_credit_cents;
			app->spent = a->benefits->ad_credit_used_cents;
		}
		op->to = app->state;
		op->version = a->version;
	}
	free_app(a);
	return ok;
}

static bool submit_settle(cr_model *m, cr_op *op, const uint8_t *reply, size_t len)
{
	return settle_application(m, op, reply, len, 0);
}

static int submit_count(cr_check *x, const cr_op *op);
static int change_count(cr_check *x, const cr_op *op);
static int withdraw_count(cr_check *x, const cr_op *op);
static int spend_count(cr_check *x, const cr_op *op);
static int rotate_count(cr_check *x, const cr_op *op);

/* ---- review --------------------------------------------------------------------------- */

static bool review_plan(cr_client *c, cr_op *op)
{
	size_t i = pick(c, 1u << CR_SUBMITTED | 1u << CR_UNDER_REVIEW);
	if (i == SIZE_MAX)
		return false;
	const cr_app *a = &c->m->apps[i];
	Onboard__V1__ReviewApplicationRequest rq = ONBOARD__V1__REVIEW_APPLICATION_REQUEST__INIT;
	rq.id = (char *)a->id;
	rq.expected_version = a->version; /* its owner knows it: a lost write would show */
	rq.note = (char *)"crash campaign";
	bool reject = cr_rand(&c->rng) % 4 == 0;
	if (reject) {
		rq.action = ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_REJECT;
		rq.rejection_reason = ONBOARD__V1__REJECTION_REASON__REJECTION_REASON_OTHER;
		op->to = CR_REJECTED;
	} else if (a->state == CR_SUBMITTED) {
		rq.action = ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_START;
		op->to = CR_UNDER_REVIEW;
	} else {
		rq.action = ONBOARD__V1__REVIEW_ACTION__REVIEW_ACTION_APPROVE;
		op->to = CR_APPROVED;
	}
	op->app = i;
	op->from = a->state;
	snprintf(op->app_id, sizeof(op->app_id), "%s", a->id);
	return pack(op, &rq.base);
}

static bool change_settle(cr_model *m, cr_op *op, const uint8_t *reply, size_t len)
{
	return settle_application(m, op, reply, len, op->to);
}

/* ---- withdraw ------------------------------------------------------------------------- */

static bool withdraw_plan(cr_client *c, cr_op *op)
{
	size_t i = pick(c, 1u << CR_WAITLISTED | 1u << CR_SUBMITTED | 1u << CR_UNDER_REVIEW |
	                           1u << CR_APPROVED);
	if (i == SIZE_MAX)
		return false;
	const cr_app *a = &c->m->apps[i];
	Onboard__V1__WithdrawApplicationRequest rq =
	        ONBOARD__V1__WITHDRAW_APPLICATION_REQUEST__INIT;
	rq.id = (char *)a->id;
	rq.reason = (char *)"crash campaign";
	/* No version: a waitlisted one may have been promoted (a new version) meanwhile. */
	op->app = i;
	op->from = a->state;
	op->to = CR_WITHDRAWN;
	snprintf(op->app_id, sizeof(op->app_id), "%s", a->id);
	return pack(op, &rq.base);
}

/* ---- ad spend ------------------------------------------------------------------------- */

/* Spending from an approved application's ad credit, as the marketplace's ads service records
 * it: 1 to 20 EUR at a time while credit is left. */
static bool spend_plan(cr_client *c, cr_op *op)
{
	size_t i = pick(c, 1u << CR_APPROVED);
	if (i == SIZE_MAX)
		return false;
	const cr_app *a = &c->m->apps[i];
	int64_t left = a->credit - a->spent;
	if (left < 100)
		return false;
	Onboard__V1__RecordAdSpendRequest rq = ONBOARD__V1__RECORD_AD_SPEND_REQUEST__INIT;
	rq.id = (char *)a->id;
	rq.amount_cents = (int64_t)cr_between(&c->rng, 100, left < 2000 ? (uint64_t)left : 2000);
	rq.reference = op->key;
	op->app = i;
	op->from = op->to = CR_APPROVED;
	snprintf(op->app_id, sizeof(op->app_id), "%s", a->id);
	return pack(op, &rq.base);
}

static bool spend_settle(cr_model *m, cr_op *op, const uint8_t *reply, size_t len)
{
	if (!settle_application(m, op, reply, len, CR_APPROVED))
		return false;
	op->ordinal = ++m->apps[op->app].spends;
	return true;
}

/* ---- rotate --------------------------------------------------------------------------- */

static bool rotate_plan(cr_client *c, cr_op *op)
{
	Onboard__V1__RotateKeysRequest rq = ONBOARD__V1__ROTATE_KEYS_REQUEST__INIT;
	c->m->rotation_since = true;
	c->m->counts.rotations++;
	op->app = SIZE_MAX;
	return pack(op, &rq.base);
}

static bool rotate_settle(cr_model *m, cr_op *op, const uint8_t *reply, size_t len)
{
	Onboard__V1__RotateKeysResponse *r =
	        onboard__v1__rotate_keys_response__unpack(NULL, len, reply);
	bool ok = r != NULL && r->active_key_id[0] != '\0';
	if (ok) {
		snprintf(op->kid, sizeof(op->kid), "%s", r->active_key_id);
		snprintf(m->rotated_kid, sizeof(m->rotated_kid), "%s", r->active_key_id);
		m->rotation_since = false;
		m->counts.rotations_acked++;
	}
	if (r != NULL)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	return ok;
}

/* ---- the table ------------------------------------------------------------------------ */

const cr_kind cr_kinds[] = {
        {"submit", "/onboard.v1.Onboarding/SubmitApplication", 2, true, submit_plan, submit_settle,
         submit_count},
        {"review", "/onboard.v1.Onboarding/ReviewApplication", 5, true, review_plan, change_settle,
         change_count},
        {"withdraw", "/onboard.v1.Onboarding/WithdrawApplication", 3, true, withdraw_plan,
         change_settle, withdraw_count},
        {"adspend", "/onboard.v1.Onboarding/RecordAdSpend", 2, true, spend_plan, spend_settle,
         spend_count},
        {"rotate", "/onboard.v1.Admin/RotateKeys", 0, false, rotate_plan, rotate_settle,
         rotate_count},
};
const size_t cr_n_kinds = sizeof(cr_kinds) / sizeof(cr_kinds[0]);

const cr_kind *cr_kind_named(const char *name)
{
	for (size_t i = 0; i < cr_n_kinds; i++)
		if (strcmp(cr_kinds[i].name, name) == 0)
			return &cr_kinds[i];
	return NULL;
}

/* ---- counting in a database ----------------------------------------------------------- */

static int submit_count(cr_check *x, const cr_op *op)
{
	return cr_count(x, "SELECT count(*) FROM application WHERE id = ?1", op->app_id, 0, 0);
}

static int change_count(cr_check *x, const cr_op *op)
{
	return cr_count(x,
	                "SELECT count(*) FROM history h JOIN application a ON a.seq = h.app_seq "
	                "WHERE a.id = ?1 AND h.from_state = ?2 AND h.to_state = ?3",
	                op->app_id, op->from, op->to);
}

/* A withdrawal's from state may be a promotion its owner had not learnt yet. */
static int withdraw_count(cr_check *x, const cr_op *op)
{
	return cr_count(x,
	                "SELECT count(*) FROM history h JOIN application a ON a.seq = h.app_seq "
	                "WHERE a.id = ?1 AND h.to_state = ?2",
	                op->app_id, CR_WITHDRAWN, 0);
}

/* A record is a history entry of its application, from APPROVED to APPROVED, its reference
 * sealed with the note: this one is there when the application has at least as many as its
 * ordinal. Once every write is resolved, the last one also tells whether there are more
 * than were acknowledged. */
static int spend_count(cr_check *x, const cr_op *op)
{
	int rows = cr_count(x,
	                    "SELECT count(*) FROM history h JOIN application a ON a.seq = "
	                    "h.app_seq WHERE a.id = ?1 AND h.from_state = ?2 AND h.to_state = ?2 "
	                    "AND h.reason LIKE 'ad credit spent:%'",
	                    op->app_id, CR_APPROVED, 0);
	unsigned acked = x->m->apps[op->app].spends;
	if (rows < 0)
		return rows;
	if (x->settled && op->ordinal == acked)
		return rows - (int)acked + 1;
	return rows >= (int)op->ordinal ? 1 : 0;
}

static int rotate_count(cr_check *x, const cr_op *op)
{
	char ids[64][CR_KID_SIZE];
	size_t n = cr_key_ids(x->key_file, ids, 64);
	int found = 0;
	for (size_t i = 0; i < n; i++)
		found += strcmp(ids[i], op->kid) == 0;
	return found;
}

/* ---- sending and recording --------------------------------------------------------------- */

int cr_send(ob_client *cl, const cr_op *op, int64_t timeout_ms, ob_result *r)
{
	const ob_metadata md[] = {{"idempotency-key", op->key}};
	return ob_client_call(cl, op->kind->method, md, op->kind->keyed ? 1 : 0, op->req,
	                      op->req_len, timeout_ms, r);
}

static void journal(cr_model *m, const cr_op *op, const char *what)
{
	if (m->journal == NULL)
		return;
	fprintf(m->journal, "cycle %u client %d %s %s app %s: %s %s -> %s%s\n", op->cycle,
	        op->client, op->kind->name, op->key, op->app_id[0] ? op->app_id : "-", what,
	        state_name(op->from), op->kid[0] ? op->kid : state_name(op->to),
	        op->replayed ? " (replayed)" : "");
}

bool cr_record_ok(cr_model *m, cr_op *op, const ob_result *r, cr_how how)
{
	if (op->how == CR_NOT_YET) {
		if (!op->kind->settle(m, op, r->payload, r->payload_len)) {
			cr_report(m, CR_UNEXPECTED, "%s %s: the reply is not what it answers",
			          op->kind->name, op->key);
			op->refused = true;
			return false;
		}
		op->reply = malloc(r->payload_len > 0 ? r->payload_len : 1);
		if (op->reply != NULL && r->payload_len > 0)
			memcpy(op->reply, r->payload, r->payload_len);
		op->reply_len = op->reply != NULL ? r->payload_len : 0;
		op->how = how;
		op->ack_epoch = atomic_load(&m->epoch);
		op->replayed = r->replayed;
		m->counts.acked++;
		m->counts.how[how]++;
		journal(m, op,
		        how == CR_AT_ONCE  ? "ack"
		        : how == CR_RESENT ? "ack after restart"
		                           : "ack on retry");
		return true;
	}
	/* Asked again: the first reply, byte for byte, and nothing done twice. */
	m->counts.asked_again++;
	if (!r->replayed) {
		cr_report(m, CR_DUPLICATED, "%s %s (app %s) asked again with its key: done again",
		          op->kind->name, op->key, op->app_id);
		return false;
	}
	if (r->payload_len != op->reply_len ||
	    (op->reply_len > 0 && memcmp(r->payload, op->reply, op->reply_len) != 0)) {
		cr_report(m, CR_UNEXPECTED, "%s %s (app %s) asked again: not the original reply",
		          op->kind->name, op->key, op->app_id);
		return false;
	}
	m->counts.identical++;
	return true;
}

/* Whether a failed call may still be answered later (the server away, or asking for
 * patience): the write is then pending, retried with its key. */
static bool try_again(int code, const ob_result *r)
{
	return r->local || code == OB_CODE_UNAVAILABLE || code == OB_CODE_DEADLINE_EXCEEDED ||
	       code == OB_CODE_RESOURCE_EXHAUSTED || code == OB_CODE_CANCELLED;
}

/* c's list of applications that may still change, after op (model locked). */
static void track(cr_client *c, const cr_op *op)
{
	if (op->app == SIZE_MAX)
		return;
	const cr_app *a = &c->m->apps[op->app];
	size_t at = SIZE_MAX;
	for (size_t i = 0; i < c->n_mine; i++)
		if (c->mine[i] == op->app)
			at = i;
	bool live = a->id[0] != '\0' && a->state != CR_REJECTED && a->state != CR_WITHDRAWN;
	if (!live && at != SIZE_MAX) {
		c->mine[at] = c->mine[--c->n_mine];
	} else if (live && at == SIZE_MAX) {
		if (cr_grow(&c->mine, &c->cap_mine, c->n_mine, sizeof(*c->mine), 64))
			c->mine[c->n_mine++] = op->app;
	}
}

/* The outcome of a call of op sent while the server generation was epoch0 (model locked). */
static void outcome(cr_client *c, cr_op *op, int code, const ob_result *r, int epoch0)
{
	cr_model *m = c->m;
	if (code == OB_CODE_OK) {
		cr_how how = atomic_load(&m->epoch) == epoch0 ? CR_AT_ONCE : CR_RESENT;
		if (cr_record_ok(m, op, r, how))
			track(c, op);
	} else if (try_again(code, r)) {
		c->pending = op;
	} else {
		op->refused = true;
		cr_report(m, CR_UNEXPECTED, "%s %s (app %s): %s: %s", op->kind->name, op->key,
		          op->app_id, ob_code_name(code), r->message);
	}
}

cr_op *cr_op_plan(cr_client *c, const cr_kind *k)
{
	cr_model *m = c->m;
	if (!cr_grow(&m->ops, &m->cap_ops, m->n_ops, sizeof(*m->ops), 4096))
		return NULL;
	cr_op *op = calloc(1, sizeof(*op));
	if (op == NULL)
		return NULL;
	op->kind = k;
	op->client = c->index;
	op->ack_epoch = -1;
	op->cycle = (unsigned)atomic_load(&m->epoch);
	snprintf(op->key, sizeof(op->key), "crash-%d-%zu", c->index, m->n_ops);
	if (!k->plan(c, op)) {
		free(op->req);
		free(op);
		return NULL;
	}
	m->ops[m->n_ops++] = op;
	m->counts.sent++;
	return op;
}

/* The next write of c (model locked): a kind drawn by weight, a submission when the kind
 * drawn finds nothing to do. */
static cr_op *next_write(cr_client *c)
{
	unsigned total = 0;
	for (size_t i = 0; i < cr_n_kinds; i++)
		total += cr_kinds[i].weight;
	unsigned x = (unsigned)(cr_rand(&c->rng) % total);
	const cr_kind *k = &cr_kinds[0];
	for (size_t i = 0; i < cr_n_kinds; i++) {
		if (x < cr_kinds[i].weight) {
			k = &cr_kinds[i];
			break;
		}
		x -= cr_kinds[i].weight;
	}
	cr_op *op = cr_op_plan(c, k);
	return op != NULL ? op : cr_op_plan(c, cr_kind_named("submit"));
}

/* Learns whether one of c's waitlisted applications was promoted since: others'
 * withdrawals promote, and its owner reviews only what it knows holds a seat. */
static void refresh(cr_client *c)
{
	cr_model *m = c->m;
	pthread_mutex_lock(&m->mu);
	size_t i = pick(c, 1u << CR_WAITLISTED);
	char id[CR_ID_SIZE] = "";
	if (i != SIZE_MAX)
		snprintf(id, sizeof(id), "%s", m->apps[i].id);
	pthread_mutex_unlock(&m->mu);
	if (id[0] == '\0')
		return;
	Onboard__V1__GetApplicationRequest rq = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
	rq.id = id;
	Onboard__V1__Application *a = NULL;
	ob_result r;
	int code = ob_client_call_message(c->cl, "/onboard.v1.Onboarding/GetApplication", NULL, 0,
	                                  &rq.base, &onboard__v1__application__descriptor,
	                                  (ProtobufCMessage **)&a, CR_CALL_MS, &r);
	pthread_mutex_lock(&m->mu);
	cr_app *app = &m->apps[i];
	if (code == OB_CODE_OK && app->state == CR_WAITLISTED && (int)a->state == CR_SUBMITTED &&
	    a->version > app->version) {
		app->state = CR_SUBMITTED;
		app->version = a->version;
	} else if (code != OB_CODE_OK && !try_again(code, &r)) {
		cr_report(m, CR_UNEXPECTED, "GetApplication %s: %s: %s", id, ob_code_name(code),
		          r.message);
	}
	pthread_mutex_unlock(&m->mu);
	free_app(a);
	ob_result_fini(&r);
}

void cr_write(cr_client *c, cr_op *op, int64_t timeout_ms)
{
	cr_model *m = c->m;
	int epoch0 = atomic_load(&m->epoch);
	ob_result r;
	atomic_fetch_add(c->in_flight, 1);
	int code = cr_send(c->cl, op, timeout_ms, &r);
	atomic_fetch_sub(c->in_flight, 1);
	pthread_mutex_lock(&m->mu);
	outcome(c, op, code, &r, epoch0);
	pthread_mutex_unlock(&m->mu);
	ob_result_fini(&r);
}

void *cr_client_main(void *arg)
{
	cr_client *c = arg;
	cr_model *m = c->m;
	while (!atomic_load(c->stop) && c->pending == NULL) {
		if (cr_rand(&c->rng) % 8 == 0)
			refresh(c);
		pthread_mutex_lock(&m->mu);
		cr_op *op = next_write(c);
		pthread_mutex_unlock(&m->mu);
		if (op == NULL)
			break; /* out of memory */
		/* Odd clients are impatient: their deadline often passes while onboardd is
		 * down, and the campaign retries what they gave up on. The others wait, and the
		 * library sends their call again once onboardd is back. */
		cr_write(c, op, c->index % 2 ? (int64_t)cr_between(&c->rng, 100, 600) : CR_CALL_MS);
		/* A short pause, so that the clients' writes meet in the writer's batches at
		 * varying times rather than in lockstep. */
		struct timespec ts = {0, (long)cr_between(&c->rng, 500, 4000) * 1000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int cr_open(ob_client **cl, const char *url)
{
	const char *urls[] = {url};
	ob_client_options opts = {.lazy_connect = true};
	char err[256];
	if (ob_client_open(cl, urls, 1, &opts, err, sizeof(err)) != 0) {
		fprintf(stderr, "onboard-crash: %s\n", err);
		return -1;
	}
	return 0;
}

int cr_reopen(cr_model *m, ob_client **cl, const char *url, const char *who)
{
	ob_client_close(*cl);
	*cl = NULL;
	m->counts.reopened++;
	fprintf(stderr,
	        "note (epoch %d): %s got no reply while onboardd served: reopened (nng "
	        "1.5.2 dials no more after a connection cut during its hello)\n",
	        atomic_load(&m->epoch), who);
	if (m->journal != NULL)
		fprintf(m->journal, "reopened %s: no reply while onboardd served\n", who);
	return cr_open(cl, url);
}

/* Whether cl gets a reply from onboardd, which serves: Health/Check within 3 s. */
static bool answers(ob_client *cl)
{
	ob_result r;
	int code = ob_client_call(cl, "/onboard.v1.Health/Check", NULL, 0, NULL, 0, 3000, &r);
	bool silent = r.local && code == OB_CODE_DEADLINE_EXCEEDED;
	ob_result_fini(&r);
	return !silent;
}

void cr_retry(cr_client *c)
{
	cr_model *m = c->m;
	cr_op *op = c->pending;
	c->pending = NULL;
	if (op == NULL)
		return;
	if (!answers(c->cl)) {
		char who[32];
		snprintf(who, sizeof(who), "client %d", c->index);
		pthread_mutex_lock(&m->mu);
		int rc = cr_reopen(m, &c->cl, c->url, who);
		pthread_mutex_unlock(&m->mu);
		if (rc != 0)
			return;
	}
	if (!op->kind->keyed) {
		/* Not idempotent (a rotation): cut by the kill, its effect checked as it is. */
		pthread_mutex_lock(&m->mu);
		journal(m, op, "cut by the kill, not retried");
		pthread_mutex_unlock(&m->mu);
		return;
	}
	for (int attempt = 0;; attempt++) {
		ob_result r;
		int code = cr_send(c->cl, op, CR_CALL_MS, &r);
		pthread_mutex_lock(&m->mu);
		bool again = code != OB_CODE_OK && try_again(code, &r) && attempt < 30;
		if (code == OB_CODE_OK) {
			if (r.replayed)
				m->counts.replayed_retries++;
			else
				m->counts.applied_retries++;
			if (cr_record_ok(m, op, &r, CR_RETRIED))
				track(c, op);
		} else if (!again) {
			/* The owner knew the state: a refusal now means the write was applied
			 * before without its key, or is lost. */
			op->refused = true;
			bool twice = code == OB_CODE_ALREADY_EXISTS || code == OB_CODE_ABORTED ||
			             code == OB_CODE_FAILED_PRECONDITION;
			cr_report(m, twice ? CR_DUPLICATED : CR_UNEXPECTED,
			          "the retry of %s %s (app %s): %s: %s", op->kind->name, op->key,
			          op->app_id, ob_code_name(code), r.message);
		}
		pthread_mutex_unlock(&m->mu);
		uint32_t wait_ms = r.retry_after_ms > 0 ? r.retry_after_ms : 500;
		ob_result_fini(&r);
		if (!again)
			return;
		struct timespec ts = {wait_ms / 1000, (long)(wait_ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
}
