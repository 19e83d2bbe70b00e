/*
 * onboard-load: a load generator for onboardd in the spirit of ghz, on
 * libonboard-client.
 *
 * Closed loop by default: --concurrency threads each send their next call
 * when the previous one returns. With --rate R the loop is open: call i is
 * due at start + i/R whatever happens to the others, and its latency counts
 * from that due time, not from when a thread got round to sending it, so a
 * stall shows up in the figures instead of hiding behind fewer requests
 * (coordinated omission).
 *
 * Latencies of OK calls go into per-thread HDR-style histograms merged at
 * the end; non-OK calls are counted per status code and kept out of the
 * latency figures.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "defaults.h"
#include "histogram.h"
#include "luhn.h"
#include "onboard/client.h"
#include "onboard/v1/onboarding.pb-c.h"
#include "values.h"

enum { MAX_SERVERS = 16, MAX_IDS = 20000, N_CODES = 17 };

typedef enum { OP_SUBMIT, OP_GET, OP_LIST, OP_COHORT, OP_ECHO, OP_COUNT } op_kind;

typedef struct {
	const char *servers[MAX_SERVERS];
	size_t n_servers;
	const char *scenario;
	unsigned concurrency;
	unsigned connections;
	uint64_t total;    /* 0: use duration */
	double duration_s; /* 0: use total */
	double warmup_s;
	double rate; /* 0: closed loop */
	int64_t timeout_ms;
	bool json;
	unsigned weights[OP_COUNT];
	size_t echo_bytes; /* raw REQ/REP echo: message size */
	const char *cohort;
	const char *key_file;
} config;

typedef struct {
	ob_hist hist;
	uint64_t codes[N_CODES + 1]; /* last: local failures */
	uint64_t calls;
} stats;

typedef struct shared {
	config cfg;
	ob_client **clients;
	nng_socket *raw;           /* for echo */
	atomic_uint_fast64_t next; /* next call number */
	atomic_uint_fast64_t siren_seq;
	int64_t start_us; /* measurement start (after warm-up) */
	int64_t warm_start_us;
	int64_t end_us; /* duration mode */
	char ids[MAX_IDS][32];
	size_t n_ids;
	uint32_t siren_base;
	pthread_barrier_t barrier;
} shared;

