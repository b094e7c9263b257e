import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { systemRandom, type Random } from '../core/random.js';
import { API_KEY_LENGTH, API_KEY_PATTERN, crc32, displayPrefix, generateApiKey, parseApiKey, toBase62 } from './format.js';

const fixed = (byte: number): Random => ({ bytes: (n) => Buffer.alloc(n, byte), uuid: () => '00000000-0000-4000-8000-000000000000' });
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('API key format', () => {
  it('is ak_<env>_ + 43 base62 digits of 32 random bytes + a 6-digit CRC-32', () => {
    const key = generateApiKey('live', systemRandom);
    assert.equal(key.length, API_KEY_LENGTH);
    assert.equal(key.length, 57);
    assert.match(key, /^ak_live_[0-9A-Za-z]{49}$/);
    assert.match(generateApiKey('test', systemRandom), /^ak_test_[0-9A-Za-z]{49}$/);
    assert.deepEqual(parseApiKey(key), { ok: true, environment: 'live' });
  });

  it('covers the whole 32-byte range: all zeros and all ones both fit 43 digits', () => {
    assert.equal(generateApiKey('live', fixed(0)).slice(8, 51), '0'.repeat(43));
    const max = generateApiKey('live', fixed(0xff)).slice(8, 51);
    assert.equal(max, toBase62(2n ** 256n - 1n, 43));
    assert.notEqual(max[0], '0');
  });

  it('the checksum is zlib CRC-32 of the text before it, in base62', () => {
    assert.equal(crc32('123456789'), 0xcbf43926, 'the CRC-32 check value');
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...ALPHABET) }), (text) => crc32(text) === zlibCrc32(text)),
      { numRuns: 200 },
    );
    const key = generateApiKey('test', systemRandom);
    assert.equal(key.slice(-6), toBase62(BigInt(zlibCrc32(key.slice(0, -6))), 6));
  });

  it('a scanner finds keys in text with the documented regex, and the checksum weeds out look-alikes', () => {
    const key = generateApiKey('live', systemRandom);
    const text = `export AIM_KEY=${key}\nother ak_live_${'x'.repeat(49)} noise`;
    const hits = [...text.matchAll(new RegExp(API_KEY_PATTERN.source, 'g'))].map((m) => m[0]);
    assert.equal(hits.length, 2);
    assert.deepEqual(hits.filter((h) => parseApiKey(h).ok), [key]);
  });

  it('every single-character change is caught offline', () => {
    const key = generateApiKey('live', systemRandom);
    for (let i = 8; i < key.length; i++) {
      const other = ALPHABET[(ALPHABET.indexOf(key[i]!) + 1 + (i % 61)) % 62]!;
      const changed = key.slice(0, i) + other + key.slice(i + 1);
      assert.deepEqual(parseApiKey(changed), { ok: false, problem: 'checksum' }, `position ${i}`);
    }
  });

  it('the checksum binds the environment: a live key relabelled test fails', () => {
    const key = generateApiKey('live', systemRandom);
    assert.deepEqual(parseApiKey(key.replace('ak_live_', 'ak_test_')), { ok: false, problem: 'checksum' });
  });

  it('truncated, padded and foreign shapes are malformed', () => {
    const key = generateApiKey('live', systemRandom);
    for (const bad of [
      '',
      key.slice(0, -1),
      key.slice(0, 20),
      `${key}0`,
      ` ${key}`.slice(0, 57),
      key.replace('ak_live_', 'ak_prod_'),
      key.replace('ak_', 'AK_'),
      `${key.slice(0, 30)}-${key.slice(31)}`,
      `${key.slice(0, 30)}é${key.slice(31)}`,
      'ak_live_' + '0'.repeat(49),
    ]) {
      const parsed = parseApiKey(bad);
      assert.equal(parsed.ok, false, JSON.stringify(bad));
    }
    fc.assert(fc.property(fc.string({ maxLength: 100 }), (s) => s === key || !parseApiKey(s).ok));
  });

  it('the display prefix is the environment and the first 8 characters of the secret', () => {
    const key = generateApiKey('test', systemRandom);
    assert.equal(displayPrefix(key), key.slice(0, 16));
    assert.match(displayPrefix(key), /^ak_test_[0-9A-Za-z]{8}$/);
  });
});
