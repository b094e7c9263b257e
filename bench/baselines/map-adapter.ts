/**
 * An in-memory adapter for oidc-provider that never evicts. The one oidc-provider ships keeps at most 1,000 entries
 * (an LRU), so under load it dropped the refresh tokens and grants minted for the benchmark before they were used.
 * Entries expire as the provider asks; a benchmark run is short, so the map is not swept.
 */
type Payload = Record<string, unknown> & { grantId?: string; userCode?: string; uid?: string; consumed?: number };

const store = new Map<string, { payload: Payload; expiresAt: number | undefined }>();
const byGrant = new Map<string, Set<string>>();

export class MapAdapter {
  constructor(private readonly model: string) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    if (payload.grantId) {
      const keys = byGrant.get(payload.grantId) ?? new Set<string>();
      keys.add(key);
      byGrant.set(payload.grantId, keys);
    }
  }

  async find(id: string): Promise<Payload | undefined> {
    const entry = store.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(this.key(id));
      return undefined;
    }
    return entry.payload;
  }

  async findByUserCode(userCode: string): Promise<Payload | undefined> {
    for (const { payload } of store.values()) if (payload.userCode === userCode) return payload;
    return undefined;
  }

  async findByUid(uid: string): Promise<Payload | undefined> {
    for (const { payload } of store.values()) if (payload.uid === uid) return payload;
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const entry = store.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of byGrant.get(grantId) ?? []) store.delete(key);
    byGrant.delete(grantId);
  }
}