typedef struct {
	shared *sh;
	unsigned index;
	stats st;
	uint64_t rng;
} worker;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_until(int64_t t_us)
{
	int64_t d = t_us - now_us();
	if (d <= 0)
		return;
	struct timespec ts = {.tv_sec = d / 1000000, .tv_nsec = (d % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64*: cheap and good enough to pick operations */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* A unique, valid synthetic company for each call number. */
static size_t pack_submit(shared *sh, uint8_t *buf, size_t cap)
{
	uint64_t n = atomic_fetch_add(&sh->siren_seq, 1);
	char siren[10];
	snprintf(siren, sizeof(siren), "%08" PRIu32, (uint32_t)((sh->siren_base + n) % 100000000u));
	siren[8] = (char)('0' + ob_luhn_key(siren, 8));
	siren[9] = '\0';
	char name[64];
	snprintf(name, sizeof(name), "Load test company %" PRIu64, n);
	/* Real places: onboardd checks the city against La Poste's base. */
	static const char *const postal[] = {"75011", "69003", "13001", "33000", "59000",
	                                     "20000", "97400", "35000", "67000", "31000"};
	static const char *const city[] = {"Paris",      "Lyon",    "Marseille",   "Bordeaux",
	                                   "Lille",      "Ajaccio", "Saint-Denis", "Rennes",
	                                   "Strasbourg", "Toulouse"};
	Onboard__V1__Address ad = ONBOARD__V1__ADDRESS__INIT;
	ad.street = (char *)"1 place de la République";
	ad.postal_code = (char *)postal[n % 10];
	ad.city = (char *)city[n % 10];
	Onboard__V1__Company c = ONBOARD__V1__COMPANY__INIT;
	c.siren = siren;
	c.legal_name = name;
	c.naf_code = (char *)"47.91B";
	c.employees = (uint32_t)(n % 40);
	c.turnover_eur = 150000 + (int64_t)(n % 1000) * 1000;
	c.balance_sheet_eur = 80000;
	c.address = &ad;
	Onboard__V1__Contact ct = ONBOARD__V1__CONTACT__INIT;
	ct.name = (char *)"Camille Durand";
	ct.email = (char *)"camille@example.fr";
	ct.phone = (char *)"06 12 34 56 78";
	Onboard__V1__SubmitApplicationRequest rq = ONBOARD__V1__SUBMIT_APPLICATION_REQUEST__INIT;
	rq.cohort_id = (char *)sh->cfg.cohort;
	rq.company = &c;
	rq.contact = &ct;
	rq.channel = (Onboard__V1__Channel)(1 + n % 3);
	rq.intends_to_export = n % 4 == 0;
	rq.accepts_terms = true;
	size_t len = onboard__v1__submit_application_request__get_packed_size(&rq);
	if (len > cap)
		return 0;
	return onboard__v1__submit_application_request__pack(&rq, buf);
}

static op_kind pick(worker *w)
{
	const config *c = &w->sh->cfg;
	unsigned sum = 0;
	for (int i = 0; i < OP_COUNT; i++)
		sum += c->weights[i];
	unsigned r = (unsigned)(next_rand(&w->rng) % (sum > 0 ? sum : 1));
	for (int i = 0; i < OP_COUNT; i++) {
		if (r < c->weights[i])
			return (op_kind)i;
		r -= c->weights[i];
	}
	return OP_GET;
}

/* One call; returns its status code (N_CODES for a local failure). */
static int one_call(worker *w, op_kind op)
{
	shared *sh = w->sh;
	ob_client *cl = sh->clients[w->index % sh->cfg.connections];
	uint8_t buf[2048];
	size_t len = 0;
	const char *method = NULL;
	switch (op) {
	case OP_SUBMIT:
		method = "/onboard.v1.Onboarding/SubmitApplication";
		len = pack_submit(sh, buf, sizeof(buf));
		break;
	case OP_GET: {
		method = "/onboard.v1.Onboarding/GetApplication";
		Onboard__V1__GetApplicationRequest rq = ONBOARD__V1__GET_APPLICATION_REQUEST__INIT;
		rq.id = sh->ids[next_rand(&w->rng) % (sh->n_ids > 0 ? sh->n_ids : 1)];
		len = onboard__v1__get_application_request__pack(&rq, buf);
		break;
	}
	case OP_LIST: {
		method = "/onboard.v1.Onboarding/ListApplications";
		Onboard__V1__ListApplicationsRequest rq =
		        ONBOARD__V1__LIST_APPLICATIONS_REQUEST__INIT;
		rq.cohort_id = (char *)sh->cfg.cohort;
		rq.page_size = 20;
		len = onboard__v1__list_applications_request__pack(&rq, buf);
		break;
	}
	case OP_COHORT: {
		method = "/onboard.v1.Onboarding/GetCohort";
		Onboard__V1__GetCohortRequest rq = ONBOARD__V1__GET_COHORT_REQUEST__INIT;
		rq.id = (char *)sh->cfg.cohort;
		len = onboard__v1__get_cohort_request__pack(&rq, buf);
		break;
	}
	case OP_ECHO: {
		/* Raw nng REQ/REP, no envelope: the transport's own limit. */
		nng_socket s = sh->raw[w->index % sh->cfg.connections];
		nng_ctx ctx;
		nng_aio *aio;
		nng_msg *m;
		if (nng_ctx_open(&ctx, s) != 0)
			return N_CODES;
		if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
			nng_ctx_close(ctx);
			return N_CODES;
		}
		nng_aio_set_timeout(aio, (nng_duration)sh->cfg.timeout_ms);
		int rv = nng_msg_alloc(&m, sh->cfg.echo_bytes);
		if (rv == 0) {
			memset(nng_msg_body(m), 'x', sh->cfg.echo_bytes);
			nng_aio_set_msg(aio, m);
			nng_ctx_send(ctx, aio);
			nng_aio_wait(aio);
			if ((rv = nng_aio_result(aio)) != 0) {
				nng_msg_free(m);
			} else {
				nng_ctx_recv(ctx, aio);
				nng_aio_wait(aio);
				if ((rv = nng_aio_result(aio)) == 0)
					nng_msg_free(nng_aio_get_msg(aio));
			}
		}
		nng_aio_free(aio);
		nng_ctx_close(ctx);
		return rv == 0 ? 0 : N_CODES;
	}
	default:
		return N_CODES;
	}
	ob_result r;
	int code = ob_client_call(cl, method, NULL, 0, buf, len, sh->cfg.timeout_ms, &r);
	bool local = r.local;
	if (code == 0 && op == OP_SUBMIT && sh->n_ids < MAX_IDS) {
		/* Remember some ids for later gets (benign race: ids only grow). */
		Onboard__V1__Application *a =
		        onboard__v1__application__unpack(NULL, r.payload_len, r.payload);
		if (a != NULL) {
			size_t i = sh->n_ids;
			if (i < MAX_IDS) {
				snprintf(sh->ids[i], sizeof(sh->ids[i]), "%s", a->id);
				sh->n_ids = i + 1;
			}
			onboard__v1__application__free_unpacked(a, NULL);
		}
	}
	ob_result_fini(&r);
	if (local)
		return N_CODES;
	return code >= 0 && code < N_CODES ? code : OB_CODE_UNKNOWN;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	shared *sh = w->sh;
	const config *c = &sh->cfg;
	pthread_barrier_wait(&sh->barrier);
	for (;;) {
		uint64_t i = atomic_fetch_add(&sh->next, 1);
		if (c->total > 0 && i >= c->total)
			break;
		int64_t due;
		if (c->rate > 0) {
			due = sh->warm_start_us + (int64_t)((double)i * 1e6 / c->rate);
			if (c->duration_s > 0 && due >= sh->end_us)
				break;
			sleep_until(due);
		} else {
			due = now_us();
			if (c->duration_s > 0 && due >= sh->end_us)
				break;
		}
		int code = one_call(w, pick(w));
		int64_t done = now_us();
		if (due < sh->start_us)
			continue; /* warm-up */
		w->st.calls++;
		w->st.codes[code]++;
		if (code == 0)
			ob_hist_record(&w->st.hist, done - due);
	}
	return NULL;
}

static const char usage[] =
        "Usage: onboard-load [OPTIONS]\n"
        "Puts load on onboardd and reports throughput and latency.\n"
        "\n"
        "  -s, --server URL        repeatable (default as the onboard CLI)\n"
        "      --scenario NAME     submit | get | list | cohort | mixed | webinar-burst | echo\n"
        "  -c, --concurrency N     calls in flight (threads), 1 to 4096, default 16\n"
        "  -n, --total N           stop after N calls (default 10000 unless --duration)\n"
        "  -d, --duration TIME     stop after this long: 30 (seconds), 1.5s, 2m\n"
        "      --rate R            open loop: R calls per second, latency from the due time\n"
        "      --connections N     client sockets (connections per server), 1 to 1024,\n"
        "                          default 1\n"
        "      --warmup TIME       run this long before measuring, default 0\n"
        "      --mix W,W,W,W       mixed weights submit,get,list,cohort (default 1,6,1,2)\n"
        "      --cohort ID         default 2020-11\n"
        "      --timeout MS        per call, in milliseconds, default 10000\n"
        "      --echo-bytes N      echo: message size (needs an onboard-echo server)\n"
        "      --key FILE          log in with this key (session token on every call)\n"
        "      --json              one JSON object on stdout\n"
        "  -h, --help              this text\n"
        "      --version           onboard-load's version\n"
        "Options take --name VALUE or --name=VALUE; numbers are whole and checked.\n"
        "\n"
        "webinar-burst: --total submits (default 500) released at once by --concurrency\n"
        "threads (default: as many as the total, at most 512), as when the webinar ends.\n";

/* A usage error: says what and returns 2. */
static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("onboard-load: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'onboard-load --help'.\n", stderr);
	return 2;
}

/* Four whole weights "1,6,1,2" into mix. */
static bool parse_mix(const char *s, unsigned mix[4])
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	char *save = NULL, *t = strtok_r(buf, ",", &save);
	uint64_t v;
	for (int i = 0; i < 4; i++, t = strtok_r(NULL, ",", &save)) {
		if (t == NULL || !cli_parse_u64(t, 0, 1000000, &v))
			return false;
		mix[i] = (unsigned)v;
	}
	return t == NULL;
}

