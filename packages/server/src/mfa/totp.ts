import { HOTP, Secret, TOTP } from 'otpauth';
import { constantTimeEqual } from '../core/hashing.js';

/** RFC 6238 §4: 30-second steps, counted from the Unix epoch; 6 digits, HMAC-SHA-1 (what every authenticator app does). */
export const TOTP_PERIOD_SECONDS = 30;
const DIGITS = 6;
const ALGORITHM = 'SHA1';
/** RFC 6238 §5.2: one step either side absorbs clock drift and the time it takes to type the code. */
const WINDOW = 1;
/** RFC 4226 §4: at least 128 bits, 160 recommended. */
export const TOTP_SECRET_BYTES = 20;

export const TOTP_CODE = /^[0-9]{6}$/;

export function currentStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

export function base32Secret(bytes: Buffer): string {
  return new Secret({ buffer: Uint8Array.from(bytes).buffer }).base32;
}

/** The `otpauth://totp/…` URL authenticator apps read from a QR code. */
export function otpauthUrl(secretBase32: string, issuer: string, account: string): string {
  return new TOTP({ issuer, label: account, secret: Secret.fromBase32(secretBase32), algorithm: ALGORITHM, digits: DIGITS, period: TOTP_PERIOD_SECONDS }).toString();
}

export function codeAt(secretBase32: string, step: number): string {
  return HOTP.generate({ secret: Secret.fromBase32(secretBase32), algorithm: ALGORITHM, digits: DIGITS, counter: step });
}

/**
 * The time step whose code `code` is, within ±1 step of now and strictly after `after` (the last accepted step),
 * or undefined. Every candidate is compared in constant time; the newest match wins.
 */
export function matchStep(secretBase32: string, code: string, nowMs: number, after: number | null): number | undefined {
  if (!TOTP_CODE.test(code)) return undefined;
  const now = currentStep(nowMs);
  let matched: number | undefined;
  for (let step = now - WINDOW; step <= now + WINDOW; step++) {
    if (after !== null && step <= after) continue;
    if (constantTimeEqual(codeAt(secretBase32, step), code)) matched = step;
  }
  return matched;
}
