#!/usr/bin/python3
"""The Python example client (examples/python/onboard_http.py) against a real onboardd --http,
run by http.sh: logins with keys, submit, get, list by pages, a field violation, an
idempotent replay, GET for exactly the methods the .proto marks NO_SIDE_EFFECTS, and
/metrics parsed by prometheus_client's parser (Debian's python3-prometheus-client).

Usage: http_python.py BASE_URL DIR   (DIR holds admin.key, reviewer.key, applicant.key;
PYTHONPATH holds protoc's Python output for proto/)."""

import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../examples/python"))

from google.protobuf import descriptor_pb2  # noqa: E402
from onboard.v1 import health_pb2, onboarding_pb2, reflection_pb2  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from onboard_http import Client, ConnectError  # noqa: E402

base, keys = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok: {what}")
    else:
        failed += 1
        print(f"FAIL: {what} {detail}", file=sys.stderr)


def siren(n):
    """A SIREN with a valid Luhn key from an 8-digit number."""
    digits = f"{n:08d}"
    for key in range(10):
        s = digits + str(key)
        total = 0
        for i, ch in enumerate(reversed(s)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return s
    raise AssertionError


def submission(n):
    return onboarding_pb2.SubmitApplicationRequest(
        company=onboarding_pb2.Company(
            siren=siren(n), legal_name=f"Python Test {n} SAS", naf_code="47.91B", employees=3,
            legal_form=onboarding_pb2.LEGAL_FORM_EI,
            turnover_eur=100000, balance_sheet_eur=50000,
            address=onboarding_pb2.Address(street="1 rue Test", postal_code="69003",
                                           city="Lyon")),
        contact=onboarding_pb2.Contact(name="Py Thon", email=f"py{n}@example.fr",
                                       phone="04 65 71 00 01"),
        channel=onboarding_pb2.CHANNEL_BOTH, accepts_terms=True)


OB = "onboard.v1.Onboarding"
applicant, reviewer, admin = Client(base), Client(base), Client(base)
for c, k in ((applicant, "applicant"), (reviewer, "reviewer"), (admin, "admin")):
    r = c.login(os.path.join(keys, k + ".key"))
    check(f"login as {k}", r.role == k and len(c.token) > 0, r.role)

h = applicant.call("onboard.v1.Health", "Check", health_pb2.HealthCheckRequest(),
                   health_pb2.HealthCheckResponse, json_encoding=True)
check("Health/Check over JSON", h.status == health_pb2.HealthCheckResponse.SERVING)

ids = []
for n in range(70000001, 70000006):
    a = applicant.call(OB, "SubmitApplication", submission(n), onboarding_pb2.Application,
                       idempotency_key=f"py-{n}", json_encoding=n % 2 == 0)
    ids.append(a.id)
check("five submissions, proto and JSON",
      len(set(ids)) == 5 and all(len(i) == 26 for i in ids), ids)
again = applicant.call(OB, "SubmitApplication", submission(70000001), onboarding_pb2.Application,
                       idempotency_key="py-70000001")
check("a replayed key gives the same application", again.id == ids[0])

got = applicant.call(OB, "GetApplication", onboarding_pb2.GetApplicationRequest(id=ids[2]),
                     onboarding_pb2.Application)
check("GetApplication", got.company.legal_name == "Python Test 70000003 SAS",
      got.company.legal_name)

seen, token, pages = [], "", 0
while True:
    page = reviewer.call(OB, "ListApplications",
                         onboarding_pb2.ListApplicationsRequest(page_size=2, page_token=token),
                         onboarding_pb2.ListApplicationsResponse, json_encoding=pages % 2 == 1)
    seen += [a.id for a in page.applications]
    pages += 1
    token = page.next_page_token
    if not token or pages > 50:
        break
check("ListApplications by pages of 2", set(ids) <= set(seen) and pages >= 3,
      f"{pages} pages, {len(seen)} ids")

try:
    bad = submission(70000010)
    bad.company.siren = "123456789"
    bad.contact.email = "not-an-email"
    applicant.call(OB, "SubmitApplication", bad, onboarding_pb2.Application)
    check("a bad SIREN is refused", False)
except ConnectError as e:
    fields = [f for f, _ in e.violations]
    check("a bad SIREN and e-mail: invalid_argument, 400, both fields named",
          e.code == "invalid_argument" and e.status == 400 and "company.siren" in fields
          and "contact.email" in fields, f"{e.code} {e.status} {fields}")

try:
    applicant.call(OB, "GetCohort", onboarding_pb2.GetCohortRequest(),
                   onboarding_pb2.CohortStanding, timeout_ms=0)
    check("an expired deadline is refused", False)
except ConnectError as e:
    check("Connect-Timeout-Ms: 0 is deadline_exceeded (504)",
          e.code == "deadline_exceeded" and e.status == 504, f"{e.code} {e.status}")

# GET for exactly the methods whose .proto says NO_SIDE_EFFECTS, read from the server's own
# reflection (Reflection/GetFileDescriptorSet over this face).
fds_reply = admin.call("onboard.v1.Reflection", "GetFileDescriptorSet",
                       reflection_pb2.GetFileDescriptorSetRequest(),
                       reflection_pb2.GetFileDescriptorSetResponse)
fds = descriptor_pb2.FileDescriptorSet.FromString(fds_reply.file_descriptor_set)
reads = writes = 0
for f in fds.file:
    for s in f.service:
        for m in s.method:
            read = m.options.idempotency_level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS
            url = f"{base}/{f.package}.{s.name}/{m.name}?encoding=json&message=%7B%7D"
            req = urllib.request.Request(url, headers={"Authorization": "Bearer " + admin.token})
            try:
                with urllib.request.urlopen(req) as resp:
                    status = resp.status
            except urllib.error.HTTPError as e:
                status = e.code
            if read:
                reads += 1
                check(f"GET {s.name}/{m.name} (a read) is served", status != 405, status)
            else:
                writes += 1
                check(f"GET {s.name}/{m.name} (a write) is 405", status == 405, status)
check("the contract has reads and writes", reads >= 5 and writes >= 5, f"{reads} {writes}")

with urllib.request.urlopen(base + "/metrics") as resp:
    ctype = resp.headers.get("Content-Type", "")
    text = resp.read().decode()
check("/metrics is Prometheus's text format", ctype.startswith("text/plain; version=0.0.4"), ctype)
families = {f.name: f for f in text_string_to_metric_families(text)}


def samples(family, name=None, **labels):
    fam = families.get(family)
    return [s for s in (fam.samples if fam else [])
            if (name is None or s.name == name)
            and all(s.labels.get(k) == v for k, v in labels.items())]


submits = samples("onboard_calls", "onboard_calls_total", face="http", code="OK",
                  method="/onboard.v1.Onboarding/SubmitApplication")
check("calls by method, face and code", submits and submits[0].value >= 5, submits)
refused = samples("onboard_calls", "onboard_calls_total", face="http", code="INVALID_ARGUMENT")
check("refused calls are counted by code", sum(s.value for s in refused) >= 1)
lat = samples("onboard_call_duration_seconds", "onboard_call_duration_seconds_count", face="http",
              method="/onboard.v1.Onboarding/GetApplication")
check("a latency histogram per method", lat and lat[0].value >= 1, lat)
inf = samples("onboard_call_duration_seconds", "onboard_call_duration_seconds_bucket",
              face="http", method="/onboard.v1.Onboarding/GetApplication", le="+Inf")
check("its +Inf bucket is its count", inf and inf[0].value == lat[0].value)
batches = samples("onboard_store_commit_batch_size", "onboard_store_commit_batch_size_count")
check("group commit's batches", batches and batches[0].value >= 1, batches)
commit = samples("onboard_store_commit_duration_seconds",
                 "onboard_store_commit_duration_seconds_count")
check("commit latency", commit and commit[0].value == batches[0].value, commit)
held = samples("onboard_cohort_seats", cohort="2020-11", state="held")
free = samples("onboard_cohort_seats", cohort="2020-11", state="free")
check("seats held and free per cohort", held and free and held[0].value >= 6
      and held[0].value + free[0].value == 800, (held, free))
check("the waitlist per cohort", samples("onboard_cohort_waitlist_length", cohort="2020-11"))
by_state = samples("onboard_cohort_applications", cohort="2020-11",
                   state="SUBMITTED")
check("applications by state", by_state and by_state[0].value >= 6, by_state)
conns = samples("onboard_open_connections", face="http")
check("open connections by listener", conns and conns[0].labels["listener"] == base
      and conns[0].value >= 1, conns)
slow = samples("onboard_refusals", "onboard_refusals_total", face="http", reason="slow")
cap = samples("onboard_refusals", "onboard_refusals_total", face="http",
              reason="peer_connection_cap")
big = samples("onboard_refusals", "onboard_refusals_total", face="http", reason="too_large")
check("refusals: slow heads, the per-peer cap, oversized requests",
      slow and slow[0].value >= 1 and cap and cap[0].value >= 1 and big and big[0].value >= 2,
      (slow, cap, big))

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
