import type { OidcBench } from '../baselines/oidc-load.js';
import { login, PUBLIC_URL, registerAgent, startAim } from '../lib/aim.js';
import { sliceSeconds, type BenchConfig } from '../lib/config.js';
import { againstBaseline, figure, settle, type Figure } from '../lib/figure.js';
import { alternate, runLoad } from '../lib/load.js';
import { clientAssertions } from '../lib/signed.js';

/** client_credentials with private_key_jwt (EdDSA): assertion verified, jti claimed once, an EdDSA JWT issued. */
export async function clientCredentialsFigure(config: BenchConfig, oidc: OidcBench): Promise<Figure> {
  const aim = await startAim(config.profile ? { profileName: 'client-credentials' } : {});
  try {
    const url = aim.server.url;
    const agent = await registerAgent(url, await login(url));
    const assertions = clientAssertions(
      { issuer: agent.id, audience: `${PUBLIC_URL}/oauth/token`, privateKey: agent.keys.privateKey },
      Math.ceil((config.duration + config.warmup) * 2500) + 1000,
    );
    const request = { method: 'POST' as const, path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, next: () => ({ body: assertions.next() }) };
    if (config.warmup > 0) {
      await runLoad(url, { connections: config.connections, duration: config.warmup, requests: [request] });
      await oidc.clientCredentials(config.warmup, false);
    }
    await settle();
    const slice = sliceSeconds(config);
    const [load, baseline] = await alternate(config.rounds, [
      () => runLoad(url, { connections: config.connections, duration: slice, requests: [request], pid: aim.server.pid }),
      () => oidc.clientCredentials(slice),
    ]);
    return figure({
      id: 'client-credentials',
      name: 'client_credentials, private_key_jwt (EdDSA)',
      value: load!.rps,
      unit: 'req/s',
      baseline: { name: 'oidc-provider, same grant and client auth', value: baseline!.rps, unit: 'req/s' },
      goal: 2,
      details: againstBaseline(load!, baseline!),
    });
  } finally {
    await aim.drop();
  }
}
