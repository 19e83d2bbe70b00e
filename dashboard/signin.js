// signin.js: logging in from the page. With a key file (`onboard keygen`: one line of base64
// holding a 32-byte Ed25519 seed), the page signs the login message of
// common/login_message.h with WebCrypto's Ed25519 and calls Auth/Login; with a token from
// `onboard login --print-token` it asks Auth/WhoAmI who that is. The seed is wiped once
// signed; the token is kept by api.js in memory only.

import { auth, setToken } from './api.js';

// ---- BLAKE2b-256 (RFC 7693), for the key id: WebCrypto has no BLAKE2b. ----
const M64 = (1n << 64n) - 1n;
const IV = [0x6a09e667f3bcc908n, 0xbb67ae8584caa73bn, 0x3c6ef372fe94f82bn, 0xa54ff53a5f1d36f1n,
  0x510e527fade682d1n, 0x9b05688c2b3e6c1fn, 0x1f83d9abfb41bd6bn, 0x5be0cd19137e2179n];
const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4], [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13], [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11], [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5], [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0]];
const rotr = (x, n) => ((x >> n) | (x << (64n - n))) & M64;

function compress(h, block, t, last) {
  const v = [...h, ...IV];
  v[12] ^= t & M64;
  v[13] ^= t >> 64n;
  if (last) v[14] ^= M64;
  const m = [];
  for (let i = 0; i < 16; i++) {
    let w = 0n;
    for (let b = 7; b >= 0; b--) w = (w << 8n) | BigInt(block[i * 8 + b]);
    m.push(w);
  }
  const g = (a, b, c, d, x, y) => {
    v[a] = (v[a] + v[b] + x) & M64; v[d] = rotr(v[d] ^ v[a], 32n);
    v[c] = (v[c] + v[d]) & M64; v[b] = rotr(v[b] ^ v[c], 24n);
    v[a] = (v[a] + v[b] + y) & M64; v[d] = rotr(v[d] ^ v[a], 16n);
    v[c] = (v[c] + v[d]) & M64; v[b] = rotr(v[b] ^ v[c], 63n);
  };
  for (let r = 0; r < 12; r++) {
    const s = SIGMA[r % 10];
    g(0, 4, 8, 12, m[s[0]], m[s[1]]); g(1, 5, 9, 13, m[s[2]], m[s[3]]);
    g(2, 6, 10, 14, m[s[4]], m[s[5]]); g(3, 7, 11, 15, m[s[6]], m[s[7]]);
    g(0, 5, 10, 15, m[s[8]], m[s[9]]); g(1, 6, 11, 12, m[s[10]], m[s[11]]);
    g(2, 7, 8, 13, m[s[12]], m[s[13]]); g(3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (let i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

export function blake2b(data, outlen) {
  const h = IV.slice();
  h[0] ^= 0x01010000n ^ BigInt(outlen);
  let t = 0n, off = 0;
  do {
    const block = new Uint8Array(128);
    const take = Math.min(128, data.length - off);
    block.set(data.subarray(off, off + take));
    off += take;
    t += BigInt(take);
    compress(h, block, t, off >= data.length);
  } while (off < data.length);
  const out = new Uint8Array(outlen);
  for (let i = 0; i < outlen; i++) out[i] = Number((h[i >> 3] >> BigInt(8 * (i & 7))) & 0xffn);
  return out;
}

// ---- the login ----
const hex = b => [...b].map(x => x.toString(16).padStart(2, '0')).join('');
const b64 = b => btoa(String.fromCharCode(...b));
const unb64url = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0));
// PKCS #8 for an Ed25519 seed (RFC 8410): WebCrypto imports private keys no other way.
const PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

export async function ed25519Available() {
  try {
    await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    return true;
  } catch (e) {
    return false;
  }
}

// "onboard-login-v2" 0x00 key_id ts_ms(int64 BE) nonce(16) n(1) {len(u16 BE) audience}.
export function loginMessage(keyId, tsMs, nonce, audiences) {
  const enc = new TextEncoder();
  const parts = [enc.encode('onboard-login-v2'), Uint8Array.of(0), enc.encode(keyId)];
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setBigInt64(0, BigInt(tsMs));
  parts.push(ts, nonce, Uint8Array.of(audiences.length));
  for (const a of audiences) {
    const b = enc.encode(a), len = new Uint8Array(2);
    new DataView(len.buffer).setUint16(0, b.length);
    parts.push(len, b);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

// Reads the key file's text, signs a login for this page's origin and logs in. Returns
// {token, role, keyId, expiresAt}.
export async function loginWithKeyFile(text) {
  let seed;
  try {
    seed = Uint8Array.from(atob(text.trim()), c => c.charCodeAt(0));
  } catch (e) {
    throw new Error('the key file is not base64');
  }
  if (seed.length !== 32) throw new Error('the key file does not hold a 32-byte key');
  const pkcs8 = new Uint8Array(48);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(seed, 16);
  seed.fill(0);
  let key, pub;
  try {
    key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
    pub = unb64url((await crypto.subtle.exportKey('jwk', key)).x);
  } finally {
    pkcs8.fill(0);
  }
  const keyId = hex(blake2b(pub, 32).subarray(0, 8));
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  const ts = Date.now();
  const audience = [location.origin];
  const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key,
    loginMessage(keyId, ts, nonce, audience)));
  const r = await auth('Login', { keyId, timestampMs: String(ts), nonce: b64(nonce), signature: b64(sig), audience },
    { login: true });
  return { token: r.token, role: r.role, keyId: r.keyId, expiresAt: r.expiresAt };
}

// Takes a token as it is and asks who it is.
export async function loginWithToken(token) {
  setToken(token);
  try {
    const w = await auth('WhoAmI', {}, { login: true });
    return { token, role: w.role || '', keyId: w.principal || '' };
  } catch (e) {
    setToken(null);
    throw e;
  }
}
