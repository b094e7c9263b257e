/**
 * Suspicious-activity alerts: their fixed list of types and their lifecycle, shared by the server, the SDK and the UI.
 * An alert names a principal, carries evidence and times; repeats of the same type for the same principal while the
 * alert is not resolved are grouped into it (its `count` grows), never added as new alerts.
 */
export const ALERT_TYPES = [
  /** A rotated session refresh token was presented again: its family was revoked. */
  'refresh_token_reused',
  /** A rotated SDK (OAuth) refresh token was presented again: its family was revoked. */
  'sdk_token_reused',
  /** Many failed sign-ins for one account within a short window. */
  'failed_logins',
  /** A burst of invalid signatures for one agent. */
  'invalid_signatures',
  /** A burst of reused nonces for one agent. */
  'nonce_replays',
  /** An API key keeps hitting its rate limit. */
  'api_key_rate_limited',
  /** An agent key or API key is close to its maximum age. */
  'key_expiring',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/** `open` → `acknowledged` (someone is looking) → `resolved` (closed; the next occurrence opens a new alert). */
export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** What an alert is about. */
export const ALERT_PRINCIPAL_TYPES = ['user', 'api_key', 'agent'] as const;
export type AlertPrincipalType = (typeof ALERT_PRINCIPAL_TYPES)[number];

export function isAlertType(value: unknown): value is AlertType {
  return typeof value === 'string' && (ALERT_TYPES as readonly string[]).includes(value);
}
