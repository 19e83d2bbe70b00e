/*
 * test_rpc_domain.c: the parts of rpc/ that need a real domain, on a SQLite file in a private
 * temporary directory, without a socket: what the audit trail records for a caller (and how
 * much of a flood), and what Health/Check says of the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/utf8.h"
#include "domain/domain.h"
#include "onboard/v1/health.pb-c.h"
#include "onboard/v1/rpc.pb-c.h"
#include "rpc/authz.h"
#include "rpc/dispatch.h"
#include "envelope.h"
#include "rpc/handlers.h"
#include "testdomain.h"
#include "testutil.h"

/* ---- fixture: a fresh database per test (testdomain.h), the handlers in front of it --------- */

typedef struct fx {
	ob_test_domain t; /* the store's throwaway keys: no test here reopens it */
	ob_dispatch *dispatch;
	ob_rpc_env env;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	if (f == NULL || ob_test_domain_init(&f->t, "ob-rpc-domain") != 0) {
		free(f);
		return -1;
	}
	if (ob_test_domain_open(&f->t) != OB_OK || ob_dispatch_create(&f->dispatch) != OB_OK ||
	    ob_handlers_register(f->dispatch) != OB_OK) {
		ob_dispatch_destroy(f->dispatch);
		ob_test_domain_fini(&f->t);
		free(f);
		return -1;
	}
	f->env.domain = f->t.d;
	f->env.dispatch = f->dispatch;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	ob_dispatch_destroy(f->dispatch);
	ob_test_domain_fini(&f->t);
	free(f);
	return 0;
}

/* Every audit event recorded so far, oldest first; *out malloc'd. */
static size_t audit_all(fx *f, ob_audit_event **out)
{
	ob_outcome o;
	ob_outcome_init(&o);
	bool more = false;
	size_t n = 0;
	ob_err err = ob_domain_audit_list(f->t.d, 0, OB_MAX_PAGE_SIZE, out, &n, &more, &o);
	if (err != OB_OK)
		fail_msg("audit list: %s: %s", ob_strerror(err), o.message);
	assert_false(more);
	ob_outcome_fini(&o);
	return n;
}

/* ---- the audit trail ---------------------------------------------------------------------------
 */

/* A failed call's method (any UTF-8 a caller sent, here 300 bytes of two-byte characters)
 * is recorded as the event's detail, cut to OB_AUDIT_DETAIL_MAX between two characters: the
 * trail stays valid UTF-8, so ListAuditEvents can still be read by strict runtimes. */
static void test_audit_detail_cut_on_boundary(void **state)
{
	fx *f = *state;
	char method[302];
	ob_test_fill_e_acute(method, sizeof(method), "/");
	ob_admin_audit_hook(&f->env, "unauthenticated", "", "tcp:192.0.2.1:4000", method);

	ob_audit_event *ev = NULL;
	size_t n = audit_all(f, &ev);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].event, "unauthenticated");
	size_t len = strlen(ev[0].detail);
	assert_true(len > 0 && len <= OB_AUDIT_DETAIL_MAX);
	assert_memory_equal(ev[0].detail, method, len);
	if (!ob_utf8_valid(ev[0].detail, len))
		fail_msg("the recorded detail (%zu bytes) is not valid UTF-8", len);
	free(ev);
}

/* How many audit events named event are in the trail; the detail of the last one in detail
 * (OB_AUDIT_DETAIL_MAX + 1 bytes) when not NULL. */
static size_t audit_count(fx *f, const char *event, char *detail)
{
	size_t count = 0;
	int64_t after = 0;
	for (;;) {
		ob_outcome o;
		ob_outcome_init(&o);
		ob_audit_event *ev = NULL;
		size_t n = 0;
		bool more = false;
		assert_int_equal(
		        ob_domain_audit_list(f->t.d, after, OB_MAX_PAGE_SIZE, &ev, &n, &more, &o),
		        OB_OK);
		ob_outcome_fini(&o);
		for (size_t i = 0; i < n; i++) {
			if (strcmp(ev[i].event, event) != 0)
				continue;
			count++;
			if (detail != NULL)
				memcpy(detail, ev[i].detail, sizeof(ev[i].detail));
		}
		if (n > 0)
			after = ev[n - 1].seq;
		free(ev);
		if (!more)
			return count;
	}
}

/* One call without credentials from host (a remote peer): refused UNAUTHENTICATED. */
static void unauthenticated_call(ob_authz *a, fx *f, const char *host)
{
	ob_call call;
	ob_call_init(&call, &f->env, OB_DEFAULT_MAX_REQUEST_BYTES);
	char peer[64];
	snprintf(peer, sizeof(peer), "tcp:%s:40000", host);
	call.peer = peer;
	call.peer_host = host;
	call.method = "/onboard.v1.Onboarding/GetCohort";
	assert_int_equal(ob_authz_authorize(a, &call, OB_ALLOW(1)), OB_EAUTH);
	ob_call_fini(&call);
}

enum {
	FLOOD_ADDRESSES = 500,
	FLOOD_CALLS = 4,
	AUDIT_RATE = 50,  /* failed calls recorded a second in all: authz.h's default */
	AUDIT_BURST = 100 /* and its burst */
};

/* A flood of failed calls from many addresses (auditflood.py's shape: each address within
 * its own budget) writes a bounded number of audit rows (the global burst, plus what the
 * budget refills while the flood lasts: the limits run on the real clock), and then one
 * summary saying how many were dropped; the count is exact. */
