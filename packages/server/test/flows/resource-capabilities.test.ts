import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newKeyPair, registerAgent, signedAction } from '../support/agents.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

interface AuditPage {
  entries: Array<{ event: string; subject_id: string; data: { verification_id?: string; reason?: string } }>;
}

describe('resource-scoped capabilities (SQLite)', () => {
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    t = await startTestServer();
    admin = await t.signIn({ role: 'admin' });
  });
  after(() => t.close());

  const verify = (agent: Awaited<ReturnType<typeof registerAgent>>, action: string, resource: string) =>
    t.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, action, resource), { token: admin.accessToken });
  const patch = (id: string, body: unknown, token = admin.accessToken) =>
    t.http.request(`/api/v1/agents/${id}`, { method: 'PATCH', body, token });

  it('allows inside the constraint, denies outside it with resource_not_allowed, keeps capability_missing', async () => {
    const agent = await registerAgent(t.http, admin.accessToken, { capabilities: ['files:read@/reports/*', 'payments:send@acct-42', 'mail:send@ops@example.com'] });
    assert.deepEqual(agent.response.body.capabilities, ['files:read@/reports/*', 'mail:send@ops@example.com', 'payments:send@acct-42']);

    const inside = await verify(agent, 'files:read', '/reports/q3.pdf');
    assert.equal(inside.status, 200);
    assert.equal(inside.body.allowed, true);
    assert.equal(inside.body.reason, 'capability_granted');
    assert.equal((await verify(agent, 'payments:send', 'acct-42')).body.allowed, true);
    assert.equal((await verify(agent, 'mail:send', 'ops@example.com')).body.allowed, true);

    for (const [action, resource] of [['files:read', '/reports'], ['files:read', '/etc/passwd'], ['files:read', '/reports/../secrets'], ['payments:send', 'acct-421']] as const) {
      const outside = await verify(agent, action, resource);
      assert.equal(outside.status, 200, resource);
      assert.equal(outside.body.allowed, false, resource);
      assert.equal(outside.body.reason, 'resource_not_allowed', resource);
    }

    const missing = await verify(agent, 'files:write', '/reports/q3.pdf');
    assert.equal(missing.body.allowed, false);
    assert.equal(missing.body.reason, 'capability_missing');

    // The evidence and its audit entry carry the reason.
    const denied = await verify(agent, 'files:read', '/private/x');
    const id = String(denied.body.verification_id);
    const evidence = await t.http.get(`/api/v1/verifications/${id}`, { token: admin.accessToken });
    assert.equal(evidence.body.decision, 'denied');
    assert.equal(evidence.body.reason, 'resource_not_allowed');
    const audit = await t.http.get<AuditPage>('/api/v1/audit-logs?event=action.denied&limit=50', { token: admin.accessToken });
    const entry = audit.body.entries.find((e) => e.data.verification_id === id);
    assert.equal(entry?.data.reason, 'resource_not_allowed');
    const metrics = await t.http.get('/metrics');
    assert.match(metrics.text, /aim_verify_action_decisions_total\{decision="denied",reason="resource_not_allowed"\} \d+/);
  });

  it('a PATCH adding a constraint takes effect on the next request (the agent cache is dropped)', async () => {
    const agent = await registerAgent(t.http, admin.accessToken, { capabilities: ['files:read'] });
    assert.equal((await verify(agent, 'files:read', '/private/x')).body.allowed, true); // now cached
    const narrowed = await patch(agent.id, { capabilities: ['files:read@/reports/*'] });
    assert.equal(narrowed.status, 200, narrowed.text);
    assert.deepEqual(narrowed.body.capabilities, ['files:read@/reports/*']);
    const after = await verify(agent, 'files:read', '/private/x');
    assert.equal(after.body.allowed, false);
    assert.equal(after.body.reason, 'resource_not_allowed');
    assert.equal((await verify(agent, 'files:read', '/reports/a')).body.allowed, true);
    await patch(agent.id, { capabilities: ['files:read'] });
    assert.equal((await verify(agent, 'files:read', '/private/x')).body.allowed, true);
  });

  it('refuses malformed capabilities with 400 on both register routes and on PATCH, never a 500', async () => {
    const agent = await registerAgent(t.http, admin.accessToken, { capabilities: ['search'] });
    const apiKey = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'ci' }, { token: admin.accessToken });
    assert.equal(apiKey.status, 201, apiKey.text);
    const bad: unknown[] = [
      'files:read@', '@/x', 'files:read@/a:b', 'files:read@/a*b', 'files:read@\u0001', 'files:read@/a\u202e', 'files read', `files:read@/${'a'.repeat(600)}`,
      42, null, { action: 'files:read' }, ['files:read'],
    ];
    for (const capability of bad) {
      const label = JSON.stringify(capability);
      const viaUi = await t.http.post('/api/v1/agents', { name: `bad-${Math.random()}`, public_key: newKeyPair().publicKey, capabilities: [capability] }, { token: admin.accessToken });
      assert.equal(viaUi.status, 400, `POST /agents ${label}`);
      assert.equal(viaUi.body.error, 'invalid_request');
      const viaSdk = await t.http.post('/api/v1/sdk-api/agents/register', { name: `bad-${Math.random()}`, capabilities: [capability] }, { apiKey: apiKey.body.key });
      assert.equal(viaSdk.status, 400, `sdk register ${label}`);
      assert.equal(viaSdk.body.error, 'invalid_request');
      const viaPatch = await patch(agent.id, { capabilities: [capability] });
      assert.equal(viaPatch.status, 400, `PATCH ${label}`);
      assert.equal(viaPatch.body.error, 'invalid_request');
    }
    for (const body of [{ capabilities: 'files:read@/x' }, { capabilities: Array(201).fill('a') }]) {
      assert.equal((await patch(agent.id, body)).status, 400);
    }
    const huge = await patch(agent.id, { capabilities: Array(200).fill(`files:read@/${'a'.repeat(500)}`) });
    assert.equal(huge.status, 413);
    const unchanged = await t.http.get(`/api/v1/agents/${agent.id}`, { token: admin.accessToken });
    assert.deepEqual(unchanged.body.capabilities, ['search']);
  });

  it('only the agent\'s organization with agents:write may set constraints', async () => {
    const agent = await registerAgent(t.http, admin.accessToken, { capabilities: ['search'] });
    const body = { capabilities: ['files:read@/reports/*'] };
    assert.equal((await t.http.request(`/api/v1/agents/${agent.id}`, { method: 'PATCH', body })).status, 401);
    const viewer = await t.signIn({ role: 'viewer', organizationId: admin.organizationId });
    const asViewer = await patch(agent.id, body, viewer.accessToken);
    assert.equal(asViewer.status, 403);
    assert.equal(asViewer.body.error, 'insufficient_scope');
    const stranger = await t.signIn({ role: 'admin' });
    const elsewhere = await patch(agent.id, body, stranger.accessToken);
    assert.equal(elsewhere.status, 404);
    const unchanged = await t.http.get(`/api/v1/agents/${agent.id}`, { token: admin.accessToken });
    assert.deepEqual(unchanged.body.capabilities, ['search']);
  });
});
