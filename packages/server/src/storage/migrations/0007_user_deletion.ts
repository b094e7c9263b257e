import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * Deleted accounts become tombstones: the row stays (API keys, refresh families and audit entries point at it),
 * but its email is freed, its password hash and second factor are gone, and every lookup skips it.
 */
export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('users').addColumn('deleted_at', 'bigint').execute();
}

export async function down(): Promise<void> {
  throw new Error('AIM migrations only go forward; restore a backup to go back');
}
