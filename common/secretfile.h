/*
 * secretfile.h: the one set of rules for a file that holds a secret (a
 * caller's key, the master keys, the token secret, a TLS private key), for
 * the server, the client library and the CLI alike.
 *
 * A secret file is a regular file owned by the user we run as (the effective
 * uid) that neither its group nor others may read, write or execute (mode
 * 0600 or stricter). Checks are made on the opened descriptor, never on the
 * name first and the file after, so that what is checked is what is read.
 * O_NONBLOCK on open, so that a FIFO planted at the path is refused instead
 * of hanging. A final symbolic link is refused unless the caller allows it
 * (systemd credentials and certbot's live/ folder use links; then the file
 * the link leads to must pass). A new secret file is created 0600 with
 * O_EXCL (never overwriting one, whose key may be the only copy), written,
 * fsynced, and its directory fsynced; on failure it is removed.
 *
 * Functions return 0 or a negative errno value (-EPERM for a file that fails
 * the rules, -EEXIST, -ENOENT, -EFBIG, -EIO...), with a one-line message in
 * err (n bytes) that names the path and says how to fix it.
 * Thread-safe; they block on the file system.
 */
#ifndef OB_COMMON_SECRETFILE_H
#define OB_COMMON_SECRETFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "attr.h"
#include "files.h"

/* Opens path (flags: O_RDONLY, or O_RDWR | O_APPEND to add to it) and
 * checks it; on 0, *fd is open and the caller closes it. follow: whether a
 * final symbolic link is allowed. */
OB_NODISCARD int ob_secret_open(const char *path, int flags, bool follow, int *fd, char *err,
                                size_t n);

/* Reads a whole secret file of at most max bytes into a buffer from
 * sodium_malloc(); the caller frees it with sodium_free() (which wipes it).
 * One byte more is allocated and set to NUL, so text can be read as a
 * string. -EFBIG when the file is larger than max. */
OB_NODISCARD int ob_secret_read(const char *path, bool follow, size_t max, char **out, size_t *len,
                                char *err, size_t n);

/* Creates path (0600, O_EXCL, no symbolic link followed) holding data. */
OB_NODISCARD int ob_secret_create(const char *path, const void *data, size_t len, char *err,
                                  size_t n);

#endif
