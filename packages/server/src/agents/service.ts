import { isCapability } from '@aim/protocol';
import type { AuditLog } from '../audit/audit-log.js';
import { DAY, SECOND, type Clock } from '../core/clock.js';
import { AimError, notFound } from '../core/errors.js';
import { isUuid, type AgentId, type KeyId, type OrgId } from '../core/ids.js';
import type { Random } from '../core/random.js';
import { hasScope, type Principal } from '../http/principal.js';
import type { Position } from '../http/cursor.js';
import { PublicKeyError, decodeSignature, generateAgentKeyPair, parsePublicKey, toKeyObject, verifyEd25519 } from '../signatures/ed25519.js';
import { rotationMessage } from '../signatures/messages.js';
import type { StoreHub, Stores } from '../storage/stores.js';
import type { AgentDirectory } from './directory.js';
import type { NonceStore } from './store.js';
import { keyStatus, type Agent, type AgentKey, type AgentStatus, type KeyStatus } from './types.js';

export interface AgentPolicy {
  keyMaxAgeDays: number;
  rotationGraceSeconds: number;
  rotationNoticeDays: number;
  signatureWindowSeconds: number;
}

export interface RegisterInput {
  name: string;
  type: string;
  capabilities: string[];
  description?: string | null;
  publicKey?: string;
}

export interface KeyView extends AgentKey {
  status: KeyStatus;
  rotationDue: boolean;
}

/** Agents and MCP servers, their capabilities, status and key history. */
export class AgentService {
  constructor(
    private readonly hub: StoreHub,
    private readonly nonces: NonceStore,
    private readonly directory: AgentDirectory,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly policy: AgentPolicy,
  ) {}

  /**
   * Registers an agent with its public key. Without one, the server generates the pair and returns the private key
   * this once; no copy is kept anywhere.
   */
  async register(principal: Principal, input: RegisterInput): Promise<{ agent: Agent; key: AgentKey; privateKeyPem?: string }> {
    requireScope(principal, 'agents:write');
    let publicKey: string;
    let privateKeyPem: string | undefined;
    if (input.publicKey === undefined) {
      ({ publicKey, privateKeyPem } = generateAgentKeyPair());
    } else {
      publicKey = parseKey(input.publicKey);
    }
    const now = this.clock.now();
    const agent: Agent = {
      id: this.random.uuid() as AgentId,
      organizationId: principal.organizationId,
      name: input.name,
      type: input.type,
      description: input.description ?? null,
      capabilities: normalizeCapabilities(input.capabilities),
      status: 'active',
      createdBy: `${principal.actor.type}:${principal.actor.id}`,
      createdAt: now,
      updatedAt: now,
    };
    const key = this.newKey(agent.id, principal.organizationId, publicKey, now);
    await this.hub.transaction(async (s) => {
      await s.agents.createAgent(agent, key);
      await this.audit.withStore(s.audit).record({
        organizationId: agent.organizationId,
        event: 'agent.registered',
        actor: principal.actor,
        subject: { type: 'agent', id: agent.id },
        data: { name: agent.name, type: agent.type, capabilities: agent.capabilities, key_id: key.id, server_generated_key: privateKeyPem !== undefined },
      });
    });
    return { agent, key, ...(privateKeyPem && { privateKeyPem }) };
  }

  async get(principal: Principal, id: string): Promise<{ agent: Agent; currentKey: KeyView | undefined }> {
    requireScope(principal, 'agents:read');
    const agent = await this.find(principal.organizationId, id);
    const keys = await this.hub.agents.listKeys(agent.id);
    return { agent, currentKey: this.currentKey(keys) };
  }

  async list(
    principal: Principal,
    query: { status?: AgentStatus; type?: string; search?: string; limit: number; after?: Position },
  ): Promise<{ agents: Array<{ agent: Agent; currentKey: KeyView | undefined }>; total: number }> {
    requireScope(principal, 'agents:read');
    const { agents, total } = await this.hub.agents.listAgents(principal.organizationId, query);
    // One query for the whole page's keys, not one per agent.
    const keys = await this.hub.agents.listKeysOfAgents(agents.map((agent) => agent.id));
    return { agents: agents.map((agent) => ({ agent, currentKey: this.currentKey(keys.get(agent.id) ?? []) })), total };
  }

  async update(
    principal: Principal,
    id: string,
    patch: { name?: string; description?: string | null; capabilities?: string[] },
  ): Promise<Agent> {
    requireScope(principal, 'agents:write');
    const agent = await this.find(principal.organizationId, id);
    if (agent.status === 'revoked') throw new AimError('conflict', 'a revoked agent cannot be changed');
    const normalized = { ...patch, ...(patch.capabilities && { capabilities: normalizeCapabilities(patch.capabilities) }) };
    const updated = await this.hub.transaction(async (s) => {
      const result = await s.agents.updateAgent(principal.organizationId, agent.id, normalized, this.clock.now());
      if (!result) throw notFound('agent');
      await this.audit.withStore(s.audit).record({
        organizationId: agent.organizationId,
        event: 'agent.updated',
        actor: principal.actor,
        subject: { type: 'agent', id: agent.id },
        data: { before: pick(agent, normalized), after: normalized },
      });
      return result;
    });
    await this.directory.invalidate(agent.id);
    return updated;
  }

