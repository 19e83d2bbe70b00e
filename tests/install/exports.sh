#!/usr/bin/env bash
# exports.sh: libonboard-client exports its API and nothing else. Its dynamic symbols are
# the functions that include/onboard/client.h declares OB_CLIENT_API, every one of them, and
# the generated contract (onboard__v1__*) that the library carries for its callers; the code
# of common/ it links (key files, the login message, the default address) stays hidden, as
# does whatever client.c does not mark (it is built with -fvisibility=hidden).
#
# Usage: exports.sh LIBRARY HEADER (meson test passes the built library and client.h).
set -uo pipefail

lib=$1 header=$2
. "$(dirname "$0")/../integration/lib.sh"
lib_init ob-exports

# The names declared OB_CLIENT_API (a declaration may span lines: join them first).
grep -v '^#' "$header" | tr '\n' ' ' | grep -oE 'OB_CLIENT_API [^;(]*\(' |
	sed -E 's/.*[ *]([A-Za-z_][A-Za-z0-9_]*)\($/\1/' | sort -u >"$dir/api"
[ -s "$dir/api" ] || die "no OB_CLIENT_API declaration found in $header"
nm -D --defined-only "$lib" >"$dir/nm" || die "nm -D $lib failed"
# The address sanitizer adds an ODR indicator (__odr_asan.NAME) for each global of the
# library, the contract's descriptors here: instrumentation, not API.
awk '{ print $NF }' "$dir/nm" | grep -v '^__odr_asan\.' | sort -u >"$dir/exported"

checks=$((checks + 1))
extra=$(grep -vxF -f "$dir/api" "$dir/exported" | grep -v '^onboard__v1__')
[ -z "$extra" ] || fail "exported but not OB_CLIENT_API nor the contract: ${extra//$'\n'/ }"
checks=$((checks + 1))
missing=$(grep -vxF -f "$dir/exported" "$dir/api")
[ -z "$missing" ] || fail "declared OB_CLIENT_API but not exported: ${missing//$'\n'/ }"
checks=$((checks + 1))
grep -q '^onboard__v1__cohort_standing__descriptor$' "$dir/exported" ||
	fail "the contract's descriptors are not exported (the header's example needs them)"
echo "exported: $(wc -l <"$dir/api") functions of the API, $(grep -c '^onboard__v1__' "$dir/exported") symbols of the contract"
finish "exports"
