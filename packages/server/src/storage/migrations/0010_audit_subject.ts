import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/** "Everything that happened to this agent (key, user…)": the audit log filtered by subject, newest first. */
export async function up(db: Db): Promise<void> {
  await db.schema.createIndex('audit_log_subject').on('audit_log').columns(['organization_id', 'subject_id', 'seq']).execute();
}

export async function down(): Promise<void> {
  throw new Error('AIM migrations only go forward; restore a backup to go back');
}
