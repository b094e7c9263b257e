import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisConnectionOptions {
  url: string;
  /** Prepended to every key (`AIM_REDIS_PREFIX`), so several deployments can share one Redis. */
  prefix: string;
  logger: Logger;
  /** Bounds the TCP connect and handshake. */
  connectTimeoutMs?: number;
  /** Bounds every command: a Redis that accepts connections but does not answer fails the command, not the request. */
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts. */
  maxReconnectDelayMs?: number;
}

/**
 * The node's one Redis connection, shared by everything that keeps state in Redis (rate-limit counters now; nonces
 * and revocation pub/sub later). It is built to fail fast rather than to wait: commands sent while disconnected fail
 * at once (no offline queue), each command is retried at most once and bounded in time, and the connection keeps
 * reconnecting in the background with a capped backoff. Callers decide what to do without Redis (see
 * `FailoverCounters`); this class only reports whether it is usable and when that changes.
 */
export class RedisConnection {
  readonly client: Redis;
  readonly prefix: string;
  private readonly listeners = new Set<(ready: boolean) => void>();
  private closed = false;

  constructor(options: RedisConnectionOptions) {
    this.prefix = options.prefix;
    const maxDelay = options.maxReconnectDelayMs ?? 2000;
    this.client = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 1000,
      commandTimeout: options.commandTimeoutMs ?? 500,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      // Keeps trying forever, backing off from 100 ms to `maxDelay`: a Redis restart heals without a node restart.
      retryStrategy: (attempt) => (this.closed ? null : Math.min(100 * attempt, maxDelay)),
    });
    // Without a listener ioredis prints every failed reconnection to stderr. Transitions are logged by the users of
    // the connection (once each); the individual errors are only worth a debug line.
    this.client.on('error', (error: Error) => options.logger.debug({ err: { message: error.message } }, 'redis connection error'));
    this.client.on('ready', () => this.emit(true));
    this.client.on('close', () => this.emit(false));
  }

  /**
   * Connects, waiting at most the connect timeout. Answers whether Redis is usable now; when it is not, the
   * connection keeps trying in the background and the node starts degraded instead of not at all.
   */
  async connect(): Promise<boolean> {
    try {
      await this.client.connect();
      return true;
    } catch {
      return false;
    }
  }

  /** A key under this deployment's prefix. */
  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  isReady(): boolean {
    return this.client.status === 'ready';
  }

  /** Called with `true` when the connection becomes usable and `false` when it is lost. */
  onStateChange(listener: (ready: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops the connection without waiting for Redis: a `QUIT` to a dead server would hang shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    this.client.disconnect(false);
  }

  private emit(ready: boolean): void {
    for (const listener of this.listeners) listener(ready);
  }
}
