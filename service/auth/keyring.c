/*
 * keyring.c: roles, key ids, the keyring file, secret files and key generation. See auth.h for
 * the contracts.
 *
 * The keyring parser is written for a hostile or careless author: it reads a byte string with a
 * length (no reliance on a terminating NUL), bounds every line and field before copying it,
 * validates every field completely (the id against the key, the key as a curve point, the
 * dates against each other) and reports the first problem with its line number. Nothing is
 * published until the whole text has been accepted.
 *
 * Files are opened first and checked with fstat() afterwards, never checked by name and then
 * opened, so that the file checked is the file read.
 */
#include "auth/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/time.h"
#include "base/utf8.h"
#include "errbuf.h"
#include "files.h"
#include "keyfile.h"
#include "secretfile.h"
#include "base64.h"

/* ---- roles ---------------------------------------------------------------------------------- */

static const char *const role_names[] = {
        [OB_ROLE_NONE] = "none",       [OB_ROLE_APPLICANT] = "applicant",
        [OB_ROLE_PARTNER] = "partner", [OB_ROLE_REVIEWER] = "reviewer",
        [OB_ROLE_ADMIN] = "admin",     [OB_ROLE_ADS] = "ads",
};

const char *ob_role_name(ob_role role)
{
	if ((unsigned)role >= sizeof(role_names) / sizeof(role_names[0]))
		return "invalid";
	return role_names[role];
}

bool ob_role_parse(const char *s, ob_role *out)
{
	if (s == NULL)
		return false;
	for (unsigned r = OB_ROLE_APPLICANT; r <= OB_ROLE_LAST; r++) {
		if (strcmp(s, role_names[r]) == 0) {
			*out = (ob_role)r;
			return true;
		}
	}
	return false;
}

/* ---- keys ----------------------------------------------------------------------------------- */

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool ob_key_id_valid(const char *s)
{
	if (s == NULL)
		return false;
	for (size_t i = 0; i < OB_KEY_ID_LEN; i++) {
		if (!is_lower_hex(s[i])) /* also stops at a NUL before 16 */
			return false;
	}
	return s[OB_KEY_ID_LEN] == '\0';
}

bool ob_key_valid_at(const ob_key *key, int64_t now_ms)
{
	if (key->not_before_ms != 0 && now_ms < key->not_before_ms)
		return false;
	if (key->not_after_ms != 0 && now_ms > key->not_after_ms)
		return false;
	return true;
}

/* ---- keyring -------------------------------------------------------------------------------- */

struct ob_keyring {
	atomic_size_t refs;
	size_t n;
	ob_key keys[]; /* sorted by id, no duplicates */
};

/* A key being parsed, with the line it came from for duplicate reports. */
typedef struct {
	ob_key key;
	size_t line;
} parsed_key;

/* A field of a line: [p, p + len). */
typedef struct {
	const char *p;
	size_t len;
} span;

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Cuts the next blank-separated field off *rest; false when none is left. */
static bool next_field(span *rest, span *field)
{
	while (rest->len > 0 && is_blank(*rest->p))
		rest->p++, rest->len--;
	if (rest->len == 0)
		return false;
	field->p = rest->p;
	while (rest->len > 0 && !is_blank(*rest->p))
		rest->p++, rest->len--;
	field->len = (size_t)(rest->p - field->p);
	return true;
}

/* Copies a field into a NUL-terminated buffer for the string-based parsers; false when it does
 * not fit (such a field is invalid anyway). */
static bool field_str(span f, char *buf, size_t size)
{
	if (f.len >= size)
		return false;
	memcpy(buf, f.p, f.len);
	buf[f.len] = '\0';
	return true;
}

/* NOT_BEFORE / NOT_AFTER: "-" is 0 (open); a time must be after the epoch, because 0 already
 * means open and a key limited to before 1970 is certainly a mistake. */
