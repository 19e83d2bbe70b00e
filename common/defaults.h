/*
 * defaults.h: what onboardd and the onboard CLI agree on without being told.
 */
#ifndef OB_COMMON_DEFAULTS_H
#define OB_COMMON_DEFAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The socket the systemd unit makes onboardd listen on: deploy/meson.build
 * reads it from this line into the unit (deploy/systemd/onboardd.service.in),
 * so that the CLI's default and the unit's socket are one path. */
#define OB_SYSTEM_SOCKET "/run/onboard/onboardd.sock"

/* Where onboardd listens without --listen: $ONBOARD_SERVER if set, else the
 * user's own socket, ipc://$XDG_RUNTIME_DIR/onboard/onboardd.sock, else
 * ipc:///tmp/onboard-$UID/onboardd.sock. Writes into out (n bytes); returns
 * out. Thread-safe as long as nobody calls setenv(). */
char *ob_default_listen_url(char *out, size_t n);

/* A client's default server (ob_default_server_pick). */
typedef struct ob_default_server {
	char url[512];
	/* The systemd unit's socket: then server_uid is who must serve it,
	 * the owner of its directory, which only root can have made. */
	bool system;
	uid_t server_uid;
} ob_default_server;

/*
 * The default server of a client (the CLI): $ONBOARD_SERVER if set; else the
 * user's own socket (as ob_default_listen_url) when it exists, an onboardd of
 * theirs; else the systemd unit's socket, system_socket (OB_SYSTEM_SOCKET;
 * tests give another), when it exists; else the user's own. Then checks the
 * directory the socket is in:
 *  - the /tmp fallback: /tmp is everyone's, so another user can make
 *    /tmp/onboard-$UID before onboardd does and serve a socket of theirs
 *    there: ob_socket_dir_check() for getuid();
 *  - the unit's: a directory, not a symbolic link, that no group or other
 *    can write to, in a directory that belongs to root and that no group or
 *    other can write to either (/run): so only root made it, and its owner
 *    (systemd gives it to the unit's User=) is the uid the server must run
 *    as, in out->server_uid.
 * Returns 0, or -1 with a message in err (n bytes) when the directory cannot
 * be trusted. Same thread-safety as above.
 */
int ob_default_server_pick(const char *system_socket, ob_default_server *out, char *err, size_t n);

/* ob_default_server_pick(OB_SYSTEM_SOCKET)'s URL, into out; returns out. */
char *ob_default_server_url(char *out, size_t n);
/* ob_default_server_pick(OB_SYSTEM_SOCKET)'s verdict: 0, or -1 with err. */
int ob_default_server_check(char *err, size_t n);

/*
 * Returns 0 when dir is missing (nothing listens there, then) or is a
 * directory, not a symbolic link, owned by uid, that neither its group nor
 * others can write to; -1 with a one-line message in err (n bytes) otherwise.
 */
int ob_socket_dir_check(const char *dir, uid_t uid, char *err, size_t n);

#endif
