import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API_KEY_PATTERN, generateApiKey } from '../../src/api-keys/format.js';
import { DAY, ManualClock, SECOND } from '../../src/core/clock.js';
import { systemRandom } from '../../src/core/random.js';
import { createServer } from '../../src/main.js';
import { createLogger } from '../../src/core/logger.js';
import { STORE_KINDS } from '../support/databases.js';
import type { HttpResult } from '../support/http.js';
import { HttpClient } from '../support/http.js';
import { LogCapture } from '../support/logs.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

interface Created {
  id: string;
  name: string;
  key: string;
  prefix: string;
  scopes: string[];
  expires_at: number;
  created_at: number;
  rate_limit_per_minute: number | null;
  minted_by: string | null;
}

interface View {
  id: string;
  prefix: string;
  scopes: string[];
  status: string;
  expiring_soon: boolean;
  expires_at: number;
  created_by: string;
  last_used_at: number | null;
  last_used_ip: string | null;
  replaced_by: string | null;
  rotated_from: string | null;
  grace_until: number | null;
  minted_by: string | null;
}

interface Usage {
  total_requests: number;
  last_used_at: number | null;
  last_used_ip: string | null;
  days: Array<{ day: string; requests: number }>;
  routes: Array<{ route: string; requests: number }>;
}

async function createKey(t: TestServer, auth: { token?: string; apiKey?: string }, body: Record<string, unknown> = { name: 'ci' }) {
  const res = await t.http.post<Created>('/api/v1/api-keys', body, auth);
  assert.equal(res.status, 201, res.text);
  return res.body;
}

function assertRefused(res: HttpResult, code: string, label: string): void {
  assert.equal(res.body?.error, code, `${label}: ${res.status} ${res.text}`);
  assert.equal(res.status, code === 'insufficient_scope' ? 403 : code === 'invalid_request' ? 400 : code === 'not_found' ? 404 : code === 'conflict' ? 409 : 401, label);
}

/** Counts store lookups by hash on a running server, to prove what is answered offline or from memory. */
function countLookups(t: TestServer): { readonly calls: number; restore(): void } {
  const store = t.server.stores.apiKeys;
  const original = store.findByHash.bind(store);
  let calls = 0;
  store.findByHash = async (hash) => {
    calls += 1;
    return original(hash);
  };
  return {
    get calls() {
      return calls;
    },
    restore: () => {
      store.findByHash = original;
    },
  };
}

for (const store of STORE_KINDS) {
  describe(`API keys (${store})`, () => {
    let t: TestServer;
    let admin: SignedIn;
    before(async () => {
      t = await startTestServer({ store });
      admin = await t.signIn({ role: 'admin' });
    });
    after(() => t.close());

    it('admin creates a key, uses it on the API, revokes it; the next request is 401 invalid_api_key', async () => {
      const created = await createKey(t, { token: admin.accessToken }, { name: 'deploy bot', scopes: ['admin'] });
      assert.deepEqual(Object.keys(created).sort(), ['created_at', 'expires_at', 'id', 'key', 'minted_by', 'name', 'prefix', 'rate_limit_per_minute', 'scopes']);
      assert.match(created.key, new RegExp(`^${API_KEY_PATTERN.source}$`));
      assert.ok(created.key.startsWith('ak_live_'));
      assert.equal(created.prefix, created.key.slice(0, 16));
      assert.deepEqual(created.scopes, ['admin']);
      assert.equal(created.expires_at - created.created_at, 90 * DAY);

      const listed = await t.http.get<{ api_keys: View[]; total: number }>('/api/v1/api-keys', { apiKey: created.key });
      assert.equal(listed.status, 200, listed.text);
      const mine = listed.body.api_keys.find((k) => k.id === created.id);
      assert.equal(mine?.status, 'active');
      assert.equal(mine?.created_by, admin.id);
      assert.ok(!listed.text.includes(created.key.slice(16)), 'a list never carries the key');

      const revoked = await t.http.request<View>(`/api/v1/api-keys/${created.id}`, { method: 'DELETE', token: admin.accessToken });
      assert.equal(revoked.status, 200);
      assert.equal(revoked.body.status, 'revoked');
      assertRefused(await t.http.get('/api/v1/api-keys', { apiKey: created.key }), 'invalid_api_key', 'after revocation');

      const audit = await t.server.stores.audit.list({ organizationId: admin.organizationId, limit: 20 });
      const events = audit.filter((e) => e.subject_id === created.id).map((e) => e.event).sort();
      assert.deepEqual(events, ['api_key.created', 'api_key.revoked']);
      for (const e of audit.filter((x) => x.subject_id === created.id)) {
        assert.equal((e.data as { prefix: string }).prefix, created.prefix);
        assert.ok(!JSON.stringify(e).includes(created.key.slice(16)), 'audit entries hold the prefix only');
      }
    });

    it('neither the database files, a database dump nor the logs contain any key', async () => {
      const keys: string[] = [];
      for (let i = 0; i < 3; i++) keys.push((await createKey(t, { token: admin.accessToken }, { name: `k${i}`, scopes: ['admin'] })).key);
      const first = await createKey(t, { token: admin.accessToken }, { name: 'rotated', scopes: ['admin'] });
      keys.push(first.key);
      const rotated = await t.http.post<Created>(`/api/v1/api-keys/${first.id}/rotate`, undefined, { token: admin.accessToken });
      assert.equal(rotated.status, 201);
      keys.push(rotated.body.key);
      for (const key of keys) assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: key })).status, 200);
      // A refused key is not logged either.
      const mistyped = keys[0]!.slice(0, -1) + (keys[0]!.endsWith('x') ? 'y' : 'x');
      assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: mistyped })).status, 401);
      await t.server.services.apiKeys.flushUsage();

      let stored: string;
      if (store === 'sqlite') {
        // The database file and its write-ahead log, byte for byte.
        const dir = t.database.dataDir;
        stored = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n');
        assert.ok(stored.includes(first.prefix), 'the scan reads the data the store wrote');
      } else {
        stored = execFileSync('pg_dump', ['--data-only', '--no-owner', t.database.databaseUrl!], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        assert.ok(stored.includes(first.prefix), 'the dump holds the API key rows');
      }
      const logs = t.logs.text();
      for (const key of keys) {
        const secret = key.slice(16);
        assert.ok(!stored.includes(secret), `${store} holds a key`);
        assert.ok(!logs.includes(secret), 'the logs hold a key');
      }
      assert.equal(new RegExp(API_KEY_PATTERN.source).exec(stored), null);
      assert.equal(new RegExp(API_KEY_PATTERN.source).exec(logs), null);
    });
  });
}

