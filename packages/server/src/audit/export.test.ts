import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORE_KINDS } from '../../test/support/databases.js';
import { useFreshStores } from '../../test/support/fresh-stores.js';
import { DAY, ManualClock } from '../core/clock.js';
import type { OrgId } from '../core/ids.js';
import { systemRandom } from '../core/random.js';
import { AuditLog } from './audit-log.js';
import { AuditExportInterrupted, AuditService } from './service.js';

/** An export racing retention pruning fails loudly instead of ending as a file that cannot verify. */
for (const kind of STORE_KINDS) {
  describe(`audit export during pruning (${kind})`, () => {
    const fresh = useFreshStores(kind);

    it('entries pruned between two pages of an export make it fail; taken again, it starts at the new anchor', async () => {
      const clock = new ManualClock();
      const organizationId = systemRandom.uuid() as OrgId;
      await fresh.stores.users.createOrganization({ id: organizationId, name: 'org', createdAt: clock.now() });
      const log = new AuditLog(fresh.stores.audit, clock, systemRandom);
      await fresh.stores.transaction(async (s) => {
        for (let i = 0; i < 250; i++) await log.withStore(s.audit).record({ organizationId, event: 'agent.updated', actor: { type: 'system' } });
      });
      const service = new AuditService(fresh.stores, log, clock, 1);

      // Pages of 3 entries; the export hands out its header, then its first batch (200 entries), and waits.
      const reading = service.exportJsonl(organizationId, 3);
      assert.match(String((await reading.next()).value), /"anchor":null/);
      assert.equal(String((await reading.next()).value).trim().split('\n').length, 200);

      clock.advance(2 * DAY);
      assert.equal((await service.prune()).deleted, 250);
      await assert.rejects(reading.next(), AuditExportInterrupted);

      const again: string[] = [];
      for await (const chunk of service.exportJsonl(organizationId, 3)) again.push(chunk);
      const lines = again.join('').trim().split('\n').map((l) => JSON.parse(l) as { seq?: number; event?: string; anchor?: { seq: number } });
      assert.equal(lines[0]?.anchor?.seq, 250);
      assert.deepEqual(lines.slice(1).map((e) => [e.seq, e.event]), [[251, 'audit.pruned']]);
    });
  });
}
