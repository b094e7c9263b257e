/**
 * `npm run bench`: bounded loads on loopback against the real server (a process of its own), each figure next to a
 * baseline measured in the same run. Prints a Markdown table and writes bench/results.json.
 * Knobs: see bench/lib/config.ts (BENCH_SMOKE=1 for a quick run of every figure).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { OidcBench } from './baselines/oidc-load.js';
import { authenticatedListFigures } from './figures/authenticated-list.js';
import { clientCredentialsFigure } from './figures/client-credentials.js';
import { loginFigures } from './figures/login.js';
import { memoryFigures } from './figures/memory.js';
import { refreshFigure } from './figures/refresh.js';
import { verifyActionFigure } from './figures/verify-action.js';
import { loadBenchConfig, type BenchConfig } from './lib/config.js';
import type { Figure } from './lib/figure.js';
import { describeMachine } from './lib/machine.js';
import { markdownTable } from './lib/table.js';

type Step = { id: string; run: () => Promise<Figure[]> };

/** Table order. */
const ORDER = ['verify-action', 'pg-verify-action', 'list-api-key', 'list-jwt', 'refresh', 'pg-refresh', 'client-credentials', 'argon2-hash', 'login-rate', 'login-health-p99', 'memory-rss', 'startup'];

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export async function runBenchmarks(config: BenchConfig): Promise<{ machine: ReturnType<typeof describeMachine>; figures: Figure[] }> {
  const machine = describeMachine();
  let oidc: OidcBench | undefined;
  const baseline = async () => (oidc ??= await OidcBench.start(config));

  const steps: Step[] = [
    { id: 'verify-action', run: async () => [await verifyActionFigure(config, { kind: 'sqlite', redis: false, id: 'verify-action', name: 'verify-action, SQLite, API key' })] },
    { id: 'list', run: () => authenticatedListFigures(config) },
    { id: 'refresh', run: async () => [await refreshFigure(config, await baseline(), { kind: 'sqlite', redis: false, id: 'refresh', name: 'Refresh rotation, SQLite' })] },
    { id: 'client-credentials', run: async () => [await clientCredentialsFigure(config, await baseline())] },
    { id: 'login', run: () => loginFigures(config) },
    ...(config.postgres
      ? [
          { id: 'pg-verify-action', run: async () => [await verifyActionFigure(config, { kind: 'postgres', redis: true, id: 'pg-verify-action', name: 'verify-action, PostgreSQL + Redis, API key' })] },
          { id: 'pg-refresh', run: async () => [await refreshFigure(config, await baseline(), { kind: 'postgres', redis: true, id: 'pg-refresh', name: 'Refresh rotation, PostgreSQL + Redis' })] },
        ]
      : []),
    { id: 'memory', run: () => memoryFigures(config) },
  ];

  const figures: Figure[] = [];
  try {
    for (const step of steps) {
      if (config.only.length > 0 && !config.only.some((o) => step.id.includes(o))) continue;
      const started = performance.now();
      const produced = await step.run();
      figures.push(...produced);
      for (const f of produced) {
        const ratio = f.ratio === undefined ? '' : `  ratio ${f.ratio.toFixed(2)}${f.met === undefined ? '' : f.met ? ' (goal met)' : ' (goal MISSED)'}`;
        process.stderr.write(`${f.id}: ${f.value.toFixed(1)} ${f.unit}${ratio}  [${((performance.now() - started) / 1000).toFixed(0)} s]\n`);
      }
    }
  } finally {
    await oidc?.stop();
  }
  machine.load_end = loadavg()[0]!;
  return { machine, figures };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Killed (Ctrl-C, or the smoke test giving up): exit normally, so the exit hooks kill the servers this run started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1));
  const config = loadBenchConfig();
  const { machine, figures } = await runBenchmarks(config);
  const table = markdownTable(figures);
  process.stdout.write(`\n${table}\n\n`);
  process.stdout.write(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, Node ${machine.node}; load ${machine.load_start.toFixed(2)} → ${machine.load_end?.toFixed(2)}\n`);
  if (config.resultsFile) {
    const settings = { ...config, resultsFile: undefined };
    const commit = gitCommit();
    const run = { ran_at: new Date().toISOString(), commit, machine, settings };
    let all = figures.map((f) => ({ ...f, run: run.ran_at }));
    let runs = [run];
    // BENCH_MERGE=1: replace these figures in an earlier results file and keep the others (a long figure such as
    // the memory soak can then run on its own).
    if (process.env.BENCH_MERGE === '1' && existsSync(config.resultsFile)) {
      const earlier = JSON.parse(readFileSync(config.resultsFile, 'utf8')) as { runs: typeof runs; figures: typeof all };
      const fresh = new Set(all.map((f) => f.id));
      all = [...earlier.figures.filter((f) => !fresh.has(f.id)), ...all];
      runs = [...earlier.runs.filter((r) => all.some((f) => f.run === r.ran_at)), run];
    }
    const order = (id: string) => ORDER.indexOf(id) === -1 ? ORDER.length : ORDER.indexOf(id);
    all.sort((a, b) => order(a.id) - order(b.id));
    writeFileSync(config.resultsFile, `${JSON.stringify({ runs, figures: all, table: markdownTable(all) }, null, 2)}\n`);
    process.stdout.write(`wrote ${config.resultsFile}\n`);
  }
  process.exit(figures.some((f) => !Number.isFinite(f.value)) ? 1 : 0);
}