for (const store of STORE_KINDS) {
  describe(`API keys: what a key minted (${store})`, () => {
    let t: TestServer;
    let admin: SignedIn;
    before(async () => {
      t = await startTestServer({ store });
      admin = await t.signIn({ role: 'admin' });
    });
    after(() => t.close());

    type Revoked = View & { minted_revoked: number; grace_ended: number; [field: string]: unknown };
    const revoke = (id: string, auth: { token?: string; apiKey?: string }, query = '') =>
      t.http.request<Revoked>(`/api/v1/api-keys/${id}${query}`, { method: 'DELETE', ...auth });
    const works = async (key: Created) => (await t.http.get('/api/v1/agents', { apiKey: key.key })).status === 200;
    const viewOf = async (id: string) => (await t.http.get<{ api_keys: View[] }>('/api/v1/api-keys?limit=200', { token: admin.accessToken })).body.api_keys.find((k) => k.id === id);

    /**
     * A with the admin's JWT; with A: B (admin) and C' (a rotation of the admin's C); with B: D. E with the JWT.
     * Every key is used once, so each is cached when it is revoked.
     */
    async function mintTree() {
      const jwt = { token: admin.accessToken };
      const a = await createKey(t, jwt, { name: 'A', scopes: ['admin'] });
      const b = await createKey(t, { apiKey: a.key }, { name: 'B', scopes: ['admin'] });
      const c = await createKey(t, jwt, { name: 'C', scopes: ['agents:read'] });
      const rotated = await t.http.post<Created & { previous: View }>(`/api/v1/api-keys/${c.id}/rotate`, undefined, { apiKey: a.key });
      assert.equal(rotated.status, 201, rotated.text);
      const cNext = rotated.body;
      const d = await createKey(t, { apiKey: b.key }, { name: 'D' });
      const e = await createKey(t, jwt, { name: 'E', scopes: ['admin'] });
      for (const key of [a, b, cNext, d, e]) assert.ok(await works(key), `${key.name} works`);
      return { a, b, c, cNext, previousOfC: rotated.body.previous, d, e };
    }

    it('minted_by names the key whose request created or rotated a key, and is null for people', async () => {
      const { a, b, cNext, previousOfC, d, e } = await mintTree();
      assert.equal(a.minted_by, null);
      assert.equal(e.minted_by, null);
      assert.equal(b.minted_by, a.id);
      assert.equal(cNext.minted_by, a.id, 'a rotation with a key mints the successor');
      assert.equal(previousOfC.minted_by, null, 'the rotated key keeps its own origin');
      assert.equal(d.minted_by, b.id);
      assert.equal((await viewOf(b.id))?.minted_by, a.id);
      assert.equal((await viewOf(cNext.id))?.minted_by, a.id);
      assert.equal((await viewOf(d.id))?.minted_by, b.id);
      assert.equal((await viewOf(a.id))?.minted_by, null);
    });

    it('without revoke_minted only the key is revoked; asking again later reaches what it minted, even through revoked keys', async () => {
      const { a, b, cNext, d, e } = await mintTree();
      const only = await revoke(a.id, { token: admin.accessToken });
      assert.equal(only.status, 200, only.text);
      assert.equal(only.body.status, 'revoked');
      assert.equal(only.body.minted_revoked, 0);
      assert.equal(only.body.grace_ended, 0);
      assert.equal(only.body.minted_by, null);
      assertRefused(await t.http.get('/api/v1/agents', { apiKey: a.key }), 'invalid_api_key', 'A');
      for (const key of [b, cNext, d, e]) assert.ok(await works(key), `${key.name} still works`);
      assert.equal((await revoke(a.id, { token: admin.accessToken }, '?revoke_minted=false')).body.minted_revoked, 0);
      assert.ok(await works(b), 'false is the default');

      // B alone, then the cascade from A: D, minted by the already-revoked B, is reached all the same.
      assert.equal((await revoke(b.id, { token: admin.accessToken })).body.minted_revoked, 0);
      assert.ok(await works(d));
      const late = await revoke(a.id, { token: admin.accessToken }, '?revoke_minted=true');
      assert.equal(late.status, 200, late.text);
      assert.equal(late.body.minted_revoked, 2, "C' and D");
      for (const key of [cNext, d]) assertRefused(await t.http.get('/api/v1/agents', { apiKey: key.key }), 'invalid_api_key', key.name);
      assert.ok(await works(e));
    });

    it('revoke_minted=true revokes the key, everything minted from it and the keys those replaced in grace, in one call, each audited, and nothing else', async () => {
      const { a, b, c, cNext, d, e } = await mintTree();
      assert.ok(await works(c), 'C, rotated by A, is in its grace');
      const res = await revoke(a.id, { token: admin.accessToken }, '?revoke_minted=true');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.id, a.id);
      assert.equal(res.body.status, 'revoked');
      assert.equal(res.body.minted_revoked, 3);
      assert.equal(res.body.grace_ended, 1, "C, which the revoked C' replaced");
      for (const key of [a, b, c, cNext, d]) assertRefused(await t.http.get('/api/v1/agents', { apiKey: key.key }), 'invalid_api_key', key.name);
      assert.ok(await works(e), 'E was made by a person');
      for (const key of [b, cNext, d]) assert.equal((await viewOf(key.id))?.status, 'revoked');
      // On the durable revocation list too, not only in the rows: what other nodes load.
      const listed = new Set((await t.server.stores.revocations.activeRevocations(Date.now())).map((r) => r.id));
      for (const key of [a, b, c, cNext, d]) assert.ok(listed.has(key.id), key.name);
      assert.ok(!listed.has(e.id));

      const audit = await t.server.stores.audit.list({ organizationId: admin.organizationId, event: 'api_key.revoked', limit: 50 });
      const cascaded = new Map(audit.filter((x) => (x.data as { reason?: string }).reason === 'minted_by_revoked').map((x) => [x.subject_id, x]));
      for (const [key, parent] of [[b, a], [cNext, a], [d, b]] as const) {
        const entry = cascaded.get(key.id);
        assert.deepEqual(entry?.data, { prefix: key.prefix, reason: 'minted_by_revoked', minted_by: parent.id }, key.name);
        assert.equal(entry?.actor_type, 'user');
        assert.equal(entry?.actor_id, admin.id);
      }
      assert.equal(audit.filter((x) => x.subject_id === a.id).length, 1);
      assert.equal((await revoke(a.id, { token: admin.accessToken }, '?revoke_minted=true')).body.minted_revoked, 0, 'a second call finds nothing left');
    });

    it('bad revoke_minted values and unknown query parameters are 400 and revoke nothing', async () => {
      const { a, b } = await mintTree();
      for (const query of ['?revoke_minted=yes', '?revoke_minted=', '?revoke_minted=1x', '?revoke_minted=true&revoke_minted=true', '?revoke_mintd=true', '?cascade=true']) {
        assertRefused(await revoke(a.id, { token: admin.accessToken }, query), 'invalid_request', query);
      }
      assert.ok((await works(a)) && (await works(b)));
    });

    it("the caller must be allowed to grant the key's scopes: a member cannot cut off an admin key's tree", async () => {
      const { a, b, d } = await mintTree();
      const member = await t.signIn({ role: 'member', organizationId: admin.organizationId });
      assertRefused(await revoke(a.id, { token: member.accessToken }, '?revoke_minted=true'), 'insufficient_scope', 'member');
      const memberKey = await createKey(t, { token: member.accessToken }, { name: 'member key' });
      assertRefused(await revoke(a.id, { apiKey: memberKey.key }, '?revoke_minted=true'), 'insufficient_scope', 'key without admin');
      for (const key of [a, b, d]) assert.ok(await works(key), `${key.name} still works`);
      // A minted key may revoke its own parent's tree (it holds the same scopes): the thief's keys are no refuge.
      const res = await revoke(a.id, { apiKey: b.key }, '?revoke_minted=true');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.minted_revoked, 3);
      assertRefused(await t.http.get('/api/v1/agents', { apiKey: b.key }), 'invalid_api_key', 'B revoked itself');
    });
  });
}

