import { ActionDeniedError, AimError } from '@aim/sdk';
import { EXIT } from './output.js';

/** The exit code for an error from the server, so scripts can tell "sign in again" from "not allowed" from "retry". */
export function exitCodeFor(error: AimError): number {
  // A suspended agent asking for a token is unauthorized_client (RFC 6749 §5.2, a 400): still "not allowed".
  if (error instanceof ActionDeniedError || error.code === 'unauthorized_client') return EXIT.denied;
  // The remedy is the password again (`aim reauth`): an authentication step, not a refusal.
  if (error.status === 401 || error.code === 'reauthentication_required') return EXIT.auth;
  if (error.status === 403) return EXIT.denied;
  if (error.status === 404) return EXIT.notFound;
  if (error.status === 0 || error.status === 429 || error.status >= 500) return EXIT.unavailable;
  return EXIT.failure;
}
