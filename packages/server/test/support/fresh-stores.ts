import { after, before } from 'node:test';
import { migrate, openDatabase, type Database } from '../../src/storage/database.js';
import { createStores, type StoreHub } from '../../src/storage/stores.js';
import { createTestDatabase, type StoreKind, type TestDatabase } from './databases.js';

export interface FreshStores {
  readonly stores: StoreHub;
  readonly database: Database;
  /** A second, independent handle on the same store: it sees only what has been committed. */
  openAnother(): Database;
}

/**
 * For the enclosing `describe`: a fresh, migrated store of `kind`, opened before its tests and dropped after them.
 * The store contract suites use it so each proves its guarantees on an empty SQLite file and PostgreSQL database.
 */
export function useFreshStores(kind: StoreKind): FreshStores {
  let testDb: TestDatabase | undefined;
  let database: Database | undefined;
  let stores: StoreHub | undefined;
  before(async () => {
    testDb = await createTestDatabase(kind);
    database = openDatabase({ databaseUrl: testDb.databaseUrl, dataDir: testDb.dataDir, poolSize: 10 });
    await migrate(database);
    stores = createStores(database);
  });
  after(async () => {
    await database?.close();
    await testDb?.drop();
  });
  return {
    get stores() {
      if (!stores) throw new Error('stores are open only inside the describe’s tests');
      return stores;
    },
    openAnother() {
      if (!testDb) throw new Error('the database is open only inside the describe’s tests');
      return openDatabase({ databaseUrl: testDb.databaseUrl, dataDir: testDb.dataDir, poolSize: 2 });
    },
    get database() {
      if (!database) throw new Error('the database is open only inside the describe’s tests');
      return database;
    },
  };
}