  suspend(principal: Principal, id: string): Promise<Agent> {
    return this.transition(principal, id, ['active'], 'suspended', 'agent.suspended');
  }

  reactivate(principal: Principal, id: string): Promise<Agent> {
    return this.transition(principal, id, ['suspended'], 'active', 'agent.reactivated');
  }

  /**
   * Deleting revokes: the agent and its keys stop at once, its evidence stays verifiable. One transaction, so a
   * failure leaves neither a revoked agent with live keys nor an `agent.deleted` entry for a deletion that did not happen.
   */
  remove(principal: Principal, id: string): Promise<Agent> {
    return this.transition(principal, id, ['active', 'suspended'], 'revoked', 'agent.deleted', (s, agentId, now) => s.agents.revokeAllKeys(agentId, now));
  }

  async keys(principal: Principal, id: string): Promise<KeyView[]> {
    requireScope(principal, 'agents:read');
    const agent = await this.find(principal.organizationId, id);
    const now = this.clock.now();
    return (await this.hub.agents.listKeys(agent.id)).map((k) => this.keyView(k, now));
  }

  /**
   * Rotation signed by the current key over `rotate:{agent_id}:{public_key}:{timestamp}:{nonce}`. The old key keeps
   * verifying for the grace period, then retires. Callable by the agent itself (its OAuth token) or `agents:write`.
   */
  async rotate(
    principal: Principal,
    id: string,
    input: { publicKey: string; timestamp: number; nonce: string; signature: string },
  ): Promise<{ key: KeyView; previous: KeyView }> {
    if (principal.agentId !== id) requireScope(principal, 'agents:write');
    const agent = await this.find(principal.organizationId, id);
    // As verify-action says it: suspended can be undone, revoked (deleted) cannot.
    if (agent.status !== 'active') throw new AimError(agent.status === 'suspended' ? 'agent_suspended' : 'forbidden', `the agent is ${agent.status}`);
    const now = this.clock.now();
    const keys = await this.hub.agents.listKeys(agent.id);
    const current = keys.find((k) => keyStatus(k, now) === 'active');
    if (!current) throw new AimError('conflict', 'the agent has no active key; an admin must set one');
    if (Math.abs(now / 1000 - input.timestamp) > this.policy.signatureWindowSeconds) {
      throw new AimError('signature_expired', 'timestamp is outside the signature window');
    }
    const signature = decodeSignature(input.signature);
    const message = rotationMessage(agent.id, input.publicKey, input.timestamp, input.nonce);
    if (!signature || !verifyEd25519(toKeyObject(current.publicKey), message, signature)) {
      throw new AimError('invalid_signature', 'the rotation must be signed by the current key');
    }
    if (current.expiresAt <= now) throw new AimError('key_expired', 'the current key expired; an admin must set a new one');
    const publicKey = parseKey(input.publicKey);
    if (!(await this.nonces.consumeNonce(agent.id, input.nonce, now + this.policy.signatureWindowSeconds * 2 * SECOND))) {
      throw new AimError('nonce_reused', 'this nonce was already used');
    }
    const next = this.newKey(agent.id, agent.organizationId, publicKey, now);
    const graceUntil = now + this.policy.rotationGraceSeconds * SECOND;
    await this.hub.transaction(async (s) => {
      if (!(await s.agents.rotateKey(agent.id, current.id, next, graceUntil))) {
        throw new AimError('conflict', 'the key was rotated by another request');
      }
      await this.audit.withStore(s.audit).record({
        organizationId: agent.organizationId,
        event: 'agent_key.rotated',
        actor: principal.actor,
        subject: { type: 'agent', id: agent.id },
        data: { previous_key_id: current.id, key_id: next.id, grace_until: graceUntil, signed_by: current.id, signature: input.signature, message: message.toString('utf8') },
      });
    });
    await this.directory.invalidate(agent.id);
    return { key: this.keyView(next, now), previous: this.keyView({ ...current, graceUntil, replacedBy: next.id }, now) };
  }

