import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { registerAgent, signedAction } from '../support/agents.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('operations endpoints', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('/health and /health/ready report the process and each dependency', async () => {
    assert.deepEqual((await t.http.get('/health')).body, { status: 'ok' });
    const ready = await t.http.get<{ status: string; dependencies: Record<string, { status: string }> }>('/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
    assert.equal(ready.body.dependencies.database?.status, 'up');
  });

  it('/metrics counts requests per route template and auth class, decisions, reuse and pool use', async () => {
    const admin = await t.signIn();
    const agent = await registerAgent(t.http, admin.accessToken, { capabilities: ['search'] });
    await t.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, 'search', 'x'), { token: admin.accessToken });
    await t.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, 'deploy', 'x'), { token: admin.accessToken });
    await t.http.get(`/api/v1/agents/${agent.id}`, { token: admin.accessToken });
    await t.http.post('/api/v1/auth/refresh', { refresh_token: admin.refreshToken });
    await t.http.post('/api/v1/auth/refresh', { refresh_token: admin.refreshToken });

    const res = await t.http.get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = res.text;
    assert.match(text, /aim_http_requests_total\{method="GET",route="\/api\/v1\/agents\/:id",status="200",auth="jwt"\} 1/);
    assert.ok(!text.includes(agent.id), 'no ids in labels');
    assert.match(text, /aim_verify_action_decisions_total\{decision="allowed",reason="capability_granted"\} 1/);
    assert.match(text, /aim_verify_action_decisions_total\{decision="denied",reason="capability_missing"\} 1/);
    assert.match(text, /aim_refresh_token_reuse_detections_total\{kind="session"\} 1/);
    assert.match(text, /aim_db_pool_connections\{state="total"\} 1/);
    assert.match(text, /aim_http_request_duration_seconds_bucket/);
    assert.match(text, /aim_process_resident_memory_bytes/);
  });
});

describe('operations endpoints: rate-limit rejections in /metrics', () => {
  let t: TestServer;
  before(async () => {
    // The clock stands still: the five failed sign-ins and the throttled one all fall in one window.
    t = await startTestServer({ clock: new ManualClock(Date.UTC(2026, 5, 1)), env: { AIM_RATE_LIMIT_PUBLIC: '7' } });
  });
  after(() => t.close());

  it('counts every 429, by class: the per-address public limit and the login throttle', async () => {
    const user = await t.createUser();
    for (let i = 0; i < 5; i++) assert.equal((await t.http.post('/api/v1/public/login', { email: user.email, password: 'wrong password here' })).status, 401);
    const throttled = await t.http.post('/api/v1/public/login', { email: user.email, password: 'wrong password here' });
    assert.equal(throttled.status, 429);
    assert.equal((await t.http.get('/.well-known/jwks.json')).status, 200);
    const limited = await t.http.get('/.well-known/jwks.json');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('ratelimit-policy'), '"public";q=7;w=60');

    const text = (await t.http.get('/metrics')).text;
    assert.match(text, /aim_rate_limit_rejections_total\{class="public"\} 1\n/);
    assert.match(text, /aim_rate_limit_rejections_total\{class="login"\} 1\n/);
  });
});

describe('operations endpoints: AIM_METRICS_TOKEN', () => {
  const TOKEN = 'metrics-scraper-token-0123456789abcdef';
  let t: TestServer;
  let open: TestServer;
  before(async () => {
    [t, open] = await Promise.all([startTestServer({ env: { AIM_METRICS_TOKEN: TOKEN } }), startTestServer()]);
  });
  after(() => Promise.all([t.close(), open.close()]));

  it('set: /metrics answers only its bearer token; anything else is 401 invalid_token with a challenge', async () => {
    const ok = await t.http.get('/metrics', { token: TOKEN });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /aim_http_requests_total/);
    // The scheme is case-insensitive (RFC 9110 §11.1), as scrapers and proxies may send it.
    for (const scheme of ['bearer', 'BEARER']) assert.equal((await t.http.get('/metrics', { headers: { authorization: `${scheme} ${TOKEN}` } })).status, 200, scheme);
    const refusals: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.toUpperCase()}` },
      { authorization: `Basic ${Buffer.from(`prometheus:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
      { authorization: `Bearer  ${TOKEN}` },
    ];
    for (const headers of refusals) {
      const res = await t.http.get('/metrics', { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.body.error, 'invalid_token');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
      assert.ok(!res.text.includes('aim_'), 'no metrics in the refusal');
    }
    // A person's access token is not the metrics token.
    const admin = await t.signIn();
    assert.equal((await t.http.get('/metrics', { token: admin.accessToken })).status, 401);
    assert.equal((await t.http.get('/health')).status, 200, 'the probes stay open');
  });

  it('unset: /metrics stays open, as before', async () => {
    assert.equal((await open.http.get('/metrics')).status, 200);
  });
});
