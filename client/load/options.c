/*
 * onboard-load's command line (load.h): one table of options, from which both getopt_long's
 * list and --help are made, and one pass that checks every value before anything is sent.
 * Numbers, durations and users are read by the CLI's parsers (cli/values.h), so that
 * onboard and onboard-load take the same values the same way.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "errbuf.h"
#include "json_codec.h"
#include "load.h"
#include "values.h"

enum opt_id {
	O_SERVER,
	O_SCENARIO,
	O_CALL,
	O_DATA,
	O_CONCURRENCY,
	O_TOTAL,
	O_DURATION,
	O_RATE,
	O_WARMUP,
	O_CONNECTIONS,
	O_TIMEOUT,
	O_MIX,
	O_COHORT,
	O_ECHO_BYTES,
	O_HEADER,
	O_KEY,
	O_TLS_CA,
	O_TLS_CERT,
	O_TLS_KEY,
	O_TLS_SERVER_NAME,
	O_SERVER_UID,
	O_FORMAT,
	O_JSON,
	O_OUTPUT,
	O_PROGRESS,
	O_NO_PROGRESS,
	O_HELP,
	O_VERSION,
	O_COUNT,
};

/* How take() stores an option's value: most go straight into a field of ob_load_config,
 * named by the row; the others have a case of their own in take(). */
typedef enum opt_kind {
	K_OWN,       /* take() has a case for it */
	K_TEXT,      /* the text as it is, into a const char * */
	K_NUMBER,    /* a whole number from min to max, into an unsigned integer */
	K_DURATION,  /* a duration, into an int64_t of milliseconds */
	K_DURATION0, /* the same, or 0 */
	K_SET,       /* a flag: the field becomes min */
} opt_kind;

typedef struct opt {
	const char *name;
	char short_name;
	const char *metavar; /* NULL: a flag */
	const char *help;    /* '\n' starts a new line in the column */
	const char *section; /* printed above the option */
	opt_kind kind;
	size_t at, width; /* the field: FIELD(name) */
	uint64_t min, max;
} opt;

#define FIELD(f) .at = offsetof(ob_load_config, f), .width = sizeof(((ob_load_config *)0)->f)

