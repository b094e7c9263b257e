import type { Scope } from '@aim/protocol';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { ApiKeyStore } from '../api-keys/store.js';
import type {
  ApiKey,
  ApiKeyCredential,
  ApiKeyEnvironment,
  ApiKeyPage,
  LastUse,
  NewApiKey,
  RotateApiKeyOutcome,
  UsageCount,
  UsageReport,
} from '../api-keys/types.js';
import { constantTimeEqual } from '../core/hashing.js';
import type { ApiKeyId, OrgId, UserId } from '../core/ids.js';
import { KyselyStore } from './kysely-store.js';
import type { Tables } from './tables.js';

/** A row without its hash: what every read but the verifier's selects. */
type VisibleRow = Omit<Selectable<Tables['api_keys']>, 'key_hash'>;

/** Rows per multi-row upsert: well under SQLite's bound-parameter limit. */
const USAGE_CHUNK = 250;

function toApiKey(row: VisibleRow): ApiKey {
  return {
    id: row.id as ApiKeyId,
    organizationId: row.organization_id as OrgId,
    createdBy: row.created_by as UserId,
    name: row.name,
    prefix: row.prefix,
    environment: row.environment as ApiKeyEnvironment,
    scopes: JSON.parse(row.scopes) as Scope[],
    rateLimitPerMinute: row.rate_limit_per_minute === null ? null : Number(row.rate_limit_per_minute),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    lastUsedIp: row.last_used_ip,
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    rotatedAt: row.rotated_at === null ? null : Number(row.rotated_at),
    graceUntil: row.grace_until === null ? null : Number(row.grace_until),
    replacedBy: row.replaced_by as ApiKeyId | null,
    rotatedFrom: row.rotated_from as ApiKeyId | null,
    mintedBy: row.minted_by as ApiKeyId | null,
  };
}

/** Every column but the hash: what leaves the store for anything other than verification. */
const VISIBLE = [
  'id',
  'organization_id',
  'created_by',
  'name',
  'prefix',
  'environment',
  'scopes',
  'rate_limit_per_minute',
  'created_at',
  'expires_at',
  'last_used_at',
  'last_used_ip',
  'revoked_at',
  'rotated_at',
  'grace_until',
  'replaced_by',
  'rotated_from',
  'minted_by',
] as const;

export class KyselyApiKeyStore extends KyselyStore implements ApiKeyStore {
  async listExpiringBetween(from: number, to: number, limit: number, after?: { expiresAt: number; id: string }): Promise<ApiKey[]> {
    let q = this.db
      .selectFrom('api_keys')
      .select(VISIBLE)
      .where('revoked_at', 'is', null)
      .where('rotated_at', 'is', null)
      .where('expires_at', '>', from)
      .where('expires_at', '<=', to);
    if (after) {
      q = q.where((eb) => eb.or([eb('expires_at', '>', after.expiresAt), eb.and([eb('expires_at', '=', after.expiresAt), eb('id', '>', after.id)])]));
    }
    const rows = await q.orderBy('expires_at').orderBy('id').limit(limit).execute();
    return rows.map(toApiKey);
  }

  async insertApiKey(key: NewApiKey): Promise<ApiKey> {
    await insertKey(this.db, key);
    return { ...withoutHash(key), lastUsedAt: null, lastUsedIp: null, revokedAt: null, rotatedAt: null, graceUntil: null, replacedBy: null };
  }

  async findByHash(keyHash: string): Promise<ApiKeyCredential | undefined> {
    const row = await this.db
      .selectFrom('api_keys as k')
      .innerJoin('users as u', 'u.id', 'k.created_by')
      .selectAll('k')
      .select('u.disabled_at as creator_disabled_at')
      .where('k.key_hash', '=', keyHash)
      .executeTakeFirst();
    // The index found the row by equality; comparing again in constant time keeps the last step free of timing.
    if (!row || !constantTimeEqual(row.key_hash, keyHash)) return undefined;
    const { creator_disabled_at, key_hash, ...visible } = row;
    return { ...toApiKey(visible), keyHash: key_hash, creatorDisabledAt: creator_disabled_at === null ? null : Number(creator_disabled_at) };
  }

  async findInOrganization(organizationId: OrgId, id: ApiKeyId): Promise<ApiKey | undefined> {
    const row = await this.db
      .selectFrom('api_keys')
      .select(VISIBLE)
      .where('id', '=', id)
      .where('organization_id', '=', organizationId)
      .executeTakeFirst();
    return row && toApiKey(row);
  }

