/*
 * onboardd copy --from FILE --to postgresql://... [--replace]: the options
 * of the copy and its report. The URL is never printed (it may hold a
 * password), as onboardd never logs it.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "copy_cmd.h"
#include "store/copy.h"
#include "store/pg.h"

static void usage(FILE *f)
{
	fputs("Usage: onboardd copy --from FILE --to postgresql://... [--replace]\n"
	      "Copies the SQLite programme in FILE (stop its onboardd first) into the\n"
	      "PostgreSQL database of the URL, migrated to the current schema, in one\n"
	      "transaction: every table, row for row, personal data still sealed under the\n"
	      "same master key. The instances that serve the copy need that key file\n"
	      "(--master-key; by default master.key beside FILE).\n"
	      "\n"
	      "  --from FILE   the SQLite database, at this onboardd's schema\n"
	      "                (`onboardd migrate --db FILE` brings an older one there)\n"
	      "  --to URL      the PostgreSQL database (postgresql:// or postgres://)\n"
	      "  --replace     delete what the target holds instead of refusing it\n"
	      "  -h, --help    this help\n",
	      f);
}

static void print_report(const char *from, const ob_copy_report *r)
{
	int64_t total = 0;
	printf("copied %s (SQLite schema %u) into PostgreSQL (schema %u)%s, in one "
	       "transaction:\n",
	       from, r->sqlite_version, r->pg_version,
	       r->replaced ? ", replacing what it held" : "");
	for (size_t i = 0; i < r->n_tables; i++) {
		printf("  %-18s %10lld rows\n", r->tables[i].name, (long long)r->tables[i].rows);
		total += r->tables[i].rows;
	}
	printf("  %-18s %10lld rows, every table's count checked in both databases\n", "total",
	       (long long)total);
	for (size_t i = 0; i < r->n_keys; i++)
		printf("sealed contacts under master key %s: %lld\n", r->keys[i].kid,
		       (long long)r->keys[i].contacts);
	printf("serve the copy with --db URL --master-key FILE, FILE the key file of %s "
	       "(by default master.key beside it)\n",
	       from);
}

int ob_copy_command(int argc, char **argv)
{
	static const struct option longs[] = {
	        {"from", required_argument, NULL, 'f'},
	        {"to", required_argument, NULL, 't'},
	        {"replace", no_argument, NULL, 'r'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *from = NULL, *to = NULL;
	bool replace = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (ch) {
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'r':
			replace = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || from == NULL || to == NULL) {
		fputs("onboardd copy: --from FILE and --to URL are both needed\n", stderr);
		usage(stderr);
		return 2;
	}
	if (!ob_store_is_pg(to) || ob_store_is_pg(from)) {
		fputs("onboardd copy: --from names a SQLite file, --to a postgresql:// URL\n",
		      stderr);
		return 2;
	}
	ob_copy_report report;
	ob_err err = ob_store_copy_sqlite_to_pg(from, to, replace, &report);
	if (err != OB_OK) {
		ob_log(OB_LOG_ERROR, "copy: nothing was copied (%s)", ob_strerror(err));
		return 1;
	}
	print_report(from, &report);
	return 0;
}
