#!/usr/bin/env bash
# onboardd --http against curl, as a person trying the API would call it: every method with
# JSON (and the proto encoding), Connect's errors with their HTTP statuses, GET for the reads,
# deadlines, the probes, and attacks on the face itself (oversized heads and bodies, chunked
# bodies, malformed, unknown-field, deeply nested and non-UTF-8 JSON, wrong content types,
# slowloris, many idle connections), each of which must get a clear status while the nng face
# keeps serving. Then the Python example client (examples/python) and the /metrics parse
# (tests/integration/http_python.py), and the Connect client from npm (tests/connect).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
lib_init ob-http

: "${ONBOARD_PROTO_DIR:?the proto/ directory (meson test sets it)}"
py=/usr/bin/python3 # Debian's, with python3-protobuf and python3-prometheus-client

# ---- keys, the server -------------------------------------------------------------------

ob() { "$ONBOARD_CLI" --timeout 10s "$@"; }
for role in admin reviewer applicant; do
	run "keygen $role" 0 ob keygen --out "$dir/$role.key" --role $role --label "http $role" || exit 1
	sed -n '/^keyring line:$/{n;p}' "$dir/out" >>"$dir/keyring"
done

sock="ipc://$dir/onboardd.sock"
onboardd_start_http http "$sock" --db "$dir/onboard.db" --keyring "$dir/keyring" \
	--trust-local yes --max-request-bytes 4096 --http-max-connections-per-peer 16

protoc --proto_path="$ONBOARD_PROTO_DIR" --python_out="$dir/py" "$ONBOARD_PROTO_DIR"/onboard/v1/*.proto 2>"$dir/err" ||
	{ mkdir -p "$dir/py" && protoc --proto_path="$ONBOARD_PROTO_DIR" --python_out="$dir/py" \
		"$ONBOARD_PROTO_DIR"/onboard/v1/*.proto; } || die "protoc --python_out failed"
client=("$py" "$here/../../examples/python/onboard_http.py" --server "$base")
token() { PYTHONPATH="$dir/py" "${client[@]}" --key "$dir/$1.key" token; }
admin=$(token admin) || die "the Python client could not log in"
applicant=$(token applicant) || die "the applicant could not log in"
[ -n "$admin" ] || die "no token"
# curl reads the tokens' headers from files ($dir is ours alone, and -H @FILE keeps them off
# curl's command line, which any local user can read).
printf 'Authorization: Bearer %s\n' "$admin" >"$dir/admin.header"
printf 'Authorization: Bearer %s\n' "$applicant" >"$dir/applicant.header"

# hcall NAME WANT_STATUS METHOD PATH [CURL ARGS...]: one request; the body lands in $dir/out,
# the status in $status; checks the status.
hcall() {
	local name=$1 want=$2 method=$3 path=$4
	shift 4
	status=$(curl -sS -o "$dir/out" -w '%{http_code}' -X "$method" "$@" "$base$path" 2>"$dir/err")
	checks=$((checks + 1))
	if [ "$status" != "$want" ]; then
		fail "$name: HTTP $status, want $want: $(head -c 400 "$dir/out")"
		return 1
	fi
	echo "ok: $name"
}
# rpc NAME WANT_STATUS METHOD_PATH JSON [CURL ARGS...]: a JSON RPC with the admin's token.
rpc() {
	local name=$1 want=$2 path=$3 body=$4
	shift 4
	hcall "$name" "$want" POST "$path" -H 'Content-Type: application/json' \
		-H @"$dir/admin.header" --data-binary "$body" "$@"
}
code_is() { expect_eq "$(json 'j["code"]')" "$1" "$2"; }

# ---- the probes -------------------------------------------------------------------------

hcall "/healthz" 200 GET /healthz && expect_eq "$(cat "$dir/out")" ok "/healthz says ok"
hcall "/readyz" 200 GET /readyz && expect_eq "$(cat "$dir/out")" ready "/readyz says ready"
hcall "POST /healthz" 405 POST /healthz
hcall "an unknown path" 404 GET /nothing-here && code_is not_found "an unknown path's code"

# ---- every method with JSON ---------------------------------------------------------------

rpc "ListServices" 200 /onboard.v1.Reflection/ListServices '{}'
$py -c 'import json,sys
for s in json.load(open(sys.argv[1]))["services"]:
    for m in s["methods"]: print(m["fullName"])' "$dir/out" >"$dir/methods"
expect_eq "$(wc -l <"$dir/methods")" "$(grep -c '^  rpc ' "$ONBOARD_PROTO_DIR"/onboard/v1/*.proto |
	awk -F: '{n += $2} END {print n}')" "ListServices names every rpc of the .proto files"
# Each method, called with {} by the admin: a reply, or a refusal of that request in Connect's
# format, never "no such method" or a transport error.
while read -r m; do
	case $m in
	*/RotateKeys | */EraseContact) continue ;; # they change keys or erase: called below
	esac
	status=$(curl -sS -o "$dir/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-H @"$dir/admin.header" --data-binary '{}' "$base$m")
	checks=$((checks + 1))
	case $status in
	200) $py -c 'import json,sys; json.load(open(sys.argv[1]))' "$dir/out" ||
		fail "$m: 200 without a JSON body" ;;
	400 | 401 | 403 | 404 | 409 | 429 | 500 | 503 | 504)
		c=$(json 'j["code"]')
		case $c in
		"" | unimplemented) fail "$m: HTTP $status, code '$c'" ;;
		esac
		[ "$status" != 404 ] || [ "$c" = not_found ] || fail "$m: 404 with code $c"
		;;
	*) fail "$m: HTTP $status" ;;
	esac
	echo "ok: $m with {} -> $status"
