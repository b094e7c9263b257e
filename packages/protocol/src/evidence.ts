/**
 * Verify-action evidence, as `GET /api/v1/verifications/{id}` answers it, and how anyone re-checks it later with
 * nothing but the signing key's public half (non-repudiation). Crypto is passed in, so this runs anywhere.
 */
import type { AuditRecord } from './audit-chain.js';
import { DECISION_REASONS } from './capabilities.js';

/** The exact text an agent signs for an action (CONTRACT.md): the fields joined by `:`, UTF-8 encoded. */
export function actionMessage(agentId: string, action: string, resource: string, timestamp: number, nonce: string): string {
  return `${agentId}:${action}:${resource}:${timestamp}:${nonce}`;
}

export interface VerificationEvidence {
  id: string;
  agent_id: string;
  /** The key whose signature verified; null when none did or the request was refused before the check. */
  key_id: string | null;
  action: string;
  resource: string;
  timestamp: number;
  nonce: string;
  /** The signed text, UTF-8. */
  message: string;
  /** Base64, as presented. */
  signature: string;
  /** allowed, denied or rejected. */
  decision: string;
  reason: string;
  /** Who asked the server to verify (an API key, a user, the agent itself). */
  caller?: { type: string; id: string };
  created_at: number;
}

export function isVerificationEvidence(value: unknown): value is VerificationEvidence {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const strings = ['id', 'agent_id', 'action', 'resource', 'nonce', 'message', 'signature', 'decision', 'reason'];
  return (
    strings.every((k) => typeof v[k] === 'string') &&
    (v.key_id === null || typeof v.key_id === 'string') &&
    Number.isSafeInteger(v.timestamp) &&
    Number.isSafeInteger(v.created_at)
  );
}

/** Ed25519 verification of `message` (UTF-8) against a base64 signature, by the caller's crypto. */
export type SignatureCheck = (message: string, signatureBase64: string) => boolean | Promise<boolean>;

export interface EvidenceVerdict {
  /** The record agrees with itself and with its decision: nothing in it was altered. */
  consistent: boolean;
  /** The stored message is exactly the one the stored fields make. */
  message_matches: boolean;
  /** The named key's check of the signature; `not_checked` when the evidence names no key. */
  signature: 'valid' | 'invalid' | 'not_checked';
  /** Why the record is not consistent. */
  problem?: string;
}

/**
 * Re-checks one decision. `check` verifies with the public key of `evidence.key_id` and is required when the
 * evidence names a key. A decision to allow or deny always names the key that signed; a rejection may name none
 * (the agent was suspended, the timestamp was outside the window, or no live key verified the signature).
 */
export async function checkEvidence(evidence: VerificationEvidence, check?: SignatureCheck): Promise<EvidenceVerdict> {
  const expected = actionMessage(evidence.agent_id, evidence.action, evidence.resource, evidence.timestamp, evidence.nonce);
  const message_matches = expected === evidence.message;
  if (!message_matches) {
    return { consistent: false, message_matches, signature: 'not_checked', problem: 'the stored fields do not make the stored message' };
  }
  const mismatch = reasonMismatch(evidence.decision, evidence.reason);
  if (mismatch) return { consistent: false, message_matches, signature: 'not_checked', problem: mismatch };
  if (evidence.key_id === null) {
    if (evidence.decision !== 'rejected') {
      return { consistent: false, message_matches, signature: 'not_checked', problem: `a decision to ${evidence.decision === 'allowed' ? 'allow' : 'deny'} names no signing key` };
    }
    return { consistent: true, message_matches, signature: 'not_checked' };
  }
  if (!check) throw new TypeError(`the evidence names key ${evidence.key_id}: its public key is needed to check the signature`);
  const valid = await check(evidence.message, evidence.signature);
  return valid
    ? { consistent: true, message_matches, signature: 'valid' }
    : { consistent: false, message_matches, signature: 'invalid', problem: `key ${evidence.key_id} did not sign this message` };
}

/**
 * Why a decision and its reason cannot belong together, or undefined: an allow is `capability_granted`, a deny one of
 * the other decision reasons, a rejection an error code. Catches a decision edited without its reason, offline.
 */
function reasonMismatch(decision: string, reason: string): string | undefined {
  const decisionReason = (DECISION_REASONS as readonly string[]).includes(reason);
  const fits =
    decision === 'allowed' ? reason === 'capability_granted'
    : decision === 'denied' ? decisionReason && reason !== 'capability_granted'
    : decision === 'rejected' ? !decisionReason
    : false;
  return fits ? undefined : `the decision ${JSON.stringify(decision)} does not go with the reason ${JSON.stringify(reason)}`;
}

/** The audit event that records a decision in the organization's hash chain. */
export function decisionEvent(decision: string): 'action.verified' | 'action.denied' | 'action.rejected' {
  return decision === 'allowed' ? 'action.verified' : decision === 'denied' ? 'action.denied' : 'action.rejected';
}

/**
 * Where a decision's audit entry disagrees with its evidence: empty when they agree. The agent's signature covers
 * what was asked, not what was decided; the entry, in a chain `aim audit verify` checks, is what pins the decision.
 */
export function auditDisagreements(evidence: VerificationEvidence, entry: AuditRecord): string[] {
  const data = (typeof entry.data === 'object' && entry.data !== null ? entry.data : {}) as Record<string, unknown>;
  const expected: Array<[string, unknown, unknown]> = [
    ['event', entry.event, decisionEvent(evidence.decision)],
    ['agent', entry.subject_id, evidence.agent_id],
    ['verification_id', data.verification_id, evidence.id],
    ['action', data.action, evidence.action],
    ['resource', data.resource, evidence.resource],
    ['key_id', data.key_id, evidence.key_id],
    ['reason', data.reason, evidence.reason],
    ...(evidence.caller ? ([['caller', `${entry.actor_type}:${entry.actor_id}`, `${evidence.caller.type}:${evidence.caller.id}`]] as Array<[string, unknown, unknown]>) : []),
  ];
  return expected.filter(([, recorded, kept]) => recorded !== kept).map(([field]) => field);
}
