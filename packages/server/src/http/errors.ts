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
  if (isDependencyFailure(error)) {
    return {
      status: 503,
      body: { error: 'service_unavailable', error_description: 'a dependency is unavailable; retry shortly' },
      headers: { 'retry-after': '1' },
      internal: true,
    };
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

interface SchemaError {
  keyword?: string;
  instancePath?: string;
  params?: { additionalProperty?: unknown; allowedValue?: unknown };
}

function validationText(e: { message?: string; validationContext?: string; validation?: unknown }): string {
  const errors = Array.isArray(e.validation) ? (e.validation as SchemaError[]) : [];
  const [first] = errors;
  if (first?.keyword === 'additionalProperties' && typeof first.params?.additionalProperty === 'string') {
    const name = JSON.stringify(first.params.additionalProperty.slice(0, 64));
    if (e.validationContext === 'querystring') return clientText(`unknown query parameter ${name}: check its spelling`);
    const where = first.instancePath ? ` in ${first.instancePath.slice(1).replaceAll('/', '.')}` : '';
    return clientText(`unknown field ${name}${where}: check its spelling`);
  }
  const choices = enumChoices(errors);
  if (choices) return clientText(`${e.validationContext ?? 'request'}${choices.path} must be one of ${choices.values.join(', ')}`);
  return clientText(e.message ?? `invalid ${e.validationContext ?? 'request'}`);
}

/**
 * A value outside a list of literals (a role, a status, an event name) fails every branch of an `anyOf` of `const`s,
 * which Ajv reports as "must be equal to constant" once per branch: say which values are allowed instead.
 */
function enumChoices(errors: SchemaError[]): { path: string; values: string[] } | undefined {
  const last = errors[errors.length - 1];
  if (last?.keyword !== 'anyOf') return undefined;
  const branches = errors.slice(0, -1);
  if (branches.length === 0 || !branches.every((b) => b.keyword === 'const' && b.instancePath === last.instancePath)) return undefined;
  return { path: last.instancePath ?? '', values: branches.map((b) => JSON.stringify(b.params?.allowedValue)) };
}

/** Fastify's messages describe the request's shape, never stored data; cap them all the same. */
function clientText(message: string | undefined): string {
  return (message ?? 'invalid request').slice(0, 300);
}

// PostgreSQL SQLSTATEs for a server going away or refusing connections (class 08, 57P0x, 53300), and socket errors.
const DEPENDENCY_CODES = new Set([
  '08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300', '57014',
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'SQLITE_BUSY', 'SQLITE_LOCKED',
]);
const DEPENDENCY_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|Stream isn't writeable|Command timed out|Query read timeout/;

/** A database or Redis that is down or overloaded: the request may succeed later, so 503 with Retry-After, not 500. */
export function isDependencyFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, cause } = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string' && DEPENDENCY_CODES.has(code)) return true;
  if (typeof message === 'string' && DEPENDENCY_MESSAGES.test(message)) return true;
  return cause !== undefined && cause !== error && isDependencyFailure(cause);
}
