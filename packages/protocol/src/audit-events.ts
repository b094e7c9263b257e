/**
 * The fixed list of audit events, past tense, `<subject>.<verb>`.
 * Services emit only these; the audit log, the docs and the SDK are checked against this list.
 */
export const AUDIT_EVENTS = [
  // sessions
  'session.created',
  'session.login_failed',
  'session.refreshed',
  'session.logged_out',
  'session.revoked',
  'refresh_token.reuse_detected',
  // users and organizations
  'user.created',
  'user.updated',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'user.password_changed',
  'user.password_change_failed',
  'user.reauthenticated',
  'user.reauthentication_failed',
  'user.password_reset_issued',
  'user.password_reset',
  'user.password_reset_failed',
  'organization.created',
  // second factor
  'mfa.totp_setup_started',
  'mfa.totp_enabled',
  'mfa.totp_disabled',
  'mfa.recovery_code_used',
  'mfa.verification_failed',
  'mfa.reset_by_admin',
  'mfa.recovery_codes_regenerated',
  // API keys
  'api_key.created',
  'api_key.rotated',
  'api_key.revoked',
  'api_key.rate_limited',
  // SDK tokens and OAuth
  'sdk_token.created',
  'sdk_token.revoked',
  'sdk_token.reuse_detected',
  'oauth.token_issued',
  'oauth.token_revoked',
  'oauth.client_authentication_failed',
  // agents and their keys
  'agent.registered',
  'agent.updated',
  'agent.suspended',
  'agent.reactivated',
  'agent.deleted',
  'agent_key.rotated',
  'agent_key.revoked',
  // verify-action decisions
  'action.verified',
  'action.denied',
  'action.rejected',
  // alerts and administration
  'alert.acknowledged',
  'alert.resolved',
  'signing_key.rotated',
  'master_key.resealed',
  'audit.pruned',
  'system.started',
] as const;

export type AuditEvent = (typeof AUDIT_EVENTS)[number];

export function isAuditEvent(value: unknown): value is AuditEvent {
  return typeof value === 'string' && (AUDIT_EVENTS as readonly string[]).includes(value);
}
