import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { AlertDetectors, AlertService, WebhookNotifier, alertHandlers } from './alerts/index.js';
import { AuditLog } from './audit/audit-log.js';
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
import { SessionService } from './sessions/service.js';
import { sessionHandlers } from './sessions/routes.js';
import { LoginThrottle, RateLimiter, rateLimitHook } from './rate-limits/index.js';
import { MemoryCounters, type SharedCounters } from './shared-state/counters.js';
import { FailoverCounters } from './shared-state/failover.js';
import { RedisCounters } from './shared-state/redis-counters.js';
import { RedisConnection } from './shared-state/redis.js';
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
import { normalizeEmail } from './users/types.js';

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
    rateLimiter: RateLimiter;
    loginThrottle: LoginThrottle;
    alerts: AlertService;
    /** What other domains use to turn bursts (invalid signatures, nonce replays) into alerts. */
    alertDetectors: AlertDetectors;
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
  const redis = config.redisUrl ? new RedisConnection({ url: config.redisUrl, prefix: config.redisPrefix, logger }) : undefined;
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

    // Rate-limit counters: in memory, or in Redis shared by every node with this node's memory as the fallback.
    const counters = redis ? await sharedCounters(redis, logger) : new MemoryCounters();
    const rateLimiter = new RateLimiter(counters, clock, {
      jwt: config.rateLimitJwt,
      api_key: config.rateLimitApiKey,
      oauth: config.rateLimitOauth,
      public: config.rateLimitPublic,
    });
    const loginThrottle = new LoginThrottle(counters, clock);
    sessions.useLoginThrottle(loginThrottle);

    const alerts = new AlertService(stores, audit, clock, random, logger);
    const webhook =
      config.alertWebhookUrl && config.alertWebhookSecret
        ? new WebhookNotifier({ url: config.alertWebhookUrl, secret: config.alertWebhookSecret, clock, random, logger })
        : undefined;
    if (webhook) alerts.useNotifier(webhook);
    const detectors = new AlertDetectors(alerts, audit, counters, clock, async (email) => {
      const user = await stores.users.findByEmail(normalizeEmail(email));
      return user && { id: user.id, organizationId: user.organizationId };
    });
    sessions.onReuse((family, ip) => detectors.refreshTokenReused(family, ip));
    sessions.onLoginFailure((failure) => detectors.loginFailed(failure));

    if (config.adminEmail && config.adminPassword) {
      const admin = await users.ensureFirstAdmin(config.adminEmail, config.adminPassword);
      if (admin) logger.info({ userId: admin.id }, 'created the first admin from AIM_ADMIN_EMAIL');
    }

    let shuttingDown = false;
    const checks: ReadinessCheck[] = [
      { name: 'database', check: async () => (await database.ping(), { status: 'up' as const, detail: database.dialect }) },
      {
        name: 'shared_state',
        check: async () => (counters instanceof FailoverCounters ? counters.health() : { status: 'up' as const, detail: 'memory' }),
      },
    ];
    const app = await buildApp({
      config,
      logger,
      webDir: WEB_DIR,
      routes: routeTable({
        health: healthHandlers(checks, () => shuttingDown),
        tokens: tokenHandlers(signingKeys),
        sessions: sessionHandlers(sessions, users),
        users: userHandlers(users),
        alerts: alertHandlers(alerts),
      }),
      rateLimit: rateLimitHook(rateLimiter, { onRefused: (principal, decision) => detectors.rateLimited(principal, decision) }),
      verifiers: {
        bearer: bearerVerifier(accessTokens, revocations),
        apiKey: async () => {
          throw new AimError('invalid_api_key', 'API keys are not enabled');
        },
      },
    });

    return {
      app,
      config,
      logger,
      database,
      stores,
      services: { users, sessions, signingKeys, accessTokens, audit, rateLimiter, loginThrottle, alerts, alertDetectors: detectors },
      clock,
      close: async () => {
        shuttingDown = true;
        await app.close();
        await webhook?.close();
        await redis?.close();
        await database.close();
      },
    };
  } catch (error) {
    await redis?.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Counters in Redis with per-node memory as the fallback. A Redis that is down at start-up does not stop the node:
 * it starts degraded (logged, and `degraded` in /health/ready) and switches to Redis once it answers.
 */
async function sharedCounters(redis: RedisConnection, logger: Logger): Promise<SharedCounters> {
  await redis.connect();
  return new FailoverCounters(new RedisCounters(redis), new MemoryCounters(), redis, logger);
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
