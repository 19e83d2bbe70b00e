/*
 * defaults.h: what onboardd and the onboard CLI agree on without being told.
 */
#ifndef OB_COMMON_DEFAULTS_H
#define OB_COMMON_DEFAULTS_H

#include <stddef.h>
#include <sys/types.h>

/* The default server URL: $ONBOARD_SERVER if set, else
 * ipc://$XDG_RUNTIME_DIR/onboard/onboardd.sock, else
 * ipc:///tmp/onboard-$UID/onboardd.sock. Writes into out (n bytes);
 * returns out. Thread-safe as long as nobody calls setenv(). */
char *ob_default_server_url(char *out, size_t n);

/*
 * Checks the directory of the default socket when it is the /tmp fallback
 * above (no $ONBOARD_SERVER, no $XDG_RUNTIME_DIR): /tmp is everyone's, so
 * another user can make /tmp/onboard-$UID before onboardd does and serve a
 * socket of theirs there. Returns 0 when the URL is not that fallback, or
 * when ob_socket_dir_check() accepts the directory for getuid(); -1 with a
 * message in err (n bytes) otherwise. Same thread-safety as above.
 */
int ob_default_server_check(char *err, size_t n);

/*
 * Returns 0 when dir is missing (nothing listens there, then) or is a
 * directory, not a symbolic link, owned by uid, that neither its group nor
 * others can write to; -1 with a one-line message in err (n bytes) otherwise.
 */
int ob_socket_dir_check(const char *dir, uid_t uid, char *err, size_t n);

#endif
