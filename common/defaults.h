/*
 * defaults.h: what onboardd and the onboard CLI agree on without being told.
 */
#ifndef OB_COMMON_DEFAULTS_H
#define OB_COMMON_DEFAULTS_H

#include <stddef.h>

/* The default server URL: $ONBOARD_SERVER if set, else
 * ipc://$XDG_RUNTIME_DIR/onboard/onboardd.sock, else
 * ipc:///tmp/onboard-$UID/onboardd.sock. Writes into out (n bytes);
 * returns out. Thread-safe as long as nobody calls setenv(). */
char *ob_default_server_url(char *out, size_t n);

#endif
