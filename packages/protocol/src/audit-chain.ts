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

export type ChainProblem = 'hash_mismatch' | 'broken_link' | 'sequence_gap' | 'checkpoint_mismatch';

/**
 * Where a pruned chain starts: the sequence number and hash of the last entry retention removed.
 * The first kept entry must have `seq = anchor.seq + 1` and `prev_hash = anchor.hash`.
 */
export interface AuditAnchor {
  seq: number;
  hash: string;
}

/**
 * The head of a chain as it was at some moment (`GET /api/v1/audit-logs/checkpoint`): its last entry's sequence
 * number and hash (seq 0 for an empty chain). A hash chain alone cannot show that entries were cut from its end,
 * or that the whole chain was rebuilt; a checkpoint kept somewhere else can: the chain must still hold that entry.
 */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
}

/**
 * What a checkpoint showed: `matched` (the entry is there, same hash), `pruned` (retention removed it, so it
 * cannot be checked), `missing` (the chain ends before it: truncated or rolled back), `mismatch` (a different
 * entry stands at that sequence number: rewritten).
 */
export type CheckpointStatus = 'matched' | 'pruned' | 'missing' | 'mismatch';

export interface ChainVerdict {
  valid: boolean;
  entries_checked: number;
  first_bad?: { id: string; seq: number; problem: ChainProblem };
  checkpoint?: { seq: number; status: CheckpointStatus };
}

/**
 * Walks one organization's entries in `seq` order and reports the first that does not follow from the one
 * before it. `sha256Hex` is passed in so this runs anywhere (Node, browsers) without dependencies.
 */
export async function verifyAuditChain(
  entries: Iterable<AuditRecord> | AsyncIterable<AuditRecord>,
  sha256Hex: (text: string) => string | Promise<string>,
  /**
   * What the first entry must link to when the chain does not start at seq 1 (after pruning): the hash alone,
   * or the full anchor, which also fixes the first entry's sequence number. Without one, a chain that does not
   * start at seq 1 is taken as it is; pass GENESIS_HASH to insist on an unpruned chain.
   */
  anchor?: string | AuditAnchor,
  /** A head recorded earlier: the chain must still contain it (see AuditCheckpoint). */
  checkpoint?: AuditCheckpoint,
): Promise<ChainVerdict> {
  let checked = 0;
  let previous: AuditRecord | undefined;
  let firstSeq: number | undefined;
  for await (const entry of entries) {
    firstSeq ??= entry.seq;
    if (previous) {
      if (entry.seq !== previous.seq + 1) return bad(checked, entry, 'sequence_gap');
      if (entry.prev_hash !== previous.hash) return bad(checked, entry, 'broken_link');
    } else if (typeof anchor === 'object') {
      if (entry.seq !== anchor.seq + 1) return bad(checked, entry, 'sequence_gap');
      if (entry.prev_hash !== anchor.hash) return bad(checked, entry, 'broken_link');
    } else {
      const expected = entry.seq === 1 ? GENESIS_HASH : anchor;
      if (expected !== undefined && entry.prev_hash !== expected) return bad(checked, entry, 'broken_link');
      // Only seq 1 links to the genesis hash: a later entry that does claims the entries before it never existed.
      if (anchor === GENESIS_HASH && entry.seq !== 1) return bad(checked, entry, 'sequence_gap');
    }
    if ((await sha256Hex(auditHashInput(entry))) !== entry.hash) return bad(checked, entry, 'hash_mismatch');
    if (checkpoint && entry.seq === checkpoint.seq && entry.hash !== checkpoint.hash) {
      return { ...bad(checked, entry, 'checkpoint_mismatch'), checkpoint: { seq: checkpoint.seq, status: 'mismatch' } };
    }
    previous = entry;
    checked += 1;
  }
  if (!checkpoint) return { valid: true, entries_checked: checked };
  const status = checkpointStatus(checkpoint, previous, firstSeq, anchor);
  return { valid: status === 'matched' || status === 'pruned', entries_checked: checked, checkpoint: { seq: checkpoint.seq, status } };
}

/** Where the checkpoint falls once every entry has verified (a differing entry was already reported). */
function checkpointStatus(
  checkpoint: AuditCheckpoint,
  last: AuditRecord | undefined,
  firstSeq: number | undefined,
  anchor: string | AuditAnchor | undefined,
): CheckpointStatus {
  const anchored = typeof anchor === 'object' ? anchor : undefined;
  if (checkpoint.seq === 0) return checkpoint.hash === GENESIS_HASH ? 'matched' : 'mismatch';
  if (anchored && checkpoint.seq === anchored.seq) return checkpoint.hash === anchored.hash ? 'matched' : 'mismatch';
  if (last === undefined || checkpoint.seq > last.seq) return anchored && checkpoint.seq < anchored.seq ? 'pruned' : 'missing';
  return firstSeq !== undefined && checkpoint.seq < firstSeq ? 'pruned' : 'matched';
}

function bad(checked: number, entry: AuditRecord, problem: ChainProblem): ChainVerdict {
  return { valid: false, entries_checked: checked, first_bad: { id: entry.id, seq: entry.seq, problem } };
}

/**
 * `GET /api/v1/audit-logs/export?format=jsonl` writes this header as its first line, then one entry per line in
 * chain order. `aim audit verify` reads it back: the anchor says where a pruned chain starts.
 */
export const AUDIT_EXPORT_FORMAT = 'aim.audit.export/v1';

export interface AuditExportHeader {
  format: typeof AUDIT_EXPORT_FORMAT;
  organization_id: string;
  /** Milliseconds since the epoch. */
  exported_at: number;
  /** `null` when nothing was ever pruned: the first entry has seq 1 and links to GENESIS_HASH. */
  anchor: AuditAnchor | null;
}

export function isAuditExportHeader(value: unknown): value is AuditExportHeader {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v.format !== AUDIT_EXPORT_FORMAT || typeof v.organization_id !== 'string') return false;
  if (v.anchor === null) return true;
  const a = v.anchor as Record<string, unknown> | undefined;
  return typeof a === 'object' && Number.isSafeInteger(a.seq) && typeof a.hash === 'string';
}

/** True when `value` has every field of an audit entry with the right type (read from an untrusted export). */
export function isAuditRecord(value: unknown): value is AuditRecord {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const text = (k: string) => typeof v[k] === 'string';
  const textOrNull = (k: string) => v[k] === null || typeof v[k] === 'string';
  return (
    text('id') && text('organization_id') && Number.isSafeInteger(v.seq) && text('event') && text('actor_type') &&
    textOrNull('actor_id') && textOrNull('subject_type') && textOrNull('subject_id') && textOrNull('ip') &&
    'data' in v && Number.isSafeInteger(v.created_at) && text('prev_hash') && text('hash')
  );
}