static bool parse_bound(span f, int64_t *out)
{
	char buf[64];
	if (f.len == 1 && f.p[0] == '-') {
		*out = 0;
		return true;
	}
	int64_t ms;
	if (!field_str(f, buf, sizeof(buf)) || !ob_time_parse_rfc3339(buf, &ms) || ms <= 0)
		return false;
	*out = ms;
	return true;
}

/* Cuts the next field off *rest; false with "missing NAME" in why when the line ends first. */
static bool need_field(span *rest, span *f, const char *name, char *why, size_t whylen)
{
	if (next_field(rest, f))
		return true;
	ob_errbuf(why, whylen, "missing %s", name);
	return false;
}

/* KEY_ID, ROLE and PUBLIC_KEY, each checked, and the id against the key. */
static bool parse_identity(span *rest, ob_key *key, char *why, size_t whylen)
{
	span f;
	char buf[64];
	if (!need_field(rest, &f, "KEY_ID", why, whylen))
		return false;
	if (f.len != OB_KEY_ID_LEN || !field_str(f, key->id, sizeof(key->id)) ||
	    !ob_key_id_valid(key->id)) {
		ob_errbuf(why, whylen, "KEY_ID must be %d lowercase hex characters", OB_KEY_ID_LEN);
		return false;
	}
	if (!need_field(rest, &f, "ROLE", why, whylen))
		return false;
	if (!field_str(f, buf, sizeof(buf)) || !ob_role_parse(buf, &key->role)) {
		ob_errbuf(why, whylen, "unknown ROLE (applicant, partner, reviewer or admin)");
		return false;
	}
	if (!need_field(rest, &f, "PUBLIC_KEY", why, whylen))
		return false;
	size_t bin_len = 0;
	if (f.len != OB_KEY_PK_B64_LEN ||
	    ob_base642bin(key->pk, sizeof(key->pk), f.p, f.len, NULL, &bin_len, NULL,
	                  sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != sizeof(key->pk)) {
		ob_errbuf(why, whylen,
		          "PUBLIC_KEY must be standard base64 of 32 bytes (44 characters)");
		return false;
	}
	/* Refuses garbage and the small-order points with which any signature verifies. */
	if (crypto_core_ed25519_is_valid_point(key->pk) != 1) {
		ob_errbuf(why, whylen, "PUBLIC_KEY is not a valid Ed25519 public key");
		return false;
	}
	char want[OB_KEY_ID_LEN + 1];
	ob_keyfile_key_id(key->pk, want);
	if (memcmp(want, key->id, OB_KEY_ID_LEN) != 0) {
		ob_errbuf(why, whylen, "KEY_ID does not match PUBLIC_KEY (whose id is %s)", want);
		return false;
	}
	return true;
}

/* One of NOT_BEFORE and NOT_AFTER, named name, into *out. */
static bool parse_bound_field(span *rest, const char *name, int64_t *out, char *why, size_t whylen)
{
	span f;
	if (!need_field(rest, &f, name, why, whylen))
		return false;
	if (!parse_bound(f, out)) {
		ob_errbuf(why, whylen, "%s must be an RFC 3339 time after 1970 or '-'", name);
		return false;
	}
	return true;
}

/* LABEL: the rest of the line, inner blanks included, trailing blanks dropped. */
static bool parse_label(span rest, ob_key *key, char *why, size_t whylen)
{
	while (rest.len > 0 && is_blank(*rest.p))
		rest.p++, rest.len--;
	while (rest.len > 0 && is_blank(rest.p[rest.len - 1]))
		rest.len--;
	if (rest.len == 0) {
		ob_errbuf(why, whylen, "missing LABEL");
		return false;
	}
	if (rest.len > OB_KEY_LABEL_MAX) {
		ob_errbuf(why, whylen, "LABEL is longer than %d bytes", OB_KEY_LABEL_MAX);
		return false;
	}
	/* ASCII only: labels go into logs, where control bytes and terminal escapes do harm. */
	for (size_t i = 0; i < rest.len; i++) {
		unsigned char c = (unsigned char)rest.p[i];
		if (c < 0x20 || c > 0x7e) {
			ob_errbuf(why, whylen, "LABEL must be printable ASCII (byte %zu is 0x%02x)",
			          i + 1, c);
			return false;
		}
	}
	memcpy(key->label, rest.p, rest.len);
	key->label[rest.len] = '\0';
	return true;
}

/* Parses one line (without its newline). Returns 1 with *key filled for a key line, 0 for a
 * blank or comment line, -1 with why filled for an invalid line. */
static int parse_line(span line, ob_key *key, char *why, size_t whylen)
{
	span rest = line;
	while (rest.len > 0 && is_blank(*rest.p))
		rest.p++, rest.len--;
	if (rest.len == 0 || rest.p[0] == '#')
		return 0;
	memset(key, 0, sizeof(*key));
	if (!parse_identity(&rest, key, why, whylen) ||
	    !parse_bound_field(&rest, "NOT_BEFORE", &key->not_before_ms, why, whylen) ||
	    !parse_bound_field(&rest, "NOT_AFTER", &key->not_after_ms, why, whylen))
		return -1;
	if (key->not_before_ms != 0 && key->not_after_ms != 0 &&
	    key->not_before_ms > key->not_after_ms) {
		ob_errbuf(why, whylen, "NOT_BEFORE is after NOT_AFTER");
		return -1;
	}
	return parse_label(rest, key, why, whylen) ? 1 : -1;
}

static int cmp_parsed(const void *a, const void *b)
{
	const parsed_key *x = a, *y = b;
	return memcmp(x->key.id, y->key.id, OB_KEY_ID_LEN);
}

/* Appends key, from line line_no, to keys (n of them, room for *cap). */
static ob_err add_key(parsed_key **keys, size_t *n, size_t *cap, const ob_key *key, size_t line_no,
                      char *err, size_t errlen)
{
	if (*n == OB_KEYRING_MAX_KEYS) {
		ob_errbuf(err, errlen, "line %zu: more than %d keys", line_no, OB_KEYRING_MAX_KEYS);
		return OB_ETOOBIG;
	}
	if (*n == *cap) {
		size_t grown = *cap == 0 ? 16 : *cap * 2;
		if (grown > OB_KEYRING_MAX_KEYS)
			grown = OB_KEYRING_MAX_KEYS;
		parsed_key *g = realloc(*keys, grown * sizeof(**keys));
		if (g == NULL) {
			ob_errbuf(err, errlen, "out of memory");
			return OB_ENOMEM;
		}
		*keys = g, *cap = grown;
	}
	(*keys)[*n].key = *key;
	(*keys)[*n].line = line_no;
	(*n)++;
	return OB_OK;
}

/* The key lines of text, in file order, into *keys (malloc'd: the caller frees it, also on
 * failure) and *n; the first bad line is the error. */
static ob_err parse_lines(const char *text, size_t len, parsed_key **keys, size_t *n, char *err,
                          size_t errlen)
{
	size_t cap = 0, line_no = 0, pos = 0, line_len;
	const char *start;
	char why[192];
	while (ob_text_next_line(text, len, &pos, &start, &line_len)) {
		line_no++;
		if (line_len > 0 && start[line_len - 1] == '\r')
			line_len--;
		if (line_len > OB_KEYRING_MAX_LINE) {
			ob_errbuf(err, errlen, "line %zu: longer than %d bytes", line_no,
			          OB_KEYRING_MAX_LINE);
			return OB_ETOOBIG;
		}
		if (memchr(start, '\0', line_len) != NULL) {
			ob_errbuf(err, errlen, "line %zu: NUL byte", line_no);
			return OB_EINVAL;
		}
		ob_key key;
		int r = parse_line((span){start, line_len}, &key, why, sizeof(why));
		if (r < 0) {
			ob_errbuf(err, errlen, "line %zu: %s", line_no, why);
			return OB_EINVAL;
		}
		ob_err rc = r > 0 ? add_key(keys, n, &cap, &key, line_no, err, errlen) : OB_OK;
		if (rc != OB_OK)
			return rc;
	}
	return OB_OK;
}

/* Sorts keys by id and refuses a duplicate: the one that appears first in the file, whatever
 * order qsort left equal ids in, so that the message does not change from one run to the
 * next. */
static ob_err sort_unique(parsed_key *keys, size_t n, char *err, size_t errlen)
{
	if (n > 1)
		qsort(keys, n, sizeof(*keys), cmp_parsed);
	size_t dup_line = 0, first_line = 0, dup_at = 0;
	for (size_t i = 1; i < n; i++) {
		if (memcmp(keys[i - 1].key.id, keys[i].key.id, OB_KEY_ID_LEN) != 0)
			continue;
		size_t a = keys[i - 1].line, b = keys[i].line;
		size_t later = a > b ? a : b, earlier = a > b ? b : a;
		if (dup_line == 0 || later < dup_line ||
		    (later == dup_line && earlier < first_line))
			dup_line = later, first_line = earlier, dup_at = i;
	}
	if (dup_line == 0)
		return OB_OK;
	ob_errbuf(err, errlen, "line %zu: duplicate KEY_ID %s (first on line %zu)", dup_line,
	          keys[dup_at].key.id, first_line);
	return OB_EINVAL;
}

ob_err ob_keyring_parse(const char *text, size_t len, ob_keyring **out, char *err, size_t errlen)
{
	parsed_key *keys = NULL;
	size_t n = 0;
	if (text == NULL && len > 0) {
		ob_errbuf(err, errlen, "no text");
		return OB_EINVAL;
	}
	ob_err rc = parse_lines(text, len, &keys, &n, err, errlen);
	if (rc == OB_OK)
		rc = sort_unique(keys, n, err, errlen);
	ob_keyring *kr = rc == OB_OK ? malloc(sizeof(*kr) + n * sizeof(ob_key)) : NULL;
	if (rc == OB_OK && kr == NULL) {
		ob_errbuf(err, errlen, "out of memory");
		rc = OB_ENOMEM;
	}
	if (rc == OB_OK) {
		atomic_init(&kr->refs, 1);
		kr->n = n;
		for (size_t i = 0; i < n; i++)
			kr->keys[i] = keys[i].key;
		*out = kr;
	}
	free(keys);
	return rc;
}

/* Who may own a keyring and the folders it is in: anyone else who can write either can make
 * themselves admin. The service's own user or root, which could do anything anyway. */
static bool trusted_owner(uid_t uid)
{
	return uid == geteuid() || uid == 0;
}

/* Checks that the open folder fd (named dir) is owned by the service's user or root and not
 * writable by group or others: whoever can write a folder can put another file in the
 * keyring's place. path is the keyring, for messages. */
static ob_err check_dir(const char *path, const char *dir, int fd, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		ob_errbuf(err, errlen, "%s: its folder %s: %s", path, dir, strerror(errno));
		return OB_EIO;
	}
	if (!trusted_owner(st.st_uid)) {
		ob_errbuf(err, errlen,
		          "%s: its folder %s is owned by uid %lu, neither the running uid %lu nor "
		          "root: "
		          "refused",
		          path, dir, (unsigned long)st.st_uid, (unsigned long)geteuid());
		return OB_EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		ob_errbuf(err, errlen,
		          "%s: its folder %s is group- or world-writable (mode %04o): refused; "
		          "chmod go-w %s",
		          path, dir, (unsigned)(st.st_mode & 07777), dir);
		return OB_EPERM;
	}
	return OB_OK;
}

