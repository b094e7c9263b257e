import { AIMClient } from './client.js';
import type { AgentCredentials } from './auth.js';
import { Ed25519KeyPair, randomNonce, toBase64 } from './crypto.js';
import { AimError, ActionDeniedError, ConflictError, InvalidClientError, InvalidSignatureError, KeyExpiredError, NetworkError } from './errors.js';
import { INSPECT, REDACTED, inspectAs, type Inspect } from './redact.js';
import type { TransportOptions } from './transport.js';
import type { AgentKeyView, AgentView, RegisteredAgent, VerifyDecision } from './types.js';

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
  /**
   * A registration not confirmed yet: the key pair is saved before the server is asked, so an answer lost on its way
   * back cannot leave an agent whose key nobody holds. `agent_id` is empty until then; `secure()` finishes it.
   */
  pending_registration?: true;
}

/**
 * Keeps an agent's identity when it changes (registration, key rotation). `save` must replace the stored copy
 * atomically. A store several processes share needs `exclusive`, or their rotations overwrite each other.
 */
export interface IdentityStore {
  save(identity: AgentIdentity): Promise<void>;
  /**
   * Runs `task` holding a lock every sharer of the store takes, with the identity as stored now. Key rotations run
   * in it, so they start from the stored identity (adopting a key another process rotated to) and nobody writes in
   * between. `secure()`'s file store has one (`<name>.json.lock`). Not reentrant.
   */
  exclusive?<T>(task: (stored: AgentIdentity | undefined) => Promise<T>): Promise<T>;
}

export interface AgentOptions extends Partial<TransportOptions> {
  /**
   * The credential used for verify-action and key rotation. By default the agent authenticates as itself
   * (OAuth client_credentials with a private_key_jwt signed by its key), which needs nothing else.
   */
  client?: AIMClient;
  /** Where the identity goes when it changes: at registration (first as pending, before the server is asked) and rotations. */
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
  /**
   * The key pair to register; default a new one generated here. Give the one an earlier attempt saved when its
   * answer was lost: if the server did register it, that agent is adopted.
   */
  keys?: Ed25519KeyPair;
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
 * An agent identity that signs its actions with Ed25519 and asks AIM to verify them. Logging it shows its id and
 * public key, never the private key.
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
  // #private: the private key never shows in util.inspect or JSON output (see toJSON).
  #current: AgentIdentity;
  #keys: Ed25519KeyPair;
  readonly #client: AIMClient;
  readonly #ownCredentials: AgentCredentials | undefined;
  readonly #options: AgentOptions;
  #rotation: Promise<AgentKeyView | null> | undefined;
  /** How many times this object rotated its key. */
  rotations = 0;

  private constructor(current: AgentIdentity, keys: Ed25519KeyPair, client: AIMClient, ownCredentials: AgentCredentials | undefined, options: AgentOptions) {
    this.#current = current;
    this.#keys = keys;
    this.#client = client;
    this.#ownCredentials = ownCredentials;
    this.#options = options;
  }

  /** The agent's id (a UUID). */
  get id(): string {
    return this.#current.agent_id;
  }

