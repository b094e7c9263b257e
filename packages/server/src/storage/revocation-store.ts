import { sql } from 'kysely';
import type { RevocationStore } from '../shared-state/revocations.js';
import { KyselyStore } from './kysely-store.js';

export class KyselyRevocationStore extends KyselyStore implements RevocationStore {
  /** Keeps the later `until` when an id is revoked twice. */
  async saveRevocation(id: string, until: number): Promise<void> {
    await this.db
      .insertInto('revocations')
      .values({ id, until })
      .onConflict((oc) => oc.column('id').doUpdateSet({ until: sql<number>`case when excluded.until > revocations.until then excluded.until else revocations.until end` }))
      .execute();
  }

  async activeRevocations(now: number): Promise<{ id: string; until: number }[]> {
    const rows = await this.db.selectFrom('revocations').select(['id', 'until']).where('until', '>', now).execute();
    return rows.map((r) => ({ id: r.id, until: Number(r.until) }));
  }

  async pruneRevocations(now: number): Promise<number> {
    const result = await this.db.deleteFrom('revocations').where('until', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
