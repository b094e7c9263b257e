import type { StoreKind } from '../../packages/server/test/support/databases.js';
import { createApiKey, login, registerAgent, startAim } from '../lib/aim.js';
import { sliceSeconds, type BenchConfig } from '../lib/config.js';
import { cpuDetails, figure, settle, type Figure } from '../lib/figure.js';
import { alternate, runLoad } from '../lib/load.js';
import { rawVerifySlice } from '../lib/raw-verify.js';
import { signedActions } from '../lib/signed.js';

/**
 * verify-action req/s with an API key at full load ÷ raw Ed25519 `crypto.verify` calls/s on one core: how close the
 * whole request (auth, nonce claim, evidence and audit in one commit) gets to the signature check alone.
 */
export async function verifyActionFigure(config: BenchConfig, options: { kind: StoreKind; redis: boolean; id: string; name: string }): Promise<Figure> {
  const aim = await startAim({ kind: options.kind, redis: options.redis, ...(config.profile && { profileName: options.id }) });
  try {
    const url = aim.server.url;
    const session = await login(url);
    const apiKey = await createApiKey(url, session);
    const agent = await registerAgent(url, session);
    const supply = signedActions(agent.id, agent.keys.privateKey, Math.ceil((config.duration + config.warmup) * 2500) + 1000);
    const request = {
      method: 'POST' as const,
      path: `/api/v1/agents/${agent.id}/verify-action`,
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      next: () => ({ body: supply.next() }),
    };
    if (config.warmup > 0) await runLoad(url, { connections: config.connections, duration: config.warmup, requests: [request] });
    await settle();
    const slice = sliceSeconds(config);
    const [load, raw] = await alternate(config.rounds, [
      () => runLoad(url, { connections: config.connections, duration: slice, requests: [request], pid: aim.server.pid }),
      () => rawVerifySlice(slice),
    ]);
    const perCpu = load!.cpuMsPerRequest ? 1000 / load!.cpuMsPerRequest : 0;
    return figure({
      id: options.id,
      name: options.name,
      value: load!.rps,
      unit: 'req/s',
      baseline: { name: 'crypto.verify Ed25519, one core', value: raw!.rps, unit: 'calls/s' },
      goal: 0.5,
      details: {
        p50_ms: load!.p50,
        p99_ms: load!.p99,
        errors: load!.errors,
        ...cpuDetails(load!),
        // Requests per CPU-second of the server ÷ verifies per CPU-second: the ratio with contention taken out.
        ratio_per_cpu_second: Math.round((perCpu / raw!.rps) * 1000) / 1000,
        connections: config.connections,
        statuses: JSON.stringify(load!.statuses),
      },
    });
  } finally {
    await aim.drop();
  }
}
