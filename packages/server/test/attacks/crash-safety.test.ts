import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { BUDGET } from '../support/budget.js';
import { createTestDatabase, STORE_KINDS, type StoreKind, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createAgent, createApiKey, freshAddress, login, provingGroundEnv, verifyAction, type WorldAgent } from '../support/world.js';

/**
 * `kill -9` in the middle of a mixed write load, then a restart on the same store: every write the server
 * acknowledged (a 2xx reached the client) must still be there, the audit chain must verify, and no refresh-token
 * family may be left half-rotated.
 */

interface RefreshChain {
  token: string;
  /** A refresh was in flight when the server died: it may or may not have committed. */
  inFlight: boolean;
}

interface Acknowledged {
  agents: WorldAgent[];
  apiKeys: string[];
  verifications: string[];
  chains: RefreshChain[];
  writes: number;
}

interface Harness {
  database: TestDatabase;
  env: Record<string, string>;
  server: ServerProcess;
  adminKey: string;
  adminToken: string;
  acked: Acknowledged;
}

const WORKERS = 4;

async function worker(h: Harness, stop: { now: boolean }): Promise<void> {
  const { http } = h.server;
  while (!stop.now) {
    const pick = randomInt(100);
    try {
      if (pick < 30) {
        const chain = h.acked.chains[randomInt(h.acked.chains.length + 1)];
        if (!chain || chain.inFlight) {
          const session = await login(http, ADMIN_EMAIL, ADMIN_PASSWORD);
          h.acked.chains.push({ token: session.refreshToken, inFlight: false });
        } else {
          chain.inFlight = true;
          const res = await http.post<{ refresh_token: string }>('/api/v1/auth/refresh', { refresh_token: chain.token }, { headers: { 'x-forwarded-for': freshAddress() } });
          assert.equal(res.status, 200, `refresh: ${res.text}`);
          chain.token = res.body.refresh_token;
          chain.inFlight = false;
        }
      } else if (pick < 50) {
        h.acked.apiKeys.push((await createApiKey(http, h.adminToken, ['agents:read'])).id);
      } else if (pick < 70) {
        h.acked.agents.push(await createAgent(http, { apiKey: h.adminKey }));
      } else if (h.acked.agents.length > 0) {
        const agent = h.acked.agents[randomInt(h.acked.agents.length)]!;
        const res = await verifyAction(http, { apiKey: h.adminKey }, agent);
        assert.equal(res.status, 200, `verify-action: ${res.text}`);
        h.acked.verifications.push(res.body.verification_id);
      }
      h.acked.writes += 1;
    } catch (error) {
      // Refused connections and resets after the kill are expected; anything the server answered wrongly is not.
      if (!stop.now) throw error;
    }
  }
}

/** Runs the mixed load until at least `minWrites` more are acknowledged plus a random moment, then SIGKILLs. */
async function loadAndKill(h: Harness, minWrites: number): Promise<void> {
  const stop = { now: false };
  const start = h.acked.writes;
  const workers = Array.from({ length: WORKERS }, () => worker(h, stop));
  const failed = Promise.race(workers.map((w) => w.then(() => new Promise<never>(() => undefined))));
  try {
    await Promise.race([failed, (async () => {
      while (h.acked.writes - start < minWrites && !stop.now) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, randomInt(50, 400)));
    })()]);
  } catch (error) {
    // A worker saw a wrong answer: stop the others and the server, or they would keep the test process alive.
    stop.now = true;
    await h.server.kill();
    await Promise.allSettled(workers);
    throw error;
  }
  // Workers stop at their next turn; what is in flight now dies with the server.
  stop.now = true;
  await h.server.kill();
  await Promise.all(workers);
}

