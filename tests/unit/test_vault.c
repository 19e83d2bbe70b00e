/*
 * test_vault.c: unit tests for crypto/vault.c: the master key file (permissions, parsing,
 * generation, rotation), data-key wrapping, field sealing and the e-mail blind index.
 *
 * Files are made in a private temporary directory created by the group setup. The formats
 * are stored in databases and backups, so a few tests pin them down from the outside: they
 * decrypt with libsodium directly, building the associated data from vault.h's description,
 * and compare the blind index with a vector computed by an independent implementation
 * (Python's hashlib.blake2b, with libsodium's KDF written out as salt and personalisation).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/vault.h"
#include "testutil.h"

static char dir[96];

/* A path in the test directory; the returned buffer is static, one per slot. */
static const char *tpath(const char *name)
{
	static char buf[4][320];
	static int slot;
	slot = (slot + 1) % 4;
	snprintf(buf[slot], sizeof(buf[slot]), "%s/%.200s", dir, name);
	return buf[slot];
}

/* Writes text to path with exactly mode, replacing any file there. */
static void write_file(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int setup_dir(void **state)
{
	(void)state;
	if (sodium_init() < 0 || ob_test_mkdtemp(dir, sizeof(dir), "test_vault") != 0)
		return -1;
	return 0;
}

static int teardown_dir(void **state)
{
	(void)state;
	ob_test_remove_tree(dir);
	return 0;
}

/* Two well-formed keys and an index line: 32 bytes of 0x01.., 0x02.. and 0x03.. */
#define KEY1      "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define KEY2      "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
#define KEY3      "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="
#define GOOD_FILE "# keys\nindex " KEY3 "\nold " KEY1 "\nnew " KEY2 "\n"

/* A vault from memory with master keys filled with a, b... and index key filled with idx. */
static ob_vault *mem_vault(const char *const *kids, size_t n, uint8_t idx)
{
	uint8_t keys[4][OB_VAULT_KEY_LEN], index_key[OB_VAULT_KEY_LEN];
	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++)
		memset(keys[i], (int)(0xa0 + i), sizeof(keys[i]));
	memset(index_key, idx, sizeof(index_key));
	ob_vault *v = NULL;
	assert_int_equal(ob_vault_from_keys(kids, (const uint8_t(*)[OB_VAULT_KEY_LEN])keys, n,
	                                    index_key, &v),
	                 OB_OK);
	return v;
}

/* Whether needle (n bytes) occurs in hay (len bytes); memmem is a GNU extension. */
static bool contains(const uint8_t *hay, size_t len, const char *needle, size_t n)
{
	for (size_t i = 0; i + n <= len; i++) {
		if (memcmp(hay + i, needle, n) == 0)
			return true;
	}
	return false;
}

static void random_dk(uint8_t dk[OB_VAULT_KEY_LEN])
{
	randombytes_buf(dk, OB_VAULT_KEY_LEN);
}

/* ---- the master key file: permissions ------------------------------------------------- */

/* A world-readable key file is refused, and the message tells the fix. */
static void test_open_refuses_0644(void **state)
{
	(void)state;
	const char *p = tpath("keys-0644");
	write_file(p, GOOD_FILE, 0644);
	ob_vault *v = (ob_vault *)1;
	char err[512] = "";
	assert_int_equal(ob_vault_open(p, &v, err, sizeof(err)), OB_EPERM);
	assert_null(v);
	char fix[300];
	snprintf(fix, sizeof(fix), "chmod 600 %s", p);
	assert_non_null(strstr(err, fix));
}

/* Group read is as much a leak as world read: refused too. */
static void test_open_refuses_0640(void **state)
{
	(void)state;
	const char *p = tpath("keys-0640");
	write_file(p, GOOD_FILE, 0640);
	ob_vault *v = NULL;
	char err[512] = "";
	assert_int_equal(ob_vault_open(p, &v, err, sizeof(err)), OB_EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	write_file(p, GOOD_FILE, 0601); /* even a lone execute/write bit for others */
	assert_int_equal(ob_vault_open(p, &v, err, sizeof(err)), OB_EPERM);
}

/* 0600 (and the stricter 0400) open, with every key and the last one active. */
static void test_open_accepts_0600(void **state)
{
	(void)state;
	static const mode_t modes[] = {0600, 0400};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *p = tpath("keys-ok");
		write_file(p, GOOD_FILE, modes[i]);
		ob_vault *v = NULL;
		char err[512] = "";
		assert_int_equal(ob_vault_open(p, &v, err, sizeof(err)), OB_OK);
		assert_string_equal(ob_vault_active_key_id(v), "new");
		assert_int_equal(ob_vault_key_count(v), 2);
		ob_vault_destroy(v);
	}
}

/* The file must belong to the service's uid; only root can make one that does not. Skipped
 * when not root: about the environment (CI runs as root), not the vault. */