/* Opens the folder dir for check_dir or openat. */
static ob_err open_dir(const char *path, const char *dir, int *fd_out, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		ob_errbuf(err, errlen, "%s: its folder %s: %s", path, dir, strerror(e));
		return e == ENOENT ? OB_ENOTFOUND : e == EACCES ? OB_EPERM : OB_EIO;
	}
	*fd_out = fd;
	return OB_OK;
}

/* The folder of the symbolic link path, checked as check_dir does: a link can be pointed
 * elsewhere by whoever can write the folder it is in. */
static ob_err check_link_dir(const char *path, char *err, size_t errlen)
{
	char link_dir[4096];
	int link_fd = -1;
	if (!ob_path_dir(path, link_dir, sizeof(link_dir))) {
		ob_errbuf(err, errlen, "%s: path too long", path);
		return OB_EINVAL;
	}
	ob_err rc = open_dir(path, link_dir, &link_fd, err, errlen);
	if (rc == OB_OK) {
		rc = check_dir(path, link_dir, link_fd, err, errlen);
		close(link_fd);
	}
	return rc;
}

/* Opens the keyring where its symbolic links lead (config management often links it): from
 * the real folder dir (4096 bytes), held open as *dirfd while the file is opened in it as *fd,
 * so that the folder checked is the folder read. *real is malloc'd; the caller frees it and
 * closes what is open, also on failure. */
