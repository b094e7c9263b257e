/**
 * The API key format, modelled on GitHub's token format so a secret scanner can tell a real key from noise
 * without asking the server:
 *
 *   ak_<environment>_<secret><checksum>
 *
 * - `environment`: `live` or `test` (AIM_ENVIRONMENT); a server refuses keys of the other one.
 * - `secret`: 32 random bytes as one base62 number, left-padded with `0` to 43 characters.
 * - `checksum`: CRC-32 (IEEE, as in zlib) of the ASCII text `ak_<environment>_<secret>`, as base62 padded to
 *   6 characters. It covers the environment too, so `ak_live_…` edited into `ak_test_…` fails the checksum.
 *
 * Base62 digits are `0-9A-Za-z`, in that order. Every key is 57 characters and matches API_KEY_PATTERN.
 * The checksum only catches typos and look-alikes; it is not a MAC, and anyone can compute it.
 */
import type { Random } from '../core/random.js';
import type { ApiKeyEnvironment } from './types.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const SECRET_BYTES = 32;
/** ceil(256 / log2(62)): the width of any 32-byte number in base62. */
export const SECRET_LENGTH = 43;
/** ceil(32 / log2(62)): the width of any CRC-32 in base62. */
export const CHECKSUM_LENGTH = 6;
export const API_KEY_LENGTH = 'ak_live_'.length + SECRET_LENGTH + CHECKSUM_LENGTH;
/** How much of the secret the display prefix shows: enough to tell keys apart, far too little to guess the rest. */
const DISPLAY_CHARS = 8;

/** Finds keys in free text (what a scanner greps for); the checksum then confirms a hit. */
export const API_KEY_PATTERN = /\bak_(live|test)_[0-9A-Za-z]{49}\b/;
const EXACT = /^ak_(live|test)_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;

export type ParsedApiKey =
  | { ok: true; environment: ApiKeyEnvironment }
  | { ok: false; problem: 'malformed' | 'checksum' };

/** Makes a new key of the given environment from 32 random bytes. */
export function generateApiKey(environment: ApiKeyEnvironment, random: Random): string {
  const secret = toBase62(BigInt(`0x${random.bytes(SECRET_BYTES).toString('hex')}`), SECRET_LENGTH);
  const body = `ak_${environment}_${secret}`;
  return body + checksumOf(body);
}

/** Checks shape and checksum offline: nothing that fails here can be a key AIM issued. */
export function parseApiKey(text: string): ParsedApiKey {
  if (text.length !== API_KEY_LENGTH) return { ok: false, problem: 'malformed' };
  const match = EXACT.exec(text);
  if (!match) return { ok: false, problem: 'malformed' };
  const body = text.slice(0, API_KEY_LENGTH - CHECKSUM_LENGTH);
  if (checksumOf(body) !== match[3]) return { ok: false, problem: 'checksum' };
  return { ok: true, environment: match[1] as ApiKeyEnvironment };
}

/** What lists, audit entries and logs show of a key: `ak_live_` and the first 8 characters of the secret. */
export function displayPrefix(key: string): string {
  return key.slice(0, key.indexOf('_', 3) + 1 + DISPLAY_CHARS);
}

function checksumOf(body: string): string {
  return toBase62(BigInt(crc32(body)), CHECKSUM_LENGTH);
}

/** A non-negative integer as exactly `width` base62 digits. */
export function toBase62(value: bigint, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[Number(rest % 62n)]! + out;
    rest /= 62n;
  }
  if (rest !== 0n) throw new RangeError(`value does not fit in ${width} base62 digits`);
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (IEEE 802.3, the one zlib and PNG use) of ASCII text. Written out rather than taken from node:zlib so the
 * format has no platform dependency and can move to the SDK or a browser as is.
 */
export function crc32(ascii: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < ascii.length; i++) c = CRC_TABLE[(c ^ ascii.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
