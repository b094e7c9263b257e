import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { AgentDirectory, type LoadedAgent } from './agents/directory.js';
import { agentHandlers } from './agents/routes.js';
import { AgentService } from './agents/service.js';
import { ApiKeyService, apiKeyHandlers, apiKeyVerifier } from './api-keys/index.js';
import { AlertDetectors, AlertService, WebhookNotifier, alertHandlers } from './alerts/index.js';
import { KeyExpiryWatch } from './alerts/key-expiry.js';
import { AuditLog } from './audit/audit-log.js';
import { scheduleRetention, type RetentionJob } from './audit/retention.js';
import { AuditCheckpoints } from './audit/checkpoints.js';
import { auditHandlers } from './audit/routes.js';
import { AuditService } from './audit/service.js';
import { type Config, ConfigError, decodeKey } from './config/index.js';
import { MINUTE, SECOND, systemClock, type Clock } from './core/clock.js';
import { notFound } from './core/errors.js';
import { createLogger } from './core/logger.js';
import { SecretBox, generateMasterKey, loadMasterKey } from './core/master-key.js';
import { isUuid, type AgentId, type OrgId } from './core/ids.js';
import { systemRandom, type Random } from './core/random.js';
import { healthHandlers, type ReadinessCheck } from './health/routes.js';
import { buildApp } from './http/app.js';
import { Metrics } from './metrics/metrics.js';
import { recordResponse } from './metrics/routes.js';
import { routeTable } from './http/route-table.js';
import { MASTER_KEY_CHECK_PURPOSE, resealAll, type ResealReport } from './master-key/index.js';
import { recentSignInPolicy } from './sessions/recent-sign-in-policy.js';
import { adminMfaPolicy } from './mfa/policy.js';
import { mfaHandlers } from './mfa/routes.js';
import { MfaService } from './mfa/service.js';
import { BrowserSessions } from './sessions/browser.js';
import { SessionService } from './sessions/service.js';
import { sessionHandlers } from './sessions/routes.js';
import { LocalInvalidationBus } from './shared-state/invalidation.js';
import { LoginThrottle, RateLimiter, rateLimitHook } from './rate-limits/index.js';
import { MemoryCounters, type SharedCounters } from './shared-state/counters.js';
import { FailoverCounters } from './shared-state/failover.js';
import { RedisCounters } from './shared-state/redis-counters.js';
import { RedisConnection } from './shared-state/redis.js';
import { RedisPubSub } from './shared-state/redis-pubsub.js';
import { RedisInvalidationBus, RedisNonceStore, RedisRevocationList } from './shared-state/redis-shared-state.js';
import { DurableRevocationList, MemoryRevocationList } from './shared-state/revocations.js';
import { signatureHandlers } from './signatures/routes.js';
import { ActionVerifier } from './signatures/service.js';
import { migrate, openDatabase, pendingMigrations, type Database } from './storage/database.js';
import { metaGetOrInit } from './storage/meta-store.js';
import { createStores, type StoreHub } from './storage/stores.js';
import { AccessTokens } from './tokens/access-tokens.js';
import { bearerVerifier } from './tokens/bearer.js';
import { tokenHandlers } from './tokens/routes.js';
import { SigningKeyRing } from './tokens/signing-keys.js';
import { ClientAssertionVerifier } from './oauth/client-assertion.js';
import { oauthHandlers } from './oauth/routes.js';
import { OAuthService } from './oauth/service.js';
import { sdkTokenHandlers } from './sdk-tokens/routes.js';
import { SdkTokenService } from './sdk-tokens/service.js';
import { userHandlers } from './users/routes.js';
import { passwordResetHandlers } from './password-resets/routes.js';
import { PasswordResetService } from './password-resets/service.js';
import { ResetLinks } from './password-resets/links.js';
import { UserOffboarding } from './users/offboarding.js';
import { UserService } from './users/service.js';
import { PasswordHasher } from './users/passwords.js';
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
  /** Where the built web UI is (default: packages/web/dist next to this package). */
  webDir?: string;
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
    agents: AgentService;
    verifier: ActionVerifier;
    oauth: OAuthService;
    signingKeys: SigningKeyRing;
    accessTokens: AccessTokens;
    audit: AuditLog;
    apiKeys: ApiKeyService;
    auditService: AuditService;
    mfa: MfaService;
    rateLimiter: RateLimiter;
    loginThrottle: LoginThrottle;
    alerts: AlertService;
    /** What other domains use to turn bursts (invalid signatures, nonce replays) into alerts. */
    alertDetectors: AlertDetectors;
    keyExpiry: KeyExpiryWatch;
  };
  clock: Clock;
  metrics: Metrics;
  /** Stops accepting, lets in-flight requests finish, then closes every pool. */
  close(): Promise<void>;
}

