import { createApiKey, login, registerAgent, startAim } from '../lib/aim.js';
import type { BenchConfig } from '../lib/config.js';
import { figure, settle, type Figure } from '../lib/figure.js';
import { runLoad, type LoadRequest } from '../lib/load.js';
import { residentMiB } from '../lib/rss.js';
import { seedSqlite } from '../lib/seed.js';
import { signedActions } from '../lib/signed.js';

/**
 * RSS after a large store and a long mixed load, and start-up time with that data, each next to the same server
 * on an empty store. Agents and audit entries are seeded straight into SQLite (valid hash chain), then the server
 * restarts on them.
 */
export async function memoryFigures(config: BenchConfig): Promise<Figure[]> {
  const aim = await startAim();
  try {
    const empty = await login(aim.server.url);
    const emptyStartMs = await aim.restart();
    await settle(1000);
    const emptyRss = residentMiB(aim.server.pid).rss;
    await aim.stop();

    const seedStarted = performance.now();
    seedSqlite(aim.database.dataDir, { organizationId: empty.organizationId, userId: empty.userId, agents: config.agents, auditEntries: config.auditEntries });
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const startMs = await aim.restart(config.profile ? 'memory' : undefined);
    await settle(1000);
    const startRss = residentMiB(aim.server.pid).rss;

    const url = aim.server.url;
    const session = await login(url);
    const apiKey = await createApiKey(url, session);
    const agent = await registerAgent(url, session);
    const actions = signedActions(agent.id, agent.keys.privateKey, 0);
    const jwt = { authorization: `Bearer ${session.accessToken}` };
    // One connection's cycle: a signed action, a page of agents, a page of audit entries, a probe.
    const mix: LoadRequest[] = [
      { method: 'POST', path: `/api/v1/agents/${agent.id}/verify-action`, headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, next: () => ({ body: actions.next() }) },
      { method: 'GET', path: '/api/v1/agents?limit=50', headers: jwt },
      { method: 'GET', path: '/api/v1/audit-logs?limit=50', headers: jwt },
      { method: 'GET', path: '/health' },
    ];
    const soak = await runLoad(url, { connections: config.connections, duration: config.soakSeconds, requests: mix, pid: aim.server.pid });
    await settle(1000);
    const after = residentMiB(aim.server.pid);

    let chain = 'not checked (large store)';
    if (config.auditEntries <= 20_000) {
      const verdict = (await (await fetch(`${url}/api/v1/audit-logs/verify`, { headers: jwt })).json()) as { valid?: boolean; entries_checked?: number };
      chain = verdict.valid ? `valid (${verdict.entries_checked} entries)` : `INVALID ${JSON.stringify(verdict)}`;
    }
    const data = `${config.agents.toLocaleString('en')} agents, ${config.auditEntries.toLocaleString('en')} audit entries`;
    return [
      figure({
        id: 'memory-rss',
        name: `RSS after ${data} and ${config.soakSeconds} s of mixed load`,
        value: after.rss,
        unit: 'MiB',
        baseline: { name: 'RSS of the same server on an empty store, just started', value: emptyRss, unit: 'MiB' },
        details: {
          rss_after_start_mib: startRss,
          peak_rss_mib: after.peak,
          soak_requests: soak.requests,
          soak_rps: soak.rps,
          soak_p99_ms: soak.p99,
          soak_errors: soak.errors,
          seed_seconds: seedSeconds,
          audit_chain: chain,
        },
      }),
      figure({
        id: 'startup',
        name: `Start-up with ${data}`,
        value: startMs,
        unit: 'ms',
        baseline: { name: 'start-up on an empty store', value: emptyStartMs, unit: 'ms' },
        details: {},
      }),
    ];
  } finally {
    await aim.drop();
  }
}