  async listByOrganization(
    organizationId: OrgId,
    page: { limit: number; after?: { createdAt: number; id: ApiKeyId } },
  ): Promise<ApiKeyPage> {
    let q = this.db.selectFrom('api_keys').select(VISIBLE).where('organization_id', '=', organizationId);
    const after = page.after;
    if (after) {
      q = q.where((eb) =>
        eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]),
      );
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit + 1).execute();
    const count = await this.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('organization_id', '=', organizationId)
      .executeTakeFirstOrThrow();
    const keys = rows.slice(0, page.limit).map((r) => toApiKey(r));
    const last = keys[keys.length - 1];
    return { keys, total: Number(count.n), ...(rows.length > page.limit && last && { next: { createdAt: last.createdAt, id: last.id } }) };
  }

  async rotateApiKey(input: {
    organizationId: OrgId;
    id: ApiKeyId;
    now: number;
    graceUntil: number;
    successor: NewApiKey;
  }): Promise<RotateApiKeyOutcome> {
    return this.atomically(async (trx) => {
      // The compare-and-swap: only one caller can move rotated_at from NULL.
      const claimed = await trx
        .updateTable('api_keys')
        .set({ rotated_at: input.now, grace_until: input.graceUntil, replaced_by: input.successor.id })
        .where('id', '=', input.id)
        .where('organization_id', '=', input.organizationId)
        .where('rotated_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', input.now)
        .executeTakeFirst();
      const current = await trx
        .selectFrom('api_keys')
        .select(VISIBLE)
        .where('id', '=', input.id)
        .where('organization_id', '=', input.organizationId)
        .executeTakeFirst();
      if (!current) return { kind: 'not_found' as const };
      const previous = toApiKey(current);
      if (claimed.numUpdatedRows === 0n) return { kind: 'not_rotatable' as const, key: previous };
      await insertKey(trx, input.successor);
      const successor: ApiKey = {
        ...withoutHash(input.successor),
        lastUsedAt: null,
        lastUsedIp: null,
        revokedAt: null,
        rotatedAt: null,
        graceUntil: null,
        replacedBy: null,
      };
      return { kind: 'rotated' as const, previous, successor };
    });
  }

  async revokeApiKey(organizationId: OrgId, id: ApiKeyId, now: number): Promise<{ key: ApiKey; changed: boolean } | undefined> {
    return this.atomically(async (trx) => {
      const result = await trx
        .updateTable('api_keys')
        .set({ revoked_at: now })
        .where('id', '=', id)
        .where('organization_id', '=', organizationId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const row = await trx.selectFrom('api_keys').select(VISIBLE).where('id', '=', id).where('organization_id', '=', organizationId).executeTakeFirst();
      return row && { key: toApiKey(row), changed: result.numUpdatedRows > 0n };
    });
  }

  async revokeRotatedInGrace(organizationId: OrgId, from: ApiKeyId, now: number): Promise<ApiKey[]> {
    return this.atomically(async (trx) => {
      const revoked: ApiKey[] = [];
      const seen = new Set<string>();
      let next: string | null = from;
      while (next !== null && !seen.has(next)) {
        seen.add(next);
        const row = await trx
          .selectFrom('api_keys')
          .select(VISIBLE)
          .where('id', '=', next)
          .where('organization_id', '=', organizationId)
          .where('grace_until', '>', now)
          .executeTakeFirst();
        if (!row) break;
        if (row.revoked_at === null) {
          const result = await trx.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', row.id).where('revoked_at', 'is', null).executeTakeFirst();
          // A concurrent revoke that got there first answers the key itself.
          if (result.numUpdatedRows > 0n) revoked.push({ ...toApiKey(row), revokedAt: now });
        }
        next = row.rotated_from;
      }
      return revoked;
    });
  }

  async revokeKeysCreatedBy(organizationId: OrgId, userId: UserId, now: number): Promise<ApiKey[]> {
    const rows = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: now })
      .where('organization_id', '=', organizationId)
      .where('created_by', '=', userId)
      .where('revoked_at', 'is', null)
      .returning(VISIBLE)
      .execute();
    return rows.map(toApiKey);
  }

  async revokeMintedBy(organizationId: OrgId, parentIds: readonly ApiKeyId[], now: number): Promise<{ revoked: ApiKey[]; minted: ApiKeyId[] }> {
    if (parentIds.length === 0) return { revoked: [], minted: [] };
    return this.atomically(async (trx) => {
      const rows = await trx
        .updateTable('api_keys')
        .set({ revoked_at: now })
        .where('organization_id', '=', organizationId)
        .where('minted_by', 'in', [...parentIds])
        .where('revoked_at', 'is', null)
        .returning(VISIBLE)
        .execute();
      const minted = await trx
        .selectFrom('api_keys')
        .select('id')
        .where('organization_id', '=', organizationId)
        .where('minted_by', 'in', [...parentIds])
        .orderBy('id')
        .execute();
      return { revoked: rows.map(toApiKey), minted: minted.map((r) => r.id as ApiKeyId) };
    });
  }

  async addUsage(counts: readonly UsageCount[], lastUses: readonly LastUse[]): Promise<void> {
    if (counts.length === 0 && lastUses.length === 0) return;
    // Rows are touched in one fixed order, so two nodes flushing overlapping batches cannot deadlock.
    const sortedCounts = [...counts].sort((a, b) => compare(a.keyId, b.keyId) || compare(a.day, b.day) || compare(a.route, b.route));
    const sortedUses = [...lastUses].sort((a, b) => compare(a.keyId, b.keyId));
    await this.atomically(async (trx) => {
      for (let i = 0; i < sortedCounts.length; i += USAGE_CHUNK) {
        const chunk = sortedCounts.slice(i, i + USAGE_CHUNK);
        await trx
          .insertInto('api_key_usage')
          .values(chunk.map((c) => ({ key_id: c.keyId, day: c.day, route: c.route, requests: c.requests })))
          .onConflict((oc) =>
            oc.columns(['key_id', 'day', 'route']).doUpdateSet({ requests: sql<number>`api_key_usage.requests + excluded.requests` }),
          )
          .execute();
      }
      for (const use of sortedUses) {
        await trx
          .updateTable('api_keys')
          .set({ last_used_at: use.at, last_used_ip: use.ip })
          .where('id', '=', use.keyId)
          .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', use.at)]))
          .execute();
      }
    });
  }

  async usageOf(id: ApiKeyId, sinceDay: string): Promise<UsageReport> {
    const days = await this.db
      .selectFrom('api_key_usage')
      .select(['day', (eb) => eb.fn.sum<number | string>('requests').as('requests')])
      .where('key_id', '=', id)
      .where('day', '>=', sinceDay)
      .groupBy('day')
      .orderBy('day')
      .execute();
    const routes = await this.db
      .selectFrom('api_key_usage')
      .select(['route', (eb) => eb.fn.sum<number | string>('requests').as('requests')])
      .where('key_id', '=', id)
      .where('day', '>=', sinceDay)
      .groupBy('route')
      .orderBy('route')
      .execute();
    const dayList = days.map((d) => ({ day: d.day, requests: Number(d.requests) }));
    return {
      total: dayList.reduce((sum, d) => sum + d.requests, 0),
      days: dayList,
      routes: routes.map((r) => ({ route: r.route, requests: Number(r.requests) })).sort((a, b) => b.requests - a.requests || compare(a.route, b.route)),
    };
  }

  async pruneUsage(beforeDay: string): Promise<number> {
    let deleted = 0;
    for (;;) {
      const oldest = await this.db.selectFrom('api_key_usage').select('day').where('day', '<', beforeDay).orderBy('day').limit(1).executeTakeFirst();
      if (!oldest) return deleted;
      const result = await this.db.deleteFrom('api_key_usage').where('day', '=', oldest.day).executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
  }
}

async function insertKey(db: Kysely<Tables>, key: NewApiKey): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({
      id: key.id,
      organization_id: key.organizationId,
      created_by: key.createdBy,
      name: key.name,
      prefix: key.prefix,
      key_hash: key.keyHash,
      environment: key.environment,
      scopes: JSON.stringify(key.scopes),
      rate_limit_per_minute: key.rateLimitPerMinute,
      created_at: key.createdAt,
      expires_at: key.expiresAt,
      last_used_at: null,
      last_used_ip: null,
      revoked_at: null,
      rotated_at: null,
      grace_until: null,
      replaced_by: null,
      rotated_from: key.rotatedFrom,
      minted_by: key.mintedBy,
    })
    .execute();
}

function withoutHash({ keyHash: _hidden, ...key }: NewApiKey): Omit<NewApiKey, 'keyHash'> {
  return key;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
