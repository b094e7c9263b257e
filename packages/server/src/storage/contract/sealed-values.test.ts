import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import type { OrgId, UserId } from '../../core/ids.js';
import { systemRandom } from '../../core/random.js';
import { AuditLog } from '../../audit/audit-log.js';
import { systemClock } from '../../core/clock.js';
import { SecretBox, masterKeyId } from '../../core/master-key.js';
import { resealAll, sealPurpose, type SealedValue } from '../../master-key/index.js';
import { metaGetOrInit } from '../meta-store.js';

const T = 1_800_000_000_000;
const uuid = () => systemRandom.uuid();

/** The reseal's store guarantees: every sealed value is listed, and each is replaced by compare-and-set only. */
for (const kind of STORE_KINDS) {
  describe(`sealed value store contract (${kind})`, () => {
    const fresh = useFreshStores(kind);

    async function seed(): Promise<{ kid: string; userId: UserId }> {
      const kid = uuid();
      await fresh.stores.signingKeys.insertIfNoSigner({ kid, publicJwk: '{}', privateJwkSealed: 'key-old', createdAt: T, retiredAt: null, expiresAt: null });
      const organizationId = uuid() as OrgId;
      await fresh.stores.users.createOrganization({ id: organizationId, name: 'org', createdAt: T });
      const userId = uuid() as UserId;
      await fresh.stores.users.createUser({ id: userId, organizationId, email: `${userId}@example.test`, role: 'member', createdAt: T, updatedAt: T,
        passwordChangedAt: T, disabledAt: null, passwordHash: 'not-a-real-hash' });
      await fresh.stores.mfa.savePendingTotp(userId, 'totp-old', T);
      await metaGetOrInit(fresh.database.db, 'master_key_check', 'check-old');
      return { kid, userId };
    }

    it('lists signing keys, TOTP secrets and the check value; replaces each only while it is unchanged', async () => {
      const { kid, userId } = await seed();
      const listed = await fresh.stores.sealedValues.listSealed();
      const expected: SealedValue[] = [
        { kind: 'signing_key', id: kid, sealed: 'key-old' },
        { kind: 'totp_secret', id: userId, sealed: 'totp-old' },
        { kind: 'master_key_check', id: 'master_key_check', sealed: 'check-old' },
      ];
      assert.deepEqual(listed, expected);
      for (const value of expected) {
        assert.equal(await fresh.stores.sealedValues.replaceSealed(value, `${value.kind}-new`), true);
        // A second writer holding the old value loses: the first replacement stands.
        assert.equal(await fresh.stores.sealedValues.replaceSealed(value, 'stale'), false);
      }
      assert.deepEqual(
        (await fresh.stores.sealedValues.listSealed()).map((v) => v.sealed),
        ['signing_key-new', 'totp_secret-new', 'master_key_check-new'],
      );
    });

    it('of concurrent replacements of one value exactly one wins, inside transactions too', async () => {
      const value = (await fresh.stores.sealedValues.listSealed()).find((v) => v.kind === 'totp_secret')!;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => fresh.stores.transaction((s) => s.sealedValues.replaceSealed(value, `race-${i}`))),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });

    it('resealAll moves what a configured key opens, leaves and counts what none opens, and is idempotent', async () => {
      const [A, B, C] = [Buffer.alloc(32, 0xa), Buffer.alloc(32, 0xb), Buffer.alloc(32, 0xc)];
      // Every value so far sealed under A, then one TOTP secret under C, a key nobody configures.
      const values = await fresh.stores.sealedValues.listSealed();
      for (const v of values) await fresh.stores.sealedValues.replaceSealed(v, new SecretBox(A).seal(`plain-${v.id}`, sealPurpose(v)));
      // The signing key as a store from before key ids holds it: `v1.<iv>.<tag>.<ciphertext>` (same cipher, no kid).
      const legacy = (await fresh.stores.sealedValues.listSealed()).find((v) => v.kind === 'signing_key')!;
      await fresh.stores.sealedValues.replaceSealed(legacy, ['v1', ...legacy.sealed.split('.').slice(2)].join('.'));
      const orphan = (await fresh.stores.sealedValues.listSealed()).find((v) => v.kind === 'totp_secret')!;
      await fresh.stores.sealedValues.replaceSealed(orphan, new SecretBox(C).seal('orphan', sealPurpose(orphan)));

      const box = new SecretBox(B, [A]);
      const audit = new AuditLog(fresh.stores.audit, systemClock, systemRandom);
      const first = await resealAll(fresh.stores, box, audit);
      assert.deepEqual(first, { resealed: values.length - 1, alreadyCurrent: 0, remaining: 1, keyId: masterKeyId(B) });
      for (const v of await fresh.stores.sealedValues.listSealed()) {
        if (v.id === orphan.id) assert.equal(new SecretBox(C).open(v.sealed, sealPurpose(v)), 'orphan', 'left as it was');
        else assert.equal(new SecretBox(B).open(v.sealed, sealPurpose(v)), `plain-${v.id}`);
        if (v.id !== orphan.id) assert.ok(v.sealed.startsWith(`v2.${masterKeyId(B)}.`), v.kind);
      }
      const second = await resealAll(fresh.stores, box, audit);
      assert.deepEqual(second, { resealed: 0, alreadyCurrent: values.length - 1, remaining: 1, keyId: masterKeyId(B) });
    });
  });
}
