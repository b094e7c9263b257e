import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, SECOND } from '../../src/core/clock.js';
import { REDIS_TEST_URL } from '../support/databases.js';
import type { HttpResult } from '../support/http.js';
import { dropRedisPrefix, uniqueRedisPrefix } from '../support/redis.js';
import { startTestServer, type TestServer, type TestUser } from '../support/server.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/** A second boundary: the sliding window counts in one-second buckets, so whole-second moves are exact. */
const T0 = Date.UTC(2026, 5, 1);
let addressCounter = 0;
/** A client address of its own for each use, sent through the trusted proxy (127.0.0.1). */
const nextAddress = () => `10.20.${Math.floor(++addressCounter / 250)}.${addressCounter % 250}`;

async function login(t: TestServer, user: TestUser, address = nextAddress()): Promise<string> {
  const res = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: user.email, password: user.password }, {
    headers: { 'x-forwarded-for': address },
  });
  assert.equal(res.status, 200, res.text);
  return res.body.access_token;
}

function assertHeaders(res: HttpResult, expected: { policy: string; limit: number; remaining: number; reset: number }): void {
  assert.equal(res.headers.get('ratelimit-limit'), String(expected.limit));
  assert.equal(res.headers.get('ratelimit-remaining'), String(expected.remaining));
  assert.equal(res.headers.get('ratelimit-reset'), String(expected.reset));
  assert.equal(res.headers.get('ratelimit-policy'), `"${expected.policy}";q=${expected.limit};w=60`);
  assert.equal(res.headers.get('ratelimit'), `"${expected.policy}";r=${expected.remaining};t=${expected.reset}`);
}

