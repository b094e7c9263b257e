import type { AgentDirectory, LoadedAgent } from '../agents/directory.js';
import type { NonceStore } from '../agents/store.js';
import { capabilityDecision } from '../agents/capabilities.js';
import { keyVerifies, type AgentKey } from '../agents/types.js';
import type { AuditLog } from '../audit/audit-log.js';
import { DAY, SECOND, type Clock } from '../core/clock.js';
import { AimError, notFound } from '../core/errors.js';
import { isUuid, type AgentId, type KeyId } from '../core/ids.js';
import type { Random } from '../core/random.js';
import { decisionEvent, type ErrorCode } from '@aim/protocol';
import type { Position } from '../http/cursor.js';
import { hasScope, type Principal } from '../http/principal.js';
import type { StoreHub, Stores } from '../storage/stores.js';
import { decodeSignature, verifyEd25519 } from './ed25519.js';
import { actionMessage } from './messages.js';
import type { Decision, Verification, VerificationStats } from './types.js';

export interface VerifyActionInput {
  action: string;
  resource: string;
  signature: string;
  timestamp: number;
  nonce: string;
}

export interface VerifyActionResult {
  verification: Verification;
  allowed: boolean;
  key: AgentKey;
  rotationDue: boolean;
}

/** Called after a request was rejected (bad signature, replayed nonce…): alerts count bursts. */
export type RejectionListener = (agent: LoadedAgent['agent'], reason: ErrorCode, ip: string | null) => void;

/** Called for every recorded decision (metrics). */
export type DecisionListener = (decision: Decision, reason: string) => void;

/**
 * verify-action: proves an agent signed exactly this action on this resource just now, once, with a key it holds,
 * then decides from its capabilities (action and resource) and status. Every outcome is kept as evidence and audited.
 */
export class ActionVerifier {
  private readonly rejectionListeners: RejectionListener[] = [];
  private readonly decisionListeners: DecisionListener[] = [];

  constructor(
    private readonly hub: StoreHub,
    private readonly nonces: NonceStore,
    private readonly directory: AgentDirectory,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly policy: { signatureWindowSeconds: number; rotationNoticeDays: number },
  ) {}

  onRejected(listener: RejectionListener): void {
    this.rejectionListeners.push(listener);
  }

  onDecision(listener: DecisionListener): void {
    this.decisionListeners.push(listener);
  }

  async verify(principal: Principal, agentId: string, input: VerifyActionInput, ip: string | null): Promise<VerifyActionResult> {
    if (!hasScope(principal, 'verify')) throw new AimError('insufficient_scope', 'this needs the "verify" scope');
    // An agent's own OAuth token may verify its own actions, never another agent's.
    if (principal.agentId !== undefined && principal.agentId !== agentId) throw notFound('agent');
    const loaded = isUuid(agentId) ? await this.directory.get(principal.organizationId, agentId as AgentId) : undefined;
    if (!loaded) throw notFound('agent');
    const { agent } = loaded;
    const now = this.clock.now();
    const message = actionMessage(agent.id, input.action, input.resource, input.timestamp, input.nonce);
    const evidence = (keyId: KeyId | null, decision: Decision, reason: string): Verification => ({
      id: this.random.uuid(),
      organizationId: agent.organizationId,
      agentId: agent.id,
      keyId,
      action: input.action,
      resource: input.resource,
      timestamp: input.timestamp,
      nonce: input.nonce,
      message: message.toString('utf8'),
      signature: input.signature,
      decision,
      reason,
      caller: principal.actor,
      ip,
      createdAt: now,
    });
    const reject = async (code: ErrorCode, description: string, keyId: KeyId | null = null): Promise<never> => {
      await this.record(evidence(keyId, 'rejected', code), principal);
      for (const listener of this.rejectionListeners) listener(agent, code, ip);
      throw new AimError(code, description);
    };

    if (agent.status !== 'active') {
      await reject(agent.status === 'suspended' ? 'agent_suspended' : 'forbidden', `the agent is ${agent.status}`);
    }
    if (Math.abs(now / 1000 - input.timestamp) > this.policy.signatureWindowSeconds) {
      await reject('signature_expired', `timestamp must be within ${this.policy.signatureWindowSeconds} s of server time`);
    }
    const signature = decodeSignature(input.signature);
    const signer = signature && loaded.keys.find(({ key, object }) => keyVerifies(key, now) && verifyEd25519(object, message, signature));
    if (!signer) return reject('invalid_signature', 'the signature does not verify with any live key of this agent');
    if (signer.key.expiresAt <= now) await reject('key_expired', 'the signing key is older than the key lifetime; rotate it', signer.key.id);

    const reason = capabilityDecision(agent.capabilities, input.action, input.resource);
    const allowed = reason === 'capability_granted';
    const verification = evidence(signer.key.id, allowed ? 'allowed' : 'denied', reason);
    const nonceExpiresAt = input.timestamp * SECOND + this.policy.signatureWindowSeconds * SECOND * 2;
    if (this.nonces === this.hub.nonces) {
      // Nonces in the store: claim it in the transaction that writes the decision, so one commit does both, and
      // the nonce is spent exactly when its evidence is. The unique insert is still the check (a racing twin waits
      // for this commit, then finds the nonce taken).
      const fresh = await this.hub.transaction(async (s) => {
        const claimed = await s.nonces.consumeNonce(agent.id, input.nonce, nonceExpiresAt);
        await this.write(s, claimed ? verification : evidence(signer.key.id, 'rejected', 'nonce_reused'), principal);
        return claimed;
      });
      if (!fresh) {
        this.decided('rejected', 'nonce_reused');
        for (const listener of this.rejectionListeners) listener(agent, 'nonce_reused', ip);
        throw new AimError('nonce_reused', 'this nonce was already used by this agent');
      }
      this.decided(verification.decision, verification.reason);
    } else {
      // Shared nonces (Redis): insert-if-absent first; only the one request that claims it records a decision.
      const fresh = await this.nonces.consumeNonce(agent.id, input.nonce, nonceExpiresAt);
      if (!fresh) await reject('nonce_reused', 'this nonce was already used by this agent', signer.key.id);
      await this.record(verification, principal);
    }
    return {
      verification,
      allowed,
      key: signer.key,
      rotationDue: signer.key.graceUntil === null && signer.key.expiresAt - now <= this.policy.rotationNoticeDays * DAY,
    };
  }

