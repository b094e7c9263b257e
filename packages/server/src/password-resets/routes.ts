import { Type } from 'typebox';
import type { UserId } from '../core/ids.js';
import { isUuid } from '../core/ids.js';
import { notFound } from '../core/errors.js';
import { authed, open } from '../http/handler.js';
import { IdParams, Timestamp } from '../http/schemas.js';
import type { ResetLinks } from './links.js';
import type { PasswordResetService } from './service.js';

const tags = ['users'];

export function passwordResetHandlers(links: ResetLinks, resets: PasswordResetService) {
  return {
    issue: authed(
      {
        summary: 'Make a one-time password reset link for a user who forgot their password (shown once; hand it over yourself)',
        tags,
        params: IdParams,
        response: {
          201: Type.Object({
            user_id: Type.String(),
            reset_token: Type.String({ description: '`pr_<id>.<secret>`, shown only in this response' }),
            reset_url: Type.String({ description: "the web UI's reset page, with the token in the URL fragment" }),
            expires_at: Timestamp,
          }),
        },
      },
      async ({ principal, params, ip, reply }) => {
        if (!isUuid(params.id)) throw notFound('user');
        const actor = { type: 'user' as const, id: principal.userId ?? principal.actor.id };
        const issued = await links.issue(principal.organizationId, params.id as UserId, actor, ip);
        reply.code(201);
        return { user_id: issued.user.id, reset_token: issued.token, reset_url: issued.url, expires_at: issued.expiresAt };
      },
    ),

    complete: open(
      {
        summary: 'Set a new password with a reset link; every session of the account is signed out',
        tags,
        body: Type.Object({
          token: Type.String({ minLength: 1, maxLength: 256 }),
          new_password: Type.String({ minLength: 1, maxLength: 1024 }),
        }),
        response: { 200: Type.Object({ email: Type.String(), sessions_revoked: Type.Integer() }) },
      },
      async ({ body, ip, userAgent }) => {
        const { user, sessionsRevoked } = await resets.complete(body.token, body.new_password, { ip, userAgent });
        return { email: user.email, sessions_revoked: sessionsRevoked };
      },
    ),
  };
}
