import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { AgentView } from '@aim/sdk';
import { identityFile, secure, withFileLock } from '@aim/sdk/node';
import { startLiveServer, type LiveServer } from './live-server.js';

const CHILD = fileURLToPath(new URL('./fixtures/secure-child.ts', import.meta.url));

interface Child {
  ready: Promise<void>;
  go(): void;
  result: Promise<{ code: number; out: string; err: string }>;
}

function child(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: proc.stdout });
  let signalReady: () => void;
  const ready = new Promise<void>((resolve) => (signalReady = resolve));
  lines.on('line', (line) => (line === 'ready' ? signalReady() : (out += `${line}\n`)));
  const result = new Promise<{ code: number; out: string; err: string }>((resolve) => proc.on('close', (code) => resolve({ code: code ?? -1, out, err })));
  return { ready, go: () => proc.stdin.write('go\n'), result };
}

describe('secure(): processes starting at once for one name share one identity', () => {
  let aim: LiveServer;
  let apiKey: string;
  let dir: string;
  before(async () => {
    aim = await startLiveServer();
    apiKey = (await aim.adminClient.apiKeys.create({ name: 'secure-race' })).key;
    dir = mkdtempSync(join(tmpdir(), 'aim-race-'));
  });
  after(async () => {
    await aim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('three child processes race on an empty credentials dir: one agent registered, all three use its identity', async () => {
    const name = `race-${Date.now()}`;
    const children = Array.from({ length: 3 }, () => child([name, dir, aim.url, apiKey]));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const results = await Promise.all(children.map((c) => c.result));
    for (const r of results) assert.equal(r.code, 0, r.err);
    const seen = results.map((r) => JSON.parse(r.out) as { agent_id: string; public_key: string; key_id: string });
    assert.equal(new Set(seen.map((s) => s.agent_id)).size, 1, 'one identity for all');
    assert.equal(new Set(seen.map((s) => s.public_key)).size, 1);

    const { agents } = await aim.adminClient.agents.list({ q: name });
    assert.deepEqual(agents.filter((a: AgentView) => a.name === name).map((a) => a.agent_id), [seen[0]!.agent_id], 'no orphaned agent');
    const stored = await identityFile(name, dir).read();
    assert.equal(stored?.agent_id, seen[0]!.agent_id);
    assert.deepEqual(readdirSync(dir).filter((f) => f !== `${name}.json`), [], 'no lock or temporary file left');
  });

  it('a lock left by a process that died is taken over at once', async () => {
    const name = `dead-holder-${Date.now()}`;
    // A pid that is not running: a finished child's.
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => gone.on('close', resolve));
    writeFileSync(join(dir, `${name}.json.lock`), JSON.stringify({ pid: gone.pid, host: hostname(), token: 'dead' }), { mode: 0o600 });
    const started = Date.now();
    const agent = await secure(name, { dir, baseUrl: aim.url, registerWith: { apiKey }, lock: { waitMs: 5_000 } });
    assert.ok(Date.now() - started < 5_000);
    assert.equal((await identityFile(name, dir).read())?.agent_id, agent.id);
    assert.equal(existsSync(join(dir, `${name}.json.lock`)), false);
  });
});

/** Touches `path` every `ms`, as a live holder does (a moment without the file, mid-rename, is skipped). */
function touchEvery(path: string, ms: number): NodeJS.Timeout {
  return setInterval(() => {
    const now = new Date();
    try {
      utimesSync(path, now, now);
    } catch {
      // moved aside for a moment by a waiter checking it
    }
  }, ms);
}

describe('withFileLock', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'aim-lock-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs tasks one at a time and removes the lock after each, even when a task throws', async () => {
    const path = join(dir, 'serial.json');
    let inside = 0;
    let most = 0;
    const task = async () => {
      inside += 1;
      most = Math.max(most, inside);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inside -= 1;
    };
    await Promise.all(Array.from({ length: 4 }, () => withFileLock(path, task, { pollMs: 5 })));
    assert.equal(most, 1);
    await assert.rejects(withFileLock(path, async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(existsSync(`${path}.lock`), false);
  });

  it('waits a bounded time for a live holder, then throws naming the lock', async () => {
    const path = join(dir, 'held.json');
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), token: 'alive' }));
    const started = Date.now();
    await assert.rejects(withFileLock(path, async () => 'never', { waitMs: 300, staleMs: 60_000 }), /held\.json\.lock is held by another process/);
    assert.ok(Date.now() - started < 5_000);
    assert.equal(existsSync(`${path}.lock`), true, "a live holder's lock is left alone");
    rmSync(`${path}.lock`);
  });

  it('a lock not touched for longer than staleMs (a holder on another host, say) is taken over', async () => {
    const path = join(dir, 'old.json');
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere.example', token: 'old' }));
    const past = new Date(Date.now() - 120_000);
    utimesSync(`${path}.lock`, past, past);
    assert.equal(await withFileLock(path, async () => 'ran', { waitMs: 2_000, staleMs: 60_000 }), 'ran');
    assert.equal(existsSync(`${path}.lock`), false);
  });
  it('a holder that stopped touching its lock (crashed, on another host) is waited out and taken over, even past waitMs', async () => {
    const path = join(dir, 'crashed.json');
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere.example', token: 'crashed' }));
    const started = Date.now();
    assert.equal(await withFileLock(path, async () => 'ran', { waitMs: 50, staleMs: 400 }), 'ran');
    assert.ok(Date.now() - started >= 350, 'taken only once stale');
    assert.equal(existsSync(`${path}.lock`), false);
  });

  it('a holder keeps its lock fresh while it works: a short staleMs never lets a waiter in early', async () => {
    const path = join(dir, 'heartbeat.json');
    const events: string[] = [];
    let entered!: () => void;
    const holding = new Promise<void>((resolve) => (entered = resolve));
    const holder = withFileLock(
      path,
      async () => {
        events.push('holder in');
        entered();
        await new Promise((resolve) => setTimeout(resolve, 900));
        events.push('holder out');
      },
      { staleMs: 300 },
    );
    await holding;
    await withFileLock(path, async () => void events.push('waiter in'), { staleMs: 300, waitMs: 5_000, pollMs: 10 });
    await holder;
    assert.deepEqual(events, ['holder in', 'holder out', 'waiter in']);
  });

  it('a holder whose lock was taken over (it stalled past staleMs) stops touching it, and leaves it in place', async () => {
    const path = join(dir, 'taken.json');
    const lock = `${path}.lock`;
    const past = new Date(Date.now() - 120_000);
    const result = await withFileLock(
      path,
      async () => {
        // Another process took the lock over and then died without removing it.
        writeFileSync(lock, JSON.stringify({ pid: 1, host: 'elsewhere.example', token: 'taker' }));
        utimesSync(lock, past, past);
        await new Promise((resolve) => setTimeout(resolve, 450));
        return statSync(lock).mtimeMs;
      },
      { staleMs: 300 },
    );
    assert.ok(Math.abs(result - past.getTime()) < 1_000, "the taker's lock was not kept fresh by its former holder");
    assert.equal(JSON.parse(readFileSync(lock, 'utf8')).token, 'taker', 'nor removed');
    rmSync(lock);
  });

  it('a holder on another host that keeps touching its lock is alive: the waiter gives up after waitMs', async () => {
    const path = join(dir, 'remote.json');
    const lock = `${path}.lock`;
    writeFileSync(lock, JSON.stringify({ pid: 1, host: 'elsewhere.example', token: 'remote' }));
    const touch = touchEvery(lock, 50);
    try {
      await assert.rejects(withFileLock(path, async () => 'never', { waitMs: 300, staleMs: 400 }), /remote\.json\.lock is held by another process/);
      assert.equal(existsSync(lock), true);
    } finally {
      clearInterval(touch);
      rmSync(lock, { force: true });
    }
  });

  it('a waiter that judged a lock stale never removes the fresh lock another waiter put in its place', async () => {
    const path = join(dir, 'swapped.json');
    const lock = `${path}.lock`;
    writeFileSync(lock, JSON.stringify({ pid: 1, host: 'elsewhere.example', token: 'old' }));
    const past = new Date(Date.now() - 120_000);
    utimesSync(lock, past, past);
    // Between this waiter's look at the stale lock and its move, another waiter breaks it and creates its own lock,
    // not yet written (its owner unreadable), and touches it while it works, as holders do.
    const realRename = fsp.rename;
    let swapped = false;
    let touch: NodeJS.Timeout | undefined;
    fsp.rename = async (from, to) => {
      if (!swapped && String(from) === lock) {
        swapped = true;
        rmSync(lock);
        writeFileSync(lock, '');
        touch = touchEvery(lock, 50);
      }
      return realRename(from, to);
    };
    syncBuiltinESMExports();
    try {
      await assert.rejects(withFileLock(path, async () => 'ran', { waitMs: 300, staleMs: 60_000 }), /swapped\.json\.lock is held by another process/);
      assert.ok(swapped, 'the race was staged');
      assert.equal(existsSync(lock), true, "the other waiter's lock is still there");
    } finally {
      clearInterval(touch);
      fsp.rename = realRename;
      syncBuiltinESMExports();
      rmSync(lock, { force: true });
    }
  });
});
