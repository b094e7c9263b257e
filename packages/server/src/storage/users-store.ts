import type { Role } from '@aim/protocol';
import type { Kysely, Selectable } from 'kysely';
import { AimError } from '../core/errors.js';
import type { OrgId, UserId } from '../core/ids.js';
import type { UserChange, UserChangeOutcome, UserStore } from '../users/store.js';
import type { Organization, User, UserWithSecret } from '../users/types.js';
import { isUniqueViolation } from './errors.js';
import { KyselyStore } from './kysely-store.js';
import type { Tables } from './tables.js';
import type { Updateable } from 'kysely';

type UserRow = Selectable<Tables['users']>;

function toUser(row: UserRow): UserWithSecret {
  return {
    id: row.id as UserId,
    organizationId: row.organization_id as OrgId,
    email: row.email,
    role: row.role as Role,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    passwordChangedAt: row.password_changed_at,
    disabledAt: row.disabled_at,
    passwordHash: row.password_hash,
  };
}

function withoutSecret({ passwordHash: _hidden, ...user }: UserWithSecret): User {
  return user;
}

export class KyselyUserStore extends KyselyStore implements UserStore {
  async createOrganization(org: Organization): Promise<void> {
    await this.db.insertInto('organizations').values({ id: org.id, name: org.name, created_at: org.createdAt }).execute();
  }

  async createUser(user: UserWithSecret): Promise<void> {
    try {
      await this.db
        .insertInto('users')
        .values({
          id: user.id,
          organization_id: user.organizationId,
          email: user.email,
          password_hash: user.passwordHash,
          role: user.role,
          created_at: user.createdAt,
          updated_at: user.updatedAt,
          password_changed_at: user.passwordChangedAt,
          disabled_at: user.disabledAt,
          deleted_at: null,
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new AimError('conflict', 'a user with this email already exists');
      throw error;
    }
  }

  async findByEmail(email: string): Promise<UserWithSecret | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).where('deleted_at', 'is', null).executeTakeFirst();
    return row && toUser(row);
  }

  async findById(id: UserId): Promise<UserWithSecret | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    return row && toUser(row);
  }

  async findInOrganization(orgId: OrgId, id: UserId): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .where('organization_id', '=', orgId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row && withoutSecret(toUser(row));
  }

  async listByOrganization(orgId: OrgId): Promise<User[]> {
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where('organization_id', '=', orgId)
      .where('deleted_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => withoutSecret(toUser(r)));
  }

  async countUsers(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async changeUser(orgId: OrgId, id: UserId, change: UserChange, now: number): Promise<UserChangeOutcome> {
    return this.atomically(async (trx) => {
      await this.lock(trx, `users.admins:${orgId}`);
      const row = await trx
        .selectFrom('users')
        .selectAll()
        .where('id', '=', id)
        .where('organization_id', '=', orgId)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (!row) return { kind: 'not_found' };
      const before = withoutSecret(toUser(row));
      const set = changeOf(before, change, now);
      if (!set) return { kind: 'unchanged', user: before };

      const activeAdminAfter = (set.role ?? before.role) === 'admin' && (set.disabled_at === undefined ? before.disabledAt : set.disabled_at) === null;
      if (before.role === 'admin' && before.disabledAt === null && !activeAdminAfter) {
        const others = await trx
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .where('organization_id', '=', orgId)
          .where('role', '=', 'admin')
          .where('disabled_at', 'is', null)
          .where('deleted_at', 'is', null)
          .where('id', '!=', id)
          .executeTakeFirstOrThrow();
        if (Number(others.n) === 0) return { kind: 'last_admin', user: before };
      }
      await trx.updateTable('users').set(set).where('id', '=', id).execute();
      const after = await trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return { kind: 'changed', before, user: withoutSecret(toUser(after)) };
    });
  }

  async lockIfActive(id: UserId, mode: 'share' | 'update' = 'share'): Promise<boolean> {
    let q = this.db.selectFrom('users').select('disabled_at').where('id', '=', id).where('deleted_at', 'is', null);
    if (this.dialect === 'postgres') q = mode === 'share' ? q.forShare() : q.forNoKeyUpdate();
    const row = await q.executeTakeFirst();
    return row !== undefined && row.disabled_at === null;
  }

  async updatePassword(id: UserId, passwordHash: string, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, password_changed_at: now, updated_at: now })
      .where('id', '=', id)
      .execute();
  }
}

/** The columns a change writes, or undefined when the account already is as asked. */
function changeOf(user: User, change: UserChange, now: number): Updateable<Tables['users']> | undefined {
  switch (change.kind) {
    case 'role':
      return user.role === change.role ? undefined : { role: change.role, updated_at: now };
    case 'disable':
      return user.disabledAt !== null ? undefined : { disabled_at: now, updated_at: now };
    case 'enable':
      return user.disabledAt === null ? undefined : { disabled_at: null, updated_at: now };
    case 'delete':
      // An empty hash never verifies (verifyPassword answers false), and the tombstone email is not an address.
      return { email: change.tombstoneEmail, password_hash: '', disabled_at: user.disabledAt ?? now, deleted_at: now, updated_at: now };
  }
}