static const opt opts[O_COUNT] = {
        [O_SERVER] = {"server", 's', "URL",
                      "server to call (repeatable: calls are spread over them;\n"
                      "default $ONBOARD_SERVER, or the onboard CLI's default)",
                      "What to call:"},
        [O_SCENARIO] = {"scenario", 0, "NAME",
                        "submit, get, list, cohort, mixed, webinar-burst or echo\n(default get)",
                        .kind = K_TEXT, FIELD(scenario)},
        [O_CALL] = {"call", 0, "METHOD",
                    "call this method instead, e.g.\n/onboard.v1.Onboarding/GetCohort"},
        [O_DATA] = {"data", 0, "JSON",
                    "--call's request in the proto3 JSON mapping, with\n"
                    "placeholders {{seq}} {{siren}} {{siret}} {{uuid}}\n"
                    "{{cohort}} {{app_id}}; @FILE reads a file (default {})"},
        [O_CONCURRENCY] = {"concurrency", 'c', "N", "calls in flight, 1 to 4096 (default 16)",
                           "How much:", .kind = K_NUMBER, FIELD(concurrency), .min = 1,
                           .max = OB_LOAD_MAX_LANES},
        [O_TOTAL] = {"total", 'n', "N",
                     "stop after N measured calls (default 10000 without\n--duration)",
                     .kind = K_NUMBER, FIELD(total), .min = 1, .max = UINT64_C(1000000000000)},
        [O_DURATION] = {"duration", 'd', "DURATION",
                        "stop after this long: 30 (seconds), 1.5s, 2m, 1h", .kind = K_DURATION,
                        FIELD(duration_ms)},
        [O_RATE] = {"rate", 0, "N",
                    "open loop: N calls a second whatever the replies, latency\n"
                    "counted from when each call was due (default: closed loop)",
                    .kind = K_NUMBER, FIELD(rate), .min = 1, .max = 10000000},
        [O_WARMUP] = {"warmup", 0, "DURATION", "call this long before measuring (default 0)",
                      .kind = K_DURATION0, FIELD(warmup_ms)},
        [O_CONNECTIONS] = {"connections", 0, "N",
                           "sockets, 1 to 256 (default 1); each connects to every\nserver",
                           .kind = K_NUMBER, FIELD(connections), .min = 1,
                           .max = OB_LOAD_MAX_SOCKETS},
        [O_TIMEOUT] = {"timeout", 't', "DURATION", "per call (default 10s)", .kind = K_DURATION,
                       FIELD(timeout_ms)},
        [O_MIX] = {"mix", 0, "W,W,W,W",
                   "mixed: the weights of submit, get, list and cohort\n(default 1,6,1,2)"},
        [O_COHORT] = {"cohort", 0, "ID",
                      "read and write this existing cohort (default: writes\n"
                      "go to a new load-test cohort; reads to the default\n"
                      "cohort)",
                      .kind = K_TEXT, FIELD(cohort)},
        [O_ECHO_BYTES] = {"echo-bytes", 0, "N", "echo: bytes a message, 1 to 16 MiB (default 300)",
                          .kind = K_NUMBER, FIELD(echo_bytes), .min = 1, .max = 16 << 20},
        [O_HEADER] = {"header", 'H', "KEY=VALUE", "call metadata (repeatable, at most 16)",
                      "How to call:"},
        [O_KEY] = {"key", 'k', "FILE",
                   "log in with this key (default $ONBOARD_KEY); without\n"
                   "one, only a trusted local peer is served",
                   .kind = K_TEXT, FIELD(key_file)},
        [O_TLS_CA] = {"tls-ca", 0, "FILE", "CA that signed the server's certificate (tls+tcp://)",
                      .kind = K_TEXT, FIELD(tls_ca)},
        [O_TLS_CERT] = {"tls-cert", 0, "FILE", "client certificate, when the server wants one",
                        .kind = K_TEXT, FIELD(tls_cert)},
        [O_TLS_KEY] = {"tls-key", 0, "FILE", "its private key", .kind = K_TEXT, FIELD(tls_key)},
        [O_TLS_SERVER_NAME] = {"tls-server-name", 0, "NAME",
                               "the name the server's certificate must carry (default:\n"
                               "the URL's host)",
                               .kind = K_TEXT, FIELD(tls_server_name)},
        [O_SERVER_UID] = {"server-uid", 0, "USER",
                          "the user onboardd runs as, for ipc:// (default\n"
                          "$ONBOARD_SERVER_UID, else yours; root is always taken)"},
        [O_FORMAT] = {"format", 0, "FORMAT",
                      "text, json, csv, or hdr (HdrHistogram's percentile\n"
                      "distribution, in milliseconds) (default text)",
                      "What to print:"},
        [O_JSON] = {"json", 0, NULL, "the same as --format json", .kind = K_SET, FIELD(format),
                    .min = OB_LOAD_JSON},
        [O_OUTPUT] = {"output", 'o', "FILE", "write the report there instead of stdout",
                      .kind = K_TEXT, FIELD(output)},
        [O_PROGRESS] = {"progress", 0, NULL,
                        "a progress line on stderr every second (default: when\n"
                        "stderr is a terminal)",
                        .kind = K_SET, FIELD(progress), .min = 1},
        [O_NO_PROGRESS] = {"no-progress", 0, NULL, "no progress line", .kind = K_SET,
                           FIELD(progress), .min = 0},
        [O_HELP] = {"help", 'h', NULL, "this text", .kind = K_SET, FIELD(help), .min = 1},
        [O_VERSION] = {"version", 0, NULL, "onboard-load's version", .kind = K_SET, FIELD(version),
                       .min = 1},
};

