import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { verifyAuditChain } from '@aim/protocol';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import { AuditLog } from '../../audit/audit-log.js';
import { DAY, ManualClock } from '../../core/clock.js';
import type { OrgId, UserId } from '../../core/ids.js';
import { systemRandom } from '../../core/random.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const uuid = () => systemRandom.uuid();

/** The second-factor and audit-retention guarantees, proven on SQLite and on PostgreSQL. */
for (const kind of STORE_KINDS) {
  describe(`store contract: mfa and audit retention (${kind})`, () => {
    const fresh = useFreshStores(kind);
    const clock = new ManualClock();

    async function newUser(): Promise<UserId> {
      const organizationId = uuid() as OrgId;
      await fresh.stores.users.createOrganization({ id: organizationId, name: 'org', createdAt: clock.now() });
      const id = uuid() as UserId;
      const now = clock.now();
      await fresh.stores.users.createUser({ id, organizationId, email: `${id}@example.test`, role: 'member', createdAt: now, updatedAt: now,
        passwordChangedAt: now, disabledAt: null, passwordHash: 'not-a-real-hash' });
      return id;
    }

    async function enrolled(step = 100): Promise<UserId> {
      const userId = await newUser();
      assert.equal(await fresh.stores.mfa.savePendingTotp(userId, 'sealed-1', clock.now()), true);
      const codes = Array.from({ length: 3 }, (_, i) => ({ id: uuid(), codeHash: sha(`${userId}:${i}`) }));
      assert.equal(await fresh.stores.mfa.enableTotp(userId, 'sealed-1', step, codes, clock.now()), true);
      return userId;
    }

    it('totp: of 20 concurrent uses of one time step exactly one is accepted, and only newer steps after it', async () => {
      const userId = await enrolled(100);
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => fresh.stores.mfa.useTotpStep(userId, 101)));
      assert.equal(outcomes.filter(Boolean).length, 1);
      assert.equal(await fresh.stores.mfa.useTotpStep(userId, 101), false, 'the same step again');
      assert.equal(await fresh.stores.mfa.useTotpStep(userId, 100), false, 'an older step');
      assert.equal(await fresh.stores.mfa.useTotpStep(userId, 102), true, 'a newer step');
      assert.equal((await fresh.stores.mfa.findTotp(userId))?.lastUsedStep, 102);
    });

    it('totp: the step that enabled the factor is already used', async () => {
      const userId = await enrolled(200);
      assert.equal(await fresh.stores.mfa.useTotpStep(userId, 200), false);
    });

    it('totp: a pending factor accepts no step; enabling needs the secret still pending; an enabled one is not replaced by a new setup', async () => {
      const userId = await newUser();
      await fresh.stores.mfa.savePendingTotp(userId, 'pending', clock.now());
      assert.equal(await fresh.stores.mfa.useTotpStep(userId, 5), false);
      assert.equal(await fresh.stores.mfa.savePendingTotp(userId, 'pending-2', clock.now()), true, 'a pending secret may be replaced');
      assert.equal(await fresh.stores.mfa.enableTotp(userId, 'pending', 6, [], clock.now()), false, 'a code from the replaced secret');
      assert.equal(await fresh.stores.mfa.enableTotp(userId, 'pending-2', 6, [], clock.now()), true);
      assert.equal(await fresh.stores.mfa.savePendingTotp(userId, 'attacker', clock.now()), false);
      assert.equal((await fresh.stores.mfa.findTotp(userId))?.secretSealed, 'pending-2');
    });

    it('totp: of 10 concurrent enables exactly one wins, and its recovery codes are the ones kept', async () => {
      const userId = await newUser();
      await fresh.stores.mfa.savePendingTotp(userId, 'sealed', clock.now());
      const attempts = Array.from({ length: 10 }, (_, i) => [{ id: uuid(), codeHash: sha(`attempt-${i}`) }]);
      const outcomes = await Promise.all(attempts.map((codes) => fresh.stores.mfa.enableTotp(userId, 'sealed', 50, codes, clock.now())));
      assert.equal(outcomes.filter(Boolean).length, 1);
      const winner = outcomes.indexOf(true);
      assert.equal(await fresh.stores.mfa.countUnusedRecoveryCodes(userId), 1);
      assert.equal(await fresh.stores.mfa.consumeRecoveryCode(userId, attempts[winner]![0]!.codeHash, clock.now()), true);
    });

    it('recovery codes: of 20 concurrent uses of one code exactly one succeeds; other codes are untouched', async () => {
      const userId = await enrolled();
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => fresh.stores.mfa.consumeRecoveryCode(userId, sha(`${userId}:0`), clock.now())));
      assert.equal(outcomes.filter(Boolean).length, 1);
      assert.equal(await fresh.stores.mfa.countUnusedRecoveryCodes(userId), 2);
      const other = await newUser();
      assert.equal(await fresh.stores.mfa.consumeRecoveryCode(other, sha(`${userId}:1`), clock.now()), false, "another user's code");
    });

    it('disabling removes the factor and its codes once', async () => {
      const userId = await enrolled();
      const outcomes = await Promise.all([fresh.stores.mfa.deleteTotp(userId), fresh.stores.mfa.deleteTotp(userId)]);
      assert.deepEqual(outcomes.sort(), [false, true]);
      assert.equal(await fresh.stores.mfa.findTotp(userId), undefined);
      assert.equal(await fresh.stores.mfa.countUnusedRecoveryCodes(userId), 0);
    });

    it('audit retention: concurrent prunes delete each entry once, leave one anchor, and the chain still verifies', async () => {
      const audit = new AuditLog(fresh.stores.audit, clock, systemRandom);
      const organizationId = uuid();
      for (let i = 0; i < 6; i++) await audit.record({ organizationId, event: 'session.created', actor: { type: 'system' }, data: { i } });
      clock.advance(10 * DAY);
      const cutoff = clock.now() - DAY;
      for (let i = 0; i < 3; i++) await audit.record({ organizationId, event: 'session.refreshed', actor: { type: 'system' } });

      assert.deepEqual(await fresh.stores.audit.organizationsWithEntriesBefore(cutoff).then((o) => o.includes(organizationId)), true);
      const results = await Promise.all(
        Array.from({ length: 4 }, () => fresh.stores.transaction((s) => s.audit.pruneAudit(organizationId, cutoff, clock.now()))),
      );
      const done = results.filter((r) => r !== undefined);
      assert.equal(done.length, 1, 'one prune did the work');
      assert.equal(done[0]!.deleted, 6);
      const anchor = await fresh.stores.audit.findAnchor(organizationId);
      assert.deepEqual(anchor, done[0]!.anchor);
      assert.equal(anchor?.seq, 6);
      assert.deepEqual(await verifyAuditChain(fresh.stores.audit.iterate(organizationId), sha, anchor), { valid: true, entries_checked: 3 });
    });

    it('audit retention: when every entry was pruned, the next one links to the anchor', async () => {
      const audit = new AuditLog(fresh.stores.audit, clock, systemRandom);
      const organizationId = uuid();
      await audit.record({ organizationId, event: 'session.created', actor: { type: 'system' } });
      await audit.record({ organizationId, event: 'session.created', actor: { type: 'system' } });
      clock.advance(DAY);
      const pruned = await fresh.stores.audit.pruneAudit(organizationId, clock.now(), clock.now());
      assert.equal(pruned?.deleted, 2);
      const next = await audit.record({ organizationId, event: 'audit.pruned', actor: { type: 'system' } });
      assert.equal(next.seq, 3);
      assert.equal(next.prev_hash, pruned?.anchor.hash);
      const anchor = await fresh.stores.audit.findAnchor(organizationId);
      assert.equal((await verifyAuditChain(fresh.stores.audit.iterate(organizationId), sha, anchor)).valid, true);
      assert.equal(await fresh.stores.audit.pruneAudit(organizationId, clock.now() - DAY, clock.now()), undefined, 'nothing left to prune');
    });
  });
}
