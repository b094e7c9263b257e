import type { AgentDirectory } from '../agents/directory.js';
import type { AuditLog } from '../audit/audit-log.js';
import { SECOND, type Clock } from '../core/clock.js';
import { AimError } from '../core/errors.js';
import { isUuid, type AgentId, type FamilyId, type OrgId } from '../core/ids.js';
import type { Principal } from '../http/principal.js';
import type { SessionService, RequestMeta } from '../sessions/service.js';
import type { RevocationList } from '../shared-state/revocations.js';
import type { AccessTokens, VerifiedAccess } from '../tokens/access-tokens.js';
import { clientIdOf, SDK_CLIENT_ID } from '../tokens/clients.js';
import { AgentAssertionRefused, type ClientAssertionVerifier } from './client-assertion.js';
import { CLIENT_ASSERTION_TYPE } from './metadata.js';

/** What agents may ask for with client_credentials: verifying their own actions. */
const AGENT_SCOPES = ['verify'];

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

export type TokenRequest = Record<string, string | undefined>;

export type AssertionRefusedListener = (agent: AgentAssertionRefused['agent'], reason: AgentAssertionRefused['reason'], ip: string | null) => void;

/** The OAuth 2.0 token, revocation and introspection endpoints (RFC 6749, 7009, 7662, 7523). */
export class OAuthService {
  private readonly assertionListeners: AssertionRefusedListener[] = [];

  constructor(
    private readonly sessions: SessionService,
    private readonly tokens: AccessTokens,
    private readonly assertions: ClientAssertionVerifier,
    private readonly directory: AgentDirectory,
    private readonly revocations: RevocationList,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** Hears of every refused client assertion that named a real agent (burst alerts); must not throw. */
  onAssertionRefused(listener: AssertionRefusedListener): void {
    this.assertionListeners.push(listener);
  }

  /** `headerScheme`: the scheme of an Authorization header the client sent, if any. */
  async token(form: TokenRequest, meta: RequestMeta, headerScheme?: string): Promise<TokenResponse> {
    // RFC 6749 §2.3: clients here authenticate with private_key_jwt or not at all (metadata says so); one trying a
    // header-based method (client_secret_basic) is refused with a 401 and a challenge in its scheme (§5.2).
    if (headerScheme !== undefined) {
      throw new AimError('invalid_client', 'the token endpoint authenticates clients with private_key_jwt or not at all, never the Authorization header', {
        headers: { 'www-authenticate': `${headerScheme} realm="aim"` },
      });
    }
    switch (form.grant_type) {
      case 'refresh_token':
        return this.refreshGrant(form, meta);
      case 'client_credentials':
        return this.clientCredentialsGrant(form, meta);
      case undefined:
        throw new AimError('invalid_request', 'grant_type is required');
      default:
        throw new AimError('unsupported_grant_type', 'supported grants: refresh_token, client_credentials');
    }
  }

  /** RFC 6749 §6 with rotation (RFC 9700 §4.14.2): the same family logic as human sessions. */
  private async refreshGrant(form: TokenRequest, meta: RequestMeta): Promise<TokenResponse> {
    if (form.client_id !== undefined && form.client_id !== SDK_CLIENT_ID) throw new AimError('invalid_client', `SDK tokens use client_id "${SDK_CLIENT_ID}"`);
    // RFC 6749 §6: a refresh token is bound to its client. Only the public client aim-sdk holds them, so a request
    // that authenticates as a client (an agent's assertion) presents one issued to another client; it stays unspent.
    if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
      throw new AimError('invalid_grant', `refresh tokens are issued to the public client "${SDK_CLIENT_ID}" only`);
    }
    if (!form.refresh_token) throw new AimError('invalid_request', 'refresh_token is required');
    const scope = parseScope(form.scope);
    if (scope) {
      // RFC 6749 §6: a refresh may narrow the scope, never widen it; checked before the token is spent.
      const family = await this.sessions.familyOfToken(form.refresh_token);
      if (family && scope.some((s) => !family.scopes.includes(s))) throw new AimError('invalid_scope', 'the requested scope exceeds the grant');
    }
    try {
      const result = await this.sessions.refresh({ refreshToken: form.refresh_token, kind: 'sdk', ...(scope && { scope }), ...meta });
      const claims = await this.tokens.verify(result.accessToken);
      return {
        access_token: result.accessToken,
        token_type: 'Bearer',
        expires_in: result.expiresIn,
        scope: claims.scope.join(' '),
        refresh_token: result.refreshToken,
      };
    } catch (error) {
      if (error instanceof AimError && (error.code === 'invalid_token' || error.code === 'refresh_token_reused')) {
        throw new AimError('invalid_grant', error.message);
      }
      throw error;
    }
  }

