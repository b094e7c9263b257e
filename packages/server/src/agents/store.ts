import type { AgentId, KeyId, OrgId } from '../core/ids.js';
import type { Agent, AgentKey, AgentStatus } from './types.js';

export interface AgentQuery {
  status?: AgentStatus;
  type?: string;
  /** Substring of the name, case-insensitive for ASCII (the database's lower() on both sides). */
  search?: string;
  limit: number;
  /** Opaque position from a previous page. */
  after?: { createdAt: number; id: string };
}

export interface AgentStore {
  /** Inserts an agent with its first key; a taken name (per organization) or public key throws `conflict`. */
  createAgent(agent: Agent, key: AgentKey): Promise<void>;
  /** Scoped to the organization: another organization's agent is not found. */
  findAgent(orgId: OrgId, id: AgentId): Promise<Agent | undefined>;
  /** Unscoped: only for authenticating an agent itself (a client assertion names no organization). */
  findAgentOrganization(id: AgentId): Promise<OrgId | undefined>;
  listAgents(orgId: OrgId, query: AgentQuery): Promise<{ agents: Agent[]; total: number }>;
  updateAgent(orgId: OrgId, id: AgentId, patch: { name?: string; description?: string | null; capabilities?: string[] }, now: number): Promise<Agent | undefined>;
  /** Moves the status only from one of `from`; answers whether it moved (a compare-and-swap). */
  setStatus(orgId: OrgId, id: AgentId, from: readonly AgentStatus[], to: AgentStatus, now: number): Promise<boolean>;
  listKeys(agentId: AgentId): Promise<AgentKey[]>;
  /** The keys of several agents in one query (a page of agents), each list ordered as `listKeys` orders it. */
  listKeysOfAgents(agentIds: readonly AgentId[]): Promise<Map<AgentId, AgentKey[]>>;
  /**
   * Current (not rotated out, not revoked) keys of active agents whose expiry falls in (from, to], by expiry then id;
   * `after` continues past the last key of the previous page (keys expiring at one instant are told apart by id).
   */
  listKeysExpiringBetween(
    from: number,
    to: number,
    limit: number,
    after?: { expiresAt: number; id: string },
  ): Promise<Array<{ key: AgentKey; agentName: string }>>;
  /**
   * Rotates out `currentKeyId` (it keeps verifying until `graceUntil`) and adds `next`. Only one rotation of a given
   * key can succeed, however many race: the losers get false and nothing is written.
   */
  rotateKey(agentId: AgentId, currentKeyId: KeyId, next: AgentKey, graceUntil: number): Promise<boolean>;
  /** Revokes one key at once; false when it was not live. */
  revokeKey(agentId: AgentId, keyId: KeyId, now: number): Promise<boolean>;
  /** Revokes every live key of the agent (agent deletion). */
  revokeAllKeys(agentId: AgentId, now: number): Promise<void>;
  /** Adds a key and retires every other live key at `now` (an admin re-keying an agent). */
  replaceKeys(agentId: AgentId, next: AgentKey, now: number): Promise<void>;
}

export interface NonceStore {
  /**
   * Records `nonce` as used by `agentId` until `expiresAt`; answers false when it was already used.
   * Insert-if-absent in one statement (never read-then-write), so of N concurrent uses exactly one gets true.
   */
  consumeNonce(agentId: string, nonce: string, expiresAt: number): Promise<boolean>;
  pruneNonces(now: number): Promise<number>;
}
