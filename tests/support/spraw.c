#include "spraw.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "testutil.h"

int ob_spraw_connect(ob_spraw *c, const char *url, const char *bind_ip)
{
	c->fd = -1;
	c->next_id = 1;
	c->ipc = strncmp(url, "ipc://", 6) == 0;
	int fd;
	if (c->ipc) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		if (strlen(url + 6) >= sizeof(sa.sun_path))
			return -ENAMETOOLONG;
		strcpy(sa.sun_path, url + 6);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			int e = errno;
			close(fd);
			return -e;
		}
	} else {
		if (strncmp(url, "tcp://", 6) != 0)
			return -EINVAL;
		char host[64];
		const char *colon = strrchr(url + 6, ':');
		if (colon == NULL || (size_t)(colon - (url + 6)) >= sizeof(host))
			return -EINVAL;
		memcpy(host, url + 6, (size_t)(colon - (url + 6)));
		host[colon - (url + 6)] = '\0';
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_port = htons((uint16_t)atoi(colon + 1))};
		if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
			return -EINVAL;
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -errno;
		if (bind_ip != NULL) {
			struct sockaddr_in b = {.sin_family = AF_INET};
			if (inet_pton(AF_INET, bind_ip, &b.sin_addr) != 1 ||
			    bind(fd, (struct sockaddr *)&b, sizeof(b)) != 0) {
				int e = errno != 0 ? errno : EINVAL;
				close(fd);
				return -e;
			}
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	c->fd = fd;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -(errno != 0 ? errno : EPIPE);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes by the deadline: 0, -1 end of stream, -2 timeout. */
static int read_all(int fd, void *buf, size_t len, int64_t deadline)
{
	uint8_t *p = buf;
	while (len > 0) {
		int64_t left = deadline - ob_test_mono_ms();
		if (left <= 0)
			return -2;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -2;
		ssize_t n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ob_spraw_hello(ob_spraw *c, int timeout_ms)
{
	static const uint8_t req[8] = {0, 'S', 'P', 0, 0, 0x30, 0, 0};
	static const uint8_t rep[8] = {0, 'S', 'P', 0, 0, 0x31, 0, 0};
	if (write_all(c->fd, req, sizeof(req)) != 0)
		return -1;
	uint8_t got[8];
	if (read_all(c->fd, got, sizeof(got), ob_test_mono_ms() + timeout_ms) != 0)
		return -1;
	return memcmp(got, rep, sizeof(rep)) == 0 ? 0 : -1;
}

int ob_spraw_open(ob_spraw *c, const char *url, const char *bind_ip, int timeout_ms)
{
	int rv = ob_spraw_connect(c, url, bind_ip);
	if (rv != 0)
		return rv;
	if (ob_spraw_hello(c, timeout_ms) != 0) {
		ob_spraw_close(c);
		return -ECONNREFUSED;
	}
	return 0;
}

int ob_spraw_send_partial(ob_spraw *c, const void *body, size_t len, uint64_t announced)
{
	uint8_t head[13];
	size_t h = 0;
	if (c->ipc)
		head[h++] = 1;
	uint64_t flen = announced + 4;
	for (int i = 7; i >= 0; i--)
		head[h + (size_t)(7 - i)] = (uint8_t)(flen >> (8 * i));
	h += 8;
	uint32_t id = 0x80000000u | c->next_id++;
	head[h++] = (uint8_t)(id >> 24);
	head[h++] = (uint8_t)(id >> 16);
	head[h++] = (uint8_t)(id >> 8);
	head[h++] = (uint8_t)id;
	int rv = write_all(c->fd, head, h);
	if (rv == 0 && len > 0)
		rv = write_all(c->fd, body, len);
	return rv;
}

int ob_spraw_send(ob_spraw *c, const void *body, size_t len)
{
	return ob_spraw_send_partial(c, body, len, len);
}

int ob_spraw_recv(ob_spraw *c, uint8_t **out, size_t *len, int timeout_ms)
{
	*out = NULL;
	*len = 0;
	int64_t deadline = ob_test_mono_ms() + timeout_ms;
	uint8_t head[9];
	size_t h = c->ipc ? 9 : 8;
	int rv = read_all(c->fd, head, h, deadline);
	if (rv != 0)
		return rv;
	if (c->ipc && head[0] != 1)
		return -3;
	uint64_t flen = 0;
	for (size_t i = h - 8; i < h; i++)
		flen = (flen << 8) | head[i];
	if (flen < 4 || flen > (64u << 20))
		return -3;
	uint8_t *buf = malloc((size_t)flen);
	if (buf == NULL)
		return -3;
	if ((rv = read_all(c->fd, buf, (size_t)flen, deadline)) != 0) {
		free(buf);
		return rv;
	}
	if ((buf[0] & 0x80) == 0) {
		free(buf);
		return -3;
	}
	c->reply_id =
	        (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	memmove(buf, buf + 4, (size_t)flen - 4);
	*out = buf;
	*len = (size_t)flen - 4;
	return 0;
}

bool ob_spraw_wait_closed(ob_spraw *c, int timeout_ms)
{
	int64_t deadline = ob_test_mono_ms() + timeout_ms;
	uint8_t sink[4096];
	for (;;) {
		int64_t left = deadline - ob_test_mono_ms();
		if (left <= 0)
			return false;
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return false;
		ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
	}
}

void ob_spraw_close(ob_spraw *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int ob_count_fds(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int ob_free_tcp_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	int port = -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}
