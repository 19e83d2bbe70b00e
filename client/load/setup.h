/*
 * setup.h: what a run prepares before its lanes start, over one control connection
 * (libonboard-client, blocking calls from the main thread):
 *
 *   - the login: with --key, a signed Auth/Login whose session token every call then carries
 *     (libonboard-client logs in the same way for its own calls, but keeps its token; the
 *     lanes build their envelopes themselves and need it);
 *   - the cohort: the one --cohort names (which must exist); else, when the run writes, a
 *     throw-away cohort "load-YYYYMMDD-HHMMSS-xxxx" created for it (CreateCohort, an
 *     admin's method: a caller who may not gets a clear refusal and the run does not
 *     start); else none (reads go to the server's default cohort);
 *   - application ids, for get and {{app_id}}: up to 5,000 listed from the cohort (from every
 *     cohort when none is named); when there are none, 200 new applications first, written
 *     where writes go.
 *
 * Not thread-safe: one thread (main) calls these.
 */
#ifndef OB_LOAD_SETUP_H
#define OB_LOAD_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include "attr.h"
#include "load.h"
#include "onboard/client.h"
#include "onboard/v1/auth.pb-c.h"
#include "requests.h"

typedef struct ob_load_setup {
	const ob_load_config *cfg;
	ob_client *client;
	/* the key, with --key (the seed wiped by ob_load_setup_close) */
	bool has_key;
	uint8_t seed[32];
	char key_id[17];
	const char *audiences[8];
	size_t n_audiences;
	char token[OB_LOAD_TOKEN_SIZE];
	int64_t token_ms; /* when it was obtained, monotonic; 0: none */
	char cohort[64];  /* the run's cohort; "": the server's default */
	bool cohort_created;
} ob_load_setup;

/* Connects to cfg's servers and, with a key, logs in. Returns 0, or -1 with a message in err.
 * ob_load_setup_close() in both cases. */
OB_NODISCARD int ob_load_setup_open(ob_load_setup *s, const ob_load_config *cfg, char *err,
                                    size_t errlen);
/* Logs in again (session tokens last 15 minutes: a run calls this every 10). 0 or -1. */
OB_NODISCARD int ob_load_setup_login(ob_load_setup *s, char *err, size_t errlen);
/* Chooses the run's cohort and finds the ids the run needs, into rq (see above); says on
 * stderr what it created. 0 or -1 with a message. */
OB_NODISCARD int ob_load_setup_prepare(ob_load_setup *s, ob_load_requests *rq, char *err,
                                       size_t errlen);
/* Accepts a setup never opened (all zero). */
void ob_load_setup_close(ob_load_setup *s);

/* The id of a throw-away cohort made at unix time t with 4 random hex digits r:
 * "load-20201102-100000-ab12" (at most OB_COHORT_ID_MAX, 32, characters of [a-z0-9-]). */
void ob_load_cohort_id(char out[32], int64_t t, unsigned r);

#endif
