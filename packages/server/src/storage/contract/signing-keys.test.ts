import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from '../../../test/support/databases.js';
import { systemRandom } from '../../core/random.js';
import { migrate, openDatabase, type Database } from '../database.js';
import { createStores, type StoreHub } from '../stores.js';

const T = 1_800_000_000_000;
const key = () => ({ kid: systemRandom.uuid(), publicJwk: '{}', privateJwkSealed: 'x', createdAt: T, retiredAt: null, expiresAt: null });

/** Nodes starting together on an empty store agree on one signing key, on SQLite and on PostgreSQL. */
for (const kind of STORE_KINDS) {
  describe(`signing key store contract (${kind})`, () => {
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

    it('of eight concurrent first keys exactly one is stored; later ones are refused', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => stores.signingKeys.insertIfNoSigner(key())));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await stores.signingKeys.listPublished(T)).length, 1);
      assert.equal(await stores.signingKeys.insertIfNoSigner(key()), false);
    });
  });
}
