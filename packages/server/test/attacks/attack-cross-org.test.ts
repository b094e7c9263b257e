import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newKeyPair, nonce, registerAgent, signText, signedAction } from '../support/agents.js';
import { assertCatalogued, operations, type Operation } from '../support/openapi.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';
import type { OrgId } from '../../src/core/ids.js';

/**
 * Attack catalogue: an admin of organization B, holding every right in B, aims at organization A's objects through
 * every route with an `{id}` in the OpenAPI document, with a bearer token and with an admin API key. Each answer is
 * 404, and afterwards A's objects are exactly as they were.
 */
describe('attack catalogue: cross-organization access on every :id route', () => {
  let t: TestServer;
  let victim: SignedIn;
  let attacker: SignedIn;
  let attackerKey: string;
  let agent: Awaited<ReturnType<typeof registerAgent>>;
  const ids: Record<string, string> = {};
  let ops: Operation[];

  before(async () => {
    t = await startTestServer();
    victim = await t.signIn({ role: 'admin' });
    attacker = await t.signIn({ role: 'admin' });
    assert.notEqual(victim.organizationId, attacker.organizationId);
    attackerKey = (await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'attacker', scopes: ['admin'] }, { token: attacker.accessToken })).body.key;

    agent = await registerAgent(t.http, victim.accessToken);
    ids.agent = agent.id;
    ids.agentKey = String(agent.response.body.key_id);
    ids.apiKey = (await t.http.post<{ id: string }>('/api/v1/api-keys', { name: 'victim key' }, { token: victim.accessToken })).body.id;
    ids.user = (await t.createUser({ role: 'member', organizationId: victim.organizationId })).id;
    ids.sdkToken = (await t.http.post<{ id: string }>('/api/v1/sdk-tokens', { name: 'victim sdk' }, { token: victim.accessToken })).body.id;
    ids.session = (await t.http.get<{ sessions: Array<{ id: string }> }>('/api/v1/auth/sessions', { token: victim.accessToken })).body.sessions[0]!.id;
    const verified = await t.http.post<{ verification_id: string }>(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, 'files:read', '/x'), { token: victim.accessToken });
    ids.verification = verified.body.verification_id;
    const { alert } = await t.server.services.alerts.raise({
      organizationId: victim.organizationId as OrgId,
      type: 'invalid_signatures',
      principal: { type: 'agent', id: agent.id },
      evidence: { count: 20 },
    });
    ids.alert = alert.id;
    ops = (await operations(t.http)).filter((o) => /\{[^}]+\}/.test(o.template));
  });
  after(() => t.close());

  /** The victim's id for each parameter of each route family. A new `:id` route must be added here to be covered. */
  function fill(op: Operation): string {
    const family = op.template.split('/')[3];
    const byFamily: Record<string, string | undefined> = {
      'sdk-tokens': ids.sdkToken,
      auth: ids.session,
      users: ids.user,
      agents: ids.agent,
      verifications: ids.verification,
      'api-keys': ids.apiKey,
      alerts: ids.alert,
    };
    const id = byFamily[family ?? ''];
    assert.ok(id, `no victim object for ${op.method} ${op.template}: add one to this test`);
    return op.template.replace('{id}', id).replace('{keyId}', ids.agentKey!);
  }

  /** A body that passes validation, so the organization check (not the schema) is what answers. */
  function body(op: Operation): unknown {
    if (!op.hasBody) return undefined;
    const next = newKeyPair();
    const ts = Math.floor(Date.now() / 1000);
    const n = nonce();
    if (op.template.endsWith('/verify-action')) return signedAction(agent.id, agent.keys.privateKey, 'files:read', '/secret');
    if (op.template.endsWith('/keys/rotate')) {
      return { public_key: next.publicKey, timestamp: ts, nonce: n, signature: signText(agent.keys.privateKey, `rotate:${agent.id}:${next.publicKey}:${ts}:${n}`) };
    }
    if (op.template.endsWith('/keys')) return { public_key: next.publicKey };
    if (op.template.startsWith('/api/v1/users/')) return { role: 'viewer' };
    if (op.template.startsWith('/api/v1/agents/') && op.method === 'PATCH') return { name: 'pwned', capabilities: ['*'] };
    return {};
  }

  it('covers every route with a path parameter', () => {
    assert.ok(ops.length >= 15, `only ${ops.length} :id routes`);
  });

  it('answers 404 to the other organization, with a bearer token and with an admin API key', async () => {
    let attempts = 0;
    for (const op of ops) {
      const path = fill(op);
      const credentials: Array<[string, { token?: string; apiKey?: string }]> = [['bearer', { token: attacker.accessToken }]];
      if (op.credentials.includes('apiKey')) credentials.push(['API key', { apiKey: attackerKey }]);
      for (const [name, credential] of credentials) {
        const b = body(op);
        const res = await t.http.request(path, { method: op.method, ...credential, ...(b !== undefined && { body: b }) });
        assertCatalogued(res, `${op.method} ${path} with ${name}`);
        assert.equal(res.status, 404, `${op.method} ${op.template} with ${name}: ${res.status} ${res.text}`);
        attempts += 1;
      }
    }
    assert.ok(attempts >= 30);
  });

  it("left the victim's objects untouched", async () => {
    const auth = { token: victim.accessToken };
    const a = await t.http.get<{ status: string; name: string; capabilities: string[] }>(`/api/v1/agents/${agent.id}`, auth);
    assert.equal(a.body.status, 'active');
    assert.notEqual(a.body.name, 'pwned');
    assert.deepEqual(a.body.capabilities, ['files:*', 'search']);
    const keys = await t.http.get<{ keys: Array<{ key_id: string; status: string }> }>(`/api/v1/agents/${agent.id}/keys`, auth);
    assert.deepEqual(keys.body.keys.map((k) => [k.key_id, k.status]), [[ids.agentKey, 'active']]);
    const verified = await t.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, 'files:read', '/y'), auth);
    assert.equal(verified.status, 200, 'the agent still verifies with its own key');
    const usage = await t.http.get<{ status: string }>(`/api/v1/api-keys/${ids.apiKey}/usage`, auth);
    assert.equal(usage.body.status, 'active');
    const users = await t.http.get<{ users: Array<{ id: string; role: string }> }>('/api/v1/users', auth);
    assert.equal(users.body.users.find((u) => u.id === ids.user)?.role, 'member');
    const sdk = await t.http.get<{ sdk_tokens: Array<{ id: string; revoked_at: unknown }> }>('/api/v1/sdk-tokens', auth);
    assert.equal(sdk.body.sdk_tokens.find((s) => s.id === ids.sdkToken)?.revoked_at ?? null, null);
    const sessions = await t.http.get<{ sessions: Array<{ id: string }> }>('/api/v1/auth/sessions', auth);
    assert.deepEqual(sessions.body.sessions.map((x) => x.id), [ids.session], 'the victim is still signed in');
    const alerts = await t.http.get<{ alerts: Array<{ id: string; status: string }> }>('/api/v1/alerts', auth);
    assert.equal(alerts.body.alerts.find((x) => x.id === ids.alert)?.status, 'open');
  });

  it("lists never show the other organization's objects", async () => {
    for (const path of ['/api/v1/agents', '/api/v1/api-keys', '/api/v1/verifications', '/api/v1/alerts', '/api/v1/audit-logs', '/api/v1/users']) {
      const res = await t.http.get(path, { token: attacker.accessToken });
      assert.equal(res.status, 200, path);
      for (const id of Object.values(ids)) assert.ok(!res.text.includes(id), `${path} shows ${id}`);
    }
  });
});
