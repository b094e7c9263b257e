import type { Generated } from 'kysely';

/**
 * Row shapes of every table, as Kysely sees them. Times are integer milliseconds since the epoch
 * (bigint in PostgreSQL, read back as numbers); JSON columns are text.
 */
export interface Tables {
  meta: { key: string; value: string };
  revocations: { id: string; until: number };
  organizations: { id: string; name: string; created_at: number };
  users: {
    id: string;
    organization_id: string;
    email: string;
    password_hash: string;
    role: string;
    created_at: number;
    updated_at: number;
    password_changed_at: number;
    disabled_at: number | null;
    /** Set when the account was deleted: the row is a tombstone that lookups skip. */
    deleted_at: number | null;
  };
  signing_keys: {
    kid: string;
    public_jwk: string;
    private_jwk_sealed: string;
    created_at: number;
    /** No longer signs from this time; still published until `expires_at`. */
    retired_at: number | null;
    /** Removed from the JWKS after this time, when no token it signed can still be valid. */
    expires_at: number | null;
  };
  password_resets: {
    id: string;
    user_id: string;
    organization_id: string;
    secret_hash: string;
    /** The admin who made the link; null when made from the command line. */
    created_by: string | null;
    created_at: number;
    expires_at: number;
    used_at: number | null;
  };
  refresh_families: {
    id: string;
    kind: string;
    organization_id: string;
    user_id: string;
    name: string | null;
    scopes: string;
    created_at: number;
    expires_at: number;
    last_used_at: number | null;
    last_ip: string | null;
    user_agent: string | null;
    revoked_at: number | null;
    revoked_reason: string | null;
    auth_time: number | null;
  };
  refresh_tokens: {
    id: string;
    family_id: string;
    secret_hash: string;
    created_at: number;
    expires_at: number;
    used_at: number | null;
    /** The successor this token's rotation issued; null for a live token and for one a retry replaced. */
    replaced_by: string | null;
  };
  agents: {
    id: string;
    organization_id: string;
    name: string;
    type: string;
    description: string | null;
    capabilities: string;
    status: string;
    created_by: string;
    created_at: number;
    updated_at: number;
  };
  agent_keys: {
    id: string;
    agent_id: string;
    organization_id: string;
    public_key: string;
    created_at: number;
    expires_at: number;
    grace_until: number | null;
    replaced_by: string | null;
    revoked_at: number | null;
  };
  nonces: { agent_id: string; nonce: string; expires_at: number };
  verifications: {
    id: string;
    organization_id: string;
    agent_id: string;
    key_id: string | null;
    action: string;
    resource: string;
    timestamp: number;
    nonce: string;
    message: string;
    signature: string;
    decision: string;
    reason: string;
    caller_type: string;
    caller_id: string;
    ip: string | null;
    created_at: number;
  };
  api_keys: {
    id: string;
    organization_id: string;
    created_by: string;
    name: string;
    prefix: string;
    /** SHA-256 of the whole key, hex; UNIQUE. The key itself is never stored. */
    key_hash: string;
    environment: string;
    /** JSON array of scopes. */
    scopes: string;
    rate_limit_per_minute: number | null;
    created_at: number;
    expires_at: number;
    last_used_at: number | null;
    last_used_ip: string | null;
    revoked_at: number | null;
    rotated_at: number | null;
    grace_until: number | null;
    replaced_by: string | null;
    rotated_from: string | null;
    /** The API key whose request created this one; NULL when a person did it with a JWT. */
    minted_by: string | null;
  };
  api_key_usage: {
    key_id: string;
    /** UTC day, `YYYY-MM-DD`. */
    day: string;
    /** Route pattern, `GET /api/v1/agents/:id`. */
    route: string;
    requests: number;
  };
  audit_log: {
    id: string;
    organization_id: string;
    seq: number;
    event: string;
    actor_type: string;
    actor_id: string | null;
    subject_type: string | null;
    subject_id: string | null;
    ip: string | null;
    data: string;
    created_at: number;
    prev_hash: string;
    hash: string;
  };
  /** Per organization: the last entry retention pruned, where the kept chain starts. */
  audit_anchors: {
    organization_id: string;
    seq: number;
    hash: string;
    pruned_at: number;
  };
  mfa_totp: {
    user_id: string;
    secret_sealed: string;
    created_at: number;
    enabled_at: number | null;
    last_used_step: number | null;
  };
  mfa_recovery_codes: {
    id: string;
    user_id: string;
    code_hash: string;
    created_at: number;
    used_at: number | null;
  };
  alerts: {
    id: string;
    organization_id: string;
    type: string;
    status: string;
    principal_type: string;
    principal_id: string;
    /** JSON: the first occurrence's evidence. */
    evidence: string;
    /** JSON: the most recent occurrence's evidence. */
    latest_evidence: string;
    occurrences: number;
    first_seen_at: number;
    last_seen_at: number;
    /** `<type>|<principal type>:<principal id>` while unresolved, NULL once resolved (unique per organization). */
    open_key: string | null;
    acknowledged_at: number | null;
    /** `<actor type>:<actor id>`. */
    acknowledged_by: string | null;
    resolved_at: number | null;
    resolved_by: string | null;
    /** When a webhook last went out for this alert: grouped updates are sent at most once a minute. */
    notified_at: number | null;
  };
}

export type Row<T extends keyof Tables> = Tables[T];
export type AutoId = Generated<number>;
