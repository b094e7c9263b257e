import { ROLE_SCOPES, isScope, type Scope } from '@aim/protocol';
import type { AuditLog } from '../audit/audit-log.js';
import { DAY, SECOND, type Clock } from '../core/clock.js';
import { AimError, invalidRequest, notFound } from '../core/errors.js';
import { sha256Hex } from '../core/hashing.js';
import { isUuid, type ApiKeyId, type OrgId, type UserId } from '../core/ids.js';
import type { Random } from '../core/random.js';
import { hasScope, type Principal } from '../http/principal.js';
import type { InvalidationBus } from '../shared-state/invalidation.js';
import type { RevocationList } from '../shared-state/revocations.js';
import type { StoreHub, Stores } from '../storage/stores.js';
import type { User } from '../users/types.js';
import type { UserService } from '../users/service.js';
import { displayPrefix, generateApiKey, parseApiKey } from './format.js';
import { type ApiKey, type ApiKeyCredential, type ApiKeyEnvironment, type ApiKeyStatus, type NewApiKey, type UsageReport, statusOf } from './types.js';
import { UsageCounter, utcDay } from './usage.js';

/** Scopes a key gets when the request names none. */
export const DEFAULT_SCOPES: readonly Scope[] = ['agents:read', 'agents:write', 'verify'];
/** A key this close to its expiry is flagged in lists. */
export const EXPIRING_SOON = 14 * DAY;
/** How long a verified key is trusted from memory. Revocation on this node is immediate regardless. */
export const CACHE_TTL = 30 * SECOND;
const CACHE_MAX_ENTRIES = 10_000;
/** Bound parameters per cascade statement: well under SQLite's and PostgreSQL's limits. */
const PARENTS_PER_STATEMENT = 500;

export interface ApiKeyServiceOptions {
  /** AIM_ENVIRONMENT: keys are issued for it, and keys of the other one are refused. */
  environment: ApiKeyEnvironment;
  /** AIM_API_KEY_MAX_AGE_DAYS: the longest a key may live. */
  maxAgeDays: number;
  /** AIM_API_KEY_ROTATION_GRACE: seconds a rotated key keeps working. */
  rotationGraceSeconds: number;
  /** AIM_RATE_LIMIT_API_KEY: a key may set a lower limit of its own, never a higher one. */
  rateLimitPerMinute: number;
  /** AIM_API_KEY_USAGE_RETENTION_DAYS: usage rows of older days are pruned. */
  usageRetentionDays: number;
}

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

/** A key with what follows from the current time. */
export interface ApiKeyState extends ApiKey {
  status: ApiKeyStatus;
  expiringSoon: boolean;
}

/** A key as returned when it is made: the only time its plaintext exists outside the caller. */
export interface IssuedApiKey {
  key: ApiKeyState;
  plaintext: string;
}

export interface CreateApiKeyInput {
  name: string;
  scopes?: Scope[] | undefined;
  expiresInDays?: number | undefined;
  rateLimitPerMinute?: number | undefined;
}

interface CacheEntry {
  loaded: Promise<ApiKeyCredential | undefined>;
  until: number;
  keyId?: ApiKeyId;
}

/**
 * API keys for SDKs and automation: issue, list, rotate with a grace period, revoke, and verify on every request.
 * Only SHA-256 of a key is stored; the plaintext is returned once, by `create` and `rotate`.
 */
export class ApiKeyService {
  readonly usage: UsageCounter;
  private readonly cache = new Map<string, CacheEntry>();
  private bus: InvalidationBus | undefined;
  /** Bumped on every invalidation and resync, so a load that raced with one is used once, not kept. */
  private generation = 0;

  constructor(
    private readonly hub: StoreHub,
    private readonly users: UserService,
    private readonly audit: AuditLog,
    private readonly revocations: RevocationList,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly options: ApiKeyServiceOptions,
  ) {
    this.usage = new UsageCounter(hub.apiKeys);
  }

