import type { Command } from 'commander';
import type { SdkTokenView } from '@aim/sdk';
import { table, when, type Output } from './output.js';
import { personClient } from './session.js';

const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);
const row = (t: SdkTokenView) => [t.id, t.name, t.status, t.scopes.join(','), when(t.created_at), when(t.last_used_at), t.last_used_ip ?? '-', when(t.expires_at)];

/** `aim sdk-tokens …`: the signed-in person's SDK tokens (refresh tokens for `{ sdkToken }` clients). */
export function registerSdkTokenCommands(program: Command, out: Output): void {
  const sdkTokens = program.command('sdk-tokens').description("your SDK tokens: refresh tokens for the SDK's { sdkToken } clients");
  sdkTokens
    .command('create <name>')
    .description('create an SDK token; it is printed this once')
    .option('--scopes <list>', 'comma-separated scopes, at most your own (default: yours)', list)
    .option('--expires-in-days <n>', 'shorter than the server maximum')
    .action(async (name: string, opts: { scopes?: string[]; expiresInDays?: string }) => {
      const issued = await (await personClient(out)).sdkTokens.create({
        name,
        ...(opts.scopes && { scopes: opts.scopes }),
        ...(opts.expiresInDays && { expiresInDays: Number(opts.expiresInDays) }),
      });
      // The creation answer is the only place the token ever appears: this is that answer.
      out.result(
        issued,
        `${issued.refresh_token}\n(SDK token ${issued.id}, ${issued.name}, scopes ${issued.scopes.join(',')}, expires ${when(issued.expires_at)}; ` +
          `the SDK trades it at ${issued.token_endpoint} as client ${issued.client_id})`,
      );
      // On standard error, so `aim sdk-tokens create x | head -1` still gives the token alone.
      if (!out.json) process.stderr.write('aim: warning: this SDK token will not be shown again; store it somewhere safe now\n');
    });

  sdkTokens
    .command('list')
    .description('list your SDK tokens: name, status, created, last used and from where (never the token)')
    .action(async () => {
      const { sdk_tokens: tokens } = await (await personClient(out)).sdkTokens.list();
      out.result(
        { sdk_tokens: tokens },
        tokens.length === 0 ? 'no SDK tokens' : table(tokens.map(row), ['ID', 'NAME', 'STATUS', 'SCOPES', 'CREATED', 'LAST USED', 'FROM', 'EXPIRES']),
      );
    });

  sdkTokens
    .command('revoke <id>')
    .description('revoke one SDK token: every access token it issued stops at once')
    .action(async (id: string) => {
      const view = await (await personClient(out)).sdkTokens.revoke(id);
      out.result(view, `revoked SDK token ${view.name} (${view.id})`);
    });

  sdkTokens
    .command('revoke-all')
    .description('revoke all your SDK tokens at once')
    .action(async () => {
      const { revoked } = await (await personClient(out)).sdkTokens.revokeAll();
      out.result({ revoked }, `revoked ${revoked} SDK token(s)`);
    });
}
