import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';

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
  });
}
