import { join } from 'node:path';
import { Agent, type AgentIdentity, type AgentOptions, type IdentityStore } from '../agent.js';
import type { Credentials } from '../auth.js';
import { AIMClient } from '../client.js';
import { Ed25519KeyPair } from '../crypto.js';
import { CredentialFile, credentialsDir } from './files.js';
import { withFileLock, type FileLockOptions } from './lock.js';

/** Agent names that make safe file names. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface SecureOptions extends AgentOptions {
  /** Directory of identity files; default `$AIM_CREDENTIALS_DIR`, else `$AIM_HOME/credentials`, else `~/.aim/credentials`. */
  dir?: string;
  /** The server; default the stored identity's, else `$AIM_URL`. */
  baseUrl?: string;
  /** The credential that registers the agent when no identity is stored yet; default `{ apiKey: $AIM_API_KEY }`. */
  registerWith?: AIMClient | Credentials;
  /** For a new agent: its capabilities (`files:*`, `files:read@/reports/*`), type and description. */
  capabilities?: string[];
  type?: string;
  description?: string;
  /** How long to wait for another process creating the same identity, and when its lock counts as abandoned. */
  lock?: FileLockOptions;
}

/** The identity file of agent `name`. */
export function identityFile(name: string, dir: string = credentialsDir()): CredentialFile<AgentIdentity> {
  if (!NAME.test(name)) throw new Error(`agent name ${JSON.stringify(name)} cannot be a file name: use letters, digits, ".", "_" and "-"`);
  return new CredentialFile<AgentIdentity>(join(dir, `${name}.json`));
}

/**
 * The store `secure()` gives its agents: writes are atomic (0600), and key rotations run under `<file>.lock`, from the
 * file as it is then, so processes sharing the file rotate once and the others adopt that key.
 *
 * @example
 * ```ts
 * const file = identityFile('my-agent');
 * const agent = await Agent.connect((await file.read())!, { store: identityStore(file) });
 * ```
 */
export function identityStore(file: CredentialFile<AgentIdentity>, lock?: FileLockOptions): IdentityStore {
  return {
    save: (identity) => file.write(identity),
    exclusive: (task) => withFileLock(file.path, async () => task(await file.read()), lock),
  };
}

/**
 * One line to give a program an agent identity: loads `~/.aim/credentials/<name>.json` (0600), or, the first time,
 * generates a key pair locally, saves it, registers the agent (with `$AIM_API_KEY` unless told otherwise) and marks
 * it registered. Key rotations are saved back to the same file, atomically, under its lock. Creation is exclusive
 * across processes: the first holds `<name>.json.lock` while it registers, and the others, once it is done, load what
 * it wrote (one agent, one identity, however many processes start at once). A registration whose answer was lost is
 * finished by the next call: the agent the server made with the saved key is adopted.
 *
 * @example
 * ```ts
 * import { secure } from '@aim/sdk/node';
 *
 * const agent = await secure('my-agent');          // AIM_URL and, the first time, AIM_API_KEY from the environment
 * await agent.verifyAction('search', 'docs/handbook');
 * ```
 */
export async function secure(name: string, options: SecureOptions = {}): Promise<Agent> {
  const file = identityFile(name, options.dir);
  const agentOptions: AgentOptions = { ...options, store: identityStore(file, options.lock) };
  const connect = (identity: AgentIdentity) => Agent.connect(identity, { ...agentOptions, ...(options.baseUrl && { baseUrl: options.baseUrl }) });
  const stored = await file.read();
  if (stored && !stored.pending_registration) return connect(stored);

  const unfinished = stored ? `the registration of ${name} in ${file.path} is unconfirmed` : `no identity for ${name} in ${file.path}`;
  const baseUrl = options.baseUrl ?? stored?.base_url ?? process.env.AIM_URL;
  if (!baseUrl) throw new Error(`${unfinished}, and no server to register it with: set AIM_URL or pass baseUrl`);
  let client: AIMClient;
  if (options.registerWith instanceof AIMClient) client = options.registerWith;
  else {
    const auth = options.registerWith ?? (process.env.AIM_API_KEY ? { apiKey: process.env.AIM_API_KEY } : undefined);
    if (!auth) throw new Error(`${unfinished}: set AIM_API_KEY (or pass registerWith) to register it`);
    client = new AIMClient({ ...options, baseUrl, auth });
  }
  // Under the lock, look again: a process that got it first has registered the agent and written the file.
  const created = await withFileLock(
    file.path,
    async (): Promise<{ agent?: Agent; winner?: AgentIdentity }> => {
      const current = await file.read();
      if (current && !current.pending_registration) return { winner: current };
      // A key saved by an attempt that never heard back: registering it again finds the agent if the server made it.
      const keys = current && (await Ed25519KeyPair.fromPem(current.private_key));
      const agent = await Agent.register(
        client,
        {
          name,
          ...(options.type && { type: options.type }),
          ...(options.capabilities && { capabilities: options.capabilities }),
          ...(options.description !== undefined && { description: options.description }),
          ...(keys && { keys }),
        },
        agentOptions,
      );
      return { agent };
    },
    options.lock,
  );
  return created.agent ?? connect(created.winner!);
}
