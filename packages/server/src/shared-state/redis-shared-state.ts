import type { NonceStore } from '../agents/store.js';
import type { Clock } from '../core/clock.js';
import { AimError } from '../core/errors.js';
import { type InvalidationBus, type InvalidationTopic, LocalInvalidationBus } from './invalidation.js';
import type { RedisConnection } from './redis.js';
import type { RedisPubSub } from './redis-pubsub.js';
import { MemoryRevocationList, type RevocationList } from './revocations.js';

/** Redis could not answer: a 503 the client may retry, never a guess that could let a replay through. */
function unavailable(cause: unknown): AimError {
  return new AimError('service_unavailable', 'shared state (Redis) is unreachable; retry shortly', { cause, headers: { 'retry-after': '1' } });
}

/**
 * Used nonces in Redis, shared by every node: `SET key 1 NX PX ttl` is the insert-if-absent. When Redis cannot
 * answer the request fails with 503 rather than falling back to a per-node memory that would accept a replay
 * sent to another node.
 */
export class RedisNonceStore implements NonceStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly clock: Clock,
  ) {}

  async consumeNonce(agentId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const ttl = Math.max(1000, expiresAt - this.clock.now());
    try {
      return (await this.redis.client.set(this.redis.key('nonce', agentId, nonce), '1', 'PX', ttl, 'NX')) === 'OK';
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Redis expires nonces by itself. */
  async pruneNonces(): Promise<number> {
    return 0;
  }
}

/**
 * Revocations every node holds in memory (checks stay synchronous and free), kept in step through Redis: each
 * revocation is a key with a TTL (for nodes that start later) and a message (for nodes running now). After a
 * reconnection a node reloads every key, so a message missed during an outage is not lost.
 */
export class RedisRevocationList implements RevocationList {
  private readonly local: MemoryRevocationList;

  constructor(
    private readonly redis: RedisConnection,
    private readonly pubsub: RedisPubSub,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void,
  ) {
    this.local = new MemoryRevocationList(clock);
  }

  async start(): Promise<void> {
    await this.pubsub.subscribe('revocations', (message) => {
      const [id, until] = message.split(' ');
      if (id && until) this.local.remember(id, Number(until));
    });
    this.pubsub.onReady(() => void this.reload().catch(this.onError));
    await this.reload().catch(this.onError);
  }

  /** Revokes here at once, then tells every other node; a Redis outage delays the others, not this node. */
  async revoke(id: string, until: number): Promise<void> {
    this.local.remember(id, until);
    const ttl = until - this.clock.now();
    if (ttl <= 0) return;
    try {
      await this.redis.client.set(this.redis.key('revoked', id), String(until), 'PX', ttl);
      await this.pubsub.publish('revocations', `${id} ${until}`);
    } catch (error) {
      this.onError(error);
    }
  }

  isRevoked(id: string): boolean {
    return this.local.isRevoked(id);
  }

  remember(id: string, until: number): void {
    this.local.remember(id, until);
  }

  private async reload(): Promise<void> {
    // MATCH takes a glob: the prefix (AIM_REDIS_PREFIX, free text) must match only itself.
    const pattern = `${this.redis.key('revoked', '').replace(/[*?[\]\\]/g, '\\$&')}*`;
    const prefix = this.redis.key('revoked', '');
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) {
        const values = await this.redis.client.mget(...keys);
        keys.forEach((key, i) => {
          const until = Number(values[i]);
          if (Number.isFinite(until)) this.local.remember(key.slice(prefix.length), until);
        });
      }
    } while (cursor !== '0');
  }
}

/**
 * Cache invalidations for every node: delivered here at once, published to the others. A node whose subscriber is
 * away caches nothing new and drops what it holds when the subscriber drops and when it is back; caches also expire
 * on their own (a minute at most).
 */
export class RedisInvalidationBus implements InvalidationBus {
  private readonly local = new LocalInvalidationBus();
  private readonly resyncListeners: Array<() => void> = [];

  constructor(
    private readonly pubsub: RedisPubSub,
    private readonly onError: (error: unknown) => void,
  ) {}

  async start(): Promise<void> {
    await this.pubsub.subscribe('invalidations', (message) => {
      const space = message.indexOf(' ');
      if (space > 0) this.local.deliver(message.slice(0, space) as InvalidationTopic, message.slice(space + 1));
    });
    // Pub/sub does not replay: what was published while the subscriber was away (a revoked agent key) is lost, so
    // caches start over when it drops and again when it is back.
    const resync = () => {
      for (const listener of this.resyncListeners) listener();
    };
    this.pubsub.onDown(resync);
    this.pubsub.onReady(resync);
  }

  listening(): boolean {
    return this.pubsub.isListening();
  }

  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  async publish(topic: InvalidationTopic, id: string): Promise<void> {
    this.local.deliver(topic, id);
    try {
      await this.pubsub.publish('invalidations', `${topic} ${id}`);
    } catch (error) {
      this.onError(error);
    }
  }

  subscribe(topic: InvalidationTopic, handler: (id: string) => void): void {
    this.local.subscribe(topic, handler);
  }
}
