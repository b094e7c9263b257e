import type { StoreKind } from '../../packages/server/test/support/databases.js';
import { createApiKey, login, registerAgent, startAim } from '../lib/aim.js';
import type { BenchConfig } from '../lib/config.js';
import { cpuDetails, figure, settle, type Figure } from '../lib/figure.js';
import { runLoad } from '../lib/load.js';
import { signedActions } from '../lib/signed.js';

/**
 * verify-action req/s with an API key at full load ÷ raw Ed25519 `crypto.verify` calls/s on one core: how close the
 * whole request (auth, nonce claim, evidence and audit in one commit) gets to the signature check alone.
 */
export async function verifyActionFigure(
  config: BenchConfig,
  rawVerify: number,
  options: { kind: StoreKind; redis: boolean; id: string; name: string },
): Promise<Figure> {
  const aim = await startAim({ kind: options.kind, redis: options.redis, ...(config.profile && { profileName: options.id }) });
  try {
    const session = await login(aim.server.url);
    const apiKey = await createApiKey(aim.server.url, session);
    const agent = await registerAgent(aim.server.url, session);
    const path = `/api/v1/agents/${agent.id}/verify-action`;
    const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
    const warmup = config.smoke ? 0 : 2;
    const supply = signedActions(agent.id, agent.keys.privateKey, Math.ceil((config.duration + warmup) * 6000) + 1000);
    const request = { method: 'POST' as const, path, headers, next: () => ({ body: supply.next() }) };
    if (warmup > 0) await runLoad(aim.server.url, { connections: config.connections, duration: warmup, requests: [request] });
    await settle();
    const load = await runLoad(aim.server.url, { connections: config.connections, duration: config.duration, requests: [request], pid: aim.server.pid });
    return figure({
      id: options.id,
      name: options.name,
      value: load.rps,
      unit: 'req/s',
      baseline: { name: 'crypto.verify Ed25519, one core', value: rawVerify, unit: 'calls/s' },
      goal: 0.5,
      details: { p50_ms: load.p50, p99_ms: load.p99, errors: load.errors, ...cpuDetails(load), connections: config.connections, statuses: JSON.stringify(load.statuses) },
    });
  } finally {
    await aim.drop();
  }
}
