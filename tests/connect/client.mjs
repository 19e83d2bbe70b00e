// onboardd's HTTP face called by a real Connect client: @connectrpc/connect-node over HTTP/1.1,
// with message and service code that @bufbuild/protoc-gen-es and protoc-gen-connect-es
// generated from proto/ at test time (tests/integration/http.sh puts it in ./gen).
//
// Usage: node client.mjs BASE_URL KEY_FILE KEY_ID
//   KEY_FILE: an applicant's key from `onboard keygen` (a base64 Ed25519 seed); KEY_ID: the
//   key id it printed (BLAKE2b-256 of the public key, which node's crypto does not offer).
// Covers: a login with the key, submit, get, list by pages, a field-violation error, an
// expired deadline, both encodings. Prints "N passed, N failed"; exits 1 on a failure.
import { createPromiseClient, ConnectError, Code } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createPrivateKey, createPublicKey, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";

import { Auth } from "./gen/onboard/v1/auth_connect.js";
import { Onboarding } from "./gen/onboard/v1/onboarding_connect.js";
import { Channel, LegalForm } from "./gen/onboard/v1/onboarding_pb.js";

const [baseUrl, keyFile, keyId] = process.argv.slice(2);
let passed = 0;
let failed = 0;
function check(what, ok, detail = "") {
  if (ok) {
    passed++;
    console.log(`ok: ${what}`);
  } else {
    failed++;
    console.error(`FAIL: ${what} ${detail}`);
  }
}

// The login message of common/login_message.h (docs/wire.md, "Logging in").
function loginMessage(kid, tsMs, nonce, audiences) {
  const parts = [Buffer.from("onboard-login-v2\0"), Buffer.from(kid)];
  const ts = Buffer.alloc(8);
  ts.writeBigInt64BE(BigInt(tsMs));
  parts.push(ts, nonce, Buffer.from([audiences.length]));
  for (const a of audiences) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(Buffer.byteLength(a));
    parts.push(len, Buffer.from(a));
  }
  return Buffer.concat(parts);
}

// An Ed25519 private key from the 32-byte seed of a key file (PKCS#8 around the seed).
const seed = Buffer.from(readFileSync(keyFile, "utf8").trim(), "base64");
const key = createPrivateKey({
  key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]),
  format: "der",
  type: "pkcs8",
});
check("the key file holds a 32-byte seed", seed.length === 32 && createPublicKey(key) !== null);

let token = "";
const bearer = (next) => async (req) => {
  if (token) req.header.set("Authorization", `Bearer ${token}`);
  return next(req);
};
const jsonTransport = createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [bearer] });
const protoTransport = createConnectTransport({
  baseUrl,
  httpVersion: "1.1",
  useBinaryFormat: true,
  interceptors: [bearer],
});
const auth = createPromiseClient(Auth, jsonTransport);
const onboarding = createPromiseClient(Onboarding, jsonTransport);
const onboardingProto = createPromiseClient(Onboarding, protoTransport);

// ---- login with a key ----
const ts = Date.now();
const nonce = randomBytes(16);
const login = await auth.login({
  keyId,
  timestampMs: BigInt(ts),
  nonce,
  audience: [baseUrl],
  signature: sign(null, loginMessage(keyId, ts, nonce, [baseUrl]), key),
});
token = login.token;
check("Login with an Ed25519 key", login.role === "applicant" && token.length > 0, login.role);
const me = await auth.whoAmI({});
check("WhoAmI with the token", me.principal === keyId && me.role === "applicant", me.principal);

