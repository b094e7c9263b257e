import type { AuditLog } from '../audit/audit-log.js';
import type { SecretBox } from '../core/master-key.js';
import { purpose as totpPurpose } from '../mfa/service.js';
import type { StoreHub } from '../storage/stores.js';
import { SEAL_PURPOSE as SIGNING_KEY_PURPOSE } from '../tokens/signing-keys.js';
import type { ResealReport, SealedValue } from './types.js';

/** Values re-sealed per transaction: small enough not to hold SQLite's writer for long while nodes run. */
const BATCH = 100;
export const MASTER_KEY_CHECK_PURPOSE = 'aim.master-key-check';

/** The associated data each kind of sealed value was sealed with. */
export function sealPurpose(value: SealedValue): string {
  switch (value.kind) {
    case 'signing_key':
      return SIGNING_KEY_PURPOSE;
    case 'totp_secret':
      return totpPurpose(value.id);
    case 'master_key_check':
      return MASTER_KEY_CHECK_PURPOSE;
  }
}

/**
 * Moves every sealed value to the current master key (`aim master-key reseal`). Idempotent: values already under it
 * are skipped. Safe while nodes run: each value is replaced by compare-and-set, and a node on the same keys opens
 * both forms. A value no configured key opens is left alone and counted as remaining.
 */
export async function resealAll(hub: StoreHub, box: SecretBox, audit: AuditLog): Promise<ResealReport> {
  const values = await hub.sealedValues.listSealed();
  const stale = values.filter((v) => !box.isCurrent(v.sealed));
  const movable = stale.flatMap((v) => {
    try {
      return [{ value: v, resealed: box.seal(box.open(v.sealed, sealPurpose(v)), sealPurpose(v)) }];
    } catch {
      return [];
    }
  });
  let resealed = 0;
  for (let i = 0; i < movable.length; i += BATCH) {
    const batch = movable.slice(i, i + BATCH);
    resealed += await hub.transaction(async (s) => {
      let n = 0;
      for (const { value, resealed: next } of batch) if (await s.sealedValues.replaceSealed(value, next)) n += 1;
      return n;
    });
  }
  // Counted again after the run: what a node on an old configuration sealed meanwhile shows up here.
  const remaining = (await hub.sealedValues.listSealed()).filter((v) => !box.isCurrent(v.sealed)).length;
  const report = { resealed, alreadyCurrent: values.length - stale.length, remaining, keyId: box.currentKeyId };
  if (resealed > 0) {
    await audit.record({
      organizationId: 'system',
      event: 'master_key.resealed',
      actor: { type: 'system' },
      data: { key_id: report.keyId, resealed, remaining },
    });
  }
  return report;
}
