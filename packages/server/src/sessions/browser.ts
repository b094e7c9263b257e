import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import { AimError } from '../core/errors.js';
import { constantTimeEqual } from '../core/hashing.js';
import type { Principal } from '../http/principal.js';
import { parseRefreshToken } from './refresh-token.js';
import type { SessionService } from './service.js';

/**
 * Browser sessions for the web UI. The refresh token lives only in the HttpOnly cookie `aim_rt`, scoped to
 * /api/v1/auth; the access token only in page memory. Every cookie-authenticated request must carry the
 * `X-CSRF-Token` header equal to the `aim_csrf` cookie (readable by the page), and that token must be the HMAC
 * of the refresh token's id under a key derived from the master key: a signed double-submit cookie (OWASP CSRF
 * cheat sheet), so a cookie planted from a sibling domain does not pass. A browser `Origin` other than
 * AIM_PUBLIC_URL's is refused first.
 */
export const REFRESH_COOKIE = 'aim_rt';
export const CSRF_COOKIE = 'aim_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const CLIENT_HEADER = 'x-aim-client';
const REFRESH_PATH = '/api/v1/auth';

export class BrowserSessions {
  /** The origins whose pages may use the cookie routes (see `sameSiteOrigins`). */
  private readonly origins: ReadonlySet<string>;
  /** Cookies are Secure when the server is reached over HTTPS. */
  private readonly secure: boolean;
  private readonly maxAge: number;

  constructor(
    private readonly sessions: SessionService,
    /** The CSRF HMAC key under the current master key first, then under the previous ones (still accepted during a rotation). */
    private readonly csrfKeys: readonly Buffer[],
    private readonly clock: Clock,
    options: { publicUrl: string; refreshTtlSeconds: number },
  ) {
    this.origins = sameSiteOrigins(new URL(options.publicUrl));
    this.secure = options.publicUrl.startsWith('https:');
    this.maxAge = options.refreshTtlSeconds;
  }

  /** `X-AIM-Client: web` asks login for the cookie form of the session. */
  isWebClient(request: FastifyRequest): boolean {
    const value = request.headers[CLIENT_HEADER];
    return typeof value === 'string' && value.trim().toLowerCase() === 'web';
  }

  hasCookie(request: FastifyRequest): boolean {
    return request.cookies[REFRESH_COOKIE] !== undefined || request.cookies[CSRF_COOKIE] !== undefined;
  }

  /** A browser names the page that sent the request; on cookie routes it must be ours (a second line after SameSite). */
  checkOrigin(request: FastifyRequest): void {
    const origin = request.headers.origin;
    if (origin !== undefined && !this.origins.has(origin)) throw new AimError('forbidden', 'cross-site request refused');
  }

  /** Sets both cookies for a new or rotated refresh token; answers the CSRF token for the response body. */
  setCookies(reply: FastifyReply, refreshToken: string): string {
    const csrf = this.csrfTokenFor(refreshToken);
    const common = { sameSite: 'strict' as const, secure: this.secure, maxAge: this.maxAge };
    void reply.setCookie(REFRESH_COOKIE, refreshToken, { ...common, httpOnly: true, path: REFRESH_PATH });
    // Readable by the page (not HttpOnly) so it can send it back as X-CSRF-Token after a reload.
    void reply.setCookie(CSRF_COOKIE, csrf, { ...common, httpOnly: false, path: '/' });
    return csrf;
  }

  clearCookies(reply: FastifyReply): void {
    void reply.clearCookie(REFRESH_COOKIE, { path: REFRESH_PATH, httpOnly: true, sameSite: 'strict', secure: this.secure });
    void reply.clearCookie(CSRF_COOKIE, { path: '/', sameSite: 'strict', secure: this.secure });
  }

  /**
   * The refresh token of a cookie request, after the Origin and CSRF checks: no cookie is `invalid_token`
   * (sign in again); a missing or wrong CSRF token is `csrf_token_invalid`.
   */
  refreshTokenOf(request: FastifyRequest): string {
    this.checkOrigin(request);
    const token = request.cookies[REFRESH_COOKIE];
    if (!token) throw new AimError('invalid_token', 'no refresh token: send refresh_token, or sign in again');
    const header = request.headers[CSRF_HEADER];
    const cookie = request.cookies[CSRF_COOKIE];
    const valid =
      typeof header === 'string' &&
      typeof cookie === 'string' &&
      constantTimeEqual(header, cookie) &&
      this.csrfKeys.some((key) => constantTimeEqual(cookie, this.csrfTokenFor(token, key)));
    if (!valid) throw new AimError('csrf_token_invalid', `send the ${CSRF_COOKIE} cookie's value as X-CSRF-Token`);
    return token;
  }

  /**
   * The principal of a cookie-authenticated request (logout): the session behind the cookie, with no scopes,
   * since the cookie proves only the right to refresh or end that session. Undefined when there is no cookie.
   */
  async principalFromCookie(request: FastifyRequest): Promise<Principal | undefined> {
    if (request.cookies[REFRESH_COOKIE] === undefined) return undefined;
    const family = await this.sessions.familyOfToken(this.refreshTokenOf(request));
    if (!family || family.kind !== 'session' || family.revokedAt !== null || family.expiresAt <= this.clock.now()) {
      throw new AimError('invalid_token', 'this session has ended; sign in again');
    }
    return {
      method: 'jwt',
      organizationId: family.organizationId,
      scopes: new Set(),
      actor: { type: 'user', id: family.userId },
      userId: family.userId,
      familyId: family.id,
      rateKey: `user:${family.userId}`,
    };
  }

  /** Issued under the current key only; a rotated cookie is re-issued under it on the next refresh. */
  private csrfTokenFor(refreshToken: string, key = this.csrfKeys[0]!): string {
    const id = parseRefreshToken(refreshToken)?.id ?? refreshToken;
    return createHmac('sha256', key).update(`aim.csrf:${id}`).digest('base64url');
  }
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The public URL's origin; when that is a loopback name (a server on one's own machine, as `npm start` runs it),
 * the other loopback names on the same scheme and port too, so the UI works whether the browser was pointed at
 * localhost or 127.0.0.1. Only this machine can reach those, and they are the same server; a public host gets no
 * alias.
 */
export function sameSiteOrigins(publicUrl: URL): ReadonlySet<string> {
  if (!LOOPBACK.includes(publicUrl.hostname)) return new Set([publicUrl.origin]);
  return new Set(LOOPBACK.map((host) => `${publicUrl.protocol}//${host}${publicUrl.port ? `:${publicUrl.port}` : ''}`));
}
