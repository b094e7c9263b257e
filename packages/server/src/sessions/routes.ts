import { Type } from 'typebox';
import { AimError } from '../core/errors.js';
import type { FamilyId, UserId } from '../core/ids.js';
import { authed, open } from '../http/handler.js';
import type { Principal } from '../http/principal.js';
import { IdParams, NullableTimestamp, Timestamp } from '../http/schemas.js';
import { UserView, userView } from '../users/routes.js';
import type { UserService } from '../users/service.js';
import type { BrowserSessions } from './browser.js';
import type { SessionService, SessionTokens } from './service.js';
import type { RefreshFamily } from './types.js';

const tags = ['sessions'];

const TokenPair = Type.Object({
  access_token: Type.String(),
  /** Absent for the web UI (`X-AIM-Client: web`), which gets it only as the HttpOnly `aim_rt` cookie. */
  refresh_token: Type.Optional(Type.String()),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  user: UserView,
  /** Web UI only: send it back as `X-CSRF-Token` on cookie requests (refresh, logout). */
  csrf_token: Type.Optional(Type.String()),
});

function accessPart(tokens: Omit<SessionTokens, 'refreshToken'>) {
  return {
    access_token: tokens.accessToken,
    token_type: 'Bearer' as const,
    expires_in: tokens.expiresIn,
    user: userView(tokens.user),
  };
}

function tokenPair(tokens: SessionTokens) {
  return { ...accessPart(tokens), refresh_token: tokens.refreshToken };
}

/** One of your sessions as the Sessions page shows it: never a token or a hash. */
const SessionView = Type.Object({
  id: Type.String(),
  created_at: Timestamp,
  last_used_at: NullableTimestamp,
  last_ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  /** When it ends unless it is used again (the newest refresh token's expiry, capped by the session's 30 days). */
  expires_at: Timestamp,
  revoked_at: NullableTimestamp,
  /** The session whose access token made this request. */
  current: Type.Boolean(),
});

/** These routes take no query parameters: a closed empty object refuses any (400 naming it). */
const NoQuery = Type.Object({});

function sessionView(f: RefreshFamily, principal: Principal) {
  return {
    id: f.id,
    created_at: f.createdAt,
    last_used_at: f.lastUsedAt,
    last_ip: f.lastIp,
    user_agent: f.userAgent,
    expires_at: f.expiresAt,
    revoked_at: f.revokedAt,
    current: f.id === principal.familyId,
  };
}

/** The signed-in person behind a session access token (PERSON routes accept only those). */
function sessionOwner(principal: Principal): { userId: UserId; familyId: FamilyId } {
  if (!principal.userId || !principal.familyId) throw new AimError('invalid_token', 'not a session token');
  return { userId: principal.userId, familyId: principal.familyId };
}

