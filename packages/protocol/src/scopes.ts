/**
 * Scopes carried by API keys and OAuth access tokens. A user's role grants a fixed set of them.
 */
export const SCOPES = [
  'agents:read',
  'agents:write',
  'verify',
  'api_keys:manage',
  'audit:read',
  'alerts:manage',
  'admin',
] as const;

export type Scope = (typeof SCOPES)[number];

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

export const ROLES = ['admin', 'manager', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** What each role may do; `admin` implies every scope. */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  manager: ['agents:read', 'agents:write', 'verify', 'api_keys:manage', 'audit:read', 'alerts:manage'],
  member: ['agents:read', 'agents:write', 'verify', 'api_keys:manage'],
  viewer: ['agents:read', 'audit:read'],
};
