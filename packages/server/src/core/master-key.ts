import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { restrictToOwner } from './private-files.js';

const ALGORITHM = 'aes-256-gcm';
const VERSION = 'v2';
const LEGACY_VERSION = 'v1';

/**
 * A short public name for a master key: the first 8 bytes of HKDF-SHA-256 of it, base64url. It says which key
 * sealed a value without revealing anything about the key.
 */
export function masterKeyId(key: Buffer): string {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'aim.master-key-id', 8)).toString('base64url');
}

/**
 * Encrypts small secrets at rest (signing keys, TOTP secrets) with the master key.
 * Output: `v2.<kid>.<iv>.<tag>.<ciphertext>` (base64url), `kid` naming the key that sealed it; the associated data
 * binds a value to its purpose, so a TOTP secret cannot be swapped in for a signing key.
 *
 * During a rotation the previous keys (AIM_MASTER_KEY_PREVIOUS) still open values and verify what was derived
 * from them, but nothing is ever sealed or issued with them. `v1.<iv>.<tag>.<ciphertext>` values (before key ids)
 * open with whichever configured key fits.
 */
export class SecretBox {
  private readonly keys: { id: string; key: Buffer }[];

  constructor(key: Buffer, previous: readonly Buffer[] = []) {
    if (key.length !== 32 || previous.some((k) => k.length !== 32)) throw new Error('master key must be 32 bytes');
    const seen = new Set<string>();
    this.keys = [key, ...previous]
      .map((k) => ({ id: masterKeyId(k), key: k }))
      .filter((k) => !seen.has(k.id) && seen.add(k.id));
  }

  /** The id of the key that seals. */
  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  /** The ids of the keys that only open. */
  get previousKeyIds(): string[] {
    return this.keys.slice(1).map((k) => k.id);
  }

  seal(plaintext: string, purpose: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv(ALGORITHM, key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  open(sealed: string, purpose: string): string {
    const parts = sealed.split('.');
    if (parts[0] === VERSION && parts.length === 5) {
      const [, id, iv, tag, body] = parts as [string, string, string, string, string];
      const entry = this.keys.find((k) => k.id === id);
      if (!entry) throw new Error('sealed under a master key that is not configured');
      return decrypt(entry.key, iv, tag, body, purpose);
    }
    if (parts[0] === LEGACY_VERSION && parts.length === 4) {
      const [, iv, tag, body] = parts as [string, string, string, string];
      for (const { key } of this.keys) {
        try {
          return decrypt(key, iv, tag, body, purpose);
        } catch {
          // GCM's tag check fails for every key but the right one: try the next.
        }
      }
      throw new Error('sealed under a master key that is not configured');
    }
    throw new Error('unrecognised sealed secret');
  }

  /** Whether `sealed` is already in the current format under the current key (a reseal leaves it alone). */
  isCurrent(sealed: string): boolean {
    const [version, id] = sealed.split('.');
    return version === VERSION && id === this.keys[0]!.id;
  }

  /** A 32-byte key for another use (an HMAC), derived from the current master key with HKDF-SHA-256 (RFC 5869) and bound to `purpose`. */
  deriveKey(purpose: string): Buffer {
    return derive(this.keys[0]!.key, purpose);
  }

  /** The same derivation under every configured key, current first: what a verifier accepts during a rotation. */
  deriveKeys(purpose: string): Buffer[] {
    return this.keys.map((k) => derive(k.key, purpose));
  }
}

function derive(key: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), purpose, 32));
}

function decrypt(key: Buffer, iv: string, tag: string, body: string, purpose: string): string {
  // GCM would otherwise accept a tag cut down to 4 bytes: a forged value would need only 2^32 tries.
  const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
  decipher.setAAD(Buffer.from(purpose));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/** A fresh master key: 32 random bytes, base64 (what AIM_MASTER_KEY takes). */
export function generateMasterKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * The master key: AIM_MASTER_KEY when set, else a random key generated once into the data dir (mode 0600).
 * Several nodes must share one key, so production sets AIM_MASTER_KEY.
 */
export function loadMasterKey(configured: Buffer | undefined, dataDir: string): Buffer {
  if (configured) return configured;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'master.key');
  try {
    writeFileSync(file, generateMasterKey(), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    restrictToOwner(file);
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}
