import { AIMClient } from './client.js';
import type { AgentCredentials } from './auth.js';
import { Ed25519KeyPair, randomNonce, toBase64 } from './crypto.js';
import { AimError, ActionDeniedError, InvalidClientError, NetworkError } from './errors.js';
import type { TransportOptions } from './transport.js';
import type { AgentKeyView, RegisteredAgent, VerifyDecision } from './types.js';

/**
 * Everything an agent needs to act, as persisted (`@aim/sdk/node` keeps it in `~/.aim/credentials/<name>.json`, 0600).
 * `pending_private_key` is a rotation in progress: written before the server is asked, so a crash in between can
 * never lose the key the server now expects.
 */
export interface AgentIdentity {
  agent_id: string;
  name: string;
  base_url: string;
  /** PKCS#8 PEM. Never sent to the server. */
  private_key: string;
  key_id: string | null;
  pending_private_key?: string;
}

/** Keeps an agent's identity after it changes (a key rotation). Must replace the stored copy atomically. */
export interface IdentityStore {
  save(identity: AgentIdentity): Promise<void>;
}

export interface AgentOptions extends Partial<TransportOptions> {
  /**
   * The credential used for verify-action and key rotation. By default the agent authenticates as itself
   * (OAuth client_credentials with a private_key_jwt signed by its key), which needs nothing else.
   */
  client?: AIMClient;
  /** Where the identity goes after a key rotation. */
  store?: IdentityStore;
  /** Rotate the key as soon as the server says rotation is due (default true). */
  autoRotate?: boolean;
  /** Called when an automatic rotation fails; the decision that prompted it is still returned. */
  onRotationError?: (error: unknown) => void;
}

export interface RegisterAgentInput {
  name: string;
  /** `agent` (default) or `mcp_server`, or your own lowercase type. */
  type?: string;
  /**
   * Actions it may take: `search`, `files:*`, `*`; each may be limited to resources after `@`: `files:read@/reports/*`
   * (a prefix) or `payments:send@acct-42` (exactly that one). Passed as-is; the server checks the grammar.
   */
  capabilities?: string[];
  description?: string;
}

/** A signed verify-action body. */
export interface SignedAction {
  action: string;
  resource: string;
  signature: string;
  timestamp: number;
  nonce: string;
}

/**
 * An agent identity that signs its actions with Ed25519 and asks AIM to verify them.
 *
 * @example
 * ```ts
 * const agent = await Agent.connect(identity); // or secure('my-agent') from '@aim/sdk/node'
 * try {
 *   const decision = await agent.verifyAction('files:read', '/reports/q3.pdf');
 *   console.log('allowed, evidence', decision.verification_id);
 * } catch (error) {
 *   if (error instanceof ActionDeniedError) console.log('denied:', error.decision.reason);
 *   else throw error;
 * }
 * ```
 */
export class Agent {
  private rotation: Promise<AgentKeyView> | undefined;
  /** How many times this object rotated its key. */
  rotations = 0;

  private constructor(
    private current: AgentIdentity,
    private keys: Ed25519KeyPair,
    private readonly client: AIMClient,
    private readonly ownCredentials: AgentCredentials | undefined,
    private readonly options: AgentOptions,
  ) {}

  /** The agent's id (a UUID). */
  get id(): string {
    return this.current.agent_id;
  }

  /** A copy of the identity as it should be persisted now (it holds the private key). */
  get identity(): AgentIdentity {
    return { ...this.current };
  }

  /** The current public key, raw base64. */
  get publicKey(): string {
    return this.keys.publicKey;
  }

  /** Registers a new agent through `client` with a key pair generated here; only the public key is sent. */
  static async register(client: AIMClient, input: RegisterAgentInput, options: AgentOptions = {}): Promise<Agent> {
    const keys = await Ed25519KeyPair.generate();
    const registered = await client.request<RegisteredAgent>('POST', '/api/v1/agents', {
      json: {
        name: input.name,
        type: input.type ?? 'agent',
        capabilities: input.capabilities ?? [],
        ...(input.description !== undefined && { description: input.description }),
        public_key: keys.publicKey,
      },
    });
    const identity: AgentIdentity = { agent_id: registered.agent_id, name: registered.name, base_url: client.baseUrl, private_key: keys.privateKeyPem, key_id: registered.key_id };
    await options.store?.save(identity);
    return Agent.connect(identity, { ...pickTransport(client.options), ...options });
  }

  /** An agent from a stored identity. A rotation left half-done (a `pending_private_key`) is finished first. */
  static async connect(identity: AgentIdentity, options: AgentOptions = {}): Promise<Agent> {
    const keys = await Ed25519KeyPair.fromPem(identity.private_key);
    const own: AgentCredentials | undefined = options.client ? undefined : { agentId: identity.agent_id, key: keys };
    const client = options.client ?? new AIMClient({ ...pickTransport(options), baseUrl: options.baseUrl ?? identity.base_url, auth: own! });
    const { pending_private_key: _pending, ...settled } = identity;
    const agent = new Agent(settled, keys, client, own, options);
    if (identity.pending_private_key) await agent.settlePendingRotation(identity.pending_private_key);
    return agent;
  }

