import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, webcrypto, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { SignJWT, createRemoteJWKSet, jwtVerify } from 'jose';
import { newKeyPair, nonce, registerAgent, signText, signedAction } from '../support/agents.js';
import { STORE_KINDS } from '../support/databases.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

async function cryptoKey(privateKey: KeyObject): Promise<webcrypto.CryptoKey> {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'Ed25519' }, false, ['sign']);
}

const form = (t: TestServer, path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
  t.http.request(path, { method: 'POST', raw: new URLSearchParams(params).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });

describe('OAuth 2.0 with a client nobody here wrote (oauth4webapi) and jose', () => {
  let t: TestServer;
  let admin: SignedIn;
  let as: oauth.AuthorizationServer;
  before(async () => {
    t = await startTestServer();
    admin = await t.signIn({ role: 'admin' });
    const issuer = new URL(t.server.config.publicUrl);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });
  after(() => t.close());

  it('publishes RFC 8414 metadata listing exactly what is implemented, at both well-known paths', async () => {
    assert.equal(as.issuer, t.server.config.publicUrl);
    assert.equal(as.token_endpoint, `${t.server.config.publicUrl}/oauth/token`);
    assert.deepEqual(as.grant_types_supported, ['client_credentials', 'refresh_token']);
    assert.ok(as.token_endpoint_auth_methods_supported?.includes('private_key_jwt'));
    const oidc = await t.http.get('/.well-known/openid-configuration');
    assert.deepEqual(oidc.body, (await t.http.get('/.well-known/oauth-authorization-server')).body);
  });

  it('client_credentials with private_key_jwt: an agent gets a token jose verifies against the JWKS', async () => {
    const agent = await registerAgent(t.http, admin.accessToken, { capabilities: ['search'] });
    const client: oauth.Client = { client_id: agent.id };
    const auth = oauth.PrivateKeyJwt(await cryptoKey(agent.keys.privateKey));
    const response = await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: 'verify' }), insecure);
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.refresh_token, undefined, 'no refresh token for client_credentials (RFC 6749 §4.4.3)');

    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: as.issuer,
      audience: as.issuer,
      typ: 'at+jwt',
      algorithms: ['EdDSA'],
    });
    assert.equal(payload.sub, agent.id);
    assert.equal(payload.client_id, agent.id, 'RFC 9068 §2.2: the client it was issued to');
    assert.equal(payload.scope, 'verify');
    assert.equal(typeof protectedHeader.kid, 'string');

    // The agent's token verifies its own actions, with the OAuth rate-limit class, and no one else's.
    const own = await t.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, 'search', 'x'), { token: tokens.access_token });
    assert.equal(own.status, 200);
    const other = await registerAgent(t.http, admin.accessToken);
    const theirs = await t.http.post(`/api/v1/agents/${other.id}/verify-action`, signedAction(other.id, other.keys.privateKey, 'search', 'x'), { token: tokens.access_token });
    assert.equal(theirs.status, 404);
    const scoped = await t.http.get('/api/v1/agents', { token: tokens.access_token });
    assert.equal(scoped.status, 403);
    assert.equal(scoped.body.error, 'insufficient_scope');

    // Suspending the agent stops its token at once.
    await t.http.post(`/api/v1/agents/${agent.id}/suspend`, undefined, { token: admin.accessToken });
    assert.equal((await t.http.post(`/api/v1/agents/${agent.id}/verify-action`, signedAction(agent.id, agent.keys.privateKey, 'search', 'x'), { token: tokens.access_token })).status, 401);
  });

  describe('client assertions are refused when', () => {
    let agent: Awaited<ReturnType<typeof registerAgent>>;
    before(async () => {
      agent = await registerAgent(t.http, admin.accessToken);
    });
    const assertion = (overrides: { aud?: string; exp?: number; iat?: number; jti?: string; sub?: string; iss?: string } = {}, key?: KeyObject, alg = 'EdDSA') => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ jti: overrides.jti ?? randomUUID() })
        .setProtectedHeader({ alg })
        .setIssuer(overrides.iss ?? agent.id)
        .setSubject(overrides.sub ?? agent.id)
        .setAudience(overrides.aud ?? `${t.server.config.publicUrl}/oauth/token`)
        .setIssuedAt(overrides.iat ?? now)
        .setExpirationTime(overrides.exp ?? now + 60)
        .sign(key ?? agent.keys.privateKey);
    };
    const grant = async (jwt: string) =>
      form(t, '/oauth/token', {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: jwt,
      });

    it('a jti is replayed', async () => {
      const jwt = await assertion();
      assert.equal((await grant(jwt)).status, 200);
      const replay = await grant(jwt);
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error, 'invalid_client');
    });

    it('the audience is wrong, it expired, it lives too long, iss differs from sub, or another key signed it', async () => {
      const now = Math.floor(Date.now() / 1000);
      const { privateKey: stranger } = generateKeyPairSync('ed25519');
      const cases = {
        'wrong aud': await assertion({ aud: 'https://elsewhere.example/oauth/token' }),
        expired: await assertion({ iat: now - 600, exp: now - 300 }),
        'too long': await assertion({ exp: now + 3600 }),
        'iss != sub': await assertion({ iss: randomUUID() }),
        'stranger key': await assertion({}, stranger),
      };
      for (const [name, jwt] of Object.entries(cases)) {
        const res = await grant(jwt);
        assert.equal(res.status, 401, name);
        assert.equal(res.body.error, 'invalid_client', name);
      }
    });

    it('RFC 7519 §4.1.7: a jti that is not a string is refused (an object would pass as "[object Object]")', async () => {
      for (const jti of [{ a: 1 }, 123, ['x'], true, '']) {
        const res = await grant(await assertion({ jti } as never));
        assert.equal(res.status, 401, JSON.stringify(jti));
        assert.equal(res.body.error, 'invalid_client', JSON.stringify(jti));
      }
    });

    it('signed by the key a rotation replaced: accepted during its grace, refused once that key is revoked', async () => {
      const rotated = await registerAgent(t.http, admin.accessToken);
      const next = newKeyPair();
      const timestamp = Math.floor(Date.now() / 1000);
      const n = nonce();
      const signature = signText(rotated.keys.privateKey, `rotate:${rotated.id}:${next.publicKey}:${timestamp}:${n}`);
      const res = await t.http.post<{ previous: { key_id: string } }>(
        `/api/v1/agents/${rotated.id}/keys/rotate`,
        { public_key: next.publicKey, timestamp, nonce: n, signature },
        { token: admin.accessToken },
      );
      assert.equal(res.status, 200, res.text);
      const byOldKey = async () => grant(await assertion({ iss: rotated.id, sub: rotated.id }, rotated.keys.privateKey));
      assert.equal((await byOldKey()).status, 200, 'a copy of the agent that still holds the old key keeps working');
      const revoked = await t.http.post(`/api/v1/agents/${rotated.id}/keys/${res.body.previous.key_id}/revoke`, undefined, { token: admin.accessToken });
      assert.equal(revoked.status, 200, revoked.text);
      const refused = await byOldKey();
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error, 'invalid_client');
    });

    it('the algorithm is not EdDSA', async () => {
      const { privateKey: ec } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const es256 = await assertion({}, ec, 'ES256');
      const header = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');
      const body = Buffer.from(JSON.stringify({ iss: agent.id, sub: agent.id, aud: `${t.server.config.publicUrl}/oauth/token`, exp: Math.floor(Date.now() / 1000) + 60, jti: randomUUID() })).toString('base64url');
      const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${body}.`;
      for (const [name, jwt] of Object.entries({ es256, hs256: `${header}.${body}.c2ln`, none })) {
        const res = await grant(jwt);
        assert.equal(res.status, 401, name);
        assert.equal(res.body.error, 'invalid_client', name);
      }
    });
  });

  it('SDK tokens: refresh rotates, revocation stops the family, and nothing revives it', async () => {
    const created = await t.http.post('/api/v1/sdk-tokens', { name: 'ci-pipeline', scopes: ['agents:read'] }, { token: admin.accessToken });
    assert.equal(created.status, 201);
    assert.equal(created.body.client_id, 'aim-sdk');
    const client: oauth.Client = { client_id: 'aim-sdk' };
    let refreshToken = String(created.body.refresh_token);

    const first = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, insecure));
    assert.ok(first.refresh_token && first.refresh_token !== refreshToken, 'rotated');
    assert.equal(first.scope, 'agents:read');
    const { payload: sdkClaims } = await jwtVerify(first.access_token, createRemoteJWKSet(new URL(as.jwks_uri!)), { issuer: as.issuer, typ: 'at+jwt' });
    assert.equal(sdkClaims.client_id, 'aim-sdk');
    const agents = await t.http.get('/api/v1/agents', { token: first.access_token });
    assert.equal(agents.status, 200);
    assert.equal((await t.http.post('/api/v1/agents', { name: 'x' }, { token: first.access_token })).status, 403, 'scopes are enforced');
    refreshToken = first.refresh_token!;

    const listed = await t.http.get<{ sdk_tokens: Array<Record<string, unknown>> }>('/api/v1/sdk-tokens', { token: admin.accessToken });
    const entry = listed.body.sdk_tokens.find((s) => s.id === created.body.id)!;
    assert.equal(entry.name, 'ci-pipeline');
    assert.equal(typeof entry.last_used_at, 'number');
    assert.equal(entry.last_used_ip, '127.0.0.1');
    assert.ok(!listed.text.includes('rt_'), 'the token is never listed');

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), refreshToken, insecure));
    const after = await form(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'aim-sdk' });
    assert.equal(after.status, 400);
    assert.equal(after.body.error, 'invalid_grant');
    assert.equal((await t.http.get('/api/v1/agents', { token: first.access_token })).status, 401, 'its access tokens stop too');
  });

  it('reuse of a rotated SDK refresh token revokes the family; 20 concurrent presentations have one winner', async () => {
    const created = await t.http.post('/api/v1/sdk-tokens', { name: 'race' }, { token: admin.accessToken });
    const original = String(created.body.refresh_token);
    const results = await Promise.all(Array.from({ length: 20 }, () => form(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: original })));
    const winners = results.filter((r) => r.status === 200);
    assert.equal(winners.length, 1);
    for (const r of results.filter((x) => x.status !== 200)) assert.equal(r.body.error, 'invalid_grant');
    const newest = String(winners[0]!.body.refresh_token);
    const afterReuse = await form(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: newest });
    assert.equal(afterReuse.status, 400, 'the family was revoked by the reuse');
    const audit = await t.server.stores.audit.list({ organizationId: admin.organizationId, event: 'sdk_token.reuse_detected', limit: 10 });
    assert.ok(audit.length >= 1);
  });

  it('revoke-all stops every SDK token of the user', async () => {
    const a = await t.http.post('/api/v1/sdk-tokens', { name: 'a' }, { token: admin.accessToken });
    const b = await t.http.post('/api/v1/sdk-tokens', { name: 'b' }, { token: admin.accessToken });
    const res = await t.http.post('/api/v1/sdk-tokens/revoke-all', undefined, { token: admin.accessToken });
    assert.equal(res.status, 200);
    assert.ok(Number(res.body.revoked) >= 2);
    for (const token of [a.body.refresh_token, b.body.refresh_token]) {
      assert.equal((await form(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: String(token) })).status, 400);
    }
    const one = await t.http.post(`/api/v1/sdk-tokens/${String(a.body.id)}/revoke`, undefined, { token: admin.accessToken });
    assert.equal(one.status, 200);
    assert.equal(one.body.status, 'revoked');
    const outsider = await t.signIn();
    assert.equal((await t.http.post(`/api/v1/sdk-tokens/${String(a.body.id)}/revoke`, undefined, { token: outsider.accessToken })).status, 404);
  });

  it('an SDK token cannot carry more than its creator role allows', async () => {
    const viewer = await t.signIn({ role: 'viewer', organizationId: admin.organizationId });
    const res = await t.http.post('/api/v1/sdk-tokens', { name: 'x', scopes: ['agents:write'] }, { token: viewer.accessToken });
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'insufficient_scope');
    const narrow = await t.http.post('/api/v1/sdk-tokens', { name: 'y', scopes: ['agents:read', 'audit:read'] }, { token: viewer.accessToken });
    assert.equal(narrow.status, 201);
    const widen = await form(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: String(narrow.body.refresh_token), scope: 'admin' });
    assert.equal(widen.status, 400);
    assert.equal(widen.body.error, 'invalid_scope');
    const narrower = await form(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: String(narrow.body.refresh_token), scope: 'audit:read' });
    assert.equal(narrower.status, 200, 'the refused widening did not spend the token');
    assert.equal(narrower.body.scope, 'audit:read');
  });

  it('introspection answers authenticated callers only, and only about their organization', async () => {
    const created = await t.http.post('/api/v1/sdk-tokens', { name: 'introspect' }, { token: admin.accessToken });
    const refreshToken = String(created.body.refresh_token);
    const unauth = await form(t, '/oauth/introspect', { token: refreshToken });
    assert.equal(unauth.status, 401);
    const auth = { authorization: `Bearer ${admin.accessToken}` };
    const rt = await form(t, '/oauth/introspect', { token: refreshToken }, auth);
    assert.equal(rt.body.active, true);
    assert.equal(rt.body.token_type, undefined, 'RFC 7662 token_type names how an access token is presented; a refresh token has none');
    assert.equal(rt.body.client_id, 'aim-sdk');
    const at = await form(t, '/oauth/introspect', { token: admin.accessToken }, auth);
    assert.equal(at.body.active, true);
    assert.equal(at.body.sub, admin.id);
    assert.equal((await form(t, '/oauth/introspect', { token: 'garbage' }, auth)).body.active, false);
    const outsider = await t.signIn();
    const foreign = await form(t, '/oauth/introspect', { token: refreshToken }, { authorization: `Bearer ${outsider.accessToken}` });
    assert.deepEqual(foreign.body, { active: false });
  });

  it('the token endpoint speaks RFC 6749: forms only, catalogued errors, no caching', async () => {
    const json = await t.http.post('/oauth/token', { grant_type: 'refresh_token' });
    assert.equal(json.status, 400);
    assert.equal(json.body.error, 'invalid_request');
    const unsupported = await form(t, '/oauth/token', { grant_type: 'password', username: 'a', password: 'b' });
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body.error, 'unsupported_grant_type');
    const missing = await form(t, '/oauth/token', {});
    assert.equal(missing.body.error, 'invalid_request');
    const duplicate = await t.http.request('/oauth/token', {
      method: 'POST',
      raw: 'grant_type=refresh_token&grant_type=client_credentials',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(duplicate.status, 400);
    const ok = await t.http.post('/api/v1/sdk-tokens', { name: 'nocache' }, { token: admin.accessToken });
    const res = await form(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: String(ok.body.refresh_token) });
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const session = await form(t, '/oauth/token', { grant_type: 'refresh_token', refresh_token: admin.refreshToken });
    assert.equal(session.body.error, 'invalid_grant', 'a browser session token is not an SDK token');
    assert.equal((await t.http.post('/api/v1/auth/refresh', { refresh_token: admin.refreshToken })).status, 200, '…and was left untouched');
  });

  it('signing-key rotation keeps the previous key published so its tokens still verify', async () => {
    const before = await t.signIn();
    const oldKid = t.server.services.signingKeys.current().kid;
    await t.server.services.signingKeys.rotate();
    const jwks = await t.http.get<{ keys: Array<{ kid: string }> }>('/.well-known/jwks.json');
    const kids = jwks.body.keys.map((k) => k.kid);
    assert.ok(kids.includes(oldKid) && kids.length >= 2);
    assert.equal((await t.http.get('/api/v1/auth/me', { token: before.accessToken })).status, 200);
    const fresh = await t.signIn();
    const { payload, protectedHeader } = await jwtVerify(fresh.accessToken, createRemoteJWKSet(new URL(as.jwks_uri!)), { issuer: as.issuer });
    assert.notEqual(protectedHeader.kid, oldKid);
    assert.equal(payload.client_id, 'aim-web', 'a password sign-in is the first-party web client');
  });
});

for (const store of STORE_KINDS) {
  describe(`client assertion jti under concurrency (${store})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store });
    });
    after(() => t.close());

    it('one assertion presented 10 times at once yields one token', async () => {
      const admin = await t.signIn();
      const agent = await registerAgent(t.http, admin.accessToken);
      const now = Math.floor(Date.now() / 1000);
      const jwt = await new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setIssuer(agent.id)
        .setSubject(agent.id)
        .setAudience(`${t.server.config.publicUrl}/oauth/token`)
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(agent.keys.privateKey);
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          form(t, '/oauth/token', { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 200).length, 1);
    });
  });
}
