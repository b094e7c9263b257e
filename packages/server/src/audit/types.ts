import type { AuditEvent, AuditRecord } from '@aim/protocol';

export type ActorType = 'user' | 'api_key' | 'agent' | 'system' | 'anonymous';

/** What a service says happened; the audit log adds id, sequence, time and the chain hashes. */
export interface AuditInput {
  organizationId: string;
  event: AuditEvent;
  actor: { type: ActorType; id?: string | null };
  subject?: { type: string; id: string };
  ip?: string | null;
  /** Evidence and context. Never secrets: no tokens, keys, passwords or codes. */
  data?: Record<string, unknown>;
}

export type AuditEntry = AuditRecord;

/** Entries that belong to no organization yet (a login attempt for an unknown email) chain here. */
export const SYSTEM_ORGANIZATION = 'system';
