import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { ManualClock, SECOND } from '../../src/core/clock.js';
import type { OrgId } from '../../src/core/ids.js';
import { cookieHeader, setCookies } from '../support/cookies.js';
import type { HttpResult } from '../support/http.js';
import { startTestServer, type SignedIn, type TestServer, type TestUser } from '../support/server.js';

const STEP = 30 * SECOND;
/** An authenticator app: codes computed by the otpauth library, not by AIM's own code. */
const codeAt = (secret: string, ms: number) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: ms });

interface ListedUser {
  id: string;
  email: string;
  role: string;
  status: 'active' | 'disabled';
  disabled_at: number | null;
  mfa_enabled: boolean;
}

function refused(res: HttpResult, status: number, error: string, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.text}`);
  assert.equal(res.body.error, error, what);
  assert.equal(typeof res.body.error_description, 'string', what);
}

/** Offboarding and account recovery, over HTTP on SQLite: disable, enable, delete, 2FA reset, new recovery codes. */
describe('user lifecycle', () => {
  // At the start of a time step, so the test decides when TOTP steps change.
  const clock = new ManualClock(Math.floor(Date.now() / STEP) * STEP + SECOND);
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    t = await startTestServer({ clock });
    admin = await t.signIn({ role: 'admin' });
  });
  after(() => t.close());

  const auth = () => ({ token: admin.accessToken });
  const login = (user: TestUser, totpCode?: string) =>
    t.http.post<{ access_token: string; refresh_token: string }>('/api/v1/public/login', {
      email: user.email,
      password: user.password,
      ...(totpCode !== undefined && { totp_code: totpCode }),
    });
  const signIn = async (user: TestUser) => {
    const res = await login(user);
    assert.equal(res.status, 200, res.text);
    return { accessToken: res.body.access_token, refreshToken: res.body.refresh_token };
  };
  const member = (role: 'member' | 'admin' | 'manager' | 'viewer' = 'member') => t.createUser({ role, organizationId: admin.organizationId });
  const listed = async (id: string) => {
    const res = await t.http.get<{ users: ListedUser[] }>('/api/v1/users', auth());
    assert.equal(res.status, 200);
    return res.body.users.find((u) => u.id === id);
  };
  const events = async (subjectId: string) =>
    (await t.server.stores.audit.list({ organizationId: admin.organizationId as OrgId, limit: 1000 }))
      .filter((e) => e.subject_id === subjectId)
      .map((e) => e.event);

  /** Everything a person can hold: a session, a web session, an SDK token (and its access token), an API key. */
  async function credentialsOf(user: TestUser) {
    const session = await signIn(user);
    const webRes = await t.http.post('/api/v1/public/login', { email: user.email, password: user.password }, { headers: { 'x-aim-client': 'web' } });
    assert.equal(webRes.status, 200);
    const cookies = setCookies(webRes.headers);
    const web = { rt: cookies.get('aim_rt')!.value, csrf: cookies.get('aim_csrf')!.value };
    const sdk = await t.http.post<{ refresh_token: string }>('/api/v1/sdk-tokens', { name: 'laptop' }, { token: session.accessToken });
    assert.equal(sdk.status, 201, sdk.text);
    const exchanged = await t.http.request<{ access_token: string; refresh_token: string }>('/oauth/token', {
      method: 'POST',
      raw: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sdk.body.refresh_token, client_id: 'aim-sdk' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(exchanged.status, 200, exchanged.text);
    const key = await t.http.post<{ id: string; key: string }>('/api/v1/api-keys', { name: 'ci', scopes: ['agents:read'] }, { token: session.accessToken });
    assert.equal(key.status, 201, key.text);
    return { session, web, sdkAccess: exchanged.body.access_token, sdkRefresh: exchanged.body.refresh_token, apiKey: key.body };
  }

  async function assertAllStopped(c: Awaited<ReturnType<typeof credentialsOf>>) {
    refused(await t.http.get('/api/v1/auth/me', { token: c.session.accessToken }), 401, 'invalid_token', 'issued access token');
    refused(await t.http.post('/api/v1/auth/refresh', { refresh_token: c.session.refreshToken }), 401, 'invalid_token', 'session refresh');
    const web = await t.http.post('/api/v1/auth/refresh', {}, { headers: { cookie: cookieHeader({ aim_rt: c.web.rt, aim_csrf: c.web.csrf }), 'x-csrf-token': c.web.csrf } });
    assert.equal(web.status, 401, `web session: ${web.text}`);
    refused(await t.http.get('/api/v1/agents', { token: c.sdkAccess }), 401, 'invalid_token', 'SDK access token');
    const sdk = await t.http.request('/oauth/token', {
      method: 'POST',
      raw: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.sdkRefresh, client_id: 'aim-sdk' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(sdk.status, 400, `SDK refresh: ${sdk.text}`);
    assert.equal(sdk.body.error, 'invalid_grant');
    refused(await t.http.get('/api/v1/agents', { apiKey: c.apiKey.key }), 401, 'invalid_api_key', 'API key');
  }

  /** Signs in, sets up and enables TOTP; moves the clock past the enabling code's step. */
  async function enrol(user: TestUser) {
    const s = await signIn(user);
    const setup = await t.http.post<{ secret: string }>('/api/v1/auth/mfa/totp/setup', undefined, { token: s.accessToken });
    assert.equal(setup.status, 200, setup.text);
    const enable = await t.http.post<{ recovery_codes: string[] }>('/api/v1/auth/mfa/totp/enable', { code: codeAt(setup.body.secret, clock.now()) }, { token: s.accessToken });
    assert.equal(enable.status, 200, enable.text);
    clock.advance(STEP);
    return { ...s, secret: setup.body.secret, recoveryCodes: enable.body.recovery_codes };
  }

  it('disable: every credential stops at once, login answers exactly as a wrong password, the list shows the status', async () => {
    const user = await member();
    const c = await credentialsOf(user);
    assert.equal((await listed(user.id))?.status, 'active');

    const res = await t.http.post<ListedUser & { revoked: { sessions: number; api_keys: number } }>(`/api/v1/users/${user.id}/disable`, undefined, auth());
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'disabled');
    assert.equal(typeof res.body.disabled_at, 'number');
    assert.deepEqual(res.body.revoked, { sessions: 3, api_keys: 1 });
    await assertAllStopped(c);

    const disabledLogin = await login(user);
    const wrongPassword = await login({ ...user, password: `${user.password}-wrong` });
    const unknown = await login({ ...user, email: `nobody-${user.id}@example.test` });
    for (const other of [wrongPassword, unknown]) {
      assert.equal(disabledLogin.status, other.status);
      assert.deepEqual(disabledLogin.body, other.body, 'no oracle: the same answer as a wrong password');
    }
    refused(disabledLogin, 401, 'invalid_credentials', 'disabled login');

    const row = await listed(user.id);
    assert.equal(row?.status, 'disabled');
    assert.equal(row?.disabled_at, res.body.disabled_at);
    // Disabling twice changes nothing and records nothing more.
    assert.equal((await t.http.post(`/api/v1/users/${user.id}/disable`, undefined, auth())).status, 200);
    const recorded = await events(user.id);
    assert.equal(recorded.filter((e) => e === 'user.disabled').length, 1);
    assert.ok(recorded.includes('session.revoked'));
    const keyEvents = await events(c.apiKey.id);
    assert.ok(keyEvents.includes('api_key.revoked'));
    const keyState = await t.http.get<{ api_keys: Array<{ id: string; status: string }> }>('/api/v1/api-keys', auth());
    assert.equal(keyState.body.api_keys.find((k) => k.id === c.apiKey.id)?.status, 'revoked');
  });

  it('disable: a key the user made by rotating someone else\'s stops, and so does the key it replaced, though in grace', async () => {
    const owner = await member();
    const rotator = await member();
    const ownerSession = await signIn(owner);
    const original = await t.http.post<{ id: string; key: string }>('/api/v1/api-keys', { name: 'shared ci', scopes: ['agents:read'] }, { token: ownerSession.accessToken });
    assert.equal(original.status, 201, original.text);
    const rotated = await t.http.post<{ id: string; key: string }>(`/api/v1/api-keys/${original.body.id}/rotate`, undefined, { token: (await signIn(rotator)).accessToken });
    assert.equal(rotated.status, 201, rotated.text);
    assert.equal((await t.http.get('/api/v1/agents', { apiKey: original.body.key })).status, 200, 'the replaced key is in its grace');

    const res = await t.http.post<{ revoked: { api_keys: number } }>(`/api/v1/users/${rotator.id}/disable`, undefined, auth());
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.revoked.api_keys, 1, 'counts the keys the user made');
    refused(await t.http.get('/api/v1/agents', { apiKey: rotated.body.key }), 401, 'invalid_api_key', 'successor');
    refused(await t.http.get('/api/v1/agents', { apiKey: original.body.key }), 401, 'invalid_api_key', 'replaced key in grace');
    const ended = (await t.server.stores.audit.list({ organizationId: admin.organizationId as OrgId, limit: 1000 })).find(
      (e) => e.subject_id === original.body.id && e.event === 'api_key.revoked',
    );
    const { reason, replaced_by } = ended?.data as Record<string, unknown>;
    assert.deepEqual({ reason, replaced_by }, { reason: 'successor_revoked', replaced_by: rotated.body.id });
  });

  it('a role that loses scopes ends every credential issued under the old one; a promotion ends nothing', async () => {
    const user = await member('manager');
    const c = await credentialsOf(user);
    type Changed = { role: string; revoked: { sessions: number; api_keys: number } };
    const setRole = (role: string) => t.http.request<Changed>(`/api/v1/users/${user.id}`, { method: 'PATCH', body: { role }, ...auth() });
    const promoted = await setRole('admin');
    assert.equal(promoted.status, 200, promoted.text);
    assert.deepEqual([promoted.body.role, promoted.body.revoked], ['admin', { sessions: 0, api_keys: 0 }]);
    assert.equal((await t.http.get('/api/v1/auth/me', { token: c.session.accessToken })).status, 200, 'a promotion keeps the session');

    const demoted = await setRole('viewer');
    assert.equal(demoted.status, 200, demoted.text);
    assert.deepEqual([demoted.body.role, demoted.body.revoked], ['viewer', { sessions: 3, api_keys: 1 }]);
    await assertAllStopped(c);
    const fresh = await signIn(user);
    const me = await t.http.get<{ role: string }>('/api/v1/auth/me', { token: fresh.accessToken });
    assert.equal(me.body.role, 'viewer', 'signing in again gives the new role');
    assert.equal((await t.http.post('/api/v1/api-keys', { name: 'no longer allowed' }, { token: fresh.accessToken })).status, 403);
  });

  it('an API key being created while its creator is demoted does not keep the old role\'s scopes', async () => {
    const user = await member('manager');
    const session = await signIn(user);
    // The demotion lands after the create request checked the creator's role, before its key is written.
    const hub = t.server.stores;
    const original = hub.transaction;
    let demoted: Promise<HttpResult> | undefined;
    hub.transaction = async (fn) => {
      if (!demoted) {
        demoted = t.http.request(`/api/v1/users/${user.id}`, { method: 'PATCH', body: { role: 'viewer' }, ...auth() });
        hub.transaction = original;
        assert.equal((await demoted).status, 200);
      }
      return original(fn);
    };
    try {
      const created = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'racing' }, { token: session.accessToken });
      assert.ok(demoted, 'the race was staged');
      if (created.status === 201) {
        const used = await t.http.get('/api/v1/agents', { headers: { 'x-api-key': created.body.key } });
        assert.equal(used.status, 401, 'a key written after the demotion is revoked with the others');
      } else {
        assert.equal(created.status, 403, created.text);
      }
    } finally {
      hub.transaction = original;
    }
  });

  it('a demotion racing a promotion still ends the sessions issued under the higher role', async () => {
    const user = await member('viewer');
    const setRole = (role: string) => t.http.request(`/api/v1/users/${user.id}`, { method: 'PATCH', body: { role }, ...auth() });
    // The demotion to viewer reads the user while still a viewer; a promotion and an admin sign-in land before it writes.
    const hub = t.server.stores;
    const original = hub.transaction;
    let promotedSession: { accessToken: string } | undefined;
    hub.transaction = async (fn) => {
      hub.transaction = original;
      assert.equal((await setRole('admin')).status, 200);
      promotedSession = await signIn(user);
      return original(fn);
    };
    try {
      const demoted = await setRole('viewer');
      assert.equal(demoted.status, 200, demoted.text);
    } finally {
      hub.transaction = original;
    }
    assert.ok(promotedSession, 'the race was staged');
    const me = await t.http.get('/api/v1/auth/me', { token: promotedSession.accessToken });
    assert.equal(me.status, 401, 'the admin session ends with the demotion');
  });

  it('a sign-in racing a demotion gets the new role, not the one its password check saw', async () => {
    const user = await member('admin');
    // The demotion commits (and revokes) after the password was checked, before the session is written.
    const hub = t.server.stores;
    const original = hub.transaction;
    let staged = false;
    hub.transaction = async (fn) => {
      hub.transaction = original;
      staged = true;
      const demoted = await t.http.request(`/api/v1/users/${user.id}`, { method: 'PATCH', body: { role: 'viewer' }, ...auth() });
      assert.equal(demoted.status, 200, demoted.text);
      return original(fn);
    };
    let session: { accessToken: string };
    try {
      session = await signIn(user);
    } finally {
      hub.transaction = original;
    }
    assert.ok(staged, 'the race was staged');
    const me = await t.http.get<{ role: string }>('/api/v1/auth/me', { token: session.accessToken });
    assert.equal(me.body.role, 'viewer');
    assert.equal((await t.http.get('/api/v1/users', { token: session.accessToken })).status, 403, 'no admin scope after the demotion');
  });

  it('enable: login works again, and what was revoked stays revoked', async () => {
    const user = await member();
    const c = await credentialsOf(user);
    assert.equal((await t.http.post(`/api/v1/users/${user.id}/disable`, undefined, auth())).status, 200);
    const res = await t.http.post<ListedUser>(`/api/v1/users/${user.id}/enable`, undefined, auth());
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'active');
    assert.equal(res.body.disabled_at, null);
    await assertAllStopped(c);
    const fresh = await signIn(user);
    assert.equal((await t.http.get('/api/v1/auth/me', { token: fresh.accessToken })).status, 200);
    assert.ok((await events(user.id)).includes('user.enabled'));
  });

  it('delete: works with API keys, SDK tokens and 2FA; every credential stops; the email can be used again; audit keeps the ids', async () => {
    const user = await member();
    const c = await credentialsOf(user);
    await enrol(user);

    const res = await t.http.request<{ id: string; deleted: boolean; revoked: { sessions: number; api_keys: number } }>(`/api/v1/users/${user.id}`, { method: 'DELETE', ...auth() });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.deleted, true);
    assert.equal(res.body.revoked.api_keys, 1);
    await assertAllStopped(c);
    assert.equal(await listed(user.id), undefined);
    refused(await login(user), 401, 'invalid_credentials', 'deleted login');
    for (const path of [`/api/v1/users/${user.id}/disable`, `/api/v1/users/${user.id}/enable`, `/api/v1/users/${user.id}/mfa/reset`]) {
      refused(await t.http.post(path, undefined, auth()), 404, 'not_found', path);
    }
    refused(await t.http.request(`/api/v1/users/${user.id}`, { method: 'DELETE', ...auth() }), 404, 'not_found', 'deleted twice');
    refused(await t.http.request(`/api/v1/users/${user.id}`, { method: 'PATCH', body: { role: 'viewer' }, ...auth() }), 404, 'not_found', 'PATCH a deleted user');

    // Nothing secret is left: no TOTP secret, no recovery code, no password hash.
    assert.equal(await t.server.stores.mfa.findTotp(user.id as never), undefined);
    const row = await t.server.database.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
    assert.equal(row.password_hash, '');
    assert.notEqual(row.email, user.email.toLowerCase());

    const again = await t.http.post<{ id: string }>('/api/v1/users', { email: user.email, password: 'a-new-long-passphrase', role: 'viewer' }, auth());
    assert.equal(again.status, 201, again.text);
    assert.notEqual(again.body.id, user.id);
    assert.equal((await login({ ...user, password: 'a-new-long-passphrase' })).status, 200);

    const entries = await t.server.stores.audit.list({ organizationId: admin.organizationId as OrgId, limit: 1000 });
    const deleted = entries.find((e) => e.event === 'user.deleted' && e.subject_id === user.id);
    assert.equal(deleted?.actor_id, admin.id);
    assert.ok(entries.some((e) => e.event === 'user.created' && e.subject_id === user.id), 'earlier entries about the user stay');
    assert.ok(entries.some((e) => e.actor_id === user.id), 'entries the user made keep their id');
    const verify = await t.http.get<{ valid: boolean }>('/api/v1/audit-logs/verify', auth());
    assert.equal(verify.body.valid, true);
  });

  it('guards: no admin disables or deletes themselves; the last active admin is never disabled, deleted or demoted', async () => {
    refused(await t.http.post(`/api/v1/users/${admin.id}/disable`, undefined, auth()), 409, 'conflict', 'disable self');
    refused(await t.http.request(`/api/v1/users/${admin.id}`, { method: 'DELETE', ...auth() }), 409, 'conflict', 'delete self');

    // Its own organization: A and B are its admins. B is demoted: the token B held as an admin stops with it, so no
    // one is left over HTTP who could shut A out (the guard against two admins racing is in the store contract suite).
    const a = await t.signIn({ role: 'admin' });
    const b = await t.createUser({ role: 'admin', organizationId: a.organizationId });
    const bSession = await signIn(b);
    assert.equal((await t.http.request(`/api/v1/users/${b.id}`, { method: 'PATCH', body: { role: 'member' }, token: a.accessToken })).status, 200);
    const asB = { token: bSession.accessToken };
    refused(await t.http.post(`/api/v1/users/${a.id}/disable`, undefined, asB), 401, 'invalid_token', 'a demoted admin\'s old token');
    refused(await t.http.request(`/api/v1/users/${a.id}`, { method: 'PATCH', body: { role: 'viewer' }, token: a.accessToken }), 403, 'forbidden', 'demote oneself');
    const still = await t.http.get<{ users: ListedUser[] }>('/api/v1/users', { token: a.accessToken });
    const aRow = still.body.users.find((u) => u.id === a.id);
    assert.equal(aRow?.role, 'admin');
    assert.equal(aRow?.status, 'active');

    // With a second active admin, one admin may be disabled (and the other then not).
    const c = await t.createUser({ role: 'admin', organizationId: a.organizationId });
    assert.equal((await t.http.post(`/api/v1/users/${c.id}/disable`, undefined, { token: a.accessToken })).status, 200);
    assert.equal((await t.http.post(`/api/v1/users/${c.id}/enable`, undefined, { token: a.accessToken })).status, 200);
  });

  it('2FA reset by an admin: factor and recovery codes gone, sessions ended, the user enrols again; never on oneself', async () => {
    const user = await member();
    const enrolled = await enrol(user);
    assert.equal((await listed(user.id))?.mfa_enabled, true);

    const res = await t.http.post<ListedUser>(`/api/v1/users/${user.id}/mfa/reset`, undefined, auth());
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.mfa_enabled, false);
    assert.equal((await listed(user.id))?.mfa_enabled, false);
    refused(await t.http.get('/api/v1/auth/me', { token: enrolled.accessToken }), 401, 'invalid_token', 'session after reset');
    refused(await t.http.post(`/api/v1/users/${user.id}/mfa/reset`, undefined, auth()), 409, 'conflict', 'nothing to reset');

    // Signs in with the password alone; an old recovery code is no second factor any more.
    const s = await signIn(user);
    const again = await enrol(user);
    assert.equal(again.recoveryCodes.length, 10);
    refused(await login(user, enrolled.recoveryCodes[0]), 401, 'invalid_credentials', 'old recovery code');
    assert.equal((await login(user, again.recoveryCodes[0])).status, 200);
    assert.ok(s.accessToken);
    assert.ok((await events(user.id)).includes('mfa.reset_by_admin'));

    refused(await t.http.post(`/api/v1/users/${admin.id}/mfa/reset`, undefined, auth()), 409, 'conflict', 'reset self');
  });

  it('recovery codes: regenerated with a current TOTP code, shown once; the old ones stop working', async () => {
    const user = await member();
    const e = await enrol(user);
    const regen = (code: string) => t.http.post<{ recovery_codes: string[] }>('/api/v1/auth/mfa/recovery-codes', { code }, { token: e.accessToken });

    refused(await regen(e.recoveryCodes[0]!), 401, 'invalid_credentials', 'a recovery code is not enough');
    const code = codeAt(e.secret, clock.now());
    refused(await regen(code === '000000' ? '111111' : '000000'), 401, 'invalid_credentials', 'a wrong code');
    const res = await regen(code);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.recovery_codes.length, 10);
    assert.equal(new Set(res.body.recovery_codes).size, 10);
    assert.ok(res.body.recovery_codes.every((c) => !e.recoveryCodes.includes(c)));
    assert.equal(res.headers.get('cache-control'), 'no-store');
    refused(await regen(code), 401, 'invalid_credentials', 'the same code twice');

    clock.advance(STEP);
    refused(await login(user, e.recoveryCodes[1]), 401, 'invalid_credentials', 'an old recovery code');
    assert.equal((await login(user, res.body.recovery_codes[0])).status, 200);
    assert.ok((await events(user.id)).includes('mfa.recovery_codes_regenerated'));
    assert.ok(!t.logs.text().includes(res.body.recovery_codes[1]!), 'codes are never logged');

    const plain = await signIn(await member());
    refused(await t.http.post('/api/v1/auth/mfa/recovery-codes', { code: '123456' }, { token: plain.accessToken }), 409, 'conflict', 'no 2FA');
  });

  it('credentials and organizations: no token, the wrong role, API keys, other organizations, bad ids and bad bodies never reach a 500', async () => {
    const target = await member();
    const paths = (id: string) => [
      ['POST', `/api/v1/users/${id}/disable`],
      ['POST', `/api/v1/users/${id}/enable`],
      ['POST', `/api/v1/users/${id}/mfa/reset`],
      ['DELETE', `/api/v1/users/${id}`],
    ] as const;
    const plainMember = await signIn(await member());
    const adminKey = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'automation', scopes: ['admin'] }, auth());
    assert.equal(adminKey.status, 201);
    const outsider = await t.signIn({ role: 'admin' });
    for (const [method, path] of paths(target.id)) {
      refused(await t.http.request(path, { method }), 401, 'invalid_token', `${method} ${path} anonymous`);
      refused(await t.http.request(path, { method, token: plainMember.accessToken }), 403, 'insufficient_scope', `${method} ${path} member`);
      refused(await t.http.request(path, { method, apiKey: adminKey.body.key }), 401, 'invalid_api_key', `${method} ${path} API key`);
      refused(await t.http.request(path, { method, token: outsider.accessToken }), 404, 'not_found', `${method} ${path} other organization`);
      refused(await t.http.request(path, { method, token: 'not.a.jwt' }), 401, 'invalid_token', `${method} ${path} forged token`);
    }
    for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000', 'x'.repeat(64), '%27%20or%201%3D1']) {
      for (const [method, path] of paths(id)) refused(await t.http.request(path, { method, ...auth() }), 404, 'not_found', `${method} ${path}`);
    }
    const tooLong = await t.http.post(`/api/v1/users/${'a'.repeat(65)}/disable`, undefined, auth());
    assert.ok(tooLong.status === 400 || tooLong.status === 404, tooLong.text);
    // The target is untouched by all of the above.
    assert.equal((await listed(target.id))?.status, 'active');

    const regen = (body: unknown, token = admin.accessToken) => t.http.post('/api/v1/auth/mfa/recovery-codes', body, { token });
    for (const [label, body] of [
      ['no body', undefined],
      ['no code', {}],
      ['a number', { code: 123456 }],
      ['null', { code: null }],
      ['an array', [{ code: '123456' }]],
      ['empty', { code: '' }],
      ['too long', { code: '1'.repeat(65) }],
    ] as const) {
      refused(await regen(body), 400, 'invalid_request', label);
    }
    const big = await t.http.request('/api/v1/auth/mfa/recovery-codes', { method: 'POST', raw: JSON.stringify({ code: 'x'.repeat(2_000_000) }), headers: { 'content-type': 'application/json' }, ...auth() });
    assert.equal(big.status, 413);
    refused(await t.http.post('/api/v1/auth/mfa/recovery-codes', { code: '123456' }), 401, 'invalid_token', 'anonymous');
    refused(await t.http.request('/api/v1/auth/mfa/recovery-codes', { method: 'POST', body: { code: '123456' }, apiKey: adminKey.body.key }), 401, 'invalid_api_key', 'API key');
    const disabledBodies = await t.http.request(`/api/v1/users/${target.id}/disable`, { method: 'POST', raw: 'code=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, ...auth() });
    assert.equal(disabledBodies.status, 415);
  });
});
