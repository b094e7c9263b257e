/**
 * Tells every node to drop a cached entry (an agent's keys, an API key) after it changed. The local bus only
 * reaches this process; the Redis bus fans out to every node through pub/sub.
 */
export type InvalidationTopic = 'agent' | 'api_key';

export interface InvalidationBus {
  publish(topic: InvalidationTopic, id: string): Promise<void>;
  subscribe(topic: InvalidationTopic, handler: (id: string) => void): void;
  /** Whether messages from other nodes reach this one now; a cache must not keep what it loads while they do not. */
  listening(): boolean;
  /** Called when messages may have been missed (the subscription dropped or came back): drop everything cached. */
  onResync(listener: () => void): void;
}

export class LocalInvalidationBus implements InvalidationBus {
  private readonly handlers = new Map<InvalidationTopic, Array<(id: string) => void>>();

  async publish(topic: InvalidationTopic, id: string): Promise<void> {
    this.deliver(topic, id);
  }

  subscribe(topic: InvalidationTopic, handler: (id: string) => void): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
  }

  /** One process: nothing can be missed. */
  listening(): boolean {
    return true;
  }

  onResync(): void {}

  /** Runs the local handlers; the Redis bus calls this for messages from other nodes. */
  deliver(topic: InvalidationTopic, id: string): void {
    for (const handler of this.handlers.get(topic) ?? []) handler(id);
  }
}
