/*
 * files.h: plain file reads shared by the server, the client library and the
 * CLI, under the rules of the files that need more (secretfile.h, the
 * keyring, the master key file).
 *
 * Thread-safe; they block on the file system.
 */
#ifndef OB_COMMON_FILES_H
#define OB_COMMON_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "attr.h"

/* Reads fd from its offset into buf until the end of the file or cap bytes,
 * whichever comes first (retrying EINTR); *len = the bytes read. A caller
 * that passes one byte more than it accepts tells a file of that size from a
 * larger one by *len == cap. Returns 0 or a negative errno value. */
OB_NODISCARD int ob_read_fd(int fd, void *buf, size_t cap, size_t *len);

/* Reads f to its end into a malloc'd buffer with a NUL after the bytes
 * (text can be read as a string; *len, when not NULL, counts the bytes).
 * The caller frees it. NULL with errno set when reading fails or memory runs
 * out. For files that are not secret and have no size limit of their own:
 * PEM certificates, a request or a CSV the user names. */
char *ob_read_stream(FILE *f, size_t *len);

/* The folder part of path into dir (size bytes): "." for a bare name, "/"
 * for a name at the root. False when it does not fit. */
OB_NODISCARD bool ob_path_dir(const char *path, char *dir, size_t size);

#endif