void ob_load_print_usage(FILE *f)
{
	fputs("Usage: onboard-load [OPTIONS]\n"
	      "Puts load on onboardd, like ghz, and reports throughput, latency and errors.\n",
	      f);
	for (int i = 0; i < O_COUNT; i++) {
		const opt *o = &opts[i];
		if (o->section != NULL)
			fprintf(f, "\n%s\n", o->section);
		char head[64];
		snprintf(head, sizeof(head), "%c%c%c --%s%s%s", o->short_name ? '-' : ' ',
		         o->short_name ? o->short_name : ' ', o->short_name ? ',' : ' ', o->name,
		         o->metavar ? " " : "", o->metavar ? o->metavar : "");
		fprintf(f, "  %-28s", head);
		if (strlen(head) > 28)
			fprintf(f, "\n  %-28s", "");
		for (const char *p = o->help; *p != '\0'; p++) {
			fputc(*p, f);
			if (*p == '\n')
				fprintf(f, "  %-28s", "");
		}
		fputc('\n', f);
	}
	fputs("\nEvery option takes --name VALUE or --name=VALUE. Durations are a number with ms,\n"
	      "s, m or h (a plain number is seconds); numbers are whole and within range.\n"
	      "\n"
	      "Scenarios: submit writes new companies; get reads known applications; list\n"
	      "pages through a cohort; cohort reads its standing; mixed weighs the four\n"
	      "(--mix); webinar-burst releases --total submits (default 500) at once, as when\n"
	      "the webinar ends; echo sends raw messages to onboard-echo (no envelope).\n"
	      "Writes never go to an existing cohort unless --cohort names it: the run\n"
	      "creates a throw-away cohort 'load-...' (which needs an admin) and says how to\n"
	      "remove it afterwards (deploy/loadtest/drop-cohort.sh).\n"
	      "\n"
	      "Exit status: 0 when every measured call was answered OK, 1 when some were not,\n"
	      "2 for a usage error, 3 when the run could not start (no server, login or\n"
	      "cohort refused).\n",
	      f);
}

/* Records the first problem of a command line; returns 2. */
static int bad(char *err, size_t errlen, const char *fmt, ...) OB_PRINTF(3, 4);
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ob_verrbuf(err, errlen, fmt, ap);
	va_end(ap);
	return 2;
}

/* What parse() fills and what decides the defaults afterwards. */
typedef struct parsing {
	ob_load_config *c;
	char *err;
	size_t errlen;
	unsigned mix[4];
	bool seen[O_COUNT];
	const char *data; /* --data as given */
} parsing;

static int number(parsing *p, enum opt_id id, const char *v, uint64_t min, uint64_t max,
                  uint64_t *out)
{
	if (cli_parse_u64(v, min, max, out))
		return 0;
	return bad(p->err, p->errlen,
	           "--%s takes a whole number from %" PRIu64 " to %" PRIu64 ", not '%s'",
	           opts[id].name, min, max, v);
}

