import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ManualClock, SECOND } from '../../src/core/clock.js';
import type { UserId } from '../../src/core/ids.js';
import { createLogger } from '../../src/core/logger.js';
import { loadConfig } from '../../src/config/index.js';
import { migrate, openDatabase } from '../../src/storage/database.js';
import { cookieHeader, setCookies } from '../support/cookies.js';
import { STORE_KINDS } from '../support/databases.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

// Attacks on what guards 2FA enrolment (a recent password sign-in, AIM_REAUTH_WINDOW) and on AIM_METRICS_TOKEN, by
// someone holding a stolen access token, a stolen web cookie, an SDK token or nothing at all. The flows themselves
// are in flows/mfa.test.ts, flows/failed-attempts.test.ts and flows/operations.test.ts; these are the edges.

const WINDOW = 600 * SECOND;
const SETUP = '/api/v1/auth/mfa/totp/setup';
const ENABLE = '/api/v1/auth/mfa/totp/enable';
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('attack: enrolling 2FA without a recent sign-in', () => {
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 12));
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ clock, env: { AIM_RATE_LIMIT_PUBLIC: '100000', AIM_TRUST_PROXY: '127.0.0.1' } });
  });
  after(() => t.close());

  /** A session access token of `s`'s family with the given auth_time (seconds), as any node of the cluster would sign it. */
  const tokenSignedInAt = async (s: SignedIn, authTime: number) => {
    const claims = claimsOf(s.accessToken);
    const issued = await t.server.services.accessTokens.issue({
      sub: s.id,
      org: s.organizationId,
      kind: 'session',
      scope: String(claims.scope).split(' '),
      sid: String(claims.sid),
      role: 'member',
      authTime,
    });
    return issued.token;
  };

  it('a stolen web cookie and its CSRF token: the cookie refresh keeps the old auth_time, and the cookie alone reaches no 2FA route', async () => {
    const u = await t.createUser({ role: 'member' });
    const login = await t.http.post<{ access_token: string }>('/api/v1/public/login', { email: u.email, password: u.password }, { headers: { 'x-aim-client': 'web' } });
    assert.equal(login.status, 200, login.text);
    const signedInAt = claimsOf(login.body.access_token).auth_time;
    let cookies = setCookies(login.headers);
    clock.advance(WINDOW + SECOND);
    for (let i = 0; i < 2; i++) {
      const rt = cookies.get('aim_rt')!.value;
      const csrf = cookies.get('aim_csrf')!.value;
      const refreshed = await t.http.post<{ access_token: string }>(
        '/api/v1/auth/refresh',
        {},
        { headers: { cookie: cookieHeader({ aim_rt: rt, aim_csrf: csrf }), 'x-csrf-token': csrf } },
      );
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.equal(claimsOf(refreshed.body.access_token).auth_time, signedInAt, 'the cookie refresh dates the sign-in, not the refresh');
      const refused = await t.http.post(SETUP, {}, { token: refreshed.body.access_token });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error, 'reauthentication_required');
      // The 2FA routes take a bearer token only: the cookie with its CSRF token is no credential there.
      const cookieOnly = await t.http.post(SETUP, {}, { headers: { cookie: cookieHeader({ aim_rt: rt, aim_csrf: csrf }), 'x-csrf-token': csrf } });
      assert.equal(cookieOnly.status, 401);
      assert.equal(cookieOnly.body.error, 'invalid_token');
      cookies = setCookies(refreshed.headers);
    }
    assert.equal(await t.server.stores.mfa.findTotp(u.id as UserId), undefined, 'nothing was set up');
  });

  it('a stolen session refresh token at /oauth/token, or an SDK token at /auth/refresh, mints no token at all', async () => {
    const s = await t.signIn({ role: 'member' });
    const form = (refreshToken: string) =>
      t.http.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: 'aim-sdk', refresh_token: refreshToken });
    const viaOauth = await form(s.refreshToken);
    assert.equal(viaOauth.status, 400, viaOauth.text);
    assert.equal(viaOauth.body.error, 'invalid_grant');
    const sdk = await t.http.post<{ refresh_token: string }>('/api/v1/sdk-tokens', { name: 'cross-kind' }, { token: s.accessToken });
    assert.equal(sdk.status, 201, sdk.text);
    const viaSessions = await t.http.post('/api/v1/auth/refresh', { refresh_token: sdk.body.refresh_token });
    assert.equal(viaSessions.status, 401, viaSessions.text);
    assert.equal(viaSessions.body.error, 'invalid_token');
    // Neither attempt spent the tokens: each still works where it belongs.
    assert.equal((await t.http.post('/api/v1/auth/refresh', { refresh_token: s.refreshToken })).status, 200);
    assert.equal((await form(sdk.body.refresh_token)).status, 200);
  });

  it('the window is exact; an auth_time in the future (beyond 5 s of clock skew between nodes) or not a whole number proves nothing', async () => {
    const s = await t.signIn({ role: 'member' });
    const now = Math.floor(clock.now() / SECOND);
    const cases: Array<[string, number, number]> = [
      ['at the window', now - 600, 200],
      ['a second past it', now - 601, 403],
      ['5 s ahead (skew)', now + 5, 200],
      ['6 s ahead', now + 6, 403],
      ['a day ahead', now + 86_400, 403],
      ['the largest safe integer', Number.MAX_SAFE_INTEGER, 403],
      // Not a whole number of seconds, or not a number: no proof of anything, so treated as absent.
      ['a fraction', now - 0.5, 403],
      ['a string', String(now) as unknown as number, 403],
      ['an array', [now] as unknown as number, 403],
      ['null', null as unknown as number, 403],
    ];
    for (const [name, authTime, status] of cases) {
      const res = await t.http.post(SETUP, {}, { token: await tokenSignedInAt(s, authTime) });
      assert.equal(res.status, status, `${name}: ${res.text}`);
      if (status === 403) assert.equal(res.body.error, 'reauthentication_required', name);
    }
  });

  it('a password sent with a fresh sign-in is still checked: a wrong one is refused and audited, never ignored', async () => {
    const s = await t.signIn({ role: 'member' });
    const res = await t.http.post(SETUP, { password: 'a wrong guess sent along' }, { token: s.accessToken });
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_credentials');
    assert.equal(await t.server.stores.mfa.findTotp(s.id as UserId), undefined);
    const audited = await t.server.stores.audit.list({ organizationId: s.organizationId, event: 'user.reauthentication_failed', limit: 10 });
    assert.equal(audited.filter((e) => e.subject_id === s.id).length, 1);
  });

  it('hostile bodies on setup and enable are catalogued 4xx JSON errors, never a 500, and check no password', async () => {
    const s = await t.signIn({ role: 'member' });
    clock.advance(WINDOW + SECOND);
    const json = (value: unknown) => ({ raw: JSON.stringify(value), headers: { 'content-type': 'application/json' } });
    const hostile: Array<[string, { raw: string; headers: Record<string, string> }]> = [
      ['null', json(null)],
      ['a string', json('password')],
      ['a number', json(1)],
      ['an array of the password', json([s.password])],
      ['password null', json({ password: null })],
      ['password array', json({ password: [s.password] })],
      ['password object', json({ password: { toString: s.password } })],
      ['password number', json({ password: 123456 })],
      ['password and an extra field', json({ password: s.password, admin: true })],
      ['password with a NUL', json({ password: `${s.password}\u0000` })],
      ['password too long', json({ password: 'x'.repeat(1025) })],
      ['__proto__ password', { raw: `{"__proto__":{"password":${JSON.stringify(s.password)}}}`, headers: { 'content-type': 'application/json' } }],
      ['truncated JSON', { raw: '{"password":', headers: { 'content-type': 'application/json' } }],
      ['empty JSON body', { raw: '', headers: { 'content-type': 'application/json' } }],
      ['form', { raw: new URLSearchParams({ password: s.password }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
      ['text/plain', { raw: JSON.stringify({ password: s.password }), headers: { 'content-type': 'text/plain' } }],
      ['1 MB password', json({ password: 'x'.repeat(1 << 20) })],
    ];
    for (const path of [SETUP, ENABLE]) {
      for (const [name, input] of hostile) {
        const res = await t.http.request(path, { method: 'POST', token: s.accessToken, ...input });
        assert.ok(res.status >= 400 && res.status < 500, `${path} with ${name}: ${res.status} ${res.text}`);
        assert.equal(typeof res.body.error, 'string', `${path} with ${name}: ${res.text}`);
        assert.match(res.headers.get('content-type') ?? '', /application\/json/);
        if (name === '1 MB password') assert.equal(res.status, 413);
        if (name === 'text/plain') assert.equal(res.status, 415);
      }
    }
    // The right password inside a malformed body was never checked, so never counted: no audit entry either way.
    const audited = await t.server.stores.audit.list({ organizationId: s.organizationId, event: 'user.reauthentication_failed', limit: 10 });
    assert.equal(audited.filter((e) => e.subject_id === s.id).length, 0);
    assert.equal(await t.server.stores.mfa.findTotp(s.id as UserId), undefined, 'nothing was set up');
    // Enable's code is validated as before, password or not.
    for (const body of [{ password: s.password }, { code: null, password: s.password }, { code: '', password: s.password }]) {
      assert.equal((await t.http.post(ENABLE, body, { token: s.accessToken })).status, 400, JSON.stringify(body));
    }
  });

  it('no log line holds a password given to re-authenticate, right or wrong', async () => {
    const s = await t.signIn({ role: 'member' });
    clock.advance(WINDOW + SECOND);
    const wrong = 'reauth-guess-that-must-not-be-logged';
    assert.equal((await t.http.post(SETUP, { password: wrong }, { token: s.accessToken })).status, 401);
    assert.equal((await t.http.post(SETUP, { password: s.password }, { token: s.accessToken })).status, 200);
    assert.equal((await t.http.post(ENABLE, { code: '000000', password: wrong }, { token: s.accessToken })).status, 401);
    const logs = t.logs.text();
    assert.ok(logs.includes(SETUP), 'the requests were logged');
    assert.ok(!logs.includes(wrong), 'a wrong password is not logged');
    assert.ok(!logs.includes(s.password), 'the right password is not logged');
  });

  it('a burst of guesses through the password field gets no more than the free attempts (counted when each starts)', async () => {
    const s = await t.signIn({ role: 'member' });
    clock.advance(WINDOW + SECOND);
    const headers = { 'x-forwarded-for': '203.0.113.77' };
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.http.post(SETUP, { password: `burst guess ${i}` }, { token: s.accessToken, headers })),
    );
    const statuses = burst.map((r) => r.status);
    assert.ok(statuses.every((status) => status === 401 || status === 429), statuses.join());
    assert.ok(statuses.filter((status) => status === 401).length <= 5, `guesses checked: ${statuses.join()}`);
    assert.equal((await t.http.post(SETUP, { password: s.password }, { token: s.accessToken, headers })).status, 429, 'the right one waits too');
  });
});

