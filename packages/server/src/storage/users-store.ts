import type { Role } from '@aim/protocol';
import type { Kysely, Selectable } from 'kysely';
import { AimError } from '../core/errors.js';
import type { OrgId, UserId } from '../core/ids.js';
import type { UserStore } from '../users/store.js';
import type { Organization, User, UserWithSecret } from '../users/types.js';
import { isUniqueViolation } from './errors.js';
import { KyselyStore } from './kysely-store.js';
import type { Tables } from './tables.js';

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
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new AimError('conflict', 'a user with this email already exists');
      throw error;
    }
  }

  async findByEmail(email: string): Promise<UserWithSecret | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row && toUser(row);
  }

  async findById(id: UserId): Promise<UserWithSecret | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async findInOrganization(orgId: OrgId, id: UserId): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .where('organization_id', '=', orgId)
      .executeTakeFirst();
    return row && withoutSecret(toUser(row));
  }

  async listByOrganization(orgId: OrgId): Promise<User[]> {
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where('organization_id', '=', orgId)
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

  async updateRole(orgId: OrgId, id: UserId, role: Role, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ role, updated_at: now })
      .where('id', '=', id)
      .where('organization_id', '=', orgId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async updatePassword(id: UserId, passwordHash: string, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, password_changed_at: now, updated_at: now })
      .where('id', '=', id)
      .execute();
  }
}
