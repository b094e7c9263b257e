import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Figure } from './lib/figure.js';

// Benchmarks are not tests: no thresholds here. A smoke run of every figure (about a second each, tiny data)
// proves each one still produces a number, so the benchmarks cannot rot.
const EXPECTED = [
  'verify-action',
  'list-api-key',
  'list-jwt',
  'refresh',
  'client-credentials',
  'argon2-hash',
  'login-rate',
  'login-health-p99',
  'pg-verify-action',
  'pg-refresh',
  'memory-rss',
  'startup',
];

describe('npm run bench (smoke)', () => {
  it('produces every figure with its baseline', { timeout: 600_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aim-bench-smoke-'));
    const results = join(dir, 'results.json');
    try {
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts'], {
          env: { ...process.env, BENCH_SMOKE: '1', BENCH_RESULTS: results },
          stdio: ['ignore', 'ignore', 'pipe'],
          // Ends a stuck run (SIGTERM: it then stops its servers) before the test's own timeout, so the failure
          // says what the run was doing, and nothing is left running.
          timeout: 480_000,
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      });
      assert.equal(code, 0, stderr);
      const { figures } = JSON.parse(readFileSync(results, 'utf8')) as { figures: Figure[] };
      assert.deepEqual(figures.map((f) => f.id).sort(), [...EXPECTED].sort());
      for (const f of figures) {
        assert.ok(Number.isFinite(f.value) && f.value > 0, `${f.id} value ${f.value}`);
        if (f.baseline) assert.ok(Number.isFinite(f.baseline.value) && f.baseline.value > 0, `${f.id} baseline ${f.baseline.value}`);
      }
      const memory = figures.find((f) => f.id === 'memory-rss')!;
      assert.match(String(memory.details.audit_chain), /^valid/, 'seeded audit entries keep the hash chain valid');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
