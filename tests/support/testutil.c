#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAX_TMPDIR = 64 };

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ob_test_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t ob_test_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t ob_test_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ob_test_sleep_us(int64_t us)
{
	struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void ob_test_sleep_ms(int ms)
{
	ob_test_sleep_us((int64_t)ms * 1000);
}

int ob_test_mkdtemp(char *dir, size_t cap, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > MAX_TMPDIR)
		tmp = "/tmp";
	int n = snprintf(dir, cap, "%s/%s-XXXXXX", tmp, name);
	if (n < 0 || (size_t)n >= cap) {
		fprintf(stderr, "ob_test_mkdtemp: %s/%s-XXXXXX is too long\n", tmp, name);
		if (cap > 0)
			dir[0] = '\0';
		return -1;
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "ob_test_mkdtemp: %s: %s\n", dir, strerror(errno));
		dir[0] = '\0';
		return -1;
	}
	return 0;
}

void ob_test_remove_tree(const char *path)
{
	if (path == NULL || path[0] == '\0')
		return;
	DIR *d = opendir(path);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char sub[1024];
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			struct stat st;
			if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				ob_test_remove_tree(sub);
			else
				unlink(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

void ob_test_remove_db(const char *db)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char p[1024];
		snprintf(p, sizeof(p), "%s%s", db, suffix[i]);
		unlink(p);
	}
}

char *ob_test_read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		if (n + 1 == cap) {
			char *bigger = realloc(buf, cap * 2);
			if (bigger == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		size_t r = fread(buf + n, 1, cap - 1 - n, fp);
		n += r;
		if (r == 0)
			break;
	}
	fclose(fp);
	if (buf != NULL) {
		buf[n] = '\0';
		if (len != NULL)
			*len = n;
	}
	return buf;
}

int ob_test_count_lines(const char *path, const char *needle)
{
	char *text = ob_test_read_file(path, NULL);
	if (text == NULL)
		return -1;
	int n = 0;
	for (char *line = text; line != NULL && *line != '\0';) {
		char *end = strchr(line, '\n');
		if (end != NULL)
			*end = '\0';
		if (strstr(line, needle) != NULL)
			n++;
		line = end != NULL ? end + 1 : NULL;
	}
	free(text);
	return n;
}

void ob_test_random_bytes(uint32_t *state, uint8_t *buf, size_t len)
{
	uint32_t x = *state;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	*state = x;
}

size_t ob_test_fill_e_acute(char *buf, size_t size, const char *prefix)
{
	size_t n = strlen(prefix);
	memcpy(buf, prefix, n);
	for (size_t i = n; i + 1 < size; i++)
		buf[i] = (i - n) % 2 == 0 ? '\xC3' : '\xA9';
	buf[size - 1] = '\0';
	return size - 1;
}

bool ob_test_is_root(const char *what)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "%s needs root; not run\n", what);
	return false;
}
