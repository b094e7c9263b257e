import { sha256Hex } from '../core/hashing.js';

/**
 * Recovery codes: 16 characters of RFC 4648 base32 (80 bits) shown as `abcd-efgh-ijkl-mnop`. Lowercase, so they
 * cannot be mistaken for a TOTP secret; typed back in any case, with or without dashes and spaces.
 */
export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const LENGTH = 16;

export function formatRecoveryCode(bytes: Buffer): string {
  if (bytes.length < 10) throw new Error('a recovery code needs 10 random bytes');
  // 10 bytes = 80 bits = 16 base32 characters, 5 bits each.
  let bits = 0n;
  for (const byte of bytes.subarray(0, 10)) bits = (bits << 8n) | BigInt(byte);
  let out = '';
  for (let i = LENGTH - 1; i >= 0; i--) out += ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
  return out.match(/.{4}/g)!.join('-');
}

/** The canonical form of a typed code, or undefined when it cannot be one. */
export function normalizeRecoveryCode(input: string): string | undefined {
  const compact = input.toLowerCase().replace(/[\s-]/g, '');
  if (compact.length !== LENGTH || ![...compact].every((c) => ALPHABET.includes(c))) return undefined;
  return compact;
}

/** Stored form: SHA-256 of the canonical code. 80 random bits need no slow hash. */
export function hashRecoveryCode(normalized: string): string {
  return sha256Hex(`aim.recovery-code:${normalized}`);
}
