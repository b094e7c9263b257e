import type { Kysely } from 'kysely';
import type { AgentStore, NonceStore } from '../agents/store.js';
import type { ApiKeyStore } from '../api-keys/store.js';
import type { AlertStore } from '../alerts/store.js';
import type { AuditStore } from '../audit/store.js';
import type { VerificationStore } from '../signatures/store.js';
import type { MfaStore } from '../mfa/store.js';
import type { RefreshTokenStore } from '../sessions/store.js';
import type { SigningKeyStore } from '../tokens/store.js';
import type { UserStore } from '../users/store.js';
import type { RevocationStore } from '../shared-state/revocations.js';
import { KyselyAgentStore } from './agent-store.js';
import { KyselyApiKeyStore } from './api-key-store.js';
import { KyselyAlertStore } from './alert-store.js';
import { KyselyAuditStore } from './audit-store.js';
import type { Database, Dialect } from './database.js';
import { KyselyMfaStore } from './mfa-store.js';
import { KyselyRefreshTokenStore } from './refresh-token-store.js';
import { KyselyRevocationStore } from './revocation-store.js';
import { KyselySigningKeyStore } from './signing-key-store.js';
import type { Tables } from './tables.js';
import { KyselyUserStore } from './users-store.js';
import { KyselyVerificationStore } from './verification-store.js';

/** Every store, over one connection or one transaction. */
export interface Stores {
  users: UserStore;
  refreshTokens: RefreshTokenStore;
  signingKeys: SigningKeyStore;
  audit: AuditStore;
  agents: AgentStore;
  nonces: NonceStore;
  verifications: VerificationStore;
  apiKeys: ApiKeyStore;
  mfa: MfaStore;
  alerts: AlertStore;
  revocations: RevocationStore;
}

export interface StoreHub extends Stores {
  /**
   * Runs `fn` with stores bound to one transaction: everything it writes commits together or not at all.
   * The transaction commits when `fn` returns, even if the value it returns describes a failed request.
   */
  transaction<T>(fn: (stores: Stores) => Promise<T>): Promise<T>;
}

function bind(db: Kysely<Tables>, dialect: Dialect, inTransaction: boolean): Stores {
  const agents = new KyselyAgentStore(db, dialect, inTransaction);
  return {
    agents,
    nonces: agents,
    verifications: new KyselyVerificationStore(db, dialect, inTransaction),
    users: new KyselyUserStore(db, dialect, inTransaction),
    refreshTokens: new KyselyRefreshTokenStore(db, dialect, inTransaction),
    signingKeys: new KyselySigningKeyStore(db, dialect, inTransaction),
    audit: new KyselyAuditStore(db, dialect, inTransaction),
    apiKeys: new KyselyApiKeyStore(db, dialect, inTransaction),
    mfa: new KyselyMfaStore(db, dialect, inTransaction),
    alerts: new KyselyAlertStore(db, dialect, inTransaction),
    revocations: new KyselyRevocationStore(db, dialect, inTransaction),
  };
}

export function createStores(database: Database): StoreHub {
  const { db, dialect } = database;
  return {
    ...bind(db, dialect, false),
    transaction: (fn) => db.transaction().execute((trx) => fn(bind(trx, dialect, true))),
  };
}
