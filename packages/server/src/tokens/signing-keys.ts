import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { MINUTE } from '../core/clock.js';
import type { SecretBox } from '../core/master-key.js';
import type { Random } from '../core/random.js';
import type { SigningKeyRecord, SigningKeyStore } from './store.js';

/** The associated data of a sealed private signing key. */
export const SEAL_PURPOSE = 'aim.signing-key';
const RELOAD_EVERY = MINUTE;

interface LoadedKey {
  kid: string;
  publicKey: KeyObject;
  privateKey: KeyObject | undefined;
  publicJwk: JsonWebKey;
  retired: boolean;
}

/**
 * The server's Ed25519 token-signing keys: one signs, retired ones stay published until every token they signed
 * has expired. Private keys are sealed with the master key at rest and held as KeyObjects in memory.
 */
export class SigningKeyRing {
  private keys = new Map<string, LoadedKey>();
  private signer: LoadedKey | undefined;
  private loadedAt = 0;
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly store: SigningKeyStore,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly random: Random,
    /** How long a retired key stays published: the longest lifetime of a token it signed. */
    private readonly publishAfterRetirementMs: number,
  ) {}

  /**
   * Loads the keys, creating the first one when there is none. Nodes starting together must not each create one:
   * a node would then sign with a key the others loaded too early to know.
   */
  async init(): Promise<void> {
    await this.reload();
    if (this.signer) return;
    await this.store.insertIfNoSigner(this.newKey());
    await this.load();
  }

  /** Starts signing with a new key; the previous one stays in the JWKS until its tokens expire. */
  async rotate(): Promise<string> {
    const record = this.newKey();
    await this.store.insertAndRetireOthers(record, record.createdAt, record.createdAt + this.publishAfterRetirementMs);
    await this.load();
    return record.kid;
  }

  private newKey(): SigningKeyRecord {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const kid = this.random.bytes(12).toString('base64url');
    return {
      kid,
      publicJwk: JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }),
      privateJwkSealed: this.box.seal(JSON.stringify(privateKey.export({ format: 'jwk' })), SEAL_PURPOSE),
      createdAt: this.clock.now(),
      retiredAt: null,
      expiresAt: null,
    };
  }

  /** The key that signs new tokens. */
  current(): { kid: string; privateKey: KeyObject } {
    this.reloadIfStale();
    const signer = this.signer;
    if (!signer?.privateKey) throw new Error('signing keys are not loaded');
    return { kid: signer.kid, privateKey: signer.privateKey };
  }

  /** The public key for a `kid`, if it is published. An unknown kid triggers one reload (another node may have rotated). */
  async publicKey(kid: string): Promise<KeyObject | undefined> {
    const known = this.keys.get(kid);
    if (known) return known.publicKey;
    if (this.clock.now() - this.loadedAt > 5_000) await this.reload();
    return this.keys.get(kid)?.publicKey;
  }

  /** Whether a kid is still published (cached verifications of its tokens stay good only while it is). */
  isPublished(kid: string): boolean {
    return this.keys.has(kid);
  }

  jwks(): { keys: JsonWebKey[] } {
    this.reloadIfStale();
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) };
  }

  async reload(): Promise<void> {
    this.reloading ??= this.load().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private reloadIfStale(): void {
    if (this.clock.now() - this.loadedAt > RELOAD_EVERY) void this.reload().catch(() => undefined);
  }

  private async load(): Promise<void> {
    const now = this.clock.now();
    const records = await this.store.listPublished(now);
    const keys = new Map<string, LoadedKey>();
    for (const r of records) {
      const publicJwk = JSON.parse(r.publicJwk) as JsonWebKey;
      const retired = r.retiredAt !== null;
      keys.set(r.kid, {
        kid: r.kid,
        publicJwk,
        publicKey: createPublicKey({ key: publicJwk, format: 'jwk' }),
        privateKey: retired
          ? undefined
          : createPrivateKey({ key: JSON.parse(this.box.open(r.privateJwkSealed, SEAL_PURPOSE)) as JsonWebKey, format: 'jwk' }),
        retired,
      });
    }
    this.keys = keys;
    this.signer = [...keys.values()].find((k) => !k.retired);
    this.loadedAt = now;
  }
}
