import { SCOPES } from '@aim/protocol';
import { Type } from 'typebox';
import { invalidRequest } from '../core/errors.js';
import { isUuid, type ApiKeyId } from '../core/ids.js';
import { authed } from '../http/handler.js';
import { Cursor, IdParams, NullableTimestamp, Timestamp } from '../http/schemas.js';
import type { ApiKeyService, ApiKeyState, IssuedApiKey } from './service.js';

const tags = ['api keys'];

const ScopeName = Type.Union(SCOPES.map((s) => Type.Literal(s)));
const NullableString = Type.Union([Type.String(), Type.Null()]);

/** A key as lists show it: never the key, never its hash. */
const ApiKeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: '`ak_live_` and the first 8 characters of the secret' }),
  scopes: Type.Array(Type.String()),
  environment: Type.String(),
  status: Type.Union(['active', 'grace', 'rotated', 'revoked', 'expired'].map((s) => Type.Literal(s)), {
    description: '`grace`: rotated, still accepted until `grace_until`',
  }),
  created_at: Timestamp,
  created_by: Type.String(),
  expires_at: Timestamp,
  expiring_soon: Type.Boolean({ description: 'active, and expires within 14 days' }),
  last_used_at: NullableTimestamp,
  last_used_ip: NullableString,
  rate_limit_per_minute: Type.Union([Type.Integer(), Type.Null()]),
  revoked_at: NullableTimestamp,
  rotated_at: NullableTimestamp,
  grace_until: NullableTimestamp,
  replaced_by: NullableString,
  rotated_from: NullableString,
  minted_by: Type.Union([Type.String(), Type.Null()], {
    description: 'the API key whose request created (or rotated into being) this key; null when a person did it',
  }),
});

/** The one response shape that carries the key: create and rotate. */
const CreatedApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  key: Type.String({ description: 'the API key; shown in this response only' }),
  prefix: Type.String(),
  scopes: Type.Array(Type.String()),
  expires_at: Timestamp,
  created_at: Timestamp,
  rate_limit_per_minute: Type.Union([Type.Integer(), Type.Null()]),
  minted_by: NullableString,
});

function apiKeyView(key: ApiKeyState) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    environment: key.environment,
    status: key.status,
    created_at: key.createdAt,
    created_by: key.createdBy,
    expires_at: key.expiresAt,
    expiring_soon: key.expiringSoon,
    last_used_at: key.lastUsedAt,
    last_used_ip: key.lastUsedIp,
    rate_limit_per_minute: key.rateLimitPerMinute,
    revoked_at: key.revokedAt,
    rotated_at: key.rotatedAt,
    grace_until: key.graceUntil,
    replaced_by: key.replacedBy,
    rotated_from: key.rotatedFrom,
    minted_by: key.mintedBy,
  };
}

function createdView({ key, plaintext }: IssuedApiKey) {
  return {
    id: key.id,
    name: key.name,
    key: plaintext,
    prefix: key.prefix,
    scopes: key.scopes,
    expires_at: key.expiresAt,
    created_at: key.createdAt,
    rate_limit_per_minute: key.rateLimitPerMinute,
    minted_by: key.mintedBy,
  };
}

