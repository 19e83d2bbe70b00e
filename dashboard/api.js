// api.js: the page's Connect client (unary, JSON), the protocol docs/wire.md describes.
// The session token lives in this module's memory only: never in storage, cookies or the URL.

let token = null;
let onUnauthenticated = () => {};

export class ConnectError extends Error {
  constructor(code, message, violations) {
    super(message);
    this.code = code;
    this.violations = violations || [];
  }
}

export function setToken(t) { token = t; }
export function hasToken() { return token !== null; }
export function onSessionLost(fn) { onUnauthenticated = fn; }

// Field violations travel as a google.rpc.BadRequest detail; onboardd adds its decoded form
// as "debug" (service/http/connect.c).
function violationsOf(body) {
  const out = [];
  for (const d of body.details || []) {
    const v = d.debug && d.debug.fieldViolations;
    if (Array.isArray(v)) for (const f of v) out.push({ field: f.field, description: f.description });
  }
  return out;
}

// call("onboard.v1.Onboarding", "GetCohort", {...}, {idempotent: true}): the reply as an object,
// or a ConnectError. A write gets an Idempotency-Key, so that a resend is not done twice.
export async function call(service, method, request, opts = {}) {
  const headers = {
    'Content-Type': 'application/json',
    'Connect-Protocol-Version': '1',
    'Connect-Timeout-Ms': '10000',
  };
  if (token !== null) headers.Authorization = 'Bearer ' + token;
  if (opts.write) headers['Idempotency-Key'] = crypto.randomUUID();
  let res;
  try {
    res = await fetch('/' + service + '/' + method, {
      method: 'POST', headers, body: JSON.stringify(request || {}),
      cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    throw new ConnectError('unavailable', 'onboardd cannot be reached: ' + e.message);
  }
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (res.ok && body !== null) return body;
  const code = body && body.code ? body.code : 'unknown';
  const err = new ConnectError(code, body && body.message ? body.message : 'HTTP ' + res.status,
    body ? violationsOf(body) : []);
  if (code === 'unauthenticated' && token !== null && !opts.login) {
    token = null;
    onUnauthenticated(err);
  }
  throw err;
}

export const onboarding = (method, request, opts) => call('onboard.v1.Onboarding', method, request, opts);
export const auth = (method, request, opts) => call('onboard.v1.Auth', method, request, opts);
