/*
 * replay.c: a main() for fuzz targets in builds without libFuzzer (gcc, the sanitizer build):
 * feeds every file of the directories (or the files) given as arguments to
 * LLVMFuzzerTestOneInput, in name order, so that the corpus is a regression suite.
 *
 * Usage: fuzz_dispatch_replay DIR|FILE...
 * Exits 0 after replaying at least one input, 1 if an argument cannot be read or there was
 * nothing to replay; a failing input aborts, with its name printed first.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Runs one file; returns 0 or -1 if it cannot be read. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap * 2 + 4096;
			uint8_t *g = realloc(buf, cap);
			if (g == NULL) {
				free(buf);
				fclose(f);
				fprintf(stderr, "%s: out of memory\n", path);
				return -1;
			}
			buf = g;
		}
		size_t r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	int failed = ferror(f);
	fclose(f);
	if (failed) {
		free(buf);
		fprintf(stderr, "%s: read error\n", path);
		return -1;
	}
	/* Announce first: if the input crashes, this is the reproducer. */
	fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
	/* An exact-size copy, so that ASan sees any read past the end of the input. */
	uint8_t *exact = malloc(len > 0 ? len : 1);
	if (exact == NULL) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir; returns how many, or -1. */
static long replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		perror(dir);
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap * 2 + 64;
			char **g = realloc(names, cap * sizeof(*names));
			if (g == NULL)
				break;
			names = g;
		}
		if ((names[n] = strdup(e->d_name)) != NULL)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), by_name);
	long count = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) != 0)
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	long total = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		long n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]) == 0;
		if (n < 0)
			return 1;
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "nothing to replay\n");
		return 1;
	}
	fprintf(stderr, "replayed %ld inputs\n", total);
	return 0;
}