/* The weights of the scenario, and its defaults. Returns 0 or 2. */
static int apply_scenario(config *c, const unsigned mix[4], bool have_c)
{
	static const char *const single[] = {
	        [OP_SUBMIT] = "submit", [OP_GET] = "get",   [OP_LIST] = "list",
	        [OP_COHORT] = "cohort", [OP_ECHO] = "echo",
	};
	const char *s = c->scenario;
	for (int op = 0; op < OP_COUNT; op++)
		if (strcmp(s, single[op]) == 0)
			c->weights[op] = 1;
	if (!strcmp(s, "mixed")) {
		for (int i = 0; i < 4; i++)
			c->weights[i] = mix[i];
	} else if (!strcmp(s, "webinar-burst")) {
		c->weights[OP_SUBMIT] = 1;
		if (c->total == 0)
			c->total = 500;
		if (!have_c)
			c->concurrency = c->total < 512 ? (unsigned)c->total : 512;
		c->duration_s = 0;
		c->rate = 0;
	}
	unsigned any = 0;
	for (int op = 0; op < OP_COUNT; op++)
		any += c->weights[op];
	if (any == 0)
		return bad("unknown scenario '%s' (or --mix weighs nothing)", s);
	if (c->total == 0 && c->duration_s <= 0)
		c->total = 10000;
	return 0;
}

