import type { StoreKind } from '../../packages/server/test/support/databases.js';
import type { OidcBench } from '../baselines/oidc-load.js';
import { refreshTokens, startAim } from '../lib/aim.js';
import { sliceSeconds, type BenchConfig } from '../lib/config.js';
import { againstBaseline, figure, settle, type Figure } from '../lib/figure.js';
import { alternate, runLoad, type LoadRequest } from '../lib/load.js';
import { TokenPool } from '../lib/signed.js';

/** Refresh rotation at full load: every request spends one refresh token and gets the next of its family. */
export async function refreshFigure(config: BenchConfig, oidc: OidcBench, options: { kind: StoreKind; redis: boolean; id: string; name: string }): Promise<Figure> {
  const aim = await startAim({ kind: options.kind, redis: options.redis, ...(config.profile && { profileName: options.id }) });
  try {
    const url = aim.server.url;
    // A slice ends with tokens in flight whose successors never come back: each slice gets a pool of its own,
    // made (by logins) before the slice starts.
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
    if (config.warmup > 0) {
      await runLoad(url, { connections: config.connections, duration: config.warmup, requests: [await request()] });
      await oidc.refresh(config.warmup, false);
    }
    const slice = sliceSeconds(config);
    const [load, baseline] = await alternate(config.rounds, [
      async () => {
        const ready = await request();
        await settle();
        return runLoad(url, { connections: config.connections, duration: slice, requests: [ready], pid: aim.server.pid });
      },
      () => oidc.refresh(slice),
    ]);
    return figure({
      id: options.id,
      name: options.name,
      value: load!.rps,
      unit: 'req/s',
      baseline: { name: 'oidc-provider refresh_token grant (rotating, in-memory)', value: baseline!.rps, unit: 'req/s' },
      goal: 2,
      details: againstBaseline(load!, baseline!),
    });
  } finally {
    await aim.drop();
  }
}
