import type { Role } from '@aim/protocol';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { constantTimeEqual } from '../core/hashing.js';
import { AimError, notFound } from '../core/errors.js';
import type { OrgId, UserId } from '../core/ids.js';
import type { Random } from '../core/random.js';
import { personalWords, tooEasyToGuess } from './password-strength.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PasswordHasher } from './passwords.js';
import type { StoreHub, Stores } from '../storage/stores.js';
import type { UserChangeOutcome } from './store.js';
import { normalizeEmail, type User, type UserWithSecret } from './types.js';

export interface CreateUserInput {
  email: string;
  password: string;
  role: Role;
  /** Join this organization; without it a new organization is created for the user. */
  organizationId?: OrgId;
  organizationName?: string;
}

export type Actor = { type: 'user'; id: string } | { type: 'system' };

/** The outcome of a password check; `account` is the user a failure was against, when the email names one. */
export type PasswordCheck =
  | { ok: true; user: User }
  | { ok: false; reason: 'invalid_credentials' | 'account_disabled'; account?: User };

export class UserService {
  /** A real argon2id hash of a random password: unknown emails are checked against it so they take as long. */
  private decoyHash: Promise<string>;

  constructor(
    private readonly hub: StoreHub,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly hasher: PasswordHasher = new PasswordHasher(),
  ) {
    this.decoyHash = hasher.hash(random.bytes(32).toString('base64url'));
  }

  async create(input: CreateUserInput, actor: Actor): Promise<User> {
    checkPasswordPolicy(input.password, input.email);
    const email = normalizeEmail(input.email);
    // Hash before the transaction: argon2 takes tens of milliseconds and must not hold a write lock.
    const passwordHash = await this.hasher.hash(input.password);
    const now = this.clock.now();
    const organizationId = input.organizationId ?? (this.random.uuid() as OrgId);
    const user: UserWithSecret = {
      id: this.random.uuid() as UserId,
      organizationId,
      email,
      role: input.role,
      createdAt: now,
      updatedAt: now,
      passwordChangedAt: now,
      disabledAt: null,
      passwordHash,
    };
    await this.hub.transaction(async (s) => {
      const audit = this.audit.withStore(s.audit);
      if (!input.organizationId) {
        const name = input.organizationName ?? email.split('@')[1] ?? email;
        await s.users.createOrganization({ id: organizationId, name, createdAt: now });
        await audit.record({ organizationId, event: 'organization.created', actor, subject: { type: 'organization', id: organizationId } });
      }
      await s.users.createUser(user);
      await audit.record({ organizationId, event: 'user.created', actor, subject: { type: 'user', id: user.id }, data: { email, role: user.role } });
    });
    const { passwordHash: _hidden, ...visible } = user;
    return visible;
  }

  /** Creates the first admin from configuration, only while no user exists at all. */
  async ensureFirstAdmin(email: string, password: string): Promise<User | undefined> {
    if ((await this.hub.users.countUsers()) > 0) return undefined;
    try {
      return await this.create({ email, password, role: 'admin' }, { type: 'system' });
    } catch (error) {
      // Another node created it first.
      if (error instanceof AimError && error.code === 'conflict') return undefined;
      throw error;
    }
  }

  /**
   * Checks an email and password. Unknown email and wrong password answer the same failure after the same argon2
   * work, so neither the answer nor its timing tells which emails exist. A failure names the account it was against,
   * when the email names one (for its organization's audit log), and whether the password was right for a disabled
   * account; what the caller answers stays the same.
   */
  async checkPassword(email: string, password: string): Promise<PasswordCheck> {
    const user = await this.hub.users.findByEmail(normalizeEmail(email));
    const ok = await this.hasher.verify(user?.passwordHash ?? (await this.decoyHash), password);
    if (!user) return { ok: false, reason: 'invalid_credentials' };
    const { passwordHash: _hidden, ...visible } = user;
    if (!ok) return { ok: false, reason: 'invalid_credentials', account: visible };
    if (user.disabledAt !== null) return { ok: false, reason: 'account_disabled', account: visible };
    return { ok: true, user: visible };
  }

  /** Whether `password` is the active account's current password (re-authentication of a signed-in person). */
  async verifyPassword(id: UserId, password: string): Promise<boolean> {
    const user = await this.hub.users.findById(id);
    const ok = await this.hasher.verify(user?.passwordHash ?? (await this.decoyHash), password);
    return ok && user !== undefined && user.disabledAt === null;
  }

  /** The account behind an email, if any (no password involved: for attributing refused attempts). */
  async findByEmail(email: string): Promise<User | undefined> {
    const user = await this.hub.users.findByEmail(normalizeEmail(email));
    if (!user) return undefined;
    const { passwordHash: _hidden, ...visible } = user;
    return visible;
  }

  async get(id: UserId): Promise<User | undefined> {
    const user = await this.hub.users.findById(id);
    if (!user) return undefined;
    const { passwordHash: _hidden, ...visible } = user;
    return visible;
  }

  list(orgId: OrgId): Promise<User[]> {
    return this.hub.users.listByOrganization(orgId);
  }

  async getInOrganization(orgId: OrgId, id: UserId): Promise<User> {
    const user = await this.hub.users.findInOrganization(orgId, id);
    if (!user) throw notFound('user');
    return user;
  }

