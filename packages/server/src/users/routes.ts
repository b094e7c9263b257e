import { ROLES } from '@aim/protocol';
import { Type } from 'typebox';
import type { OrgId, UserId } from '../core/ids.js';
import { isUuid } from '../core/ids.js';
import { notFound } from '../core/errors.js';
import { authed } from '../http/handler.js';
import { IdParams, NullableTimestamp, Timestamp } from '../http/schemas.js';
import type { Principal } from '../http/principal.js';
import type { UserOffboarding, UserStatus } from './offboarding.js';
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

/** A user as admins see them in the users list: with their status and whether they have 2FA. */
export const ListedUserView = Type.Object({
  ...UserView.properties,
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  mfa_enabled: Type.Boolean(),
});

function listedUserView({ user, mfaEnabled }: UserStatus) {
  return { ...userView(user), status: user.disabledAt === null ? ('active' as const) : ('disabled' as const), mfa_enabled: mfaEnabled };
}

const Revoked = Type.Object({
  sessions: Type.Integer({ description: 'session and SDK token families revoked' }),
  api_keys: Type.Integer({ description: 'API keys the user created, revoked' }),
});

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const tags = ['users'];

/** The target of an admin action: ids that are not UUIDs cannot name a user (and must not reach the database). */
function target(params: { id: string }): UserId {
  if (!isUuid(params.id)) throw notFound('user');
  return params.id as UserId;
}

function adminOf(principal: Principal): { type: 'user'; id: string } {
  return { type: 'user', id: principal.userId ?? principal.actor.id };
}

export function userHandlers(users: UserService, offboarding: UserOffboarding) {
  return {
    list: authed(
      { summary: 'List the users of your organization, with their status and 2FA', tags, response: { 200: Type.Object({ users: Type.Array(ListedUserView) }) } },
      async ({ principal }) => ({ users: (await offboarding.list(principal.organizationId)).map(listedUserView) }),
    ),

    disable: authed(
      {
        summary: "Disable a user: login is refused and every session, SDK token and API key they created is revoked at once",
        tags,
        params: IdParams,
        response: { 200: Type.Object({ ...ListedUserView.properties, revoked: Revoked }) },
      },
      async ({ principal, params, ip, userAgent }) => {
        const { status, revoked } = await offboarding.disable(principal.organizationId, target(params), adminOf(principal), { ip, userAgent });
        return { ...listedUserView(status), revoked: { sessions: revoked.sessions, api_keys: revoked.apiKeys } };
      },
    ),

    enable: authed(
      { summary: 'Enable a disabled user: login works again; revoked credentials stay revoked', tags, params: IdParams, response: { 200: ListedUserView } },
      async ({ principal, params, ip, userAgent }) =>
        listedUserView(await offboarding.enable(principal.organizationId, target(params), adminOf(principal), { ip, userAgent })),
    ),

    remove: authed(
      {
        summary: 'Delete a user: every credential is revoked, the email can be used again; audit entries keep the id',
        tags,
        params: IdParams,
        response: { 200: Type.Object({ id: Type.String(), deleted: Type.Literal(true), revoked: Revoked }) },
      },
      async ({ principal, params, ip, userAgent }) => {
        const id = target(params);
        const revoked = await offboarding.remove(principal.organizationId, id, adminOf(principal), { ip, userAgent });
        return { id, deleted: true as const, revoked: { sessions: revoked.sessions, api_keys: revoked.apiKeys } };
      },
    ),

    resetMfa: authed(
      {
        summary: "Reset another user's 2FA (lost authenticator): removes their TOTP and recovery codes and ends their sessions",
        tags,
        params: IdParams,
        response: { 200: ListedUserView },
      },
      async ({ principal, params, ip, userAgent }) =>
        listedUserView(await offboarding.resetMfa(principal.organizationId, target(params), adminOf(principal), { ip, userAgent })),
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
      {
        summary: "Change a user's role; a role that loses any scope also ends their sessions and SDK tokens and revokes their API keys",
        tags,
        params: IdParams,
        body: Type.Object({ role: Role }),
        response: { 200: Type.Object({ ...UserView.properties, revoked: Revoked }) },
      },
      async ({ principal, params, body, ip, userAgent }) => {
        const { user, revoked } = await offboarding.changeRole(principal.organizationId as OrgId, target(params), body.role, adminOf(principal), { ip, userAgent });
        return { ...userView(user), revoked: { sessions: revoked.sessions, api_keys: revoked.apiKeys } };
      },
    ),
  };
}
