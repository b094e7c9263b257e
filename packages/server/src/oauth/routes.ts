import { Type } from 'typebox';
import { authed, open } from '../http/handler.js';
import { authorizationServerMetadata } from './metadata.js';
import type { OAuthService } from './service.js';

const tags = ['oauth'];
const FORM = 'application/x-www-form-urlencoded';

// Form bodies: every parameter a string (RFC 6749 §3.2); the service decides which are required.
const Form = (names: string[]) =>
  Type.Object(Object.fromEntries(names.map((n) => [n, Type.Optional(Type.String({ maxLength: 8192 }))])), { additionalProperties: true });

const Metadata = Type.Object({
  issuer: Type.String(),
  token_endpoint: Type.String(),
  jwks_uri: Type.String(),
  revocation_endpoint: Type.String(),
  introspection_endpoint: Type.String(),
  grant_types_supported: Type.Array(Type.String()),
  response_types_supported: Type.Array(Type.String()),
  token_endpoint_auth_methods_supported: Type.Array(Type.String()),
  token_endpoint_auth_signing_alg_values_supported: Type.Array(Type.String()),
  revocation_endpoint_auth_methods_supported: Type.Array(Type.String()),
  introspection_endpoint_auth_methods_supported: Type.Array(Type.String()),
  scopes_supported: Type.Array(Type.String()),
  service_documentation: Type.String(),
});

// RFC 6749 §5.1: token responses must not be cached.
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export function oauthHandlers(oauth: OAuthService, issuer: string) {
  const metadata = open({ summary: 'OAuth 2.0 authorization server metadata (RFC 8414)', tags, response: { 200: Metadata } }, async ({ reply }) => {
    reply.header('cache-control', 'public, max-age=300');
    return authorizationServerMetadata(issuer);
  });

  return {
    metadata,
    openidConfiguration: metadata,

    token: open(
      {
        summary: 'Token endpoint: grant_type=refresh_token (SDK tokens, rotated) or client_credentials (agents, private_key_jwt)',
        tags,
        consumes: [FORM],
        body: Form(['grant_type', 'refresh_token', 'scope', 'client_id', 'client_assertion', 'client_assertion_type']),
        response: {
          200: Type.Object({
            access_token: Type.String(),
            token_type: Type.Literal('Bearer'),
            expires_in: Type.Integer(),
            scope: Type.String(),
            refresh_token: Type.Optional(Type.String()),
          }),
        },
      },
      async ({ body, ip, userAgent, request, reply }) => {
        reply.headers(NO_STORE);
        return oauth.token(body as Record<string, string | undefined>, { ip, userAgent }, authScheme(request.headers.authorization));
      },
    ),

    revoke: open(
      {
        summary: 'Token revocation (RFC 7009): 200 whether or not the token was known; a client_id sent must be the token client',
        tags,
        consumes: [FORM],
        body: Form(['token', 'token_type_hint', 'client_id']),
        response: { 200: Type.Object({}) },
      },
      async ({ body, ip, userAgent }) => {
        await oauth.revoke(body as Record<string, string | undefined>, { ip, userAgent });
        return {};
      },
    ),

    introspect: authed(
      {
        summary: 'Token introspection (RFC 7662), for authenticated callers; tokens of other organizations are inactive',
        tags,
        consumes: [FORM],
        body: Form(['token', 'token_type_hint']),
        response: { 200: Type.Object({ active: Type.Boolean() }, { additionalProperties: true }) },
      },
      async ({ principal, body, reply }) => {
        reply.headers(NO_STORE);
        return oauth.introspect(principal, body.token as string | undefined);
      },
    ),
  };
}

/** The scheme of an Authorization header (RFC 9110 §11.4), safe to echo in a challenge; undefined when absent. */
function authScheme(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}(?= |$)/.exec(authorization)?.[0] ?? 'Basic';
}
