import { Type } from 'typebox';
import { authed } from '../http/handler.js';
import { IdParams, NullableTimestamp, Timestamp } from '../http/schemas.js';
import { SDK_CLIENT_ID } from '../tokens/clients.js';
import type { RefreshFamily } from '../sessions/types.js';
import type { SdkTokenService } from './service.js';

const tags = ['sdk-tokens'];

const SdkTokenView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  created_at: Timestamp,
  expires_at: Timestamp,
  last_used_at: NullableTimestamp,
  last_used_ip: Type.Union([Type.String(), Type.Null()]),
  revoked_at: NullableTimestamp,
  status: Type.String(),
});

function view(f: RefreshFamily, now: number) {
  return {
    id: f.id,
    name: f.name ?? '',
    scopes: f.scopes,
    created_at: f.createdAt,
    expires_at: f.expiresAt,
    last_used_at: f.lastUsedAt,
    last_used_ip: f.lastIp,
    revoked_at: f.revokedAt,
    status: f.revokedAt !== null ? 'revoked' : f.expiresAt <= now ? 'expired' : 'active',
  };
}

export function sdkTokenHandlers(sdkTokens: SdkTokenService, now: () => number, issuer: string) {
  return {
    create: authed(
      {
        summary: 'Create a named SDK credential: a refresh token for POST /oauth/token, shown once',
        tags,
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 128 }),
          scopes: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
          expires_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
        }),
        response: {
          201: Type.Object({
            ...SdkTokenView.properties,
            refresh_token: Type.String(),
            client_id: Type.String(),
            token_endpoint: Type.String(),
          }),
        },
      },
      async ({ principal, body, ip, userAgent, reply }) => {
        const { family, refreshToken } = await sdkTokens.create(
          principal,
          { name: body.name, ...(body.scopes && { scopes: body.scopes }), ...(body.expires_in_days && { expiresInDays: body.expires_in_days }) },
          { ip, userAgent },
        );
        reply.code(201).header('cache-control', 'no-store');
        return { ...view(family, now()), refresh_token: refreshToken, client_id: SDK_CLIENT_ID, token_endpoint: `${issuer}/oauth/token` };
      },
    ),

    list: authed(
      { summary: 'Your SDK tokens: name, created, last used, last address', tags, response: { 200: Type.Object({ sdk_tokens: Type.Array(SdkTokenView) }) } },
      async ({ principal }) => ({ sdk_tokens: (await sdkTokens.list(principal)).map((f) => view(f, now())) }),
    ),

    revoke: authed(
      { summary: 'Revoke one SDK token: every token of its family stops at once', tags, params: IdParams, response: { 200: SdkTokenView } },
      async ({ principal, params, ip, userAgent }) => view(await sdkTokens.revoke(principal, params.id, { ip, userAgent }), now()),
    ),

    revokeAll: authed(
      { summary: 'Revoke all your SDK tokens', tags, response: { 200: Type.Object({ revoked: Type.Integer() }) } },
      async ({ principal, ip, userAgent }) => ({ revoked: await sdkTokens.revokeAll(principal, { ip, userAgent }) }),
    ),
  };
}