/** List cursors are opaque to clients: the position of the last key returned. */
function encodeCursor(next: { createdAt: number; id: ApiKeyId }): string {
  return Buffer.from(`${next.createdAt}.${next.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; id: ApiKeyId } {
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
  if (rest.length > 0 || !at || !/^\d{1,16}$/.test(at) || !id || !isUuid(id)) throw invalidRequest('cursor is not valid');
  return { createdAt: Number(at), id: id as ApiKeyId };
}

export function apiKeyHandlers(keys: ApiKeyService) {
  return {
    create: authed(
      {
        summary: 'Create an API key; the key is in this response and never again',
        tags,
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 100 }),
          scopes: Type.Optional(
            Type.Array(ScopeName, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true, description: 'default: agents:read, agents:write, verify' }),
          ),
          expires_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'at most AIM_API_KEY_MAX_AGE_DAYS (the default)' })),
          rate_limit_per_minute: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'at most AIM_RATE_LIMIT_API_KEY (the default)' }),
          ),
        }),
        response: { 201: CreatedApiKey },
      },
      async ({ principal, body, ip, userAgent, reply }) => {
        const issued = await keys.create(
          principal,
          { name: body.name, scopes: body.scopes, expiresInDays: body.expires_in_days, rateLimitPerMinute: body.rate_limit_per_minute },
          { ip, userAgent },
        );
        reply.code(201);
        return createdView(issued);
      },
    ),

    list: authed(
      {
        summary: "List your organization's API keys, newest first (never the keys themselves)",
        tags,
        querystring: Cursor,
        response: { 200: Type.Object({ api_keys: Type.Array(ApiKeyView), total: Type.Integer(), next_cursor: NullableString }) },
      },
      async ({ principal, query }) => {
        const page = await keys.list(principal.organizationId, {
          limit: query.limit ?? 50,
          ...(query.cursor !== undefined && { after: decodeCursor(query.cursor) }),
        });
        return { api_keys: page.keys.map(apiKeyView), total: page.total, next_cursor: page.next ? encodeCursor(page.next) : null };
      },
    ),

    revoke: authed(
      {
        summary: 'Revoke an API key: it stops working at once',
        tags,
        params: IdParams,
        querystring: Type.Object({
          revoke_minted: Type.Optional(
            Type.Boolean({ default: false, description: 'also revoke every key minted by this one, by those, and so on (see minted_by)' }),
          ),
        }),
        response: {
          200: Type.Object({
            ...ApiKeyView.properties,
            minted_revoked: Type.Integer({ description: 'keys minted from this one that this call revoked (0 without revoke_minted)' }),
            grace_ended: Type.Integer({ description: 'keys replaced by a key this call revoked, still in their rotation grace, that this call revoked' }),
          }),
        },
      },
      async ({ principal, params, query, ip, userAgent }) => {
        const revoked = await keys.revoke(principal, params.id, { ip, userAgent }, { revokeMinted: query.revoke_minted ?? false });
        return { ...apiKeyView(revoked), minted_revoked: revoked.mintedRevoked, grace_ended: revoked.graceEnded };
      },
    ),

    rotate: authed(
      {
        summary: 'Issue a successor key; the old one keeps working for AIM_API_KEY_ROTATION_GRACE seconds',
        tags,
        params: IdParams,
        response: { 201: Type.Object({ ...CreatedApiKey.properties, rotated_from: Type.String(), previous: ApiKeyView }) },
      },
      async ({ principal, params, ip, userAgent, reply }) => {
        const rotated = await keys.rotate(principal, params.id, { ip, userAgent });
        reply.code(201);
        return { ...createdView(rotated), rotated_from: rotated.previous.id, previous: apiKeyView(rotated.previous) };
      },
    ),

    usage: authed(
      {
        summary: 'Requests made with an API key, per UTC day and per route, and when and from where it was last used',
        tags,
        params: IdParams,
        querystring: Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, default: 30 })) }),
        response: {
          200: Type.Object({
            id: Type.String(),
            prefix: Type.String(),
            status: Type.String(),
            last_used_at: NullableTimestamp,
            last_used_ip: NullableString,
            total_requests: Type.Integer(),
            days: Type.Array(Type.Object({ day: Type.String({ description: 'YYYY-MM-DD, UTC' }), requests: Type.Integer() })),
            routes: Type.Array(Type.Object({ route: Type.String(), requests: Type.Integer() })),
          }),
        },
      },
      async ({ principal, params, query }) => {
        const { key, usage } = await keys.usageOf(principal.organizationId, params.id, query.days ?? 30);
        return {
          id: key.id,
          prefix: key.prefix,
          status: key.status,
          last_used_at: key.lastUsedAt,
          last_used_ip: key.lastUsedIp,
          total_requests: usage.total,
          days: usage.days,
          routes: usage.routes,
        };
      },
    ),
  };
}
