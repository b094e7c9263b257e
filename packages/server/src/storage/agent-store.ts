import { sql, type Selectable } from 'kysely';
import type { AgentQuery, AgentStore, NonceStore } from '../agents/store.js';
import type { Agent, AgentKey, AgentStatus } from '../agents/types.js';
import { AimError } from '../core/errors.js';
import type { AgentId, KeyId, OrgId } from '../core/ids.js';
import { isUniqueViolation } from './errors.js';
import { KyselyStore } from './kysely-store.js';
import type { Tables } from './tables.js';

type AgentRow = Selectable<Tables['agents']>;
type KeyRow = Selectable<Tables['agent_keys']>;

function toAgent(row: AgentRow): Agent {
  return {
    id: row.id as AgentId,
    organizationId: row.organization_id as OrgId,
    name: row.name,
    type: row.type,
    description: row.description,
    capabilities: JSON.parse(row.capabilities) as string[],
    status: row.status as AgentStatus,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toKey(row: KeyRow): AgentKey {
  return {
    id: row.id as KeyId,
    agentId: row.agent_id as AgentId,
    organizationId: row.organization_id as OrgId,
    publicKey: row.public_key,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    graceUntil: row.grace_until,
    replacedBy: row.replaced_by as KeyId | null,
    revokedAt: row.revoked_at,
  };
}

function keyRow(key: AgentKey): KeyRow {
  return {
    id: key.id,
    agent_id: key.agentId,
    organization_id: key.organizationId,
    public_key: key.publicKey,
    created_at: key.createdAt,
    expires_at: key.expiresAt,
    grace_until: key.graceUntil,
    replaced_by: key.replacedBy,
    revoked_at: key.revokedAt,
  };
}

function conflict(error: unknown): never {
  if (isUniqueViolation(error)) {
    const text = String((error as { message?: string; detail?: string }).detail ?? (error as Error).message);
    throw new AimError('conflict', text.includes('public_key') ? 'this public key is already registered' : 'an agent with this name already exists');
  }
  throw error;
}

export class KyselyAgentStore extends KyselyStore implements AgentStore, NonceStore {
  async createAgent(agent: Agent, key: AgentKey): Promise<void> {
    try {
      await this.atomically(async (trx) => {
        await trx
          .insertInto('agents')
          .values({
            id: agent.id,
            organization_id: agent.organizationId,
            name: agent.name,
            type: agent.type,
            description: agent.description,
            capabilities: JSON.stringify(agent.capabilities),
            status: agent.status,
            created_by: agent.createdBy,
            created_at: agent.createdAt,
            updated_at: agent.updatedAt,
          })
          .execute();
        await trx.insertInto('agent_keys').values(keyRow(key)).execute();
      });
    } catch (error) {
      conflict(error);
    }
  }

  async findAgent(orgId: OrgId, id: AgentId): Promise<Agent | undefined> {
    const row = await this.db.selectFrom('agents').selectAll().where('id', '=', id).where('organization_id', '=', orgId).executeTakeFirst();
    return row && toAgent(row);
  }

  async findAgentOrganization(id: AgentId): Promise<OrgId | undefined> {
    const row = await this.db.selectFrom('agents').select('organization_id').where('id', '=', id).executeTakeFirst();
    return row?.organization_id as OrgId | undefined;
  }

  async listAgents(orgId: OrgId, query: AgentQuery): Promise<{ agents: Agent[]; total: number }> {
    let base = this.db.selectFrom('agents').where('organization_id', '=', orgId);
    if (query.status) base = base.where('status', '=', query.status);
    if (query.type) base = base.where('type', '=', query.type);
    if (query.search) {
      // The database lowers both sides: SQLite's lower() (and PostgreSQL's in the C locale) folds only ASCII, so a
      // pattern lowered here by JavaScript's Unicode rules would miss even the exact name once it has an `É`.
      const pattern = `%${escapeLike(query.search)}%`;
      base = base.where(sql<boolean>`lower(name) like lower(${pattern}) escape '\\'`);
    }
    const totalRow = await base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    let page = base.selectAll();
    if (query.after) {
      const { createdAt, id } = query.after;
      page = page.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]));
    }
    const rows = await page.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return { agents: rows.map(toAgent), total: Number(totalRow.n) };
  }

  async updateAgent(
    orgId: OrgId,
    id: AgentId,
    patch: { name?: string; description?: string | null; capabilities?: string[] },
    now: number,
  ): Promise<Agent | undefined> {
    try {
      const result = await this.db
        .updateTable('agents')
        .set({
          updated_at: now,
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.description !== undefined && { description: patch.description }),
          ...(patch.capabilities !== undefined && { capabilities: JSON.stringify(patch.capabilities) }),
        })
        .where('id', '=', id)
        .where('organization_id', '=', orgId)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return undefined;
    } catch (error) {
      conflict(error);
    }
    return this.findAgent(orgId, id);
  }

  async setStatus(orgId: OrgId, id: AgentId, from: readonly AgentStatus[], to: AgentStatus, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('agents')
      .set({ status: to, updated_at: now })
      .where('id', '=', id)
      .where('organization_id', '=', orgId)
      .where('status', 'in', [...from])
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async listKeys(agentId: AgentId): Promise<AgentKey[]> {
    const rows = await this.db.selectFrom('agent_keys').selectAll().where('agent_id', '=', agentId).orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toKey);
  }

  async listKeysOfAgents(agentIds: readonly AgentId[]): Promise<Map<AgentId, AgentKey[]>> {
    const byAgent = new Map<AgentId, AgentKey[]>(agentIds.map((id) => [id, []]));
    if (agentIds.length === 0) return byAgent;
    const rows = await this.db
      .selectFrom('agent_keys')
      .selectAll()
      .where('agent_id', 'in', agentIds)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    for (const row of rows) byAgent.get(row.agent_id as AgentId)?.push(toKey(row));
    return byAgent;
  }

  async listKeysExpiringBetween(
    from: number,
    to: number,
    limit: number,
    after?: { expiresAt: number; id: string },
  ): Promise<Array<{ key: AgentKey; agentName: string }>> {
    let q = this.db
      .selectFrom('agent_keys as k')
      .innerJoin('agents as a', 'a.id', 'k.agent_id')
      .selectAll('k')
      .select('a.name as agent_name')
      .where('a.status', '=', 'active')
      .where('k.grace_until', 'is', null)
      .where('k.revoked_at', 'is', null)
      .where('k.expires_at', '>', from)
      .where('k.expires_at', '<=', to);
    if (after) {
      q = q.where((eb) => eb.or([eb('k.expires_at', '>', after.expiresAt), eb.and([eb('k.expires_at', '=', after.expiresAt), eb('k.id', '>', after.id)])]));
    }
    const rows = await q.orderBy('k.expires_at').orderBy('k.id').limit(limit).execute();
    return rows.map(({ agent_name, ...key }) => ({ key: toKey(key), agentName: agent_name }));
  }

  async rotateKey(agentId: AgentId, currentKeyId: KeyId, next: AgentKey, graceUntil: number): Promise<boolean> {
    try {
      return await this.atomically(async (trx) => {
        const claimed = await trx
          .updateTable('agent_keys')
          .set({ grace_until: graceUntil, replaced_by: next.id })
          .where('id', '=', currentKeyId)
          .where('agent_id', '=', agentId)
          .where('grace_until', 'is', null)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        if (claimed.numUpdatedRows === 0n) return false;
        await trx.insertInto('agent_keys').values(keyRow(next)).execute();
        return true;
      });
    } catch (error) {
      conflict(error);
    }
  }

  async revokeKey(agentId: AgentId, keyId: KeyId, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('agent_keys')
      .set({ revoked_at: now })
      .where('id', '=', keyId)
      .where('agent_id', '=', agentId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeAllKeys(agentId: AgentId, now: number): Promise<void> {
    await this.db.updateTable('agent_keys').set({ revoked_at: now }).where('agent_id', '=', agentId).where('revoked_at', 'is', null).execute();
  }

  async replaceKeys(agentId: AgentId, next: AgentKey, now: number): Promise<void> {
    try {
      await this.atomically(async (trx) => {
        await trx
          .updateTable('agent_keys')
          .set({ grace_until: now, replaced_by: next.id })
          .where('agent_id', '=', agentId)
          .where('revoked_at', 'is', null)
          .where((eb) => eb.or([eb('grace_until', 'is', null), eb('grace_until', '>', now)]))
          .execute();
        await trx.insertInto('agent_keys').values(keyRow(next)).execute();
      });
    } catch (error) {
      conflict(error);
    }
  }

  async consumeNonce(agentId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const result = await this.db
      .insertInto('nonces')
      .values({ agent_id: agentId, nonce, expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['agent_id', 'nonce']).doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async pruneNonces(now: number): Promise<number> {
    const result = await this.db.deleteFrom('nonces').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function escapeLike(text: string): string {
  return text.replace(/[%_\\]/g, (c) => `\\${c}`);
}
