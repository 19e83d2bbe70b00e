/*
 * vault.c: the master key file, data-key wrapping, field sealing and the e-mail blind index.
 * The contracts and the formats are in vault.h; this file explains the choices behind them.
 */
#include "crypto/vault.h"
#include "base/utf8.h"
#include "errbuf.h"
#include "files.h"
#include "secretfile.h"
#include "base64.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

/*
 * Everything secret lives in one sodium_malloc'd block: guard pages on both sides, mlock'ed
 * where the limits allow (kept out of swap), read-only once the vault is built so that a
 * stray write cannot change a key, and wiped by sodium_free. index_root only exists while
 * the file is parsed: the vault keeps the key derived from it.
 */
struct secrets {
	uint8_t email_index[OB_VAULT_KEY_LEN];
	uint8_t index_root[OB_VAULT_KEY_LEN];
	uint8_t keys[OB_VAULT_MAX_KEYS][OB_VAULT_KEY_LEN];
};

struct ob_vault {
	struct secrets *sec;
	size_t n; /* master keys; keys[n - 1] is the active one */
	char kids[OB_VAULT_MAX_KEYS][OB_VAULT_KID_SIZE];
};

/* Associated-data prefixes; the NUL of each literal is part of the encoding (vault.h). */
static const char dk_ad_prefix[] = "onboard-dk-v1";
static const char pii_ad_prefix[] = "onboard-pii-v1";
static const char email_prefix[] = "onboard-email-v1";

/* crypto_kdf contexts are 8 bytes: the 7 letters and the literal's NUL. */
static const char index_kdf_context[crypto_kdf_CONTEXTBYTES] = "obindex";
enum { INDEX_SUBKEY_EMAIL = 1 };

static const char index_word[] = "index";

/* A key in the file: 32 bytes are 44 characters of padded base64. */
enum { KEY_B64_LEN = 44 };
_Static_assert(KEY_B64_LEN + 1 ==
                       sodium_base64_ENCODED_LEN(OB_VAULT_KEY_LEN, sodium_base64_VARIANT_ORIGINAL),
               "base64 length");

