import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { OrgId } from '../../src/core/ids.js';
import { ManualClock, SECOND } from '../../src/core/clock.js';
import { STORE_KINDS } from '../support/databases.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

interface AlertBody {
  id: string;
  organization_id: string;
  type: string;
  status: string;
  principal: { type: string; id: string };
  evidence: Record<string, unknown>;
  latest_evidence: Record<string, unknown>;
  count: number;
  first_seen_at: number;
  last_seen_at: number;
  acknowledged_at: number | null;
  acknowledged_by: { type: string; id: string } | null;
  resolved_at: number | null;
  resolved_by: { type: string; id: string } | null;
}
type Page = { alerts: AlertBody[]; next_cursor: string | null };

let addressCounter = 0;
const nextAddress = () => `192.0.2.${++addressCounter % 250}`;

for (const store of STORE_KINDS) {
  describe(`alerts (${store})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    let t: TestServer;
    let admin: SignedIn;

    before(async () => {
      t = await startTestServer({ store, clock, env: { AIM_TRUST_PROXY: '127.0.0.1' } });
      admin = await t.signIn({ role: 'admin' });
    });
    after(() => t.close());

    const list = (token: string, query = '') => t.http.get<Page>(`/api/v1/alerts${query}`, { token });
    const raise = (organizationId: string, principalId: string, type: 'failed_logins' | 'key_expiring' = 'key_expiring', evidence = {}) =>
      t.server.services.alerts.raise({ organizationId: organizationId as OrgId, type, principal: { type: 'user', id: principalId }, evidence });

    it('a reused refresh token raises refresh_token_reused naming the user, with evidence; repeats are grouped', async () => {
      const member = await t.createUser({ role: 'member', organizationId: admin.organizationId });
      const reuse = async () => {
        const login = await t.http.post<{ refresh_token: string }>('/api/v1/public/login', { email: member.email, password: member.password });
        const first = login.body.refresh_token;
        assert.equal((await t.http.post('/api/v1/auth/refresh', { refresh_token: first })).status, 200);
        const reused = await t.http.post('/api/v1/auth/refresh', { refresh_token: first }, { headers: { 'x-forwarded-for': '198.51.100.7' } });
        assert.equal(reused.body.error, 'refresh_token_reused');
      };
      await reuse();
      const page = await list(admin.accessToken, '?type=refresh_token_reused');
      assert.equal(page.status, 200);
      assert.equal(page.body.alerts.length, 1, 'the alert exists by the time the 401 is answered');
      const alert = page.body.alerts[0]!;
      assert.equal(alert.status, 'open');
      assert.equal(alert.organization_id, admin.organizationId);
      assert.deepEqual(alert.principal, { type: 'user', id: member.id });
      assert.equal(alert.evidence.ip, '198.51.100.7');
      assert.equal(typeof alert.evidence.family_id, 'string');
      assert.equal(alert.count, 1);
      assert.equal(alert.first_seen_at, clock.now());

      clock.advance(5 * SECOND);
      await reuse();
      const grouped = (await list(admin.accessToken, '?type=refresh_token_reused')).body.alerts;
      assert.equal(grouped.length, 1, 'grouped, not flooded');
      assert.equal(grouped[0]!.count, 2);
      assert.equal(grouped[0]!.last_seen_at, clock.now());
      assert.notEqual(grouped[0]!.latest_evidence.family_id, grouped[0]!.evidence.family_id);
    });

    it('ten failed sign-ins for one account within 15 minutes raise failed_logins', async () => {
      const victim = await t.createUser({ role: 'viewer', organizationId: admin.organizationId });
      let failures = 0;
      while (failures < 10) {
        const res = await t.http.post('/api/v1/public/login', { email: victim.email, password: 'wrong wrong wrong' }, {
          headers: { 'x-forwarded-for': nextAddress() },
        });
        if (res.status === 429) clock.advance(Number(res.headers.get('retry-after')) * SECOND);
        else failures += 1;
        if (failures < 10) assert.equal((await list(admin.accessToken, '?type=failed_logins')).body.alerts.length, 0, `after ${failures}`);
      }
      const [alert, ...rest] = (await list(admin.accessToken, '?type=failed_logins')).body.alerts;
      assert.equal(rest.length, 0);
      assert.deepEqual(alert?.principal, { type: 'user', id: victim.id });
      assert.equal(alert?.evidence.failures, 10);
      assert.equal(alert?.evidence.window_seconds, 900);
    });

    it('acknowledge, then resolve, each audited once; a resolved alert cannot be acknowledged; the next occurrence opens a new one', async () => {
      const { alert } = await raise(admin.organizationId, 'lifecycle-user');
      const ack = await t.http.post<AlertBody>(`/api/v1/alerts/${alert.id}/acknowledge`, undefined, { token: admin.accessToken });
      assert.equal(ack.status, 200);
      assert.equal(ack.body.status, 'acknowledged');
      assert.deepEqual(ack.body.acknowledged_by, { type: 'user', id: admin.id });
      assert.equal(ack.body.acknowledged_at, clock.now());
      const again = await t.http.post<AlertBody>(`/api/v1/alerts/${alert.id}/acknowledge`, undefined, { token: admin.accessToken });
      assert.equal(again.status, 200, 'acknowledging twice is harmless');

      const repeat = await raise(admin.organizationId, 'lifecycle-user');
      assert.equal(repeat.alert.id, alert.id, 'an acknowledged alert keeps grouping');
      assert.equal(repeat.alert.status, 'acknowledged');

      const resolved = await t.http.post<AlertBody>(`/api/v1/alerts/${alert.id}/resolve`, undefined, { token: admin.accessToken });
      assert.equal(resolved.status, 200);
      assert.equal(resolved.body.status, 'resolved');
      assert.deepEqual(resolved.body.resolved_by, { type: 'user', id: admin.id });
      assert.equal((await t.http.post(`/api/v1/alerts/${alert.id}/resolve`, undefined, { token: admin.accessToken })).status, 200);
      const late = await t.http.post(`/api/v1/alerts/${alert.id}/acknowledge`, undefined, { token: admin.accessToken });
      assert.equal(late.status, 409);
      assert.equal(late.body.error, 'conflict');

      const next = await raise(admin.organizationId, 'lifecycle-user');
      assert.equal(next.created, true);
      assert.notEqual(next.alert.id, alert.id);

      const audit = await t.server.stores.audit.list({ organizationId: admin.organizationId, limit: 200 });
      const about = audit.filter((e) => e.subject_id === alert.id);
      assert.deepEqual(about.map((e) => e.event).sort(), ['alert.acknowledged', 'alert.resolved']);
      assert.ok(about.every((e) => e.actor_type === 'user' && e.actor_id === admin.id));
    });

    it('lists newest first, filtered by status and type, page by page', async () => {
      const owner = await t.signIn({ role: 'admin' });
      for (let i = 0; i < 5; i++) {
        clock.advance(SECOND);
        await raise(owner.organizationId, `page-${i}`, i < 3 ? 'key_expiring' : 'failed_logins');
      }
      const seen: string[] = [];
      let query = '?limit=2';
      for (let pages = 0; pages < 10; pages++) {
        const page = await list(owner.accessToken, query);
        assert.equal(page.status, 200);
        seen.push(...page.body.alerts.map((a) => a.principal.id));
        if (!page.body.next_cursor) break;
        query = `?limit=2&cursor=${encodeURIComponent(page.body.next_cursor)}`;
      }
      assert.deepEqual(seen, ['page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
      assert.deepEqual((await list(owner.accessToken, '?type=failed_logins')).body.alerts.map((a) => a.principal.id), ['page-4', 'page-3']);
      const [first] = (await list(owner.accessToken)).body.alerts;
      await t.http.post(`/api/v1/alerts/${first!.id}/resolve`, undefined, { token: owner.accessToken });
      assert.deepEqual((await list(owner.accessToken, '?status=resolved')).body.alerts.map((a) => a.id), [first!.id]);
      assert.equal((await list(owner.accessToken, '?status=open')).body.alerts.length, 4);
      assert.equal((await list(owner.accessToken, '?status=open&type=key_expiring')).body.alerts.length, 3);

      for (const bad of ['?status=closed', '?type=nope', '?limit=0', '?limit=201', '?cursor=not-a-cursor', `?cursor=${'x'.repeat(300)}`]) {
        const res = await list(owner.accessToken, bad);
        assert.equal(res.status, 400, bad);
        assert.equal(res.body.error, 'invalid_request' as never);
      }
    });

    it('auditors may read, only alert managers may change, and nobody sees another organization', async () => {
      const { alert } = await raise(admin.organizationId, 'scoped-user');
      const viewer = await t.signIn({ role: 'viewer', organizationId: admin.organizationId });
      const member = await t.signIn({ role: 'member', organizationId: admin.organizationId });
      const manager = await t.signIn({ role: 'manager', organizationId: admin.organizationId });
      const stranger = await t.signIn({ role: 'admin' });

      assert.equal((await list(viewer.accessToken)).status, 200, 'audit:read may list');
      const viewerAck = await t.http.post(`/api/v1/alerts/${alert.id}/acknowledge`, undefined, { token: viewer.accessToken });
      assert.equal(viewerAck.status, 403);
      assert.equal(viewerAck.body.error, 'insufficient_scope');
      const memberList = await list(member.accessToken);
      assert.equal(memberList.status, 403);
      assert.equal((memberList.body as unknown as { error: string }).error, 'insufficient_scope');
      assert.equal((await t.http.post(`/api/v1/alerts/${alert.id}/acknowledge`, undefined, { token: manager.accessToken })).status, 200);

      assert.equal((await list(stranger.accessToken)).body.alerts.length, 0);
      for (const action of ['acknowledge', 'resolve']) {
        const res = await t.http.post(`/api/v1/alerts/${alert.id}/${action}`, undefined, { token: stranger.accessToken });
        assert.equal(res.status, 404, `another organization's alert cannot be ${action}d`);
        assert.equal(res.body.error, 'not_found');
      }
      for (const id of ['6b0f2c1e-8d3a-4f5b-9c7d-1e2f3a4b5c6d', 'not-a-uuid']) {
        assert.equal((await t.http.post(`/api/v1/alerts/${id}/resolve`, undefined, { token: admin.accessToken })).status, 404);
      }
      assert.equal((await t.http.get('/api/v1/alerts')).status, 401);
    });

    it('bursts: the threshold-th occurrence within the window raises, later ones group about once per bucket', async () => {
      const agent = { type: 'agent' as const, id: `agent-${store}` };
      const burst = () =>
        t.server.services.alertDetectors.burst({
          organizationId: admin.organizationId,
          type: 'invalid_signatures',
          principal: agent,
          threshold: 5,
          window: { windowMs: 60_000, buckets: 6 },
          evidence: { action: 'deploy' },
        });
      const raised: boolean[] = [];
      for (let i = 0; i < 12; i++) raised.push(await burst());
      assert.deepEqual(raised.map((r, i) => (r ? i + 1 : 0)).filter(Boolean), [5], 'raised by the fifth, once');
      const [alert] = (await list(admin.accessToken, '?type=invalid_signatures')).body.alerts;
      assert.deepEqual(alert?.principal, agent);
      assert.deepEqual(alert?.evidence, { action: 'deploy', occurrences: 5, window_seconds: 60 });
      clock.advance(60 * SECOND);
      for (let i = 0; i < 5; i++) await burst();
      assert.equal((await list(admin.accessToken, '?type=invalid_signatures')).body.alerts[0]?.count, 2, 'a later burst groups');
    });

    it('evidence never keeps secret-named fields', async () => {
      const { alert } = await raise(admin.organizationId, 'evidence-user', 'key_expiring', {
        key_id: 'k1',
        token: 'rt_secret',
        nested: { password: 'p', ok: 1 },
      });
      assert.deepEqual(alert.evidence, { key_id: 'k1', nested: { ok: 1 } });
    });
  });
}