static void test_open_refuses_other_owner(void **state)
{
	(void)state;
	if (!ob_test_is_root(__func__))
		skip();
	const char *p = tpath("keys-owner");
	write_file(p, GOOD_FILE, 0600);
	assert_int_equal(chown(p, 4242, 4242), 0);
	ob_vault *v = NULL;
	char err[512] = "";
	assert_int_equal(ob_vault_open(p, &v, err, sizeof(err)), OB_EPERM);
	assert_non_null(strstr(err, "uid 4242"));
}

/* A directory or a FIFO is no key file; the FIFO must not block the open. */
static void test_open_refuses_non_regular(void **state)
{
	(void)state;
	ob_vault *v = NULL;
	char err[512] = "";
	assert_int_equal(ob_vault_open(dir, &v, err, sizeof(err)), OB_EPERM);
	const char *fifo = tpath("keys-fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(ob_vault_open(fifo, &v, err, sizeof(err)), OB_EPERM);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(ob_vault_open(tpath("no-such-file"), &v, err, sizeof(err)), OB_ENOTFOUND);
}

/* A symlink is followed, and what it leads to is checked (secret mounts use symlinks). */
static void test_open_follows_symlink_to_checked_file(void **state)
{
	(void)state;
	const char *target = tpath("keys-target");
	const char *link = tpath("keys-link");
	write_file(target, GOOD_FILE, 0600);
	unlink(link);
	assert_int_equal(symlink(target, link), 0);
	ob_vault *v = NULL;
	assert_int_equal(ob_vault_open(link, &v, NULL, 0), OB_OK);
	ob_vault_destroy(v);
	assert_int_equal(chmod(target, 0644), 0);
	assert_int_equal(ob_vault_open(link, &v, NULL, 0), OB_EPERM);
}

/* ---- the master key file: parsing ------------------------------------------------------ */

/* Each malformed file is refused with the right code, naming the right line, quoting no key. */
static void test_bad_lines_name_the_line(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		ob_err code;
		const char *where; /* expected in the message */
	} cases[] = {
	        {"index " KEY3 "\n# c\nBad " KEY1 "\n", OB_EINVAL, "x:3:"},
	        {"index " KEY3 "\nk1 " KEY1 "\nk1 " KEY2 "\n", OB_EINVAL, "x:3:"},
	        {"index " KEY3 "\nk1 AQEBAQ==\n", OB_EINVAL, "x:2:"},
	        {"index " KEY3 "\nk1 " KEY1 " extra\n", OB_EINVAL, "x:2:"},
	        {"index " KEY3 "\nk1\n", OB_EINVAL, "x:2:"},
	        {"\n\nindex " KEY3 "\nindex " KEY1 "\n", OB_EINVAL, "x:4:"},
	        {"index " KEY3 "\nk1 " KEY1 "=\n", OB_EINVAL, "x:2:"},
	        /* base64 without padding, then the URL-safe alphabet: one spelling only */
	        {"index " KEY3 "\nk1 AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\n", OB_EINVAL,
	         "x:2:"},
	        {"index " KEY3 "\nk1 _-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-8=\n", OB_EINVAL,
	         "x:2:"},
	        {"index " KEY3 "\nk1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", OB_EINVAL,
	         "x:2:"},
	        {"index " KEY3 "\nabcdefghijklmnopq " KEY1 "\n", OB_EINVAL, "x:2:"}, /* 17 chars */
	        {"k1 " KEY1 "\n", OB_EINVAL, "no `index"},
	        {"index " KEY3 "\n# only a comment\n", OB_EINVAL, "no `KEY_ID"},
	        {"", OB_EINVAL, "no `index"},
	        {"index " KEY3 "\nk1 " KEY1 "\nk2 AQEB", OB_EINVAL, "x:3:"}, /* torn last line */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *text = cases[i].text;
		size_t len = strlen(text);
		ob_vault *v = (ob_vault *)1;
		char err[512] = "";
		print_message("case %zu\n", i);
		assert_int_equal(ob_vault_from_text(text, len, "x", &v, err, sizeof(err)),
		                 cases[i].code);
		assert_null(v);
		assert_non_null(strstr(err, cases[i].where));
		/* no part of any key, good or bad, in the message */
		assert_null(strstr(err, "AQEB"));
		assert_null(strstr(err, "AwMD"));
		assert_null(strstr(err, "AgIC"));
		assert_null(strstr(err, "_-_-"));
	}
	/* a NUL inside a key id (text is not NUL-terminated as far as the parser cares) */
	static const char nul[] = "index " KEY3 "\nk\0 " KEY1 "\n";
	ob_vault *v = NULL;
	char err[512] = "";
	assert_int_equal(ob_vault_from_text(nul, sizeof(nul) - 1, "x", &v, err, sizeof(err)),
	                 OB_EINVAL);
	assert_non_null(strstr(err, "x:2:"));
}

/* Comments, blank lines, tabs, CRLF and a missing final newline are all fine. */
static void test_lenient_layout(void **state)
{
	(void)state;
	const char text[] = "  # comment\r\n\r\n\tindex\t" KEY3 "  \r\n#k9 " KEY2 "\n a-1  " KEY1
	                    "\r\n\nz-2 " KEY2;
	ob_vault *v = NULL;
	char err[256] = "";
	assert_int_equal(ob_vault_from_text(text, strlen(text), NULL, &v, err, sizeof(err)), OB_OK);
	assert_string_equal(ob_vault_active_key_id(v), "z-2");
	assert_int_equal(ob_vault_key_count(v), 2);
	ob_vault_destroy(v);
}

