import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import { HOUR } from '../../core/clock.js';
import type { OrgId, UserId } from '../../core/ids.js';
import { systemRandom } from '../../core/random.js';
import type { PasswordReset } from '../../password-resets/store.js';

const T = 1_800_000_000_000;
const uuid = () => systemRandom.uuid();

/** Password reset links: one per user, used at most once, never after they expire; on SQLite and PostgreSQL. */
for (const kind of STORE_KINDS) {
  describe(`store contract: password resets (${kind})`, () => {
    const fresh = useFreshStores(kind);

    async function newUser(): Promise<{ userId: UserId; organizationId: OrgId }> {
      const organizationId = uuid() as OrgId;
      const userId = uuid() as UserId;
      await fresh.stores.users.createOrganization({ id: organizationId, name: 'org', createdAt: T });
      await fresh.stores.users.createUser({ id: userId, organizationId, email: `${userId}@example.test`, role: 'member', createdAt: T, updatedAt: T,
        passwordChangedAt: T, disabledAt: null, passwordHash: 'not-a-real-hash' });
      return { userId, organizationId };
    }

    const link = (owner: { userId: UserId; organizationId: OrgId }): PasswordReset => ({
      ...owner,
      id: uuid(),
      secretHash: 'a'.repeat(64),
      createdBy: null,
      createdAt: T,
      expiresAt: T + HOUR,
      usedAt: null,
    });

    it('of 20 concurrent uses of one link exactly one succeeds, and the link then reads as used', async () => {
      const reset = link(await newUser());
      await fresh.stores.passwordResets.replacePasswordReset(reset);
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => fresh.stores.passwordResets.usePasswordReset(reset.id, T + 1)));
      assert.equal(outcomes.filter(Boolean).length, 1);
      assert.equal((await fresh.stores.passwordResets.findPasswordReset(reset.id))?.usedAt, T + 1);
    });

    it('a link is usable until the millisecond before it expires, not at or after', async () => {
      const owner = await newUser();
      const reset = link(owner);
      await fresh.stores.passwordResets.replacePasswordReset(reset);
      assert.equal(await fresh.stores.passwordResets.usePasswordReset(reset.id, T + HOUR), false);
      assert.equal((await fresh.stores.passwordResets.findPasswordReset(reset.id))?.usedAt, null);
      assert.equal(await fresh.stores.passwordResets.usePasswordReset(reset.id, T + HOUR - 1), true);
    });

    it('a new link replaces the user\'s earlier one; deleting removes it; other users keep theirs', async () => {
      const owner = await newUser();
      const other = link(await newUser());
      const first = link(owner);
      const second = link(owner);
      await fresh.stores.passwordResets.replacePasswordReset(other);
      await fresh.stores.passwordResets.replacePasswordReset(first);
      await fresh.stores.passwordResets.replacePasswordReset(second);
      assert.equal(await fresh.stores.passwordResets.findPasswordReset(first.id), undefined);
      assert.deepEqual(await fresh.stores.passwordResets.findPasswordReset(second.id), second);
      await fresh.stores.passwordResets.deletePasswordResets(owner.userId);
      assert.equal(await fresh.stores.passwordResets.findPasswordReset(second.id), undefined);
      assert.equal(await fresh.stores.passwordResets.usePasswordReset(second.id, T), false);
      assert.ok(await fresh.stores.passwordResets.findPasswordReset(other.id));
    });

    it('two links made for one user at the same moment leave exactly one', async () => {
      const owner = await newUser();
      const links = [link(owner), link(owner)];
      await Promise.all(links.map((l) => fresh.stores.transaction((s) => s.passwordResets.replacePasswordReset(l))));
      const kept = await Promise.all(links.map((l) => fresh.stores.passwordResets.findPasswordReset(l.id)));
      assert.equal(kept.filter(Boolean).length, 1);
    });
  });
}
