import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * When the person behind a refresh family last proved their password (ms), carried into every access token the family
 * issues as `auth_time`: enrolling a second factor asks for a recent one. Null for SDK token families, which no
 * password sign-in started. Every existing session family was started by a password sign-in at its creation.
 */
export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('refresh_families').addColumn('auth_time', 'bigint').execute();
  await db.updateTable('refresh_families').set((eb) => ({ auth_time: eb.ref('created_at') })).where('kind', '=', 'session').execute();
}

export async function down(): Promise<void> {
  throw new Error('AIM migrations only go forward; restore a backup to go back');
}
