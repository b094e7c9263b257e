import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { DAY, HOUR, ManualClock } from '../../src/core/clock.js';
import { keyPairFromPem, newKeyPair, nonce, registerAgent, signText, signedAction } from '../support/agents.js';
import { STORE_KINDS } from '../support/databases.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';
import { HttpClient } from '../support/http.js';
import { LogCapture } from '../support/logs.js';
import { within } from '../support/within.js';
import { withTwoNodes } from '../support/two-nodes.js';
import { createServer, type AimServer } from '../../src/main.js';
import { createLogger } from '../../src/core/logger.js';

const L = (1n << 252n) + 27742317777372353535851937790883648493n;

describe('agents and verify-action', () => {
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    t = await startTestServer();
    admin = await t.signIn({ role: 'admin' });
  });
  after(() => t.close());

  const verifyAction = (id: string, body: unknown, token = admin.accessToken) =>
    t.http.post(`/api/v1/agents/${id}/verify-action`, body, { token });

  it('registers with a raw key, a PEM key, or a server-generated pair shown once', async () => {
    const raw = await registerAgent(t.http, admin.accessToken, { type: 'mcp_server' });
    assert.equal(raw.response.body.type, 'mcp_server');
    assert.equal(raw.response.body.public_key, raw.keys.publicKey);
    assert.equal(raw.response.body.private_key, undefined);

    const pemPair = newKeyPair();
    const pem = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(pemPair.publicKey, 'base64')]), format: 'der', type: 'spki' })
      .export({ format: 'pem', type: 'spki' })
      .toString();
    const viaPem = await t.http.post('/api/v1/agents', { name: 'pem-agent', public_key: pem }, { token: admin.accessToken });
    assert.equal(viaPem.status, 201);
    assert.equal(viaPem.body.public_key, pemPair.publicKey);

    const generated = await t.http.post('/api/v1/agents', { name: 'generated', capabilities: ['search'] }, { token: admin.accessToken });
    assert.equal(generated.status, 201);
    const privatePem = String(generated.body.private_key);
    assert.match(privatePem, /BEGIN PRIVATE KEY/);
    const id = String(generated.body.agent_id);
    const ok = await verifyAction(id, signedAction(id, keyPairFromPem(privatePem), 'search', 'docs'));
    assert.equal(ok.status, 200);
    const fetched = await t.http.get(`/api/v1/agents/${id}`, { token: admin.accessToken });
    assert.ok(!fetched.text.includes('PRIVATE KEY'), 'the private key is never returned again');
    const keys = await t.http.get<{ keys: Array<Record<string, unknown>> }>(`/api/v1/agents/${id}/keys`, { token: admin.accessToken });
    assert.ok(!keys.text.includes('PRIVATE KEY'));
  });

  it('refuses weak, malformed and duplicate public keys', async () => {
    const weak = [
      Buffer.alloc(32).toString('base64'), // the identity / small order
      Buffer.from('0100000000000000000000000000000000000000000000000000000000000000', 'hex').toString('base64'),
      Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex').toString('base64'),
      Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex').toString('base64'),
      Buffer.from('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex').toString('base64'),
      Buffer.from('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex').toString('base64'), // y = p, non-canonical
      Buffer.from('ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'hex').toString('base64'), // y > p
      'not base64 at all',
      Buffer.alloc(31, 7).toString('base64'),
      '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEA\n-----END PUBLIC KEY-----',
    ];
    for (const publicKey of weak) {
      const res = await t.http.post('/api/v1/agents', { name: `weak-${nonce().slice(0, 6)}`, public_key: publicKey }, { token: admin.accessToken });
      assert.equal(res.status, 400, publicKey);
      assert.equal(res.body.error, 'invalid_request');
    }
    const pair = newKeyPair();
    await registerAgent(t.http, admin.accessToken, { keyPair: pair });
    const again = await t.http.post('/api/v1/agents', { name: 'dup', public_key: pair.publicKey }, { token: admin.accessToken });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'conflict');
  });

  it('allows a valid signature with the capability, answers allowed:false without it', async () => {
    const agent = await registerAgent(t.http, admin.accessToken, { capabilities: ['files:*', 'search'] });
    const allowed = await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'files:read', '/reports/q3'));
    assert.equal(allowed.status, 200);
    assert.equal(allowed.body.verified, true);
    assert.equal(allowed.body.allowed, true);
    assert.equal(allowed.body.agent_id, agent.id);
    assert.equal(allowed.body.action, 'files:read');
    assert.equal(allowed.body.resource, '/reports/q3');
    assert.equal(typeof allowed.body.verification_id, 'string');
    assert.equal(typeof allowed.body.key_id, 'string');

    const exact = await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'search', 'web'));
    assert.equal(exact.body.allowed, true);

    const denied = await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'payments:send', 'acct-1'));
    assert.equal(denied.status, 200);
    assert.equal(denied.body.verified, true);
    assert.equal(denied.body.allowed, false);
    assert.equal(denied.body.reason, 'capability_missing');

    const notPrefix = await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'filesystem', 'x'));
    assert.equal(notPrefix.body.allowed, false, '`files:*` does not cover `filesystem`');
  });

  it('refuses bad signatures with 401 invalid_signature', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const stranger = newKeyPair();
    const good = () => signedAction(agent.id, agent.keys.privateKey, 'files:read', 'a');
    const cases: Record<string, Record<string, unknown>> = {
      'wrong key': signedAction(agent.id, stranger.privateKey, 'files:read', 'a'),
      'altered action': { ...good(), action: 'files:write' },
      'altered resource': { ...good(), resource: 'b' },
      'altered timestamp': (() => {
        const body = good();
        return { ...body, timestamp: body.timestamp - 1 };
      })(),
      'base64 garbage': { ...good(), signature: '!!!not-base64!!!' },
      '63-byte signature': { ...good(), signature: Buffer.alloc(63, 1).toString('base64') },
      '65-byte signature': { ...good(), signature: Buffer.alloc(65, 1).toString('base64') },
      'empty signature': { ...good(), signature: '' },
      'signed for another agent': signedAction('00000000-0000-4000-8000-000000000000', agent.keys.privateKey, 'files:read', 'a'),
    };
    for (const [name, body] of Object.entries(cases)) {
      const res = await verifyAction(agent.id, body);
      assert.equal(res.status, 401, name);
      assert.equal(res.body.error, 'invalid_signature', name);
    }
  });

  it('refuses malleable signatures: S + L, and a small-order R', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const body = signedAction(agent.id, agent.keys.privateKey, 'files:read', 'a');
    const sig = Buffer.from(body.signature, 'base64');
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    let sPlusL = s + L;
    const malleable = Buffer.from(sig);
    for (let i = 32; i < 64; i++) {
      malleable[i] = Number(sPlusL & 0xffn);
      sPlusL >>= 8n;
    }
    const high = await verifyAction(agent.id, { ...body, signature: malleable.toString('base64') });
    assert.equal(high.status, 401);
    assert.equal(high.body.error, 'invalid_signature');
    const smallR = Buffer.concat([Buffer.alloc(32), sig.subarray(32)]);
    const weak = await verifyAction(agent.id, { ...body, signature: smallR.toString('base64') });
    assert.equal(weak.status, 401);
    // The untouched signature still works: the refusals were about the forms, not the nonce.
    assert.equal((await verifyAction(agent.id, body)).status, 200);
  });

  it('a nonce works once: replays get 409 nonce_reused', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const body = signedAction(agent.id, agent.keys.privateKey, 'search', 'x');
    assert.equal((await verifyAction(agent.id, body)).status, 200);
    const replay = await verifyAction(agent.id, body);
    assert.equal(replay.status, 409);
    assert.equal(replay.body.error, 'nonce_reused');
    // The same nonce signed afresh for another action is still a replay of the nonce.
    const again = await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'files:read', 'y', { nonce: body.nonce }));
    assert.equal(again.status, 409);
    // Another agent may use the same nonce: nonces are per agent.
    const other = await registerAgent(t.http, admin.accessToken);
    assert.equal((await verifyAction(other.id, signedAction(other.id, other.keys.privateKey, 'search', 'x', { nonce: body.nonce }))).status, 200);
  });

  it('a suspended agent is refused with 403, and works again once reactivated', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const suspend = await t.http.post(`/api/v1/agents/${agent.id}/suspend`, undefined, { token: admin.accessToken });
    assert.equal(suspend.status, 200);
    assert.equal(suspend.body.status, 'suspended');
    const refused = await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'search', 'x'));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'agent_suspended');
    assert.equal((await t.http.post(`/api/v1/agents/${agent.id}/suspend`, undefined, { token: admin.accessToken })).status, 409);
    const rotate = () => {
      const next = newKeyPair();
      const timestamp = Math.floor(Date.now() / 1000);
      const n = nonce();
      const signature = signText(agent.keys.privateKey, `rotate:${agent.id}:${next.publicKey}:${timestamp}:${n}`);
      return t.http.post(`/api/v1/agents/${agent.id}/keys/rotate`, { public_key: next.publicKey, timestamp, nonce: n, signature }, { token: admin.accessToken });
    };
    const suspendedRotation = await rotate();
    assert.deepEqual([suspendedRotation.status, suspendedRotation.body.error], [403, 'agent_suspended']);
    assert.equal((await t.http.post(`/api/v1/agents/${agent.id}/reactivate`, undefined, { token: admin.accessToken })).status, 200);
    assert.equal((await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'search', 'x'))).status, 200);

    // Deleted (revoked) is not suspended: both routes say forbidden, since reactivating cannot help.
    assert.equal((await t.http.request(`/api/v1/agents/${agent.id}`, { method: 'DELETE', token: admin.accessToken })).status, 200);
    const deleted = await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'search', 'x'));
    assert.deepEqual([deleted.status, deleted.body.error], [403, 'forbidden']);
    const deletedRotation = await rotate();
    assert.deepEqual([deletedRotation.status, deletedRotation.body.error], [403, 'forbidden']);
  });

  it('keeps evidence anyone can re-verify offline with only the public key', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const res = await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'files:read', '/a/b'));
    const evidence = await t.http.get(`/api/v1/verifications/${String(res.body.verification_id)}`, { token: admin.accessToken });
    assert.equal(evidence.status, 200);
    assert.equal(evidence.body.decision, 'allowed');
    const keys = await t.http.get<{ keys: Array<{ key_id: string; public_key_pem: string }> }>(`/api/v1/agents/${agent.id}/keys`, { token: admin.accessToken });
    const key = keys.body.keys.find((k) => k.key_id === evidence.body.key_id)!;
    const ok = verify(null, Buffer.from(String(evidence.body.message), 'utf8'), createPublicKey(key.public_key_pem), Buffer.from(String(evidence.body.signature), 'base64'));
    assert.equal(ok, true);
    assert.equal(evidence.body.message, `${agent.id}:files:read:/a/b:${String(evidence.body.timestamp)}:${String(evidence.body.nonce)}`);

    const list = await t.http.get<{ verifications: Array<{ id: string }> }>(`/api/v1/agents/${agent.id}/verifications`, { token: admin.accessToken });
    assert.deepEqual(list.body.verifications.map((v) => v.id), [res.body.verification_id]);
    const audit = await t.server.stores.audit.list({ organizationId: admin.organizationId, event: 'action.verified', limit: 100 });
    assert.ok(audit.some((e) => (e.data as { verification_id?: string }).verification_id === res.body.verification_id));
  });

  it('resources may not contain ":" (the signed message would be ambiguous)', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const res = await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'files', 'read:x'));
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_request');
  });

  it('other organizations see nothing', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const outsider = await t.signIn({ role: 'admin' });
    const paths = [`/api/v1/agents/${agent.id}`, `/api/v1/agents/${agent.id}/keys`, `/api/v1/agents/${agent.id}/verifications`];
    for (const path of paths) assert.equal((await t.http.get(path, { token: outsider.accessToken })).status, 404, path);
    for (const path of ['suspend', 'reactivate']) {
      assert.equal((await t.http.post(`/api/v1/agents/${agent.id}/${path}`, undefined, { token: outsider.accessToken })).status, 404);
    }
    const res = await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'search', 'x'), outsider.accessToken);
    assert.equal(res.status, 404);
    const list = await t.http.get<{ agents: unknown[]; total: number }>('/api/v1/agents', { token: outsider.accessToken });
    assert.equal(list.body.total, 0);
  });

  it('lists with search, status and a cursor; updates capabilities; deletion revokes', async () => {
    const a = await registerAgent(t.http, admin.accessToken, { name: 'list-alpha' });
    await registerAgent(t.http, admin.accessToken, { name: 'list-beta' });
    const search = await t.http.get<{ agents: Array<{ name: string }>; total: number }>('/api/v1/agents?q=LIST-&limit=1', { token: admin.accessToken });
    assert.equal(search.body.total, 2);
    assert.equal(search.body.agents.length, 1);
    const page2 = await t.http.get<{ agents: Array<{ name: string }>; next_cursor: string | null }>(
      `/api/v1/agents?q=list-&limit=1&cursor=${String((search.body as unknown as { next_cursor: string }).next_cursor)}`,
      { token: admin.accessToken },
    );
    assert.equal(page2.body.agents.length, 1);
    assert.notEqual(page2.body.agents[0]!.name, search.body.agents[0]!.name);
    assert.equal((await t.http.get('/api/v1/agents?cursor=garbage', { token: admin.accessToken })).status, 400);
    // A name beyond ASCII is found by itself (the SDK finds an agent it registered by its exact name), whatever the
    // database's lower() knows of Unicode (SQLite's knows only ASCII).
    await registerAgent(t.http, admin.accessToken, { name: 'Équipe Ärger' });
    const accented = await t.http.get<{ agents: Array<{ name: string }> }>(`/api/v1/agents?q=${encodeURIComponent('Équipe Ärger')}`, { token: admin.accessToken });
    assert.deepEqual(accented.body.agents.map((x) => x.name), ['Équipe Ärger']);

    const patched = await t.http.request(`/api/v1/agents/${a.id}`, { method: 'PATCH', body: { capabilities: ['payments:send'] }, token: admin.accessToken });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.capabilities, ['payments:send']);
    const now = await verifyAction(a.id, signedAction(a.id, a.keys.privateKey, 'payments:send', 'acct'));
    assert.equal(now.body.allowed, true, 'a capability change applies at once (cache invalidated)');

    const del = await t.http.request(`/api/v1/agents/${a.id}`, { method: 'DELETE', token: admin.accessToken });
    assert.equal(del.status, 200);
    assert.equal(del.body.status, 'revoked');
    const after = await verifyAction(a.id, signedAction(a.id, a.keys.privateKey, 'payments:send', 'acct'));
    assert.equal(after.status, 403);
    const revoked = await t.http.get<{ agents: Array<{ id: string; status: string }> }>('/api/v1/agents?status=revoked', { token: admin.accessToken });
    assert.ok(revoked.body.agents.some((x) => x.id === a.id));
    assert.ok(revoked.body.agents.every((x) => x.status === 'revoked'));
  });

  it('deletion is all or nothing: when its keys cannot be revoked, the agent is not revoked either', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    // A real fault in the real database: this agent's key rows refuse every update.
    const db = t.server.database.db;
    await sql
      .raw(`create trigger keys_stuck before update on agent_keys when old.agent_id = '${agent.id}' begin select raise(abort, 'injected fault'); end`)
      .execute(db);
    try {
      const del = await t.http.request(`/api/v1/agents/${agent.id}`, { method: 'DELETE', token: admin.accessToken });
      assert.equal(del.status, 500);
    } finally {
      await sql.raw('drop trigger keys_stuck').execute(db);
    }
    const fetched = await t.http.get(`/api/v1/agents/${agent.id}`, { token: admin.accessToken });
    assert.equal(fetched.body.status, 'active', 'no revoked agent whose keys are still live');
    const audit = await t.http.get<{ entries: Array<{ event: string; subject_id: string }> }>(`/api/v1/audit-logs?limit=200`, { token: admin.accessToken });
    assert.ok(!audit.body.entries.some((e) => e.event === 'agent.deleted' && e.subject_id === agent.id), 'no agent.deleted for a deletion that did not happen');
    const del = await t.http.request(`/api/v1/agents/${agent.id}`, { method: 'DELETE', token: admin.accessToken });
    assert.equal(del.status, 200, 'retrying works once the fault is gone');
    const keys = await t.http.get<{ keys: Array<{ status: string }> }>(`/api/v1/agents/${agent.id}/keys`, { token: admin.accessToken });
    assert.deepEqual(keys.body.keys.map((k) => k.status), ['revoked']);
  });

  it('a viewer can read agents but not change or verify', async () => {
    const viewer = await t.signIn({ role: 'viewer', organizationId: admin.organizationId });
    const agent = await registerAgent(t.http, admin.accessToken);
    assert.equal((await t.http.get(`/api/v1/agents/${agent.id}`, { token: viewer.accessToken })).status, 200);
    const suspend = await t.http.post(`/api/v1/agents/${agent.id}/suspend`, undefined, { token: viewer.accessToken });
    assert.equal(suspend.status, 403);
    assert.equal(suspend.body.error, 'insufficient_scope');
    const verifyRes = await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'search', 'x'), viewer.accessToken);
    assert.equal(verifyRes.status, 403);
    assert.equal((await t.http.post('/api/v1/agents', { name: 'nope' }, { token: viewer.accessToken })).status, 403);
  });

  it('only an admin sets an agent a new key: agents:write alone cannot take over an identity', async () => {
    const agent = await registerAgent(t.http, admin.accessToken, { capabilities: ['payments:send'] });
    const member = await t.signIn({ role: 'member', organizationId: admin.organizationId });
    const manager = await t.signIn({ role: 'manager', organizationId: admin.organizationId });
    const memberKey = await t.http.post('/api/v1/api-keys', { name: 'defaults' }, { token: member.accessToken });
    assert.ok((memberKey.body.scopes as string[]).includes('agents:write'));
    const thief = newKeyPair();
    for (const [who, auth] of [
      ['member', { token: member.accessToken }],
      ['manager', { token: manager.accessToken }],
      ['default API key', { apiKey: String(memberKey.body.key) }],
    ] as const) {
      const res = await t.http.post(`/api/v1/agents/${agent.id}/keys`, { public_key: thief.publicKey }, auth);
      assert.equal(res.status, 403, who);
      assert.equal(res.body.error, 'insufficient_scope', who);
    }
    const forged = await verifyAction(agent.id, signedAction(agent.id, thief.privateKey, 'payments:send', 'acct-1'));
    assert.equal(forged.status, 401, 'the thief key was never registered');
    assert.equal((await verifyAction(agent.id, signedAction(agent.id, agent.keys.privateKey, 'payments:send', 'acct-1'))).status, 200);
    const fresh = newKeyPair();
    assert.equal((await t.http.post(`/api/v1/agents/${agent.id}/keys`, { public_key: fresh.publicKey }, { token: admin.accessToken })).status, 201);
    assert.equal((await verifyAction(agent.id, signedAction(agent.id, fresh.privateKey, 'payments:send', 'acct-1'))).status, 200);
  });
});

