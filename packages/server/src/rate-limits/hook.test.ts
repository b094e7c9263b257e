import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Scope } from '@aim/protocol';
import { Type } from 'typebox';
import { createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { AlertDetectors, AlertService } from '../alerts/index.js';
import { AuditLog } from '../audit/audit-log.js';
import { loadConfig } from '../config/index.js';
import { ManualClock, SECOND } from '../core/clock.js';
import type { OrgId } from '../core/ids.js';
import { createLogger } from '../core/logger.js';
import { systemRandom } from '../core/random.js';
import { buildApp } from '../http/app.js';
import { authed, open } from '../http/handler.js';
import type { Principal } from '../http/principal.js';
import { MemoryCounters } from '../shared-state/counters.js';
import { migrate, openDatabase, type Database } from '../storage/database.js';
import { createStores, type StoreHub } from '../storage/stores.js';
import { API_KEY_REFUSALS_THRESHOLD } from '../alerts/detectors.js';
import { rateLimitHook } from './hook.js';
import { RateLimiter } from './limiter.js';
import { addressKey } from './address.js';

const ORG = 'org-hook' as OrgId;
const principal = (method: Principal['method'], id: string, rateLimit?: number): Principal => ({
  method,
  organizationId: ORG,
  scopes: new Set<Scope>(['agents:read']),
  actor: { type: method === 'api_key' ? 'api_key' : 'user', id },
  rateKey: `${method}:${id}`,
  ...(rateLimit !== undefined && { rateLimit }),
});

/**
 * The hook inside a real Fastify app, with stand-in credential verifiers: API keys, OAuth clients and users each
 * count in their own class. (The API-key and OAuth verifiers themselves belong to their domains.)
 */
describe('rate-limit hook by credential class', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  let testDb: TestDatabase;
  let database: Database;
  let stores: StoreHub;
  let app: Awaited<ReturnType<typeof buildApp>>;

  before(async () => {
    testDb = await createTestDatabase('sqlite');
    database = openDatabase({ dataDir: testDb.dataDir });
    await migrate(database);
    stores = createStores(database);
    const logger = createLogger('silent');
    const audit = new AuditLog(stores.audit, clock, systemRandom);
    const alerts = new AlertService(stores, audit, clock, systemRandom, logger);
    const counters = new MemoryCounters();
    const detectors = new AlertDetectors(alerts, audit, counters, clock, async () => undefined);
    const limiter = new RateLimiter(counters, clock, { jwt: 3, api_key: 5, oauth: 4, public: 2 });
    app = await buildApp({
      config: loadConfig({}),
      logger,
      routes: [
        { method: 'GET', url: '/thing', access: { auth: ['jwt', 'api_key', 'oauth'] }, handler: authed({ summary: 'thing', tags: [], response: { 200: Type.Object({ ok: Type.Boolean() }) } }, async () => ({ ok: true })) },
        { method: 'GET', url: '/open', access: { auth: 'public' }, handler: open({ summary: 'open', tags: [], response: { 200: Type.Object({ ok: Type.Boolean() }) } }, async () => ({ ok: true })) },
      ],
      verifiers: {
        bearer: async (token) => (token.startsWith('oauth-') ? principal('oauth', token) : principal('jwt', token)),
        apiKey: async (key) =>
          key.startsWith('limited-') ? principal('api_key', key, 2) : key.startsWith('generous-') ? principal('api_key', key, 9) : principal('api_key', key),
      },
      rateLimit: rateLimitHook(limiter, { onRefused: (p, d) => detectors.rateLimited(p, d) }),
    });
  });
  after(async () => {
    await app.close();
    await database.close();
    await testDb.drop();
  });

  const get = (headers: Record<string, string>, url = '/thing') => app.inject({ method: 'GET', url, headers });
  const passes = async (headers: Record<string, string>) => {
    let n = 0;
    while ((await get(headers)).statusCode === 200) n += 1;
    return n;
  };

  it('each class has its own limit and policy name', async () => {
    assert.equal(await passes({ authorization: 'Bearer user-a' }), 3);
    assert.equal(await passes({ 'x-api-key': 'key-a' }), 5);
    assert.equal(await passes({ authorization: 'Bearer oauth-client-a' }), 4);
    const res = await get({ 'x-api-key': 'key-b' });
    assert.equal(res.headers['ratelimit-policy'], '"api_key";q=5;w=60');
    assert.equal((await get({ authorization: 'Bearer oauth-client-b' })).headers['ratelimit-policy'], '"oauth";q=4;w=60');
    assert.equal((await get({}, '/open')).headers['ratelimit-policy'], '"public";q=2;w=60');
  });

  it("an API key's own limit overrides the class default", async () => {
    const first = await get({ 'x-api-key': 'limited-1' });
    assert.equal(first.headers['ratelimit-policy'], '"api_key";q=2;w=60');
    assert.equal(first.headers['ratelimit-remaining'], '1');
    assert.equal((await get({ 'x-api-key': 'limited-1' })).statusCode, 200);
    const refused = await get({ 'x-api-key': 'limited-1' });
    assert.equal(refused.statusCode, 429);
    assert.equal(JSON.parse(refused.body).error, 'rate_limited');
    assert.equal(refused.headers['retry-after'], '60');
  });

  it("an API key's own limit never exceeds the class limit: one set before AIM_RATE_LIMIT_API_KEY was lowered is capped", async () => {
    assert.equal(await passes({ 'x-api-key': 'generous-1' }), 5);
    assert.equal((await get({ 'x-api-key': 'generous-1' })).headers['ratelimit-policy'], '"api_key";q=5;w=60');
  });

  it('an API key that keeps hitting its limit raises one grouped alert per minute, and is audited', async () => {
    const key = 'limited-noisy';
    await passes({ 'x-api-key': key });
    for (let i = 1; i < API_KEY_REFUSALS_THRESHOLD + 20; i++) await get({ 'x-api-key': key });
    const alerts = await waitForAlerts(stores, 1);
    assert.equal(alerts[0]?.type, 'api_key_rate_limited');
    assert.deepEqual(alerts[0]?.principal, { type: 'api_key', id: key });
    assert.equal(alerts[0]?.count, 1, 'one raise however many refusals in the minute');

    clock.advance(60 * SECOND);
    await passes({ 'x-api-key': key });
    for (let i = 1; i < API_KEY_REFUSALS_THRESHOLD + 5; i++) await get({ 'x-api-key': key });
    await waitFor(async () => (await stores.alerts.list({ organizationId: ORG, limit: 10 }))[0]?.count === 2);
    // Audited off the request path too: each raise has its entry once that write commits.
    await waitFor(async () => (await stores.audit.list({ organizationId: ORG, event: 'api_key.rate_limited', limit: 10 })).length >= 2);
    const audit = await stores.audit.list({ organizationId: ORG, event: 'api_key.rate_limited', limit: 10 });
    assert.equal(audit.length, 2);

    // Users and OAuth clients hitting their limits are not API-key alerts.
    await passes({ authorization: 'Bearer user-noisy' });
    for (let i = 0; i < 30; i++) await get({ authorization: 'Bearer user-noisy' });
    assert.equal((await stores.alerts.list({ organizationId: ORG, limit: 10 })).length, 1);
  });

  it('counts IPv4-mapped and /64-equivalent addresses together', () => {
    assert.equal(addressKey('::ffff:203.0.113.9'), '203.0.113.9');
    // The same mapped address in hex groups, as some proxies write it, is that one IPv4 client, not a shared /64.
    assert.equal(addressKey('::ffff:cb00:7109'), '203.0.113.9');
    assert.equal(addressKey('0:0:0:0:0:FFFF:CB00:7109'), '203.0.113.9');
    assert.notEqual(addressKey('::ffff:cb00:710a'), addressKey('::ffff:cb00:7109'));
    assert.equal(addressKey('203.0.113.9'), '203.0.113.9');
    assert.equal(addressKey('2001:db8:a:b:1:2:3:4'), '2001:db8:a:b::/64');
    assert.equal(addressKey('2001:DB8:A:B::9'), '2001:db8:a:b::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
  });
});

async function waitForAlerts(stores: StoreHub, count: number) {
  let alerts = await stores.alerts.list({ organizationId: ORG, limit: 10 });
  await waitFor(async () => (alerts = await stores.alerts.list({ organizationId: ORG, limit: 10 })).length >= count);
  return alerts;
}

/** Alerts for refused API keys are raised off the request path; this waits for that write. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
