import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, REDIS_TEST_URL, type StoreKind, type TestDatabase } from '../../packages/server/test/support/databases.js';
import { startServerProcess, type ServerProcess } from '../../packages/server/test/support/process.js';
import { dropRedisPrefix, uniqueRedisPrefix } from '../../packages/server/test/support/redis.js';
import { newKeyPair, type TestKeyPair } from '../../packages/server/test/support/agents.js';

export const PROFILE_DIR = resolve('bench/profiles');
export const PUBLIC_URL = 'http://aim.bench';
export const ADMIN_EMAIL = 'bench-admin@example.test';
export const ADMIN_PASSWORD = `bench-${randomBytes(12).toString('hex')}`;

/** A store (and optionally Redis) for one benchmark, with the server process that runs on it. */
export interface AimTarget {
  kind: StoreKind;
  redisPrefix: string | undefined;
  database: TestDatabase;
  server: ServerProcess;
  /** Stops the process (keeping the data). */
  stop(): Promise<void>;
  /** Starts a new process on the same data; answers milliseconds from spawn to listening. */
  restart(profileName?: string): Promise<number>;
  /** Stops and deletes the data. */
  drop(): Promise<void>;
}

export interface AimOptions {
  kind?: StoreKind;
  redis?: boolean;
  /** When set, the server runs with --cpu-prof and writes bench/profiles/<name>-*.cpuprofile on exit. */
  profileName?: string;
}

function environment(database: TestDatabase, redisPrefix: string | undefined): Record<string, string> {
  return {
    AIM_DATA_DIR: database.dataDir,
    ...(database.databaseUrl && { AIM_DATABASE_URL: database.databaseUrl }),
    ...(redisPrefix && { AIM_REDIS_URL: REDIS_TEST_URL, AIM_REDIS_PREFIX: redisPrefix }),
    AIM_PUBLIC_URL: PUBLIC_URL,
    AIM_ADMIN_EMAIL: ADMIN_EMAIL,
    AIM_ADMIN_PASSWORD: ADMIN_PASSWORD,
    // Limits stay on (their cost is part of every request) but high enough that a benchmark never hits them.
    AIM_RATE_LIMIT_JWT: '10000000',
    AIM_RATE_LIMIT_API_KEY: '10000000',
    AIM_RATE_LIMIT_OAUTH: '10000000',
    AIM_RATE_LIMIT_PUBLIC: '10000000',
    AIM_ACCESS_TOKEN_TTL: '3600',
  };
}

function nodeArgs(profileName: string | undefined): string[] {
  if (!profileName) return [];
  mkdirSync(PROFILE_DIR, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${profileName}-${Date.now()}.cpuprofile`];
}

/** Servers this run started and has not stopped: killed if the run itself dies, so none is left behind. */
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

export async function startAim(options: AimOptions = {}): Promise<AimTarget> {
  const kind = options.kind ?? 'sqlite';
  const database = await createTestDatabase(kind);
  const redisPrefix = options.redis ? uniqueRedisPrefix('bench') : undefined;
  const env = environment(database, redisPrefix);
  const launch = async (profileName?: string) => {
    const server = await startServerProcess(env, { nodeArgs: nodeArgs(profileName), keepLines: false, startTimeoutMs: 600_000 });
    running.add(server.pid);
    const stop = server.stop;
    return { ...server, stop: () => stop().finally(() => running.delete(server.pid)) };
  };
  const target: AimTarget = {
    kind,
    redisPrefix,
    database,
    server: await launch(options.profileName),
    stop: () => target.server.stop(),
    restart: async (profileName) => {
      await target.server.stop();
      const started = performance.now();
      target.server = await launch(profileName);
      return performance.now() - started;
    },
    drop: async () => {
      await target.server.stop();
      await database.drop();
      if (redisPrefix) await dropRedisPrefix(redisPrefix);
    },
  };
  return target;
}

/** A scratch directory removed by the caller. */
export function scratchDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'aim-bench-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  organizationId: string;
  userId: string;
}

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const response = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

export async function login(url: string): Promise<Session> {
  const body = await post(url, '/api/v1/public/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  const user = body.user as { id: string; organization_id: string };
  return { accessToken: String(body.access_token), refreshToken: String(body.refresh_token), organizationId: user.organization_id, userId: user.id };
}

/** `count` refresh tokens, each the head of its own family, from logins a few at a time. */
export async function refreshTokens(url: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  while (tokens.length < count) {
    const batch = await Promise.all(Array.from({ length: Math.min(4, count - tokens.length) }, () => login(url)));
    tokens.push(...batch.map((s) => s.refreshToken));
  }
  return tokens;
}

export async function createApiKey(url: string, session: Session): Promise<string> {
  const body = await post(url, '/api/v1/api-keys', { name: `bench-${randomBytes(3).toString('hex')}`, scopes: ['agents:read', 'agents:write', 'verify', 'audit:read'] }, { authorization: `Bearer ${session.accessToken}` });
  return String(body.key);
}

export interface BenchAgent {
  id: string;
  keys: TestKeyPair;
}

export async function registerAgent(url: string, session: Session, capabilities = ['files:*', 'search']): Promise<BenchAgent> {
  const keys = newKeyPair();
  const body = await post(
    url,
    '/api/v1/agents',
    { name: `bench-${randomBytes(4).toString('hex')}`, type: 'agent', capabilities, public_key: keys.publicKey },
    { authorization: `Bearer ${session.accessToken}` },
  );
  return { id: String(body.agent_id), keys };
}
