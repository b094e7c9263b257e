import { GENESIS_HASH, auditHashInput } from '@aim/protocol';
import type { Clock } from '../core/clock.js';
import { sha256Hex } from '../core/hashing.js';
import type { Random } from '../core/random.js';
import type { AuditStore } from './store.js';
import type { AuditEntry, AuditInput } from './types.js';

/** Records audit events into the hash chain of their organization. */
export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /** Returns a log writing through another store: used inside a transaction so the entry commits with it. */
  withStore(store: AuditStore): AuditLog {
    return new AuditLog(store, this.clock, this.random);
  }

  record(input: AuditInput): Promise<AuditEntry> {
    const id = this.random.uuid();
    const createdAt = this.clock.now();
    return this.store.appendAudit(input.organizationId, (previous) => {
      const unhashed = {
        id,
        organization_id: input.organizationId,
        seq: (previous?.seq ?? 0) + 1,
        event: input.event,
        actor_type: input.actor.type,
        actor_id: input.actor.id ?? null,
        subject_type: input.subject?.type ?? null,
        subject_id: input.subject?.id ?? null,
        ip: input.ip ?? null,
        data: input.data ?? {},
        created_at: createdAt,
        prev_hash: previous?.hash ?? GENESIS_HASH,
      };
      return { ...unhashed, hash: sha256Hex(auditHashInput(unhashed)) };
    });
  }
}
