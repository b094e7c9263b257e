import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';

/**
 * Ed25519 with the checks RFC 8032 leaves to the verifier, so one signature cannot be bent into another and weak
 * keys cannot be registered: canonical point encodings, no small-order points (libsodium's list), S < L.
 */
const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

// Encodings of the points of small order (y coordinate, sign bit cleared), as libsodium rejects them.
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((hex) => Buffer.from(hex, 'hex'));

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function littleEndian(bytes: Buffer): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function withoutSign(point: Buffer): Buffer {
  const y = Buffer.from(point);
  y[31] = y[31]! & 0x7f;
  return y;
}

/** Non-canonical (y >= p) or small-order encodings. */
export function isWeakPoint(point: Buffer): boolean {
  if (point.length !== 32) return true;
  const y = withoutSign(point);
  if (littleEndian(y) >= P) return true;
  return SMALL_ORDER.some((bad) => bad.equals(y));
}

export class PublicKeyError extends Error {}

/**
 * Accepts a raw 32-byte key in base64 (or base64url), or an SPKI PEM; answers the raw key, base64.
 * Refuses anything else, including keys of other algorithms and weak points.
 */
export function parsePublicKey(input: string): string {
  const text = input.trim();
  let raw: Buffer;
  if (text.startsWith('-----BEGIN')) {
    // createPublicKey also takes a private key (or a certificate) and answers its public half: a private key sent here
    // has left the agent, and taking it quietly would hide that. Only an SPKI PEM is a public key.
    if (/PRIVATE KEY-----/.test(text)) throw new PublicKeyError('public_key holds a private key: send only the public half, and treat this private key as exposed');
    if (!text.startsWith('-----BEGIN PUBLIC KEY-----')) throw new PublicKeyError('public_key must be an SPKI PEM (BEGIN PUBLIC KEY)');
    let key: KeyObject;
    try {
      key = createPublicKey({ key: text, format: 'pem' });
    } catch {
      throw new PublicKeyError('public_key is not a valid PEM public key');
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new PublicKeyError('public_key must be an Ed25519 key');
    raw = key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  } else {
    if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) throw new PublicKeyError('public_key must be 32 bytes in base64, or an SPKI PEM');
    raw = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  }
  if (raw.length !== 32) throw new PublicKeyError('public_key must be 32 bytes');
  if (isWeakPoint(raw)) throw new PublicKeyError('public_key is a weak or non-canonical Ed25519 point');
  return raw.toString('base64');
}

/** A KeyObject for a raw key: parse once, verify many times (re-parsing per call halves throughput). */
export function toKeyObject(rawBase64: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(rawBase64, 'base64')]), format: 'der', type: 'spki' });
}

export function toPem(rawBase64: string): string {
  return toKeyObject(rawBase64).export({ format: 'pem', type: 'spki' }).toString();
}

/**
 * Decodes a base64 signature strictly: exactly 64 bytes in their one canonical spelling (the last character's unused
 * bits zero, as RFC 4648 §3.5 lets a decoder require, so the evidence re-checks with strict decoders too), canonical
 * S, R not of small order.
 */
export function decodeSignature(signature: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]{86}==$|^[A-Za-z0-9_-]{86}$/.test(signature)) return undefined;
  const encoding = signature.endsWith('==') ? 'base64' : 'base64url';
  const bytes = Buffer.from(signature, encoding);
  if (bytes.length !== 64 || bytes.toString(encoding) !== signature) return undefined;
  if (littleEndian(bytes.subarray(32)) >= L) return undefined;
  if (isWeakPoint(bytes.subarray(0, 32))) return undefined;
  return bytes;
}

export function verifyEd25519(key: KeyObject, message: Buffer, signature: Buffer): boolean {
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** A fresh key pair for agents that ask the server to generate one; the private key is returned once, never kept. */
export function generateAgentKeyPair(): { publicKey: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length).toString('base64'),
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}
