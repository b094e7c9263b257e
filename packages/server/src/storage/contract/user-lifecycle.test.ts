import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Role } from '@aim/protocol';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import { DAY, ManualClock } from '../../core/clock.js';
import type { ApiKeyId, FamilyId, OrgId, UserId } from '../../core/ids.js';
import { systemRandom } from '../../core/random.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const uuid = () => systemRandom.uuid();

/** Offboarding guarantees (last admin, tombstones, bulk revocation, 2FA reset), proven on SQLite and PostgreSQL. */
for (const kind of STORE_KINDS) {
  describe(`store contract: user lifecycle (${kind})`, () => {
    const fresh = useFreshStores(kind);
    const clock = new ManualClock();

    async function newOrg(): Promise<OrgId> {
      const id = uuid() as OrgId;
      await fresh.stores.users.createOrganization({ id, name: 'org', createdAt: clock.now() });
      return id;
    }

    async function newUser(organizationId: OrgId, role: Role = 'member', email?: string): Promise<UserId> {
      const id = uuid() as UserId;
      const now = clock.now();
      await fresh.stores.users.createUser({ id, organizationId, email: email ?? `${id}@example.test`, role, createdAt: now, updatedAt: now,
        passwordChangedAt: now, disabledAt: null, passwordHash: 'not-a-real-hash' });
      return id;
    }

    it('users: disable, enable and role changes answer changed, unchanged or not_found', async () => {
      const org = await newOrg();
      await newUser(org, 'admin');
      const member = await newUser(org);
      const disabled = await fresh.stores.users.changeUser(org, member, { kind: 'disable' }, 10);
      assert.equal(disabled.kind, 'changed');
      assert.equal(disabled.kind === 'changed' && disabled.user.disabledAt, 10);
      assert.equal((await fresh.stores.users.changeUser(org, member, { kind: 'disable' }, 11)).kind, 'unchanged');
      assert.equal((await fresh.stores.users.findInOrganization(org, member))?.disabledAt, 10, 'the first disable time stays');
      assert.equal((await fresh.stores.users.changeUser(org, member, { kind: 'enable' }, 12)).kind, 'changed');
      assert.equal((await fresh.stores.users.findInOrganization(org, member))?.disabledAt, null);
      assert.equal((await fresh.stores.users.changeUser(org, member, { kind: 'role', role: 'member' }, 13)).kind, 'unchanged');
      assert.equal((await fresh.stores.users.changeUser(await newOrg(), member, { kind: 'disable' }, 14)).kind, 'not_found');
    });

    it('users: the last active admin cannot be disabled, demoted or deleted; a disabled admin does not count', async () => {
      const org = await newOrg();
      const a = await newUser(org, 'admin');
      const b = await newUser(org, 'admin');
      assert.equal((await fresh.stores.users.changeUser(org, b, { kind: 'disable' }, 1)).kind, 'changed');
      for (const change of [{ kind: 'disable' }, { kind: 'role', role: 'member' }, { kind: 'delete', tombstoneEmail: `deleted:${a}` }] as const) {
        assert.equal((await fresh.stores.users.changeUser(org, a, change, 2)).kind, 'last_admin', change.kind);
      }
      const still = await fresh.stores.users.findInOrganization(org, a);
      assert.equal(still?.role, 'admin');
      assert.equal(still?.disabledAt, null);
      // The disabled admin can be deleted: it is not active.
      assert.equal((await fresh.stores.users.changeUser(org, b, { kind: 'delete', tombstoneEmail: `deleted:${b}` }, 3)).kind, 'changed');
    });

    it('users: of admins concurrently disabling and demoting each other, at least one stays active', async () => {
      for (let round = 0; round < 5; round++) {
        const org = await newOrg();
        const admins = await Promise.all(Array.from({ length: 4 }, () => newUser(org, 'admin')));
        const outcomes = await Promise.all(
          admins.map((id, i) => fresh.stores.users.changeUser(org, id, i % 2 === 0 ? { kind: 'disable' } : { kind: 'role', role: 'viewer' }, 5)),
        );
        assert.equal(outcomes.filter((o) => o.kind === 'changed').length, 3);
        assert.equal(outcomes.filter((o) => o.kind === 'last_admin').length, 1);
        const active = (await fresh.stores.users.listByOrganization(org)).filter((u) => u.role === 'admin' && u.disabledAt === null);
        assert.equal(active.length, 1);
      }
    });

    it('users: a deleted account is a tombstone every lookup skips, and its email can be used again', async () => {
      const org = await newOrg();
      await newUser(org, 'admin');
      const email = `reuse-${uuid()}@example.test`;
      const gone = await newUser(org, 'member', email);
      const deleted = await fresh.stores.users.changeUser(org, gone, { kind: 'delete', tombstoneEmail: `deleted:${gone}` }, 7);
      assert.equal(deleted.kind, 'changed');
      assert.equal(deleted.kind === 'changed' && deleted.before.email, email);
      assert.equal(await fresh.stores.users.findById(gone), undefined);
      assert.equal(await fresh.stores.users.findByEmail(email), undefined);
      assert.equal(await fresh.stores.users.findByEmail(`deleted:${gone}`), undefined);
      assert.equal(await fresh.stores.users.findInOrganization(org, gone), undefined);
      assert.ok(!(await fresh.stores.users.listByOrganization(org)).some((u) => u.id === gone));
      assert.equal((await fresh.stores.users.changeUser(org, gone, { kind: 'enable' }, 8)).kind, 'not_found', 'a tombstone cannot be enabled');
      const row = await fresh.database.db.selectFrom('users').selectAll().where('id', '=', gone).executeTakeFirstOrThrow();
      assert.equal(row.password_hash, '');
      assert.equal(Number(row.deleted_at), 7);
      assert.equal(Number(row.disabled_at), 7);
      const again = await newUser(org, 'member', email);
      assert.equal((await fresh.stores.users.findByEmail(email))?.id, again);
    });

    it('deletion works while API keys, session and SDK families, and 2FA rows point at the user', async () => {
      const org = await newOrg();
      await newUser(org, 'admin');
      const user = await newUser(org);
      const keyId = uuid() as ApiKeyId;
      await fresh.stores.apiKeys.insertApiKey({ id: keyId, organizationId: org, createdBy: user, name: 'ci', prefix: 'ak_live_abcdefgh', environment: 'live',
        scopes: ['verify'], rateLimitPerMinute: null, createdAt: clock.now(), expiresAt: clock.now() + DAY, rotatedFrom: null, mintedBy: null, keyHash: sha(keyId) });
      await fresh.stores.apiKeys.addUsage([{ keyId, day: '2026-01-01', route: 'GET /x', requests: 1 }], []);
      for (const family of ['session', 'sdk'] as const) {
        await fresh.stores.refreshTokens.createFamily(
          { id: uuid() as FamilyId, kind: family, organizationId: org, userId: user, name: null, scopes: [], createdAt: clock.now(), expiresAt: clock.now() + DAY,
            lastUsedAt: null, lastIp: null, userAgent: null, revokedAt: null, revokedReason: null, authTime: null },
          { id: uuid(), secretHash: sha(uuid()), createdAt: clock.now(), expiresAt: clock.now() + DAY },
        );
      }
      await fresh.stores.mfa.savePendingTotp(user, 'sealed', clock.now());
      await fresh.stores.mfa.enableTotp(user, 'sealed', 1, [{ id: uuid(), codeHash: sha(`rc-${user}`) }], clock.now());

      await fresh.stores.transaction(async (s) => {
        assert.equal((await s.users.changeUser(org, user, { kind: 'delete', tombstoneEmail: `deleted:${user}` }, 9)).kind, 'changed');
        assert.equal(await s.mfa.removeAllFactors(user), true);
      });
      assert.equal(await fresh.stores.mfa.findTotp(user), undefined);
      assert.equal(await fresh.stores.mfa.countUnusedRecoveryCodes(user), 0);
      // The key's creator is the tombstone: disabled, so the key is refused even before its revocation.
      assert.equal(typeof (await fresh.stores.apiKeys.findByHash(sha(keyId)))?.creatorDisabledAt, 'number');
    });

    it('users: a disable waits for a transaction that found the user active, so its revocation finds what it issued', async () => {
      const org = await newOrg();
      await newUser(org, 'admin');
      const user = await newUser(org);
      const order: string[] = [];
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      let locked!: () => void;
      const holding = new Promise<void>((resolve) => (locked = resolve));
      const login = fresh.stores.transaction(async (s) => {
        assert.equal(await s.users.lockIfActive(user), true);
        locked();
        await gate;
        order.push('session issued');
      });
      await holding;
      const disable = fresh.stores.users.changeUser(org, user, { kind: 'disable' }, 20).then(() => order.push('disabled'));
      // Gives a disable that wrongly skipped the lock the time to finish first.
      await new Promise((resolve) => setTimeout(resolve, 50));
      open();
      await Promise.all([login, disable]);
      assert.deepEqual(order, ['session issued', 'disabled']);
      assert.equal(await fresh.stores.users.lockIfActive(user), false, 'a disabled user is not active');
      assert.equal(await fresh.stores.users.lockIfActive(uuid() as UserId), false, 'nor is an unknown one');
    });

    it('API keys: every unrevoked key a user created is revoked in one call, once', async () => {
      const org = await newOrg();
      const user = await newUser(org, 'admin');
      const other = await newUser(org, 'admin');
      const key = (createdBy: UserId, expiresAt = clock.now() + DAY) => {
        const id = uuid() as ApiKeyId;
        return fresh.stores.apiKeys.insertApiKey({ id, organizationId: org, createdBy, name: 'k', prefix: 'ak_live_abcdefgh', environment: 'live',
          scopes: ['verify'], rateLimitPerMinute: null, createdAt: clock.now(), expiresAt, rotatedFrom: null, mintedBy: null, keyHash: sha(id) });
      };
      const mine = [await key(user), await key(user), await key(user, clock.now() - 1)];
      const already = await key(user);
      await fresh.stores.apiKeys.revokeApiKey(org, already.id, 1);
      const theirs = await key(other);

      const revoked = await fresh.stores.apiKeys.revokeKeysCreatedBy(org, user, 50);
      assert.deepEqual(revoked.map((k) => k.id).sort(), mine.map((k) => k.id).sort());
      assert.ok(revoked.every((k) => k.revokedAt === 50));
      assert.equal((await fresh.stores.apiKeys.findInOrganization(org, already.id))?.revokedAt, 1, 'an earlier revocation keeps its time');
      assert.equal((await fresh.stores.apiKeys.findInOrganization(org, theirs.id))?.revokedAt, null);
      assert.deepEqual(await fresh.stores.apiKeys.revokeKeysCreatedBy(org, user, 51), []);
      assert.deepEqual(await fresh.stores.apiKeys.revokeKeysCreatedBy(await newOrg(), other, 52), [], 'scoped to the organization');
    });

    it('mfa: recovery codes are replaced only while the factor is on; a reset removes pending and enabled factors', async () => {
      const org = await newOrg();
      const user = await newUser(org);
      const codes = (tag: string) => Array.from({ length: 3 }, (_, i) => ({ id: uuid(), codeHash: sha(`${tag}:${i}`) }));
      assert.equal(await fresh.stores.mfa.replaceRecoveryCodes(user, codes('none'), 1), false, 'no factor');
      await fresh.stores.mfa.savePendingTotp(user, 'sealed', 1);
      assert.equal(await fresh.stores.mfa.replaceRecoveryCodes(user, codes('pending'), 1), false, 'pending factor');
      await fresh.stores.mfa.enableTotp(user, 'sealed', 1, codes('old'), 1);
      assert.equal(await fresh.stores.mfa.consumeRecoveryCode(user, sha('old:0'), 2), true);
      assert.equal(await fresh.stores.mfa.replaceRecoveryCodes(user, codes('new'), 3), true);
      assert.equal(await fresh.stores.mfa.consumeRecoveryCode(user, sha('old:1'), 4), false, 'old codes stop');
      assert.equal(await fresh.stores.mfa.countUnusedRecoveryCodes(user), 3);
      assert.equal(await fresh.stores.mfa.consumeRecoveryCode(user, sha('new:1'), 4), true);
      assert.deepEqual(await fresh.stores.mfa.enrolledInOrganization(org), new Set([user]));

      assert.equal(await fresh.stores.mfa.removeAllFactors(user), true);
      assert.equal(await fresh.stores.mfa.findTotp(user), undefined);
      assert.equal(await fresh.stores.mfa.countUnusedRecoveryCodes(user), 0);
      assert.deepEqual(await fresh.stores.mfa.enrolledInOrganization(org), new Set());
      await fresh.stores.mfa.savePendingTotp(user, 'pending-again', 5);
      assert.equal(await fresh.stores.mfa.removeAllFactors(user), false, 'only a pending factor was there');
      assert.equal(await fresh.stores.mfa.findTotp(user), undefined);
    });
  });
}
