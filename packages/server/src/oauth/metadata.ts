import { SCOPES } from '@aim/protocol';

/** Client assertions may be signed with Ed25519 under either name: `EdDSA` (RFC 8037) or `Ed25519` (RFC 9864). */
export const ASSERTION_ALGORITHMS: Array<'EdDSA' | 'Ed25519'> = ['EdDSA', 'Ed25519'];

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * RFC 8414 metadata listing exactly what is implemented: no authorization endpoint (there is no browser redirect
 * flow), two grants, private_key_jwt for agents and public-client refresh for SDK tokens.
 */
export function authorizationServerMetadata(issuer: string) {
  return {
    issuer,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    grant_types_supported: ['client_credentials', 'refresh_token'],
    response_types_supported: [] as string[],
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    revocation_endpoint_auth_methods_supported: ['none'],
    introspection_endpoint_auth_methods_supported: ['bearer', 'api_key'],
    scopes_supported: [...SCOPES],
    service_documentation: `${issuer}/docs`,
  };
}
