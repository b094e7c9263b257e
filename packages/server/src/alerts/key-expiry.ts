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
  private readonly reported = new Set<string>();

  constructor(
    private readonly alerts: AlertService,
    private readonly agents: AgentStore,
    private readonly apiKeys: ApiKeyStore,
    private readonly clock: Clock,
    private readonly agentNoticeDays: number,
  ) {}

  /** One pass; answers how many alerts it raised. */
  async scan(): Promise<number> {
    const now = this.clock.now();
    let raised = 0;
    for (const { key, agentName } of await this.agents.listKeysExpiringBetween(now, now + this.agentNoticeDays * DAY, BATCH)) {
      if (this.reported.has(key.id)) continue;
      this.reported.add(key.id);
      raised += 1;
      await this.alerts.report({
        organizationId: key.organizationId,
        type: 'key_expiring',
        principal: { type: 'agent', id: key.agentId },
        evidence: { kind: 'agent_key', key_id: key.id, agent_name: agentName, expires_at: key.expiresAt },
      });
    }
    for (const key of await this.apiKeys.listExpiringBetween(now, now + API_KEY_NOTICE_DAYS * DAY, BATCH)) {
      if (this.reported.has(key.id)) continue;
      this.reported.add(key.id);
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

  /** Scans now and every hour until the returned stop function is called. */
  start(onError: (error: unknown) => void): () => void {
    const run = () => void this.scan().catch(onError);
    run();
    const timer = setInterval(run, HOUR);
    timer.unref();
    return () => clearInterval(timer);
  }
}