/* 64 keys are accepted, a 65th is refused with OB_ETOOBIG. */
static void test_key_count_cap(void **state)
{
	(void)state;
	static char text[OB_VAULT_MAX_FILE];
	size_t len = (size_t)snprintf(text, sizeof(text), "index %s\n", KEY3);
	for (int i = 0; i < OB_VAULT_MAX_KEYS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "k%d %s\n", i, KEY1);
	ob_vault *v = NULL;
	assert_int_equal(ob_vault_from_text(text, len, NULL, &v, NULL, 0), OB_OK);
	assert_int_equal(ob_vault_key_count(v), OB_VAULT_MAX_KEYS);
	assert_string_equal(ob_vault_active_key_id(v), "k63");
	ob_vault_destroy(v);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "k64 %s\n", KEY1);
	char err[256] = "";
	assert_int_equal(ob_vault_from_text(text, len, "x", &v, err, sizeof(err)), OB_ETOOBIG);
	assert_non_null(strstr(err, "x:66:"));
}

/* from_keys refuses what the file parser refuses: bad, reserved and repeated kids. */
static void test_from_keys_checks_kids(void **state)
{
	(void)state;
	uint8_t keys[2][OB_VAULT_KEY_LEN] = {{1}, {2}}, idx[OB_VAULT_KEY_LEN] = {3};
	const char *const bad[][2] = {{"ok", "ok"}, {"ok", "index"}, {"ok", "UPPER"}, {"ok", ""}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ob_vault *v = (ob_vault *)1;
		assert_int_equal(ob_vault_from_keys(bad[i],
		                                    (const uint8_t(*)[OB_VAULT_KEY_LEN])keys, 2,
		                                    idx, &v),
		                 OB_EINVAL);
		assert_null(v);
	}
	ob_vault *v = NULL;
	assert_int_equal(
	        ob_vault_from_keys(bad[0], (const uint8_t(*)[OB_VAULT_KEY_LEN])keys, 0, idx, &v),
	        OB_EINVAL);
}

/* ---- generate and rotate ----------------------------------------------------------------- */

/* The file at path is a secret file's: mode 0600 exactly. */
static void assert_private(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* generate_file makes a 0600 file (whatever the umask) that opens, and never overwrites. */
static void test_generate_file(void **state)
{
	(void)state;
	const char *p = tpath("generated");
	char err[512] = "";
	/* umask 0 must add nothing to 0600; 0277 must not leave a 0400 file rotation can't
	 * append to */
	static const mode_t masks[] = {0, 0277};
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		unlink(p);
		mode_t old = umask(masks[i]);
		ob_err rc = ob_vault_generate_file(p, "first", err, sizeof(err));
		umask(old);
		assert_int_equal(rc, OB_OK);
		assert_private(p);
	}
	ob_vault *v = NULL;
	assert_int_equal(ob_vault_open(p, &v, err, sizeof(err)), OB_OK);
	assert_string_equal(ob_vault_active_key_id(v), "first");
	ob_vault_destroy(v);

	char before[8192];
	snprintf(before, sizeof(before), "%s", read_text(p));
	assert_int_equal(ob_vault_generate_file(p, "second", err, sizeof(err)), OB_EEXIST);
	assert_non_null(strstr(err, "never overwritten"));
	assert_string_equal(read_text(p), before);

	/* nor through a dangling symlink */
	const char *link = tpath("generated-link");
	unlink(link);
	assert_int_equal(symlink(tpath("nowhere"), link), 0);
	assert_int_equal(ob_vault_generate_file(link, NULL, err, sizeof(err)), OB_EEXIST);
	assert_int_equal(access(tpath("nowhere"), F_OK), -1);
	assert_int_equal(ob_vault_generate_file(p, "Bad", err, sizeof(err)), OB_EINVAL);
}

/* Two generated files have different keys: no fixed seed anywhere. */
static void test_generate_is_random(void **state)
{
	(void)state;
	const char *a = tpath("gen-a"), *b = tpath("gen-b");
	unlink(a);
	unlink(b);
	assert_int_equal(ob_vault_generate_file(a, "k", NULL, 0), OB_OK);
	assert_int_equal(ob_vault_generate_file(b, "k", NULL, 0), OB_OK);
	char ta[8192];
	snprintf(ta, sizeof(ta), "%s", read_text(a));
	assert_string_not_equal(ta, read_text(b));
}

