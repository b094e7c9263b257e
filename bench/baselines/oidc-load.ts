import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { sliceSeconds, type BenchConfig } from '../lib/config.js';
import { runLoad, type LoadRequest, type LoadResult } from '../lib/load.js';
import { clientAssertions, TokenPool, type Supply } from '../lib/signed.js';
import { startOidcProvider, type OidcBaseline } from './oidc.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/**
 * oidc-provider, running for the whole benchmark run, with what each of its load slices needs: a fresh pool of
 * refresh tokens per slice (a slice ends with tokens in flight whose successors never come back) and one-time
 * client assertions.
 */
export class OidcBench {
  private assertions: Supply | undefined;

  private constructor(
    private readonly config: BenchConfig,
    private readonly oidc: OidcBaseline,
    private readonly privateKey: KeyObject,
    private readonly perSlice: number,
  ) {}

  static async start(config: BenchConfig): Promise<OidcBench> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const perSlice = config.connections + 20;
    // Warm-up and every slice of the two refresh figures (SQLite and PostgreSQL).
    const slices = 2 * (config.rounds + 1);
    return new OidcBench(config, await startOidcProvider(publicKey, perSlice * slices), privateKey, perSlice);
  }

  private run(request: LoadRequest, seconds: number, measured: boolean): Promise<LoadResult> {
    return runLoad(this.oidc.url, { connections: this.config.connections, duration: seconds, requests: [request], ...(measured && { pid: this.oidc.pid }) });
  }

  /** refresh_token grant, rotating: each answer's refresh token goes back into the pool. */
  refresh(seconds = sliceSeconds(this.config), measured = true): Promise<LoadResult> {
    const pool = new TokenPool(this.oidc.refreshTokens.splice(0, this.perSlice));
    return this.run(
      {
        method: 'POST',
        path: '/token',
        headers: FORM,
        next: () => ({ body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'refresh-client', refresh_token: pool.take() }).toString() }),
        onResponse: (_status, body) => pool.giveBack(body),
      },
      seconds,
      measured,
    );
  }

  /** client_credentials with private_key_jwt (EdDSA), every assertion with a fresh jti. */
  clientCredentials(seconds = sliceSeconds(this.config), measured = true): Promise<LoadResult> {
    this.assertions ??= clientAssertions(
      { issuer: 'agent-client', audience: this.oidc.tokenEndpoint, privateKey: this.privateKey },
      Math.ceil((this.config.duration + this.config.warmup) * 2500) + 1000,
    );
    const assertions = this.assertions;
    return this.run({ method: 'POST', path: '/token', headers: FORM, next: () => ({ body: assertions.next() }) }, seconds, measured);
  }

  stop(): Promise<void> {
    return this.oidc.stop();
  }
}