  /**
   * Signs `{agent_id}:{action}:{resource}:{timestamp}:{nonce}` with the agent's key. Resources must not contain `:`.
   */
  async signAction(action: string, resource: string, options: { timestamp?: number; nonce?: string } = {}): Promise<SignedAction> {
    const timestamp = options.timestamp ?? Math.floor(this.client.transport.now() / 1000);
    const nonce = options.nonce ?? randomNonce();
    const signature = toBase64(await this.keys.sign(`${this.id}:${action}:${resource}:${timestamp}:${nonce}`));
    return { action, resource, signature, timestamp, nonce };
  }

  /**
   * Signs the action and asks AIM to verify it. Answers the decision when allowed; throws `ActionDeniedError` when the
   * signature was valid but the agent may not do it (pass `{ throwOnDeny: false }` to get the decision instead), and a
   * typed error for each refusal (`InvalidSignatureError`, `AgentSuspendedError`, `RateLimitedError`, …). When the
   * server says rotation is due, the key is rotated before this returns.
   *
   * @example
   * ```ts
   * const { verification_id } = await agent.verifyAction('payments:create', 'invoice/42');
   * ```
   */
  async verifyAction(action: string, resource: string, options: { throwOnDeny?: boolean } = {}): Promise<VerifyDecision> {
    const decision = await this.client.verifySigned(this.id, await this.signAction(action, resource));
    // Only for the key we still hold: an answer about a key already rotated away from needs nothing more.
    const aboutCurrentKey = this.current.key_id === null || decision.key_id === this.current.key_id;
    if (decision.rotation_due && aboutCurrentKey && this.options.autoRotate !== false) {
      await this.rotateKey().catch((error: unknown) => this.options.onRotationError?.(error));
    }
    if (!decision.allowed && options.throwOnDeny !== false) throw new ActionDeniedError(decision);
    return decision;
  }

  /**
   * Rotates to a new key pair generated here, signed by the current key over
   * `rotate:{agent_id}:{public_key}:{timestamp}:{nonce}`. Concurrent calls share one rotation. The new key is saved
   * (as pending) before the server is asked, then promoted, so no crash can lose it.
   */
  rotateKey(): Promise<AgentKeyView> {
    this.rotation ??= this.rotateOnce().finally(() => {
      this.rotation = undefined;
    });
    return this.rotation;
  }

  private async rotateOnce(): Promise<AgentKeyView> {
    const next = await Ed25519KeyPair.generate();
    await this.options.store?.save({ ...this.current, pending_private_key: next.privateKeyPem });
    const timestamp = Math.floor(this.client.transport.now() / 1000);
    const nonce = randomNonce();
    const signature = toBase64(await this.keys.sign(`rotate:${this.id}:${next.publicKey}:${timestamp}:${nonce}`));
    let answer: { key: AgentKeyView; previous: AgentKeyView };
    try {
      answer = await this.client.request('POST', `/api/v1/agents/${encodeURIComponent(this.id)}/keys/rotate`, {
        json: { public_key: next.publicKey, timestamp, nonce, signature },
      });
    } catch (error) {
      // A clear refusal means the old key stays; without an answer the outcome is unknown, so the pending key stays.
      if (error instanceof AimError && !(error instanceof NetworkError) && error.status < 500) await this.options.store?.save(this.current);
      throw error;
    }
    this.adopt(next, answer.key.key_id);
    await this.options.store?.save(this.current);
    this.rotations += 1;
    return answer.key;
  }

  private adopt(keys: Ed25519KeyPair, keyId: string | null): void {
    this.keys = keys;
    this.current = { agent_id: this.current.agent_id, name: this.current.name, base_url: this.current.base_url, private_key: keys.privateKeyPem, key_id: keyId };
    if (this.ownCredentials) this.ownCredentials.key = keys;
  }

  /**
   * A rotation was interrupted: if the server took the new key, the pending key now authenticates the agent
   * (a client assertion signed with it is accepted), so adopt it; otherwise the rotation never happened.
   */
  private async settlePendingRotation(pendingPem: string): Promise<void> {
    const pending = await Ed25519KeyPair.fromPem(pendingPem);
    if (await this.authenticates(pending)) this.adopt(pending, null);
    await this.options.store?.save(this.current);
  }

  private async authenticates(keys: Ed25519KeyPair): Promise<boolean> {
    const probe = new AIMClient({ ...pickTransport(this.client.options), baseUrl: this.client.baseUrl, auth: { agentId: this.id, key: keys } });
    try {
      await probe.authenticate();
      return true;
    } catch (error) {
      if (error instanceof InvalidClientError) return false;
      throw error;
    }
  }
}

function pickTransport(options: Partial<TransportOptions>): Partial<TransportOptions> {
  return {
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.now && { now: options.now }),
    ...(options.sleep && { sleep: options.sleep }),
    ...(options.retry && { retry: options.retry }),
  };
}
