// Wire types of the AIM API as the UI uses them (see CONTRACT.md and /api/v1/openapi.json). Times are Unix ms.
import type { AuditCheckpoint as ChainHead, AuditRecord, ChainVerdict, VerificationEvidence } from '@aim/protocol';

// Shapes the SDK already describes, used as they are (types only: nothing of the SDK is bundled).
export type { IssuedPasswordReset, RevokedCredentials as Revoked, SessionView as SignedInSession } from '@aim/sdk';

export type Role = 'admin' | 'manager' | 'member' | 'viewer';

export interface User {
  id: string;
  email: string;
  role: Role;
  organization_id: string;
  created_at?: number;
  disabled_at?: number | null;
  mfa_enabled?: boolean;
  /** In the users list (admins). */
  status?: 'active' | 'disabled';
}

/** `POST /public/password-reset`: whose password changed, and how many of their sessions ended. */
export interface PasswordResetDone {
  email: string;
  sessions_revoked: number;
}

export interface SessionAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  user: User;
  csrf_token?: string;
}

export interface Agent {
  agent_id: string;
  name: string;
  type: string;
  description: string | null;
  capabilities: string[];
  status: string;
  public_key: string | null;
  key_id: string | null;
  key_expires_at: number | null;
  rotation_due: boolean;
  created_at: number;
  updated_at: number;
}

export interface AgentList {
  agents: Agent[];
  total: number;
  next_cursor: string | null;
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

export interface AgentKey {
  key_id: string;
  public_key: string;
  public_key_pem: string;
  status: string;
  created_at: number;
  expires_at: number;
  grace_until: number | null;
  replaced_by: string | null;
  revoked_at: number | null;
  rotation_due: boolean;
}

/** A decision's evidence as the API answers it (the fields anyone re-checks are in @aim/protocol). */
export interface Verification extends VerificationEvidence {
  allowed: boolean;
  caller: { type: string; id: string };
  ip: string | null;
}

export type ApiKeyStatus = 'active' | 'grace' | 'rotated' | 'revoked' | 'expired';

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  environment: string;
  status: ApiKeyStatus;
  created_at: number;
  created_by: string;
  expires_at: number;
  expiring_soon: boolean;
  last_used_at: number | null;
  last_used_ip: string | null;
  rate_limit_per_minute: number | null;
  revoked_at: number | null;
  rotated_at: number | null;
  grace_until: number | null;
  replaced_by: string | null;
  rotated_from: string | null;
}

/** The only answer that carries the secret key; shown once. */
export interface CreatedApiKey {
  id: string;
  name: string;
  key: string;
  prefix: string;
  scopes: string[];
  expires_at: number;
  created_at: number;
  rate_limit_per_minute: number | null;
}

export interface ApiKeyUsage {
  id: string;
  prefix: string;
  status: string;
  last_used_at: number | null;
  last_used_ip: string | null;
  total_requests: number;
  days: Array<{ day: string; requests: number }>;
  routes: Array<{ route: string; requests: number }>;
}

export interface SdkToken {
  id: string;
  name: string;
  scopes: string[];
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
  last_used_ip: string | null;
  revoked_at: number | null;
  status: string;
}

/** An entry of the hash chain, exactly as the protocol defines it (and `aim audit verify` reads it). */
export type AuditEntry = AuditRecord;

/** Decisions of one UTC day (`GET /api/v1/verifications/stats`). */
export interface DayOfDecisions {
  day: string;
  allowed: number;
  denied: number;
  rejected: number;
}

export type AuditVerification = ChainVerdict;

/** The chain's head, signed: kept outside AIM, it later proves the chain was not cut short or rebuilt. */
export interface AuditCheckpoint extends ChainHead {
  organization_id: string;
  issued_at: number;
  checkpoint: string;
}

export type AlertStatus = 'open' | 'acknowledged' | 'resolved';

export interface Alert {
  id: string;
  type: string;
  status: AlertStatus;
  principal: { type: string; id: string };
  evidence: Record<string, unknown>;
  latest_evidence: Record<string, unknown>;
  count: number;
  first_seen_at: number;
  last_seen_at: number;
  acknowledged_at: number | null;
  resolved_at: number | null;
}

export const API_KEY_SCOPES = ['agents:read', 'agents:write', 'verify', 'audit:read', 'alerts:manage', 'admin'] as const;
export const ROLES: Role[] = ['admin', 'manager', 'member', 'viewer'];
