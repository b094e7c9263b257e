import {
  AUDIT_EXPORT_FORMAT,
  GENESIS_HASH,
  verifyAuditChain,
  type AuditCheckpoint,
  type AuditEvent,
  type AuditExportHeader,
  type ChainVerdict,
} from '@aim/protocol';
import { DAY, type Clock } from '../core/clock.js';
import { sha256Hex } from '../core/hashing.js';
import type { StoreHub } from '../storage/stores.js';
import type { AuditLog } from './audit-log.js';
import type { AuditEntry } from './types.js';

export interface AuditFilter {
  actorId?: string | undefined;
  subjectId?: string | undefined;
  event?: AuditEvent | undefined;
  since?: number | undefined;
  until?: number | undefined;
  /** Entries older than this sequence number (the cursor of the previous page). */
  beforeSeq?: number | undefined;
  limit: number;
}

export interface PruneReport {
  organizations: number;
  deleted: number;
}

/** Reading, verifying, exporting and pruning an organization's audit chain. Writing is AuditLog's job. */
export class AuditService {
  constructor(
    private readonly hub: StoreHub,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    /** Entries older than this are pruned; undefined keeps everything. */
    private readonly retentionDays: number | undefined,
  ) {}

  /** Newest first; `next` is the sequence number to continue below, when there may be more. */
  async list(organizationId: string, filter: AuditFilter): Promise<{ entries: AuditEntry[]; next: number | undefined }> {
    // One extra row tells whether another page exists.
    const entries = await this.hub.audit.list({ organizationId, ...filter, limit: filter.limit + 1 });
    const page = entries.slice(0, filter.limit);
    return { entries: page, next: entries.length > filter.limit ? page[page.length - 1]!.seq : undefined };
  }

  /**
   * Recomputes every hash of the organization's chain from its start (seq 1, or the retention anchor). With no
   * anchor the chain must start at seq 1 from GENESIS_HASH, so deleting its first entries is caught too.
   */
  async verify(organizationId: string, checkpoint?: AuditCheckpoint): Promise<ChainVerdict> {
    const anchor = await this.hub.audit.findAnchor(organizationId);
    return verifyAuditChain(this.hub.audit.iterate(organizationId), sha256Hex, anchor ?? GENESIS_HASH, checkpoint);
  }

  /** The chain's head now: its last entry, else the retention anchor, else seq 0 at the genesis hash. */
  async head(organizationId: string): Promise<AuditCheckpoint> {
    const [last] = await this.hub.audit.list({ organizationId, limit: 1 });
    if (last) return { seq: last.seq, hash: last.hash };
    return (await this.hub.audit.findAnchor(organizationId)) ?? { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * JSON Lines: a header with the anchor, then every entry in chain order. What `aim audit verify` reads.
   * The export reads page by page, not from one snapshot, so retention pruning could delete entries between two
   * pages. Appends leave no gaps in `seq`; at a gap the anchor tells pruning (it moved: the export fails, and the
   * client sees a broken transfer rather than a file that cannot verify) from tampering (exported as found, for
   * verification to report).
   */
  async *exportJsonl(organizationId: string, pageSize?: number): AsyncGenerator<string> {
    const anchor = await this.hub.audit.findAnchor(organizationId);
    const header: AuditExportHeader = {
      format: AUDIT_EXPORT_FORMAT,
      organization_id: organizationId,
      exported_at: this.clock.now(),
      anchor: anchor ?? null,
    };
    yield `${JSON.stringify(header)}\n`;
    let batch = '';
    let count = 0;
    let expected = (anchor?.seq ?? 0) + 1;
    for await (const entry of this.hub.audit.iterate(organizationId, pageSize)) {
      // A gap is either tampering, which the export must show as it is, or pruning meanwhile, which moved the anchor.
      if (entry.seq !== expected && (await this.hub.audit.findAnchor(organizationId))?.seq !== anchor?.seq) {
        throw new AuditExportInterrupted(organizationId, expected, entry.seq);
      }
      expected = entry.seq + 1;
      batch += `${JSON.stringify(entry)}\n`;
      if (++count % 200 === 0) {
        yield batch;
        batch = '';
      }
    }
    if (batch) yield batch;
  }

  /**
   * Retention: deletes entries older than AIM_AUDIT_RETENTION_DAYS in every organization. Each organization's
   * anchor moves to its last deleted entry and an `audit.pruned` entry records it, in one transaction.
   */
  async prune(): Promise<PruneReport> {
    const report: PruneReport = { organizations: 0, deleted: 0 };
    if (this.retentionDays === undefined) return report;
    const now = this.clock.now();
    const cutoff = now - this.retentionDays * DAY;
    for (const organizationId of await this.hub.audit.organizationsWithEntriesBefore(cutoff)) {
      const result = await this.hub.transaction(async (s) => {
        const pruned = await s.audit.pruneAudit(organizationId, cutoff, now);
        if (!pruned) return undefined;
        await this.audit.withStore(s.audit).record({
          organizationId,
          event: 'audit.pruned',
          actor: { type: 'system' },
          data: {
            deleted: pruned.deleted,
            before: cutoff,
            retention_days: this.retentionDays,
            anchor_seq: pruned.anchor.seq,
            anchor_hash: pruned.anchor.hash,
          },
        });
        return pruned;
      });
      if (result) {
        report.organizations += 1;
        report.deleted += result.deleted;
      }
    }
    return report;
  }
}

/** Entries the export had not reached yet were pruned while it ran: the export must be taken again. */
export class AuditExportInterrupted extends Error {
  constructor(organizationId: string, expected: number, found: number) {
    super(`audit export of ${organizationId} interrupted: expected seq ${expected}, found ${found} (retention pruned entries meanwhile); export again`);
  }
}
