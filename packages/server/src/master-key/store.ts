import type { SealedValue } from './types.js';

export interface SealedValueStore {
  /** Every value sealed with a master key: private signing keys, TOTP secrets, the start-up check value. */
  listSealed(): Promise<SealedValue[]>;
  /**
   * Replaces one sealed value only if it is still `value.sealed` (compare-and-set): a value a running node changed
   * meanwhile is left as that node wrote it. Answers whether it replaced.
   */
  replaceSealed(value: SealedValue, resealed: string): Promise<boolean>;
}