  async create(principal: Principal, input: CreateApiKeyInput, meta: RequestMeta): Promise<IssuedApiKey> {
    const creator = await this.creatorOf(principal);
    const scopes = normalizeScopes(input.scopes ?? DEFAULT_SCOPES);
    this.checkGrant(principal, creator, scopes);
    const maxDays = this.options.maxAgeDays;
    const days = input.expiresInDays ?? maxDays;
    if (days > maxDays) throw invalidRequest(`expires_in_days may be at most ${maxDays} (AIM_API_KEY_MAX_AGE_DAYS)`);
    const rateLimit = input.rateLimitPerMinute ?? null;
    if (rateLimit !== null && rateLimit > this.options.rateLimitPerMinute) {
      throw invalidRequest(`rate_limit_per_minute may be at most ${this.options.rateLimitPerMinute} (AIM_RATE_LIMIT_API_KEY)`);
    }

    const now = this.clock.now();
    const plaintext = generateApiKey(this.options.environment, this.random);
    const record: NewApiKey = {
      id: this.random.uuid() as ApiKeyId,
      organizationId: principal.organizationId,
      createdBy: creator.id,
      name: input.name,
      prefix: displayPrefix(plaintext),
      environment: this.options.environment,
      scopes,
      rateLimitPerMinute: rateLimit,
      createdAt: now,
      expiresAt: now + days * DAY,
      rotatedFrom: null,
      mintedBy: mintedBy(principal),
      keyHash: sha256Hex(plaintext),
    };
    const key = await this.hub.transaction(async (s) => {
      await this.recheckCreator(s, principal, creator.id, scopes);
      const inserted = await s.apiKeys.insertApiKey(record);
      await this.audit.withStore(s.audit).record({
        organizationId: inserted.organizationId,
        event: 'api_key.created',
        actor: principal.actor,
        subject: { type: 'api_key', id: inserted.id },
        ip: meta.ip,
        data: { prefix: inserted.prefix, name: inserted.name, scopes: inserted.scopes, expires_at: inserted.expiresAt, created_by: creator.id },
      });
      return inserted;
    });
    return { key: this.stateOf(key, now), plaintext };
  }

  async list(
    organizationId: OrgId,
    page: { limit: number; after?: { createdAt: number; id: ApiKeyId } },
  ): Promise<{ keys: ApiKeyState[]; total: number; next?: { createdAt: number; id: ApiKeyId } }> {
    const result = await this.hub.apiKeys.listByOrganization(organizationId, page);
    const now = this.clock.now();
    return { ...result, keys: result.keys.map((k) => this.stateOf(k, now)) };
  }

  async get(organizationId: OrgId, id: string): Promise<ApiKeyState> {
    const key = isUuid(id) ? await this.hub.apiKeys.findInOrganization(organizationId, id as ApiKeyId) : undefined;
    if (!key) throw notFound('API key');
    return this.stateOf(key, this.clock.now());
  }

