import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AIMClient, RateLimitedError } from '@aim/sdk';
import { ManualClock } from '../../server/src/core/clock.js';
import { startTestServer, type TestServer } from '../../server/test/support/server.js';

/**
 * Rate-limit awareness against the real server with a fake clock: the SDK's waits advance the server's clock, so
 * a 60-second window passes without anyone sleeping.
 */
describe('SDK rate-limit awareness', () => {
  const clock = new ManualClock(Date.now());
  let t: TestServer;
  let apiKey: string;
  let served = 0;
  before(async () => {
    t = await startTestServer({ clock, env: { AIM_RATE_LIMIT_API_KEY: '3' } });
    const admin = await t.signIn();
    const created = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'limited' }, { token: admin.accessToken });
    apiKey = created.body.key;
  });
  after(async () => t?.close());

  const client = (retry?: { maxRetries?: number; maxWaitSeconds?: number }, waits: number[] = []) =>
    new AIMClient({
      baseUrl: t.url,
      auth: { apiKey },
      // Counts what the SDK actually sends.
      fetch: (input, init) => ((served += 1), fetch(input, init)),
      now: () => clock.now(),
      sleep: async (ms) => {
        waits.push(ms);
        clock.advance(ms);
      },
      retry: { maxWaitSeconds: 120, ...retry },
    });

  it('reads the RateLimit headers, waits for the reset instead of spending a request on a 429, and carries on', async () => {
    served = 0;
    const waits: number[] = [];
    const aim = client({}, waits);
    for (let i = 0; i < 3; i += 1) await aim.agents.list();
    assert.equal(aim.rateLimit?.remaining, 0);
    assert.equal(aim.rateLimit?.limit, 3);
    await aim.agents.list(); // the fourth: the SDK waits out the window first
    assert.equal(waits.length, 1);
    assert.ok(waits[0]! > 0 && waits[0]! <= 60_000);
    assert.equal(served, 4, 'four requests sent, none refused');
  });

  it('honours Retry-After on a 429 with a bounded number of retries', async () => {
    clock.advance(61_000);
    const other = client(); // a second client on the same key spends the quota the first one does not know about
    for (let i = 0; i < 3; i += 1) await other.agents.list();
    served = 0;
    const waits: number[] = [];
    const fresh = client({}, waits);
    const page = await fresh.agents.list(); // 429 with Retry-After, a wait, then served
    assert.ok(Array.isArray(page.agents));
    assert.equal(waits.length, 1);
    assert.equal(served, 2, 'one 429, then the retry');
  });

  it('a wait longer than allowed is thrown as RateLimitedError with retryAfter, without retrying', async () => {
    clock.advance(61_000);
    const other = client();
    for (let i = 0; i < 3; i += 1) await other.agents.list();
    served = 0;
    const impatient = client({ maxWaitSeconds: 1 });
    await assert.rejects(impatient.agents.list(), (e) => e instanceof RateLimitedError && e.status === 429 && e.retryAfter > 1);
    assert.equal(served, 1);
    // The same client now knows there is no quota left and says so without asking.
    await assert.rejects(impatient.agents.list(), RateLimitedError);
    assert.equal(served, 1);
  });

  it('retries are bounded: with maxRetries 0 the first 429 is thrown', async () => {
    clock.advance(61_000);
    const other = client();
    for (let i = 0; i < 3; i += 1) await other.agents.list();
    await assert.rejects(client({ maxRetries: 0 }).agents.list(), RateLimitedError);
  });
});
