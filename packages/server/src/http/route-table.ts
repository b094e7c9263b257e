import type { alertHandlers } from '../alerts/routes.js';
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
  alerts: ReturnType<typeof alertHandlers>;
}

// Who may call: public routes are limited per address (probes are not limited); the rest name the credentials they
// accept and are limited per principal in the class of the credential presented.
const PUBLIC: Access = { auth: 'public' };
const PROBE: Access = { auth: 'public', rateLimit: 'none' };
const PERSON = { auth: ['jwt'] } as const;
const PERSON_OR_SDK = { auth: ['jwt', 'oauth'] } as const;
const ANY_CREDENTIAL = { auth: ['jwt', 'api_key', 'oauth'] } as const;

/**
 * Every endpoint AIM serves, with the credentials it accepts and the scope it needs.
 * The rate-limit class follows from the credential actually presented (public routes: per address).
 */
export function routeTable(h: Handlers): Route[] {
  return [
    // operations
    { method: 'GET', url: '/health', access: PROBE, handler: h.health.live },
    { method: 'GET', url: '/health/ready', access: PROBE, handler: h.health.ready },
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

    // alerts: readable by auditors and by those who handle them
    { method: 'GET', url: '/api/v1/alerts', access: { ...ANY_CREDENTIAL, scope: ['audit:read', 'alerts:manage'] }, handler: h.alerts.list },
    { method: 'POST', url: '/api/v1/alerts/:id/acknowledge', access: { ...ANY_CREDENTIAL, scope: 'alerts:manage' }, handler: h.alerts.acknowledge },
    { method: 'POST', url: '/api/v1/alerts/:id/resolve', access: { ...ANY_CREDENTIAL, scope: 'alerts:manage' }, handler: h.alerts.resolve },
  ];
}
