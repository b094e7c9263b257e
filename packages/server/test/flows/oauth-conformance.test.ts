import assert from 'node:assert/strict';
import { randomUUID, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT, type JWTPayload } from 'jose';
import { ManualClock, SECOND } from '../../src/core/clock.js';
import { registerAgent } from '../support/agents.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

// The RFC details a strict client or a conformance suite checks, beyond the flows in oauth.test.ts.
describe('OAuth 2.0 endpoints, RFC by RFC', () => {
  const clock = new ManualClock(Date.now());
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    t = await startTestServer({ clock });
    admin = await t.signIn({ role: 'admin' });
  });
  after(() => t.close());

  const post = (path: string, params: Record<string, string> | string, headers: Record<string, string> = {}) =>
    t.http.request(path, {
      method: 'POST',
      raw: typeof params === 'string' ? params : new URLSearchParams(params).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  const seconds = () => Math.floor(clock.now() / 1000);
  /** A client assertion (RFC 7523 §3) by the agent, valid unless `claims` says otherwise. */
  const assertion = (agent: { id: string; keys: { privateKey: KeyObject } }, claims: JWTPayload = {}) =>
    new SignJWT({ iss: agent.id, sub: agent.id, aud: `${t.server.config.publicUrl}/oauth/token`, iat: seconds(), exp: seconds() + 60, jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'EdDSA' })
      .sign(agent.keys.privateKey);
  const clientCredentials = (jwt: string) =>
    post('/oauth/token', { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt });
  const sdkToken = async () => String((await t.http.post('/api/v1/sdk-tokens', { name: 'conformance' }, { token: admin.accessToken })).body.refresh_token);

  it('RFC 6749 §3.2: a body that is not a form is invalid_request 400, on every OAuth endpoint', async () => {
    const bodies: Array<[string, string]> = [
      ['application/json', '{"grant_type":"refresh_token","token":"x"}'],
      ['text/plain', 'grant_type=refresh_token&token=x'],
      ['multipart/form-data; boundary=x', '--x--'],
    ];
    for (const path of ['/oauth/token', '/oauth/revoke', '/oauth/introspect']) {
      for (const [type, raw] of bodies) {
        const res = await t.http.request(path, { method: 'POST', raw, headers: { 'content-type': type, authorization: `Bearer ${admin.accessToken}` } });
        assert.equal(res.status, 400, `${path} as ${type}`);
        assert.equal(res.body.error, 'invalid_request', `${path} as ${type}`);
      }
    }
  });

  it('RFC 6749 §3.2: a parameter sent without a value counts as omitted', async () => {
    const noGrant = await post('/oauth/token', 'grant_type=');
    assert.equal(noGrant.status, 400);
    assert.equal(noGrant.body.error, 'invalid_request', 'an empty grant_type is a missing one, not an unsupported one');
    const res = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: await sdkToken(), client_id: '', scope: '' });
    assert.equal(res.status, 200, res.text);
  });

  it('RFC 6749 §5.2: a client authenticating with the Authorization header gets 401 invalid_client and a challenge in its scheme', async () => {
    const refreshToken = await sdkToken();
    const cases: Array<[string, Record<string, string>, string]> = [
      ['Basic YWltLXNkazo=', { grant_type: 'refresh_token', refresh_token: refreshToken }, 'Basic'],
      ['Basic YTpi', { grant_type: 'client_credentials' }, 'Basic'],
      ['Bearer abc', { grant_type: 'client_credentials' }, 'Bearer'],
    ];
    for (const [authorization, params, scheme] of cases) {
      const res = await post('/oauth/token', params, { authorization });
      assert.equal(res.status, 401, authorization);
      assert.equal(res.body.error, 'invalid_client', authorization);
      assert.match(res.headers.get('www-authenticate') ?? '', new RegExp(`^${scheme} `), authorization);
    }
    const unspent = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.equal(unspent.status, 200, 'the refused request did not spend the refresh token');
  });

  it('RFC 7523 §3: an assertion issued (iat) or valid (nbf) in the future is refused, beyond a 5-second leeway', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    const now = seconds();
    for (const claims of [{ iat: now + 60, exp: now + 120 }, { nbf: now + 60, exp: now + 120 }]) {
      const res = await clientCredentials(await assertion(agent, claims));
      assert.equal(res.status, 401, JSON.stringify(claims));
      assert.equal(res.body.error, 'invalid_client', JSON.stringify(claims));
    }
    for (const claims of [{ iat: now + 5 }, { nbf: now + 5 }]) {
      assert.equal((await clientCredentials(await assertion(agent, claims))).status, 200, `leeway: ${JSON.stringify(claims)}`);
    }
  });

  it('RFC 6749 §5.2: a suspended agent hears unauthorized_client only once its assertion verified; before that, invalid_client', async () => {
    const agent = await registerAgent(t.http, admin.accessToken);
    await t.http.post(`/api/v1/agents/${agent.id}/suspend`, undefined, { token: admin.accessToken });
    const valid = await assertion(agent);
    const forged = await clientCredentials(`${valid.slice(0, -4)}AAAA`);
    assert.equal(forged.status, 401, 'an unauthenticated caller learns nothing about the agent');
    assert.equal(forged.body.error, 'invalid_client');
    const genuine = await clientCredentials(valid);
    assert.equal(genuine.status, 400);
    assert.equal(genuine.body.error, 'unauthorized_client');
  });

  it('RFC 9700 §4.14 / RFC 6749 §6: a refresh token presented by another client is refused and stays unspent', async () => {
    const refreshToken = await sdkToken();
    const agent = await registerAgent(t.http, admin.accessToken);
    const asAgent = await post('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(agent),
    });
    assert.equal(asAgent.status, 400);
    assert.equal(asAgent.body.error, 'invalid_grant');
    const asAgentId = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: agent.id });
    assert.equal(asAgentId.status, 401);
    assert.equal(asAgentId.body.error, 'invalid_client');
    const owner = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'aim-sdk' });
    assert.equal(owner.status, 200, 'no reuse was detected: the token was never spent by the other client');
  });

  it('RFC 7009: 200 whatever the token, the hint only orders the search, and a refresh token takes its family with it', async () => {
    const requests: Array<Record<string, string>> = [{ token: 'garbage' }, { token: 'rt_nope', token_type_hint: 'refresh_token' }, { token: 'x', token_type_hint: 'id_token' }];
    for (const params of requests) {
      const res = await post('/oauth/revoke', params);
      assert.equal(res.status, 200, JSON.stringify(params));
    }
    const refreshToken = await sdkToken();
    const used = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken });
    const accessToken = String(used.body.access_token);
    assert.equal((await post('/oauth/revoke', { token: String(used.body.refresh_token), token_type_hint: 'access_token' })).status, 200);
    assert.equal((await t.http.get('/api/v1/agents', { token: accessToken })).status, 401, 'the family went, its access tokens too');
    const again = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: String(used.body.refresh_token) });
    assert.equal(again.body.error, 'invalid_grant');
  });

  it('RFC 7009 §2.1: a client naming itself may revoke only its own tokens; the token stays live when refused', async () => {
    const refreshToken = await sdkToken();
    const agent = await registerAgent(t.http, admin.accessToken);
    const agentToken = await post('/oauth/token', {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(agent),
    });
    assert.equal(agentToken.status, 200);
    const agentAccess = String(agentToken.body.access_token);
    const auth = { authorization: `Bearer ${admin.accessToken}` };
    const refused: Array<Record<string, string>> = [
      { token: refreshToken, client_id: agent.id },
      { token: refreshToken, client_id: 'aim-web' },
      { token: admin.refreshToken, client_id: 'aim-sdk' },
      { token: admin.accessToken, client_id: 'aim-sdk', token_type_hint: 'access_token' },
      { token: agentAccess, client_id: 'aim-sdk', token_type_hint: 'access_token' },
    ];
    for (const params of refused) {
      const res = await post('/oauth/revoke', params);
      assert.equal(res.status, 400, JSON.stringify(params));
      assert.equal(res.body.error, 'invalid_request');
      assert.match(String(res.body.error_description), /not issued to client/);
    }
    assert.equal((await post('/oauth/introspect', { token: refreshToken }, auth)).body.active, true, 'the SDK token survived');
    const agentAnswer = await post('/oauth/introspect', { token: agentAccess }, auth);
    assert.equal(agentAnswer.body.active, true, 'the agent token survived');
    assert.equal(agentAnswer.body.auth_time, undefined, 'no sign-in behind an agent token');
    assert.equal((await t.http.get('/api/v1/auth/me', { token: admin.accessToken })).status, 200, 'the session survived');
    // An unknown token is still 200 whatever the client_id: nothing is revealed about tokens one does not hold.
    assert.equal((await post('/oauth/revoke', { token: 'rt_nope', client_id: 'aim-sdk' })).status, 200);
    // The owner, by name or anonymously, revokes.
    assert.equal((await post('/oauth/revoke', { token: refreshToken, client_id: 'aim-sdk' })).status, 200);
    assert.equal((await post('/oauth/revoke', { token: agentAccess, client_id: agent.id })).status, 200);
    assert.equal((await post('/oauth/introspect', { token: refreshToken }, auth)).body.active, false);
    assert.equal((await post('/oauth/introspect', { token: agentAccess }, auth)).body.active, false);
  });

  it('RFC 8414: the metadata names no authorization endpoint nor anything that would need one', async () => {
    const { body } = await t.http.get('/.well-known/oauth-authorization-server');
    for (const absent of ['authorization_endpoint', 'code_challenge_methods_supported', 'response_modes_supported']) assert.equal(body[absent], undefined, absent);
    assert.deepEqual(body.grant_types_supported, ['client_credentials', 'refresh_token']);
    assert.deepEqual(body.token_endpoint_auth_methods_supported, ['private_key_jwt', 'none']);
    assert.deepEqual(body.token_endpoint_auth_signing_alg_values_supported, ['EdDSA', 'Ed25519']);
    assert.deepEqual(body.revocation_endpoint_auth_methods_supported, ['none']);
    assert.equal(body.issuer, t.server.config.publicUrl);
  });

  it('RFC 7662 §2.2: active answers carry scope, client_id, sub, exp, iat and iss, and token_type for access tokens', async () => {
    const auth = { authorization: `Bearer ${admin.accessToken}` };
    const issuer = t.server.config.publicUrl;
    const access = await post('/oauth/introspect', { token: admin.accessToken }, auth);
    assert.equal(access.headers.get('cache-control'), 'no-store');
    assert.equal(access.body.active, true);
    for (const field of ['scope', 'client_id', 'sub', 'token_type']) assert.equal(typeof access.body[field], 'string', `access token: ${field}`);
    assert.equal(access.body.iss, issuer);
    assert.equal(access.body.exp, Number(access.body.iat) + t.server.config.accessTokenTtl);
    // A session's access token says when the password was proved; an agent's has no person behind it.
    assert.equal(typeof access.body.auth_time, 'number');
    assert.ok(Number(access.body.auth_time) <= Number(access.body.iat));

    const refresh = await post('/oauth/introspect', { token: admin.refreshToken }, auth);
    assert.equal(refresh.body.active, true);
    for (const field of ['scope', 'client_id', 'sub']) assert.equal(typeof refresh.body[field], 'string', `refresh token: ${field}`);
    assert.equal(refresh.body.token_type, undefined, 'a refresh token is not presented to resource servers: no token_type');
    assert.equal(refresh.body.iss, issuer);
    assert.equal(typeof refresh.body.iat, 'number');
    assert.ok(Number(refresh.body.iat) <= seconds());
    // A session refresh token expires before its family does: exp is the token's own.
    assert.equal(refresh.body.exp, Number(refresh.body.iat) + t.server.config.refreshTokenTtl);
  });

  it('RFC 7662 §2.2: an expired, revoked, spent or unknown token is exactly {"active": false}', async () => {
    // An API key calls: it outlives the access tokens the clock is about to expire.
    const apiKey = await t.http.post('/api/v1/api-keys', { name: 'introspector', scopes: ['agents:read'] }, { token: admin.accessToken });
    const auth = { 'x-api-key': String(apiKey.body.key) };
    const spent = await sdkToken();
    assert.equal((await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: spent })).status, 200);
    const revoked = await sdkToken();
    assert.equal((await post('/oauth/revoke', { token: revoked })).status, 200);
    const expiring = await t.signIn({ organizationId: admin.organizationId });
    // Past exp, though still inside the few seconds of leeway a resource server would allow.
    clock.advance(t.server.config.accessTokenTtl * SECOND + 2 * SECOND);
    for (const [name, token] of Object.entries({ spent, revoked, expired: expiring.accessToken, unknown: 'rt_nope', garbage: 'x' })) {
      const res = await post('/oauth/introspect', { token }, auth);
      assert.equal(res.status, 200, name);
      assert.deepEqual(res.body, { active: false }, name);
    }
  });
});

