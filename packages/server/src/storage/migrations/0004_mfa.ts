import type { Kysely } from 'kysely';

// Migrations take Kysely<any>: they describe the schema as it was then, not as the code types it now.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/** TOTP second factor and recovery codes; audit retention anchors; indexes for the audit log filters. */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('mfa_totp')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id'))
    // Sealed with the master key (SecretBox); never stored in the clear.
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // NULL while setup is pending: the factor counts only once a code proved the authenticator has the secret.
    .addColumn('enabled_at', 'bigint')
    // The newest RFC 6238 time step accepted; only later steps are accepted after it.
    .addColumn('last_used_step', 'bigint')
    .execute();

  await db.schema
    .createTable('mfa_recovery_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addUniqueConstraint('mfa_recovery_codes_user_hash', ['user_id', 'code_hash'])
    .execute();

  await db.schema
    .createTable('audit_anchors')
    .addColumn('organization_id', 'text', (c) => c.primaryKey())
    // The last pruned entry: the first kept one has seq + 1 and prev_hash = hash.
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('pruned_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['organization_id', 'actor_id', 'seq']).execute();
  await db.schema.createIndex('audit_log_event').on('audit_log').columns(['organization_id', 'event', 'seq']).execute();
}

export async function down(): Promise<void> {
  throw new Error('AIM migrations only go forward; restore a backup to go back');
}
