/** Wire shapes, as the server sends them (snake_case, times in milliseconds since the epoch). */

/** One page of a list that counts its matches: `{agents: [...], total, next_cursor}`, `{api_keys: [...], total, next_cursor}`. */
export type Page<K extends string, T> = { [key in K]: T[] } & { total: number; next_cursor: string | null };

export interface AgentView {
  agent_id: string;
  id: string;
  organization_id: string;
  name: string;
  type: string;
  description: string | null;
  capabilities: string[];
  status: 'active' | 'suspended' | 'revoked' | string;
  public_key: string | null;
  key_id: string | null;
  key_expires_at: number | null;
  rotation_due: boolean;
  created_at: number;
  updated_at: number;
}

export interface RegisteredAgent {
  agent_id: string;
  name: string;
  type: string;
  capabilities: string[];
  status: string;
  public_key: string;
  key_id: string;
  key_expires_at: number;
  created_at: number;
}

export interface AgentKeyView {
  key_id: string;
  public_key: string;
  public_key_pem: string;
  status: 'active' | 'grace' | 'retired' | 'revoked' | string;
  created_at: number;
  expires_at: number;
  grace_until: number | null;
  replaced_by: string | null;
  revoked_at: number | null;
  rotation_due: boolean;
}

/**
 * Why a validly signed action was allowed or denied: `capability_granted`, `capability_missing` (no capability
 * covers the action) or `resource_not_allowed` (one does, but not on this resource, as with `files:read@/reports/*`).
 */
export type DecisionReason = 'capability_granted' | 'capability_missing' | 'resource_not_allowed';

/** The answer of verify-action: a valid signature and the decision on it. */
export interface VerifyDecision {
  verified: true;
  allowed: boolean;
  reason: DecisionReason;
  verification_id: string;
  key_id: string;
  agent_id: string;
  action: string;
  resource: string;
  key_expires_at: number;
  /** The key is within the server's notice period before expiry: rotate it (`Agent` does so by itself). */
  rotation_due: boolean;
}

/** An API key as lists show it: never the key itself. */
export interface ApiKeyView {
  id: string;
  name: string;
  /** `ak_<environment>_` and the first 8 characters of the secret. */
  prefix: string;
  scopes: string[];
  environment: string;
  /** `grace`: rotated, still accepted until `grace_until`. */
  status: 'active' | 'grace' | 'rotated' | 'revoked' | 'expired';
  created_at: number;
  created_by: string;
  expires_at: number;
  /** Active, and expires within 14 days. */
  expiring_soon: boolean;
  last_used_at: number | null;
  last_used_ip: string | null;
  rate_limit_per_minute: number | null;
  revoked_at: number | null;
  rotated_at: number | null;
  grace_until: number | null;
  replaced_by: string | null;
  rotated_from: string | null;
  /** The API key whose request created (or rotated into being) this key; null when a person did it. */
  minted_by: string | null;
}

/**
 * A revocation's answer: the key, how many keys minted from it were revoked too (`revokeMinted`), and how many keys
 * those replaced by rotation, still in their grace, stopped with them.
 */
export interface RevokedApiKey extends ApiKeyView {
  minted_revoked: number;
  grace_ended: number;
}

/** A new API key (create or rotate): `key` appears in this answer only, which has none of a listed key's usage fields. */
export interface IssuedApiKey {
  id: string;
  name: string;
  key: string;
  prefix: string;
  scopes: string[];
  expires_at: number;
  created_at: number;
  rate_limit_per_minute: number | null;
  /** The API key that made this request; null when a person did. */
  minted_by: string | null;
}

/** A rotation's answer: the successor, and the key it replaces (still accepted until `previous.grace_until`). */
export interface RotatedApiKey extends IssuedApiKey {
  rotated_from: string;
  previous: ApiKeyView;
}

/** A new SDK token: `refresh_token` appears in this answer only. */
export interface IssuedSdkToken extends SdkTokenView {
  refresh_token: string;
  client_id: string;
  token_endpoint: string;
}

export interface Me {
  id: string;
  email: string;
  role: string;
  organization_id: string;
  [field: string]: unknown;
}

/** The answer of `reauthenticate()`: a new access token of the same session, with the confirmed sign-in time. */
export interface ReauthenticatedSession {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  user: Me;
}

/** An SDK token as listed: never the token itself. */
export interface SdkTokenView {
  id: string;
  name: string;
  scopes: string[];
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
  last_used_ip: string | null;
  revoked_at: number | null;
  status: 'active' | 'revoked' | 'expired' | string;
}

/** One UTC day of `GET /api/v1/verifications/stats`: decisions allowed, denied, and signatures rejected. */
export interface VerificationDay {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  allowed: number;
  denied: number;
  rejected: number;
}

/** `GET /api/v1/audit-logs/checkpoint`: the organization's chain head, signed by the server. */
export interface AuditCheckpointView {
  organization_id: string;
  /** The chain's last entry (0: an empty chain). */
  seq: number;
  /** Its hash: SHA-256, lowercase hex. */
  hash: string;
  issued_at: number;
  /** Compact JWS (EdDSA, `kid` in `/.well-known/jwks.json`, `typ` `aim-audit-checkpoint+jwt`) over `{iss, sub, seq, hash, iat}`. */
  checkpoint: string;
}

/**
 * A person as most answers show them: `GET /api/v1/auth/me` (with `mfa_enabled`), a login's `user`, creating a user,
 * changing their role.
 */
export interface UserSummary {
  id: string;
  email: string;
  role: 'admin' | 'manager' | 'member' | 'viewer';
  organization_id: string;
  created_at?: number;
  disabled_at?: number | null;
  mfa_enabled?: boolean;
}

/** A person of your organization, as admins see them (`GET /api/v1/users`, and disabling, enabling, resetting 2FA). */
export interface UserView extends UserSummary {
  created_at: number;
  disabled_at: number | null;
  status: 'active' | 'disabled';
  mfa_enabled: boolean;
}

/** What an offboarding call revoked: session and SDK token families, and API keys the user created. */
export interface RevokedCredentials {
  sessions: number;
  api_keys: number;
}

/** A one-time password reset link: the token is in this answer only. */
export interface IssuedPasswordReset {
  user_id: string;
  /** `pr_<id>.<secret>` */
  reset_token: string;
  /** The web UI's page, with the token in the URL fragment. */
  reset_url: string;
  expires_at: number;
}

/** A reset link used (`POST /api/v1/public/password-reset`): whose password changed, and how many of their sessions ended. */
export interface CompletedPasswordReset {
  email: string;
  sessions_revoked: number;
}

/** One of your signed-in sessions (web UI or a password login): never a token. */
export interface SessionView {
  id: string;
  created_at: number;
  last_used_at: number | null;
  last_ip: string | null;
  user_agent: string | null;
  /** When it ends unless it is used again. */
  expires_at: number;
  revoked_at: number | null;
  /** The session this client's access token belongs to. */
  current: boolean;
}
