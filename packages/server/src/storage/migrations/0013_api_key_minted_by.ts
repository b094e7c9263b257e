import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * The API key whose request created (or rotated into being) each key; NULL when a person did it with a JWT. A
 * stolen `admin` key can mint keys that outlive it: this finds them, and `?revoke_minted=true` revokes them.
 */
export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('minted_by', 'text').execute();
  await db.schema.createIndex('api_keys_minted_by').on('api_keys').column('minted_by').execute();
}

export async function down(): Promise<void> {
  throw new Error('AIM migrations only go forward; restore a backup to go back');
}
