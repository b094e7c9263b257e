import type { AgentId, KeyId, OrgId } from '../core/ids.js';

/**
 * `allowed`/`denied`: the signature was valid and the agent's capabilities decided.
 * `rejected`: the request did not prove anything (bad signature, stale timestamp, replayed nonce, suspended agent).
 */
export type Decision = 'allowed' | 'denied' | 'rejected';

/** Everything needed to re-check a decision later with nothing but the agent's public key. */
export interface Verification {
  id: string;
  organizationId: OrgId;
  agentId: AgentId;
  keyId: KeyId | null;
  action: string;
  resource: string;
  timestamp: number;
  nonce: string;
  /** The exact signed message, UTF-8. */
  message: string;
  /** As presented, base64. */
  signature: string;
  decision: Decision;
  /** Why: a DecisionReason (`capability_granted`, `capability_missing`, `resource_not_allowed`), or the error code of a rejection. */
  reason: string;
  caller: { type: string; id: string };
  ip: string | null;
  createdAt: number;
}

export interface VerificationStats {
  day: string;
  allowed: number;
  denied: number;
  rejected: number;
}
