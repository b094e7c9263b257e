import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import { systemRandom } from '../../core/random.js';

const T = 1_800_000_000_000;
const key = () => ({ kid: systemRandom.uuid(), publicJwk: '{}', privateJwkSealed: 'x', createdAt: T, retiredAt: null, expiresAt: null });

/** Nodes starting together on an empty store agree on one signing key, on SQLite and on PostgreSQL. */
for (const kind of STORE_KINDS) {
  describe(`signing key store contract (${kind})`, () => {
    const fresh = useFreshStores(kind);

    it('of eight concurrent first keys exactly one is stored; later ones are refused', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => fresh.stores.signingKeys.insertIfNoSigner(key())));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await fresh.stores.signingKeys.listPublished(T)).length, 1);
      assert.equal(await fresh.stores.signingKeys.insertIfNoSigner(key()), false);
    });
  });
}
