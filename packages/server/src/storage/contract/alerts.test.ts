import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertType } from '@aim/protocol';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import type { AlertPrincipal } from '../../alerts/types.js';
import { systemRandom } from '../../core/random.js';

const uuid = () => systemRandom.uuid();
const T = 1_800_000_000_000;
const admin = { type: 'user', id: 'admin-1' };

/** The alert store's guarantees, proven on SQLite and on PostgreSQL. */
for (const kind of STORE_KINDS) {
  describe(`alert store contract (${kind})`, () => {
    const fresh = useFreshStores(kind);

    const raise = (organizationId: string, principal: AlertPrincipal, now = T, type: AlertType = 'failed_logins', evidence = {}) =>
      fresh.stores.alerts.raiseAlert({ id: uuid(), organizationId, type, principal, evidence, now });

    it('30 concurrent raises of one type for one principal make one alert counting 30', async () => {
      const org = uuid();
      const principal = { type: 'user' as const, id: uuid() };
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => raise(org, principal, T + i, 'failed_logins', { n: i })));
      assert.equal(results.filter((r) => r.created).length, 1);
      const ids = new Set(results.map((r) => r.alert.id));
      assert.equal(ids.size, 1);
      const [alert] = await fresh.stores.alerts.list({ organizationId: org, limit: 10 });
      assert.equal(alert?.count, 30);
      assert.equal(alert?.status, 'open');
      assert.deepEqual(alert?.evidence, results.find((r) => r.created)?.alert.evidence, 'the first evidence is kept');
    });

    it('another type or another principal is another alert', async () => {
      const org = uuid();
      const principal = { type: 'user' as const, id: uuid() };
      await raise(org, principal);
      await raise(org, principal, T, 'refresh_token_reused');
      await raise(org, { type: 'user', id: uuid() });
      await raise(org, { type: 'api_key', id: principal.id });
      assert.equal((await fresh.stores.alerts.list({ organizationId: org, limit: 10 })).length, 4);
    });

    it('acknowledged alerts keep grouping; resolved ones close their group', async () => {
      const org = uuid();
      const principal = { type: 'agent' as const, id: uuid() };
      const first = await raise(org, principal, T, 'nonce_replays', { at: 1 });
      assert.equal(await fresh.stores.alerts.acknowledgeAlert(org, first.alert.id, admin, T + 1), true);
      assert.equal(await fresh.stores.alerts.acknowledgeAlert(org, first.alert.id, admin, T + 2), false, 'already acknowledged');

      const repeat = await raise(org, principal, T + 3, 'nonce_replays', { at: 2 });
      assert.equal(repeat.created, false);
      assert.equal(repeat.alert.id, first.alert.id);
      assert.equal(repeat.alert.status, 'acknowledged');
      assert.equal(repeat.alert.count, 2);
      assert.deepEqual(repeat.alert.latestEvidence, { at: 2 });
      assert.equal(repeat.alert.lastSeenAt, T + 3);
      assert.deepEqual(repeat.alert.acknowledgedBy, admin);

      assert.equal(await fresh.stores.alerts.resolveAlert(org, first.alert.id, admin, T + 4), true);
      assert.equal(await fresh.stores.alerts.resolveAlert(org, first.alert.id, admin, T + 5), false);
      assert.equal(await fresh.stores.alerts.acknowledgeAlert(org, first.alert.id, admin, T + 5), false, 'a resolved alert stays resolved');
      const next = await raise(org, principal, T + 6, 'nonce_replays');
      assert.equal(next.created, true, 'the next occurrence opens a new alert');
      assert.notEqual(next.alert.id, first.alert.id);
      const resolved = await fresh.stores.alerts.find(org, first.alert.id);
      assert.equal(resolved?.status, 'resolved');
      assert.equal(resolved?.resolvedAt, T + 4);
    });

    it('every operation is scoped to the organization', async () => {
      const org = uuid();
      const other = uuid();
      const { alert } = await raise(org, { type: 'user', id: uuid() });
      assert.equal(await fresh.stores.alerts.find(other, alert.id), undefined);
      assert.equal(await fresh.stores.alerts.acknowledgeAlert(other, alert.id, admin, T), false);
      assert.equal(await fresh.stores.alerts.resolveAlert(other, alert.id, admin, T), false);
      assert.deepEqual(await fresh.stores.alerts.list({ organizationId: other, limit: 10 }), []);
      assert.equal((await fresh.stores.alerts.find(org, alert.id))?.status, 'open');
    });

    it('lists newest first with filters, page by page', async () => {
      const org = uuid();
      for (let i = 0; i < 7; i++) await raise(org, { type: 'user', id: `u${i}` }, T + i * 1000, i % 2 === 0 ? 'failed_logins' : 'key_expiring');
      await raise(org, { type: 'user', id: 'same-time' }, T + 6000, 'failed_logins');
      const seen: string[] = [];
      let after: { firstSeenAt: number; id: string } | undefined;
      for (;;) {
        const page = await fresh.stores.alerts.list({ organizationId: org, limit: 3, ...(after && { after }) });
        seen.push(...page.map((a) => a.principal.id));
        if (page.length < 3) break;
        const last = page[page.length - 1]!;
        after = { firstSeenAt: last.firstSeenAt, id: last.id };
      }
      assert.equal(seen.length, 8);
      assert.equal(new Set(seen).size, 8, 'no alert twice, even with equal times');
      assert.deepEqual(seen.slice(2), ['u5', 'u4', 'u3', 'u2', 'u1', 'u0']);
      const keyExpiring = await fresh.stores.alerts.list({ organizationId: org, type: 'key_expiring', limit: 10 });
      assert.deepEqual(keyExpiring.map((a) => a.principal.id), ['u5', 'u3', 'u1']);
      const first = keyExpiring[0]!;
      await fresh.stores.alerts.resolveAlert(org, first.id, admin, T);
      assert.equal((await fresh.stores.alerts.list({ organizationId: org, status: 'resolved', limit: 10 })).length, 1);
      assert.equal((await fresh.stores.alerts.list({ organizationId: org, status: 'open', limit: 10 })).length, 7);
    });

    it('notifications of repeats: one claim wins per interval, among concurrent ones', async () => {
      const org = uuid();
      const { alert } = await raise(org, { type: 'user', id: uuid() });
      assert.equal(await fresh.stores.alerts.claimNotification(alert.id, T + 59_999, 60_000), false, 'announced when created');
      const claims = await Promise.all(Array.from({ length: 10 }, () => fresh.stores.alerts.claimNotification(alert.id, T + 60_000, 60_000)));
      assert.equal(claims.filter(Boolean).length, 1);
      assert.equal(await fresh.stores.alerts.claimNotification(alert.id, T + 90_000, 60_000), false);
      assert.equal(await fresh.stores.alerts.claimNotification(alert.id, T + 120_000, 60_000), true);
    });
  });
}
