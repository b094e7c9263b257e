import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { ManualClock, SECOND } from '../../src/core/clock.js';
import type { UserId } from '../../src/core/ids.js';
import { STORE_KINDS } from '../support/databases.js';
import { startTestServer, type TestServer, type TestUser } from '../support/server.js';

const STEP = 30 * SECOND;
/** An authenticator app: the code for the secret at a time, computed by the library, not by AIM's own code. */
const codeAt = (secret: string, ms: number) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: ms });
/** A clock at the start of a time step, so tests decide when steps change. */
const stepClock = () => new ManualClock(Math.floor(Date.now() / STEP) * STEP + SECOND);

interface Enrolled extends TestUser {
  accessToken: string;
  secret: string;
  recoveryCodes: string[];
}

for (const store of STORE_KINDS) {
  describe(`two-factor authentication (${store})`, () => {
    const clock = stepClock();
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store, clock });
    });
    after(() => t.close());

    const login = (user: TestUser, totpCode?: string) =>
      t.http.post<{ access_token: string }>('/api/v1/public/login', { email: user.email, password: user.password, ...(totpCode !== undefined && { totp_code: totpCode }) });

    /** Signs in, sets up and enables TOTP; the enabling code's step is used up, and the clock moves to the next step. */
    async function enrol(role: 'admin' | 'member' = 'member'): Promise<Enrolled> {
      const s = await t.signIn({ role });
      const setup = await t.http.post<{ secret: string; otpauth_url: string }>('/api/v1/auth/mfa/totp/setup', undefined, { token: s.accessToken });
      assert.equal(setup.status, 200, setup.text);
      const enable = await t.http.post<{ recovery_codes: string[] }>('/api/v1/auth/mfa/totp/enable', { code: codeAt(setup.body.secret, clock.now()) }, { token: s.accessToken });
      assert.equal(enable.status, 200, enable.text);
      clock.advance(STEP);
      return { ...s, secret: setup.body.secret, recoveryCodes: enable.body.recovery_codes };
    }

    it('enrolment: setup gives a secret and otpauth URL; enable with a code gives ten recovery codes; login then needs a code', async () => {
      const s = await t.signIn({ role: 'member' });
      const me = () => t.http.get('/api/v1/auth/me', { token: s.accessToken });
      assert.equal((await me()).body.mfa_enabled, false);

      const setup = await t.http.post<{ secret: string; otpauth_url: string }>('/api/v1/auth/mfa/totp/setup', undefined, { token: s.accessToken });
      assert.equal(setup.status, 200);
      assert.match(setup.body.secret, /^[A-Z2-7]{32}$/);
      const url = new URL(setup.body.otpauth_url);
      assert.equal(url.protocol, 'otpauth:');
      assert.equal(url.searchParams.get('secret'), setup.body.secret);
      assert.equal(setup.headers.get('cache-control'), 'no-store');

      // Pending until enabled: login still needs no code.
      assert.equal((await login(s)).status, 200);
      assert.equal((await me()).body.mfa_enabled, false);

      const wrong = await t.http.post('/api/v1/auth/mfa/totp/enable', { code: '000000' === codeAt(setup.body.secret, clock.now()) ? '111111' : '000000' }, { token: s.accessToken });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error, 'invalid_credentials');

      const code = codeAt(setup.body.secret, clock.now());
      const enable = await t.http.post<{ recovery_codes: string[] }>('/api/v1/auth/mfa/totp/enable', { code }, { token: s.accessToken });
      assert.equal(enable.status, 200);
      assert.equal(enable.body.recovery_codes.length, 10);
      assert.equal(new Set(enable.body.recovery_codes).size, 10);
      for (const rc of enable.body.recovery_codes) assert.match(rc, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
      assert.equal((await me()).body.mfa_enabled, true);

      const none = await login(s);
      assert.equal(none.status, 401);
      assert.equal(none.body.error, 'mfa_required');
      const bad = await login(s, '123456' === code ? '654321' : '123456');
      assert.equal(bad.status, 401);
      assert.equal(bad.body.error, 'invalid_credentials');
      // The code that enabled the factor is spent.
      const replayOfEnable = await login(s, code);
      assert.equal(replayOfEnable.status, 401);
      assert.equal(replayOfEnable.body.error, 'invalid_credentials');

      clock.advance(STEP);
      const ok = await login(s, codeAt(setup.body.secret, clock.now()));
      assert.equal(ok.status, 200, ok.text);

      const events = (await t.server.stores.audit.list({ organizationId: s.organizationId, limit: 50 })).map((e) => e.event);
      for (const e of ['mfa.totp_setup_started', 'mfa.verification_failed', 'mfa.totp_enabled', 'session.login_failed']) assert.ok(events.includes(e), e);
    });

    it('a TOTP code is accepted once: a replay in the same or a later step is refused', async () => {
      const u = await enrol();
      const code = codeAt(u.secret, clock.now());
      assert.equal((await login(u, code)).status, 200);
      const replay = await login(u, code);
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error, 'invalid_credentials');
      clock.advance(STEP);
      assert.equal((await login(u, code)).status, 401, 'still refused one step later, inside the window');
      // An older code than the last accepted one is refused too, even inside the window.
      const previous = codeAt(u.secret, clock.now() - STEP);
      const current = codeAt(u.secret, clock.now());
      assert.equal((await login(u, current)).status, 200);
      if (previous !== current) assert.equal((await login(u, previous)).status, 401);
    });

    it('codes from one step either side are accepted (clock drift); two steps away are not', async () => {
      const u = await enrol();
      clock.advance(STEP); // the step before now must not be the one that enabled the factor
      assert.equal((await login(u, codeAt(u.secret, clock.now() + 2 * STEP))).status, 401);
      assert.equal((await login(u, codeAt(u.secret, clock.now() - STEP))).status, 200);
      assert.equal((await login(u, codeAt(u.secret, clock.now() + STEP))).status, 200);
    });

    it('concurrent logins with one code: exactly one wins', async () => {
      const u = await enrol();
      const code = codeAt(u.secret, clock.now());
      const results = await Promise.all(Array.from({ length: 6 }, () => login(u, code)));
      assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join(','));
      // The login throttle counts attempts as they start (5 free per account), so the sixth may be slowed instead;
      // the others lost on the code itself.
      const losers = results.filter((x) => x.status !== 200).map((r) => r.body.error);
      assert.ok(losers.every((e) => e === 'invalid_credentials' || e === 'rate_limited'), losers.join(','));
      assert.ok(losers.filter((e) => e === 'invalid_credentials').length >= 4, losers.join(','));
    });

    it('a recovery code works once, in any case and without dashes; the others keep working', async () => {
      const u = await enrol();
      const [first, second] = u.recoveryCodes as [string, string];
      assert.equal((await login(u, first.toUpperCase().replace(/-/g, ''))).status, 200);
      const again = await login(u, first);
      assert.equal(again.status, 401);
      assert.equal(again.body.error, 'invalid_credentials');
      assert.equal((await login(u, second)).status, 200);
      const used = (await t.server.stores.audit.list({ organizationId: u.organizationId, event: 'mfa.recovery_code_used', limit: 5 }))[0];
      assert.deepEqual(used?.data, { remaining: 8 });
    });

    it('concurrent logins with one recovery code: exactly one wins', async () => {
      const u = await enrol();
      const results = await Promise.all(Array.from({ length: 5 }, () => login(u, u.recoveryCodes[3]!)));
      assert.equal(results.filter((r) => r.status === 200).length, 1);
    });

    it('disable needs a valid code (TOTP or recovery); afterwards login needs none', async () => {
      const u = await enrol();
      const token = u.accessToken;
      const wrong = await t.http.post('/api/v1/auth/mfa/totp/disable', { code: 'aaaa-bbbb-cccc-dddd' }, { token });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error, 'invalid_credentials');
      const off = await t.http.post('/api/v1/auth/mfa/totp/disable', { code: u.recoveryCodes[0]! }, { token });
      assert.equal(off.status, 200);
      assert.equal(off.body.mfa_enabled, false);
      assert.equal((await t.http.get('/api/v1/auth/me', { token })).body.mfa_enabled, false);
      assert.equal((await login(u)).status, 200);
      // The recovery codes went with the factor.
      assert.equal((await t.http.post('/api/v1/auth/mfa/totp/disable', { code: u.recoveryCodes[1]! }, { token })).body.error, 'conflict');
      const events = (await t.server.stores.audit.list({ organizationId: u.organizationId, limit: 50 })).map((e) => e.event);
      assert.ok(events.includes('mfa.totp_disabled'));
    });

    it('a second setup while 2FA is on is a conflict; enable without setup is a conflict', async () => {
      const u = await enrol();
      const setup = await t.http.post('/api/v1/auth/mfa/totp/setup', undefined, { token: u.accessToken });
      assert.equal(setup.status, 409);
      assert.equal(setup.body.error, 'conflict');
      const fresh = await t.signIn({ role: 'viewer' });
      const enable = await t.http.post('/api/v1/auth/mfa/totp/enable', { code: '123456' }, { token: fresh.accessToken });
      assert.equal(enable.status, 409);
      assert.equal(enable.body.error, 'conflict');
    });

    it('the secret is sealed at rest and bound to its user; recovery codes are stored as hashes', async () => {
      const u = await enrol();
      const row = await t.server.database.db.selectFrom('mfa_totp').selectAll().where('user_id', '=', u.id).executeTakeFirstOrThrow();
      assert.ok(!row.secret_sealed.includes(u.secret));
      assert.match(row.secret_sealed, /^v2\.[A-Za-z0-9_-]{11}\./);
      const codes = await t.server.database.db.selectFrom('mfa_recovery_codes').select('code_hash').where('user_id', '=', u.id).execute();
      assert.equal(codes.length, 10);
      for (const c of codes) {
        assert.match(c.code_hash, /^[0-9a-f]{64}$/);
        assert.ok(!u.recoveryCodes.some((rc) => c.code_hash.includes(rc.replace(/-/g, ''))));
      }
      // Copied into another user's row, the sealed secret does not open: that login fails closed (a logged server
      // error: stored state was tampered with, the request was fine), it never passes.
      const other = await enrol();
      await t.server.database.db.updateTable('mfa_totp').set({ secret_sealed: row.secret_sealed }).where('user_id', '=', other.id).execute();
      const res = await login(other, codeAt(u.secret, clock.now()));
      assert.equal(res.status, 500);
      assert.equal(res.body.error, 'server_error');
    });

    it('MFA routes refuse wrong input and missing credentials', async () => {
      const s = await t.signIn({ role: 'member' });
      for (const path of ['/api/v1/auth/mfa/totp/enable', '/api/v1/auth/mfa/totp/disable']) {
        for (const body of [{}, { code: 123456 }, { code: '' }, { code: 'x'.repeat(65) }]) {
          const res = await t.http.post(path, body, { token: s.accessToken });
          assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
          assert.equal(res.body.error, 'invalid_request');
        }
      }
      for (const path of ['/api/v1/auth/mfa/totp/setup', '/api/v1/auth/mfa/totp/enable', '/api/v1/auth/mfa/totp/disable']) {
        assert.equal((await t.http.post(path, { code: '123456' })).status, 401);
      }
      for (const body of [{ password: '' }, { password: 42 }, { password: 'x'.repeat(1025) }, { code: '123456' }, []]) {
        const res = await t.http.post('/api/v1/auth/mfa/totp/setup', body, { token: s.accessToken });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error, 'invalid_request');
      }
    });

    describe('enrolment needs a recent sign-in (AIM_REAUTH_WINDOW, 600 s by default)', () => {
      const WINDOW = 600 * SECOND;
      const setup = (token: string, body?: Record<string, unknown>) =>
        t.http.post<{ secret: string; otpauth_url: string }>('/api/v1/auth/mfa/totp/setup', body, { token });
      const enable = (token: string, body: Record<string, unknown>) => t.http.post<{ recovery_codes: string[] }>('/api/v1/auth/mfa/totp/enable', body, { token });
      const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      const reauthFailures = async (user: TestUser) =>
        (await t.server.stores.audit.list({ organizationId: user.organizationId, event: 'user.reauthentication_failed', limit: 50 }))
          .filter((e) => e.subject_id === user.id)
          .map((e) => ({ ...e, data: e.data as Record<string, unknown> }));

      it('a fresh sign-in enrols without the password; its access token says when it signed in (auth_time)', async () => {
        const s = await t.signIn({ role: 'member' });
        assert.equal(claimsOf(s.accessToken).auth_time, Math.floor(clock.now() / SECOND));
        clock.advance(WINDOW - 30 * SECOND);
        const started = await setup(s.accessToken);
        assert.equal(started.status, 200, started.text);
        const enabled = await enable(s.accessToken, { code: codeAt(started.body.secret, clock.now()) });
        assert.equal(enabled.status, 200, enabled.text);
        clock.advance(STEP);
      });

      it('past the window: 403 reauthentication_required without the password; a wrong one is invalid_credentials, audited; the right one enrols', async () => {
        const s = await t.signIn({ role: 'member' });
        clock.advance(WINDOW + SECOND);
        const refused = await setup(s.accessToken);
        assert.equal(refused.status, 403, refused.text);
        assert.equal(refused.body.error, 'reauthentication_required');
        assert.equal((await setup(s.accessToken, {})).body.error, 'reauthentication_required', 'an empty body is no password');
        assert.equal(await t.server.stores.mfa.findTotp(s.id as UserId), undefined, 'nothing was set up');

        const wrong = await setup(s.accessToken, { password: 'not the password at all' });
        assert.equal(wrong.status, 401);
        assert.equal(wrong.body.error, 'invalid_credentials');
        const failures = await reauthFailures(s);
        assert.equal(failures.length, 1);
        assert.deepEqual(failures[0]!.data, { reason: 'invalid_password', step: 'totp_setup' });
        assert.ok(!JSON.stringify(failures).includes('not the password'), 'the guess is not recorded');

        const started = await setup(s.accessToken, { password: s.password });
        assert.equal(started.status, 200, started.text);
        const code = codeAt(started.body.secret, clock.now());
        // The password proves this request only: enable needs it too while the sign-in is old.
        const noPassword = await enable(s.accessToken, { code });
        assert.equal(noPassword.status, 403);
        assert.equal(noPassword.body.error, 'reauthentication_required');
        const wrongAtEnable = await enable(s.accessToken, { code, password: 'still not the password' });
        assert.equal(wrongAtEnable.body.error, 'invalid_credentials');
        assert.deepEqual((await reauthFailures(s)).map((e) => e.data.step).sort(), ['totp_enable', 'totp_setup']);
        const enabled = await enable(s.accessToken, { code, password: s.password });
        assert.equal(enabled.status, 200, enabled.text);
        assert.equal(enabled.body.recovery_codes.length, 10);
        assert.equal((await t.http.get('/api/v1/auth/me', { token: s.accessToken })).body.mfa_enabled, true);
        clock.advance(STEP);
      });

      it('a refreshed access token keeps the sign-in time: refreshing does not make an old sign-in recent', async () => {
        const s = await t.signIn({ role: 'member' });
        const signedInAt = claimsOf(s.accessToken).auth_time;
        assert.equal(typeof signedInAt, 'number');
        clock.advance(WINDOW / 2);
        const first = await t.http.post<{ access_token: string; refresh_token: string }>('/api/v1/auth/refresh', { refresh_token: s.refreshToken });
        assert.equal(first.status, 200, first.text);
        assert.equal(claimsOf(first.body.access_token).auth_time, signedInAt);
        clock.advance(WINDOW / 2 + SECOND);
        const second = await t.http.post<{ access_token: string }>('/api/v1/auth/refresh', { refresh_token: first.body.refresh_token });
        assert.equal(second.status, 200, second.text);
        const fresh = second.body.access_token;
        assert.equal(claimsOf(fresh).auth_time, signedInAt);
        assert.ok(Number(claimsOf(fresh).iat) > Number(signedInAt) + 600, 'the token itself is new');
        assert.equal((await setup(fresh)).body.error, 'reauthentication_required');
        assert.equal((await setup(fresh, { password: s.password })).status, 200);
      });

      it('tokens that prove no password sign-in (SDK tokens through OAuth, session tokens without auth_time) cannot enrol without it', async () => {
        const s = await t.signIn({ role: 'member' });
        const created = await t.http.post<{ refresh_token: string }>('/api/v1/sdk-tokens', { name: 'enrol-attempt' }, { token: s.accessToken });
        assert.equal(created.status, 201, created.text);
        const granted = await t.http.postForm<{ access_token: string }>('/oauth/token', { grant_type: 'refresh_token', client_id: 'aim-sdk', refresh_token: created.body.refresh_token });
        assert.equal(granted.status, 200, granted.text);
        const sdkAccess = granted.body.access_token;
        assert.equal(claimsOf(sdkAccess).kind, 'sdk');
        assert.equal(claimsOf(sdkAccess).auth_time, undefined, 'an SDK token is not a password sign-in');
        // The second-factor routes are a person's session's: an SDK token's access token is refused there outright.
        for (const body of [undefined, { password: s.password }]) {
          const res = await setup(sdkAccess, body);
          assert.equal(res.status, 401, res.text);
          assert.equal(res.body.error, 'invalid_token');
        }

        // A session access token without auth_time (issued before AIM kept it) is an old sign-in, not a fresh one.
        const claims = claimsOf(s.accessToken);
        const legacy = await t.server.services.accessTokens.issue({
          sub: s.id,
          org: s.organizationId,
          kind: 'session',
          scope: String(claims.scope).split(' '),
          sid: String(claims.sid),
          role: 'member',
        });
        assert.equal(claimsOf(legacy.token).auth_time, undefined);
        assert.equal((await setup(legacy.token)).body.error, 'reauthentication_required');
        assert.equal((await setup(legacy.token, { password: s.password })).status, 200);
      });
    });
  });
}

