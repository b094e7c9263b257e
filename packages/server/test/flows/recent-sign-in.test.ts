import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ManualClock, SECOND } from '../../src/core/clock.js';
import { RECENT_SIGN_IN_NOTE } from '../../src/http/app.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

// The steps that turn a session into lasting access (SDK tokens, API keys, an agent's key) or into another account
// (new users, roles, re-enabling, password and 2FA resets) ask for a password sign-in within AIM_REAUTH_WINDOW; past
// it, POST /api/v1/auth/reauthenticate takes the password again. The 2FA enrolment steps are in attack-reauth.test.ts.

const WINDOW = 600 * SECOND;
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
const REAUTH = '/api/v1/auth/reauthenticate';

describe('recent sign-in for lasting credentials and account takeover steps', () => {
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 12));
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ clock, env: { AIM_RATE_LIMIT_PUBLIC: '100000' } });
  });
  after(() => t.close());

  /** An admin with an API key, an agent and a second (disabled) user to act on, all made while the sign-in was fresh. */
  async function adminWithThings() {
    const admin = await t.signIn({ role: 'admin' });
    const key = await t.http.post<{ id: string; key: string }>('/api/v1/api-keys', { name: 'ci', scopes: ['agents:read'] }, { token: admin.accessToken });
    assert.equal(key.status, 201, key.text);
    const agent = await t.http.post<{ agent_id: string }>('/api/v1/agents', { name: `agent-${clock.now()}` }, { token: admin.accessToken });
    assert.equal(agent.status, 201, agent.text);
    const other = await t.createUser({ role: 'member', organizationId: admin.organizationId });
    const disabled = await t.http.post(`/api/v1/users/${other.id}/disable`, {}, { token: admin.accessToken });
    assert.equal(disabled.status, 200, disabled.text);
    return { admin, keyId: key.body.id, apiKey: key.body.key, agentId: agent.body.agent_id, otherId: other.id };
  }

  /** Every gated step, as [name, request]; each would succeed with a fresh sign-in. */
  function gatedSteps(things: Awaited<ReturnType<typeof adminWithThings>>) {
    const { publicKey } = newAgentKey();
    return [
      ['create an SDK token', 'POST', '/api/v1/sdk-tokens', { name: 'laptop' }],
      ['create an API key', 'POST', '/api/v1/api-keys', { name: 'persist', scopes: ['agents:read'] }],
      ['rotate an API key', 'POST', `/api/v1/api-keys/${things.keyId}/rotate`, {}],
      ['replace an agent key outright', 'POST', `/api/v1/agents/${things.agentId}/keys`, { public_key: publicKey }],
      ['register an agent', 'POST', '/api/v1/agents', { name: `late-${clock.now()}`, capabilities: ['payments:*'] }],
      ['register an agent through the SDK API', 'POST', '/api/v1/sdk-api/agents/register', { name: `late-sdk-${clock.now()}` }],
      ['create a user', 'POST', '/api/v1/users', { email: `new-${clock.now()}@example.com`, password: 'a long enough password 1', role: 'admin' }],
      ['change a role', 'PATCH', `/api/v1/users/${things.otherId}`, { role: 'admin' }],
      ['re-enable a user', 'POST', `/api/v1/users/${things.otherId}/enable`, {}],
      ['issue a password reset', 'POST', `/api/v1/users/${things.otherId}/password-reset`, {}],
      ['reset 2FA', 'POST', `/api/v1/users/${things.otherId}/mfa/reset`, {}],
    ] as const;
  }

  async function snapshot(admin: SignedIn) {
    const get = async (path: string) => (await t.http.get(path, { token: admin.accessToken })).text;
    return Promise.all(['/api/v1/sdk-tokens', '/api/v1/api-keys', '/api/v1/users', '/api/v1/agents'].map(get));
  }

  it('past the window every gated step answers 403 reauthentication_required and changes nothing; the password again opens them all', async () => {
    const things = await adminWithThings();
    const { admin } = things;
    clock.advance(WINDOW + SECOND);
    const before = await snapshot(admin);
    for (const [name, method, path, body] of gatedSteps(things)) {
      const refused = await t.http.request(path, { method, body, token: admin.accessToken });
      assert.equal(refused.status, 403, `${name}: ${refused.text}`);
      assert.equal(refused.body.error, 'reauthentication_required', name);
      assert.match(String(refused.body.error_description), /last 10 minutes: confirm your password at POST \/api\/v1\/auth\/reauthenticate/);
    }
    assert.deepEqual(await snapshot(admin), before, 'nothing was made or changed');
    // Reading and ungated writes go on as before.
    assert.equal((await t.http.get('/api/v1/api-keys', { token: admin.accessToken })).status, 200);
    assert.equal((await t.http.post(`/api/v1/agents/${things.agentId}/suspend`, {}, { token: admin.accessToken })).status, 200);

    const confirmed = await t.http.post<{ access_token: string; expires_in: number; refresh_token?: string }>(REAUTH, { password: admin.password }, { token: admin.accessToken });
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.body.refresh_token, undefined, 'the refresh token stays where it is');
    assert.equal(claimsOf(confirmed.body.access_token).auth_time, Math.floor(clock.now() / SECOND));
    assert.equal(claimsOf(confirmed.body.access_token).sid, claimsOf(admin.accessToken).sid, 'the same session');
    for (const [name, method, path, body] of gatedSteps(things)) {
      const done = await t.http.request(path, { method, body, token: confirmed.body.access_token });
      // Past the gate: the step itself answers (resetting 2FA of a user without it is a 409 of its own).
      const expected = name === 'reset 2FA' ? [409] : [200, 201];
      assert.ok(expected.includes(done.status), `${name}: ${done.status} ${done.text}`);
    }
    // The token held before confirming keeps its old sign-in time.
    const stale = await t.http.post('/api/v1/sdk-tokens', { name: 'stale' }, { token: admin.accessToken });
    assert.equal(stale.body.error, 'reauthentication_required');

    const audited = await t.server.stores.audit.list({ organizationId: admin.organizationId, event: 'user.reauthenticated', limit: 10 });
    assert.equal(audited.length, 1);
    assert.equal(audited[0]!.subject_id, claimsOf(admin.accessToken).sid);
    assert.doesNotMatch(JSON.stringify(audited[0]), new RegExp(admin.password));
  });

  it('the OpenAPI document says which operations need a recent sign-in, exactly those of the route table', async () => {
    const doc = await t.http.get<{ paths: Record<string, Record<string, { description?: string }>> }>('/api/v1/openapi.json');
    const noted = Object.entries(doc.body.paths)
      .flatMap(([path, operations]) => Object.entries(operations).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op.description] as const))
      .filter(([, description]) => description === RECENT_SIGN_IN_NOTE)
      .map(([operation]) => operation)
      .sort();
    assert.deepEqual(noted, [
      'PATCH /api/v1/users/{id}',
      'POST /api/v1/agents',
      'POST /api/v1/agents/{id}/keys',
      'POST /api/v1/api-keys',
      'POST /api/v1/api-keys/{id}/rotate',
      'POST /api/v1/sdk-api/agents/register',
      'POST /api/v1/sdk-tokens',
      'POST /api/v1/users',
      'POST /api/v1/users/{id}/enable',
      'POST /api/v1/users/{id}/mfa/reset',
      'POST /api/v1/users/{id}/password-reset',
    ]);
  });

  it('the confirmed time is the session\'s: the next refresh carries it, and it too grows old', async () => {
    const s = await t.signIn({ role: 'admin' });
    clock.advance(WINDOW + SECOND);
    const confirmed = await t.http.post<{ access_token: string }>(REAUTH, { password: s.password }, { token: s.accessToken });
    assert.equal(confirmed.status, 200, confirmed.text);
    const refreshed = await t.http.post<{ access_token: string }>('/api/v1/auth/refresh', { refresh_token: s.refreshToken });
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.equal(claimsOf(refreshed.body.access_token).auth_time, Math.floor(clock.now() / SECOND));
    assert.equal((await t.http.post('/api/v1/sdk-tokens', { name: 'fresh' }, { token: refreshed.body.access_token })).status, 201);
    clock.advance(WINDOW + SECOND);
    const again = await t.http.post('/api/v1/sdk-tokens', { name: 'old again' }, { token: refreshed.body.access_token });
    assert.equal(again.body.error, 'reauthentication_required');
  });

  it('a wrong password is 401 invalid_credentials, audited with step "reauthenticate", and opens nothing', async () => {
    const s = await t.signIn({ role: 'member' });
    clock.advance(WINDOW + SECOND);
    const wrong = await t.http.post(REAUTH, { password: `${s.password}x` }, { token: s.accessToken });
    assert.equal(wrong.status, 401, wrong.text);
    assert.equal(wrong.body.error, 'invalid_credentials');
    assert.equal((await t.http.post('/api/v1/sdk-tokens', { name: 'x' }, { token: s.accessToken })).body.error, 'reauthentication_required');
    const failed = await t.server.stores.audit.list({ organizationId: s.organizationId, event: 'user.reauthentication_failed', limit: 10 });
    assert.equal(failed.length, 1);
    assert.deepEqual(failed[0]!.data, { reason: 'invalid_password', step: 'reauthenticate' });
    const confirmed = await t.http.post(REAUTH, { password: s.password }, { token: s.accessToken });
    assert.equal(confirmed.status, 200);
    const logs = t.logs.text();
    assert.ok(!logs.includes(s.password), 'the right password is in no log line');
    assert.ok(!logs.includes(`${s.password}x`), 'nor the wrong one');
  });

  it('guessing the password here meets the login throttle: 429 with Retry-After before argon2 runs, even for the right password', async () => {
    const s = await t.signIn({ role: 'member' });
    let throttled: { status: number; headers: Headers } | undefined;
    for (let i = 0; i < 30 && !throttled; i++) {
      const guess = await t.http.post(REAUTH, { password: `guess ${i}` }, { token: s.accessToken });
      if (guess.status === 429) throttled = guess;
      else assert.equal(guess.status, 401, guess.text);
    }
    assert.ok(throttled, 'the throttle stepped in');
    assert.ok(Number(throttled.headers.get('retry-after')) > 0);
    assert.equal((await t.http.post(REAUTH, { password: s.password }, { token: s.accessToken })).status, 429);
  });

  it('credentials that hold no sign-in: an API key with the scope creates keys without one; an SDK token cannot reauthenticate', async () => {
    const admin = await t.signIn({ role: 'admin' });
    const key = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'automation', scopes: ['admin'] }, { token: admin.accessToken });
    assert.equal(key.status, 201, key.text);
    const sdk = await t.http.post<{ refresh_token: string }>('/api/v1/sdk-tokens', { name: 'sdk' }, { token: admin.accessToken });
    clock.advance(WINDOW + SECOND);
    const byKey = await t.http.post('/api/v1/api-keys', { name: 'made by a key', scopes: ['agents:read'] }, { apiKey: key.body.key });
    assert.equal(byKey.status, 201, byKey.text);

    const grant = await t.http.postForm<{ access_token: string }>('/oauth/token', { grant_type: 'refresh_token', client_id: 'aim-sdk', refresh_token: sdk.body.refresh_token });
    assert.equal(grant.status, 200, grant.text);
    const viaSdk = await t.http.post(REAUTH, { password: admin.password }, { token: grant.body.access_token });
    assert.equal(viaSdk.status, 401, viaSdk.text);
    assert.equal(viaSdk.body.error, 'invalid_token');
    const viaKey = await t.http.post(REAUTH, { password: admin.password }, { apiKey: key.body.key });
    assert.equal(viaKey.status, 401);
    assert.equal(viaKey.body.error, 'invalid_api_key');
  });

  it('a session signed out elsewhere cannot be confirmed again', async () => {
    const s = await t.signIn({ role: 'member' });
    const other = await t.http.post<{ access_token: string }>('/api/v1/auth/refresh', { refresh_token: s.refreshToken });
    assert.equal(other.status, 200);
    assert.equal((await t.http.post('/api/v1/auth/logout', {}, { token: other.body.access_token })).status, 200);
    const late = await t.http.post(REAUTH, { password: s.password }, { token: s.accessToken });
    assert.equal(late.status, 401, late.text);
    assert.equal(late.body.error, 'invalid_token');
  });

  it('bad input: no body, no password, a wrong type, an oversized body, no credential', async () => {
    const s = await t.signIn({ role: 'member' });
    const cases: Array<[string, unknown, number, string]> = [
      ['empty object', {}, 400, 'invalid_request'],
      ['password a number', { password: 12345678 }, 400, 'invalid_request'],
      ['password empty', { password: '' }, 400, 'invalid_request'],
      ['password too long', { password: 'x'.repeat(1025) }, 400, 'invalid_request'],
      ['unknown field', { password: s.password, remember: true }, 400, 'invalid_request'],
      ['an array', [s.password], 400, 'invalid_request'],
    ];
    for (const [name, body, status, error] of cases) {
      const res = await t.http.post(REAUTH, body, { token: s.accessToken });
      assert.equal(res.status, status, `${name}: ${res.text}`);
      assert.equal(res.body.error, error, name);
    }
    const huge = await t.http.request(REAUTH, { method: 'POST', raw: JSON.stringify({ password: 'x'.repeat(2_000_000) }), headers: { 'content-type': 'application/json' }, token: s.accessToken });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error, 'payload_too_large');
    const anonymous = await t.http.post(REAUTH, { password: s.password });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error, 'invalid_token');
  });
});

function newAgentKey() {
  const { publicKey } = generateKeyPairSync('ed25519');
  return { publicKey: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64') };
}