describe('alert webhook', () => {
  const secret = 'aim-test-webhook-secret-0123456789';
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  let receiver: WebhookReceiver;
  let t: TestServer;

  before(async () => {
    receiver = await WebhookReceiver.start();
    t = await startTestServer({ clock, env: { AIM_ALERT_WEBHOOK_URL: receiver.url, AIM_ALERT_WEBHOOK_SECRET: secret } });
  });
  after(async () => {
    await t.close();
    await receiver.close();
  });

  it('posts each new alert signed with HMAC-SHA256, and each repeat at most once a minute', async () => {
    const admin = await t.signIn({ role: 'admin' });
    const raise = () =>
      t.server.services.alerts.raise({
        organizationId: admin.organizationId as OrgId,
        type: 'invalid_signatures',
        principal: { type: 'agent', id: 'agent-1' },
        evidence: { failures: 20 },
      });
    const { alert } = await raise();
    const [delivery] = await receiver.waitFor(1);
    assert.equal(delivery!.headers['content-type'], 'application/json');
    assert.equal(delivery!.headers['x-aim-event'], 'alert.raised');
    const signature = String(delivery!.headers['x-aim-signature']);
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature);
    assert.ok(match, signature);
    assert.equal(Number(match[1]), Math.floor(clock.now() / 1000));
    const expected = createHmac('sha256', secret).update(`${match[1]}.${delivery!.body}`).digest();
    assert.ok(timingSafeEqual(expected, Buffer.from(match[2]!, 'hex')), 'the signature verifies over "<t>.<body>"');
    const payload = JSON.parse(delivery!.body) as { id: string; event: string; alert: AlertBody };
    assert.equal(payload.event, 'alert.raised');
    assert.equal(payload.id, delivery!.headers['x-aim-delivery']);
    assert.equal(payload.alert.id, alert.id);
    assert.equal(payload.alert.type, 'invalid_signatures');
    assert.deepEqual(payload.alert.principal, { type: 'agent', id: 'agent-1' });

    await raise();
    await raise();
    clock.advance(60 * SECOND);
    await raise();
    await raise();
    const all = await receiver.waitFor(2);
    const update = JSON.parse(all[1]!.body) as { event: string; alert: AlertBody };
    assert.equal(update.event, 'alert.updated');
    assert.equal(update.alert.count, 4, 'the update went out with the first repeat a minute after the last message');
    await receiver.settle();
    assert.equal(receiver.requests.length, 2, 'no other message: repeats within the minute are not sent');
  });
});
