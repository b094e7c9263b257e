import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

/**
 * Runs after every other test file (scripts/test.mjs orders it last) and reads every log line the suite's servers
 * wrote. Secrets AIM hands out or accepts have recognisable shapes; none may appear in a log.
 */
const SECRET_SHAPES: Array<[string, RegExp]> = [
  ['access token (JWT)', /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/],
  ['refresh token', /rt_[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}/],
  // Keys are ak_<env>_ + 49 base62 characters; lists and audit show only the first 8 after ak_<env>_ (the prefix).
  // Anything longer is a key or a piece of one.
  ['API key', /ak_(live|test)_[0-9A-Za-z]{12,}/],
  ['argon2 hash', /\$argon2id\$/],
  ['private key', /BEGIN (ENCRYPTED )?PRIVATE KEY/],
  ['test password', /correct-horse-battery|a brand new long password/],
  ['SDK token', /sdk_[A-Za-z0-9_-]{30,}/],
  ['password reset token', /pr_[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}/],
  // 20 random bytes in RFC 4648 base32, as TOTP setup hands them out (and inside otpauth:// URLs).
  ['TOTP secret', /(?<![A-Za-z0-9])[A-Z2-7]{32}(?![A-Za-z0-9])/],
  ['otpauth URL', /otpauth:\/\/totp\//],
  ['recovery code', /(?<![A-Za-z0-9])[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}(?![A-Za-z0-9])/i],
  ['session cookie', /aim_(rt|csrf)=[A-Za-z0-9_.-]{20,}/],
  ['alert webhook secret (the tests use this shape)', /aim-test-webhook-secret/],
  // The master keys of master-key-rotation.test.ts (0xa1 bytes as base64, 0xb2 bytes as hex).
  ['master key (the rotation test\'s keys)', /oaGhoaGhoaGh|b2b2b2b2b2b2b2b2/i],
];

describe('logs of the whole test run', () => {
  it('contain no secret the tests created', () => {
    const file = process.env.AIM_TEST_LOG_FILE;
    assert.ok(file && existsSync(file), 'run through `npm test`, which collects the logs');
    const text = readFileSync(file, 'utf8');
    assert.ok(text.split('\n').length > 100, 'the suite logged requests to scan');
    for (const [name, shape] of SECRET_SHAPES) {
      const hit = shape.exec(text);
      assert.equal(hit, null, `${name} found in logs: ${hit?.[0].slice(0, 24)}…`);
    }
  });
});
