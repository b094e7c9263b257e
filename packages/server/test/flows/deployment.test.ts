import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateMasterKey } from '../../src/core/master-key.js';
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

describe('deployment: the SQLite data dir', () => {
  it('keeps the store and the generated master key readable by the server user only (files created 0600); `aim user create --json` on it answers in the API shape', async () => {
    const root = mkdtempSync(join(tmpdir(), 'aim-datadir-'));
    // An operator's directory such as /var/lib/aim, made beforehand and readable by others.
    const dataDir = join(root, 'aim');
    mkdirSync(dataDir, { mode: 0o755 });
    const node = await startServerProcess({
      AIM_DATA_DIR: dataDir,
      AIM_ADMIN_EMAIL: 'owner@example.com',
      AIM_ADMIN_PASSWORD: 'a long passphrase',
    });
    try {
      const login = await node.http.post('/api/v1/public/login', { email: 'owner@example.com', password: 'a long passphrase' });
      assert.equal(login.status, 200);
      for (const name of ['aim.sqlite', 'aim.sqlite-wal', 'aim.sqlite-shm', 'master.key']) {
        const mode = statSync(join(dataDir, name)).mode & 0o777;
        assert.equal(mode, 0o600, `${name} is ${mode.toString(8)}`);
      }

      // `aim user create --json` on the same store answers in the API's shape (organization_id, not organizationId),
      // and the user it made signs in to that organization over HTTP.
      const organizationId = (login.body as { user: { organization_id: string } }).user.organization_id;
      const created = await runCli(['user', 'create', '--email', 'second@example.com', '--password-stdin', '--role', 'viewer', '--organization', organizationId, '--json'], {
        env: { AIM_DATA_DIR: dataDir },
        stdin: 'another long passphrase\n',
      });
      assert.equal(created.code, 0, created.stderr);
      const view = JSON.parse(created.stdout) as Record<string, unknown>;
      assert.deepEqual(Object.keys(view).sort(), ['email', 'id', 'organization_id', 'role']);
      assert.equal(view.organization_id, organizationId);
      const second = await node.http.post<{ user: { id: string; organization_id: string } }>('/api/v1/public/login', { email: 'second@example.com', password: 'another long passphrase' });
      assert.equal(second.status, 200);
      assert.equal(second.body.user.id, view.id);
      assert.equal(second.body.user.organization_id, organizationId);
    } finally {
      await node.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('narrows a store and master key that an older version left 0644 to 0600 at start, and keeps using them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'aim-datadir-'));
    const dataDir = join(root, 'aim');
    mkdirSync(dataDir, { mode: 0o700 });
    // What an older AIM (or a restore, or a copy) left behind: an (empty) SQLite store and a key, readable by all.
    const key = generateMasterKey();
    writeFileSync(join(dataDir, 'aim.sqlite'), '');
    writeFileSync(join(dataDir, 'master.key'), key);
    for (const name of ['aim.sqlite', 'master.key']) chmodSync(join(dataDir, name), 0o644);
    const node = await startServerProcess({ AIM_DATA_DIR: dataDir, AIM_ADMIN_EMAIL: 'owner@example.com', AIM_ADMIN_PASSWORD: 'a long passphrase' });
    try {
      assert.equal((await node.http.post('/api/v1/public/login', { email: 'owner@example.com', password: 'a long passphrase' })).status, 200);
      for (const name of ['aim.sqlite', 'aim.sqlite-wal', 'aim.sqlite-shm', 'master.key']) {
        const mode = statSync(join(dataDir, name)).mode & 0o777;
        assert.equal(mode, 0o600, `${name} is ${mode.toString(8)}`);
      }
      assert.equal(readFileSync(join(dataDir, 'master.key'), 'utf8'), key, 'the key itself is kept');
    } finally {
      await node.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