/* Checked once rather than trusted: the header's numbers are libsodium's. */
_Static_assert(OB_VAULT_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(OB_VAULT_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce");
_Static_assert(OB_VAULT_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(OB_VAULT_KEY_LEN == crypto_kdf_KEYBYTES, "kdf key size");
_Static_assert(OB_VAULT_KEY_LEN >= crypto_generichash_KEYBYTES_MIN &&
                       OB_VAULT_KEY_LEN <= crypto_generichash_KEYBYTES_MAX,
               "blind index key size");
_Static_assert(OB_VAULT_INDEX_LEN >= crypto_generichash_BYTES_MIN, "blind index size");

/* sodium_init() is idempotent and thread-safe; constructors call it so no caller forgets. */
static bool sodium_ready(void)
{
	return sodium_init() >= 0;
}

/* ---- the vault object ----------------------------------------------------------------- */

/* A new, empty vault with writable secrets, or NULL. */
static ob_vault *vault_alloc(void)
{
	ob_vault *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return NULL;
	v->sec = sodium_malloc(sizeof(*v->sec));
	if (v->sec == NULL) {
		free(v);
		return NULL;
	}
	sodium_memzero(v->sec, sizeof(*v->sec));
	return v;
}

/* Derives the blind-index key from index_root, wipes the root and makes the keys read-only. */
static void vault_finish(ob_vault *v)
{
	struct secrets *s = v->sec;
	crypto_kdf_derive_from_key(s->email_index, sizeof(s->email_index), INDEX_SUBKEY_EMAIL,
	                           index_kdf_context, s->index_root);
	sodium_memzero(s->index_root, sizeof(s->index_root));
	/* Defence in depth only: if mprotect is refused (some sandboxes), the keys still work. */
	(void)sodium_mprotect_readonly(s);
}

void ob_vault_destroy(ob_vault *v)
{
	if (v == NULL)
		return;
	sodium_free(v->sec); /* makes the block writable again, wipes it, unmaps it */
	sodium_memzero(v, sizeof(*v));
	free(v);
}

const char *ob_vault_active_key_id(const ob_vault *v)
{
	assert(v != NULL && v->n > 0);
	return v->kids[v->n - 1];
}

size_t ob_vault_key_count(const ob_vault *v)
{
	assert(v != NULL);
	return v->n;
}

/* 1 to OB_VAULT_KID_MAX characters of [a-z0-9-], and not the reserved word "index". */
static bool kid_valid(const char *s, size_t len)
{
	if (len == 0 || len > OB_VAULT_KID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return !(len == sizeof(index_word) - 1 && memcmp(s, index_word, len) == 0);
}

/* The slot of master key kid in v, or -1. kid comes from a database row: any string. */
static int kid_find(const ob_vault *v, const char *kid, size_t len)
{
	if (len == 0 || len > OB_VAULT_KID_MAX)
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		if (strlen(v->kids[i]) == len && memcmp(v->kids[i], kid, len) == 0)
			return (int)i;
	}
	return -1;
}

bool ob_vault_kid_valid(const char *kid)
{
	return kid != NULL && kid_valid(kid, strnlen(kid, OB_VAULT_KID_SIZE));
}

bool ob_vault_has_key(const ob_vault *v, const char *kid)
{
	assert(v != NULL && kid != NULL);
	return kid_find(v, kid, strnlen(kid, OB_VAULT_KID_SIZE)) >= 0;
}

bool ob_vault_extends(const ob_vault *next, const ob_vault *old, char lost[OB_VAULT_KID_SIZE])
{
	assert(next != NULL && old != NULL && lost != NULL);
	lost[0] = '\0';
	if (sodium_memcmp(next->sec->email_index, old->sec->email_index, OB_VAULT_KEY_LEN) != 0) {
		memcpy(lost, index_word, sizeof(index_word));
		return false;
	}
	for (size_t i = 0; i < old->n; i++) {
		int j = kid_find(next, old->kids[i], strlen(old->kids[i]));
		if (j < 0 ||
		    sodium_memcmp(next->sec->keys[j], old->sec->keys[i], OB_VAULT_KEY_LEN) != 0) {
			memcpy(lost, old->kids[i], OB_VAULT_KID_SIZE);
			return false;
		}
	}
	return true;
}

ob_err ob_vault_from_keys(const char *const *kids, const uint8_t (*keys)[OB_VAULT_KEY_LEN],
                          size_t n, const uint8_t index_key[OB_VAULT_KEY_LEN], ob_vault **out)
{
	assert(kids != NULL && keys != NULL && index_key != NULL && out != NULL);
	*out = NULL;
	if (n == 0 || n > OB_VAULT_MAX_KEYS)
		return OB_EINVAL;
	if (!sodium_ready())
		return OB_EINTERNAL;
	ob_vault *v = vault_alloc();
	if (v == NULL)
		return OB_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t len = strnlen(kids[i], OB_VAULT_KID_SIZE);
		if (!kid_valid(kids[i], len) || kid_find(v, kids[i], len) >= 0) {
			ob_vault_destroy(v);
			return OB_EINVAL;
		}
		memcpy(v->kids[i], kids[i], len + 1);
		memcpy(v->sec->keys[i], keys[i], OB_VAULT_KEY_LEN);
		v->n = i + 1;
	}
	memcpy(v->sec->index_root, index_key, OB_VAULT_KEY_LEN);
	vault_finish(v);
	*out = v;
	return OB_OK;
}

/* ---- the master key file: parsing ------------------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Decodes exactly OB_VAULT_KEY_LEN bytes of standard, padded base64 (b64, len characters)
 * into key. Only the canonical form is accepted, so that a key has one spelling in the file.
 * On failure key is wiped, since a partial decode may have written part of the secret.
 */
static bool decode_key(const char *b64, size_t len, uint8_t key[OB_VAULT_KEY_LEN])
{
	size_t bin_len = 0;
	const char *end = NULL;
	if (len != KEY_B64_LEN ||
	    ob_base642bin(key, OB_VAULT_KEY_LEN, b64, len, NULL, &bin_len, &end,
	                  sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + len || bin_len != OB_VAULT_KEY_LEN) {
		sodium_memzero(key, OB_VAULT_KEY_LEN);
		return false;
	}
	return true;
}

/*
 * One line of the file (blanks around it trimmed, not a comment), the lineno-th, into v.
 * Messages name the line but never quote it: every line that is not a comment holds a
 * secret, or a mistyped one.
 */
static ob_err parse_line(ob_vault *v, const char *line, size_t n, const char *name, unsigned lineno,
                         bool *have_index, char *err, size_t errlen)
{
	size_t id_len = 0;
	while (id_len < n && !is_blank(line[id_len]))
		id_len++;
	size_t b64_at = id_len;
	while (b64_at < n && is_blank(line[b64_at]))
		b64_at++;
	const char *b64 = line + b64_at;
	size_t b64_len = n - b64_at;
	if (b64_len == 0 || memchr(b64, ' ', b64_len) != NULL ||
	    memchr(b64, '\t', b64_len) != NULL) {
		ob_errbuf(err, errlen, "%s:%u: expected `KEY_ID BASE64` or `index BASE64`", name,
		          lineno);
		return OB_EINVAL;
	}
	uint8_t *dst;
	if (id_len == sizeof(index_word) - 1 && memcmp(line, index_word, id_len) == 0) {
		if (*have_index) {
			ob_errbuf(err, errlen, "%s:%u: a second index line", name, lineno);
			return OB_EINVAL;
		}
		*have_index = true;
		dst = v->sec->index_root;
	} else if (!kid_valid(line, id_len)) {
		ob_errbuf(err, errlen, "%s:%u: a key id is 1 to %d characters of a-z, 0-9 and '-'",
		          name, lineno, OB_VAULT_KID_MAX);
		return OB_EINVAL;
	} else if (kid_find(v, line, id_len) >= 0) {
		ob_errbuf(err, errlen, "%s:%u: this key id is already used above", name, lineno);
		return OB_EINVAL;
	} else if (v->n == OB_VAULT_MAX_KEYS) {
		ob_errbuf(err, errlen, "%s:%u: more than %d keys", name, lineno, OB_VAULT_MAX_KEYS);
		return OB_ETOOBIG;
	} else {
		dst = v->sec->keys[v->n];
	}
	if (!decode_key(b64, b64_len, dst)) {
		ob_errbuf(err, errlen,
		          "%s:%u: a key is %d bytes in padded standard base64 (%d characters)",
		          name, lineno, OB_VAULT_KEY_LEN, KEY_B64_LEN);
		return OB_EINVAL;
	}
	/* All zeros is a placeholder left in a template, never a random key. */
	if (sodium_is_zero(dst, OB_VAULT_KEY_LEN)) {
		ob_errbuf(err, errlen, "%s:%u: the key is all zeros", name, lineno);
		return OB_EINVAL;
	}
	if (dst != v->sec->index_root) {
		memcpy(v->kids[v->n], line, id_len);
		v->kids[v->n][id_len] = '\0';
		v->n++;
	}
	return OB_OK;
}

/* Parses text into v (allocated, empty). */
static ob_err parse_text(ob_vault *v, const char *text, size_t len, const char *name, char *err,
                         size_t errlen)
{
	bool have_index = false;
	unsigned lineno = 0;
	size_t pos = 0, n;
	const char *line;
	while (ob_text_next_line(text, len, &pos, &line, &n)) {
		lineno++;
		while (n > 0 && is_blank(line[0])) {
			line++;
			n--;
		}
		while (n > 0 && is_blank(line[n - 1]))
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		ob_err rc = parse_line(v, line, n, name, lineno, &have_index, err, errlen);
		if (rc != OB_OK)
			return rc;
	}
	if (!have_index) {
		ob_errbuf(err, errlen, "%s: no `index BASE64` line", name);
		return OB_EINVAL;
	}
	if (v->n == 0) {
		ob_errbuf(err, errlen, "%s: no `KEY_ID BASE64` line", name);
		return OB_EINVAL;
	}
	return OB_OK;
}

ob_err ob_vault_from_text(const char *text, size_t len, const char *name, ob_vault **out, char *err,
                          size_t errlen)
{
	assert(text != NULL || len == 0);
	assert(out != NULL);
	*out = NULL;
	if (name == NULL)
		name = "master key file";
	if (len > OB_VAULT_MAX_FILE) {
		ob_errbuf(err, errlen, "%s: over %d bytes", name, OB_VAULT_MAX_FILE);
		return OB_ETOOBIG;
	}
	if (!sodium_ready()) {
		ob_errbuf(err, errlen, "%s: libsodium failed to initialise", name);
		return OB_EINTERNAL;
	}
	ob_vault *v = vault_alloc();
	if (v == NULL) {
		ob_errbuf(err, errlen, "%s: out of memory", name);
		return OB_ENOMEM;
	}
	ob_err rc = parse_text(v, text, len, name, err, errlen);
	if (rc != OB_OK) {
		ob_vault_destroy(v);
		return rc;
	}
	vault_finish(v);
	*out = v;
	return OB_OK;
}

/* ---- the master key file: the file itself ---------------------------------------------- */

/* Reads fd from its offset to the end into buf (cap bytes, one more than the largest file
 * accepted); *len = bytes read. */
static ob_err read_all(int fd, char *buf, size_t cap, size_t *len, const char *path, char *err,
                       size_t errlen)
{
	int e = ob_read_fd(fd, buf, cap, len);
	if (e != 0) {
		ob_errbuf(err, errlen, "%s: %s", path, strerror(-e));
		return OB_EIO;
	}
	if (*len == cap) {
		ob_errbuf(err, errlen, "%s: over %d bytes", path, OB_VAULT_MAX_FILE);
		return OB_ETOOBIG;
	}
	return OB_OK;
}

/* flock(fd, op), waiting through signals. */
static ob_err lock(int fd, int op, const char *path, char *err, size_t errlen)
{
	while (flock(fd, op) != 0) {
		if (errno != EINTR) {
			ob_errbuf(err, errlen, "%s: cannot lock: %s", path, strerror(errno));
			return OB_EIO;
		}
	}
	return OB_OK;
}

/*
 * Opens path with flags (O_RDONLY, or O_RDWR | O_APPEND to rotate) under the rules of
 * common/secretfile.h. A symbolic link is followed (systemd credentials and secret mounts use
 * them) and the file it leads to is what must pass; the checks are made on the descriptor, so
 * what is checked is what is read. Returns the descriptor in *fd_out.
 */
static ob_err open_checked(const char *path, int flags, int *fd_out, char *err, size_t errlen)
{
	return ob_err_from_errno(ob_secret_open(path, flags, true, fd_out, err, errlen));
}

/*
 * Reads and parses fd into *out; the text only ever sits in guarded memory, wiped after.
 * If file_len is not NULL it receives the size read and *open_line whether the file ends
 * without a newline (the rotation then starts its line with one).
 */
static ob_err load_fd(int fd, const char *path, ob_vault **out, size_t *file_len, bool *open_line,
                      char *err, size_t errlen)
{
	*out = NULL;
	char *buf = sodium_malloc(OB_VAULT_MAX_FILE + 1);
	if (buf == NULL) {
		ob_errbuf(err, errlen, "%s: out of memory", path);
		return OB_ENOMEM;
	}
	size_t len = 0;
	ob_err rc = read_all(fd, buf, OB_VAULT_MAX_FILE + 1, &len, path, err, errlen);
	if (rc == OB_OK)
		rc = ob_vault_from_text(buf, len, path, out, err, errlen);
	if (rc == OB_OK && file_len != NULL) {
		*file_len = len;
		*open_line = len > 0 && buf[len - 1] != '\n';
	}
	sodium_free(buf);
	return rc;
}

ob_err ob_vault_open(const char *path, ob_vault **out, char *err, size_t errlen)
{
	assert(path != NULL && out != NULL);
	*out = NULL;
	if (!sodium_ready()) {
		ob_errbuf(err, errlen, "%s: libsodium failed to initialise", path);
		return OB_EINTERNAL;
	}
	int fd = -1;
	ob_err rc = open_checked(path, O_RDONLY, &fd, err, errlen);
	if (rc != OB_OK)
		return rc;
	/* Shared against ob_vault_rotate_file's exclusive lock: never read half an append. */
	rc = lock(fd, LOCK_SH, path, err, errlen);
	if (rc == OB_OK)
		rc = load_fd(fd, path, out, NULL, NULL, err, errlen);
	close(fd); /* releases the lock */
	return rc;
}

/* What making a key file and rotating one start with: the new key's id, kid, or if kid is
 * NULL "kYYYYMMDD" of today (UTC), into out; and libsodium. */
static ob_err choose_kid(const char *path, const char *kid, char out[OB_VAULT_KID_SIZE], char *err,
                         size_t errlen)
{
	if (kid != NULL && !kid_valid(kid, strnlen(kid, OB_VAULT_KID_SIZE))) {
		ob_errbuf(err, errlen, "%s: a key id is 1 to %d characters of a-z, 0-9 and '-'",
		          path, OB_VAULT_KID_MAX);
		return OB_EINVAL;
	}
	if (!sodium_ready()) {
		ob_errbuf(err, errlen, "%s: libsodium failed to initialise", path);
		return OB_EINTERNAL;
	}
	time_t now = time(NULL);
	struct tm tm;
	if (kid != NULL)
		memcpy(out, kid, strlen(kid) + 1);
	else if (gmtime_r(&now, &tm) == NULL ||
	         strftime(out, OB_VAULT_KID_SIZE, "k%Y%m%d", &tm) == 0)
		snprintf(out, OB_VAULT_KID_SIZE, "k1");
	return OB_OK;
}

/* Appends "KID BASE64\n" for a fresh random key to text (which has room), wiping the key. */
static size_t append_key_line(char *text, const char *kid)
{
	uint8_t key[OB_VAULT_KEY_LEN];
	/* randombytes can in theory return all zeros, which parse_text refuses: draw again. */
	do
		randombytes_buf(key, sizeof(key));
	while (sodium_is_zero(key, sizeof(key)));
	size_t len = strlen(text);
	size_t kid_len = strlen(kid);
	memcpy(text + len, kid, kid_len);
	len += kid_len;
	text[len++] = ' ';
	sodium_bin2base64(text + len, KEY_B64_LEN + 1, key, sizeof(key),
	                  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
	len += strlen(text + len);
	text[len++] = '\n';
	text[len] = '\0';
	return len;
}

/* Room for the header, the index line and one key line, or a newline and one key line. */
enum { LINE_ROOM = OB_VAULT_KID_MAX + 1 + KEY_B64_LEN + 1 + 1 };

static const char file_header[] =
        "# onboard master keys: `KEY_ID BASE64` lines, the last one wraps new data keys;\n"
        "# `index BASE64` keys the e-mail blind index. Keep this file mode 0600 and keep a\n"
        "# backup: without it every contact in the database is lost. See crypto/vault.h.\n";

ob_err ob_vault_generate_file(const char *path, const char *kid, char *err, size_t errlen)
{
	assert(path != NULL);
	char id[OB_VAULT_KID_SIZE];
	ob_err e = choose_kid(path, kid, id, err, errlen);
	if (e != OB_OK)
		return e;
	char *text = sodium_malloc(sizeof(file_header) + (size_t)2 * LINE_ROOM);
	if (text == NULL) {
		ob_errbuf(err, errlen, "%s: out of memory", path);
		return OB_ENOMEM;
	}
	memcpy(text, file_header, sizeof(file_header));
	append_key_line(text, index_word);
	size_t len = append_key_line(text, id);
	/* A secret file (common/secretfile.h): 0600, never replacing an existing file, whose keys
	 * may be the only copy, nor writing through a link; synced with its directory. */
	int rc = ob_secret_create(path, text, len, err, errlen);
	sodium_free(text);
	return ob_err_from_errno(rc);
}

/* A new key id, not in v: the one given (new_kid; OB_EEXIST when it is taken), or, without
 * one, the date's id chosen, then kYYYYMMDD-2, -3...: several rotations on one day stay
 * unique. */
static ob_err unique_kid(const ob_vault *v, const char *new_kid, char id[OB_VAULT_KID_SIZE],
                         const char *path, char *err, size_t errlen)
{
	if (new_kid != NULL) {
		if (kid_find(v, id, strlen(id)) < 0)
			return OB_OK;
		ob_errbuf(err, errlen, "%s: the key id %s is already in the file", path, id);
		return OB_EEXIST;
	}
	char base[OB_VAULT_KID_SIZE];
	memcpy(base, id, sizeof(base));
	/* At most OB_VAULT_MAX_KEYS ids are taken, so one of the first 65 suffixes is free; the
	 * modulo only tells the compiler that the suffix has 2 digits. */
	for (unsigned i = 2; kid_find(v, id, strlen(id)) >= 0; i++)
		snprintf(id, OB_VAULT_KID_SIZE, "%.9s-%u", base, i % 100u);
	return OB_OK;
}

/* Appends a line for a fresh key id to the key file fd, of file_len bytes so far (after a
 * newline when the last line is open), and syncs it. One write(2): O_APPEND puts it at the
 * end. A short or failed write is cut off again, so that the file never keeps half a key
 * line. */
static ob_err append_line(int fd, const char *id, size_t file_len, bool needs_newline,
                          const char *path, char *err, size_t errlen)
{
	char *line = sodium_malloc(LINE_ROOM + 1);
	if (line == NULL) {
		ob_errbuf(err, errlen, "%s: out of memory", path);
		return OB_ENOMEM;
	}
	line[0] = needs_newline ? '\n' : '\0';
	line[1] = '\0';
	size_t len = append_key_line(line + needs_newline, id) + needs_newline;
	ssize_t w;
	do
		w = write(fd, line, len);
	while (w < 0 && errno == EINTR);
	sodium_free(line);
	if (w != (ssize_t)len) {
		int e = w < 0 ? errno : ENOSPC;
		ob_errbuf(err, errlen, "%s: cannot append: %s", path, strerror(e));
		if (ftruncate(fd, (off_t)file_len) != 0 || fsync(fd) != 0)
			ob_errbuf(err, errlen,
			          "%s: cannot append (%s) nor cut the partial line off: delete the "
			          "last line by hand",
			          path, strerror(e));
		return OB_EIO;
	}
	if (fsync(fd) != 0) {
		ob_errbuf(err, errlen, "%s: fsync: %s", path, strerror(errno));
		return OB_EIO;
	}
	return OB_OK;
}

ob_err ob_vault_rotate_file(const char *path, const char *new_kid, char kid_out[OB_VAULT_KID_SIZE],
                            char *err, size_t errlen)
{
	assert(path != NULL);
	char id[OB_VAULT_KID_SIZE];
	ob_err rc = choose_kid(path, new_kid, id, err, errlen);
	int fd = -1;
	if (rc == OB_OK)
		rc = open_checked(path, O_RDWR | O_APPEND, &fd, err, errlen);
	if (rc != OB_OK)
		return rc;
	/* Serialises rotations, and keeps ob_vault_open (which takes the lock shared) from
	 * reading the file while the line is half written. Then parsed under the lock: the new
	 * id must be unique in what is there now. */
	ob_vault *v = NULL;
	size_t file_len = 0;
	bool needs_newline = false;
	rc = lock(fd, LOCK_EX, path, err, errlen);
	if (rc == OB_OK)
		rc = load_fd(fd, path, &v, &file_len, &needs_newline, err, errlen);
	if (rc == OB_OK && v->n == OB_VAULT_MAX_KEYS) {
		ob_errbuf(err, errlen,
		          "%s: already %d keys; delete the oldest lines once their data keys are "
		          "re-wrapped",
		          path, OB_VAULT_MAX_KEYS);
		rc = OB_ETOOBIG;
	}
	if (rc == OB_OK)
		rc = unique_kid(v, new_kid, id, path, err, errlen);
	if (rc == OB_OK)
		rc = append_line(fd, id, file_len, needs_newline, path, err, errlen);
	if (rc == OB_OK && kid_out != NULL)
		memcpy(kid_out, id, sizeof(id));
	ob_vault_destroy(v);
	close(fd); /* releases the lock */
	return rc;
}

/* ---- data keys ------------------------------------------------------------------------- */

/* "onboard-dk-v1" 0x00 KID into ad; returns its length. */
static size_t dk_ad(uint8_t ad[sizeof(dk_ad_prefix) + OB_VAULT_KID_MAX], const char *kid)
{
	size_t kid_len = strlen(kid);
	assert(kid_len <= OB_VAULT_KID_MAX);
	memcpy(ad, dk_ad_prefix, sizeof(dk_ad_prefix));
	memcpy(ad + sizeof(dk_ad_prefix), kid, kid_len);
	return sizeof(dk_ad_prefix) + kid_len;
}

/* Wraps dk under master key slot i of v into out (OB_VAULT_WRAPPED_LEN bytes). */
static ob_err wrap(const ob_vault *v, size_t i, const uint8_t dk[OB_VAULT_KEY_LEN],
                   uint8_t out[OB_VAULT_WRAPPED_LEN])
{
	uint8_t ad[sizeof(dk_ad_prefix) + OB_VAULT_KID_MAX];
	size_t ad_len = dk_ad(ad, v->kids[i]);
	randombytes_buf(out, OB_VAULT_NONCE_LEN);
	unsigned long long ct_len;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + OB_VAULT_NONCE_LEN, &ct_len, dk,
	                                               OB_VAULT_KEY_LEN, ad, ad_len, NULL, out,
	                                               v->sec->keys[i]) != 0 ||
	    ct_len != OB_VAULT_WRAPPED_LEN - OB_VAULT_NONCE_LEN) {
		sodium_memzero(out, OB_VAULT_WRAPPED_LEN);
		return OB_EINTERNAL; /* defensive: the encryption cannot fail */
	}
	return OB_OK;
}

ob_err ob_vault_new_data_key(const ob_vault *v, uint8_t dk[OB_VAULT_KEY_LEN],
                             uint8_t wrapped[OB_VAULT_WRAPPED_LEN], size_t *wrapped_len,
                             char kid_out[OB_VAULT_KID_SIZE])
{
	assert(v != NULL && dk != NULL && wrapped != NULL && wrapped_len != NULL &&
	       kid_out != NULL);
	randombytes_buf(dk, OB_VAULT_KEY_LEN);
	ob_err rc = wrap(v, v->n - 1, dk, wrapped);
	if (rc != OB_OK) {
		sodium_memzero(dk, OB_VAULT_KEY_LEN);
		*wrapped_len = 0;
		return rc;
	}
	*wrapped_len = OB_VAULT_WRAPPED_LEN;
	memcpy(kid_out, v->kids[v->n - 1], OB_VAULT_KID_SIZE);
	return OB_OK;
}

ob_err ob_vault_unwrap(const ob_vault *v, const char *kid, const uint8_t *wrapped, size_t len,
                       uint8_t dk[OB_VAULT_KEY_LEN])
{
	assert(v != NULL && kid != NULL && dk != NULL);
	sodium_memzero(dk, OB_VAULT_KEY_LEN);
	int i = kid_find(v, kid, strnlen(kid, OB_VAULT_KID_SIZE));
	if (i < 0)
		return OB_ENOTFOUND;
	if (wrapped == NULL || len != OB_VAULT_WRAPPED_LEN)
		return OB_ECORRUPT;
	uint8_t ad[sizeof(dk_ad_prefix) + OB_VAULT_KID_MAX];
	size_t ad_len = dk_ad(ad, v->kids[i]);
	/* libsodium checks the tag before decrypting and zeroes dk on failure. */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(dk, NULL, NULL, wrapped + OB_VAULT_NONCE_LEN,
	                                               len - OB_VAULT_NONCE_LEN, ad, ad_len,
	                                               wrapped, v->sec->keys[i]) != 0) {
		sodium_memzero(dk, OB_VAULT_KEY_LEN);
		return OB_ECORRUPT;
	}
	return OB_OK;
}

ob_err ob_vault_rewrap(const ob_vault *v, const char *kid, const uint8_t *wrapped, size_t len,
                       uint8_t out[OB_VAULT_WRAPPED_LEN], size_t *out_len,
                       char new_kid[OB_VAULT_KID_SIZE])
{
	assert(out != NULL && out_len != NULL && new_kid != NULL);
	*out_len = 0;
	sodium_memzero(out, OB_VAULT_WRAPPED_LEN);
	uint8_t dk[OB_VAULT_KEY_LEN];
	ob_err rc = ob_vault_unwrap(v, kid, wrapped, len, dk);
	if (rc == OB_OK)
		rc = wrap(v, v->n - 1, dk, out);
	sodium_memzero(dk, sizeof(dk));
	if (rc != OB_OK)
		return rc;
	*out_len = OB_VAULT_WRAPPED_LEN;
	memcpy(new_kid, v->kids[v->n - 1], OB_VAULT_KID_SIZE);
	return OB_OK;
}

/* ---- fields ---------------------------------------------------------------------------- */

enum { PII_AD_MAX = sizeof(pii_ad_prefix) + 2 * OB_VAULT_AD_PART_MAX + 1 };

/*
 * "onboard-pii-v1" 0x00 APP_ID 0x00 FIELD into ad; returns its length, or 0 if a part is too
 * long. Neither part can hold a NUL, so the encoding is unambiguous: ("a", "b\0c") and
 * ("a\0b", "c") cannot both be expressed.
 */
static size_t pii_ad(uint8_t ad[PII_AD_MAX], const char *app_id, const char *field)
{
	size_t a = strnlen(app_id, OB_VAULT_AD_PART_MAX + 1);
	size_t f = strnlen(field, OB_VAULT_AD_PART_MAX + 1);
	if (a > OB_VAULT_AD_PART_MAX || f > OB_VAULT_AD_PART_MAX)
		return 0;
	size_t n = 0;
	memcpy(ad, pii_ad_prefix, sizeof(pii_ad_prefix));
	n += sizeof(pii_ad_prefix);
	memcpy(ad + n, app_id, a);
	n += a;
	ad[n++] = 0;
	memcpy(ad + n, field, f);
	return n + f;
}

ob_err ob_vault_seal(const uint8_t dk[OB_VAULT_KEY_LEN], const char *app_id, const char *field,
                     const char *plain, size_t plain_len, uint8_t *out, size_t out_cap,
                     size_t *out_len)
{
	assert(dk != NULL && app_id != NULL && field != NULL && out_len != NULL);
	assert(plain != NULL || plain_len == 0);
	*out_len = 0;
	uint8_t ad[PII_AD_MAX];
	size_t ad_len = pii_ad(ad, app_id, field);
	if (ad_len == 0)
		return OB_EINVAL;
	if (plain_len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
	    plain_len > SIZE_MAX - OB_VAULT_SEAL_OVERHEAD ||
	    out_cap < plain_len + OB_VAULT_SEAL_OVERHEAD || out == NULL)
		return OB_ETOOBIG;
	/* A random 192-bit nonce: no counter to persist, no risk of reuse across processes,
	 * restores from backup or concurrent writers. */
	randombytes_buf(out, OB_VAULT_NONCE_LEN);
	unsigned long long ct_len;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + OB_VAULT_NONCE_LEN, &ct_len,
	                                               (const unsigned char *)plain, plain_len, ad,
	                                               ad_len, NULL, out, dk) != 0) {
		sodium_memzero(out, plain_len + OB_VAULT_SEAL_OVERHEAD);
		return OB_EINTERNAL; /* defensive: the encryption cannot fail */
	}
	*out_len = (size_t)ct_len + OB_VAULT_NONCE_LEN;
	return OB_OK;
}

