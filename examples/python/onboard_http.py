#!/usr/bin/python3
"""A small onboard client over HTTP (Connect's unary protocol), using only the standard
library (urllib, hashlib) and Debian's python3-protobuf.

It shows what docs/wire.md describes: the URL of a method, the two encodings
(application/proto and application/json), Connect's errors with their field violations,
Connect-Timeout-Ms, Idempotency-Key, and a login with an Ed25519 key as `onboard keygen`
writes it (the signature is computed here with the algorithm of RFC 8032, since the
standard library has no Ed25519).

The message classes come from protoc's Python output for proto/onboard/v1/*.proto:

    protoc --proto_path=proto --python_out=OUT proto/onboard/v1/*.proto
    PYTHONPATH=OUT python3 examples/python/onboard_http.py --server http://127.0.0.1:8080 \\
        --key reviewer.key cohort

Usage as a library:

    c = Client("http://127.0.0.1:8080")
    c.login("reviewer.key")
    standing = c.call("onboard.v1.Onboarding", "GetCohort", onboarding_pb2.GetCohortRequest(),
                      onboarding_pb2.CohortStanding)
"""

import argparse
import base64
import hashlib
import json
import os
import struct
import sys
import time
import urllib.error
import urllib.request

# ---- Ed25519 signing (RFC 8032, section 6), for the login only ----------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _add(a, b):
    """Adds two points in extended coordinates (X, Y, Z, T)."""
    x = (a[1] - a[0]) * (b[1] - b[0]) % _P
    y = (a[1] + a[0]) * (b[1] + b[0]) % _P
    c = 2 * a[3] * b[3] * _D % _P
    d = 2 * a[2] * b[2] % _P
    e, f, g, h = y - x, d - c, d + c, y + x
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _recover_x(y, sign):
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x & 1) != sign:
        x = _P - x
    return x


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % _P)


def _compress(pt):
    zinv = pow(pt[2], _P - 2, _P)
    x, y = pt[0] * zinv % _P, pt[1] * zinv % _P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed25519_public(seed):
    """The public key of a 32-byte seed."""
    return _compress(_mul(_expand(seed)[0], _G))


def ed25519_sign(seed, msg):
    """The 64-byte signature of msg by the key of seed."""
    a, prefix = _expand(seed)
    pub = _compress(_mul(a, _G))
    r = int.from_bytes(hashlib.sha512(prefix + msg).digest(), "little") % _L
    big_r = _compress(_mul(r, _G))
    h = int.from_bytes(hashlib.sha512(big_r + pub + msg).digest(), "little") % _L
    return big_r + int.to_bytes((r + h * a) % _L, 32, "little")


# ---- the login message (common/login_message.h) ----------------------------------------


def key_id(public_key):
    """16 hex characters: BLAKE2b-256 of the public key, its first 8 bytes."""
    return hashlib.blake2b(public_key, digest_size=32).digest()[:8].hex()


def login_message(kid, ts_ms, nonce, audiences):
    """The bytes a login signs: see docs/wire.md and common/login_message.h."""
    msg = b"onboard-login-v2\x00" + kid.encode() + struct.pack(">q", ts_ms) + nonce
    msg += bytes([len(audiences)])
    for a in audiences:
        msg += struct.pack(">H", len(a.encode())) + a.encode()
    return msg


def read_key(path):
    """The 32-byte seed of a key file written by `onboard keygen` (one line of base64)."""
    with open(path, "rb") as f:
        seed = base64.b64decode(f.read().strip())
    if len(seed) != 32:
        raise ValueError(f"{path}: not an onboard key file")
    return seed


# ---- Connect over urllib ----------------------------------------------------------------


class ConnectError(Exception):
    """A refused call: Connect's code ("invalid_argument"), message, field violations as
    (field, description) pairs, and the HTTP status it came with."""

    def __init__(self, code, message, violations, status):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.violations, self.status = code, message, violations, status


def _violations(body):
    """The field violations of Connect's error JSON: the google.rpc.BadRequest detail,
    read from its debug form (its value is the same list as protobuf bytes)."""
    out = []
    for d in body.get("details", []):
        if d.get("type") == "google.rpc.BadRequest":
            for v in d.get("debug", {}).get("fieldViolations", []):
                out.append((v.get("field", ""), v.get("description", "")))
    return out


