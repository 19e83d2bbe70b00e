/*
 * load.h: onboard-load's configuration, as the command line makes it (options.c), and the
 * kinds of call it makes. What runs the calls is engine.h; the requests are requests.h; the
 * preparation (login, cohort, application ids) is setup.h; the figures are report.h.
 *
 * How a run goes (load.c): parse the command line; open a control connection with
 * libonboard-client, log in, choose the cohort (creating a throw-away one when the run writes
 * and none is named), find application ids; then the engine drives lanes of nng contexts, one
 * call in flight each, on a few sockets, without a thread per call; then one report.
 */
#ifndef OB_LOAD_LOAD_H
#define OB_LOAD_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "attr.h"
#include "template.h"

enum {
	OB_LOAD_MAX_SERVERS = 16,
	OB_LOAD_MAX_METADATA = 16,
	OB_LOAD_MAX_LANES = 4096,
	OB_LOAD_MAX_SOCKETS = 256,
	OB_LOAD_N_CODES = 17,      /* the contract's status codes, OK to UNAUTHENTICATED */
	OB_LOAD_KEY_MAX = 64,      /* a metadata key */
	OB_LOAD_VALUE_MAX = 1024,  /* a metadata value */
	OB_LOAD_MESSAGE_MAX = 320, /* bytes of an error message kept, NUL included */
};

/* The kinds of call; a scenario weighs them (config.weights). */
typedef enum ob_load_op {
	OB_LOAD_SUBMIT, /* SubmitApplication of a new valid company */
	OB_LOAD_GET,    /* GetApplication of a known id */
	OB_LOAD_LIST,   /* ListApplications, a page of 20 */
	OB_LOAD_COHORT, /* GetCohort */
	OB_LOAD_ECHO,   /* raw bytes to an echo server, no envelope */
	OB_LOAD_CALL,   /* --call METHOD with --data */
	OB_LOAD_N_OPS,
} ob_load_op;

typedef enum ob_load_format {
	OB_LOAD_TEXT,
	OB_LOAD_JSON,
	OB_LOAD_CSV,
	OB_LOAD_HDR, /* HdrHistogram's percentile distribution */
} ob_load_format;

typedef struct ob_load_md {
	const char *key, *value; /* point into argv */
} ob_load_md;

typedef struct ob_load_config {
	const char *servers[OB_LOAD_MAX_SERVERS];
	size_t n_servers;
	const char *scenario; /* "get", "mixed"..., "call" for --call */
	unsigned weights[OB_LOAD_N_OPS];
	unsigned concurrency; /* lanes: calls in flight */
	unsigned connections; /* sockets; each dials every server */
	uint64_t total;       /* measured calls; 0: until duration_ms */
	int64_t duration_ms;  /* 0: until total */
	int64_t warmup_ms;    /* 0: none */
	uint64_t rate;        /* calls a second, open loop; 0: closed loop */
	int64_t timeout_ms;
	size_t echo_bytes;
	const char *cohort; /* --cohort; NULL: the run picks (setup.h) */
	/* --call: the method, its canonical full name, and the compiled --data. */
	const ProtobufCMethodDescriptor *call;
	char call_name[256];
	ob_load_template *data;
	char *data_text;  /* --data as read (a file's content with @FILE); owned */
	bool call_writes; /* see ob_load_writes() */
	ob_load_md md[OB_LOAD_MAX_METADATA];
	size_t n_md;
	const char *key_file;
	const char *tls_ca, *tls_cert, *tls_key, *tls_server_name;
	bool server_uid_set;
	uint32_t server_uid;
	ob_load_format format;
	const char *output; /* --output FILE; NULL: stdout */
	int progress;       /* 1 --progress, 0 --no-progress, -1 when stderr is a terminal */
	bool help, version;
} ob_load_config;

/*
 * Reads argv into c, checking every value (numbers, durations, metadata, the method and its
 * data, which is compiled and decoded once with sample values) so that a bad one is refused
 * before anything is sent. Reads --data @FILE. Uses $ONBOARD_KEY and $ONBOARD_SERVER_UID
 * where no option says otherwise. Prints nothing: returns 0, or 2 with the problem in err
 * (errlen bytes). After --help or --version, returns 0 with c->help or c->version set. c
 * points into argv, which must outlive it; ob_load_config_fini() frees the rest, also after
 * a failure.
 */
OB_NODISCARD int ob_load_parse(ob_load_config *c, int argc, char **argv, char *err, size_t errlen);
void ob_load_config_fini(ob_load_config *c);
/* The text of --help, written from the table of options that the parser reads. */
void ob_load_print_usage(FILE *f);

/* The full method name of an op other than OB_LOAD_CALL and OB_LOAD_ECHO. */
const char *ob_load_op_method(ob_load_op op);
/* The method a run calls when it calls only one; NULL for several or for echo. */
const char *ob_load_single_method(const ob_load_config *c);
/* Whether the run writes into a cohort: submits, or --call with {{cohort}}, or --call of a
 * method whose request has a cohort_id other than Get and List methods. */
bool ob_load_writes(const ob_load_config *c);

#endif
