/*
 * Backups: what path a backup may be written to, one backup at a time, and
 * what its maker must be told. The copy itself is the store's (store.h:
 * backup); the master key file is never part of it, which the reminder says.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "crypto/keystore.h"
#include "domain/domain.h"
#include "domain/internal.h"
#include "domain/store.h"

/* Checks the shape of a backup's path into o: absolute, of at most
 * OB_BACKUP_PATH_MAX bytes, printable (no control character: it goes into
 * the log and the audit trail), naming a file (not ending in '/'), without
 * "." or ".." components, so that the path in the audit trail is the file
 * written. */
static void check_path(const char *path, ob_outcome *o)
{
	size_t len = strlen(path);
	if (len == 0) {
		ob_violation_add(o, "path", "is required");
		return;
	}
	if (len > OB_BACKUP_PATH_MAX) {
		ob_violation_add(o, "path", "is longer than %d bytes", OB_BACKUP_PATH_MAX);
		return;
	}
	if (path[0] != '/') {
		ob_violation_add(o, "path",
		                 "must be absolute: a path on the server's host, such as "
		                 "/var/backups/onboard/onboard-2020-11-20.db");
		return;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7F) {
			ob_violation_add(o, "path", "holds a control character");
			return;
		}
	if (path[len - 1] == '/') {
		ob_violation_add(o, "path", "names a directory; name the file to create in it");
		return;
	}
	for (const char *c = path; c != NULL; c = strchr(c + 1, '/')) {
		size_t n = strcspn(c + 1, "/");
		if ((n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.') || n == 0) {
			ob_violation_add(o, "path", "must not hold empty, '.' or '..' components");
			return;
		}
	}
}

/* The reminder of a backup, and the active master key id, from the keys
 * the store seals with. */
static void remind(ob_domain *d, ob_backup *out)
{
	if (d->keys == NULL || !ob_keystore_can_rotate(d->keys)) {
		snprintf(out->reminder, sizeof(out->reminder),
		         "this server seals contacts with throwaway keys that end with it: the "
		         "contacts in this backup can never be read");
		return;
	}
	ob_keystore_lease lease;
	const ob_vault *v = ob_keystore_acquire(d->keys, &lease);
	snprintf(out->master_key_id, sizeof(out->master_key_id), "%s", ob_vault_active_key_id(v));
	ob_keystore_release(&lease);
	snprintf(out->reminder, sizeof(out->reminder),
	         "the master key file is NOT in the backup, and without it the contacts' "
	         "personal data in it cannot be read: keep a copy of the key file holding "
	         "key %s apart from the backup",
	         out->master_key_id);
}

ob_err ob_domain_backup(ob_domain *d, const char *path, ob_backup *out, ob_outcome *o)
{
	memset(out, 0, sizeof(*out));
	check_path(path, o);
	if (o->n_violations > 0) {
		ob_dom_say(o, "invalid backup path");
		return OB_EINVAL;
	}
	if (atomic_exchange(&d->backup_running, true)) {
		ob_dom_say(o, "another backup is running; retry once it has finished");
		return OB_EUNAVAIL;
	}
	out->taken_at_ms = ob_clock_now_ms();
	ob_store_backup b;
	ob_err err = d->store->ops->backup(d->store, path, &b);
	atomic_store(&d->backup_running, false);
	switch (err) {
	case OB_OK:
		out->bytes = b.bytes;
		out->applications = b.applications;
		remind(d, out);
		return OB_OK;
	case OB_EEXIST:
		ob_violation_add(o, "path",
		                 "a file exists there (or its .partial); a backup never "
		                 "overwrites one");
		ob_dom_say(o, "a file already exists at the backup path");
		return OB_EEXIST;
	case OB_ENOTFOUND:
		ob_violation_add(o, "path", "its directory does not exist on the server");
		ob_dom_say(o, "invalid backup path");
		return OB_EINVAL;
	case OB_ENOTSUP:
		/* A store that writes no backup file (PostgreSQL's: the database is
		 * backed up by its own tools, which copy one consistent snapshot of
		 * every instance's writes and can restore to a point in time). The
		 * call is fine; the deployment is not one for it. */
		ob_dom_say(o, "this programme's database is PostgreSQL: onboardd writes backup "
		              "files of SQLite databases only; back PostgreSQL up with its own "
		              "tools (pg_dump, or pg_basebackup with WAL archiving), and keep the "
		              "master key file apart, as it is in neither");
		return OB_EPRECOND;
	case OB_EPERM:
		ob_violation_add(o, "path",
		                 "the server cannot write in its directory, or others could "
		                 "(it must be the server's or root's, writable by no one else "
		                 "unless sticky)");
		ob_dom_say(o, "invalid backup path");
		return OB_EINVAL;
	default:
		ob_dom_say(o,
		           "the backup failed (%s); nothing was left at the path; see the server "
		           "log",
		           ob_strerror(err));
		return err;
	}
}
