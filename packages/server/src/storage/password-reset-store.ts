import type { Selectable } from 'kysely';
import type { OrgId, UserId } from '../core/ids.js';
import type { PasswordReset, PasswordResetStore } from '../password-resets/store.js';
import { KyselyStore } from './kysely-store.js';
import type { Tables } from './tables.js';

function toReset(row: Selectable<Tables['password_resets']>): PasswordReset {
  return {
    id: row.id,
    userId: row.user_id as UserId,
    organizationId: row.organization_id as OrgId,
    secretHash: row.secret_hash,
    createdBy: row.created_by as UserId | null,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    usedAt: row.used_at === null ? null : Number(row.used_at),
  };
}

export class KyselyPasswordResetStore extends KyselyStore implements PasswordResetStore {
  /** One upsert on the unique user_id, so two links made at once for one user cannot both stay (nor fail). */
  async replacePasswordReset(reset: PasswordReset): Promise<void> {
    const row = {
      id: reset.id,
      user_id: reset.userId,
      organization_id: reset.organizationId,
      secret_hash: reset.secretHash,
      created_by: reset.createdBy,
      created_at: reset.createdAt,
      expires_at: reset.expiresAt,
      used_at: reset.usedAt,
    };
    const { user_id: _key, ...replaced } = row;
    await this.db
      .insertInto('password_resets')
      .values(row)
      .onConflict((oc) => oc.column('user_id').doUpdateSet(replaced))
      .execute();
  }

  async findPasswordReset(id: string): Promise<PasswordReset | undefined> {
    const row = await this.db.selectFrom('password_resets').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toReset(row);
  }

  async usePasswordReset(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('password_resets')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async deletePasswordResets(userId: UserId): Promise<void> {
    await this.db.deleteFrom('password_resets').where('user_id', '=', userId).execute();
  }
}
