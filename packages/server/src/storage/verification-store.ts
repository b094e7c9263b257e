import { sql, type Selectable } from 'kysely';
import type { AgentId, KeyId, OrgId } from '../core/ids.js';
import type { VerificationStore } from '../signatures/store.js';
import type { Decision, Verification, VerificationStats } from '../signatures/types.js';
import { KyselyStore } from './kysely-store.js';
import type { Tables } from './tables.js';

type Row = Selectable<Tables['verifications']>;

function toVerification(row: Row): Verification {
  return {
    id: row.id,
    organizationId: row.organization_id as OrgId,
    agentId: row.agent_id as AgentId,
    keyId: row.key_id as KeyId | null,
    action: row.action,
    resource: row.resource,
    timestamp: row.timestamp,
    nonce: row.nonce,
    message: row.message,
    signature: row.signature,
    decision: row.decision as Decision,
    reason: row.reason,
    caller: { type: row.caller_type, id: row.caller_id },
    ip: row.ip,
    createdAt: row.created_at,
  };
}

const DAY_MS = 86_400_000;

export class KyselyVerificationStore extends KyselyStore implements VerificationStore {
  async insertVerification(v: Verification): Promise<void> {
    await this.db
      .insertInto('verifications')
      .values({
        id: v.id,
        organization_id: v.organizationId,
        agent_id: v.agentId,
        key_id: v.keyId,
        action: v.action,
        resource: v.resource,
        timestamp: v.timestamp,
        nonce: v.nonce,
        message: v.message,
        signature: v.signature,
        decision: v.decision,
        reason: v.reason,
        caller_type: v.caller.type,
        caller_id: v.caller.id,
        ip: v.ip,
        created_at: v.createdAt,
      })
      .execute();
  }

  async findVerification(orgId: OrgId, id: string): Promise<Verification | undefined> {
    const row = await this.db.selectFrom('verifications').selectAll().where('id', '=', id).where('organization_id', '=', orgId).executeTakeFirst();
    return row && toVerification(row);
  }

  async listVerifications(
    orgId: OrgId,
    query: { agentId?: AgentId; decision?: string; limit: number; after?: { createdAt: number; id: string } },
  ): Promise<Verification[]> {
    let q = this.db.selectFrom('verifications').selectAll().where('organization_id', '=', orgId);
    if (query.agentId) q = q.where('agent_id', '=', query.agentId);
    if (query.decision) q = q.where('decision', '=', query.decision);
    if (query.after) {
      const { createdAt, id } = query.after;
      q = q.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]));
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(toVerification);
  }

  async verificationStats(orgId: OrgId, since: number): Promise<VerificationStats[]> {
    // Counted in the database, one row per UTC day and decision: integer division of milliseconds works alike on
    // SQLite and PostgreSQL (both bigint here), where their date functions do not.
    const day = sql<number>`created_at / ${sql.lit(DAY_MS)}`;
    const rows = await this.db
      .selectFrom('verifications')
      .select([day.as('day'), 'decision', (eb) => eb.fn.countAll<number>().as('count')])
      .where('organization_id', '=', orgId)
      .where('created_at', '>=', since)
      .groupBy([day, 'decision'])
      .execute();
    const days = new Map<number, VerificationStats>();
    for (const r of rows) {
      const n = Number(r.day);
      const bucket = days.get(n) ?? { day: new Date(n * DAY_MS).toISOString().slice(0, 10), allowed: 0, denied: 0, rejected: 0 };
      bucket[r.decision as Decision] += Number(r.count);
      days.set(n, bucket);
    }
    return [...days.entries()].sort(([a], [b]) => a - b).map(([, stats]) => stats);
  }
}
