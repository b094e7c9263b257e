/** Where a value sealed with the master key lives; `id` is its row (a signing key's kid, a TOTP factor's user id). */
export type SealedKind = 'signing_key' | 'totp_secret' | 'master_key_check';

export interface SealedValue {
  kind: SealedKind;
  id: string;
  sealed: string;
}

export interface ResealReport {
  /** Values moved to the current master key by this run. */
  resealed: number;
  /** Values this run found under the current key already. */
  alreadyCurrent: number;
  /** Values still under another key after the run (sealed under a key that is not configured, or changed meanwhile by a node on an old configuration). */
  remaining: number;
  keyId: string;
}
