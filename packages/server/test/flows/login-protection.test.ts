import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HOUR, ManualClock, MINUTE, SECOND } from '../../src/core/clock.js';
import { startTestServer, type TestServer, type TestUser } from '../support/server.js';

const WRONG = 'not the password, sorry';
let addressCounter = 0;
const nextAddress = () => `172.16.${Math.floor(++addressCounter / 250)}.${addressCounter % 250}`;

for (const backend of ['memory', 'redis'] as const) {
  describe(`login protection (${backend})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    let t: TestServer;

    before(async () => {
      t = await startTestServer({
        clock,
        sharedState: backend,
        env: {
          // Requests per address are not what is under test here: only failed sign-ins.
          AIM_RATE_LIMIT_PUBLIC: '100000',
          AIM_TRUST_PROXY: '127.0.0.1',
        },
      });
    });
    after(() => t.close());

    const attempt = (email: string, password: string, address = nextAddress(), extra: Record<string, unknown> = {}) =>
      t.http.post('/api/v1/public/login', { email, password, ...extra }, { headers: { 'x-forwarded-for': address } });

    async function failFreely(user: TestUser, times: number): Promise<void> {
      for (let i = 0; i < times; i++) {
        const res = await attempt(user.email, WRONG);
        assert.equal(res.status, 401, `free attempt ${i + 1}`);
        assert.equal(res.body.error, 'invalid_credentials');
      }
    }

    it('a burst from many addresses against one account is slowed; the owner gets in once the delay passes', async () => {
      const user = await t.createUser();
      await failFreely(user, 5);

      const sixth = await attempt(user.email, WRONG);
      assert.equal(sixth.status, 429);
      assert.equal(sixth.body.error, 'rate_limited');
      assert.equal(sixth.headers.get('retry-after'), '1');
      for (let i = 0; i < 40; i++) assert.equal((await attempt(user.email, WRONG)).status, 429, 'every further address waits too');

      clock.advance(1 * SECOND);
      assert.equal((await attempt(user.email, WRONG)).status, 401, 'one guess after the wait');
      const second = await attempt(user.email, WRONG);
      assert.equal(second.status, 429);
      assert.equal(second.headers.get('retry-after'), '2', 'the wait doubles');
      clock.advance(2 * SECOND);
      assert.equal((await attempt(user.email, WRONG)).status, 401);
      assert.equal((await attempt(user.email, WRONG)).headers.get('retry-after'), '4');

      // The owner, from an address the account never used, waits like everyone else, then gets in.
      const ownerAddress = nextAddress();
      assert.equal((await attempt(user.email, user.password, ownerAddress)).status, 429);
      clock.advance(4 * SECOND);
      const owner = await attempt(user.email, user.password, ownerAddress);
      assert.equal(owner.status, 200, owner.text);

      // A success gives the account its free attempts back.
      assert.equal((await attempt(user.email, WRONG)).status, 401);
    });

    it('the owner, from an address they signed in from before, is not slowed by guesses from elsewhere', async () => {
      const user = await t.createUser();
      const home = nextAddress();
      assert.equal((await attempt(user.email, user.password, home)).status, 200);
      await failFreely(user, 5);
      for (let i = 0; i < 10; i++) assert.equal((await attempt(user.email, WRONG)).status, 429);

      assert.equal((await attempt(user.email, user.password, home)).status, 200, 'no wait at home');
      assert.equal((await attempt(user.email, WRONG, home)).status, 401, 'a typo at home counts against home only');
      assert.equal((await attempt(user.email, WRONG)).status, 429, 'elsewhere still waits');
    });

    it('waits grow to 15 minutes and no further, and an hour of quiet forgets them: never a lockout', async () => {
      const user = await t.createUser();
      await failFreely(user, 5);
      const waits: number[] = [];
      for (let i = 0; i < 12; i++) {
        const refused = await attempt(user.email, WRONG);
        assert.equal(refused.status, 429);
        const wait = Number(refused.headers.get('retry-after'));
        waits.push(wait);
        clock.advance(wait * SECOND);
        assert.equal((await attempt(user.email, WRONG)).status, 401);
      }
      assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);

      clock.advance(15 * MINUTE);
      assert.equal((await attempt(user.email, user.password)).status, 200, 'at most 15 minutes after the last guess');
      await failFreely(user, 5);
      clock.advance(HOUR);
      await failFreely(user, 5);
    });

    it('concurrent guesses cannot get past the free attempts', async () => {
      const user = await t.createUser();
      const results = await Promise.all(Array.from({ length: 20 }, () => attempt(user.email, WRONG)));
      assert.equal(results.filter((r) => r.status === 401).length, 5, `statuses: ${results.map((r) => r.status).join(',')}`);
      assert.equal(results.filter((r) => r.status === 429).length, 15);
    });

    it('unknown emails are throttled exactly like real ones, so a 429 tells nothing about an account', async () => {
      const email = `nobody-${++addressCounter}@example.test`;
      for (let i = 0; i < 5; i++) assert.equal((await attempt(email, WRONG)).status, 401);
      const refused = await attempt(email, WRONG);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '1');
    });

    it('one address guessing at many accounts is slowed, and signing in to its own account does not reset that', async () => {
      const address = nextAddress();
      const own = await t.createUser();
      for (let i = 0; i < 19; i++) assert.equal((await attempt(`target-${i}-${address}@example.test`, WRONG, address)).status, 401);
      assert.equal((await attempt(own.email, own.password, address)).status, 200);
      assert.equal((await attempt(`target-x-${address}@example.test`, WRONG, address)).status, 401, 'the 20th failure');
      const refused = await attempt(`target-y-${address}@example.test`, WRONG, address);
      assert.equal(refused.status, 429, 'the success gave one attempt back, not a clean slate');
      assert.equal((await attempt(`target-z-${address}@example.test`, WRONG, nextAddress())).status, 401, 'other addresses are not affected');
    });

    it('second-factor codes are throttled per user the same way', async () => {
      const user = await t.createUser();
      t.server.services.sessions.useSecondFactor({
        isEnrolled: async (id) => id === user.id,
        verify: async (_user, code) => code === '123456',
      });
      const withCode = (code: string) => attempt(user.email, user.password, nextAddress(), { totp_code: code });
      assert.equal((await attempt(user.email, user.password)).body.error, 'mfa_required');
      for (let i = 0; i < 5; i++) assert.equal((await withCode('000000')).status, 401);
      const refused = await withCode('123456');
      assert.equal(refused.status, 429, 'even the right code waits once the free attempts are spent');
      assert.equal(refused.headers.get('retry-after'), '1');
      clock.advance(1 * SECOND);
      assert.equal((await withCode('123456')).status, 200);
      assert.equal((await withCode('000000')).status, 401, 'a success starts the count over');
    });
  });
}

describe('login storm: password hashing is bounded', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({
      env: { AIM_RATE_LIMIT_PUBLIC: '100000', AIM_TRUST_PROXY: '127.0.0.1', AIM_PASSWORD_HASH_CONCURRENCY: '1', AIM_PASSWORD_HASH_QUEUE: '2' },
    });
  });
  after(() => t.close());

  it('past the queue a login answers 503 with Retry-After at once, never a 500; the queued ones still succeed', async () => {
    const user = await t.createUser();
    const storm = await Promise.all(
      Array.from({ length: 12 }, () =>
        t.http.post('/api/v1/public/login', { email: user.email, password: user.password }, { headers: { 'x-forwarded-for': nextAddress() } }),
      ),
    );
    const statuses = storm.map((r) => r.status).sort();
    assert.ok(statuses.every((s) => s === 200 || s === 503 || s === 429), `statuses ${statuses}`);
    const refused = storm.filter((r) => r.status === 503);
    assert.ok(refused.length >= 1, 'some were refused');
    for (const r of refused) {
      assert.equal(r.body.error, 'service_unavailable');
      assert.equal(r.headers.get('retry-after'), '1');
    }
    assert.ok(storm.some((r) => r.status === 200), 'the queued ones got in');
    const metrics = await t.http.get('/metrics');
    assert.match(metrics.text, /aim_password_hashes\{state="queued"\} 0/);
  });
});
