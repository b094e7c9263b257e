import { Type } from 'typebox';
import { AimError } from '../core/errors.js';
import type { UserId } from '../core/ids.js';
import { authed, open } from '../http/handler.js';
import { UserView, userView } from '../users/routes.js';
import type { UserService } from '../users/service.js';
import type { SessionService, SessionTokens } from './service.js';

const tags = ['sessions'];

const TokenPair = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  user: UserView,
});

function tokenPair(tokens: SessionTokens) {
  return {
    access_token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
    token_type: 'Bearer' as const,
    expires_in: tokens.expiresIn,
    user: userView(tokens.user),
  };
}

export function sessionHandlers(sessions: SessionService, users: UserService) {
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
      async ({ body, ip, userAgent }) =>
        tokenPair(await sessions.login({ email: body.email, password: body.password, totpCode: body.totp_code, ip, userAgent })),
    ),

    refresh: open(
      {
        summary: 'Trade a refresh token for a new pair; the old refresh token stops working',
        tags,
        body: Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 512 }) }),
        response: { 200: TokenPair },
      },
      async ({ body, ip, userAgent }) =>
        tokenPair(await sessions.refresh({ refreshToken: body.refresh_token, kind: 'session', ip, userAgent })),
    ),

    logout: authed(
      { summary: 'End this session: its refresh token and access tokens stop working', tags, response: { 200: Type.Object({ logged_out: Type.Boolean() }) } },
      async ({ principal, ip, userAgent }) => {
        if (!principal.familyId || !principal.userId) throw new AimError('invalid_token', 'not a session token');
        await sessions.revoke(principal.familyId, 'logout', { type: 'user', id: principal.userId }, { ip, userAgent });
        return { logged_out: true };
      },
    ),

    me: authed({ summary: 'Who am I', tags, response: { 200: UserView } }, async ({ principal }) => {
      const user = principal.userId && (await users.get(principal.userId as UserId));
      if (!user) throw new AimError('invalid_token', 'the account no longer exists');
      return userView(user);
    }),

    changePassword: authed(
      {
        summary: 'Change your password; every other session of yours is signed out',
        tags,
        body: Type.Object({
          current_password: Type.String({ minLength: 1, maxLength: 1024 }),
          new_password: Type.String({ minLength: 1, maxLength: 1024 }),
        }),
        response: { 200: Type.Object({ sessions_revoked: Type.Integer() }) },
      },
      async ({ principal, body, ip, userAgent }) => {
        if (!principal.userId) throw new AimError('forbidden', 'only people have passwords');
        const user = await users.changePassword(principal.userId as UserId, body.current_password, body.new_password, ip);
        const except = principal.familyId;
        const revoked = await sessions.revokeAllForUser(user, 'password_changed', { kind: 'session', ...(except && { except }) }, { ip, userAgent });
        return { sessions_revoked: revoked };
      },
    ),
  };
}