/* A data key wrapped before a rotation still unwraps after it, under its old kid. */
static void test_unwrap_after_rotation(void **state)
{
	(void)state;
	const char *p = tpath("rotated");
	unlink(p);
	char err[512] = "";
	assert_int_equal(ob_vault_generate_file(p, "k1", err, sizeof(err)), OB_OK);
	ob_vault *v1 = NULL;
	assert_int_equal(ob_vault_open(p, &v1, err, sizeof(err)), OB_OK);
	uint8_t dk[OB_VAULT_KEY_LEN], wrapped[OB_VAULT_WRAPPED_LEN], back[OB_VAULT_KEY_LEN];
	size_t wrapped_len;
	char kid[OB_VAULT_KID_SIZE];
	assert_int_equal(ob_vault_new_data_key(v1, dk, wrapped, &wrapped_len, kid), OB_OK);
	assert_string_equal(kid, "k1");
	uint8_t bi1[OB_VAULT_INDEX_LEN], bi2[OB_VAULT_INDEX_LEN];
	ob_vault_blind_index(v1, "a@example.fr", bi1);

	char new_kid[OB_VAULT_KID_SIZE] = "";
	assert_int_equal(ob_vault_rotate_file(p, "k2", new_kid, err, sizeof(err)), OB_OK);
	assert_string_equal(new_kid, "k2");
	assert_private(p);

	ob_vault *v2 = NULL;
	assert_int_equal(ob_vault_open(p, &v2, err, sizeof(err)), OB_OK);
	assert_string_equal(ob_vault_active_key_id(v2), "k2");
	assert_int_equal(ob_vault_unwrap(v2, "k1", wrapped, wrapped_len, back), OB_OK);
	assert_memory_equal(back, dk, sizeof(dk));
	/* rotation leaves the blind index alone: lookups keep working */
	ob_vault_blind_index(v2, "a@example.fr", bi2);
	assert_memory_equal(bi1, bi2, sizeof(bi1));
	/* a rotation to an id already there is refused and changes nothing */
	assert_int_equal(ob_vault_rotate_file(p, "k1", NULL, err, sizeof(err)), OB_EEXIST);
	ob_vault_destroy(v1);
	ob_vault_destroy(v2);
}

/* Default ids are kYYYYMMDD, and a second rotation the same day gets a suffix. */
static void test_rotate_default_ids(void **state)
{
	(void)state;
	const char *p = tpath("rotated-default");
	unlink(p);
	assert_int_equal(ob_vault_generate_file(p, NULL, NULL, 0), OB_OK);
	ob_vault *v = NULL;
	assert_int_equal(ob_vault_open(p, &v, NULL, 0), OB_OK);
	char first[OB_VAULT_KID_SIZE];
	snprintf(first, sizeof(first), "%s", ob_vault_active_key_id(v));
	ob_vault_destroy(v);
	assert_int_equal(strlen(first), 9);
	assert_int_equal(first[0], 'k');

	char kid[OB_VAULT_KID_SIZE] = "", want[OB_VAULT_KID_SIZE + 4];
	assert_int_equal(ob_vault_rotate_file(p, NULL, kid, NULL, 0), OB_OK);
	/* (unless midnight UTC passed in between, which would give a plain new date) */
	if (strncmp(kid, first, 9) == 0) {
		snprintf(want, sizeof(want), "%s-2", first);
		assert_string_equal(kid, want);
		assert_int_equal(ob_vault_rotate_file(p, NULL, kid, NULL, 0), OB_OK);
		snprintf(want, sizeof(want), "%s-3", first);
		assert_string_equal(kid, want);
	}
}

