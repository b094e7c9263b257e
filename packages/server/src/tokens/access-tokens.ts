import type { Clock } from '../core/clock.js';
import { AimError } from '../core/errors.js';
import type { Random } from '../core/random.js';
import { clientIdOf } from './clients.js';
import { JwtError, signEdDsaJwt, verifyEdDsaJwt, type JwtPayload } from './jws.js';
import type { SigningKeyRing } from './signing-keys.js';

/** RFC 9068 §2.1: access tokens say what they are in the header, so an ID or other JWT cannot pass as one. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/**
 * Who a token was issued to: a person through the web UI or a login (`session`), a person's SDK credential
 * (`sdk`, OAuth refresh_token grant) or an agent (`agent`, OAuth client_credentials).
 */
export type TokenKind = 'session' | 'sdk' | 'agent';

export interface AccessClaims {
  sub: string;
  org: string;
  kind: TokenKind;
  scope: string[];
  /** The refresh family (session or SDK token) this token came from; revoking it stops the token. */
  sid?: string;
  role?: string;
  /**
   * OIDC Core §2 `auth_time`: when the person last proved their password (seconds). Only session tokens carry it;
   * refresh rotation keeps it, so it dates the sign-in, not the token.
   */
  authTime?: number;
}

export interface VerifiedAccess extends AccessClaims {
  /** RFC 9068 `client_id`, which `issue` derives from `kind` and `sub` (see clients.ts). */
  clientId: string;
  jti: string;
  iat: number;
  exp: number;
}

/** Verified tokens kept, at most; the oldest goes first. */
const VERIFIED_CACHE_SIZE = 10_000;
/** Seconds of clock skew allowed on exp (and so on a cached token). */
const CLOCK_TOLERANCE = 5;

export class AccessTokens {
  /**
   * Tokens that verified, by their exact text: a client sends the same token for minutes, and checking its
   * signature and claims again each time was the largest cost of a JWT-authenticated request. A hit is good only
   * until the token's exp and while its signing key is published; revocation (session or jti) is checked by the
   * caller on every request, cached or not.
   */
  private readonly verified = new Map<string, { claims: VerifiedAccess; kid: string }>();

  constructor(
    private readonly keys: SigningKeyRing,
    private readonly clock: Clock,
    private readonly random: Random,
    readonly issuer: string,
    private readonly ttlSeconds: number,
  ) {}

  get lifetime(): number {
    return this.ttlSeconds;
  }

  async issue(claims: AccessClaims): Promise<{ token: string; expiresIn: number; jti: string }> {
    const { kid, privateKey } = this.keys.current();
    const now = Math.floor(this.clock.now() / 1000);
    const jti = this.random.uuid();
    const payload: JwtPayload = {
      iss: this.issuer,
      aud: this.issuer,
      sub: claims.sub,
      client_id: clientIdOf(claims.kind, claims.sub),
      jti,
      iat: now,
      nbf: now,
      exp: now + this.ttlSeconds,
      org: claims.org,
      kind: claims.kind,
      scope: claims.scope.join(' '),
      ...(claims.sid && { sid: claims.sid }),
      ...(claims.role && { role: claims.role }),
      ...(claims.authTime !== undefined && { auth_time: claims.authTime }),
    };
    const token = signEdDsaJwt({ alg: 'EdDSA', kid, typ: ACCESS_TOKEN_TYP }, payload, privateKey);
    return { token, expiresIn: this.ttlSeconds, jti };
  }

  /** Verifies signature, algorithm, type, issuer, audience and times; anything wrong is `invalid_token`. */
  async verify(token: string): Promise<VerifiedAccess> {
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.claims.exp > this.clock.now() / 1000 - CLOCK_TOLERANCE && this.keys.isPublished(hit.kid)) return hit.claims;
      this.verified.delete(token);
    }
    try {
      const { payload, header } = await verifyEdDsaJwt(
        token,
        async (header) => {
          const key = typeof header.kid === 'string' ? await this.keys.publicKey(header.kid) : undefined;
          if (!key) throw new AimError('invalid_token', 'unknown signing key');
          return key;
        },
        {
          algorithms: ['EdDSA'],
          typ: ACCESS_TOKEN_TYP,
          issuer: this.issuer,
          audience: this.issuer,
          requiredClaims: ['sub', 'exp', 'iat', 'jti', 'org', 'kind'],
          now: this.clock.now(),
          clockTolerance: CLOCK_TOLERANCE,
        },
      );
      const claims = Object.freeze(toClaims(payload));
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, { claims, kid: String(header.kid) });
      return claims;
    } catch (error) {
      if (error instanceof AimError) throw error;
      const description = error instanceof JwtError && error.expired ? 'access token expired' : 'access token is not valid';
      throw new AimError('invalid_token', description, { cause: error });
    }
  }
}

function toClaims(p: JwtPayload): VerifiedAccess {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const kind = str(p.kind);
  if (kind !== 'session' && kind !== 'sdk' && kind !== 'agent') throw new AimError('invalid_token', 'unknown token kind');
  const sid = str(p.sid);
  const role = str(p.role);
  const sub = str(p.sub) ?? '';
  return {
    sub,
    org: str(p.org) ?? '',
    kind,
    // Tokens minted before access tokens carried client_id get the one they would have carried.
    clientId: str(p.client_id) ?? clientIdOf(kind, sub),
    scope: (str(p.scope) ?? '').split(' ').filter(Boolean),
    jti: str(p.jti) ?? '',
    iat: typeof p.iat === 'number' ? p.iat : 0,
    exp: typeof p.exp === 'number' ? p.exp : 0,
    ...(sid && { sid }),
    ...(role && { role }),
    ...(typeof p.auth_time === 'number' && Number.isSafeInteger(p.auth_time) && { authTime: p.auth_time }),
  };
}
