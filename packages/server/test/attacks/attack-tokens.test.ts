import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { registerAgent } from '../support/agents.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';
import { assertCatalogued } from '../support/openapi.js';

/** Attack catalogue: forged, confused and mistimed bearer tokens. Each must be `401 invalid_token`. */

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('attack catalogue: bearer tokens', () => {
  let t: TestServer;
  let admin: SignedIn;
  let claims: Record<string, unknown>;
  let header: Record<string, unknown>;
  let signingKey: { kid: string; privateKey: KeyObject };

  before(async () => {
    t = await startTestServer();
    admin = await t.signIn({ role: 'admin' });
    const [h, p] = admin.accessToken.split('.') as [string, string];
    header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    signingKey = t.server.services.signingKeys.current();
  });
  after(() => t.close());

  async function refused(token: string, label: string, path = '/api/v1/auth/me'): Promise<void> {
    const res = await t.http.get(path, { token });
    assertCatalogued(res, label);
    assert.equal(res.status, 401, `${label}: ${res.text}`);
    assert.equal(res.body.error, 'invalid_token', label);
    // RFC 6750 §3 / RFC 9110 §15.5.2: a 401 always carries the Bearer challenge.
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="aim"/, label);
  }

  /** Signs with the server's real key: the attack is in the claims or the header, not the signature. */
  const signReal = (payload: Record<string, unknown>, protectedHeader: Record<string, unknown> = { alg: 'EdDSA', kid: signingKey.kid, typ: 'at+jwt' }) =>
    new SignJWT(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(signingKey.privateKey);

  it('the genuine token works (control), whatever the case of the scheme (RFC 9110 §11.1), but not with its own case changed', async () => {
    assert.equal((await t.http.get('/api/v1/auth/me', { token: admin.accessToken })).status, 200);
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      assert.equal((await t.http.get('/api/v1/auth/me', { headers: { authorization: `${scheme} ${admin.accessToken}` } })).status, 200, scheme);
    }
    const flipped = admin.accessToken.replace(/[a-z]/, (c) => c.toUpperCase());
    assert.equal((await t.http.get('/api/v1/auth/me', { headers: { authorization: `Bearer ${flipped}` } })).status, 401);
  });

  it('alg "none" in every spelling, with and without a signature', async () => {
    const body = b64(claims);
    for (const alg of ['none', 'None', 'NONE', 'nOnE', '']) {
      await refused(`${b64({ ...header, alg })}.${body}.`, `alg ${alg}`);
      await refused(`${b64({ ...header, alg })}.${body}.${admin.accessToken.split('.')[2]}`, `alg ${alg} with the old signature`);
    }
    await refused(`${b64({ typ: 'at+jwt' })}.${body}.`, 'no alg at all');
  });

  it('algorithm confusion: HS256/384/512 keyed with the public key in every encoding the JWKS offers', async () => {
    const jwks = (await t.http.get<{ keys: Array<Record<string, string>> }>('/.well-known/jwks.json')).body.keys;
    const jwk = jwks.find((k) => k.kid === signingKey.kid)!;
    assert.ok(jwk, 'the signing key is published');
    const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
    const secrets = [
      publicKey.export({ type: 'spki', format: 'pem' }) as string,
      publicKey.export({ type: 'spki', format: 'der' }),
      Buffer.from(jwk.x!, 'base64url'),
      jwk.x!,
      JSON.stringify(jwk),
    ];
    for (const [alg, hash] of [['HS256', 'sha256'], ['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
      for (const secret of secrets) {
        const signingInput = `${b64({ alg, kid: signingKey.kid, typ: 'at+jwt' })}.${b64(claims)}`;
        await refused(`${signingInput}.${createHmac(hash, secret).update(signingInput).digest('base64url')}`, `${alg} with the public key`);
      }
    }
    // The same confusion in other families: RSA and ECDSA headers over a genuine Ed25519 signature.
    const genuine = (await signReal(claims)).split('.');
    for (const alg of ['RS256', 'ES256', 'PS256', 'ES256K']) {
      await refused(`${b64({ alg, kid: signingKey.kid, typ: 'at+jwt' })}.${genuine[1]}.${genuine[2]}`, `alg ${alg}`);
    }
  });

  it('kid injection: traversal, SQL, URLs, huge values, wrong types, and a stranger key under a real kid', async () => {
    const { privateKey: stranger } = generateKeyPairSync('ed25519');
    const kids: unknown[] = ["' OR '1'='1", '../../../../dev/null', '/etc/passwd', 'https://evil.example/jwks.json', '\u0000', 'x'.repeat(10_000), 42, null, ['a'], { $ne: null }, ''];
    for (const kid of kids) {
      const token = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: kid as string, typ: 'at+jwt' }).sign(stranger);
      await refused(token, `kid ${JSON.stringify(kid).slice(0, 30)}`);
    }
    await refused(await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: signingKey.kid, typ: 'at+jwt' }).sign(stranger), 'stranger key under the real kid');
  });

  it('header-supplied keys (jwk, jku, x5u, x5c) are never trusted', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    for (const extra of [{ jwk }, { jku: 'https://evil.example/jwks.json' }, { x5u: 'https://evil.example/cert.pem' }, { x5c: ['MIIB'] }]) {
      const token = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', ...extra } as unknown as { alg: string }).sign(privateKey);
      await refused(token, `header ${Object.keys(extra)[0]}`);
    }
  });

  it('expired, not-yet-valid and issued-in-the-future tokens, signed with the real key', async () => {
    const base: Record<string, unknown> = { ...claims, jti: randomUUID() };
    await refused(await signReal({ ...base, iat: now() - 7200, exp: now() - 3600 }), 'expired an hour ago');
    await refused(await signReal({ ...base, iat: now() - 60, exp: now() - 10 }), 'expired beyond the 5 s tolerance');
    await refused(await signReal({ ...base, nbf: now() + 600, iat: now(), exp: now() + 900 }), 'not valid for 10 minutes');
    await refused(await signReal({ ...base, iat: now(), exp: '9999999999' }), 'exp as a string');
    const { exp: _exp, ...noExp } = base;
    await refused(await signReal(noExp), 'no exp');
  });

  it('RFC 6750 §3.1: a presented token that is refused answers a challenge with error="invalid_token"; no token, a bare challenge', async () => {
    const challenge = async (token: string | undefined) => {
      const res = await t.http.get('/api/v1/auth/me', token === undefined ? {} : { token });
      assert.equal(res.status, 401, res.text);
      return res.headers.get('www-authenticate');
    };
    assert.equal(await challenge(undefined), 'Bearer realm="aim"');
    const expired = await signReal({ ...claims, jti: randomUUID(), iat: now() - 7200, exp: now() - 3600 });
    assert.equal(await challenge(expired), 'Bearer realm="aim", error="invalid_token"');
    const ended = await t.signIn({ organizationId: admin.organizationId });
    assert.equal((await t.http.post('/api/v1/auth/logout', undefined, { token: ended.accessToken })).status, 200);
    assert.equal(await challenge(ended.accessToken), 'Bearer realm="aim", error="invalid_token"', 'a revoked session');
  });

  it('wrong issuer or audience, signed with the real key', async () => {
    await refused(await signReal({ ...claims, iss: 'https://evil.example' }), 'issuer');
    await refused(await signReal({ ...claims, aud: 'https://other-service.example' }), 'audience');
    await refused(await signReal({ ...claims, aud: ['https://other-service.example'] }), 'audience array');
  });

  it('token type confusion: refresh as access, ID-token shapes, client assertions, keys as bearers, access as refresh', async () => {
    await refused(admin.refreshToken, 'refresh token as bearer');
    // An OpenID-style ID token signed by the server's own key: typ JWT, no kind, audience a client.
    const idToken = await signReal(
      { iss: claims.iss, sub: admin.id, aud: 'aim-sdk', iat: now(), exp: now() + 600, nonce: 'n', email: admin.email },
      { alg: 'EdDSA', kid: signingKey.kid, typ: 'JWT' },
    );
    await refused(idToken, 'ID token');
    await refused(await signReal({ ...claims, jti: randomUUID() }, { alg: 'EdDSA', kid: signingKey.kid, typ: 'JWT' }), 'access claims with typ JWT');
    await refused(await signReal({ ...claims, jti: randomUUID() }, { alg: 'EdDSA', kid: signingKey.kid }), 'access claims without typ');
    const { kind: _kind, ...noKind } = claims;
    await refused(await signReal({ ...noKind, jti: randomUUID() }), 'no kind claim');
    await refused(await signReal({ ...claims, kind: 'refresh', jti: randomUUID() }), 'unknown kind');

    // An agent's client assertion (signed by the agent, meant for /oauth/token) presented as a bearer.
    const agent = await registerAgent(t.http, admin.accessToken);
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(agent.id)
      .setSubject(agent.id)
      .setAudience(`${t.server.config.publicUrl}/oauth/token`)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(agent.keys.privateKey);
    await refused(assertion, 'client assertion as bearer');

    // An API key as a bearer, a JWT as an API key.
    const key = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'confusion', scopes: ['admin'] }, { token: admin.accessToken });
    await refused(key.body.key, 'API key as bearer');
    const asKey = await t.http.get('/api/v1/agents', { apiKey: admin.accessToken });
    assert.equal(asKey.status, 401);
    assert.equal(asKey.body.error, 'invalid_api_key');

    // An access token where a refresh token belongs, on both refresh endpoints.
    const asRefresh = await t.http.post('/api/v1/auth/refresh', { refresh_token: admin.accessToken.slice(0, 512) });
    assertCatalogued(asRefresh, 'access token as refresh token');
    assert.equal(asRefresh.status, asRefresh.body.error === 'invalid_request' ? 400 : 401);
    const oauthRefresh = await t.http.request('/oauth/token', {
      method: 'POST',
      raw: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: admin.accessToken, client_id: 'aim-sdk' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(oauthRefresh.status, 400);
    assert.equal(oauthRefresh.body.error, 'invalid_grant');
  });

  it('a session refresh token is not an SDK token and the other way round', async () => {
    const session = await t.signIn({ role: 'member' });
    const viaOauth = await t.http.request('/oauth/token', {
      method: 'POST',
      raw: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: session.refreshToken, client_id: 'aim-sdk' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(viaOauth.body.error, 'invalid_grant', viaOauth.text);
    const sdk = await t.http.post<{ refresh_token: string }>('/api/v1/sdk-tokens', { name: 'ci' }, { token: session.accessToken });
    assert.equal(sdk.status, 201);
    const viaSession = await t.http.post('/api/v1/auth/refresh', { refresh_token: sdk.body.refresh_token });
    assert.equal(viaSession.status, 401, viaSession.text);
    // Neither attempt spent the genuine tokens.
    assert.equal((await t.http.post('/api/v1/auth/refresh', { refresh_token: session.refreshToken })).status, 200);
  });
});
