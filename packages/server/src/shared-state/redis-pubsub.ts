import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConnection } from './redis.js';

/**
 * One subscriber connection per node (Redis needs a dedicated connection in subscribe mode), fanning messages out
 * to handlers by channel. Reconnects with the main connection's settings and subscribes every channel again when back.
 */
export class RedisPubSub {
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Array<(message: string) => void>>();
  private readonly readyListeners: Array<() => void> = [];
  private readonly downListeners: Array<() => void> = [];
  /** Set by close(): a SUBSCRIBE failing then must not reconnect. */
  private closed = false;
  /** Every channel is subscribed on the current connection (set once a 'ready' has subscribed them, cleared on 'close'). */
  private subscribed = false;
  /** A SUBSCRIBE failure was logged at warn since the last success: a refusal that repeats (an ACL) loops quietly. */
  private warned = false;

  constructor(
    private readonly connection: RedisConnection,
    private readonly logger: Logger,
  ) {
    // `resubscribe` below restores the channels on every reconnection. ioredis's own autoResubscribe sends its
    // SUBSCRIBE without handling a failure (ioredis PR #2187, in no release yet): a reconnection followed by a stall
    // (command timeout) or a shutdown became an unhandled rejection, which ends the Node process.
    this.subscriber = connection.client.duplicate({ enableOfflineQueue: true, autoResubscribe: false });
    this.subscriber.on('error', (error: Error) => logger.debug({ err: { message: error.message } }, 'redis subscriber error'));
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) handler(message);
    });
    // After a reconnection anything published meanwhile was missed: listeners resynchronise.
    this.subscriber.on('ready', () => void this.resubscribe());
    this.subscriber.on('close', () => {
      this.subscribed = false;
      for (const listener of this.downListeners) listener();
    });
  }

  channel(name: string): string {
    return this.connection.key('channel', name);
  }

  async subscribe(name: string, handler: (message: string) => void): Promise<void> {
    const channel = this.channel(name);
    const existing = this.handlers.get(channel);
    this.handlers.set(channel, [...(existing ?? []), handler]);
    // While Redis is away this fails, and the next 'ready' subscribes every channel; when it is up, see below.
    if (!existing) await this.subscribeOrReconnect([channel]);
  }

  /** Publishes on the main connection; throws when Redis cannot take it. */
  async publish(name: string, message: string): Promise<void> {
    await this.connection.client.publish(this.channel(name), message);
  }

  /**
   * ioredis restores only the subscriptions Redis confirmed: a SUBSCRIBE that failed while Redis was unreachable (a
   * node starting during an outage) would leave this node deaf for good. Every channel with handlers is subscribed
   * again (SUBSCRIBE is idempotent) before listeners resynchronise, so nothing published after that is missed.
   */
  private async resubscribe(): Promise<void> {
    const channels = [...this.handlers.keys()];
    if (channels.length > 0 && !(await this.subscribeOrReconnect(channels))) return;
    this.subscribed = true;
    this.warned = false;
    for (const listener of this.readyListeners) listener();
  }

  /**
   * A SUBSCRIBE that fails on a connection that is up (a stall: the command timed out) leaves the node deaf while
   * `isListening()` says it hears: caches would keep what other nodes invalidate. The subscriber reconnects instead,
   * so it counts as down ('close' resyncs the listeners) until a later 'ready' subscribes again. Answers whether the
   * channels are subscribed.
   */
  private async subscribeOrReconnect(channels: string[]): Promise<boolean> {
    try {
      await this.subscriber.subscribe(...channels);
      return true;
    } catch (error) {
      if (!this.closed && this.subscriber.status === 'ready') {
        // Once at warn: this node no longer hears other nodes' invalidations, and caches nothing until it does.
        this.logger[this.warned ? 'debug' : 'warn']({ err: { message: (error as Error).message } }, 'redis SUBSCRIBE failed; reconnecting the subscriber');
        this.warned = true;
        this.subscriber.disconnect(true);
      }
      return false;
    }
  }

  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  /** Called when the subscriber connection is lost: messages published from now on do not arrive. */
  onDown(listener: () => void): void {
    this.downListeners.push(listener);
  }

  /** Whether the subscriber connection is up with every channel subscribed, so published messages arrive. */
  isListening(): boolean {
    return this.subscriber.status === 'ready' && this.subscribed;
  }

  close(): void {
    this.closed = true;
    this.subscriber.disconnect(false);
  }
}
