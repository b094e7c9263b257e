import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { KeyObject } from 'node:crypto';

const ENTRY = fileURLToPath(new URL('./oidc-server.ts', import.meta.url));

export interface OidcBaseline {
  url: string;
  tokenEndpoint: string;
  refreshTokens: string[];
  pid: number;
  stop(): Promise<void>;
}

/** Starts oidc-provider in a process of its own (as AIM runs in one) and waits for its first line. */
export async function startOidcProvider(agentPublicKey: KeyObject, refreshTokens: number): Promise<OidcBaseline> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      BENCH_OIDC_AGENT_JWK: JSON.stringify(agentPublicKey.export({ format: 'jwk' })),
      BENCH_OIDC_REFRESH_TOKENS: String(refreshTokens),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Killed with this process if the run dies first.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const errors: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => errors.length < 50 && errors.push(line));
  const first = await new Promise<{ url: string; refresh_tokens: string[] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`oidc-provider did not start:\n${errors.join('\n')}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`oidc-provider exited with ${code}:\n${errors.join('\n')}`)));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      // oidc-provider prints its notices on stdout too.
      if (!line.startsWith('{"url"')) return;
      clearTimeout(timer);
      lines.close();
      child.stdout!.resume();
      resolve(JSON.parse(line) as { url: string; refresh_tokens: string[] });
    });
  });
  return {
    url: first.url,
    tokenEndpoint: `${first.url}/token`,
    refreshTokens: first.refresh_tokens,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
