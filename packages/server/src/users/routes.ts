import { ROLES } from '@aim/protocol';
import { Type } from 'typebox';
import type { OrgId, UserId } from '../core/ids.js';
import { isUuid } from '../core/ids.js';
import { notFound } from '../core/errors.js';
import { authed } from '../http/handler.js';
import { IdParams, NullableTimestamp, Timestamp } from '../http/schemas.js';
import type { UserService } from './service.js';
import type { User } from './types.js';

export const UserView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Type.Union(ROLES.map((r) => Type.Literal(r))),
  organization_id: Type.String(),
  created_at: Type.Optional(Timestamp),
  disabled_at: Type.Optional(NullableTimestamp),
  /** Whether login asks for a TOTP or recovery code (in `GET /api/v1/auth/me`). */
  mfa_enabled: Type.Optional(Type.Boolean()),
});

export function userView(user: User) {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    organization_id: user.organizationId,
    created_at: user.createdAt,
    disabled_at: user.disabledAt,
  };
}

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const tags = ['users'];

export function userHandlers(users: UserService) {
  return {
    list: authed(
      { summary: 'List the users of your organization', tags, response: { 200: Type.Object({ users: Type.Array(UserView) }) } },
      async ({ principal }) => ({ users: (await users.list(principal.organizationId)).map(userView) }),
    ),

    create: authed(
      {
        summary: 'Create a user in your organization',
        tags,
        body: Type.Object({
          email: Type.String({ format: 'email', maxLength: 320 }),
          password: Type.String({ minLength: 1, maxLength: 1024 }),
          role: Role,
        }),
        response: { 201: UserView },
      },
      async ({ principal, body, reply }) => {
        const user = await users.create(
          { email: body.email, password: body.password, role: body.role, organizationId: principal.organizationId },
          principal.actor.type === 'user' ? { type: 'user', id: principal.actor.id } : { type: 'system' },
        );
        reply.code(201);
        return userView(user);
      },
    ),

    update: authed(
      { summary: "Change a user's role", tags, params: IdParams, body: Type.Object({ role: Role }), response: { 200: UserView } },
      async ({ principal, params, body }) => {
        if (!isUuid(params.id)) throw notFound('user');
        const actor = { type: 'user' as const, id: principal.userId ?? principal.actor.id };
        return userView(await users.changeRole(principal.organizationId as OrgId, params.id as UserId, body.role, actor));
      },
    ),
  };
}