done <"$dir/methods"

# SetCohortCapacity with {} set the default cohort's capacity to the seats held (0): back to 800.
rpc "SetCohortCapacity" 200 /onboard.v1.Onboarding/SetCohortCapacity '{"id": "2020-11", "capacity": 800}' &&
	expect_eq "$(json 'j["seatsFree"]')" 800 "the capacity is restored"
rpc "GetCohort" 200 /onboard.v1.Onboarding/GetCohort '{}' &&
	expect_eq "$(json 'j["cohort"]["id"]')" 2020-11 "GetCohort's JSON names the default cohort"
rpc "WhoAmI" 200 /onboard.v1.Auth/WhoAmI '{}' &&
	expect_eq "$(json 'j["role"]')" admin "the bearer token is the admin's"
app='{"company": {"siren": "123456782", "legalName": "Boulangerie HTTP", "nafCode": "10.71C",
  "legalForm": "LEGAL_FORM_EI",
  "employees": 4, "turnoverEur": "180000", "balanceSheetEur": "90000",
  "address": {"street": "12 rue des Lilas", "postalCode": "75011", "city": "Paris"}},
 "contact": {"name": "Marie Essai", "email": "marie@example.fr", "phone": "01 99 00 12 34"},
 "channel": "CHANNEL_MARKETPLACE", "acceptsTerms": true}'
rpc "SubmitApplication" 200 /onboard.v1.Onboarding/SubmitApplication "$app" -H 'Idempotency-Key: k-1' &&
	expect_eq "$(json 'j["state"]')" APPLICATION_STATE_SUBMITTED "the submission holds a seat"
id=$(json 'j["id"]')
rpc "the same key again" 200 /onboard.v1.Onboarding/SubmitApplication "$app" -H 'Idempotency-Key: k-1' -i
expect "a replay says so" "Idempotency-Replayed: true" "$(cat "$dir/out")"
rpc "another body with that key" 400 /onboard.v1.Onboarding/SubmitApplication '{"acceptsTerms": true}' \
	-H 'Idempotency-Key: k-1' && code_is invalid_argument "a key reused for another request"
rpc "the same SIREN again" 409 /onboard.v1.Onboarding/SubmitApplication "$app" &&
	code_is already_exists "a duplicate is already_exists"
rpc "GetApplication" 200 /onboard.v1.Onboarding/GetApplication "{\"id\": \"$id\"}" &&
	expect_eq "$(json 'j["company"]["legalName"]')" "Boulangerie HTTP" "GetApplication reads it back"
hcall "the applicant cannot see it" 404 POST /onboard.v1.Onboarding/GetApplication \
	-H 'Content-Type: application/json' -H @"$dir/applicant.header" \
	--data-binary "{\"id\": \"$id\"}" && code_is not_found "another's application does not exist"
hcall "the applicant may not create cohorts" 403 POST /onboard.v1.Onboarding/CreateCohort \
	-H 'Content-Type: application/json' -H @"$dir/applicant.header" \
	--data-binary '{"cohort": {"id": "x", "capacity": 1}}' && code_is permission_denied "a role's refusal"

