import { generateKeyPairSync } from 'node:crypto';
import type { BenchConfig } from '../lib/config.js';
import { settle } from '../lib/figure.js';
import { runLoad, type LoadRequest, type LoadResult } from '../lib/load.js';
import { clientAssertions, TokenPool } from '../lib/signed.js';
import { startOidcProvider } from './oidc.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

export interface OidcResults {
  refresh: LoadResult;
  clientCredentials: LoadResult;
}

/** oidc-provider's refresh_token and client_credentials (private_key_jwt, EdDSA) grants at full load. */
export async function measureOidcProvider(config: BenchConfig): Promise<OidcResults> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const perRun = config.connections + 20;
  const oidc = await startOidcProvider(publicKey, perRun * 2);
  try {
    const warmup = config.smoke ? 0 : 2;
    const measure = async (make: () => LoadRequest) => {
      if (warmup > 0) await runLoad(oidc.url, { connections: config.connections, duration: warmup, requests: [make()] });
      await settle();
      return runLoad(oidc.url, { connections: config.connections, duration: config.duration, requests: [make()], pid: oidc.pid });
    };
    // A run ends with tokens in flight whose successors never come back: each run gets a pool of its own.
    const pools = [oidc.refreshTokens.slice(perRun), oidc.refreshTokens.slice(0, perRun)];
    const refresh = await measure(() => {
      const pool = new TokenPool(pools.pop() ?? []);
      return {
        method: 'POST',
        path: '/token',
        headers: FORM,
        next: () => ({ body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'refresh-client', refresh_token: pool.take() }).toString() }),
        onResponse: (_status, body) => pool.giveBack(body),
      };
    });
    const assertions = await clientAssertions(
      { issuer: 'agent-client', audience: oidc.tokenEndpoint, privateKey },
      Math.ceil((config.duration + warmup) * 5000) + 1000,
    );
    const clientCredentials = await measure(() => ({ method: 'POST', path: '/token', headers: FORM, next: () => ({ body: assertions.next() }) }));
    return { refresh, clientCredentials };
  } finally {
    await oidc.stop();
  }
}
