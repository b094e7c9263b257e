import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * Suspicious-activity alerts. `open_key` names the group (type + principal) while the alert is not resolved and is
 * NULL once it is: the unique index over it lets only one unresolved alert exist per group, so concurrent raises on
 * any number of nodes add to that one row. NULLs are distinct in unique indexes on both SQLite and PostgreSQL.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organization_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('principal_type', 'text', (c) => c.notNull())
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('latest_evidence', 'text', (c) => c.notNull())
    .addColumn('occurrences', 'bigint', (c) => c.notNull())
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('open_key', 'text')
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('acknowledged_by', 'text')
    .addColumn('resolved_at', 'bigint')
    .addColumn('resolved_by', 'text')
    .addColumn('notified_at', 'bigint')
    .addUniqueConstraint('alerts_open_group', ['organization_id', 'open_key'])
    .execute();
  await db.schema.createIndex('alerts_org_first_seen').on('alerts').columns(['organization_id', 'first_seen_at', 'id']).execute();
}

export async function down(): Promise<void> {
  throw new Error('AIM migrations only go forward; restore a backup to go back');
}
