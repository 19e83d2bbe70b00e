/*
 * testutil.h: the small things every test program wrote for itself: clocks, sleeps, a
 * private temporary directory and its removal, a file's text, a SQLite file and its
 * companions. Plain C and POSIX; no cmocka, so that helper programs and fuzz drivers may
 * use it too. Thread-safe (no state).
 */
#ifndef OB_TESTS_TESTUTIL_H
#define OB_TESTS_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds: for deadlines and durations. */
int64_t ob_test_mono_ms(void);
/* CLOCK_REALTIME in Unix milliseconds: the clock login timestamps are read from. */
int64_t ob_test_wall_ms(void);
/* Sleeps ms milliseconds, resuming after a signal. */
void ob_test_sleep_ms(int ms);
/* CLOCK_MONOTONIC in microseconds, and a sleep of us microseconds: for what happens within
 * a millisecond (the crash campaign's kills). */
int64_t ob_test_mono_us(void);
void ob_test_sleep_us(int64_t us);

/* Makes a private directory "$TMPDIR/NAME-XXXXXX" into dir[0..cap), or under /tmp when
 * $TMPDIR is unset, relative, or longer than 64 bytes (an ipc:// socket in it must fit in
 * sun_path's 108). Returns 0, or -1 after printing why on stderr (dir is then ""). */
int ob_test_mkdtemp(char *dir, size_t cap, const char *name);

/* rm -rf of a tree of plain files and directories made by the test; accepts "" and NULL. */
void ob_test_remove_tree(const char *path);

/* Removes the SQLite database at db and its -wal, -shm and -journal companions. */
void ob_test_remove_db(const char *db);

/* The whole file at path, NUL-terminated (its length in *len unless len is NULL), or NULL
 * when it cannot be read. The caller frees it with free(). */
char *ob_test_read_file(const char *path, size_t *len);

/* Fills buf[0..len) with the bytes of xorshift32 from *state (not 0), which it advances: the
 * same bytes on every run for the same seed. */
void ob_test_random_bytes(uint32_t *state, uint8_t *buf, size_t len);

/* Fills buf[0..size) with prefix, then e-acute (U+00E9, two bytes) over and over up to
 * size - 1 bytes, and a NUL: multi-byte text to cut, whose last character is cut in half when
 * size - 1 - strlen(prefix) is odd. size must exceed strlen(prefix). Returns size - 1. */
size_t ob_test_fill_e_acute(char *buf, size_t size, const char *prefix);

/* True when the process runs as root, which chown() and the files of another uid need;
 * otherwise says on stderr that what is not run for want of it. A test that then skips does so
 * for its environment, not for the code (the suites run as root in CI). */
bool ob_test_is_root(const char *what);

/* How many lines of the file at path contain needle (-1 when it cannot be read). */
int ob_test_count_lines(const char *path, const char *needle);

#endif
