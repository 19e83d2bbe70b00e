/*
 * onboard-crash: the crash campaign of issue 15 (crash.h says what it does).
 *
 *     ONBOARDD=build/service/onboardd build/tests/reliability/onboard-crash --cycles 300
 *
 * Each cycle kills onboardd one of three ways, drawn from the seed:
 *   - random: after a delay drawn in [2 ms, --max-delay-ms], to the microsecond;
 *   - wal: after a short delay, the moment the WAL's size or time changes, that is while
 *     the writer is appending a commit's frames, give or take a few hundred microseconds;
 *   - rotation (every --rotate-every cycles, while the key file has room): while a key
 *     rotation runs, at a delay drawn from the last rotation's length.
 * What the kill hit is measured, not assumed: the WAL left with frames after its last
 * commit frame (a commit cut half-way), the system call each thread was in when the kill
 * was sent (fsync, pwrite), the writes in flight, and a rotation's new key in the file.
 *
 * Against PostgreSQL (--pg, under tools/pgcluster.sh): --instances onboardd (default 2) serve
 * one database of their own in the cluster, the clients spread over them, and each cycle
 * kills one or several of them at a random delay, or (every --db-restart-every cycles)
 * crashes and restarts the database itself (pg_ctl stop -m immediate, start) while they
 * serve and clients write. The checks read the database as committed (no crash image:
 * PostgreSQL's recovery is its own), its indexes checked by amcheck instead of
 * integrity_check.
 *
 * The seed fixes every choice of the campaign (modes, delays, what each client writes); the
 * threads' interleaving and where the kill lands are the machine's. A failing cycle's seed
 * and number are printed: --seed S --cycles N runs the same choices up to it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"
#include "testutil.h"

enum { MODE_RANDOM, MODE_WAL, MODE_ROTATION, MODE_DB_RESTART, MODE_COUNT };
static const char *const mode_names[MODE_COUNT] = {"random", "wal", "rotation", "db-restart"};

enum { MAX_INSTANCES = 4 };

enum { ASK_AGAIN = 8 }; /* acknowledged writes asked again after each kill */

typedef struct {
	unsigned cycles, clients, capacity, max_delay_ms, rotate_every;
	unsigned instances, db_restart_every; /* --pg */
	uint64_t seed;
	const char *dir, *report;
	bool keep, verbose, pg;
} options;

/* What the kills hit (main thread only). */
typedef struct {
	unsigned kills, by_mode[MODE_COUNT];
	unsigned mid_commit; /* the WAL held frames after its last commit */
	unsigned writer_busy, in_fsync, in_pwrite;
	unsigned with_writes; /* writes in flight at the kill */
	unsigned long writes_in_flight;
	unsigned rotation_cut;                 /* a rotation in flight */
	unsigned rotation_rewrap;              /* ... after its new key was in the file */
	unsigned instances_killed, all_killed; /* --pg: onboardd killed, cycles that killed all */
} kills;

typedef struct {
	options o;
	cr_server srv;                     /* the first onboardd: the campaign's checks */
	cr_server more[MAX_INSTANCES - 1]; /* --pg: the others on the same database */
	cr_model m;
	cr_client clients[CR_MAX_CLIENTS];
	cr_client rotator;
	atomic_bool stop;
	atomic_int in_flight, rotating;
	_Atomic int64_t rotation_began_us;
	_Atomic int64_t rotation_us; /* the last acknowledged rotation's length */
	kills k;
} campaign;

/* ---- setting up --------------------------------------------------------------------------- */