  /**
   * Stops a key at once: on this node now, on others through the revocation list (and within CACHE_TTL at most).
   * As for rotation, the caller must be allowed to grant the key's scopes: a member cannot cut off an admin's
   * automation. With `revokeMinted`, every key minted by it, by those, and so on, is revoked in the same
   * transaction (each audited with reason `minted_by_revoked`); `mintedRevoked` counts them. Every key this revokes
   * also ends the grace of the keys it replaced (audited with reason `successor_revoked`; `graceEnded` counts them):
   * whoever rotated a stolen key cannot go on using the old one for the rest of its grace.
   */
  async revoke(
    principal: Principal,
    id: string,
    meta: RequestMeta,
    options: { revokeMinted?: boolean } = {},
  ): Promise<ApiKeyState & { mintedRevoked: number; graceEnded: number }> {
    const current = await this.get(principal.organizationId, id);
    // Minted keys never hold more scopes than the key that minted them, so this check covers the whole tree.
    this.checkGrant(principal, await this.creatorOf(principal), current.scopes, 'revoke');
    const now = this.clock.now();
    const result = await this.hub.transaction(async (s) => {
      const revoked = await s.apiKeys.revokeApiKey(principal.organizationId, id as ApiKeyId, now);
      if (!revoked) return undefined;
      const audit = this.audit.withStore(s.audit);
      const record = (key: ApiKey, data: Record<string, unknown> = {}) => recordRevoked(audit, principal.actor, meta, key, data);
      if (revoked.changed) await record(revoked.key);
      const minted = options.revokeMinted ? await this.revokeMintedTree(s, principal.organizationId, revoked.key.id, now, record) : [];
      const graceEnded = await endGraceOfReplaced(s, principal.organizationId, [revoked.key, ...minted], now, record);
      return { key: revoked.key, minted, graceEnded };
    });
    if (!result) throw notFound('API key');
    for (const key of [result.key, ...result.minted, ...result.graceEnded]) {
      await this.revocations.revoke(key.id, key.expiresAt);
      this.changed(key.id);
    }
    return { ...this.stateOf(result.key, now), mintedRevoked: result.minted.length, graceEnded: result.graceEnded.length };
  }

  /**
   * Walks the keys minted from `root` generation by generation, through already-revoked ones too (what they minted
   * may still work), revoking and auditing each unrevoked one. Minting follows creation, so there is no cycle; the
   * `seen` set stops the walk anyway.
   */
  private async revokeMintedTree(s: Stores, organizationId: OrgId, root: ApiKeyId, now: number, record: RecordRevoked): Promise<ApiKey[]> {
    const revoked: ApiKey[] = [];
    const seen = new Set<ApiKeyId>([root]);
    let parents: ApiKeyId[] = [root];
    while (parents.length > 0) {
      const next: ApiKeyId[] = [];
      for (let i = 0; i < parents.length; i += PARENTS_PER_STATEMENT) {
        const generation = await s.apiKeys.revokeMintedBy(organizationId, parents.slice(i, i + PARENTS_PER_STATEMENT), now);
        for (const key of generation.revoked) {
          await record(key, { reason: 'minted_by_revoked', minted_by: key.mintedBy });
          revoked.push(key);
        }
        for (const child of generation.minted) {
          if (!seen.has(child)) {
            seen.add(child);
            next.push(child);
          }
        }
      }
      parents = next;
    }
    return revoked;
  }

  /**
   * Offboarding: revokes every key a user created, at once on every node (revocation list, cache invalidation),
   * each audited as `api_key.revoked` with the reason. As with a single revocation, the keys those replaced by
   * rotation lose their grace. Answers how many of the user's keys this call revoked.
   */
  async revokeAllCreatedBy(user: User, reason: string, actor: Principal['actor'], meta: RequestMeta): Promise<number> {
    const now = this.clock.now();
    const { keys, graceEnded } = await this.hub.transaction(async (s) => {
      const audit = this.audit.withStore(s.audit);
      const record = (key: ApiKey, data: Record<string, unknown> = {}) => recordRevoked(audit, actor, meta, key, data);
      const keys = await s.apiKeys.revokeKeysCreatedBy(user.organizationId, user.id, now);
      for (const key of keys) await record(key, { reason, created_by: user.id });
      return { keys, graceEnded: await endGraceOfReplaced(s, user.organizationId, keys, now, record) };
    });
    for (const key of [...keys, ...graceEnded]) {
      await this.revocations.revoke(key.id, key.expiresAt);
      this.changed(key.id);
    }
    return keys.length;
  }