# application/proto: the same method, bytes in and out (an empty GetCohortRequest is 0 bytes).
hcall "GetCohort as proto" 200 POST /onboard.v1.Onboarding/GetCohort \
	-H 'Content-Type: application/proto' -H @"$dir/admin.header" --data-binary ''
checks=$((checks + 1))
grep -q 2020-11 "$dir/out" || fail "the proto reply holds the cohort id"

# ---- errors in Connect's format ----------------------------------------------------------

rpc "a bad SIREN" 400 /onboard.v1.Onboarding/SubmitApplication \
	'{"company": {"siren": "123456789"}, "acceptsTerms": true}' && {
	code_is invalid_argument "a validation failure"
	expect_eq "$(json 'j["details"][0]["type"]')" google.rpc.BadRequest "violations travel as BadRequest"
	expect_eq "$(json '[v["field"] for v in j["details"][0]["debug"]["fieldViolations"]].count("company.siren")')" \
		1 "the SIREN's violation is named"
}
hcall "no token" 401 POST /onboard.v1.Onboarding/GetCohort -H 'Content-Type: application/json' \
	--data-binary '{}' && code_is unauthenticated "a call without a token"
hcall "a bad token" 401 POST /onboard.v1.Onboarding/GetCohort -H 'Content-Type: application/json' \
	-H 'Authorization: Bearer nonsense' --data-binary '{}' && code_is unauthenticated "a forged token"
hcall "Basic auth" 400 POST /onboard.v1.Onboarding/GetCohort -H 'Content-Type: application/json' \
	-H 'Authorization: Basic YTpi' --data-binary '{}' && code_is invalid_argument "only Bearer"
rpc "an unknown method" 404 /onboard.v1.Onboarding/Nope '{}' && code_is unimplemented "unknown method"
rpc "malformed JSON" 400 /onboard.v1.Onboarding/GetCohort '{"id": ' && code_is invalid_argument "bad JSON"
rpc "an unknown field" 400 /onboard.v1.Onboarding/GetCohort '{"nope": 1}' && code_is invalid_argument "unknown field"
rpc "a wrong type" 400 /onboard.v1.Onboarding/GetCohort '{"id": 5}' &&
	expect_eq "$(json 'j["details"][0]["debug"]["fieldViolations"][0]["field"]')" id "the field is named"
rpc "deep nesting" 400 /onboard.v1.Onboarding/GetCohort "$($py -c 'print("[" * 2000 + "]" * 2000)')" &&
	code_is invalid_argument "deeply nested JSON"
printf '{"id": "\xff\xfe"}' >"$dir/bad-utf8.json"
rpc "non-UTF-8 JSON" 400 /onboard.v1.Onboarding/GetCohort "@$dir/bad-utf8.json" &&
	code_is invalid_argument "invalid UTF-8"
hcall "a wrong content type" 415 POST /onboard.v1.Onboarding/GetCohort -H 'Content-Type: text/plain' \
	-H @"$dir/admin.header" --data-binary '{}'
hcall "no content type" 415 POST /onboard.v1.Onboarding/GetCohort -H 'Content-Type:' \
	-H @"$dir/admin.header" --data-binary '{}'
rpc "Connect-Protocol-Version 2" 400 /onboard.v1.Onboarding/GetCohort '{}' -H 'Connect-Protocol-Version: 2'
rpc "gzip" 400 /onboard.v1.Onboarding/GetCohort '{}' -H 'Content-Encoding: gzip'
rpc "an expired deadline" 504 /onboard.v1.Onboarding/GetCohort '{}' -H 'Connect-Timeout-Ms: 0' &&
	code_is deadline_exceeded "Connect-Timeout-Ms: 0 has passed when the call starts"
rpc "a bad deadline" 400 /onboard.v1.Onboarding/GetCohort '{}' -H 'Connect-Timeout-Ms: soon'
rpc "a generous deadline" 200 /onboard.v1.Onboarding/GetCohort '{}' -H 'Connect-Timeout-Ms: 60000'

# ---- GET for the reads --------------------------------------------------------------------

hcall "GET GetCohort" 200 GET '/onboard.v1.Onboarding/GetCohort?encoding=json&message=%7B%7D&connect=v1' \
	-H @"$dir/admin.header" &&
	expect_eq "$(json 'j["cohort"]["id"]')" 2020-11 "GET answers as POST does"
hcall "GET with base64" 200 GET "/onboard.v1.Onboarding/GetApplication?encoding=json&base64=1&message=$(
	printf '{"id":"%s"}' "$id" | base64 -w0 | tr '+/' '-_' | tr -d '=')" -H @"$dir/admin.header"