describe('API keys: refusals, scopes and organizations', () => {
  let t: TestServer;
  let admin: SignedIn;
  let adminKey: Created;
  before(async () => {
    t = await startTestServer();
    admin = await t.signIn({ role: 'admin' });
    adminKey = await createKey(t, { token: admin.accessToken }, { name: 'admin', scopes: ['admin'] });
  });
  after(() => t.close());

  it('malformed, truncated, bad-checksum and wrong-environment keys are refused offline, without a store lookup', async () => {
    const good = adminKey.key;
    const flipped = good.slice(0, 30) + (good[30] === 'a' ? 'b' : 'a') + good.slice(31);
    const cases: Record<string, string> = {
      malformed: 'not-an-api-key',
      empty: '',
      truncated: good.slice(0, -3),
      'one character too many': `${good}a`,
      'bad checksum': flipped,
      'bad checksum digit': good.slice(0, -1) + (good.endsWith('0') ? '1' : '0'),
      'relabelled environment': good.replace('ak_live_', 'ak_test_'),
      'a valid test-environment key': generateApiKey('test', systemRandom),
      'oversized': 'ak_live_' + 'a'.repeat(5000),
      'bearer token as key': admin.accessToken,
    };
    const lookups = countLookups(t);
    try {
      for (const [name, key] of Object.entries(cases)) {
        assertRefused(await t.http.get('/api/v1/api-keys', { headers: { 'x-api-key': key } }), 'invalid_api_key', name);
      }
      assert.equal(lookups.calls, 0);
      // A well-formed live key that was never issued does reach the store, and is refused the same way.
      assertRefused(await t.http.get('/api/v1/api-keys', { apiKey: generateApiKey('live', systemRandom) }), 'invalid_api_key', 'unknown key');
      assert.equal(lookups.calls, 1);
    } finally {
      lookups.restore();
    }
  });

  it('a verified key is served from memory, and revocation still stops it on the very next request', async () => {
    const key = await createKey(t, { token: admin.accessToken }, { name: 'hot', scopes: ['admin'] });
    const lookups = countLookups(t);
    try {
      for (let i = 0; i < 5; i++) assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: key.key })).status, 200);
      assert.equal(lookups.calls, 1);
      assert.equal((await t.http.request(`/api/v1/api-keys/${key.id}`, { method: 'DELETE', apiKey: adminKey.key })).status, 200);
      assertRefused(await t.http.get('/api/v1/api-keys', { apiKey: key.key }), 'invalid_api_key', 'revoked while cached');
    } finally {
      lookups.restore();
    }
  });

  it('sending both a bearer token and a key is a 400', async () => {
    const res = await t.http.get('/api/v1/api-keys', { token: admin.accessToken, apiKey: adminKey.key });
    assertRefused(res, 'invalid_request', 'both credentials');
  });

  it('scope violations are 403 insufficient_scope', async () => {
    const reader = await createKey(t, { token: admin.accessToken }, { name: 'reader', scopes: ['agents:read'] });
    assertRefused(await t.http.get('/api/v1/api-keys', { apiKey: reader.key }), 'insufficient_scope', 'key without admin lists keys');
    assertRefused(await t.http.post('/api/v1/api-keys', { name: 'x' }, { apiKey: reader.key }), 'insufficient_scope', 'key without admin creates a key');

    const defaults = await createKey(t, { token: admin.accessToken });
    assert.deepEqual(defaults.scopes, ['agents:read', 'agents:write', 'verify']);
    assertRefused(await t.http.get(`/api/v1/api-keys/${defaults.id}/usage`, { apiKey: defaults.key }), 'insufficient_scope', 'default key reads usage');

    const member = await t.signIn({ role: 'member', organizationId: admin.organizationId });
    assertRefused(await t.http.post('/api/v1/api-keys', { name: 'x', scopes: ['admin'] }, { token: member.accessToken }), 'insufficient_scope', 'member grants admin');
    assertRefused(await t.http.post('/api/v1/api-keys', { name: 'x', scopes: ['audit:read'] }, { token: member.accessToken }), 'insufficient_scope', 'member grants audit:read');
    const memberKey = await createKey(t, { token: member.accessToken }, { name: 'member default' });
    assert.deepEqual(memberKey.scopes, ['agents:read', 'agents:write', 'verify']);
    assertRefused(await t.http.post(`/api/v1/api-keys/${adminKey.id}/rotate`, undefined, { token: member.accessToken }), 'insufficient_scope', 'member rotates an admin key');
    assertRefused(await t.http.request(`/api/v1/api-keys/${adminKey.id}`, { method: 'DELETE', token: member.accessToken }), 'insufficient_scope', 'member revokes an admin key');
    assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: adminKey.key })).status, 200, 'the admin key still works');
    // Within what one may grant, keys are anyone's to revoke, the member's own and a colleague's alike.
    const colleague = await createKey(t, { token: admin.accessToken }, { name: 'colleague default' });
    assert.equal((await t.http.request(`/api/v1/api-keys/${colleague.id}`, { method: 'DELETE', token: member.accessToken })).status, 200);
    assert.equal((await t.http.request(`/api/v1/api-keys/${memberKey.id}`, { method: 'DELETE', token: member.accessToken })).status, 200);

    const viewer = await t.signIn({ role: 'viewer', organizationId: admin.organizationId });
    assertRefused(await t.http.post('/api/v1/api-keys', { name: 'x' }, { token: viewer.accessToken }), 'insufficient_scope', 'viewer creates a key');
    assertRefused(await t.http.get('/api/v1/api-keys', { token: viewer.accessToken }), 'insufficient_scope', 'viewer lists keys');

    assertRefused(
      await t.http.post('/api/v1/api-keys', { name: 'x', scopes: ['api_keys:manage'] }, { token: admin.accessToken }),
      'invalid_request',
      'api_keys:manage on a key',
    );
  });

  it('an admin key acts for its creator, within the creator\'s role', async () => {
    const made = await createKey(t, { apiKey: adminKey.key }, { name: 'made by a key', scopes: ['verify', 'agents:read'] });
    const listed = await t.http.get<{ api_keys: View[] }>('/api/v1/api-keys', { apiKey: adminKey.key });
    const view = listed.body.api_keys.find((k) => k.id === made.id);
    assert.equal(view?.created_by, admin.id);
    assert.deepEqual(view?.scopes, ['agents:read', 'verify']);
    const audit = await t.server.stores.audit.list({ organizationId: admin.organizationId, event: 'api_key.created', limit: 50 });
    const entry = audit.find((e) => e.subject_id === made.id);
    assert.equal(entry?.actor_type, 'api_key');
    assert.equal(entry?.actor_id, adminKey.id);
  });

  it('routes about people stay JWT-only, even for an admin key', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/auth/me'],
      ['GET', '/api/v1/users'],
      ['POST', '/api/v1/auth/logout'],
    ] as const) {
      assertRefused(await t.http.request(path, { method, apiKey: adminKey.key }), 'invalid_api_key', `${method} ${path}`);
    }
  });

  it('keys belong to their organization: other organizations get 404', async () => {
    const other = await t.signIn({ role: 'admin' });
    const theirs = await createKey(t, { token: other.accessToken }, { name: 'theirs', scopes: ['admin'] });
    const mine = await createKey(t, { token: admin.accessToken }, { name: 'mine' });
    for (const auth of [{ token: other.accessToken }, { apiKey: theirs.key }]) {
      assertRefused(await t.http.request(`/api/v1/api-keys/${mine.id}`, { method: 'DELETE', ...auth }), 'not_found', 'revoke across orgs');
      assertRefused(await t.http.post(`/api/v1/api-keys/${mine.id}/rotate`, undefined, auth), 'not_found', 'rotate across orgs');
      assertRefused(await t.http.get(`/api/v1/api-keys/${mine.id}/usage`, auth), 'not_found', 'usage across orgs');
      const list = await t.http.get<{ api_keys: View[]; total: number }>('/api/v1/api-keys', auth);
      assert.deepEqual(list.body.api_keys.map((k) => k.id), [theirs.id]);
      assert.equal(list.body.total, 1);
    }
    assert.equal((await t.http.get(`/api/v1/api-keys/${mine.id}/usage`, { token: admin.accessToken })).status, 200, 'the key was left alone');
    for (const id of ['not-a-uuid', '6B0F2C1E-8D3A-4F5B-9C7D-1E2F3A4B5C6D', '%27%20or%201%3D1']) {
      assertRefused(await t.http.get(`/api/v1/api-keys/${id}/usage`, { token: admin.accessToken }), 'not_found', `id ${id}`);
    }
  });

  it('a key stops when the account that created it is disabled', async () => {
    const user = await t.signIn({ role: 'manager', organizationId: admin.organizationId });
    const key = await createKey(t, { token: user.accessToken }, { name: 'leaver' });
    assert.equal((await t.server.services.apiKeys.verify(key.key, { route: 'GET /test', ip: null })).userId, user.id);
    await t.server.database.db.updateTable('users').set({ disabled_at: Date.now() }).where('id', '=', user.id).execute();
    t.server.services.apiKeys.invalidate(key.id as never);
    await assert.rejects(t.server.services.apiKeys.verify(key.key, { route: 'GET /test', ip: null }), { code: 'invalid_api_key' });
  });

  it('the principal of a key carries its id, creator, scopes and own rate limit', async () => {
    const key = await createKey(t, { token: admin.accessToken }, { name: 'limited', scopes: ['verify'], rate_limit_per_minute: 60 });
    assert.equal(key.rate_limit_per_minute, 60);
    const principal = await t.server.services.apiKeys.verify(key.key, { route: 'GET /test', ip: '192.0.2.7' });
    assert.equal(principal.method, 'api_key');
    assert.deepEqual(principal.actor, { type: 'api_key', id: key.id });
    assert.equal(principal.userId, admin.id);
    assert.equal(principal.organizationId, admin.organizationId);
    assert.equal(principal.rateKey, `api_key:${key.id}`);
    assert.equal(principal.rateLimit, 60);
    assert.deepEqual([...principal.scopes], ['verify']);
    const unlimited = await t.server.services.apiKeys.verify(adminKey.key, { route: 'GET /test', ip: null });
    assert.equal(unlimited.rateLimit, undefined);
  });

  it('bad input to create, list and usage answers 400', async () => {
    const auth = { token: admin.accessToken };
    const bodies: Array<[string, unknown]> = [
      ['no name', { scopes: ['verify'] }],
      ['empty name', { name: '' }],
      ['long name', { name: 'x'.repeat(101) }],
      ['name a number', { name: 5 }],
      ['scopes empty', { name: 'x', scopes: [] }],
      ['scopes unknown', { name: 'x', scopes: ['root'] }],
      ['scopes repeated', { name: 'x', scopes: ['verify', 'verify'] }],
      ['scopes a string', { name: 'x', scopes: 'verify' }],
      ['expires_in_days 0', { name: 'x', expires_in_days: 0 }],
      ['expires_in_days a string', { name: 'x', expires_in_days: '5' }],
      ['expires_in_days fractional', { name: 'x', expires_in_days: 1.5 }],
      ['expires_in_days beyond the maximum age', { name: 'x', expires_in_days: 91 }],
      ['rate limit 0', { name: 'x', rate_limit_per_minute: 0 }],
      ['rate limit above AIM_RATE_LIMIT_API_KEY', { name: 'x', rate_limit_per_minute: 5001 }],
    ];
    for (const [label, body] of bodies) assertRefused(await t.http.post('/api/v1/api-keys', body, auth), 'invalid_request', label);
    const big = await t.http.request('/api/v1/api-keys', { method: 'POST', raw: JSON.stringify({ name: 'x'.repeat(200_000) }), headers: { 'content-type': 'application/json' }, ...auth });
    assert.equal(big.status, 413);
    for (const query of ['?cursor=nope', '?cursor=' + Buffer.from('1.2.3').toString('base64url'), '?limit=0', '?limit=201']) {
      assertRefused(await t.http.get(`/api/v1/api-keys${query}`, auth), 'invalid_request', `list ${query}`);
    }
    for (const query of ['?days=0', '?days=367', '?days=x']) {
      assertRefused(await t.http.get(`/api/v1/api-keys/${adminKey.id}/usage${query}`, auth), 'invalid_request', `usage ${query}`);
    }
  });

  it('lists page with a cursor', async () => {
    const org = await t.signIn({ role: 'admin' });
    for (let i = 0; i < 5; i++) await createKey(t, { token: org.accessToken }, { name: `page ${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: HttpResult<{ api_keys: View[]; total: number; next_cursor: string | null }> = await t.http.get(
        `/api/v1/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token: org.accessToken },
      );
      assert.equal(res.status, 200);
      assert.equal(res.body.total, 5);
      seen.push(...res.body.api_keys.map((k) => k.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.equal(new Set(seen).size, 5);
  });
});

