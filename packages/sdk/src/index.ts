/**
 * `@aim/sdk`: a client for AIM, the identity server for AI agents. Runs in Node 20 and in browsers (fetch and
 * WebCrypto Ed25519, no runtime dependencies). File storage and `secure()` live in `@aim/sdk/node`.
 */
export { AIMClient, type AIMClientOptions } from './client.js';
export { Agent, type AgentIdentity, type AgentOptions, type IdentityStore, type RegisterAgentInput, type SignedAction } from './agent.js';
export {
  SDK_CLIENT_ID,
  TokenManager,
  type AgentCredentials,
  type ApiKeyCredentials,
  type BearerCredentials,
  type Credentials,
  type PasswordCredentials,
  type RefreshTokenStore,
  type SdkTokenCredentials,
  type SessionCredentials,
} from './auth.js';
export { Ed25519KeyPair, randomNonce } from './crypto.js';
export * from './errors.js';
export { Transport, type Answer, type RateLimitState, type RequestSpec, type RetryPolicy, type TransportOptions } from './transport.js';
export type * from './types.js';
