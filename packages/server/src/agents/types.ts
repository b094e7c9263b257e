import type { AgentId, KeyId, OrgId } from '../core/ids.js';

export const AGENT_STATUSES = ['active', 'suspended', 'revoked'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** An identity that signs its own actions: an AI agent, or an MCP server (type `mcp_server`). */
export interface Agent {
  id: AgentId;
  organizationId: OrgId;
  name: string;
  type: string;
  description: string | null;
  capabilities: string[];
  status: AgentStatus;
  /** `user:<id>` or `api_key:<id>`: who registered it. */
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export type KeyStatus = 'active' | 'grace' | 'retired' | 'revoked';

/** One public key in an agent's history. The server never holds the private half. */
export interface AgentKey {
  id: KeyId;
  agentId: AgentId;
  organizationId: OrgId;
  /** Raw 32-byte Ed25519 public key, base64. */
  publicKey: string;
  createdAt: number;
  /** After this the key is refused with `key_expired` (AIM_KEY_MAX_AGE_DAYS). */
  expiresAt: number;
  /** Set when rotated out: the key keeps verifying until then. */
  graceUntil: number | null;
  replacedBy: KeyId | null;
  revokedAt: number | null;
}

/** Where a key stands at a moment: derived from its times, never stored, so it cannot go stale. */
export function keyStatus(key: AgentKey, now: number): KeyStatus {
  if (key.revokedAt !== null) return 'revoked';
  if (key.graceUntil !== null) return key.graceUntil > now ? 'grace' : 'retired';
  return 'active';
}

/** A key that may still verify signatures now (its age is checked separately, to answer `key_expired`). */
export function keyVerifies(key: AgentKey, now: number): boolean {
  const status = keyStatus(key, now);
  return status === 'active' || status === 'grace';
}
