import { isScope, type Role, type Scope } from '@aim/protocol';
import { AimError } from '../core/errors.js';
import type { FamilyId, OrgId, UserId } from '../core/ids.js';
import type { Principal } from '../http/principal.js';
import type { RevocationList } from '../shared-state/revocations.js';
import type { AccessTokens } from './access-tokens.js';

/**
 * Verifies a Bearer access token and names its principal. Session tokens count as `jwt`; SDK and agent tokens
 * were issued by the OAuth token endpoint and count as `oauth` (their own rate-limit class).
 */
export function bearerVerifier(
  tokens: AccessTokens,
  revocations: RevocationList,
  /** Whether an agent may still act (its tokens stop when it is suspended or revoked). */
  agentActive: (orgId: OrgId, agentId: string) => Promise<boolean>,
) {
  return async (token: string): Promise<Principal> => {
    const claims = await tokens.verify(token);
    if (claims.sid && revocations.isRevoked(claims.sid)) throw new AimError('invalid_token', 'this session was revoked');
    if (revocations.isRevoked(claims.jti)) throw new AimError('invalid_token', 'this token was revoked');
    if (claims.kind === 'agent' && !(await agentActive(claims.org as OrgId, claims.sub))) {
      throw new AimError('invalid_token', 'the agent is not active');
    }
    const scopes = new Set(claims.scope.filter(isScope) as Scope[]);
    const base = { organizationId: claims.org as OrgId, scopes, ...(claims.sid && { familyId: claims.sid as FamilyId }) };
    if (claims.kind === 'agent') {
      return { ...base, method: 'oauth', actor: { type: 'agent', id: claims.sub }, agentId: claims.sub, rateKey: `agent:${claims.sub}` };
    }
    return {
      ...base,
      method: claims.kind === 'session' ? 'jwt' : 'oauth',
      actor: { type: 'user', id: claims.sub },
      userId: claims.sub as UserId,
      ...(claims.role && { role: claims.role as Role }),
      // Only a session proves a password sign-in; an SDK token's access token never counts as one.
      ...(claims.kind === 'session' && claims.authTime !== undefined && { authTime: claims.authTime }),
      // OAuth counts per client (the SDK token); JWT counts per user.
      rateKey: claims.kind === 'session' ? `user:${claims.sub}` : `client:${claims.sid ?? claims.sub}`,
    };
  };
}

