import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { newKeyPair, nonce, registerAgent, signText, signedAction } from '../support/agents.js';
import { cookieHeader, setCookies } from '../support/cookies.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

/** Attack catalogue: replayed and bent signatures, and cross-site requests against the cookie session. */

// The order of the Ed25519 group (RFC 8032 §5.1).
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

function addToS(signatureB64: string, k: bigint): string {
  const sig = Buffer.from(signatureB64, 'base64');
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
  s += k;
  const out = Buffer.from(sig);
  for (let i = 0; i < 32; i++) {
    out[32 + i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out.toString('base64');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A 64-byte signature's base64 with the 4 bits its last character carries beyond the data set: same bytes. */
function nonCanonicalBase64(signatureB64: string): string {
  const last = signatureB64[85]!;
  return `${signatureB64.slice(0, 85)}${B64[B64.indexOf(last) | 0x0f]}==`;
}

describe('attack catalogue: signed requests', () => {
  let t: TestServer;
  let admin: SignedIn;
  let alice: Awaited<ReturnType<typeof registerAgent>>;
  let bob: Awaited<ReturnType<typeof registerAgent>>;
  const verify = (agentId: string, body: unknown) => t.http.post(`/api/v1/agents/${agentId}/verify-action`, body, { token: admin.accessToken });

  before(async () => {
    t = await startTestServer();
    admin = await t.signIn({ role: 'admin' });
    alice = await registerAgent(t.http, admin.accessToken);
    bob = await registerAgent(t.http, admin.accessToken);
  });
  after(() => t.close());

  it('replay: the same signed request twice is nonce_reused; sent to another agent it is invalid_signature', async () => {
    const body = signedAction(alice.id, alice.keys.privateKey, 'files:read', '/data');
    assert.equal((await verify(alice.id, body)).status, 200);
    const again = await verify(alice.id, body);
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'nonce_reused');
    // Across agents: the message binds the agent id, so Alice's signature is worthless for Bob, fresh nonce or not.
    for (const b of [body, signedAction(alice.id, alice.keys.privateKey, 'files:read', '/data')]) {
      const cross = await verify(bob.id, b);
      assert.equal(cross.status, 401);
      assert.equal(cross.body.error, 'invalid_signature');
    }
    // Alice's signature over Bob's id (an agent signing for another) fails against Bob's keys too.
    const impersonation = signedAction(bob.id, alice.keys.privateKey, 'files:read', '/data');
    assert.equal((await verify(bob.id, impersonation)).body.error, 'invalid_signature');
  });

  it('replay across agents cannot be set up by registering the same public key twice', async () => {
    const res = await t.http.post('/api/v1/agents', { name: 'copycat', public_key: alice.keys.publicKey }, { token: admin.accessToken });
    assert.equal(res.status, 409, res.text);
  });

  it('field splicing: moving a colon between action and resource does not keep the signature valid', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const n = nonce();
    const signature = signText(alice.keys.privateKey, `${alice.id}:files:read:x:${ts}:${n}`);
    const spliced = await verify(alice.id, { action: 'files', resource: 'read:x', timestamp: ts, nonce: n, signature });
    assert.equal(spliced.status, 400, 'resources may not contain ":"');
    assert.equal((await verify(alice.id, { action: 'files:read', resource: 'x', timestamp: ts, nonce: n, signature })).status, 200);
  });

  it('unpaired surrogates are refused: they reach the signed bytes as U+FFFD, so two resources would share a signature', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const n = nonce();
    // Signed over U+FFFD, presented with a lone surrogate: the UTF-8 encoder makes the same bytes of both.
    const signature = signText(alice.keys.privateKey, `${alice.id}:files:read:/x\ufffd:${ts}:${n}`);
    const raw = JSON.stringify({ action: 'files:read', resource: '/x\ud800', timestamp: ts, nonce: n, signature });
    assert.ok(raw.includes('\\ud800'), 'JSON.stringify escapes the lone surrogate');
    const res = await t.http.request(`/api/v1/agents/${alice.id}/verify-action`, { method: 'POST', raw, headers: { 'content-type': 'application/json' }, token: admin.accessToken });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error, 'invalid_request');
    // Anywhere else too: a name would be stored as replacement characters.
    const named = await t.http.request('/api/v1/agents', {
      method: 'POST',
      raw: JSON.stringify({ name: 'half \udc00 a pair', public_key: newKeyPair().publicKey }),
      headers: { 'content-type': 'application/json' },
      token: admin.accessToken,
    });
    assert.equal(named.status, 400, named.text);
    // A well-formed pair (an emoji) is fine, and the signature over the real resource verifies.
    assert.equal((await verify(alice.id, signedAction(alice.id, alice.keys.privateKey, 'files:read', '/x\u{1F600}'))).status, 200);
    assert.equal((await verify(alice.id, { action: 'files:read', resource: '/x\ufffd', timestamp: ts, nonce: n, signature })).status, 200);
  });

  it('a stale or future timestamp is signature_expired even when correctly signed', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now - 3600, now + 3600]) {
      const res = await verify(alice.id, signedAction(alice.id, alice.keys.privateKey, 'files:read', '/d', { timestamp }));
      assert.equal(res.body.error, 'signature_expired');
    }
  });

  it('Ed25519 malleability: S + L, S + 2L, a flipped bit, truncation and padding are all invalid_signature', async () => {
    const body = signedAction(alice.id, alice.keys.privateKey, 'files:read', '/malleable');
    const variants = [
      addToS(body.signature, L),
      addToS(body.signature, 2n * L),
      Buffer.from(Buffer.from(body.signature, 'base64').map((b, i) => (i === 10 ? b ^ 1 : b))).toString('base64'),
      Buffer.from(body.signature, 'base64').subarray(0, 63).toString('base64'),
      Buffer.concat([Buffer.from(body.signature, 'base64'), Buffer.from([0])]).toString('base64'),
      Buffer.alloc(64).toString('base64'),
      // R = the identity point (small order), S = 0: verifies under a weak key in lax implementations.
      Buffer.concat([Buffer.from([1]), Buffer.alloc(63)]).toString('base64'),
      body.signature.replace(/=+$/, ''),
      `${body.signature} `,
    ];
    for (const signature of variants) {
      const res = await verify(alice.id, { ...body, nonce: nonce(), signature });
      assert.ok(res.status === 401 || res.status === 400, `${signature}: ${res.status} ${res.text}`);
      if (res.status === 401) assert.equal(res.body.error, 'invalid_signature');
    }
    // The same 64 bytes spelt differently (the 4 bits the last character carries beyond the data set), with the signed
    // nonce: lenient decoders accept it, strict ones do not, so the evidence could not be re-checked everywhere.
    const respelt = [nonCanonicalBase64(body.signature), Buffer.from(body.signature, 'base64').toString('base64url').replace(/.$/, (c) => B64URL[B64URL.indexOf(c) | 0x0f]!)];
    for (const signature of respelt) {
      assert.deepEqual(Buffer.from(signature, 'base64'), Buffer.from(body.signature, 'base64'));
      const res = await verify(alice.id, { ...body, signature });
      assert.equal(res.status, 401, `${signature}: ${res.text}`);
      assert.equal(res.body.error, 'invalid_signature');
    }
    assert.equal((await verify(alice.id, body)).status, 200, 'the original still verifies once');
  });

  it('weak public keys are refused at registration: small-order points and non-canonical encodings', async () => {
    const identity = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]);
    const nonCanonical = Buffer.alloc(32, 0xff);
    nonCanonical[31] = 0x7f; // y = 2^255 - 1 >= p
    const zero = Buffer.alloc(32);
    for (const raw of [identity, nonCanonical, zero]) {
      const res = await t.http.post('/api/v1/agents', { name: `weak-${raw[0]}-${raw[31]}`, public_key: raw.toString('base64') }, { token: admin.accessToken });
      assert.equal(res.status, 400, `${raw.toString('hex')}: ${res.text}`);
    }
    assert.equal((await t.http.post('/api/v1/agents', { name: 'fine', public_key: newKeyPair().publicKey }, { token: admin.accessToken })).status, 201);
  });

  it('a private key sent as public_key is refused, not silently turned into its public half', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pkcs8 = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const registered = await t.http.post('/api/v1/agents', { name: 'leaky', public_key: pkcs8 }, { token: admin.accessToken });
    assert.equal(registered.status, 400, registered.text);
    assert.equal(registered.body.error, 'invalid_request');
    assert.match(String(registered.body.error_description), /private key/);
    // The same for an admin setting a key and for a rotation signed by the current key.
    const set = await t.http.post(`/api/v1/agents/${bob.id}/keys`, { public_key: pkcs8 }, { token: admin.accessToken });
    assert.equal(set.status, 400, set.text);
    const ts = Math.floor(Date.now() / 1000);
    const n = nonce();
    const rotation = { public_key: pkcs8, timestamp: ts, nonce: n, signature: signText(alice.keys.privateKey, `rotate:${alice.id}:${pkcs8}:${ts}:${n}`) };
    const rotated = await t.http.post(`/api/v1/agents/${alice.id}/keys/rotate`, rotation, { token: admin.accessToken });
    assert.equal(rotated.status, 400, rotated.text);
    // The public half as SPKI PEM is what the contract accepts.
    const spki = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString();
    assert.equal((await t.http.post('/api/v1/agents', { name: 'careful', public_key: spki }, { token: admin.accessToken })).status, 201);
  });
});

