import { randomBytes } from 'node:crypto';
import { hashPassword } from '../../packages/server/src/users/passwords.js';
import { login, startAim } from '../lib/aim.js';
import type { BenchConfig } from '../lib/config.js';
import { cpuDetails, figure, settle, type Figure } from '../lib/figure.js';
import { runLoad, type LoadRequest } from '../lib/load.js';

/** /health is probed at this steady rate, alone and during the storm, to see whether logins starve it. */
const PROBE_RATE = 100;
/** The /health p99 during a login storm must stay under this to count as not starved. */
const PROBE_P99_LIMIT_MS = 100;

/** argon2id with AIM's parameters, one hash at a time: milliseconds per hash. */
async function hashMilliseconds(count: number): Promise<number> {
  await hashPassword('warm-up-password');
  const started = performance.now();
  for (let i = 0; i < count; i += 1) await hashPassword(`password-${i}-${randomBytes(4).toString('hex')}`);
  return (performance.now() - started) / count;
}

/** argon2id hashes/s with `concurrency` in flight: what libuv's pool can do on this machine, no HTTP. */
async function hashesPerSecond(seconds: number, concurrency: number): Promise<number> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await hashPassword(`password-${done}`);
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

export async function loginFigures(config: BenchConfig): Promise<Figure[]> {
  const hashMs = await hashMilliseconds(config.smoke ? 2 : 20);
  const rawRate = await hashesPerSecond(config.smoke ? 1 : Math.min(config.duration, 5), 4);
  const aim = await startAim(config.profile ? { profileName: 'login' } : {});
  try {
    const url = aim.server.url;
    const admin = await login(url);
    // Several accounts in turn, so a storm of correct logins never looks like a concurrent guessing burst on one.
    const users: Array<{ email: string; password: string }> = [];
    for (let i = 0; i < config.loginConnections * 4; i += 1) {
      const user = { email: `storm-${i}-${randomBytes(3).toString('hex')}@example.test`, password: `storm-${randomBytes(9).toString('hex')}` };
      const response = await fetch(`${url}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.accessToken}` },
        body: JSON.stringify({ ...user, role: 'viewer' }),
      });
      if (response.status !== 201) throw new Error(`creating a user: ${response.status} ${await response.text()}`);
      users.push(user);
    }
    let turn = 0;
    const loginRequest: LoadRequest = {
      method: 'POST',
      path: '/api/v1/public/login',
      headers: { 'content-type': 'application/json' },
      next: () => ({ body: JSON.stringify(users[turn++ % users.length]) }),
    };
    const probe = (duration: number) =>
      runLoad(url, { connections: 4, duration, overallRate: PROBE_RATE, requests: [{ method: 'GET', path: '/health' }] });
    const quiet = await probe(config.duration);
    await settle();
    const [storm, during] = await Promise.all([
      runLoad(url, { connections: config.loginConnections, duration: config.duration, requests: [loginRequest], pid: aim.server.pid }),
      probe(config.duration),
    ]);
    const params = 'argon2id m=19 MiB t=2 p=1';
    return [
      figure({ id: 'argon2-hash', name: `argon2id hash (${params}), one at a time`, value: hashMs, unit: 'ms', details: {} }),
      figure({
        id: 'login-rate',
        name: `Logins at full load (${config.loginConnections} connections)`,
        value: storm.rps,
        unit: 'logins/s',
        baseline: { name: 'argon2id hashes/s, 4 in flight, no HTTP', value: rawRate, unit: 'hashes/s' },
        details: { p99_ms: storm.p99, errors: storm.errors, ...cpuDetails(storm), statuses: JSON.stringify(storm.statuses) },
      }),
      figure({
        id: 'login-health-p99',
        name: `/health p99 during the login storm (${PROBE_RATE} req/s probe)`,
        value: during.p99,
        unit: 'ms',
        baseline: { name: '/health p99, same probe, no storm', value: quiet.p99, unit: 'ms' },
        limit: PROBE_P99_LIMIT_MS,
        details: { limit_ms: PROBE_P99_LIMIT_MS, probe_requests: during.requests, probe_errors: during.errors },
      }),
    ];
  } finally {
    await aim.drop();
  }
}