  /** RFC 6749 §4.4 with the agent authenticated by private_key_jwt (RFC 7523 §2.2). No refresh token is issued. */
  private async clientCredentialsGrant(form: TokenRequest, meta: RequestMeta): Promise<TokenResponse> {
    if (form.client_assertion_type !== CLIENT_ASSERTION_TYPE || !form.client_assertion) {
      throw new AimError('invalid_client', `authenticate with client_assertion_type=${CLIENT_ASSERTION_TYPE} and a client_assertion`);
    }
    const requested = parseScope(form.scope) ?? AGENT_SCOPES;
    const unknown = requested.filter((s) => !AGENT_SCOPES.includes(s));
    if (unknown.length > 0) throw new AimError('invalid_scope', `agents may request: ${AGENT_SCOPES.join(' ')}`);
    let agent;
    try {
      ({ agent } = await this.assertions.verify(form.client_assertion, form.client_id));
    } catch (error) {
      if (error instanceof AgentAssertionRefused) {
        // A real agent: its organization's chain records it, as failed sign-ins of its users are recorded there.
        await this.audit.record({
          organizationId: error.agent.organizationId,
          event: 'oauth.client_authentication_failed',
          actor: { type: 'anonymous' },
          subject: { type: 'agent', id: error.agent.id },
          ip: meta.ip,
          data: { reason: error.reason, description: error.message },
        });
        for (const listener of this.assertionListeners) listener(error.agent, error.reason, meta.ip);
      } else if (error instanceof AimError && error.code === 'invalid_client') {
        await this.audit.record({
          organizationId: 'system',
          event: 'oauth.client_authentication_failed',
          actor: { type: 'anonymous' },
          ip: meta.ip,
          data: { reason: error.message },
        });
      }
      throw error;
    }
    const issued = await this.tokens.issue({ sub: agent.id, org: agent.organizationId, kind: 'agent', scope: requested });
    await this.audit.record({
      organizationId: agent.organizationId,
      event: 'oauth.token_issued',
      actor: { type: 'agent', id: agent.id },
      subject: { type: 'agent', id: agent.id },
      ip: meta.ip,
      data: { grant_type: 'client_credentials', jti: issued.jti, scope: requested.join(' ') },
    });
    return { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: requested.join(' ') };
  }

