import { ROLE_SCOPES, type Role } from '@aim/protocol';
import type { AuditLog } from '../audit/audit-log.js';
import { SYSTEM_ORGANIZATION } from '../audit/types.js';
import { DAY, SECOND, type Clock } from '../core/clock.js';
import { AimError, notFound } from '../core/errors.js';
import { sha256Hex } from '../core/hashing.js';
import { isUuid, type FamilyId, type UserId } from '../core/ids.js';
import type { Random } from '../core/random.js';
import type { LoginThrottle } from '../rate-limits/index.js';
import type { RevocationList } from '../shared-state/revocations.js';
import type { StoreHub, Stores } from '../storage/stores.js';
import type { AccessTokens } from '../tokens/access-tokens.js';
import type { User } from '../users/types.js';
import type { UserService } from '../users/service.js';
import { formatRefreshToken, parseRefreshToken } from './refresh-token.js';
import type { FamilyKind, NewRefreshToken, RefreshFamily, RevokeReason } from './types.js';

/** A second factor checked at login when the user has one (TOTP, recovery codes). */
export interface SecondFactor {
  isEnrolled(userId: UserId): Promise<boolean>;
  /** Accepts a TOTP code or a recovery code, each at most once. */
  verify(user: User, code: string, ip: string | null): Promise<boolean>;
}

/** Called when a refresh token is reused, after the revocation has committed (alerts). Awaited; must not throw. */
export type ReuseListener = (family: RefreshFamily, ip: string | null) => void | Promise<void>;

/**
 * A password or code check failed: at sign-in (a wrong password, a disabled account, a wrong second factor) or when a
 * signed-in user changes their password or turns 2FA on or off. `user` is the account, when the email names one.
 * Listeners (the `failed_logins` alert) hear only of wrong guesses, not of refusals by the throttle. Awaited; must
 * not throw.
 */
export interface LoginFailure {
  email: string;
  ip: string | null;
  reason: GuessFailure;
  user?: User;
}
export type GuessFailure = 'invalid_credentials' | 'account_disabled' | 'invalid_totp' | 'invalid_current_password';
/** Why a sign-in failed, as its audit entry says: a wrong guess, no code for a 2FA account, or the throttle. */
export type LoginFailureReason = Exclude<GuessFailure, 'invalid_current_password'> | 'totp_missing' | 'throttled';
export type LoginFailureListener = (failure: LoginFailure) => void | Promise<void>;

/** Which of a user's families to revoke (all by default), and the admin doing it, if not the user. */
export interface RevokeUserFamilies {
  kind?: FamilyKind;
  except?: FamilyId;
  actor?: { type: 'user'; id: string };
}

export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: User;
  family: RefreshFamily;
}

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

/**
 * What a request offers as proof that its sender signed in with the password recently: the access token's
 * `auth_time` (seconds; absent for SDK tokens and tokens issued before AIM kept it), and the password if given again.
 */
export interface SignInProof {
  authTime?: number | undefined;
  password?: string | undefined;
}

/**
 * Where a password was given again, as `user.reauthentication_failed` names them: POST /auth/reauthenticate, or the
 * `password` field that TOTP setup and enable also take.
 */
export type ReauthenticatedStep = 'reauthenticate' | 'totp_setup' | 'totp_enable';

/** A session family lives at most this long, however often it is refreshed; then the user signs in again. */
const SESSION_MAX_AGE = 30 * DAY;

export class SessionService {
  private secondFactor: SecondFactor | undefined;
  private throttle: LoginThrottle | undefined;
  private readonly reuseListeners: ReuseListener[] = [];
  private readonly failureListeners: LoginFailureListener[] = [];

  constructor(
    private readonly hub: StoreHub,
    private readonly users: UserService,
    private readonly tokens: AccessTokens,
    private readonly revocations: RevocationList,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly policy: { refreshTtlSeconds: number; reuseGraceSeconds: number; reauthWindowSeconds: number },
  ) {}

