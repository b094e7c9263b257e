import assert from 'node:assert/strict';
import { randomUUID, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { KeyExpiryWatch } from '../../src/alerts/key-expiry.js';
import { DAY, ManualClock } from '../../src/core/clock.js';
import { newKeyPair, registerAgent, signedAction } from '../support/agents.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

type AlertView = { type: string; principal: { type: string; id: string }; count?: number; evidence: Record<string, unknown> };

describe('alerts raised by agents and keys', () => {
  const clock = new ManualClock(Date.now());
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    t = await startTestServer({ clock });
    admin = await t.signIn();
  });
  after(() => t.close());

  const alerts = async (type: string) =>
    (await t.http.get<{ alerts: AlertView[] }>(`/api/v1/alerts?type=${type}`, { token: admin.accessToken })).body.alerts;
  const seconds = () => Math.floor(clock.now() / 1000);

  it('a burst of invalid signatures for one agent raises one grouped alert', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const stranger = newKeyPair();
    for (let i = 0; i < 9; i++) {
      const res = await t.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, stranger.privateKey, 'search', 'x', { timestamp: seconds() }), { token: admin.accessToken });
      assert.equal(res.status, 401);
    }
    assert.equal((await alerts('invalid_signatures')).length, 0, 'nine is not yet a burst');
    await t.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, stranger.privateKey, 'search', 'x', { timestamp: seconds() }), { token: admin.accessToken });
    const raised = await alerts('invalid_signatures');
    assert.equal(raised.length, 1);
    assert.deepEqual(raised[0]!.principal, { type: 'agent', id: agent.id });
    assert.equal(raised[0]!.evidence.reason, 'invalid_signature');
  });

  it('replayed nonces for one agent raise nonce_replays', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const body = signedAction(agent.id, agent.keys.privateKey, 'search', 'x', { timestamp: seconds() });
    assert.equal((await t.http.post(`/api/v1/agents/${agent.id}/verify-action`, body, { token: admin.accessToken })).status, 200);
    for (let i = 0; i < 5; i++) {
      assert.equal((await t.http.post(`/api/v1/agents/${agent.id}/verify-action`, body, { token: admin.accessToken })).status, 409);
    }
    const raised = await alerts('nonce_replays');
    assert.equal(raised.length, 1);
    assert.equal(raised[0]!.principal.id, agent.id);
  });

  it('client assertions at the token endpoint count too: forged ones raise invalid_signatures, replayed ones nonce_replays, each audited in the agent\'s organization', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const stranger = newKeyPair();
    const assertion = (key: KeyObject, jti = randomUUID()) =>
      new SignJWT({ jti })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setIssuer(agent.id)
        .setSubject(agent.id)
        .setAudience(`${t.server.config.publicUrl}/oauth/token`)
        .setIssuedAt(seconds())
        .setExpirationTime(seconds() + 60)
        .sign(key);
    const grant = async (jwt: string) =>
      t.http.request('/oauth/token', {
        method: 'POST',
        raw: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    const forAgent = async (type: string) => (await alerts(type)).filter((a) => a.principal.id === agent.id);

    for (let i = 0; i < 10; i++) assert.equal((await grant(await assertion(stranger.privateKey))).status, 401);
    const forged = await forAgent('invalid_signatures');
    assert.equal(forged.length, 1);
    assert.equal(forged[0]!.evidence.reason, 'invalid_signature');

    const replayed = await assertion(agent.keys.privateKey);
    assert.equal((await grant(replayed)).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await grant(replayed)).status, 401);
    assert.equal((await forAgent('nonce_replays')).length, 1);

    const entries = await t.server.stores.audit.list({ organizationId: admin.organizationId, event: 'oauth.client_authentication_failed', limit: 100 });
    const reasons = entries.filter((e) => e.subject_id === agent.id).map((e) => (e.data as { reason: string }).reason);
    assert.deepEqual([reasons.filter((r) => r === 'invalid_signature').length, reasons.filter((r) => r === 'nonce_reused').length], [10, 5]);
  });

  it('agent keys inside their rotation notice and API keys near expiry raise key_expiring, once each', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const key = await t.http.post('/api/v1/api-keys', { name: 'expiring', expires_in_days: 90 }, { token: admin.accessToken });
    assert.equal(key.status, 201);
    await t.server.services.keyExpiry.scan();
    assert.equal((await alerts('key_expiring')).length, 0, 'nothing is near expiry yet');
    clock.advance(84 * DAY);
    admin = { ...admin, accessToken: (await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password })).body.access_token };
    assert.ok((await t.server.services.keyExpiry.scan()) >= 2, 'this agent key and this API key, plus earlier tests\' agents');
    assert.equal(await t.server.services.keyExpiry.scan(), 0, 'a key is reported once');
    const raised = await alerts('key_expiring');
    const principals = raised.map((a) => `${a.principal.type}:${a.principal.id}`);
    assert.ok(principals.includes(`agent:${agent.id}`));
    assert.ok(principals.includes(`api_key:${String(key.body.id)}`));
    assert.equal(new Set(principals).size, principals.length, 'one alert per key');
  });

  it('key_expiring reaches every key, not only the first page: more keys than a scan batch, expiring at the same instant', async () => {
    // Past the keys of the tests above (they expire at 90 days): only this test's keys are in the notice window.
    clock.advance(7 * DAY);
    admin = await t.signIn();
    const agents = [];
    const keys = [];
    for (let i = 0; i < 3; i++) {
      agents.push(await registerAgent(t.http, admin.accessToken));
      const key = await t.http.post<{ id: string }>('/api/v1/api-keys', { name: `batch-${i}`, expires_in_days: 90 }, { token: admin.accessToken });
      assert.equal(key.status, 201);
      keys.push(key.body.id);
    }
    clock.advance(84 * DAY);
    admin = { ...admin, accessToken: (await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password })).body.access_token };
    // The clock stood still while they were made: three agent keys and three API keys share one expiry each.
    const watch = new KeyExpiryWatch(t.server.services.alerts, t.server.stores.agents, t.server.stores.apiKeys, clock, 7, 2);
    assert.equal(await watch.scan(), 6);
    assert.equal(await watch.scan(), 0, 'a key is reported once');
    const principals = new Set((await alerts('key_expiring')).map((a) => `${a.principal.type}:${a.principal.id}`));
    for (const agent of agents) assert.ok(principals.has(`agent:${agent.id}`), `agent ${agent.id}`);
    for (const id of keys) assert.ok(principals.has(`api_key:${id}`), `API key ${id}`);
  });

  it('stopping the key expiry watch (at shutdown) waits for a scan under way, so it never writes after the database closed', async () => {
    clock.advance(7 * DAY);
    admin = await t.signIn();
    const key = await t.http.post<{ id: string }>('/api/v1/api-keys', { name: 'at-shutdown', expires_in_days: 90 }, { token: admin.accessToken });
    clock.advance(84 * DAY);
    admin = { ...admin, accessToken: (await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password })).body.access_token };
    const errors: unknown[] = [];
    const watch = new KeyExpiryWatch(t.server.services.alerts, t.server.stores.agents, t.server.stores.apiKeys, clock, 7);
    // start() scans at once; stop() right after must not return before that scan is done.
    await watch.start((error) => errors.push(error))();
    const stored = await t.server.stores.alerts.list({ organizationId: admin.organizationId, type: 'key_expiring', limit: 200 });
    assert.ok(stored.some((a) => a.principal.id === key.body.id), 'the scan finished before stop() returned');
    assert.equal(await watch.scan(), 0);
    assert.deepEqual(errors, []);
  });
});