hcall "GET of a write" 405 GET '/onboard.v1.Onboarding/SubmitApplication?encoding=json&message=%7B%7D' \
	-H @"$dir/admin.header"
hcall "GET without encoding" 400 GET '/onboard.v1.Onboarding/GetCohort?message=%7B%7D' \
	-H @"$dir/admin.header"
hcall "grpc.health.v1 by its name" 200 POST /grpc.health.v1.Health/Check \
	-H 'Content-Type: application/json' --data-binary '{}' &&
	expect_eq "$(json 'j["status"]')" SERVING "grpc.health.v1.Health/Check answers SERVING"

# ---- the face's own limits -----------------------------------------------------------------

head -c 6000 /dev/zero | tr '\0' 'a' >"$dir/big"
hcall "an oversized body" 413 POST /onboard.v1.Onboarding/GetCohort -H 'Content-Type: application/json' \
	--data-binary "@$dir/big" && code_is resource_exhausted "413 is resource_exhausted"
head -c 100000 /dev/zero | tr '\0' 'a' >"$dir/huge"
hcall "a huge body" 413 POST /onboard.v1.Onboarding/GetCohort -H 'Content-Type: application/json' \
	--data-binary "@$dir/huge"
# Chunked bodies (connect-node sends them) are decoded under the same cap, never taken as empty.
rpc "a chunked body" 200 /onboard.v1.Onboarding/GetApplication "{\"id\": \"$id\"}" \
	-H 'Transfer-Encoding: chunked' &&
	expect_eq "$(json 'j["id"]')" "$id" "a chunked body is read whole"
hcall "an oversized chunked body" 413 POST /onboard.v1.Onboarding/GetCohort \
	-H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$dir/big" &&
	code_is resource_exhausted "a chunked body over the cap"

hcall "an oversized head" 431 GET /healthz -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' 'b')"
hcall "HTTP/1.0" 200 GET /healthz --http1.0

# Raw bytes no client library would send; each gets an answer and the server lives on.
raw() { # raw NAME WANT_PREFIX BYTES
	$py - "$port" "$3" >"$dir/out" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
print(s.recv(200).decode("latin-1").split("\r\n")[0])
EOF
	expect "$1" "$2" "$(cat "$dir/out")"
}
raw "garbage" "HTTP/1.1 400" 'hello there\r\n\r\n'
raw "HTTP/2's preface" "HTTP/1.1 505" 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
raw "a bare LF" "HTTP/1.1 400" 'GET /healthz HTTP/1.1\nHost: x\n\n'
raw "a NUL in the head" "HTTP/1.1 400" 'GET /healthz HTTP/1.1\r\nX: a\x00b\r\n\r\n'
raw "two Content-Lengths" "HTTP/1.1 400" 'POST /healthz HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'
raw "a control byte in a value" "HTTP/1.1 400" 'GET /healthz HTTP/1.1\r\nX: a\x01\r\n\r\n'
raw "gzip transfer coding" "HTTP/1.1 501" 'POST /healthz HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n'
raw "a malformed chunk" "HTTP/1.1 400" 'POST /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'
raw "chunked and Content-Length" "HTTP/1.1 400" 'POST /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n'

# Slowloris: a head one byte a second is closed after --http's head timeout (10 s), while
# the faces answer others meanwhile. Many idle connections: past 16 from one address
# (--http-max-connections-per-peer) the next gets 503 at once, and the nng face does not notice.
$py - "$port" >"$dir/slow.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 100
start = time.monotonic()
s.settimeout(1)
try:
    for i, b in enumerate(head):
        s.send(bytes([b]))
        if i == 2:
            print("started", flush=True)
        try:
            got = s.recv(100)  # waits up to a second: the pace of the attack
        except socket.timeout:
            continue
        # An answer would be a refusal (a 503 at the cap, say): not what is tested here.
        print("closed" if got == b"" else "answered: %r" % got[:40]); sys.exit(0)
except OSError:
    print("closed"); sys.exit(0)
print("never closed"); sys.exit(1)
EOF
slow=$!
# The idle connections below must not take its place: it connects first.
for _ in $(seq 500); do
	grep -q started "$dir/slow.out" 2>/dev/null && break
	sleep 0.02
done
$py - "$port" >"$dir/idle.out" <<'EOF'
import socket, sys
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(24)]
answers = []
for c in conns[17:]:  # the slowloris connection holds one of the 16 slots
    c.settimeout(0.2)
    try:
        answers.append(c.recv(100).split(b"\r\n")[0].decode())
    except socket.timeout:
        answers.append("open")
