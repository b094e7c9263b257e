import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '@aim/server';
import { CliExit, EXIT, fail, type Output } from './output.js';

const ROLES = ['admin', 'manager', 'member', 'viewer'] as const;

/**
 * The server package, loaded only by the commands that need it: client commands then start in a fraction of
 * the time (the server pulls in Fastify, the database drivers and more).
 */
export const server = () => import('@aim/server');

/** Commands that run the server or act on its store directly: start, migrate, user create. */
export function registerServerCommands(program: Command, out: Output): void {
  program
    .command('start')
    .description('run the server (same as npm start), configured by AIM_* environment variables')
    .action(async () => {
      await storeConfig(out); // a wrong setting exits 3, like every other command (serve itself would exit 2)
      await (await server()).serve(process.env);
    });

  program
    .command('migrate')
    .description('apply pending database migrations, then exit (a separate deployment step)')
    .action(async () => {
      const applied = await (await server()).runMigrations(await storeConfig(out));
      out.result({ applied }, applied.length > 0 ? `applied: ${applied.join(', ')}` : 'the database is up to date');
    });

  const user = program.command('user').description('manage users: create in the store; disable, enable, reset-password through the server');
  user
    .command('create')
    .description('create a user (the first admin, typically)')
    .requiredOption('--email <email>', 'email address')
    .option('--password <password>', 'password (prefer --password-stdin: arguments are visible to other processes)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--admin', 'shorthand for --role admin')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'member')
    .option('--organization <id>', 'add to an existing organization instead of creating one')
    .action(async (opts: { email: string; password?: string; passwordStdin?: boolean; admin?: boolean; role: string; organization?: string }) => {
      const password = opts.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : (opts.password ?? process.env.AIM_USER_PASSWORD);
      if (!password) fail(out, EXIT.usage, 'give --password, --password-stdin or AIM_USER_PASSWORD');
      const role = opts.admin ? 'admin' : opts.role;
      if (!(ROLES as readonly string[]).includes(role)) fail(out, EXIT.usage, `--role must be one of ${ROLES.join(', ')}`);
      const created = await (await server()).createUserFromCli(await storeConfig(out), {
        email: opts.email,
        password,
        role: role as (typeof ROLES)[number],
        ...(opts.organization && { organizationId: opts.organization }),
      });
      // snake_case like every API answer (`organization_id`), not the store's camelCase.
      const view = { id: created.id, email: created.email, role: created.role, organization_id: created.organizationId };
      out.result(view, `created ${view.role} ${view.email} (${view.id}) in organization ${view.organization_id}`);
    });

  keysGroup(program)
    .command('rotate-signing')
    .description('start signing access tokens with a new key; the old one stays published until its tokens expire')
    .action(async () => {
      const { kid } = await (await server()).rotateSigningKey(await storeConfig(out));
      out.result({ kid }, `new signing key ${kid}; the previous key stays in the JWKS until its tokens expire`);
    });

  const masterKey = program.command('master-key').description('rotate the master key that seals signing keys and TOTP secrets');
  masterKey
    .command('generate')
    .description('print a fresh master key (32 random bytes, base64) for AIM_MASTER_KEY')
    .action(async () => {
      const key = (await server()).generateMasterKey();
      out.result({ key }, key);
    });
  masterKey
    .command('reseal')
    .description('re-seal every sealed value under AIM_MASTER_KEY (run with the old key in AIM_MASTER_KEY_PREVIOUS); safe to repeat and while nodes run')
    .action(async () => {
      const { resealMasterKey, ConfigError } = await server();
      const cfg = await storeConfig(out);
      if (cfg.masterKey === undefined) fail(out, EXIT.config, 'invalid configuration: AIM_MASTER_KEY: set it to the new key (and the old one in AIM_MASTER_KEY_PREVIOUS)');
      const report = await resealMasterKey(cfg).catch((error: unknown) => {
        if (error instanceof ConfigError) fail(out, EXIT.config, `invalid configuration: ${error.message}`);
        throw error;
      });
      const left =
        report.remaining === 0
          ? 'nothing is left under an old key: AIM_MASTER_KEY_PREVIOUS can be removed'
          : `${report.remaining} value(s) are still under another key: keep AIM_MASTER_KEY_PREVIOUS and run this again once every node has the new key`;
      out.result(
        { resealed: report.resealed, already_current: report.alreadyCurrent, remaining: report.remaining, key_id: report.keyId },
        `re-sealed ${report.resealed} value(s) under master key ${report.keyId} (${report.alreadyCurrent} already were); ${left}`,
      );
      if (report.remaining > 0) throw new CliExit(EXIT.failure);
    });
}

/** The server's configuration from AIM_* variables, for commands that act on the store; a wrong value exits 3. */
export async function storeConfig(out: Output): Promise<Config> {
  const { loadConfig, ConfigError } = await server();
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(out, EXIT.config, `invalid configuration: ${error.message}`);
    throw error;
  }
}

/** The `aim keys …` group, shared by server and agent key commands. */
export function keysGroup(program: Command): Command {
  return program.commands.find((c) => c.name() === 'keys') ?? program.command('keys').description('signing keys and agent keys');
}