describe('the logger censors a password or a bearer token wherever a request-shaped object carries them', () => {
  it('body.password, password, the authorization header', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createLogger('info', sink);
    const secret = 'censor-me-0123456789-abcdefghij-XYZ';
    logger.info({ body: { password: secret, code: secret } }, 'a body');
    logger.info({ password: secret }, 'a field');
    logger.info({ req: { headers: { authorization: `Bearer ${secret}` } } }, 'a header');
    assert.equal(lines.length, 3);
    for (const line of lines) assert.ok(!line.includes(secret), line);
  });
});

describe('attack: reading /metrics without AIM_METRICS_TOKEN', () => {
  const TOKEN = 'metrics-attack-token-abcdefghijklmnop-0123456789';
  let t: TestServer;
  before(async () => {
    // A small public limit, so counting refused guesses shows within a few requests.
    t = await startTestServer({ env: { AIM_METRICS_TOKEN: TOKEN, AIM_RATE_LIMIT_PUBLIC: '20' } });
  });
  after(() => t.close());

  it('elsewhere than the Authorization header (query string, X-API-Key, a cookie) or with an empty Bearer, the token opens nothing', async () => {
    const attempts: Array<[string, Record<string, string>]> = [
      [`/metrics?access_token=${TOKEN}`, {}],
      [`/metrics?token=${TOKEN}`, {}],
      ['/metrics', { 'x-api-key': TOKEN }],
      ['/metrics', { cookie: `token=${TOKEN}` }],
      ['/metrics', { authorization: 'Bearer ' }],
      ['/metrics', { authorization: 'Bearer' }],
      ['/metrics', { authorization: `Bearer ${TOKEN},Bearer ${TOKEN}` }],
      ['/metrics', { authorization: `bearer ${TOKEN}x` }],
      ['/metrics', { authorization: `Bearer ${TOKEN}${'x'.repeat(12_000)}` }],
    ];
    for (const [path, headers] of attempts) {
      const res = await t.http.get(path, { headers });
      assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}: ${res.status}`);
      assert.equal(res.body.error, 'invalid_token');
      assert.ok(!res.text.includes('aim_http'), 'no metrics in the refusal');
    }
    // Past Node's header limit the connection is refused before AIM sees it: no 500 either way.
    const huge = await t.http.get('/metrics', { headers: { authorization: `Bearer ${'x'.repeat(20_000)}` } }).catch(() => undefined);
    assert.ok(huge === undefined || (huge.status >= 400 && huge.status < 500), String(huge?.status));
    const logs = t.logs.text();
    assert.ok(!logs.includes(TOKEN.slice(8)), 'the token is in no log line, not even from a query string');
  });

  it('refused guesses count against the address like any failed credential: the limit ends guessing with a 429', async () => {
    let limited: Awaited<ReturnType<typeof t.http.get>> | undefined;
    for (let i = 0; i < 60 && !limited; i++) {
      const res = await t.http.get('/metrics', { headers: { authorization: `Bearer guess-${i}-${'x'.repeat(40)}` } });
      if (res.status === 429) limited = res;
      else assert.equal(res.status, 401);
    }
    assert.ok(limited, 'a guesser is stopped by the public rate limit');
    assert.equal(limited.body.error, 'rate_limited');
    assert.ok(limited.headers.get('retry-after'));
  });

  it('a configured token that is too short or has spaces stops start-up without echoing it', () => {
    for (const value of ['short-but-secret-value', `${'s'.repeat(30)} secret-with-space`]) {
      assert.throws(
        () => loadConfig({ AIM_METRICS_TOKEN: value }),
        (error: Error) => error.message.includes('AIM_METRICS_TOKEN') && !error.message.includes(value),
      );
    }
  });
});

for (const store of STORE_KINDS) {
  describe(`migration 0014 on a ${store} database with sessions and SDK tokens in it`, () => {
    const clock = new ManualClock(Date.UTC(2026, 6, 2, 12));
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store, clock });
    });
    after(() => t.close());

    it('an existing session counts as signed in at its creation; an SDK token family stays without a sign-in', async () => {
      const s = await t.signIn({ role: 'member' });
      const sdk = await t.http.post<{ refresh_token: string }>('/api/v1/sdk-tokens', { name: 'pre-0014' }, { token: s.accessToken });
      assert.equal(sdk.status, 201, sdk.text);
      clock.advance(60 * SECOND);

      // Back to the schema before 0014 (the column gone, the migration not run), the rows kept, then upgrade.
      const database = openDatabase({ dataDir: t.database.dataDir, databaseUrl: t.database.databaseUrl });
      try {
        await database.db.schema.alterTable('refresh_families').dropColumn('auth_time').execute();
        await database.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '0014_session_auth_time' as never).execute();
        assert.deepEqual(await migrate(database), ['0014_session_auth_time']);
        const rows = await database.db.selectFrom('refresh_families').select(['kind', 'created_at', 'auth_time']).where('user_id', '=', s.id as UserId).execute();
        assert.equal(rows.length, 2);
        for (const row of rows) {
          if (row.kind === 'session') assert.equal(row.auth_time, row.created_at, 'a session began with a password sign-in');
          else assert.equal(row.auth_time, null, 'an SDK token proves no sign-in');
          if (row.auth_time !== null) assert.equal(typeof row.auth_time, 'number', 'int8 read back as a number');
        }
      } finally {
        await database.close();
      }

      const refreshed = await t.http.post<{ access_token: string }>('/api/v1/auth/refresh', { refresh_token: s.refreshToken });
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.equal(claimsOf(refreshed.body.access_token).auth_time, claimsOf(s.accessToken).auth_time);
      assert.equal((await t.http.post(SETUP, {}, { token: refreshed.body.access_token })).status, 200, 'a minute-old sign-in is recent');
      clock.advance(WINDOW);
      assert.equal((await t.http.post(SETUP, {}, { token: refreshed.body.access_token })).body.error, 'reauthentication_required');
    });
  });
}