const USAGE_FLUSH_INTERVAL_MS = 5000;
const REVOCATION_CATCH_UP_MS = 30_000;
const NONCE_PRUNE_INTERVAL_MS = 10 * MINUTE;
/** verify-action rejections that raise an alert when this many arrive for one agent within a minute. */
const REJECTION_BURSTS = {
  invalid_signature: { type: 'invalid_signatures', threshold: 10 },
  nonce_reused: { type: 'nonce_replays', threshold: 5 },
} as const;
const MASTER_KEY_CHECK = 'master_key_check';
const WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

export async function createServer(config: Config, overrides: ServerOverrides = {}): Promise<AimServer> {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? systemRandom;
  const logger = overrides.logger ?? createLogger(config.logLevel, overrides.logDestination);

  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize });
  const redis = config.redisUrl ? new RedisConnection({ url: config.redisUrl, prefix: config.redisPrefix, logger }) : undefined;
  const pubsub = redis && new RedisPubSub(redis, logger);
  try {
    if (config.migrateOnStart) await migrate(database);
    else await requireMigrated(database);
    // Shared state: this process's memory, or Redis shared by every node (AIM_REDIS_URL).
    if (redis) await redis.connect();
    const sharedStateError = (error: unknown) => logger.warn({ err: error }, 'shared state (Redis) operation failed');
    const box = secretBox(config);
    await checkMasterKey(database, box, random);
    if (config.masterKeyPrevious) {
      // Key ids only (fingerprints): enough to tell which keys a node runs with, nothing about the keys.
      logger.info({ masterKeyId: box.currentKeyId, previousKeys: box.previousKeyIds }, 'master key rotation: previous keys open values but never seal; run `aim master-key reseal`, then remove AIM_MASTER_KEY_PREVIOUS');
    }

    const stores = createStores(database);
    const audit = new AuditLog(stores.audit, clock, random);
    const hasher = new PasswordHasher({ ...(config.passwordHashConcurrency && { concurrency: config.passwordHashConcurrency }), maxQueued: config.passwordHashQueue });
    const users = new UserService(stores, audit, clock, random, hasher);
    const signingKeys = new SigningKeyRing(stores.signingKeys, box, clock, random, (config.accessTokenTtl + 60) * 1000);
    await signingKeys.init();
    const accessTokens = new AccessTokens(signingKeys, clock, random, config.publicUrl, config.accessTokenTtl);
    const sharedRevocations = pubsub && redis ? new RedisRevocationList(redis, pubsub, clock, sharedStateError) : new MemoryRevocationList(clock);
    if (sharedRevocations instanceof RedisRevocationList) await sharedRevocations.start();
    const revocations = new DurableRevocationList(sharedRevocations, stores.revocations, clock);
    await revocations.load();
    const sessions = new SessionService(stores, users, accessTokens, revocations, audit, clock, random, {
      refreshTtlSeconds: config.refreshTokenTtl,
      reuseGraceSeconds: config.refreshReuseGrace,
      reauthWindowSeconds: config.reauthWindow,
    });
    const apiKeys = new ApiKeyService(stores, users, audit, revocations, clock, random, {
      environment: config.environment,
      maxAgeDays: config.apiKeyMaxAgeDays,
      rotationGraceSeconds: config.apiKeyRotationGrace,
      rateLimitPerMinute: config.rateLimitApiKey,
      usageRetentionDays: config.apiKeyUsageRetentionDays,
    });

    const bus = pubsub ? new RedisInvalidationBus(pubsub, sharedStateError) : new LocalInvalidationBus();
    if (bus instanceof RedisInvalidationBus) await bus.start();
    apiKeys.useInvalidationBus(bus);
    const nonces = redis ? new RedisNonceStore(redis, clock) : stores.nonces;
    const directory = new AgentDirectory(stores.agents, bus, clock);
    const agentPolicy = {
      keyMaxAgeDays: config.keyMaxAgeDays,
      rotationGraceSeconds: config.keyRotationGrace,
      rotationNoticeDays: config.keyRotationNoticeDays,
      signatureWindowSeconds: config.signatureWindow,
    };
    const agents = new AgentService(stores, nonces, directory, audit, clock, random, agentPolicy);
    const verifier = new ActionVerifier(stores, nonces, directory, audit, clock, random, agentPolicy);
    const assertions = new ClientAssertionVerifier(
      directory,
      nonces,
      clock,
      [`${config.publicUrl}/oauth/token`, config.publicUrl],
      (id) => stores.agents.findAgentOrganization(id),
    );
    const oauth = new OAuthService(sessions, accessTokens, assertions, directory, revocations, audit, clock);
    const sdkTokens = new SdkTokenService(stores, sessions, users, config.sdkTokenMaxAgeDays);
    const agentActive = async (orgId: OrgId, agentId: string) =>
      isUuid(agentId) && (await directory.get(orgId, agentId as AgentId))?.agent.status === 'active';
    const mfa = new MfaService(stores, audit, box, clock, random, `AIM (${new URL(config.publicUrl).hostname})`, sessions);
    sessions.useSecondFactor(mfa);
    const browser = new BrowserSessions(sessions, box.deriveKeys('aim.csrf-token'), clock, {
      publicUrl: config.publicUrl,
      refreshTtlSeconds: config.refreshTokenTtl,
    });
    const auditService = new AuditService(stores, audit, clock, config.auditRetentionDays);

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
    const resetLinks = new ResetLinks(stores, audit, clock, random, { ttlMs: config.passwordResetTtl * SECOND, publicUrl: config.publicUrl });
    const passwordResets = new PasswordResetService(stores, audit, clock, hasher, loginThrottle, sessions);
    mfa.useThrottle(loginThrottle);

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
    // Bursts of bad signatures or replays for one agent: someone holds a stale key, or is probing with captured requests
    // (signed actions, or client assertions at the token endpoint).
    const rejectedForAgent = (agent: LoadedAgent['agent'], reason: string, ip: string | null) => {
      const burst = REJECTION_BURSTS[reason as keyof typeof REJECTION_BURSTS];
      if (!burst) return;
      void detectors.burst({
        organizationId: agent.organizationId,
        type: burst.type,
        principal: { type: 'agent', id: agent.id },
        threshold: burst.threshold,
        window: { windowMs: MINUTE, buckets: 12 },
        evidence: { agent_name: agent.name, last_ip: ip, reason },
      });
    };
    verifier.onRejected(rejectedForAgent);
    oauth.onAssertionRefused(rejectedForAgent);
    const keyExpiry = new KeyExpiryWatch(alerts, stores.agents, stores.apiKeys, clock, config.keyRotationNoticeDays);
    const stopKeyExpiry = keyExpiry.start((error) => logger.warn({ err: error }, 'key expiry scan failed'));
    sessions.onLoginFailure((failure) => detectors.loginFailed(failure));
    mfa.onFailure((failure) => detectors.loginFailed(failure));

    if (config.adminEmail && config.adminPassword) {
      const admin = await users.ensureFirstAdmin(config.adminEmail, config.adminPassword);
      if (admin) logger.info({ userId: admin.id }, 'created the first admin from AIM_ADMIN_EMAIL');
    }

    const metrics = new Metrics(() => database.poolStats(), () => hasher.load());
    sessions.onReuse((family) => metrics.reuseDetections.inc({ kind: family.kind }));
    verifier.onDecision((decision, reason) => metrics.decisions.inc({ decision, reason }));
    loginThrottle.onRefused(() => metrics.rateLimited.inc({ class: 'login' }));

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
      webDir: overrides.webDir ?? WEB_DIR,
      metrics: { contentType: metrics.registry.contentType, render: () => metrics.registry.metrics(), token: config.metricsToken },
      onResponse: recordResponse(metrics),
      routes: routeTable({
        health: healthHandlers(checks, () => shuttingDown),
        tokens: tokenHandlers(signingKeys),
        sessions: sessionHandlers(sessions, users, browser),
        users: userHandlers(users, new UserOffboarding(users, { sessions, apiKeys, mfa })),
        passwordResets: passwordResetHandlers(resetLinks, passwordResets),
        agents: agentHandlers(agents),
        signatures: signatureHandlers(verifier),
        oauth: oauthHandlers(oauth, config.publicUrl),
        sdkTokens: sdkTokenHandlers(sdkTokens, () => clock.now(), config.publicUrl),
        apiKeys: apiKeyHandlers(apiKeys),
        mfa: mfaHandlers(mfa),
        audit: auditHandlers(auditService, new AuditCheckpoints(auditService, signingKeys, config.publicUrl, clock)),
        alerts: alertHandlers(alerts),
      }),
      rateLimit: rateLimitHook(rateLimiter, {
        onRefused: (principal, decision) => {
          metrics.rateLimited.inc({ class: decision.rateClass });
          detectors.rateLimited(principal, decision);
        },
      }),
      verifiers: {
        bearer: bearerVerifier(accessTokens, revocations, agentActive),
        apiKey: apiKeyVerifier(apiKeys),
        sessionCookie: (request) => browser.principalFromCookie(request),
      },
      policies: [...(config.requireAdminMfa ? [adminMfaPolicy(mfa)] : []), recentSignInPolicy(sessions)],
    });
    // Retention runs at start and daily: API key usage always (AIM_API_KEY_USAGE_RETENTION_DAYS); the audit log
    // only with AIM_AUDIT_RETENTION_DAYS set, otherwise its entries are kept forever.
    const retention: RetentionJob = scheduleRetention(
      [
        ...(config.auditRetentionDays === undefined ? [] : [{ name: 'audit', prune: () => auditService.prune() }]),
        { name: 'API key usage', prune: () => apiKeys.pruneUsage() },
      ],
      logger,
    );

    // Used nonces outlive their window by minutes, so they are pruned far more often than the daily retention.
    const noncePruning: RetentionJob = scheduleRetention([{ name: 'used nonces', prune: () => verifier.pruneNonces() }], logger, NONCE_PRUNE_INTERVAL_MS);

    // API-key usage is counted in memory and written in batches: no row per request.
    const stopFlushing = apiKeys.startFlushing(USAGE_FLUSH_INTERVAL_MS, (error) => logger.warn({ err: error }, 'API key usage flush failed; will retry'));
    // With several nodes, revocations one of them could not announce (Redis down) reach the others from the database.
    const stopCatchingUp = redis
      ? revocations.startCatchingUp(REVOCATION_CATCH_UP_MS, (error) => logger.warn({ err: error }, 'reading revocations from the database failed'))
      : () => undefined;

    return {
      app,
      config,
      logger,
      database,
      stores,
      services: { users, sessions, agents, verifier, oauth, signingKeys, accessTokens, audit, apiKeys, auditService, mfa, rateLimiter, loginThrottle, alerts, alertDetectors: detectors, keyExpiry },
      clock,
      metrics,
      close: async () => {
        shuttingDown = true;
        await app.close();
        // After the last request: what it counted is written before the pool closes.
        stopFlushing();
        await stopKeyExpiry();
        stopCatchingUp();
        await apiKeys.flushUsage().catch((error: unknown) => logger.error({ err: error }, 'API key usage could not be written at shutdown'));
        await retention.stop();
        await noncePruning.stop();
        await webhook?.close();
        pubsub?.close();
        await redis?.close();
        await stores.settled();
        await database.close();
      },
    };
  } catch (error) {
    pubsub?.close();
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
  return new FailoverCounters(new RedisCounters(redis), new MemoryCounters(), redis, logger);
}

