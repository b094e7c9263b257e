import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { restrictToOwner } from '../core/private-files.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Tables } from './tables.js';

export type Dialect = 'sqlite' | 'postgres';

/** One database handle: the query builder plus what is needed to run and close it. */
export interface Database {
  readonly db: Kysely<Tables>;
  readonly dialect: Dialect;
  /** Connections in use and idle, for /metrics; SQLite has one. */
  poolStats(): { total: number; idle: number; waiting: number };
  ping(): Promise<void>;
  close(): Promise<void>;
}

// PostgreSQL int8 (our millisecond timestamps) comes back as a JS number: every value fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize?: number;
}

export function openDatabase(options: DatabaseOptions): Database {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.poolSize ?? 10) : openSqlite(options.dataDir);
}

function openSqlite(dataDir: string): Database {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'aim.sqlite');
  // SQLite would create the file with the umask's mode (0644 as a rule) and gives its -wal and -shm files the mode of
  // the database, so it is created 0600 here first: it holds password hashes and sealed secrets (README: AIM_DATA_DIR).
  // One made wider by an older version is narrowed, with any -wal and -shm it left, before SQLite opens them.
  closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) restrictToOwner(path);
  const sqlite = new SQLite(file);
  // WAL keeps readers off the writer's back; NORMAL is durable across process crashes in WAL mode.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return {
    db,
    dialect: 'sqlite',
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    ping: async () => {
      sqlite.prepare('select 1').get();
    },
    close: () => db.destroy(),
  };
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query afresh; compiling the SQL each time was a tenth of the verify-action profile.
 * A prepared statement is reusable once its run, all or iterate has finished, and Kysely's SQLite driver holds
 * its single connection for the whole of each call, so one cached statement per SQL text is never used twice
 * at once. Bounded, least recently used out first (queries with IN lists make new texts).
 */
function withStatementCache(sqlite: SQLite.Database): { prepare(sql: string): SQLite.Statement; close(): void } {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(sql) {
      let statement = cache.get(sql);
      if (statement) cache.delete(sql);
      else {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, statement);
      return statement;
    },
    close: () => sqlite.close(),
  };
}

function openPostgres(url: string, max: number): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    // Bounds every statement, so a stuck query fails the request instead of holding a connection.
    statement_timeout: 10_000,
    query_timeout: 12_000,
  });
  // A client losing its connection (server restart, pg_terminate_backend) must not crash the process: the pool
  // reports idle clients, and a checked-out client reports on itself between queries. The query in flight, if
  // any, fails on its own and becomes a 503; the pool then drops the broken client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    ping: async () => {
      await pool.query('select 1');
    },
    close: () => db.destroy(),
  };
}

function migrator(database: Database): Migrator {
  return new Migrator({ db: database.db, provider: { getMigrations: async () => MIGRATIONS } });
}

/** Names of the migrations this build knows and the database has not run yet. */
export async function pendingMigrations(database: Database): Promise<string[]> {
  return (await migrator(database).getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Runs every pending migration; safe to call from several nodes at once (Kysely takes a lock). */
export async function migrate(database: Database): Promise<string[]> {
  const { error, results } = await migrator(database).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
