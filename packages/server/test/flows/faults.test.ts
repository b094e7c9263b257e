import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { newKeyPair, signedAction, type TestKeyPair } from '../support/agents.js';
import { createTestDatabase, PG_ADMIN_URL, REDIS_TEST_URL, type TestDatabase } from '../support/databases.js';
import type { HttpResult } from '../support/http.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { dropRedisPrefix, uniqueRedisPrefix } from '../support/redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { within } from '../support/within.js';

type Phase = 'steady' | 'redis_down' | 'pg_killing' | 'pg_down' | 'recovered';

interface Outcome {
  phase: Phase;
  op: 'register' | 'verify';
  status: number;
  body: HttpResult['body'];
  retryAfter: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One node on PostgreSQL and Redis, each reached through a TCP proxy the test can cut (the shared services other
 * tests use stay up). Under a steady write load: Redis goes away and comes back, PostgreSQL connections are killed
 * with `pg_terminate_backend`, then PostgreSQL goes away and comes back. While a dependency is missing the node
 * answers 503 JSON; it heals without a restart; and every write it acknowledged is there afterwards.
 */
describe('dependency faults under load', () => {
  const prefix = uniqueRedisPrefix('faults');
  const admin = { email: 'faults-admin@example.test', password: 'faults-correct-horse-battery' };
  const redisProxy = TcpProxy.forUrl(REDIS_TEST_URL);
  const pgProxy = TcpProxy.forUrl(PG_ADMIN_URL);
  let database: TestDatabase;
  let node: ServerProcess;
  let token: string;
  let agent: { id: string; keys: TestKeyPair };

  before(async () => {
    database = await createTestDatabase('postgres');
    await redisProxy.start();
    await pgProxy.start();
    const viaProxy = new URL(database.databaseUrl!);
    viaProxy.port = String(pgProxy.port);
    node = await startServerProcess({
      AIM_DATA_DIR: database.dataDir,
      AIM_DATABASE_URL: viaProxy.toString(),
      AIM_REDIS_URL: redisProxy.url(),
      AIM_REDIS_PREFIX: prefix,
      AIM_ADMIN_EMAIL: admin.email,
      AIM_ADMIN_PASSWORD: admin.password,
      AIM_RATE_LIMIT_JWT: '1000000',
    });
    token = (await node.http.post<{ access_token: string }>('/api/v1/public/login', admin)).body.access_token;
    const keys = newKeyPair();
    const res = await node.http.post('/api/v1/agents', { name: 'steady', type: 'agent', capabilities: ['read'], public_key: keys.publicKey }, { token });
    assert.equal(res.status, 201, res.text);
    agent = { id: String(res.body.agent_id), keys };
  });
  after(async () => {
    if (process.env.DEBUG_FAULTS) console.error(node.lines.slice(-30).join('\n'));
    await node?.stop();
    await redisProxy.cut();
    await pgProxy.cut();
    await database?.drop();
    await dropRedisPrefix(prefix);
  });

  const register = () =>
    node.http.post('/api/v1/agents', { name: `load-${randomBytes(4).toString('hex')}`, type: 'agent', capabilities: ['read'], public_key: newKeyPair().publicKey }, { token });
  const verify = () => node.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, 'read', 'doc/1'), { token });

  it('answers 503 while a dependency is down, heals without a restart and loses no acknowledged write', async () => {
    const outcomes: Outcome[] = [];
    let phase: Phase = 'steady';
    let running = true;
    const worker = async (op: Outcome['op']) => {
      while (running) {
        const at = phase;
        const res = await (op === 'register' ? register() : verify()).catch((error: Error) => ({
          status: 0,
          body: { error: `no answer: ${error.message}`, error_description: node.lines.slice(-5).join('\n') },
          headers: new Headers(),
        }));
        outcomes.push({ phase: at, op, status: res.status, body: res.body, retryAfter: res.headers.get('retry-after') });
      }
    };
    const workers = [worker('register'), worker('register'), worker('verify'), worker('verify')];

    await sleep(500);
    phase = 'redis_down';
    await redisProxy.cut();
    await within(3000, async () => (await node.http.get<{ dependencies: Record<string, { status: string }> }>('/health/ready')).body.dependencies.redis?.status !== 'up');
    await sleep(1000);
    await redisProxy.start();
    await within(10_000, async () => (await verify()).status === 200);

    phase = 'pg_killing';
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    const dbName = new URL(database.databaseUrl!).pathname.slice(1);
    try {
      for (let i = 0; i < 3; i++) {
        await sleep(300);
        await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName]);
      }
    } finally {
      await admin.end();
    }

    phase = 'pg_down';
    await pgProxy.cut();
    await sleep(1500);
    await pgProxy.start();
    await within(10_000, async () => (await register()).status === 201);
    phase = 'recovered';
    await sleep(500);
    running = false;
    await Promise.all(workers);

    // Every answer is a success or a clean, catalogued 503 telling the client when to retry.
    for (const o of outcomes) {
      if (o.status === 200 || o.status === 201) continue;
      assert.equal(o.status, 503, `${o.op} in ${o.phase}: ${o.status} ${JSON.stringify(o.body)}`);
      assert.equal(o.body.error, 'service_unavailable');
      assert.equal(typeof o.body.error_description, 'string');
      assert.ok(o.retryAfter, 'a 503 says when to retry');
    }
    const count = (phase: Phase, op: Outcome['op'], ok: boolean) =>
      outcomes.filter((o) => o.phase === phase && o.op === op && (o.status < 300) === ok).length;
    assert.ok(count('redis_down', 'verify', false) > 0, 'without Redis, nonces cannot be checked: verify-action fails closed');
    assert.ok(count('pg_down', 'register', false) > 0, 'without PostgreSQL, writes are refused');
    assert.ok(count('recovered', 'register', true) > 0 && count('recovered', 'verify', true) > 0, 'both kinds of request succeed again');

    // Nothing acknowledged is lost.
    const registered = outcomes.filter((o) => o.op === 'register' && o.status === 201).map((o) => String(o.body.agent_id));
    const verified = outcomes.filter((o) => o.op === 'verify' && o.status === 200).map((o) => String(o.body.verification_id));
    assert.ok(registered.length > 10 && verified.length > 10, `load was real: ${registered.length} registered, ${verified.length} verified`);
    const db = new pg.Client({ connectionString: database.databaseUrl });
    await db.connect();
    try {
      const agents = await db.query<{ id: string }>('select id from agents where id = any($1)', [registered]);
      assert.equal(agents.rowCount, registered.length, 'every 201 registration is in the database');
      const evidence = await db.query<{ id: string }>('select id from verifications where id = any($1)', [verified]);
      assert.equal(evidence.rowCount, verified.length, 'every 200 decision has its evidence in the database');
    } finally {
      await db.end();
    }
    const chain = await node.http.get<{ valid: boolean }>('/api/v1/audit-logs/verify', { token });
    assert.equal(chain.body.valid, true, 'the audit chain survived the faults');
  });
});
