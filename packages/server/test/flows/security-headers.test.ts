import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';

/** What every response must carry, whatever its status. */
function assertSecurityHeaders(headers: Headers, label: string): void {
  const csp = headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'"]) {
    assert.ok(csp.includes(directive), `${label}: CSP has ${directive} (${csp})`);
  }
  assert.ok(!/script-src[^;]*'unsafe-inline'/.test(csp), `${label}: no inline scripts`);
  assert.equal(headers.get('x-content-type-options'), 'nosniff', label);
  assert.equal(headers.get('x-frame-options'), 'DENY', label);
  assert.equal(headers.get('referrer-policy'), 'no-referrer', label);
}

describe('security headers and CORS', () => {
  let t: TestServer;
  let https: TestServer;
  let withCors: TestServer;
  let token: string;
  before(async () => {
    [t, https, withCors] = await Promise.all([
      startTestServer(),
      startTestServer({ env: { AIM_PUBLIC_URL: 'https://aim.example.com' } }),
      startTestServer({ env: { AIM_CORS_ORIGINS: 'https://app.example.com,http://localhost:5173' } }),
    ]);
    token = (await t.signIn({ role: 'member' })).accessToken;
  });
  after(async () => {
    await Promise.all([t.close(), https.close(), withCors.close()]);
  });

  it('are on every response: success, 400, 401, 403, 404, and the JWKS', async () => {
    const responses = {
      health: await t.http.get('/health'),
      jwks: await t.http.get('/.well-known/jwks.json'),
      me: await t.http.get('/api/v1/auth/me', { token }),
      'bad body': await t.http.post('/api/v1/public/login', { email: 1 }),
      'no token': await t.http.get('/api/v1/auth/me'),
      'wrong scope': await t.http.get('/api/v1/users', { token }),
      'unknown route': await t.http.get('/api/v1/nothing-here'),
      // A missing file: 404 whether or not the web UI is built (a client-side route would get the UI's page).
      'unknown page': await t.http.get('/some/page.html', { headers: { accept: 'text/html' } }),
      'API docs': await t.http.get('/docs'),
    };
    assert.deepEqual(Object.values(responses).map((r) => r.status), [200, 200, 200, 400, 401, 403, 404, 404, 200]);
    assert.ok(!(responses['API docs'].headers.get('content-security-policy') ?? '').includes('upgrade-insecure-requests'), 'not over plain HTTP');
    for (const [label, res] of Object.entries(responses)) assertSecurityHeaders(res.headers, label);
  });

  it('API answers are never cached', async () => {
    for (const res of [await t.http.get('/api/v1/auth/me', { token }), await t.http.get('/api/v1/auth/me')]) {
      assert.equal(res.headers.get('cache-control'), 'no-store');
    }
  });

  it('HSTS only when AIM_PUBLIC_URL is https', async () => {
    assert.equal((await t.http.get('/health')).headers.get('strict-transport-security'), null);
    const hsts = (await https.http.get('/health')).headers.get('strict-transport-security') ?? '';
    assert.match(hsts, /max-age=31536000/);
    assert.match(hsts, /includeSubDomains/);
    assertSecurityHeaders((await https.http.get('/api/v1/auth/me')).headers, 'https 401');
  });

  it('a request Node refuses before routing (oversized headers) still answers JSON with nosniff', async () => {
    const { status, headers } = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const url = new URL(t.url);
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/health', headers: { 'x-big': 'x'.repeat(20_000) } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 431);
    assert.equal(headers['x-content-type-options'], 'nosniff');
  });

  it('CORS is closed by default: no Access-Control-Allow-Origin, preflight or not', async () => {
    const preflight = await t.http.request('/api/v1/auth/me', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const simple = await t.http.get('/api/v1/auth/me', { token, headers: { origin: 'https://app.example.com' } });
    assert.equal(simple.headers.get('access-control-allow-origin'), null);
  });

  it('AIM_CORS_ORIGINS opens the API to the listed origins only, without credentials', async () => {
    const preflight = (origin: string) =>
      withCors.http.request('/api/v1/auth/me', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    const allowed = await preflight('https://app.example.com');
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /authorization/);
    assert.equal(allowed.headers.get('access-control-allow-credentials'), null, 'the session cookie never travels cross-origin');
    assert.equal((await preflight('http://localhost:5173')).headers.get('access-control-allow-origin'), 'http://localhost:5173');

    const denied = await preflight('https://evil.example');
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
    const admin = await withCors.signIn({ role: 'member' });
    const actual = await withCors.http.get('/api/v1/auth/me', { token: admin.accessToken, headers: { origin: 'https://app.example.com' } });
    assert.equal(actual.status, 200);
    assert.equal(actual.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assertSecurityHeaders(actual.headers, 'CORS response');
  });

  it('AIM_CORS_ORIGINS allows every method the API uses, PATCH and DELETE included, and a cross-origin DELETE works', async () => {
    const preflight = await withCors.http.request('/api/v1/api-keys/x', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'x-api-key' },
    });
    assert.equal(preflight.status, 204);
    const methods = (preflight.headers.get('access-control-allow-methods') ?? '').split(',').map((m) => m.trim());
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) assert.ok(methods.includes(method), `${method} in ${methods.join(',')}`);

    const admin = await withCors.signIn({ role: 'admin' });
    const created = await withCors.http.post<{ id: string }>('/api/v1/api-keys', { name: 'cors' }, { token: admin.accessToken });
    assert.equal(created.status, 201);
    const revoked = await withCors.http.request<{ status: string }>(`/api/v1/api-keys/${created.body.id}`, {
      method: 'DELETE',
      token: admin.accessToken,
      headers: { origin: 'https://app.example.com' },
    });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.status, 'revoked');
    assert.equal(revoked.headers.get('access-control-allow-origin'), 'https://app.example.com');
  });
});
