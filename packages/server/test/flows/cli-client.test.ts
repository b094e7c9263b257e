import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { Secret, TOTP } from 'otpauth';
import { CLI_BIN, runCli, type CliResult } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';

const EXIT = { ok: 0, failure: 1, usage: 2, auth: 4, denied: 5, notFound: 6 };
const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));

/** The client side of the CLI, through its binary, against a server process: from `aim login` to `aim verify`. */
describe('aim client commands: a whole journey', () => {
  const admin = { email: 'cli-journey@example.test', password: 'cli-journey-correct-horse-battery' };
  let database: TestDatabase;
  let server: ServerProcess;
  let home: string;
  const aim = (args: string[], options: { stdin?: string; env?: Record<string, string> } = {}) =>
    runCli(args, { ...options, env: { AIM_HOME: home, AIM_API_KEY: '', AIM_URL: '', ...options.env } });
  const json = <T = Record<string, unknown>>(r: CliResult): T => {
    assert.equal(r.code, EXIT.ok, `exit ${r.code}: ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  };

  before(async () => {
    database = await createTestDatabase('sqlite');
    server = await startServerProcess({ AIM_DATA_DIR: database.dataDir, AIM_ADMIN_EMAIL: admin.email, AIM_ADMIN_PASSWORD: admin.password });
    home = mkdtempSync(join(tmpdir(), 'aim-home-'));
  });
  after(async () => {
    await server?.stop();
    await database?.drop();
    rmSync(home, { recursive: true, force: true });
  });

  it('keygen writes an Ed25519 pair as PEM, the private key 0600, and refuses to overwrite', async () => {
    const r = json<{ private_key_file: string; public_key_file: string; public_key: string }>(await aim(['keygen', '--out', home, '--json']));
    assert.match(readFileSync(r.private_key_file, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.match(readFileSync(r.public_key_file, 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(statSync(r.private_key_file).mode & 0o777, 0o600);
    assert.equal(Buffer.from(r.public_key, 'base64').length, 32);
    assert.equal((await aim(['keygen', '--out', home])).code, EXIT.failure);
  });

  it('usage errors exit 2 and, with --json, are one {error, error_description} document on standard output', async () => {
    for (const args of [['api-keys', 'create', '--json'], ['no-such-command', '--json'], ['agents', 'list', '--no-such-flag', '--json'], ['agents', '--json']]) {
      const r = await aim(args);
      assert.equal(r.code, EXIT.usage, args.join(' '));
      const body = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['error', 'error_description']);
      assert.equal(body.error, 'usage');
    }
    const human = await aim(['api-keys', 'create']);
    assert.equal(human.code, EXIT.usage);
    assert.equal(human.stdout, '');
    assert.match(human.stderr, /--name/);
  });

  it('commands that need a session say so before login (exit 4)', async () => {
    const r = await aim(['agents', 'list']);
    assert.equal(r.code, EXIT.auth);
    assert.match(r.stderr, /aim login/);
  });

  it('login: a wrong password exits 4; the right one keeps a 0600 session and prints no token', async () => {
    const wrong = await aim(['login', '--url', server.url, '--email', admin.email, '--password-stdin', '--json'], { stdin: 'wrong-password-entirely\n' });
    assert.equal(wrong.code, EXIT.auth);
    assert.equal(JSON.parse(wrong.stdout).error, 'invalid_credentials');

    const ok = await aim(['login', '--url', server.url, '--email', admin.email, '--password-stdin'], { stdin: `${admin.password}\n` });
    assert.equal(ok.code, EXIT.ok, ok.stderr);
    assert.match(ok.stdout, /signed in to .* as cli-journey@example.test \(admin\)/);
    assert.doesNotMatch(ok.stdout + ok.stderr, /rt_|eyJ/);
    assert.equal(statSync(join(home, 'session.json')).mode & 0o777, 0o600);
  });

  let apiKey: { id: string; key: string };
  it('api-keys create shows the key once; list shows prefixes only', async () => {
    apiKey = json(await aim(['api-keys', 'create', '--name', 'ci', '--scopes', 'agents:read,agents:write,verify', '--json']));
    assert.match(apiKey.key, /^ak_live_/);
    const human = await aim(['api-keys', 'list']);
    assert.equal(human.code, EXIT.ok);
    assert.match(human.stdout, /ci/);
    assert.doesNotMatch(human.stdout, new RegExp(apiKey.key));
    const listed = json<{ api_keys: Array<{ id: string; key?: string }> }>(await aim(['api-keys', 'list', '--json']));
    assert.ok(listed.api_keys.some((k) => k.id === apiKey.id && k.key === undefined));
  });

  let agentId: string;
  it('agents register generates the key here and keeps the identity 0600; agents list shows it', async () => {
    const r = json<{ agent_id: string; identity_file: string }>(await aim(['agents', 'register', '--name', 'bot', '--capabilities', 'search,files:*,payments:send@acct-42', '--json']));
    agentId = r.agent_id;
    assert.equal(r.identity_file, join(home, 'credentials', 'bot.json'));
    assert.equal(statSync(r.identity_file).mode & 0o777, 0o600);
    const human = await aim(['agents', 'list']);
    assert.match(human.stdout, new RegExp(`${agentId}\\s+bot\\s+agent\\s+active\\s+files:\\*,payments:send@acct-42,search`));
    assert.equal((await aim(['agents', 'register', '--name', 'bot'])).code, EXIT.failure, 'an existing identity is not replaced');
  });

  it('verify: exit 0 when allowed, 5 when denied', async () => {
    const allowed = await aim(['verify', 'files:read', '/reports/q3.pdf', '--agent', 'bot']);
    assert.equal(allowed.code, EXIT.ok, allowed.stderr);
    assert.match(allowed.stdout, /^allowed: files:read on \/reports\/q3.pdf by bot; evidence /);
    const denied = await aim(['verify', 'payments:create', 'invoice/1', '--agent', 'bot', '--json']);
    assert.equal(denied.code, EXIT.denied);
    assert.equal(JSON.parse(denied.stdout).reason, 'capability_missing');
    const elsewhere = await aim(['verify', 'payments:send', 'acct-1', '--agent', 'bot']);
    assert.equal(elsewhere.code, EXIT.denied);
    assert.match(elsewhere.stdout, /^denied \(resource_not_allowed\): payments:send on acct-1 by bot; /);
    assert.equal((await aim(['verify', 'payments:send', 'acct-42', '--agent', 'bot'])).code, EXIT.ok);
    assert.equal((await aim(['verify', 'search', 'x', '--agent', 'nobody'])).code, EXIT.notFound);
  });

  it('stored credentials go only to their own server: another AIM_URL is refused (exit 4) before anything is sent', async () => {
    // A listener standing in for the wrong server (staging, a typo): it records whatever reaches it.
    const seen: string[] = [];
    const decoy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', resolve));
    const elsewhere = `http://127.0.0.1:${(decoy.address() as AddressInfo).port}`;
    try {
      const list = await aim(['agents', 'list', '--json'], { env: { AIM_URL: elsewhere } });
      assert.equal(list.code, EXIT.auth);
      assert.equal(JSON.parse(list.stdout).error, 'wrong_server');
      const verify = await aim(['verify', 'search', 'q', '--agent', 'bot', '--json'], { env: { AIM_URL: elsewhere } });
      assert.equal(verify.code, EXIT.auth);
      assert.equal(JSON.parse(verify.stdout).error, 'wrong_server');
      assert.deepEqual(seen, [], 'neither the session nor the agent talked to it');
      assert.equal((await aim(['agents', 'list'], { env: { AIM_URL: `${server.url}/` } })).code, EXIT.ok, 'its own server, named, is fine');
    } finally {
      decoy.close();
    }
  });

  it('keys rotate: a new key, saved; verify keeps working with it', async () => {
    const before = JSON.parse(readFileSync(join(home, 'credentials', 'bot.json'), 'utf8')) as { private_key: string };
    const r = json<{ key_id: string }>(await aim(['keys', 'rotate', '--agent', 'bot', '--json']));
    const after = JSON.parse(readFileSync(join(home, 'credentials', 'bot.json'), 'utf8')) as { private_key: string; key_id: string };
    assert.notEqual(after.private_key, before.private_key);
    assert.equal(after.key_id, r.key_id);
    const verified = json<{ key_id: string }>(await aim(['verify', 'search', 'after-rotation', '--agent', 'bot', '--json']));
    assert.equal(verified.key_id, r.key_id);
  });

  it('commands run side by side with an expired access token refresh once: no reuse alarm, the session lives on', async () => {
    const file = join(home, 'session.json');
    const session = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...session, access_expires_at: 0 }), { mode: 0o600 });
    const results = await Promise.all(Array.from({ length: 4 }, () => aim(['agents', 'list', '--json'])));
    for (const r of results) assert.equal(r.code, EXIT.ok, r.stderr + r.stdout);
    const after = JSON.parse(readFileSync(file, 'utf8')) as { refresh_token: string };
    assert.notEqual(after.refresh_token, session.refresh_token, 'rotated once and stored');
    const alerts = json<{ alerts: Array<{ type: string }> }>(await aim(['--json', 'agents', 'list']));
    assert.ok(alerts);
    const me = await server.http.post<{ access_token: string }>('/api/v1/public/login', admin);
    const open = await server.http.get<{ alerts: Array<{ type: string }> }>('/api/v1/alerts', { token: me.body.access_token });
    assert.deepEqual(open.body.alerts.filter((a) => a.type === 'refresh_token_reused'), []);
  });

  it('ctrl-c while the session refreshes: the rotated refresh token is stored before the CLI stops, so the next command does not trip reuse', async () => {
    // A relay in front of the real server that holds the refresh answer until the CLI has been sent SIGINT.
    let held: (() => void) | undefined;
    let refreshed: { refresh_token: string } | undefined;
    let reached!: () => void;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const relay = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'authorization', 'user-agent', 'accept']) if (req.headers[name]) headers[name] = String(req.headers[name]);
        const answer = await fetch(server.url + req.url, { method: req.method, headers, ...(chunks.length > 0 && { body: Buffer.concat(chunks) }) });
        const body = await answer.text();
        const send = () => res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(body);
        if (req.url !== '/api/v1/auth/refresh') return send();
        refreshed = JSON.parse(body) as { refresh_token: string };
        held = send;
        reached();
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    const own = mkdtempSync(join(tmpdir(), 'aim-home-'));
    const env = { ...process.env, AIM_HOME: own, AIM_API_KEY: '', AIM_URL: '' };
    try {
      const signedIn = await runCli(['login', '--url', relayUrl, '--email', admin.email, '--password-stdin'], { stdin: admin.password, env });
      assert.equal(signedIn.code, EXIT.ok, signedIn.stderr);
      const file = join(own, 'session.json');
      const session = JSON.parse(readFileSync(file, 'utf8')) as { refresh_token: string };
      writeFileSync(file, JSON.stringify({ ...session, access_expires_at: 0 }), { mode: 0o600 });

      const child = spawn(process.execPath, [CLI_BIN, 'agents', 'list', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      await arrived;
      // kill() makes the signal pending at once: without a handler the child ends before it can read the answer.
      child.kill('SIGINT');
      held!();
      const stopped = await exited;
      assert.ok(stopped.signal === 'SIGINT' || stopped.code === 130, `stopped by the ctrl-c: ${JSON.stringify(stopped)}`);
      assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { refresh_token: string }).refresh_token, refreshed!.refresh_token, 'the rotated token was kept');
      const next = await runCli(['agents', 'list', '--json'], { env });
      assert.equal(next.code, EXIT.ok, next.stdout + next.stderr);
    } finally {
      relay.close();
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('agents suspend (by local name): verify is then refused (exit 5); reactivate restores it', async () => {
    const suspended = await aim(['agents', 'suspend', 'bot']);
    assert.equal(suspended.code, EXIT.ok, suspended.stderr);
    assert.match(suspended.stdout, /is suspended/);
    assert.equal((await aim(['verify', 'search', 'x', '--agent', 'bot'])).code, EXIT.denied);
    assert.equal((await aim(['agents', 'reactivate', agentId])).code, EXIT.ok);
    assert.equal((await aim(['verify', 'search', 'y', '--agent', 'bot'])).code, EXIT.ok);
  });

  it('evidence verify: a decision re-checks with its key, online or from files alone; an altered record exits 1', async () => {
    const me = await server.http.post<{ access_token: string }>('/api/v1/public/login', admin);
    const token = me.body.access_token;
    // A signature no key made: refused, with evidence that names no key.
    const bad = { action: 'search', resource: 'x', timestamp: Math.floor(Date.now() / 1000), nonce: 'bm9uY2Utbm8ta2V5', signature: Buffer.alloc(64, 7).toString('base64') };
    assert.equal((await server.http.post(`/api/v1/agents/${agentId}/verify-action`, bad, { token })).body.error, 'invalid_signature');
    const listed = await server.http.get<{ verifications: Array<Record<string, unknown>> }>('/api/v1/verifications?limit=200', { token });
    const signedByOldKey = listed.body.verifications.findLast((v) => v.decision === 'allowed')!;
    const unsigned = listed.body.verifications.find((v) => v.reason === 'invalid_signature')!;

    // Signed before `keys rotate`: the rotated-out key still answers for what it signed.
    const online = await aim(['evidence', 'verify', String(signedByOldKey.id)]);
    assert.equal(online.code, EXIT.ok, online.stderr + online.stdout);
    assert.match(
      online.stdout,
      /^consistent: key [0-9a-f-]{36} signed "[^"]+:files:read:\/reports\/q3.pdf:\d+:[^"]+"; decision: allowed \(capability_granted\) at .+; the audit chain records it at seq \d+$/m,
    );
    const refusal = json<{ consistent: boolean; signature: string }>(await aim(['evidence', 'verify', String(unsigned.id), '--json']));
    assert.deepEqual([refusal.consistent, refusal.signature], [true, 'not_checked'], 'a refusal before the signature check names no key');

    // Offline: the evidence and the PEM, nothing else.
    const keys = await server.http.get<{ keys: Array<{ key_id: string; public_key_pem: string }> }>(`/api/v1/agents/${agentId}/keys`, { token });
    const keyFile = join(home, 'signer.pem');
    writeFileSync(keyFile, keys.body.keys.find((k) => k.key_id === signedByOldKey.key_id)!.public_key_pem);
    const check = (record: Record<string, unknown>) => {
      const file = join(home, 'evidence.json');
      writeFileSync(file, JSON.stringify(record));
      return aim(['evidence', 'verify', '--file', file, '--key', keyFile]);
    };
    assert.equal((await check(signedByOldKey)).code, EXIT.ok);
    const moved = await check({ ...signedByOldKey, resource: '/reports/q4.pdf' });
    assert.equal(moved.code, EXIT.failure);
    assert.match(moved.stdout, /^INCONSISTENT: the stored fields do not make the stored message/);
    const rewritten = String(signedByOldKey.message).replace('/reports/q3.pdf', '/reports/q4.pdf');
    const forged = await check({ ...signedByOldKey, resource: '/reports/q4.pdf', message: rewritten });
    assert.equal(forged.code, EXIT.failure);
    assert.match(forged.stdout, /did not sign this message/);

    // The agent's signature covers what it asked, not the answer: a denial rewritten as an allow in the database
    // still carries a valid signature, and is caught by the audit chain, which recorded the denial.
    const denial = listed.body.verifications.find((v) => v.decision === 'denied')!;
    const db = new SQLite(join(database.dataDir, 'aim.sqlite'));
    try {
      db.prepare("update verifications set decision = 'allowed', reason = 'capability_granted' where id = ?").run(denial.id);
    } finally {
      db.close();
    }
    const flipped = await aim(['evidence', 'verify', String(denial.id), '--json']);
    assert.equal(flipped.code, EXIT.failure);
    assert.deepEqual(pick(JSON.parse(flipped.stdout), ['consistent', 'signature', 'audit']), { consistent: false, signature: 'valid', audit: { status: 'missing' } });

    const unreadable = await aim(['evidence', 'verify', '--file', join(home, 'no-such-evidence.json')]);
    assert.equal(unreadable.code, EXIT.usage);
    assert.deepEqual(unreadable.stderr.trim().split('\n'), [`aim: cannot read ${join(home, 'no-such-evidence.json')}: ENOENT`], 'one error, the right one');
    assert.equal((await aim(['evidence', 'verify'])).code, EXIT.usage);
    assert.equal((await aim(['evidence', 'verify', '--file', keyFile, '--key', keyFile])).code, EXIT.usage, 'a PEM is not evidence');
    assert.equal((await aim(['evidence', 'verify', '7f1c0000-0000-4000-8000-000000000000'])).code, EXIT.notFound);
  });

  it("audit list: the organization's entries, and with --subject everything that happened to one agent", async () => {
    const mine = json<{ entries: Array<{ event: string; subject_id: string | null }> }>(await aim(['audit', 'list', '--subject', agentId, '--limit', '200', '--json']));
    assert.ok(mine.entries.length > 0 && mine.entries.every((e) => e.subject_id === agentId));
    assert.ok(['agent.registered', 'agent.suspended', 'action.verified'].every((event) => mine.entries.some((e) => e.event === event)));
    const human = await aim(['audit', 'list', '--subject', agentId, '--event', 'agent.suspended']);
    assert.equal(human.code, EXIT.ok, human.stderr);
    assert.match(human.stdout, /^SEQ +TIME \(UTC\) +EVENT +ACTOR +SUBJECT\n\d+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +agent\.suspended +user /);
    assert.equal((await aim(['audit', 'list', '--limit', '0'])).code, EXIT.usage);
    assert.equal((await aim(['audit', 'list', '--event', 'no.such_event'])).code, EXIT.failure, 'the server refuses it (400)');
  });

  it('AIM_API_KEY works without a session (CI); a revoked key exits 4', async () => {
    const ci = { AIM_API_KEY: apiKey.key, AIM_URL: server.url, AIM_HOME: mkdtempSync(join(tmpdir(), 'aim-ci-')) };
    const listed = json<{ agents: Array<{ agent_id: string }> }>(await aim(['agents', 'list', '--json'], { env: ci }));
    assert.ok(listed.agents.some((a) => a.agent_id === agentId));
    assert.equal((await aim(['api-keys', 'revoke', apiKey.id])).code, EXIT.ok);
    const refused = await aim(['agents', 'list', '--json'], { env: ci });
    assert.equal(refused.code, EXIT.auth);
    assert.equal(JSON.parse(refused.stdout).error, 'invalid_api_key');
  });

  it('api-keys revoke --revoke-minted also revokes the keys an admin key minted', async () => {
    const root = json<{ id: string; key: string; minted_by: string | null }>(await aim(['api-keys', 'create', '--name', 'automation', '--scopes', 'admin', '--json']));
    assert.equal(root.minted_by, null);
    const ci = { AIM_API_KEY: root.key, AIM_URL: server.url, AIM_HOME: mkdtempSync(join(tmpdir(), 'aim-ci-')) };
    const minted = json<{ id: string; key: string; minted_by: string | null }>(await aim(['api-keys', 'create', '--name', 'minted', '--json'], { env: ci }));
    assert.equal(minted.minted_by, root.id);

    const answer = json<{ id: string; status: string; minted_revoked: number }>(await aim(['api-keys', 'revoke', root.id, '--revoke-minted', '--json']));
    assert.deepEqual(pick(answer, ['id', 'status', 'minted_revoked']), { id: root.id, status: 'revoked', minted_revoked: 1 });
    const refused = await aim(['agents', 'list', '--json'], { env: { ...ci, AIM_API_KEY: minted.key } });
    assert.equal(refused.code, EXIT.auth);
    assert.equal(JSON.parse(refused.stdout).error, 'invalid_api_key');
    const again = await aim(['api-keys', 'revoke', root.id, '--revoke-minted']);
    assert.equal(again.code, EXIT.ok, again.stderr);
    assert.match(again.stdout, /revoked automation \(ak_live_\w{8}…\), and 0 key\(s\) minted from it/);
  });

  it('login with 2FA: mfa_required (exit 4) without --totp, signed in with it', async () => {
    const member = { email: 'cli-mfa@example.test', password: 'cli-mfa-correct-horse-battery' };
    const adminToken = (await server.http.post<{ access_token: string }>('/api/v1/public/login', admin)).body.access_token;
    await server.http.post('/api/v1/users', { ...member, role: 'member' }, { token: adminToken });
    const token = (await server.http.post<{ access_token: string }>('/api/v1/public/login', member)).body.access_token;
    const setup = await server.http.post<{ secret: string }>('/api/v1/auth/mfa/totp/setup', undefined, { token });
    const secret = Secret.fromBase32(setup.body.secret);
    await server.http.post('/api/v1/auth/mfa/totp/enable', { code: TOTP.generate({ secret, timestamp: Date.now() }) }, { token });

    const env = { AIM_HOME: mkdtempSync(join(tmpdir(), 'aim-mfa-')), AIM_PASSWORD: member.password };
    const args = ['login', '--url', server.url, '--email', member.email, '--json'];
    const asked = await aim(args, { env });
    assert.equal(asked.code, EXIT.auth);
    assert.equal(JSON.parse(asked.stdout).error, 'mfa_required');
    // The enabling code's step is used up; the next step's code is accepted (±1 step).
    const signedIn = await aim([...args, '--totp', TOTP.generate({ secret, timestamp: Date.now() + 30_000 })], { env });
    assert.equal(signedIn.code, EXIT.ok, signedIn.stderr + signedIn.stdout);
    assert.equal(JSON.parse(signedIn.stdout).role, 'member');
    assert.equal(json<{ agents: unknown[] }>(await aim(['agents', 'list', '--json'], { env })).agents.length >= 0, true);
  });

  it('user disable / enable (admin, by email): login refused while disabled; unknown emails exit 6', async () => {
    const leaver = { email: 'cli-leaver@example.test', password: 'cli-leaver-correct-horse-battery' };
    const adminToken = (await server.http.post<{ access_token: string }>('/api/v1/public/login', admin)).body.access_token;
    assert.equal((await server.http.post('/api/v1/users', { ...leaver, role: 'member' }, { token: adminToken })).status, 201);
    const disabled = json<{ status: string; revoked: { sessions: number; api_keys: number } }>(await aim(['user', 'disable', '--email', leaver.email, '--json']));
    assert.equal(disabled.status, 'disabled');
    assert.equal((await server.http.post('/api/v1/public/login', leaver)).status, 401);
    const human = await aim(['user', 'enable', '--email', 'CLI-Leaver@example.test']);
    assert.equal(human.code, EXIT.ok, human.stderr);
    assert.match(human.stdout, /cli-leaver@example.test is active/);
    assert.equal((await server.http.post('/api/v1/public/login', leaver)).status, 200);
    const unknown = await aim(['user', 'disable', '--email', 'nobody@example.test', '--json']);
    assert.equal(unknown.code, EXIT.notFound);
    assert.equal(JSON.parse(unknown.stdout).error, 'not_found');
    const self = await aim(['user', 'disable', '--email', admin.email, '--json']);
    assert.equal(self.code, EXIT.failure);
    assert.equal(JSON.parse(self.stdout).error, 'conflict');
  });

  it('user reset-password: a one-time link through the server (admin) or, with --store, straight from the store', async () => {
    const forgetful = { email: 'cli-forgetful@example.test', password: 'cli-forgetful-correct-horse-battery' };
    const adminToken = (await server.http.post<{ access_token: string }>('/api/v1/public/login', admin)).body.access_token;
    assert.equal((await server.http.post('/api/v1/users', { ...forgetful, role: 'member' }, { token: adminToken })).status, 201);
    const redeem = (url: string, password: string) =>
      server.http.post('/api/v1/public/password-reset', { token: new URL(url).hash.replace('#token=', ''), new_password: password });

    const viaServer = json<{ reset_url: string; expires_at: number }>(await aim(['user', 'reset-password', '--email', forgetful.email, '--json']));
    // The server process's AIM_PUBLIC_URL is its default; the page and the token are what matter here.
    const page = new URL(viaServer.reset_url);
    assert.equal(page.pathname, '/reset-password');
    assert.match(page.hash, /^#token=pr_/);
    assert.equal((await redeem(viaServer.reset_url, 'cli-first-new-correct-horse-battery')).status, 200);
    assert.equal((await server.http.post('/api/v1/public/login', { email: forgetful.email, password: 'cli-first-new-correct-horse-battery' })).status, 200);

    const store = { AIM_DATA_DIR: database.dataDir, AIM_PUBLIC_URL: server.url };
    const human = await aim(['user', 'reset-password', '--email', forgetful.email, '--store'], { env: store });
    assert.equal(human.code, EXIT.ok, human.stderr);
    assert.match(human.stdout, /usable once until .*shown only now/);
    const url = human.stdout.trim().split('\n').at(-1)!;
    assert.equal((await redeem(url, 'cli-second-new-correct-horse-battery')).status, 200);
    assert.equal((await server.http.post('/api/v1/public/login', { email: forgetful.email, password: 'cli-second-new-correct-horse-battery' })).status, 200);

    for (const extra of [[], ['--store']]) {
      const unknown = await aim(['user', 'reset-password', '--email', 'nobody@example.test', ...extra, '--json'], { env: store });
      assert.equal(unknown.code, EXIT.notFound, `${extra.join(' ')}: ${unknown.stderr}${unknown.stdout}`);
      assert.equal(JSON.parse(unknown.stdout).error, 'not_found');
    }
  });

  it('sdk-tokens create prints the token once with a warning; list never shows it; revoke and revoke-all stop them', async () => {
    const human = await aim(['sdk-tokens', 'create', 'laptop']);
    assert.equal(human.code, EXIT.ok, human.stderr);
    const token = human.stdout.split('\n')[0]!;
    assert.match(token, /^\S{20,}$/);
    assert.match(human.stdout, /SDK token [0-9a-f-]{36}, laptop/);
    assert.match(human.stderr, /will not be shown again/);
    const issued = json<{ id: string; refresh_token: string; status: string }>(await aim(['sdk-tokens', 'create', 'ci-runner', '--expires-in-days', '7', '--json']));
    assert.equal(issued.status, 'active');

    const list = await aim(['sdk-tokens', 'list']);
    assert.equal(list.code, EXIT.ok, list.stderr);
    assert.match(list.stdout, /^ID\s+NAME\s+STATUS/);
    assert.match(list.stdout, /laptop\s+active/);
    const listed = json<{ sdk_tokens: Array<{ id: string; name: string; status: string }> }>(await aim(['sdk-tokens', 'list', '--json']));
    assert.ok(listed.sdk_tokens.some((t) => t.id === issued.id));
    for (const out of [list.stdout, JSON.stringify(listed)]) {
      assert.equal(out.includes(token), false);
      assert.equal(out.includes(issued.refresh_token), false);
    }

    const revoked = json<{ status: string }>(await aim(['sdk-tokens', 'revoke', issued.id, '--json']));
    assert.equal(revoked.status, 'revoked');
    const traded = await server.http.post('/oauth/token', undefined, {
      raw: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: 'aim-sdk' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(traded.status, 400, 'a revoked SDK token no longer trades');
    const unknown = await aim(['sdk-tokens', 'revoke', '00000000-0000-4000-8000-000000000000', '--json']);
    assert.equal(unknown.code, EXIT.notFound);
    assert.equal(JSON.parse(unknown.stdout).error, 'not_found');
    const malformed = await aim(['sdk-tokens', 'revoke', 'not an id', '--json']);
    assert.notEqual(malformed.code, EXIT.ok);
    assert.match(JSON.parse(malformed.stdout).error as string, /^(invalid_request|not_found)$/);
    assert.equal((await aim(['sdk-tokens', 'create'])).code, EXIT.usage, 'the name is required');

    const all = await aim(['sdk-tokens', 'revoke-all']);
    assert.equal(all.code, EXIT.ok, all.stderr);
    assert.match(all.stdout, /^revoked 1 SDK token\(s\)$/m);
    assert.equal(json<{ revoked: number }>(await aim(['sdk-tokens', 'revoke-all', '--json'])).revoked, 0);
    const signedOut = await aim(['sdk-tokens', 'list'], { env: { AIM_HOME: mkdtempSync(join(tmpdir(), 'aim-none-')) } });
    assert.equal(signedOut.code, EXIT.auth);
  });

  it('audit checkpoint prints seq:hash, which audit verify --checkpoint takes; --json gives the signed checkpoint', async () => {
    const human = await aim(['audit', 'checkpoint']);
    assert.equal(human.code, EXIT.ok, human.stderr);
    assert.match(human.stdout, /^[0-9]+:[0-9a-f]{64}\n$/);
    const signed = json<{ seq: number; hash: string; checkpoint: string; organization_id: string }>(await aim(['audit', 'checkpoint', '--json']));
    assert.match(signed.checkpoint, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.ok(signed.seq >= Number(human.stdout.split(':')[0]));

    const token = (await server.http.post<{ access_token: string }>('/api/v1/public/login', admin)).body.access_token;
    const exported = await server.http.get<unknown>('/api/v1/audit-logs/export?format=jsonl', { token });
    const file = join(home, 'audit.jsonl');
    writeFileSync(file, exported.text);
    const verified = await aim(['audit', 'verify', '--file', file, '--checkpoint', human.stdout.trim()]);
    assert.equal(verified.code, EXIT.ok, verified.stderr + verified.stdout);
    assert.match(verified.stdout, /checkpoint seq [0-9]+: present and unchanged/);
    const forged = `${human.stdout.split(':')[0]}:${'0'.repeat(64)}`;
    assert.equal((await aim(['audit', 'verify', '--file', file, '--checkpoint', forged])).code, EXIT.failure);
  });

  it("sessions list / revoke / revoke-others: the CLI's own session is 'current' and named aim-cli; the others sign out", async () => {
    const other = await server.http.post<{ access_token: string }>('/api/v1/public/login', admin);
    assert.equal(other.status, 200);
    const listed = json<{ sessions: Array<{ id: string; current: boolean; user_agent: string | null }> }>(await aim(['sessions', 'list', '--json']));
    const mine = listed.sessions.filter((s) => s.current);
    assert.equal(mine.length, 1);
    assert.match(mine[0]!.user_agent ?? '', /^aim-cli\/\d+\.\d+\.\d+$/);
    assert.ok(listed.sessions.length >= 2);

    const human = await aim(['sessions', 'list']);
    assert.equal(human.code, EXIT.ok, human.stderr);
    assert.match(human.stdout, /this one/);

    const missing = await aim(['sessions', 'revoke', '00000000-0000-4000-8000-000000000000', '--json']);
    assert.equal(missing.code, EXIT.notFound);
    const { revoked } = json<{ revoked: number }>(await aim(['sessions', 'revoke-others', '--json']));
    assert.equal(revoked, listed.sessions.length - 1);
    assert.equal((await server.http.get('/api/v1/auth/me', { token: other.body.access_token })).status, 401, 'the other session stopped');
    assert.deepEqual(json<{ sessions: Array<{ id: string }> }>(await aim(['sessions', 'list', '--json'])).sessions.map((s) => s.id), [mine[0]!.id]);
  });

  it('logout ends the session here and on the server, or keeps the file when the server could not end it', async () => {
    const path = join(home, 'session.json');
    const saved = readFileSync(path, 'utf8');
    const session = JSON.parse(saved) as { refresh_token: string; base_url: string; access_expires_at: number };
    // The server unreachable (nothing listens on port 9) and the access token due: nothing ended, nothing deleted.
    writeFileSync(path, JSON.stringify({ ...session, base_url: 'http://127.0.0.1:9', access_expires_at: 0 }), { mode: 0o600 });
    const unreachable = await aim(['logout', '--json']);
    assert.equal(unreachable.code, 7);
    assert.equal(JSON.parse(unreachable.stdout).error, 'logout_failed');
    assert.ok(statSync(path).isFile(), 'the session file is kept for a retry');
    writeFileSync(path, saved, { mode: 0o600 });
    // Another server named: refused as everywhere (exit 4, one JSON document), nothing sent, the file kept.
    const elsewhere = await aim(['logout', '--json'], { env: { AIM_URL: 'http://127.0.0.1:9' } });
    assert.equal(elsewhere.code, EXIT.auth, elsewhere.stdout);
    assert.deepEqual(Object.keys(JSON.parse(elsewhere.stdout)), ['error', 'error_description']);
    assert.equal(JSON.parse(elsewhere.stdout).error, 'wrong_server');
    assert.ok(statSync(path).isFile());
    // With AIM_API_KEY set (CI), logout still ends the stored session, not the key's nothing.
    assert.equal((await aim(['logout'], { env: { AIM_API_KEY: 'ak_live_not_the_session' } })).code, EXIT.ok);
    assert.equal((await aim(['agents', 'list'])).code, EXIT.auth);
    const refreshed = await server.http.post('/api/v1/auth/refresh', { refresh_token: session.refresh_token });
    assert.equal(refreshed.status, 401);
  });
});