/* A whole number of at least min and at most max into *out, or 2. */
static int number(const char *opt, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (cli_parse_u64(v, min, max, out))
		return 0;
	return bad("%s takes a whole number from %" PRIu64 " to %" PRIu64 ", not '%s'", opt, min,
	           max, v);
}

/* A duration (values.h) in seconds into *out, or 2. */
static int seconds(const char *opt, const char *v, double *out)
{
	int64_t ms;
	if (!cli_parse_duration_ms(v, &ms))
		return bad("%s takes a duration such as 30, 1.5s or 2m, not '%s'", opt, v);
	*out = (double)ms / 1000.0;
	return 0;
}

enum {
	O_SCENARIO = 256,
	O_RATE,
	O_CONNECTIONS,
	O_WARMUP,
	O_MIX,
	O_COHORT,
	O_TIMEOUT,
	O_ECHO_BYTES,
	O_KEY,
	O_JSON,
	O_VERSION
};

/* What parse() is filling: the configuration and what decides defaults. */
typedef struct parsing {
	config *c;
	unsigned mix[4];
	bool have_c; /* --concurrency given */
} parsing;

/* One option (ch, from getopt_long) with its value into p. Returns 0, 2
 * after a usage error, -1 after --help or --version. */
static int take(parsing *p, int ch, const char *arg, char **argv)
{
	config *c = p->c;
	uint64_t v = 0;
	int rc = 0;
	switch (ch) {
	case 's':
		if (c->n_servers == MAX_SERVERS)
			return bad("at most %d servers", MAX_SERVERS);
		c->servers[c->n_servers++] = arg;
		break;
	case O_SCENARIO:
		c->scenario = arg;
		break;
	case 'c':
		rc = number("--concurrency", arg, 1, 4096, &v);
		c->concurrency = (unsigned)v;
		p->have_c = true;
		break;
	case 'n':
		rc = number("--total", arg, 1, UINT64_MAX, &c->total);
		break;
	case 'd':
		rc = seconds("--duration", arg, &c->duration_s);
		break;
	case O_RATE:
		rc = number("--rate", arg, 1, 10000000, &v);
		c->rate = (double)v;
		break;
	case O_CONNECTIONS:
		rc = number("--connections", arg, 1, 1024, &v);
		c->connections = (unsigned)v;
		break;
	case O_WARMUP:
		rc = seconds("--warmup", arg, &c->warmup_s);
		break;
	case O_MIX:
		if (!parse_mix(arg, p->mix))
			return bad("--mix takes four weights, e.g. 1,6,1,2, not '%s'", arg);
		break;
	case O_COHORT:
		c->cohort = arg;
		break;
	case O_TIMEOUT:
		rc = number("--timeout", arg, 1, 86400000, &v);
		c->timeout_ms = (int64_t)v;
		break;
	case O_ECHO_BYTES:
		rc = number("--echo-bytes", arg, 0, 16 << 20, &v);
		c->echo_bytes = (size_t)v;
		break;
	case O_KEY:
		c->key_file = arg;
		break;
	case O_JSON:
		c->json = true;
		break;
	case 'h':
		fputs(usage, stdout);
		return -1;
	case O_VERSION:
		puts("onboard-load " OB_VERSION);
		return -1;
	case ':':
		return bad("%s needs a value", argv[optind - 1]);
	default:
		if (optopt > 0 && optopt < 256)
			return bad("unknown option '-%c'", optopt);
		return bad("unknown option '%s'", argv[optind - 1]);
	}
	return rc;
}