  /**
   * RFC 7009: revokes a refresh token's family, or an access token (its family, or for agent tokens the token itself).
   * Answers the same for unknown and invalid tokens (§2.2), so it reveals nothing. Holding a token is enough to revoke
   * it (its clients are public, or agents revoking their own token); a `client_id`, when sent, must be the client the
   * token was issued to (§2.1), as a client naming itself may only revoke its own tokens.
   */
  async revoke(form: TokenRequest, meta: RequestMeta): Promise<void> {
    const { token, token_type_hint: hint, client_id: clientId } = form;
    if (!token) throw new AimError('invalid_request', 'token is required');
    const checkClient = (owner: string) => {
      if (clientId !== undefined && clientId !== owner) throw new AimError('invalid_request', `this token was not issued to client "${clientId}"`);
    };
    const tryRefresh = async () => {
      const family = await this.sessions.familyOfToken(token);
      if (!family) return false;
      checkClient(clientIdOf(family.kind, family.userId));
      await this.sessions.revoke(family.id, 'oauth_revoke', { type: 'user', id: family.userId }, meta);
      return true;
    };
    const tryAccess = async () => {
      const claims = await this.tokens.verify(token).catch(() => undefined);
      if (!claims) return false;
      checkClient(claims.clientId);
      if (claims.sid) await this.sessions.revoke(claims.sid as FamilyId, 'oauth_revoke', { type: 'user', id: claims.sub }, meta);
      else await this.revocations.revoke(claims.jti, claims.exp * SECOND + 60 * SECOND);
      await this.audit.record({
        organizationId: claims.org,
        event: 'oauth.token_revoked',
        actor: { type: claims.kind === 'agent' ? 'agent' : 'user', id: claims.sub },
        data: { jti: claims.jti, kind: claims.kind },
        ip: meta.ip,
      });
      return true;
    };
    // The hint orders the lookups (RFC 7009 §2.1); both are tried.
    if (hint === 'access_token') (await tryAccess()) || (await tryRefresh());
    else (await tryRefresh()) || (await tryAccess());
  }

  /** RFC 7662, for authenticated callers; tokens of other organizations are simply inactive. */
  async introspect(principal: Principal, token: string | undefined): Promise<Record<string, unknown>> {
    if (!token) throw new AimError('invalid_request', 'token is required');
    const inactive = { active: false };
    const claims = await this.tokens.verify(token).catch(() => undefined);
    if (claims) {
      // verify() allows resource servers a few seconds of skew past exp; the issuer itself knows the token is over.
      if (claims.exp * SECOND <= this.clock.now()) return inactive;
      if (claims.org !== principal.organizationId || !(await this.live(claims))) return inactive;
      return {
        active: true,
        scope: claims.scope.join(' '),
        client_id: claims.clientId,
        sub: claims.sub,
        token_type: 'Bearer',
        exp: claims.exp,
        iat: claims.iat,
        iss: this.tokens.issuer,
        aud: this.tokens.issuer,
        jti: claims.jti,
        org: claims.org,
        aim_kind: claims.kind,
        // When the person last proved their password (session tokens only), for a resource server's own step-up rule.
        ...(claims.authTime !== undefined && { auth_time: claims.authTime }),
      };
    }
    const refresh = await this.sessions.liveRefreshToken(token);
    if (!refresh || refresh.family.organizationId !== principal.organizationId) return inactive;
    const { family } = refresh;
    // No token_type: RFC 7662 takes it from RFC 6749 §7.1 (how an access token is presented); refresh tokens have none.
    return {
      active: true,
      scope: family.scopes.join(' '),
      client_id: clientIdOf(family.kind, family.userId),
      sub: family.userId,
      exp: Math.floor(refresh.expiresAt / SECOND),
      iat: Math.floor(refresh.issuedAt / SECOND),
      iss: this.tokens.issuer,
      org: family.organizationId,
      aim_kind: family.kind,
    };
  }

  private async live(claims: VerifiedAccess): Promise<boolean> {
    if (claims.sid && this.revocations.isRevoked(claims.sid)) return false;
    if (this.revocations.isRevoked(claims.jti)) return false;
    if (claims.kind === 'agent') {
      const loaded = isUuid(claims.sub) ? await this.directory.get(claims.org as OrgId, claims.sub as AgentId) : undefined;
      return loaded?.agent.status === 'active';
    }
    return true;
  }
}

/** RFC 6749 §3.3: space-delimited; undefined when absent. */
function parseScope(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  const parts = scope.split(' ').filter(Boolean);
  if (parts.length === 0 || parts.some((p) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(p))) throw new AimError('invalid_scope', 'scope is malformed');
  return [...new Set(parts)];
}
