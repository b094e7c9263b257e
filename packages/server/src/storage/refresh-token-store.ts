import type { Kysely, Selectable } from 'kysely';
import { constantTimeEqual } from '../core/hashing.js';
import type { FamilyId, OrgId, UserId } from '../core/ids.js';
import type { RefreshTokenStore, RotateRequest } from '../sessions/store.js';
import type { FamilyKind, NewRefreshToken, RefreshFamily, RevokeReason, RotateOutcome } from '../sessions/types.js';
import { KyselyStore } from './kysely-store.js';
import type { Tables } from './tables.js';

type FamilyRow = Selectable<Tables['refresh_families']>;

function toFamily(row: FamilyRow): RefreshFamily {
  return {
    id: row.id as FamilyId,
    kind: row.kind as FamilyKind,
    organizationId: row.organization_id as OrgId,
    userId: row.user_id as UserId,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    lastIp: row.last_ip,
    userAgent: row.user_agent,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    authTime: row.auth_time,
  };
}

export class KyselyRefreshTokenStore extends KyselyStore implements RefreshTokenStore {
  async createFamily(family: RefreshFamily, first: NewRefreshToken): Promise<void> {
    await this.atomically(async (trx) => {
      await trx
        .insertInto('refresh_families')
        .values({
          id: family.id,
          kind: family.kind,
          organization_id: family.organizationId,
          user_id: family.userId,
          name: family.name,
          scopes: JSON.stringify(family.scopes),
          created_at: family.createdAt,
          expires_at: family.expiresAt,
          last_used_at: family.lastUsedAt,
          last_ip: family.lastIp,
          user_agent: family.userAgent,
          revoked_at: null,
          revoked_reason: null,
          auth_time: family.authTime,
        })
        .execute();
      await insertToken(trx, family.id, first);
    });
  }

  async rotateRefreshToken(input: RotateRequest): Promise<RotateOutcome> {
    return this.atomically((trx) => this.rotateIn(trx, input));
  }

  private async rotateIn(trx: Kysely<Tables>, input: RotateRequest): Promise<RotateOutcome> {
    const found = await findTokenWithFamily(trx, input.tokenId, input.secretHash);
    if (!found || found.family.kind !== input.kind) return { kind: 'invalid' };
    const { token, family } = found;
    if (family.revokedAt !== null) return { kind: 'revoked', family };
    if (token.expires_at <= input.now || family.expiresAt <= input.now) return { kind: 'expired' };

    // The compare-and-swap: only one caller can move used_at from NULL.
    const claimed = await claim(trx, input.tokenId, input.now, input.next.id);
    const retried = !claimed && (await this.retryAfterLostResponse(trx, input, token));
    if (!claimed && !retried) {
      await trx
        .updateTable('refresh_families')
        .set({ revoked_at: input.now, revoked_reason: 'reuse_detected' })
        .where('id', '=', family.id)
        .where('revoked_at', 'is', null)
        .execute();
      return { kind: 'reused', family: { ...family, revokedAt: input.now, revokedReason: 'reuse_detected' } };
    }
    await insertToken(trx, family.id, { ...input.next, expiresAt: Math.min(input.next.expiresAt, family.expiresAt) });
    await trx
      .updateTable('refresh_families')
      .set({ last_used_at: input.now, last_ip: input.ip, user_agent: input.userAgent })
      .where('id', '=', family.id)
      .execute();
    return { kind: 'rotated', family: { ...family, lastUsedAt: input.now, lastIp: input.ip }, retried };
  }

