import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';

const PAGE = '<!doctype html><html><head><script type="module" src="/assets/app-1a2b3c.js"></script></head><body><div id="root"></div></body></html>';
const HTML = { accept: 'text/html,application/xhtml+xml' };

describe('web UI serving', () => {
  let dir: string;
  let built: TestServer;
  let missing: TestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aim-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), PAGE);
    writeFileSync(join(dir, 'assets', 'app-1a2b3c.js'), 'console.log("aim");\n');
    [built, missing] = await Promise.all([startTestServer({ webDir: dir }), startTestServer({ webDir: join(dir, 'not-built') })]);
  });
  after(async () => {
    await Promise.all([built.close(), missing.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page at / under the strict CSP, revalidated on every load', async () => {
    const page = await built.http.get('/', { headers: HTML });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(page.text, PAGE);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-eval/);
    assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/);
  });

  it('serves hashed assets with a long cache lifetime', async () => {
    const asset = await built.http.get('/assets/app-1a2b3c.js');
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /javascript/);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  });

  it('answers client-side routes with the page (SPA fallback)', async () => {
    for (const path of ['/agents', '/agents/7f1c0000-0000-4000-8000-000000000000', '/settings?tab=2fa', '/login']) {
      const page = await built.http.get(path, { headers: HTML });
      assert.equal(page.status, 200, path);
      assert.equal(page.text, PAGE, path);
    }
  });

  it('keeps JSON 404s for the API, missing assets and non-HTML requests', async () => {
    const cases = [
      built.http.get('/api/v1/no-such-route', { headers: HTML }),
      built.http.get('/oauth/nothing', { headers: HTML }),
      built.http.get('/.well-known/nothing', { headers: HTML }),
      built.http.get('/assets/missing-000000.js', { headers: HTML }),
      built.http.get('/agents', { headers: { accept: 'application/json' } }),
      built.http.request('/agents', { method: 'POST', body: {}, headers: HTML }),
    ];
    for (const answer of await Promise.all(cases)) {
      assert.equal(answer.status, 404, answer.text);
      assert.equal(answer.body.error, 'not_found');
      assert.equal(typeof answer.body.error_description, 'string');
    }
    const guarded = await built.http.get('/api/v1/agents', { headers: HTML });
    assert.equal(guarded.status, 401);
    assert.equal(guarded.body.error, 'invalid_token');
  });

  it('starts without a build and says the UI is not built', async () => {
    assert.equal((await missing.http.get('/health')).status, 200);
    for (const path of ['/', '/agents']) {
      const answer = await missing.http.get(path, { headers: HTML });
      assert.equal(answer.status, 404, path);
      assert.equal(answer.body.error, 'not_found');
      assert.match(String(answer.body.error_description), /not built/);
    }
    assert.equal((await missing.http.get('/api/v1/nothing')).body.error, 'not_found');
  });
});