static const char usage[] =
        "Usage: onboard-crash [OPTIONS]\n"
        "Kills onboardd ($ONBOARDD) with SIGKILL while clients write, again and again, and\n"
        "checks after every kill that nothing acknowledged is lost or doubled.\n"
        "\n"
        "  --cycles N          kills (default 20)\n"
        "  --seed N            the campaign's choices (default: from the clock, printed)\n"
        "  --clients N         writing threads, each with a connection (default 4, at most 15)\n"
        "  --capacity N        seats of the cohort, so that the waitlist moves (default 40)\n"
        "  --max-delay-ms N    longest delay before a random kill (default 400)\n"
        "  --rotate-every N    a key rotation every N cycles, 0 none (default 6)\n"
        "  --dir DIR           work here (default: a new temporary directory)\n"
        "  --keep              keep the directory (it is kept anyway when a check fails)\n"
        "  --report FILE       the summary into FILE too\n"
        "  --verbose           a line per cycle\n"
        "  --pg                against PostgreSQL: a database of its own in the cluster of\n"
        "                      tools/pgcluster.sh (run under it); the instances share the\n"
        "                      key file, a rotation goes through one of them\n"
        "  --instances N       --pg: onboardd instances on the database (default 2, at most 4)\n"
        "  --db-restart-every N  --pg: crash and restart the database every N cycles instead\n"
        "                      of killing onboardd, 0 never (default 4)\n";

static int parse(int argc, char **argv, options *o)
{
	static const struct option longopts[] = {
	        {"cycles", required_argument, NULL, 'c'},
	        {"seed", required_argument, NULL, 's'},
	        {"clients", required_argument, NULL, 'n'},
	        {"capacity", required_argument, NULL, 'p'},
	        {"max-delay-ms", required_argument, NULL, 'd'},
	        {"rotate-every", required_argument, NULL, 'r'},
	        {"dir", required_argument, NULL, 'D'},
	        {"keep", no_argument, NULL, 'k'},
	        {"report", required_argument, NULL, 'R'},
	        {"verbose", no_argument, NULL, 'v'},
	        {"pg", no_argument, NULL, 'g'},
	        {"instances", required_argument, NULL, 'i'},
	        {"db-restart-every", required_argument, NULL, 'b'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	*o = (options){.cycles = 20,
	               .clients = 4,
	               .capacity = 40,
	               .max_delay_ms = 400,
	               .rotate_every = 6,
	               .instances = 2,
	               .db_restart_every = 4,
	               .seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32};
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		/* The numbers: decimal digits only, within range. */
		char *end = NULL;
		bool number = strchr("csnpdrib", c) != NULL;
		unsigned long long v = number ? strtoull(optarg, &end, 10) : 0;
		bool bad = number && (!isdigit((unsigned char)optarg[0]) || *end != '\0' ||
		                      (c != 's' && v > UINT_MAX));
		switch (c) {
		case 'c':
			o->cycles = (unsigned)v;
			break;
		case 's':
			o->seed = v;
			break;
		case 'n':
			bad |= v == 0 || v >= CR_MAX_CLIENTS;
			o->clients = (unsigned)v;
			break;
		case 'p':
			bad |= v == 0;
			o->capacity = (unsigned)v;
			break;
		case 'd':
			bad |= v < 3;
			o->max_delay_ms = (unsigned)v;
			break;
		case 'r':
			o->rotate_every = (unsigned)v;
			break;
		case 'g':
			o->pg = true;
			break;
		case 'i':
			bad |= v == 0 || v > MAX_INSTANCES;
			o->instances = (unsigned)v;
			break;
		case 'b':
			o->db_restart_every = (unsigned)v;
			break;
		case 'D':
			o->dir = optarg;
			break;
		case 'k':
			o->keep = true;
			break;
		case 'R':
			o->report = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fputs(usage, stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "onboard-crash: bad value '%s'\n%s", optarg, usage);
			return 2;
		}
	}
	if (optind < argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!o->pg)
		o->instances = 1;
	return 0;
}

/* The cohort's seats: few, so that the waitlist fills and withdrawals promote. */
static int set_capacity(campaign *cp)
{
	Onboard__V1__SetCohortCapacityRequest rq = ONBOARD__V1__SET_COHORT_CAPACITY_REQUEST__INIT;
	rq.id = (char *)cp->m.cohort;
	rq.capacity = cp->o.capacity;
	size_t len = onboard__v1__set_cohort_capacity_request__get_packed_size(&rq);
	uint8_t buf[256];
	if (len > sizeof(buf))
		return -1;
	onboard__v1__set_cohort_capacity_request__pack(&rq, buf);
	ob_result r;
	int code = ob_client_call(cp->srv.admin, "/onboard.v1.Onboarding/SetCohortCapacity", NULL,
	                          0, buf, len, 10000, &r);
	if (code != OB_CODE_OK)
		fprintf(stderr, "SetCohortCapacity: %s: %s\n", ob_code_name(code), r.message);
	ob_result_fini(&r);
	return code == OB_CODE_OK ? 0 : -1;
}

/* Instance i of the campaign's onboardd (0: cp->srv). */
static cr_server *instance(campaign *cp, unsigned i)
{
	return i == 0 ? &cp->srv : &cp->more[i - 1];
}

/* onboardd migrate on the PostgreSQL database, which also makes the key file every instance
 * reads (a serving instance never makes one). Returns 0 or -1. */
static int migrate(const cr_server *s)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(s->onboardd, s->onboardd, "migrate", "--db", s->db, "--master-key", s->key,
		      (char *)NULL);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "onboardd migrate failed (see %s)\n", s->log);
	return -1;
}