  useSecondFactor(factor: SecondFactor): void {
    this.secondFactor = factor;
  }

  /** Whether the user has a second factor that login will ask for. */
  async hasSecondFactor(userId: UserId): Promise<boolean> {
    return this.secondFactor ? this.secondFactor.isEnrolled(userId) : false;
  }

  /** Slows password and code guessing per account, address and second factor (429 `rate_limited` with Retry-After). */
  useLoginThrottle(throttle: LoginThrottle): void {
    this.throttle = throttle;
  }

  onReuse(listener: ReuseListener): void {
    this.reuseListeners.push(listener);
  }

  onLoginFailure(listener: LoginFailureListener): void {
    this.failureListeners.push(listener);
  }

  async login(input: { email: string; password: string; totpCode?: string | undefined } & RequestMeta): Promise<SessionTokens> {
    // Throttled before any argon2 work: a refused guess costs the server almost nothing.
    const keys = this.throttle ? await this.throttle.loginKeys(input.email, input.ip ?? '') : [];
    await this.throttle?.check(keys, async () => this.recordLoginFailure(input, 'throttled', await this.users.findByEmail(input.email)));
    const check = await this.users.checkPassword(input.email, input.password);
    if (!check.ok) {
      await this.throttle?.failure(keys);
      await this.notifyFailure({ email: input.email, ip: input.ip, reason: check.reason, ...(check.account && { user: check.account }) });
      await this.recordLoginFailure(input, check.reason, check.account);
      throw new AimError('invalid_credentials', 'email or password is wrong');
    }
    const { user } = check;
    await this.throttle?.success(keys);
    if (this.secondFactor && (await this.secondFactor.isEnrolled(user.id))) {
      if (input.totpCode === undefined) {
        // The password was right: worth an entry, although the web UI's normal two-step sign-in makes one too.
        await this.recordLoginFailure(input, 'totp_missing', user);
        throw new AimError('mfa_required', 'this account needs a TOTP or recovery code');
      }
      const codeKeys = this.throttle?.totpKeys(user.id) ?? [];
      await this.throttle?.check(codeKeys, () => this.recordLoginFailure(input, 'throttled', user));
      if (!(await this.secondFactor.verify(user, input.totpCode, input.ip))) {
        await this.throttle?.failure(codeKeys);
        await this.notifyFailure({ email: input.email, ip: input.ip, reason: 'invalid_totp', user });
        await this.recordLoginFailure(input, 'invalid_totp', user);
        throw new AimError('invalid_credentials', 'the code is wrong or was already used');
      }
      await this.throttle?.success(codeKeys);
    }
    const tokens = await this.startFamily(
      user,
      'session',
      { name: null, scopes: [...ROLE_SCOPES[user.role]], maxAgeMs: SESSION_MAX_AGE, authTime: this.clock.now() },
      input,
    );
    if (input.ip) await this.throttle?.trust(input.email, input.ip);
    return tokens;
  }

  /**
   * Changes the signed-in user's password and signs out their other sessions, and with `revokeSdkTokens` their SDK
   * tokens too (a password thought stolen may have minted some); answers how many of each. The current password
   * is a credential check like a sign-in: throttled with the same account and address keys (a stolen access token is
   * no unlimited oracle for it), audited as `user.password_change_failed`, and counted toward `failed_logins`.
   */
  async changePassword(
    userId: UserId,
    current: string,
    next: string,
    meta: RequestMeta & { familyId?: FamilyId | undefined; revokeSdkTokens?: boolean },
  ): Promise<{ sessions: number; sdkTokens: number }> {
    const user = await this.users.get(userId);
    if (!user || user.disabledAt !== null) throw new AimError('invalid_token', 'the account no longer exists');
    const keys = this.throttle ? await this.throttle.loginKeys(user.email, meta.ip ?? '') : [];
    await this.throttle?.check(keys, () => this.recordPasswordChangeFailure(user, 'throttled', meta.ip));
    // The other sessions end in the password's own transaction: a changed password always means they are gone.
    const except = meta.familyId;
    const changed = await this.users.changePassword(user.id, current, next, meta.ip, async (s, locked) => ({
      sessions: await this.revokeAllForUserIn(s, locked, 'password_changed', { kind: 'session', ...(except && { except }) }, meta),
      sdkTokens: meta.revokeSdkTokens ? await this.revokeAllForUserIn(s, locked, 'password_changed', { kind: 'sdk' }, meta) : [],
    }));
    if (!changed) {
      await this.throttle?.failure(keys);
      await this.notifyFailure({ email: user.email, ip: meta.ip, reason: 'invalid_current_password', user });
      await this.recordPasswordChangeFailure(user, 'invalid_current_password', meta.ip);
      throw new AimError('invalid_credentials', 'current password is wrong');
    }
    await this.throttle?.success(keys);
    const { sessions, sdkTokens } = changed.alongside;
    await this.stopAccess([...sessions, ...sdkTokens]);
    return { sessions: sessions.length, sdkTokens: sdkTokens.length };
  }