  /** A copy of the identity as it should be persisted now (it holds the private key). */
  get identity(): AgentIdentity {
    return { ...this.#current };
  }

  /** The current public key, raw base64. */
  get publicKey(): string {
    return this.#keys.publicKey;
  }

  /**
   * Registers a new agent through `client` with a key pair generated here; only the public key is sent. With a
   * `store`, the key pair is saved (as `pending_registration`) before the server is asked. A 409 for the name is
   * checked: if the agent holding it has this key, an earlier attempt registered it and lost the answer, and it is
   * adopted; otherwise `ConflictError` names the agent that has the name.
   */
  static async register(client: AIMClient, input: RegisterAgentInput, options: AgentOptions = {}): Promise<Agent> {
    const keys = input.keys ?? (await Ed25519KeyPair.generate());
    await options.store?.save({ agent_id: '', name: input.name, base_url: client.baseUrl, private_key: keys.privateKeyPem, key_id: null, pending_registration: true });
    const registered = await client
      .request<RegisteredAgent>('POST', '/api/v1/agents', {
        json: {
          name: input.name,
          type: input.type ?? 'agent',
          capabilities: input.capabilities ?? [],
          ...(input.description !== undefined && { description: input.description }),
          public_key: keys.publicKey,
        },
      })
      .catch((error: unknown) => {
        if (error instanceof ConflictError) return registeredEarlier(client, input.name, keys.publicKey, error);
        throw error;
      });
    const identity: AgentIdentity = { agent_id: registered.agent_id, name: registered.name, base_url: client.baseUrl, private_key: keys.privateKeyPem, key_id: registered.key_id };
    await options.store?.save(identity);
    return Agent.connect(identity, { ...pickTransport(client.options), ...options });
  }

  /** An agent from a stored identity. A rotation left half-done (a `pending_private_key`) is finished first. */
  static async connect(identity: AgentIdentity, options: AgentOptions = {}): Promise<Agent> {
    if (identity.pending_registration) {
      throw new Error(`the registration of ${identity.name} was never confirmed: finish it with secure(), or Agent.register() with its keys`);
    }
    const keys = await Ed25519KeyPair.fromPem(identity.private_key);
    const own: AgentCredentials | undefined = options.client ? undefined : { agentId: identity.agent_id, key: keys };
    const client = options.client ?? new AIMClient({ ...pickTransport(options), baseUrl: options.baseUrl ?? identity.base_url, auth: own! });
    const agent = new Agent(withoutPendingKey(identity), keys, client, own, options);
    if (identity.pending_private_key) await agent.#locked((stored) => agent.#catchUp(stored ?? identity));
    return agent;
  }

  /**
   * Signs `{agent_id}:{action}:{resource}:{timestamp}:{nonce}` with the agent's key. Resources must not contain `:`.
   */
  async signAction(action: string, resource: string, options: { timestamp?: number; nonce?: string } = {}): Promise<SignedAction> {
    const timestamp = options.timestamp ?? Math.floor(this.#client.transport.now() / 1000);
    const nonce = options.nonce ?? randomNonce();
    const signature = toBase64(await this.#keys.sign(`${this.id}:${action}:${resource}:${timestamp}:${nonce}`));
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
    const decision = await this.#verifyWithCurrentKey(action, resource);
    // Only for the key we still hold: an answer about a key already rotated away from needs nothing more.
    const aboutCurrentKey = this.#current.key_id === null || decision.key_id === this.#current.key_id;
    if (decision.rotation_due && aboutCurrentKey && this.#options.autoRotate !== false) {
      await this.rotateKey().catch((error: unknown) => this.#options.onRotationError?.(error));
    }
    if (!decision.allowed && options.throwOnDeny !== false) throw new ActionDeniedError(decision);
    return decision;
  }

  /**
   * Signs and sends once. When the key is refused and the shared store holds another one (a process sharing the
   * identity file rotated, and the key this object held has since retired or been revoked), adopts it and tries once
   * more: a long-running process keeps working across another's rotation.
   */
  async #verifyWithCurrentKey(action: string, resource: string): Promise<VerifyDecision> {
    try {
      return await this.#client.verifySigned(this.id, await this.signAction(action, resource));
    } catch (error) {
      const keyRefused = error instanceof InvalidSignatureError || error instanceof KeyExpiredError || error instanceof InvalidClientError;
      if (!keyRefused || !this.#options.store?.exclusive) throw error;
      const held = this.#keys;
      await this.#locked(async (stored) => (stored ? this.#catchUp(stored) : undefined));
      if (this.#keys === held) throw error;
      return this.#client.verifySigned(this.id, await this.signAction(action, resource));
    }
  }

  /**
   * Rotates to a new key pair generated here, signed by the current key over
   * `rotate:{agent_id}:{public_key}:{timestamp}:{nonce}`, and answers the server's view of the new key. Concurrent
   * calls share one rotation. The new key is saved (as pending) before the server is asked, then promoted, so no
   * crash can lose it. With a shared store (`exclusive`, as `secure()` has) it all runs under the store's lock, from
   * the identity as stored: when another process rotated first, its key is adopted and this answers `null`.
   *
   * @example
   * ```ts
   * const key = await agent.rotateKey();
   * console.log(key ? `rotated to ${key.key_id}` : 'another process had rotated; using its key', agent.publicKey);
   * ```
   */
  rotateKey(): Promise<AgentKeyView | null> {
    this.#rotation ??= this.#locked(async (stored) => {
      const held = this.#keys;
      const base = stored ? await this.#catchUp(stored) : this.#current;
      // Rotated elsewhere: that key is the agent's now, and the one we held can no longer sign a rotation.
      if (this.#keys !== held) return null;
      return this.#rotateFrom(base);
    }).finally(() => {
      this.#rotation = undefined;
    });
    return this.#rotation;
  }

  /** One rotation, starting from `base`: the identity as stored (as this object holds it, for a store without a lock). */
  async #rotateFrom(base: AgentIdentity): Promise<AgentKeyView> {
    const store = this.#options.store;
    const next = await Ed25519KeyPair.generate();
    await store?.save({ ...base, pending_private_key: next.privateKeyPem });
    const timestamp = Math.floor(this.#client.transport.now() / 1000);
    const nonce = randomNonce();
    const signature = toBase64(await this.#keys.sign(`rotate:${this.id}:${next.publicKey}:${timestamp}:${nonce}`));
    let answer: { key: AgentKeyView; previous: AgentKeyView };
    try {
      answer = await this.#client.request('POST', `/api/v1/agents/${encodeURIComponent(this.id)}/keys/rotate`, {
        json: { public_key: next.publicKey, timestamp, nonce, signature },
      });
    } catch (error) {
      // A clear refusal: the server kept the old key, so take back our pending key, restoring the file as read under
      // the lock. Without a lock there is no such read (the next load settles the pending key); without an answer
      // the outcome is unknown, so the pending key stays.
      const refused = error instanceof AimError && !(error instanceof NetworkError) && error.status < 500;
      if (refused && store?.exclusive) await store.save(base);
      throw error;
    }
    this.#adopt(next, answer.key.key_id);
    await store?.save(this.#current);
    this.rotations += 1;
    return answer.key;
  }

  /**
   * Brings this object up to the identity as stored: settles a rotation a crashed process left pending (the server
   * holds the pending key if it authenticates the agent), and adopts a key another process rotated to. Answers what
   * is stored afterwards.
   */
  async #catchUp(stored: AgentIdentity): Promise<AgentIdentity> {
    if (stored.agent_id !== this.id) throw new Error(`the stored identity is agent ${stored.agent_id || stored.name}, not ${this.id}`);
    let settled = withoutPendingKey(stored);
    if (stored.pending_private_key) {
      const pending = await Ed25519KeyPair.fromPem(stored.pending_private_key);
      if (await this.#authenticates(pending)) settled = { ...settled, private_key: pending.privateKeyPem, key_id: null };
      await this.#options.store?.save(settled);
    }
    if (settled.private_key !== this.#current.private_key) this.#adopt(await Ed25519KeyPair.fromPem(settled.private_key), settled.key_id);
    return settled;
  }

  /** `task` with the identity as stored, under the store's lock; for a store without one, `task(undefined)`. */
  #locked<T>(task: (stored: AgentIdentity | undefined) => Promise<T>): Promise<T> {
    const store = this.#options.store;
    return store?.exclusive ? store.exclusive(task) : task(undefined);
  }

  #adopt(keys: Ed25519KeyPair, keyId: string | null): void {
    this.#keys = keys;
    this.#current = { agent_id: this.#current.agent_id, name: this.#current.name, base_url: this.#current.base_url, private_key: keys.privateKeyPem, key_id: keyId };
    if (this.#ownCredentials) this.#ownCredentials.key = keys;
  }

  async #authenticates(keys: Ed25519KeyPair): Promise<boolean> {
    const probe = new AIMClient({ ...pickTransport(this.#client.options), baseUrl: this.#client.baseUrl, auth: { agentId: this.id, key: keys } });
    try {
      await probe.authenticate();
      return true;
    } catch (error) {
      if (error instanceof InvalidClientError) return false;
      throw error;
    }
  }

  /** What logging shows: who the agent is and its public key; the private key as `[redacted]`. */
  toJSON(): Record<string, unknown> {
    const { agent_id, name, base_url, key_id } = this.#current;
    return { agent_id, name, base_url, key_id, public_key: this.publicKey, private_key: REDACTED, rotations: this.rotations };
  }

  [INSPECT](_depth: number, options: unknown, inspect?: Inspect): string | object {
    return inspectAs('Agent', this.toJSON(), options, inspect);
  }
}

/**
 * The name is taken (409). If the agent holding it has this very key, an earlier attempt registered it and its
 * answer was lost: it is ours. Otherwise the conflict stands, naming that agent.
 */
async function registeredEarlier(client: AIMClient, name: string, publicKey: string, conflict: ConflictError): Promise<Pick<AgentView, 'agent_id' | 'name' | 'key_id'>> {
  const holder = await agentNamed(client, name).catch(() => undefined);
  if (holder?.public_key === publicKey) return holder;
  if (!holder) throw conflict;
  throw new ConflictError('conflict', `the name ${JSON.stringify(name)} belongs to agent ${holder.agent_id}, which holds another key: choose another name`, 409, { cause: conflict });
}

/** The agent named exactly `name` (the list's `q` matches any part of a name, in any case). */
async function agentNamed(client: AIMClient, name: string): Promise<AgentView | undefined> {
  let cursor: string | undefined;
  do {
    const page = await client.agents.list({ q: name, limit: 200, ...(cursor && { cursor }) });
    const found = page.agents.find((agent) => agent.name === name);
    if (found) return found;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return undefined;
}

function withoutPendingKey(identity: AgentIdentity): AgentIdentity {
  const { pending_private_key: _pending, ...settled } = identity;
  return settled;
}

function pickTransport(options: Partial<TransportOptions>): Partial<TransportOptions> {
  return {
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.now && { now: options.now }),
    ...(options.sleep && { sleep: options.sleep }),
    ...(options.retry && { retry: options.retry }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.userAgent && { userAgent: options.userAgent }),
  };
}