/* Concurrent rotations are serialised: each gets its own id and the file stays valid. */
static void test_concurrent_rotations(void **state)
{
	(void)state;
	enum { PROCS = 8, EACH = 4 };
	const char *p = tpath("rotate-race");
	unlink(p);
	assert_int_equal(ob_vault_generate_file(p, NULL, NULL, 0), OB_OK);
	pid_t pids[PROCS];
	for (int i = 0; i < PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			for (int j = 0; j < EACH; j++) {
				if (ob_vault_rotate_file(p, NULL, NULL, NULL, 0) != OB_OK)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < PROCS; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ob_vault *v = NULL;
	char err[512] = "";
	assert_int_equal(ob_vault_open(p, &v, err, sizeof(err)), OB_OK);
	/* (a rotation that crossed midnight UTC would start a new date: still 33 keys) */
	assert_int_equal(ob_vault_key_count(v), 1 + PROCS * EACH);
	ob_vault_destroy(v);
}

/* Rotation copes with a file whose last line has no newline, and refuses a bad file. */
static void test_rotate_edge_files(void **state)
{
	(void)state;
	const char *p = tpath("rotate-edge");
	write_file(p, "index " KEY3 "\nk1 " KEY1, 0600);
	assert_int_equal(ob_vault_rotate_file(p, "k2", NULL, NULL, 0), OB_OK);
	ob_vault *v = NULL;
	assert_int_equal(ob_vault_open(p, &v, NULL, 0), OB_OK);
	assert_string_equal(ob_vault_active_key_id(v), "k2");
	assert_int_equal(ob_vault_key_count(v), 2);
	ob_vault_destroy(v);

	char err[512] = "";
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(ob_vault_rotate_file(p, "k3", NULL, err, sizeof(err)), OB_EPERM);
	assert_non_null(strstr(err, "chmod 600"));

	/* a malformed file is never appended to */
	write_file(p, "index " KEY3 "\nK1 " KEY1 "\n", 0600);
	char before[8192];
	snprintf(before, sizeof(before), "%s", read_text(p));
	assert_int_equal(ob_vault_rotate_file(p, "k3", NULL, err, sizeof(err)), OB_EINVAL);
	assert_string_equal(read_text(p), before);
	assert_int_equal(ob_vault_rotate_file(tpath("absent"), "k3", NULL, NULL, 0), OB_ENOTFOUND);
}

/* ---- data keys ------------------------------------------------------------------------- */

/* Rewrap moves a data key to the active master key, and it unwraps to the same bytes. */
static void test_rewrap(void **state)
{
	(void)state;
	const char *const kids1[] = {"old"};
	const char *const kids2[] = {"old", "new"};
	ob_vault *v1 = mem_vault(kids1, 1, 7), *v2 = mem_vault(kids2, 2, 7);
	uint8_t dk[OB_VAULT_KEY_LEN], w[OB_VAULT_WRAPPED_LEN], w2[OB_VAULT_WRAPPED_LEN];
	uint8_t back[OB_VAULT_KEY_LEN];
	size_t wl, wl2;
	char kid[OB_VAULT_KID_SIZE], kid2[OB_VAULT_KID_SIZE];
	assert_int_equal(ob_vault_new_data_key(v1, dk, w, &wl, kid), OB_OK);
	assert_int_equal(wl, OB_VAULT_WRAPPED_LEN);
	assert_string_equal(kid, "old");

	assert_int_equal(ob_vault_rewrap(v2, kid, w, wl, w2, &wl2, kid2), OB_OK);
	assert_string_equal(kid2, "new");
	assert_int_equal(wl2, OB_VAULT_WRAPPED_LEN);
	assert_memory_not_equal(w, w2, sizeof(w));
	assert_int_equal(ob_vault_unwrap(v2, kid2, w2, wl2, back), OB_OK);
	assert_memory_equal(back, dk, sizeof(dk));
	/* the new vault has the new key; the old one does not, and says so */
	assert_int_equal(ob_vault_unwrap(v1, kid2, w2, wl2, back), OB_ENOTFOUND);
	ob_vault_destroy(v1);
	ob_vault_destroy(v2);
}

/* A vault of the master keys a and b (b active) and a new data key of it, as
 * ob_vault_new_data_key gives it. */
static ob_vault *ab_vault_with_data_key(uint8_t dk[OB_VAULT_KEY_LEN],
                                        uint8_t w[OB_VAULT_WRAPPED_LEN], size_t *wl,
                                        char kid[OB_VAULT_KID_SIZE])
{
	const char *const kids[] = {"a", "b"};
	ob_vault *v = mem_vault(kids, 2, 7);
	assert_int_equal(ob_vault_new_data_key(v, dk, w, wl, kid), OB_OK);
	return v;
}

/* An unknown kid is OB_ENOTFOUND, whatever it looks like. */
static void test_unknown_kid(void **state)
{
	(void)state;
	uint8_t dk[OB_VAULT_KEY_LEN], w[OB_VAULT_WRAPPED_LEN], out[OB_VAULT_WRAPPED_LEN];
	size_t wl, ol = 99;
	char kid[OB_VAULT_KID_SIZE];
	ob_vault *v = ab_vault_with_data_key(dk, w, &wl, kid);
	static const char *const unknown[] = {"c",  "",    "index",
	                                      "bb", "b\n", "aaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_int_equal(ob_vault_unwrap(v, unknown[i], w, wl, dk), OB_ENOTFOUND);
		assert_true(sodium_is_zero(dk, sizeof(dk)));
		assert_int_equal(ob_vault_rewrap(v, unknown[i], w, wl, out, &ol, kid),
		                 OB_ENOTFOUND);
		assert_int_equal(ol, 0);
	}
	ob_vault_destroy(v);
}

/* A wrapped key is bound to its kid and its bytes: another kid, a flip or a cut fails. */
static void test_unwrap_rejects_tampering(void **state)
{
	(void)state;
	uint8_t dk[OB_VAULT_KEY_LEN], w[OB_VAULT_WRAPPED_LEN], back[OB_VAULT_KEY_LEN];
	size_t wl;
	char kid[OB_VAULT_KID_SIZE];
	ob_vault *v = ab_vault_with_data_key(dk, w, &wl, kid);
	assert_string_equal(kid, "b");
	assert_int_equal(ob_vault_unwrap(v, "a", w, wl, back), OB_ECORRUPT);
	assert_true(sodium_is_zero(back, sizeof(back)));
	for (size_t i = 0; i < wl; i++) {
		w[i] ^= 0x01;
		assert_int_equal(ob_vault_unwrap(v, "b", w, wl, back), OB_ECORRUPT);
		w[i] ^= 0x01;
	}
	for (size_t n = 0; n < wl; n++)
		assert_int_equal(ob_vault_unwrap(v, "b", w, n, back), OB_ECORRUPT);
	assert_int_equal(ob_vault_unwrap(v, "b", NULL, 0, back), OB_ECORRUPT);
	assert_int_equal(ob_vault_unwrap(v, "b", w, wl, back), OB_OK);
	ob_vault_destroy(v);
}

/* The wrapping is what vault.h says: nonce || XChaCha20-Poly1305, AD "onboard-dk-v1\0" KID. */
static void test_wrap_format(void **state)
{
	(void)state;
	const char *const kids[] = {"kat-1"};
	uint8_t mk[1][OB_VAULT_KEY_LEN], idx[OB_VAULT_KEY_LEN];
	for (int i = 0; i < OB_VAULT_KEY_LEN; i++) {
		mk[0][i] = (uint8_t)(0x10 + i);
		idx[i] = (uint8_t)(0x80 + i);
	}
	ob_vault *v = NULL;
	assert_int_equal(
	        ob_vault_from_keys(kids, (const uint8_t(*)[OB_VAULT_KEY_LEN])mk, 1, idx, &v),
	        OB_OK);
	uint8_t dk[OB_VAULT_KEY_LEN], w[OB_VAULT_WRAPPED_LEN], raw[OB_VAULT_KEY_LEN];
	size_t wl;
	char kid[OB_VAULT_KID_SIZE];
	assert_int_equal(ob_vault_new_data_key(v, dk, w, &wl, kid), OB_OK);
	static const uint8_t ad[] = "onboard-dk-v1\0kat-1"; /* the literal's own NUL excluded */
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
	                         raw, NULL, NULL, w + 24, wl - 24, ad, sizeof(ad) - 1, w, mk[0]),
	                 0);
	assert_memory_equal(raw, dk, sizeof(dk));

	/* and the blind index, against the independent vector (see the top of this file) */
	static const uint8_t want[OB_VAULT_INDEX_LEN] =
	        "\xc5\x9d\x83\x48\x41\x25\x39\x94\xa3\x80\x58\xd9\x27\x21\x1a\x91"
	        "\xc3\xf5\x19\xb6\xf0\xc5\xd8\x09\x87\x3d\x58\xae\xfd\xc6\xd2\xdc";
	uint8_t bi[OB_VAULT_INDEX_LEN];
	ob_vault_blind_index(v, "a@example.fr", bi);
	assert_memory_equal(bi, want, sizeof(want));
	ob_vault_destroy(v);
}

