import type { ApiKeyId, OrgId, UserId } from '../core/ids.js';
import type { ApiKey, ApiKeyCredential, ApiKeyPage, LastUse, NewApiKey, RotateApiKeyOutcome, UsageCount, UsageReport } from './types.js';

export interface ApiKeyStore {
  /** Live keys (not revoked, not rotated) whose expiry falls in (from, to], by expiry then id; `after` pages on. */
  listExpiringBetween(from: number, to: number, limit: number, after?: { expiresAt: number; id: string }): Promise<ApiKey[]>;
  /** Inserts a key; its hash is UNIQUE, so two keys can never share one. */
  insertApiKey(key: NewApiKey): Promise<ApiKey>;
  /** The key with this SHA-256, through the unique index, compared again in constant time. */
  findByHash(keyHash: string): Promise<ApiKeyCredential | undefined>;
  /** Scoped to one organization: a key of another organization is not found. */
  findInOrganization(organizationId: OrgId, id: ApiKeyId): Promise<ApiKey | undefined>;
  /** Newest first, keyset-paginated. */
  listByOrganization(organizationId: OrgId, page: { limit: number; after?: { createdAt: number; id: ApiKeyId } }): Promise<ApiKeyPage>;
  /**
   * Compare-and-swap rotation: marks the key rotated and inserts its successor in one step. Of any number of
   * concurrent calls for one key, on any node, exactly one gets `rotated`; the others get `not_rotatable`.
   */
  rotateApiKey(input: { organizationId: OrgId; id: ApiKeyId; now: number; graceUntil: number; successor: NewApiKey }): Promise<RotateApiKeyOutcome>;
  /** Revokes a key of the organization; `changed` is false when it already was revoked. */
  revokeApiKey(organizationId: OrgId, id: ApiKeyId, now: number): Promise<{ key: ApiKey; changed: boolean } | undefined>;
  /**
   * Ends the grace of the key `from` and of the keys it replaced in turn, walking back through the rotation line
   * while each still has grace left (through revoked ones too): revokes those not yet revoked and answers them.
   */
  revokeRotatedInGrace(organizationId: OrgId, from: ApiKeyId, now: number): Promise<ApiKey[]>;
  /**
   * Revokes every unrevoked key (active, in grace, expired) a user created in the organization, in one UPDATE;
   * answers the keys this call revoked.
   */
  revokeKeysCreatedBy(organizationId: OrgId, userId: UserId, now: number): Promise<ApiKey[]>;
  /**
   * Revokes every unrevoked key of the organization minted by any of `parentIds`, in one UPDATE: `revoked` are the
   * keys this call revoked (a concurrent call never answers the same key). `minted` names every key those ids
   * minted, revoked before or now, so a caller walking the generations also reaches what an already-revoked key made.
   */
  revokeMintedBy(organizationId: OrgId, parentIds: readonly ApiKeyId[], now: number): Promise<{ revoked: ApiKey[]; minted: ApiKeyId[] }>;
  /**
   * Adds batched request counts (upserts that add, never overwrite) and moves `last_used_at` forward only.
   * Concurrent flushes from any number of nodes add up exactly.
   */
  addUsage(counts: readonly UsageCount[], lastUses: readonly LastUse[]): Promise<void>;
  /** Requests per UTC day and per route from `sinceDay` (`YYYY-MM-DD`) on. */
  usageOf(id: ApiKeyId, sinceDay: string): Promise<UsageReport>;
  /**
   * Deletes usage rows of days before `beforeDay` (`YYYY-MM-DD`), one day per statement so no single delete holds
   * the write lock for long; answers how many it deleted. Safe on several nodes at once: a row is deleted once.
   */
  pruneUsage(beforeDay: string): Promise<number>;
}
