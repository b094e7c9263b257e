import type { agentHandlers } from '../agents/routes.js';
import type { apiKeyHandlers } from '../api-keys/routes.js';
import type { alertHandlers } from '../alerts/routes.js';
import type { healthHandlers } from '../health/routes.js';
import type { oauthHandlers } from '../oauth/routes.js';
import type { sdkTokenHandlers } from '../sdk-tokens/routes.js';
import type { signatureHandlers } from '../signatures/routes.js';
import type { auditHandlers } from '../audit/routes.js';
import type { mfaHandlers } from '../mfa/routes.js';
import type { sessionHandlers } from '../sessions/routes.js';
import type { tokenHandlers } from '../tokens/routes.js';
import type { userHandlers } from '../users/routes.js';
import type { passwordResetHandlers } from '../password-resets/routes.js';
import type { Access, Route } from './handler.js';

export interface Handlers {
  health: ReturnType<typeof healthHandlers>;
  tokens: ReturnType<typeof tokenHandlers>;
  sessions: ReturnType<typeof sessionHandlers>;
  users: ReturnType<typeof userHandlers>;
  passwordResets: ReturnType<typeof passwordResetHandlers>;
  agents: ReturnType<typeof agentHandlers>;
  signatures: ReturnType<typeof signatureHandlers>;
  oauth: ReturnType<typeof oauthHandlers>;
  sdkTokens: ReturnType<typeof sdkTokenHandlers>;
  apiKeys: ReturnType<typeof apiKeyHandlers>;
  mfa: ReturnType<typeof mfaHandlers>;
  audit: ReturnType<typeof auditHandlers>;
  alerts: ReturnType<typeof alertHandlers>;
}

// Who may call: public routes are limited per address (probes are not limited); the rest name the credentials they
// accept and are limited per principal in the class of the credential presented.
const PUBLIC: Access = { auth: 'public' };
const PROBE: Access = { auth: 'public', rateLimit: 'none' };
const PERSON = { auth: ['jwt'] } as const;
const PERSON_OR_SDK = { auth: ['jwt', 'oauth'] } as const;
const ANY = { auth: ['jwt', 'api_key', 'oauth'] } as const;
/**
 * A person, or automation holding an API key. What a key may do is still bounded by the route's scope: keys carry
 * their own scopes, and `admin` implies all. Routes about the person themselves (`/auth/*`) and user management
 * stay JWT-only: a key is not a person and cannot sign in, change a password or administer accounts.
 */
const PERSON_OR_KEY = { auth: ['jwt', 'api_key'] } as const;
/**
 * Admin steps that give someone an account or take one over (a new user, a role, re-enabling, a password or 2FA
 * reset): a person's token needs a recent password sign-in for them (`recentSignIn`, 403 `reauthentication_required`).
 */
