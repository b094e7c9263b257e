import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { ManualClock, SECOND } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { masterKeyId } from '../../src/core/master-key.js';
import { loadConfig } from '../../src/config/index.js';
import { createServer, type AimServer } from '../../src/main.js';
import { CLI_BIN, runCli } from '../support/cli.js';
import { cookieHeader, setCookies } from '../support/cookies.js';
import { STORE_KINDS, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { HttpClient } from '../support/http.js';
import { LogCapture } from '../support/logs.js';
import { freePort } from '../support/server.js';

const STEP = 30 * SECOND;
const codeAt = (secret: string, ms: number) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: ms });
const KEY_A = Buffer.alloc(32, 0xa1).toString('base64');
const KEY_B = 'b2'.repeat(32);
const WEB = { 'x-aim-client': 'web' };

interface Running {
  server: AimServer;
  http: HttpClient;
}

/** Env for one node (or one CLI run) of this test's deployment: the same store, the given master keys. */
const envFor = (db: TestDatabase, port: number, keys: { current: string; previous?: string }): Record<string, string> => ({
  AIM_PORT: String(port),
  AIM_DATA_DIR: db.dataDir,
  ...(db.databaseUrl && { AIM_DATABASE_URL: db.databaseUrl }),
  AIM_PUBLIC_URL: `http://127.0.0.1:${port}`,
  AIM_LOG_LEVEL: 'info',
  AIM_MASTER_KEY: keys.current,
  ...(keys.previous && { AIM_MASTER_KEY_PREVIOUS: keys.previous }),
});