/* Returns 0 to run, 2 on bad usage (after saying why), -1 after --help or
 * --version. */
static int parse(int argc, char **argv, config *c)
{
	static const struct option opts[] = {
	        {"server", required_argument, NULL, 's'},
	        {"scenario", required_argument, NULL, O_SCENARIO},
	        {"concurrency", required_argument, NULL, 'c'},
	        {"total", required_argument, NULL, 'n'},
	        {"duration", required_argument, NULL, 'd'},
	        {"rate", required_argument, NULL, O_RATE},
	        {"connections", required_argument, NULL, O_CONNECTIONS},
	        {"warmup", required_argument, NULL, O_WARMUP},
	        {"mix", required_argument, NULL, O_MIX},
	        {"cohort", required_argument, NULL, O_COHORT},
	        {"timeout", required_argument, NULL, O_TIMEOUT},
	        {"echo-bytes", required_argument, NULL, O_ECHO_BYTES},
	        {"key", required_argument, NULL, O_KEY},
	        {"json", no_argument, NULL, O_JSON},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, O_VERSION},
	        {NULL, 0, NULL, 0},
	};
	*c = (config){.scenario = "get",
	              .concurrency = 16,
	              .connections = 1,
	              .timeout_ms = 10000,
	              .echo_bytes = 300,
	              .cohort = "2020-11"};
	parsing p = {c, {1, 6, 1, 2}, false};
	int ch, rc = 0;
	opterr = 0;
	while (rc == 0 && (ch = getopt_long(argc, argv, ":s:c:n:d:h", opts, NULL)) != -1)
		rc = take(&p, ch, optarg, argv);
	if (rc == 0 && optind < argc)
		return bad("takes options only, not '%s'", argv[optind]);
	return rc != 0 ? rc : apply_scenario(c, p.mix, p.have_c);
}