// ---- submit, get, list by pages ----
function siren(n) {
  const digits = String(n).padStart(8, "0");
  for (let k = 0; k < 10; k++) {
    const s = digits + k;
    let sum = 0;
    [...s].reverse().forEach((ch, i) => {
      let d = Number(ch) * (i % 2 ? 2 : 1);
      sum += d > 9 ? d - 9 : d;
    });
    if (sum % 10 === 0) return s;
  }
  throw new Error("no key");
}
const submission = (n) => ({
  company: {
    siren: siren(n),
    legalName: `Node Test ${n} SAS`,
    legalForm: LegalForm.EI,
    nafCode: "47.91B",
    // Each figure is a oneof of its own (its presence tells "not given" from 0).
    employeesGiven: { case: "employees", value: 5 },
    turnoverGiven: { case: "turnoverEur", value: 250000n },
    balanceSheetGiven: { case: "balanceSheetEur", value: 100000n },
    address: { street: "5 quai Node", postalCode: "33000", city: "Bordeaux" },
  },
  contact: { name: "No De", email: `node${n}@example.fr`, phone: "05 56 00 00 01" },
  channel: Channel.MARKETPLACE,
  acceptsTerms: true,
});
const ids = [];
for (let n = 80000001; n <= 80000005; n++) {
  const client = n % 2 ? onboarding : onboardingProto;
  const app = await client.submitApplication(submission(n), {
    headers: { "Idempotency-Key": `node-${n}` },
  });
  ids.push(app.id);
}
check("five submissions (JSON and proto)", new Set(ids).size === 5, ids.join(","));
const again = await onboarding.submitApplication(submission(80000001), {
  headers: { "Idempotency-Key": "node-80000001" },
});
check("the same idempotency key replays the same application", again.id === ids[0]);
const got = await onboardingProto.getApplication({ id: ids[3] });
check("GetApplication", got.company?.legalName === "Node Test 80000004 SAS", got.company?.legalName);

const seen = [];
let pageToken = "";
let pages = 0;
do {
  const page = await onboarding.listApplications({ pageSize: 2, pageToken });
  seen.push(...page.applications.map((a) => a.id));
  pageToken = page.nextPageToken;
  pages++;
} while (pageToken && pages < 50);
check("ListApplications by pages of 2", pages >= 3 && ids.every((id) => seen.includes(id)), `${pages}`);

// ---- a field violation ----
try {
  const bad = submission(80000010);
  bad.company.siren = "123456789";
  await onboarding.submitApplication(bad);
  check("a bad SIREN is refused", false);
} catch (e) {
  const err = ConnectError.from(e);
  const detail = err.details.find((d) => d.type === "google.rpc.BadRequest");
  // google.rpc.BadRequest: field 1 (FieldViolation: field 1, description 2), read by hand.
  const fields = [];
  if (detail) {
    const b = detail.value;
    for (let i = 0; i < b.length; ) {
      i++; // tag of field 1
      let len = 0;
      for (let s = 0; ; s += 7) {
        const x = b[i++];
        len |= (x & 0x7f) << s;
        if (!(x & 0x80)) break;
      }
      const v = b.subarray(i, i + len);
      i += len;
      fields.push(Buffer.from(v.subarray(2, 2 + v[1])).toString());
    }
  }
  check(
    "a bad SIREN: invalid_argument with company.siren in a BadRequest detail",
    err.code === Code.InvalidArgument && fields.includes("company.siren"),
    `${Code[err.code]} ${fields}`,
  );
}

// ---- an expired deadline ----
try {
  await onboarding.getCohort({}, { headers: { "Connect-Timeout-Ms": "0" } });
  check("an expired deadline is refused", false);
} catch (e) {
  const err = ConnectError.from(e);
  check("a deadline that has passed: deadline_exceeded", err.code === Code.DeadlineExceeded, Code[err.code]);
}
try {
  await onboarding.getCohort({}, { timeoutMs: 60000 });
  check("a generous deadline is met", true);
} catch (e) {
  check("a generous deadline is met", false, String(e));
}

// ---- the reads by GET (useHttpGet: Connect's GET for NO_SIDE_EFFECTS methods) ----
const getTransport = createConnectTransport({ baseUrl, httpVersion: "1.1", useHttpGet: true, interceptors: [bearer] });
const cohort = await createPromiseClient(Onboarding, getTransport).getCohort({});
check("GetCohort by GET", cohort.cohort?.id === "2020-11" && cohort.seatsHeld >= 5, cohort.cohort?.id);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