  /**
   * A token rotated moments ago (within the grace) whose successor nobody has used: the client never got the
   * answer. The successor is retired by the same compare-and-swap, so if it did reach someone, their use of it is
   * reuse; it keeps no `replaced_by`, so it can never be retried itself. Outside the grace, or once the successor
   * was used, this is reuse.
   */
  private async retryAfterLostResponse(
    trx: Kysely<Tables>,
    input: RotateRequest,
    token: { used_at: number | null; replaced_by: string | null },
  ): Promise<boolean> {
    if (input.reuseGraceMs <= 0 || token.used_at === null || token.replaced_by === null) return false;
    if (input.now - token.used_at > input.reuseGraceMs) return false;
    if (!(await claim(trx, token.replaced_by, input.now, null))) return false;
    await trx.updateTable('refresh_tokens').set({ replaced_by: input.next.id }).where('id', '=', input.tokenId).execute();
    return true;
  }

  async findRefreshToken(tokenId: string, secretHash: string) {
    const found = await findTokenWithFamily(this.db, tokenId, secretHash);
    return found && { family: found.family, createdAt: found.token.created_at, expiresAt: found.token.expires_at, usedAt: found.token.used_at };
  }

  async findFamily(id: FamilyId): Promise<RefreshFamily | undefined> {
    const row = await this.db.selectFrom('refresh_families').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toFamily(row);
  }

  async listFamilies(userId: UserId, kind: FamilyKind, options: { liveAt?: number } = {}): Promise<RefreshFamily[]> {
    let query = this.db.selectFrom('refresh_families').selectAll().where('user_id', '=', userId).where('kind', '=', kind);
    if (options.liveAt !== undefined) query = query.where('revoked_at', 'is', null).where('expires_at', '>', options.liveAt);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toFamily);
  }

  async markSignedIn(id: FamilyId, userId: UserId, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('refresh_families')
      .set({ auth_time: at })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('kind', '=', 'session')
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeFamily(id: FamilyId, reason: RevokeReason, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('refresh_families')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeUserFamilies(
    userId: UserId,
    reason: RevokeReason,
    now: number,
    options: { kind?: FamilyKind; except?: FamilyId } = {},
  ): Promise<FamilyId[]> {
    let q = this.db
      .updateTable('refresh_families')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    if (options.kind) q = q.where('kind', '=', options.kind);
    if (options.except) q = q.where('id', '!=', options.except);
    const rows = await q.returning('id').execute();
    return rows.map((r) => r.id as FamilyId);
  }
}

/** Marks a token used (and by what it was replaced) if nobody has yet; answers whether this call did. */
async function claim(db: Kysely<Tables>, tokenId: string, now: number, replacedBy: string | null): Promise<boolean> {
  const result = await db
    .updateTable('refresh_tokens')
    .set({ used_at: now, replaced_by: replacedBy })
    .where('id', '=', tokenId)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

async function insertToken(db: Kysely<Tables>, familyId: string, token: NewRefreshToken): Promise<void> {
  await db
    .insertInto('refresh_tokens')
    .values({
      id: token.id,
      family_id: familyId,
      secret_hash: token.secretHash,
      created_at: token.createdAt,
      expires_at: token.expiresAt,
      used_at: null,
      replaced_by: null,
    })
    .execute();
}

async function findTokenWithFamily(db: Kysely<Tables>, tokenId: string, secretHash: string) {
  const row = await db
    .selectFrom('refresh_tokens as t')
    .innerJoin('refresh_families as f', 'f.id', 't.family_id')
    .selectAll('f')
    .select([
      't.secret_hash as token_secret_hash',
      't.created_at as token_created_at',
      't.expires_at as token_expires_at',
      't.used_at as token_used_at',
      't.replaced_by as token_replaced_by',
    ])
    .where('t.id', '=', tokenId)
    .executeTakeFirst();
  if (!row || !constantTimeEqual(row.token_secret_hash, secretHash)) return undefined;
  const { token_secret_hash: _hash, token_created_at, token_expires_at, token_used_at, token_replaced_by, ...familyRow } = row;
  return {
    token: { created_at: token_created_at, expires_at: token_expires_at, used_at: token_used_at, replaced_by: token_replaced_by },
    family: toFamily(familyRow),
  };
}