async function checkInvariants(h: Harness, label: string): Promise<void> {
  const { http } = h.server;
  const auth = { apiKey: h.adminKey };
  for (const agent of h.acked.agents) assert.equal((await http.get(`/api/v1/agents/${agent.id}`, auth)).status, 200, `${label}: agent ${agent.id} lost`);
  for (const id of h.acked.apiKeys) assert.equal((await http.get(`/api/v1/api-keys/${id}/usage`, auth)).status, 200, `${label}: API key ${id} lost`);
  for (const id of h.acked.verifications) assert.equal((await http.get(`/api/v1/verifications/${id}`, auth)).status, 200, `${label}: verification ${id} lost`);
  const alive: RefreshChain[] = [];
  for (const chain of h.acked.chains) {
    const res = await http.post<{ refresh_token: string }>('/api/v1/auth/refresh', { refresh_token: chain.token }, { headers: { 'x-forwarded-for': freshAddress() } });
    if (chain.inFlight) {
      // Either the rotation committed before the kill (the old token is now reused and its family revoked) or not.
      assert.ok(res.status === 200 || res.body.error === 'refresh_token_reused', `${label}: in-flight refresh left ${res.status} ${res.text}`);
    } else {
      assert.equal(res.status, 200, `${label}: an acknowledged refresh token stopped working: ${res.text}`);
    }
    // A family revoked by the reuse detection above is over; the load goes on with the others.
    if (res.status === 200) alive.push({ token: res.body.refresh_token, inFlight: false });
  }
  h.acked.chains = alive;
  const verdict = await http.get<{ valid: boolean; entries_checked: number }>('/api/v1/audit-logs/verify', auth);
  assert.equal(verdict.status, 200);
  assert.equal(verdict.body.valid, true, `${label}: audit chain broken: ${verdict.text}`);
  assert.ok(verdict.body.entries_checked > 0);
  await assertNoHalfRotatedFamily(h.database, label);
}

const FAMILY_QUERY = `
  select f.id, f.revoked_at, count(t.id) as total, sum(case when t.used_at is null then 1 else 0 end) as live
  from refresh_families f left join refresh_tokens t on t.family_id = f.id
  group by f.id, f.revoked_at`;

interface FamilyRow {
  id: string;
  revoked_at: number | string | null;
  total: number | string;
  live: number | string | null;
}

/** Every family has at most one live token, and a live family has exactly one: no used token lacks its successor. */
async function assertNoHalfRotatedFamily(database: TestDatabase, label: string): Promise<void> {
  let rows: FamilyRow[];
  if (database.kind === 'sqlite') {
    const db = new SQLite(join(database.dataDir, 'aim.sqlite'), { readonly: true });
    try {
      rows = db.prepare(FAMILY_QUERY).all() as FamilyRow[];
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: database.databaseUrl });
    await client.connect();
    try {
      rows = (await client.query<FamilyRow>(FAMILY_QUERY)).rows;
    } finally {
      await client.end();
    }
  }
  assert.ok(rows.length > 0, `${label}: no refresh families to check`);
  for (const row of rows) {
    const live = Number(row.live ?? 0);
    assert.ok(live <= 1, `${label}: family ${row.id} has ${live} live tokens`);
    if (row.revoked_at === null) assert.equal(live, 1, `${label}: live family ${row.id} has ${Number(row.total)} tokens and none live (half-rotated)`);
  }
}

for (const kind of STORE_KINDS) {
  describe(`crash safety on ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: kill -9 under write load`, () => {
    const harness: { h?: Harness } = {};
    after(async () => {
      await harness.h?.server.stop();
      await harness.h?.database.drop();
    });

    it(`survives ${BUDGET.crashCycles} kill -9 cycles with no acknowledged write lost`, async (t) => {
      const database = await createTestDatabase(kind as StoreKind);
      const env = provingGroundEnv({ AIM_DATA_DIR: database.dataDir, ...(database.databaseUrl && { AIM_DATABASE_URL: database.databaseUrl }) });
      const server = await startServerProcess(env);
      const admin = await login(server.http, ADMIN_EMAIL, ADMIN_PASSWORD);
      const h: Harness = {
        database,
        env,
        server,
        adminToken: admin.accessToken,
        adminKey: (await createApiKey(server.http, admin.accessToken, ['admin'])).key,
        acked: { agents: [], apiKeys: [], verifications: [], chains: [], writes: 0 },
      };
      harness.h = h;
      for (let cycle = 1; cycle <= BUDGET.crashCycles; cycle++) {
        await loadAndKill(h, 25);
        h.server = await startServerProcess(env);
        await checkInvariants(h, `cycle ${cycle}`);
      }
      t.diagnostic(
        `crash: store=${kind} cycles=${BUDGET.crashCycles} acknowledged_writes=${h.acked.writes} agents=${h.acked.agents.length} api_keys=${h.acked.apiKeys.length} verifications=${h.acked.verifications.length} refresh_chains=${h.acked.chains.length} lost=0`,
      );
    });
  });
}
