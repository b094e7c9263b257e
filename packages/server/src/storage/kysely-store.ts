import { sql, type Kysely } from 'kysely';
import type { Dialect } from './database.js';
import type { Tables } from './tables.js';

/** What every Kysely-backed store shares: the handle, the dialect, and whether it already runs in a transaction. */
export abstract class KyselyStore {
  constructor(
    protected readonly db: Kysely<Tables>,
    protected readonly dialect: Dialect,
    protected readonly inTransaction: boolean,
  ) {}

  /** Runs `fn` in a transaction: the surrounding one when there is one, else a new one. */
  protected atomically<T>(fn: (db: Kysely<Tables>) => Promise<T>): Promise<T> {
    return this.inTransaction ? fn(this.db) : this.db.transaction().execute(fn);
  }

  /**
   * Serializes writers of one named resource until the surrounding transaction ends: an advisory lock on
   * PostgreSQL (held across every node); on SQLite the single writer already serializes.
   */
  protected async lock(trx: Kysely<Tables>, name: string): Promise<void> {
    if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(trx);
  }
}
