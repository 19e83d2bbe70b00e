/*
 * onboard import: one SubmitApplication per line of a CSV file (import.h
 * reads it), each with an idempotency key derived from its request, so that
 * running an import again creates nothing twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "filters.h"
#include "import.h"
#include "print.h"

#define M_SUBMIT "/onboard.v1.Onboarding/SubmitApplication"

enum { IMPORT_RETRIES = 5 }; /* of a row the server asks to retry later */

/* The idempotency key of a request: the same request always gets the same
 * key, so that the server replays its first reply to a second import of
 * the row instead of creating anything, and another request never does. */
static bool request_key(const ProtobufCMessage *rq, char key[48])
{
	size_t n = protobuf_c_message_get_packed_size(rq);
	uint8_t *buf = malloc(n > 0 ? n : 1);
	if (buf == NULL)
		return false;
	protobuf_c_message_pack(rq, buf);
	uint8_t h[16];
	crypto_generichash(h, sizeof(h), buf, n, (const uint8_t *)"onboard-import-1", 16);
	free(buf);
	memcpy(key, "import-", 7);
	sodium_bin2hex(key + 7, 48 - 7, h, sizeof(h));
	return true;
}

/* ---- the lines of this run, to say which line a replayed one repeats ---- */

/* The ids of the applications this import's lines were answered with, each with its
 * first line. */
typedef struct id_set {
	struct id_slot {
		char id[32];
		size_t line;
	} * slots;
	size_t cap, n;
} id_set;

static uint64_t id_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct id_slot *id_find(const id_set *set, const char *id)
{
	if (set->cap == 0)
		return NULL;
	for (size_t i = id_hash(id) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
		if (set->slots[i].id[0] == '\0')
			return NULL;
		if (strcmp(set->slots[i].id, id) == 0)
			return &set->slots[i];
	}
}

static bool id_add(id_set *set, const char *id, size_t line)
{
	if (strlen(id) >= sizeof(set->slots->id) || id[0] == '\0' || id_find(set, id) != NULL)
		return true;
	if ((set->n + 1) * 2 > set->cap) {
		id_set bigger = {calloc(set->cap > 0 ? set->cap * 2 : 1024, sizeof(*set->slots)),
		                 set->cap > 0 ? set->cap * 2 : 1024, 0};
		if (bigger.slots == NULL)
			return false;
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i].id[0] != '\0')
				id_add(&bigger, set->slots[i].id, set->slots[i].line);
		free(set->slots);
		*set = bigger;
	}
	size_t i = id_hash(id) & (set->cap - 1);
	while (set->slots[i].id[0] != '\0')
		i = (i + 1) & (set->cap - 1);
	snprintf(set->slots[i].id, sizeof(set->slots[i].id), "%s", id);
	set->slots[i].line = line;
	set->n++;
	return true;
}

/* ---- sending ----------------------------------------------------------- */

/* What an import did, line by line. */
typedef struct tally {
	size_t created, already, refused, by_state[9], by_code[17];
	int first_refusal; /* the status code of the first refused line */
	bool stopped;      /* a local error: the rest was not sent */
} tally;

/* An import under way. */
typedef struct importer {
	cli *c;
	const char *cohort;        /* --cohort, or NULL */
	const char *terms_version; /* --terms-version, or NULL */
	bool quiet;
	id_set seen;
	/* The global metadata, but each line brings its own idempotency key,
	 * the last entry, whose value is key. */
	ob_metadata md[CLI_MAX_METADATA + 1];
	size_t n_md;
	char key[48];
	tally t;
} importer;

