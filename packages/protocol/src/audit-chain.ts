/**
 * How an audit entry is hashed into its organization's chain, shared by the server and by offline verifiers
 * (`aim audit verify`), so both agree byte for byte:
 *
 *   hash = SHA-256( prev_hash + "\n" + canonical(entry) )  as lowercase hex
 *
 * where canonical(entry) is JSON with the fields below in this order, and `data` is itself canonical JSON
 * (object keys sorted). The first entry of a chain has prev_hash = GENESIS_HASH, or the hash of the last
 * pruned entry (an anchor) when old entries were removed by retention.
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditRecord {
  id: string;
  organization_id: string;
  seq: number;
  event: string;
  actor_type: string;
  actor_id: string | null;
  subject_type: string | null;
  subject_id: string | null;
  ip: string | null;
  data: unknown;
  created_at: number;
  prev_hash: string;
  hash: string;
}

/** JSON with object keys sorted at every level; the only serialization that goes into a hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The exact text that is hashed after `prev_hash + "\n"`. */
export function auditHashInput(entry: Omit<AuditRecord, 'hash'>): string {
  const canonical = canonicalJson({
    id: entry.id,
    organization_id: entry.organization_id,
    seq: entry.seq,
    event: entry.event,
    actor_type: entry.actor_type,
    actor_id: entry.actor_id,
    subject_type: entry.subject_type,
    subject_id: entry.subject_id,
    ip: entry.ip,
    data: entry.data,
    created_at: entry.created_at,
  });
  return `${entry.prev_hash}\n${canonical}`;
}

export type ChainProblem = 'hash_mismatch' | 'broken_link' | 'sequence_gap';

export interface ChainVerdict {
  valid: boolean;
  entries_checked: number;
  first_bad?: { id: string; seq: number; problem: ChainProblem };
}

/**
 * Walks one organization's entries in `seq` order and reports the first that does not follow from the one
 * before it. `sha256Hex` is passed in so this runs anywhere (Node, browsers) without dependencies.
 */
export async function verifyAuditChain(
  entries: Iterable<AuditRecord> | AsyncIterable<AuditRecord>,
  sha256Hex: (text: string) => string | Promise<string>,
  /** The hash the first entry must link to when the chain does not start at seq 1 (after pruning). */
  anchor?: string,
): Promise<ChainVerdict> {
  let checked = 0;
  let previous: AuditRecord | undefined;
  for await (const entry of entries) {
    if (previous) {
      if (entry.seq !== previous.seq + 1) return bad(checked, entry, 'sequence_gap');
      if (entry.prev_hash !== previous.hash) return bad(checked, entry, 'broken_link');
    } else {
      const expected = entry.seq === 1 ? GENESIS_HASH : anchor;
      if (expected !== undefined && entry.prev_hash !== expected) return bad(checked, entry, 'broken_link');
    }
    if ((await sha256Hex(auditHashInput(entry))) !== entry.hash) return bad(checked, entry, 'hash_mismatch');
    previous = entry;
    checked += 1;
  }
  return { valid: true, entries_checked: checked };
}

function bad(checked: number, entry: AuditRecord, problem: ChainProblem): ChainVerdict {
  return { valid: false, entries_checked: checked, first_bad: { id: entry.id, seq: entry.seq, problem } };
}
