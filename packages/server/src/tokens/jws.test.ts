import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT, jwtVerify } from 'jose';
import { JwtError, signEdDsaJwt, verifyEdDsaJwt, type VerifyOptions } from './jws.js';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const NOW = 1_800_000_000_000;
const now = NOW / 1000;
const options: VerifyOptions = { algorithms: ['EdDSA'], typ: 'at+jwt', issuer: 'https://aim.test', audience: 'https://aim.test', requiredClaims: ['sub', 'exp', 'jti'], now: NOW, clockTolerance: 5 };
const claims = { iss: 'https://aim.test', aud: 'https://aim.test', sub: 'u1', jti: 'j1', iat: now, nbf: now, exp: now + 60 };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const token = (header: Record<string, unknown>, payload: Record<string, unknown>) => signEdDsaJwt(header, payload, privateKey);
const good = token({ typ: 'at+jwt', kid: 'k' }, claims);

async function refused(jwt: string, opts: Partial<VerifyOptions> = {}, key = publicKey): Promise<JwtError> {
  try {
    await verifyEdDsaJwt(jwt, key, { ...options, ...opts });
  } catch (error) {
    assert.ok(error instanceof JwtError, String(error));
    return error;
  }
  throw new Error('accepted');
}

describe('EdDSA compact JWS on node:crypto', () => {
  it('agrees with jose both ways', async () => {
    const { payload, protectedHeader } = await jwtVerify(good, publicKey, { algorithms: ['EdDSA'], typ: 'at+jwt', issuer: claims.iss, audience: claims.aud, currentDate: new Date(NOW) });
    assert.equal(payload.sub, 'u1');
    assert.equal(protectedHeader.alg, 'EdDSA');
    const byJose = await new SignJWT({ jti: 'j2' }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).setIssuer(claims.iss).setAudience([claims.aud, 'other']).setSubject('u2').setIssuedAt(now).setExpirationTime(now + 60).sign(privateKey);
    const verified = await verifyEdDsaJwt(byJose, publicKey, options);
    assert.equal(verified.payload.sub, 'u2');
    assert.equal((await verifyEdDsaJwt(good, () => publicKey, options)).header.kid, 'k');
  });

  it('refuses other algorithms, extensions and malformed tokens', async () => {
    const [h, p, s] = good.split('.') as [string, string, string];
    await refused(`${b64({ alg: 'none', typ: 'at+jwt' })}.${p}.`);
    const hsInput = `${b64({ alg: 'HS256', typ: 'at+jwt' })}.${p}`;
    await refused(`${hsInput}.${createHmac('sha256', 'k').update(hsInput).digest('base64url')}`);
    await refused(`${b64({ alg: 'Ed25519', typ: 'at+jwt' })}.${p}.${s}`);
    await refused(token({ typ: 'at+jwt', crit: ['exp'] }, claims));
    await refused(token({ typ: 'at+jwt', b64: false }, claims));
    await refused(`${h}.${p}`);
    await refused(`${h}.${p}.${s}.x`);
    await refused(`${h}.${p}.${s.slice(0, -1)}`);
    await refused(`${h}.${b64({ ...claims, sub: 'admin' })}.${s}`);
    // One bit of the signature flipped (editing base64 text could leave the decoded bytes unchanged).
    const flipped = Buffer.from(s, 'base64url');
    flipped[40] = flipped[40]! ^ 1;
    await refused(`${h}.${p}.${flipped.toString('base64url')}`);
    await refused(token({ typ: 'at+jwt' }, ['not', 'an', 'object'] as unknown as Record<string, unknown>));
    await refused(`${h}.${Buffer.from('{not json').toString('base64url')}.${s}`);
  });

  it('refuses the wrong key, type, issuer, audience, subject and missing claims', async () => {
    await refused(good, {}, generateKeyPairSync('ed25519').publicKey);
    await refused(good, {}, generateKeyPairSync('x25519').publicKey);
    await refused(good, {}, privateKey);
    await refused(good, { typ: 'JWT' });
    await refused(token({ typ: 'JWT' }, claims));
    assert.equal((await verifyEdDsaJwt(token({ typ: 'application/AT+JWT' }, claims), publicKey, options)).payload.sub, 'u1');
    await refused(good, { issuer: 'https://evil.test' });
    await refused(good, { audience: ['https://evil.test'] });
    await refused(good, { subject: 'someone-else' });
    const { jti: _jti, ...withoutJti } = claims;
    await refused(token({ typ: 'at+jwt' }, withoutJti));
    const { aud: _aud, ...withoutAud } = claims;
    await refused(token({ typ: 'at+jwt' }, withoutAud));
    await refused(token({ typ: 'at+jwt' }, { ...claims, aud: 42 }));
  });

  it('checks times with the tolerance, and says when a token expired', async () => {
    assert.equal((await refused(token({ typ: 'at+jwt' }, { ...claims, exp: now - 5 }))).expired, true);
    await verifyEdDsaJwt(token({ typ: 'at+jwt' }, { ...claims, exp: now - 4 }), publicKey, options);
    assert.equal((await refused(token({ typ: 'at+jwt' }, { ...claims, nbf: now + 6 }))).expired, false);
    await verifyEdDsaJwt(token({ typ: 'at+jwt' }, { ...claims, nbf: now + 5 }), publicKey, options);
    await refused(token({ typ: 'at+jwt' }, { ...claims, exp: String(now + 60) }));
    await refused(token({ typ: 'at+jwt' }, { ...claims, iat: 'yesterday' }));
  });
});
