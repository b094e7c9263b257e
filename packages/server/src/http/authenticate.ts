import type { FastifyRequest } from 'fastify';
import { AimError } from '../core/errors.js';
import type { Access } from './handler.js';
import { hasScope, type Principal } from './principal.js';

/** Turns a presented credential into a principal, or throws the catalogued 401. */
export interface CredentialVerifiers {
  bearer(token: string): Promise<Principal>;
  apiKey(key: string, request: FastifyRequest): Promise<Principal>;
  /** The web UI's session cookie, on routes whose access allows it; undefined when the request carries none. */
  sessionCookie?(request: FastifyRequest): Promise<Principal | undefined>;
}

type GuardedAccess = Extract<Access, { auth: readonly string[] }>;

/** Extra checks after authentication, such as the admin 2FA requirement. Throws to refuse. */
export type PrincipalPolicy = (principal: Principal, request: FastifyRequest, access: GuardedAccess) => Promise<void> | void;

// RFC 9110 §11.1: the scheme is case-insensitive (`bearer`, `BEARER`); the token is not.
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/** RFC 6750 §3: a 401 for a bearer-protected resource says how to authenticate. */
const CHALLENGE = { 'www-authenticate': 'Bearer realm="aim"' };
/** RFC 6750 §3.1: a token that was presented and refused (forged, expired, revoked) says so in the challenge too. */
const INVALID_TOKEN_CHALLENGE = { 'www-authenticate': 'Bearer realm="aim", error="invalid_token"' };

/**
 * Authenticates a request in two steps: `identify` turns the credential into a principal, then `authorize` checks it
 * against the route. `onBadCredential` runs when the first step fails (the rate limit counts it against the client
 * address) and may throw instead (429).
 */
export async function authenticate(
  request: FastifyRequest,
  access: GuardedAccess,
  verifiers: CredentialVerifiers,
  policies: readonly PrincipalPolicy[],
  onBadCredential?: () => Promise<void>,
): Promise<Principal> {
  let principal: Principal;
  try {
    principal = await identify(request, access, verifiers);
  } catch (error) {
    // A store outage (503) is not the caller's doing; a refused credential (401, or a 4xx for a malformed one) is.
    if (onBadCredential && error instanceof AimError && error.status < 500) await onBadCredential();
    throw error;
  }
  return authorize(principal, request, access, policies);
}

/** The presented credential's principal, or the catalogued 401 (400 for both credentials at once). */
export async function identify(request: FastifyRequest, access: GuardedAccess, verifiers: CredentialVerifiers): Promise<Principal> {
  const authorization = request.headers.authorization;
  const apiKey = request.headers['x-api-key'];
  if (authorization !== undefined && apiKey !== undefined) {
    throw new AimError('invalid_request', 'send either Authorization or X-API-Key, not both');
  }

  let principal: Principal;
  if (authorization !== undefined) {
    // Our tokens are under 2 KB; refusing giant ones early keeps hostile input away from the JWT parser.
    const match = authorization.length <= 8192 ? BEARER.exec(authorization) : null;
    if (!match?.[1]) throw new AimError('invalid_token', 'Authorization must be "Bearer <token>"', { headers: CHALLENGE });
    try {
      principal = await verifiers.bearer(match[1]);
    } catch (error) {
      // RFC 9110 §15.5.2: every 401 carries a challenge, the refusal of a presented token included.
      if (error instanceof AimError && error.status === 401 && !('www-authenticate' in error.headers)) {
        throw new AimError(error.code, error.message, { cause: error, headers: { ...error.headers, ...INVALID_TOKEN_CHALLENGE } });
      }
      throw error;
    }
  } else if (typeof apiKey === 'string') {
    principal = await verifiers.apiKey(apiKey, request);
  } else if (apiKey !== undefined) {
    throw new AimError('invalid_api_key', 'send one X-API-Key header');
  } else {
    const fromCookie = access.cookie && verifiers.sessionCookie ? await verifiers.sessionCookie(request) : undefined;
    if (!fromCookie) throw new AimError('invalid_token', 'authentication required', { headers: CHALLENGE });
    principal = fromCookie;
  }
  return principal;
}

/** Whether a known principal may call the route: its credential type, scope and the policies (admin 2FA). */
export async function authorize(
  principal: Principal,
  request: FastifyRequest,
  access: GuardedAccess,
  policies: readonly PrincipalPolicy[],
): Promise<Principal> {
  if (!access.auth.includes(principal.method)) {
    const code = principal.method === 'api_key' ? 'invalid_api_key' : 'invalid_token';
    throw new AimError(code, `this route does not accept ${principal.method.replace('_', ' ')} credentials`, {
      ...(code === 'invalid_token' && { headers: INVALID_TOKEN_CHALLENGE }),
    });
  }
  const needed = typeof access.scope === 'string' ? [access.scope] : access.scope;
  if (needed && !needed.some((scope) => hasScope(principal, scope))) {
    throw new AimError('insufficient_scope', `this route needs the ${needed.map((s) => `"${s}"`).join(' or ')} scope`);
  }
  for (const policy of policies) await policy(principal, request, access);
  return principal;
}
