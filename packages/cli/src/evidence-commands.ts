import { createPublicKey, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { checkEvidence, isVerificationEvidence, type EvidenceVerdict, type VerificationEvidence } from '@aim/protocol';
import type { AgentKeyView } from '@aim/sdk';
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readText(out, evidenceFile));
  } catch {
    fail(out, EXIT.usage, `${evidenceFile} is not JSON`);
  }
  if (!isVerificationEvidence(parsed)) fail(out, EXIT.usage, `${evidenceFile} is not a verification (GET /api/v1/verifications/{id})`);
  return { evidence: parsed, ...(keyFile !== undefined && { pem: await readText(out, keyFile) }) };
}

/** The evidence and the PEM of the key it names, from the server. */
async function fromServer(out: Output, id: string): Promise<{ evidence: VerificationEvidence; pem?: string }> {
  const client = await personClient(out);
  const evidence = await client.request<VerificationEvidence>('GET', `/api/v1/verifications/${encodeURIComponent(id)}`);
  if (evidence.key_id === null) return { evidence };
  const { keys } = await client.request<{ keys: AgentKeyView[] }>('GET', `/api/v1/agents/${encodeURIComponent(evidence.agent_id)}/keys`);
  const key = keys.find((k) => k.key_id === evidence.key_id);
  if (!key) fail(out, EXIT.failure, `the agent has no key ${evidence.key_id}: the evidence names a key the server does not know`, 'inconsistent');
  return { evidence, pem: key.public_key_pem };
}

function describe(evidence: VerificationEvidence, verdict: EvidenceVerdict): string {
  const decision = `${evidence.decision} (${evidence.reason}) at ${when(evidence.created_at)}`;
  if (!verdict.consistent) return `INCONSISTENT: ${verdict.problem}; recorded decision: ${decision}`;
  const signer = verdict.signature === 'valid' ? `key ${evidence.key_id} signed` : 'no key is named for';
  return `consistent: ${signer} "${evidence.message}"; decision: ${decision}`;
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
      const { evidence: record, pem } = opts.file !== undefined ? await fromFiles(out, opts.file, opts.key) : await fromServer(out, id!);
      if (record.key_id !== null && pem === undefined) fail(out, EXIT.usage, `the evidence names key ${record.key_id}: pass its PEM with --key`);
      let check;
      try {
        check = pem === undefined ? undefined : ed25519Check(pem);
      } catch {
        fail(out, EXIT.usage, 'the key is not an Ed25519 public key in PEM');
      }
      const verdict = await checkEvidence(record, check);
      out.result({ verification_id: record.id, ...verdict }, describe(record, verdict));
      if (!verdict.consistent) throw new CliExit(EXIT.failure);
    });
}
