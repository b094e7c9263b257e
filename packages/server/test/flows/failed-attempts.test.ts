import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { ManualClock, SECOND } from '../../src/core/clock.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

// Failed password and code checks: who sees them in the audit log, and which routes the login throttle covers.
const STEP = 30 * SECOND;
const WRONG = 'not the password, sorry';
const codeAt = (secret: string, ms: number) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: ms });
/** A code that is not the current one (nor, with ±1 step of drift, any accepted one). */
const wrongCode = (secret: string, ms: number) => {
  const accepted = new Set([-1, 0, 1].map((d) => codeAt(secret, ms + d * STEP)));
  return ['000000', '111111', '222222', '333333'].find((c) => !accepted.has(c))!;
};

interface Entry {
  event: string;
  actor_type: string;
  actor_id: string | null;
  subject_id: string | null;
  ip: string | null;
  data: Record<string, unknown>;
}

let addressCounter = 0;
const nextAddress = () => `198.18.${Math.floor(++addressCounter / 250)}.${addressCounter % 250}`;

for (const backend of ['memory', 'redis'] as const) {
  describe(`failed password and code checks (${backend} counters)`, () => {
    const clock = new ManualClock(Math.floor(Date.now() / STEP) * STEP + SECOND);
    let t: TestServer;
    let admin: SignedIn;
    before(async () => {
      t = await startTestServer({
        clock,
        sharedState: backend,
        env: {
          // Requests per address are not under test here.
          AIM_RATE_LIMIT_PUBLIC: '100000',
          AIM_TRUST_PROXY: '127.0.0.1',
        },
      });
      admin = await t.signIn({ role: 'admin' });
    });
    after(() => t.close());

    const login = (email: string, password: string, address = nextAddress(), extra: Record<string, unknown> = {}) =>
      t.http.post('/api/v1/public/login', { email, password, ...extra }, { headers: { 'x-forwarded-for': address } });
    /** The caller's organization's entries of one event, newest first, through the public API. */
    async function entries(token: string, event: string): Promise<Entry[]> {
      const res = await t.http.get<{ entries: Entry[] }>(`/api/v1/audit-logs?event=${event}&limit=200`, { token });
      assert.equal(res.status, 200, res.text);
      return res.body.entries;
    }
    /** Admins' tokens live 15 minutes; the clock here jumps, so sign in afresh when reading the log. */
    async function adminToken(): Promise<string> {
      const res = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: admin.email, password: admin.password });
      assert.equal(res.status, 200, res.text);
      return res.body.access_token;
    }
    async function enrol(user: SignedIn): Promise<string> {
      const setup = await t.http.post<{ secret: string }>('/api/v1/auth/mfa/totp/setup', undefined, { token: user.accessToken });
      assert.equal(setup.status, 200, setup.text);
      const enable = await t.http.post('/api/v1/auth/mfa/totp/enable', { code: codeAt(setup.body.secret, clock.now()) }, { token: user.accessToken });
      assert.equal(enable.status, 200, enable.text);
      clock.advance(STEP);
      return setup.body.secret;
    }

    it("a wrong password for an existing account is audited in its organization, for its admins; an unknown email only in the system chain", async () => {
      const victim = await t.createUser({ role: 'member', organizationId: admin.organizationId });
      const stranger = await t.signIn({ role: 'admin' });
      assert.equal((await login(victim.email, WRONG, '203.0.113.9')).status, 401);
      const ghost = `ghost-${Date.now()}@example.test`;
      assert.equal((await login(ghost, WRONG, '203.0.113.10')).status, 401);

      const token = await adminToken();
      const mine = (await entries(token, 'session.login_failed')).filter((e) => e.subject_id === victim.id);
      assert.equal(mine.length, 1);
      assert.equal(mine[0]!.actor_type, 'anonymous');
      assert.equal(mine[0]!.ip, '203.0.113.9');
      assert.deepEqual(mine[0]!.data, { email: victim.email, reason: 'invalid_credentials' });
      assert.ok(!JSON.stringify(mine).includes(WRONG), 'never the password');
      assert.ok(!JSON.stringify(await entries(token, 'session.login_failed')).includes(ghost), 'unknown emails stay out of organizations');
      assert.ok(!JSON.stringify(await entries(stranger.accessToken, 'session.login_failed')).includes(victim.email), 'other organizations see nothing');

      const system = await t.server.stores.audit.list({ organizationId: 'system', event: 'session.login_failed', limit: 200 });
      assert.ok(system.some((e) => (e.data as { email?: string }).email === ghost), 'the unknown email is in the system chain');
      assert.ok(!system.some((e) => (e.data as { email?: string }).email === victim.email), 'one entry per failure, in the account organization only');
      assert.equal((await t.http.get<{ valid: boolean }>('/api/v1/audit-logs/verify', { token })).body.valid, true);
    });

    it('a correct password for a disabled account is audited as account_disabled', async () => {
      const member = await t.createUser({ role: 'member', organizationId: admin.organizationId });
      const disabled = await t.http.post(`/api/v1/users/${member.id}/disable`, undefined, { token: await adminToken() });
      assert.equal(disabled.status, 200, disabled.text);
      assert.equal((await login(member.email, member.password)).body.error, 'invalid_credentials');
      const [entry] = (await entries(await adminToken(), 'session.login_failed')).filter((e) => e.subject_id === member.id);
      assert.equal(entry?.data.reason, 'account_disabled');
    });

    it('2FA at sign-in: a missing code, a wrong code and throttled attempts are audited in the organization, never the codes', async () => {
      const member = await t.signIn({ role: 'member', organizationId: admin.organizationId });
      const secret = await enrol(member);
      const address = nextAddress();
      assert.equal((await login(member.email, member.password, address)).body.error, 'mfa_required');
      const wrong = wrongCode(secret, clock.now());
      for (let i = 0; i < 5; i++) assert.equal((await login(member.email, member.password, address, { totp_code: wrong })).status, 401);
      for (let i = 0; i < 5; i++) assert.equal((await login(member.email, member.password, address, { totp_code: wrong })).status, 429);

      const token = await adminToken();
      const failed = (await entries(token, 'session.login_failed')).filter((e) => e.subject_id === member.id);
      const reasons = failed.map((e) => e.data.reason);
      assert.equal(reasons.filter((r) => r === 'totp_missing').length, 1);
      assert.equal(reasons.filter((r) => r === 'invalid_totp').length, 5);
      assert.equal(reasons.filter((r) => r === 'throttled').length, 1, 'refusals are audited once a minute, not each');
      assert.ok(failed.every((e) => e.ip === address));
      const mfa = (await entries(token, 'mfa.verification_failed')).filter((e) => e.subject_id === member.id);
      assert.equal(mfa.length, 5);
      assert.deepEqual(mfa[0]!.data, { during: 'login', reason: 'invalid_code' });
      assert.ok(!JSON.stringify([...failed, ...mfa]).includes(wrong), 'never the code');

      clock.advance(60 * SECOND);
      assert.equal((await login(member.email, member.password, address, { totp_code: wrong })).status, 401, 'one guess after the wait');
      assert.equal((await login(member.email, member.password, address, { totp_code: wrong })).status, 429);
      const again = (await entries(await adminToken(), 'session.login_failed')).filter((e) => e.subject_id === member.id && e.data.reason === 'throttled');
      assert.equal(again.length, 2, 'a new minute, a new entry');
    });

    it('an unknown email is throttled like a real one, and its refusals are audited once, in the system chain', async () => {
      const ghost = `ghost-throttled-${Date.now()}@example.test`;
      for (let i = 0; i < 5; i++) assert.equal((await login(ghost, WRONG)).status, 401);
      for (let i = 0; i < 3; i++) assert.equal((await login(ghost, WRONG)).status, 429);
      const system = await t.server.stores.audit.list({ organizationId: 'system', event: 'session.login_failed', limit: 200 });
      const reasons = system.filter((e) => (e.data as { email?: string }).email === ghost).map((e) => (e.data as { reason: string }).reason);
      assert.deepEqual(reasons.sort(), ['invalid_credentials', 'invalid_credentials', 'invalid_credentials', 'invalid_credentials', 'invalid_credentials', 'throttled']);
    });

    it('changing the password: wrong current passwords are throttled like sign-ins (one budget with them) and audited', async () => {
      const member = await t.signIn({ role: 'member', organizationId: admin.organizationId });
      const change = (current: string, address = '192.0.2.44') =>
        t.http.post('/api/v1/auth/password', { current_password: current, new_password: 'a brand new passphrase' }, {
          token: member.accessToken,
          headers: { 'x-forwarded-for': address },
        });
      for (let i = 0; i < 5; i++) {
        const res = await change(WRONG);
        assert.equal(res.status, 401, `free attempt ${i + 1}`);
        assert.equal(res.body.error, 'invalid_credentials');
      }
      const refused = await change(WRONG);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error, 'rate_limited');
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal((await change(member.password)).status, 429, 'even the right password waits: no oracle');
      assert.equal((await login(member.email, WRONG)).status, 429, 'sign-in shares the account budget');

      const token = await adminToken();
      const failed = (await entries(token, 'user.password_change_failed')).filter((e) => e.subject_id === member.id);
      assert.deepEqual(failed.map((e) => e.data.reason).sort(), [...Array(5).fill('invalid_current_password'), 'throttled']);
      assert.ok(failed.every((e) => e.actor_id === member.id && e.ip === '192.0.2.44'));
      assert.ok(!JSON.stringify(failed).includes(WRONG) && !JSON.stringify(failed).includes(member.password));

      clock.advance(SECOND);
      const changed = await change(member.password);
      assert.equal(changed.status, 200, changed.text);
      assert.equal((await login(member.email, 'a brand new passphrase')).status, 200, 'the success gave the account its attempts back');
    });

    it('wrong current passwords count toward failed_logins together with failed sign-ins', async () => {
      const member = await t.signIn({ role: 'member', organizationId: admin.organizationId });
      let failures = 0;
      for (let i = 0; i < 5; i++) {
        const res = await t.http.post('/api/v1/auth/password', { current_password: WRONG, new_password: 'whatever whatever' }, { token: member.accessToken });
        assert.equal(res.status, 401);
        failures += 1;
      }
      while (failures < 10) {
        const res = await login(member.email, WRONG);
        if (res.status === 429) clock.advance(Number(res.headers.get('retry-after')) * SECOND);
        else failures += 1;
      }
      const alerts = await t.http.get<{ alerts: Array<{ principal: { id: string }; evidence: Record<string, unknown> }> }>('/api/v1/alerts?type=failed_logins', {
        token: await adminToken(),
      });
      const alert = alerts.body.alerts.find((a) => a.principal.id === member.id);
      assert.ok(alert, 'raised');
      assert.equal(alert.evidence.failures, 10);
    });

    it('the password given to enrol 2FA after AIM_REAUTH_WINDOW: throttled like sign-ins, audited, counted toward failed_logins', async () => {
      const member = await t.signIn({ role: 'member', organizationId: admin.organizationId });
      clock.advance(601 * SECOND);
      const setup = (password: string, address = '192.0.2.45') =>
        t.http.post('/api/v1/auth/mfa/totp/setup', { password }, { token: member.accessToken, headers: { 'x-forwarded-for': address } });
      for (let i = 0; i < 5; i++) {
        const res = await setup(WRONG);
        assert.equal(res.status, 401, `free attempt ${i + 1}`);
        assert.equal(res.body.error, 'invalid_credentials');
      }
      assert.equal((await setup(member.password)).status, 429, 'even the right password waits: no oracle');
      assert.equal((await login(member.email, WRONG)).status, 429, 'sign-in shares the account budget');
      const failed = (await entries(await adminToken(), 'user.reauthentication_failed')).filter((e) => e.subject_id === member.id);
      assert.deepEqual(failed.map((e) => e.data.reason).sort(), [...Array(5).fill('invalid_password'), 'throttled']);
      assert.ok(failed.every((e) => e.actor_id === member.id && e.ip === '192.0.2.45' && e.data.step === 'totp_setup'));

      let failures = 5;
      while (failures < 10) {
        const res = await login(member.email, WRONG);
        if (res.status === 429) clock.advance(Number(res.headers.get('retry-after')) * SECOND);
        else failures += 1;
      }
      const alerts = await t.http.get<{ alerts: Array<{ principal: { id: string }; evidence: Record<string, unknown> }> }>('/api/v1/alerts?type=failed_logins', {
        token: await adminToken(),
      });
      assert.equal(alerts.body.alerts.find((a) => a.principal.id === member.id)?.evidence.failures, 10, 'raised at the 10th failure');
    });

    it('TOTP disable and enable codes are throttled per user, sharing the sign-in budget, and audited', async () => {
      const member = await t.signIn({ role: 'member', organizationId: admin.organizationId });
      const secret = await enrol(member);
      const disable = (code: string) => t.http.post('/api/v1/auth/mfa/totp/disable', { code }, { token: member.accessToken });
      const wrong = wrongCode(secret, clock.now());
      for (let i = 0; i < 5; i++) assert.equal((await disable(wrong)).status, 401, `free attempt ${i + 1}`);
      const refused = await disable(codeAt(secret, clock.now()));
      assert.equal(refused.status, 429, 'even the right code waits');
      assert.equal(refused.headers.get('retry-after'), '1');
      const signIn = await login(member.email, member.password, nextAddress(), { totp_code: codeAt(secret, clock.now()) });
      assert.equal(signIn.status, 429, 'codes at sign-in share the per-user budget');

      const failed = (await entries(await adminToken(), 'mfa.verification_failed')).filter((e) => e.subject_id === member.id);
      assert.deepEqual(failed.map((e) => `${String(e.data.during)}:${String(e.data.reason)}`).sort(), [...Array(5).fill('disable:invalid_code'), 'disable:throttled']);
      clock.advance(SECOND);
      assert.equal((await disable(codeAt(secret, clock.now()))).status, 200);

      // Enabling again: a wrong code for the pending secret is throttled the same way.
      const setup = await t.http.post<{ secret: string }>('/api/v1/auth/mfa/totp/setup', undefined, { token: member.accessToken });
      const enable = (code: string) => t.http.post('/api/v1/auth/mfa/totp/enable', { code }, { token: member.accessToken });
      const wrongForNew = wrongCode(setup.body.secret, clock.now());
      for (let i = 0; i < 5; i++) assert.equal((await enable(wrongForNew)).status, 401, `enable attempt ${i + 1}`);
      assert.equal((await enable(codeAt(setup.body.secret, clock.now()))).status, 429);
      clock.advance(SECOND);
      assert.equal((await enable(codeAt(setup.body.secret, clock.now()))).status, 200);

      // New recovery codes need a current code: guessed the same way, throttled the same way.
      clock.advance(30 * SECOND); // the next TOTP step
      const regenerate = (code: string) => t.http.post('/api/v1/auth/mfa/recovery-codes', { code }, { token: member.accessToken });
      const wrongNow = wrongCode(setup.body.secret, clock.now());
      for (let i = 0; i < 5; i++) assert.equal((await regenerate(wrongNow)).status, 401, `regenerate attempt ${i + 1}`);
      assert.equal((await regenerate(codeAt(setup.body.secret, clock.now()))).status, 429, 'even the right code waits');
      const during = (await entries(await adminToken(), 'mfa.verification_failed')).filter((e) => e.subject_id === member.id && e.data.during === 'regenerate_recovery_codes');
      assert.deepEqual(during.map((e) => e.data.reason), Array(5).fill('invalid_code'), 'the wrong codes are audited (throttled refusals at most once a minute)');
    });
  });
}
