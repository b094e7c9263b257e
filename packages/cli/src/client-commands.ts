import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Agent, AimError, Ed25519KeyPair, InvalidTokenError, RefreshTokenReusedError, type AgentView, type AIMClient, type ApiKeyView, type UserView } from '@aim/sdk';
import { identityFile, identityStore } from '@aim/sdk/node';
import { CliExit, EXIT, fail, table, when, type Output } from './output.js';
import { exitCodeFor } from './errors.js';
import { SessionEnded, forgetSession, login, personClient, reauthenticate, requireIssuer, serverUrl, sessionClient, sessionFile } from './session.js';
import { keysGroup, server, storeConfig } from './server-commands.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

/** Commands that talk to a running server as a person (`aim login`) or as an agent (its identity file). */
export function registerClientCommands(program: Command, out: Output): void {
  program
    .command('login')
    .description('sign in and keep the session in $AIM_HOME/session.json (0600); later commands use it')
    .option('--url <url>', 'the AIM server (default $AIM_URL or http://127.0.0.1:8080)')
    .requiredOption('--email <email>', 'your email address')
    .option('--password-stdin', 'read the password from standard input (else $AIM_PASSWORD)')
    .option('--totp <code>', 'a TOTP or recovery code, for accounts with 2FA')
    .action(async (opts: { url?: string; email: string; passwordStdin?: boolean; totp?: string }) => {
      const password = opts.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : process.env.AIM_PASSWORD;
      if (!password) fail(out, EXIT.usage, 'give the password on standard input with --password-stdin, or in AIM_PASSWORD');
      const baseUrl = serverUrl(opts.url);
      const session = await login(baseUrl, { email: opts.email, password, ...(opts.totp && { totpCode: opts.totp }) });
      const user = session.user;
      out.result(
        { signed_in: true, url: baseUrl.replace(/\/+$/, ''), email: opts.email, role: user?.role ?? null, session_file: sessionFile().path },
        `signed in to ${baseUrl} as ${opts.email}${user ? ` (${user.role})` : ''}; session kept in ${sessionFile().path}`,
      );
    });

  program
    .command('reauth')
    .description('confirm your password in the stored session: steps that need a recent sign-in (registering agents, SDK tokens, API keys, user admin, 2FA) work again for the server\'s window (10 minutes by default)')
    .option('--password-stdin', 'read the password from standard input (else $AIM_PASSWORD)')
    .action(async (opts: { passwordStdin?: boolean }) => {
      const password = opts.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : process.env.AIM_PASSWORD;
      if (!password) fail(out, EXIT.usage, 'give the password on standard input with --password-stdin, or in AIM_PASSWORD');
      const session = await reauthenticate(out, password);
      out.result({ reauthenticated: true, email: session.email }, `password confirmed for ${session.email}`);
    });

  program
    .command('logout')
    .description('end the stored session on the server and delete it here')
    .action(async () => {
      const file = sessionFile();
      const stored = await file.read();
      if (!stored) return out.result({ signed_out: false }, 'not signed in');
      // Outside the try: a refusal here (another server named, exit 4) is that refusal, not a failed logout.
      const client = await sessionClient(out);
      try {
        await client.logout();
      } catch (error) {
        // A session the server no longer knows is over anyway; any other failure keeps the file, so a retry can end
        // it (deleted here, a session still alive there would be out of reach until it expired).
        const over = error instanceof InvalidTokenError || error instanceof RefreshTokenReusedError || (error instanceof SessionEnded && error.ended);
        if (error instanceof CliExit || (error instanceof SessionEnded && !error.ended)) throw error;
        if (!over) {
          const reason = error instanceof Error ? error.message : String(error);
          fail(out, error instanceof AimError ? exitCodeFor(error) : EXIT.failure, `the server did not end the session (${reason}); ${file.path} is kept: run \`aim logout\` again`, 'logout_failed');
        }
      }
      await forgetSession(file, stored);
      out.result({ signed_out: true }, 'signed out');
    });

  const agents = program.command('agents').description('agents and MCP servers of your organization');
  agents
    .command('list')
    .description('list agents')
    .option('--status <status>', 'active, suspended or revoked')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (opts: { status?: string; limit: string }) => {
      const page = await (await personClient(out)).agents.list({ ...(opts.status && { status: opts.status }), limit: Number(opts.limit) });
      out.result(page, page.agents.length === 0 ? 'no agents' : table(page.agents.map(agentRow), ['ID', 'NAME', 'TYPE', 'STATUS', 'CAPABILITIES']));
    });

  agents
    .command('register')
    .description('generate a key pair here, register the agent with its public key, keep the identity in $AIM_HOME/credentials/<name>.json (0600)')
    .requiredOption('--name <name>', 'unique name in your organization (also the identity file name)')
    .option('--capabilities <list>', 'comma-separated: search,files:*,files:read@/reports/* (after @: the resources it may act on)', list, [] as string[])
    .option('--type <type>', 'agent or mcp_server', 'agent')
    .option('--description <text>', 'what it is for')
    .action(async (opts: { name: string; capabilities: string[]; type: string; description?: string }) => {
      const file = identityFile(opts.name);
      const existing = await file.read();
      if (existing && !existing.pending_registration) fail(out, EXIT.failure, `an identity for ${opts.name} already exists in ${file.path}`, 'conflict');
      const client = await personClient(out);
      // A registration that never heard back is finished with the key it saved, adopting the agent if it was made.
      const keys = existing && (await Ed25519KeyPair.fromPem(existing.private_key));
      const agent = await Agent.register(
        client,
        { name: opts.name, type: opts.type, capabilities: opts.capabilities, ...(opts.description && { description: opts.description }), ...(keys && { keys }) },
        { store: identityStore(file) },
      );
      out.result(
        { agent_id: agent.id, name: opts.name, public_key: agent.publicKey, identity_file: file.path },
        `registered ${opts.name} (${agent.id}); private key kept in ${file.path}`,
      );
    });

  for (const [verb, describe] of [
    ['suspend', 'suspend an agent: its signatures are refused until it is reactivated'],
    ['reactivate', 'reactivate a suspended agent'],
  ] as const) {
    agents
      .command(`${verb} <agent>`)
      .description(`${describe} (an id, or the name of a local identity)`)
      .action(async (ref: string) => {
        const client = await personClient(out);
        const view = await client.agents[verb](await agentId(out, ref));
        out.result(view, `${view.name} (${view.agent_id}) is ${view.status}`);
      });
  }

  keysGroup(program)
    .command('rotate')
    .description("rotate an agent's key: a new pair generated here, the rotation signed by the current key")
    .requiredOption('--agent <name>', 'the local identity to rotate')
    .action(async (opts: { agent: string }) => {
      const agent = await loadAgent(out, opts.agent);
      const key = await agent.rotateKey();
      const held = { agent_id: agent.id, key_id: key?.key_id ?? agent.identity.key_id, public_key: agent.publicKey };
      // null: another process sharing the identity file had just rotated it, and that key is the agent's now.
      const human = key ? `rotated ${opts.agent}: new key ${key.key_id}; the old one verifies during its grace period` : `${opts.agent} was just rotated by another process: using its new key`;
      out.result(held, human);
    });

  const apiKeys = program.command('api-keys').description('API keys for SDKs, CI and scripts');
  apiKeys
    .command('create')
    .description('create an API key; the key is shown this once')
    .requiredOption('--name <name>', 'what it is for')
    .option('--scopes <list>', 'comma-separated scopes (default agents:read,agents:write,verify)', list)
    .option('--expires-in-days <n>', 'shorter than the server maximum')
    .action(async (opts: { name: string; scopes?: string[]; expiresInDays?: string }) => {
      const issued = await (await personClient(out)).apiKeys.create({
        name: opts.name,
        ...(opts.scopes && { scopes: opts.scopes }),
        ...(opts.expiresInDays && { expiresInDays: Number(opts.expiresInDays) }),
      });
      // The contract shows the key once, in the creation answer: this is that answer.
      out.result(issued, `${issued.key}\n(API key ${issued.id}, ${issued.name}, scopes ${issued.scopes.join(',')}; shown once: store it now)`);
    });

  apiKeys
    .command('list')
    .description('list API keys (prefixes only)')
    .action(async () => {
      const page = await (await personClient(out)).apiKeys.list();
      out.result(page, page.api_keys.length === 0 ? 'no API keys' : table(page.api_keys.map(keyRow), ['ID', 'NAME', 'PREFIX', 'STATUS', 'SCOPES', 'EXPIRES']));
    });

  apiKeys
    .command('revoke <id>')
    .description('revoke an API key at once')
    .option('--revoke-minted', 'also revoke every key minted with it, and what those minted (for a stolen admin key)')
    .action(async (id: string, opts: { revokeMinted?: boolean }) => {
      const view = await (await personClient(out)).apiKeys.revoke(id, { revokeMinted: opts.revokeMinted === true });
      const minted = opts.revokeMinted ? `, and ${view.minted_revoked} key(s) minted from it` : '';
      const replaced = view.grace_ended > 0 ? `; ${view.grace_ended} key(s) it replaced stopped with it` : '';
      out.result(view, `revoked ${view.name} (${view.prefix}…)${minted}${replaced}`);
    });

  // Offboarding through the running server (not the store), so every node stops the user's tokens at once.
  const user = program.commands.find((c) => c.name() === 'user') ?? program.command('user').description('manage users');
  for (const [verb, description] of [
    ['disable', 'disable a user of your organization: login refused, their sessions, SDK tokens and API keys revoked at once'],
    ['enable', 'let a disabled user sign in again (revoked credentials stay revoked)'],
  ] as const) {
    user
      .command(verb)
      .description(`${description} (admin; through the server you are signed in to)`)
      .requiredOption('--email <email>', "the user's email address")
      .action(async (opts: { email: string }) => {
        const client = await personClient(out);
        const target = await userByEmail(out, client, opts.email);
        const view: UserView & { revoked?: { sessions: number; api_keys: number } } = await client.users[verb](target.id);
        const revoked = view.revoked ? `; revoked ${view.revoked.sessions} session(s) and SDK token(s), ${view.revoked.api_keys} API key(s)` : '';
        out.result(view, `${view.email} is ${view.status}${revoked}`);
      });
  }

  user
    .command('reset-password')
    .description("make a one-time password reset link for a user who forgot their password (admin); hand it over yourself")
    .requiredOption('--email <email>', "the user's email address")
    .option('--store', 'make it in the store directly (AIM_* settings), for when no admin can sign in')
    .action(async (opts: { email: string; store?: boolean }) => {
      if (opts.store) {
        const issued = await (await server()).issuePasswordResetFromCli(await storeConfig(out), opts.email);
        out.result({ user_id: issued.userId, reset_url: issued.url, expires_at: issued.expiresAt }, resetText(issued.email, issued.url, issued.expiresAt));
        return;
      }
      const client = await personClient(out);
      const target = await userByEmail(out, client, opts.email);
      const issued = await client.users.passwordReset(target.id);
      out.result({ user_id: issued.user_id, reset_url: issued.reset_url, expires_at: issued.expires_at }, resetText(target.email, issued.reset_url, issued.expires_at));
    });

  program
    .command('verify <action> <resource>')
    .description('sign an action with an agent identity and ask the server to verify it; exit 0 allowed, 5 denied')
    .requiredOption('--agent <name>', 'the local identity that signs')
    .action(async (action: string, resource: string, opts: { agent: string }) => {
      const agent = await loadAgent(out, opts.agent);
      const decision = await agent.verifyAction(action, resource, { throwOnDeny: false });
      const human = `${decision.allowed ? 'allowed' : `denied (${decision.reason})`}: ${action} on ${resource} by ${opts.agent}; evidence ${decision.verification_id}`;
      out.result(decision, human);
      if (!decision.allowed) process.exitCode = EXIT.denied;
    });
}

