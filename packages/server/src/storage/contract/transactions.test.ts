import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import { systemRandom } from '../../core/random.js';
import type { OrgId } from '../../core/ids.js';
import { sql } from 'kysely';
import type { Database } from '../database.js';
import { GroupCommit } from '../group-commit.js';

/**
 * What every caller of `transaction` relies on, however the store commits (SQLite groups concurrent transactions
 * into one commit): each commits or rolls back on its own, and its promise settles only once it has committed.
 */
for (const kind of STORE_KINDS) {
  describe(`transactions (${kind})`, () => {
    const fresh = useFreshStores(kind);
    let reader: Database;
    before(() => {
      reader = fresh.openAnother();
    });
    after(() => reader.close());

    const committed = async (id: string) =>
      (await reader.db.selectFrom('organizations').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

    it('concurrent transactions: the one that throws leaves nothing, every other commits', async () => {
      const ids = Array.from({ length: 30 }, () => systemRandom.uuid() as OrgId);
      const failing = new Set([ids[0], ids[7], ids[29]]);
      const outcomes = await Promise.allSettled(
        ids.map((id) =>
          fresh.stores.transaction(async (s) => {
            await s.users.createOrganization({ id, name: 'first', createdAt: 1 });
            if (failing.has(id)) throw new Error(`refused ${id}`);
            return id;
          }),
        ),
      );
      outcomes.forEach((outcome, i) => {
        if (failing.has(ids[i])) assert.equal(outcome.status === 'rejected' && (outcome.reason as Error).message, `refused ${ids[i]}`);
        else assert.deepEqual(outcome, { status: 'fulfilled', value: ids[i] });
      });
      for (const id of ids) assert.equal(await committed(id), !failing.has(id), id);
    });

    it('a statement that fails inside one transaction does not undo its neighbours', async () => {
      const taken = systemRandom.uuid() as OrgId;
      await fresh.stores.users.createOrganization({ id: taken, name: 'taken', createdAt: 1 });
      const fresh1 = systemRandom.uuid() as OrgId;
      const fresh2 = systemRandom.uuid() as OrgId;
      const [a, b, c] = await Promise.allSettled([
        fresh.stores.transaction((s) => s.users.createOrganization({ id: fresh1, name: 'a', createdAt: 1 })),
        fresh.stores.transaction(async (s) => {
          await s.users.createOrganization({ id: systemRandom.uuid() as OrgId, name: 'written then undone', createdAt: 1 });
          await s.users.createOrganization({ id: taken, name: 'duplicate', createdAt: 1 });
        }),
        fresh.stores.transaction((s) => s.users.createOrganization({ id: fresh2, name: 'c', createdAt: 1 })),
      ]);
      assert.equal(a.status, 'fulfilled');
      assert.equal(b.status, 'rejected');
      assert.equal(c.status, 'fulfilled');
      assert.ok(await committed(fresh1));
      assert.ok(await committed(fresh2));
      const undone = await reader.db.selectFrom('organizations').select('id').where('name', '=', 'written then undone').execute();
      assert.deepEqual(undone, []);
    });

    it('each promise settles only after its transaction is committed (seen from another connection)', async () => {
      const ids = Array.from({ length: 20 }, () => systemRandom.uuid() as OrgId);
      const seenAtSettle = await Promise.all(
        ids.map(async (id) => {
          await fresh.stores.transaction((s) => s.users.createOrganization({ id, name: 'seen', createdAt: 1 }));
          return committed(id);
        }),
      );
      assert.deepEqual(seenAtSettle, ids.map(() => true));
    });

    if (kind === 'sqlite') {
      it('group commit: when the batch itself fails, every caller gets that error and none of it is committed', async () => {
        const group = new GroupCommit(fresh.database.db);
        const ids = Array.from({ length: 5 }, () => systemRandom.uuid());
        const outcomes = await Promise.allSettled(
          ids.map((id, i) =>
            group.run(async (trx) => {
              await trx.insertInto('organizations').values({ id, name: 'batched', created_at: 1 }).execute();
              // Releases the batch's savepoint under it, so settling this job fails after its work succeeded.
              if (i === 2) await sql`release job`.execute(trx);
              return id;
            }),
          ),
        );
        assert.deepEqual(outcomes.map((o) => o.status), ids.map(() => 'rejected'), 'no caller is told of a commit that did not happen');
        for (const id of ids) assert.equal(await committed(id), false, id);
        await group.settled();
      });
    }
  });
}