  /**
   * Deletes used nonces whose timestamp can no longer pass the window (the maintenance job calls it). A no-op in
   * Redis, whose keys expire by themselves; in SQLite or PostgreSQL the table would otherwise keep every nonce ever.
   */
  async pruneNonces(): Promise<{ deleted: number }> {
    return { deleted: await this.nonces.pruneNonces(this.clock.now()) };
  }

  async get(principal: Principal, id: string): Promise<Verification> {
    requireRead(principal);
    const found = isUuid(id) ? await this.hub.verifications.findVerification(principal.organizationId, id) : undefined;
    if (!found) throw notFound('verification');
    return found;
  }

  async list(principal: Principal, query: { agentId?: string; decision?: string; limit: number; after?: Position }): Promise<Verification[]> {
    requireRead(principal);
    if (query.agentId !== undefined) {
      const agent = isUuid(query.agentId) ? await this.hub.agents.findAgent(principal.organizationId, query.agentId as AgentId) : undefined;
      if (!agent) throw notFound('agent');
    }
    return this.hub.verifications.listVerifications(principal.organizationId, {
      limit: query.limit,
      ...(query.agentId && { agentId: query.agentId as AgentId }),
      ...(query.decision && { decision: query.decision }),
      ...(query.after && { after: query.after }),
    });
  }

  /** Decisions per UTC day over the last `days` days, today included, every day present (zeros where none). */
  async stats(principal: Principal, days: number): Promise<VerificationStats[]> {
    requireRead(principal);
    const today = Math.floor(this.clock.now() / DAY) * DAY;
    const since = today - (days - 1) * DAY;
    const counted = new Map((await this.hub.verifications.verificationStats(principal.organizationId, since)).map((s) => [s.day, s]));
    return Array.from({ length: days }, (_, i) => {
      const day = new Date(since + i * DAY).toISOString().slice(0, 10);
      return counted.get(day) ?? { day, allowed: 0, denied: 0, rejected: 0 };
    });
  }

  private async record(verification: Verification, principal: Principal): Promise<void> {
    await this.hub.transaction((s) => this.write(s, verification, principal));
    this.decided(verification.decision, verification.reason);
  }

  private decided(decision: Decision, reason: string): void {
    for (const listener of this.decisionListeners) listener(decision, reason);
  }

  /** The evidence and its audit entry, through the stores of one transaction. */
  private async write(s: Stores, verification: Verification, principal: Principal): Promise<void> {
    await s.verifications.insertVerification(verification);
    await this.audit.withStore(s.audit).record({
      organizationId: verification.organizationId,
      event: decisionEvent(verification.decision),
      actor: principal.actor,
      subject: { type: 'agent', id: verification.agentId },
      ip: verification.ip,
      data: {
        verification_id: verification.id,
        action: verification.action,
        resource: verification.resource,
        key_id: verification.keyId,
        reason: verification.reason,
      },
    });
  }
}

function requireRead(principal: Principal): void {
  if (!hasScope(principal, 'agents:read') && !hasScope(principal, 'audit:read')) {
    throw new AimError('insufficient_scope', 'this needs the "agents:read" scope');
  }
}
