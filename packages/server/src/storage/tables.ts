import type { Generated } from 'kysely';

/**
 * Row shapes of every table, as Kysely sees them. Times are integer milliseconds since the epoch
 * (bigint in PostgreSQL, read back as numbers); JSON columns are text.
 */
export interface Tables {
  meta: { key: string; value: string };
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
  };
  refresh_tokens: {
    id: string;
    family_id: string;
    secret_hash: string;
    created_at: number;
    expires_at: number;
    used_at: number | null;
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
