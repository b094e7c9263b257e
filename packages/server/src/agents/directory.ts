import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { AgentId, OrgId } from '../core/ids.js';
import type { InvalidationBus } from '../shared-state/invalidation.js';
import { toKeyObject } from '../signatures/ed25519.js';
import type { AgentStore } from './store.js';
import type { Agent, AgentKey } from './types.js';

export interface LoadedAgent {
  agent: Agent;
  /** Newest first, each with its parsed KeyObject. */
  keys: Array<{ key: AgentKey; object: KeyObject }>;
}

const TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;

/**
 * Agents with their keys parsed into KeyObjects, cached for the verify-action hot path. Any change to an agent or
 * its keys invalidates the entry on every node (through the bus); a short TTL bounds staleness if a message is lost.
 */
export class AgentDirectory {
  private readonly cache = new Map<string, { loaded: LoadedAgent; at: number }>();
  /** Bumped on every invalidation, so a load that raced with one is not cached. */
  private generation = 0;

  constructor(
    private readonly store: AgentStore,
    private readonly bus: InvalidationBus,
    private readonly clock: Clock,
  ) {
    bus.subscribe('agent', (id) => this.drop(id));
    bus.onResync(() => this.dropAll());
  }

  async get(orgId: OrgId, id: AgentId): Promise<LoadedAgent | undefined> {
    const now = this.clock.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < TTL_MS) return hit.loaded.agent.organizationId === orgId ? hit.loaded : undefined;
    const generation = this.generation;
    const agent = await this.store.findAgent(orgId, id);
    if (!agent) return undefined;
    const keys = (await this.store.listKeys(id)).map((key) => ({ key, object: toKeyObject(key.publicKey) }));
    const loaded = { agent, keys };
    // Raced with an invalidation, or other nodes' invalidations cannot reach us now: use it once, keep nothing.
    if (generation !== this.generation || !this.bus.listening()) return loaded;
    if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(id, { loaded, at: now });
    return loaded;
  }

  /** Drops the agent here and on every other node. */
  async invalidate(id: string): Promise<void> {
    this.drop(id);
    await this.bus.publish('agent', id);
  }

  private drop(id: string): void {
    this.generation += 1;
    this.cache.delete(id);
  }

  private dropAll(): void {
    this.generation += 1;
    this.cache.clear();
  }
}