  /** Revokes one key at once (a suspected leak). Its signatures stop verifying on every node. */
  async revokeKey(principal: Principal, id: string, keyId: string): Promise<KeyView> {
    requireScope(principal, 'agents:write');
    const agent = await this.find(principal.organizationId, id);
    const now = this.clock.now();
    const key = isUuid(keyId) ? (await this.hub.agents.listKeys(agent.id)).find((k) => k.id === keyId) : undefined;
    if (!key) throw notFound('key');
    await this.hub.transaction(async (s) => {
      if (!(await s.agents.revokeKey(agent.id, key.id, now))) throw new AimError('conflict', 'the key is already revoked');
      await this.audit.withStore(s.audit).record({
        organizationId: agent.organizationId,
        event: 'agent_key.revoked',
        actor: principal.actor,
        subject: { type: 'agent', id: agent.id },
        data: { key_id: key.id },
      });
    });
    await this.directory.invalidate(agent.id);
    return this.keyView({ ...key, revokedAt: now }, now);
  }

  /**
   * An admin sets a new key (after a revocation or an expiry): every other live key retires now. Admins only: unlike
   * a rotation, nothing proves the caller holds the current key, and whoever sets the key can sign as the agent.
   */
  async replaceKey(principal: Principal, id: string, publicKeyInput: string): Promise<KeyView> {
    requireScope(principal, 'admin');
    const agent = await this.find(principal.organizationId, id);
    if (agent.status === 'revoked') throw new AimError('conflict', 'a revoked agent cannot get new keys');
    const now = this.clock.now();
    const next = this.newKey(agent.id, agent.organizationId, parseKey(publicKeyInput), now);
    await this.hub.transaction(async (s) => {
      await s.agents.replaceKeys(agent.id, next, now);
      await this.audit.withStore(s.audit).record({
        organizationId: agent.organizationId,
        event: 'agent_key.rotated',
        actor: principal.actor,
        subject: { type: 'agent', id: agent.id },
        data: { key_id: next.id, replaced_by_admin: true },
      });
    });
    await this.directory.invalidate(agent.id);
    return this.keyView(next, now);
  }

  keyView(key: AgentKey, now: number): KeyView {
    const status = keyStatus(key, now);
    return { ...key, status, rotationDue: status === 'active' && key.expiresAt - now <= this.policy.rotationNoticeDays * DAY };
  }

  private currentKey(keys: AgentKey[]): KeyView | undefined {
    const now = this.clock.now();
    const current = keys.find((k) => keyStatus(k, now) === 'active');
    return current && this.keyView(current, now);
  }

  private newKey(agentId: AgentId, organizationId: OrgId, publicKey: string, now: number): AgentKey {
    return {
      id: this.random.uuid() as KeyId,
      agentId,
      organizationId,
      publicKey,
      createdAt: now,
      expiresAt: now + this.policy.keyMaxAgeDays * DAY,
      graceUntil: null,
      replacedBy: null,
      revokedAt: null,
    };
  }

  private async find(orgId: OrgId, id: string): Promise<Agent> {
    const agent = isUuid(id) ? await this.hub.agents.findAgent(orgId, id as AgentId) : undefined;
    if (!agent) throw notFound('agent');
    return agent;
  }

  private async transition(
    principal: Principal,
    id: string,
    from: readonly AgentStatus[],
    to: AgentStatus,
    event: 'agent.suspended' | 'agent.reactivated' | 'agent.deleted',
    alsoInTransaction?: (s: Stores, agentId: AgentId, now: number) => Promise<void>,
  ): Promise<Agent> {
    requireScope(principal, 'agents:write');
    const agent = await this.find(principal.organizationId, id);
    const now = this.clock.now();
    await this.hub.transaction(async (s) => {
      if (!(await s.agents.setStatus(principal.organizationId, agent.id, from, to, now))) {
        throw new AimError('conflict', `the agent is ${agent.status}`);
      }
      await alsoInTransaction?.(s, agent.id, now);
      await this.audit.withStore(s.audit).record({
        organizationId: agent.organizationId,
        event,
        actor: principal.actor,
        subject: { type: 'agent', id: agent.id },
        data: { from: agent.status, to },
      });
    });
    await this.directory.invalidate(agent.id);
    return { ...agent, status: to, updatedAt: now };
  }
}

function requireScope(principal: Principal, scope: 'agents:read' | 'agents:write' | 'admin'): void {
  if (!hasScope(principal, scope)) throw new AimError('insufficient_scope', `this needs the "${scope}" scope`);
}

function parseKey(input: string): string {
  try {
    return parsePublicKey(input);
  } catch (error) {
    if (error instanceof PublicKeyError) throw new AimError('invalid_request', error.message);
    throw error;
  }
}

/** The routes' schemas check the grammar already; this keeps any other caller from storing a capability that never matches as meant. */
function normalizeCapabilities(capabilities: string[]): string[] {
  const bad = capabilities.find((c) => !isCapability(c));
  if (bad !== undefined) throw new AimError('invalid_request', 'a capability does not follow the grammar: action[@resource], see the README');
  return [...new Set(capabilities)].sort();
}

function pick(agent: Agent, patch: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(patch).map((k) => [k, agent[k as keyof Agent]]));
}
