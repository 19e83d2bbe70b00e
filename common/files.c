#include "files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ob_read_fd(int fd, void *buf, size_t cap, size_t *len)
{
	*len = 0;
	while (*len < cap) {
		ssize_t r = read(fd, (char *)buf + *len, cap - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		*len += (size_t)r;
	}
	return 0;
}

char *ob_read_stream(FILE *f, size_t *len)
{
	enum { CHUNK = 65536 };
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + CHUNK + 1 > cap) {
			cap = cap * 2 + CHUNK + 1;
			char *g = realloc(buf, cap);
			if (g == NULL) {
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			buf = g;
		}
		size_t r = fread(buf + n, 1, CHUNK, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;
		free(buf);
		errno = e != 0 ? e : EIO;
		return NULL;
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

bool ob_path_dir(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL || slash == path) {
		const char *d = slash == NULL ? "." : "/";
		if (strlen(d) >= size)
			return false;
		memcpy(dir, d, strlen(d) + 1);
		return true;
	}
	size_t k = (size_t)(slash - path);
	if (k >= size)
		return false;
	memcpy(dir, path, k);
	dir[k] = '\0';
	return true;
}
