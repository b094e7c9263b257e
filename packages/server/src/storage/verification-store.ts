import type { Selectable } from 'kysely';
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
    const rows = await this.db
      .selectFrom('verifications')
      .select(['created_at', 'decision'])
      .where('organization_id', '=', orgId)
      .where('created_at', '>=', since)
      .execute();
    // Bucketed here rather than in SQL: date functions differ between SQLite and PostgreSQL.
    const days = new Map<string, VerificationStats>();
    for (const r of rows) {
      const day = new Date(Math.floor(r.created_at / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
      const bucket = days.get(day) ?? { day, allowed: 0, denied: 0, rejected: 0 };
      bucket[r.decision as Decision] += 1;
      days.set(day, bucket);
    }
    return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
  }
}
