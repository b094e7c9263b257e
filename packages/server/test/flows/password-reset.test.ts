import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { ManualClock, SECOND } from '../../src/core/clock.js';
import type { OrgId } from '../../src/core/ids.js';
import type { HttpResult } from '../support/http.js';
import { startTestServer, type SignedIn, type TestServer, type TestUser } from '../support/server.js';
import { freshAddress } from '../support/world.js';

const TTL = 3600;
const STEP = 30 * SECOND;
const NEW_PASSWORD = 'a brand new long password';

interface Issued {
  user_id: string;
  reset_token: string;
  reset_url: string;
  expires_at: number;
}

function refused<T>(res: HttpResult<T>, status: number, error: string, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.text}`);
  assert.equal(res.body.error, error, what);
  assert.equal(typeof res.body.error_description, 'string', what);
}

/** Admin-made password reset links over HTTP (SQLite): issue, redeem once, expiry, replacement, guards, throttling. */
describe('password reset links', () => {
  const clock = new ManualClock(Math.floor(Date.now() / STEP) * STEP + SECOND);
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    // Each request names its own client address (trusted proxy), so throttling one test's address spares the others.
    t = await startTestServer({ clock, env: { AIM_PASSWORD_RESET_TTL: String(TTL), AIM_TRUST_PROXY: '127.0.0.1' } });
    admin = await t.signIn({ role: 'admin' });
  });
  after(() => t.close());

  const member = () => t.createUser({ role: 'member', organizationId: admin.organizationId });
  const issue = (userId: string, token = admin.accessToken) => t.http.post<Issued>(`/api/v1/users/${userId}/password-reset`, undefined, { token });
  const issued = async (user: TestUser, token = admin.accessToken) => {
    const res = await issue(user.id, token);
    assert.equal(res.status, 201, res.text);
    return res.body;
  };
  const redeem = (token: string, newPassword = NEW_PASSWORD, ip = freshAddress()) =>
    t.http.post<{ email: string; sessions_revoked: number }>('/api/v1/public/password-reset', { token, new_password: newPassword }, { headers: { 'x-forwarded-for': ip } });
  const login = (email: string, password: string, extra: Record<string, string> = {}) =>
    t.http.post<{ access_token: string; refresh_token: string }>('/api/v1/public/login', { email, password, ...extra }, { headers: { 'x-forwarded-for': freshAddress() } });
  const audit = async (subjectId: string) =>
    (await t.server.stores.audit.list({ organizationId: admin.organizationId as OrgId, limit: 1000 }))
      .filter((e) => e.subject_id === subjectId)
      .map((e) => ({ ...e, data: (e.data ?? {}) as Record<string, unknown> }));

  it('an admin makes a link; it sets a new password once, ends the sessions, and both steps are audited', async () => {
    const user = await member();
    const session = await login(user.email, user.password);
    assert.equal(session.status, 200);

    const link = await issued(user);
    assert.equal(link.user_id, user.id);
    assert.match(link.reset_token, /^pr_[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    assert.equal(link.reset_url, `${t.url}/reset-password#token=${link.reset_token}`);
    assert.equal(link.expires_at, clock.now() + TTL * SECOND);

    const done = await redeem(link.reset_token);
    assert.equal(done.status, 200, done.text);
    assert.deepEqual(done.body, { email: user.email, sessions_revoked: 1 });

    refused(await t.http.get('/api/v1/auth/me', { token: session.body.access_token }), 401, 'invalid_token', 'a session from before the reset');
    refused(await login(user.email, user.password), 401, 'invalid_credentials', 'the old password');
    assert.equal((await login(user.email, NEW_PASSWORD)).status, 200, 'the new password');
    refused(await redeem(link.reset_token, 'yet another long password'), 400, 'invalid_grant', 'the same link again');
    refused(await login(user.email, 'yet another long password'), 401, 'invalid_credentials', 'the password of the refused second use');

    const entries = await audit(user.id);
    const issuedEntry = entries.find((e) => e.event === 'user.password_reset_issued');
    assert.equal(issuedEntry?.actor_id, admin.id);
    const resetEntry = entries.find((e) => e.event === 'user.password_reset');
    assert.equal(resetEntry?.actor_id, user.id);
    assert.equal(resetEntry?.data.issued_by, admin.id);
    assert.equal(entries.find((e) => e.event === 'user.password_reset_failed')?.data.reason, 'used');
    assert.ok(entries.some((e) => e.event === 'session.revoked' && e.data.reason === 'password_reset'));
    assert.ok(!JSON.stringify(entries).includes(link.reset_token.split('.')[1]!), 'the secret is not in the audit log');
  });

  it('the link stops working when it expires (injected clock)', async () => {
    const user = await member();
    const link = await issued(user);
    clock.advance(TTL * SECOND);
    refused(await redeem(link.reset_token), 400, 'invalid_grant', 'expired link');
    // The admin's access token expired with it.
    admin = { ...admin, accessToken: (await login(admin.email, admin.password)).body.access_token };
    assert.equal((await audit(user.id)).find((e) => e.event === 'user.password_reset_failed')?.data.reason, 'expired');
    assert.equal((await login(user.email, user.password)).status, 200, 'the password is unchanged');
  });

  it('of 20 concurrent uses of one link exactly one succeeds', async () => {
    const user = await member();
    const link = await issued(user);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => redeem(link.reset_token, `concurrent password number ${i}`)));
    const winners = results.filter((r) => r.status === 200);
    assert.equal(winners.length, 1);
    for (const r of results.filter((r) => r.status !== 200)) refused(r, 400, 'invalid_grant', 'a losing use');
    const winner = results.findIndex((r) => r.status === 200);
    assert.equal((await login(user.email, `concurrent password number ${winner}`)).status, 200);
  });

  it('a new link replaces the earlier one; a forged secret for a real link is refused and audited', async () => {
    const user = await member();
    const first = await issued(user);
    const second = await issued(user);
    refused(await redeem(first.reset_token), 400, 'invalid_grant', 'the replaced link');
    const [prefix] = second.reset_token.split('.');
    refused(await redeem(`${prefix}.${'A'.repeat(43)}`), 400, 'invalid_grant', 'a forged secret');
    assert.equal((await audit(user.id)).find((e) => e.event === 'user.password_reset_failed')?.data.reason, 'invalid_secret');
    assert.equal((await redeem(second.reset_token)).status, 200, 'the newest link still works');
  });

  it('links die with a disable (and stay dead after enabling), a deletion, or a password change by the owner', async () => {
    const disabled = await member();
    const beforeDisable = await issued(disabled);
    assert.equal((await t.http.post(`/api/v1/users/${disabled.id}/disable`, undefined, { token: admin.accessToken })).status, 200);
    refused(await issue(disabled.id), 409, 'conflict', 'a link for a disabled account');
    assert.equal((await t.http.post(`/api/v1/users/${disabled.id}/enable`, undefined, { token: admin.accessToken })).status, 200);
    refused(await redeem(beforeDisable.reset_token), 400, 'invalid_grant', 'a link made before the disable');

    const changer = await member();
    const link = await issued(changer);
    const session = await login(changer.email, changer.password);
    const change = await t.http.post('/api/v1/auth/password', { current_password: changer.password, new_password: 'remembered it after all, long' }, { token: session.body.access_token });
    assert.equal(change.status, 200, change.text);
    refused(await redeem(link.reset_token), 400, 'invalid_grant', 'a link made before the owner changed their password');

    const deleted = await member();
    const doomed = await issued(deleted);
    assert.equal((await t.http.request(`/api/v1/users/${deleted.id}`, { method: 'DELETE', token: admin.accessToken })).status, 200);
    refused(await redeem(doomed.reset_token), 400, 'invalid_grant', 'a link of a deleted account');
  });

  it("a link dies with its maker's admin rights: made by an admin since demoted or disabled, it is refused", async () => {
    for (const cutOff of ['demoted', 'disabled'] as const) {
      const maker = await t.signIn({ role: 'admin', organizationId: admin.organizationId });
      const user = await member();
      const link = await issued(user, maker.accessToken);
      const change =
        cutOff === 'demoted'
          ? await t.http.request(`/api/v1/users/${maker.id}`, { method: 'PATCH', body: { role: 'manager' }, token: admin.accessToken })
          : await t.http.post(`/api/v1/users/${maker.id}/disable`, undefined, { token: admin.accessToken });
      assert.equal(change.status, 200, change.text);
      refused(await redeem(link.reset_token), 400, 'invalid_grant', `a link made by an admin since ${cutOff}`);
      assert.equal((await audit(user.id)).find((e) => e.event === 'user.password_reset_failed')?.data.reason, 'issuer_not_admin');
      assert.equal((await login(user.email, user.password)).status, 200, 'the password is unchanged');
    }
  });

  it('a sign-in whose password was checked before a reset committed gets no session', async () => {
    const user = await member();
    const checked = await t.server.services.users.checkPassword(user.email, user.password);
    assert.ok(checked.ok);
    clock.advance(1); // the reset's password_changed_at is a later millisecond than the account's creation
    assert.equal((await redeem((await issued(user)).reset_token)).status, 200);
    await assert.rejects(
      t.server.services.sessions.startFamily(checked.user, 'session', { name: null, scopes: [], maxAgeMs: 60_000, authTime: clock.now() }, { ip: null, userAgent: null }),
      (error: Error & { code?: string }) => error.code === 'invalid_credentials',
    );
  });

  it('a reset keeps the second factor: sign-in still asks for the TOTP code', async () => {
    const user = await member();
    const s = await login(user.email, user.password);
    const setup = await t.http.post<{ secret: string }>('/api/v1/auth/mfa/totp/setup', undefined, { token: s.body.access_token });
    const code = TOTP.generate({ secret: Secret.fromBase32(setup.body.secret), timestamp: clock.now() });
    assert.equal((await t.http.post('/api/v1/auth/mfa/totp/enable', { code }, { token: s.body.access_token })).status, 200);
    clock.advance(STEP);

    assert.equal((await redeem((await issued(user)).reset_token)).status, 200);
    refused(await login(user.email, NEW_PASSWORD), 401, 'mfa_required', 'the new password alone');
    const next = TOTP.generate({ secret: Secret.fromBase32(setup.body.secret), timestamp: clock.now() });
    assert.equal((await login(user.email, NEW_PASSWORD, { totp_code: next })).status, 200);
  });

  it('only admins make links, for others in their own organization, with a bearer token', async () => {
    const user = await member();
    const manager = await t.signIn({ role: 'manager', organizationId: admin.organizationId });
    refused(await issue(user.id, manager.accessToken), 403, 'insufficient_scope', 'a manager');
    refused(await issue(admin.id), 409, 'conflict', 'an admin for themselves');
    const stranger = await t.createUser({ role: 'member' });
    refused(await issue(stranger.id), 404, 'not_found', 'a user of another organization');
    refused(await issue('00000000-0000-4000-8000-000000000000'), 404, 'not_found', 'an unknown id');
    refused(await issue('not-a-uuid'), 404, 'not_found', 'not an id');
    refused(await t.http.post(`/api/v1/users/${user.id}/password-reset`), 401, 'invalid_token', 'no credentials');
    const key = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'admin-key', scopes: ['admin'] }, { token: admin.accessToken });
    assert.equal(key.status, 201, key.text);
    refused(await t.http.post(`/api/v1/users/${user.id}/password-reset`, undefined, { apiKey: key.body.key }), 401, 'invalid_api_key', 'an admin-scoped API key');
  });

  it('bad input on the public route: 4xx JSON, nothing changed', async () => {
    const user = await member();
    const link = await issued(user);
    const post = (body: unknown) => t.http.post('/api/v1/public/password-reset', body, { headers: { 'x-forwarded-for': freshAddress() } });
    refused(await post({ token: link.reset_token }), 400, 'invalid_request', 'no new_password');
    refused(await post({ new_password: NEW_PASSWORD }), 400, 'invalid_request', 'no token');
    refused(await post({ token: 12, new_password: NEW_PASSWORD }), 400, 'invalid_request', 'a number as token');
    refused(await post({ token: link.reset_token, new_password: ['x'] }), 400, 'invalid_request', 'an array as password');
    refused(await post({ token: link.reset_token, new_password: 'short' }), 400, 'invalid_request', 'a password under the policy');
    refused(await post({ token: link.reset_token, new_password: 'Password123!' }), 400, 'invalid_request', 'a common password');
    const ownEmail = await post({ token: link.reset_token, new_password: `${user.email.split('@')[0]}2026` });
    refused(ownEmail, 400, 'invalid_request', 'the email with a year');
    assert.match(String(ownEmail.body.error_description), /too easy to guess/);
    refused(await post({ token: 'x'.repeat(300), new_password: NEW_PASSWORD }), 400, 'invalid_request', 'an overlong token');
    refused(await post({ token: "pr_' OR 1=1 --", new_password: NEW_PASSWORD }), 400, 'invalid_grant', 'an injection-shaped token');
    const big = await t.http.request('/api/v1/public/password-reset', { method: 'POST', raw: JSON.stringify({ token: 'x'.repeat(1024 * 1024) }), headers: { 'content-type': 'application/json' } });
    refused(big, 413, 'payload_too_large', 'a 1 MB body');
    assert.equal((await redeem(link.reset_token)).status, 200, 'the link survived all of it');
  });

  it('guessing links from one address is slowed like sign-in (20 free failures, then 429 with Retry-After)', async () => {
    const ip = freshAddress();
    for (let i = 0; i < 20; i++) refused(await redeem(`pr_${'0'.repeat(8)}-0000-4000-8000-${String(i).padStart(12, '0')}.${'A'.repeat(43)}`, NEW_PASSWORD, ip), 400, 'invalid_grant', `guess ${i}`);
    const user = await member();
    const link = await issued(user);
    const throttled = await redeem(link.reset_token, NEW_PASSWORD, ip);
    refused(throttled, 429, 'rate_limited', 'the 21st attempt, even with a real link');
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
    assert.equal((await redeem(link.reset_token)).status, 200, 'another address is not slowed');
  });

  it('the database keeps only a hash of the link', async () => {
    const link = await issued(await member());
    const secret = link.reset_token.split('.')[1]!;
    // The database file and its write-ahead log, byte for byte.
    const dir = t.database.dataDir;
    const stored = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n');
    assert.ok(stored.includes(link.user_id), 'the scan reads the data the store wrote');
    assert.ok(!stored.includes(secret), 'the SQLite file does not hold the secret');
    assert.ok(!t.logs.text().includes(secret), 'the logs do not hold the secret');
  });
});

