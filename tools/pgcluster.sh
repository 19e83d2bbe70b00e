#!/usr/bin/env bash
# pgcluster.sh CMD ARGS...: runs CMD with a private PostgreSQL cluster of its own, and stops
# and removes that cluster afterwards, whatever CMD does (its status is this script's; a
# signal stops the cluster too).
#
# The cluster: initdb in a new temporary directory, owned by an unprivileged user when this
# runs as root (PostgreSQL refuses to run as root, and CI runs as root): $PGCLUSTER_USER, by
# default nobody. It listens on a Unix socket in that directory only (listen_addresses is
# empty: no TCP port is opened, so clusters of parallel runs never collide; the port number
# only names the socket), with trust authentication for the superuser "onboard", who is the
# only role. CMD sees:
#   ONBOARD_TEST_PG   a libpq conninfo of the cluster's "postgres" database
#                     (host=DIR port=PORT user=onboard dbname=postgres)
#   PGHOST PGPORT PGUSER   the same, for psql and createdb
#   PGCLUSTER_RESTART a command that crashes and restarts the cluster (below)
# Each test makes a database of its own (CREATE DATABASE with a unique name) and drops it.
#
# Needs PostgreSQL 15's server (Debian 12: postgresql-15; tools/install-deps.sh installs it).
set -euo pipefail

[ $# -ge 1 ] || {
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
}

bindir=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
[ -x "$bindir/initdb" ] || {
	echo "pgcluster.sh: no PostgreSQL server in $bindir (install postgresql-15)" >&2
	exit 1
}

base=${TMPDIR:-/tmp}
[ ${#base} -le 60 ] || base=/tmp # a socket path must fit in sun_path
dir=$(mktemp -d "$base/ob-pg-XXXXXX")
port=$((50000 + $$ % 10000))
as=()
if [ "$(id -u)" -eq 0 ]; then
	user=${PGCLUSTER_USER:-nobody}
	chown "$user" "$dir"
	as=(runuser -u "$user" --)
fi
chmod 755 "$dir" # the clients (root, or this user) reach the socket through it

stop() {
	"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap stop EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

"${as[@]}" "$bindir/initdb" -D "$dir/data" -U onboard --auth=trust --encoding=UTF8 \
	--locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
	cat "$dir/initdb.log" >&2
	exit 1
}
# Small and quick to start; durability settings stay the defaults (fsync on,
# synchronous_commit on): the tests exercise what production runs.
opts="-k $dir -c listen_addresses= -p $port -c max_connections=200 -c shared_buffers=32MB"
"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" \
	start >/dev/null || {
	cat "$dir/server.log" >&2
	exit 1
}

# PGCLUSTER_RESTART: a command that restarts the cluster as a crash would (stop -m immediate:
# no checkpoint, the next start recovers from the WAL) and waits until it accepts
# connections again, for the crash campaign against PostgreSQL (onboard-crash --pg).
printf '#!/bin/sh\nset -e\n%s "%s/pg_ctl" -D "%s/data" -m immediate stop >/dev/null\n%s "%s/pg_ctl" -D "%s/data" -l "%s/server.log" -w -t 60 -o "%s" start >/dev/null\n' \
	"${as[*]}" "$bindir" "$dir" "${as[*]}" "$bindir" "$dir" "$dir" "$opts" >"$dir/restart.sh"
chmod 755 "$dir/restart.sh"
export PGCLUSTER_RESTART="$dir/restart.sh"
export ONBOARD_TEST_PG="host=$dir port=$port user=onboard dbname=postgres"
export PGHOST=$dir PGPORT=$port PGUSER=onboard
rc=0
"$@" || rc=$?
exit $rc
