import { createApiKey, login, registerAgent, startAim } from '../lib/aim.js';
import { sliceSeconds, type BenchConfig } from '../lib/config.js';
import { cpuDetails, figure, settle, type Figure } from '../lib/figure.js';
import { alternate, runLoad, type LoadRequest, type LoadResult } from '../lib/load.js';

/**
 * `GET /api/v1/agents` with an API key and with a JWT, each ÷ the same server's unauthenticated `/health`:
 * what authentication, scope checks, rate limiting and one page of agents cost over the bare framework.
 */
export async function authenticatedListFigures(config: BenchConfig): Promise<Figure[]> {
  const aim = await startAim(config.profile ? { profileName: 'list' } : {});
  try {
    const url = aim.server.url;
    const session = await login(url);
    const apiKey = await createApiKey(url, session);
    for (let i = 0; i < 10; i += 1) await registerAgent(url, session);
    const health: LoadRequest = { method: 'GET', path: '/health' };
    const byKey: LoadRequest = { method: 'GET', path: '/api/v1/agents', headers: { 'x-api-key': apiKey } };
    const byJwt: LoadRequest = { method: 'GET', path: '/api/v1/agents', headers: { authorization: `Bearer ${session.accessToken}` } };
    if (config.warmup > 0) {
      for (const request of [health, byKey, byJwt]) await runLoad(url, { connections: config.connections, duration: config.warmup, requests: [request] });
    }
    await settle();
    const slice = sliceSeconds(config);
    const measure = (request: LoadRequest) => () => runLoad(url, { connections: config.connections, duration: slice, requests: [request], pid: aim.server.pid });
    const [probe, key, jwt] = await alternate(config.rounds, [measure(health), measure(byKey), measure(byJwt)]);
    const baseline = { name: 'GET /health, same server', value: probe!.rps, unit: 'req/s' };
    const details = (load: LoadResult) => ({
      p99_ms: load.p99,
      errors: load.errors,
      ...cpuDetails(load),
      health_p99_ms: probe!.p99,
      health_cpu_ms_per_request: Math.round((probe!.cpuMsPerRequest ?? 0) * 1000) / 1000,
      page_size: 10,
      statuses: JSON.stringify(load.statuses),
    });
    return [
      figure({ id: 'list-api-key', name: 'GET /api/v1/agents, API key', value: key!.rps, unit: 'req/s', baseline, goal: 0.7, details: details(key!) }),
      figure({ id: 'list-jwt', name: 'GET /api/v1/agents, JWT', value: jwt!.rps, unit: 'req/s', baseline, goal: 0.7, details: details(jwt!) }),
    ];
  } finally {
    await aim.drop();
  }
}