for (const backend of ['memory', 'redis'] as const) {
  describe(`rate limits over HTTP (${backend})`, () => {
    const clock = new ManualClock(T0);
    let t: TestServer;

    before(async () => {
      t = await startTestServer({
        clock,
        sharedState: backend,
        env: {
          AIM_RATE_LIMIT_JWT: '5',
          AIM_RATE_LIMIT_PUBLIC: '4',
          AIM_TRUST_PROXY: '127.0.0.1',
        },
      });
    });
    after(() => t.close());

    it(`reports its store in /health/ready`, async () => {
      const ready = await t.http.get<{ status: string; dependencies: Record<string, { status: string; detail?: string }> }>('/health/ready');
      assert.equal(ready.status, 200);
      assert.equal(ready.body.status, 'ready');
      assert.deepEqual(ready.body.dependencies.shared_state, { status: 'up', detail: backend === 'redis' ? 'redis' : 'memory' });
    });

    it('JWT, per user: request N passes, N+1 is 429 with Retry-After, and one window later it passes', async () => {
      const user = await t.createUser();
      const token = await login(t, user);
      for (let i = 1; i <= 5; i++) {
        const res = await t.http.get('/api/v1/auth/me', { token });
        assert.equal(res.status, 200, `request ${i}`);
        assertHeaders(res, { policy: 'jwt', limit: 5, remaining: 5 - i, reset: 60 });
      }
      const refused = await t.http.get('/api/v1/auth/me', { token });
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error, 'rate_limited');
      assert.equal(typeof refused.body.error_description, 'string');
      assert.equal(refused.headers.get('retry-after'), '60');
      assertHeaders(refused, { policy: 'jwt', limit: 5, remaining: 0, reset: 60 });

      clock.advance(59 * SECOND);
      const stillRefused = await t.http.get('/api/v1/auth/me', { token });
      assert.equal(stillRefused.status, 429);
      assert.equal(stillRefused.headers.get('retry-after'), '1');

      clock.advance(1 * SECOND);
      const again = await t.http.get('/api/v1/auth/me', { token });
      assert.equal(again.status, 200, 'one window after the first request');
      assertHeaders(again, { policy: 'jwt', limit: 5, remaining: 4, reset: 60 });
    });

    it('JWT: each user has a limit of their own, shared by all of their sessions', async () => {
      const alice = await t.createUser();
      const bob = await t.createUser();
      const aliceTokens = [await login(t, alice), await login(t, alice)];
      const bobToken = await login(t, bob);
      for (let i = 0; i < 5; i++) assert.equal((await t.http.get('/api/v1/auth/me', { token: aliceTokens[i % 2] })).status, 200);
      assert.equal((await t.http.get('/api/v1/auth/me', { token: aliceTokens[0] })).status, 429);
      assert.equal((await t.http.get('/api/v1/auth/me', { token: aliceTokens[1] })).status, 429, 'a second session shares the limit');
      assert.equal((await t.http.get('/api/v1/auth/me', { token: bobToken })).status, 200, 'another user is not affected');
    });

    it('the window slides: requests leave it one second at a time', async () => {
      const user = await t.createUser();
      const token = await login(t, user);
      for (let i = 0; i < 3; i++) await t.http.get('/api/v1/auth/me', { token });
      clock.advance(20 * SECOND);
      for (let i = 0; i < 2; i++) await t.http.get('/api/v1/auth/me', { token });
      const refused = await t.http.get('/api/v1/auth/me', { token });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '40', 'the first three leave 60 s after they came');
      clock.advance(40 * SECOND);
      const ok = await t.http.get('/api/v1/auth/me', { token });
      assert.equal(ok.status, 200);
      assertHeaders(ok, { policy: 'jwt', limit: 5, remaining: 2, reset: 20 });
    });

    it('public routes: per client address, taken from X-Forwarded-For only behind a trusted proxy', async () => {
      const address = nextAddress();
      for (let i = 1; i <= 4; i++) {
        const res = await t.http.get('/.well-known/jwks.json', { headers: { 'x-forwarded-for': address } });
        assert.equal(res.status, 200);
        assertHeaders(res, { policy: 'public', limit: 4, remaining: 4 - i, reset: 60 });
      }
      const refused = await t.http.get('/.well-known/jwks.json', { headers: { 'x-forwarded-for': address } });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '60');
      assert.equal((await t.http.get('/.well-known/jwks.json', { headers: { 'x-forwarded-for': nextAddress() } })).status, 200);
    });

    it('IPv6 clients count by /64', async () => {
      const net = `2001:db8:${(++addressCounter).toString(16)}:7`;
      for (let i = 0; i < 4; i++) {
        const res = await t.http.get('/.well-known/jwks.json', { headers: { 'x-forwarded-for': `${net}::${i + 1}` } });
        assert.equal(res.status, 200);
      }
      assert.equal((await t.http.get('/.well-known/jwks.json', { headers: { 'x-forwarded-for': `${net}:ffff::1` } })).status, 429);
      assert.equal((await t.http.get('/.well-known/jwks.json', { headers: { 'x-forwarded-for': `${net.slice(0, -1)}8::1` } })).status, 200);
    });

    it('a refused client is served again once Retry-After has passed, however hard it pushed', async () => {
      const address = nextAddress();
      const get = () => t.http.get('/.well-known/jwks.json', { headers: { 'x-forwarded-for': address } });
      for (let i = 0; i < 4; i++) await get();
      for (let i = 0; i < 30; i++) assert.equal((await get()).status, 429);
      const wait = Number((await get()).headers.get('retry-after'));
      clock.advance(wait * SECOND);
      assert.equal((await get()).status, 200, 'refused requests were not counted');
    });

    it('bad credentials count against the address: the (limit+1)th is 429 with the headers; valid credentials keep their class', async () => {
      const user = await t.createUser();
      const token = await login(t, user);
      const address = nextAddress();
      const as = (auth: { token?: string; apiKey?: string }) => t.http.get('/api/v1/auth/me', { ...auth, headers: { 'x-forwarded-for': address } });
      const bad = [{ token: 'not-a-jwt' }, { apiKey: 'ak_live_notakey' }, {}, { token: `${token.slice(0, -4)}AAAA` }];
      for (let i = 1; i <= 4; i++) {
        const res = await as(bad[i - 1]!);
        assert.equal(res.status, 401, `bad credential ${i}`);
        assertHeaders(res, { policy: 'public', limit: 4, remaining: 4 - i, reset: 60 });
      }
      for (const credential of bad) {
        const refused = await as(credential);
        assert.equal(refused.status, 429, JSON.stringify(credential));
        assert.equal(refused.body.error, 'rate_limited');
        assert.equal(refused.headers.get('retry-after'), '60');
        assertHeaders(refused, { policy: 'public', limit: 4, remaining: 0, reset: 60 });
      }
      const valid = await as({ token });
      assert.equal(valid.status, 200, 'a valid credential from the same address is served');
      assertHeaders(valid, { policy: 'jwt', limit: 5, remaining: 4, reset: 60 });
      assert.equal((await t.http.get('/.well-known/jwks.json', { headers: { 'x-forwarded-for': address } })).status, 429, 'one budget with public routes');
      assert.equal((await t.http.get('/api/v1/auth/me', { token: 'not-a-jwt', headers: { 'x-forwarded-for': nextAddress() } })).status, 401, 'other addresses are not affected');
      clock.advance(60 * SECOND);
      assert.equal((await as({ token: 'not-a-jwt' })).status, 401, 'a window later, counted again');
    });

    it('an expired access token counts as a bad credential too', async () => {
      const user = await t.createUser();
      const token = await login(t, user);
      clock.advance(16 * 60 * SECOND); // past its 15 minutes and the clock-skew leeway
      const address = nextAddress();
      for (let i = 0; i < 4; i++) {
        const res = await t.http.get('/api/v1/auth/me', { token, headers: { 'x-forwarded-for': address } });
        assert.equal(res.body.error, 'invalid_token');
      }
      assert.equal((await t.http.get('/api/v1/auth/me', { token, headers: { 'x-forwarded-for': address } })).status, 429);
    });

    it('every response of a limited route carries the headers, errors included; probes are not limited', async () => {
      const address = nextAddress();
      const bad = await t.http.post('/api/v1/public/login', { email: 1 }, { headers: { 'x-forwarded-for': address } });
      assert.equal(bad.status, 400);
      assertHeaders(bad, { policy: 'public', limit: 4, remaining: 3, reset: 60 });
      for (let i = 0; i < 10; i++) {
        const health = await t.http.get('/health', { headers: { 'x-forwarded-for': address } });
        assert.equal(health.status, 200);
        assert.equal(health.headers.get('ratelimit-limit'), null);
      }
    });
  });
}

