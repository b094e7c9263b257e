import { createApiKey, login, registerAgent, startAim } from '../lib/aim.js';
import type { BenchConfig } from '../lib/config.js';
import { cpuDetails, figure, settle, type Figure } from '../lib/figure.js';
import { runLoad, type LoadRequest } from '../lib/load.js';

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
    const warmup = config.smoke ? 0 : 2;
    const measure = async (request: LoadRequest) => {
      if (warmup > 0) await runLoad(url, { connections: config.connections, duration: warmup, requests: [request] });
      await settle();
      return runLoad(url, { connections: config.connections, duration: config.duration, requests: [request], pid: aim.server.pid });
    };
    const health = await measure({ method: 'GET', path: '/health' });
    const byKey = await measure({ method: 'GET', path: '/api/v1/agents', headers: { 'x-api-key': apiKey } });
    const byJwt = await measure({ method: 'GET', path: '/api/v1/agents', headers: { authorization: `Bearer ${session.accessToken}` } });
    const baseline = { name: 'GET /health, same server', value: health.rps, unit: 'req/s' };
    const details = (load: typeof health) => ({
      p99_ms: load.p99,
      errors: load.errors,
      ...cpuDetails(load),
      health_cpu_ms_per_request: health.cpuMsPerRequest ?? 0,
      health_p99_ms: health.p99,
      page_size: 10,
      statuses: JSON.stringify(load.statuses),
    });
    return [
      figure({ id: 'list-api-key', name: 'GET /api/v1/agents, API key', value: byKey.rps, unit: 'req/s', baseline, goal: 0.7, details: details(byKey) }),
      figure({ id: 'list-jwt', name: 'GET /api/v1/agents, JWT', value: byJwt.rps, unit: 'req/s', baseline, goal: 0.7, details: details(byJwt) }),
    ];
  } finally {
    await aim.drop();
  }
}
