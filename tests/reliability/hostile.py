#!/usr/bin/python3
"""hostile.py: the hostile-load campaign of issue 15, part 3.

A normal client (onboard-load: libonboard-client over tcp://, logged in with a reviewer's key,
GetCohort at a steady rate) measures its latency with onboardd quiet, then under each attack
in turn, each from its own process so that the attacker's work does not slow the measurer:

  connflood  connections that say hello and stay, from 40 loopback addresses (127.0.0.x)
  idle       thousands of connections that never say hello (127.0.1.x), reopened when closed
  slow       connections that start a frame and send one byte a second (127.0.4.x)
  malformed  oversized lengths, random bytes, frames that are no Request, cut frames
  pipeline   connections that pipeline ten requests and hang up (the nng 1.5.2 leak)
  login      logins with bad signatures from many addresses (127.0.2.x)
  audit      calls without a credential from many addresses, each one audited (127.0.5.x)
  http       the HTTP face: keep-alive GETs of /readyz, bad Connect calls, slow heads (127.0.3.x)

After each: onboardd's resident memory at its peak (sampled every 50 ms) against a bound
worked out from its limits (RELIABILITY.md, "Hostile load", gives the formula), and its
descriptors, which must come back to where they were before the attack.

It prints a table: per phase the normal client's calls, failures, p99 and the ratio to the
quiet p99 (with --paired, to that of a quiet phase just before the attack), onboardd's peak
memory and descriptors after, and the CPU time onboardd, the attacker and the whole machine
used (in per cent of one CPU). The quiet phases run the same new local clients as the attacks.
With --pin the attacker runs on a CPU of its own, onboardd and its measurers on the others:
on a small machine the attacker's Python otherwise takes CPU time from what it measures. It
exits 1 when the normal client had a failure, memory went over the bound, or descriptors did
not come back; the latency is reported, never asserted (the machine is shared). --short is the
suite's run (< 60 s).

Needs ONBOARDD, ONBOARD_CLI, ONBOARD_LOAD (meson test sets them), root or not.
"""
import argparse
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

KIB = 1024
# onboardd's limits as this campaign runs it (its defaults, written out so that the bound
# below follows them): service/rpc/server_impl.h and service/http/request.h for the buffers.
LIMITS = {
    "max_connections": 1024,
    "max_connections_per_peer": 64,
    "max_request_bytes": 65536,
    "contexts": 256,
    "http_max_connections": 256,
    "http_max_connections_per_peer": 32,
}
CONN_RBUF = 16 * KIB  # OB_CONN_RBUF: a connection's read buffer before a frame needs more
CONN_OVERHEAD = 8 * KIB  # the connection, its aios, nng's stream, the kernel's is not ours
# OB_CONN_TXQ_MAX: replies queued on a connection, not yet sent, before it stops reading;
# the send in progress may hold a gathered copy of as much (conn.c, tx_next)
CONN_TXQ = 64 * KIB
HTTP_MAX_HEAD = 16 * KIB  # OB_HTTP_MAX_HEAD
REPLY_BOUND = 64 * KIB  # a reply in flight here: GetCohort's, Health's, an error's


def memory_bound(base_kib):
    """The most onboardd may hold, in KiB: what it held serving quietly, plus every
    connection with a frame of the largest size being read and its queue of unsent replies
    full (with the gathered copy of the send in progress), every request in flight with
    its reply, and every HTTP connection with its largest head and body (a chunked body may
    take twice its size; server.c, read_limit)."""
    L = LIMITS
    m = L["max_request_bytes"]
    per_conn = CONN_RBUF + m + CONN_OVERHEAD + 2 * CONN_TXQ
    per_ctx = m + REPLY_BOUND
    per_http = HTTP_MAX_HEAD + 2 * m + 4 * KIB + CONN_OVERHEAD
    extra = L["max_connections"] * per_conn + L["contexts"] * per_ctx + \
        L["http_max_connections"] * per_http
    return base_kib + extra // KIB


