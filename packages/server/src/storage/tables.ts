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
}

export type Row<T extends keyof Tables> = Tables[T];
export type AutoId = Generated<number>;