static ob_err open_real(const char *path, char **real, char *dir, int *dirfd, int *fd, char *err,
                        size_t errlen)
{
	*real = realpath(path, NULL);
	if (*real == NULL) {
		int e = errno;
		ob_errbuf(err, errlen, "%s: %s", path, strerror(e));
		return e == ENOENT ? OB_ENOTFOUND : e == EACCES ? OB_EPERM : OB_EIO;
	}
	if (!ob_path_dir(*real, dir, 4096)) {
		ob_errbuf(err, errlen, "%s: path too long", path);
		return OB_EINVAL;
	}
	ob_err rc = open_dir(path, dir, dirfd, err, errlen);
	if (rc != OB_OK)
		return rc;
	/* O_NONBLOCK: opening a FIFO planted at path must not hang; fstat then refuses it. */
	*fd = openat(*dirfd, *real + strlen(dir) + (strcmp(dir, "/") != 0),
	             O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (*fd < 0) {
		int e = errno;
		ob_errbuf(err, errlen, "%s: %s", path, strerror(e));
		return e == ENOENT ? OB_ENOTFOUND : e == EACCES || e == ELOOP ? OB_EPERM : OB_EIO;
	}
	return OB_OK;
}

/* The open keyring fd itself: a regular file that only the service's user or root can change
 * (anyone who can write it can make themselves admin; its owner can chmod). *st its status. */
static ob_err check_file(int fd, const char *path, struct stat *st, char *err, size_t errlen)
{
	if (fstat(fd, st) != 0) {
		ob_errbuf(err, errlen, "%s: %s", path, strerror(errno));
		return OB_EIO;
	}
	if (!S_ISREG(st->st_mode)) {
		ob_errbuf(err, errlen, "%s: not a regular file", path);
		return OB_EPERM;
	}
	if (!trusted_owner(st->st_uid)) {
		ob_errbuf(err, errlen,
		          "%s: owned by uid %lu, neither the running uid %lu nor root: refused; "
		          "chown it",
		          path, (unsigned long)st->st_uid, (unsigned long)geteuid());
		return OB_EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		ob_errbuf(err, errlen,
		          "%s: group- or world-writable (mode %04o): refused; chmod go-w", path,
		          (unsigned)(st->st_mode & 07777));
		return OB_EPERM;
	}
	return OB_OK;
}

/* Reads fd to its end into *buf (malloc'd; the caller frees it), starting with room for size
 * bytes: to EOF rather than trusting the size, since the file may change under us, and never
 * more than OB_KEYRING_MAX_BYTES. One byte more than the cap tells an oversized file from one
 * that is exactly at it. */
static ob_err read_capped(int fd, const char *path, size_t size, char **buf, size_t *len, char *err,
                          size_t errlen)
{
	size_t cap = size + 1;
	*buf = NULL;
	*len = 0;
	for (;;) {
		char *g = realloc(*buf, cap);
		if (g == NULL) {
			ob_errbuf(err, errlen, "%s: out of memory", path);
			return OB_ENOMEM;
		}
		*buf = g;
		size_t got = 0;
		int e = ob_read_fd(fd, *buf + *len, cap - *len, &got);
		if (e != 0) {
			ob_errbuf(err, errlen, "%s: %s", path, strerror(-e));
			return OB_EIO;
		}
		if ((*len += got) < cap)
			return OB_OK;
		if (cap > OB_KEYRING_MAX_BYTES) {
			ob_errbuf(err, errlen, "%s: larger than %d bytes", path,
			          OB_KEYRING_MAX_BYTES);
			return OB_ETOOBIG;
		}
		cap = cap * 2 > (size_t)OB_KEYRING_MAX_BYTES + 1 ? (size_t)OB_KEYRING_MAX_BYTES + 1
		                                                 : cap * 2;
	}
}

ob_err ob_keyring_load(const char *path, ob_keyring **out, char *err, size_t errlen)
{
	char why[256], dir[4096];
	char *buf = NULL, *real = NULL;
	size_t len = 0;
	int fd = -1, dirfd = -1;
	struct stat st;

	if (path == NULL) {
		ob_errbuf(err, errlen, "no keyring path");
		return OB_EINVAL;
	}
	ob_err rc = open_real(path, &real, dir, &dirfd, &fd, err, errlen);
	if (rc == OB_OK)
		rc = check_file(fd, path, &st, err, errlen);
	if (rc == OB_OK)
		rc = check_dir(path, dir, dirfd, err, errlen);
	if (rc == OB_OK && strcmp(real, path) != 0)
		rc = check_link_dir(path, err, errlen);
	if (rc == OB_OK && st.st_size > OB_KEYRING_MAX_BYTES) {
		ob_errbuf(err, errlen, "%s: larger than %d bytes", path, OB_KEYRING_MAX_BYTES);
		rc = OB_ETOOBIG;
	}
	if (rc == OB_OK)
		rc = read_capped(fd, path, (size_t)st.st_size, &buf, &len, err, errlen);
	if (rc == OB_OK) {
		rc = ob_keyring_parse(buf, len, out, why, sizeof(why));
		if (rc != OB_OK)
			ob_errbuf(err, errlen, "%s: %s", path, why);
	}
	free(buf);
	free(real);
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

ob_keyring *ob_keyring_ref(ob_keyring *kr)
{
	/* Relaxed: the caller already holds a reference, so the keyring cannot go away here. */
	atomic_fetch_add_explicit(&kr->refs, 1, memory_order_relaxed);
	return kr;
}

void ob_keyring_unref(ob_keyring *kr)
{
	if (kr == NULL)
		return;
	/* Release orders this thread's reads of the keys before the decrement; acquire, on
	 * the last one, makes every other thread's reads happen before the free. Both on the
	 * decrement rather than a release and a separate acquire fence: ThreadSanitizer does
	 * not model fences, and took the free for a race with the readers (crypto/keystore.c
	 * does the same). */
	if (atomic_fetch_sub_explicit(&kr->refs, 1, memory_order_acq_rel) == 1)
		free(kr);
}

void ob_keyring_destroy(ob_keyring *kr)
{
	ob_keyring_unref(kr);
}

const ob_key *ob_keyring_find(const ob_keyring *kr, const char key_id[OB_KEY_ID_LEN])
{
	size_t lo = 0, hi = kr->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(key_id, kr->keys[mid].id, OB_KEY_ID_LEN);
		if (c == 0)
			return &kr->keys[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t ob_keyring_count(const ob_keyring *kr)
{
	return kr->n;
}

const ob_key *ob_keyring_at(const ob_keyring *kr, size_t i)
{
	return i < kr->n ? &kr->keys[i] : NULL;
}

/* ---- keyring slot --------------------------------------------------------------------------- */

ob_err ob_keyring_slot_init(ob_keyring_slot *slot, ob_keyring *kr)
{
	if (pthread_mutex_init(&slot->mu, NULL) != 0)
		return OB_ENOMEM;
	slot->current = kr;
	return OB_OK;
}

void ob_keyring_slot_fini(ob_keyring_slot *slot)
{
	ob_keyring_unref(slot->current);
	slot->current = NULL;
	pthread_mutex_destroy(&slot->mu);
}

ob_keyring *ob_keyring_slot_get(ob_keyring_slot *slot)
{
	pthread_mutex_lock(&slot->mu);
	ob_keyring *kr = slot->current != NULL ? ob_keyring_ref(slot->current) : NULL;
	pthread_mutex_unlock(&slot->mu);
	return kr;
}

void ob_keyring_slot_set(ob_keyring_slot *slot, ob_keyring *kr)
{
	pthread_mutex_lock(&slot->mu);
	ob_keyring *old = slot->current;
	slot->current = kr;
	pthread_mutex_unlock(&slot->mu);
	/* Outside the lock: the free of a large keyring need not stall readers. */
	ob_keyring_unref(old);
}

/* ---- secret files --------------------------------------------------------------------------- */

/* The largest secret ob_secret_file_read reads, and room for its base64 and a line end. */
#define SECRET_MAX     1024
#define SECRET_B64_MAX 1400

/* Opens path under the rules of common/secretfile.h, no symbolic link followed. On OB_OK,
 * *fd_out is open and the caller closes it. */
static ob_err open_secret(const char *path, int *fd_out, char *err, size_t errlen)
{
	return ob_err_from_errno(ob_secret_open(path, O_RDONLY, false, fd_out, err, errlen));
}

ob_err ob_secret_file_check(const char *path, char *err, size_t errlen)
{
	int fd;
	ob_err rc = open_secret(path, &fd, err, errlen);
	if (rc == OB_OK)
		close(fd);
	return rc;
}

ob_err ob_secret_file_read(const char *path, uint8_t *out, size_t want, char *err, size_t errlen)
{
	char *text = NULL;
	uint8_t bin[SECRET_MAX];
	size_t len = 0, bin_len = 0;

	if (out == NULL || want == 0 || want > SECRET_MAX) {
		ob_errbuf(err, errlen, "secret size must be 1..%d bytes", SECRET_MAX);
		return OB_EINVAL;
	}
	/* Under the rules of common/secretfile.h, no symbolic link followed; the text stays in
	 * guarded memory that is wiped when freed. */
	int e = ob_secret_read(path, false, SECRET_B64_MAX, &text, &len, err, errlen);
	if (e == -EFBIG) {
		ob_errbuf(err, errlen, "%s: too long for a secret of %zu bytes", path, want);
		return OB_EINVAL;
	}
	if (e != 0)
		return ob_err_from_errno(e);
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len > 0 && text[len - 1] == '\r')
		len--;
	/* No ignore set: a blank, a second line or a NUL anywhere fails the decode, as does
	 * non-canonical padding; b64_end NULL makes trailing bytes an error. */
	ob_err rc = OB_OK;
	if (ob_base642bin(bin, sizeof(bin), text, len, NULL, &bin_len, NULL,
	                  sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != want) {
		ob_errbuf(err, errlen, "%s: not one line of base64 of exactly %zu bytes", path,
		          want);
		rc = OB_EINVAL;
	} else {
		memcpy(out, bin, want);
	}
	sodium_free(text);
	sodium_memzero(bin, sizeof(bin));
	return rc;
}
