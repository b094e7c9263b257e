import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startLiveServer, type LiveServer } from './live-server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs an example as a user would (`npx tsx examples/…`), with only the given environment. */
function runExample(file: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', file)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('the examples folder, against a live server', () => {
  let aim: LiveServer;
  let apiKey: string;
  let home: string;
  before(async () => {
    aim = await startLiveServer();
    apiKey = (await aim.adminClient.apiKeys.create({ name: 'examples' })).key;
    home = mkdtempSync(join(tmpdir(), 'aim-examples-'));
  });
  after(async () => {
    await aim?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('typescript-agent: registers itself the first time, then runs on its own key; guarded actions allowed or denied', async () => {
    const first = await runExample('typescript-agent/agent.ts', { AIM_URL: aim.url, AIM_API_KEY: apiKey, AIM_HOME: home });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^allowed  files:read \/reports\/q3.pdf \(evidence [0-9a-f-]{36}\)$/m);
    assert.match(first.stdout, /^denied   files:read \/payroll\/2026.csv \(resource_not_allowed\)$/m);
    assert.match(first.stdout, /^allowed  search docs\/handbook/m);
    assert.match(first.stdout, /^denied   files:delete \/reports\/q3.pdf \(capability_missing\)$/m);
    const id = /^agent example-agent \(([0-9a-f-]{36})\)$/m.exec(first.stdout)?.[1];
    assert.ok(id);
    assert.equal(statSync(join(home, 'credentials', 'example-agent.json')).mode & 0o777, 0o600);

    // No API key the second time: the stored identity is enough.
    const second = await runExample('typescript-agent/agent.ts', { AIM_URL: aim.url, AIM_HOME: home });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`^agent example-agent \\(${id}\\)$`, 'm'));
  });

  it('ci/provision-agent: provisions with an API key and proves the agent can act; exit codes for the pipeline', async () => {
    const env = {
      AIM_URL: aim.url,
      AIM_API_KEY: apiKey,
      AIM_CREDENTIALS_DIR: join(home, 'ci-credentials'),
      AGENT_NAME: 'billing-bot',
      AGENT_CAPABILITIES: 'invoices:*',
      SMOKE_ACTION: 'invoices:read',
      SMOKE_RESOURCE: 'invoice/smoke',
    };
    const ready = await runExample('ci/provision-agent.ts', env);
    assert.equal(ready.code, 0, ready.stderr);
    const report = JSON.parse(ready.stdout) as { agent_id: string; smoke: { allowed: boolean }; rate_limit_remaining: number | null };
    assert.equal(report.smoke.allowed, true);
    assert.equal(typeof report.rate_limit_remaining, 'number');
    assert.doesNotMatch(ready.stdout, /ak_live_|PRIVATE KEY/);

    // A second run finds the agent and adds a capability the deployment now needs.
    const widened = await runExample('ci/provision-agent.ts', { ...env, AGENT_CAPABILITIES: 'invoices:*,payments:create', SMOKE_ACTION: 'payments:create' });
    assert.equal(widened.code, 0, widened.stderr);
    assert.deepEqual((JSON.parse(widened.stdout) as { added_capabilities: string[] }).added_capabilities, ['payments:create']);

    assert.equal((await runExample('ci/provision-agent.ts', { ...env, SMOKE_ACTION: 'refunds:create' })).code, 1, 'denied');
    assert.equal((await runExample('ci/provision-agent.ts', { ...env, AGENT_NAME: '' })).code, 2, 'missing setting');
    const refused = await runExample('ci/provision-agent.ts', { ...env, AGENT_NAME: 'other-bot', AIM_API_KEY: 'ak_live_not-a-key' });
    assert.equal(refused.code, 3);
    assert.equal((JSON.parse(refused.stderr) as { error: string }).error, 'invalid_api_key');
  });
});