for (const store of STORE_KINDS) {
  describe(`master key rotation (${store})`, () => {
    const clock = new ManualClock(Math.floor(Date.now() / STEP) * STEP + SECOND);
    let db: TestDatabase;
    let port: number;
    let node: Running | undefined;

    async function start(keys: { current: string; previous?: string }): Promise<Running> {
      const server = await createServer(loadConfig(envFor(db, port, keys)), { clock, logger: createLogger('info', new LogCapture()) });
      await server.app.listen({ host: '127.0.0.1', port });
      node = { server, http: new HttpClient(`http://127.0.0.1:${port}`) };
      return node;
    }
    async function stop(): Promise<void> {
      await node?.server.close();
      node = undefined;
    }

    before(async () => {
      db = await createTestDatabase(store);
      port = await freePort();
    });
    after(async () => {
      await stop();
      await db.drop();
    });

    const user = { email: `rotation-${store}@example.test`, password: 'pw-rotation-correct-horse-battery', secret: '' };
    /** Signs in with password and a fresh TOTP code (the clock moves to a new step first: a code is accepted once). */
    const login = (n: Running, headers: Record<string, string> = {}) => {
      clock.advance(STEP);
      return n.http.post<{ access_token: string; csrf_token?: string }>(
        '/api/v1/public/login',
        { email: user.email, password: user.password, totp_code: codeAt(user.secret, clock.now()) },
        { headers },
      );
    };
    const cookieRefresh = (n: Running, s: { rt: string; csrf: string }) =>
      n.http.post<{ access_token: string; csrf_token: string }>('/api/v1/auth/refresh', {}, {
        headers: { cookie: cookieHeader({ aim_rt: s.rt, aim_csrf: s.csrf }), 'x-csrf-token': s.csrf },
      });
    const webSession = (res: { headers: Headers }) => {
      const cookies = setCookies(res.headers);
      return { rt: cookies.get('aim_rt')!.value, csrf: cookies.get('aim_csrf')!.value };
    };
    const sealedValues = async (n: Running) => n.server.stores.sealedValues.listSealed();

    let tokenUnderA = '';
    let webUnderA = { rt: '', csrf: '' };
    /** A browser session from before the rotation that nobody refreshes until the previous key is gone. */
    let idleUnderA = { rt: '', csrf: '' };
    let webUnderB = { rt: '', csrf: '' };

    it('under key A: enrols TOTP, issues tokens and a browser session', async () => {
      const n = await start({ current: KEY_A });
      await n.server.services.users.create({ email: user.email, password: user.password, role: 'admin' }, { type: 'system' });
      const first = await n.http.post<{ access_token: string }>('/api/v1/public/login', { email: user.email, password: user.password });
      assert.equal(first.status, 200, first.text);
      const setup = await n.http.post<{ secret: string }>('/api/v1/auth/mfa/totp/setup', undefined, { token: first.body.access_token });
      assert.equal(setup.status, 200, setup.text);
      user.secret = setup.body.secret;
      const enable = await n.http.post('/api/v1/auth/mfa/totp/enable', { code: codeAt(user.secret, clock.now()) }, { token: first.body.access_token });
      assert.equal(enable.status, 200, enable.text);

      const web = await login(n, WEB);
      assert.equal(web.status, 200, web.text);
      tokenUnderA = web.body.access_token;
      webUnderA = webSession(web);
      idleUnderA = webSession(await login(n, WEB));
      for (const v of await sealedValues(n)) assert.equal(v.sealed.split('.')[1], masterKeyId(Buffer.from(KEY_A, 'base64')), v.kind);
      await stop();
    });

    it('with B current and A previous: TOTP sign-in, old tokens and the old CSRF cookie all still work; new values seal under B', async () => {
      const n = await start({ current: KEY_B, previous: KEY_A });
      assert.equal((await n.http.get('/api/v1/auth/me', { token: tokenUnderA })).status, 200);
      const fresh = await login(n);
      assert.equal(fresh.status, 200, fresh.text);
      assert.equal((await n.http.get('/api/v1/auth/me', { token: fresh.body.access_token })).status, 200);

      const refreshed = await cookieRefresh(n, webUnderA);
      assert.equal(refreshed.status, 200, refreshed.text);
      webUnderB = webSession(refreshed);
      assert.notEqual(webUnderB.csrf, webUnderA.csrf);
      const again = await cookieRefresh(n, webUnderB);
      assert.equal(again.status, 200, 'the cookie issued under B works at once');
      webUnderB = webSession(again);

      // A user enrolling now gets a secret sealed under B.
      const other = await n.server.services.users.create({ email: `other-${store}@example.test`, password: user.password, role: 'member' }, { type: 'system' });
      await n.server.services.mfa.setup(other.id, { password: user.password }, { ip: null });
      const sealedOther = (await sealedValues(n)).find((v) => v.kind === 'totp_secret' && v.id === other.id)!;
      assert.equal(sealedOther.sealed.split('.')[1], masterKeyId(Buffer.from(KEY_B, 'hex')));
    });

    it('aim master-key reseal (while the node runs) moves every value to B, says nothing is left, and is idempotent', async () => {
      const env = envFor(db, port, { current: KEY_B, previous: KEY_A });
      const first = await runCli(['master-key', 'reseal', '--json'], { env });
      assert.equal(first.code, 0, first.stderr + first.stdout);
      const report = JSON.parse(first.stdout) as { resealed: number; remaining: number; already_current: number; key_id: string };
      // The signing key and the check value, both sealed under A (the TOTP secret was sealed under A too).
      assert.ok(report.resealed >= 3, first.stdout);
      assert.equal(report.remaining, 0);
      assert.equal(report.key_id, masterKeyId(Buffer.from(KEY_B, 'hex')));
      for (const v of await sealedValues(node!)) assert.equal(v.sealed.split('.')[1], report.key_id, v.kind);

      const again = await runCli(['master-key', 'reseal'], { env });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /re-sealed 0 value/);
      assert.match(again.stdout, /can be removed/);

      const audited = await node!.server.database.db.selectFrom('audit_log').select(['event', 'actor_type']).where('organization_id', '=', 'system').where('event', '=', 'master_key.resealed').execute();
      assert.deepEqual(audited, [{ event: 'master_key.resealed', actor_type: 'system' }]);
      assert.equal((await node!.http.get('/api/v1/auth/me', { token: tokenUnderA })).status, 200, 'the running node keeps working');
      assert.equal((await login(node!)).status, 200);
      await stop();
    });

    it('with only B: TOTP sign-in, tokens and the CSRF cookie issued under B work; the one made under A no longer does', async () => {
      const n = await start({ current: KEY_B });
      assert.equal((await n.http.get('/api/v1/auth/me', { token: tokenUnderA })).status, 200);
      assert.equal((await login(n)).status, 200);
      assert.equal((await cookieRefresh(n, webUnderB)).status, 200);
      const stale = await cookieRefresh(n, idleUnderA);
      assert.equal(stale.status, 403);
      assert.equal(stale.body.error, 'csrf_token_invalid');
      await stop();
    });

    it('with only A: refuses to start with one line naming the variable (in process, aim start and aim master-key reseal)', async () => {
      await assert.rejects(start({ current: KEY_A }), (error: Error) => error.name === 'ConfigError' && error.message.startsWith('AIM_MASTER_KEY:') && !error.message.includes('\n'));
      const started = await runWithTimeout(['start'], envFor(db, await freePort(), { current: KEY_A }));
      assert.equal(started.code, 2, started.stderr);
      assert.match(started.stderr, /^aim: invalid configuration: AIM_MASTER_KEY: [^\n]+\n$/);
      assert.ok(!started.stderr.includes(KEY_A));
      const reseal = await runCli(['master-key', 'reseal'], { env: envFor(db, port, { current: KEY_A }) });
      assert.equal(reseal.code, 3, reseal.stderr);
      assert.match(reseal.stderr, /^aim: invalid configuration: AIM_MASTER_KEY: [^\n]+\n$/);
    });

    it('bad key encodings: a usage/config exit with one line, never a stack trace or the value', async () => {
      for (const [name, value] of [['AIM_MASTER_KEY', 'not-a-key'], ['AIM_MASTER_KEY_PREVIOUS', `${KEY_A},also-secret-not-a-key`]] as const) {
        const env = { ...envFor(db, port, { current: KEY_B }), [name]: value };
        const res = await runCli(['master-key', 'reseal'], { env });
        assert.equal(res.code, 3, res.stderr);
        assert.match(res.stderr, new RegExp(`^aim: invalid configuration: ${name}: [^\\n]+\\n$`));
        assert.ok(!res.stderr.includes(value) && !/\n\s+at /.test(res.stderr), res.stderr);
      }
      const unset = await runCli(['master-key', 'reseal'], { env: { ...envFor(db, port, { current: KEY_B }), AIM_MASTER_KEY: '' } });
      assert.equal(unset.code, 3, unset.stderr);
      assert.equal((await runCli(['master-key', 'reseal', '--key', 'x'], {})).code, 2);
    });
  });
}

describe('aim master-key generate', () => {
  it('prints a fresh 32-byte base64 key each time', async () => {
    const one = await runCli(['master-key', 'generate']);
    const two = await runCli(['master-key', 'generate', '--json']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(Buffer.from(one.stdout.trim(), 'base64').length, 32);
    const key = (JSON.parse(two.stdout) as { key: string }).key;
    assert.notEqual(key, one.stdout.trim());
    assert.ok(loadConfig({ AIM_MASTER_KEY: key }).masterKey);
  });
});

/** `aim …` that must exit on its own; killed (and failed) if it is still running after a while. */
function runWithTimeout(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`aim ${args.join(' ')} did not exit`));
    }, 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr });
    });
  });
}