ob_err ob_vault_unseal(const uint8_t dk[OB_VAULT_KEY_LEN], const char *app_id, const char *field,
                       const uint8_t *in, size_t len, char *plain, size_t plain_cap,
                       size_t *plain_len)
{
	assert(dk != NULL && app_id != NULL && field != NULL && plain_len != NULL);
	assert(plain != NULL || plain_cap == 0);
	*plain_len = 0;
	if (plain_cap > 0)
		plain[0] = '\0';
	uint8_t ad[PII_AD_MAX];
	size_t ad_len = pii_ad(ad, app_id, field);
	if (ad_len == 0)
		return OB_EINVAL;
	if (in == NULL || len < OB_VAULT_SEAL_OVERHEAD)
		return OB_ECORRUPT;
	size_t m_len = len - OB_VAULT_SEAL_OVERHEAD;
	if (plain_cap <= m_len)
		return OB_ETOOBIG;
	/* Authenticated before anything is decrypted; on failure libsodium zeroes plain. */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	            (unsigned char *)plain, NULL, NULL, in + OB_VAULT_NONCE_LEN,
	            len - OB_VAULT_NONCE_LEN, ad, ad_len, in, dk) != 0) {
		sodium_memzero(plain, m_len + 1);
		return OB_ECORRUPT;
	}
	plain[m_len] = '\0';
	*plain_len = m_len;
	return OB_OK;
}

