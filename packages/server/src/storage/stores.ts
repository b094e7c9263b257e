import type { Kysely } from 'kysely';
import type { AlertStore } from '../alerts/store.js';
import type { AuditStore } from '../audit/store.js';
import type { RefreshTokenStore } from '../sessions/store.js';
import type { SigningKeyStore } from '../tokens/store.js';
import type { UserStore } from '../users/store.js';
import { KyselyAlertStore } from './alert-store.js';
import { KyselyAuditStore } from './audit-store.js';
import type { Database, Dialect } from './database.js';
import { KyselyRefreshTokenStore } from './refresh-token-store.js';
import { KyselySigningKeyStore } from './signing-key-store.js';
import type { Tables } from './tables.js';
import { KyselyUserStore } from './users-store.js';

/** Every store, over one connection or one transaction. */
export interface Stores {
  users: UserStore;
  refreshTokens: RefreshTokenStore;
  signingKeys: SigningKeyStore;
  audit: AuditStore;
  alerts: AlertStore;
}

export interface StoreHub extends Stores {
  /**
   * Runs `fn` with stores bound to one transaction: everything it writes commits together or not at all.
   * The transaction commits when `fn` returns, even if the value it returns describes a failed request.
   */
  transaction<T>(fn: (stores: Stores) => Promise<T>): Promise<T>;
}

function bind(db: Kysely<Tables>, dialect: Dialect, inTransaction: boolean): Stores {
  return {
    users: new KyselyUserStore(db, dialect, inTransaction),
    refreshTokens: new KyselyRefreshTokenStore(db, dialect, inTransaction),
    signingKeys: new KyselySigningKeyStore(db, dialect, inTransaction),
    audit: new KyselyAuditStore(db, dialect, inTransaction),
    alerts: new KyselyAlertStore(db, dialect, inTransaction),
  };
}

export function createStores(database: Database): StoreHub {
  const { db, dialect } = database;
  return {
    ...bind(db, dialect, false),
    transaction: (fn) => db.transaction().execute((trx) => fn(bind(trx, dialect, true))),
  };
}