describe('bad credentials at the default public limit', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ clock: new ManualClock(T0), env: { AIM_TRUST_PROXY: '127.0.0.1' } });
  });
  after(() => t.close());

  it('an address gets 100 bad credentials a minute; the 101st is 429', async () => {
    const address = nextAddress();
    const headers = { 'x-forwarded-for': address };
    for (let i = 1; i <= 100; i++) {
      const res = await t.http.get('/api/v1/agents', i % 2 ? { apiKey: 'ak_live_guess', headers } : { token: 'guess', headers });
      assert.equal(res.status, 401, `attempt ${i}`);
    }
    const refused = await t.http.get('/api/v1/agents', { apiKey: 'ak_live_guess', headers });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('ratelimit-policy'), '"public";q=100;w=60');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  });
});

describe('rate limits when Redis goes away', () => {
  const clock = new ManualClock(T0);
  const prefix = uniqueRedisPrefix('outage');
  let proxy: TcpProxy;
  let t: TestServer;
  type Ready = { status: string; dependencies: Record<string, { status: string; detail?: string }> };

  before(async () => {
    proxy = TcpProxy.forUrl(REDIS_TEST_URL);
    await proxy.start();
    t = await startTestServer({
      clock,
      env: { AIM_RATE_LIMIT_PUBLIC: '3', AIM_TRUST_PROXY: '127.0.0.1', AIM_REDIS_URL: proxy.url(), AIM_REDIS_PREFIX: prefix },
    });
  });
  after(async () => {
    await t.close();
    await proxy.cut();
    await dropRedisPrefix(prefix);
  });

  const get = (address: string) => t.http.get('/.well-known/jwks.json', { headers: { 'x-forwarded-for': address } });
  const ready = () => t.http.get<Ready>('/health/ready');
  const warnings = () => t.logs.lines.filter((l) => l.includes('"level":40') && l.includes('redis unreachable')).length;

  it('degrades to per-node limits: still limiting, never a 500, degraded in /health/ready, one warning', async () => {
    assert.equal((await ready()).body.status, 'ready');
    await proxy.cut();
    await waitFor(async () => (await ready()).body.status === 'degraded');
    const health = await ready();
    assert.equal(health.status, 200, 'a degraded node still serves');
    assert.equal(health.body.dependencies.shared_state?.status, 'degraded');

    const address = nextAddress();
    for (let i = 0; i < 3; i++) assert.equal((await get(address)).status, 200);
    for (let i = 0; i < 10; i++) {
      const res = await get(address);
      assert.equal(res.status, 429, 'the gates stay shut without Redis');
      assert.equal(res.headers.get('retry-after'), '60');
    }
    const user = await t.createUser();
    const failed = await t.http.post('/api/v1/public/login', { email: user.email, password: 'wrong password, wrong' }, {
      headers: { 'x-forwarded-for': nextAddress() },
    });
    assert.equal(failed.status, 401, 'login throttling works from memory too');
    assert.equal(warnings(), 1, 'one warning for the transition, not one per request');
  });

  it('returns to shared limits when Redis is back', async () => {
    await proxy.start();
    await waitFor(async () => (await ready()).body.status === 'ready', 10_000);
    assert.equal((await ready()).body.dependencies.shared_state?.detail, 'redis');
    const address = nextAddress();
    for (let i = 0; i < 3; i++) assert.equal((await get(address)).status, 200);
    assert.equal((await get(address)).status, 429);
    assert.ok(t.logs.lines.some((l) => l.includes('redis reachable again')));
    assert.equal(warnings(), 1);
  });
});

/** Waits for an asynchronous effect (a socket closing, a reconnect), polling every 50 ms. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