// The assertion's times reach the stores that keep its jti: they must hold on PostgreSQL and Redis as on SQLite.
describe('RFC 7523 client assertions on PostgreSQL and Redis', () => {
  for (const backend of ['postgres', 'redis'] as const) {
    describe(backend, () => {
      let t: TestServer;
      let admin: SignedIn;
      before(async () => {
        t = await startTestServer({ store: 'postgres', sharedState: backend === 'redis' ? 'redis' : 'memory' });
        admin = await t.signIn({ role: 'admin' });
      });
      after(() => t.close());

      it('RFC 7519 §2: a NumericDate may have a fraction; such an exp is accepted, and its jti still used once', async () => {
        const agent = await registerAgent(t.http, admin.accessToken);
        const now = Date.now() / 1000;
        const jwt = await new SignJWT({ iss: agent.id, sub: agent.id, aud: `${t.server.config.publicUrl}/oauth/token`, iat: now, exp: now + 60.123456, jti: randomUUID() })
          .setProtectedHeader({ alg: 'EdDSA' })
          .sign(agent.keys.privateKey);
        const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt };
        const post = () =>
          t.http.request('/oauth/token', { method: 'POST', raw: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        const first = await post();
        assert.equal(first.status, 200, first.text);
        const replay = await post();
        assert.equal(replay.status, 401, replay.text);
        assert.equal(replay.body.error, 'invalid_client');
      });

      it('a jti the store cannot keep (a NUL character) is invalid_client, not a 500', async () => {
        const agent = await registerAgent(t.http, admin.accessToken);
        const now = Math.floor(Date.now() / 1000);
        const jwt = await new SignJWT({ iss: agent.id, sub: agent.id, aud: `${t.server.config.publicUrl}/oauth/token`, iat: now, exp: now + 60, jti: 'a\u0000b' })
          .setProtectedHeader({ alg: 'EdDSA' })
          .sign(agent.keys.privateKey);
        const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt };
        const res = await t.http.request('/oauth/token', {
          method: 'POST',
          raw: new URLSearchParams(form).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        assert.equal(res.status, 401, res.text);
        assert.equal(res.body.error, 'invalid_client');
      });
    });
  }
});