  /**
   * Issues a successor with the same name, scopes and limit, and lets the old key work for the grace period
   * (AIM_API_KEY_ROTATION_GRACE). One rotation per key: a second one is a `conflict`, however concurrent.
   * The caller must be allowed to grant the key's scopes, as when creating it, and becomes the successor's creator.
   */
  async rotate(principal: Principal, id: string, meta: RequestMeta): Promise<IssuedApiKey & { previous: ApiKeyState }> {
    const current = await this.get(principal.organizationId, id);
    const creator = await this.creatorOf(principal);
    this.checkGrant(principal, creator, current.scopes);
    if (current.status !== 'active') throw notRotatable(current.status);

    const now = this.clock.now();
    const plaintext = generateApiKey(this.options.environment, this.random);
    // The successor lives as long as the key it replaces was meant to (a shortened key stays short).
    const lifetime = Math.min(current.expiresAt - current.createdAt, this.options.maxAgeDays * DAY);
    const successor: NewApiKey = {
      id: this.random.uuid() as ApiKeyId,
      organizationId: current.organizationId,
      createdBy: creator.id,
      name: current.name,
      prefix: displayPrefix(plaintext),
      environment: this.options.environment,
      scopes: current.scopes,
      rateLimitPerMinute: current.rateLimitPerMinute,
      createdAt: now,
      expiresAt: now + lifetime,
      rotatedFrom: current.id,
      mintedBy: mintedBy(principal),
      keyHash: sha256Hex(plaintext),
    };
    const graceUntil = now + this.options.rotationGraceSeconds * SECOND;
    const outcome = await this.hub.transaction(async (s) => {
      await this.recheckCreator(s, principal, creator.id, current.scopes);
      const result = await s.apiKeys.rotateApiKey({ organizationId: current.organizationId, id: current.id, now, graceUntil, successor });
      if (result.kind === 'rotated') {
        await this.audit.withStore(s.audit).record({
          organizationId: current.organizationId,
          event: 'api_key.rotated',
          actor: principal.actor,
          subject: { type: 'api_key', id: current.id },
          ip: meta.ip,
          data: {
            prefix: result.previous.prefix,
            successor_id: result.successor.id,
            successor_prefix: result.successor.prefix,
            grace_until: graceUntil,
          },
        });
      }
      return result;
    });
    switch (outcome.kind) {
      case 'not_found':
        throw notFound('API key');
      case 'not_rotatable':
        throw notRotatable(statusOf(outcome.key, now));
      case 'rotated':
        // The cached copy does not know it was rotated; its grace period must start counting here.
        this.changed(current.id);
        return { key: this.stateOf(outcome.successor, now), plaintext, previous: this.stateOf(outcome.previous, now) };
    }
  }

  /**
   * Requests per UTC day and per route over the last `days` days (today included), as flushed: counts (and
   * `last_used_at` in lists) trail live traffic by up to one flush interval.
   */
  async usageOf(organizationId: OrgId, id: string, days: number): Promise<{ key: ApiKeyState; usage: UsageReport }> {
    const key = await this.get(organizationId, id);
    const usage = await this.hub.apiKeys.usageOf(key.id, utcDay(this.clock.now() - (days - 1) * DAY));
    return { key, usage };
  }

  /**
   * Verifies a presented key and names its principal. Shape, checksum and environment are checked offline, so
   * noise never reaches the database; a real key is looked up by its SHA-256 (from memory for CACHE_TTL).
   * Every failure is `invalid_api_key`; the description says why, never echoing the key.
   */
  async verify(presented: string, meta: { route: string; ip: string | null }): Promise<Principal> {
    const parsed = parseApiKey(presented);
    if (!parsed.ok) {
      throw invalidKey(parsed.problem === 'checksum' ? 'API key checksum does not match: it was mistyped or is not an AIM key' : 'API key is malformed');
    }
    if (parsed.environment !== this.options.environment) {
      throw invalidKey(`this is a ${parsed.environment} key; this server (AIM_ENVIRONMENT=${this.options.environment}) accepts only ${this.options.environment} keys`);
    }
    const key = await this.lookup(sha256Hex(presented));
    if (!key) throw invalidKey('API key is not valid');
    const now = this.clock.now();
    const status = this.revocations.isRevoked(key.id) ? 'revoked' : statusOf(key, now);
    if (status === 'revoked') throw invalidKey('API key was revoked');
    if (status === 'expired') throw invalidKey('API key expired');
    if (status === 'rotated') throw invalidKey('API key was rotated and its grace period is over; use its successor');
    if (key.creatorDisabledAt !== null) throw invalidKey('the account that created this API key is disabled');

    this.usage.record(key.id, meta.route, meta.ip, now);
    return {
      method: 'api_key',
      organizationId: key.organizationId,
      // A scope retired from the catalogue since the key was made grants nothing.
      scopes: new Set(key.scopes.filter(isScope)),
      actor: { type: 'api_key', id: key.id },
      userId: key.createdBy,
      rateKey: `api_key:${key.id}`,
      ...(key.rateLimitPerMinute !== null && { rateLimit: key.rateLimitPerMinute }),
    };
  }

