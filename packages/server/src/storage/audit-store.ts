import type { Kysely, Selectable } from 'kysely';
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
      await this.lock(trx, `aim.audit:${organizationId}`);
      const last = await trx
        .selectFrom('audit_log')
        .select(['seq', 'hash'])
        .where('organization_id', '=', organizationId)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      const entry = build(last && { seq: Number(last.seq), hash: last.hash });
      await trx
        .insertInto('audit_log')
        .values({ ...entry, data: JSON.stringify(entry.data) })
        .execute();
      return entry;
    };
    return this.atomically(run);
  }

  async list(query: AuditQuery): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit_log').selectAll().where('organization_id', '=', query.organizationId);
    if (query.actorId !== undefined) q = q.where('actor_id', '=', query.actorId);
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