describe('API keys: expiry, rotation grace and usage (injected clock)', () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 12));
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    t = await startTestServer({ clock, env: { AIM_API_KEY_ROTATION_GRACE: '3600' } });
    admin = await t.signIn({ role: 'admin' });
  });
  after(() => t.close());

  /** The clock jumps by days here, so each call signs in afresh instead of keeping a 15-minute token. */
  const jwt = async () => {
    const res = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password });
    assert.equal(res.status, 200);
    return { token: res.body.access_token };
  };
  const view = async (id: string) => {
    const res = await t.http.get<{ api_keys: View[] }>('/api/v1/api-keys?limit=200', await jwt());
    assert.equal(res.status, 200, res.text);
    return res.body.api_keys.find((k) => k.id === id)!;
  };

  it('rotation: the old key works through the grace period, then stops; the new one works', async () => {
    const old = await createKey(t, await jwt(), { name: 'rotating', scopes: ['admin'], expires_in_days: 30, rate_limit_per_minute: 100 });
    assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: old.key })).status, 200, 'warm the cache');
    const res = await t.http.post<Created & { rotated_from: string; previous: View }>(`/api/v1/api-keys/${old.id}/rotate`, undefined, await jwt());
    assert.equal(res.status, 201, res.text);
    const next = res.body;
    assert.notEqual(next.key, old.key);
    assert.notEqual(next.id, old.id);
    assert.equal(next.rotated_from, old.id);
    assert.equal(next.name, 'rotating');
    assert.deepEqual(next.scopes, ['admin']);
    assert.equal(next.rate_limit_per_minute, 100);
    assert.equal(next.expires_at - next.created_at, 30 * DAY, 'a shortened key stays short');
    assert.equal(next.previous.status, 'grace');
    assert.equal(next.previous.grace_until, clock.now() + 3600 * SECOND);
    assert.equal(next.previous.replaced_by, next.id);

    assertRefused(await t.http.post(`/api/v1/api-keys/${old.id}/rotate`, undefined, await jwt()), 'conflict', 'second rotation');

    clock.advance(3599 * SECOND);
    assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: old.key })).status, 200, 'within the grace period');
    assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: next.key })).status, 200);
    clock.advance(2 * SECOND);
    assertRefused(await t.http.get('/api/v1/api-keys', { apiKey: old.key }), 'invalid_api_key', 'after the grace period');
    assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: next.key })).status, 200);
    assert.equal((await view(old.id)).status, 'rotated');
    assert.equal((await view(next.id)).rotated_from, old.id);

    const audit = await t.server.stores.audit.list({ organizationId: admin.organizationId, event: 'api_key.rotated', limit: 5 });
    assert.equal(audit[0]?.subject_id, old.id);
    assert.deepEqual(Object.keys(audit[0]?.data as object).sort(), ['grace_until', 'prefix', 'successor_id', 'successor_prefix']);
  });

  it('two concurrent rotations of one key: one successor, one 409', async () => {
    const key = await createKey(t, await jwt(), { name: 'raced', scopes: ['admin'] });
    const auth = await jwt();
    const results = await Promise.all([1, 2].map(() => t.http.post<Created>(`/api/v1/api-keys/${key.id}/rotate`, undefined, auth)));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409]);
    const successors = (await t.http.get<{ api_keys: View[] }>('/api/v1/api-keys?limit=200', auth)).body.api_keys.filter((k) => k.rotated_from === key.id);
    assert.equal(successors.length, 1);
  });

  it('revoking a key in its grace period stops it at once', async () => {
    const old = await createKey(t, await jwt(), { name: 'leaked', scopes: ['admin'] });
    const next = await t.http.post<Created>(`/api/v1/api-keys/${old.id}/rotate`, undefined, await jwt());
    assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: old.key })).status, 200);
    assert.equal((await t.http.request(`/api/v1/api-keys/${old.id}`, { method: 'DELETE', apiKey: next.body.key })).status, 200);
    assertRefused(await t.http.get('/api/v1/api-keys', { apiKey: old.key }), 'invalid_api_key', 'revoked in grace');
    assertRefused(await t.http.post(`/api/v1/api-keys/${old.id}/rotate`, undefined, await jwt()), 'conflict', 'rotate a revoked key');
    const again = await t.http.request<View>(`/api/v1/api-keys/${old.id}`, { method: 'DELETE', ...(await jwt()) });
    assert.equal(again.status, 200, 'revoking twice is harmless');
    assert.equal(again.body.status, 'revoked');
  });

  it("revoking a key ends the grace of the keys it replaced: a thief who rotated a stolen key keeps neither", async () => {
    type Revoked = View & { grace_ended: number };
    const stolen = await createKey(t, await jwt(), { name: 'stolen', scopes: ['admin'] });
    // The thief rotates twice with the stolen key, so the owner only sees the newest key as active.
    const first = await t.http.post<Created>(`/api/v1/api-keys/${stolen.id}/rotate`, undefined, { apiKey: stolen.key });
    const second = await t.http.post<Created>(`/api/v1/api-keys/${first.body.id}/rotate`, undefined, { apiKey: first.body.key });
    assert.equal(second.status, 201, second.text);
    for (const key of [stolen.key, first.body.key, second.body.key]) assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: key })).status, 200);

    const res = await t.http.request<Revoked>(`/api/v1/api-keys/${second.body.id}`, { method: 'DELETE', ...(await jwt()) });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.grace_ended, 2);
    for (const [name, key] of [['stolen', stolen.key], ['first', first.body.key], ['second', second.body.key]] as const) {
      assertRefused(await t.http.get('/api/v1/api-keys', { apiKey: key }), 'invalid_api_key', name);
    }
    assert.equal((await view(stolen.id)).status, 'revoked');
    const audit = await t.server.stores.audit.list({ organizationId: admin.organizationId, event: 'api_key.revoked', limit: 10 });
    const ended = audit.filter((x) => (x.data as { reason?: string }).reason === 'successor_revoked');
    assert.deepEqual(
      ended.map((x) => x.data).sort((a, b) => String((a as { prefix: string }).prefix).localeCompare((b as { prefix: string }).prefix)),
      [
        { prefix: stolen.prefix, reason: 'successor_revoked', replaced_by: first.body.id },
        { prefix: first.body.prefix, reason: 'successor_revoked', replaced_by: second.body.id },
      ].sort((a, b) => a.prefix.localeCompare(b.prefix)),
    );
    const listed = new Set((await t.server.stores.revocations.activeRevocations(clock.now())).map((r) => r.id));
    assert.ok(listed.has(stolen.id) && listed.has(first.body.id), 'on the durable revocation list other nodes load');
    const again = await t.http.request<Revoked>(`/api/v1/api-keys/${second.body.id}`, { method: 'DELETE', ...(await jwt()) });
    assert.equal(again.body.grace_ended, 0, 'nothing left to end');
  });

  it('revoking a key in grace leaves its successor alone, and a predecessor past its grace is not counted', async () => {
    type Revoked = View & { grace_ended: number };
    const old = await createKey(t, await jwt(), { name: 'handed over', scopes: ['admin'] });
    const next = await t.http.post<Created>(`/api/v1/api-keys/${old.id}/rotate`, undefined, await jwt());
    const res = await t.http.request<Revoked>(`/api/v1/api-keys/${old.id}`, { method: 'DELETE', ...(await jwt()) });
    assert.equal(res.body.grace_ended, 0);
    assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: next.body.key })).status, 200, 'the successor works');

    const older = await createKey(t, await jwt(), { name: 'retired', scopes: ['admin'] });
    const newer = await t.http.post<Created>(`/api/v1/api-keys/${older.id}/rotate`, undefined, await jwt());
    clock.advance(3601 * SECOND);
    const late = await t.http.request<Revoked>(`/api/v1/api-keys/${newer.body.id}`, { method: 'DELETE', ...(await jwt()) });
    assert.equal(late.body.grace_ended, 0);
    assert.equal((await view(older.id)).status, 'rotated', 'past its grace, left as it was');
  });

  it('keys expire after AIM_API_KEY_MAX_AGE_DAYS or sooner, and are flagged 14 days before', async () => {
    const full = await createKey(t, await jwt(), { name: 'full', scopes: ['admin'] });
    const short = await createKey(t, await jwt(), { name: 'short', scopes: ['admin'], expires_in_days: 1 });
    assert.equal(full.expires_at - full.created_at, 90 * DAY);
    assert.equal((await view(short.id)).expiring_soon, true);
    assert.equal((await view(full.id)).expiring_soon, false);

    clock.advance(DAY);
    assertRefused(await t.http.get('/api/v1/api-keys', { apiKey: short.key }), 'invalid_api_key', 'expired');
    assert.equal((await view(short.id)).status, 'expired');
    assert.equal((await view(short.id)).expiring_soon, false);
    assertRefused(await t.http.post(`/api/v1/api-keys/${short.id}/rotate`, undefined, await jwt()), 'conflict', 'rotate an expired key');

    clock.advance(74 * DAY);
    assert.equal((await view(full.id)).expiring_soon, false, '15 days left');
    clock.advance(DAY);
    assert.equal((await view(full.id)).expiring_soon, true, '14 days left');
    assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: full.key })).status, 200);
    clock.advance(14 * DAY);
    assertRefused(await t.http.get('/api/v1/api-keys', { apiKey: full.key }), 'invalid_api_key', 'after 90 days');
  });

  it('usage is counted per day and per route, in memory until flushed', async () => {
    const key = await createKey(t, await jwt(), { name: 'counted', scopes: ['admin'] });
    const today = new Date(clock.now()).toISOString().slice(0, 10);
    for (let i = 0; i < 3; i++) await t.http.get('/api/v1/api-keys', { apiKey: key.key });
    await t.http.get(`/api/v1/api-keys/${key.id}/usage`, { apiKey: key.key });

    const before = await t.server.database.db.selectFrom('api_key_usage').selectAll().where('key_id', '=', key.id).execute();
    assert.deepEqual(before, [], 'no row was written per request');
    assert.ok(t.server.services.apiKeys.usage.pending >= 4);
    await t.server.services.apiKeys.flushUsage();
    assert.equal(t.server.services.apiKeys.usage.pending, 0);

    clock.advance(DAY);
    await t.http.get('/api/v1/api-keys', { apiKey: key.key });
    await t.server.services.apiKeys.flushUsage();
    const res = await t.http.get<Usage>(`/api/v1/api-keys/${key.id}/usage`, await jwt());
    assert.equal(res.status, 200, res.text);
    const tomorrow = new Date(clock.now()).toISOString().slice(0, 10);
    assert.equal(res.body.total_requests, 5);
    assert.deepEqual(res.body.days, [
      { day: today, requests: 4 },
      { day: tomorrow, requests: 1 },
    ]);
    assert.deepEqual(res.body.routes, [
      { route: 'GET /api/v1/api-keys', requests: 4 },
      { route: 'GET /api/v1/api-keys/:id/usage', requests: 1 },
    ]);
    assert.equal(res.body.last_used_at, clock.now());
    assert.equal(res.body.last_used_ip, '127.0.0.1');
    const oneDay = await t.http.get<Usage>(`/api/v1/api-keys/${key.id}/usage?days=1`, await jwt());
    assert.deepEqual(oneDay.body.days, [{ day: tomorrow, requests: 1 }]);
    assert.equal((await view(key.id)).last_used_at, clock.now());
  });
});

