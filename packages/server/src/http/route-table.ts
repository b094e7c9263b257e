import type { apiKeyHandlers } from '../api-keys/routes.js';
import type { healthHandlers } from '../health/routes.js';
import type { sessionHandlers } from '../sessions/routes.js';
import type { tokenHandlers } from '../tokens/routes.js';
import type { userHandlers } from '../users/routes.js';
import type { Access, Route } from './handler.js';

export interface Handlers {
  health: ReturnType<typeof healthHandlers>;
  tokens: ReturnType<typeof tokenHandlers>;
  sessions: ReturnType<typeof sessionHandlers>;
  users: ReturnType<typeof userHandlers>;
  apiKeys: ReturnType<typeof apiKeyHandlers>;
}

// Who may call: public routes are limited per address; the rest name the credentials they accept.
const PUBLIC: Access = { auth: 'public' };
const PERSON = { auth: ['jwt'] } as const;
const PERSON_OR_SDK = { auth: ['jwt', 'oauth'] } as const;
/**
 * A person, or automation holding an API key. What a key may do is still bounded by the route's scope: keys carry
 * their own scopes, and `admin` implies all. Routes about the person themselves (`/auth/*`) and user management
 * stay JWT-only: a key is not a person and cannot sign in, change a password or administer accounts.
 */
const PERSON_OR_KEY = { auth: ['jwt', 'api_key'] } as const;

/**
 * Every endpoint AIM serves, with the credentials it accepts and the scope it needs.
 * The rate-limit class follows from the credential actually presented (public routes: per address).
 */
export function routeTable(h: Handlers): Route[] {
  return [
    // operations
    { method: 'GET', url: '/health', access: PUBLIC, handler: h.health.live },
    { method: 'GET', url: '/health/ready', access: PUBLIC, handler: h.health.ready },
    { method: 'GET', url: '/.well-known/jwks.json', access: PUBLIC, handler: h.tokens.jwks },

    // human sessions
    { method: 'POST', url: '/api/v1/public/login', access: PUBLIC, handler: h.sessions.login },
    { method: 'POST', url: '/api/v1/auth/refresh', access: PUBLIC, handler: h.sessions.refresh },
    { method: 'POST', url: '/api/v1/auth/logout', access: PERSON, handler: h.sessions.logout },
    { method: 'GET', url: '/api/v1/auth/me', access: PERSON_OR_SDK, handler: h.sessions.me },
    { method: 'POST', url: '/api/v1/auth/password', access: PERSON, handler: h.sessions.changePassword },

    // users (admins)
    { method: 'GET', url: '/api/v1/users', access: { ...PERSON, scope: 'admin' }, handler: h.users.list },
    { method: 'POST', url: '/api/v1/users', access: { ...PERSON, scope: 'admin' }, handler: h.users.create },
    { method: 'PATCH', url: '/api/v1/users/:id', access: { ...PERSON, scope: 'admin' }, handler: h.users.update },

    // API keys: people with api_keys:manage; keys only with admin (a key can never hold api_keys:manage)
    { method: 'POST', url: '/api/v1/api-keys', access: { ...PERSON_OR_KEY, scope: 'api_keys:manage' }, handler: h.apiKeys.create },
    { method: 'GET', url: '/api/v1/api-keys', access: { ...PERSON_OR_KEY, scope: 'api_keys:manage' }, handler: h.apiKeys.list },
    { method: 'DELETE', url: '/api/v1/api-keys/:id', access: { ...PERSON_OR_KEY, scope: 'api_keys:manage' }, handler: h.apiKeys.revoke },
    { method: 'POST', url: '/api/v1/api-keys/:id/rotate', access: { ...PERSON_OR_KEY, scope: 'api_keys:manage' }, handler: h.apiKeys.rotate },
    { method: 'GET', url: '/api/v1/api-keys/:id/usage', access: { ...PERSON_OR_KEY, scope: 'api_keys:manage' }, handler: h.apiKeys.usage },
  ];
}
