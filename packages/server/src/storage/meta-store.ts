import type { Kysely } from 'kysely';
import type { Tables } from './tables.js';

/** Reads a meta value, or stores `value` when there is none yet (first writer wins across nodes). */
export async function metaGetOrInit(db: Kysely<Tables>, key: string, value: string): Promise<string> {
  await db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const row = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirstOrThrow();
  return row.value;
}
