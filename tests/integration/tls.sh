#!/usr/bin/env bash
# tls.sh: onboardd on tls+tcp:// and tcp://, and the onboard CLI against it,
# with certificates made here by openssl: a CA, a server certificate and a
# client certificate, all ECDSA P-256 (Debian's nng uses mbedTLS 2.28: TLS 1.2
# only, no Ed25519 certificates).
#
# Checks: a client that trusts the CA is served; one without --tls-ca, or
# trusting another CA, fails with exit status 1 and a message; the trusted
# local ipc peer does not exist on tcp (health is public, whoami needs a key,
# and a key works over TLS); with --tls-ca on the server, a client without a
# certificate (or with one from another CA) is refused and one with a
# certificate of the CA is served; plain tcp:// on 0.0.0.0 logs a warning and
# on 127.0.0.1 does not.
#
# Needs ONBOARDD and ONBOARD_CLI (meson test sets both), openssl (installed by
# tools/install-deps.sh: without it the test fails, since a skip would leave TLS
# untested unnoticed) and, preferably, python3 (to find a free port). Everything lives in a private temporary directory; every
# onboardd started here is stopped on exit, whatever happens.
set -euo pipefail

: "${ONBOARDD:?path of onboardd}"
: "${ONBOARD_CLI:?path of the onboard CLI}"
if ! command -v openssl >/dev/null 2>&1; then
	echo "FAIL: openssl is not installed (tools/install-deps.sh installs it)" >&2
	exit 1
fi

. "$(dirname "$0")/lib.sh"
lib_init ob-tls
servers=0

# ---- certificates -----------------------------------------------------------

# openssl writes what it did on stderr even when it succeeds: keep it in a
# file, shown only on failure.
ossl() {
	if ! openssl "$@" >>"$dir/openssl.log" 2>&1; then
		cat "$dir/openssl.log" >&2
		echo "FAIL: openssl $1 failed" >&2
		exit 1
	fi
}

ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

# make_ca NAME: NAME.key and the self-signed NAME.pem.
make_ca() {
	ossl req -x509 "${ec[@]}" -keyout "$dir/$1.key" -out "$dir/$1.pem" -days 2 \
		-subj "/CN=onboard test $1" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
}

# make_cert NAME CA CN EXTENSIONS: NAME.key and NAME.pem, signed by CA.
make_cert() {
	ossl req -new "${ec[@]}" -keyout "$dir/$1.key" -out "$dir/$1.csr" -subj "/CN=$3"
	printf '%s\n' "$4" "basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature" >"$dir/$1.ext"
	ossl x509 -req -in "$dir/$1.csr" -CA "$dir/$2.pem" -CAkey "$dir/$2.key" \
		-CAcreateserial -out "$dir/$1.pem" -days 2 -extfile "$dir/$1.ext"
	chmod 600 "$dir/$1.key"
}

make_ca ca
make_ca other-ca
# mbedTLS 2.28 does not match iPAddress entries of subjectAltName: it checks
# the name the client asks for (the URL's host, here 127.0.0.1) against the
# dNSName entries only, or against the CN when there is no subjectAltName. The
# address is therefore also listed as a dNSName, which is what verifies; the
# iPAddress entry is for other TLS stacks (OpenSSL, Go). See server-iponly
# below.
make_cert server ca 127.0.0.1 \
	"subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:127.0.0.1
extendedKeyUsage=serverAuth"
make_cert server-iponly ca 127.0.0.1 \
	"subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
make_cert client ca "onboard test client" "extendedKeyUsage=clientAuth"
make_cert intruder other-ca "onboard test intruder" "extendedKeyUsage=clientAuth"
echo "ok: certificates made (EC P-256)"

# ---- onboardd -----------------------------------------------------------------

# start_server SCHEME HOST ARGS...: starts onboardd listening on SCHEME://HOST:PORT with a
# free PORT and ARGS, its own database and its log in $log, and waits (up to 10 s) until it
# listens. Sets $pid, $port, $log. A port taken between free_port and the bind is retried
# with another one.
start_server() {
	local scheme=$1 host=$2
	shift 2
	for _ in 1 2 3 4 5; do
		servers=$((servers + 1))
		port=$(free_port)
		log="$dir/onboardd-$servers.log"
		onboardd_try_start "$scheme://$host:$port" --db "$dir/onboard-$servers.db" \
			--no-access-log "$@" && return 0
		if ! grep -q "cannot listen" "$log"; then
			cat "$log" >&2
			die "onboardd exited before serving"
		fi
	done
	cat "$log" >&2
	die "no free port after 5 attempts"
}

# stop_server: SIGTERM, and a clean drain exits 0.
stop_server() {
	expect_clean_stop
}

ob() { "$ONBOARD_CLI" --timeout 10s "$@"; }

# A key and a keyring, to show that authentication works over TLS too.
run "keygen" 0 ob keygen --out "$dir/reviewer.key" --role reviewer --label "tls test" || exit 1
sed -n '/^keyring line:$/{n;p}' "$dir/out" >"$dir/keyring"
[ -s "$dir/keyring" ] || fail "keygen printed no keyring line"

