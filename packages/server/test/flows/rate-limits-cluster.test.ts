import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clusterEnv } from '../support/cluster.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { dropRedisPrefix, uniqueRedisPrefix } from '../support/redis.js';

/** Two real server processes (`node packages/server/dist/bin.js`) on one PostgreSQL and one Redis. */
describe('a limit shared by two server processes on one Redis', () => {
  const prefix = uniqueRedisPrefix('cluster');
  const admin = { email: 'cluster-admin@example.test', password: 'cluster-correct-horse-battery' };
  let database: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;

  before(async () => {
    database = await createTestDatabase('postgres');
    const env = {
      ...clusterEnv(database, prefix, admin),
      AIM_RATE_LIMIT_JWT: '6',
      AIM_RATE_LIMIT_PUBLIC: '10',
      AIM_LOG_LEVEL: 'info',
    };
    // One after the other: the first creates the schema, the admin and the signing key; the second finds them.
    a = await startServerProcess({ ...env, AIM_DATA_DIR: `${database.dataDir}/a` });
    b = await startServerProcess({ ...env, AIM_DATA_DIR: `${database.dataDir}/b` });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
    await dropRedisPrefix(prefix);
  });

  it('both nodes report shared limits', async () => {
    for (const node of [a, b]) {
      const ready = await node.http.get<{ dependencies: Record<string, { status: string; detail?: string }> }>('/health/ready');
      assert.deepEqual(ready.body.dependencies.shared_state, { status: 'up', detail: 'redis' });
    }
  });

  it('per user (JWT): six requests spread over both nodes pass, the seventh is refused by either', async () => {
    const login = await a.http.post<{ access_token: string }>('/api/v1/public/login', admin);
    assert.equal(login.status, 200, login.text);
    const token = login.body.access_token;
    for (let i = 0; i < 6; i++) {
      const node = i % 2 === 0 ? a : b;
      const res = await node.http.get('/api/v1/auth/me', { token });
      assert.equal(res.status, 200, `request ${i + 1}`);
      assert.equal(res.headers.get('ratelimit-remaining'), String(5 - i), 'one count, whichever node answers');
    }
    for (const node of [a, b]) {
      const refused = await node.http.get('/api/v1/auth/me', { token });
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error, 'rate_limited');
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    }
  });

  it('per address (public): the sign-in above and nine more requests pass across both nodes, then both refuse', async () => {
    for (let i = 0; i < 9; i++) {
      const node = i % 2 === 0 ? b : a;
      const res = await node.http.get('/.well-known/jwks.json');
      assert.equal(res.status, 200, `request ${i + 2}`);
      assert.equal(res.headers.get('ratelimit-remaining'), String(8 - i));
    }
    assert.equal((await a.http.get('/.well-known/jwks.json')).status, 429);
    assert.equal((await b.http.get('/.well-known/jwks.json')).status, 429);
  });
});
