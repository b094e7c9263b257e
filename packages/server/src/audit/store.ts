import type { AuditEntry } from './types.js';

export interface AuditQuery {
  organizationId: string;
  actorId?: string;
  event?: string;
  since?: number;
  until?: number;
  /** Entries with seq below this, newest first. */
  beforeSeq?: number;
  limit: number;
}

export interface AuditStore {
  /**
   * Appends one entry to its organization's chain. Appends to one organization are serialized
   * (a single writer on SQLite, an advisory transaction lock on PostgreSQL), so the chain cannot fork.
   */
  appendAudit(
    organizationId: string,
    build: (previous: { seq: number; hash: string } | undefined) => AuditEntry,
  ): Promise<AuditEntry>;
  list(query: AuditQuery): Promise<AuditEntry[]>;
  /** Every entry of one organization in chain order, in pages, for verification and export. */
  iterate(organizationId: string, pageSize?: number): AsyncIterable<AuditEntry>;
}
