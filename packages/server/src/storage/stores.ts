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
import type { PasswordResetStore } from '../password-resets/store.js';
import type { RevocationStore } from '../shared-state/revocations.js';
import type { SealedValueStore } from '../master-key/index.js';
import { KyselyAgentStore } from './agent-store.js';
import { KyselyApiKeyStore } from './api-key-store.js';
import { KyselyAlertStore } from './alert-store.js';
import { KyselyAuditStore } from './audit-store.js';
import type { Database, Dialect } from './database.js';
import { GroupCommit } from './group-commit.js';
import type { Transact } from './kysely-store.js';
import { KyselyMfaStore } from './mfa-store.js';
import { KyselyPasswordResetStore } from './password-reset-store.js';
import { KyselyRefreshTokenStore } from './refresh-token-store.js';
import { KyselyRevocationStore } from './revocation-store.js';
import { KyselySealedValueStore } from './sealed-value-store.js';
import { KyselySigningKeyStore } from './signing-key-store.js';
import type { Tables } from './tables.js';
import { KyselyUserStore } from './users-store.js';
import { KyselyVerificationStore } from './verification-store.js';

/** Every store, over one connection or one transaction. */
export interface Stores {
  users: UserStore;
  passwordResets: PasswordResetStore;
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
  sealedValues: SealedValueStore;
}

export interface StoreHub extends Stores {
  /**
   * Runs `fn` with stores bound to one transaction: everything it writes commits together or not at all.
   * The transaction commits when `fn` returns, even if the value it returns describes a failed request.
   */
  transaction<T>(fn: (stores: Stores) => Promise<T>): Promise<T>;
  /** Resolves once every transaction started so far has committed or failed: call before closing the database. */
  settled(): Promise<void>;
}

/** Stores over `db`; `transact` starts their transactions, and is absent when `db` is a transaction already. */
function bind(db: Kysely<Tables>, dialect: Dialect, transact: Transact | undefined): Stores {
  const agents = new KyselyAgentStore(db, dialect, transact);
  return {
    agents,
    nonces: agents,
    verifications: new KyselyVerificationStore(db, dialect, transact),
    users: new KyselyUserStore(db, dialect, transact),
    passwordResets: new KyselyPasswordResetStore(db, dialect, transact),
    refreshTokens: new KyselyRefreshTokenStore(db, dialect, transact),
    signingKeys: new KyselySigningKeyStore(db, dialect, transact),
    audit: new KyselyAuditStore(db, dialect, transact),
    apiKeys: new KyselyApiKeyStore(db, dialect, transact),
    mfa: new KyselyMfaStore(db, dialect, transact),
    alerts: new KyselyAlertStore(db, dialect, transact),
    revocations: new KyselyRevocationStore(db, dialect, transact),
    sealedValues: new KyselySealedValueStore(db, dialect, transact),
  };
}

export function createStores(database: Database): StoreHub {
  const { db, dialect } = database;
  // PostgreSQL runs transactions side by side on its pool; SQLite's one writer commits the waiting ones together.
  const group = dialect === 'sqlite' ? new GroupCommit(db) : undefined;
  const transact: Transact = group ? (fn) => group.run(fn) : (fn) => db.transaction().execute(fn);
  return {
    ...bind(db, dialect, transact),
    transaction: (fn) => transact((trx) => fn(bind(trx, dialect, undefined))),
    // PostgreSQL's pool waits for its checked-out clients when it ends.
    settled: async () => group?.settled(),
  };
}
