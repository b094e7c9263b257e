import { ROLE_SCOPES, isScope } from '@aim/protocol';
import { DAY } from '../core/clock.js';
import { AimError, notFound } from '../core/errors.js';
import { isUuid, type FamilyId, type UserId } from '../core/ids.js';
import type { Principal } from '../http/principal.js';
import type { RequestMeta, SessionService } from '../sessions/service.js';
import type { RefreshFamily } from '../sessions/types.js';
import type { StoreHub } from '../storage/stores.js';
import type { UserService } from '../users/service.js';

const DEFAULT_SCOPES = ['agents:read', 'agents:write', 'verify'];

/**
 * SDK tokens: named, long-lived credentials a person hands to an SDK. Each is a family of refresh tokens used at
 * POST /oauth/token (grant_type=refresh_token, client_id=aim-sdk) and rotated on every use; revoking one stops every
 * token of its family at once. Nothing revives a revoked token.
 */
export class SdkTokenService {
  constructor(
    private readonly hub: StoreHub,
    private readonly sessions: SessionService,
    private readonly users: UserService,
    private readonly maxAgeDays: number,
  ) {}

  async create(
    principal: Principal,
    input: { name: string; scopes?: string[]; expiresInDays?: number },
    meta: RequestMeta,
  ): Promise<{ family: RefreshFamily; refreshToken: string }> {
    const user = await this.user(principal);
    const allowed = ROLE_SCOPES[user.role];
    const scopes = [...new Set(input.scopes ?? DEFAULT_SCOPES.filter((s) => allowed.includes(s as never)))];
    const beyond = scopes.filter((s) => !isScope(s) || !(allowed.includes(s) || allowed.includes('admin')));
    if (beyond.length > 0) throw new AimError('insufficient_scope', `your role cannot grant: ${beyond.join(', ')}`);
    if (scopes.length === 0) throw new AimError('invalid_request', 'an SDK token needs at least one scope');
    const days = Math.min(input.expiresInDays ?? this.maxAgeDays, this.maxAgeDays);
    const result = await this.sessions.startFamily(user, 'sdk', { name: input.name, scopes, maxAgeMs: days * DAY, authTime: null }, meta);
    return { family: result.family, refreshToken: result.refreshToken };
  }

  async list(principal: Principal): Promise<RefreshFamily[]> {
    const user = await this.user(principal);
    return this.hub.refreshTokens.listFamilies(user.id, 'sdk');
  }

  async revoke(principal: Principal, id: string, meta: RequestMeta): Promise<RefreshFamily> {
    const user = await this.user(principal);
    const family = isUuid(id) ? await this.hub.refreshTokens.findFamily(id as FamilyId) : undefined;
    if (!family || family.kind !== 'sdk' || family.userId !== user.id) throw notFound('SDK token');
    await this.sessions.revoke(family.id, 'user_revoked', { type: 'user', id: user.id }, meta);
    return (await this.hub.refreshTokens.findFamily(family.id)) ?? family;
  }

  async revokeAll(principal: Principal, meta: RequestMeta): Promise<number> {
    const user = await this.user(principal);
    return this.sessions.revokeAllForUser(user, 'user_revoked', { kind: 'sdk' }, meta);
  }

  private async user(principal: Principal) {
    const user = principal.userId && (await this.users.get(principal.userId as UserId));
    if (!user) throw new AimError('forbidden', 'SDK tokens belong to people');
    return user;
  }
}
