import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import {
  GENESIS_HASH,
  isAuditExportHeader,
  isAuditRecord,
  verifyAuditChain,
  type AuditAnchor,
  type AuditCheckpoint,
  type AuditRecord,
  type ChainVerdict,
} from '@aim/protocol';
import { CliExit, EXIT, fail, table, when, type Output } from './output.js';
import { personClient } from './session.js';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** A line that is not an audit entry: the export was cut, edited by hand, or is not an export at all. */
class MalformedLine extends Error {
  constructor(readonly line: number) {
    super(`line ${line} is not an audit entry`);
  }
}

export interface OfflineVerdict extends ChainVerdict {
  /** Where the exported chain starts: null for a chain that was never pruned. */
  anchor: AuditAnchor | null;
  /** Set when a line could not be read as an entry; the chain is then invalid. */
  malformed_line?: number;
  /** Set when the input held nothing at all: an export always has its header, so a failed download is not a pass. */
  empty?: true;
}

/**
 * Verifies an export of `GET /api/v1/audit-logs/export?format=jsonl` with the same algorithm as the server
 * (`@aim/protocol`'s verifyAuditChain), from the file alone: no server, no credentials.
 */
export async function verifyExport(input: Readable, checkpoint?: AuditCheckpoint): Promise<OfflineVerdict & { bad_entry?: AuditRecord }> {
  const lines = createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
  let lineNo = 0;
  const next = async (): Promise<{ line: number; value: unknown } | undefined> => {
    for (;;) {
      const r = await lines.next();
      if (r.done) return undefined;
      lineNo += 1;
      // A byte-order mark, which some editors add when a file is saved, is not part of the first entry.
      const text = lineNo === 1 ? r.value.replace(/^\uFEFF/, '') : r.value;
      if (text.trim() === '') continue;
      try {
        return { line: lineNo, value: JSON.parse(text) as unknown };
      } catch {
        throw new MalformedLine(lineNo);
      }
    }
  };

  let first: { line: number; value: unknown } | undefined;
  let anchor: AuditAnchor | null = null;
  let current: AuditRecord | undefined;
  let checked = 0;
  try {
    first = await next();
    if (!first) return { valid: false, entries_checked: 0, anchor: null, empty: true };
    if (isAuditExportHeader(first.value)) {
      anchor = first.value.anchor;
      first = undefined;
    }
    async function* entries(): AsyncGenerator<AuditRecord> {
      for (let item = first ?? (await next()); item; item = await next()) {
        if (!isAuditRecord(item.value)) throw new MalformedLine(item.line);
        current = item.value;
        yield item.value;
        checked += 1;
      }
    }
    // No header means no anchor: the chain must then start at seq 1 from the genesis hash.
    const verdict = await verifyAuditChain(entries(), sha256Hex, anchor ?? GENESIS_HASH, checkpoint);
    return { ...verdict, anchor, ...(!verdict.valid && current && { bad_entry: current }) };
  } catch (error) {
    if (!(error instanceof MalformedLine)) throw error;
    return { valid: false, entries_checked: checked, anchor, malformed_line: error.line };
  }
}

const CHECKPOINT_WORDS = {
  matched: 'present and unchanged',
  pruned: 'removed by retention, not checkable',
  missing: 'MISSING, the chain ends before it (cut short or rolled back)',
  mismatch: 'a DIFFERENT entry stands there (rewritten)',
} as const;

/** `<seq>:<hash>` as printed by the checkpoint endpoint's seq and hash; null when malformed. */
function parseCheckpoint(text: string): AuditCheckpoint | null {
  const match = /^([0-9]{1,15}):([0-9a-f]{64})$/.exec(text.trim());
  return match ? { seq: Number(match[1]), hash: match[2]! } : null;
}