class Client:
    """Calls onboardd's HTTP face. token: a session token from Login (or login())."""

    def __init__(self, base_url, token=None):
        self.base_url = base_url.rstrip("/")
        self.token = token

    def _post(self, path, body, content_type, headers, timeout_s):
        req = urllib.request.Request(self.base_url + path, data=body, method="POST")
        req.add_header("Content-Type", content_type)
        req.add_header("Connect-Protocol-Version", "1")
        for k, v in headers.items():
            req.add_header(k, v)
        if self.token is not None:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"code": "unknown", "message": raw.decode("utf-8", "replace")}
            raise ConnectError(body.get("code", "unknown"), body.get("message", ""),
                               _violations(body), e.code) from None

    def call(self, service, method, request, response_class, timeout_ms=None,
             idempotency_key=None, json_encoding=False):
        """Calls /SERVICE/METHOD with request (a message); returns a response_class message
        or raises ConnectError. json_encoding sends and reads application/json (the proto3
        JSON mapping) instead of application/proto."""
        from google.protobuf import json_format

        headers = {}
        if timeout_ms is not None:
            headers["Connect-Timeout-Ms"] = str(timeout_ms)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        if json_encoding:
            body = json_format.MessageToJson(request).encode()
            _, raw, _ = self._post(f"/{service}/{method}", body, "application/json", headers,
                                   30)
            return json_format.Parse(raw, response_class())
        _, raw, _ = self._post(f"/{service}/{method}", request.SerializeToString(),
                               "application/proto", headers, 30)
        return response_class.FromString(raw)

    def login(self, key_path, audience=None):
        """Logs in with a key file: signs the login message for audience (default: the
        server's URL as dialled) and keeps the session token for the calls that follow.
        Returns the LoginResponse."""
        from onboard.v1 import auth_pb2

        seed = read_key(key_path)
        kid = key_id(ed25519_public(seed))
        ts_ms = int(time.time() * 1000)
        nonce = os.urandom(16)
        audiences = [audience or self.base_url]
        req = auth_pb2.LoginRequest(key_id=kid, timestamp_ms=ts_ms, nonce=nonce,
                                    audience=audiences,
                                    signature=ed25519_sign(seed, login_message(
                                        kid, ts_ms, nonce, audiences)))
        resp = self.call("onboard.v1.Auth", "Login", req, auth_pb2.LoginResponse)
        self.token = resp.token
        return resp


def main():
    ap = argparse.ArgumentParser(description="Call onboardd over HTTP (Connect).")
    ap.add_argument("--server", required=True, help="http://HOST:PORT of onboardd --http")
    ap.add_argument("--key", help="a key file from `onboard keygen`, to log in")
    ap.add_argument("--json", action="store_true", help="use application/json")
    ap.add_argument("command", choices=["health", "cohort", "whoami", "token"],
                    help="token: log in and print the session token (for curl)")
    args = ap.parse_args()
    from onboard.v1 import auth_pb2, health_pb2, onboarding_pb2

    c = Client(args.server)
    try:
        if args.key:
            c.login(args.key)
        if args.command == "token":
            print(c.token)
        elif args.command == "health":
            r = c.call("onboard.v1.Health", "Check", health_pb2.HealthCheckRequest(),
                       health_pb2.HealthCheckResponse, json_encoding=args.json)
            print(health_pb2.HealthCheckResponse.ServingStatus.Name(r.status))
        elif args.command == "whoami":
            r = c.call("onboard.v1.Auth", "WhoAmI", auth_pb2.WhoAmIRequest(),
                       auth_pb2.WhoAmIResponse, json_encoding=args.json)
            print(r.principal, r.role)
        else:
            r = c.call("onboard.v1.Onboarding", "GetCohort", onboarding_pb2.GetCohortRequest(),
                       onboarding_pb2.CohortStanding, json_encoding=args.json)
            print(f"{r.cohort.id}: {r.seats_held} seats held, {r.seats_free} free, "
                  f"{r.waitlist_length} waiting")
    except ConnectError as e:
        print(f"{e.code}: {e.message}", file=sys.stderr)
        for field, why in e.violations:
            print(f"  {field}: {why}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