static int duration(parsing *p, enum opt_id id, const char *v, bool zero, int64_t *ms)
{
	if (zero && strcmp(v, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (cli_parse_duration_ms(v, ms))
		return 0;
	return bad(p->err, p->errlen,
	           "--%s takes a duration such as 30 (seconds), 1.5s, 500ms or 2m, from 1ms to "
	           "24h%s, not '%s'",
	           opts[id].name, zero ? " (or 0)" : "", v);
}

/* A metadata key: 1 to OB_LOAD_KEY_MAX of [a-z0-9._-], as the server reads them. */
static bool md_key_ok(const char *k, size_t n)
{
	if (n == 0 || n > OB_LOAD_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '-' ||
		      k[i] == '_' || k[i] == '.'))
			return false;
	return true;
}

/* A value: at most OB_LOAD_VALUE_MAX bytes, no control character. */
static bool md_value_ok(const char *v)
{
	size_t n = 0;
	for (; v[n] != '\0'; n++)
		if ((unsigned char)v[n] < 0x20 || v[n] == 0x7f)
			return false;
	return n <= OB_LOAD_VALUE_MAX;
}

static int header(parsing *p, const char *v)
{
	ob_load_config *c = p->c;
	const char *eq = strchr(v, '=');
	if (eq == NULL || !md_key_ok(v, (size_t)(eq - v)))
		return bad(p->err, p->errlen,
		           "-H takes KEY=VALUE, the key 1 to %d of a-z 0-9 . _ -, not '%s'",
		           OB_LOAD_KEY_MAX, v);
	if (!md_value_ok(eq + 1))
		return bad(p->err, p->errlen,
		           "-H %.*s: a value is at most %d bytes without control characters",
		           (int)(eq - v), v, OB_LOAD_VALUE_MAX);
	if (c->n_md == OB_LOAD_MAX_METADATA)
		return bad(p->err, p->errlen, "at most %d -H entries", OB_LOAD_MAX_METADATA);
	/* The key is the text before '=': kept as a copy of its own. */
	char *key = strndup(v, (size_t)(eq - v));
	if (key == NULL)
		return bad(p->err, p->errlen, "out of memory");
	c->md[c->n_md++] = (ob_load_md){key, eq + 1};
	return 0;
}

static int mix(parsing *p, const char *v)
{
	unsigned w[4];
	uint64_t sum = 0;
	const char *s = v;
	for (int i = 0; i < 4; i++) {
		const char *comma = strchr(s, ',');
		size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
		char part[16];
		uint64_t x;
		/* Three commas, no more: a comma after each weight but the last. */
		if ((i < 3) != (comma != NULL) || n >= sizeof(part))
			goto refused;
		memcpy(part, s, n);
		part[n] = '\0';
		if (!cli_parse_u64(part, 0, 1000000, &x))
			goto refused;
		w[i] = (unsigned)x;
		sum += x;
		s += n + 1;
	}
	if (sum == 0)
		goto refused;
	memcpy(p->mix, w, sizeof(w));
	return 0;
refused:
	return bad(p->err, p->errlen,
	           "--mix takes four whole weights, not all 0, e.g. 1,6,1,2; not '%s'", v);
}

static int format(parsing *p, const char *v)
{
	static const char *const names[] = {[OB_LOAD_TEXT] = "text",
	                                    [OB_LOAD_JSON] = "json",
	                                    [OB_LOAD_CSV] = "csv",
	                                    [OB_LOAD_HDR] = "hdr"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i]) == 0) {
			p->c->format = (ob_load_format)i;
			return 0;
		}
	return bad(p->err, p->errlen, "--format takes text, json, csv or hdr, not '%s'", v);
}

/* n into the unsigned field of width bytes at at (a bool, an enum, unsigned, uint64_t, size_t);
 * n fits: the row's max, or its flag value, says so. */
static void put_uint(void *at, size_t width, uint64_t n)
{
	if (width == sizeof(uint8_t)) {
		uint8_t x = (uint8_t)n;
		memcpy(at, &x, sizeof(x));
	} else if (width == sizeof(uint32_t)) {
		uint32_t x = (uint32_t)n;
		memcpy(at, &x, sizeof(x));
	} else {
		/* The only other width a numeric field has; a row of any other (a uint16_t field, a
		 * mistyped FIELD) must not write past its field. */
		assert(width == sizeof(uint64_t));
		memcpy(at, &n, sizeof(n));
	}
}

