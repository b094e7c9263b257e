/**
 * The closed catalogue of error codes AIM answers with, and the HTTP status of each.
 * Every error body is `{ error, error_description }`; clients branch on `error`, never on the text.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_credentials: 401,
  mfa_required: 401,
  invalid_token: 401,
  refresh_token_reused: 401,
  invalid_api_key: 401,
  invalid_signature: 401,
  signature_expired: 401,
  key_expired: 401,
  nonce_reused: 409,
  insufficient_scope: 403,
  forbidden: 403,
  agent_suspended: 403,
  mfa_enrollment_required: 403,
  // The token is valid and stays valid, but the sign-in behind it is too old for this step: proof of the password is
  // missing from the body, not from the credential. A 401 would tell clients to refresh or sign in again, and a
  // refresh cannot help (auth_time survives rotation); RFC 9470's 401 `insufficient_user_authentication` is a
  // challenge for a new token from an authorization server, which is not how AIM's clients re-prove the password.
  reauthentication_required: 403,
  csrf_token_invalid: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  headers_too_large: 431,
  unsupported_media_type: 415,
  rate_limited: 429,
  service_unavailable: 503,
  server_error: 500,
  // RFC 6749 §5.2 and RFC 7009/7662: used by the /oauth/* endpoints, in the same body shape.
  invalid_grant: 400,
  invalid_client: 401,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  unsupported_token_type: 400,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** The body of every error response. */
export interface ErrorBody {
  error: ErrorCode;
  error_description: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}
