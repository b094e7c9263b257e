import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import { DAY, HOUR } from '../../core/clock.js';
import type { AgentId, KeyId, OrgId } from '../../core/ids.js';
import { systemRandom } from '../../core/random.js';
import type { Decision } from '../../signatures/types.js';

const uuid = () => systemRandom.uuid();

for (const kind of STORE_KINDS) {
  describe(`verification stats (${kind})`, () => {
    const fresh = useFreshStores(kind);

    async function agentIn(organizationId: OrgId, at: number): Promise<AgentId> {
      const id = uuid() as AgentId;
      await fresh.stores.agents.createAgent(
        { id, organizationId, name: `agent-${id}`, type: 'agent', description: null, capabilities: [], status: 'active', createdBy: 'test', createdAt: at, updatedAt: at },
        { id: uuid() as KeyId, agentId: id, organizationId, publicKey: randomBytes(32).toString('base64'), createdAt: at, expiresAt: at + 90 * DAY, graceUntil: null, replacedBy: null, revokedAt: null },
      );
      return id;
    }

    async function decide(organizationId: OrgId, agentId: AgentId, decision: Decision, at: number): Promise<void> {
      await fresh.stores.verifications.insertVerification({
        id: uuid(), organizationId, agentId, keyId: null, action: 'read', resource: 'r', timestamp: Math.floor(at / 1000), nonce: uuid(),
        message: 'm', signature: 's', decision, reason: decision, caller: { type: 'api_key', id: 'k' }, ip: null, createdAt: at,
      });
    }

    it('counts decisions per UTC day in the database, from `since`, for one organization only', async () => {
      const midnight = Date.UTC(2026, 10, 20);
      const org = uuid() as OrgId;
      const other = uuid() as OrgId;
      for (const id of [org, other]) await fresh.stores.users.createOrganization({ id, name: id, createdAt: midnight });
      const agent = await agentIn(org, midnight);
      const stranger = await agentIn(other, midnight);

      await decide(org, agent, 'allowed', midnight - 1); // the day before `since`: not counted
      await decide(org, agent, 'allowed', midnight);
      await decide(org, agent, 'allowed', midnight + 23 * HOUR);
      await decide(org, agent, 'denied', midnight + DAY - 1); // the last millisecond of the first day
      await decide(org, agent, 'rejected', midnight + DAY); // the first of the second
      await decide(org, agent, 'rejected', midnight + 2 * DAY + HOUR);
      await decide(other, stranger, 'allowed', midnight + HOUR);

      assert.deepEqual(await fresh.stores.verifications.verificationStats(org, midnight), [
        { day: '2026-11-20', allowed: 2, denied: 1, rejected: 0 },
        { day: '2026-11-21', allowed: 0, denied: 0, rejected: 1 },
        { day: '2026-11-22', allowed: 0, denied: 0, rejected: 1 },
      ]);
      assert.deepEqual(await fresh.stores.verifications.verificationStats(other, midnight), [{ day: '2026-11-20', allowed: 1, denied: 0, rejected: 0 }]);
      assert.deepEqual(await fresh.stores.verifications.verificationStats(org, midnight + 3 * DAY), []);
    });
  });
}
