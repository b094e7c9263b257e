import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import { ManualClock } from '../../core/clock.js';
import { DurableRevocationList, MemoryRevocationList, type RevocationList } from '../../shared-state/revocations.js';

const T = 1_800_000_000_000;

/** The revocation store's guarantees, proven on SQLite and on PostgreSQL. */
for (const kind of STORE_KINDS) {
  describe(`revocation store contract (${kind})`, () => {
    const fresh = useFreshStores(kind);

    it('keeps the later end when an id is revoked twice, concurrently or not', async () => {
      await Promise.all([T + 5000, T + 9000, T + 7000].map((until) => fresh.stores.revocations.saveRevocation('family-a', until)));
      await fresh.stores.revocations.saveRevocation('family-a', T + 1000);
      assert.deepEqual(await fresh.stores.revocations.activeRevocations(T), [{ id: 'family-a', until: T + 9000 }]);
    });

    it('answers only what is still in force, and prunes the rest', async () => {
      await fresh.stores.revocations.saveRevocation('jti-old', T - 1);
      await fresh.stores.revocations.saveRevocation('jti-new', T + 60_000);
      const active = (await fresh.stores.revocations.activeRevocations(T)).map((r) => r.id).sort();
      assert.deepEqual(active, ['family-a', 'jti-new']);
      assert.equal(await fresh.stores.revocations.pruneRevocations(T), 1);
      assert.equal(await fresh.stores.revocations.pruneRevocations(T), 0);
    });

    it('a node catches up from the database on revocations another node saved but could not announce', async () => {
      const clock = new ManualClock(T);
      const node = (announce: RevocationList) => new DurableRevocationList(announce, fresh.stores.revocations, clock);
      // Two nodes whose announcements (Redis, down) reach no one: each has only its own memory.
      const revoking = node(new MemoryRevocationList(clock));
      const other = node(new MemoryRevocationList(clock));
      await revoking.revoke('family-partitioned', T + 60_000);
      assert.equal(revoking.isRevoked('family-partitioned'), true);
      assert.equal(other.isRevoked('family-partitioned'), false, 'not announced');
      await other.catchUp();
      assert.equal(other.isRevoked('family-partitioned'), true);
      clock.advance(60_000);
      assert.equal(other.isRevoked('family-partitioned'), false, 'until its end, no longer');
    });
  });
}