  /**
   * Forgets a cached key, so the next request reads it from the store. Called on revocation and rotation here;
   * the hook for other nodes to call when they hear of a change (pub/sub).
   */
  invalidate(keyId: ApiKeyId): void {
    this.generation += 1;
    for (const [hash, entry] of this.cache) if (entry.keyId === keyId) this.cache.delete(hash);
  }

  /**
   * Tells every node (this one included, through the bus) that a key changed. Pub/sub does not replay: when the
   * subscription drops or comes back, an invalidation (a key revoked on another node) may have been missed, so the
   * cache starts over, and while other nodes cannot reach this one it keeps nothing it loads (as the agent directory).
   */
  useInvalidationBus(bus: InvalidationBus): void {
    this.bus = bus;
    bus.subscribe('api_key', (id) => this.invalidate(id as ApiKeyId));
    bus.onResync(() => this.dropAll());
  }

  private dropAll(): void {
    this.generation += 1;
    this.cache.clear();
  }

  private changed(keyId: ApiKeyId): void {
    this.invalidate(keyId);
    void this.bus?.publish('api_key', keyId);
  }

  /**
   * Retention: deletes usage counts of days before the last AIM_API_KEY_USAGE_RETENTION_DAYS UTC days (today
   * included, as `GET …/usage?days=` counts them). Run by the daily maintenance job.
   */
  async pruneUsage(): Promise<{ deleted: number; before: string }> {
    const before = utcDay(this.clock.now() - (this.options.usageRetentionDays - 1) * DAY);
    return { deleted: await this.hub.apiKeys.pruneUsage(before), before };
  }

  /** Writes batched usage counters; a timer calls it every few seconds, and shutdown once more. */
  flushUsage(): Promise<void> {
    return this.usage.flush();
  }