/** An agent from its identity file; it authenticates as itself (private_key_jwt), and rotations are saved back. */
async function loadAgent(out: Output, name: string): Promise<Agent> {
  const file = identityFile(name);
  const identity = await file.read();
  if (!identity) fail(out, EXIT.notFound, `no identity for ${name} in ${file.path}: register it with \`aim agents register --name ${name}\``, 'not_found');
  if (process.env.AIM_URL) requireIssuer(out, process.env.AIM_URL, identity.base_url, `the identity ${name}`, `register an identity there`);
  return Agent.connect(identity, { store: identityStore(file) });
}

/** An agent id as given, or the one in the local identity file of that name. */
async function agentId(out: Output, ref: string): Promise<string> {
  if (UUID.test(ref)) return ref;
  const identity = await identityFile(ref).read().catch(() => undefined);
  if (!identity) fail(out, EXIT.notFound, `${ref} is neither an agent id nor a local identity`, 'not_found');
  return identity.agent_id;
}

const agentRow = (a: AgentView) => [a.agent_id, a.name, a.type, a.status, a.capabilities.join(',')];
const keyRow = (k: ApiKeyView) => [k.id, k.name, `${k.prefix}…`, k.status, k.scopes.join(','), when(k.expires_at)];

/** The user of your organization with this email (emails are compared as the server stores them). */
async function userByEmail(out: Output, client: AIMClient, email: string): Promise<UserView> {
  const { users } = await client.users.list();
  const target = users.find((u) => u.email === email.trim().toLowerCase());
  if (!target) fail(out, EXIT.notFound, `no user ${email} in your organization`, 'not_found');
  return target;
}

function resetText(email: string, url: string, expiresAt: number): string {
  return `password reset link for ${email}, usable once until ${when(expiresAt)} (shown only now; send it privately):\n${url}`;
}