export function registerAuditCommands(program: Command, out: Output): void {
  const audit = program.command('audit').description('the hash-chained audit log');
  audit
    .command('verify')
    .description('verify an audit export (GET /api/v1/audit-logs/export?format=jsonl) offline; exit 0 when valid, 1 when not')
    .option('--file <path>', 'the export, JSON Lines; standard input when omitted or "-"')
    .option('--checkpoint <seq:hash>', 'a head kept from GET /api/v1/audit-logs/checkpoint: the chain must still hold it')
    .action(async (opts: { file?: string; checkpoint?: string }) => {
      const checkpoint = opts.checkpoint === undefined ? undefined : parseCheckpoint(opts.checkpoint);
      if (checkpoint === null) fail(out, EXIT.usage, '--checkpoint must be <seq>:<hash>, e.g. 42:3f1c… (64 hex characters)');
      let input: Readable = process.stdin;
      if (opts.file !== undefined && opts.file !== '-') {
        try {
          input = (await open(opts.file, 'r')).createReadStream();
        } catch (error) {
          fail(out, EXIT.usage, `cannot read ${opts.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        }
      }
      const { bad_entry: bad, ...verdict } = await verifyExport(input, checkpoint ?? undefined);
      const from = verdict.anchor ? `, starting after the retention anchor at seq ${verdict.anchor.seq}` : '';
      const held = verdict.checkpoint ? `; checkpoint seq ${verdict.checkpoint.seq}: ${CHECKPOINT_WORDS[verdict.checkpoint.status]}` : '';
      if (verdict.valid) {
        out.result(verdict, `valid: ${verdict.entries_checked} entries checked${from}${held}`);
        return;
      }
      const human = verdict.empty
        ? 'INVALID: the input is empty (an export starts with its header line even when the log is empty)'
        : verdict.malformed_line !== undefined
          ? `INVALID: line ${verdict.malformed_line} is not an audit entry (${verdict.entries_checked} entries checked before it)`
          : verdict.first_bad
            ? `INVALID: first bad entry seq ${verdict.first_bad.seq} (id ${verdict.first_bad.id}, ${bad?.event ?? '?'}): ` +
              `${verdict.first_bad.problem.replace('_', ' ')}; ${verdict.entries_checked} entries before it are intact${from}`
            : `INVALID: ${verdict.entries_checked} entries verify${from}${held}`;
      out.result(verdict, human);
      throw new CliExit(EXIT.failure);
    });

  audit
    .command('list')
    .description("your organization's audit entries, newest first; --subject <id> lists everything that happened to an agent, key or user")
    .option('--subject <id>', 'what the entries are about (an agent, API key, user, session… id)')
    .option('--actor <id>', 'who acted (a user, API key or agent id)')
    .option('--event <name>', 'one event name, e.g. agent.suspended')
    .option('--limit <n>', 'how many, 1-200', '50')
    .action(async (opts: { subject?: string; actor?: string; event?: string; limit: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200) fail(out, EXIT.usage, '--limit must be a whole number from 1 to 200');
      const query = { subject: opts.subject, actor: opts.actor, event: opts.event, limit };
      const page = await (await personClient(out)).request<{ entries: AuditRecord[]; next_cursor: string | null }>('GET', '/api/v1/audit-logs', { query });
      const rows = page.entries.map((e) => [String(e.seq), when(e.created_at), e.event, `${e.actor_type}${e.actor_id ? ` ${e.actor_id}` : ''}`, e.subject_id ?? '-']);
      out.result(page, rows.length === 0 ? 'no entries' : table(rows, ['SEQ', 'TIME (UTC)', 'EVENT', 'ACTOR', 'SUBJECT']));
    });

  audit
    .command('checkpoint')
    .description("print your organization's chain head as <seq>:<hash>, for `aim audit verify --checkpoint` later; --json: the whole signed checkpoint")
    .action(async () => {
      const head = await (await personClient(out)).auditCheckpoint();
      // Human output is the bare value, so `aim audit checkpoint >> checkpoints.txt` keeps exactly what verify takes.
      out.result(head, `${head.seq}:${head.hash}`);
    });
}