  /**
   * Refuses a step a stolen access token must not take (enrolling a second factor locks the owner out) unless the
   * password was proved within AIM_REAUTH_WINDOW: at the sign-in behind the token (`auth_time`), or now. A password
   * given is always checked, like the current password at /auth/password: login throttle, audited (here as
   * `user.reauthentication_failed`), counted toward `failed_logins`; wrong, it is 401 `invalid_credentials`.
   * Neither: 403 `reauthentication_required`.
   */
  async requireRecentSignIn(user: User, proof: SignInProof, ip: string | null, step: ReauthenticatedStep): Promise<void> {
    if (proof.password !== undefined) return this.confirmPassword(user, proof.password, ip, step);
    this.requireRecentAuthTime(proof.authTime, 'send your password as "password", or confirm it at POST /api/v1/auth/reauthenticate');
  }

  /**
   * 403 `reauthentication_required` unless the sign-in behind a token (`auth_time`, seconds) is within
   * AIM_REAUTH_WINDOW. `how` tells the client the way to prove the password again.
   */
  requireRecentAuthTime(authTime: number | undefined, how = 'confirm your password at POST /api/v1/auth/reauthenticate'): void {
    const age = authTime === undefined ? Infinity : this.clock.now() / SECOND - authTime;
    // A small negative age is clock skew between nodes; a sign-in from the future is no proof.
    if (age >= -5 && age <= this.policy.reauthWindowSeconds) return;
    throw new AimError('reauthentication_required', `this step needs a sign-in from the last ${Math.round(this.policy.reauthWindowSeconds / 60)} minutes: ${how}`);
  }

  /**
   * The password again, for a session whose sign-in is older than AIM_REAUTH_WINDOW: checked like a sign-in
   * (throttled, audited, counted toward `failed_logins`), then kept as the session's `auth_time`, so this access
   * token and those its refresh token brings next may take the steps that ask for a recent sign-in.
   */
  async reauthenticate(userId: UserId, familyId: FamilyId, password: string, meta: RequestMeta): Promise<Omit<SessionTokens, 'refreshToken'>> {
    const user = await this.users.get(userId);
    if (!user || user.disabledAt !== null) throw new AimError('invalid_token', 'the account no longer exists');
    await this.confirmPassword(user, password, meta.ip, 'reauthenticate');
    const now = this.clock.now();
    const family = await this.hub.transaction(async (s) => {
      if (!(await s.refreshTokens.markSignedIn(familyId, user.id, now))) return undefined;
      await this.audit.withStore(s.audit).record({
        organizationId: user.organizationId,
        event: 'user.reauthenticated',
        actor: { type: 'user', id: user.id },
        subject: { type: 'session', id: familyId },
        ip: meta.ip,
        data: {},
      });
      return s.refreshTokens.findFamily(familyId);
    });
    // Signed out (or expired) meanwhile: the access token in hand is about to stop too.
    if (!family) throw new AimError('invalid_token', 'this session has ended; sign in again');
    return this.accessFor(user, family);
  }

