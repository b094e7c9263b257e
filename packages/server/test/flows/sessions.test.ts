import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DAY, MINUTE, ManualClock } from '../../src/core/clock.js';
import { STORE_KINDS } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Pair = { access_token: string; refresh_token: string; token_type: string; expires_in: number; user: Record<string, unknown> };

for (const store of STORE_KINDS) {
  describe(`human sessions (${store})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store });
    });
    after(() => t.close());

    it('login → me → refresh → reuse of the old token revokes the whole family', async () => {
      const user = await t.createUser({ role: 'member' });
      const login = await t.http.post<Pair>('/api/v1/public/login', { email: user.email, password: user.password });
      assert.equal(login.status, 200);
      assert.equal(login.body.token_type, 'Bearer');
      assert.equal(login.body.expires_in, 900);
      assert.deepEqual(Object.keys(login.body.user).sort(), ['created_at', 'disabled_at', 'email', 'id', 'organization_id', 'role']);

      const me = await t.http.get('/api/v1/auth/me', { token: login.body.access_token });
      assert.equal(me.status, 200);
      assert.equal(me.body.email, user.email);
      assert.equal(me.body.role, 'member');

      const first = login.body.refresh_token;
      const refreshed = await t.http.post<Pair>('/api/v1/auth/refresh', { refresh_token: first });
      assert.equal(refreshed.status, 200);
      assert.notEqual(refreshed.body.refresh_token, first);
      const newest = refreshed.body.refresh_token;

      const reused = await t.http.post('/api/v1/auth/refresh', { refresh_token: first });
      assert.equal(reused.status, 401);
      assert.equal(reused.body.error, 'refresh_token_reused');

      const afterReuse = await t.http.post('/api/v1/auth/refresh', { refresh_token: newest });
      assert.equal(afterReuse.status, 401);
      assert.equal(afterReuse.body.error, 'invalid_token');

      // The access token minted from the revoked family stops too, before its 15 minutes are up.
      const meAfter = await t.http.get('/api/v1/auth/me', { token: refreshed.body.access_token });
      assert.equal(meAfter.status, 401);
      assert.equal(meAfter.body.error, 'invalid_token');

      const audit = await t.server.stores.audit.list({ organizationId: user.organizationId, limit: 50 });
      assert.ok(audit.some((e) => e.event === 'refresh_token.reuse_detected'), 'reuse is audited even though the request failed');
    });

    it('20 concurrent presentations of one refresh token: exactly one succeeds', async () => {
      const session = await t.signIn();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => t.http.post('/api/v1/auth/refresh', { refresh_token: session.refreshToken })),
      );
      const ok = results.filter((r) => r.status === 200);
      assert.equal(ok.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
      for (const r of results.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 401);
        assert.ok(['refresh_token_reused', 'invalid_token'].includes(String(r.body.error)));
      }
    });

    it('wrong password and unknown email get the same answer', async () => {
      const user = await t.createUser();
      const wrong = await t.http.post('/api/v1/public/login', { email: user.email, password: 'not the password at all' });
      const unknown = await t.http.post('/api/v1/public/login', { email: 'nobody@example.test', password: 'not the password at all' });
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.deepEqual(wrong.body, unknown.body);
      assert.equal(wrong.body.error, 'invalid_credentials');
    });

    it('emails are case-insensitive', async () => {
      const user = await t.createUser();
      const res = await t.http.post('/api/v1/public/login', { email: user.email.toUpperCase(), password: user.password });
      assert.equal(res.status, 200);
    });

    it('logout ends the session for its refresh and access tokens', async () => {
      const s = await t.signIn();
      const out = await t.http.post('/api/v1/auth/logout', undefined, { token: s.accessToken });
      assert.equal(out.status, 200);
      assert.equal((await t.http.get('/api/v1/auth/me', { token: s.accessToken })).status, 401);
      const refresh = await t.http.post('/api/v1/auth/refresh', { refresh_token: s.refreshToken });
      assert.equal(refresh.status, 401);
    });

    it('a password change signs out the other sessions and keeps this one', async () => {
      const user = await t.createUser({ role: 'viewer' });
      const login = () => t.http.post<Pair>('/api/v1/public/login', { email: user.email, password: user.password });
      const here = (await login()).body;
      const elsewhere = (await login()).body;
      const change = await t.http.post(
        '/api/v1/auth/password',
        { current_password: user.password, new_password: 'a brand new long password' },
        { token: here.access_token },
      );
      assert.equal(change.status, 200);
      assert.equal(change.body.sessions_revoked, 1);
      assert.equal((await t.http.get('/api/v1/auth/me', { token: here.access_token })).status, 200);
      assert.equal((await t.http.get('/api/v1/auth/me', { token: elsewhere.access_token })).status, 401);
      assert.equal((await t.http.post('/api/v1/auth/refresh', { refresh_token: elsewhere.refresh_token })).status, 401);
      const old = await t.http.post('/api/v1/public/login', { email: user.email, password: user.password });
      assert.equal(old.status, 401);
    });
  });
}

describe('session expiry (injected clock)', () => {
  const clock = new ManualClock(Date.now());
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ clock });
  });
  after(() => t.close());

  it('access tokens last 15 minutes', async () => {
    const s = await t.signIn();
    clock.advance(14 * MINUTE);
    assert.equal((await t.http.get('/api/v1/auth/me', { token: s.accessToken })).status, 200);
    clock.advance(2 * MINUTE);
    const expired = await t.http.get('/api/v1/auth/me', { token: s.accessToken });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error, 'invalid_token');
  });

  it('refresh tokens last 7 days from their issue', async () => {
    const s = await t.signIn();
    clock.advance(6 * DAY);
    const rotated = await t.http.post<Pair>('/api/v1/auth/refresh', { refresh_token: s.refreshToken });
    assert.equal(rotated.status, 200);
    clock.advance(7 * DAY + MINUTE);
    const expired = await t.http.post('/api/v1/auth/refresh', { refresh_token: rotated.body.refresh_token });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error, 'invalid_token');
  });
});