# ---- the private key is a secret file ---------------------------------------

# A TLS key that others can read, or that is not onboardd's user's, is refused
# at start with a message that says why (common/secretfile.h's rules).
cp "$dir/server.key" "$dir/open.key"
chmod 644 "$dir/open.key"
rc=0
"$ONBOARDD" --listen "tls+tcp://127.0.0.1:$(free_port)" --db "$dir/open.db" --no-access-log \
	--tls-cert "$dir/server.pem" --tls-key "$dir/open.key" >"$dir/open.log" 2>&1 </dev/null || rc=$?
if [ "$rc" -eq 0 ] || ! grep -q "refusing the TLS key: .*chmod 600" "$dir/open.log"; then
	cat "$dir/open.log" >&2
	fail "a TLS key of mode 0644 was not refused (status $rc)"
else
	echo "ok: a TLS key others can read is refused"
fi

# ---- TLS, server certificate only -------------------------------------------

start_server tls+tcp 127.0.0.1 --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" \
	--keyring "$dir/keyring"
url="tls+tcp://127.0.0.1:$port"

if run "health over TLS with --tls-ca" 0 ob --server "$url" --tls-ca "$dir/ca.pem" health; then
	[ "$out" = "SERVING" ] || fail "health over TLS: printed '$out', expected SERVING"
fi
if run "a client without --tls-ca" 1 ob --server "$url" health; then
	expect "a client without --tls-ca" "--tls-ca" "$err"
fi
if run "a client trusting another CA" 1 ob --server "$url" --tls-ca "$dir/other-ca.pem" health; then
	expect "a client trusting another CA" "cannot connect" "$err"
fi
# Over tcp there is no trusted local peer: without a key, only public methods.
if run "whoami without a key over TLS" 80 ob --server "$url" --tls-ca "$dir/ca.pem" whoami; then
	expect "whoami without a key over TLS" "UNAUTHENTICATED" "$err"
fi
if run "whoami with a key over TLS" 0 ob --server "$url" --tls-ca "$dir/ca.pem" \
	--key "$dir/reviewer.key" whoami; then
	expect "whoami with a key over TLS" "(reviewer)" "$out"
fi
# A plain tcp:// client cannot talk to a TLS listener.
run "a plain tcp client to a TLS listener" 1 ob --timeout 2s --server "tcp://127.0.0.1:$port" \
	health || true
stop_server

# Known limit, reported rather than asserted: a certificate naming 127.0.0.1
# only as an iPAddress does not verify through mbedTLS 2.28 (see above).
start_server tls+tcp 127.0.0.1 --tls-cert "$dir/server-iponly.pem" \
	--tls-key "$dir/server-iponly.key"
if ob --server "tls+tcp://127.0.0.1:$port" --tls-ca "$dir/ca.pem" health >/dev/null 2>&1; then
	echo "note: a certificate with 127.0.0.1 only as IP SAN verifies (the TLS library matches iPAddress)"
else
	echo "note: a certificate with 127.0.0.1 only as IP SAN does not verify (mbedTLS 2.x matches dNSName only)"
fi
stop_server

# ---- TLS, client certificates required -------------------------------------

start_server tls+tcp 127.0.0.1 --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" \
	--tls-ca "$dir/ca.pem"
url="tls+tcp://127.0.0.1:$port"

if run "mutual TLS: no client certificate" 1 ob --server "$url" --tls-ca "$dir/ca.pem" health; then
	expect "mutual TLS: no client certificate" "cannot connect" "$err"
fi
run "mutual TLS: a certificate of another CA" 1 ob --server "$url" --tls-ca "$dir/ca.pem" \
	--tls-cert "$dir/intruder.pem" --tls-key "$dir/intruder.key" health || true
if run "mutual TLS: a client certificate of the CA" 0 ob --server "$url" \
	--tls-ca "$dir/ca.pem" --tls-cert "$dir/client.pem" --tls-key "$dir/client.key" health; then
	[ "$out" = "SERVING" ] || fail "mutual TLS: printed '$out', expected SERVING"
fi
stop_server

# ---- plain tcp: a warning off loopback only --------------------------------

start_server tcp 0.0.0.0
if run "health over plain tcp on 0.0.0.0" 0 ob --server "tcp://127.0.0.1:$port" health; then
	[ "$out" = "SERVING" ] || fail "health over tcp: printed '$out', expected SERVING"
fi
stop_server
if grep -q "without TLS" "$log"; then
	echo "ok: tcp://0.0.0.0 logs a warning"
else
	fail "no warning for tcp://0.0.0.0:$port in the log:"
	cat "$log" >&2
fi

start_server tcp 127.0.0.1
run "health over plain tcp on 127.0.0.1" 0 ob --server "tcp://127.0.0.1:$port" health || true
stop_server
if grep -qi "warn" "$log"; then
	fail "a warning for tcp://127.0.0.1:$port in the log:"
	cat "$log" >&2
else
	echo "ok: tcp://127.0.0.1 logs no warning"
fi

finish "tls"