  private async confirmPassword(user: User, password: string, ip: string | null, step: ReauthenticatedStep): Promise<void> {
    const keys = this.throttle ? await this.throttle.loginKeys(user.email, ip ?? '') : [];
    await this.throttle?.check(keys, () => this.recordReauthFailure(user, 'throttled', step, ip));
    if (!(await this.users.verifyPassword(user.id, password))) {
      await this.throttle?.failure(keys);
      await this.notifyFailure({ email: user.email, ip, reason: 'invalid_current_password', user });
      await this.recordReauthFailure(user, 'invalid_password', step, ip);
      throw new AimError('invalid_credentials', 'the password is wrong');
    }
    await this.throttle?.success(keys);
  }

  private async recordReauthFailure(user: User, reason: 'invalid_password' | 'throttled', step: ReauthenticatedStep, ip: string | null): Promise<void> {
    await this.audit.record({
      organizationId: user.organizationId,
      event: 'user.reauthentication_failed',
      actor: { type: 'user', id: user.id },
      subject: { type: 'user', id: user.id },
      ip,
      data: { reason, step },
    });
  }

  private async notifyFailure(failure: LoginFailure): Promise<void> {
    await Promise.allSettled(this.failureListeners.map(async (listener) => listener(failure)));
  }

  /**
   * Starts a new family of refresh tokens for a user. Sessions cap their lifetime; SDK tokens are named,
   * long-lived credentials that live as long as they keep being used. `authTime` is when the password was proved
   * for this family (a sign-in), null when it was not (an SDK token, made with an access token).
   */
  async startFamily(
    user: User,
    kind: FamilyKind,
    options: { name: string | null; scopes: string[]; maxAgeMs: number; authTime: number | null },
    meta: RequestMeta,
  ): Promise<SessionTokens> {
    const now = this.clock.now();
    const family: RefreshFamily = {
      id: this.random.uuid() as FamilyId,
      kind,
      organizationId: user.organizationId,
      userId: user.id,
      name: options.name,
      scopes: options.scopes,
      createdAt: now,
      expiresAt: now + options.maxAgeMs,
      lastUsedAt: now,
      lastIp: meta.ip,
      userAgent: meta.userAgent,
      revokedAt: null,
      revokedReason: null,
      authTime: options.authTime,
    };
    const { token, record } = this.newRefreshToken(now, kind, family.expiresAt);
    const role = await this.hub.transaction(async (s) => {
      // The user may have been disabled since their password was checked: issue nothing then (same answer as a
      // wrong password), and otherwise hold off a concurrent disable until this family exists for it to revoke.
      // Likewise the role is the one read under that lock: a demotion since the check must not be missed.
      const current = (await s.users.lockIfActive(user.id)) ? await s.users.findById(user.id) : undefined;
      if (!current) throw new AimError('invalid_credentials', 'email or password is wrong');
      // A sign-in whose password was checked before a password change or reset committed may have used the old
      // password; the change has ended (or is about to end) every session, so this one must not start after it.
      if (kind === 'session' && current.passwordChangedAt !== user.passwordChangedAt) {
        throw new AimError('invalid_credentials', 'email or password is wrong');
      }
      await s.refreshTokens.createFamily(family, record);
      await this.audit.withStore(s.audit).record({
        organizationId: user.organizationId,
        event: kind === 'session' ? 'session.created' : 'sdk_token.created',
        actor: { type: 'user', id: user.id },
        subject: { type: kind === 'session' ? 'session' : 'sdk_token', id: family.id },
        ip: meta.ip,
        data: kind === 'sdk' ? { name: options.name } : {},
      });
      return current.role;
    });
    return { ...(await this.accessFor({ ...user, role }, family)), refreshToken: token };
  }