  /** Answers the user and the role they had just before this change (read in its transaction, not earlier). */
  async changeRole(orgId: OrgId, id: UserId, role: Role, actor: { type: 'user'; id: string }): Promise<{ user: User; before: Role }> {
    if (id === actor.id) throw new AimError('forbidden', 'you cannot change your own role');
    const outcome = await this.hub.transaction(async (s) => {
      const result = await s.users.changeUser(orgId, id, { kind: 'role', role }, this.clock.now());
      if (result.kind === 'changed') {
        await this.audit.withStore(s.audit).record({ organizationId: orgId, event: 'user.updated', actor, subject: { type: 'user', id }, data: { role } });
      }
      return result;
    });
    const user = settled(outcome, 'demoted');
    return { user, before: outcome.kind === 'changed' ? outcome.before.role : user.role };
  }

  /**
   * Disables or enables an account; disabling refuses the organization's last active admin. Answers the user and
   * whether this call changed it (disabling a disabled account changes nothing and records nothing).
   */
  async setDisabled(orgId: OrgId, id: UserId, disabled: boolean, actor: Actor, ip: string | null): Promise<{ user: User; changed: boolean }> {
    const outcome = await this.hub.transaction(async (s) => {
      const result = await s.users.changeUser(orgId, id, { kind: disabled ? 'disable' : 'enable' }, this.clock.now());
      // A reset link made before stays dead after the account is enabled again, like every other credential.
      if (disabled && result.kind !== 'not_found') await s.passwordResets.deletePasswordResets(id);
      if (result.kind === 'changed') {
        await this.audit.withStore(s.audit).record({
          organizationId: orgId,
          event: disabled ? 'user.disabled' : 'user.enabled',
          actor,
          subject: { type: 'user', id },
          ip,
        });
      }
      return result;
    });
    return { user: settled(outcome, 'disabled'), changed: outcome.kind === 'changed' };
  }

  /**
   * Deletes an account (soft: the row becomes a tombstone that API keys, sessions and audit entries still point at;
   * its email is freed, its password hash, TOTP secret and recovery codes are removed). Revoke credentials first.
   */
  async remove(orgId: OrgId, id: UserId, actor: Actor, ip: string | null): Promise<void> {
    const outcome = await this.hub.transaction(async (s) => {
      const result = await s.users.changeUser(orgId, id, { kind: 'delete', tombstoneEmail: `deleted:${id}` }, this.clock.now());
      if (result.kind !== 'changed') return result;
      await s.mfa.removeAllFactors(id);
      await s.passwordResets.deletePasswordResets(id);
      await this.audit.withStore(s.audit).record({
        organizationId: orgId,
        event: 'user.deleted',
        actor,
        subject: { type: 'user', id },
        ip,
        data: { email: result.before.email, role: result.before.role },
      });
      return result;
    });
    settled(outcome, 'deleted');
  }

  /**
   * Verifies the current password, then stores the new one and runs `alongside` in the same transaction (the caller
   * ends the user's other sessions there, so a changed password always means they are gone). Undefined when the
   * current password is wrong, or was changed by someone else since it was checked; the caller throttles, audits
   * and answers that. A user disabled meanwhile is `invalid_token`, as for a sign-in.
   */
  async changePassword<T>(
    id: UserId,
    current: string,
    next: string,
    ip: string | null,
    alongside: (s: Stores, user: User) => Promise<T>,
  ): Promise<{ user: User; alongside: T } | undefined> {
    const user = await this.hub.users.findById(id);
    if (!user || !(await this.hasher.verify(user.passwordHash, current))) return undefined;
    checkPasswordPolicy(next, user.email);
    // Hashing stays outside the transaction: argon2 takes tens of milliseconds and must not hold a write lock.
    const passwordHash = await this.hasher.hash(next);
    const { passwordHash: _hidden, ...visible } = user;
    return this.hub.transaction(async (s) => {
      // The user's row first, the lock order of disable, delete and reset, so none of them can deadlock with this.
      if (!(await s.users.lockIfActive(id, 'update'))) throw new AimError('invalid_token', 'the account no longer exists');
      // Two changes checked against the same old password: only the first to lock may write (argon2 salts every
      // hash, so an unchanged hash means an unchanged password).
      const locked = await s.users.findById(id);
      if (!locked || !constantTimeEqual(locked.passwordHash, user.passwordHash)) return undefined;
      const now = this.clock.now();
      await s.users.updatePassword(id, passwordHash, now);
      // The owner knows their password again: a reset link made for them meanwhile is no longer needed.
      await s.passwordResets.deletePasswordResets(id);
      await this.audit.withStore(s.audit).record({
        organizationId: user.organizationId,
        event: 'user.password_changed',
        actor: { type: 'user', id },
        subject: { type: 'user', id },
        ip,
      });
      return { user: { ...visible, passwordChangedAt: now }, alongside: await alongside(s, visible) };
    });
  }
}

/** The user after a change, or the catalogued error that explains why there is none. */
function settled(outcome: UserChangeOutcome, verb: string): User {
  switch (outcome.kind) {
    case 'changed':
    case 'unchanged':
      return outcome.user;
    case 'not_found':
      throw notFound('user');
    case 'last_admin':
      throw new AimError('conflict', `the organization's last active admin cannot be ${verb}; make another user admin first`);
  }
}

/**
 * NIST SP 800-63B: length is what matters, no composition rules, and no password that is common or guessable from
 * a list or from the person's own email (`tooEasyToGuess`).
 */
export function checkPasswordPolicy(password: string, email?: string): void {
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw new AimError('invalid_request', `password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw new AimError('invalid_request', `password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
  if (tooEasyToGuess(password, email ? personalWords(email) : [])) {
    throw new AimError('invalid_request', PASSWORD_TOO_EASY);
  }
}

export const PASSWORD_TOO_EASY =
  'password is too easy to guess (a common password, a keyboard or number sequence, a repeat, or built from your email): a few unrelated words make a strong one';
