// Wire types of the AIM API as the UI uses them (see CONTRACT.md and /api/v1/openapi.json). Times are Unix ms.
import type { AlertStatus, AuditRecord, ChainVerdict, VerificationEvidence } from '@aim/protocol';
import type { AgentView, Page, UserSummary } from '@aim/sdk';

// Shapes the SDK already describes, used as they are (types only: nothing of the SDK is bundled).
export type {
  AgentKeyView as AgentKey,
  AgentView as Agent,
  ApiKeyView as ApiKey,
  AuditCheckpointView as AuditCheckpoint,
  CompletedPasswordReset as PasswordResetDone,
  IssuedApiKey as CreatedApiKey,
  IssuedPasswordReset,
  RegisteredAgent,
  RevokedCredentials as Revoked,
  SdkTokenView as SdkToken,
  SessionView as SignedInSession,
  UserSummary as User,
  UserView as ListedUser,
  VerificationDay as DayOfDecisions,
} from '@aim/sdk';

// The protocol's own lists (the UI already loads @aim/protocol at runtime).
export { ROLES, type AlertStatus, type Role } from '@aim/protocol';

/** A login's or refresh's answer for the web client: the refresh token stays in its HttpOnly cookie. */
export interface SessionAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  user: UserSummary;
  csrf_token?: string;
}

export type AgentList = Page<'agents', AgentView>;

/** A decision's evidence as the API answers it (the fields anyone re-checks are in @aim/protocol). */
export interface Verification extends VerificationEvidence {
  allowed: boolean;
  caller: { type: string; id: string };
  ip: string | null;
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

/** An entry of the hash chain, exactly as the protocol defines it (and `aim audit verify` reads it). */
export type AuditEntry = AuditRecord;

export type AuditVerification = ChainVerdict;

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

/** The scopes the create-key form offers: the protocol's SCOPES without `api_keys:manage`. */
export const API_KEY_SCOPES = ['agents:read', 'agents:write', 'verify', 'audit:read', 'alerts:manage', 'admin'] as const;
