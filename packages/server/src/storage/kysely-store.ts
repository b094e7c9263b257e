import { sql, type Kysely } from 'kysely';
import type { Dialect } from './database.js';
import type { Tables } from './tables.js';

/** Runs `fn` in a new transaction and answers once it has committed. */
export type Transact = <T>(fn: (trx: Kysely<Tables>) => Promise<T>) => Promise<T>;

/**
 * What every Kysely-backed store shares: the handle, the dialect, and how to start a transaction (none when the
 * store is already bound to one).
 */
export abstract class KyselyStore {
  constructor(
    protected readonly db: Kysely<Tables>,
    protected readonly dialect: Dialect,
    private readonly transact: Transact | undefined,
  ) {}

  /** Runs `fn` in a transaction: the surrounding one when there is one, else a new one. */
  protected atomically<T>(fn: (db: Kysely<Tables>) => Promise<T>): Promise<T> {
    return this.transact ? this.transact(fn) : fn(this.db);
  }

  /**
   * Serializes writers of one named resource until the surrounding transaction ends: an advisory lock on
   * PostgreSQL (held across every node); on SQLite the single writer already serializes.
   */
  protected async lock(trx: Kysely<Tables>, name: string): Promise<void> {
    if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(trx);
  }
}
