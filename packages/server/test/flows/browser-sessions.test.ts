import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cookieHeader, setCookies } from '../support/cookies.js';
import { sameSiteOrigins } from '../../src/sessions/browser.js';
import { startTestServer, type TestServer, type TestUser } from '../support/server.js';

const PUBLIC_URL = 'http://localhost:8080';
const WEB = { 'x-aim-client': 'web' };

interface WebSession {
  accessToken: string;
  rt: string;
  csrf: string;
}

describe('browser sessions (cookie refresh token, CSRF)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ env: { AIM_PUBLIC_URL: PUBLIC_URL } });
  });
  after(() => t.close());

  async function webLogin(user?: TestUser, headers: Record<string, string> = {}): Promise<WebSession & { user: TestUser }> {
    const u = user ?? (await t.createUser({ role: 'member' }));
    const res = await t.http.post<{ access_token: string; csrf_token: string }>('/api/v1/public/login', { email: u.email, password: u.password }, { headers: { ...WEB, ...headers } });
    assert.equal(res.status, 200, res.text);
    const cookies = setCookies(res.headers);
    return { user: u, accessToken: res.body.access_token, rt: cookies.get('aim_rt')!.value, csrf: cookies.get('aim_csrf')!.value };
  }

  const cookieRefresh = (s: { rt?: string; csrf?: string }, headers: Record<string, string> = {}) =>
    t.http.post<{ access_token: string; csrf_token: string; refresh_token?: string }>(
      '/api/v1/auth/refresh',
      {},
      { headers: { cookie: cookieHeader({ aim_rt: s.rt, aim_csrf: s.csrf }), ...(s.csrf && { 'x-csrf-token': s.csrf }), ...headers } },
    );

  it('web login: the refresh token only in an HttpOnly SameSite=Strict cookie, a readable CSRF cookie, no refresh_token in the body', async () => {
    const u = await t.createUser({ role: 'member' });
    const res = await t.http.post<Record<string, unknown>>('/api/v1/public/login', { email: u.email, password: u.password }, { headers: WEB });
    assert.equal(res.status, 200);
    assert.equal(res.body.refresh_token, undefined);
    assert.equal(typeof res.body.access_token, 'string');
    assert.equal(typeof res.body.csrf_token, 'string');
    assert.equal(res.body.token_type, 'Bearer');

    const cookies = setCookies(res.headers);
    const rt = cookies.get('aim_rt');
    assert.ok(rt);
    assert.match(rt.value, /^rt_/);
    assert.equal(rt.attributes.httponly, true);
    assert.equal(rt.attributes.samesite, 'Strict');
    assert.equal(rt.attributes.path, '/api/v1/auth');
    assert.equal(rt.attributes['max-age'], '604800');
    assert.equal(rt.attributes.secure, undefined, 'not Secure over plain http');

    const csrf = cookies.get('aim_csrf');
    assert.ok(csrf);
    assert.equal(csrf.value, res.body.csrf_token);
    assert.equal(csrf.attributes.httponly, undefined, 'the page must be able to read it');
    assert.equal(csrf.attributes.samesite, 'Strict');
    assert.equal(csrf.attributes.path, '/');
  });

  it('JSON clients are unchanged: no cookies, refresh_token in the body', async () => {
    const u = await t.createUser();
    const res = await t.http.post('/api/v1/public/login', { email: u.email, password: u.password });
    assert.equal(res.headers.getSetCookie().length, 0);
    assert.equal(typeof res.body.refresh_token, 'string');
    assert.equal(res.body.csrf_token, undefined);
  });

  it('refresh with the cookie and X-CSRF-Token rotates both cookies and answers a new access token', async () => {
    const s = await webLogin();
    const res = await cookieRefresh(s);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.refresh_token, undefined);
    assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'csrf_token', 'expires_in', 'token_type', 'user']);
    const cookies = setCookies(res.headers);
    const next = { rt: cookies.get('aim_rt')!.value, csrf: cookies.get('aim_csrf')!.value };
    assert.notEqual(next.rt, s.rt);
    assert.notEqual(next.csrf, s.csrf);
    assert.equal(next.csrf, res.body.csrf_token);
    assert.equal((await t.http.get('/api/v1/auth/me', { token: res.body.access_token })).status, 200);
    // And again with the rotated pair.
    assert.equal((await cookieRefresh(next)).status, 200);
  });

  it('a cookie request without the CSRF token, or with a wrong one, is refused 403 csrf_token_invalid', async () => {
    const s = await webLogin();
    const attempts: Array<[string, Record<string, string>]> = [
      ['no header', { cookie: cookieHeader({ aim_rt: s.rt, aim_csrf: s.csrf }) }],
      ['no csrf cookie', { cookie: cookieHeader({ aim_rt: s.rt }), 'x-csrf-token': s.csrf }],
      // One character changed, to one it surely is not (a fixed 'A' left a token ending in 'A' unchanged).
      ['header differs from cookie', { cookie: cookieHeader({ aim_rt: s.rt, aim_csrf: s.csrf }), 'x-csrf-token': `${s.csrf[0] === 'A' ? 'B' : 'A'}${s.csrf.slice(1)}` }],
      // A matching pair the attacker made up (planted from a sibling domain): not bound to this refresh token.
      ['planted pair', { cookie: cookieHeader({ aim_rt: s.rt, aim_csrf: 'attacker-chosen' }), 'x-csrf-token': 'attacker-chosen' }],
    ];
    for (const [name, headers] of attempts) {
      const res = await t.http.post('/api/v1/auth/refresh', {}, { headers });
      assert.equal(res.status, 403, name);
      assert.equal(res.body.error, 'csrf_token_invalid', name);
    }
    // Another session's valid CSRF token does not fit this refresh token.
    const other = await webLogin();
    const crossed = await cookieRefresh({ rt: s.rt, csrf: other.csrf });
    assert.equal(crossed.body.error, 'csrf_token_invalid');
    // None of that used the token up.
    assert.equal((await cookieRefresh(s)).status, 200);
  });

  it('a cross-site Origin is refused on cookie routes; our own origin is accepted', async () => {
    const s = await webLogin();
    const evil = { origin: 'https://evil.example' };
    const refresh = await cookieRefresh(s, evil);
    assert.equal(refresh.status, 403);
    assert.equal(refresh.body.error, 'forbidden');
    const logout = await t.http.post('/api/v1/auth/logout', undefined, {
      headers: { cookie: cookieHeader({ aim_rt: s.rt, aim_csrf: s.csrf }), 'x-csrf-token': s.csrf, ...evil },
    });
    assert.equal(logout.status, 403);
    const u = await t.createUser();
    const login = await t.http.post('/api/v1/public/login', { email: u.email, password: u.password }, { headers: { ...WEB, ...evil } });
    assert.equal(login.status, 403);
    assert.equal(login.headers.getSetCookie().length, 0);
    const nullOrigin = await cookieRefresh(s, { origin: 'null' });
    assert.equal(nullOrigin.status, 403);

    assert.equal((await cookieRefresh(s, { origin: PUBLIC_URL })).status, 200);
    assert.equal((await webLogin(undefined, { origin: PUBLIC_URL })).accessToken.length > 0, true);
    // A loopback public URL: the same server reached as 127.0.0.1 or [::1] is the same site; another port is not.
    assert.equal((await webLogin(undefined, { origin: 'http://127.0.0.1:8080' })).accessToken.length > 0, true);
    assert.equal((await webLogin(undefined, { origin: 'http://[::1]:8080' })).accessToken.length > 0, true);
    const otherPort = await t.http.post('/api/v1/public/login', { email: u.email, password: u.password }, { headers: { ...WEB, origin: 'http://127.0.0.1:8081' } });
    assert.equal(otherPort.status, 403);
    const otherScheme = await t.http.post('/api/v1/public/login', { email: u.email, password: u.password }, { headers: { ...WEB, origin: 'https://127.0.0.1:8080' } });
    assert.equal(otherScheme.status, 403);
  });

  it('only a loopback public URL has loopback aliases', () => {
    assert.deepEqual([...sameSiteOrigins(new URL('http://localhost:8080'))].sort(), ['http://127.0.0.1:8080', 'http://[::1]:8080', 'http://localhost:8080']);
    assert.deepEqual([...sameSiteOrigins(new URL('http://127.0.0.1'))].sort(), ['http://127.0.0.1', 'http://[::1]', 'http://localhost']);
    assert.deepEqual([...sameSiteOrigins(new URL('https://aim.example.com'))], ['https://aim.example.com']);
    assert.deepEqual([...sameSiteOrigins(new URL('https://localhost.example.com:8443'))], ['https://localhost.example.com:8443']);
  });

  it('refresh with neither a body token nor a cookie is invalid_token', async () => {
    const res = await t.http.post('/api/v1/auth/refresh', {});
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_token');
  });

  it('a rotated cookie presented again is reuse: the family is revoked and the cookies cleared', async () => {
    const s = await webLogin();
    const first = await cookieRefresh(s);
    assert.equal(first.status, 200);
    const newest = setCookies(first.headers);
    const reused = await cookieRefresh(s);
    assert.equal(reused.status, 401);
    assert.equal(reused.body.error, 'refresh_token_reused');
    const cleared = setCookies(reused.headers);
    assert.equal(cleared.get('aim_rt')?.value, '');
    assert.equal(cleared.get('aim_csrf')?.value, '');
    const afterReuse = await cookieRefresh({ rt: newest.get('aim_rt')!.value, csrf: newest.get('aim_csrf')!.value });
    assert.equal(afterReuse.status, 401);
    assert.equal((await t.http.get('/api/v1/auth/me', { token: first.body.access_token })).status, 401);
  });

  it('logout with the cookie and CSRF token revokes the session and clears both cookies', async () => {
    const s = await webLogin();
    const headers = { cookie: cookieHeader({ aim_rt: s.rt, aim_csrf: s.csrf }) };
    const noCsrf = await t.http.post('/api/v1/auth/logout', undefined, { headers });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.error, 'csrf_token_invalid');

    const out = await t.http.post('/api/v1/auth/logout', undefined, { headers: { ...headers, 'x-csrf-token': s.csrf } });
    assert.equal(out.status, 200, out.text);
    assert.equal(out.body.logged_out, true);
    const cleared = setCookies(out.headers);
    for (const name of ['aim_rt', 'aim_csrf']) {
      assert.equal(cleared.get(name)?.value, '', name);
      assert.ok(cleared.get(name)?.attributes.expires, `${name} expires`);
    }
    assert.equal(cleared.get('aim_rt')?.attributes.path, '/api/v1/auth');
    assert.equal((await cookieRefresh(s)).status, 401);
    assert.equal((await t.http.get('/api/v1/auth/me', { token: s.accessToken })).status, 401, 'the in-memory access token stops too');
    // Logging out an ended session again is refused, not a crash.
    const again = await t.http.post('/api/v1/auth/logout', undefined, { headers: { ...headers, 'x-csrf-token': s.csrf } });
    assert.equal(again.status, 401);
  });

  it('logout with the bearer token also clears the cookies when the browser sends them', async () => {
    const s = await webLogin();
    const out = await t.http.post('/api/v1/auth/logout', undefined, { token: s.accessToken, headers: { cookie: cookieHeader({ aim_rt: s.rt, aim_csrf: s.csrf }) } });
    assert.equal(out.status, 200);
    assert.equal(setCookies(out.headers).get('aim_rt')?.value, '');
    assert.equal((await cookieRefresh(s)).status, 401);
  });

  it('the cookie authorizes refresh and logout only, nothing else', async () => {
    const s = await webLogin(await t.createUser({ role: 'admin' }));
    const headers = { cookie: cookieHeader({ aim_rt: s.rt, aim_csrf: s.csrf }), 'x-csrf-token': s.csrf };
    assert.equal((await t.http.get('/api/v1/auth/me', { headers })).status, 401);
    assert.equal((await t.http.get('/api/v1/users', { headers })).status, 401);
    assert.equal((await t.http.post('/api/v1/auth/mfa/totp/setup', undefined, { headers })).status, 401);
  });

  it('a password change signs out the other browser sessions and keeps this one', async () => {
    const u = await t.createUser({ role: 'viewer' });
    const here = await webLogin(u);
    const elsewhere = await webLogin(u);
    const change = await t.http.post(
      '/api/v1/auth/password',
      { current_password: u.password, new_password: 'a brand new long password' },
      { token: here.accessToken },
    );
    assert.equal(change.status, 200);
    assert.equal(change.body.sessions_revoked, 1);
    const gone = await cookieRefresh(elsewhere);
    assert.equal(gone.status, 401);
    assert.equal(gone.body.error, 'invalid_token');
    assert.equal((await t.http.get('/api/v1/auth/me', { token: elsewhere.accessToken })).status, 401);
    assert.equal((await cookieRefresh(here)).status, 200);
  });
});

describe('browser sessions over HTTPS', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ env: { AIM_PUBLIC_URL: 'https://aim.example.com', AIM_REFRESH_TOKEN_TTL: '3600' } });
  });
  after(() => t.close());

  it('both cookies are Secure and live as long as the refresh token', async () => {
    const u = await t.createUser();
    const res = await t.http.post('/api/v1/public/login', { email: u.email, password: u.password }, { headers: WEB });
    assert.equal(res.status, 200);
    const cookies = setCookies(res.headers);
    for (const name of ['aim_rt', 'aim_csrf']) {
      assert.equal(cookies.get(name)?.attributes.secure, true, name);
      assert.equal(cookies.get(name)?.attributes['max-age'], '3600', name);
    }
    const csrf = cookies.get('aim_csrf')!.value;
    const refresh = await t.http.post(
      '/api/v1/auth/refresh',
      {},
      { headers: { origin: 'https://aim.example.com', cookie: cookieHeader({ aim_rt: cookies.get('aim_rt')!.value, aim_csrf: csrf }), 'x-csrf-token': csrf } },
    );
    assert.equal(refresh.status, 200);
    assert.equal(setCookies(refresh.headers).get('aim_rt')?.attributes.secure, true);
  });
});