/** On PostgreSQL, where writers run side by side: races between a link and the account it is for. */
describe('password reset links racing account changes (postgres)', () => {
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    t = await startTestServer({ store: 'postgres', env: { AIM_TRUST_PROXY: '127.0.0.1' } });
    admin = await t.signIn({ role: 'admin' });
  });
  after(() => t.close());

  const member = () => t.createUser({ role: 'member', organizationId: admin.organizationId });
  const issue = (userId: string) => t.http.post<Issued>(`/api/v1/users/${userId}/password-reset`, undefined, { token: admin.accessToken });
  const redeem = (token: string) =>
    t.http.post('/api/v1/public/password-reset', { token, new_password: NEW_PASSWORD }, { headers: { 'x-forwarded-for': freshAddress() } });
  const disable = (userId: string) => t.http.post(`/api/v1/users/${userId}/disable`, undefined, { token: admin.accessToken });
  const enable = (userId: string) => t.http.post(`/api/v1/users/${userId}/enable`, undefined, { token: admin.accessToken });

  it('using a link while the account is disabled: never a 500, and the password the answers imply is the one that works', async () => {
    for (let i = 0; i < 6; i++) {
      const user = await member();
      const link = await issue(user.id);
      assert.equal(link.status, 201);
      const [used, disabled] = await Promise.all([redeem(link.body.reset_token), disable(user.id)]);
      assert.equal(disabled.status, 200, disabled.text);
      assert.ok([200, 400].includes(used.status), `round ${i}: ${used.status} ${used.text}`);
      assert.equal((await enable(user.id)).status, 200);
      const login = await t.http.post('/api/v1/public/login', { email: user.email, password: used.status === 200 ? NEW_PASSWORD : user.password }, { headers: { 'x-forwarded-for': freshAddress() } });
      assert.equal(login.status, 200, `round ${i}: the password the answers imply works`);
    }
  });

  it('making a link while the account is disabled: the link never outlives the disable', async () => {
    for (let i = 0; i < 6; i++) {
      const user = await member();
      const [made, disabled] = await Promise.all([issue(user.id), disable(user.id)]);
      assert.equal(disabled.status, 200, disabled.text);
      assert.ok([201, 409].includes(made.status), `round ${i}: ${made.status} ${made.text}`);
      assert.equal((await enable(user.id)).status, 200);
      if (made.status === 201) refused(await redeem(made.body.reset_token), 400, 'invalid_grant', `round ${i}: a link made during the disable`);
    }
  });
});
