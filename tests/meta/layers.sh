#!/bin/sh
# layers.sh: the include check. Dependencies in service/ point one way,
# rpc -> domain <- store (ARCHITECTURE.md), and this fails the test suite on a
# back edge: an #include that one layer must not make. It reads the sources as
# text (quoted and angle includes, relative "../" paths too) and names every
# offending line.
#
#   domain/  nothing of store/, rpc/ or auth/, and no nng, protobuf(-c),
#            SQLite or libpq header: plain C on plain structs, which owns the
#            store's port (domain/store.h) instead of including the adapter
#   auth/    nothing of domain/, store/ or rpc/, no nng or SQLite header: it
#            stands on base/ (and common/'s login message)
#   store/   nothing of rpc/ or auth/, no nng or protobuf(-c) header: an
#            adapter of the domain's port
#   crypto/  nothing of domain/, store/, rpc/ or auth/
#   base/    nothing of any other layer
#   rpc/     nothing of http/ (the HTTP face stands on rpc/'s pipeline)
#   http/    nothing of store/, no SQLite or libpq header
#
# Usage: layers.sh SOURCE_ROOT [EXPECTED]
# Checks SOURCE_ROOT/service. Exits 0 when there is no violation, or, given
# EXPECTED, when there are exactly that many (how the suite checks that the
# check itself still catches them, on tests/meta/violations).
set -eu

root=${1:?usage: layers.sh SOURCE_ROOT [EXPECTED]}
expected=${2:-0}
svc=$root/service
for layer in domain store auth; do
	if [ ! -d "$svc/$layer" ]; then
		echo "layers.sh: $svc/$layer: no such directory" >&2
		exit 2
	fi
done

# The file names come on standard input, so that one awk sees them all.
find "$svc" -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort |
	awk -v prefix="$svc/" -v expected="$expected" '
function rule(layer, re, why) {
	n++
	rule_layer[n] = layer
	rule_re[n] = re
	rule_why[n] = why
}
function check(file, rel, layer, line, lineno, path, i) {
	layer = rel
	sub(/\/.*/, "", layer)
	while ((getline line < file) > 0) {
		lineno++
		if (line !~ /^[ \t]*#[ \t]*include[ \t]*[<"]/)
			continue
		path = line
		sub(/^[ \t]*#[ \t]*include[ \t]*[<"]/, "", path)
		sub(/[>"].*$/, "", path)
		for (i = 1; i <= n; i++)
			if (rule_layer[i] == layer && path ~ rule_re[i]) {
				printf "service/%s:%d: #include %s: %s\n", rel, lineno, path, rule_why[i]
				bad++
			}
	}
	close(file)
}
BEGIN {
	pb = "^protobuf-c/|\\.pb-c\\.h$"
	rule("domain", "(^|/)(store|rpc|auth|http)/", "the domain includes no layer above it nor the store adapter (it owns the port, domain/store.h)")
	rule("domain", "^nng/|^sqlite3\\.h$|^libpq-fe\\.h$|" pb, "the domain includes no nng, protobuf or SQL header")
	rule("auth", "(^|/)(domain|store|rpc|http)/", "auth/ stands on base/ alone: no domain, store or rpc")
	rule("auth", "^nng/|^sqlite3\\.h$", "auth/ includes no nng or SQLite header")
	rule("store", "(^|/)(rpc|auth|http)/", "the store is an adapter of the domain: no rpc or auth")
	rule("store", "^nng/|" pb, "the store includes no nng or protobuf header")
	rule("crypto", "(^|/)(domain|store|rpc|auth|http)/", "crypto/ stands on base/ alone")
	rule("base", "(^|/)(domain|store|rpc|auth|crypto|http)/", "base/ is the bottom layer")
	rule("rpc", "(^|/)http/", "rpc/ knows no face above it: the HTTP face stands on rpc/, not the reverse")
	rule("http", "(^|/)store/|^sqlite3\\.h$|^libpq-fe\\.h$", "the HTTP face reaches the store only through the domain, as rpc/ does")
}
{
	check($0, substr($0, length(prefix) + 1))
	files++
}
END {
	printf "layers: %d files, %d violation%s\n", files, bad, bad == 1 ? "" : "s"
	if (bad + 0 != expected + 0) {
		if (expected + 0 > 0)
			printf "layers: expected %d violations\n", expected
		exit 1
	}
}'
