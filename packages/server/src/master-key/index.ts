export { resealAll, sealPurpose, MASTER_KEY_CHECK_PURPOSE } from './reseal.js';
export type { SealedValueStore } from './store.js';
export type { ResealReport, SealedKind, SealedValue } from './types.js';
