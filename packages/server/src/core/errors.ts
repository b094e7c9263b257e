import { ERROR_STATUS, type ErrorCode } from '@aim/protocol';

/**
 * The one error type services throw. The code is public and stable; the description is for humans;
 * the cause is logged and never sent.
 */
export class AimError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, description: string, options: { cause?: unknown; headers?: Record<string, string> } = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AimError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.headers = options.headers ?? {};
  }
}

export const notFound = (what: string) => new AimError('not_found', `${what} not found`);
export const invalidRequest = (description: string) => new AimError('invalid_request', description);