  /**
   * Rotates a refresh token (RFC 9700 §4.14.2). A token presented a second time means it leaked:
   * its whole family is revoked and audited in a transaction that commits, and only then does the request fail.
   * The one exception, off by default: within `AIM_REFRESH_REUSE_GRACE_SECONDS` of its rotation, while the
   * successor is unused, a second presentation is a client retrying after a lost response (see the store).
   */
  async refresh(input: { refreshToken: string; kind: FamilyKind; scope?: string[] } & RequestMeta): Promise<SessionTokens> {
    const parsed = parseRefreshToken(input.refreshToken);
    if (!parsed) throw new AimError('invalid_token', 'refresh token is malformed');
    const now = this.clock.now();
    // The successor's expiry is capped by the family's in the store, which knows it.
    const { token, record } = this.newRefreshToken(now, input.kind, Number.MAX_SAFE_INTEGER);
    const outcome = await this.hub.transaction(async (s) => {
      const result = await s.refreshTokens.rotateRefreshToken({
        tokenId: parsed.id,
        secretHash: sha256Hex(parsed.secret),
        kind: input.kind,
        now,
        reuseGraceMs: this.policy.reuseGraceSeconds * SECOND,
        next: record,
        ip: input.ip,
        userAgent: input.userAgent,
      });
      if (result.kind === 'invalid' || result.kind === 'expired') return result;
      const audit = this.audit.withStore(s.audit);
      const subject = { type: result.family.kind === 'session' ? 'session' : 'sdk_token', id: result.family.id };
      if (result.kind === 'reused') {
        await audit.record({
          organizationId: result.family.organizationId,
          event: result.family.kind === 'session' ? 'refresh_token.reuse_detected' : 'sdk_token.reuse_detected',
          actor: { type: 'anonymous' },
          subject,
          ip: input.ip,
          data: { token_id: parsed.id, user_id: result.family.userId, family_created_at: result.family.createdAt },
        });
      } else if (result.kind === 'rotated' && result.family.kind === 'session') {
        await audit.record({
          organizationId: result.family.organizationId,
          event: 'session.refreshed',
          actor: { type: 'user', id: result.family.userId },
          subject,
          ip: input.ip,
          ...(result.retried && { data: { retried_after_lost_response: true } }),
        });
      }
      return result;
    });

    switch (outcome.kind) {
      case 'invalid':
        throw new AimError('invalid_token', 'refresh token is not valid');
      case 'expired':
        throw new AimError('invalid_token', 'refresh token expired; sign in again');
      case 'revoked':
        throw new AimError('invalid_token', 'refresh token was revoked');
      case 'reused':
        await this.revokeAccess(outcome.family.id, now);
        await Promise.allSettled(this.reuseListeners.map(async (listener) => listener(outcome.family, input.ip)));
        throw new AimError('refresh_token_reused', 'refresh token was already used; every token of this session is now revoked');
      case 'rotated': {
        const user = await this.users.get(outcome.family.userId);
        if (!user || user.disabledAt !== null) throw new AimError('invalid_token', 'the account is disabled');
        return { ...(await this.accessFor(user, outcome.family, input.scope)), refreshToken: token };
      }
    }
  }

  /** Ends one family: its refresh token stops now, its access tokens stop on every node. */
  async revoke(familyId: FamilyId, reason: RevokeReason, actor: { type: 'user'; id: string }, meta: RequestMeta): Promise<boolean> {
    const family = await this.hub.refreshTokens.findFamily(familyId);
    if (!family) return false;
    const now = this.clock.now();
    const revoked = await this.hub.transaction(async (s) => {
      const changed = await s.refreshTokens.revokeFamily(familyId, reason, now);
      if (changed) {
        await this.audit.withStore(s.audit).record({
          organizationId: family.organizationId,
          event: family.kind === 'session' ? (reason === 'logout' ? 'session.logged_out' : 'session.revoked') : 'sdk_token.revoked',
          actor,
          subject: { type: family.kind === 'session' ? 'session' : 'sdk_token', id: familyId },
          ip: meta.ip,
          data: { reason },
        });
      }
      return changed;
    });
    await this.revokeAccess(familyId, now);
    return revoked;
  }

