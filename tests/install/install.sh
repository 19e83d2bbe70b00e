#!/usr/bin/env bash
# install.sh: `meson install` into a private DESTDIR, and what is installed works as the README
# says: onboard-client.pc names no absolute path, a program built from the example in
# onboard/client.h's header comment (which README.md shows too) with `pkg-config --cflags
# --libs onboard-client` compiles, links against the installed library and reads the cohort
# from the installed onboardd, and the systemd unit is installed with the prefix in its
# ExecStart, and the example of its EnvironmentFile beside it.
#
# Environment (meson test sets it): MESON (the meson command), MESON_BUILD_ROOT, CC,
# CFLAGS_SANITIZE (the build's -fsanitize flags, which a program linking its library
# needs too), PREFIX, BINDIR, LIBDIR and UNIT_DIR (absolute, as configured).
set -uo pipefail

. "$(dirname "$0")/../integration/lib.sh"
lib_init ob-install
for v in MESON MESON_BUILD_ROOT CC PREFIX BINDIR LIBDIR UNIT_DIR; do
	[ -n "${!v:-}" ] || die "\$$v is not set (meson test sets it)"
done
dest=$dir/dest
read -r -a meson <<<"$MESON"
read -r -a cc <<<"$CC"
read -r -a sanitize <<<"${CFLAGS_SANITIZE:-}"

# ---- meson install -----------------------------------------------------------------------
run "meson install --destdir" 0 "${meson[@]}" install -C "$MESON_BUILD_ROOT" --no-rebuild \
	--destdir "$dest" || die "meson install failed"
for f in "$BINDIR/onboardd" "$BINDIR/onboard" "$LIBDIR/pkgconfig/onboard-client.pc" \
	"$PREFIX/include/onboard/client.h" "$PREFIX/include/onboard/v1/onboarding.pb-c.h" \
	"$UNIT_DIR/onboardd.service" "$PREFIX/share/onboard/onboardd.env.example"; do
	checks=$((checks + 1))
	[ -e "$dest$f" ] || fail "meson install did not install $f"
done

# ---- the contract, published ----------------------------------------------------------------
# The .proto files compile on their own from where they are installed, and the
# FileDescriptorSet names every service.
share=$dest${DATADIR:?DATADIR is not set}/onboard
run "the installed .proto files compile" 0 protoc --proto_path="$share/proto" \
	--descriptor_set_out="$dir/check.fds" "$share"/proto/onboard/v1/*.proto
run "the installed FileDescriptorSet" 0 /usr/bin/python3 -c 'import sys
from google.protobuf import descriptor_pb2
fds = descriptor_pb2.FileDescriptorSet.FromString(open(sys.argv[1], "rb").read())
print(" ".join(sorted(f.package + "." + s.name for f in fds.file for s in f.service)))' \
	"$share/onboard.fds" &&
	expect "the descriptor set names the services" \
		"onboard.v1.Admin onboard.v1.Auth onboard.v1.Health onboard.v1.Onboarding onboard.v1.Reflection" "$out"

# ---- the systemd unit ----------------------------------------------------------------------
unit=$dest$UNIT_DIR/onboardd.service
checks=$((checks + 1))
grep -qxF "ExecStart=$BINDIR/onboardd" "$unit" ||
	fail "the unit's ExecStart is not $BINDIR/onboardd: $(grep ExecStart "$unit")"
checks=$((checks + 1))
! grep -qE '@[a-z_]+@' "$unit" || fail "the unit holds an unreplaced @variable@: $(grep '@' "$unit")"
checks=$((checks + 1))
! grep -qE '@[a-z_]+@' "$dest$PREFIX/share/onboard/onboardd.env.example" ||
	fail "the EnvironmentFile example holds an unreplaced @variable@"

# ---- onboard-client.pc ---------------------------------------------------------------------
pc=$dest$LIBDIR/pkgconfig/onboard-client.pc
checks=$((checks + 1))
if grep -E '^(Libs|Libs\.private|Cflags):' "$pc" | grep -qE '(^|[[:space:]:])/'; then
	fail "onboard-client.pc names an absolute path: $(grep -E '^(Libs|Cflags)' "$pc")"
fi
# As installed, its prefix moved into the DESTDIR, as if the package were installed there.
mkdir "$dir/pkgconfig"
sed "s|^prefix=|prefix=$dest|" "$pc" >"$dir/pkgconfig/onboard-client.pc"
export PKG_CONFIG_PATH=$dir/pkgconfig
run "pkg-config --cflags --libs onboard-client" 0 pkg-config --cflags --libs onboard-client ||
	die "pkg-config cannot use onboard-client.pc"
read -r -a flags <<<"$out"
run "pkg-config --static --libs onboard-client" 0 pkg-config --static --libs onboard-client
expect "the static libraries name nng" "-lnng" "$out"

# ---- the example of onboard/client.h -------------------------------------------------------
# Its lines between "#include <stdio.h>" and the function's closing brace, without the
# comment's " *     " margin, and a main() that calls it with the URL it is given.
header=$dest$PREFIX/include/onboard/client.h
sed -n '/^ \*     #include <stdio.h>$/,/^ \*     }$/p' "$header" | sed -E 's/^ \*( {5})?//' \
	>"$dir/example.c"
checks=$((checks + 1))
grep -q 'print_seats' "$dir/example.c" || die "no example found in $header"
# README.md shows the same example, under "## The client library".
readme=$(dirname "$0")/../../README.md
sed -n '/^## The client library$/,/^## [^T]/p' "$readme" | sed -n '/^```c$/,/^```$/p' |
	sed '1d;$d' >"$dir/readme-example.c"
checks=$((checks + 1))
if ! diff -u "$dir/example.c" "$dir/readme-example.c" >"$dir/readme.diff"; then
	fail "README.md's example of the client library is not the one of onboard/client.h:"
	cat "$dir/readme.diff" >&2
fi
cat >>"$dir/example.c" <<'MAIN'

int main(int argc, char **argv)
{
	return argc == 2 && print_seats(argv[1]) == OB_CODE_OK ? 0 : 1;
}
MAIN
run "the header's example compiles and links against the installed library" 0 \
	"${cc[@]}" -std=c11 -Wall -Wextra -Wpedantic -Werror "${sanitize[@]}" \
	-o "$dir/example" "$dir/example.c" "${flags[@]}" || {
	sed 's/^/  example.c: /' "$dir/example.c" >&2
	die "the example of onboard/client.h does not build"
}

# It runs against the installed onboardd, with the installed library.
ONBOARDD=$dest$BINDIR/onboardd
url="ipc://$dir/onboardd.sock"
onboardd_start "$url" --db "$dir/onboard.db" --no-access-log
if run "the example reads the cohort" 0 env LD_LIBRARY_PATH="$dest$LIBDIR" \
	"$dir/example" "$url"; then
	expect "the example prints the seats" "0 of 800 seats held" "$out"
fi
checks=$((checks + 1))
LD_LIBRARY_PATH="$dest$LIBDIR" ldd "$dir/example" >"$dir/ldd"
grep -qF "$dest$LIBDIR/libonboard-client.so" "$dir/ldd" ||
	fail "the example does not load the installed libonboard-client: $(cat "$dir/ldd")"
expect_clean_stop

finish "install"