/* ---- fields ---------------------------------------------------------------------------- */

static const char app[] = "01HZY3Q7K9M2N4P6R8T0V1W3X5";

/* Seal then unseal gives back the bytes, for empty, short, long and NUL-holding values. */
static void test_seal_round_trip(void **state)
{
	(void)state;
	uint8_t dk[OB_VAULT_KEY_LEN];
	random_dk(dk);
	static char big[4000];
	memset(big, 'x', sizeof(big));
	const struct {
		const char *s;
		size_t len;
	} values[] = {
	        {"", 0},     {"Jeanne Dupont", 13}, {"+33612345678", 12},
	        {"a\0b", 3}, {big, sizeof(big)},
	};
	static uint8_t sealed[sizeof(big) + OB_VAULT_SEAL_OVERHEAD];
	static char plain[sizeof(big) + 1];
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		size_t sl = 0, pl = 99;
		assert_int_equal(ob_vault_seal(dk, app, "name", values[i].s, values[i].len, sealed,
		                               sizeof(sealed), &sl),
		                 OB_OK);
		assert_int_equal(sl, values[i].len + OB_VAULT_SEAL_OVERHEAD);
		assert_int_equal(
		        ob_vault_unseal(dk, app, "name", sealed, sl, plain, sizeof(plain), &pl),
		        OB_OK);
		assert_int_equal(pl, values[i].len);
		assert_memory_equal(plain, values[i].s, pl);
		assert_int_equal(plain[pl], '\0');
	}
}

/* The fields are what vault.h says: nonce || ct, AD "onboard-pii-v1\0" APP_ID "\0" FIELD. */
static void test_seal_format(void **state)
{
	(void)state;
	uint8_t dk[OB_VAULT_KEY_LEN], sealed[64];
	random_dk(dk);
	size_t sl;
	assert_int_equal(ob_vault_seal(dk, "app-7", "email", "a@example.fr", 12, sealed,
	                               sizeof(sealed), &sl),
	                 OB_OK);
	static const uint8_t ad[] = "onboard-pii-v1\0app-7\0email";
	uint8_t raw[16];
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(raw, NULL, NULL, sealed + 24,
	                                                            sl - 24, ad, sizeof(ad) - 1,
	                                                            sealed, dk),
	                 0);
	assert_memory_equal(raw, "a@example.fr", 12);
}

