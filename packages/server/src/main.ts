import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { AuditLog } from './audit/audit-log.js';
import { scheduleRetention, type RetentionJob } from './audit/retention.js';
import { auditHandlers } from './audit/routes.js';
import { AuditService } from './audit/service.js';
import { type Config, ConfigError, decodeKey } from './config/index.js';
import { systemClock, type Clock } from './core/clock.js';
import { createLogger } from './core/logger.js';
import { SecretBox, loadMasterKey } from './core/master-key.js';
import type { OrgId } from './core/ids.js';
import { systemRandom, type Random } from './core/random.js';
import { healthHandlers, type ReadinessCheck } from './health/routes.js';
import { buildApp } from './http/app.js';
import { AimError } from './core/errors.js';
import { routeTable } from './http/route-table.js';
import { adminMfaPolicy } from './mfa/policy.js';
import { mfaHandlers } from './mfa/routes.js';
import { MfaService } from './mfa/service.js';
import { BrowserSessions } from './sessions/browser.js';
import { SessionService } from './sessions/service.js';
import { sessionHandlers } from './sessions/routes.js';
import { MemoryRevocationList } from './shared-state/revocations.js';
import { migrate, openDatabase, type Database } from './storage/database.js';
import { metaGetOrInit } from './storage/meta-store.js';
import { createStores, type StoreHub } from './storage/stores.js';
import { AccessTokens } from './tokens/access-tokens.js';
import { bearerVerifier } from './tokens/bearer.js';
import { tokenHandlers } from './tokens/routes.js';
import { SigningKeyRing } from './tokens/signing-keys.js';
import { userHandlers } from './users/routes.js';
import { UserService } from './users/service.js';

/**
 * The only wiring file: config -> stores -> services -> HTTP. Everything time- or randomness-dependent
 * receives the clock and the random source from here, so tests can replace them.
 */
export interface ServerOverrides {
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  logDestination?: DestinationStream;
}

export interface AimServer {
  app: FastifyInstance;
  config: Config;
  logger: Logger;
  database: Database;
  stores: StoreHub;
  services: {
    users: UserService;
    sessions: SessionService;
    signingKeys: SigningKeyRing;
    accessTokens: AccessTokens;
    audit: AuditLog;
    auditService: AuditService;
    mfa: MfaService;
  };
  clock: Clock;
  /** Stops accepting, lets in-flight requests finish, then closes every pool. */
  close(): Promise<void>;
}

const WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

export async function createServer(config: Config, overrides: ServerOverrides = {}): Promise<AimServer> {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? systemRandom;
  const logger = overrides.logger ?? createLogger(config.logLevel, overrides.logDestination);

  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize });
  try {
    await migrate(database);
    const box = new SecretBox(loadMasterKey(config.masterKey ? decodeKey(config.masterKey) : undefined, config.dataDir));
    await checkMasterKey(database, box, random);

    const stores = createStores(database);
    const audit = new AuditLog(stores.audit, clock, random);
    const users = new UserService(stores, audit, clock, random);
    const signingKeys = new SigningKeyRing(stores.signingKeys, box, clock, random, (config.accessTokenTtl + 60) * 1000);
    await signingKeys.init();
    const accessTokens = new AccessTokens(signingKeys, clock, random, config.publicUrl, config.accessTokenTtl);
    const revocations = new MemoryRevocationList(clock);
    const sessions = new SessionService(stores, users, accessTokens, revocations, audit, clock, random, config.refreshTokenTtl);
    await sessions.restoreRevocations();
    const mfa = new MfaService(stores, audit, box, clock, random, `AIM (${new URL(config.publicUrl).hostname})`);
    sessions.useSecondFactor(mfa);
    const browser = new BrowserSessions(sessions, box.deriveKey('aim.csrf-token'), clock, {
      publicUrl: config.publicUrl,
      refreshTtlSeconds: config.refreshTokenTtl,
    });
    const auditService = new AuditService(stores, audit, clock, config.auditRetentionDays);

    if (config.adminEmail && config.adminPassword) {
      const admin = await users.ensureFirstAdmin(config.adminEmail, config.adminPassword);
      if (admin) logger.info({ userId: admin.id }, 'created the first admin from AIM_ADMIN_EMAIL');
    }

    let shuttingDown = false;
    const checks: ReadinessCheck[] = [
      { name: 'database', check: async () => (await database.ping(), { status: 'up' as const, detail: database.dialect }) },
    ];
    const app = await buildApp({
      config,
      logger,
      webDir: WEB_DIR,
      routes: routeTable({
        health: healthHandlers(checks, () => shuttingDown),
        tokens: tokenHandlers(signingKeys),
        sessions: sessionHandlers(sessions, users, browser),
        users: userHandlers(users),
        mfa: mfaHandlers(mfa),
        audit: auditHandlers(auditService),
      }),
      verifiers: {
        bearer: bearerVerifier(accessTokens, revocations),
        apiKey: async () => {
          throw new AimError('invalid_api_key', 'API keys are not enabled');
        },
        sessionCookie: (request) => browser.principalFromCookie(request),
      },
      policies: config.requireAdminMfa ? [adminMfaPolicy(mfa)] : [],
    });
    // Retention runs at start and daily; with AIM_AUDIT_RETENTION_DAYS unset, entries are kept forever.
    const retention: RetentionJob | undefined =
      config.auditRetentionDays === undefined ? undefined : scheduleRetention(auditService, logger);

    return {
      app,
      config,
      logger,
      database,
      stores,
      services: { users, sessions, signingKeys, accessTokens, audit, auditService, mfa },
      clock,
      close: async () => {
        shuttingDown = true;
        await app.close();
        await retention?.stop();
        await database.close();
      },
    };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
}

/** Refuses to start with a master key other than the one this database was first used with. */
async function checkMasterKey(database: Database, box: SecretBox, random: Random): Promise<void> {
  const sealed = await metaGetOrInit(database.db, 'master_key_check', box.seal(random.uuid(), 'aim.master-key-check'));
  try {
    box.open(sealed, 'aim.master-key-check');
  } catch {
    throw new ConfigError('AIM_MASTER_KEY: does not match the key this database was created with');
  }
}

/** Creates the server and listens on the configured address. */
export async function startServer(config: Config, overrides: ServerOverrides = {}): Promise<AimServer> {
  const server = await createServer(config, overrides);
  await server.app.listen({ host: config.host, port: config.port });
  return server;
}

/** Runs the migrations and exits: the separate deployment step (`aim migrate`). */
export async function runMigrations(config: Config): Promise<string[]> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    return await migrate(database);
  } finally {
    await database.close();
  }
}

/** Creates a user from the command line (`aim user create`): a new organization unless one is named. */
export async function createUserFromCli(
  config: Config,
  input: { email: string; password: string; role: 'admin' | 'manager' | 'member' | 'viewer'; organizationId?: string },
): Promise<{ id: string; email: string; role: string; organizationId: string }> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    await migrate(database);
    const stores = createStores(database);
    const audit = new AuditLog(stores.audit, systemClock, systemRandom);
    const users = new UserService(stores, audit, systemClock, systemRandom);
    const user = await users.create(
      { email: input.email, password: input.password, role: input.role, ...(input.organizationId && { organizationId: input.organizationId as OrgId }) },
      { type: 'system' },
    );
    return { id: user.id, email: user.email, role: user.role, organizationId: user.organizationId };
  } finally {
    await database.close();
  }
}

export { serve } from './serve.js';
export { loadConfig, ConfigError, type Config } from './config/index.js';
export { AimError } from './core/errors.js';
