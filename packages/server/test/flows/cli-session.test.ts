import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { runCli, type CliResult } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ManualClock, MINUTE } from '../../src/core/clock.js';

const EXIT = { ok: 0, auth: 4 };

/** The CLI's stored session when something else changes it while a command runs: the lock, and signed out meanwhile. */
describe('aim: the stored session, shared with other commands', () => {
  const admin = { email: 'cli-session@example.test', password: 'cli-session-correct-horse-battery' };
  let database: TestDatabase;
  let server: ServerProcess;
  let home: string;
  const file = () => join(home, 'session.json');
  const lock = () => `${file()}.lock`;
  const aim = (args: string[], options: { stdin?: string } = {}) => runCli(args, { ...options, env: { AIM_HOME: home, AIM_API_KEY: '', AIM_URL: '' } });
  const adminToken = async () => {
    const login = await fetch(`${server.url}/api/v1/public/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin) });
    return ((await login.json()) as { access_token: string }).access_token;
  };
  const expire = () => {
    const session = JSON.parse(readFileSync(file(), 'utf8')) as Record<string, unknown>;
    writeFileSync(file(), JSON.stringify({ ...session, access_expires_at: 0 }), { mode: 0o600 });
  };

  /**
   * Runs `aim args` while this test holds the session lock, with session.json a named pipe holding `content`: the
   * write returns once the CLI has opened it, so `meanwhile` runs after the CLI read its session and before it
   * gets the lock to refresh, which is the moment another command's logout or login lands. Then the lock is freed.
   */
  async function readThenChange(args: string[], content: string, meanwhile: () => Promise<void>): Promise<CliResult> {
    writeFileSync(lock(), JSON.stringify({ pid: process.pid, host: hostname(), token: 'this-test' }), { mode: 0o600 });
    rmSync(file(), { force: true });
    execFileSync('mkfifo', ['-m', '600', file()]);
    const result = aim(args);
    await writeFile(file(), content);
    await unlink(file());
    await meanwhile();
    rmSync(lock());
    return result;
  }

  before(async () => {
    database = await createTestDatabase('sqlite');
    server = await startServerProcess({ AIM_DATA_DIR: database.dataDir, AIM_ADMIN_EMAIL: admin.email, AIM_ADMIN_PASSWORD: admin.password });
  });
  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'aim-home-'));
    const r = await aim(['login', '--url', server.url, '--email', admin.email, '--password-stdin'], { stdin: admin.password });
    assert.equal(r.code, EXIT.ok, r.stderr);
  });
  after(async () => {
    await server?.stop();
    await database?.drop();
  });

  it('a lock left by a command that died here is taken over at once', async () => {
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => gone.on('close', resolve));
    writeFileSync(lock(), JSON.stringify({ pid: gone.pid, host: hostname(), token: 'dead' }), { mode: 0o600 });
    expire();
    const started = Date.now();
    const r = await aim(['agents', 'list', '--json']);
    assert.equal(r.code, EXIT.ok, r.stderr + r.stdout);
    assert.ok(Date.now() - started < 5_000);
  });

  it('a lock a command on another host left 11 s ago and no longer touches is stale: taken over, the command succeeds', async () => {
    // Holders touch the lock every few seconds; one untouched this long crashed (before: 30 s, and waiters quit at 15 s).
    writeFileSync(lock(), JSON.stringify({ pid: 4242, host: 'another-host.example', token: 'crashed' }), { mode: 0o600 });
    const past = new Date(Date.now() - 11_000);
    utimesSync(lock(), past, past);
    expire();
    const started = Date.now();
    const r = await aim(['agents', 'list', '--json']);
    assert.equal(r.code, EXIT.ok, r.stderr + r.stdout);
    assert.ok(Date.now() - started < 5_000, 'not waited out');
  });

  it('signed out meanwhile (another command logged out): exit 4, not_signed_in, in human and --json output', async () => {
    for (const json of [false, true]) {
      const session = readFileSync(file(), 'utf8');
      const r = await readThenChange(['agents', 'list', ...(json ? ['--json'] : [])], session, async () => undefined);
      assert.equal(r.code, EXIT.auth, r.stderr + r.stdout);
      if (json) {
        assert.deepEqual(JSON.parse(r.stdout), { error: 'not_signed_in', error_description: 'signed out meanwhile (another aim command ran aim logout): run `aim login`' });
      } else {
        assert.match(r.stderr, /^aim: signed out meanwhile .*aim login/);
      }
      writeFileSync(file(), session, { mode: 0o600 });
    }
  });

  it('a login to another server meanwhile: its tokens are not sent here; exit 4, wrong_server', async () => {
    const session = JSON.parse(readFileSync(file(), 'utf8')) as Record<string, unknown>;
    const elsewhere = { ...session, base_url: 'http://127.0.0.1:9', refresh_token: 'rt_elsewhere', access_expires_at: 0 };
    const r = await readThenChange(['agents', 'list', '--json'], JSON.stringify(session), async () => {
      writeFileSync(file(), JSON.stringify(elsewhere), { mode: 0o600 });
    });
    assert.equal(r.code, EXIT.auth, r.stderr + r.stdout);
    assert.equal((JSON.parse(r.stdout) as { error: string }).error, 'wrong_server');
  });

  it('a renewed session that cannot be saved (disk full) is signed out on the server, not left as a spent token that would look stolen', async () => {
    const count = async (event: string) => {
      const audit = await fetch(`${server.url}/api/v1/audit-logs?event=${event}&limit=200`, { headers: { authorization: `Bearer ${await adminToken()}` } });
      return ((await audit.json()) as { entries: unknown[] }).entries.length;
    };
    const [logoutsBefore, reusesBefore] = [await count('session.logged_out'), await count('refresh_token.reuse_detected')];
    expire();
    const full = await runCli(['agents', 'list'], { env: { AIM_HOME: home, AIM_API_KEY: '', AIM_URL: '' }, maxFileKiB: 1 });
    assert.equal(full.code, EXIT.auth, full.stderr + full.stdout);
    assert.match(full.stderr, /^aim: could not save the renewed session to .*session\.json \(EFBIG\), so it was signed out rather than left with a spent token/);
    assert.equal(existsSync(file()), false, 'the spent token is not kept');
    assert.equal(await count('session.logged_out'), logoutsBefore + 1, 'ended as a logout');
    assert.equal(await count('refresh_token.reuse_detected'), reusesBefore, 'no false theft alarm');
    const after = await aim(['agents', 'list']);
    assert.equal(after.code, EXIT.auth);
    assert.match(after.stderr, /not signed in: run `aim login`/);
  });

  it('a refresh token revoked elsewhere (sessions revoke): exit 4 with the refusal and what to do, human and --json', async () => {
    const listed = JSON.parse((await aim(['sessions', 'list', '--json'])).stdout) as { sessions: Array<{ id: string; current: boolean }> };
    const own = listed.sessions.find((s) => s.current)!;
    assert.equal((await aim(['sessions', 'revoke', own.id])).code, EXIT.ok);
    expire();
    const human = await aim(['agents', 'list']);
    assert.equal(human.code, EXIT.auth);
    assert.match(human.stderr, /^aim: the session was signed out \(refresh token was revoked\): run `aim login`/);
    const json = await aim(['agents', 'list', '--json']);
    assert.equal(json.code, EXIT.auth);
    assert.equal((JSON.parse(json.stdout) as { error: string }).error, 'invalid_token');
  });
});

describe('aim reauth: a stored session older than AIM_REAUTH_WINDOW confirms the password, then mints credentials again', () => {
  // The server's clock moves the sign-in past the window; the CLI runs as its own process, over HTTP.
  const clock = new ManualClock(Date.now());
  let t: TestServer;
  let home: string;
  const aim = (args: string[], options: { stdin?: string } = {}) => runCli(args, { ...options, env: { AIM_HOME: home, AIM_API_KEY: '', AIM_URL: '', AIM_PASSWORD: '' } });
  before(async () => {
    t = await startTestServer({ clock });
    home = mkdtempSync(join(tmpdir(), 'aim-home-'));
  });
  after(async () => {
    await t?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('exit 4 naming `aim reauth`; a wrong password is exit 4 and keeps the session; the right one opens the step for the next commands', async () => {
    const admin = await t.createUser({ role: 'admin' });
    assert.equal((await aim(['login', '--url', t.url, '--email', admin.email, '--password-stdin'], { stdin: admin.password })).code, EXIT.ok);
    assert.equal((await aim(['sdk-tokens', 'create', 'fresh'])).code, EXIT.ok, 'a fresh sign-in needs nothing more');
    clock.advance(11 * MINUTE);

    const human = await aim(['sdk-tokens', 'create', 'laptop']);
    assert.equal(human.code, EXIT.auth, human.stderr);
    assert.match(human.stderr, /^aim: this step needs a sign-in from the last 10 minutes: run `aim reauth`, then this command again/);
    const json = await aim(['api-keys', 'create', '--name', 'ci', '--json']);
    assert.equal(json.code, EXIT.auth);
    assert.equal((JSON.parse(json.stdout) as { error: string }).error, 'reauthentication_required');

    const wrong = await aim(['reauth', '--password-stdin'], { stdin: 'not the password' });
    assert.equal(wrong.code, EXIT.auth, wrong.stderr);
    assert.match(wrong.stderr, /password is wrong/);
    assert.equal((await aim(['agents', 'list'])).code, EXIT.ok, 'still signed in');
    assert.equal((await aim(['reauth'])).code, 2, 'no password given: a usage error');

    const right = await aim(['reauth', '--password-stdin', '--json'], { stdin: `${admin.password}\n` });
    assert.equal(right.code, EXIT.ok, right.stderr);
    assert.deepEqual(JSON.parse(right.stdout), { reauthenticated: true, email: admin.email });
    const made = await aim(['sdk-tokens', 'create', 'laptop', '--json']);
    assert.equal(made.code, EXIT.ok, made.stderr);
    assert.match((JSON.parse(made.stdout) as { refresh_token: string }).refresh_token, /^rt_/);
    assert.doesNotMatch(readFileSync(join(home, 'session.json'), 'utf8'), new RegExp(admin.password), 'the password is never kept');
  });
});