for (const store of STORE_KINDS) {
  describe(`nonces under concurrency (${store})`, () => {
    let t: TestServer;
    let admin: SignedIn;
    before(async () => {
      t = await startTestServer({ store });
      admin = await t.signIn();
    });
    after(() => t.close());

    it('20 concurrent requests with one nonce: exactly one accepted, 19 nonce_reused', async () => {
      const agent = await registerAgent(t.http, admin.accessToken);
      const body = signedAction(agent.id, agent.keys.privateKey, 'search', 'x');
      const results = await Promise.all(Array.from({ length: 20 }, () => t.http.post(`/api/v1/agents/${agent.id}/verify-action`, body, { token: admin.accessToken })));
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      assert.equal(results.filter((r) => r.status === 409 && r.body.error === 'nonce_reused').length, 19);
    });
  });
}

for (const store of STORE_KINDS) {
  describe(`used nonces are pruned once their timestamp is out of the window (${store}, injected clock)`, () => {
    it('the maintenance job deletes expired nonces and keeps live ones, which are still refused', async () => {
      const clock = new ManualClock(Date.now());
      const t = await startTestServer({ store, clock });
      try {
        const admin = await t.signIn();
        const agent = await registerAgent(t.http, admin.accessToken);
        const at = () => ({ timestamp: Math.floor(clock.now() / 1000) });
        const verify = (http: HttpClient, body: unknown) => http.post(`/api/v1/agents/${agent.id}/verify-action`, body, { token: admin.accessToken });
        for (let i = 0; i < 3; i++) assert.equal((await verify(t.http, signedAction(agent.id, agent.keys.privateKey, 'search', 'x', at()))).status, 200);
        clock.advance(11 * 60_000); // past timestamp + 2 × the 300 s window
        const live = signedAction(agent.id, agent.keys.privateKey, 'search', 'x', at());
        assert.equal((await verify(t.http, live)).status, 200);
        const usedNonces = async (server: AimServer) =>
          Number((await server.database.db.selectFrom('nonces').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
        assert.equal(await usedNonces(t.server), 4);
        await t.server.close();

        // The job runs at start (then every 10 minutes): a restarted node finds the table pruned.
        const again = await createServer(t.server.config, { clock, logger: createLogger('info', new LogCapture()) });
        try {
          await within(5000, async () => (await usedNonces(again)) === 1);
          assert.deepEqual(await again.services.verifier.pruneNonces(), { deleted: 0 });
          await again.app.listen({ host: '127.0.0.1', port: 0 });
          const address = again.app.server.address();
          const http = new HttpClient(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
          const replay = await verify(http, live);
          assert.equal(replay.status, 409, replay.text);
          assert.equal(replay.body.error, 'nonce_reused');
        } finally {
          await again.close();
        }
      } finally {
        await t.database.drop();
      }
    });
  });
}

describe('the signature window (injected clock)', () => {
  // The server's clock stands still at a whole second, so the boundaries are exact: a real clock moves between
  // signing and checking, and under load a 1-second margin was not enough.
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    t = await startTestServer({ clock });
    admin = await t.signIn({ role: 'admin' });
  });
  after(() => t.close());

  it('accepts timestamps up to AIM_SIGNATURE_WINDOW (300 s) either side of server time, and refuses one second more with 401 signature_expired', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const now = clock.now() / 1000;
    const verify = (timestamp: number) =>
      t.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, 'search', 'x', { timestamp }), { token: admin.accessToken });
    for (const timestamp of [now - 300, now, now + 300]) {
      assert.equal((await verify(timestamp)).status, 200, `${timestamp - now} s`);
    }
    for (const timestamp of [now - 301, now + 301, 0]) {
      const res = await verify(timestamp);
      assert.equal(res.status, 401, `${timestamp - now} s`);
      assert.equal(res.body.error, 'signature_expired');
    }
  });
});

