import type { Scope } from '@aim/protocol';
import type { ApiKeyId, OrgId, UserId } from '../core/ids.js';

export type ApiKeyEnvironment = 'live' | 'test';

/** An API key as AIM keeps it: everything but the key itself, of which only SHA-256 is stored. */
export interface ApiKey {
  id: ApiKeyId;
  organizationId: OrgId;
  /** The person who created (or rotated into being) the key: requests made with it act on their behalf. */
  createdBy: UserId;
  name: string;
  /** `ak_live_` and the first 8 characters of the secret: safe to show, log and audit. */
  prefix: string;
  environment: ApiKeyEnvironment;
  scopes: Scope[];
  /** Overrides AIM_RATE_LIMIT_API_KEY for this key (only ever lower). */
  rateLimitPerMinute: number | null;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
  revokedAt: number | null;
  /** When a successor was issued; the key keeps working until `graceUntil`. */
  rotatedAt: number | null;
  graceUntil: number | null;
  replacedBy: ApiKeyId | null;
  rotatedFrom: ApiKeyId | null;
  /**
   * The API key that authenticated the request creating (or rotating into being) this key; null when a person did
   * it with a JWT. What a stolen `admin` key minted is found, and revoked, by this.
   */
  mintedBy: ApiKeyId | null;
}

/** What the verifier needs: the key, its stored hash, and whether its creator can still act. */
export interface ApiKeyCredential extends ApiKey {
  keyHash: string;
  creatorDisabledAt: number | null;
}

/** The row written when a key is created or rotated. */
export type NewApiKey = Omit<ApiKey, 'lastUsedAt' | 'lastUsedIp' | 'revokedAt' | 'rotatedAt' | 'graceUntil' | 'replacedBy'> & {
  keyHash: string;
};

/**
 * - `active`: works.
 * - `grace`: rotated, still works until `graceUntil`.
 * - `rotated`: rotated and past its grace period.
 * - `revoked`, `expired`: stopped.
 */
export type ApiKeyStatus = 'active' | 'grace' | 'rotated' | 'revoked' | 'expired';

export function statusOf(key: ApiKey, now: number): ApiKeyStatus {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt <= now) return 'expired';
  if (key.rotatedAt !== null) return key.graceUntil !== null && key.graceUntil > now ? 'grace' : 'rotated';
  return 'active';
}

export type RotateApiKeyOutcome =
  | { kind: 'rotated'; previous: ApiKey; successor: ApiKey }
  | { kind: 'not_found' }
  /** Already rotated, revoked or expired: nothing changed. */
  | { kind: 'not_rotatable'; key: ApiKey };

/** Requests counted in memory for one key, UTC day and route, waiting to be added to the store. */
export interface UsageCount {
  keyId: ApiKeyId;
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  /** The route pattern, e.g. `GET /api/v1/agents/:id`, never the raw URL. */
  route: string;
  requests: number;
}

export interface LastUse {
  keyId: ApiKeyId;
  at: number;
  ip: string | null;
}

export interface UsageReport {
  total: number;
  days: Array<{ day: string; requests: number }>;
  routes: Array<{ route: string; requests: number }>;
}

export interface ApiKeyPage {
  keys: ApiKey[];
  total: number;
  /** Pass back to get the next page; absent on the last one. */
  next?: { createdAt: number; id: ApiKeyId };
}