describe('AIM_REQUIRE_ADMIN_MFA', () => {
  const clock = stepClock();
  let t: TestServer;
  let relaxed: TestServer;
  before(async () => {
    t = await startTestServer({ clock, env: { AIM_REQUIRE_ADMIN_MFA: 'true' } });
    relaxed = await startTestServer();
  });
  after(async () => {
    await t.close();
    await relaxed.close();
  });

  it('holds an admin without 2FA back from admin endpoints, but never from enrolling', async () => {
    const admin = await t.signIn({ role: 'admin' });
    const token = admin.accessToken;
    const blocked = await t.http.get('/api/v1/users', { token });
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body.error, 'mfa_enrollment_required');
    const create = await t.http.post('/api/v1/users', { email: 'x@example.test', password: 'long enough password', role: 'member' }, { token });
    assert.equal(create.body.error, 'mfa_enrollment_required');

    // What the admin needs to enrol stays reachable.
    assert.equal((await t.http.get('/api/v1/auth/me', { token })).status, 200);
    const setup = await t.http.post<{ secret: string }>('/api/v1/auth/mfa/totp/setup', undefined, { token });
    assert.equal(setup.status, 200);
    const refreshed = await t.http.post<{ access_token: string }>('/api/v1/auth/refresh', { refresh_token: admin.refreshToken });
    assert.equal(refreshed.status, 200);
    const enable = await t.http.post('/api/v1/auth/mfa/totp/enable', { code: codeAt(setup.body.secret, clock.now()) }, { token: refreshed.body.access_token });
    assert.equal(enable.status, 200);

    // Enrolment takes effect at once, with the same access token.
    assert.equal((await t.http.get('/api/v1/users', { token: refreshed.body.access_token })).status, 200);
    assert.equal((await t.http.post('/api/v1/auth/logout', undefined, { token: refreshed.body.access_token })).status, 200);
  });

  it('a non-admin still gets insufficient_scope, not the enrolment demand', async () => {
    const member = await t.signIn({ role: 'member' });
    const res = await t.http.get('/api/v1/users', { token: member.accessToken });
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'insufficient_scope');
  });

  it('is off by default', async () => {
    const admin = await relaxed.signIn({ role: 'admin' });
    assert.equal((await relaxed.http.get('/api/v1/users', { token: admin.accessToken })).status, 200);
  });
});
