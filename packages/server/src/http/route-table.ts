import type { auditHandlers } from '../audit/routes.js';
import type { healthHandlers } from '../health/routes.js';
import type { mfaHandlers } from '../mfa/routes.js';
import type { sessionHandlers } from '../sessions/routes.js';
import type { tokenHandlers } from '../tokens/routes.js';
import type { userHandlers } from '../users/routes.js';
import type { Access, Route } from './handler.js';

export interface Handlers {
  health: ReturnType<typeof healthHandlers>;
  tokens: ReturnType<typeof tokenHandlers>;
  sessions: ReturnType<typeof sessionHandlers>;
  users: ReturnType<typeof userHandlers>;
  mfa: ReturnType<typeof mfaHandlers>;
  audit: ReturnType<typeof auditHandlers>;
}

// Who may call: public routes are limited per address; the rest name the credentials they accept.
const PUBLIC: Access = { auth: 'public' };
const PERSON = { auth: ['jwt'] } as const;
const PERSON_OR_SDK = { auth: ['jwt', 'oauth'] } as const;
/** A person's session: a bearer token, or the web UI's cookie with its CSRF token. */
const PERSON_OR_COOKIE = { auth: ['jwt'], cookie: true } as const;
const ANY_CREDENTIAL = { auth: ['jwt', 'oauth', 'api_key'] } as const;

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
    { method: 'POST', url: '/api/v1/auth/logout', access: PERSON_OR_COOKIE, handler: h.sessions.logout },
    { method: 'GET', url: '/api/v1/auth/me', access: PERSON_OR_SDK, handler: h.sessions.me },
    { method: 'POST', url: '/api/v1/auth/password', access: PERSON, handler: h.sessions.changePassword },

    // two-factor authentication (no admin scope: reachable while AIM_REQUIRE_ADMIN_MFA holds an admin back)
    { method: 'POST', url: '/api/v1/auth/mfa/totp/setup', access: PERSON, handler: h.mfa.setup },
    { method: 'POST', url: '/api/v1/auth/mfa/totp/enable', access: PERSON, handler: h.mfa.enable },
    { method: 'POST', url: '/api/v1/auth/mfa/totp/disable', access: PERSON, handler: h.mfa.disable },

    // users (admins)
    { method: 'GET', url: '/api/v1/users', access: { ...PERSON, scope: 'admin' }, handler: h.users.list },
    { method: 'POST', url: '/api/v1/users', access: { ...PERSON, scope: 'admin' }, handler: h.users.create },
    { method: 'PATCH', url: '/api/v1/users/:id', access: { ...PERSON, scope: 'admin' }, handler: h.users.update },

    // audit log
    { method: 'GET', url: '/api/v1/audit-logs', access: { ...ANY_CREDENTIAL, scope: 'audit:read' }, handler: h.audit.list },
    { method: 'GET', url: '/api/v1/audit-logs/verify', access: { ...ANY_CREDENTIAL, scope: 'audit:read' }, handler: h.audit.verify },
    { method: 'GET', url: '/api/v1/audit-logs/export', access: { ...ANY_CREDENTIAL, scope: 'audit:read' }, handler: h.audit.export },
  ];
}
