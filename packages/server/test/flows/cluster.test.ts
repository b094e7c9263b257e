import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newKeyPair, signedAction } from '../support/agents.js';
import { clusterEnv } from '../support/cluster.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import type { HttpResult } from '../support/http.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { dropRedisPrefix, uniqueRedisPrefix } from '../support/redis.js';
import { within } from '../support/within.js';

/**
 * Three stateless server processes (`node packages/server/dist/bin.js`) on one PostgreSQL and one Redis behave as one.
 */
describe('three nodes on one PostgreSQL and one Redis', () => {
  const prefix = uniqueRedisPrefix('three');
  const admin = { email: 'three-admin@example.test', password: 'three-nodes-correct-horse-battery' };
  let database: TestDatabase;
  let nodes: ServerProcess[];
  let token: string;

  const login = async (node: ServerProcess) =>
    (await node.http.post<{ access_token: string; refresh_token: string }>('/api/v1/public/login', admin)).body;

  before(async () => {
    database = await createTestDatabase('postgres');
    const env = {
      ...clusterEnv(database, prefix, admin),
      // One issuer for every node: a token from one is valid on all.
      AIM_PUBLIC_URL: 'http://aim.cluster.test',
      AIM_RATE_LIMIT_PUBLIC: '100000',
    };
    // All at once: migrations, the first admin and the first signing key must survive the race.
    nodes = await Promise.all(['a', 'b', 'c'].map((n) => startServerProcess({ ...env, AIM_DATA_DIR: `${database.dataDir}/${n}` })));
    token = (await login(nodes[0]!)).access_token;
  });
  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await database?.drop();
    await dropRedisPrefix(prefix);
  });

  it('every node is ready and reports its dependencies', async () => {
    for (const node of nodes) {
      const ready = await node.http.get<{ status: string; dependencies: Record<string, { status: string; detail?: string }> }>('/health/ready');
      assert.equal(ready.body.status, 'ready');
      assert.deepEqual(ready.body.dependencies.database, { status: 'up', detail: 'postgres' });
      assert.equal(ready.body.dependencies.shared_state?.status, 'up');
    }
  });

  it('a refresh token raced across nodes has one winner, and the reuse revokes the family on every node', async () => {
    const session = await login(nodes[1]!);
    const attempts = nodes.flatMap((node) => Array.from({ length: 6 }, () => node.http.post('/api/v1/auth/refresh', { refresh_token: session.refresh_token })));
    const results = await Promise.all(attempts);
    const winners = results.filter((r) => r.status === 200);
    assert.equal(winners.length, 1, results.map((r) => r.status).join(','));
    const winner = winners[0]!.body as { access_token: string; refresh_token: string };
    for (const node of nodes) {
      await within(1000, async () => (await node.http.get('/api/v1/auth/me', { token: winner.access_token })).status === 401);
      assert.equal((await node.http.post('/api/v1/auth/refresh', { refresh_token: winner.refresh_token })).status, 401);
    }
  });

  it('a nonce used on one node is refused on the others', async () => {
    const keys = newKeyPair();
    const agent = await nodes[0]!.http.post('/api/v1/agents', { name: 'cluster-agent', capabilities: ['search'], public_key: keys.publicKey }, { token });
    const id = String(agent.body.agent_id);
    const body = signedAction(id, keys.privateKey, 'search', 'x');
    assert.equal((await nodes[0]!.http.post(`/api/v1/agents/${id}/verify-action`, body, { token })).status, 200);
    for (const node of nodes.slice(1)) {
      const replay = await node.http.post(`/api/v1/agents/${id}/verify-action`, body, { token });
      assert.equal(replay.status, 409);
      assert.equal(replay.body.error, 'nonce_reused');
    }
  });

  it('a revoked API key stops on every node within one second', async () => {
    const created = await nodes[0]!.http.post<{ id: string; key: string }>('/api/v1/api-keys', { name: 'everywhere', scopes: ['agents:read'] }, { token });
    // Every node has verified (and cached) the key before it is revoked.
    for (const node of nodes) assert.equal((await node.http.get('/api/v1/agents', { apiKey: created.body.key })).status, 200);
    const revoked = await nodes[2]!.http.request(`/api/v1/api-keys/${created.body.id}`, { method: 'DELETE', token });
    assert.equal(revoked.status, 200);
    for (const node of nodes) {
      const ms = await within(1000, async () => (await node.http.get('/api/v1/agents', { apiKey: created.body.key })).status === 401);
      assert.ok(ms < 1000);
    }
  });

  it('a revoked agent key, and a suspended agent, stop on every node within one second', async () => {
    const keys = newKeyPair();
    const agent = await nodes[1]!.http.post('/api/v1/agents', { name: 'cluster-agent-2', capabilities: ['search'], public_key: keys.publicKey }, { token });
    const id = String(agent.body.agent_id);
    const verifyOn = (node: ServerProcess) => node.http.post(`/api/v1/agents/${id}/verify-action`, signedAction(id, keys.privateKey, 'search', 'x'), { token });
    for (const node of nodes) assert.equal((await verifyOn(node)).status, 200, 'cached on every node');
    await nodes[0]!.http.post(`/api/v1/agents/${id}/suspend`, undefined, { token });
    for (const node of nodes) await within(1000, async () => (await verifyOn(node)).status === 403);
    await nodes[0]!.http.post(`/api/v1/agents/${id}/reactivate`, undefined, { token });
    for (const node of nodes) await within(1000, async () => (await verifyOn(node)).status === 200);
    await nodes[2]!.http.post(`/api/v1/agents/${id}/keys/${String(agent.body.key_id)}/revoke`, undefined, { token });
    for (const node of nodes) await within(1000, async () => (await verifyOn(node)).status === 401);
  });

  it('one rate limit is shared by all nodes', async () => {
    const created = await nodes[0]!.http.post<{ key: string }>('/api/v1/api-keys', { name: 'limited', scopes: ['agents:read'], rate_limit_per_minute: 20 }, { token });
    const results: HttpResult[] = [];
    for (let round = 0; round < 10; round++) {
      results.push(...(await Promise.all(nodes.map((node) => node.http.get('/api/v1/agents', { apiKey: created.body.key })))));
    }
    assert.equal(results.filter((r) => r.status === 200).length, 20);
    assert.equal(results.filter((r) => r.status === 429).length, 10);
    assert.ok(results.every((r) => r.headers.get('ratelimit-limit') === '20'));
  });

  it('the audit chain stays valid under concurrent writes from every node', async () => {
    const keys = newKeyPair();
    const agent = await nodes[0]!.http.post('/api/v1/agents', { name: 'chain-agent', capabilities: ['search'], public_key: keys.publicKey }, { token });
    const id = String(agent.body.agent_id);
    // Twenty rounds; in each, every node appends twice at the same moment (six racing appends to one chain).
    const results: HttpResult[] = [];
    for (let i = 0; i < 20; i++) {
      const round = nodes.flatMap((node) => [
        node.http.post(`/api/v1/agents/${id}/verify-action`, signedAction(id, keys.privateKey, 'search', `r${i}`), { token }),
        node.http.request(`/api/v1/agents/${id}`, { method: 'PATCH', body: { description: `${i}` }, token }),
      ]);
      results.push(...(await Promise.all(round)));
    }
    assert.ok(results.every((r) => r.status === 200), results.filter((r) => r.status !== 200).map((r) => r.text).join('\n'));
    for (const node of nodes) {
      const verdict = await node.http.get('/api/v1/audit-logs/verify', { token });
      assert.equal(verdict.body.valid, true, verdict.text);
      assert.ok(Number(verdict.body.entries_checked) >= 120);
    }
  });
});