/**
 * Refuses to start with master keys none of which sealed this database's check value: the one it was created with,
 * or (during a rotation) a previous one, or the one a reseal moved it to.
 */
async function checkMasterKey(database: Database, box: SecretBox, random: Random): Promise<void> {
  const sealed = await metaGetOrInit(database.db, MASTER_KEY_CHECK, box.seal(random.uuid(), MASTER_KEY_CHECK_PURPOSE));
  try {
    box.open(sealed, MASTER_KEY_CHECK_PURPOSE);
  } catch {
    throw new ConfigError('AIM_MASTER_KEY: this database was sealed under another master key (neither AIM_MASTER_KEY nor any AIM_MASTER_KEY_PREVIOUS)');
  }
}

/** The master key (AIM_MASTER_KEY or the data dir's generated one) that seals, with the previous ones that only open. */
function secretBox(config: Config): SecretBox {
  const previous = (config.masterKeyPrevious ?? []).map((k) => decodeKey(k)!);
  return new SecretBox(loadMasterKey(config.masterKey ? decodeKey(config.masterKey) : undefined, config.dataDir), previous);
}

/** Creates the server and listens on the configured address. */
export async function startServer(config: Config, overrides: ServerOverrides = {}): Promise<AimServer> {
  const server = await createServer(config, overrides);
  await server.app.listen({ host: config.host, port: config.port });
  return server;
}

