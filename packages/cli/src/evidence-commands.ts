import { createPublicKey, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  auditDisagreements,
  checkEvidence,
  decisionEvent,
  isVerificationEvidence,
  type AuditRecord,
  type EvidenceVerdict,
  type VerificationEvidence,
} from '@aim/protocol';
import { AimError, type AIMClient, type AgentKeyView } from '@aim/sdk';
import { CliExit, EXIT, fail, when, type Output } from './output.js';
import { personClient } from './session.js';

/** An Ed25519 check of the signed text with one PEM public key, by Node's crypto. */
function ed25519Check(publicKeyPem: string) {
  const key = createPublicKey(publicKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('not an Ed25519 key');
  return (message: string, signatureBase64: string) => verify(null, Buffer.from(message, 'utf8'), key, Buffer.from(signatureBase64, 'base64'));
}

async function readText(out: Output, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    fail(out, EXIT.usage, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** The evidence and its key's PEM from files: nothing but the public key is trusted, no server is asked. */
async function fromFiles(out: Output, evidenceFile: string, keyFile: string | undefined): Promise<{ evidence: VerificationEvidence; pem?: string }> {
  const text = await readText(out, evidenceFile);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    fail(out, EXIT.usage, `${evidenceFile} is not JSON`);
  }
  if (!isVerificationEvidence(parsed)) fail(out, EXIT.usage, `${evidenceFile} is not a verification (GET /api/v1/verifications/{id})`);
  return { evidence: parsed, ...(keyFile !== undefined && { pem: await readText(out, keyFile) }) };
}

/** What the organization's audit chain says about the decision. */
type AuditCheck =
  | { status: 'matched'; seq: number; hash: string }
  | { status: 'mismatch'; seq: number; fields: string[] }
  | { status: 'missing' }
  | { status: 'not_checked'; why: string };

/** Entries are written in the decision's transaction, within moments of it; this window is generous. */
const AUDIT_WINDOW_MS = 60_000;

/** Finds the decision's entry (by its verification id) among its agent's entries of its event around its time. */
async function auditOf(client: AIMClient, evidence: VerificationEvidence): Promise<AuditCheck> {
  const query = {
    subject: evidence.agent_id,
    event: decisionEvent(evidence.decision),
    since: evidence.created_at - AUDIT_WINDOW_MS,
    until: evidence.created_at + AUDIT_WINDOW_MS,
    limit: 200,
  };
  let cursor: string | undefined;
  try {
    do {
      const page = await client.request<{ entries: AuditRecord[]; next_cursor: string | null }>('GET', '/api/v1/audit-logs', {
        query: { ...query, ...(cursor && { cursor }) },
      });
      const entry = page.entries.find((e) => (e.data as { verification_id?: unknown } | null)?.verification_id === evidence.id);
      if (entry) {
        const fields = auditDisagreements(evidence, entry);
        return fields.length === 0 ? { status: 'matched', seq: entry.seq, hash: entry.hash } : { status: 'mismatch', seq: entry.seq, fields };
      }
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  } catch (error) {
    if (error instanceof AimError && error.code === 'insufficient_scope') return { status: 'not_checked', why: 'reading the audit log needs audit:read' };
    throw error;
  }
  return { status: 'missing' };
}

/** The evidence and the PEM of the key it names, from the server. */
async function fromServer(out: Output, id: string): Promise<{ evidence: VerificationEvidence; pem?: string; client: AIMClient }> {
  const client = await personClient(out);
  const evidence = await client.request<VerificationEvidence>('GET', `/api/v1/verifications/${encodeURIComponent(id)}`);
  if (evidence.key_id === null) return { evidence, client };
  const { keys } = await client.request<{ keys: AgentKeyView[] }>('GET', `/api/v1/agents/${encodeURIComponent(evidence.agent_id)}/keys`);
  const key = keys.find((k) => k.key_id === evidence.key_id);
  if (!key) fail(out, EXIT.failure, `the agent has no key ${evidence.key_id}: the evidence names a key the server does not know`, 'inconsistent');
  return { evidence, pem: key.public_key_pem, client };
}

function auditWords(audit: AuditCheck): string {
  switch (audit.status) {
    case 'matched':
      return `the audit chain records it at seq ${audit.seq}`;
    case 'mismatch':
      return `its audit entry (seq ${audit.seq}) records a different ${audit.fields.join(', ')}`;
    case 'missing':
      return 'the audit log has no entry for it';
    case 'not_checked':
      return `audit not checked (${audit.why})`;
  }
}

/** Why the record cannot be trusted: the evidence disagrees with itself, or the audit chain disagrees with it. */
function problemOf(verdict: EvidenceVerdict, audit: AuditCheck | undefined): string | undefined {
  if (!verdict.consistent) return verdict.problem;
  return audit?.status === 'mismatch' || audit?.status === 'missing' ? auditWords(audit) : undefined;
}

function describe(evidence: VerificationEvidence, verdict: EvidenceVerdict, audit: AuditCheck | undefined, problem: string | undefined): string {
  const decision = `${evidence.decision} (${evidence.reason}) at ${when(evidence.created_at)}`;
  if (problem !== undefined) return `INCONSISTENT: ${problem}; recorded decision: ${decision}`;
  const signer = verdict.signature === 'valid' ? `key ${evidence.key_id} signed` : 'no key is named for';
  return `consistent: ${signer} "${evidence.message}"; decision: ${decision}${audit ? `; ${auditWords(audit)}` : ''}`;
}

export function registerEvidenceCommands(program: Command, out: Output): void {
  const evidence = program.command('evidence').description('verify-action decisions kept as evidence');
  evidence
    .command('verify')
    .description(
      're-check a decision: the signed message matches its fields and the named key signed it; exit 0 when consistent, 1 when not. ' +
        'Offline with --file and --key, else fetched with your session or AIM_API_KEY',
    )
    .argument('[verification-id]', 'the id verify-action answered (verification_id)')
    .option('--file <path>', 'the evidence as GET /api/v1/verifications/{id} answered it (JSON)')
    .option('--key <path>', "with --file: the signing key's PEM (public_key_pem from GET /api/v1/agents/{id}/keys)")
    .action(async (id: string | undefined, opts: { file?: string; key?: string }) => {
      if ((id === undefined) === (opts.file === undefined)) fail(out, EXIT.usage, 'give a verification id, or --file (with --key) to check offline');
      const online = opts.file === undefined ? await fromServer(out, id!) : undefined;
      const { evidence: record, pem } = online ?? (await fromFiles(out, opts.file!, opts.key));
      if (record.key_id !== null && pem === undefined) fail(out, EXIT.usage, `the evidence names key ${record.key_id}: pass its PEM with --key`);
      let check;
      try {
        check = pem === undefined ? undefined : ed25519Check(pem);
      } catch {
        fail(out, EXIT.usage, 'the key is not an Ed25519 public key in PEM');
      }
      const verdict = await checkEvidence(record, check);
      // Online, the decision itself is checked too: the agent signed the request, the audit chain pins the answer.
      const audit = online ? await auditOf(online.client, record) : undefined;
      const problem = problemOf(verdict, audit);
      out.result(
        { verification_id: record.id, ...verdict, consistent: problem === undefined, ...(problem !== undefined && { problem }), ...(audit && { audit }) },
        describe(record, verdict, audit, problem),
      );
      if (problem !== undefined) throw new CliExit(EXIT.failure);
    });
}