describe('agent caches after a Redis outage (two nodes, postgres, injected clock)', () => {
  it("a key revoked while a node's subscriber was away is refused there once it is back, not when its cache expires", async () => {
    const clock = new ManualClock(Date.now());
    await withTwoNodes({ name: 'agent-cache', clock }, async ({ a, b, proxy }) => {
      const admin = await a.signIn();
      const agent = await registerAgent(a.http, admin.accessToken);
      const onB = () => b.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, 'search', 'x', { timestamp: Math.floor(clock.now() / 1000) }), { token: admin.accessToken });
      assert.equal((await onB()).status, 200, 'b has the agent and its key cached');

      await proxy.cut();
      const keyId = String(agent.response.body.key_id);
      const revoked = await a.http.post(`/api/v1/agents/${agent.id}/keys/${keyId}/revoke`, undefined, { token: admin.accessToken });
      assert.equal(revoked.status, 200, 'a revokes; its message never reaches b');
      await proxy.start();

      // b answers 503 until its Redis is back; from then on the revoked key must be refused (the clock stands still,
      // so a cache that only expires would keep accepting it).
      await within(10_000, async () => {
        const res = await onB();
        return res.status === 401 && res.body.error === 'invalid_signature';
      });
    });
  });
});

describe('API-key cache after a Redis outage (two nodes, postgres, injected clock)', () => {
  // No grace: a rotated key stops at once. Rotation is announced only as a cache invalidation (a revocation would
  // also reach b through the revocation list, which reloads when Redis is back), so the cache is what is tested.
  const noGrace = { AIM_API_KEY_ROTATION_GRACE: '0' };

  it("a key rotated out while a node's subscriber was away is refused there once it is back, not when its cache expires", async () => {
    const clock = new ManualClock(Date.now());
    await withTwoNodes({ name: 'api-key-cache', clock, env: noGrace }, async ({ a, b, proxy }) => {
      const admin = await a.signIn();
      const created = await a.http.post<{ id: string; key: string }>('/api/v1/api-keys', { name: 'automation', scopes: ['agents:read'] }, { token: admin.accessToken });
      assert.equal(created.status, 201, created.text);
      const onB = () => b.http.get('/api/v1/agents', { apiKey: created.body.key });
      assert.equal((await onB()).status, 200, 'b has the key cached');

      await proxy.cut();
      const rotated = await a.http.post(`/api/v1/api-keys/${created.body.id}/rotate`, undefined, { token: admin.accessToken });
      assert.equal(rotated.status, 201, rotated.text);
      assert.equal((await a.http.get('/api/v1/agents', { apiKey: created.body.key })).status, 401, 'a refuses the old key at once; its message never reaches b');
      await proxy.start();

      // From b's reconnection on, the old key must be refused: the clock stands still, so a cache that only expired
      // (CACHE_TTL) would keep accepting it.
      await within(10_000, async () => {
        const res = await onB();
        return res.status === 401 && res.body.error === 'invalid_api_key';
      });
    });
  });

  it('a node whose SUBSCRIBE timed out on reconnection is not deaf for good: a key rotated out afterwards is refused there too', async () => {
    const clock = new ManualClock(Date.now());
    await withTwoNodes({ name: 'resubscribe-stall', clock, env: noGrace }, async ({ a, b, proxy }) => {
      const admin = await a.signIn();
      const created = await a.http.post<{ id: string; key: string }>('/api/v1/api-keys', { name: 'automation', scopes: ['agents:read'] }, { token: admin.accessToken });
      assert.equal(created.status, 201, created.text);
      const onB = () => b.http.get('/api/v1/agents', { apiKey: created.body.key });
      assert.equal((await onB()).status, 200);

      // An outage, then a connection that is back but swallows b's first SUBSCRIBE (a stall: it times out).
      await proxy.cut();
      const stalled = proxy.holdNext('subscribe');
      await proxy.start();
      await stalled;
      // b serves again and caches the key anew.
      await within(10_000, async () => (await onB()).status === 200);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // past the SUBSCRIBE's command timeout (500 ms)
      assert.equal((await onB()).status, 200, 'cached again');

      const rotated = await a.http.post(`/api/v1/api-keys/${created.body.id}/rotate`, undefined, { token: admin.accessToken });
      assert.equal(rotated.status, 201, rotated.text);
      // The clock stands still: only an invalidation that reaches b (or a resync) can make it refuse the old key.
      await within(10_000, async () => {
        const res = await onB();
        return res.status === 401 && res.body.error === 'invalid_api_key';
      });
    });
  });
});

