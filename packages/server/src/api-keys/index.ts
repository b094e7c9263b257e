export { ApiKeyService, CACHE_TTL, DEFAULT_SCOPES, EXPIRING_SOON, type ApiKeyServiceOptions, type ApiKeyState } from './service.js';
export { apiKeyVerifier } from './verifier.js';
export { apiKeyHandlers } from './routes.js';
export { API_KEY_PATTERN, parseApiKey, displayPrefix } from './format.js';
export type { ApiKeyStore } from './store.js';
export type { ApiKey, ApiKeyEnvironment, ApiKeyStatus } from './types.js';
