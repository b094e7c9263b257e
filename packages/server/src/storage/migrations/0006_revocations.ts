import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * Revocations of bearer credentials that stay valid on their own until they expire (access tokens of a revoked
 * session, a revoked token id): kept until `until`, so a node that restarts, or a Redis that loses its keys, does
 * not bring a revoked token back to life.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('revocations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('until', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('revocations_until').on('revocations').column('until').execute();
}

export async function down(): Promise<void> {
  throw new Error('AIM migrations only go forward; restore a backup to go back');
}
