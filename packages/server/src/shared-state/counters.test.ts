import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REDIS_TEST_URL } from '../../test/support/databases.js';
import { LogCapture } from '../../test/support/logs.js';
import { dropRedisPrefix, uniqueRedisPrefix } from '../../test/support/redis.js';
import { TcpProxy } from '../../test/support/tcp-proxy.js';
import { systemClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { MemoryCounters, type BackoffPolicy, type SharedCounters, type WindowSpec } from './counters.js';
import { FailoverCounters } from './failover.js';
import { RedisCounters } from './redis-counters.js';
import { RedisConnection } from './redis.js';
import { RedisPubSub } from './redis-pubsub.js';
import { RedisRevocationList } from './redis-shared-state.js';

const MINUTE_WINDOW: WindowSpec = { windowMs: 60_000, buckets: 60 };
/** A time on a bucket boundary, so "one window later" is exact. */
const T0 = 1_800_000_000_000;
const POLICY: BackoffPolicy = { free: 3, baseMs: 1000, capMs: 4000, forgetMs: 60_000 };
const silent = createLogger('silent');

/** One contract, two stores: every promise of `SharedCounters` holds in memory and in Redis. */
for (const kind of ['memory', 'redis'] as const) {
  describe(`shared counters (${kind})`, () => {
    let counters: SharedCounters;
    let redis: RedisConnection | undefined;
    const prefix = uniqueRedisPrefix('counters');
    let n = 0;
    const key = (label: string) => `${label}:${++n}`;

    before(async () => {
      if (kind === 'memory') {
        counters = new MemoryCounters();
        return;
      }
      redis = new RedisConnection({ url: REDIS_TEST_URL, prefix, logger: silent });
      assert.equal(await redis.connect(), true, `Redis must be up at ${REDIS_TEST_URL}`);
      counters = new RedisCounters(redis);
    });
    after(async () => {
      if (!redis) return;
      await redis.close();
      await dropRedisPrefix(prefix);
    });

    it('window: hit N passes, hit N+1 is refused, and one window later it passes again', async () => {
      const k = key('w');
      for (let i = 1; i <= 5; i++) {
        const hit = await counters.hitWindow(k, 5, MINUTE_WINDOW, T0 + i);
        assert.equal(hit.allowed, true, `hit ${i}`);
        assert.equal(hit.count, i);
      }
      assert.equal((await counters.hitWindow(k, 5, MINUTE_WINDOW, T0 + 10)).allowed, false);
      assert.equal((await counters.hitWindow(k, 5, MINUTE_WINDOW, T0 + 59_999)).allowed, false, 'a millisecond before the window ends');
      const later = await counters.hitWindow(k, 5, MINUTE_WINDOW, T0 + 60_000);
      assert.equal(later.allowed, true, 'exactly one window later');
      assert.equal(later.count, 1);
    });

    it('window: slides one bucket at a time, and refused hits are not counted', async () => {
      const k = key('w');
      for (let i = 0; i < 3; i++) await counters.hitWindow(k, 5, MINUTE_WINDOW, T0);
      for (let i = 0; i < 2; i++) await counters.hitWindow(k, 5, MINUTE_WINDOW, T0 + 30_000);
      for (let i = 0; i < 10; i++) assert.equal((await counters.hitWindow(k, 5, MINUTE_WINDOW, T0 + 45_000)).allowed, false);
      const slid = await counters.hitWindow(k, 5, MINUTE_WINDOW, T0 + 60_000);
      assert.equal(slid.allowed, true);
      assert.equal(slid.count, 3, 'the three hits at T0 left; the two at T0+30s and this one remain');
      assert.deepEqual(slid.buckets, [
        [(T0 + 30_000) / 1000, 2],
        [(T0 + 60_000) / 1000, 1],
      ]);
      await counters.hitWindow(k, 5, MINUTE_WINDOW, T0 + 60_000);
      await counters.hitWindow(k, 5, MINUTE_WINDOW, T0 + 60_000);
      assert.equal((await counters.hitWindow(k, 5, MINUTE_WINDOW, T0 + 89_999)).allowed, false);
      assert.equal((await counters.hitWindow(k, 5, MINUTE_WINDOW, T0 + 90_000)).count, 4);
    });

    it('window: keys are independent', async () => {
      const a = key('w');
      const b = key('w');
      assert.equal((await counters.hitWindow(a, 1, MINUTE_WINDOW, T0)).allowed, true);
      assert.equal((await counters.hitWindow(a, 1, MINUTE_WINDOW, T0)).allowed, false);
      assert.equal((await counters.hitWindow(b, 1, MINUTE_WINDOW, T0)).allowed, true);
    });

    it('window: of 60 concurrent hits with a limit of 25, exactly 25 pass', async () => {
      const k = key('w');
      const hits = await Promise.all(Array.from({ length: 60 }, () => counters.hitWindow(k, 25, MINUTE_WINDOW, T0)));
      assert.equal(hits.filter((h) => h.allowed).length, 25);
      assert.deepEqual(hits.filter((h) => h.allowed).map((h) => h.count).sort((x, y) => x - y), Array.from({ length: 25 }, (_, i) => i + 1));
    });

    it('attempts: free attempts, then waits of 1 s, 2 s, 4 s up to the cap', async () => {
      const k = [{ key: key('a'), policy: POLICY }];
      for (let i = 1; i <= 3; i++) assert.deepEqual(await counters.beginAttempt(k, T0), { allowed: true, waitMs: 0, counts: [i] });
      assert.deepEqual(await counters.beginAttempt(k, T0 + 1), { allowed: false, waitMs: 999, counts: [3] });
      assert.equal((await counters.beginAttempt(k, T0 + 1000)).allowed, true);
      assert.equal((await counters.beginAttempt(k, T0 + 2999)).waitMs, 1, 'the fourth attempt owes 2 s');
      assert.equal((await counters.beginAttempt(k, T0 + 3000)).allowed, true);
      assert.equal((await counters.beginAttempt(k, T0 + 3001)).waitMs, 3999, 'then 4 s');
      assert.equal((await counters.beginAttempt(k, T0 + 7000)).allowed, true);
      assert.equal((await counters.beginAttempt(k, T0 + 7001)).waitMs, 3999, 'capped at 4 s');
      assert.deepEqual(await counters.attemptCounts(k, T0 + 7001), [6]);
    });

    it('attempts: refused on every key while one key waits, and nothing is counted then', async () => {
      const busy = { key: key('a'), policy: POLICY };
      const fresh = { key: key('a'), policy: POLICY };
      for (let i = 0; i < 3; i++) await counters.beginAttempt([busy], T0);
      const refused = await counters.beginAttempt([fresh, busy], T0);
      assert.deepEqual(refused, { allowed: false, waitMs: 1000, counts: [0, 3] });
      assert.deepEqual(await counters.attemptCounts([fresh, busy], T0), [0, 3]);
    });

    it('attempts: of 30 concurrent attempts only the free ones pass', async () => {
      const k = [{ key: key('a'), policy: POLICY }];
      const outcomes = await Promise.all(Array.from({ length: 30 }, () => counters.beginAttempt(k, T0)));
      assert.equal(outcomes.filter((o) => o.allowed).length, 3);
    });

    it('attempts: forgiving resets a key or gives one attempt back; idle keys are forgotten', async () => {
      const a = { key: key('a'), policy: POLICY };
      const b = { key: key('a'), policy: POLICY };
      for (let i = 0; i < 3; i++) await counters.beginAttempt([a, b], T0);
      await counters.forgiveAttempt([
        { key: a.key, mode: 'reset' },
        { key: b.key, mode: 'one' },
      ]);
      assert.deepEqual(await counters.attemptCounts([a, b], T0), [0, 2]);
      assert.equal((await counters.beginAttempt([b], T0)).allowed, true, 'the attempt given back can be used');
      assert.equal((await counters.beginAttempt([b], T0)).allowed, false);
      assert.deepEqual(await counters.attemptCounts([b], T0 + 59_999), [3]);
      assert.deepEqual(await counters.attemptCounts([b], T0 + 60_000), [0], 'forgotten a minute after its last attempt');
      assert.deepEqual(await counters.beginAttempt([b], T0 + 60_000), { allowed: true, waitMs: 0, counts: [1] });
    });

    it('flags: read as set until they expire', async () => {
      const f = key('f');
      assert.equal(await counters.hasFlag(f, T0), false);
      await counters.setFlag(f, 10_000, T0);
      assert.equal(await counters.hasFlag(f, T0 + 9_999), true);
      assert.equal(await counters.hasFlag(f, T0 + 10_000), false);
    });
  });
}

describe('failover from Redis to memory', () => {
  const prefix = uniqueRedisPrefix('failover');
  const logs = new LogCapture();
  const logger = createLogger('info', logs);
  let proxy: TcpProxy;
  let redis: RedisConnection;
  let counters: FailoverCounters;

  before(async () => {
    proxy = TcpProxy.forUrl(REDIS_TEST_URL);
    await proxy.start();
    redis = new RedisConnection({ url: proxy.url(), prefix, logger, maxReconnectDelayMs: 200 });
    assert.equal(await redis.connect(), true);
    counters = new FailoverCounters(new RedisCounters(redis), new MemoryCounters(), redis, logger);
  });
  after(async () => {
    await redis.close();
    await proxy.cut();
    await dropRedisPrefix(prefix);
  });

  const warnings = () => logs.lines.filter((l) => l.includes('rate limits and login throttling fall back')).length;

  it('shares counts through Redis while it answers', async () => {
    assert.deepEqual(counters.health(), { status: 'up', detail: 'redis' });
    assert.equal((await counters.hitWindow('shared', 2, MINUTE_WINDOW, T0)).count, 1);
    const other = new RedisCounters(redis);
    assert.equal((await other.hitWindow('shared', 2, MINUTE_WINDOW, T0)).count, 2, 'another node sees the same count');
  });

  it('when Redis goes away: per-node limits, still enforced, one warning, degraded health', async () => {
    await proxy.cut();
    await waitFor(() => counters.health().status === 'degraded');
    for (let i = 1; i <= 3; i++) assert.equal((await counters.hitWindow('local', 3, MINUTE_WINDOW, T0)).allowed, true);
    for (let i = 0; i < 20; i++) assert.equal((await counters.hitWindow('local', 3, MINUTE_WINDOW, T0)).allowed, false, 'never open');
    assert.equal((await counters.beginAttempt([{ key: 'x', policy: POLICY }], T0)).allowed, true);
    assert.equal(warnings(), 1, 'the transition is logged once, not per request');
    assert.equal(counters.health().status, 'degraded');
  });

  it('when Redis comes back: shared again, logged once', async () => {
    await proxy.start();
    await waitFor(() => counters.health().status === 'up', 10_000);
    assert.equal((await counters.hitWindow('shared', 2, MINUTE_WINDOW, T0)).allowed, false, 'the shared count survived the outage');
    assert.equal(logs.lines.filter((l) => l.includes('redis reachable again')).length, 1);
    assert.equal(warnings(), 1);
  });

  it('a Redis that is down at start-up leaves the node degraded, not stopped', async () => {
    const dead = new TcpProxy('127.0.0.1', 1);
    await dead.start();
    const deadUrl = dead.url();
    await dead.cut();
    const local = new LogCapture();
    const conn = new RedisConnection({ url: deadUrl, prefix, logger: createLogger('info', local), connectTimeoutMs: 300 });
    const failover = new FailoverCounters(new RedisCounters(conn), new MemoryCounters(), conn, createLogger('info', local));
    assert.equal(await conn.connect(), false);
    assert.equal((await failover.hitWindow('k', 1, MINUTE_WINDOW, T0)).allowed, true);
    assert.equal((await failover.hitWindow('k', 1, MINUTE_WINDOW, T0)).allowed, false);
    assert.equal(failover.health().status, 'degraded');
    await conn.close();
  });
});

describe('pub/sub across a Redis outage', () => {
  it('a node that subscribed while Redis was down hears messages once Redis is back', async () => {
    const prefix = uniqueRedisPrefix('pubsub');
    const proxy = TcpProxy.forUrl(REDIS_TEST_URL);
    await proxy.start();
    await proxy.cut();
    const conn = new RedisConnection({ url: proxy.url(), prefix, logger: silent, connectTimeoutMs: 300, maxReconnectDelayMs: 200 });
    const pubsub = new RedisPubSub(conn, silent);
    try {
      assert.equal(await conn.connect(), false, 'the node starts degraded');
      const heard: string[] = [];
      // Its SUBSCRIBE fails while Redis is away (a node starting during an outage).
      await pubsub.subscribe('revocations', (message) => heard.push(message));
      await proxy.start();
      await waitFor(() => conn.isReady(), 10_000);
      const deadline = Date.now() + 5000;
      while (heard.length === 0 && Date.now() < deadline) {
        await pubsub.publish('revocations', 'key-1 123').catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(heard.includes('key-1 123'), 'revocations announced by other nodes reach it');
    } finally {
      pubsub.close();
      await conn.close();
      await proxy.cut();
    }
  });
});

describe('pub/sub when Redis stalls while the subscriber resubscribes', () => {
  it('a SUBSCRIBE left unanswered is no unhandled rejection (which ends a Node process) when it fails', async () => {
    const proxy = TcpProxy.forUrl(REDIS_TEST_URL);
    await proxy.start();
    const conn = new RedisConnection({ url: proxy.url(), prefix: uniqueRedisPrefix('pubsub-stall'), logger: silent, connectTimeoutMs: 300, maxReconnectDelayMs: 200 });
    const pubsub = new RedisPubSub(conn, silent);
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      assert.equal(await conn.connect(), true);
      await pubsub.subscribe('revocations', () => undefined);
      // The subscriber comes back after a cut, and the SUBSCRIBE it sends then is never answered.
      const held = proxy.holdNext('subscribe');
      await proxy.cut();
      await proxy.start();
      await held;
      // Shutting down now fails every command still waiting ("Connection is closed."), the SUBSCRIBE with them.
      pubsub.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(unhandled.map(String), []);
    } finally {
      process.off('unhandledRejection', record);
      pubsub.close();
      await conn.close();
      await proxy.cut();
    }
  });
});

describe('pub/sub when Redis refuses SUBSCRIBE every time (an ACL user without channel rights)', () => {
  it('the node never counts as listening, so caches keep nothing, and the refusal is logged at warn once, not per retry', async () => {
    const user = `aim-test-nosub-${process.pid}-${Date.now()}`;
    const admin = new RedisConnection({ url: REDIS_TEST_URL, prefix: '', logger: silent });
    await admin.connect();
    // Every command and key, no channel: SUBSCRIBE answers NOPERM.
    await admin.client.call('ACL', 'SETUSER', user, 'on', '>nosub-password', '~*', 'resetchannels', '+@all');
    const logs = new LogCapture();
    const url = new URL(REDIS_TEST_URL);
    url.username = user;
    url.password = 'nosub-password';
    const conn = new RedisConnection({ url: url.toString(), prefix: uniqueRedisPrefix('nosub'), logger: silent, maxReconnectDelayMs: 100 });
    const pubsub = new RedisPubSub(conn, createLogger('debug', logs));
    try {
      assert.equal(await conn.connect(), true);
      await pubsub.subscribe('invalidations', () => undefined);
      const refusals = () => logs.lines.filter((l) => l.includes('redis SUBSCRIBE failed'));
      await waitFor(() => refusals().length >= 3, 10_000);
      assert.equal(pubsub.isListening(), false, 'connected, but deaf');
      const levels = refusals().map((l) => (JSON.parse(l) as { level: number | string }).level);
      assert.equal(levels.filter((l) => l === 40 || l === 'warn').length, 1, `one warning among ${levels.join(',')}`);
    } finally {
      pubsub.close();
      await conn.close();
      await admin.client.call('ACL', 'DELUSER', user);
      await admin.close();
    }
  });
});

describe('revocations in Redis', () => {
  it('a starting node loads the revocations in force, whatever characters AIM_REDIS_PREFIX holds', async () => {
    // SCAN MATCH reads the prefix as a glob pattern: "[", "*", "?" and "\\" must match only themselves.
    const prefix = `${uniqueRedisPrefix('glob')}[a]*?\\:`;
    const conn = new RedisConnection({ url: REDIS_TEST_URL, prefix, logger: silent });
    const pubsub = new RedisPubSub(conn, silent);
    try {
      assert.equal(await conn.connect(), true);
      const until = systemClock.now() + 60_000;
      await conn.client.set(conn.key('revoked', 'family-1'), String(until), 'PX', 60_000);
      const errors: unknown[] = [];
      const list = new RedisRevocationList(conn, pubsub, systemClock, (error) => errors.push(error));
      await list.start();
      assert.deepEqual(errors, []);
      assert.equal(list.isRevoked('family-1'), true);
    } finally {
      await conn.client.del(conn.key('revoked', 'family-1')).catch(() => undefined);
      pubsub.close();
      await conn.close();
    }
  });
});

/** Waits for an asynchronous effect (a socket closing, a reconnect), polling every 20 ms. */
async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