describe('API keys: usage retention (injected clock)', () => {
  const clock = new ManualClock(Date.UTC(2026, 3, 1, 12));
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ clock, env: { AIM_API_KEY_USAGE_RETENTION_DAYS: '3' } });
  });
  after(() => t.close());

  it('the maintenance job keeps the last AIM_API_KEY_USAGE_RETENTION_DAYS days of counts and deletes older ones', async () => {
    const admin = await t.signIn({ role: 'admin' });
    const key = await createKey(t, { token: admin.accessToken }, { name: 'retained', scopes: ['admin'] });
    const days: string[] = [];
    for (let day = 0; day < 5; day++) {
      if (day > 0) clock.advance(DAY);
      days.push(new Date(clock.now()).toISOString().slice(0, 10));
      for (let i = 0; i <= day; i++) assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: key.key })).status, 200);
      await t.server.services.apiKeys.flushUsage();
    }
    const usage = async () => (await t.http.get<Usage>(`/api/v1/api-keys/${key.id}/usage?days=30`, { apiKey: key.key })).body;
    assert.equal((await usage()).days.length, 5, 'nothing is pruned until the job runs');

    // What the daily job calls (scheduleRetention in main.ts); the clock decides the cutoff.
    const report = await t.server.services.apiKeys.pruneUsage();
    assert.deepEqual(report, { deleted: 2, before: days[2] });
    const kept = await usage();
    assert.deepEqual(
      kept.days,
      [days[2], days[3], days[4]].map((day, i) => ({ day, requests: i + 3 })),
      'today and the two days before it',
    );
    assert.equal((await t.server.services.apiKeys.pruneUsage()).deleted, 0, 'a second run the same day has nothing to do');
    clock.advance(DAY);
    assert.deepEqual(await t.server.services.apiKeys.pruneUsage(), { deleted: 1, before: days[3] });
  });
});