describe('agent key rotation (injected clock)', () => {
  const clock = new ManualClock(Date.now());
  let t: TestServer;
  let user: { email: string; password: string };
  // Access tokens live 15 minutes of the fake clock: sign in again whenever the clock has moved.
  const admin = {
    get accessToken(): string {
      return token;
    },
  };
  let token = '';
  let tokenAt = 0;
  const refreshToken = async () => {
    if (token && clock.now() - tokenAt < 10 * 60_000) return;
    const res = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: user.email, password: user.password });
    token = res.body.access_token;
    tokenAt = clock.now();
  };
  before(async () => {
    t = await startTestServer({ clock });
    user = await t.createUser();
    await refreshToken();
  });
  after(() => t.close());

  const seconds = () => Math.floor(clock.now() / 1000);
  const act = async (id: string, keys: { privateKey: import('node:crypto').KeyObject }) => {
    await refreshToken();
    return t.http.post(`/api/v1/agents/${id}/verify-action`, signedAction(id, keys.privateKey, 'search', 'x', { timestamp: seconds() }), { token: admin.accessToken });
  };
  const rotation = (id: string, signer: import('node:crypto').KeyObject, publicKey: string) => {
    const n = nonce();
    const timestamp = seconds();
    return { public_key: publicKey, timestamp, nonce: n, signature: signText(signer, `rotate:${id}:${publicKey}:${timestamp}:${n}`) };
  };

  it('the new key works at once; the old one during the grace period, then not', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const next = newKeyPair();
    const res = await t.http.post(`/api/v1/agents/${agent.id}/keys/rotate`, rotation(agent.id, agent.keys.privateKey, next.publicKey), { token: admin.accessToken });
    assert.equal(res.status, 200, res.text);
    assert.equal((res.body.key as { status: string }).status, 'active');
    assert.equal((res.body.previous as { status: string }).status, 'grace');
    assert.equal((await act(agent.id, next)).status, 200);
    assert.equal((await act(agent.id, agent.keys)).status, 200, 'old key inside the grace period');
    clock.advance(24 * HOUR + 1000);
    const late = await act(agent.id, agent.keys);
    assert.equal(late.status, 401);
    assert.equal(late.body.error, 'invalid_signature');
    assert.equal((await act(agent.id, next)).status, 200);
    await refreshToken();
    const keys = await t.http.get<{ keys: Array<{ status: string }> }>(`/api/v1/agents/${agent.id}/keys`, { token: admin.accessToken });
    assert.deepEqual(keys.body.keys.map((k) => k.status).sort(), ['active', 'retired']);
  });

  it('a rotation not signed by the current key is refused, and so is a replayed one', async () => {
    await refreshToken();
    const agent = await registerAgent(t.http, admin.accessToken);
    const next = newKeyPair();
    const forged = await t.http.post(`/api/v1/agents/${agent.id}/keys/rotate`, rotation(agent.id, next.privateKey, next.publicKey), { token: admin.accessToken });
    assert.equal(forged.status, 401);
    assert.equal(forged.body.error, 'invalid_signature');
    const body = rotation(agent.id, agent.keys.privateKey, next.publicKey);
    assert.equal((await t.http.post(`/api/v1/agents/${agent.id}/keys/rotate`, body, { token: admin.accessToken })).status, 200);
    const replay = await t.http.post(`/api/v1/agents/${agent.id}/keys/rotate`, body, { token: admin.accessToken });
    assert.equal(replay.status, 401, 'the old key is no longer current');
    const third = newKeyPair();
    const byGraceKey = await t.http.post(`/api/v1/agents/${agent.id}/keys/rotate`, rotation(agent.id, agent.keys.privateKey, third.publicKey), { token: admin.accessToken });
    assert.equal(byGraceKey.status, 401, 'a key in its grace period cannot rotate');
  });

  it('says rotation is due from 7 days before expiry, and refuses the key after 90 days with key_expired', async () => {
    await refreshToken();
    const agent = await registerAgent(t.http, admin.accessToken);
    clock.advance(82 * DAY);
    const early = await act(agent.id, agent.keys);
    assert.equal(early.body.rotation_due, false);
    clock.advance(2 * DAY);
    const due = await act(agent.id, agent.keys);
    assert.equal(due.status, 200);
    assert.equal(due.body.rotation_due, true);
    assert.equal(due.headers.get('aim-key-rotation'), 'due');
    clock.advance(6 * DAY + 1000);
    const expired = await act(agent.id, agent.keys);
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error, 'key_expired');
    // An admin sets a new key to recover.
    const fresh = newKeyPair();
    await refreshToken();
    const replaced = await t.http.post(`/api/v1/agents/${agent.id}/keys`, { public_key: fresh.publicKey }, { token: admin.accessToken });
    assert.equal(replaced.status, 201);
    assert.equal((await act(agent.id, fresh)).status, 200);
  });

  it('an admin can revoke a key at once', async () => {
    await refreshToken();
    const agent = await registerAgent(t.http, admin.accessToken);
    assert.equal((await act(agent.id, agent.keys)).status, 200);
    const keyId = String(agent.response.body.key_id);
    const revoked = await t.http.post(`/api/v1/agents/${agent.id}/keys/${keyId}/revoke`, undefined, { token: admin.accessToken });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.status, 'revoked');
    const res = await act(agent.id, agent.keys);
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_signature');
  });
});
