import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import type { OrgId, UserId } from '../../core/ids.js';
import { systemRandom } from '../../core/random.js';
import type { SealedValue } from '../../master-key/index.js';
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
  });
}
