import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from '../../../test/support/databases.js';
import { migrate, openDatabase, type Database } from '../database.js';
import { createStores, type StoreHub } from '../stores.js';

const T = 1_800_000_000_000;

/** The revocation store's guarantees, proven on SQLite and on PostgreSQL. */
for (const kind of STORE_KINDS) {
  describe(`revocation store contract (${kind})`, () => {
    let testDb: TestDatabase;
    let database: Database;
    let stores: StoreHub;

    before(async () => {
      testDb = await createTestDatabase(kind);
      database = openDatabase({ databaseUrl: testDb.databaseUrl, dataDir: testDb.dataDir, poolSize: 10 });
      await migrate(database);
      stores = createStores(database);
    });
    after(async () => {
      await database.close();
      await testDb.drop();
    });

    it('keeps the later end when an id is revoked twice, concurrently or not', async () => {
      await Promise.all([T + 5000, T + 9000, T + 7000].map((until) => stores.revocations.saveRevocation('family-a', until)));
      await stores.revocations.saveRevocation('family-a', T + 1000);
      assert.deepEqual(await stores.revocations.activeRevocations(T), [{ id: 'family-a', until: T + 9000 }]);
    });

    it('answers only what is still in force, and prunes the rest', async () => {
      await stores.revocations.saveRevocation('jti-old', T - 1);
      await stores.revocations.saveRevocation('jti-new', T + 60_000);
      const active = (await stores.revocations.activeRevocations(T)).map((r) => r.id).sort();
      assert.deepEqual(active, ['family-a', 'jti-new']);
      assert.equal(await stores.revocations.pruneRevocations(T), 1);
      assert.equal(await stores.revocations.pruneRevocations(T), 0);
    });
  });
}