/* ---- blind index ----------------------------------------------------------------------- */

static bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

void ob_vault_blind_index(const ob_vault *v, const char *email, uint8_t out[OB_VAULT_INDEX_LEN])
{
	assert(v != NULL && email != NULL && out != NULL);
	const unsigned char *s = (const unsigned char *)email;
	size_t len = strlen(email);
	while (len > 0 && is_space(s[0])) {
		s++;
		len--;
	}
	while (len > 0 && is_space(s[len - 1]))
		len--;

	crypto_generichash_state st;
	crypto_generichash_init(&st, v->sec->email_index, OB_VAULT_KEY_LEN, OB_VAULT_INDEX_LEN);
	crypto_generichash_update(&st, (const unsigned char *)email_prefix, sizeof(email_prefix));
	/* Lowercased in small chunks, so the address is never copied whole; wiped after. */
	unsigned char chunk[64];
	while (len > 0) {
		size_t n = len < sizeof(chunk) ? len : sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (unsigned char)(s[i] + 32) : s[i];
		crypto_generichash_update(&st, chunk, n);
		s += n;
		len -= n;
	}
	crypto_generichash_final(&st, out, OB_VAULT_INDEX_LEN);
	sodium_memzero(chunk, sizeof(chunk));
	sodium_memzero(&st, sizeof(st));
}