/* One option with its value into p; 0 or 2: the row's field, or a case of its own. */
static int take(parsing *p, enum opt_id id, const char *v)
{
	ob_load_config *c = p->c;
	const opt *o = &opts[id];
	void *at = (char *)c + o->at;
	uint64_t n = 0;
	int rc = 0;
	p->seen[id] = true;
	switch (o->kind) {
	case K_TEXT:
		memcpy(at, &v, sizeof(v));
		return 0;
	case K_NUMBER:
		rc = number(p, id, v, o->min, o->max, &n);
		put_uint(at, o->width, n);
		return rc;
	case K_DURATION:
	case K_DURATION0:
		return duration(p, id, v, o->kind == K_DURATION0, at);
	case K_SET:
		put_uint(at, o->width, o->min);
		return 0;
	case K_OWN:
		break;
	}
	switch (id) {
	case O_SERVER:
		if (c->n_servers == OB_LOAD_MAX_SERVERS)
			return bad(p->err, p->errlen, "at most %d servers", OB_LOAD_MAX_SERVERS);
		c->servers[c->n_servers++] = v;
		return 0;
	case O_CALL:
		c->call = cli_find_method(v, c->call_name, sizeof(c->call_name));
		if (c->call == NULL)
			return bad(
			        p->err, p->errlen,
			        "--call: no method '%s' in the contract ('onboard methods' lists "
			        "them)",
			        v);
		return 0;
	case O_DATA:
		p->data = v;
		return 0;
	case O_MIX:
		return mix(p, v);
	case O_HEADER:
		return header(p, v);
	case O_SERVER_UID:
		if (!cli_parse_uid(v, &c->server_uid))
			return bad(p->err, p->errlen, "--server-uid: no user '%s'", v);
		c->server_uid_set = true;
		return 0;
	case O_FORMAT:
		return format(p, v);
	default:
		assert(!"an option of kind K_OWN without a case in take()");
		return 0;
	}
}

/* The weights of c->scenario; 0 or 2. */
static int scenario(parsing *p)
{
	ob_load_config *c = p->c;
	static const char *const single[] = {
	        [OB_LOAD_SUBMIT] = "submit", [OB_LOAD_GET] = "get",   [OB_LOAD_LIST] = "list",
	        [OB_LOAD_COHORT] = "cohort", [OB_LOAD_ECHO] = "echo",
	};
	for (int op = 0; op < OB_LOAD_CALL; op++)
		if (strcmp(c->scenario, single[op]) == 0)
			c->weights[op] = 1;
	if (strcmp(c->scenario, "mixed") == 0)
		for (int i = 0; i < 4; i++)
			c->weights[i] = p->mix[i];
	if (strcmp(c->scenario, "webinar-burst") == 0)
		c->weights[OB_LOAD_SUBMIT] = 1;
	unsigned any = 0;
	for (int op = 0; op < OB_LOAD_N_OPS; op++)
		any += c->weights[op];
	if (any == 0)
		return bad(
		        p->err, p->errlen,
		        "unknown scenario '%s': submit, get, list, cohort, mixed, webinar-burst or "
		        "echo",
		        c->scenario);
	return 0;
}

/* Options that only some scenarios take, and the burst's own rules; 0 or 2. */
static int combinations(parsing *p)
{
	ob_load_config *c = p->c;
	bool burst = strcmp(c->scenario, "webinar-burst") == 0;
	if (p->seen[O_MIX] && strcmp(c->scenario, "mixed") != 0)
		return bad(p->err, p->errlen, "--mix goes with --scenario mixed");
	if (p->seen[O_ECHO_BYTES] && c->weights[OB_LOAD_ECHO] == 0)
		return bad(p->err, p->errlen, "--echo-bytes goes with --scenario echo");
	if (c->weights[OB_LOAD_ECHO] > 0 && (c->key_file != NULL || c->n_md > 0))
		return bad(p->err, p->errlen, "echo sends raw messages: no --key, no -H");
	if (burst && (p->seen[O_RATE] || p->seen[O_DURATION] || p->seen[O_WARMUP]))
		return bad(p->err, p->errlen,
		           "webinar-burst releases --total submits at once: no --rate, --duration "
		           "or --warmup");
	if (burst) {
		if (c->total == 0)
			c->total = 500;
		if (!p->seen[O_CONCURRENCY])
			c->concurrency = c->total < 512 ? (unsigned)c->total : 512;
	}
	if (c->total == 0 && c->duration_ms == 0)
		c->total = 10000;
	return 0;
}