/* The database (--pg: a PostgreSQL database of its own, migrated) and the instances other
 * than the first, each with its socket, log and admin connection. Returns 0 or -1. */
static int setup_instances(campaign *cp)
{
	cr_server *s = &cp->srv;
	for (unsigned i = 1; i < cp->o.instances; i++) {
		cr_server *o = instance(cp, i);
		*o = (cr_server){.onboardd = s->onboardd, .m = s->m};
		snprintf(o->dir, sizeof(o->dir), "%s", s->dir);
		snprintf(o->db, sizeof(o->db), "%s", s->db);
		snprintf(o->key, sizeof(o->key), "%s", s->key);
		snprintf(o->url, sizeof(o->url), "ipc://%s/onboardd-%u.sock", s->dir, i);
		snprintf(o->log, sizeof(o->log), "%s/onboardd-%u.log", s->dir, i);
		if (cr_open(&o->admin, o->url) != 0 || cr_server_start(o) != 0)
			return -1;
	}
	return 0;
}

static int setup(campaign *cp)
{
	cr_server *s = &cp->srv;
	if (cp->o.dir != NULL) {
		snprintf(s->dir, sizeof(s->dir), "%s", cp->o.dir);
	} else if (ob_test_mkdtemp(s->dir, sizeof(s->dir), "ob-crash") != 0) {
		return -1;
	}
	snprintf(s->url, sizeof(s->url), "ipc://%s/onboardd.sock", s->dir);
	snprintf(s->db, sizeof(s->db), "%s/onboard.db", s->dir);
	snprintf(s->key, sizeof(s->key), "%s/master.key", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/onboardd.log", s->dir);
	char journal[320];
	snprintf(journal, sizeof(journal), "%s/journal.txt", s->dir);
	cr_model *m = &cp->m;
	pthread_mutex_init(&m->mu, NULL);
	s->m = m;
	m->cohort = "2020-11";
	m->capacity = cp->o.capacity;
	m->journal = fopen(journal, "we");
	if (cp->o.pg && (cr_pg_database(s->db, sizeof(s->db)) != 0 || migrate(s) != 0))
		return -1;
	if (cr_open(&s->admin, s->url) != 0 || cr_server_start(s) != 0 ||
	    setup_instances(cp) != 0 || set_capacity(cp) != 0)
		return -1;
	for (unsigned i = 0; i <= cp->o.clients; i++) {
		cr_client *c = i < cp->o.clients ? &cp->clients[i] : &cp->rotator;
		*c = (cr_client){.index = (int)i,
		                 .m = m,
		                 .url = instance(cp, i % cp->o.instances)->url,
		                 .stop = &cp->stop,
		                 .in_flight = i < cp->o.clients ? &cp->in_flight : &cp->rotating,
		                 .rng = cp->o.seed ^ (0x9E3779B97F4A7C15ull * (i + 1))};
		if (c->rng == 0)
			c->rng = 1;
		if (cr_open(&c->cl, s->url) != 0)
			return -1;
	}
	atomic_store(&cp->rotation_us, 200000);
	return 0;
}

/* ---- a cycle ------------------------------------------------------------------------------ */

static void *rotate_main(void *arg)
{
	campaign *cp = arg;
	cr_client *c = &cp->rotator;
	pthread_mutex_lock(&c->m->mu);
	cr_op *op = cr_op_plan(c, cr_kind_named("rotate"));
	pthread_mutex_unlock(&c->m->mu);
	if (op == NULL)
		return NULL;
	int64_t began = ob_test_mono_us();
	atomic_store(&cp->rotation_began_us, began);
	cr_write(c, op, 60000);
	if (op->how == CR_AT_ONCE)
		atomic_store(&cp->rotation_us, ob_test_mono_us() - began);
	return NULL;
}

/* Waits for the moment of the kill, as mode says. */
static void wait_for_kill(campaign *cp, int mode, uint64_t *rng)
{
	if (mode == MODE_RANDOM || mode == MODE_DB_RESTART) {
		ob_test_sleep_us(
		        (int64_t)cr_between(rng, 2000, (uint64_t)cp->o.max_delay_ms * 1000));
	} else if (mode == MODE_WAL) {
		char wal[352];
		snprintf(wal, sizeof(wal), "%s-wal", cp->srv.db);
		ob_test_sleep_us((int64_t)cr_between(rng, 5000, 60000));
		struct timespec mtime = {0, 0};
		off_t size = -1;
		cr_wal_changed(wal, &mtime, &size);
		for (int64_t end = ob_test_mono_us() + 2000000; ob_test_mono_us() < end;) {
			if (cr_wal_changed(wal, &mtime, &size))
				break;
			ob_test_sleep_us(20);
		}
		for (int64_t end = ob_test_mono_us() + (int64_t)cr_between(rng, 0, 300);
		     ob_test_mono_us() < end;)
			;
	} else {
		while (atomic_load(&cp->rotation_began_us) == 0)
			ob_test_sleep_us(100);
		ob_test_sleep_us((int64_t)cr_between(
		        rng, 0, (uint64_t)atomic_load(&cp->rotation_us) * 13 / 10));
	}
}

/* The acknowledged keyed writes asked again with their keys: the first reply, replayed. */
static void ask_again(campaign *cp, uint64_t *rng)
{
	cr_model *m = &cp->m;
	for (int i = 0; i < ASK_AGAIN; i++) {
		pthread_mutex_lock(&m->mu);
		cr_op *op = m->n_ops > 0 ? m->ops[cr_rand(rng) % m->n_ops] : NULL;
		bool fit = op != NULL && op->how != CR_NOT_YET && op->kind->keyed;
		pthread_mutex_unlock(&m->mu);
		if (!fit)
			continue;
		ob_result r;
		int code = cr_send(cp->srv.admin, op, 30000, &r);
		pthread_mutex_lock(&m->mu);
		if (code == OB_CODE_OK)
			cr_record_ok(m, op, &r, CR_RETRIED);
		else
			cr_report(m, CR_UNEXPECTED, "%s %s asked again: %s: %s", op->kind->name,
			          op->key, ob_code_name(code), r.message);
		pthread_mutex_unlock(&m->mu);
		ob_result_fini(&r);
	}
}

static int cycle(campaign *cp, unsigned n)
{
	cr_model *m = &cp->m;
	uint64_t rng = cp->o.seed ^ (0xD1B54A32D192ED03ull * (n + 1));
	char ids[64][CR_KID_SIZE];
	size_t keys_before = cr_key_ids(cp->srv.key, ids, 64);
	/* PostgreSQL has no WAL file of ours to watch: its kills are at a random delay. */
	int mode = cr_rand(&rng) % 2 == 0 || cp->o.pg ? MODE_RANDOM : MODE_WAL;
	if (cp->o.rotate_every > 0 && n % cp->o.rotate_every == cp->o.rotate_every - 1 &&
	    keys_before < CR_MAX_KEY_LINES)
		mode = MODE_ROTATION;
	unsigned every = cp->o.db_restart_every;
	if (cp->o.pg && every > 0 && n % every == every - 1)
		mode = MODE_DB_RESTART;
	/* The instances killed, one bit each: any non-empty set of them. */
	unsigned all = (1u << cp->o.instances) - 1, victims = all;
	if (mode == MODE_DB_RESTART)
		victims = 0;
	else if (cp->o.instances > 1)
		victims = (unsigned)cr_between(&rng, 1, all);

	atomic_store(&cp->stop, false);
	atomic_store(&cp->rotation_began_us, 0);
	pthread_t rotation;
	for (unsigned i = 0; i < cp->o.clients; i++)
		pthread_create(&cp->clients[i].thread, NULL, cr_client_main, &cp->clients[i]);
	if (mode == MODE_ROTATION)
		pthread_create(&rotation, NULL, rotate_main, cp);
	int64_t began = ob_test_mono_us();
	wait_for_kill(cp, mode, &rng);

	/* The kill: the epoch first, so that a reply read after it is not counted as one
	 * the killed server's database must hold. */
	int in_flight = atomic_load(&cp->in_flight);
	bool rotating = atomic_load(&cp->rotating) > 0;
	atomic_fetch_add(&m->epoch, 1);
	cr_sample sample = {0}, one;
	for (unsigned i = cp->o.instances; i-- > 0;) {
		if ((victims >> i & 1) == 0)
			continue;
		cr_server_kill(instance(cp, i), &one);
		sample = one; /* the lowest-numbered instance's: it is killed last */
		cp->k.instances_killed++;
	}
	cp->k.all_killed += victims == all;
	if (mode == MODE_DB_RESTART && cr_pg_restart() != 0)
		return -1;
	int64_t at_us = ob_test_mono_us() - began;
	char wal_path[352];
	snprintf(wal_path, sizeof(wal_path), "%s-wal", cp->srv.db);
	cr_wal wal = {0, 0};
	if (!cp->o.pg)
		cr_wal_scan(wal_path, &wal);
	size_t keys_after = cr_key_ids(cp->srv.key, ids, 64);

	kills *k = &cp->k;
	k->kills++;
	k->by_mode[mode]++;
	k->mid_commit += wal.uncommitted > 0;
	k->writer_busy += sample.busy;
	k->in_fsync += sample.in_fsync;
	k->in_pwrite += sample.in_pwrite;
	k->with_writes += in_flight > 0;
	k->writes_in_flight += (unsigned long)in_flight;
	k->rotation_cut += rotating;
	k->rotation_rewrap += rotating && keys_after > keys_before;

	/* The database as the kill left it, in a copy: checking it must not change what the
	 * next onboardd recovers. */
	char image[352];
	pthread_mutex_lock(&m->mu);
	if (cp->o.pg)
		cr_check_database(m, cp->srv.db, "database after the kill", cp->srv.key,
		                  atomic_load(&m->epoch), false);
	else if (cr_crash_image(&cp->srv, image, sizeof(image)) != 0)
		cr_report(m, CR_UNEXPECTED, "cannot copy the crash image");
	else
		cr_check_database(m, image, "crash image", cp->srv.key, atomic_load(&m->epoch),
		                  false);
	pthread_mutex_unlock(&m->mu);

	for (unsigned i = 0; i < cp->o.instances; i++)
		if ((victims >> i & 1) != 0 && cr_server_start(instance(cp, i)) != 0)
			return -1;
	atomic_store(&cp->stop, true);
	for (unsigned i = 0; i < cp->o.clients; i++)
		pthread_join(cp->clients[i].thread, NULL);
	if (mode == MODE_ROTATION)
		pthread_join(rotation, NULL);
	for (unsigned i = 0; i < cp->o.clients; i++)
		cr_retry(&cp->clients[i]);
	cr_retry(&cp->rotator);
	ask_again(cp, &rng);

	pthread_mutex_lock(&m->mu);
	cr_check_database(m, cp->srv.db, "live database", cp->srv.key, INT_MAX, true);
	pthread_mutex_unlock(&m->mu);
	cr_check_service(m, cp->srv.admin);

	if (cp->o.verbose)
		printf("cycle %u: %s kill at %.1f ms; %d writes in flight%s; WAL %u frames, %u "
		       "after its last commit; the writer %s\n",
		       n, mode_names[mode], (double)at_us / 1000.0, in_flight,
		       rotating ? ", a rotation" : "", wal.frames, wal.uncommitted,
		       sample.in_fsync    ? "in fsync"
		       : sample.in_pwrite ? "in pwrite"
		       : sample.busy      ? "in a batch"
		                          : "waiting");
	if (m->journal != NULL)
		fprintf(m->journal, "== cycle %u: %s kill at %lld us, %d in flight, WAL %u/%u\n", n,
		        mode_names[mode], (long long)at_us, in_flight, wal.frames, wal.uncommitted);
	return 0;
}

/* ---- the verdict ---------------------------------------------------------------------------- */

static void summary(campaign *cp, FILE *f, unsigned done)
{
	const cr_counts *c = &cp->m.counts;
	const kills *k = &cp->k;
	const options *o = &cp->o;
	unsigned long by_kind[8] = {0}, replayed = 0;
	for (size_t i = 0; i < cp->m.n_ops; i++) {
		const cr_op *op = cp->m.ops[i];
		by_kind[op->kind - cr_kinds]++;
		replayed += op->how != CR_NOT_YET && op->how != CR_AT_ONCE && op->replayed;
	}
	fprintf(f, "onboard-crash: %u cycles, seed %llu, %u clients, %u seats%s\n", done,
	        (unsigned long long)o->seed, o->clients, o->capacity,
	        o->pg ? ", on PostgreSQL" : "");
	if (o->pg)
		fprintf(f,
		        "kills (PostgreSQL)      %u cycles killed onboardd (%u instances of %u, "
		        "all "
		        "of them in %u), %u crashed and restarted the database\n",
		        k->kills - k->by_mode[MODE_DB_RESTART], k->instances_killed, o->instances,
		        k->all_killed, k->by_mode[MODE_DB_RESTART]);
	fprintf(f,
	        "kills                   %u: %u at a random delay, %u on a WAL write, %u during "
	        "a key rotation\n",
	        k->kills, k->by_mode[MODE_RANDOM], k->by_mode[MODE_WAL], k->by_mode[MODE_ROTATION]);
	fprintf(f,
	        "  in a group commit     %u (the writer between BEGIN and the return of "
	        "COMMIT): %u in its fsync, %u in a pwrite\n",
	        k->writer_busy, k->in_fsync, k->in_pwrite);
	fprintf(f, "  in a commit's write   %u (the WAL held frames after its last commit frame)\n",
	        k->mid_commit);
	fprintf(f, "  with writes in flight %u (%lu writes)\n", k->with_writes,
	        k->writes_in_flight);
	fprintf(f,
	        "  during a rotation     %u (%u after its new key was written, in the "
	        "re-wrap)\n",
	        k->rotation_cut, k->rotation_rewrap);
	fprintf(f, "writes sent             %llu:", (unsigned long long)c->sent);
	for (size_t i = 0; i < cr_n_kinds; i++)
		fprintf(f, " %s %lu%s", cr_kinds[i].name, by_kind[i],
		        i + 1 < cr_n_kinds ? "," : "\n");
	fprintf(f,
	        "acknowledged            %llu: %llu at once, %llu after the restart (the "
	        "library's resend), %llu on the campaign's retry\n",
	        (unsigned long long)c->acked, (unsigned long long)c->how[CR_AT_ONCE],
	        (unsigned long long)c->how[CR_RESENT], (unsigned long long)c->how[CR_RETRIED]);
	fprintf(f, "  done before a kill, reply lost: %lu (answered from the stored reply)\n",
	        replayed);
	fprintf(f, "  retried: %llu replayed, %llu done by the retry\n",
	        (unsigned long long)c->replayed_retries, (unsigned long long)c->applied_retries);
	fprintf(f, "asked again             %llu, %llu identical replies\n",
	        (unsigned long long)c->asked_again, (unsigned long long)c->identical);
	fprintf(f, "rotations               %llu begun, %llu acknowledged\n",
	        (unsigned long long)c->rotations, (unsigned long long)c->rotations_acked);
	fprintf(f,
	        "connections reopened    %llu (silent while onboardd served: nng 1.5.2 dials no "
	        "more after a connection cut during its hello)\n",
	        (unsigned long long)c->reopened);
	fprintf(f, "acknowledged %llu / lost %llu / duplicated %llu / unexpected %llu\n",
	        (unsigned long long)c->acked, (unsigned long long)c->lost,
	        (unsigned long long)c->duplicated, (unsigned long long)c->unexpected);
}

static void teardown(campaign *cp)
{
	for (unsigned i = 0; i <= cp->o.clients; i++) {
		cr_client *c = i < cp->o.clients ? &cp->clients[i] : &cp->rotator;
		ob_client_close(c->cl);
		free(c->mine);
	}
	for (unsigned i = 0; i < cp->o.instances; i++)
		ob_client_close(instance(cp, i)->admin);
	for (size_t i = 0; i < cp->m.n_ops; i++) {
		free(cp->m.ops[i]->req);
		free(cp->m.ops[i]->reply);
		free(cp->m.ops[i]);
	}
	free(cp->m.ops);
	free(cp->m.apps);
	if (cp->m.journal != NULL)
		fclose(cp->m.journal);
	pthread_mutex_destroy(&cp->m.mu);
}

int main(int argc, char **argv)
{
	static campaign cp;
	int rc = parse(argc, argv, &cp.o);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	cp.srv.onboardd = getenv("ONBOARDD");
	if (cp.srv.onboardd == NULL) {
		fprintf(stderr, "onboard-crash: set ONBOARDD to the onboardd to kill\n");
		return 2;
	}
	prctl(PR_SET_TIMERSLACK, 1000UL); /* the WAL watch sleeps 20 us at a time */
	printf("onboard-crash: seed %llu (onboard-crash --seed %llu runs the same choices)\n",
	       (unsigned long long)cp.o.seed, (unsigned long long)cp.o.seed);
	fflush(stdout);
	unsigned done = 0;
	int status = setup(&cp) == 0 ? 0 : 1;
	for (; status == 0 && done < cp.o.cycles; done++) {
		uint64_t before =
		        cp.m.counts.lost + cp.m.counts.duplicated + cp.m.counts.unexpected;
		if (cycle(&cp, done) != 0)
			status = 1;
		if (cp.m.counts.lost + cp.m.counts.duplicated + cp.m.counts.unexpected > before)
			fprintf(stderr, "cycle %u of seed %llu failed its checks\n", done,
			        (unsigned long long)cp.o.seed);
	}
	for (unsigned i = cp.o.instances; status == 0 && i-- > 0;) {
		if (cr_server_stop(instance(&cp, i)) != 0) {
			fprintf(stderr, "onboardd did not stop cleanly (see %s)\n",
			        instance(&cp, i)->log);
			status = 1;
		}
	}
	if (status == 0) {
		/* After a clean stop: the database as the next start will find it. */
		pthread_mutex_lock(&cp.m.mu);
		cr_check_database(&cp.m, cp.srv.db, "database after SIGTERM", cp.srv.key, INT_MAX,
		                  true);
		pthread_mutex_unlock(&cp.m.mu);
	}
	for (unsigned i = 0; i < cp.o.instances; i++)
		if (instance(&cp, i)->pid != 0)
			cr_server_stop(instance(&cp, i));
	summary(&cp, stdout, done);
	FILE *report = cp.o.report != NULL ? fopen(cp.o.report, "we") : NULL;
	if (report != NULL) {
		summary(&cp, report, done);
		fclose(report);
	}
	const cr_counts *c = &cp.m.counts;
	if (c->lost + c->duplicated + c->unexpected > 0 || done < cp.o.cycles)
		status = 1;
	bool keep = cp.o.keep || status != 0;
	if (keep)
		printf("onboard-crash: kept %s (onboardd.log, journal.txt)\n", cp.srv.dir);
	teardown(&cp);
	if (!keep && cp.o.dir == NULL)
		ob_test_remove_tree(cp.srv.dir);
	return status;
}
