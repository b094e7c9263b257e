import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * The token a rotation issued, kept on the token it replaced: a client whose refresh response was lost may present
 * the replaced token again within `AIM_REFRESH_REUSE_GRACE_SECONDS`, and only while that successor is still unused.
 */
export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('refresh_tokens').addColumn('replaced_by', 'text').execute();
}

export async function down(): Promise<void> {
  throw new Error('AIM migrations only go forward; restore a backup to go back');
}