/** With migrations as a separate deployment step, a node never serves on a schema older than its code. */
async function requireMigrated(database: Database): Promise<void> {
  const pending = await pendingMigrations(database);
  if (pending.length > 0) {
    throw new Error(`the database schema is behind this version (${pending.length} pending: ${pending.join(', ')}); run \`aim migrate\` first`);
  }
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

/**
 * Makes a password reset link from the command line (`aim user reset-password --store`): for when no admin can sign
 * in to make one, such as the only admin having forgotten their password.
 */
export async function issuePasswordResetFromCli(config: Config, email: string): Promise<{ userId: string; email: string; url: string; expiresAt: number }> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    await migrate(database);
    const stores = createStores(database);
    const user = await stores.users.findByEmail(normalizeEmail(email));
    if (!user) throw notFound('user');
    const audit = new AuditLog(stores.audit, systemClock, systemRandom);
    const links = new ResetLinks(stores, audit, systemClock, systemRandom, { ttlMs: config.passwordResetTtl * SECOND, publicUrl: config.publicUrl });
    const issued = await links.issue(user.organizationId, user.id, { type: 'system' }, null);
    return { userId: issued.user.id, email: issued.user.email, url: issued.url, expiresAt: issued.expiresAt };
  } finally {
    await database.close();
  }
}

