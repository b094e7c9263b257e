import type { AuditAnchor } from '@aim/protocol';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditQuery, AuditStore } from '../audit/store.js';
import type { AuditEntry } from '../audit/types.js';
import { KyselyStore } from './kysely-store.js';
import type { Tables } from './tables.js';

type AuditRow = Selectable<Tables['audit_log']>;

export function toAuditEntry(row: AuditRow): AuditEntry {
  return { ...row, seq: Number(row.seq), data: JSON.parse(row.data) as unknown };
}

export class KyselyAuditStore extends KyselyStore implements AuditStore {
  async appendAudit(
    organizationId: string,
    build: (previous: { seq: number; hash: string } | undefined) => AuditEntry,
  ): Promise<AuditEntry> {
    const run = async (trx: Kysely<Tables>) => {
      const last = await this.lockedHead(trx, organizationId);
      const previous = last ?? (await findAnchorIn(trx, organizationId));
      const entry = build(previous && { seq: Number(previous.seq), hash: previous.hash });
      await trx
        .insertInto('audit_log')
        .values({ ...entry, data: JSON.stringify(entry.data) })
        .execute();
      return entry;
    };
    return this.atomically(run);
  }

  /** The chain head under the organization's chain lock (held until the transaction ends): one round trip on PostgreSQL. */
  private async lockedHead(trx: Kysely<Tables>, organizationId: string): Promise<{ seq: number; hash: string } | undefined> {
    if (this.dialect === 'postgres') {
      const { rows } = await sql<{ seq: number; hash: string }>`select seq, hash from aim_audit_head(${organizationId}, ${chainLock(organizationId)})`.execute(trx);
      return rows[0];
    }
    return trx.selectFrom('audit_log').select(['seq', 'hash']).where('organization_id', '=', organizationId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }

  findAnchor(organizationId: string): Promise<AuditAnchor | undefined> {
    return findAnchorIn(this.db, organizationId);
  }

  async organizationsWithEntriesBefore(cutoff: number): Promise<string[]> {
    const rows = await this.db.selectFrom('audit_log').select('organization_id').distinct().where('created_at', '<', cutoff).execute();
    return rows.map((r) => r.organization_id).sort();
  }

  async pruneAudit(organizationId: string, cutoff: number, now: number): Promise<{ deleted: number; anchor: AuditAnchor } | undefined> {
    return this.atomically(async (trx) => {
      await this.lock(trx, chainLock(organizationId));
      // Entries are appended in time order up to a few milliseconds of concurrency: pruning through the newest
      // old entry's seq keeps the kept part one contiguous chain.
      const last = await trx
        .selectFrom('audit_log')
        .select(['seq', 'hash'])
        .where('organization_id', '=', organizationId)
        .where('created_at', '<', cutoff)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (!last) return undefined;
      const anchor = { seq: Number(last.seq), hash: last.hash };
      const deleted = await trx
        .deleteFrom('audit_log')
        .where('organization_id', '=', organizationId)
        .where('seq', '<=', anchor.seq)
        .executeTakeFirst();
      await trx
        .insertInto('audit_anchors')
        .values({ organization_id: organizationId, seq: anchor.seq, hash: anchor.hash, pruned_at: now })
        .onConflict((oc) => oc.column('organization_id').doUpdateSet({ seq: anchor.seq, hash: anchor.hash, pruned_at: now }))
        .execute();
      return { deleted: Number(deleted.numDeletedRows), anchor };
    });
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit_log').selectAll().where('organization_id', '=', query.organizationId);
    if (query.actorId !== undefined) q = q.where('actor_id', '=', query.actorId);
    if (query.subjectId !== undefined) q = q.where('subject_id', '=', query.subjectId);
    if (query.event !== undefined) q = q.where('event', '=', query.event);
    if (query.since !== undefined) q = q.where('created_at', '>=', query.since);
    if (query.until !== undefined) q = q.where('created_at', '<', query.until);
    if (query.beforeSeq !== undefined) q = q.where('seq', '<', query.beforeSeq);
    const rows = await q.orderBy('seq', 'desc').limit(query.limit).execute();
    return rows.map(toAuditEntry);
  }

  async *iterate(organizationId: string, pageSize = 1000): AsyncIterable<AuditEntry> {
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('audit_log')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(pageSize)
        .execute();
      for (const row of rows) yield toAuditEntry(row);
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }
}

/** The lock that serializes one organization's chain: appends (through aim_audit_head on PostgreSQL) and prunes. */
const chainLock = (organizationId: string) => `aim.audit:${organizationId}`;

async function findAnchorIn(db: Kysely<Tables>, organizationId: string): Promise<AuditAnchor | undefined> {
  const row = await db.selectFrom('audit_anchors').select(['seq', 'hash']).where('organization_id', '=', organizationId).executeTakeFirst();
  return row && { seq: Number(row.seq), hash: row.hash };
}
