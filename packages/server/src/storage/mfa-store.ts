import type { Kysely, Selectable } from 'kysely';
import type { OrgId, UserId } from '../core/ids.js';
import type { MfaStore } from '../mfa/store.js';
import type { NewRecoveryCode, TotpFactor } from '../mfa/types.js';
import { KyselyStore } from './kysely-store.js';
import type { Tables } from './tables.js';

function toFactor(row: Selectable<Tables['mfa_totp']>): TotpFactor {
  return {
    userId: row.user_id as UserId,
    secretSealed: row.secret_sealed,
    createdAt: row.created_at,
    enabledAt: row.enabled_at,
    lastUsedStep: row.last_used_step,
  };
}

/** A user's recovery codes become exactly `codes` (inside the caller's transaction). */
async function replaceCodes(trx: Kysely<Tables>, userId: UserId, codes: NewRecoveryCode[], now: number): Promise<void> {
  await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
  if (codes.length === 0) return;
  await trx
    .insertInto('mfa_recovery_codes')
    .values(codes.map((c) => ({ id: c.id, user_id: userId, code_hash: c.codeHash, created_at: now, used_at: null })))
    .execute();
}

export class KyselyMfaStore extends KyselyStore implements MfaStore {
  async findTotp(userId: UserId): Promise<TotpFactor | undefined> {
    const row = await this.db.selectFrom('mfa_totp').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row && toFactor(row);
  }

  async savePendingTotp(userId: UserId, secretSealed: string, now: number): Promise<boolean> {
    const result = await this.db
      .insertInto('mfa_totp')
      .values({ user_id: userId, secret_sealed: secretSealed, created_at: now, enabled_at: null, last_used_step: null })
      .onConflict((oc) =>
        oc
          .column('user_id')
          .doUpdateSet({ secret_sealed: secretSealed, created_at: now, last_used_step: null })
          .where('mfa_totp.enabled_at', 'is', null),
      )
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async enableTotp(userId: UserId, secretSealed: string, step: number, recoveryCodes: NewRecoveryCode[], now: number): Promise<boolean> {
    return this.atomically(async (trx) => {
      const enabled = await trx
        .updateTable('mfa_totp')
        .set({ enabled_at: now, last_used_step: step })
        .where('user_id', '=', userId)
        .where('secret_sealed', '=', secretSealed)
        .where('enabled_at', 'is', null)
        .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
        .executeTakeFirst();
      if (enabled.numUpdatedRows === 0n) return false;
      await replaceCodes(trx, userId, recoveryCodes, now);
      return true;
    });
  }

  async useTotpStep(userId: UserId, step: number): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_totp')
      .set({ last_used_step: step })
      .where('user_id', '=', userId)
      .where('enabled_at', 'is not', null)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async consumeRecoveryCode(userId: UserId, codeHash: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_recovery_codes')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async countUnusedRecoveryCodes(userId: UserId): Promise<number> {
    const row = await this.db
      .selectFrom('mfa_recovery_codes')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async deleteTotp(userId: UserId): Promise<boolean> {
    return this.atomically(async (trx) => {
      await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
      const removed = await trx.deleteFrom('mfa_totp').where('user_id', '=', userId).where('enabled_at', 'is not', null).executeTakeFirst();
      return removed.numDeletedRows > 0n;
    });
  }

  async removeAllFactors(userId: UserId): Promise<boolean> {
    return this.atomically(async (trx) => {
      await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
      const removed = await trx.deleteFrom('mfa_totp').where('user_id', '=', userId).returning('enabled_at').execute();
      return removed.some((r) => r.enabled_at !== null);
    });
  }

  async replaceRecoveryCodes(userId: UserId, recoveryCodes: NewRecoveryCode[], now: number): Promise<boolean> {
    return this.atomically(async (trx) => {
      // Locks the factor row (PostgreSQL), so a concurrent disable or reset cannot interleave.
      let q = trx.selectFrom('mfa_totp').select('user_id').where('user_id', '=', userId).where('enabled_at', 'is not', null);
      if (this.dialect === 'postgres') q = q.forUpdate();
      if (!(await q.executeTakeFirst())) return false;
      await replaceCodes(trx, userId, recoveryCodes, now);
      return true;
    });
  }

  async enrolledInOrganization(orgId: OrgId): Promise<Set<UserId>> {
    const rows = await this.db
      .selectFrom('mfa_totp as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select('m.user_id')
      .where('u.organization_id', '=', orgId)
      .where('m.enabled_at', 'is not', null)
      .execute();
    return new Set(rows.map((r) => r.user_id as UserId));
  }
}