  /**
   * Revokes every family of a user (optionally of one kind, sparing one), e.g. after a password change, or when an
   * admin (`actor`) offboards them.
   */
  async revokeAllForUser(user: User, reason: RevokeReason, options: RevokeUserFamilies, meta: RequestMeta): Promise<number> {
    const ids = await this.hub.transaction((s) => this.revokeAllForUserIn(s, user, reason, options, meta));
    await this.stopAccess(ids);
    return ids.length;
  }

  /**
   * The same inside the caller's transaction, so the revocation commits with whatever caused it; after the commit,
   * `stopAccess(ids)` stops the access tokens those families issued.
   */
  async revokeAllForUserIn(s: Stores, user: User, reason: RevokeReason, options: RevokeUserFamilies, meta: RequestMeta): Promise<FamilyId[]> {
    const { actor, ...which } = options;
    const revoked = await s.refreshTokens.revokeUserFamilies(user.id, reason, this.clock.now(), which);
    if (revoked.length > 0) {
      await this.audit.withStore(s.audit).record({
        organizationId: user.organizationId,
        event: options.kind === 'sdk' ? 'sdk_token.revoked' : 'session.revoked',
        actor: actor ?? { type: 'user', id: user.id },
        subject: { type: 'user', id: user.id },
        ip: meta.ip,
        data: { reason, count: revoked.length },
      });
    }
    return revoked;
  }

  /** Access tokens of revoked families stop on their next request, on every node. */
  async stopAccess(ids: FamilyId[]): Promise<void> {
    const now = this.clock.now();
    await Promise.all(ids.map((id) => this.revokeAccess(id, now)));
  }

  /**
   * A user's signed-in sessions that could still refresh, newest first: not revoked, and neither the family nor its
   * newest refresh token (issued at the last use, living AIM_REFRESH_TOKEN_TTL) expired. `expiresAt` is the sooner
   * of the two: when the session ends unless it is used again.
   */
  async liveSessions(userId: UserId): Promise<RefreshFamily[]> {
    const now = this.clock.now();
    const families = await this.hub.refreshTokens.listFamilies(userId, 'session', { liveAt: now });
    return families.map((f) => this.untilIdle(f)).filter((f) => f.revokedAt === null && f.expiresAt > now);
  }

  /**
   * Signs out one of the user's own sessions (the current one too: that is a logout), audited as `session.revoked`.
   * Someone else's session, an SDK token's family or an unknown id are all the same 404, so ids are no oracle.
   */
  async revokeOwnSession(userId: UserId, id: string, meta: RequestMeta): Promise<RefreshFamily> {
    const family = isUuid(id) ? await this.hub.refreshTokens.findFamily(id as FamilyId) : undefined;
    if (!family || family.kind !== 'session' || family.userId !== userId) throw notFound('session');
    await this.revoke(family.id, 'user_revoked', { type: 'user', id: userId }, meta);
    return this.untilIdle((await this.hub.refreshTokens.findFamily(family.id)) ?? family);
  }

  /** A session family with `expiresAt` brought forward to its newest refresh token's expiry, if that comes first. */
  private untilIdle(family: RefreshFamily): RefreshFamily {
    const idle = (family.lastUsedAt ?? family.createdAt) + this.policy.refreshTtlSeconds * SECOND;
    return { ...family, expiresAt: Math.min(family.expiresAt, idle) };
  }

  /** Signs out every other live session of the user; the one making the request stays. Answers how many. */
  async revokeOtherSessions(userId: UserId, current: FamilyId, meta: RequestMeta): Promise<number> {
    const user = await this.users.get(userId);
    if (!user || user.disabledAt !== null) throw new AimError('invalid_token', 'the account no longer exists');
    return this.revokeAllForUser(user, 'user_revoked', { kind: 'session', except: current }, meta);
  }

  /** Finds the family behind a refresh token without using it (logout, RFC 7009 revocation). */
  async familyOfToken(refreshToken: string): Promise<RefreshFamily | undefined> {
    const parsed = parseRefreshToken(refreshToken);
    if (!parsed) return undefined;
    return (await this.hub.refreshTokens.findRefreshToken(parsed.id, sha256Hex(parsed.secret)))?.family;
  }