static void test_audit_flood_bounded(void **state)
{
	fx *f = *state;
	ob_authz_config cfg;
	ob_authz_config_defaults(&cfg);
	cfg.audit = ob_admin_audit_hook;
	cfg.audit_ctx = &f->env;
	ob_authz *a = NULL;
	assert_int_equal(ob_authz_create(&a, &cfg), OB_OK);
	f->env.authz = a;

	int64_t start = ob_test_mono_ms();
	for (int i = 0; i < FLOOD_ADDRESSES; i++) {
		char host[32];
		snprintf(host, sizeof(host), "10.50.%d.%d", i / 250, i % 250 + 1);
		for (int k = 0; k < FLOOD_CALLS; k++)
			unauthenticated_call(a, f, host);
	}
	int64_t took = ob_test_mono_ms() - start;
	size_t recorded = audit_count(f, "unauthenticated", NULL);
	size_t budget = AUDIT_BURST + (size_t)(AUDIT_RATE * (took + 1000) / 1000);
	if (recorded > budget)
		fail_msg("%d failed calls from %d addresses in %lld ms wrote %zu audit rows; the "
		         "budget is %zu",
		         FLOOD_ADDRESSES * FLOOD_CALLS, FLOOD_ADDRESSES, (long long)took, recorded,
		         budget);
	assert_true(recorded >= AUDIT_BURST / 2); /* it does record some */
	if (took < 1000)                          /* not within the second */
		assert_int_equal(audit_count(f, "audit-dropped", NULL), 0);

	/* A second later, the next failure brings the summary, with the exact count. */
	nanosleep(&(struct timespec){.tv_sec = 1, .tv_nsec = 100 * 1000000L}, NULL);
	unauthenticated_call(a, f, "192.0.2.7");
	size_t summaries = audit_count(f, "audit-dropped", NULL);
	assert_true(summaries >= 1);
	if (summaries == 1) {
		char detail[OB_AUDIT_DETAIL_MAX + 1] = "";
		assert_int_equal(audit_count(f, "audit-dropped", detail), 1);
		char want[160];
		snprintf(want, sizeof(want),
		         "%zu failed-call audit events dropped in the last interval (since ",
		         (size_t)(FLOOD_ADDRESSES * FLOOD_CALLS) - recorded);
		if (strncmp(detail, want, strlen(want)) != 0)
			fail_msg("summary '%s', want it to start with '%s'", detail, want);
	}
	/* That failure itself is recorded: the budget has refilled. */
	assert_int_equal(audit_count(f, "unauthenticated", NULL), recorded + 1);

	/* What is dropped after the last summary is summed up when the authorizer goes. */
	for (int k = 0; k < 200; k++)
		unauthenticated_call(a, f, "192.0.2.8");
	ob_authz_destroy(a);
	f->env.authz = NULL;
	assert_int_equal(audit_count(f, "audit-dropped", NULL), summaries + 1);
	int64_t all = ob_test_mono_ms() - start;
	size_t total =
	        audit_count(f, "unauthenticated", NULL) + audit_count(f, "audit-dropped", NULL);
	assert_true(total <= AUDIT_BURST + (size_t)(AUDIT_RATE * (all + 1000) / 1000) + 3);
}

/* ---- health -------------------------------------------------------------------------------- */

/* Health/Check for the whole server, through the real pipeline: the serving status. */
static int health(fx *f)
{
	uint8_t buf[128];
	size_t len = ob_test_envelope_plain("/onboard.v1.Health/Check", buf, sizeof(buf));
	ob_call call;
	ob_call_init(&call, &f->env, OB_DEFAULT_MAX_REQUEST_BYTES);
	Onboard__V1__Response *rs = ob_dispatch_handle(f->dispatch, &call, buf, len);
	assert_int_equal(rs->code, ONBOARD__V1__CODE__OK);
	Onboard__V1__HealthCheckResponse *h =
	        onboard__v1__health_check_response__unpack(NULL, rs->payload.len, rs->payload.data);
	assert_non_null(h);
	int status = (int)h->status;
	onboard__v1__health_check_response__free_unpacked(h, NULL);
	ob_call_fini(&call);
	return status;
}

/* Asks health every 50 ms until it says want, for up to 5 s; returns the last answer. */
static int health_becomes(fx *f, int want)
{
	int got = health(f);
	for (int i = 0; i < 100 && got != want; i++) {
		ob_test_sleep_ms(50);
		got = health(f);
	}
	return got;
}

enum {
	SERVING = ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING,
	NOT_SERVING = ONBOARD__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING,
};

/* The database file moved away, as when it is deleted or replaced under a running server:
 * health says NOT_SERVING (health.proto: the store cannot be reached) once the last answer has
 * aged (a second), then SERVING again once it is back; a file put in its place is not the
 * store's. Reads on the open connections go on all along, which is why the store must look. */
static void test_health_follows_the_store(void **state)
{
	fx *f = *state;
	assert_int_equal(health(f), SERVING);
	char away[320];
	snprintf(away, sizeof(away), "%s.away", f->t.db);
	assert_int_equal(rename(f->t.db, away), 0);
	assert_int_equal(health_becomes(f, NOT_SERVING), NOT_SERVING);
	assert_int_equal(ob_domain_store_health(f->t.d), OB_EUNAVAIL);

	/* Another file at the path: still not the store's database. */
	FILE *fp = fopen(f->t.db, "w");
	assert_non_null(fp);
	fclose(fp);
	ob_test_sleep_ms(OB_STORE_HEALTH_TTL_MS + 100);
	assert_int_equal(health(f), NOT_SERVING);
	unlink(f->t.db);

	assert_int_equal(rename(away, f->t.db), 0);
	assert_int_equal(health_becomes(f, SERVING), SERVING);
	assert_int_equal(ob_domain_store_health(f->t.d), OB_OK);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_audit_detail_cut_on_boundary),
	        T(test_audit_flood_bounded),
	        T(test_health_follows_the_store),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