static void refuse(tally *t, int code)
{
	t->refused++;
	t->by_code[code >= 0 && code <= 16 ? code : OB_CODE_UNKNOWN]++;
	if (t->first_refusal == 0)
		t->first_refusal = code;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Sends rq, again with the same key (safe) while the server asks to come
 * back later, at most IMPORT_RETRIES times. */
static int send_row(importer *im, const ProtobufCMessage *rq, Onboard__V1__Application **a,
                    ob_result *r)
{
	for (int attempt = 0;; attempt++) {
		int code = ob_client_call_message(im->c->client, M_SUBMIT, im->md, im->n_md, rq,
		                                  &onboard__v1__application__descriptor,
		                                  (ProtobufCMessage **)a, im->c->timeout_ms, r);
		bool later = !r->local && r->retry_after_ms > 0 &&
		             (code == OB_CODE_UNAVAILABLE || code == OB_CODE_RESOURCE_EXHAUSTED);
		if (!later || attempt + 1 == IMPORT_RETRIES)
			return code;
		uint32_t wait = r->retry_after_ms < 10000 ? r->retry_after_ms : 10000;
		ob_result_fini(r);
		sleep_ms(wait);
	}
}

/* A line the server took: created, or replayed (already imported: the
 * server answered with its first reply, and says so). The first line of
 * each id is remembered, so that its repeats in this file name it. */
static void accepted(importer *im, const import_row *row, const char *siren,
                     const Onboard__V1__Application *a, bool replayed)
{
	tally *t = &im->t;
	struct id_slot *known = id_find(&im->seen, cli_nz(a->id));
	if (replayed) {
		t->already++;
		if (!im->quiet) {
			printf("line %zu: %s already imported (%s", row->line, siren,
			       cli_nz(a->id));
			if (known != NULL)
				printf(", as line %zu", known->line);
			printf(")\n");
		}
	} else {
		t->created++;
		if ((size_t)a->state < 9)
			t->by_state[a->state]++;
		if (!im->quiet) {
			printf("line %zu: %s created %s, ", row->line, siren,
			       cli_state_name((int)a->state));
			cli_print_seat(a);
			printf(" (%s)\n", cli_nz(a->id));
		}
	}
	if (known == NULL && !id_add(&im->seen, cli_nz(a->id), row->line)) {
		fprintf(stderr, "onboard import: out of memory\n");
		t->stopped = true;
	}
}

/* One line: checked, sent, answered, counted. */
static void import_line(importer *im, const import_row *row)
{
	tally *t = &im->t;
	const char *siren =
	        cli_nz(row->cells[COL_SIREN])[0] != '\0' ? row->cells[COL_SIREN] : "(no SIREN)";
	import_req s;
	import_problem probs[IMPORT_MAX_PROBLEMS];
	size_t n_probs;
	import_request(row, im->cohort, im->terms_version, &s, probs, &n_probs);
	if (n_probs > 0) {
		printf("line %zu: %s refused INVALID_ARGUMENT: checked before sending\n", row->line,
		       siren);
		for (size_t k = 0; k < n_probs; k++)
			printf("    %s: %s\n", cli_col_names[probs[k].col], probs[k].what);
		refuse(t, OB_CODE_INVALID_ARGUMENT);
		return;
	}
	if (!request_key(&s.rq.base, im->key)) {
		fprintf(stderr, "onboard import: out of memory\n");
		t->stopped = true;
		return;
	}
	ob_result r;
	Onboard__V1__Application *a = NULL;
	int code = send_row(im, &s.rq.base, &a, &r);
	if (code == OB_CODE_OK) {
		accepted(im, row, siren, a, r.replayed);
		protobuf_c_message_free_unpacked(&a->base, NULL);
	} else if (r.local) {
		printf("line %zu: %s not sent: %s\n", row->line, siren, r.message);
		t->stopped = true;
	} else {
		refuse(t, code);
		printf("line %zu: %s refused %s: %s\n", row->line, siren, ob_code_name(code),
		       r.message);
		for (size_t k = 0; k < r.n_violations; k++) {
			int col = cli_column_of_field(r.violations[k].field);
			printf("    %s: %s\n",
			       col >= 0 ? cli_col_names[col] : r.violations[k].field,
			       r.violations[k].description);
		}
	}
	ob_result_fini(&r);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The summary line, and the exit status it comes to. */
static int summary(const tally *t, size_t n_rows, const struct timespec *t0)
{
	size_t done = t->created + t->already + t->refused;
	printf("summary: %zu line%s, %zu created (", done, done == 1 ? "" : "s", t->created);
	bool any = false;
	for (int st = 1; st < 9; st++)
		if (t->by_state[st] > 0) {
			printf("%s%zu %s", any ? ", " : "", t->by_state[st], cli_state_name(st));
			any = true;
		}
	printf("%s), %zu already imported, %zu refused", any ? "" : "none", t->already, t->refused);
	if (t->refused > 0) {
		printf(" (");
		any = false;
		for (int k = 0; k <= 16; k++)
			if (t->by_code[k] > 0) {
				printf("%s%zu %s", any ? ", " : "", t->by_code[k], ob_code_name(k));
				any = true;
			}
		printf(")");
	}
	printf(" in %.2f s\n", seconds_since(t0));
	if (!t->stopped)
		return t->first_refusal != 0 ? cli_status_exit(t->first_refusal) : OB_EXIT_OK;
	printf("stopped after %zu of %zu lines: run the same import again to resume; lines "
	       "already imported are not created twice\n",
	       done, n_rows);
	return OB_EXIT_LOCAL;
}

static int import_run(cli *c, const cli_args *a)
{
	importer im = {.c = c,
	               .cohort = cli_opt(a, "cohort"),
	               .terms_version = cli_opt(a, "terms-version"),
	               .quiet = cli_opt(a, "quiet") != NULL};
	char err[1024];
	import_row *rows = NULL;
	size_t n_rows = 0;
	if (sodium_init() < 0)
		return cli_fail(c, "libsodium cannot start");
	if (import_read(cli_arg(a, 0), &rows, &n_rows, err, sizeof(err)) != 0)
		return cli_fail(c, "%s\nNothing was submitted.", err);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = cli_client(c) == NULL ? OB_EXIT_LOCAL : OB_EXIT_OK;
	if (rc == OB_EXIT_OK) {
		for (size_t i = 0; i < c->n_md; i++)
			if (strcmp(c->md[i].key, "idempotency-key") != 0)
				im.md[im.n_md++] = c->md[i];
		im.md[im.n_md++] = (ob_metadata){"idempotency-key", im.key};
		for (size_t i = 0; i < n_rows && !im.t.stopped; i++)
			import_line(&im, &rows[i]);
		rc = summary(&im.t, n_rows, &t0);
	}
	import_rows_free(rows, n_rows);
	free(im.seen.slots);
	return rc;
}

static const cli_option import_options[] = {
        {"cohort", 0, CLI_STRING, .metavar = "ID",
         .help = "put every line into cohort ID, whatever its cohort cell\n"
                 "says (without it: the cell, and when it is empty or\n"
                 "missing, the server's default cohort)"},
        {"terms-version", 0, CLI_STRING, .metavar = "V",
         .help = "the version of the programme's terms the file's\n"
                 "companies accepted, for the lines whose terms_version\n"
                 "cell is empty (without either: the cohort's)"},
        {"quiet", 'q', CLI_FLAG, .help = "print only the refused lines and the summary"},
        {NULL},
};

static const cli_operand import_operands[] = {
        {"FILE.csv", .kind = CLI_STRING},
        {NULL},
};

const cli_command cli_cmd_import = {
        .name = "import",
        .summary = "submit the applications of a CSV file",
        .synopsis = "FILE.csv [--cohort ID] [--terms-version V] [--quiet]",
        .about = "Submits one application per line of a CSV file (RFC 4180: quoted fields,\n"
                 "\"\" for a quote, CRLF or LF, UTF-8 with or without a byte order mark), in\n"
                 "file order, so that seats go in file order too. '-' reads stdin.\n"
                 "\n"
                 "The first line names the columns, in any order, ignoring case:\n"
                 "  siren, siret, legal_name, trade_name, legal_form (ei, micro, eurl, sarl,\n"
                 "  sasu, sas, sa, snc, other), naf, vat, employees, turnover_eur,\n"
                 "  balance_eur, address, postal_code, city, contact_name, email, phone,\n"
                 "  channel (marketplace, webshop, both), export (true/false),\n"
                 "  categories (separated by ';'), cohort, accepts_terms (true/false),\n"
                 "  terms_version, terms_accepted_at (RFC 3339 or a date)\n"
                 "as the flags of 'onboard submit'. Missing columns and empty cells are\n"
                 "empty fields, an empty figure a figure not given (the server says which\n"
                 "ones it needs: a micro-entrepreneur has no balance_eur). An unknown\n"
                 "column is an error; the columns export adds (id, state, size,\n"
                 "departement, region, submitted_at, version) are ignored, so that an\n"
                 "export can be imported.\n"
                 "accepts_terms defaults to true: importing a file states that the partner\n"
                 "who sent it collected each company's acceptance of the programme's terms.\n"
                 "A cell that starts with one or more ' and then =, +, -, @, a tab or a\n"
                 "carriage return loses its first ': export adds it so that spreadsheets do\n"
                 "not run the cell as a formula, and import takes it off (\"'=x\" is read as\n"
                 "\"=x\", \"''=x\" as \"'=x\"; \"'abc\" stays as it is).\n"
                 "Lines whose cells are all empty are skipped. Limits: 4096 bytes a cell, 64\n"
                 "cells a line, 1000000 lines; beyond them, or for a line with another\n"
                 "number of cells than the header, nothing is submitted.\n",
        .after = "Re-running an import is safe: each line is sent with an idempotency key\n"
                 "derived from its request, and the server answers a line it has already\n"
                 "imported with its first reply (within 48 hours; after that, such a line\n"
                 "gets ALREADY_EXISTS), without creating anything twice.\n"
                 "\n"
                 "Prints per line: its line number, the SIREN, and 'created STATE',\n"
                 "'already imported', or 'refused CODE: message' with the invalid columns;\n"
                 "then a summary: created (by state), already imported, refused (by code).\n"
                 "Exit status: 0 when every line was created or already imported; else\n"
                 "64 + the code of the first refused line (e.g. 73 FAILED_PRECONDITION for a\n"
                 "company too large to be eligible, 70 ALREADY_EXISTS for a SIREN that\n"
                 "applied otherwise); 1 when the file is not valid (nothing is submitted) or\n"
                 "the server cannot be reached (the import stops; run it again to resume).\n",
        .options = import_options,
        .operands = import_operands,
        .run = import_run,
};
