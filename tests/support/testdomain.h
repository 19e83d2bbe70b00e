/*
 * testdomain.h: the domain on a real SQLite file in a private temporary directory, for the
 * domain's tests (tests/domain) and for the rpc tests that need a domain behind the handlers.
 *
 *     ob_test_domain t;
 *     if (ob_test_domain_init(&t, "ob-domain") != 0)        DIR = $TMPDIR/ob-domain-XXXXXX
 *             return -1;
 *     t.keys = ob_test_keystore_random();                   or a keystore of t.key, or none
 *     if (ob_test_domain_open(&t) != OB_OK) { ob_test_domain_fini(&t); return -1; }
 *     ... ob_domain_submit(t.d, ...) ...
 *     ob_test_domain_close(&t); ob_test_domain_open(&t);    reopen, same keys, same file
 *     ob_test_domain_fini(&t);
 *
 * No cmocka: functions return errors, so that a cmocka setup can fail cleanly and a test can
 * check with its own macros. One ob_test_domain belongs to one thread (the domain it opens may
 * be used from any).
 */
#ifndef OB_TESTS_TESTDOMAIN_H
#define OB_TESTS_TESTDOMAIN_H

#include "base/err.h"
#include "crypto/keystore.h"
#include "domain/domain.h"
#include "testpg.h"

typedef struct ob_test_domain {
	char dir[256];     /* the private directory, removed with all it holds by _fini */
	char db[300];      /* DIR/onboard.db */
	char key[300];     /* DIR/master.key: where a test that wants a key file makes it */
	ob_keystore *keys; /* owned, kept across reopens; NULL: the store's throwaway keys */
	ob_store *store;   /* NULL while closed */
	ob_domain *d;      /* NULL while closed */
	/* With $ONBOARD_TEST_PG set (the program runs under tools/pgcluster.sh, suite
	 * pg), the store is PostgreSQL: a database of the test's own, made by _init
	 * and dropped by _fini; db then names nothing. Without t->keys it gets
	 * random keys of its own (pg_keys), kept across reopens. */
	ob_test_pg pg;
	ob_keystore *pg_keys;
} ob_test_domain;

/* Whether the tests run against PostgreSQL ($ONBOARD_TEST_PG is set). */
int ob_test_domain_is_pg(void);

/* Zeroes t, initialises libsodium and makes t->dir "$TMPDIR/NAME-XXXXXX" (ob_test_mkdtemp),
 * with t->db and t->key inside it. Opens nothing. Returns 0, or -1 after saying why on
 * stderr (t then holds nothing to free). */
int ob_test_domain_init(ob_test_domain *t, const char *name);

/* A keystore around a vault of one random master key ("test") and a random index key, as a
 * master key file would give, or NULL when one cannot be made. The caller destroys it with
 * ob_keystore_destroy, or hands it to t->keys. */
ob_keystore *ob_test_keystore_random(void);

/* Opens the store at t->db with t->keys (borrowed; with none, ob_store_open_sqlite's throwaway
 * keys, whose contacts do not survive a reopen) and creates the domain on it. Returns OB_OK,
 * or the store's or the domain's error with both closed again. */
OB_NODISCARD ob_err ob_test_domain_open(ob_test_domain *t);

/* Destroys the domain and the store; keeps the keys and the files, for another open. */
void ob_test_domain_close(ob_test_domain *t);

/* Finishes a[0..n), applications in an array of the test's own (which is not freed). */
void ob_test_applications_fini(ob_application *a, size_t n);

/* Closes, destroys the keys and removes the directory with everything in it. Accepts a t
 * whose init failed. */
void ob_test_domain_fini(ob_test_domain *t);

#endif
