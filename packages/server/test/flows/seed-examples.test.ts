import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';

const SEED = fileURLToPath(new URL('../../../../examples/seed/', import.meta.url));
const seedFile = (name: string) => readFileSync(join(SEED, name), 'utf8');
/** The account the seed's browser example signs in with, exactly as written there. */
const SEED_USER = { email: 'user@example.com', password: 'SecurePassword123!' };

/** Runs `preamble.py` followed by a seed snippet, unchanged, with python3 in `cwd`; answers stdout and the report line. */
function runSeedPython(snippet: string, cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string; result?: { status: number; body: Record<string, unknown> } }> {
  const script = join(cwd, `seed-${snippet}`);
  writeFileSync(script, `${seedFile('preamble.py')}\n# ---- the seed's snippet, unchanged ----\n${seedFile(snippet)}`);
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [script], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('AIM-RESULT '));
      resolve({ code: code ?? -1, stdout, stderr, ...(line && { result: JSON.parse(line.slice('AIM-RESULT '.length)) }) });
    });
  });
}

/** The seed's three quick-start examples, run unchanged against a live server. */
describe('the seed quick-start examples', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let work: string;
  let accessToken: string;
  before(async () => {
    database = await createTestDatabase('sqlite');
    server = await startServerProcess({ AIM_DATA_DIR: database.dataDir, AIM_ADMIN_EMAIL: SEED_USER.email, AIM_ADMIN_PASSWORD: SEED_USER.password });
    work = mkdtempSync(join(tmpdir(), 'aim-seed-'));
    accessToken = (await server.http.post<{ access_token: string }>('/api/v1/public/login', SEED_USER)).body.access_token;
  });
  after(async () => {
    await server?.stop();
    await database?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('1. browser login with fetch, in headless Chromium on the server origin', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      // The snippet calls https://aim.example.com: the page lives on that origin, and every request to it is
      // answered by the live server (Playwright forwards it), so the snippet's fetches are same-origin as written.
      await page.route('https://aim.example.com/**', async (route) => {
        const url = route.request().url().replace('https://aim.example.com', server.url);
        await route.fulfill({ response: await route.fetch({ url }) });
      });
      const answers: Array<{ url: string; status: number }> = [];
      page.on('response', (r) => {
        if (r.request().resourceType() === 'fetch') answers.push({ url: r.url(), status: r.status() });
      });
      await page.goto('https://aim.example.com/health');
      const seen = await page.evaluate(`(async () => {\n${seedFile('browser-login.js')}\nreturn { login: response.status, hasAccess: typeof access_token, hasRefresh: typeof refresh_token, agents: agents.status, list: await agents.json() };\n})()`);
      const result = seen as { login: number; hasAccess: string; hasRefresh: string; agents: number; list: { agents: unknown[] } };
      assert.equal(result.login, 200);
      assert.equal(result.hasAccess, 'string');
      assert.equal(result.hasRefresh, 'string');
      assert.equal(result.agents, 200);
      assert.ok(Array.isArray(result.list.agents));
      assert.deepEqual(answers.map((a) => [new URL(a.url).pathname, a.status]), [['/api/v1/public/login', 200], ['/api/v1/agents', 200]]);
    } finally {
      await browser.close();
    }
  });

  it('2. Python requests registers an agent with an API key', async () => {
    const created = await server.http.post<{ key: string }>('/api/v1/api-keys', { name: 'seed-python' }, { token: accessToken });
    const run = await runSeedPython('register-agent.py', work, { AIM_URL: server.url, AIM_API_KEY: created.body.key });
    assert.equal(run.code, 0, run.stderr);
    const id = /^Agent registered: ([0-9a-f-]{36})$/m.exec(run.stdout)?.[1];
    assert.ok(id, run.stdout);
    assert.equal(run.result?.status, 201);
    const agent = await server.http.get<{ name: string; type: string; capabilities: string[] }>(`/api/v1/agents/${id}`, { token: accessToken });
    assert.equal(agent.body.name, 'my-automated-agent');
    assert.equal(agent.body.type, 'automation');
    assert.deepEqual([...agent.body.capabilities].sort(), ['api_calls', 'data_processing']);
  });

  it('3. Python cryptography signs an action (key from `aim keygen`) and calls verify-action', async () => {
    const keygen = await runCli(['keygen', '--out', work]);
    assert.equal(keygen.code, 0, keygen.stderr);
    const registered = await server.http.post<{ agent_id: string }>(
      '/api/v1/agents',
      { name: 'seed-signer', capabilities: ['files:*'], public_key: readFileSync(join(work, 'agent_public_key.pem'), 'utf8') },
      { token: accessToken },
    );
    assert.equal(registered.status, 201, registered.text);
    const run = await runSeedPython('verify-action.py', work, {
      AIM_URL: server.url,
      AIM_AGENT_ID: registered.body.agent_id,
      AIM_ACTION: 'files:read',
      AIM_RESOURCE: '/reports/q3.pdf',
      AIM_TOKEN: accessToken,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.result?.status, 200, JSON.stringify(run.result));
    assert.equal(run.result?.body.verified, true);
    assert.equal(run.result?.body.allowed, true);
    const evidence = await server.http.get<{ signature: string }>(`/api/v1/verifications/${String(run.result?.body.verification_id)}`, { token: accessToken });
    assert.equal(evidence.status, 200);
  });
});