const ADMIN_GRANT = { ...PERSON, scope: 'admin', recentSignIn: true } as const;
/** A person's session: a bearer token, or the web UI's cookie with its CSRF token. */
const PERSON_OR_COOKIE = { auth: ['jwt'], cookie: true } as const;

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
    { method: 'GET', url: '/.well-known/oauth-authorization-server', access: PUBLIC, handler: h.oauth.metadata },
    { method: 'GET', url: '/.well-known/openid-configuration', access: PUBLIC, handler: h.oauth.openidConfiguration },

    // OAuth 2.0 (form-encoded, RFC 6749 errors)
    { method: 'POST', url: '/oauth/token', access: PUBLIC, handler: h.oauth.token },
    { method: 'POST', url: '/oauth/revoke', access: PUBLIC, handler: h.oauth.revoke },
    { method: 'POST', url: '/oauth/introspect', access: ANY, handler: h.oauth.introspect },
    { method: 'POST', url: '/api/v1/sdk-tokens', access: { ...PERSON, recentSignIn: true }, handler: h.sdkTokens.create },
    { method: 'GET', url: '/api/v1/sdk-tokens', access: PERSON, handler: h.sdkTokens.list },
    { method: 'POST', url: '/api/v1/sdk-tokens/revoke-all', access: PERSON, handler: h.sdkTokens.revokeAll },
    { method: 'POST', url: '/api/v1/sdk-tokens/:id/revoke', access: PERSON, handler: h.sdkTokens.revoke },

    // human sessions
    { method: 'POST', url: '/api/v1/public/login', access: PUBLIC, handler: h.sessions.login },
    { method: 'POST', url: '/api/v1/auth/refresh', access: PUBLIC, handler: h.sessions.refresh },
    { method: 'POST', url: '/api/v1/auth/logout', access: PERSON_OR_COOKIE, handler: h.sessions.logout },
    { method: 'GET', url: '/api/v1/auth/me', access: PERSON_OR_SDK, handler: h.sessions.me },
    { method: 'POST', url: '/api/v1/auth/reauthenticate', access: PERSON, handler: h.sessions.reauthenticate },
    { method: 'POST', url: '/api/v1/auth/password', access: PERSON, handler: h.sessions.changePassword },
    { method: 'POST', url: '/api/v1/public/password-reset', access: PUBLIC, handler: h.passwordResets.complete },
    { method: 'GET', url: '/api/v1/auth/sessions', access: PERSON, handler: h.sessions.listSessions },
    { method: 'POST', url: '/api/v1/auth/sessions/revoke-others', access: PERSON, handler: h.sessions.revokeOtherSessions },
    { method: 'POST', url: '/api/v1/auth/sessions/:id/revoke', access: PERSON, handler: h.sessions.revokeSession },

    // two-factor authentication (no admin scope: reachable while AIM_REQUIRE_ADMIN_MFA holds an admin back)
    { method: 'POST', url: '/api/v1/auth/mfa/totp/setup', access: PERSON, handler: h.mfa.setup },
    { method: 'POST', url: '/api/v1/auth/mfa/totp/enable', access: PERSON, handler: h.mfa.enable },
    { method: 'POST', url: '/api/v1/auth/mfa/totp/disable', access: PERSON, handler: h.mfa.disable },
    { method: 'POST', url: '/api/v1/auth/mfa/recovery-codes', access: PERSON, handler: h.mfa.regenerateRecoveryCodes },

    // users (admins)
    { method: 'GET', url: '/api/v1/users', access: { ...PERSON, scope: 'admin' }, handler: h.users.list },
    { method: 'POST', url: '/api/v1/users', access: ADMIN_GRANT, handler: h.users.create },
    { method: 'PATCH', url: '/api/v1/users/:id', access: ADMIN_GRANT, handler: h.users.update },
    { method: 'DELETE', url: '/api/v1/users/:id', access: { ...PERSON, scope: 'admin' }, handler: h.users.remove },
    { method: 'POST', url: '/api/v1/users/:id/disable', access: { ...PERSON, scope: 'admin' }, handler: h.users.disable },
    { method: 'POST', url: '/api/v1/users/:id/enable', access: ADMIN_GRANT, handler: h.users.enable },
    { method: 'POST', url: '/api/v1/users/:id/mfa/reset', access: ADMIN_GRANT, handler: h.users.resetMfa },
    { method: 'POST', url: '/api/v1/users/:id/password-reset', access: ADMIN_GRANT, handler: h.passwordResets.issue },

    // agents and MCP servers (registering one makes a key pair that outlives the session: a recent sign-in for people)
    { method: 'POST', url: '/api/v1/sdk-api/agents/register', access: { auth: ['api_key', 'jwt'], scope: 'agents:write', recentSignIn: true }, handler: h.agents.sdkRegister },
    { method: 'POST', url: '/api/v1/agents', access: { ...ANY, scope: 'agents:write', recentSignIn: true }, handler: h.agents.register },
    { method: 'GET', url: '/api/v1/agents', access: { ...ANY, scope: 'agents:read' }, handler: h.agents.list },
    { method: 'GET', url: '/api/v1/agents/:id', access: { ...ANY, scope: 'agents:read' }, handler: h.agents.get },
    { method: 'PATCH', url: '/api/v1/agents/:id', access: { ...ANY, scope: 'agents:write' }, handler: h.agents.update },
    { method: 'DELETE', url: '/api/v1/agents/:id', access: { ...ANY, scope: 'agents:write' }, handler: h.agents.remove },
    { method: 'POST', url: '/api/v1/agents/:id/suspend', access: { ...ANY, scope: 'agents:write' }, handler: h.agents.suspend },
    { method: 'POST', url: '/api/v1/agents/:id/reactivate', access: { ...ANY, scope: 'agents:write' }, handler: h.agents.reactivate },

    // agent keys: rotation needs agents:write or the agent's own token, checked by the service
    { method: 'GET', url: '/api/v1/agents/:id/keys', access: { ...ANY, scope: 'agents:read' }, handler: h.agents.keys },
    // Setting a key outright (no signature by the current one) lets the caller sign as the agent: admins only.
    { method: 'POST', url: '/api/v1/agents/:id/keys', access: { ...ANY, scope: 'admin', recentSignIn: true }, handler: h.agents.replaceKey },
    { method: 'POST', url: '/api/v1/agents/:id/keys/rotate', access: ANY, handler: h.agents.rotateKey },
    { method: 'POST', url: '/api/v1/agents/:id/keys/:keyId/revoke', access: { ...ANY, scope: 'agents:write' }, handler: h.agents.revokeKey },

    // signed actions and their evidence
    { method: 'POST', url: '/api/v1/agents/:id/verify-action', access: { ...ANY, scope: 'verify' }, handler: h.signatures.verifyAction },
    { method: 'GET', url: '/api/v1/agents/:id/verifications', access: { ...ANY, scope: 'agents:read' }, handler: h.signatures.listForAgent },
    { method: 'GET', url: '/api/v1/verifications', access: { ...ANY, scope: 'agents:read' }, handler: h.signatures.list },
    { method: 'GET', url: '/api/v1/verifications/stats', access: { ...ANY, scope: 'agents:read' }, handler: h.signatures.stats },
    { method: 'GET', url: '/api/v1/verifications/:id', access: { ...ANY, scope: 'agents:read' }, handler: h.signatures.get },
    // API keys: people with api_keys:manage; keys only with admin (a key can never hold api_keys:manage)
    { method: 'POST', url: '/api/v1/api-keys', access: { ...PERSON_OR_KEY, scope: 'api_keys:manage', recentSignIn: true }, handler: h.apiKeys.create },
    { method: 'GET', url: '/api/v1/api-keys', access: { ...PERSON_OR_KEY, scope: 'api_keys:manage' }, handler: h.apiKeys.list },
    { method: 'DELETE', url: '/api/v1/api-keys/:id', access: { ...PERSON_OR_KEY, scope: 'api_keys:manage' }, handler: h.apiKeys.revoke },
    { method: 'POST', url: '/api/v1/api-keys/:id/rotate', access: { ...PERSON_OR_KEY, scope: 'api_keys:manage', recentSignIn: true }, handler: h.apiKeys.rotate },
    { method: 'GET', url: '/api/v1/api-keys/:id/usage', access: { ...PERSON_OR_KEY, scope: 'api_keys:manage' }, handler: h.apiKeys.usage },
    // audit log
    { method: 'GET', url: '/api/v1/audit-logs', access: { ...ANY, scope: 'audit:read' }, handler: h.audit.list },
    { method: 'GET', url: '/api/v1/audit-logs/verify', access: { ...ANY, scope: 'audit:read' }, handler: h.audit.verify },
    { method: 'GET', url: '/api/v1/audit-logs/export', access: { ...ANY, scope: 'audit:read' }, handler: h.audit.export },
    { method: 'GET', url: '/api/v1/audit-logs/checkpoint', access: { ...ANY, scope: 'audit:read' }, handler: h.audit.checkpoint },
    // alerts: readable by auditors and by those who handle them
    { method: 'GET', url: '/api/v1/alerts', access: { ...ANY, scope: ['audit:read', 'alerts:manage'] }, handler: h.alerts.list },
    { method: 'POST', url: '/api/v1/alerts/:id/acknowledge', access: { ...ANY, scope: 'alerts:manage' }, handler: h.alerts.acknowledge },
    { method: 'POST', url: '/api/v1/alerts/:id/resolve', access: { ...ANY, scope: 'alerts:manage' }, handler: h.alerts.resolve },
  ];
}
