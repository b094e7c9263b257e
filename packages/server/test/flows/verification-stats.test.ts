import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DAY, HOUR, ManualClock } from '../../src/core/clock.js';
import { registerAgent, signedAction } from '../support/agents.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

type Stats = { days: Array<{ day: string; allowed: number; denied: number; rejected: number }> };

describe('verification stats (the dashboard chart, counted by the server)', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 20, 12));
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    t = await startTestServer({ clock });
    admin = await t.signIn({ role: 'admin' });
  });
  after(() => t.close());

  const stats = (query: string, token = admin.accessToken) => t.http.get<Stats>(`/api/v1/verifications/stats${query}`, { token });
  /** Moves the clock on; the admin signs in again, as their 15-minute access token would have lapsed. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    admin = await t.signIn({ role: 'admin', organizationId: admin.organizationId });
  };
  const decide = async (id: string, privateKey: Parameters<typeof signedAction>[1], action: string, tamper = false) => {
    const body = signedAction(id, privateKey, action, 'report.csv', { timestamp: Math.floor(clock.now() / 1000) });
    if (tamper) body.signature = signedAction(id, privateKey, 'other', 'x', { timestamp: body.timestamp }).signature;
    return t.http.post(`/api/v1/agents/${id}/verify-action`, body, { token: admin.accessToken });
  };

  it('counts allowed, denied and rejected per UTC day, every day of the range present', async () => {
    const agent = await registerAgent(t.http, admin.accessToken, { capabilities: ['files:read'] });
    assert.equal((await decide(agent.id, agent.keys.privateKey, 'files:read')).status, 200);
    assert.equal((await decide(agent.id, agent.keys.privateKey, 'files:delete')).status, 200, 'a denial is still a 200');
    await advance(DAY);
    assert.equal((await decide(agent.id, agent.keys.privateKey, 'files:read', true)).status, 401);
    assert.equal((await decide(agent.id, agent.keys.privateKey, 'files:read')).status, 200);
    await advance(HOUR);

    const res = await stats('?days=3');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.days, [
      { day: '2026-11-19', allowed: 0, denied: 0, rejected: 0 },
      { day: '2026-11-20', allowed: 1, denied: 1, rejected: 0 },
      { day: '2026-11-21', allowed: 1, denied: 0, rejected: 1 },
    ]);
    assert.equal((await stats('')).body.days.length, 14, 'two weeks by default');
  });

  it('shows another organization nothing of this one', async () => {
    const stranger = await t.signIn({ role: 'viewer' });
    const res = await stats('?days=5', stranger.accessToken);
    assert.equal(res.status, 200);
    assert.ok(res.body.days.every((d) => d.allowed + d.denied + d.rejected === 0));
  });

  it('refuses bad ranges with 400, keys without agents:read with 403, and no credential with 401', async () => {
    for (const q of ['?days=0', '?days=91', '?days=seven', '?days=1.5', `?days=${'9'.repeat(400)}`]) {
      const res = await stats(q);
      assert.equal(res.status, 400, q);
      assert.equal(res.body.error, 'invalid_request', q);
    }
    const key = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'verify only', scopes: ['verify'] }, { token: admin.accessToken });
    const refused = await t.http.get('/api/v1/verifications/stats', { headers: { 'x-api-key': key.body.key } });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'insufficient_scope');
    assert.equal((await t.http.get('/api/v1/verifications/stats')).status, 401);
  });
});