/* --data: read, compiled, and decoded once with sample values as --call's input; and the
 * rule that a write names its cohort. 0 or 2. */
static int call_data(parsing *p)
{
	ob_load_config *c = p->c;
	const char *text = p->data != NULL ? p->data : "{}";
	size_t len = strlen(text);
	if (text[0] == '@') {
		c->data_text = cli_read_file(text + 1, &len);
		if (c->data_text == NULL)
			return bad(p->err, p->errlen, "--data %s: %s", text, strerror(errno));
		text = c->data_text;
	}
	char why[512];
	if (ob_load_template_compile(text, len, &c->data, why, sizeof(why)) != 0)
		return bad(p->err, p->errlen, "--data: %s", why);
	char *sample = malloc(ob_load_template_size(c->data));
	if (sample == NULL)
		return bad(p->err, p->errlen, "out of memory");
	ob_load_values v = {.siren_base = 10000000,
	                    .cohort = "load-sample",
	                    .app_id = "01ARZ3NDEKTSV4RRFFQ69G5FAV"};
	size_t n = ob_load_template_render(c->data, &v, sample);
	ProtobufCMessage *m = ob_json_parse_message(sample, n, c->call->input, why, sizeof(why));
	free(sample);
	if (m == NULL)
		return bad(p->err, p->errlen, "--data is not a valid %s: %s", c->call->input->name,
		           why);
	/* A request with a cohort_id that is not a read writes into that cohort, and an empty
	 * one means the server's default cohort: a real one. */
	const ProtobufCFieldDescriptor *f =
	        protobuf_c_message_descriptor_get_field_by_name(c->call->input, "cohort_id");
	bool read = strncmp(c->call->name, "Get", 3) == 0 || strncmp(c->call->name, "List", 4) == 0;
	const char *named = f != NULL && f->type == PROTOBUF_C_TYPE_STRING &&
	                                    f->label != PROTOBUF_C_LABEL_REPEATED
	                            ? *(char *const *)((const char *)m + f->offset)
	                            : "-";
	bool names_none = named == NULL || named[0] == '\0';
	protobuf_c_message_free_unpacked(m, NULL);
	c->call_writes =
	        ob_load_template_uses(c->data, OB_LOAD_SLOT_COHORT) || (f != NULL && !read);
	if (names_none && !read)
		return bad(
		        p->err, p->errlen,
		        "%s without a cohortId writes into the server's default cohort: give "
		        "\"cohortId\":\"{{cohort}}\" for a throw-away load-test cohort, or the id "
		        "of the cohort to write into",
		        c->call_name);
	return 0;
}

/* $ONBOARD_KEY and $ONBOARD_SERVER_UID, where no option said otherwise; 0 or 2. */
static int environment(parsing *p)
{
	ob_load_config *c = p->c;
	bool has_auth = false;
	for (size_t i = 0; i < c->n_md; i++)
		has_auth |= strcmp(c->md[i].key, "authorization") == 0;
	const char *key = getenv("ONBOARD_KEY");
	if (c->key_file == NULL && !has_auth && key != NULL && key[0] != '\0' &&
	    c->weights[OB_LOAD_ECHO] == 0)
		c->key_file = key;
	if (c->key_file != NULL && has_auth)
		return bad(p->err, p->errlen,
		           "--key logs in and sends its own token: no -H authorization with it");
	const char *uid = getenv("ONBOARD_SERVER_UID");
	if (!c->server_uid_set && uid != NULL && uid[0] != '\0') {
		if (!cli_parse_uid(uid, &c->server_uid))
			return bad(p->err, p->errlen, "$ONBOARD_SERVER_UID: no user '%s'", uid);
		c->server_uid_set = true;
	}
	return 0;
}