  /**
   * A refresh token that could be used right now, with when it was issued and when it expires (RFC 7662
   * introspection), without using it; undefined when it is unknown, spent, revoked or expired.
   */
  async liveRefreshToken(refreshToken: string): Promise<{ family: RefreshFamily; issuedAt: number; expiresAt: number } | undefined> {
    const parsed = parseRefreshToken(refreshToken);
    const found = parsed && (await this.hub.refreshTokens.findRefreshToken(parsed.id, sha256Hex(parsed.secret)));
    if (!found || found.family.revokedAt !== null || found.usedAt !== null) return undefined;
    const expiresAt = Math.min(found.expiresAt, found.family.expiresAt);
    if (expiresAt <= this.clock.now()) return undefined;
    return { family: found.family, issuedAt: found.createdAt, expiresAt };
  }

  private async accessFor(user: User, family: RefreshFamily, narrowTo?: string[]) {
    const granted = family.kind === 'session' ? [...ROLE_SCOPES[user.role]] : intersect(family.scopes, ROLE_SCOPES[user.role]);
    const scopes = narrowTo ? granted.filter((s) => narrowTo.includes(s)) : granted;
    const { token, expiresIn } = await this.tokens.issue({
      sub: user.id,
      org: user.organizationId,
      kind: family.kind,
      scope: scopes,
      sid: family.id,
      role: user.role,
      ...(family.authTime !== null && { authTime: Math.floor(family.authTime / SECOND) }),
    });
    return { accessToken: token, expiresIn, user, family };
  }

  /**
   * Session refresh tokens live AIM_REFRESH_TOKEN_TTL past their issue; SDK refresh tokens live as long as their
   * family (rotation and reuse detection guard them, and an SDK run monthly must not find its token expired).
   */
  private newRefreshToken(now: number, kind: FamilyKind, familyExpiresAt: number): { token: string; record: NewRefreshToken } {
    const id = this.random.uuid();
    const secret = this.random.bytes(32).toString('base64url');
    const expiresAt = kind === 'sdk' ? familyExpiresAt : Math.min(now + this.policy.refreshTtlSeconds * SECOND, familyExpiresAt);
    return { token: formatRefreshToken(id, secret), record: { id, secretHash: sha256Hex(secret), createdAt: now, expiresAt } };
  }

  private revokeAccess(familyId: string, now: number): Promise<void> {
    return this.revocations.revoke(familyId, now + this.tokens.lifetime * SECOND + 60 * SECOND);
  }

  /**
   * `session.login_failed` in the account's organization, so its admins see attempts against their users; an
   * unknown email in the system chain. One append either way, so timing does not tell the two apart. Never the
   * password or code.
   */
  private async recordLoginFailure(input: { email: string; ip: string | null }, reason: LoginFailureReason, user?: User): Promise<void> {
    await this.audit.record({
      organizationId: user?.organizationId ?? SYSTEM_ORGANIZATION,
      event: 'session.login_failed',
      actor: { type: 'anonymous' },
      ...(user && { subject: { type: 'user', id: user.id } }),
      ip: input.ip,
      data: { email: input.email.trim().toLowerCase().slice(0, 320), reason },
    });
  }

  private async recordPasswordChangeFailure(user: User, reason: 'invalid_current_password' | 'throttled', ip: string | null): Promise<void> {
    await this.audit.record({
      organizationId: user.organizationId,
      event: 'user.password_change_failed',
      actor: { type: 'user', id: user.id },
      subject: { type: 'user', id: user.id },
      ip,
      data: { reason },
    });
  }
}

/** An SDK token never carries more than its user's role allows today, whatever it was created with. */
function intersect(requested: string[], allowed: readonly string[]): string[] {
  if (allowed.includes('admin')) return requested;
  return requested.filter((s) => allowed.includes(s));
}

export type { Role };
