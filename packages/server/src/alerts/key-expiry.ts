import type { AgentStore } from '../agents/store.js';
import type { ApiKeyStore } from '../api-keys/store.js';
import { DAY, HOUR, type Clock } from '../core/clock.js';
import type { AlertService } from './service.js';

/** How far ahead API keys are flagged (the same horizon as `expiring_soon` in their list). */
const API_KEY_NOTICE_DAYS = 14;
const BATCH = 500;

/**
 * Raises `key_expiring` for agent keys inside their rotation notice and API keys within two weeks of expiry.
 * Runs at start and hourly; an alert is raised once per key per process (repeats after a restart group into the
 * same open alert).
 */
export class KeyExpiryWatch {
  /** Key ids reported by this process, with their expiry. */
  private readonly reported = new Map<string, number>();

  constructor(
    private readonly alerts: AlertService,
    private readonly agents: AgentStore,
    private readonly apiKeys: ApiKeyStore,
    private readonly clock: Clock,
    private readonly agentNoticeDays: number,
    private readonly batch = BATCH,
  ) {}

  /** One pass over every key in its notice window, page by page; answers how many alerts it raised. */
  async scan(): Promise<number> {
    const now = this.clock.now();
    // Keys that have expired since can never be listed again: forgetting them keeps the set to the notice window.
    for (const [id, expiresAt] of this.reported) if (expiresAt <= now) this.reported.delete(id);
    let raised = 0;
    const agentUntil = now + this.agentNoticeDays * DAY;
    for await (const { key, agentName } of pages((after) => this.agents.listKeysExpiringBetween(now, agentUntil, this.batch, after), (k) => k.key, this.batch)) {
      if (!this.firstReport(key.id, key.expiresAt)) continue;
      raised += 1;
      await this.alerts.report({
        organizationId: key.organizationId,
        type: 'key_expiring',
        principal: { type: 'agent', id: key.agentId },
        evidence: { kind: 'agent_key', key_id: key.id, agent_name: agentName, expires_at: key.expiresAt },
      });
    }
    const apiKeyUntil = now + API_KEY_NOTICE_DAYS * DAY;
    for await (const key of pages((after) => this.apiKeys.listExpiringBetween(now, apiKeyUntil, this.batch, after), (k) => k, this.batch)) {
      if (!this.firstReport(key.id, key.expiresAt)) continue;
      raised += 1;
      await this.alerts.report({
        organizationId: key.organizationId,
        type: 'key_expiring',
        principal: { type: 'api_key', id: key.id },
        evidence: { kind: 'api_key', name: key.name, prefix: key.prefix, expires_at: key.expiresAt },
      });
    }
    return raised;
  }

  private firstReport(id: string, expiresAt: number): boolean {
    if (this.reported.has(id)) return false;
    this.reported.set(id, expiresAt);
    return true;
  }

  /**
   * Scans now and every hour until the returned function is called; that function resolves once a scan under way has
   * finished, so shutdown can close the database after it (a scan left running would fail on every key it reports).
   */
  start(onError: (error: unknown) => void): () => Promise<void> {
    let running: Promise<void> | undefined;
    const run = () => {
      if (running) return;
      running = this.scan().then(
        () => undefined,
        (error: unknown) => onError(error),
      );
      void running.finally(() => {
        running = undefined;
      });
    };
    run();
    const timer = setInterval(run, HOUR);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await running;
    };
  }
}

/**
 * Every row of a listing ordered by expiry then id, fetched `size` at a time: a single batch would leave the keys
 * past it unreported until the ones before them expired.
 */
async function* pages<T>(
  fetch: (after: { expiresAt: number; id: string } | undefined) => Promise<T[]>,
  keyOf: (row: T) => { expiresAt: number; id: string },
  size: number,
): AsyncGenerator<T> {
  let after: { expiresAt: number; id: string } | undefined;
  for (;;) {
    const rows = await fetch(after);
    yield* rows;
    const last = rows[rows.length - 1];
    if (rows.length < size || !last) return;
    const { expiresAt, id } = keyOf(last);
    after = { expiresAt, id };
  }
}
