#!/usr/bin/env bash
# The HTTP face's page (/, /assets/NAME) as a hostile peer uses it, over real sockets against a
# real onboardd (tests/unit/test_http.c drives the same routes without sockets):
#  - pipelined requests whose replies have no body (HEAD, a 304) still frame the ones after
#    them, and every reply carries the page's security headers;
#  - idle keep-alive connections cannot keep a newcomer out at --http-max-connections: the one
#    that waited longest makes room;
#  - a connection that never says anything is cut by the head timeout (10 s), not held for the
#    idle timeout (300 s): zero bytes would otherwise hold a slot five minutes each;
#  - new connections beyond --max-accept-rate wait in the backlog and are all served.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
lib_init_ipc ob-http-attack
py=/usr/bin/python3

onboardd_start_http http "$url" --db "$dir/onboard.db" --http-max-connections 8 \
	--http-max-connections-per-peer 4

# ---- pipelining: HEAD, a 304 and two GETs in one write ------------------------------------
out=$($py - "$port" 2>&1 <<'EOF'
import socket, sys
port = int(sys.argv[1])

def replies(data, bodiless):
    """The replies to the requests in data, framed as RFC 9112 says: no body after HEAD or 304."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    s.sendall(data)
    buf, out = b"", []
    while len(out) < len(bodiless):
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return out, buf
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            fields.setdefault(k.strip().lower(), []).append(v.strip())
        status = int(lines[0].split()[1])
        n = 0 if bodiless[len(out)] or status == 304 else int(fields["content-length"][0])
        while len(buf) < n:
            chunk = s.recv(65536)
            if not chunk:  # closed inside a body: the caller sees the short reply
                out.append((status, fields, buf))
                return out, b""
            buf += chunk
        out.append((status, fields, buf[:n]))
        buf = buf[n:]
    s.settimeout(0.5)
    try:
        buf += s.recv(65536)
    except socket.timeout:
        pass
    return out, buf

get = lambda path, extra=b"": b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n"
(first,), _ = replies(get(b"/"), [False])
etag = first[1]["etag"][0].encode()
data = (b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + get(b"/", b"If-None-Match: " + etag + b"\r\n") +
        get(b"/assets/app.js") + get(b"/nothing") + get(b"/healthz"))
got, rest = replies(data, [True, False, False, False, False])
print("statuses", " ".join(str(r[0]) for r in got), "left over", len(rest))
print("HEAD length", got[0][1].get("content-length") == [str(len(first[2]))])
print("304 length", got[1][1].get("content-length"))
print("app.js", got[2][2][:2] == b"//")
print("nosniff on all", all(r[1].get("x-content-type-options") == ["nosniff"] for r in got))
print("policy on all", all("default-src 'none'" in r[1].get("content-security-policy", [""])[0]
                          for r in got))
EOF
)
expect "pipelined replies framed" "statuses 200 304 200 404 200 left over 0" "$out"
expect "HEAD has the GET's length" "HEAD length True" "$out"
expect "a 304 has no Content-Length" "304 length None" "$out"
expect "the reply after a 304 is the file" "app.js True" "$out"
expect "nosniff on every reply" "nosniff on all True" "$out"
expect "a policy on every reply" "policy on all True" "$out"

# ---- the connection cap and idle keep-alive connections -----------------------------------
out=$($py - "$port" 2>&1 <<'EOF'
import socket, sys
port = int(sys.argv[1])
req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

def ask(s):
    s.sendall(req)
    return s.recv(4096).split(b"\r\n")[0].decode()

def connect(source):
    s = socket.create_connection(("127.0.0.1", port), source_address=(source, 0))
    s.settimeout(10)
    return s

# 4 from each of two addresses (--http-max-connections-per-peer 4): the cap of 8 is reached.
conns = [connect("127.0.0.%d" % (1 + i // 4)) for i in range(8)]
print("idle ones:", " ".join(sorted(set(ask(c) for c in conns))))
# An address at its own cap is refused, and closes nobody's connection by trying.
refused = connect("127.0.0.2")
refused.settimeout(2)  # a refusal is written at once, before any request
try:
    print("at its address's cap:", refused.recv(4096).split(b"\r\n")[0].decode())
except socket.timeout:
    print("at its address's cap: admitted")
print("after it:", " ".join(sorted(set(ask(c) for c in conns))))
new = connect("127.0.0.3")
print("newcomer:", ask(new))
conns[0].settimeout(2)
try:
    print("oldest idle:", "closed" if conns[0].recv(4096) == b"" else "answered")
except socket.timeout:
    print("oldest idle: open")
except OSError:
    print("oldest idle: closed")
print("next idle:", ask(conns[1]))
EOF
)
expect "8 idle keep-alive connections" "idle ones: HTTP/1.1 200 OK" "$out"
expect "an address at its cap is refused" "at its address's cap: HTTP/1.1 503" "$out"
expect "its attempt closed no one" "after it: HTTP/1.1 200 OK" "$out"
expect "a newcomer at the cap is served" "newcomer: HTTP/1.1 200 OK" "$out"
expect "the longest idle made room" "oldest idle: closed" "$out"
expect "the others stay" "next idle: HTTP/1.1 200 OK" "$out"

# ---- a silent connection ------------------------------------------------------------------
out=$($py - "$port" 2>&1 <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)  # --idle-timeout is 300 s: closed well before means the head timeout did it
try:
    print("silent:", "closed" if s.recv(4096) == b"" else "answered")
except socket.timeout:
    print("silent: still open after 60 s")
except OSError:
    print("silent: closed")
EOF
)
expect "a connection that says nothing is closed" "silent: closed" "$out"
hcall_ok=$(curl -sS -o /dev/null -w '%{http_code}' "$base/healthz")
expect "the face serves after all that" 200 "$hcall_ok"
expect_clean_stop

# ---- accepts paced: a burst of new connections waits in the backlog, none is lost ----------
# --max-accept-rate 4: 4 at once, then 4 a second, so the last of 12 cannot be answered
# before 1.75 s (a lower bound, which no slow machine breaks); the pacing is logged.
onboardd_start_http http "$url" --db "$dir/onboard.db" --max-accept-rate 4
out=$($py - "$port" 2>&1 <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
start = time.monotonic()
conns = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(12)]
for s in conns:
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
ok = 0
for s in conns:
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    ok += data.startswith(b"HTTP/1.1 200")
print("answered", ok, "of 12; paced", time.monotonic() - start >= 1.5)
EOF
)
expect "12 new connections answered, paced" "answered 12 of 12; paced True" "$out"
expect "the pacing is logged" "new connections a second" "$(cat "$log")"
paused=$(curl -sS "$base/metrics" | sed -n 's/^onboard_refusals_total{face="http",reason="accept_paused"} //p')
expect "the pauses are counted in /metrics" "yes" "$([ "${paused:-0}" -ge 1 ] && echo yes || echo "no: '$paused'")"
finish "http_attack"
