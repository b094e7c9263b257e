import type { StoreKind } from '../../packages/server/test/support/databases.js';
import { refreshTokens, startAim } from '../lib/aim.js';
import type { BenchConfig } from '../lib/config.js';
import { cpuDetails, figure, settle, type Figure } from '../lib/figure.js';
import { runLoad, type LoadRequest, type LoadResult } from '../lib/load.js';
import { TokenPool } from '../lib/signed.js';

/** Refresh rotation at full load: every request spends one refresh token and gets the next of its family. */
export async function refreshFigure(
  config: BenchConfig,
  oidcRefresh: LoadResult,
  options: { kind: StoreKind; redis: boolean; id: string; name: string },
): Promise<Figure> {
  const aim = await startAim({ kind: options.kind, redis: options.redis, ...(config.profile && { profileName: options.id }) });
  try {
    const url = aim.server.url;
    // A run ends with tokens in flight whose successors never come back: each run gets a pool of its own.
    const request = async (): Promise<LoadRequest> => {
      const pool = new TokenPool(await refreshTokens(url, config.connections + 20));
      return {
        method: 'POST',
        path: '/api/v1/auth/refresh',
        headers: { 'content-type': 'application/json' },
        next: () => ({ body: JSON.stringify({ refresh_token: pool.take() }) }),
        onResponse: (_status, body) => pool.giveBack(body),
      };
    };
    const warmup = config.smoke ? 0 : 2;
    if (warmup > 0) await runLoad(url, { connections: config.connections, duration: warmup, requests: [await request()] });
    const measured = await request();
    await settle();
    const load = await runLoad(url, { connections: config.connections, duration: config.duration, requests: [measured], pid: aim.server.pid });
    return figure({
      id: options.id,
      name: options.name,
      value: load.rps,
      unit: 'req/s',
      baseline: { name: 'oidc-provider refresh_token grant (rotating, in-memory)', value: oidcRefresh.rps, unit: 'req/s' },
      goal: 2,
      details: { p99_ms: load.p99, errors: load.errors, ...cpuDetails(load), baseline_cpu_ms_per_request: oidcRefresh.cpuMsPerRequest ?? 0, baseline_p99_ms: oidcRefresh.p99, baseline_errors: oidcRefresh.errors, statuses: JSON.stringify(load.statuses) },
    });
  } finally {
    await aim.drop();
  }
}