export function sessionHandlers(sessions: SessionService, users: UserService, browser: BrowserSessions) {
  return {
    login: open(
      {
        summary: 'Sign in with email and password (and a TOTP or recovery code when 2FA is on)',
        tags,
        body: Type.Object({
          email: Type.String({ minLength: 1, maxLength: 320 }),
          password: Type.String({ minLength: 1, maxLength: 1024 }),
          totp_code: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        }),
        response: { 200: TokenPair },
      },
      async ({ body, ip, userAgent, request, reply }) => {
        const web = browser.isWebClient(request);
        if (web) browser.checkOrigin(request);
        const tokens = await sessions.login({ email: body.email, password: body.password, totpCode: body.totp_code, ip, userAgent });
        if (!web) return tokenPair(tokens);
        return { ...accessPart(tokens), csrf_token: browser.setCookies(reply, tokens.refreshToken) };
      },
    ),

    refresh: open(
      {
        summary:
          'Trade a refresh token for a new pair; the old refresh token stops working. The web UI sends `{}` with the aim_rt cookie and X-CSRF-Token instead',
        tags,
        body: Type.Object({ refresh_token: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) }),
        response: { 200: TokenPair },
      },
      async ({ body, ip, userAgent, request, reply }) => {
        if (body.refresh_token !== undefined) {
          return tokenPair(await sessions.refresh({ refreshToken: body.refresh_token, kind: 'session', ip, userAgent }));
        }
        const refreshToken = browser.refreshTokenOf(request);
        try {
          const tokens = await sessions.refresh({ refreshToken, kind: 'session', ip, userAgent });
          return { ...accessPart(tokens), csrf_token: browser.setCookies(reply, tokens.refreshToken) };
        } catch (error) {
          // A dead session's cookies are of no further use to the browser.
          if (error instanceof AimError && (error.code === 'invalid_token' || error.code === 'refresh_token_reused')) browser.clearCookies(reply);
          throw error;
        }
      },
    ),

    logout: authed(
      {
        summary: 'End this session: its refresh token and access tokens stop working. Bearer token, or the aim_rt cookie with X-CSRF-Token',
        tags,
        response: { 200: Type.Object({ logged_out: Type.Boolean() }) },
      },
      async ({ principal, ip, userAgent, request, reply }) => {
        if (!principal.familyId || !principal.userId) throw new AimError('invalid_token', 'not a session token');
        await sessions.revoke(principal.familyId, 'logout', { type: 'user', id: principal.userId }, { ip, userAgent });
        if (browser.hasCookie(request)) browser.clearCookies(reply);
        return { logged_out: true };
      },
    ),

    me: authed({ summary: 'Who am I', tags, response: { 200: UserView } }, async ({ principal }) => {
      const user = principal.userId && (await users.get(principal.userId as UserId));
      if (!user) throw new AimError('invalid_token', 'the account no longer exists');
      return { ...userView(user), mfa_enabled: await sessions.hasSecondFactor(user.id) };
    }),

    reauthenticate: authed(
      {
        summary:
          'Confirm your password in this session: the steps that ask for a recent sign-in (403 reauthentication_required) are open again for AIM_REAUTH_WINDOW, with the access token answered here and those refresh brings',
        tags,
        body: Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }),
        response: {
          200: Type.Object({ access_token: Type.String(), token_type: Type.Literal('Bearer'), expires_in: Type.Integer(), user: UserView }),
        },
      },
      async ({ principal, body, ip, userAgent }) => {
        const { userId, familyId } = sessionOwner(principal);
        return accessPart(await sessions.reauthenticate(userId, familyId, body.password, { ip, userAgent }));
      },
    ),

    changePassword: authed(
      {
        summary: 'Change your password; every other session of yours is signed out, and with revoke_sdk_tokens your SDK tokens are revoked too',
        tags,
        body: Type.Object({
          current_password: Type.String({ minLength: 1, maxLength: 1024 }),
          new_password: Type.String({ minLength: 1, maxLength: 1024 }),
          revoke_sdk_tokens: Type.Optional(Type.Boolean({ description: 'also revoke every SDK token of yours (default false: automation keeps working)' })),
        }),
        response: { 200: Type.Object({ sessions_revoked: Type.Integer(), sdk_tokens_revoked: Type.Integer() }) },
      },
      async ({ principal, body, ip, userAgent }) => {
        if (!principal.userId) throw new AimError('forbidden', 'only people have passwords');
        const meta = { ip, userAgent, familyId: principal.familyId, revokeSdkTokens: body.revoke_sdk_tokens === true };
        const revoked = await sessions.changePassword(principal.userId as UserId, body.current_password, body.new_password, meta);
        return { sessions_revoked: revoked.sessions, sdk_tokens_revoked: revoked.sdkTokens };
      },
    ),

    listSessions: authed(
      {
        summary: 'Your signed-in sessions (web UI and logins), newest first; `current` marks the one making this request',
        tags,
        querystring: NoQuery,
        response: { 200: Type.Object({ sessions: Type.Array(SessionView) }) },
      },
      async ({ principal }) => {
        const { userId } = sessionOwner(principal);
        return { sessions: (await sessions.liveSessions(userId)).map((f) => sessionView(f, principal)) };
      },
    ),

    revokeSession: authed(
      {
        summary: 'Sign out one of your sessions: its refresh token stops now, its access tokens on their next request',
        tags,
        params: IdParams,
        querystring: NoQuery,
        response: { 200: SessionView },
      },
      async ({ principal, params, ip, userAgent }) => {
        const { userId } = sessionOwner(principal);
        return sessionView(await sessions.revokeOwnSession(userId, params.id, { ip, userAgent }), principal);
      },
    ),

    revokeOtherSessions: authed(
      {
        summary: 'Sign out every other session of yours; this one stays',
        tags,
        querystring: NoQuery,
        response: { 200: Type.Object({ revoked: Type.Integer() }) },
      },
      async ({ principal, ip, userAgent }) => {
        const { userId, familyId } = sessionOwner(principal);
        return { revoked: await sessions.revokeOtherSessions(userId, familyId, { ip, userAgent }) };
      },
    ),
  };
}