/* A ciphertext copied to another application or another field does not open. */
static void test_sealed_moved_fails(void **state)
{
	(void)state;
	uint8_t dk[OB_VAULT_KEY_LEN], sealed[64];
	random_dk(dk);
	size_t sl, pl = 99;
	char plain[64];
	assert_int_equal(
	        ob_vault_seal(dk, app, "email", "a@example.fr", 12, sealed, sizeof(sealed), &sl),
	        OB_OK);
	static const char *const where[][2] = {
	        {"01HZY3Q7K9M2N4P6R8T0V1W3X6", "email"}, /* another application */
	        {app, "phone"},                          /* another column */
	        {app, "Email"},
	        {"", "email"},
	        {"01HZY3Q7K9M2N4P6R8T0V1W3X5e", "mail"}, /* the same bytes, split elsewhere */
	        {app, "email\n"},
	};
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		strcpy(plain, "untouched");
		assert_int_equal(ob_vault_unseal(dk, where[i][0], where[i][1], sealed, sl, plain,
		                                 sizeof(plain), &pl),
		                 OB_ECORRUPT);
		assert_int_equal(pl, 0);
		assert_string_equal(plain, "");
	}
	assert_int_equal(ob_vault_unseal(dk, app, "email", sealed, sl, plain, sizeof(plain), &pl),
	                 OB_OK);
}

/* A fresh data key in dk and "Jeanne" sealed under it as app's name; returns its length. */
static size_t seal_jeanne(uint8_t dk[OB_VAULT_KEY_LEN], uint8_t sealed[64])
{
	random_dk(dk);
	size_t sl = 0;
	assert_int_equal(ob_vault_seal(dk, app, "name", "Jeanne", 6, sealed, 64, &sl), OB_OK);
	return sl;
}

/* Unseals sealed[0..len) as app's name under dk; the plain text is not kept. */
static ob_err unseal_name(const uint8_t dk[OB_VAULT_KEY_LEN], const uint8_t *sealed, size_t len)
{
	char plain[64];
	size_t pl;
	return ob_vault_unseal(dk, app, "name", sealed, len, plain, sizeof(plain), &pl);
}