describe('attack catalogue: CSRF on the cookie routes', () => {
  const PUBLIC_URL = 'http://localhost:8080';
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ env: { AIM_PUBLIC_URL: PUBLIC_URL } });
  });
  after(() => t.close());

  async function webSession() {
    const u = await t.createUser({ role: 'member' });
    const res = await t.http.post('/api/v1/public/login', { email: u.email, password: u.password }, { headers: { 'x-aim-client': 'web' } });
    const cookies = setCookies(res.headers);
    return { rt: cookies.get('aim_rt')!.value, csrf: cookies.get('aim_csrf')!.value };
  }

  it('refresh and logout with the cookie but without a valid CSRF token are refused, and the session survives', async () => {
    const s = await webSession();
    const cookie = cookieHeader({ aim_rt: s.rt, aim_csrf: s.csrf });
    const forged: Array<Record<string, string>> = [
      { cookie },
      { cookie, 'x-csrf-token': 'guess' },
      { cookie, 'x-csrf-token': `${s.csrf}x` },
      // A double-submit pair the attacker planted from a sibling domain: equal, but not bound to the session.
      { cookie: cookieHeader({ aim_rt: s.rt, aim_csrf: 'planted' }), 'x-csrf-token': 'planted' },
      { cookie, 'x-csrf-token': s.csrf, origin: 'https://evil.example' },
      { cookie, 'x-csrf-token': s.csrf, origin: 'null' },
    ];
    for (const path of ['/api/v1/auth/refresh', '/api/v1/auth/logout']) {
      for (const headers of forged) {
        const res = await t.http.post(path, {}, { headers });
        assert.ok(res.status === 403 || res.status === 401, `${path} ${JSON.stringify(headers).slice(0, 80)}: ${res.status}`);
        assert.ok(['csrf_token_invalid', 'forbidden', 'invalid_token'].includes(String(res.body.error)), String(res.body.error));
      }
    }
    // What a cross-site form can send (no custom header; form or text body) is refused before any cookie is read.
    for (const [type, raw] of [['application/x-www-form-urlencoded', 'a=1'], ['text/plain', '{}'], ['multipart/form-data; boundary=x', '--x--']] as const) {
      const res = await t.http.request('/api/v1/auth/logout', { method: 'POST', raw, headers: { cookie, 'content-type': type } });
      assert.ok(res.status === 415 || res.status === 403, `${type}: ${res.status}`);
    }
    // None of that ended or rotated the session.
    const ok = await t.http.post('/api/v1/auth/refresh', {}, { headers: { cookie, 'x-csrf-token': s.csrf } });
    assert.equal(ok.status, 200, ok.text);
  });

  it('the CSRF token of one session does not unlock another', async () => {
    const a = await webSession();
    const b = await webSession();
    const res = await t.http.post('/api/v1/auth/refresh', {}, { headers: { cookie: cookieHeader({ aim_rt: b.rt, aim_csrf: a.csrf }), 'x-csrf-token': a.csrf } });
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'csrf_token_invalid');
  });
});
