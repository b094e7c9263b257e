import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBox, generateMasterKey, masterKeyId } from './master-key.js';

const A = Buffer.alloc(32, 1);
const B = Buffer.alloc(32, 2);
const C = Buffer.alloc(32, 3);

/** What the code before key ids wrote: `v1.<iv>.<tag>.<ciphertext>`. */
function sealV1(key: Buffer, plaintext: string, purpose: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(purpose));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

describe('SecretBox', () => {
  it('seals as v2 naming the current key, and opens it', () => {
    const box = new SecretBox(B, [A]);
    const sealed = box.seal('secret', 'p');
    const [version, kid] = sealed.split('.');
    assert.equal(version, 'v2');
    assert.equal(kid, masterKeyId(B));
    assert.equal(sealed.split('.').length, 5);
    assert.equal(box.open(sealed, 'p'), 'secret');
    assert.equal(box.isCurrent(sealed), true);
  });

  it('names a key by a fingerprint that does not contain it', () => {
    const kid = masterKeyId(A);
    assert.match(kid, /^[A-Za-z0-9_-]{11}$/);
    assert.notEqual(kid, masterKeyId(B));
    assert.ok(!A.toString('base64url').includes(kid));
  });

  it('opens v1 values with whichever configured key sealed them', () => {
    assert.equal(new SecretBox(A).open(sealV1(A, 'one', 'p'), 'p'), 'one');
    assert.equal(new SecretBox(B, [C, A]).open(sealV1(A, 'two', 'p'), 'p'), 'two');
    assert.equal(new SecretBox(B, [A]).isCurrent(sealV1(B, 'x', 'p')), false);
  });

  it('opens values sealed under a previous key but never seals with it', () => {
    const old = new SecretBox(A).seal('old', 'p');
    const rotating = new SecretBox(B, [A]);
    assert.equal(rotating.open(old, 'p'), 'old');
    assert.equal(rotating.isCurrent(old), false);
    assert.equal(rotating.seal('new', 'p').split('.')[1], masterKeyId(B));
    assert.throws(() => new SecretBox(A).open(rotating.seal('new', 'p'), 'p'));
  });

  it('refuses a value under a key that is not configured (v1 and v2)', () => {
    assert.throws(() => new SecretBox(B).open(new SecretBox(A).seal('x', 'p'), 'p'), /not configured/);
    assert.throws(() => new SecretBox(B, [C]).open(sealV1(A, 'x', 'p'), 'p'), /not configured/);
  });

  it('refuses a kid that names a configured key other than the one that sealed (kid mismatch)', () => {
    const sealed = new SecretBox(A).seal('x', 'p').split('.');
    sealed[1] = masterKeyId(B);
    assert.throws(() => new SecretBox(B, [A]).open(sealed.join('.'), 'p'));
  });

  it('refuses another purpose, a tampered body, and malformed values', () => {
    const box = new SecretBox(A);
    const sealed = box.seal('x', 'p');
    assert.throws(() => box.open(sealed, 'q'));
    const parts = sealed.split('.');
    parts[4] = Buffer.from('y').toString('base64url');
    assert.throws(() => box.open(parts.join('.'), 'p'));
    for (const bad of ['', 'v2', 'v2.a.b.c', 'v3.a.b.c.d', 'v1.a.b', 'v2.a.b.c.d.e']) assert.throws(() => box.open(bad, 'p'), bad);
  });

  it('refuses a shortened authentication tag (a 4-byte GCM tag would make forging a sealed value practical)', () => {
    const box = new SecretBox(A);
    const parts = box.seal('x', 'p').split('.');
    for (const bytes of [4, 8, 12, 15]) {
      const short = [...parts];
      short[3] = Buffer.from(parts[3]!, 'base64url').subarray(0, bytes).toString('base64url');
      assert.throws(() => box.open(short.join('.'), 'p'), `${bytes}-byte tag`);
    }
  });

  it('derives with the current key and lists every configured derivation, current first', () => {
    const box = new SecretBox(B, [A]);
    assert.deepEqual(box.deriveKey('csrf'), new SecretBox(B).deriveKey('csrf'));
    assert.deepEqual(box.deriveKeys('csrf'), [new SecretBox(B).deriveKey('csrf'), new SecretBox(A).deriveKey('csrf')]);
    assert.equal(new SecretBox(B, [B, A, A]).deriveKeys('csrf').length, 2);
  });

  it('refuses keys that are not 32 bytes, and generates ones that are', () => {
    assert.throws(() => new SecretBox(Buffer.alloc(16)));
    assert.throws(() => new SecretBox(A, [Buffer.alloc(31)]));
    assert.equal(Buffer.from(generateMasterKey(), 'base64').length, 32);
  });
});
