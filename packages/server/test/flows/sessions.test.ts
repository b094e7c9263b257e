import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DAY, MINUTE, ManualClock } from '../../src/core/clock.js';
import type { OrgId } from '../../src/core/ids.js';
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
      // A common password is refused with the reason, and changes nothing: no session ends, the old password stays.
      const weak = await t.http.post('/api/v1/auth/password', { current_password: user.password, new_password: 'Password123!' }, { token: here.access_token });
      assert.equal(weak.status, 400, weak.text);
      assert.equal(weak.body.error, 'invalid_request');
      assert.match(String(weak.body.error_description), /too easy to guess/);
      assert.equal((await t.http.get('/api/v1/auth/me', { token: elsewhere.access_token })).status, 200);
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

    it('a password change keeps SDK tokens unless revoke_sdk_tokens is true; then they stop at once, with their access tokens', async () => {
      const user = await t.createUser({ role: 'member' });
      const session = (await t.http.post<Pair>('/api/v1/public/login', { email: user.email, password: user.password })).body;
      const mint = async (name: string) => {
        const made = await t.http.post<{ refresh_token: string }>('/api/v1/sdk-tokens', { name }, { token: session.access_token });
        assert.equal(made.status, 201, made.text);
        const grant = await t.http.postForm<{ access_token: string; refresh_token: string }>('/oauth/token', {
          grant_type: 'refresh_token',
          client_id: 'aim-sdk',
          refresh_token: made.body.refresh_token,
        });
        assert.equal(grant.status, 200, grant.text);
        return grant.body;
      };
      const kept = await mint('ci');
      const change = (current: string, next: string, extra: Record<string, unknown> = {}) =>
        t.http.post('/api/v1/auth/password', { current_password: current, new_password: next, ...extra }, { token: session.access_token });

      const plain = await change(user.password, 'a brand new long password');
      assert.deepEqual(plain.body, { sessions_revoked: 0, sdk_tokens_revoked: 0 });
      assert.equal((await t.http.get('/api/v1/auth/me', { token: kept.access_token })).status, 200, 'automation keeps working by default');

      const bad = await change('a brand new long password', 'another long passphrase', { revoke_sdk_tokens: 'yes' });
      assert.equal(bad.status, 400, 'a wrong type is refused before anything changes');
      assert.equal(bad.body.error, 'invalid_request');

      const second = await mint('laptop');
      const everything = await change('a brand new long password', 'another long passphrase', { revoke_sdk_tokens: true });
      assert.equal(everything.status, 200, everything.text);
      assert.deepEqual(everything.body, { sessions_revoked: 0, sdk_tokens_revoked: 2 });
      for (const token of [kept, second]) {
        assert.equal((await t.http.get('/api/v1/auth/me', { token: token.access_token })).status, 401, 'its access token stops');
        const again = await t.http.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: 'aim-sdk', refresh_token: token.refresh_token });
        assert.equal(again.status, 400, 'and so does its refresh token');
      }
      assert.equal((await t.http.get('/api/v1/auth/me', { token: session.access_token })).status, 200, 'this session stays');
      const audited = await t.server.stores.audit.list({ organizationId: user.organizationId as OrgId, event: 'sdk_token.revoked', limit: 10 });
      assert.deepEqual(audited.map((e) => e.data), [{ reason: 'password_changed', count: 2 }]);
    });

    it('two password changes racing from the same current password: one wins, the other is refused and changes nothing', async () => {
      const user = await t.createUser({ role: 'viewer' });
      const login = async () => (await t.http.post<Pair>('/api/v1/public/login', { email: user.email, password: user.password })).body;
      const [a, b, bystander] = [await login(), await login(), await login()];
      const change = (session: Pair, next: string) =>
        t.http.post('/api/v1/auth/password', { current_password: user.password, new_password: next }, { token: session.access_token });
      const answers = await Promise.all([change(a, 'first racing new password'), change(b, 'second racing new password')]);
      assert.deepEqual(answers.map((r) => r.status).sort(), [200, 401]);
      const winner = answers[0]!.status === 200 ? 'first racing new password' : 'second racing new password';
      const loser = winner.startsWith('first') ? 'second racing new password' : 'first racing new password';
      assert.equal(answers.find((r) => r.status === 200)!.body.sessions_revoked, 2, 'the loser and the bystander');
      assert.equal(answers.find((r) => r.status === 401)!.body.error, 'invalid_credentials');
      assert.equal((await t.http.post('/api/v1/public/login', { email: user.email, password: winner })).status, 200);
      assert.equal((await t.http.post('/api/v1/public/login', { email: user.email, password: loser })).status, 401);
      assert.equal((await t.http.post('/api/v1/auth/refresh', { refresh_token: bystander.refresh_token })).status, 401);
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

describe('a lost refresh response, with AIM_REFRESH_REUSE_GRACE_SECONDS=30 (injected clock)', () => {
  const clock = new ManualClock(Date.now());
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ clock, env: { AIM_REFRESH_REUSE_GRACE_SECONDS: '30' } });
  });
  after(() => t.close());

  const refresh = (token: string) => t.http.post<Pair>('/api/v1/auth/refresh', { refresh_token: token });
  const sdkGrant = (token: string) =>
    t.http.postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: token, client_id: 'aim-sdk' });

  it('the client presenting its token again within the grace gets a fresh pair; the answer it never got is dead', async () => {
    const s = await t.signIn();
    const lost = await refresh(s.refreshToken);
    assert.equal(lost.status, 200, 'the server rotated; pretend the answer never arrived');
    clock.advance(20_000);
    const retried = await refresh(s.refreshToken);
    assert.equal(retried.status, 200);
    assert.notEqual(retried.body.refresh_token, lost.body.refresh_token);
    assert.equal((await t.http.get('/api/v1/auth/me', { token: retried.body.access_token })).status, 200);

    const entries = await t.server.stores.audit.list({ organizationId: s.organizationId, event: 'session.refreshed', limit: 10 });
    assert.deepEqual(
      entries.map((e) => e.data),
      [{ retried_after_lost_response: true }, {}],
      'the retry is audited as one',
    );

    // Whoever holds the lost answer is not the client: presenting it is reuse, and the whole session ends.
    const stolen = await refresh(lost.body.refresh_token);
    assert.equal(stolen.status, 401);
    assert.equal(stolen.body.error, 'refresh_token_reused');
    assert.equal((await refresh(retried.body.refresh_token)).status, 401);
    assert.equal((await t.http.get('/api/v1/auth/me', { token: retried.body.access_token })).status, 401);
  });

  it('after the grace, or once the successor was used, a second presentation is reuse as always', async () => {
    const late = await t.signIn();
    assert.equal((await refresh(late.refreshToken)).status, 200);
    clock.advance(30_001);
    assert.equal((await refresh(late.refreshToken)).body.error, 'refresh_token_reused');

    const copied = await t.signIn();
    const next = await refresh(copied.refreshToken);
    assert.equal((await refresh(next.body.refresh_token)).status, 200, 'the client had its answer and used it');
    assert.equal((await refresh(copied.refreshToken)).body.error, 'refresh_token_reused');
  });

  it('an SDK token gets the same grace at the token endpoint', async () => {
    const admin = await t.signIn({ role: 'admin' });
    const created = await t.http.post('/api/v1/sdk-tokens', { name: 'flaky-network' }, { token: admin.accessToken });
    const original = String(created.body.refresh_token);
    const lost = await sdkGrant(original);
    assert.equal(lost.status, 200);
    clock.advance(5_000);
    const retried = await sdkGrant(original);
    assert.equal(retried.status, 200);
    assert.equal((await sdkGrant(String(lost.body.refresh_token))).body.error, 'invalid_grant', 'the lost answer is reuse');
    const alerts = await t.http.get<{ alerts: Array<{ type: string }> }>('/api/v1/alerts', { token: admin.accessToken });
    assert.ok(alerts.body.alerts.some((a) => a.type === 'sdk_token_reused'), 'and raises the reuse alert');
  });
});