print(" ".join(sorted(set(answers))))
EOF
expect "past the per-peer cap, 503" "HTTP/1.1 503" "$(cat "$dir/idle.out")"
run "the nng face serves meanwhile" 0 ob -s "$sock" health
hcall "HTTP serves again once they close" 200 GET /healthz
wait "$slow"
checks=$((checks + 1))
grep -q '^closed$' "$dir/slow.out" || fail "slowloris: $(cat "$dir/slow.out")"
echo "ok: a head sent a byte a second is cut off"
hcall "HTTP serves after all that" 200 GET /healthz
run "the nng face too" 0 ob -s "$sock" health

# ---- the Python example, /metrics, and the Connect client from npm ------------------------

run "Python: examples/python against the face" 0 env PYTHONPATH="$dir/py" "$py" \
	"$here/http_python.py" "$base" "$dir" && cat "$dir/out"

node_dir="$here/../connect"
checks=$((checks + 1))
if [ ! -d "$node_dir/node_modules/@connectrpc/connect-node" ]; then
	fail "tests/connect/node_modules is missing: tools/install-deps.sh installs node and runs npm ci"
else
	mkdir -p "$dir/node/gen"
	ln -s "$(cd "$node_dir" && pwd)/node_modules" "$dir/node/node_modules"
	cp "$node_dir/client.mjs" "$dir/node/"
	protoc --proto_path="$ONBOARD_PROTO_DIR" \
		--plugin=protoc-gen-es="$node_dir/node_modules/.bin/protoc-gen-es" \
		--plugin=protoc-gen-connect-es="$node_dir/node_modules/.bin/protoc-gen-connect-es" \
		--es_out="$dir/node/gen" --es_opt=target=js \
		--connect-es_out="$dir/node/gen" --connect-es_opt=target=js \
		"$ONBOARD_PROTO_DIR"/onboard/v1/*.proto || fail "protoc-gen-es failed"
	run "node: @connectrpc/connect-node against the face" 0 node "$dir/node/client.mjs" "$base" \
		"$dir/applicant.key" "$(awk '$2 == "applicant" {print $1}' "$dir/keyring")" && cat "$dir/out"
fi

expect_clean_stop

# ---- https:// with the --tls-* files ----------------------------------------------------------
# A self-signed EC P-256 certificate for 127.0.0.1 (as a dNSName too: mbedTLS 2.28 matches
# those only, see tls.sh); curl verifies it, and plain HTTP to the TLS port gets no answer.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1" \
	-keyout "$dir/tls.key" -out "$dir/tls.pem" 2>"$dir/openssl.err" || die "openssl: $(cat "$dir/openssl.err")"
chmod 600 "$dir/tls.key"
onboardd_start_http https "ipc://$dir/tls.sock" --db "$dir/tls.db" --keyring "$dir/keyring" \
	--tls-cert "$dir/tls.pem" --tls-key "$dir/tls.key"
hcall "https /readyz" 200 GET /readyz --cacert "$dir/tls.pem"
hcall "https Health/Check" 200 POST /grpc.health.v1.Health/Check --cacert "$dir/tls.pem" \
	-H 'Content-Type: application/json' --data-binary '{}' &&
	expect_eq "$(json 'j["status"]')" SERVING "Health/Check over TLS"
admin=$(PYTHONPATH="$dir/py" "$py" -c 'import ssl, sys, urllib.request
sys.path.insert(0, sys.argv[1])
ctx = ssl.create_default_context(cafile=sys.argv[4])
urllib.request.install_opener(urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx)))
from onboard_http import Client
c = Client(sys.argv[2]); c.login(sys.argv[3]); print(c.token)' "$here/../../examples/python" "$base" \
	"$dir/admin.key" "$dir/tls.pem") || fail "a login over https"
printf 'Authorization: Bearer %s\n' "$admin" >"$dir/admin.header"
rpc "GetCohort over https" 200 /onboard.v1.Onboarding/GetCohort '{}' --cacert "$dir/tls.pem"
checks=$((checks + 1))
if curl -s -m 5 -o /dev/null "http://127.0.0.1:$port/healthz"; then
	fail "plain HTTP to the TLS port was answered"
else
	echo "ok: plain HTTP to the TLS port gets no answer"
fi
expect_clean_stop
finish "http"