describe('API keys: usage survives a restart', () => {
  it('what was counted before shutdown is there after it', async () => {
    const t = await startTestServer();
    try {
      const admin = await t.signIn({ role: 'admin' });
      const key = await createKey(t, { token: admin.accessToken }, { name: 'durable', scopes: ['admin'] });
      for (let i = 0; i < 4; i++) assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: key.key })).status, 200);
      await t.server.close(); // flushes what is pending

      const logs = new LogCapture();
      const again = await createServer(t.server.config, { logger: createLogger('info', logs) });
      try {
        await again.app.listen({ host: '127.0.0.1', port: 0 });
        const address = again.app.server.address();
        const http = new HttpClient(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
        const usage = await http.get<Usage>(`/api/v1/api-keys/${key.id}/usage`, { apiKey: key.key });
        assert.equal(usage.status, 200, usage.text);
        assert.equal(usage.body.total_requests, 4, 'the four requests before the restart (this one is still in memory)');
        assert.deepEqual(usage.body.routes, [{ route: 'GET /api/v1/api-keys', requests: 4 }]);
      } finally {
        await again.close();
      }
    } finally {
      await t.database.drop();
    }
  });
});

describe('API keys: AIM_ENVIRONMENT=test', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ env: { AIM_ENVIRONMENT: 'test' } });
  });
  after(() => t.close());

  it('issues ak_test_ keys and refuses live ones', async () => {
    const admin = await t.signIn({ role: 'admin' });
    const key = await createKey(t, { token: admin.accessToken }, { name: 'test env', scopes: ['admin'] });
    assert.match(key.key, /^ak_test_[0-9A-Za-z]{49}$/);
    assert.equal((await t.http.get('/api/v1/api-keys', { apiKey: key.key })).status, 200);
    assertRefused(await t.http.get('/api/v1/api-keys', { apiKey: generateApiKey('live', systemRandom) }), 'invalid_api_key', 'live key on test');
  });
});