def fd_room(nofile):
    """The descriptors onboardd keeps for its store and files (rpc/listen.c, fds_short)."""
    return min(max(nofile // 8, 32), 256)


def proc_cpu_s(pid):
    """The CPU time (user and system, in seconds) process pid has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy():
    """The machine's CPU time so far, busy and in all, in clock ticks (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    total = sum(v[:8])  # guest time is counted in user already
    return total - v[3] - v[4], total  # less idle and iowait


def pinning(o):
    """The CPUs of onboardd and its measurers (the normal client, the probes), and those of
    the attacker: with --pin, the last CPU for the attacker and the others for the rest, so
    that the attacker's Python takes no CPU time from what it measures; else all for all."""
    cpus = sorted(os.sched_getaffinity(0))
    if not o.pin:
        return set(cpus), set(cpus)
    if len(cpus) < 2:
        raise SystemExit("--pin needs two CPUs at least")
    return set(cpus[:-1]), {cpus[-1]}


def placed(cpus):
    """A preexec_fn that puts a child on cpus."""
    return lambda: os.sched_setaffinity(0, cpus)


# ---- SP framing, by hand (tcp: a 64-bit length, then a 32-bit request id and the body) ----

HELLO_REQ = b"\x00SP\x00\x00\x30\x00\x00"


def pb_varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pb_field(num, wire, value):
    key = pb_varint(num << 3 | wire)
    if wire == 0:
        return key + pb_varint(value)
    return key + pb_varint(len(value)) + value


def request(method, payload=b"", md=()):
    out = pb_field(1, 0, 1) + pb_field(2, 2, method.encode())
    for k, v in md:
        out += pb_field(3, 2, pb_field(1, 2, k.encode()) + pb_field(2, 2, v.encode()))
    if payload:
        out += pb_field(5, 2, payload)
    return out


def frame(rid, body):
    p = struct.pack(">I", 0x80000000 | rid) + body
    return struct.pack(">Q", len(p)) + p


def connect(src, port, timeout=5.0, hello=True):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    if hello:
        s.sendall(HELLO_REQ)
        got = b""
        while len(got) < 8:
            c = s.recv(8 - len(got))
            if not c:
                raise EOFError("closed during the hello")
            got += c
    return s


def drain(s, limit=1 << 20):
    """Reads what the server sends until it closes or goes quiet."""
    n = 0
    try:
        while n < limit:
            c = s.recv(65536)
            if not c:
                break
            n += len(c)
    except OSError:
        pass
    return n


# ---- the attacks, each run in a process of its own until SIGTERM ---------------------------

STOP = threading.Event()


def forever(fn, threads=4):
    def loop(i):
        rng = random.Random(i)
        while not STOP.is_set():
            try:
                fn(rng, i)
            except OSError:
                time.sleep(0.01)
            except EOFError:
                pass
    ts = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(threads)]
    for t in ts:
        t.start()
    STOP.wait()


def held(port, addrs, per, hello, keep):
    """Opens per connections from each address and keeps them open; reopens those the
    server closes. keep(s, rng) runs on each every second (None: nothing)."""
    conns = {}
    lock = threading.Lock()

    def fill(rng, i):
        for a in addrs[i::4]:
            for k in range(per):
                if STOP.is_set():
                    return
                with lock:
                    if (a, k) in conns:
                        continue
                try:
                    s = connect(a, port, timeout=2.0, hello=hello)
                except (OSError, EOFError):
                    continue
                with lock:
                    conns[(a, k)] = s
        with lock:
            items = list(conns.items())
        for key, s in items:
            try:
                if keep is not None:
                    keep(s, rng)
                else:  # closed by the server? a read of nothing says so
                    s.setblocking(False)
                    if s.recv(1, socket.MSG_PEEK) == b"":
                        raise OSError("closed")
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                with lock:
                    conns.pop(key, None)
        time.sleep(1.0)
    forever(fill, 4)


def attack_connflood(o):
    held(o.port, ["127.0.0.%d" % (2 + a) for a in range(40)], 64 if not o.short else 16, True,
         None)


def attack_idle(o):
    n_addr = 60 if not o.short else 8
    held(o.port, ["127.0.1.%d" % (1 + a) for a in range(n_addr)], 50, False, None)


def attack_slow(o):
    # A frame of 60,000 bytes announced, then one byte a second (held() calls keep once a
    # second): the started ones by descriptor, as a socket takes no attribute.
    started = set()

    def keep(s, rng):
        if s.fileno() not in started:
            s.sendall(struct.pack(">QI", 60004, 0x80000001))
            started.add(s.fileno())
        s.sendall(b"\x08")
    held(o.port, ["127.0.4.%d" % (1 + a) for a in range(10 if not o.short else 4)],
         50 if not o.short else 12, True, keep)


def attack_malformed(o):
    health = request("/onboard.v1.Health/Check")

    def one(rng, i):
        s = connect("127.0.6.%d" % (1 + rng.randrange(200)), o.port)
        kind = rng.randrange(6)
        if kind == 0:  # a length far over the cap
            s.sendall(struct.pack(">Q", 1 << 40) + os.urandom(64))
        elif kind == 1:  # just over the cap, sent whole
            body = os.urandom(LIMITS["max_request_bytes"] + 100)
            s.sendall(frame(1, body))
        elif kind == 2:  # random bytes in a good frame: no Request
            s.sendall(frame(1, os.urandom(rng.randrange(1, 2000))))
        elif kind == 3:  # a frame without a request id
            s.sendall(struct.pack(">Q", 2) + b"\x00\x01")
        elif kind == 4:  # a Request with a field of the wrong type and a huge method
            s.sendall(frame(1, pb_field(2, 0, 7) + pb_field(2, 2, b"/" * 5000)))
        else:  # a good one cut in the middle
            f = frame(1, health)
            s.sendall(f[: len(f) // 2])
        s.settimeout(0.5)
        drain(s)
        s.close()
    forever(one, 4)


def attack_pipeline(o):
    health = request("/onboard.v1.Health/Check")
    burst = b"".join(frame(k + 1, health) for k in range(10))

    def one(rng, i):
        s = connect("127.0.7.%d" % (1 + rng.randrange(200)), o.port)
        s.sendall(burst)
        s.close()
    forever(one, 4)


def attack_login(o):
    def one(rng, i):
        s = connect("127.0.2.%d" % (1 + rng.randrange(250)), o.port)
        out = b""
        for k in range(20):
            lr = pb_field(1, 2, b"%016x" % rng.getrandbits(64)) + \
                pb_field(2, 0, int(time.time() * 1000)) + pb_field(3, 2, os.urandom(16)) + \
                pb_field(4, 2, os.urandom(64))
            out += frame(k + 1, request("/onboard.v1.Auth/Login", lr))
        s.sendall(out)
        s.settimeout(2.0)
        drain(s, 4096)
        s.close()
    forever(one, 4)


def attack_audit(o):
    cohort = request("/onboard.v1.Onboarding/GetCohort", md=[("authorization", "Bearer x")])

    def one(rng, i):
        s = connect("127.0.5.%d" % (1 + rng.randrange(250)), o.port)
        s.sendall(b"".join(frame(k + 1, cohort) for k in range(20)))
        s.settimeout(2.0)
        drain(s, 4096)
        s.close()
    forever(one, 4)


def attack_http(o):
    def one(rng, i):
        s = socket.socket()
        s.bind(("127.0.3.%d" % (1 + rng.randrange(250)), 0))
        s.settimeout(2.0)
        s.connect(("127.0.0.1", o.http_port))
        kind = rng.randrange(4)
        if kind == 0:  # keep-alive probes
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n" * 20)
        elif kind == 1:  # a Connect call that is no JSON, and one too large
            body = b"{" * 3000
            s.sendall(b"POST /onboard.v1.Onboarding/GetCohort HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                      + body)
            s.sendall(b"POST /onboard.v1.Onboarding/GetCohort HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 99999999\r\n\r\n")
        elif kind == 2:  # a head that never ends, slowly
            s.sendall(b"GET /readyz HTTP/1.1\r\n")
            for _ in range(3):
                if STOP.is_set():
                    break
                s.sendall(b"X-A: b\r\n")
                time.sleep(0.5)
        else:  # garbage
            s.sendall(os.urandom(rng.randrange(1, 20000)))
        drain(s, 1 << 16)
        s.close()
    forever(one, 6)


ATTACKS = ["connflood", "idle", "slow", "malformed", "pipeline", "login", "audit", "http"]


def run_attack(o):
    signal.signal(signal.SIGTERM, lambda *a: STOP.set())
    threading.Thread(target=globals()["attack_" + o.attack], args=(o,), daemon=True).start()
    while not STOP.is_set():
        time.sleep(0.1)
    os._exit(0)  # the threads' sockets close with the process


# ---- the campaign ------------------------------------------------------------------------


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def asan_build(path):
    """Whether the program at path is built with AddressSanitizer."""
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


class Server:
    def __init__(self, o, d):
        self.o, self.d = o, d
        self.port, self.http_port = free_port(), free_port()
        self.log = open(os.path.join(d, "onboardd.log"), "ab")
        args = [o.onboardd, "--listen", "ipc://%s/onboardd.sock" % d,
                "--listen", "tcp://127.0.0.1:%d" % self.port,
                "--http", "http://127.0.0.1:%d" % self.http_port,
                "--db", os.path.join(d, "onboard.db"), "--keyring", os.path.join(d, "keyring"),
                "--no-access-log"]
        args += ["--max-connections", str(LIMITS["max_connections"]),
                 "--http-max-connections", str(LIMITS["http_max_connections"])]

        def limit():
            if o.nofile:
                import resource
                resource.setrlimit(resource.RLIMIT_NOFILE, (o.nofile, o.nofile))
            placed(o.cpus_server)()
        env = os.environ.copy()
        if asan_build(o.onboardd):
            # AddressSanitizer keeps freed memory in quarantine, 256 MiB by default: what a
            # flood frees would stay resident and pass any bound from the limits. A small
            # quarantine keeps the check meaningful in the sanitizer build.
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + \
                ":quarantine_size_mb=16:thread_local_quarantine_size_kb=256"
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, preexec_fn=limit, env=env)
        for _ in range(500):
            if b"serving\n" in open(os.path.join(d, "onboardd.log"), "rb").read():
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        raise SystemExit("onboardd did not start: " +
                         open(os.path.join(d, "onboardd.log")).read()[-2000:])

    def rss_kib(self):
        for line in open("/proc/%d/status" % self.p.pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def fds(self):
        """Its sockets: listeners and connections. Files are left out: the store's pool of
        readers opens the database's files as it grows, and keeps them."""
        n = 0
        base = "/proc/%d/fd" % self.p.pid
        for f in os.listdir(base):
            try:
                n += os.readlink(os.path.join(base, f)).startswith("socket:")
            except OSError:
                pass
        return n

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return -1


def normal_client(o, srv, d, seconds):
    """onboard-load's report (a dict) of GetCohort at o.rate a second for seconds, after a
    second's warm-up (it connects and logs in first)."""
    out = os.path.join(d, "load.json")
    cmd = [o.load, "-s", "tcp://127.0.0.1:%d" % srv.port, "-k", os.path.join(d, "normal.key"),
           "--scenario", "cohort", "--rate", str(o.rate), "-c", "8", "--warmup", "1s",
           "--duration", "%ds" % seconds, "--timeout", "5s", "--json", "--no-progress",
           "-o", out]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=placed(o.cpus_server)), out


def phase(o, srv, d, name, seconds):
    """One phase: the normal client, and the attack name (None: quiet) from 0.5 s after it
    started. Returns the figures."""
    peak = [srv.rss_kib(), srv.fds()]
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            try:
                peak[0] = max(peak[0], srv.rss_kib())
                peak[1] = max(peak[1], srv.fds())
            except OSError:
                return
            time.sleep(0.05)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    cpu0, busy0, t0 = proc_cpu_s(srv.p.pid), machine_busy(), time.time()
    client, out = normal_client(o, srv, d, seconds)
    attacker = None
    if name is not None:
        time.sleep(0.5)
        attacker = subprocess.Popen([sys.executable, __file__, "--attack", name,
                                     "--port", str(srv.port), "--http-port",
                                     str(srv.http_port)] + (["--short"] if o.short else []),
                                    preexec_fn=placed(o.cpus_attack))
    # Throughout, new clients over ipc (the local administrator), one after the other: each
    # one's connection and Health, which has the store open the database once a second,
    # need descriptors of onboardd's. The quiet phase runs them too, so that it is measured
    # as the attacks are (each is a process that takes some CPU time beside the client).
    probes = {"ok": 0, "bad": []}

    def probe():
        while client.poll() is None:
            hp = subprocess.run([o.cli, "-s", "ipc://%s/onboardd.sock" % d, "--timeout",
                                 "5s", "health"], capture_output=True, text=True,
                                preexec_fn=placed(o.cpus_server))
            if hp.stdout.strip() == "SERVING":
                probes["ok"] += 1
            else:
                probes["bad"].append((hp.stdout.strip() or hp.stderr.strip())[:120])
            time.sleep(0.2)
    pt = threading.Thread(target=probe, daemon=True)
    pt.start()
    _, err = client.communicate(timeout=seconds + 60)
    pt.join()
    # CPU time over the phase, in per cent of one CPU: onboardd's, the attacker's, the
    # machine's (everyone's: other builds and tests on a shared machine show there).
    wall = max(time.time() - t0, 1e-3)
    busy1 = machine_busy()
    cpu = {"srv": 100 * (proc_cpu_s(srv.p.pid) - cpu0) / wall, "atk": 0.0,
           "machine": 100 * os.cpu_count() * (busy1[0] - busy0[0]) /
           max(busy1[1] - busy0[1], 1)}
    if attacker is not None:
        try:
            cpu["atk"] = 100 * proc_cpu_s(attacker.pid) / (time.time() - t0 - 0.5)
        except OSError:
            pass
    if attacker is not None:
        attacker.send_signal(signal.SIGTERM)
        attacker.wait(30)
    sampling.set()
    t.join()
    try:
        rep = json.load(open(out))
    except (OSError, ValueError):
        rep = {"calls": 0, "ok": 0, "failed": 1, "latency_us": {"p99": 0},
               "errors": [err.decode(errors="replace")[-300:]]}
    return {"phase": name or "quiet", "calls": rep["calls"], "ok": rep["ok"],
            "failed": rep["failed"], "p99_us": rep["latency_us"]["p99"],
            "errors": rep.get("errors", []), "peak_rss_kib": peak[0], "peak_fds": peak[1],
            "probes": probes, "cpu": cpu}


def fds_back(srv, want, slack, wait_s):
    """Waits until onboardd holds want + slack descriptors or fewer: what it holds then."""
    end = time.time() + wait_s
    while True:
        n = srv.fds()
        if n <= want + slack or time.time() > end:
            return n
        time.sleep(0.2)


def campaign(o):
    d = tempfile.mkdtemp(prefix="ob-hostile-", dir="/tmp")
    kg = subprocess.run([o.cli, "keygen", "--out", os.path.join(d, "normal.key"), "--role",
                         "reviewer", "--label", "normal client"], capture_output=True, text=True,
                        check=True).stdout.splitlines()
    line = kg[kg.index("keyring line:") + 1]
    open(os.path.join(d, "keyring"), "w").write(line + "\n")
    srv = Server(o, d)
    failures = []
    rows = []
    seconds = 3 if o.short else o.seconds
    try:
        phase(o, srv, d, None, 1)  # warm: caches, the first login, the pools
        base_fds = srv.fds()
        quiet = phase(o, srv, d, None, seconds)
        base_rss = srv.rss_kib()
        bound = memory_bound(base_rss)
        quiet["fds_after"] = srv.fds()
        rows.append(quiet)
        for name in o.attacks:
            before = quiet
            if o.paired:
                before = phase(o, srv, d, None, seconds)
                before["phase"] = "(quiet)"
                before["fds_after"] = srv.fds()
                rows.append(before)
            r = phase(o, srv, d, name, seconds)
            r["quiet_p99_us"] = before["p99_us"]
            # The handshake and stall timeouts (10 s, 30 s) close what the attacker left
            # half-open if its close did not reach onboardd; 40 s at most.
            r["fds_after"] = fds_back(srv, base_fds, 4, 40)
            rows.append(r)
            if r["failed"] > 0 or r["calls"] == 0:
                failures.append("%s: the normal client had %d failed of %d calls: %s" %
                                (name, r["failed"], r["calls"], r["errors"][:3]))
            # With a descriptor limit of its own, onboardd keeps an eighth of it (32 to 256)
            # for its store and its files: accepts pause before (rpc/listen.c, fds_short).
            if o.nofile and r["peak_fds"] > o.nofile - fd_room(o.nofile) // 2:
                failures.append("%s: onboardd held %d descriptors of its %d, past the share "
                                "kept for its store (%d)" % (name, r["peak_fds"], o.nofile,
                                                             fd_room(o.nofile)))
            if r["peak_rss_kib"] > bound:
                failures.append("%s: onboardd's memory peaked at %d KiB, over the bound %d KiB"
                                % (name, r["peak_rss_kib"], bound))
            if r["probes"]["bad"] or r["probes"]["ok"] == 0:
                failures.append("%s: new local clients' Health during it: %d SERVING, %d not: %s"
                                % (name, r["probes"]["ok"], len(r["probes"]["bad"]),
                                   r["probes"]["bad"][:2]))
            if r["fds_after"] > base_fds + 4:
                failures.append("%s: onboardd holds %d sockets after it, %d before" %
                                (name, r["fds_after"], base_fds))
        status = srv.stop()
        if status != 0:
            failures.append("onboardd exited %d after SIGTERM" % status)
        log = open(os.path.join(d, "onboardd.log"), errors="replace").read()
        for bad in ("Too many open files", "cannot be reached", "writes fail", "error"):
            if bad in log:
                failures.append("onboardd's log says '%s': %s" % (bad, [
                    l for l in log.splitlines() if bad in l][:2]))
    finally:
        if srv.p.poll() is None:
            srv.p.kill()
    lines = ["onboard hostile load: %s, %d s a phase, normal client %d calls/s over tcp%s" %
             ("short" if o.short else "full", seconds, o.rate,
              ("; the attacker on CPU %s, onboardd and its measurers on CPU %s" % (
                  ",".join(map(str, sorted(o.cpus_attack))),
                  ",".join(map(str, sorted(o.cpus_server)))) if o.pin else "")),
             "memory bound %d KiB (quiet %d KiB + the limits' %d KiB); sockets quiet %d" %
             (bound, base_rss, bound - base_rss, base_fds),
             "%-10s %6s %6s %9s %7s %10s %12s %5s %5s %5s %5s" % (
                 "phase", "calls", "failed", "p99 ms", "x quiet", "peak KiB", "peak sockets",
                 "after", "srv%", "atk%", "all%")]
    for r in rows:
        lines.append("%-10s %6d %6d %9.1f %7.2f %10d %12d %5d %5.0f %5.0f %5.0f" % (
            r["phase"], r["calls"], r["failed"], r["p99_us"] / 1000.0,
            r["p99_us"] / max(r.get("quiet_p99_us", quiet["p99_us"]), 1),
            r["peak_rss_kib"], r["peak_fds"], r["fds_after"], r["cpu"]["srv"],
            r["cpu"]["atk"], r["cpu"]["machine"]))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if o.report:
        open(o.report, "w").write(text)
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    if o.keep or failures:
        print("kept: " + d, file=sys.stderr)
    else:
        subprocess.run(["rm", "-rf", d])
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--short", action="store_true", help="the suite's run: 3 s a phase")
    ap.add_argument("--seconds", type=int, default=20, help="a phase's length (default 20)")
    ap.add_argument("--rate", type=int, default=50, help="the normal client's calls a second")
    ap.add_argument("--only", help="these attacks, comma-separated")
    ap.add_argument("--report", help="write the table there too")
    ap.add_argument("--keep", action="store_true", help="keep the directory")
    ap.add_argument("--nofile", type=int, help="onboardd's descriptor limit (RLIMIT_NOFILE)")
    ap.add_argument("--max-connections", type=int, help="onboardd's --max-connections")
    ap.add_argument("--pin", action="store_true",
                    help="the attacker on the last CPU, onboardd and its measurers on the "
                    "others (taskset's way: sched_setaffinity)")
    ap.add_argument("--paired", action="store_true",
                    help="a quiet phase before each attack, whose p99 that attack's is set "
                    "against: on a shared machine, the load of the moment is in both")
    ap.add_argument("--attack", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--http-port", type=int, help=argparse.SUPPRESS)
    o = ap.parse_args()
    if o.attack:
        run_attack(o)
    o.onboardd = os.environ["ONBOARDD"]
    o.cli = os.environ["ONBOARD_CLI"]
    o.load = os.environ["ONBOARD_LOAD"]
    o.attacks = o.only.split(",") if o.only else ATTACKS
    o.cpus_server, o.cpus_attack = pinning(o)
    if o.max_connections:
        LIMITS["max_connections"] = o.max_connections
    for a in o.attacks:
        if a not in ATTACKS:
            ap.error("no attack %s: %s" % (a, ", ".join(ATTACKS)))
    sys.exit(campaign(o))


if __name__ == "__main__":
    main()
