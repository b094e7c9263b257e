import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { generateApiKey } from '../../src/api-keys/format.js';
import { systemRandom } from '../../src/core/random.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Hostile bearer tokens, built from a real one where that makes the attack sharper. */
export async function forgedTokens(real: string, issuer: string): Promise<Record<string, string>> {
  const [header, payload, signature] = real.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  const { privateKey: strangerKey } = generateKeyPairSync('ed25519');
  const stranger = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: JSON.parse(Buffer.from(header, 'base64url').toString()).kid as string, typ: 'at+jwt' })
    .sign(strangerKey);
  const hsHeader = b64({ alg: 'HS256', typ: 'at+jwt', kid: 'x' });
  const hsBody = b64(claims);
  const hs256 = `${hsHeader}.${hsBody}.${createHmac('sha256', 'public-key-as-secret').update(`${hsHeader}.${hsBody}`).digest('base64url')}`;
  return {
    garbage: 'not-a-token',
    'tampered payload': `${header}.${b64({ ...claims, role: 'admin', scope: 'admin' })}.${signature}`,
    'tampered signature': `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
    'alg none': `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`,
    'alg HS256': hs256,
    'signed by a stranger with a known kid': stranger,
    'kid injection': `${b64({ alg: 'EdDSA', typ: 'at+jwt', kid: "../../etc/passwd' or 1=1 --" })}.${payload}.${signature}`,
    'plain JWT type': `${b64({ alg: 'EdDSA', typ: 'JWT', kid: 'x' })}.${payload}.${signature}`,
    'expired claims': `${header}.${b64({ ...claims, exp: now - 3600, iat: now - 7200 })}.${signature}`,
    'wrong issuer': `${header}.${b64({ ...claims, iss: 'https://evil.example' })}.${signature}`,
    'refresh token as bearer': 'rt_00000000-0000-4000-8000-000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    oversized: `${header}.${'A'.repeat(10_000)}.${signature}`,
    issuer: issuer,
  };
}

/** Hostile X-API-Key values: each must be a 401 on every secured route, whether or not it accepts keys. */
export function forgedApiKeys(): Record<string, string> {
  const real = generateApiKey('live', systemRandom);
  const flip = (c: string) => (c === 'A' ? 'B' : 'A');
  return {
    garbage: 'not-a-key',
    truncated: real.slice(0, -2),
    'bad checksum': real.slice(0, 20) + flip(real[20]!) + real.slice(21),
    'other environment': generateApiKey('test', systemRandom),
    'well formed, never issued': real,
    oversized: `ak_live_${'A'.repeat(6000)}`,
  };
}
