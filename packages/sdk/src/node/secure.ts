import { join } from 'node:path';
import { Agent, type AgentIdentity, type AgentOptions } from '../agent.js';
import type { Credentials } from '../auth.js';
import { AIMClient } from '../client.js';
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
 * One line to give a program an agent identity: loads `~/.aim/credentials/<name>.json` (0600), or, the first time,
 * generates a key pair locally, registers the agent (with `$AIM_API_KEY` unless told otherwise) and saves it there.
 * Key rotations are saved back to the same file, atomically. Creation is exclusive across processes: the first
 * holds `<name>.json.lock` while it registers, and the others, once it is done, load what it wrote (one agent, one
 * identity, however many processes start at once).
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
  const store = { save: (identity: AgentIdentity) => file.write(identity) };
  const agentOptions: AgentOptions = { ...options, store };
  const connect = (identity: AgentIdentity) => Agent.connect(identity, { ...agentOptions, ...(options.baseUrl && { baseUrl: options.baseUrl }) });
  const stored = await file.read();
  if (stored) return connect(stored);

  const baseUrl = options.baseUrl ?? process.env.AIM_URL;
  if (!baseUrl) throw new Error(`no identity for ${name} in ${file.path}, and no server to register it with: set AIM_URL or pass baseUrl`);
  let client: AIMClient;
  if (options.registerWith instanceof AIMClient) client = options.registerWith;
  else {
    const auth = options.registerWith ?? (process.env.AIM_API_KEY ? { apiKey: process.env.AIM_API_KEY } : undefined);
    if (!auth) throw new Error(`no identity for ${name} in ${file.path}: set AIM_API_KEY (or pass registerWith) to register it`);
    client = new AIMClient({ ...options, baseUrl, auth });
  }
  // Under the lock, look again: a process that got it first has registered the agent and written the file.
  const created = await withFileLock(
    file.path,
    async (): Promise<{ agent?: Agent; winner?: AgentIdentity }> => {
      const winner = await file.read();
      if (winner) return { winner };
      const agent = await Agent.register(
        client,
        {
          name,
          ...(options.type && { type: options.type }),
          ...(options.capabilities && { capabilities: options.capabilities }),
          ...(options.description !== undefined && { description: options.description }),
        },
        agentOptions,
      );
      return { agent };
    },
    options.lock,
  );
  return created.agent ?? connect(created.winner!);
}
