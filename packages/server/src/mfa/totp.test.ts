import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRecoveryCode, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';
import { base32Secret, codeAt, currentStep, matchStep, otpauthUrl } from './totp.js';

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890"; the 8-digit codes there end in
// the 6-digit codes below (RFC 4226 §5.3 truncation keeps the low digits).
const RFC_SECRET = base32Secret(Buffer.from('12345678901234567890', 'ascii'));
const VECTORS: Array<[number, string]> = [
  [59, '287082'],
  [1111111109, '081804'],
  [1111111111, '050471'],
  [1234567890, '005924'],
  [2000000000, '279037'],
  [20000000000, '353130'],
];

describe('TOTP (RFC 6238)', () => {
  for (const [seconds, code] of VECTORS) {
    it(`T = ${seconds} s gives ${code}`, () => {
      assert.equal(codeAt(RFC_SECRET, currentStep(seconds * 1000)), code);
    });
  }

  it('accepts the current step and one either side, never two away, and returns the matching step', () => {
    const now = 1111111111 * 1000;
    const step = currentStep(now);
    for (const delta of [-1, 0, 1]) assert.equal(matchStep(RFC_SECRET, codeAt(RFC_SECRET, step + delta), now, null), step + delta);
    for (const delta of [-2, 2]) assert.equal(matchStep(RFC_SECRET, codeAt(RFC_SECRET, step + delta), now, null), undefined);
  });

  it('refuses a step at or before the last one accepted', () => {
    const now = 1111111111 * 1000;
    const step = currentStep(now);
    const code = codeAt(RFC_SECRET, step);
    assert.equal(matchStep(RFC_SECRET, code, now, step), undefined);
    assert.equal(matchStep(RFC_SECRET, code, now, step - 1), step);
  });

  it('refuses anything but six digits', () => {
    for (const code of ['', '12345', '1234567', 'abcdef', ' 287082', '２８７０８２']) assert.equal(matchStep(RFC_SECRET, code, 59_000, null), undefined);
  });

  it('builds the otpauth:// URL authenticator apps read (base32 secret, issuer, 30 s, 6 digits, SHA1)', () => {
    const url = new URL(otpauthUrl(RFC_SECRET, 'AIM (localhost)', 'ada@example.com'));
    assert.equal(url.protocol, 'otpauth:');
    assert.equal(url.host, 'totp');
    assert.equal(url.searchParams.get('secret'), RFC_SECRET);
    assert.equal(url.searchParams.get('issuer'), 'AIM (localhost)');
    assert.equal(url.searchParams.get('period'), '30');
    assert.equal(url.searchParams.get('digits'), '6');
    assert.equal(url.searchParams.get('algorithm'), 'SHA1');
    assert.ok(decodeURIComponent(url.pathname).endsWith('ada@example.com'));
  });

  it('a 20-byte secret is 32 base32 characters', () => {
    assert.match(base32Secret(Buffer.alloc(20, 0xab)), /^[A-Z2-7]{32}$/);
  });
});

describe('recovery codes', () => {
  it('are 80 bits shown as four groups of four lowercase base32 characters', () => {
    const code = formatRecoveryCode(Buffer.from('0123456789', 'ascii'));
    assert.match(code, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    assert.notEqual(formatRecoveryCode(Buffer.alloc(10, 1)), formatRecoveryCode(Buffer.alloc(10, 2)));
    assert.throws(() => formatRecoveryCode(Buffer.alloc(9)));
  });

  it('are typed back in any case, with or without dashes and spaces', () => {
    const code = formatRecoveryCode(Buffer.alloc(10, 7));
    const canonical = normalizeRecoveryCode(code);
    assert.ok(canonical);
    for (const typed of [code.toUpperCase(), code.replace(/-/g, ''), code.replace(/-/g, ' '), ` ${code} `]) {
      assert.equal(normalizeRecoveryCode(typed), canonical);
    }
    assert.equal(hashRecoveryCode(canonical), hashRecoveryCode(normalizeRecoveryCode(code.toUpperCase())!));
  });

  it('anything else is not a recovery code', () => {
    for (const typed of ['', '123456', 'abcd-efgh-ijkl', 'abcd-efgh-ijkl-mnop-qrst', 'abcd-efgh-ijkl-mn01']) {
      assert.equal(normalizeRecoveryCode(typed), undefined, typed);
    }
  });
});
