import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';

const admin = { email: 'shutdown-admin@example.test', password: 'shutdown-correct-horse-battery' };

/** Polls the process's log until a line with `msg` appears. */
async function logged(node: ServerProcess, msg: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (node.lines.some((line) => line.includes(`"msg":"${msg}"`))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never logged ${msg}`);
}

/**
 * A request whose body is sent in two halves: the server has it in flight from the first byte until the second
 * half arrives, which the test controls.
 */
function splitRequest(url: string, path: string, body: unknown, headers: Record<string, string>) {
  const payload = Buffer.from(JSON.stringify(body));
  const half = payload.length >> 1;
  let finish!: () => void;
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(new URL(path, url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers },
      agent: false,
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.write(payload.subarray(0, half));
    finish = () => req.end(payload.subarray(half));
  });
  return { response, finish: () => finish() };
}

describe('graceful shutdown on SIGTERM', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let node: ServerProcess;

  before(async () => {
    database = await createTestDatabase('sqlite');
    env = { AIM_DATA_DIR: database.dataDir, AIM_ADMIN_EMAIL: admin.email, AIM_ADMIN_PASSWORD: admin.password };
    node = await startServerProcess(env);
  });
  after(async () => {
    await node?.stop();
    await database?.drop();
  });

  it('finishes the request in flight, refuses new connections, flushes usage and exits 0', async () => {
    const login = await node.http.post<{ access_token: string }>('/api/v1/public/login', admin);
    const created = await node.http.post<{ id: string; key: string }>(
      '/api/v1/api-keys',
      { name: 'shutdown', scopes: ['agents:read', 'agents:write'] },
      { token: login.body.access_token },
    );
    assert.equal(created.status, 201, created.text);
    // Counted in memory only: the usage flush runs every few seconds, and these happen well within one interval.
    for (let i = 0; i < 3; i++) assert.equal((await node.http.get('/api/v1/agents', { apiKey: created.body.key })).status, 200);

    const inFlight = splitRequest(node.url, '/api/v1/agents', { name: 'registered-during-shutdown', type: 'agent', capabilities: ['read'] }, {
      'x-api-key': created.body.key,
    });
    // Give the server the first half, then ask it to stop.
    await new Promise((r) => setTimeout(r, 100));
    const exited = node.signal('SIGTERM');
    await logged(node, 'shutting down');

    await assert.rejects(fetch(`${node.url}/health`), 'a new connection is refused once shutdown began');
    inFlight.finish();
    const answer = await inFlight.response;
    assert.equal(answer.status, 201, `the in-flight request completes: ${answer.text}`);
    assert.equal(await exited, 0);

    node = await startServerProcess(env);
    const agent = JSON.parse(answer.text) as { agent_id: string };
    const fetched = await node.http.get(`/api/v1/agents/${agent.agent_id}`, { apiKey: created.body.key });
    assert.equal(fetched.status, 200, 'what the in-flight request wrote is there after the restart');
    const usage = await node.http.get<{ routes: { route: string; requests: number }[] }>(`/api/v1/api-keys/${created.body.id}/usage`, {
      token: (await node.http.post<{ access_token: string }>('/api/v1/public/login', admin)).body.access_token,
    });
    assert.equal(usage.status, 200, usage.text);
    const counted = Object.fromEntries(usage.body.routes.map((r) => [r.route, r.requests]));
    assert.equal(counted['GET /api/v1/agents'], 3, 'counted before SIGTERM, written by the shutdown flush');
    assert.equal(counted['POST /api/v1/agents'], 1, 'the in-flight request is counted too');
  });
});