  /** Flushes usage every `intervalMs` until the returned function is called. */
  startFlushing(intervalMs: number, onError: (error: unknown) => void): () => void {
    const timer = setInterval(() => void this.usage.flush().catch(onError), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** One store read per key per CACHE_TTL; concurrent misses for one key share the read. */
  private lookup(hash: string): Promise<ApiKeyCredential | undefined> {
    const now = this.clock.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.loaded;
    if (hit) this.cache.delete(hash);
    if (this.cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    const generation = this.generation;
    const entry: CacheEntry = { loaded: this.hub.apiKeys.findByHash(hash), until: now + CACHE_TTL };
    this.cache.set(hash, entry);
    entry.loaded.then(
      (key) => {
        // Unknown hashes are not remembered: memory stays bounded by real keys, not by what callers send. Nor is a
        // load that raced with an invalidation, or one made while other nodes' invalidations cannot reach us.
        const keep = key !== undefined && generation === this.generation && (this.bus?.listening() ?? true);
        if (key) entry.keyId = key.id;
        if (!keep && this.cache.get(hash) === entry) this.cache.delete(hash);
      },
      () => {
        if (this.cache.get(hash) === entry) this.cache.delete(hash);
      },
    );
    return entry.loaded;
  }

  /** The person a request acts for: a signed-in user, or the creator of the API key it carries. */
  private async creatorOf(principal: Principal): Promise<User> {
    const user = principal.userId && (await this.users.get(principal.userId as UserId));
    if (!user || user.disabledAt !== null) throw new AimError('forbidden', 'only an active user can own API keys');
    return user;
  }

  /**
   * The creator checked again in the transaction that writes the key, holding a share lock on their row: a disable or
   * demotion that committed since the first check refuses the key, and one that comes later waits for it to exist, so
   * the revocation that follows finds it (no key outlives its creator's rights).
   */
  private async recheckCreator(s: Stores, principal: Principal, creatorId: UserId, scopes: readonly Scope[]): Promise<void> {
    const creator = (await s.users.lockIfActive(creatorId)) ? await s.users.findById(creatorId) : undefined;
    if (!creator) throw new AimError('forbidden', 'only an active user can own API keys');
    this.checkGrant(principal, creator, scopes);
  }

  /** A key can never do more than its creator's role allows, nor more than the credential that asks for it. */
  private checkGrant(principal: Principal, creator: User, scopes: readonly Scope[], doing = 'grant'): void {
    const allowed = ROLE_SCOPES[creator.role];
    for (const scope of scopes) {
      if (!allowed.includes(scope) || !hasScope(principal, scope)) {
        throw new AimError('insufficient_scope', doing === 'grant' ? `you cannot grant the "${scope}" scope` : `you cannot ${doing} a key with the "${scope}" scope`);
      }
    }
  }

  private stateOf(key: ApiKey, now: number): ApiKeyState {
    const status = statusOf(key, now);
    // A key in its grace period is already replaced: only keys still in service are flagged.
    return { ...key, status, expiringSoon: status === 'active' && key.expiresAt - now <= EXPIRING_SOON };
  }
}

/** Audits one revoked key; `data` says why when it was not the key the caller named. */
type RecordRevoked = (key: ApiKey, data?: Record<string, unknown>) => Promise<void>;

async function recordRevoked(audit: AuditLog, actor: Principal['actor'], meta: RequestMeta, key: ApiKey, data: Record<string, unknown>): Promise<void> {
  await audit.record({
    organizationId: key.organizationId,
    event: 'api_key.revoked',
    actor,
    subject: { type: 'api_key', id: key.id },
    ip: meta.ip,
    data: { prefix: key.prefix, ...data },
  });
}

/**
 * Revoking a key also ends the grace of the keys it replaced by rotation: whoever rotated a stolen key must not
 * keep the old one working for the rest of its grace.
 */
async function endGraceOfReplaced(s: Stores, organizationId: OrgId, revoked: readonly ApiKey[], now: number, record: RecordRevoked): Promise<ApiKey[]> {
  const ended: ApiKey[] = [];
  for (const key of revoked) {
    if (key.rotatedFrom === null) continue;
    for (const previous of await s.apiKeys.revokeRotatedInGrace(organizationId, key.rotatedFrom, now)) {
      await record(previous, { reason: 'successor_revoked', replaced_by: previous.replacedBy });
      ended.push(previous);
    }
  }
  return ended;
}

/**
 * `api_keys:manage` stays with people: a key that manages keys could outlive its own revocation by minting
 * successors. Automation that must manage keys uses an `admin` key, which says plainly what it can do.
 */
function normalizeScopes(scopes: readonly Scope[]): Scope[] {
  if (scopes.includes('api_keys:manage')) {
    throw invalidRequest('"api_keys:manage" cannot be given to an API key; a key that manages keys needs "admin"');
  }
  return [...new Set(scopes)].sort();
}

/** The key whose request mints a key, recorded so a cascade can find what a stolen key made; null for people. */
function mintedBy(principal: Principal): ApiKeyId | null {
  return principal.method === 'api_key' ? (principal.actor.id as ApiKeyId) : null;
}

function notRotatable(status: ApiKeyStatus): AimError {
  return new AimError('conflict', status === 'active' ? 'API key cannot be rotated' : `API key is ${status === 'grace' ? 'already rotated' : status}; it cannot be rotated`);
}

function invalidKey(description: string): AimError {
  return new AimError('invalid_api_key', description);
}
