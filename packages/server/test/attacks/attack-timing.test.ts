import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CHECKSUM_LENGTH, crc32, generateApiKey, parseApiKey, toBase62 } from '../../src/api-keys/format.js';
import { systemRandom } from '../../src/core/random.js';
import { startTestServer, type SignedIn, type TestServer, type TestUser } from '../support/server.js';

/**
 * Attack catalogue: timing. On a shared, loaded machine single timings mean nothing, so each test interleaves the
 * two kinds of request (noise hits both alike) and compares medians with bounds wide enough to never flake, yet far
 * tighter than the difference a real leak makes (an argon2 hash skipped is a 10x gap, not 2x).
 */

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

let address = 0;
const nextAddress = () => `10.9.${Math.floor(++address / 250)}.${address % 250}`;

describe('attack catalogue: timing of credential checks', () => {
  let t: TestServer;
  let admin: SignedIn;
  before(async () => {
    // Each guess comes from its own address (through a trusted proxy) so throttling never short-cuts the work.
    t = await startTestServer({ env: { AIM_TRUST_PROXY: '127.0.0.1', AIM_RATE_LIMIT_PUBLIC: '100000', AIM_RATE_LIMIT_JWT: '100000' } });
    admin = await t.signIn({ role: 'admin' });
  });
  after(() => t.close());

  it('a wrong password takes as long for an existing account as for an unknown email', async (t2) => {
    const users: TestUser[] = [];
    for (let i = 0; i < 4; i++) users.push(await t.createUser({ role: 'member' }));
    const existing: number[] = [];
    const unknown: number[] = [];
    const login = (email: string) =>
      t.http.post('/api/v1/public/login', { email, password: 'wrong-password-123456' }, { headers: { 'x-forwarded-for': nextAddress() } });
    // Warm-up: JIT and the decoy hash.
    await login('warm@example.test');
    for (let i = 0; i < 12; i++) {
      // Each account gets at most 3 wrong guesses, under the 5 free ones, so no answer is a throttled shortcut.
      const user = users[i % users.length]!;
      const pair: Array<[number[], string]> = [[existing, user.email], [unknown, `nobody-${i}-${Date.now()}@example.test`]];
      if (i % 2) pair.reverse();
      for (const [bucket, email] of pair) {
        let status = 0;
        bucket.push(await timed(async () => (status = (await login(email)).status)));
        assert.equal(status, 401);
      }
    }
    const ratio = median(existing) / median(unknown);
    t2.diagnostic(`timing: password existing=${median(existing).toFixed(1)}ms unknown=${median(unknown).toFixed(1)}ms ratio=${ratio.toFixed(2)}`);
    assert.ok(ratio > 0.5 && ratio < 2, `existing ${median(existing).toFixed(1)} ms vs unknown ${median(unknown).toFixed(1)} ms`);
  });

  it('an API key that shares a real key\'s first 40 characters is refused as fast as a random one', async (t2) => {
    const real = (await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'timing', scopes: ['agents:read'] }, { token: admin.accessToken })).body.key;
    assert.equal((await t.http.get('/api/v1/agents', { apiKey: real })).status, 200);
    // Well-formed (right checksum) so both reach the database: one random, one a near-miss of the real secret.
    const nearMiss = () => {
      for (;;) {
        const candidate = generateApiKey('live', systemRandom);
        const spliced = withChecksum(real.slice(0, 48) + candidate.slice(48, 51));
        if (spliced !== real) return spliced;
      }
    };
    assert.equal(parseApiKey(nearMiss()).ok, true, 'near misses are well-formed');
    const random: number[] = [];
    const near: number[] = [];
    for (let i = 0; i < 10; i++) await t.http.get('/api/v1/agents', { apiKey: generateApiKey('live', systemRandom) });
    const PAIRS = 160;
    for (let i = 0; i < PAIRS; i++) {
      const pair: Array<[number[], string]> = [[random, generateApiKey('live', systemRandom)], [near, nearMiss()]];
      if (i % 2) pair.reverse();
      for (const [bucket, key] of pair) {
        let status = 0;
        bucket.push(await timed(async () => (status = (await t.http.get('/api/v1/agents', { apiKey: key })).status)));
        assert.equal(status, 401);
      }
    }
    // A sign test over the pairs: with no leak, the near miss is the slower of its pair about half the time; a
    // leak that HTTP could see at all would make it the slower one nearly always. 25-75 % is over 6 sigma wide.
    const slower = near.filter((ms, i) => ms > random[i]!).length / PAIRS;
    t2.diagnostic(`timing: api_key near_miss=${median(near).toFixed(2)}ms random=${median(random).toFixed(2)}ms near_miss_slower=${(slower * 100).toFixed(0)}%`);
    assert.ok(slower > 0.25 && slower < 0.75, `the near miss was slower in ${(slower * 100).toFixed(0)} % of ${PAIRS} pairs`);
  });

  it('secrets are compared with timingSafeEqual after a lookup by SHA-256, never with === on the secret', () => {
    const src = (p: string) => readFileSync(fileURLToPath(new URL(`../../src/${p}`, import.meta.url)), 'utf8');
    assert.match(src('core/hashing.ts'), /timingSafeEqual\(left, right\)/);
    assert.match(src('storage/api-key-store.ts'), /constantTimeEqual\(row\.key_hash, keyHash\)/);
    assert.match(src('storage/refresh-token-store.ts'), /constantTimeEqual\(row\.token_secret_hash, secretHash\)/);
    assert.match(src('sessions/browser.ts'), /constantTimeEqual\(cookie, this\.csrfTokenFor\(token, key\)\)/);
    // Unknown emails are checked against a decoy argon2 hash, so the work is the same.
    assert.match(src('users/service.ts'), /this\.hasher\.verify\(user\?\.passwordHash \?\? \(await this\.decoyHash\), password\)/);
  });
});

/** A well-formed key (valid checksum, as the server computes it) with the given prefix and secret. */
function withChecksum(prefixAndSecret: string): string {
  return prefixAndSecret + toBase62(BigInt(crc32(prefixAndSecret)), CHECKSUM_LENGTH);
}
