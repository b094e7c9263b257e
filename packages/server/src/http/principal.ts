import type { Role, Scope } from '@aim/protocol';
import type { FamilyId, OrgId, UserId } from '../core/ids.js';

/** How a request proved who it is. */
export type AuthMethod = 'jwt' | 'api_key' | 'oauth';

/** Which rate limit applies: the authenticated method, or `public` (per address) when there is none. */
export type RateClass = AuthMethod | 'public';

/** Who is calling, after authentication. Handlers and services act on this, never on raw headers. */
export interface Principal {
  method: AuthMethod;
  organizationId: OrgId;
  scopes: ReadonlySet<Scope>;
  /** Recorded in the audit log as the actor. */
  actor: { type: 'user' | 'api_key' | 'agent'; id: string };
  /** The person behind the request: the signed-in user, or the creator of an API key or SDK token. */
  userId?: UserId;
  role?: Role;
  /** The refresh family a session or SDK access token came from. */
  familyId?: FamilyId;
  /** When the person last proved their password (seconds, the session token's `auth_time`); unset otherwise. */
  authTime?: number;
  /** The agent, for OAuth client_credentials tokens. */
  agentId?: string;
  /** What the rate limit counts against: the user, key or client. */
  rateKey: string;
  /** A per-principal limit overriding the class default (API keys may carry one). */
  rateLimit?: number;
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has('admin') || principal.scopes.has(scope);
}
