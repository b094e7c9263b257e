import type { AuditAnchor } from '@aim/protocol';
import type { AuditEntry } from './types.js';

export interface AuditQuery {
  organizationId: string;
  actorId?: string;
  /** What the entry is about: an agent, key, user, session… by id. */
  subjectId?: string;
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
   * When every entry was pruned, the new one links to the anchor.
   */
  appendAudit(
    organizationId: string,
    build: (previous: { seq: number; hash: string } | undefined) => AuditEntry,
  ): Promise<AuditEntry>;
  list(query: AuditQuery): Promise<AuditEntry[]>;
  /** Every entry of one organization in chain order, in pages, for verification and export. */
  iterate(organizationId: string, pageSize?: number): AsyncIterable<AuditEntry>;
  /** Where the organization's kept chain starts after pruning; undefined when nothing was ever pruned. */
  findAnchor(organizationId: string): Promise<AuditAnchor | undefined>;
  /** Organizations that have entries created before `cutoff`. */
  organizationsWithEntriesBefore(cutoff: number): Promise<string[]>;
  /**
   * Deletes an organization's entries created before `cutoff` and moves its anchor to the last one deleted, under
   * the same per-organization lock as appends, so the chain stays verifiable and concurrent prunes delete each
   * entry once. Answers undefined when there was nothing to prune. Call inside a transaction with the
   * `audit.pruned` entry.
   */
  pruneAudit(organizationId: string, cutoff: number, now: number): Promise<{ deleted: number; anchor: AuditAnchor } | undefined>;
}
