import { login, PUBLIC_URL, registerAgent, startAim } from '../lib/aim.js';
import type { BenchConfig } from '../lib/config.js';
import { cpuDetails, figure, settle, type Figure } from '../lib/figure.js';
import { runLoad, type LoadResult } from '../lib/load.js';
import { clientAssertions } from '../lib/signed.js';

/** client_credentials with private_key_jwt (EdDSA): assertion verified, jti claimed once, an EdDSA JWT issued. */
export async function clientCredentialsFigure(config: BenchConfig, oidc: LoadResult): Promise<Figure> {
  const aim = await startAim(config.profile ? { profileName: 'client-credentials' } : {});
  try {
    const url = aim.server.url;
    const agent = await registerAgent(url, await login(url));
    const warmup = config.smoke ? 0 : 2;
    const assertions = await clientAssertions(
      { issuer: agent.id, audience: `${PUBLIC_URL}/oauth/token`, privateKey: agent.keys.privateKey },
      Math.ceil((config.duration + warmup) * 5000) + 1000,
    );
    const request = { method: 'POST' as const, path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, next: () => ({ body: assertions.next() }) };
    if (warmup > 0) await runLoad(url, { connections: config.connections, duration: warmup, requests: [request] });
    await settle();
    const load = await runLoad(url, { connections: config.connections, duration: config.duration, requests: [request], pid: aim.server.pid });
    return figure({
      id: 'client-credentials',
      name: 'client_credentials, private_key_jwt (EdDSA)',
      value: load.rps,
      unit: 'req/s',
      baseline: { name: 'oidc-provider, same grant and client auth', value: oidc.rps, unit: 'req/s' },
      goal: 2,
      details: { p99_ms: load.p99, errors: load.errors, ...cpuDetails(load), baseline_cpu_ms_per_request: oidc.cpuMsPerRequest ?? 0, baseline_p99_ms: oidc.p99, baseline_errors: oidc.errors, statuses: JSON.stringify(load.statuses) },
    });
  } finally {
    await aim.drop();
  }
}
