export interface SigningKeyRecord {
  kid: string;
  publicJwk: string;
  privateJwkSealed: string;
  createdAt: number;
  retiredAt: number | null;
  expiresAt: number | null;
}

export interface SigningKeyStore {
  /** Every key still published (not past `expires_at`), newest first. */
  listPublished(now: number): Promise<SigningKeyRecord[]>;
  /** Adds a key and retires every other signing key in one step, so exactly one key signs at a time. */
  insertAndRetireOthers(key: SigningKeyRecord, retiredAt: number, expiresAt: number): Promise<void>;
  /** Adds `key` only when no key signs yet; answers whether it did. Nodes starting together agree on one key. */
  insertIfNoSigner(key: SigningKeyRecord): Promise<boolean>;
}