/* Flipping any bit of any byte (nonce, ciphertext or tag) makes it fail. */
static void test_sealed_flip_fails(void **state)
{
	(void)state;
	uint8_t dk[OB_VAULT_KEY_LEN], sealed[64];
	size_t sl = seal_jeanne(dk, sealed);
	for (size_t i = 0; i < sl; i++) {
		for (int bit = 0; bit < 8; bit++) {
			sealed[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(unseal_name(dk, sealed, sl), OB_ECORRUPT);
			sealed[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(unseal_name(dk, sealed, sl), OB_OK);
}

/* Every truncation fails, and so does a byte appended. */
static void test_sealed_truncated_fails(void **state)
{
	(void)state;
	uint8_t dk[OB_VAULT_KEY_LEN], sealed[64];
	size_t sl = seal_jeanne(dk, sealed);
	for (size_t n = 0; n < sl; n++)
		assert_int_equal(unseal_name(dk, sealed, n), OB_ECORRUPT);
	sealed[sl] = 0;
	assert_int_equal(unseal_name(dk, sealed, sl + 1), OB_ECORRUPT);
	assert_int_equal(unseal_name(dk, NULL, 0), OB_ECORRUPT);
}

/* Another application's data key (or an erased, re-made one) opens nothing. */
static void test_sealed_wrong_dk_fails(void **state)
{
	(void)state;
	uint8_t dk[OB_VAULT_KEY_LEN], other[OB_VAULT_KEY_LEN], sealed[64];
	size_t sl = seal_jeanne(dk, sealed);
	memcpy(other, dk, sizeof(other));
	other[31] ^= 0x80;
	assert_int_equal(unseal_name(other, sealed, sl), OB_ECORRUPT);
}

/* Buffers too small are refused up front; identifiers over the cap are invalid. */
static void test_seal_limits(void **state)
{
	(void)state;
	uint8_t dk[OB_VAULT_KEY_LEN], sealed[64];
	random_dk(dk);
	size_t sl, pl;
	char plain[64];
	assert_int_equal(ob_vault_seal(dk, app, "name", "Jeanne", 6, sealed,
	                               6 + OB_VAULT_SEAL_OVERHEAD - 1, &sl),
	                 OB_ETOOBIG);
	assert_int_equal(ob_vault_seal(dk, app, "name", "Jeanne", 6, sealed,
	                               6 + OB_VAULT_SEAL_OVERHEAD, &sl),
	                 OB_OK);
	assert_int_equal(ob_vault_unseal(dk, app, "name", sealed, sl, plain, 6, &pl), OB_ETOOBIG);
	assert_int_equal(ob_vault_unseal(dk, app, "name", sealed, sl, plain, 7, &pl), OB_OK);
	assert_string_equal(plain, "Jeanne");
	char long_id[OB_VAULT_AD_PART_MAX + 2];
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_int_equal(ob_vault_seal(dk, long_id, "name", "x", 1, sealed, sizeof(sealed), &sl),
	                 OB_EINVAL);
	assert_int_equal(ob_vault_seal(dk, app, long_id, "x", 1, sealed, sizeof(sealed), &sl),
	                 OB_EINVAL);
	long_id[OB_VAULT_AD_PART_MAX] = '\0'; /* exactly at the cap */
	assert_int_equal(ob_vault_seal(dk, long_id, long_id, "x", 1, sealed, sizeof(sealed), &sl),
	                 OB_OK);
}

/* The sealed bytes hold no run of the plaintext, and sealing twice gives two ciphertexts. */
static void test_no_plaintext_in_sealed(void **state)
{
	(void)state;
	uint8_t dk[OB_VAULT_KEY_LEN], s1[300], s2[300];
	random_dk(dk);
	const char *values[] = {"jeanne.dupont@example.fr", "Jeanne Dupont", "+33612345678"};
	for (size_t v = 0; v < 3; v++) {
		size_t len = strlen(values[v]), l1, l2;
		for (int round = 0; round < 50; round++) {
			assert_int_equal(
			        ob_vault_seal(dk, app, "f", values[v], len, s1, sizeof(s1), &l1),
			        OB_OK);
			assert_int_equal(
			        ob_vault_seal(dk, app, "f", values[v], len, s2, sizeof(s2), &l2),
			        OB_OK);
			assert_memory_not_equal(s1, s2, l1);
			/* any 4 consecutive plaintext bytes: a 2^-32 chance per spot of a false
			 * alarm, a certainty if the encryption were a no-op or a copy */
			for (size_t i = 0; i + 4 <= len; i++)
				assert_false(contains(s1, l1, values[v] + i, 4));
		}
	}
}

/* ---- blind index ----------------------------------------------------------------------- */

/* Case and surrounding blanks do not matter; another vault's index key gives another index. */
static void test_blind_index(void **state)
{
	(void)state;
	const char *const kids[] = {"a"};
	ob_vault *v = mem_vault(kids, 1, 7), *w = mem_vault(kids, 1, 8);
	uint8_t x[OB_VAULT_INDEX_LEN], y[OB_VAULT_INDEX_LEN], z[OB_VAULT_INDEX_LEN];
	ob_vault_blind_index(v, "A@Example.FR ", x);
	ob_vault_blind_index(v, "a@example.fr", y);
	assert_memory_equal(x, y, sizeof(x));
	ob_vault_blind_index(v, "\t a@EXAMPLE.fr\r\n", z);
	assert_memory_equal(x, z, sizeof(x));
	ob_vault_blind_index(w, "a@example.fr", z);
	assert_memory_not_equal(x, z, sizeof(x));
	ob_vault_blind_index(v, "b@example.fr", z);
	assert_memory_not_equal(x, z, sizeof(x));
	ob_vault_blind_index(v, "a@exam ple.fr", z); /* inner blanks are kept */
	assert_memory_not_equal(x, z, sizeof(x));
	/* the master keys play no part: same index key, other master keys, same index */
	const char *const kids2[] = {"other", "b"};
	ob_vault *r = mem_vault(kids2, 2, 7);
	ob_vault_blind_index(r, "a@example.fr", z);
	assert_memory_equal(x, z, sizeof(x));
	/* long addresses go through the chunked lowercasing */
	char lo[300], up[300];
	for (size_t i = 0; i < sizeof(lo) - 1; i++) {
		lo[i] = (char)('a' + i % 26);
		up[i] = (char)('A' + i % 26);
	}
	lo[sizeof(lo) - 1] = up[sizeof(up) - 1] = '\0';
	ob_vault_blind_index(v, lo, y);
	ob_vault_blind_index(v, up, z);
	assert_memory_equal(y, z, sizeof(y));
	ob_vault_destroy(v);
	ob_vault_destroy(w);
	ob_vault_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_open_refuses_0644),
	        cmocka_unit_test(test_open_refuses_0640),
	        cmocka_unit_test(test_open_accepts_0600),
	        cmocka_unit_test(test_open_refuses_other_owner),
	        cmocka_unit_test(test_open_refuses_non_regular),
	        cmocka_unit_test(test_open_follows_symlink_to_checked_file),
	        cmocka_unit_test(test_bad_lines_name_the_line),
	        cmocka_unit_test(test_lenient_layout),
	        cmocka_unit_test(test_key_count_cap),
	        cmocka_unit_test(test_from_keys_checks_kids),
	        cmocka_unit_test(test_generate_file),
	        cmocka_unit_test(test_generate_is_random),
	        cmocka_unit_test(test_unwrap_after_rotation),
	        cmocka_unit_test(test_rotate_default_ids),
	        cmocka_unit_test(test_concurrent_rotations),
	        cmocka_unit_test(test_rotate_edge_files),
	        cmocka_unit_test(test_rewrap),
	        cmocka_unit_test(test_unknown_kid),
	        cmocka_unit_test(test_unwrap_rejects_tampering),
	        cmocka_unit_test(test_wrap_format),
	        cmocka_unit_test(test_seal_round_trip),
	        cmocka_unit_test(test_seal_format),
	        cmocka_unit_test(test_sealed_moved_fails),
	        cmocka_unit_test(test_sealed_flip_fails),
	        cmocka_unit_test(test_sealed_truncated_fails),
	        cmocka_unit_test(test_sealed_wrong_dk_fails),
	        cmocka_unit_test(test_seal_limits),
	        cmocka_unit_test(test_no_plaintext_in_sealed),
	        cmocka_unit_test(test_blind_index),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
