import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BUDGET } from '../support/budget.js';
import { createTestDatabase } from '../support/databases.js';
import { heapSnapshotFlags, liveHeapBytes } from '../support/heap.js';
import type { HttpResult } from '../support/http.js';
import { startServerProcess } from '../support/process.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createAgent, createApiKey, freshAddress, login, provingGroundEnv, verifyAction, type WorldAgent } from '../support/world.js';
import { assertBoundedMemory, assertFlatHeap } from './fuzz-harness.js';

/**
 * The soak (`npm run test:long` only): mixed load at a fixed rate for AIM_SOAK_MINUTES (default 10) minutes against a
 * server process on SQLite. Every answer must be the one expected; resident memory and the live heap must stay flat.
 */
const MINUTES = Number(process.env.AIM_SOAK_MINUTES ?? BUDGET.soakMinutes);
const RATE_PER_SECOND = 25;
// Requests still unanswered after this many are skipped (and counted) rather than piled up: on a shared machine
// another process can stall this one for seconds; the soak is about errors and memory, not peak throughput.
const MAX_IN_FLIGHT = 128;
const MiB = 1024 * 1024;

describe('soak: mixed load at a fixed rate', () => {
  it(`${MINUTES} minutes at ${RATE_PER_SECOND} requests/s with zero unexpected answers and flat memory`, async (t) => {
    assert.ok(MINUTES > 0, 'the soak runs in npm run test:long (AIM_TEST_LONG=1) or with AIM_SOAK_MINUTES');
    const database = await createTestDatabase('sqlite');
    const heap = heapSnapshotFlags();
    const server = await startServerProcess(provingGroundEnv({ AIM_DATA_DIR: database.dataDir }), { nodeArgs: heap.nodeArgs });
    try {
      const { http } = server;
      const admin = await login(http, ADMIN_EMAIL, ADMIN_PASSWORD);
      const apiKey = (await createApiKey(http, admin.accessToken, ['admin'])).key;
      const agents: WorldAgent[] = [];
      for (let i = 0; i < 5; i++) agents.push(await createAgent(http, { apiKey }));
      const chains = [await login(http, ADMIN_EMAIL, ADMIN_PASSWORD)].map((s) => ({ token: s.refreshToken, busy: false }));
      let accessToken = admin.accessToken;

      type Op = () => Promise<[HttpResult, number]>;
      const ops: Array<[number, Op]> = [
        [30, async () => [await verifyAction(http, { apiKey }, agents[randomInt(agents.length)]!), 200]],
        [25, async () => [await http.get('/api/v1/agents?limit=20', { apiKey }), 200]],
        [15, async () => [await http.get('/api/v1/auth/me', { token: accessToken }), 200]],
        [10, async () => [await http.get(`/api/v1/agents/${agents[randomInt(agents.length)]!.id}`, { token: accessToken }), 200]],
        [8, async () => [await http.get('/api/v1/audit-logs?limit=50', { apiKey }), 200]],
        [5, async () => {
          const chain = chains.find((c) => !c.busy);
          if (!chain) return [await http.get('/health'), 200];
          chain.busy = true;
          const res = await http.post<{ refresh_token: string; access_token: string }>('/api/v1/auth/refresh', { refresh_token: chain.token });
          if (res.status === 200) {
            chain.token = res.body.refresh_token;
            accessToken = res.body.access_token;
          }
          chain.busy = false;
          return [res, 200];
        }],
        [3, async () => [await http.post('/api/v1/agents', { name: `soak-${randomInt(1e12)}`, capabilities: ['search'] }, { apiKey }), 201]],
        [2, async () => [await http.post('/api/v1/public/login', { email: `nobody-${randomInt(1e12)}@example.test`, password: 'wrong password!' }, { headers: { 'x-forwarded-for': freshAddress() } }), 401]],
        [2, async () => [await http.get('/api/v1/agents', { apiKey: 'ak_live_nonsense' }), 401]],
      ];
      const total = ops.reduce((n, [w]) => n + w, 0);
      const pick = (): Op => {
        let r = randomInt(total);
        for (const [w, op] of ops) if ((r -= w) < 0) return op;
        return ops[0]![1];
      };

      let sent = 0;
      const unexpected: string[] = [];
      let inFlight = 0;
      let skipped = 0;
      const rss: number[] = [];
      const heapMiB: number[] = [];
      const end = Date.now() + MINUTES * 60_000;
      let nextSample = Date.now() + 30_000;
      const started = Date.now();
      while (Date.now() < end) {
        // Fixed rate: the schedule, not the answers, decides when the next request goes.
        const due = started + (sent + skipped) * (1000 / RATE_PER_SECOND);
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (inFlight >= MAX_IN_FLIGHT) {
          skipped += 1;
          continue;
        }
        sent += 1;
        inFlight += 1;
        void pick()()
          .then(([res, expected]) => {
            if (res.status !== expected) unexpected.push(`${res.status} ${res.text.slice(0, 200)}`);
          })
          .catch((error: unknown) => unexpected.push(String(error)))
          .finally(() => (inFlight -= 1));
        if (Date.now() >= nextSample) {
          rss.push(Math.round(server.rss() / MiB));
          // The live heap once warm (the snapshot pauses the server a second or two; the schedule catches up).
          if (heapMiB.length === 0) heapMiB.push((await liveHeapBytes(server, heap)) / MiB);
          nextSample += 30_000;
        }
      }
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 50));
      rss.push(Math.round(server.rss() / MiB));
      heapMiB.push((await liveHeapBytes(server, heap)) / MiB);
      t.diagnostic(
        `soak: minutes=${MINUTES} requests=${sent} skipped=${skipped} unexpected=${unexpected.length} rss_mib=${rss.join(',')} live_heap_mib=${heapMiB.map((m) => m.toFixed(1)).join(',')}`,
      );
      assert.deepEqual(unexpected.slice(0, 5), [], `${unexpected.length} unexpected answers`);
      assert.ok(skipped < sent * 0.05, `the server fell behind: ${skipped} requests skipped`);
      assert.ok(server.alive());
      // The first snapshot raised resident memory for good: compare only the samples taken after it.
      assertBoundedMemory(rss.slice(1));
      assertFlatHeap(heapMiB);
    } finally {
      await server.stop();
      await database.drop();
      rmSync(heap.dir, { recursive: true, force: true });
    }
  });
});