export { serve } from './serve.js';
export { loadConfig, ConfigError, type Config } from './config/index.js';
export { AimError } from './core/errors.js';

/**
 * Starts signing access tokens with a new key (`aim keys rotate-signing`). Running nodes pick it up within a minute;
 * the previous key stays in the JWKS until every token it signed has expired.
 */
export async function rotateSigningKey(config: Config): Promise<{ kid: string }> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    await migrate(database);
    const box = secretBox(config);
    await checkMasterKey(database, box, systemRandom);
    const stores = createStores(database);
    const ring = new SigningKeyRing(stores.signingKeys, box, systemClock, systemRandom, (config.accessTokenTtl + 60) * 1000);
    const kid = await ring.rotate();
    await new AuditLog(stores.audit, systemClock, systemRandom).record({
      organizationId: 'system',
      event: 'signing_key.rotated',
      actor: { type: 'system' },
      data: { kid },
    });
    return { kid };
  } finally {
    await database.close();
  }
}

/**
 * Moves every value sealed with a master key to AIM_MASTER_KEY (`aim master-key reseal`), after the nodes run with
 * the new key as AIM_MASTER_KEY and the old one in AIM_MASTER_KEY_PREVIOUS. Safe to run again, and while nodes run.
 */
export async function resealMasterKey(config: Config): Promise<ResealReport> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    await requireMigrated(database);
    const box = secretBox(config);
    await checkMasterKey(database, box, systemRandom);
    const stores = createStores(database);
    return await resealAll(stores, box, new AuditLog(stores.audit, systemClock, systemRandom));
  } finally {
    await database.close();
  }
}

export { generateMasterKey };
