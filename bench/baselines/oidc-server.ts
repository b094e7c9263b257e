/**
 * The baseline: panva's oidc-provider (8.x, which supports Node 20) with an in-memory adapter, run as a process of
 * its own like AIM. Configured for work comparable to AIM's: access tokens are EdDSA-signed JWTs, refresh tokens
 * rotate (a used one is consumed; presenting it again revokes the grant), and the private_key_jwt client signs its
 * assertions with Ed25519 and each jti is checked for replay.
 *
 * Reads BENCH_OIDC_AGENT_JWK (the agent's public JWK) and BENCH_OIDC_REFRESH_TOKENS (how many to mint), then prints
 * one JSON line: {"url", "refresh_tokens": [...]}.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import { MapAdapter } from './map-adapter.js';

const RESOURCE = 'urn:aim:bench';
const agentJwk = JSON.parse(process.env.BENCH_OIDC_AGENT_JWK ?? '{}') as Record<string, string>;
const refreshCount = Number(process.env.BENCH_OIDC_REFRESH_TOKENS ?? '0');

const signing = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const provider = new Provider(issuer, {
  adapter: MapAdapter,
  cookies: { keys: [randomUUID()] },
  jwks: { keys: [{ ...signing, kid: 'bench', alg: 'EdDSA', use: 'sig' }] },
  clients: [
    {
      client_id: 'refresh-client',
      id_token_signed_response_alg: 'EdDSA',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
    {
      client_id: 'agent-client',
      id_token_signed_response_alg: 'EdDSA',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'EdDSA',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      jwks: { keys: [{ ...agentJwk, alg: 'EdDSA', use: 'sig' }] },
    },
  ],
  findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  rotateRefreshToken: true,
  // AIM's lifetimes: 15-minute access tokens, 7-day refresh tokens.
  ttl: { AccessToken: 900, ClientCredentials: 900, RefreshToken: 604_800, Grant: 604_800 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({ scope: 'api', audience: RESOURCE, accessTokenFormat: 'jwt', accessTokenTTL: 900, jwt: { sign: { alg: 'EdDSA' } } }),
    },
  },
});
// Koa's default error logging would print every refused request.
provider.on('server_error', () => undefined);
server.on('request', provider.callback());

// Refresh tokens as an authorization code exchange would have left them: a grant with the resource scope.
const tokens: string[] = [];
const client = await provider.Client.find('refresh-client');
if (!client) throw new Error('the refresh client is missing');
for (let i = 0; i < refreshCount; i += 1) {
  const accountId = randomUUID();
  const grant = new provider.Grant({ accountId, clientId: 'refresh-client' });
  grant.addOIDCScope('offline_access');
  grant.addResourceScope(RESOURCE, 'api');
  const grantId = await grant.save();
  const token = new provider.RefreshToken({ accountId, client, grantId, gty: 'authorization_code', scope: 'offline_access api', resource: RESOURCE });
  tokens.push(await token.save());
}
process.stdout.write(`${JSON.stringify({ url: issuer, refresh_tokens: tokens })}\n`);
// Nothing to flush: the adapter is in memory.
process.on('SIGTERM', () => process.exit(0));
