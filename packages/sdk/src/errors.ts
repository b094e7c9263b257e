/**
 * Typed errors mirroring AIM's protocol codes. Every error the server answers is `{error, error_description}`;
 * the SDK turns it into an instance of the class registered for `error`, so callers branch with `instanceof`
 * (or on `.code`), never on message text.
 *
 * The table is the SDK's own (the SDK has no runtime dependencies); a test compares it with the protocol's
 * catalogue and fails when a server code has no SDK class.
 *
 * @example
 * ```ts
 * try {
 *   await agent.verifyAction('files:read', '/reports/q3.pdf');
 * } catch (error) {
 *   if (error instanceof RateLimitedError) await sleep(error.retryAfter * 1000);
 *   else if (error instanceof InvalidSignatureError) console.error('wrong key for this agent');
 *   else throw error;
 * }
 * ```
 */
import type { DecisionReason } from './types.js';
export class AimError extends Error {
  /** The protocol code (`invalid_signature`, …), or `network_error` / `invalid_response` for client-side failures. */
  readonly code: string;
  /** The HTTP status, 0 when no answer arrived. */
  readonly status: number;

  constructor(code: string, message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** 400 `invalid_request`: the request was malformed or failed validation. */
export class InvalidRequestError extends AimError {}
/** 401 `invalid_credentials`: wrong email, password or TOTP code. */
export class InvalidCredentialsError extends AimError {}
/** 401 `mfa_required`: the account has 2FA; send the same login with a TOTP or recovery code. */
export class MfaRequiredError extends AimError {}
/** 401 `invalid_token`: the bearer token is missing, expired or revoked. */
export class InvalidTokenError extends AimError {}
/** 401 `refresh_token_reused`: a rotated refresh token came back; the server revoked the whole family. */
export class RefreshTokenReusedError extends AimError {}
/** 401 `invalid_api_key`: malformed, unknown, revoked, expired or wrong-environment API key. */
export class InvalidApiKeyError extends AimError {}
/** 401 `invalid_signature`: the Ed25519 signature does not verify against the agent's live keys. */
export class InvalidSignatureError extends AimError {}
/** 401 `signature_expired`: the signed timestamp is outside the server's window (check the clock). */
export class SignatureExpiredError extends AimError {}
/** 401 `key_expired`: the agent key is older than its maximum age; an admin must set a new one. */
export class KeyExpiredError extends AimError {}
/** 409 `nonce_reused`: this nonce was already used by this agent (a replay). */
export class NonceReusedError extends AimError {}
/** 403 `insufficient_scope`: the credential lacks the scope the route needs. */
export class InsufficientScopeError extends AimError {}
/** 403 `forbidden`: not allowed, whatever the scope. */
export class ForbiddenError extends AimError {}
/** 403 `agent_suspended`: the agent is suspended (or revoked); its signatures are refused. */
export class AgentSuspendedError extends AimError {}
/** 403 `mfa_enrollment_required`: an admin must enable 2FA before using admin routes. */
export class MfaEnrollmentRequiredError extends AimError {}
/**
 * 403 `reauthentication_required`: the sign-in behind this token is too old for the step (registering agents,
 * creating SDK tokens or API keys, administering people, enrolling 2FA): confirm the password with
 * `aim.reauthenticate(password)` and try again
 * (password clients do this themselves). Refreshing does not help: the sign-in time carries over.
 */
export class ReauthenticationRequiredError extends AimError {}
/** 403 `csrf_token_invalid`: a cookie request without the matching CSRF token. */
export class CsrfTokenInvalidError extends AimError {}
/** 404 `not_found`: no such resource in your organization. */
export class NotFoundError extends AimError {}
/** 409 `conflict`: the resource exists already or is in the wrong state. */
export class ConflictError extends AimError {}
/** 413 `payload_too_large`. */
export class PayloadTooLargeError extends AimError {}
/** 431 `headers_too_large`. */
export class HeadersTooLargeError extends AimError {}
/** 415 `unsupported_media_type`. */
export class UnsupportedMediaTypeError extends AimError {}
/** 503 `service_unavailable`: a dependency of the server is down; retry later. */
export class ServiceUnavailableError extends AimError {}
/** 500 `server_error`. */
export class ServerError extends AimError {}
/** 400 `invalid_grant` (RFC 6749 §5.2): the refresh token is unknown, expired or revoked. */
export class InvalidGrantError extends AimError {}
/** 401 `invalid_client` (RFC 6749 §5.2): the agent's client assertion was refused. */
export class InvalidClientError extends AimError {}
/** 400 `unauthorized_client` (RFC 6749 §5.2): the client may not use this grant (e.g. a suspended agent). */
export class UnauthorizedClientError extends AimError {}
/** 400 `unsupported_grant_type` (RFC 6749 §5.2). */
export class UnsupportedGrantTypeError extends AimError {}
/** 400 `invalid_scope` (RFC 6749 §5.2): a refresh asked for more scope than the token holds. */
export class InvalidScopeError extends AimError {}
/** 400 `unsupported_token_type` (RFC 7009 §2.2.1). */
export class UnsupportedTokenTypeError extends AimError {}

/** 429 `rate_limited`: over the limit. `retryAfter` is the server's `Retry-After`, in seconds. */
export class RateLimitedError extends AimError {
  /** Seconds until one more request fits, from `Retry-After` (or `RateLimit-Reset`). */
  readonly retryAfter: number;
  constructor(code: string, message: string, status: number, options?: { cause?: unknown; retryAfter?: number }) {
    super(code, message, status, options);
    this.retryAfter = options?.retryAfter ?? 0;
  }
}

/**
 * The signature was valid but the agent may not do this (`allowed: false`, `reason: capability_missing`
 * when no capability covers the action, `resource_not_allowed` when one does but not on this resource).
 * Not a protocol error code: verify-action answers 200 with the decision, which this error carries.
 */
export class ActionDeniedError extends AimError {
  constructor(readonly decision: { allowed: boolean; reason: DecisionReason; verification_id: string; action: string; resource: string }) {
    super('action_denied', `${decision.action} on ${decision.resource} was denied: ${decision.reason}`, 200);
  }
}

/** The request never got an answer (connection refused, DNS, aborted). */
export class NetworkError extends AimError {}
/** The server answered something that is not AIM's JSON (a proxy page, say). */
export class InvalidResponseError extends AimError {}

type ErrorClass = new (code: string, message: string, status: number, options?: { cause?: unknown; retryAfter?: number }) => AimError;

/** Every protocol code the SDK knows, with its class. */
export const ERROR_CLASSES = {
  invalid_request: InvalidRequestError,
  invalid_credentials: InvalidCredentialsError,
  mfa_required: MfaRequiredError,
  invalid_token: InvalidTokenError,
  refresh_token_reused: RefreshTokenReusedError,
  invalid_api_key: InvalidApiKeyError,
  invalid_signature: InvalidSignatureError,
  signature_expired: SignatureExpiredError,
  key_expired: KeyExpiredError,
  nonce_reused: NonceReusedError,
  insufficient_scope: InsufficientScopeError,
  forbidden: ForbiddenError,
  agent_suspended: AgentSuspendedError,
  mfa_enrollment_required: MfaEnrollmentRequiredError,
  reauthentication_required: ReauthenticationRequiredError,
  csrf_token_invalid: CsrfTokenInvalidError,
  not_found: NotFoundError,
  conflict: ConflictError,
  payload_too_large: PayloadTooLargeError,
  headers_too_large: HeadersTooLargeError,
  unsupported_media_type: UnsupportedMediaTypeError,
  rate_limited: RateLimitedError,
  service_unavailable: ServiceUnavailableError,
  server_error: ServerError,
  invalid_grant: InvalidGrantError,
  invalid_client: InvalidClientError,
  unauthorized_client: UnauthorizedClientError,
  unsupported_grant_type: UnsupportedGrantTypeError,
  invalid_scope: InvalidScopeError,
  unsupported_token_type: UnsupportedTokenTypeError,
} as const satisfies Record<string, ErrorClass>;

export type ProtocolErrorCode = keyof typeof ERROR_CLASSES;

/**
 * The typed error for an error answer. Unknown codes (a newer server) still become an `AimError` with the code.
 */
export function errorFromResponse(status: number, body: unknown, retryAfter?: number): AimError {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof record.error === 'string' ? record.error : status === 429 ? 'rate_limited' : 'invalid_response';
  const description = typeof record.error_description === 'string' ? record.error_description : `HTTP ${status}`;
  const Class: ErrorClass = Object.hasOwn(ERROR_CLASSES, code) ? ERROR_CLASSES[code as ProtocolErrorCode] : code === 'invalid_response' ? InvalidResponseError : AimError;
  return new Class(code, description, status, retryAfter !== undefined ? { retryAfter } : undefined);
}