/* Get needs ids: read some, or make some. */
static int prepare_ids(shared *sh)
{
	ob_client *cl = sh->clients[0];
	Onboard__V1__ListApplicationsRequest rq = ONBOARD__V1__LIST_APPLICATIONS_REQUEST__INIT;
	rq.cohort_id = (char *)sh->cfg.cohort;
	rq.page_size = 500;
	char token[128] = "";
	while (sh->n_ids < 5000) {
		rq.page_token = token;
		Onboard__V1__ListApplicationsResponse *rs = NULL;
		ob_result r;
		int code = ob_client_call_message(
		        cl, "/onboard.v1.Onboarding/ListApplications", NULL, 0, &rq.base,
		        &onboard__v1__list_applications_response__descriptor,
		        (ProtobufCMessage **)&rs, 30000, &r);
		if (code != 0) {
			fprintf(stderr, "onboard-load: listing applications: %s: %s\n",
			        ob_code_name(code), r.message);
			ob_result_fini(&r);
			return -1;
		}
		ob_result_fini(&r);
		for (size_t i = 0; i < rs->n_applications && sh->n_ids < MAX_IDS; i++)
			snprintf(sh->ids[sh->n_ids++], sizeof(sh->ids[0]), "%s",
			         rs->applications[i]->id);
		snprintf(token, sizeof(token), "%s", rs->next_page_token);
		protobuf_c_message_free_unpacked(&rs->base, NULL);
		if (token[0] == '\0')
			break;
	}
	if (sh->n_ids == 0) {
		worker w = {.sh = sh, .rng = 1};
		for (int i = 0; i < 200; i++)
			(void)one_call(&w, OP_SUBMIT);
	}
	if (sh->n_ids == 0) {
		fprintf(stderr, "onboard-load: no application to get, and submitting failed\n");
		return -1;
	}
	return 0;
}

