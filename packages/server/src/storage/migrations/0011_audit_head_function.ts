import { PostgresAdapter, sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * PostgreSQL: an audit append takes its organization's chain lock, then reads the chain head. As two statements that
 * is two round trips while the lock is held; this function does both in one. It is VOLATILE, so its SELECT takes a
 * fresh snapshot after the lock is granted and sees the head the previous holder committed. SQLite needs no lock.
 */
export async function up(db: Db): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
    create or replace function aim_audit_head(org text, lock_name text) returns table (seq bigint, hash text)
    language plpgsql volatile as $$
    begin
      perform pg_advisory_xact_lock(hashtextextended(lock_name, 0));
      return query select a.seq, a.hash from audit_log a where a.organization_id = org order by a.seq desc limit 1;
    end
    $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('AIM migrations only go forward; restore a backup to go back');
}
