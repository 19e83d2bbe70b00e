#!/usr/bin/env bash
# Installs onboard's build and test dependencies from Debian 12's packages,
# only when something is missing. Needs root (or sudo) the first time.
set -euo pipefail

packages=(
	build-essential pkg-config meson ninja-build cmake python3
	protobuf-compiler protobuf-c-compiler libprotobuf-c-dev
	libnng-dev libsodium-dev libsqlite3-dev libjansson-dev libcmocka-dev libpq-dev
	clang libclang-rt-14-dev
	openssl sqlite3 python3-protobuf
	# the fault tests (tests/reliability): mkfs.ext4 and chattr for a read-only database
	e2fsprogs
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
