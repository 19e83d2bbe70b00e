#!/usr/bin/env bash
# Installs onboard's build and test dependencies from Debian 12's packages,
# only when something is missing. Needs root (or sudo) the first time.
set -euo pipefail

packages=(
	build-essential pkg-config meson ninja-build cmake python3
	protobuf-compiler protobuf-c-compiler libprotobuf-c-dev
	libnng-dev libsodium-dev libsqlite3-dev libjansson-dev libcmocka-dev libpq-dev
	clang libclang-rt-14-dev
	openssl sqlite3 python3-protobuf python3-prometheus-client curl
	# tests/integration/deploy.sh: systemd-analyze rates the unit (systemd need not run);
	# compose.yaml and prometheus.yml are parsed as YAML
	systemd python3-yaml
	# the PostgreSQL store's tests: a private cluster (tools/pgcluster.sh) of Debian 12's server
	postgresql-15
	# the harness (tests/integration/lib.sh): backtraces of a process that hangs
	gdb
	# the fault tests (tests/reliability): mkfs.ext4 and chattr for a read-only database
	e2fsprogs
	# the dashboard's browser test (tests/integration/dashboard.sh): Debian's headless chromium,
	# which playwright-core drives (it downloads no browser of its own)
	chromium
)
# node and npm run the Connect client of the HTTP tests (tests/connect); a machine that has a
# node of its own (nodesource's, say) keeps it.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}" >&2
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The npm packages of tests/connect (the Connect client) and tests/dashboard (playwright-core),
# exactly as their package-lock.json pins them, when they are missing or the lock file changed
# since they were installed.
for d in connect dashboard; do
	pkg=$(cd "$(dirname "$0")/../tests/$d" && pwd)
	if [ ! -f "$pkg/node_modules/.package-lock.json" ] ||
		[ "$pkg/package-lock.json" -nt "$pkg/node_modules/.package-lock.json" ]; then
		echo "installing the npm packages of tests/$d (npm ci)" >&2
		(cd "$pkg" && npm ci --no-audit --no-fund --loglevel=error)
	fi
done