/* The checks between options, once all are read; 0 or 2. */
static int finish(parsing *p)
{
	ob_load_config *c = p->c;
	int rc = 0;
	if (c->call != NULL && p->seen[O_SCENARIO])
		return bad(p->err, p->errlen, "--call or --scenario, not both");
	if (p->data != NULL && c->call == NULL)
		return bad(p->err, p->errlen, "--data goes with --call");
	if (c->call != NULL) {
		c->scenario = "call";
		c->weights[OB_LOAD_CALL] = 1;
		rc = call_data(p);
	} else {
		rc = scenario(p);
	}
	if (rc == 0)
		rc = combinations(p);
	if (rc == 0)
		rc = environment(p);
	return rc;
}

int ob_load_parse(ob_load_config *c, int argc, char **argv, char *err, size_t errlen)
{
	*c = (ob_load_config){.scenario = "get",
	                      .concurrency = 16,
	                      .connections = 1,
	                      .timeout_ms = 10000,
	                      .echo_bytes = 300,
	                      .progress = -1};
	parsing p = {.c = c, .err = err, .errlen = errlen, .mix = {1, 6, 1, 2}};
	struct option longopts[O_COUNT + 1];
	char shorts[2 * O_COUNT + 2] = ":";
	size_t ns = 1;
	for (int i = 0; i < O_COUNT; i++) {
		longopts[i] = (struct option){opts[i].name,
		                              opts[i].metavar ? required_argument : no_argument,
		                              NULL, 256 + i};
		if (opts[i].short_name) {
			shorts[ns++] = opts[i].short_name;
			if (opts[i].metavar)
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = '\0';
	longopts[O_COUNT] = (struct option){NULL, 0, NULL, 0};
	optind = 0; /* glibc: start afresh, whatever an earlier parse left */
	opterr = 0;
	int ch, rc = 0;
	while (rc == 0 && (ch = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		int id = -1;
		for (int i = 0; i < O_COUNT && id < 0; i++)
			if (ch == 256 + i || (ch < 256 && ch == opts[i].short_name))
				id = i;
		if (id >= 0)
			rc = take(&p, (enum opt_id)id, optarg);
		else if (ch == ':')
			rc = bad(err, errlen, "%s needs a value", argv[optind - 1]);
		else if (optopt > 0 && optopt < 256)
			rc = bad(err, errlen, "unknown option '-%c'", optopt);
		else
			rc = bad(err, errlen, "unknown option '%s'", argv[optind - 1]);
	}
	if (rc != 0 || c->help || c->version)
		return rc;
	if (optind < argc)
		return bad(err, errlen, "takes options only, not '%s'", argv[optind]);
	return finish(&p);
}

void ob_load_config_fini(ob_load_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_md; i++)
		free((char *)c->md[i].key);
	c->n_md = 0;
	ob_load_template_destroy(c->data);
	c->data = NULL;
	free(c->data_text);
	c->data_text = NULL;
}

const char *ob_load_op_method(ob_load_op op)
{
	static const char *const methods[OB_LOAD_N_OPS] = {
	        [OB_LOAD_SUBMIT] = "/onboard.v1.Onboarding/SubmitApplication",
	        [OB_LOAD_GET] = "/onboard.v1.Onboarding/GetApplication",
	        [OB_LOAD_LIST] = "/onboard.v1.Onboarding/ListApplications",
	        [OB_LOAD_COHORT] = "/onboard.v1.Onboarding/GetCohort",
	};
	return methods[op];
}

const char *ob_load_single_method(const ob_load_config *c)
{
	int only = -1;
	for (int op = 0; op < OB_LOAD_N_OPS; op++)
		if (c->weights[op] > 0)
			only = only == -1 ? op : -2;
	if (only == OB_LOAD_CALL)
		return c->call_name;
	return only >= 0 ? ob_load_op_method((ob_load_op)only) : NULL;
}

bool ob_load_writes(const ob_load_config *c)
{
	return c->weights[OB_LOAD_SUBMIT] > 0 || (c->weights[OB_LOAD_CALL] > 0 && c->call_writes);
}
