/**
 * Ed25519 through WebCrypto (`globalThis.crypto.subtle`): the same code runs in Node 20 and in browsers that
 * support Ed25519. No node: imports here, so the browser entry stays free of them.
 */
import { INSPECT, REDACTED, inspectAs, type Inspect } from './redact.js';

const ED25519 = { name: 'Ed25519' } as const;
const encoder = new TextEncoder();

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('WebCrypto is not available: AIM agents need globalThis.crypto.subtle with Ed25519');
  return s;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/').replace(/\s+/g, ''));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
  return out;
}

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** `count` random bytes, base64: the nonce format the server accepts (8-128 base64 characters). */
export function randomNonce(count = 16): string {
  return toBase64(globalThis.crypto.getRandomValues(new Uint8Array(count)));
}

export function pemEncode(label: string, der: Uint8Array): string {
  const body = toBase64(der).replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

export function pemDecode(pem: string, label: string): Uint8Array<ArrayBuffer> {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`).exec(pem);
  if (!match?.[1]) throw new Error(`not a PEM ${label}`);
  return fromBase64(match[1]);
}

// SPKI for Ed25519 is a fixed 12-byte prefix followed by the raw 32-byte key (RFC 8410 §4).
const SPKI_PREFIX = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/**
 * An Ed25519 key pair held by an agent: the private key as PKCS#8 PEM (what is persisted) and the raw public key.
 * Logging it shows the public key only.
 */
export class Ed25519KeyPair {
  readonly #privateKey: CryptoKey;
  readonly #privateKeyPem: string;

  private constructor(
    privateKey: CryptoKey,
    privateKeyPem: string,
    /** The raw 32-byte public key, base64: what the server registers. */
    readonly publicKey: string,
  ) {
    this.#privateKey = privateKey;
    this.#privateKeyPem = privateKeyPem;
  }

  /** PKCS#8 PEM of the private key: what `secure()` stores, 0600. Never sent anywhere, never in inspect or JSON output. */
  get privateKeyPem(): string {
    return this.#privateKeyPem;
  }

  /** A fresh key pair, generated locally. */
  static async generate(): Promise<Ed25519KeyPair> {
    const pair = (await subtle()
      .generateKey(ED25519, true, ['sign', 'verify'])
      .catch((cause: unknown) => {
        // Older browsers have WebCrypto without Ed25519 (NotSupportedError): say what is missing.
        throw new Error('this runtime has WebCrypto without Ed25519; AIM agents need it (Node 20, Chromium 137+, Firefox 129+, Safari 17+)', { cause });
      })) as CryptoKeyPair;
    const pkcs8 = new Uint8Array(await subtle().exportKey('pkcs8', pair.privateKey));
    return Ed25519KeyPair.fromPkcs8(pkcs8);
  }

  /** Loads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), as written by `aim keygen` or OpenSSL. */
  static async fromPem(pem: string): Promise<Ed25519KeyPair> {
    return Ed25519KeyPair.fromPkcs8(pemDecode(pem, 'PRIVATE KEY'));
  }

  private static async fromPkcs8(pkcs8: Uint8Array<ArrayBuffer>): Promise<Ed25519KeyPair> {
    const key = await subtle().importKey('pkcs8', pkcs8, ED25519, true, ['sign']);
    // A private JWK carries the public point `x` too, which is how WebCrypto derives the public key.
    const jwk = await subtle().exportKey('jwk', key);
    if (!jwk.x) throw new Error('not an Ed25519 private key');
    const publicKey = toBase64(fromBase64(jwk.x));
    return new Ed25519KeyPair(await subtle().importKey('pkcs8', pkcs8, ED25519, false, ['sign']), pemEncode('PRIVATE KEY', pkcs8), publicKey);
  }

  /** The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  get publicKeyPem(): string {
    return pemEncode('PUBLIC KEY', new Uint8Array([...SPKI_PREFIX, ...fromBase64(this.publicKey)]));
  }

  /** Signs the UTF-8 bytes of `text`; the signature is 64 bytes. */
  async sign(text: string): Promise<Uint8Array> {
    return new Uint8Array(await subtle().sign(ED25519, this.#privateKey, encoder.encode(text)));
  }

  toJSON(): Record<string, unknown> {
    return { publicKey: this.publicKey, privateKey: REDACTED };
  }

  [INSPECT](_depth: number, options: unknown, inspect?: Inspect): string | object {
    return inspectAs('Ed25519KeyPair', this.toJSON(), options, inspect);
  }
}

/** A compact JWS (RFC 7515) signed with EdDSA: what private_key_jwt client assertions are (RFC 7523). */
export async function signJwt(keys: Ed25519KeyPair, payload: Record<string, unknown>): Promise<string> {
  const header = toBase64Url(encoder.encode(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' })));
  const body = toBase64Url(encoder.encode(JSON.stringify(payload)));
  const signature = await keys.sign(`${header}.${body}`);
  return `${header}.${body}.${toBase64Url(signature)}`;
}
