import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SessionView } from '@aim/sdk';
import { DAY, MINUTE, ManualClock } from '../../src/core/clock.js';
import type { OrgId } from '../../src/core/ids.js';
import { STORE_KINDS } from '../support/databases.js';
import type { HttpResult } from '../support/http.js';
import { startTestServer, type TestServer, type TestUser } from '../support/server.js';

type Pair = { access_token: string; refresh_token: string };

const VIEW_KEYS = ['created_at', 'current', 'expires_at', 'id', 'last_ip', 'last_used_at', 'revoked_at', 'user_agent'];

function assertRefused(res: HttpResult, status: number, code: string, label: string): void {
  assert.equal(res.status, status, `${label}: ${res.status} ${res.text}`);
  assert.equal(res.body.error, code, label);
  assert.equal(typeof res.body.error_description, 'string', label);
}

for (const store of STORE_KINDS) {
  describe(`your sessions: list and sign out (${store})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store });
    });
    after(() => t.close());

    const login = async (user: TestUser, userAgent: string) => {
      const res = await t.http.post<Pair>('/api/v1/public/login', { email: user.email, password: user.password }, { headers: { 'user-agent': userAgent } });
      assert.equal(res.status, 200, res.text);
      return { accessToken: res.body.access_token, refreshToken: res.body.refresh_token };
    };
    const list = async (token: string) => {
      const res = await t.http.get<{ sessions: SessionView[] }>('/api/v1/auth/sessions', { token });
      assert.equal(res.status, 200, res.text);
      return res.body.sessions;
    };
    const currentId = async (token: string) => (await list(token)).find((s) => s.current)!.id;

    it('two sign-ins → two sessions, one current → sign out the other → its tokens stop → sign out all others', async () => {
      const user = await t.createUser({ role: 'member' });
      const laptop = await login(user, 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0');
      const phone = await login(user, 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1');

      const seen = await list(laptop.accessToken);
      assert.equal(seen.length, 2);
      assert.equal(seen.filter((s) => s.current).length, 1, 'exactly one is the current session');
      for (const s of seen) {
        assert.deepEqual(Object.keys(s).sort(), VIEW_KEYS, 'never a token or a hash');
        assert.equal(s.revoked_at, null);
        assert.ok(s.expires_at > Date.now());
        assert.equal(s.last_ip, '127.0.0.1');
      }
      assert.ok(seen[0]!.created_at >= seen[1]!.created_at, 'newest first');
      const laptopId = seen.find((s) => s.current)!.id;
      const phoneId = await currentId(phone.accessToken);
      assert.notEqual(laptopId, phoneId);
      assert.match(String(seen.find((s) => s.id === phoneId)!.user_agent), /iPhone/);
      assert.doesNotMatch(JSON.stringify(seen), /rt_|access_token|refresh_token|hash/);

      const revoked = await t.http.post<SessionView>(`/api/v1/auth/sessions/${phoneId}/revoke`, undefined, { token: laptop.accessToken });
      assert.equal(revoked.status, 200, revoked.text);
      assert.equal(revoked.body.id, phoneId);
      assert.equal(revoked.body.current, false);
      assert.equal(typeof revoked.body.revoked_at, 'number');

      assertRefused(await t.http.get('/api/v1/auth/me', { token: phone.accessToken }), 401, 'invalid_token', 'its access token, before it expires');
      assertRefused(await t.http.post('/api/v1/auth/refresh', { refresh_token: phone.refreshToken }), 401, 'invalid_token', 'its refresh token');
      assert.deepEqual((await list(laptop.accessToken)).map((s) => s.id), [laptopId]);
      assert.equal((await t.http.get('/api/v1/auth/me', { token: laptop.accessToken })).status, 200, 'the caller stays signed in');

      const tablet = await login(user, 'tablet');
      const desktop = await login(user, 'desktop');
      assert.equal((await list(laptop.accessToken)).length, 3);
      const others = await t.http.post<{ revoked: number }>('/api/v1/auth/sessions/revoke-others', undefined, { token: laptop.accessToken });
      assert.equal(others.status, 200, others.text);
      assert.deepEqual(others.body, { revoked: 2 });
      for (const gone of [tablet, desktop]) assert.equal((await t.http.get('/api/v1/auth/me', { token: gone.accessToken })).status, 401);
      const left = await list(laptop.accessToken);
      assert.deepEqual(left.map((s) => [s.id, s.current]), [[laptopId, true]]);
      assert.deepEqual((await t.http.post('/api/v1/auth/sessions/revoke-others', undefined, { token: laptop.accessToken })).body, { revoked: 0 });

      const entries = await t.server.stores.audit.list({ organizationId: user.organizationId as OrgId, limit: 1000 });
      const one = entries.find((e) => e.event === 'session.revoked' && e.subject_id === phoneId);
      assert.ok(one, 'signing out one session is audited as session.revoked');
      assert.equal(one.actor_id, user.id);
      assert.deepEqual(one.data, { reason: 'user_revoked' });
      const all = entries.find((e) => e.event === 'session.revoked' && e.subject_id === user.id);
      assert.deepEqual(all?.data, { reason: 'user_revoked', count: 2 }, 'signing out the others is one entry');
    });

    it('signing out the current session is a logout: its own token stops', async () => {
      const user = await t.createUser({ role: 'viewer' });
      const session = await login(user, 'only device');
      const id = await currentId(session.accessToken);
      const res = await t.http.post<SessionView>(`/api/v1/auth/sessions/${id}/revoke`, undefined, { token: session.accessToken });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.current, true);
      assertRefused(await t.http.get('/api/v1/auth/sessions', { token: session.accessToken }), 401, 'invalid_token', 'after signing itself out');
    });

    it("another person's session, an SDK token, an unknown id and a non-UUID are all 404", async () => {
      const me = await t.signIn({ role: 'admin' });
      const stranger = await t.createUser({ role: 'admin', organizationId: me.organizationId });
      const theirs = await currentId((await login(stranger, 'theirs')).accessToken);
      const sdk = await t.http.post<{ id: string }>('/api/v1/sdk-tokens', { name: 'ci' }, { token: me.accessToken });
      assert.equal(sdk.status, 201, sdk.text);
      for (const [label, id] of [
        ["another user's session", theirs],
        ['my SDK token', sdk.body.id],
        ['unknown', '00000000-0000-4000-8000-000000000000'],
        ['not a UUID', 'not-a-uuid'],
        ['a very long id', 'x'.repeat(64)],
      ] as const) {
        assertRefused(await t.http.post(`/api/v1/auth/sessions/${id}/revoke`, undefined, { token: me.accessToken }), 404, 'not_found', label);
      }
      assert.equal((await list((await login(stranger, 'theirs again')).accessToken)).find((s) => s.id === theirs)?.revoked_at, null, 'untouched');
      const sdkTokens = await t.http.get<{ sdk_tokens: Array<{ id: string; status: string }> }>('/api/v1/sdk-tokens', { token: me.accessToken });
      assert.equal(sdkTokens.body.sdk_tokens.find((s) => s.id === sdk.body.id)?.status, 'active');
      assert.ok(!(await list(me.accessToken)).some((s) => s.id === sdk.body.id), 'SDK tokens are not sessions');
    });

    it('API keys, SDK access tokens and anonymous callers are refused; no query parameters; bodies are bounded', async () => {
      const admin = await t.signIn({ role: 'admin' });
      const id = await currentId(admin.accessToken);
      const key = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'automation', scopes: ['admin'] }, { token: admin.accessToken });
      assert.equal(key.status, 201, key.text);
      const sdk = await t.http.post<{ refresh_token: string }>('/api/v1/sdk-tokens', { name: 'sdk' }, { token: admin.accessToken });
      const grant = await t.http.request<{ access_token: string }>('/oauth/token', {
        method: 'POST',
        raw: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sdk.body.refresh_token, client_id: 'aim-sdk' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(grant.status, 200, grant.text);

      const routes: Array<[string, string]> = [
        ['GET', '/api/v1/auth/sessions'],
        ['POST', `/api/v1/auth/sessions/${id}/revoke`],
        ['POST', '/api/v1/auth/sessions/revoke-others'],
      ];
      for (const [method, path] of routes) {
        assertRefused(await t.http.request(path, { method, apiKey: key.body.key }), 401, 'invalid_api_key', `${method} ${path} with an API key`);
        const bySdk = await t.http.request(path, { method, token: grant.body.access_token });
        assertRefused(bySdk, 401, 'invalid_token', `${method} ${path} with an SDK token`);
        assert.equal(bySdk.headers.get('www-authenticate'), 'Bearer realm="aim", error="invalid_token"', `${method} ${path}: RFC 6750 §3.1`);
        assertRefused(await t.http.request(path, { method }), 401, 'invalid_token', `${method} ${path} anonymously`);
        assertRefused(await t.http.request(`${path}?all=true`, { method, token: admin.accessToken }), 400, 'invalid_request', `${method} ${path}?all=true`);
      }
      const big = await t.http.request(`/api/v1/auth/sessions/${id}/revoke`, {
        method: 'POST',
        raw: JSON.stringify({ reason: 'x'.repeat(2_000_000) }),
        headers: { 'content-type': 'application/json' },
        token: admin.accessToken,
      });
      assertRefused(big, 413, 'payload_too_large', 'an oversized body');
      assert.equal((await list(admin.accessToken)).length, 1, 'nothing was signed out by the refused requests');
    });
  });
}

describe('your sessions: an idle session drops off the list (injected clock)', () => {
  const clock = new ManualClock(Date.now());
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ clock, env: { AIM_REFRESH_TOKEN_TTL: String((2 * DAY) / 1000) } });
  });
  after(() => t.close());

  it('a session unused for longer than its refresh token lives is not listed; a used one moves its end forward', async () => {
    const user = await t.createUser({ role: 'member' });
    const signIn = async () =>
      (await t.http.post<Pair>('/api/v1/public/login', { email: user.email, password: user.password })).body;
    const idle = await signIn();
    const kept = await signIn();
    clock.advance(DAY);
    const refreshed = await t.http.post<Pair>('/api/v1/auth/refresh', { refresh_token: kept.refresh_token });
    assert.equal(refreshed.status, 200, refreshed.text);
    const listed = await t.http.get<{ sessions: SessionView[] }>('/api/v1/auth/sessions', { token: refreshed.body.access_token });
    const current = listed.body.sessions.find((s) => s.current)!;
    assert.equal(listed.body.sessions.length, 2);
    assert.equal(current.expires_at, clock.now() + 2 * DAY, 'ends 2 days after its last use unless used again');
    assert.equal(listed.body.sessions.find((s) => !s.current)!.expires_at, current.created_at + 2 * DAY);

    clock.advance(DAY + MINUTE);
    assertRefused(await t.http.post('/api/v1/auth/refresh', { refresh_token: idle.refresh_token }), 401, 'invalid_token', 'the idle one cannot refresh');
    const again = await t.http.post<Pair>('/api/v1/auth/refresh', { refresh_token: refreshed.body.refresh_token });
    const later = await t.http.get<{ sessions: SessionView[] }>('/api/v1/auth/sessions', { token: again.body.access_token });
    assert.deepEqual(later.body.sessions.map((s) => [s.id, s.current]), [[current.id, true]]);
  });
});