static void report(const shared *sh, const stats *st, double seconds)
{
	const config *c = &sh->cfg;
	uint64_t ok = st->codes[0];
	const ob_hist *h = &st->hist;
	double q[] = {0.5, 0.9, 0.99, 0.999};
	int64_t v[4];
	for (int i = 0; i < 4; i++)
		v[i] = ob_hist_quantile(h, q[i]);
	int64_t min = h->total > 0 ? h->min : 0;
	if (c->json) {
		printf("{\"scenario\":\"%s\",\"concurrency\":%u,\"connections\":%u,\"rate\":%.1f,"
		       "\"seconds\":%.3f,\"calls\":%" PRIu64 ",\"ok\":%" PRIu64
		       ",\"throughput\":%.1f,\"ok_throughput\":%.1f,"
		       "\"latency_us\":{\"min\":%" PRId64 ",\"p50\":%" PRId64 ",\"p90\":%" PRId64
		       ",\"p99\":%" PRId64 ",\"p999\":%" PRId64 ",\"max\":%" PRId64
		       ",\"mean\":%.1f},\"codes\":{",
		       c->scenario, c->concurrency, c->connections, c->rate, seconds, st->calls, ok,
		       (double)st->calls / seconds, (double)ok / seconds, min, v[0], v[1], v[2],
		       v[3], h->max, h->total > 0 ? h->sum / (double)h->total : 0.0);
		bool first = true;
		for (int i = 0; i <= N_CODES; i++)
			if (st->codes[i] > 0) {
				printf("%s\"%s\":%" PRIu64, first ? "" : ",",
				       i == N_CODES ? "LOCAL_FAILURE" : ob_code_name(i),
				       st->codes[i]);
				first = false;
			}
		printf("}}\n");
		return;
	}
	printf("scenario %s: %" PRIu64 " calls in %.2f s, concurrency %u, connections %u%s\n",
	       c->scenario, st->calls, seconds, c->concurrency, c->connections,
	       c->rate > 0 ? " (open loop)" : "");
	printf("throughput  %.0f calls/s (%.0f OK/s)\n", (double)st->calls / seconds,
	       (double)ok / seconds);
	printf("latency of OK calls (us): min %" PRId64 "  p50 %" PRId64 "  p90 %" PRId64
	       "  p99 %" PRId64 "  p99.9 %" PRId64 "  max %" PRId64 "\n",
	       min, v[0], v[1], v[2], v[3], h->max);
	printf("status:");
	for (int i = 0; i <= N_CODES; i++)
		if (st->codes[i] > 0)
			printf("  %s %" PRIu64, i == N_CODES ? "LOCAL_FAILURE" : ob_code_name(i),
			       st->codes[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	shared *sh = calloc(1, sizeof(*sh));
	int rc = sh != NULL && sodium_init() >= 0 ? parse(argc, argv, &sh->cfg) : 1;
	if (rc != 0) {
		free(sh);
		return rc < 0 ? 0 : rc;
	}
	config *c = &sh->cfg;
	static char default_url[512];
	if (c->n_servers == 0) {
		char err[512];
		if (ob_default_server_check(err, sizeof(err)) != 0) {
			fprintf(stderr, "onboard-load: %s\n", err);
			free(sh);
			return 1;
		}
		c->servers[c->n_servers++] =
		        ob_default_server_url(default_url, sizeof(default_url));
	}

	/* A random SIREN range per run, so that runs against one database
	 * rarely collide. */
	sh->siren_base = randombytes_uniform(90000000u) + 1000000u;
	sh->clients = calloc(c->connections, sizeof(*sh->clients));
	sh->raw = calloc(c->connections, sizeof(*sh->raw));
	for (unsigned i = 0; i < c->connections; i++) {
		if (c->weights[OP_ECHO] > 0) {
			if (nng_req0_open(&sh->raw[i]) != 0 ||
			    nng_socket_set_ms(sh->raw[i], NNG_OPT_REQ_RESENDTIME,
			                      NNG_DURATION_INFINITE) ||
			    nng_dial(sh->raw[i], c->servers[i % c->n_servers], NULL, 0) != 0) {
				fprintf(stderr, "onboard-load: cannot connect to %s\n",
				        c->servers[0]);
				return 1;
			}
			continue;
		}
		char err[256];
		/* Each client gets its own connection to every server. */
		ob_client_options opts = {.key_file = c->key_file};
		if (ob_client_open(&sh->clients[i], c->servers, c->n_servers, &opts, err,
		                   sizeof(err)) != 0) {
			fprintf(stderr, "onboard-load: %s\n", err);
			return 1;
		}
	}
	if ((c->weights[OP_GET] > 0) && prepare_ids(sh) != 0)
		return 1;

	worker *ws = calloc(c->concurrency, sizeof(*ws));
	pthread_t *th = calloc(c->concurrency, sizeof(*th));
	if (ws == NULL || th == NULL)
		return 1;
	pthread_barrier_init(&sh->barrier, NULL, c->concurrency + 1);
	for (unsigned i = 0; i < c->concurrency; i++) {
		ws[i].sh = sh;
		ws[i].index = i;
		ws[i].rng = 0x9E3779B97F4A7C15ull * (i + 1);
		ob_hist_init(&ws[i].st.hist);
		if (pthread_create(&th[i], NULL, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "onboard-load: cannot start %u threads\n", c->concurrency);
			return 1;
		}
	}
	sh->warm_start_us = now_us();
	sh->start_us = sh->warm_start_us + (int64_t)(c->warmup_s * 1e6);
	sh->end_us = sh->start_us + (int64_t)(c->duration_s * 1e6);
	pthread_barrier_wait(&sh->barrier);
	for (unsigned i = 0; i < c->concurrency; i++)
		pthread_join(th[i], NULL);
	int64_t end = now_us();

	stats all;
	memset(&all, 0, sizeof(all));
	ob_hist_init(&all.hist);
	for (unsigned i = 0; i < c->concurrency; i++) {
		ob_hist_merge(&all.hist, &ws[i].st.hist);
		all.calls += ws[i].st.calls;
		for (int k = 0; k <= N_CODES; k++)
			all.codes[k] += ws[i].st.codes[k];
	}
	int64_t from = sh->start_us > sh->warm_start_us ? sh->start_us : sh->warm_start_us;
	double seconds = (double)(end - from) / 1e6;
	report(sh, &all, seconds > 0 ? seconds : 1e-6);

	for (unsigned i = 0; i < c->connections; i++) {
		ob_client_close(sh->clients[i]);
		if (c->weights[OP_ECHO] > 0)
			nng_close(sh->raw[i]);
	}
	free(ws);
	free(th);
	free(sh->clients);
	free(sh->raw);
	free(sh);
	return all.codes[N_CODES] > 0 && all.codes[0] == 0 ? 1 : 0;
}
