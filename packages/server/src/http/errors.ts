import type { ErrorBody, ErrorCode } from '@aim/protocol';
import { ERROR_STATUS } from '@aim/protocol';
import { AimError } from '../core/errors.js';

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** True when the cause is ours, not the client's: logged at error level. */
  internal: boolean;
}

/** Fastify's own client errors, by code, mapped onto the catalogue. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_VALIDATION: 'invalid_request',
  FST_ERR_NOT_FOUND: 'not_found',
  ERR_INVALID_CHAR: 'invalid_request',
};

const DESCRIPTIONS: Partial<Record<ErrorCode, string>> = {
  payload_too_large: 'request body is too large',
  unsupported_media_type: 'send the body as application/json',
  not_found: 'no such route',
};

/** The one place any thrown value becomes an HTTP answer `{error, error_description}`. */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (error instanceof AimError) {
    return { status: error.status, body: { error: error.code, error_description: error.message }, headers: error.headers, internal: false };
  }
  const e = error as { code?: string; statusCode?: number; message?: string; validation?: unknown; validationContext?: string };
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) {
    const description = e.validation ? validationText(e) : (DESCRIPTIONS[mapped] ?? clientText(e.message));
    return { status: ERROR_STATUS[mapped], body: { error: mapped, error_description: description }, headers: {}, internal: false };
  }
  if (error instanceof SyntaxError || (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)) {
    return {
      status: 400,
      body: { error: 'invalid_request', error_description: 'the request could not be parsed' },
      headers: {},
      internal: false,
    };
  }
  return {
    status: 500,
    body: { error: 'server_error', error_description: 'an unexpected error occurred; it has been logged' },
    headers: {},
    internal: true,
  };
}

function validationText(e: { message?: string; validationContext?: string }): string {
  return clientText(e.message ?? `invalid ${e.validationContext ?? 'request'}`);
}

/** Fastify's messages describe the request's shape, never stored data; cap them all the same. */
function clientText(message: string | undefined): string {
  return (message ?? 'invalid request').slice(0, 300);
}
