import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';
import { forgedApiKeys, forgedTokens } from '../support/tokens.js';
import { assertCatalogued, operations, type Operation } from '../support/openapi.js';

describe('bad input on every route answers a catalogued 4xx, never a 500', () => {
  let t: TestServer;
  let admin: SignedIn;
  let ops: Operation[];
  before(async () => {
    // Hundreds of bad credentials from one address: above the public limit they would count against (rate-limits.test.ts).
    t = await startTestServer({ env: { AIM_RATE_LIMIT_PUBLIC: '1000000' } });
    admin = await t.signIn({ role: 'admin' });
    ops = await operations(t.http);
  });
  after(() => t.close());

  it('found the routes in the OpenAPI document', () => {
    assert.ok(ops.length >= 10, `only ${ops.length} operations`);
    assert.ok(ops.some((o) => o.path === '/api/v1/public/login'));
  });

  it('secured routes refuse missing, forged and confused credentials with 401', async () => {
    const forged = await forgedTokens(admin.accessToken, t.server.config.publicUrl);
    delete (forged as Record<string, string>).issuer;
    for (const op of ops.filter((o) => o.secured)) {
      const none = await t.http.request(op.path, { method: op.method });
      assertCatalogued(none, `${op.method} ${op.path} without credentials`);
      assert.equal(none.status, 401);
      for (const [name, token] of Object.entries(forged)) {
        const res = await t.http.request(op.path, { method: op.method, headers: { authorization: `Bearer ${token}` } });
        assertCatalogued(res, `${op.method} ${op.path} with ${name}`);
        assert.equal(res.status, 401, `${op.method} ${op.path} with ${name}`);
      }
      const basic = await t.http.request(op.path, { method: op.method, headers: { authorization: 'Basic YTpi' } });
      assert.equal(basic.status, 401, `${op.method} ${op.path} with Basic auth`);
      for (const [name, key] of Object.entries(forgedApiKeys())) {
        const res = await t.http.request(op.path, { method: op.method, headers: { 'x-api-key': key } });
        assertCatalogued(res, `${op.method} ${op.path} with API key: ${name}`);
        assert.equal(res.status, 401, `${op.method} ${op.path} with API key: ${name}`);
      }
    }
  });

  it('routes with bodies refuse wrong types, missing fields, malformed JSON, wrong media types and 1 MB', async () => {
    const auth = { authorization: `Bearer ${admin.accessToken}` };
    const hostile: Array<[string, { raw?: string; body?: unknown; headers?: Record<string, string> }]> = [
      ['malformed JSON', { raw: '{"email": ', headers: { 'content-type': 'application/json' } }],
      ['a JSON array', { body: [1, 2, 3] }],
      ['a JSON string', { body: 'hello' }],
      ['null', { raw: 'null', headers: { 'content-type': 'application/json' } }],
      ['empty object', { body: {} }],
      ['wrong types everywhere', { body: { email: 1, password: true, refresh_token: 7, role: 5, name: [], current_password: {}, new_password: null } }],
      ['deeply nested', { raw: '['.repeat(5000) + ']'.repeat(5000), headers: { 'content-type': 'application/json' } }],
      ['text/plain', { raw: 'email=a', headers: { 'content-type': 'text/plain' } }],
      ['no content type', { raw: '{}', headers: {} }],
      ['1 MB body', { raw: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }), headers: { 'content-type': 'application/json' } }],
    ];
    for (const op of ops.filter((o) => o.hasBody && !o.form)) {
      for (const [name, input] of hostile) {
        const res = await t.http.request(op.path, { method: op.method, ...input, headers: { ...input.headers, ...(op.secured ? auth : {}) } });
        // `{}` is a well-formed request where no field is required (TOTP setup: an optional password); it may succeed.
        if (name === 'empty object' && (op.body?.required ?? []).length === 0 && res.status < 300) continue;
        assertCatalogued(res, `${op.method} ${op.path} with ${name}`);
        if (name === '1 MB body') assert.equal(res.status, 413, `${op.method} ${op.path}`);
        if (name === 'text/plain') assert.equal(res.status, 415, `${op.method} ${op.path}`);
      }
      const form = await t.http.request(op.path, {
        method: op.method,
        raw: 'email=a&password=b',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(op.secured ? auth : {}) },
      });
      assert.equal(form.status, 415, `${op.method} ${op.path} as a form`);
    }
  });

  it('a field a JSON route does not know is refused by name, never silently dropped; OAuth forms ignore theirs (RFC 6749)', async () => {
    const typo = await t.http.post('/api/v1/api-keys', { name: 'ci', expires_in_day: 7 }, { token: admin.accessToken });
    assert.equal(typo.status, 400);
    assert.equal(typo.body.error, 'invalid_request');
    assert.match(String(typo.body.error_description), /unknown field "expires_in_day"/);
    const keys = await t.http.get<{ api_keys: Array<{ name: string }> }>('/api/v1/api-keys', { token: admin.accessToken });
    assert.equal(keys.body.api_keys.some((k) => k.name === 'ci'), false, 'nothing was created with a default the caller did not choose');

    const login = await t.http.post('/api/v1/public/login', { email: admin.email, password: admin.password, remember_me: true });
    assert.equal(login.status, 400);
    assert.match(String(login.body.error_description), /unknown field "remember_me"/);

    const form = await t.http.request('/oauth/token', {
      method: 'POST',
      raw: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: admin.refreshToken, client_id: 'aim-sdk', extension: 'x' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.notEqual(form.body.error, 'invalid_request', 'an unknown form parameter is ignored, as RFC 6749 §3.2 asks');
  });

  it('a misspelt query filter is refused by name instead of listing everything; routes without filters ignore a query', async () => {
    const typo = await t.http.get('/api/v1/agents?stauts=active', { token: admin.accessToken });
    assert.equal(typo.status, 400);
    assert.equal(typo.body.error, 'invalid_request');
    assert.match(String(typo.body.error_description), /unknown query parameter "stauts"/);
    const known = await t.http.get('/api/v1/agents?status=active&limit=5', { token: admin.accessToken });
    assert.equal(known.status, 200);
    const cacheBuster = await t.http.get('/api/v1/users?_=1795770000', { token: admin.accessToken });
    assert.equal(cacheBuster.status, 200);
  });

  it('a value outside a fixed list names the values allowed, once each', async () => {
    const status = await t.http.get('/api/v1/agents?status=nope', { token: admin.accessToken });
    assert.equal(status.status, 400);
    assert.equal(status.body.error, 'invalid_request');
    assert.equal(status.body.error_description, 'querystring/status must be one of "active", "suspended", "revoked"');
    const role = await t.http.post('/api/v1/users', { email: 'enum@example.test', password: 'a long enough passphrase', role: 'owner' }, { token: admin.accessToken });
    assert.equal(role.status, 400);
    assert.match(String(role.body.error_description), /^body\/role must be one of "admin", "manager", "member", "viewer"$/);
  });

  it('an expired token and a token from another issuer are refused', async () => {
    const expired = await new SignJWT({ org: admin.organizationId, kind: 'session', scope: 'admin' })
      .setProtectedHeader({ alg: 'EdDSA', kid: t.server.services.signingKeys.current().kid, typ: 'at+jwt' })
      .setIssuer(t.server.config.publicUrl)
      .setAudience(t.server.config.publicUrl)
      .setSubject(admin.id)
      .setJti('x')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 1800)
      .sign(t.server.services.signingKeys.current().privateKey);
    const res = await t.http.get('/api/v1/auth/me', { token: expired });
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_token');
  });

  it('unknown routes answer 404 JSON', async () => {
    for (const path of ['/api/v1/nope', '/api/v2/agents', '/oauth/nothing']) {
      const res = await t.http.get(path);
      assertCatalogued(res, path);
      assert.equal(res.status, 404);
    }
  });

  it('the server is still up', async () => {
    assert.equal((await t.http.get('/health')).status, 200);
  });
});
