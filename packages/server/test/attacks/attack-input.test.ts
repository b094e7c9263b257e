import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { registerAgent } from '../support/agents.js';
import { STORE_KINDS } from '../support/databases.js';
import { assertCatalogued, operations } from '../support/openapi.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

/** Attack catalogue: hostile input. SQL-shaped strings, NUL bytes, oversized and deep JSON, header injection, open redirects. */

const SQL_SHAPES = [
  "' OR '1'='1",
  "'; DROP TABLE agents; --",
  '" OR ""="',
  "x' UNION SELECT id, secret_hash FROM refresh_tokens --",
  '1; SELECT pg_sleep(3); --',
  "' AND (SELECT 1 FROM sqlite_master) --",
  '\\',
  "\\'",
  '%',
  '_',
];

/** Sends raw bytes and reads the whole answer: for requests no HTTP client would form. */
function rawRequest(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
  });
}

for (const kind of STORE_KINDS) {
  describe(`attack catalogue: hostile input on ${kind}`, () => {
    let t: TestServer;
    let admin: SignedIn;
    before(async () => {
      t = await startTestServer({ store: kind });
      admin = await t.signIn({ role: 'admin' });
    });
    after(() => t.close());

    it('SQL-shaped strings are data: stored verbatim, matched literally, never executed', async () => {
      const names: string[] = [];
      for (const [i, shape] of SQL_SHAPES.entries()) {
        const name = `${shape} #${i}`;
        const res = await t.http.post('/api/v1/agents', { name, capabilities: ['search'] }, { token: admin.accessToken });
        assert.equal(res.status, 201, `${shape}: ${res.text}`);
        assert.equal(res.body.name, name);
        names.push(name);
      }
      // Search treats LIKE wildcards literally: `%` finds only names with a `%` in them.
      const percent = await t.http.get<{ agents: Array<{ name: string }> }>(`/api/v1/agents?q=${encodeURIComponent('%')}`, { token: admin.accessToken });
      assert.deepEqual(percent.body.agents.map((a) => a.name).sort(), names.filter((n) => n.includes('%')).sort());
      const quote = await t.http.get<{ agents: Array<{ name: string }>; total: number }>(`/api/v1/agents?q=${encodeURIComponent("' OR '1'='1")}`, { token: admin.accessToken });
      assert.equal(quote.body.total, 1);
      // Everywhere else a string reaches a query: answers stay catalogued and the tables stay.
      for (const shape of SQL_SHAPES) {
        const q = encodeURIComponent(shape);
        const probes = [
          await t.http.post('/api/v1/public/login', { email: shape, password: shape }),
          await t.http.post('/api/v1/public/login', { email: `${admin.email}${shape}`, password: admin.password }),
          await t.http.post('/api/v1/auth/refresh', { refresh_token: `rt_${shape}.x` }),
          await t.http.get(`/api/v1/agents/${q}`, { token: admin.accessToken }),
          await t.http.get(`/api/v1/audit-logs?actor=${q}`, { token: admin.accessToken }),
          await t.http.get(`/api/v1/agents?q=${q}&cursor=${q}`, { token: admin.accessToken }),
          await t.http.get('/api/v1/agents', { apiKey: `ak_live_${shape}` }),
        ];
        for (const res of probes) {
          assert.notEqual(res.status, 500, res.text);
          if (res.status >= 400) assertCatalogued(res, shape);
          assert.ok(!res.text.includes('secret_hash'), 'no column of another table leaks into an answer');
        }
      }
      const all = await t.http.get<{ total: number }>('/api/v1/agents', { token: admin.accessToken });
      assert.equal(all.body.total, SQL_SHAPES.length, 'the agents table is intact');
      assert.equal((await t.http.get('/api/v1/auth/me', { token: admin.accessToken })).status, 200, 'the users table is intact');
    });

    it('NUL characters anywhere in a request answer 400 invalid_request (PostgreSQL cannot store them)', async () => {
      const auth = { token: admin.accessToken };
      const cases = [
        await t.http.post('/api/v1/agents', { name: 'nul\u0000agent' }, auth),
        await t.http.post('/api/v1/agents', { name: 'ok', description: 'a\u0000b' }, auth),
        await t.http.post('/api/v1/agents', { name: 'ok', capabilities: ['search'], ['k\u0000']: 1 }, auth),
        await t.http.post('/api/v1/public/login', { email: 'a\u0000@example.test', password: 'x' }),
        await t.http.post('/api/v1/auth/refresh', { refresh_token: 'rt_\u0000' }),
        await t.http.get('/api/v1/agents?q=%00', auth),
        await t.http.get('/api/v1/agents/%00', auth),
        await t.http.get('/api/v1/audit-logs?actor=a%00b', auth),
        await t.http.request('/oauth/token', {
          method: 'POST',
          raw: 'grant_type=refresh_token&refresh_token=rt_%00&client_id=aim-sdk',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      ];
      for (const res of cases) {
        assertCatalogued(res, res.text);
        assert.equal(res.status, 400, res.text);
        assert.equal(res.body.error, 'invalid_request');
      }
    });
  });
}

describe('attack catalogue: oversized bodies, deep nesting, header injection, open redirects', () => {
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    t = await startTestServer();
    admin = await t.signIn({ role: 'admin' });
  });
  after(() => t.close());

  it('oversized bodies are 413 before they are parsed, with or without Content-Length', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    const res = await t.http.post('/api/v1/agents', JSON.parse(big), { token: admin.accessToken });
    assert.equal(res.status, 413);
    assert.equal(res.body.error, 'payload_too_large');
    const chunked = await rawRequest(
      t.url,
      `POST /api/v1/public/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        `${(200_000).toString(16)}\r\n${'x'.repeat(200_000)}\r\n0\r\n\r\n`,
    );
    assert.match(chunked, /^HTTP\/1\.1 413 /);
    assert.match(chunked, /"error":"payload_too_large"/);
  });

  it('deeply nested, very wide and prototype-polluting JSON is refused or ignored, never a crash', async () => {
    const auth = { token: admin.accessToken };
    const within = 60_000; // under the 64 KiB body limit
    const deepArray = '['.repeat(within / 2) + ']'.repeat(within / 2);
    const deepObject = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const wide = `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    const wideArray = JSON.stringify({ name: 'wide', capabilities: Array.from({ length: 6000 }, () => 'a') });
    for (const [label, raw] of [['deep array', deepArray], ['deep object', deepObject], ['5000 keys', wide], ['6000 capabilities', wideArray]] as const) {
      for (const path of ['/api/v1/agents', '/api/v1/public/login']) {
        const res = await t.http.request(path, { method: 'POST', raw, headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.accessToken}` } });
        assertCatalogued(res, `${label} to ${path}`);
        assert.ok(res.status === 400 || res.status === 413, `${label}: ${res.status}`);
      }
    }
    const polluted = await t.http.request('/api/v1/agents', {
      method: 'POST',
      raw: '{"name":"proto","__proto__":{"role":"admin","scopes":["admin"]},"constructor":{"prototype":{"isAdmin":true}}}',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.accessToken}` },
    });
    assert.ok(polluted.status === 400 || polluted.status === 201, polluted.text);
    assert.equal(({} as Record<string, unknown>).role, undefined, 'Object.prototype untouched');
    const member = await t.signIn({ role: 'viewer' });
    const still = await t.http.post('/api/v1/agents', { name: 'viewer-cannot' }, { token: member.accessToken });
    assert.equal(still.status, 403, 'no privilege leaked through the prototype');
    assert.equal((await t.http.get('/health', auth)).status, 200);
  });

  it('header injection: CR/LF, NUL and obs-fold in headers are refused at the parser; nothing is reflected', async () => {
    const injections: Array<[string, number[]]> = [
      [`GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\rX-Injected: 1\r\nConnection: close\r\n\r\n`, [400]],
      [`GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nX-API-Key: ak_live_x\u0000X-Injected: 1\r\nConnection: close\r\n\r\n`, [400]],
      [`GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nX-API-Key: ak_live_x\r\n X-Injected: folded\r\nConnection: close\r\n\r\n`, [400, 401]],
      // A request line split by CR/LF: whatever it means, the split-off line is never echoed as a response header.
      [`GET /health\r\nSet-Cookie: x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, [200, 400]],
      // Request smuggling: Content-Length and Transfer-Encoding together.
      [`GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`, [400]],
    ];
    for (const [request, allowed] of injections) {
      const answer = await rawRequest(t.url, request);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
      assert.ok(allowed.includes(status), `${JSON.stringify(request)} answered ${answer.slice(0, 120)}`);
      assert.ok(!/x-injected|set-cookie: x=1/i.test(answer.split('\r\n\r\n')[0]!), 'no injected header in the answer');
    }
    // Percent-encoded CR/LF in the path and query stays in the body's text at most, never in a header.
    const res = await t.http.get('/api/v1/nope%0d%0aSet-Cookie:%20pwned=1?x=%0d%0aLocation:%20https://evil.example');
    assert.equal(res.status, 404);
    assert.equal(res.headers.getSetCookie().length, 0);
    assert.equal(res.headers.get('location'), null);
    // Host header poisoning: links and the issuer come from AIM_PUBLIC_URL, never from Host or X-Forwarded-Host.
    const meta = await t.http.get<{ issuer: string; token_endpoint: string }>('/.well-known/oauth-authorization-server', {
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
    });
    assert.equal(meta.body.issuer, t.server.config.publicUrl);
    assert.ok(meta.body.token_endpoint.startsWith(t.server.config.publicUrl));
  });

  it('open redirects: no route sends a client to an address it was given', async () => {
    const ops = await operations(t.http);
    const evil = encodeURIComponent('https://evil.example/landing');
    const params = ['redirect_uri', 'redirect', 'return_to', 'returnTo', 'next', 'url', 'continue', 'callback'].map((p) => `${p}=${evil}`).join('&');
    const paths = [
      ...ops.filter((o) => o.method === 'GET').map((o) => o.path),
      '/',
      '/docs',
      '/docs/',
      '//evil.example/',
      '//evil.example/%2e%2e',
      '/%2f%2fevil.example',
      '/\\evil.example',
      '/login',
      '/oauth/authorize',
      '/api/v1/public/login',
    ];
    for (const path of paths) {
      for (const headers of [{}, { authorization: `Bearer ${admin.accessToken}` }] as Array<Record<string, string>>) {
        const res = await fetch(`${t.url}${path}${path.includes('?') ? '&' : '?'}${params}`, { redirect: 'manual', headers });
        await res.arrayBuffer();
        const location = res.headers.get('location');
        if (location !== null) {
          const target = new URL(location, t.url);
          assert.equal(target.origin, new URL(t.url).origin, `${path} redirects to ${location}`);
        }
        assert.notEqual(res.status, 500, path);
      }
    }
  });
});
