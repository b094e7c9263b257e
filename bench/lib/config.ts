/**
 * The knobs of a benchmark run, from the environment. Defaults are the figures (a full run);
 * BENCH_SMOKE=1 shrinks everything to about a second per figure so the suite can prove each figure still runs.
 */
export interface BenchConfig {
  smoke: boolean;
  /** Seconds of load per measurement, split into `rounds` slices alternating with the baseline's. */
  duration: number;
  rounds: number;
  /** Seconds of warm-up load before measuring (JIT, caches). */
  warmup: number;
  connections: number;
  /** Seconds of mixed load before measuring RSS. */
  soakSeconds: number;
  agents: number;
  auditEntries: number;
  /** Concurrent logins in the login storm. */
  loginConnections: number;
  /** Run the PostgreSQL + Redis figures. */
  postgres: boolean;
  /** Write CPU profiles of the server under test into bench/profiles/. */
  profile: boolean;
  /** Only figures whose id contains one of these (comma-separated BENCH_ONLY). */
  only: string[];
  /** Where results go; the smoke test writes elsewhere so it never overwrites a full run's results. */
  resultsFile: string;
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

export function loadBenchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const smoke = env.BENCH_SMOKE === '1';
  return {
    smoke,
    duration: num(env, 'BENCH_DURATION', smoke ? 1 : 12),
    rounds: Math.max(1, Math.round(num(env, 'BENCH_ROUNDS', smoke ? 1 : 3))),
    // Even a smoke run warms up: on a busy machine a cold baseline can finish no request in its first second.
    warmup: num(env, 'BENCH_WARMUP', smoke ? 1 : 2),
    connections: num(env, 'BENCH_CONNECTIONS', smoke ? 10 : 50),
    soakSeconds: num(env, 'BENCH_SOAK_SECONDS', smoke ? 1 : 600),
    agents: num(env, 'BENCH_AGENTS', smoke ? 200 : 100_000),
    auditEntries: num(env, 'BENCH_AUDIT_ENTRIES', smoke ? 2_000 : 1_000_000),
    loginConnections: num(env, 'BENCH_LOGIN_CONNECTIONS', smoke ? 4 : 16),
    postgres: env.BENCH_POSTGRES !== '0',
    profile: env.BENCH_PROFILE === '1',
    only: (env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    resultsFile: env.BENCH_RESULTS ?? (smoke ? '' : 'bench/results.json'),
  };
}

/** Whole seconds per slice: autocannon counts its duration in seconds. */
export function sliceSeconds(config: BenchConfig): number {
  return Math.max(1, Math.round(config.duration / config.rounds));
}
