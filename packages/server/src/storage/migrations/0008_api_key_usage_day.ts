import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/** Usage retention deletes by day across every key: without this index each daily run would scan the whole table. */
export async function up(db: Db): Promise<void> {
  await db.schema.createIndex('api_key_usage_day').on('api_key_usage').column('day').execute();
}

export async function down(): Promise<void> {
  throw new Error('AIM migrations only go forward; restore a backup to go back');
}
