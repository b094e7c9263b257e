import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess } from '../support/process.js';

/** The production deployment path of docs/deploy.md: migrations as their own step, nodes that refuse a stale schema. */
describe('deployment: migrations as a separate step', () => {
  let database: TestDatabase;
  let env: Record<string, string>;

  before(async () => {
    database = await createTestDatabase('postgres');
    env = { AIM_DATABASE_URL: database.databaseUrl!, AIM_DATA_DIR: database.dataDir, AIM_MIGRATE_ON_START: 'false' };
  });
  after(() => database?.drop());

  it('`aim start` with a wrong setting exits 3 (invalid configuration) naming the variable', async () => {
    const result = await runCli(['start'], { env: { ...env, AIM_PORT: 'not-a-port' } });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stdout + result.stderr, /invalid configuration: AIM_PORT/);
  });

  it('a node refuses to start on an unmigrated database, names the fix, and starts after `aim migrate`', async () => {
    await assert.rejects(startServerProcess(env), (error: Error) => {
      assert.match(error.message, /exited with 1/);
      assert.match(error.message, /pending: 0001_foundation.*run `aim migrate` first/);
      return true;
    });

    const first = await runCli(['migrate', '--json'], { env });
    assert.equal(first.code, 0, first.stderr);
    const applied = (JSON.parse(first.stdout) as { applied: string[] }).applied;
    assert.ok(applied.includes('0001_foundation') && applied.length >= 5, first.stdout);
    const again = await runCli(['migrate'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /up to date/);

    const node = await startServerProcess(env);
    try {
      const ready = await node.http.get<{ status: string }>('/health/ready');
      assert.equal(ready.body.status, 'ready');
    } finally {
      await node.stop();
    }
  });
});
